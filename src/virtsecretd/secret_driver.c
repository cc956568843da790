/* secret_driver.c: virtsecretd's remote program: secret:///system's connection procedures
 * and the secret calls, as libvirt 9.0's secret driver answers them. */
#include "secret_driver.h"

#include <string.h>

#include "conf/uuid.h"
#include "domain/domain_connect.h"
#include "programs/backend.h"
#include "programs/qemu.h"
#include "programs/remote.h"
#include "secret_events.h"
#include "secret_store.h"
#include "util/aes.h"
#include "util/error.h"

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    SecretStore *store;
    gboolean holding; /* the daemon is held up while a secret is ephemeral, as libvirt's */
} SecretDriver;

static SecretDriver *
driver_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

/* ---------------------------------------------------------------- connection */

/* libvirt's secretConnectOpen on a privileged daemon: secret:///system alone. */
static const char *const secret_paths[] = {"/system", NULL};
static const SvConnectFacts secret_connect = {
    .scheme = "secret",
    .paths = secret_paths,
    .path_error = "unexpected secret URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "secret:///system",
    .uri_is_default = TRUE,
    .type = "secret",
};

/* ---------------------------------------------------------------- helpers */

static void
make_secret(remote_nonnull_secret *out, const SvSecretDef *def)
{
    memcpy(out->uuid, def->uuid, 16);
    out->usageType = def->usage_type;
    out->usageID = g_strdup(def->usage_id ? def->usage_id : "");
}

static SecretObj *
secret_of(SvCall *call, const remote_nonnull_secret *s, GError **error)
{
    return secret_store_find_uuid(driver_of(call)->store, (const guint8 *)s->uuid, error);
}

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_SECRET, fn, error);
}

/* Hold the daemon up while any secret is ephemeral (its value lives only here). */
static void
update_hold(SecretDriver *drv)
{
    gboolean want = secret_store_n_ephemeral(drv->store) > 0;

    if (want != drv->holding)
        sv_daemon_hold(drv->daemon, want);
    drv->holding = want;
}

static void
emit(SvCall *call, const SvSecretDef *def, int event)
{
    remote_nonnull_secret s;

    make_secret(&s, def);
    secret_events_emit(sv_client_get_server(sv_call_get_client(call)), &s, event);
    g_free(s.usageID);
}

/* ---------------------------------------------------------------- lists and lookups */

static gboolean
num_of_secrets(SvCall *call, remote_connect_num_of_secrets_ret *ret, GError **error)
{
    (void)error;
    ret->num = (int)secret_store_list(driver_of(call)->store)->len;
    return TRUE;
}

static gboolean
list_secrets(SvCall *call, remote_connect_list_secrets_args *a,
             remote_connect_list_secrets_ret *ret, GError **error)
{
    GPtrArray *all = secret_store_list(driver_of(call)->store);
    guint n;

    if (a->maxuuids > REMOTE_SECRET_UUID_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxuuids > REMOTE_SECRET_UUID_LIST_MAX");
        return FALSE;
    }
    n = MIN(all->len, (guint)MAX(a->maxuuids, 0));
    ret->uuids.uuids_val = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        ret->uuids.uuids_val[i] = g_malloc(SV_UUID_STRING_LEN + 1);
        sv_uuid_format(((SecretObj *)all->pdata[i])->def->uuid, ret->uuids.uuids_val[i]);
    }
    ret->uuids.uuids_len = n;
    return TRUE;
}

/* libvirt's filter groups: a group with neither bit set lets everything through. */
static gboolean
list_matches(const SvSecretDef *def, unsigned int flags)
{
    unsigned int eph = SV_CONNECT_LIST_SECRETS_EPHEMERAL | SV_CONNECT_LIST_SECRETS_NO_EPHEMERAL;
    unsigned int priv = SV_CONNECT_LIST_SECRETS_PRIVATE | SV_CONNECT_LIST_SECRETS_NO_PRIVATE;

    if ((flags & eph) &&
        !((flags & SV_CONNECT_LIST_SECRETS_EPHEMERAL && def->ephemeral) ||
          (flags & SV_CONNECT_LIST_SECRETS_NO_EPHEMERAL && !def->ephemeral)))
        return FALSE;
    if ((flags & priv) &&
        !((flags & SV_CONNECT_LIST_SECRETS_PRIVATE && def->is_private) ||
          (flags & SV_CONNECT_LIST_SECRETS_NO_PRIVATE && !def->is_private)))
        return FALSE;
    return TRUE;
}

