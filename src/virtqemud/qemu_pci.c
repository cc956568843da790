/* qemu_pci.c: the PCI address allocator (qemu_pci.h), libvirt's qemuDomainAssignPCIAddresses
 * step by step: a first dry run on a set of buses that grows wherever a device finds no slot,
 * which tells what controllers to add; then the real run on the final buses. */
#include "qemu_pci.h"

#include "conf/domain_parse.h"
#include "util/error.h"

#define SLOT_LAST 31

typedef enum {
    BUS_NONE,
    BUS_PCI_ROOT,
    BUS_PCIE_ROOT,
    BUS_PCI_BRIDGE,
    BUS_DMI_TO_PCI_BRIDGE,
    BUS_PCIE_TO_PCI_BRIDGE,
    BUS_PCIE_ROOT_PORT,
    BUS_PCIE_SWITCH_UPSTREAM_PORT,
    BUS_PCIE_SWITCH_DOWNSTREAM_PORT,
    BUS_PCI_EXPANDER_BUS,
    BUS_PCIE_EXPANDER_BUS,
} BusModel;

/* Controller models, by BusModel; the QEMU device libvirt names in <model name=>. */
static const struct {
    const char *model;
    const char *model_name;
} bus_models[] = {
    [BUS_NONE] = {NULL, NULL},
    [BUS_PCI_ROOT] = {"pci-root", NULL},
    [BUS_PCIE_ROOT] = {"pcie-root", NULL},
    [BUS_PCI_BRIDGE] = {"pci-bridge", "pci-bridge"},
    [BUS_DMI_TO_PCI_BRIDGE] = {"dmi-to-pci-bridge", "i82801b11-bridge"},
    [BUS_PCIE_TO_PCI_BRIDGE] = {"pcie-to-pci-bridge", "pcie-pci-bridge"},
    [BUS_PCIE_ROOT_PORT] = {"pcie-root-port", "pcie-root-port"},
    [BUS_PCIE_SWITCH_UPSTREAM_PORT] = {"pcie-switch-upstream-port", "x3130-upstream"},
    [BUS_PCIE_SWITCH_DOWNSTREAM_PORT] = {"pcie-switch-downstream-port", "xio3130-downstream"},
    [BUS_PCI_EXPANDER_BUS] = {"pci-expander-bus", "pxb"},
    [BUS_PCIE_EXPANDER_BUS] = {"pcie-expander-bus", "pxb-pcie"},
};

static BusModel
bus_model_from_string(const char *model)
{
    for (guint i = BUS_PCI_ROOT; i < G_N_ELEMENTS(bus_models); i++) {
        if (model && g_str_equal(model, bus_models[i].model))
            return i;
    }
    return BUS_NONE;
}

typedef struct {
    BusModel model;
    guint flags; /* what plugs in downstream */
    guint min_slot, max_slot;
    guint8 functions[SLOT_LAST + 1]; /* bit per function in use */
    gboolean aggregate[SLOT_LAST + 1];
} Bus;

typedef struct {
    GArray *buses; /* Bus */
    gboolean dry_run;
    gboolean pcie_to_pci_bridge; /* QEMU has it (7.2 does) */
    QemuPciFlags flags;
} AddrSet;

static void
addr_set_free(AddrSet *set)
{
    g_array_unref(set->buses);
    g_free(set);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AddrSet, addr_set_free)

static Bus *
bus_at(AddrSet *set, guint i)
{
    return &g_array_index(set->buses, Bus, i);
}

