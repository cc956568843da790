/* qemu_hotplug_ctl.c: controllers and the watchdog plugged into and unplugged from a
 * running QEMU guest (issue 18 item 2, live hotplug), as libvirt 9.0's QEMU driver does it
 * for QEMU 7.2:
 *
 * - controllers: scsi alone ("'usb' controller cannot be hot plugged." for the others),
 *   with the model, PCI slot and alias (scsiN) a start gives; a target already there is
 *   refused. Unplugged only when no disk uses it.
 * - the watchdog: one per guest; an i6300esb, after QEMU's watchdog-set-action for its
 *   action (dump is QEMU's pause, as at start). libvirt 9.0 matches a watchdog to detach by
 *   model, action and address, so only the live XML's (with its address) names it.
 *
 * The unplug (device_del, the wait, DEVICE_REMOVED) is qemu_hotplug.c's. */
#include "qemu_hotplug_priv.h"

#include "conf/domain_parse.h"
#include "qemu_alias.h"
#include "qemu_command_chr.h"
#include "qemu_command_controller.h"
#include "qemu_domain.h"
#include "qemu_pci.h"
#include "util/error.h"

static gboolean
ctl_handles(const char *kind)
{
    return g_str_equal(kind, "controller") || g_str_equal(kind, "watchdog");
}

static gboolean
ctl_has_alias(const SvDomainDef *def, const char *alias)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        if (g_strcmp0(((SvDomainDeviceInfo *)def->controllers->pdata[i])->alias, alias) == 0)
            return TRUE;
    }
    return def->watchdog && g_strcmp0(def->watchdog->info.alias, alias) == 0;
}

/* ---------------------------------------------------------------- attach */

static void
join_controller(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
                const char *pty)
{
    SvDomainControllerDef *c = g_ptr_array_steal_index(newlive->controllers, index);

    (void)kind;
    (void)pty;
    g_ptr_array_insert(obj->def->controllers,
                       (gint)sv_domain_hotplug_controller_insert_at(obj->def, c), c);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED, c->info.alias);
}

static gboolean
attach_controller(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
                  GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    SvDomainControllerDef *c = dev->controllers->pdata[0];
    const char *type = sv_domain_controller_type_to_string(c->type);
    g_autoptr(SvDomainDef) newlive = NULL;
    GPtrArray *steps;
    JsonObject *o;
    guint index;

    if (c->type != SV_DOMAIN_CONTROLLER_SCSI) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "'%s' controller cannot be hot plugged.", type);
        return FALSE;
    }
    if (sv_domain_hotplug_controller_find(obj->def, c->type, c->index) >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "target %s:%u already exists", type, c->index);
        return FALSE;
    }
    newlive = sv_domain_def_copy(obj->def);
    index = newlive->controllers->len;
    g_ptr_array_add(newlive->controllers, g_ptr_array_steal_index(dev->controllers, 0));
    if (!qemu_controller_def_post_parse(newlive, error) ||
        !qemu_pci_assign_addresses(newlive, error) || !qemu_controller_check(newlive, error))
        return FALSE;
    qemu_domain_assign_aliases(newlive);
    c = newlive->controllers->pdata[index];
    qemu_command_build_controllers(newlive, argv);
    if (!(o = qemu_hotplug_find_option(argv, "-device", c->info.alias))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "'%s' controller of model '%s' cannot be hot plugged.", type,
                     c->model ? c->model : "default");
        return FALSE;
    }
    steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_ptr_array_add(steps, qemu_hotplug_step("device_add", o));
    qemu_hotplug_plug(obj, g_steal_pointer(&newlive), "controller", index, steps, -1, NULL,
                      join_controller, done, data);
    return TRUE;
}

static void
join_watchdog(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
              const char *pty)
{
    (void)kind;
    (void)index;
    (void)pty;
    sv_domain_watchdog_def_free(obj->def->watchdog);
    obj->def->watchdog = g_steal_pointer(&newlive->watchdog);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                   obj->def->watchdog->info.alias);
}

/* QEMU's action for libvirt's: libvirt dumps the guest itself and has QEMU pause it. */
static const char *
watchdog_action(SvDomainWatchdogAction a)
{
    return a == SV_DOMAIN_WATCHDOG_ACTION_DUMP ? "pause" : sv_domain_watchdog_action_to_string(a);
}

