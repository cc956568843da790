/* test-qemu-caps.c: capabilities and domain capabilities from the outputs of a QEMU 7.2
 * probe captured in tests/data/qemu-argv/probe (qmp.txt and qmp-kvm.txt answer the
 * commands qemu_caps_qmp_commands() sends), and the firmware descriptors Debian's ovmf
 * installs (tests/data/qemu-caps/firmware). The goldens in tests/data/qemu-caps were
 * checked against Debian's libvirtd 9.0 on the same QEMU: tests/e2e/test_qemu_domcaps.py
 * compares the live outputs and names the differences kept. Then the probe itself, run
 * against a stand-in emulator that prints the captures, and its disk cache.
 * SV_REGENERATE=1 rewrites the goldens instead of comparing. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qemu_caps.h"
#include "qemu_caps_qmp.h"
#include "qemu_domcaps.h"
#include "util/error.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static const char *probe_dir = SV_TEST_PROBE_DIR;
static const char *data_dir = SV_TEST_DATA_DIR;

static char *
read_data(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static QemuCaps *
captured_caps(gboolean with_kvm)
{
    g_autofree char *version = read_data(probe_dir, "version.txt");
    g_autofree char *qmp = read_data(probe_dir, "qmp.txt");
    g_autofree char *qmp_kvm = read_data(probe_dir, "qmp-kvm.txt");
    g_autofree char *cpus = read_data(probe_dir, "cpu-help.txt");
    g_autofree char *devices = read_data(probe_dir, "device-help.txt");

    return qemu_caps_new_from_output(QEMU, version, qmp, with_kvm ? qmp_kvm : NULL, cpus, devices);
}

static void
compare_golden(const char *name, const char *got)
{
    g_autofree char *path = g_build_filename(data_dir, name, NULL);
    g_autofree char *want = NULL;

    if (g_getenv("SV_REGENERATE"))
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
    g_assert_true(g_file_get_contents(path, &want, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
}

static void
test_machines(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);
    const GPtrArray *m = qemu_caps_get_machines(caps);
    const QemuMachine *first = m->pdata[0], *second = m->pdata[1], *q35;

    g_assert_true(qemu_caps_is_ready(caps));
    /* The default machine first, then its alias; never microvm (clients take the first). */
    g_assert_cmpstr(first->name, ==, "pc-i440fx-7.2");
    g_assert_null(first->canonical);
    g_assert_cmpuint(first->max_cpus, ==, 255);
    g_assert_cmpstr(second->name, ==, "pc");
    g_assert_cmpstr(second->canonical, ==, "pc-i440fx-7.2");
    /* An alias right after its machine, in QEMU's order otherwise; "none" left out. */
    q35 = qemu_caps_find_machine(caps, "q35");
    g_assert_nonnull(q35);
    g_assert_cmpstr(q35->canonical, ==, "pc-q35-7.2");
    g_assert_cmpuint(q35->max_cpus, ==, 288);
    g_assert_null(qemu_caps_find_machine(caps, "none"));
    g_assert_true(qemu_caps_find_machine(caps, "pc-i440fx-1.4")->deprecated);
    g_assert_false(qemu_caps_find_machine(caps, "pc-i440fx-2.0")->deprecated);
    g_assert_cmpuint(m->len, ==, 60); /* as libvirtd lists them */
    g_assert_cmpstr(qemu_caps_get_arch(caps), ==, "x86_64");
}

static void
test_cpu_defs(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(TRUE);
    const GPtrArray *tcg = qemu_caps_get_cpu_defs(caps, FALSE);
    const GPtrArray *kvm = qemu_caps_get_cpu_defs(caps, TRUE);
    const QemuCpuDef *d;

    g_assert_cmpuint(tcg->len, ==, kvm->len);
    g_assert_cmpuint(tcg->len, >, 100);
    d = tcg->pdata[4];
    g_assert_cmpstr(d->name, ==, "qemu64");
    g_assert_cmpint(d->usable, ==, QEMU_CPU_USABLE_YES);
    /* This host's KVM lacks pni: qemu64 is not usable there. */
    d = kvm->pdata[4];
    g_assert_cmpstr(d->name, ==, "qemu64");
    g_assert_cmpint(d->usable, ==, QEMU_CPU_USABLE_NO);
    g_assert_true(qemu_caps_has_kvm(caps));
    for (int u = 0; u < QEMU_CPU_USABLE_LAST; u++)
        g_assert_nonnull(qemu_cpu_usable_to_string(u));
    g_assert_null(qemu_cpu_usable_to_string(QEMU_CPU_USABLE_LAST));
}

