/* qemu_agent_calls.c: the guest agent's procedures (issue 18 items 1-3) as libvirt 9.0's
 * QEMU driver serves them: SET_TIME (guest-set-time, then QMP rtc-reset-reinjection),
 * FSFREEZE and FSTHAW (guest-fsfreeze-freeze(-list), guest-fsfreeze-thaw), GET_FSINFO
 * (guest-get-fsinfo, its disks named by the guest's disks at the same PCI address),
 * SET_USER_PASSWORD (guest-set-user-password) and INTERFACE_ADDRESSES (the agent's
 * guest-network-get-interfaces, or the host's ARP table and DHCP leases:
 * domain/domain_ifaddr.c), and the guest's vcpus (GET_GUEST_VCPUS, SET_GUEST_VCPUS:
 * guest-get-vcpus, guest-set-vcpus). Each checks its flags, "domain is not running" and
 * the agent (qemu_agent_of_running) before it sends one command with libvirt's default
 * timeout (SET_GUEST_VCPUS two: it reads the guest's vcpus first);
 * the reply answers the call, the guest re-found by its run where it is needed again. */
#include "qemu_agent_calls.h"

#include <rpc/xdr.h>
#include <string.h>

#include "conf/domain_parse.h"
#include "domain/domain_ifaddr.h"
#include "qemu_agent.h"
#include "qemu_domain.h"
#include "qemu_guestops.h"
#include "qemu_monitor.h"
#include "util/error.h"

#define NSEC_PER_SEC G_GINT64_CONSTANT(1000000000)

/* A call waiting for the agent, and the run of the guest it asked. */
typedef struct {
    SvCall *call;
    guint run;
    gboolean maximum; /* the guest's vcpu count: all of them, not the online ones */
} AgentCall;

static AgentCall *
send_command(SvCall *call, SvDomainObj *obj, QemuAgent *agent, const char *execute,
             JsonObject *args, QemuAgentReplyFunc done)
{
    g_autoptr(JsonObject) cmd = json_object_new();
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    AgentCall *ac = g_new0(AgentCall, 1);

    json_object_set_string_member(cmd, "execute", execute);
    if (args)
        json_object_set_object_member(cmd, "arguments", args);
    json_node_set_object(node, cmd);
    ac->call = sv_call_defer(call);
    ac->run = obj->run;
    qemu_agent_command(agent, node, QEMU_AGENT_TIMEOUT_DEFAULT, done, ac);
    return ac; /* done runs later, on the loop */
}

/* The reply's "return" member, or NULL after failing the call (and freeing ac) with the
 * command's error. */
static JsonNode *
reply_return(AgentCall *ac, JsonObject *reply, const GError *error,
             const char *execute)
{
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, execute);
    JsonNode *ret = e ? NULL : json_object_get_member(reply, "return");

    if (!e && !ret)
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "malformed return value");
    if (e) {
        sv_call_fail(ac->call, e);
        g_free(ac);
    }
    return ret;
}

/* The guest of ac once the agent answered, running still, or NULL after failing the call
 * with libvirt's "domain is not running" (and freeing ac). */
static SvDomainObj *
guest_again(AgentCall *ac)
{
    SvDomainObj *obj = sv_domain_run_find(ac->run);
    GError *e = NULL;

    if (obj)
        return obj;
    sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
    sv_call_fail(ac->call, e);
    g_free(ac);
    return NULL;
}

/* The guest and its agent for a call: flags, the lookup, "domain is not running", then
 * the agent (qemu_agent_of_running). */