static gboolean
list_all_secrets(SvCall *call, remote_connect_list_all_secrets_args *a,
                 remote_connect_list_all_secrets_ret *ret, GError **error)
{
    GPtrArray *all = secret_store_list(driver_of(call)->store);
    guint n = 0;

    if (!check_flags(a->flags, SV_CONNECT_LIST_ALL_SECRETS_FLAGS_ALL, "secretConnectListAllSecrets",
                     error))
        return FALSE;
    if (a->need_results)
        ret->secrets.secrets_val = g_new0(remote_nonnull_secret, all->len + 1);
    for (guint i = 0; i < all->len; i++) {
        const SvSecretDef *def = ((SecretObj *)all->pdata[i])->def;
        if (!list_matches(def, a->flags))
            continue;
        if (a->need_results)
            make_secret(&ret->secrets.secrets_val[n], def);
        n++;
    }
    ret->secrets.secrets_len = a->need_results ? n : 0;
    ret->ret = n;
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_secret_lookup_by_uuid_args *a,
               remote_secret_lookup_by_uuid_ret *ret, GError **error)
{
    SecretObj *o = secret_store_find_uuid(driver_of(call)->store, (const guint8 *)a->uuid, error);

    if (!o)
        return FALSE;
    make_secret(&ret->secret, o->def);
    return TRUE;
}

static gboolean
lookup_by_usage(SvCall *call, remote_secret_lookup_by_usage_args *a,
                remote_secret_lookup_by_usage_ret *ret, GError **error)
{
    SecretObj *o = secret_store_find_usage(driver_of(call)->store, a->usageType, a->usageID,
                                           error);

    if (!o)
        return FALSE;
    make_secret(&ret->secret, o->def);
    return TRUE;
}

/* ---------------------------------------------------------------- definitions */

/* VIR_SECRET_DEFINE_VALIDATE (checking the XML against libvirt's secret.rng) is not served:
 * refused as an unsupported flag rather than ignored. */
static gboolean
define_xml(SvCall *call, remote_secret_define_xml_args *a, remote_secret_define_xml_ret *ret,
           GError **error)
{
    SecretDriver *drv = driver_of(call);
    SvSecretDef *def;
    SecretObj *o;

    if (!check_flags(a->flags, 0, "secretDefineXML", error))
        return FALSE;
    def = sv_secret_def_parse(a->xml, error);
    if (!def)
        return FALSE;
    o = secret_store_define(drv->store, def, error);
    update_hold(drv);
    if (!o)
        return FALSE;
    make_secret(&ret->secret, o->def);
    emit(call, o->def, SV_SECRET_EVENT_DEFINED);
    return TRUE;
}

static gboolean
get_xml_desc(SvCall *call, remote_secret_get_xml_desc_args *a,
             remote_secret_get_xml_desc_ret *ret, GError **error)
{
    SecretObj *o;

    if (!check_flags(a->flags, 0, "secretGetXMLDesc", error) ||
        !(o = secret_of(call, &a->secret, error)))
        return FALSE;
    ret->xml = sv_secret_def_format(o->def);
    return TRUE;
}

static gboolean
undefine(SvCall *call, remote_secret_undefine_args *a, GError **error)
{
    SecretDriver *drv = driver_of(call);
    g_autoptr(SvSecretDef) gone = g_new0(SvSecretDef, 1);
    SecretObj *o = secret_of(call, &a->secret, error);

    if (!o)
        return FALSE;
    memcpy(gone->uuid, o->def->uuid, 16);
    gone->usage_type = o->def->usage_type;
    gone->usage_id = g_strdup(o->def->usage_id);
    if (!secret_store_undefine(drv->store, o, error))
        return FALSE;
    update_hold(drv);
    emit(call, gone, SV_SECRET_EVENT_UNDEFINED);
    return TRUE;
}

/* ---------------------------------------------------------------- values (never logged) */

static gboolean
set_value(SvCall *call, remote_secret_set_value_args *a, GError **error)
{
    SecretObj *o;

    if (!check_flags(a->flags, 0, "secretSetValue", error) ||
        !(o = secret_of(call, &a->secret, error)))
        return FALSE;
    if (!secret_store_set_value(driver_of(call)->store, o, (const guint8 *)a->value.value_val,
                                a->value.value_len, error))
        return FALSE;
    emit(call, o->def, -1);
    return TRUE;
}

/* A client never gets a private secret's value: libvirt gives it only to its own drivers'
 * internal calls, whose identity carries the system token (programs/backend.h), which no
 * client's can. */
static gboolean
get_value(SvCall *call, remote_secret_get_value_args *a, remote_secret_get_value_ret *ret,
          GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    SecretObj *o;

    if (!check_flags(a->flags, 0, "secretGetValue", error) ||
        !(o = secret_of(call, &a->secret, error)))
        return FALSE;
    if (o->def->is_private &&
        !sv_remote_client_is_elevated(sv_call_get_client(call), sv_daemon_system_token(driver_of(call)->daemon))) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INVALID_SECRET, "secret is private");
        return FALSE;
    }
    if (!o->value) {
        sv_uuid_format(o->def->uuid, uuid);
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_NO_SECRET, "secret '%s' does not have a value",
                     uuid);
        return FALSE;
    }
    ret->value.value_val = g_memdup2(o->value, MAX(o->value_len, 1));
    ret->value.value_len = o->value_len;
    return TRUE;
}

/* ---------------------------------------------------------------- encryption at rest */

