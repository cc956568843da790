/* test-cpu-x86.c: conf/cpu_map.c and conf/cpu_x86*.c on libvirt's CPU map as Debian's
 * libvirt0 installs it and on fixed CPUID data (tests/data/cpumap): the map's facts, the
 * CPUID walk, the host CPU decoded as libvirtd 9.0.0 decoded it on the machine the data
 * comes from, the comparison and the baselines libvirtd answered there. */
#include <glib.h>
#include <glib/gstdio.h>

#include "conf/cpu_map.h"
#include "conf/cpu_x86.h"
#include "conf/cpu_x86_host.h"
#include "conf/domain_conf.h"
#include "protocol/sv_wire_constants.h"
#include "util/error.h"

#define CASE "amd-epyc-kvm"

static const SvCpuMap *
map(void)
{
    g_autoptr(GError) error = NULL;
    const SvCpuMap *m = sv_cpu_map_get(&error);

    g_assert_no_error(error);
    return m;
}

static char *
data_file(const char *suffix)
{
    g_autofree char *name = g_strconcat(CASE, ".", suffix, NULL);
    g_autofree char *path = g_build_filename(SV_TEST_DATA_DIR, name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static GArray *
fixture_data(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = data_file("cpudata");
    GArray *data = sv_cpu_data_parse(xml, &error);

    g_assert_no_error(error);
    return data;
}

static SvCpuDef *
host_cpu(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) data = fixture_data();
    SvCpuDef *cpu = g_new0(SvCpuDef, 1);
    guint sig[3];

    cpu->host = TRUE;
    cpu->mode = -1;
    cpu->arch = g_strdup("x86_64");
    cpu->features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    g_assert_true(sv_cpu_x86_decode(map(), data, NULL, NULL, FALSE, cpu, sig, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(sig[0], ==, 25);
    g_assert_cmpuint(sig[1], ==, 17);
    g_assert_cmpuint(sig[2], ==, 1);
    return cpu;
}

static void
test_map_facts(void)
{
    const SvCpuMap *m = map();
    const SvCpuModel *epyc = sv_cpu_map_model(m, "EPYC");
    const SvCpuModel *cascade = sv_cpu_map_model(m, "Cascadelake-Server");
    const SvCpuFeature *invtsc = sv_cpu_map_feature(m, "invtsc");
    const SvCpuSignature *sig;

    g_assert_cmpuint(m->vendors->len, ==, 3);
    g_assert_cmpstr(((SvCpuModel *)m->models->pdata[0])->name, ==, "486");
    g_assert_cmpstr(((SvCpuModel *)m->models->pdata[m->models->len - 1])->name, ==, "Dhyana");
    g_assert_nonnull(epyc);
    g_assert_cmpstr(epyc->vendor->name, ==, "AMD");
    g_assert_true(epyc->decode_host && epyc->decode_guest);
    sig = &g_array_index(epyc->signatures, SvCpuSignature, 0);
    g_assert_cmpuint(sig->family, ==, 23);
    g_assert_cmpuint(sig->model, ==, 1);
    g_assert_cmpuint(sig->steppings, ==, 0xffff);
    g_assert_true(g_strv_contains((const char *const *)epyc->removed, "monitor"));
    sig = &g_array_index(cascade->signatures, SvCpuSignature, 0);
    g_assert_cmpuint(sig->steppings, ==, 0x00e0); /* stepping='5-7' */
    g_assert_false(invtsc->migratable);
    g_assert_true(sv_cpu_map_feature(m, "sse2")->migratable);
    g_assert_null(sv_cpu_map_model(m, "Nonexist"));
}

static void
test_map_missing(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("cpumap-XXXXXX", NULL);
    g_autoptr(SvCpuMap) m = sv_cpu_map_load(dir, &error);

    g_assert_null(m);
    g_assert_error(error, sv_error_quark(SV_FROM_CPU), SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "index.xml"));
    g_rmdir(dir);
}

/* The CPUID walk asks what libvirt asks: fed the fixture's answers it gives back the
 * fixture (the leaves and sub-leaves libvirt reads, no others). */
static void
fake_cpuid(guint32 leaf, guint32 sub, guint32 out[4], gpointer opaque)
{
    SvCpuItem key = {.type = SV_CPU_ITEM_CPUID, .in = {leaf, sub}};
    const SvCpuItem *it = sv_cpu_data_get(opaque, &key);

    memset(out, 0, 4 * sizeof(guint32));
    if (it)
        memcpy(out, it->reg, 4 * sizeof(guint32));
}

static void
test_cpuid_walk(void)
{
    g_autoptr(GArray) fixture = fixture_data();
    g_autoptr(GArray) walked = sv_cpu_x86_read_cpuid(fake_cpuid, fixture);
    guint n = 0;

    for (guint i = 0; i < walked->len; i++) {
        const SvCpuItem *it = &g_array_index(walked, SvCpuItem, i);
        const SvCpuItem *want = sv_cpu_data_get(fixture, it);

        if (!(it->reg[0] | it->reg[1] | it->reg[2] | it->reg[3]))
            continue;
        g_assert_nonnull(want);
        g_assert_cmpmem(it->reg, sizeof(it->reg), want->reg, sizeof(want->reg));
        n++;
    }
    g_assert_cmpuint(n, ==, fixture->len);
}

/* The capabilities' <model>, <vendor> and <feature> lines libvirtd printed. */
static void
test_host_decode(void)
{
    g_autoptr(SvCpuDef) cpu = host_cpu();
    g_autofree char *want = data_file("host");
    GString *got = g_string_new(NULL);
    g_autofree char *text = NULL;

    g_string_append_printf(got, "<model>%s</model>\n<vendor>%s</vendor>\n", cpu->model,
                           cpu->vendor);
    for (guint i = 0; i < cpu->features->len; i++) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        g_assert_cmpint((int)f->policy, ==, -1);
        g_string_append_printf(got, "<feature name='%s'/>\n", f->name);
    }
    text = g_string_free(got, FALSE);
    g_assert_cmpstr(text, ==, want);
}

static int
compare_doc(const SvCpuDef *host, const char *xml, gboolean fail, GError **error)
{
    g_autoptr(SvCpuDef) cpu = sv_cpu_def_parse(xml, FALSE, error);

    g_assert_nonnull(cpu);
    return sv_cpu_x86_compare(map(), host, cpu, fail, error);
}

static void
test_compare(void)
{
    g_autoptr(SvCpuDef) host = host_cpu();
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(compare_doc(host, "<cpu><model>kvm64</model></cpu>", FALSE, NULL), ==,
                    SV_CPU_COMPARE_SUPERSET);
    g_assert_cmpint(compare_doc(host, "<cpu><model>qemu64</model></cpu>", FALSE, NULL), ==,
                    SV_CPU_COMPARE_INCOMPATIBLE);
    g_assert_cmpint(compare_doc(host, "<cpu><model>qemu64</model></cpu>", TRUE, &error), ==, -1);
    g_assert_error(error, sv_error_quark(SV_FROM_CPU), SV_ERR_CPU_INCOMPATIBLE);
    g_assert_cmpstr(error->message, ==,
                    "the CPU is incompatible with host CPU: Host CPU does not provide required "
                    "features: svm");
    g_clear_error(&error);
    /* A disabled svm makes qemu64 fit; optional features do not count. */
    g_assert_cmpint(compare_doc(host,
                                "<cpu><model>qemu64</model>"
                                "<feature policy='disable' name='svm'/></cpu>",
                                FALSE, NULL),
                    ==, SV_CPU_COMPARE_SUPERSET);
    g_assert_cmpint(compare_doc(host,
                                "<cpu><model>EPYC-Milan</model><vendor>Intel</vendor></cpu>",
                                TRUE, &error),
                    ==, -1);
    g_assert_cmpstr(error->message, ==,
                    "the CPU is incompatible with host CPU: host CPU vendor does not match "
                    "required CPU vendor Intel");
}

/* baselineCPU of the host CPU with each flag: libvirtd's answers. */
static void
test_baseline(void)
{
    for (guint flags = 0; flags < 4; flags++) {
        g_autoptr(SvCpuDef) host = host_cpu();
        g_autoptr(GError) error = NULL;
        g_autoptr(SvCpuDef) cpu = sv_cpu_x86_baseline(map(), &host, 1, NULL, NULL, flags & 2,
                                                         &error);
        g_autofree char *suffix = g_strdup_printf("baseline-%u", flags);
        g_autofree char *want = data_file(suffix);
        g_autofree char *got = NULL;

        g_assert_no_error(error);
        sv_cpu_x86_drop_qemu_filtered(cpu);
        if (flags & 1)
            g_assert_true(sv_cpu_x86_expand(map(), cpu, &error));
        got = sv_cpu_x86_format_guest(cpu);
        g_assert_cmpstr(got, ==, want);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test(SV_CPU_MAP_DIR_DEFAULT "/index.xml", G_FILE_TEST_EXISTS)) {
        /* libvirt0 (scripts/deps.sh) installs it; without it nothing here can run. */
        g_test_skip("libvirt's CPU map is not installed");
        return g_test_run();
    }
    g_test_add_func("/cpu-x86/map-facts", test_map_facts);
    g_test_add_func("/cpu-x86/map-missing", test_map_missing);
    g_test_add_func("/cpu-x86/cpuid-walk", test_cpuid_walk);
    g_test_add_func("/cpu-x86/host-decode", test_host_decode);
    g_test_add_func("/cpu-x86/compare", test_compare);
    g_test_add_func("/cpu-x86/baseline", test_baseline);
    return g_test_run();
}