/* What each kind of bus takes downstream (libvirt's virDomainPCIAddressBusSetModel). */
static void
bus_set_model(Bus *bus, BusModel model)
{
    const guint any_pci = QEMU_PCI_TYPE_PCI_DEVICE | QEMU_PCI_TYPE_PCI_BRIDGE;

    bus->model = model;
    bus->min_slot = 0;
    bus->max_slot = SLOT_LAST;
    switch (model) {
    case BUS_PCI_ROOT:
        bus->flags = QEMU_PCI_AUTOASSIGN | any_pci | QEMU_PCI_TYPE_PCI_EXPANDER_BUS |
                     QEMU_PCI_HOTPLUGGABLE;
        bus->min_slot = 1;
        break;
    case BUS_PCI_BRIDGE:
    case BUS_PCIE_TO_PCI_BRIDGE: /* slot 0 is the SHPC's */
        bus->flags = QEMU_PCI_AUTOASSIGN | any_pci | QEMU_PCI_HOTPLUGGABLE;
        bus->min_slot = 1;
        break;
    case BUS_PCI_EXPANDER_BUS:
        bus->flags = QEMU_PCI_AUTOASSIGN | any_pci | QEMU_PCI_HOTPLUGGABLE;
        break;
    case BUS_PCIE_ROOT: /* no hotplug, and nothing placed there by libvirt */
        bus->flags = QEMU_PCI_TYPE_PCIE_DEVICE | QEMU_PCI_TYPE_PCIE_ROOT_PORT |
                     QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE | QEMU_PCI_TYPE_PCIE_EXPANDER_BUS;
        bus->min_slot = 1;
        break;
    case BUS_DMI_TO_PCI_BRIDGE:
        bus->flags = any_pci;
        break;
    case BUS_PCIE_ROOT_PORT:
    case BUS_PCIE_SWITCH_DOWNSTREAM_PORT: /* one hotpluggable PCIe slot */
        bus->flags = QEMU_PCI_AUTOASSIGN | QEMU_PCI_TYPE_PCIE_DEVICE |
                     QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT | QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE |
                     QEMU_PCI_HOTPLUGGABLE;
        bus->max_slot = 0;
        break;
    case BUS_PCIE_SWITCH_UPSTREAM_PORT:
        bus->flags = QEMU_PCI_TYPE_PCIE_SWITCH_DOWNSTREAM_PORT;
        break;
    case BUS_PCIE_EXPANDER_BUS:
        bus->flags = QEMU_PCI_TYPE_PCIE_ROOT_PORT | QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE;
        break;
    case BUS_NONE:
        g_assert_not_reached();
    }
}

static char *
addr_string(const SvDomainPciAddress *a)
{
    return g_strdup_printf("%04x:%02x:%02x.%u", a->domain, a->bus, a->slot, a->function);
}

static gboolean
bus_is_full(const Bus *bus)
{
    for (guint s = bus->min_slot; s <= bus->max_slot; s++) {
        if (!bus->functions[s])
            return FALSE;
    }
    return TRUE;
}

/* Whether a device with `dev` flags may sit at `a` on a bus taking `bus_flags`; with
 * from_config (an address the XML gave), libvirt's errors. */
static gboolean
flags_compatible(const SvDomainPciAddress *a, guint bus_flags, guint dev, gboolean from_config,
                 GError **error)
{
    int code = from_config ? SV_ERR_XML_ERROR : SV_ERR_INTERNAL_ERROR;
    g_autofree char *at = error ? addr_string(a) : NULL;

    if (dev & QEMU_PCI_INTEGRATED) {
        if (a->bus != 0) {
            sv_error_set(error, SV_FROM_DOMAIN, code,
                         "The device at PCI address %s needs to be an integrated device (bus=0)",
                         at);
            return FALSE;
        }
        bus_flags |= QEMU_PCI_TYPE_PCI_DEVICE | QEMU_PCI_AUTOASSIGN;
    }
    if (from_config) {
        /* A PCI device in a PCIe slot or the other way round is the user's choice. */
        if (bus_flags & QEMU_PCI_TYPES_ENDPOINT)
            bus_flags |= QEMU_PCI_TYPES_ENDPOINT;
        if (dev & QEMU_PCI_TYPE_PCI_BRIDGE)
            dev |= QEMU_PCI_TYPE_PCI_DEVICE;
    } else if ((dev & QEMU_PCI_AUTOASSIGN) && !(bus_flags & QEMU_PCI_AUTOASSIGN)) {
        sv_error_set(error, SV_FROM_DOMAIN, code,
                     "The device at PCI address %s was auto-assigned this address, but the PCI "
                     "controller with index='%u' doesn't allow auto-assignment",
                     at, a->bus);
        return FALSE;
    }
    if (!(dev & bus_flags & QEMU_PCI_TYPES_MASK)) {
        static const struct {
            guint type;
            const char *name;
        } names[] = {
            {QEMU_PCI_TYPE_PCI_DEVICE, "standard PCI device"},
            {QEMU_PCI_TYPE_PCIE_DEVICE, "PCI Express device"},
            {QEMU_PCI_TYPE_PCIE_ROOT_PORT, "pcie-root-port"},
            {QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT, "pcie-switch-upstream-port"},
            {QEMU_PCI_TYPE_PCIE_SWITCH_DOWNSTREAM_PORT, "pcie-switch-downstream-port"},
            {QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE, "dmi-to-pci-bridge"},
            {QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE, "pcie-to-pci-bridge"},
            {QEMU_PCI_TYPE_PCI_EXPANDER_BUS, "pci-expander-bus"},
            {QEMU_PCI_TYPE_PCIE_EXPANDER_BUS, "pcie-expander-bus"},
            {QEMU_PCI_TYPE_PCI_BRIDGE, "pci-bridge"},
        };
        const char *what = "?";

        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            if (dev & names[i].type) {
                what = names[i].name;
                break;
            }
        }
        sv_error_set(error, SV_FROM_DOMAIN, code,
                     "The device at PCI address %s cannot be plugged into the PCI controller "
                     "with index='%u'. It requires a controller that accepts a %s.",
                     at, a->bus, what);
        return FALSE;
    }
    return TRUE;
}

