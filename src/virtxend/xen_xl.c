/* xen_xl.c: a domain definition's xl.cfg form both ways (what the driver accepts at all is
 * xen_check.c's).
 *
 * Both directions refuse what they cannot carry instead of dropping it, naming the element
 * or setting (CONFIG_UNSUPPORTED, LIBXL). Settings become domain XML text that
 * sv_domain_def_parse() then reads, so a converted definition obeys the same rules as a
 * defined one. Disk specifications are read with libxlutil's own parser (xlu_disk_parse),
 * which needs no hypervisor, so every spelling xl accepts is understood as xl does. */
#include "xen_xl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxlutil.h>

#include "conf/uuid.h"
#include "util/error.h"

/* libvirt's CONFIG_UNSUPPORTED for what xl.cfg cannot say. */
#define unsupported(error, ...) \
    sv_error_set((error), SV_FROM_LIBXL, SV_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)

/* ---------------------------------------------------------------- XML to xl.cfg */

char *
xen_xl_disk_spec(const SvDomainDiskDef *disk)
{
    GString *s = g_string_new(NULL);
    const char *backend = xen_disk_backend_of_driver(disk->driver_name);

    /* xl reads a disk without format= as raw. */
    g_string_append_printf(s, "format=%s,vdev=%s,access=%s",
                           disk->format == SV_DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw",
                           disk->target_dev, disk->readonly ? "ro" : "rw");
    if (backend)
        g_string_append_printf(s, ",backendtype=%s", backend);
    if (disk->device == SV_DOMAIN_DISK_DEVICE_CDROM)
        g_string_append(s, ",devtype=cdrom");
    /* target= takes the rest of the spec, commas included, so it comes last. */
    if (disk->source)
        g_string_append_printf(s, ",target=%s", disk->source);
    return g_string_free(s, FALSE);
}

static char *
vif_spec(const SvDomainNetDef *net)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

    if (net->mac)
        g_ptr_array_add(parts, g_strdup_printf("mac=%s", net->mac));
    if (net->model)
        g_ptr_array_add(parts, g_strdup_printf("model=%s", net->model));
    if (net->target_dev)
        g_ptr_array_add(parts, g_strdup_printf("vifname=%s", net->target_dev));
    g_ptr_array_add(parts, NULL);
    return g_strjoinv(",", (char **)parts->pdata);
}

static guint64
kib_to_mib(guint64 kib)
{
    return kib / 1024 + (kib % 1024 != 0);
}

char *
xen_xl_serial_spec(const SvDomainChrDef *chr)
{
    if (chr->source.type == SV_DOMAIN_CHR_TYPE_FILE)
        return g_strdup_printf("file:%s", chr->source.path);
    return g_strdup("pty");
}

char *
xen_xl_boot_order(const SvDomainOsDef *os)
{
    static const char boot_letters[] = {'a', 'c', 'd', 'n'}; /* fd, hd, cdrom, network */
    char boot[SV_DOMAIN_BOOT_LAST + 1] = {0};

    G_STATIC_ASSERT(G_N_ELEMENTS(boot_letters) == SV_DOMAIN_BOOT_LAST);
    for (guint i = 0; i < os->n_boot_devs; i++)
        boot[i] = boot_letters[os->boot_devs[i]];
    return *boot ? g_strdup(boot) : NULL;
}

