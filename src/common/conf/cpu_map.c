/* cpu_map.c: libvirt's x86 CPU map read from its XML files, and the bit sets of CPUID leaves
 * and MSRs its x86 CPU code works on. */
#include "conf/cpu_map.h"

#include <libxml/parser.h>
#include <stdlib.h>

#include "conf/domain_xml.h"
#include "util/error.h"

/* ---------------------------------------------------------------- data sets */

GArray *
sv_cpu_data_new(void)
{
    return g_array_new(FALSE, TRUE, sizeof(SvCpuItem));
}

GArray *
sv_cpu_data_copy(const GArray *data)
{
    GArray *copy = sv_cpu_data_new();

    g_array_append_vals(copy, data->data, data->len);
    return copy;
}

static int
item_cmp(const SvCpuItem *a, const SvCpuItem *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    for (int i = 0; i < 2; i++) {
        if (a->in[i] != b->in[i])
            return a->in[i] < b->in[i] ? -1 : 1;
    }
    return 0;
}

static gboolean
item_is_zero(const SvCpuItem *it)
{
    return !(it->reg[0] | it->reg[1] | it->reg[2] | it->reg[3]);
}

SvCpuItem *
sv_cpu_data_get(const GArray *data, const SvCpuItem *key)
{
    for (guint i = 0; i < data->len; i++) {
        SvCpuItem *it = &g_array_index(data, SvCpuItem, i);

        if (item_cmp(it, key) == 0)
            return it;
    }
    return NULL;
}

void
sv_cpu_data_add_item(GArray *data, const SvCpuItem *item)
{
    SvCpuItem *it = sv_cpu_data_get(data, item);
    guint at = 0;

    if (it) {
        for (int r = 0; r < 4; r++)
            it->reg[r] |= item->reg[r];
        return;
    }
    while (at < data->len && item_cmp(&g_array_index(data, SvCpuItem, at), item) < 0)
        at++;
    g_array_insert_val(data, at, *item);
}

void
sv_cpu_data_add(GArray *data, const GArray *other)
{
    for (guint i = 0; i < other->len; i++) {
        const SvCpuItem *it = &g_array_index(other, SvCpuItem, i);

        if (!item_is_zero(it))
            sv_cpu_data_add_item(data, it);
    }
}

void
sv_cpu_data_subtract(GArray *data, const GArray *other)
{
    for (guint i = 0; i < data->len; i++) {
        SvCpuItem *it = &g_array_index(data, SvCpuItem, i);
        const SvCpuItem *o = sv_cpu_data_get(other, it);

        for (int r = 0; o && r < 4; r++)
            it->reg[r] &= ~o->reg[r];
    }
}

void
sv_cpu_data_intersect(GArray *data, const GArray *other)
{
    for (guint i = 0; i < data->len; i++) {
        SvCpuItem *it = &g_array_index(data, SvCpuItem, i);
        const SvCpuItem *o = sv_cpu_data_get(other, it);

        for (int r = 0; r < 4; r++)
            it->reg[r] &= o ? o->reg[r] : 0;
    }
}

