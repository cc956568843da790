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

/* The one format: the common attributes, a driver's own attributes and children, and the
 * live definition with its id, read back as written. */
static void
test_format_round_trip(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *obj = test_domain_add(list, "web");
    SvStatusCommon common, back;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *text = NULL, *pid = NULL, *path = NULL;
    xmlDocPtr doc;
    xmlNodePtr root, dom;

    sv_domain_list_assign_id(list, obj);
    sv_domain_obj_set_state(obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    obj->state_time = 1700000000123456;
    common = sv_status_common_of(obj);
    text = sv_status_format(&common, " pid='4242'", "  <monitor path='/run/m.sock'/>\n",
                            obj->def, obj->id);
    g_assert_true(g_str_has_prefix(text, "<domstatus state='paused' reason='1' "
                                         "statetime='1700000000123456' persistent='1' "
                                         "pid='4242'>\n  <monitor path='/run/m.sock'/>\n"
                                         "<domain type='kvm' id='1'>"));
    g_assert_true(g_str_has_suffix(text, "</domain>\n</domstatus>\n"));
    doc = sv_status_read(text, strlen(text), SV_FROM_QEMU, &error);
    g_assert_no_error(error);
    root = xmlDocGetRootElement(doc);
    sv_status_read_common(root, &back);
    g_assert_cmpint(back.state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(back.reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(back.state_time, ==, 1700000000123456);
    g_assert_true(back.persistent);
    pid = sv_status_attr(root, "pid");
    g_assert_cmpstr(pid, ==, "4242");
    path = sv_status_attr(sv_status_child(root, "monitor"), "path");
    g_assert_cmpstr(path, ==, "/run/m.sock");
    dom = sv_status_child(root, "domain");
    g_assert_cmpint(sv_status_attr_int(dom, "id"), ==, 1);
    def = sv_status_parse_domain(doc, dom, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "web");
    xmlFreeDoc(doc);

    /* Nothing of the driver's; an unknown state reads back as -1. */
    common.state = SV_DOMAIN_STATE_LAST;
    g_free(text);
    text = sv_status_format(&common, NULL, NULL, obj->def, -1);
    g_assert_true(g_str_has_prefix(text, "<domstatus state='nostate' reason='1' "));
    doc = sv_status_read("<domstatus state='bogus'/>", 26, SV_FROM_QEMU, &error);
    g_assert_no_error(error);
    sv_status_read_common(xmlDocGetRootElement(doc), &back);
    g_assert_cmpint(back.state, ==, -1);
    g_assert_cmpint(back.state_time, ==, 0);
    g_assert_false(back.persistent);
    xmlFreeDoc(doc);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_warnings_capture();
    g_test_add_func("/domain-status/format-round-trip", test_format_round_trip);
    g_test_add_func("/domain-status/read", test_read);
    g_test_add_func("/domain-status/read-refuses", test_read_refuses);
    g_test_add_func("/domain-status/set-aside", test_set_aside);
    return g_test_run();
}
