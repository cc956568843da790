/* test-cgroup.c: guest cgroups (util/cgroup.c) against fake v1 and v2 trees in a temporary
 * directory (plain files, so every write the code makes is recorded as one appended line),
 * plus the version string table. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cgroup.h"
#include "util/error.h"

#define PATH "splitvirt-test/web.libvirt-lxc"

/* What virtlxcd allows a container (lxc_supervisor.c), in part. */
static const char *const container_devices[] = {"c 1:3 rwm", "c 136:* rwm", NULL};

typedef struct {
    char *root;
} Fixture;

static void
touch(const char *dir, const char *file, const char *content)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_file_set_contents(path, content, -1, &error);
    g_assert_no_error(error);
}

static char *
slurp(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("<missing>");
    return text;
}

static void
remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            unlink(child);
    }
    rmdir(path);
}

/* A v1 tree: one directory per controller, "cpu" and "cpuacct" co-mounted as on many
 * distributions (two links to "cpu,cpuacct"). */
static void
setup_v1(Fixture *f, gconstpointer data)
{
    static const char *const plain[] = {"memory", "pids", "freezer", "devices"};
    g_autofree char *both = NULL;

    (void)data;
    f->root = g_dir_make_tmp("sv-cgroup-XXXXXX", NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(plain); i++) {
        g_autofree char *dir = g_build_filename(f->root, plain[i], NULL);
        touch(dir, "cgroup.procs", "");
    }
    both = g_build_filename(f->root, "cpu,cpuacct", NULL);
    touch(both, "cgroup.procs", "");
    touch(both, "cpuacct.stat", "");
    {
        g_autofree char *cpu = g_build_filename(f->root, "cpu", NULL);
        g_autofree char *cpuacct = g_build_filename(f->root, "cpuacct", NULL);
        g_assert_cmpint(symlink("cpu,cpuacct", cpu), ==, 0);
        g_assert_cmpint(symlink("cpu,cpuacct", cpuacct), ==, 0);
    }
}

