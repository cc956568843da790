/* storage_vol_def.c: storage volume XML (storage_vol_def.h). */
#include "conf/storage_vol_def.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

static const char *const vol_types[SV_VOL_TYPE_LAST] = {
    "file", "block", "dir", "network", "netdir", "ploop",
};
static const char *const vol_formats[SV_VOL_FORMAT_LAST] = {
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi",
    "fat", "vhd", "ploop", "cow", "qcow", "qcow2", "qed", "vmdk",
};
static const char *const disk_formats[SV_VOL_DISK_LAST] = {
    "none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm", "linux-raid", "extended",
};
static const char *const enc_formats[SV_VOL_ENC_LAST] = {"default", "qcow", "luks"};
static const char *const enc_engines[SV_VOL_ENC_ENGINE_LAST] = {"default", "qemu", "librbd"};
static const char *const features[SV_VOL_FEATURE_LAST] = {"lazy_refcounts"};

static const char *
table_to(const char *const *t, int n, int v)
{
    return v >= 0 && v < n ? t[v] : NULL;
}

static int
table_from(const char *const *t, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) {
        if (g_str_equal(t[i], s))
            return i;
    }
    return -1;
}

#define TABLE(fn, t, n)                                                                      \
    const char *fn##_to_string(int v) { return table_to(t, n, v); }                          \
    int fn##_from_string(const char *s) { return table_from(t, n, s); }

TABLE(sv_vol_type, vol_types, SV_VOL_TYPE_LAST)
TABLE(sv_vol_disk_format, disk_formats, SV_VOL_DISK_LAST)
TABLE(sv_vol_enc_format, enc_formats, SV_VOL_ENC_LAST)
TABLE(sv_vol_feature, features, SV_VOL_FEATURE_LAST)

const char *
sv_vol_format_to_string(int format)
{
    return table_to(vol_formats, SV_VOL_FORMAT_LAST, format);
}

int
sv_vol_format_from_string(const char *s)
{
    int f = table_from(vol_formats, SV_VOL_FORMAT_LAST, s);

    /* A volume's format is never "none" (libvirt's virStorageVolumeFormatFromString). */
    return f == SV_VOL_FORMAT_NONE ? -1 : f;
}

/* The format names of a pool kind; NULL for pools whose volumes have none. */
static const char *
format_name(SvVolFormats formats, int f)
{
    if (formats == SV_VOL_FORMATS_FILE)
        return sv_vol_format_to_string(f);
    if (formats == SV_VOL_FORMATS_DISK)
        return sv_vol_disk_format_to_string(f);
    return NULL;
}

static int
format_parse(SvVolFormats formats, const char *s)
{
    if (formats == SV_VOL_FORMATS_FILE)
        return s ? sv_vol_format_from_string(s) : SV_VOL_FORMAT_RAW;
    return s ? sv_vol_disk_format_from_string(s) : SV_VOL_DISK_NONE;
}

static void
secret_free(gpointer p)
{
    SvVolSecret *s = p;

    g_free(s->usage);
    g_free(s);
}

void
sv_vol_encryption_free(SvVolEncryption *enc)
{
    if (!enc)
        return;
    g_ptr_array_unref(enc->secrets);
    g_free(enc->cipher_name);
    g_free(enc->cipher_mode);
    g_free(enc->cipher_hash);
    g_free(enc->ivgen_name);
    g_free(enc->ivgen_hash);
    g_free(enc);
}

void
sv_storage_vol_def_set_encryption(SvStorageVolDef *def, SvVolEncryption *enc)
{
    sv_vol_encryption_free(def->target.encryption);
    def->target.encryption = enc;
}

SvVolEncryption *
sv_vol_encryption_new(int format)
{
    SvVolEncryption *enc = g_new0(SvVolEncryption, 1);

    enc->format = format;
    enc->secrets = g_ptr_array_new_with_free_func(secret_free);
    return enc;
}

static void
target_clear(SvVolTarget *t)
{
    g_free(t->path);
    g_free(t->perms.label);
    sv_vol_encryption_free(t->encryption);
    g_free(t->compat);
}

