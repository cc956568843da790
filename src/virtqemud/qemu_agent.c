/* qemu_agent.c: the QEMU guest agent's channel (issue 18 item 3).
 *
 * QEMU listens on the channel's unix socket (server=on,wait=off); the daemon connects once
 * the guest opens the port (VSERPORT_CHANGE open=true, as libvirt connects when the channel
 * is "connected") and closes when the guest closes it, sending AGENT_LIFECYCLE each time.
 * Commands go one at a time, each after a guest-sync handshake with a fresh id (replies
 * left over from an earlier, timed-out command are skipped until the id comes back);
 * newline-delimited JSON both ways, a leading 0xff byte ignored. Nothing blocks: the socket
 * is non-blocking, its reads and writes and the timeouts are sources on the loop. */
#include "qemu_agent.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domain/domain_ifaddr.h"
#include "domain/domain_wire.h"
#include "programs/remote.h"
#include "protocol/remote_dispatch.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "util/error.h"

#define AGENT_CHANNEL "org.qemu.guest_agent.0"
#define AGENT_LINE_MAX (16 * 1024 * 1024)

/* virConnectDomainEventAgentLifecycleState and ...Reason (libvirt-domain.h). */
enum { AGENT_STATE_CONNECTED = 1, AGENT_STATE_DISCONNECTED = 2 };
enum { AGENT_REASON_CHANNEL = 2 };

typedef struct {
    char *line;  /* the command, with its newline */
    int seconds; /* libvirt's timeout value */
    const char *await; /* a QEMU event that ends it as well as a reply (guest-shutdown) */
    QemuAgentReplyFunc cb;
    gpointer data;
} AgentRequest;

struct QemuAgent {
    int fd;
    guint in_watch, out_watch, timer;
    GString *in, *out;
    GQueue queue;          /* AgentRequest, the head under way */
    gboolean syncing;      /* the head waits for its guest-sync reply */
    gint64 sync_id, last_id;
};

static void
request_end(AgentRequest *r, JsonObject *reply, const GError *error)
{
    r->cb(reply, error, r->data);
    g_free(r->line);
    g_free(r);
}

static GError *
unresponsive(const char *message)
{
    GError *e = NULL;

    sv_error_set(&e, SV_FROM_QEMU, SV_ERR_AGENT_UNRESPONSIVE, "%s", message);
    return e;
}

static void flush_out(QemuAgent *agent);
static void start_next(QemuAgent *agent);

static gboolean
on_writable(gint fd, GIOCondition cond, gpointer data)
{
    QemuAgent *agent = data;

    (void)fd;
    (void)cond;
    agent->out_watch = 0;
    flush_out(agent);
    return G_SOURCE_REMOVE;
}

static void
flush_out(QemuAgent *agent)
{
    while (agent->out->len) {
        ssize_t n = send(agent->fd, agent->out->str, agent->out->len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!agent->out_watch)
                agent->out_watch = g_unix_fd_add(agent->fd, G_IO_OUT, on_writable, agent);
            return;
        }
        if (n < 0) {
            g_string_truncate(agent->out, 0); /* the reader sees the hang-up */
            return;
        }
        g_string_erase(agent->out, 0, n);
    }
}

static gboolean
on_timeout(gpointer data)
{
    QemuAgent *agent = data;
    g_autoptr(GError) e = unresponsive("Guest agent not available for now");

    agent->timer = 0;
    request_end(g_queue_pop_head(&agent->queue), NULL, e);
    start_next(agent);
    return G_SOURCE_REMOVE;
}

static void
arm_timer(QemuAgent *agent, int seconds)
{
    g_clear_handle_id(&agent->timer, g_source_remove);
    if (seconds == QEMU_AGENT_TIMEOUT_DEFAULT)
        seconds = QEMU_AGENT_WAIT_SECONDS;
    if (seconds >= 0)
        agent->timer = g_timeout_add_seconds(seconds, on_timeout, agent);
}

