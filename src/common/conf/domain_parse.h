/* domain_parse.h: what the parts of the domain definition share: construction, the value
 * readers and errors of the parser, the device parser, defaults and validation. Private to
 * src/common/conf; drivers use domain_conf.h. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain_conf.h"

/* ---- definitions (domain_def.c) ---------------------------------------------------------- */

/* A definition with libvirt's defaults and empty lists, before parsing. (transfer full) */
SvDomainDef *sv_domain_def_new(void);

/* Free one device of the definition's lists; NULL is fine. */
void sv_domain_disk_def_free(gpointer disk);
void sv_domain_fs_def_free(gpointer fs);
void sv_domain_net_def_free(gpointer net);
void sv_domain_chr_def_free(gpointer chr);
void sv_domain_controller_def_free(gpointer controller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainDiskDef, sv_domain_disk_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainFsDef, sv_domain_fs_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainNetDef, sv_domain_net_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainChrDef, sv_domain_chr_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainControllerDef, sv_domain_controller_def_free)

/* ---- values and errors (domain_parse.c) -------------------------------------------------- */

/* Whether `word` is one of the space-separated words of `list` (NULL: none). */
gboolean sv_word_in(const char *list, const char *word);

/* Digits only: no sign, no spaces, no junk, as libvirt's virStrToLong_ullp (which also
 * refuses what these refuse, except leading blanks). FALSE leaves `*out` alone. */
gboolean sv_domain_parse_u64(const char *s, guint64 *out);
gboolean sv_domain_parse_uint(const char *s, guint *out);
/* A number that fits libvirt's int fields (indexes, ports, ids). */
gboolean sv_domain_parse_int_range(const char *s, guint *out);

/* An enum's from_string function (domain_conf.h). */
typedef int (*SvDomainFromString)(const char *s);

/* Parse enum attribute `attr`. Values below `min` are libvirt's "none"/"absent" placeholders,
 * which XML may not name. Values in `unsupported` are refused as unsupported, others as
 * libvirt does. An absent attribute leaves `*out` alone unless `required`. */
gboolean sv_domain_prop_enum(const xmlNode *node, const char *attr,
                             SvDomainFromString from_string, int min, const char *unsupported,
                             gboolean required, int *out, GError **error);

/* An error whose code has a template error.c does not know yet (`tmpl`, with one %s), with
 * the same fields sv_error_set() would give; without a detail, libvirt's detail-less text
 * `bare`. */
void sv_domain_error_templated(GError **error, int from, int code, const char *tmpl,
                               const char *bare, const char *detail);

/* The only child element `name` of `parent` in *out (NULL when none); more than one is
 * refused as unsupported. */
gboolean sv_domain_single_child(const xmlNode *parent, const char *name, xmlNode **out,
                                GError **error);

/* CONFIG_UNSUPPORTED: "`what` is not supported by splitvirt", for XML libvirt knows and
 * splitvirt does not implement. */
void sv_domain_error_unsupported(GError **error, const char *what);
/* The same for one value of attribute `attr` of `node`. */
void sv_domain_error_unsupported_value(GError **error, const xmlNode *node, const char *attr,
                                       const char *value);

/* ---- volume disks (domain_disk_volume.c) -------------------------------------------------- */

/* The <source> of a <disk type='volume'>: pool= and volume= (both or neither), mode=, and
 * with SV_DOMAIN_PARSE_STATUS the path it was resolved to. */
gboolean sv_domain_disk_volume_parse_source(const xmlNode *source, SvDomainDiskDef *disk,
                                            guint flags, GError **error);
/* Its attributes, as libvirt writes them (the path only with SV_DOMAIN_FORMAT_STATUS). */
void sv_domain_disk_volume_format_source_attrs(GString *buf, const SvDomainDiskDef *disk,
                                               guint flags);

/* ---- devices (domain_parse_devices.c) ------------------------------------------------------ */

/* Parse every <devices> child of `root` into `def`, in document order (disks sorted as
 * libvirt sorts them). Children it does not parse are left to the schema check. */
gboolean sv_domain_parse_devices(const xmlNode *root, SvDomainDef *def, guint flags,
                                 GError **error);

/* ---- defaults and validation (domain_validate.c) ------------------------------------------- */

/* libvirt's post-parse defaults: current memory, the default boot device, serial ports and
 * controller indexes left unset. Fails when the definition has no memory. */
gboolean sv_domain_def_post_parse(SvDomainDef *def, GError **error);

/* libvirt's checks of a whole definition, after its defaults. */
gboolean sv_domain_def_validate(const SvDomainDef *def, GError **error);

/* ---- platform: features, clock, pm (domain_platform.c) ----------------------------------- */