static void
target_init(SvVolTarget *t)
{
    memset(t, 0, sizeof(*t));
    t->perms.mode = t->perms.uid = t->perms.gid = -1;
}

SvVolTarget *
sv_vol_target_new(void)
{
    SvVolTarget *t = g_new(SvVolTarget, 1);

    target_init(t);
    return t;
}

void
sv_vol_target_free(SvVolTarget *t)
{
    if (!t)
        return;
    target_clear(t);
    g_free(t);
}

static void
extent_free(gpointer p)
{
    SvVolExtent *e = p;

    g_free(e->path);
    g_free(e);
}

SvStorageVolDef *
sv_storage_vol_def_new(void)
{
    SvStorageVolDef *def = g_new0(SvStorageVolDef, 1);

    def->type = SV_VOL_TYPE_FILE;
    def->extents = g_ptr_array_new_with_free_func(extent_free);
    target_init(&def->target);
    return def;
}

void
sv_storage_vol_def_free(SvStorageVolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->key);
    g_ptr_array_unref(def->extents);
    target_clear(&def->target);
    sv_vol_target_free(def->backing);
    g_free(def);
}

/* ---- sizes -------------------------------------------------------------------------------- */

gboolean
sv_storage_scale(guint64 *value, const char *unit, guint64 scale, guint64 limit,
                 GError **error)
{
    static const char *const prefixes = "kmgtpe";
    const char *shown = unit && *unit ? unit : "";

    if (*shown) {
        const char *p = strchr(prefixes, g_ascii_tolower(unit[0]));
        guint64 base = 0;

        if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
            !g_ascii_strcasecmp(unit, "bytes"))
            base = 1;
        else if (p && *p && (!unit[1] || !g_ascii_strcasecmp(unit + 1, "iB")))
            base = 1024;
        else if (p && *p && g_ascii_tolower(unit[1]) == 'b' && !unit[2])
            base = 1000;
        if (!base) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
            return FALSE;
        }
        scale = 1;
        if (base > 1) {
            for (const char *q = prefixes; q <= p; q++)
                scale *= base;
        }
    }
    if (*value && *value > limit / scale) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OVERFLOW,
                     "value too large: %" G_GUINT64_FORMAT "%s", *value, shown);
        return FALSE;
    }
    *value *= scale;
    return TRUE;
}

/* libvirt's virStrToLong_ullp: a whole decimal number, no sign. */
static gboolean
parse_u64(const char *s, guint64 *out)
{
    char *end = NULL;
    const char *p = s;

    while (g_ascii_isspace(*p))
        p++;
    if (*p == '-' || !*p)
        return FALSE;
    errno = 0;
    *out = g_ascii_strtoull(p, &end, 10);
    return errno == 0 && end != p && *end == '\0';
}

/* A <capacity>/<allocation>: libvirt's virStorageSize. */
static gboolean
parse_size(const xmlNode *node, guint64 *out, GError **error)
{
    g_autofree char *text = sv_xml_text(node);
    g_autofree char *unit = sv_xml_prop(node, "unit");

    if (!text || !parse_u64(text, out)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "malformed capacity element");
        return FALSE;
    }
    return sv_storage_scale(out, unit, 1, G_MAXINT64, error);
}

/* ---- permissions, timestamps, encryption ------------------------------------------------- */

/* <owner>/<group>: a number of uid_t range, or -1 (libvirt once wrote it). XPath number()
 * of the text, which accepts surrounding blanks and a fraction-free decimal. */
static gboolean
parse_id(const xmlNode *perms, const char *name, gint64 *out, GError **error)
{
    xmlNode *n = sv_xml_child(perms, name);
    g_autofree char *text = NULL;
    char *end = NULL;
    gint64 v;

    if (!n)
        return TRUE;
    text = sv_xml_text_raw(n);
    g_strstrip(text);
    errno = 0;
    v = g_ascii_strtoll(text, &end, 10);
    if (!*text || *end || errno || (v != -1 && (v < 0 || v > G_MAXUINT32 - 1))) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "malformed %s element", name);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