static void
from_hvm(const SvDomainDef *def, XlCfg *cfg)
{
    const SvDomainOsDef *o = &def->os;
    g_autofree char *boot = xen_xl_boot_order(o);

    if (o->loader_type == SV_DOMAIN_LOADER_TYPE_ROM)
        xl_cfg_set_string(cfg, "firmware_override", o->loader);
    if (o->loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH) {
        xl_cfg_set_string(cfg, "bios", "ovmf");
        if (o->loader)
            xl_cfg_set_string(cfg, "bios_path_override", o->loader);
    }
    if (boot)
        xl_cfg_set_string(cfg, "boot", boot);
    /* xl turns these on for HVM unless told otherwise, so they are always written. */
    xl_cfg_set_number(cfg, "pae", (def->features & SV_DOMAIN_FEATURE_PAE) != 0);
    xl_cfg_set_number(cfg, "acpi", (def->features & SV_DOMAIN_FEATURE_ACPI) != 0);
    xl_cfg_set_number(cfg, "apic", (def->features & SV_DOMAIN_FEATURE_APIC) != 0);
    if (sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_NONE))
        xl_cfg_set_number(cfg, "nographic", 1);
    /* One serial port as a string, as libvirt writes it; more as a list. */
    if (def->serials->len == 1) {
        g_autofree char *spec = xen_xl_serial_spec(def->serials->pdata[0]);
        xl_cfg_set_string(cfg, "serial", spec);
    } else if (def->serials->len > 1) {
        g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < def->serials->len; i++)
            g_ptr_array_add(specs, xen_xl_serial_spec(def->serials->pdata[i]));
        g_ptr_array_add(specs, NULL);
        xl_cfg_set_string_list(cfg, "serial", (const char *const *)specs->pdata);
    }
    if (def->emulator)
        xl_cfg_set_string(cfg, "device_model_override", def->emulator);
}

/* What xl.cfg has no setting for, though the driver could run it. */
static gboolean
check_xl_expressible(const SvDomainDef *def, GError **error)
{
    const char *what = def->title         ? "<title>"
                       : def->description ? "<description>"
                       : def->metadata    ? "<metadata>"
                       : def->seclabel_none ? "<seclabel>"
                                            : NULL;

    if (what) {
        unsupported(error, "%s has no xl.cfg equivalent", what);
        return FALSE;
    }
    return TRUE;
}

XlCfg *
xen_xl_from_def(const SvDomainDef *def, GError **error)
{
    g_autoptr(XlCfg) cfg = NULL;
    char uuid[SV_UUID_STRING_LEN + 1];

    if (!xen_def_check(def, error) || !check_xl_expressible(def, error))
        return NULL;
    cfg = xl_cfg_new();
    xl_cfg_set_string(cfg, "name", def->name);
    sv_uuid_format(def->uuid, uuid);
    xl_cfg_set_string(cfg, "uuid", uuid);
    xl_cfg_set_number(cfg, "maxmem", kib_to_mib(def->memory_kib));
    xl_cfg_set_number(cfg, "memory", kib_to_mib(def->current_memory_kib));
    xl_cfg_set_number(cfg, "vcpus", def->vcpus);
    xl_cfg_set_string(cfg, "type", xen_def_is_hvm(def) ? "hvm" : "pv");
    if (xen_def_is_hvm(def)) {
        from_hvm(def, cfg);
    } else {
        xl_cfg_set_string(cfg, "kernel", def->os.kernel);
        if (def->os.initrd)
            xl_cfg_set_string(cfg, "ramdisk", def->os.initrd);
        if (def->os.cmdline)
            xl_cfg_set_string(cfg, "cmdline", def->os.cmdline);
    }
    if (def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_LOCALTIME)
        xl_cfg_set_number(cfg, "localtime", 1);
    /* libvirt's lifecycle action names are xl's. */
    xl_cfg_set_string(cfg, "on_poweroff", sv_domain_lifecycle_action_to_string(def->on_poweroff));
    xl_cfg_set_string(cfg, "on_reboot", sv_domain_lifecycle_action_to_string(def->on_reboot));
    xl_cfg_set_string(cfg, "on_crash", sv_domain_lifecycle_action_to_string(def->on_crash));
    if (def->disks->len) {
        g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < def->disks->len; i++)
            g_ptr_array_add(specs, xen_xl_disk_spec(def->disks->pdata[i]));
        g_ptr_array_add(specs, NULL);
        xl_cfg_set_string_list(cfg, "disk", (const char *const *)specs->pdata);
    }
    if (def->interfaces->len) {
        g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < def->interfaces->len; i++)
            g_ptr_array_add(specs, vif_spec(def->interfaces->pdata[i]));
        g_ptr_array_add(specs, NULL);
        xl_cfg_set_string_list(cfg, "vif", (const char *const *)specs->pdata);
    }
    return g_steal_pointer(&cfg);
}

/* ---------------------------------------------------------------- xl.cfg to XML */

