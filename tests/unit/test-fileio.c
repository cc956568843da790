/* test-fileio.c: the path check applied to what status files say, and the walk over a
 * directory of atomically written files after a restart. */
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"

static void
test_path_is_within(void)
{
    const char *dir = "/run/libvirt/qemu";

    g_assert_true(sv_path_is_within("/run/libvirt/qemu/a.pid", dir));
    g_assert_true(sv_path_is_within("/run/libvirt/qemu/d/monitor.sock", dir));
    g_assert_true(sv_path_is_within("/run/libvirt/qemu/d/monitor.sock", "/run/libvirt/qemu/"));
    g_assert_true(sv_path_is_within("/x", "/"));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemux/a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/../../../etc/shadow", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a/../../b", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/./a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu//a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a/", dir));
    g_assert_false(sv_path_is_within("run/libvirt/qemu/a", dir));
    g_assert_false(sv_path_is_within("/etc/shadow", dir));
    g_assert_false(sv_path_is_within(NULL, dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a", "relative"));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/..", dir));
}

typedef struct {
    const char *dir;
    GPtrArray *seen;
} Walk;

/* Records the entry, and removes every other file it will be called for. */
static void
on_entry(const char *path, const char *entry, gpointer data)
{
    Walk *w = data;
    g_autofree char *want = g_build_filename(w->dir, entry, NULL);

    g_assert_cmpstr(path, ==, want);
    g_ptr_array_add(w->seen, g_strdup(entry));
    for (const char *const *n = (const char *const[]){"a.xml", "b.xml", NULL}; *n; n++) {
        g_autofree char *other = g_build_filename(w->dir, *n, NULL);
        unlink(other);
    }
}

static gint
compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Interrupted writes' temporary files go first; then every NAME.xml, as the directory was
 * when the walk began; nothing else. */
static void
test_walk_dir(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-walk-XXXXXX", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    static const char *files[] = {"a.xml", "b.xml", "a.xml.new-Q1w2E3", "c.sock", "d.xml.rejected"};
    Walk w = {dir, seen};

    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i], NULL);
        g_assert_true(g_file_set_contents(path, "x", -1, NULL));
    }
    sv_file_walk_dir(dir, ".xml", on_entry, &w);
    g_ptr_array_sort(seen, compare_str);
    g_assert_cmpuint(seen->len, ==, 2);
    g_assert_cmpstr(seen->pdata[0], ==, "a.xml");
    g_assert_cmpstr(seen->pdata[1], ==, "b.xml");
    for (gsize i = 2; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i], NULL);
        g_assert_cmpint(g_file_test(path, G_FILE_TEST_EXISTS), ==, i != 2);
        unlink(path);
    }
    g_ptr_array_set_size(seen, 0);
    sv_file_walk_dir(missing, ".xml", on_entry, &w);
    g_assert_cmpuint(seen->len, ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fileio/path-is-within", test_path_is_within);
    g_test_add_func("/fileio/walk-dir", test_walk_dir);
    return g_test_run();
}
