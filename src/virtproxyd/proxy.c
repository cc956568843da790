/* proxy.c: virtproxyd answers the calls made before CONNECT_OPEN itself, picks a backend
 * daemon by the URI, hands it the client's identity, forwards the open, and then relays
 * whole frames both ways, reading only their 24-byte headers' framing. */
#include "proxy.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "programs/backend.h"
#include "programs/remote.h"
#include "protocol/private_dispatch.h"
#include "protocol/sv_net.h"
#include "rpc/client.h"
#include "util/error.h"

#define RELAY_MARK (1024 * 1024) /* queued bytes on one side before the other side pauses */

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    char *run_dir; /* ROOT/run/libvirt */
    gboolean handoff; /* hand connections to backends instead of relaying them */
} Proxy;

typedef struct {
    SvClient *client; /* not a reference: freed with the client */
    SvRpcConn *backend;
    SvCall *open_call;
    SvHeader open_hdr;
    guint open_flags;
    char *open_name;     /* as the client sent it, NULL for absent */
    GPtrArray *candidates; /* driver names still to try: "qemu", "lxc", "xen" */
    char *backend_uri;   /* the URI forwarded to the backend */
    GError *last_error;
    gboolean probing;    /* empty URI: a backend that declines is skipped */
    gboolean paired;
    gboolean handing_off; /* an ADOPT_CLIENT is on its way */
    gboolean backend_corked; /* frames from one client read, sent in one write */
    gboolean client_corked;  /* frames from one backend read, sent in one write */
    gboolean close_sent;     /* the client sent CONNECT_CLOSE: the backend will hang up */
} ProxyConn;

static Proxy *proxy;

static void try_next_backend(ProxyConn *pc);

/* The open failed: the client hears why and may go on (calls before an open).
 * The reply goes first, then what the client sent after the open is dispatched;
 * that may close the client and free pc, so callers must not touch pc afterwards.
 * Writing the reply may close the client too, and the call held the last reference
 * to it: ours keeps it until we are done. */
static void
fail_open(ProxyConn *pc, SvCall *call, GError *error)
{
    SvClient *client = sv_client_ref(pc->client);

    sv_call_fail(call, error);
    sv_client_pause(client, FALSE);
    sv_client_unref(client);
}

static void
proxy_conn_free(gpointer p)
{
    ProxyConn *pc = p;

    g_clear_pointer(&pc->backend, sv_rpc_conn_free);
    if (pc->open_call) {
        g_autoptr(GError) e = NULL;
        sv_error_set(&e, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "client socket is closed");
        sv_call_fail(pc->open_call, g_steal_pointer(&e));
    }
    g_clear_pointer(&pc->candidates, g_ptr_array_unref);
    g_clear_error(&pc->last_error);
    g_free(pc->open_name);
    g_free(pc->backend_uri);
    g_free(pc);
}

static const SvAttachKey conn_key = {"proxy connection", SV_ATTACH_LEVEL_DRIVER};

static ProxyConn *
conn_of(SvClient *c)
{
    ProxyConn *pc = sv_client_attachment(c, &conn_key);

    if (!pc) {
        pc = g_new0(ProxyConn, 1);
        pc->client = c;
        sv_client_attach(c, &conn_key, pc, proxy_conn_free);
    }
    return pc;
}

/* ---------------------------------------------------------------- relay */

/* A client's own CONNECT_SET_IDENTITY would reach the backend from us, whom it trusts:
 * only a client the backends would trust itself may send one. The backend already has
 * the real peer's identity, sent before the open.
 * A reply that carries a descriptor (OPEN_GRAPHICS_FD's) does not cross the relay, which
 * reads frames only: that call is answered here, as libvirt answers a connection without
 * descriptor passing, instead of reaching the backend; on a read-only connection it goes
 * on, for the backend's denial (which comes first there, and carries no descriptor).
 * TRUE when the frame was answered here. */
