/* test-family-relay.c: a hypervisor daemon's relay to the secondary drivers' daemons
 * (programs/family_relay.c), in one process: server H relays a test program's secondary
 * procedures to server F, a stand-in family daemon listening on RUN/virtsecretd-sock and
 * RUN/virtstoraged-sock, which answers the remote program's open sequence. A client on a
 * socketpair to H sees calls answered with F's replies under its own serials, a stream's
 * frames both ways (no stream procedure of the remote program is relayed yet: storage
 * volumes' upload and download will be), and libvirt's errors when F is not there or goes
 * away with a call in flight. */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "programs/family_relay.h"
#include "programs/remote.h"
#include "rpc-test.h"
#include "util/error.h"

#define TEST_PROGRAM 0x7e570001

enum { PROC_PRIMARY = 1, PROC_SECRETISH = 2, PROC_HOLD = 3, PROC_STREAMY = 4 };

typedef struct {
    gboolean (*primary)(SvCall *call, GError **error);
    gboolean (*secretish)(SvCall *call, GError **error);
    gboolean (*hold)(SvCall *call, GError **error);
    gboolean (*streamy)(SvCall *call, GError **error);
} Handlers;

#define INVOKE(field)                                                                             \
    static gboolean invoke_##field(const void *h, SvCall *call, void *args, void *ret,            \
                                   GError **error)                                                \
    {                                                                                             \
        (void)args, (void)ret;                                                                    \
        return ((const Handlers *)h)->field(call, error);                                         \
    }
INVOKE(primary)
INVOKE(secretish)
INVOKE(hold)
INVOKE(streamy)

#define ENTRY(num, name, flags, field, family)                                                    \
    {num, name, "vir" name, (xdrproc_t)sv_xdr_void, 0, (xdrproc_t)sv_xdr_void, 0,                \
     SV_PROC_NOOPEN | SV_PROC_RO | (flags), 0, offsetof(Handlers, field), invoke_##field, family}

static const SvProcInfo procs[] = {
    ENTRY(PROC_PRIMARY, "Primary", 0, primary, SV_PROC_FAMILY_PRIMARY),
    ENTRY(PROC_SECRETISH, "Secretish", 0, secretish, SV_PROC_FAMILY_SECRET),
    ENTRY(PROC_HOLD, "Hold", 0, hold, SV_PROC_FAMILY_SECRET),
    ENTRY(PROC_STREAMY, "Streamy", SV_PROC_STREAM, streamy, SV_PROC_FAMILY_STORAGE),
};

static const SvProgramInfo program = {TEST_PROGRAM, 1, procs, G_N_ELEMENTS(procs)};

typedef struct {
    char *run;
    SvServer *h; /* the hypervisor daemon */
    SvServer *f; /* the family daemon */
    SvRemoteHandlers f_remote;
    int fd; /* the client's end */
    SvCall *held;
    char *opened;       /* the URI F was opened with */
    gint64 identity_pid; /* the pid F was told */
    GString *streamed;   /* stream bytes F received */
    SvClient *f_client;
} Fixture;

static Fixture *fx;

static gboolean
h_primary(SvCall *call, GError **error)
{
    (void)call, (void)error;
    return TRUE;
}

static gboolean
f_secretish(SvCall *call, GError **error)
{
    (void)call, (void)error;
    return TRUE;
}

static gboolean
f_hold(SvCall *call, GError **error)
{
    (void)error;
    fx->held = sv_call_defer(call);
    return TRUE;
}

static void
f_stream_in(SvClient *c, const SvHeader *h, const guint8 *payload, gsize len, gpointer data)
{
    (void)c, (void)h, (void)data;
    g_string_append_len(fx->streamed, (const char *)payload, len);
}

/* OK now, then the stream's first data: the reply is queued first, so it goes first. */
static gboolean
f_streamy(SvCall *call, GError **error)
{
    SvHeader h = *sv_call_get_header(call);
    SvCall *d = sv_call_defer(call);

    (void)error;
    fx->f_client = sv_call_get_client(d);
    sv_client_set_stream_handler(fx->f_client, f_stream_in, NULL);
    sv_call_reply(d, NULL);
    h.type = SV_NET_STREAM;
    h.status = SV_NET_CONTINUE;
    sv_client_send(fx->f_client, sv_msg_new_raw(&h, "abc", 3));
    return TRUE;
}

static gboolean
f_open(SvCall *call, remote_connect_open_args *a, GError **error)
{
    (void)call, (void)error;
    g_free(fx->opened);
    fx->opened = g_strdup_printf("%s flags %u", a->name ? *a->name : "", a->flags);
    return TRUE;
}

static gboolean
f_identity(SvCall *call, remote_connect_set_identity_args *a, GError **error)
{
    (void)call, (void)error;
    for (guint i = 0; i < a->params.params_len; i++) {
        if (g_str_equal(a->params.params_val[i].field, "process-id"))
            fx->identity_pid = a->params.params_val[i].value.remote_typed_param_value_u.l;
    }
    return TRUE;
}

static const Handlers h_handlers = {.primary = h_primary};
static const Handlers f_handlers = {.secretish = f_secretish, .hold = f_hold,
                                    .streamy = f_streamy};

static gboolean
relays(gpointer data, const SvProcInfo *p)
{
    return sv_family_relay_relays(data, p);
}

static void
relay(gpointer data, SvCall *call, const guint8 *frame, gsize len)
{
    sv_family_relay_call(data, call, frame, len);
}

static gboolean
relay_stream(gpointer data, SvClient *c, const guint8 *frame, gsize len)
{
    return sv_family_relay_stream(data, c, frame, len);
}

static const SvProgramHooks h_hooks = {.relays = relays, .relay = relay,
                                       .relay_stream = relay_stream};
static const SvProgramHooks f_hooks = {0};

static void
f_listen(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", fx->run, name);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 16), ==, 0);
    sv_server_add_listener(fx->f, fd, FALSE);
}

static void
setup(gboolean with_family)
{
    SvServerConfig cfg;
    int sp[2];

    fx = g_new0(Fixture, 1);
    fx->run = g_dir_make_tmp("sv-relay-XXXXXX", NULL);
    fx->streamed = g_string_new(NULL);
    sv_server_config_init(&cfg);
    fx->h = sv_server_new("h", &cfg);
    sv_server_add_program_hooks(fx->h, &program, &h_handlers, &h_hooks,
                                sv_family_relay_new(fx->run, SV_PROC_FAMILIES_SECONDARY),
                                (GDestroyNotify)sv_family_relay_free);
    fx->f = sv_server_new("f", &cfg);
    sv_server_add_program_hooks(fx->f, &program, &f_handlers, &f_hooks, NULL, NULL);
    sv_remote_common_handlers(&fx->f_remote);
    fx->f_remote.connect_open = f_open;
    fx->f_remote.connect_set_identity = f_identity;
    sv_remote_serve(fx->f, &fx->f_remote, NULL);
    if (with_family) {
        f_listen("virtsecretd-sock");
        f_listen("virtstoraged-sock");
    }
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), ==, 0);
    sv_server_add_client_fd(fx->h, sp[1], FALSE);
    fx->fd = sp[0];
}

