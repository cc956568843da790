/* test-domain-reconnect.c: the one reconnect loop's decisions over a scratch run directory,
 * with a fake driver's facts (no process, socket or hypervisor): what is adopted and in
 * which state, what is carried on, what is stopped, cleaned up or set aside, and what is
 * removed. */
#include <string.h>
#include <unistd.h>

#include "domain-test.h"
#include "domain/domain_control.h"
#include "domain/domain_reconnect.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/error.h"
#include "warnings.h"


/* What the fake facts were asked, in order; the list of the test's driver, and the driver. */
static SvDomainList *sv_domain_test_list;
static SvDomainDriver *test_drv;
static GString *calls;

/* The fake hypervisor: what lives under a pid. */
static SvReconnectFound
fake_find(SvStatus *st, gpointer *ret_handle, gpointer data, GError **error)
{
    (void)data;
    g_string_append_printf(calls, "find %s;", st->def->name);
    switch (st->c.pid) {
    case 100:
        *ret_handle = GINT_TO_POINTER(st->c.pid);
        return SV_RECONNECT_LIVE;
    case 200:
        return SV_RECONNECT_GONE;
    case 300:
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "someone else's");
        return SV_RECONNECT_FOREIGN;
    default:
        return SV_RECONNECT_DROPPED;
    }
}

static void
fake_gone(const char *path, SvStatus *st, SvDomainObj *obj, gpointer data)
{
    (void)data;
    g_string_append_printf(calls, "gone %s%s;", st->def->name, obj ? " (defined)" : "");
    if (obj)
        obj->reason = SV_DOMAIN_SHUTOFF_CRASHED;
    g_assert_cmpint(unlink(path), ==, 0);
}

static void
fake_attach(SvDomainObj *obj, SvStatus *st, gpointer handle, gpointer data)
{
    (void)data;
    g_assert_cmpint(GPOINTER_TO_INT(handle), ==, st->c.pid);
    /* The state is the file's, and the run state as clients saw it, before the driver's. */
    g_assert_cmpint(obj->state, ==, st->c.state);
    g_assert_cmpint(obj->run_state, ==,
                    obj->state == SV_DOMAIN_PAUSED ? SV_RUN_PAUSED : SV_RUN_RUNNING);
    sv_domain_list_set_id(sv_domain_test_list, obj, 5); /* the driver's id */
    sv_domain_run_new(test_drv, obj, sizeof(SvDomainRun));
    g_string_append_printf(calls, "attach %s;", obj->def->name);
}

static void
fake_stop_unfinished(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    (void)st;
    (void)data;
    g_string_append_printf(calls, "stop %s;", obj->def->name);
}

static void
fake_carry_on(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    (void)data;
    g_string_append_printf(calls, "carry %s %s %" G_GINT64_FORMAT "%s;", obj->def->name,
                           sv_status_kill_to_string(st->c.kill_mode), st->c.kill_deadline,
                           sv_domain_run_of(obj)->autodestroy_client == SV_RUN_CLIENT_GONE
                               ? " autodestroy-client-gone"
                               : "");
}

static void
fake_finish(gboolean rejected, gpointer data)
{
    (void)data;
    g_string_append_printf(calls, "finish%s;", rejected ? "-rejected" : "");
}

static gboolean
fake_start(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    (void)obj, (void)call, (void)flags, (void)error;
    g_assert_not_reached();
    return FALSE;
}

static const SvReconnectFacts fake_facts = {
    .status = &test_status_style,
    .find = fake_find,
    .gone = fake_gone,
    .attach = fake_attach,
    .stop_unfinished = fake_stop_unfinished,
    .carry_on = fake_carry_on,
    .finish = fake_finish,
};

/* The calls grouped by domain (the walk's order is the directory's), in the order each
 * domain's came, domains by name, then the rest (finish). (transfer full) */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static char *
calls_by_domain(void)
{
    g_auto(GStrv) parts = g_strsplit(calls->str, ";", -1);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GString *out = g_string_new(NULL);
    GString *rest = g_string_new(NULL);

    for (guint i = 0; parts[i] && *parts[i]; i++) {
        g_auto(GStrv) w = g_strsplit(parts[i], " ", 3);
        if (!w[1])
            g_string_append_printf(rest, "%s;", parts[i]);
        else if (!g_ptr_array_find_with_equal_func(names, w[1], g_str_equal, NULL))
            g_ptr_array_add(names, g_strdup(w[1]));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint n = 0; n < names->len; n++) {
        for (guint i = 0; parts[i] && *parts[i]; i++) {
            g_auto(GStrv) w = g_strsplit(parts[i], " ", 3);
            if (w[1] && g_str_equal(w[1], names->pdata[n]))
                g_string_append_printf(out, "%s;", parts[i]);
        }
        g_free(names->pdata[n]);
    }
    g_string_append(out, rest->str);
    g_string_free(rest, TRUE);
    return g_string_free(out, FALSE);
}

