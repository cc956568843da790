/* fuzz-storage-vol-xml.c: libFuzzer harness for the storage volume XML parser and formatter
 * (conf/storage_vol_def.c). Input: the XML text.
 *
 * A document either parses or fails with an error; whatever parses (as a file pool's volume
 * with everything vol-dumpxml writes, and as a disk pool's volume as vol-create reads it) is
 * formatted, and the output must parse again and format to the same text. The same bytes
 * also go to the qcow2 header parser of conf/storage_vol_probe.c, read as a file's start. */
#include <string.h>

#include "conf/storage_vol_def.h"
#include "conf/storage_vol_probe.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_XML (64 * 1024)

static void
one(const char *xml, SvVolFormats formats, guint flags)
{
    g_autofree char *out = NULL, *second = NULL;
    g_autoptr(SvStorageVolDef) def = NULL;
    g_autoptr(SvStorageVolDef) again = NULL;
    g_autoptr(GError) error = NULL;

    def = sv_storage_vol_def_parse(xml, formats, flags, &error);
    g_assert((def == NULL) == (error != NULL));
    if (!def)
        return;
    g_assert(def->name != NULL);
    out = sv_storage_vol_def_format(def, formats);
    /* What was written is read back whole: DISPLAY reads what only the formatter writes. */
    again = sv_storage_vol_def_parse(out, formats, flags | SV_VOL_PARSE_DISPLAY |
                                     SV_VOL_PARSE_NO_CAPACITY, &error);
    if (!again)
        g_error("formatted volume XML does not parse: %s\n%s", error->message, out);
    g_assert(again->capacity == def->capacity && again->allocation == def->allocation);
    g_assert(g_strcmp0(again->name, def->name) == 0);
    second = sv_storage_vol_def_format(again, formats);
    if (strcmp(second, out) != 0)
        g_error("format is not a fixed point:\n%s\n---\n%s", out, second);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;
    SvQcow2Header h;

    if (size > FUZZ_MAX_XML)
        return 0;
    if (sv_qcow2_header_parse(data, size, &h)) {
        g_assert(h.version == 2 || h.version == 3);
        g_assert(!h.backing_format || h.backing);
        sv_qcow2_header_clear(&h);
    }
    xml = g_strndup((const char *)data, size);
    one(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_DISPLAY);
    one(xml, SV_VOL_FORMATS_DISK, SV_VOL_PARSE_OPT_CAPACITY);
    return 0;
}
