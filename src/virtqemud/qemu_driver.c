/* qemu_driver.c: virtqemud's connection and host procedures. */
#include "qemu_driver.h"
#include "qemu_coredump.h"
#include "qemu_migration.h"
#include "qemu_graphicsfd.h"
#include "qemu_guestops.h"
#include "qemu_iotune.h"
#include "qemu_migrate_calls.h"
#include "qemu_update.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <selinux/selinux.h>

#include "conf/cpu_x86_host.h"
#include "domain/domain_driver.h"
#include "domain/domain_host.h"
#include "domain/domain_hotplug.h"
#include "domain/domain_ifparams.h"
#include "qemu_hotplug.h"
#include "domain/domain_rename.h"
#include "programs/remote.h"
#include "qemu_agent.h"
#include "qemu_agent_calls.h"
#include "qemu_agent_info.h"
#include "qemu_caps.h"
#include "qemu_cpu_compare.h"
#include "qemu_cpu_models.h"
#include "qemu_command.h"
#include "qemu_resize.h"
#include "qemu_sched.h"
#include "qemu_blkio.h"
#include "qemu_firmware.h"
#include "qemu_firmware_desc.h"
#include "qemu_domcaps.h"
#include "qemu_program.h"
#include "qemu_command_net.h"
#include "qemu_postparse.h"
#include "qemu_process.h"
#include "qemu_security.h"
#include "qemu_stats.h"
#include "sv-config.h"
#include "util/cgroup.h"
#include "util/error.h"
#include "util/host.h"

/* The library version we report: the libvirt release whose protocol we speak. */

/* What libvirt's QEMU driver answers for the vCPUs of a TCG guest (virConnectGetMaxVcpus). */
#define QEMU_TCG_MAX_VCPUS 16

typedef struct {
    SvDaemon *daemon;
    QemuCaps *caps;
    SvRemoteHandlers handlers;
    gboolean kvm;
    char *host_uuid;
    SvDomainList *list;
    SvDomainStore *store;
    SvDomainDriver domains;
    QemuProcessContext process;
    QemuSecurity *security;
    /* The shared DOMAIN_GET_XML_DESC, which the live <seclabel> is added to. */
    gboolean (*common_get_xml_desc)(SvCall *call, remote_domain_get_xml_desc_args *args,
                                    remote_domain_get_xml_desc_ret *ret, GError **error);
} QemuDriver;

/* The driver holding d (its `domains`): handlers reach it from their call's server, so
 * two drivers may share a process. */
static QemuDriver *
qemu_driver_from(SvDomainDriver *d)
{
    return (QemuDriver *)((char *)d - G_STRUCT_OFFSET(QemuDriver, domains));
}

static QemuDriver *
qemu_driver_of(SvCall *call)
{
    return qemu_driver_from(sv_domain_driver_of(call));
}

/* ---------------------------------------------------------------- open */

static const char *const qemu_paths[] = {"/system", "/session", NULL};
/* The migration features libvirt's QEMU driver offers. */
static const int qemu_features[] = {
    SV_DRV_FEATURE_MIGRATION_V2, SV_DRV_FEATURE_MIGRATION_P2P, SV_DRV_FEATURE_MIGRATION_V3,
    SV_DRV_FEATURE_MIGRATE_CHANGE_PROTECTION, SV_DRV_FEATURE_XML_MIGRATABLE,
    SV_DRV_FEATURE_MIGRATION_OFFLINE, SV_DRV_FEATURE_MIGRATION_PARAMS, 0,
};
static const SvConnectFacts qemu_connect = {
    .scheme = "qemu",
    .paths = qemu_paths,
    .path_error = "unexpected qemu URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "qemu:///system",
    .type = "QEMU",
    .features = qemu_features,
};

/* ---------------------------------------------------------------- host */

/* The host kernel's limit of vCPUs for a KVM guest, as libvirt's virHostCPUGetKVMMaxVCPUs
 * asks it: KVM_CAP_MAX_VCPUS, else the recommended KVM_CAP_NR_VCPUS, else 4 (the minimum
 * the kernel's documentation promises). */
