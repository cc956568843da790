/* qemu_hotplug_dev.c: rng and input devices plugged into and unplugged from a running QEMU
 * guest (issue 18 item 2, live hotplug), as libvirt 9.0's QEMU driver does it for QEMU 7.2:
 *
 * - rng (virtio-rng-pci with a random, builtin or egd backend): alias rngN (one more than
 *   the highest), a PCI slot as a start gives it; the egd backend's chardev (chardev-add),
 *   the backend object (object-add) and the device (device_add), in that order. Once QEMU
 *   let go of the device: object-del, and chardev-remove for egd.
 * - input (tablet, mouse, keyboard on usb or virtio): alias inputN, a USB port or PCI slot,
 *   then device_add. A ps2 device is refused as libvirt refuses it.
 *
 * The unplug (device_del, the wait, DEVICE_REMOVED) is qemu_hotplug.c's. */
#include "qemu_hotplug_priv.h"

#include "conf/domain_parse.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_domain.h"
#include "util/error.h"

static gboolean
dev_handles(const char *kind)
{
    return g_str_equal(kind, "rng") || g_str_equal(kind, "input");
}

static GPtrArray *
dev_list(SvDomainDef *def, const char *kind)
{
    return g_str_equal(kind, "rng") ? def->rngs : def->inputs;
}
static gboolean
dev_has_alias(const SvDomainDef *def, const char *alias)
{
    GPtrArray *lists[] = {def->rngs, def->inputs};

    return qemu_hotplug_find_alias(lists, G_N_ELEMENTS(lists), alias, NULL, NULL);
}

/* ---------------------------------------------------------------- attach */

static gboolean
check_input(const SvDomainInputDef *in, GError **error)
{
    if (in->bus != SV_DOMAIN_INPUT_BUS_USB && in->bus != SV_DOMAIN_INPUT_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "input device on bus '%s' cannot be hot plugged.",
                     sv_domain_input_bus_to_string(in->bus));
        return FALSE;
    }
    if (in->type != SV_DOMAIN_INPUT_MOUSE && in->type != SV_DOMAIN_INPUT_TABLET &&
        in->type != SV_DOMAIN_INPUT_KEYBOARD) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live attach of input type '%s' is not supported",
                     sv_domain_input_type_to_string(in->type));
        return FALSE;
    }
    return TRUE;
}

/* The live definition with the device (transfer full) appended to its list as libvirt adds
 * it: alias, PCI or USB address. (transfer full; NULL with error) */