parse_perms(const xmlNode *parent, SvVolPerms *perms, GError **error)
{
    xmlNode *node = sv_xml_child(parent, "permissions");
    g_autofree char *mode = NULL;

    if (!node)
        return TRUE;
    mode = sv_xml_child_text(node, "mode");
    if (mode) {
        char *end = NULL;
        gint64 m;

        errno = 0;
        m = g_ascii_strtoll(mode, &end, 8);
        if (errno || end == mode || *end || m < G_MININT32 || m > G_MAXINT32 || (m & ~0777)) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "malformed octal mode");
            return FALSE;
        }
        perms->mode = m;
    }
    if (!parse_id(node, "owner", &perms->uid, error) ||
        !parse_id(node, "group", &perms->gid, error))
        return FALSE;
    perms->label = sv_xml_child_text(node, "label");
    return TRUE;
}

/* "SEC[.NSEC]" as libvirt writes a timestamp (only read with SV_VOL_PARSE_DISPLAY). */
static gboolean
parse_time(const xmlNode *parent, const char *name, SvVolTime *t)
{
    g_autofree char *text = sv_xml_child_text(parent, name);
    g_auto(GStrv) parts = NULL;
    guint64 sec, nsec = 0;

    t->nsec = -1;
    if (!text)
        return TRUE;
    parts = g_strsplit(text, ".", 2);
    if (!parse_u64(parts[0], &sec) || sec > G_MAXINT64 ||
        (parts[1] && (!parse_u64(parts[1], &nsec) || nsec > 999999999)))
        return FALSE;
    t->sec = sec;
    t->nsec = nsec;
    return TRUE;
}

static gboolean
parse_timestamps(const xmlNode *parent, SvVolTarget *t, GError **error)
{
    xmlNode *node = sv_xml_child(parent, "timestamps");

    if (!node)
        return TRUE;
    t->has_timestamps = TRUE;
    if (parse_time(node, "atime", &t->atime) && parse_time(node, "mtime", &t->mtime) &&
        parse_time(node, "ctime", &t->ctime) && parse_time(node, "btime", &t->btime))
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "malformed timestamps");
    return FALSE;
}

/* A <secret> of an encryption: libvirt's virSecretLookupParseSecret. */
static SvVolSecret *
parse_secret(const xmlNode *node, GError **error)
{
    g_autofree char *type = sv_xml_prop(node, "type");
    g_autofree char *uuid = sv_xml_prop(node, "uuid");
    g_autofree char *usage = sv_xml_prop(node, "usage");
    SvVolSecret *s;

    if (!type || !*type) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                     "unknown volume encryption secret type");
        return NULL;
    }
    if (!g_str_equal(type, "passphrase")) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown volume encryption secret type %s", type);
        return NULL;
    }
    if (!uuid && !usage) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                     "missing secret uuid or usage attribute");
        return NULL;
    }
    if (uuid && usage) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "either secret uuid or usage expected");
        return NULL;
    }
    s = g_new0(SvVolSecret, 1);
    if (uuid) {
        if (!sv_uuid_parse(uuid, s->uuid)) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "invalid secret uuid '%s'", uuid);
            secret_free(s);
            return NULL;
        }
        s->by_uuid = TRUE;
    } else {
        s->usage = g_steal_pointer(&usage);
    }
    return s;
}