/* A new bus set's room for a device whose flags found no slot: the controllers libvirt adds
 * (virDomainPCIAddressSetGrow). `a->bus` is the first new bus; it is moved to the one the
 * device goes on. */
static gboolean
addr_set_grow(AddrSet *set, SvDomainPciAddress *a, guint flags, GError **error)
{
    guint add = a->bus + 1 > set->buses->len ? a->bus + 1 - set->buses->len : 0;
    gboolean need_bridge = FALSE;
    BusModel model;
    guint i;

    if (!add)
        return TRUE;
    if (flags & QEMU_PCI_TYPE_PCI_DEVICE) {
        model = BUS_PCI_BRIDGE;
        need_bridge = TRUE;
        for (i = 0; i < set->buses->len; i++) {
            if (bus_at(set, i)->flags & QEMU_PCI_TYPE_PCI_BRIDGE)
                need_bridge = FALSE;
        }
        /* A pure PCIe guest gets a pcie-root-port and a pcie-to-pci-bridge in it, which
         * takes the device itself. */
        if (need_bridge && add == 1) {
            add++;
            a->bus++;
        }
    } else if (flags & (QEMU_PCI_TYPE_PCIE_DEVICE | QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT)) {
        model = BUS_PCIE_ROOT_PORT;
    } else {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "Cannot automatically add a new PCI bus for a device with connect flags "
                     "%.2x",
                     flags);
        return FALSE;
    }
    i = set->buses->len;
    g_array_set_size(set->buses, set->buses->len + add);
    if (need_bridge) {
        if (set->pcie_to_pci_bridge) {
            /* This root port takes only the bridge, not the spare device libvirt reserves
             * later for hotplug. */
            bus_set_model(bus_at(set, i), BUS_PCIE_ROOT_PORT);
            bus_at(set, i++)->flags = QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE;
            bus_set_model(bus_at(set, i++), BUS_PCIE_TO_PCI_BRIDGE);
        } else {
            bus_set_model(bus_at(set, i++), BUS_DMI_TO_PCI_BRIDGE);
        }
    }
    for (; i < set->buses->len; i++)
        bus_set_model(bus_at(set, i), model);
    return TRUE;
}

/* Take one function (libvirt's virDomainPCIAddressReserveAddrInternal). */
static gboolean
reserve_addr(AddrSet *set, SvDomainPciAddress *a, guint flags, gboolean from_config,
             GError **error)
{
    int code = from_config ? SV_ERR_XML_ERROR : SV_ERR_INTERNAL_ERROR;
    g_autofree char *at = addr_string(a);
    Bus *bus;

    if (set->dry_run && !addr_set_grow(set, a, flags, error))
        return FALSE;
    if (set->buses->len == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, code, "No PCI buses available");
        return FALSE;
    }
    if (a->domain != 0) {
        sv_error_set(error, SV_FROM_DOMAIN, code,
                     "Invalid PCI address %s. Only PCI domain 0 is available", at);
        return FALSE;
    }
    if (a->bus >= set->buses->len) {
        sv_error_set(error, SV_FROM_DOMAIN, code,
                     "Invalid PCI address %s. Only PCI buses up to %u are available", at,
                     set->buses->len - 1);
        return FALSE;
    }
    bus = bus_at(set, a->bus);
    if (!flags_compatible(a, bus->flags, flags, from_config, error))
        return FALSE;
    if (bus->min_slot && a->slot < bus->min_slot) {
        sv_error_set(error, SV_FROM_DOMAIN, code, "Invalid PCI address %s. slot must be >= %u",
                     at, bus->min_slot);
        return FALSE;
    }
    if (a->slot > bus->max_slot) {
        sv_error_set(error, SV_FROM_DOMAIN, code, "Invalid PCI address %s. slot must be <= %u",
                     at, bus->max_slot);
        return FALSE;
    }
    if (bus->functions[a->slot] & (1 << a->function)) {
        sv_error_set(error, SV_FROM_DOMAIN, code, "Attempted double use of PCI Address %s", at);
        return FALSE;
    }
    if (!bus->functions[a->slot] && (flags & QEMU_PCI_AGGREGATE_SLOT))
        bus->aggregate[a->slot] = TRUE;
    bus->functions[a->slot] |= 1 << a->function;
    return TRUE;
}

/* The first free place for `flags` on `bus` from a->slot (a->function asked for, or any
 * with function -1): a slot nobody uses, or a free function of a slot shared by
 * aggregating devices. */