static gboolean
answered_here(SvClient *c, const guint8 *frame)
{
    g_autoptr(GError) error = NULL;
    SvHeader h;

    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    if (h.prog != REMOTE_PROGRAM || h.type != SV_NET_CALL)
        return FALSE;
    if (h.proc == REMOTE_PROC_CONNECT_SET_IDENTITY && !sv_remote_peer_trusted(c))
        sv_remote_identity_denied(c, &error);
    else if (h.proc == REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD && !sv_client_is_readonly(c))
        sv_error_set(&error, SV_FROM_DOMAIN, SV_ERR_ARGUMENT_UNSUPPORTED, "%s",
                     "fd passing is not supported by this connection");
    else
        return FALSE;
    h.type = SV_NET_REPLY;
    sv_client_send(c, sv_msg_encode_error(&h, error));
    return TRUE;
}

static void
relay_from_client(SvClient *c, const guint8 *frame, gsize len, gpointer data)
{
    ProxyConn *pc = data;

    if (!pc->backend || answered_here(c, frame))
        return;
    if (sv_be32(frame + SV_FRAME_LEN_SIZE) == REMOTE_PROGRAM &&
        (gint32)sv_be32(frame + SV_FRAME_LEN_SIZE + 8) == REMOTE_PROC_CONNECT_CLOSE)
        pc->close_sent = TRUE;
    if (!pc->backend_corked) {
        pc->backend_corked = TRUE;
        sv_rpc_conn_cork(pc->backend);
    }
    sv_rpc_conn_send_frame(pc->backend, frame, len);
    /* A backend that does not keep up holds the client, not our memory. (A write that
     * failed closed it: its closed callback ran, and our copy may be gone.) */
    if (pc->backend && sv_rpc_conn_get_output_bytes(pc->backend) > RELAY_MARK)
        sv_client_pause(c, TRUE);
}

static void
client_batch_done(SvClient *c, gpointer data)
{
    ProxyConn *pc = data;

    (void)c;
    if (pc->backend_corked && pc->backend) {
        pc->backend_corked = FALSE;
        sv_rpc_conn_uncork(pc->backend);
    }
}

static void
backend_batch_done(SvRpcConn *conn, gpointer user)
{
    ProxyConn *pc = user;

    (void)conn;
    if (pc->client_corked) {
        pc->client_corked = FALSE;
        sv_client_uncork(pc->client);
    }
}

static void
backend_drained(SvRpcConn *conn, gpointer user)
{
    ProxyConn *pc = user;

    (void)conn;
    sv_client_pause(pc->client, FALSE);
}

static void
client_drained(SvClient *c, gpointer data)
{
    ProxyConn *pc = data;

    (void)c;
    if (pc->backend)
        sv_rpc_conn_pause(pc->backend, FALSE);
}

static void
open_reply(ProxyConn *pc, const guint8 *frame, gsize len)
{
    SvHeader h;
    SvCall *call = pc->open_call;
    SvClient *client;

    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    if (h.status != SV_NET_OK && pc->probing && pc->candidates->len) {
        /* This hypervisor is not here (Xen on most hosts): try the next one. */
        g_clear_error(&pc->last_error);
        pc->last_error = sv_error_from_payload(frame + SV_FRAME_MIN, len - SV_FRAME_MIN);
        g_clear_pointer(&pc->backend, sv_rpc_conn_free);
        try_next_backend(pc);
        return;
    }
    pc->open_call = NULL;
    if (h.status == SV_NET_OK) {
        pc->paired = TRUE;
        sv_client_set_relay(pc->client, relay_from_client, client_batch_done, pc);
        sv_client_set_drain_func(pc->client, client_drained, pc);
        g_debug("client %" G_GUINT64_FORMAT " relayed to %s", sv_client_get_id(pc->client),
                pc->backend_uri);
    } else {
        g_clear_pointer(&pc->backend, sv_rpc_conn_free);
    }
    /* Only now, paired (or not) and answered, may the frames the client sent after
     * its open be dispatched: they go to the relay, after the open's reply. One of
     * them may close the client, which frees pc; so may the reply's own write (a
     * client gone), which also drops the call's reference: ours holds it. */
    client = sv_client_ref(pc->client);
    sv_call_reply_frame(call, frame, len);
    sv_client_pause(client, FALSE);
    sv_client_unref(client);
}

