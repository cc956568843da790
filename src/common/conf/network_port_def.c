/* network_port_def.c: a network port's XML (<networkport>) read and written as libvirt
 * 9.0's virnetworkportdef.c does (network_def.h). */
#include "conf/network_def.h"

#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "conf/uuid.h"
#include "util/error.h"

#define NET_ERROR(error, code, ...) sv_error_set(error, SV_FROM_NETWORK, code, __VA_ARGS__)

SV_NETWORK_ENUM_IMPL(port_plug_type, SV_NETWORK_PORT_PLUG_LAST, "none", "network", "bridge",
                     "direct", "hostdev-pci")

static const char *const macvtap_modes[] = {"vepa", "private", "bridge", "passthrough", NULL};

void
sv_network_port_def_free(SvNetworkPortDef *def)
{
    if (!def)
        return;
    g_free(def->owner_name);
    g_free(def->group);
    g_free(def->mac);
    sv_domain_bandwidth_free(def->bandwidth);
    g_free(def->vlan_xml);
    g_free(def->virtualport_xml);
    g_free(def->plug_bridge);
    g_free(def->plug_dev);
    g_free(def->plug_mode);
    g_free(def);
}

static gboolean
parse_uuid(const char *text, const char *missing, guint8 out[16], GError **error)
{
    if (!text) {
        NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "%s", missing);
        return FALSE;
    }
    if (!sv_uuid_parse(text, out)) {
        NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "Unable to parse UUID '%s'", text);
        return FALSE;
    }
    return TRUE;
}

/* <uuid>, <owner>, <group>, <virtualport>, <mac>. */
static gboolean
parse_identity(const xmlNode *root, SvNetworkPortDef *def, GError **error)
{
    g_autofree char *uuid = sv_xml_child_text(root, "uuid");
    xmlNode *owner = sv_xml_child(root, "owner");
    g_autofree char *owner_uuid = owner ? sv_xml_child_text(owner, "uuid") : NULL;
    xmlNode *vport = sv_xml_child(root, "virtualport");
    g_autofree char *mac = sv_xml_child_prop(root, "mac", "address");
    guint8 addr[6];

    if (!parse_uuid(uuid, "network port has no uuid", def->uuid, error))
        return FALSE;
    def->owner_name = owner ? sv_xml_child_text(owner, "name") : NULL;
    if (!def->owner_name) {
        NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "network port has no owner name");
        return FALSE;
    }
    if (!parse_uuid(owner_uuid, "network port has no owner UUID", def->owner_uuid, error))
        return FALSE;
    def->group = sv_xml_child_text(root, "group");
    if (vport && !sv_net_virtualport_parse(vport, FALSE, &def->virtualport_xml, error))
        return FALSE;
    if (!mac) {
        NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "network port has no mac");
        return FALSE;
    }
    if (!sv_net_mac_parse(mac, addr)) {
        NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "Unable to parse MAC '%s'", mac);
        return FALSE;
    }
    def->mac = sv_net_mac_format(addr);
    return TRUE;
}

/* <bandwidth classID=>: the class id is the network driver's; the rest as anywhere else
 * (floor allowed: whether it fits is checked when the port is plugged). */
static gboolean
parse_bandwidth(xmlNode *node, SvNetworkPortDef *def, GError **error)
{
    g_autofree char *class_id = sv_xml_prop(node, "classID");

    if (class_id) {
        if (!sv_domain_parse_uint(class_id, &def->class_id)) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                         "Unable to parse class id '%s'", class_id);
            return FALSE;
        }
        xmlUnsetProp(node, (const xmlChar *)"classID");
    }
    return sv_domain_bandwidth_parse(node, TRUE, &def->bandwidth, error);
}

static gboolean
parse_plug(const xmlNode *plug, SvNetworkPortDef *def, GError **error)
{
    g_autofree char *type = plug ? sv_xml_prop(plug, "type") : NULL;
    g_autofree char *mgr = NULL;

    if (!type)
        return TRUE;
    def->plug_type = sv_network_port_plug_type_from_string(type);
    if (def->plug_type <= 0) {
        def->plug_type = SV_NETWORK_PORT_PLUG_NONE;
        sv_xml_error_invalid_attr(error, plug, "type", type);
        return FALSE;
    }
    switch (def->plug_type) {
    case SV_NETWORK_PORT_PLUG_NETWORK:
    case SV_NETWORK_PORT_PLUG_BRIDGE:
        if (!(def->plug_bridge = sv_xml_prop(plug, "bridge"))) {
            NET_ERROR(error, SV_ERR_XML_ERROR, "Missing network port bridge name");
            return FALSE;
        }
        mgr = sv_xml_prop(plug, "macTableManager");
        if (mgr && (def->plug_mac_table_manager =
                        sv_network_mac_table_manager_from_string(mgr)) <= 0) {
            def->plug_mac_table_manager = 0;
            NET_ERROR(error, SV_ERR_XML_ERROR,
                      "Invalid macTableManager setting '%s' in network port", mgr);
            return FALSE;
        }
        return TRUE;
    case SV_NETWORK_PORT_PLUG_DIRECT:
        if (!(def->plug_dev = sv_xml_prop(plug, "dev"))) {
            NET_ERROR(error, SV_ERR_XML_ERROR, "Missing network port link device name");
            return FALSE;
        }
        def->plug_mode = sv_xml_prop(plug, "mode");
        if (def->plug_mode && !g_strv_contains(macvtap_modes, def->plug_mode)) {
            NET_ERROR(error, SV_ERR_XML_ERROR, "Invalid mode setting '%s' in network port",
                      def->plug_mode);
            return FALSE;
        }
        if (!def->plug_mode)
            def->plug_mode = g_strdup("vepa");
        return TRUE;
    default:
        /* A PCI function handed to the guest: splitvirt has no SR-IOV plumbing. */
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "%s is not supported by splitvirt",
                  "<plug type='hostdev-pci'>");
        return FALSE;
    }
}

