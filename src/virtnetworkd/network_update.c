/* network_update.c: NETWORK_UPDATE (`virsh net-update`) as libvirt 9.0's network driver
 * serves it (virNetworkObjUpdate, virNetworkDefUpdateSection): a DHCP host or range, a DNS
 * host, TXT or SRV record, or a port group added, modified or deleted in the live definition,
 * the persistent one or both. The change is made on the definition's XML tree (the element
 * placed, replaced or removed there), and the result is read again by the network parser, as
 * libvirt's final format/parse check does: what the parser refuses never gets in. A running
 * network's dnsmasq is told about DHCP and DNS changes. */
#include <gio/gio.h>
#include <string.h>

#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "network_driver.h"
#include "util/error.h"

/* One update: the command, the fragment's element (in the tree being changed), the network's
 * name for messages. */
typedef struct {
    unsigned int command;
    int parent_index;
    const char *net_name;
    xmlDoc *doc;      /* the definition's tree */
    xmlNode *root;    /* its <network> */
    xmlNode *frag;    /* the fragment, copied into doc (not yet linked) */
} Update;

static gboolean
is_add(const Update *u)
{
    return u->command == SV_NETWORK_UPDATE_COMMAND_ADD_FIRST ||
           u->command == SV_NETWORK_UPDATE_COMMAND_ADD_LAST;
}

static gboolean
fail(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail(GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sv_error_set(error, SV_FROM_NETWORK, code, "%s", msg);
    return FALSE;
}

static gboolean
unknown_command(const Update *u, GError **error)
{
    return fail(error, SV_ERR_OPERATION_UNSUPPORTED, "unrecognized network update command code %d",
                u->command);
}

/* ---------------------------------------------------------------- comparisons */

/* libvirt's virMacAddrCompare: the same six octets, however written. */
static gboolean
mac_equal(const char *a, const char *b)
{
    guint8 x[6], y[6];

    if (!sv_net_mac_parse(a, x) || !sv_net_mac_parse(b, y))
        return g_ascii_strcasecmp(a, b) == 0;
    return memcmp(x, y, sizeof(x)) == 0;
}

/* Two addresses the same (both valid); an absent or unreadable one equals nothing. */
static gboolean
ip_equal(const char *a, const char *b)
{
    g_autoptr(GInetAddress) x = a ? g_inet_address_new_from_string(a) : NULL;
    g_autoptr(GInetAddress) y = b ? g_inet_address_new_from_string(b) : NULL;

    return x && y && g_inet_address_equal(x, y);
}

static gboolean
ip_valid(const char *a)
{
    g_autoptr(GInetAddress) x = a ? g_inet_address_new_from_string(a) : NULL;

    return x != NULL;
}

static gboolean
str_eq(const char *a, const char *b)
{
    return g_strcmp0(a, b) == 0;
}

/* The family of an address (or of an <ip>'s): 6 for IPv6, 4 for IPv4, 0 when unreadable. */
static int
family_of(const char *addr)
{
    g_autoptr(GInetAddress) x = addr ? g_inet_address_new_from_string(addr) : NULL;

    if (!x)
        return 0;
    return g_inet_address_get_family(x) == G_SOCKET_FAMILY_IPV6 ? 6 : 4;
}

static int
ip_node_family(const xmlNode *ip)
{
    g_autofree char *family = sv_xml_prop(ip, "family");
    g_autofree char *addr = sv_xml_prop(ip, "address");

    if (family)
        return g_str_equal(family, "ipv6") ? 6 : 4;
    return family_of(addr) == 6 ? 6 : 4;
}

/* ---------------------------------------------------------------- the tree */

/* The element children of `parent` named `name`, in order. (transfer container) */
static GPtrArray *
children(xmlNode *parent, const char *name)
{
    GPtrArray *out = g_ptr_array_new();

    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && sv_xml_is(c, name))
            g_ptr_array_add(out, c);
    }
    return out;
}