static int
kvm_max_vcpus(GError **error)
{
    int fd = open("/dev/kvm", O_RDONLY | O_CLOEXEC);
    int n;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Unable to open %s", "/dev/kvm");
        return -1;
    }
    n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    close(fd);
    return n > 0 ? n : 4;
}

/* libvirt's qemuConnectGetMaxVcpus: 16 for TCG ("qemu") and for no type, which is libvirt's
 * own figure (the domain capabilities carry the machine's real limit), and the kernel's for
 * "kvm". */
static gboolean
connect_get_max_vcpus(SvCall *call, remote_connect_get_max_vcpus_args *args,
                      remote_connect_get_max_vcpus_ret *ret, GError **error)
{
    const char *type = args->type ? *args->type : NULL;
    int n;

    (void)call;
    if (!type || g_ascii_strcasecmp(type, "qemu") == 0)
        n = QEMU_TCG_MAX_VCPUS;
    else if (g_ascii_strcasecmp(type, "kvm") == 0)
        n = kvm_max_vcpus(error);
    else {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unknown type '%s'", type);
        return FALSE;
    }
    if (n < 0)
        return FALSE;
    ret->max_vcpus = n;
    return TRUE;
}

/* ---------------------------------------------------------------- security */

/* A char<> string as libvirt sends it: its NUL counted, so "" is [0]. */
static char *
wire_chars(const char *s, u_int *out_len)
{
    *out_len = (u_int)strlen(s) + 1;
    return g_strdup(s);
}

static gboolean
node_get_security_model(SvCall *call, remote_node_get_security_model_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);

    const char *model = qemu_security_get_model(driver->security);
    gboolean none = !*model;

    (void)error;
    /* The capabilities' first <secmodel>, as libvirt answers: without SELinux that is its
     * "none" driver, model "none" and doi "0" (virsh dominfo prints them). */
    ret->model.model_val = wire_chars(none ? "none" : model, &ret->model.model_len);
    ret->doi.doi_val = wire_chars(none ? "0" : qemu_security_get_doi(driver->security),
                                  &ret->doi.doi_len);
    return TRUE;
}

static gboolean
domain_get_security_label(SvCall *call, remote_domain_get_security_label_args *args,
                          remote_domain_get_security_label_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);
    SvDomainObj *obj = sv_domain_list_lookup_handle(driver->list, &args->dom, SV_FROM_QEMU, error);
    const QemuSecLabel *label;
    const char *text;

    if (!obj)
        return FALSE;
    /* As libvirt: a running guest's label and the host's enforcing mode; an
     * inactive or unlabelled guest has the empty label. */
    label = sv_domain_obj_is_active(obj) ? qemu_process_get_seclabel(obj) : NULL;
    text = label ? qemu_security_label_get_label(label) : NULL;
    ret->label.label_val = wire_chars(text ? text : "", &ret->label.label_len);
    ret->enforcing = text ? security_getenforce() > 0 : 0;
    return TRUE;
}

/* The shared formatter knows no dynamic labels (a definition cannot ask for
 * one): the live XML of a labelled guest gets its <seclabel> here, where
 * libvirt puts it, last in <domain>. */
static gboolean
domain_get_xml_desc(SvCall *call, remote_domain_get_xml_desc_args *args,
                    remote_domain_get_xml_desc_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);
    const QemuSecLabel *label;
    g_autofree char *element = NULL;
    SvDomainObj *obj;
    char *end;

    if (!driver->common_get_xml_desc(call, args, ret, error))
        return FALSE;
    obj = sv_domain_list_lookup_handle(driver->list, &args->dom, SV_FROM_QEMU, NULL);
    if (!obj || (args->flags & SV_DOMAIN_XML_INACTIVE) || !sv_domain_obj_is_active(obj) ||
        !(label = qemu_process_get_seclabel(obj)))
        return TRUE;
    end = g_strrstr(ret->xml, "</domain>");
    if (end) {
        char *xml = ret->xml;
        element = qemu_security_label_format_xml(driver->security, label,
                                                  (args->flags & SV_DOMAIN_XML_MIGRATABLE) != 0);
        *end = '\0';
        ret->xml = g_strconcat(xml, element, "</domain>", end + strlen("</domain>"), NULL);
        g_free(xml);
    }
    return TRUE;
}

