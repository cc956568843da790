/* qemu_program.c: libvirt's QEMU-specific program (libvirt-qemu, 0x20008087; sv_qemu.x),
 * issue 18 item 4.
 *
 * MONITOR_COMMAND(_WITH_FILES): a client's QMP command goes to the guest's monitor as it
 * came (parsed, with our "id" added), or an HMP command line wrapped in
 * human-monitor-command; the call is deferred and answered from QEMU's reply: the whole
 * reply, compact, for QMP; the text HMP printed. At most one descriptor goes along. The
 * first such command of a run taints the guest, as libvirt's: a line in its log.
 * AGENT_COMMAND: the client's JSON to the guest agent (qemu_agent.c), answered with the
 * agent's whole reply, or libvirt's errors when the agent is not there. ATTACH: libvirt 9.0 has no driver that
 * attaches; its public API answers NO_SUPPORT.
 * CONNECT_DOMAIN_MONITOR_EVENT_(DE)REGISTER: a client's registrations, each with an optional
 * domain and event name (exact, case-insensitive, or a regular expression), kept with the
 * connection; every QMP event goes to those it matches. */
#include "qemu_program.h"

#include <string.h>
#include <unistd.h>

#include "domain/domain_wire.h"
#include "qemu_agent.h"
#include "programs/qemu.h"
#include "protocol/qemu_dispatch.h"
#include "util/error.h"
#include "util/fd.h"

/* ---------------------------------------------------------------- monitor commands */

static void
reply_text(SvCall *call, char *text)
{
    /* Both procedures' return value is the one string (sv_qemu.x). */
    qemu_domain_monitor_command_ret r = {text};

    G_STATIC_ASSERT(sizeof(r) == sizeof(qemu_domain_monitor_command_with_files_ret));
    sv_call_reply(call, &r);
}

/* QEMU's answer to human-monitor-command: the text it printed, or libvirt's errors. */
static void
hmp_done(SvCall *call, JsonObject *reply)
{
    JsonNode *ret = json_object_get_member(reply, "return");
    JsonNode *en = json_object_get_member(reply, "error");

    if (en) {
        JsonObject *e = JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
        const char *desc = qemu_json_string(e, "desc");
        sv_call_fail(call, g_error_new(sv_error_quark(SV_FROM_QEMU), SV_ERR_INTERNAL_ERROR,
                                       "unable to execute QEMU command '%s': %s",
                                       "human-monitor-command", desc ? desc : "?"));
        return;
    }
    if (!ret || !JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING) {
        sv_call_fail(call, g_error_new_literal(sv_error_quark(SV_FROM_QEMU),
                                               SV_ERR_INTERNAL_ERROR,
                                               "human monitor command was missing return data"));
        return;
    }
    reply_text(call, (char *)json_node_get_string(ret));
}

/* The whole reply, compact, as libvirt gives it. (transfer full) */
static char *
reply_text_of(JsonObject *reply)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), reply);

    json_generator_set_root(gen, node);
    return json_generator_to_data(gen, NULL);
}

typedef struct {
    SvCall *call;
    gboolean hmp;
} CommandWait;

static void
command_done(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer data)
{
    g_autofree CommandWait *w = data;
    g_autofree char *text = NULL;

    (void)mon;
    if (error) {
        sv_call_fail(w->call, g_error_copy(error));
        return;
    }
    if (w->hmp) {
        hmp_done(w->call, reply);
        return;
    }
    text = reply_text_of(reply);
    reply_text(w->call, text);
}

/* libvirt's JSON writer (yajl) nests at most 127 levels: deeper, the command never goes. */
#define JSON_MAX_DEPTH 128

static guint
json_depth(JsonNode *n)
{
    guint deepest = 0;

    if (JSON_NODE_HOLDS_OBJECT(n)) {
        g_autoptr(GList) members = json_object_get_values(json_node_get_object(n));
        for (GList *l = members; l && deepest < JSON_MAX_DEPTH; l = l->next) {
            guint d = json_depth(l->data); /* once: MAX() evaluates twice */
            deepest = MAX(deepest, d);
        }
        return deepest + 1;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a) && deepest < JSON_MAX_DEPTH; i++) {
            guint d = json_depth(json_array_get_element(a, i));
            deepest = MAX(deepest, d);
        }
        return deepest + 1;
    }
    return 0;
}

