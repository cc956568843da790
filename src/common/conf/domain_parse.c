/* domain_parse.c: parse libvirt domain XML into an SvDomainDef, apart from the devices
 * (domain_parse_devices.c); and the value readers and errors the parts of the parser share.
 *
 * The order of work in sv_domain_def_parse() follows libvirt's, so a document with several
 * problems mostly reports the one libvirt reports:
 *   read (well-formedness, no entities) -> root name -> schema check (VALIDATE only) ->
 *   parse each part -> refuse known-but-unimplemented XML -> defaults -> validate. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_schema.h"
#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

/* Values libvirt 9.0.0 knows and splitvirt does not implement: these are refused as
 * unsupported, while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_VIRT_TYPES                                                                 \
    "kqemu uml openvz test vmware hyperv vbox phyp parallels vz bhyve hvf ch"
#define UNSUPPORTED_OS_TYPES "uml xenpvh"
#define UNSUPPORTED_SECLABEL_TYPES "dynamic static"

/* Architectures, kept as strings, checked against libvirt's list. */
#define KNOWN_ARCHES                                                                           \
    "aarch64 alpha armv6l armv7l armv7b cris i686 ia64 lm32 m68k microblaze microblazeel mips "  \
    "mipsel mips64 mips64el openrisc parisc parisc64 ppc ppcle ppc64 ppc64le ppcemb riscv32 "    \
    "riscv64 s390 s390x sh4 sh4eb sparc sparc64 unicore32 x86_64 xtensa xtensaeb"

/* ---- values and errors ------------------------------------------------------------------ */

gboolean
sv_word_in(const char *list, const char *word)
{
    gsize len = strlen(word);

    if (!list || len == 0)
        return FALSE;
    for (const char *p = list; (p = strstr(p, word)); p += len) {
        if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
            return TRUE;
    }
    return FALSE;
}

gboolean
sv_domain_parse_u64(const char *s, guint64 *out)
{
    guint64 v = 0;

    if (!s || !*s)
        return FALSE;
    for (const char *p = s; *p; p++) {
        guint d = (guint)(*p - '0');

        if (!g_ascii_isdigit(*p) || v > (G_MAXUINT64 - d) / 10)
            return FALSE;
        v = v * 10 + d;
    }
    *out = v;
    return TRUE;
}

gboolean
sv_domain_parse_int_range(const char *s, guint *out)
{
    guint64 v;

    if (!sv_domain_parse_u64(s, &v) || v > G_MAXINT)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

gboolean
sv_domain_parse_uint(const char *s, guint *out)
{
    guint64 v;

    if (!sv_domain_parse_u64(s, &v) || v > G_MAXUINT)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

gboolean
sv_domain_prop_enum(const xmlNode *node, const char *attr, SvDomainFromString from_string,
                    int min, const char *unsupported, gboolean required, int *out,
                    GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    int i;

    if (!v) {
        if (required) {
            sv_xml_error_missing_attr(error, node, attr);
            return FALSE;
        }
        return TRUE;
    }
    i = from_string(v);
    if (i >= min) {
        *out = i;
        return TRUE;
    }
    if (sv_word_in(unsupported, v))
        sv_domain_error_unsupported_value(error, node, attr, v);
    else
        sv_xml_error_invalid_attr(error, node, attr, v);
    return FALSE;
}

void
sv_domain_error_templated(GError **error, int from, int code, const char *tmpl,
                          const char *bare, const char *detail)
{
    g_autofree char *msg = NULL;

    if (!detail) {
        g_propagate_error(error, sv_error_new_full(from, code, bare, 2, bare, NULL, NULL, -1, -1));
        return;
    }
    msg = g_strdup_printf(tmpl, detail);
    g_propagate_error(error, sv_error_new_full(from, code, msg, 2, tmpl, detail, NULL, -1, -1));
}

gboolean
sv_domain_single_child(const xmlNode *parent, const char *name, xmlNode **out, GError **error)
{
    *out = NULL;
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (!sv_xml_is(c, name))
            continue;
        if (*out) {
            g_autofree char *what = g_strdup_printf("more than one <%s>", name);
            sv_domain_error_unsupported(error, what);
            return FALSE;
        }
        *out = c;
    }
    return TRUE;
}

void
sv_domain_error_unsupported(GError **error, const char *what)
{
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                 "%s is not supported by splitvirt", what);
}

