/* netdev.c: host network devices over rtnetlink and the tun driver (netdev.h). A request
 * is one message with NLM_F_ACK on a fresh NETLINK_ROUTE socket; the kernel's ack carries
 * the errno. Messages are built in a fixed buffer with bounds checked on every attribute. */
#include "util/netdev.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
/* glibc's <net/if.h> first: the kernel headers then leave its definitions alone. */
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

#define MSG_SIZE 1024

typedef struct {
    union {
        struct nlmsghdr hdr;
        char buf[MSG_SIZE];
    } u;
    gboolean overflow;
} NlMsg;

gboolean
sv_netdev_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > SV_NETDEV_NAME_MAX || g_str_equal(name, ".") ||
        g_str_equal(name, ".."))
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_netdev_exists(const char *name)
{
    return sv_netdev_name_valid(name) && if_nametoindex(name) != 0;
}

/* A request whose fixed header (ifinfomsg, ifaddrmsg, rtmsg) is `body` bytes of zeros. */
static void
msg_init_body(NlMsg *m, guint16 type, guint16 flags, size_t body)
{
    memset(m, 0, sizeof(*m));
    m->u.hdr.nlmsg_len = NLMSG_LENGTH(body);
    m->u.hdr.nlmsg_type = type;
    m->u.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

static void
msg_init(NlMsg *m, guint16 type, guint16 flags, int ifindex)
{
    struct ifinfomsg *ifi;

    msg_init_body(m, type, flags, sizeof(struct ifinfomsg));
    ifi = NLMSG_DATA(&m->u.hdr);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
}

static struct ifinfomsg *
msg_ifinfo(NlMsg *m)
{
    return NLMSG_DATA(&m->u.hdr);
}

/* Append attribute `type` with `len` bytes of `data`; returns it (for nesting) or NULL when
 * the buffer is full, which msg_send then refuses. */
static struct rtattr *
msg_attr(NlMsg *m, guint16 type, const void *data, size_t len)
{
    size_t at = NLMSG_ALIGN(m->u.hdr.nlmsg_len);
    struct rtattr *rta = (struct rtattr *)(m->u.buf + at);

    if (at + RTA_SPACE(len) > sizeof(m->u.buf)) {
        m->overflow = TRUE;
        return NULL;
    }
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(rta), data, len);
    m->u.hdr.nlmsg_len = at + RTA_SPACE(len);
    return rta;
}

static void
msg_nest_end(NlMsg *m, struct rtattr *nest)
{
    if (nest)
        nest->rta_len = (unsigned short)(m->u.buf + m->u.hdr.nlmsg_len - (char *)nest);
}

/* Send `m` and read the kernel's ack: 0, or the errno it reports. The ack of a failed
 * request echoes the request, so the reply buffer is larger than any request; a reply
 * that does not parse is EPROTO, never another wait. */
static int
msg_send(NlMsg *m)
{
    g_auto(SvFd) fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    char reply[4 * MSG_SIZE];
    ssize_t n;

    if (m->overflow)
        return EMSGSIZE;
    if (fd < 0)
        return errno;
    m->u.hdr.nlmsg_seq = 1;
    if (sendto(fd, m->u.buf, m->u.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel,
               sizeof(kernel)) < 0)
        return errno;
    for (;;) {
        struct nlmsghdr *h = (struct nlmsghdr *)reply;

        n = recv(fd, reply, sizeof(reply), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (!NLMSG_OK(h, (size_t)n))
            return EPROTO;
        for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                    return EPROTO;
                return -e->error;
            }
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
        }
    }
}

static int
index_of(const char *name, GError **error)
{
    int ifindex = sv_netdev_name_valid(name) ? (int)if_nametoindex(name) : 0;

    if (ifindex == 0)
        sv_error_set_errno(error, SV_FROM_NONE, ENODEV, "Unable to get index for interface %s",
                           name);
    return ifindex;
}

