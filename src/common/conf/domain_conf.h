/* domain_conf.h: the domain definition: parse, validate and format libvirt domain XML.
 * Implemented in domain_def.c (enums, new, free, copy), domain_xml.c (safe reading),
 * domain_schema.c (the schema check), domain_parse.c and domain_parse_devices.c,
 * domain_validate.c (defaults, checks, names) and domain_format.c. */
#pragma once

#include <glib.h>

#include "conf/domain_device.h"
#include "util/netdev_bandwidth.h"

/*
 * One SvDomainDef is what a <domain> document says, for the qemu, lxc and xen daemons alike.
 * Structs are public because drivers read the fields; build them only through
 * sv_domain_def_parse() or sv_domain_def_copy() so that the invariants noted below hold.
 * Every char * is owned by the struct (g_free), NULL when the XML has no such value.
 *
 * Every enum has a _LAST sentinel and a string table using libvirt's spelling:
 * sv_domain_X_to_string() returns NULL for values out of range, and
 * sv_domain_X_from_string() returns -1 for unknown or NULL strings.
 */

/* <domain type=...>. libvirt knows more types; those are refused as unsupported. */
typedef enum {
    SV_DOMAIN_VIRT_QEMU,
    SV_DOMAIN_VIRT_KVM,
    SV_DOMAIN_VIRT_LXC,
    SV_DOMAIN_VIRT_XEN,
    SV_DOMAIN_VIRT_LAST
} SvDomainVirtType;

/* <on_poweroff>, <on_reboot>, <on_crash>; the coredump ones only for on_crash. */
typedef enum {
    SV_DOMAIN_LIFECYCLE_DESTROY,
    SV_DOMAIN_LIFECYCLE_RESTART,
    SV_DOMAIN_LIFECYCLE_PRESERVE,
    SV_DOMAIN_LIFECYCLE_RENAME_RESTART,
    SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY,
    SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART,
    SV_DOMAIN_LIFECYCLE_LAST
} SvDomainLifecycleAction;

/* <vcpu placement=...>; libvirt always formats it, defaulting to static. */
typedef enum {
    SV_DOMAIN_CPU_PLACEMENT_STATIC,
    SV_DOMAIN_CPU_PLACEMENT_AUTO,
    SV_DOMAIN_CPU_PLACEMENT_LAST
} SvDomainCpuPlacement;

/* <os><boot dev=...>. */
typedef enum {
    SV_DOMAIN_BOOT_FLOPPY,
    SV_DOMAIN_BOOT_DISK,
    SV_DOMAIN_BOOT_CDROM,
    SV_DOMAIN_BOOT_NET,
    SV_DOMAIN_BOOT_LAST
} SvDomainBootDev;

/* <os><loader type=...>; NONE only when there is no loader (libvirt defaults to rom). */
typedef enum {
    SV_DOMAIN_LOADER_TYPE_NONE,
    SV_DOMAIN_LOADER_TYPE_ROM,
    SV_DOMAIN_LOADER_TYPE_PFLASH,
    SV_DOMAIN_LOADER_TYPE_LAST
} SvDomainLoaderType;

/* An optional yes/no attribute ("absent" is never valid in XML). */
typedef enum {
    SV_DOMAIN_TRISTATE_ABSENT,
    SV_DOMAIN_TRISTATE_YES,
    SV_DOMAIN_TRISTATE_NO,
    SV_DOMAIN_TRISTATE_LAST
} SvDomainTristate;

/* <features> children, as bits of SvDomainDef.features. The string table maps one bit
 * to its element name; from_string returns the bit. */
typedef enum {
    SV_DOMAIN_FEATURE_ACPI = 1 << 0,
    SV_DOMAIN_FEATURE_APIC = 1 << 1,
    SV_DOMAIN_FEATURE_PAE = 1 << 2,
    SV_DOMAIN_FEATURE_LAST = 1 << 3
} SvDomainFeature;

/* <cpu mode=...>. A def without <cpu> has CUSTOM and no model, which formats as nothing. */
typedef enum {
    SV_DOMAIN_CPU_MODE_CUSTOM,
    SV_DOMAIN_CPU_MODE_HOST_MODEL,
    SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
    SV_DOMAIN_CPU_MODE_MAXIMUM,
    SV_DOMAIN_CPU_MODE_LAST
} SvDomainCpuMode;

/* <cpu match=...>, meaningful for mode custom with a model (default exact). */
typedef enum {
    SV_DOMAIN_CPU_MATCH_EXACT,
    SV_DOMAIN_CPU_MATCH_MINIMUM,
    SV_DOMAIN_CPU_MATCH_STRICT,
    SV_DOMAIN_CPU_MATCH_LAST
} SvDomainCpuMatch;

/* <cpu check=...>; DEFAULT is not formatted. */
typedef enum {
    SV_DOMAIN_CPU_CHECK_DEFAULT,
    SV_DOMAIN_CPU_CHECK_NONE,
    SV_DOMAIN_CPU_CHECK_PARTIAL,
    SV_DOMAIN_CPU_CHECK_FULL,
    SV_DOMAIN_CPU_CHECK_LAST
} SvDomainCpuCheck;

/* An optional on/off attribute ("absent" is never valid in XML). */
typedef enum {
    SV_DOMAIN_SWITCH_ABSENT,
    SV_DOMAIN_SWITCH_ON,
    SV_DOMAIN_SWITCH_OFF,
    SV_DOMAIN_SWITCH_LAST
} SvDomainSwitch;

/* <cpu><model fallback=...> (default allow). */
typedef enum {
    SV_DOMAIN_CPU_FALLBACK_ALLOW,
    SV_DOMAIN_CPU_FALLBACK_FORBID,
    SV_DOMAIN_CPU_FALLBACK_LAST
} SvDomainCpuFallback;

/* <clock offset=...> (default utc). */
typedef enum {
    SV_DOMAIN_CLOCK_OFFSET_UTC,
    SV_DOMAIN_CLOCK_OFFSET_LOCALTIME,
    SV_DOMAIN_CLOCK_OFFSET_VARIABLE,
    SV_DOMAIN_CLOCK_OFFSET_TIMEZONE,
    SV_DOMAIN_CLOCK_OFFSET_ABSOLUTE,
    SV_DOMAIN_CLOCK_OFFSET_LAST
} SvDomainClockOffset;

/* <filesystem type=...> (default mount). */
typedef enum {
    SV_DOMAIN_FS_TYPE_MOUNT,
    SV_DOMAIN_FS_TYPE_LAST
} SvDomainFsType;

/* <filesystem accessmode=...> (default passthrough, always formatted). */
typedef enum {
    SV_DOMAIN_FS_ACCESS_PASSTHROUGH,
    SV_DOMAIN_FS_ACCESS_MAPPED,
    SV_DOMAIN_FS_ACCESS_SQUASH,
    SV_DOMAIN_FS_ACCESS_LAST
} SvDomainFsAccessMode;

/* <serial type=...>, <console type=...> and <channel type=...> (default pty). */
typedef enum {
    SV_DOMAIN_CHR_TYPE_PTY,
    SV_DOMAIN_CHR_TYPE_FILE,
    SV_DOMAIN_CHR_TYPE_UNIX,
    SV_DOMAIN_CHR_TYPE_TCP,
    SV_DOMAIN_CHR_TYPE_NULL,
    SV_DOMAIN_CHR_TYPE_SPICEVMC,
    SV_DOMAIN_CHR_TYPE_LAST
} SvDomainChrType;

/* <controller type=...> (default ide, as libvirt). */
typedef enum {
    SV_DOMAIN_CONTROLLER_IDE,
    SV_DOMAIN_CONTROLLER_FDC,
    SV_DOMAIN_CONTROLLER_SCSI,
    SV_DOMAIN_CONTROLLER_SATA,
    SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL,
    SV_DOMAIN_CONTROLLER_CCID,
    SV_DOMAIN_CONTROLLER_USB,
    SV_DOMAIN_CONTROLLER_PCI,
    SV_DOMAIN_CONTROLLER_XENBUS,
    SV_DOMAIN_CONTROLLER_ISA,
    SV_DOMAIN_CONTROLLER_LAST
} SvDomainControllerType;

/* <idmap><uid> or <gid>. */
typedef enum {
    SV_DOMAIN_IDMAP_UID,
    SV_DOMAIN_IDMAP_GID,
    SV_DOMAIN_IDMAP_LAST
} SvDomainIdMapKind;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainFsType type;
    SvDomainFsAccessMode accessmode;
    char *source_dir; /* never NULL */
    char *target_dir; /* never NULL */
    gboolean readonly;
    int driver;          /* SvDomainFsDriver (declared with the character devices) */
    guint64 queue;       /* virtiofs <driver queue=>, 0 = unset */
    char *binary_path;   /* virtiofs <binary path=> */
    int xattr;           /* SvDomainSwitch: virtiofs <binary xattr=> */
    int cache;           /* SvDomainFsCacheMode: virtiofs <binary><cache mode=> */
    int lock_posix;      /* SvDomainSwitch: virtiofs <binary><lock posix=> */
    int lock_flock;      /* SvDomainSwitch: virtiofs <binary><lock flock=> */
    /* 9p (driver path, handle or none): */
    int model;           /* SvDomainFsModel: <filesystem model=> */
    int multidevs;       /* SvDomainFsMultidevs: <filesystem multidevs=> */
    guint fmode;         /* <filesystem fmode=> (octal, at most 0777), 0 = unset */
    guint dmode;         /* <filesystem dmode=>, likewise */
    int wrpolicy;        /* SvDomainFsWrpolicy: <driver wrpolicy=> */
    /* Live only, never in XML (as libvirt's): the vhost-user socket virtiofsd listens on
     * and QEMU connects to, set at start (qemu_virtiofs.c). */
    char *vhost_socket;
} SvDomainFsDef;

