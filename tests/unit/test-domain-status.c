/* test-domain-status.c: what the drivers share of their status files: their one format
 * written and read back, reading one back as hostile input, and setting one aside. */
#include <string.h>
#include <unistd.h>

#include "conf/domain_status.h"
#include "domain-test.h"
#include "util/error.h"
#include "warnings.h"

static const char *status_xml =
    "<domstatus state='running' reason='1' statetime='1700000000' pid='4242'>\n"
    "  <monitor path='/run/x/monitor.sock'/>\n"
    "  <domain type='qemu' id='7'><name>web</name><memory>65536</memory>"
    "<os><type>hvm</type></os></domain>\n"
    "</domstatus>\n";

static void
test_read(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *state = NULL;
    xmlDocPtr doc = sv_status_read(status_xml, strlen(status_xml), SV_FROM_QEMU, &error);
    xmlNodePtr root, dom;

    g_assert_no_error(error);
    g_assert_nonnull(doc);
    root = xmlDocGetRootElement(doc);
    state = sv_status_attr(root, "state");
    g_assert_cmpstr(state, ==, "running");
    g_assert_cmpint(sv_status_attr_int(root, "pid"), ==, 4242);
    g_assert_cmpint(sv_status_attr_int(root, "statetime"), ==, 1700000000);
    g_assert_cmpint(sv_status_attr_int(root, "absent"), ==, 0);
    g_assert_null(sv_status_attr(root, "absent"));
    g_assert_null(sv_status_child(root, "absent"));
    /* Absent elements give absent values, never a crash. */
    g_assert_null(sv_status_attr(NULL, "state"));
    g_assert_cmpint(sv_status_attr_int(NULL, "pid"), ==, 0);
    g_assert_null(sv_status_child(NULL, "domain"));
    dom = sv_status_child(root, "domain");
    g_assert_nonnull(dom);
    def = sv_status_parse_domain(doc, dom, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "web");
    xmlFreeDoc(doc);
}

static void
test_read_refuses(void)
{
    static const char *bad[] = {
        "garbage",
        "<domain type='qemu'><name>web</name></domain>",
        "<domstatus><unclosed></domstatus>",
        "",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(sv_status_read(bad[i], strlen(bad[i]), SV_FROM_LXC, &error));
        g_assert_error(error, sv_error_quark(SV_FROM_LXC), SV_ERR_INTERNAL_ERROR);
    }
}