static void
append_secmodel(GString *s, QemuSecurity *sec)
{
    const char *model = qemu_security_get_model(sec);
    g_autofree char *dac = qemu_security_get_dac_label(sec);

    if (!*model) {
        g_string_append(s, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
                           "    </secmodel>\n");
    } else {
        g_string_append_printf(s,
                               "    <secmodel>\n      <model>%s</model>\n      <doi>%s</doi>\n",
                               model, qemu_security_get_doi(sec));
        g_string_append_printf(s, "      <baselabel type='kvm'>%s</baselabel>\n",
                               qemu_security_get_base_label(sec, TRUE));
        g_string_append_printf(s, "      <baselabel type='qemu'>%s</baselabel>\n",
                               qemu_security_get_base_label(sec, FALSE));
        g_string_append(s, "    </secmodel>\n");
    }
    /* libvirt stacks its DAC driver under the primary one, labelled with QEMU's identity. */
    g_string_append_printf(s,
                           "    <secmodel>\n      <model>dac</model>\n      <doi>0</doi>\n"
                           "      <baselabel type='kvm'>%s</baselabel>\n"
                           "      <baselabel type='qemu'>%s</baselabel>\n    </secmodel>\n",
                           dac, dac);
}

static char *
capabilities_xml(QemuDriver *drv)
{
    GString *s = g_string_new("<capabilities>\n\n");
    SvHostCpuModel cpu;

    sv_cpu_x86_host_model(&cpu);
    sv_host_capabilities_begin(s, drv->host_uuid, &cpu, "");
    append_secmodel(s, drv->security);
    g_string_append(s, "  </host>\n\n");
    qemu_capabilities_append_guests(s, drv->caps, drv->kvm);
    g_string_append(s, "</capabilities>\n");
    return g_string_free(s, FALSE);
}

/* CONNECT_GET_VERSION and CONNECT_GET_CAPABILITIES need the probe; the first
 * caller after a QEMU change waits for it without blocking anyone else. */
static void
answer_with_caps(SvCall *call, QemuCaps *caps)
{
    int proc = sv_call_get_header(call)->proc;

    if (proc == REMOTE_PROC_CONNECT_GET_VERSION) {
        remote_connect_get_version_ret ret = {qemu_caps_get_version(caps)};
        sv_call_reply(call, &ret);
    } else {
        remote_connect_get_capabilities_ret ret = {capabilities_xml(qemu_driver_of(call))};
        sv_call_reply(call, &ret);
        g_free(ret.capabilities);
    }
}

static void
caps_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    SvCall *call = data;

    if (error)
        sv_call_fail(call, g_error_copy(error));
    else
        answer_with_caps(call, caps);
}

static gboolean
connect_get_version(SvCall *call, remote_connect_get_version_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);

    (void)error;
    if (qemu_caps_is_ready(driver->caps)) {
        ret->hv_ver = qemu_caps_get_version(driver->caps);
        return TRUE;
    }
    qemu_caps_probe_async(driver->caps, caps_ready, sv_call_defer(call));
    return TRUE;
}

/* A CONNECT_GET_DOMAIN_CAPABILITIES waiting for the probe, with its arguments. */
typedef struct {
    SvCall *call;
    char *emulatorbin, *arch, *machine, *virttype;
    unsigned int flags;
} DomcapsWait;

static void
domcaps_wait_free(DomcapsWait *w)
{
    g_free(w->emulatorbin);
    g_free(w->arch);
    g_free(w->machine);
    g_free(w->virttype);
    g_free(w);
}

static char *
domcaps_answer(QemuDriver *driver, const DomcapsWait *w, GError **error)
{
    QemuDomcapsRequest req = {
        .emulatorbin = w->emulatorbin,
        .arch = w->arch,
        .machine = w->machine,
        .virttype = w->virttype,
        .flags = w->flags,
        .kvm_usable = driver->kvm,
        .vfio_usable = qemu_domcaps_host_vfio(),
        .swtpm = qemu_domcaps_host_swtpm(),
        .firmware_dirs = qemu_firmware_desc_dirs,
    };

    return qemu_domcaps_get(driver->caps, &req, error);
}