static gboolean
parse_port(xmlNode *root, SvNetworkPortDef *def, GError **error)
{
    xmlNode *bw = sv_xml_child(root, "bandwidth");
    xmlNode *vlan = sv_xml_child(root, "vlan");
    xmlNode *port = sv_xml_child(root, "port");
    xmlNode *rx = sv_xml_child(root, "rxfilters");

    if (!parse_identity(root, def, error))
        return FALSE;
    if (bw && !parse_bandwidth(bw, def, error))
        return FALSE;
    if (vlan && !sv_net_vlan_parse(vlan, &def->vlan_xml, error))
        return FALSE;
    if (port && !sv_net_prop_tristate(port, "isolated", &def->isolated, error))
        return FALSE;
    if (rx && !sv_net_prop_tristate(rx, "trustGuest", &def->trust_guest_rx_filters, error))
        return FALSE;
    return parse_plug(sv_xml_child(root, "plug"), def, error);
}

SvNetworkPortDef *
sv_network_port_def_parse(const char *xml, GError **error)
{
    g_autoptr(SvNetworkPortDef) def = g_new0(SvNetworkPortDef, 1);
    xmlDoc *doc = sv_xml_read_named_from(xml, "(networkport_definition)", SV_FROM_NETWORK,
                                         error);
    xmlNode *root;
    gboolean ok = FALSE;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || !g_str_equal((const char *)root->name, "networkport"))
        NET_ERROR(error, SV_ERR_XML_ERROR, "unknown root element for network port");
    else
        ok = parse_port(root, def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

static void
format_bandwidth(GString *buf, const SvNetworkPortDef *def)
{
    g_autofree char *inner = NULL;
    GString *tmp;

    if (!def->bandwidth)
        return;
    if (!def->class_id) {
        sv_domain_bandwidth_format(buf, "  ", def->bandwidth);
        return;
    }
    /* The same element with classID= on it. */
    tmp = g_string_new(NULL);
    sv_domain_bandwidth_format(tmp, "  ", def->bandwidth);
    inner = g_string_free(tmp, FALSE);
    g_string_append_printf(buf, "  <bandwidth classID='%u'%s", def->class_id,
                           inner + strlen("  <bandwidth"));
}

static void
format_plug(GString *buf, const SvNetworkPortDef *def)
{
    if (def->plug_type == SV_NETWORK_PORT_PLUG_NONE)
        return;
    g_string_append_printf(buf, "  <plug type='%s'",
                           sv_network_port_plug_type_to_string(def->plug_type));
    if (def->plug_type == SV_NETWORK_PORT_PLUG_DIRECT) {
        sv_xml_append_attr(buf, "dev", def->plug_dev);
        sv_xml_append_attr(buf, "mode", def->plug_mode ? def->plug_mode : "vepa");
    } else {
        sv_xml_append_attr(buf, "bridge", def->plug_bridge);
        if (def->plug_mac_table_manager)
            sv_xml_append_attr(buf, "macTableManager", sv_network_mac_table_manager_to_string(
                                                           def->plug_mac_table_manager));
    }
    g_string_append(buf, "/>\n");
}

char *
sv_network_port_def_format(const SvNetworkPortDef *def)
{
    GString *buf = g_string_new("<networkport>\n");
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format(def->uuid, uuid);
    sv_xml_append_text_elem(buf, 2, "uuid", uuid);
    g_string_append(buf, "  <owner>\n");
    sv_xml_append_text_elem(buf, 4, "name", def->owner_name);
    sv_uuid_format(def->owner_uuid, uuid);
    sv_xml_append_text_elem(buf, 4, "uuid", uuid);
    g_string_append(buf, "  </owner>\n");
    sv_xml_append_text_elem(buf, 2, "group", def->group);
    g_string_append_printf(buf, "  <mac address='%s'/>\n", def->mac ? def->mac : "");
    sv_net_append_indented(buf, 2, def->virtualport_xml);
    format_bandwidth(buf, def);
    sv_net_append_indented(buf, 2, def->vlan_xml);
    if (def->isolated)
        g_string_append_printf(buf, "  <port isolated='%s'/>\n",
                               sv_net_tristate_to_string(def->isolated));
    if (def->trust_guest_rx_filters)
        g_string_append_printf(buf, "  <rxfilters trustGuest='%s'/>\n",
                               sv_net_tristate_to_string(def->trust_guest_rx_filters));
    format_plug(buf, def);
    g_string_append(buf, "</networkport>\n");
    return g_string_free(buf, FALSE);
}
