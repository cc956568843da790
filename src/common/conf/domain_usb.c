/* domain_usb.c: the <hub> devices of libvirt domain XML (SvDomainHubDef): parse, format, free.
 * Their USB ports are given by the drivers (the QEMU driver's qemu_usb.c). */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

void
sv_domain_hub_def_free(gpointer p)
{
    SvDomainHubDef *hub = p;

    if (!hub)
        return;
    sv_domain_device_info_clear(&hub->info);
    g_free(hub);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainHubDef, sv_domain_hub_def_free)

gboolean
sv_domain_hub_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainHubDef) hub = g_new0(SvDomainHubDef, 1);
    g_autofree char *type = sv_xml_prop(node, "type");
    guint info_flags = (flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS;

    /* libvirt's errors, word for word. */
    if (!type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "missing hub device type");
        return FALSE;
    }
    if (!g_str_equal(type, "usb")) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown hub device type '%s'", type);
        return FALSE;
    }
    if (!sv_domain_device_info_parse(node, &hub->info, info_flags, error))
        return FALSE;
    g_ptr_array_add(def->hubs, g_steal_pointer(&hub));
    return TRUE;
}

void
sv_domain_hubs_format(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->hubs->len; i++) {
        const SvDomainHubDef *hub = def->hubs->pdata[i];
        g_autoptr(GString) inner = g_string_new(NULL);

        sv_domain_device_info_format(inner, 6, &hub->info, flags);
        if (!inner->len)
            g_string_append(buf, "    <hub type='usb'/>\n");
        else
            g_string_append_printf(buf, "    <hub type='usb'>\n%s    </hub>\n", inner->str);
    }
}
