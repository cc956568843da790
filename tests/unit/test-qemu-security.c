/* test-qemu-security.c: virtqemud's SELinux labels over the fake libselinux (linked in,
 * so its definitions take the place of the library's): category pairs, relabelling
 * counted across guests, the status file round trip, and QEMU's identity settings; and
 * file ownership for QEMU's user (qemu_dac.c): given, counted, restored, remembered. */
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <selinux/selinux.h>

#include "qemu_security.h"

#define FAKE_FILE_LABEL "system_u:object_r:fake_file_t:s0"
#define CONTENT_LABEL "system_u:object_r:virt_content_t:s0"

static char *tmp; /* the fake's log and context files, and the files labelled */

/* QEMU's user for the ownership tests: any uid and gid other than the files' (root's). */
#define QEMU_UID 64123
#define QEMU_GID 64124

/* A security context from virtqemud.conf text; without user and group in it, QEMU runs
 * as root here, so that only the ownership tests see owners change. */
static QemuSecurity *
security_new(const char *conf_text)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = strstr(conf_text, "user")
                                ? g_strdup(conf_text)
                                : g_strconcat("user = \"+0\"\ngroup = \"+0\"\n", conf_text, NULL);
    g_autoptr(SvConfFile) conf = sv_conf_file_parse(text, "test.conf", &error);
    g_autofree char *lib = g_build_filename(tmp, "lib", NULL);
    QemuSecurity *sec;

    g_assert_no_error(error);
    sec = qemu_security_new(conf, lib, &error);
    g_assert_no_error(error);
    return sec;
}

static char *
tmp_file(const char *name)
{
    char *path = g_build_filename(tmp, name, NULL);

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        g_assert_true(g_file_set_contents(path, "", 0, NULL));
    return path;
}

/* A TCG guest booting tmp/kernel, with a writable disk tmp/DISK when disk is set. */
static SvDomainDef *
def_new(const char *name, const char *disk, gboolean seclabel_none)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *kernel = tmp_file("kernel");
    g_autofree char *disk_path = disk ? tmp_file(disk) : NULL;
    g_autofree char *disk_xml =
        disk ? g_strdup_printf("<disk type='file' device='disk'><source file='%s'/>"
                               "<target dev='vda' bus='virtio'/></disk>",
                               disk_path)
             : g_strdup("");
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel></os>"
        "<devices>%s</devices>%s</domain>",
        name, kernel, disk_xml, seclabel_none ? "<seclabel type='none'/>" : "");
    SvDomainDef *def = sv_domain_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    return def;
}

static char *
label_of(const char *name)
{
    g_autofree char *path = g_build_filename(tmp, name, NULL);
    char *con = NULL;
    char *out;

    g_assert_cmpint(getfilecon_raw(path, &con), >, 0);
    out = g_strdup(con);
    freecon(con);
    return out;
}

static QemuSecLabel *
label_new(QemuSecurity *sec, const SvDomainDef *def)
{
    g_autoptr(GError) error = NULL;
    QemuSecLabel *l = NULL;

    g_assert_true(qemu_security_label_new(sec, def, &l, &error));
    g_assert_no_error(error);
    return l;
}

/* "cA,cB" of a label, checked to be svirt_tcg_t with 0 <= A < B <= 1023. */
static char *
categories(const char *label)
{
    const char *prefix = "system_u:system_r:svirt_tcg_t:s0:c";
    guint64 a, b;
    char *end;

    g_assert_true(g_str_has_prefix(label, prefix));
    a = g_ascii_strtoull(label + strlen(prefix), &end, 10);
    g_assert_true(g_str_has_prefix(end, ",c"));
    b = g_ascii_strtoull(end + 2, &end, 10);
    g_assert_cmpstr(end, ==, "");
    g_assert_cmpuint(a, <, b);
    g_assert_cmpuint(b, <=, 1023);
    return g_strdup(strrchr(label, ':') + 1);
}

