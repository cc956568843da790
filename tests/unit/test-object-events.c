/* test-object-events.c: an object family's event registrations (programs/object_events.c)
 * on real connections of a server: callback ids, one-object filters, libvirt's errors, the
 * per-connection limit, and who an event goes to. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/object_events.h"
#include "util/error.h"

static SvObjectEvents fam = SV_OBJECT_EVENTS_INIT("test", 2);
static SvObjectEvents quirky = {
    .key = {"quirky", SV_ATTACH_LEVEL_DRIVER},
    .family = "secret",
    .deregister_family = "node device",
    .n_event_ids = 1,
    .next_callback_id = 1,
};

typedef struct {
    SvServer *srv;
    SvClient *c[3]; /* two open connections, one not open */
    int fd[3];
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    SvServerConfig cfg;

    (void)data;
    sv_server_config_init(&cfg);
    f->srv = sv_server_new("test", &cfg);
    for (int i = 0; i < 3; i++) {
        int sv[2];
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
        f->fd[i] = sv[0];
        f->c[i] = sv_client_ref(sv_server_add_client_fd(f->srv, sv[1], FALSE));
        if (i < 2)
            sv_client_mark_open(f->c[i]);
    }
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    for (int i = 0; i < 3; i++)
        close(f->fd[i]);
    sv_server_free(f->srv);
    for (int i = 0; i < 3; i++)
        sv_client_unref(f->c[i]);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static Fixture *current;

/* "cI:ID" for each send, in the order made. */
static void
record(SvClient *c, int callback_id, gpointer data)
{
    GString *log = data;

    for (int i = 0; i < 3; i++) {
        if (current->c[i] == c)
            g_string_append_printf(log, "c%d:%d;", i, callback_id);
    }
}

static char *
emit(Fixture *f, int event_id, const char *object)
{
    GString *log = g_string_new(NULL);

    current = f;
    sv_object_events_emit(&fam, f->srv, event_id, object, record, log);
    return g_string_free(log, FALSE);
}

static void
expect_error(GError *error, const char *message)
{
    g_assert_error(error, sv_error_quark(SV_FROM_RPC), SV_ERR_INTERNAL_ERROR);
    g_assert_true(g_str_has_prefix(error->message, "internal error: "));
    g_assert_cmpstr(error->message + strlen("internal error: "), ==, message);
}

static void
test_register_and_emit(Fixture *f, gconstpointer data)
{
    int any0, one1, other0, notopen0, base;

    (void)data;
    base = fam.next_callback_id;
    any0 = sv_object_events_register(&fam, f->c[0], 0, NULL, NULL);
    one1 = sv_object_events_register(&fam, f->c[0], 1, "dev1", NULL);
    other0 = sv_object_events_register(&fam, f->c[1], 0, "dev2", NULL);
    notopen0 = sv_object_events_register(&fam, f->c[2], 0, NULL, NULL);
    /* the daemon's ids, counted across connections */
    g_assert_cmpint(any0, ==, base);
    g_assert_cmpint(one1, ==, base + 1);
    g_assert_cmpint(other0, ==, base + 2);
    g_assert_cmpint(notopen0, ==, base + 3);
    {
        g_autofree char *a = emit(f, 0, "dev1");
        g_autofree char *b = emit(f, 1, "dev1");
        g_autofree char *c = emit(f, 1, "dev2");
        g_autofree char *want_a = g_strdup_printf("c0:%d;", any0);
        g_autofree char *want_b = g_strdup_printf("c0:%d;", one1);

        /* a connection not open hears nothing; a filter names its one object */
        g_assert_cmpstr(a, ==, want_a);
        g_assert_cmpstr(b, ==, want_b);
        g_assert_cmpstr(c, ==, "");
    }
    {
        g_autofree char *d = emit(f, 0, "dev2");
        g_autofree char *w1 = g_strdup_printf("c0:%d;c1:%d;", any0, other0);
        g_autofree char *w2 = g_strdup_printf("c1:%d;c0:%d;", other0, any0);

        g_assert_true(g_str_equal(d, w1) || g_str_equal(d, w2));
    }
}

static void
test_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
    g_autofree char *want = NULL;
    int id;

    (void)data;
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], -1, NULL, &e1), ==, -1);
    expect_error(e1, "unsupported test event ID -1");
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 2, NULL, &e2), ==, -1);
    expect_error(e2, "unsupported test event ID 2");
    id = sv_object_events_register(&fam, f->c[0], 1, NULL, NULL);
    /* another connection's id is not one's own */
    g_assert_false(sv_object_events_deregister(&fam, f->c[1], id, &e3));
    want = g_strdup_printf("test event callback %d not registered", id);
    expect_error(e3, want);
    g_assert_true(sv_object_events_deregister(&fam, f->c[0], id, NULL));
    g_assert_false(sv_object_events_deregister(&fam, f->c[0], id, &e4));
    g_assert_nonnull(e4);
    /* never reused */
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 1, NULL, NULL), ==, id + 1);
    g_assert_false(sv_object_events_deregister(&quirky, f->c[0], 5, &e5));
    expect_error(e5, "node device event callback 5 not registered");
}

static void
test_limit(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    for (int i = 0; i < SV_OBJECT_EVENTS_MAX; i++) {
        g_autofree char *object = g_strdup_printf("dev%d", i);
        g_assert_cmpint(sv_object_events_register(&fam, f->c[1], 0, object, NULL), >=, 0);
    }
    g_assert_cmpint(sv_object_events_register(&fam, f->c[1], 0, NULL, &error), ==, -1);
    expect_error(error, "too many test event registrations");
    /* the limit is per connection */
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 0, NULL, NULL), >=, 0);
}

static void
test_duplicate(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    int any, next;

    (void)data;
    any = sv_object_events_register(&fam, f->c[0], 0, NULL, NULL);
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 1, NULL, NULL), ==, any + 1);
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 0, "dev1", NULL), ==, any + 2);
    /* the same event id and object on one connection: libvirt's refusal, no id used up */
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 0, NULL, &error), ==, -1);
    g_assert_error(error, sv_error_quark(SV_FROM_NONE), SV_ERR_INVALID_ARG);
    g_assert_cmpstr(error->message, ==, "invalid argument: event callback already tracked");
    g_clear_error(&error);
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 0, "dev1", &error), ==, -1);
    /* another connection may */
    next = sv_object_events_register(&fam, f->c[1], 0, NULL, NULL);
    g_assert_cmpint(next, ==, any + 3);
    /* once deregistered, again */
    g_assert_true(sv_object_events_deregister(&fam, f->c[0], any, NULL));
    g_assert_cmpint(sv_object_events_register(&fam, f->c[0], 0, NULL, NULL), ==, next + 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/object-events/register-and-emit", Fixture, NULL, setup, test_register_and_emit,
               teardown);
    g_test_add("/object-events/errors", Fixture, NULL, setup, test_errors, teardown);
    g_test_add("/object-events/limit", Fixture, NULL, setup, test_limit, teardown);
    g_test_add("/object-events/duplicate", Fixture, NULL, setup, test_duplicate, teardown);
    return g_test_run();
}
