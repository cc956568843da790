/* domain-test.h: for unit tests of the domain model and the engine: a minimal definition
 * and a domain of it in a list. */
#pragma once

#include "conf/domain_obj.h"
#include "conf/domain_status.h"
#include "util/error.h"

/* A minimal definition named name, of virt type type ("kvm", "qemu"). (transfer full) */
static inline SvDomainDef *
test_domain_def(const char *type, const char *name)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='%s'><name>%s</name><memory>65536</memory>"
        "<os><type>hvm</type></os></domain>", type, name);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    return def;
}

/* A persistent, inactive domain named name, added to list. (transfer none) */
static inline SvDomainObj *
test_domain_add(SvDomainList *list, const char *name)
{
    return sv_domain_list_add(list, test_domain_def("kvm", name), TRUE);
}

/* A driver's status file style recording every common part, its process on <domstatus>,
 * with no element of its own. */
static const SvStatusStyle test_status_style = {
    .from = SV_FROM_QEMU,
    .process = "",
    .kill_mode = "killmode",
    .kill_deadline = "killdeadline",
    .autodestroy = TRUE,
};
