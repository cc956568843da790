/* domain_fs.c: <filesystem> of libvirt domain XML (the mount type; 9p's model, multidevs,
 * fmode, dmode and <driver wrpolicy>; virtiofs's <driver> and <binary> with its cache and
 * lock settings): parsing and formatting as libvirt 9.0 does.
 * What libvirt knows and this file does not parse (sandbox, thread_pool, idmap, socket
 * sources, space limits, other types and drivers) is refused by the schema check. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

SV_DOMAIN_ENUM_IMPL(fs_driver, SV_DOMAIN_FS_DRIVER_LAST, "none", "path", "handle", "virtiofs")
SV_DOMAIN_ENUM_IMPL(fs_cache_mode, SV_DOMAIN_FS_CACHE_LAST, "default", "none", "always")
SV_DOMAIN_ENUM_IMPL(fs_model, SV_DOMAIN_FS_MODEL_LAST, "default", "virtio", "virtio-transitional",
                    "virtio-non-transitional")
SV_DOMAIN_ENUM_IMPL(fs_multidevs, SV_DOMAIN_FS_MULTIDEVS_LAST, "default", "remap", "forbid",
                    "warn")
SV_DOMAIN_ENUM_IMPL(fs_wrpolicy, SV_DOMAIN_FS_WRPOLICY_LAST, "default", "immediate")

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
    int wrpolicy = SV_DOMAIN_FS_WRPOLICY_DEFAULT;

    if (!driver)
        return TRUE;
    if (!sv_domain_prop_enum(driver, "type", sv_domain_fs_driver_from_string,
                             SV_DOMAIN_FS_DRIVER_PATH, UNSUPPORTED_FS_DRIVERS, FALSE, &type, error) ||
        !sv_domain_prop_enum(driver, "wrpolicy", sv_domain_fs_wrpolicy_from_string,
                             SV_DOMAIN_FS_WRPOLICY_IMMEDIATE, NULL, FALSE, &wrpolicy, error))
        return FALSE;
    fs->driver = type;
    fs->wrpolicy = wrpolicy;
    /* libvirt reads it (an unsigned long long; 0 means unset) for virtiofs only. */
    if (type != SV_DOMAIN_FS_DRIVER_VIRTIOFS)
        return TRUE;
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

/* fmode and dmode: octal, at most 0777, 0 meaning unset; libvirt's texts. */
static gboolean parse_fs_mode(const xmlNode *node, const char *attr, guint *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    char *end = NULL;
    guint64 n;

    if (!v)
        return TRUE;
    n = g_ascii_strtoull(v, &end, 8);
    if (end == v || *end || strchr(v, '-') || n > G_MAXUINT) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element 'filesystem': '%s'. "
                     "Expected non-negative integer value",
                     attr, v);
        return FALSE;
    }
    if (n > 0777) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "invalid %s: '0%o'", attr, (guint)n);
        return FALSE;
    }
    *out = (guint)n;
    return TRUE;
}

/* The 9p attributes of <filesystem>, in libvirt's order. */
static gboolean parse_fs_9p_attrs(const xmlNode *node, SvDomainFsDef *fs, GError **error)
{
    int model = SV_DOMAIN_FS_MODEL_DEFAULT;
    int multidevs = SV_DOMAIN_FS_MULTIDEVS_DEFAULT;

    if (!sv_domain_prop_enum(node, "model", sv_domain_fs_model_from_string,
                             SV_DOMAIN_FS_MODEL_VIRTIO, NULL, FALSE, &model, error) ||
        !sv_domain_prop_enum(node, "multidevs", sv_domain_fs_multidevs_from_string,
                             SV_DOMAIN_FS_MULTIDEVS_REMAP, NULL, FALSE, &multidevs, error) ||
        !parse_fs_mode(node, "fmode", &fs->fmode, error) ||
        !parse_fs_mode(node, "dmode", &fs->dmode, error))
        return FALSE;
    fs->model = model;
    fs->multidevs = multidevs;
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
        !parse_fs_9p_attrs(node, fs, error) || !parse_fs_driver(node, fs, error) ||
        !parse_fs_binary(node, fs, error))
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

gboolean sv_domain_fs_validate(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];

        if (fs->info.boot_order && fs->driver != SV_DOMAIN_FS_DRIVER_VIRTIOFS) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "boot order is only supported for virtiofs");
            return FALSE;
        }
    }
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

/* libvirt writes <driver>'s other attributes only with its type. */
static void format_filesystem(GString *buf, const SvDomainFsDef *fs, guint flags)
{
    g_string_append_printf(buf, "    <filesystem type='%s' accessmode='%s'",
                           sv_domain_fs_type_to_string(fs->type),
                           sv_domain_fs_access_mode_to_string(fs->accessmode));
    if (fs->model)
        sv_xml_append_attr(buf, "model", sv_domain_fs_model_to_string(fs->model));
    if (fs->multidevs)
        sv_xml_append_attr(buf, "multidevs", sv_domain_fs_multidevs_to_string(fs->multidevs));
    if (fs->fmode)
        g_string_append_printf(buf, " fmode='%04o'", fs->fmode);
    if (fs->dmode)
        g_string_append_printf(buf, " dmode='%04o'", fs->dmode);
    g_string_append(buf, ">\n");
    if (fs->driver != SV_DOMAIN_FS_DRIVER_NONE) {
        g_string_append_printf(buf, "      <driver type='%s'",
                               sv_domain_fs_driver_to_string(fs->driver));
        if (fs->wrpolicy)
            sv_xml_append_attr(buf, "wrpolicy", sv_domain_fs_wrpolicy_to_string(fs->wrpolicy));
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
