/* domain_rename.c: DOMAIN_RENAME (virsh domrename), an inactive persistent domain given a
 * new name as libvirt 9.0's qemu driver gives it: the name switched at once (as libvirt
 * switches it before it saves), the definition written under the new name, its autostart
 * link moved, the old file removed, then UNDEFINED/RENAMED for the old name and
 * DEFINED/RENAMED for the new one. The NVRAM file and every other path in the definition
 * stay as they are, as libvirt leaves them. */
#include "domain/domain_rename.h"

#include <string.h>

#include "util/error.h"

typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    guint8 uuid[16];
    char *old_name;
    char *new_name;
    gboolean autostart;
} RenameJob;

static void
job_free(RenameJob *job)
{
    g_free(job->old_name);
    g_free(job->new_name);
    g_free(job);
}

/* The domain of the job, still under the new name and inactive; NULL once it is not. */
static SvDomainObj *
job_obj(RenameJob *job)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);

    if (!obj || sv_domain_obj_is_active(obj) || !g_str_equal(obj->def->name, job->new_name))
        return NULL;
    return obj;
}

static void
undone(const GError *error, gpointer data)
{
    (void)data;
    if (error)
        g_warning("a renamed definition left behind: %s", error->message);
}

/* The rename undone after a failed write (the name back, what was written removed, the
 * pending name released), and the call failed with error. */
static void
job_fail(RenameJob *job, const GError *error, gboolean written)
{
    SvDomainObj *obj = job_obj(job);

    if (obj && !sv_domain_list_find_by_name(job->drv->list, job->old_name))
        sv_domain_list_rename(job->drv->list, obj, job->old_name);
    if (written)
        sv_domain_store_remove_async(job->drv->store, job->new_name, undone, NULL);
    g_hash_table_remove(job->drv->pending, job->new_name);
    sv_call_fail(job->call, g_error_copy(error));
    job_free(job);
}

static void
old_removed(const GError *error, gpointer data)
{
    RenameJob *job = data;
    SvDomainDriver *drv = job->drv;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, job->uuid);
    remote_domain_rename_ret ret = {0};
    remote_nonnull_domain old = {0};

    g_hash_table_remove(drv->pending, job->new_name);
    if (error) {
        /* The new file is complete: the domain is renamed; the old file lingers. */
        g_warning("rename of domain '%s': %s", job->old_name, error->message);
    }
    if (obj) {
        sv_domain_obj_to_remote(obj, &old);
        g_free(old.name);
        old.name = g_strdup(job->old_name);
        sv_remote_emit_lifecycle(drv->server, &old, SV_DOMAIN_EVENT_UNDEFINED,
                                 SV_DOMAIN_EVENT_UNDEFINED_RENAMED);
        g_free(old.name);
        sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_DEFINED, SV_DOMAIN_EVENT_DEFINED_RENAMED);
    }
    sv_call_reply(job->call, &ret);
    job_free(job);
}

static void
new_linked(const GError *error, gpointer data)
{
    RenameJob *job = data;

    if (error) {
        job_fail(job, error, TRUE);
        return;
    }
    sv_domain_store_remove_async(job->drv->store, job->old_name, old_removed, job);
}

static void
new_saved(const GError *error, gpointer data)
{
    RenameJob *job = data;

    if (error) {
        job_fail(job, error, FALSE);
        return;
    }
    if (job->autostart)
        sv_domain_store_autostart_async(job->drv->store, job->new_name, TRUE, new_linked, job);
    else
        new_linked(NULL, job);
}

/* libvirt's refusals, in its order: virDomainRename's argument check, the driver's flags,
 * an active or transient domain, the same or a taken name, then a '/' in it. */
static gboolean
rename_check(SvDomainDriver *drv, SvDomainObj *obj, const char *name, GError **error)
{
    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID, "cannot rename active domain");
        return FALSE;
    }
    if (!obj->persistent) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID,
                     "cannot rename a transient domain");
        return FALSE;
    }
    if (obj->busy) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already being removed", obj->def->name);
        return FALSE;
    }
    if (g_str_equal(obj->def->name, name)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "Can't rename domain to itself");
        return FALSE;
    }
    if (sv_domain_list_find_by_name(drv->list, name) || g_hash_table_contains(drv->pending, name)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "domain with name '%s' already exists", name);
        return FALSE;
    }
    if (strchr(name, '/')) {
        sv_error_set(error, drv->from, SV_ERR_XML_ERROR, "name %s cannot contain '/'", name);
        return FALSE;
    }
    /* Not in libvirt, which takes any other name here and then cannot read the file back
     * at its next start: the checks of a define. */
    return sv_domain_name_check(name, error);
}

/* virDomainRename's own check of its argument, before any driver's. */
static gboolean
name_given(const char *name, GError **error)
{
    if (!name || !*name) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             name ? "string new_name in virDomainRename must not be empty"
                                  : "new_name in virDomainRename must not be NULL");
        return FALSE;
    }
    return TRUE;
}

static gboolean
domain_rename(SvCall *call, remote_domain_rename_args *a, remote_domain_rename_ret *ret,
              GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const char *name = a->new_name ? *a->new_name : NULL;
    g_autofree char *text = NULL;
    SvDomainObj *obj;
    RenameJob *job;

    (void)ret;
    if (!name_given(name, error) ||
        !sv_domain_driver_check_flags(drv, a->flags, 0, "DomainRename", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !rename_check(drv, obj, name, error))
        return FALSE;
    job = g_new0(RenameJob, 1);
    job->drv = drv;
    memcpy(job->uuid, obj->def->uuid, 16);
    job->old_name = g_strdup(obj->def->name);
    job->new_name = g_strdup(name);
    job->autostart = obj->autostart;
    sv_domain_list_rename(drv->list, obj, name);
    g_hash_table_insert(drv->pending, g_strdup(name), g_memdup2(obj->def->uuid, 16));
    text = sv_domain_def_format(obj->def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    job->call = sv_call_defer(call);
    sv_domain_store_save_async(drv->store, name, text, new_saved, job);
    return TRUE;
}

static gboolean
domain_rename_no_support(SvCall *call, remote_domain_rename_args *a,
                         remote_domain_rename_ret *ret, GError **error)
{
    (void)call;
    (void)ret;
    if (!name_given(a->new_name ? *a->new_name : NULL, error))
        return FALSE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainRename");
    return FALSE;
}

void
sv_domain_rename_install(SvRemoteHandlers *h)
{
    h->domain_rename = domain_rename;
}

void
sv_domain_rename_install_no_support(SvRemoteHandlers *h)
{
    h->domain_rename = domain_rename_no_support;
}
