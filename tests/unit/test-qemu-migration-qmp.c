/* test-qemu-migration-qmp.c: what each side of a migration tells QEMU (capabilities,
 * parameters, the incoming URI) and how query-migrate's answer becomes libvirt's job
 * statistics (qemu_migration_qmp.h). */
#include <string.h>

#include "protocol/sv_remote.h"
#include "qemu_migration_qmp.h"

static JsonNode *
json(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();

    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static char *
to_text(JsonObject *o)
{
    g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return json_to_string(n, FALSE);
}

/* The state the arguments give a capability: 1 on, 0 off, -1 absent. */
static int
cap(JsonObject *args, const char *name)
{
    JsonArray *a = json_object_get_array_member(args, "capabilities");

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *c = json_array_get_object_element(a, i);
        if (g_str_equal(json_object_get_string_member(c, "capability"), name))
            return json_object_get_boolean_member(c, "state");
    }
    return -1;
}

static void
test_caps_sides(void)
{
    JsonObject *src = qemu_migration_caps_args(NULL, SV_MIGRATE_LIVE, TRUE, NULL);
    JsonObject *dst = qemu_migration_caps_args(NULL, SV_MIGRATE_LIVE, FALSE, NULL);

    /* Always on for its side only; return-path both, as the migration is not tunnelled. */
    g_assert_cmpint(cap(src, "pause-before-switchover"), ==, 1);
    g_assert_cmpint(cap(dst, "pause-before-switchover"), ==, 0);
    g_assert_cmpint(cap(src, "late-block-activate"), ==, 0);
    g_assert_cmpint(cap(dst, "late-block-activate"), ==, 1);
    g_assert_cmpint(cap(src, "return-path"), ==, 1);
    g_assert_cmpint(cap(dst, "return-path"), ==, 1);
    g_assert_cmpint(cap(src, "postcopy-ram"), ==, 0);
    g_assert_cmpint(cap(src, "xbzrle"), ==, 0);
    /* QEMU's MIGRATION events, which both sides follow. */
    g_assert_cmpint(cap(src, "events"), ==, 1);
    g_assert_cmpint(cap(dst, "events"), ==, 1);
    json_object_unref(src);
    json_object_unref(dst);
}

static void
test_caps_flags(void)
{
    guint flags = SV_MIGRATE_POSTCOPY | SV_MIGRATE_AUTO_CONVERGE | SV_MIGRATE_COMPRESSED |
                  SV_MIGRATE_TUNNELLED | SV_MIGRATE_PEER2PEER;
    g_autoptr(JsonNode) qemu = json("[{\"state\": false, \"capability\": \"xbzrle\"},"
                                    " {\"state\": false, \"capability\": \"auto-converge\"},"
                                    " {\"state\": false, \"capability\": \"postcopy-ram\"},"
                                    " {\"state\": true, \"capability\": \"events\"}]");
    JsonObject *src = qemu_migration_caps_args(json_node_get_array(qemu), flags, TRUE, NULL);
    JsonObject *dst = qemu_migration_caps_args(NULL, flags, FALSE, NULL);
    SvMigrationTuning mt = {0};
    char *methods[] = {"mt", NULL};
    JsonObject *withmt;

    /* Only what QEMU lists is sent. */
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(src, "capabilities")), ==,
                     4);
    g_assert_cmpint(cap(src, "xbzrle"), ==, 1); /* COMPRESSED alone: xbzrle */
    g_assert_cmpint(cap(src, "auto-converge"), ==, 1);
    g_assert_cmpint(cap(src, "postcopy-ram"), ==, 1);
    g_assert_cmpint(cap(dst, "auto-converge"), ==, 0); /* the source's only */
    g_assert_cmpint(cap(dst, "postcopy-ram"), ==, 1);
    g_assert_cmpint(cap(dst, "return-path"), ==, 0); /* tunnelled */
    mt.compression = methods;
    withmt = qemu_migration_caps_args(NULL, SV_MIGRATE_COMPRESSED, TRUE, &mt);
    g_assert_cmpint(cap(withmt, "compress"), ==, 1);
    g_assert_cmpint(cap(withmt, "xbzrle"), ==, 0);
    json_object_unref(src);
    json_object_unref(dst);
    json_object_unref(withmt);
}

static void
test_caps_reset(void)
{
    JsonObject *reset = qemu_migration_caps_reset_args();

    g_assert_cmpint(cap(reset, "events"), ==, 1);
    g_assert_cmpint(cap(reset, "pause-before-switchover"), ==, 0);
    g_assert_cmpint(cap(reset, "late-block-activate"), ==, 0);
    g_assert_cmpint(cap(reset, "return-path"), ==, 0);
    json_object_unref(reset);
}

