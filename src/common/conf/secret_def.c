/* secret_def.c: secret XML (secret_def.h). */
#include "conf/secret_def.h"

#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

static const char *const usage_types[SV_SECRET_USAGE_TYPE_LAST] = {
    [SV_SECRET_USAGE_TYPE_NONE] = "none",   [SV_SECRET_USAGE_TYPE_VOLUME] = "volume",
    [SV_SECRET_USAGE_TYPE_CEPH] = "ceph",   [SV_SECRET_USAGE_TYPE_ISCSI] = "iscsi",
    [SV_SECRET_USAGE_TYPE_TLS] = "tls",     [SV_SECRET_USAGE_TYPE_VTPM] = "vtpm",
};

/* The element naming each usage type's id, and libvirt's words when it is missing. */
static const struct {
    const char *element;
    const char *missing;
} usage_ids[SV_SECRET_USAGE_TYPE_LAST] = {
    [SV_SECRET_USAGE_TYPE_VOLUME] = {"volume", "volume usage specified, but volume path is missing"},
    [SV_SECRET_USAGE_TYPE_CEPH] = {"name", "Ceph usage specified, but name is missing"},
    [SV_SECRET_USAGE_TYPE_ISCSI] = {"target", "iSCSI usage specified, but target is missing"},
    [SV_SECRET_USAGE_TYPE_TLS] = {"name", "TLS usage specified, but name is missing"},
    [SV_SECRET_USAGE_TYPE_VTPM] = {"name", "vTPM usage specified, but name is missing"},
};

const char *
sv_secret_usage_type_to_string(int type)
{
    if (type < 0 || type >= SV_SECRET_USAGE_TYPE_LAST)
        return NULL;
    return usage_types[type];
}

int
sv_secret_usage_type_from_string(const char *s)
{
    for (int i = 0; s && i < SV_SECRET_USAGE_TYPE_LAST; i++) {
        if (g_str_equal(usage_types[i], s))
            return i;
    }
    return -1;
}

void
sv_secret_def_free(SvSecretDef *def)
{
    if (!def)
        return;
    g_free(def->description);
    g_free(def->usage_id);
    g_free(def);
}

/* libvirt's virStringParseYesNo: "yes" or "no", nothing else. */
static gboolean
parse_yes_no(const xmlNode *root, const char *attr, gboolean *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(root, attr);

    if (!v || !*v) /* XPath string() of an empty attribute is no value at all */
        return TRUE;
    if (g_str_equal(v, "yes") || g_str_equal(v, "no")) {
        *out = g_str_equal(v, "yes");
        return TRUE;
    }
    sv_error_set(error, SV_FROM_SECRET, SV_ERR_XML_ERROR, "invalid value of '%s'", attr);
    return FALSE;
}

static gboolean
parse_usage(const xmlNode *usage, SvSecretDef *def, GError **error)
{
    g_autofree char *type = sv_xml_prop(usage, "type");
    int t;

    if (!type || !*type) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_XML_ERROR, "unknown secret usage type");
        return FALSE;
    }
    t = sv_secret_usage_type_from_string(type);
    if (t < 0) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown secret usage type %s", type);
        return FALSE;
    }
    def->usage_type = t;
    if (t == SV_SECRET_USAGE_TYPE_NONE)
        return TRUE;
    def->usage_id = sv_xml_child_text(usage, usage_ids[t].element);
    if (!def->usage_id) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INTERNAL_ERROR, "%s", usage_ids[t].missing);
        return FALSE;
    }
    return TRUE;
}

SvSecretDef *
sv_secret_def_parse(const char *xml, GError **error)
{
    g_autoptr(SvSecretDef) def = g_new0(SvSecretDef, 1);
    g_autofree char *uuid = NULL;
    xmlDoc *doc = sv_xml_read_named_from(xml, "(definition_of_secret)", SV_FROM_SECRET, error);
    xmlNode *root, *usage;
    gboolean ok = FALSE;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!sv_xml_is(root, "secret")) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_XML_ERROR,
                     "unexpected root element <%s>, expecting <secret>", (const char *)root->name);
        goto out;
    }
    if (!parse_yes_no(root, "ephemeral", &def->ephemeral, error) ||
        !parse_yes_no(root, "private", &def->is_private, error))
        goto out;
    uuid = sv_xml_child_text(root, "uuid");
    if (!uuid) {
        sv_uuid_generate(def->uuid);
    } else if (!sv_uuid_parse(uuid, def->uuid)) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_INTERNAL_ERROR, "malformed uuid element");
        goto out;
    }
    def->description = sv_xml_child_text(root, "description");
    usage = sv_xml_child(root, "usage");
    ok = !usage || parse_usage(usage, def, error);
out:
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

char *
sv_secret_def_format(const SvSecretDef *def)
{
    GString *s = g_string_new(NULL);
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format(def->uuid, uuid);
    g_string_append_printf(s, "<secret ephemeral='%s' private='%s'>\n",
                           def->ephemeral ? "yes" : "no", def->is_private ? "yes" : "no");
    sv_xml_append_text_elem(s, 2, "uuid", uuid);
    sv_xml_append_text_elem(s, 2, "description", def->description);
    if (def->usage_type != SV_SECRET_USAGE_TYPE_NONE) {
        g_string_append_printf(s, "  <usage type='%s'>\n",
                               sv_secret_usage_type_to_string(def->usage_type));
        sv_xml_append_text_elem(s, 4, usage_ids[def->usage_type].element, def->usage_id);
        g_string_append(s, "  </usage>\n");
    }
    g_string_append(s, "</secret>\n");
    return g_string_free(s, FALSE);
}
