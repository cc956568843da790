/* test-netdev-bandwidth.c: the tc command lines util/netdev_bandwidth.c runs for a rate, as
 * Debian's libvirtd 9.0 runs them (its lines and their errors compared in the same run by
 * tests/e2e/test_qemu_bandwidth.py), recorded through a fake runner; and, where the kernel
 * has what libvirt's layout needs (sch_htb, sch_sfq, cls_fw, sch_ingress, cls_u32,
 * act_police), the same on a real device in a network namespace of the test's own. */
#include <glib.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "util/command.h"
#include "util/error.h"
#include "util/netdev_bandwidth.h"

typedef struct {
    GPtrArray *lines; /* each command run, as one string */
    int fail_at;      /* the index of the command that fails (-1: none) */
} Recorder;

static gboolean
record(const char *const *argv, gboolean ignore_status, gpointer data, GError **error)
{
    Recorder *r = data;
    char *line = g_strjoinv(" ", (char **)argv);

    g_ptr_array_add(r->lines, g_strdup_printf("%s%s", line, ignore_status ? " [ignored]" : ""));
    g_free(line);
    if ((int)r->lines->len - 1 == r->fail_at && !ignore_status) {
        sv_command_error(argv, 2 << 8, "Error: Specified qdisc kind is unknown.\n", error);
        return FALSE;
    }
    return TRUE;
}

/* The lines set() runs for (in, out, swapped) on vnet0, joined by newlines; hierarchical:
 * through sv_netdev_bandwidth_set_classes, as for a network's bridge. */
static char *
lines_for_classes(const SvNetdevBandwidthRate *in, const SvNetdevBandwidthRate *out,
                  gboolean swapped, gboolean hierarchical)
{
    Recorder r = {g_ptr_array_new_with_free_func(g_free), -1};
    SvNetdevBandwidth bw = {(SvNetdevBandwidthRate *)in, (SvNetdevBandwidthRate *)out};
    g_autoptr(GError) error = NULL;
    char *joined;

    sv_netdev_bandwidth_set_runner(record, &r);
    g_assert_true(hierarchical
                      ? sv_netdev_bandwidth_set_classes("vnet0", &bw, swapped, TRUE, &error)
                      : sv_netdev_bandwidth_set("vnet0", &bw, swapped, &error));
    g_assert_no_error(error);
    sv_netdev_bandwidth_set_runner(NULL, NULL);
    g_ptr_array_add(r.lines, NULL);
    joined = g_strjoinv("\n", (char **)r.lines->pdata);
    g_ptr_array_unref(r.lines);
    return joined;
}

static char *
lines_for(const SvNetdevBandwidthRate *in, const SvNetdevBandwidthRate *out, gboolean swapped)
{
    return lines_for_classes(in, out, swapped, FALSE);
}

#define CLEAR "tc qdisc del dev vnet0 root [ignored]\ntc qdisc del dev vnet0 ingress [ignored]"

/* A tap (swapped): inbound shapes what the host sends, outbound polices what it receives;
 * peak is htb's ceil, burst its burst, quantum the rate's bytes per 1500-byte turn. */
static void
test_tap_both_directions(void)
{
    SvNetdevBandwidthRate in = {.average = 1000, .peak = 2000, .burst = 512};
    SvNetdevBandwidthRate out = {.average = 500};
    g_autofree char *got = lines_for(&in, &out, TRUE);

    g_assert_cmpstr(got, ==,
                    CLEAR "\n"
                    "tc qdisc add dev vnet0 root handle 1: htb default 1\n"
                    "tc class add dev vnet0 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps "
                    "burst 512kb quantum 85\n"
                    "tc qdisc add dev vnet0 parent 1:1 handle 2: sfq perturb 10\n"
                    "tc filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"
                    "tc qdisc add dev vnet0 ingress\n"
                    "tc filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police "
                    "rate 500kbps burst 500kb mtu 64kb drop flowid :1");
}

/* A network's bridge (libvirt's networkStartNetworkVirtual sets its <bandwidth> swapped,
 * with hierarchical classes): the root's default is 1:2, class 1:1 holds the whole rate
 * with the peak (else the average) as its ceil, 1:2 under it is the class of the traffic
 * without a floor and gets the sfq; outbound is policed as on a tap. Lines as libvirt 9.0's
 * virNetDevBandwidthSet builds them. */
