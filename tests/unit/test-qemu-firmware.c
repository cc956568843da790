/* test-qemu-firmware.c: <os firmware='efi'> resolved from firmware descriptors
 * (tests/data/qemu-argv/firmware: a "system" directory and an "etc" one overriding it, with
 * descriptors written for these tests after the layout Debian's ovmf package installs), the
 * NVRAM path given at define, the NVRAM copied from its template at start, and libvirt's
 * rules for the NVRAM at undefine. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/domain_conf.h"
#include "qemu_firmware.h"
#include "qemu_firmware_desc.h"
#include "util/error.h"

static const char *data_dir = SV_TEST_DATA_DIR;

static SvDomainDef *
parse(const char *os_attrs, const char *os, const char *features)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>fw</name><memory unit='MiB'>64</memory>"
        "<os%s><type arch='x86_64' machine='q35'>hvm</type>%s</os>"
        "<features><acpi/>%s</features></domain>",
        os_attrs, os, features);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);

    g_assert_no_error(error);
    return def;
}

static gboolean
fill(SvDomainDef *def, const char *machine, gboolean with_etc, GError **error)
{
    g_autofree char *sys = g_build_filename(data_dir, "firmware", "system", NULL);
    g_autofree char *etc = g_build_filename(data_dir, "firmware", "etc", NULL);
    const char *dirs[] = {with_etc ? etc : sys, with_etc ? sys : NULL, NULL};

    return qemu_firmware_fill(def, machine, dirs, "/nv", error);
}

/* The first descriptor by file name that fits: a broken file, BIOS, in-memory and aarch64
 * ones are passed over; on q35 the secure one, which turns SMM on. */
