/* remote.c: the remote program's handshake calls, event registrations and event fan-out. */
#include "programs/remote.h"

#include <string.h>

#include "programs/auth.h"
#include "programs/family_relay.h"
#include "protocol/sv_net.h"
#include "util/error.h"
#include "util/host.h"

typedef struct {
    int callback_id; /* 0 for the legacy forms */
    int event_id;
    gboolean has_dom;
    guint8 uuid[16];
} Registration;

typedef struct {
    GArray *regs; /* Registration */
    int next_callback_id;
    gboolean close_callback;
    char *system_token; /* of the identity CONNECT_SET_IDENTITY set, NULL: none */
} RemoteClient;

/* The remote program served on one server: its SvRemoteConfig, the program's data
 * there (sv_server_get_program_data). */
typedef struct {
    uid_t proxy_uid;
    char *driver_name;
    SvFamilyRelay *relay; /* a hypervisor daemon's path to the secondary drivers, or NULL */
    SvProcFamily family;  /* SvRemoteConfig.family */
} RemoteProgram;

static void
remote_program_free(gpointer p)
{
    RemoteProgram *rp = p;

    g_free(rp->driver_name);
    sv_family_relay_free(rp->relay);
    g_free(rp);
}

/* The remote program served on c's server; NULL where none is. */
static const RemoteProgram *
remote_program(SvClient *c)
{
    return sv_server_get_program_data(sv_client_get_server(c), &sv_remote_handlers_info);
}

static void
remote_client_free(gpointer p)
{
    RemoteClient *rc = p;

    g_array_unref(rc->regs);
    g_free(rc->system_token);
    g_free(rc);
}

static const SvAttachKey remote_client_key = {"remote program", SV_ATTACH_LEVEL_PROGRAM};

/* The connection's registrations, made on first use. */
static RemoteClient *
remote_client(SvClient *c)
{
    RemoteClient *rc = sv_client_attachment(c, &remote_client_key);

    if (!rc) {
        rc = g_new0(RemoteClient, 1);
        rc->regs = g_array_new(FALSE, FALSE, sizeof(Registration));
        rc->next_callback_id = 1;
        sv_client_attach(c, &remote_client_key, rc, remote_client_free);
    }
    return rc;
}

guint
sv_remote_client_n_registrations(SvClient *c)
{
    return remote_client(c)->regs->len;
}