static void
teardown(void)
{
    g_autofree char *a = g_strdup_printf("%s/virtsecretd-sock", fx->run);
    g_autofree char *b = g_strdup_printf("%s/virtstoraged-sock", fx->run);

    close(fx->fd);
    rpc_test_spin(50);
    sv_server_shutdown(fx->h);
    sv_server_shutdown(fx->f);
    sv_server_free(fx->h);
    sv_server_free(fx->f);
    unlink(a);
    unlink(b);
    g_assert_cmpint(rmdir(fx->run), ==, 0);
    g_free(fx->run);
    g_free(fx->opened);
    g_string_free(fx->streamed, TRUE);
    g_clear_pointer(&fx, g_free);
}

static void
send_frame(int proc, guint32 type, guint32 serial, guint32 status, const char *data)
{
    SvHeader h = {TEST_PROGRAM, 1, proc, type, serial, status};
    g_autofree SvMsg *m = sv_msg_new_raw(&h, data, data ? strlen(data) : 0);

    rpc_test_send(fx->fd, m->data, m->len, NULL, 0);
}

/* The next frame the client gets: its header, and its payload in *out (may be NULL). */
static SvHeader
recv_frame(GBytes **out)
{
    g_autoptr(GBytes) b = rpc_test_recv(fx->fd, 5000);
    SvHeader h;

    g_assert_nonnull(b);
    rpc_test_header(b, &h);
    if (out)
        *out = g_steal_pointer(&b);
    return h;
}

static void
expect_error(guint32 serial, int from, int code, const char *message)
{
    GBytes *b = NULL;
    SvHeader h = recv_frame(&b);
    g_autoptr(GError) e = NULL;

    g_assert_cmpuint(h.serial, ==, serial);
    g_assert_cmpuint(h.status, ==, SV_NET_ERROR);
    e = rpc_test_error(b);
    g_bytes_unref(b);
    g_assert_error(e, sv_error_quark(from), code);
    g_assert_cmpstr(e->message, ==, message);
}