static void
backend_frame(SvRpcConn *conn, const guint8 *frame, gsize len, gpointer user)
{
    ProxyConn *pc = user;

    (void)conn;
    if (!pc->paired) {
        SvHeader h;
        sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
        if (pc->open_call && h.type == SV_NET_REPLY && h.serial == pc->open_hdr.serial &&
            h.proc == REMOTE_PROC_CONNECT_OPEN)
            open_reply(pc, frame, len);
        return;
    }
    if (!pc->client_corked) {
        pc->client_corked = TRUE;
        sv_client_cork(pc->client);
    }
    sv_client_send(pc->client, sv_msg_copy_frame(frame, len)); /* the one copy it costs */
    if (sv_client_get_output_bytes(pc->client) > RELAY_MARK && pc->backend)
        sv_rpc_conn_pause(pc->backend, TRUE);
}

static void
backend_closed(SvRpcConn *conn, gpointer user)
{
    ProxyConn *pc = user;

    (void)conn;
    if (pc->open_call) {
        g_autoptr(GError) e = NULL;
        SvCall *call = pc->open_call;
        sv_error_set_errno(&e, SV_FROM_RPC, EIO, "End of file while reading data");
        if (pc->probing && pc->candidates->len) {
            g_clear_error(&pc->last_error);
            pc->last_error = g_steal_pointer(&e);
            try_next_backend(pc);
            return;
        }
        pc->open_call = NULL;
        fail_open(pc, call, g_steal_pointer(&e));
        return;
    }
    if (pc->client_corked) {
        pc->client_corked = FALSE;
        sv_client_uncork(pc->client);
    }
    /* The backend went away: so does this client, once what it was sent is out. After
     * the client's CONNECT_CLOSE that is its normal exit. */
    if (pc->close_sent)
        g_debug("client %" G_GUINT64_FORMAT " closed its connection",
                sv_client_get_id(pc->client));
    else
        g_message("backend of client %" G_GUINT64_FORMAT " closed its connection",
                  sv_client_get_id(pc->client));
    sv_client_close_after_flush(pc->client);
}

/* ---------------------------------------------------------------- open */

static void
forward_open(ProxyConn *pc)
{
    char *name = pc->backend_uri;
    /* The backend's read-only socket forces it too; said here all the same. */
    guint ro = sv_client_is_readonly(pc->client) ? 1 : 0;
    remote_connect_open_args a = {&name, pc->open_flags | ro};
    g_autoptr(GError) error = NULL;
    g_autofree SvMsg *m = NULL;
    SvHeader h = pc->open_hdr;

    /* The client's own serial: the reply goes back to it as it comes. */
    h.type = SV_NET_CALL;
    h.status = SV_NET_OK;
    m = sv_msg_encode(&h, (xdrproc_t)xdr_remote_connect_open_args, &a, &error);
    sv_rpc_conn_send_frame(pc->backend, m->data, m->len);
}

static void
identity_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
              const GError *error, gpointer data)
{
    ProxyConn *pc = data;

    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    if (!pc->open_call)
        return;
    if (error) {
        SvCall *call = pc->open_call;
        pc->open_call = NULL;
        g_clear_pointer(&pc->backend, sv_rpc_conn_free);
        fail_open(pc, call, g_error_copy(error));
        return;
    }
    forward_open(pc);
}

/* A relayed client reaches the backend's socket of its own kind; a hand-off goes to
 * the read-write socket whatever the client's kind, since only read-write connections
 * take descriptors (the READONLY flag of ADOPT_CLIENT carries the client's kind). */
static char *
socket_path(ProxyConn *pc, const char *drv, gboolean handoff)
{
    return sv_backend_socket_path(proxy->run_dir, drv,
                                  !handoff && sv_client_is_readonly(pc->client));
}