static void
test_model(void)
{
    g_autoptr(QemuSecurity) sec = security_new("");

    g_assert_cmpstr(qemu_security_get_model(sec), ==, "selinux");
    g_assert_cmpstr(qemu_security_get_doi(sec), ==, "0");
    g_assert_cmpstr(qemu_security_get_base_label(sec, TRUE), ==, "system_u:system_r:svirt_t:s0");
    g_assert_cmpstr(qemu_security_get_base_label(sec, FALSE), ==,
                    "system_u:system_r:svirt_tcg_t:s0");
}

static void
test_unique_pairs(void)
{
    g_autoptr(QemuSecurity) sec = security_new("");
    g_autoptr(SvDomainDef) def = def_new("g", NULL, FALSE);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) labels =
        g_ptr_array_new_with_free_func((GDestroyNotify)qemu_security_label_free);

    for (guint i = 0; i < 500; i++) {
        QemuSecLabel *l = label_new(sec, def);
        char *cats = categories(qemu_security_label_get_label(l));
        g_autofree char *image = g_strconcat("system_u:object_r:svirt_image_t:s0:", cats, NULL);

        g_assert_cmpstr(qemu_security_label_get_imagelabel(l), ==, image);
        g_assert_true(g_hash_table_add(seen, cats));
        g_ptr_array_add(labels, l);
    }
    for (guint i = 0; i < labels->len; i++)
        qemu_security_label_release(sec, labels->pdata[i]);
}

static void
test_seclabel_none(void)
{
    g_autoptr(QemuSecurity) sec = security_new("");
    g_autoptr(SvDomainDef) def = def_new("none", NULL, TRUE);
    g_autofree char *xml = NULL;

    g_assert_null(label_new(sec, def));
    g_assert_true(qemu_security_label_apply(sec, NULL, def, NULL));
    xml = qemu_security_label_format_xml(sec, NULL, FALSE);
    g_assert_cmpstr(xml, ==, "");
}

static void
test_relabel_counted(void)
{
    g_autoptr(QemuSecurity) sec = security_new("");
    g_autoptr(SvDomainDef) da = def_new("a", "a.img", FALSE);
    g_autoptr(SvDomainDef) db = def_new("b", "b.img", FALSE);
    g_autoptr(QemuSecLabel) la = label_new(sec, da);
    g_autoptr(QemuSecLabel) lb = label_new(sec, db);
    g_autofree char *a1 = NULL, *b1 = NULL, *k1 = NULL, *a2 = NULL, *k2 = NULL, *b3 = NULL,
                    *k3 = NULL;

    g_assert_true(qemu_security_label_apply(sec, la, da, NULL));
    g_assert_true(qemu_security_label_apply(sec, lb, db, NULL));
    a1 = label_of("a.img");
    b1 = label_of("b.img");
    k1 = label_of("kernel");
    g_assert_cmpstr(a1, ==, qemu_security_label_get_imagelabel(la));
    g_assert_cmpstr(b1, ==, qemu_security_label_get_imagelabel(lb));
    g_assert_cmpstr(k1, ==, CONTENT_LABEL);
    /* The kernel is b's too: it keeps its label until b stops. */
    qemu_security_label_release(sec, la);
    a2 = label_of("a.img");
    k2 = label_of("kernel");
    g_assert_cmpstr(a2, ==, FAKE_FILE_LABEL);
    g_assert_cmpstr(k2, ==, CONTENT_LABEL);
    qemu_security_label_release(sec, lb);
    b3 = label_of("b.img");
    k3 = label_of("kernel");
    g_assert_cmpstr(b3, ==, FAKE_FILE_LABEL);
    g_assert_cmpstr(k3, ==, FAKE_FILE_LABEL);
    /* Released twice: nothing more happens. */
    qemu_security_label_release(sec, lb);
}

/* A daemon killed with a guest running: the next one takes the label and the
 * original labels back from the status file, and restores them at the stop. */
