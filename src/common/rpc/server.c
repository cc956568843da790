/* server.c: the server object and its clients: which are connected (in order, by
 * limit slot), who each is, what is attached to it, and how it goes. Listening sockets
 * and client limits are listener.c; a connection's I/O is connection.c; calls are
 * dispatch.c. */
#include "rpc/server.h"

#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/server-internal.h"

void
sv_server_config_init(SvServerConfig *cfg)
{
    cfg->max_clients = 5000;
    cfg->max_readonly_clients = 1000;
    cfg->max_anonymous_clients = 20;
    cfg->max_client_requests = 5;
    cfg->max_message = SV_MESSAGE_MAX;
    cfg->max_client_output = 64 * 1024 * 1024;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
}

/* ---------------------------------------------------------------- clients */

static void client_free_attachments(SvClient *c);

SvClient *
sv_client_ref(SvClient *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

void
sv_client_unref(SvClient *c)
{
    if (!c || !g_atomic_int_dec_and_test(&c->ref))
        return;
    g_assert(c->closed);
    client_free_attachments(c); /* those attached after it closed */
    g_free(c->sasl_user);
    g_free(c->sock_addr);
    g_free(c->sock_addr_local);
    g_free(c->id_x509_dname);
    g_free(c);
}

guint64
sv_client_get_id(SvClient *c)
{
    return c->id;
}

SvServer *
sv_client_get_server(SvClient *c)
{
    return c->srv;
}

gboolean
sv_client_is_readonly(SvClient *c)
{
    return c->readonly;
}

void
sv_client_set_readonly(SvClient *c)
{
    c->readonly = TRUE;
}

gboolean
sv_client_is_open(SvClient *c)
{
    return c->open;
}

gboolean
sv_client_is_closed(SvClient *c)
{
    return c->closed;
}

gboolean
sv_client_get_peer(SvClient *c, uid_t *uid, gid_t *gid, pid_t *pid)
{
    if (!c->have_cred)
        return FALSE;
    if (uid)
        *uid = c->cred.uid;
    if (gid)
        *gid = c->cred.gid;
    if (pid)
        *pid = c->cred.pid;
    return TRUE;
}

void
sv_client_set_identity(SvClient *c, gint64 uid, gint64 gid, gint64 pid)
{
    c->has_identity = TRUE;
    c->id_uid = uid;
    c->id_gid = gid;
    c->id_pid = pid;
}

gboolean
sv_client_get_identity(SvClient *c, gint64 *uid, gint64 *gid, gint64 *pid)
{
    if (!c->has_identity)
        return FALSE;
    *uid = c->id_uid;
    *gid = c->id_gid;
    *pid = c->id_pid;
    return TRUE;
}

void
sv_client_get_who(SvClient *c, gint64 *uid, gint64 *pid)
{
    gint64 gid;

    *uid = *pid = -1;
    if (!sv_client_get_identity(c, uid, &gid, pid) && c->have_cred) {
        *uid = c->cred.uid;
        *pid = c->cred.pid;
    }
}

gint64
sv_client_get_connect_time(SvClient *c)
{
    return c->connect_time;
}

void
sv_client_attach(SvClient *c, const SvAttachKey *key, gpointer data, GDestroyNotify free_fn)
{
    SvAttachment a = {key, data, free_fn};
    SvAttachment old = {0};

    if (!c->attachments)
        c->attachments = g_array_new(FALSE, FALSE, sizeof(SvAttachment));
    for (guint i = 0; i < c->attachments->len; i++) {
        if (g_array_index(c->attachments, SvAttachment, i).key == key) {
            old = g_array_index(c->attachments, SvAttachment, i);
            g_array_remove_index(c->attachments, i);
            break;
        }
    }
    if (data)
        g_array_append_val(c->attachments, a);
    /* Freed after the array is consistent: the free function may look at it. */
    if (old.data && old.free_fn)
        old.free_fn(old.data);
}

gpointer
sv_client_attachment(SvClient *c, const SvAttachKey *key)
{
    for (guint i = 0; c->attachments && i < c->attachments->len; i++) {
        SvAttachment *a = &g_array_index(c->attachments, SvAttachment, i);
        if (a->key == key)
            return a->data;
    }
    return NULL;
}

/* Free every attachment in the order server.h documents: highest level first, within a
 * level the most recently attached first. */
static void
client_free_attachments(SvClient *c)
{
    g_autoptr(GArray) all = g_steal_pointer(&c->attachments);

    while (all && all->len) {
        guint pick = all->len - 1;
        SvAttachment a;

        for (guint i = pick; i-- > 0;) {
            if (g_array_index(all, SvAttachment, i).key->level >
                g_array_index(all, SvAttachment, pick).key->level)
                pick = i;
        }
        a = g_array_index(all, SvAttachment, pick);
        g_array_remove_index(all, pick);
        if (a.free_fn)
            a.free_fn(a.data);
    }
}

void
sv_client_set_stream_handler(SvClient *c,
                             void (*fn)(SvClient *, const SvHeader *, const guint8 *, gsize,
                                        gpointer),
                             gpointer data)
{
    c->stream_fn = fn;
    c->stream_data = data;
}

void
sv_client_add_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    SvCloseNotify n = {fn, data};

    if (!c->close_notify)
        c->close_notify = g_array_new(FALSE, FALSE, sizeof(SvCloseNotify));
    g_array_append_val(c->close_notify, n);
}

