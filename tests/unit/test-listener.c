/* test-listener.c: listening sockets (listener.c): separate limits for read-write and
 * read-only sockets, refused clients told why and bounded, and accept() at the
 * descriptor limit without spinning. */
#include "rpc-test.h"

#include <stdlib.h>
#include <sys/resource.h>

#include "programs/remote.h"
#include "protocol/sv_remote.h"
#include "util/error.h"

typedef struct {
    SvServer *srv;
    SvRemoteHandlers handlers;
    char *dir;
    char *rw_path;
    char *ro_path;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    SvServerConfig cfg;

    (void)data;
    sv_server_config_init(&cfg);
    cfg.max_clients = 2;
    cfg.max_readonly_clients = 1;
    cfg.keepalive_interval = 0;
    f->srv = sv_server_new("test", &cfg);
    sv_remote_common_handlers(&f->handlers);
    sv_remote_serve(f->srv, &f->handlers, NULL);
    f->dir = g_dir_make_tmp("sv-listener-XXXXXX", NULL);
    f->rw_path = g_build_filename(f->dir, "sock", NULL);
    f->ro_path = g_build_filename(f->dir, "sock-ro", NULL);
    sv_server_add_listener(f->srv, rpc_test_listen_on(f->rw_path), FALSE);
    sv_server_add_listener(f->srv, rpc_test_listen_on(f->ro_path), TRUE);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    sv_server_free(f->srv);
    rpc_test_spin(0);
    unlink(f->rw_path);
    unlink(f->ro_path);
    rmdir(f->dir);
    g_free(f->rw_path);
    g_free(f->ro_path);
    g_free(f->dir);
}

/* AUTH_LIST on a fresh connection: NULL when answered OK, else the error. */
static GError *
auth_list(int sock)
{
    g_autofree SvMsg *m = rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, SV_NET_CALL, 0,
                                         NULL, NULL, -1);
    g_autoptr(GBytes) r = NULL;
    SvHeader h;

    rpc_test_send(sock, m->data, m->len, NULL, 0);
    r = rpc_test_recv(sock, 2000);
    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    return h.status == SV_NET_OK ? NULL : rpc_test_error(r);
}

static int
admitted(Fixture *f, const char *path)
{
    int fd = rpc_test_connect_to(path);
    GError *e = auth_list(fd);

    g_assert_no_error(e);
    (void)f;
    return fd;
}

static void
refused(const char *path, const char *message)
{
    int fd = rpc_test_connect_to(path);
    g_autoptr(GError) e = auth_list(fd);

    g_assert_nonnull(e);
    g_assert_cmpint(e->code, ==, SV_ERR_RPC);
    g_assert_cmpstr(e->message, ==, message);
    g_assert_true(rpc_test_wait_eof(fd, 2000));
    close(fd);
}

/* max_clients counts read-write clients, max_readonly_clients read-only ones: a full
 * read-only socket leaves root's slots alone, and a client over a limit hears which. */
static void
test_limits(Fixture *f, gconstpointer d)
{
    int ro, rw1, rw2;

    (void)d;
    ro = admitted(f, f->ro_path);
    refused(f->ro_path,
            "Too many active read-only clients (max_readonly_clients = 1), dropping connection");
    rw1 = admitted(f, f->rw_path);
    rw2 = admitted(f, f->rw_path);
    refused(f->rw_path, "Too many active clients (max_clients = 2), dropping connection");
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, 3);
    g_assert_cmpuint(sv_server_n_readonly_clients(f->srv), ==, 1);
    /* A slot freed is taken by the next client. */
    close(ro);
    rpc_test_spin(50);
    close(admitted(f, f->ro_path));
    close(rw1);
    close(rw2);
}

/* Refused clients that send nothing are held to be answered only up to a bound; beyond
 * it a connection is closed as soon as it is accepted. */
static void
test_refused_bounded(Fixture *f, gconstpointer d)
{
    int ro, silent[40], open_ = 0;

    (void)d;
    ro = admitted(f, f->ro_path);
    for (int i = 0; i < 40; i++)
        silent[i] = rpc_test_connect_to(f->ro_path);
    rpc_test_spin(200);
    for (int i = 0; i < 40; i++) {
        open_ += !rpc_test_wait_eof(silent[i], 1);
        close(silent[i]);
    }
    g_assert_cmpint(open_, >, 0);
    g_assert_cmpint(open_, <=, 16);
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, 1);
    close(ro);
}

static guint n_warnings;

static GLogWriterOutput
count_warnings(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    (void)fields;
    (void)n;
    (void)data;
    if (level & G_LOG_LEVEL_WARNING)
        n_warnings++;
    return G_LOG_WRITER_HANDLED;
}

/* Loop iterations in ms milliseconds, each waiting for something to do. */
static guint
iterations(int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    guint n = 0;

    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE) ? n++ : g_usleep(1000);
    }
    return n;
}

static void
emfile_run(Fixture *f)
{
    struct rlimit rl;
    int spare[64], n_spare = 0, clients[8];
    guint spins;

    g_log_set_writer_func(count_warnings, NULL, NULL);
    sv_server_set_client_limits(f->srv, 100, 20);
    rpc_test_spin(0);
    for (int i = 0; i < 8; i++)
        clients[i] = rpc_test_connect_to(f->rw_path);
    /* Exactly two descriptors left for the server: take every other, give two back. */
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    rl.rlim_cur = MIN(rl.rlim_cur, (rlim_t)dup(0) + 48);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    while ((spare[n_spare] = dup(0)) >= 0)
        g_assert_cmpint(++n_spare, <, 64);
    close(spare[--n_spare]);
    close(spare[--n_spare]);
    /* Two are accepted, then accept() fails with EMFILE: one warning, then quiet. */
    spins = iterations(500);
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, 2);
    g_assert_cmpuint(n_warnings, ==, 1);
    g_assert_cmpuint(spins, <, 50);
    /* A client leaves: its two descriptors (ours and the server's) let the next two in,
     * and the listener rests again without another warning. */
    close(clients[0]);
    spins = iterations(500);
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, 3);
    g_assert_cmpuint(n_warnings, ==, 1);
    g_assert_cmpuint(spins, <, 50);
    /* More room: the rest come in (the retry timer, at the latest). */
    while (n_spare)
        close(spare[--n_spare]);
    iterations(1500);
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, 7);
    for (int i = 1; i < 8; i++)
        close(clients[i]);
}

/* Out of descriptors, the listener is not watched until one is free (it used to be
 * called again at once: a core and ~100,000 log lines a second). In a subprocess, which
 * may lower its own RLIMIT_NOFILE. */
static void
test_emfile(Fixture *f, gconstpointer d)
{
    (void)d;
    if (g_test_subprocess()) {
        emfile_run(f);
        return;
    }
    g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
    ADD("/listener/limits", test_limits);
    ADD("/listener/refused-bounded", test_refused_bounded);
    ADD("/listener/emfile", test_emfile);
    return g_test_run();
}
