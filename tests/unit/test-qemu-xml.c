/* test-qemu-xml.c: golden definitions after libvirt's define-time defaults:
 * tests/data/qemu-xml/CASE.xml, parsed as a define parses it and given the QEMU driver's
 * defaults (qemu_domain_def_post_parse, against the QEMU 7.2 probe captured in
 * tests/data/qemu-argv/probe), then formatted as `dumpxml --inactive` formats it, beside
 * CASE.out (each checked against Debian's libvirtd 9.0 for the same input; the differences
 * left are named in tests/data/qemu-xml/README) or CASE.err (code domain message).
 * Every .out is also defined again, as a redefine of what dumpxml gave: it must come back
 * unchanged (addresses and added controllers are kept, nothing is added twice).
 * SV_REGENERATE=1 rewrites the expected files instead of comparing. */
#include <string.h>

#include "conf/domain_conf.h"
#include "qemu_caps.h"
#include "qemu_pci.h"
#include "qemu_postparse.h"
#include "util/error.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static const char *data_dir = SV_TEST_DATA_DIR;
static const char *probe_dir = SV_TEST_PROBE_DIR;
static QemuCaps *caps;

static char *
read_text(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static QemuCaps *
captured_caps(void)
{
    g_autofree char *version = read_text(probe_dir, "version.txt");
    g_autofree char *qmp = read_text(probe_dir, "qmp.txt");
    g_autofree char *cpus = read_text(probe_dir, "cpu-help.txt");
    g_autofree char *devices = read_text(probe_dir, "device-help.txt");

    return qemu_caps_new_from_output(QEMU, version, qmp, NULL, cpus, devices);
}

/* What a define stores: the definition with its defaults (*defined TRUE), or the error. */
static char *
define(const char *xml, gboolean *defined)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);

    *defined = def && qemu_domain_def_post_parse(def, caps, &error);
    if (*defined)
        return sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE);
    return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error), error->message);
}

static void
check_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml_name = g_strdup_printf("%s.xml", name);
    g_autofree char *xml = read_text(data_dir, xml_name);
    gboolean is_err = g_str_has_prefix(name, "err-");
    g_autofree char *want_path =
        g_strdup_printf("%s/%s.%s", data_dir, name, is_err ? "err" : "out");
    gboolean defined;
    g_autofree char *got = NULL;
    g_autofree char *want = NULL;

    sv_domain_net_seed_mac(17); /* generated MACs: the same in every run and order */
    got = define(xml, &defined);

    if (g_getenv("SV_REGENERATE"))
        g_assert_true(g_file_set_contents(want_path, got, -1, NULL));
    g_assert_true(g_file_get_contents(want_path, &want, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
    g_assert_true(defined != is_err);
    if (defined) {
        g_autofree char *again = define(got, &defined);
        g_assert_cmpstr(again, ==, got);
    }
}

/* The probe's aliases give the canonical machine types. */
static void
test_canonical_machine(void)
{
    g_assert_cmpstr(qemu_caps_get_canonical_machine(caps, "pc"), ==, "pc-i440fx-7.2");
    g_assert_cmpstr(qemu_caps_get_canonical_machine(caps, "q35"), ==, "pc-q35-7.2");
    g_assert_cmpstr(qemu_caps_get_canonical_machine(caps, "pc-q35-6.0"), ==, "pc-q35-6.0");
    g_assert_cmpstr(qemu_caps_get_canonical_machine(caps, "no-such"), ==, "no-such");
}

/* The connect rules of the device kinds other areas add (their places in the kinds table
 * are marked), on a q35 machine, as libvirt 9.0's qemuDomainDeviceCalculatePCIConnectFlags. */
static void
test_connect_rules(void)
{
    QemuPciFlags q35, pc;
    const guint pci = QEMU_PCI_TYPE_PCI_DEVICE | QEMU_PCI_AUTOASSIGN;
    const guint pcie = QEMU_PCI_TYPE_PCIE_DEVICE | QEMU_PCI_AUTOASSIGN;

    qemu_pci_flags_init(&q35, TRUE);
    qemu_pci_flags_init(&pc, FALSE);
    g_assert_cmpuint(pc.pcie, ==, pci);
    g_assert_cmpuint(pc.virtio, ==, pci);
    g_assert_cmpuint(q35.virtio, ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_video("qxl", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_video("vga", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_video("bochs", &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_video("virtio", &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_video("ramfb", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_video("none", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_sound("ich9", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_sound("ac97", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_sound("usb", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_sound("pcspk", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_rng("virtio", &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_rng("virtio-transitional", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_watchdog("i6300esb", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_watchdog("itco", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_input("virtio", NULL, &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_input("usb", NULL, &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_serial("pci-serial", &q35), ==, pci);
    g_assert_cmpuint(qemu_pci_connect_serial("isa-serial", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_memballoon("virtio", &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_memballoon("none", &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_fs("virtiofs", NULL, &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_fs(NULL, NULL, &q35), ==, pcie);
    g_assert_cmpuint(qemu_pci_connect_fs("loop", NULL, &q35), ==, 0);
    g_assert_cmpuint(qemu_pci_connect_pci_controller("pcie-root-port"), ==,
                     QEMU_PCI_TYPE_PCIE_ROOT_PORT | QEMU_PCI_AGGREGATE_SLOT);
    g_assert_cmpuint(qemu_pci_connect_pci_controller("pcie-root"), ==, 0);
}

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    g_test_init(&argc, &argv, NULL);
    caps = captured_caps();
    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((e = g_dir_read_name(dir))) {
        if (g_str_has_suffix(e, ".xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/qemu-xml/%s", (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], check_case);
    }
    g_test_add_func("/qemu-xml/canonical-machine", test_canonical_machine);
    g_test_add_func("/qemu-xml/connect-rules", test_connect_rules);
    return g_test_run();
}
