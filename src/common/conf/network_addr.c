/* network_addr.c: IP addresses, ranges, MACs and small attribute readers of network XML
 * (network_def_priv.h), behaving as libvirt 9.0's virsocketaddr.c and virmacaddr.c where
 * a client can see it: what parses, how it is written back, the errors of a bad range. */
#include "conf/network_def_priv.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

gboolean
sv_net_addr_parse(const char *s, int family, SvNetAddr *out, GError **error)
{
    struct addrinfo hints = {.ai_family = family, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = getaddrinfo(s, NULL, &hints, &res);
    if (rc != 0 || !res) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR,
                     "Cannot parse socket address '%s': %s", s,
                     rc ? gai_strerror(rc) : "No address found");
        return FALSE;
    }
    out->family = res->ai_family;
    if (res->ai_family == AF_INET)
        out->a.v4 = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    else if (res->ai_family == AF_INET6)
        out->a.v6 = ((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    freeaddrinfo(res);
    if (out->family != AF_INET && out->family != AF_INET6) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR,
                     "Cannot parse socket address '%s': %s", s, "Address family not supported");
        return FALSE;
    }
    return TRUE;
}

char *
sv_net_addr_format(const SvNetAddr *addr)
{
    char buf[INET6_ADDRSTRLEN];

    if (!addr->family || !inet_ntop(addr->family, &addr->a, buf, sizeof(buf)))
        return NULL;
    return g_strdup(buf);
}

char *
sv_net_addr_normalize(const char *s)
{
    SvNetAddr a;

    if (!s || !sv_net_addr_parse(s, AF_UNSPEC, &a, NULL))
        return g_strdup(s);
    return sv_net_addr_format(&a);
}