static SvDomainDef *
live_with_dev(SvDomainObj *obj, const char *kind, gpointer device, GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_copy(obj->def);

    if (!qemu_hotplug_place(def, dev_list(def, kind), device, kind, kind, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* The QMP steps of the device `alias` of newlive: its egd chardev, backend object and
 * device, from the options a start writes. (transfer full) */
static GPtrArray *
dev_steps(const SvDomainDef *newlive, const char *kind, const char *alias, const char *fdname)
{
    GPtrArray *steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *obj_id = g_strconcat("obj", alias, NULL);
    JsonObject *o;

    if (g_str_equal(kind, "rng")) {
        const SvDomainRngDef *rng = newlive->rngs->pdata[newlive->rngs->len - 1];

        qemu_command_build_chr_late(newlive, NULL, argv);
        if (rng->backend == SV_DOMAIN_RNG_BACKEND_EGD)
            g_ptr_array_add(steps, qemu_hotplug_chardev_add(&rng->egd, alias, fdname));
        o = qemu_hotplug_find_option(argv, "-object", obj_id);
        g_assert(o);
        g_ptr_array_add(steps, qemu_hotplug_step("object-add", o));
    } else {
        qemu_display_build(newlive, argv);
    }
    o = qemu_hotplug_find_option(argv, "-device", alias);
    g_assert(o);
    g_ptr_array_add(steps, qemu_hotplug_step("device_add", o));
    return steps;
}

static void
join_dev(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
         const char *pty)
{
    SvDomainDeviceInfo *info = g_ptr_array_steal_index(dev_list(newlive, kind), index);
    SvDomainRngDef *rng = g_str_equal(kind, "rng") ? (SvDomainRngDef *)info : NULL;

    /* An egd backend on a pty: the pty QEMU made, as the live XML shows it. */
    if (rng && pty && rng->backend == SV_DOMAIN_RNG_BACKEND_EGD &&
        rng->egd.type == SV_DOMAIN_CHR_TYPE_PTY) {
        g_free(rng->egd.path);
        rng->egd.path = g_strdup(pty);
    }
    g_ptr_array_add(dev_list(obj->def, kind), info);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_ADDED, info->alias);
}

/* An egd backend listening on a unix socket: the daemon opens it, as at start, and QEMU
 * gets it with getfd. */
static gboolean
open_egd(const SvDomainDef *newlive, int *ret_fd, char **ret_fdname, GError **error)
{
    const SvDomainRngDef *rng = newlive->rngs->pdata[newlive->rngs->len - 1];

    *ret_fd = -1;
    if (rng->backend != SV_DOMAIN_RNG_BACKEND_EGD || rng->egd.type != SV_DOMAIN_CHR_TYPE_UNIX ||
        rng->egd.mode != SV_DOMAIN_CHR_MODE_BIND)
        return TRUE;
    if ((*ret_fd = qemu_listen_unix(rng->egd.path, "character device socket", error)) < 0)
        return FALSE;
    *ret_fdname = g_strdup_printf("fd-char%s", rng->info.alias);
    return TRUE;
}

static gboolean
dev_attach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    GPtrArray *list = dev_list(dev, kind);
    gboolean rng = g_str_equal(kind, "rng");
    g_autoptr(SvDomainDef) newlive = NULL;
    g_autofree char *fdname = NULL;
    const char *alias;
    QemuMonitor *mon;
    GPtrArray *steps;
    guint index;
    int fd = -1;

    if (list->len != 1)
        return qemu_hotplug_unsupported("attach", kind, error);
    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    if (!rng && !check_input(list->pdata[0], error))
        return FALSE;
    newlive = live_with_dev(obj, kind, g_ptr_array_steal_index(list, 0), error);
    if (!newlive || (rng && !open_egd(newlive, &fd, &fdname, error)))
        return FALSE;
    index = dev_list(newlive, kind)->len - 1;
    alias = ((SvDomainDeviceInfo *)dev_list(newlive, kind)->pdata[index])->alias;
    steps = dev_steps(newlive, kind, alias, fdname);
    qemu_hotplug_plug(obj, g_steal_pointer(&newlive), rng ? "rng" : "input", index, steps, fd,
                      fdname, join_dev, done, data);
    return TRUE;
}

/* ---------------------------------------------------------------- detach */

static gboolean
dev_detach(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
           gpointer data, GError **error)
{
    GPtrArray *list = dev_list(dev, kind);
    const SvDomainDeviceInfo *have;
    int at;

    if (list->len != 1)
        return qemu_hotplug_unsupported("detach", kind, error);
    at = sv_domain_hotplug_dev_find(obj->def, kind, list->pdata[0]);
    if (at < 0) {
        if (g_str_equal(kind, "rng"))
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING,
                         "model '%s' RNG device not present in domain configuration",
                         sv_domain_rng_backend_to_string(
                             ((const SvDomainRngDef *)list->pdata[0])->backend));
        else
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING,
                         "matching input device not found");
        return FALSE;
    }
    have = dev_list(obj->def, kind)->pdata[at];
    if (!g_str_equal(kind, "rng") &&
        ((const SvDomainInputDef *)have)->bus == SV_DOMAIN_INPUT_BUS_PS2) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "input device on bus '%s' cannot be detached",
                     sv_domain_input_bus_to_string(SV_DOMAIN_INPUT_BUS_PS2));
        return FALSE;
    }
    return qemu_hotplug_unplug(obj, have->alias, TRUE, done, data, error);
}

static void
delete_backends(SvDomainObj *obj, const SvDomainRngDef *rng)
{
    g_autofree char *obj_id = g_strconcat("obj", rng->info.alias, NULL);
    g_autofree char *chr_id = g_strconcat("char", rng->info.alias, NULL);

    qemu_hotplug_del_backend(obj, "object-del", obj_id);
    if (rng->backend == SV_DOMAIN_RNG_BACKEND_EGD)
        qemu_hotplug_del_backend(obj, "chardev-remove", chr_id);
}
static gboolean
dev_removed(SvDomainObj *obj, const char *alias)
{
    GPtrArray *lists[] = {obj->def->rngs, obj->def->inputs};
    guint l, i;

    if (!qemu_hotplug_find_alias(lists, G_N_ELEMENTS(lists), alias, &l, &i))
        return FALSE;
    if (l == 0)
        delete_backends(obj, lists[l]->pdata[i]);
    qemu_hotplug_emit_device_event(obj, SV_DOMAIN_EVENT_ID_DEVICE_REMOVED, alias);
    g_ptr_array_remove_index(lists[l], i);
    return TRUE;
}

const QemuHotplugFamily qemu_hotplug_dev = {
    .handles = dev_handles,
    .attach = dev_attach,
    .detach = dev_detach,
    .has_alias = dev_has_alias,
    .removed = dev_removed,
};
