/* test-proc-family.c: the driver family of the remote program's procedures, as the
 * generated table (gen_dispatch.py --families) gives it: the connection libvirt would serve
 * each on, spot-checked where a name could mislead (DOMAIN_INTERFACE_*, NODE_GET_*). */
#include <glib.h>

#include "protocol/remote_dispatch.h"

static SvProcFamily
family_of(int proc)
{
    const SvProcInfo *p = sv_program_info_lookup(&sv_remote_handlers_info, proc);

    g_assert_nonnull(p);
    return p->family;
}

static void
test_secondary(void)
{
    g_assert_cmpint(family_of(REMOTE_PROC_SECRET_DEFINE_XML), ==, SV_PROC_FAMILY_SECRET);
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_LIST_ALL_SECRETS), ==, SV_PROC_FAMILY_SECRET);
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_NUM_OF_SECRETS), ==, SV_PROC_FAMILY_SECRET);
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY), ==,
                    SV_PROC_FAMILY_SECRET);
    g_assert_cmpint(family_of(REMOTE_PROC_SECRET_EVENT_LIFECYCLE), ==, SV_PROC_FAMILY_SECRET);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_LIST_DEVICES), ==, SV_PROC_FAMILY_NODEDEV);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_NUM_OF_DEVICES), ==, SV_PROC_FAMILY_NODEDEV);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_DEVICE_GET_XML_DESC), ==, SV_PROC_FAMILY_NODEDEV);
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_LIST_ALL_NODE_DEVICES), ==,
                    SV_PROC_FAMILY_NODEDEV);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN), ==,
                    SV_PROC_FAMILY_NODEDEV);
}

static void
test_primary(void)
{
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_OPEN), ==, SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_GET_INFO), ==, SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_NODE_GET_FREE_MEMORY), ==, SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_DOMAIN_INTERFACE_STATS), ==, SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES), ==,
                    SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS), ==, SV_PROC_FAMILY_PRIMARY);
    g_assert_cmpint(family_of(REMOTE_PROC_AUTH_LIST), ==, SV_PROC_FAMILY_PRIMARY);
}

/* The names are the URI schemes and the daemons' names (virt<name>d). */
static void
test_names(void)
{
    for (int f = 0; f < SV_PROC_FAMILY_LAST; f++)
        g_assert_cmpint(sv_proc_family_from_string(sv_proc_family_to_string(f)), ==, f);
    g_assert_cmpstr(sv_proc_family_to_string(SV_PROC_FAMILY_NODEDEV), ==, "nodedev");
    g_assert_cmpstr(sv_proc_family_to_string(SV_PROC_FAMILY_NWFILTER), ==, "nwfilter");
    g_assert_null(sv_proc_family_to_string(SV_PROC_FAMILY_LAST));
    g_assert_cmpint(sv_proc_family_from_string("qemu"), ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proc-family/secondary", test_secondary);
    g_test_add_func("/proc-family/primary", test_primary);
    g_test_add_func("/proc-family/names", test_names);
    return g_test_run();
}
