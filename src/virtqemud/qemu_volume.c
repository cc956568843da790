/* qemu_volume.c: volume disks resolved through the storage daemon (qemu_volume.h).
 *
 * One volume after the other, each in libvirt's order of calls, so the first failure
 * is the one libvirt reports: the pool by name, whether it is active, the volume by
 * name, its info (type), the pool's XML (type), then its path. */
#include "qemu_volume.h"

#include <string.h>

#include "conf/storage_pool_def.h"
#include "qemu_domain.h"
#include "qemu_hotplug_priv.h"
#include "programs/family_client.h"
#include "protocol/remote_dispatch.h"
#include "util/error.h"

/* libvirt's virStorageVolType, as STORAGE_VOL_GET_INFO gives it. */
enum {
    VOL_FILE,
    VOL_BLOCK,
    VOL_DIR,
    VOL_NETWORK,
    VOL_NETDIR,
    VOL_PLOOP,
};

typedef enum {
    STEP_POOL,
    STEP_ACTIVE,
    STEP_VOL,
    STEP_INFO,
    STEP_POOL_XML,
    STEP_PATH,
    STEP_LAST
} Step;

typedef struct {
    char *target;
    char *pool;
    char *volume;
    SvDomainDiskVolMode mode;
    gboolean startup_policy;
    gboolean optional;     /* startupPolicy='optional' */
    gboolean missing;      /* optional, and it did not resolve: dropped */
    char *path;            /* found */
    SvDomainDiskType type; /* found */
} Volume;

struct QemuVolumeWork {
    GPtrArray *vols; /* of Volume, in the definition's order */
    guint at;        /* the one under way */
    Step step;
    SvFamilyClient *fc;
    char *pool_name; /* what the lookups gave */
    char pool_uuid[REMOTE_UUID_BUFLEN];
    char *vol_key;
    int vol_type;
    gboolean drop_optional; /* a cold boot: optional volumes that fail are dropped */
    QemuVolumeDone done;
    gpointer data;
    guint idle;     /* tells a failure to connect */
    GError *failed; /* that failure */
};

static void
volume_free(gpointer p)
{
    Volume *v = p;

    g_free(v->target);
    g_free(v->pool);
    g_free(v->volume);
    g_free(v->path);
    g_free(v);
}

gboolean
qemu_volume_pending(const SvDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (sv_domain_disk_vol_unresolved(def->disks->pdata[i]))
            return TRUE;
    }
    return FALSE;
}

void
qemu_volume_work_free(QemuVolumeWork *work)
{
    if (!work)
        return;
    if (work->idle)
        g_source_remove(work->idle);
    g_clear_pointer(&work->fc, sv_family_client_free);
    g_ptr_array_unref(work->vols);
    g_free(work->pool_name);
    g_free(work->vol_key);
    g_clear_error(&work->failed);
    g_free(work);
}

static void step_send(QemuVolumeWork *work);

static void
finish(QemuVolumeWork *work, const GError *error)
{
    /* The connection's work is done: closed before the caller hears it. */
    g_clear_pointer(&work->fc, sv_family_client_free);
    work->done(work, error, work->data); /* may free work */
}

/* libvirt's translation of the pool's and the volume's types into the disk's. */
static gboolean
check_types(const Volume *v, int pool_type, int vol_type, SvDomainDiskType *out,
            GError **error)
{
    static const char *const vol_types[] = {"file", "block", "dir", "network", "netdir",
                                            "ploop"};
    const char *pt = sv_storage_pool_type_to_string(pool_type);

    if (v->mode && pool_type != SV_STORAGE_POOL_ISCSI) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "disk source mode is only valid when storage pool is of iscsi type");
        return FALSE;
    }
    switch (pool_type) {
    case SV_STORAGE_POOL_MPATH:
    case SV_STORAGE_POOL_RBD:
    case SV_STORAGE_POOL_SHEEPDOG:
    case SV_STORAGE_POOL_GLUSTER:
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "using '%s' pools for backing 'volume' disks isn't yet supported", pt);
        return FALSE;
    case SV_STORAGE_POOL_ISCSI:
    case SV_STORAGE_POOL_ISCSI_DIRECT:
        /* Network disks libvirt builds from the pool's source: no storage daemon here
         * serves such pools. */
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "<disk type='volume'> of a pool of type '%s' is not supported by "
                     "splitvirt", pt);
        return FALSE;
    default:
        break;
    }
    if (v->startup_policy && vol_type != VOL_FILE) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "'startupPolicy' is only valid for 'file' type volume");
        return FALSE;
    }
    switch (vol_type) {
    case VOL_FILE:
    case VOL_PLOOP:
        *out = SV_DOMAIN_DISK_TYPE_FILE;
        return TRUE;
    case VOL_BLOCK:
        *out = SV_DOMAIN_DISK_TYPE_BLOCK;
        return TRUE;
    case VOL_DIR:
        /* A directory as a disk (QEMU's vvfat): not implemented, as <disk type='dir'>. */
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "<disk type='dir'> is not supported by splitvirt");
        return FALSE;
    default:
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "unexpected storage volume type '%s' for storage pool type '%s'",
                     vol_type >= 0 && vol_type < (int)G_N_ELEMENTS(vol_types)
                         ? vol_types[vol_type]
                         : "",
                     pt);
        return FALSE;
    }
}

