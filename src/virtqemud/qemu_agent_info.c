/* qemu_agent_info.c: DOMAIN_GET_GUEST_INFO (virsh guestinfo, issue 18 items 2-3) as libvirt
 * 9.0's qemuDomainGetGuestInfo serves it: one agent command per group asked (users, os,
 * timezone, hostname, filesystems, disks, interfaces), one after another, each reply turned
 * into typed parameters named and ordered as libvirt's. With no group asked every group is
 * asked and a command the agent does not know (or has disabled) leaves its group out; a
 * group asked by name fails the call with the agent's error. */
#include "qemu_agent_info.h"

#include <rpc/xdr.h>

#include "domain/domain_driver.h"
#include "domain/domain_typed.h"
#include "qemu_agent.h"
#include "qemu_agent_calls.h"
#include "qemu_monitor.h"
#include "util/error.h"

#define ALL_GROUPS                                                                          \
    (SV_DOMAIN_GUEST_INFO_USERS | SV_DOMAIN_GUEST_INFO_OS | SV_DOMAIN_GUEST_INFO_TIMEZONE |  \
     SV_DOMAIN_GUEST_INFO_HOSTNAME | SV_DOMAIN_GUEST_INFO_FILESYSTEM |                      \
     SV_DOMAIN_GUEST_INFO_DISKS | SV_DOMAIN_GUEST_INFO_INTERFACES)

/* A GET_GUEST_INFO call under way. */
typedef struct {
    SvCall *call;
    guint run;                   /* the guest's run */
    guint todo;                  /* the groups not asked yet */
    guint group;                 /* the group asked now (an index of groups[]) */
    gboolean report_unsupported; /* groups asked by name: an unknown command fails */
    GArray *params;              /* remote_typed_param, the answer so far */
} GuestInfo;

/* ---------------------------------------------------------------- reply checks */

static gboolean
fail(GError **error, const char *msg)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s", msg);
    return FALSE;
}

static JsonArray *
array_of(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
object_of(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static gboolean
is_number(JsonNode *n)
{
    GType t = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;

    return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

/* A byte count as the agent gave it: exact for an integer (past 2^53 too). */
static guint64
bytes_of(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);

    if (json_node_get_value_type(n) == G_TYPE_INT64)
        return (guint64)json_node_get_int(n);
    return (guint64)json_node_get_double(n);
}

/* ---------------------------------------------------------------- the groups */

/* guest-get-users: user.count, then each user's name, domain (Windows) and login time in
 * milliseconds (the agent gives seconds). */
static gboolean
users_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    JsonArray *list = array_of(ret);

    (void)def;
    if (!list)
        return fail(error, "guest-get-users reply was missing return data");
    sv_typed_params_add_uint(gi->params, json_array_get_length(list), "user.count");
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *u = object_of(json_array_get_element(list, i));
        const char *name = qemu_json_string(u, "user");
        const char *domain = qemu_json_string(u, "domain");
        JsonNode *login = u ? json_object_get_member(u, "login-time") : NULL;

        if (!u)
            return fail(error, "array element missing in guest-get-users return value");
        if (!name)
            return fail(error, "'user' missing in reply of guest-get-users");
        sv_typed_params_add_string(gi->params, name, "user.%u.name", i);
        if (domain)
            sv_typed_params_add_string(gi->params, domain, "user.%u.domain", i);
        if (!is_number(login))
            return fail(error, "'login-time' missing in reply of guest-get-users");
        sv_typed_params_add_ullong(gi->params, (guint64)(json_node_get_double(login) * 1000),
                                   "user.%u.login-time", i);
    }
    return TRUE;
}

/* guest-get-osinfo: os.* for each member the agent gives, in libvirt's order. */
static gboolean
os_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    static const char *const members[] = {"id", "name", "pretty-name", "version",
                                          "version-id", "machine", "variant", "variant-id",
                                          "kernel-release", "kernel-version"};
    JsonObject *o = object_of(ret);

    (void)def;
    if (!o)
        return fail(error, "guest-get-osinfo reply was missing return data");
    for (guint i = 0; i < G_N_ELEMENTS(members); i++) {
        const char *v = qemu_json_string(o, members[i]);

        if (v)
            sv_typed_params_add_string(gi->params, v, "os.%s", members[i]);
    }
    return TRUE;
}

/* guest-get-timezone: timezone.name when the agent names the zone, timezone.offset. */
static gboolean
timezone_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    JsonObject *o = object_of(ret);
    const char *zone = qemu_json_string(o, "zone");
    JsonNode *offset = o ? json_object_get_member(o, "offset") : NULL;

    (void)def;
    if (!o)
        return fail(error, "guest-get-timezone reply was missing return data");
    if (zone)
        sv_typed_params_add_string(gi->params, zone, "timezone.name");
    if (!is_number(offset))
        return fail(error, "'offset' missing in reply of guest-get-timezone");
    sv_typed_params_add_int(gi->params, (int)json_node_get_int(offset), "timezone.offset");
    return TRUE;
}