static QemuAgent *
agent_for(SvCall *call, const remote_nonnull_domain *dom, guint flags,
          guint supported, const char *func, SvDomainObj **objp, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, flags, supported, func, error) ||
        !(obj = sv_domain_driver_lookup(drv, dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return NULL;
    *objp = obj;
    return qemu_agent_of_running(obj, error);
}

/* ---------------------------------------------------------------- DOMAIN_SET_TIME */

static void
set_time_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;
    SvDomainObj *obj;
    QemuDomain *qd;
    SvCall *call;

    if (!reply_return(ac, reply, error, "guest-set-time") || !(obj = guest_again(ac)))
        return;
    call = ac->call;
    g_free(ac);
    qd = qemu_domain_of(obj);
    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon)) {
        GError *e = NULL;

        sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        sv_call_fail(call, e);
        return;
    }
    /* After the guest's clock moved, as libvirt: QEMU's RTC stops catching up on ticks it
     * missed before. */
    qemu_monitor_command(qd->mon, "rtc-reset-reinjection", NULL, qemu_guestops_answer_call, call);
}

/* libvirt's qemuDomainSetTime: SYNC sets the guest's clock from its RTC (guest-set-time
 * without a time), else to seconds.nseconds. */
static gboolean
domain_set_time(SvCall *call, remote_domain_set_time_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = NULL;
    QemuAgent *agent;
    JsonObject *args = NULL;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_TIME_SYNC, "DomainSetTime", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    /* libvirt asks an x86 guest's QEMU for rtc-reset-reinjection before it checks that the
     * guest runs: an inactive guest has no QEMU to ask. */
    if (!sv_domain_obj_is_active(obj) && obj->def->os.arch &&
        (g_str_equal(obj->def->os.arch, "x86_64") || g_str_equal(obj->def->os.arch, "i686"))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                     "cannot set time: qemu doesn't support rtc-reset-reinjection "
                     "command");
        return FALSE;
    }
    if (!(agent = agent_for(call, &a->dom, a->flags, SV_DOMAIN_TIME_SYNC, "DomainSetTime", &obj,
                            error)))
        return FALSE;
    if (!(a->flags & SV_DOMAIN_TIME_SYNC)) {
        if (a->seconds > G_MAXINT64 / NSEC_PER_SEC) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "Time '%" G_GINT64_FORMAT "' is too big for guest agent",
                         (gint64)a->seconds);
            return FALSE;
        }
        args = json_object_new();
        json_object_set_int_member(args, "time", a->seconds * NSEC_PER_SEC + a->nseconds);
    }
    send_command(call, obj, agent, "guest-set-time", args, set_time_done);
    return TRUE;
}

/* ---------------------------------------------------------------- FSFREEZE / FSTHAW */

static void
count_done(AgentCall *ac, JsonObject *reply, const GError *error, const char *execute)
{
    JsonNode *ret = reply_return(ac, reply, error, execute);
    remote_domain_fsfreeze_ret r = {0};

    if (!ret)
        return;
    if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_INT64) {
        GError *e = NULL;

        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "malformed return value");
        sv_call_fail(ac->call, e);
    } else {
        r.filesystems = (int)json_node_get_int(ret);
        sv_call_reply(ac->call, &r); /* fsthaw's ret has the same layout */
    }
    g_free(ac);
}

static void
freeze_done(JsonObject *reply, const GError *error, gpointer data)
{
    count_done(data, reply, error, "guest-fsfreeze-freeze");
}

static void
freeze_list_done(JsonObject *reply, const GError *error, gpointer data)
{
    count_done(data, reply, error, "guest-fsfreeze-freeze-list");
}

static void
thaw_done(JsonObject *reply, const GError *error, gpointer data)
{
    count_done(data, reply, error, "guest-fsfreeze-thaw");
}

/* libvirt's qemuDomainFSFreeze: every filesystem of the guest, or the mount points
 * given (guest-fsfreeze-freeze-list); answers how many were frozen. */
static gboolean
domain_fsfreeze(SvCall *call, remote_domain_fsfreeze_args *a,
                remote_domain_fsfreeze_ret *r, GError **error)
{
    SvDomainObj *obj = NULL;
    QemuAgent *agent = agent_for(call, &a->dom, a->flags, 0, "DomainFSFreeze", &obj, error);
    JsonObject *args = NULL;

    (void)r;
    if (!agent)
        return FALSE;
    if (a->mountpoints.mountpoints_len == 0) {
        send_command(call, obj, agent, "guest-fsfreeze-freeze", NULL, freeze_done);
        return TRUE;
    }
    args = json_object_new();
    json_object_set_array_member(args, "mountpoints", json_array_new());
    for (guint i = 0; i < a->mountpoints.mountpoints_len; i++)
        json_array_add_string_element(json_object_get_array_member(args, "mountpoints"),
                                      a->mountpoints.mountpoints_val[i]);
    send_command(call, obj, agent, "guest-fsfreeze-freeze-list", args, freeze_list_done);
    return TRUE;
}

