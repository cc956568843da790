/* test-qemu-stats.c: the pure parts of a guest's statistics (qemu_stats.h): cpumaps from
 * CPU lists, the balloon's guest-stats as libvirt lists them, query-blockstats summed per
 * disk (matched by QEMU's qdev names), and an image's capacity, allocation and size. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu_stats.h"
#include "util/error.h"

static JsonNode *
json(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();

    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static void
test_cpumap(void)
{
    guint8 map[2];

    qemu_stats_cpulist_to_map("0-2,5", 4, map, 2);
    g_assert_cmphex(map[0], ==, 0x27);
    g_assert_cmphex(map[1], ==, 0);
    /* No list: every host CPU. */
    qemu_stats_cpulist_to_map(NULL, 3, map, 2);
    g_assert_cmphex(map[0], ==, 0x07);
    qemu_stats_cpulist_to_map(NULL, 12, map, 2);
    g_assert_cmphex(map[0], ==, 0xff);
    g_assert_cmphex(map[1], ==, 0x0f);
    /* What does not fit the map is dropped. */
    qemu_stats_cpulist_to_map("1,9-10", 16, map, 1);
    g_assert_cmphex(map[0], ==, 0x02);
}

static void
test_memory_parse(void)
{
    g_autoptr(JsonNode) n = json(
        "{\"last-update\": 1700, \"stats\": {\"stat-swap-in\": -1, \"stat-major-faults\": 5,"
        " \"stat-free-memory\": 1048576, \"stat-total-memory\": 2097152,"
        " \"stat-htlb-pgfail\": -1}}");
    g_autoptr(JsonNode) none = json("{\"last-update\": 0, \"stats\": {\"stat-swap-in\": -1}}");
    g_autoptr(GArray) a = g_array_new(FALSE, TRUE, sizeof(remote_domain_memory_stat));
    const int tags[] = {SV_DOMAIN_MEMORY_STAT_LAST_UPDATE, SV_DOMAIN_MEMORY_STAT_MAJOR_FAULT,
                        SV_DOMAIN_MEMORY_STAT_UNUSED, SV_DOMAIN_MEMORY_STAT_AVAILABLE};
    const guint64 vals[] = {1700, 5, 1024, 2048};

    qemu_stats_memory_parse(n, a);
    g_assert_cmpuint(a->len, ==, G_N_ELEMENTS(tags));
    for (guint i = 0; i < a->len; i++) {
        g_assert_cmpint(g_array_index(a, remote_domain_memory_stat, i).tag, ==, tags[i]);
        g_assert_cmpuint(g_array_index(a, remote_domain_memory_stat, i).val, ==, vals[i]);
    }
    /* A guest without a balloon driver: only the time of the last update (never). */
    g_array_set_size(a, 0);
    qemu_stats_memory_parse(none, a);
    g_assert_cmpuint(a->len, ==, 1);
    g_assert_cmpint(g_array_index(a, remote_domain_memory_stat, 0).tag, ==,
                    SV_DOMAIN_MEMORY_STAT_LAST_UPDATE);
}

