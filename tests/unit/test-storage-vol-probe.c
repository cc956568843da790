/* test-storage-vol-probe.c: conf/storage_vol_probe.c: qcow2 headers built here byte by byte
 * (v2, v3 with its feature bits, a backing file with and without its format extension, and
 * broken ones), and volumes probed from temp files as libvirt's dir pool refresh reads them
 * (tests/e2e/test_storage_vol.py compares the same with libvirtd's vol-dumpxml). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/storage_vol_probe.h"
#include "util/error.h"

static void
put32(guint8 *p, guint32 v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void
put64(guint8 *p, guint64 v)
{
    put32(p, v >> 32);
    put32(p + 4, (guint32)v);
}

/* A qcow2 header: version, size, cluster bits; v3's features and header length 104; the
 * backing name at 512 and, when fmt, its format extension right after the header. */
static gsize
header(guint8 *buf, guint version, const char *backing, const char *fmt, guint64 compat)
{
    gsize ext = version == 3 ? 104 : 72;

    memset(buf, 0, 1024);
    memcpy(buf, "QFI\xfb", 4);
    put32(buf + 4, version);
    put32(buf + 20, 16);
    put64(buf + 24, 1048576);
    if (version == 3) {
        put64(buf + 80, compat);
        put32(buf + 100, 104);
    }
    if (fmt) {
        put32(buf + ext, 0xE2792ACA);
        put32(buf + ext + 4, strlen(fmt));
        memcpy(buf + ext + 8, fmt, strlen(fmt));
    }
    if (backing) {
        put64(buf + 8, 512);
        put32(buf + 16, strlen(backing));
        memcpy(buf + 512, backing, strlen(backing));
    }
    return 1024;
}

