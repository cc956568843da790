/* lxc_driver.c: virtlxcd's connection and host procedures, configuration and set-up. */
#include "lxc_driver.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "conf/cpu_x86_host.h"
#include "domain/domain_hotplug.h"
#include "domain/domain_cpu_compare.h"
#include "domain/domain_driver.h"
#include "domain/domain_ifaddr.h"
#include "domain/domain_keys.h"
#include "domain/domain_iotune.h"
#include "domain/domain_rename.h"
#include "domain/domain_stats.h"
#include "domain/domain_host.h"
#include "util/cgroup.h"
#include "lxc_hotplug.h"
#include "lxc_process.h"
#include "programs/qemu.h"
#include "programs/remote.h"
#include "util/error.h"
#include "util/host.h"

/* The library version we report: the libvirt release whose protocol we speak. */
#define SUPERVISOR_NAME "virtlxcd-supervisor"

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    char *host_uuid;
    SvDomainList *list;
    SvDomainStore *store;
    SvDomainDriver domains;
    LxcProcessContext process;
} LxcDriver;

/* The driver holding d (its `domains`): handlers reach it from their call's server, so
 * two drivers may share a process. */
static LxcDriver *
lxc_driver_from(SvDomainDriver *d)
{
    return (LxcDriver *)((char *)d - G_STRUCT_OFFSET(LxcDriver, domains));
}

/* ---------------------------------------------------------------- open */

/* libvirt's lxcConnectOpen: lxc:///system, and the empty, "/" or missing path too; the
 * connection always calls itself lxc:///system. No migration of any kind. */
static const char *const lxc_paths[] = {"", "/", "/system", NULL};
static const SvConnectFacts lxc_connect = {
    .scheme = "lxc",
    .paths = lxc_paths,
    .path_error = "Unexpected LXC URI path",
    .path_error_from = SV_FROM_LXC,
    .default_uri = "lxc:///system",
    .uri_is_default = TRUE,
    .type = "LXC",
};

/* ---------------------------------------------------------------- host */

/* The "hypervisor" version of containers is the kernel's: major * 1000000 + minor * 1000 +
 * micro, from uname's release ("6.1.0-18-amd64" gives 6001000). */
static gboolean
connect_get_version(SvCall *call, remote_connect_get_version_ret *ret, GError **error)
{
    struct utsname u;
    guint64 part[3] = {0, 0, 0};
    const char *p;

    (void)call;
    uname(&u);
    p = u.release;
    for (int i = 0; i < 3; i++) {
        char *end;
        if (!g_ascii_isdigit(*p))
            break;
        part[i] = g_ascii_strtoull(p, &end, 10);
        p = end;
        if (*p != '.')
            break;
        p++;
    }
    if (!g_ascii_isdigit(u.release[0])) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR, "Unknown release: %s",
                     u.release);
        return FALSE;
    }
    ret->hv_ver = part[0] * 1000000 + part[1] * 1000 + part[2];
    return TRUE;
}

static char *
capabilities_xml(LxcDriver *drv)
{
    GString *s = g_string_new("<capabilities>\n\n");
    SvHostCpuModel cpu;

    sv_cpu_x86_host_model(&cpu);
    sv_host_capabilities_begin(s, drv->host_uuid, &cpu, "");
    g_string_append(s, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
                       "    </secmodel>\n  </host>\n\n");
    g_string_append_printf(s,
                           "  <guest>\n    <os_type>exe</os_type>\n"
                           "    <arch name='%s'>\n      <wordsize>64</wordsize>\n"
                           "      <emulator>%s</emulator>\n"
                           "      <domain type='lxc'/>\n    </arch>\n  </guest>\n\n"
                           "</capabilities>\n",
                           sv_host_arch(), drv->process.supervisor);
    return g_string_free(s, FALSE);
}

