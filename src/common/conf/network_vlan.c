/* network_vlan.c: the <vlan> and <virtualport> of a network, a port group or a port, read
 * with libvirt 9.0's checks and errors (netdev_vlan_conf.c, netdev_vport_profile_conf.c,
 * virNetDevVPortProfileCheckNoExtras) and kept as the normalized text libvirt writes back. */
#include "conf/network_def_priv.h"

#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/uuid.h"
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

/* <virtualport type=>, libvirt's virNetDevVPortProfileType (0: none given). */
enum { VPORT_NONE, VPORT_QBG, VPORT_QBH, VPORT_OVS, VPORT_MIDONET };
static const char *const vport_types[] = {"none", "802.1Qbg", "802.1Qbh", "openvswitch",
                                          "midonet", NULL};

/* The <parameters>, in the order libvirt writes them, with the types each belongs to
 * (bits of 1 << type; VPORT_NONE takes them all). */
enum { P_MANAGER, P_TYPEID, P_TYPEIDVERSION, P_INSTANCE, P_INTERFACE, P_PROFILE, P_LAST };
static const struct {
    const char *name;
    unsigned int types;
    guint max; /* numbers: the largest value; 0: a UUID or a string */
} vport_params[P_LAST] = {
    [P_MANAGER] = {"managerid", 1 << VPORT_QBG, 0xff},
    [P_TYPEID] = {"typeid", 1 << VPORT_QBG, 0xffffff},
    [P_TYPEIDVERSION] = {"typeidversion", 1 << VPORT_QBG, 0xff},
    [P_INSTANCE] = {"instanceid", 1 << VPORT_QBG, 0},
    [P_INTERFACE] = {"interfaceid", 1 << VPORT_OVS | 1 << VPORT_MIDONET, 0},
    [P_PROFILE] = {"profileid", 1 << VPORT_QBH | 1 << VPORT_OVS, 0},
};

/* libvirt's profile id buffer (IFLA_VF_PORT_PROFILE_MAX, with its NUL). */
#define VPORT_PROFILE_MAX 40

static gboolean
vport_xml_error(GError **error, const char *msg)
{
    return vlan_error(error, SV_ERR_XML_ERROR, msg);
}

/* One parameter's value, normalized as libvirt writes it back (numbers in decimal, UUIDs
 * in lowercase). */
static gboolean
vport_param(int k, const char *v, char **out, GError **error)
{
    g_autofree char *msg = NULL;
    guint8 uuid[16];
    char text[SV_UUID_STRING_LEN + 1];
    guint64 n;
    char *end = NULL;

    if (vport_params[k].max) {
        n = g_ascii_strtoull(v, &end, 0);
        if (end == v || *end || n > G_MAXUINT) {
            msg = g_strdup_printf("cannot parse value of %s parameter", vport_params[k].name);
            return vport_xml_error(error, msg);
        }
        if (n > vport_params[k].max) {
            msg = g_strdup_printf(k == P_TYPEID ? "value for %s out of range"
                                                : "value of %s out of range",
                                  vport_params[k].name);
            return vport_xml_error(error, msg);
        }
        *out = g_strdup_printf("%" G_GUINT64_FORMAT, n);
        return TRUE;
    }
    if (k == P_PROFILE) {
        if (strlen(v) >= VPORT_PROFILE_MAX)
            return vport_xml_error(error, "profileid parameter too long");
        *out = g_strdup(v);
        return TRUE;
    }
    if (!sv_uuid_parse(v, uuid)) {
        msg = g_strdup_printf("cannot parse %s parameter as a uuid", vport_params[k].name);
        return vport_xml_error(error, msg);
    }
    sv_uuid_format(uuid, text);
    *out = g_strdup(text);
    return TRUE;
}

static gboolean
vport_type(const xmlNode *node, gboolean require_type, int *type, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, "type");

    *type = VPORT_NONE;
    for (int i = 1; v && vport_types[i]; i++) {
        if (g_str_equal(vport_types[i], v))
            *type = i;
    }
    if (v && *type == VPORT_NONE) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown virtualport type %s", v);
        return FALSE;
    }
    if (*type == VPORT_NONE && require_type)
        return vport_xml_error(error, "missing required virtualport type");
    return TRUE;
}

gboolean
sv_net_virtualport_parse(const xmlNode *node, gboolean require_type, char **out,
                         GError **error)
{
    xmlNode *params = sv_xml_child(node, "parameters");
    g_autoptr(GString) s = g_string_new("<virtualport");
    char *values[P_LAST] = {NULL};
    gboolean ok = TRUE, any = FALSE;
    int type;

    if (!vport_type(node, require_type, &type, error))
        return FALSE;
    for (int k = 0; ok && params && k < P_LAST; k++) {
        g_autofree char *v = sv_xml_prop(params, vport_params[k].name);

        ok = !v || vport_param(k, v, &values[k], error);
    }
    /* libvirt's virNetDevVPortProfileCheckNoExtras: a parameter of another type. */
    for (int k = 0; ok && type != VPORT_NONE && k < P_LAST; k++) {
        if (values[k] && !(vport_params[k].types & (1u << type))) {
            sv_error_set(error, SV_FROM_NET, SV_ERR_XML_ERROR,
                         "extra %s unsupported in <virtualport type='%s'>",
                         vport_params[k].name, vport_types[type]);
            ok = FALSE;
        }
    }
    if (type != VPORT_NONE)
        g_string_append_printf(s, " type='%s'", vport_types[type]);
    for (int k = 0; k < P_LAST; k++)
        any |= values[k] != NULL;
    g_string_append(s, any ? ">\n  <parameters" : "/>\n");
    for (int k = 0; any && k < P_LAST; k++) {
        if (!values[k])
            continue;
        g_string_append_printf(s, " %s='", vport_params[k].name);
        sv_xml_append_escaped(s, values[k], TRUE);
        g_string_append_c(s, '\'');
    }
    if (any)
        g_string_append(s, "/>\n</virtualport>\n");
    for (int k = 0; k < P_LAST; k++)
        g_free(values[k]);
    if (ok)
        *out = g_string_free(g_steal_pointer(&s), FALSE);
    return ok;
}
