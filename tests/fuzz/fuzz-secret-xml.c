/* fuzz-secret-xml.c: libFuzzer harness for the secret XML parser and formatter
 * (conf/secret_def.c). Input: the XML text.
 *
 * A document either parses or fails with an error of the SECRET domain; whatever parses is
 * formatted, and the output must parse again to the same definition and format to the same
 * text. */
#include <string.h>

#include "conf/secret_def.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_XML (64 * 1024)

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;
    g_autofree char *out = NULL, *second = NULL;
    g_autoptr(SvSecretDef) def = NULL;
    g_autoptr(SvSecretDef) again = NULL;
    g_autoptr(GError) error = NULL;

    if (size > FUZZ_MAX_XML)
        return 0;
    xml = g_strndup((const char *)data, size);
    def = sv_secret_def_parse(xml, &error);
    g_assert((def == NULL) == (error != NULL));
    if (!def) {
        g_assert(sv_error_get_from(error) == SV_FROM_SECRET);
        return 0;
    }
    g_assert((def->usage_type == SV_SECRET_USAGE_TYPE_NONE) == (def->usage_id == NULL));
    out = sv_secret_def_format(def);
    again = sv_secret_def_parse(out, &error);
    if (!again)
        g_error("formatted secret XML does not parse: %s\n%s", error->message, out);
    g_assert(memcmp(again->uuid, def->uuid, 16) == 0);
    g_assert(again->ephemeral == def->ephemeral && again->is_private == def->is_private);
    g_assert(again->usage_type == def->usage_type);
    g_assert(g_strcmp0(again->usage_id, def->usage_id) == 0);
    second = sv_secret_def_format(again);
    if (strcmp(second, out) != 0)
        g_error("format is not a fixed point:\n%s\n---\n%s", out, second);
    return 0;
}
