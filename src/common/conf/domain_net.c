/* domain_net.c: <interface> of libvirt domain XML (types user, ethernet, bridge, direct,
 * network):
 * its string tables, parser, formatter and MAC generation, as libvirt 9.0's
 * virDomainNetDefParseXML/virDomainNetDefFormat behave for these types. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "conf/uuid.h"
#include "util/error.h"

/* Types libvirt 9.0.0 knows and splitvirt does not implement: refused as unsupported. */
#define UNSUPPORTED_NET_TYPES                                                                  \
    "vhostuser server client mcast internal hostdev udp vdpa null vds"

/* libvirt accepts any model name made of these (it reaches a command line). */
#define NET_MODEL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

/* ---- string tables ------------------------------------------------------------------- */

SV_DOMAIN_ENUM_IMPL(net_type, SV_DOMAIN_NET_TYPE_LAST, "user", "ethernet", "bridge", "direct",
                    "network")
SV_DOMAIN_ENUM_IMPL(net_backend, SV_DOMAIN_NET_BACKEND_LAST, "default", "qemu", "vhost")
SV_DOMAIN_ENUM_IMPL(net_macvtap_mode, SV_DOMAIN_NET_MACVTAP_LAST, "vepa", "private", "bridge",
              "passthrough")
SV_DOMAIN_ENUM_IMPL(net_link_state, SV_DOMAIN_NET_LINK_LAST, "default", "up", "down")

/* yes/no and on/off attributes as SvDomainSwitch (ON first). */
static int
yes_no_from_string(const char *s)
{
    return g_strcmp0(s, "yes") == 0 ? SV_DOMAIN_SWITCH_ON
           : g_strcmp0(s, "no") == 0 ? SV_DOMAIN_SWITCH_OFF
                                     : -1;
}

static int
on_off_from_string(const char *s)
{
    return g_strcmp0(s, "on") == 0 ? SV_DOMAIN_SWITCH_ON
           : g_strcmp0(s, "off") == 0 ? SV_DOMAIN_SWITCH_OFF
                                      : -1;
}

void
sv_domain_net_def_free(gpointer p)
{
    SvDomainNetDef *n = p;

    if (!n)
        return;
    sv_domain_device_info_clear(&n->info);
    g_free(n->mac);
    g_free(n->model);
    g_free(n->source);
    g_free(n->target_dev);
    g_free(n->rom_file);
    sv_domain_bandwidth_free(n->bandwidth);
    g_free(n->network);
    g_free(n->portgroup);
    sv_domain_net_clear_actual(n);
    g_free(n);
}

void
sv_domain_net_clear_actual(SvDomainNetDef *net)
{
    g_clear_pointer(&net->portid, g_free);
    g_clear_pointer(&net->actual_bridge, g_free);
    g_clear_pointer(&net->actual_bandwidth, sv_domain_bandwidth_free);
    net->actual_type = SV_DOMAIN_NET_TYPE_USER;
}

const SvDomainBandwidth *
sv_domain_net_bandwidth(const SvDomainNetDef *net)
{
    return net->actual_bandwidth ? net->actual_bandwidth : net->bandwidth;
}

const char *
sv_domain_net_bridge(const SvDomainNetDef *net)
{
    if (net->type == SV_DOMAIN_NET_TYPE_BRIDGE)
        return net->source;
    return net->type == SV_DOMAIN_NET_TYPE_NETWORK ? net->actual_bridge : NULL;
}

/* ---- MAC addresses ------------------------------------------------------------------- */

static GRand *mac_rand;

void
sv_domain_net_seed_mac(guint32 seed)
{
    g_clear_pointer(&mac_rand, g_rand_free);
    mac_rand = g_rand_new_with_seed(seed);
}

char *
sv_domain_net_generate_mac(void)
{
    guint32 r = mac_rand ? g_rand_int(mac_rand) : g_random_int();

    return g_strdup_printf("52:54:00:%02x:%02x:%02x", (r >> 16) & 0xff, (r >> 8) & 0xff,
                           r & 0xff);
}

