/* aes.c: AES-256-CBC with PKCS#7 padding through gnutls (aes.h). */
#include "aes.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <sys/random.h>

#include "error.h"

/* Run the cipher over buf[len] in place, one way or the other. */
static gboolean
aes_run(const guint8 *key, const guint8 *iv, guint8 *buf, gsize len, gboolean encrypt,
        int from, GError **error)
{
    gnutls_datum_t k = {(guint8 *)key, SV_AES_KEY_LEN};
    gnutls_datum_t v = {(guint8 *)iv, SV_AES_IV_LEN};
    gnutls_cipher_hd_t h;
    int rc = gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &k, &v);

    if (rc == 0) {
        rc = encrypt ? gnutls_cipher_encrypt(h, buf, len) : gnutls_cipher_decrypt(h, buf, len);
        gnutls_cipher_deinit(h);
    }
    if (rc < 0) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, "failed to %s the data: '%s'",
                     encrypt ? "encrypt" : "decrypt", gnutls_strerror(rc));
        return FALSE;
    }
    return TRUE;
}

guint8 *
sv_aes_encrypt(const guint8 key[SV_AES_KEY_LEN], const guint8 iv[SV_AES_IV_LEN],
               const guint8 *in, gsize len, gsize *out_len, int from, GError **error)
{
    gsize padded = (len / SV_AES_IV_LEN + 1) * SV_AES_IV_LEN;
    guint8 *buf = g_malloc(padded);

    if (len)
        memcpy(buf, in, len);
    memset(buf + len, (int)(padded - len), padded - len);
    if (!aes_run(key, iv, buf, padded, TRUE, from, error)) {
        explicit_bzero(buf, padded);
        g_free(buf);
        return NULL;
    }
    *out_len = padded;
    return buf;
}

/* PKCS#7: the last byte n is 1..16 and the last n bytes all equal n. */
static gboolean
padding_ok(const guint8 *buf, gsize len)
{
    guint8 n = buf[len - 1];

    if (n == 0 || n > SV_AES_IV_LEN)
        return FALSE;
    for (gsize i = len - n; i < len; i++)
        if (buf[i] != n)
            return FALSE;
    return TRUE;
}

guint8 *
sv_aes_decrypt(const guint8 key[SV_AES_KEY_LEN], const guint8 iv[SV_AES_IV_LEN],
               const guint8 *in, gsize len, gsize *out_len, int from, GError **error)
{
    guint8 *buf;

    if (len == 0 || len % SV_AES_IV_LEN != 0) {
        sv_error_set(error, from, SV_ERR_INVALID_SECRET,
                     "encrypted data size '%zu' is not a multiple of the cipher's block",
                     len);
        return NULL;
    }
    buf = g_malloc(len + 1);
    memcpy(buf, in, len);
    if (!aes_run(key, iv, buf, len, FALSE, from, error) || !padding_ok(buf, len)) {
        if (error && !*error)
            sv_error_set(error, from, SV_ERR_INVALID_SECRET, "%s",
                         "failed to decrypt the data: wrong key or damaged data");
        explicit_bzero(buf, len);
        g_free(buf);
        return NULL;
    }
    *out_len = len - buf[len - 1];
    explicit_bzero(buf + *out_len, len - *out_len);
    buf[*out_len] = 0;
    return buf;
}

gboolean
sv_aes_random(guint8 *buf, gsize len, int from, GError **error)
{
    if (getrandom(buf, len, 0) != (ssize_t)len) {
        sv_error_set_errno(error, from, errno, "%s", "failed to generate IV");
        return FALSE;
    }
    return TRUE;
}