void
sv_client_remove_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    for (guint i = 0; c->close_notify && i < c->close_notify->len; i++) {
        SvCloseNotify *n = &g_array_index(c->close_notify, SvCloseNotify, i);
        if (n->fn == fn && n->data == data) {
            g_array_remove_index(c->close_notify, i);
            return;
        }
    }
}

void
sv_client_mark_open(SvClient *c)
{
    c->open = TRUE;
}

GList **
sv_client_streams(SvClient *c)
{
    return &c->streams;
}

/* What the driver and the owner keep for a connected client goes with it. */
static void
client_closed_hooks(SvClient *c)
{
    SvServer *srv = c->srv;

    if (c->close_notify) {
        g_autoptr(GArray) notify = g_steal_pointer(&c->close_notify);
        for (guint i = 0; i < notify->len; i++) {
            SvCloseNotify *n = &g_array_index(notify, SvCloseNotify, i);
            n->fn(c, n->data);
        }
    }
    if (srv->client_closed)
        srv->client_closed(c, srv->client_closed_data);
    client_free_attachments(c);
}

void
sv_client_close(SvClient *c, const char *reason)
{
    SvServer *srv = c->srv;
    gboolean refused = c->refusal != NULL;

    if (c->closed)
        return;
    g_debug("client %" G_GUINT64_FORMAT " closed: %s", c->id, reason);
    c->closed = TRUE;
    sv_client_io_stop(c);
    g_queue_delete_link(c->queue, c->link);
    c->link = NULL;
    if (c->slot < SV_SLOT_LAST)
        srv->n_slot[c->slot]--;
    g_clear_error(&c->refusal);
    if (!refused) {
        client_closed_hooks(c);
        if (srv->clients_changed)
            srv->clients_changed(srv, srv->clients_changed_data);
    }
    sv_listeners_fd_released(srv);
    sv_client_unref(c); /* the server's reference */
}

static SvClient *
client_setup(SvClient *c, SvServer *srv, int fd, gboolean readonly, SvSlot slot,
             GError *refusal, gsize max_message)
{
    socklen_t sl = sizeof(c->cred);

    c->ref = 1;
    c->id = ++srv->next_client_id;
    c->srv = srv;
    c->fd = fd;
    c->readonly = readonly;
    c->slot = refusal ? SV_SLOT_LAST : slot;
    c->refusal = refusal;
    c->connect_time = g_get_real_time();
    /* A TCP socket has no peer credentials to speak of. */
    c->have_cred = c->transport == SV_TRANSPORT_UNIX &&
                   getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) == 0;
    sv_client_io_start(c, max_message ? max_message : srv->cfg.max_message);
    c->queue = refusal ? &srv->refused : &srv->clients;
    g_queue_push_tail(c->queue, c);
    c->link = c->queue->tail;
    if (refusal)
        return c;
    if (c->slot < SV_SLOT_LAST)
        srv->n_slot[c->slot]++;
    if (srv->clients_changed)
        srv->clients_changed(srv, srv->clients_changed_data);
    return c;
}

SvClient *
sv_client_new_internal(SvServer *srv, int fd, gboolean readonly, SvSlot slot, GError *refusal,
                       gsize max_message)
{
    return client_setup(g_new0(SvClient, 1), srv, fd, readonly, slot, refusal, max_message);
}

SvClient *
sv_client_new_net(SvServer *srv, int fd, SvSlot slot, SvTlsContext *tls)
{
    g_autoptr(GError) error = NULL;
    SvTlsSession *s = NULL;
    SvClient *c;
    int on = 1;

    /* Replies are small and answered at once: no waiting to fill a segment. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));

    if (tls && !(s = sv_tls_session_new(tls, fd, NULL, &error))) {
        g_message("%s: cannot start a TLS session: %s", srv->name, error->message);
        close(fd);
        return NULL;
    }
    /* Set before the first read: sv_client_io_start starts with the handshake. */
    c = g_new0(SvClient, 1);
    c->transport = tls ? SV_TRANSPORT_TLS : SV_TRANSPORT_TCP;
    c->tls = s;
    c->sock_addr = sv_transport_format_addr(fd, FALSE);
    c->sock_addr_local = sv_transport_format_addr(fd, TRUE);
    return client_setup(c, srv, fd, FALSE, slot, NULL, 0);
}

SvTransportKind
sv_client_get_transport(SvClient *c)
{
    return c->transport;
}

const char *
sv_client_get_sock_addr(SvClient *c)
{
    return c->sock_addr;
}

