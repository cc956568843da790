/* qemu_graphicsfd.c: DOMAIN_OPEN_GRAPHICS_FD (virt-viewer's and virt-manager's local
 * consoles), as libvirt 9.0's qemuDomainOpenGraphicsFD: a socketpair, one end given to QEMU
 * (getfd, then add_client with the display's protocol), the other sent back to the client
 * with the reply (REPLY_WITH_FDS). */
#include "qemu_graphicsfd.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "qemu_domain.h"
#include "qemu_guestops.h"
#include "qemu_monitor.h"
#include "util/error.h"
#include "util/fd.h"

#define GRAPHICS_FDNAME "graphicsfd" /* libvirt's name for the end QEMU gets */

typedef struct {
    SvCall *call;  /* deferred */
    gpointer run;  /* the run's weak handle */
    int fd;        /* the client's end, ours until the reply */
    char *protocol;
    gboolean skipauth;
} OpenJob;

static void
job_fail(OpenJob *job, GError *error)
{
    sv_call_fail(job->call, error);
    close(job->fd);
    g_free(job->protocol);
    g_free(job);
}

/* A QMP command {"execute": cmd, "arguments": {"fdname": libvirt's}}. (transfer full) */
static JsonObject *
fdname_step(const char *cmd)
{
    return qemu_json_command1(cmd, "fdname", GRAPHICS_FDNAME);
}

static QemuMonitor *
job_monitor(OpenJob *job)
{
    SvDomainObj *obj = qemu_domain_find(job->run);
    QemuDomain *qd = obj ? qemu_domain_of(obj) : NULL;

    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon))
        return NULL;
    return qd->mon;
}

static void
add_client_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    OpenJob *job = data;
    QemuMonitor *now = job_monitor(job);

    (void)ret;
    if (error) {
        /* As libvirt: QEMU does not keep the end it could not use. */
        if (now == mon) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "fdname", GRAPHICS_FDNAME);
            qemu_monitor_command(mon, "closefd", args, NULL, NULL);
        }
        job_fail(job, g_error_copy(error));
        return;
    }
    sv_call_reply_fd(job->call, NULL, job->fd);
    g_free(job->protocol);
    g_free(job);
}

static void
getfd_done(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer data)
{
    OpenJob *job = data;
    GError *e = qemu_monitor_reply_error("getfd", reply, error);
    JsonObject *args;

    if (!e && job_monitor(job) != mon)
        sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
    if (e) {
        job_fail(job, e);
        return;
    }
    args = json_object_new();
    json_object_set_string_member(args, "protocol", job->protocol);
    json_object_set_string_member(args, "fdname", GRAPHICS_FDNAME);
    json_object_set_boolean_member(args, "skipauth", job->skipauth);
    qemu_monitor_command(mon, "add_client", args, add_client_done, job);
}

/* libvirt's checks of the display `idx`: its protocol for add_client, or NULL with the
 * error. */
static const char *
display_protocol(const SvDomainDef *def, guint idx, GError **error)
{
    const SvDomainGraphicsDef *g;

    if (idx >= def->graphics->len) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "No graphics backend with index %d", (int)idx);
        return NULL;
    }
    g = def->graphics->pdata[idx];
    if (g->type == SV_DOMAIN_GRAPHICS_VNC)
        return "vnc";
    if (g->type == SV_DOMAIN_GRAPHICS_SPICE)
        return "spice";
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "Can only open VNC or SPICE graphics backends, not %s",
                 sv_domain_graphics_type_to_string(g->type));
    return NULL;
}

static gboolean
open_graphics_fd(SvCall *call, remote_domain_open_graphics_fd_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    JsonObject *step;
    g_autoptr(JsonNode) node = NULL;
    const char *protocol;
    QemuMonitor *mon;
    SvDomainObj *obj;
    OpenJob *job;
    int pair[2];

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_OPEN_GRAPHICS_SKIPAUTH,
                                      "DomainOpenGraphicsFD", error) ||
        !(mon = qemu_guestops_monitor(drv, &a->dom, error)))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!(protocol = display_protocol(obj->def, a->idx, error)))
        return FALSE;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Unable to create socket pair");
        return FALSE;
    }
    job = g_new0(OpenJob, 1);
    job->fd = pair[0];
    job->run = sv_domain_obj_run_key(obj);
    job->protocol = g_strdup(protocol);
    job->skipauth = (a->flags & SV_DOMAIN_OPEN_GRAPHICS_SKIPAUTH) != 0;
    job->call = sv_call_defer(call);
    step = fdname_step("getfd");
    node = json_node_init_object(json_node_alloc(), step);
    json_object_unref(step);
    /* pair[1] goes to QEMU with the command (transfer full). */
    qemu_monitor_passthrough(mon, node, pair[1], getfd_done, job);
    return TRUE;
}

void
qemu_graphicsfd_install(SvRemoteHandlers *h)
{
    h->domain_open_graphics_fd = open_graphics_fd;
}