static void
setup_v2(Fixture *f, gconstpointer data)
{
    (void)data;
    f->root = g_dir_make_tmp("sv-cgroup-XXXXXX", NULL);
    touch(f->root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    touch(f->root, "cgroup.subtree_control", "");
    touch(f->root, "cgroup.procs", "");
}

/* libvirt's domain tuning, on v1 with a blkio hierarchy (BFQ's weight file only) and on v2. */
static void
test_v1_tuning(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *blkio = g_build_filename(f->root, "blkio", NULL);
    g_autoptr(SvCgroup) cg = NULL;
    g_autofree char *mem = g_build_filename(f->root, "memory", PATH, NULL);
    g_autofree char *cpu = g_build_filename(f->root, "cpu,cpuacct", PATH, NULL);
    g_autofree char *io = g_build_filename(blkio, PATH, NULL);
    g_autofree char *text = NULL;

    (void)data;
    touch(blkio, "cgroup.procs", "");
    cg = sv_cgroup_new(f->root, PATH, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(sv_cgroup_get_dir(cg, "blkio"), ==, io);
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(cpu, "cpu.shares", "");
    touch(mem, "memory.soft_limit_in_bytes", "");
    touch(mem, "memory.memsw.limit_in_bytes", "");
    /* Without a weight-aware scheduler the kernel offers no weight file: a clear error. */
    g_assert_false(sv_cgroup_set_blkio_weight(cg, 500, &error));
    g_assert_nonnull(strstr(error->message, "no weight-aware I/O scheduler"));
    g_clear_error(&error);
    touch(io, "blkio.bfq.weight", "");
    touch(io, "blkio.bfq.weight_device", "");
    g_assert_true(sv_cgroup_set_cpu_shares(cg, 2048, &error));
    g_assert_true(sv_cgroup_set_memory_soft_limit(cg, 1 << 20, &error));
    g_assert_true(sv_cgroup_set_memory_swap_limit(cg, 2 << 20, &error));
    g_assert_true(sv_cgroup_set_blkio_weight(cg, 500, &error));
    g_assert_true(sv_cgroup_set_blkio_device_weight(cg, "/dev/null", 300, &error) == FALSE);
    g_assert_error(error, sv_error_quark(SV_FROM_CGROUP), 1);
    g_assert_nonnull(strstr(error->message, "'/dev/null' must be a block device"));
    g_clear_error(&error);
    text = slurp(cpu, "cpu.shares");
    g_assert_cmpstr(text, ==, "2048\n");
    g_free(text);
    text = slurp(mem, "memory.soft_limit_in_bytes");
    g_assert_cmpstr(text, ==, "1048576\n");
    g_free(text);
    text = slurp(mem, "memory.memsw.limit_in_bytes");
    g_assert_cmpstr(text, ==, "2097152\n");
    g_free(text);
    text = slurp(io, "blkio.bfq.weight");
    g_assert_cmpstr(text, ==, "500\n");
    g_free(text);

    /* Per-thread children of the cpu hierarchy (made by mkdir in cgroupfs; here the files
     * are made first), removed with the guest's cgroup. */
    {
        g_autofree char *vcpu = g_build_filename(cpu, "vcpu0", NULL);

        touch(vcpu, "tasks", "");
        touch(vcpu, "cpu.cfs_period_us", "");
        touch(vcpu, "cpu.cfs_quota_us", "");
        g_assert_true(sv_cgroup_cpu_child_add_thread(cg, "vcpu0", 4242, &error));
        g_assert_true(sv_cgroup_cpu_child_set_bandwidth(cg, "vcpu0", 100000, -1, &error));
        g_assert_no_error(error);
        text = slurp(vcpu, "tasks");
        g_assert_cmpstr(text, ==, "4242\n");
        g_free(text);
        text = slurp(vcpu, "cpu.cfs_quota_us");
        g_assert_cmpstr(text, ==, "-1\n");
    }
}

static void
test_v2_tuning(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *parent = g_build_filename(f->root, "splitvirt-test", NULL);
    g_autofree char *dir = g_build_filename(f->root, PATH, NULL);
    g_autofree char *text = NULL;

    (void)data;
    touch(parent, "cgroup.subtree_control", "");
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(dir, "cpu.weight", "");
    touch(dir, "memory.high", "");
    touch(dir, "memory.swap.max", "");
    touch(dir, "io.weight", "");
    g_assert_true(sv_cgroup_set_cpu_shares(cg, 100, &error));
    g_assert_true(sv_cgroup_set_memory_soft_limit(cg, 4096, &error));
    g_assert_true(sv_cgroup_set_memory_swap_limit(cg, 8192, &error));
    g_assert_true(sv_cgroup_set_blkio_weight(cg, 500, &error));
    g_assert_no_error(error);
    text = slurp(dir, "cpu.weight");
    g_assert_cmpstr(text, ==, "100\n");
    g_free(text);
    text = slurp(dir, "memory.high");
    g_assert_cmpstr(text, ==, "4096\n");
    g_free(text);
    text = slurp(dir, "memory.swap.max");
    g_assert_cmpstr(text, ==, "8192\n");
    g_free(text);
    text = slurp(dir, "io.weight");
    g_assert_cmpstr(text, ==, "default 500\n");
    /* v2's threaded cgroups are not done: a clear error. */
    g_assert_false(sv_cgroup_cpu_child_add_thread(cg, "vcpu0", 4242, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CGROUP), SV_ERR_OPERATION_UNSUPPORTED);
}

/* Scheduler parameters: the CFS bandwidth and weight read and written, of the guest's cgroup
 * and of a per-thread child (v1), and v2's one cpu.max file. */
static void
test_v1_bandwidth(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *cpu = g_build_filename(f->root, "cpu,cpuacct", PATH, NULL);
    g_autofree char *vcpu = g_build_filename(cpu, "vcpu0", NULL);
    g_autofree char *text = NULL;
    guint64 period = 0, shares = 0;
    gint64 quota = 0;

    (void)data;
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(cpu, "cpu.shares", "1024\n");
    touch(cpu, "cpu.cfs_period_us", "100000\n");
    touch(cpu, "cpu.cfs_quota_us", "-1\n");
    g_assert_false(sv_cgroup_has_cpu_child(cg, "vcpu0"));
    touch(vcpu, "cpu.cfs_period_us", "20000\n");
    touch(vcpu, "cpu.cfs_quota_us", "5000\n");
    g_assert_true(sv_cgroup_has_cpu_child(cg, "vcpu0"));
    g_assert_true(sv_cgroup_get_cpu_shares(cg, &shares, &error));
    g_assert_cmpuint(shares, ==, 1024);
    g_assert_true(sv_cgroup_get_cpu_bandwidth(cg, NULL, &period, &quota, &error));
    g_assert_cmpuint(period, ==, 100000);
    g_assert_cmpint(quota, ==, -1);
    g_assert_true(sv_cgroup_get_cpu_bandwidth(cg, "vcpu0", &period, &quota, &error));
    g_assert_cmpuint(period, ==, 20000);
    g_assert_cmpint(quota, ==, 5000);
    /* A 0 leaves the other file alone. */
    g_assert_true(sv_cgroup_set_cpu_bandwidth(cg, NULL, 300000, 0, &error));
    g_assert_true(sv_cgroup_set_cpu_bandwidth(cg, "vcpu0", 0, 7000, &error));
    g_assert_no_error(error);
    text = slurp(cpu, "cpu.cfs_period_us");
    g_assert_cmpstr(text, ==, "100000\n300000\n");
    g_free(text);
    text = slurp(cpu, "cpu.cfs_quota_us");
    g_assert_cmpstr(text, ==, "-1\n");
    g_free(text);
    text = slurp(vcpu, "cpu.cfs_quota_us");
    g_assert_cmpstr(text, ==, "5000\n7000\n");
    g_free(text);
    text = slurp(vcpu, "cpu.cfs_period_us");
    g_assert_cmpstr(text, ==, "20000\n");
}

/* libvirt's cgroup layer's ranges (issue 18, LXC tuning): a period or quota outside them is
 * refused with its message, and nothing is written; -1 (no quota) and the edges pass. */
static void
test_v1_bandwidth_ranges(Fixture *f, gconstpointer data)
{
    static const struct {
        guint64 period;
        gint64 quota;
        const char *message;
    } bad[] = {
        {999, 0, "invalid argument: cfs_period '999' must be in range (1000, 1000000)"},
        {1000001, 0, "invalid argument: cfs_period '1000001' must be in range (1000, 1000000)"},
        {0, 999, "invalid argument: cfs_quota '999' must be in range (1000, 17592186044415)"},
        {0, G_GINT64_CONSTANT(17592186044416),
         "invalid argument: cfs_quota '17592186044416' must be in range (1000, 17592186044415)"},
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *cpu = g_build_filename(f->root, "cpu,cpuacct", PATH, NULL);
    g_autofree char *text = NULL;

    (void)data;
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(cpu, "cpu.cfs_period_us", "");
    touch(cpu, "cpu.cfs_quota_us", "");
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(sv_cgroup_set_cpu_bandwidth(cg, NULL, bad[i].period, bad[i].quota, &error));
        g_assert_error(error, sv_error_quark(SV_FROM_CGROUP), SV_ERR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, bad[i].message);
        g_clear_error(&error);
    }
    text = slurp(cpu, "cpu.cfs_period_us");
    g_assert_cmpstr(text, ==, "");
    g_free(text);
    g_assert_true(sv_cgroup_set_cpu_bandwidth(cg, NULL, 1000, -1, &error));
    g_assert_true(sv_cgroup_set_cpu_bandwidth(cg, NULL, 1000000, SV_CGROUP_CPU_QUOTA_MAX, &error));
    g_assert_no_error(error);
    text = slurp(cpu, "cpu.cfs_quota_us");
    g_assert_cmpstr(text, ==, "-1\n17592186044415\n");
}

static void
test_v2_bandwidth(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *parent = g_build_filename(f->root, "splitvirt-test", NULL);
    g_autofree char *dir = g_build_filename(f->root, PATH, NULL);
    g_autofree char *text = NULL;
    guint64 period = 0, shares = 0;
    gint64 quota = 0;

    (void)data;
    touch(parent, "cgroup.subtree_control", "");
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(dir, "cpu.weight", "100\n");
    touch(dir, "cpu.max", "max 100000\n");
    g_assert_true(sv_cgroup_get_cpu_shares(cg, &shares, &error));
    g_assert_cmpuint(shares, ==, 100);
    g_assert_true(sv_cgroup_get_cpu_bandwidth(cg, NULL, &period, &quota, &error));
    g_assert_cmpuint(period, ==, 100000);
    g_assert_cmpint(quota, ==, -1);
    /* The quota with the period there was. */
    g_assert_true(sv_cgroup_set_cpu_bandwidth(cg, NULL, 0, 50000, &error));
    g_assert_no_error(error);
    text = slurp(dir, "cpu.max");
    g_assert_cmpstr(text, ==, "max 100000\n50000 100000\n");
    /* No per-thread children on v2. */
    g_assert_false(sv_cgroup_has_cpu_child(cg, "vcpu0"));
    g_assert_false(sv_cgroup_set_cpu_bandwidth(cg, "vcpu0", 100000, 0, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CGROUP), SV_ERR_OPERATION_UNSUPPORTED);
}

/* A block device node of this machine (for the per-device lines), or NULL. */
static char *
some_block_device(void)
{
    g_autoptr(GDir) dir = g_dir_open("/dev", 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename("/dev", name, NULL);
        struct stat st;

        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
            return g_steal_pointer(&path);
    }
    return NULL;
}

/* Per-device throttles: v1's blkio.throttle files, v2's io.max ("max" for none). */
static void
test_blkio_throttle(Fixture *f, gconstpointer data)
{
    gboolean v2 = GPOINTER_TO_INT(data);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = NULL;
    g_autofree char *dev = some_block_device();
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_autofree char *want = NULL;
    struct stat st;

    if (!dev) {
        g_test_skip("no block device node in /dev");
        return;
    }
    g_assert_cmpint(stat(dev, &st), ==, 0);
    if (v2) {
        g_autofree char *parent = g_build_filename(f->root, "splitvirt-test", NULL);

        touch(parent, "cgroup.subtree_control", "");
        dir = g_build_filename(f->root, PATH, NULL);
    } else {
        g_autofree char *blkio = g_build_filename(f->root, "blkio", NULL);

        touch(blkio, "cgroup.procs", "");
        dir = g_build_filename(blkio, PATH, NULL);
    }
    cg = sv_cgroup_new(f->root, PATH, &error);
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(dir, v2 ? "io.max" : "blkio.throttle.write_bps_device", "");
    touch(dir, v2 ? "io.max" : "blkio.throttle.read_iops_device", "");
    g_assert_true(sv_cgroup_set_blkio_device_throttle(cg, dev, SV_BLKIO_THROTTLE_WRITE_BYTES,
                                                      2000000, &error));
    g_assert_true(sv_cgroup_set_blkio_device_throttle(cg, dev, SV_BLKIO_THROTTLE_READ_IOPS, 0,
                                                      &error));
    g_assert_no_error(error);
    if (v2) {
        text = slurp(dir, "io.max");
        want = g_strdup_printf("%u:%u wbps=2000000\n%u:%u riops=max\n", major(st.st_rdev),
                               minor(st.st_rdev), major(st.st_rdev), minor(st.st_rdev));
        g_assert_cmpstr(text, ==, want);
    } else {
        text = slurp(dir, "blkio.throttle.write_bps_device");
        want = g_strdup_printf("%u:%u 2000000\n", major(st.st_rdev), minor(st.st_rdev));
        g_assert_cmpstr(text, ==, want);
        g_free(text);
        g_free(want);
        text = slurp(dir, "blkio.throttle.read_iops_device");
        want = g_strdup_printf("%u:%u 0\n", major(st.st_rdev), minor(st.st_rdev));
        g_assert_cmpstr(text, ==, want);
    }
    /* Not a block device: the cgroup layer's error. */
    g_assert_false(sv_cgroup_set_blkio_device_throttle(cg, "/dev/null",
                                                       SV_BLKIO_THROTTLE_READ_BYTES, 1, &error));
    g_assert_nonnull(strstr(error->message, "'/dev/null' must be a block device"));
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    remove_tree(f->root);
    g_free(f->root);
}

static void
test_version_strings(void)
{
    for (int v = 0; v < SV_CGROUP_VERSION_LAST; v++)
        g_assert_cmpint(sv_cgroup_version_from_string(sv_cgroup_version_to_string(v)), ==, v);
    g_assert_null(sv_cgroup_version_to_string(SV_CGROUP_VERSION_LAST));
    g_assert_cmpint(sv_cgroup_version_from_string("v3"), ==, -1);
    g_assert_cmpint(sv_cgroup_version_from_string(NULL), ==, -1);
}

static void
test_default_parent(void)
{
    g_autofree char *a = sv_cgroup_default_parent("/tmp/a");
    g_autofree char *b = sv_cgroup_default_parent("/tmp/b");
    g_autofree char *a2 = sv_cgroup_default_parent("/tmp/a");

    g_assert_true(g_str_has_prefix(a, "splitvirt-"));
    g_assert_cmpuint(strlen(a), ==, strlen("splitvirt-") + 12);
    g_assert_cmpstr(a, ==, a2);
    g_assert_cmpstr(a, !=, b);
}

static void
test_v1_lifecycle(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *mem = NULL, *frz = NULL, *dev = NULL;
    g_autofree char *text = NULL;

    (void)data;
    g_assert_no_error(error);
    g_assert_cmpint(sv_cgroup_get_version(cg), ==, SV_CGROUP_V1);
    /* cpu and cpuacct are one hierarchy: one directory serves both names. */
    g_assert_cmpstr(sv_cgroup_get_dir(cg, "cpu"), ==, sv_cgroup_get_dir(cg, "cpuacct"));
    g_assert_null(sv_cgroup_get_dir(cg, "blkio"));
    g_assert_false(sv_cgroup_exists(cg));
    g_assert_true(sv_cgroup_create(cg, &error));
    g_assert_no_error(error);
    g_assert_true(sv_cgroup_exists(cg));
    mem = g_build_filename(f->root, "memory", PATH, NULL);
    frz = g_build_filename(f->root, "freezer", PATH, NULL);
    dev = g_build_filename(f->root, "devices", PATH, NULL);
    g_assert_cmpstr(sv_cgroup_get_dir(cg, "memory"), ==, mem);
    g_assert_true(g_file_test(mem, G_FILE_TEST_IS_DIR));
    /* The kernel's files, as a new cgroup has them. */
    touch(mem, "memory.limit_in_bytes", "");
    touch(mem, "cgroup.procs", "");
    touch(frz, "freezer.state", "THAWED\n");
    touch(dev, "devices.deny", "");
    touch(dev, "devices.allow", "");

    g_assert_true(sv_cgroup_set_memory_limit(cg, 64 * 1024 * 1024, &error));
    text = slurp(mem, "memory.limit_in_bytes");
    g_assert_cmpstr(text, ==, "67108864\n");
    g_clear_pointer(&text, g_free);

    g_assert_true(sv_cgroup_restrict_devices(cg, container_devices, &error));
    text = slurp(dev, "devices.deny");
    g_assert_cmpstr(text, ==, "a\n");
    g_clear_pointer(&text, g_free);
    text = slurp(dev, "devices.allow");
    g_assert_true(g_str_has_prefix(text, "c 1:3 rwm\n"));
    g_assert_nonnull(strstr(text, "c 136:* rwm\n"));
    g_clear_pointer(&text, g_free);
    /* One device given and taken back (a disk attached to a running container). */
    g_assert_true(sv_cgroup_change_device(cg, TRUE, "b 7:3 rwm", &error));
    g_assert_true(sv_cgroup_change_device(cg, FALSE, "b 7:3 rwm", &error));
    text = slurp(dev, "devices.allow");
    g_assert_true(g_str_has_suffix(text, "c 136:* rwm\nb 7:3 rwm\n"));
    g_clear_pointer(&text, g_free);
    text = slurp(dev, "devices.deny");
    g_assert_cmpstr(text, ==, "a\nb 7:3 rwm\n");
    g_clear_pointer(&text, g_free);

    g_assert_false(sv_cgroup_is_frozen(cg));
    g_assert_true(sv_cgroup_set_frozen(cg, TRUE, &error));
    g_assert_true(sv_cgroup_is_frozen(cg));
    g_assert_true(sv_cgroup_set_frozen(cg, FALSE, &error));
    g_assert_false(sv_cgroup_is_frozen(cg));
    text = slurp(frz, "freezer.state");
    g_assert_cmpstr(text, ==, "THAWED\nFROZEN\nTHAWED\n");
    g_clear_pointer(&text, g_free);
    g_assert_no_error(error);

    /* Hierarchies without a cgroup.procs yet (a fake tree) cannot take a process. */
    g_assert_false(sv_cgroup_add_process(cg, 4242, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CGROUP), SV_ERR_SYSTEM_ERROR);
    g_clear_error(&error);
}

static void
test_v1_missing_controller(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *frz = g_build_filename(f->root, "freezer", NULL);
    g_autoptr(SvCgroup) cg = NULL;

    (void)data;
    remove_tree(frz);
    cg = sv_cgroup_new(f->root, PATH, &error);
    g_assert_no_error(error);
    g_assert_null(sv_cgroup_get_dir(cg, "freezer"));
    g_assert_false(sv_cgroup_set_frozen(cg, TRUE, &error));
    g_assert_nonnull(error);
    g_assert_cmpstr(error->message, ==,
                    "internal error: Unable to find 'freezer' cgroups controller mount");
}

static void
test_no_hierarchy(void)
{
    g_autofree char *root = g_dir_make_tmp("sv-cgroup-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    SvCgroup *cg = sv_cgroup_new(root, PATH, &error);

    g_assert_null(cg);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "no usable cgroup hierarchy"));
    rmdir(root);
}

/* A real child stands for a container process listed in cgroup.procs. */
static pid_t
spawn_sleeper(void)
{
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    return pid;
}

static void
test_v1_kill_all(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *frz = g_build_filename(f->root, "freezer", PATH, NULL);
    g_autofree char *mem = g_build_filename(f->root, "memory", PATH, NULL);
    g_autofree char *procs = NULL, *text = NULL;
    g_autoptr(GArray) pids = NULL;
    pid_t a = spawn_sleeper(), b = spawn_sleeper();
    int status;

    (void)data;
    g_assert_true(sv_cgroup_create(cg, &error));
    /* Both hierarchies list a, one lists b: each is signalled once. */
    procs = g_strdup_printf("%d\n%d\n", (int)a, (int)b);
    touch(frz, "cgroup.procs", procs);
    g_free(procs);
    procs = g_strdup_printf("%d\n", (int)a);
    touch(mem, "cgroup.procs", procs);
    touch(frz, "freezer.state", "THAWED\n");
    pids = sv_cgroup_get_pids(cg);
    g_assert_cmpuint(pids->len, ==, 2);
    g_assert_cmpint(g_array_index(pids, pid_t, 0), ==, MIN(a, b));
    g_assert_cmpuint(sv_cgroup_kill_all(cg, SIGTERM), ==, 2);
    g_assert_cmpint(waitpid(a, &status, 0), ==, a);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    g_assert_cmpint(waitpid(b, &status, 0), ==, b);
    /* Frozen while listing and signalling, thawed after. */
    text = slurp(frz, "freezer.state");
    g_assert_cmpstr(text, ==, "THAWED\nFROZEN\nTHAWED\n");
}

static void
test_v1_remove(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autoptr(SvCgroup) other = sv_cgroup_new(f->root, "splitvirt-test/db.libvirt-lxc", &error);
    g_autofree char *parent = g_build_filename(f->root, "memory", "splitvirt-test", NULL);

    (void)data;
    g_assert_true(sv_cgroup_create(cg, &error));
    g_assert_true(sv_cgroup_create(other, &error));
    /* The shared parent stays while another container uses it. */
    g_assert_true(sv_cgroup_remove(cg, &error));
    g_assert_no_error(error);
    g_assert_false(sv_cgroup_exists(cg));
    g_assert_true(g_file_test(parent, G_FILE_TEST_IS_DIR));
    g_assert_true(sv_cgroup_remove(other, &error));
    g_assert_false(g_file_test(parent, G_FILE_TEST_EXISTS));
    /* Removing what is gone is fine. */
    g_assert_true(sv_cgroup_remove(cg, &error));
    g_assert_no_error(error);
}

static void
test_v2_lifecycle(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *parent = g_build_filename(f->root, "splitvirt-test", NULL);
    g_autofree char *dir = g_build_filename(f->root, PATH, NULL);
    g_autofree char *text = NULL;

    (void)data;
    g_assert_no_error(error);
    g_assert_cmpint(sv_cgroup_get_version(cg), ==, SV_CGROUP_V2);
    g_assert_cmpstr(sv_cgroup_get_dir(cg, "memory"), ==, dir);
    g_assert_cmpstr(sv_cgroup_get_dir(cg, "freezer"), ==, dir);
    /* The parent directory must exist with its control file before create writes it; the
     * kernel creates it with mkdir, the fake tree gets it here. */
    touch(parent, "cgroup.subtree_control", "");
    g_assert_true(sv_cgroup_create(cg, &error));
    g_assert_no_error(error);
    /* The root and the parent both pass the offered controllers down, in order. */
    text = slurp(f->root, "cgroup.subtree_control");
    g_assert_cmpstr(text, ==, "+memory\n+pids\n+cpu\n+io\n");
    g_clear_pointer(&text, g_free);
    text = slurp(parent, "cgroup.subtree_control");
    g_assert_cmpstr(text, ==, "+memory\n+pids\n+cpu\n+io\n");
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));

    touch(dir, "memory.max", "");
    touch(dir, "cgroup.freeze", "0\n");
    touch(dir, "cgroup.procs", "");
    touch(dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 400\n");
    g_assert_true(sv_cgroup_set_memory_limit(cg, 1 << 20, &error));
    text = slurp(dir, "memory.max");
    g_assert_cmpstr(text, ==, "1048576\n");
    g_clear_pointer(&text, g_free);
    /* No device controller on v2: nothing to write, nothing fails. */
    g_assert_true(sv_cgroup_restrict_devices(cg, container_devices, &error));
    g_assert_false(sv_cgroup_is_frozen(cg));
    g_assert_true(sv_cgroup_set_frozen(cg, TRUE, &error));
    g_assert_true(sv_cgroup_is_frozen(cg));
    g_assert_true(sv_cgroup_add_process(cg, 4242, &error));
    text = slurp(dir, "cgroup.procs");
    g_assert_cmpstr(text, ==, "4242\n");
    g_clear_pointer(&text, g_free);
    g_assert_cmpuint(sv_cgroup_get_cpu_time(cg), ==, 1500000);
    {
        guint64 total = 0, user = 0, sys = 0;

        g_assert_true(sv_cgroup_get_cpu_times(cg, &total, &user, &sys));
        g_assert_cmpuint(total, ==, 1500000);
        g_assert_cmpuint(user, ==, 1000000);
        g_assert_cmpuint(sys, ==, 400000);
    }
    g_assert_no_error(error);
}

