/* qemu_firmware.h: firmware autoselection from QEMU's descriptors and the per-guest NVRAM
 * file, as libvirt 9.0's QEMU driver does them. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* NVRAM_DIR/NAME_VARS.fd. (transfer full) */
char *qemu_firmware_nvram_path(const char *nvram_dir, const char *name);

/* At define: a read-only pflash loader without <nvram> gets NVRAM_DIR/NAME_VARS.fd. */
void qemu_firmware_post_parse(SvDomainDef *def, const char *nvram_dir);

/* At start, on the live definition: for a <loader> the XML names (pflash, with an
 * <nvram> and no template), the template, secure boot and SMM of the descriptor whose
 * executable it is. For <os firmware=...> without a <loader>, the first
 * descriptor of `dirs` (qemu_firmware_desc_load_all: by name, the first dir winning) for
 * that interface,
 * x86_64 and `machine` (the canonical machine type) that the definition's <smm> and
 * <loader secure> allow, filling <loader>, <nvram> and <smm> as libvirt shows them in live
 * XML. OPERATION_FAILED when none fits. */
gboolean qemu_firmware_fill(SvDomainDef *def, const char *machine, const char *const *dirs,
                            const char *nvram_dir, GError **error);

/* At start: a missing <nvram> file is copied from its template. */
gboolean qemu_firmware_prepare_nvram(const SvDomainDef *def, GError **error);

/* At undefine: libvirt's rule for the guest's NVRAM file (its <nvram>, or the generated
 * path of an efi guest): removed with `remove` (VIR_DOMAIN_UNDEFINE_NVRAM), kept with
 * `keep` (KEEP_NVRAM), else OPERATION_INVALID "cannot undefine domain with nvram" while it
 * exists. */
gboolean qemu_firmware_undefine_nvram(const SvDomainDef *def, const char *nvram_dir,
                                      gboolean remove, gboolean keep, GError **error);
