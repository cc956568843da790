/* storage_driver.c: virtstoraged's remote program: storage:///system's connection procedures,
 * the pool queries and lists, and the daemon glue (the calls that change pools are in
 * storage_calls.c), as libvirt 9.0's storage driver answers them. */
#include "storage_driver.h"

#include <gio/gio.h>
#include <string.h>

#include "conf/uuid.h"
#include "domain/domain_connect.h"
#include "programs/object_list.h"
#include "programs/qemu.h"
#include "storage_backend_logical.h"
#include "storage_events.h"
#include "storage_priv.h"
#include "storage_vol.h"
#include "util/error.h"
#include "util/fileio.h"

StorageDriver *
storage_driver_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

/* ---------------------------------------------------------------- connection */

/* libvirt's storageConnectOpen on a privileged daemon: storage:///system alone. */
static const char *const storage_paths[] = {"/system", NULL};
static const SvConnectFacts storage_connect = {
    .scheme = "storage",
    .paths = storage_paths,
    .path_error = "unexpected storage URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "storage:///system",
    .uri_is_default = TRUE,
    .type = "storage",
};

/* ---------------------------------------------------------------- shared helpers */

StoragePool *
storage_pool_of(StorageDriver *drv, const remote_nonnull_storage_pool *p, GError **error)
{
    StoragePool *pool = storage_pools_find_uuid(drv->pools, (const guint8 *)p->uuid, NULL);

    if (!pool) {
        char uuid[SV_UUID_STRING_LEN + 1];
        sv_uuid_format((const guint8 *)p->uuid, uuid);
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_POOL,
                     "no storage pool with matching uuid '%s' (%s)", uuid, p->name);
    }
    return pool;
}

void
storage_pool_make(remote_nonnull_storage_pool *out, const StoragePool *pool)
{
    out->name = g_strdup(pool->def->name);
    memcpy(out->uuid, pool->def->uuid, 16);
}

void
storage_pool_emit(StorageDriver *drv, const StoragePool *pool, int event)
{
    remote_nonnull_storage_pool p;

    storage_pool_make(&p, pool);
    storage_events_emit(sv_daemon_get_server(drv->daemon), &p, event);
    g_free(p.name);
}

gboolean
storage_pool_check_active(const StoragePool *pool, gboolean want, GError **error)
{
    if (pool->active == want)
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                 want ? "storage pool '%s' is not active" : "storage pool '%s' is still active",
                 pool->def->name);
    return FALSE;
}

gboolean
storage_pool_check_idle(const StoragePool *pool, GError **error)
{
    if (!pool->jobs)
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                 "pool '%s' has asynchronous jobs running.", pool->def->name);
    return FALSE;
}

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_STORAGE, fn, error);
}

/* ---------------------------------------------------------------- lists */

static gboolean
pool_active(gconstpointer obj)
{
    return ((const StoragePool *)obj)->active;
}

static const char *
pool_name(gconstpointer obj)
{
    return ((const StoragePool *)obj)->def->name;
}

static gboolean
num_of_pools(SvCall *call, remote_connect_num_of_storage_pools_ret *ret, GError **error)
{
    (void)error;
    ret->num = sv_object_list_count(storage_pools_list(storage_driver_of(call)->pools),
                                    pool_active, TRUE);
    return TRUE;
}

static gboolean
num_of_defined_pools(SvCall *call, remote_connect_num_of_defined_storage_pools_ret *ret,
                     GError **error)
{
    (void)error;
    ret->num = sv_object_list_count(storage_pools_list(storage_driver_of(call)->pools),
                                    pool_active, FALSE);
    return TRUE;
}

/* The names of the active (or inactive) pools, at most maxnames. */
static gboolean
list_names(StorageDriver *drv, gboolean active, int maxnames, char ***out, u_int *out_len,
           GError **error)
{
    return sv_object_list_names(storage_pools_list(drv->pools), pool_active, pool_name, active,
                                maxnames, REMOTE_STORAGE_POOL_LIST_MAX,
                                "REMOTE_STORAGE_POOL_LIST_MAX", out, out_len, error);
}