/* A step's reply: what it tells is kept, and the next step goes (or the next volume). */
static gboolean
step_take(QemuVolumeWork *work, void *ret, GError **error)
{
    Volume *v = work->vols->pdata[work->at];
    g_autoptr(SvStoragePoolDef) pool = NULL;

    switch (work->step) {
    case STEP_POOL: {
        remote_storage_pool_lookup_by_name_ret *r = ret;
        g_free(work->pool_name);
        work->pool_name = g_strdup(r->pool.name);
        memcpy(work->pool_uuid, r->pool.uuid, sizeof(work->pool_uuid));
        return TRUE;
    }
    case STEP_ACTIVE:
        if (((remote_storage_pool_is_active_ret *)ret)->active != 1) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "storage pool '%s' containing volume '%s' is not active", v->pool,
                         v->volume);
            return FALSE;
        }
        return TRUE;
    case STEP_VOL:
        g_free(work->vol_key);
        work->vol_key = g_strdup(((remote_storage_vol_lookup_by_name_ret *)ret)->vol.key);
        return TRUE;
    case STEP_INFO:
        work->vol_type = ((remote_storage_vol_get_info_ret *)ret)->type;
        return TRUE;
    case STEP_POOL_XML:
        pool = sv_storage_pool_def_parse(((remote_storage_pool_get_xml_desc_ret *)ret)->xml,
                                         error);
        return pool && check_types(v, pool->type, work->vol_type, &v->type, error);
    case STEP_PATH:
        v->path = g_strdup(((remote_storage_vol_get_path_ret *)ret)->name);
        return TRUE;
    default:
        g_assert_not_reached();
    }
}

/* The next volume, or the end. */
static void
next_volume(QemuVolumeWork *work)
{
    work->step = STEP_POOL;
    if (++work->at == work->vols->len)
        finish(work, NULL);
    else
        step_send(work);
}

/* libvirt's startupPolicy at a cold boot: an optional volume that does not resolve, for
 * whatever reason, is dropped (qemu_volume_apply); any other failure fails the work. */
static void
volume_failed(QemuVolumeWork *work, const GError *error)
{
    Volume *v = work->vols->pdata[work->at];

    if (!work->drop_optional || !v->optional) {
        finish(work, error);
        return;
    }
    g_debug("volume '%s' of pool '%s' (%s) dropped: %s", v->volume, v->pool, v->target,
            error->message);
    v->missing = TRUE;
    next_volume(work);
}

static void
step_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    QemuVolumeWork *work = data;
    g_autoptr(GError) err = NULL;

    (void)fc;
    if (error) {
        volume_failed(work, error);
        return;
    }
    if (!step_take(work, ret, &err)) {
        volume_failed(work, err);
        return;
    }
    if (++work->step == STEP_LAST)
        next_volume(work);
    else
        step_send(work);
}