static void
test_status_round_trip(void)
{
    g_autoptr(SvDomainDef) def = def_new("s", "s.img", FALSE);
    g_autofree char *status = NULL, *label = NULL, *xml = NULL, *restored = NULL;
    g_autoptr(QemuSecurity) sec2 = NULL;
    g_autoptr(QemuSecLabel) l2 = NULL;
    xmlDocPtr doc;

    {
        g_autoptr(QemuSecurity) sec = security_new("");
        g_autoptr(QemuSecLabel) l = label_new(sec, def);
        g_autofree char *attrs = NULL, *children = NULL;

        g_assert_true(qemu_security_label_apply(sec, l, def, NULL));
        attrs = qemu_security_label_format_status_attrs(l);
        children = qemu_security_label_format_status_children(sec, l);
        status = g_strdup_printf("<domstatus state='running'%s>\n%s</domstatus>\n", attrs,
                                 children);
        label = g_strdup(qemu_security_label_get_label(l));
    }
    sec2 = security_new("");
    doc = xmlReadMemory(status, (int)strlen(status), "status", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    l2 = qemu_security_label_from_status(sec2, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    g_assert_nonnull(l2);
    g_assert_cmpstr(qemu_security_label_get_label(l2), ==, label);
    xml = qemu_security_label_format_xml(sec2, l2, FALSE);
    g_assert_nonnull(strstr(xml, "<seclabel type='dynamic' model='selinux' relabel='yes'>"));
    g_assert_nonnull(strstr(xml, "<seclabel type='dynamic' model='dac' relabel='yes'>\n"
                                 "    <label>+0:+0</label>\n"));
    g_assert_nonnull(strstr(xml, label));
    /* MIGRATABLE: SELinux's label stays, the implicit DAC one goes (as libvirt's). */
    g_free(xml);
    xml = qemu_security_label_format_xml(sec2, l2, TRUE);
    g_assert_nonnull(strstr(xml, "<seclabel type='dynamic' model='selinux' relabel='yes'>"));
    g_assert_null(strstr(xml, "model='dac'"));
    qemu_security_label_release(sec2, l2);
    restored = label_of("s.img");
    g_assert_cmpstr(restored, ==, FAKE_FILE_LABEL);
}

static void
test_unknown_user(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) conf =
        sv_conf_file_parse("user = \"sv-no-such-user\"\n", "test.conf", NULL);
    g_autoptr(QemuSecurity) sec = qemu_security_new(conf, tmp, &error);

    g_assert_null(sec);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "user 'sv-no-such-user'"));
}

static void
test_environment(void)
{
    g_autoptr(QemuSecurity) sec = security_new("");
    g_auto(GStrv) env = qemu_security_build_env(sec, "/dir/of/guest");

    g_assert_cmpstr(g_environ_getenv(env, "HOME"), ==, "/dir/of/guest");
    g_assert_cmpstr(g_environ_getenv(env, "LC_ALL"), ==, "C");
    g_assert_null(g_environ_getenv(env, "SV_FAKE_SELINUX_LOG"));
}

/* ---- file ownership (qemu_dac.c) ---- */

static void
owner_of(const char *name, guint *uid, guint *gid)
{
    g_autofree char *path = g_build_filename(tmp, name, NULL);
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    *uid = st.st_uid;
    *gid = st.st_gid;
}

static void
assert_owner(const char *name, guint uid, guint gid)
{
    guint u, g;

    owner_of(name, &u, &g);
    g_assert_cmpuint(u, ==, uid);
    g_assert_cmpuint(g, ==, gid);
}

static void
chown_tmp(const char *name, guint uid, guint gid)
{
    g_autofree char *path = tmp_file(name);

    g_assert_cmpint(chown(path, uid, gid), ==, 0);
}

#define QEMU_IDENTITY "user = \"+64123\"\ngroup = \"+64124\"\n"