gboolean sv_domain_platform_parse_features(const xmlNode *root, SvDomainDef *def, GError **error);
gboolean sv_domain_platform_parse_clock(const xmlNode *root, SvDomainDef *def, GError **error);
gboolean sv_domain_platform_parse_pm(const xmlNode *root, SvDomainDef *def, GError **error);
/* Each writes its element at indent 2, or nothing when the definition has none. */
void sv_domain_platform_format_features(GString *buf, const SvDomainDef *def);
void sv_domain_platform_format_clock(GString *buf, const SvDomainDef *def);
void sv_domain_platform_format_pm(GString *buf, const SvDomainDef *def);
/* domain_platform_os.c: <genid>, <sysinfo>, <os><bootmenu> and <smbios>. */
gboolean sv_domain_platform_parse_os_extras(const xmlNode *root, SvDomainDef *def,
                                            GError **error);
void sv_domain_platform_format_genid(GString *buf, const SvDomainDef *def);
void sv_domain_platform_format_sysinfo(GString *buf, const SvDomainDef *def);
/* Inside <os>, after the boot devices. */
void sv_domain_platform_format_os_extras(GString *buf, const SvDomainDef *def);
void sv_domain_sysinfo_free(SvDomainSysinfoDef *sysinfo);
/* <firmware> inside <os>, after <type>. */
void sv_domain_platform_format_fw_features(GString *buf, const SvDomainDef *def);
/* <nvram> inside <os>, after <loader>. */
void sv_domain_platform_format_nvram(GString *buf, const SvDomainDef *def);
/* ---- cpu, vcpus, memory and tuning (domain_cpu.c, domain_cpu_model.c) --------------------- */

/* Set up and release the area's parts of a definition (sv_domain_def_new/free). */
void sv_domain_cpu_def_init(SvDomainDef *def);
void sv_domain_cpu_def_clear(SvDomainDef *def);

/* <memory>, <maxMemory>, <currentMemory>, <memoryBacking>, <vcpu>, <iothreads>, <blkiotune>,
 * <memtune> and <cputune>, with libvirt's errors. */
gboolean sv_domain_parse_resources(const xmlNode *root, SvDomainDef *def, GError **error);
/* <cpu>, with libvirt's errors. */
gboolean sv_domain_parse_cpu(const xmlNode *root, SvDomainDef *def, GError **error);
/* libvirt's checks of <cputune>'s values (virDomainDefCputuneValidate). */
gboolean sv_domain_cpu_def_validate(const SvDomainDef *def, GError **error);
/* The elements above as libvirt formats them, each at its place in <domain>. */
void sv_domain_format_resources(GString *buf, const SvDomainDef *def);
void sv_domain_format_cpu(GString *buf, const SvDomainDef *def);

/* libvirt's virScaleInteger on an element's text and unit= attribute, in KiB rounded up;
 * `xpath` names the element in libvirt's error. No element or no text gives 0. */
gboolean sv_domain_parse_memory_value(const xmlNode *node, const char *xpath, guint64 *out_kib,
                                      GError **error);
/* libvirt's virXMLPropUInt: unsigned attribute `attr`, maybe required, maybe non-zero. An
 * absent optional attribute leaves `*out` alone. */
gboolean sv_domain_prop_uint(const xmlNode *node, const char *attr, gboolean required,
                             gboolean nonzero, guint *out, GError **error);
/* A host CPU list ("0-3,^2,8") in libvirt's canonical form ("0-1,3,8"; "" when it names no
 * CPU), or NULL with libvirt's error. (transfer full) */
char *sv_domain_cpuset_canonical(const char *s, GError **error);
/* libvirt's virBitmapParse of s into bits[0..n) (one byte each, nonzero = set), or FALSE
 * with its error ("Failed to parse bitmap", also for an id of n or more). */
gboolean sv_domain_cpuset_parse(const char *s, guint8 *bits, guint n, GError **error);
/* libvirt's virBitmapFormat of the n flags bits[0..n) (one byte each, nonzero = set):
 * ranges as "a-b", single ones alone, "" for none. (transfer full) */
char *sv_domain_cpuset_format(const guint8 *bits, guint n);
/* ---- disks and controllers (domain_disk.c) ------------------------------------------------ */

/* The sort keys sv_domain_disk_parse() keeps in libvirt's disk order, one per disk. */
GArray *sv_domain_disk_keys_new(void);
/* Parse one <disk> into def->disks at libvirt's place, with its drive address when it has
 * none; `disk_keys` from sv_domain_disk_keys_new(), the same for every disk of `def`. */
gboolean sv_domain_disk_parse(const xmlNode *node, SvDomainDef *def, guint flags,
                              GArray *disk_keys, GError **error);
/* Format one <disk> at libvirt's indentation under <devices>. */
void sv_domain_disk_format(GString *buf, const SvDomainDiskDef *disk, guint flags);
/* Parse one <controller> into def->controllers, checking its model against libvirt's. */
gboolean sv_domain_controller_parse(const xmlNode *node, SvDomainDef *def, guint flags,
                                    GError **error);
/* Format one <controller> at libvirt's indentation under <devices>. */
void sv_domain_controller_format(GString *buf, const SvDomainControllerDef *c, guint flags);
/* ---- interfaces (NET: domain_net.c) -------------------------------------------------------- */

/* Parse one <interface> element into a new entry of def->interfaces, with libvirt's errors. */
gboolean sv_domain_net_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error);