/* Send m; on a refusal, a SYSTEM_ERROR with the kernel's errno and the message given. */
static gboolean G_GNUC_PRINTF(3, 4)
msg_request(NlMsg *m, GError **error, const char *fmt, ...)
{
    int err = msg_send(m);
    g_autofree char *what = NULL;
    va_list ap;

    if (!err)
        return TRUE;
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sv_error_set_errno(error, SV_FROM_NONE, err, "%s", what);
    return FALSE;
}

gboolean
sv_netdev_parse_mac(const char *mac, guint8 out[6])
{
    guint b[6];
    char tail;

    if (!mac || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                       &b[5], &tail) != 6)
        return FALSE;
    for (guint i = 0; i < 6; i++)
        out[i] = (guint8)b[i];
    return TRUE;
}

/* One RTM_NEWLINK change of an existing link. */
static gboolean
set_link(const char *name, guint16 attr, const void *data, size_t len, guint up,
         const char *what, GError **error)
{
    NlMsg m;
    int ifindex = index_of(name, error);
    int err;

    if (!ifindex)
        return FALSE;
    msg_init(&m, RTM_NEWLINK, 0, ifindex);
    if (up) {
        msg_ifinfo(&m)->ifi_flags = IFF_UP;
        msg_ifinfo(&m)->ifi_change = IFF_UP;
    }
    if (data)
        msg_attr(&m, attr, data, len);
    err = msg_send(&m);
    if (err) {
        sv_error_set_errno(error, SV_FROM_NONE, err, "Unable to %s of interface %s", what, name);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_netdev_set_mac(const char *name, const char *mac, GError **error)
{
    guint8 addr[6];

    if (!sv_netdev_parse_mac(mac, addr)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "invalid MAC address '%s'", mac);
        return FALSE;
    }
    return set_link(name, IFLA_ADDRESS, addr, sizeof(addr), 0, "set the MAC address", error);
}

gboolean
sv_netdev_set_mtu(const char *name, guint mtu, GError **error)
{
    guint32 v = mtu;

    return set_link(name, IFLA_MTU, &v, sizeof(v), 0, "set the MTU", error);
}

guint
sv_netdev_get_mtu(const char *name)
{
    g_auto(SvFd) fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};

    if (fd < 0 || !sv_netdev_name_valid(name))
        return 0;
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    return ioctl(fd, SIOCGIFMTU, &ifr) < 0 ? 0 : (guint)ifr.ifr_mtu;
}

gboolean
sv_netdev_set_up(const char *name, GError **error)
{
    return set_link(name, 0, NULL, 0, 1, "bring up", error);
}

gboolean
sv_netdev_bridge_add_port(const char *bridge, const char *port, GError **error)
{
    if (!sv_netdev_exists(bridge)) {
        sv_error_set_errno(error, SV_FROM_NONE, ENODEV, "Unable to add bridge %s port %s",
                           bridge, port);
        return FALSE;
    }
    return sv_netdev_set_master(port, bridge, error);
}

