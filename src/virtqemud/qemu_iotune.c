/* qemu_iotune.c: DOMAIN_SET_BLOCK_IO_TUNE and DOMAIN_GET_BLOCK_IO_TUNE (virsh blkdeviotune;
 * issue 18, block I/O throttling) as libvirt 9.0's QEMU driver answers them: a running
 * guest's limits through QMP block_set_io_throttle on the disk's device and read back from
 * query-block, the persistent definition's <iotune>, and the TUNABLE event ("blkdeviotune.*")
 * after a live change. */
#include "qemu_iotune.h"

#include "domain/domain_modify.h"
#include "domain/domain_sched.h"
#include "domain/domain_typed.h"
#include "programs/remote.h"
#include "qemu_command_disk.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "qemu_stats.h"
#include "util/error.h"

#define IOTUNE_FLAGS (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)
/* The parameters libvirt knows, group_name among them at IOTUNE_GROUP. */
#define IOTUNE_PARAMS (SV_DOMAIN_IOTUNE_LAST + 1)
#define IOTUNE_GROUP (SV_DOMAIN_IOTUNE_SIZE_IOPS_SEC + 1)
/* libvirt's QEMU_BLOCK_IOTUNE_MAX. */
#define IOTUNE_LIMIT G_GUINT64_CONSTANT(1000000000000000)

/* The parameters in the order libvirt returns them. */
static const char *const param_names[IOTUNE_PARAMS] = {
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
    "size_iops_sec", "group_name",
    "total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
    "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length",
};

/* The SvDomainIotune slot of parameter k; -1 for group_name. */
static int
param_slot(int k)
{
    return k < IOTUNE_GROUP ? k : k == IOTUNE_GROUP ? -1 : k - 1;
}

static int
param_type(int k)
{
    return k == IOTUNE_GROUP ? SV_TYPED_PARAM_STRING : SV_TYPED_PARAM_ULLONG;
}

/* ---------------------------------------------------------------- the change */

/* What a SET call asks for: the values it gives, and its parameters for the event. */
typedef struct {
    guint64 values[SV_DOMAIN_IOTUNE_LAST];
    gboolean given[SV_DOMAIN_IOTUNE_LAST];
    char *group;
    gboolean group_given;
} IotuneChange;

static void
change_clear(IotuneChange *c)
{
    g_free(c->group);
}

/* The parameters checked as libvirt checks them before it looks at the domain. */
static gboolean
change_parse(const remote_typed_param *p, guint n, IotuneChange *c, GError **error)
{
    static const char *const what[] = {"bytes_sec", "iops_sec", "bytes_sec_max",
                                       "iops_sec_max"};
    gboolean seen[IOTUNE_PARAMS] = {FALSE};

    for (guint i = 0; i < n; i++) {
        int k = sv_domain_typed_param_take(&p[i], param_names, IOTUNE_PARAMS, param_type,
                                           seen, error);
        guint64 v;

        if (k < 0)
            return FALSE;
        if (k == IOTUNE_GROUP) {
            c->group_given = TRUE;
            c->group = g_strdup(p[i].value.remote_typed_param_value_u.s);
            continue;
        }
        v = p[i].value.remote_typed_param_value_u.ul;
        if (v > IOTUNE_LIMIT) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                         "block I/O throttle limit value must be no more than %" G_GUINT64_FORMAT,
                         IOTUNE_LIMIT);
            return FALSE;
        }
        c->values[param_slot(k)] = v;
        c->given[param_slot(k)] = TRUE;
    }
    /* A total and its read or write part exclude each other (triples at 0, 3, 6, 9). */
    for (guint t = 0; t < G_N_ELEMENTS(what); t++) {
        const guint64 *v = &c->values[3 * t];

        if (v[0] && (v[1] || v[2])) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "total and read/write of %s cannot be set at the same time", what[t]);
            return FALSE;
        }
    }
    return TRUE;
}

/* The change over a disk's values, as libvirt merges them: a triple (total, read, write)
 * the call gives any of is the call's (what it leaves out of it is 0); the others stay. */
