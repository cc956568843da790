/* listener.c: listening sockets, the client limits, and accepting without spinning.
 *
 * Read-write and read-only sockets have separate limits (max_clients and
 * max_readonly_clients), so users who can only reach the read-only socket never take
 * the slots root needs. A client over its limit is accepted and answered once, its
 * first call getting an error that names the limit, then closed: libvirt leaves it in
 * the listen backlog instead, where it waits without knowing why. At most
 * REFUSED_MAX such clients are held at once, each for REFUSED_TIMEOUT_S at most;
 * beyond that a connection is closed as soon as it is accepted.
 *
 * When accept() fails for want of descriptors (or memory), the listeners stop being
 * watched until a client of this server goes away, or ACCEPT_RETRY_MS passes: one log
 * line per episode (until the backlog is empty again), never a loop calling accept()
 * again at once. */
#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/server-internal.h"
#include "util/error.h"

#define ACCEPT_BATCH 64        /* connections accepted per wake-up before others run */
#define ACCEPT_RETRY_MS 1000   /* paused listeners retry this often on their own */
#define REFUSED_MAX 16         /* refused clients held at once to hear why */
#define REFUSED_TIMEOUT_S 5    /* a refused client that sends no call is closed then */
#define REFUSED_MAX_MESSAGE 65536

struct SvListener {
    SvServer *srv;
    int fd;
    gboolean readonly;
    SvTransportKind transport;
    SvTlsContext *tls; /* TLS listeners: the server's credentials */
    SvAuth auth;       /* what its clients must pass before their calls are served */
    GSource *source;   /* NULL while paused */
};

static gboolean listener_ready(gint fd, GIOCondition cond, gpointer data);

static void
listener_watch(SvListener *l)
{
    if (l->source)
        return;
    l->source = g_unix_fd_source_new(l->fd, G_IO_IN);
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))listener_ready, l, NULL);
    g_source_attach(l->source, NULL);
}

static void
listener_unwatch(SvListener *l)
{
    if (!l->source)
        return;
    g_source_destroy(l->source);
    g_clear_pointer(&l->source, g_source_unref);
}

static void
listener_free(SvListener *l)
{
    listener_unwatch(l);
    close(l->fd);
    sv_tls_context_unref(l->tls);
    g_free(l);
}

/* ---------------------------------------------------------------- descriptors */

static void
accept_resume(SvServer *srv)
{
    if (!srv->accept_paused)
        return;
    srv->accept_paused = FALSE;
    if (srv->accept_retry)
        g_source_remove(srv->accept_retry);
    srv->accept_retry = 0;
    for (guint i = 0; i < srv->listeners->len; i++)
        listener_watch(srv->listeners->pdata[i]);
}

static gboolean
accept_retry(gpointer data)
{
    SvServer *srv = data;

    srv->accept_retry = 0;
    accept_resume(srv);
    return G_SOURCE_REMOVE;
}

static void
accept_pause(SvServer *srv, int err)
{
    if (!srv->accept_episode)
        g_warning("%s: cannot accept connections: %s (%u clients connected); not accepting "
                  "until a descriptor is free", srv->name, g_strerror(err), srv->clients.length);
    srv->accept_episode = TRUE;
    srv->accept_paused = TRUE;
    for (guint i = 0; i < srv->listeners->len; i++)
        listener_unwatch(srv->listeners->pdata[i]);
    if (!srv->accept_retry)
        srv->accept_retry = g_timeout_add(ACCEPT_RETRY_MS, accept_retry, srv);
}

void
sv_listeners_fd_released(SvServer *srv)
{
    accept_resume(srv);
}

/* ---------------------------------------------------------------- limits */

static SvSlot
slot_of(gboolean readonly)
{
    return readonly ? SV_SLOT_RO : SV_SLOT_RW;
}

static gboolean
admit(SvServer *srv, SvSlot slot, GError **error)
{
    static const char *const what[] = {"clients", "read-only clients"};
    static const char *const key[] = {"max_clients", "max_readonly_clients"};
    guint limit = slot == SV_SLOT_RO ? srv->cfg.max_readonly_clients : srv->cfg.max_clients;

    if (srv->n_slot[slot] < limit) {
        srv->limit_logged[slot] = FALSE;
        return TRUE;
    }
    sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC,
                 "Too many active %s (%s = %u), dropping connection", what[slot], key[slot],
                 limit);
    /* Once until a client of that kind is admitted again: a flood is one line. */
    if (!srv->limit_logged[slot])
        g_message("%s: refusing %s over %s (%u)", srv->name, what[slot], key[slot], limit);
    srv->limit_logged[slot] = TRUE;
    return FALSE;
}

/* A client that must authenticate first counts against max_anonymous_clients until it has
 * (libvirt stops accepting instead, leaving it in the backlog without a word). */
static gboolean
admit_anonymous(SvServer *srv, SvAuth auth, GError **error)
{
    guint limit = srv->cfg.max_anonymous_clients;

    if (auth == SV_AUTH_NONE || sv_server_n_unauth_clients(srv) < limit)
        return TRUE;
    sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC,
                 "Too many active unauthenticated clients (max_anonymous_clients = %u), "
                 "dropping connection", limit);
    return FALSE;
}

static gboolean
refused_expired(gpointer data)
{
    SvClient *c = data;

    c->ka_timer = 0;
    sv_client_close(c, "refused client sent no call");
    return G_SOURCE_REMOVE;
}

