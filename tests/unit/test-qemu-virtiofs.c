/* test-qemu-virtiofs.c: virtiofsd's command line as libvirt 9.0 forms it (--fd=N, one -o
 * with source, cache, xattr and lock options), hostile source directories that must never
 * add an option (checked by splitting -o as virtiofsd's FUSE option parser does), and the
 * default virtiofsd found through QEMU's vhost-user descriptors. */
#include <glib/gstdio.h>
#include <string.h>

#include "conf/domain_conf.h"
#include "conf/domain_parse.h"
#include "qemu_virtiofs.h"
#include "util/error.h"

static SvDomainFsDef *fs_new(const char *source)
{
    SvDomainFsDef *fs = g_new0(SvDomainFsDef, 1);

    fs->driver = SV_DOMAIN_FS_DRIVER_VIRTIOFS;
    fs->source_dir = g_strdup(source);
    fs->target_dir = g_strdup("tag");
    fs->binary_path = g_strdup("/usr/lib/qemu/virtiofsd");
    return fs;
}

static void test_argv_libvirt_form(void)
{
    SvDomainFsDef *fs = fs_new("/srv/share");
    g_auto(GStrv) plain = qemu_virtiofs_argv(fs, 23);
    g_auto(GStrv) on = NULL, off = NULL;
    g_autofree char *j1 = NULL, *j2 = NULL, *j3 = NULL;

    fs->cache = SV_DOMAIN_FS_CACHE_ALWAYS;
    fs->xattr = fs->lock_flock = fs->lock_posix = SV_DOMAIN_SWITCH_ON;
    on = qemu_virtiofs_argv(fs, 23);
    fs->cache = SV_DOMAIN_FS_CACHE_NONE;
    fs->xattr = fs->lock_flock = fs->lock_posix = SV_DOMAIN_SWITCH_OFF;
    off = qemu_virtiofs_argv(fs, 7);
    j1 = g_strjoinv(" ", plain);
    j2 = g_strjoinv(" ", on);
    j3 = g_strjoinv(" ", off);
    g_assert_cmpstr(j1, ==, "/usr/lib/qemu/virtiofsd --fd=23 -o source=/srv/share");
    g_assert_cmpstr(j2, ==,
                    "/usr/lib/qemu/virtiofsd --fd=23 -o "
                    "source=/srv/share,cache=always,xattr,flock,posix_lock");
    g_assert_cmpstr(j3, ==,
                    "/usr/lib/qemu/virtiofsd --fd=7 -o "
                    "source=/srv/share,cache=none,no_xattr,no_flock,no_posix_lock");
    sv_domain_fs_def_free(fs);
}

/* The options of one -o as virtiofsd's FUSE parser reads them: split at commas, a
 * backslash taking the next character as it is. */
static GPtrArray *fuse_split(const char *opts)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *s = opts;; s++) {
        if (*s == '\0' || *s == ',') {
            g_ptr_array_add(out, g_string_free(cur, FALSE));
            if (!*s)
                return out;
            cur = g_string_new(NULL);
        } else if (*s == '\\' && s[1]) {
            g_string_append_c(cur, *++s);
        } else {
            g_string_append_c(cur, *s);
        }
    }
}

static void test_argv_hostile_source(void)
{
    static const char *const values[] = {
        "/x,allow_root", "/x,,sandbox=chroot", "/x\\,cache=none", "/x\\",         "-o",
        "--daemonize",   "/x\n-o allow_root",  "/x=y,",           "/x\\\\,xattr", "/x\\054flock",
    };
    g_autofree char *longv = g_strnfill(5000, ',');

    for (guint i = 0; i <= G_N_ELEMENTS(values); i++) {
        const char *v = i < G_N_ELEMENTS(values) ? values[i] : longv;
        SvDomainFsDef *fs = fs_new(v);
        g_auto(GStrv) argv = NULL;
        g_autoptr(GPtrArray) opts = NULL;
        g_autofree char *want = g_strconcat("source=", v, NULL);

        fs->cache = SV_DOMAIN_FS_CACHE_ALWAYS;
        argv = qemu_virtiofs_argv(fs, 3);
        g_assert_cmpuint(g_strv_length(argv), ==, 4);
        g_assert_cmpstr(argv[1], ==, "--fd=3");
        g_assert_cmpstr(argv[2], ==, "-o");
        opts = fuse_split(argv[3]);
        g_assert_cmpuint(opts->len, ==, 2);
        g_assert_cmpstr(opts->pdata[0], ==, want);
        g_assert_cmpstr(opts->pdata[1], ==, "cache=always");
        sv_domain_fs_def_free(fs);
    }
}

static void write_desc(const char *dir, const char *name, const char *json)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, json, -1, NULL));
}

static void test_find_binary(void)
{
    g_autofree char *tmp = g_dir_make_tmp("sv-vhost-user-XXXXXX", NULL);
    g_autofree char *etc = g_build_filename(tmp, "etc", NULL);
    g_autofree char *usr = g_build_filename(tmp, "usr", NULL);
    const char *dirs[] = {etc, usr, NULL};
    const char *none[] = {NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *found = NULL;
    char *second = NULL;

    write_desc(usr, "10-gpu.json", "{\"type\": \"gpu\", \"binary\": \"/usr/lib/gpu\"}");
    write_desc(usr, "50-qemu-virtiofsd.json",
               "{\"description\": \"QEMU virtiofsd vhost-user-fs\", \"type\": \"fs\", "
               "\"binary\": \"/usr/lib/qemu/virtiofsd\"}");
    write_desc(usr, "60-other.json", "{\"type\": \"fs\", \"binary\": \"/opt/other\"}");
    found = qemu_virtiofs_find_binary(dirs, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(found, ==, "/usr/lib/qemu/virtiofsd");
    /* The administrator's file of the same name hides the system's. */
    write_desc(etc, "50-qemu-virtiofsd.json", "{\"type\": \"fs\", \"binary\": \"/etc/mine\"}");
    second = qemu_virtiofs_find_binary(dirs, &error);
    g_assert_cmpstr(second, ==, "/etc/mine");
    g_free(second);
    g_assert_null(qemu_virtiofs_find_binary(none, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(error->message, ==, "internal error: Unable to find a satisfying virtiofsd");
    for (guint i = 0; i < 2; i++) {
        const char *d = i ? etc : usr;
        g_autoptr(GDir) dir = g_dir_open(d, 0, NULL);
        const char *e;
        while ((e = g_dir_read_name(dir))) {
            g_autofree char *p = g_build_filename(d, e, NULL);
            g_unlink(p);
        }
        g_rmdir(d);
    }
    g_rmdir(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-virtiofs/argv", test_argv_libvirt_form);
    g_test_add_func("/qemu-virtiofs/argv-hostile-source", test_argv_hostile_source);
    g_test_add_func("/qemu-virtiofs/find-binary", test_find_binary);
    return g_test_run();
}
