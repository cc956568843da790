/* test-xl-config.c: what the Xen driver hands libxl (xen_config.c) for the golden domains
 * of tests/data/xl/, the hypervisor probe and version number (xen_host.c), and the
 * domain XML the driver refuses to run (xen_def_check). No hypervisor is needed. */
#include <string.h>

#include <glib/gstdio.h>

#include "util/error.h"
#include "xen_config.h"
#include "xen_host.h"
#include "xen_xl.h"

#ifndef SV_TEST_DATA_DIR
#define SV_TEST_DATA_DIR "tests/data/xl"
#endif

static SvDomainDef *
load_def(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", SV_TEST_DATA_DIR, name);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    SvDomainDef *def;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    g_assert_true(xen_def_check(def, &error));
    g_assert_no_error(error);
    return def;
}

static void
test_pv(void)
{
    g_autoptr(SvDomainDef) def = load_def("pv-basic");
    libxl_domain_config c;
    const libxl_domain_build_info *b = &c.b_info;

    libxl_domain_config_init(&c);
    xen_config_build(def, &c);
    g_assert_cmpint(c.c_info.type, ==, LIBXL_DOMAIN_TYPE_PV);
    g_assert_cmpstr(c.c_info.name, ==, "pv-basic");
    g_assert_cmpmem(libxl_uuid_bytearray(&c.c_info.uuid), 16, def->uuid, 16);
    g_assert_cmpint(b->type, ==, LIBXL_DOMAIN_TYPE_PV);
    g_assert_cmpint(b->max_vcpus, ==, 2);
    g_assert_cmpuint(b->avail_vcpus.size, ==, 1);
    g_assert_cmpuint(b->avail_vcpus.map[0], ==, 0x3);
    g_assert_cmpuint(b->max_memkb, ==, 524288);
    g_assert_cmpuint(b->target_memkb, ==, 262144);
    g_assert_cmpstr(b->kernel, ==, "/var/lib/xen/images/vmlinuz");
    g_assert_cmpstr(b->ramdisk, ==, "/var/lib/xen/images/initrd.img");
    g_assert_cmpstr(b->cmdline, ==, "root=/dev/xvda1 console=hvc0");
    g_assert_false(libxl_defbool_val(b->localtime));
    g_assert_cmpint(c.on_poweroff, ==, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    g_assert_cmpint(c.on_reboot, ==, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
    g_assert_cmpint(c.on_crash, ==, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    g_assert_cmpint(c.num_disks, ==, 1);
    g_assert_cmpstr(c.disks[0].vdev, ==, "xvda");
    g_assert_cmpstr(c.disks[0].pdev_path, ==, "/var/lib/xen/images/pv-basic.img");
    g_assert_cmpint(c.disks[0].backend, ==, LIBXL_DISK_BACKEND_QDISK);
    g_assert_cmpint(c.disks[0].format, ==, LIBXL_DISK_FORMAT_RAW);
    g_assert_cmpint(c.disks[0].readwrite, ==, 1);
    g_assert_cmpint(c.disks[0].is_cdrom, ==, 0);
    g_assert_cmpint(c.num_nics, ==, 1);
    g_assert_cmpint(c.nics[0].nictype, ==, LIBXL_NIC_TYPE_VIF);
    g_assert_cmpmem(c.nics[0].mac, 6, "\x00\x16\x3e\x12\x34\x56", 6);
    libxl_domain_config_dispose(&c);
}

static void
test_hvm(void)
{
    g_autoptr(SvDomainDef) def = load_def("hvm-basic");
    libxl_domain_config c;
    const libxl_domain_build_info *b = &c.b_info;

    libxl_domain_config_init(&c);
    xen_config_build(def, &c);
    g_assert_cmpint(c.c_info.type, ==, LIBXL_DOMAIN_TYPE_HVM);
    g_assert_cmpstr(b->u.hvm.firmware, ==, "/usr/lib/xen/boot/hvmloader");
    g_assert_cmpstr(b->u.hvm.boot, ==, "dc");
    g_assert_true(libxl_defbool_val(b->u.hvm.pae));
    g_assert_true(libxl_defbool_val(b->acpi));
    g_assert_true(libxl_defbool_val(b->apic));
    g_assert_true(libxl_defbool_val(b->u.hvm.nographic));
    g_assert_cmpstr(b->u.hvm.serial_list[0], ==, "pty");
    g_assert_null(b->u.hvm.serial_list[1]);
    g_assert_cmpstr(b->device_model, ==, "/usr/lib/xen/bin/qemu-system-i386");
    g_assert_null(b->kernel);
    g_assert_cmpint(c.on_crash, ==, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
    g_assert_cmpint(c.num_disks, ==, 2);
    g_assert_cmpint(c.disks[0].backend, ==, LIBXL_DISK_BACKEND_PHY);
    g_assert_cmpstr(c.disks[1].vdev, ==, "hdc");
    g_assert_cmpint(c.disks[1].is_cdrom, ==, 1);
    g_assert_cmpint(c.disks[1].readwrite, ==, 0);
    g_assert_cmpint(c.nics[0].nictype, ==, LIBXL_NIC_TYPE_VIF_IOEMU);
    g_assert_cmpstr(c.nics[0].model, ==, "e1000");
    g_assert_cmpstr(c.nics[0].ifname, ==, "vif-hvm0");
    libxl_domain_config_dispose(&c);
}

static void
test_hvm_ovmf(void)
{
    g_autoptr(SvDomainDef) def = load_def("hvm-ovmf");
    libxl_domain_config c;
    const libxl_domain_build_info *b = &c.b_info;

    libxl_domain_config_init(&c);
    xen_config_build(def, &c);
    g_assert_cmpint(b->u.hvm.bios, ==, LIBXL_BIOS_TYPE_OVMF);
    g_assert_cmpstr(b->u.hvm.system_firmware, ==, "/usr/share/OVMF/OVMF_CODE.fd");
    g_assert_null(b->u.hvm.firmware);
    g_assert_false(libxl_defbool_val(b->u.hvm.pae));
    g_assert_false(libxl_defbool_val(b->apic));
    g_assert_true(libxl_defbool_val(b->localtime));
    g_assert_cmpuint(b->avail_vcpus.map[0], ==, 0xf);
    g_assert_cmpstr(b->u.hvm.serial_list[0], ==, "file:/var/log/xen/hvm-ovmf-serial0.log");
    g_assert_cmpstr(b->u.hvm.serial_list[1], ==, "pty");
    g_assert_cmpint(c.on_poweroff, ==, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
    g_assert_cmpint(c.on_reboot, ==, LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME);
    g_assert_cmpint(c.on_crash, ==, LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART);
    g_assert_cmpint(c.disks[0].format, ==, LIBXL_DISK_FORMAT_QCOW2);
    /* The empty cdrom. */
    g_assert_null(c.disks[1].pdev_path);
    g_assert_cmpint(c.disks[1].format, ==, LIBXL_DISK_FORMAT_EMPTY);
    g_assert_cmpint(c.num_nics, ==, 2);
    libxl_domain_config_dispose(&c);
}

/* What the driver refuses to run, with libxl's error domain. */
static void
test_def_check(void)
{
    static const struct {
        const char *xml;
        const char *message;
    } cases[] = {
        {"<domain type='qemu'><name>a</name><memory>65536</memory><os><type>hvm</type></os>"
         "</domain>",
         "unsupported configuration: domain type 'qemu' is not supported by libxenlight; use "
         "'xen'"},
        {"<domain type='xen'><name>a</name><memory>65536</memory><vcpu placement='auto'>1"
         "</vcpu><os><type>hvm</type></os></domain>",
         "unsupported configuration: <vcpu placement='auto'> is not supported by the Xen "
         "driver"},
        {"<domain type='xen'><name>a</name><memory>65536</memory><os><type>hvm</type></os>"
         "<devices><console type='pty'/></devices></domain>",
         "unsupported configuration: <console> on HVM domains other than the first <serial>"},
        {"<domain type='xen'><name>a</name><memory>65536</memory>"
         "<os><type arch='aarch64'>hvm</type></os></domain>",
         "unsupported configuration: architecture 'aarch64'"},
        {"<domain type='xen'><name>a</name><memory>65536</memory><os><type>hvm</type></os>"
         "<devices><disk type='file'><driver name='file'/><source file='/a'/>"
         "<target dev='xvda'/></disk></devices></domain>",
         "unsupported configuration: disk driver name 'file'; use phy, qemu or tap"},
        {"<domain type='xen'><name>a</name><memory>65536</memory><os><type>hvm</type></os>"
         "<devices><memballoon model='virtio'/></devices></domain>",
         "unsupported configuration: memballoon model 'virtio'; Xen's balloon is model 'xen'"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvDomainDef) def = sv_domain_def_parse(cases[i].xml, 0, &error);

        g_assert_no_error(error);
        g_assert_false(xen_def_check(def, &error));
        g_assert_error(error, sv_error_quark(SV_FROM_LIBXL), SV_ERR_CONFIG_UNSUPPORTED);
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
}

static void
test_probe(void)
{
    g_autofree char *dir = g_dir_make_tmp("xl-probe-XXXXXX", NULL);
    g_autofree char *caps = g_build_filename(dir, "capabilities", NULL);
    g_autofree char *xenstored = g_build_filename(dir, "xenstored", NULL);

    /* Neither file: no Xen. */
    g_assert_false(xen_host_is_dom0(caps, xenstored));
    /* xenstored's device alone: a control domain. */
    g_assert_true(g_file_set_contents(xenstored, "", 0, NULL));
    g_assert_true(xen_host_is_dom0(caps, xenstored));
    /* The capabilities file decides when it exists: a guest domain says nothing. */
    g_assert_true(g_file_set_contents(caps, "", 0, NULL));
    g_assert_false(xen_host_is_dom0(caps, xenstored));
    g_assert_true(g_file_set_contents(caps, "control_d\n", -1, NULL));
    g_assert_true(xen_host_is_dom0(caps, xenstored));
    g_unlink(caps);
    g_unlink(xenstored);
    g_rmdir(dir);
}

static void
test_version_number(void)
{
    g_assert_cmpuint(xen_host_version_number(4, 17, ".2"), ==, 4017002);
    g_assert_cmpuint(xen_host_version_number(4, 17, ".5-pre"), ==, 4017005);
    g_assert_cmpuint(xen_host_version_number(4, 16, "-rc"), ==, 4016000);
    g_assert_cmpuint(xen_host_version_number(4, 16, NULL), ==, 4016000);
}

static void
test_capabilities(void)
{
    g_autofree char *caps = xen_host_capabilities("00000000-0000-4000-8000-000000000001");

    g_assert_true(g_str_has_prefix(caps, "<capabilities>\n"));
    g_assert_nonnull(strstr(caps, "<uuid>00000000-0000-4000-8000-000000000001</uuid>"));
    g_assert_nonnull(strstr(caps, "<os_type>xen</os_type>\n    <arch name='x86_64'>"));
    g_assert_nonnull(strstr(caps, "<os_type>hvm</os_type>\n    <arch name='i686'>"));
    g_assert_nonnull(strstr(caps, "<os_type>hvm</os_type>\n    <arch name='x86_64'>"));
    g_assert_nonnull(strstr(caps, "<machine>xenfv</machine>"));
    g_assert_nonnull(strstr(caps, "<domain type='xen'/>"));
    g_assert_null(strstr(caps, "<domain type='kvm'/>"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xl-config/pv", test_pv);
    g_test_add_func("/xl-config/hvm", test_hvm);
    g_test_add_func("/xl-config/hvm-ovmf", test_hvm_ovmf);
    g_test_add_func("/xl-config/def-check", test_def_check);
    g_test_add_func("/xl-config/probe", test_probe);
    g_test_add_func("/xl-config/version-number", test_version_number);
    g_test_add_func("/xl-config/capabilities", test_capabilities);
    return g_test_run();
}
