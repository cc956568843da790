/* test-lxc-spec.c: launch specs built from definitions, against golden files.
 *
 * Each tests/data/lxc/CASE.xml is parsed as a new definition, turned into a spec (cgroup
 * root /sys/fs/cgroup, parent splitvirt-test) and compared byte for byte with CASE.spec, or
 * with CASE.err ("code domain message") when the start is refused. Every spec must also come
 * back unchanged through lxc_spec_parse. The data directory is argv[1], else $SV_TEST_DATA,
 * else the build's SV_TEST_DATA_DIR. SV_REGENERATE=1 rewrites the expected files instead:
 * review the diff before committing it. */
#include <string.h>

#include "lxc_spec.h"
#include "lxc_status.h"
#include "util/error.h"

#ifndef SV_TEST_DATA_DIR
#define SV_TEST_DATA_DIR "tests/data/lxc"
#endif

static const char *data_dir;
static gboolean regenerate;

static char *
data_path(const char *name, const char *ext)
{
    g_autofree char *file = g_strconcat(name, ext, NULL);

    return g_build_filename(data_dir, file, NULL);
}

static char *
build_spec(const char *xml, GError **error)
{
    LxcSpecContext ctx = {"/sys/fs/cgroup", "splitvirt-test"};
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, error);
    g_autoptr(LxcSpec) spec = NULL;

    if (!def)
        return NULL;
    spec = lxc_spec_new_from_def(def, &ctx, error);
    return spec ? lxc_spec_format(spec) : NULL;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml_path = data_path(name, ".xml");
    g_autofree char *spec_path = data_path(name, ".spec");
    g_autofree char *err_path = data_path(name, ".err");
    g_autofree char *xml = NULL, *got = NULL, *expected = NULL;
    g_autoptr(GError) error = NULL;
    const char *path;

    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    got = build_spec(xml, &error);
    if (!got)
        got = g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error),
                              error->message);
    path = error ? err_path : spec_path;
    if (regenerate) {
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
        return;
    }
    g_assert_true(g_file_get_contents(path, &expected, NULL, NULL));
    g_assert_cmpstr(got, ==, expected);
    if (!error) {
        g_autoptr(LxcSpec) back = lxc_spec_parse(got, &error);
        g_autofree char *again = NULL;
        g_assert_no_error(error);
        again = lxc_spec_format(back);
        g_assert_cmpstr(again, ==, got);
    }
}

static void
test_parse_errors(void)
{
    static const char *const bad[] = {
        "", "not a key file", "[container]\nname=x\n",
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[mount 0]\nsource=/s\n",
        /* idmap ranges: every number present and an id; both maps or neither */
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[uidmap 0]\nstart=0\ntarget=100000\n[gidmap 0]\nstart=0\ntarget=1\ncount=1\n",
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[uidmap 0]\nstart=0\ntarget=-1\ncount=1\n[gidmap 0]\nstart=0\ntarget=1\n"
        "count=1\n",
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[uidmap 0]\nstart=0\ntarget=4294967296\ncount=1\n[gidmap 0]\nstart=0\n"
        "target=1\ncount=1\n",
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[uidmap 0]\nstart=0\ntarget=100000\ncount=65536\n",
        /* a net's rates: four unsigned numbers */
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[net 0]\nhost=v\nguest=eth0\nmac=m\ninbound=1,2,3\n",
        "[container]\nname=x\nuuid=u\nhostname=x\nroot=/r\ninit=/i\n[cgroup]\nroot=/c\n"
        "path=p\n[net 0]\nhost=v\nguest=eth0\nmac=m\noutbound=1,-2,3,4\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        LxcSpec *spec = lxc_spec_parse(bad[i], &error);
        g_assert_null(spec);
        g_assert_nonnull(error);
        g_assert_true(g_str_has_prefix(error->message, "internal error: bad container spec"));
    }
}

/* The maps as the supervisor writes them to /proc/PID/uid_map and gid_map, and the host
 * id of the container's root. */