gboolean
sv_remote_protocol_feature(SvCall *call, int feature, int *supported, GError **error)
{
    SvClient *c = sv_call_get_client(call);

    if (feature == SV_DRV_FEATURE_PROGRAM_KEEPALIVE) {
        /* Asked before CONNECT_OPEN; answering it turns on our PINGs. */
        sv_client_start_keepalive(c);
        *supported = 1;
        return TRUE;
    }
    /* libvirt's daemon wants the connection before it looks at any other feature, its
     * own RPC layer's included (libvirtd, observed). */
    if (!sv_client_is_open(c)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "hypervisor connection not open");
        return FALSE;
    }
    switch (feature) {
    case SV_DRV_FEATURE_FD_PASSING:
    case SV_DRV_FEATURE_REMOTE_EVENT_CALLBACK:
    case SV_DRV_FEATURE_REMOTE_CLOSE_CALLBACK:
        *supported = 1;
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
sv_remote_generic_feature(SvCall *call, int feature, int *supported, GError **error)
{
    GError *local = NULL;

    if (sv_remote_protocol_feature(call, feature, supported, &local))
        return TRUE;
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    switch (feature) {
    case SV_DRV_FEATURE_TYPED_PARAM_STRING:
    case SV_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER:
        *supported = 1;
        return TRUE;
    case SV_DRV_FEATURE_REMOTE:
        *supported = 0;
        return TRUE;
    default:
        return FALSE;
    }
}

static gboolean
connect_supports_feature(SvCall *call, remote_connect_supports_feature_args *args,
                         remote_connect_supports_feature_ret *ret, GError **error)
{
    if (sv_remote_generic_feature(call, args->feature, &ret->supported, error))
        return TRUE;
    if (error && *error)
        return FALSE;
    ret->supported = 0;
    return TRUE;
}

/* A secondary driver's: libvirt's have no answer of their own, so only the RPC layer's
 * features are 1. */
static gboolean
secondary_supports_feature(SvCall *call, remote_connect_supports_feature_args *args,
                           remote_connect_supports_feature_ret *ret, GError **error)
{
    GError *local = NULL;

    if (sv_remote_protocol_feature(call, args->feature, &ret->supported, &local))
        return TRUE;
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    ret->supported = 0;
    return TRUE;
}

static gboolean
connect_close(SvCall *call, GError **error)
{
    (void)call;
    (void)error;
    return TRUE; /* the table's "close" flag closes the connection after the reply */
}

static gboolean
register_close_callback(SvCall *call, GError **error)
{
    (void)error;
    remote_client(sv_call_get_client(call))->close_callback = TRUE;
    return TRUE;
}

static gboolean
unregister_close_callback(SvCall *call, GError **error)
{
    (void)error;
    remote_client(sv_call_get_client(call))->close_callback = FALSE;
    return TRUE;
}

static int
add_registration(SvClient *c, int event_id, const remote_nonnull_domain *dom, gboolean legacy)
{
    RemoteClient *rc = remote_client(c);
    Registration r = {0};

    r.callback_id = legacy ? 0 : rc->next_callback_id++;
    r.event_id = event_id;
    if (dom) {
        r.has_dom = TRUE;
        memcpy(r.uuid, dom->uuid, 16);
    }
    g_array_append_val(rc->regs, r);
    return r.callback_id;
}

/* Whether c has a (callback, not legacy) registration of event_id for dom (NULL: every
 * domain): libvirt refuses a second one. */
static gboolean
has_registration(SvClient *c, int event_id, const remote_nonnull_domain *dom)
{
    RemoteClient *rc = remote_client(c);

    for (guint i = 0; i < rc->regs->len; i++) {
        const Registration *r = &g_array_index(rc->regs, Registration, i);
        if (r->callback_id > 0 && r->event_id == event_id && r->has_dom == (dom != NULL) &&
            (!dom || memcmp(r->uuid, dom->uuid, 16) == 0))
            return TRUE;
    }
    return FALSE;
}

/* Remove the legacy registration of event_id; FALSE when there is none. */
static gboolean
remove_legacy(SvClient *c, int event_id)
{
    RemoteClient *rc = remote_client(c);

    for (guint i = 0; i < rc->regs->len; i++) {
        Registration *r = &g_array_index(rc->regs, Registration, i);
        if (r->callback_id == 0 && r->event_id == event_id) {
            g_array_remove_index(rc->regs, i);
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
event_callback_register_any(SvCall *call, remote_connect_domain_event_callback_register_any_args *a,
                            remote_connect_domain_event_callback_register_any_ret *ret,
                            GError **error)
{
    if (a->eventID < 0 || a->eventID >= SV_DOMAIN_EVENT_ID_LAST) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "unsupported event ID %d",
                     a->eventID);
        return FALSE;
    }
    if (has_registration(sv_call_get_client(call), a->eventID, a->dom)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "event callback already tracked");
        return FALSE;
    }
    ret->callbackID = add_registration(sv_call_get_client(call), a->eventID, a->dom, FALSE);
    return TRUE;
}

static gboolean
event_callback_deregister_any(SvCall *call,
                              remote_connect_domain_event_callback_deregister_any_args *a,
                              GError **error)
{
    RemoteClient *rc = remote_client(sv_call_get_client(call));

    for (guint i = 0; i < rc->regs->len; i++) {
        if (g_array_index(rc->regs, Registration, i).callback_id == a->callbackID &&
            a->callbackID > 0) {
            g_array_remove_index(rc->regs, i);
            return TRUE;
        }
    }
    sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                 "domain event callback %d not registered", a->callbackID);
    return FALSE;
}

static gboolean
event_register_any(SvCall *call, remote_connect_domain_event_register_any_args *a, GError **error)
{
    SvClient *c = sv_call_get_client(call);

    if (a->eventID < 0 || a->eventID >= SV_EVENT_ID_LEGACY_LAST) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "unsupported event ID %d",
                     a->eventID);
        return FALSE;
    }
    remove_legacy(c, a->eventID); /* one registration per event id, as libvirt keeps */
    add_registration(c, a->eventID, NULL, TRUE);
    return TRUE;
}

static gboolean
event_deregister_any(SvCall *call, remote_connect_domain_event_deregister_any_args *a,
                     GError **error)
{
    if (a->eventID < 0 || a->eventID >= SV_EVENT_ID_LEGACY_LAST ||
        !remove_legacy(sv_call_get_client(call), a->eventID)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "domain event %d not registered",
                     a->eventID);
        return FALSE;
    }
    return TRUE;
}

