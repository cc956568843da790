/* qemu_command_net.c: interfaces on the QEMU command line (qemu_command_net.h). The shapes
 * follow libvirt 9.0 with QEMU 7.2: -netdev and -device are JSON, taps are passed as open
 * fds ("fd", "vhostfd"), the backend's id is "host" + the device's alias. */
#include "qemu_command_net.h"

#include "conf/domain_obj.h"
#include "qemu_argv.h"
#include "qemu_command_platform.h"
#include "util/error.h"

/* libvirt's default NIC model on x86 (i440fx and q35 alike). */
#define DEFAULT_NIC_MODEL "rtl8139"

void
qemu_net_post_parse(SvDomainDef *def)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        SvDomainNetDef *n = def->interfaces->pdata[i];

        if (!n->model)
            n->model = g_strdup(DEFAULT_NIC_MODEL);
        if (!n->mac)
            n->mac = sv_domain_net_generate_mac();
    }
}

static void
add_macs(GHashTable *taken, const SvDomainDef *def)
{
    for (guint i = 0; def && i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        if (n->mac)
            g_hash_table_add(taken, n->mac);
    }
}

void
qemu_net_assign_macs(SvDomainDef *def, SvDomainList *list)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) objs = sv_domain_list_filter(list, 0);

    for (guint i = 0; i < objs->len; i++) {
        const SvDomainObj *obj = objs->pdata[i];
        add_macs(taken, obj->def);
        add_macs(taken, obj->new_def);
    }
    add_macs(taken, def);
    for (guint i = 0; i < def->interfaces->len; i++) {
        SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->mac)
            continue;
        /* 2^24 addresses: a few draws find a free one unless the daemon is absurdly full,
         * and then a duplicate is what libvirt (which never checks) gives anyway. */
        for (guint tries = 0; tries < 64; tries++) {
            g_free(n->mac);
            n->mac = sv_domain_net_generate_mac();
            if (!g_hash_table_contains(taken, n->mac))
                break;
        }
        g_hash_table_add(taken, n->mac);
    }
}

/* libvirt's virtio models and the QEMU devices they are (x86, PCI). */
static const struct {
    const char *model;
    const char *device;
} virtio_models[] = {
    {"virtio", "virtio-net-pci"},
    {"virtio-transitional", "virtio-net-pci-transitional"},
    {"virtio-non-transitional", "virtio-net-pci-non-transitional"},
};

gboolean
qemu_net_is_virtio(const SvDomainNetDef *n)
{
    for (guint i = 0; i < G_N_ELEMENTS(virtio_models); i++) {
        if (g_strcmp0(n->model, virtio_models[i].model) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The QEMU device for a <model type=>: libvirt's virtio names map to QEMU's devices, any
 * other name is QEMU's own. */
static const char *
nic_device(const SvDomainNetDef *n)
{
    const char *model = n->model ? n->model : DEFAULT_NIC_MODEL;

    for (guint i = 0; i < G_N_ELEMENTS(virtio_models); i++) {
        if (g_str_equal(model, virtio_models[i].model))
            return virtio_models[i].device;
    }
    return model;
}

gboolean
qemu_net_uses_tap(const SvDomainNetDef *net)
{
    return net->type != SV_DOMAIN_NET_TYPE_USER;
}

guint
qemu_net_queue_count(const SvDomainNetDef *net)
{
    return qemu_net_is_virtio(net) && net->queues > 1 ? net->queues : 1;
}

gboolean
qemu_net_wants_vhost(const SvDomainDef *def, const SvDomainNetDef *net)
{
    /* As libvirt 9.0: never for TCG guests, whatever <driver name> says. */
    return def->type == SV_DOMAIN_VIRT_KVM && qemu_net_uses_tap(net) && qemu_net_is_virtio(net) &&
           net->backend != SV_DOMAIN_NET_BACKEND_QEMU;
}

gboolean
qemu_net_check_def(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->rx_queue_size & (n->rx_queue_size - 1)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "rx_queue_size has to be a power of two");
            return FALSE;
        }
        if (n->tx_queue_size & (n->tx_queue_size - 1)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "tx_queue_size has to be a power of two");
            return FALSE;
        }
        if (n->mtu && n->type == SV_DOMAIN_NET_TYPE_USER) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "setting MTU on interface type %s is not supported yet",
                         sv_domain_net_type_to_string(n->type));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