static void
try_next_backend(ProxyConn *pc)
{
    SvRpcConnCallbacks cb = {backend_frame, backend_closed, backend_drained, backend_batch_done};

    while (pc->candidates->len) {
        g_autofree char *drv = g_ptr_array_steal_index(pc->candidates, 0);
        g_autofree char *path = socket_path(pc, drv, FALSE);
        g_autoptr(GError) error = NULL;
        SvBackendIdentity id;
        int fd = sv_rpc_connect_unix(path, &error);

        if (fd < 0) {
            g_clear_error(&pc->last_error);
            pc->last_error = g_steal_pointer(&error);
            continue;
        }
        g_free(pc->backend_uri);
        pc->backend_uri = pc->probing ? g_strdup_printf("%s:///system", drv)
                                      : g_strdup(pc->open_name);
        pc->backend = sv_rpc_conn_new(fd, &cb, pc);
        sv_backend_identity_of_client(&id, pc->client);
        sv_backend_identify(pc->backend, &id, identity_done, pc);
        return;
    }
    {
        SvCall *call = pc->open_call;
        GError *e = pc->last_error;
        pc->last_error = NULL;
        pc->open_call = NULL;
        if (!e)
            sv_error_set(&e, SV_FROM_NONE, SV_ERR_NO_CONNECT, "%s",
                         "the empty URI: no hypervisor daemon is running");
        fail_open(pc, call, e);
    }
}

/* ---------------------------------------------------------------- hand-off */

static void handoff_next(ProxyConn *pc);

static void
handoff_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
             const GError *error, gpointer data)
{
    ProxyConn *pc = data;
    SvCall *call = pc->open_call;
    SvClient *client;

    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    if (!call)
        return;
    if (error) {
        /* A backend that cannot adopt (another implementation): relay instead. */
        g_message("hand-off to %s refused (%s); relaying this client", pc->backend_uri,
                  error->message);
        g_clear_pointer(&pc->backend, sv_rpc_conn_free);
        pc->handing_off = FALSE;
        g_ptr_array_insert(pc->candidates, 0, g_strdup(pc->backend_uri));
        *strstr(pc->candidates->pdata[0], ":") = '\0';
        pc->probing = FALSE;
        try_next_backend(pc);
        return;
    }
    /* The backend answers the client from now on, on the very same socket:
     * our copy of it closes, the connection lives on. */
    pc->open_call = NULL;
    g_debug("client %" G_GUINT64_FORMAT " handed to %s", sv_client_get_id(pc->client),
            pc->backend_uri);
    client = sv_client_ref(pc->client);
    sv_call_abandon(call); /* may run the client's queued input, and close it: pc goes */
    sv_client_close(client, "handed to its backend");
    sv_client_unref(client);
}

static void
handoff_send(ProxyConn *pc)
{
    char *name = pc->backend_uri;
    remote_connect_open_args oa = {&name, pc->open_flags};
    SvHeader h = pc->open_hdr;
    g_autoptr(GError) error = NULL;
    g_autofree SvMsg *open_msg = NULL;
    g_autofree guint8 *rest = NULL;
    g_autoptr(GByteArray) input = g_byte_array_new();
    sv_private_adopt_client_args a = {0};
    gsize rest_len = 0;

    /* The client's CONNECT_OPEN, as it sent it but naming the backend's URI,
     * then whatever it sent after it: the backend answers all of it. */
    h.type = SV_NET_CALL;
    h.status = SV_NET_OK;
    open_msg = sv_msg_encode(&h, (xdrproc_t)xdr_remote_connect_open_args, &oa, &error);
    g_byte_array_append(input, open_msg->data, open_msg->len);
    rest = sv_client_steal_input(pc->client, &rest_len);
    g_byte_array_append(input, rest, rest_len);
    a.flags = (sv_client_is_readonly(pc->client) ? SV_PRIVATE_ADOPT_READONLY : 0) |
              (sv_client_keepalive_enabled(pc->client) ? SV_PRIVATE_ADOPT_KEEPALIVE : 0);
    a.input.input_len = input->len;
    a.input.input_val = (char *)input->data;
    pc->handing_off = TRUE;
    if (!sv_rpc_conn_call_with_fd(pc->backend, SV_PRIVATE_PROGRAM, SV_PRIVATE_PROTOCOL_VERSION,
                                  SV_PRIVATE_PROC_ADOPT_CLIENT,
                                  (xdrproc_t)xdr_sv_private_adopt_client_args, &a,
                                  sv_client_get_fd(pc->client), handoff_done, pc, &error)) {
        SvCall *call = pc->open_call;
        pc->open_call = NULL;
        fail_open(pc, call, g_steal_pointer(&error));
    }
}

