/* qemu_driver.c: virtqemud's connection and host procedures. */
#include "qemu_driver.h"

#include <errno.h>
#include <string.h>

#include <selinux/selinux.h>

#include "domain/domain_driver.h"
#include "programs/private.h"
#include "programs/remote.h"
#include "qemu_caps.h"
#include "qemu_command.h"
#include "qemu_postparse.h"
#include "qemu_process.h"
#include "qemu_security.h"
#include "sv-config.h"
#include "util/cgroup.h"
#include "util/error.h"
#include "util/host.h"

/* The library version we report: the libvirt release whose protocol we speak. */

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

static gboolean
connect_get_max_vcpus(SvCall *call, remote_connect_get_max_vcpus_args *args,
                      remote_connect_get_max_vcpus_ret *ret, GError **error)
{
    const char *type = args->type ? *args->type : NULL;

    (void)call;
    if (type && g_ascii_strcasecmp(type, "qemu") != 0 && g_ascii_strcasecmp(type, "kvm") != 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unknown type '%s'", type);
        return FALSE;
    }
    ret->max_vcpus = 255;
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

    (void)error;
    /* An empty model means the "none" driver. */
    ret->model.model_val = wire_chars(qemu_security_get_model(driver->security),
                                      &ret->model.model_len);
    ret->doi.doi_val = wire_chars(qemu_security_get_doi(driver->security), &ret->doi.doi_len);
    return TRUE;
}

static gboolean
domain_get_security_label(SvCall *call, remote_domain_get_security_label_args *args,
                          remote_domain_get_security_label_ret *ret, GError **error)
{
    QemuDriver *driver = qemu_driver_of(call);
    SvDomainObj *obj = sv_domain_list_lookup_handle(driver->list, &args->dom, SV_FROM_QEMU, error);
    const QemuSecLabel *label;

    if (!obj)
        return FALSE;
    /* As libvirt: a running guest's label and the host's enforcing mode; an
     * inactive or unlabelled guest has the empty label. */
    label = sv_domain_obj_is_active(obj) ? qemu_process_get_seclabel(obj) : NULL;
    ret->label.label_val = wire_chars(label ? qemu_security_label_get_label(label) : "",
                                      &ret->label.label_len);
    ret->enforcing = label ? security_getenforce() > 0 : 0;
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
        element = qemu_security_label_format_xml(label);
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

    if (!*model) {
        g_string_append(s, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
                           "    </secmodel>\n");
        return;
    }
    g_string_append_printf(s, "    <secmodel>\n      <model>%s</model>\n      <doi>%s</doi>\n",
                           model, qemu_security_get_doi(sec));
    g_string_append_printf(s, "      <baselabel type='kvm'>%s</baselabel>\n",
                           qemu_security_get_base_label(sec, TRUE));
    g_string_append_printf(s, "      <baselabel type='qemu'>%s</baselabel>\n",
                           qemu_security_get_base_label(sec, FALSE));
    g_string_append(s, "    </secmodel>\n");
}

static char *
capabilities_xml(QemuDriver *drv)
{
    GString *s = g_string_new("<capabilities>\n\n");
    const GPtrArray *machines = qemu_caps_get_machines(drv->caps);

    sv_host_capabilities_begin(s, drv->host_uuid, "");
    append_secmodel(s, drv->security);
    g_string_append(s, "  </host>\n\n");
    g_string_append_printf(s,
                           "  <guest>\n    <os_type>hvm</os_type>\n"
                           "    <arch name='%s'>\n      <wordsize>64</wordsize>\n"
                           "      <emulator>%s</emulator>\n",
                           "x86_64", qemu_caps_get_emulator(drv->caps));
    for (guint i = 0; i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];
        if (m->canonical)
            g_string_append_printf(s, "      <machine canonical='%s'>%s</machine>\n",
                                   m->canonical, m->name);
        else
            g_string_append_printf(s, "      <machine>%s</machine>\n", m->name);
    }
    g_string_append(s, "      <domain type='qemu'/>\n");
    if (drv->kvm)
        g_string_append(s, "      <domain type='kvm'/>\n");
    g_string_append(s, "    </arch>\n    <features>\n      <acpi default='on' toggle='yes'/>\n"
                       "      <apic default='on' toggle='no'/>\n      <cpuselection/>\n"
                       "      <deviceboot/>\n"
                       "      <disksnapshot default='on' toggle='no'/>\n"
                       "    </features>\n  </guest>\n\n</capabilities>\n");
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
    if (def->on_crash != SV_DOMAIN_LIFECYCLE_DESTROY &&
        def->on_crash != SV_DOMAIN_LIFECYCLE_PRESERVE &&
        def->on_crash != SV_DOMAIN_LIFECYCLE_RESTART) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "on_crash '%s' is not supported; use destroy, preserve or restart",
                     sv_domain_lifecycle_action_to_string(def->on_crash));
        return FALSE;
    }
    return qemu_domain_def_post_parse(def, driver->caps, error);
}