gboolean
sv_cpu_data_is_empty(const GArray *data)
{
    for (guint i = 0; i < data->len; i++) {
        if (!item_is_zero(&g_array_index(data, SvCpuItem, i)))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_cpu_data_is_subset(const GArray *data, const GArray *subset)
{
    for (guint i = 0; i < subset->len; i++) {
        const SvCpuItem *s = &g_array_index(subset, SvCpuItem, i);
        const SvCpuItem *d;

        if (item_is_zero(s))
            continue;
        if (!(d = sv_cpu_data_get(data, s)))
            return FALSE;
        for (int r = 0; r < 4; r++) {
            if ((d->reg[r] & s->reg[r]) != s->reg[r])
                return FALSE;
        }
    }
    return TRUE;
}

void
sv_cpu_vendor_item(const char *string, SvCpuItem *out)
{
    memset(out, 0, sizeof(*out));
    out->type = SV_CPU_ITEM_CPUID;
    /* Leaf 0 spells the vendor in ebx, edx, ecx, little-endian. */
    memcpy(&out->reg[1], string, 4);
    memcpy(&out->reg[3], string + 4, 4);
    memcpy(&out->reg[2], string + 8, 4);
    for (int r = 1; r < 4; r++)
        out->reg[r] = GUINT32_FROM_LE(out->reg[r]);
}

void
sv_cpu_data_set_signature(GArray *data, guint family, guint model, guint stepping)
{
    SvCpuItem leaf1 = {.type = SV_CPU_ITEM_CPUID, .in = {1, 0}};
    guint32 sig = 0;

    /* Leaf 1's eax: extended family above 15, extended model, family, model, stepping. */
    if (family > 0xf) {
        sig |= (family - 0xf) << 20;
        family = 0xf;
    }
    sig |= ((model >> 4) << 16) | (family << 8) | ((model & 0xf) << 4) | (stepping & 0xf);
    leaf1.reg[0] = sig;
    sv_cpu_data_add_item(data, &leaf1);
}

/* ---------------------------------------------------------------- the map's objects */

static void
vendor_free(gpointer p)
{
    SvCpuVendor *v = p;

    g_free(v->name);
    g_free(v);
}

static void
feature_free(gpointer p)
{
    SvCpuFeature *f = p;

    g_free(f->name);
    g_array_unref(f->data);
    g_free(f);
}

static void
model_free(gpointer p)
{
    SvCpuModel *m = p;

    g_free(m->name);
    g_array_unref(m->signatures);
    g_array_unref(m->data);
    g_strfreev(m->removed);
    g_free(m);
}

void
sv_cpu_map_free(SvCpuMap *map)
{
    if (!map)
        return;
    g_ptr_array_unref(map->vendors);
    g_ptr_array_unref(map->features);
    g_ptr_array_unref(map->models);
    g_free(map);
}

const SvCpuVendor *
sv_cpu_map_vendor(const SvCpuMap *map, const char *name)
{
    for (guint i = 0; name && i < map->vendors->len; i++) {
        const SvCpuVendor *v = map->vendors->pdata[i];

        if (g_str_equal(v->name, name))
            return v;
    }
    return NULL;
}

const SvCpuFeature *
sv_cpu_map_feature(const SvCpuMap *map, const char *name)
{
    for (guint i = 0; name && i < map->features->len; i++) {
        const SvCpuFeature *f = map->features->pdata[i];

        if (g_str_equal(f->name, name))
            return f;
    }
    return NULL;
}

const SvCpuModel *
sv_cpu_map_model(const SvCpuMap *map, const char *name)
{
    for (guint i = 0; name && i < map->models->len; i++) {
        const SvCpuModel *m = map->models->pdata[i];

        if (g_str_equal(m->name, name))
            return m;
    }
    return NULL;
}

/* ---------------------------------------------------------------- reading */

static gboolean
map_error(GError **error, const char *file, const char *what)
{
    sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "CPU map %s: %s", file, what);
    return FALSE;
}

/* A number attribute as libvirt reads it (decimal, or hex with 0x); FALSE when malformed. */
static gboolean
prop_uint(const xmlNode *n, const char *name, gboolean required, guint32 *out)
{
    g_autofree char *s = sv_xml_prop(n, name);
    char *end = NULL;
    guint64 v;

    *out = 0;
    if (!s)
        return !required;
    v = g_ascii_strtoull(s, &end, 0);
    if (!*s || *end || v > G_MAXUINT32)
        return FALSE;
    *out = (guint32)v;
    return TRUE;
}

/* One <cpuid> or <msr> element into an item; FALSE when malformed. */
static gboolean
parse_item(const xmlNode *n, SvCpuItem *it)
{
    memset(it, 0, sizeof(*it));
    if (sv_xml_is(n, "cpuid")) {
        it->type = SV_CPU_ITEM_CPUID;
        return prop_uint(n, "eax_in", TRUE, &it->in[0]) &&
               prop_uint(n, "ecx_in", FALSE, &it->in[1]) &&
               prop_uint(n, "eax", FALSE, &it->reg[0]) &&
               prop_uint(n, "ebx", FALSE, &it->reg[1]) &&
               prop_uint(n, "ecx", FALSE, &it->reg[2]) &&
               prop_uint(n, "edx", FALSE, &it->reg[3]);
    }
    it->type = SV_CPU_ITEM_MSR;
    return sv_xml_is(n, "msr") && prop_uint(n, "index", TRUE, &it->in[0]) &&
           prop_uint(n, "eax", TRUE, &it->reg[0]) && prop_uint(n, "edx", TRUE, &it->reg[3]);
}

/* The <cpuid>/<msr> children of `parent` (an <alias> is skipped) into `data`. */
static gboolean
parse_items(const xmlNode *parent, GArray *data)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        SvCpuItem it;

        if (c->type != XML_ELEMENT_NODE || sv_xml_is(c, "alias"))
            continue;
        if (!parse_item(c, &it))
            return FALSE;
        sv_cpu_data_add_item(data, &it);
    }
    return TRUE;
}

static gboolean
parse_vendor(SvCpuMap *map, const xmlNode *n, char *name, const char *file, GError **error)
{
    g_autofree char *string = sv_xml_prop(n, "string");
    SvCpuVendor *v;

    if (sv_cpu_map_vendor(map, name) || !string || strlen(string) != 12) {
        g_free(name);
        return map_error(error, file, "a vendor is repeated or has no 12-character string");
    }
    v = g_new0(SvCpuVendor, 1);
    v->name = name;
    sv_cpu_vendor_item(string, &v->item);
    g_ptr_array_add(map->vendors, v);
    return TRUE;
}

