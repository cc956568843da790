/* domain_platform_os.c: <genid>, <sysinfo type='smbios'> and the <os> extras <bootmenu>
 * and <smbios>, parsed and formatted as libvirt 9.0 does. */
#include "conf/domain_conf.h"

#include <stdlib.h>
#include <string.h>

#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

#define UNSUPPORTED_SMBIOS_MODES "host"
#define UNSUPPORTED_SYSINFO_TYPES "fwcfg"

static const char *const section_names[] = {"bios", "system", "baseBoard", "chassis"};
G_STATIC_ASSERT(G_N_ELEMENTS(section_names) == SV_DOMAIN_SYSINFO_LAST);
static const char *const firmware_names[] = {"none", "bios", "efi"};
G_STATIC_ASSERT(G_N_ELEMENTS(firmware_names) == SV_DOMAIN_FIRMWARE_LAST);
static const char *const smbios_mode_names[] = {"none", "emulate", "host", "sysinfo"};
G_STATIC_ASSERT(G_N_ELEMENTS(smbios_mode_names) == SV_DOMAIN_SMBIOS_LAST);

static const char *const bios_keys[] = {"vendor", "version", "date", "release", NULL};
static const char *const system_keys[] = {"manufacturer", "product", "version", "serial",
                                          "uuid",         "sku",     "family",  NULL};
static const char *const baseboard_keys[] = {"manufacturer", "product", "version", "serial",
                                             "asset",        "location", NULL};
static const char *const chassis_keys[] = {"manufacturer", "version", "serial", "asset", "sku",
                                           NULL};

const char *
sv_domain_sysinfo_section_to_string(int v)
{
    return v >= 0 && v < SV_DOMAIN_SYSINFO_LAST ? section_names[v] : NULL;
}

int
sv_domain_sysinfo_section_from_string(const char *s)
{
    return sv_domain_table_index(section_names, SV_DOMAIN_SYSINFO_LAST, s);
}

const char *
sv_domain_firmware_to_string(int v)
{
    return v >= 0 && v < SV_DOMAIN_FIRMWARE_LAST ? firmware_names[v] : NULL;
}

int
sv_domain_firmware_from_string(const char *s)
{
    return sv_domain_table_index(firmware_names, SV_DOMAIN_FIRMWARE_LAST, s);
}

const char *
sv_domain_smbios_mode_to_string(int v)
{
    return v >= 0 && v < SV_DOMAIN_SMBIOS_LAST ? smbios_mode_names[v] : NULL;
}

int
sv_domain_smbios_mode_from_string(const char *s)
{
    return sv_domain_table_index(smbios_mode_names, SV_DOMAIN_SMBIOS_LAST, s);
}

const char *const *
sv_domain_sysinfo_keys(SvDomainSysinfoSection kind)
{
    static const char *const *const keys[] = {bios_keys, system_keys, baseboard_keys,
                                              chassis_keys};

    g_return_val_if_fail(kind < SV_DOMAIN_SYSINFO_LAST, NULL);
    return keys[kind];
}

static void
section_free(gpointer p)
{
    SvDomainSysinfoSectionDef *s = p;

    for (guint i = 0; i < SV_DOMAIN_SYSINFO_MAX_KEYS; i++)
        g_free(s->values[i]);
    g_free(s);
}

void
sv_domain_sysinfo_free(SvDomainSysinfoDef *sysinfo)
{
    if (!sysinfo)
        return;
    g_ptr_array_unref(sysinfo->sections);
    g_ptr_array_unref(sysinfo->oem_strings);
    g_free(sysinfo);
}

/* ---- <genid> ----------------------------------------------------------------------------- */

static gboolean
parse_genid(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "genid");
    g_autofree char *text = NULL;

    if (!node)
        return TRUE;
    def->genid = TRUE;
    text = sv_xml_text(node);
    /* An empty <genid/> asks for a generated one, which is kept from then on. */
    if (!text) {
        sv_uuid_generate(def->genid_uuid);
        return TRUE;
    }
    if (!sv_uuid_parse(text, def->genid_uuid)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "malformed genid element");
        return FALSE;
    }
    return TRUE;
}

