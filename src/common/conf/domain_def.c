/* domain_def.c: the domain definition as data: its enums' string tables, and new, free and
 * deep copy. */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"

/* ---- string tables ------------------------------------------------------------------ */

#define ENUM_IMPL SV_DOMAIN_ENUM_IMPL

ENUM_IMPL(virt_type, SV_DOMAIN_VIRT_LAST, "qemu", "kvm", "lxc", "xen")
ENUM_IMPL(lifecycle_action, SV_DOMAIN_LIFECYCLE_LAST, "destroy", "restart", "preserve",
          "rename-restart", "coredump-destroy", "coredump-restart")
ENUM_IMPL(cpu_placement, SV_DOMAIN_CPU_PLACEMENT_LAST, "static", "auto")
ENUM_IMPL(boot_dev, SV_DOMAIN_BOOT_LAST, "fd", "hd", "cdrom", "network")
ENUM_IMPL(loader_type, SV_DOMAIN_LOADER_TYPE_LAST, "none", "rom", "pflash")
ENUM_IMPL(tristate, SV_DOMAIN_TRISTATE_LAST, "absent", "yes", "no")
ENUM_IMPL(cpu_mode, SV_DOMAIN_CPU_MODE_LAST, "custom", "host-model", "host-passthrough",
          "maximum")
ENUM_IMPL(cpu_match, SV_DOMAIN_CPU_MATCH_LAST, "exact", "minimum", "strict")
ENUM_IMPL(cpu_check, SV_DOMAIN_CPU_CHECK_LAST, "default", "none", "partial", "full")
ENUM_IMPL(switch, SV_DOMAIN_SWITCH_LAST, "absent", "on", "off")
ENUM_IMPL(cpu_fallback, SV_DOMAIN_CPU_FALLBACK_LAST, "allow", "forbid")
ENUM_IMPL(clock_offset, SV_DOMAIN_CLOCK_OFFSET_LAST, "utc", "localtime", "variable", "timezone",
          "absolute")
ENUM_IMPL(fs_type, SV_DOMAIN_FS_TYPE_LAST, "mount")
ENUM_IMPL(fs_access_mode, SV_DOMAIN_FS_ACCESS_LAST, "passthrough", "mapped", "squash")
ENUM_IMPL(chr_type, SV_DOMAIN_CHR_TYPE_LAST, "pty", "file", "unix", "tcp", "null", "spicevmc")
ENUM_IMPL(controller_type, SV_DOMAIN_CONTROLLER_LAST, "ide", "fdc", "scsi", "sata",
          "virtio-serial", "ccid", "usb", "pci", "xenbus", "isa")
ENUM_IMPL(idmap_kind, SV_DOMAIN_IDMAP_LAST, "uid", "gid")

/* Features are bits, so their table is indexed by bit number. */
static const char *const feature_names[] = {"acpi", "apic", "pae"};
G_STATIC_ASSERT(1 << G_N_ELEMENTS(feature_names) == SV_DOMAIN_FEATURE_LAST);

const char *
sv_domain_feature_to_string(int v)
{
    for (guint i = 0; i < G_N_ELEMENTS(feature_names); i++) {
        if (v == 1 << i)
            return feature_names[i];
    }
    return NULL;
}

int
sv_domain_feature_from_string(const char *s)
{
    int i = sv_domain_table_index(feature_names, G_N_ELEMENTS(feature_names), s);

    return i < 0 ? -1 : 1 << i;
}

/* ---- construction and destruction ------------------------------------------------------ */

void
sv_domain_fs_def_free(gpointer p)
{
    SvDomainFsDef *f = p;

    if (!f)
        return;
    sv_domain_device_info_clear(&f->info);
    g_free(f->source_dir);
    g_free(f->target_dir);
    g_free(f->binary_path);
    g_free(f->vhost_socket);
    g_free(f);
}

void
sv_domain_chr_def_free(gpointer p)
{
    SvDomainChrDef *c = p;

    if (!c)
        return;
    sv_domain_device_info_clear(&c->info);
    sv_domain_chr_source_clear(&c->source);
    g_free(c->target_type);
    g_free(c->target_model);
    g_free(c->target_name);
    g_free(c->target_state);
    g_free(c);
}


