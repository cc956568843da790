/* test-migration-cookie.c: conf/migration_cookie.c, libvirt 9.0's QEMU migration cookie: a
 * cookie as libvirtd writes it read back field by field and written again byte for byte;
 * the persistent definition and the statistics sections; each refusal of
 * qemuMigrationCookieParse with its message. */
#include <glib.h>
#include <string.h>

#include "conf/migration_cookie.h"
#include "conf/uuid.h"
#include "util/error.h"

#define DOM_UUID "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
#define SRC_HOST "a4f2b6c8-0d11-4e22-8f33-445566778899"
#define DST_HOST "b5e3c7d9-1e22-4f33-9044-556677889900"

/* A prepare's answer as libvirtd 9.0 formats it (qemuMigrationCookieXMLFormat). */
static const char prepare_cookie[] =
    "<qemu-migration>\n"
    "  <name>guest</name>\n"
    "  <uuid>" DOM_UUID "</uuid>\n"
    "  <hostname>dst.example</hostname>\n"
    "  <hostuuid>" DST_HOST "</hostuuid>\n"
    "  <feature name='memory-hotplug'/>\n"
    "  <graphics type='spice' port='5901' listen='0.0.0.0' tlsPort='-1'/>\n"
    "  <nbd port='49153'>\n"
    "    <disk target='vda' capacity='10737418240'/>\n"
    "  </nbd>\n"
    "  <capabilities>\n"
    "    <cap name='xbzrle' auto='no'/>\n"
    "    <cap name='late-block-activate' auto='yes'/>\n"
    "  </capabilities>\n"
    "</qemu-migration>\n";

#define ALL_SECTIONS 0xfff

/* Cookies Debian's libvirtd 9.0 sent our daemon (captured from its debug log in a live
 * migration libvirtd <-> ours, test_qemu_migration.py): its prepare's answer (every
 * capability its QEMU has, late-block-activate automatic), its perform's statistics, its
 * begin (the lock feature, the guest's CPU, pause-before-switchover automatic). */
#define LV_UUID "798015de-4637-485a-a75f-2eca257a9536"
#define LV_HOST "3170ca37-574f-4aab-a177-cfd11af48c08"
#define LV_HEAD                                                                               \
    "<qemu-migration>\n  <name>mig-lv-live</name>\n  <uuid>" LV_UUID "</uuid>\n"           \
    "  <hostname>vm</hostname>\n  <hostuuid>" LV_HOST "</hostuuid>\n"
#define LV_CAPS(pbs, lba)                                                                     \
    "  <capabilities>\n    <cap name='xbzrle' auto='no'/>\n"                                \
    "    <cap name='auto-converge' auto='no'/>\n    <cap name='rdma-pin-all' auto='no'/>\n"  \
    "    <cap name='postcopy-ram' auto='no'/>\n    <cap name='compress' auto='no'/>\n"       \
    "    <cap name='pause-before-switchover' auto='" pbs "'/>\n"                             \
    "    <cap name='late-block-activate' auto='" lba "'/>\n"                                 \
    "    <cap name='multifd' auto='no'/>\n    <cap name='dirty-bitmaps' auto='no'/>\n"       \
    "    <cap name='return-path' auto='no'/>\n    <cap name='zero-copy-send' auto='no'/>\n"  \
    "  </capabilities>\n"

static const char lv_prepare[] = LV_HEAD LV_CAPS("no", "yes") "</qemu-migration>\n";
static const char lv_perform[] =
    LV_HEAD "  <statistics>\n    <started>0</started>\n    <stopped>0</stopped>\n"
            "    <sent>0</sent>\n    <time_elapsed>18</time_elapsed>\n"
            "    <downtime>11</downtime>\n    <setup_time>1</setup_time>\n"
            "    <memory_total>34086912</memory_total>\n"
            "    <memory_processed>566390</memory_processed>\n"
            "    <memory_remaining>0</memory_remaining>\n    <memory_bps>0</memory_bps>\n"
            "    <memory_constant>8202</memory_constant>\n    <memory_normal>120</memory_normal>\n"
            "    <memory_normal_bytes>491520</memory_normal_bytes>\n"
            "    <memory_dirty_rate>0</memory_dirty_rate>\n"
            "    <memory_iteration>2</memory_iteration>\n"
            "    <memory_postcopy_requests>0</memory_postcopy_requests>\n"
            "    <memory_page_size>4096</memory_page_size>\n    <disk_total>0</disk_total>\n"
            "    <disk_processed>0</disk_processed>\n    <disk_remaining>0</disk_remaining>\n"
            "    <disk_bps>0</disk_bps>\n    <auto_converge_throttle>0</auto_converge_throttle>\n"
            "  </statistics>\n</qemu-migration>\n";
