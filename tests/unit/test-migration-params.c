/* test-migration-params.c: conf/migration_params.c and domain/domain_migrate_params.c: a
 * call's typed parameters read as libvirt 9.0's QEMU driver reads them (names, types,
 * repeats, their errors), written back in libvirt's order, and libvirt's refusals of flag
 * combinations and tunables. */
#include <glib.h>
#include <string.h>

#include "domain/domain_migrate_params.h"
#include "util/error.h"

static remote_typed_param
str_param(const char *field, const char *v)
{
    remote_typed_param p = {0};

    p.field = (char *)field;
    p.value.type = SV_TYPED_PARAM_STRING;
    p.value.remote_typed_param_value_u.s = (char *)v;
    return p;
}

static remote_typed_param
int_param(const char *field, int type, gint64 v)
{
    remote_typed_param p = {0};

    p.field = (char *)field;
    p.value.type = type;
    if (type == SV_TYPED_PARAM_INT)
        p.value.remote_typed_param_value_u.i = (int)v;
    else
        p.value.remote_typed_param_value_u.ul = (guint64)v;
    return p;
}

static void
test_read(void)
{
    remote_typed_param in[] = {
        str_param("migrate_disks", "vdb"), str_param("destination_xml", "<domain/>"),
        int_param("bandwidth", SV_TYPED_PARAM_ULLONG, 100), str_param("migrate_disks", "vda"),
        int_param("disks_port", SV_TYPED_PARAM_INT, 49200),
        str_param("compression", "xbzrle"),
        int_param("auto_converge.initial", SV_TYPED_PARAM_INT, 20),
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationParams) p = sv_migrate_params_from_wire(in, G_N_ELEMENTS(in), &error);
    GArray *wire;

    g_assert_no_error(error);
    g_assert_cmpstr(p->dest_xml, ==, "<domain/>");
    g_assert_true(p->tuning.has_bandwidth);
    g_assert_cmpuint(p->tuning.bandwidth, ==, 100);
    /* repeatable ones keep the caller's order */
    g_assert_cmpuint(g_strv_length(p->migrate_disks), ==, 2);
    g_assert_cmpstr(p->migrate_disks[0], ==, "vdb");
    g_assert_cmpstr(p->migrate_disks[1], ==, "vda");
    g_assert_true(p->has_disks_port);
    g_assert_cmpint(p->disks_port, ==, 49200);
    g_assert_cmpstr(p->tuning.compression[0], ==, "xbzrle");
    g_assert_cmpint(p->tuning.auto_converge_initial, ==, 20);
    g_assert_null(p->uri);

    /* written back in libvirt's list order */
    wire = sv_migrate_params_to_wire(p);
    g_assert_cmpuint(wire->len, ==, 7);
    g_assert_cmpstr(g_array_index(wire, remote_typed_param, 0).field, ==, "destination_xml");
    g_assert_cmpstr(g_array_index(wire, remote_typed_param, 1).field, ==, "bandwidth");
    g_assert_cmpstr(g_array_index(wire, remote_typed_param, 2).field, ==, "migrate_disks");
    g_assert_cmpstr(g_array_index(wire, remote_typed_param, 3).value.remote_typed_param_value_u.s,
                    ==, "vda");
    g_assert_cmpstr(g_array_index(wire, remote_typed_param, 6).field, ==,
                    "auto_converge.initial");
    sv_migrate_params_wire_free(wire);
}

/* Each refused list and libvirt's error for it (sorted by name: the first bad name in
 * that order is the one reported). */