/* <cipher name= size= mode= hash=/> and <ivgen name= hash=/> of a LUKS encryption. */
static gboolean
parse_luks_info(const xmlNode *node, SvVolEncryption *enc, GError **error)
{
    xmlNode *cipher = sv_xml_child(node, "cipher");
    xmlNode *ivgen = sv_xml_child(node, "ivgen");

    if (cipher) {
        g_autofree char *size = NULL;
        guint64 v;

        if (!(enc->cipher_name = sv_xml_prop(cipher, "name"))) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                         "cipher info missing 'name' attribute");
            return FALSE;
        }
        if (!(size = sv_xml_prop(cipher, "size"))) {
            sv_xml_error_missing_attr(error, cipher, "size");
            return FALSE;
        }
        if (!parse_u64(size, &v) || v > G_MAXUINT) {
            sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                         "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                         "non-negative integer value", "size", "cipher", size);
            return FALSE;
        }
        enc->cipher_size = v;
        enc->cipher_mode = sv_xml_prop(cipher, "mode");
        enc->cipher_hash = sv_xml_prop(cipher, "hash");
    }
    if (ivgen) {
        if (!enc->cipher_name) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                         "ivgen element found, but cipher is missing");
            return FALSE;
        }
        if (!(enc->ivgen_name = sv_xml_prop(ivgen, "name"))) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                         "missing ivgen info name string");
            return FALSE;
        }
        enc->ivgen_hash = sv_xml_prop(ivgen, "hash");
    }
    return TRUE;
}

SvVolEncryption *
sv_vol_encryption_parse(const xmlNode *node, GError **error)
{
    g_autoptr(SvVolEncryption) enc = sv_vol_encryption_new(SV_VOL_ENC_DEFAULT);
    g_autofree char *format = sv_xml_prop(node, "format");
    g_autofree char *engine = sv_xml_prop(node, "engine");

    if (!format || !*format) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "unknown volume encryption format");
        return NULL;
    }
    if ((enc->format = sv_vol_enc_format_from_string(format)) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown volume encryption format type %s", format);
        return NULL;
    }
    if (engine) {
        enc->engine = table_from(enc_engines, SV_VOL_ENC_ENGINE_LAST, engine);
        if (enc->engine <= 0) {
            sv_xml_error_invalid_attr(error, node, "engine", engine);
            return NULL;
        }
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        SvVolSecret *s;

        if (c->type != XML_ELEMENT_NODE || !sv_xml_is(c, "secret"))
            continue;
        if (!(s = parse_secret(c, error)))
            return NULL;
        g_ptr_array_add(enc->secrets, s);
    }
    if (enc->format == SV_VOL_ENC_LUKS && !parse_luks_info(node, enc, error))
        return NULL;
    return g_steal_pointer(&enc);
}

/* ---- the target ----------------------------------------------------------------------------- */

/* libvirt's virStorageCheckCompat: "N.M" with decimal numbers. */
static gboolean
check_compat(const char *compat, GError **error)
{
    g_auto(GStrv) v = NULL;
    guint64 n;

    if (!compat)
        return TRUE;
    v = g_strsplit(compat, ".", 2);
    if (v[0] && v[1] && parse_u64(v[0], &n) && n <= G_MAXUINT && parse_u64(v[1], &n) &&
        n <= G_MAXUINT)
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                 "forbidden characters in 'compat' attribute");
    return FALSE;
}

static gboolean
parse_cluster_size(const xmlNode *target, guint64 *out, GError **error)
{
    xmlNode *node = sv_xml_child(target, "clusterSize");
    g_autofree char *text = NULL;
    g_autofree char *unit = NULL;

    if (!node)
        return TRUE;
    text = sv_xml_text(node);
    if (!text)
        return TRUE; /* XPath gives no number: as if absent */
    if (!parse_u64(text, out)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR, "could not parse element %s",
                     "./target/clusterSize");
        return FALSE;
    }
    unit = sv_xml_prop(node, "unit");
    return sv_storage_scale(out, unit, 1, G_MAXUINT64, error);
}

static gboolean
parse_features(const xmlNode *target, SvVolTarget *t, GError **error)
{
    xmlNode *node = sv_xml_child(target, "features");

    if (!node)
        return TRUE;
    t->has_features = TRUE;
    if (!t->compat)
        t->compat = g_strdup("1.1");
    for (xmlNode *c = node->children; c; c = c->next) {
        int f;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if ((f = sv_vol_feature_from_string((const char *)c->name)) < 0) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                         "unsupported feature %s", (const char *)c->name);
            return FALSE;
        }
        t->features |= 1u << f;
    }
    return TRUE;
}