static const char lv_begin[] =
    LV_HEAD "  <feature name='lockstate'/>\n"
            "  <cpu mode='custom' match='exact' check='full'>\n"
            "    <model fallback='forbid'>qemu64</model>\n"
            "    <feature policy='require' name='hypervisor'/>\n"
            "    <feature policy='require' name='lahf_lm'/>\n"
            "  </cpu>\n" LV_CAPS("yes", "no") "</qemu-migration>\n";

static SvMigrationCookie *
parse_lv(const char *xml, guint accept, GError **error)
{
    guint8 uuid[16], mine[16];
    SvMigCookieExpect expect = {"mig-lv-live", uuid, mine, NULL};

    g_assert_true(sv_uuid_parse(LV_UUID, uuid));
    g_assert_true(sv_uuid_parse(DST_HOST, mine));
    return sv_migration_cookie_parse(xml, strlen(xml) + 1, accept, &expect, error);
}

static void
test_libvirtd_cookies(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationCookie) prep = parse_lv(lv_prepare, SV_MIG_COOKIE_CAPS, &error);
    g_autoptr(SvMigrationCookie) perf = NULL;
    g_autoptr(SvMigrationCookie) begin = NULL;
    g_autofree char *prep_again = NULL, *perf_again = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(prep->caps->len, ==, 11);
    g_assert_true(g_array_index(prep->caps, SvMigCookieCap, 6).automatic);
    prep_again = sv_migration_cookie_format(prep);
    g_assert_cmpstr(prep_again, ==, lv_prepare);

    perf = parse_lv(lv_perform, SV_MIG_COOKIE_STATS, &error);
    g_assert_no_error(error);
    g_assert_true(perf->stats->has_downtime && perf->stats->has_setup_time &&
                  perf->stats->has_memory_constant && !perf->stats->has_delta);
    g_assert_cmpuint(perf->stats->downtime, ==, 11);
    perf_again = sv_migration_cookie_format(perf);
    g_assert_cmpstr(perf_again, ==, lv_perform);

    /* What our prepare reads of a begin cookie: the lock feature is known, the CPU kept. */
    begin = parse_lv(lv_begin,
                     SV_MIG_COOKIE_LOCKSTATE | SV_MIG_COOKIE_NBD | SV_MIG_COOKIE_CPU |
                         SV_MIG_COOKIE_CAPS,
                     &error);
    g_assert_no_error(error);
    g_assert_true(begin->mandatory == SV_MIG_COOKIE_LOCKSTATE);
    g_assert_nonnull(begin->cpu_xml);
    g_assert_nonnull(strstr(begin->cpu_xml, "qemu64"));
    g_assert_true(g_array_index(begin->caps, SvMigCookieCap, 5).automatic);
}

static SvMigrationCookie *
parse(const char *xml, guint accept, const char *host, GError **error)
{
    guint8 uuid[16], mine[16];
    SvMigCookieExpect expect = {"guest", uuid, mine, NULL};

    g_assert_true(sv_uuid_parse(DOM_UUID, uuid));
    g_assert_true(sv_uuid_parse(host, mine));
    return sv_migration_cookie_parse(xml, strlen(xml) + 1, accept, &expect, error);
}