/* ---------------------------------------------------------------- daemon glue */

static gboolean
qemu_init(SvDaemon *d, GError **error)
{
    g_autofree char *cache = sv_daemon_path(d, "/var/cache/libvirt/qemu");
    g_autofree char *emulator = g_strdup(SV_QEMU_DEFAULT_EMULATOR);
    g_autofree char *config_dir = NULL;
    g_autofree char *lib_dir = sv_daemon_path(d, "/var/lib/libvirt/qemu");
    g_autoptr(QemuSecurity) security = NULL;
    g_auto(GStrv) allowed = NULL;
    g_autofree char *cgroup_root = NULL;
    g_autofree char *cgroup_parent = NULL;
    QemuTimeouts timeouts;
    QemuDriver *driver;
    guint n;
    SvRemoteHandlers own = {
        .connect_get_version = connect_get_version,
        .connect_get_max_vcpus = connect_get_max_vcpus,
        .connect_get_capabilities = connect_get_capabilities,
        .node_get_security_model = node_get_security_model,
        .domain_get_security_label = domain_get_security_label,
        .domain_get_xml_desc = domain_get_xml_desc,
    };

    if (!sv_conf_file_get_string(sv_daemon_get_config(d), "emulator", &emulator, error) ||
        !sv_conf_file_get_strv(sv_daemon_get_config(d), "allowed_emulators", &allowed, error))
        return FALSE;
    for (char **a = allowed; a && *a; a++) {
        if (!g_path_is_absolute(*a)) {
            sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                         "allowed_emulators: '%s' is not an absolute path", *a);
            return FALSE;
        }
    }
    security = qemu_security_new(sv_daemon_get_config(d), lib_dir, error);
    if (!security || !sv_kill_timeouts_load(sv_daemon_get_config(d), &timeouts, error) ||
        !sv_cgroup_load_config(sv_daemon_get_config(d), sv_daemon_get_root(d), &cgroup_root,
                               &cgroup_parent, error))
        return FALSE;
    /* Nothing fails from here on: the driver becomes the daemon's data (below). */
    driver = g_new0(QemuDriver, 1);
    driver->daemon = d;
    driver->caps = qemu_caps_new(emulator, cache);
    driver->kvm = qemu_caps_kvm_usable();
    driver->host_uuid = sv_host_uuid();
    config_dir = sv_daemon_path(d, "/etc/libvirt/qemu");
    driver->list = sv_domain_list_new();
    driver->store = sv_domain_store_new(config_dir);
    driver->domains = (SvDomainDriver){
        .prefix = "qemu",
        .from = SV_FROM_QEMU,
        .lookup_style = SV_LOOKUP_STYLE_QEMU,
        .server = sv_daemon_get_server(d),
        .connect = &qemu_connect,
        .list = driver->list,
        .store = driver->store,
        .check_def = qemu_check_def,
        .cpu_time = qemu_process_cpu_time,
        .run_facts = &qemu_run_facts,
        .hold = sv_daemon_hold,
        .holder = d,
        .data = &driver->process,
    };
    driver->process.timeouts = timeouts;
    driver->security = g_steal_pointer(&security);
    driver->process.security = driver->security;
    driver->process.lib_dir = g_steal_pointer(&lib_dir);
    driver->process.daemon = d;
    driver->process.domains = &driver->domains;
    driver->process.caps = driver->caps;
    driver->process.run_dir = sv_daemon_path(d, "/run/libvirt/qemu");
    driver->process.log_dir = sv_daemon_path(d, "/var/log/libvirt/qemu");
    driver->process.allowed_emulators = g_steal_pointer(&allowed);
    driver->process.cgroup_root = g_steal_pointer(&cgroup_root);
    driver->process.cgroup_parent = g_steal_pointer(&cgroup_parent);
    n = sv_domain_store_load_all(driver->store, driver->list, NULL, NULL);
    g_debug("loaded %u domain definitions from %s", n, config_dir);
    sv_remote_common_handlers(&driver->handlers);
    sv_domain_driver_install(&driver->domains, &driver->handlers);
    driver->common_get_xml_desc = driver->handlers.domain_get_xml_desc;
    qemu_process_install(&driver->process, &driver->handlers);
    qemu_console_install(&driver->process, &driver->handlers);
    qemu_process_reconnect_all(&driver->process);
    sv_remote_handlers_overlay(&driver->handlers, &own);
    sv_daemon_serve_remote(d, &driver->handlers);
    sv_private_serve(sv_daemon_get_server(d)); /* connections handed over by virtproxyd */
    sv_daemon_set_driver_data(d, driver);
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
    g_free(driver->process.run_dir);
    g_free(driver->process.log_dir);
    g_strfreev(driver->process.allowed_emulators);
    g_free(driver->process.cgroup_root);
    g_free(driver->process.cgroup_parent);
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
    .init = qemu_init,
    .cleanup = qemu_cleanup,
};
