/* qemu_hotplug_net.c: an interface plugged into a running QEMU guest (qemu_hotplug.c has
 * the steps and the unplug): defaults, MAC, address and alias as a start gives them, and a
 * tap made as a start makes it, handed to QEMU with getfd. */
#include "qemu_hotplug_priv.h"

#include <unistd.h>

#include "qemu_command_net.h"
#include "qemu_interface.h"
#include "qemu_pci.h"
#include "util/error.h"

/* The live definition with `net` (transfer full) appended as a start gives it: defaults,
 * MAC, address, alias. (transfer full; NULL with error) */
static SvDomainDef *
live_with_net(SvDomainObj *obj, SvDomainNetDef *net, GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_copy(obj->def);
    guint controllers = def->controllers->len;

    if (!net->info.alias)
        net->info.alias = qemu_hotplug_next_alias(def->interfaces, "net");
    g_ptr_array_add(def->interfaces, net);
    qemu_net_assign_macs(def, sv_domain_driver_of_obj(obj)->list);
    qemu_net_post_parse(def);
    if (!qemu_net_check_def(def, error) || !qemu_pci_assign_addresses(def, error))
        return NULL;
    if (def->controllers->len != controllers) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "the interface needs a controller the running guest has not: plugging "
                     "controllers is not supported");
        return NULL;
    }
    return g_steal_pointer(&def);
}

/* The tap of the new interface (the last of newlive), made as a start makes it (created,
 * or given with managed='no'; enslaved to its bridge): its fd in *ret_fd, its name in
 * the interface's <target dev>. One queue without vhost-net only. */
static gboolean
open_tap(SvDomainDef *newlive, int *ret_fd, GError **error)
{
    g_autoptr(SvDomainDef) one = sv_domain_def_copy(newlive);
    SvDomainNetDef *net = newlive->interfaces->pdata[newlive->interfaces->len - 1];
    g_autoptr(QemuNetHost) host = NULL;
    const SvDomainNetDef *made;

    g_ptr_array_remove_range(one->interfaces, 0, one->interfaces->len - 1);
    if (!(host = qemu_interface_prepare(one, error)))
        return FALSE;
    if (host->fds[0].n_tapfds != 1 || host->fds[0].n_vhostfds) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "a plugged interface has one queue and no vhost-net here");
        return FALSE;
    }
    made = one->interfaces->pdata[0];
    g_free(net->target_dev);
    net->target_dev = g_strdup(made->target_dev);
    *ret_fd = host->fds[0].tapfds[0];
    host->fds[0].n_tapfds = 0;
    return TRUE;
}

gboolean
qemu_hotplug_attach_net(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done, gpointer data,
           GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    SvDomainNetDef *net = dev->interfaces->pdata[0];
    QemuNetFds fds = {.n_tapfds = 1};
    SvDomainDef *newlive;
    QemuMonitor *mon;
    guint index;

    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    if (net->type == SV_DOMAIN_NET_TYPE_DIRECT) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live attach of interface type '%s' is not supported",
                     sv_domain_net_type_to_string(net->type));
        return FALSE;
    }
    newlive = live_with_net(obj, g_ptr_array_steal_index(dev->interfaces, 0), error);
    if (!newlive)
        return FALSE;
    index = newlive->interfaces->len - 1;
    fds.tapfds[0] = -1;
    if ((qemu_net_uses_tap(newlive->interfaces->pdata[index]) &&
         !open_tap(newlive, &fds.tapfds[0], error)) ||
        !qemu_net_build_one(newlive, newlive->interfaces->pdata[index],
                            fds.tapfds[0] >= 0 ? &fds : NULL, argv, error)) {
        if (fds.tapfds[0] >= 0)
            close(fds.tapfds[0]);
        sv_domain_def_free(newlive);
        return FALSE;
    }
    qemu_hotplug_plug_argv(obj, newlive, TRUE, index, argv, fds.tapfds[0], done, data);
    return TRUE;
}
