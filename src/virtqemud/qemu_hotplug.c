/* qemu_hotplug.c: disks and interfaces plugged into and unplugged from a running QEMU guest
 * (issue 18 item 2, live hotplug), as libvirt 9.0's QEMU driver does it for QEMU 7.2:
 *
 * - attach: the device is given its defaults, PCI address and alias on a copy of the live
 *   definition exactly as a cold start gives them (a disk's image the next node index);
 *   then the -blockdev/-netdev and -device options a start would write for it go to QMP as
 *   blockdev-add/netdev_add and device_add, in order. Once QEMU has the device, it joins
 *   the live definition and DEVICE_ADDED goes out; a failed step deletes the backends
 *   already added. Interfaces: user networking, and taps (ethernet, bridge) made as a start
 *   makes them and handed to QEMU with getfd; macvtap is refused.
 * - detach: device_del, then up to QEMU_HOTPLUG_UNPLUG_WAIT_MS for QEMU's DEVICE_DELETED. When
 *   it comes the device leaves the live definition, its backends are deleted (blockdev-del,
 *   netdev_del) and DEVICE_REMOVED goes out; the call succeeds either way, and an unplug the
 *   guest finishes later completes then. DETACH_DEVICE_ALIAS does not wait. QEMU's
 *   ACPI_DEVICE_OST with a failed eject gives DEVICE_REMOVAL_FAILED and fails the call.
 *
 * Interfaces are made in qemu_hotplug_net.c. Serials, consoles and channels plug through
 * the same steps and wait (qemu_hotplug_chr.c, sharing qemu_hotplug_priv.h). Other device kinds are refused live as libvirt refuses a
 * kind it cannot plug ("live attach of device 'rng' is not supported"): not served yet. */
#include "qemu_hotplug_priv.h"

#include <string.h>
#include <unistd.h>

#include "conf/domain_parse.h"
#include "domain/domain_hotplug.h"
#include "domain/domain_netport.h"
#include "domain/domain_wire.h"
#include "programs/remote.h"
#include "qemu_alias.h"
#include "qemu_argv.h"
#include "qemu_secret.h"
#include "qemu_command_disk.h"
#include "qemu_disk_chain.h"
#include "qemu_command_net.h"
#include "qemu_domain.h"
#include "qemu_interface.h"
#include "qemu_pci.h"
#include "qemu_usb.h"
#include "qemu_vcpuhot.h"
#include "qemu_volume.h"
#include "qemu_monitor.h"
#include "util/error.h"

/* The device kinds plugged by files of their own. */
static const QemuHotplugFamily *const families[] = {&qemu_hotplug_chr, &qemu_hotplug_dev,
                                                    &qemu_hotplug_ctl};

/* libvirt's wait for QEMU to confirm an unplug (qemuDomainRemoveDeviceWaitTime). */
#define QEMU_HOTPLUG_UNPLUG_WAIT_MS 5000

/* One unplug asked of QEMU and not confirmed yet. */
typedef struct {
    guint id;             /* this unplug's, among the guest's */
    char *alias;
    SvStoreDoneFunc done; /* the call still waiting (NULL once answered) */
    gpointer data;
    guint timer;
    GError *timeout_error; /* the call's error when the wait ends first (NULL: success) */
} Unplug;

struct QemuHotplug {
    GPtrArray *unplugs; /* of Unplug */
    guint next_node;    /* the node index of the next image plugged (0: not counted yet) */
    guint next_id;      /* of the next unplug */
};