static void
test_probe_facts(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);

    g_assert_true(qemu_caps_has_spice(caps));
    g_assert_true(qemu_caps_has_vnc(caps));
    /* Compiled-in display types, whether or not their module is installed. */
    g_assert_true(qemu_caps_has_display(caps, "sdl"));
    g_assert_true(qemu_caps_has_display(caps, "dbus"));
    g_assert_false(qemu_caps_has_display(caps, "cocoa"));
    g_assert_true(qemu_caps_has_type(caps, "memory-backend-memfd"));
    g_assert_true(qemu_caps_has_type(caps, "vhost-user-fs-pci"));
    g_assert_false(qemu_caps_has_type(caps, "no-such-device"));
    g_assert_true(qemu_caps_has_tpm_model(caps, "tpm-crb"));
    g_assert_true(qemu_caps_has_tpm_type(caps, "emulator"));
    /* Without the KVM run, no KVM. */
    g_assert_false(qemu_caps_has_kvm(caps));
    g_assert_cmpuint(qemu_caps_get_cpu_defs(caps, TRUE)->len, ==, 0);
}

static void
test_guests(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(TRUE);
    g_autoptr(GString) s = g_string_new(NULL);

    qemu_capabilities_append_guests(s, caps, TRUE);
    compare_golden("guests.xml", s->str);
    g_string_truncate(s, 0);
    /* No usable /dev/kvm: no kvm domain. */
    qemu_capabilities_append_guests(s, caps, FALSE);
    g_assert_null(strstr(s->str, "<domain type='kvm'/>"));
    g_assert_nonnull(strstr(s->str, "<domain type='qemu'/>"));
}

static const char *const firmware_dirs[] = {SV_TEST_DATA_DIR "/firmware", NULL};

static char *
domcaps(const char *virttype, const char *machine, const char *arch, GError **error)
{
    g_autoptr(QemuCaps) caps = captured_caps(TRUE);
    QemuDomcapsRequest req = {
        .arch = arch,
        .machine = machine,
        .virttype = virttype,
        .kvm_usable = TRUE,
        .firmware_dirs = firmware_dirs,
    };

    return qemu_domcaps_get(caps, &req, error);
}

typedef struct {
    const char *virttype, *machine, *arch, *golden;
} DomcapsCase;

static const DomcapsCase domcaps_cases[] = {
    {"qemu", "pc", NULL, "domcaps-qemu-pc.xml"},
    {"qemu", "q35", NULL, "domcaps-qemu-q35.xml"},
    {"kvm", "pc", NULL, "domcaps-kvm-pc.xml"},
    {"kvm", "q35", NULL, "domcaps-kvm-q35.xml"},
    /* No descriptor fits: libvirt's built-in loader list, no efi. */
    {"qemu", "microvm", NULL, "domcaps-qemu-microvm.xml"},
    /* No built-in IDE for libvirt: no ide disk bus. */
    {"qemu", "isapc", NULL, "domcaps-qemu-isapc.xml"},
    {"qemu", NULL, "i686", "domcaps-qemu-i686.xml"},
};

static void
test_domcaps(gconstpointer data)
{
    const DomcapsCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = domcaps(c->virttype, c->machine, c->arch, &error);

    g_assert_no_error(error);
    compare_golden(c->golden, xml);
}