static gboolean
find_on_bus(const Bus *bus, SvDomainPciAddress *a, int function, guint flags)
{
    if (!flags_compatible(a, bus->flags, flags, FALSE, NULL))
        return FALSE;
    for (; a->slot <= bus->max_slot; a->slot++) {
        if (!bus->functions[a->slot])
            return TRUE;
        if (!(flags & QEMU_PCI_AGGREGATE_SLOT) || !bus->aggregate[a->slot])
            continue;
        if (!(bus->functions[a->slot] & (1 << a->function)))
            return TRUE;
        if (function == -1) {
            for (; a->function < 8; a->function++) {
                if (!(bus->functions[a->slot] & (1 << a->function)))
                    return TRUE;
            }
            a->function = 0;
        }
    }
    return FALSE;
}

/* Reserve the next free address for a device and give it to `info` (not in a dry run). */
static gboolean
reserve_next(AddrSet *set, SvDomainDeviceInfo *info, guint flags, int function, GError **error)
{
    SvDomainPciAddress a = {0};

    if (set->buses->len == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "No PCI buses available");
        return FALSE;
    }
    a.function = function == -1 ? 0 : (guint)function;
    for (a.bus = 0; a.bus < set->buses->len; a.bus++) {
        a.slot = bus_at(set, a.bus)->min_slot;
        if (find_on_bus(bus_at(set, a.bus), &a, function, flags))
            break;
    }
    if (a.bus == set->buses->len) {
        if (!set->dry_run) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "No more available PCI slots");
            return FALSE;
        }
        if (!addr_set_grow(set, &a, flags, error))
            return FALSE;
        a.slot = bus_at(set, a.bus)->min_slot;
    }
    if (!reserve_addr(set, &a, flags, FALSE, error))
        return FALSE;
    if (!set->dry_run) {
        info->addr.type = SV_DOMAIN_ADDRESS_PCI;
        info->addr.pci = a;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- walking the devices */

static gboolean
addr_present(const SvDomainDeviceInfo *info)
{
    const SvDomainPciAddress *a = &info->addr.pci;

    return info->addr.type == SV_DOMAIN_ADDRESS_PCI && (a->domain || a->bus || a->slot);
}

static gboolean
addr_wanted(const SvDomainDeviceInfo *info)
{
    return info->addr.type == SV_DOMAIN_ADDRESS_NONE ||
           (info->addr.type == SV_DOMAIN_ADDRESS_PCI && !addr_present(info));
}

typedef struct {
    SvDomainDef *def;
    AddrSet *set;
    GHashTable *multi; /* bus << 8 | slot of the slots with more than function 0 in use */
} Walk;

typedef gboolean (*DeviceFunc)(Walk *w, const QemuPciKind *kind, gpointer dev,
                               SvDomainDeviceInfo *info, guint flags, GError **error);

/* fn for every device of every kind, in libvirt's order, with its connect flags. */
static gboolean
walk_devices(Walk *w, DeviceFunc fn, GError **error)
{
    guint n;
    const QemuPciKind *kinds = qemu_pci_kinds(&n);

    for (guint k = 0; k < n; k++) {
        const QemuPciKind *kind = &kinds[k];
        GPtrArray *list;

        if (kind->list == QEMU_PCI_LIST_MEMBALLOON || kind->list == QEMU_PCI_LIST_WATCHDOG) {
            /* The devices a definition has one of: their struct starts with the info too. */
            gpointer one = kind->list == QEMU_PCI_LIST_MEMBALLOON ? (gpointer)w->def->memballoon
                                                                  : (gpointer)w->def->watchdog;

            if (one && !fn(w, kind, one, one, kind->connect(w->def, one, &w->set->flags), error))
                return FALSE;
            continue;
        }
        list = G_STRUCT_MEMBER(GPtrArray *, w->def, kind->list);
        for (guint i = 0; i < list->len; i++) {
            gpointer dev = list->pdata[i];

            if (kind->member && !kind->member(dev))
                continue;
            /* Every device struct starts with its SvDomainDeviceInfo. */
            if (!fn(w, kind, dev, dev, kind->connect(w->def, dev, &w->set->flags), error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean
is_controller(const SvDomainControllerDef *c, SvDomainControllerType type, guint index)
{
    return c->type == type && c->index == index;
}

static gboolean
is_piix3_usb(const SvDomainControllerDef *c)
{
    return is_controller(c, SV_DOMAIN_CONTROLLER_USB, 0) &&
           (!c->model || g_str_equal(c->model, "piix3-uhci"));
}

/* Addresses the XML gave are taken first (libvirt's qemuDomainCollectPCIAddress). */
static gboolean
collect_one(Walk *w, const QemuPciKind *kind, gpointer dev, SvDomainDeviceInfo *info,
            guint flags, GError **error)
{
    SvDomainPciAddress *a = &info->addr.pci;

    if (!addr_present(info))
        return TRUE;
    /* The PIIX3's IDE and USB functions on 00:01 are taken with the chipset's. */
    if (dev && kind->list == G_STRUCT_OFFSET(SvDomainDef, controllers) && a->bus == 0 &&
        a->slot == 1) {
        const SvDomainControllerDef *c = dev;
        if ((is_controller(c, SV_DOMAIN_CONTROLLER_IDE, 0) && a->function == 1) ||
            (is_piix3_usb(c) && a->function == 2))
            return TRUE;
    }
    /* A device libvirt would not put on PCI keeps the address it was given, as libvirt
     * keeps it for old definitions. */
    return reserve_addr(w->set, a, flags ? flags : QEMU_PCI_TYPE_PCI_DEVICE, TRUE, error);
}

/* ---------------------------------------------------------------- the chipsets' own slots */

static gboolean
place_fixed(SvDomainDeviceInfo *info, guint slot, guint function,
            const char *must, GError **error)
{
    SvDomainPciAddress want = {.slot = slot, .function = function};

    if (addr_present(info)) {
        const SvDomainPciAddress *a = &info->addr.pci;
        if (a->domain || a->bus || a->slot != slot || a->function != function) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s", must);
            return FALSE;
        }
    } else {
        info->addr.type = SV_DOMAIN_ADDRESS_PCI;
        info->addr.pci = want;
    }
    return TRUE;
}

static gboolean
reserve_fixed(AddrSet *set, guint slot, guint function, guint flags, GError **error)
{
    SvDomainPciAddress a = {.slot = slot, .function = function};

    return reserve_addr(set, &a, flags, TRUE, error);
}

static gboolean
slot_in_use(AddrSet *set, guint bus, guint slot)
{
    return bus < set->buses->len && bus_at(set, bus)->functions[slot] != 0;
}

/* The first <video> when it is a PCI device without an address: the primary one, which
 * the chipsets give a slot of their own. */
static SvDomainDeviceInfo *
primary_video(SvDomainDef *def, const AddrSet *set)
{
    SvDomainVideoDef *v = def->videos->len ? def->videos->pdata[0] : NULL;

    if (!v || v->info.addr.type != SV_DOMAIN_ADDRESS_NONE ||
        !qemu_pci_connect_video(sv_domain_video_type_to_string(v->type), &set->flags))
        return NULL;
    return &v->info;
}

/* The first ich9 sound card without an address. */
static SvDomainDeviceInfo *
ich9_sound(SvDomainDef *def)
{
    for (guint i = 0; i < def->sounds->len; i++) {
        SvDomainSoundDef *snd = def->sounds->pdata[i];

        if (snd->model == SV_DOMAIN_SOUND_ICH9 && snd->info.addr.type == SV_DOMAIN_ADDRESS_NONE)
            return &snd->info;
    }
    return NULL;
}

/* Give `info` (NULL: nothing to do) 00:SLOT.0 when that slot is free. */
static gboolean
place_chipset_slot(AddrSet *set, SvDomainDeviceInfo *info, guint slot, guint flags,
                   GError **error)
{
    if (!info || slot_in_use(set, 0, slot))
        return TRUE;
    if (!reserve_fixed(set, slot, 0, flags, error))
        return FALSE;
    info->addr.type = SV_DOMAIN_ADDRESS_PCI;
    info->addr.pci = (SvDomainPciAddress){.slot = slot};
    return TRUE;
}

/* The primary video at 00:SLOT.0 when that slot is free; else at the next free address,
 * before every other device, as libvirt places it. */
static gboolean
place_primary_video(SvDomainDef *def, AddrSet *set, guint slot, guint flags, GError **error)
{
    SvDomainDeviceInfo *info = primary_video(def, set);
    const SvDomainVideoDef *v = def->videos->len ? def->videos->pdata[0] : NULL;

    if (!info || !slot_in_use(set, 0, slot))
        return place_chipset_slot(set, info, slot, flags, error);
    return reserve_next(set, info,
                        qemu_pci_connect_video(sv_domain_video_type_to_string(v->type),
                                               &set->flags),
                        -1, error);
}

/* i440fx: the PIIX3 is 00:01 (ISA bridge .0, IDE .1, USB .2, ACPI .3); the primary video
 * takes 00:02 (qemuDomainValidateDevicePCISlotsPIIX3). */
static gboolean
chipset_piix3(SvDomainDef *def, AddrSet *set, GError **error)
{
    const guint flags = QEMU_PCI_AUTOASSIGN | QEMU_PCI_TYPE_PCI_DEVICE;

    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        guint function;

        if (is_controller(c, SV_DOMAIN_CONTROLLER_IDE, 0)) {
            function = 1;
            if (!place_fixed(&c->info, 1, 1,
                             "Primary IDE controller must have PCI address 0:0:1.1", error))
                return FALSE;
        } else if (is_piix3_usb(c)) {
            function = 2;
            if (!place_fixed(&c->info, 1, 2,
                             "PIIX3 USB controller at index 0 must have PCI address 0:0:1.2",
                             error))
                return FALSE;
        } else {
            continue;
        }
        if (!reserve_fixed(set, 1, function, flags, error))
            return FALSE;
    }
    if (!reserve_fixed(set, 1, 0, flags, error) || !reserve_fixed(set, 1, 3, flags, error))
        return FALSE;
    /* The primary video goes to 00:02.0 when it wants an address and the slot is free. */
    return place_primary_video(def, set, 2, flags, error);
}

/* q35: the ICH9 is 00:1f (LPC .0, SATA .2, SMBus .3); USB2 companions go to 00:1d or 00:1a,
 * a dmi-to-pci-bridge to 00:1e, the primary video to 00:01 (qemuDomainValidateDevicePCISlotsQ35). */
static gboolean
chipset_q35(SvDomainDef *def, AddrSet *set, GError **error)
{
    const guint flags = QEMU_PCI_TYPE_PCIE_DEVICE;

    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        guint slot = 0;

        if (is_controller(c, SV_DOMAIN_CONTROLLER_SATA, 0)) {
            if (!place_fixed(&c->info, 0x1f, 2,
                             "Primary SATA controller must have PCI address 0:0:1f.2", error))
                return FALSE;
            continue;
        }
        if (c->info.addr.type != SV_DOMAIN_ADDRESS_NONE)
            continue;
        if (c->type == SV_DOMAIN_CONTROLLER_USB && c->model &&
            g_str_equal(c->model, "ich9-uhci1"))
            slot = !slot_in_use(set, 0, 0x1d) ? 0x1d : !slot_in_use(set, 0, 0x1a) ? 0x1a : 0;
        else if (c->type == SV_DOMAIN_CONTROLLER_PCI && c->model &&
                 g_str_equal(c->model, "dmi-to-pci-bridge") && !slot_in_use(set, 0, 0x1e))
            slot = 0x1e;
        if (!slot)
            continue;
        if (!reserve_fixed(set, slot, 0, flags, error))
            return FALSE;
        c->info.addr.type = SV_DOMAIN_ADDRESS_PCI;
        c->info.addr.pci = (SvDomainPciAddress){.slot = slot};
        if (slot != 0x1e)
            c->info.addr.pci.multifunction = SV_DOMAIN_SWITCH_ON;
    }
    if (set->buses->len) {
        SvDomainPciAddress lpc = {.slot = 0x1f, .multifunction = SV_DOMAIN_SWITCH_ON};
        if (!reserve_addr(set, &lpc, flags, TRUE, error) ||
            !reserve_fixed(set, 0x1f, 3, flags, error))
            return FALSE;
    }
    /* The primary video goes to 00:01.0 when free, then an unaddressed ich9 sound card to
     * 00:1b.0 when free (else it is placed with the sounds). */
    return place_primary_video(def, set, 1, flags, error) &&
           place_chipset_slot(set, ich9_sound(def), 0x1b, flags, error);
}

static gboolean
chipset_slots(SvDomainDef *def, AddrSet *set, GError **error)
{
    if (!set->buses->len)
        return TRUE;
    if (bus_at(set, 0)->model == BUS_PCIE_ROOT)
        return chipset_q35(def, set, error);
    return chipset_piix3(def, set, error);
}

/* ---------------------------------------------------------------- the devices' slots */

static gboolean
is_usb2_companion(const SvDomainControllerDef *c, int *function, int *multi)
{
    static const char *const models[] = {"ich9-uhci1", "ich9-uhci2", "ich9-uhci3", NULL};

    if (c->type != SV_DOMAIN_CONTROLLER_USB || !c->model)
        return FALSE;
    *multi = SV_DOMAIN_SWITCH_ABSENT;
    if (g_str_equal(c->model, "ich9-ehci1")) {
        *function = 7;
        return TRUE;
    }
    for (int i = 0; models[i]; i++) {
        if (g_str_equal(c->model, models[i])) {
            *function = i;
            if (i == 0)
                *multi = SV_DOMAIN_SWITCH_ON;
            return TRUE;
        }
    }
    return FALSE;
}

/* The EHCI controller and its UHCI companions of one index share a slot. */
static gboolean
assign_usb2(Walk *w, SvDomainControllerDef *c, guint flags, int function, int multi,
            GError **error)
{
    for (guint j = 0; j < w->def->controllers->len; j++) {
        const SvDomainControllerDef *o = w->def->controllers->pdata[j];
        int f, m;

        if (o->index != c->index || !is_usb2_companion(o, &f, &m) || !addr_present(&o->info))
            continue;
        SvDomainPciAddress a = o->info.addr.pci;
        a.function = function;
        a.multifunction = multi;
        if (!reserve_addr(w->set, &a, flags, TRUE, error))
            return FALSE;
        c->info.addr.type = SV_DOMAIN_ADDRESS_PCI;
        c->info.addr.pci = a;
        return TRUE;
    }
    if (!reserve_next(w->set, &c->info, flags, function, error))
        return FALSE;
    c->info.addr.pci.multifunction = multi;
    return TRUE;
}

static gboolean
assign_one(Walk *w, const QemuPciKind *kind, gpointer dev, SvDomainDeviceInfo *info,
           guint flags, GError **error)
{
    if (kind->list == G_STRUCT_OFFSET(SvDomainDef, disks) && flags && !addr_present(info) &&
        !addr_wanted(info)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "virtio disk cannot have an address of type '%s'",
                     sv_domain_address_type_to_string(info->addr.type));
        return FALSE;
    }
    if (!flags || !addr_wanted(info))
        return TRUE;
    if (kind->list == G_STRUCT_OFFSET(SvDomainDef, controllers)) {
        SvDomainControllerDef *c = dev;
        int function, multi;

        /* The first IDE controller is the PIIX3's (the chipset step). */
        if (is_controller(c, SV_DOMAIN_CONTROLLER_IDE, 0))
            return TRUE;
        if (is_usb2_companion(c, &function, &multi))
            return assign_usb2(w, c, flags, function, multi, error);
    }
    return reserve_next(w->set, info, flags, -1, error);
}

/* ---------------------------------------------------------------- the two runs */

static gboolean
has_root(const SvDomainDef *def, const char *model)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (is_controller(c, SV_DOMAIN_CONTROLLER_PCI, 0) && c->model &&
            g_str_equal(c->model, model))
            return TRUE;
    }
    return FALSE;
}