static gboolean
connect_get_capabilities(SvCall *call, remote_connect_get_capabilities_ret *ret, GError **error)
{
    (void)error;
    ret->capabilities = capabilities_xml(lxc_driver_from(sv_domain_driver_of(call)));
    return TRUE;
}

/* ---------------------------------------------------------------- definitions */

/* The first CPU or tuning element of def a container does not get, or NULL. */
static const char *
lxc_tuning_unsupported(const SvDomainDef *def)
{
    g_autoptr(GPtrArray) empty = g_ptr_array_new();
    SvDomainDef rest = *def; /* a shallow copy, only looked at */

    rest.cputune.shares_specified = FALSE;
    rest.cputune.period = 0;
    rest.cputune.quota = 0;
    rest.memtune.hard_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    rest.memtune.soft_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    rest.memtune.swap_hard_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    rest.blkio_weight = 0;
    rest.blkio_devices = empty;
    return sv_domain_cpu_tuning_used(&rest);
}

/* What a container must be, beyond what the XML parser checks. What only matters when it
 * starts (root filesystem, console, interfaces) is checked then (lxc_spec.c). */
static gboolean
check_def(LxcDriver *driver, SvDomainDef *def, GError **error)
{
    const char *emulator = def->emulator ? def->emulator : driver->process.supervisor;

    if (def->type != SV_DOMAIN_VIRT_LXC) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support virt type '%s'", emulator,
                     sv_domain_virt_type_to_string(def->type));
        return FALSE;
    }
    if (!g_str_equal(def->os.type, "exe")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support os type '%s'", emulator, def->os.type);
        return FALSE;
    }
    if (!def->os.init) {
        /* libvirt's domain_conf.c says so for every exe domain. */
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "init binary must be specified");
        return FALSE;
    }
    /* Containers get their memory limit, their <cputune> shares, period and quota, their
     * <memtune> limits and <blkiotune> (lxc_tune.c), nothing else of the CPU and tuning
     * elements: refused rather than dropped. */
    if (lxc_tuning_unsupported(def)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s is not supported by the LXC driver", lxc_tuning_unsupported(def));
        return FALSE;
    }
    /* libvirt's parser gives every interface without one a MAC, as a define shows it (and
     * an interface attached to the persistent definition). */
    for (guint i = 0; i < def->interfaces->len; i++) {
        SvDomainNetDef *n = def->interfaces->pdata[i];
        if (!n->mac)
            n->mac = sv_domain_net_generate_mac();
    }
    return TRUE;
}

static gboolean
lxc_check_def(SvDomainDriver *d, SvDomainDef *def, GError **error)
{
    return check_def(lxc_driver_from(d), def, error);
}

/* ---------------------------------------------------------------- daemon glue */

/* The supervisor binary: `supervisor` in virtlxcd.conf, else the one next to this daemon
 * (a build tree), else the installed one. */
static char *
find_supervisor(SvConfFile *conf, GError **error)
{
    g_autofree char *configured = NULL;
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);

    if (!sv_conf_file_get_string(conf, "supervisor", &configured, error))
        return NULL;
    if (configured)
        return g_steal_pointer(&configured);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        char *beside = g_build_filename(dir, SUPERVISOR_NAME, NULL);
        if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
            return beside;
        g_free(beside);
    }
    return g_build_filename(LXC_LIBEXECDIR, SUPERVISOR_NAME, NULL);
}

static gboolean
load_config(SvDaemon *d, LxcProcessContext *p, GError **error)
{
    SvConfFile *conf = sv_daemon_get_config(d);

    if (!sv_kill_timeouts_load(conf, &p->timeouts, error) ||
        !sv_cgroup_load_config(conf, sv_daemon_get_root(d), &p->cgroup_root, &p->cgroup_parent,
                               error))
        return FALSE;
    p->supervisor = find_supervisor(conf, error);
    return p->supervisor != NULL;
}