/* <source mode=...> of unix and tcp character devices (default connect). */
typedef enum {
    SV_DOMAIN_CHR_MODE_CONNECT,
    SV_DOMAIN_CHR_MODE_BIND,
    SV_DOMAIN_CHR_MODE_LAST
} SvDomainChrMode;

/* <protocol type=...> of tcp character devices (default raw, always formatted). */
typedef enum {
    SV_DOMAIN_CHR_TCP_RAW,
    SV_DOMAIN_CHR_TCP_TELNET,
    SV_DOMAIN_CHR_TCP_LAST
} SvDomainChrTcpProtocol;

/* What a character device connects to on the host: <source>, <protocol> and <log>. */
typedef struct {
    SvDomainChrType type;
    char *path; /* file, unix: the path (unix may lack one for an automatic channel path);
                 * pty: the allocated pty (live state) or NULL */
    SvDomainSwitch append; /* file: <source append=> (absent: truncated at start) */
    SvDomainChrMode mode;  /* unix and tcp */
    char *host;           /* tcp: never NULL */
    char *service;        /* tcp: never NULL */
    SvDomainChrTcpProtocol protocol;
    char *log_file;          /* <log file=> or NULL */
    SvDomainSwitch log_append;
} SvDomainChrSource;

/* A <serial>, a <console> or a <channel>. */
typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainChrSource source;
    char *target_type;  /* validated against libvirt's list for the device kind */
    guint target_port;  /* serials without a port get the next free one, consoles 0 */
    char *target_model; /* serials: <target><model name=> (isa-serial...) */
    char *target_name;  /* channels: <target type='virtio' name=> */
    char *target_state; /* channels: live state (connected, disconnected) or NULL */
} SvDomainChrDef;

typedef struct {
    SvDomainIdMapKind kind;
    guint start;
    guint target;
    guint count;
} SvDomainIdMapDef;

typedef struct {
    char *type; /* hvm, linux (libvirt's name for xen PV, "xen" is stored as linux on xen
                 * domains, as libvirt does) or exe; never NULL */
    char *arch;
    char *machine;
    char *loader;
    SvDomainLoaderType loader_type; /* ROM when a loader is given without type */
    SvDomainTristate loader_readonly;
    char *kernel;
    char *initrd;
    char *cmdline;
    /* At most SV_DOMAIN_BOOT_LAST entries, later ones are ignored as by libvirt; hvm
     * guests without <boot> get one SV_DOMAIN_BOOT_DISK. */
    SvDomainBootDev boot_devs[SV_DOMAIN_BOOT_LAST];
    guint n_boot_devs;
    char *init;
    GPtrArray *initargs; /* of char *, never NULL, maybe empty */
} SvDomainOsDef;

/* ---- platform: features, clock, timers, pm (domain_platform.c) ---- */

/* <features><ioapic driver=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_IOAPIC_NONE,
    SV_DOMAIN_IOAPIC_QEMU,
    SV_DOMAIN_IOAPIC_KVM,
    SV_DOMAIN_IOAPIC_LAST
} SvDomainIoapic;

/* <features><hyperv mode=...> (libvirt formats custom when absent). */
typedef enum {
    SV_DOMAIN_HYPERV_MODE_CUSTOM,
    SV_DOMAIN_HYPERV_MODE_PASSTHROUGH,
    SV_DOMAIN_HYPERV_MODE_LAST
} SvDomainHypervMode;

/* The <hyperv> enlightenments splitvirt implements, in libvirt's order (the others are
 * refused as unsupported). */
typedef enum {
    SV_DOMAIN_HYPERV_RELAXED,
    SV_DOMAIN_HYPERV_VAPIC,
    SV_DOMAIN_HYPERV_SPINLOCKS,
    SV_DOMAIN_HYPERV_VPINDEX,
    SV_DOMAIN_HYPERV_SYNIC,
    SV_DOMAIN_HYPERV_STIMER,
    SV_DOMAIN_HYPERV_VENDOR_ID, /* with a value (hyperv_vendor_id) */
    SV_DOMAIN_HYPERV_FREQUENCIES,
    SV_DOMAIN_HYPERV_LAST
} SvDomainHyperv;

/* <clock offset='variable' basis=...> (default utc). */
typedef enum {
    SV_DOMAIN_CLOCK_BASIS_UTC,
    SV_DOMAIN_CLOCK_BASIS_LOCALTIME,
    SV_DOMAIN_CLOCK_BASIS_LAST
} SvDomainClockBasis;

/* <timer name=...>, in libvirt's order; platform and armvtimer are refused. */
typedef enum {
    SV_DOMAIN_TIMER_PLATFORM,
    SV_DOMAIN_TIMER_PIT,
    SV_DOMAIN_TIMER_RTC,
    SV_DOMAIN_TIMER_HPET,
    SV_DOMAIN_TIMER_TSC,
    SV_DOMAIN_TIMER_KVMCLOCK,
    SV_DOMAIN_TIMER_HYPERVCLOCK,
    SV_DOMAIN_TIMER_ARMVTIMER,
    SV_DOMAIN_TIMER_LAST
} SvDomainTimerName;

/* <timer tickpolicy=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_TIMER_TICKPOLICY_NONE,
    SV_DOMAIN_TIMER_TICKPOLICY_DELAY,
    SV_DOMAIN_TIMER_TICKPOLICY_CATCHUP,
    SV_DOMAIN_TIMER_TICKPOLICY_MERGE,
    SV_DOMAIN_TIMER_TICKPOLICY_DISCARD,
    SV_DOMAIN_TIMER_TICKPOLICY_LAST
} SvDomainTimerTickpolicy;

/* <timer track=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_TIMER_TRACK_NONE,
    SV_DOMAIN_TIMER_TRACK_BOOT,
    SV_DOMAIN_TIMER_TRACK_GUEST,
    SV_DOMAIN_TIMER_TRACK_WALL,
    SV_DOMAIN_TIMER_TRACK_REALTIME,
    SV_DOMAIN_TIMER_TRACK_LAST
} SvDomainTimerTrack;

typedef struct {
    SvDomainTimerName name;
    SvDomainTristate present;
    SvDomainTimerTickpolicy tickpolicy;
    SvDomainTimerTrack track; /* rtc only */
} SvDomainTimerDef;

/* <os><smbios mode=...>; NONE when absent. host is refused (splitvirt does not read the
 * host's SMBIOS tables). */
typedef enum {
    SV_DOMAIN_SMBIOS_NONE,
    SV_DOMAIN_SMBIOS_EMULATE,
    SV_DOMAIN_SMBIOS_HOST,
    SV_DOMAIN_SMBIOS_SYSINFO,
    SV_DOMAIN_SMBIOS_LAST
} SvDomainSmbiosMode;

/* <os firmware=...>: the firmware the driver picks at start from QEMU's descriptors. */
typedef enum {
    SV_DOMAIN_FIRMWARE_NONE,
    SV_DOMAIN_FIRMWARE_BIOS,
    SV_DOMAIN_FIRMWARE_EFI,
    SV_DOMAIN_FIRMWARE_LAST
} SvDomainFirmware;

/* The sections of <sysinfo type='smbios'>, in libvirt's order. */
typedef enum {
    SV_DOMAIN_SYSINFO_BIOS,
    SV_DOMAIN_SYSINFO_SYSTEM,
    SV_DOMAIN_SYSINFO_BASEBOARD,
    SV_DOMAIN_SYSINFO_CHASSIS,
    SV_DOMAIN_SYSINFO_LAST
} SvDomainSysinfoSection;

#define SV_DOMAIN_SYSINFO_MAX_KEYS 7

/* One <bios>, <system>, <baseBoard> or <chassis>: values[i] is the entry named
 * sv_domain_sysinfo_keys(kind)[i], NULL when absent. Sections without entries are dropped,
 * as libvirt drops them. */
typedef struct {
    SvDomainSysinfoSection kind;
    char *values[SV_DOMAIN_SYSINFO_MAX_KEYS];
} SvDomainSysinfoSectionDef;

typedef struct {
    GPtrArray *sections;    /* of SvDomainSysinfoSectionDef, in libvirt's order, never NULL */
    GPtrArray *oem_strings; /* of char *, never NULL */
} SvDomainSysinfoDef;

/* The entry names of a section, NULL-terminated, in libvirt's order (the system uuid is
 * kept in its canonical form). (transfer none) */
const char *const *sv_domain_sysinfo_keys(SvDomainSysinfoSection kind);
const char *sv_domain_sysinfo_section_to_string(int v);
int sv_domain_sysinfo_section_from_string(const char *s);
const char *sv_domain_firmware_to_string(int v);
int sv_domain_firmware_from_string(const char *s);
const char *sv_domain_smbios_mode_to_string(int v);
int sv_domain_smbios_mode_from_string(const char *s);
const char *sv_domain_ioapic_to_string(int v);
int sv_domain_ioapic_from_string(const char *s);
const char *sv_domain_hyperv_mode_to_string(int v);
int sv_domain_hyperv_mode_from_string(const char *s);
const char *sv_domain_hyperv_to_string(int v);
int sv_domain_hyperv_from_string(const char *s);
const char *sv_domain_clock_basis_to_string(int v);
int sv_domain_clock_basis_from_string(const char *s);
const char *sv_domain_timer_name_to_string(int v);
int sv_domain_timer_name_from_string(const char *s);
const char *sv_domain_timer_tickpolicy_to_string(int v);
int sv_domain_timer_tickpolicy_from_string(const char *s);
const char *sv_domain_timer_track_to_string(int v);
int sv_domain_timer_track_from_string(const char *s);
/* ---- cpu, vcpus, memory and tuning (domain_cpu.c) ---- */

/* <cpu><feature policy=...> (default require). */
typedef enum {
    SV_DOMAIN_CPU_FEATURE_FORCE,
    SV_DOMAIN_CPU_FEATURE_REQUIRE,
    SV_DOMAIN_CPU_FEATURE_OPTIONAL,
    SV_DOMAIN_CPU_FEATURE_DISABLE,
    SV_DOMAIN_CPU_FEATURE_FORBID,
    SV_DOMAIN_CPU_FEATURE_LAST
} SvDomainCpuFeaturePolicy;

