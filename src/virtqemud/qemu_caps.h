/* qemu_caps.h: what the installed QEMU is: version, machine types, CPU models and their
 * usability under TCG and KVM, NIC models, QOM types, display types, TPM, SPICE and VNC;
 * probed lazily (QEMU's help texts and a QMP run with -machine none, as QEMU's user) and
 * cached on disk keyed on the binary's path and mtime, /dev/kvm and QEMU's identity. */
#pragma once

#include <glib.h>

typedef struct QemuCaps QemuCaps;

typedef struct {
    char *name;      /* "pc-i440fx-7.2" or "pc" */
    char *canonical; /* "pc-i440fx-7.2" for the alias "pc", else NULL */
    guint max_cpus;
    gboolean deprecated;
} QemuMachine;

typedef enum {
    QEMU_CPU_USABLE_UNKNOWN,
    QEMU_CPU_USABLE_YES,
    QEMU_CPU_USABLE_NO,
    QEMU_CPU_USABLE_LAST
} QemuCpuUsable;

const char *qemu_cpu_usable_to_string(QemuCpuUsable u);

typedef struct {
    char *name; /* as query-cpu-definitions lists it, versions ("-v1") included */
    QemuCpuUsable usable;
    GStrv blockers; /* its unavailable-features (QEMU's names), never NULL */
} QemuCpuDef;

/* The CPU QEMU gives a guest as "max" (TCG) or "host" (KVM) (query-cpu-model-expansion):
 * libvirt's source of its host-model CPU. */
typedef struct {
    GStrv features; /* QEMU's names (aliases included) of the features on, sorted */
    GStrv props;    /* every feature property, on or off, sorted */
    GStrv nonmigratable; /* the features on only when "max" may be non-migratable */
    char *vendor;   /* "AuthenticAMD" */
    guint family, model, stepping;
} QemuHostCpu;
void qemu_host_cpu_free(QemuHostCpu *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuHostCpu, qemu_host_cpu_free)

/* cache_dir: ROOT/var/cache/libvirt/qemu. Nothing is run until a probe is asked for. */
QemuCaps *qemu_caps_new(const char *emulator, const char *cache_dir);
void qemu_caps_free(QemuCaps *caps);

/* Run the probe's QEMU as guests run: child_setup (with data) takes their identity before
 * exec, as libvirt probes as QEMU's user (what it may open, /dev/kvm first, is what guests
 * may). identity names it in the disk cache, which another identity does not use. */
void qemu_caps_set_identity(QemuCaps *caps, const char *identity, void (*child_setup)(gpointer),
                            gpointer data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuCaps, qemu_caps_free)

/* The time limit of each QEMU run of the probe (30 s; tests shorten it). */
void qemu_caps_set_probe_timeout(QemuCaps *caps, guint ms);

const char *qemu_caps_get_emulator(QemuCaps *caps);

/* TRUE when the probed facts are current (loads the disk cache on first use). */
gboolean qemu_caps_is_ready(QemuCaps *caps);

/* Probe without blocking the loop; cb runs on the loop with error NULL on success.
 * Concurrent callers share one probe. */
typedef void (*QemuCapsReadyFunc)(QemuCaps *caps, const GError *error, gpointer data);
void qemu_caps_probe_async(QemuCaps *caps, QemuCapsReadyFunc cb, gpointer data);

/* Valid once ready. */
guint64 qemu_caps_get_version(QemuCaps *caps);
/* QEMU's name of the architecture it emulates ("x86_64", "i386"), NULL before a probe. */
const char *qemu_caps_get_arch(QemuCaps *caps);
/* QemuMachine, libvirt's order: QEMU's, with the default machine and its alias first. */
const GPtrArray *qemu_caps_get_machines(QemuCaps *caps);
/* The machine named name (or whose alias it is), NULL when QEMU has none. */
const QemuMachine *qemu_caps_find_machine(QemuCaps *caps, const char *name);
/* QemuCpuDef, in QEMU's order, usable as with TCG, or with KVM (empty unless probed). */
const GPtrArray *qemu_caps_get_cpu_defs(QemuCaps *caps, gboolean kvm);
/* The CPU QEMU gives a TCG guest as "max", or a KVM guest as "host", NULL when the probe
 * has none. */
const QemuHostCpu *qemu_caps_get_host_cpu(QemuCaps *caps, gboolean kvm);
/* Whether QEMU has a QOM type (a device or object: "virtio-vga", "memory-backend-memfd"),
 * a display type as -display takes it ("sdl", "dbus"), a TPM model or backend type
 * ("tpm-crb", "emulator"), SPICE and VNC. */
gboolean qemu_caps_has_type(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_display(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_tpm_model(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_tpm_type(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_spice(QemuCaps *caps);
gboolean qemu_caps_has_vnc(QemuCaps *caps);
/* Text computed from the facts (a domain capabilities document), kept until the facts
 * change: NULL when nothing is kept under key. */
const char *qemu_caps_memo_get(QemuCaps *caps, const char *key);
void qemu_caps_memo_set(QemuCaps *caps, const char *key, const char *value);
/* Whether QEMU ran with KVM during the probe. */
gboolean qemu_caps_has_kvm(QemuCaps *caps);
/* Whether QEMU knows a machine type (a name or an alias), a CPU model as -cpu takes it,
 * a NIC model as -device takes it (a PCI network device or its alias). */
gboolean qemu_caps_has_machine(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_cpu_model(QemuCaps *caps, const char *name);
gboolean qemu_caps_has_nic_model(QemuCaps *caps, const char *name);
/* The machine type an alias stands for ("pc" -> "pc-i440fx-7.2"), as libvirt writes it at
 * define; a name that is no alias (or unknown) comes back as it is. (transfer none) */
const char *qemu_caps_get_canonical_machine(QemuCaps *caps, const char *name);

/* Parsers, exposed for unit tests. */
gboolean qemu_caps_parse_version(const char *text, guint64 *version);
GPtrArray *qemu_caps_parse_cpu_models(const char *text);  /* of char *, from -cpu help */
GPtrArray *qemu_caps_parse_nic_models(const char *text);  /* of char *, from -device help */

/* Facts without a probe, from the outputs a probe would read (tests): qmp is the QMP
 * run's output (qemu_caps_qmp_commands(FALSE) answered), qmp_kvm the KVM one's or NULL. */
QemuCaps *qemu_caps_new_from_output(const char *emulator, const char *version,
                                    const char *qmp, const char *qmp_kvm, const char *cpus,
                                    const char *devices);

/* Whether /dev/kvm can run guests here. */
gboolean qemu_caps_kvm_usable(void);