static void
start_next(QemuAgent *agent)
{
    if (agent->fd < 0 || g_queue_is_empty(&agent->queue))
        return;
    /* A fresh id, as libvirt's (milliseconds of the clock), never one used before. */
    agent->sync_id = MAX(g_get_real_time() / 1000, agent->last_id + 1);
    agent->last_id = agent->sync_id;
    agent->syncing = TRUE;
    g_string_append_printf(agent->out,
                           "{\"execute\":\"guest-sync\", \"arguments\":{\"id\":%" G_GINT64_FORMAT
                           "}}\n", agent->sync_id);
    arm_timer(agent, QEMU_AGENT_TIMEOUT_DEFAULT);
    flush_out(agent);
}

/* One line from the agent. */
static void
on_line(QemuAgent *agent, const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *obj;
    AgentRequest *r = g_queue_peek_head(&agent->queue);

    while (*line == '\xff')
        line++;
    if (!r || !*line || !json_parser_load_from_data(parser, line, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return; /* nothing asked, or not a reply: skipped */
    obj = json_node_get_object(json_parser_get_root(parser));
    if (agent->syncing) {
        JsonNode *ret = json_object_get_member(obj, "return");

        if (!ret || !JSON_NODE_HOLDS_VALUE(ret) ||
            json_node_get_value_type(ret) != G_TYPE_INT64 ||
            json_node_get_int(ret) != agent->sync_id)
            return; /* a reply to an earlier command or handshake */
        agent->syncing = FALSE;
        g_string_append(agent->out, r->line);
        arm_timer(agent, r->seconds);
        flush_out(agent);
        return;
    }
    if (!json_object_has_member(obj, "return") && !json_object_has_member(obj, "error"))
        return;
    g_clear_handle_id(&agent->timer, g_source_remove);
    request_end(g_queue_pop_head(&agent->queue), obj, NULL);
    start_next(agent);
}

/* A closed agent's commands end on the loop: those awaiting an event succeed (the guest
 * went away as asked, as libvirt counts it), the others with libvirt's error. */
static gboolean
end_orphans(gpointer data)
{
    GQueue *orphans = data;
    AgentRequest *r;

    while ((r = g_queue_pop_head(orphans))) {
        g_autoptr(GError) e = NULL;

        if (!r->await)
            e = unresponsive("Guest agent disappeared while executing command");
        request_end(r, NULL, e);
    }
    g_queue_free(orphans);
    return G_SOURCE_REMOVE;
}

/* The socket is gone (QEMU quit, or the agent closed): every command under way ends. */
static void
agent_hangup(QemuAgent *agent)
{
    GQueue *orphans;

    g_clear_handle_id(&agent->in_watch, g_source_remove);
    g_clear_handle_id(&agent->out_watch, g_source_remove);
    g_clear_handle_id(&agent->timer, g_source_remove);
    if (agent->fd >= 0)
        close(agent->fd);
    agent->fd = -1;
    if (g_queue_is_empty(&agent->queue))
        return;
    orphans = g_queue_new();
    while (!g_queue_is_empty(&agent->queue))
        g_queue_push_tail(orphans, g_queue_pop_head(&agent->queue));
    g_idle_add(end_orphans, orphans);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
    QemuAgent *agent = data;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    char *nl;

    (void)cond;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0 || agent->in->len + n > AGENT_LINE_MAX) {
        agent->in_watch = 0;
        agent_hangup(agent);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(agent->in, buf, n);
    while (agent->fd >= 0 && (nl = memchr(agent->in->str, '\n', agent->in->len))) {
        g_autofree char *line = g_strndup(agent->in->str, nl - agent->in->str);

        g_string_erase(agent->in, 0, nl - agent->in->str + 1);
        on_line(agent, line);
    }
    return G_SOURCE_CONTINUE;
}

gboolean
qemu_agent_connected(QemuAgent *agent)
{
    return agent->fd >= 0;
}

QemuAgent *
qemu_agent_open(const char *path, GError **error)
{
    QemuAgent *agent;
    int fd = qemu_monitor_connect(path, error);

    if (fd < 0)
        return NULL;
    agent = g_new0(QemuAgent, 1);
    agent->fd = fd;
    agent->in = g_string_new(NULL);
    agent->out = g_string_new(NULL);
    g_queue_init(&agent->queue);
    agent->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, agent);
    return agent;
}

void
qemu_agent_free(QemuAgent *agent)
{
    if (!agent)
        return;
    agent_hangup(agent);
    g_string_free(agent->in, TRUE);
    g_string_free(agent->out, TRUE);
    g_free(agent);
}

static void
enqueue(QemuAgent *agent, JsonNode *cmd, int seconds, const char *await,
        QemuAgentReplyFunc cb, gpointer data)
{
    AgentRequest *r = g_new0(AgentRequest, 1);
    g_autofree char *text = json_to_string(cmd, FALSE);

    r->line = g_strconcat(text, "\n", NULL);
    r->seconds = seconds;
    r->await = await;
    r->cb = cb;
    r->data = data;
    g_queue_push_tail(&agent->queue, r);
    if (g_queue_get_length(&agent->queue) == 1)
        start_next(agent);
}

void
qemu_agent_command(QemuAgent *agent, JsonNode *cmd, int seconds, QemuAgentReplyFunc cb,
                   gpointer data)
{
    enqueue(agent, cmd, seconds, NULL, cb, data);
}

void
qemu_agent_shutdown(QemuAgent *agent, gboolean reboot, QemuAgentReplyFunc cb, gpointer data)
{
    g_autoptr(JsonNode) cmd = json_from_string(
        reboot ? "{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"reboot\"}}"
               : "{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"powerdown\"}}",
        NULL);

    enqueue(agent, cmd, QEMU_AGENT_SHUTDOWN_SECONDS, reboot ? "RESET" : "SHUTDOWN", cb, data);
}

void
qemu_agent_notify_event(QemuAgent *agent, const char *event)
{
    AgentRequest *r = agent ? g_queue_peek_head(&agent->queue) : NULL;

    if (!r || !r->await || !g_str_equal(r->await, event))
        return;
    g_clear_handle_id(&agent->timer, g_source_remove);
    request_end(g_queue_pop_head(&agent->queue), NULL, NULL);
    start_next(agent);
}

/* ---------------------------------------------------------------- the guest's agent */

static SvDomainChrDef *
agent_channel(SvDomainDef *def)
{
    for (guint i = 0; def->channels && i < def->channels->len; i++) {
        SvDomainChrDef *c = def->channels->pdata[i];

        if (c->target_name && g_str_equal(c->target_name, AGENT_CHANNEL))
            return c;
    }
    return NULL;
}

QemuAgent *
qemu_agent_of(SvDomainObj *obj, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (qd && qd->agent && qemu_agent_connected(qd->agent))
        return qd->agent;
    if (agent_channel(obj->def))
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_AGENT_UNRESPONSIVE,
                     "QEMU guest agent is not connected");
    else
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "QEMU guest agent is not configured");
    return NULL;
}