static void
unplug_free(gpointer p)
{
    Unplug *u = p;

    if (u->timer)
        g_source_remove(u->timer);
    /* A guest gone before its unplug was confirmed: the waiting call fails. */
    if (u->done) {
        g_autoptr(GError) error = NULL;

        sv_error_set(&error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        u->done(error, u->data);
    }
    g_clear_error(&u->timeout_error);
    g_free(u->alias);
    g_free(u);
}

void
qemu_hotplug_free(QemuHotplug *hp)
{
    if (!hp)
        return;
    g_ptr_array_unref(hp->unplugs);
    g_free(hp);
}

static QemuHotplug *
hotplug_of(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (!qd->hotplug) {
        qd->hotplug = g_new0(QemuHotplug, 1);
        qd->hotplug->unplugs = g_ptr_array_new_with_free_func(unplug_free);
    }
    return qd->hotplug;
}

void
qemu_hotplug_emit_device_event(SvDomainObj *obj, int event_id, const char *alias)
{
    remote_nonnull_domain dom;

    sv_domain_obj_to_remote(obj, &dom);
    sv_remote_emit_device_event(sv_domain_driver_of_obj(obj)->server, event_id, &dom, alias);
    g_free(dom.name);
}

gboolean
qemu_hotplug_monitor_of(SvDomainObj *obj, QemuMonitor **ret, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    *ret = qd->mon;
    return TRUE;
}

static int
disk_index(const SvDomainDef *def, const char *target)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_str_equal(d->target_dev, target))
            return (int)i;
    }
    return -1;
}

static int
disk_index_by_alias(const SvDomainDef *def, const char *alias)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_strcmp0(d->info.alias, alias) == 0)
            return (int)i;
    }
    return -1;
}

/* ---------------------------------------------------------------- attach */

/* One plug under way: the QMP steps left, and the live definition it will make. */
typedef struct {
    gpointer run;
    SvDomainDef *newlive;   /* the live definition with the device (owned) */
    QemuHotplugJoin join;   /* what makes the device part of the live definition */
    const char *kind;       /* its element (static) */
    guint index;            /* the device's place in its list of newlive */
    char *pty;              /* the pty a chardev-add gave, or NULL */
    GPtrArray *steps;       /* of JsonObject {"execute", "arguments"} */
    guint next;             /* the step sent last + 1 */
    GPtrArray *undo;        /* of JsonObject steps: what takes back the steps done */
    GError *error;          /* the failed step's */
    int tapfd;              /* a tap to hand QEMU first (getfd), or -1 */
    char *fdname;           /* its name in QEMU */
    SvStoreDoneFunc done;
    gpointer data;
} Plug;

static void
plug_free(Plug *p)
{
    sv_domain_def_free(p->newlive);
    g_ptr_array_unref(p->steps);
    g_ptr_array_unref(p->undo);
    g_clear_error(&p->error);
    if (p->tapfd >= 0)
        close(p->tapfd);
    g_free(p->fdname);
    g_free(p->pty);
    g_free(p);
}

void
qemu_hotplug_send_step(QemuMonitor *mon, JsonObject *step, QemuMonitorReplyFunc done,
                       gpointer data)
{
    qemu_monitor_command(mon, json_object_get_string_member(step, "execute"),
                         json_object_ref(json_object_get_object_member(step, "arguments")),
                         done, data);
}

GPtrArray *
qemu_hotplug_steps(GPtrArray *argv)
{
    GPtrArray *steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);

    for (guint i = 0; i + 1 < argv->len; i += 2) {
        g_autoptr(JsonNode) node = json_from_string(argv->pdata[i + 1], NULL);
        JsonObject *step = json_object_new();

        g_assert(node && JSON_NODE_HOLDS_OBJECT(node));
        const char *option = argv->pdata[i];

        json_object_set_string_member(step, "execute",
                                      g_str_equal(option, "-blockdev") ? "blockdev-add"
                                      : g_str_equal(option, "-netdev") ? "netdev_add"
                                      : g_str_equal(option, "-object") ? "object-add"
                                                                       : "device_add");
        json_object_set_object_member(step, "arguments", json_node_dup_object(node));
        g_ptr_array_add(steps, step);
    }
    return steps;
}

static void plug_next(Plug *p);

/* What the step added, taken back: its blockdev-del or netdev_del (NULL: nothing). */
static JsonObject *
undo_step(JsonObject *step)
{
    const char *cmd = json_object_get_string_member(step, "execute");
    JsonObject *args = json_object_get_object_member(step, "arguments");
    gboolean node = g_str_equal(cmd, "blockdev-add");
    const char *key = node ? "node-name" : "id";

    if (g_str_equal(cmd, "chardev-add") || g_str_equal(cmd, "object-add"))
        return qemu_json_command1(cmd[0] == 'c' ? "chardev-remove" : "object-del", "id",
                                  json_object_get_string_member(args, "id"));
    if (!node && !g_str_equal(cmd, "netdev_add"))
        return NULL;
    return qemu_json_command1(node ? "blockdev-del" : "netdev_del", key,
                              json_object_get_string_member(args, key));
}

