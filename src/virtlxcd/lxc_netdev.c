/* lxc_netdev.c: veth pairs over rtnetlink: one request, one acknowledgement. */
#include "lxc_netdev.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

/* A netlink message being built: attributes appended, nests closed by patching lengths. */
typedef struct {
    GByteArray *buf;
} NlMsg;

static void
nl_pad(NlMsg *m)
{
    static const guint8 zero[4] = {0};
    gsize pad = NLMSG_ALIGN(m->buf->len) - m->buf->len;

    g_byte_array_append(m->buf, zero, pad);
}

static void
nl_put(NlMsg *m, gconstpointer data, gsize len)
{
    g_byte_array_append(m->buf, data, len);
    nl_pad(m);
}

static void
nl_attr(NlMsg *m, guint16 type, gconstpointer data, gsize len)
{
    struct rtattr rta = {.rta_len = RTA_LENGTH(len), .rta_type = type};

    g_byte_array_append(m->buf, (const guint8 *)&rta, sizeof(rta));
    nl_put(m, data, len);
}

static void
nl_attr_str(NlMsg *m, guint16 type, const char *s)
{
    nl_attr(m, type, s, strlen(s) + 1);
}

/* Open a nested attribute; returns its offset for nl_nest_end. */
static gsize
nl_nest_start(NlMsg *m, guint16 type)
{
    gsize off = m->buf->len;

    nl_attr(m, type, NULL, 0);
    return off;
}

static void
nl_nest_end(NlMsg *m, gsize off)
{
    struct rtattr *rta = (struct rtattr *)(m->buf->data + off);

    rta->rta_len = (unsigned short)(m->buf->len - off);
}

/* Send a request and wait for its acknowledgement (NLM_F_ACK). */
static gboolean
nl_transact(NlMsg *m, const char *what, GError **error)
{
    struct nlmsghdr *h = (struct nlmsghdr *)m->buf->data;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    g_auto(SvFd) fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    guint8 reply[4096];
    ssize_t n;

    h->nlmsg_len = m->buf->len;
    if (fd < 0 ||
        sendto(fd, m->buf->data, m->buf->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to %s", what);
        return FALSE;
    }
    do {
        n = recv(fd, reply, sizeof(reply), 0);
    } while (n < 0 && errno == EINTR);
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
        sv_error_set_errno(error, SV_FROM_LXC, n < 0 ? errno : EPROTO, "Unable to %s", what);
        return FALSE;
    }
    h = (struct nlmsghdr *)reply;
    if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error < 0) {
            sv_error_set_errno(error, SV_FROM_LXC, -e->error, "Unable to %s", what);
            return FALSE;
        }
    }
    return TRUE;
}

static NlMsg
nl_link_request(guint16 type, guint16 flags, int ifindex)
{
    NlMsg m = {g_byte_array_new()};
    struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags,
                         .nlmsg_seq = 1};
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};

    nl_put(&m, &h, sizeof(h));
    nl_put(&m, &ifi, sizeof(ifi));
    return m;
}

gboolean
lxc_netdev_parse_mac(const char *text, guint8 mac[6])
{
    unsigned int b[6];
    char tail;

    if (!text || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                        &b[5], &tail) != 6)
        return FALSE;
    for (int i = 0; i < 6; i++)
        mac[i] = (guint8)b[i];
    return TRUE;
}

static gboolean
set_up(const char *name, GError **error)
{
    g_auto(SvFd) fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};

    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to get flags of '%s'", name);
        return FALSE;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to bring '%s' up", name);
        return FALSE;
    }
    return TRUE;
}

gboolean
lxc_netdev_create_veth(const char *host_name, const char *peer_name, const char *peer_mac,
                       pid_t peer_pid, GError **error)
{
    g_autofree char *what = g_strdup_printf("create veth pair '%s'/'%s'", host_name, peer_name);
    NlMsg m = nl_link_request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    struct ifinfomsg peer = {.ifi_family = AF_UNSPEC};
    guint32 pid = (guint32)peer_pid;
    guint8 mac[6];
    gsize info, data, peer_off;
    gboolean ok;

    if (strlen(host_name) >= IFNAMSIZ || strlen(peer_name) >= IFNAMSIZ) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Interface name '%s' is longer than %d characters", host_name, IFNAMSIZ - 1);
        g_byte_array_unref(m.buf);
        return FALSE;
    }
    nl_attr_str(&m, IFLA_IFNAME, host_name);
    info = nl_nest_start(&m, IFLA_LINKINFO);
    nl_attr_str(&m, IFLA_INFO_KIND, "veth");
    data = nl_nest_start(&m, IFLA_INFO_DATA);
    peer_off = nl_nest_start(&m, VETH_INFO_PEER);
    nl_put(&m, &peer, sizeof(peer));
    nl_attr_str(&m, IFLA_IFNAME, peer_name);
    nl_attr(&m, IFLA_NET_NS_PID, &pid, sizeof(pid));
    if (peer_mac && lxc_netdev_parse_mac(peer_mac, mac))
        nl_attr(&m, IFLA_ADDRESS, mac, sizeof(mac));
    nl_nest_end(&m, peer_off);
    nl_nest_end(&m, data);
    nl_nest_end(&m, info);
    ok = nl_transact(&m, what, error);
    g_byte_array_unref(m.buf);
    if (ok && !set_up(host_name, error)) {
        lxc_netdev_delete(host_name, NULL);
        return FALSE;
    }
    return ok;
}

gboolean
lxc_netdev_delete(const char *name, GError **error)
{
    g_autofree char *what = g_strdup_printf("delete interface '%s'", name);
    unsigned int index = if_nametoindex(name);
    NlMsg m;
    gboolean ok;

    if (index == 0)
        return TRUE;
    m = nl_link_request(RTM_DELLINK, 0, (int)index);
    ok = nl_transact(&m, what, error);
    g_byte_array_unref(m.buf);
    return ok;
}

gboolean
lxc_netdev_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}