typedef struct {
    remote_nonnull_domain dom;
    int state;
} LifecycleEvent;

static void
send_agent_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    LifecycleEvent *e = data;
    remote_domain_event_callback_agent_lifecycle_msg m = {callback_id, e->dom, e->state,
                                                          AGENT_REASON_CHANNEL};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE,
                         (xdrproc_t)xdr_remote_domain_event_callback_agent_lifecycle_msg, &m);
}

/* Connect to the agent of `chr` unless connected already; a failure is only logged (the
 * agent's commands then answer "not connected"). */
static void
agent_connect(SvDomainObj *obj, SvDomainChrDef *chr)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autoptr(GError) err = NULL;

    if (qd->agent || chr->source.type != SV_DOMAIN_CHR_TYPE_UNIX || !chr->source.path)
        return;
    if (!(qd->agent = qemu_agent_open(chr->source.path, &err)))
        g_warning("domain %s: cannot connect the guest agent: %s", obj->def->name,
                  err->message);
}

void
qemu_agent_reconnect(SvDomainObj *obj)
{
    SvDomainChrDef *chr = agent_channel(obj->def);

    if (chr && g_strcmp0(chr->target_state, "connected") == 0)
        agent_connect(obj, chr);
}

void
qemu_agent_port_changed(SvDomainObj *obj, JsonObject *data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    SvDomainChrDef *chr = agent_channel(obj->def);
    const char *id = data ? qemu_json_string(data, "id") : NULL;
    gboolean open = data && qemu_json_bool(data, "open", FALSE);
    LifecycleEvent e = {{0}, open ? AGENT_STATE_CONNECTED : AGENT_STATE_DISCONNECTED};

    if (!chr || !id || g_strcmp0(chr->info.alias, id) != 0)
        return;
    if (open)
        agent_connect(obj, chr);
    else
        g_clear_pointer(&qd->agent, qemu_agent_free);
    sv_domain_obj_to_remote(obj, &e.dom);
    sv_remote_emit_callback_event(sv_domain_driver_of_obj(obj)->server,
                                  SV_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, obj->def->uuid,
                                  send_agent_lifecycle, &e);
    g_free(e.dom.name);
}