static void
change_merge(const IotuneChange *c, const guint64 old[], guint64 out[])
{
    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++)
        out[i] = c->given[i] ? c->values[i] : old[i];
    for (int t = 0; t < SV_DOMAIN_IOTUNE_LAST; t++) {
        /* size_iops_sec stands alone; the triples start at 0, 3, 6, 9, 13 and 16. */
        if (t == SV_DOMAIN_IOTUNE_SIZE_IOPS_SEC)
            continue;
        if (c->given[t] || c->given[t + 1] || c->given[t + 2]) {
            for (int j = t; j < t + 3; j++)
                out[j] = c->values[j];
        }
        t += 2;
    }
}

/* What libvirt 9.0 checks of the merged values before it sends them to QEMU: a burst
 * (_max) needs its base (whether or not this call cleared it, the same error), never under
 * it. */
static gboolean
check_live(const guint64 v[], GError **error)
{
    for (int base = 0; base <= SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC; base++) {
        int max = base + SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX;

        if (v[max] && !v[base]) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "cannot reset '%s' when '%s' is set", param_names[base],
                         param_names[max]);
            return FALSE;
        }
        if (v[max] && v[max] < v[base]) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "value '%s' cannot be smaller than '%s'", param_names[max],
                         param_names[base]);
            return FALSE;
        }
    }
    return TRUE;
}

static void
disk_apply(SvDomainDiskDef *disk, const guint64 v[], const IotuneChange *c)
{
    memcpy(disk->iotune, v, sizeof(disk->iotune));
    if (c->group_given) {
        g_free(disk->iotune_group);
        disk->iotune_group = c->group && *c->group ? g_strdup(c->group) : NULL;
    }
}

/* ---------------------------------------------------------------- the event */

/* libvirt's TUNABLE event: "blkdeviotune.disk", then each parameter the call gave. */
static void
emit_tunable(SvDomainDriver *drv, SvDomainObj *obj, const char *disk,
             const remote_typed_param *p, guint n)
{
    g_autofree remote_typed_param *params = g_new0(remote_typed_param, n + 1);

    params[0].field = g_strdup("blkdeviotune.disk");
    params[0].value.type = SV_TYPED_PARAM_STRING;
    params[0].value.remote_typed_param_value_u.s = (char *)disk;
    for (guint i = 1; i <= n; i++) {
        params[i].field = g_strconcat("blkdeviotune.", p[i - 1].field, NULL);
        params[i].value = p[i - 1].value;
    }
    sv_domain_emit_tunable(drv, obj, params, n + 1);
    for (guint i = 0; i <= n; i++)
        g_free(params[i].field);
}

/* ---------------------------------------------------------------- set */

typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    gpointer run; /* the guest's run: a weak handle */
    char *disk;
    IotuneChange change;
    guint64 values[SV_DOMAIN_IOTUNE_LAST]; /* the live disk's new values */
    gboolean config;
    remote_typed_param *params; /* a copy of the call's, for the event */
    guint nparams;
} SetJob;

static void
set_job_free(SetJob *job)
{
    for (guint i = 0; i < job->nparams; i++)
        xdr_free((xdrproc_t)xdr_remote_typed_param, (char *)&job->params[i]);
    g_free(job->params);
    change_clear(&job->change);
    g_free(job->disk);
    g_free(job);
}

static void
set_saved(const GError *error, gpointer data)
{
    SetJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);

    if (error)
        sv_call_fail(job->call, g_error_copy(error));
    else
        sv_call_reply(job->call, NULL);
    if (!error && obj)
        emit_tunable(job->drv, obj, job->disk, job->params, job->nparams);
    set_job_free(job);
}

/* The persistent definition's disk takes the change too (CONFIG with LIVE). */
static void
config_apply(SvDomainObj *obj, const char *name, const IotuneChange *c)
{
    guint flags = SV_DOMAIN_AFFECT_CONFIG;
    SvDomainDef *live = NULL, *config = NULL;
    SvDomainDiskDef *disk;
    guint64 v[SV_DOMAIN_IOTUNE_LAST];

    if (!sv_domain_modify_defs(obj, &flags, &live, &config, NULL) || !config ||
        !(disk = sv_domain_disk_by_name(config, name)))
        return;
    change_merge(c, disk->iotune, v);
    disk_apply(disk, v, c);
}

static void
set_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SetJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);
    SvDomainDiskDef *disk = obj ? sv_domain_disk_by_name(obj->def, job->disk) : NULL;

    (void)mon;
    (void)ret;
    if (error || !disk) {
        sv_call_fail(job->call, error ? g_error_copy(error)
                                      : g_error_new(sv_error_quark(SV_FROM_DOMAIN),
                                                    SV_ERR_OPERATION_INVALID,
                                                    "domain is not running"));
        set_job_free(job);
        return;
    }
    disk_apply(disk, job->values, &job->change);
    if (job->config)
        config_apply(obj, job->disk, &job->change);
    sv_domain_modify_save(job->drv, obj, TRUE, job->config, set_saved, job);
}

