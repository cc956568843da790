/* test-qemu-platform.c: the platform parts of a QEMU command line that the argv goldens
 * cannot show: the -cpu flags (the CPU code appends them), the RTC base of a variable
 * clock at a given time, QEMU's TZ, the bootindex each device gets from <os><boot dev>;
 * and the platform enums' string tables. Expected values are libvirtd 9.0's
 * (`virsh domxml-to-native qemu-argv`) for the same XML. */
#include <string.h>

#include "conf/domain_conf.h"
#include "conf/uuid.h"
#include "qemu_command_platform.h"

static const char *data_dir = SV_TEST_DATA_DIR;

static SvDomainDef *
parse_file(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    SvDomainDef *def;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    return def;
}

static SvDomainDef *
parse_snippet(const char *top, const char *os, const char *devices)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>p</name><memory unit='MiB'>64</memory>%s"
        "<os><type arch='x86_64' machine='pc'>hvm</type>%s</os>"
        "<devices>%s</devices></domain>",
        top, os, devices);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);

    g_assert_no_error(error);
    return def;
}

static char *
cpu_flags(const SvDomainDef *def)
{
    GString *s = g_string_new("qemu64");

    qemu_platform_cpu_flags(def, s);
    return g_string_free(s, FALSE);
}

/* What libvirtd writes after the model for the goldens' XML. */
static void
test_cpu_flags(void)
{
    g_autoptr(SvDomainDef) win = parse_file("plat-q35-windows");
    g_autoptr(SvDomainDef) timers = parse_file("plat-pc-timers");
    g_autoptr(SvDomainDef) all = NULL;
    g_autofree char *a = cpu_flags(win);
    g_autofree char *b = cpu_flags(timers);
    g_autofree char *c = NULL;

    g_assert_cmpstr(a, ==, "qemu64,hv-time=on,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff");
    g_assert_cmpstr(b, ==, "qemu64,kvmclock=off");
    {
        g_autoptr(SvDomainDef) pv = parse_file("plat-kvm-pv");
        g_autofree char *e = cpu_flags(pv);

        g_assert_cmpstr(e, ==, "qemu64,kvm-pv-eoi=off,kvm-pv-unhalt=off,pmu=off");
    }
    {
        /* libvirtd: hint-dedicated and poll-control only when on, pv-ipi only when off. */
        g_autoptr(SvDomainDef) on = parse_snippet(
            "<features><kvm><hidden state='on'/><hint-dedicated state='on'/>"
            "<poll-control state='on'/><pv-ipi state='off'/></kvm><pmu state='off'/></features>",
            "", "");
        g_autoptr(SvDomainDef) off = parse_snippet(
            "<features><kvm><hint-dedicated state='off'/><poll-control state='off'/>"
            "<pv-ipi state='on'/></kvm></features>",
            "", "");
        g_autofree char *f = cpu_flags(on);
        g_autofree char *g = cpu_flags(off);

        g_assert_cmpstr(f, ==, "qemu64,kvm=off,kvm-hint-dedicated=on,kvm-poll-control=on,"
                               "kvm-pv-ipi=off,pmu=off");
        g_assert_cmpstr(g, ==, "qemu64");
    }
    /* Every enlightenment, kvm hidden, and timers in document order; off ones say nothing. */
    all = parse_snippet("<features><hyperv><relaxed state='on'/><vapic state='off'/>"
                        "<spinlocks state='on' retries='4095'/><vpindex state='on'/>"
                        "<synic state='on'/><stimer state='on'/><frequencies state='on'/>"
                        "</hyperv><kvm><hidden state='on'/></kvm></features>"
                        "<clock offset='localtime'><timer name='hypervclock' present='yes'/>"
                        "<timer name='kvmclock' present='yes'/><timer name='tsc' present='no'/>"
                        "</clock>",
                        "", "");
    c = cpu_flags(all);
    g_assert_cmpstr(c, ==,
                    "qemu64,hv-time=on,kvmclock=on,hv-relaxed=on,hv-spinlocks=0xfff,"
                    "hv-vpindex=on,hv-synic=on,hv-stimer=on,hv-frequencies=on,kvm=off");
    {
        g_autoptr(SvDomainDef) pv = parse_snippet(
            "<features><acpi/><apic eoi='on'/><hyperv><relaxed state='on'/></hyperv>"
            "<kvm><hidden state='on'/></kvm><pvspinlock state='on'/><pmu/></features>"
            "<clock offset='utc'><timer name='kvmclock' present='yes'/></clock>",
            "", "");
        g_autofree char *d = cpu_flags(pv);

        g_assert_cmpstr(d, ==, "qemu64,kvmclock=on,kvm-pv-eoi=on,kvm-pv-unhalt=on,hv-relaxed=on,"
                               "kvm=off,pmu=on");
    }
}

