/* qemu_argv.c: writing QEMU options safely (qemu_argv.h). */
#include "qemu_argv.h"

#include "qemu_command_platform.h"

void
qemu_argv_add(GPtrArray *argv, const char *a)
{
    g_ptr_array_add(argv, g_strdup(a));
}

void
qemu_argv_addf(GPtrArray *argv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

char *
qemu_argv_escape(const char *s)
{
    GString *out = g_string_new(NULL);

    for (; *s; s++) {
        if (*s == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

JsonObject *
qemu_props_new(const char *driver)
{
    JsonObject *o = json_object_new();

    qemu_props_str(o, "driver", driver);
    return o;
}

void
qemu_props_str(JsonObject *o, const char *key, const char *value)
{
    if (value)
        json_object_set_string_member(o, key, value);
}

void
qemu_props_int(JsonObject *o, const char *key, gint64 value)
{
    json_object_set_int_member(o, key, value);
}

void
qemu_props_bool(JsonObject *o, const char *key, gboolean value)
{
    json_object_set_boolean_member(o, key, value);
}

void
qemu_props_obj(JsonObject *o, const char *key, JsonObject *value)
{
    if (value)
        json_object_set_object_member(o, key, value);
}

gboolean
qemu_machine_is_q35(const SvDomainDef *def)
{
    return def->os.machine &&
           (g_str_has_prefix(def->os.machine, "q35") || g_str_has_prefix(def->os.machine, "pc-q35"));
}

/* The QEMU bus of USB bus `bus`: "<alias>.0" of the USB controller of that index (libvirt
 * names the controller "usb", "usb1" ...). */
static char *
usb_bus_name(const SvDomainDef *def, guint bus)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_USB && c->index == bus && c->info.alias)
            return g_strdup_printf("%s.0", c->info.alias);
    }
    return bus ? g_strdup_printf("usb%u.0", bus) : g_strdup("usb.0");
}

void
qemu_props_device_info(JsonObject *o, const SvDomainDef *def, const SvDomainDeviceInfo *info)
{
    const SvDomainPciAddress *pci = &info->addr.pci;

    if (info->addr.type == SV_DOMAIN_ADDRESS_PCI) {
        g_autofree char *bus = pci->bus ? g_strdup_printf("pci.%u", pci->bus)
                                        : g_strdup(qemu_machine_is_q35(def) ? "pcie.0" : "pci.0");
        g_autofree char *addr = pci->function ? g_strdup_printf("0x%x.0x%x", pci->slot,
                                                                pci->function)
                                              : g_strdup_printf("0x%x", pci->slot);
        qemu_props_str(o, "bus", bus);
        qemu_props_str(o, "addr", addr);
        if (pci->multifunction == SV_DOMAIN_SWITCH_ON)
            qemu_props_bool(o, "multifunction", TRUE);
    } else if (info->addr.type == SV_DOMAIN_ADDRESS_USB) {
        g_autofree char *bus = usb_bus_name(def, info->addr.usb.bus);

        qemu_props_str(o, "bus", bus);
        if (sv_domain_usb_port_is_set(info->addr.usb.port))
            qemu_props_str(o, "port", info->addr.usb.port);
    }
    qemu_props_str(o, "id", info->alias);
    if (qemu_platform_boot_index(def, info))
        qemu_props_int(o, "bootindex", qemu_platform_boot_index(def, info));
}

void
qemu_argv_add_json(GPtrArray *argv, const char *option, JsonObject *o)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);

    qemu_argv_add(argv, option);
    g_ptr_array_add(argv, json_to_string(node, FALSE));
    json_object_unref(o);
}
