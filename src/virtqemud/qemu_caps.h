/* qemu_caps.h: what the installed QEMU is: version, machine types, CPU and NIC models, probed lazily
 * and cached on disk keyed on the binary's path and mtime. */
#pragma once

#include <glib.h>

typedef struct QemuCaps QemuCaps;

typedef struct {
    char *name;      /* "pc-i440fx-7.2" or "pc" */
    char *canonical; /* "pc-i440fx-7.2" for the alias "pc", else NULL */
} QemuMachine;

/* cache_dir: ROOT/var/cache/libvirt/qemu. Nothing is run until a probe is asked for. */
QemuCaps *qemu_caps_new(const char *emulator, const char *cache_dir);
void qemu_caps_free(QemuCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuCaps, qemu_caps_free)

const char *qemu_caps_get_emulator(QemuCaps *caps);

/* TRUE when the probed facts are current (loads the disk cache on first use). */
gboolean qemu_caps_is_ready(QemuCaps *caps);

/* Probe without blocking the loop; cb runs on the loop with error NULL on success.
 * Concurrent callers share one probe. */
typedef void (*QemuCapsReadyFunc)(QemuCaps *caps, const GError *error, gpointer data);
void qemu_caps_probe_async(QemuCaps *caps, QemuCapsReadyFunc cb, gpointer data);

/* Valid once ready. */
guint64 qemu_caps_get_version(QemuCaps *caps);
const GPtrArray *qemu_caps_get_machines(QemuCaps *caps); /* QemuMachine */
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
GPtrArray *qemu_caps_parse_machines(const char *text);
GPtrArray *qemu_caps_parse_cpu_models(const char *text);  /* of char *, from -cpu help */
GPtrArray *qemu_caps_parse_nic_models(const char *text);  /* of char *, from -device help */

/* Facts without a probe, from the outputs a probe would read (tests). */
QemuCaps *qemu_caps_new_from_output(const char *emulator, const char *version,
                                    const char *machines, const char *cpus,
                                    const char *devices);

/* Whether /dev/kvm can run guests here. */
gboolean qemu_caps_kvm_usable(void);
