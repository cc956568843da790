/* qemu_resize.c: the QEMU side of the resize procedures (src/common/domain/domain_resize.c):
 * a running guest's balloon target, set with QMP `balloon`. */
#include "qemu_resize.h"

#include "domain/domain_cgroup.h"
#include "domain/domain_resize.h"
#include "domain/domain_memtune.h"
#include "qemu_cgroup.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "programs/remote.h"
#include "qemu_vcpuhot.h"
#include "util/error.h"

typedef struct {
    SvStoreDoneFunc done;
    gpointer data;
} BalloonJob;

static void
balloon_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    BalloonJob *job = data;

    (void)mon;
    (void)ret;
    job->done(error, job->data);
    g_free(job);
}

static void
balloon(SvDomainObj *obj, guint64 kib, SvStoreDoneFunc done, gpointer data)
{
    QemuDomain *priv = qemu_domain_of(obj);
    BalloonJob *job;
    JsonObject *args;

    if (!priv || !priv->mon) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        done(error, data);
        return;
    }
    job = g_new0(BalloonJob, 1);
    job->done = done;
    job->data = data;
    args = json_object_new();
    json_object_set_int_member(args, "value", (gint64)(kib * 1024));
    qemu_monitor_command(priv->mon, "balloon", args, balloon_replied, job);
}

/* The guest's cgroup with its memory controller, or libvirt's error. */
static SvCgroup *
memory_cgroup(SvDomainObj *obj, GError **error)
{
    SvCgroup *cg = qemu_cgroup_open(qemu_ctx_of(obj), obj->def->name);

    if (!cg || !sv_cgroup_get_dir(cg, "memory")) {
        if (cg)
            sv_cgroup_free(cg);
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cgroup memory controller is not mounted");
        return NULL;
    }
    return cg;
}

static gboolean
memtune_check(SvDomainObj *obj, GError **error)
{
    g_autoptr(SvCgroup) cg = memory_cgroup(obj, error);

    return cg != NULL;
}

static gboolean
memtune_live(SvDomainObj *obj, int which, guint64 kib, GError **error)
{
    g_autoptr(SvCgroup) cg = memory_cgroup(obj, error);

    return cg && sv_domain_cgroup_set_memtune(cg, obj->def, which, kib, error);
}

static const SvResizeFacts qemu_resize_facts = {
    .balloon = balloon,
    .memtune_check = memtune_check,
    .memtune_live = memtune_live,
    .vcpus_plug = qemu_vcpuhot_plug,
    .vcpus_unplug = qemu_vcpuhot_unplug,
};

void
qemu_resize_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    drv->resize = &qemu_resize_facts;
    /* issue 18, metadata and tuning (src/common/domain/domain_resize.c) */
    h->domain_set_memory = sv_domain_resize_set_memory;
    h->domain_set_memory_flags = sv_domain_resize_set_memory_flags;
    h->domain_set_max_memory = sv_domain_resize_set_max_memory;
    h->domain_set_vcpus = sv_domain_resize_set_vcpus;
    h->domain_set_vcpus_flags = sv_domain_resize_set_vcpus_flags;
    h->domain_set_memory_parameters = sv_domain_memtune_set;
    h->domain_get_memory_parameters = sv_domain_memtune_get;
}

/* ---------------------------------------------------------------- BALLOON_CHANGE */

static void
send_balloon_change(SvClient *c, int callback_id, gpointer data)
{
    remote_domain_event_balloon_change_msg *m = data;

    if (callback_id) {
        remote_domain_event_callback_balloon_change_msg cm = {callback_id, *m};
        sv_client_send_event(
            c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
            REMOTE_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE,
            (xdrproc_t)xdr_remote_domain_event_callback_balloon_change_msg, &cm);
    } else {
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_BALLOON_CHANGE,
                             (xdrproc_t)xdr_remote_domain_event_balloon_change_msg, m);
    }
}

void
qemu_resize_balloon_changed(SvDomainObj *obj, JsonObject *data)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    JsonNode *n = data ? json_object_get_member(data, "actual") : NULL;
    remote_domain_event_balloon_change_msg m = {{0}, 0};
    gint64 bytes;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || (bytes = json_node_get_int(n)) < 0) {
        g_warning("domain %s: BALLOON_CHANGE without its actual size", obj->def->name);
        return;
    }
    /* As libvirt: the guest's size in KiB, rounded up, becomes the live <currentMemory>
     * (and what the balloon statistics report), kept in the status file. */
    m.actual = ((guint64)bytes + 1023) / 1024;
    g_debug("domain %s: balloon %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
            obj->def->name, obj->def->current_memory_kib, (guint64)m.actual);
    obj->def->current_memory_kib = m.actual;
    sv_domain_driver_save_status(drv, obj);
    sv_domain_obj_to_remote(obj, &m.dom);
    sv_remote_emit_event(drv->server, SV_DOMAIN_EVENT_ID_BALLOON_CHANGE,
                         (const guint8 *)m.dom.uuid, send_balloon_change, &m);
    g_free(m.dom.name);
}
