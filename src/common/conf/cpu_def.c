/* cpu_def.c: a standalone <cpu> document read as libvirt 9.0's cpu_conf.c reads it, with its
 * errors and their order (the compare and baseline calls answer with them). */
#include "conf/cpu_def.h"

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* libvirt's architecture names (virArch). */
static const char *const known_arches[] = {
    "i686",   "x86_64",   "alpha",  "armv6l",      "armv7l",   "armv7b",     "aarch64",
    "cris",   "ia64",     "lm32",   "loongarch64", "m68k",     "microblaze", "microblazeel",
    "mips",   "mipsel",   "mips64", "mips64el",    "openrisc", "parisc",     "parisc64",
    "ppc",    "ppcle",    "ppc64",  "ppc64le",     "ppcemb",   "riscv32",    "riscv64",
    "s390",   "s390x",    "sh4",    "sh4eb",       "sparc",    "sparc64",    "unicore32",
    "xtensa", "xtensaeb", NULL};

gboolean
sv_arch_is_known(const char *arch)
{
    return arch && g_strv_contains(known_arches, arch);
}

void
sv_cpu_def_free(SvCpuDef *def)
{
    if (!def)
        return;
    g_free(def->arch);
    g_free(def->model);
    g_free(def->vendor);
    if (def->features)
        g_ptr_array_unref(def->features);
    g_free(def);
}

static gboolean
fail(GError **error, int code, const char *msg)
{
    sv_error_set(error, SV_FROM_CPU, code, "%s", msg);
    return FALSE;
}

/* The root's attributes: which kind of CPU it is, its mode, migratable, match and check. */
static gboolean
parse_attrs(const xmlNode *root, gboolean want_host, SvCpuDef *def, GError **error)
{
    g_autofree char *mode = sv_xml_prop(root, "mode");
    g_autofree char *match = sv_xml_prop(root, "match");
    int migratable = SV_DOMAIN_SWITCH_ABSENT, check = SV_DOMAIN_CPU_CHECK_DEFAULT;

    def->host = want_host;
    if (!want_host && sv_xml_child(root, "arch")) {
        if (match)
            return fail(error, SV_ERR_XML_ERROR,
                        "'arch' element cannot be used inside 'cpu' element with 'match' "
                        "attribute'");
        def->host = TRUE;
    }
    def->mode = def->host ? -1 : SV_DOMAIN_CPU_MODE_CUSTOM;
    if (mode && def->host)
        return fail(error, SV_ERR_CONFIG_UNSUPPORTED,
                    "Attribute mode is only allowed for guest CPU");
    if (mode && (def->mode = sv_domain_cpu_mode_from_string(mode)) < 0) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Invalid mode attribute '%s'", mode);
        return FALSE;
    }
    if (!sv_domain_prop_enum(root, "migratable", sv_domain_switch_from_string, 1, NULL, FALSE,
                             &migratable, error))
        return FALSE;
    if (migratable != SV_DOMAIN_SWITCH_ABSENT && def->mode != SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->mode != SV_DOMAIN_CPU_MODE_MAXIMUM)
        return fail(error, SV_ERR_CONFIG_UNSUPPORTED,
                    "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' "
                    "CPU mode");
    def->match = SV_DOMAIN_CPU_MATCH_EXACT;
    if (def->host)
        return TRUE;
    return sv_domain_prop_enum(root, "match", sv_domain_cpu_match_from_string, 0, NULL, FALSE,
                               &def->match, error) &&
           sv_domain_prop_enum(root, "check", sv_domain_cpu_check_from_string, 0, NULL, FALSE,
                               &check, error);
}

/* <arch>, <model> (and its fallback) and <vendor>. */
static gboolean
parse_identity(const xmlNode *root, SvCpuDef *def, GError **error)
{
    xmlNode *model = sv_xml_child(root, "model");
    g_autofree char *fallback = model ? sv_xml_prop(model, "fallback") : NULL;

    if (def->host) {
        def->arch = sv_xml_child_text(root, "arch");
        if (!def->arch)
            return fail(error, SV_ERR_XML_ERROR, "Missing CPU architecture");
        if (!sv_arch_is_known(def->arch)) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Unknown architecture %s", def->arch);
            return FALSE;
        }
    }
    def->model = sv_xml_text(model);
    if (!def->model && def->host)
        return fail(error, SV_ERR_XML_ERROR, "Missing CPU model name");
    if (!def->host && def->mode != SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->mode != SV_DOMAIN_CPU_MODE_MAXIMUM && fallback &&
        sv_domain_cpu_fallback_from_string(fallback) < 0)
        return fail(error, SV_ERR_CONFIG_UNSUPPORTED, "Invalid fallback attribute");
    def->vendor = sv_xml_child_text(root, "vendor");
    if (def->vendor && !def->model)
        return fail(error, SV_ERR_XML_ERROR, "CPU vendor specified without CPU model");
    return TRUE;
}

/* libvirt refuses features of a custom CPU without a model before reading them. */
static gboolean
parse_features(const xmlNode *root, SvCpuDef *def, GError **error)
{
    if (!def->model && def->mode == SV_DOMAIN_CPU_MODE_CUSTOM && sv_xml_child(root, "feature"))
        return fail(error, SV_ERR_XML_ERROR, "Non-empty feature list specified without CPU model");
    return sv_domain_parse_cpu_features(root, !def->host, def->features, error);
}

SvCpuDef *
sv_cpu_def_parse(const char *xml, gboolean host, GError **error)
{
    g_autoptr(SvCpuDef) def = g_new0(SvCpuDef, 1);
    GError *local = NULL;
    xmlDoc *doc = sv_xml_read_named(xml, "(CPU_definition)", &local);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    gboolean ok;

    if (!doc) {
        /* The reader's errors are the domain parser's; here they are the CPU driver's. */
        local->domain = sv_error_quark(SV_FROM_CPU);
        g_propagate_error(error, local);
        return NULL;
    }
    def->features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    ok = root && sv_xml_is(root, "cpu");
    if (!ok)
        fail(error, SV_ERR_XML_ERROR, "XML does not contain expected 'cpu' element");
    ok = ok && parse_attrs(root, host, def, error) && parse_identity(root, def, error) &&
         parse_features(root, def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}