/* The backends added before a failure, deleted again (newest first); the call then
 * fails. */
static void
plug_fail(Plug *p, SvDomainObj *obj)
{
    QemuMonitor *mon = NULL;

    if (obj && qemu_hotplug_monitor_of(obj, &mon, NULL)) {
        for (guint i = p->undo->len; i > 0; i--) {
            JsonObject *undo = p->undo->pdata[i - 1];
            qemu_hotplug_send_step(mon, undo, NULL, NULL);
        }
    }
    p->done(p->error, p->data);
    plug_free(p);
}

static void
join_net(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
         const char *pty)
{
    SvDomainNetDef *net = g_ptr_array_steal_index(newlive->interfaces, index);

    (void)kind;
    (void)pty;
    /* libvirt appends a plugged interface (virDomainNetInsert). */
    g_ptr_array_add(obj->def->interfaces, net);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED, net->info.alias);
}

static void
join_disk(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
          const char *pty)
{
    SvDomainDiskDef *disk = g_ptr_array_steal_index(newlive->disks, index);
    int at = disk_index(obj->def, disk->target_dev);

    (void)kind;
    (void)pty;
    if (at >= 0) { /* plugged meanwhile by another call: QEMU refused ours already */
        sv_domain_disk_def_free(disk);
    } else {
        g_ptr_array_insert(obj->def->disks,
                           (gint)sv_domain_hotplug_disk_insert_at(obj->def, disk), disk);
        qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED, disk->info.alias);
    }
}

static void
plug_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    Plug *p = data;
    SvDomainObj *obj = qemu_domain_find(p->run);
    JsonObject *step = p->steps->pdata[p->next - 1];
    JsonObject *undo;

    (void)mon;
    if (!error && !obj)
        sv_error_set(&p->error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "domain is not running");
    else if (error)
        p->error = g_error_copy(error);
    if (p->error) {
        plug_fail(p, obj);
        return;
    }
    if ((undo = undo_step(step)))
        g_ptr_array_add(p->undo, undo);
    if (ret && JSON_NODE_HOLDS_OBJECT(ret) && qemu_json_string(json_node_get_object(ret), "pty"))
        p->pty = g_strdup(qemu_json_string(json_node_get_object(ret), "pty"));
    if (p->next < p->steps->len) {
        plug_next(p);
        return;
    }
    p->join(obj, p->newlive, p->kind, p->index, p->pty);
    p->done(NULL, p->data);
    plug_free(p);
}

static void
getfd_replied(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer data)
{
    Plug *p = data;
    SvDomainObj *obj = qemu_domain_find(p->run);
    JsonNode *e = reply ? json_object_get_member(reply, "error") : NULL;

    (void)mon;
    if (error) {
        p->error = g_error_copy(error);
    } else if (e) {
        JsonObject *eo = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
        const char *desc = qemu_json_string(eo, "desc");
        sv_error_set(&p->error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "unable to execute QEMU command 'getfd': %s", desc ? desc : "?");
    } else if (!obj) {
        sv_error_set(&p->error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "domain is not running");
    }
    if (p->error) {
        plug_fail(p, obj);
        return;
    }
    /* QEMU keeps a named fd until netdev_add takes it: closefd when that never comes. */
    g_ptr_array_add(p->undo, qemu_json_command1("closefd", "fdname", p->fdname));
    plug_next(p);
}

/* The tap goes to QEMU (SCM_RIGHTS) under its name, before the netdev that uses it. */
static void
plug_send_tap(Plug *p, QemuMonitor *mon)
{
    JsonObject *step = qemu_json_command1("getfd", "fdname", p->fdname);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), step);
    int fd = p->tapfd;

    json_object_unref(step);
    p->tapfd = -1;
    qemu_monitor_passthrough(mon, node, fd, getfd_replied, p);
}