static gboolean
parse_format(const xmlNode *parent, SvVolFormats formats, int *out, GError **error)
{
    g_autofree char *format = NULL;

    if (formats == SV_VOL_FORMATS_NONE)
        return TRUE;
    format = parent ? sv_xml_child_prop(parent, "format", "type") : NULL;
    if ((*out = format_parse(formats, format)) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown volume format type %s", format);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_target(const xmlNode *node, SvVolTarget *t, SvVolFormats formats, guint flags,
             GError **error)
{
    xmlNode *enc;

    if (!node)
        return parse_format(NULL, formats, &t->format, error);
    t->path = sv_xml_child_text(node, "path");
    if (!parse_format(node, formats, &t->format, error) || !parse_perms(node, &t->perms, error))
        return FALSE;
    if ((flags & SV_VOL_PARSE_DISPLAY) && !parse_timestamps(node, t, error))
        return FALSE;
    if ((enc = sv_xml_child(node, "encryption")) && !(t->encryption = sv_vol_encryption_parse(enc, error)))
        return FALSE;
    t->compat = sv_xml_child_text(node, "compat");
    if (!check_compat(t->compat, error))
        return FALSE;
    t->nocow = sv_xml_child(node, "nocow") != NULL;
    return parse_cluster_size(node, &t->cluster_size, error) && parse_features(node, t, error);
}

/* <backingStore>: libvirt reads its path, format and permissions only; with DISPLAY also
 * what it writes for it. */
static gboolean
parse_backing(const xmlNode *root, SvStorageVolDef *def, SvVolFormats formats, guint flags,
              GError **error)
{
    xmlNode *node = sv_xml_child(root, "backingStore");
    g_autofree char *path = node ? sv_xml_child_text(node, "path") : NULL;

    if (!path)
        return TRUE;
    def->backing = sv_vol_target_new();
    if (flags & SV_VOL_PARSE_DISPLAY)
        return parse_target(node, def->backing, formats, flags, error);
    def->backing->path = g_steal_pointer(&path);
    return parse_format(node, formats, &def->backing->format, error) &&
           parse_perms(node, &def->backing->perms, error);
}

/* <source><device path=><extent start= end=/></device></source> (DISPLAY only). */
static gboolean
parse_extents(const xmlNode *root, SvStorageVolDef *def, GError **error)
{
    xmlNode *src = sv_xml_child(root, "source");

    for (xmlNode *d = src ? src->children : NULL; d; d = d->next) {
        g_autofree char *path = NULL;

        if (d->type != XML_ELEMENT_NODE || !sv_xml_is(d, "device"))
            continue;
        path = sv_xml_prop(d, "path");
        for (xmlNode *e = d->children; e; e = e->next) {
            g_autofree char *start = NULL, *end = NULL;
            SvVolExtent x = {0};

            if (e->type != XML_ELEMENT_NODE || !sv_xml_is(e, "extent"))
                continue;
            start = sv_xml_prop(e, "start");
            end = sv_xml_prop(e, "end");
            if (!path || !start || !end || !parse_u64(start, &x.start) ||
                !parse_u64(end, &x.end)) {
                sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "malformed volume extent");
                return FALSE;
            }
            x.path = g_strdup(path);
            g_ptr_array_add(def->extents, g_memdup2(&x, sizeof(x)));
        }
    }
    return TRUE;
}

