/* qemu_command_fs.c: the QEMU command line of <filesystem> devices (9p and virtiofs), as
 * libvirt 9.0 writes it for QEMU 7.2 (qemu_virtiofs.h). */
#include "qemu_virtiofs.h"

#include "qemu_argv.h"
#include "qemu_command_platform.h"

/* libvirt's keys, in its order: driver, id, chardev, queue-size, tag, bootindex, then the
 * PCI place. */
static void build_virtiofs(const SvDomainDef *def, const SvDomainFsDef *fs, GPtrArray *argv)
{
    g_autofree char *chardev = g_strconcat("chr-vu-", fs->info.alias, NULL);
    g_autofree char *path = qemu_argv_escape(fs->vhost_socket);
    SvDomainDeviceInfo place = fs->info;
    JsonObject *o = qemu_props_new("vhost-user-fs-pci");
    guint boot = qemu_platform_boot_index(def, &fs->info);

    qemu_argv_add(argv, "-chardev");
    qemu_argv_addf(argv, "socket,id=%s,path=%s", chardev, path);
    qemu_props_str(o, "id", fs->info.alias);
    qemu_props_str(o, "chardev", chardev);
    if (fs->queue)
        qemu_props_int(o, "queue-size", (gint64)fs->queue);
    qemu_props_str(o, "tag", fs->target_dir);
    if (boot)
        qemu_props_int(o, "bootindex", boot);
    place.alias = NULL;
    place.boot_order = 0;
    qemu_props_device_info(o, def, &place);
    qemu_argv_add_json(argv, "-device", o);
}

/* -fsdev has no JSON form: libvirt's option string, in its order, with the directory and
 * the id escaped for QEMU's option syntax. QEMU 7.2 has no "handle" backend any more; as
 * libvirt, it is written anyway and QEMU refuses it at start. */
static void build_fsdev(const SvDomainFsDef *fs, GPtrArray *argv)
{
    static const char *const security_model[] = {"passthrough", "mapped", "none"};
    g_autoptr(GString) opt = g_string_new(NULL);
    g_autofree char *id = qemu_argv_escape(fs->info.alias);
    g_autofree char *path = qemu_argv_escape(fs->source_dir);

    G_STATIC_ASSERT(G_N_ELEMENTS(security_model) == SV_DOMAIN_FS_ACCESS_LAST);
    if (fs->driver == SV_DOMAIN_FS_DRIVER_HANDLE) {
        g_string_append(opt, "handle");
    } else {
        g_string_append_printf(opt, "local,security_model=%s", security_model[fs->accessmode]);
        if (fs->multidevs)
            g_string_append_printf(opt, ",multidevs=%s",
                                   sv_domain_fs_multidevs_to_string(fs->multidevs));
        if (fs->fmode)
            g_string_append_printf(opt, ",fmode=%04o", fs->fmode);
        if (fs->dmode)
            g_string_append_printf(opt, ",dmode=%04o", fs->dmode);
    }
    if (fs->wrpolicy == SV_DOMAIN_FS_WRPOLICY_IMMEDIATE)
        g_string_append(opt, ",writeout=immediate");
    g_string_append_printf(opt, ",id=fsdev-%s,path=%s", id, path);
    if (fs->readonly)
        g_string_append(opt, ",readonly");
    qemu_argv_add(argv, "-fsdev");
    qemu_argv_add(argv, opt->str);
}

/* libvirt's keys, in its order: driver, id, fsdev, mount_tag, then the PCI place. */
static void build_9p(const SvDomainDef *def, const SvDomainFsDef *fs, GPtrArray *argv)
{
    static const char *const drivers[] = {"virtio-9p-pci", "virtio-9p-pci",
                                          "virtio-9p-pci-transitional",
                                          "virtio-9p-pci-non-transitional"};
    g_autofree char *fsdev = g_strconcat("fsdev-", fs->info.alias, NULL);
    SvDomainDeviceInfo place = fs->info;
    JsonObject *o;

    G_STATIC_ASSERT(G_N_ELEMENTS(drivers) == SV_DOMAIN_FS_MODEL_LAST);
    build_fsdev(fs, argv);
    o = qemu_props_new(drivers[fs->model]);
    qemu_props_str(o, "id", fs->info.alias);
    qemu_props_str(o, "fsdev", fsdev);
    qemu_props_str(o, "mount_tag", fs->target_dir);
    place.alias = NULL;
    place.boot_order = 0; /* refused at define for 9p */
    qemu_props_device_info(o, def, &place);
    qemu_argv_add_json(argv, "-device", o);
}

void qemu_command_build_filesystems(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];

        if (fs->driver == SV_DOMAIN_FS_DRIVER_VIRTIOFS) {
            if (fs->vhost_socket)
                build_virtiofs(def, fs, argv);
        } else {
            build_9p(def, fs, argv);
        }
    }
}