static gboolean
load_check(SvDomainDef *def, gpointer data, GError **error)
{
    return check_def(data, def, error);
}

static void
lxc_process_context_clear(LxcProcessContext *p)
{
    g_free(p->run_dir);
    g_free(p->log_dir);
    g_free(p->family_run_dir);
    g_free(p->supervisor);
    g_free(p->cgroup_root);
    g_free(p->cgroup_parent);
}

/* Issue 18: what management tools call on running containers and on the host, served as
 * libvirt's LXC driver serves it (its NO_SUPPORT where it has none). */
static void
install_runtime_calls(LxcDriver *driver)
{
    /* issue 18, item 1: the per-guest statistics libvirt's LXC driver does not serve */
    sv_domain_stats_install_no_support(
        &driver->handlers, SV_STATS_GET_VCPUS | SV_STATS_GET_VCPUS_FLAGS |
                               SV_STATS_GET_VCPU_PIN_INFO | SV_STATS_GET_EMULATOR_PIN_INFO |
                               SV_STATS_GET_BLOCK_INFO | SV_STATS_GET_JOB_INFO |
                               SV_STATS_GET_JOB_STATS | SV_STATS_SET_MEMORY_STATS_PERIOD |
                               SV_STATS_GET_TIME);
    /* Issue 18 item 5, host facts: the node's statistics, read from /proc and /sys as
     * libvirt's lxc driver reads them. */
    sv_domain_host_install_node(&driver->domains, &driver->handlers);
    sv_domain_host_install_security_none(&driver->handlers); /* as its capabilities */
    /* issue 18, item 1: bulk stats (domstats): libvirt's LXC driver has none */
    sv_domain_stats_install_no_support(&driver->handlers, SV_STATS_CONNECT_GET_ALL_DOMAIN_STATS);
    /* issue 18, guest info and setguestvcpus: libvirt's LXC driver has none */
    sv_domain_stats_install_no_support(&driver->handlers,
                                       SV_STATS_GET_GUEST_INFO | SV_STATS_SET_GUEST_VCPUS);
    /* issue 18 item 2, virsh dump: libvirt's lxc driver has no core dump */
    sv_domain_stats_install_no_support(&driver->handlers,
                                       SV_STATS_CORE_DUMP | SV_STATS_CORE_DUMP_WITH_FORMAT);
    /* issue 18 item 2, guest operations: libvirt's LXC driver has no keys, NMIs,
     * screenshots or block resizes */
    sv_domain_guestops_install_no_support(&driver->handlers);
    /* issue 18 item 2, rename: libvirt's LXC driver has none (NO_SUPPORT) */
    sv_domain_rename_install_no_support(&driver->handlers);
    /* issue 18 item 5, CPU comparison and baseline: libvirt's LXC driver has none */
    sv_domain_cpu_compare_install_no_support(&driver->handlers);
    /* issue 18 items 1-3, the agent's calls: libvirt's LXC driver has no set-time,
     * fsfreeze/fsthaw, fsinfo or user password (NO_SUPPORT) */
    sv_domain_agent_install_no_support(&driver->handlers);
    /* issue 18, LXC tuning: the scheduler, memory and blkio parameters of a container's
     * cgroup, its memory, its interfaces' statistics (lxc_tune.c), its block statistics
     * (lxc_stats.c), and the host's SMBIOS tables (lxcConnectGetSysinfo) */
    lxc_tune_install(&driver->process, &driver->handlers);
    lxc_stats_install(&driver->handlers);
    sv_domain_host_install_sysinfo(&driver->domains, &driver->handlers);
    /* issue 18 item 2, block I/O throttling (blkdeviotune): libvirt's LXC driver has none
     * (NO_SUPPORT) */
    sv_domain_iotune_install_no_support(&driver->handlers);
    /* issue 18, CPU stats: the container's cpuacct cgroup, total and per host CPU
     * (lxc_cpustats.c) */
    lxc_cpustats_install(&driver->handlers);
    /* issue 18 item 2, LXC hotplug: devices attached to, detached from and updated in a
     * container's definitions, its interfaces live as veth pairs (lxc_hotplug.c); no
     * DETACH_DEVICE_ALIAS, as libvirt's LXC driver */
    lxc_hotplug_install(&driver->domains, &driver->handlers);
}

