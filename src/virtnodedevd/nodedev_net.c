/* nodedev_net.c: a network interface as libvirt's udev driver describes it: name, MAC,
 * link state and speed, and the offload features ethtool reports (libvirt's names, in its
 * order). The ethtool calls answer from the driver's state at once. */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nodedev_sysfs.h"

/* The bit of NETIF_F_GSO_UDP_TUNNEL in ETHTOOL_GFEATURES' blocks (the kernel's
 * netdev_features.h, which libvirt also hard-codes) and the blocks asked for. */
#define TX_UDP_TNL_BIT 25
#define GFEATURES_BLOCKS 2

static const struct {
    guint32 cmd;
    const char *name;
} legacy_features[] = {
    {ETHTOOL_GRXCSUM, "rx"}, {ETHTOOL_GTXCSUM, "tx"}, {ETHTOOL_GSG, "sg"},
    {ETHTOOL_GTSO, "tso"},   {ETHTOOL_GGSO, "gso"},   {ETHTOOL_GGRO, "gro"},
};

static const struct {
    guint32 flag;
    const char *name;
} flag_features[] = {
    {ETH_FLAG_LRO, "lro"},       {ETH_FLAG_RXVLAN, "rxvlan"}, {ETH_FLAG_TXVLAN, "txvlan"},
    {ETH_FLAG_NTUPLE, "ntuple"}, {ETH_FLAG_RXHASH, "rxhash"},
};

static gboolean
ethtool(int fd, const char *ifname, void *data)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    ifr.ifr_data = data;
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

/* Whether the interface tunnels UDP segmentation offload (ETHTOOL_GFEATURES). */
static gboolean
has_udp_tunnel(int fd, const char *ifname)
{
    g_autofree struct ethtool_gfeatures *g = g_malloc0(
        sizeof(*g) + GFEATURES_BLOCKS * sizeof(struct ethtool_get_features_block));

    g->cmd = ETHTOOL_GFEATURES;
    g->size = GFEATURES_BLOCKS;
    return ethtool(fd, ifname, g) &&
           (g->features[TX_UDP_TNL_BIT / 32].active & (1u << (TX_UDP_TNL_BIT % 32)));
}

/* <feature name='rx'/>...: what ethtool says is on. RDMA and switchdev (devlink) are not
 * probed. */
static void
append_features(GString *s, const char *ifname)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ethtool_value v;

    if (fd < 0)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(legacy_features); i++) {
        v = (struct ethtool_value){.cmd = legacy_features[i].cmd};
        if (ethtool(fd, ifname, &v) && v.data > 0)
            g_string_append_printf(s, "    <feature name='%s'/>\n", legacy_features[i].name);
    }
    v = (struct ethtool_value){.cmd = ETHTOOL_GFLAGS};
    if (ethtool(fd, ifname, &v) && v.data > 0) {
        for (gsize i = 0; i < G_N_ELEMENTS(flag_features); i++) {
            if (v.data & flag_features[i].flag)
                g_string_append_printf(s, "    <feature name='%s'/>\n", flag_features[i].name);
        }
    }
    if (has_udp_tunnel(fd, ifname))
        g_string_append(s, "    <feature name='txudptnl'/>\n");
    close(fd);
}

/* A network interface: net_IFNAME_MAC, its link and offload features. */
NodeDev *
nodedev_net_new(const char *root, const char *dir)
{
    g_autofree char *ifname = g_path_get_basename(dir);
    g_autofree char *mac = nodedev_attr(dir, "address");
    g_autofree char *state = nodedev_attr(dir, "operstate");
    g_autofree char *wireless = g_build_filename(dir, "wireless", NULL);
    guint32 speed = 0;
    NodeDev *dev = nodedev_new(root, dir, NODEDEV_CAP_NET);
    GString *s = g_string_new(NULL);

    dev->name = nodedev_make_name("net", ifname, mac);
    nodedev_append_text(s, "    ", "interface", ifname);
    if (mac)
        nodedev_append_text(s, "    ", "address", mac);
    if (g_strcmp0(state, "up") == 0)
        /* read as an unsigned int, as libvirt reads it: a driver without a speed
         * says -1, shown as 4294967295 */
        speed = (guint32)nodedev_attr_int(dir, "speed", 10, 0);
    if (speed > 0 || (state && *state)) {
        g_string_append(s, "    <link");
        if (speed > 0)
            g_string_append_printf(s, " speed='%u'", (guint)speed);
        if (state && *state)
            g_string_append_printf(s, " state='%s'", state);
        g_string_append(s, "/>\n");
    }
    if (!*root) /* the kernel's interfaces: a fake tree's have none of the same name */
        append_features(s, ifname);
    g_string_append_printf(s, "    <capability type='%s'/>\n",
                           g_file_test(wireless, G_FILE_TEST_IS_DIR) ? "80211" : "80203");
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}
