/* qemu_hotplug_chr.c: character devices plugged into and unplugged from a running QEMU
 * guest (issue 18 item 2, live hotplug), as libvirt 9.0's QEMU driver does it for QEMU 7.2:
 * virtio-serial channels (virtserialport) and virtio consoles (virtconsole) on the guest's
 * virtio-serial controller, which must be there already; pci-serial and usb-serial serials.
 *
 * - attach: the device gets its defaults, address (virtio-serial port, PCI slot, USB port)
 *   and alias (one more than the highest of its kind) on a copy of the live definition; a
 *   unix channel without a path gets the automatic one a start gives
 *   (CHANNEL_DIR/domain-ID-NAME/TARGET). Its chardev goes to QEMU with chardev-add (a
 *   listening socket opened by the daemon and handed over with getfd), then the device
 *   with device_add; a pty's path comes from chardev-add's reply.
 * - detach: the device the XML names as libvirt's virDomainChrEquals matches it (the same
 *   source, target type, port or name); device_del and the unplug wait of qemu_hotplug.c;
 *   once QEMU let go, chardev-remove. The agent's channel closes the agent with it.
 *
 * An ISA serial is left to QEMU to refuse, as libvirt does ("Bus 'isa.0' does not support
 * hotplugging"); a serial console is refused as libvirt refuses it. */
#include "qemu_hotplug_priv.h"

#include <string.h>
#include <unistd.h>

#include "conf/domain_parse.h"
#include "qemu_agent.h"
#include "qemu_argv.h"
#include "qemu_command_chr.h"
#include "qemu_domain.h"
#include "qemu_pci.h"
#include "qemu_usb.h"
#include "util/error.h"
#include "util/fileio.h"

#define AGENT_CHANNEL "org.qemu.guest_agent.0"

static gboolean
chr_handles(const char *kind)
{
    return g_str_equal(kind, "serial") || g_str_equal(kind, "console") ||
           g_str_equal(kind, "channel");
}

static gboolean
is_virtio(const SvDomainChrDef *c)
{
    return g_strcmp0(c->target_type, "virtio") == 0;
}

static gboolean
chr_has_alias(const SvDomainDef *def, const char *alias)
{
    GPtrArray *lists[] = {def->serials, def->consoles, def->channels};

    return qemu_hotplug_find_alias(lists, G_N_ELEMENTS(lists), alias, NULL, NULL);
}

/* ---------------------------------------------------------------- attach */

static gboolean
has_virtio_serial(const SvDomainDef *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        if (((SvDomainControllerDef *)def->controllers->pdata[i])->type ==
            SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL)
            return TRUE;
    }
    return FALSE;
}

static gboolean
port_used(const SvDomainDef *def, const SvDomainSerialAddress *want)
{
    GPtrArray *lists[] = {def->channels, def->consoles};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainDeviceAddress *a = &((SvDomainChrDef *)lists[l]->pdata[i])->info.addr;

            if (a->type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL &&
                a->serial.controller == want->controller && a->serial.bus == want->bus &&
                a->serial.port == want->port)
                return TRUE;
        }
    }
    return FALSE;
}

/* A channel's address: the first free port from 1 of controller 0's bus 0 (libvirt's
 * virDomainVirtioSerialAddrAutoAssign). */
static void
assign_virtio_port(const SvDomainDef *live, SvDomainChrDef *c)
{
    SvDomainDeviceAddress *a = &c->info.addr;

    if (a->type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL && a->serial.port)
        return;
    if (a->type != SV_DOMAIN_ADDRESS_VIRTIO_SERIAL)
        memset(&a->serial, 0, sizeof(a->serial));
    a->type = SV_DOMAIN_ADDRESS_VIRTIO_SERIAL;
    a->serial.port = 1;
    while (port_used(live, &a->serial))
        a->serial.port++;
}

/* libvirt's refusals of a device it cannot plug, before anything reaches QEMU. */
static gboolean
check_attach(SvDomainObj *obj, const char *kind, SvDomainChrDef *c, GError **error)
{
    if (g_str_equal(kind, "console") && !is_virtio(c)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "unsupported console target type %s",
                     c->target_type ? c->target_type : "serial");
        return FALSE;
    }
    if (g_str_equal(kind, "channel") && !is_virtio(c)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live attach of channel target type '%s' is not supported",
                     c->target_type ? c->target_type : "none");
        return FALSE;
    }
    if (c->source.type != SV_DOMAIN_CHR_TYPE_NULL && c->source.type != SV_DOMAIN_CHR_TYPE_PTY &&
        c->source.type != SV_DOMAIN_CHR_TYPE_FILE && c->source.type != SV_DOMAIN_CHR_TYPE_UNIX &&
        c->source.type != SV_DOMAIN_CHR_TYPE_TCP) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live attach of character device type '%s' is not supported",
                     sv_domain_chr_type_to_string(c->source.type));
        return FALSE;
    }
    if (is_virtio(c) && !has_virtio_serial(obj->def)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "no virtio-serial controllers are available");
        return FALSE;
    }
    if (sv_domain_hotplug_chr_find(obj->def, kind, c) >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "chardev already exists");
        return FALSE;
    }
    return TRUE;
}

