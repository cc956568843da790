/* domain_metadata.c: <title>, <description> and the <metadata> elements of a definition,
 * changed and read one namespace at a time. def->metadata holds the <metadata> element
 * serialized (domain_parse.c); each change reads it, edits the tree and writes it back. */
#include "conf/domain_metadata.h"

#include <libxml/tree.h>

#include "conf/domain_xml.h"
#include "protocol/sv_wire_constants.h"
#include "util/error.h"

static gboolean
check_type(int type, GError **error)
{
    if (type < 0 || type >= SV_DOMAIN_METADATA_TYPE_LAST) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "unknown metadata type '%d'",
                     type);
        return FALSE;
    }
    return TRUE;
}

/* The first child element of `parent` in namespace `uri`, as libvirt's
 * virXMLFindChildNodeByNs. */
static xmlNode *
child_by_ns(xmlNode *parent, const char *uri)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            g_strcmp0((const char *)c->ns->href, uri) == 0)
            return c;
    }
    return NULL;
}

/* Every node of the tree under (and including) `node` without a namespace gets `ns`. */
static void
inject_ns(xmlNode *node, xmlNs *ns)
{
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && !node->ns)
            xmlSetNs(node, ns);
        inject_ns(node->children, ns);
    }
}

/* Every element under (and including) `node` in namespace `uri` loses it. */
static void
strip_ns(xmlNode *node, const char *uri)
{
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && node->ns &&
            g_strcmp0((const char *)node->ns->href, uri) == 0)
            xmlSetNs(node, NULL);
        strip_ns(node->children, uri);
    }
}

/* The client's element in a document of its own, in namespace uri with prefix key. */
static xmlDoc *
read_element(const char *metadata, const char *key, const char *uri, GError **error)
{
    xmlDoc *doc = sv_xml_read_named(metadata, "(metadata_xml)", error);
    xmlNode *root;
    xmlNs *ns;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || !key || xmlValidateNCName((const xmlChar *)key, 1) != 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_INTERNAL_ERROR, "%s",
                     "failed to validate prefix for a new XML namespace");
        xmlFreeDoc(doc);
        return NULL;
    }
    ns = xmlNewNs(root, (const xmlChar *)uri, (const xmlChar *)key);
    if (!ns) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_INTERNAL_ERROR, "%s",
                     "failed to create a new XML namespace");
        xmlFreeDoc(doc);
        return NULL;
    }
    inject_ns(root, ns);
    return doc;
}

static gboolean
set_element(SvDomainDef *def, const char *metadata, const char *key, const char *uri,
            GError **error)
{
    xmlDoc *add = NULL;
    xmlDoc *doc = NULL;
    xmlNode *root;
    xmlNode *old;

    if (metadata && !(add = read_element(metadata, key, uri, error)))
        return FALSE;
    if (def->metadata)
        doc = sv_xml_read_fragment(def->metadata);
    if (!doc) {
        doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlDocSetRootElement(doc, xmlNewDocNode(doc, NULL, (const xmlChar *)"metadata", NULL));
    }
    root = xmlDocGetRootElement(doc);
    while ((old = child_by_ns(root, uri))) {
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    if (add) {
        xmlNode *copy = xmlDocCopyNode(xmlDocGetRootElement(add), doc, 1);
        if (!copy)
            g_error("%s: out of memory", G_STRLOC);
        xmlAddChild(root, copy);
        xmlFreeDoc(add);
    }
    g_free(def->metadata);
    def->metadata = sv_xml_node_dump(doc, root, 0);
    xmlFreeDoc(doc);
    return TRUE;
}

gboolean
sv_domain_def_set_metadata(SvDomainDef *def, int type, const char *metadata, const char *key,
                           const char *uri, GError **error)
{
    if (!check_type(type, error))
        return FALSE;
    switch (type) {
    case SV_DOMAIN_METADATA_DESCRIPTION:
        g_free(def->description);
        def->description = (metadata && *metadata) ? g_strdup(metadata) : NULL;
        return TRUE;
    case SV_DOMAIN_METADATA_TITLE:
        g_free(def->title);
        def->title = (metadata && *metadata) ? g_strdup(metadata) : NULL;
        return TRUE;
    default:
        return set_element(def, metadata, key, uri, error);
    }
}

/* The element in namespace uri, without it (libvirt's virXMLExtractNamespaceXML); NULL
 * when there is none. */
static char *
get_element(const SvDomainDef *def, const char *uri)
{
    xmlDoc *doc;
    xmlNode *found;
    xmlNode *copy;
    xmlNs **link;
    xmlNs *gone = NULL;
    char *ret;

    if (!def->metadata || !(doc = sv_xml_read_fragment(def->metadata)))
        return NULL;
    found = child_by_ns(xmlDocGetRootElement(doc), uri);
    if (!found) {
        xmlFreeDoc(doc);
        return NULL;
    }
    copy = xmlDocCopyNode(found, doc, 1);
    if (!copy)
        g_error("%s: out of memory", G_STRLOC);
    strip_ns(copy, uri);
    /* Only the first declaration of uri goes, as libvirt drops it; it is freed after the
     * dump, since an attribute may still name it. */
    for (link = &copy->nsDef; *link; link = &(*link)->next) {
        if (g_strcmp0((const char *)(*link)->href, uri) == 0) {
            gone = *link;
            *link = gone->next;
            gone->next = NULL;
            break;
        }
    }
    ret = sv_xml_node_dump(doc, copy, 0);
    xmlFreeNode(copy);
    if (gone)
        xmlFreeNs(gone);
    xmlFreeDoc(doc);
    return ret;
}

char *
sv_domain_def_get_metadata(const SvDomainDef *def, int type, const char *uri, GError **error)
{
    char *ret = NULL;

    if (!check_type(type, error))
        return NULL;
    switch (type) {
    case SV_DOMAIN_METADATA_DESCRIPTION:
        ret = g_strdup(def->description);
        break;
    case SV_DOMAIN_METADATA_TITLE:
        ret = g_strdup(def->title);
        break;
    default:
        ret = get_element(def, uri);
        break;
    }
    if (!ret)
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_DOMAIN_METADATA, "%s",
                     "Requested metadata element is not present");
    return ret;
}
