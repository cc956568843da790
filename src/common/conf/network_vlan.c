/* network_vlan.c: the <vlan> and <virtualport> of a network, a port group or a port, read
 * with libvirt 9.0's errors (netdev_vlan_conf.c, netdev_vport_profile_conf.c) and kept as
 * the normalized text libvirt writes back. */
#include "conf/network_def_priv.h"

#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

static const char *const native_modes[] = {"tagged", "untagged", NULL};

static gboolean
vlan_error(GError **error, int code, const char *msg)
{
    sv_error_set(error, SV_FROM_NONE, code, "%s", msg);
    return FALSE;
}

/* One <tag>: its id, and its nativeMode when given. */
static gboolean
vlan_tag(const xmlNode *tag, guint *id, const char **native, GError **error)
{
    g_autofree char *idv = sv_xml_prop(tag, "id");
    g_autofree char *mode = sv_xml_prop(tag, "nativeMode");
    guint64 v;

    if (!idv || !sv_domain_parse_u64(idv, &v))
        return vlan_error(error, SV_ERR_XML_ERROR, "missing or invalid vlan tag id attribute");
    if (v > 4095) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR,
                     "vlan tag id %" G_GUINT64_FORMAT " too large (maximum 4095)", v);
        return FALSE;
    }
    *id = (guint)v;
    if (!mode)
        return TRUE;
    for (guint i = 0; native_modes[i]; i++) {
        if (!g_str_equal(native_modes[i], mode))
            continue;
        if (*native)
            return vlan_error(error, SV_ERR_XML_ERROR, "duplicate native vlan setting");
        *native = native_modes[i];
        return TRUE;
    }
    sv_xml_error_invalid_attr(error, tag, "nativeMode", mode);
    return FALSE;
}

static gboolean
vlan_trunk(const xmlNode *node, guint ntags, const char *native, gboolean *trunk,
           GError **error)
{
    g_autofree char *v = sv_xml_prop(node, "trunk");

    *trunk = ntags > 1;
    if (!v || !*v)
        return TRUE;
    *trunk = g_ascii_strcasecmp(v, "yes") == 0;
    if (*trunk)
        return TRUE;
    if (ntags > 1) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR,
                     "invalid \"trunk='%s'\" in <vlan> - trunk='yes' is required for more than "
                     "one vlan tag",
                     v);
        return FALSE;
    }
    if (native)
        return vlan_error(error, SV_ERR_XML_ERROR,
                          "invalid configuration in <vlan> - \"trunk='no'\" is not allowed "
                          "with a native vlan id");
    if (g_ascii_strcasecmp(v, "no") != 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR,
                     "invalid \"trunk='%s'\" in <vlan> - must be yes or no", v);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_net_vlan_parse(const xmlNode *node, char **out, GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GString) s = g_string_new(NULL);
    const char *native = NULL;
    guint native_id = 0;
    gboolean trunk;

    for (xmlNode *c = node->children; c; c = c->next) {
        const char *before = native;
        guint id;

        if (!sv_xml_is(c, "tag"))
            continue;
        if (!vlan_tag(c, &id, &native, error))
            return FALSE;
        if (native != before)
            native_id = id;
        g_array_append_val(ids, id);
    }
    if (ids->len == 0)
        return vlan_error(error, SV_ERR_XML_ERROR,
                          "missing tag id - each <vlan> must have at least one <tag id='n'/> "
                          "subelement");
    if (!vlan_trunk(node, ids->len, native, &trunk, error))
        return FALSE;
    g_string_append_printf(s, "<vlan%s>\n", trunk ? " trunk='yes'" : "");
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);

        /* libvirt marks every tag with the native id, which then does not read back
         * ("duplicate native vlan setting"): only the first is marked here. */
        if (native && id == native_id) {
            g_string_append_printf(s, "  <tag id='%u' nativeMode='%s'/>\n", id, native);
            native = NULL;
        } else {
            g_string_append_printf(s, "  <tag id='%u'/>\n", id);
        }
    }
    g_string_append(s, "</vlan>\n");
    *out = g_string_free(g_steal_pointer(&s), FALSE);
    return TRUE;
}

/* <virtualport type=>'s words, in libvirt's order. */
static const char *const vport_types[] = {"802.1Qbg", "802.1Qbh", "openvswitch", "midonet",
                                          NULL};
/* <parameters> attributes in the order libvirt writes them. */
static const char *const vport_params[] = {"managerid", "typeid",    "typeidversion",
                                           "instanceid", "interfaceid", "profileid", NULL};

gboolean
sv_net_virtualport_parse(const xmlNode *node, gboolean require_type, char **out,
                         GError **error)
{
    g_autofree char *type = sv_xml_prop(node, "type");
    xmlNode *params = sv_xml_child(node, "parameters");
    g_autoptr(GString) s = g_string_new("<virtualport");
    g_autoptr(GString) p = g_string_new(NULL);

    if (type && !g_strv_contains(vport_types, type)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown virtualport type %s", type);
        return FALSE;
    }
    if (!type && require_type) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR, "missing required virtualport type");
        return FALSE;
    }
    for (guint i = 0; params && vport_params[i]; i++) {
        g_autofree char *v = sv_xml_prop(params, vport_params[i]);

        if (v) {
            g_string_append_printf(p, " %s='", vport_params[i]);
            sv_xml_append_escaped(p, v, TRUE);
            g_string_append_c(p, '\'');
        }
    }
    if (type)
        g_string_append_printf(s, " type='%s'", type);
    if (!p->len)
        g_string_append(s, "/>\n");
    else
        g_string_append_printf(s, ">\n  <parameters%s/>\n</virtualport>\n", p->str);
    *out = g_string_free(g_steal_pointer(&s), FALSE);
    return TRUE;
}
