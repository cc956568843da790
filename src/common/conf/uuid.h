/* uuid.h: libvirt-compatible UUID parsing, formatting and generation. */
#pragma once

#include <glib.h>

/* The length of a formatted UUID, 8-4-4-4-12, without the terminating NUL. */
#define SV_UUID_STRING_LEN 36

/* Parse `s` into `out` as libvirt's virUUIDParse does: 32 hex digits in either case, with
 * '-' or ' ' allowed between digit pairs (so 8-4-4-4-12 and the bare 32-digit form both
 * work) and surrounding whitespace ignored. Returns FALSE, leaving `out` unspecified, when
 * `s` is not such a UUID. Accepting exactly what libvirt accepts keeps XML that libvirt
 * takes valid here. */
gboolean sv_uuid_parse(const char *s, guint8 out[16]);

/* Format `uuid` into `out` as lowercase 8-4-4-4-12 plus a NUL. */
void sv_uuid_format(const guint8 uuid[16], char out[SV_UUID_STRING_LEN + 1]);

/* Fill `out` with a random (version 4, RFC 4122 variant) UUID. */
void sv_uuid_generate(guint8 out[16]);