static guint
addr_bytes(const SvNetAddr *a, const guint8 **out)
{
    *out = a->family == AF_INET ? (const guint8 *)&a->a.v4 : (const guint8 *)&a->a.v6;
    return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

int
sv_net_addr_netmask_bits(const SvNetAddr *mask)
{
    const guint8 *b;
    guint n = addr_bytes(mask, &b);
    int bits = 0;
    gboolean ended = FALSE;

    if (!n)
        return -1;
    for (guint i = 0; i < n * 8; i++) {
        gboolean one = (b[i / 8] >> (7 - i % 8)) & 1;

        if (one && ended)
            return -1;
        if (one)
            bits++;
        else
            ended = TRUE;
    }
    return bits;
}

static gboolean
addr_is_wildcard(const SvNetAddr *a)
{
    const guint8 *b;
    guint n = addr_bytes(a, &b);

    for (guint i = 0; i < n; i++) {
        if (b[i])
            return FALSE;
    }
    return n > 0;
}

int
sv_net_ip_prefix(const SvNetAddr *address, const SvNetAddr *netmask, guint prefix)
{
    guint8 octet;

    if (prefix > 0)
        return (int)prefix;
    if (netmask && netmask->family)
        return sv_net_addr_netmask_bits(netmask);
    if (address->family == AF_INET) {
        if (addr_is_wildcard(address))
            return 0;
        octet = ((const guint8 *)&address->a.v4)[0];
        if ((octet & 0x80) == 0)
            return 8;
        if ((octet & 0xC0) == 0x80)
            return 16;
        if ((octet & 0xE0) == 0xC0)
            return 24;
        return -1;
    }
    if (address->family == AF_INET6)
        return addr_is_wildcard(address) ? 0 : 64;
    return -1;
}

void
sv_net_addr_mask(const SvNetAddr *addr, int prefix, SvNetAddr *out)
{
    guint8 *b;
    guint n;

    *out = *addr;
    n = addr_bytes(out, (const guint8 **)&b);
    for (guint i = 0; i < n * 8; i++) {
        if ((int)i >= prefix)
            b[i / 8] &= (guint8)~(1u << (7 - i % 8));
    }
}

gboolean
sv_net_addr_equal(const SvNetAddr *a, const SvNetAddr *b)
{
    const guint8 *x, *y;
    guint n = addr_bytes(a, &x);

    return a->family == b->family && addr_bytes(b, &y) == n && memcmp(x, y, n) == 0;
}

static void
addr_broadcast(const SvNetAddr *addr, int prefix, SvNetAddr *out)
{
    guint8 *b;
    guint n;

    *out = *addr;
    n = addr_bytes(out, (const guint8 **)&b);
    for (guint i = 0; i < n * 8; i++) {
        if ((int)i >= prefix)
            b[i / 8] |= (guint8)(1u << (7 - i % 8));
    }
}

/* The range's checks against its network (virSocketAddrGetRange with a network). */
static gboolean
check_range_network(const SvNetAddr *start, const SvNetAddr *end, const SvNetAddr *network,
                    int prefix, const char *s, const char *e, GError **error)
{
    g_autofree char *net = sv_net_addr_format(network);
    int max = network->family == AF_INET ? 32 : 128;
    SvNetAddr ns, ne, nn, bcast;

    if (start->family != network->family) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "mismatch of address family in range %s - %s for network %s", s, e, net);
        return FALSE;
    }
    if (prefix < 0 || prefix > max) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "bad prefix %d for network %s when  checking range %s - %s", prefix, net,
                     s, e);
        return FALSE;
    }
    sv_net_addr_mask(start, prefix, &ns);
    sv_net_addr_mask(end, prefix, &ne);
    sv_net_addr_mask(network, prefix, &nn);
    if (!sv_net_addr_equal(&ns, &nn) || !sv_net_addr_equal(&ne, &nn)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "range %s - %s is not entirely within network %s/%d", s, e, net, prefix);
        return FALSE;
    }
    if (start->family != AF_INET)
        return TRUE;
    addr_broadcast(network, prefix, &bcast);
    if (sv_net_addr_equal(start, &nn)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "start of range %s - %s in network %s/%d is the network address", s, e,
                     net, prefix);
        return FALSE;
    }
    if (sv_net_addr_equal(end, &bcast)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "end of range %s - %s in network %s/%d is the broadcast address", s, e,
                     net, prefix);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_net_addr_check_range(const SvNetAddr *start, const SvNetAddr *end, const SvNetAddr *network,
                        int prefix, GError **error)
{
    g_autofree char *s = sv_net_addr_format(start);
    g_autofree char *e = sv_net_addr_format(end);
    const guint8 *a, *b;
    guint n = addr_bytes(start, &a);
    /* libvirt's legacy rule: all but the last two bytes equal, end not below start. */
    guint fixed = n - 2;

    if (start->family != end->family) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "mismatch of address family in range %s - %s", s, e);
        return FALSE;
    }
    if (network && !check_range_network(start, end, network, prefix, s, e, error))
        return FALSE;
    addr_bytes(end, &b);
    if (memcmp(a, b, fixed) != 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "range %s - %s is too large (> 65535)", s, e);
        return FALSE;
    }
    if ((b[fixed] * 256 + b[fixed + 1]) - (a[fixed] * 256 + a[fixed + 1]) < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "range %s - %s is reversed ",
                     s, e);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_net_mac_parse(const char *s, guint8 out[6])
{
    const char *p = s;

    for (guint i = 0; i < 6; i++) {
        guint v = 0;
        guint n = 0;

        while (n < 3 && g_ascii_isxdigit(p[n]))
            v = v * 16 + (guint)g_ascii_xdigit_value(p[n++]);
        if (n < 1 || n > 2)
            return FALSE;
        out[i] = (guint8)v;
        p += n;
        if (i == 5)
            return (guchar)*p <= ' ';
        if (*p != ':')
            return FALSE;
        p++;
    }
    return FALSE;
}

char *
sv_net_mac_format(const guint8 mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                           mac[4], mac[5]);
}

gboolean
sv_net_parse_uint_wrap(const char *s, guint *out)
{
    gboolean neg = s[0] == '-';
    guint64 n;

    if (!sv_domain_parse_u64(neg ? s + 1 : s, &n) || n > G_MAXUINT)
        return FALSE;
    *out = neg ? 0u - (guint)n : (guint)n;
    return TRUE;
}

gboolean
sv_net_prop_tristate(const xmlNode *node, const char *attr, SvNetworkTristate *out,
                     GError **error)
{
    g_autofree char *v = node ? sv_xml_prop(node, attr) : NULL;

    if (!v)
        return TRUE;
    if (g_str_equal(v, "yes") || g_str_equal(v, "no")) {
        *out = g_str_equal(v, "yes") ? SV_NETWORK_TRISTATE_YES : SV_NETWORK_TRISTATE_NO;
        return TRUE;
    }
    sv_xml_error_invalid_attr(error, node, attr, v);
    return FALSE;
}

const char *
sv_net_tristate_to_string(SvNetworkTristate v)
{
    return v == SV_NETWORK_TRISTATE_YES ? "yes" : v == SV_NETWORK_TRISTATE_NO ? "no" : NULL;
}

void
sv_net_append_indented(GString *buf, int indent, const char *text)
{
    g_auto(GStrv) lines = NULL;

    if (!text)
        return;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i])
            continue;
        g_string_append_printf(buf, "%*s%s\n", indent, "", lines[i]);
    }
}