static void
domcaps_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    DomcapsWait *w = data;
    GError *local = NULL;
    remote_connect_get_domain_capabilities_ret ret = {NULL};

    (void)caps;
    if (error)
        sv_call_fail(w->call, g_error_copy(error));
    else if (!(ret.capabilities = domcaps_answer(qemu_driver_of(w->call), w, &local)))
        sv_call_fail(w->call, local);
    else
        sv_call_reply(w->call, &ret);
    g_free(ret.capabilities);
    domcaps_wait_free(w);
}

static gboolean
connect_get_domain_capabilities(SvCall *call, remote_connect_get_domain_capabilities_args *args,
                                remote_connect_get_domain_capabilities_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);
    DomcapsWait *w = g_new0(DomcapsWait, 1);

    w->emulatorbin = g_strdup(args->emulatorbin ? *args->emulatorbin : NULL);
    w->arch = g_strdup(args->arch ? *args->arch : NULL);
    w->machine = g_strdup(args->machine ? *args->machine : NULL);
    w->virttype = g_strdup(args->virttype ? *args->virttype : NULL);
    w->flags = args->flags;
    if (qemu_caps_is_ready(driver->caps)) {
        ret->capabilities = domcaps_answer(driver, w, error);
        domcaps_wait_free(w);
        return ret->capabilities != NULL;
    }
    w->call = sv_call_defer(call);
    qemu_caps_probe_async(driver->caps, domcaps_ready, w);
    return TRUE;
}

static gboolean
connect_get_capabilities(SvCall *call, remote_connect_get_capabilities_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);

    (void)error;
    if (qemu_caps_is_ready(driver->caps)) {
        ret->capabilities = capabilities_xml(driver);
        return TRUE;
    }
    qemu_caps_probe_async(driver->caps, caps_ready, sv_call_defer(call));
    return TRUE;
}

/* ---------------------------------------------------------------- definitions */

/* What a QEMU guest must be, beyond what the XML parser checks. */
static gboolean
qemu_check_def(SvDomainDriver *d, SvDomainDef *def, GError **error)
{
    QemuDriver *driver = qemu_driver_from(d);
    const char *emulator = def->emulator ? def->emulator : qemu_caps_get_emulator(driver->caps);

    if (def->type != SV_DOMAIN_VIRT_QEMU && def->type != SV_DOMAIN_VIRT_KVM) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support virt type '%s'", emulator,
                     sv_domain_virt_type_to_string(def->type));
        return FALSE;
    }
    if (def->os.type && !g_str_equal(def->os.type, "hvm")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support os type '%s'", emulator, def->os.type);
        return FALSE;
    }
    /* Checked at define as libvirt does (its capabilities lookup stats the binary), and
     * at every start again. */
    if (!qemu_command_check_emulator(emulator, qemu_caps_get_emulator(driver->caps),
                                     (const char *const *)driver->process.allowed_emulators,
                                     TRUE, error))
        return FALSE;
    if (!qemu_command_check_def(def, error))
        return FALSE;
    /* DEFINE_XML and CREATE_XML wait for the probe (qemu_defs_ready): this is a guard. */
    if (!qemu_caps_is_ready(driver->caps)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "The capabilities of QEMU '%s' are still being probed; try again",
                     qemu_caps_get_emulator(driver->caps));
        return FALSE;
    }
    qemu_net_assign_macs(def, d->list);
    if (!qemu_domain_def_post_parse(def, driver->caps, error))
        return FALSE;
    qemu_firmware_post_parse(def, driver->process.nvram_dir);
    return TRUE;
}

/* The NVRAM of the persistent definition (a running guest's live one is the same file). */
static gboolean
qemu_undefine_extras(SvDomainDriver *d, SvDomainObj *obj, guint flags, GError **error)
{
    QemuDriver *driver = qemu_driver_from(d);
    const SvDomainDef *def = obj->new_def ? obj->new_def : obj->def;

    return qemu_firmware_undefine_nvram(def, driver->process.nvram_dir,
                                        (flags & SV_DOMAIN_UNDEFINE_NVRAM) != 0,
                                        (flags & SV_DOMAIN_UNDEFINE_KEEP_NVRAM) != 0, error);
}

