/* qemu_command.h: the QEMU command line for a domain definition. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "qemu_caps.h"

typedef struct {
    const char *emulator;   /* used when the definition names none */
    int monitor_fd;         /* listening socket QEMU serves QMP on */
    QemuCaps *caps;         /* what QEMU knows (ready): machine types, CPU and NIC models */
    /* One per interface (qemu_command_net.h): the taps and vhost fds QEMU inherits. */
    const struct QemuNetFds *net_fds;
    /* The character devices' descriptors opened at start (qemu_command_chr.h), or NULL
     * for their paths. */
    const struct QemuChrFds *chr_fds;
    /* LUKS disks (qemu_secret.h): the master key's file (NULL: none) and each disk's
     * secret object (QemuDiskSecret or NULL, by disk index; NULL: none at all). */
    const char *master_key_path;
    GPtrArray *disk_secrets;
    /* An incoming migration's start: QEMU's -incoming (libvirt's "defer"), or NULL. */
    const char *incoming;
} QemuCommandOptions;

/* argv (NULL-terminated, transfer full) for def, or NULL with CONFIG_UNSUPPORTED
 * naming what QEMU cannot be asked for.
 *
 * Every value of the definition that reaches argv is either one QEMU listed when it was
 * probed (machine type, CPU model, NIC model), a number or a name the parser already
 * restricts (disk targets, MAC addresses), a whole argument of its own (kernel, initrd,
 * kernel command line: QEMU takes the next argument as the option's value, whatever it
 * starts with), inside a JSON object (-netdev, -device of interfaces), or escaped for
 * QEMU's option syntax (commas doubled in option values: names, paths). So the shape of the command line, its options and their
 * keys, never depends on what the XML says. */
GStrv qemu_command_build(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error);

/* The program a guest runs: its <emulator>, else default_emulator. (transfer none) */
const char *qemu_command_emulator(const SvDomainDef *def, const char *default_emulator);

/* Whether emulator may be run: it is default_emulator (the one the capabilities report)
 * or one of allowed (the allowed_emulators key), else CONFIG_UNSUPPORTED naming that key
 * (libvirt runs any binary; a deliberate difference). With must_exist, a missing file
 * fails first as libvirt's does: SYSTEM_ERROR "Cannot check QEMU binary %s: ...". */
gboolean qemu_command_check_emulator(const char *emulator, const char *default_emulator,
                                     const char *const *allowed, gboolean must_exist,
                                     GError **error);

/* Refuse at define time what no QEMU start could honour. */
gboolean qemu_command_check_def(const SvDomainDef *def, GError **error);

/* The per-guest directory name: "domain-ID-SHORTNAME", SHORTNAME the first 20
 * bytes of the name (cut at a UTF-8 character boundary). (transfer full) */
char *qemu_domain_dir_name(int id, const char *name);
