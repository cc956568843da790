/* secret_store.c: virtsecretd's secrets and their files (secret_store.h). */
#include "secret_store.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf/uuid.h"
#include "util/aes.h"
#include "util/error.h"
#include "util/fileio.h"

struct SecretStore {
    char *dir;
    GPtrArray *secrets; /* SecretObj, definition order */
    gboolean has_key;   /* values are written encrypted with key */
    guint8 key[SV_AES_KEY_LEN];
};

/* A value's file: plain base64 (libvirt 9.0), or base64 of IV + AES-256-CBC ciphertext
 * (libvirt 12.1's encryption at rest). */
#define PLAIN_SUFFIX ".base64"
#define SEALED_SUFFIX ".aes256cbc"

static void
value_clear(SecretObj *obj)
{
    if (obj->value)
        memset(obj->value, 0, obj->value_len); /* no copy of a value stays on the heap */
    g_clear_pointer(&obj->value, g_free);
    obj->value_len = 0;
}

static void
secret_obj_free(SecretObj *obj)
{
    value_clear(obj);
    sv_secret_def_free(obj->def);
    g_free(obj);
}

SecretStore *
secret_store_new(const char *dir)
{
    SecretStore *store = g_new0(SecretStore, 1);

    store->dir = g_strdup(dir);
    store->secrets = g_ptr_array_new_with_free_func((GDestroyNotify)secret_obj_free);
    return store;
}

void
secret_store_free(SecretStore *store)
{
    if (!store)
        return;
    g_ptr_array_unref(store->secrets);
    explicit_bzero(store->key, sizeof(store->key));
    g_free(store->dir);
    g_free(store);
}

void
secret_store_set_key(SecretStore *store, const guint8 *key)
{
    store->has_key = key != NULL;
    if (key)
        memcpy(store->key, key, SV_AES_KEY_LEN);
    else
        explicit_bzero(store->key, sizeof(store->key));
}

GPtrArray *
secret_store_list(SecretStore *store)
{
    return store->secrets;
}

static char *
file_of(SecretStore *store, const SvSecretDef *def, const char *suffix)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    g_autofree char *name = NULL;

    sv_uuid_format(def->uuid, uuid);
    name = g_strconcat(uuid, suffix, NULL);
    return g_build_filename(store->dir, name, NULL);
}

static SecretObj *
lookup_uuid(SecretStore *store, const guint8 uuid[16])
{
    for (guint i = 0; i < store->secrets->len; i++) {
        SecretObj *o = store->secrets->pdata[i];
        if (memcmp(o->def->uuid, uuid, 16) == 0)
            return o;
    }
    return NULL;
}

/* libvirt never matches usage type none. */
static SecretObj *
lookup_usage(SecretStore *store, int type, const char *id)
{
    for (guint i = 0; type != SV_SECRET_USAGE_TYPE_NONE && i < store->secrets->len; i++) {
        SecretObj *o = store->secrets->pdata[i];
        if (o->def->usage_type == type && g_strcmp0(o->def->usage_id, id) == 0)
            return o;
    }
    return NULL;
}

SecretObj *
secret_store_find_uuid(SecretStore *store, const guint8 uuid[16], GError **error)
{
    SecretObj *o = lookup_uuid(store, uuid);
    char s[SV_UUID_STRING_LEN + 1];

    if (!o) {
        sv_uuid_format(uuid, s);
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_NO_SECRET,
                     "no secret with matching uuid '%s'", s);
    }
    return o;
}

SecretObj *
secret_store_find_usage(SecretStore *store, int type, const char *id, GError **error)
{
    SecretObj *o = lookup_usage(store, type, id);

    if (!o)
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_NO_SECRET,
                     "no secret with matching usage '%s'", id);
    return o;
}

guint
secret_store_n_ephemeral(SecretStore *store)
{
    guint n = 0;

    for (guint i = 0; i < store->secrets->len; i++)
        n += ((SecretObj *)store->secrets->pdata[i])->def->ephemeral ? 1 : 0;
    return n;
}

/* ---------------------------------------------------------------- files */

static gboolean
save_def(SecretStore *store, const SvSecretDef *def, GError **error)
{
    g_autofree char *path = file_of(store, def, ".xml");
    g_autofree char *xml = sv_secret_def_format(def);

    return sv_file_write_atomic(path, xml, strlen(xml), 0600, error);
}

/* The value's bytes as its file holds them before base64: IV + ciphertext when sealed. */
static guint8 *
seal_value(SecretStore *store, const SecretObj *obj, gsize *len, GError **error)
{
    guint8 iv[SV_AES_IV_LEN];
    g_autofree guint8 *ct = NULL;
    gsize ct_len = 0;
    guint8 *out;

    if (!sv_aes_random(iv, sizeof(iv), SV_FROM_SECRET, error) ||
        !(ct = sv_aes_encrypt(store->key, iv, obj->value, obj->value_len, &ct_len,
                              SV_FROM_SECRET, error)))
        return NULL;
    out = g_malloc(sizeof(iv) + ct_len);
    memcpy(out, iv, sizeof(iv));
    memcpy(out + sizeof(iv), ct, ct_len);
    *len = sizeof(iv) + ct_len;
    return out;
}