/* libvirt knows its QEMU before it takes a definition (it probes at driver start); here the
 * probe starts with the daemon, and a define that comes before it ends waits for it. */
static gboolean
qemu_defs_ready(SvDomainDriver *d)
{
    return qemu_caps_is_ready(qemu_driver_from(d)->caps);
}

typedef struct {
    SvStoreDoneFunc fn;
    gpointer data;
} CapsWait;

static void
defs_caps_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    CapsWait *w = data;

    (void)caps;
    w->fn(error, w->data);
    g_free(w);
}

static void
qemu_wait_defs_ready(SvDomainDriver *d, SvStoreDoneFunc fn, gpointer data)
{
    CapsWait *w = g_new0(CapsWait, 1);

    w->fn = fn;
    w->data = data;
    qemu_caps_probe_async(qemu_driver_from(d)->caps, defs_caps_ready, w);
}

static void
start_probe_done(QemuCaps *caps, const GError *error, gpointer data)
{
    (void)data;
    if (error)
        g_warning("cannot probe QEMU '%s': %s", qemu_caps_get_emulator(caps), error->message);
}

/* ---------------------------------------------------------------- daemon glue */

/* A port range from its qemu.conf keys kmin and kmax, and their limits (remote_display_port:
 * vnc and spice autoports, from 5900; websocket_port: vnc websockets, from 5700). */
static QemuPorts *
ports_load(SvConfFile *conf, const char *kmin, const char *kmax, guint lowest, const char *name,
           GError **error)
{
    guint min = lowest, max = 65535;

    if (!sv_conf_file_get_uint(conf, kmin, &min, error) ||
        !sv_conf_file_get_uint(conf, kmax, &max, error))
        return NULL;
    if (min < lowest) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s: port must be greater than or equal to %u", kmin, lowest);
        return NULL;
    }
    if (max > 65535) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s: port must be lower than or equal to %d", kmax, 65535);
        return NULL;
    }
    if (min > max) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s: min port must not be greater than max port", kmin);
        return NULL;
    }
    return qemu_ports_new(name, min, max);
}

/* The probe runs QEMU as guests run (the security driver's identity), as libvirt does. */
static QemuCaps *
caps_new(const char *emulator, const char *cache, QemuSecurity *security)
{
    QemuCaps *caps = qemu_caps_new(emulator, cache);
    g_autofree char *identity = qemu_security_get_dac_label(security);

    qemu_caps_set_identity(caps, identity, qemu_security_child_setup, security);
    return caps;
}

/* The shared domain driver's facts for virtqemud. */
static void
domains_init(QemuDriver *driver, SvDaemon *d)
{
    driver->domains = (SvDomainDriver){
        .prefix = "qemu",
        .from = SV_FROM_QEMU,
        .lookup_style = SV_LOOKUP_STYLE_QEMU,
        .server = sv_daemon_get_server(d),
        .connect = &qemu_connect,
        .list = driver->list,
        .store = driver->store,
        .check_def = qemu_check_def,
        .undefine_extras = qemu_undefine_extras,
        .defs_ready = qemu_defs_ready,
        .wait_defs_ready = qemu_wait_defs_ready,
        .cpu_time = qemu_process_cpu_time,
        .run_facts = &qemu_run_facts,
        .hold = sv_daemon_hold,
        .holder = d,
        .data = &driver->process,
    };
}

/* virtqemud.conf's emulator list and port ranges, checked. */
static gboolean
load_emulators_and_ports(SvConfFile *conf, char **emulator, GStrv *allowed,
                         QemuPorts **display_ports, QemuPorts **websocket_ports, GError **error)
{
    if (!sv_conf_file_get_string(conf, "emulator", emulator, error) ||
        !sv_conf_file_get_strv(conf, "allowed_emulators", allowed, error))
        return FALSE;
    for (char **a = *allowed; a && *a; a++) {
        if (!g_path_is_absolute(*a)) {
            sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                         "allowed_emulators: '%s' is not an absolute path", *a);
            return FALSE;
        }
    }
    *display_ports = ports_load(conf, "remote_display_port_min", "remote_display_port_max",
                                5900, "display", error);
    *websocket_ports = *display_ports ? ports_load(conf, "websocket_port_min",
                                                   "websocket_port_max", 5700, "websocket",
                                                   error)
                                      : NULL;
    return *websocket_ports != NULL;
}