static char *
rtc_at(const char *clock, gint64 unix_time)
{
    g_autofree char *top = g_strdup_printf("%s", clock);
    g_autoptr(SvDomainDef) def = parse_snippet(top, "", "");
    g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc(unix_time);

    return qemu_platform_rtc_value(def, now);
}

/* A variable clock starts at now + adjustment; a localtime basis adds the host's offset
 * from UTC (TZ is two hours east for this test). 1700000000 is 2023-11-14T22:13:20Z. */
static void
test_rtc_variable(void)
{
    g_autofree char *utc = rtc_at("<clock offset='variable' adjustment='3600'/>", 1700000000);
    g_autofree char *neg = rtc_at("<clock offset='utc' adjustment='-86400'>"
                                  "<timer name='rtc' track='guest' tickpolicy='catchup'/></clock>",
                                  1700000000);
    g_autofree char *local = rtc_at("<clock offset='variable' basis='localtime' adjustment='0'/>",
                                    1700000000);
    g_autofree char *reset = rtc_at("<clock offset='localtime' adjustment='reset'/>", 1700000000);

    g_assert_cmpstr(utc, ==, "base=2023-11-14T23:13:20");
    g_assert_cmpstr(neg, ==, "base=2023-11-13T22:13:20,clock=vm,driftfix=slew");
    g_assert_cmpstr(local, ==, "base=2023-11-15T00:13:20");
    g_assert_cmpstr(reset, ==, "base=localtime");
}

/* At start the localtime basis becomes UTC plus the host's offset, as libvirt's live XML
 * shows it; the guest's clock is the same. */
static void
test_prepare_live_variable(void)
{
    g_autoptr(SvDomainDef) def =
        parse_snippet("<clock offset='localtime' adjustment='-60'/>", "", "");
    g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc(1700000000);
    g_autofree char *before = qemu_platform_rtc_value(def, now);
    g_autofree char *after = NULL;
    g_autofree char *xml = NULL;

    qemu_platform_prepare_live(def, now);
    after = qemu_platform_rtc_value(def, now);
    g_assert_cmpstr(before, ==, after);
    g_assert_cmpstr(after, ==, "base=2023-11-15T00:12:20");
    xml = sv_domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(xml, "<clock offset='variable' adjustment='7140' basis='utc'/>"));
}

/* offset='timezone': QEMU runs with TZ set and base=localtime (libvirt's env and argv). */
static void
test_timezone_env(void)
{
    g_autoptr(SvDomainDef) def = parse_file("plat-timezone");
    g_autoptr(SvDomainDef) utc = parse_snippet("", "", "");
    g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);

    qemu_platform_env(def, env);
    g_assert_cmpuint(env->len, ==, 1);
    g_assert_cmpstr(env->pdata[0], ==, "TZ=Europe/Paris");
    qemu_platform_env(utc, env);
    g_assert_cmpuint(env->len, ==, 1);
}

#define DISKS                                                                                  \
    "<disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>"  \
    "</disk><disk type='file' device='disk'><source file='/b.img'/>"                           \
    "<target dev='vdb' bus='virtio'/></disk><disk type='file' device='cdrom'>"                 \
    "<source file='/c.iso'/><target dev='hdc' bus='ide'/></disk>"                              \
    "<interface type='user'><model type='virtio'/></interface>"                                \
    "<interface type='user'><model type='virtio'/></interface>"

static guint
disk_index(const SvDomainDef *def, guint i)
{
    return qemu_platform_boot_index(def, &((SvDomainDiskDef *)def->disks->pdata[i])->info);
}

static guint
net_index(const SvDomainDef *def, guint i)
{
    return qemu_platform_boot_index(def, &((SvDomainNetDef *)def->interfaces->pdata[i])->info);
}