typedef enum { FOR_ANY, FOR_HVM, FOR_PV } SettingScope;

/* Every setting read; anything else is refused by name. */
static const struct {
    const char *key;
    SettingScope scope;
} known_settings[] = {
    {"name", FOR_ANY},         {"uuid", FOR_ANY},
    {"type", FOR_ANY},         {"builder", FOR_ANY},
    {"memory", FOR_ANY},       {"maxmem", FOR_ANY},
    {"vcpus", FOR_ANY},        {"maxvcpus", FOR_ANY},
    {"localtime", FOR_ANY},    {"nographic", FOR_ANY},
    {"on_poweroff", FOR_ANY},  {"on_reboot", FOR_ANY},
    {"on_crash", FOR_ANY},     {"disk", FOR_ANY},
    {"vif", FOR_ANY},          {"kernel", FOR_PV},
    {"ramdisk", FOR_PV},       {"cmdline", FOR_PV},
    {"extra", FOR_PV},         {"root", FOR_PV},
    {"firmware_override", FOR_HVM}, {"bios", FOR_HVM},
    {"bios_path_override", FOR_HVM}, {"boot", FOR_HVM},
    {"pae", FOR_HVM},          {"acpi", FOR_HVM},
    {"apic", FOR_HVM},         {"serial", FOR_HVM},
    {"device_model_override", FOR_HVM},
};

static gboolean
check_settings(const XlCfg *cfg, gboolean hvm, GError **error)
{
    for (guint i = 0; i < xl_cfg_size(cfg); i++) {
        const char *key = xl_cfg_get_entry(cfg, i)->key;
        guint k;

        for (k = 0; k < G_N_ELEMENTS(known_settings); k++) {
            if (g_str_equal(key, known_settings[k].key))
                break;
        }
        if (k == G_N_ELEMENTS(known_settings)) {
            unsupported(error, "xl.cfg setting '%s' is not supported", key);
            return FALSE;
        }
        if (known_settings[k].scope != FOR_ANY &&
            (known_settings[k].scope == FOR_HVM) != hvm) {
            unsupported(error, "xl.cfg setting '%s' is not supported on %s domains", key,
                        hvm ? "HVM" : "PV");
            return FALSE;
        }
    }
    return TRUE;
}

/* A string (or number) setting; NULL when absent. */
static gboolean
get_string(const XlCfg *cfg, const char *key, const char **out, GError **error)
{
    const XlValue *v = xl_cfg_lookup(cfg, key);

    *out = NULL;
    if (v && v->type == XL_VALUE_LIST) {
        unsupported(error, "xl.cfg setting '%s' must be a single value, not a list", key);
        return FALSE;
    }
    *out = v ? v->str : NULL;
    return TRUE;
}

/* A number (xl also takes one written as a string); `def` when absent. */
static gboolean
get_number(const XlCfg *cfg, const char *key, guint64 def, guint64 *out, GError **error)
{
    const char *s;
    char *end = NULL;

    if (!get_string(cfg, key, &s, error))
        return FALSE;
    *out = def;
    if (!s)
        return TRUE;
    errno = 0;
    *out = g_ascii_strtoull(s, &end, 0);
    if (!*s || *end || errno || *s == '-') {
        unsupported(error, "xl.cfg setting '%s' must be a number, not '%s'", key, s);
        return FALSE;
    }
    return TRUE;
}

/* A list of strings; a single string counts as a list of one. (transfer container) */
static gboolean
get_list(const XlCfg *cfg, const char *key, GPtrArray **out, GError **error)
{
    const XlValue *v = xl_cfg_lookup(cfg, key);

    *out = g_ptr_array_new();
    if (!v)
        return TRUE;
    if (v->type != XL_VALUE_LIST) {
        g_ptr_array_add(*out, v->str);
        return TRUE;
    }
    for (guint i = 0; i < v->items->len; i++) {
        const XlValue *item = v->items->pdata[i];

        if (item->type == XL_VALUE_LIST) {
            unsupported(error, "nested list in xl.cfg setting '%s'", key);
            g_clear_pointer(out, g_ptr_array_unref);
            return FALSE;
        }
        g_ptr_array_add(*out, item->str);
    }
    return TRUE;
}