/* The live definition with `c` (transfer full) added to its list as libvirt adds it:
 * defaults, port or address, alias; *ret_index is its place. (transfer full; NULL with
 * error) */
static SvDomainDef *
live_with_chr(SvDomainObj *obj, const char *kind, SvDomainChrDef *c, guint *ret_index,
              GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_copy(obj->def);
    GPtrArray *list = sv_domain_hotplug_chr_list(def, kind);
    const char *prefix = g_str_equal(kind, "serial")    ? "serial"
                         : g_str_equal(kind, "console") ? "console"
                                                        : "channel";

    if (g_str_equal(kind, "serial")) {
        guint next = 0;
        gboolean taken = FALSE;

        sv_domain_hotplug_serial_defaults(c);
        for (guint i = 0; i < list->len; i++) {
            const SvDomainChrDef *s = list->pdata[i];
            next = MAX(next, s->target_port + 1);
            taken |= s->target_port == c->target_port;
        }
        if (taken)
            c->target_port = next;
    } else if (g_str_equal(kind, "console")) {
        /* libvirt gives a plugged virtio console the next port and the alias of its place,
         * and leaves its virtio-serial port to QEMU. */
        c->target_port = list->len;
        if (!c->info.alias)
            c->info.alias = g_strdup_printf("console%u", list->len);
    } else {
        assign_virtio_port(def, c);
    }
    if (!qemu_hotplug_place(def, list, c, prefix, kind, error))
        return NULL;
    *ret_index = list->len - 1;
    return g_steal_pointer(&def);
}

/* A unix channel without a path: the automatic one in the guest's channel directory
 * (made as a start makes it). */
static gboolean
prepare_path(SvDomainObj *obj, SvDomainDef *newlive, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autofree char *channel_dir = qemu_chr_channel_dir(ctx->lib_dir);
    g_autofree char *dir = NULL;

    if (!qemu_chr_prepare_channels(newlive, channel_dir, obj->id, &dir, error))
        return FALSE;
    return !dir || (sv_mkdir_p(dir, 0750, error) &&
                    qemu_security_prepare_dir(ctx->security, dir, error));
}

static JsonObject *
socket_backend(JsonObject *addr, gboolean server)
{
    JsonObject *data = json_object_new();

    json_object_set_object_member(data, "addr", addr);
    json_object_set_boolean_member(data, "server", server);
    if (server)
        json_object_set_boolean_member(data, "wait", FALSE);
    return data;
}

static JsonObject *
typed(const char *type, JsonObject *data)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "type", type);
    json_object_set_object_member(o, "data", data);
    return o;
}

/* chardev-add's ChardevBackend for src; a listening unix socket is the fd `fdname`. */
static JsonObject *
chardev_backend(const SvDomainChrSource *src, const char *fdname)
{
    JsonObject *data = json_object_new();
    const char *type = sv_domain_chr_type_to_string(src->type);

    if (src->type == SV_DOMAIN_CHR_TYPE_FILE) {
        json_object_set_string_member(data, "out", src->path);
        if (src->append != SV_DOMAIN_SWITCH_ABSENT)
            json_object_set_boolean_member(data, "append", src->append == SV_DOMAIN_SWITCH_ON);
    } else if (src->type == SV_DOMAIN_CHR_TYPE_UNIX || src->type == SV_DOMAIN_CHR_TYPE_TCP) {
        JsonObject *addr = json_object_new();
        gboolean server = src->mode == SV_DOMAIN_CHR_MODE_BIND;

        if (fdname) {
            json_object_set_string_member(addr, "str", fdname);
            addr = typed("fd", addr);
        } else if (src->type == SV_DOMAIN_CHR_TYPE_UNIX) {
            json_object_set_string_member(addr, "path", src->path);
            addr = typed("unix", addr);
        } else {
            json_object_set_string_member(addr, "host", src->host);
            json_object_set_string_member(addr, "port", src->service);
            addr = typed("inet", addr);
        }
        json_object_unref(data);
        data = socket_backend(addr, server);
        if (src->type == SV_DOMAIN_CHR_TYPE_TCP)
            json_object_set_boolean_member(data, "telnet",
                                           src->protocol == SV_DOMAIN_CHR_TCP_TELNET);
        type = "socket";
    }
    if (src->log_file) {
        json_object_set_string_member(data, "logfile", src->log_file);
        if (src->log_append != SV_DOMAIN_SWITCH_ABSENT)
            json_object_set_boolean_member(data, "logappend",
                                           src->log_append == SV_DOMAIN_SWITCH_ON);
    }
    return typed(type, data);
}