static void
test_read_errors(void)
{
    static const struct {
        remote_typed_param in[3];
        guint n;
        int code;
        const char *msg;
    } cases[] = {
        {{{.field = "compression.zlib.level",
           .value = {.type = SV_TYPED_PARAM_INT}}},
         1, SV_ERR_ARGUMENT_UNSUPPORTED,
         "argument unsupported: parameter 'compression.zlib.level' not supported"},
        {{{.field = "bandwidth", .value = {.type = SV_TYPED_PARAM_INT}}},
         1, SV_ERR_INVALID_ARG, "invalid argument: invalid type 'int' for parameter 'bandwidth', expected 'ullong'"},
        {{{.field = "migrate_uri", .value = {.type = SV_TYPED_PARAM_STRING,
                                              .remote_typed_param_value_u.s = "tcp:a"}},
          {.field = "migrate_uri", .value = {.type = SV_TYPED_PARAM_STRING,
                                              .remote_typed_param_value_u.s = "tcp:b"}}},
         2, SV_ERR_INVALID_ARG, "invalid argument: parameter 'migrate_uri' occurs multiple times"},
        {{{.field = "zz", .value = {.type = SV_TYPED_PARAM_INT}},
          {.field = "aa", .value = {.type = SV_TYPED_PARAM_INT}}},
         2, SV_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: parameter 'aa' not supported"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvMigrationParams) p =
            sv_migrate_params_from_wire(cases[i].in, cases[i].n, &error);

        g_assert_null(p);
        g_assert_error(error, sv_error_quark(SV_FROM_NONE), cases[i].code);
        g_assert_cmpstr(error->message, ==, cases[i].msg);
    }
}

#define LIVE SV_MIGRATE_LIVE
#define OFFLINE SV_MIGRATE_OFFLINE
#define PERSIST SV_MIGRATE_PERSIST_DEST

static void
test_flags(void)
{
    static const struct {
        SvMigrationCall call;
        guint flags;
        int code; /* 0: accepted */
        const char *msg;
    } cases[] = {
        {SV_MIGRATION_CALL_BEGIN, OFFLINE | PERSIST, 0, NULL},
        {SV_MIGRATION_CALL_BEGIN, LIVE | SV_MIGRATE_PEER2PEER | SV_MIGRATE_TUNNELLED, 0, NULL},
        {SV_MIGRATION_CALL_BEGIN, 1u << 21, SV_ERR_INVALID_ARG,
         "unsupported flags (0x200000) in function qemuDomainMigrateBegin3Params"},
        {SV_MIGRATION_CALL_BEGIN, OFFLINE, SV_ERR_OPERATION_INVALID,
         "Requested operation is not valid: offline migration must be specified with the "
         "persistent flag set"},
        {SV_MIGRATION_CALL_BEGIN, OFFLINE | PERSIST | SV_MIGRATE_NON_SHARED_DISK,
         SV_ERR_OPERATION_INVALID,
         "Requested operation is not valid: offline migration cannot handle non-shared storage"},
        {SV_MIGRATION_CALL_BEGIN, OFFLINE | PERSIST | SV_MIGRATE_TUNNELLED,
         SV_ERR_OPERATION_INVALID,
         "Requested operation is not valid: tunnelled offline migration does not make sense"},
        {SV_MIGRATION_CALL_BEGIN, SV_MIGRATE_POSTCOPY, SV_ERR_ARGUMENT_UNSUPPORTED,
         "argument unsupported: post-copy migration is not supported with non-live or paused "
         "migration"},
        {SV_MIGRATION_CALL_BEGIN, LIVE | SV_MIGRATE_POSTCOPY | SV_MIGRATE_TUNNELLED,
         SV_ERR_ARGUMENT_UNSUPPORTED,
         "argument unsupported: post-copy is not supported with tunnelled migration"},
        {SV_MIGRATION_CALL_BEGIN, LIVE | SV_MIGRATE_ZEROCOPY, SV_ERR_OPERATION_INVALID,
         "Requested operation is not valid: zero-copy is only available for parallel migration"},
        {SV_MIGRATION_CALL_PREPARE, OFFLINE, SV_ERR_OPERATION_INVALID,
         "Requested operation is not valid: offline migration must be specified with the "
         "persistent flag set"},
        {SV_MIGRATION_CALL_FINISH, OFFLINE, 0, NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = sv_migration_flags_check(cases[i].call, cases[i].flags, NULL,
                                               "qemuDomainMigrateBegin3Params", &error);

        if (!cases[i].code) {
            g_assert_no_error(error);
            g_assert_true(ok);
            continue;
        }
        g_assert_false(ok);
        g_assert_error(error, sv_error_quark(SV_FROM_QEMU), cases[i].code);
        g_assert_cmpstr(error->message, ==, cases[i].msg);
    }
}

static void
test_tuning(void)
{
    g_autoptr(SvMigrationParams) p = sv_migration_params_new();
    g_autoptr(GError) error = NULL;
    SvMigrationValue mt = {.type = SV_TYPED_PARAM_INT, .v.i = 4};
    SvMigrationValue bogus = {.type = SV_TYPED_PARAM_STRING, .v.s = "zlib"};
    guint n, which = 0;
    const SvMigrationParamInfo *known = sv_migration_params_known(&n);

    g_assert_true(sv_migration_params_check_tuning(p, 0, &error));
    while (!g_str_equal(known[which].name, "compression.mt.threads"))
        which++;
    sv_migration_params_set(p, which, &mt);
    g_assert_false(sv_migration_params_check_tuning(p, SV_MIGRATE_COMPRESSED, &error));
    g_assert_cmpstr(error->message, ==, "invalid argument: Turn multithread compression on "
                                        "to tune it");
    g_clear_error(&error);
    which = 0;
    while (!g_str_equal(known[which].name, "compression"))
        which++;
    sv_migration_params_set(p, which, &bogus);
    g_assert_false(sv_migration_params_check_tuning(p, 0, &error));
    g_assert_cmpstr(error->message, ==, "invalid argument: Unsupported compression method "
                                        "'zlib'");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-params/read", test_read);
    g_test_add_func("/migration-params/read-errors", test_read_errors);
    g_test_add_func("/migration-params/flags", test_flags);
    g_test_add_func("/migration-params/tuning", test_tuning);
    return g_test_run();
}
