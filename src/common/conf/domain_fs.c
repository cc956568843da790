/* domain_fs.c: <filesystem> of libvirt domain XML (the mount type; virtiofs's <driver> and
 * <binary> with its cache and lock settings): parsing and formatting as libvirt 9.0 does.
 * What libvirt knows and this file does not parse (sandbox, thread_pool, idmap, socket
 * sources, space limits, other types and drivers) is refused by the schema check. */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

SV_DOMAIN_ENUM_IMPL(fs_driver, SV_DOMAIN_FS_DRIVER_LAST, "none", "path", "handle", "virtiofs")
SV_DOMAIN_ENUM_IMPL(fs_cache_mode, SV_DOMAIN_FS_CACHE_LAST, "default", "none", "always")

/* Values libvirt 9.0.0 knows and splitvirt does not implement (space-separated). */
#define UNSUPPORTED_FS_TYPES   "block file template ram bind volume"
#define UNSUPPORTED_FS_DRIVERS "loop nbd ploop"

static guint info_flags(guint flags)
{
    return SV_DEVICE_INFO_BOOT |
           ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS);
}

static gboolean parse_fs_driver(const xmlNode *node, SvDomainFsDef *fs, GError **error)
{
    xmlNode *driver = sv_xml_child(node, "driver");
    g_autofree char *queue = driver ? sv_xml_prop(driver, "queue") : NULL;
    int type = SV_DOMAIN_FS_DRIVER_NONE;

    if (!driver)
        return TRUE;
    if (!sv_domain_prop_enum(driver, "type", sv_domain_fs_driver_from_string,
                             SV_DOMAIN_FS_DRIVER_PATH, UNSUPPORTED_FS_DRIVERS, FALSE, &type, error))
        return FALSE;
    fs->driver = type;
    /* libvirt reads it as an unsigned long long; 0 means unset. */
    if (queue && !sv_domain_parse_u64(queue, &fs->queue)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "cannot parse queue size '%s' for virtiofs", queue);
        return FALSE;
    }
    return TRUE;
}

/* <binary path xattr> with <cache mode> and <lock posix flock>. */
static gboolean parse_fs_binary(const xmlNode *node, SvDomainFsDef *fs, GError **error)
{
    xmlNode *binary = sv_xml_child(node, "binary");
    xmlNode *cache = binary ? sv_xml_child(binary, "cache") : NULL;
    xmlNode *lock = binary ? sv_xml_child(binary, "lock") : NULL;

    if (!binary)
        return TRUE;
    fs->binary_path = sv_xml_prop(binary, "path");
    if (!sv_domain_prop_enum(binary, "xattr", sv_domain_switch_from_string, SV_DOMAIN_SWITCH_ON,
                             NULL, FALSE, &fs->xattr, error))
        return FALSE;
    if (cache && !sv_domain_prop_enum(cache, "mode", sv_domain_fs_cache_mode_from_string,
                                      SV_DOMAIN_FS_CACHE_NONE, NULL, FALSE, &fs->cache, error))
        return FALSE;
    if (lock && (!sv_domain_prop_enum(lock, "posix", sv_domain_switch_from_string,
                                      SV_DOMAIN_SWITCH_ON, NULL, FALSE, &fs->lock_posix, error) ||
                 !sv_domain_prop_enum(lock, "flock", sv_domain_switch_from_string,
                                      SV_DOMAIN_SWITCH_ON, NULL, FALSE, &fs->lock_flock, error)))
        return FALSE;
    return TRUE;
}

static void set_no_source_target(GError **error, gboolean source, const char *device)
{
    if (source)
        sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_SOURCE,
                                  "missing source information for device %s",
                                  "missing source information for device", device);
    else
        sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_TARGET,
                                  "missing target information for device %s",
                                  "missing target information for device", device);
}