static gboolean
parse_mac(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    g_autofree char *address = sv_xml_child_prop(node, "mac", "address");
    guint8 mac[6];

    if (!address)
        return TRUE;
    if (!sv_net_mac_parse(address, mac)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "unable to parse mac address '%s'",
                     address);
        return FALSE;
    }
    if (mac[0] & 1) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "expected unicast mac address, found multicast '%s'", address);
        return FALSE;
    }
    net->mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                               mac[4], mac[5]);
    return TRUE;
}

/* ---- parsing ------------------------------------------------------------------------- */

/* An attribute that is either absent or a non-negative number, with virXMLPropUInt's error. */
static gboolean
parse_uint_attr(const xmlNode *node, const char *attr, guint *out, GError **error)
{
    g_autofree char *v = node ? sv_xml_prop(node, attr) : NULL;

    if (!v)
        return TRUE;
    if (!sv_domain_parse_uint(v, out)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    return TRUE;
}

/* A status file's <actual type=><source bridge=/></actual>: what the network's port gave
 * (libvirt's own form of it). */
static gboolean
parse_actual(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    xmlNode *actual = sv_xml_child(node, "actual");
    g_autofree char *type = actual ? sv_xml_prop(actual, "type") : NULL;
    int t = type ? sv_domain_net_type_from_string(type) : -1;
    xmlNode *source;
    xmlNode *bw;

    if (!actual)
        return TRUE;
    if (t != SV_DOMAIN_NET_TYPE_NETWORK && t != SV_DOMAIN_NET_TYPE_BRIDGE) {
        sv_xml_error_invalid_attr(error, actual, "type", type ? type : "");
        return FALSE;
    }
    source = sv_xml_child(actual, "source");
    net->actual_bridge = source ? sv_xml_prop(source, "bridge") : NULL;
    if (!net->actual_bridge) {
        sv_xml_error_missing_attr(error, source ? source : actual, "bridge");
        return FALSE;
    }
    net->actual_type = t;
    bw = sv_xml_child(actual, "bandwidth");
    return !bw || sv_domain_bandwidth_parse(bw, TRUE, &net->actual_bandwidth, error);
}

/* <source network= portgroup= portid=>: the port's id is live state, read back from a
 * status file (or a live XML given to a detach) and ignored in a new definition, as libvirt
 * ignores it there; a <source bridge=> here is the live XML's and never read. */
static gboolean
parse_network_source(const xmlNode *node, const xmlNode *source, SvDomainNetDef *net,
                     guint flags, GError **error)
{
    g_autofree char *portid = NULL;
    guint8 uuid[16];
    char text[SV_UUID_STRING_LEN + 1];

    net->network = sv_xml_prop(source, "network");
    if (!net->network) {
        sv_xml_error_missing_attr(error, source, "network");
        return FALSE;
    }
    net->portgroup = sv_xml_prop(source, "portgroup");
    if (flags & SV_DOMAIN_PARSE_INACTIVE)
        return TRUE;
    portid = sv_xml_prop(source, "portid");
    if (portid) {
        if (!sv_uuid_parse(portid, uuid)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "Unable to parse port id '%s'", portid);
            return FALSE;
        }
        sv_uuid_format(uuid, text);
        net->portid = g_strdup(text);
    }
    return !(flags & SV_DOMAIN_PARSE_STATUS) || parse_actual(node, net, error);
}

static gboolean
parse_source(const xmlNode *node, SvDomainNetDef *net, guint flags, GError **error)
{
    xmlNode *source = sv_xml_child(node, "source");
    const char *attr = net->type == SV_DOMAIN_NET_TYPE_BRIDGE ? "bridge" : "dev";
    int mode = SV_DOMAIN_NET_MACVTAP_VEPA;

    if (net->type != SV_DOMAIN_NET_TYPE_BRIDGE && net->type != SV_DOMAIN_NET_TYPE_DIRECT &&
        net->type != SV_DOMAIN_NET_TYPE_NETWORK)
        return TRUE;
    if (!source) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "interface type='%s' requires a 'source' element",
                     sv_domain_net_type_to_string(net->type));
        return FALSE;
    }
    if (net->type == SV_DOMAIN_NET_TYPE_NETWORK)
        return parse_network_source(node, source, net, flags, error);
    net->source = sv_xml_prop(source, attr);
    if (!net->source) {
        sv_xml_error_missing_attr(error, source, attr);
        return FALSE;
    }
    if (net->type == SV_DOMAIN_NET_TYPE_DIRECT &&
        !sv_domain_prop_enum(source, "mode", sv_domain_net_macvtap_mode_from_string, 0, NULL,
                             FALSE, &mode, error))
        return FALSE;
    net->source_mode = mode;
    return TRUE;
}