static gboolean
parse_sizes(const xmlNode *root, SvStorageVolDef *def, guint flags, GError **error)
{
    xmlNode *cap = sv_xml_child(root, "capacity");
    xmlNode *alloc = sv_xml_child(root, "allocation");
    xmlNode *phys = sv_xml_child(root, "physical");
    g_autofree char *cap_text = sv_xml_text(cap);
    g_autofree char *alloc_text = sv_xml_text(alloc);

    if (cap_text) {
        if (!parse_size(cap, &def->capacity, error))
            return FALSE;
    } else if (!(flags & SV_VOL_PARSE_NO_CAPACITY) &&
               !((flags & SV_VOL_PARSE_OPT_CAPACITY) && def->backing)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "missing capacity element");
        return FALSE;
    }
    if (alloc_text) {
        if (!parse_size(alloc, &def->allocation, error))
            return FALSE;
        def->has_allocation = TRUE;
    } else {
        def->allocation = def->capacity;
    }
    if ((flags & SV_VOL_PARSE_DISPLAY) && phys && !parse_size(phys, &def->physical, error))
        return FALSE;
    return TRUE;
}

static gboolean
parse_root(const xmlNode *root, SvStorageVolDef *def, SvVolFormats formats, guint flags,
           GError **error)
{
    g_autofree char *type = sv_xml_prop(root, "type");

    if (!(def->name = sv_xml_child_text(root, "name"))) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "missing volume name element");
        return FALSE;
    }
    def->key = sv_xml_child_text(root, "key");
    /* XPath string() of an empty attribute is no value */
    if (type && *type && (def->type = sv_vol_type_from_string(type)) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown volume type '%s'", type);
        return FALSE;
    }
    if (!parse_backing(root, def, formats, flags, error) ||
        !parse_sizes(root, def, flags, error))
        return FALSE;
    if ((flags & SV_VOL_PARSE_DISPLAY) && !parse_extents(root, def, error))
        return FALSE;
    return parse_target(sv_xml_child(root, "target"), &def->target, formats, flags, error);
}