void
sv_domain_platform_format_genid(GString *buf, const SvDomainDef *def)
{
    char uuid[SV_UUID_STRING_LEN + 1];

    if (!def->genid)
        return;
    sv_uuid_format(def->genid_uuid, uuid);
    sv_xml_append_text_elem(buf, 2, "genid", uuid);
}

/* ---- <sysinfo> --------------------------------------------------------------------------- */

/* libvirt's check of a BIOS date: mm/dd/yy or mm/dd/yyyy (from 1900). */
static gboolean
bios_date_valid(const char *date)
{
    char *end = NULL;
    long month = strtol(date, &end, 10);
    long day;
    long year;

    if (end == date || *end != '/')
        return FALSE;
    date = end + 1;
    day = strtol(date, &end, 10);
    if (end == date || *end != '/')
        return FALSE;
    date = end + 1;
    year = strtol(date, &end, 10);
    if (end == date || *end)
        return FALSE;
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
           (year >= 0 && (year < 100 || year >= 1900));
}

/* The system's uuid, canonical, equal to the domain's: taken as the domain's when the
 * domain has no <uuid>. */
static gboolean
check_system_uuid(const xmlNode *root, SvDomainDef *def, char **value, GError **error)
{
    guint8 uuid[16];
    char text[SV_UUID_STRING_LEN + 1];

    if (!sv_uuid_parse(*value, uuid)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL, "malformed <sysinfo> uuid element");
        return FALSE;
    }
    if (!sv_xml_child(root, "uuid"))
        memcpy(def->uuid, uuid, sizeof(uuid));
    else if (memcmp(def->uuid, uuid, sizeof(uuid)) != 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL,
                     "UUID mismatch between <uuid> and <sysinfo>");
        return FALSE;
    }
    sv_uuid_format(uuid, text);
    g_free(*value);
    *value = g_strdup(text);
    return TRUE;
}

/* One section: the first entry of each known name, as libvirt's XPath lookups read them;
 * others are ignored as by libvirt. NULL *out when it has none. */
static gboolean
parse_section(const xmlNode *root, const xmlNode *node, SvDomainSysinfoSection kind,
              SvDomainDef *def, SvDomainSysinfoSectionDef **out, GError **error)
{
    const char *const *keys = sv_domain_sysinfo_keys(kind);
    SvDomainSysinfoSectionDef *s = g_new0(SvDomainSysinfoSectionDef, 1);
    gboolean any = FALSE;

    s->kind = kind;
    *out = NULL;
    for (const xmlNode *c = node->children; c; c = c->next) {
        g_autofree char *name = sv_xml_is(c, "entry") ? sv_xml_prop(c, "name") : NULL;
        int i = name ? sv_domain_table_index((const char *const *)keys, g_strv_length((char **)keys), name)
                     : -1;

        if (i < 0 || s->values[i])
            continue;
        s->values[i] = sv_xml_text(c);
        any = any || s->values[i];
    }
    if (kind == SV_DOMAIN_SYSINFO_BIOS && s->values[2] && !bios_date_valid(s->values[2])) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL, "Invalid BIOS 'date' format");
        section_free(s);
        return FALSE;
    }
    if (kind == SV_DOMAIN_SYSINFO_SYSTEM && s->values[4] &&
        !check_system_uuid(root, def, &s->values[4], error)) {
        section_free(s);
        return FALSE;
    }
    if (any)
        *out = s;
    else
        section_free(s);
    return TRUE;
}

static gboolean
parse_sysinfo_sections(const xmlNode *root, const xmlNode *node, SvDomainDef *def,
                       GError **error)
{
    SvDomainSysinfoDef *si = def->sysinfo;

    /* libvirt reads the first bios, system and chassis, every baseBoard. */
    for (int kind = 0; kind < SV_DOMAIN_SYSINFO_LAST; kind++) {
        for (const xmlNode *c = node->children; c; c = c->next) {
            SvDomainSysinfoSectionDef *s = NULL;

            if (!sv_xml_is(c, section_names[kind]))
                continue;
            if (!parse_section(root, c, kind, def, &s, error))
                return FALSE;
            if (s)
                g_ptr_array_add(si->sections, s);
            if (kind != SV_DOMAIN_SYSINFO_BASEBOARD)
                break;
        }
    }
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (!sv_xml_is(c, "oemStrings"))
            continue;
        for (const xmlNode *e = c->children; e; e = e->next) {
            if (sv_xml_is(e, "entry"))
                g_ptr_array_add(si->oem_strings, sv_xml_text_raw(e));
        }
        break;
    }
    return TRUE;
}

