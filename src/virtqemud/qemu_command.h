/* qemu_command.h: the QEMU command line for a domain definition. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

typedef struct {
    const char *emulator;   /* used when the definition names none */
    int monitor_fd;         /* listening socket QEMU serves QMP on */
} QemuCommandOptions;

/* argv (NULL-terminated, transfer full) for def, or NULL with CONFIG_UNSUPPORTED
 * naming what QEMU cannot be asked for. */
GStrv qemu_command_build(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error);

/* Refuse at define time what no QEMU start could honour. */
gboolean qemu_command_check_def(const SvDomainDef *def, GError **error);

/* The per-guest directory name: "domain-ID-SHORTNAME", SHORTNAME the first 20
 * bytes of the name (cut at a UTF-8 character boundary). (transfer full) */
char *qemu_domain_dir_name(int id, const char *name);