char *
sv_netdev_get_master(const char *name)
{
    g_autofree char *link = NULL;
    g_autofree char *target = NULL;

    if (!sv_netdev_name_valid(name))
        return NULL;
    /* sysfs of the daemon's own network namespace: its master link names the bridge. */
    link = g_strdup_printf("/sys/class/net/%s/master", name);
    target = g_file_read_link(link, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

gboolean
sv_netdev_set_master(const char *name, const char *bridge, GError **error)
{
    int master = index_of(bridge, error);
    guint32 v = (guint32)master;

    if (!master)
        return FALSE;
    return set_link(name, IFLA_MASTER, &v, sizeof(v), 0, "set the bridge", error);
}

gboolean
sv_netdev_delete(const char *name, GError **error)
{
    NlMsg m;
    int ifindex = sv_netdev_name_valid(name) ? (int)if_nametoindex(name) : 0;
    int err;

    if (!ifindex)
        return TRUE;
    msg_init(&m, RTM_DELLINK, 0, ifindex);
    err = msg_send(&m);
    if (err && err != ENODEV) {
        sv_error_set_errno(error, SV_FROM_NONE, err, "Unable to delete interface %s", name);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_netdev_tap_open(const char *name, guint n_queues, gboolean vnet_hdr, int *fds,
                   char **ret_name, GError **error)
{
    g_autofree char *actual = NULL;
    guint opened = 0;

    for (; opened < n_queues; opened++) {
        struct ifreq ifr = {0};
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno,
                               "Unable to open /dev/net/tun, is tun module loaded?");
            break;
        }
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0) |
                        (n_queues > 1 ? IFF_MULTI_QUEUE : 0);
        /* Later queues attach to the name the first one got. */
        g_strlcpy(ifr.ifr_name, actual ? actual : name, sizeof(ifr.ifr_name));
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            /* A template ("vnet%d") is no name to show. */
            sv_error_set_errno(error, SV_FROM_NONE, errno, "Unable to create tap device%s%s",
                               strchr(name, '%') ? "" : " ", strchr(name, '%') ? "" : name);
            close(fd);
            break;
        }
        if (!actual)
            actual = g_strndup(ifr.ifr_name, sizeof(ifr.ifr_name));
        fds[opened] = fd;
    }
    if (opened < n_queues) {
        for (guint i = 0; i < opened; i++)
            close(fds[i]);
        return FALSE;
    }
    *ret_name = g_steal_pointer(&actual);
    return TRUE;
}

static int
macvtap_mode(const char *mode)
{
    if (g_strcmp0(mode, "private") == 0)
        return MACVLAN_MODE_PRIVATE;
    if (g_strcmp0(mode, "bridge") == 0)
        return MACVLAN_MODE_BRIDGE;
    if (g_strcmp0(mode, "passthrough") == 0)
        return MACVLAN_MODE_PASSTHRU;
    return MACVLAN_MODE_VEPA;
}

/* The character device of macvtap name (its ifindex), as sysfs gives it; 0 unknown. */
static dev_t
macvtap_devno(const char *name, int ifindex)
{
    g_autofree char *path =
        g_strdup_printf("/sys/class/net/%s/macvtap/tap%d/dev", name, ifindex);
    g_autofree char *text = NULL;
    unsigned int major, minor;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        sscanf(text, "%u:%u", &major, &minor) != 2)
        return 0;
    return makedev(major, minor);
}

/* Open the tap device of macvtap name. /dev names it by its ifindex, which is only unique
 * within a network namespace: where another namespace's macvtap has the same index, the
 * node /dev/tapN is that one's (the kernel keeps the first), so the device is then opened
 * through a node of its own number, made for the moment in a private temporary directory. */
static int
macvtap_open(const char *name, int ifindex, const char *dev)
{
    dev_t want = macvtap_devno(name, ifindex);
    g_autofree char *tmp = NULL;
    g_autofree char *node = NULL;
    struct stat st;
    int err, fd = open(dev, O_RDWR | O_CLOEXEC);

    if (fd < 0 || !want || (fstat(fd, &st) == 0 && st.st_rdev == want))
        return fd;
    close(fd);
    g_debug("%s is another namespace's macvtap: opening %s by its number", dev, name);
    if (!(tmp = g_dir_make_tmp("sv-macvtap-XXXXXX", NULL)))
        return -1;
    node = g_build_filename(tmp, "tap", NULL);
    fd = mknod(node, S_IFCHR | 0600, want) == 0 ? open(node, O_RDWR | O_CLOEXEC) : -1;
    err = errno;
    unlink(node);
    rmdir(tmp);
    errno = err;
    return fd;
}