static gboolean
parse_sysinfo(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = NULL;
    g_autofree char *type = NULL;

    if (!sv_domain_single_child(root, "sysinfo", &node, error))
        return FALSE;
    if (!node)
        return TRUE;
    type = sv_xml_prop(node, "type");
    if (!type) {
        sv_xml_error_missing_attr(error, node, "type");
        return FALSE;
    }
    if (!g_str_equal(type, "smbios")) {
        if (sv_word_in(UNSUPPORTED_SYSINFO_TYPES, type))
            sv_domain_error_unsupported_value(error, node, "type", type);
        else
            sv_xml_error_invalid_attr(error, node, "type", type);
        return FALSE;
    }
    def->sysinfo = g_new0(SvDomainSysinfoDef, 1);
    def->sysinfo->sections = g_ptr_array_new_with_free_func(section_free);
    def->sysinfo->oem_strings = g_ptr_array_new_with_free_func(g_free);
    return parse_sysinfo_sections(root, node, def, error);
}

void
sv_domain_platform_format_sysinfo(GString *buf, const SvDomainDef *def)
{
    const SvDomainSysinfoDef *si = def->sysinfo;

    if (!si)
        return;
    if (!si->sections->len && !si->oem_strings->len) {
        g_string_append(buf, "  <sysinfo type='smbios'/>\n");
        return;
    }
    g_string_append(buf, "  <sysinfo type='smbios'>\n");
    for (guint i = 0; i < si->sections->len; i++) {
        const SvDomainSysinfoSectionDef *s = si->sections->pdata[i];
        const char *const *keys = sv_domain_sysinfo_keys(s->kind);

        g_string_append_printf(buf, "    <%s>\n", section_names[s->kind]);
        for (guint k = 0; keys[k]; k++) {
            if (!s->values[k])
                continue;
            g_string_append_printf(buf, "      <entry name='%s'>", keys[k]);
            sv_xml_append_escaped(buf, s->values[k], FALSE);
            g_string_append(buf, "</entry>\n");
        }
        g_string_append_printf(buf, "    </%s>\n", section_names[s->kind]);
    }
    if (si->oem_strings->len) {
        g_string_append(buf, "    <oemStrings>\n");
        for (guint i = 0; i < si->oem_strings->len; i++) {
            g_string_append(buf, "      <entry>");
            sv_xml_append_escaped(buf, si->oem_strings->pdata[i], FALSE);
            g_string_append(buf, "</entry>\n");
        }
        g_string_append(buf, "    </oemStrings>\n");
    }
    g_string_append(buf, "  </sysinfo>\n");
}

/* ---- <os> extras ------------------------------------------------------------------------- */

static gboolean
parse_bootmenu(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(os, "bootmenu");
    g_autofree char *timeout = NULL;
    int enable = SV_DOMAIN_TRISTATE_ABSENT;

    if (!node)
        return TRUE;
    if (!sv_domain_prop_enum(node, "enable", sv_domain_tristate_from_string, 1, NULL, FALSE,
                             &enable, error))
        return FALSE;
    def->bootmenu = enable;
    timeout = sv_xml_prop(node, "timeout");
    /* libvirt reads the timeout only for an enabled menu. */
    if (!timeout || enable != SV_DOMAIN_TRISTATE_YES)
        return TRUE;
    if (!sv_domain_parse_uint(timeout, &def->bootmenu_timeout)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'timeout' in element 'bootmenu': '%s'. "
                     "Expected non-negative integer value",
                     timeout);
        return FALSE;
    }
    if (def->bootmenu_timeout > 65535) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "invalid value for boot menu timeout, must be in range [0,65535]");
        return FALSE;
    }
    def->bootmenu_timeout_set = TRUE;
    return TRUE;
}