/* qemu.conf's migration keys (issue 21): the incoming migrations' port range (libvirt's
 * default 49152..49215) and listen address. */
static gboolean
load_migration(SvConfFile *conf, QemuPorts **ret_ports, char **ret_address, char **ret_tls_dir,
               GError **error)
{
    guint min = 49152, max = 49215;

    if (!sv_conf_file_get_uint(conf, "migration_port_min", &min, error) ||
        !sv_conf_file_get_uint(conf, "migration_port_max", &max, error) ||
        !sv_conf_file_get_string(conf, "migration_address", ret_address, error) ||
        !sv_conf_file_get_string(conf, "migrate_tls_x509_cert_dir", ret_tls_dir, error))
        return FALSE;
    if (min == 0) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "migration_port_min: port must be greater than 0");
        return FALSE;
    }
    if (max > 65535 || max < min) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "migration_port_max: port must be between the minimal port %u and 65535",
                     min);
        return FALSE;
    }
    *ret_ports = qemu_ports_new("migration", min, max);
    return TRUE;
}

/* virtqemud's procedures: the shared layers' (which also set up the domain driver's and the
 * consoles' state), with this driver's own over them. */
static void
handlers_install(QemuDriver *driver)
{
    static const SvRemoteHandlers own = {
        .connect_get_version = connect_get_version,
        .connect_get_max_vcpus = connect_get_max_vcpus,
        .connect_get_capabilities = connect_get_capabilities,
        .connect_get_domain_capabilities = connect_get_domain_capabilities,
        .node_get_security_model = node_get_security_model,
        .domain_get_security_label = domain_get_security_label,
        .domain_get_xml_desc = domain_get_xml_desc,
    };

    sv_remote_common_handlers(&driver->handlers);
    sv_domain_driver_install(&driver->domains, &driver->handlers);
    driver->common_get_xml_desc = driver->handlers.domain_get_xml_desc;
    qemu_process_install(&driver->process, &driver->handlers);
    qemu_console_install(&driver->process, &driver->handlers);
    /* issue 18, metadata and tuning */
    qemu_resize_install(&driver->domains, &driver->handlers);
    sv_remote_handlers_overlay(&driver->handlers, &own);
    /* issue 18, item 1: per-guest statistics (domstats) */
    qemu_stats_install(&driver->domains, &driver->handlers);
    /* Issue 18 item 5, host facts: the node's statistics, the host's SMBIOS tables and the
     * CPU models. */
    sv_domain_host_install_node(&driver->domains, &driver->handlers);
    sv_domain_host_install_sysinfo(&driver->domains, &driver->handlers);
    qemu_cpu_models_install(&driver->handlers);
    /* issue 18, item 1: bulk statistics (CONNECT_GET_ALL_DOMAIN_STATS, domstats) */
    qemu_bulkstats_install(&driver->handlers);
    /* issue 18 item 2, scheduler parameters (schedinfo): domain_sched.c, qemu_sched.c */
    qemu_sched_install(&driver->domains, &driver->handlers);
    /* issue 18 item 2, blkio parameters (blkiotune): domain_blkio.c, qemu_blkio.c */
    qemu_blkio_install(&driver->domains, &driver->handlers);
    /* issue 18 item 2, hotplug: devices attached to and detached from the persistent
     * definition (AFFECT_CONFIG); domain_hotplug.c */
    sv_domain_hotplug_install(&driver->domains, &driver->handlers);
    /* issue 18 item 2, guest operations (send-key, inject-nmi): qemu_guestops.c */
    qemu_guestops_install(&driver->handlers);
    /* issue 18 item 3, the guest agent (the hostname; getTime, shutdown and reboot with
     * the agent mode and QEMU_DOMAIN_AGENT_COMMAND are in their own places) */
    qemu_agent_install(&driver->handlers);
    /* issue 18 item 2, live hotplug: disks plugged into and unplugged from a running guest
     * (AFFECT_LIVE of the attach/detach procedures above and DETACH_DEVICE_ALIAS);
     * qemu_hotplug.c */
    driver->domains.hotplug = &qemu_hotplug_facts;
    /* issue 18 item 2, rename (domrename): domain_rename.c */
    sv_domain_rename_install(&driver->handlers);
    /* issue 18 item 5, CPU comparison and baseline (compareCPU, baselineCPU and their
     * hypervisor forms): conf/cpu_def.c, qemu_cpu_compare.c */
    qemu_cpu_compare_install(&driver->handlers);
    /* issue 18 items 1-3, the agent's calls: set-time, fsfreeze/fsthaw, fsinfo, the user
     * password and the interface addresses (agent, arp, lease): qemu_agent_calls.c */
    qemu_agent_calls_install(&driver->handlers);
    /* issue 18 item 2, update-device (link state, display password): qemu_update.c */
    qemu_update_install(&driver->handlers);
    /* issue 18 item 2, block I/O throttling (blkdeviotune): qemu_iotune.c */
    qemu_iotune_install(&driver->handlers);
    /* issue 18 item 2, local display connections (OPEN_GRAPHICS_FD): qemu_graphicsfd.c */
    qemu_graphicsfd_install(&driver->handlers);
    /* issue 18, interface parameters: domiftune's read and set of an interface's
     * <bandwidth> (domain_ifparams.c; a running tap's rates through tc,
     * util/netdev_bandwidth.c) */
    sv_domain_ifparams_install_get(&driver->handlers);
    sv_domain_ifparams_install_set(&driver->handlers);
    /* issue 18, guest info (virsh guestinfo) from the agent: qemu_agent_info.c; its
     * SET_GUEST_VCPUS is installed with the agent's calls above (qemu_agent_calls.c) */
    qemu_agent_info_install(&driver->handlers);
    /* issue 18 item 2, core dumps (virsh dump, memory-only) and their job for
     * domjobinfo: qemu_coredump.c */
    qemu_coredump_install(&driver->handlers);
    /* issue 21: a migration's job (abort, downtime, speed, post-copy): qemu_migration_job.c */
    qemu_migration_job_install(&driver->handlers);
    /* issue 21: migration's phases (begin, prepare, perform, finish, confirm):
     * qemu_migrate_calls.c */
    qemu_migrate_install(&driver->process, &driver->handlers);
}

