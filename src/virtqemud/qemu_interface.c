/* qemu_interface.c: taps, bridge ports, macvtaps and vhost-net for a QEMU guest
 * (qemu_interface.h), through util/netdev.c. Errors are libvirtd 9.0's for the same
 * situations (checked against it: an existing managed name, a missing bridge, an
 * overlong name, managed='no' without a device). */
#include "qemu_interface.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "domain/domain_netport.h"
#include "util/error.h"
#include "util/netdev.h"
#include "util/netdev_bandwidth.h"

/* How many macvtapN names a start tries before giving up. */
#define MACVTAP_NAMES_MAX 8192

void
qemu_net_host_free(QemuNetHost *host)
{
    if (!host)
        return;
    for (guint i = 0; i < host->n; i++) {
        for (guint q = 0; q < host->fds[i].n_tapfds; q++)
            close(host->fds[i].tapfds[q]);
        for (guint q = 0; q < host->fds[i].n_vhostfds; q++)
            close(host->fds[i].vhostfds[q]);
    }
    g_free(host->fds);
    g_free(host);
}

void
qemu_net_host_keep_fds(const QemuNetHost *host, GArray *keep)
{
    for (guint i = 0; i < host->n; i++) {
        g_array_append_vals(keep, host->fds[i].tapfds, host->fds[i].n_tapfds);
        g_array_append_vals(keep, host->fds[i].vhostfds, host->fds[i].n_vhostfds);
    }
}

/* The host side of a guest MAC: FE first, so a bridge never takes the guest's address as
 * its own (libvirt's rule). */
static char *
host_mac(const char *mac)
{
    return g_strconcat("fe", mac + 2, NULL);
}

static gboolean
check_name(const char *name, GError **error)
{
    if (strlen(name) > SV_NETDEV_NAME_MAX) {
        sv_error_set_errno(error, SV_FROM_NONE, ERANGE, "Network interface name '%s' is too long",
                           name);
        return FALSE;
    }
    if (!sv_netdev_name_valid(name)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "Network interface name '%s' is not valid", name);
        return FALSE;
    }
    return TRUE;
}

/* managed='no': the tap exists and is used as it is. */
static gboolean
open_given_tap(SvDomainNetDef *n, QemuNetFds *fds, GError **error)
{
    g_autofree char *name = NULL;

    if (!n->target_dev) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "target dev must be supplied when managed='no'");
        return FALSE;
    }
    if (!sv_netdev_exists(n->target_dev)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "target managed='no' but specified dev doesn't exist");
        return FALSE;
    }
    if (!sv_netdev_tap_open(n->target_dev, qemu_net_queue_count(n),
                            qemu_net_is_virtio(n), fds->tapfds, &name, error))
        return FALSE;
    fds->n_tapfds = qemu_net_queue_count(n);
    return TRUE;
}

/* A tap the daemon makes (ethernet, bridge, network): named as given or vnetN, MAC, MTU,
 * bridge port (a network's: the bridge its port gave), up. Not persistent: it ends with
 * the last of QEMU's fds. */
static gboolean
create_tap(SvDomainNetDef *n, QemuNetFds *fds, GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *mac = host_mac(n->mac);
    const char *bridge = sv_domain_net_bridge(n);
    guint mtu = n->mtu;

    if (n->type == SV_DOMAIN_NET_TYPE_NETWORK && !bridge) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "interface on network '%s' has no port", n->network);
        return FALSE;
    }
    if (bridge && !mtu) {
        /* A new port takes its bridge's MTU, as libvirt sets it. */
        mtu = sv_netdev_get_mtu(bridge);
        if (!mtu) {
            sv_error_set_errno(error, SV_FROM_NONE, ENODEV, "Cannot get interface MTU on '%s'",
                               bridge);
            return FALSE;
        }
    }
    if (!sv_netdev_tap_open(n->target_dev ? n->target_dev : "vnet%d", qemu_net_queue_count(n),
                            qemu_net_is_virtio(n), fds->tapfds, &name, error))
        return FALSE;
    fds->n_tapfds = qemu_net_queue_count(n);
    g_free(n->target_dev);
    n->target_dev = g_steal_pointer(&name);
    if (!sv_netdev_set_mac(n->target_dev, mac, error) ||
        (mtu && !sv_netdev_set_mtu(n->target_dev, mtu, error)) ||
        (bridge && !sv_netdev_set_master(n->target_dev, bridge, error)) ||
        !sv_netdev_set_up(n->target_dev, error))
        return FALSE;
    return TRUE;
}

