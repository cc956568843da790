/* test-xl-ctx.c: libxl's context on a GMainLoop (xen_ctx.c), driven by the fake libxl
 * (tests/fake-libxl/fake_libxl.c, linked into this test): asynchronous completions come
 * from the loop and never from inside the call that started them, timeouts and fds are
 * GSources, events keep libxl's order, and teardown with work in flight leaks nothing. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "util/error.h"
#include "xen_ctx.h"

typedef struct {
    GPtrArray *log; /* "done RC", "shutdown REASON USER", "death USER" */
} Record;

static void
on_event(const libxl_event *ev, gpointer user)
{
    Record *r = user;

    if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
        g_ptr_array_add(r->log,
                        g_strdup_printf("shutdown %d %" G_GUINT64_FORMAT,
                                        ev->u.domain_shutdown.shutdown_reason, ev->for_user));
    else if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH)
        g_ptr_array_add(r->log, g_strdup_printf("death %" G_GUINT64_FORMAT, ev->for_user));
}

static void
on_done(int rc, gpointer data)
{
    Record *r = data;

    g_ptr_array_add(r->log, g_strdup_printf("done %d", rc));
}

/* Run the default context until the log has n entries (at most 5 s). */
static void
run_until(Record *r, guint n)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (r->log->len < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, TRUE);
    }
}

static char *
joined(Record *r)
{
    g_ptr_array_add(r->log, NULL);
    char *s = g_strjoinv(", ", (char **)r->log->pdata);
    g_ptr_array_remove_index(r->log, r->log->len - 1);
    return s;
}

/* The fake's state directory is two levels deep at most. */
static void
remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *e;

        while (d && (e = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, e, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static void
config_init(libxl_domain_config *c, const char *name)
{
    libxl_domain_config_init(c);
    c->c_info.type = LIBXL_DOMAIN_TYPE_PV;
    c->c_info.name = strdup(name);
    libxl_domain_build_info_init_type(&c->b_info, LIBXL_DOMAIN_TYPE_PV);
}

static void
test_lifecycle(void)
{
    g_autofree char *dir = g_dir_make_tmp("xl-ctx-XXXXXX", NULL);
    g_autofree char *ctl = g_build_filename(dir, "ctl", NULL);
    Record r = {g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(GError) error = NULL;
    XenCtx *x;
    libxl_domain_config c;
    libxl_evgen_domain_death *gen = NULL;
    uint32_t domid = 0;
    g_autofree char *log = NULL;
    int fd;

    g_setenv("SV_FAKE_LIBXL_DIR", dir, TRUE);
    g_setenv("SV_FAKE_LIBXL_DELAY_MS", "10", TRUE);
    x = xen_ctx_new(on_event, &r, &error);
    g_assert_no_error(error);
    config_init(&c, "one");
    g_assert_cmpint(libxl_domain_create_new(xen_ctx_get(x), &c, &domid,
                                            xen_ctx_ao(x, on_done, &r), NULL),
                    ==, 0);
    /* Started, not finished: the completion comes from the loop. */
    g_assert_cmpuint(r.log->len, ==, 0);
    run_until(&r, 1);
    g_assert_cmpstr(r.log->pdata[0], ==, "done 0");
    g_assert_cmpuint(domid, ==, 1);
    libxl_domain_config_dispose(&c);

    /* The guest powers off: the fake's FIFO is watched through the fd hook. */
    g_assert_cmpint(libxl_evenable_domain_death(xen_ctx_get(x), domid, 42, &gen), ==, 0);
    fd = open(ctl, O_WRONLY | O_NONBLOCK);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "poweroff 1\n", 11), ==, 11);
    close(fd);
    run_until(&r, 2);
    /* Reaped: DOMAIN_DEATH comes before the destroy's completion, as libxl ordered them. */
    g_assert_cmpint(libxl_domain_destroy(xen_ctx_get(x), domid, xen_ctx_ao(x, on_done, &r)),
                    ==, 0);
    run_until(&r, 4);
    log = joined(&r);
    g_assert_cmpstr(log, ==, "done 0, shutdown 0 42, death 42, done 0");
    libxl_evdisable_domain_death(xen_ctx_get(x), gen);

    /* A call that fails at once is never reported: its record is cancelled. */
    {
        const libxl_asyncop_how *how = xen_ctx_ao(x, on_done, &r);
        g_assert_cmpint(libxl_domain_destroy(xen_ctx_get(x), 99, how), !=, 0);
        xen_ctx_ao_cancel(x, how);
    }

    /* Freed with a create in flight: nothing runs afterwards, nothing leaks. */
    config_init(&c, "two");
    g_assert_cmpint(libxl_domain_create_new(xen_ctx_get(x), &c, &domid,
                                            xen_ctx_ao(x, on_done, &r), NULL),
                    ==, 0);
    xen_ctx_free(x);
    libxl_domain_config_dispose(&c);
    for (int i = 0; i < 5; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(r.log->len, ==, 4);
    g_ptr_array_unref(r.log);
    g_unsetenv("SV_FAKE_LIBXL_DIR");
    remove_tree(dir);
}

static void
test_no_hypervisor(void)
{
    g_autoptr(GError) error = NULL;
    XenCtx *x;

    g_unsetenv("SV_FAKE_LIBXL_DIR");
    x = xen_ctx_new(on_event, NULL, &error);
    g_assert_null(x);
    g_assert_error(error, sv_error_quark(SV_FROM_LIBXL), SV_ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "operation failed: cannot initialize libxenlight (error -3)");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xl-ctx/lifecycle", test_lifecycle);
    g_test_add_func("/xl-ctx/no-hypervisor", test_no_hypervisor);
    return g_test_run();
}