static gboolean
lxc_init(SvDaemon *d, GError **error)
{
    g_autofree char *config_dir = sv_daemon_path(d, "/etc/libvirt/lxc");
    LxcDriver *driver;
    guint n;
    SvRemoteHandlers own = {
        .connect_get_version = connect_get_version,
        .connect_get_capabilities = connect_get_capabilities,
    };

    driver = g_new0(LxcDriver, 1);
    driver->daemon = d;
    if (!load_config(d, &driver->process, error)) {
        lxc_process_context_clear(&driver->process);
        g_free(driver);
        return FALSE;
    }
    driver->host_uuid = g_strdup(sv_daemon_host_uuid(d));
    driver->list = sv_domain_list_new();
    driver->store = sv_domain_store_new(config_dir);
    driver->domains = (SvDomainDriver){
        .prefix = "lxc",
        .from = SV_FROM_LXC,
        .lookup_style = SV_LOOKUP_STYLE_LXC,
        .server = sv_daemon_get_server(d),
        .connect = &lxc_connect,
        .list = driver->list,
        .store = driver->store,
        .check_def = lxc_check_def,
        .cpu_time = lxc_process_cpu_time,
        .run_facts = &lxc_run_facts,
        .hold = sv_daemon_hold,
        .holder = d,
        .data = &driver->process,
    };
    driver->process.daemon = d;
    driver->process.domains = &driver->domains;
    driver->process.run_dir = sv_daemon_path(d, "/run/libvirt/lxc");
    driver->process.log_dir = sv_daemon_path(d, "/var/log/libvirt/lxc");
    driver->process.family_run_dir = sv_daemon_path(d, "/run/libvirt");
    n = sv_domain_store_load_all(driver->store, driver->list, load_check, driver);
    g_debug("loaded %u container definitions from %s; supervisor %s, cgroups %s/*/%s", n,
            config_dir, driver->process.supervisor, driver->process.cgroup_root,
            driver->process.cgroup_parent);
    sv_remote_common_handlers(&driver->handlers);
    sv_domain_driver_install(&driver->domains, &driver->handlers);
    lxc_process_install(&driver->process, &driver->handlers);
    lxc_console_install(&driver->process, &driver->handlers);
    lxc_process_reconnect_all(&driver->process);
    sv_remote_handlers_overlay(&driver->handlers, &own);
    install_runtime_calls(driver);
    sv_daemon_serve_remote(d, &driver->handlers);
    /* Issue 18 item 4: libvirt-qemu, answered as libvirt's LXC driver (none of it). */
    sv_qemu_serve_unsupported(sv_daemon_get_server(d), FALSE);
    sv_daemon_set_driver_data(d, driver);
    return TRUE;
}

static void
lxc_cleanup(SvDaemon *d)
{
    LxcDriver *driver = sv_daemon_get_driver_data(d);

    /* Containers keep running: their supervisors do not depend on us. */
    sv_domain_store_flush(driver->store);
    sv_domain_list_free(driver->list);
    sv_domain_store_free(driver->store);
    if (driver->domains.pending)
        g_hash_table_unref(driver->domains.pending);
    lxc_process_context_clear(&driver->process);
    g_free(driver->host_uuid);
    g_free(driver);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver lxc_daemon_driver = {
    .name = "virtlxcd",
    .sock_prefix = "virtlxcd",
    .driver_name = "LXC",
    .relay_families = SV_PROC_FAMILIES_SECONDARY,
    .init = lxc_init,
    .cleanup = lxc_cleanup,
};