static void
append_elem(GString *x, const char *name, const char *text)
{
    g_autofree char *esc = g_markup_escape_text(text, -1);

    g_string_append_printf(x, "<%s>%s</%s>", name, esc, name);
}

/* `builder` is xl's older spelling of `type`. */
static gboolean
domain_is_hvm(const XlCfg *cfg, gboolean *hvm, GError **error)
{
    const char *type, *builder;

    if (!get_string(cfg, "type", &type, error) || !get_string(cfg, "builder", &builder, error))
        return FALSE;
    if (!type && builder)
        type = g_str_equal(builder, "hvm") ? "hvm" : g_str_equal(builder, "generic") ? "pv"
                                                                                      : builder;
    if (!type || g_str_equal(type, "pv")) {
        *hvm = FALSE;
        return TRUE;
    }
    if (g_str_equal(type, "hvm")) {
        *hvm = TRUE;
        return TRUE;
    }
    unsupported(error, "domain type '%s' in xl.cfg; use pv or hvm", type);
    return FALSE;
}

static gboolean
to_memory_vcpus(const XlCfg *cfg, GString *x, GError **error)
{
    guint64 memory, maxmem, vcpus, maxvcpus;

    /* xl's defaults: 128 MiB, as much at most, one vCPU. */
    if (!get_number(cfg, "memory", 128, &memory, error) ||
        !get_number(cfg, "maxmem", memory, &maxmem, error) ||
        !get_number(cfg, "vcpus", 1, &vcpus, error) ||
        !get_number(cfg, "maxvcpus", vcpus, &maxvcpus, error))
        return FALSE;
    if (maxvcpus != vcpus) {
        unsupported(error, "maxvcpus (%" G_GUINT64_FORMAT ") other than vcpus (%" G_GUINT64_FORMAT
                           "): vCPU hotplug",
                    maxvcpus, vcpus);
        return FALSE;
    }
    g_string_append_printf(x, "<memory unit='MiB'>%" G_GUINT64_FORMAT "</memory>", maxmem);
    g_string_append_printf(x, "<currentMemory unit='MiB'>%" G_GUINT64_FORMAT "</currentMemory>",
                           memory);
    g_string_append_printf(x, "<vcpu>%" G_GUINT64_FORMAT "</vcpu>", vcpus);
    return TRUE;
}

static gboolean
to_pv_os(const XlCfg *cfg, GString *x, GError **error)
{
    const char *kernel, *ramdisk, *cmdline, *root, *extra;
    g_autofree char *joined = NULL;

    if (!get_string(cfg, "kernel", &kernel, error) ||
        !get_string(cfg, "ramdisk", &ramdisk, error) ||
        !get_string(cfg, "cmdline", &cmdline, error) ||
        !get_string(cfg, "root", &root, error) || !get_string(cfg, "extra", &extra, error))
        return FALSE;
    /* As xl: cmdline wins; else "root=ROOT EXTRA". */
    if (!cmdline && (root || extra)) {
        joined = g_strdup_printf("%s%s%s%s", root ? "root=" : "", root ? root : "",
                                 root && extra ? " " : "", extra ? extra : "");
        cmdline = joined;
    }
    g_string_append(x, "<os><type>xen</type>");
    if (kernel)
        append_elem(x, "kernel", kernel);
    if (ramdisk)
        append_elem(x, "initrd", ramdisk);
    if (cmdline)
        append_elem(x, "cmdline", cmdline);
    g_string_append(x, "</os>");
    return TRUE;
}

