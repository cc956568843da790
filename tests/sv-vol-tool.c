/* sv-vol-tool.c: the storage volume library driven from the command line, for
 * tests/e2e/test_storage_vol.py's comparison with libvirtd (no daemon serves volumes yet).
 *
 *   sv-vol-tool create POOL_DIR [--prealloc-metadata] < volume.xml
 *       parse the XML as vol-create does, place it in the directory pool POOL_DIR and make
 *       it as libvirt's dir backend does (raw files without qemu-img, others with it);
 *       prints the volume's path.
 *   sv-vol-tool roundtrip < dumped.xml
 *       parse vol-dumpxml's text (everything it writes) and format it again.
 *   sv-vol-tool probe PATH
 *       the volume at PATH as a dir pool's refresh finds it, as vol-dumpxml writes it.
 *   sv-vol-tool wipe PATH ALGORITHM
 *       vol-wipe of the volume at PATH, its allocation read as the pool refresh reads it. */
#include <stdio.h>
#include <string.h>

#include "conf/storage_vol_def.h"
#include "conf/storage_vol_probe.h"
#include "util/error.h"
#include "util/qemu_img.h"
#include "util/storage_wipe.h"

static char *
read_stdin(void)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[4096];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        g_string_append_len(s, buf, n);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static int
fail(const GError *error)
{
    fprintf(stderr, "error %d/%d: %s\n", sv_error_get_from(error), error->code, error->message);
    return 1;
}

static int
create(const char *pool, gboolean prealloc)
{
    g_autofree char *xml = read_stdin();
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_OPT_CAPACITY, &error);
    SvQemuImgVol v;
    gboolean ok;

    if (!def || !sv_storage_vol_def_local_target(def, pool, &error))
        return fail(error);
    sv_storage_vol_def_tool_vol(def, &v);
    switch (sv_storage_build_kind(&v, NULL)) {
    case SV_STORAGE_BUILD_RAW:
        ok = sv_storage_create_raw(&v, NULL, prealloc, &error);
        break;
    case SV_STORAGE_BUILD_QEMU_IMG:
        ok = sv_qemu_img_create("/usr/bin/qemu-img", &v, NULL, prealloc, pool, &error);
        break;
    default:
        fprintf(stderr, "sv-vol-tool: dir and ploop volumes are not made here\n");
        return 2;
    }
    if (!ok)
        return fail(error);
    printf("%s\n", def->target.path);
    return 0;
}

static int
roundtrip(void)
{
    g_autofree char *xml = read_stdin();
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_DISPLAY, &error);
    g_autofree char *out = NULL;

    if (!def)
        return fail(error);
    out = sv_storage_vol_def_format(def, SV_VOL_FORMATS_FILE);
    fputs(out, stdout);
    return 0;
}

static int
probe(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_probe(path, &error);
    g_autofree char *out = NULL;

    if (!def)
        return fail(error);
    out = sv_storage_vol_def_format(def, SV_VOL_FORMATS_FILE);
    fputs(out, stdout);
    return 0;
}

static int
wipe(const char *path, const char *algorithm)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_probe(path, &error);

    if (!def || !sv_storage_wipe(path, algorithm, def->allocation, NULL, &error))
        return fail(error);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "wipe") == 0)
        return wipe(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "create") == 0)
        return create(argv[2], argc > 3 && strcmp(argv[3], "--prealloc-metadata") == 0);
    if (argc == 2 && strcmp(argv[1], "roundtrip") == 0)
        return roundtrip();
    fprintf(stderr, "usage: sv-vol-tool create POOL_DIR [--prealloc-metadata] | roundtrip | probe PATH | wipe PATH ALG\n");
    return 2;
}
