/* domain_schema.h: what libvirt's domain schema knows, against what splitvirt's parser
 * handles. Private to src/common/conf. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* One element name of libvirt's schema: the children and the attributes the schema allows
 * under an element of that name anywhere, as space-separated words. */
typedef struct {
    const char *name;
    const char *children;
    const char *attrs;
} SvSchemaElement;

/* The table gen_domain_schema.py writes at build time from the installed libvirt schema
 * (domain.rng and the files it includes), sorted by name with strcmp(). */
extern const SvSchemaElement sv_domain_schema_known[];
extern const gsize sv_domain_schema_known_len;

/* The schema's entry for element `name`, or NULL when no element of that name has
 * children or attributes in the schema. (transfer none) */
const SvSchemaElement *sv_domain_schema_find(const char *name);

typedef enum {
    /* Refuse what libvirt's schema does not know, with libvirt's schema error (VALIDATE). */
    SV_DOMAIN_SCHEMA_UNKNOWN,
    /* Refuse what libvirt knows but splitvirt does not implement, with CONFIG_UNSUPPORTED. */
    SV_DOMAIN_SCHEMA_UNSUPPORTED,
} SvDomainSchemaPass;

/* Walk the elements under `root` (a <domain>) that splitvirt parses and look at every child
 * and attribute it does not parse, as `pass` says. Unknown attributes are never refused, and
 * known-but-unimplemented ones only by the UNSUPPORTED pass. Returns FALSE with `error` set
 * at the first one refused. */
gboolean sv_domain_schema_check(const xmlNode *root, SvDomainSchemaPass pass, GError **error);
