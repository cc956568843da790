/* domain_disk_volume.c: the <source> of a <disk type='volume'>, which names a storage
 * pool's volume (pool=, volume=, mode=), as libvirt 9.0 parses and formats it.
 *
 * A definition keeps the names only. The driver resolves them when the guest starts or the
 * disk is attached (its storage daemon gives the volume's path and type); the live
 * definition then holds the path in SvDomainDiskDef.source, which clients never see (libvirt
 * shows a running guest's volume disk by its names too) and the daemon's status files keep
 * (SV_DOMAIN_FORMAT_STATUS), so a restarted daemon knows what QEMU opened. */
#include "conf/domain_conf.h"

#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

SV_DOMAIN_ENUM_IMPL(disk_vol_mode, SV_DOMAIN_DISK_VOL_MODE_LAST, "default", "host", "direct")

SvDomainDiskType
sv_domain_disk_actual_type(const SvDomainDiskDef *disk)
{
    return disk->type == SV_DOMAIN_DISK_TYPE_VOLUME ? disk->vol_actual_type : disk->type;
}

gboolean
sv_domain_disk_vol_unresolved(const SvDomainDiskDef *disk)
{
    return disk->type == SV_DOMAIN_DISK_TYPE_VOLUME && disk->vol_pool && !disk->source;
}

/* What a status file adds: the path the volume was resolved to and its type. */
static gboolean
parse_resolved(const xmlNode *source, SvDomainDiskDef *disk, GError **error)
{
    g_autofree char *path = sv_xml_prop(source, "volpath");
    g_autofree char *type = sv_xml_prop(source, "voltype");
    int t = sv_domain_disk_type_from_string(type);

    if (!path)
        return TRUE;
    if (*path != '/' || (t != SV_DOMAIN_DISK_TYPE_FILE && t != SV_DOMAIN_DISK_TYPE_BLOCK)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "invalid resolved volume '%s' of type '%s' in a status file", path,
                     type ? type : "");
        return FALSE;
    }
    disk->source = g_steal_pointer(&path);
    disk->vol_actual_type = t;
    return TRUE;
}

gboolean
sv_domain_disk_volume_parse_source(const xmlNode *source, SvDomainDiskDef *disk, guint flags,
                                   GError **error)
{
    g_autofree char *mode = NULL;
    int m;

    disk->vol_pool = sv_xml_prop(source, "pool");
    disk->vol_name = sv_xml_prop(source, "volume");
    /* Neither: no medium (a cdrom's or a floppy's). */
    if (!disk->vol_pool && !disk->vol_name)
        return TRUE;
    if (!disk->vol_pool || !disk->vol_name) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "'pool' and 'volume' must be specified together for 'pool' type source");
        return FALSE;
    }
    mode = sv_xml_prop(source, "mode");
    if (mode) {
        m = sv_domain_disk_vol_mode_from_string(mode);
        if (m <= SV_DOMAIN_DISK_VOL_MODE_DEFAULT) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown source mode '%s' for volume type disk", mode);
            return FALSE;
        }
        disk->vol_mode = m;
    }
    return !(flags & SV_DOMAIN_PARSE_STATUS) || parse_resolved(source, disk, error);
}

void
sv_domain_disk_volume_format_source_attrs(GString *buf, const SvDomainDiskDef *disk,
                                          guint flags)
{
    sv_xml_append_attr(buf, "pool", disk->vol_pool);
    sv_xml_append_attr(buf, "volume", disk->vol_name);
    if (disk->vol_mode)
        sv_xml_append_attr(buf, "mode", sv_domain_disk_vol_mode_to_string(disk->vol_mode));
    if ((flags & SV_DOMAIN_FORMAT_STATUS) && !(flags & SV_DOMAIN_FORMAT_INACTIVE) &&
        disk->source) {
        sv_xml_append_attr(buf, "volpath", disk->source);
        sv_xml_append_attr(buf, "voltype",
                           sv_domain_disk_type_to_string(disk->vol_actual_type));
    }
}
