/* domain_resize.c: a domain's memory and vcpu counts changed, as libvirt 9.0's QEMU driver
 * changes them (qemuDomainSetMemoryFlags, qemuDomainSetVcpusFlags): the persistent
 * definition always; a running guest's memory through its balloon (the driver's
 * SvResizeFacts). What is not done here is refused with an error, never answered with a
 * success: vcpu unplug from a running guest, vcpus through the guest agent, and HOTPLUGGABLE
 * (a definition's <vcpus> list is modelled only in the shape a hotplug leaves). Live vcpu
 * hotplug goes through the driver's vcpus_plug. */
#include "domain/domain_resize.h"

#include <string.h>

#include "domain/domain_modify.h"
#include "util/error.h"

#define MEM_FLAGS (SV_DOMAIN_MEM_LIVE | SV_DOMAIN_MEM_CONFIG | SV_DOMAIN_MEM_MAXIMUM)
#define VCPU_FLAGS \
    (SV_DOMAIN_VCPU_LIVE | SV_DOMAIN_VCPU_CONFIG | SV_DOMAIN_VCPU_MAXIMUM | \
     SV_DOMAIN_VCPU_GUEST | SV_DOMAIN_VCPU_HOTPLUGGABLE)

/* libvirt-domain.c's virCheckNonZeroArg, which libvirt's daemon runs too. */
static gboolean
check_nonzero(guint64 value, const char *arg, const char *api, GError **error)
{
    if (value != 0)
        return TRUE;
    sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "%s in %s must not be zero",
                         arg, api);
    return FALSE;
}

/* The reply once the change is on disk. */
typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    guint8 uuid[16];
    guint64 kib;
    gboolean config; /* the persistent definition takes kib once the guest took it */
} ResizeJob;

static void
resize_saved(const GError *error, gpointer data)
{
    ResizeJob *job = data;

    if (error)
        sv_call_fail(job->call, g_error_copy(error));
    else
        sv_call_reply(job->call, NULL);
    g_free(job);
}

static ResizeJob *
job_new(SvDomainDriver *drv, SvCall *call, SvDomainObj *obj, guint64 kib, gboolean config)
{
    ResizeJob *job = g_new0(ResizeJob, 1);

    job->drv = drv;
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    job->kib = kib;
    job->config = config;
    return job;
}

/* ---------------------------------------------------------------- memory */

static gboolean
lxc_messages(SvDomainDriver *drv)
{
    return drv->resize && drv->resize->lxc_messages;
}

/* After the balloon answered: the persistent definition's current memory, on disk. The
 * live <currentMemory> follows what the guest reports, as libvirt's does. */
static void
balloon_done(const GError *error, gpointer data)
{
    ResizeJob *job = data;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);
    SvDomainDef *config;

    if (error || !obj || !job->config) {
        resize_saved(error, job);
        return;
    }
    config = sv_domain_obj_is_active(obj) ? obj->new_def : obj->def;
    if (config && obj->persistent)
        config->current_memory_kib = MIN(job->kib, config->memory_kib);
    sv_domain_modify_save(job->drv, obj, FALSE, config && obj->persistent, resize_saved, job);
}

static gboolean
set_max_memory(SvDomainDriver *drv, SvCall *call, SvDomainObj *obj, SvDomainDef *live,
               SvDomainDef *config, guint64 kib, GError **error)
{
    if (live) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID, "%s",
                     lxc_messages(drv) ? "Cannot resize the max memory on an active domain"
                                       : "cannot resize the maximum memory on an active domain");
        return FALSE;
    }
    if (config->max_memory_kib && config->max_memory_kib < kib) {
        sv_error_set(error, drv->from, SV_ERR_INVALID_ARG,
                     "cannot set initial memory size greater than the maximum memory size");
        return FALSE;
    }
    config->memory_kib = kib;
    config->current_memory_kib = MIN(config->current_memory_kib, kib);
    sv_domain_modify_save(drv, obj, FALSE, TRUE, resize_saved,
                          job_new(drv, call, obj, kib, FALSE));
    return TRUE;
}