gboolean sv_domain_fs_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainFsDef) fs = g_new0(SvDomainFsDef, 1);
    int type = SV_DOMAIN_FS_TYPE_MOUNT;
    int access = SV_DOMAIN_FS_ACCESS_PASSTHROUGH;
    g_autofree char *socket = sv_xml_child_prop(node, "source", "socket");

    if (!sv_domain_prop_enum(node, "type", sv_domain_fs_type_from_string, 0, UNSUPPORTED_FS_TYPES,
                             FALSE, &type, error) ||
        !sv_domain_prop_enum(node, "accessmode", sv_domain_fs_access_mode_from_string, 0, NULL,
                             FALSE, &access, error) ||
        !parse_fs_driver(node, fs, error) || !parse_fs_binary(node, fs, error))
        return FALSE;
    fs->type = type;
    fs->accessmode = access;
    /* A virtiofsd started by someone else: not served (no dir, so checked first). */
    if (socket) {
        sv_domain_error_unsupported(error, "attribute 'socket' of <source> in <filesystem>");
        return FALSE;
    }
    fs->source_dir = sv_xml_child_prop(node, "source", "dir");
    fs->target_dir = sv_xml_child_prop(node, "target", "dir");
    if (!fs->source_dir || !fs->target_dir) {
        set_no_source_target(error, !fs->source_dir,
                             fs->source_dir ? fs->source_dir : fs->target_dir);
        return FALSE;
    }
    fs->readonly = sv_xml_child(node, "readonly") != NULL;
    if (!sv_domain_device_info_parse(node, &fs->info, info_flags(flags), error))
        return FALSE;
    g_ptr_array_add(def->filesystems, g_steal_pointer(&fs));
    return TRUE;
}

static void append_switch(GString *buf, const char *name, int value)
{
    if (value != SV_DOMAIN_SWITCH_ABSENT)
        sv_xml_append_attr(buf, name, sv_domain_switch_to_string(value));
}

/* libvirt writes <binary> when any of its parts is set, children in its order. */
static void format_fs_binary(GString *buf, const SvDomainFsDef *fs)
{
    gboolean locks = fs->lock_posix || fs->lock_flock;

    if (!fs->binary_path && !fs->xattr && !fs->cache && !locks)
        return;
    g_string_append(buf, "      <binary");
    if (fs->binary_path)
        sv_xml_append_attr(buf, "path", fs->binary_path);
    append_switch(buf, "xattr", fs->xattr);
    if (!fs->cache && !locks) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (fs->cache)
        g_string_append_printf(buf, "        <cache mode='%s'/>\n",
                               sv_domain_fs_cache_mode_to_string(fs->cache));
    if (locks) {
        g_string_append(buf, "        <lock");
        append_switch(buf, "posix", fs->lock_posix);
        append_switch(buf, "flock", fs->lock_flock);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      </binary>\n");
}

static void format_filesystem(GString *buf, const SvDomainFsDef *fs, guint flags)
{
    g_string_append_printf(buf, "    <filesystem type='%s' accessmode='%s'>\n",
                           sv_domain_fs_type_to_string(fs->type),
                           sv_domain_fs_access_mode_to_string(fs->accessmode));
    if (fs->driver != SV_DOMAIN_FS_DRIVER_NONE) {
        g_string_append_printf(buf, "      <driver type='%s'",
                               sv_domain_fs_driver_to_string(fs->driver));
        if (fs->queue)
            g_string_append_printf(buf, " queue='%" G_GUINT64_FORMAT "'", fs->queue);
        g_string_append(buf, "/>\n");
    }
    format_fs_binary(buf, fs);
    g_string_append(buf, "      <source");
    sv_xml_append_attr(buf, "dir", fs->source_dir);
    g_string_append(buf, "/>\n      <target");
    sv_xml_append_attr(buf, "dir", fs->target_dir);
    g_string_append(buf, "/>\n");
    if (fs->readonly)
        g_string_append(buf, "      <readonly/>\n");
    sv_domain_device_info_format(buf, 6, &fs->info, flags);
    g_string_append(buf, "    </filesystem>\n");
}

void sv_domain_format_filesystems(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->filesystems->len; i++)
        format_filesystem(buf, def->filesystems->pdata[i], flags);
}