static void
test_v2_kill_uses_cgroup_kill(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(f->root, PATH, &error);
    g_autofree char *parent = g_build_filename(f->root, "splitvirt-test", NULL);
    g_autofree char *dir = g_build_filename(f->root, PATH, NULL);
    g_autofree char *text = NULL;

    (void)data;
    touch(parent, "cgroup.subtree_control", "");
    g_assert_true(sv_cgroup_create(cg, &error));
    touch(dir, "cgroup.procs", "1\n"); /* never signalled: cgroup.kill does the work */
    touch(dir, "cgroup.kill", "");
    touch(dir, "cgroup.freeze", "");
    g_assert_cmpuint(sv_cgroup_kill_all(cg, SIGKILL), ==, 1);
    text = slurp(dir, "cgroup.kill");
    g_assert_cmpstr(text, ==, "1\n");
    g_clear_pointer(&text, g_free);
    text = slurp(dir, "cgroup.freeze");
    g_assert_cmpstr(text, ==, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/version-strings", test_version_strings);
    g_test_add_func("/cgroup/default-parent", test_default_parent);
    g_test_add_func("/cgroup/no-hierarchy", test_no_hierarchy);
    g_test_add("/cgroup/v1/lifecycle", Fixture, NULL, setup_v1, test_v1_lifecycle, teardown);
    g_test_add("/cgroup/v1/missing-controller", Fixture, NULL, setup_v1,
               test_v1_missing_controller, teardown);
    g_test_add("/cgroup/v1/kill-all", Fixture, NULL, setup_v1, test_v1_kill_all, teardown);
    g_test_add("/cgroup/v1/remove", Fixture, NULL, setup_v1, test_v1_remove, teardown);
    g_test_add("/cgroup/v1/tuning", Fixture, NULL, setup_v1, test_v1_tuning, teardown);
    g_test_add("/cgroup/v2/tuning", Fixture, NULL, setup_v2, test_v2_tuning, teardown);
    g_test_add("/cgroup/v1/bandwidth", Fixture, NULL, setup_v1, test_v1_bandwidth, teardown);
    g_test_add("/cgroup/v1/bandwidth-ranges", Fixture, NULL, setup_v1, test_v1_bandwidth_ranges,
               teardown);
    g_test_add("/cgroup/v2/bandwidth", Fixture, NULL, setup_v2, test_v2_bandwidth, teardown);
    g_test_add("/cgroup/v1/blkio-throttle", Fixture, GINT_TO_POINTER(FALSE), setup_v1,
               test_blkio_throttle, teardown);
    g_test_add("/cgroup/v2/blkio-throttle", Fixture, GINT_TO_POINTER(TRUE), setup_v2,
               test_blkio_throttle, teardown);
    g_test_add("/cgroup/v2/lifecycle", Fixture, NULL, setup_v2, test_v2_lifecycle, teardown);
    g_test_add("/cgroup/v2/kill", Fixture, NULL, setup_v2, test_v2_kill_uses_cgroup_kill,
               teardown);
    return g_test_run();
}