/* <memoryBacking><source type=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_MEMORY_SOURCE_NONE,
    SV_DOMAIN_MEMORY_SOURCE_FILE,
    SV_DOMAIN_MEMORY_SOURCE_ANONYMOUS,
    SV_DOMAIN_MEMORY_SOURCE_MEMFD,
    SV_DOMAIN_MEMORY_SOURCE_LAST
} SvDomainMemorySource;

/* <memoryBacking><access mode=...>; DEFAULT when absent. */
typedef enum {
    SV_DOMAIN_MEMORY_ACCESS_DEFAULT,
    SV_DOMAIN_MEMORY_ACCESS_SHARED,
    SV_DOMAIN_MEMORY_ACCESS_PRIVATE,
    SV_DOMAIN_MEMORY_ACCESS_LAST
} SvDomainMemoryAccess;

/* <memoryBacking><allocation mode=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_MEMORY_ALLOCATION_NONE,
    SV_DOMAIN_MEMORY_ALLOCATION_IMMEDIATE,
    SV_DOMAIN_MEMORY_ALLOCATION_ONDEMAND,
    SV_DOMAIN_MEMORY_ALLOCATION_LAST
} SvDomainMemoryAllocation;

typedef struct {
    char *name; /* never NULL, unique within the <cpu> */
    SvDomainCpuFeaturePolicy policy;
} SvDomainCpuFeatureDef;

/* Free a SvDomainCpuFeatureDef (a GPtrArray's free function). */
void sv_domain_cpu_feature_free(gpointer feature);

typedef struct {
    guint vcpu;   /* < the vcpu count (libvirt drops pins of missing vcpus) */
    char *cpuset; /* canonical host CPU list, never NULL */
} SvDomainVcpuPinDef;

typedef struct {
    char *path;   /* never NULL, unique */
    guint weight; /* 0: none; a device with no value at all is not formatted, as libvirt */
    guint read_iops;        /* <read_iops_sec>, 0: none */
    guint write_iops;       /* <write_iops_sec> */
    guint64 read_bytes;     /* <read_bytes_sec> */
    guint64 write_bytes;    /* <write_bytes_sec> */
} SvDomainBlkioDeviceDef;

/* <cputune>: 0 for an absent period/quota, as libvirt. */
typedef struct {
    gboolean shares_specified;
    guint64 shares;
    guint64 period;
    gint64 quota;
    guint64 emulator_period;
    gint64 emulator_quota;
    guint64 global_period;
    gint64 global_quota;
    guint64 iothread_period;
    gint64 iothread_quota;
    GPtrArray *vcpupins; /* of SvDomainVcpuPinDef, by vcpu; never NULL */
    char *emulatorpin;   /* canonical host CPU list or NULL */
} SvDomainCputuneDef;

/* <memtune>, in KiB; SV_DOMAIN_MEMORY_UNLIMITED (or more) for none, as libvirt. */
#define SV_DOMAIN_MEMORY_UNLIMITED G_GUINT64_CONSTANT(9007199254740991)
typedef struct {
    guint64 hard_limit;
    guint64 soft_limit;
    guint64 min_guarantee; /* 0: none */
    guint64 swap_hard_limit;
} SvDomainMemtuneDef;

typedef struct {
    SvDomainMemorySource source;
    SvDomainMemoryAccess access;
    SvDomainMemoryAllocation allocation;
    guint allocation_threads; /* 0: none */
    gboolean locked;
} SvDomainMemoryBackingDef;

const char *sv_domain_cpu_feature_policy_to_string(int v);
int sv_domain_cpu_feature_policy_from_string(const char *s);
const char *sv_domain_memory_source_to_string(int v);
int sv_domain_memory_source_from_string(const char *s);
const char *sv_domain_memory_access_to_string(int v);
int sv_domain_memory_access_from_string(const char *s);
const char *sv_domain_memory_allocation_to_string(int v);
int sv_domain_memory_allocation_from_string(const char *s);
/* ---- disks and controllers (domain_disk.c) ---- */

/* <disk type=...> (default file). A volume disk names a storage pool's volume, which the
 * driver resolves to a file or block device when the guest starts or the disk is
 * attached (SvDomainDiskDef.vol_*). */
typedef enum {
    SV_DOMAIN_DISK_TYPE_FILE,
    SV_DOMAIN_DISK_TYPE_BLOCK,
    SV_DOMAIN_DISK_TYPE_NETWORK,
    SV_DOMAIN_DISK_TYPE_VOLUME,
    SV_DOMAIN_DISK_TYPE_LAST
} SvDomainDiskType;

/* <disk type='volume'><source mode=...> (iSCSI pools only); DEFAULT when absent. */
typedef enum {
    SV_DOMAIN_DISK_VOL_MODE_DEFAULT,
    SV_DOMAIN_DISK_VOL_MODE_HOST,
    SV_DOMAIN_DISK_VOL_MODE_DIRECT,
    SV_DOMAIN_DISK_VOL_MODE_LAST
} SvDomainDiskVolMode;

/* <disk type='network'><source protocol=...>: libvirt's protocols; sheepdog, tftp and
 * vxhs, which QEMU 7.2 lacks, are refused. */
typedef enum {
    SV_DOMAIN_DISK_PROTOCOL_NBD,
    SV_DOMAIN_DISK_PROTOCOL_RBD,
    SV_DOMAIN_DISK_PROTOCOL_SHEEPDOG,
    SV_DOMAIN_DISK_PROTOCOL_GLUSTER,
    SV_DOMAIN_DISK_PROTOCOL_ISCSI,
    SV_DOMAIN_DISK_PROTOCOL_HTTP,
    SV_DOMAIN_DISK_PROTOCOL_HTTPS,
    SV_DOMAIN_DISK_PROTOCOL_FTP,
    SV_DOMAIN_DISK_PROTOCOL_FTPS,
    SV_DOMAIN_DISK_PROTOCOL_TFTP,
    SV_DOMAIN_DISK_PROTOCOL_SSH,
    SV_DOMAIN_DISK_PROTOCOL_VXHS,
    SV_DOMAIN_DISK_PROTOCOL_NFS,
    SV_DOMAIN_DISK_PROTOCOL_LAST
} SvDomainDiskProtocol;

/* <host transport=...> (default tcp); rdma is refused. */
typedef enum {
    SV_DOMAIN_DISK_TRANSPORT_TCP,
    SV_DOMAIN_DISK_TRANSPORT_UNIX,
    SV_DOMAIN_DISK_TRANSPORT_RDMA,
    SV_DOMAIN_DISK_TRANSPORT_LAST
} SvDomainDiskTransport;

/* One <host> of a network disk's <source>. */
typedef struct {
    SvDomainDiskTransport transport;
    char *name;   /* tcp: never NULL */
    guint port;   /* tcp: 0 = none (libvirt fills in the protocol's default where it has one) */
    char *socket; /* unix: never NULL */
} SvDomainDiskHostDef;

/* <disk device=...> (default disk). */
typedef enum {
    SV_DOMAIN_DISK_DEVICE_DISK,
    SV_DOMAIN_DISK_DEVICE_CDROM,
    SV_DOMAIN_DISK_DEVICE_FLOPPY, /* removable media on the fdc bus (QEMU's isa-fdc) */
    SV_DOMAIN_DISK_DEVICE_LUN,    /* a host SCSI block device passed through (scsi-block) */
    SV_DOMAIN_DISK_DEVICE_LAST
} SvDomainDiskDevice;

/* <disk><driver type=...> and <backingStore><format type=...>; NONE when absent. The
 * formats QEMU opens with a block driver of the same name, without further options. */
typedef enum {
    SV_DOMAIN_DISK_FORMAT_NONE,
    SV_DOMAIN_DISK_FORMAT_RAW,
    SV_DOMAIN_DISK_FORMAT_QCOW2,
    SV_DOMAIN_DISK_FORMAT_QCOW,
    SV_DOMAIN_DISK_FORMAT_QED,
    SV_DOMAIN_DISK_FORMAT_VMDK,
    SV_DOMAIN_DISK_FORMAT_VPC,
    SV_DOMAIN_DISK_FORMAT_VDI,
    SV_DOMAIN_DISK_FORMAT_BOCHS,
    SV_DOMAIN_DISK_FORMAT_CLOOP,
    SV_DOMAIN_DISK_FORMAT_DMG,
    SV_DOMAIN_DISK_FORMAT_LAST
} SvDomainDiskFormat;

/* <disk><target bus=...>; when absent, derived from the target name as libvirt does. */
typedef enum {
    SV_DOMAIN_DISK_BUS_IDE,
    SV_DOMAIN_DISK_BUS_FDC,
    SV_DOMAIN_DISK_BUS_SCSI,
    SV_DOMAIN_DISK_BUS_VIRTIO,
    SV_DOMAIN_DISK_BUS_XEN,
    SV_DOMAIN_DISK_BUS_USB,
    SV_DOMAIN_DISK_BUS_UML,
    SV_DOMAIN_DISK_BUS_SATA,
    SV_DOMAIN_DISK_BUS_SD,
    SV_DOMAIN_DISK_BUS_LAST
} SvDomainDiskBus;

/* <driver cache=...>; DEFAULT when absent (not formatted). */
typedef enum {
    SV_DOMAIN_DISK_CACHE_DEFAULT,
    SV_DOMAIN_DISK_CACHE_NONE,
    SV_DOMAIN_DISK_CACHE_WRITETHROUGH,
    SV_DOMAIN_DISK_CACHE_WRITEBACK,
    SV_DOMAIN_DISK_CACHE_DIRECTSYNC,
    SV_DOMAIN_DISK_CACHE_UNSAFE,
    SV_DOMAIN_DISK_CACHE_LAST
} SvDomainDiskCache;