static gboolean
list_pools(SvCall *call, remote_connect_list_storage_pools_args *a,
           remote_connect_list_storage_pools_ret *ret, GError **error)
{
    return list_names(storage_driver_of(call), TRUE, a->maxnames, &ret->names.names_val,
                      &ret->names.names_len, error);
}

static gboolean
list_defined_pools(SvCall *call, remote_connect_list_defined_storage_pools_args *a,
                   remote_connect_list_defined_storage_pools_ret *ret, GError **error)
{
    return list_names(storage_driver_of(call), FALSE, a->maxnames, &ret->names.names_val,
                      &ret->names.names_len, error);
}

/* The type filter bit of each pool type (virConnectListAllStoragePoolsFlags). */
static const unsigned int type_bits[SV_STORAGE_POOL_TYPE_LAST] = {
    [SV_STORAGE_POOL_DIR] = SV_CONNECT_LIST_STORAGE_POOLS_DIR,
    [SV_STORAGE_POOL_FS] = SV_CONNECT_LIST_STORAGE_POOLS_FS,
    [SV_STORAGE_POOL_NETFS] = SV_CONNECT_LIST_STORAGE_POOLS_NETFS,
    [SV_STORAGE_POOL_LOGICAL] = SV_CONNECT_LIST_STORAGE_POOLS_LOGICAL,
    [SV_STORAGE_POOL_DISK] = SV_CONNECT_LIST_STORAGE_POOLS_DISK,
    [SV_STORAGE_POOL_ISCSI] = SV_CONNECT_LIST_STORAGE_POOLS_ISCSI,
    [SV_STORAGE_POOL_ISCSI_DIRECT] = SV_CONNECT_LIST_STORAGE_POOLS_ISCSI_DIRECT,
    [SV_STORAGE_POOL_SCSI] = SV_CONNECT_LIST_STORAGE_POOLS_SCSI,
    [SV_STORAGE_POOL_MPATH] = SV_CONNECT_LIST_STORAGE_POOLS_MPATH,
    [SV_STORAGE_POOL_RBD] = SV_CONNECT_LIST_STORAGE_POOLS_RBD,
    [SV_STORAGE_POOL_SHEEPDOG] = SV_CONNECT_LIST_STORAGE_POOLS_SHEEPDOG,
    [SV_STORAGE_POOL_GLUSTER] = SV_CONNECT_LIST_STORAGE_POOLS_GLUSTER,
    [SV_STORAGE_POOL_ZFS] = SV_CONNECT_LIST_STORAGE_POOLS_ZFS,
    [SV_STORAGE_POOL_VSTORAGE] = SV_CONNECT_LIST_STORAGE_POOLS_VSTORAGE,
};

static gboolean
list_matches(const StoragePool *p, unsigned int flags)
{
    unsigned int types = flags & (SV_CONNECT_LIST_STORAGE_POOLS_DIR * 0x3fff);

    return sv_object_list_filter(flags, SV_CONNECT_LIST_STORAGE_POOLS_ACTIVE,
                                 SV_CONNECT_LIST_STORAGE_POOLS_INACTIVE, p->active) &&
           sv_object_list_filter(flags, SV_CONNECT_LIST_STORAGE_POOLS_PERSISTENT,
                                 SV_CONNECT_LIST_STORAGE_POOLS_TRANSIENT, p->persistent) &&
           sv_object_list_filter(flags, SV_CONNECT_LIST_STORAGE_POOLS_AUTOSTART,
                                 SV_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART, p->autostart) &&
           (!types || (types & type_bits[p->def->type]));
}