/* The buses of `def`'s PCI controllers (nbuses of them, those without a controller of the
 * default kind), with the addresses the definition has taken. */
static AddrSet *
addr_set_new(Walk *w, guint nbuses, gboolean dry_run, GError **error)
{
    g_autoptr(AddrSet) set = g_new0(AddrSet, 1);
    gboolean pcie = has_root(w->def, "pcie-root");

    set->buses = g_array_sized_new(FALSE, TRUE, sizeof(Bus), nbuses);
    g_array_set_size(set->buses, nbuses);
    set->dry_run = dry_run;
    set->pcie_to_pci_bridge = TRUE;
    qemu_pci_flags_init(&set->flags, pcie);
    for (guint i = 0; i < w->def->controllers->len; i++) {
        const SvDomainControllerDef *c = w->def->controllers->pdata[i];
        BusModel m = bus_model_from_string(c->model);

        if (c->type != SV_DOMAIN_CONTROLLER_PCI)
            continue;
        if (m == BUS_NONE) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "PCI controller model was not set correctly");
            return NULL;
        }
        if (c->index >= nbuses) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "Inappropriate new pci controller index %u exceeds addrs array length",
                         c->index);
            return NULL;
        }
        bus_set_model(bus_at(set, c->index), m);
    }
    if (nbuses && bus_at(set, 0)->model == BUS_NONE)
        bus_set_model(bus_at(set, 0), BUS_PCI_ROOT);
    for (guint i = 1; i < nbuses; i++) {
        if (bus_at(set, i)->model == BUS_NONE)
            bus_set_model(bus_at(set, i), pcie ? BUS_PCIE_ROOT_PORT : BUS_PCI_BRIDGE);
    }
    w->set = set;
    if (!walk_devices(w, collect_one, error))
        return NULL;
    return g_steal_pointer(&set);
}