/* What goes to QEMU: the client's JSON, or its HMP line in human-monitor-command. */
static JsonNode *
command_node(const char *cmd, gboolean hmp, GError **error)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) local = NULL;
    JsonObject *obj;
    JsonNode *node;

    if (hmp) {
        JsonObject *args = json_object_new();
        obj = json_object_new();
        json_object_set_string_member(obj, "execute", "human-monitor-command");
        json_object_set_string_member(args, "command-line", cmd);
        json_object_set_object_member(obj, "arguments", args);
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, obj);
        return node;
    }
    parser = json_parser_new();
    /* libvirt's JSON parser words its errors its own way (yajl's): the message differs. */
    if (!json_parser_load_from_data(parser, cmd, -1, &local) || !json_parser_get_root(parser)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "cannot parse json %s: %s", cmd,
                     local ? local->message : "no value");
        return NULL;
    }
    if (json_depth(json_parser_get_root(parser)) >= JSON_MAX_DEPTH) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "failed to convert virJSONValue to yajl data");
        return NULL;
    }
    obj = JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))
              ? json_node_get_object(json_parser_get_root(parser)) : NULL;
    if (obj && json_object_has_member(obj, "execute") && json_object_has_member(obj, "id")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Unable to append command 'id' string");
        return NULL;
    }
    return json_node_copy(json_parser_get_root(parser));
}

/* libvirt logs a guest's taint once per run, into its log (and lists it in its messages). */
static void
taint(SvDomainObj *obj, SvDomainTaint t)
{
    if (sv_domain_run_taint(obj, t))
        sv_guest_log_printf(qemu_domain_of(obj)->log_fd, "Domain id=%d is tainted: %s",
                            obj->id, sv_domain_taint_to_string(t));
}

/* Both MONITOR_COMMAND procedures (libvirt's qemuDomainQemuMonitorCommandWithFiles). */
static gboolean
monitor_command(SvCall *call, const remote_nonnull_domain *dom, const char *cmd, guint flags,
                GError **error)
{
    SvDomainObj *obj;
    QemuDomain *qd;
    g_auto(SvFd) fd = -1;
    g_auto(SvFd) extra = -1;
    g_autoptr(JsonNode) node = NULL;
    CommandWait *w;

    if (!sv_check_flags(flags, QEMU_MONITOR_COMMAND_HMP, SV_FROM_QEMU,
                        "qemuDomainQemuMonitorCommandWithFiles", error) ||
        !(obj = sv_domain_driver_lookup(sv_domain_driver_of(call), dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    fd = sv_call_take_fd(call);
    extra = sv_call_take_fd(call);
    if (extra >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "at most 1 fd can be passed to qemu along with a command");
        return FALSE;
    }
    qd = qemu_domain_of(obj);
    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon) || sv_domain_run_in_start(obj)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    taint(obj, SV_DOMAIN_TAINT_CUSTOM_MONITOR);
    if (!(node = command_node(cmd, flags & QEMU_MONITOR_COMMAND_HMP, error)))
        return FALSE;
    w = g_new0(CommandWait, 1);
    w->call = sv_call_defer(call);
    w->hmp = flags & QEMU_MONITOR_COMMAND_HMP;
    qemu_monitor_passthrough(qd->mon, node, g_steal_fd(&fd), command_done, w);
    return TRUE;
}

static gboolean
domain_monitor_command(SvCall *call, qemu_domain_monitor_command_args *a,
                       qemu_domain_monitor_command_ret *ret, GError **error)
{
    (void)ret;
    return monitor_command(call, &a->dom, a->cmd, a->flags, error);
}

static gboolean
domain_monitor_command_with_files(SvCall *call, qemu_domain_monitor_command_with_files_args *a,
                                  qemu_domain_monitor_command_with_files_ret *ret, GError **error)
{
    (void)ret;
    return monitor_command(call, &a->dom, a->cmd, a->flags, error);
}

/* ---------------------------------------------------------------- agent, attach */

/* The agent's reply to a client's command: the whole reply, compact, or libvirt's error
 * for an "error" reply (the command's name and the agent's description). */
typedef struct {
    SvCall *call;
    char *name; /* the command's "execute" */
} AgentWait;

static void
agent_command_done(JsonObject *reply, const GError *error, gpointer data)
{
    AgentWait *w = data;
    GError *e = error ? g_error_copy(error) : qemu_agent_reply_error(reply, w->name);

    if (e) {
        sv_call_fail(w->call, e);
    } else {
        g_autofree char *text = reply_text_of(reply);
        qemu_domain_agent_command_ret r = {&text};

        sv_call_reply(w->call, &r);
    }
    g_free(w->name);
    g_free(w);
}

/* libvirt's qemuDomainQemuAgentCommand: the guest must run with its agent connected; the
 * client's JSON goes to the agent after the handshake, with the client's timeout. */
static gboolean
domain_agent_command(SvCall *call, qemu_domain_agent_command_args *a,
                     qemu_domain_agent_command_ret *ret, GError **error)
{
    SvDomainObj *obj;
    QemuAgent *agent;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root;
    AgentWait *w;

    (void)ret;
    if (!sv_check_flags(a->flags, 0, SV_FROM_QEMU, "qemuDomainQemuAgentCommand", error) ||
        !(obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (!(agent = qemu_agent_of_running(obj, error)))
        return FALSE;
    if (a->timeout < QEMU_AGENT_TIMEOUT_BLOCK) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "guest agent timeout '%d' is less than the minimum '%d'", a->timeout,
                     QEMU_AGENT_TIMEOUT_BLOCK);
        return FALSE;
    }
    /* libvirt's JSON parser words its errors its own way (yajl's): the message differs. */
    if (!json_parser_load_from_data(parser, a->cmd, -1, &local) ||
        !(root = json_parser_get_root(parser))) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "cannot parse json %s: %s",
                     a->cmd, local ? local->message : "no value");
        return FALSE;
    }
    w = g_new0(AgentWait, 1);
    w->name = g_strdup(JSON_NODE_HOLDS_OBJECT(root)
                           ? qemu_json_string(json_node_get_object(root), "execute")
                           : NULL);
    if (!w->name)
        w->name = g_strdup("<unknown>");
    w->call = sv_call_defer(call);
    qemu_agent_command(agent, root, a->timeout, agent_command_done, w);
    return TRUE;
}