/* As libvirtd gives them: cdrom, hd, network -> ide0-1-0 1, virtio-disk0 2, net0 3. */
static void
test_boot_index(void)
{
    g_autoptr(SvDomainDef) three = parse_snippet(
        "", "<boot dev='cdrom'/><boot dev='hd'/><boot dev='network'/>", DISKS);
    g_autoptr(SvDomainDef) deflt = parse_snippet("", "", DISKS);
    g_autoptr(SvDomainDef) order = parse_snippet(
        "", "",
        "<disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>"
        "</disk><interface type='user'><boot order='1'/></interface>");
    g_autoptr(GError) error = NULL;
    SvDomainDef *both;

    g_assert_cmpuint(disk_index(three, 0), ==, 2);
    g_assert_cmpuint(disk_index(three, 1), ==, 0);
    g_assert_cmpuint(disk_index(three, 2), ==, 1);
    g_assert_cmpuint(net_index(three, 0), ==, 3);
    g_assert_cmpuint(net_index(three, 1), ==, 0);
    /* The default <boot dev='hd'/>. */
    g_assert_cmpuint(disk_index(deflt, 0), ==, 1);
    g_assert_cmpuint(disk_index(deflt, 2), ==, 0);
    g_assert_cmpuint(net_index(deflt, 0), ==, 0);
    /* A per-device order: no default boot device is added, and only that device boots. */
    g_assert_cmpuint(order->os.n_boot_devs, ==, 0);
    g_assert_cmpuint(disk_index(order, 0), ==, 0);
    g_assert_cmpuint(net_index(order, 0), ==, 1);
    /* Both kinds: libvirt's error. */
    both = sv_domain_def_parse("<domain type='qemu'><name>p</name><memory>65536</memory>"
                               "<os><type>hvm</type><boot dev='hd'/></os><devices>"
                               "<interface type='user'><boot order='1'/></interface>"
                               "</devices></domain>",
                               SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_null(both);
    g_assert_cmpstr(error->message, ==,
                    "unsupported configuration: per-device boot elements cannot be used "
                    "together with os/boot elements");
}

/* An empty <genid/> is generated when defined (libvirt's -device vmgenid guid) and kept by
 * every copy, as the guest must see the same generation ID until it is changed. */
static void
test_genid_generated(void)
{
    g_autoptr(SvDomainDef) a = parse_snippet("<genid/>", "", "");
    g_autoptr(SvDomainDef) b = parse_snippet("<genid/>", "", "");
    g_autoptr(SvDomainDef) copy = sv_domain_def_copy(a);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = sv_domain_def_format(a, -1, SV_DOMAIN_FORMAT_INACTIVE);
    g_autofree char *want = NULL;
    char uuid[37];

    g_assert_true(a->genid);
    g_assert_true(memcmp(a->genid_uuid, b->genid_uuid, 16) != 0);
    g_assert_true(memcmp(a->genid_uuid, copy->genid_uuid, 16) == 0);
    sv_uuid_format(a->genid_uuid, uuid);
    want = g_strdup_printf("  <genid>%s</genid>\n", uuid);
    g_assert_nonnull(strstr(xml, want));
    g_assert_true(qemu_platform_build_smbios_genid(a, argv, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(argv->len, ==, 2);
    g_assert_cmpstr(argv->pdata[0], ==, "-device");
    g_free(want);
    want = g_strdup_printf("{\"driver\":\"vmgenid\",\"guid\":\"%s\",\"id\":\"vmgenid0\"}", uuid);
    g_assert_cmpstr(argv->pdata[1], ==, want);
}

typedef const char *(*ToString)(int v);
typedef int (*FromString)(const char *s);

static void
check_table(ToString to, FromString from, int last)
{
    for (int i = 0; i < last; i++) {
        const char *s = to(i);

        g_assert_nonnull(s);
        g_assert_cmpint(from(s), ==, i);
    }
    g_assert_null(to(last));
    g_assert_null(to(-1));
    g_assert_cmpint(from("no-such-value"), ==, -1);
    g_assert_cmpint(from(NULL), ==, -1);
}

#define CHECK_TABLE(what, last) check_table(sv_domain_##what##_to_string, sv_domain_##what##_from_string, last)

static void
test_string_tables(void)
{
    CHECK_TABLE(ioapic, SV_DOMAIN_IOAPIC_LAST);
    CHECK_TABLE(hyperv_mode, SV_DOMAIN_HYPERV_MODE_LAST);
    CHECK_TABLE(hyperv, SV_DOMAIN_HYPERV_LAST);
    CHECK_TABLE(clock_basis, SV_DOMAIN_CLOCK_BASIS_LAST);
    CHECK_TABLE(timer_name, SV_DOMAIN_TIMER_LAST);
    CHECK_TABLE(timer_tickpolicy, SV_DOMAIN_TIMER_TICKPOLICY_LAST);
    CHECK_TABLE(timer_track, SV_DOMAIN_TIMER_TRACK_LAST);
    CHECK_TABLE(smbios_mode, SV_DOMAIN_SMBIOS_LAST);
    CHECK_TABLE(sysinfo_section, SV_DOMAIN_SYSINFO_LAST);
    g_assert_cmpstr(sv_domain_clock_offset_to_string(SV_DOMAIN_CLOCK_OFFSET_TIMEZONE), ==,
                    "timezone");
}

int
main(int argc, char **argv)
{
    /* Two hours east of UTC, without DST, before GLib reads the local zone. */
    g_setenv("TZ", "<+02>-2", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-platform/cpu-flags", test_cpu_flags);
    g_test_add_func("/qemu-platform/rtc-variable", test_rtc_variable);
    g_test_add_func("/qemu-platform/prepare-live-variable", test_prepare_live_variable);
    g_test_add_func("/qemu-platform/timezone-env", test_timezone_env);
    g_test_add_func("/qemu-platform/boot-index", test_boot_index);
    g_test_add_func("/qemu-platform/genid-generated", test_genid_generated);
    g_test_add_func("/qemu-platform/string-tables", test_string_tables);
    return g_test_run();
}
