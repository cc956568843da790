/* qemu_command_platform.c: the platform parts of a QEMU command line, as libvirt 9.0 writes
 * them for QEMU 7.2 (qemu_command_platform.h). No value from the XML reaches these options
 * except through enums and numbers, and the machine type, escaped. */
#include "qemu_command_platform.h"

#include "conf/uuid.h"
#include "qemu_argv.h"
#include "util/error.h"

/* ---- checks at define ------------------------------------------------------------------- */

/* libvirt's qemuValidateLifecycleAction. */
static gboolean
validate_lifecycle(const SvDomainDef *def, GError **error)
{
    if (def->on_poweroff == SV_DOMAIN_LIFECYCLE_RENAME_RESTART ||
        def->on_reboot == SV_DOMAIN_LIFECYCLE_RENAME_RESTART ||
        def->on_crash == SV_DOMAIN_LIFECYCLE_RENAME_RESTART) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "qemu driver doesn't support the 'rename-restart' action for "
                     "'on_reboot'/'on_poweroff'/'on_crash'");
        return FALSE;
    }
    if (def->on_poweroff == SV_DOMAIN_LIFECYCLE_PRESERVE ||
        def->on_reboot == SV_DOMAIN_LIFECYCLE_PRESERVE) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "qemu driver doesn't support the 'preserve' action for "
                     "'on_reboot'/'on_poweroff'");
        return FALSE;
    }
    /* Sic: libvirt's text has the unbalanced quote and says 'reboot' for restart. */
    if (def->on_poweroff == SV_DOMAIN_LIFECYCLE_RESTART &&
        def->on_reboot == SV_DOMAIN_LIFECYCLE_DESTROY) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "qemu driver doesn't support 'onReboot' set to 'destroy and "
                     "'onPoweroff' set to 'reboot'");
        return FALSE;
    }
    return TRUE;
}

static gboolean
validate_timer(const SvDomainDef *def, const SvDomainTimerDef *t, GError **error)
{
    const char *name = sv_domain_timer_name_to_string(t->name);

    switch (t->name) {
    case SV_DOMAIN_TIMER_PLATFORM:
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "unsupported timer type (name) '%s'", name);
        return FALSE;
    case SV_DOMAIN_TIMER_ARMVTIMER:
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Configuring the '%s' timer is not supported for virtType=%s arch=%s "
                     "machine=%s guests",
                     name, sv_domain_virt_type_to_string(def->type),
                     def->os.arch ? def->os.arch : "x86_64",
                     def->os.machine ? def->os.machine : "pc");
        return FALSE;
    case SV_DOMAIN_TIMER_RTC:
        if (t->track == SV_DOMAIN_TIMER_TRACK_BOOT) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "unsupported rtc timer track '%s'",
                         sv_domain_timer_track_to_string(t->track));
            return FALSE;
        }
        if (t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_MERGE ||
            t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_DISCARD) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "unsupported rtc timer tickpolicy '%s'",
                         sv_domain_timer_tickpolicy_to_string(t->tickpolicy));
            return FALSE;
        }
        return TRUE;
    case SV_DOMAIN_TIMER_PIT:
        if (t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_MERGE) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "unsupported pit tickpolicy '%s'",
                         sv_domain_timer_tickpolicy_to_string(t->tickpolicy));
            return FALSE;
        }
        return TRUE;
    default:
        return TRUE;
    }
}

static gboolean
has_pflash(const SvDomainDef *def)
{
    return def->os.loader && def->os.loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH;
}

/* libvirt's checks of the firmware: UEFI needs ACPI on x86, secure boot needs q35 and SMM
 * (unless the firmware is picked from the descriptors, which turn SMM on). */
static gboolean
validate_firmware(const SvDomainDef *def, GError **error)
{
    gboolean uefi = def->firmware == SV_DOMAIN_FIRMWARE_EFI ||
                    def->os.loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH;

    if (uefi && !(def->features & SV_DOMAIN_FEATURE_ACPI)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "UEFI requires ACPI on this architecture");
        return FALSE;
    }
    /* A <loader secure='yes'/> asks for it, with or without a path. */
    if (def->loader_secure != SV_DOMAIN_TRISTATE_YES)
        return TRUE;
    if (!qemu_machine_is_q35(def)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Secure boot is supported with q35 machine types only");
        return FALSE;
    }
    if (def->firmware == SV_DOMAIN_FIRMWARE_NONE && def->smm != SV_DOMAIN_SWITCH_ON) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Secure boot requires SMM feature enabled");
        return FALSE;
    }
    return TRUE;
}