void
sv_domain_error_unsupported_value(GError **error, const xmlNode *node, const char *attr,
                                  const char *value)
{
    g_autofree char *what = g_strdup_printf("<%s %s='%s'>", node->name, attr, value);

    sv_domain_error_unsupported(error, what);
}

/* ---- parsing: identity and resources --------------------------------------------------- */

/* <domain type=>, name, uuid, os type, arch and machine: libvirt's virDomainDefParseIDs and
 * virDomainDefParseCaps, in their order. */
static gboolean
parse_ids(const xmlNode *root, SvDomainDef *def, GError **error)
{
    g_autofree char *type = sv_xml_prop(root, "type");
    g_autofree char *uuid = sv_xml_child_text(root, "uuid");
    int v;

    def->name = sv_xml_child_text(root, "name");
    if (!def->name) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_NO_NAME, "missing name information");
        return FALSE;
    }
    /* libvirt checks newlines here, in its generic XML layer; the rest comes later. */
    if (strchr(def->name, '\n')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: \n");
        return FALSE;
    }
    if (!uuid)
        sv_uuid_generate(def->uuid);
    else if (!sv_uuid_parse(uuid, def->uuid)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "malformed uuid element");
        return FALSE;
    }
    if (!type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "missing domain type attribute");
        return FALSE;
    }
    v = sv_domain_virt_type_from_string(type);
    if (v < 0 && sv_word_in(UNSUPPORTED_VIRT_TYPES, type)) {
        sv_domain_error_unsupported_value(error, root, "type", type);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "invalid domain type %s",
                     type);
        return FALSE;
    }
    def->type = v;
    return TRUE;
}

static gboolean
parse_os_type(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *os = sv_xml_child(root, "os");
    xmlNode *type = os ? sv_xml_child(os, "type") : NULL;
    g_autofree char *text = sv_xml_text(type);

    if (!text) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "an os <type> must be specified");
        return FALSE;
    }
    if (sv_word_in(UNSUPPORTED_OS_TYPES, text)) {
        g_autofree char *what = g_strdup_printf("os type '%s'", text);

        sv_domain_error_unsupported(error, what);
        return FALSE;
    }
    if (!sv_word_in("hvm xen linux exe", text)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown OS type '%s'",
                     text);
        return FALSE;
    }
    /* libvirt's back-compat hack: xen PV guests have always been called 'linux'. */
    if (def->type == SV_DOMAIN_VIRT_XEN && g_str_equal(text, "xen")) {
        g_free(text);
        text = g_strdup("linux");
    }
    def->os.type = g_steal_pointer(&text);
    def->os.arch = sv_xml_prop(type, "arch");
    def->os.machine = sv_xml_prop(type, "machine");
    if (def->os.arch && !sv_word_in(KNOWN_ARCHES, def->os.arch)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "Unknown architecture %s",
                     def->os.arch);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_title(const xmlNode *root, SvDomainDef *def, GError **error)
{
    def->title = sv_xml_child_text(root, "title");
    if (def->title && strchr(def->title, '\n')) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Domain title can't contain newlines");
        return FALSE;
    }
    def->description = sv_xml_child_text(root, "description");
    return TRUE;
}

/* ---- parsing: os, features, cpu, clock, lifecycle, idmap, seclabel ------------------- */

/* Children of <os> that only some os types use. libvirt ignores them for the others, which
 * would lose them silently, so they are refused instead. */