const char *
sv_client_get_x509_dname(SvClient *c)
{
    if (c->tls && c->tls_ready)
        return sv_tls_session_get_dname(c->tls);
    return c->id_x509_dname;
}

void
sv_client_set_x509_dname(SvClient *c, const char *dname)
{
    g_free(c->id_x509_dname);
    c->id_x509_dname = g_strdup(dname);
}

int
sv_client_get_tls_key_size(SvClient *c)
{
    return c->tls && c->tls_ready ? sv_tls_session_get_key_size(c->tls) : 0;
}

SvClient *
sv_server_add_client_fd(SvServer *srv, int fd, gboolean readonly)
{
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    return sv_client_new_internal(srv, fd, readonly, SV_SLOT_LAST, NULL, 0);
}

/* ---------------------------------------------------------------- server */

SvServer *
sv_server_new(const char *name, const SvServerConfig *cfg)
{
    SvServer *srv = g_new0(SvServer, 1);

    srv->name = g_strdup(name);
    if (cfg)
        srv->cfg = *cfg;
    else
        sv_server_config_init(&srv->cfg);
    srv->cfg.max_message = MIN(srv->cfg.max_message, SV_MESSAGE_MAX);
    srv->programs = g_array_new(FALSE, FALSE, sizeof(SvServerProgram));
    srv->listeners = g_ptr_array_new();
    g_queue_init(&srv->clients);
    g_queue_init(&srv->refused);
    return srv;
}

void
sv_server_shutdown(SvServer *srv)
{
    if (!srv)
        return;
    sv_server_close_listeners(srv);
    srv->clients_changed = NULL;
    while (srv->clients.head)
        sv_client_close(srv->clients.head->data, "server shutting down");
    while (srv->refused.head)
        sv_client_close(srv->refused.head->data, "server shutting down");
    for (guint i = 0; i < srv->programs->len; i++) {
        SvServerProgram *p = &g_array_index(srv->programs, SvServerProgram, i);
        if (p->data && p->data_free)
            p->data_free(p->data);
    }
    g_array_set_size(srv->programs, 0);
}

void
sv_server_free(SvServer *srv)
{
    if (!srv)
        return;
    sv_server_shutdown(srv);
    sv_listeners_free(srv);
    g_array_unref(srv->programs);
    g_free(srv->name);
    g_free(srv);
}

const char *
sv_server_get_name(SvServer *srv)
{
    return srv->name;
}

void
sv_server_add_program(SvServer *srv, const SvProgramInfo *info, const void *handlers)
{
    static const SvProgramHooks none;

    sv_server_add_program_hooks(srv, info, handlers, &none, NULL, NULL);
}

void
sv_server_add_program_hooks(SvServer *srv, const SvProgramInfo *info, const void *handlers,
                            const SvProgramHooks *hooks, gpointer data, GDestroyNotify data_free)
{
    SvServerProgram p = {info, handlers, hooks, data, data_free};

    g_array_append_val(srv->programs, p);
    /* What a connection may hold on to before a message claims it (fdpass.c). */
    for (guint i = 0; i < info->n_procs; i++)
        srv->max_call_fds = MAX(srv->max_call_fds, info->procs[i].max_fds);
}

gpointer
sv_server_get_program_data(SvServer *srv, const SvProgramInfo *info)
{
    for (guint i = 0; i < srv->programs->len; i++) {
        SvServerProgram *p = &g_array_index(srv->programs, SvServerProgram, i);
        if (p->info == info)
            return p->data;
    }
    return NULL;
}

guint
sv_server_n_clients(SvServer *srv)
{
    return srv->clients.length;
}

SvClient *
sv_server_lookup_client(SvServer *srv, guint64 id)
{
    for (GList *l = srv->clients.head; l; l = l->next) {
        SvClient *c = l->data;
        if (c->id == id && !c->closed)
            return c;
    }
    return NULL;
}

void
sv_server_set_user_data(SvServer *srv, gpointer data)
{
    srv->user_data = data;
}

gpointer
sv_server_get_user_data(SvServer *srv)
{
    return srv->user_data;
}

void
sv_server_set_clients_changed(SvServer *srv, void (*fn)(SvServer *, gpointer), gpointer data)
{
    srv->clients_changed = fn;
    srv->clients_changed_data = data;
}

void
sv_server_set_client_closed(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data)
{
    srv->client_closed = fn;
    srv->client_closed_data = data;
}

void
sv_server_foreach_client(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data)
{
    /* A callback may close clients: walk a snapshot holding references. */
    g_autoptr(GPtrArray) snap = g_ptr_array_new_with_free_func((GDestroyNotify)sv_client_unref);

    for (GList *l = srv->clients.head; l; l = l->next)
        g_ptr_array_add(snap, sv_client_ref(l->data));
    for (guint i = 0; i < snap->len; i++) {
        SvClient *c = snap->pdata[i];
        if (!c->closed)
            fn(c, data);
    }
}