/* The live change: checked, then sent; the reply finishes the call (set_replied). */
static gboolean
set_live(SvCall *call, SvDomainObj *obj, SvDomainDef *live, SetJob *job, GError **error)
{
    SvDomainDiskDef *disk = sv_domain_disk_by_name(live, job->disk);
    QemuDomain *priv = qemu_domain_of(obj);
    JsonObject *args;

    if (!disk) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "disk '%s' not found in domain",
                     job->disk);
        return FALSE;
    }
    if (sv_domain_disk_is_empty(disk) || !disk->info.alias) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "block I/O throttle is not supported for disk '%s'", job->disk);
        return FALSE;
    }
    change_merge(&job->change, disk->iotune, job->values);
    if (!check_live(job->values, error))
        return FALSE;
    if (!priv || !priv->mon || qemu_monitor_is_closed(priv->mon)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    args = qemu_disk_throttle_build(
        disk, job->values,
        job->change.group_given && *job->change.group ? job->change.group : disk->iotune_group);
    job->call = sv_call_defer(call);
    job->run = sv_domain_obj_run_key(obj);
    qemu_monitor_command(priv->mon, "block_set_io_throttle", args, set_replied, job);
    return TRUE;
}

static gboolean
set_block_io_tune(SvCall *call, remote_domain_set_block_io_tune_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainDef *live, *config;
    SvDomainDiskDef *conf_disk = NULL;
    guint flags = a->flags;
    SvDomainObj *obj;
    SetJob *job;

    if (!sv_domain_driver_check_flags(drv, flags, IOTUNE_FLAGS, "DomainSetBlockIoTune", error))
        return FALSE;
    job = g_new0(SetJob, 1);
    job->drv = drv;
    job->disk = g_strdup(a->disk);
    job->params = g_new0(remote_typed_param, a->params.params_len);
    for (; job->nparams < a->params.params_len; job->nparams++) {
        const remote_typed_param *p = &a->params.params_val[job->nparams];

        job->params[job->nparams].field = g_strdup(p->field);
        job->params[job->nparams].value = p->value;
        if (p->value.type == SV_TYPED_PARAM_STRING)
            job->params[job->nparams].value.remote_typed_param_value_u.s =
                g_strdup(p->value.remote_typed_param_value_u.s);
    }
    if (!change_parse(a->params.params_val, a->params.params_len, &job->change, error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        goto fail;
    if (config && !(conf_disk = sv_domain_disk_by_name(config, a->disk))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "missing persistent configuration for disk '%s'", a->disk);
        goto fail;
    }
    if (live) {
        job->config = config != NULL;
        if (!set_live(call, obj, live, job, error))
            goto fail;
        return TRUE;
    }
    /* Only the persistent definition: no QEMU, no event. */
    config_apply(obj, a->disk, &job->change);
    set_job_free(job);
    return sv_domain_modify_finish(call, drv, obj, NULL, config, TRUE);

fail:
    set_job_free(job);
    return FALSE;
}

/* ---------------------------------------------------------------- get */

/* The reply: the first nparams parameters (group_name only for a client that reads
 * strings, as libvirt's daemon). */
static void
fill_reply(remote_domain_get_block_io_tune_ret *ret, int nparams, gboolean strings,
           const guint64 v[], const char *group)
{
    guint max = MIN((guint)nparams, (guint)IOTUNE_PARAMS);
    guint n = 0;

    ret->params.params_val = g_new0(remote_typed_param, max);
    for (guint k = 0; k < max; k++) {
        remote_typed_param *p = &ret->params.params_val[n];

        if (k == IOTUNE_GROUP && !strings)
            continue;
        p->field = g_strdup(param_names[k]);
        p->value.type = param_type((int)k);
        if (k == IOTUNE_GROUP)
            p->value.remote_typed_param_value_u.s = g_strdup(group ? group : "");
        else
            p->value.remote_typed_param_value_u.ul = v[param_slot((int)k)];
        n++;
    }
    ret->params.params_len = n;
    ret->nparams = (int)n;
}

typedef struct {
    SvCall *call; /* deferred */
    gpointer run;
    char *disk;
    int nparams;
    gboolean strings;
} GetJob;

static void
get_job_free(GetJob *job)
{
    g_free(job->disk);
    g_free(job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GetJob, get_job_free)

static guint64
json_u64(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    return n && JSON_NODE_HOLDS_VALUE(n) ? (guint64)json_node_get_int(n) : 0;
}

/* query-block's "inserted" object of disk, or NULL. (transfer none) */
static JsonObject *
inserted_of(JsonNode *ret, const SvDomainDiskDef *disk)
{
    JsonArray *a = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *e = qemu_json_array_object(a, i);
        JsonNode *ins = e ? json_object_get_member(e, "inserted") : NULL;

        if (ins && JSON_NODE_HOLDS_OBJECT(ins) &&
            qemu_stats_qdev_is_disk(qemu_json_string(e, "qdev"), disk))
            return json_node_get_object(ins);
    }
    return NULL;
}

static void
get_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autoptr(GetJob) job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);
    SvDomainDiskDef *disk = obj ? sv_domain_disk_by_name(obj->def, job->disk) : NULL;
    remote_domain_get_block_io_tune_ret reply = {{0}, 0};
    guint64 v[SV_DOMAIN_IOTUNE_LAST];
    JsonObject *ins;

    (void)mon;
    if (error || !disk) {
        sv_call_fail(job->call, error ? g_error_copy(error)
                                      : g_error_new(sv_error_quark(SV_FROM_DOMAIN),
                                                    SV_ERR_OPERATION_INVALID,
                                                    "domain is not running"));
        return;
    }
    if (!(ins = inserted_of(ret, disk))) {
        sv_call_fail(job->call, g_error_new(sv_error_quark(SV_FROM_QEMU),
                                            SV_ERR_INTERNAL_ERROR,
                                            "cannot find throttling info for device '%s'",
                                            job->disk));
        return;
    }
    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++)
        v[i] = json_u64(ins, qemu_disk_throttle_keys[i]);
    fill_reply(&reply, job->nparams, job->strings, v, qemu_json_string(ins, "group"));
    sv_call_reply(job->call, &reply);
    xdr_free((xdrproc_t)xdr_remote_domain_get_block_io_tune_ret, (char *)&reply);
}

