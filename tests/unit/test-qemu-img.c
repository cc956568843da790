/* test-qemu-img.c: util/qemu_img.c. The qemu-img command lines libvirt 9.0's storage backend
 * builds (create, backing store, preallocation, compat/features/cluster size, LUKS, convert
 * for a clone, the two-step convert into and out of LUKS, resize), written here from
 * libvirt's rules; its errors; qemu-img info's JSON; and real runs of qemu-img and of the
 * raw-file code on temp files, checked with qemu-img info and stat. */
#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/qemu_img.h"

#define QI "/usr/bin/qemu-img"

static SvQemuImgVol
vol_init(const char *name, const char *path, const char *format, guint64 capacity)
{
    SvQemuImgVol v = {.name = name, .path = path, .format = format, .capacity = capacity,
                      .allocation = capacity, .mode = -1, .uid = -1, .gid = -1,
                      .encryption = SV_QEMU_IMG_ENC_NONE};
    return v;
}

static void
assert_argv(char **argv, const char *want)
{
    g_autofree char *got = NULL;

    g_assert_nonnull(argv);
    got = g_strjoinv(" ", argv);
    g_assert_cmpstr(got, ==, want);
    g_strfreev(argv);
}

static char *
argv_of(const SvQemuImgVol *v, const SvQemuImgVol *in, gboolean prealloc, SvQemuImgStep step)
{
    g_autoptr(GError) error = NULL;
    char **argv = sv_qemu_img_create_argv(QI, v, in, prealloc, step, "/p", &error);
    char *s;

    g_assert_no_error(error);
    s = g_strjoinv(" ", argv);
    g_strfreev(argv);
    return s;
}