/* The key file libvirt 12.1's secret driver reads: secret.conf's secrets_encryption_key
 * (secret.conf beside the daemon's own configuration file, as libvirt has both in
 * SYSCONFDIR/libvirt), else the systemd credential secrets-encryption-key when the unit
 * passed one; with encrypt_data = 1 and neither, a fixed runtime path. NULL: values stay
 * plain (no key, or encrypt_data = 0). */
static char *
key_path(SvDaemon *d, GError **error)
{
    g_autofree char *conf_dir = sv_daemon_config_dir(d);
    g_autofree char *conf_path = g_build_filename(conf_dir, "secret.conf", NULL);
    g_autoptr(SvConfFile) conf = sv_conf_file_load(conf_path, TRUE, error);
    g_autofree char *path = NULL;
    const char *creds = g_getenv("CREDENTIALS_DIRECTORY");
    guint encrypt = 2; /* not set */

    if (!conf || !sv_conf_file_get_uint(conf, "encrypt_data", &encrypt, error) ||
        !sv_conf_file_get_string(conf, "secrets_encryption_key", &path, error))
        return NULL;
    if (encrypt > 2 || (encrypt == 2 && sv_conf_file_has(conf, "encrypt_data"))) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s: encrypt_data must be 0 or 1", conf_path);
        return NULL;
    }
    if (!path && creds) {
        path = g_build_filename(creds, "secrets-encryption-key", NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            g_clear_pointer(&path, g_free);
    }
    if (encrypt == 0)
        return NULL;
    if (!path && encrypt == 1)
        path = sv_daemon_path(d, "/run/libvirt/secrets/encryption-key");
    return g_steal_pointer(&path);
}

/* Give the store the key when values are to be sealed; FALSE (the daemon does not start,
 * as libvirt's) when the key file named cannot be read or is not 32 bytes. */
static gboolean
load_key(SvDaemon *d, SecretStore *store, GError **error)
{
    GError *err = NULL;
    g_autofree char *path = key_path(d, &err);
    g_autofree char *key = NULL;
    gsize len = 0;
    gboolean ok;

    if (err) {
        g_propagate_error(error, err);
        return FALSE;
    }
    if (!path)
        return TRUE;
    if (!g_file_get_contents(path, &key, &len, NULL)) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INVALID_SECRET,
                     "cannot read the secrets encryption key '%s'", path);
        return FALSE;
    }
    ok = len == SV_AES_KEY_LEN;
    if (ok)
        secret_store_set_key(store, (const guint8 *)key);
    else
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INVALID_SECRET,
                     "Encryption key length must be '%d' '%s'", SV_AES_KEY_LEN, path);
    explicit_bzero(key, len);
    g_debug("secrets encryption key: %s", path);
    return ok;
}

/* ---------------------------------------------------------------- daemon glue */

static gboolean
secret_init(SvDaemon *d, GError **error)
{
    g_autofree char *dir = sv_daemon_path(d, "/etc/libvirt/secrets");
    g_autoptr(SecretStore) store = secret_store_new(dir);
    SecretDriver *drv;
    int n = load_key(d, store, error) ? secret_store_load(store, error) : -1;
    SvRemoteHandlers own = {
        .connect_num_of_secrets = num_of_secrets,
        .connect_list_secrets = list_secrets,
        .connect_list_all_secrets = list_all_secrets,
        .secret_lookup_by_uuid = lookup_by_uuid,
        .secret_lookup_by_usage = lookup_by_usage,
        .secret_define_xml = define_xml,
        .secret_get_xml_desc = get_xml_desc,
        .secret_set_value = set_value,
        .secret_get_value = get_value,
        .secret_undefine = undefine,
    };

    if (n < 0)
        return FALSE;
    g_debug("loaded %d secrets from %s", n, dir);
    drv = g_new0(SecretDriver, 1);
    drv->daemon = d;
    drv->store = g_steal_pointer(&store);
    sv_daemon_system_token(d); /* at once: the hypervisor daemons' calls come with it */
    sv_remote_secondary_handlers(&drv->handlers);
    sv_remote_handlers_overlay(&drv->handlers, &own);
    sv_connect_install(&drv->handlers, &secret_connect);
    secret_events_install(&drv->handlers);
    sv_server_set_user_data(sv_daemon_get_server(d), drv);
    sv_daemon_serve_remote(d, &drv->handlers);
    /* libvirt's per-driver daemons all register libvirt-qemu: none of it here. */
    sv_qemu_serve_unsupported(sv_daemon_get_server(d), TRUE);
    update_hold(drv);
    sv_daemon_set_driver_data(d, drv);
    return TRUE;
}

static void
secret_cleanup(SvDaemon *d)
{
    SecretDriver *drv = sv_daemon_get_driver_data(d);

    secret_store_free(drv->store);
    g_free(drv);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver secret_daemon_driver = {
    .name = "virtsecretd",
    .sock_prefix = "virtsecretd",
    .driver_name = "secret",
    .family = SV_PROC_FAMILY_SECRET,
    .init = secret_init,
    .cleanup = secret_cleanup,
};