static void
test_pick_secure_on_q35(void)
{
    g_autoptr(SvDomainDef) def = parse(" firmware='efi'", "", "");
    g_autoptr(GError) error = NULL;

    g_assert_true(fill(def, "pc-q35-7.2", FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(def->os.loader, ==, "/fw/CODE.secure.fd");
    g_assert_cmpint(def->os.loader_type, ==, SV_DOMAIN_LOADER_TYPE_PFLASH);
    g_assert_cmpint(def->os.loader_readonly, ==, SV_DOMAIN_TRISTATE_YES);
    g_assert_cmpint(def->loader_secure, ==, SV_DOMAIN_TRISTATE_YES);
    g_assert_cmpint(def->smm, ==, SV_DOMAIN_SWITCH_ON);
    g_assert_cmpstr(def->nvram_template, ==, "/fw/VARS.secure.fd");
    g_assert_cmpstr(def->nvram, ==, "/nv/fw_VARS.fd");
    /* As libvirt's live XML: no firmware attribute beside the loader it chose, so the live
     * definition parses back (status files, copies). */
    g_assert_cmpint(def->firmware, ==, SV_DOMAIN_FIRMWARE_NONE);
    {
        g_autoptr(SvDomainDef) copy = sv_domain_def_copy(def);

        g_assert_cmpstr(copy->os.loader, ==, "/fw/CODE.secure.fd");
    }
}

/* What the definition says narrows the choice: SMM off or secure='no' rule out the secure
 * one; i440fx has only the plain one; a later directory's file of the same name wins. */
static void
test_constraints_and_override(void)
{
    g_autoptr(SvDomainDef) nosmm = parse(" firmware='efi'", "", "<smm state='off'/>");
    g_autoptr(SvDomainDef) insecure = parse(" firmware='efi'", "<loader secure='no'/>", "");
    g_autoptr(SvDomainDef) pc = parse(" firmware='efi'", "", "");
    g_autoptr(SvDomainDef) local = parse(" firmware='efi'", "", "<smm state='off'/>");
    g_autoptr(SvDomainDef) kept = parse(" firmware='efi'", "<nvram>/mine.fd</nvram>",
                                        "<smm state='off'/>");
    g_autoptr(GError) error = NULL;

    g_assert_true(fill(nosmm, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(nosmm->os.loader, ==, "/fw/CODE.plain.fd");
    g_assert_cmpint(nosmm->loader_secure, ==, SV_DOMAIN_TRISTATE_NO);
    g_assert_cmpint(nosmm->smm, ==, SV_DOMAIN_SWITCH_OFF);
    g_assert_true(fill(insecure, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(insecure->os.loader, ==, "/fw/CODE.plain.fd");
    g_assert_true(fill(pc, "pc-i440fx-7.2", FALSE, &error));
    g_assert_cmpstr(pc->os.loader, ==, "/fw/CODE.plain.fd");
    g_assert_true(fill(local, "pc-q35-7.2", TRUE, &error));
    g_assert_cmpstr(local->os.loader, ==, "/fw/CODE.local.fd");
    {
        /* etc's empty 30-secure.json masks the system one: the unenrolled one is next. */
        g_autoptr(SvDomainDef) masked = parse(" firmware='efi'", "", "");

        g_assert_true(fill(masked, "pc-q35-7.2", TRUE, &error));
        g_assert_cmpstr(masked->os.loader, ==, "/fw/CODE.unenrolled.fd");
    }
    g_assert_true(fill(kept, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(kept->nvram, ==, "/mine.fd");
    g_assert_no_error(error);
}

/* The descriptors in libvirt's order: by name, the first directory ("etc") winning a name,
 * an empty file there masking it, files that are no descriptor skipped; each read as it
 * says (flash executable and template, a memory device's file, targets, features). */
static void
test_load_all(void)
{
    g_autofree char *sys = g_build_filename(data_dir, "firmware", "system", NULL);
    g_autofree char *etc = g_build_filename(data_dir, "firmware", "etc", NULL);
    const char *dirs[] = {etc, sys, NULL};
    g_autoptr(GPtrArray) descs = qemu_firmware_desc_load_all(dirs);
    g_autoptr(GString) names = g_string_new(NULL);
    const QemuFirmwareDesc *mem = NULL;
    const QemuFirmwareDesc *local = NULL;

    for (guint i = 0; i < descs->len; i++) {
        const QemuFirmwareDesc *d = descs->pdata[i];
        g_autofree char *base = g_path_get_basename(d->path);

        g_string_append_printf(names, "%s ", base);
        if (g_str_equal(base, "20-uefi-memory.json"))
            mem = d;
        if (g_str_equal(base, "40-plain.json"))
            local = d;
    }
    g_assert_cmpstr(names->str, ==,
                    "10-bios.json 20-uefi-memory.json 25-aarch64.json "
                    "35-secure-unenrolled.json 40-plain.json ");
    g_assert_nonnull(mem);
    g_assert_cmpstr(mem->device, ==, "memory");
    g_assert_cmpstr(mem->executable, ==, "/fw/MEM.fd");
    g_assert_null(mem->nvram_template);
    g_assert_nonnull(local);
    g_assert_true(g_str_has_prefix(local->path, etc));
    g_assert_cmpstr(local->executable, ==, "/fw/CODE.local.fd");
    g_assert_true(local->split && local->uefi && !local->bios && !local->secure_boot);
    g_assert_true(qemu_firmware_desc_targets(local, "x86_64", "pc-i440fx-7.2"));
    g_assert_false(qemu_firmware_desc_targets(local, "aarch64", "pc-i440fx-7.2"));
    g_assert_false(qemu_firmware_desc_targets(local, "x86_64", "microvm"));
}

/* <firmware><feature>s: secure boot without enrolled keys picks the descriptor that has
 * one and not the other; secure boot off picks the plain one. The live definition keeps no
 * features (they are resolved). */
static void
test_firmware_features(void)
{
    g_autoptr(SvDomainDef) unenrolled = parse(
        " firmware='efi'",
        "<firmware><feature enabled='yes' name='secure-boot'/>"
        "<feature enabled='no' name='enrolled-keys'/></firmware>",
        "");
    g_autoptr(SvDomainDef) off = parse(
        " firmware='efi'", "<firmware><feature enabled='no' name='secure-boot'/></firmware>", "");
    g_autoptr(GError) error = NULL;

    g_assert_true(fill(unenrolled, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(unenrolled->os.loader, ==, "/fw/CODE.unenrolled.fd");
    g_assert_cmpint(unenrolled->fw_secure_boot, ==, SV_DOMAIN_TRISTATE_ABSENT);
    g_assert_cmpint(unenrolled->fw_enrolled_keys, ==, SV_DOMAIN_TRISTATE_ABSENT);
    g_assert_true(fill(off, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(off->os.loader, ==, "/fw/CODE.plain.fd");
    g_assert_cmpint(off->loader_secure, ==, SV_DOMAIN_TRISTATE_NO);
    g_assert_no_error(error);
}

/* Nothing fits: libvirt's error. A loader given in the XML is left alone. */
static void
test_none_fits_and_explicit_loader(void)
{
    g_autoptr(SvDomainDef) secure_pc = parse(" firmware='efi'", "<loader secure='yes'/>", "");
    g_autoptr(SvDomainDef) explicit = parse("", "<loader readonly='yes' type='pflash'>/own.fd</loader>", "");
    g_autoptr(GError) error = NULL;

    g_assert_false(fill(secure_pc, "pc-i440fx-7.2", FALSE, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_QEMU), SV_ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "operation failed: Unable to find any firmware to satisfy 'efi'");
    g_clear_error(&error);
    g_assert_true(fill(explicit, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(explicit->os.loader, ==, "/own.fd");
    g_assert_null(explicit->nvram);
    /* At define a read-only pflash loader gets its NVRAM path, as libvirt gives it. */
    qemu_firmware_post_parse(explicit, "/var/lib/libvirt/qemu/nvram");
    g_assert_cmpstr(explicit->nvram, ==, "/var/lib/libvirt/qemu/nvram/fw_VARS.fd");
}

/* A loader the XML names (as the domain capabilities list them) gets at start, from the
 * descriptor whose executable it is, its NVRAM template, and the secure boot and SMM that
 * firmware needs, as libvirt fills them; one no descriptor knows gets nothing. */
static void
test_explicit_loader_template(void)
{
    g_autoptr(SvDomainDef) secure =
        parse("", "<loader readonly='yes' type='pflash'>/fw/CODE.secure.fd</loader>", "");
    g_autoptr(SvDomainDef) plain =
        parse("", "<loader readonly='yes' type='pflash'>/fw/CODE.plain.fd</loader>", "");
    g_autoptr(SvDomainDef) own =
        parse("", "<loader readonly='yes' type='pflash'>/own.fd</loader>", "");
    g_autoptr(GError) error = NULL;

    qemu_firmware_post_parse(secure, "/nv");
    qemu_firmware_post_parse(plain, "/nv");
    qemu_firmware_post_parse(own, "/nv");
    g_assert_true(fill(secure, "pc-q35-7.2", FALSE, &error));
    g_assert_true(fill(plain, "pc-q35-7.2", FALSE, &error));
    g_assert_true(fill(own, "pc-q35-7.2", FALSE, &error));
    g_assert_cmpstr(secure->os.loader, ==, "/fw/CODE.secure.fd");
    g_assert_cmpstr(secure->nvram_template, ==, "/fw/VARS.secure.fd");
    g_assert_cmpint(secure->loader_secure, ==, SV_DOMAIN_TRISTATE_YES);
    g_assert_cmpint(secure->smm, ==, SV_DOMAIN_SWITCH_ON);
    g_assert_cmpstr(plain->nvram_template, ==, "/fw/VARS.plain.fd");
    g_assert_cmpint(plain->loader_secure, ==, SV_DOMAIN_TRISTATE_ABSENT);
    g_assert_cmpint(plain->smm, ==, SV_DOMAIN_SWITCH_ABSENT);
    g_assert_null(own->nvram_template);
}

/* The NVRAM is copied from its template on the first start only; undefine keeps, removes
 * or refuses it as libvirt does. */
static void
test_nvram_lifecycle(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-fw-XXXXXX", NULL);
    g_autofree char *tmpl = g_build_filename(dir, "VARS.fd", NULL);
    g_autofree char *nvdir = g_build_filename(dir, "nvram", NULL);
    g_autoptr(SvDomainDef) def = parse(" firmware='efi'", "", "");
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;

    g_assert_true(g_file_set_contents(tmpl, "template", -1, NULL));
    def->nvram_template = g_strdup(tmpl);
    def->nvram = qemu_firmware_nvram_path(nvdir, def->name);
    /* No file yet: undefine has nothing to refuse. */
    g_assert_true(qemu_firmware_undefine_nvram(def, nvdir, FALSE, FALSE, &error));
    g_assert_true(qemu_firmware_prepare_nvram(def, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(def->nvram, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "template");
    /* The guest's variables are never overwritten by the template again. */
    g_assert_true(g_file_set_contents(def->nvram, "guest", -1, NULL));
    g_assert_true(qemu_firmware_prepare_nvram(def, &error));
    g_clear_pointer(&got, g_free);
    g_assert_true(g_file_get_contents(def->nvram, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "guest");
    /* An efi guest's persistent definition has no <nvram>: its generated path counts. */
    g_clear_pointer(&def->nvram, g_free);
    g_assert_false(qemu_firmware_undefine_nvram(def, nvdir, FALSE, FALSE, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_QEMU), SV_ERR_OPERATION_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "Requested operation is not valid: cannot undefine domain with nvram");
    g_clear_error(&error);
    g_clear_pointer(&got, g_free);
    got = qemu_firmware_nvram_path(nvdir, def->name);
    g_assert_true(qemu_firmware_undefine_nvram(def, nvdir, FALSE, TRUE, &error));
    g_assert_true(g_file_test(got, G_FILE_TEST_EXISTS));
    g_assert_true(qemu_firmware_undefine_nvram(def, nvdir, TRUE, FALSE, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(got, G_FILE_TEST_EXISTS));
    /* A missing template. */
    def->nvram = g_strdup(got);
    g_free(def->nvram_template);
    def->nvram_template = g_build_filename(dir, "gone.fd", NULL);
    g_assert_false(qemu_firmware_prepare_nvram(def, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(g_rmdir(nvdir), ==, 0);
    g_assert_cmpint(g_unlink(tmpl), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-firmware/pick-secure-on-q35", test_pick_secure_on_q35);
    g_test_add_func("/qemu-firmware/constraints-and-override", test_constraints_and_override);
    g_test_add_func("/qemu-firmware/load-all", test_load_all);
    g_test_add_func("/qemu-firmware/firmware-features", test_firmware_features);
    g_test_add_func("/qemu-firmware/none-fits-and-explicit-loader",
                    test_none_fits_and_explicit_loader);
    g_test_add_func("/qemu-firmware/nvram-lifecycle", test_nvram_lifecycle);
    g_test_add_func("/qemu-firmware/explicit-loader-template", test_explicit_loader_template);
    return g_test_run();
}