static void
step_send(QemuVolumeWork *work)
{
    Volume *v = work->vols->pdata[work->at];
    remote_nonnull_storage_pool pool = {work->pool_name, {0}};
    remote_nonnull_storage_vol vol = {work->pool_name, v->volume, work->vol_key};

    memcpy(pool.uuid, work->pool_uuid, sizeof(pool.uuid));
#define CALL(PROC, ARGS, args, RET)                                                            \
    sv_family_client_call(work->fc, PROC, (xdrproc_t)xdr_##ARGS, args, (xdrproc_t)xdr_##RET,    \
                          sizeof(RET), step_done, work)
    switch (work->step) {
    case STEP_POOL: {
        remote_storage_pool_lookup_by_name_args a = {v->pool};
        CALL(REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_NAME, remote_storage_pool_lookup_by_name_args,
             &a, remote_storage_pool_lookup_by_name_ret);
        break;
    }
    case STEP_ACTIVE: {
        remote_storage_pool_is_active_args a = {pool};
        CALL(REMOTE_PROC_STORAGE_POOL_IS_ACTIVE, remote_storage_pool_is_active_args, &a,
             remote_storage_pool_is_active_ret);
        break;
    }
    case STEP_VOL: {
        remote_storage_vol_lookup_by_name_args a = {pool, v->volume};
        CALL(REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_NAME, remote_storage_vol_lookup_by_name_args, &a,
             remote_storage_vol_lookup_by_name_ret);
        break;
    }
    case STEP_INFO: {
        remote_storage_vol_get_info_args a = {vol};
        CALL(REMOTE_PROC_STORAGE_VOL_GET_INFO, remote_storage_vol_get_info_args, &a,
             remote_storage_vol_get_info_ret);
        break;
    }
    case STEP_POOL_XML: {
        remote_storage_pool_get_xml_desc_args a = {pool, 0};
        CALL(REMOTE_PROC_STORAGE_POOL_GET_XML_DESC, remote_storage_pool_get_xml_desc_args, &a,
             remote_storage_pool_get_xml_desc_ret);
        break;
    }
    case STEP_PATH: {
        remote_storage_vol_get_path_args a = {vol};
        CALL(REMOTE_PROC_STORAGE_VOL_GET_PATH, remote_storage_vol_get_path_args, &a,
             remote_storage_vol_get_path_ret);
        break;
    }
    default:
        g_assert_not_reached();
    }
#undef CALL
}

/* No connection: every volume fails with its error, in order. */
static gboolean
tell_failure(gpointer data)
{
    QemuVolumeWork *work = data;
    g_autoptr(GError) error = g_steal_pointer(&work->failed);

    work->idle = 0;
    for (guint i = 0; i < work->vols->len; i++) {
        Volume *v = work->vols->pdata[i];

        if (!work->drop_optional || !v->optional) {
            finish(work, error);
            return G_SOURCE_REMOVE;
        }
        v->missing = TRUE;
    }
    finish(work, NULL);
    return G_SOURCE_REMOVE;
}

QemuVolumeWork *
qemu_volume_resolve(const SvDomainDef *def, const char *family_run_dir,
                    const SvBackendIdentity *id, gboolean cold_boot, QemuVolumeDone done,
                    gpointer data)
{
    QemuVolumeWork *work;

    if (!qemu_volume_pending(def))
        return NULL;
    work = g_new0(QemuVolumeWork, 1);
    work->vols = g_ptr_array_new_with_free_func(volume_free);
    work->drop_optional = cold_boot;
    work->done = done;
    work->data = data;
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        Volume *v;

        if (!sv_domain_disk_vol_unresolved(d))
            continue;
        v = g_new0(Volume, 1);
        v->target = g_strdup(d->target_dev);
        v->pool = g_strdup(d->vol_pool);
        v->volume = g_strdup(d->vol_name);
        v->mode = d->vol_mode;
        v->startup_policy = d->startup_policy != SV_DOMAIN_STARTUP_POLICY_DEFAULT;
        v->optional = d->startup_policy == SV_DOMAIN_STARTUP_POLICY_OPTIONAL;
        g_ptr_array_add(work->vols, v);
    }
    work->fc = sv_family_client_new(family_run_dir, SV_PROC_FAMILY_STORAGE, id, &work->failed);
    if (!work->fc)
        work->idle = g_idle_add(tell_failure, work);
    else
        step_send(work);
    return work;
}

/* A dropped optional volume, as libvirt drops a missing optional image: a disk goes from
 * the live definition; a cdrom or floppy becomes an empty drive of type file, its policy
 * gone with the medium. */