static gboolean
domain_attach(SvCall *call, qemu_domain_attach_args *a, qemu_domain_attach_ret *ret,
              GError **error)
{
    (void)call;
    (void)a;
    (void)ret;
    /* libvirt 9.0's QEMU driver has no attach: its public API answers for every pid and
     * flag. */
    sv_error_set(error, SV_FROM_NONE, SV_ERR_NO_SUPPORT, "virDomainQemuAttach");
    return FALSE;
}

/* ---------------------------------------------------------------- monitor events */

typedef struct {
    int callback_id;
    gboolean has_dom;
    guint8 uuid[16];
    char *event;   /* NULL: every event */
    GRegex *regex; /* the event as a regular expression (flag REGEX) */
    gboolean nocase;
} MonitorReg;

typedef struct {
    GPtrArray *regs; /* MonitorReg */
    int next_callback_id;
} QemuClient;

static void
monitor_reg_free(gpointer p)
{
    MonitorReg *r = p;

    g_free(r->event);
    if (r->regex)
        g_regex_unref(r->regex);
    g_free(r);
}

static void
qemu_client_free(gpointer p)
{
    QemuClient *qc = p;

    g_ptr_array_unref(qc->regs);
    g_free(qc);
}

static const SvAttachKey qemu_client_key = {"libvirt-qemu program", SV_ATTACH_LEVEL_PROGRAM};

static QemuClient *
qemu_client(SvClient *c)
{
    QemuClient *qc = sv_client_attachment(c, &qemu_client_key);

    if (!qc) {
        qc = g_new0(QemuClient, 1);
        qc->regs = g_ptr_array_new_with_free_func(monitor_reg_free);
        qc->next_callback_id = 1;
        sv_client_attach(c, &qemu_client_key, qc, qemu_client_free);
    }
    return qc;
}