/* <disk model=...>, for virtio disks (DEFAULT: not written). */
typedef enum {
    SV_DOMAIN_DISK_MODEL_DEFAULT,
    SV_DOMAIN_DISK_MODEL_VIRTIO,
    SV_DOMAIN_DISK_MODEL_VIRTIO_TRANSITIONAL,
    SV_DOMAIN_DISK_MODEL_VIRTIO_NON_TRANSITIONAL,
    SV_DOMAIN_DISK_MODEL_LAST
} SvDomainDiskModel;

/* <driver error_policy=...> and rerror_policy= (which takes no enospace). */
typedef enum {
    SV_DOMAIN_DISK_ERROR_POLICY_DEFAULT,
    SV_DOMAIN_DISK_ERROR_POLICY_STOP,
    SV_DOMAIN_DISK_ERROR_POLICY_REPORT,
    SV_DOMAIN_DISK_ERROR_POLICY_IGNORE,
    SV_DOMAIN_DISK_ERROR_POLICY_ENOSPACE,
    SV_DOMAIN_DISK_ERROR_POLICY_LAST
} SvDomainDiskErrorPolicy;

/* <driver io=...>. */
typedef enum {
    SV_DOMAIN_DISK_IO_DEFAULT,
    SV_DOMAIN_DISK_IO_NATIVE,
    SV_DOMAIN_DISK_IO_THREADS,
    SV_DOMAIN_DISK_IO_URING,
    SV_DOMAIN_DISK_IO_LAST
} SvDomainDiskIo;

/* <driver discard=...>. */
typedef enum {
    SV_DOMAIN_DISK_DISCARD_DEFAULT,
    SV_DOMAIN_DISK_DISCARD_UNMAP,
    SV_DOMAIN_DISK_DISCARD_IGNORE,
    SV_DOMAIN_DISK_DISCARD_LAST
} SvDomainDiskDiscard;

/* <driver detect_zeroes=...>. */
typedef enum {
    SV_DOMAIN_DISK_DETECT_ZEROES_DEFAULT,
    SV_DOMAIN_DISK_DETECT_ZEROES_OFF,
    SV_DOMAIN_DISK_DETECT_ZEROES_ON,
    SV_DOMAIN_DISK_DETECT_ZEROES_UNMAP,
    SV_DOMAIN_DISK_DETECT_ZEROES_LAST
} SvDomainDiskDetectZeroes;

/* <source startupPolicy=...>. */
typedef enum {
    SV_DOMAIN_STARTUP_POLICY_DEFAULT,
    SV_DOMAIN_STARTUP_POLICY_MANDATORY,
    SV_DOMAIN_STARTUP_POLICY_REQUISITE,
    SV_DOMAIN_STARTUP_POLICY_OPTIONAL,
    SV_DOMAIN_STARTUP_POLICY_LAST
} SvDomainStartupPolicy;

/* The <iotune> values, in libvirt's element order; the string table gives element names. */
typedef enum {
    SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC,
    SV_DOMAIN_IOTUNE_READ_BYTES_SEC,
    SV_DOMAIN_IOTUNE_WRITE_BYTES_SEC,
    SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC,
    SV_DOMAIN_IOTUNE_READ_IOPS_SEC,
    SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC,
    SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX,
    SV_DOMAIN_IOTUNE_READ_BYTES_SEC_MAX,
    SV_DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX,
    SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX,
    SV_DOMAIN_IOTUNE_READ_IOPS_SEC_MAX,
    SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX,
    SV_DOMAIN_IOTUNE_SIZE_IOPS_SEC,
    SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_READ_BYTES_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_READ_IOPS_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH,
    SV_DOMAIN_IOTUNE_LAST
} SvDomainIotune;

/* One image of a disk's <backingStore> chain, top down. */
typedef struct {
    SvDomainDiskType type;
    SvDomainDiskFormat format;
    char *path;  /* file or block device, never NULL */
    guint index; /* live state: the image's node index in QEMU, 0 = none */
} SvDomainDiskBackingDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainDiskType type;
    SvDomainDiskDevice device;
    SvDomainDiskModel model;   /* virtio bus only */
    char *driver_name;         /* <driver name=>, "qemu" when the QEMU driver defines it */
    SvDomainDiskFormat format; /* <driver type=> */
    SvDomainDiskCache cache;
    SvDomainDiskErrorPolicy error_policy;
    SvDomainDiskErrorPolicy rerror_policy;
    SvDomainDiskIo io;
    SvDomainDiskDiscard discard;
    SvDomainDiskDetectZeroes detect_zeroes;
    guint iothread;  /* <driver iothread=>, 0 = none */
    guint queues;     /* <driver queues=> (virtio-blk), 0 = QEMU's default */
    guint queue_size; /* <driver queue_size=> (virtio-blk), 0 = QEMU's default */
    /* file path or block device; NULL for an empty cdrom or a network disk. For a volume
     * disk, the volume's path once resolved (live definitions only), else NULL. */
    char *source;
    /* Volume disks: <source pool= volume= mode=> (both names or neither, an empty cdrom),
     * and once resolved the type the volume's path has (FILE or BLOCK; the live
     * definition's, kept in status files only: clients see pool and volume, as libvirt
     * shows them). */
    char *vol_pool;
    char *vol_name;
    SvDomainDiskVolMode vol_mode;
    SvDomainDiskType vol_actual_type;
    /* Live, at a start only (never formatted): an optional volume medium that did not
     * resolve and was dropped from this drive before the images were numbered. */
    gboolean vol_dropped;
    /* Network disks: protocol, <source name=> (NULL only for nbd), query= (http and https)
     * and the hosts, of SvDomainDiskHostDef, never NULL. */
    SvDomainDiskProtocol protocol;
    char *net_name;
    char *net_query;
    GPtrArray *hosts;
    guint source_index; /* live state: the image's node index in QEMU, 0 = none */
    SvDomainStartupPolicy startup_policy;
    /* The <backingStore> chain as the XML gives it, of SvDomainDiskBackingDef, never NULL;
     * backing_end: the chain ends there (an empty <backingStore/>). */
    GPtrArray *backing;
    gboolean backing_end;
    guint logical_block_size;  /* <blockio>, 0 = QEMU's default */
    guint physical_block_size; /* <blockio>, 0 = QEMU's default */
    char *target_dev; /* never NULL; a name libvirt accepts (vda, hdc, xvdb...) */
    SvDomainDiskBus bus;
    SvDomainSwitch removable; /* <target removable=>, usb only */
    guint rotation_rate;      /* <target rotation_rate=>, 0 = none */
    gboolean tray_open;       /* <target tray='open'>: cdrom and floppy; QEMU's tray moves */
    guint64 iotune[SV_DOMAIN_IOTUNE_LAST]; /* 0 = not set */
    char *iotune_group; /* <iotune><group_name>, NULL = none */
    gboolean readonly; /* always TRUE for cdroms, as libvirt */
    gboolean shareable;
    char *serial;
    char *wwn; /* 16 hex digits, optionally 0x-prefixed */
    /* <encryption> (conf/storage_vol_def.h), NULL = none: in <source> as libvirt 9 writes
     * it, or at the disk's level (the older placement), kept where it was given. */
    struct SvVolEncryption *encryption;
    gboolean encryption_in_source;
} SvDomainDiskDef;

/* The index of a disk target name as libvirt reads it (vda = 0, hdc = 2, sdaa = 26), or -1
 * for a name libvirt refuses. */
int sv_domain_disk_name_index(const char *name);

/* Whether the disk has no medium (an empty cdrom). */
gboolean sv_domain_disk_is_empty(const SvDomainDiskDef *disk);
/* The type of what the disk opens: a resolved volume's file or block device, else the
 * disk's own type (libvirt's virDomainDiskGetType after translation). */
SvDomainDiskType sv_domain_disk_actual_type(const SvDomainDiskDef *disk);
/* Whether the disk is a volume disk not resolved yet (no path to open). */
gboolean sv_domain_disk_vol_unresolved(const SvDomainDiskDef *disk);

const char *sv_domain_disk_protocol_to_string(int v);
int sv_domain_disk_protocol_from_string(const char *s);
const char *sv_domain_disk_transport_to_string(int v);
int sv_domain_disk_transport_from_string(const char *s);
const char *sv_domain_disk_cache_to_string(int v);
int sv_domain_disk_cache_from_string(const char *s);
const char *sv_domain_disk_model_to_string(int v);
int sv_domain_disk_model_from_string(const char *s);
const char *sv_domain_disk_error_policy_to_string(int v);
int sv_domain_disk_error_policy_from_string(const char *s);
const char *sv_domain_disk_io_to_string(int v);
int sv_domain_disk_io_from_string(const char *s);
const char *sv_domain_disk_discard_to_string(int v);
int sv_domain_disk_discard_from_string(const char *s);
const char *sv_domain_disk_detect_zeroes_to_string(int v);
int sv_domain_disk_detect_zeroes_from_string(const char *s);
const char *sv_domain_startup_policy_to_string(int v);
int sv_domain_startup_policy_from_string(const char *s);
const char *sv_domain_iotune_to_string(int v);
int sv_domain_iotune_from_string(const char *s);

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainControllerType type;
    guint index; /* assigned the lowest free one per type when absent */
    char *model; /* one of libvirt's models for the type, or NULL */
    char *model_name;     /* pci: <model name=>, QEMU's device ("pcie-root-port") */
    int target_chassis_nr; /* pci-bridge: <target chassisNr=>, 1..255, -1 = unset */
    int target_chassis;   /* pcie-root-port: <target chassis=>, 0..255, -1 = unset */
    int target_port;      /* pcie-root-port: <target port=>, 0..255, -1 = unset */
    SvDomainSwitch target_hotplug;
    int master_startport; /* usb companions: <master startport=>, -1 = none */
    int ports;            /* usb and virtio-serial ports=, -1 = unset */
    int vectors;          /* virtio-serial vectors=, -1 = unset */
    guint queues;         /* virtio-scsi <driver queues=>, 0 = unset */
} SvDomainControllerDef;