GError *
qemu_agent_reply_error(JsonObject *reply, const char *cmd)
{
    JsonNode *en = reply ? json_object_get_member(reply, "error") : NULL;
    JsonObject *eo = en && JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
    const char *desc = qemu_json_string(eo, "desc");
    const char *klass = qemu_json_string(eo, "class");
    GError *e = NULL;

    if (!en)
        return NULL;
    sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                 "unable to execute QEMU agent command '%s': %s", cmd,
                 desc ? desc : klass ? klass : "unknown QEMU command error");
    return e;
}

/* ---------------------------------------------------------------- DOMAIN_GET_HOSTNAME */

#define HOSTNAME_LEASE 1 /* VIR_DOMAIN_GET_HOSTNAME_LEASE */
#define HOSTNAME_AGENT 2 /* VIR_DOMAIN_GET_HOSTNAME_AGENT */

static void
hostname_done(JsonObject *reply, const GError *error, gpointer data)
{
    SvCall *call = data;
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, "guest-get-host-name");
    JsonNode *rn = !e ? json_object_get_member(reply, "return") : NULL;
    const char *name = NULL;

    if (!e && (!rn || !JSON_NODE_HOLDS_OBJECT(rn)))
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "malformed return value");
    else if (!e && !(name = qemu_json_string(json_node_get_object(rn), "host-name")))
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "'host-name' missing in guest-get-host-name reply");
    if (e) {
        sv_call_fail(call, e);
    } else {
        remote_domain_get_hostname_ret r = {(char *)name};

        sv_call_reply(call, &r);
    }
}

/* libvirt's qemuDomainGetHostname: the agent's guest-get-host-name (no flag or AGENT);
 * LEASE reads the DHCP leases of the guest's interfaces on libvirt networks
 * (domain/domain_ifaddr.h). */
static gboolean
domain_get_hostname(SvCall *call, remote_domain_get_hostname_args *a,
                    remote_domain_get_hostname_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    QemuAgent *agent;
    g_autoptr(JsonNode) cmd = json_from_string("{\"execute\":\"guest-get-host-name\"}", NULL);

    (void)ret;
    if (!sv_domain_driver_check_flags(drv, a->flags, HOSTNAME_LEASE | HOSTNAME_AGENT,
                                      "DomainGetHostname", error))
        return FALSE;
    if ((a->flags & (HOSTNAME_LEASE | HOSTNAME_AGENT)) == (HOSTNAME_LEASE | HOSTNAME_AGENT)) {
        sv_error_set_literal(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                             "Flags 'VIR_DOMAIN_GET_HOSTNAME_LEASE' and "
                             "'VIR_DOMAIN_GET_HOSTNAME_AGENT' are mutually exclusive");
        return FALSE;
    }
    if (!(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (a->flags & HOSTNAME_LEASE) {
        sv_domain_hostname_lease(call, obj->def, qemu_ctx_of(obj)->family_run_dir, SV_FROM_QEMU);
        return TRUE;
    }
    if (!(agent = qemu_agent_of_running(obj, error)))
        return FALSE;
    qemu_agent_command(agent, cmd, QEMU_AGENT_TIMEOUT_DEFAULT, hostname_done,
                       sv_call_defer(call));
    return TRUE;
}

void
qemu_agent_install(SvRemoteHandlers *h)
{
    h->domain_get_hostname = domain_get_hostname;
}

QemuAgent *
qemu_agent_of_running(SvDomainObj *obj, GError **error)
{
    if (obj->state != SV_DOMAIN_RUNNING) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return qemu_agent_of(obj, error);
}