static void
test_network_bridge_classes(void)
{
    SvNetdevBandwidthRate in = {.average = 1000, .peak = 2000, .burst = 512};
    SvNetdevBandwidthRate out = {.average = 500};
    SvNetdevBandwidthRate in_avg = {.average = 800};
    g_autofree char *got = lines_for_classes(&in, &out, TRUE, TRUE);
    g_autofree char *avg_only = lines_for_classes(&in_avg, NULL, TRUE, TRUE);

    g_assert_cmpstr(got, ==,
                    CLEAR "\n"
                    "tc qdisc add dev vnet0 root handle 1: htb default 2\n"
                    "tc class add dev vnet0 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps "
                    "quantum 85\n"
                    "tc class add dev vnet0 parent 1:1 classid 1:2 htb rate 1000kbps ceil "
                    "2000kbps burst 512kb quantum 85\n"
                    "tc qdisc add dev vnet0 parent 1:2 handle 2: sfq perturb 10\n"
                    "tc filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"
                    "tc qdisc add dev vnet0 ingress\n"
                    "tc filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police "
                    "rate 500kbps burst 500kb mtu 64kb drop flowid :1");
    g_assert_cmpstr(avg_only, ==,
                    CLEAR "\n"
                    "tc qdisc add dev vnet0 root handle 1: htb default 2\n"
                    "tc class add dev vnet0 parent 1: classid 1:1 htb rate 800kbps ceil 800kbps "
                    "quantum 68\n"
                    "tc class add dev vnet0 parent 1:1 classid 1:2 htb rate 800kbps quantum 68\n"
                    "tc qdisc add dev vnet0 parent 1:2 handle 2: sfq perturb 10\n"
                    "tc filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1");
}

/* Not swapped (a device on the guest's side): the other way round. A policed direction
 * with a burst keeps it; a small average gets quantum 1; a huge one is not capped (tc then
 * refuses it, as it refuses libvirt 9.0's). */
static void
test_directions_and_units(void)
{
    SvNetdevBandwidthRate in = {.average = 100, .burst = 7};
    SvNetdevBandwidthRate out = {.average = 4};
    SvNetdevBandwidthRate huge = {.average = G_GUINT64_CONSTANT(1125899906842624)};
    g_autofree char *got = lines_for(&in, &out, FALSE);
    g_autofree char *big = lines_for(&huge, NULL, TRUE);
    g_autofree char *big_in = lines_for(NULL, &huge, TRUE);

    g_assert_cmpstr(got, ==,
                    CLEAR "\n"
                    "tc qdisc add dev vnet0 root handle 1: htb default 1\n"
                    "tc class add dev vnet0 parent 1: classid 1:1 htb rate 4kbps quantum 1\n"
                    "tc qdisc add dev vnet0 parent 1:1 handle 2: sfq perturb 10\n"
                    "tc filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"
                    "tc qdisc add dev vnet0 ingress\n"
                    "tc filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police "
                    "rate 100kbps burst 7kb mtu 64kb drop flowid :1");
    g_assert_nonnull(strstr(big, "htb rate 1125899906842624kbps quantum 96076792050570\n"));
    /* Without a burst the policer's is the average, at most 4 GiB - 1 in bytes. */
    g_assert_nonnull(strstr(big_in, "police rate 1125899906842624kbps burst 4194303kb "));
}

/* An average of 0 shapes nothing (the tx side needs one); the policed side is set even
 * so, as libvirt does; neither direction only clears; NULL does nothing at all. */
static void
test_empty_and_zero(void)
{
    SvNetdevBandwidthRate zero = {0};
    g_autofree char *none = lines_for(NULL, NULL, TRUE);
    g_autofree char *tx_zero = lines_for(&zero, NULL, TRUE);
    g_autofree char *rx_zero = lines_for(NULL, &zero, TRUE);
    Recorder r = {g_ptr_array_new_with_free_func(g_free), -1};

    g_assert_cmpstr(none, ==, CLEAR);
    g_assert_cmpstr(tx_zero, ==, CLEAR);
    g_assert_cmpstr(rx_zero, ==,
                    CLEAR "\ntc qdisc add dev vnet0 ingress\n"
                    "tc filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police "
                    "rate 0kbps burst 0kb mtu 64kb drop flowid :1");
    sv_netdev_bandwidth_set_runner(record, &r);
    g_assert_true(sv_netdev_bandwidth_set("vnet0", NULL, TRUE, NULL));
    g_assert_cmpuint(r.lines->len, ==, 0);
    g_assert_true(sv_netdev_bandwidth_set_root_qdisc("vnet0", "noqueue", NULL));
    g_assert_cmpstr(r.lines->pdata[0], ==,
                    "tc qdisc add dev vnet0 root handle 0: noqueue [ignored]");
    sv_netdev_bandwidth_set_runner(NULL, NULL);
    g_ptr_array_unref(r.lines);
}