static void
plug_next(Plug *p)
{
    SvDomainObj *obj = qemu_domain_find(p->run);
    JsonObject *step;
    QemuMonitor *mon;

    if (!obj || !qemu_hotplug_monitor_of(obj, &mon, &p->error)) {
        if (!p->error)
            sv_error_set(&p->error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                         "domain is not running");
        plug_fail(p, obj);
        return;
    }
    if (p->tapfd >= 0) {
        plug_send_tap(p, mon);
        return;
    }
    step = p->steps->pdata[p->next++];
    qemu_hotplug_send_step(mon, step, plug_replied, p);
}

guint
qemu_hotplug_next_node(SvDomainObj *obj)
{
    QemuHotplug *hp = hotplug_of(obj);

    /* At first, after the indexes the start gave, empty drives' included. */
    if (!hp->next_node) {
        hp->next_node = 1;
        for (guint i = 0; i < obj->def->disks->len; i++)
            hp->next_node += 1 + ((SvDomainDiskDef *)obj->def->disks->pdata[i])->backing->len;
    }
    for (guint i = 0; i < obj->def->disks->len; i++) {
        const SvDomainDiskDef *d = obj->def->disks->pdata[i];

        hp->next_node = MAX(hp->next_node, d->source_index + 1);
        for (guint k = 0; k < d->backing->len; k++) {
            const SvDomainDiskBackingDef *b = d->backing->pdata[k];
            hp->next_node = MAX(hp->next_node, b->index + 1);
        }
    }
    return hp->next_node++;
}

/* libvirt's check of a disk plugged live: a target not in use yet (the live definition
 * with the disk is validated as a parsed one is). What QEMU cannot plug (a cdrom, an IDE
 * bus) it refuses itself, as it refuses libvirt. */
static gboolean
check_disk(SvDomainObj *obj, const SvDomainDiskDef *disk, GError **error)
{
    int at = disk_index(obj->def, disk->target_dev);
    const SvDomainDiskDef *old = at >= 0 ? obj->def->disks->pdata[at] : NULL;

    if (old) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "target '%s' duplicated for disk sources '%s' and '%s'", disk->target_dev,
                     old->source ? old->source : "<null>", disk->source ? disk->source : "<null>");
        return FALSE;
    }
    return TRUE;
}

/* The live definition with `disk` (transfer full) added as a start gives it: defaults,
 * address, alias, node index. A disk that needs a controller the guest lacks is refused:
 * controllers are not plugged here. (transfer full; NULL with error) */
static SvDomainDef *
live_with_disk(SvDomainObj *obj, SvDomainDiskDef *disk, guint *ret_index, GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_copy(obj->def);
    guint controllers = def->controllers->len;
    SvDomainDiskDef *d;
    guint given;
    int at;

    g_ptr_array_insert(def->disks, (gint)sv_domain_hotplug_disk_insert_at(def, disk), disk);
    if (!qemu_disk_def_post_parse(def, error) || !qemu_pci_assign_addresses(def, error) ||
        !qemu_usb_assign_addresses(def, error) || !qemu_disk_check(def, error))
        return NULL;
    if (def->controllers->len != controllers) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "disk '%s' needs a controller the running guest has not: plugging "
                     "controllers is not supported", disk->target_dev);
        return NULL;
    }
    qemu_domain_assign_aliases(def);
    at = disk_index(def, disk->target_dev);
    d = def->disks->pdata[at];
    given = d->backing->len;
    if (!qemu_disk_probe_chain(d, error))
        return NULL;
    /* libvirt numbers each backing image its probe finds, then the whole chain again from
     * the image down: the first numbers go unused (seen with Debian's libvirtd 9.0.0) */
    for (guint k = given; k < d->backing->len; k++)
        (void)qemu_hotplug_next_node(obj);
    d->source_index = qemu_hotplug_next_node(obj);
    for (guint k = 0; k < d->backing->len; k++)
        ((SvDomainDiskBackingDef *)d->backing->pdata[k])->index = qemu_hotplug_next_node(obj);
    if (!d->backing->len && d->format == SV_DOMAIN_DISK_FORMAT_RAW)
        d->backing_end = TRUE;
    *ret_index = (guint)at;
    return g_steal_pointer(&def);
}