/* A controller with nothing else set (every optional value absent), as the parser and the
 * drivers' implicit controllers make them. (transfer full) */
SvDomainControllerDef *sv_domain_controller_def_new(SvDomainControllerType type, guint index,
                                                    const char *model);

/* ---- end of disks and controllers ---- */
/* ---- interfaces (NET): domain_net.c ---- */

/* <interface type=...>. */
typedef enum {
    SV_DOMAIN_NET_TYPE_USER,
    SV_DOMAIN_NET_TYPE_ETHERNET,
    SV_DOMAIN_NET_TYPE_BRIDGE,
    SV_DOMAIN_NET_TYPE_DIRECT,
    SV_DOMAIN_NET_TYPE_NETWORK, /* a port of a virtual network (virtnetworkd) */
    SV_DOMAIN_NET_TYPE_LAST
} SvDomainNetType;

/* <driver name=...>: who runs the virtio-net datapath (absent: vhost when it can). */
typedef enum {
    SV_DOMAIN_NET_BACKEND_DEFAULT,
    SV_DOMAIN_NET_BACKEND_QEMU,
    SV_DOMAIN_NET_BACKEND_VHOST,
    SV_DOMAIN_NET_BACKEND_LAST
} SvDomainNetBackend;

/* <source mode=...> of a direct (macvtap) interface; vepa when absent, as libvirt. */
typedef enum {
    SV_DOMAIN_NET_MACVTAP_VEPA,
    SV_DOMAIN_NET_MACVTAP_PRIVATE,
    SV_DOMAIN_NET_MACVTAP_BRIDGE,
    SV_DOMAIN_NET_MACVTAP_PASSTHROUGH,
    SV_DOMAIN_NET_MACVTAP_LAST
} SvDomainNetMacvtapMode;

/* <link state=...>. */
typedef enum {
    SV_DOMAIN_NET_LINK_DEFAULT,
    SV_DOMAIN_NET_LINK_UP,
    SV_DOMAIN_NET_LINK_DOWN,
    SV_DOMAIN_NET_LINK_LAST
} SvDomainNetLinkState;

/* One direction of an interface's <bandwidth>: kbytes/s, burst in kbytes; 0 = absent. The
 * types are the ones util/netdev_bandwidth.c sets on a host device. */
typedef SvNetdevBandwidthRate SvDomainBandwidthRate;

/* <bandwidth> (domain_net_bandwidth.c): <inbound> (to the guest) and <outbound>, each NULL
 * when absent. */
typedef SvNetdevBandwidth SvDomainBandwidth;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainNetType type;
    char *mac;        /* lowercase aa:bb:cc:dd:ee:ff, unicast; NULL = let the driver pick */
    char *model;      /* <model type=>, one plain word */
    char *source;     /* bridge: <source bridge=>; direct: <source dev=>; else NULL */
    SvDomainNetMacvtapMode source_mode; /* direct only */
    char *target_dev; /* <target dev=>: the host side's name (live state when managed) */
    gboolean target_unmanaged;     /* <target managed='no'>: the tap exists, use it as is */
    SvDomainNetBackend backend;    /* <driver name=> */
    guint queues;                  /* <driver queues=>, 0 = absent */
    guint rx_queue_size;           /* <driver rx_queue_size=>, 0 = absent */
    guint tx_queue_size;           /* <driver tx_queue_size=>, 0 = absent */
    guint mtu;                     /* <mtu size=>, 0 = absent */
    SvDomainNetLinkState link;     /* <link state=> */
    SvDomainSwitch rom_bar;        /* <rom bar=> */
    SvDomainSwitch rom_enabled;    /* <rom enabled=> (yes = ON, no = OFF) */
    char *rom_file;                /* <rom file=> */
    SvDomainBandwidth *bandwidth;  /* <bandwidth> with a direction, or NULL */
    /* type network: <source network= portgroup=>; the rest is live state, what the network
     * daemon's port gave (<source portid=> on the live XML and in status files, the port's
     * <plug> as libvirt's <actual> in status files and as <source bridge=> on the live XML;
     * a port plugged as a host bridge shows the live XML type 'bridge', as libvirt's). */
    char *network;
    char *portgroup;
    char *portid;                  /* the port's UUID, lowercase text, or NULL */
    SvDomainNetType actual_type;   /* NETWORK or BRIDGE once a port is plugged */
    char *actual_bridge;           /* the bridge the tap joins, or NULL (no port yet) */
    SvDomainBandwidth *actual_bandwidth; /* the port's rates (its port group's when the
                                          * interface has none), or NULL */
} SvDomainNetDef;

const char *sv_domain_net_type_to_string(int v);
int sv_domain_net_type_from_string(const char *s);
const char *sv_domain_net_backend_to_string(int v);
int sv_domain_net_backend_from_string(const char *s);
const char *sv_domain_net_macvtap_mode_to_string(int v);
int sv_domain_net_macvtap_mode_from_string(const char *s);
const char *sv_domain_net_link_state_to_string(int v);
int sv_domain_net_link_state_from_string(const char *s);

/* A new random MAC address for a guest NIC, libvirt's way: 52:54:00 (QEMU's prefix) and
 * three random bytes, formatted as the parser stores MACs. (transfer full) */
char *sv_domain_net_generate_mac(void);
/* Tests only: make sv_domain_net_generate_mac() repeatable from `seed`. */
void sv_domain_net_seed_mac(guint32 seed);
/* The first of the interface's settings beyond type, MAC, model and target name
 * ("<driver>", "<mtu>" ...), for drivers that refuse them rather than drop them; NULL when
 * it has none. (transfer none) */
const char *sv_domain_net_tuning_name(const SvDomainNetDef *net);

/* The bridge an interface's tap joins: <source bridge> of type bridge, the port's bridge of
 * type network; NULL otherwise (or before a port was given). (transfer none) */
const char *sv_domain_net_bridge(const SvDomainNetDef *net);
/* The rates the host side of an interface gets: its network port's, else its own; NULL
 * when none. (transfer none) */
const SvDomainBandwidth *sv_domain_net_bandwidth(const SvDomainNetDef *net);
/* Forget what a network port gave (its id and plug), as when the port is released. */
void sv_domain_net_clear_actual(SvDomainNetDef *net);

/* Frees an interface's <bandwidth> (domain_net_bandwidth.c). NULL is fine. */
void sv_domain_bandwidth_free(SvDomainBandwidth *bw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainBandwidth, sv_domain_bandwidth_free)
/* Whether two <bandwidth> (NULL: none) set the same rates. */
gboolean sv_domain_bandwidth_equal(const SvDomainBandwidth *a, const SvDomainBandwidth *b);
/* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
/* (domain_chr.c; string tables there too) */

/* <rng><backend model=...>. */
typedef enum {
    SV_DOMAIN_RNG_BACKEND_RANDOM,
    SV_DOMAIN_RNG_BACKEND_EGD,
    SV_DOMAIN_RNG_BACKEND_BUILTIN,
    SV_DOMAIN_RNG_BACKEND_LAST
} SvDomainRngBackend;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    char *model;             /* virtio, virtio-transitional, virtio-non-transitional */
    SvDomainRngBackend backend;
    char *device;            /* random: never NULL (libvirt's default /dev/random) */
    SvDomainChrSource egd;   /* egd: where the entropy daemon is */
} SvDomainRngDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    char *model;             /* never NULL: virtio, xen, none, virtio-(non-)transitional */
    gboolean has_period;
    guint stats_period; /* <stats period=> in seconds */
    SvDomainSwitch autodeflate;
    SvDomainSwitch free_page_reporting;
} SvDomainMemballoonDef;

/* <watchdog model=...>, the models libvirt 9.0 knows. */
typedef enum {
    SV_DOMAIN_WATCHDOG_I6300ESB,
    SV_DOMAIN_WATCHDOG_IB700,
    SV_DOMAIN_WATCHDOG_DIAG288,
    SV_DOMAIN_WATCHDOG_LAST
} SvDomainWatchdogModel;

/* <watchdog action=...> (default reset, always formatted). */
typedef enum {
    SV_DOMAIN_WATCHDOG_ACTION_RESET,
    SV_DOMAIN_WATCHDOG_ACTION_SHUTDOWN,
    SV_DOMAIN_WATCHDOG_ACTION_POWEROFF,
    SV_DOMAIN_WATCHDOG_ACTION_PAUSE,
    SV_DOMAIN_WATCHDOG_ACTION_DUMP,
    SV_DOMAIN_WATCHDOG_ACTION_NONE,
    SV_DOMAIN_WATCHDOG_ACTION_INJECT_NMI,
    SV_DOMAIN_WATCHDOG_ACTION_LAST
} SvDomainWatchdogAction;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainWatchdogModel model;
    SvDomainWatchdogAction action;
} SvDomainWatchdogDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    char *model;             /* NULL = the driver's default; isa, pseries, hyperv, s390 */
} SvDomainPanicDef;

/* virtiofs <binary><cache mode=...> (default: not written, virtiofsd's own). */
typedef enum {
    SV_DOMAIN_FS_CACHE_DEFAULT,
    SV_DOMAIN_FS_CACHE_NONE,
    SV_DOMAIN_FS_CACHE_ALWAYS,
    SV_DOMAIN_FS_CACHE_LAST
} SvDomainFsCacheMode;

const char *sv_domain_fs_cache_mode_to_string(int v);
int sv_domain_fs_cache_mode_from_string(const char *s);

/* <filesystem><driver type=...>, for QEMU (none: no <driver>). */
typedef enum {
    SV_DOMAIN_FS_DRIVER_NONE,
    SV_DOMAIN_FS_DRIVER_PATH,
    SV_DOMAIN_FS_DRIVER_HANDLE,
    SV_DOMAIN_FS_DRIVER_VIRTIOFS,
    SV_DOMAIN_FS_DRIVER_LAST
} SvDomainFsDriver;

