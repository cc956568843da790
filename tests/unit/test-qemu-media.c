/* test-qemu-media.c: the checks of a live update of a disk (qemu_media_check(), libvirt
 * 9.0's qemuDomainDiskChangeSupported and its removable-only source change, whose errors
 * and order tests/e2e/test_qemu_update_device.py compares with libvirtd) and the medium a
 * live disk takes (qemu_media_apply()). */
#include "conf/domain_conf.h"
#include "conf/domain_parse.h"
#include "qemu_media.h"
#include "util/error.h"

#define CDROM "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>%s" \
              "<target dev='hdc' bus='ide'/><readonly/>%s</disk>"

/* The one disk of a <disk> device's XML (transfer full, freed with its holder). */
static SvDomainDef *
disk_xml(const char *source, const char *extra)
{
    g_autofree char *src = source ? g_strdup_printf("<source file='%s'/>", source)
                                  : g_strdup("");
    g_autofree char *xml = g_strdup_printf(CDROM, src, extra);
    g_autofree char *kind = NULL;
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_device_parse(xml, &kind, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(kind, ==, "disk");
    return def;
}

#define DISK(def) ((SvDomainDiskDef *)(def)->disks->pdata[0])

/* The error qemu_media_check() gives for new against old, NULL when it accepts; *change. */
static char *
refusal(const SvDomainDef *old, const SvDomainDef *new, gboolean *change)
{
    g_autoptr(GError) error = NULL;

    *change = FALSE;
    if (qemu_media_check(DISK(old), DISK(new), change, &error))
        return NULL;
    return g_strdup(error->message);
}

static void
test_check(void)
{
    g_autoptr(SvDomainDef) empty = disk_xml(NULL, "");
    g_autoptr(SvDomainDef) one = disk_xml("/a.iso", "");
    g_autoptr(SvDomainDef) one_serial = disk_xml("/a.iso", "<serial>x</serial>");
    g_autoptr(SvDomainDef) serial_cache = disk_xml("/a.iso", "<serial>x</serial>");
    g_autoptr(SvDomainDef) hard = disk_xml("/a.iso", "");
    gboolean change;
    char *msg;

    /* The same medium: accepted, nothing to change; another or none: a change. */
    g_assert_null(refusal(one, one, &change));
    g_assert_false(change);
    g_assert_null(refusal(empty, one, &change));
    g_assert_true(change);
    g_assert_null(refusal(one, empty, &change));
    g_assert_true(change);
    /* A field given and different is refused; one not given (its default) is not. */
    msg = refusal(one, one_serial, &change);
    g_assert_cmpstr(msg, ==, "Operation not supported: cannot modify field 'serial' of the disk");
    g_free(msg);
    g_assert_null(refusal(one_serial, one, &change));
    /* libvirt's order: the cache is checked before the serial. */
    DISK(serial_cache)->cache = DISK(one)->cache + 1;
    msg = refusal(one, serial_cache, &change);
    g_assert_cmpstr(msg, ==, "Operation not supported: cannot modify field 'cache' of the disk");
    g_free(msg);
    DISK(hard)->device = SV_DOMAIN_DISK_DEVICE_DISK;
    msg = refusal(one, hard, &change);
    g_assert_cmpstr(msg, ==, "Operation not supported: cannot modify field 'device' of the disk");
    g_free(msg);
    /* A disk that is not removable keeps its source. */
    DISK(empty)->device = SV_DOMAIN_DISK_DEVICE_DISK;
    msg = refusal(hard, empty, &change);
    g_assert_cmpstr(msg, ==, "unsupported configuration: disk source can be changed only in removable drives");
    g_free(msg);
}

static void
test_apply(void)
{
    g_autoptr(SvDomainDef) live = disk_xml("/a.iso", "");
    g_autoptr(SvDomainDef) two = disk_xml("/b.iso", "");
    g_autoptr(SvDomainDef) empty = disk_xml(NULL, "");

    DISK(live)->source_index = 2;
    DISK(two)->source_index = 3;
    qemu_media_apply(DISK(live), DISK(two));
    g_assert_cmpstr(DISK(live)->source, ==, "/b.iso");
    g_assert_cmpuint(DISK(live)->source_index, ==, 3);
    g_assert_true(DISK(live)->backing_end); /* a raw image: its chain ends there */
    /* Ejected: no image, its own node index, the format kept (as libvirt shows it). */
    DISK(empty)->source_index = 4;
    qemu_media_apply(DISK(live), DISK(empty));
    g_assert_null(DISK(live)->source);
    g_assert_cmpuint(DISK(live)->source_index, ==, 4);
    g_assert_false(DISK(live)->backing_end);
    g_assert_cmpint(DISK(live)->format, ==, SV_DOMAIN_DISK_FORMAT_RAW);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-media/check", test_check);
    g_test_add_func("/qemu-media/apply", test_apply);
    return g_test_run();
}
