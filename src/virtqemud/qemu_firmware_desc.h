/* qemu_firmware_desc.h: QEMU's firmware descriptors (docs/interop/firmware.json in QEMU;
 * Debian's ovmf installs them in /usr/share/qemu/firmware), read as libvirt 9.0 reads them:
 * by file name over the directories, the first directory's file winning a name and an
 * empty file masking it, each file read without trusting its shape (a member of another
 * type than expected counts as missing; a file that is no descriptor is skipped). Used to
 * pick a guest's firmware at start (qemu_firmware.c), and fit for the domain
 * capabilities' firmware lists. */
#pragma once

#include <glib.h>

/* The directories libvirt reads for a system daemon, the first winning a name. */
extern const char *const qemu_firmware_desc_dirs[];

typedef struct {
    char *arch;    /* "x86_64" */
    char *machine; /* a glob: "pc-q35-*" */
} QemuFirmwareTarget;

typedef struct {
    char *path;
    gboolean uefi;          /* "uefi" in interface-types */
    gboolean bios;          /* "bios" in interface-types */
    char *device;           /* mapping device: "flash", "memory", "kernel" */
    gboolean split;         /* flash in split mode (the default), executable + NVRAM */
    char *executable;       /* a flash executable's file, or a memory device's file */
    char *nvram_template;   /* a split flash's nvram-template file, or NULL */
    GPtrArray *targets;     /* of QemuFirmwareTarget */
    gboolean requires_smm;  /* features */
    gboolean secure_boot;
    gboolean enrolled_keys;
} QemuFirmwareDesc;

void qemu_firmware_desc_free(QemuFirmwareDesc *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuFirmwareDesc, qemu_firmware_desc_free)

/* The descriptors of `dirs` in libvirt's priority order. (transfer full, of
 * QemuFirmwareDesc) */
GPtrArray *qemu_firmware_desc_load_all(const char *const *dirs);

/* Whether `d` lists `arch` with a machine glob matching `machine` (canonical name). */
gboolean qemu_firmware_desc_targets(const QemuFirmwareDesc *d, const char *arch,
                                    const char *machine);