static gboolean
controller_exists(const SvDomainDef *def, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        if (is_controller(def->controllers->pdata[i], SV_DOMAIN_CONTROLLER_PCI, index))
            return TRUE;
    }
    return FALSE;
}

/* A slot for a device that does not exist: room for hotplug. */
static gboolean
reserve_spare(AddrSet *set, guint type, GError **error)
{
    SvDomainDeviceInfo spare = {0};

    return reserve_next(set, &spare, QEMU_PCI_AUTOASSIGN | type, -1, error);
}

/* The dry run: which buses the devices need. Their controllers are added to `def`. */
static gboolean
first_run(Walk *w, int max_idx, guint *nbuses, GError **error)
{
    g_autoptr(AddrSet) set = addr_set_new(w, max_idx + 1, TRUE, error);
    gboolean pcie;

    if (!set || !chipset_slots(w->def, set, error))
        return FALSE;
    pcie = bus_at(set, 0)->model == BUS_PCIE_ROOT;
    /* pci-root guests keep a slot for a future pci-bridge, unless every bus is taken. */
    if (!pcie) {
        gboolean full = TRUE;
        for (guint i = 0; i < set->buses->len && full; i++)
            full = bus_is_full(bus_at(set, i));
        if (!full && !reserve_spare(set, QEMU_PCI_TYPE_PCI_DEVICE, error))
            return FALSE;
    }
    if (!walk_devices(w, assign_one, error))
        return FALSE;
    /* A new pcie-root guest whose PCI controllers libvirt lays out gets one empty
     * pcie-root-port for hotplug. */
    if (max_idx <= 0 && set->buses->len > (guint)max_idx + 1 && pcie &&
        !reserve_spare(set, QEMU_PCI_TYPE_PCIE_DEVICE, error))
        return FALSE;
    for (guint i = 1; i < set->buses->len; i++) {
        SvDomainControllerDef *c;
        BusModel m = bus_at(set, i)->model;

        if (controller_exists(w->def, i))
            continue;
        c = sv_domain_controller_def_new(SV_DOMAIN_CONTROLLER_PCI, i, bus_models[m].model);
        g_ptr_array_add(w->def->controllers, c);
        if (!reserve_next(set, &c->info, qemu_pci_connect_pci_controller(c->model), -1, error))
            return FALSE;
    }
    *nbuses = set->buses->len;
    return TRUE;
}

