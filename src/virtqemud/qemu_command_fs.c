/* qemu_command_fs.c: the QEMU command line of <filesystem> devices (virtiofs), as libvirt
 * 9.0 writes it for QEMU 7.2 (qemu_virtiofs.h). */
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

void qemu_command_build_filesystems(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];

        /* Anything else was refused at define (qemu_fs_check_def). */
        if (fs->driver == SV_DOMAIN_FS_DRIVER_VIRTIOFS && fs->vhost_socket)
            build_virtiofs(def, fs, argv);
    }
}