/* A status file in dir for def, as the fake driver writes it. */
static char *
write_status(const char *dir, const SvDomainDef *def, const SvStatusCommon *c)
{
    g_autofree char *file = g_strconcat(def->name, ".xml", NULL);
    char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = sv_status_format(&test_status_style, c, NULL, def, 5);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static const SvGuestOps fake_guest = {.start = fake_start};
static const SvRunFacts fake_run_facts = {0};

typedef struct {
    char *dir;
    SvDomainList *list;
    SvDomainDriver drv;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    (void)data;
    f->dir = g_dir_make_tmp("sv-reconnect-XXXXXX", NULL);
    f->list = sv_domain_list_new();
    sv_domain_test_list = f->list;
    f->drv = (SvDomainDriver){.from = SV_FROM_QEMU, .list = f->list};
    f->drv.guest = &fake_guest;
    f->drv.run_facts = &fake_run_facts;
    test_drv = &f->drv;
    calls = g_string_new(NULL);
    g_ptr_array_set_size(test_warnings, 0);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *entry;

    (void)data;
    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(f->dir, entry, NULL);
        unlink(path);
    }
    g_assert_cmpint(rmdir(f->dir), ==, 0);
    g_free(f->dir);
    sv_domain_list_free(f->list);
    g_string_free(calls, TRUE);
}

