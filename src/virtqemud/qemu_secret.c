/* qemu_secret.c: the keys of a guest's LUKS disks (qemu_secret.h). */
#include "qemu_secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "conf/secret_def.h"
#include "conf/storage_vol_def.h"
#include "domain/secret_value.h"
#include "util/aes.h"
#include "util/error.h"
#include "util/fileio.h"

void
qemu_disk_secret_free(QemuDiskSecret *s)
{
    if (!s)
        return;
    g_free(s->data);
    g_free(s->iv);
    g_free(s);
}

gboolean
qemu_secret_disk_needs_key(const SvDomainDiskDef *d)
{
    return d->encryption && d->encryption->format == SV_VOL_ENC_LUKS &&
           d->encryption->secrets->len > 0 && !sv_domain_disk_is_empty(d);
}

/* ---------------------------------------------------------------- fetching */

/* One disk's secret, as its definition named it (copied: the fetch outlives nothing). */
typedef struct {
    SvSecretLookup lookup;
    char *usage;
} Wanted;

static void
wanted_free(gpointer p)
{
    Wanted *w = p;

    if (w)
        g_free(w->usage);
    g_free(w);
}

typedef struct {
    GPtrArray *wanted; /* Wanted or NULL, per disk */
    char *sock_dir;
    SvBackendIdentity id;
    GPtrArray *values;
    guint next;
    QemuSecretsFunc done;
    gpointer data;
} Fetch;

static void fetch_next(Fetch *f);

static void
fetch_finish(Fetch *f, const GError *error)
{
    f->done(error ? NULL : g_steal_pointer(&f->values), error, f->data);
    if (f->values)
        g_ptr_array_unref(f->values);
    g_ptr_array_unref(f->wanted);
    g_free(f->sock_dir);
    g_free(f);
}

static void
value_done(GBytes *value, const GError *error, gpointer data)
{
    Fetch *f = data;

    if (error) {
        fetch_finish(f, error);
        return;
    }
    f->values->pdata[f->next++] = g_bytes_ref(value);
    fetch_next(f);
}

static void
fetch_next(Fetch *f)
{
    while (f->next < f->wanted->len && !f->wanted->pdata[f->next])
        f->next++;
    if (f->next == f->wanted->len) {
        fetch_finish(f, NULL);
        return;
    }
    sv_secret_value_fetch(f->sock_dir, &f->id, &((Wanted *)f->wanted->pdata[f->next])->lookup,
                          SV_SECRET_USAGE_TYPE_VOLUME, value_done, f);
}

void
qemu_secret_fetch_disks(GPtrArray *disks, const char *sock_dir, const SvBackendIdentity *id,
                        QemuSecretsFunc done, gpointer data)
{
    Fetch *f = g_new0(Fetch, 1);

    f->wanted = g_ptr_array_new_full(disks->len, wanted_free);
    for (guint i = 0; i < disks->len; i++) {
        const SvDomainDiskDef *d = disks->pdata[i];
        const SvVolSecret *sec;
        Wanted *w = NULL;

        if (d && qemu_secret_disk_needs_key(d)) {
            sec = d->encryption->secrets->pdata[0];
            w = g_new0(Wanted, 1);
            w->lookup.by_uuid = sec->by_uuid;
            memcpy(w->lookup.uuid, sec->uuid, 16);
            w->usage = g_strdup(sec->usage);
            w->lookup.usage = w->usage;
        }
        g_ptr_array_add(f->wanted, w);
    }
    f->sock_dir = g_strdup(sock_dir);
    f->id = *id;
    f->values = g_ptr_array_new_full(disks->len, (GDestroyNotify)g_bytes_unref);
    g_ptr_array_set_size(f->values, disks->len);
    f->done = done;
    f->data = data;
    fetch_next(f);
}

/* ---------------------------------------------------------------- handing over */

gboolean
qemu_secret_master_key_make(const char *dir, guint8 key[QEMU_MASTER_KEY_LEN], GError **error)
{
    g_autofree char *path = g_build_filename(dir, "master-key.aes", NULL);

    if (getrandom(key, QEMU_MASTER_KEY_LEN, 0) != QEMU_MASTER_KEY_LEN) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "%s",
                           "failed to generate master key");
        return FALSE;
    }
    if (!sv_file_write_atomic(path, (const char *)key, QEMU_MASTER_KEY_LEN, 0600, error)) {
        g_prefix_error(error, "failed to write master key file for domain: ");
        return FALSE;
    }
    return TRUE;
}

void
qemu_secret_master_key_remove(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "master-key.aes", NULL);

    unlink(path);
}

gboolean
qemu_secret_master_key_read(const char *dir, guint8 key[QEMU_MASTER_KEY_LEN], GError **error)
{
    g_autofree char *path = g_build_filename(dir, "master-key.aes", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, NULL) || len != QEMU_MASTER_KEY_LEN) {
        if (data)
            explicit_bzero(data, len);
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "failed to read domain master key file '%s'", path);
        return FALSE;
    }
    memcpy(key, data, QEMU_MASTER_KEY_LEN);
    explicit_bzero(data, len);
    return TRUE;
}

QemuDiskSecret *
qemu_secret_encrypt(const guint8 key[QEMU_MASTER_KEY_LEN], GBytes *value, GError **error)
{
    g_autoptr(QemuDiskSecret) s = g_new0(QemuDiskSecret, 1);
    guint8 iv[SV_AES_IV_LEN];
    g_autofree guint8 *ct = NULL;
    gsize len, ct_len;
    const guint8 *plain = g_bytes_get_data(value, &len);

    if (!sv_aes_random(iv, sizeof(iv), SV_FROM_QEMU, error))
        return NULL;
    if (!(ct = sv_aes_encrypt(key, iv, plain, len, &ct_len, SV_FROM_QEMU, error)))
        return NULL;
    s->data = g_base64_encode(ct, ct_len);
    s->iv = g_base64_encode(iv, sizeof(iv));
    return g_steal_pointer(&s);
}