int
sv_netdev_macvtap_create(const char *name, const char *link, const char *mode,
                         const char *mac, GError **error)
{
    NlMsg m;
    int link_index = index_of(link, error);
    guint32 v;
    guint8 addr[6];
    struct rtattr *info, *data;
    g_autofree char *dev = NULL;
    int err, fd, ifindex;

    if (!link_index)
        return -1;
    if (!sv_netdev_name_valid(name) || !sv_netdev_parse_mac(mac, addr)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "invalid macvtap name '%s' or MAC address", name);
        return -1;
    }
    msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    msg_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
    v = (guint32)link_index;
    msg_attr(&m, IFLA_LINK, &v, sizeof(v));
    msg_attr(&m, IFLA_ADDRESS, addr, sizeof(addr));
    info = msg_attr(&m, IFLA_LINKINFO, NULL, 0);
    msg_attr(&m, IFLA_INFO_KIND, "macvtap", strlen("macvtap"));
    data = msg_attr(&m, IFLA_INFO_DATA, NULL, 0);
    v = (guint32)macvtap_mode(mode);
    msg_attr(&m, IFLA_MACVLAN_MODE, &v, sizeof(v));
    msg_nest_end(&m, data);
    msg_nest_end(&m, info);
    err = msg_send(&m);
    if (err) {
        sv_error_set_errno(error, SV_FROM_NONE, err, "Unable to create macvtap device %s on %s",
                           name, link);
        return -1;
    }
    ifindex = (int)if_nametoindex(name);
    dev = g_strdup_printf("/dev/tap%d", ifindex);
    fd = ifindex ? macvtap_open(name, ifindex, dev) : -1;
    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot open macvtap tap device %s", dev);
        sv_netdev_delete(name, NULL);
        return -1;
    }
    return fd;
}

gboolean
sv_netdev_veth_create(const char *host_name, const char *peer_name, const char *peer_mac,
                      pid_t peer_pid, GError **error)
{
    NlMsg m;
    struct ifinfomsg peer = {.ifi_family = AF_UNSPEC};
    guint32 pid = (guint32)peer_pid;
    guint8 mac[6];
    struct rtattr *info, *data, *peer_attr;
    int err;

    if (!sv_netdev_name_valid(host_name) || !sv_netdev_name_valid(peer_name)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "Interface name '%s' or '%s' is not a valid name of at most %d characters",
                     host_name, peer_name, SV_NETDEV_NAME_MAX);
        return FALSE;
    }
    msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    msg_attr(&m, IFLA_IFNAME, host_name, strlen(host_name) + 1);
    info = msg_attr(&m, IFLA_LINKINFO, NULL, 0);
    msg_attr(&m, IFLA_INFO_KIND, "veth", strlen("veth"));
    data = msg_attr(&m, IFLA_INFO_DATA, NULL, 0);
    /* The peer is an ifinfomsg followed by its own attributes. */
    peer_attr = msg_attr(&m, VETH_INFO_PEER, &peer, sizeof(peer));
    msg_attr(&m, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
    msg_attr(&m, IFLA_NET_NS_PID, &pid, sizeof(pid));
    if (peer_mac && sv_netdev_parse_mac(peer_mac, mac))
        msg_attr(&m, IFLA_ADDRESS, mac, sizeof(mac));
    msg_nest_end(&m, peer_attr);
    msg_nest_end(&m, data);
    msg_nest_end(&m, info);
    err = msg_send(&m);
    if (err) {
        sv_error_set_errno(error, SV_FROM_NONE, err, "Unable to create veth pair '%s'/'%s'",
                           host_name, peer_name);
        return FALSE;
    }
    if (!sv_netdev_set_up(host_name, error)) {
        sv_netdev_delete(host_name, NULL);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_netdev_set_down(const char *name, GError **error)
{
    NlMsg m;
    int ifindex = index_of(name, error);

    if (!ifindex)
        return FALSE;
    msg_init(&m, RTM_NEWLINK, 0, ifindex);
    msg_ifinfo(&m)->ifi_change = IFF_UP;
    return msg_request(&m, error, "Unable to bring down interface %s", name);
}

gboolean
sv_netdev_bridge_create(const char *name, const char *mac, GError **error)
{
    NlMsg m;
    guint8 addr[6];
    struct rtattr *info;

    if (!sv_netdev_name_valid(name) || (mac && !sv_netdev_parse_mac(mac, addr))) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "invalid bridge name '%s' or MAC address", name);
        return FALSE;
    }
    msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    msg_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
    if (mac)
        msg_attr(&m, IFLA_ADDRESS, addr, sizeof(addr));
    info = msg_attr(&m, IFLA_LINKINFO, NULL, 0);
    msg_attr(&m, IFLA_INFO_KIND, "bridge", strlen("bridge"));
    msg_nest_end(&m, info);
    return msg_request(&m, error, "error creating bridge interface %s", name);
}

