/* domain_cpu_model.c: a domain's <cpu> (mode, model, vendor, topology, features), parsed and
 * formatted as libvirt 9.0's cpu_conf.c does. */
#include "conf/domain_conf.h"

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* <cpu>'s attributes, checked as libvirt's virCPUDefParseXML does. */
static gboolean
parse_cpu_attrs(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *mode = sv_xml_prop(node, "mode");
    int match = SV_DOMAIN_CPU_MATCH_EXACT;
    int check = SV_DOMAIN_CPU_CHECK_DEFAULT;
    int migratable = SV_DOMAIN_SWITCH_ABSENT;
    int v = mode ? sv_domain_cpu_mode_from_string(mode) : SV_DOMAIN_CPU_MODE_CUSTOM;

    if (v < 0) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED, "Invalid mode attribute '%s'",
                     mode);
        return FALSE;
    }
    def->cpu_mode = v;
    if (!sv_domain_prop_enum(node, "match", sv_domain_cpu_match_from_string, 0, NULL, FALSE, &match,
                             error) ||
        !sv_domain_prop_enum(node, "check", sv_domain_cpu_check_from_string, 0, NULL, FALSE, &check,
                             error) ||
        !sv_domain_prop_enum(node, "migratable", sv_domain_switch_from_string, 1, NULL, FALSE,
                             &migratable, error))
        return FALSE;
    if (migratable != SV_DOMAIN_SWITCH_ABSENT &&
        def->cpu_mode != SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->cpu_mode != SV_DOMAIN_CPU_MODE_MAXIMUM) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' "
                     "CPU mode");
        return FALSE;
    }
    def->cpu_match = match;
    def->cpu_check = check;
    def->cpu_migratable = migratable;
    return TRUE;
}

static gboolean
parse_cpu_model(const xmlNode *node, SvDomainDef *def, GError **error)
{
    xmlNode *model = sv_xml_child(node, "model");
    g_autofree char *fallback = model ? sv_xml_prop(model, "fallback") : NULL;
    int v;

    if (!model)
        return TRUE;
    v = fallback ? sv_domain_cpu_fallback_from_string(fallback) : SV_DOMAIN_CPU_FALLBACK_ALLOW;
    if (v < 0) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED, "Invalid fallback attribute");
        return FALSE;
    }
    def->cpu_fallback = v;
    def->cpu_model = sv_xml_text(model);
    return TRUE;
}

/* <topology>: sockets, cores and threads required, dies 1 by default, none of them 0. */
static gboolean
parse_cpu_topology(const xmlNode *node, SvDomainDef *def, GError **error)
{
    xmlNode *topo = sv_xml_child(node, "topology");
    const struct {
        const char *attr;
        gboolean required;
        guint *out;
    } attrs[] = {
        {"sockets", TRUE, &def->cpu_sockets},
        {"dies", FALSE, &def->cpu_dies},
        {"cores", TRUE, &def->cpu_cores},
        {"threads", TRUE, &def->cpu_threads},
    };

    if (!topo)
        return TRUE;
    def->cpu_dies = 1;
    for (guint i = 0; i < G_N_ELEMENTS(attrs); i++) {
        if (!sv_domain_prop_uint(topo, attrs[i].attr, attrs[i].required, TRUE, attrs[i].out,
                                 error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_parse_cpu_features(const xmlNode *node, gboolean with_policy, GPtrArray *features,
                             GError **error)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        g_autofree char *policy = NULL;
        g_autofree char *name = NULL;
        SvDomainCpuFeatureDef *f;
        int p = with_policy ? SV_DOMAIN_CPU_FEATURE_REQUIRE : -1;

        if (!sv_xml_is(c, "feature"))
            continue;
        policy = with_policy ? sv_xml_prop(c, "policy") : NULL;
        if (policy && (p = sv_domain_cpu_feature_policy_from_string(policy)) < 0) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Invalid CPU feature policy");
            return FALSE;
        }
        name = sv_xml_prop(c, "name");
        if (!name || !*name) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_XML_ERROR, "Invalid CPU feature name");
            return FALSE;
        }
        for (guint i = 0; i < features->len; i++) {
            if (g_str_equal(((SvDomainCpuFeatureDef *)features->pdata[i])->name, name)) {
                sv_error_set(error, SV_FROM_CPU, SV_ERR_XML_ERROR,
                             "CPU feature '%s' specified more than once", name);
                return FALSE;
            }
        }
        f = g_new0(SvDomainCpuFeatureDef, 1);
        f->name = g_steal_pointer(&name);
        f->policy = p;
        g_ptr_array_add(features, f);
    }
    return TRUE;
}