static void
test_libvirt_cookie(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationCookie) c = parse(prepare_cookie, ALL_SECTIONS, SRC_HOST, &error);
    g_autofree char *again = NULL;
    const SvMigCookieNbdDisk *d;
    const SvMigCookieCap *cap;

    g_assert_no_error(error);
    g_assert_cmpstr(c->hostname, ==, "dst.example");
    g_assert_true(c->mandatory == SV_MIG_COOKIE_MEMORY_HOTPLUG);
    g_assert_nonnull(c->graphics);
    g_assert_cmpstr(c->graphics->type, ==, "spice");
    g_assert_cmpint(c->graphics->port, ==, 5901);
    g_assert_cmpint(c->graphics->tls_port, ==, -1);
    g_assert_cmpint(c->nbd_port, ==, 49153);
    g_assert_cmpuint(c->nbd_disks->len, ==, 1);
    d = &g_array_index(c->nbd_disks, SvMigCookieNbdDisk, 0);
    g_assert_cmpstr(d->target, ==, "vda");
    g_assert_cmpuint(d->capacity, ==, G_GUINT64_CONSTANT(10737418240));
    g_assert_cmpuint(c->caps->len, ==, 2);
    cap = &g_array_index(c->caps, SvMigCookieCap, 1);
    g_assert_cmpstr(cap->name, ==, "late-block-activate");
    g_assert_true(cap->automatic);
    /* written again as libvirt wrote it */
    again = sv_migration_cookie_format(c);
    g_assert_cmpstr(again, ==, prepare_cookie);
}

static void
test_sections_not_accepted(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationCookie) c =
        parse(prepare_cookie, SV_MIG_COOKIE_MEMORY_HOTPLUG, SRC_HOST, &error);

    g_assert_no_error(error);
    g_assert_null(c->graphics);
    g_assert_null(c->nbd_disks);
    g_assert_cmpuint(c->flags, ==, 0);
}

static void
test_begin_cookie_and_stats(void)
{
    guint8 uuid[16], host[16];
    g_autoptr(SvMigrationCookie) c = NULL;
    g_autoptr(SvMigrationCookie) back = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    SvMigCookieStats s = {.started = 1700000000000, .stopped = 1700000001000,
                          .sent = 1700000001001, .time_elapsed = 1000, .has_downtime = TRUE,
                          .downtime = 42, .memory_total = 134217728, .auto_converge_throttle = 0};

    g_assert_true(sv_uuid_parse(DOM_UUID, uuid));
    g_assert_true(sv_uuid_parse(SRC_HOST, host));
    c = sv_migration_cookie_new("guest", uuid, "src.example", host);
    sv_migration_cookie_add_lockstate(c, "nop", NULL);
    sv_migration_cookie_add_stats(c, &s);
    xml = sv_migration_cookie_format(c);
    /* the lock feature is mandatory even with no lease to send, as libvirt's "nop" */
    g_assert_nonnull(strstr(xml, "  <feature name='lockstate'/>\n  <statistics>\n"
                                 "    <started>1700000000000</started>\n"));
    g_assert_nonnull(strstr(xml, "    <downtime>42</downtime>\n"));
    g_assert_null(strstr(xml, "<lockstate"));
    g_assert_null(strstr(xml, "setup_time"));
    back = parse(xml, SV_MIG_COOKIE_LOCKSTATE | SV_MIG_COOKIE_STATS, DST_HOST, &error);
    g_assert_no_error(error);
    g_assert_nonnull(back->stats);
    g_assert_true(back->stats->has_downtime);
    g_assert_cmpuint(back->stats->downtime, ==, 42);
    g_assert_cmpuint(back->stats->memory_total, ==, 134217728);
    g_assert_false(back->stats->has_setup_time);
}

static void
test_persistent(void)
{
    static const char xml[] =
        "<qemu-migration>\n  <name>guest</name>\n  <uuid>" DOM_UUID "</uuid>\n"
        "  <hostname>s</hostname>\n  <hostuuid>" SRC_HOST "</hostuuid>\n"
        "  <feature name='persistent'/>\n"
        "  <domain type='qemu'>\n    <name>guest</name>\n    <uuid>" DOM_UUID "</uuid>\n"
        "    <memory unit='KiB'>65536</memory>\n    <vcpu>1</vcpu>\n"
        "    <os>\n      <type arch='x86_64' machine='pc'>hvm</type>\n    </os>\n"
        "  </domain>\n</qemu-migration>\n";
    guint8 uuid[16], mine[16];
    SvMigCookieExpect expect = {"guest", uuid, mine, "renamed"};
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationCookie) c = NULL;

    g_assert_true(sv_uuid_parse(DOM_UUID, uuid));
    g_assert_true(sv_uuid_parse(DST_HOST, mine));
    c = sv_migration_cookie_parse(xml, sizeof(xml), SV_MIG_COOKIE_PERSISTENT, &expect, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c->persistent);
    /* the destination's name (DEST_NAME) replaces the one sent */
    g_assert_cmpstr(c->persistent->name, ==, "renamed");
}