static void
test_params(void)
{
    SvMigrationTuning t = {.has_auto_converge_initial = TRUE,
                           .auto_converge_initial = 30,
                           .has_parallel_connections = TRUE,
                           .parallel_connections = 4,
                           .has_bandwidth_postcopy = TRUE,
                           .bandwidth_postcopy = 10};
    g_autofree char *src = to_text(qemu_migration_params_args(0, TRUE, &t, 100, NULL));
    g_autofree char *dst = to_text(qemu_migration_params_args(0, FALSE, &t, 100, NULL));
    g_autofree char *dflt =
        to_text(qemu_migration_params_args(0, TRUE, NULL, QEMU_MIGRATION_BANDWIDTH_MAX, NULL));
    g_autofree char *tls =
        to_text(qemu_migration_params_args(SV_MIGRATE_TLS, TRUE, NULL, 1, "dst.example"));

    g_assert_cmpstr(src, ==,
                    "{\"cpu-throttle-initial\":30,\"tls-creds\":\"\",\"tls-hostname\":\"\","
                    "\"max-bandwidth\":104857600,\"max-postcopy-bandwidth\":10485760,"
                    "\"multifd-channels\":4}");
    g_assert_cmpstr(dst, ==,
                    "{\"tls-creds\":\"\",\"tls-hostname\":\"\",\"max-postcopy-bandwidth\":"
                    "10485760,\"multifd-channels\":4}");
    /* libvirt's unlimited speed: the largest MiB/s QEMU's bytes/s can hold. */
    g_assert_cmpstr(dflt, ==,
                    "{\"tls-creds\":\"\",\"tls-hostname\":\"\","
                    "\"max-bandwidth\":9223372036853727232}");
    g_assert_cmpstr(tls, ==,
                    "{\"tls-creds\":\"objlibvirt_migrate_tls0\",\"tls-hostname\":"
                    "\"dst.example\",\"max-bandwidth\":1048576}");
}

static void
test_listen_uri(void)
{
    g_autofree char *v6 = qemu_migration_listen_uri("::", 49152);
    g_autofree char *v6b = qemu_migration_listen_uri("[::1]", 49153);
    g_autofree char *v4 = qemu_migration_listen_uri("0.0.0.0", 49154);

    g_assert_cmpstr(v6, ==, "tcp:[::]:49152");
    g_assert_cmpstr(v6b, ==, "tcp:[::1]:49153");
    g_assert_cmpstr(v4, ==, "tcp:0.0.0.0:49154");
}

static void
test_uri_host(void)
{
    g_autofree char *name = qemu_migration_uri_host("tcp:dst.example:49152");
    g_autofree char *v6 = qemu_migration_uri_host("tcp:[fe80::1]:49152");
    g_autofree char *v4 = qemu_migration_uri_host("tcp:10.0.0.2:1");

    g_assert_cmpstr(name, ==, "dst.example");
    g_assert_cmpstr(v6, ==, "fe80::1");
    g_assert_cmpstr(v4, ==, "10.0.0.2");
    g_assert_null(qemu_migration_uri_host("fd:migrate"));
    g_assert_null(qemu_migration_uri_host("tcp:nohost"));
}

/* The answer of QEMU 7.2's query-migrate in the middle of a migration, and at its end. */
static const char active_reply[] =
    "{\"expected-downtime\": 300, \"status\": \"active\", \"setup-time\": 12,"
    " \"total-time\": 1500, \"ram\": {\"total\": 134750208, \"postcopy-requests\": 0,"
    " \"dirty-sync-count\": 2, \"multifd-bytes\": 0, \"pages-per-second\": 8000,"
    " \"downtime-bytes\": 0, \"page-size\": 4096, \"remaining\": 1000000,"
    " \"postcopy-bytes\": 0, \"mbps\": 268.5, \"transferred\": 90000000,"
    " \"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 90000000,"
    " \"duplicate\": 20000, \"dirty-pages-rate\": 120, \"skipped\": 0,"
    " \"normal-bytes\": 88000000, \"normal\": 21484}}";

