/* qemu_firmware.c: <os firmware='efi'> resolved from QEMU's firmware descriptors
 * (qemu_firmware_desc.c), the per-guest NVRAM file, and its removal at undefine, as
 * libvirt 9.0 does them (qemu_firmware.h). */
#include "qemu_firmware.h"

#include <errno.h>
#include <unistd.h>

#include "qemu_firmware_desc.h"

#include "util/error.h"
#include "util/fileio.h"

/* A wanted (yes) or unwanted (no) feature against what the descriptor has. */
static gboolean
feature_ok(SvDomainTristate want, gboolean has)
{
    return want == SV_DOMAIN_TRISTATE_ABSENT || (want == SV_DOMAIN_TRISTATE_YES) == has;
}

/* A split flash descriptor (the kind libvirt 9.0 picks for x86) that fits the definition. */
static gboolean
descriptor_matches(const QemuFirmwareDesc *d, const SvDomainDef *def, const char *machine)
{
    if (!(def->firmware == SV_DOMAIN_FIRMWARE_EFI ? d->uefi : d->bios) ||
        g_strcmp0(d->device, "flash") != 0 || !d->split || !d->executable ||
        !qemu_firmware_desc_targets(d, "x86_64", machine))
        return FALSE;
    if (d->requires_smm && def->smm == SV_DOMAIN_SWITCH_OFF)
        return FALSE;
    return feature_ok(def->loader_secure, d->secure_boot) &&
           feature_ok(def->fw_secure_boot, d->secure_boot) &&
           feature_ok(def->fw_enrolled_keys, d->enrolled_keys);
}

char *
qemu_firmware_nvram_path(const char *nvram_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s_VARS.fd", name);

    return g_build_filename(nvram_dir, file, NULL);
}

void
qemu_firmware_post_parse(SvDomainDef *def, const char *nvram_dir)
{
    if (def->os.loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH &&
        def->os.loader_readonly == SV_DOMAIN_TRISTATE_YES && !def->nvram)
        def->nvram = qemu_firmware_nvram_path(nvram_dir, def->name);
}

/* The live definition as libvirt 9.0 shows it after the choice: the loader, NVRAM and SMM
 * it implies, and no firmware attribute any more (it would contradict the loader's). */
static void
apply_descriptor(SvDomainDef *def, const QemuFirmwareDesc *d, const char *nvram_dir)
{
    def->firmware = SV_DOMAIN_FIRMWARE_NONE;
    def->fw_enrolled_keys = SV_DOMAIN_TRISTATE_ABSENT;
    def->fw_secure_boot = SV_DOMAIN_TRISTATE_ABSENT;
    g_free(def->os.loader);
    def->os.loader = g_strdup(d->executable);
    def->os.loader_type = SV_DOMAIN_LOADER_TYPE_PFLASH;
    def->os.loader_readonly = SV_DOMAIN_TRISTATE_YES;
    def->loader_secure = d->secure_boot ? SV_DOMAIN_TRISTATE_YES : SV_DOMAIN_TRISTATE_NO;
    if (d->requires_smm)
        def->smm = SV_DOMAIN_SWITCH_ON;
    if (d->nvram_template) {
        g_free(def->nvram_template);
        def->nvram_template = g_strdup(d->nvram_template);
        if (!def->nvram)
            def->nvram = qemu_firmware_nvram_path(nvram_dir, def->name);
    }
}

/* A loader the XML names, with an NVRAM file and no template: the descriptor whose flash
 * executable it is gives the template, and what the firmware needs (secure boot shown on
 * the loader, SMM), as libvirt fills them in the live definition. */
static void
fill_from_loader(SvDomainDef *def, const char *const *dirs)
{
    g_autoptr(GPtrArray) descs = NULL;

    if (!def->nvram || def->nvram_template ||
        def->os.loader_type != SV_DOMAIN_LOADER_TYPE_PFLASH)
        return;
    descs = qemu_firmware_desc_load_all(dirs);
    for (guint i = 0; i < descs->len; i++) {
        const QemuFirmwareDesc *d = descs->pdata[i];

        if (g_strcmp0(d->device, "flash") != 0 || !d->split || !d->nvram_template ||
            g_strcmp0(d->executable, def->os.loader) != 0)
            continue;
        def->nvram_template = g_strdup(d->nvram_template);
        if (d->secure_boot)
            def->loader_secure = SV_DOMAIN_TRISTATE_YES;
        if (d->requires_smm && def->smm == SV_DOMAIN_SWITCH_ABSENT)
            def->smm = SV_DOMAIN_SWITCH_ON;
        return;
    }
}

gboolean
qemu_firmware_fill(SvDomainDef *def, const char *machine, const char *const *dirs,
                   const char *nvram_dir, GError **error)
{
    g_autoptr(GPtrArray) descs = NULL;

    /* A loader given in the XML is used as it is, as libvirt does: only its NVRAM
     * template (and what its firmware needs) comes from the descriptors. */
    if (def->os.loader && def->firmware == SV_DOMAIN_FIRMWARE_NONE)
        fill_from_loader(def, dirs);
    if (def->firmware == SV_DOMAIN_FIRMWARE_NONE || def->os.loader)
        return TRUE;
    descs = qemu_firmware_desc_load_all(dirs);
    for (guint i = 0; i < descs->len; i++) {
        const QemuFirmwareDesc *d = descs->pdata[i];

        if (descriptor_matches(d, def, machine)) {
            g_debug("firmware for %s: %s", def->name, d->path);
            apply_descriptor(def, d, nvram_dir);
            return TRUE;
        }
    }
    /* libvirt's error when no descriptor fits. */
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                 "Unable to find any firmware to satisfy '%s'",
                 sv_domain_firmware_to_string(def->firmware));
    return FALSE;
}

gboolean
qemu_firmware_prepare_nvram(const SvDomainDef *def, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;

    if (!def->nvram || g_file_test(def->nvram, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!def->nvram_template) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "unable to find any master var store for loader: %s",
                     def->os.loader ? def->os.loader : "");
        return FALSE;
    }
    /* A few hundred KiB, read and written once per first start, as libvirt does it. */
    if (!g_file_get_contents(def->nvram_template, &data, &len, &local)) {
        sv_error_set_errno(error, SV_FROM_QEMU, local->code == G_FILE_ERROR_NOENT ? ENOENT : EIO,
                           "Failed to open file '%s'", def->nvram_template);
        return FALSE;
    }
    dir = g_path_get_dirname(def->nvram);
    return sv_mkdir_p(dir, 0755, error) &&
           sv_file_write_atomic(def->nvram, data, len, 0600, error);
}

gboolean
qemu_firmware_undefine_nvram(const SvDomainDef *def, const char *nvram_dir, gboolean remove,
                             gboolean keep, GError **error)
{
    g_autofree char *path = def->nvram ? g_strdup(def->nvram)
                            : def->firmware == SV_DOMAIN_FIRMWARE_EFI
                                ? qemu_firmware_nvram_path(nvram_dir, def->name)
                                : NULL;

    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    if (remove) {
        if (unlink(path) < 0) {
            sv_error_set_errno(error, SV_FROM_QEMU, errno, "failed to remove nvram: %s", path);
            return FALSE;
        }
        return TRUE;
    }
    if (keep)
        return TRUE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                 "cannot undefine domain with nvram");
    return FALSE;
}
