/* fuzz-domain-xml.c: libFuzzer harness for the domain XML parser and formatter
 * (domain_conf.c). Input: the XML text.
 *
 * Whatever parses is formatted, and the output must parse again and format to the same
 * text (the fixed point domain_conf.h promises); a deep copy must format the same too.
 * A document that passes with VALIDATE must pass without it. Read as a status file
 * (STATUS: what the daemon keeps for itself, such as a volume disk's path), formatting
 * with STATUS is a fixed point too. */
#include <string.h>

#include "conf/domain_conf.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* Bigger documents only slow the run down; libxml2's own limits are far above this. */
#define FUZZ_MAX_XML (64 * 1024)

static void
check_round_trip(const SvDomainDef *def)
{
    g_autofree char *out = sv_domain_def_format(def, -1, 0);
    g_autofree char *live = sv_domain_def_format(def, 7, 0);
    g_autofree char *inactive = sv_domain_def_format(def, 7, SV_DOMAIN_FORMAT_INACTIVE);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) again = sv_domain_def_parse(out, 0, &error);
    g_autoptr(SvDomainDef) copy = sv_domain_def_copy(def);
    g_autofree char *second = NULL;
    g_autofree char *copied = NULL;

    g_assert(out && live && inactive);
    if (!again)
        g_error("formatted XML does not parse: %s\n%s", error->message, out);
    second = sv_domain_def_format(again, -1, 0);
    if (strcmp(second, out) != 0)
        g_error("format is not a fixed point:\n%s\n---\n%s", out, second);
    g_assert(memcmp(again->uuid, def->uuid, sizeof(def->uuid)) == 0);
    copied = sv_domain_def_format(copy, -1, 0);
    g_assert(strcmp(copied, out) == 0);
}

static void
check_status_round_trip(const SvDomainDef *def)
{
    g_autofree char *out = sv_domain_def_format(def, 7, SV_DOMAIN_FORMAT_STATUS);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) again = sv_domain_def_parse(out, SV_DOMAIN_PARSE_STATUS, &error);
    g_autofree char *second = NULL;

    if (!again)
        g_error("formatted status XML does not parse: %s\n%s", error->message, out);
    second = sv_domain_def_format(again, 7, SV_DOMAIN_FORMAT_STATUS);
    if (strcmp(second, out) != 0)
        g_error("status format is not a fixed point:\n%s\n---\n%s", out, second);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(SvDomainDef) validated = NULL;
    g_autoptr(SvDomainDef) status = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) verror = NULL;
    g_autoptr(GError) serror = NULL;

    if (size > FUZZ_MAX_XML)
        return 0;
    xml = g_strndup((const char *)data, size);
    def = sv_domain_def_parse(xml, 0, &error);
    g_assert((def == NULL) == (error != NULL));
    if (def)
        check_round_trip(def);
    validated = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_VALIDATE | SV_DOMAIN_PARSE_INACTIVE,
                                    &verror);
    g_assert((validated == NULL) == (verror != NULL));
    /* INACTIVE also leaves live-only values unread (an interface's portid: libvirt reads it
     * only from live and status XML), so it may accept what the plain parse refuses. */
    if (validated)
        check_round_trip(validated);
    status = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_STATUS, &serror);
    g_assert((status == NULL) == (serror != NULL));
    if (status)
        check_status_round_trip(status);
    return 0;
}