/* A file that cannot be trusted is renamed NAME.xml.rejected, whole, with one warning. */
static void
test_set_aside(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-status-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "web.xml", NULL);
    g_autofree char *aside = g_strconcat(path, ".rejected", NULL);
    g_autofree char *text = NULL;
    g_autofree char *want = NULL;
    g_autoptr(GError) why = NULL;

    g_assert_true(g_file_set_contents(path, status_xml, -1, NULL));
    sv_error_set(&why, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "a test");
    g_ptr_array_set_size(test_warnings, 0);
    sv_status_set_aside(path, why);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_get_contents(aside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, status_xml);
    want = g_strdup_printf("setting aside status file '%s' as '%s', touching nothing it names: "
                           "internal error: a test", path, aside);
    g_assert_cmpuint(test_warnings->len, ==, 1);
    g_assert_cmpstr(test_warnings->pdata[0], ==, want);
    g_assert_cmpint(unlink(aside), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

/* A fake driver's part of its files: an attribute, and a child element it checks. */
typedef struct {
    gboolean fake;
    char *monitor;
} FakeOwn;

static void
fake_own_free(gpointer data)
{
    FakeOwn *own = data;

    g_free(own->monitor);
    g_free(own);
}

static gboolean
fake_read_own(const SvStatusStyle *style, xmlNodePtr root, SvStatus *st, GError **error)
{
    FakeOwn *own = g_new0(FakeOwn, 1);

    st->own = own;
    own->monitor = sv_status_attr(sv_status_child(root, "monitor"), "path");
    if (!own->monitor || !g_str_has_prefix(own->monitor, "/run/")) {
        sv_error_set(error, style->from, SV_ERR_INTERNAL_ERROR, "bad monitor");
        return FALSE;
    }
    return sv_status_attr_flag(root, "fake", &own->fake, style->from, error);
}

/* Records every common part, its process on <domstatus>, and its own part (set in
 * main(): test_status_style with fake_read_own). */
static SvStatusStyle fake_style;

/* Records its process in a child element, and a start before its guest exists. */
static const SvStatusStyle child_style = {
    .from = SV_FROM_LXC,
    .process = "supervisor",
    .kill_mode = "destroymode",
    .kill_deadline = "destroydeadline",
    .start_shut_off = TRUE,
};

/* The one format: the common attributes in the driver's names, its own attributes and
 * children, and the live definition with its id, read back as written by the one reader,
 * with the driver's hook. */
static void
test_format_round_trip(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *obj = test_domain_add(list, "web");
    SvStatusCommon common;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStatus) back = NULL;
    g_autofree char *text = NULL, *again = NULL;
    FakeOwn *own;

    sv_domain_list_assign_id(list, obj);
    sv_domain_obj_set_state(obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    obj->state_time = 1700000000123456;
    common = sv_status_common_of(obj);
    common.pid = 4242;
    common.start_time = 777;
    common.autodestroy = TRUE;
    common.kill_mode = SV_STATUS_KILL_FORCED;
    common.kill_deadline = 99;
    text = sv_status_format(&fake_style, &common,
                            &(SvStatusOwn){" fake='1'", NULL, "  <monitor path='/run/m.sock'/>\n"},
                            obj->def, obj->id);
    g_assert_true(g_str_has_prefix(text, "<domstatus state='paused' reason='1' "
                                         "statetime='1700000000123456' persistent='1' "
                                         "pid='4242' starttime='777' starting='0' "
                                         "autodestroy='1' killmode='forced' killdeadline='99' "
                                         "fake='1'>\n  <monitor path='/run/m.sock'/>\n"
                                         "<domain type='kvm' id='1'>"));
    g_assert_true(g_str_has_suffix(text, "</domain>\n</domstatus>\n"));
    back = sv_status_parse(text, strlen(text), "web.xml", &fake_style, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->c.state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(back->c.reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(back->c.state_time, ==, 1700000000123456);
    g_assert_true(back->c.persistent && back->c.autodestroy && !back->c.starting);
    g_assert_cmpint(back->c.pid, ==, 4242);
    g_assert_cmpuint(back->c.start_time, ==, 777);
    g_assert_cmpint(back->c.kill_mode, ==, SV_STATUS_KILL_FORCED);
    g_assert_cmpint(back->c.kill_deadline, ==, 99);
    g_assert_cmpint(back->id, ==, 1);
    g_assert_cmpstr(back->def->name, ==, "web");
    own = back->own;
    g_assert_true(own->fake);
    g_assert_cmpstr(own->monitor, ==, "/run/m.sock");
    again = sv_status_format(&fake_style, &back->c,
                             &(SvStatusOwn){" fake='1'", NULL, "  <monitor path='/run/m.sock'/>\n"},
                             back->def, back->id);
    g_assert_cmpstr(again, ==, text);

    /* No kill under way: no kill attributes; an unknown state is written "nostate". */
    common.kill_mode = SV_STATUS_KILL_NONE;
    common.state = SV_DOMAIN_STATE_LAST;
    g_free(text);
    text = sv_status_format(&fake_style, &common, NULL, obj->def, -1);
    g_assert_true(g_str_has_prefix(text, "<domstatus state='nostate' reason='1' "));
    g_assert_null(strstr(text, "killmode"));
}

/* A driver whose process is a child element, without a domain id. */
static void
test_format_process_element(void)
{
    g_autoptr(SvDomainDef) def = test_domain_def("kvm", "ct");
    SvStatusCommon c = {.state = SV_DOMAIN_RUNNING, .reason = 1, .pid = 55, .start_time = 66,
                        .kill_mode = SV_STATUS_KILL_GRACEFUL, .kill_deadline = 5};
    g_autofree char *text = sv_status_format(&child_style, &c,
                                             &(SvStatusOwn){NULL, " socket='/s'", NULL}, def, -1);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStatus) back = NULL;

    g_assert_true(g_str_has_prefix(text, "<domstatus state='running' reason='1' statetime='0' "
                                         "persistent='0' starting='0' destroymode='graceful' "
                                         "destroydeadline='5'>\n"
                                         "  <supervisor pid='55' starttime='66' socket='/s'/>\n"
                                         "<domain type='kvm'>"));
    back = sv_status_parse(text, strlen(text), "ct.xml", &child_style, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->c.pid, ==, 55);
    g_assert_cmpuint(back->c.start_time, ==, 66);
    g_assert_cmpint(back->c.kill_mode, ==, SV_STATUS_KILL_GRACEFUL);
    g_assert_cmpint(back->id, ==, -1);
    g_assert_null(back->own);
}

#define DOM "<domain type='kvm' id='3'><name>web</name><memory>65536</memory>" \
            "<os><type>hvm</type></os></domain>"
#define MON "<monitor path='/run/m.sock'/>"

/* The one reader refuses every file a check of today's readers refused, each with a
 * message saying why; nothing of it is returned. */
static const struct {
    const SvStatusStyle *style;
    const char *text;
    const char *why;
} bad[] = {
    {&fake_style, "<domstatus state='running' pid='9' starttime='1'>" MON "</domstatus>",
     "no <domain>"},
    {&fake_style, "<domstatus state='bogus' pid='9' starttime='1'>" MON DOM "</domstatus>",
     "state 'bogus' is not a live one"},
    {&fake_style, "<domstatus state='shutoff' pid='9' starttime='1'>" MON DOM "</domstatus>",
     "is not a live one"},
    {&fake_style, "<domstatus state='shutoff' starting='1' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "is not a live one"},
    {&fake_style, "<domstatus pid='9' starttime='1'>" MON DOM "</domstatus>",
     "state '(none)'"},
    {&fake_style, "<domstatus state='running' reason='65' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "attribute reason='65'"},
    {&fake_style, "<domstatus state='running' statetime='-1' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "attribute statetime"},
    {&fake_style, "<domstatus state='running' persistent='2' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "attribute persistent"},
    {&fake_style, "<domstatus state='running' starting='yes' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "attribute starting"},
    {&fake_style, "<domstatus state='running' autodestroy='7' pid='9' starttime='1'>" MON
                  DOM "</domstatus>", "attribute autodestroy"},
    {&fake_style, "<domstatus state='running' killmode='gentle' pid='9' starttime='1'>" MON
                  DOM "</domstatus>", "unknown kill mode 'gentle'"},
    {&fake_style, "<domstatus state='running' killmode='forced' killdeadline='x' pid='9' "
                  "starttime='1'>" MON DOM "</domstatus>", "attribute killdeadline"},
    {&fake_style, "<domstatus state='running' pid='1' starttime='1'>" MON DOM "</domstatus>",
     "attribute pid='1'"},
    {&fake_style, "<domstatus state='running' starttime='1'>" MON DOM "</domstatus>",
     "no pid or start time"},
    {&fake_style, "<domstatus state='running' pid='9' starttime='0'>" MON DOM "</domstatus>",
     "attribute starttime"},
    {&fake_style, "<domstatus state='running' pid='9' starttime='1'>" MON
                  "<domain type='kvm' id='-2'><name>web</name><memory>65536</memory>"
                  "<os><type>hvm</type></os></domain></domstatus>", "attribute id='-2'"},
    {&fake_style, "<domstatus state='running' pid='9' starttime='1'>" MON
                  "<domain type='kvm'><name>other</name><memory>65536</memory>"
                  "<os><type>hvm</type></os></domain></domstatus>",
     "it describes domain 'other'"},
    {&fake_style, "<domstatus state='running' pid='9' starttime='1'>"
                  "<monitor path='/etc/passwd'/>" DOM "</domstatus>", "bad monitor"},
    {&fake_style, "<domstatus state='running' fake='2' pid='9' starttime='1'>" MON DOM
                  "</domstatus>", "attribute fake"},
    {&child_style, "<domstatus state='running' pid='9' starttime='1'>" DOM "</domstatus>",
     "no pid or start time"},
    {&child_style, "<domstatus state='nostate' starting='1'><supervisor pid='9' "
                   "starttime='1'/>" DOM "</domstatus>", "is not a live one"},
};

static void
test_strict_checks(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        SvStatus *st = sv_status_parse(bad[i].text, strlen(bad[i].text), "web.xml", bad[i].style,
                                       &error);
        g_assert_null(st);
        g_assert_error(error, sv_error_quark(bad[i].style->from), SV_ERR_INTERNAL_ERROR);
        if (!strstr(error->message, bad[i].why))
            g_error("case %" G_GSIZE_FORMAT ": '%s' does not say '%s'", i, error->message,
                    bad[i].why);
    }
}

/* What the checks let through: a start recorded before its guest exists is shut off for
 * a driver that records one so; absent optional values read back as none. */
static void
test_strict_accepts(void)
{
    static const char *start = "<domstatus state='shutoff' starting='1'><supervisor pid='9' "
                               "starttime='1'/>" DOM "</domstatus>";
    static const char *plain = "<domstatus state='running' pid='9' starttime='1'>" MON DOM
                               "</domstatus>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStatus) st = sv_status_parse(start, strlen(start), "web.xml", &child_style,
                                             &error);
    g_autoptr(SvStatus) st2 = NULL;

    g_assert_no_error(error);
    g_assert_true(st->c.starting);
    g_assert_cmpint(st->c.state, ==, SV_DOMAIN_SHUTOFF);
    g_assert_cmpint(st->id, ==, 3);
    st2 = sv_status_parse(plain, strlen(plain), "web.xml", &fake_style, &error);
    g_assert_no_error(error);
    g_assert_cmpint(st2->c.kill_mode, ==, SV_STATUS_KILL_NONE);
    g_assert_cmpint(st2->c.kill_deadline, ==, 0);
    g_assert_false(st2->c.persistent || st2->c.autodestroy || st2->c.starting);
    g_assert_cmpint(st2->c.state_time, ==, 0);
}

/* The file at a path is named by its base name. */
static void
test_load(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-status-XXXXXX", NULL);
    g_autofree char *good = g_build_filename(dir, "web.xml", NULL);
    g_autofree char *misnamed = g_build_filename(dir, "other.xml", NULL);
    static const char *text = "<domstatus state='running' pid='9' starttime='1'>" MON DOM
                              "</domstatus>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStatus) st = NULL;

    g_assert_true(g_file_set_contents(good, text, -1, NULL));
    g_assert_true(g_file_set_contents(misnamed, text, -1, NULL));
    st = sv_status_load(good, &fake_style, &error);
    g_assert_no_error(error);
    g_assert_null(sv_status_load(misnamed, &fake_style, &error));
    g_assert_nonnull(strstr(error->message, "it describes domain 'web'"));
    g_clear_error(&error);
    g_assert_cmpint(unlink(good), ==, 0);
    g_assert_null(sv_status_load(good, &fake_style, &error));
    g_assert_nonnull(strstr(error->message, "cannot read it"));
    g_assert_cmpint(unlink(misnamed), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_warnings_capture();
    fake_style = test_status_style;
    fake_style.read_own = fake_read_own;
    fake_style.free_own = fake_own_free;
    g_test_add_func("/domain-status/format-round-trip", test_format_round_trip);
    g_test_add_func("/domain-status/format-process-element", test_format_process_element);
    g_test_add_func("/domain-status/strict-checks", test_strict_checks);
    g_test_add_func("/domain-status/strict-accepts", test_strict_accepts);
    g_test_add_func("/domain-status/load", test_load);
    g_test_add_func("/domain-status/read", test_read);
    g_test_add_func("/domain-status/read-refuses", test_read_refuses);
    g_test_add_func("/domain-status/set-aside", test_set_aside);
    return g_test_run();
}