qemu_net_check_start(const SvDomainDef *def, QemuCaps *caps, const char *emulator,
                     GError **error)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (!qemu_caps_has_nic_model(caps, nic_device(n))) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Emulator '%s' does not support NIC model '%s'", emulator,
                         n->model ? n->model : nic_device(n));
            return FALSE;
        }
        if (qemu_net_queue_count(n) > 1 && !qemu_net_uses_tap(n)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "interface %s - multiqueue is not supported for network interfaces "
                         "of type %s",
                         n->mac ? n->mac : "", sv_domain_net_type_to_string(n->type));
            return FALSE;
        }
        /* A deliberate limit: each queue is an fd in the daemon and in QEMU. */
        if (qemu_net_queue_count(n) > QEMU_NET_MAX_QUEUES) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "interface %s - at most %d queues are supported", n->mac ? n->mac : "",
                         QEMU_NET_MAX_QUEUES);
            return FALSE;
        }
    }
    return TRUE;
}

/* "3" for one fd, "3:4:5" for several: QEMU's "fd"/"fds" and "vhostfd"/"vhostfds". */
static void
props_fds(JsonObject *o, const char *one, const char *many, const int *fds, guint n)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%s%d", i ? ":" : "", fds[i]);
    qemu_props_str(o, n > 1 ? many : one, s->str);
}

static JsonObject *
netdev_props(const SvDomainNetDef *n, const QemuNetFds *fds, const char *id)
{
    JsonObject *o = qemu_props_new(NULL);

    if (!qemu_net_uses_tap(n)) {
        qemu_props_str(o, "type", "user");
    } else {
        qemu_props_str(o, "type", "tap");
        props_fds(o, "fd", "fds", fds->tapfds, fds->n_tapfds);
        if (fds->n_vhostfds) {
            qemu_props_bool(o, "vhost", TRUE);
            props_fds(o, "vhostfd", "vhostfds", fds->vhostfds, fds->n_vhostfds);
        }
    }
    qemu_props_str(o, "id", id);
    return o;
}

static JsonObject *
device_props(const SvDomainDef *def, const SvDomainNetDef *n, const char *netdev)
{
    JsonObject *o = qemu_props_new(nic_device(n));
    /* Only the address part of the shared writer: libvirt puts id and bootindex before it
     * (seen in libvirtd 9.0's command line). A shallow view, owning nothing. */
    SvDomainDeviceInfo where = {.addr = n->info.addr};
    guint queues = qemu_net_queue_count(n);

    if (qemu_net_is_virtio(n)) {
        if (queues > 1) {
            /* One vector per queue each way, one for config and one for control. */
            qemu_props_bool(o, "mq", TRUE);
            qemu_props_int(o, "vectors", 2 * (gint64)queues + 2);
        }
        if (n->rx_queue_size)
            qemu_props_int(o, "rx_queue_size", n->rx_queue_size);
        if (n->tx_queue_size)
            qemu_props_int(o, "tx_queue_size", n->tx_queue_size);
        if (n->mtu)
            qemu_props_int(o, "host_mtu", n->mtu);
    }
    qemu_props_str(o, "netdev", netdev);
    qemu_props_str(o, "id", n->info.alias);
    qemu_props_str(o, "mac", n->mac);
    /* Its <boot order>, or <os><boot dev='network'>'s place when it is the first one. */
    if (qemu_platform_boot_index(def, &n->info))
        qemu_props_int(o, "bootindex", qemu_platform_boot_index(def, &n->info));
    qemu_props_device_info(o, def, &where);
    if (n->rom_bar)
        qemu_props_int(o, "rombar", n->rom_bar == SV_DOMAIN_SWITCH_ON ? 1 : 0);
    if (n->rom_enabled == SV_DOMAIN_SWITCH_OFF)
        qemu_props_str(o, "romfile", "");
    else
        qemu_props_str(o, "romfile", n->rom_file);
    return o;
}

static gboolean
build_one(const SvDomainDef *def, const SvDomainNetDef *n, guint i, const QemuNetFds *fds,
          GPtrArray *argv, GError **error)
{
    g_autofree char *alias = n->info.alias ? g_strdup(n->info.alias)
                                           : g_strdup_printf("net%u", i);
    g_autofree char *netdev = g_strconcat("host", alias, NULL);

    if (qemu_net_uses_tap(n) && (!fds || fds->n_tapfds == 0)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "no tap device was prepared for interface %s", alias);
        return FALSE;
    }
    qemu_argv_add_json(argv, "-netdev", netdev_props(n, fds, netdev));
    qemu_argv_add_json(argv, "-device", device_props(def, n, netdev));
    return TRUE;
}

gboolean
qemu_net_build(const SvDomainDef *def, const QemuNetFds *fds, GPtrArray *argv, GError **error)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        if (!build_one(def, def->interfaces->pdata[i], i, fds ? &fds[i] : NULL, argv, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
qemu_net_build_one(const SvDomainDef *def, const SvDomainNetDef *n, const QemuNetFds *fds,
                   GPtrArray *argv, GError **error)
{
    g_return_val_if_fail(n->info.alias != NULL, FALSE);
    return build_one(def, n, 0, fds, argv, error);
}