static gboolean
exists(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* A live guest is adopted in its recorded state, the definition on disk deciding its
 * persistence, and its kill request goes on in its mode with its deadline; an AUTODESTROY
 * client recorded is one gone when the driver carries on. */
static void
test_adopt_and_carry(Fixture *f, gconstpointer data)
{
    g_autofree char *seen = NULL;
    SvDomainObj *web = test_domain_add(f->list, "web");
    SvStatusCommon c = {.state = SV_DOMAIN_PAUSED, .reason = SV_DOMAIN_PAUSED_USER,
                        .state_time = 1234, .pid = 100, .start_time = 7,
                        .kill_mode = SV_STATUS_KILL_GRACEFUL, .kill_deadline = 99};
    g_autofree char *path = write_status(f->dir, web->def, &c);
    g_autoptr(SvDomainDef) lone = test_domain_def("kvm", "lone");
    SvStatusCommon c2 = {.state = SV_DOMAIN_RUNNING, .reason = 1, .pid = 100, .start_time = 7,
                         .persistent = TRUE, .autodestroy = TRUE};
    g_autofree char *path2 = write_status(f->dir, lone, &c2);
    SvDomainObj *obj;

    (void)data;
    g_assert_cmpuint(sv_domain_reconnect_all(&f->drv, f->dir, &fake_facts, NULL), ==, 0);
    g_assert_cmpstr((seen = calls_by_domain()), ==,
                    "find lone;attach lone;carry lone none 0 autodestroy-client-gone;"
                    "find web;attach web;carry web graceful 99;finish;");
    g_assert_true(sv_domain_obj_is_active(web));
    g_assert_cmpint(web->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(web->reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(web->state_time, ==, 1234);
    g_assert_cmpint(web->run_state, ==, SV_RUN_PAUSED);
    g_assert_true(web->persistent);
    /* Transient though its file says persistent: nothing of it is on disk. */
    obj = sv_domain_list_find_by_name(f->list, "lone");
    g_assert_nonnull(obj);
    g_assert_true(sv_domain_obj_is_active(obj));
    g_assert_false(obj->persistent);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_RUNNING);
    /* The files stay; autostart ran once. */
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(path2, G_FILE_TEST_EXISTS));
    g_assert_true(exists(f->dir, "autostarted"));
    g_assert_cmpuint(test_warnings->len, ==, 0);
}

/* A start that never finished is stopped, never carried on; a guest gone is cleaned up,
 * its defined domain handed over inactive; one the driver dropped is left to it. */
static void
test_unfinished_gone_dropped(Fixture *f, gconstpointer data)
{
    g_autofree char *seen = NULL;
    SvDomainObj *old = test_domain_add(f->list, "old");
    g_autoptr(SvDomainDef) fresh = test_domain_def("kvm", "fresh");
    g_autoptr(SvDomainDef) wedged = test_domain_def("kvm", "wedged");
    SvStatusCommon c = {.state = SV_DOMAIN_PAUSED, .reason = 1, .pid = 100, .start_time = 7,
                        .starting = TRUE, .kill_mode = SV_STATUS_KILL_FORCED,
                        .kill_deadline = 5};
    g_free(write_status(f->dir, fresh, &c));
    g_autofree char *p2 = NULL, *p3 = NULL;

    (void)data;
    c = (SvStatusCommon){.state = SV_DOMAIN_RUNNING, .reason = 1, .pid = 200, .start_time = 7};
    p2 = write_status(f->dir, old->def, &c);
    c.pid = 400;
    p3 = write_status(f->dir, wedged, &c);
    g_assert_cmpuint(sv_domain_reconnect_all(&f->drv, f->dir, &fake_facts, NULL), ==, 0);
    g_assert_cmpstr((seen = calls_by_domain()), ==,
                    "find fresh;attach fresh;stop fresh;find old;gone old (defined);"
                    "find wedged;finish;");
    g_assert_false(sv_domain_obj_is_active(old));
    g_assert_cmpint(old->reason, ==, SV_DOMAIN_SHUTOFF_CRASHED);
    g_assert_false(g_file_test(p2, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(p3, G_FILE_TEST_EXISTS));
    g_assert_null(sv_domain_list_find_by_name(f->list, "wedged"));
}

/* Temporary files of interrupted writes go; a file that fails the reader, contradicts a
 * definition, or names something else is set aside with nothing it names touched, and
 * then nothing unowned is removed either. */
static void
test_stale_and_set_aside(Fixture *f, gconstpointer data)
{
    g_autofree char *seen = NULL;
    SvDomainObj *web = test_domain_add(f->list, "web");
    g_autoptr(SvDomainDef) impostor = test_domain_def("kvm", "web");
    g_autoptr(SvDomainDef) other = test_domain_def("kvm", "other");
    SvStatusCommon c = {.state = SV_DOMAIN_RUNNING, .reason = 1, .pid = 100, .start_time = 7};
    g_autofree char *stale = g_build_filename(f->dir, "web.xml.new-Ab12Cd", NULL);
    g_autofree char *garbage = g_build_filename(f->dir, "bad.xml", NULL);
    g_free(write_status(f->dir, impostor, &c)); /* web's name, another UUID */
    g_autofree char *p2 = NULL;

    (void)data;
    c.pid = 300;
    p2 = write_status(f->dir, other, &c);
    g_assert_true(g_file_set_contents(stale, "<domstatus state='runn", -1, NULL));
    g_assert_true(g_file_set_contents(garbage, "<domstatus state='running'/>", -1, NULL));
    g_assert_cmpuint(sv_domain_reconnect_all(&f->drv, f->dir, &fake_facts, NULL), ==, 3);
    /* Only the file that checks out is looked for. */
    g_assert_cmpstr((seen = calls_by_domain()), ==, "find other;finish-rejected;");
    g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    g_assert_true(exists(f->dir, "bad.xml.rejected"));
    g_assert_true(exists(f->dir, "web.xml.rejected"));
    g_assert_true(exists(f->dir, "other.xml.rejected"));
    g_assert_false(exists(f->dir, "web.xml") || exists(f->dir, "other.xml"));
    g_assert_false(sv_domain_obj_is_active(web));
    g_assert_cmpuint(test_warnings->len, ==, 3);
}

/* The helper for drivers whose guest is one process: a pid nobody has is gone. */
static void
test_find_process(void)
{
    g_autoptr(SvStatus) st = g_new0(SvStatus, 1);
    g_autoptr(GError) error = NULL;
    SvProcess *proc = NULL;

    st->def = test_domain_def("kvm", "web");
    st->c.pid = G_MAXINT32 - 1; /* beyond pid_max */
    st->c.start_time = 1;
    g_assert_cmpint(sv_domain_reconnect_find_process(st, "/bin/true", "QEMU", &proc, &error),
                    ==, SV_RECONNECT_GONE);
    g_assert_no_error(error);
    g_assert_null(proc);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_warnings_capture();
    g_test_add("/domain-reconnect/adopt-and-carry", Fixture, NULL, fixture_set_up,
               test_adopt_and_carry, fixture_tear_down);
    g_test_add("/domain-reconnect/unfinished-gone-dropped", Fixture, NULL, fixture_set_up,
               test_unfinished_gone_dropped, fixture_tear_down);
    g_test_add("/domain-reconnect/stale-and-set-aside", Fixture, NULL, fixture_set_up,
               test_stale_and_set_aside, fixture_tear_down);
    g_test_add_func("/domain-reconnect/find-process", test_find_process);
    return g_test_run();
}