/* libvirt's qemuDomainFSThaw: the agent thaws every frozen filesystem (the mount points
 * given are not passed on, as libvirt); answers how many. */
static gboolean
domain_fsthaw(SvCall *call, remote_domain_fsthaw_args *a,
              remote_domain_fsthaw_ret *r, GError **error)
{
    SvDomainObj *obj = NULL;
    QemuAgent *agent = agent_for(call, &a->dom, a->flags, 0, "DomainFSThaw", &obj, error);

    (void)r;
    if (!agent)
        return FALSE;
    send_command(call, obj, agent, "guest-fsfreeze-thaw", NULL, thaw_done);
    return TRUE;
}

/* ---------------------------------------------------------------- SET_USER_PASSWORD */

static void
password_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;

    if (!reply_return(ac, reply, error, "guest-set-user-password"))
        return;
    sv_call_reply(ac->call, NULL);
    g_free(ac);
}

/* libvirt's qemuDomainSetUserPassword: the password goes base64-encoded, "crypted" with
 * the ENCRYPTED flag (already hashed). */
static gboolean
domain_set_user_password(SvCall *call, remote_domain_set_user_password_args *a,
                         GError **error)
{
    SvDomainObj *obj = NULL;
    g_autofree char *b64 = NULL;
    QemuAgent *agent;
    JsonObject *args;

    if (!sv_domain_password_check(a, error) ||
        !(agent = agent_for(call, &a->dom, a->flags, SV_DOMAIN_PASSWORD_ENCRYPTED,
                            "DomainSetUserPassword", &obj, error)))
        return FALSE;
    b64 = g_base64_encode((const guchar *)*a->password, strlen(*a->password));
    args = json_object_new();
    json_object_set_string_member(args, "password", b64);
    json_object_set_string_member(args, "username", *a->user);
    json_object_set_boolean_member(args, "crypted", (a->flags & SV_DOMAIN_PASSWORD_ENCRYPTED) != 0);
    send_command(call, obj, agent, "guest-set-user-password", args, password_done);
    return TRUE;
}

/* ---------------------------------------------------------------- GET_FSINFO */

/* Whether the agent's PCI address (its "pci-controller") is addr. */
static gboolean
pci_equal(JsonObject *pci, const SvDomainDeviceAddress *addr)
{
    return addr->type == SV_DOMAIN_ADDRESS_PCI &&
           addr->pci.domain == json_object_get_int_member_with_default(pci, "domain", -1) &&
           addr->pci.bus == json_object_get_int_member_with_default(pci, "bus", -1) &&
           addr->pci.slot == json_object_get_int_member_with_default(pci, "slot", -1) &&
           addr->pci.function == json_object_get_int_member_with_default(pci, "function", -1);
}

/* Whether the guest's disk d on a SCSI controller is the agent's `disk`: the controller at
 * its PCI address, and the same bus, target and unit. */
static gboolean
scsi_disk_is(const SvDomainDef *def, const SvDomainDiskDef *d, JsonObject *disk,
             JsonObject *pci)
{
    const SvDomainDriveAddress *drive = &d->info.addr.drive;

    if (d->info.addr.type != SV_DOMAIN_ADDRESS_DRIVE ||
        drive->bus != json_object_get_int_member_with_default(disk, "bus", -1) ||
        drive->target != json_object_get_int_member_with_default(disk, "target", -1) ||
        drive->unit != json_object_get_int_member_with_default(disk, "unit", -1))
        return FALSE;
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_SCSI && c->index == drive->controller)
            return pci_equal(pci, &c->info.addr);
    }
    return FALSE;
}