static gboolean
parse_target(const xmlNode *node, SvDomainNetDef *net, guint flags, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");
    g_autofree char *managed = target ? sv_xml_prop(target, "managed") : NULL;
    int v;

    if (!target)
        return TRUE;
    if (managed) {
        v = yes_no_from_string(managed);
        if (v < 0) {
            sv_xml_error_invalid_attr(error, target, "managed", managed);
            return FALSE;
        }
        net->target_unmanaged = v == SV_DOMAIN_SWITCH_OFF;
    }
    net->target_dev = sv_xml_prop(target, "dev");
    if (net->target_dev && !*net->target_dev)
        g_clear_pointer(&net->target_dev, g_free);
    /* A name the daemon made up for a tap or macvtap it created is live state: a new
     * definition forgets it, as libvirt does (its prefixes "vnet", "macvtap", "macvlan"). */
    if (net->target_dev && (flags & SV_DOMAIN_PARSE_INACTIVE) && !net->target_unmanaged &&
        (g_str_has_prefix(net->target_dev, "vnet") ||
         g_str_has_prefix(net->target_dev, "macvtap") ||
         g_str_has_prefix(net->target_dev, "macvlan")))
        g_clear_pointer(&net->target_dev, g_free);
    return TRUE;
}

static gboolean
parse_switch(const xmlNode *node, const char *attr, int (*from_string)(const char *),
             SvDomainSwitch *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    int s;

    if (!v)
        return TRUE;
    s = from_string(v);
    if (s < 0) {
        sv_xml_error_invalid_attr(error, node, attr, v);
        return FALSE;
    }
    *out = s;
    return TRUE;
}

/* <driver>, <mtu>, <link>, <rom>. */
static gboolean
parse_tuning(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    xmlNode *driver = sv_xml_child(node, "driver");
    xmlNode *rom = sv_xml_child(node, "rom");
    g_autofree char *mtu = sv_xml_child_prop(node, "mtu", "size");
    g_autofree char *link = sv_xml_child_prop(node, "link", "state");
    int backend = SV_DOMAIN_NET_BACKEND_DEFAULT;

    if (driver &&
        (!sv_domain_prop_enum(driver, "name", sv_domain_net_backend_from_string, 1, NULL,
                              FALSE, &backend, error) ||
         !parse_uint_attr(driver, "queues", &net->queues, error) ||
         !parse_uint_attr(driver, "rx_queue_size", &net->rx_queue_size, error) ||
         !parse_uint_attr(driver, "tx_queue_size", &net->tx_queue_size, error)))
        return FALSE;
    net->backend = backend;
    if (mtu && !sv_domain_parse_uint(mtu, &net->mtu)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "malformed mtu size");
        return FALSE;
    }
    if (link) {
        int state = sv_domain_net_link_state_from_string(link);
        if (state <= SV_DOMAIN_NET_LINK_DEFAULT) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown interface link state '%s'", link);
            return FALSE;
        }
        net->link = state;
    }
    if (rom) {
        if (!parse_switch(rom, "bar", on_off_from_string, &net->rom_bar, error) ||
            !parse_switch(rom, "enabled", yes_no_from_string, &net->rom_enabled, error))
            return FALSE;
        net->rom_file = sv_xml_prop(rom, "file");
    }
    return TRUE;
}

/* <bandwidth>: the first one, as libvirt; <inbound floor=> belongs to network interfaces
 * (the network reserves it for the port). */
static gboolean
parse_bandwidth(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    xmlNode *bw = sv_xml_child(node, "bandwidth");

    return !bw || sv_domain_bandwidth_parse(bw, net->type == SV_DOMAIN_NET_TYPE_NETWORK,
                                            &net->bandwidth, error);
}