/* create: raw, qcow2 (compat 0.10 when none is given), the size in KiB rounded up. */
static void
test_create_plain(void)
{
    SvQemuImgVol raw = vol_init("a.img", "/p/a.img", "raw", 1073741824);
    SvQemuImgVol q = vol_init("b.qcow2", "/p/b.qcow2", "qcow2", 1000);
    SvQemuImgVol iso = vol_init("c.iso", "/p/c.iso", "iso", 2048);
    g_autofree char *a = argv_of(&raw, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_autofree char *b = argv_of(&q, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_autofree char *c = argv_of(&iso, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);

    g_assert_cmpstr(a, ==, QI " create -f raw /p/a.img 1048576K");
    g_assert_cmpstr(b, ==, QI " create -f qcow2 -o compat=0.10 /p/b.qcow2 1K");
    g_assert_cmpstr(c, ==, QI " create -f raw /p/c.iso 2K");
}

/* Options: backing store with its format (no size when the capacity is 0), preallocation
 * metadata below the capacity and falloc at it, compat, cluster size, lazy refcounts. */
static void
test_create_options(void)
{
    SvQemuImgVol bk = vol_init("o.qcow2", "/p/o.qcow2", "qcow2", 0);
    SvQemuImgVol pm = vol_init("m.qcow2", "/p/m.qcow2", "qcow2", 1048576);
    SvQemuImgVol f = vol_init("f.qcow2", "/p/f.qcow2", "qcow2", 1048576);
    g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

    bk.backing_path = "/dev/null";
    bk.backing_format = "raw";
    a = argv_of(&bk, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(a, ==, QI " create -f qcow2 -b /dev/null -o backing_fmt=raw,compat=0.10 "
                           "/p/o.qcow2");
    pm.allocation = 0;
    b = argv_of(&pm, NULL, TRUE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(b, ==, QI " create -f qcow2 -o preallocation=metadata,compat=0.10 "
                           "/p/m.qcow2 1024K");
    pm.allocation = pm.capacity;
    c = argv_of(&pm, NULL, TRUE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(c, ==, QI " create -f qcow2 -o preallocation=falloc,compat=0.10 "
                           "/p/m.qcow2 1024K");
    f.compat = "1.1";
    f.cluster_size = 65536;
    f.has_features = f.lazy_refcounts = TRUE;
    f.nocow = TRUE;
    d = argv_of(&f, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(d, ==, QI " create -f qcow2 -o nocow=on,compat=1.1,cluster_size=65536,"
                           "lazy_refcounts /p/f.qcow2 1024K");
}

/* LUKS: the key through a secret object read from a file (its commas doubled), qcow2's
 * options prefixed with encrypt., raw becoming the luks driver. */
static void
test_create_luks(void)
{
    SvQemuImgVol q = vol_init("v", "/p/v", "qcow2", 1024);
    SvQemuImgVol r = vol_init("w", "/p/w", "raw", 1024);
    g_autofree char *a = NULL, *b = NULL;

    q.encryption = r.encryption = SV_QEMU_IMG_ENC_LUKS;
    q.n_secrets = r.n_secrets = 1;
    q.secret_path = "/run/s,1";
    r.secret_path = "/run/s2";
    q.cipher_name = "aes";
    q.cipher_size = 256;
    q.cipher_mode = "xts";
    q.cipher_hash = "sha256";
    q.ivgen_name = "plain64";
    q.ivgen_hash = "sha256";
    a = argv_of(&q, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(a, ==, QI " create -f qcow2 --object secret,id=v_encrypt0,file=/run/s,,1 "
                           "-o encrypt.format=luks,encrypt.key-secret=v_encrypt0,"
                           "encrypt.cipher-alg=aes-256,encrypt.cipher-mode=xts,"
                           "encrypt.hash-alg=sha256,encrypt.ivgen-alg=plain64,"
                           "encrypt.ivgen-hash-alg=sha256,compat=0.10 /p/v 1K");
    b = argv_of(&r, NULL, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(b, ==, QI " create -f luks --object secret,id=w_encrypt0,file=/run/s2 "
                           "-o key-secret=w_encrypt0 /p/w 1K");
}

/* vol-create-from: a plain convert (the backing store left out), and the two steps of a
 * clone into LUKS: create with the target's size, then convert with --image-opts. */
static void
test_convert(void)
{
    SvQemuImgVol in = vol_init("in.img", "/p/in.img", "raw", 1024);
    SvQemuImgVol out = vol_init("out.qcow2", "/p/out.qcow2", "qcow2", 1024);
    g_autofree char *a = NULL, *b = NULL, *c = NULL;

    a = argv_of(&out, &in, FALSE, SV_QEMU_IMG_STEP_NONE);
    g_assert_cmpstr(a, ==, QI " convert -f raw -O qcow2 -o compat=0.10 /p/in.img /p/out.qcow2");
    out.encryption = SV_QEMU_IMG_ENC_LUKS;
    out.n_secrets = 1;
    out.secret_path = "/s";
    b = argv_of(&out, &in, FALSE, SV_QEMU_IMG_STEP_CREATE);
    g_assert_cmpstr(b, ==, QI " create -f qcow2 --object secret,id=out.qcow2_encrypt0,file=/s "
                           "-o encrypt.format=luks,encrypt.key-secret=out.qcow2_encrypt0,"
                           "compat=0.10 /p/out.qcow2 1K");
    c = argv_of(&out, &in, FALSE, SV_QEMU_IMG_STEP_CONVERT);
    g_assert_cmpstr(c, ==, QI " convert --image-opts -n --target-image-opts --object "
                           "secret,id=out.qcow2_encrypt0,file=/s driver=raw,file.filename=/p/in.img "
                           "driver=qcow2,file.filename=/p/out.qcow2,"
                           "encrypt.key-secret=out.qcow2_encrypt0");
}

/* resize: rounded up to 512, --shrink below the capacity, --image-opts when encrypted. */
static void
test_resize_argv(void)
{
    SvQemuImgVol q = vol_init("v", "/p/v", "qcow2", 1048576);
    g_autoptr(GError) error = NULL;

    assert_argv(sv_qemu_img_resize_argv(QI, &q, 2097152, &error), QI " resize /p/v 2097152");
    assert_argv(sv_qemu_img_resize_argv(QI, &q, 1000, &error), QI " resize --shrink /p/v 1024");
    q.encryption = SV_QEMU_IMG_ENC_LUKS;
    q.n_secrets = 1;
    q.secret_path = "/s";
    assert_argv(sv_qemu_img_resize_argv(QI, &q, 2097152, &error),
                QI " resize --object secret,id=v_encrypt0,file=/s --image-opts "
                   "driver=qcow2,encrypt.key-secret=v_encrypt0,file.filename=/p/v 2097152");
    q.format = "raw";
    assert_argv(sv_qemu_img_resize_argv(QI, &q, 2097152, &error),
                QI " resize --object secret,id=v_encrypt0,file=/s --image-opts "
                   "driver=luks,key-secret=v_encrypt0,file.filename=/p/v 2097152");
    g_assert_no_error(error);
}

static void
assert_error(const GError *error, int code, const char *message)
{
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpint(error->code, ==, code);
    g_assert_cmpstr(error->message, ==, message);
}

/* libvirt's refusals, in its words. */
static void
test_create_errors(void)
{
    SvQemuImgVol v = vol_init("v", "/p/v", "raw", 1024);
    GError *e = NULL;

    v.backing_path = "/dev/null";
    v.backing_format = "raw";
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: cannot set backing store for raw volume");
    g_clear_error(&e);
    v.backing_path = NULL;
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, TRUE, 0, "/p", &e));
    assert_error(e, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: metadata preallocation only available with qcow2");
    g_clear_error(&e);
    v.compat = "1.1";
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: compatibility option only available with qcow2");
    g_clear_error(&e);
    v.format = "qcow2";
    v.compat = "0.10";
    v.has_features = v.lazy_refcounts = TRUE;
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: lazy_refcounts not supported with compat level 0.10");
    g_clear_error(&e);
    v.has_features = FALSE;
    v.encryption = SV_QEMU_IMG_ENC_QCOW;
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: creation of qcow2 encrypted image is not supported");
    g_clear_error(&e);
    v.encryption = SV_QEMU_IMG_ENC_LUKS;
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_XML_ERROR, "XML error: no secret provided for luks encryption");
    g_clear_error(&e);
    v.n_secrets = 1;
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/p", &e));
    assert_error(e, SV_ERR_INTERNAL_ERROR, "internal error: path to secret data file is required");
    g_clear_error(&e);
    v.encryption = SV_QEMU_IMG_ENC_NONE;
    v.backing_path = "missing-base";
    v.backing_format = "qcow2";
    g_assert_null(sv_qemu_img_create_argv(QI, &v, NULL, FALSE, 0, "/nonexistent", &e));
    g_assert_cmpint(e->code, ==, SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(e->message, ==,
                    "inaccessible backing store volume missing-base: No such file or directory");
    g_clear_error(&e);
}

/* qemu-img info's JSON: one image, and --backing-chain's list, top first. */
static void
test_info_parse(void)
{
    const char *chain =
        "[{\"virtual-size\": 1048576, \"filename\": \"/p/o.qcow2\", \"cluster-size\": 65536, "
        "\"format\": \"qcow2\", \"actual-size\": 200704, \"format-specific\": {\"type\": "
        "\"qcow2\", \"data\": {\"compat\": \"1.1\", \"compression-type\": \"zlib\", "
        "\"lazy-refcounts\": true, \"refcount-bits\": 16, \"corrupt\": false, \"extended-l2\": "
        "false, \"encrypt\": {\"format\": \"luks\"}}}, \"full-backing-filename\": \"/p/b.img\", "
        "\"backing-filename\": \"/p/b.img\", \"backing-filename-format\": \"raw\", "
        "\"encrypted\": true, \"dirty-flag\": false},\n"
        " {\"virtual-size\": 1048576, \"filename\": \"/p/b.img\", \"format\": \"raw\", "
        "\"actual-size\": 0, \"dirty-flag\": true}]";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) l = sv_qemu_img_info_parse(chain, &error);
    SvQemuImgInfo *top, *base;

    g_assert_no_error(error);
    g_assert_cmpuint(l->len, ==, 2);
    top = l->pdata[0];
    base = l->pdata[1];
    g_assert_cmpstr(top->format, ==, "qcow2");
    g_assert_cmpuint(top->virtual_size, ==, 1048576);
    g_assert_cmpuint(top->actual_size, ==, 200704);
    g_assert_cmpuint(top->cluster_size, ==, 65536);
    g_assert_cmpstr(top->backing_file, ==, "/p/b.img");
    g_assert_cmpstr(top->backing_format, ==, "raw");
    g_assert_cmpstr(top->compat, ==, "1.1");
    g_assert_true(top->lazy_refcounts && top->encrypted && !top->dirty);
    g_assert_cmpstr(top->encrypt_format, ==, "luks");
    g_assert_cmpstr(base->format, ==, "raw");
    g_assert_null(base->backing_file);
    g_assert_null(base->compat);
    g_assert_true(base->dirty);
    g_assert_null(sv_qemu_img_info_parse("{oops", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_null(sv_qemu_img_info_parse("[]", &error));
    g_assert_nonnull(error);
}

/* ---- real runs ---------------------------------------------------------------------------- */

typedef struct {
    char *dir;
} Tmp;

static gboolean
have_qemu_img(void)
{
    if (g_file_test(QI, G_FILE_TEST_IS_EXECUTABLE))
        return TRUE;
    g_test_skip("no " QI " (Debian's qemu-utils)");
    return FALSE;
}

static void
tmp_setup(Tmp *t, gconstpointer data)
{
    (void)data;
    t->dir = g_dir_make_tmp("sv-qemu-img-XXXXXX", NULL);
    g_assert_nonnull(t->dir);
}

static void
tmp_teardown(Tmp *t, gconstpointer data)
{
    g_autoptr(GDir) d = g_dir_open(t->dir, 0, NULL);
    const char *n;

    (void)data;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(t->dir, n, NULL);
        g_unlink(p);
    }
    g_rmdir(t->dir);
    g_free(t->dir);
}

static SvQemuImgInfo *
info_of(const char *path, gboolean chain, guint want_len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) l = sv_qemu_img_info(QI, path, NULL, chain, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(l->len, ==, want_len);
    return g_ptr_array_steal_index(l, 0);
}

/* A qcow2 with compat 1.1, lazy refcounts and a cluster size; an overlay on a raw base made
 * without qemu-img; metadata preallocation. qemu-img info reads back what was asked. */
static void
test_run_qcow2(Tmp *t, gconstpointer data)
{
    g_autofree char *q = g_build_filename(t->dir, "q.qcow2", NULL);
    g_autofree char *b = g_build_filename(t->dir, "b.img", NULL);
    g_autofree char *o = g_build_filename(t->dir, "o.qcow2", NULL);
    g_autofree char *m = g_build_filename(t->dir, "m.qcow2", NULL);
    SvQemuImgVol vq = vol_init("q.qcow2", q, "qcow2", 1048576);
    SvQemuImgVol vb = vol_init("b.img", b, "raw", 2097152);
    SvQemuImgVol vo = vol_init("o.qcow2", o, "qcow2", 0);
    SvQemuImgVol vm = vol_init("m.qcow2", m, "qcow2", 1048576);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvQemuImgInfo) iq = NULL, io = NULL, im = NULL;
    struct stat st;

    (void)data;
    if (!have_qemu_img())
        return;
    vq.compat = "1.1";
    vq.has_features = vq.lazy_refcounts = TRUE;
    vq.cluster_size = 131072;
    g_assert_true(sv_qemu_img_create(QI, &vq, NULL, FALSE, t->dir, &error));
    g_assert_no_error(error);
    iq = info_of(q, FALSE, 1);
    g_assert_cmpstr(iq->format, ==, "qcow2");
    g_assert_cmpuint(iq->virtual_size, ==, 1048576);
    g_assert_cmpuint(iq->cluster_size, ==, 131072);
    g_assert_cmpstr(iq->compat, ==, "1.1");
    g_assert_true(iq->lazy_refcounts);
    g_assert_cmpint(stat(q, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    vb.allocation = 0;
    g_assert_true(sv_storage_create_raw(&vb, NULL, FALSE, &error));
    vo.backing_path = "b.img"; /* relative to the pool, as libvirt checks it */
    vo.backing_format = "raw";
    vo.mode = 0644;
    g_assert_true(sv_qemu_img_create(QI, &vo, NULL, FALSE, t->dir, &error));
    g_assert_no_error(error);
    io = info_of(o, TRUE, 2);
    g_assert_cmpstr(io->backing_file, ==, "b.img");
    g_assert_cmpstr(io->backing_format, ==, "raw");
    g_assert_cmpuint(io->virtual_size, ==, 2097152);
    g_assert_cmpstr(io->compat, ==, "0.10");
    g_assert_cmpint(stat(o, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0644);
    vm.allocation = 0;
    g_assert_true(sv_qemu_img_create(QI, &vm, NULL, TRUE, t->dir, &error));
    im = info_of(m, FALSE, 1);
    g_assert_cmpuint(im->virtual_size, ==, 1048576);
    /* metadata preallocation lays the clusters out: the file spans the whole capacity */
    g_assert_cmpint(stat(m, &st), ==, 0);
    g_assert_cmpint(st.st_size, >=, 1048576);
}

/* sv_qemu_img_create, tried again (up to 8 times, after a growing pause: the flake comes
 * with load) when qemu-img's LUKS key derivation
 * benchmark measured no CPU time: QEMU's pbkdf2 iteration count starts from timing 2^15
 * iterations with the thread's CPU time, which a kernel with tick-based accounting can
 * report as 0 ms ("Unable to get accurate CPU usage"), a flake of qemu-img on such hosts
 * that libvirtd meets the same way; anything else fails at once. */
static gboolean
create_luks(const SvQemuImgVol *v, const SvQemuImgVol *in, const char *dir, GError **error)
{
    for (int i = 0;; i++) {
        g_autoptr(GError) local = NULL;

        if (sv_qemu_img_create(QI, v, in, FALSE, dir, &local))
            return TRUE;
        if (i == 7 || !strstr(local->message, "Unable to get accurate CPU usage")) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        g_usleep(MIN(250000UL << i, 4000000UL));
    }
}

static char *
secret_file(Tmp *t)
{
    char *s = g_build_filename(t->dir, "key", NULL);

    g_assert_true(g_file_set_contents(s, "correct horse", -1, NULL));
    return s;
}

/* A clone of raw data into a LUKS qcow2 (libvirt's two steps) and back out of it to raw: the
 * data makes the round trip through the encryption. Each LUKS key derivation takes qemu-img
 * about 2 s (its default iteration time, which libvirt does not change), so this runs with
 * -m slow only: tests/e2e/test_storage_vol.py runs it so, in the slow suite. */
static void
test_run_luks(Tmp *t, gconstpointer data)
{
    g_autofree char *key = NULL;
    g_autofree char *src = g_build_filename(t->dir, "src.img", NULL);
    g_autofree char *c = g_build_filename(t->dir, "c.qcow2", NULL);
    g_autofree char *back = g_build_filename(t->dir, "back.img", NULL);
    SvQemuImgVol vs = vol_init("src.img", src, "raw", 1048576);
    SvQemuImgVol vc = vol_init("c.qcow2", c, "qcow2", 1048576);
    SvQemuImgVol vback = vol_init("back.img", back, "raw", 1048576);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvQemuImgInfo) ic = NULL;
    g_autofree char *data1 = g_malloc0(1048576), *data2 = NULL;
    gsize len = 0;

    (void)data;
    if (!g_test_slow()) {
        g_test_skip("LUKS key derivation takes seconds: run with -m slow");
        return;
    }
    if (!have_qemu_img())
        return;
    key = secret_file(t);
    vc.encryption = SV_QEMU_IMG_ENC_LUKS;
    vc.n_secrets = 1;
    vc.secret_path = key;
    memcpy(data1 + 4096, "splitvirt", 9);
    g_assert_true(g_file_set_contents(src, data1, 1048576, NULL));
    create_luks(&vc, &vs, t->dir, &error);
    g_assert_no_error(error);
    ic = info_of(c, FALSE, 1);
    g_assert_true(ic->encrypted);
    g_assert_cmpstr(ic->encrypt_format, ==, "luks");
    g_assert_cmpuint(ic->virtual_size, ==, 1048576);
    create_luks(&vback, &vc, t->dir, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(back, &data2, &len, NULL));
    g_assert_cmpuint(len, ==, 1048576);
    g_assert_true(memcmp(data1, data2, len) == 0);
}

/* A plain clone raw -> qcow2, and resize: grow, shrink (--shrink), raw with allocation;
 * preallocation refused for a qcow2. A failing qemu-img is libvirt's "Child process" error
 * with its stderr, and leaves nothing behind. */
static void
test_run_convert_resize(Tmp *t, gconstpointer data)
{
    g_autofree char *src = g_build_filename(t->dir, "src.img", NULL);
    g_autofree char *q = g_build_filename(t->dir, "q.qcow2", NULL);
    SvQemuImgVol vs = vol_init("src.img", src, "raw", 1048576);
    SvQemuImgVol vq = vol_init("q.qcow2", q, "qcow2", 1048576);
    SvQemuImgVol bad = vol_init("x", "/nonexistent/x", "raw", 1024);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvQemuImgInfo) i1 = NULL, i2 = NULL, i3 = NULL;
    struct stat st;

    (void)data;
    if (!have_qemu_img())
        return;
    g_assert_true(sv_storage_create_raw(&vs, NULL, FALSE, &error));
    g_assert_true(sv_qemu_img_create(QI, &vq, &vs, FALSE, t->dir, &error));
    g_assert_no_error(error);
    i1 = info_of(q, FALSE, 1);
    g_assert_cmpstr(i1->format, ==, "qcow2");
    g_assert_true(sv_storage_resize(QI, &vq, 3 * 1048576, FALSE, &error));
    i2 = info_of(q, FALSE, 1);
    g_assert_cmpuint(i2->virtual_size, ==, 3 * 1048576);
    vq.capacity = 3 * 1048576;
    g_assert_true(sv_storage_resize(QI, &vq, 1000, FALSE, &error));
    g_assert_no_error(error);
    i3 = info_of(q, FALSE, 1);
    g_assert_cmpuint(i3->virtual_size, ==, 1024);
    g_assert_false(sv_storage_resize(QI, &vq, 4096, TRUE, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_OPERATION_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_true(sv_storage_resize(QI, &vs, 4 * 1048576, TRUE, &error));
    g_assert_cmpint(stat(src, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4 * 1048576);
    g_assert_cmpint(st.st_blocks * 512, >=, 4 * 1048576);
    g_assert_false(sv_qemu_img_create(QI, &bad, NULL, FALSE, t->dir, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_true(g_str_has_prefix(error->message,
                                   "internal error: Child process (" QI
                                   " create -f raw /nonexistent/x 1K) unexpected exit status 1: "
                                   "qemu-img: /nonexistent/x:"));
}

/* Raw files without qemu-img: capacity by ftruncate, allocation really allocated, mode
 * forced whatever the umask, O_EXCL; a clone into less room than the input stays sparse and
 * carries the data. */
static void
test_run_raw(Tmp *t, gconstpointer data)
{
    g_autofree char *full = g_build_filename(t->dir, "full.img", NULL);
    g_autofree char *sparse = g_build_filename(t->dir, "sparse.img", NULL);
    g_autofree char *clone = g_build_filename(t->dir, "clone.img", NULL);
    SvQemuImgVol vf = vol_init("full.img", full, "raw", 1048576);
    SvQemuImgVol vs = vol_init("sparse.img", sparse, "raw", 8 * 1048576);
    SvQemuImgVol vc = vol_init("clone.img", clone, "raw", 8 * 1048576);
    g_autoptr(GError) error = NULL;
    g_autofree char *content = NULL;
    gsize len = 0;
    struct stat st;
    int fd;

    (void)data;
    vf.mode = 0666;
    g_assert_true(sv_storage_create_raw(&vf, NULL, FALSE, &error));
    g_assert_cmpint(stat(full, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0666);
    g_assert_cmpint(st.st_size, ==, 1048576);
    g_assert_cmpint(st.st_blocks * 512, >=, 1048576);
    g_assert_false(sv_storage_create_raw(&vf, NULL, FALSE, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_SYSTEM_ERROR);
    g_assert_true(g_str_has_prefix(error->message, "Failed to create file '"));
    g_assert_true(g_str_has_suffix(error->message, "': File exists"));
    g_clear_error(&error);
    vs.allocation = 0;
    g_assert_true(sv_storage_create_raw(&vs, NULL, FALSE, &error));
    g_assert_cmpint(stat(sparse, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 8 * 1048576);
    g_assert_cmpint(st.st_blocks, ==, 0);
    fd = open(sparse, O_WRONLY);
    g_assert_cmpint(pwrite(fd, "data", 4, 3 * 1048576), ==, 4);
    close(fd);
    vc.allocation = 0;
    g_assert_true(sv_storage_create_raw(&vc, &vs, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(clone, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 8 * 1048576);
    g_assert_cmpint(st.st_blocks * 512, <, 1048576);
    g_assert_true(g_file_get_contents(clone, &content, &len, NULL));
    g_assert_cmpuint(len, ==, 8 * 1048576);
    g_assert_cmpint(memcmp(content + 3 * 1048576, "data", 4), ==, 0);
    vc.path = full;
    vc.backing_path = "/x";
    g_assert_false(sv_storage_create_raw(&vc, NULL, FALSE, &error));
    g_assert_cmpstr(error->message, ==,
                    "this function is not supported by the connection driver: backing storage "
                    "not supported for raw volumes");
}

/* libvirt's choice of how a volume is built, alone and from another. */
static void
test_build_kind(void)
{
    SvQemuImgVol raw = vol_init("r", "/p/r", "raw", 1);
    SvQemuImgVol q = vol_init("q", "/p/q", "qcow2", 1);
    SvQemuImgVol d = vol_init("d", "/p/d", "dir", 0);
    SvQemuImgVol luks = vol_init("l", "/p/l", "raw", 1);
    SvQemuImgVol blk = vol_init("b", "/dev/b", "raw", 1);

    luks.encryption = SV_QEMU_IMG_ENC_LUKS;
    blk.block = TRUE;
    g_assert_cmpint(sv_storage_build_kind(&raw, NULL), ==, SV_STORAGE_BUILD_RAW);
    g_assert_cmpint(sv_storage_build_kind(&q, NULL), ==, SV_STORAGE_BUILD_QEMU_IMG);
    g_assert_cmpint(sv_storage_build_kind(&luks, NULL), ==, SV_STORAGE_BUILD_QEMU_IMG);
    g_assert_cmpint(sv_storage_build_kind(&d, NULL), ==, SV_STORAGE_BUILD_DIR);
    g_assert_cmpint(sv_storage_build_kind(&raw, &raw), ==, SV_STORAGE_BUILD_RAW);
    g_assert_cmpint(sv_storage_build_kind(&raw, &q), ==, SV_STORAGE_BUILD_QEMU_IMG);
    g_assert_cmpint(sv_storage_build_kind(&q, &raw), ==, SV_STORAGE_BUILD_QEMU_IMG);
    g_assert_cmpint(sv_storage_build_kind(&raw, &luks), ==, SV_STORAGE_BUILD_QEMU_IMG);
    g_assert_cmpint(sv_storage_build_kind(&blk, &raw), ==, SV_STORAGE_BUILD_BLOCK);
    g_assert_cmpint(sv_storage_build_kind(&raw, &blk), ==, SV_STORAGE_BUILD_RAW);
}

/* The key's file: 0600, named after pool and volume, holding the key; an unwritable
 * directory is libvirt's error. */
static void
test_secret_file(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = sv_storage_secret_file(t->dir, "pool", "v.qcow2",
                                                    (const guint8 *)"k\0y", 3, -1, -1, &error);
    g_autofree char *prefix = g_build_filename(t->dir, "pool.v.qcow2.secret.", NULL);
    g_autofree char *got = NULL;
    gsize len = 0;
    struct stat st;

    (void)data;
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(path, prefix));
    g_assert_cmpuint(strlen(path), ==, strlen(prefix) + 6);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpint(memcmp(got, "k\0y", 3), ==, 0);
    g_assert_null(sv_storage_secret_file("/nonexistent", "p", "v", (const guint8 *)"k", 1, -1,
                                         -1, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(error->message, ==,
                    "failed to open secret file for write: No such file or directory");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-img/create-plain", test_create_plain);
    g_test_add_func("/qemu-img/create-options", test_create_options);
    g_test_add_func("/qemu-img/create-luks", test_create_luks);
    g_test_add_func("/qemu-img/convert", test_convert);
    g_test_add_func("/qemu-img/resize-argv", test_resize_argv);
    g_test_add_func("/qemu-img/create-errors", test_create_errors);
    g_test_add_func("/qemu-img/info-parse", test_info_parse);
    g_test_add_func("/qemu-img/build-kind", test_build_kind);
    g_test_add("/qemu-img/run/qcow2", Tmp, NULL, tmp_setup, test_run_qcow2, tmp_teardown);
    g_test_add("/qemu-img/run/luks", Tmp, NULL, tmp_setup, test_run_luks, tmp_teardown);
    g_test_add("/qemu-img/run/convert-resize", Tmp, NULL, tmp_setup, test_run_convert_resize,
               tmp_teardown);
    g_test_add("/qemu-img/secret-file", Tmp, NULL, tmp_setup, test_secret_file, tmp_teardown);
    g_test_add("/qemu-img/run/raw", Tmp, NULL, tmp_setup, test_run_raw, tmp_teardown);
    return g_test_run();
}