static gboolean
list_all_pools(SvCall *call, remote_connect_list_all_storage_pools_args *a,
               remote_connect_list_all_storage_pools_ret *ret, GError **error)
{
    GPtrArray *all = storage_pools_list(storage_driver_of(call)->pools);
    guint n = 0;

    if (!check_flags(a->flags, SV_CONNECT_LIST_ALL_STORAGE_POOLS_FLAGS_ALL,
                     "virConnectListAllStoragePools", error))
        return FALSE;
    if (a->need_results)
        ret->pools.pools_val = g_new0(remote_nonnull_storage_pool, all->len + 1);
    for (guint i = 0; i < all->len; i++) {
        const StoragePool *p = all->pdata[i];
        if (!list_matches(p, a->flags))
            continue;
        if (a->need_results)
            storage_pool_make(&ret->pools.pools_val[n], p);
        n++;
    }
    ret->pools.pools_len = a->need_results ? n : 0;
    ret->ret = n;
    return TRUE;
}

/* ---------------------------------------------------------------- lookups and queries */

static gboolean
lookup_by_name(SvCall *call, remote_storage_pool_lookup_by_name_args *a,
               remote_storage_pool_lookup_by_name_ret *ret, GError **error)
{
    StoragePool *p = storage_pools_find_name(storage_driver_of(call)->pools, a->name, error);

    if (!p)
        return FALSE;
    storage_pool_make(&ret->pool, p);
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_storage_pool_lookup_by_uuid_args *a,
               remote_storage_pool_lookup_by_uuid_ret *ret, GError **error)
{
    StoragePool *p = storage_pools_find_uuid(storage_driver_of(call)->pools,
                                             (const guint8 *)a->uuid, error);

    if (!p)
        return FALSE;
    storage_pool_make(&ret->pool, p);
    return TRUE;
}

static gboolean
get_info(SvCall *call, remote_storage_pool_get_info_args *a,
         remote_storage_pool_get_info_ret *ret, GError **error)
{
    StoragePool *p = storage_pool_of(storage_driver_of(call), &a->pool, error);

    if (!p)
        return FALSE;
    ret->state = p->active ? SV_STORAGE_POOL_RUNNING
                 : p->jobs ? SV_STORAGE_POOL_BUILDING : SV_STORAGE_POOL_INACTIVE;
    ret->capacity = p->def->capacity;
    ret->allocation = p->def->allocation;
    ret->available = p->def->available;
    return TRUE;
}

static gboolean
get_xml_desc(SvCall *call, remote_storage_pool_get_xml_desc_args *a,
             remote_storage_pool_get_xml_desc_ret *ret, GError **error)
{
    StoragePool *p;

    if (!check_flags(a->flags, SV_STORAGE_XML_INACTIVE, "storagePoolGetXMLDesc", error) ||
        !(p = storage_pool_of(storage_driver_of(call), &a->pool, error)))
        return FALSE;
    ret->xml = sv_storage_pool_def_format((a->flags & SV_STORAGE_XML_INACTIVE) && p->new_def
                                          ? p->new_def : p->def);
    return TRUE;
}

static gboolean
get_autostart(SvCall *call, remote_storage_pool_get_autostart_args *a,
              remote_storage_pool_get_autostart_ret *ret, GError **error)
{
    StoragePool *p = storage_pool_of(storage_driver_of(call), &a->pool, error);

    if (!p)
        return FALSE;
    ret->autostart = p->autostart;
    return TRUE;
}

static gboolean
set_autostart(SvCall *call, remote_storage_pool_set_autostart_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StoragePool *p = storage_pool_of(drv, &a->pool, error);

    if (!p)
        return FALSE;
    if (!p->persistent) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID, "%s",
                     "cannot set autostart for transient pool");
        return FALSE;
    }
    if (!!a->autostart == p->autostart)
        return TRUE;
    return storage_pools_set_autostart(drv->pools, p, a->autostart != 0, error);
}

static gboolean
is_active(SvCall *call, remote_storage_pool_is_active_args *a,
          remote_storage_pool_is_active_ret *ret, GError **error)
{
    StoragePool *p = storage_pool_of(storage_driver_of(call), &a->pool, error);

    if (!p)
        return FALSE;
    ret->active = p->active;
    return TRUE;
}