static void
test_refusals(void)
{
    static const struct {
        const char *xml;
        guint accept;
        const char *msg;
    } cases[] = {
        {"<qemu-migration><name>other</name></qemu-migration>", 0,
         "internal error: Incoming cookie data had unexpected name other vs guest"},
        {"<qemu-migration><uuid>" DOM_UUID "</uuid></qemu-migration>", 0,
         "internal error: missing name element in migration data"},
        {"<qemu-migration><name>guest</name><uuid>" SRC_HOST "</uuid></qemu-migration>", 0,
         "internal error: Incoming cookie data had unexpected UUID " SRC_HOST " vs " DOM_UUID},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid></qemu-migration>", 0,
         "internal error: missing hostname element in migration data"},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>" DST_HOST "</hostuuid></qemu-migration>", 0,
         "internal error: Attempt to migrate guest to the same host " DST_HOST},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>x</hostuuid></qemu-migration>", 0,
         "internal error: malformed hostuuid element in migration data"},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>" SRC_HOST "</hostuuid><feature name='lockstate'/></qemu-migration>",
         SV_MIG_COOKIE_NBD, "internal error: Unsupported migration cookie feature lockstate"},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>" SRC_HOST "</hostuuid><feature name='bogus'/></qemu-migration>",
         ALL_SECTIONS, "internal error: Unknown migration cookie feature bogus"},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>" SRC_HOST "</hostuuid><nbd port='x'/></qemu-migration>",
         SV_MIG_COOKIE_NBD, "internal error: Malformed nbd port 'x'"},
        {"<qemu-migration><name>guest</name><uuid>" DOM_UUID "</uuid><hostname>h</hostname>"
         "<hostuuid>" SRC_HOST "</hostuuid><nbd><disk target='vda'/></nbd></qemu-migration>",
         SV_MIG_COOKIE_NBD, "internal error: Malformed disk capacity: '<null>'"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvMigrationCookie) c = parse(cases[i].xml, cases[i].accept, DST_HOST, &error);

        g_assert_null(c);
        g_assert_error(error, sv_error_quark(SV_FROM_QEMU), SV_ERR_INTERNAL_ERROR);
        g_assert_cmpstr(error->message, ==, cases[i].msg);
    }
}

static void
test_not_terminated_and_empty(void)
{
    guint8 uuid[16], mine[16];
    SvMigCookieExpect expect = {"guest", uuid, mine, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(SvMigrationCookie) empty = NULL;

    g_assert_true(sv_uuid_parse(DOM_UUID, uuid));
    g_assert_true(sv_uuid_parse(DST_HOST, mine));
    g_assert_null(sv_migration_cookie_parse("<a/>", 4, 0, &expect, &error));
    g_assert_cmpstr(error->message, ==, "internal error: Migration cookie was not NULL terminated");
    g_clear_error(&error);
    empty = sv_migration_cookie_parse(NULL, 0, ALL_SECTIONS, &expect, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(empty->flags, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-cookie/libvirt", test_libvirt_cookie);
    g_test_add_func("/migration-cookie/libvirtd-captured", test_libvirtd_cookies);
    g_test_add_func("/migration-cookie/not-accepted", test_sections_not_accepted);
    g_test_add_func("/migration-cookie/begin-stats", test_begin_cookie_and_stats);
    g_test_add_func("/migration-cookie/persistent", test_persistent);
    g_test_add_func("/migration-cookie/refusals", test_refusals);
    g_test_add_func("/migration-cookie/empty", test_not_terminated_and_empty);
    return g_test_run();
}
