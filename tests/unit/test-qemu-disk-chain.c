/* test-qemu-disk-chain.c: qcow2 backing files read from image headers, on headers
 * qemu-img 7.2 wrote (tests/data/disk-chain: c0 without backing file, c1 on "cbase.raw"
 * (raw), c2 on "/tmp/hdisk/c1.qcow2" (qcow2), cv2 a version 2 image on "cbase.raw" (raw)),
 * and chains followed through files holding those headers. */
#include <string.h>

#include <glib/gstdio.h>

#include "conf/domain_conf.h"
#include "qemu_disk_chain.h"
#include "util/error.h"

static GBytes *
header(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.hdr", SV_TEST_DATA_DIR, name);
    char *data = NULL;
    gsize len = 0;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_bytes_new_take(data, len);
}

static void
check(const char *file, const char *want_name, const char *want_format)
{
    g_autoptr(GBytes) h = header(file);
    g_autofree char *name = NULL;
    g_autofree char *format = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(qemu_qcow2_backing(g_bytes_get_data(h, NULL), g_bytes_get_size(h), &name,
                                     &format, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(name, ==, want_name);
    g_assert_cmpstr(format, ==, want_format);
}

static void
test_headers(void)
{
    check("c0", NULL, NULL);
    check("c1", "cbase.raw", "raw");
    check("c2", "/tmp/hdisk/c1.qcow2", "qcow2");
    check("cv2", "cbase.raw", "raw");
}

/* c1's header with its backing format extension renamed: an image recording no format. */
static guint8 *
without_format(gsize *len)
{
    g_autoptr(GBytes) h = header("c1");
    guint8 *buf = g_memdup2(g_bytes_get_data(h, NULL), g_bytes_get_size(h));
    static const guint8 ext[] = {0xe2, 0x79, 0x2a, 0xca};

    *len = g_bytes_get_size(h);
    for (gsize i = 72; i + 4 <= *len; i += 8) {
        if (memcmp(buf + i, ext, 4) == 0) {
            buf[i] = 0x12;
            return buf;
        }
    }
    g_assert_not_reached();
}

static void
test_malformed(void)
{
    g_autoptr(GBytes) h = header("c1");
    g_autofree guint8 *nofmt = NULL;
    g_autofree char *name = NULL;
    g_autofree char *format = NULL;
    g_autoptr(GError) error = NULL;
    gsize len;

    nofmt = without_format(&len);
    g_assert_true(qemu_qcow2_backing(nofmt, len, &name, &format, NULL));
    g_assert_cmpstr(name, ==, "cbase.raw");
    g_assert_null(format);
    g_clear_pointer(&name, g_free);
    /* Not qcow2; a name beyond what was read; a version QEMU does not write. */
    g_assert_false(qemu_qcow2_backing((const guint8 *)"QFI", 3, &name, &format, &error));
    g_clear_error(&error);
    {
        const guint8 *p = g_bytes_get_data(h, NULL);
        gsize offset = ((gsize)p[12] << 24) | ((gsize)p[13] << 16) | ((gsize)p[14] << 8) | p[15];

        g_assert_false(qemu_qcow2_backing(p, offset + 2, &name, &format, &error));
        g_clear_error(&error);
    }
    g_clear_pointer(&name, g_free);
    g_clear_pointer(&format, g_free);
    nofmt[7] = 9;
    g_assert_false(qemu_qcow2_backing(nofmt, len, &name, &format, &error));
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
}

static SvDomainDef *
def_with_disk(const char *path)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<disk type='file'><driver name='qemu' type='qcow2'/><source file='%s'/>"
        "<target dev='vda'/></disk></devices></domain>",
        path);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);

    g_assert_no_error(error);
    return def;
}