/* Open a change of bridge `name`'s options: the IFLA_INFO_DATA nest to fill, closed by
 * bridge_change_end(). 0 when there is no such interface. */
static int
bridge_change_begin(NlMsg *m, const char *name, struct rtattr **info, struct rtattr **data,
                    GError **error)
{
    int ifindex = index_of(name, error);

    if (!ifindex)
        return 0;
    msg_init(m, RTM_NEWLINK, 0, ifindex);
    *info = msg_attr(m, IFLA_LINKINFO, NULL, 0);
    msg_attr(m, IFLA_INFO_KIND, "bridge", strlen("bridge"));
    *data = msg_attr(m, IFLA_INFO_DATA, NULL, 0);
    return ifindex;
}

static void
bridge_change_end(NlMsg *m, struct rtattr *info, struct rtattr *data)
{
    msg_nest_end(m, data);
    msg_nest_end(m, info);
}

gboolean
sv_netdev_bridge_set_stp(const char *name, gboolean stp, guint delay_ms, GError **error)
{
    NlMsg m;
    /* the kernel's bridge times are in USER_HZ ticks (centiseconds) */
    guint32 delay = delay_ms / 10, state = stp ? 1 : 0;
    struct rtattr *info, *data;

    if (!bridge_change_begin(&m, name, &info, &data, error))
        return FALSE;
    /* the kernel applies FORWARD_DELAY before STP_STATE within one message */
    msg_attr(&m, IFLA_BR_FORWARD_DELAY, &delay, sizeof(delay));
    msg_attr(&m, IFLA_BR_STP_STATE, &state, sizeof(state));
    bridge_change_end(&m, info, data);
    return msg_request(&m, error, "Unable to set STP on bridge %s", name);
}

gboolean
sv_netdev_bridge_set_vlan_filtering(const char *name, gboolean on, GError **error)
{
    NlMsg m;
    guint8 v = on ? 1 : 0;
    struct rtattr *info, *data;

    if (!bridge_change_begin(&m, name, &info, &data, error))
        return FALSE;
    msg_attr(&m, IFLA_BR_VLAN_FILTERING, &v, sizeof(v));
    bridge_change_end(&m, info, data);
    return msg_request(&m, error, "Unable to set vlan_filtering on bridge %s", name);
}

/* An address's family and bytes; 0 when the text is none. */
static int
parse_inet(const char *text, guint8 out[16])
{
    if (text && inet_pton(AF_INET, text, out) == 1)
        return AF_INET;
    if (text && inet_pton(AF_INET6, text, out) == 1)
        return AF_INET6;
    return 0;
}

gboolean
sv_netdev_add_address(const char *name, const char *addr, guint prefix, GError **error)
{
    NlMsg m;
    struct ifaddrmsg *ifa;
    guint8 a[16];
    int family = parse_inet(addr, a);
    int ifindex = index_of(name, error);

    if (!ifindex)
        return FALSE;
    if (!family || prefix > (family == AF_INET ? 32u : 128u)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "invalid address '%s/%u'",
                     addr, prefix);
        return FALSE;
    }
    msg_init_body(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
    ifa = NLMSG_DATA(&m.u.hdr);
    ifa->ifa_family = (guint8)family;
    ifa->ifa_prefixlen = (guint8)prefix;
    ifa->ifa_index = (guint32)ifindex;
    msg_attr(&m, IFA_LOCAL, a, family == AF_INET ? 4 : 16);
    msg_attr(&m, IFA_ADDRESS, a, family == AF_INET ? 4 : 16);
    if (family == AF_INET && prefix < 31) {
        guint32 ip, mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0, bcast;
        memcpy(&ip, a, 4);
        bcast = (ip & mask) | ~mask;
        msg_attr(&m, IFA_BROADCAST, &bcast, sizeof(bcast));
    }
    return msg_request(&m, error, "Failed to add IP address %s/%u to %s", addr, prefix, name);
}