const char *sv_domain_chr_mode_to_string(int v);
int sv_domain_chr_mode_from_string(const char *s);
const char *sv_domain_chr_tcp_protocol_to_string(int v);
int sv_domain_chr_tcp_protocol_from_string(const char *s);
const char *sv_domain_rng_backend_to_string(int v);
int sv_domain_rng_backend_from_string(const char *s);
const char *sv_domain_watchdog_model_to_string(int v);
int sv_domain_watchdog_model_from_string(const char *s);
const char *sv_domain_watchdog_action_to_string(int v);
int sv_domain_watchdog_action_from_string(const char *s);
const char *sv_domain_fs_driver_to_string(int v);
int sv_domain_fs_driver_from_string(const char *s);

/* 9p <filesystem model=...> (default: not written, virtio-9p-pci). */
typedef enum {
    SV_DOMAIN_FS_MODEL_DEFAULT,
    SV_DOMAIN_FS_MODEL_VIRTIO,
    SV_DOMAIN_FS_MODEL_VIRTIO_TRANSITIONAL,
    SV_DOMAIN_FS_MODEL_VIRTIO_NON_TRANSITIONAL,
    SV_DOMAIN_FS_MODEL_LAST
} SvDomainFsModel;

/* 9p <filesystem multidevs=...> (default: not written, QEMU's own). */
typedef enum {
    SV_DOMAIN_FS_MULTIDEVS_DEFAULT,
    SV_DOMAIN_FS_MULTIDEVS_REMAP,
    SV_DOMAIN_FS_MULTIDEVS_FORBID,
    SV_DOMAIN_FS_MULTIDEVS_WARN,
    SV_DOMAIN_FS_MULTIDEVS_LAST
} SvDomainFsMultidevs;

/* 9p <driver wrpolicy=...> (default: not written). */
typedef enum {
    SV_DOMAIN_FS_WRPOLICY_DEFAULT,
    SV_DOMAIN_FS_WRPOLICY_IMMEDIATE,
    SV_DOMAIN_FS_WRPOLICY_LAST
} SvDomainFsWrpolicy;

const char *sv_domain_fs_model_to_string(int v);
int sv_domain_fs_model_from_string(const char *s);
const char *sv_domain_fs_multidevs_to_string(int v);
int sv_domain_fs_multidevs_from_string(const char *s);
const char *sv_domain_fs_wrpolicy_to_string(int v);
int sv_domain_fs_wrpolicy_from_string(const char *s);
/* ---- graphics, video, input, sound, audio, redirdev (domain_display.c) ---- */

typedef struct SvDomainDef SvDomainDef;

/* <graphics type=...>. NONE is splitvirt's own ("no display at all", which the xen driver
 * maps to nographic): libvirt 9.0 has no such type. */
typedef enum {
    SV_DOMAIN_GRAPHICS_SDL,
    SV_DOMAIN_GRAPHICS_VNC,
    SV_DOMAIN_GRAPHICS_RDP,
    SV_DOMAIN_GRAPHICS_DESKTOP,
    SV_DOMAIN_GRAPHICS_SPICE,
    SV_DOMAIN_GRAPHICS_EGL_HEADLESS,
    SV_DOMAIN_GRAPHICS_DBUS,
    SV_DOMAIN_GRAPHICS_NONE,
    SV_DOMAIN_GRAPHICS_LAST
} SvDomainGraphicsType;

/* <graphics><listen type=...>. */
typedef enum {
    SV_DOMAIN_GRAPHICS_LISTEN_NONE,
    SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS,
    SV_DOMAIN_GRAPHICS_LISTEN_NETWORK,
    SV_DOMAIN_GRAPHICS_LISTEN_SOCKET,
    SV_DOMAIN_GRAPHICS_LISTEN_LAST
} SvDomainGraphicsListenType;

/* vnc sharePolicy (0: absent). */
typedef enum {
    SV_DOMAIN_GRAPHICS_SHARE_DEFAULT,
    SV_DOMAIN_GRAPHICS_SHARE_ALLOW_EXCLUSIVE,
    SV_DOMAIN_GRAPHICS_SHARE_FORCE_SHARED,
    SV_DOMAIN_GRAPHICS_SHARE_IGNORE,
    SV_DOMAIN_GRAPHICS_SHARE_LAST
} SvDomainGraphicsSharePolicy;

/* Spice's one-attribute children (<image compression=> ...), in libvirt's order; each
 * value is the index in that child's list of words, -1 when absent. */
typedef enum {
    SV_DOMAIN_SPICE_IMAGE,
    SV_DOMAIN_SPICE_JPEG,
    SV_DOMAIN_SPICE_ZLIB,
    SV_DOMAIN_SPICE_PLAYBACK,
    SV_DOMAIN_SPICE_STREAMING,
    SV_DOMAIN_SPICE_MOUSE,
    SV_DOMAIN_SPICE_CLIPBOARD,
    SV_DOMAIN_SPICE_FILETRANSFER,
    SV_DOMAIN_SPICE_OPTION_LAST
} SvDomainSpiceOption;

typedef struct {
    SvDomainGraphicsListenType type;
    char *address; /* ADDRESS: NULL = the daemon's default (live XML shows it) */
    char *network; /* NETWORK: never NULL */
    char *socket;  /* SOCKET: NULL = a path in the guest's directory, given at start */
} SvDomainGraphicsListenDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h (graphics have no address) */
    SvDomainGraphicsType type;
    /* vnc and spice. Ports: 0 = none; with autoport, the allocated ones (live state). */
    int port;
    int tls_port;  /* spice; -1 as written */
    int websocket; /* vnc; -1 = allocate one */
    gboolean autoport; /* the port is allocated at start (vnc: and the websocket at -1) */
    /* Live, never formatted: the run holds `port` / `websocket` in the daemon's port
     * ranges, and gives them back when it ends. */
    gboolean port_reserved;
    gboolean websocket_reserved;
    char *passwd; /* shown only with SECURE */
    char *passwd_valid_to;
    char *connected; /* "keep" (vnc), "keep"/"disconnect"/"fail" (spice) */
    char *keymap;
    SvDomainGraphicsSharePolicy share_policy;
    GPtrArray *listens; /* of SvDomainGraphicsListenDef, never NULL; at most one for QEMU */
    int spice[SV_DOMAIN_SPICE_OPTION_LAST];
} SvDomainGraphicsDef;

/* <video><model type=...>; DEFAULT until the driver picks one. */
typedef enum {
    SV_DOMAIN_VIDEO_DEFAULT,
    SV_DOMAIN_VIDEO_VGA,
    SV_DOMAIN_VIDEO_CIRRUS,
    SV_DOMAIN_VIDEO_VMVGA,
    SV_DOMAIN_VIDEO_XEN,
    SV_DOMAIN_VIDEO_VBOX,
    SV_DOMAIN_VIDEO_QXL,
    SV_DOMAIN_VIDEO_PARALLELS,
    SV_DOMAIN_VIDEO_VIRTIO,
    SV_DOMAIN_VIDEO_GOP,
    SV_DOMAIN_VIDEO_NONE,
    SV_DOMAIN_VIDEO_BOCHS,
    SV_DOMAIN_VIDEO_RAMFB,
    SV_DOMAIN_VIDEO_LAST
} SvDomainVideoType;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainVideoType type;
    guint ram;    /* KiB, 0 = none (qxl) */
    guint vram;   /* KiB, 0 = none */
    guint vgamem; /* KiB, 0 = none (qxl) */
    guint heads;  /* 0 = none */
    gboolean primary;
} SvDomainVideoDef;

typedef enum {
    SV_DOMAIN_INPUT_MOUSE,
    SV_DOMAIN_INPUT_TABLET,
    SV_DOMAIN_INPUT_KEYBOARD,
    SV_DOMAIN_INPUT_PASSTHROUGH,
    SV_DOMAIN_INPUT_EVDEV,
    SV_DOMAIN_INPUT_LAST
} SvDomainInputType;

typedef enum {
    SV_DOMAIN_INPUT_BUS_PS2,
    SV_DOMAIN_INPUT_BUS_USB,
    SV_DOMAIN_INPUT_BUS_XEN,
    SV_DOMAIN_INPUT_BUS_PARALLELS,
    SV_DOMAIN_INPUT_BUS_VIRTIO,
    SV_DOMAIN_INPUT_BUS_NONE,
    SV_DOMAIN_INPUT_BUS_LAST
} SvDomainInputBus;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainInputType type;
    SvDomainInputBus bus;
} SvDomainInputDef;

typedef enum {
    SV_DOMAIN_SOUND_SB16,
    SV_DOMAIN_SOUND_ES1370,
    SV_DOMAIN_SOUND_PCSPK,
    SV_DOMAIN_SOUND_AC97,
    SV_DOMAIN_SOUND_ICH6,
    SV_DOMAIN_SOUND_ICH9,
    SV_DOMAIN_SOUND_USB,
    SV_DOMAIN_SOUND_ICH7,
    SV_DOMAIN_SOUND_LAST
} SvDomainSoundModel;

typedef enum {
    SV_DOMAIN_SOUND_CODEC_DUPLEX,
    SV_DOMAIN_SOUND_CODEC_MICRO,
    SV_DOMAIN_SOUND_CODEC_OUTPUT,
    SV_DOMAIN_SOUND_CODEC_LAST
} SvDomainSoundCodec;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainSoundModel model;
    GArray *codecs; /* of SvDomainSoundCodec, never NULL */
    guint audio_id; /* <audio id=>, 0 = none */
} SvDomainSoundDef;

/* <audio type=...>. Only none and spice reach QEMU; the others are taken at define, as
 * libvirt takes them, and refused at start. */