SvDomainDef *
sv_domain_def_new(void)
{
    SvDomainDef *def = g_new0(SvDomainDef, 1);

    def->vcpus = 1;
    def->placement = SV_DOMAIN_CPU_PLACEMENT_STATIC;
    def->os.initargs = g_ptr_array_new_with_free_func(g_free);
    def->cpu_mode = SV_DOMAIN_CPU_MODE_CUSTOM;
    def->cpu_match = SV_DOMAIN_CPU_MATCH_EXACT;
    def->cpu_fallback = SV_DOMAIN_CPU_FALLBACK_ALLOW;
    def->clock_offset = SV_DOMAIN_CLOCK_OFFSET_UTC;
    def->on_poweroff = SV_DOMAIN_LIFECYCLE_DESTROY;
    def->on_reboot = SV_DOMAIN_LIFECYCLE_RESTART;
    def->on_crash = SV_DOMAIN_LIFECYCLE_DESTROY;
    def->disks = g_ptr_array_new_with_free_func(sv_domain_disk_def_free);
    def->filesystems = g_ptr_array_new_with_free_func(sv_domain_fs_def_free);
    def->interfaces = g_ptr_array_new_with_free_func(sv_domain_net_def_free);
    def->serials = g_ptr_array_new_with_free_func(sv_domain_chr_def_free);
    def->consoles = g_ptr_array_new_with_free_func(sv_domain_chr_def_free);
    def->controllers = g_ptr_array_new_with_free_func(sv_domain_controller_def_free);
    def->idmaps = g_ptr_array_new_with_free_func(g_free);

    /* ---- platform ---- */
    def->timers = g_ptr_array_new_with_free_func(g_free);

    /* ---- cpu, vcpus, memory and tuning ---- */
    sv_domain_cpu_def_init(def);

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    def->channels = g_ptr_array_new_with_free_func(sv_domain_chr_def_free);
    def->rngs = g_ptr_array_new_with_free_func(sv_domain_rng_def_free);
    def->panics = g_ptr_array_new_with_free_func(sv_domain_panic_def_free);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    sv_domain_display_lists_new(def);

    /* ---- defaults, addresses and aliases ---- */

    /* ---- usb hubs ---- */
    def->hubs = g_ptr_array_new_with_free_func(sv_domain_hub_def_free);

    /* ---- capabilities: host devices and TPM ---- */
    def->hostdevs = g_ptr_array_new_with_free_func(sv_domain_hostdev_def_free);
    return def;
}

void
sv_domain_def_free(SvDomainDef *def)
{
    SvDomainOsDef *os;

    if (!def)
        return;
    os = &def->os;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata);
    g_free(os->type);
    g_free(os->arch);
    g_free(os->machine);
    g_free(os->loader);
    g_free(os->kernel);
    g_free(os->initrd);
    g_free(os->cmdline);
    g_free(os->init);
    g_clear_pointer(&os->initargs, g_ptr_array_unref);
    g_free(def->cpu_model);
    g_free(def->seclabel_model);
    g_free(def->emulator);
    g_clear_pointer(&def->disks, g_ptr_array_unref);
    g_clear_pointer(&def->filesystems, g_ptr_array_unref);
    g_clear_pointer(&def->interfaces, g_ptr_array_unref);
    g_clear_pointer(&def->serials, g_ptr_array_unref);
    g_clear_pointer(&def->consoles, g_ptr_array_unref);
    g_clear_pointer(&def->controllers, g_ptr_array_unref);
    g_clear_pointer(&def->idmaps, g_ptr_array_unref);

    /* ---- platform ---- */
    g_free(def->clock_timezone);
    g_free(def->hyperv_vendor_id);
    g_clear_pointer(&def->timers, g_ptr_array_unref);
    sv_domain_sysinfo_free(def->sysinfo);
    g_free(def->nvram);
    g_free(def->nvram_template);

    /* ---- cpu, vcpus, memory and tuning ---- */
    sv_domain_cpu_def_clear(def);

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    g_clear_pointer(&def->channels, g_ptr_array_unref);
    g_clear_pointer(&def->rngs, g_ptr_array_unref);
    g_clear_pointer(&def->panics, g_ptr_array_unref);
    g_clear_pointer(&def->memballoon, sv_domain_memballoon_def_free);
    g_clear_pointer(&def->watchdog, sv_domain_watchdog_def_free);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    sv_domain_display_lists_free(def);

    /* ---- defaults, addresses and aliases ---- */

    /* ---- usb hubs ---- */
    g_clear_pointer(&def->hubs, g_ptr_array_unref);

    /* ---- capabilities: host devices and TPM ---- */
    g_clear_pointer(&def->hostdevs, g_ptr_array_unref);
    g_clear_pointer(&def->tpm, sv_domain_tpm_def_free);
    g_free(def);
}

/* ---- copy ---------------------------------------------------------------------------------- */

/* As libvirt copies a definition: format everything it holds (live state included) and parse
 * that back, so a new field is copied as soon as it is formatted and parsed. */
SvDomainDef *
sv_domain_def_copy(const SvDomainDef *def)
{
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    SvDomainDef *copy;

    g_return_val_if_fail(def != NULL, NULL);
    xml = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_SECURE | SV_DOMAIN_FORMAT_STATUS);
    copy = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_STATUS, &error);
    /* format(parse(x)) is a fixed point, so what was formatted parses. */
    if (!copy)
        g_error("a formatted definition does not parse back: %s\n%s", error->message, xml);
    return copy;
}
