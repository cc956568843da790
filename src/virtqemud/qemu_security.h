/* qemu_security.h: who QEMU runs as (user, group, environment) and, with SELinux
 * enabled, the label it runs and reads its images with. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain_conf.h"
#include "util/conffile.h"

/* The driver-wide part: the configured identity, the security model, the MCS
 * category pairs of running guests and the files they relabelled. */
typedef struct QemuSecurity QemuSecurity;

/* One running guest's part: its SELinux label, image label and the files it relabelled
 * with their original labels, and the files given to QEMU's user (qemu_dac.h). A guest
 * without one (<seclabel type='none'>, or neither SELinux nor dynamic_ownership) runs
 * unlabelled. */
typedef struct QemuSecLabel QemuSecLabel;

/* Read `user` and `group` from virtqemud.conf (names, "+N" or N; default libvirt-qemu, as
 * Debian's libvirt: a missing user or group is an error), dynamic_ownership and
 * remember_owner (qemu_dac.h)
 * and resolve them, with the user's supplementary groups, now: the child that
 * switches to them must not look anything up. Probe SELinux. lib_dir is the
 * parent of the per-guest directories; a non-root user gets it for its own, as
 * libvirt does, so it can reach its directory. */
QemuSecurity *qemu_security_new(SvConfFile *conf, const char *lib_dir, GError **error);
void qemu_security_free(QemuSecurity *sec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuSecurity, qemu_security_free)

/* "selinux" when SELinux is enabled, else "" (the "none" driver). */
const char *qemu_security_get_model(QemuSecurity *sec);
/* "0" with a model, else "". */
const char *qemu_security_get_doi(QemuSecurity *sec);
/* libvirt's DAC label of QEMU's identity, "+UID:+GID". (transfer full) */
char *qemu_security_get_dac_label(QemuSecurity *sec);
/* The base process label for a domain type ("kvm" or "qemu"), NULL without SELinux. */
const char *qemu_security_get_base_label(QemuSecurity *sec, gboolean kvm);

/* A new label for def, in *out_label (transfer full): with SELinux, one with an MCS
 * category pair no running guest has; without, one for file ownership only. NULL there
 * when def asks for <seclabel type='none'> or neither SELinux nor dynamic_ownership is
 * in force. */
gboolean qemu_security_label_new(QemuSecurity *sec, const SvDomainDef *def,
                                 QemuSecLabel **out_label, GError **error);

/* Relabel what QEMU opens by path: writable disks with the image label,
 * read-only disks, kernel and initrd with the shared content label (they may be
 * shared between guests), serial files with the image label; and give them all to
 * QEMU's user. Each original label and owner is remembered; on failure, what was
 * changed stays recorded for qemu_security_label_release(). */
gboolean qemu_security_label_apply(QemuSecurity *sec, QemuSecLabel *label,
                                   const SvDomainDef *def, GError **error);

/* The guest is gone: give files back their original labels once no other
 * running guest uses them, and free the category pair. label may be NULL.
 * Does not free label. */
void qemu_security_label_release(QemuSecurity *sec, QemuSecLabel *label);

void qemu_security_label_free(QemuSecLabel *label);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuSecLabel, qemu_security_label_free)

/* (transfer none) The SELinux labels; NULL without SELinux. */
const char *qemu_security_label_get_label(const QemuSecLabel *label);
const char *qemu_security_label_get_imagelabel(const QemuSecLabel *label);

/* The live XML's <seclabel> elements (SELinux's, then DAC's), indented for a child of
 * <domain>, or "" without a label. migratable: as libvirt's MIGRATABLE XML, without the
 * DAC label every guest has implicitly (the other host labels its own). (transfer full) */
char *qemu_security_label_format_xml(QemuSecurity *sec, const QemuSecLabel *label,
                                     gboolean migratable);

/* For the status file: attributes of <domstatus> (" seclabel='...' ...") and
 * its children (one <relabel/> per file), each "" without a label. */
char *qemu_security_label_format_status_attrs(const QemuSecLabel *label);
char *qemu_security_label_format_status_children(QemuSecurity *sec, const QemuSecLabel *label);

/* A restarted daemon takes a label back from a <domstatus> element: the
 * category pair is reserved and the files are counted as in use again. NULL
 * when the status carries none. */
QemuSecLabel *qemu_security_label_from_status(QemuSecurity *sec, xmlNodePtr domstatus);

/* Around creating the monitor socket and around sv_process_spawn(): the socket
 * and then QEMU's exec get the guest's label (SELinux keeps both per thread;
 * only the main thread runs this). No-ops without a label. The clear calls
 * never fail. */
gboolean qemu_security_set_socket_label(QemuSecurity *sec, const QemuSecLabel *label,
                                        GError **error);
void qemu_security_clear_socket_label(QemuSecurity *sec, const QemuSecLabel *label);
gboolean qemu_security_set_exec_label(QemuSecurity *sec, const QemuSecLabel *label,
                                      GError **error);
void qemu_security_clear_exec_label(QemuSecurity *sec, const QemuSecLabel *label);

/* Give the per-guest directory to QEMU's user and group. */
gboolean qemu_security_prepare_dir(QemuSecurity *sec, const char *dir, GError **error);

/* A file the daemon made for QEMU to write (a crash dump): to QEMU's user and group, or
 * back to the daemon's. Nothing when QEMU runs as the daemon's user. */
gboolean qemu_security_give_file(QemuSecurity *sec, const char *path, gboolean to_qemu,
                                 GError **error);

/* QEMU's environment, as libvirt sets it: LC_ALL=C, PATH, HOME in its own
 * directory, USER and LOGNAME. Nothing of the daemon's (preloads, sanitizer
 * options) reaches QEMU. (transfer full) */
GStrv qemu_security_build_env(QemuSecurity *sec, const char *home);

/* SvSpawnOptions.child_setup with data = sec: take the supplementary groups,
 * gid and uid. Async-signal-safe; on failure it writes why to stderr (QEMU's
 * log) and exits 127, so QEMU never runs as root by mistake. */
void qemu_security_child_setup(gpointer sec);