/* <bios>: useserial is yes or (anything else) no, as libvirt reads it. */
static gboolean
parse_bios(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(os, "bios");
    g_autofree char *useserial = node ? sv_xml_prop(node, "useserial") : NULL;
    g_autofree char *timeout = node ? sv_xml_prop(node, "rebootTimeout") : NULL;
    char *end = NULL;
    gint64 v;

    if (useserial)
        def->bios_useserial =
            g_str_equal(useserial, "yes") ? SV_DOMAIN_TRISTATE_YES : SV_DOMAIN_TRISTATE_NO;
    if (!timeout)
        return TRUE;
    v = g_ascii_strtoll(timeout, &end, 10);
    if (!*timeout || *end || v < G_MININT || v > G_MAXINT) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'rebootTimeout' in element 'bios': '%s'. "
                     "Expected integer value",
                     timeout);
        return FALSE;
    }
    if (v < -1 || v > 65535) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "invalid value for rebootTimeout, must be in range [-1,65535]");
        return FALSE;
    }
    def->bios_reboot_timeout_set = TRUE;
    def->bios_reboot_timeout = (int)v;
    return TRUE;
}

static gboolean
parse_smbios(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(os, "smbios");
    g_autofree char *mode = node ? sv_xml_prop(node, "mode") : NULL;
    int v;

    if (!mode)
        return TRUE;
    v = sv_domain_smbios_mode_from_string(mode);
    if (v == SV_DOMAIN_SMBIOS_HOST || (v < 0 && sv_word_in(UNSUPPORTED_SMBIOS_MODES, mode))) {
        sv_domain_error_unsupported_value(error, node, "mode", mode);
        return FALSE;
    }
    if (v <= SV_DOMAIN_SMBIOS_NONE) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown smbios mode '%s'",
                     mode);
        return FALSE;
    }
    def->smbios_mode = v;
    return TRUE;
}

/* With <os firmware=...> the firmware is picked at start: libvirt refuses what the pick
 * decides (a loader path counts as its type), and firmware features without it. */
static gboolean
check_autoselect(const SvDomainDef *def, GError **error)
{
    const char *what = NULL;
    gboolean features = def->fw_enrolled_keys != SV_DOMAIN_TRISTATE_ABSENT ||
                        def->fw_secure_boot != SV_DOMAIN_TRISTATE_ABSENT;

    if (def->firmware == SV_DOMAIN_FIRMWARE_NONE) {
        if (!features)
            return TRUE;
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL,
                     "cannot use feature-based firmware autoselection when firmware "
                     "autoselection is disabled");
        return FALSE;
    }
    if (def->os.loader_readonly != SV_DOMAIN_TRISTATE_ABSENT)
        what = "loader attribute 'readonly'";
    else if (def->os.loader_type != SV_DOMAIN_LOADER_TYPE_NONE)
        what = "loader attribute 'type'";
    else if (def->nvram_template)
        what = "nvram attribute 'template'";
    else if (features && def->loader_secure != SV_DOMAIN_TRISTATE_ABSENT)
        what = "loader attribute 'secure'";
    if (!what)
        return TRUE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL,
                 "%s cannot be specified when firmware autoselection is enabled", what);
    return FALSE;
}

/* <firmware><feature enabled= name=/>: a later one of the same name wins, as in libvirt. */
static gboolean
parse_fw_features(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *fw = sv_xml_child(os, "firmware");

    for (const xmlNode *c = fw ? fw->children : NULL; c; c = c->next) {
        g_autofree char *name = NULL;
        int enabled = SV_DOMAIN_TRISTATE_ABSENT;

        if (!sv_xml_is(c, "feature"))
            continue;
        if (!sv_domain_prop_enum(c, "enabled", sv_domain_tristate_from_string, 1, NULL, TRUE,
                                 &enabled, error))
            return FALSE;
        name = sv_xml_prop(c, "name");
        if (!name) {
            sv_xml_error_missing_attr(error, c, "name");
            return FALSE;
        }
        if (g_str_equal(name, "enrolled-keys"))
            def->fw_enrolled_keys = enabled;
        else if (g_str_equal(name, "secure-boot"))
            def->fw_secure_boot = enabled;
        else {
            sv_xml_error_invalid_attr(error, c, "name", name);
            return FALSE;
        }
    }
    return TRUE;
}