/* A macvtap on <source dev>, named as given or the first free macvtapN; one fd per queue
 * (each open of its device is a queue). */
static gboolean
create_macvtap(SvDomainNetDef *n, QemuNetFds *fds, GError **error)
{
    const char *mode = sv_domain_net_macvtap_mode_to_string(n->source_mode);
    g_autofree char *name = NULL;
    int fd = -1;

    if (n->target_dev) {
        name = g_strdup(n->target_dev);
        fd = sv_netdev_macvtap_create(name, n->source, mode, n->mac, error);
    }
    for (guint i = 0; !n->target_dev && fd < 0 && i < MACVTAP_NAMES_MAX; i++) {
        g_free(name);
        name = g_strdup_printf("macvtap%u", i);
        if (sv_netdev_exists(name))
            continue;
        fd = sv_netdev_macvtap_create(name, n->source, mode, n->mac, error);
        /* Failed for a name taken meanwhile: the next one; else that is the error. */
        if (fd < 0 && !sv_netdev_exists(name))
            return FALSE;
        if (fd < 0)
            g_clear_error(error);
    }
    if (fd < 0) {
        if (error && !*error)
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                         "no free macvtap name among macvtap0..%d", MACVTAP_NAMES_MAX - 1);
        return FALSE;
    }
    g_free(n->target_dev);
    n->target_dev = g_steal_pointer(&name);
    fds->tapfds[fds->n_tapfds++] = fd;
    for (guint q = 1; q < qemu_net_queue_count(n); q++) {
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", fd);
        int more = open(self, O_RDWR | O_CLOEXEC);

        if (more < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot open macvtap %s again",
                               n->target_dev);
            return FALSE;
        }
        fds->tapfds[fds->n_tapfds++] = more;
    }
    return sv_netdev_set_up(n->target_dev, error);
}

/* vhost-net, one per queue, when the interface can use it (qemu_net_wants_vhost); an
 * explicit <driver name='vhost'> fails without it, the default goes on without. */
static gboolean
open_vhost(const SvDomainDef *def, const SvDomainNetDef *n, QemuNetFds *fds, GError **error)
{
    if (def->type == SV_DOMAIN_VIRT_KVM && qemu_net_uses_tap(n) &&
        !qemu_net_is_virtio(n) && n->backend == SV_DOMAIN_NET_BACKEND_VHOST) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "vhost-net is only supported for virtio network interfaces");
        return FALSE;
    }
    if (!qemu_net_wants_vhost(def, n))
        return TRUE;
    for (guint q = 0; q < fds->n_tapfds; q++) {
        int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
            for (guint i = 0; i < fds->n_vhostfds; i++)
                close(fds->vhostfds[i]);
            fds->n_vhostfds = 0;
            if (n->backend != SV_DOMAIN_NET_BACKEND_VHOST)
                return TRUE;
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "vhost-net was requested for an interface, but is unavailable");
            return FALSE;
        }
        fds->vhostfds[fds->n_vhostfds++] = fd;
    }
    return TRUE;
}

/* <bandwidth>: libvirt ignores it on a user interface with a warning, as here; on a tap or
 * macvtap it is set once the device exists (host_bandwidth). A floor belongs to a network's
 * interfaces. */
static gboolean
bandwidth_check(const SvDomainNetDef *n, GError **error)
{
    if (!sv_domain_net_bandwidth(n))
        return TRUE;
    /* Only domiftune --config can have put one there; libvirt's start copies the
     * definition through its parser, which refuses it so. */
    if (sv_netdev_bandwidth_has_floor(n->bandwidth) && n->type != SV_DOMAIN_NET_TYPE_NETWORK) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "floor attribute is not supported for this config");
        return FALSE;
    }
    if (n->type == SV_DOMAIN_NET_TYPE_USER) {
        g_message("setting bandwidth on interfaces of type '%s' is not implemented yet",
                  sv_domain_net_type_to_string(n->type));
        return TRUE;
    }
    return TRUE;
}