static gboolean
parse_feature(SvCpuMap *map, const xmlNode *n, char *name, const char *file, GError **error)
{
    g_autofree char *migratable = sv_xml_prop(n, "migratable");
    SvCpuFeature *f;

    if (sv_cpu_map_feature(map, name)) {
        g_free(name);
        return map_error(error, file, "a feature is defined twice");
    }
    f = g_new0(SvCpuFeature, 1);
    f->name = name;
    f->data = sv_cpu_data_new();
    f->migratable = g_strcmp0(migratable, "no") != 0;
    g_ptr_array_add(map->features, f);
    if (!parse_items(n, f->data) || sv_cpu_data_is_empty(f->data))
        return map_error(error, file, "a feature has no valid CPUID or MSR data");
    return TRUE;
}

/* A stepping list ("5-7", "0,2-3") as a bit set. */
static gboolean
parse_steppings(const char *s, guint16 *out)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);

    *out = 0;
    for (char **p = parts; *p; p++) {
        unsigned lo, hi;
        int n = sscanf(*p, "%u-%u", &lo, &hi);

        if (n < 1)
            return FALSE;
        if (n == 1)
            hi = lo;
        if (lo > hi || hi > 15)
            return FALSE;
        for (unsigned i = lo; i <= hi; i++)
            *out |= 1u << i;
    }
    return TRUE;
}

/* A model's <signature> elements (they replace the ancestor's). */
static gboolean
parse_signatures(SvCpuModel *m, const xmlNode *n)
{
    gboolean any = FALSE;

    for (xmlNode *c = n->children; c; c = c->next) {
        SvCpuSignature sig = {.steppings = 0xffff};
        g_autofree char *stepping = NULL;

        if (c->type != XML_ELEMENT_NODE || !sv_xml_is(c, "signature"))
            continue;
        if (!any)
            g_array_set_size(m->signatures, 0);
        any = TRUE;
        stepping = sv_xml_prop(c, "stepping");
        if (!prop_uint(c, "family", TRUE, &sig.family) || sig.family == 0 ||
            !prop_uint(c, "model", TRUE, &sig.model) ||
            (stepping && !parse_steppings(stepping, &sig.steppings)))
            return FALSE;
        g_array_append_val(m->signatures, sig);
    }
    return TRUE;
}

/* <decode>, <model name> (the ancestor), <vendor> of a model. */
static gboolean
parse_model_head(SvCpuMap *map, SvCpuModel *m, const xmlNode *n)
{
    xmlNode *decode = sv_xml_child(n, "decode");
    g_autofree char *host = decode ? sv_xml_prop(decode, "host") : NULL;
    g_autofree char *guest = decode ? sv_xml_prop(decode, "guest") : NULL;
    g_autofree char *ancestor = sv_xml_child_prop(n, "model", "name");
    g_autofree char *vendor = sv_xml_child_prop(n, "vendor", "name");
    const SvCpuModel *a = NULL;

    if (!host || !guest)
        return FALSE;
    m->decode_host = g_str_equal(host, "on");
    m->decode_guest = g_str_equal(guest, "on");
    if (sv_xml_child(n, "model")) {
        if (!(a = sv_cpu_map_model(map, ancestor)))
            return FALSE;
        m->vendor = a->vendor;
        g_array_append_vals(m->signatures, a->signatures->data, a->signatures->len);
        sv_cpu_data_add(m->data, a->data);
    }
    if (sv_xml_child(n, "vendor") && !(m->vendor = sv_cpu_map_vendor(map, vendor)))
        return FALSE;
    return parse_signatures(m, n);
}

static gboolean
parse_model_features(SvCpuMap *map, SvCpuModel *m, const xmlNode *n)
{
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);

    for (xmlNode *c = n->children; c; c = c->next) {
        g_autofree char *name = NULL, *rem = NULL;
        const SvCpuFeature *f;

        if (c->type != XML_ELEMENT_NODE || !sv_xml_is(c, "feature"))
            continue;
        name = sv_xml_prop(c, "name");
        rem = sv_xml_prop(c, "removed");
        if (!(f = sv_cpu_map_feature(map, name)))
            return FALSE;
        if (g_strcmp0(rem, "yes") == 0)
            g_ptr_array_add(removed, g_steal_pointer(&name));
        else
            sv_cpu_data_add(m->data, f->data);
    }
    g_ptr_array_add(removed, NULL);
    m->removed = (GStrv)g_ptr_array_steal(removed, NULL);
    return TRUE;
}