/* libvirt's define-time checks of one interface (virDomainNetDefValidate and the ROM part
 * of virDomainDeviceInfoValidate). */
static gboolean
validate(const SvDomainNetDef *net, GError **error)
{
    if (net->rom_enabled == SV_DOMAIN_SWITCH_OFF &&
        (net->rom_bar != SV_DOMAIN_SWITCH_ABSENT || net->rom_file)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "ROM tuning is not supported when ROM is disabled");
        return FALSE;
    }
    if (net->target_unmanaged && net->type != SV_DOMAIN_NET_TYPE_ETHERNET) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unmanaged target dev is not supported on interfaces of type '%s'",
                     sv_domain_net_type_to_string(net->type));
        return FALSE;
    }
    /* As libvirt: a model it does not know is taken, but only as one plain word (it ends
     * up in a hypervisor's command line). */
    if (net->model && strspn(net->model, NET_MODEL_CHARS) < strlen(net->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                     "Model name contains invalid characters");
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_net_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainNetDef) net = g_new0(SvDomainNetDef, 1);
    guint info_flags = SV_DEVICE_INFO_BOOT |
                       ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS);
    int type = SV_DOMAIN_NET_TYPE_USER;

    if (!sv_domain_prop_enum(node, "type", sv_domain_net_type_from_string, 0,
                             UNSUPPORTED_NET_TYPES, FALSE, &type, error))
        return FALSE;
    net->type = type;
    if (!parse_mac(node, net, error) || !parse_source(node, net, flags, error) ||
        !parse_target(node, net, flags, error) || !parse_tuning(node, net, error) ||
        !parse_bandwidth(node, net, error) ||
        !sv_domain_device_info_parse(node, &net->info, info_flags, error))
        return FALSE;
    net->model = sv_xml_child_prop(node, "model", "type");
    if (!validate(net, error))
        return FALSE;
    g_ptr_array_add(def->interfaces, g_steal_pointer(&net));
    return TRUE;
}

/* ---- formatting ---------------------------------------------------------------------- */

static void
format_rom(GString *buf, const SvDomainNetDef *net)
{
    if (!net->rom_bar && !net->rom_enabled && !net->rom_file)
        return;
    g_string_append(buf, "      <rom");
    if (net->rom_enabled)
        sv_xml_append_attr(buf, "enabled", net->rom_enabled == SV_DOMAIN_SWITCH_ON ? "yes" : "no");
    if (net->rom_bar)
        sv_xml_append_attr(buf, "bar", net->rom_bar == SV_DOMAIN_SWITCH_ON ? "on" : "off");
    sv_xml_append_attr(buf, "file", net->rom_file);
    g_string_append(buf, "/>\n");
}

/* libvirt writes <rom> between the device's <alias> and its <address>: the shared writer
 * is called twice on shallow views of the info (nothing is owned by the copies). */
static void
format_info_and_rom(GString *buf, const SvDomainNetDef *net, guint flags)
{
    SvDomainDeviceInfo head = net->info;
    SvDomainDeviceInfo tail = {0};

    head.addr.type = SV_DOMAIN_ADDRESS_NONE;
    sv_domain_device_info_format(buf, 6, &head, flags);
    format_rom(buf, net);
    tail.addr = net->info.addr;
    sv_domain_device_info_format(buf, 6, &tail, flags);
}

static void
format_driver(GString *buf, const SvDomainNetDef *net)
{
    if (!net->backend && !net->queues && !net->rx_queue_size && !net->tx_queue_size)
        return;
    g_string_append(buf, "      <driver");
    if (net->backend)
        sv_xml_append_attr(buf, "name", sv_domain_net_backend_to_string(net->backend));
    if (net->queues)
        g_string_append_printf(buf, " queues='%u'", net->queues);
    if (net->rx_queue_size)
        g_string_append_printf(buf, " rx_queue_size='%u'", net->rx_queue_size);
    if (net->tx_queue_size)
        g_string_append_printf(buf, " tx_queue_size='%u'", net->tx_queue_size);
    g_string_append(buf, "/>\n");
}

/* <source network= portgroup= portid= bridge=> as libvirt writes it: the port's id on live
 * XML and status files, its bridge on live XML; a status file keeps the plug as libvirt's
 * <actual>. */
