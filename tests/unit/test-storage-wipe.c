/* test-storage-wipe.c: util/storage_wipe.c on temp files: libvirt 9.0's zero wipe (a sparse
 * file truncated and extended, anything else written with zeros over its allocation only),
 * trim refused with libvirt's error, and the patterned algorithms and random through scrub
 * with libvirt's command line. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/storage_wipe.h"

#define MIB (1024 * 1024)

typedef struct {
    char *dir;
    char *path;
} Tmp;

static void
tmp_setup(Tmp *t, gconstpointer data)
{
    (void)data;
    t->dir = g_dir_make_tmp("sv-wipe-XXXXXX", NULL);
    t->path = g_build_filename(t->dir, "vol", NULL);
}

static void
tmp_teardown(Tmp *t, gconstpointer data)
{
    (void)data;
    g_unlink(t->path);
    g_rmdir(t->dir);
    g_free(t->path);
    g_free(t->dir);
}

static void
write_bytes(const char *path, char byte, gsize len)
{
    g_autofree char *buf = g_malloc(len);

    memset(buf, byte, len);
    g_assert_true(g_file_set_contents(path, buf, len, NULL));
}

static gboolean
all_bytes(const char *buf, char byte, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (buf[i] != byte)
            return FALSE;
    }
    return TRUE;
}

/* A sparse file: truncated to nothing and back, so it reads as zeros and stays sparse. */
static void
test_zero_sparse(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *buf = NULL;
    gsize len = 0;
    struct stat st;
    int fd = open(t->path, O_RDWR | O_CREAT, 0600);

    (void)data;
    g_assert_cmpint(ftruncate(fd, 8 * MIB), ==, 0);
    g_assert_cmpint(pwrite(fd, "secret", 6, 5 * MIB), ==, 6);
    close(fd);
    g_assert_true(sv_storage_wipe(t->path, "zero", 8 * MIB, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(t->path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 8 * MIB);
    g_assert_cmpint(st.st_blocks, ==, 0);
    g_assert_true(g_file_get_contents(t->path, &buf, &len, NULL));
    g_assert_true(all_bytes(buf, 0, len));
}

/* A fully allocated file: zeros written over the allocation given (libvirt passes the
 * volume's allocation), and nothing past it; the blocks stay allocated. */
static void
test_zero_written(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *buf = NULL;
    gsize len = 0;
    struct stat st;

    (void)data;
    write_bytes(t->path, (char)0xa5, 2 * MIB);
    g_assert_true(sv_storage_wipe(t->path, "zero", MIB, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(t->path, &buf, &len, NULL));
    g_assert_cmpuint(len, ==, 2 * MIB);
    g_assert_true(all_bytes(buf, 0, MIB));
    g_assert_true(all_bytes(buf + MIB, (char)0xa5, MIB));
    g_assert_cmpint(stat(t->path, &st), ==, 0);
    g_assert_cmpint(st.st_blocks * 512, >=, 2 * MIB);
}

/* trim is refused as libvirt's local backends refuse it; a missing volume fails first. */
static void
test_trim_and_errors(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    write_bytes(t->path, 1, 4096);
    g_assert_false(sv_storage_wipe(t->path, "trim", 4096, NULL, &error));
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpint(error->code, ==, SV_ERR_ARGUMENT_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==, "argument unsupported: 'trim' algorithm not supported");
    g_clear_error(&error);
    g_assert_false(sv_storage_wipe("/nonexistent/vol", "zero", 1, NULL, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(error->message, ==, "Failed to open storage volume with path "
                                        "'/nonexistent/vol': No such file or directory");
    g_clear_error(&error);
    g_assert_false(sv_storage_wipe(t->path, "usarmy", 1, NULL, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(sv_storage_wipe(t->path, "dod", 1, "/nonexistent/scrub", &error));
    g_assert_nonnull(strstr(error->message, "cannot execute '/nonexistent/scrub'"));
}

/* libvirt's scrub line. */
static void
test_scrub_argv(void)
{
    g_auto(GStrv) argv = sv_storage_wipe_scrub_argv(NULL, "gutmann", "/p/v.img");
    g_autofree char *s = g_strjoinv(" ", argv);

    g_assert_cmpstr(s, ==, "/usr/bin/scrub -f -p gutmann /p/v.img");
    for (const char *const *a = (const char *const[]){"zero", "nnsa", "dod", "bsi", "gutmann",
                                                      "schneier", "pfitzner7", "pfitzner33",
                                                      "random", "trim", NULL};
         *a; a++)
        g_assert_true(sv_storage_wipe_known(*a));
    g_assert_false(sv_storage_wipe_known("usarmy"));
}

/* Every patterned algorithm and random, by the real scrub: the data is gone, the size kept. */
static void
test_scrub_run(Tmp *t, gconstpointer data)
{
    static const char *const algs[] = {"nnsa", "dod", "bsi", "gutmann", "schneier",
                                       "pfitzner7", "pfitzner33", "random"};

    (void)data;
    if (!g_file_test(SV_SCRUB_PATH, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("no " SV_SCRUB_PATH " (Debian's scrub, scripts/deps.sh)");
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(algs); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *buf = NULL;
        gsize len = 0;

        write_bytes(t->path, 'S', 65536);
        g_assert_true(sv_storage_wipe(t->path, algs[i], 65536, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(t->path, &buf, &len, NULL));
        g_assert_cmpuint(len, ==, 65536);
        g_assert_false(all_bytes(buf + 4096, 'S', 4096));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/storage-wipe/zero-sparse", Tmp, NULL, tmp_setup, test_zero_sparse, tmp_teardown);
    g_test_add("/storage-wipe/zero-written", Tmp, NULL, tmp_setup, test_zero_written,
               tmp_teardown);
    g_test_add("/storage-wipe/trim-and-errors", Tmp, NULL, tmp_setup, test_trim_and_errors,
               tmp_teardown);
    g_test_add_func("/storage-wipe/scrub-argv", test_scrub_argv);
    g_test_add("/storage-wipe/scrub-run", Tmp, NULL, tmp_setup, test_scrub_run, tmp_teardown);
    return g_test_run();
}