SvStorageVolDef *
sv_storage_vol_def_parse(const char *xml, SvVolFormats formats, guint flags, GError **error)
{
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_def_new();
    xmlDoc *doc;
    xmlNode *root;
    gboolean ok = FALSE;

    g_return_val_if_fail(formats < SV_VOL_FORMATS_LAST, NULL);
    doc = sv_xml_read_named_from(xml, "(storage_volume_definition)", SV_FROM_STORAGE, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!sv_xml_is(root, "volume"))
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                     "unexpected root element <%s>, expecting <volume>", (const char *)root->name);
    else
        ok = parse_root(root, def, formats, flags, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

/* ---- format ---------------------------------------------------------------------------------- */

static void
indent(GString *s, int n)
{
    g_string_append_printf(s, "%*s", n, "");
}

static void
format_perms(GString *s, int ind, const SvVolPerms *p)
{
    if (p->mode == -1 && p->uid == -1 && p->gid == -1 && !p->label)
        return;
    indent(s, ind);
    g_string_append(s, "<permissions>\n");
    if (p->mode != -1) {
        indent(s, ind + 2);
        g_string_append_printf(s, "<mode>0%o</mode>\n", (unsigned)p->mode);
    }
    if (p->uid != -1) {
        indent(s, ind + 2);
        g_string_append_printf(s, "<owner>%d</owner>\n", (int)p->uid);
    }
    if (p->gid != -1) {
        indent(s, ind + 2);
        g_string_append_printf(s, "<group>%d</group>\n", (int)p->gid);
    }
    sv_xml_append_text_elem(s, ind + 2, "label", p->label);
    indent(s, ind);
    g_string_append(s, "</permissions>\n");
}

static void
format_time(GString *s, int ind, const char *name, const SvVolTime *t)
{
    if (t->nsec < 0)
        return;
    indent(s, ind);
    g_string_append_printf(s, "<%s>%" G_GUINT64_FORMAT, name, (guint64)t->sec);
    if (t->nsec)
        g_string_append_printf(s, ".%09ld", t->nsec);
    g_string_append_printf(s, "</%s>\n", name);
}

void
sv_vol_encryption_format(GString *s, int ind, const SvVolEncryption *enc)
{
    indent(s, ind);
    g_string_append_printf(s, "<encryption format='%s'", enc_formats[enc->format]);
    if (enc->engine != SV_VOL_ENC_ENGINE_DEFAULT)
        g_string_append_printf(s, " engine='%s'", enc_engines[enc->engine]);
    g_string_append(s, ">\n");
    for (guint i = 0; i < enc->secrets->len; i++) {
        const SvVolSecret *sec = enc->secrets->pdata[i];
        char uuid[SV_UUID_STRING_LEN + 1];

        indent(s, ind + 2);
        g_string_append(s, "<secret type='passphrase'");
        if (sec->by_uuid) {
            sv_uuid_format(sec->uuid, uuid);
            g_string_append_printf(s, " uuid='%s'", uuid);
        } else {
            sv_xml_append_attr(s, "usage", sec->usage);
        }
        g_string_append(s, "/>\n");
    }
    if (enc->format == SV_VOL_ENC_LUKS && enc->cipher_name) {
        indent(s, ind + 2);
        g_string_append(s, "<cipher");
        sv_xml_append_attr(s, "name", enc->cipher_name);
        g_string_append_printf(s, " size='%u'", enc->cipher_size);
        sv_xml_append_attr(s, "mode", enc->cipher_mode);
        sv_xml_append_attr(s, "hash", enc->cipher_hash);
        g_string_append(s, "/>\n");
        if (enc->ivgen_name) {
            indent(s, ind + 2);
            g_string_append(s, "<ivgen");
            sv_xml_append_attr(s, "name", enc->ivgen_name);
            sv_xml_append_attr(s, "hash", enc->ivgen_hash);
            g_string_append(s, "/>\n");
        }
    }
    indent(s, ind);
    g_string_append(s, "</encryption>\n");
}

static void
format_features(GString *s, int ind, const SvVolTarget *t)
{
    if (!t->has_features)
        return;
    indent(s, ind);
    if (!t->features) {
        g_string_append(s, "<features/>\n");
        return;
    }
    g_string_append(s, "<features>\n");
    for (int f = 0; f < SV_VOL_FEATURE_LAST; f++) {
        if (t->features & (1u << f)) {
            indent(s, ind + 2);
            g_string_append_printf(s, "<%s/>\n", features[f]);
        }
    }
    indent(s, ind);
    g_string_append(s, "</features>\n");
}

/* libvirt's virStorageVolTargetDefFormat, for <target> and <backingStore>. */
static void
format_target(GString *s, const SvVolTarget *t, SvVolFormats formats, const char *elem)
{
    const char *format = format_name(formats, t->format);

    g_string_append_printf(s, "  <%s>\n", elem);
    sv_xml_append_text_elem(s, 4, "path", t->path);
    if (format)
        g_string_append_printf(s, "    <format type='%s'/>\n", format);
    format_perms(s, 4, &t->perms);
    if (t->has_timestamps) {
        g_string_append(s, "    <timestamps>\n");
        format_time(s, 6, "atime", &t->atime);
        format_time(s, 6, "mtime", &t->mtime);
        format_time(s, 6, "ctime", &t->ctime);
        format_time(s, 6, "btime", &t->btime);
        g_string_append(s, "    </timestamps>\n");
    }
    if (t->encryption)
        sv_vol_encryption_format(s, 4, t->encryption);
    sv_xml_append_text_elem(s, 4, "compat", t->compat);
    if (t->cluster_size)
        g_string_append_printf(s, "    <clusterSize unit='B'>%" G_GUINT64_FORMAT "</clusterSize>\n",
                               t->cluster_size);
    format_features(s, 4, t);
    g_string_append_printf(s, "  </%s>\n", elem);
}

static void
format_extents(GString *s, const SvStorageVolDef *def)
{
    const char *cur = NULL;

    if (!def->extents->len)
        return;
    g_string_append(s, "  <source>\n");
    for (guint i = 0; i < def->extents->len; i++) {
        const SvVolExtent *e = def->extents->pdata[i];

        if (!cur || strcmp(cur, e->path) != 0) {
            if (cur)
                g_string_append(s, "    </device>\n");
            g_string_append(s, "    <device");
            sv_xml_append_attr(s, "path", e->path);
            g_string_append(s, ">\n");
        }
        g_string_append_printf(s,
                               "      <extent start='%" G_GUINT64_FORMAT "' end='%" G_GUINT64_FORMAT
                               "'/>\n",
                               e->start, e->end);
        cur = e->path;
    }
    g_string_append(s, "    </device>\n  </source>\n");
}

char *
sv_storage_vol_def_format(const SvStorageVolDef *def, SvVolFormats formats)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "<volume type='%s'>\n", vol_types[def->type]);
    sv_xml_append_text_elem(s, 2, "name", def->name);
    sv_xml_append_text_elem(s, 2, "key", def->key);
    format_extents(s, def);
    g_string_append_printf(s, "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n",
                           def->capacity);
    g_string_append_printf(s, "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n",
                           def->allocation);
    if (def->physical)
        g_string_append_printf(s, "  <physical unit='bytes'>%" G_GUINT64_FORMAT "</physical>\n",
                               def->physical);
    format_target(s, &def->target, formats, "target");
    if (def->backing)
        format_target(s, def->backing, formats, "backingStore");
    g_string_append(s, "</volume>\n");
    return g_string_free(s, FALSE);
}