static void
test_idmap_text(void)
{
    g_autofree char *xml_path = data_path("idmap-ranges", ".xml");
    g_autofree char *xml = NULL, *uid_text = NULL, *gid_text = NULL, *none = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(LxcSpec) spec = NULL;
    g_autoptr(LxcSpec) plain = NULL;
    LxcSpecContext ctx = {"/sys/fs/cgroup", "splitvirt-test"};

    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    spec = lxc_spec_new_from_def(def, &ctx, &error);
    g_assert_no_error(error);
    uid_text = lxc_spec_idmap_format(spec->uidmap);
    gid_text = lxc_spec_idmap_format(spec->gidmap);
    g_assert_cmpstr(uid_text, ==, "0 200000 1000\n1000 1000 1\n1001 201001 64535\n");
    g_assert_cmpstr(gid_text, ==, uid_text);
    g_assert_cmpuint(lxc_spec_idmap_root(spec->uidmap), ==, 200000);
    g_assert_cmpuint(lxc_spec_idmap_root(spec->gidmap), ==, 200000);

    g_clear_pointer(&xml, g_free);
    g_clear_pointer(&xml_path, g_free);
    g_clear_pointer(&def, sv_domain_def_free);
    xml_path = data_path("basic", ".xml");
    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    plain = lxc_spec_new_from_def(def, &ctx, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(plain->uidmap->len, ==, 0);
    g_assert_cmpuint(plain->gidmap->len, ==, 0);
    none = lxc_spec_idmap_format(plain->uidmap);
    g_assert_cmpstr(none, ==, "");
    g_assert_cmpuint(lxc_spec_idmap_root(plain->uidmap), ==, 0);
}

/* The status file keeps what reconnect needs, and the live definition. */
static void
test_status_round_trip(void)
{
    g_autofree char *xml_path = data_path("net", ".xml");
    g_autofree char *xml = NULL, *text = NULL, *again = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(SvStatus) back = NULL;
    SvStatusCommon c = {.state = 3, .reason = 1, .state_time = 1700000000123456,
                        .persistent = TRUE, .kill_mode = SV_STATUS_KILL_GRACEFUL,
                        .kill_deadline = 123456789012, .autodestroy = TRUE, .pid = 4321,
                        .start_time = 99887766};
    LxcStatus st = {.destroying = TRUE, .socket = "/r/run/libvirt/lxc/net.sock",
                    .init_pid = 4323, .init_start = 99887770,
                    .cgroup = "splitvirt-test/net.libvirt-lxc"};
    LxcStatus *out;

    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    text = lxc_status_format(&c, &st, def, 4321);
    back = sv_status_parse(text, strlen(text), NULL, &lxc_status_style, &error);
    g_assert_no_error(error);
    out = lxc_status_of(back);
    g_assert_cmpint(back->id, ==, 4321);
    g_assert_cmpint(back->c.state, ==, 3);
    g_assert_cmpint(back->c.reason, ==, 1);
    g_assert_cmpint(back->c.state_time, ==, c.state_time);
    g_assert_true(back->c.persistent && out->destroying && back->c.autodestroy &&
                  !back->c.starting);
    g_assert_cmpint(back->c.kill_mode, ==, SV_STATUS_KILL_GRACEFUL);
    g_assert_cmpint(back->c.kill_deadline, ==, 123456789012);
    g_assert_cmpint(back->c.pid, ==, 4321);
    g_assert_cmpuint(back->c.start_time, ==, 99887766);
    g_assert_cmpstr(out->socket, ==, st.socket);
    g_assert_cmpint(out->init_pid, ==, 4323);
    g_assert_cmpuint(out->init_start, ==, 99887770);
    g_assert_cmpstr(out->cgroup, ==, st.cgroup);
    g_assert_nonnull(strstr(text, " destroymode='graceful' destroydeadline='123456789012'"));
    g_assert_nonnull(strstr(text, "  <supervisor pid='4321' starttime='99887766' "
                                  "socket='/r/run/libvirt/lxc/net.sock'/>\n"));
    again = lxc_status_format(&back->c, out, back->def, back->id);
    g_assert_cmpstr(again, ==, text);

    g_assert_null(sv_status_parse("<domstatus/>", 12, NULL, &lxc_status_style, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_null(sv_status_parse("garbage", 7, NULL, &lxc_status_style, &error));
    g_assert_nonnull(error);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    g_test_init(&argc, &argv, NULL);
    data_dir = argc > 1 ? argv[1] : g_getenv("SV_TEST_DATA");
    if (!data_dir)
        data_dir = SV_TEST_DATA_DIR;
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;
    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/lxc-spec/golden/%s", (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], test_golden);
    }
    g_test_add_func("/lxc-spec/parse-errors", test_parse_errors);
    g_test_add_func("/lxc-spec/status-round-trip", test_status_round_trip);
    g_test_add_func("/lxc-spec/idmap-text", test_idmap_text);
    return g_test_run();
}