/* The value's file, sealed when the store has a key, and the other form's file removed
 * (libvirt's virSecretObjSaveData); none to write when no value is set. */
static gboolean
save_value(SecretStore *store, const SecretObj *obj, GError **error)
{
    const char *suffix = store->has_key ? SEALED_SUFFIX : PLAIN_SUFFIX;
    g_autofree char *path = file_of(store, obj->def, suffix);
    g_autofree char *other = file_of(store, obj->def,
                                     store->has_key ? PLAIN_SUFFIX : SEALED_SUFFIX);
    g_autofree guint8 *sealed = NULL;
    g_autofree char *b64 = NULL;
    gsize len = 0;
    gboolean ok;

    if (!obj->value)
        return TRUE;
    if (store->has_key && !(sealed = seal_value(store, obj, &len, error)))
        return FALSE;
    b64 = sealed ? g_base64_encode(sealed, len) : g_base64_encode(obj->value, obj->value_len);
    ok = sv_file_write_atomic(path, b64, strlen(b64), 0600, error);
    explicit_bzero(b64, strlen(b64));
    if (ok)
        (void)sv_file_remove_durable(other, NULL);
    return ok;
}

static gboolean
delete_files(SecretStore *store, const SvSecretDef *def, GError **error)
{
    g_autofree char *xml = file_of(store, def, ".xml");
    g_autofree char *b64 = file_of(store, def, PLAIN_SUFFIX);
    g_autofree char *sealed = file_of(store, def, SEALED_SUFFIX);

    /* as libvirt, a value file left is no error */
    (void)sv_file_remove_durable(b64, NULL);
    (void)sv_file_remove_durable(sealed, NULL);
    return sv_file_remove_durable(xml, error);
}

/* ---------------------------------------------------------------- changes */

/* libvirt's virSecretObjListAdd checks: the UUID's secret must keep its usage and its
 * private flag; another secret must not have the usage. Returns the secret redefined,
 * NULL for a new one (with *error unset). */
static SecretObj *
check_define(SecretStore *store, const SvSecretDef *def, GError **error)
{
    SecretObj *old = lookup_uuid(store, def->uuid);
    char uuid[SV_UUID_STRING_LEN + 1];

    if (old) {
        sv_uuid_format(def->uuid, uuid);
        if (g_strcmp0(old->def->usage_id, def->usage_id) != 0) {
            sv_error_set(error, SV_FROM_SECRET, SV_ERR_INTERNAL_ERROR,
                         "a secret with UUID %s is already defined for use with %s", uuid,
                         old->def->usage_id ? old->def->usage_id : "(null)");
            return NULL;
        }
        if (old->def->is_private && !def->is_private) {
            sv_error_set(error, SV_FROM_SECRET, SV_ERR_INTERNAL_ERROR,
                         "cannot change private flag on existing secret");
            return NULL;
        }
        return old;
    }
    old = lookup_usage(store, def->usage_type, def->usage_id);
    if (old) {
        sv_uuid_format(old->def->uuid, uuid);
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INTERNAL_ERROR,
                     "a secret with UUID %s already defined for use with %s", uuid,
                     def->usage_id);
    }
    return NULL;
}

/* Bring obj's files in line with its new definition (its old one: was, NULL if new). */
static gboolean
persist_define(SecretStore *store, SecretObj *obj, const SvSecretDef *was, GError **error)
{
    if (obj->def->ephemeral) {
        if (was && !was->ephemeral)
            return delete_files(store, was, error);
        return TRUE;
    }
    if (was && was->ephemeral && !save_value(store, obj, error))
        return FALSE;
    if (!save_def(store, obj->def, error)) {
        if (was && was->ephemeral) {
            g_autofree char *b64 = file_of(store, obj->def, PLAIN_SUFFIX);
            g_autofree char *sealed = file_of(store, obj->def, SEALED_SUFFIX);
            (void)sv_file_remove_durable(b64, NULL);
            (void)sv_file_remove_durable(sealed, NULL);
        }
        return FALSE;
    }
    return TRUE;
}

SecretObj *
secret_store_define(SecretStore *store, SvSecretDef *def, GError **error)
{
    g_autoptr(SvSecretDef) owned = def;
    GError *refused = NULL;
    SecretObj *obj = check_define(store, def, &refused);
    SvSecretDef *was;

    if (refused) {
        g_propagate_error(error, refused);
        return NULL;
    }
    if (!obj) {
        obj = g_new0(SecretObj, 1);
        obj->def = g_steal_pointer(&owned);
        if (!persist_define(store, obj, NULL, error)) {
            secret_obj_free(obj);
            return NULL;
        }
        g_ptr_array_add(store->secrets, obj);
        return obj;
    }
    was = obj->def;
    obj->def = g_steal_pointer(&owned);
    if (!persist_define(store, obj, was, error)) {
        owned = obj->def; /* the old definition stays */
        obj->def = was;
        return NULL;
    }
    sv_secret_def_free(was);
    return obj;
}