JsonObject *
qemu_hotplug_find_option(GPtrArray *argv, const char *option, const char *id)
{
    for (guint i = 0; i + 1 < argv->len; i++) {
        g_autoptr(JsonNode) node = NULL;

        if (!g_str_equal(argv->pdata[i], option))
            continue;
        node = json_from_string(argv->pdata[i + 1], NULL);
        if (node && JSON_NODE_HOLDS_OBJECT(node) &&
            g_strcmp0(qemu_json_string(json_node_get_object(node), "id"), id) == 0)
            return json_node_dup_object(node);
    }
    return NULL;
}

/* The device_add arguments of c: the -device a start writes for it. (transfer full) */
static JsonObject *
device_args(const SvDomainDef *newlive, const SvDomainChrDef *c)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    JsonObject *o;

    qemu_command_build_chrs(newlive, NULL, argv);
    o = qemu_hotplug_find_option(argv, "-device", c->info.alias);
    g_assert(o);
    return o;
}

char *
qemu_hotplug_next_alias(GPtrArray *devices, const char *prefix)
{
    gsize len = strlen(prefix);
    gint64 next = 0;

    for (guint i = 0; i < devices->len; i++) {
        const char *a = ((const SvDomainDeviceInfo *)devices->pdata[i])->alias;

        if (a && g_str_has_prefix(a, prefix) && g_ascii_isdigit(a[len]))
            next = MAX(next, g_ascii_strtoll(a + len, NULL, 10) + 1);
    }
    return g_strdup_printf("%s%" G_GINT64_FORMAT, prefix, next);
}

gboolean
qemu_hotplug_unsupported(const char *what, const char *kind, GError **error)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "live %s of device '%s' is not supported", what,
                 sv_domain_hotplug_type_name(kind));
    return FALSE;
}

gboolean
qemu_hotplug_place(SvDomainDef *def, GPtrArray *list, gpointer device, const char *prefix,
                   const char *kind, GError **error)
{
    SvDomainDeviceInfo *info = device;
    guint controllers = def->controllers->len;

    if (!info->alias)
        info->alias = qemu_hotplug_next_alias(list, prefix);
    g_ptr_array_add(list, device);
    if (!qemu_pci_assign_addresses(def, error) || !qemu_usb_assign_addresses(def, error))
        return FALSE;
    if (def->controllers->len != controllers) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "the %s needs a controller the running guest has not: plugging "
                     "controllers is not supported", kind);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_hotplug_find_alias(GPtrArray *const *lists, guint n, const char *alias, guint *ret_list,
                        guint *ret_index)
{
    for (guint l = 0; l < n; l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            if (g_strcmp0(((SvDomainDeviceInfo *)lists[l]->pdata[i])->alias, alias) != 0)
                continue;
            if (ret_list)
                *ret_list = l;
            if (ret_index)
                *ret_index = i;
            return TRUE;
        }
    }
    return FALSE;
}

void
qemu_hotplug_del_backend(SvDomainObj *obj, const char *cmd, const char *id)
{
    QemuMonitor *mon;

    if (qemu_hotplug_monitor_of(obj, &mon, NULL)) {
        JsonObject *args = json_object_new();

        qemu_props_str(args, "id", id);
        qemu_monitor_command(mon, cmd, args, NULL, NULL);
    }
}

JsonObject *
qemu_hotplug_step(const char *cmd, JsonObject *args)
{
    JsonObject *step = json_object_new();

    json_object_set_string_member(step, "execute", cmd);
    json_object_set_object_member(step, "arguments", args);
    return step;
}

JsonObject *
qemu_hotplug_chardev_add(const SvDomainChrSource *src, const char *alias, const char *fdname)
{
    JsonObject *args = json_object_new();
    g_autofree char *id = g_strconcat("char", alias, NULL);

    json_object_set_string_member(args, "id", id);
    json_object_set_object_member(args, "backend", chardev_backend(src, fdname));
    return qemu_hotplug_step("chardev-add", args);
}