/* The child `name` of parent, made (appended) when missing. */
static xmlNode *
child_made(xmlNode *parent, const char *name)
{
    xmlNode *c = sv_xml_child(parent, name);

    return c ? c : xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

/* Put the fragment among `list` (the elements of its kind, all children of parent): first,
 * last, or in place of `replace`. */
static void
place(Update *u, xmlNode *parent, GPtrArray *list, xmlNode *replace)
{
    xmlNode *frag = g_steal_pointer(&u->frag);

    if (replace) {
        xmlReplaceNode(replace, frag);
        xmlFreeNode(replace);
    } else if (u->command == SV_NETWORK_UPDATE_COMMAND_ADD_FIRST && list->len) {
        xmlAddPrevSibling(list->pdata[0], frag);
    } else if (list->len) {
        xmlAddNextSibling(list->pdata[list->len - 1], frag);
    } else {
        xmlAddChild(parent, frag);
    }
}

/* libvirt parses the element before it looks for matches: the fragment is read here the
 * same way, as a child of `parent` in a copy of the definition given to the parser, whose
 * refusal (a host without an address...) is the answer. */
static gboolean
validate_in(Update *u, xmlNode *parent, GError **error)
{
    xmlNode *copy = xmlDocCopyNode(u->frag, u->doc, 1);
    g_autofree char *text = NULL;
    SvNetworkDef *def;

    xmlAddChild(parent, copy);
    text = sv_xml_node_dump(u->doc, u->root, 0);
    xmlUnlinkNode(copy);
    xmlFreeNode(copy);
    if (!(def = sv_network_def_parse(text, 0, error)))
        return FALSE;
    sv_network_def_free(def);
    return TRUE;
}

static void
drop(xmlNode *node)
{
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

/* ---------------------------------------------------------------- <ip><dhcp> */

static gboolean
ip_has_dhcp_entries(xmlNode *ip)
{
    xmlNode *dhcp = sv_xml_child(ip, "dhcp");

    return dhcp && (sv_xml_child(dhcp, "range") || sv_xml_child(dhcp, "host"));
}

/* libvirt's virNetworkIPDefByIndex: the <ip> at parent_index, or (-1) the one with DHCP
 * entries, else the first IPv4, else the first IPv6. */
static xmlNode *
ip_by_index(Update *u, GError **error)
{
    g_autoptr(GPtrArray) ips = children(u->root, "ip");

    if (u->parent_index >= 0) {
        if ((guint)u->parent_index < ips->len)
            return ips->pdata[u->parent_index];
        fail(error, SV_ERR_OPERATION_INVALID,
             "couldn't update dhcp host entry - no <ip> element found at index %d in network "
             "'%s'", u->parent_index, u->net_name);
        return NULL;
    }
    for (guint i = 0; i < ips->len; i++) {
        if (ip_has_dhcp_entries(ips->pdata[i]))
            return ips->pdata[i];
    }
    for (int fam = 4; fam <= 6; fam += 2) {
        for (guint i = 0; i < ips->len; i++) {
            if (ip_node_family(ips->pdata[i]) == fam)
                return ips->pdata[i];
        }
    }
    fail(error, SV_ERR_OPERATION_INVALID,
         "couldn't update dhcp host entry - no <ip> element found in network '%s'", u->net_name);
    return NULL;
}

/* libvirt's virNetworkDefUpdateCheckMultiDHCP: no other <ip> of the family serves DHCP. */
static gboolean
check_multi_dhcp(Update *u, xmlNode *ip, GError **error)
{
    g_autoptr(GPtrArray) ips = children(u->root, "ip");
    int fam = ip_node_family(ip);

    for (guint i = 0; i < ips->len; i++) {
        xmlNode *other = ips->pdata[i];
        if (other != ip && ip_node_family(other) == fam && ip_has_dhcp_entries(other))
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "dhcp is supported only for a single %s address on each network",
                        fam == 4 ? "IPv4" : "IPv6");
    }
    return TRUE;
}

typedef struct {
    char *mac, *name, *ip;
} HostAttrs;

static void
host_attrs(const xmlNode *n, HostAttrs *out)
{
    out->mac = sv_xml_prop(n, "mac");
    out->name = sv_xml_prop(n, "name");
    out->ip = sv_xml_prop(n, "ip");
}

static void
host_attrs_clear(HostAttrs *h)
{
    g_free(h->mac);
    g_free(h->name);
    g_free(h->ip);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostAttrs, host_attrs_clear)

/* MODIFY and ADD match a host on any one field, DELETE on every field given. */
static gboolean
host_matches(const HostAttrs *want, const HostAttrs *have, gboolean all)
{
    gboolean mac = want->mac && have->mac && mac_equal(want->mac, have->mac);
    gboolean name = want->name && str_eq(want->name, have->name);
    gboolean ip = ip_valid(want->ip) && ip_equal(want->ip, have->ip);

    if (!all)
        return mac || name || ip;
    return (!want->mac || !have->mac || mac) && (!want->name || name) &&
           (!ip_valid(want->ip) || ip);
}

static const char *
or_unknown(const char *s)
{
    return s ? s : "unknown";
}

static gboolean
update_dhcp_host(Update *u, GError **error)
{
    g_auto(HostAttrs) want = {0};
    xmlNode *ip = ip_by_index(u, error), *dhcp;
    g_autoptr(GPtrArray) hosts = NULL;
    gboolean del = u->command == SV_NETWORK_UPDATE_COMMAND_DELETE;
    xmlNode *found = NULL;

    if (!ip || (!del && !validate_in(u, child_made(ip, "dhcp"), error)))
        return FALSE;
    host_attrs(u->frag, &want);
    if (!del && ip_valid(want.ip) && family_of(want.ip) != ip_node_family(ip))
        return fail(error, SV_ERR_OPERATION_INVALID, "%s",
                    "the address family of a host entry IP must match the address family of "
                    "the dhcp element's parent");
    dhcp = child_made(ip, "dhcp");
    hosts = children(dhcp, "host");
    for (guint i = 0; i < hosts->len && !found; i++) {
        g_auto(HostAttrs) have = {0};
        host_attrs(hosts->pdata[i], &have);
        if (host_matches(&want, &have, del))
            found = hosts->pdata[i];
    }
    if (u->command == SV_NETWORK_UPDATE_COMMAND_MODIFY) {
        if (!found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "couldn't locate an existing dhcp host entry with \"mac='%s'\" "
                        "\"name='%s'\" \"ip='%s'\" in network '%s'", or_unknown(want.mac),
                        want.name ? want.name : "(null)",
                        ip_valid(want.ip) ? want.ip : "unknown", u->net_name);
        place(u, dhcp, hosts, found);
    } else if (is_add(u)) {
        if (!check_multi_dhcp(u, ip, error))
            return FALSE;
        if (found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "there is an existing dhcp host entry in network '%s' that matches "
                        "\"<host mac='%s' name='%s' ip='%s'/>\"", u->net_name,
                        or_unknown(want.mac), want.name ? want.name : "(null)",
                        ip_valid(want.ip) ? want.ip : "unknown");
        place(u, dhcp, hosts, NULL);
    } else if (del) {
        if (!found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "couldn't locate a matching dhcp host entry in network '%s'",
                        u->net_name);
        drop(found);
    } else {
        return unknown_command(u, error);
    }
    return TRUE;
}

static gboolean
update_dhcp_range(Update *u, GError **error)
{
    xmlNode *ip = ip_by_index(u, error), *dhcp, *found = NULL;
    g_autofree char *start = sv_xml_prop(u->frag, "start");
    g_autofree char *end = sv_xml_prop(u->frag, "end");
    g_autoptr(GPtrArray) ranges = NULL;

    if (!ip)
        return FALSE;
    if (u->command == SV_NETWORK_UPDATE_COMMAND_MODIFY)
        return fail(error, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                    "dhcp ranges cannot be modified, only added or deleted");
    if (!validate_in(u, child_made(ip, "dhcp"), error))
        return FALSE;
    if (ip_valid(start) && family_of(start) != ip_node_family(ip))
        return fail(error, SV_ERR_OPERATION_INVALID, "%s",
                    "the address family of a dhcp range must match the address family of the "
                    "dhcp element's parent");
    dhcp = child_made(ip, "dhcp");
    ranges = children(dhcp, "range");
    for (guint i = 0; i < ranges->len && !found; i++) {
        g_autofree char *s = sv_xml_prop(ranges->pdata[i], "start");
        g_autofree char *e = sv_xml_prop(ranges->pdata[i], "end");
        if (ip_equal(start, s) && ip_equal(end, e))
            found = ranges->pdata[i];
    }
    if (is_add(u)) {
        if (!check_multi_dhcp(u, ip, error))
            return FALSE;
        if (found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "there is an existing dhcp range entry in network '%s' that matches "
                        "\"<range start='%s' end='%s'/>\"", u->net_name, or_unknown(start),
                        or_unknown(end));
        place(u, dhcp, ranges, NULL);
    } else if (u->command == SV_NETWORK_UPDATE_COMMAND_DELETE) {
        if (!found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "couldn't locate a matching dhcp range entry in network '%s'",
                        u->net_name);
        drop(found);
    } else {
        return unknown_command(u, error);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- <dns> */

static gboolean
hostnames_meet(xmlNode *a, xmlNode *b)
{
    g_autoptr(GPtrArray) na = children(a, "hostname");
    g_autoptr(GPtrArray) nb = children(b, "hostname");

    for (guint i = 0; i < na->len; i++) {
        g_autofree char *x = sv_xml_text(na->pdata[i]);
        for (guint j = 0; j < nb->len; j++) {
            g_autofree char *y = sv_xml_text(nb->pdata[j]);
            if (x && str_eq(x, y))
                return TRUE;
        }
    }
    return FALSE;
}

/* The DNS records libvirt counts matches of: an add is refused when any matches, a delete
 * wants exactly one. Each message's one %s is the network's name. */
typedef struct {
    const char *exists, *none, *many;
} CountedMessages;

static gboolean
add_or_delete_counted(Update *u, xmlNode *parent, GPtrArray *list, xmlNode *found, guint count,
                      const CountedMessages *m, GError **error)
{
    const char *fmt = NULL;
    g_autofree char *msg = NULL;

    if (is_add(u))
        fmt = count ? m->exists : NULL;
    else if (u->command == SV_NETWORK_UPDATE_COMMAND_DELETE)
        fmt = count == 1 ? NULL : count ? m->many : m->none;
    else
        return unknown_command(u, error);
    if (fmt) {
        msg = g_strdup_printf(fmt, u->net_name);
        return fail(error, SV_ERR_OPERATION_INVALID, "%s", msg);
    }
    if (is_add(u))
        place(u, parent, list, NULL);
    else
        drop(found);
    return TRUE;
}

static const CountedMessages host_messages = {
    "there is already at least one DNS HOST record with a matching field in network %s",
    "couldn't locate a matching DNS HOST record in network %s",
    "multiple matching DNS HOST records were found in network %s",
};

static gboolean
update_dns_host(Update *u, GError **error)
{
    xmlNode *dns = child_made(u->root, "dns"), *found = NULL;
    g_autoptr(GPtrArray) hosts = children(dns, "host");
    g_autofree char *ip = sv_xml_prop(u->frag, "ip");
    guint count = 0;

    if (is_add(u) && !validate_in(u, dns, error))
        return FALSE;

    for (guint i = 0; i < hosts->len; i++) {
        g_autofree char *have = sv_xml_prop(hosts->pdata[i], "ip");
        /* an add checks addresses only: one name on several addresses is fine */
        if (ip_equal(ip, have) || (!is_add(u) && hostnames_meet(u->frag, hosts->pdata[i]))) {
            count++;
            found = hosts->pdata[i];
        }
    }
    return add_or_delete_counted(u, dns, hosts, found, count, &host_messages, error);
}

static gboolean
update_dns_txt(Update *u, GError **error)
{
    xmlNode *dns = child_made(u->root, "dns"), *found = NULL;
    g_autoptr(GPtrArray) txts = children(dns, "txt");
    g_autofree char *name = sv_xml_prop(u->frag, "name");

    if (is_add(u) && !validate_in(u, dns, error))
        return FALSE;
    for (guint i = 0; i < txts->len && !found; i++) {
        g_autofree char *have = sv_xml_prop(txts->pdata[i], "name");
        if (str_eq(name, have))
            found = txts->pdata[i];
    }
    if (is_add(u)) {
        if (found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "there is already a DNS TXT record with name '%s' in network %s", name,
                        u->net_name);
        place(u, dns, txts, NULL);
    } else if (u->command == SV_NETWORK_UPDATE_COMMAND_DELETE) {
        if (!found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "couldn't locate a matching DNS TXT record in network %s", u->net_name);
        drop(found);
    } else {
        return unknown_command(u, error);
    }
    return TRUE;
}

/* An SRV record matches on each of domain, service, protocol and target the update gives. */
static gboolean
srv_matches(const xmlNode *want, const xmlNode *have)
{
    static const char *const fields[] = {"domain", "service", "protocol", "target"};

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *w = sv_xml_prop(want, fields[i]);
        g_autofree char *h = sv_xml_prop(have, fields[i]);
        if (w && !str_eq(w, h))
            return FALSE;
    }
    return TRUE;
}

static const CountedMessages srv_messages = {
    "there is already at least one DNS SRV record matching all specified fields in network %s",
    "couldn't locate a matching DNS SRV record in network %s",
    "multiple DNS SRV records matching all specified fields were found in network %s",
};

static gboolean
update_dns_srv(Update *u, GError **error)
{
    xmlNode *dns = child_made(u->root, "dns"), *found = NULL;
    g_autoptr(GPtrArray) srvs = children(dns, "srv");
    guint count = 0;

    if (is_add(u) && !validate_in(u, dns, error))
        return FALSE;
    for (guint i = 0; i < srvs->len; i++) {
        if (srv_matches(u->frag, srvs->pdata[i])) {
            count++;
            found = srvs->pdata[i];
        }
    }
    return add_or_delete_counted(u, dns, srvs, found, count, &srv_messages, error);
}

/* ---------------------------------------------------------------- <forward><interface> */

/* <forward dev=> is the first device of the pool, as libvirt writes it. */
static void
set_forward_dev(xmlNode *fwd)
{
    xmlNode *first = fwd ? sv_xml_child(fwd, "interface") : NULL;
    g_autofree char *dev = first ? sv_xml_prop(first, "dev") : NULL;

    if (dev)
        xmlSetProp(fwd, (const xmlChar *)"dev", (const xmlChar *)dev);
    else if (fwd)
        xmlUnsetProp(fwd, (const xmlChar *)"dev");
}

static gboolean
update_forward_interface(Update *u, GError **error)
{
    g_autofree char *dev = sv_xml_prop(u->frag, "dev");
    xmlNode *fwd = sv_xml_child(u->root, "forward"), *found = NULL;
    g_autoptr(GPtrArray) ifaces = children(fwd, "interface");

    if (u->command == SV_NETWORK_UPDATE_COMMAND_MODIFY)
        return fail(error, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                    "forward interface entries cannot be modified, only added or deleted");
    if (!dev)
        return fail(error, SV_ERR_XML_ERROR, "%s", "missing dev attribute in <interface> element");
    for (guint i = 0; i < ifaces->len && !found; i++) {
        g_autofree char *have = sv_xml_prop(ifaces->pdata[i], "dev");
        if (str_eq(dev, have))
            found = ifaces->pdata[i];
    }
    if (is_add(u)) {
        if (found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "there is an existing interface entry in network '%s' that matches "
                        "\"<interface dev='%s'>\"", u->net_name, dev);
        /* an isolated network writes no <forward>: what it is given is never seen */
        if (fwd)
            place(u, fwd, ifaces, NULL);
    } else if (u->command == SV_NETWORK_UPDATE_COMMAND_DELETE) {
        if (!found)
            return fail(error, SV_ERR_OPERATION_INVALID,
                        "couldn't find an interface entry in network '%s' matching <interface "
                        "dev='%s'>", u->net_name, dev);
        /* libvirt refuses a device in use, but counts the uses on a copy of the definition
         * that has none: a device is always let go, as there */
        drop(found);
    } else {
        return unknown_command(u, error);
    }
    set_forward_dev(fwd);
    return TRUE;
}

/* ---------------------------------------------------------------- <portgroup> */

static gboolean
is_default(const xmlNode *pg)
{
    g_autofree char *d = sv_xml_prop(pg, "default");

    return d && g_str_equal(d, "yes");
}

static gboolean
update_portgroup(Update *u, GError **error)
{
    g_autoptr(GPtrArray) pgs = children(u->root, "portgroup");
    g_autofree char *name = sv_xml_prop(u->frag, "name");
    xmlNode *found = NULL, *dflt = NULL;

    if (!validate_in(u, u->root, error))
        return FALSE;
    for (guint i = 0; i < pgs->len; i++) {
        g_autofree char *have = sv_xml_prop(pgs->pdata[i], "name");
        if (str_eq(name, have))
            found = pgs->pdata[i];
        if (is_default(pgs->pdata[i]))
            dflt = pgs->pdata[i];
    }
    if (!found && (u->command == SV_NETWORK_UPDATE_COMMAND_MODIFY ||
                   u->command == SV_NETWORK_UPDATE_COMMAND_DELETE))
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "couldn't find a portgroup entry in network '%s' matching <portgroup "
                    "name='%s'>", u->net_name, name);
    if (found && is_add(u))
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "there is an existing portgroup entry in network '%s' that matches "
                    "\"<portgroup name='%s'>\"", u->net_name, name);
    if (u->command != SV_NETWORK_UPDATE_COMMAND_DELETE && is_default(u->frag) && dflt &&
        dflt != found)
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "a different portgroup entry in network '%s' is already set as the "
                    "default. Only one default is allowed.", u->net_name);
    if (u->command == SV_NETWORK_UPDATE_COMMAND_MODIFY)
        place(u, u->root, pgs, found);
    else if (is_add(u))
        place(u, u->root, pgs, NULL);
    else if (u->command == SV_NETWORK_UPDATE_COMMAND_DELETE)
        drop(found);
    else
        return unknown_command(u, error);
    return TRUE;
}