static gboolean
check_os_children(const xmlNode *os, const char *os_type, GError **error)
{
    static const struct {
        const char *element;
        const char *os_types;
    } uses[] = {
        {"loader", "hvm"},         {"boot", "hvm"},         {"kernel", "hvm linux"},
        {"initrd", "hvm linux"},   {"cmdline", "hvm linux"}, {"init", "exe"},
        {"initarg", "exe"},
    };

    for (const xmlNode *c = os->children; c; c = c->next) {
        for (guint i = 0; i < G_N_ELEMENTS(uses); i++) {
            g_autofree char *what = NULL;

            if (!sv_xml_is(c, uses[i].element) || sv_word_in(uses[i].os_types, os_type))
                continue;
            what = g_strdup_printf("<%s> with os type '%s'", uses[i].element, os_type);
            sv_domain_error_unsupported(error, what);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_loader(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(os, "loader");
    int type = SV_DOMAIN_LOADER_TYPE_NONE;
    int readonly = SV_DOMAIN_TRISTATE_ABSENT;

    if (!node)
        return TRUE;
    if (!sv_domain_prop_enum(node, "readonly", sv_domain_tristate_from_string, 1, NULL, FALSE,
                             &readonly, error) ||
        !sv_domain_prop_enum(node, "type", sv_domain_loader_type_from_string, 1, NULL, FALSE, &type,
                             error))
        return FALSE;
    def->os.loader = sv_xml_text(node);
    /* libvirt's post-parse: a loader path without a type is a ROM. */
    if (def->os.loader && type == SV_DOMAIN_LOADER_TYPE_NONE)
        type = SV_DOMAIN_LOADER_TYPE_ROM;
    def->os.loader_type = type;
    def->os.loader_readonly = readonly;
    return TRUE;
}

static gboolean
parse_os(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *os = sv_xml_child(root, "os");
    SvDomainOsDef *o = &def->os;

    if (!check_os_children(os, o->type, error) || !parse_loader(os, def, error))
        return FALSE;
    o->kernel = sv_xml_child_text(os, "kernel");
    o->initrd = sv_xml_child_text(os, "initrd");
    o->cmdline = sv_xml_child_text(os, "cmdline");
    o->init = sv_xml_child_text(os, "init");
    for (const xmlNode *c = os->children; c; c = c->next) {
        int dev = 0;

        if (sv_xml_is(c, "initarg")) {
            char *arg = sv_xml_text(c);

            if (!arg) {
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                             "No data supplied for <initarg> element");
                return FALSE;
            }
            g_ptr_array_add(o->initargs, arg);
        }
        if (!sv_xml_is(c, "boot"))
            continue;
        if (!sv_domain_prop_enum(c, "dev", sv_domain_boot_dev_from_string, 0, NULL, TRUE, &dev,
                                 error))
            return FALSE;
        /* libvirt keeps the first VIR_DOMAIN_BOOT_LAST entries and ignores the rest. */
        if (o->n_boot_devs < SV_DOMAIN_BOOT_LAST)
            o->boot_devs[o->n_boot_devs++] = dev;
    }
    return TRUE;
}

static gboolean
parse_lifecycle(const xmlNode *root, SvDomainDef *def, GError **error)
{
    const struct {
        const char *element;
        SvDomainLifecycleAction *out;
    } events[] = {
        {"on_poweroff", &def->on_poweroff},
        {"on_reboot", &def->on_reboot},
        {"on_crash", &def->on_crash},
    };

    for (guint i = 0; i < G_N_ELEMENTS(events); i++) {
        g_autofree char *text = sv_xml_child_text(root, events[i].element);
        int v;

        if (!text)
            continue;
        v = sv_domain_lifecycle_action_from_string(text);
        if (v < 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown %s action: %s", events[i].element, text);
            return FALSE;
        }
        *events[i].out = v;
    }
    return TRUE;
}

static gint
idmap_compare(gconstpointer a, gconstpointer b)
{
    const SvDomainIdMapDef *x = *(SvDomainIdMapDef *const *)a;
    const SvDomainIdMapDef *y = *(SvDomainIdMapDef *const *)b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static gboolean
parse_idmaps(const xmlNode *root, SvDomainDef *def, GError **error)
{
    for (const xmlNode *m = root->children; m; m = m->next) {
        if (!sv_xml_is(m, "idmap"))
            continue;
        for (const xmlNode *c = m->children; c; c = c->next) {
            g_autofree char *start = NULL;
            g_autofree char *target = NULL;
            g_autofree char *count = NULL;
            SvDomainIdMapDef entry = {0};

            if (!sv_xml_is(c, "uid") && !sv_xml_is(c, "gid"))
                continue;
            entry.kind = sv_xml_is(c, "uid") ? SV_DOMAIN_IDMAP_UID : SV_DOMAIN_IDMAP_GID;
            start = sv_xml_prop(c, "start");
            target = sv_xml_prop(c, "target");
            count = sv_xml_prop(c, "count");
            if (!sv_domain_parse_uint(start, &entry.start) ||
                !sv_domain_parse_uint(target, &entry.target) ||
                !sv_domain_parse_uint(count, &entry.count)) {
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                             "invalid idmap start/target/count settings");
                return FALSE;
            }
            g_ptr_array_add(def->idmaps, g_memdup2(&entry, sizeof(entry)));
        }
    }
    /* libvirt sorts each list by start; uids come first in its output. */
    g_ptr_array_sort(def->idmaps, idmap_compare);
    return TRUE;
}

static gboolean
parse_seclabel(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = NULL;
    g_autofree char *type = NULL;

    if (!sv_domain_single_child(root, "seclabel", &node, error))
        return FALSE;
    if (!node)
        return TRUE;
    /* Without a type libvirt picks dynamic labelling, which needs a security driver. */
    type = sv_xml_prop(node, "type");
    if (!type) {
        sv_domain_error_unsupported(error, "<seclabel> without type='none'");
        return FALSE;
    }
    if (!g_str_equal(type, "none")) {
        if (sv_word_in(UNSUPPORTED_SECLABEL_TYPES, type))
            sv_domain_error_unsupported_value(error, node, "type", type);
        else
            sv_xml_error_invalid_attr(error, node, "type", type);
        return FALSE;
    }
    def->seclabel_none = TRUE;
    def->seclabel_model = sv_xml_prop(node, "model");
    return TRUE;
}

/* ---- parse entry point ----------------------------------------------------------------- */

static gboolean
parse_root(const xmlNode *root, SvDomainDef *def, guint flags, GError **error)
{
    if (!parse_ids(root, def, error) || !parse_os_type(root, def, error) ||
        !parse_title(root, def, error))
        return FALSE;
    def->metadata = sv_xml_metadata_copy(sv_xml_child(root, "metadata"));
    if (!sv_domain_parse_resources(root, def, error) || !parse_os(root, def, error) ||
        !sv_domain_platform_parse_os_extras(root, def, error) || !parse_idmaps(root, def, error) ||
        !sv_domain_platform_parse_clock(root, def, error) || !parse_lifecycle(root, def, error) ||
        !sv_domain_platform_parse_features(root, def, error) ||
        !sv_domain_platform_parse_pm(root, def, error))
        return FALSE;
    return sv_domain_parse_cpu(root, def, error) && parse_seclabel(root, def, error) &&
           sv_domain_parse_devices(root, def, flags, error);
}

SvDomainDef *
sv_domain_def_parse(const char *xml, guint flags, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    xmlDoc *doc;
    xmlNode *root;
    gboolean ok;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = sv_xml_read_domain(xml, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR, "missing root element");
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!g_str_equal((const char *)root->name, "domain")) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "expecting root element of 'domain', not '%s'", root->name);
        xmlFreeDoc(doc);
        return NULL;
    }
    def = sv_domain_def_new();
    ok = (!(flags & SV_DOMAIN_PARSE_VALIDATE) ||
          sv_domain_schema_check(root, SV_DOMAIN_SCHEMA_UNKNOWN, error)) &&
         parse_root(root, def, flags, error) &&
         sv_domain_schema_check(root, SV_DOMAIN_SCHEMA_UNSUPPORTED, error) &&
         sv_domain_def_post_parse(def, error) && sv_domain_def_validate(def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}
