/* qemu_vcpuhot.c: vcpus plugged into and unplugged from a running QEMU guest (the resize
 * facts vcpus_plug and vcpus_unplug); plugged as
 * libvirt 9.0 plugs them (qemuDomainHotplugAddVcpu): query-hotpluggable-cpus gives QEMU's
 * cpu slots; vcpu i is the i-th slot in topology order (socket, die, core, thread), and
 * goes in with device_add of the slot's type, id 'vcpuI' and the slot's props, one after
 * the other. The thread ids are read with query-cpus-fast by whoever needs them
 * (qemu_stats_vcpu.c), so nothing of them is kept here. */
#include "qemu_vcpuhot.h"

#include "qemu_domain.h"
#include "qemu_hotplug_priv.h"
#include "qemu_monitor.h"
#include "util/error.h"

/* A plug or an unplug of vcpus under way. */
typedef struct {
    gpointer run;
    guint online; /* vcpus online so far */
    guint n;      /* the count asked for */
    GPtrArray *slots; /* plug: of JsonObject (ref), in vcpu id order */
    SvVcpusDoneFunc done;
    gpointer data;
} PlugJob;

static PlugJob *
job_new(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done, gpointer data)
{
    PlugJob *job = g_new0(PlugJob, 1);

    job->run = sv_domain_obj_run_key(obj);
    job->online = online;
    job->n = n;
    job->done = done;
    job->data = data;
    return job;
}

static void
plug_finish(PlugJob *job, const GError *error)
{
    job->done(error, job->online, job->data);
    if (job->slots)
        g_ptr_array_unref(job->slots);
    g_free(job);
}

static gint64
slot_prop(JsonObject *slot, const char *name)
{
    JsonObject *props = json_object_get_object_member(slot, "props");

    return props && json_object_has_member(props, name)
               ? json_object_get_int_member(props, name) : -1;
}

static gint
slot_compare(gconstpointer a, gconstpointer b)
{
    static const char *const keys[] = {"socket-id", "die-id", "core-id", "thread-id"};
    JsonObject *x = *(JsonObject *const *)a;
    JsonObject *y = *(JsonObject *const *)b;

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        gint64 u = slot_prop(x, keys[i]), v = slot_prop(y, keys[i]);

        if (u != v)
            return u < v ? -1 : 1;
    }
    return 0;
}

static void plug_next(PlugJob *job);

static void
device_added(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    PlugJob *job = data;

    (void)mon;
    (void)ret;
    if (error) {
        plug_finish(job, error);
        return;
    }
    job->online++;
    plug_next(job);
}

/* device_add of the next vcpu's slot, or the end. */
static void
plug_next(PlugJob *job)
{
    SvDomainObj *obj = qemu_domain_find(job->run);
    g_autoptr(GError) error = NULL;
    JsonObject *slot, *props, *args;
    g_autofree char *id = NULL;
    g_autoptr(GList) members = NULL;

    if (job->online >= job->n) {
        plug_finish(job, NULL);
        return;
    }
    if (!obj || !qemu_domain_of(obj)->mon) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        plug_finish(job, error);
        return;
    }
    slot = job->slots->pdata[job->online];
    props = json_object_get_object_member(slot, "props");
    args = json_object_new();
    json_object_set_string_member(args, "driver", json_object_get_string_member(slot, "type"));
    id = g_strdup_printf("vcpu%u", job->online);
    json_object_set_string_member(args, "id", id);
    members = props ? json_object_get_members(props) : NULL;
    for (GList *l = members; l; l = l->next)
        json_object_set_member(args, l->data,
                               json_node_copy(json_object_get_member(props, l->data)));
    qemu_monitor_command(qemu_domain_of(obj)->mon, "device_add", args, device_added, job);
}

/* The slots in vcpu order, or NULL with an error when QEMU's answer does not fit the
 * guest's vcpus (each slot one vcpu, the ones to plug still empty). */
static GPtrArray *
slots_of(JsonNode *ret, const PlugJob *job, GError **error)
{
    JsonArray *arr = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);

    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *slot = json_array_get_object_element(arr, i);

        if (!slot || !json_object_has_member(slot, "type") ||
            json_object_get_int_member_with_default(slot, "vcpus-count", 0) != 1) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                         "hotplug of vcpus grouped in QEMU's cpu slots is not supported");
            return NULL;
        }
        g_ptr_array_add(slots, json_object_ref(slot));
    }
    g_ptr_array_sort(slots, slot_compare);
    for (guint i = job->online; i < job->n; i++) {
        if (i >= slots->len || json_object_has_member(slots->pdata[i], "qom-path")) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "vcpu '%u' has no free hotpluggable cpu slot in QEMU", i);
            return NULL;
        }
    }
    return g_steal_pointer(&slots);
}

