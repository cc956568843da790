/* test-aes.c: util/aes.c, the AES-256-CBC of secret objects and of secret values at rest:
 * known answers computed with `openssl enc -aes-256-cbc` (PKCS#7 padding, always at least
 * one byte of it), round trips, and the refusals of a wrong key, a truncated ciphertext
 * and a damaged one. */
#include <glib.h>
#include <string.h>

#include "util/aes.h"
#include "util/error.h"

/* key 00 01 .. 1f, IV f0 f1 .. ff */
static void
fill(guint8 *key, guint8 *iv)
{
    for (int i = 0; i < SV_AES_KEY_LEN; i++)
        key[i] = (guint8)i;
    for (int i = 0; i < SV_AES_IV_LEN; i++)
        iv[i] = (guint8)(0xf0 + i);
}

static const struct {
    const char *plain;
    const char *cipher_hex;
} answers[] = {
    {"", "edaf9e57d045ac857f023f9dc238b14e"},
    {"secret", "d93c564209226d33159b07b1110b4ed9"},
    /* a full block gets a whole block of padding */
    {"0123456789abcdef", "cd951146cc74046a56c93a30e4a7cd50e5644b147420cb090229d6c7b90ed616"},
};

static char *
hex(const guint8 *b, gsize len)
{
    GString *s = g_string_new(NULL);

    for (gsize i = 0; i < len; i++)
        g_string_append_printf(s, "%02x", b[i]);
    return g_string_free(s, FALSE);
}

static void
test_known_answers(void)
{
    guint8 key[SV_AES_KEY_LEN], iv[SV_AES_IV_LEN];

    fill(key, iv);
    for (gsize i = 0; i < G_N_ELEMENTS(answers); i++) {
        gsize len = 0, back_len = 0;
        g_autoptr(GError) error = NULL;
        const guint8 *plain = (const guint8 *)answers[i].plain;
        g_autofree guint8 *ct = sv_aes_encrypt(key, iv, plain, strlen(answers[i].plain), &len,
                                               SV_FROM_SECRET, &error);
        g_autofree char *got = NULL;
        g_autofree guint8 *back = NULL;

        g_assert_no_error(error);
        got = hex(ct, len);
        g_assert_cmpstr(got, ==, answers[i].cipher_hex);
        back = sv_aes_decrypt(key, iv, ct, len, &back_len, SV_FROM_SECRET, &error);
        g_assert_no_error(error);
        g_assert_cmpmem(back, back_len, plain, strlen(answers[i].plain));
        g_assert_cmpint(back[back_len], ==, 0);
    }
}

static void
test_round_trip_binary(void)
{
    guint8 key[SV_AES_KEY_LEN], iv[SV_AES_IV_LEN], data[100];
    g_autoptr(GError) error = NULL;

    g_assert_true(sv_aes_random(key, sizeof(key), SV_FROM_SECRET, &error));
    g_assert_true(sv_aes_random(iv, sizeof(iv), SV_FROM_SECRET, &error));
    for (gsize n = 0; n <= sizeof(data); n++) {
        gsize len = 0, back_len = 0;
        g_autofree guint8 *ct = NULL;
        g_autofree guint8 *back = NULL;

        for (gsize i = 0; i < n; i++)
            data[i] = (guint8)(i * 7 + n);
        ct = sv_aes_encrypt(key, iv, data, n, &len, SV_FROM_SECRET, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(len, ==, (n / 16 + 1) * 16);
        back = sv_aes_decrypt(key, iv, ct, len, &back_len, SV_FROM_SECRET, &error);
        g_assert_no_error(error);
        g_assert_cmpmem(back, back_len, data, n);
    }
}

static void
test_refusals(void)
{
    guint8 key[SV_AES_KEY_LEN], iv[SV_AES_IV_LEN];
    gsize len = 0, out = 0;
    g_autofree guint8 *ct = NULL;
    GError *error = NULL;

    fill(key, iv);
    ct = sv_aes_encrypt(key, iv, (const guint8 *)"secret", 6, &len, SV_FROM_SECRET, &error);
    g_assert_no_error(error);

    /* another key: `openssl enc -d -nopad` gives a last byte of 0xeb, no PKCS#7 padding */
    key[0] = 0x1f;
    g_assert_null(sv_aes_decrypt(key, iv, ct, len, &out, SV_FROM_SECRET, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_SECRET), SV_ERR_INVALID_SECRET);
    g_assert_nonnull(strstr(error->message, "wrong key"));
    g_clear_error(&error);
    key[0] = 0;

    g_assert_null(sv_aes_decrypt(key, iv, ct, len - 1, &out, SV_FROM_SECRET, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_SECRET), SV_ERR_INVALID_SECRET);
    g_clear_error(&error);
    g_assert_null(sv_aes_decrypt(key, iv, ct, 0, &out, SV_FROM_SECRET, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_SECRET), SV_ERR_INVALID_SECRET);
    g_clear_error(&error);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aes/known-answers", test_known_answers);
    g_test_add_func("/aes/round-trip-binary", test_round_trip_binary);
    g_test_add_func("/aes/refusals", test_refusals);
    return g_test_run();
}