static void
test_domcaps_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dflt = domcaps(NULL, NULL, NULL, &error);
    g_autofree char *kvm_pc = domcaps("kvm", "pc", NULL, &error);
    g_autofree char *none = domcaps("none", NULL, "x86_64", &error);

    /* KVM where usable, the default machine, the host's arch; "none" is the default. */
    g_assert_no_error(error);
    g_assert_cmpstr(dflt, ==, kvm_pc);
    g_assert_cmpstr(none, ==, kvm_pc);
}

typedef struct {
    const char *emulatorbin, *arch, *machine, *virttype;
    unsigned int flags;
    int code;
    const char *message;
} ErrorCase;

/* libvirtd 9.0's answers to the same requests. */
static const ErrorCase error_cases[] = {
    {NULL, NULL, NULL, "xyz", 0, SV_ERR_INVALID_ARG, "invalid argument: unknown virttype: xyz"},
    {NULL, NULL, NULL, "lxc", 0, SV_ERR_INVALID_ARG,
     "invalid argument: Emulator '" QEMU "' does not support virt type 'lxc'"},
    {NULL, NULL, "nope", NULL, 0, SV_ERR_INVALID_ARG,
     "invalid argument: the machine 'nope' is not supported by emulator '" QEMU "'"},
    {NULL, "armv7l", NULL, NULL, 0, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unable to find any emulator to serve 'armv7l' architecture"},
    {NULL, "foo", NULL, NULL, 0, SV_ERR_INVALID_ARG, "invalid argument: unknown architecture: foo"},
    {"/nonexistent/qemu", NULL, NULL, NULL, 0, SV_ERR_SYSTEM_ERROR,
     "Cannot check QEMU binary /nonexistent/qemu: No such file or directory"},
    {QEMU, "armv7l", NULL, NULL, 0, SV_ERR_INVALID_ARG,
     "invalid argument: architecture from emulator 'x86_64' doesn't match given architecture "
     "'armv7l'"},
    {NULL, NULL, NULL, NULL, 1, SV_ERR_INVALID_ARG,
     "unsupported flags (0x1) in function qemuConnectGetDomainCapabilities"},
};

static void
test_domcaps_errors(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(TRUE);

    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        const ErrorCase *c = &error_cases[i];
        QemuDomcapsRequest req = {c->emulatorbin, c->arch, c->machine, c->virttype,  c->flags,
                                  TRUE,           FALSE,   FALSE,      firmware_dirs};
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = qemu_domcaps_get(caps, &req, &error);

        g_assert_null(xml);
        g_assert_nonnull(error);
        g_assert_cmpint(error->code, ==, c->code);
        g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_QEMU);
        g_assert_cmpstr(error->message, ==, c->message);
    }
}

static void
test_domcaps_kvm_unusable(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(TRUE);
    QemuDomcapsRequest req = {.virttype = "kvm", .firmware_dirs = firmware_dirs};
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = qemu_domcaps_get(caps, &req, &error);
    g_autofree char *dflt = NULL;

    g_assert_null(xml);
    g_assert_error(error, error->domain, SV_ERR_INVALID_ARG);
    g_assert_cmpstr(error->message, ==,
                    "invalid argument: Emulator '" QEMU "' does not support virt type 'kvm'");
    /* Then the default is qemu. */
    req.virttype = NULL;
    dflt = qemu_domcaps_get(caps, &req, NULL);
    g_assert_nonnull(strstr(dflt, "<domain>qemu</domain>"));
}

/* Host facts: VFIO gives a PCI backend, swtpm the emulator TPM backend. */
static void
test_domcaps_host(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);
    QemuDomcapsRequest req = {
        .virttype = "qemu", .vfio_usable = TRUE, .swtpm = TRUE, .firmware_dirs = firmware_dirs};
    g_autofree char *xml = qemu_domcaps_get(caps, &req, NULL);

    g_assert_nonnull(strstr(xml, "<enum name='pciBackend'>\n        <value>default</value>\n"
                                 "        <value>vfio</value>\n"));
    g_assert_nonnull(strstr(xml, "<value>passthrough</value>\n        <value>emulator</value>\n"));
}

/* A descriptor in an earlier directory replaces the one of the same name; an empty one
 * hides it. */
