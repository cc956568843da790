/* qemu_topo.c: the machine type and the implicit controllers of a QEMU guest, as libvirt
 * 9.0's QEMU driver fills them in at define (qemu_topo.h). */
#include "qemu_topo.h"

#include "util/error.h"

/* libvirt's default machine for x86_64 is QEMU's default, which the probe lists as the
 * alias "pc"'s target. */
#define DEFAULT_MACHINE "pc"

gboolean
qemu_topo_machine_is_i440fx(const char *machine)
{
    return machine && (g_str_equal(machine, "pc") || g_str_has_prefix(machine, "pc-0.") ||
                       g_str_has_prefix(machine, "pc-1.") ||
                       g_str_has_prefix(machine, "pc-i440fx-") || g_str_has_prefix(machine, "rhel"));
}

gboolean
qemu_topo_machine_is_q35(const char *machine)
{
    return machine && (g_str_equal(machine, "q35") || g_str_has_prefix(machine, "pc-q35"));
}

void
qemu_topo_machine_defaults(SvDomainDef *def, QemuCaps *caps)
{
    const char *machine;

    if (!def->os.arch)
        def->os.arch = g_strdup("x86_64");
    if (!def->emulator)
        def->emulator = g_strdup(qemu_caps_get_emulator(caps));
    if (!def->os.machine)
        def->os.machine = g_strdup(DEFAULT_MACHINE);
    machine = qemu_caps_get_canonical_machine(caps, def->os.machine);
    if (machine != def->os.machine) {
        g_free(def->os.machine);
        def->os.machine = g_strdup(machine);
    }
}

gboolean
qemu_topo_check_machine(const SvDomainDef *def, QemuCaps *caps, GError **error)
{
    if (qemu_caps_has_machine(caps, def->os.machine))
        return TRUE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                 "Emulator '%s' does not support machine type '%s'", def->emulator,
                 def->os.machine);
    return FALSE;
}

static SvDomainControllerDef *
find_controller(const SvDomainDef *def, SvDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == type && c->index == index)
            return c;
    }
    return NULL;
}

/* A controller of `type` at `index` unless there is one; new ones go last, as libvirt
 * appends them. */
static SvDomainControllerDef *
maybe_add_controller(SvDomainDef *def, SvDomainControllerType type, guint index,
                     const char *model)
{
    SvDomainControllerDef *c = find_controller(def, type, index);

    if (c)
        return c;
    c = sv_domain_controller_def_new(type, index, model);
    g_ptr_array_add(def->controllers, c);
    return c;
}

/* The machine's PCI root at index 0, which must be of the machine's kind. */
static gboolean
add_pci_root(SvDomainDef *def, const char *model, GError **error)
{
    SvDomainControllerDef *c = find_controller(def, SV_DOMAIN_CONTROLLER_PCI, 0);

    if (!c) {
        maybe_add_controller(def, SV_DOMAIN_CONTROLLER_PCI, 0, model);
        return TRUE;
    }
    if (!c->model || !g_str_equal(c->model, model)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_XML_ERROR,
                     "The PCI controller with index='0' must be model='%s' for this machine "
                     "type, but model='%s' was found instead",
                     model, c->model ? c->model : "(null)");
        return FALSE;
    }
    return TRUE;
}

/* The controller a disk on a controller bus hangs off: the one of its drive address, else
 * the first. */
static void
add_disk_controllers(SvDomainDef *def, SvDomainDiskBus bus, SvDomainControllerType type)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (d->bus != bus)
            continue;
        maybe_add_controller(def, type,
                             d->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE
                                 ? d->info.addr.drive.controller
                                 : 0,
                             NULL);
    }
}

/* The models libvirt gives x86 controllers written without one. */
static void
default_models(SvDomainDef *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->model)
            continue;
        if (c->type == SV_DOMAIN_CONTROLLER_USB)
            c->model = g_strdup("piix3-uhci");
        else if (c->type == SV_DOMAIN_CONTROLLER_SCSI)
            c->model = g_strdup("lsilogic");
    }
}

gboolean
qemu_topo_add_implicit_controllers(SvDomainDef *def, GError **error)
{
    gboolean q35 = qemu_topo_machine_is_q35(def->os.machine);

    gboolean i440fx = qemu_topo_machine_is_i440fx(def->os.machine);

    /* USB unless the XML has a controller (model 'none' included): a qemu-xhci on q35, the
     * PIIX3's (or the default model) elsewhere; not on the machines without PCI. */
    if (!g_str_equal(def->os.machine, "isapc") && !g_str_equal(def->os.machine, "microvm"))
        maybe_add_controller(def, SV_DOMAIN_CONTROLLER_USB, 0, q35 ? "qemu-xhci" : NULL);
    if (q35)
        maybe_add_controller(def, SV_DOMAIN_CONTROLLER_SATA, 0, NULL);
    if ((q35 || i440fx) && !add_pci_root(def, q35 ? "pcie-root" : "pci-root", error))
        return FALSE;
    /* Then those of the disks, in libvirt's order of buses. */
    add_disk_controllers(def, SV_DOMAIN_DISK_BUS_SCSI, SV_DOMAIN_CONTROLLER_SCSI);
    add_disk_controllers(def, SV_DOMAIN_DISK_BUS_FDC, SV_DOMAIN_CONTROLLER_FDC);
    add_disk_controllers(def, SV_DOMAIN_DISK_BUS_IDE, SV_DOMAIN_CONTROLLER_IDE);
    add_disk_controllers(def, SV_DOMAIN_DISK_BUS_SATA, SV_DOMAIN_CONTROLLER_SATA);
    default_models(def);
    return TRUE;
}