static void
drop_missing(SvDomainDef *def, guint at)
{
    SvDomainDiskDef *d = def->disks->pdata[at];

    if (d->device == SV_DOMAIN_DISK_DEVICE_DISK || d->device == SV_DOMAIN_DISK_DEVICE_LUN) {
        g_ptr_array_remove_index(def->disks, at);
        return;
    }
    d->type = SV_DOMAIN_DISK_TYPE_FILE;
    g_clear_pointer(&d->vol_pool, g_free);
    g_clear_pointer(&d->vol_name, g_free);
    d->vol_mode = SV_DOMAIN_DISK_VOL_MODE_DEFAULT;
    d->startup_policy = SV_DOMAIN_STARTUP_POLICY_DEFAULT;
    d->vol_dropped = TRUE;
}

void
qemu_volume_apply(const QemuVolumeWork *work, SvDomainDef *def)
{
    for (guint i = 0; i < work->vols->len; i++) {
        const Volume *v = work->vols->pdata[i];

        for (guint k = 0; k < def->disks->len; k++) {
            SvDomainDiskDef *d = def->disks->pdata[k];

            if (!sv_domain_disk_vol_unresolved(d) || !g_str_equal(d->target_dev, v->target) ||
                g_strcmp0(d->vol_pool, v->pool) != 0 || g_strcmp0(d->vol_name, v->volume) != 0)
                continue;
            if (v->missing) {
                drop_missing(def, k);
                break;
            }
            d->source = g_strdup(v->path);
            d->vol_actual_type = v->type;
            /* libvirt's default format of a volume disk, once its type is known. */
            if (d->format == SV_DOMAIN_DISK_FORMAT_NONE)
                d->format = SV_DOMAIN_DISK_FORMAT_RAW;
        }
    }
}

/* ---------------------------------------------------------------- running guests */

typedef struct {
    gpointer run;
    SvDomainDef *dev;
    QemuVolumeThen then;
    gpointer data;
} DeviceWork;

static void
device_resolved(QemuVolumeWork *work, const GError *error, gpointer data)
{
    g_autoptr(QemuVolumeWork) owned = work;
    g_autofree DeviceWork *w = data;
    g_autoptr(SvDomainDef) dev = w->dev;
    g_autoptr(GError) err = NULL;
    SvDomainDef *resolved;
    SvDomainObj *obj = qemu_domain_find(w->run);

    if (!error && !obj) {
        sv_error_set(&err, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        error = err;
    }
    if (error) {
        w->then(NULL, NULL, NULL, error, w->data);
        return;
    }
    resolved = sv_domain_def_copy(dev);
    qemu_volume_apply(owned, resolved);
    w->then(obj, g_steal_pointer(&dev), resolved, NULL, w->data);
}

void
qemu_volume_resolve_device(SvCall *call, SvDomainObj *obj, SvDomainDef *dev,
                           QemuVolumeThen then, gpointer data)
{
    DeviceWork *w = g_new0(DeviceWork, 1);
    SvBackendIdentity id;

    w->run = sv_domain_obj_run_key(obj);
    w->dev = dev;
    w->then = then;
    w->data = data;
    sv_backend_identity_of_client(&id, sv_call_get_client(call));
    qemu_volume_resolve(dev, qemu_ctx_of(obj)->family_run_dir, &id, FALSE, device_resolved, w);
}

/* ---------------------------------------------------------------- hotplug */

typedef struct {
    SvStoreDoneFunc done;
    gpointer data;
} Attach;

static void
attach_resolved(SvDomainObj *obj, SvDomainDef *dev, SvDomainDef *resolved,
                const GError *error, gpointer data)
{
    g_autofree Attach *a = data;
    g_autoptr(SvDomainDef) given = dev; /* freed on return */
    g_autoptr(SvDomainDef) plugged = resolved;
    g_autoptr(GError) err = NULL;

    (void)given;

    if (!error && qemu_hotplug_attach_disk(obj, plugged, a->done, a->data, &err))
        return;
    a->done(error ? error : err, a->data);
}

gboolean
qemu_volume_attach(SvCall *call, SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done,
                   gpointer data, GError **error)
{
    Attach *a;
    QemuMonitor *mon;

    if (!qemu_hotplug_monitor_of(obj, &mon, error))
        return FALSE;
    a = g_new0(Attach, 1);
    a->done = done;
    a->data = data;
    /* Its own copy: dev is the caller's only while this runs. */
    qemu_volume_resolve_device(call, obj, sv_domain_def_copy(dev), attach_resolved, a);
    return TRUE;
}