gboolean
secret_store_set_value(SecretStore *store, SecretObj *obj, const guint8 *value, gsize len,
                       GError **error)
{
    guint8 *old = obj->value;
    gsize old_len = obj->value_len;

    obj->value = g_memdup2(value ? value : (const guint8 *)"", len);
    obj->value_len = len;
    if (!obj->def->ephemeral && !save_value(store, obj, error)) {
        value_clear(obj);
        obj->value = old;
        obj->value_len = old_len;
        return FALSE;
    }
    if (old) {
        memset(old, 0, old_len);
        g_free(old);
    }
    return TRUE;
}

gboolean
secret_store_undefine(SecretStore *store, SecretObj *obj, GError **error)
{
    if (!obj->def->ephemeral) {
        g_autofree char *xml = file_of(store, obj->def, ".xml");
        if (unlink(xml) < 0 && errno != ENOENT) {
            sv_error_set_errno(error, SV_FROM_SECRET, errno, "cannot unlink '%s'", xml);
            return FALSE;
        }
    }
    (void)delete_files(store, obj->def, NULL);
    g_ptr_array_remove(store->secrets, obj);
    return TRUE;
}

/* ---------------------------------------------------------------- loading */

/* The value sealed in decoded[len] (IV + ciphertext) with the store's key. */
static gboolean
unseal_value(SecretStore *store, SecretObj *obj, const char *path, const guint8 *decoded,
             gsize len, GError **error)
{
    if (!store->has_key) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INVALID_SECRET,
                     "the value in '%s' is encrypted and no secrets encryption key is "
                     "loaded", path);
        return FALSE;
    }
    if (len < SV_AES_IV_LEN) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INVALID_SECRET,
                     "Encrypted secret size '%zu' is invalid", len);
        return FALSE;
    }
    obj->value = sv_aes_decrypt(store->key, decoded, decoded + SV_AES_IV_LEN,
                                len - SV_AES_IV_LEN, &obj->value_len, SV_FROM_SECRET, error);
    if (!obj->value)
        g_prefix_error(error, "'%s': ", path);
    return obj->value != NULL;
}

/* One form of a loaded secret's value, from its file when there is one. */
static gboolean
load_value_file(SecretStore *store, SecretObj *obj, const char *suffix, GError **error)
{
    g_autofree char *path = file_of(store, obj->def, suffix);
    g_autofree char *b64 = NULL;
    g_autofree guint8 *decoded = NULL;
    gsize len = 0;
    gboolean ok = TRUE;

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!g_file_get_contents(path, &b64, &len, error))
        return FALSE;
    decoded = g_base64_decode(g_strstrip(b64), &len);
    explicit_bzero(b64, strlen(b64));
    value_clear(obj);
    if (g_str_equal(suffix, PLAIN_SUFFIX)) {
        obj->value = g_steal_pointer(&decoded);
        obj->value_len = len;
        return TRUE;
    }
    ok = unseal_value(store, obj, path, decoded, len, error);
    explicit_bzero(decoded, len);
    return ok;
}

/* The value of a loaded secret: as libvirt, each form whose file exists is read, sealed
 * then plain (one is removed whenever the other is written). */
static gboolean
load_value(SecretStore *store, SecretObj *obj, GError **error)
{
    return load_value_file(store, obj, SEALED_SUFFIX, error) &&
           load_value_file(store, obj, PLAIN_SUFFIX, error);
}

static void
load_one(const char *path, const char *entry, gpointer data)
{
    SecretStore *store = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autoptr(SvSecretDef) def = NULL;
    char uuid[SV_UUID_STRING_LEN + 1];
    g_autofree char *expected = NULL;
    SecretObj *obj;

    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(def = sv_secret_def_parse(text, &error))) {
        g_warning("Error reading secret: %s", error->message);
        return;
    }
    sv_uuid_format(def->uuid, uuid);
    expected = g_strconcat(uuid, ".xml", NULL);
    if (!g_str_equal(entry, expected)) {
        g_warning("Error reading secret: <uuid> does not match secret file name '%s'", entry);
        return;
    }
    if (lookup_uuid(store, def->uuid) || lookup_usage(store, def->usage_type, def->usage_id)) {
        g_warning("Error reading secret: '%s' clashes with a secret already loaded", path);
        return;
    }
    obj = g_new0(SecretObj, 1);
    obj->def = g_steal_pointer(&def);
    if (!load_value(store, obj, &error)) {
        g_warning("Error reading secret: %s", error->message);
        secret_obj_free(obj);
        return;
    }
    g_ptr_array_add(store->secrets, obj);
}

int
secret_store_load(SecretStore *store, GError **error)
{
    if (!sv_mkdir_p(store->dir, 0700, error))
        return -1;
    sv_file_walk_dir(store->dir, ".xml", load_one, store);
    return (int)store->secrets->len;
}