static gboolean
event_register(SvCall *call, remote_connect_domain_event_register_ret *ret, GError **error)
{
    SvClient *c = sv_call_get_client(call);

    (void)error;
    remove_legacy(c, SV_DOMAIN_EVENT_ID_LIFECYCLE);
    add_registration(c, SV_DOMAIN_EVENT_ID_LIFECYCLE, NULL, TRUE);
    ret->cb_registered = 1;
    return TRUE;
}

static gboolean
event_deregister(SvCall *call, remote_connect_domain_event_deregister_ret *ret, GError **error)
{
    if (!remove_legacy(sv_call_get_client(call), SV_DOMAIN_EVENT_ID_LIFECYCLE)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "domain event %d not registered",
                     SV_DOMAIN_EVENT_ID_LIFECYCLE);
        return FALSE;
    }
    ret->cb_registered = 0;
    return TRUE;
}

gboolean
sv_remote_peer_trusted(SvClient *c)
{
    const RemoteProgram *rp = remote_program(c);
    uid_t uid;

    return sv_client_get_peer(c, &uid, NULL, NULL) &&
           (uid == 0 || (rp && uid == rp->proxy_uid));
}

void
sv_remote_identity_denied(SvClient *c, GError **error)
{
    const RemoteProgram *rp = remote_program(c);
    gint64 uid, pid;

    /* libvirt's access manager tells the caller only that it was denied; the log says
     * why (and what the client is). */
    sv_client_get_who(c, &uid, &pid);
    g_message("client %" G_GUINT64_FORMAT " (uid %" G_GINT64_FORMAT ", pid %" G_GINT64_FORMAT
              "): CONNECT_SET_IDENTITY refused: only root or the proxy user may set the client "
              "identity", sv_client_get_id(c), uid, pid);
    sv_error_set(error, SV_FROM_ACCESS, SV_ERR_ACCESS_DENIED, "'%s' denied access",
                 rp ? rp->driver_name : "remote");
}

static gboolean
connect_set_identity(SvCall *call, remote_connect_set_identity_args *a, GError **error)
{
    SvClient *c = sv_call_get_client(call);
    gint64 uid = -1, gid = -1, pid = -1;

    /* Only root or the proxy's own user may speak for someone else. */
    if (!sv_remote_peer_trusted(c)) {
        sv_remote_identity_denied(c, error);
        return FALSE;
    }
    if (!sv_check_flags(a->flags, 0, SV_FROM_RPC, "virConnectSetIdentity", error))
        return FALSE;
    for (guint i = 0; i < a->params.params_len; i++) {
        const remote_typed_param *p = &a->params.params_val[i];
        gint64 v;
        switch (p->value.type) {
        case 1: v = p->value.remote_typed_param_value_u.i; break;
        case 2: v = p->value.remote_typed_param_value_u.ui; break;
        case 3: v = p->value.remote_typed_param_value_u.l; break;
        case 4: v = (gint64)p->value.remote_typed_param_value_u.ul; break;
        default: continue;
        }
        if (g_str_equal(p->field, "unix-user-id"))
            uid = v;
        else if (g_str_equal(p->field, "unix-group-id"))
            gid = v;
        else if (g_str_equal(p->field, "process-id"))
            pid = v;
    }
    sv_client_set_identity(c, uid, gid, pid);
    g_clear_pointer(&remote_client(c)->system_token, g_free);
    sv_client_set_sasl_user(c, NULL);
    sv_client_set_x509_dname(c, NULL);
    for (guint i = 0; i < a->params.params_len; i++) {
        const remote_typed_param *p = &a->params.params_val[i];
        if (p->value.type != SV_TYPED_PARAM_STRING)
            continue;
        if (g_str_equal(p->field, "system.token"))
            remote_client(c)->system_token = g_strdup(p->value.remote_typed_param_value_u.s);
        else if (g_str_equal(p->field, "sasl-user-name"))
            sv_client_set_sasl_user(c, p->value.remote_typed_param_value_u.s);
        else if (g_str_equal(p->field, "x509-distinguished-name"))
            sv_client_set_x509_dname(c, p->value.remote_typed_param_value_u.s);
    }
    return TRUE;
}