void
qemu_platform_build_loader(const SvDomainDef *def, GPtrArray *argv)
{
    if (def->os.loader && def->os.loader_type == SV_DOMAIN_LOADER_TYPE_ROM) {
        qemu_argv_add(argv, "-bios");
        qemu_argv_add(argv, def->os.loader);
    }
    if (has_pflash(def) && def->loader_secure == SV_DOMAIN_TRISTATE_YES) {
        qemu_argv_add(argv, "-global");
        qemu_argv_add(argv, "driver=cfi.pflash01,property=secure,value=on");
    }
}

/* The last second GLib formats, 9999-12-31T23:59:59 UTC. */
#define CLOCK_START_MAX G_GUINT64_CONSTANT(253402300799)

gboolean
qemu_platform_validate(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->timers->len; i++) {
        if (!validate_timer(def, def->timers->pdata[i], error))
            return FALSE;
    }
    if (def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_ABSOLUTE && def->clock_start > CLOCK_START_MAX) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "The maximum 'start' value for <clock offset='absolute'> is %" G_GUINT64_FORMAT,
                     CLOCK_START_MAX);
        return FALSE;
    }
    /* QEMU 7.2 has no sgabios: BIOS output goes to the serial port the guest has. */
    if (def->bios_useserial == SV_DOMAIN_TRISTATE_YES && def->serials->len == 0 &&
        def->consoles->len == 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_XML_ERROR,
                     "need at least one serial port to use BIOS serial output");
        return FALSE;
    }
    return validate_firmware(def, error) && validate_lifecycle(def, error);
}

/* ---- -machine --------------------------------------------------------------------------- */

/* The two -blockdev of one flash chip: its file, then its raw format node, which
 * -machine pflashN= names. */
static void
build_pflash(GPtrArray *argv, int unit, const char *path, gboolean readonly)
{
    g_autofree char *storage = g_strdup_printf("libvirt-pflash%d-storage", unit);
    g_autofree char *format = g_strdup_printf("libvirt-pflash%d-format", unit);
    JsonObject *o = qemu_props_new("file");

    qemu_props_str(o, "filename", path);
    qemu_props_str(o, "node-name", storage);
    qemu_props_bool(o, "auto-read-only", TRUE);
    qemu_props_str(o, "discard", "unmap");
    qemu_argv_add_json(argv, "-blockdev", o);
    o = qemu_props_new(NULL);
    qemu_props_str(o, "node-name", format);
    qemu_props_bool(o, "read-only", readonly);
    qemu_props_str(o, "driver", "raw");
    qemu_props_str(o, "file", storage);
    qemu_argv_add_json(argv, "-blockdev", o);
}