gboolean
sv_netdev_add_route(const char *name, const char *addr, guint prefix, const char *gateway,
                    guint metric, GError **error)
{
    NlMsg m;
    struct rtmsg *rtm;
    guint8 dst[16], gw[16];
    int family = parse_inet(addr, dst);
    int ifindex = index_of(name, error);
    guint32 oif = (guint32)ifindex, prio = metric;
    size_t len = family == AF_INET ? 4 : 16;

    if (!ifindex)
        return FALSE;
    if (!family || parse_inet(gateway, gw) != family) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "invalid route to '%s/%u' via '%s'", addr, prefix, gateway);
        return FALSE;
    }
    msg_init_body(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm));
    rtm = NLMSG_DATA(&m.u.hdr);
    rtm->rtm_family = (guint8)family;
    rtm->rtm_dst_len = (guint8)prefix;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    msg_attr(&m, RTA_DST, dst, len);
    msg_attr(&m, RTA_GATEWAY, gw, len);
    msg_attr(&m, RTA_OIF, &oif, sizeof(oif));
    if (metric)
        msg_attr(&m, RTA_PRIORITY, &prio, sizeof(prio));
    return msg_request(&m, error, "Failed to add route to %s/%u via %s", addr, prefix,
                       gateway);
}

/* Add the name of ifindex to devs unless there. */
static void
add_device_once(GPtrArray *devs, int ifindex)
{
    char name[IF_NAMESIZE];

    if (!if_indextoname((unsigned int)ifindex, name))
        return;
    if (!g_ptr_array_find_with_equal_func(devs, name, g_str_equal, NULL))
        g_ptr_array_add(devs, g_strdup(name));
}

/* One RTM_NEWROUTE of the dump: its output devices when it was learnt from an RA. */
static void
ra_route_devices(const struct nlmsghdr *h, GPtrArray *devs, gboolean *has_ra)
{
    const struct rtmsg *rtm = NLMSG_DATA(h);
    int len = (int)RTM_PAYLOAD(h);

    if (h->nlmsg_type != RTM_NEWROUTE || rtm->rtm_protocol != RTPROT_RA)
        return;
    *has_ra = TRUE;
    for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int)) {
            add_device_once(devs, *(const int *)RTA_DATA(a));
        } else if (a->rta_type == RTA_MULTIPATH) {
            const struct rtnexthop *nh = RTA_DATA(a);
            int left = (int)RTA_PAYLOAD(a);
            while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) &&
                   left >= nh->rtnh_len) {
                add_device_once(devs, nh->rtnh_ifindex);
                left -= RTNH_ALIGN(nh->rtnh_len);
                nh = RTNH_NEXT(nh);
            }
        }
    }
}

GPtrArray *
sv_netdev_ipv6_ra_route_devices(gboolean *ret_has_ra, GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func(g_free);
    g_auto(SvFd) fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    NlMsg m;
    char reply[32 * 1024] __attribute__((aligned(4)));

    *ret_has_ra = FALSE;
    msg_init_body(&m, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
    ((struct rtmsg *)NLMSG_DATA(&m.u.hdr))->rtm_family = AF_INET6;
    m.u.hdr.nlmsg_flags &= ~NLM_F_ACK;
    if (fd < 0 || sendto(fd, m.u.buf, m.u.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel,
                         sizeof(kernel)) < 0)
        goto fail;
    for (;;) {
        ssize_t n = recv(fd, reply, sizeof(reply), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return g_steal_pointer(&devs);
            if (h->nlmsg_type == NLMSG_ERROR)
                goto fail;
            ra_route_devices(h, devs, ret_has_ra);
        }
    }
fail:
    sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Failed to loop over IPv6 routes");
    return NULL;
}