static gboolean
qemu_init(SvDaemon *d, GError **error)
{
    g_autofree char *cache = sv_daemon_path(d, "/var/cache/libvirt/qemu");
    g_autofree char *emulator = g_strdup(SV_QEMU_DEFAULT_EMULATOR);
    g_autofree char *config_dir = NULL;
    g_autofree char *lib_dir = sv_daemon_path(d, "/var/lib/libvirt/qemu");
    g_autoptr(QemuSecurity) security = NULL;
    g_auto(GStrv) allowed = NULL;
    g_autoptr(QemuPorts) display_ports = NULL;
    g_autoptr(QemuPorts) websocket_ports = NULL;
    g_autoptr(QemuPorts) migration_ports = NULL;
    g_autofree char *migration_address = NULL;
    g_autofree char *migrate_tls_dir = NULL;
    g_autofree char *cgroup_root = NULL;
    g_autofree char *cgroup_parent = NULL;
    QemuTimeouts timeouts;
    QemuDriver *driver;
    guint n;

    if (!load_emulators_and_ports(sv_daemon_get_config(d), &emulator, &allowed, &display_ports,
                                  &websocket_ports, error) ||
        !load_migration(sv_daemon_get_config(d), &migration_ports, &migration_address,
                        &migrate_tls_dir, error))
        return FALSE;
    security = qemu_security_new(sv_daemon_get_config(d), lib_dir, error);
    if (!security || !sv_kill_timeouts_load(sv_daemon_get_config(d), &timeouts, error) ||
        !sv_cgroup_load_config(sv_daemon_get_config(d), sv_daemon_get_root(d), &cgroup_root,
                               &cgroup_parent, error))
        return FALSE;
    /* Nothing fails from here on: the driver becomes the daemon's data (below). */
    driver = g_new0(QemuDriver, 1);
    driver->daemon = d;
    driver->caps = caps_new(emulator, cache, security);
    driver->kvm = qemu_caps_kvm_usable();
    driver->host_uuid = g_strdup(sv_daemon_host_uuid(d));
    config_dir = sv_daemon_path(d, "/etc/libvirt/qemu");
    driver->list = sv_domain_list_new();
    driver->store = sv_domain_store_new(config_dir);
    domains_init(driver, d);
    driver->process.timeouts = timeouts;
    driver->security = g_steal_pointer(&security);
    driver->process.security = driver->security;
    driver->process.nvram_dir = g_build_filename(lib_dir, "nvram", NULL);
    driver->process.dump_dir = g_build_filename(lib_dir, "dump", NULL);
    driver->process.lib_dir = g_steal_pointer(&lib_dir);
    driver->process.daemon = d;
    driver->process.domains = &driver->domains;
    driver->process.caps = driver->caps;
    driver->process.run_dir = sv_daemon_path(d, "/run/libvirt/qemu");
    driver->process.family_run_dir = sv_daemon_path(d, "/run/libvirt");
    driver->process.log_dir = sv_daemon_path(d, "/var/log/libvirt/qemu");
    driver->process.allowed_emulators = g_steal_pointer(&allowed);
    driver->process.display_ports = g_steal_pointer(&display_ports);
    driver->process.websocket_ports = g_steal_pointer(&websocket_ports);
    driver->process.migration_ports = g_steal_pointer(&migration_ports);
    driver->process.migration_address = g_steal_pointer(&migration_address);
    driver->process.migrate_tls_dir = g_steal_pointer(&migrate_tls_dir);
    driver->process.migrations = qemu_migrations_new();
    driver->process.cgroup_root = g_steal_pointer(&cgroup_root);
    driver->process.cgroup_parent = g_steal_pointer(&cgroup_parent);
    n = sv_domain_store_load_all(driver->store, driver->list, NULL, NULL);
    g_debug("loaded %u domain definitions from %s", n, config_dir);
    handlers_install(driver);
    /* After the installs above: they give the domain driver and the consoles the state
     * that taking back running guests fills. */
    qemu_process_reconnect_all(&driver->process);
    /* Issue 18 item 4: libvirt's QEMU-specific program (libvirt-qemu) on the same sockets. */
    qemu_program_serve(sv_daemon_get_server(d));
    sv_daemon_serve_remote(d, &driver->handlers);
    sv_daemon_set_driver_data(d, driver);
    if (!qemu_caps_is_ready(driver->caps))
        qemu_caps_probe_async(driver->caps, start_probe_done, NULL);
    return TRUE;
}