static gboolean
is_persistent(SvCall *call, remote_storage_pool_is_persistent_args *a,
              remote_storage_pool_is_persistent_ret *ret, GError **error)
{
    StoragePool *p = storage_pool_of(storage_driver_of(call), &a->pool, error);

    if (!p)
        return FALSE;
    ret->persistent = p->persistent;
    return TRUE;
}

static void
find_logical_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    GError *error = NULL;
    char *xml = storage_logical_find_sources(&error);

    (void)src;
    (void)data;
    (void)c;
    if (xml)
        g_task_return_pointer(task, xml, g_free);
    else
        g_task_return_error(task, error);
}

static void
find_logical_done(GObject *src, GAsyncResult *res, gpointer data)
{
    SvCall *call = data;
    GError *error = NULL;
    g_autofree char *xml = g_task_propagate_pointer(G_TASK(res), &error);
    remote_connect_find_storage_pool_sources_ret r = {xml};

    (void)src;
    if (!xml)
        sv_call_fail(call, error);
    else
        sv_call_reply(call, &r);
}

/* libvirt's storageConnectFindStoragePoolSources: the type's backend must exist and have a
 * discovery: logical's (pvs, on a worker); libvirt's dir and fs backends have none. */
static gboolean
find_sources(SvCall *call, remote_connect_find_storage_pool_sources_args *a,
             remote_connect_find_storage_pool_sources_ret *ret, GError **error)
{
    int type = sv_storage_pool_type_from_string(a->type);
    SvStoragePoolDef probe = {.type = type};
    g_autoptr(GTask) task = NULL;

    (void)ret;
    if (!check_flags(a->flags, 0, "storageConnectFindStoragePoolSources", error))
        return FALSE;
    if (type < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "unknown storage pool type %s", a->type);
        return FALSE;
    }
    if (!sv_storage_pool_def_check_backend(&probe, error))
        return FALSE;
    if (type == SV_STORAGE_POOL_LOGICAL) {
        task = g_task_new(NULL, NULL, find_logical_done, sv_call_defer(call));
        g_task_run_in_thread(task, find_logical_thread);
        return TRUE;
    }
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT,
                 "pool type '%s' does not support source discovery", a->type);
    return FALSE;
}

/* CONNECT_GET_CAPABILITIES: libvirt's storage driver answers with the pool types it has
 * a backend for, in the order it registers them (dir, fs, netfs, logical, ..., disk: for
 * the four served here, the order of the type enum). */
static gboolean
get_capabilities(SvCall *call, remote_connect_get_capabilities_ret *ret, GError **error)
{
    GString *xml = g_string_new("<capabilities>\n\n  <pool>\n    <enum name='type'>\n");

    (void)call;
    (void)error;
    for (int type = 0; type < SV_STORAGE_POOL_TYPE_LAST; type++) {
        if (sv_storage_pool_type_supported(type))
            g_string_append_printf(xml, "      <value>%s</value>\n",
                                   sv_storage_pool_type_to_string(type));
    }
    g_string_append(xml, "    </enum>\n  </pool>\n\n</capabilities>\n");
    ret->capabilities = g_string_free(xml, FALSE);
    return TRUE;
}

/* ---------------------------------------------------------------- daemon glue */

/* Every pool marked autostart that is not active starts, once per boot of the host: a marker
 * in the run directory (a tmpfs there) says it was done, so a daemon activated again later
 * does not start what was stopped on purpose. */