/* The persistent definition's values, or the running guest's from query-block. */
static gboolean
get_block_io_tune(SvCall *call, remote_domain_get_block_io_tune_args *a,
                  remote_domain_get_block_io_tune_ret *ret, GError **error)
{
    guint flags = a->flags & ~SV_TYPED_PARAM_STRING_OKAY;
    const char *name = a->disk ? *a->disk : NULL;
    SvDomainDef *live, *config;
    SvDomainDiskDef *disk;
    QemuDomain *priv;
    SvDomainObj *obj;
    GetJob *job;

    obj = sv_domain_typed_get_begin(call, &a->dom, a->nparams,
                                    REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX, a->flags,
                                    "DomainGetBlockIoTune", error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    /* libvirt answers the count once it knows which definition is asked for. */
    if (a->nparams == 0) {
        ret->nparams = IOTUNE_PARAMS;
        return TRUE;
    }
    if (!name || !(disk = sv_domain_disk_by_name(config ? config : live, name))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     config ? "disk '%s' was not found in the domain config"
                            : "disk '%s' not found in domain",
                     name ? name : "");
        return FALSE;
    }
    if (config) {
        fill_reply(ret, a->nparams, (a->flags & SV_TYPED_PARAM_STRING_OKAY) != 0,
                   disk->iotune, disk->iotune_group);
        return TRUE;
    }
    priv = qemu_domain_of(obj);
    if (!priv || !priv->mon || qemu_monitor_is_closed(priv->mon)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    job = g_new0(GetJob, 1);
    job->call = sv_call_defer(call);
    job->run = sv_domain_obj_run_key(obj);
    job->disk = g_strdup(name);
    job->nparams = a->nparams;
    job->strings = (a->flags & SV_TYPED_PARAM_STRING_OKAY) != 0;
    qemu_monitor_command(priv->mon, "query-block", NULL, get_replied, job);
    return TRUE;
}

void
qemu_iotune_install(SvRemoteHandlers *h)
{
    h->domain_set_block_io_tune = set_block_io_tune;
    h->domain_get_block_io_tune = get_block_io_tune;
}