static void
test_block_sum(void)
{
    SvDomainDiskDef vda = {.info.alias = (char *)"virtio-disk0"};
    SvDomainDiskDef sda = {.info.alias = (char *)"sata0-0-0"};
    SvDomainDiskDef vdc = {.info.alias = (char *)"virtio-disk2"};
    g_autoptr(GPtrArray) disks = g_ptr_array_new();
    SvDomainDef def = {.disks = disks};
    g_autoptr(JsonNode) n = json(
        "[{\"device\": \"\", \"qdev\": \"/machine/peripheral/virtio-disk0/virtio-backend\","
        "  \"stats\": {\"rd_operations\": 3, \"rd_bytes\": 1536, \"wr_operations\": 1,"
        "  \"wr_bytes\": 512, \"flush_operations\": 1, \"rd_total_time_ns\": 100,"
        "  \"wr_total_time_ns\": 10, \"flush_total_time_ns\": 1}},"
        " {\"device\": \"\", \"qdev\": \"sata0-0-0\", \"stats\": {\"rd_operations\": 1,"
        "  \"rd_bytes\": 512}},"
        " {\"device\": \"\", \"qdev\": \"/machine/peripheral/virtio-disk00/virtio-backend\","
        "  \"stats\": {\"rd_operations\": 100}}]");
    QemuBlockStats st;

    g_ptr_array_add(disks, &vda);
    g_ptr_array_add(disks, &sda);
    g_ptr_array_add(disks, &vdc);
    g_assert_true(qemu_stats_qdev_is_disk("/machine/peripheral/virtio-disk0/virtio-backend",
                                          &vda));
    g_assert_false(qemu_stats_qdev_is_disk("/machine/peripheral/virtio-disk00/virtio-backend",
                                           &vda));
    g_assert_true(qemu_stats_block_sum(n, &def, &vda, &st));
    g_assert_cmpint(st.rd_req, ==, 3);
    g_assert_cmpint(st.rd_bytes, ==, 1536);
    g_assert_cmpint(st.wr_req, ==, 1);
    g_assert_cmpint(st.wr_bytes, ==, 512);
    g_assert_cmpint(st.flush_req, ==, 1);
    g_assert_cmpint(st.rd_total_times, ==, 100);
    g_assert_cmpint(st.wr_total_times, ==, 10);
    g_assert_cmpint(st.flush_total_times, ==, 1);
    /* Every disk of the guest, summed; a backend of no disk of its is left out. */
    g_assert_true(qemu_stats_block_sum(n, &def, NULL, &st));
    g_assert_cmpint(st.rd_req, ==, 4);
    g_assert_cmpint(st.rd_bytes, ==, 2048);
    /* A disk QEMU lists nothing for. */
    g_assert_false(qemu_stats_block_sum(n, &def, &vdc, &st));
}

static void
test_image_info(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-stats-XXXXXX", NULL);
    g_autofree char *qcow2 = g_build_filename(dir, "a.qcow2", NULL);
    g_autofree char *raw = g_build_filename(dir, "b.img", NULL);
    guint8 hdr[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    g_autoptr(GError) error = NULL;
    QemuBlockInfo info;
    int fd;

    /* Virtual size 64 MiB, big-endian at byte 24. */
    hdr[24 + 4] = 0x04;
    g_assert_true(g_file_set_contents(qcow2, (const char *)hdr, sizeof(hdr), NULL));
    g_assert_true(qemu_stats_image_info(qcow2, TRUE, &info, &error));
    g_assert_cmpuint(info.capacity, ==, 64 * 1024 * 1024);
    g_assert_cmpuint(info.physical, ==, sizeof(hdr));
    g_assert_cmpuint(info.allocation, >=, sizeof(hdr));
    /* Read as raw, the same file's size is its capacity. */
    g_assert_true(qemu_stats_image_info(qcow2, FALSE, &info, &error));
    g_assert_cmpuint(info.capacity, ==, sizeof(hdr));

    fd = open(raw, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 32 * 1024 * 1024), ==, 0);
    close(fd);
    g_assert_true(qemu_stats_image_info(raw, FALSE, &info, &error));
    g_assert_cmpuint(info.capacity, ==, 32 * 1024 * 1024);
    g_assert_cmpuint(info.physical, ==, 32 * 1024 * 1024);
    g_assert_cmpuint(info.allocation, <, 32 * 1024 * 1024); /* sparse */

    g_assert_false(qemu_stats_image_info("/nonexistent/x.img", FALSE, &info, &error));
    g_assert_nonnull(error);
    g_unlink(qcow2);
    g_unlink(raw);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-stats/cpumap", test_cpumap);
    g_test_add_func("/qemu-stats/memory-parse", test_memory_parse);
    g_test_add_func("/qemu-stats/block-sum", test_block_sum);
    g_test_add_func("/qemu-stats/image-info", test_image_info);
    return g_test_run();
}