static void
autostart_pools(StorageDriver *drv)
{
    g_autofree char *marker = g_build_filename(drv->run_dir, "autostarted", NULL);
    GPtrArray *all = storage_pools_list(drv->pools);
    StorageJobSpec start = {.kind = STORAGE_JOB_START};

    if (g_file_test(marker, G_FILE_TEST_EXISTS))
        return;
    if (!g_file_set_contents_full(marker, "", 0, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
        g_warning("cannot create autostart marker '%s'", marker);
    for (guint i = 0; i < all->len; i++) {
        StoragePool *p = all->pdata[i];
        if (p->autostart && !p->active) {
            g_message("autostarting storage pool %s", p->def->name);
            storage_job_run(drv, p, &start, NULL);
        }
    }
}

/* Pools found active again get a look (their volumes) on a worker. */
static void
recover_pools(StorageDriver *drv)
{
    GPtrArray *all = storage_pools_list(drv->pools);
    StorageJobSpec recover = {.kind = STORAGE_JOB_RECOVER};

    for (guint i = 0; i < all->len; i++) {
        StoragePool *p = all->pdata[i];
        if (p->active)
            storage_job_run(drv, p, &recover, NULL);
    }
}

static void
install_handlers(StorageDriver *drv)
{
    SvRemoteHandlers own = {
        .connect_num_of_storage_pools = num_of_pools,
        .connect_list_storage_pools = list_pools,
        .connect_num_of_defined_storage_pools = num_of_defined_pools,
        .connect_list_defined_storage_pools = list_defined_pools,
        .connect_list_all_storage_pools = list_all_pools,
        .connect_find_storage_pool_sources = find_sources,
        .connect_get_capabilities = get_capabilities,
        .storage_pool_lookup_by_name = lookup_by_name,
        .storage_pool_lookup_by_uuid = lookup_by_uuid,
        .storage_pool_get_info = get_info,
        .storage_pool_get_xml_desc = get_xml_desc,
        .storage_pool_get_autostart = get_autostart,
        .storage_pool_set_autostart = set_autostart,
        .storage_pool_is_active = is_active,
        .storage_pool_is_persistent = is_persistent,
    };

    sv_remote_secondary_handlers(&drv->handlers);
    sv_remote_handlers_overlay(&drv->handlers, &own);
    storage_calls_install(&drv->handlers);
    storage_vol_calls_install(&drv->handlers);
    storage_vol_stream_install(&drv->handlers);
    sv_connect_install(&drv->handlers, &storage_connect);
    storage_events_install(&drv->handlers);
}

static gboolean
storage_init(SvDaemon *d, GError **error)
{
    g_autofree char *config_dir = sv_daemon_path(d, "/etc/libvirt/storage");
    g_autofree char *run_dir = sv_daemon_path(d, "/run/libvirt/storage");
    g_autoptr(StoragePools) pools = storage_pools_new(config_dir, run_dir);
    StorageDriver *drv;
    int n = storage_pools_load(pools, error);

    if (n < 0)
        return FALSE;
    g_debug("loaded %d storage pools from %s", n, config_dir);
    drv = g_new0(StorageDriver, 1);
    drv->daemon = d;
    drv->pools = g_steal_pointer(&pools);
    drv->run_dir = g_steal_pointer(&run_dir);
    drv->sock_dir = sv_daemon_path(d, "/run/libvirt");
    drv->tables = storage_vol_tables_new();
    install_handlers(drv);
    sv_server_set_user_data(sv_daemon_get_server(d), drv);
    sv_daemon_serve_remote(d, &drv->handlers);
    /* libvirt's per-driver daemons all register libvirt-qemu: none of it here. */
    sv_qemu_serve_unsupported(sv_daemon_get_server(d), TRUE);
    sv_daemon_set_driver_data(d, drv);
    recover_pools(drv);
    autostart_pools(drv);
    return TRUE;
}

static void
storage_cleanup(SvDaemon *d)
{
    StorageDriver *drv = sv_daemon_get_driver_data(d);

    /* a change still queued at exit is dropped, as an unfinished worker's is */
    g_thread_pool_free(drv->tables, TRUE, FALSE);
    storage_pools_free(drv->pools);
    g_free(drv->run_dir);
    g_free(drv->sock_dir);
    g_free(drv);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver storage_daemon_driver = {
    .name = "virtstoraged",
    .sock_prefix = "virtstoraged",
    .driver_name = "storage",
    .family = SV_PROC_FAMILY_STORAGE,
    /* libvirt's storage daemon opens the secret driver with the storage one (encrypted
     * volumes need it): its clients reach virtsecretd through it. */
    .relay_families = SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_SECRET),
    .init = storage_init,
    .cleanup = storage_cleanup,
};