static void
test_firmware_override(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);
    const char *const dirs[] = {SV_TEST_DATA_DIR "/firmware-etc", SV_TEST_DATA_DIR "/firmware",
                                NULL};
    QemuDomcapsRequest req = {.virttype = "qemu", .machine = "q35", .firmware_dirs = dirs};
    g_autofree char *xml = qemu_domcaps_get(caps, &req, NULL);

    g_assert_nonnull(strstr(xml, "      <value>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</value>\n"
                                 "      <value>/usr/share/OVMF/OVMF_CODE_LOCAL.fd</value>\n"
                                 "      <enum name='type'>"));
    g_assert_null(strstr(xml, "OVMF_CODE_4M.ms.fd"));
    g_assert_null(strstr(xml, "OVMF_CODE_4M.fd"));
}

/* A document is made once per probe (its firmware descriptors read then), as libvirt keeps
 * them; new facts make it anew. */
static void
test_domcaps_kept(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);
    g_autofree char *dir = g_dir_make_tmp("sv-fw-XXXXXX", NULL);
    g_autofree char *src = g_build_filename(data_dir, "firmware", "60-edk2-x86_64.json", NULL);
    g_autofree char *dst = g_build_filename(dir, "60-edk2-x86_64.json", NULL);
    g_autofree char *text = NULL, *first = NULL, *second = NULL, *fresh = NULL;
    const char *const dirs[] = {dir, NULL};
    QemuDomcapsRequest req = {.virttype = "qemu", .firmware_dirs = dirs};

    g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
    g_assert_true(g_file_set_contents(dst, text, -1, NULL));
    first = qemu_domcaps_get(caps, &req, NULL);
    g_assert_nonnull(strstr(first, "OVMF_CODE_4M.fd"));
    g_assert_cmpint(g_unlink(dst), ==, 0);
    second = qemu_domcaps_get(caps, &req, NULL);
    g_assert_cmpstr(second, ==, first);
    g_clear_pointer(&caps, qemu_caps_free);
    caps = captured_caps(FALSE);
    fresh = qemu_domcaps_get(caps, &req, NULL);
    g_assert_null(strstr(fresh, "OVMF_CODE_4M.fd"));
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* Descriptors that are not JSON, or hold other types than expected, are skipped as libvirt
 * skips them; what is well-formed in them still counts. */
static void
test_firmware_malformed(void)
{
    g_autoptr(QemuCaps) caps = captured_caps(FALSE);
    const char *const dirs[] = {SV_TEST_DATA_DIR "/firmware-bad", NULL};
    QemuDomcapsRequest req = {.virttype = "qemu", .machine = "q35", .firmware_dirs = dirs};
    g_autofree char *xml = qemu_domcaps_get(caps, &req, NULL);

    g_assert_nonnull(strstr(xml, "    <loader supported='yes'>\n"
                                 "      <value>/fw/OK.fd</value>\n"
                                 "      <enum name='type'>"));
    g_assert_nonnull(strstr(xml, "<enum name='secure'>\n        <value>yes</value>"));
}

static void
test_qmp_replies_garbage(void)
{
    g_autoptr(QemuQmpReplies) r = qemu_qmp_replies_parse(
        "junk {\"return\": [{\"name\": \"pc\", \"cpu-max\": 4}, 7, {\"name\": \"q\", "
        "\"cpu-max\": \"many\"}], \"id\": \"machines\"}\n"
        "{\"id\": \"schema\", \"return\": [{\"meta-type\": \"enum\", \"values\": "
        "[\"default\", \"none\", 5, \"sdl\"]}]}\n"
        "{\"error\": {\"class\": \"CommandNotFound\"}, \"id\": \"spice\"}\n"
        "{\"return\": {\"enabled\": true}}\n{\"id\": \"vnc\", \"return\": {}}\n");
    g_autoptr(GPtrArray) m = qemu_qmp_replies_machines(r);
    g_autoptr(GPtrArray) displays = qemu_qmp_replies_display_types(r);

    g_assert_cmpuint(m->len, ==, 2);
    g_assert_cmpuint(((QemuMachine *)m->pdata[0])->max_cpus, ==, 4);
    g_assert_cmpuint(((QemuMachine *)m->pdata[1])->max_cpus, ==, 1);
    g_assert_cmpuint(displays->len, ==, 1);
    g_assert_cmpstr(displays->pdata[0], ==, "sdl");
    g_assert_false(qemu_qmp_replies_ok(r, "spice"));
    g_assert_true(qemu_qmp_replies_ok(r, "vnc"));
    g_assert_false(qemu_qmp_replies_kvm_enabled(r));
}