/* ---------------------------------------------------------------- sections */

typedef gboolean (*SectionFunc)(Update *u, GError **error);

/* Whether dnsmasq serves DHCP for the network: an IPv4 <ip> with a range or a host (what
 * libvirt's networkUpdate compares before and after a change to decide on a restart). */
static gboolean
dhcp_active(const SvNetworkDef *def)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = def->ips->pdata[i];

        if (!ip->is_ipv6 && ((ip->ranges && ip->ranges->len) || (ip->hosts && ip->hosts->len)))
            return TRUE;
    }
    return FALSE;
}

typedef struct {
    const char *element;    /* the fragment's element; NULL: libvirt updates no such section */
    const char *name;       /* libvirt's name for it in its refusal */
    SectionFunc apply;
    gboolean no_modify;     /* MODIFY refused before anything else ("... cannot be modified") */
    const char *no_modify_msg;
    gboolean dnsmasq;       /* a running network's dnsmasq needs to know */
    gboolean restart;       /* ... and a new one must read its configuration file */
} Section;

static const Section sections[] = {
    [SV_NETWORK_SECTION_BRIDGE] = {.name = "bridge"},
    [SV_NETWORK_SECTION_DOMAIN] = {.name = "domain"},
    [SV_NETWORK_SECTION_IP] = {.name = "ip"},
    [SV_NETWORK_SECTION_IP_DHCP_HOST] = {.element = "host", .apply = update_dhcp_host,
        .dnsmasq = TRUE},
    [SV_NETWORK_SECTION_IP_DHCP_RANGE] = {.element = "range", .apply = update_dhcp_range,
        .dnsmasq = TRUE, .restart = TRUE},
    [SV_NETWORK_SECTION_FORWARD] = {.name = "forward"},
    [SV_NETWORK_SECTION_FORWARD_INTERFACE] = {.element = "interface",
        .apply = update_forward_interface},
    [SV_NETWORK_SECTION_FORWARD_PF] = {.name = "forward pf"},
    [SV_NETWORK_SECTION_PORTGROUP] = {.element = "portgroup", .apply = update_portgroup},
    [SV_NETWORK_SECTION_DNS_HOST] = {.element = "host", .apply = update_dns_host,
        .no_modify = TRUE,
        .no_modify_msg = "DNS HOST records cannot be modified, only added or deleted",
        .dnsmasq = TRUE},
    [SV_NETWORK_SECTION_DNS_TXT] = {.element = "txt", .apply = update_dns_txt, .no_modify = TRUE,
        .no_modify_msg = "DNS TXT records cannot be modified, only added or deleted",
        .dnsmasq = TRUE, .restart = TRUE},
    [SV_NETWORK_SECTION_DNS_SRV] = {.element = "srv", .apply = update_dns_srv, .no_modify = TRUE,
        .no_modify_msg = "DNS SRV records cannot be modified, only added or deleted",
        .dnsmasq = TRUE, .restart = TRUE},
};