void
qemu_hotplug_plug(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
                  GPtrArray *steps, int fd, const char *fdname, QemuHotplugJoin join,
                  SvStoreDoneFunc done, gpointer data)
{
    Plug *p = g_new0(Plug, 1);

    p->tapfd = fd;
    p->fdname = g_strdup(fdname);
    p->run = sv_domain_obj_run_key(obj);
    p->newlive = newlive;
    p->join = join;
    p->kind = kind;
    p->index = index;
    p->steps = steps;
    p->undo = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    p->done = done;
    p->data = data;
    plug_next(p);
}

/* Send QEMU the options in argv (the start's, for the one device at `index` of newlive,
 * transfer full) as QMP commands, in order; the device joins obj's live definition once
 * all succeeded. A tap (tapfd) goes first, and its netdev takes it by that name. */
void
qemu_hotplug_plug_argv(SvDomainObj *obj, SvDomainDef *newlive, gboolean net, guint index,
                       GPtrArray *argv, int tapfd, SvStoreDoneFunc done, gpointer data)
{
    GPtrArray *steps = qemu_hotplug_steps(argv);
    const SvDomainNetDef *n = net ? newlive->interfaces->pdata[index] : NULL;
    g_autofree char *fdname = tapfd >= 0 ? g_strdup_printf("fd-%s", n->info.alias) : NULL;

    for (guint i = 0; fdname && i < steps->len; i++) {
        JsonObject *step = steps->pdata[i];
        if (g_str_equal(json_object_get_string_member(step, "execute"), "netdev_add"))
            json_object_set_string_member(json_object_get_object_member(step, "arguments"),
                                          "fd", fdname);
    }
    qemu_hotplug_plug(obj, newlive, net ? "interface" : "disk", index, steps, tapfd, fdname,
                      net ? join_net : join_disk, done, data);
}

gboolean
qemu_hotplug_attach_disk(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done,
                         gpointer data, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);
    SvDomainDiskDef *disk = dev->disks->pdata[0];
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    guint index;
    SvDomainDef *newlive;
    QemuMonitor *mon;

    if (!qemu_hotplug_monitor_of(obj, &mon, error) || !check_disk(obj, disk, error))
        return FALSE;
    newlive = live_with_disk(obj, g_ptr_array_steal_index(dev->disks, 0), &index, error);
    if (!newlive)
        return FALSE;
    if (qd->sec && !qemu_security_label_apply(qemu_ctx_of(obj)->security, qd->sec, newlive,
                                              error)) {
        sv_domain_def_free(newlive);
        return FALSE;
    }
    if (qemu_secret_disk_needs_key(newlive->disks->pdata[index])) {
        qemu_hotplug_attach_keyed_disk(obj, newlive, index, done, data);
        return TRUE;
    }
    qemu_command_build_disk(newlive, newlive->disks->pdata[index], NULL, argv);
    qemu_hotplug_plug_argv(obj, newlive, FALSE, index, argv, -1, done, data);
    return TRUE;
}

static gboolean
attach_live(SvCall *call, SvDomainObj *obj, SvDomainDef *dev, const char *kind,
            SvStoreDoneFunc done, gpointer data, GError **error)
{
    /* A volume disk is resolved first, as libvirt translates it first. */
    if (g_str_equal(kind, "disk") && dev->disks->len == 1 && qemu_volume_pending(dev))
        return qemu_volume_attach(call, obj, dev, done, data, error);
    if (g_str_equal(kind, "disk") && dev->disks->len == 1)
        return qemu_hotplug_attach_disk(obj, dev, done, data, error);
    if (g_str_equal(kind, "interface") && dev->interfaces->len == 1)
        return qemu_hotplug_attach_net(call, obj, dev, done, data, error);
    for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
        if (families[i]->handles(kind))
            return families[i]->attach(obj, dev, kind, done, data, error);
    }
    return qemu_hotplug_unsupported("attach", kind, error);
}

/* ---------------------------------------------------------------- detach */

static Unplug *
unplug_find(QemuHotplug *hp, const char *alias, guint *ret_index)
{
    for (guint i = 0; hp && i < hp->unplugs->len; i++) {
        Unplug *u = hp->unplugs->pdata[i];

        if (g_str_equal(u->alias, alias)) {
            if (ret_index)
                *ret_index = i;
            return u;
        }
    }
    return NULL;
}