gboolean
sv_remote_client_is_elevated(SvClient *c, const char *system_token)
{
    RemoteClient *rc = sv_client_attachment(c, &remote_client_key);

    return rc && rc->system_token && system_token && system_token[0] &&
           g_str_equal(rc->system_token, system_token);
}

gboolean
sv_remote_client_get_identity(SvClient *c, gint64 *uid, gint64 *gid, gint64 *pid)
{
    return sv_client_get_identity(c, uid, gid, pid);
}

/* The flags of virDomainGetXMLDesc that may reveal secrets. */
#define GET_XML_DESC_SECRET_FLAGS (SV_DOMAIN_XML_SECURE | SV_DOMAIN_XML_MIGRATABLE)

static gboolean
remote_readonly_check(SvCall *call, const SvProcInfo *proc, const void *args, GError **error)
{
    (void)call;
    switch (proc->proc) {
    case REMOTE_PROC_DOMAIN_GET_XML_DESC:
        if (((const remote_domain_get_xml_desc_args *)args)->flags &
            GET_XML_DESC_SECRET_FLAGS) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                         "virDomainGetXMLDesc with secure flag");
            return FALSE;
        }
        return TRUE;
    case REMOTE_PROC_DOMAIN_GET_VCPUS_FLAGS:
        /* The guest agent's count is a write for libvirt. */
        if (((const remote_domain_get_vcpus_flags_args *)args)->flags & SV_DOMAIN_VCPU_GUEST) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                         "read only access prevents virDomainGetVcpusFlags");
            return FALSE;
        }
        return TRUE;
    case REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES:
        /* Asking the guest agent is a write for libvirt; the lease and ARP sources not. */
        if (((const remote_domain_interface_addresses_args *)args)->source ==
            SV_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                         "read only access prevents virDomainInterfaceAddresses");
            return FALSE;
        }
        return TRUE;
    default:
        return TRUE;
    }
}

static void
remote_on_open(SvCall *call, const void *args)
{
    if (((const remote_connect_open_args *)args)->flags & SV_CONNECT_RO)
        sv_client_set_readonly(sv_call_get_client(call));
}

/* data is NULL where the program was added without sv_remote_serve (the dispatch fuzz
 * harness's server): nothing is relayed there. */
static gboolean
remote_relays(gpointer data, const SvProcInfo *proc)
{
    return data && sv_family_relay_relays(((RemoteProgram *)data)->relay, proc);
}

static void
remote_relay(gpointer data, SvCall *call, const guint8 *frame, gsize len)
{
    sv_family_relay_call(((RemoteProgram *)data)->relay, call, frame, len);
}

static gboolean
remote_relay_stream(gpointer data, SvClient *client, const guint8 *frame, gsize len)
{
    return data && sv_family_relay_stream(((RemoteProgram *)data)->relay, client, frame, len);
}

static SvProcFamily
remote_served_family(gpointer data)
{
    return data ? ((RemoteProgram *)data)->family : SV_PROC_FAMILY_PRIMARY;
}

const SvProgramHooks sv_remote_hooks = {
    .readonly_check = remote_readonly_check,
    .on_open = remote_on_open,
    .relays = remote_relays,
    .relay = remote_relay,
    .relay_stream = remote_relay_stream,
    .served_family = remote_served_family,
};

void
sv_remote_serve(SvServer *srv, const SvRemoteHandlers *handlers, const SvRemoteConfig *config)
{
    RemoteProgram *rp = g_new0(RemoteProgram, 1);

    rp->proxy_uid = config ? config->proxy_uid : 0;
    rp->driver_name = g_strdup(config && config->driver_name ? config->driver_name : "remote");
    rp->family = config ? config->family : SV_PROC_FAMILY_PRIMARY;
    if (config && config->family_run_dir && config->relay_families)
        rp->relay = sv_family_relay_new(config->family_run_dir, config->relay_families);
    sv_server_add_program_hooks(srv, &sv_remote_handlers_info, handlers, &sv_remote_hooks, rp,
                                remote_program_free);
}

/* ---- host facts every driver reports the same way ---- */

/* The library version we report: the libvirt release whose protocol we speak. */
#define SV_LIB_VERSION 9000000

static gboolean
connect_get_lib_version(SvCall *call, remote_connect_get_lib_version_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->lib_ver = SV_LIB_VERSION;
    return TRUE;
}