static gboolean
set_current_memory(SvDomainDriver *drv, SvCall *call, SvDomainObj *obj, SvDomainDef *live,
                   SvDomainDef *config, guint64 kib, GError **error)
{
    guint64 max = live ? live->memory_kib : 0;
    ResizeJob *job;

    if (config && (!live || max > config->memory_kib))
        max = config->memory_kib;
    if (kib > max) {
        sv_error_set(error, drv->from, SV_ERR_INVALID_ARG, "%s",
                     lxc_messages(drv) ? "Cannot set memory higher than max memory"
                                       : "cannot set memory higher than max memory");
        return FALSE;
    }
    if (live && drv->resize && drv->resize->set_live_memory) {
        gboolean ok = drv->resize->set_live_memory(obj, kib, error);

        if (ok) {
            live->current_memory_kib = kib;
            if (config)
                config->current_memory_kib = kib;
        }
        return sv_domain_modify_finish(call, drv, obj, live, config, ok);
    }
    if (!live) {
        config->current_memory_kib = kib;
        sv_domain_modify_save(drv, obj, FALSE, TRUE, resize_saved,
                              job_new(drv, call, obj, kib, FALSE));
        return TRUE;
    }
    if (!drv->resize || !drv->resize->balloon) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_UNSUPPORTED,
                     "changing the memory of a running domain is not supported");
        return FALSE;
    }
    if (!live->memballoon || g_str_equal(live->memballoon->model, "none")) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID,
                     "Unable to change memory of active domain without the balloon device "
                     "and guest OS balloon driver");
        return FALSE;
    }
    job = job_new(drv, call, obj, kib, config != NULL);
    drv->resize->balloon(obj, kib, balloon_done, job);
    return TRUE;
}

static gboolean
set_memory_common(SvCall *call, const remote_nonnull_domain *dom, guint64 kib, guint flags,
                  GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainDef *live, *config;
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, flags, MEM_FLAGS, "DomainSetMemoryFlags", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (flags & SV_DOMAIN_MEM_MAXIMUM)
        return set_max_memory(drv, call, obj, live, config, kib, error);
    return set_current_memory(drv, call, obj, live, config, kib, error);
}

gboolean
sv_domain_resize_set_memory(SvCall *call, remote_domain_set_memory_args *a, GError **error)
{
    return check_nonzero(a->memory, "memory", "virDomainSetMemory", error) &&
           set_memory_common(call, &a->dom, a->memory, SV_DOMAIN_MEM_LIVE, error);
}

gboolean
sv_domain_resize_set_memory_flags(SvCall *call, remote_domain_set_memory_flags_args *a,
                                  GError **error)
{
    return check_nonzero(a->memory, "memory", "virDomainSetMemoryFlags", error) &&
           set_memory_common(call, &a->dom, a->memory, a->flags, error);
}

gboolean
sv_domain_resize_set_max_memory(SvCall *call, remote_domain_set_max_memory_args *a,
                                GError **error)
{
    return check_nonzero(a->memory, "memory", "virDomainSetMaxMemory", error) &&
           set_memory_common(call, &a->dom, a->memory, SV_DOMAIN_MEM_MAXIMUM, error);
}

/* ---------------------------------------------------------------- vcpus */

/* The maximum of the persistent definition; vcpus beyond it go, with their pins. */
static gboolean
set_max_vcpus(SvDomainDriver *drv, SvDomainDef *live, SvDomainDef *config, guint n,
              GError **error)
{
    GPtrArray *pins;

    if (live) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_UNSUPPORTED,
                     "maximum vcpu count of a live domain can't be modified");
        return FALSE;
    }
    if (config->cpu_sockets &&
        config->cpu_sockets * config->cpu_dies * config->cpu_cores * config->cpu_threads != n) {
        sv_error_set(error, drv->from, SV_ERR_INVALID_ARG,
                     "CPU topology doesn't match the desired vcpu count");
        return FALSE;
    }
    config->vcpus = n;
    config->vcpus_current = MIN(config->vcpus_current, n);
    pins = config->cputune.vcpupins;
    for (guint i = pins->len; i > 0; i--) {
        if (((SvDomainVcpuPinDef *)pins->pdata[i - 1])->vcpu >= n)
            g_ptr_array_remove_index(pins, i - 1);
    }
    return TRUE;
}

/* After the hypervisor plugged vcpus: the live definition lists them, the persistent one
 * takes the count when the call asked for both (and all went in); both on disk. */
static void
vcpus_plugged(const GError *error, guint online, gpointer data)
{
    ResizeJob *job = data;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);
    gboolean config;

    if (!obj || !sv_domain_obj_is_active(obj)) {
        resize_saved(error, job);
        return;
    }
    if (online > obj->def->vcpus_current && !obj->def->vcpus_fixed)
        obj->def->vcpus_fixed = obj->def->vcpus_current;
    obj->def->vcpus_current = online;
    config = job->config && !error && obj->persistent && obj->new_def;
    if (config)
        obj->new_def->vcpus_current = (guint)job->kib; /* the count asked for */
    if (error) {
        /* What went in is recorded; the call fails with the hypervisor's error. */
        if (obj->priv && job->drv->save_status)
            sv_domain_driver_save_status(job->drv, obj);
        resize_saved(error, job);
        return;
    }
    sv_domain_modify_save(job->drv, obj, TRUE, config, resize_saved, job);
}

/* A running guest's vcpu count: up by hotplug; down by unplug where the vcpus are
 * hotpluggable (the driver's device_del and wait). */