const SvDomainDiskDef *
qemu_agent_disk_at(const SvDomainDef *def, JsonObject *disk)
{
    JsonNode *pn = json_object_get_member(disk, "pci-controller");
    JsonObject *pci = pn && JSON_NODE_HOLDS_OBJECT(pn) ? json_node_get_object(pn) : NULL;

    if (!pci)
        return NULL;
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (pci_equal(pci, &d->info.addr) || scsi_disk_is(def, d, disk, pci))
            return d;
    }
    return NULL;
}

/* One filesystem of guest-get-fsinfo's reply as the wire's, or FALSE with libvirt's
 * error for a member missing. */
static gboolean
fsinfo_one(const SvDomainDef *def, JsonNode *node, remote_domain_fsinfo *info,
           GError **error)
{
    JsonObject *fs = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    static const char *const names[] = {"mountpoint", "name", "type"};
    const char *v[G_N_ELEMENTS(names)];
    JsonNode *dn;
    JsonArray *disks;

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (!(v[i] = qemu_json_string(fs, names[i]))) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "'%s' missing in reply of guest-get-fsinfo", names[i]);
            return FALSE;
        }
    }
    dn = json_object_get_member(fs, "disk");
    if (!dn || !JSON_NODE_HOLDS_ARRAY(dn)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "'disk' missing in reply of guest-get-fsinfo");
        return FALSE;
    }
    info->mountpoint = g_strdup(v[0]);
    info->name = g_strdup(v[1]);
    info->fstype = g_strdup(v[2]);
    disks = json_node_get_array(dn);
    info->dev_aliases.dev_aliases_val = g_new0(char *, json_array_get_length(disks) + 1);
    for (guint i = 0; i < json_array_get_length(disks); i++) {
        JsonNode *d = json_array_get_element(disks, i);
        const SvDomainDiskDef *disk =
            JSON_NODE_HOLDS_OBJECT(d) ? qemu_agent_disk_at(def, json_node_get_object(d)) : NULL;

        if (disk) /* a disk the guest has and libvirt does not know is left out */
            info->dev_aliases.dev_aliases_val[info->dev_aliases.dev_aliases_len++] =
                g_strdup(disk->target_dev);
    }
    return TRUE;
}

static void
fsinfo_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;
    JsonNode *ret = reply_return(ac, reply, error, "guest-get-fsinfo");
    remote_domain_get_fsinfo_ret r = {0};
    GError *e = NULL;
    SvDomainObj *obj;
    JsonArray *fss;
    guint n;

    if (!ret)
        return;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Malformed guest-get-fsinfo data array");
        sv_call_fail(ac->call, e);
        g_free(ac);
        return;
    }
    if (!(obj = guest_again(ac)))
        return;
    fss = json_node_get_array(ret);
    n = json_array_get_length(fss);
    r.info.info_val = g_new0(remote_domain_fsinfo, n + 1);
    /* The agent lists the filesystems last mounted first; libvirt answers in mount order. */
    for (guint i = 0; i < n && !e; i++)
        if (fsinfo_one(obj->def, json_array_get_element(fss, n - 1 - i),
                       &r.info.info_val[r.info.info_len], &e))
            r.info.info_len++;
    r.ret = r.info.info_len;
    if (e)
        sv_call_fail(ac->call, e);
    else
        sv_call_reply(ac->call, &r);
    xdr_free((xdrproc_t)xdr_remote_domain_get_fsinfo_ret, (char *)&r);
    g_free(ac);
}

/* libvirt's qemuDomainGetFSInfo: the guest's mounted filesystems, each with the targets
 * of the guest's disks under it. */
static gboolean
domain_get_fsinfo(SvCall *call, remote_domain_get_fsinfo_args *a,
                  remote_domain_get_fsinfo_ret *r, GError **error)
{
    SvDomainObj *obj = NULL;
    QemuAgent *agent = agent_for(call, &a->dom, a->flags, 0, "DomainGetFSInfo", &obj, error);

    (void)r;
    if (!agent)
        return FALSE;
    send_command(call, obj, agent, "guest-get-fsinfo", NULL, fsinfo_done);
    return TRUE;
}