/* Two guests share the kernel: it is QEMU's until the second stops, then its original
 * owner's (a user's, 1000:1000, not root's) again. */
static void
test_dac_counted(void)
{
    g_autoptr(QemuSecurity) sec = security_new(QEMU_IDENTITY);
    g_autoptr(SvDomainDef) da = NULL;
    g_autoptr(SvDomainDef) db = NULL;
    g_autoptr(QemuSecLabel) la = NULL;
    g_autoptr(QemuSecLabel) lb = NULL;

    chown_tmp("kernel", 1000, 1000);
    chown_tmp("da.img", 1001, 1002);
    da = def_new("da", "da.img", FALSE);
    db = def_new("db", NULL, FALSE);
    la = label_new(sec, da);
    lb = label_new(sec, db);
    g_assert_true(qemu_security_label_apply(sec, la, da, NULL));
    g_assert_true(qemu_security_label_apply(sec, lb, db, NULL));
    assert_owner("kernel", QEMU_UID, QEMU_GID);
    assert_owner("da.img", QEMU_UID, QEMU_GID);
    qemu_security_label_release(sec, la);
    assert_owner("da.img", 1001, 1002);
    assert_owner("kernel", QEMU_UID, QEMU_GID);
    qemu_security_label_release(sec, lb);
    assert_owner("kernel", 1000, 1000);
    qemu_security_label_release(sec, lb);
    assert_owner("kernel", 1000, 1000);
    chown_tmp("kernel", 0, 0);
}

/* Without remember_owner a file goes back to root, as libvirt does; without
 * dynamic_ownership nothing is touched. */
static void
test_dac_settings(void)
{
    g_autoptr(QemuSecurity) forget = security_new(QEMU_IDENTITY "remember_owner = 0\n");
    g_autoptr(QemuSecurity) off = security_new(QEMU_IDENTITY "dynamic_ownership = 0\n");
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(QemuSecLabel) l = NULL;
    g_autoptr(QemuSecLabel) l2 = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) bad = sv_conf_file_parse("dynamic_ownership = 2\n", "t.conf", NULL);

    chown_tmp("kernel", 0, 0);
    chown_tmp("f.img", 1001, 1002);
    def = def_new("f", "f.img", FALSE);
    l = label_new(forget, def);
    g_assert_true(qemu_security_label_apply(forget, l, def, NULL));
    assert_owner("f.img", QEMU_UID, QEMU_GID);
    qemu_security_label_release(forget, l);
    assert_owner("f.img", 0, 0);
    chown_tmp("f.img", 1001, 1002);
    l2 = label_new(off, def);
    g_assert_true(qemu_security_label_apply(off, l2, def, NULL));
    assert_owner("f.img", 1001, 1002);
    qemu_security_label_release(off, l2);
    g_assert_null(qemu_security_new(bad, tmp, &error));
    g_assert_nonnull(strstr(error->message, "'dynamic_ownership' must be 0 or 1"));
}

/* A read-only image is QEMU's while the guest runs and stays so (libvirt does not take
 * back what other guests may share); a missing image fails the start. */