/* guest-get-host-name: hostname. */
static gboolean
hostname_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    const char *name = qemu_json_string(object_of(ret), "host-name");

    (void)def;
    if (!object_of(ret))
        return fail(error, "malformed return value");
    if (!name)
        return fail(error, "'host-name' missing in guest-get-host-name reply");
    sv_typed_params_add_string(gi->params, name, "hostname");
    return TRUE;
}

/* The required members of one filesystem of guest-get-fsinfo, or FALSE with libvirt's
 * error. */
static gboolean
fs_check(JsonObject *fs, GError **error)
{
    static const char *const required[] = {"mountpoint", "name", "type"};

    if (!fs)
        return fail(error, "array element missing in guest-get-fsinfo return data");
    for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
        if (!qemu_json_string(fs, required[i])) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "'%s' missing in reply of guest-get-fsinfo", required[i]);
            return FALSE;
        }
    }
    if (json_object_has_member(fs, "used-bytes") &&
        !is_number(json_object_get_member(fs, "used-bytes")))
        return fail(error, "Error getting 'used-bytes' in reply of guest-get-fsinfo");
    if (json_object_has_member(fs, "total-bytes") &&
        !is_number(json_object_get_member(fs, "total-bytes")))
        return fail(error, "Error getting 'total-bytes' in reply of guest-get-fsinfo");
    if (!array_of(json_object_get_member(fs, "disk")))
        return fail(error, "'disk' missing in reply of guest-get-fsinfo");
    return TRUE;
}

/* One filesystem as fs.N.*: its disks named by the guest's disk at the same address. */
static void
fs_one(GuestInfo *gi, guint n, JsonObject *fs, const SvDomainDef *def)
{
    JsonArray *disks = json_object_get_array_member(fs, "disk");

    sv_typed_params_add_string(gi->params, qemu_json_string(fs, "name"), "fs.%u.name", n);
    sv_typed_params_add_string(gi->params, qemu_json_string(fs, "mountpoint"), "fs.%u.mountpoint",
                               n);
    sv_typed_params_add_string(gi->params, qemu_json_string(fs, "type"), "fs.%u.fstype", n);
    if (json_object_has_member(fs, "total-bytes"))
        sv_typed_params_add_ullong(gi->params, bytes_of(fs, "total-bytes"), "fs.%u.total-bytes", n);
    if (json_object_has_member(fs, "used-bytes"))
        sv_typed_params_add_ullong(gi->params, bytes_of(fs, "used-bytes"), "fs.%u.used-bytes", n);
    sv_typed_params_add_uint(gi->params, json_array_get_length(disks), "fs.%u.disk.count", n);
    for (guint j = 0; j < json_array_get_length(disks); j++) {
        JsonObject *d = object_of(json_array_get_element(disks, j));
        const SvDomainDiskDef *disk = d ? qemu_agent_disk_at(def, d) : NULL;

        if (disk)
            sv_typed_params_add_string(gi->params, disk->target_dev, "fs.%u.disk.%u.alias", n, j);
        if (qemu_json_string(d, "serial"))
            sv_typed_params_add_string(gi->params, qemu_json_string(d, "serial"),
                                       "fs.%u.disk.%u.serial", n, j);
        if (qemu_json_string(d, "dev"))
            sv_typed_params_add_string(gi->params, qemu_json_string(d, "dev"),
                                       "fs.%u.disk.%u.device", n, j);
    }
}

/* guest-get-fsinfo: fs.count and each filesystem, in mount order (the agent lists the last
 * mounted first); nothing when the guest has none. */
static gboolean
fs_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    JsonArray *list = array_of(ret);
    guint n;

    if (!list)
        return fail(error, "Malformed guest-get-fsinfo data array");
    n = json_array_get_length(list);
    for (guint i = 0; i < n; i++)
        if (!fs_check(object_of(json_array_get_element(list, i)), error))
            return FALSE;
    if (n == 0)
        return TRUE;
    sv_typed_params_add_uint(gi->params, n, "fs.count");
    for (guint i = 0; i < n; i++)
        fs_one(gi, i, json_array_get_object_element(list, n - 1 - i), def);
    return TRUE;
}

