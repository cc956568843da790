/* fuzz-storage-pool-xml.c: libFuzzer harness for the storage pool XML parser and formatter
 * (conf/storage_pool_def.c). Input: the XML text.
 *
 * A document either parses or fails with an error of the STORAGE domain (XML for the root
 * element's and its type attribute's errors); whatever parses is formatted, and the output
 * must parse again to the same pool and format to the same text; a copy formats the same. */
#include <string.h>

#include "conf/storage_pool_def.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_XML (64 * 1024)

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;
    g_autofree char *out = NULL, *second = NULL, *copied = NULL;
    g_autoptr(SvStoragePoolDef) def = NULL;
    g_autoptr(SvStoragePoolDef) again = NULL;
    g_autoptr(SvStoragePoolDef) copy = NULL;
    g_autoptr(GError) error = NULL;

    if (size > FUZZ_MAX_XML)
        return 0;
    xml = g_strndup((const char *)data, size);
    def = sv_storage_pool_def_parse(xml, &error);
    g_assert((def == NULL) == (error != NULL));
    if (!def) {
        g_assert(sv_error_get_from(error) == SV_FROM_STORAGE ||
                 sv_error_get_from(error) == SV_FROM_XML);
        return 0;
    }
    g_assert(def->name && !strchr(def->name, '/') && def->target_path);
    out = sv_storage_pool_def_format(def);
    again = sv_storage_pool_def_parse(out, &error);
    if (!again)
        g_error("formatted pool XML does not parse: %s\n%s", error->message, out);
    g_assert(memcmp(again->uuid, def->uuid, 16) == 0);
    g_assert(again->type == def->type);
    g_assert(g_strcmp0(again->name, def->name) == 0);
    g_assert(g_strcmp0(again->target_path, def->target_path) == 0);
    second = sv_storage_pool_def_format(again);
    if (strcmp(second, out) != 0)
        g_error("format is not a fixed point:\n%s\n---\n%s", out, second);
    copy = sv_storage_pool_def_copy(def);
    copied = sv_storage_pool_def_format(copy);
    g_assert(strcmp(copied, out) == 0);
    return 0;
}