/* Once handed over, the client's socket has another writer: every reply we queued for
 * it (AUTH_LIST and the like, often read in the same batch as the open) must be on the
 * wire first, or it would come after the backend's replies, or be dropped, or interleave
 * with them. */
static void
handoff_when_drained(SvClient *c, gpointer data)
{
    ProxyConn *pc = data;

    if (sv_client_get_output_bytes(c) > 0)
        return;
    sv_client_set_drain_func(c, NULL, NULL);
    if (pc->open_call && pc->backend)
        handoff_send(pc);
}

static void
handoff_start(ProxyConn *pc)
{
    sv_client_set_drain_func(pc->client, handoff_when_drained, pc);
    if (sv_client_get_output_bytes(pc->client) == 0)
        handoff_when_drained(pc->client, pc);
}

static void
probe_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
           const GError *error, gpointer data)
{
    ProxyConn *pc = data;

    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    if (!pc->open_call)
        return;
    if (error) {
        /* This hypervisor is not here: the next one. */
        g_clear_error(&pc->last_error);
        pc->last_error = g_error_copy(error);
        g_clear_pointer(&pc->backend, sv_rpc_conn_free);
        handoff_next(pc);
        return;
    }
    handoff_start(pc);
}

static void
handoff_next(ProxyConn *pc)
{
    SvRpcConnCallbacks cb = {backend_frame, backend_closed, backend_drained, backend_batch_done};

    while (pc->candidates->len) {
        g_autofree char *drv = g_ptr_array_steal_index(pc->candidates, 0);
        g_autofree char *path = socket_path(pc, drv, TRUE);
        g_autoptr(GError) error = NULL;
        int fd = sv_rpc_connect_unix(path, &error);

        if (fd < 0 && sv_client_is_readonly(pc->client)) {
            /* A read-only client is relayed through the backend's read-only socket
             * when the read-write one is out of reach: it gets there, or hears why
             * not as libvirt says it, naming that socket. */
            g_ptr_array_insert(pc->candidates, 0, g_steal_pointer(&drv));
            try_next_backend(pc);
            return;
        }
        if (fd < 0) {
            g_clear_error(&pc->last_error);
            pc->last_error = g_steal_pointer(&error);
            continue;
        }
        g_free(pc->backend_uri);
        pc->backend_uri = pc->probing ? g_strdup_printf("%s:///system", drv)
                                      : g_strdup(pc->open_name);
        pc->backend = sv_rpc_conn_new(fd, &cb, pc);
        if (pc->probing) {
            /* Ask first whether this daemon's hypervisor is here: once handed
             * over, the client could not be taken back. */
            char *uri = pc->backend_uri;
            /* Not read-only: the same connection then carries ADOPT_CLIENT, which a
             * read-only connection may not (the client's own open says read-only). */
            remote_connect_open_args oa = {&uri, 0};
            sv_rpc_conn_call(pc->backend, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_CONNECT_OPEN, (xdrproc_t)xdr_remote_connect_open_args,
                             &oa, probe_done, pc);
        } else {
            handoff_start(pc);
        }
        return;
    }
    {
        SvCall *call = pc->open_call;
        GError *e = pc->last_error;
        pc->last_error = NULL;
        pc->open_call = NULL;
        if (!e)
            sv_error_set(&e, SV_FROM_NONE, SV_ERR_NO_CONNECT, "%s",
                         "the empty URI: no hypervisor daemon is running");
        fail_open(pc, call, e);
    }
}

