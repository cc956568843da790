/* qemu_command_platform.h: the platform parts of a QEMU command line (machine options,
 * clock, timers, power management, the lifecycle checks), as libvirt 9.0 writes them for
 * QEMU 7.2. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"

/* libvirt's QEMU driver checks of the platform parts at define time: lifecycle actions,
 * timers. CONFIG_UNSUPPORTED with libvirt's message. */
gboolean qemu_platform_validate(const SvDomainDef *def, GError **error);

/* After -cpu: -bios for a ROM loader, and the secure pflash -global of a secure boot. */
void qemu_platform_build_loader(const SvDomainDef *def, GPtrArray *argv);

/* The pflash -blockdevs of a pflash loader and its NVRAM, then
 * -machine TYPE,usb=off,...,memory-backend=pc.ram[,pflash0=...,pflash1=...]. */
void qemu_platform_build_machine(const SvDomainDef *def, GPtrArray *argv);

/* From -rtc to -boot: -rtc, the PIT's -global, -no-hpet, -no-shutdown, -no-acpi, the
 * power management -globals, -boot, and a direct kernel boot. */
void qemu_platform_build_clock_pm_boot(const SvDomainDef *def, GPtrArray *argv);

/* After -uuid: the -smbios tables of <sysinfo> with <smbios mode='sysinfo'>, and the
 * vmgenid device of a <genid>. Fails with libvirt's errors for a sysinfo mode without
 * <sysinfo> or with more than one <baseBoard>. */
gboolean qemu_platform_build_smbios_genid(const SvDomainDef *def, GPtrArray *argv,
                                          GError **error);

/* The value of -rtc for `def` at time `now` (the variable offset counts from it).
 * (transfer full) */
char *qemu_platform_rtc_value(const SvDomainDef *def, GDateTime *now);

/* At start, on the live definition: a variable clock counting from local time is turned
 * into one counting from UTC with the host's offset now added, as libvirt does (so a later
 * change of the host's zone or DST does not move the guest's clock). */
void qemu_platform_prepare_live(SvDomainDef *live, GDateTime *now);

/* Append to a -cpu value what libvirt puts there for the platform, in its order: the timers
 * (kvmclock, hv-time), kvm-pv-eoi, kvm-pv-unhalt, the hyperv enlightenments, the <kvm>
 * features (kvm=off, kvm-hint-dedicated, kvm-poll-control, kvm-pv-ipi) and pmu, each after
 * a comma. */
void qemu_platform_cpu_flags(const SvDomainDef *def, GString *cpu);

/* The QMP set-action arguments libvirt 9.0 sends once the monitor is up, or NULL for none:
 * <on_reboot>destroy</on_reboot> makes the guest's reboot a shutdown (reboot=shutdown), which
 * <on_poweroff> then handles. (transfer full) */
JsonObject *qemu_platform_set_action_args(const SvDomainDef *def);

/* The vmcoreinfo device of <vmcoreinfo state='on'/>, after the other devices. */
void qemu_platform_build_vmcoreinfo(const SvDomainDef *def, GPtrArray *argv);

/* The environment QEMU gets beyond the security driver's: TZ for a clock with
 * offset='timezone'. Appends "NAME=value" strings (transfer full) to `env`. */
void qemu_platform_env(const SvDomainDef *def, GPtrArray *env);

/* The bootindex QEMU gets for the device with `info`: its <boot order>, else its place in
 * <os><boot dev=...> when it is the first disk, cdrom or interface, as libvirt gives it;
 * 0 for none. */
guint qemu_platform_boot_index(const SvDomainDef *def, const SvDomainDeviceInfo *info);
