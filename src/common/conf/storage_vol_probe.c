/* storage_vol_probe.c: volumes read from their files (storage_vol_probe.h). */
#include "conf/storage_vol_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_EXT_BACKING_FORMAT 0xE2792ACAu
/* libvirt reads this much of a file's start to probe it */
#define PROBE_LEN (33 * 1024)

static guint32
be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static guint64
be64(const guint8 *p)
{
    return ((guint64)be32(p) << 32) | be32(p + 4);
}

void
sv_qcow2_header_clear(SvQcow2Header *h)
{
    g_clear_pointer(&h->backing, g_free);
    g_clear_pointer(&h->backing_format, g_free);
}

/* The backing format extension, among those after the header (type, length, data padded to
 * 8 bytes, up to the end marker of type 0). */
static char *
backing_format_ext(const guint8 *buf, gsize len, gsize off, gsize end)
{
    while (off + 8 <= len && off + 8 <= end) {
        guint32 type = be32(buf + off);
        guint32 n = be32(buf + off + 4);

        off += 8;
        if (type == 0 || n > len - off)
            return NULL;
        if (type == QCOW2_EXT_BACKING_FORMAT)
            return g_strndup((const char *)buf + off, n);
        off += ((gsize)n + 7) & ~(gsize)7;
    }
    return NULL;
}

/* QEMU's limit on a backing file name. */
#define QCOW2_BACKING_NAME_MAX 1023
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104

static gboolean
qcow2_malformed(SvQcow2Header *out, const char *why)
{
    out->malformed = why;
    return FALSE;
}

gboolean
sv_qcow2_header_parse(const guint8 *buf, gsize len, SvQcow2Header *out)
{
    guint64 boff;
    guint32 bsize;
    gsize ext;

    memset(out, 0, sizeof(*out));
    if (len < QCOW2_V2_HEADER_LEN || memcmp(buf, QCOW2_MAGIC, 4) != 0)
        return qcow2_malformed(out, "no qcow2 magic");
    out->version = be32(buf + 4);
    if (out->version != 2 && out->version != 3)
        return qcow2_malformed(out, "unknown version");
    boff = be64(buf + 8);
    bsize = be32(buf + 16);
    out->cluster_bits = be32(buf + 20);
    out->size = be64(buf + 24);
    out->crypt_method = be32(buf + 32);
    ext = QCOW2_V2_HEADER_LEN;
    if (out->version == 3) {
        if (len < QCOW2_V3_HEADER_LEN)
            return qcow2_malformed(out, "header too short");
        out->compatible_features = be64(buf + 80);
        ext = be32(buf + 100);
        if (ext < QCOW2_V2_HEADER_LEN)
            return qcow2_malformed(out, "header too short");
    }
    if (!boff || !bsize)
        return TRUE;
    if (bsize > QCOW2_BACKING_NAME_MAX || boff > len || bsize > len - boff) {
        out->backing_out_of_reach = TRUE;
        return TRUE;
    }
    out->backing = g_strndup((const char *)buf + boff, bsize);
    /* the extensions end where the backing file name begins */
    out->backing_format = backing_format_ext(buf, len, ext, boff);
    return TRUE;
}

void
sv_vol_target_fill_stat(SvVolTarget *t, const struct stat *st)
{
    t->perms.mode = st->st_mode & 0777;
    t->perms.uid = st->st_uid;
    t->perms.gid = st->st_gid;
    t->has_timestamps = TRUE;
    t->atime = (SvVolTime){st->st_atim.tv_sec, st->st_atim.tv_nsec};
    t->mtime = (SvVolTime){st->st_mtim.tv_sec, st->st_mtim.tv_nsec};
    t->ctime = (SvVolTime){st->st_ctim.tv_sec, st->st_ctim.tv_nsec};
    /* libvirt's gnulib birth time: none on Linux's stat, written as 0 */
    t->btime = (SvVolTime){0, 0};
}

/* A backing file's format: from the header extension, else probed (qcow2 or raw). */
static int
backing_format(const char *path, const char *recorded)
{
    guint8 buf[128];
    SvQcow2Header h;
    g_auto(SvFd) fd = -1;
    ssize_t n;

    if (recorded)
        return sv_vol_format_from_string(recorded);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (n > 0 && sv_qcow2_header_parse(buf, n, &h)) {
        sv_qcow2_header_clear(&h);
        return SV_VOL_FORMAT_QCOW2;
    }
    return SV_VOL_FORMAT_RAW;
}

static void
fill_backing(SvStorageVolDef *def, const char *image, SvQcow2Header *h)
{
    g_autofree char *dir = g_path_get_dirname(image);
    SvVolTarget *b = sv_vol_target_new();
    struct stat st;

    b->path = g_path_is_absolute(h->backing) ? g_strdup(h->backing)
                                             : g_build_filename(dir, h->backing, NULL);
    b->format = backing_format(b->path, h->backing_format);
    if (b->format < 0)
        b->format = SV_VOL_FORMAT_RAW;
    if (stat(b->path, &st) == 0)
        sv_vol_target_fill_stat(b, &st);
    def->backing = b;
}

/* The other image formats libvirt's probe knows by a magic (storage_file_probe.c): where
 * the magic is, and where the virtual size is (-1: the file's size), in which byte order and
 * unit. */
typedef struct {
    int format;
    const char *magic;
    gsize magic_len;
    gsize magic_off;
    gboolean le;
    int size_off;
    guint64 unit;
} ProbeFormat;