/* libvirt's virDomainQemuMonitorEventStateRegisterID: its flags and regex errors. */
static gboolean
connect_domain_monitor_event_register(SvCall *call,
                                      qemu_connect_domain_monitor_event_register_args *a,
                                      qemu_connect_domain_monitor_event_register_ret *ret,
                                      GError **error)
{
    g_autoptr(GError) local = NULL;
    MonitorReg *r;
    QemuClient *qc;
    const char *event = a->event ? *a->event : NULL;

    if (!sv_check_flags(a->flags, QEMU_MONITOR_EVENT_REGISTER_REGEX |
                                      QEMU_MONITOR_EVENT_REGISTER_NOCASE,
                        SV_FROM_NONE, "virDomainQemuMonitorEventStateRegisterID", error))
        return FALSE;
    r = g_new0(MonitorReg, 1);
    if (event && (a->flags & QEMU_MONITOR_EVENT_REGISTER_REGEX)) {
        GRegexCompileFlags cf = G_REGEX_OPTIMIZE;
        if (a->flags & QEMU_MONITOR_EVENT_REGISTER_NOCASE)
            cf |= G_REGEX_CASELESS;
        r->regex = g_regex_new(event, cf, 0, &local);
        if (!r->regex) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                         "failed to compile regex '%s': %s", event, local->message);
            monitor_reg_free(r);
            return FALSE;
        }
    }
    r->event = g_strdup(event);
    r->nocase = a->flags & QEMU_MONITOR_EVENT_REGISTER_NOCASE;
    if (a->dom) {
        r->has_dom = TRUE;
        memcpy(r->uuid, a->dom->uuid, 16);
    }
    qc = qemu_client(sv_call_get_client(call));
    r->callback_id = qc->next_callback_id++;
    g_ptr_array_add(qc->regs, r);
    ret->callbackID = r->callback_id;
    return TRUE;
}

static gboolean
connect_domain_monitor_event_deregister(SvCall *call,
                                        qemu_connect_domain_monitor_event_deregister_args *a,
                                        GError **error)
{
    QemuClient *qc = qemu_client(sv_call_get_client(call));

    for (guint i = 0; i < qc->regs->len; i++) {
        const MonitorReg *r = qc->regs->pdata[i];
        if (r->callback_id == a->callbackID) {
            g_ptr_array_remove_index(qc->regs, i);
            return TRUE;
        }
    }
    sv_qemu_callback_not_registered(a->callbackID, error);
    return FALSE;
}

static gboolean
reg_matches(const MonitorReg *r, const guint8 uuid[16], const char *name)
{
    if (r->has_dom && memcmp(r->uuid, uuid, 16) != 0)
        return FALSE;
    if (!r->event)
        return TRUE;
    if (r->regex)
        return g_regex_match(r->regex, name, 0, NULL);
    return r->nocase ? g_ascii_strcasecmp(r->event, name) == 0 : g_str_equal(r->event, name);
}

typedef struct {
    qemu_domain_monitor_event_msg msg;
    const guint8 *uuid;
} EventEmit;

static void
emit_to_client(SvClient *c, gpointer data)
{
    EventEmit *e = data;
    QemuClient *qc = sv_client_is_open(c) ? sv_client_attachment(c, &qemu_client_key) : NULL;

    for (guint i = 0; qc && !sv_client_is_closed(c) && i < qc->regs->len; i++) {
        const MonitorReg *r = qc->regs->pdata[i];
        if (!reg_matches(r, e->uuid, e->msg.event))
            continue;
        e->msg.callbackID = r->callback_id;
        sv_client_send_event(c, QEMU_PROGRAM, QEMU_PROTOCOL_VERSION,
                             QEMU_PROC_DOMAIN_MONITOR_EVENT,
                             (xdrproc_t)xdr_qemu_domain_monitor_event_msg, &e->msg);
    }
}

void
qemu_program_emit_event(SvDomainObj *obj, QemuMonitor *mon, const char *name, JsonObject *data)
{
    g_autofree char *details = data ? reply_text_of(data) : NULL;
    EventEmit e = {{0}, obj->def->uuid};
    gint64 seconds;
    guint micros;

    qemu_monitor_event_time(mon, &seconds, &micros);
    sv_domain_obj_to_remote(obj, &e.msg.dom);
    e.msg.event = (char *)name;
    e.msg.seconds = seconds;
    e.msg.micros = micros;
    e.msg.details = details ? &details : NULL;
    sv_server_foreach_client(sv_domain_driver_of_obj(obj)->server, emit_to_client, &e);
    g_free(e.msg.dom.name);
}

/* ---------------------------------------------------------------- the program */

static const SvQemuHandlers handlers = {
    .domain_monitor_command = domain_monitor_command,
    .domain_attach = domain_attach,
    .domain_agent_command = domain_agent_command,
    .connect_domain_monitor_event_register = connect_domain_monitor_event_register,
    .connect_domain_monitor_event_deregister = connect_domain_monitor_event_deregister,
    .domain_monitor_command_with_files = domain_monitor_command_with_files,
};

void
qemu_program_serve(SvServer *srv)
{
    sv_server_add_program_hooks(srv, &sv_qemu_handlers_info, &handlers, &sv_qemu_hooks, NULL,
                                NULL);
}