/* The "max" expansions (TCG's host-model source): the features on in either, those on only
 * in the non-migratable one, every boolean property, vendor and signature; the blockers of
 * a CPU model. */
static void
test_qmp_replies_host_cpu(void)
{
    g_autoptr(QemuQmpReplies) r = qemu_qmp_replies_parse(
        "{\"id\": \"max\", \"return\": {\"model\": {\"name\": \"max\", \"props\": "
        "{\"sse2\": true, \"vme\": false, \"invtsc\": false, \"vendor\": \"AuthenticAMD\", "
        "\"family\": 15, \"model\": 107, \"stepping\": 1, \"level\": 13}}}}\n"
        "{\"id\": \"max-all\", \"return\": {\"model\": {\"name\": \"max\", \"props\": "
        "{\"sse2\": true, \"vme\": false, \"invtsc\": true}}}}\n"
        "{\"id\": \"cpus\", \"return\": [{\"name\": \"EPYC\", \"unavailable-features\": "
        "[\"fxsr-opt\", 3]}]}\n");
    g_autoptr(QemuQmpReplies) none = qemu_qmp_replies_parse("{\"id\": \"max\", \"error\": {}}\n");
    g_autoptr(QemuHostCpu) cpu = qemu_qmp_replies_host_cpu(r);
    g_autoptr(GPtrArray) defs = qemu_qmp_replies_cpu_defs(r);
    const char *on[] = {"invtsc", "sse2", NULL}, *all[] = {"invtsc", "sse2", "vme", NULL};
    const char *nonmig[] = {"invtsc", NULL};
    const QemuCpuDef *epyc = defs->pdata[0];

    g_assert_nonnull(cpu);
    g_assert_true(g_strv_equal((const char *const *)cpu->features, on));
    g_assert_true(g_strv_equal((const char *const *)cpu->props, all));
    g_assert_true(g_strv_equal((const char *const *)cpu->nonmigratable, nonmig));
    g_assert_cmpstr(cpu->vendor, ==, "AuthenticAMD");
    g_assert_cmpuint(cpu->family, ==, 15);
    g_assert_cmpuint(cpu->model, ==, 107);
    g_assert_cmpuint(cpu->stepping, ==, 1);
    g_assert_null(qemu_qmp_replies_host_cpu(none));
    g_assert_cmpint(epyc->usable, ==, QEMU_CPU_USABLE_NO);
    g_assert_cmpuint(g_strv_length(epyc->blockers), ==, 1);
    g_assert_cmpstr(epyc->blockers[0], ==, "fxsr-opt");
}

/* ---------------------------------------------------------------- the probe and its cache */

typedef struct {
    char *dir, *emulator, *calls, *cache;
} StandIn;

/* An emulator that answers the probe's runs with the captures, logging each run's
 * arguments, and what it got on stdin for the QMP runs. */
