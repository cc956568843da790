/* qemu_hotplug_net.c: an interface plugged into a running QEMU guest (qemu_hotplug.c has
 * the steps and the unplug): defaults, MAC, address and alias as a start gives them, a
 * network's port (domain/domain_netport.h), and a tap made as a start makes it, handed to
 * QEMU with getfd. */
#include "qemu_hotplug_priv.h"

#include <unistd.h>

#include "qemu_command_net.h"
#include "qemu_domain.h"
#include "qemu_interface.h"
#include "qemu_pci.h"
#include "domain/domain_netport.h"
#include "programs/backend.h"
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

/* The tap of newlive's interface at index (transfer full of newlive) made and handed to
 * QEMU with the interface's options. */
static gboolean
plug_net(SvDomainObj *obj, SvDomainDef *newlive, guint index, SvStoreDoneFunc done,
         gpointer data, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    QemuNetFds fds = {.n_tapfds = 1};

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
    qemu_hotplug_plug_argv(obj, newlive, TRUE, index, argv, fds.tapfds[0],
                           done, data);
    return TRUE;
}

/* An interface of type network on its way in: its port first, then the plug; a plug that
 * fails gives the port back. */
typedef struct {
    gpointer run;
    SvDomainDef *newlive; /* until plugged; then the copy that names the port */
    guint index;
    char *run_dir;
    SvStoreDoneFunc done;
    gpointer data;
} NetAttach;

static void
net_attach_free(NetAttach *a)
{
    sv_domain_def_free(a->newlive);
    g_free(a->run_dir);
    g_free(a);
}

static void
net_plugged(const GError *error, gpointer data)
{
    NetAttach *a = data;

    if (error)
        sv_netport_release(a->newlive, (int)a->index, a->run_dir);
    a->done(error, a->data);
    net_attach_free(a);
}

static void
net_port_ready(SvNetportWork *done, const GError *error, gpointer data)
{
    g_autoptr(SvNetportWork) work = done;
    NetAttach *a = data;
    g_autoptr(GError) err = NULL;
    SvDomainObj *obj = error ? NULL : qemu_domain_find(a->run);
    SvDomainDef *newlive;

    if (!error && !obj) {
        sv_netport_work_undo(work);
        sv_error_set(&err, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
    }
    if (error || err) {
        a->done(error ? error : err, a->data);
        net_attach_free(a);
        return;
    }
    sv_netport_apply(work, a->newlive);
    newlive = g_steal_pointer(&a->newlive);
    a->newlive = sv_domain_def_copy(newlive);
    if (!plug_net(obj, newlive, a->index, net_plugged, a, &err))
        net_plugged(err, a);
}

static void
attach_network(SvCall *call, SvDomainObj *obj, SvDomainDef *newlive, guint index,
               SvStoreDoneFunc done, gpointer data)
{
    NetAttach *a = g_new0(NetAttach, 1);
    SvBackendIdentity id;

    a->run = sv_domain_obj_run_key(obj);
    a->newlive = newlive;
    a->index = index;
    a->run_dir = g_strdup(qemu_ctx_of(obj)->family_run_dir);
    a->done = done;
    a->data = data;
    sv_backend_identity_of_client(&id, sv_call_get_client(call));
    sv_netport_allocate(newlive, (int)index, a->run_dir, &id, net_port_ready, a);
}

gboolean
qemu_hotplug_attach_net(SvCall *call, SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done,
                        gpointer data, GError **error)
{
    SvDomainNetDef *net = dev->interfaces->pdata[0];
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
    if (((SvDomainNetDef *)newlive->interfaces->pdata[index])->type ==
        SV_DOMAIN_NET_TYPE_NETWORK) {
        attach_network(call, obj, newlive, index, done, data);
        return TRUE;
    }
    return plug_net(obj, newlive, index, done, data, error);
}