static gboolean
to_hvm_loader(const XlCfg *cfg, GString *x, GError **error)
{
    const char *firmware, *bios, *bios_path;

    if (!get_string(cfg, "firmware_override", &firmware, error) ||
        !get_string(cfg, "bios", &bios, error) ||
        !get_string(cfg, "bios_path_override", &bios_path, error))
        return FALSE;
    if (bios && !g_str_equal(bios, "ovmf")) {
        unsupported(error, "bios '%s'; only ovmf (<loader type='pflash'>) is read", bios);
        return FALSE;
    }
    if (bios_path && !bios) {
        unsupported(error, "bios_path_override without bios = \"ovmf\"");
        return FALSE;
    }
    if (firmware && bios) {
        unsupported(error, "both firmware_override and bios");
        return FALSE;
    }
    if (firmware)
        append_elem(x, "loader", firmware);
    if (bios && bios_path) {
        g_autofree char *esc = g_markup_escape_text(bios_path, -1);
        g_string_append_printf(x, "<loader type='pflash'>%s</loader>", esc);
    } else if (bios) {
        g_string_append(x, "<loader type='pflash'/>");
    }
    return TRUE;
}

static gboolean
to_hvm_os(const XlCfg *cfg, GString *x, GError **error)
{
    const char *boot;

    g_string_append(x, "<os><type>hvm</type>");
    if (!to_hvm_loader(cfg, x, error) || !get_string(cfg, "boot", &boot, error))
        return FALSE;
    /* xl boots from the disk, then the cdrom, unless told otherwise. */
    for (const char *b = boot ? boot : "cd"; *b; b++) {
        const char *dev = *b == 'a' ? "fd" : *b == 'c' ? "hd" : *b == 'd' ? "cdrom"
                          : *b == 'n' ? "network" : NULL;
        if (!dev) {
            unsupported(error, "boot device '%c' in '%s'; xl knows a, c, d and n", *b, boot);
            return FALSE;
        }
        g_string_append_printf(x, "<boot dev='%s'/>", dev);
    }
    g_string_append(x, "</os>");
    return TRUE;
}

static gboolean
to_features(const XlCfg *cfg, GString *x, GError **error)
{
    static const char *const names[] = {"pae", "acpi", "apic"};
    guint64 on[G_N_ELEMENTS(names)];

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (!get_number(cfg, names[i], 1, &on[i], error))
            return FALSE;
    }
    g_string_append(x, "<features>");
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (on[i])
            g_string_append_printf(x, "<%s/>", names[i]);
    }
    g_string_append(x, "</features>");
    return TRUE;
}

static gboolean
to_lifecycle(const XlCfg *cfg, GString *x, GError **error)
{
    static const struct {
        const char *key;
        const char *def;
    } events[] = {{"on_poweroff", "destroy"}, {"on_reboot", "restart"}, {"on_crash", "destroy"}};
    guint64 localtime;

    if (!get_number(cfg, "localtime", 0, &localtime, error))
        return FALSE;
    g_string_append_printf(x, "<clock offset='%s'/>", localtime ? "localtime" : "utc");
    for (guint i = 0; i < G_N_ELEMENTS(events); i++) {
        const char *action;

        if (!get_string(cfg, events[i].key, &action, error))
            return FALSE;
        if (action && sv_domain_lifecycle_action_from_string(action) < 0) {
            unsupported(error, "%s action '%s'", events[i].key, action);
            return FALSE;
        }
        append_elem(x, events[i].key, action ? action : events[i].def);
    }
    return TRUE;
}