/* Devices at function 0 of a slot whose other functions are used are multifunction: the
 * slots are found, then their function 0 marked. */
static gboolean
find_multi(Walk *w, const QemuPciKind *kind, gpointer dev, SvDomainDeviceInfo *info,
           guint flags, GError **error)
{
    const SvDomainPciAddress *a = &info->addr.pci;

    (void)kind;
    (void)dev;
    (void)flags;
    (void)error;
    if (info->addr.type == SV_DOMAIN_ADDRESS_PCI && a->function != 0)
        g_hash_table_add(w->multi, GUINT_TO_POINTER(a->bus << 8 | a->slot));
    return TRUE;
}

static gboolean
mark_multi(Walk *w, const QemuPciKind *kind, gpointer dev, SvDomainDeviceInfo *info,
           guint flags, GError **error)
{
    SvDomainPciAddress *a = &info->addr.pci;

    (void)kind;
    (void)dev;
    (void)flags;
    (void)error;
    if (info->addr.type == SV_DOMAIN_ADDRESS_PCI && a->function == 0 &&
        a->multifunction == SV_DOMAIN_SWITCH_ABSENT &&
        g_hash_table_contains(w->multi, GUINT_TO_POINTER(a->bus << 8 | a->slot)))
        a->multifunction = SV_DOMAIN_SWITCH_ON;
    return TRUE;
}

