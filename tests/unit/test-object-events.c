/* test-object-events.c: programs/object_events.c, the secondary drivers' event registrations
 * (as virtsecretd and virtstoraged use them), over a socketpair on the real loop: an unknown
 * event id refused, registrations for one object and for every object, the events each gets
 * with its callback id, a deregistration and the error for an unknown callback id. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/object_events.h"
#include "programs/remote.h"
#include "protocol/sv_remote.h"
#include "rpc-test.h"
#include "util/error.h"

static const SvObjectEvents test_events = {
    {"test event registrations", SV_ATTACH_LEVEL_DRIVER},
    "test",
    2,
};

static gboolean
t_open(SvCall *call, remote_connect_open_args *args, GError **error)
{
    (void)call;
    (void)args;
    (void)error;
    return TRUE;
}

/* The storage pool procedures stand in for any object's. */
static gboolean
t_register(SvCall *call, remote_connect_storage_pool_event_register_any_args *a,
           remote_connect_storage_pool_event_register_any_ret *ret, GError **error)
{
    return sv_object_events_register(call, &test_events, a->eventID,
                                     a->pool ? (const guint8 *)a->pool->uuid : NULL,
                                     &ret->callbackID, error);
}

static gboolean
t_deregister(SvCall *call, remote_connect_storage_pool_event_deregister_any_args *a,
             GError **error)
{
    return sv_object_events_deregister(call, &test_events, a->callbackID, error);
}

static void
t_send(SvClient *c, int callback_id, gpointer data)
{
    remote_storage_pool_event_refresh_msg m = {callback_id, *(remote_nonnull_storage_pool *)data};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH,
                         (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &m);
}

static int fd;
static guint32 serial;

static GBytes *
call(int proc, xdrproc_t filter, void *args)
{
    g_autofree SvMsg *m = rpc_test_frame(REMOTE_PROGRAM, proc, SV_NET_CALL, ++serial, filter,
                                         args, -1);

    rpc_test_send(fd, m->data, m->len, NULL, 0);
    return rpc_test_recv(fd, 2000);
}

static int
register_for(int event_id, remote_nonnull_storage_pool *pool, GError **error)
{
    remote_connect_storage_pool_event_register_any_args a = {event_id, pool};
    remote_connect_storage_pool_event_register_any_ret ret = {0};
    g_autoptr(GBytes) r = call(REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY,
                               (xdrproc_t)xdr_remote_connect_storage_pool_event_register_any_args,
                               &a);
    SvHeader h;
    gsize len;
    const guint8 *p = g_bytes_get_data(r, &len);

    rpc_test_header(r, &h);
    if (h.status != SV_NET_OK) {
        *error = rpc_test_error(r);
        return -1;
    }
    g_assert_true(sv_xdr_decode(p + 28, len - 28,
                                (xdrproc_t)xdr_remote_connect_storage_pool_event_register_any_ret,
                                &ret, NULL));
    return ret.callbackID;
}

/* The callback id of the next event, -1 when none comes within a while. */
static int
next_event(void)
{
    g_autoptr(GBytes) ev = rpc_test_recv(fd, 300);
    remote_storage_pool_event_refresh_msg m = {0};
    gsize len;
    const guint8 *p;
    int id;

    if (!ev)
        return -1;
    p = g_bytes_get_data(ev, &len);
    g_assert_true(sv_xdr_decode(p + 28, len - 28,
                                (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &m, NULL));
    id = m.callbackID;
    xdr_free((xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, (char *)&m);
    return id;
}

static void
test_registrations(void)
{
    SvServerConfig cfg;
    SvRemoteHandlers h, own = {.connect_open = t_open,
                               .connect_storage_pool_event_register_any = t_register,
                               .connect_storage_pool_event_deregister_any = t_deregister};
    remote_nonnull_storage_pool a = {"a", {1}}, b = {"b", {2}};
    char *uri = "test:///";
    remote_connect_open_args open_args = {&uri, 0};
    remote_connect_storage_pool_event_deregister_any_args dereg = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) r = NULL;
    g_autofree char *expected = NULL;
    SvServer *srv;
    int sv[2], one, every;

    sv_server_config_init(&cfg);
    srv = sv_server_new("test", &cfg);
    sv_remote_common_handlers(&h);
    sv_remote_handlers_overlay(&h, &own);
    sv_remote_serve(srv, &h, NULL);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    fd = sv[0];
    sv_server_add_client_fd(srv, sv[1], FALSE);
    g_clear_pointer(&r, g_bytes_unref);
    r = call(REMOTE_PROC_CONNECT_OPEN, (xdrproc_t)xdr_remote_connect_open_args, &open_args);

    g_assert_cmpint(register_for(2, NULL, &error), ==, -1);
    g_assert_cmpstr(error->message, ==, "internal error: unsupported test event ID 2");
    g_clear_error(&error);
    one = register_for(0, &a, &error);
    every = register_for(1, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(one, >, 0);
    g_assert_cmpint(every, >, one); /* never reused: they count up */

    sv_object_events_emit(srv, &test_events, 0, (const guint8 *)b.uuid, t_send, &b);
    g_assert_cmpint(next_event(), ==, -1); /* event 0 on another object */
    sv_object_events_emit(srv, &test_events, 0, (const guint8 *)a.uuid, t_send, &a);
    g_assert_cmpint(next_event(), ==, one);
    sv_object_events_emit(srv, &test_events, 1, (const guint8 *)b.uuid, t_send, &b);
    g_assert_cmpint(next_event(), ==, every);

    dereg.callbackID = one;
    g_clear_pointer(&r, g_bytes_unref);
    r = call(REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY,
             (xdrproc_t)xdr_remote_connect_storage_pool_event_deregister_any_args, &dereg);
    sv_object_events_emit(srv, &test_events, 0, (const guint8 *)a.uuid, t_send, &a);
    g_assert_cmpint(next_event(), ==, -1);
    g_clear_pointer(&r, g_bytes_unref);
    r = call(REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY,
             (xdrproc_t)xdr_remote_connect_storage_pool_event_deregister_any_args, &dereg);
    error = rpc_test_error(r);
    g_assert_cmpint(error->code, ==, SV_ERR_RPC);
    g_assert_cmpstr(error->message, ==, expected = g_strdup_printf(
                        "test event callback %d not registered", one));
    close(fd);
    sv_server_free(srv);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object-events/registrations", test_registrations);
    return g_test_run();
}