/* ---------------------------------------------------------------- INTERFACE_ADDRESSES */

/* One address of the agent's interface `name` added to iface, or FALSE with libvirt's
 * error. */
static gboolean
agent_address(remote_domain_interface *iface, const char *name, JsonNode *node,
              GError **error)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *type = qemu_json_string(o, "ip-address-type");
    const char *addr = qemu_json_string(o, "ip-address");
    JsonNode *prefix = o ? json_object_get_member(o, "prefix") : NULL;
    int t;

    if (!type) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "qemu agent didn't provide 'ip-address-type' field for interface '%s'", name);
        return FALSE;
    }
    if (g_str_equal(type, "ipv4")) {
        t = SV_IP_ADDR_TYPE_IPV4;
    } else if (g_str_equal(type, "ipv6")) {
        t = SV_IP_ADDR_TYPE_IPV6;
    } else {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "unknown ip address type '%s'",
                     type);
        return FALSE;
    }
    if (!addr) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "qemu agent didn't provide 'ip-address' field for interface '%s'", name);
        return FALSE;
    }
    if (!prefix || !JSON_NODE_HOLDS_VALUE(prefix) ||
        json_node_get_value_type(prefix) != G_TYPE_INT64 || json_node_get_int(prefix) < 0 ||
        json_node_get_int(prefix) > G_MAXUINT) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s", "malformed 'prefix' field");
        return FALSE;
    }
    sv_domain_ifaddr_add(iface, t, addr, (guint)json_node_get_int(prefix));
    return TRUE;
}

/* The interface of `name` in ifaces (an alias "eth0:1" is eth0's, as libvirt merges
 * them), added with hwaddr when new. */
static remote_domain_interface *
agent_iface(GArray *ifaces, const char *name, const char *hwaddr)
{
    g_autofree char *base = g_strndup(name, strcspn(name, ":"));
    remote_domain_interface iface = {0};

    for (guint i = 0; i < ifaces->len; i++)
        if (g_str_equal(g_array_index(ifaces, remote_domain_interface, i).name, base))
            return &g_array_index(ifaces, remote_domain_interface, i);
    iface.name = g_steal_pointer(&base);
    if (hwaddr) {
        iface.hwaddr = g_new(char *, 1);
        *iface.hwaddr = g_strdup(hwaddr);
    }
    g_array_append_val(ifaces, iface);
    return &g_array_index(ifaces, remote_domain_interface, ifaces->len - 1);
}

gboolean
qemu_agent_interfaces_parse(JsonNode *ret, GArray *ifaces, GError **error)
{
    JsonArray *list = JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;

    if (!list) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s",
                     "qemu agent didn't return an array of interfaces");
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        const char *name = qemu_json_string(o, "name");
        JsonNode *addrs = o ? json_object_get_member(o, "ip-addresses") : NULL;
        remote_domain_interface *iface;

        if (!name) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s",
                         "qemu agent didn't provide 'name' field");
            return FALSE;
        }
        iface = agent_iface(ifaces, name, qemu_json_string(o, "hardware-address"));
        if (!addrs)
            continue;
        if (!JSON_NODE_HOLDS_ARRAY(addrs)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s",
                         "Malformed ip-addresses array");
            return FALSE;
        }
        for (guint j = 0; j < json_array_get_length(json_node_get_array(addrs)); j++)
            if (!agent_address(iface, name, json_array_get_element(json_node_get_array(addrs), j),
                               error))
                return FALSE;
    }
    return TRUE;
}

static void
ifaces_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;
    JsonNode *ret = reply_return(ac, reply, error, "guest-network-get-interfaces");
    remote_domain_interface_addresses_ret r = {0};
    GArray *ifaces;
    GError *e = NULL;

    if (!ret)
        return;
    ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));
    qemu_agent_interfaces_parse(ret, ifaces, &e);
    sv_domain_ifaddr_set(&r, ifaces);
    if (e)
        sv_call_fail(ac->call, e);
    else
        sv_call_reply(ac->call, &r);
    xdr_free((xdrproc_t)xdr_remote_domain_interface_addresses_ret, (char *)&r);
    g_free(ac);
}