static void
slots_queried(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    PlugJob *job = data;
    g_autoptr(GError) err = NULL;

    (void)mon;
    if (error) {
        plug_finish(job, error);
        return;
    }
    job->slots = slots_of(ret, job, &err);
    if (!job->slots) {
        plug_finish(job, err);
        return;
    }
    plug_next(job);
}

void
qemu_vcpuhot_plug(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                  gpointer data)
{
    PlugJob *job = job_new(obj, online, n, done, data);

    if (!qemu_domain_of(obj) || !qemu_domain_of(obj)->mon) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        plug_finish(job, error);
        return;
    }
    qemu_monitor_command(qemu_domain_of(obj)->mon, "query-hotpluggable-cpus", NULL,
                         slots_queried, job);
}

/* ---------------------------------------------------------------- unplug */

/* vcpus unplugged from a running guest as libvirt 9.0 unplugs them (qemuDomainHotplugDelVcpu):
 * the highest online one first, device_del of its 'vcpuI', then the wait for QEMU's
 * DEVICE_DELETED of it (qemu_hotplug.c's, 5 s). When the wait ends first the call fails
 * with libvirt's timeout error (the ones gone before stay gone, and a DEVICE_DELETED
 * later still lowers the count: qemu_vcpuhot_deleted). No device event. */
static void unplug_next(PlugJob *job);

/* After QEMU's DEVICE_DELETED: whether its slot of vcpu online-1 is empty now. */
static void
unplug_checked(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    PlugJob *job = data;
    JsonArray *arr = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    g_autofree char *path = g_strdup_printf("/machine/peripheral/vcpu%u", job->online - 1);
    g_autoptr(GError) err = NULL;

    (void)mon;
    if (error) {
        plug_finish(job, error);
        return;
    }
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *slot = json_array_get_object_element(arr, i);

        if (slot && g_strcmp0(qemu_json_string(slot, "qom-path"), path) == 0) {
            sv_error_set(&err, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                         "qemu reported vcpu %u as online after unplug", job->online - 1);
            plug_finish(job, err);
            return;
        }
    }
    job->online--;
    unplug_next(job);
}

static void
unplug_waited(const GError *error, gpointer data)
{
    PlugJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);
    g_autoptr(GError) err = NULL;

    if (error) {
        plug_finish(job, error);
        return;
    }
    if (!obj || !qemu_domain_of(obj)->mon) {
        sv_error_set(&err, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        plug_finish(job, err);
        return;
    }
    qemu_monitor_command(qemu_domain_of(obj)->mon, "query-hotpluggable-cpus", NULL,
                         unplug_checked, job);
}

static void
unplug_next(PlugJob *job)
{
    SvDomainObj *obj = qemu_domain_find(job->run);
    g_autofree char *id = NULL;
    g_autoptr(GError) err = NULL;
    GError *timeout = NULL;

    if (job->online <= job->n) {
        plug_finish(job, NULL);
        return;
    }
    if (!obj) {
        sv_error_set(&err, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        plug_finish(job, err);
        return;
    }
    id = g_strdup_printf("vcpu%u", job->online - 1);
    sv_error_set(&timeout, SV_FROM_QEMU, SV_ERR_OPERATION_TIMEOUT,
                 "vcpu unplug request timed out. Unplug result must be manually inspected in "
                 "the domain");
    if (!qemu_hotplug_unplug_or_fail(obj, id, g_steal_pointer(&timeout), unplug_waited, job,
                                     &err))
        plug_finish(job, err);
}

void
qemu_vcpuhot_unplug(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                    gpointer data)
{
    unplug_next(job_new(obj, online, n, done, data));
}

gboolean
qemu_vcpuhot_deleted(SvDomainObj *obj, const char *alias)
{
    g_autofree char *last = NULL;

    if (!obj->def->vcpus_current || !g_str_has_prefix(alias, "vcpu"))
        return FALSE;
    last = g_strdup_printf("vcpu%u", obj->def->vcpus_current - 1);
    if (!g_str_equal(alias, last) || obj->def->vcpus_current <= obj->def->vcpus_fixed)
        return FALSE;
    obj->def->vcpus_current--;
    return TRUE;
}