typedef enum {
    SV_DOMAIN_AUDIO_NONE,
    SV_DOMAIN_AUDIO_ALSA,
    SV_DOMAIN_AUDIO_COREAUDIO,
    SV_DOMAIN_AUDIO_JACK,
    SV_DOMAIN_AUDIO_OSS,
    SV_DOMAIN_AUDIO_PULSEAUDIO,
    SV_DOMAIN_AUDIO_SDL,
    SV_DOMAIN_AUDIO_SPICE,
    SV_DOMAIN_AUDIO_FILE,
    SV_DOMAIN_AUDIO_DBUS,
    SV_DOMAIN_AUDIO_LAST
} SvDomainAudioType;

typedef struct {
    guint id; /* > 0, unique */
    SvDomainAudioType type;
} SvDomainAudioDef;

/* <redirdev bus='usb' type=...>: only spicevmc is implemented. */
typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
} SvDomainRedirdevDef;

const char *sv_domain_graphics_type_to_string(int v);
int sv_domain_graphics_type_from_string(const char *s);
const char *sv_domain_graphics_listen_type_to_string(int v);
int sv_domain_graphics_listen_type_from_string(const char *s);
const char *sv_domain_graphics_share_policy_to_string(int v);
int sv_domain_graphics_share_policy_from_string(const char *s);
const char *sv_domain_video_type_to_string(int v);
int sv_domain_video_type_from_string(const char *s);
const char *sv_domain_input_type_to_string(int v);
int sv_domain_input_type_from_string(const char *s);
const char *sv_domain_input_bus_to_string(int v);
int sv_domain_input_bus_from_string(const char *s);
const char *sv_domain_sound_model_to_string(int v);
int sv_domain_sound_model_from_string(const char *s);
const char *sv_domain_sound_codec_to_string(int v);
int sv_domain_sound_codec_from_string(const char *s);
const char *sv_domain_audio_type_to_string(int v);
int sv_domain_audio_type_from_string(const char *s);
/* The XML name of spice option `opt` and its attribute, and the word of value `v`. */
const char *sv_domain_spice_option_element(int opt);
const char *sv_domain_spice_option_attr(int opt);
const char *sv_domain_spice_option_value(int opt, int v);

/* The element name ("<video>") of the first display device a driver without displays
 * cannot take, or NULL when there is none; <graphics type='none'/> is no display. */
const char *sv_domain_display_first_device(const SvDomainDef *def);

/* libvirt's size and head defaults of a video of a known model. */
void sv_domain_video_set_defaults(SvDomainVideoDef *video);

/* Free one device of the display lists; NULL is fine. */
void sv_domain_graphics_def_free(gpointer graphics);
void sv_domain_video_def_free(gpointer video);
void sv_domain_input_def_free(gpointer input);
void sv_domain_sound_def_free(gpointer sound);
void sv_domain_redirdev_def_free(gpointer redirdev);

/* The first graphics device of `type`, or NULL. (transfer none) */
SvDomainGraphicsDef *sv_domain_def_find_graphics(const SvDomainDef *def,
                                                 SvDomainGraphicsType type);

/* ---- usb hubs (domain_usb.c) ---- */
/* <hub type='usb'> (usb is the only type libvirt knows): 8 more ports on a USB bus. */
typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
} SvDomainHubDef;

/* The ports of a <hub type='usb'>, as QEMU's usb-hub has them. */
#define SV_DOMAIN_USB_HUB_PORTS 8

void sv_domain_hub_def_free(gpointer hub);

/* ---- capabilities: host devices and TPM, as domain capabilities list them
 * (domain_hostdev.c). Parsed, formatted and checked at start, where they are refused with
 * libvirt's error: no guest of this driver gets a host device or the host's TPM. ---- */
typedef enum {
    SV_DOMAIN_HOSTDEV_USB,
    SV_DOMAIN_HOSTDEV_PCI,
    SV_DOMAIN_HOSTDEV_SCSI,
    SV_DOMAIN_HOSTDEV_LAST
} SvDomainHostdevType;

typedef struct {
    SvDomainDeviceInfo info;
    SvDomainHostdevType type;
    gboolean managed;
    char *driver;         /* <driver name>: "vfio", NULL = none */
    char *startup_policy; /* usb only: "mandatory", "requisite", "optional", NULL = none */
    /* usb: by vendor and product, by bus and device, or both */
    gboolean has_ids, has_usb_address;
    guint vendor, product, usb_bus, usb_device;
    /* pci */
    guint pci_domain, pci_bus, pci_slot, pci_function;
    /* scsi */
    char *adapter; /* "scsi_host0" */
    guint scsi_bus, scsi_target;
    guint64 scsi_unit;
} SvDomainHostdevDef;

/* <tpm> with a passthrough backend (the one backend the domain capabilities list here). */
typedef struct {
    SvDomainDeviceInfo info;
    char *model; /* "tpm-tis", "tpm-crb" */
    char *path;  /* the host's TPM device, /dev/tpm0 by default */
} SvDomainTpmDef;

const char *sv_domain_hostdev_type_to_string(int v);
int sv_domain_hostdev_type_from_string(const char *s);

typedef struct SvDomainDef SvDomainDef;
/* Whether console `n` of `def` stands for serial `n`, as libvirt reads an hvm guest's
 * console of target type serial: it is formatted as that serial and is no device. */
gboolean sv_domain_console_is_serial(const SvDomainDef *def, guint n);

struct SvDomainDef {
    SvDomainVirtType type;
    char *name; /* never NULL; passes sv_domain_name_check() */
    guint8 uuid[16];
    char *title; /* one line */
    char *description;
    /* The <metadata> element serialized (namespace declarations included, only the first
     * namespaced child per namespace kept, as libvirt), or NULL when absent. */
    char *metadata;
    guint64 memory_kib;         /* > 0 */
    guint64 current_memory_kib; /* 0 < current <= memory */
    guint vcpus;                /* > 0 */
    SvDomainCpuPlacement placement;
    SvDomainOsDef os;
    guint features; /* SvDomainFeature bits */
    SvDomainCpuMode cpu_mode;
    SvDomainCpuMatch cpu_match;
    SvDomainCpuCheck cpu_check;
    SvDomainSwitch cpu_migratable; /* only with host-passthrough or maximum */
    char *cpu_model; /* only with mode custom */
    SvDomainCpuFallback cpu_fallback;
    SvDomainClockOffset clock_offset;
    SvDomainLifecycleAction on_poweroff;
    SvDomainLifecycleAction on_reboot;
    SvDomainLifecycleAction on_crash;
    gboolean seclabel_none; /* <seclabel type='none'>, the only kind supported */
    char *seclabel_model;
    char *emulator;
    /* Device lists, never NULL, each owning its elements. */
    GPtrArray *disks;       /* of SvDomainDiskDef */
    GPtrArray *filesystems; /* of SvDomainFsDef */
    GPtrArray *interfaces;  /* of SvDomainNetDef */
    GPtrArray *serials;     /* of SvDomainChrDef */
    GPtrArray *consoles;    /* of SvDomainChrDef */
    GPtrArray *controllers; /* of SvDomainControllerDef */
    GPtrArray *idmaps;      /* of SvDomainIdMapDef: uids by start, then gids by start */
    gboolean graphics_none;
    gboolean panic;
    char *panic_model; /* NULL = the driver's default */
    char *memballoon_model; /* NULL = no <memballoon> element */

    /* ---- platform: os extras, features, clock, pm, sysinfo, genid ---- */
    /* <features> beyond the acpi/apic/pae bits. */
    SvDomainSwitch vmport;   /* <vmport state=> (an element without state is on) */
    SvDomainSwitch smm;      /* <smm state=> (likewise) */
    SvDomainSwitch apic_eoi; /* <apic eoi=> */
    SvDomainSwitch pvspinlock; /* <pvspinlock state=> (likewise) */
    SvDomainSwitch pmu;        /* <pmu state=> (likewise) */
    SvDomainSwitch vmcoreinfo; /* <vmcoreinfo state=> (likewise) */
    SvDomainIoapic ioapic;   /* <ioapic driver=> */
    gboolean kvm_features;   /* a <kvm> element, maybe empty */
    SvDomainSwitch kvm_hidden;
    SvDomainSwitch kvm_hint_dedicated;
    SvDomainSwitch kvm_poll_control;
    SvDomainSwitch kvm_pv_ipi;
    gboolean hyperv;         /* a <hyperv> element, maybe empty */
    SvDomainHypervMode hyperv_mode;
    SvDomainSwitch hyperv_features[SV_DOMAIN_HYPERV_LAST];
    guint hyperv_spinlocks;  /* retries (>= 4095) when spinlocks is on */
    char *hyperv_vendor_id;  /* value (at most 12 bytes, no comma) when vendor_id is on */
    /* <clock>: adjustment is in seconds; utc or localtime with a number become variable
     * with that basis, as in libvirt. adjustment_reset: adjustment='reset' (utc, localtime). */
    SvDomainClockBasis clock_basis;
    gint64 clock_adjustment;
    gboolean clock_adjustment_reset;
    char *clock_timezone;    /* offset timezone only, never NULL there */
    guint64 clock_start;     /* offset absolute: seconds since the epoch */
    GPtrArray *timers;       /* of SvDomainTimerDef, in document order, never NULL */
    /* <pm>: ABSENT, YES or NO. */
    SvDomainTristate pm_suspend_to_mem;
    SvDomainTristate pm_suspend_to_disk;
    /* <os> extras: <bootmenu enable timeout>, <smbios mode>. */
    SvDomainTristate bootmenu;
    gboolean bootmenu_timeout_set; /* only with enable='yes', as libvirt */
    guint bootmenu_timeout;        /* ms, <= 65535 */
    SvDomainSmbiosMode smbios_mode;
    /* <os><bios useserial= rebootTimeout=>. */
    SvDomainTristate bios_useserial;
    gboolean bios_reboot_timeout_set;
    int bios_reboot_timeout;       /* ms, -1..65535 */
    SvDomainSysinfoDef *sysinfo;   /* <sysinfo type='smbios'>, NULL when absent */
    /* Firmware: <os firmware=>, <loader secure=> (the rest of <loader> is in os), <nvram>. */
    SvDomainFirmware firmware;
    SvDomainTristate loader_secure;
    /* <os><firmware><feature name= enabled=>: what the picked firmware must (yes) or must
     * not (no) have. */
    SvDomainTristate fw_enrolled_keys;
    SvDomainTristate fw_secure_boot;
    char *nvram;          /* the guest's NVRAM file */
    char *nvram_template; /* <nvram template=> */
    gboolean genid;                /* a <genid>; an empty one is generated when parsed */
    guint8 genid_uuid[16];