void
qemu_platform_build_machine(const SvDomainDef *def, GPtrArray *argv)
{
    g_autofree char *machine = qemu_argv_escape(def->os.machine ? def->os.machine : "pc");
    g_autoptr(GString) m = g_string_new(machine);

    /* QEMU's own USB controller stays off: libvirt adds the controllers as devices. */
    g_string_append(m, ",usb=off");
    if (def->vmport != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(m, ",vmport=%s", sv_domain_switch_to_string(def->vmport));
    if (def->smm != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(m, ",smm=%s", sv_domain_switch_to_string(def->smm));
    if (def->ioapic == SV_DOMAIN_IOAPIC_KVM)
        g_string_append(m, ",kernel_irqchip=on");
    else if (def->ioapic == SV_DOMAIN_IOAPIC_QEMU)
        g_string_append(m, ",kernel_irqchip=split");
    /* <memory dumpCore='on'> is not parsed yet, so guest memory stays out of core dumps. */
    g_string_append(m, ",dump-guest-core=off");
    /* The guest's RAM is the memory-backend-ram object "pc.ram" the memory code creates,
     * as libvirt does for x86 machines without NUMA cells. */
    g_string_append(m, ",memory-backend=pc.ram");
    if (has_pflash(def)) {
        build_pflash(argv, 0, def->os.loader,
                     def->os.loader_readonly == SV_DOMAIN_TRISTATE_YES);
        g_string_append(m, ",pflash0=libvirt-pflash0-format");
        if (def->nvram) {
            build_pflash(argv, 1, def->nvram, FALSE);
            g_string_append(m, ",pflash1=libvirt-pflash1-format");
        }
    }
    /* BIOS output on the serial port: no display device from the machine. */
    if (def->bios_useserial == SV_DOMAIN_TRISTATE_YES)
        g_string_append(m, ",graphics=off");
    qemu_argv_add(argv, "-machine");
    qemu_argv_add(argv, m->str);
}

/* ---- clock, timers, pm, boot -------------------------------------------------------------- */

static const SvDomainTimerDef *
find_timer(const SvDomainDef *def, SvDomainTimerName name)
{
    const SvDomainTimerDef *found = NULL;

    /* libvirt looks at each in turn, so the last of a name decides. */
    for (guint i = 0; i < def->timers->len; i++) {
        const SvDomainTimerDef *t = def->timers->pdata[i];

        if (t->name == name)
            found = t;
    }
    return found;
}

char *
qemu_platform_rtc_value(const SvDomainDef *def, GDateTime *now)
{
    g_autoptr(GString) v = g_string_new("base=");
    const SvDomainTimerDef *rtc = find_timer(def, SV_DOMAIN_TIMER_RTC);

    switch (def->clock_offset) {
    case SV_DOMAIN_CLOCK_OFFSET_LOCALTIME:
    case SV_DOMAIN_CLOCK_OFFSET_TIMEZONE: /* with TZ in QEMU's environment */
        g_string_append(v, "localtime");
        break;
    case SV_DOMAIN_CLOCK_OFFSET_VARIABLE: {
        gint64 adjustment = def->clock_adjustment;
        g_autoptr(GDateTime) then = NULL;
        g_autofree char *text = NULL;

        /* A localtime basis counts from the host's local time now. */
        if (def->clock_basis == SV_DOMAIN_CLOCK_BASIS_LOCALTIME) {
            g_autoptr(GDateTime) local = g_date_time_to_local(now);

            adjustment += g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND;
        }
        then = g_date_time_add_seconds(now, (gdouble)adjustment);
        text = then ? g_date_time_format(then, "%Y-%m-%dT%H:%M:%S") : NULL;
        g_string_append(v, text ? text : "utc");
        break;
    }
    case SV_DOMAIN_CLOCK_OFFSET_ABSOLUTE: {
        g_autoptr(GDateTime) start = g_date_time_new_from_unix_utc((gint64)def->clock_start);
        g_autofree char *text = start ? g_date_time_format(start, "%Y-%m-%dT%H:%M:%S") : NULL;

        /* qemu_platform_validate() keeps start within what GLib converts. */
        g_string_append(v, text ? text : "utc");
        break;
    }
    default:
        g_string_append(v, "utc");
        break;
    }
    if (rtc && rtc->track == SV_DOMAIN_TIMER_TRACK_GUEST)
        g_string_append(v, ",clock=vm");
    else if (rtc && rtc->track == SV_DOMAIN_TIMER_TRACK_WALL)
        g_string_append(v, ",clock=host");
    else if (rtc && rtc->track == SV_DOMAIN_TIMER_TRACK_REALTIME)
        g_string_append(v, ",clock=rt");
    if (rtc && rtc->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_CATCHUP)
        g_string_append(v, ",driftfix=slew");
    return g_string_free(g_steal_pointer(&v), FALSE);
}

void
qemu_platform_prepare_live(SvDomainDef *live, GDateTime *now)
{
    g_autoptr(GDateTime) local = NULL;

    if (live->clock_offset != SV_DOMAIN_CLOCK_OFFSET_VARIABLE ||
        live->clock_basis != SV_DOMAIN_CLOCK_BASIS_LOCALTIME)
        return;
    local = g_date_time_to_local(now);
    live->clock_adjustment += g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND;
    live->clock_basis = SV_DOMAIN_CLOCK_BASIS_UTC;
}

/* The PIT's lost tick policy and the HPET, in timer order as libvirt writes them. */
static void
build_timers(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->timers->len; i++) {
        const SvDomainTimerDef *t = def->timers->pdata[i];

        if (t->name == SV_DOMAIN_TIMER_PIT) {
            const char *policy = NULL;

            /* libvirt writes delay for a PIT timer without a policy too; catchup is
             * what QEMU's PIT does anyway. */
            if (t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_NONE ||
                t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_DELAY)
                policy = "delay";
            else if (t->tickpolicy == SV_DOMAIN_TIMER_TICKPOLICY_DISCARD)
                policy = "discard";
            if (policy) {
                qemu_argv_add(argv, "-global");
                qemu_argv_addf(argv, "kvm-pit.lost_tick_policy=%s", policy);
            }
        }
        if (t->name == SV_DOMAIN_TIMER_HPET && t->present == SV_DOMAIN_TRISTATE_NO)
            qemu_argv_add(argv, "-no-hpet");
    }
}

/* <pm>: the chipset's ACPI power management device disables S3/S4 (1) or enables (0). */
static void
build_pm(const SvDomainDef *def, GPtrArray *argv)
{
    const char *device = qemu_machine_is_q35(def) ? "ICH9-LPC" : "PIIX4_PM";

    if (def->pm_suspend_to_mem != SV_DOMAIN_TRISTATE_ABSENT) {
        qemu_argv_add(argv, "-global");
        qemu_argv_addf(argv, "%s.disable_s3=%d", device,
                       def->pm_suspend_to_mem == SV_DOMAIN_TRISTATE_NO);
    }
    if (def->pm_suspend_to_disk != SV_DOMAIN_TRISTATE_ABSENT) {
        qemu_argv_add(argv, "-global");
        qemu_argv_addf(argv, "%s.disable_s4=%d", device,
                       def->pm_suspend_to_disk == SV_DOMAIN_TRISTATE_NO);
    }
}

/* A kernel: its path, initrd and command line are whole arguments, which QEMU takes as they
 * are whatever they contain. */
static void
build_kernel(const SvDomainDef *def, GPtrArray *argv)
{
    if (def->os.kernel) {
        qemu_argv_add(argv, "-kernel");
        qemu_argv_add(argv, def->os.kernel);
    }
    if (def->os.initrd) {
        qemu_argv_add(argv, "-initrd");
        qemu_argv_add(argv, def->os.initrd);
    }
    if (def->os.cmdline) {
        qemu_argv_add(argv, "-append");
        qemu_argv_add(argv, def->os.cmdline);
    }
}

/* -boot as libvirt writes it: menu, reboot-timeout, splash-time, strict. (transfer full) */
static char *
boot_value(const SvDomainDef *def)
{
    GString *v = g_string_new(NULL);

    if (def->bootmenu != SV_DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(v, "menu=%s,",
                               def->bootmenu == SV_DOMAIN_TRISTATE_YES ? "on" : "off");
    if (def->bios_reboot_timeout_set)
        g_string_append_printf(v, "reboot-timeout=%d,", def->bios_reboot_timeout);
    if (def->bootmenu == SV_DOMAIN_TRISTATE_YES && def->bootmenu_timeout_set)
        g_string_append_printf(v, "splash-time=%u,", def->bootmenu_timeout);
    g_string_append(v, "strict=on");
    return g_string_free(v, FALSE);
}

void
qemu_platform_build_clock_pm_boot(const SvDomainDef *def, GPtrArray *argv)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();

    qemu_argv_add(argv, "-rtc");
    g_ptr_array_add(argv, qemu_platform_rtc_value(def, now));
    build_timers(def, argv);
    qemu_argv_add(argv, "-no-shutdown");
    if (!(def->features & SV_DOMAIN_FEATURE_ACPI))
        qemu_argv_add(argv, "-no-acpi");
    build_pm(def, argv);
    /* The boot order goes to the devices as bootindex (qemu_platform_boot_index). */
    qemu_argv_add(argv, "-boot");
    g_ptr_array_add(argv, boot_value(def));
    build_kernel(def, argv);
}

/* ---- -smbios, vmgenid ------------------------------------------------------------------ */

/* One -smbios type=N: each entry of the section as key=value, values escaped. */
static void
build_smbios_section(const SvDomainSysinfoSectionDef *s, GPtrArray *argv)
{
    const char *const *keys = sv_domain_sysinfo_keys(s->kind);
    g_autoptr(GString) v = g_string_new(NULL);

    g_string_printf(v, "type=%d", (int)s->kind);
    for (guint k = 0; keys[k]; k++) {
        g_autofree char *value = NULL;

        if (!s->values[k])
            continue;
        value = qemu_argv_escape(s->values[k]);
        g_string_append_printf(v, ",%s=%s", keys[k], value);
    }
    qemu_argv_add(argv, "-smbios");
    qemu_argv_add(argv, v->str);
}

static gboolean
build_smbios(const SvDomainDef *def, GPtrArray *argv, GError **error)
{
    const SvDomainSysinfoDef *si = def->sysinfo;
    guint boards = 0;

    /* emulate (and no <smbios>) leaves QEMU's own tables; host is refused at define. */
    if (def->smbios_mode != SV_DOMAIN_SMBIOS_SYSINFO)
        return TRUE;
    if (!si) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_XML_ERROR, "Domain '%s' sysinfo are not available",
                     def->name);
        return FALSE;
    }
    for (guint i = 0; i < si->sections->len; i++)
        boards += ((SvDomainSysinfoSectionDef *)si->sections->pdata[i])->kind ==
                  SV_DOMAIN_SYSINFO_BASEBOARD;
    if (boards > 1) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "qemu does not support more than one entry to Type 2 in SMBIOS table");
        return FALSE;
    }
    /* Sections are kept in table order: bios (type 0), system (1), baseBoard (2), chassis (3). */
    for (guint i = 0; i < si->sections->len; i++)
        build_smbios_section(si->sections->pdata[i], argv);
    if (si->oem_strings->len) {
        g_autoptr(GString) v = g_string_new("type=11");

        for (guint i = 0; i < si->oem_strings->len; i++) {
            g_autofree char *value = qemu_argv_escape(si->oem_strings->pdata[i]);

            g_string_append_printf(v, ",value=%s", value);
        }
        qemu_argv_add(argv, "-smbios");
        qemu_argv_add(argv, v->str);
    }
    return TRUE;
}