/* libvirt's qemuDomainInterfaceAddresses: from the DHCP leases, the agent or the host's
 * ARP table. */
static gboolean
domain_interface_addresses(SvCall *call, remote_domain_interface_addresses_args *a,
                           remote_domain_interface_addresses_ret *r, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    QemuAgent *agent;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainInterfaceAddresses", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    switch (a->source) {
    case SV_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE:
        sv_domain_ifaddr_lease(call, obj->def, qemu_ctx_of(obj)->family_run_dir);
        return TRUE;
    case SV_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP:
        return sv_domain_ifaddr_arp(obj->def, r, error);
    case SV_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT:
        if (!(agent = qemu_agent_of_running(obj, error)))
            return FALSE;
        send_command(call, obj, agent, "guest-network-get-interfaces", NULL, ifaces_done);
        return TRUE;
    default:
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "Unknown IP address data source %u", a->source);
        return FALSE;
    }
}

/* ---------------------------------------------------------------- the guest's vcpus */

/* QEMU_GUEST_VCPU_MAX_ID: the vcpu ids libvirt takes from guest-get-vcpus. */
#define GUEST_VCPU_MAX_ID 4096

typedef struct {
    guint8 all[GUEST_VCPU_MAX_ID], online[GUEST_VCPU_MAX_ID], offlinable[GUEST_VCPU_MAX_ID];
    guint n, n_online;
} GuestVcpus;

/* guest-get-vcpus' reply into v, or FALSE with libvirt's error. */
static gboolean
guest_vcpus(JsonNode *ret, GuestVcpus *v, GError **error)
{
    JsonArray *list = JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    static const char *const names[] = {"logical-id", "online", "can-offline"};

    if (!list) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s",
                     "guest-get-vcpus reply was missing return data");
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        gint64 id;

        for (guint k = 0; k < G_N_ELEMENTS(names); k++) {
            if (!o || !json_object_has_member(o, names[k])) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "'%s' missing in reply of guest-get-vcpus", names[k]);
                return FALSE;
            }
        }
        id = json_object_get_int_member(o, "logical-id");
        if (id < 0 || id >= GUEST_VCPU_MAX_ID) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "vcpu index '%" G_GINT64_FORMAT "' is out of range", id);
            return FALSE;
        }
        v->all[id] = 1;
        v->n++;
        if ((v->online[id] = json_object_get_boolean_member(o, "online")))
            v->n_online++;
        v->offlinable[id] = json_object_get_boolean_member(o, "can-offline");
    }
    return TRUE;
}

static void
vcpu_count_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;
    JsonNode *ret = reply_return(ac, reply, error, "guest-get-vcpus");
    g_autofree GuestVcpus *v = g_new0(GuestVcpus, 1);
    GError *e = NULL;

    if (!ret)
        return;
    if (!guest_vcpus(ret, v, &e)) {
        sv_call_fail(ac->call, e);
    } else {
        remote_domain_get_vcpus_flags_ret r = {(int)(ac->maximum ? v->n : v->n_online)};

        sv_call_reply(ac->call, &r);
    }
    g_free(ac);
}

gboolean
qemu_agent_guest_vcpu_count(SvCall *call, SvDomainObj *obj, gboolean maximum, GError **error)
{
    QemuAgent *agent = qemu_agent_of_running(obj, error);

    if (!agent)
        return FALSE;
    send_command(call, obj, agent, "guest-get-vcpus", NULL, vcpu_count_done)->maximum = maximum;
    return TRUE;
}

static void
vcpu_param(remote_typed_param *p, const char *field, const guint8 *bits)
{
    p->field = g_strdup(field);
    p->value.type = SV_TYPED_PARAM_STRING;
    p->value.remote_typed_param_value_u.s = sv_domain_cpuset_format(bits, GUEST_VCPU_MAX_ID);
}

