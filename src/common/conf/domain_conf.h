/* domain_conf.h: the domain definition: parse, validate and format libvirt domain XML.
 * Implemented in domain_def.c (enums, new, free, copy), domain_xml.c (safe reading),
 * domain_schema.c (the schema check), domain_parse.c and domain_parse_devices.c,
 * domain_validate.c (defaults, checks, names) and domain_format.c. */
#pragma once

#include <glib.h>

#include "conf/domain_device.h"

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
    SV_DOMAIN_CLOCK_OFFSET_LAST
} SvDomainClockOffset;

/* <disk type=...> (default file). */
typedef enum {
    SV_DOMAIN_DISK_TYPE_FILE,
    SV_DOMAIN_DISK_TYPE_BLOCK,
    SV_DOMAIN_DISK_TYPE_LAST
} SvDomainDiskType;

/* <disk device=...> (default disk). */
typedef enum {
    SV_DOMAIN_DISK_DEVICE_DISK,
    SV_DOMAIN_DISK_DEVICE_CDROM,
    SV_DOMAIN_DISK_DEVICE_LAST
} SvDomainDiskDevice;

/* <disk><driver type=...>; NONE when absent. */
typedef enum {
    SV_DOMAIN_DISK_FORMAT_NONE,
    SV_DOMAIN_DISK_FORMAT_RAW,
    SV_DOMAIN_DISK_FORMAT_QCOW2,
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

/* <interface type=...>. */
typedef enum {
    SV_DOMAIN_NET_TYPE_USER,
    SV_DOMAIN_NET_TYPE_ETHERNET,
    SV_DOMAIN_NET_TYPE_LAST
} SvDomainNetType;

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
    SvDomainDiskType type;
    SvDomainDiskDevice device;
    char *driver_name;         /* <driver name=>, e.g. "qemu" */
    SvDomainDiskFormat format; /* <driver type=> */
    char *source;              /* file path or block device; NULL only for an empty cdrom */
    char *target_dev;          /* never NULL; a name libvirt accepts (vda, hdc, xvdb...) */
    SvDomainDiskBus bus;
    gboolean readonly; /* always TRUE for cdroms, as libvirt */
} SvDomainDiskDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainFsType type;
    SvDomainFsAccessMode accessmode;
    char *source_dir; /* never NULL */
    char *target_dir; /* never NULL */
    gboolean readonly;
    int driver;          /* SvDomainFsDriver (declared with the character devices) */
    guint queue;         /* virtiofs <driver queue=>, 0 = unset */
    char *binary_path;   /* virtiofs <binary path=> */
} SvDomainFsDef;

typedef struct {
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainNetType type;
    char *mac;        /* lowercase aa:bb:cc:dd:ee:ff, unicast; NULL = let the driver pick */
    char *model;      /* <model type=> */
    char *target_dev; /* <target dev=> */
} SvDomainNetDef;

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
    SvDomainDeviceInfo info; /* first: see domain_device.h */
    SvDomainControllerType type;
    guint index; /* assigned the lowest free one per type when absent */
    char *model;
} SvDomainControllerDef;

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

    /* ---- platform: os extras, features, clock, pm, sysinfo, genid ---- */

    /* ---- cpu, vcpus, memory and tuning ---- */

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    GPtrArray *channels;             /* of SvDomainChrDef */
    GPtrArray *rngs;                 /* of SvDomainRngDef */
    GPtrArray *panics;               /* of SvDomainPanicDef, one per model at most */
    SvDomainMemballoonDef *memballoon; /* NULL = no <memballoon> element */
    SvDomainWatchdogDef *watchdog;     /* NULL = none (libvirt 9.0 takes one) */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */

    /* ---- defaults, addresses and aliases ---- */
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
} SvDomainParseFlags;

typedef enum {
    /* Format the persistent config: no id, no pty paths. */
    SV_DOMAIN_FORMAT_INACTIVE = 1 << 0,
    /* Include secrets; there are none yet. */
    SV_DOMAIN_FORMAT_SECURE = 1 << 1,
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

/* A deep copy. (transfer full) */
SvDomainDef *sv_domain_def_copy(const SvDomainDef *def);

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
const char *sv_domain_net_type_to_string(int v);
int sv_domain_net_type_from_string(const char *s);
const char *sv_domain_chr_type_to_string(int v);
int sv_domain_chr_type_from_string(const char *s);
const char *sv_domain_controller_type_to_string(int v);
int sv_domain_controller_type_from_string(const char *s);
const char *sv_domain_idmap_kind_to_string(int v);
int sv_domain_idmap_kind_from_string(const char *s);