/* One disk of guest-get-disks as disk.N.*, or FALSE with libvirt's error. */
static gboolean
disk_one(GuestInfo *gi, guint n, JsonObject *d, const SvDomainDef *def, GError **error)
{
    JsonNode *part = d ? json_object_get_member(d, "partition") : NULL;
    JsonArray *deps = d ? array_of(json_object_get_member(d, "dependencies")) : NULL;
    JsonObject *addr = d ? object_of(json_object_get_member(d, "address")) : NULL;
    const SvDomainDiskDef *disk = addr ? qemu_agent_disk_at(def, addr) : NULL;

    if (!d)
        return fail(error, "array element missing in guest-get-disks return value");
    if (!qemu_json_string(d, "name"))
        return fail(error, "'name' missing in reply of guest-get-disks");
    if (!part || !JSON_NODE_HOLDS_VALUE(part) || json_node_get_value_type(part) != G_TYPE_BOOLEAN)
        return fail(error, "'partition' missing in reply of guest-get-disks");
    sv_typed_params_add_string(gi->params, qemu_json_string(d, "name"), "disk.%u.name", n);
    sv_typed_params_add_boolean(gi->params, json_node_get_boolean(part), "disk.%u.partition", n);
    if (deps && json_array_get_length(deps) > 0) { /* as libvirt: no count of none */
        sv_typed_params_add_uint(gi->params, json_array_get_length(deps),
                                 "disk.%u.dependency.count", n);
        for (guint j = 0; j < json_array_get_length(deps); j++)
            sv_typed_params_add_string(gi->params, json_array_get_string_element(deps, j),
                       "disk.%u.dependency.%u.name", n, j);
    }
    if (addr && qemu_json_string(addr, "serial"))
        sv_typed_params_add_string(gi->params, qemu_json_string(addr, "serial"), "disk.%u.serial",
                                   n);
    if (disk)
        sv_typed_params_add_string(gi->params, disk->target_dev, "disk.%u.alias", n);
    if (qemu_json_string(d, "alias"))
        sv_typed_params_add_string(gi->params, qemu_json_string(d, "alias"), "disk.%u.guest_alias",
                                   n);
    return TRUE;
}

/* guest-get-disks: disk.count and each disk, in the agent's order; nothing when none. */
static gboolean
disks_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    JsonArray *list = array_of(ret);
    guint n;

    if (!list)
        return fail(error, "qemu agent didn't return an array of disks");
    if ((n = json_array_get_length(list)) == 0)
        return TRUE;
    sv_typed_params_add_uint(gi->params, n, "disk.count");
    for (guint i = 0; i < n; i++)
        if (!disk_one(gi, i, object_of(json_array_get_element(list, i)), def, error))
            return FALSE;
    return TRUE;
}

/* Each interface as if.N.* (its addresses as if.N.addr.M.*). */
static void
ifaces_params(GuestInfo *gi, GArray *ifaces)
{
    sv_typed_params_add_uint(gi->params, ifaces->len, "if.count");
    for (guint i = 0; i < ifaces->len; i++) {
        remote_domain_interface *iface = &g_array_index(ifaces, remote_domain_interface, i);

        sv_typed_params_add_string(gi->params, iface->name, "if.%u.name", i);
        if (iface->hwaddr)
            sv_typed_params_add_string(gi->params, *iface->hwaddr, "if.%u.hwaddr", i);
        sv_typed_params_add_uint(gi->params, iface->addrs.addrs_len, "if.%u.addr.count", i);
        for (guint j = 0; j < iface->addrs.addrs_len; j++) {
            remote_domain_ip_addr *a = &iface->addrs.addrs_val[j];

            sv_typed_params_add_string(gi->params,
                                       a->type == SV_IP_ADDR_TYPE_IPV6 ? "ipv6" : "ipv4",
                                       "if.%u.addr.%u.type", i, j);
            sv_typed_params_add_string(gi->params, a->addr, "if.%u.addr.%u.addr", i, j);
            sv_typed_params_add_uint(gi->params, a->prefix, "if.%u.addr.%u.prefix", i, j);
        }
    }
}

/* guest-network-get-interfaces: if.count and each interface; nothing when none. */
static gboolean
ifaces_format(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def, GError **error)
{
    GArray *ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));
    gboolean ok = qemu_agent_interfaces_parse(ret, ifaces, error);

    (void)def;
    if (ok && ifaces->len > 0)
        ifaces_params(gi, ifaces);
    for (guint i = 0; i < ifaces->len; i++)
        xdr_free((xdrproc_t)xdr_remote_domain_interface,
                 (char *)&g_array_index(ifaces, remote_domain_interface, i));
    g_array_free(ifaces, TRUE);
    return ok;
}

typedef gboolean (*GroupFormat)(GuestInfo *gi, JsonNode *ret, const SvDomainDef *def,
                                GError **error);

