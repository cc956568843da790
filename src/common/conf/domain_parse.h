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

/* CONFIG_UNSUPPORTED: "`what` is not supported by splitvirt", for XML libvirt knows and
 * splitvirt does not implement. */
void sv_domain_error_unsupported(GError **error, const char *what);
/* The same for one value of attribute `attr` of `node`. */
void sv_domain_error_unsupported_value(GError **error, const xmlNode *node, const char *attr,
                                       const char *value);

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