static void
format_network_source(GString *buf, const SvDomainNetDef *net, guint flags)
{
    gboolean inactive = flags & SV_DOMAIN_FORMAT_INACTIVE;
    gboolean status = flags & SV_DOMAIN_FORMAT_STATUS;

    g_string_append(buf, "      <source");
    sv_xml_append_attr(buf, "network", net->network);
    sv_xml_append_attr(buf, "portgroup", net->portgroup);
    if (!inactive) {
        sv_xml_append_attr(buf, "portid", net->portid);
        if (!status)
            sv_xml_append_attr(buf, "bridge", net->actual_bridge);
    }
    g_string_append(buf, "/>\n");
    if (inactive || !status || !net->actual_bridge)
        return;
    g_string_append_printf(buf, "      <actual type='%s'>\n",
                           sv_domain_net_type_to_string(net->actual_type));
    g_string_append(buf, "        <source");
    sv_xml_append_attr(buf, "bridge", net->actual_bridge);
    g_string_append(buf, "/>\n");
    sv_domain_bandwidth_format(buf, "        ", net->actual_bandwidth);
    g_string_append(buf, "      </actual>\n");
}

void
sv_domain_net_format(GString *buf, const SvDomainNetDef *net, guint flags)
{
    gboolean live = !(flags & (SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_STATUS));
    /* libvirt's live XML shows the port's kind: a host bridge's port as type 'bridge'. */
    int type = live && net->type == SV_DOMAIN_NET_TYPE_NETWORK && net->actual_bridge
                   ? net->actual_type
                   : net->type;

    g_string_append_printf(buf, "    <interface type='%s'>\n", sv_domain_net_type_to_string(type));
    if (net->mac) {
        g_string_append(buf, "      <mac");
        sv_xml_append_attr(buf, "address", net->mac);
        g_string_append(buf, "/>\n");
    }
    if (net->type == SV_DOMAIN_NET_TYPE_NETWORK)
        format_network_source(buf, net, flags);
    if (net->source) {
        g_string_append(buf, "      <source");
        if (net->type == SV_DOMAIN_NET_TYPE_BRIDGE) {
            sv_xml_append_attr(buf, "bridge", net->source);
        } else {
            sv_xml_append_attr(buf, "dev", net->source);
            sv_xml_append_attr(buf, "mode", sv_domain_net_macvtap_mode_to_string(net->source_mode));
        }
        g_string_append(buf, "/>\n");
    }
    /* libvirt's live XML shows the rates of the port (its public view of the actual
     * device); the definition and the status file keep the interface's own. */
    sv_domain_bandwidth_format(buf, "      ",
                               live ? sv_domain_net_bandwidth(net) : net->bandwidth);
    if (net->target_dev || net->target_unmanaged) {
        g_string_append(buf, "      <target");
        sv_xml_append_attr(buf, "dev", net->target_dev);
        if (net->target_unmanaged)
            g_string_append(buf, " managed='no'");
        g_string_append(buf, "/>\n");
    }
    if (net->model) {
        g_string_append(buf, "      <model");
        sv_xml_append_attr(buf, "type", net->model);
        g_string_append(buf, "/>\n");
    }
    format_driver(buf, net);
    if (net->link)
        g_string_append_printf(buf, "      <link state='%s'/>\n",
                               sv_domain_net_link_state_to_string(net->link));
    if (net->mtu)
        g_string_append_printf(buf, "      <mtu size='%u'/>\n", net->mtu);
    format_info_and_rom(buf, net, flags);
    g_string_append(buf, "    </interface>\n");
}

/* ---- for drivers that take plain interfaces only ------------------------------------- */

const char *
sv_domain_net_tuning_name(const SvDomainNetDef *net)
{
    if (net->target_unmanaged)
        return "<target managed='no'>";
    if (net->backend || net->queues || net->rx_queue_size || net->tx_queue_size)
        return "<driver>";
    if (net->mtu)
        return "<mtu>";
    if (net->link)
        return "<link>";
    if (net->rom_bar || net->rom_enabled || net->rom_file)
        return "<rom>";
    if (net->bandwidth)
        return "<bandwidth>";
    return NULL;
}