static void
stand_in_init(StandIn *si, const char *kvm_first, const char *tcg_first)
{
    g_autofree char *script = NULL;

    si->dir = g_dir_make_tmp("sv-caps-XXXXXX", NULL);
    g_assert_nonnull(si->dir);
    si->emulator = g_build_filename(si->dir, "qemu-system-x86_64", NULL);
    si->calls = g_build_filename(si->dir, "calls", NULL);
    si->cache = g_build_filename(si->dir, "cache", NULL);
    script = g_strdup_printf("#!/bin/sh\n"
                             "D='%s'; W='%s'\n"
                             "echo \"$*\" >> \"$W/calls\"\n"
                             "case \"$*\" in\n"
                             "--version) cat \"$D/version.txt\" ;;\n"
                             "*accel=kvm*) %s cat > \"$W/stdin-kvm\"; cat \"$D/qmp-kvm.txt\" ;;\n"
                             "*accel=tcg*) %s cat > \"$W/stdin-tcg\"; cat \"$D/qmp.txt\" ;;\n"
                             "'-cpu help') cat \"$D/cpu-help.txt\" ;;\n"
                             "'-device help') cat \"$D/device-help.txt\" ;;\n"
                             "*) exit 1 ;;\n"
                             "esac\n",
                             probe_dir, si->dir, kvm_first, tcg_first);
    g_assert_true(g_file_set_contents(si->emulator, script, -1, NULL));
    g_assert_cmpint(chmod(si->emulator, 0755), ==, 0);
}

static void
stand_in_clear(StandIn *si)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", si->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(si->dir);
    g_free(si->emulator);
    g_free(si->calls);
    g_free(si->cache);
}

static void
probe_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    (void)caps;
    g_assert_no_error(error);
    g_main_loop_quit(data);
}

static char *
read_or_empty(const char *path)
{
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("");
}

static void
test_probe_and_cache(void)
{
    StandIn si;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(QemuCaps) caps = NULL, again = NULL;
    g_autofree char *calls = NULL, *calls_after = NULL, *stdin_tcg = NULL, *xml = NULL;
    g_autofree char *xml_again = NULL, *stdin_path = NULL;
    QemuDomcapsRequest req = {.virttype = "qemu", .firmware_dirs = firmware_dirs};

    stand_in_init(&si, "", "");
    caps = qemu_caps_new(si.emulator, si.cache);
    g_assert_false(qemu_caps_is_ready(caps));
    qemu_caps_probe_async(caps, probe_ready, loop);
    g_main_loop_run(loop);
    g_assert_true(qemu_caps_is_ready(caps));
    calls = read_or_empty(si.calls);
    g_assert_nonnull(strstr(calls, "--version\n-S -no-user-config -nodefaults -display none "
                                   "-machine none,accel=tcg -qmp stdio\n"));
    g_assert_true(g_str_has_suffix(calls, "-cpu help\n-device help\n"));
    g_assert_cmpint(strstr(calls, "accel=kvm") != NULL, ==, qemu_caps_kvm_usable());
    stdin_path = g_build_filename(si.dir, "stdin-tcg", NULL);
    stdin_tcg = read_or_empty(stdin_path);
    g_assert_cmpstr(stdin_tcg, ==, qemu_caps_qmp_commands(FALSE));
    g_assert_cmpuint(qemu_caps_get_machines(caps)->len, ==, 60);
    xml = qemu_domcaps_get(caps, &req, NULL);

    /* A second daemon finds the facts in the cache and runs nothing. */
    again = qemu_caps_new(si.emulator, si.cache);
    g_assert_true(qemu_caps_is_ready(again));
    calls_after = read_or_empty(si.calls);
    g_assert_cmpstr(calls_after, ==, calls);
    xml_again = qemu_domcaps_get(again, &req, NULL);
    g_assert_cmpstr(xml_again, ==, xml);
    g_clear_pointer(&again, qemu_caps_free);

    /* Another identity for QEMU (what it may open differs) does not use the cache. */
    again = qemu_caps_new(si.emulator, si.cache);
    qemu_caps_set_identity(again, "+64055:+64055", NULL, NULL);
    g_assert_false(qemu_caps_is_ready(again));
    g_clear_pointer(&again, qemu_caps_free);

    /* KVM usable when it was not, or the other way round, makes the cache stale. */
    {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *file = g_build_filename(si.cache, "capabilities.ini", NULL);
        g_autofree char *saved = NULL;

        g_assert_true(g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, NULL));
        g_assert_true(g_file_get_contents(file, &saved, NULL, NULL));
        g_key_file_set_boolean(kf, "qemu", "kvm_usable", !qemu_caps_kvm_usable());
        g_assert_true(g_key_file_save_to_file(kf, file, NULL));
        again = qemu_caps_new(si.emulator, si.cache);
        g_assert_false(qemu_caps_is_ready(again));
        g_clear_pointer(&again, qemu_caps_free);
        g_assert_true(g_file_set_contents(file, saved, -1, NULL));
    }

    /* A replaced binary (another mtime) makes the cache stale. */
    {
        struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
        g_assert_cmpint(utimensat(AT_FDCWD, si.emulator, times, 0), ==, 0);
    }
    again = qemu_caps_new(si.emulator, si.cache);
    g_assert_false(qemu_caps_is_ready(again));
    stand_in_clear(&si);
}

