/* secret_store.h: virtsecretd's secrets, in memory and under ROOT/etc/libvirt/secrets as
 * libvirt 9.0 keeps them: UUID.xml (the definition) and UUID.base64 (the value), 0600,
 * never for an ephemeral secret. With a secrets encryption key (libvirt 12.1's encryption
 * at rest) a value is written to UUID.aes256cbc instead: base64 of a random 16-byte IV
 * followed by the value's AES-256-CBC ciphertext (PKCS#7 padded). Either form is read. */
#pragma once

#include "conf/secret_def.h"

typedef struct {
    SvSecretDef *def;
    guint8 *value; /* NULL: none set; wiped when replaced or freed */
    gsize value_len;
} SecretObj;

typedef struct SecretStore SecretStore;

/* The secrets of directory dir (not read yet). (transfer full) */
SecretStore *secret_store_new(const char *dir);
void secret_store_free(SecretStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SecretStore, secret_store_free)

/* Write values sealed with key (SV_AES_KEY_LEN bytes, copied), or plain (NULL). Set before
 * secret_store_load(): without the key, a sealed value does not load. */
void secret_store_set_key(SecretStore *store, const guint8 *key);

/* Create the directory (0700) and load every secret in it; one that does not read, whose
 * file name is not its UUID or that clashes with another is skipped with a warning, as
 * libvirt does. Returns how many were loaded, or -1 with error when the directory cannot
 * be made. */
int secret_store_load(SecretStore *store, GError **error);

/* The secrets in definition order. (transfer none) */
GPtrArray *secret_store_list(SecretStore *store);
/* With libvirt's NO_SECRET error when absent. (transfer none) */
SecretObj *secret_store_find_uuid(SecretStore *store, const guint8 uuid[16], GError **error);
SecretObj *secret_store_find_usage(SecretStore *store, int usage_type, const char *usage_id,
                                   GError **error);
/* How many secrets are ephemeral (libvirt holds its daemon up while any is). */
guint secret_store_n_ephemeral(SecretStore *store);

/* Define def (transfer full) as libvirt's secretDefineXML: a new secret, or a redefinition
 * of the one with its UUID and usage; its files follow its ephemeral flag. */
SecretObj *secret_store_define(SecretStore *store, SvSecretDef *def, GError **error);
/* Replace obj's value (copied), written to disk unless obj is ephemeral. */
gboolean secret_store_set_value(SecretStore *store, SecretObj *obj, const guint8 *value,
                                gsize len, GError **error);
/* Remove obj and its files; obj is freed. */
gboolean secret_store_undefine(SecretStore *store, SecretObj *obj, GError **error);
