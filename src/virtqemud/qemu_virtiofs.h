/* qemu_virtiofs.h: virtiofs shares of QEMU guests (<filesystem> with <driver
 * type='virtiofs'>), as libvirt 9.0 serves them: the checks at define, the QEMU command line
 * (qemu_command_fs.c), and virtiofsd, which the daemon runs for each share before QEMU and
 * owns as a helper of the guest's run (domain/domain_helper.h) (qemu_virtiofs.c). */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "domain/domain_driver.h"

/* Where QEMU's vhost-user descriptors are looked for (libvirt's order: the administrator's
 * first), for the virtiofsd a share without <binary path> runs. */
extern const char *const qemu_virtiofs_desc_dirs[];

/* What libvirt's QEMU driver refuses at define for <filesystem> (CONFIG_UNSUPPORTED, its
 * texts and order): fmode or dmode without accessmode mapped; a handle share not in
 * passthrough; for virtiofs a read-only share, an access mode other than passthrough,
 * wrpolicy, model, multidevs, and a guest without shared memory. */
gboolean qemu_fs_check_def(const SvDomainDef *def, GError **error);

/* At start, on the live copy: each virtiofs share's vhost-user socket, libvirt's
 * DIR/ALIAS-fs.sock in the guest's directory (aliases assigned). */
void qemu_virtiofs_prepare_sockets(SvDomainDef *def, const char *dir);

/* For each share, as libvirt 9.0 writes them for QEMU 7.2: 9p's -fsdev (QEMU's option
 * syntax, every value escaped) and -device virtio-9p-pci*; virtiofs's -chardev socket and
 * -device vhost-user-fs-pci (sockets prepared) (qemu_command_fs.c). */
void qemu_command_build_filesystems(const SvDomainDef *def, GPtrArray *argv);

/* virtiofsd's command line for fs, serving the vhost-user socket it inherits as `fd`:
 * libvirt's --fd=N and one -o with source, cache, xattr and lock options. The source
 * directory is escaped for virtiofsd's own -o syntax (FUSE's: "\\," for a comma, "\\\\" for
 * a backslash), so no directory name can add an option. (transfer full) */
GStrv qemu_virtiofs_argv(const SvDomainFsDef *fs, int fd);

/* The program of the first vhost-user descriptor of type "fs" in dirs (a file name in an
 * earlier directory hides the same name in later ones; names in order), or NULL with
 * libvirt's INTERNAL_ERROR. (transfer full) */
char *qemu_virtiofs_find_binary(const char *const *dirs, GError **error);

/* At start, after the guest's directory `dir` exists and before QEMU's command line: for
 * each virtiofs share, its socket (qemu_virtiofs_prepare_sockets), the default binary filled in
 * (live XML shows it, as libvirt's), its listening socket given to QEMU's user, its log
 * LOG_DIR/NAME-ALIAS-virtiofsd.log, and virtiofsd forked as root, held before exec, as a helper of
 * the run (released with QEMU once the status file names it). */
gboolean qemu_virtiofs_start(SvDomainObj *obj, const char *dir, GError **error);

/* The program helper `id` (a share's alias) of the guest whose definition is `def` runs:
 * SvRunHelperExe for a restarted daemon. (transfer none) */
const char *qemu_virtiofs_helper_exe(const char *id, gpointer def);

/* Remove the shares' sockets in the guest's directory `dir`. */
void qemu_virtiofs_remove_sockets(const SvDomainDef *def, const char *dir);