/* A QEMU that fails to start with KVM: the probe succeeds, without KVM guests. */
static void
test_probe_kvm_fails(void)
{
    StandIn si;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(QemuCaps) caps = NULL;
    g_autoptr(GString) s = g_string_new(NULL);

    if (!qemu_caps_kvm_usable()) {
        g_test_skip("no usable /dev/kvm: the probe never runs QEMU with KVM here");
        return;
    }
    stand_in_init(&si, "exit 1;", "");
    caps = qemu_caps_new(si.emulator, si.cache);
    qemu_caps_probe_async(caps, probe_ready, loop);
    g_main_loop_run(loop);
    g_assert_true(qemu_caps_is_ready(caps));
    g_assert_false(qemu_caps_has_kvm(caps));
    qemu_capabilities_append_guests(s, caps, TRUE);
    g_assert_null(strstr(s->str, "<domain type='kvm'/>"));
    stand_in_clear(&si);
}

static void
probe_failed(QemuCaps *caps, const GError *error, gpointer data)
{
    (void)caps;
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "did not finish within 300 ms and was killed"));
    g_main_loop_quit(data);
}

/* A QEMU that never answers is killed at the time limit and the probe fails; the next
 * request probes again. */
static void
test_probe_timeout(void)
{
    StandIn si;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(QemuCaps) caps = NULL;

    stand_in_init(&si, "", "exec sleep 60;");
    caps = qemu_caps_new(si.emulator, si.cache);
    qemu_caps_set_probe_timeout(caps, 300);
    qemu_caps_probe_async(caps, probe_failed, loop);
    g_main_loop_run(loop);
    g_assert_false(qemu_caps_is_ready(caps));
    stand_in_clear(&si);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-caps/machines", test_machines);
    g_test_add_func("/qemu-caps/cpu-defs", test_cpu_defs);
    g_test_add_func("/qemu-caps/qmp-replies-host-cpu", test_qmp_replies_host_cpu);
    g_test_add_func("/qemu-caps/probe-facts", test_probe_facts);
    g_test_add_func("/qemu-caps/guests", test_guests);
    for (gsize i = 0; i < G_N_ELEMENTS(domcaps_cases); i++) {
        g_autofree char *name = g_strdup_printf("/qemu-caps/domcaps/%s", domcaps_cases[i].golden);
        g_test_add_data_func(name, &domcaps_cases[i], test_domcaps);
    }
    g_test_add_func("/qemu-caps/domcaps-defaults", test_domcaps_defaults);
    g_test_add_func("/qemu-caps/domcaps-errors", test_domcaps_errors);
    g_test_add_func("/qemu-caps/domcaps-kvm-unusable", test_domcaps_kvm_unusable);
    g_test_add_func("/qemu-caps/domcaps-host", test_domcaps_host);
    g_test_add_func("/qemu-caps/firmware-override", test_firmware_override);
    g_test_add_func("/qemu-caps/domcaps-kept", test_domcaps_kept);
    g_test_add_func("/qemu-caps/firmware-malformed", test_firmware_malformed);
    g_test_add_func("/qemu-caps/qmp-replies", test_qmp_replies_garbage);
    g_test_add_func("/qemu-caps/probe-and-cache", test_probe_and_cache);
    g_test_add_func("/qemu-caps/probe-kvm-fails", test_probe_kvm_fails);
    g_test_add_func("/qemu-caps/probe-timeout", test_probe_timeout);
    return g_test_run();
}
