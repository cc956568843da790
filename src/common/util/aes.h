/* aes.h: AES-256-CBC with PKCS#7 padding (always 1 to 16 bytes of it), the one cipher
 * libvirt uses for data it hands QEMU (secret objects keyed by a domain's master key) and
 * for secret values kept encrypted at rest (libvirt 12.1's UUID.aes256cbc files). */
#pragma once

#include <glib.h>

#define SV_AES_KEY_LEN 32
#define SV_AES_IV_LEN 16

/* The ciphertext of in[len]: a multiple of 16 bytes, at least one more than len.
 * Errors are reported in domain `from`. (transfer full) */
guint8 *sv_aes_encrypt(const guint8 key[SV_AES_KEY_LEN], const guint8 iv[SV_AES_IV_LEN],
                       const guint8 *in, gsize len, gsize *out_len, int from, GError **error);

/* The plaintext of in[len], its padding checked and removed; fails when len is not a
 * positive multiple of 16 or the padding is not PKCS#7's (most often a wrong key). The
 * result has a NUL after its *out_len bytes. (transfer full) */
guint8 *sv_aes_decrypt(const guint8 key[SV_AES_KEY_LEN], const guint8 iv[SV_AES_IV_LEN],
                       const guint8 *in, gsize len, gsize *out_len, int from, GError **error);

/* len random bytes, for an IV; FALSE with error (domain `from`) if none could be had. */
gboolean sv_aes_random(guint8 *buf, gsize len, int from, GError **error);