/* The call of an unplug is answered (once). */
static void
unplug_answer(Unplug *u)
{
    SvStoreDoneFunc done = u->done;

    u->done = NULL;
    if (u->timer)
        g_source_remove(u->timer);
    u->timer = 0;
    if (done)
        done(NULL, u->data);
}

static gboolean
unplug_timeout(gpointer data)
{
    Unplug *u = data;

    /* libvirt's call succeeds when the guest has not let go in time (a vcpu's fails); the
     * device stays until QEMU's DEVICE_DELETED. */
    u->timer = 0;
    if (u->timeout_error && u->done) {
        SvStoreDoneFunc done = u->done;

        u->done = NULL;
        done(u->timeout_error, u->data);
        return G_SOURCE_REMOVE;
    }
    unplug_answer(u);
    return G_SOURCE_REMOVE;
}

/* A device_del on its way: the unplug it belongs to, and the call it answers itself when
 * nothing waits for the device to go (DETACH_DEVICE_ALIAS). */
typedef struct {
    gpointer run;
    guint id;
    SvStoreDoneFunc done;
    gpointer data;
} UnplugAsk;

static void
device_del_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree UnplugAsk *ask = data;
    SvDomainObj *obj = qemu_domain_find(ask->run);
    QemuHotplug *hp = obj ? qemu_domain_of(obj)->hotplug : NULL;

    (void)mon;
    (void)ret;
    for (guint i = 0; error && hp && i < hp->unplugs->len; i++) {
        Unplug *u = hp->unplugs->pdata[i];
        SvStoreDoneFunc done = u->done;
        gpointer done_data = u->data;

        if (u->id != ask->id)
            continue;
        /* QEMU refused: nothing to wait for. */
        u->done = NULL;
        g_ptr_array_remove_index(hp->unplugs, i);
        if (done)
            done(error, done_data);
        break;
    }
    if (ask->done)
        ask->done(error, ask->data);
}

/* device_del of obj's device `alias`; with `wait`, done runs once QEMU confirmed the unplug
 * or after libvirt's wait, else as soon as QEMU took the request. */
gboolean
qemu_hotplug_unplug(SvDomainObj *obj, const char *alias, gboolean wait, SvStoreDoneFunc done,
       gpointer data, GError **error)
{
    QemuHotplug *hp = hotplug_of(obj);
    UnplugAsk *ask;
    JsonObject *args;
    QemuMonitor *mon;
    Unplug *u;

    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    ask = g_new0(UnplugAsk, 1);
    /* An unplug asked again while one waits goes to QEMU too, which answers it. */
    u = g_new0(Unplug, 1);
    u->id = ++hp->next_id;
    u->alias = g_strdup(alias);
    if (wait) {
        u->done = done;
        u->data = data;
        u->timer = g_timeout_add(QEMU_HOTPLUG_UNPLUG_WAIT_MS, unplug_timeout, u);
    } else {
        ask->done = done;
        ask->data = data;
    }
    g_ptr_array_add(hp->unplugs, u);
    args = json_object_new();
    json_object_set_string_member(args, "id", alias);
    ask->run = sv_domain_obj_run_key(obj);
    ask->id = u->id;
    qemu_monitor_command(mon, "device_del", args, device_del_replied, ask);
    return TRUE;
}

gboolean
qemu_hotplug_unplug_or_fail(SvDomainObj *obj, const char *alias, GError *timeout_error,
                            SvStoreDoneFunc done, gpointer data, GError **error)
{
    g_autoptr(GError) owned = timeout_error;
    QemuHotplug *hp;

    if (!qemu_hotplug_unplug(obj, alias, TRUE, done, data, error))
        return FALSE;
    hp = hotplug_of(obj);
    ((Unplug *)hp->unplugs->pdata[hp->unplugs->len - 1])->timeout_error = g_steal_pointer(&owned);
    return TRUE;
}