/* A disk as xl's parser read it, as domain XML. */
static void
append_disk(GString *x, const libxl_device_disk *disk)
{
    gboolean empty = !disk->pdev_path || !*disk->pdev_path;
    /* xl has no notion of file or block: devices live in /dev, or use the phy backend. */
    gboolean block = !empty && (disk->backend == LIBXL_DISK_BACKEND_PHY ||
                                g_str_has_prefix(disk->pdev_path, "/dev/"));
    const char *driver = disk->backend == LIBXL_DISK_BACKEND_PHY     ? "phy"
                         : disk->backend == LIBXL_DISK_BACKEND_QDISK ? "qemu"
                         : disk->backend == LIBXL_DISK_BACKEND_TAP   ? "tap"
                                                                     : NULL;
    g_autofree char *target = g_markup_escape_text(disk->vdev ? disk->vdev : "", -1);

    g_string_append_printf(x, "<disk type='%s' device='%s'>", block ? "block" : "file",
                           disk->is_cdrom ? "cdrom" : "disk");
    if (driver || disk->format != LIBXL_DISK_FORMAT_EMPTY) {
        g_string_append(x, "<driver");
        if (driver)
            g_string_append_printf(x, " name='%s'", driver);
        if (disk->format != LIBXL_DISK_FORMAT_EMPTY)
            g_string_append_printf(x, " type='%s'",
                                   disk->format == LIBXL_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
        g_string_append(x, "/>");
    }
    if (!empty) {
        g_autofree char *src = g_markup_escape_text(disk->pdev_path, -1);
        g_string_append_printf(x, "<source %s='%s'/>", block ? "dev" : "file", src);
    }
    g_string_append_printf(x, "<target dev='%s'/>", target);
    if (!disk->readwrite && !disk->is_cdrom)
        g_string_append(x, "<readonly/>");
    g_string_append(x, "</disk>");
}

/* One xl disk specification, read by xl's own parser. */
static gboolean
to_disk(const char *spec, GString *x, GError **error)
{
    g_autofree char *report = NULL;
    gsize report_len = 0;
    FILE *f = open_memstream(&report, &report_len);
    XLU_Config *xlu;
    libxl_device_disk disk;
    int rc;
    gboolean ok = FALSE;

    if (!f)
        g_error("%s: open_memstream failed", G_STRLOC);
    xlu = xlu_cfg_init(f, "xl.cfg");
    if (!xlu)
        g_error("%s: out of memory", G_STRLOC);
    libxl_device_disk_init(&disk);
    rc = xlu_disk_parse(xlu, 1, &spec, &disk);
    xlu_cfg_destroy(xlu);
    fclose(f);
    if (rc) {
        unsupported(error, "disk '%s': %s", spec, report_len ? g_strchomp(report) : g_strerror(rc));
    } else if (disk.backend == LIBXL_DISK_BACKEND_STANDALONE || disk.script ||
               disk.direct_io_safe || !libxl_defbool_is_default(disk.discard_enable) ||
               disk.specification != LIBXL_DISK_SPECIFICATION_UNKNOWN ||
               !libxl_defbool_is_default(disk.colo_enable) ||
               !libxl_defbool_is_default(disk.trusted)) {
        unsupported(error, "disk '%s': only format, vdev, access, devtype, backendtype (phy, "
                           "qdisk, tap) and target are read",
                    spec);
    } else if (disk.format != LIBXL_DISK_FORMAT_RAW && disk.format != LIBXL_DISK_FORMAT_QCOW2 &&
               disk.format != LIBXL_DISK_FORMAT_EMPTY) {
        unsupported(error, "disk '%s': format '%s'", spec,
                    libxl_disk_format_to_string(disk.format));
    } else {
        append_disk(x, &disk);
        ok = TRUE;
    }
    libxl_device_disk_dispose(&disk);
    return ok;
}

/* One vif specification: comma-separated key=value pairs (xl.cfg(5), "vif"). */
static gboolean
to_interface(const char *spec, gboolean hvm, GString *x, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);

    g_string_append(x, "<interface type='ethernet'>");
    for (char **p = parts; *p; p++) {
        char *eq = strchr(*p, '=');
        g_autofree char *key = g_strstrip(g_strndup(*p, eq ? (gsize)(eq - *p) : strlen(*p)));
        g_autofree char *val = eq ? g_markup_escape_text(g_strstrip(eq + 1), -1) : NULL;

        if (!*key && !eq)
            continue;
        if (g_str_equal(key, "mac") && val)
            g_string_append_printf(x, "<mac address='%s'/>", val);
        else if (g_str_equal(key, "model") && val)
            g_string_append_printf(x, "<model type='%s'/>", val);
        else if (g_str_equal(key, "vifname") && val)
            g_string_append_printf(x, "<target dev='%s'/>", val);
        else if (g_str_equal(key, "type") && val &&
                 g_str_equal(val, hvm ? "ioemu" : "vif"))
            continue; /* the default for this kind of guest */
        else {
            unsupported(error, "vif '%s': setting '%s'%s", spec, key,
                        g_str_equal(key, "bridge") ? " (bridged interfaces are not supported; "
                                                     "guests get type='ethernet' interfaces)"
                                                   : "");
            return FALSE;
        }
    }
    g_string_append(x, "</interface>");
    return TRUE;
}