static gboolean
parse_model(SvCpuMap *map, const xmlNode *n, char *name, const char *file, GError **error)
{
    SvCpuModel *m;

    if (sv_cpu_map_model(map, name)) {
        g_free(name);
        return map_error(error, file, "a model is defined twice");
    }
    m = g_new0(SvCpuModel, 1);
    m->name = name;
    m->signatures = g_array_new(FALSE, TRUE, sizeof(SvCpuSignature));
    m->data = sv_cpu_data_new();
    g_ptr_array_add(map->models, m);
    if (!parse_model_head(map, m, n) || !parse_model_features(map, m, n)) {
        g_autofree char *what = g_strdup_printf("CPU model %s is malformed", m->name);
        return map_error(error, file, what);
    }
    return TRUE;
}

typedef gboolean (*ParseFn)(SvCpuMap *map, const xmlNode *n, char *name, const char *file,
                            GError **error);

/* Each child `kind` of `parent`, in order. */
static gboolean
parse_kind(SvCpuMap *map, const xmlNode *parent, const char *kind, ParseFn fn, const char *file,
           GError **error)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        char *name;

        if (c->type != XML_ELEMENT_NODE || !sv_xml_is(c, kind))
            continue;
        if (!(name = sv_xml_prop(c, "name")))
            return map_error(error, file, "an element has no name");
        if (!fn(map, c, name, file, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_all(SvCpuMap *map, const xmlNode *parent, const char *file, GError **error)
{
    return parse_kind(map, parent, "vendor", parse_vendor, file, error) &&
           parse_kind(map, parent, "feature", parse_feature, file, error) &&
           parse_kind(map, parent, "model", parse_model, file, error);
}

static xmlDoc *
read_file(const char *path, GError **error)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS |
                                              XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!root || !sv_xml_is(root, "cpus")) {
        if (doc)
            xmlFreeDoc(doc);
        sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR,
                     "cannot read libvirt's CPU map file '%s' (is libvirt0 installed?)", path);
        return NULL;
    }
    return doc;
}

static gboolean
load_include(SvCpuMap *map, const char *dir, const xmlNode *inc, GError **error)
{
    g_autofree char *file = sv_xml_prop(inc, "filename");
    g_autofree char *path = NULL;
    xmlDoc *doc;
    gboolean ok;

    if (!file || strchr(file, '/'))
        return map_error(error, "index.xml", "an include names no file in the map");
    path = g_build_filename(dir, file, NULL);
    if (!(doc = read_file(path, error)))
        return FALSE;
    ok = parse_all(map, xmlDocGetRootElement(doc), file, error);
    xmlFreeDoc(doc);
    return ok;
}

static gboolean
load_arch(SvCpuMap *map, const char *dir, const xmlNode *arch, GError **error)
{
    if (!parse_all(map, arch, "index.xml", error))
        return FALSE;
    for (xmlNode *c = arch->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && sv_xml_is(c, "include") &&
            !load_include(map, dir, c, error))
            return FALSE;
    }
    return TRUE;
}

SvCpuMap *
sv_cpu_map_load(const char *dir, GError **error)
{
    g_autoptr(SvCpuMap) map = g_new0(SvCpuMap, 1);
    g_autofree char *index = g_build_filename(dir, "index.xml", NULL);
    xmlDoc *doc = read_file(index, error);
    xmlNode *arch = NULL;
    gboolean ok;

    map->vendors = g_ptr_array_new_with_free_func(vendor_free);
    map->features = g_ptr_array_new_with_free_func(feature_free);
    map->models = g_ptr_array_new_with_free_func(model_free);
    if (!doc)
        return NULL;
    for (xmlNode *c = xmlDocGetRootElement(doc)->children; c && !arch; c = c->next) {
        g_autofree char *name = c->type == XML_ELEMENT_NODE && sv_xml_is(c, "arch")
                                    ? sv_xml_prop(c, "name") : NULL;

        if (g_strcmp0(name, "x86") == 0)
            arch = c;
    }
    if (!arch)
        ok = map_error(error, "index.xml", "cannot find CPU map for x86 architecture");
    else
        ok = load_arch(map, dir, arch, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&map) : NULL;
}

const SvCpuMap *
sv_cpu_map_get(GError **error)
{
    static SvCpuMap *map;
    const char *dir = g_getenv("SV_CPU_MAP_DIR");

    if (!map)
        map = sv_cpu_map_load(dir && *dir ? dir : SV_CPU_MAP_DIR_DEFAULT, error);
    return map;
}

GArray *
sv_cpu_data_parse(const char *xml, GError **error)
{
    g_autoptr(GArray) data = sv_cpu_data_new();
    xmlDoc *doc = sv_xml_read_named(xml, "(CPU_data)", error);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    gboolean ok;

    if (!doc)
        return NULL;
    ok = root && sv_xml_is(root, "cpudata") && parse_items(root, data);
    xmlFreeDoc(doc);
    if (!ok) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "malformed <cpudata>");
        return NULL;
    }
    return g_steal_pointer(&data);
}