static gboolean
unplug_disk(SvDomainObj *obj, guint at, gboolean wait, SvStoreDoneFunc done, gpointer data,
            GError **error)
{
    const SvDomainDiskDef *disk = obj->def->disks->pdata[at];

    if (disk->bus != SV_DOMAIN_DISK_BUS_VIRTIO && disk->bus != SV_DOMAIN_DISK_BUS_SCSI &&
        disk->bus != SV_DOMAIN_DISK_BUS_USB) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "This type of disk cannot be hot unplugged");
        return FALSE;
    }
    return qemu_hotplug_unplug(obj, disk->info.alias, wait, done, data, error);
}

static gboolean
detach_disk(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
            GError **error)
{
    const SvDomainDiskDef *want = dev->disks->pdata[0];
    int at = disk_index(obj->def, want->target_dev);

    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING, "disk %s not found",
                     want->target_dev);
        return FALSE;
    }
    return unplug_disk(obj, (guint)at, TRUE, done, data, error);
}

static gboolean
detach_alias(SvDomainObj *obj, const char *alias, SvStoreDoneFunc done, gpointer data,
             GError **error)
{
    int at = disk_index_by_alias(obj->def, alias);

    if (at >= 0)
        return unplug_disk(obj, (guint)at, FALSE, done, data, error);
    for (guint i = 0; i < obj->def->interfaces->len; i++) {
        const SvDomainDeviceInfo *info = obj->def->interfaces->pdata[i];

        if (g_strcmp0(info->alias, alias) == 0)
            return qemu_hotplug_unplug(obj, alias, FALSE, done, data, error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
        if (families[i]->has_alias(obj->def, alias))
            return qemu_hotplug_unplug(obj, alias, FALSE, done, data, error);
    }
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "no device found with alias %s",
                 alias);
    return FALSE;
}

static gboolean
detach_live(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
            gpointer data, GError **error)
{
    if (g_str_equal(kind, "disk") && dev->disks->len == 1)
        return detach_disk(obj, dev, done, data, error);
    if (g_str_equal(kind, "interface") && dev->interfaces->len == 1) {
        guint at;
        if (!sv_domain_hotplug_net_find(obj->def, dev->interfaces->pdata[0], &at, error))
            return FALSE;
        return qemu_hotplug_unplug(obj, ((SvDomainNetDef *)obj->def->interfaces->pdata[at])->info.alias,
                      TRUE, done, data, error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
        if (families[i]->handles(kind))
            return families[i]->detach(obj, dev, kind, done, data, error);
    }
    return qemu_hotplug_unsupported("detach", kind, error);
}

/* ---------------------------------------------------------------- QEMU's events */

void
qemu_hotplug_del_nodes(SvDomainObj *obj, const SvDomainDiskDef *disk)
{
    QemuMonitor *mon;

    if (!qemu_hotplug_monitor_of(obj, &mon, NULL) || sv_domain_disk_is_empty(disk))
        return;
    for (guint k = 0; k <= disk->backing->len; k++) {
        const SvDomainDiskBackingDef *b = k ? disk->backing->pdata[k - 1] : NULL;
        guint index = b && b->index ? b->index : disk->source_index + k;
        const char *kinds[] = {"format", "storage"};
        for (guint j = 0; j < G_N_ELEMENTS(kinds); j++) {
            JsonObject *args = json_object_new();
            g_autofree char *node = g_strdup_printf("libvirt-%u-%s", index, kinds[j]);
            json_object_set_string_member(args, "node-name", node);
            qemu_monitor_command(mon, "blockdev-del", args, NULL, NULL);
        }
    }
}

/* The disk of `alias` leaves the live definition: its nodes are deleted, DEVICE_REMOVED
 * goes out, the status file is written, then the waiting call (if any) is answered. */
static void
remove_disk(SvDomainObj *obj, guint at)
{
    SvDomainDiskDef *disk = g_ptr_array_steal_index(obj->def->disks, at);

    qemu_hotplug_del_nodes(obj, disk);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, disk->info.alias);
    sv_domain_disk_def_free(disk);
}

/* The interface of `alias` leaves the live definition, its netdev is deleted and
 * DEVICE_REMOVED goes out; FALSE when the guest has no such interface. */