static gboolean
to_serials(const XlCfg *cfg, GString *x, GError **error)
{
    g_autoptr(GPtrArray) serials = NULL;

    if (!get_list(cfg, "serial", &serials, error))
        return FALSE;
    for (guint i = 0; i < serials->len; i++) {
        const char *s = serials->pdata[i];

        if (g_str_equal(s, "none"))
            continue;
        if (g_str_equal(s, "pty")) {
            g_string_append(x, "<serial type='pty'/>");
        } else if (g_str_has_prefix(s, "file:") && s[5]) {
            g_autofree char *path = g_markup_escape_text(s + 5, -1);
            g_string_append_printf(x, "<serial type='file'><source path='%s'/></serial>", path);
        } else {
            unsupported(error, "serial device '%s'; pty and file:PATH are read", s);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
to_devices(const XlCfg *cfg, gboolean hvm, GString *x, GError **error)
{
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GPtrArray) vifs = NULL;
    const char *emulator;
    guint64 nographic;

    if (!get_list(cfg, "disk", &disks, error) || !get_list(cfg, "vif", &vifs, error) ||
        !get_string(cfg, "device_model_override", &emulator, error) ||
        !get_number(cfg, "nographic", 0, &nographic, error))
        return FALSE;
    g_string_append(x, "<devices>");
    if (emulator)
        append_elem(x, "emulator", emulator);
    for (guint i = 0; i < disks->len; i++) {
        if (!to_disk(disks->pdata[i], x, error))
            return FALSE;
    }
    for (guint i = 0; i < vifs->len; i++) {
        if (!to_interface(vifs->pdata[i], hvm, x, error))
            return FALSE;
    }
    if (hvm && !to_serials(cfg, x, error))
        return FALSE;
    /* Xen's PV console is always there. */
    if (!hvm)
        g_string_append(x, "<console type='pty'><target type='xen' port='0'/></console>");
    /* A PV guest has no display unless given a vfb, so nographic changes nothing there. */
    if (hvm && nographic)
        g_string_append(x, "<graphics type='none'/>");
    g_string_append(x, "</devices>");
    return TRUE;
}

SvDomainDef *
xen_xl_to_def(const XlCfg *cfg, GError **error)
{
    g_autoptr(GString) x = g_string_new("<domain type='xen'>");
    g_autoptr(SvDomainDef) def = NULL;
    const char *name, *uuid;
    gboolean hvm;

    if (!domain_is_hvm(cfg, &hvm, error) || !check_settings(cfg, hvm, error) ||
        !get_string(cfg, "name", &name, error) || !get_string(cfg, "uuid", &uuid, error))
        return NULL;
    if (name)
        append_elem(x, "name", name);
    /* Without one, the domain parser makes a random UUID, as libvirt does. */
    if (uuid)
        append_elem(x, "uuid", uuid);
    if (!to_memory_vcpus(cfg, x, error) ||
        !(hvm ? to_hvm_os(cfg, x, error) : to_pv_os(cfg, x, error)) ||
        (hvm && !to_features(cfg, x, error)) || !to_lifecycle(cfg, x, error) ||
        !to_devices(cfg, hvm, x, error))
        return NULL;
    g_string_append(x, "</domain>");
    def = sv_domain_def_parse(x->str, SV_DOMAIN_PARSE_INACTIVE, error);
    if (!def || !xen_def_check(def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* ---------------------------------------------------------------- text */

char *
xen_xl_domxml_to_native(const char *xml, GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, error);
    g_autoptr(XlCfg) cfg = NULL;

    if (!def)
        return NULL;
    cfg = xen_xl_from_def(def, error);
    return cfg ? xl_cfg_format(cfg) : NULL;
}

char *
xen_xl_native_to_domxml(const char *native, GError **error)
{
    g_autoptr(XlCfg) cfg = xl_cfg_parse(native, error);
    g_autoptr(SvDomainDef) def = NULL;

    if (!cfg)
        return NULL;
    def = xen_xl_to_def(cfg, error);
    return def ? sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE) : NULL;
}