/* The groups in the order libvirt asks for them and lists them. */
static const struct {
    guint type;
    const char *execute;
    GroupFormat format;
} groups[] = {
    {SV_DOMAIN_GUEST_INFO_USERS, "guest-get-users", users_format},
    {SV_DOMAIN_GUEST_INFO_OS, "guest-get-osinfo", os_format},
    {SV_DOMAIN_GUEST_INFO_TIMEZONE, "guest-get-timezone", timezone_format},
    {SV_DOMAIN_GUEST_INFO_HOSTNAME, "guest-get-host-name", hostname_format},
    {SV_DOMAIN_GUEST_INFO_FILESYSTEM, "guest-get-fsinfo", fs_format},
    {SV_DOMAIN_GUEST_INFO_DISKS, "guest-get-disks", disks_format},
    {SV_DOMAIN_GUEST_INFO_INTERFACES, "guest-network-get-interfaces", ifaces_format},
};

/* ---------------------------------------------------------------- the call */

static void
guest_info_free(GuestInfo *gi)
{
    for (guint i = 0; i < gi->params->len; i++)
        xdr_free((xdrproc_t)xdr_remote_typed_param,
                 (char *)&g_array_index(gi->params, remote_typed_param, i));
    g_array_free(gi->params, TRUE);
    g_free(gi);
}

static void
guest_info_fail(GuestInfo *gi, GError *e)
{
    sv_call_fail(gi->call, e);
    guest_info_free(gi);
}

static void next_group(GuestInfo *gi);

/* Whether the agent's error reply says it does not know or has disabled the command. */
static gboolean
unsupported(JsonObject *reply)
{
    JsonObject *eo = reply ? object_of(json_object_get_member(reply, "error")) : NULL;
    const char *klass = qemu_json_string(eo, "class");

    return klass && (g_str_equal(klass, "CommandNotFound") ||
                     g_str_equal(klass, "CommandDisabled"));
}

static void
group_done(JsonObject *reply, const GError *error, gpointer data)
{
    GuestInfo *gi = data;
    const char *execute = groups[gi->group].execute;
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, execute);
    JsonNode *ret = e ? NULL : json_object_get_member(reply, "return");
    SvDomainObj *obj = NULL;

    if (e && !error && !gi->report_unsupported && unsupported(reply)) {
        g_clear_error(&e); /* the group is left out */
    } else if (!e && !(obj = sv_domain_run_find(gi->run))) {
        sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
    } else if (!e && !ret) {
        fail(&e, "malformed return value");
    } else if (!e) {
        groups[gi->group].format(gi, ret, obj->def, &e);
    }
    if (e)
        guest_info_fail(gi, e);
    else
        next_group(gi);
}

/* Ask the agent for the next group, or answer the call when none is left. */
static void
next_group(GuestInfo *gi)
{
    g_autoptr(JsonObject) cmd = NULL;
    g_autoptr(JsonNode) node = NULL;
    GError *e = NULL;
    SvDomainObj *obj;
    QemuAgent *agent;
    guint i = 0;

    while (i < G_N_ELEMENTS(groups) && !(gi->todo & groups[i].type))
        i++;
    if (i == G_N_ELEMENTS(groups)) {
        remote_domain_get_guest_info_ret r = {{gi->params->len,
                                               (remote_typed_param *)gi->params->data}};

        sv_call_reply(gi->call, &r);
        guest_info_free(gi);
        return;
    }
    if (!(obj = sv_domain_run_find(gi->run))) {
        sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        guest_info_fail(gi, e);
        return;
    }
    if (!(agent = qemu_agent_of_running(obj, &e))) {
        guest_info_fail(gi, e);
        return;
    }
    gi->todo &= ~groups[i].type;
    gi->group = i;
    cmd = json_object_new();
    json_object_set_string_member(cmd, "execute", groups[i].execute);
    node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, cmd);
    qemu_agent_command(agent, node, QEMU_AGENT_TIMEOUT_DEFAULT, group_done, gi);
}

/* libvirt's qemuDomainGetGuestInfo: flags (none), the groups (libvirt's error names the
 * bits it does not know), the guest, its agent; then the groups one by one. */
static gboolean
domain_get_guest_info(SvCall *call, remote_domain_get_guest_info_args *a,
                      remote_domain_get_guest_info_ret *r, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    GuestInfo *gi;

    (void)r;
    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetGuestInfo", error))
        return FALSE;
    if (a->types & ~ALL_GROUPS) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "unsupported guest information types '0x%x'", a->types & ~ALL_GROUPS);
        return FALSE;
    }
    if (!(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !qemu_agent_of_running(obj, error))
        return FALSE;
    gi = g_new0(GuestInfo, 1);
    gi->call = sv_call_defer(call);
    gi->run = obj->run;
    gi->todo = a->types ? a->types : ALL_GROUPS;
    gi->report_unsupported = a->types != 0;
    gi->params = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
    next_group(gi);
    return TRUE;
}

void
qemu_agent_info_install(SvRemoteHandlers *h)
{
    h->domain_get_guest_info = domain_get_guest_info;
}