/* Hold a client over its limit just long enough to tell it why. */
static void
refuse(SvServer *srv, int fd, gboolean readonly, GError *why)
{
    SvClient *c;

    if (srv->refused.length >= REFUSED_MAX) {
        close(fd);
        g_error_free(why);
        return;
    }
    c = sv_client_new_internal(srv, fd, readonly, SV_SLOT_LAST, why, REFUSED_MAX_MESSAGE);
    c->ka_timer = g_timeout_add_seconds(REFUSED_TIMEOUT_S, refused_expired, c);
}

/* ---------------------------------------------------------------- accept */

static gboolean
listener_ready(gint fd, GIOCondition cond, gpointer data)
{
    SvListener *l = data;
    SvServer *srv = l->srv;

    (void)cond;
    for (int n = 0; n < ACCEPT_BATCH && !srv->accept_paused; n++) {
        GError *why = NULL;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        SvClient *c;

        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN) {
                accept_pause(srv, errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
            } else if (srv->accept_episode) {
                /* Every waiting connection taken: the episode is over. */
                g_debug("%s: accepting connections again", srv->name);
                srv->accept_episode = FALSE;
            }
            break;
        }
        if (!admit(srv, slot_of(l->readonly), &why) || !admit_anonymous(srv, l->auth, &why)) {
            if (l->transport == SV_TRANSPORT_UNIX) {
                refuse(srv, cfd, l->readonly, why);
            } else {
                /* No frame can reach it before a handshake: closed at once. */
                close(cfd);
                g_error_free(why);
            }
            continue;
        }
        if (l->transport == SV_TRANSPORT_UNIX)
            c = sv_client_new_internal(srv, cfd, l->readonly, slot_of(l->readonly), NULL, 0);
        else
            c = sv_client_new_net(srv, cfd, slot_of(FALSE), l->tls);
        if (c)
            c->auth = l->auth;
    }
    return G_SOURCE_CONTINUE;
}

void
sv_server_add_listener(SvServer *srv, int fd, gboolean readonly)
{
    SvListener *l = g_new0(SvListener, 1);

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    l->fd = fd;
    l->readonly = readonly;
    l->srv = srv;
    if (!srv->accept_paused)
        listener_watch(l);
    g_ptr_array_add(srv->listeners, l);
}

void
sv_server_add_listener_net(SvServer *srv, int fd, SvTlsContext *tls)
{
    SvListener *l;

    sv_server_add_listener(srv, fd, FALSE);
    l = g_ptr_array_index(srv->listeners, srv->listeners->len - 1);
    l->transport = tls ? SV_TRANSPORT_TLS : SV_TRANSPORT_TCP;
    l->tls = tls ? sv_tls_context_ref(tls) : NULL;
}

void
sv_server_set_listener_auth(SvServer *srv, int fd, SvAuth auth)
{
    for (guint i = 0; i < srv->listeners->len; i++) {
        SvListener *l = srv->listeners->pdata[i];
        if (l->fd == fd)
            l->auth = auth;
    }
}

void
sv_server_close_listeners(SvServer *srv)
{
    for (guint i = 0; i < srv->listeners->len; i++)
        listener_free(srv->listeners->pdata[i]);
    g_ptr_array_set_size(srv->listeners, 0);
    srv->accept_paused = FALSE;
    if (srv->accept_retry)
        g_source_remove(srv->accept_retry);
    srv->accept_retry = 0;
}

void
sv_listeners_free(SvServer *srv)
{
    sv_server_close_listeners(srv);
    g_ptr_array_unref(srv->listeners);
}

gboolean
sv_server_serves_readonly(SvServer *srv)
{
    for (guint i = 0; i < srv->listeners->len; i++) {
        if (((SvListener *)srv->listeners->pdata[i])->readonly)
            return TRUE;
    }
    return FALSE;
}

guint64
sv_server_adopt_client(SvServer *srv, int fd, gboolean readonly, gboolean keepalive,
                       const guint8 *input, gsize len, GError **error)
{
    SvClient *c;
    guint64 id;

    if (!admit(srv, slot_of(readonly), error))
        return 0;
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    c = sv_client_new_internal(srv, fd, readonly, slot_of(readonly), NULL, 0);
    id = c->id;
    if (keepalive)
        sv_client_start_keepalive(c);
    sv_client_feed(c, input, len);
    /* The client may be gone when this returns (it hung up meanwhile). */
    if (sv_frame_reader_pending(c->reader))
        sv_client_process(c);
    return id;
}

/* ---------------------------------------------------------------- limits, for admin */

guint
sv_server_get_max_clients(SvServer *srv)
{
    return srv->cfg.max_clients;
}

guint
sv_server_get_max_readonly_clients(SvServer *srv)
{
    return srv->cfg.max_readonly_clients;
}

guint
sv_server_get_max_anonymous_clients(SvServer *srv)
{
    return srv->cfg.max_anonymous_clients;
}

guint
sv_server_n_readonly_clients(SvServer *srv)
{
    return srv->n_slot[SV_SLOT_RO];
}

void
sv_server_set_client_limits(SvServer *srv, guint max_clients, guint max_anonymous_clients)
{
    srv->cfg.max_clients = max_clients;
    srv->cfg.max_anonymous_clients = max_anonymous_clients;
}

void
sv_server_set_max_readonly_clients(SvServer *srv, guint max)
{
    srv->cfg.max_readonly_clients = max;
}
