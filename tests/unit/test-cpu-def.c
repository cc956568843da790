/* test-cpu-def.c: conf/cpu_def.c, the <cpu> documents of the CPU compare and baseline calls:
 * what is read from them and libvirt 9.0's error (code, domain, message) for each kind of
 * bad document, in the order libvirt's parser finds them. */
#include <glib.h>

#include "conf/cpu_def.h"
#include "conf/domain_conf.h"
#include "util/error.h"

static void
test_guest_cpu(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCpuDef) def = sv_cpu_def_parse(
        "<cpu match='minimum'><model fallback='forbid'>Skylake-Client</model>"
        "<vendor>Intel</vendor><feature policy='disable' name='hle'/><feature name='rtm'/>"
        "</cpu>",
        FALSE, &error);
    const SvDomainCpuFeatureDef *f;

    g_assert_no_error(error);
    g_assert_false(def->host);
    g_assert_null(def->arch);
    g_assert_cmpint(def->mode, ==, SV_DOMAIN_CPU_MODE_CUSTOM);
    g_assert_cmpint(def->match, ==, SV_DOMAIN_CPU_MATCH_MINIMUM);
    g_assert_cmpstr(def->model, ==, "Skylake-Client");
    g_assert_cmpstr(def->vendor, ==, "Intel");
    g_assert_cmpuint(def->features->len, ==, 2);
    f = def->features->pdata[0];
    g_assert_cmpstr(f->name, ==, "hle");
    g_assert_cmpint(f->policy, ==, SV_DOMAIN_CPU_FEATURE_DISABLE);
    f = def->features->pdata[1];
    g_assert_cmpint(f->policy, ==, SV_DOMAIN_CPU_FEATURE_REQUIRE);
}

/* A capabilities host CPU: <arch> makes it one; its features carry no policy. */
static void
test_host_cpu(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCpuDef) def = sv_cpu_def_parse(
        "<cpu>\n  <arch>x86_64</arch>\n  <model>kvm64</model>\n  <vendor>AMD</vendor>\n"
        "  <microcode version='16777317'/>\n"
        "  <topology sockets='1' dies='1' cores='2' threads='1'/>\n"
        "  <feature name='vme'/>\n  <pages unit='KiB' size='4'/>\n</cpu>\n",
        FALSE, &error);

    g_assert_no_error(error);
    g_assert_true(def->host);
    g_assert_cmpint(def->mode, ==, -1);
    g_assert_cmpstr(def->arch, ==, "x86_64");
    g_assert_cmpstr(def->model, ==, "kvm64");
    g_assert_cmpuint(def->features->len, ==, 1);
    g_assert_cmpint((int)((SvDomainCpuFeatureDef *)def->features->pdata[0])->policy, ==, -1);
}

static void
test_modes(void)
{
    static const struct {
        const char *xml;
        int mode;
    } cases[] = {
        {"<cpu mode='host-model'/>", SV_DOMAIN_CPU_MODE_HOST_MODEL},
        {"<cpu mode='host-passthrough' migratable='on'/>", SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH},
        {"<cpu mode='maximum'/>", SV_DOMAIN_CPU_MODE_MAXIMUM},
        {"<cpu/>", SV_DOMAIN_CPU_MODE_CUSTOM},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvCpuDef) def = sv_cpu_def_parse(cases[i].xml, FALSE, &error);

        g_assert_no_error(error);
        g_assert_cmpint(def->mode, ==, cases[i].mode);
        g_assert_null(def->model);
    }
}

typedef struct {
    const char *xml;
    gboolean host;
    int domain, code;
    const char *message;
} BadCase;

/* The errors libvirtd 9.0 gave for these documents (compareCPU, baselineCPU). */
static const BadCase bad[] = {
    {"<cpu", FALSE, SV_FROM_CPU, SV_ERR_XML_DETAIL,
     "(CPU_definition):1: Couldn't find end of Start Tag cpu line 1\n<cpu\n----^"},
    {"<foo/>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: XML does not contain expected 'cpu' element"},
    {"<domain><cpu/></domain>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: XML does not contain expected 'cpu' element"},
    {"<cpu match='exact'><model>qemu64</model><feature policy='bogus' name='svm'/></cpu>", FALSE,
     SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: Invalid CPU feature policy"},
    {"<cpu match='bogus'><model>qemu64</model></cpu>", FALSE, SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: Invalid value for attribute 'match' in element 'cpu': 'bogus'."},
    {"<cpu><vendor>AMD</vendor></cpu>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: CPU vendor specified without CPU model"},
    {"<cpu><feature name='sse2'/></cpu>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: Non-empty feature list specified without CPU model"},
    {"<cpu match='exact'><model>qemu64</model></cpu>", TRUE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: Missing CPU architecture"},
    {"<cpu><arch>x86_64</arch><vendor>AMD</vendor></cpu>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: Missing CPU model name"},
    {"<cpu mode='host-model'/>", TRUE, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: Attribute mode is only allowed for guest CPU"},
    {"<cpu><arch>vax</arch><model>a</model></cpu>", FALSE, SV_FROM_CPU,
     SV_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: Unknown architecture vax"},
    {"<cpu match='exact'><arch>x86_64</arch></cpu>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: 'arch' element cannot be used inside 'cpu' element with 'match' attribute'"},
    {"<cpu mode='custom' migratable='on'/>", FALSE, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: Attribute migratable is only allowed for 'host-passthrough' / "
     "'maximum' CPU mode"},
    {"<cpu><model>a</model><feature name='x'/><feature name='x'/></cpu>", FALSE, SV_FROM_CPU,
     SV_ERR_XML_ERROR, "XML error: CPU feature 'x' specified more than once"},
    {"<cpu><model>a</model><feature/></cpu>", FALSE, SV_FROM_CPU, SV_ERR_XML_ERROR,
     "XML error: Invalid CPU feature name"},
};

static void
test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCpuDef) def = sv_cpu_def_parse(c->xml, c->host, &error);

    g_assert_null(def);
    g_assert_error(error, sv_error_quark(c->domain), c->code);
    g_assert_cmpstr(error->message, ==, c->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-def/guest", test_guest_cpu);
    g_test_add_func("/cpu-def/host", test_host_cpu);
    g_test_add_func("/cpu-def/modes", test_modes);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/cpu-def/bad/%zu", i);

        g_test_add_data_func(name, &bad[i], test_bad);
    }
    return g_test_run();
}