static void
test_calls_relayed(void)
{
    SvHeader h;

    setup(TRUE);
    send_frame(PROC_SECRETISH, SV_NET_CALL, 41, SV_NET_OK, NULL);
    send_frame(PROC_PRIMARY, SV_NET_CALL, 42, SV_NET_OK, NULL);
    /* The primary call is answered at once; the relayed one once F is open. */
    h = recv_frame(NULL);
    g_assert_cmpuint(h.serial, ==, 42);
    h = recv_frame(NULL);
    g_assert_cmpuint(h.serial, ==, 41);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
    g_assert_cmpuint(h.type, ==, SV_NET_REPLY);
    g_assert_cmpstr(fx->opened, ==,
                    getuid() == 0 ? "secret:///system flags 0" : "secret:///session flags 0");
    g_assert_cmpint(fx->identity_pid, ==, getpid());
    teardown();
}

static void
test_stream_relayed(void)
{
    GBytes *b = NULL;
    SvHeader h;

    setup(TRUE);
    send_frame(PROC_STREAMY, SV_NET_CALL, 7, SV_NET_OK, NULL);
    h = recv_frame(NULL);
    g_assert_cmpuint(h.type, ==, SV_NET_REPLY);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
    h = recv_frame(&b);
    g_assert_cmpuint(h.type, ==, SV_NET_STREAM);
    g_assert_cmpuint(h.serial, ==, 7);
    g_assert_cmpuint(g_bytes_get_size(b), ==, SV_FRAME_MIN + 3);
    g_bytes_unref(b);
    send_frame(PROC_STREAMY, SV_NET_STREAM, 7, SV_NET_CONTINUE, "xyz");
    send_frame(PROC_STREAMY, SV_NET_STREAM, 9, SV_NET_CONTINUE, "not ours");
    rpc_test_spin(100);
    g_assert_cmpstr(fx->streamed->str, ==, "xyz");
    /* F goes away with the stream open: the client hears the stream ended. */
    sv_client_close(fx->f_client, "test");
    h = recv_frame(&b);
    g_assert_cmpuint(h.type, ==, SV_NET_STREAM);
    g_assert_cmpuint(h.status, ==, SV_NET_ERROR);
    g_bytes_unref(b);
    teardown();
}

static void
test_family_gone_mid_call(void)
{
    SvClient *fc;

    setup(TRUE);
    send_frame(PROC_HOLD, SV_NET_CALL, 3, SV_NET_OK, NULL);
    while (!fx->held)
        rpc_test_spin(10);
    fc = sv_call_get_client(fx->held);
    sv_client_close(fc, "test: the family daemon dies");
    expect_error(3, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                 "End of file while reading data: Input/output error");
    {
        GError *e = NULL;
        sv_error_set(&e, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "gone");
        sv_call_fail(g_steal_pointer(&fx->held), e);
    }
    /* The next call opens a new connection. */
    send_frame(PROC_SECRETISH, SV_NET_CALL, 4, SV_NET_OK, NULL);
    g_assert_cmpuint(recv_frame(NULL).status, ==, SV_NET_OK);
    teardown();
}

static void
test_family_missing(void)
{
    g_autofree char *msg = NULL;

    setup(FALSE);
    msg = g_strdup_printf("Failed to connect socket to '%s/virtsecretd-sock': "
                          "No such file or directory", fx->run);
    send_frame(PROC_SECRETISH, SV_NET_CALL, 5, SV_NET_OK, NULL);
    expect_error(5, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, msg);
    send_frame(PROC_PRIMARY, SV_NET_CALL, 6, SV_NET_OK, NULL);
    g_assert_cmpuint(recv_frame(NULL).status, ==, SV_NET_OK);
    teardown();
}

/* Only the families of its set are relayed; the primary never is. */
static void
test_family_set(void)
{
    SvFamilyRelay *r = sv_family_relay_new("/nonexistent",
                                           SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_SECRET) |
                                               SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_PRIMARY));

    g_assert_true(sv_family_relay_relays(r, &procs[1]));  /* secret */
    g_assert_true(sv_family_relay_relays(r, &procs[2]));  /* secret */
    g_assert_false(sv_family_relay_relays(r, &procs[3])); /* storage */
    g_assert_false(sv_family_relay_relays(r, &procs[0])); /* primary */
    g_assert_false(sv_family_relay_relays(NULL, &procs[1]));
    sv_family_relay_free(r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/family-relay/calls", test_calls_relayed);
    g_test_add_func("/family-relay/stream", test_stream_relayed);
    g_test_add_func("/family-relay/gone-mid-call", test_family_gone_mid_call);
    g_test_add_func("/family-relay/missing", test_family_missing);
    g_test_add_func("/family-relay/family-set", test_family_set);
    return g_test_run();
}