gboolean
sv_storage_vol_def_local_target(SvStorageVolDef *def, const char *pool_path, GError **error)
{
    if (def->target.format == SV_VOL_FORMAT_DIR)
        def->type = SV_VOL_TYPE_DIR;
    else if (def->target.format == SV_VOL_FORMAT_PLOOP)
        def->type = SV_VOL_TYPE_PLOOP;
    else
        def->type = SV_VOL_TYPE_FILE;
    /* A directory pool's volumes are its entries: no subdirectory, no escape by "..". */
    if (strchr(def->name, '/')) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "volume name '%s' cannot contain '/'", def->name);
        return FALSE;
    }
    g_free(def->target.path);
    def->target.path = g_build_filename(pool_path, def->name, NULL);
    if (access(def->target.path, F_OK) == 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "volume target path '%s' already exists", def->target.path);
        return FALSE;
    }
    g_free(def->key);
    def->key = g_strdup(def->target.path);
    return TRUE;
}

void
sv_storage_vol_def_luks_capacity(SvStorageVolDef *def)
{
    if (def->target.encryption && def->target.format == SV_VOL_FORMAT_RAW &&
        def->luks_payload && def->luks_payload <= def->physical)
        def->capacity = def->physical - def->luks_payload;
}

void
sv_storage_vol_def_tool_vol(const SvStorageVolDef *def, SvQemuImgVol *out)
{
    const SvVolTarget *t = &def->target;
    const SvVolEncryption *enc = t->encryption;

    memset(out, 0, sizeof(*out));
    out->name = def->name;
    out->path = t->path;
    out->format = sv_vol_format_to_string(t->format);
    out->block = def->type == SV_VOL_TYPE_BLOCK;
    out->capacity = def->capacity;
    out->allocation = def->allocation;
    out->mode = t->perms.mode;
    out->uid = t->perms.uid;
    out->gid = t->perms.gid;
    out->compat = t->compat;
    out->has_features = t->has_features;
    out->lazy_refcounts = (t->features & (1u << SV_VOL_FEATURE_LAZY_REFCOUNTS)) != 0;
    out->cluster_size = t->cluster_size;
    out->nocow = t->nocow;
    if (def->backing) {
        out->backing_path = def->backing->path;
        out->backing_format = sv_vol_format_to_string(def->backing->format);
    }
    /* libvirt's encryption format numbers are SvQemuImgEnc's */
    out->encryption = enc ? (SvQemuImgEnc)enc->format : SV_QEMU_IMG_ENC_NONE;
    if (!enc)
        return;
    out->n_secrets = enc->secrets->len;
    out->cipher_name = enc->cipher_name;
    out->cipher_size = enc->cipher_size;
    out->cipher_mode = enc->cipher_mode;
    out->cipher_hash = enc->cipher_hash;
    out->ivgen_name = enc->ivgen_name;
    out->ivgen_hash = enc->ivgen_hash;
}
