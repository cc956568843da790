/* fuzz-xl-cfg.c: libFuzzer harness for the xl.cfg parser (xl_cfg.c) and the conversion of
 * xl.cfg settings to a domain definition and back (xen_xl.c). Input: the xl.cfg text.
 *
 * What parses is formatted; the output must parse to settings that format the same.
 * Settings that convert to a definition are converted back to xl.cfg, and that must
 * convert to a definition again. */
#include <string.h>

#include "xen_xl.h"
#include "xl_cfg.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_CFG (64 * 1024)

static void
check_conversion(const XlCfg *cfg)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = xen_xl_to_def(cfg, &error);
    g_autoptr(XlCfg) back = NULL;
    g_autoptr(SvDomainDef) def2 = NULL;
    g_autofree char *xml = NULL;

    g_assert((def == NULL) == (error != NULL));
    if (!def)
        return;
    xml = sv_domain_def_format(def, -1, 0);
    g_assert(xml);
    back = xen_xl_from_def(def, &error);
    if (!back)
        return; /* xl.cfg cannot express everything a definition may hold */
    def2 = xen_xl_to_def(back, &error);
    if (!def2)
        g_error("xl.cfg made from a definition does not convert back: %s", error->message);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *text = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autoptr(XlCfg) cfg = NULL;
    g_autoptr(XlCfg) again = NULL;
    g_autoptr(GError) error = NULL;

    if (size > FUZZ_MAX_CFG)
        return 0;
    text = g_strndup((const char *)data, size);
    cfg = xl_cfg_parse(text, &error);
    g_assert((cfg == NULL) == (error != NULL));
    if (!cfg)
        return 0;
    for (guint i = 0; i < xl_cfg_size(cfg); i++) {
        const XlEntry *e = xl_cfg_get_entry(cfg, i);
        g_assert(e->key && e->value);
        g_assert(xl_cfg_lookup(cfg, e->key) == e->value);
    }
    out = xl_cfg_format(cfg);
    again = xl_cfg_parse(out, &error);
    if (!again)
        g_error("formatted xl.cfg does not parse: %s\n%s", error->message, out);
    out2 = xl_cfg_format(again);
    if (strcmp(out, out2) != 0)
        g_error("xl.cfg format is not a fixed point:\n%s\n---\n%s", out, out2);
    check_conversion(cfg);
    return 0;
}