static void
guest_vcpus_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentCall *ac = data;
    JsonNode *ret = reply_return(ac, reply, error, "guest-get-vcpus");
    g_autofree GuestVcpus *v = g_new0(GuestVcpus, 1);
    remote_domain_get_guest_vcpus_ret r = {0};
    GError *e = NULL;

    if (!ret)
        return;
    if (!guest_vcpus(ret, v, &e)) {
        sv_call_fail(ac->call, e);
        g_free(ac);
        return;
    }
    r.params.params_val = g_new0(remote_typed_param, 3);
    r.params.params_len = 3;
    vcpu_param(&r.params.params_val[0], "vcpus", v->all);
    vcpu_param(&r.params.params_val[1], "online", v->online);
    vcpu_param(&r.params.params_val[2], "offlinable", v->offlinable);
    sv_call_reply(ac->call, &r);
    xdr_free((xdrproc_t)xdr_remote_domain_get_guest_vcpus_ret, (char *)&r);
    g_free(ac);
}

/* libvirt's qemuDomainGetGuestVcpus: the guest's vcpus, those online and those it can take
 * offline, each as a list of ids ("0-3"). */
static gboolean
domain_get_guest_vcpus(SvCall *call, remote_domain_get_guest_vcpus_args *a,
                       remote_domain_get_guest_vcpus_ret *r, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    QemuAgent *agent;

    (void)r;
    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetGuestVcpus", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !(agent = qemu_agent_of_running(obj, error)))
        return FALSE;
    send_command(call, obj, agent, "guest-get-vcpus", NULL, guest_vcpus_done);
    return TRUE;
}

/* ---------------------------------------------------------------- SET_GUEST_VCPUS */

/* A SET_GUEST_VCPUS call: the vcpus asked, then those the agent has still to set. */
typedef struct {
    SvCall *call;
    guint run;
    gboolean online;
    guint8 map[GUEST_VCPU_MAX_ID];
    GArray *ids; /* guint */
} SetVcpus;

static void
set_vcpus_end(SetVcpus *sv, GError *e)
{
    if (e)
        sv_call_fail(sv->call, e);
    else
        sv_call_reply(sv->call, NULL);
    g_array_free(sv->ids, TRUE);
    g_free(sv);
}

static void set_vcpus_send(SetVcpus *sv);

/* guest-set-vcpus set the first n of the vcpus asked (it stops at one it cannot set); the
 * rest are asked again, as libvirt does, until none is left or the agent fails. */
static void
set_vcpus_done(JsonObject *reply, const GError *error, gpointer data)
{
    SetVcpus *sv = data;
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, "guest-set-vcpus");
    JsonNode *ret = e ? NULL : json_object_get_member(reply, "return");
    gint64 n = ret && JSON_NODE_HOLDS_VALUE(ret) &&
                       json_node_get_value_type(ret) == G_TYPE_INT64 ? json_node_get_int(ret) : -1;

    if (!e && (n <= 0 || n > sv->ids->len))
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s",
                     "guest agent returned malformed or invalid return value");
    if (e || (guint)n == sv->ids->len) {
        set_vcpus_end(sv, e);
        return;
    }
    g_array_remove_range(sv->ids, 0, (guint)n);
    set_vcpus_send(sv);
}

static void
set_vcpus_send(SetVcpus *sv)
{
    SvDomainObj *obj = sv_domain_run_find(sv->run);
    g_autoptr(JsonObject) cmd = json_object_new();
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    JsonObject *args = json_object_new();
    JsonArray *vcpus = json_array_new();
    GError *e = NULL;
    QemuAgent *agent;

    if (!obj)
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
    if (e || !(agent = qemu_agent_of_running(obj, &e))) {
        json_array_unref(vcpus);
        json_object_unref(args);
        set_vcpus_end(sv, e);
        return;
    }
    for (guint i = 0; i < sv->ids->len; i++) {
        JsonObject *v = json_object_new();

        json_object_set_int_member(v, "logical-id", g_array_index(sv->ids, guint, i));
        json_object_set_boolean_member(v, "online", sv->online);
        json_array_add_object_element(vcpus, v);
    }
    json_object_set_array_member(args, "vcpus", vcpus);
    json_object_set_string_member(cmd, "execute", "guest-set-vcpus");
    json_object_set_object_member(cmd, "arguments", args);
    json_node_set_object(node, cmd);
    qemu_agent_command(agent, node, QEMU_AGENT_TIMEOUT_DEFAULT, set_vcpus_done, sv);
}