/* Apply the update to a copy of def: the changed definition, read back by the parser
 * (transfer full), or NULL with error. */
static SvNetworkDef *
update_def(const SvNetworkDef *def, const Section *s, unsigned int command, int parent_index,
           const char *xml, GError **error)
{
    g_autofree char *text = sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
    Update u = {command, parent_index, def->name, NULL, NULL, NULL};
    xmlDoc *frag_doc = sv_xml_read_named_from(xml, "network_update_xml", SV_FROM_NETWORK,
                                              error);
    xmlNode *frag_root = frag_doc ? xmlDocGetRootElement(frag_doc) : NULL;
    SvNetworkDef *out = NULL;
    gboolean ok;

    if (!frag_doc)
        return NULL;
    if (!frag_root || !sv_xml_is(frag_root, s->element)) {
        fail(error, SV_ERR_XML_ERROR,
             "unexpected element <%s>, expecting <%s>, while updating network '%s'",
             frag_root ? (const char *)frag_root->name : "", s->element, def->name);
        xmlFreeDoc(frag_doc);
        return NULL;
    }
    u.doc = sv_xml_read_fragment(text);
    u.root = u.doc ? xmlDocGetRootElement(u.doc) : NULL;
    g_assert(u.root); /* the daemon's own formatting reads */
    u.frag = xmlDocCopyNode(frag_root, u.doc, 1);
    xmlFreeDoc(frag_doc);
    ok = s->apply(&u, error);
    if (u.frag)
        xmlFreeNode(u.frag);
    if (ok) {
        g_autofree char *changed = sv_xml_node_dump(u.doc, u.root, 0);
        out = sv_network_def_parse(changed, 0, error);
    }
    xmlFreeDoc(u.doc);
    return out;
}

