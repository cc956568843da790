/* qemu_command_chr.h: the QEMU command line of serials, consoles, channels, watchdog,
 * memballoon, rng and panic, and the checks and defaults libvirt's QEMU driver applies to
 * them (qemu_chr.c). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"

typedef struct QemuChrFds QemuChrFds;

/* -chardev and -device for the serials, channels and virtio consoles (aliases assigned),
 * with the descriptors `fds` opened for them at start (NULL: paths, as domxml-to-native). */
void qemu_command_build_chrs(const SvDomainDef *def, const QemuChrFds *fds, GPtrArray *argv);
/* The watchdog (and -watchdog-action), the memballoon and the rngs, in libvirt's order. */
void qemu_command_build_chr_late(const SvDomainDef *def, const QemuChrFds *fds,
                                 GPtrArray *argv);
/* The pvpanic devices, which libvirt writes after -sandbox. */
void qemu_command_build_panics(const SvDomainDef *def, GPtrArray *argv);

/* What libvirt's QEMU driver refuses at define for these devices (CONFIG_UNSUPPORTED). */
gboolean qemu_chr_check_def(const SvDomainDef *def, GError **error);

/* libvirt's QEMU defaults at define: a virtio memballoon when there is none, serial
 * target types and models, the console standing
 * for the first serial (and a serial for a lone console), the default panic model, the
 * virtio-serial controller a virtio channel or console needs and the virtio-serial
 * addresses of the ports. */
gboolean qemu_chr_post_parse(SvDomainDef *def, GError **error);

/* Aliases: channelN, consoleN (the first console of an hvm guest is serial0), rngN,
 * watchdog0, balloon0. */
void qemu_chr_assign_aliases(SvDomainDef *def);

/* At start, on the live copy: the socket path of each unix channel without one, libvirt's
 * CHANNEL_DIR/domain-ID-NAME/TARGETNAME (or vioser-CC-BB-PP.sock without a target name),
 * in bind mode. *ret_dir is the directory to create (transfer full), or NULL when no
 * channel needs one. Fails for a target name that is no plain file name. */
gboolean qemu_chr_prepare_channels(SvDomainDef *def, const char *channel_dir, int id,
                                   char **ret_dir, GError **error);
/* At stop: the sockets of the automatic channel paths under `channel_dir` and the guest's
 * directory holding them. */
void qemu_chr_remove_channels(const SvDomainDef *def, const char *channel_dir);

/* Learn from one query-chardev entry what the live XML shows of channels and virtio
 * consoles: their ptys ("charchannelN", "charconsoleN") and the channels' state. */
void qemu_chr_learn_chardev(SvDomainDef *def, JsonObject *chardev);

/* QEMU's VSERPORT_CHANGE event (`data`: id, open): the channel's live state. */
void qemu_chr_port_changed(SvDomainDef *def, JsonObject *data);

/* The qom-set arguments giving the balloon its statistics period. (transfer full) */
JsonObject *qemu_chr_balloon_period_args(const SvDomainMemballoonDef *balloon);

/* LIB/channel/target, under the driver's ROOT/var/lib/libvirt/qemu. (transfer full) */
char *qemu_chr_channel_dir(const char *lib_dir);

/* ---- descriptors QEMU gets at start (qemu_chr.c) ---- */

/* What libvirt opens itself and hands QEMU at start: each character device's file and
 * <log> file (through -add-fd fd sets) and each listening unix socket (by number). The
 * command line without them (domxml-to-native, the goldens) names the paths instead. */

typedef struct {
    int source_fd; /* -1: none */
    int log_fd;    /* -1: none */
    guint source_set;
    guint log_set;
} QemuChrFd;

/* Open them for `def` (its live copy, aliases assigned). (transfer full) */
QemuChrFds *qemu_chr_fds_open(const SvDomainDef *def, GError **error);
/* Close the daemon's copies; NULL is fine. */
void qemu_chr_fds_free(QemuChrFds *fds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuChrFds, qemu_chr_fds_free)
/* Every descriptor, for QEMU to keep open at the same numbers. (transfer none) */
const int *qemu_chr_fds_numbers(const QemuChrFds *fds, guint *ret_n);
/* The descriptors of `src`, if it has any. */
gboolean qemu_chr_fds_lookup(const QemuChrFds *fds, const SvDomainChrSource *src,
                             QemuChrFd *ret);

/* Every character device source that reaches the command line, in its order. */
typedef void (*QemuChrSourceFunc)(const SvDomainChrSource *src, gpointer data);
void qemu_chr_foreach_source(const SvDomainDef *def, QemuChrSourceFunc func, gpointer data);
