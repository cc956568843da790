/* qemu_tray.c: a cdrom's or floppy's tray opened or closed in QEMU (its DEVICE_TRAY_MOVED
 * event: the guest ejected the medium, or a monitor command moved the tray), as libvirt 9.0
 * follows it: the disk's <target tray='open'/> in the live XML and the status file, and a
 * TRAY_CHANGE event (OPEN or CLOSE, with the disk's alias) in both registration forms. */
#include "qemu_tray.h"

#include "domain/domain_driver.h"
#include "qemu_monitor.h"

typedef struct {
    remote_nonnull_domain dom;
    const char *alias;
    int reason;
} TrayEvent;

static void
send_tray_change(SvClient *c, int callback_id, gpointer data)
{
    const TrayEvent *e = data;
    remote_domain_event_tray_change_msg m = {e->dom, (char *)e->alias, e->reason};

    if (callback_id) {
        remote_domain_event_callback_tray_change_msg cm = {callback_id, m};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE,
                             (xdrproc_t)xdr_remote_domain_event_callback_tray_change_msg, &cm);
    } else {
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_DOMAIN_EVENT_TRAY_CHANGE,
                             (xdrproc_t)xdr_remote_domain_event_tray_change_msg, &m);
    }
}

/* The removable disk QEMU names by its device id (libvirt's alias), or NULL. */
static SvDomainDiskDef *
find_removable(SvDomainDef *def, const char *id)
{
    for (guint i = 0; id && i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_strcmp0(d->info.alias, id) == 0 && (d->device == SV_DOMAIN_DISK_DEVICE_CDROM ||
                                                  d->device == SV_DOMAIN_DISK_DEVICE_FLOPPY))
            return d;
    }
    return NULL;
}

void
qemu_tray_moved(SvDomainObj *obj, JsonObject *data)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    SvDomainDiskDef *disk = data ? find_removable(obj->def, qemu_json_string(data, "id")) : NULL;
    TrayEvent e;

    if (!disk)
        return;
    disk->tray_open = qemu_json_bool(data, "tray-open", FALSE);
    sv_domain_driver_save_status(drv, obj);
    sv_domain_obj_to_remote(obj, &e.dom);
    e.alias = disk->info.alias;
    e.reason = disk->tray_open ? SV_DOMAIN_EVENT_TRAY_CHANGE_OPEN
                               : SV_DOMAIN_EVENT_TRAY_CHANGE_CLOSE;
    sv_remote_emit_event(drv->server, SV_DOMAIN_EVENT_ID_TRAY_CHANGE, obj->def->uuid,
                         send_tray_change, &e);
    g_free(e.dom.name);
}