/* libvirt's virNetworkObjUpdateModificationImpact and virNetworkObjConfigChangeSetup: CURRENT
 * means the live definition of a running network, the persistent one of another. */
static gboolean
resolve_flags(const NetworkObj *net, unsigned int *flags, GError **error)
{
    unsigned int both = SV_NETWORK_UPDATE_AFFECT_LIVE | SV_NETWORK_UPDATE_AFFECT_CONFIG;

    if (!(*flags & both))
        *flags |= net->active ? SV_NETWORK_UPDATE_AFFECT_LIVE : SV_NETWORK_UPDATE_AFFECT_CONFIG;
    if (!net->active && (*flags & SV_NETWORK_UPDATE_AFFECT_LIVE))
        return fail(error, SV_ERR_OPERATION_INVALID, "%s", "network is not running");
    if ((*flags & SV_NETWORK_UPDATE_AFFECT_CONFIG) && !net->persistent)
        return fail(error, SV_ERR_OPERATION_INVALID, "%s",
                    "cannot change persistent config of a transient network");
    return TRUE;
}

static const Section *
section_of(const NetworkObj *net, unsigned int section, unsigned int command, GError **error)
{
    const Section *s = section < G_N_ELEMENTS(sections) ? &sections[section] : NULL;

    if (!s || (!s->element && !s->name)) {
        fail(error, SV_ERR_OPERATION_UNSUPPORTED, "%s",
             "can't update unrecognized section of network");
        return NULL;
    }
    if (!s->element) {
        fail(error, SV_ERR_OPERATION_UNSUPPORTED, "can't update '%s' section of network '%s'",
             s->name, net->def->name);
        return NULL;
    }
    if (s->no_modify && command == SV_NETWORK_UPDATE_COMMAND_MODIFY) {
        fail(error, SV_ERR_OPERATION_UNSUPPORTED, "%s", s->no_modify_msg);
        return NULL;
    }
    return s;
}