static gboolean
connect_open(SvCall *call, remote_connect_open_args *a, GError **error)
{
    ProxyConn *pc = conn_of(sv_call_get_client(call));
    const char *name = a->name ? *a->name : NULL;
    /* The empty URI probes the hypervisors alone, as libvirt's virtproxyd does. */
    static const char *const drivers[] = {"qemu", "lxc", "xen"};

    pc->candidates = g_ptr_array_new_with_free_func(g_free);
    if (!name || !*name) {
        pc->probing = TRUE;
        for (gsize i = 0; i < G_N_ELEMENTS(drivers); i++)
            g_ptr_array_add(pc->candidates, g_strdup(drivers[i]));
    } else {
        const char *sep = strstr(name, "://");
        g_autofree char *scheme = sep ? g_ascii_strdown(name, sep - name) : NULL;
        for (gsize i = 0; scheme && i < G_N_ELEMENTS(drivers); i++) {
            if (g_str_equal(scheme, drivers[i]))
                g_ptr_array_add(pc->candidates, g_strdup(drivers[i]));
        }
        /* A secondary driver's URI (secret:///system, ...) goes to its own daemon. */
        if (scheme && sv_proc_family_from_string(scheme) > SV_PROC_FAMILY_PRIMARY)
            g_ptr_array_add(pc->candidates, g_strdup(scheme));
        if (!pc->candidates->len) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_NO_CONNECT, "%s", name);
            return FALSE;
        }
    }
    pc->open_name = g_strdup(name);
    pc->open_flags = a->flags;
    pc->open_hdr = *sv_call_get_header(call);
    pc->open_call = sv_call_defer(call);
    /* Nothing more is dispatched here until the backend is chosen: what the
     * client sends meanwhile goes to the backend. */
    sv_client_pause(pc->client, TRUE);
    /* A TCP or TLS client stays here, relayed: its TLS session (or SASL layer) cannot move
     * to another process. So does a client authenticated here: the backend, which would
     * ask it to authenticate again, hears who it is with its identity (sasl-user-name). */
    if (proxy->handoff && sv_client_get_transport(pc->client) == SV_TRANSPORT_UNIX &&
        !sv_client_get_sasl_user(pc->client))
        handoff_next(pc);
    else
        try_next_backend(pc);
    return TRUE;
}

static gboolean
proxy_init(SvDaemon *d, GError **error)
{
    SvRemoteHandlers own = {.connect_open = connect_open};
    guint handoff = 1;

    if (!sv_conf_file_get_uint(sv_daemon_get_config(d), "client_handoff", &handoff, error))
        return FALSE;
    proxy = g_new0(Proxy, 1);
    proxy->handoff = handoff != 0;
    proxy->daemon = d;
    proxy->run_dir = sv_daemon_path(d, "/run/libvirt");
    sv_remote_common_handlers(&proxy->handlers);
    sv_remote_handlers_overlay(&proxy->handlers, &own);
    /* Before the open only the handshake is ours; after it everything is relayed. */
    sv_daemon_serve_remote(d, &proxy->handlers);
    sv_daemon_set_driver_data(d, proxy);
    return TRUE;
}

static void
proxy_cleanup(SvDaemon *d)
{
    (void)d;
    g_free(proxy->run_dir);
    g_clear_pointer(&proxy, g_free);
}

const SvDaemonDriver proxy_daemon_driver = {
    .name = "virtproxyd",
    .sock_prefix = "libvirt",
    .driver_name = "remote",
    .fds_per_client = 2, /* relayed: the client's socket and one to its backend */
    .routes_clients = TRUE,
    .listens_on_network = TRUE,
    .init = proxy_init,
    .cleanup = proxy_cleanup,
};