/* The vcpus of the guest's answer that were asked, in its order, into sv->ids; FALSE with
 * libvirt's error for one that cannot go offline or one the guest lacks. */
static gboolean
set_vcpus_pick(SetVcpus *sv, JsonNode *ret, GError **error)
{
    JsonArray *list = json_node_get_array(ret);
    g_autofree char *missing = NULL;

    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        guint id = (guint)json_object_get_int_member(o, "logical-id");

        if (!sv->map[id])
            continue;
        if (!sv->online && !json_object_get_boolean_member(o, "can-offline")) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                         "vCPU '%u' is not offlinable", id);
            return FALSE;
        }
        g_array_append_val(sv->ids, id);
        sv->map[id] = 0;
    }
    missing = sv_domain_cpuset_format(sv->map, GUEST_VCPU_MAX_ID);
    if (*missing) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "guest is missing vCPUs '%s'",
                     missing);
        return FALSE;
    }
    return TRUE;
}

static void
set_vcpus_got(JsonObject *reply, const GError *error, gpointer data)
{
    SetVcpus *sv = data;
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, "guest-get-vcpus");
    JsonNode *ret = e ? NULL : json_object_get_member(reply, "return");
    g_autofree GuestVcpus *v = g_new0(GuestVcpus, 1);

    if (!e && !ret)
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "malformed return value");
    if (e || !guest_vcpus(ret, v, &e) || !set_vcpus_pick(sv, ret, &e))
        set_vcpus_end(sv, e);
    else
        set_vcpus_send(sv);
}

/* libvirt's qemuDomainSetGuestVcpus: the state (0 offline, 1 online), the list of vcpu ids,
 * the guest and its agent; the guest's vcpus from guest-get-vcpus (each asked must be
 * there, and offlinable to go offline), then guest-set-vcpus for them. */
static gboolean
domain_set_guest_vcpus(SvCall *call, remote_domain_set_guest_vcpus_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autofree SetVcpus *sv = g_new0(SetVcpus, 1);
    SvDomainObj *obj;
    QemuAgent *agent;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainSetGuestVcpus", error))
        return FALSE;
    if (a->state != 0 && a->state != 1) {
        sv_error_set_literal(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unsupported state value");
        return FALSE;
    }
    if (!sv_domain_cpuset_parse(a->cpumap, sv->map, GUEST_VCPU_MAX_ID, error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !(agent = qemu_agent_of_running(obj, error)))
        return FALSE;
    sv->call = sv_call_defer(call);
    sv->run = obj->run;
    sv->online = a->state == 1;
    sv->ids = g_array_new(FALSE, FALSE, sizeof(guint));
    {
        g_autoptr(JsonNode) cmd = json_from_string("{\"execute\":\"guest-get-vcpus\"}", NULL);

        qemu_agent_command(agent, cmd, QEMU_AGENT_TIMEOUT_DEFAULT, set_vcpus_got,
                           g_steal_pointer(&sv));
    }
    return TRUE;
}

void
qemu_agent_calls_install(SvRemoteHandlers *h)
{
    h->domain_set_time = domain_set_time;
    h->domain_fsfreeze = domain_fsfreeze;
    h->domain_fsthaw = domain_fsthaw;
    h->domain_get_fsinfo = domain_get_fsinfo;
    h->domain_set_user_password = domain_set_user_password;
    h->domain_interface_addresses = domain_interface_addresses;
    h->domain_get_guest_vcpus = domain_get_guest_vcpus;
    h->domain_set_guest_vcpus = domain_set_guest_vcpus;
}