static void
test_dac_readonly_and_missing(void)
{
    g_autoptr(QemuSecurity) sec = security_new(QEMU_IDENTITY);
    g_autofree char *ro_path = tmp_file("ro.iso");
    g_autofree char *kernel = tmp_file("kernel");
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>ro</name><memory unit='MiB'>32</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel></os><devices>"
        "<disk type='file' device='cdrom'><source file='%s'/><target dev='hdc'/></disk>"
        "</devices></domain>",
        kernel, ro_path);
    g_autofree char *missing_xml = g_strdup_printf(
        "<domain type='qemu'><name>m</name><memory unit='MiB'>32</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<disk type='file'><source file='%s/no-such.img'/><target dev='vda' bus='virtio'/>"
        "</disk></devices></domain>",
        tmp);
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, 0, NULL);
    g_autoptr(SvDomainDef) missing = sv_domain_def_parse(missing_xml, 0, NULL);
    g_autoptr(QemuSecLabel) l = NULL;
    g_autoptr(QemuSecLabel) lm = NULL;
    g_autoptr(GError) error = NULL;

    chown_tmp("ro.iso", 1001, 1002);
    l = label_new(sec, def);
    g_assert_true(qemu_security_label_apply(sec, l, def, NULL));
    assert_owner("ro.iso", QEMU_UID, QEMU_GID);
    qemu_security_label_release(sec, l);
    assert_owner("ro.iso", QEMU_UID, QEMU_GID);
    assert_owner("kernel", 0, 0);
    lm = label_new(sec, missing);
    g_assert_false(qemu_security_label_apply(sec, lm, missing, &error));
    g_assert_nonnull(strstr(error->message, "no-such.img"));
    qemu_security_label_release(sec, lm);
}