static void
join_chr(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
         const char *pty)
{
    SvDomainChrDef *c = g_ptr_array_steal_index(sv_domain_hotplug_chr_list(newlive, kind), index);

    if (pty && c->source.type == SV_DOMAIN_CHR_TYPE_PTY) {
        g_free(c->source.path);
        c->source.path = g_strdup(pty);
    }
    g_ptr_array_add(sv_domain_hotplug_chr_list(obj->def, kind), c);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED, c->info.alias);
}

static gboolean
chr_attach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    GPtrArray *list = sv_domain_hotplug_chr_list(dev, kind);
    g_autoptr(SvDomainDef) newlive = NULL;
    g_autofree char *fdname = NULL;
    GPtrArray *steps;
    SvDomainChrDef *c;
    QemuMonitor *mon;
    guint index;
    int fd = -1;

    if (list->len != 1)
        return qemu_hotplug_unsupported("attach", kind, error);
    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    c = list->pdata[0];
    if (g_str_equal(kind, "serial"))
        sv_domain_hotplug_serial_defaults(c);
    if (!check_attach(obj, kind, c, error))
        return FALSE;
    newlive = live_with_chr(obj, kind, g_ptr_array_steal_index(list, 0), &index, error);
    if (!newlive || !prepare_path(obj, newlive, error))
        return FALSE;
    c = sv_domain_hotplug_chr_list(newlive, kind)->pdata[index];
    if (c->source.type == SV_DOMAIN_CHR_TYPE_UNIX && c->source.mode == SV_DOMAIN_CHR_MODE_BIND) {
        if ((fd = qemu_listen_unix(c->source.path, "character device socket", error)) < 0)
            return FALSE;
        fdname = g_strdup_printf("fd-char%s", c->info.alias);
    }
    steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_ptr_array_add(steps, qemu_hotplug_chardev_add(&c->source, c->info.alias, fdname));
    g_ptr_array_add(steps, qemu_hotplug_step("device_add", device_args(newlive, c)));
    /* The kind as a static string: the caller's is gone before the plug ends. */
    qemu_hotplug_plug(obj, g_steal_pointer(&newlive),
                      g_str_equal(kind, "serial")    ? "serial"
                      : g_str_equal(kind, "console") ? "console"
                                                     : "channel",
                      index, steps, fd, fdname, join_chr, done, data);
    return TRUE;
}

/* ---------------------------------------------------------------- detach */

static gboolean
chr_detach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    GPtrArray *list = sv_domain_hotplug_chr_list(dev, kind);
    SvDomainChrDef *want;
    int at;

    if (list->len != 1)
        return qemu_hotplug_unsupported("detach", kind, error);
    want = list->pdata[0];
    if (g_str_equal(kind, "serial"))
        sv_domain_hotplug_serial_defaults(want);
    at = sv_domain_hotplug_chr_find(obj->def, kind, want);
    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING,
                     "chr type '%s' device not present in domain configuration", kind);
        return FALSE;
    }
    want = sv_domain_hotplug_chr_list(obj->def, kind)->pdata[at];
    return qemu_hotplug_unplug(obj, want->info.alias, TRUE, done, data, error);
}

/* The chardev of c removed from QEMU; the agent closed with its channel; an automatic
 * channel socket removed. */
static void
release(SvDomainObj *obj, const SvDomainChrDef *c, gboolean channel)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *id = g_strconcat("char", c->info.alias, NULL);
    g_autofree char *channel_dir = qemu_chr_channel_dir(qemu_ctx_of(obj)->lib_dir);

    qemu_hotplug_del_backend(obj, "chardev-remove", id);
    if (channel && is_virtio(c) && g_strcmp0(c->target_name, AGENT_CHANNEL) == 0)
        g_clear_pointer(&qd->agent, qemu_agent_free);
    if (c->source.type == SV_DOMAIN_CHR_TYPE_UNIX && c->source.path &&
        g_str_has_prefix(c->source.path, channel_dir))
        unlink(c->source.path);
}
static gboolean
chr_removed(SvDomainObj *obj, const char *alias)
{
    GPtrArray *lists[] = {obj->def->serials, obj->def->consoles, obj->def->channels};
    guint l, i;

    if (!qemu_hotplug_find_alias(lists, G_N_ELEMENTS(lists), alias, &l, &i))
        return FALSE;
    release(obj, lists[l]->pdata[i], l == 2);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, alias);
    g_ptr_array_remove_index(lists[l], i);
    return TRUE;
}

const QemuHotplugFamily qemu_hotplug_chr = {
    .handles = chr_handles,
    .attach = chr_attach,
    .detach = chr_detach,
    .has_alias = chr_has_alias,
    .removed = chr_removed,
};