gboolean
qemu_platform_build_smbios_genid(const SvDomainDef *def, GPtrArray *argv, GError **error)
{
    char uuid[37];
    JsonObject *o;

    if (!build_smbios(def, argv, error))
        return FALSE;
    if (!def->genid)
        return TRUE;
    sv_uuid_format(def->genid_uuid, uuid);
    o = qemu_props_new("vmgenid");
    qemu_props_str(o, "guid", uuid);
    qemu_props_str(o, "id", "vmgenid0");
    qemu_argv_add_json(argv, "-device", o);
    return TRUE;
}

/* ---- -cpu ------------------------------------------------------------------------------- */

void
qemu_platform_cpu_flags(const SvDomainDef *def, GString *cpu)
{
    for (guint i = 0; i < def->timers->len; i++) {
        const SvDomainTimerDef *t = def->timers->pdata[i];

        if (t->name == SV_DOMAIN_TIMER_KVMCLOCK && t->present != SV_DOMAIN_TRISTATE_ABSENT)
            g_string_append_printf(cpu, ",kvmclock=%s",
                                   t->present == SV_DOMAIN_TRISTATE_YES ? "on" : "off");
        else if (t->name == SV_DOMAIN_TIMER_HYPERVCLOCK && t->present == SV_DOMAIN_TRISTATE_YES)
            g_string_append(cpu, ",hv-time=on");
    }
    if (def->apic_eoi != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(cpu, ",kvm-pv-eoi=%s", sv_domain_switch_to_string(def->apic_eoi));
    if (def->pvspinlock != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(cpu, ",kvm-pv-unhalt=%s",
                               sv_domain_switch_to_string(def->pvspinlock));
    if (def->hyperv && def->hyperv_mode == SV_DOMAIN_HYPERV_MODE_CUSTOM) {
        for (int i = 0; i < SV_DOMAIN_HYPERV_LAST; i++) {
            if (def->hyperv_features[i] != SV_DOMAIN_SWITCH_ON)
                continue;
            if (i == SV_DOMAIN_HYPERV_SPINLOCKS)
                g_string_append_printf(cpu, ",hv-spinlocks=0x%x", def->hyperv_spinlocks);
            else if (i == SV_DOMAIN_HYPERV_VENDOR_ID) /* no comma: checked at parse */
                g_string_append_printf(cpu, ",hv-vendor-id=%s", def->hyperv_vendor_id);
            else
                g_string_append_printf(cpu, ",hv-%s=on", sv_domain_hyperv_to_string(i));
        }
    }
    if (def->kvm_hidden == SV_DOMAIN_SWITCH_ON)
        g_string_append(cpu, ",kvm=off");
    if (def->kvm_hint_dedicated == SV_DOMAIN_SWITCH_ON)
        g_string_append(cpu, ",kvm-hint-dedicated=on");
    if (def->kvm_poll_control == SV_DOMAIN_SWITCH_ON)
        g_string_append(cpu, ",kvm-poll-control=on");
    if (def->kvm_pv_ipi == SV_DOMAIN_SWITCH_OFF)
        g_string_append(cpu, ",kvm-pv-ipi=off");
    if (def->pmu != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(cpu, ",pmu=%s", sv_domain_switch_to_string(def->pmu));
}

void
qemu_platform_build_vmcoreinfo(const SvDomainDef *def, GPtrArray *argv)
{
    if (def->vmcoreinfo == SV_DOMAIN_SWITCH_ON)
        qemu_argv_add_json(argv, "-device", qemu_props_new("vmcoreinfo"));
}

JsonObject *
qemu_platform_set_action_args(const SvDomainDef *def)
{
    JsonObject *o;

    if (def->on_reboot != SV_DOMAIN_LIFECYCLE_DESTROY)
        return NULL;
    o = json_object_new();
    json_object_set_string_member(o, "reboot", "shutdown");
    return o;
}

void
qemu_platform_env(const SvDomainDef *def, GPtrArray *env)
{
    if (def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_TIMEZONE && def->clock_timezone)
        g_ptr_array_add(env, g_strconcat("TZ=", def->clock_timezone, NULL));
}

/* ---- boot order ------------------------------------------------------------------------- */

/* The 1-based place of `dev` in <os><boot dev=...>, 0 when absent. */
static guint
boot_dev_index(const SvDomainDef *def, SvDomainBootDev dev)
{
    for (guint i = 0; i < def->os.n_boot_devs; i++) {
        if (def->os.boot_devs[i] == dev)
            return i + 1;
    }
    return 0;
}

guint
qemu_platform_boot_index(const SvDomainDef *def, const SvDomainDeviceInfo *info)
{
    /* The boot device of each SvDomainDiskDevice (a lun is a disk), and whether one was
     * seen yet. */
    static const SvDomainBootDev boot_of[SV_DOMAIN_DISK_DEVICE_LAST] = {
        SV_DOMAIN_BOOT_DISK, SV_DOMAIN_BOOT_CDROM, SV_DOMAIN_BOOT_FLOPPY, SV_DOMAIN_BOOT_DISK};
    gboolean seen[SV_DOMAIN_BOOT_LAST] = {FALSE};

    if (info->boot_order)
        return info->boot_order;
    /* libvirt gives the first disk, the first cdrom, the first floppy and the first
     * interface the place of hd, cdrom, fd and network in the boot order. */
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        gboolean first = !seen[boot_of[d->device]];

        seen[boot_of[d->device]] = TRUE;
        if (&d->info == info)
            return first ? boot_dev_index(def, boot_of[d->device]) : 0;
    }
    if (def->interfaces->len > 0 &&
        &((const SvDomainNetDef *)def->interfaces->pdata[0])->info == info)
        return boot_dev_index(def, SV_DOMAIN_BOOT_NET);
    return 0;
}
