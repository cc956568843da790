/* test-netdev.c: util/netdev.c against the kernel, each case in a network namespace of its
 * own (a subprocess that unshares one), so nothing touches the host's interfaces. Needs
 * root (CAP_NET_ADMIN) and /dev/net/tun; skipped without them. `ip` only inspects and makes
 * the bridge and dummy link the cases start from. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/netdev.h"

/* `ip ARGS...`'s output; the test fails when it fails. */
static char *
ip(const char *args)
{
    g_autofree char *cmd = g_strconcat("ip ", args, NULL);
    g_auto(GStrv) argv = g_strsplit(cmd, " ", -1);
    g_autoptr(GError) error = NULL;
    char *out = NULL;
    int status = 0;

    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                 &out, NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return out;
}

static gboolean
can_run(void)
{
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        g_test_skip("needs root and /dev/net/tun");
        return FALSE;
    }
    return TRUE;
}

static void
enter_netns(void)
{
    g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
}

/* A bridge port as libvirt makes it for <interface type='bridge'>: a tap the kernel names
 * vnetN, the guest MAC with FE first, the MTU, up, enslaved; gone with its last fd. */
static void
tap_in_bridge(void)
{
    int fds[2];
    g_autofree char *name = NULL;
    g_autofree char *link = NULL;
    g_autoptr(GError) error = NULL;

    enter_netns();
    g_free(ip("link add br9 type bridge"));
    g_assert_true(sv_netdev_tap_open("vnet%d", 2, TRUE, fds, &name, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "vnet0");
    g_assert_true(sv_netdev_exists("vnet0"));
    g_assert_true(sv_netdev_set_mac(name, "fe:54:00:12:34:56", &error));
    g_assert_true(sv_netdev_set_mtu(name, 1400, &error));
    g_assert_true(sv_netdev_set_master(name, "br9", &error));
    g_assert_true(sv_netdev_set_up(name, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(sv_netdev_get_mtu(name), ==, 1400);
    link = ip("-o link show vnet0");
    g_assert_nonnull(strstr(link, "master br9"));
    g_assert_nonnull(strstr(link, "fe:54:00:12:34:56"));
    g_assert_nonnull(strstr(link, ",UP"));
    /* Not persistent: closing every queue removes it. */
    close(fds[0]);
    close(fds[1]);
    g_assert_false(sv_netdev_exists("vnet0"));
}

/* A tap someone else made (persistent) is opened as it is and survives its fds. */
static void
tap_existing(void)
{
    int fd;
    g_autofree char *name = NULL;
    g_autoptr(GError) error = NULL;

    enter_netns();
    g_free(ip("tuntap add dev mytap0 mode tap vnet_hdr"));
    g_assert_true(sv_netdev_tap_open("mytap0", 1, TRUE, &fd, &name, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, "mytap0");
    close(fd);
    g_assert_true(sv_netdev_exists("mytap0"));
    g_assert_true(sv_netdev_delete("mytap0", &error));
    g_assert_false(sv_netdev_exists("mytap0"));
    /* Deleting what is gone is no error. */
    g_assert_true(sv_netdev_delete("mytap0", &error));
    g_assert_no_error(error);
}

/* A macvtap on a link (one end of a veth pair): created with its MAC and mode, its character device opened,
 * deleted on request. */
static void
macvtap(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *link = NULL;
    int fd;

    enter_netns();
    g_free(ip("link add eth9 type veth peer name eth9p"));
    fd = sv_netdev_macvtap_create("macvtap7", "eth9", "bridge", "52:54:00:ab:cd:ef", &error);
    if (fd < 0 && error && strstr(error->message, "/dev/tap")) {
        /* No udev to make the device node: nothing more to see here. */
        g_test_skip(error->message);
        return;
    }
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    link = ip("-d -o link show macvtap7");
    g_assert_nonnull(strstr(link, "macvtap7@eth9"));
    g_assert_nonnull(strstr(link, "52:54:00:ab:cd:ef"));
    g_assert_nonnull(strstr(link, "macvtap mode bridge"));
    close(fd);
    /* A link, not a tap: it stays until deleted. */
    g_assert_true(sv_netdev_exists("macvtap7"));
    g_assert_true(sv_netdev_delete("macvtap7", &error));
    g_assert_false(sv_netdev_exists("macvtap7"));
}

/* A veth pair with its peer made in another process's namespace (here: a child's own). */
static void
veth(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *link = NULL;
    int ready[2], go[2];
    pid_t child;
    char c = 0;

    enter_netns();
    g_assert_cmpint(pipe(ready), ==, 0);
    g_assert_cmpint(pipe(go), ==, 0);
    child = fork();
    if (child == 0) {
        /* A namespace for the peer; wait there until the parent has looked. */
        if (unshare(CLONE_NEWNET) < 0 || write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(1);
        _exit(sv_netdev_exists("peer0") ? 0 : 2);
    }
    g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
    g_assert_true(sv_netdev_veth_create("vhost0x", "peer0", "52:54:00:01:02:03", child, &error));
    g_assert_no_error(error);
    link = ip("-o link show vhost0x");
    g_assert_nonnull(strstr(link, ",UP"));
    g_assert_false(sv_netdev_exists("peer0"));
    g_assert_cmpint(write(go[1], &c, 1), ==, 1);
    {
        int status = 0;
        g_assert_cmpint(waitpid(child, &status, 0), ==, child);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* Its namespace gone, the pair went with it. */
    for (int i = 0; i < 200 && sv_netdev_exists("vhost0x"); i++)
        g_usleep(10000);
    g_assert_false(sv_netdev_exists("vhost0x"));
    g_assert_false(sv_netdev_veth_create("a/b", "peer1", NULL, getpid(), &error));
    g_assert_nonnull(error);
}

static void
errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    int fd;

    enter_netns();
    g_assert_false(sv_netdev_set_master("nosuch0", "br0", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_free(ip("tuntap add dev t0 mode tap"));
    g_assert_false(sv_netdev_set_master("t0", "nosuchbr", &error));
    g_assert_nonnull(strstr(error->message, "nosuchbr"));
    g_clear_error(&error);
    /* A name the kernel refuses never reaches it. */
    g_assert_false(sv_netdev_tap_open("a,b/c", 1, FALSE, &fd, &name, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_false(sv_netdev_exists("x/y"));
}

static void
names(void)
{
    g_assert_true(sv_netdev_name_valid("vnet0"));
    g_assert_true(sv_netdev_name_valid("a,b"));
    g_assert_true(sv_netdev_name_valid("-S"));
    g_assert_true(sv_netdev_name_valid("123456789012345"));
    g_assert_false(sv_netdev_name_valid("1234567890123456"));
    g_assert_false(sv_netdev_name_valid(""));
    g_assert_false(sv_netdev_name_valid(NULL));
    g_assert_false(sv_netdev_name_valid("."));
    g_assert_false(sv_netdev_name_valid(".."));
    g_assert_false(sv_netdev_name_valid("a/b"));
    g_assert_false(sv_netdev_name_valid("a:b"));
    g_assert_false(sv_netdev_name_valid("a b"));
    g_assert_false(sv_netdev_name_valid("a\nb"));
}

/* A virtual network's bridge as libvirt makes it: its MAC at creation, STP with the delay
 * asked (the kernel's 2 s minimum once STP is on), an IPv4 address with its broadcast, an
 * IPv6 address, a static route, down and deleted. */
static void
bridge(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *link = NULL;
    g_autofree char *addrs = NULL;
    g_autofree char *routes = NULL;

    enter_netns();
    g_assert_true(sv_netdev_bridge_create("svbr7", "52:54:00:12:34:56", &error));
    g_assert_no_error(error);
    g_assert_false(sv_netdev_bridge_create("svbr7", NULL, &error));
    g_assert_nonnull(strstr(error->message, "error creating bridge interface svbr7"));
    g_clear_error(&error);
    g_assert_true(sv_netdev_bridge_set_stp("svbr7", TRUE, 0, &error));
    g_assert_true(sv_netdev_add_address("svbr7", "10.44.0.1", 24, &error));
    g_assert_true(sv_netdev_add_address("svbr7", "fd00:44::1", 64, &error));
    g_assert_true(sv_netdev_set_up("svbr7", &error));
    g_assert_true(sv_netdev_add_route("svbr7", "10.45.0.0", 16, "10.44.0.254", 7, &error));
    g_assert_no_error(error);
    link = ip("-d link show svbr7");
    g_assert_nonnull(strstr(link, "link/ether 52:54:00:12:34:56"));
    g_assert_nonnull(strstr(link, "forward_delay 200 "));
    g_assert_nonnull(strstr(link, "stp_state 1 "));
    addrs = ip("addr show svbr7");
    g_assert_nonnull(strstr(addrs, "inet 10.44.0.1/24 brd 10.44.0.255 scope global svbr7"));
    g_assert_nonnull(strstr(addrs, "inet6 fd00:44::1/64"));
    routes = ip("route show 10.45.0.0/16");
    /* no port yet: no carrier, so the route shows linkdown */
    g_assert_cmpstr(routes, ==, "10.45.0.0/16 via 10.44.0.254 dev svbr7 metric 7 linkdown \n");
    g_assert_false(sv_netdev_add_address("svbr7", "10.44.0.1", 24, &error));
    g_assert_nonnull(strstr(error->message, "Failed to add IP address 10.44.0.1/24 to svbr7"));
    g_clear_error(&error);
    /* a kernel without bridge VLAN filtering refuses it, to libvirt as well */
    if (sv_netdev_bridge_set_vlan_filtering("svbr7", TRUE, &error)) {
        g_free(link);
        link = ip("-d link show svbr7");
        g_assert_nonnull(strstr(link, "vlan_filtering 1 "));
    } else {
        g_assert_cmpstr(error->message, ==, "Unable to set vlan_filtering on bridge svbr7: "
                                            "Operation not supported");
        g_clear_error(&error);
    }
    g_assert_true(sv_netdev_bridge_set_stp("svbr7", FALSE, 5000, &error));
    g_free(link);
    link = ip("-d link show svbr7");
    g_assert_nonnull(strstr(link, "forward_delay 500 "));
    g_assert_nonnull(strstr(link, "stp_state 0 "));
    g_assert_true(sv_netdev_set_down("svbr7", &error));
    g_assert_true(sv_netdev_delete("svbr7", &error));
    g_assert_no_error(error);
    g_assert_false(sv_netdev_exists("svbr7"));
}

static void
in_subprocess(gconstpointer data)
{
    if (!can_run())
        return;
    g_test_trap_subprocess(data, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/netdev/names", names);
    g_test_add_data_func("/netdev/tap-in-bridge", "/netdev/subprocess/tap-in-bridge",
                         in_subprocess);
    g_test_add_data_func("/netdev/tap-existing", "/netdev/subprocess/tap-existing",
                         in_subprocess);
    g_test_add_data_func("/netdev/errors", "/netdev/subprocess/errors", in_subprocess);
    g_test_add_data_func("/netdev/macvtap", "/netdev/subprocess/macvtap", in_subprocess);
    g_test_add_data_func("/netdev/veth", "/netdev/subprocess/veth", in_subprocess);
    g_test_add_func("/netdev/subprocess/tap-in-bridge", tap_in_bridge);
    g_test_add_func("/netdev/subprocess/tap-existing", tap_existing);
    g_test_add_func("/netdev/subprocess/errors", errors);
    g_test_add_func("/netdev/subprocess/macvtap", macvtap);
    g_test_add_func("/netdev/subprocess/veth", veth);
    g_test_add_data_func("/netdev/bridge", "/netdev/subprocess/bridge", in_subprocess);
    g_test_add_func("/netdev/subprocess/bridge", bridge);
    return g_test_run();
}