static gboolean
attach_watchdog(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
                GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(SvDomainDef) newlive = NULL;
    SvDomainWatchdogDef *w = dev->watchdog;
    JsonObject *args, *o;
    GPtrArray *steps;

    if (obj->def->watchdog) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "domain already has a watchdog");
        return FALSE;
    }
    if (w->model != SV_DOMAIN_WATCHDOG_I6300ESB) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "hotplug of watchdog of model %s is not supported",
                     sv_domain_watchdog_model_to_string(w->model));
        return FALSE;
    }
    newlive = sv_domain_def_copy(obj->def);
    newlive->watchdog = g_steal_pointer(&dev->watchdog);
    if (!qemu_pci_assign_addresses(newlive, error))
        return FALSE;
    qemu_chr_assign_aliases(newlive);
    qemu_command_build_chr_late(newlive, NULL, argv);
    o = qemu_hotplug_find_option(argv, "-device", newlive->watchdog->info.alias);
    g_assert(o);
    steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    args = json_object_new();
    json_object_set_string_member(args, "action", watchdog_action(newlive->watchdog->action));
    g_ptr_array_add(steps, qemu_hotplug_step("watchdog-set-action", args));
    g_ptr_array_add(steps, qemu_hotplug_step("device_add", o));
    qemu_hotplug_plug(obj, g_steal_pointer(&newlive), "watchdog", 0, steps, -1, NULL,
                      join_watchdog, done, data);
    return TRUE;
}

static gboolean
ctl_attach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    QemuMonitor *mon;

    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    if (g_str_equal(kind, "controller") && dev->controllers->len == 1)
        return attach_controller(obj, dev, done, data, error);
    if (g_str_equal(kind, "watchdog") && dev->watchdog)
        return attach_watchdog(obj, dev, done, data, error);
    return qemu_hotplug_unsupported("attach", kind, error);
}

/* ---------------------------------------------------------------- detach */

static gboolean
controller_busy(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (d->bus == SV_DOMAIN_DISK_BUS_SCSI &&
            d->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE &&
            d->info.addr.drive.controller == c->index)
            return TRUE;
    }
    return FALSE;
}

static gboolean
detach_controller(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
                  GError **error)
{
    const SvDomainControllerDef *want = dev->controllers->pdata[0];
    const char *type = sv_domain_controller_type_to_string(want->type);
    int at = sv_domain_hotplug_controller_find(obj->def, want->type, want->index);
    const SvDomainControllerDef *c;

    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING, "controller %s:%u not found",
                     type, want->index);
        return FALSE;
    }
    c = obj->def->controllers->pdata[at];
    if (c->type != SV_DOMAIN_CONTROLLER_SCSI) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "'%s' controller cannot be hot unplugged.", type);
        return FALSE;
    }
    if (controller_busy(obj->def, c)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "device cannot be detached: device is busy");
        return FALSE;
    }
    return qemu_hotplug_unplug(obj, c->info.alias, TRUE, done, data, error);
}

static gboolean
address_equal(const SvDomainDeviceAddress *a, const SvDomainDeviceAddress *b)
{
    if (a->type != b->type)
        return FALSE;
    if (a->type != SV_DOMAIN_ADDRESS_PCI)
        return TRUE;
    return a->pci.domain == b->pci.domain && a->pci.bus == b->pci.bus &&
           a->pci.slot == b->pci.slot && a->pci.function == b->pci.function;
}

static gboolean
detach_watchdog(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
                GError **error)
{
    const SvDomainWatchdogDef *want = dev->watchdog;
    const SvDomainWatchdogDef *w = obj->def->watchdog;

    /* libvirt 9.0's virDomainDeviceInfoAddressIsEqual: the XML must give the address. */
    if (!w || w->model != want->model || w->action != want->action ||
        !address_equal(&want->info.addr, &w->info.addr)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING,
                     "model '%s' watchdog device not present in domain configuration",
                     sv_domain_watchdog_model_to_string(w ? w->model : want->model));
        return FALSE;
    }
    if (w->model != SV_DOMAIN_WATCHDOG_I6300ESB) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "hot unplug of watchdog of model %s is not supported",
                     sv_domain_watchdog_model_to_string(w->model));
        return FALSE;
    }
    return qemu_hotplug_unplug(obj, w->info.alias, TRUE, done, data, error);
}

static gboolean
ctl_detach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    if (g_str_equal(kind, "controller") && dev->controllers->len == 1)
        return detach_controller(obj, dev, done, data, error);
    if (g_str_equal(kind, "watchdog") && dev->watchdog)
        return detach_watchdog(obj, dev, done, data, error);
    return qemu_hotplug_unsupported("detach", kind, error);
}

static gboolean
ctl_removed(SvDomainObj *obj, const char *alias)
{
    if (obj->def->watchdog && g_strcmp0(obj->def->watchdog->info.alias, alias) == 0) {
        g_clear_pointer(&obj->def->watchdog, sv_domain_watchdog_def_free);
        qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, alias);
        return TRUE;
    }
    for (guint i = 0; i < obj->def->controllers->len; i++) {
        const SvDomainDeviceInfo *info = obj->def->controllers->pdata[i];

        if (g_strcmp0(info->alias, alias) != 0)
            continue;
        qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, alias);
        g_ptr_array_remove_index(obj->def->controllers, i);
        return TRUE;
    }
    return FALSE;
}

const QemuHotplugFamily qemu_hotplug_ctl = {
    .handles = ctl_handles,
    .attach = ctl_attach,
    .detach = ctl_detach,
    .has_alias = ctl_has_alias,
    .removed = ctl_removed,
};
