/* domain_metadata.h: a definition's <title>, <description> and <metadata> elements read
 * and changed as libvirt's virDomainSetMetadata / virDomainGetMetadata do. */
#pragma once

#include "conf/domain_conf.h"

/* Set (metadata non-NULL) or remove (NULL, or "" for the title and description) the
 * metadata of `type` (SvDomainMetadataType) in def. For an element, `metadata` is one
 * XML element that goes under <metadata> in namespace `uri` with prefix `key`, replacing
 * every element already in that namespace. FALSE with libvirt's error when `type` is
 * unknown, the element does not parse or `key` is no XML prefix; def is unchanged then. */
gboolean sv_domain_def_set_metadata(SvDomainDef *def, int type, const char *metadata,
                                    const char *key, const char *uri, GError **error);

/* The metadata of `type` in def: the title, the description, or the element in namespace
 * `uri` without its prefix. NULL with libvirt's NO_DOMAIN_METADATA error when there is none.
 * (transfer full) */
char *sv_domain_def_get_metadata(const SvDomainDef *def, int type, const char *uri,
                                 GError **error);