/* <model name> and <target> values libvirt fills in for PCI controllers. */
static gboolean
controller_options(SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        BusModel m = bus_model_from_string(c->model);
        const SvDomainPciAddress *a = &c->info.addr.pci;

        if (c->type != SV_DOMAIN_CONTROLLER_PCI || !bus_models[m].model_name)
            continue;
        if (!c->model_name)
            c->model_name = g_strdup(bus_models[m].model_name);
        if (m == BUS_PCI_BRIDGE && c->target_chassis_nr == -1)
            c->target_chassis_nr = (int)c->index;
        if (m == BUS_PCIE_ROOT_PORT || m == BUS_PCIE_SWITCH_DOWNSTREAM_PORT) {
            if (c->target_chassis == -1)
                c->target_chassis = (int)c->index;
            if (c->target_port == -1)
                c->target_port = m == BUS_PCIE_ROOT_PORT ? (int)((a->slot << 3) + a->function)
                                                         : (int)a->slot;
        }
        if (m == BUS_PCI_BRIDGE && c->index <= a->bus) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "PCI controller at index %u (0x%02x) has bus='0x%02x', but index must "
                         "be larger than bus",
                         c->index, c->index, a->bus);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
qemu_pci_assign_addresses(SvDomainDef *def, GError **error)
{
    Walk w = {.def = def};
    g_autoptr(AddrSet) set = NULL;
    g_autoptr(GHashTable) multi = NULL;
    int max_idx = -1;
    guint nbuses;

    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_PCI)
            max_idx = MAX(max_idx, (int)c->index);
    }
    nbuses = max_idx + 1;
    if (nbuses > 0 && !first_run(&w, max_idx, &nbuses, error))
        return FALSE;
    set = addr_set_new(&w, nbuses, FALSE, error);
    if (!set || !chipset_slots(def, set, error) || !walk_devices(&w, assign_one, error))
        return FALSE;
    multi = g_hash_table_new(NULL, NULL);
    w.multi = multi;
    if (!walk_devices(&w, find_multi, error) || !walk_devices(&w, mark_multi, error))
        return FALSE;
    return controller_options(def, error);
}