static void
test_stats(void)
{
    g_autoptr(JsonNode) n = json(active_reply);
    QemuMigrationStats s = {.operation = SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
                            .time_elapsed = 1600};
    GArray *p;
    remote_typed_param *t;

    qemu_migration_stats_read(json_node_get_object(n), &s);
    g_assert_cmpstr(s.status, ==, "active");
    g_assert_false(s.has_downtime);
    g_assert_true(s.has_setup_time);
    g_assert_cmpuint(s.ram_bps, ==, 33562500);
    p = qemu_migration_stats_params(&s);
    t = (remote_typed_param *)p->data;
    g_assert_cmpstr(t[0].field, ==, "operation");
    g_assert_cmpint(t[0].value.remote_typed_param_value_u.i, ==, 5);
    g_assert_cmpstr(t[1].field, ==, "time_elapsed");
    g_assert_cmpstr(t[2].field, ==, "setup_time");
    g_assert_cmpstr(t[3].field, ==, "data_total");
    g_assert_cmpuint(t[3].value.remote_typed_param_value_u.ul, ==, 134750208);
    g_assert_cmpstr(t[9].field, ==, "memory_bps");
    g_assert_cmpstr(t[10].field, ==, "memory_constant");
    g_assert_cmpstr(t[16].field, ==, "memory_page_size");
    g_assert_cmpstr(t[17].field, ==, "disk_total");
    g_assert_cmpuint(p->len, ==, 20);
    qemu_migration_params_free(p);
    qemu_migration_stats_clear(&s);
}

/* The source's figures go through its cookie to the destination unchanged (all but the
 * mirrors', which are in the disk figures already). */
static void
test_stats_cookie(void)
{
    g_autoptr(JsonNode) n = json(active_reply);
    QemuMigrationStats s, back;
    SvMigCookieStats c = {0};

    /* Compared whole below: padding included. */
    memset(&s, 0, sizeof(s));
    memset(&back, 0, sizeof(back));
    s.time_elapsed = 1600;
    s.started_ms = 1700000000000;
    s.stopped_ms = 1700000001500;
    s.has_xbzrle = TRUE;
    s.xbzrle_bytes = 77;
    s.cpu_throttle_percentage = 20;
    back.operation = SV_DOMAIN_JOB_OPERATION_MIGRATION_IN;
    qemu_migration_stats_read(json_node_get_object(n), &s);
    qemu_migration_stats_to_cookie(&s, &c);
    g_assert_cmpuint(c.started, ==, 1700000000000);
    g_assert_cmpuint(c.stopped, ==, 1700000001500);
    g_assert_cmpuint(c.sent, >=, 1700000001500);
    g_assert_cmpuint(c.memory_bps, ==, 33562500);
    qemu_migration_stats_from_cookie(&c, &back);
    g_assert_cmpint(back.operation, ==, SV_DOMAIN_JOB_OPERATION_MIGRATION_IN);
    g_assert_null(back.status);
    back.operation = s.operation;
    back.status = s.status;
    g_assert_cmpmem(&back, sizeof(back), &s, sizeof(s));
    qemu_migration_stats_clear(&s);
}

static void
test_status(void)
{
    g_assert_cmpint(qemu_migration_status_job_type("setup"), ==, SV_DOMAIN_JOB_UNBOUNDED);
    g_assert_cmpint(qemu_migration_status_job_type("pre-switchover"), ==, SV_DOMAIN_JOB_UNBOUNDED);
    g_assert_cmpint(qemu_migration_status_job_type("completed"), ==, SV_DOMAIN_JOB_COMPLETED);
    g_assert_cmpint(qemu_migration_status_job_type("failed"), ==, SV_DOMAIN_JOB_FAILED);
    g_assert_cmpint(qemu_migration_status_job_type("cancelled"), ==, SV_DOMAIN_JOB_CANCELLED);
    g_assert_cmpint(qemu_migration_status_job_type("none"), ==, SV_DOMAIN_JOB_NONE);
    g_assert_cmpint(qemu_migration_status_job_type(NULL), ==, SV_DOMAIN_JOB_NONE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-qmp/caps-sides", test_caps_sides);
    g_test_add_func("/migration-qmp/caps-flags", test_caps_flags);
    g_test_add_func("/migration-qmp/caps-reset", test_caps_reset);
    g_test_add_func("/migration-qmp/params", test_params);
    g_test_add_func("/migration-qmp/listen-uri", test_listen_uri);
    g_test_add_func("/migration-qmp/uri-host", test_uri_host);
    g_test_add_func("/migration-qmp/stats", test_stats);
    g_test_add_func("/migration-qmp/stats-cookie", test_stats_cookie);
    g_test_add_func("/migration-qmp/status", test_status);
    return g_test_run();
}