static gboolean
set_live_vcpus(SvDomainDriver *drv, SvCall *call, SvDomainObj *obj, SvDomainDef *live,
               SvDomainDef *config, guint n, GError **error)
{
    guint fixed = live->vcpus_fixed ? live->vcpus_fixed : live->vcpus_current;

    if (n < live->vcpus_current && n < fixed) {
        sv_error_set(error, drv->from, SV_ERR_CONFIG_UNSUPPORTED,
                     "failed to find appropriate hotpluggable vcpus to reach the desired "
                     "target vcpu count");
        return FALSE;
    }
    if (!drv->resize || !(n < live->vcpus_current ? drv->resize->vcpus_unplug
                                                  : drv->resize->vcpus_plug)) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                     n < live->vcpus_current ? "unplugging vcpus of a running domain is not "
                                               "supported"
                                             : "changing the vcpu count of a running domain is "
                                               "not supported");
        return FALSE;
    }
    (n < live->vcpus_current ? drv->resize->vcpus_unplug : drv->resize->vcpus_plug)(
        obj, live->vcpus_current, n, vcpus_plugged, job_new(drv, call, obj, n, config != NULL));
    return TRUE;
}

static gboolean
check_vcpu_max(SvDomainDriver *drv, SvDomainDef *live, SvDomainDef *config, guint n,
               GError **error)
{
    if (live && n > live->vcpus) {
        sv_error_set(error, drv->from, SV_ERR_INVALID_ARG,
                     "requested vcpus is greater than max allowable vcpus for the live "
                     "domain: %u > %u", n, live->vcpus);
        return FALSE;
    }
    if (config && n > config->vcpus) {
        sv_error_set(error, drv->from, SV_ERR_INVALID_ARG,
                     "requested vcpus is greater than max allowable vcpus for the persistent "
                     "domain: %u > %u", n, config->vcpus);
        return FALSE;
    }
    return TRUE;
}

/* libvirt-domain.c's flag rules for virDomainSetVcpusFlags. */
static gboolean
check_vcpu_args(guint nvcpus, guint flags, GError **error)
{
    if ((flags & SV_DOMAIN_VCPU_MAXIMUM) && !(flags & SV_DOMAIN_AFFECT_CONFIG)) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag "
                             "'VIR_DOMAIN_VCPU_MAXIMUM'");
        return FALSE;
    }
    if ((flags & SV_DOMAIN_VCPU_GUEST) && (flags & SV_DOMAIN_AFFECT_CONFIG)) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "Flags 'VIR_DOMAIN_VCPU_GUEST' and 'VIR_DOMAIN_AFFECT_CONFIG' are "
                             "mutually exclusive");
        return FALSE;
    }
    return check_nonzero(nvcpus, "nvcpus", "virDomainSetVcpusFlags", error);
}

static gboolean
set_vcpus_common(SvCall *call, const remote_nonnull_domain *dom, guint n, guint flags,
                 GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainDef *live, *config;
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, flags, VCPU_FLAGS, "DomainSetVcpusFlags", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, dom, error);
    if (!obj)
        return FALSE;
    if (flags & (SV_DOMAIN_VCPU_GUEST | SV_DOMAIN_VCPU_HOTPLUGGABLE)) {
        if ((flags & SV_DOMAIN_VCPU_GUEST) && !sv_domain_obj_is_active(obj)) {
            sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID, "domain is not running");
            return FALSE;
        }
        sv_error_set(error, drv->from, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                     (flags & SV_DOMAIN_VCPU_GUEST)
                         ? "setting vcpus through the guest agent is not supported"
                         : "hotpluggable vcpus are not supported");
        return FALSE;
    }
    if (!sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (flags & SV_DOMAIN_VCPU_MAXIMUM) {
        if (!set_max_vcpus(drv, live, config, n, error))
            return FALSE;
    } else {
        if (!check_vcpu_max(drv, live, config, n, error))
            return FALSE;
        if (live && n != live->vcpus_current)
            return set_live_vcpus(drv, call, obj, live, config, n, error);
        if (config)
            config->vcpus_current = n;
    }
    /* The live definition is unchanged: it already had the count asked for. */
    sv_domain_modify_save(drv, obj, FALSE, config != NULL, resize_saved,
                          job_new(drv, call, obj, 0, FALSE));
    return TRUE;
}

gboolean
sv_domain_resize_set_vcpus(SvCall *call, remote_domain_set_vcpus_args *a, GError **error)
{
    return check_nonzero(a->nvcpus, "nvcpus", "virDomainSetVcpus", error) &&
           set_vcpus_common(call, &a->dom, a->nvcpus, SV_DOMAIN_VCPU_LIVE, error);
}

gboolean
sv_domain_resize_set_vcpus_flags(SvCall *call, remote_domain_set_vcpus_flags_args *a,
                                 GError **error)
{
    return check_vcpu_args(a->nvcpus, a->flags, error) &&
           set_vcpus_common(call, &a->dom, a->nvcpus, a->flags, error);
}
