/* qemu_secret.h: the keys of a guest's LUKS disks, as libvirt's QEMU driver hands them to
 * QEMU: each disk's passphrase fetched from virtsecretd at start (domain/secret_value.h,
 * for the starting client's identity, elevated), then given on the command line as a
 * `secret` object whose data is AES-256-CBC encrypted with the guest's master key (32
 * random bytes in DIR/master-key.aes, QEMU's object masterKey0) under a random IV. */
#pragma once
#include <glib.h>

#include "conf/domain_conf.h"
#include "programs/backend.h"

#define QEMU_MASTER_KEY_LEN 32

/* One disk's secret object: its base64 data and IV (its id is the disk's format node's,
 * libvirt-N-format-encryption-secret0). */
typedef struct QemuDiskSecret {
    char *data;
    char *iv;
} QemuDiskSecret;

void qemu_disk_secret_free(QemuDiskSecret *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDiskSecret, qemu_disk_secret_free)

/* Whether disk `d` is opened with a key (a LUKS <encryption> with its secret). */
gboolean qemu_secret_disk_needs_key(const SvDomainDiskDef *d);

/* The passphrases of the LUKS disks among `disks` (SvDomainDiskDef, NULL entries skipped)
 * (transfer full: GPtrArray of GBytes, NULL for a disk without one, the same indexes), or
 * libvirt's error of the first that failed. */
typedef void (*QemuSecretsFunc)(GPtrArray *values, const GError *error, gpointer data);
/* Fetch them one after the other from virtsecretd on sock_dir; `done` is called once,
 * later on the loop (disks are not kept). */
void qemu_secret_fetch_disks(GPtrArray *disks, const char *sock_dir,
                             const SvBackendIdentity *id, QemuSecretsFunc done, gpointer data);

/* Make the master key (random) and write it 0600 to DIR/master-key.aes. */
gboolean qemu_secret_master_key_make(const char *dir, guint8 key[QEMU_MASTER_KEY_LEN],
                                     GError **error);
/* Remove DIR/master-key.aes (the guest's files go). */
void qemu_secret_master_key_remove(const char *dir);
/* Read the master key back from DIR/master-key.aes (a restarted daemon's guest). */
gboolean qemu_secret_master_key_read(const char *dir, guint8 key[QEMU_MASTER_KEY_LEN],
                                     GError **error);
/* The secret object of `value`. */
QemuDiskSecret *qemu_secret_encrypt(const guint8 key[QEMU_MASTER_KEY_LEN], GBytes *value,
                                    GError **error);
