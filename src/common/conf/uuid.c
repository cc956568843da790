/* uuid.c: libvirt-compatible UUID parsing, formatting and generation. */
#include "conf/uuid.h"

#include <errno.h>
#include <sys/random.h>

gboolean
sv_uuid_parse(const char *s, guint8 out[16])
{
    const char *cur = s;
    guint i = 0;

    g_return_val_if_fail(s != NULL, FALSE);
    while (g_ascii_isspace(*cur))
        cur++;
    while (i < 16) {
        if (*cur == '-' || *cur == ' ') {
            cur++;
            continue;
        }
        /* The second test also stops at the NUL, so cur[1] is never read past the end. */
        if (!g_ascii_isxdigit(cur[0]) || !g_ascii_isxdigit(cur[1]))
            return FALSE;
        out[i++] = (guint8)(g_ascii_xdigit_value(cur[0]) * 16 + g_ascii_xdigit_value(cur[1]));
        cur += 2;
    }
    while (g_ascii_isspace(*cur))
        cur++;
    return *cur == '\0';
}

void
sv_uuid_format(const guint8 uuid[16], char out[SV_UUID_STRING_LEN + 1])
{
    g_snprintf(out, SV_UUID_STRING_LEN + 1,
               "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
               uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
               uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

void
sv_uuid_generate(guint8 out[16])
{
    gsize got = 0;

    /* The kernel's CSPRNG, as libvirt's virRandomBytes; GLib's generator only if that
     * fails (ENOSYS in odd sandboxes), since a UUID must be unique, not secret. */
    while (got < 16) {
        ssize_t n = getrandom(out + got, 16 - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (gsize)n;
    }
    for (; got < 16; got++)
        out[got] = (guint8)g_random_int_range(0, 256);
    out[6] = (out[6] & 0x0f) | 0x40;
    out[8] = (out[8] & 0x3f) | 0x80;
}