void
sv_domain_platform_format_fw_features(GString *buf, const SvDomainDef *def)
{
    if (def->fw_enrolled_keys == SV_DOMAIN_TRISTATE_ABSENT &&
        def->fw_secure_boot == SV_DOMAIN_TRISTATE_ABSENT)
        return;
    g_string_append(buf, "    <firmware>\n");
    if (def->fw_enrolled_keys != SV_DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(buf, "      <feature enabled='%s' name='enrolled-keys'/>\n",
                               sv_domain_tristate_to_string(def->fw_enrolled_keys));
    if (def->fw_secure_boot != SV_DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(buf, "      <feature enabled='%s' name='secure-boot'/>\n",
                               sv_domain_tristate_to_string(def->fw_secure_boot));
    g_string_append(buf, "    </firmware>\n");
}

/* <os firmware=>, <loader secure=>, <nvram template=>PATH</nvram>. */
static gboolean
parse_firmware(const xmlNode *os, SvDomainDef *def, GError **error)
{
    g_autofree char *firmware = sv_xml_prop(os, "firmware");
    xmlNode *loader = sv_xml_child(os, "loader");
    xmlNode *nvram = sv_xml_child(os, "nvram");
    int secure = SV_DOMAIN_TRISTATE_ABSENT;

    if (firmware) {
        int v = sv_domain_firmware_from_string(firmware);

        if (v <= SV_DOMAIN_FIRMWARE_NONE) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "unknown firmware value %s",
                         firmware);
            return FALSE;
        }
        def->firmware = v;
    }
    if (loader && !sv_domain_prop_enum(loader, "secure", sv_domain_tristate_from_string, 1, NULL,
                                       FALSE, &secure, error))
        return FALSE;
    if (loader && !def->os.loader && def->firmware == SV_DOMAIN_FIRMWARE_NONE) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL,
                     "no loader path specified and firmware auto selection disabled");
        return FALSE;
    }
    def->loader_secure = secure;
    if (!parse_fw_features(os, def, error))
        return FALSE;
    if (nvram) {
        def->nvram = sv_xml_text(nvram);
        def->nvram_template = sv_xml_prop(nvram, "template");
    }
    return check_autoselect(def, error);
}

gboolean
sv_domain_platform_parse_os_extras(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *os = sv_xml_child(root, "os");

    if (!parse_genid(root, def, error) || !parse_sysinfo(root, def, error))
        return FALSE;
    return !os || (parse_firmware(os, def, error) && parse_bootmenu(os, def, error) &&
                   parse_bios(os, def, error) && parse_smbios(os, def, error));
}

void
sv_domain_platform_format_nvram(GString *buf, const SvDomainDef *def)
{
    if (!def->nvram && !def->nvram_template)
        return;
    g_string_append(buf, "    <nvram");
    sv_xml_append_attr(buf, "template", def->nvram_template);
    if (!def->nvram) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_c(buf, '>');
    sv_xml_append_escaped(buf, def->nvram, FALSE);
    g_string_append(buf, "</nvram>\n");
}

void
sv_domain_platform_format_os_extras(GString *buf, const SvDomainDef *def)
{
    if (def->bootmenu != SV_DOMAIN_TRISTATE_ABSENT) {
        g_string_append_printf(buf, "    <bootmenu enable='%s'",
                               sv_domain_tristate_to_string(def->bootmenu));
        if (def->bootmenu_timeout_set)
            g_string_append_printf(buf, " timeout='%u'", def->bootmenu_timeout);
        g_string_append(buf, "/>\n");
    }
    if (def->bios_useserial != SV_DOMAIN_TRISTATE_ABSENT || def->bios_reboot_timeout_set) {
        g_string_append(buf, "    <bios");
        if (def->bios_useserial != SV_DOMAIN_TRISTATE_ABSENT)
            sv_xml_append_attr(buf, "useserial", sv_domain_tristate_to_string(def->bios_useserial));
        if (def->bios_reboot_timeout_set)
            g_string_append_printf(buf, " rebootTimeout='%d'", def->bios_reboot_timeout);
        g_string_append(buf, "/>\n");
    }
    if (def->smbios_mode != SV_DOMAIN_SMBIOS_NONE)
        g_string_append_printf(buf, "    <smbios mode='%s'/>\n",
                               sv_domain_smbios_mode_to_string(def->smbios_mode));
}
