/* secret_value.c: a secret's value from virtsecretd for a daemon's own use (secret_value.h). */
#include "domain/secret_value.h"

#include <string.h>

#include "conf/secret_def.h"
#include "conf/uuid.h"
#include "programs/family_client.h"
#include "protocol/remote_dispatch.h"
#include "util/error.h"

typedef struct {
    SvFamilyClient *fc;
    int usage_type;
    SvSecretValueFunc done;
    gpointer data;
    GError *error; /* the connection could not be made: told from an idle */
} Fetch;

static void
fetch_finish(Fetch *f, GBytes *value, const GError *error)
{
    f->done(value, error, f->data);
    sv_family_client_free(f->fc);
    g_clear_error(&f->error);
    g_free(f);
}

static gboolean
fetch_failed_idle(gpointer p)
{
    Fetch *f = p;

    fetch_finish(f, NULL, f->error);
    return G_SOURCE_REMOVE;
}

static void
wipe_free(gpointer p)
{
    /* The length is not known here: the block was allocated with its length in front. */
    gsize *block = (gsize *)p - 1;

    explicit_bzero(block, sizeof(gsize) + *block);
    g_free(block);
}

/* A copy of `len` bytes that is wiped when the last reference goes. */
static GBytes *
wiped_bytes(const char *val, gsize len)
{
    gsize *block = g_malloc(sizeof(gsize) + MAX(len, 1));

    *block = len;
    memcpy(block + 1, val, len);
    return g_bytes_new_with_free_func(block + 1, len, wipe_free, block + 1);
}

static void
value_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    remote_secret_get_value_ret *r = ret;
    g_autoptr(GBytes) value = NULL;

    (void)fc;
    if (!error) {
        value = wiped_bytes(r->value.value_val, r->value.value_len);
        explicit_bzero(r->value.value_val, r->value.value_len);
    }
    fetch_finish(data, value, error);
}

/* The secret found: of the usage expected (libvirt lets NONE through), then its value. */
static void
lookup_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    Fetch *f = data;
    remote_nonnull_secret *s = ret; /* both lookups' replies hold just the secret */
    remote_secret_get_value_args a = {.flags = 0};
    g_autoptr(GError) e = NULL;
    char uuid[SV_UUID_STRING_LEN + 1];

    if (error) {
        fetch_finish(f, NULL, error);
        return;
    }
    if (s->usageType != SV_SECRET_USAGE_TYPE_NONE && s->usageType != f->usage_type) {
        sv_uuid_format((const guint8 *)s->uuid, uuid);
        sv_error_set(&e, SV_FROM_SECRET, SV_ERR_INVALID_ARG,
                     "secret with uuid %s is of type '%s' not expected '%s' type", uuid,
                     sv_secret_usage_type_to_string(s->usageType),
                     sv_secret_usage_type_to_string(f->usage_type));
        fetch_finish(f, NULL, e);
        return;
    }
    a.secret = *s;
    sv_family_client_call(fc, REMOTE_PROC_SECRET_GET_VALUE,
                          (xdrproc_t)xdr_remote_secret_get_value_args, &a,
                          (xdrproc_t)xdr_remote_secret_get_value_ret,
                          sizeof(remote_secret_get_value_ret), value_done, f);
}

void
sv_secret_value_fetch(const char *run_dir, const SvBackendIdentity *id,
                      const SvSecretLookup *lookup, int usage_type, SvSecretValueFunc done,
                      gpointer data)
{
    Fetch *f = g_new0(Fetch, 1);

    f->usage_type = usage_type;
    f->done = done;
    f->data = data;
    f->fc = sv_family_client_new(run_dir, SV_PROC_FAMILY_SECRET, id, &f->error);
    if (!f->fc) {
        g_idle_add(fetch_failed_idle, f);
        return;
    }
    if (lookup->by_uuid) {
        remote_secret_lookup_by_uuid_args a;
        memcpy(a.uuid, lookup->uuid, 16);
        sv_family_client_call(f->fc, REMOTE_PROC_SECRET_LOOKUP_BY_UUID,
                              (xdrproc_t)xdr_remote_secret_lookup_by_uuid_args, &a,
                              (xdrproc_t)xdr_remote_secret_lookup_by_uuid_ret,
                              sizeof(remote_secret_lookup_by_uuid_ret), lookup_done, f);
    } else {
        remote_secret_lookup_by_usage_args a = {usage_type, (char *)lookup->usage};
        sv_family_client_call(f->fc, REMOTE_PROC_SECRET_LOOKUP_BY_USAGE,
                              (xdrproc_t)xdr_remote_secret_lookup_by_usage_args, &a,
                              (xdrproc_t)xdr_remote_secret_lookup_by_usage_ret,
                              sizeof(remote_secret_lookup_by_usage_ret), lookup_done, f);
    }
}