/* Write one <interface> element at libvirt's indentation (4), as libvirt formats it. */
void sv_domain_net_format(GString *buf, const SvDomainNetDef *net, guint flags);
/* <bandwidth> (domain_net_bandwidth.c), as libvirt 9.0's virNetDevBandwidthParse and
 * virNetDevBandwidthFormat, with their errors (VIR_FROM_NONE). `allow_floor`: whether
 * <inbound floor=> is taken (libvirt: network interfaces only). *out stays NULL when
 * neither direction is given. */
gboolean sv_domain_bandwidth_parse(const xmlNode *node, gboolean allow_floor,
                                   SvDomainBandwidth **out, GError **error);
void sv_domain_bandwidth_format(GString *buf, const char *indent, const SvDomainBandwidth *bw);
/* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---------- */
/* (domain_chr.c) */

/* Whether `node` is one of this area's devices (serial, console, channel, rng, memballoon,
 * watchdog, panic, filesystem), and parse one into `def`. */
gboolean sv_domain_is_chr_device(const xmlNode *node);
gboolean sv_domain_parse_chr_device(const xmlNode *node, SvDomainDef *def, guint flags,
                                    GError **error);
/* Write the serials and consoles, the channels, the filesystems, and the late devices
 * (watchdog, memballoon, rng, panic), each group at its place in libvirt's order. A
 * console of an hvm guest with target type serial is written as its serial, as libvirt. */
void sv_domain_format_chrs(GString *buf, const SvDomainDef *def, guint flags);
void sv_domain_format_channels(GString *buf, const SvDomainDef *def, guint flags);
/* <filesystem> (domain_fs.c): parse one into def->filesystems; write them all. */
gboolean sv_domain_fs_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error);
void sv_domain_format_filesystems(GString *buf, const SvDomainDef *def, guint flags);
/* libvirt's generic check of the filesystems: a boot order only on virtiofs. */
gboolean sv_domain_fs_validate(const SvDomainDef *def, GError **error);
void sv_domain_format_chr_late(GString *buf, const SvDomainDef *def, guint flags);
/* libvirt's check of the panics: one per model. */
gboolean sv_domain_panics_validate(const SvDomainDef *def, GError **error);

void sv_domain_chr_source_clear(SvDomainChrSource *src);
void sv_domain_rng_def_free(gpointer p);
void sv_domain_memballoon_def_free(SvDomainMemballoonDef *m);
void sv_domain_watchdog_def_free(SvDomainWatchdogDef *w);
void sv_domain_panic_def_free(gpointer p);
/* ---- graphics, video, input, sound, audio, redirdev (domain_display.c) --------------------- */

/* Create and free the definition's display device lists. */
void sv_domain_display_lists_new(SvDomainDef *def);
void sv_domain_display_lists_free(SvDomainDef *def);

/* Whether `node` is a display device element, which sv_domain_display_parse() takes. */
gboolean sv_domain_display_is_device(const xmlNode *node);
gboolean sv_domain_display_parse(const xmlNode *node, SvDomainDef *def, guint flags,
                                 GError **error);

/* libvirt's generic defaults and checks of the display devices: a video card (of the
 * driver's default model, SV_DOMAIN_VIDEO_DEFAULT) for a display that has none, a lone 'none'
 * video, sounds naming existing audio backends. */
gboolean sv_domain_display_post_parse(SvDomainDef *def, GError **error);

/* Write the input, graphics, sound, audio, video and redirdev elements in libvirt's order
 * (domain_display_format.c). */
void sv_domain_display_format(GString *buf, const SvDomainDef *def, guint flags);

/* ---- usb hubs (domain_usb.c) ---------------------------------------------------------------- */

/* Parse one <hub> into def->hubs. */
gboolean sv_domain_hub_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error);
/* Write the <hub> elements (libvirt's place: after the redirdevs). */
void sv_domain_hubs_format(GString *buf, const SvDomainDef *def, guint flags);

/* ---- capabilities: host devices and TPM (domain_hostdev.c) ------------------------------- */

void sv_domain_hostdev_def_free(gpointer p);
void sv_domain_tpm_def_free(SvDomainTpmDef *t);
/* Whether `node` is a <hostdev> or a <tpm>, which sv_domain_hostdev_parse() takes. */
gboolean sv_domain_hostdev_is_device(const xmlNode *node);
gboolean sv_domain_hostdev_parse(const xmlNode *node, SvDomainDef *def, guint flags,
                                 GError **error);
/* Write the <tpm> (libvirt's place: after the inputs) and the <hostdev> elements (after
 * the videos). */
void sv_domain_tpm_format(GString *buf, const SvDomainDef *def, guint flags);
void sv_domain_hostdevs_format(GString *buf, const SvDomainDef *def, guint flags);

/* The <feature> children of a <cpu> node appended to features (of SvDomainCpuFeatureDef),
 * read as libvirt's CPU parser reads them: with_policy (a guest CPU) reads each policy,
 * "require" by default; a host CPU's features get policy -1. Errors: an invalid policy or
 * name, a name given twice. */
gboolean sv_domain_parse_cpu_features(const xmlNode *node, gboolean with_policy,
                                      GPtrArray *features, GError **error);