    /* ---- cpu, vcpus, memory and tuning ---- */
    char *cpu_vendor; /* only with a model */
    /* <topology>: all 0 when absent, else all > 0 (dies defaults to 1). */
    guint cpu_sockets;
    guint cpu_dies;
    guint cpu_cores;
    guint cpu_threads;
    GPtrArray *cpu_features; /* of SvDomainCpuFeatureDef, in document order; never NULL */
    guint vcpus_current;     /* <= vcpus; equal to vcpus unless current= says otherwise */
    guint vcpus_fixed;       /* 0, or a <vcpus> list (a vcpu was hot-plugged): vcpus below it
                                are not hotpluggable; vcpus_current <= vcpus below are enabled
                                (conf/domain_vcpus.c) */
    char *vcpu_cpuset;       /* canonical host CPU list or NULL */
    guint64 max_memory_kib;  /* 0: no <maxMemory> */
    guint max_memory_slots;
    SvDomainCputuneDef cputune;
    SvDomainMemtuneDef memtune;
    guint blkio_weight;        /* 0: none */
    GPtrArray *blkio_devices;  /* of SvDomainBlkioDeviceDef; never NULL */
    SvDomainMemoryBackingDef memory_backing;
    guint iothreads;           /* 0: none */
    char *resource_partition;  /* <resource><partition>: libvirt's default "/machine" only
                                  (the guests' cgroups are placed by cgroup_parent); NULL:
                                  none given */

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    GPtrArray *channels;             /* of SvDomainChrDef */
    GPtrArray *rngs;                 /* of SvDomainRngDef */
    GPtrArray *panics;               /* of SvDomainPanicDef, one per model at most */
    SvDomainMemballoonDef *memballoon; /* NULL = no <memballoon> element */
    SvDomainWatchdogDef *watchdog;     /* NULL = none (libvirt 9.0 takes one) */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    GPtrArray *graphics;  /* of SvDomainGraphicsDef */
    GPtrArray *videos;    /* of SvDomainVideoDef; the primary one first */
    GPtrArray *inputs;    /* of SvDomainInputDef */
    GPtrArray *sounds;    /* of SvDomainSoundDef */
    GPtrArray *audios;    /* of SvDomainAudioDef */
    GPtrArray *redirdevs; /* of SvDomainRedirdevDef */

    /* ---- defaults, addresses and aliases ---- */

    /* ---- usb hubs ---- */
    GPtrArray *hubs; /* of SvDomainHubDef */

    /* ---- capabilities: host devices and TPM ---- */
    GPtrArray *hostdevs; /* of SvDomainHostdevDef */
    SvDomainTpmDef *tpm; /* NULL = none (libvirt's QEMU driver takes one per model) */
};

typedef enum {
    /* Refuse elements libvirt's schema does not know, with libvirt's schema error, as its
     * VALIDATE flag does (without it they are dropped silently, as libvirt does). Only
     * unknown elements are checked, not the rest of the schema (unknown attributes,
     * misplaced or missing elements), which the parser handles as without the flag. */
    SV_DOMAIN_PARSE_VALIDATE = 1 << 0,
    /* The XML is a new definition rather than a saved live state: ignore the pty paths
     * in <source path=>, as libvirt does when defining. */
    SV_DOMAIN_PARSE_INACTIVE = 1 << 1,
    /* The XML is the daemon's own status file (or a copy): it keeps what the driver found
     * for the live definition and shows no client, such as a volume disk's path. */
    SV_DOMAIN_PARSE_STATUS = 1 << 2,
} SvDomainParseFlags;

typedef enum {
    /* Format the persistent config: no id, no pty paths. */
    SV_DOMAIN_FORMAT_INACTIVE = 1 << 0,
    /* Include secrets (graphics passwords): for the files the daemon keeps, and for
     * clients asking with VIR_DOMAIN_XML_SECURE. */
    SV_DOMAIN_FORMAT_SECURE = 1 << 1,
    /* For the daemon's status files and copies (SV_DOMAIN_PARSE_STATUS reads it back). */
    SV_DOMAIN_FORMAT_STATUS = 1 << 2,
} SvDomainFormatFlags;

/* Parse and validate domain XML. Errors are libvirt's for the same input where libvirt
 * refuses it (codes and domains from libvirt-wire-facts.md section 11); elements and
 * attributes libvirt knows but splitvirt does not implement are refused with
 * CONFIG_UNSUPPORTED, so no configuration is lost silently. Documents with a DTD entity
 * declaration or an entity reference are refused; nothing is ever fetched.
 * Returns (transfer full) a new definition, or NULL with `error` set. */
SvDomainDef *sv_domain_def_parse(const char *xml, guint flags, GError **error);

/* Format `def` as libvirt does (element order, 2-space indent, single quotes). `id` is the
 * live id written as <domain type='qemu' id='N'>, or -1 for none; INACTIVE omits it.
 * format(parse(format(parse(x)))) == format(parse(x)). Returns (transfer full) the XML. */
char *sv_domain_def_format(const SvDomainDef *def, int id, guint flags);

/* Parse the XML of one device, as a client gives it to ATTACH_DEVICE or DETACH_DEVICE:
 * *ret_kind (transfer full) is its element's name, and the definition returned (transfer
 * full) holds that device alone, parsed as a definition's device is. Unknown elements get
 * libvirt's "unknown device type". */
SvDomainDef *sv_domain_device_parse(const char *xml, char **ret_kind, GError **error);
/* The same with the parse flags given: a live detach parses without
 * SV_DOMAIN_PARSE_INACTIVE (libvirt's), so live state such as a pty's path is kept for
 * matching. */
SvDomainDef *sv_domain_device_parse_flags(const char *xml, guint flags, char **ret_kind,
                                          GError **error);

/* A deep copy. (transfer full) */
SvDomainDef *sv_domain_def_copy(const SvDomainDef *def);

/* A disk of def by target name or source path, as libvirt's virDomainDiskByName; NULL when
 * none. (transfer none) */
SvDomainDiskDef *sv_domain_disk_by_name(const SvDomainDef *def, const char *name);

/* Free `def` and everything it owns; NULL is fine. */
void sv_domain_def_free(SvDomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainDef, sv_domain_def_free)

/* Whether `name` is acceptable as a domain name: non-empty, valid UTF-8, at most 200
 * bytes, without control characters or '/', not starting with '.'. Such names are safe as
 * file names in the daemons' state directories. Sets a libvirt-style error on failure. */
gboolean sv_domain_name_check(const char *name, GError **error);

const char *sv_domain_virt_type_to_string(int v);
int sv_domain_virt_type_from_string(const char *s);
const char *sv_domain_lifecycle_action_to_string(int v);
int sv_domain_lifecycle_action_from_string(const char *s);
const char *sv_domain_cpu_placement_to_string(int v);
int sv_domain_cpu_placement_from_string(const char *s);
const char *sv_domain_boot_dev_to_string(int v);
int sv_domain_boot_dev_from_string(const char *s);
const char *sv_domain_loader_type_to_string(int v);
int sv_domain_loader_type_from_string(const char *s);
const char *sv_domain_tristate_to_string(int v);
int sv_domain_tristate_from_string(const char *s);
const char *sv_domain_feature_to_string(int v);
int sv_domain_feature_from_string(const char *s);
const char *sv_domain_cpu_mode_to_string(int v);
int sv_domain_cpu_mode_from_string(const char *s);
const char *sv_domain_cpu_match_to_string(int v);
int sv_domain_cpu_match_from_string(const char *s);
const char *sv_domain_cpu_check_to_string(int v);
int sv_domain_cpu_check_from_string(const char *s);
const char *sv_domain_switch_to_string(int v);
int sv_domain_switch_from_string(const char *s);
const char *sv_domain_cpu_fallback_to_string(int v);
int sv_domain_cpu_fallback_from_string(const char *s);
const char *sv_domain_clock_offset_to_string(int v);
int sv_domain_clock_offset_from_string(const char *s);
const char *sv_domain_disk_type_to_string(int v);
int sv_domain_disk_type_from_string(const char *s);
const char *sv_domain_disk_vol_mode_to_string(int v);
int sv_domain_disk_vol_mode_from_string(const char *s);
const char *sv_domain_disk_device_to_string(int v);
int sv_domain_disk_device_from_string(const char *s);
const char *sv_domain_disk_format_to_string(int v);
int sv_domain_disk_format_from_string(const char *s);
const char *sv_domain_disk_bus_to_string(int v);
int sv_domain_disk_bus_from_string(const char *s);
const char *sv_domain_fs_type_to_string(int v);
int sv_domain_fs_type_from_string(const char *s);
const char *sv_domain_fs_access_mode_to_string(int v);
int sv_domain_fs_access_mode_from_string(const char *s);
const char *sv_domain_chr_type_to_string(int v);
int sv_domain_chr_type_from_string(const char *s);
const char *sv_domain_controller_type_to_string(int v);
int sv_domain_controller_type_from_string(const char *s);
const char *sv_domain_idmap_kind_to_string(int v);
int sv_domain_idmap_kind_from_string(const char *s);

/* cpu, vcpus, memory and tuning (domain_cpu.c): for a driver that applies none of this
 * area's elements beyond <memory>, <currentMemory> and <vcpu>N</vcpu>, the first one `def`
 * uses ("<cputune>", "<cpu>"...), else NULL. */
const char *sv_domain_cpu_tuning_used(const SvDomainDef *def);