static const ProbeFormat probe_formats[] = {
    {SV_VOL_FORMAT_VMDK, "KDMV", 4, 0, TRUE, 12, 512},
    {SV_VOL_FORMAT_VDI, "\x7f\x10\xda\xbe", 4, 0x40, TRUE, 368, 1},
    {SV_VOL_FORMAT_VPC, "conectix", 8, 0, FALSE, 40, 1},
    {SV_VOL_FORMAT_QED, "QED\0", 4, 0, TRUE, 48, 1},
    {SV_VOL_FORMAT_ISO, "CD001", 5, 32769, TRUE, -1, 1},
};

static guint64
read64(const guint8 *p, gboolean le)
{
    guint64 v = 0;

    for (int i = 0; i < 8; i++)
        v |= (guint64)p[le ? i : 7 - i] << (8 * i);
    return v;
}

/* A format of probe_formats by its magic: the format and capacity set; FALSE for none. */
static gboolean
probe_other(SvStorageVolDef *def, const guint8 *buf, gsize n)
{
    for (gsize i = 0; i < G_N_ELEMENTS(probe_formats); i++) {
        const ProbeFormat *f = &probe_formats[i];
        if (n < f->magic_off + f->magic_len ||
            memcmp(buf + f->magic_off, f->magic, f->magic_len) != 0)
            continue;
        if (f->size_off >= 0 && n < (gsize)f->size_off + 8)
            continue;
        def->target.format = f->format;
        if (f->size_off >= 0)
            def->capacity = read64(buf + f->size_off, f->le) * f->unit;
        return TRUE;
    }
    return FALSE;
}

/* A LUKS (version 1) header: where its payload starts, in 512-byte sectors, big-endian at
 * byte 104 (after the magic, version, cipher name and mode and hash spec). */
#define LUKS_MAGIC "LUKS\xba\xbe"
#define LUKS_PAYLOAD_AT 104

static guint64
luks_payload(const guint8 *buf, gsize len)
{
    if (len < LUKS_PAYLOAD_AT + 4 || memcmp(buf, LUKS_MAGIC, 6) != 0 || buf[6] != 0 ||
        buf[7] != 1)
        return 0;
    return (guint64)((guint32)buf[LUKS_PAYLOAD_AT] << 24 | (guint32)buf[LUKS_PAYLOAD_AT + 1] << 16 |
                     (guint32)buf[LUKS_PAYLOAD_AT + 2] << 8 | buf[LUKS_PAYLOAD_AT + 3]) * 512;
}

/* What the header of a regular file says. */
static gboolean
probe_image(SvStorageVolDef *def, int fd, GError **error)
{
    g_autofree guint8 *buf = g_malloc(PROBE_LEN);
    SvQcow2Header h;
    ssize_t n;

    do {
        n = pread(fd, buf, PROBE_LEN, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot read header '%s'",
                           def->target.path);
        return FALSE;
    }
    if (!sv_qcow2_header_parse(buf, n, &h)) {
        if (!probe_other(def, buf, (gsize)n)) {
            def->target.format = SV_VOL_FORMAT_RAW;
            def->luks_payload = luks_payload(buf, (gsize)n);
            if (def->luks_payload) {
                def->target.encryption = sv_vol_encryption_new(SV_VOL_ENC_LUKS);
                sv_storage_vol_def_luks_capacity(def);
            }
        }
        return TRUE;
    }
    def->target.format = SV_VOL_FORMAT_QCOW2;
    def->capacity = h.size;
    if (h.crypt_method == 1 || h.crypt_method == 2)
        def->target.encryption =
            sv_vol_encryption_new(h.crypt_method == 1 ? SV_VOL_ENC_QCOW : SV_VOL_ENC_LUKS);
    if (h.cluster_bits > 0 && h.cluster_bits < 64)
        def->target.cluster_size = G_GUINT64_CONSTANT(1) << h.cluster_bits;
    /* version 3 has feature bits, and libvirt calls it compat 1.1 */
    if (h.version == 3) {
        def->target.has_features = TRUE;
        if (h.compatible_features & 1)
            def->target.features |= 1u << SV_VOL_FEATURE_LAZY_REFCOUNTS;
        def->target.compat = g_strdup("1.1");
    }
    if (h.backing)
        fill_backing(def, def->target.path, &h);
    sv_qcow2_header_clear(&h);
    return TRUE;
}

SvStorageVolDef *
sv_storage_vol_probe(const char *path, GError **error)
{
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_def_new();
    g_auto(SvFd) fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot open volume '%s'", path);
        return NULL;
    }
    def->name = g_path_get_basename(path);
    def->key = g_strdup(path);
    def->target.path = g_strdup(path);
    sv_vol_target_fill_stat(&def->target, &st);
    if (S_ISDIR(st.st_mode)) {
        def->type = SV_VOL_TYPE_DIR;
        def->target.format = SV_VOL_FORMAT_DIR;
        return g_steal_pointer(&def);
    }
    if (!S_ISREG(st.st_mode)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "unexpected type for file '%s'", path);
        return NULL;
    }
    def->capacity = st.st_size;
    def->allocation = (guint64)st.st_blocks * 512;
    def->physical = st.st_size;
    if (!probe_image(def, fd, error))
        return NULL;
    return g_steal_pointer(&def);
}