static gboolean
remove_net(SvDomainObj *obj, const char *alias)
{
    for (guint i = 0; i < obj->def->interfaces->len; i++) {
        SvDomainNetDef *net = obj->def->interfaces->pdata[i];
        g_autofree char *netdev = NULL;
        QemuMonitor *mon;

        if (g_strcmp0(net->info.alias, alias) != 0)
            continue;
        netdev = g_strconcat("host", alias, NULL);
        if (qemu_hotplug_monitor_of(obj, &mon, NULL)) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", netdev);
            qemu_monitor_command(mon, "netdev_del", args, NULL, NULL);
        }
        qemu_interface_clear_bandwidth(net);
        sv_netport_release(obj->def, (int)i, qemu_ctx_of(obj)->family_run_dir);
        qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, alias);
        g_ptr_array_remove_index(obj->def->interfaces, i);
        return TRUE;
    }
    return FALSE;
}

static gboolean
family_removed(SvDomainObj *obj, const char *alias)
{
    for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
        if (families[i]->removed(obj, alias))
            return TRUE;
    }
    return FALSE;
}

/* The device of a DEVICE_DELETED: its "device", or for an event without one (as QEMU sends
 * for a vcpu at times), the id in its "path" /machine/peripheral/ID. */
static const char *
deleted_alias(JsonObject *data)
{
    const char *alias = qemu_json_string(data, "device");
    const char *path = qemu_json_string(data, "path");

    if (!alias && path && g_str_has_prefix(path, "/machine/peripheral/") &&
        !strchr(path + strlen("/machine/peripheral/"), '/'))
        alias = path + strlen("/machine/peripheral/");
    return alias && *alias ? alias : NULL;
}

void
qemu_hotplug_device_deleted(SvDomainObj *obj, JsonObject *data)
{
    const char *alias = deleted_alias(data);
    QemuHotplug *hp = qemu_domain_of(obj)->hotplug;
    guint i;
    Unplug *u;
    int at;

    if (!alias) {
        g_debug("domain %s: QEMU let go of a device without id (%s)", obj->def->name,
                qemu_json_string(data, "path"));
        return;
    }
    g_debug("domain %s: QEMU let go of device %s%s", obj->def->name, alias,
            unplug_find(hp, alias, NULL) ? " (an unplug waits for it)" : "");
    at = disk_index_by_alias(obj->def, alias);
    if (at >= 0) {
        remove_disk(obj, (guint)at);
        sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    } else if (remove_net(obj, alias) || family_removed(obj, alias) ||
               qemu_vcpuhot_deleted(obj, alias)) {
        sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    }
    while ((u = unplug_find(hp, alias, &i))) {
        unplug_answer(u);
        g_ptr_array_remove_index(hp->unplugs, i);
    }
}

void
qemu_hotplug_acpi_ost(SvDomainObj *obj, JsonObject *data)
{
    JsonNode *info = data ? json_object_get_member(data, "info") : NULL;
    JsonObject *o = info && JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
    const char *alias = qemu_json_string(o, "device");
    QemuHotplug *hp = qemu_domain_of(obj)->hotplug;
    gint64 source, status;
    guint i;
    Unplug *u;

    if (!o || !alias || !json_object_has_member(o, "source") ||
        !json_object_has_member(o, "status"))
        return;
    source = json_object_get_int_member(o, "source");
    status = json_object_get_int_member(o, "status");
    /* ACPI _OST: source 0x03 is an eject request; status 0x80-0x83 an eject that failed
     * (0x80 not supported, 0x81 device in use, 0x82 device busy, 0x83 dependencies). */
    if (source != 0x03 || status < 0x80 || status > 0x83 || !(u = unplug_find(hp, alias, &i)))
        return;
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, alias);
    /* The waiting call fails as libvirt's does; the device stays. */
    if (u->done) {
        g_autoptr(GError) error = NULL;
        SvStoreDoneFunc done = u->done;

        u->done = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "unplug of device was rejected by the guest");
        done(error, u->data);
    }
    g_ptr_array_remove_index(hp->unplugs, i);
}

const SvHotplugFacts qemu_hotplug_facts = {
    .attach_live = attach_live,
    .detach_live = detach_live,
    .detach_alias = detach_alias,
};