static gboolean
connect_get_hostname(SvCall *call, remote_connect_get_hostname_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->hostname = g_strdup(g_get_host_name());
    return TRUE;
}

static gboolean
connect_is_secure(SvCall *call, remote_connect_is_secure_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->secure = 1; /* a local unix socket */
    return TRUE;
}

static gboolean
node_get_info(SvCall *call, remote_node_get_info_ret *ret, GError **error)
{
    SvHostInfo info;

    (void)call;
    (void)error;
    sv_host_info_get(&info);
    memcpy(ret->model, info.model, sizeof(ret->model));
    ret->memory = info.memory_kib;
    ret->cpus = info.cpus;
    ret->mhz = info.mhz;
    ret->nodes = info.nodes;
    ret->sockets = info.sockets;
    ret->cores = info.cores;
    ret->threads = info.threads;
    return TRUE;
}

static gboolean
node_get_free_memory(SvCall *call, remote_node_get_free_memory_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->freeMem = sv_host_free_memory();
    return TRUE;
}

static gboolean
node_get_security_model(SvCall *call, remote_node_get_security_model_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    /* No security driver: an empty model means "none"; each string goes out with its NUL
     * counted, as libvirt sends it. A driver with a security model overrides this. */
    ret->model.model_len = 1;
    ret->model.model_val = g_new0(char, 1);
    ret->doi.doi_len = 1;
    ret->doi.doi_val = g_new0(char, 1);
    return TRUE;
}

void
sv_remote_common_handlers(SvRemoteHandlers *h)
{
    memset(h, 0, sizeof(*h));
    sv_auth_handlers(h);
    h->connect_supports_feature = connect_supports_feature;
    h->connect_close = connect_close;
    h->connect_register_close_callback = register_close_callback;
    h->connect_unregister_close_callback = unregister_close_callback;
    h->connect_domain_event_callback_register_any = event_callback_register_any;
    h->connect_domain_event_callback_deregister_any = event_callback_deregister_any;
    h->connect_domain_event_register_any = event_register_any;
    h->connect_domain_event_deregister_any = event_deregister_any;
    h->connect_domain_event_register = event_register;
    h->connect_domain_event_deregister = event_deregister;
    h->connect_set_identity = connect_set_identity;
    h->connect_get_lib_version = connect_get_lib_version;
    h->connect_get_hostname = connect_get_hostname;
    h->connect_is_secure = connect_is_secure;
    h->node_get_info = node_get_info;
    h->node_get_free_memory = node_get_free_memory;
    h->node_get_security_model = node_get_security_model;
}

void
sv_remote_secondary_handlers(SvRemoteHandlers *h)
{
    sv_remote_common_handlers(h);
    h->node_get_info = NULL;
    h->node_get_free_memory = NULL;
    h->node_get_security_model = NULL;
    h->connect_get_hostname = NULL;
    h->connect_domain_event_callback_register_any = NULL;
    h->connect_domain_event_register_any = NULL;
    h->connect_domain_event_register = NULL;
    h->connect_supports_feature = secondary_supports_feature;
    /* The deregistrations stay: none was ever made, so they answer libvirt's "domain event
     * N not registered", as libvirt's daemon looks for the registration before the API. */
}

/* One event for every registration of event_id (on every domain, or on the one of uuid);
 * callback_only: none for the registrations of the legacy, callback-less form. */
typedef struct {
    int event_id;
    const guint8 *uuid;
    gboolean callback_only;
    SvRemoteEventSend send;
    gpointer data;
} Emit;

static void
emit_to_client(SvClient *c, gpointer data)
{
    const Emit *e = data;
    RemoteClient *rc;

    if (!sv_client_is_open(c))
        return;
    rc = remote_client(c);
    for (guint i = 0; !sv_client_is_closed(c) && i < rc->regs->len; i++) {
        const Registration r = g_array_index(rc->regs, Registration, i);
        if (r.event_id != e->event_id || (e->callback_only && !r.callback_id) ||
            (r.has_dom && memcmp(r.uuid, e->uuid, 16) != 0))
            continue;
        e->send(c, r.callback_id, e->data);
    }
}

static void
emit(SvServer *srv, int event_id, const guint8 *uuid, gboolean callback_only,
     SvRemoteEventSend send, gpointer data)
{
    Emit e = {event_id, uuid, callback_only, send, data};

    sv_server_foreach_client(srv, emit_to_client, &e);
}