/* A chain the XML starts: followed from its last image. */
static void
test_chain_from_xml(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-chain-XXXXXX", NULL);
    g_autofree char *mid = g_build_filename(dir, "mid.qcow2", NULL);
    g_autofree char *base = g_build_filename(dir, "cbase.raw", NULL);
    g_autoptr(GBytes) c1 = header("c1");
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<disk type='file'><driver name='qemu' type='qcow2'/><source file='%s/top.qcow2'/>"
        "<backingStore type='file'><format type='qcow2'/><source file='%s'/></backingStore>"
        "<target dev='vda'/></disk></devices></domain>",
        dir, mid);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    const SvDomainDiskDef *d;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(mid, g_bytes_get_data(c1, NULL), g_bytes_get_size(c1),
                                      NULL));
    g_assert_true(g_file_set_contents(base, "", 0, NULL));
    g_assert_true(qemu_disk_probe_chains(def, &error));
    d = def->disks->pdata[0];
    g_assert_cmpuint(d->backing->len, ==, 2);
    g_assert_cmpstr(((SvDomainDiskBackingDef *)d->backing->pdata[0])->path, ==, mid);
    g_assert_cmpstr(((SvDomainDiskBackingDef *)d->backing->pdata[1])->path, ==, base);
    g_assert_true(d->backing_end);
    g_unlink(mid);
    g_unlink(base);
    g_rmdir(dir);
}

static void
test_chains(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-chain-XXXXXX", NULL);
    g_autofree char *top = g_build_filename(dir, "top.qcow2", NULL);
    g_autofree char *base = g_build_filename(dir, "cbase.raw", NULL);
    g_autofree char *bad = g_build_filename(dir, "bad.qcow2", NULL);
    g_autoptr(GBytes) c1 = header("c1");
    g_autofree guint8 *nofmt = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(SvDomainDef) undeclared = NULL;
    g_autoptr(GError) error = NULL;
    const SvDomainDiskDef *d;
    const SvDomainDiskBackingDef *b;
    gsize len;

    g_assert_true(g_file_set_contents(top, g_bytes_get_data(c1, NULL), g_bytes_get_size(c1),
                                      NULL));
    g_assert_true(g_file_set_contents(base, "", 0, NULL));
    nofmt = without_format(&len);
    g_assert_true(g_file_set_contents(bad, (const char *)nofmt, (gssize)len, NULL));

    /* top.qcow2 -> cbase.raw, taken relative to top's directory; raw ends the chain. */
    def = def_with_disk(top);
    g_assert_true(qemu_disk_probe_chains(def, &error));
    g_assert_no_error(error);
    d = def->disks->pdata[0];
    g_assert_cmpuint(d->backing->len, ==, 1);
    b = d->backing->pdata[0];
    g_assert_cmpstr(b->path, ==, base);
    g_assert_cmpint(b->format, ==, SV_DOMAIN_DISK_FORMAT_RAW);
    g_assert_true(d->backing_end);

    /* A backing file without a recorded format is probed where libvirt probes it: an image
     * without a backing file of its own (here raw)... */
    undeclared = def_with_disk(bad);
    g_assert_true(qemu_disk_probe_chains(undeclared, &error));
    g_assert_no_error(error);
    d = undeclared->disks->pdata[0];
    g_assert_cmpint(((SvDomainDiskBackingDef *)d->backing->pdata[0])->format, ==,
                    SV_DOMAIN_DISK_FORMAT_RAW);
    g_clear_pointer(&undeclared, sv_domain_def_free);
    /* ...and refused, as libvirt refuses it, when that image names a backing file itself. */
    g_assert_true(g_file_set_contents(base, g_bytes_get_data(c1, NULL), g_bytes_get_size(c1),
                                      NULL));
    undeclared = def_with_disk(bad);
    g_assert_false(qemu_disk_probe_chains(undeclared, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_OPERATION_INVALID);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_nonnull(strstr(error->message, "format of backing image 'cbase.raw' of image"));

    g_unlink(top);
    g_unlink(base);
    g_unlink(bad);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-disk-chain/headers", test_headers);
    g_test_add_func("/qemu-disk-chain/malformed", test_malformed);
    g_test_add_func("/qemu-disk-chain/chains", test_chains);
    g_test_add_func("/qemu-disk-chain/chain-from-xml", test_chain_from_xml);
    return g_test_run();
}
