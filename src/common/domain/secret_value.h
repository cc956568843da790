/* secret_value.h: a secret's value fetched from virtsecretd for a daemon's own use (a LUKS
 * volume's key for qemu-img, an encrypted disk's key for QEMU), as libvirt's
 * virSecretGetSecretString: the secret looked up by UUID or by usage, its usage type
 * checked against the one expected, then its value read, all on one connection opened
 * (programs/family_client.h) with the identity of whoever the work is for, elevated with
 * the system token, so that virtsecretd gives a private secret's value to this internal
 * call and to no client. */
#pragma once
#include <glib.h>

#include "programs/backend.h"

typedef struct {
    gboolean by_uuid;
    guint8 uuid[16];
    const char *usage; /* when !by_uuid */
} SvSecretLookup;

/* The value (transfer none; its bytes are wiped when the last reference goes), or libvirt's
 * error: the lookup's ("Secret not found: ..."), "secret with uuid U is of type 'T' not
 * expected 'E' type" (INVALID_ARG, SECRET), the value's, or the connection's. */
typedef void (*SvSecretValueFunc)(GBytes *value, const GError *error, gpointer data);

/* Fetch the value; `done` is called once, always later on the loop. `id` should carry the
 * system token (sv_backend_system_token). */
void sv_secret_value_fetch(const char *run_dir, const SvBackendIdentity *id,
                           const SvSecretLookup *lookup, int usage_type, SvSecretValueFunc done,
                           gpointer data);