/* A daemon killed with a guest running: the next one gives the files back at the stop. */
static void
test_dac_status_round_trip(void)
{
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *status = NULL;
    g_autoptr(QemuSecurity) sec2 = NULL;
    g_autoptr(QemuSecLabel) l2 = NULL;
    xmlDocPtr doc;

    chown_tmp("r.img", 1001, 1002);
    def = def_new("r", "r.img", FALSE);
    {
        g_autoptr(QemuSecurity) sec = security_new(QEMU_IDENTITY);
        g_autoptr(QemuSecLabel) l = label_new(sec, def);
        g_autofree char *attrs = NULL, *children = NULL;

        g_assert_true(qemu_security_label_apply(sec, l, def, NULL));
        attrs = qemu_security_label_format_status_attrs(l);
        children = qemu_security_label_format_status_children(sec, l);
        g_assert_nonnull(strstr(children, "uid='1001' gid='1002'"));
        status = g_strdup_printf("<domstatus state='running'%s>\n%s</domstatus>\n", attrs,
                                 children);
    }
    assert_owner("r.img", QEMU_UID, QEMU_GID);
    sec2 = security_new(QEMU_IDENTITY);
    doc = xmlReadMemory(status, (int)strlen(status), "status", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    l2 = qemu_security_label_from_status(sec2, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    g_assert_nonnull(l2);
    qemu_security_label_release(sec2, l2);
    assert_owner("r.img", 1001, 1002);
    assert_owner("kernel", 0, 0);
}

static char *
xattr_of(const char *name, const char *attr)
{
    g_autofree char *path = tmp_file(name);
    char buf[128];
    ssize_t n = getxattr(path, attr, buf, sizeof(buf) - 1);

    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return g_strdup(buf);
}

static void
assert_xattr(const char *name, const char *attr, const char *want)
{
    g_autofree char *got = xattr_of(name, attr);

    g_assert_cmpstr(got, ==, want);
}

#define DAC_ATTR "trusted.libvirt.security.dac"
#define REF_ATTR "trusted.libvirt.security.ref_dac"
#define STAMP_ATTR "trusted.libvirt.security.timestamp_dac"

/* The owner is remembered in the image's attributes, as libvirt's DAC driver keeps it, so
 * two daemons (two QemuSecurity here) count their guests together: the file goes back to
 * its owner when the last guest of either stops. Attributes stamped with another boot
 * time are stale: dropped, and the file's present owner remembered instead. */
static void
test_dac_remembered_in_xattrs(void)
{
    g_autoptr(QemuSecurity) one = security_new(QEMU_IDENTITY);
    g_autoptr(QemuSecurity) two = security_new(QEMU_IDENTITY);
    g_autoptr(SvDomainDef) def = def_new("x", "x.img", FALSE);
    g_autoptr(QemuSecLabel) l1 = NULL;
    g_autoptr(QemuSecLabel) l2 = NULL;
    g_autoptr(QemuSecLabel) l3 = NULL;
    g_autofree char *path = tmp_file("x.img");
    g_autofree char *stat_text = NULL;
    g_autofree char *btime = NULL;
    const char *p;

    chown_tmp("x.img", 1001, 1002);
    if (setxattr(path, STAMP_ATTR, "0", 1, 0) < 0) {
        g_test_skip("no trusted.* attributes here");
        return;
    }
    g_assert_true(g_file_get_contents("/proc/stat", &stat_text, NULL, NULL));
    g_assert_nonnull((p = strstr(stat_text, "\nbtime ")));
    btime = g_strndup(p + 7, strcspn(p + 7, "\n"));
    /* stale: from before a reboot */
    g_assert_cmpint(setxattr(path, DAC_ATTR, "+7:+7", 5, 0), ==, 0);
    g_assert_cmpint(setxattr(path, REF_ATTR, "5", 1, 0), ==, 0);

    l1 = label_new(one, def);
    g_assert_true(qemu_security_label_apply(one, l1, def, NULL));
    assert_owner("x.img", QEMU_UID, QEMU_GID);
    assert_xattr("x.img", DAC_ATTR, "+1001:+1002");
    assert_xattr("x.img", REF_ATTR, "1");
    assert_xattr("x.img", STAMP_ATTR, btime);
    l2 = label_new(two, def);
    g_assert_true(qemu_security_label_apply(two, l2, def, NULL));
    assert_xattr("x.img", REF_ATTR, "2");
    qemu_security_label_release(one, l1);
    assert_owner("x.img", QEMU_UID, QEMU_GID);
    assert_xattr("x.img", REF_ATTR, "1");
    qemu_security_label_release(two, l2);
    assert_owner("x.img", 1001, 1002);
    assert_xattr("x.img", DAC_ATTR, NULL);
    assert_xattr("x.img", REF_ATTR, NULL);
    assert_xattr("x.img", STAMP_ATTR, NULL);
    /* nothing remembered any more when the guest stops: root, as libvirt does */
    l3 = label_new(one, def);
    g_assert_true(qemu_security_label_apply(one, l3, def, NULL));
    g_assert_cmpint(removexattr(path, REF_ATTR), ==, 0);
    qemu_security_label_release(one, l3);
    assert_owner("x.img", 0, 0);
}

int
main(int argc, char **argv)
{
    g_autofree char *log = NULL;
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp = g_dir_make_tmp("test-qemu-security.XXXXXX", NULL);
    g_assert_nonnull(tmp);
    log = g_build_filename(tmp, "fake-selinux.log", NULL);
    g_setenv("SV_FAKE_SELINUX_LOG", log, TRUE);
    g_test_add_func("/qemu-security/model", test_model);
    g_test_add_func("/qemu-security/unique-pairs", test_unique_pairs);
    g_test_add_func("/qemu-security/seclabel-none", test_seclabel_none);
    g_test_add_func("/qemu-security/relabel-counted", test_relabel_counted);
    g_test_add_func("/qemu-security/status-round-trip", test_status_round_trip);
    g_test_add_func("/qemu-security/unknown-user", test_unknown_user);
    g_test_add_func("/qemu-security/environment", test_environment);
    g_test_add_func("/qemu-security/dac-counted", test_dac_counted);
    g_test_add_func("/qemu-security/dac-settings", test_dac_settings);
    g_test_add_func("/qemu-security/dac-readonly-and-missing", test_dac_readonly_and_missing);
    g_test_add_func("/qemu-security/dac-status-round-trip", test_dac_status_round_trip);
    g_test_add_func("/qemu-security/dac-remembered-in-xattrs", test_dac_remembered_in_xattrs);
    rc = g_test_run();
    {
        g_autoptr(GDir) dir = g_dir_open(tmp, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(tmp, name, NULL);
            g_remove(path);
        }
    }
    g_rmdir(tmp);
    g_free(tmp);
    return rc;
}
