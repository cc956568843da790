/* xen_xl.h: what domain XML the Xen driver accepts, and the conversion of domain
 * definitions to xl.cfg (xl.cfg(5)) and back, for CONNECT_DOMAIN_XML_TO/FROM_NATIVE. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "xl_cfg.h"

/* The only native format: xl's configuration file. */
#define XEN_XL_FORMAT "xen-xl"

/* Refuse, with CONFIG_UNSUPPORTED in error domain LIBXL naming it, what libxl cannot run:
 * virt types other than xen, os types other than hvm and linux (PV), and the elements the
 * driver does not translate. Used at define, at start and before converting. */
gboolean xen_def_check(const SvDomainDef *def, GError **error);

/* Whether def is an HVM guest (else PV). */
gboolean xen_def_is_hvm(const SvDomainDef *def);

/* libxl's disk backend for a disk <driver name=> ("phy", "qemu" ...), NULL when it has
 * none. (transfer none) */
const char *xen_disk_backend_of_driver(const char *driver);

/* def as xl.cfg settings; CONFIG_UNSUPPORTED (LIBXL) names what xl.cfg cannot express.
 * Memory is given in MiB there, rounded up as libvirt does. (transfer full) */
XlCfg *xen_xl_from_def(const SvDomainDef *def, GError **error);

/* The definition xl.cfg settings describe. Unknown settings and values are refused with
 * CONFIG_UNSUPPORTED (LIBXL) naming them; the result is then parsed as domain XML, so it
 * obeys every rule of sv_domain_def_parse(). (transfer full) */
SvDomainDef *xen_xl_to_def(const XlCfg *cfg, GError **error);

/* The two conversions on text, as the RPC calls carry them. (transfer full) */
char *xen_xl_domxml_to_native(const char *xml, GError **error);
char *xen_xl_native_to_domxml(const char *native, GError **error);

/* One disk as an xl disk specification (xl-disk-configuration(5)), key=value form with
 * the target last. (transfer full) */
char *xen_xl_disk_spec(const SvDomainDiskDef *disk);

/* A serial port as xl's `serial` takes it: "pty" or "file:PATH". (transfer full) */
char *xen_xl_serial_spec(const SvDomainChrDef *chr);

/* The HVM boot order as xl's `boot` letters (a fd, c hd, d cdrom, n network), or NULL
 * without <boot>. (transfer full) */
char *xen_xl_boot_order(const SvDomainOsDef *os);