/* The first failing command stops the set with libvirt's error for it. */
static void
test_failure_stops(void)
{
    Recorder r = {g_ptr_array_new_with_free_func(g_free), 4};
    SvNetdevBandwidthRate in = {.average = 10};
    SvNetdevBandwidth bw = {&in, &in};
    g_autoptr(GError) error = NULL;

    sv_netdev_bandwidth_set_runner(record, &r);
    g_assert_false(sv_netdev_bandwidth_set("vnet0", &bw, TRUE, &error));
    sv_netdev_bandwidth_set_runner(NULL, NULL);
    g_assert_cmpuint(r.lines->len, ==, 5);
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(error->message, ==,
                    "internal error: Child process (tc qdisc add dev vnet0 parent 1:1 handle 2: "
                    "sfq perturb 10) unexpected exit status 2: Error: Specified qdisc kind is "
                    "unknown.\n");
    g_ptr_array_unref(r.lines);
}

static void
test_floor(void)
{
    SvNetdevBandwidthRate in = {.floor = 3};
    SvNetdevBandwidth bw = {&in, NULL};
    g_autoptr(GError) error = NULL;

    g_assert_true(sv_netdev_bandwidth_has_floor(&bw));
    g_assert_false(sv_netdev_bandwidth_has_floor(NULL));
    sv_netdev_bandwidth_floor_error("52:54:00:aa:bb:01", SV_FROM_QEMU, &error);
    g_assert_cmpint(error->code, ==, SV_ERR_OPERATION_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==,
                    "Operation not supported: Invalid use of 'floor' on interface with MAC "
                    "address 52:54:00:aa:bb:01 - 'floor' is only supported for interface type "
                    "'network' with forward type 'nat', 'route', 'open' or none");
}

static char *
tc_show(const char *what)
{
    g_autofree char *cmd = g_strdup_printf("tc %s show dev lo", what);
    char *out = NULL;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
    return out;
}

/* For real, on lo in a network namespace of this test's own: the full layout where the
 * kernel has it (and its clear); else the first refusal comes back as libvirt's error. */
static void
test_real_tc(void)
{
    SvNetdevBandwidthRate in = {.average = 1000, .peak = 2000, .burst = 64};
    SvNetdevBandwidthRate out = {.average = 500};
    SvNetdevBandwidth bw = {&in, &out};
    g_autoptr(GError) error = NULL;
    g_autofree char *tc = g_find_program_in_path("tc");
    g_autofree char *shown = NULL;
    g_autofree char *after = NULL;
    gboolean ok;

    if (geteuid() != 0 || !tc || unshare(CLONE_NEWNET) != 0) {
        g_test_skip("needs root, tc and a network namespace of its own");
        return;
    }
    /* Modules libvirt's layout loads through tc; a kernel without them refuses below. */
    g_spawn_command_line_sync("modprobe -q -a sch_htb sch_sfq cls_fw sch_ingress cls_u32 "
                              "act_police", NULL, NULL, NULL, NULL);
    ok = sv_netdev_bandwidth_set("lo", &bw, TRUE, &error);
    shown = tc_show("qdisc");
    g_assert_true(sv_netdev_bandwidth_clear("lo", NULL));
    after = tc_show("qdisc");
    g_assert_null(strstr(after, "htb"));
    g_assert_null(strstr(after, "ingress"));
    if (!ok) {
        /* The message is tc's own, in libvirt's words for a failed child. */
        g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
        g_assert_true(g_str_has_prefix(error->message, "internal error: Child process (tc "));
        g_autofree char *why = g_strdup_printf(
            "this kernel lacks part of libvirt's tc layout (sch_sfq, cls_fw or act_police; "
            "modprobe could not load it): %s", error->message);

        g_test_skip(why);
        return;
    }
    g_assert_no_error(error);
    g_assert_nonnull(strstr(shown, "qdisc htb 1: root"));
    g_assert_nonnull(strstr(shown, "qdisc sfq 2: parent 1:1"));
    g_assert_nonnull(strstr(shown, "qdisc ingress ffff:"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/netdev-bandwidth/tap-both-directions", test_tap_both_directions);
    g_test_add_func("/netdev-bandwidth/network-bridge-classes", test_network_bridge_classes);
    g_test_add_func("/netdev-bandwidth/directions-and-units", test_directions_and_units);
    g_test_add_func("/netdev-bandwidth/empty-and-zero", test_empty_and_zero);
    g_test_add_func("/netdev-bandwidth/failure-stops", test_failure_stops);
    g_test_add_func("/netdev-bandwidth/floor", test_floor);
    g_test_add_func("/netdev-bandwidth/real-tc", test_real_tc);
    return g_test_run();
}