gboolean
sv_domain_parse_cpu(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "cpu");

    if (!node)
        return TRUE;
    if (!parse_cpu_attrs(node, def, error) || !parse_cpu_model(node, def, error))
        return FALSE;
    /* libvirt keeps a model with host-model as its fallback, which splitvirt does not use. */
    if (def->cpu_model && def->cpu_mode != SV_DOMAIN_CPU_MODE_CUSTOM) {
        sv_domain_error_unsupported(error, "<model> in <cpu> with a mode other than 'custom'");
        return FALSE;
    }
    def->cpu_vendor = sv_xml_child_text(node, "vendor");
    if (!parse_cpu_topology(node, def, error) || !sv_domain_parse_cpu_features(node, TRUE, def->cpu_features, error))
        return FALSE;
    if (def->cpu_vendor && !def->cpu_model) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_XML_ERROR,
                     "CPU vendor specified without CPU model");
        return FALSE;
    }
    if (!def->cpu_model && def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM &&
        def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "check attribute specified for CPU with no model");
        return FALSE;
    }
    return TRUE;
}

/* ---- formatting --------------------------------------------------------------------------- */

/* The children of <cpu>, in libvirt's order: model, vendor, topology, features. */
static void
format_cpu_children(GString *buf, const SvDomainDef *def)
{
    if (def->cpu_model) {
        g_string_append_printf(buf, "    <model fallback='%s'>",
                               sv_domain_cpu_fallback_to_string(def->cpu_fallback));
        sv_xml_append_escaped(buf, def->cpu_model, FALSE);
        g_string_append(buf, "</model>\n");
    }
    sv_xml_append_text_elem(buf, 4, "vendor", def->cpu_vendor);
    if (def->cpu_sockets)
        g_string_append_printf(buf,
                               "    <topology sockets='%u' dies='%u' cores='%u' threads='%u'/>\n",
                               def->cpu_sockets, def->cpu_dies, def->cpu_cores,
                               def->cpu_threads);
    for (guint i = 0; i < def->cpu_features->len; i++) {
        const SvDomainCpuFeatureDef *f = def->cpu_features->pdata[i];

        g_string_append_printf(buf, "    <feature policy='%s'",
                               sv_domain_cpu_feature_policy_to_string(f->policy));
        sv_xml_append_attr(buf, "name", f->name);
        g_string_append(buf, "/>\n");
    }
}

void
sv_domain_format_cpu(GString *buf, const SvDomainDef *def)
{
    gboolean custom = def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM;
    g_autoptr(GString) children = g_string_new(NULL);

    format_cpu_children(children, def);
    /* A custom <cpu> without a model has no attributes; without children it says nothing. */
    if (custom && !def->cpu_model) {
        if (children->len)
            g_string_append_printf(buf, "  <cpu>\n%s  </cpu>\n", children->str);
        return;
    }
    g_string_append_printf(buf, "  <cpu mode='%s'", sv_domain_cpu_mode_to_string(def->cpu_mode));
    if (custom)
        sv_xml_append_attr(buf, "match", sv_domain_cpu_match_to_string(def->cpu_match));
    if (def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT)
        sv_xml_append_attr(buf, "check", sv_domain_cpu_check_to_string(def->cpu_check));
    if (def->cpu_migratable != SV_DOMAIN_SWITCH_ABSENT)
        sv_xml_append_attr(buf, "migratable", sv_domain_switch_to_string(def->cpu_migratable));
    if (!children->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n%s  </cpu>\n", children->str);
}