/* A tap's or macvtap's rates as libvirt sets them at start: a tap is the host's end of the
 * guest's link, so inbound shapes what the host sends (swapped); a macvtap shares the
 * guest's view. A device without <bandwidth> gets the noqueue root qdisc libvirt gives it,
 * an optimisation only: neither tc refusing it nor tc missing stops the start. */
static gboolean
host_bandwidth(const SvDomainNetDef *n, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (sv_domain_net_bandwidth(n))
        return sv_netdev_bandwidth_set(n->target_dev, sv_domain_net_bandwidth(n),
                                       n->type != SV_DOMAIN_NET_TYPE_DIRECT, error);
    if (!sv_netdev_bandwidth_set_root_qdisc(n->target_dev, "noqueue", &local))
        g_message("%s: no noqueue root qdisc: %s", n->target_dev, local->message);
    return TRUE;
}

static gboolean
prepare_one(const SvDomainDef *def, SvDomainNetDef *n, QemuNetFds *fds, GError **error)
{
    gboolean ok;

    switch (n->type) {
    case SV_DOMAIN_NET_TYPE_ETHERNET:
        ok = n->target_unmanaged ? open_given_tap(n, fds, error) : create_tap(n, fds, error);
        break;
    case SV_DOMAIN_NET_TYPE_BRIDGE:
    case SV_DOMAIN_NET_TYPE_NETWORK:
        ok = create_tap(n, fds, error);
        break;
    case SV_DOMAIN_NET_TYPE_DIRECT:
        ok = create_macvtap(n, fds, error);
        break;
    default:
        return TRUE;
    }
    return ok && open_vhost(def, n, fds, error) && host_bandwidth(n, error);
}

QemuNetHost *
qemu_interface_prepare(SvDomainDef *live, GError **error)
{
    g_autoptr(QemuNetHost) host = g_new0(QemuNetHost, 1);

    host->n = live->interfaces->len;
    host->fds = g_new0(QemuNetFds, host->n + 1);
    /* Names given for devices the daemon makes must be free before anything is made: what
     * a failed start removes (qemu_interface_release) is then only what it made. */
    for (guint i = 0; i < host->n; i++) {
        const SvDomainNetDef *n = live->interfaces->pdata[i];

        if (!bandwidth_check(n, error))
            return NULL;
        if (!n->target_dev || n->type == SV_DOMAIN_NET_TYPE_USER || n->target_unmanaged)
            continue;
        if (!check_name(n->target_dev, error))
            return NULL;
        if (sv_netdev_exists(n->target_dev)) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_INVALID,
                         "The %s interface already exists", n->target_dev);
            return NULL;
        }
    }
    for (guint i = 0; i < host->n; i++) {
        SvDomainNetDef *n = live->interfaces->pdata[i];

        /* A definition older than MAC generation at define gets one for this run. */
        if (!n->mac)
            n->mac = sv_domain_net_generate_mac();
        if (!prepare_one(live, n, &host->fds[i], error)) {
            qemu_interface_release(live);
            return NULL;
        }
    }
    return g_steal_pointer(&host);
}

void
qemu_interface_clear_bandwidth(const SvDomainNetDef *n)
{
    g_autoptr(GError) error = NULL;

    /* The taps the daemon made are gone with QEMU's fds, their qdiscs with them. */
    if (n->type != SV_DOMAIN_NET_TYPE_ETHERNET || !n->target_unmanaged || !n->bandwidth ||
        !n->target_dev)
        return;
    if (!sv_netdev_bandwidth_clear(n->target_dev, &error))
        g_warning("cannot clear bandwidth setting for device : %s: %s", n->target_dev,
                  error->message);
}

void
qemu_interface_release(const SvDomainDef *live)
{
    for (guint i = 0; i < live->interfaces->len; i++) {
        const SvDomainNetDef *n = live->interfaces->pdata[i];
        g_autoptr(GError) error = NULL;

        qemu_interface_clear_bandwidth(n);
        if (n->type != SV_DOMAIN_NET_TYPE_DIRECT || !n->target_dev)
            continue;
        if (!sv_netdev_delete(n->target_dev, &error))
            g_warning("%s", error->message);
    }
}

void
qemu_interface_release_ports(const SvDomainDef *live, const char *family_run_dir)
{
    sv_netport_release(live, -1, family_run_dir);
}