static void
send_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    remote_domain_event_lifecycle_msg *m = data;

    if (callback_id) {
        remote_domain_event_callback_lifecycle_msg cm = {callback_id, *m};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                             (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &cm);
    } else {
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE,
                             (xdrproc_t)xdr_remote_domain_event_lifecycle_msg, m);
    }
}

static void
send_reboot(SvClient *c, int callback_id, gpointer data)
{
    remote_domain_event_reboot_msg *m = data;

    if (callback_id) {
        remote_domain_event_callback_reboot_msg cm = {callback_id, *m};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_CALLBACK_REBOOT,
                             (xdrproc_t)xdr_remote_domain_event_callback_reboot_msg, &cm);
    } else {
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_REBOOT,
                             (xdrproc_t)xdr_remote_domain_event_reboot_msg, m);
    }
}

void
sv_remote_emit_lifecycle(SvServer *srv, const remote_nonnull_domain *dom, int event, int detail)
{
    remote_domain_event_lifecycle_msg m = {*dom, event, detail};

    emit(srv, SV_DOMAIN_EVENT_ID_LIFECYCLE, (const guint8 *)dom->uuid, FALSE, send_lifecycle,
         &m);
}

void
sv_remote_emit_reboot(SvServer *srv, const remote_nonnull_domain *dom)
{
    remote_domain_event_reboot_msg m = {*dom};

    emit(srv, SV_DOMAIN_EVENT_ID_REBOOT, (const guint8 *)dom->uuid, FALSE, send_reboot, &m);
}

/* ---- issue 18: events sent in both forms, and those sent only in the callback form ---- */

void
sv_remote_emit_event(SvServer *srv, int event_id, const guint8 uuid[16], SvRemoteEventSend send,
                     gpointer data)
{
    emit(srv, event_id, uuid, FALSE, send, data);
}

void
sv_remote_emit_callback_event(SvServer *srv, int event_id, const guint8 uuid[16],
                              SvRemoteEventSend send, gpointer data)
{
    emit(srv, event_id, uuid, TRUE, send, data);
}

/* ---- issue 18 item 2 (live hotplug): the device events ---- */

typedef struct {
    int event_id;
    remote_nonnull_domain dom;
    char *alias;
} DeviceEvent;

static void
send_device_removed(SvClient *c, int callback_id, const DeviceEvent *e)
{
    remote_domain_event_device_removed_msg m = {e->dom, e->alias};

    if (callback_id) {
        remote_domain_event_callback_device_removed_msg cm = {callback_id, m};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED,
                             (xdrproc_t)xdr_remote_domain_event_callback_device_removed_msg,
                             &cm);
    } else {
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_DEVICE_REMOVED,
                             (xdrproc_t)xdr_remote_domain_event_device_removed_msg, &m);
    }
}

static void
send_device_event(SvClient *c, int callback_id, gpointer data)
{
    const DeviceEvent *e = data;

    if (e->event_id == SV_DOMAIN_EVENT_ID_DEVICE_REMOVED) {
        send_device_removed(c, callback_id, e);
    } else if (e->event_id == SV_DOMAIN_EVENT_ID_DEVICE_ADDED) {
        remote_domain_event_callback_device_added_msg m = {callback_id, e->dom, e->alias};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED,
                             (xdrproc_t)xdr_remote_domain_event_callback_device_added_msg, &m);
    } else {
        remote_domain_event_callback_device_removal_failed_msg m = {callback_id, e->dom,
                                                                    e->alias};
        sv_client_send_event(
            c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
            REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED,
            (xdrproc_t)xdr_remote_domain_event_callback_device_removal_failed_msg, &m);
    }
}

void
sv_remote_emit_device_event(SvServer *srv, int event_id, const remote_nonnull_domain *dom,
                            const char *alias)
{
    DeviceEvent e = {event_id, *dom, (char *)alias};

    g_return_if_fail(event_id == SV_DOMAIN_EVENT_ID_DEVICE_REMOVED ||
                     event_id == SV_DOMAIN_EVENT_ID_DEVICE_ADDED ||
                     event_id == SV_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED);
    /* Only DEVICE_REMOVED has a legacy form (REGISTER_ANY without a callback id). */
    emit(srv, event_id, (const guint8 *)dom->uuid, event_id != SV_DOMAIN_EVENT_ID_DEVICE_REMOVED,
         send_device_event, &e);
}