static void
qemu_cleanup(SvDaemon *d)
{
    QemuDriver *driver = sv_daemon_get_driver_data(d);

    sv_domain_store_flush(driver->store);
    sv_domain_store_free(driver->store);
    sv_domain_list_free(driver->list);
    g_hash_table_unref(driver->domains.pending);
    qemu_console_cleanup(&driver->process);
    g_free(driver->process.lib_dir);
    g_free(driver->process.nvram_dir);
    g_free(driver->process.dump_dir);
    g_free(driver->process.run_dir);
    g_free(driver->process.family_run_dir);
    g_free(driver->process.log_dir);
    g_strfreev(driver->process.allowed_emulators);
    qemu_ports_free(driver->process.display_ports);
    qemu_ports_free(driver->process.websocket_ports);
    qemu_ports_free(driver->process.migration_ports);
    g_free(driver->process.migration_address);
    g_free(driver->process.migrate_tls_dir);
    g_clear_pointer(&driver->process.migrate_speeds, g_hash_table_unref);
    g_free(driver->process.cgroup_root);
    g_free(driver->process.cgroup_parent);
    qemu_migrations_free(driver->process.migrations);
    qemu_caps_free(driver->caps);
    qemu_security_free(driver->security);
    g_free(driver->host_uuid);
    g_free(driver);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver qemu_daemon_driver = {
    .name = "virtqemud",
    .sock_prefix = "virtqemud",
    .driver_name = "QEMU",
    .relay_families = SV_PROC_FAMILIES_SECONDARY,
    .init = qemu_init,
    .cleanup = qemu_cleanup,
};
