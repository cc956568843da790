/* domain_vcpus.h: a definition's <vcpus> list (domain_vcpus.c). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain_conf.h"

/* Takes vcpus_current and vcpus_fixed from root's <vcpus> when it has the shape the
 * definitions model (ids 0.. in order, the enabled ones and, within them, the ones that
 * are not hotpluggable first); CONFIG_UNSUPPORTED otherwise. After <vcpu> is parsed. */
gboolean sv_domain_parse_vcpus_list(const xmlNode *root, SvDomainDef *def, GError **error);
/* The <vcpus> element, after <vcpu>, when def->vcpus_fixed is set. */
void sv_domain_format_vcpus_list(GString *buf, const SvDomainDef *def);