static gboolean
network_update(SvCall *call, remote_network_update_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    unsigned int flags = a->flags;
    g_autoptr(SvNetworkDef) live = NULL;
    g_autoptr(SvNetworkDef) config = NULL;
    const Section *s;
    NetworkObj *n;

    if (!sv_check_flags(flags, SV_NETWORK_UPDATE_AFFECT_LIVE | SV_NETWORK_UPDATE_AFFECT_CONFIG,
                        SV_FROM_NETWORK, "networkUpdate", error) ||
        !(n = network_of(drv, &a->net, error)) || !network_check_idle(n, error) ||
        !resolve_flags(n, &flags, error))
        return FALSE;
    /* each definition is changed in its own pass, as libvirt does: a refusal changes none */
    for (int pass = 0; pass < 2; pass++) {
        gboolean is_live = pass == 0;
        const SvNetworkDef *from = is_live ? n->def : network_obj_persistent_def(n);
        SvNetworkDef **to = is_live ? &live : &config;

        if (!(flags & (is_live ? SV_NETWORK_UPDATE_AFFECT_LIVE : SV_NETWORK_UPDATE_AFFECT_CONFIG)))
            continue;
        if (!(s = section_of(n, a->section, a->command, error)) ||
            !(*to = update_def(from, s, a->command, a->parentIndex, a->xml, error)))
            return FALSE;
    }
    if (config) {
        SvNetworkDef **slot = n->new_def ? &n->new_def : &n->def;
        sv_network_def_free(*slot);
        *slot = g_steal_pointer(&config);
        if (!networks_save_config(drv->nets, n, error))
            return FALSE;
    }
    if (live) {
        gboolean dhcp_was = dhcp_active(n->def);

        live->connections = n->def->connections;
        sv_network_def_free(n->def);
        n->def = g_steal_pointer(&live);
        s = &sections[a->section];
        if (s->dnsmasq &&
            !sv_net_runtime_reload(drv->rt, n->def,
                                   s->restart || dhcp_active(n->def) != dhcp_was, error))
            return FALSE;
        return networks_save_status(drv->nets, n, error);
    }
    return TRUE;
}

void
network_update_install(SvRemoteHandlers *h)
{
    h->network_update = network_update;
}