static void
test_header(void)
{
    guint8 buf[1024];
    SvQcow2Header h;
    gsize n;

    n = header(buf, 2, NULL, NULL, 0);
    g_assert_true(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpuint(h.version, ==, 2);
    g_assert_cmpuint(h.size, ==, 1048576);
    g_assert_cmpuint(h.cluster_bits, ==, 16);
    g_assert_null(h.backing);
    n = header(buf, 3, "base.img", "raw", 1);
    g_assert_true(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpstr(h.backing, ==, "base.img");
    g_assert_cmpstr(h.backing_format, ==, "raw");
    g_assert_cmpuint(h.compatible_features, ==, 1);
    sv_qcow2_header_clear(&h);
    n = header(buf, 3, "/abs/base", NULL, 0);
    g_assert_true(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpstr(h.backing, ==, "/abs/base");
    g_assert_null(h.backing_format);
    sv_qcow2_header_clear(&h);
    /* truncated, wrong magic, unknown version, a backing name past the buffer, an
     * extension longer than the buffer */
    g_assert_false(sv_qcow2_header_parse(buf, 71, &h));
    g_assert_cmpstr(h.malformed, ==, "no qcow2 magic");
    buf[0] = 'X';
    g_assert_false(sv_qcow2_header_parse(buf, n, &h));
    header(buf, 4, NULL, NULL, 0);
    g_assert_false(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpstr(h.malformed, ==, "unknown version");
    header(buf, 3, NULL, NULL, 0);
    g_assert_false(sv_qcow2_header_parse(buf, 103, &h));
    g_assert_cmpstr(h.malformed, ==, "header too short");
    put32(buf + 100, 64);
    g_assert_false(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpstr(h.malformed, ==, "header too short");
    header(buf, 3, "b", "qcow2", 0);
    put64(buf + 8, 1020);
    put32(buf + 16, 100);
    g_assert_true(sv_qcow2_header_parse(buf, n, &h));
    g_assert_null(h.backing);
    g_assert_true(h.backing_out_of_reach);
    /* a name longer than QEMU takes, though within the bytes given */
    {
        guint8 big[4096];

        memset(big, 'n', sizeof(big));
        header(big, 2, "b", NULL, 0);
        put32(big + 16, 1024);
        memset(big + 512, 'n', 1024);
        g_assert_true(sv_qcow2_header_parse(big, sizeof(big), &h));
        g_assert_null(h.backing);
        g_assert_true(h.backing_out_of_reach);
        put32(big + 16, 1023);
        g_assert_true(sv_qcow2_header_parse(big, sizeof(big), &h));
        g_assert_cmpuint(strlen(h.backing), ==, 1023);
        g_assert_false(h.backing_out_of_reach);
        sv_qcow2_header_clear(&h);
    }
    header(buf, 3, "b", "qcow2", 0);
    put32(buf + 108, 0xffffff00);
    g_assert_true(sv_qcow2_header_parse(buf, n, &h));
    g_assert_cmpstr(h.backing, ==, "b");
    g_assert_null(h.backing_format);
    sv_qcow2_header_clear(&h);
}

/* Files: a v3 overlay whose backing path is relative (made absolute from the image's
 * directory, its format from the header), a sparse raw file, a directory; something else
 * is refused. */
static void
test_probe(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-probe-XXXXXX", NULL);
    g_autofree char *base = g_build_filename(dir, "base.img", NULL);
    g_autofree char *top = g_build_filename(dir, "top.qcow2", NULL);
    g_autofree char *sub = g_build_filename(dir, "sub", NULL);
    guint8 buf[1024];
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) t = NULL, b = NULL, s = NULL, n = NULL;
    FILE *f;

    header(buf, 3, "base.img", "raw", 1);
    g_assert_true(g_file_set_contents(top, (const char *)buf, sizeof(buf), NULL));
    f = fopen(base, "w");
    g_assert_cmpint(ftruncate(fileno(f), 5000), ==, 0);
    fclose(f);
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    t = sv_storage_vol_probe(top, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(t->name, ==, "top.qcow2");
    g_assert_cmpstr(t->key, ==, top);
    g_assert_cmpint(t->target.format, ==, SV_VOL_FORMAT_QCOW2);
    g_assert_cmpuint(t->capacity, ==, 1048576);
    g_assert_cmpuint(t->physical, ==, 1024);
    g_assert_cmpuint(t->target.cluster_size, ==, 65536);
    g_assert_cmpstr(t->target.compat, ==, "1.1");
    g_assert_cmpuint(t->target.features, ==, 1u << SV_VOL_FEATURE_LAZY_REFCOUNTS);
    g_assert_cmpstr(t->backing->path, ==, base);
    g_assert_cmpint(t->backing->format, ==, SV_VOL_FORMAT_RAW);
    g_assert_true(t->backing->has_timestamps);
    b = sv_storage_vol_probe(base, &error);
    g_assert_cmpint(b->target.format, ==, SV_VOL_FORMAT_RAW);
    g_assert_cmpuint(b->capacity, ==, 5000);
    g_assert_cmpuint(b->allocation, ==, 0);
    g_assert_null(b->target.compat);
    g_assert_false(b->target.has_features);
    s = sv_storage_vol_probe(sub, &error);
    g_assert_cmpint(s->type, ==, SV_VOL_TYPE_DIR);
    g_assert_cmpint(s->target.perms.mode, ==, 0700);
    g_assert_cmpuint(s->capacity, ==, 0);
    n = sv_storage_vol_probe("/dev/null", &error);
    g_assert_null(n);
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_unlink(top);
    g_unlink(base);
    g_rmdir(sub);
    g_rmdir(dir);
}

/* The other formats by their magic, their virtual size read in their byte order and unit:
 * a VMDK4 sparse header (sectors, little endian), a VDI (bytes at 368, little endian), a
 * VHD footer ("original size" at 40, big endian); a file whose magic is cut short is raw. */
static void
test_other_formats(void)
{
    static const struct {
        const char *name;
        int format;
        gsize magic_off, size_off;
        const char *magic;
        gboolean le;
        guint64 stored, capacity;
        gsize len;
    } cases[] = {
        {"a.vmdk", SV_VOL_FORMAT_VMDK, 0, 12, "KDMV", TRUE, 8192, 8192 * 512, 1024},
        {"a.vdi", SV_VOL_FORMAT_VDI, 0x40, 368, "\x7f\x10\xda\xbe", TRUE, 4194304, 4194304, 1024},
        {"a.vhd", SV_VOL_FORMAT_VPC, 0, 40, "conectix", FALSE, 4177920, 4177920, 1024},
        {"cut.vdi", SV_VOL_FORMAT_RAW, 0x40, 368, "\x7f\x10\xda\xbe", TRUE, 1, 300, 300},
    };
    g_autofree char *dir = g_dir_make_tmp("sv-probe-XXXXXX", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_build_filename(dir, cases[i].name, NULL);
        g_autoptr(SvStorageVolDef) def = NULL;
        g_autoptr(GError) error = NULL;
        guint8 buf[1024] = {0};

        memcpy(buf + cases[i].magic_off, cases[i].magic, strlen(cases[i].magic));
        for (int k = 0; k < 8 && cases[i].size_off + 8 <= cases[i].len; k++)
            buf[cases[i].size_off + (cases[i].le ? k : 7 - k)] =
                (guint8)(cases[i].stored >> (8 * k));
        g_assert_true(g_file_set_contents(path, (const char *)buf, cases[i].len, NULL));
        def = sv_storage_vol_probe(path, &error);
        g_assert_no_error(error);
        g_assert_cmpint(def->target.format, ==, cases[i].format);
        g_assert_cmpuint(def->capacity, ==, cases[i].capacity);
        g_unlink(path);
    }
    g_rmdir(dir);
}

/* Encrypted images as libvirt's refresh shows them: a qcow2 whose crypt method is LUKS (2)
 * or AES (1) gets an <encryption> of that format with no secret; a raw file with a LUKS1
 * header gets a LUKS one and the capacity of its payload (the file less the header, whose
 * offset in sectors is at byte 104); a file with the magic but another version is raw. */
static void
test_encrypted(void)
{
    static const struct {
        const char *name;
        guint crypt, luks_version;
        int format, enc;
        guint64 capacity;
    } cases[] = {
        {"l.qcow2", 2, 0, SV_VOL_FORMAT_QCOW2, SV_VOL_ENC_LUKS, 1048576},
        {"a.qcow2", 1, 0, SV_VOL_FORMAT_QCOW2, SV_VOL_ENC_QCOW, 1048576},
        {"p.qcow2", 0, 0, SV_VOL_FORMAT_QCOW2, -1, 1048576},
        {"l.img", 0, 1, SV_VOL_FORMAT_RAW, SV_VOL_ENC_LUKS, 8192 - 4096},
        {"v2.img", 0, 2, SV_VOL_FORMAT_RAW, -1, 8192},
    };
    g_autofree char *dir = g_dir_make_tmp("sv-probe-XXXXXX", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_build_filename(dir, cases[i].name, NULL);
        g_autoptr(SvStorageVolDef) def = NULL;
        g_autoptr(GError) error = NULL;
        guint8 buf[8192] = {0};

        if (cases[i].luks_version) {
            memcpy(buf, "LUKS\xba\xbe", 6);
            buf[7] = cases[i].luks_version;
            put32(buf + 104, 8); /* sectors */
        } else {
            header(buf, 3, NULL, NULL, 0);
            put32(buf + 32, cases[i].crypt);
        }
        g_assert_true(g_file_set_contents(path, (const char *)buf, sizeof(buf), NULL));
        def = sv_storage_vol_probe(path, &error);
        g_assert_no_error(error);
        g_assert_cmpint(def->target.format, ==, cases[i].format);
        g_assert_cmpuint(def->capacity, ==, cases[i].capacity);
        if (cases[i].enc < 0) {
            g_assert_null(def->target.encryption);
        } else {
            g_assert_cmpint(def->target.encryption->format, ==, cases[i].enc);
            g_assert_cmpuint(def->target.encryption->secrets->len, ==, 0);
        }
        g_unlink(path);
    }
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-vol-probe/header", test_header);
    g_test_add_func("/storage-vol-probe/probe", test_probe);
    g_test_add_func("/storage-vol-probe/other-formats", test_other_formats);
    g_test_add_func("/storage-vol-probe/encrypted", test_encrypted);
    return g_test_run();
}
