/* qemu_media.c: a running guest's cdrom or floppy medium changed, inserted or ejected, as
 * libvirt 9.0 does it for QEMU 7.2 with -blockdev (qemuDomainChangeEjectableMedia): QMP
 * blockdev-open-tray, blockdev-remove-medium, blockdev-add of the new image's storage and
 * format nodes (named as a start names them), blockdev-insert-medium, blockdev-close-tray.
 * QEMU's DEVICE_TRAY_MOVED events give the TRAY_CHANGE events (qemu_tray.c). */
#include "qemu_media.h"

#include "qemu_argv.h"
#include "qemu_command_disk.h"
#include "qemu_hotplug.h"
#include "qemu_monitor.h"
#include "util/error.h"

static gboolean
field_refused(const char *field, GError **error)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "cannot modify field '%s' of the disk", field);
    return FALSE;
}

/* An enum field given (not 0, the default) and different. */
#define CHANGED(field) (new->field && new->field != old->field)
#define STR_CHANGED(field) (new->field && g_strcmp0(new->field, old->field) != 0)

gboolean
qemu_media_check(const SvDomainDiskDef *old, const SvDomainDiskDef *new, gboolean *change,
                 GError **error)
{
    if (new->device != old->device)
        return field_refused("device", error);
    if (new->bus != old->bus)
        return field_refused("bus", error);
    if (CHANGED(cache))
        return field_refused("cache", error);
    if (CHANGED(error_policy))
        return field_refused("error_policy", error);
    if (CHANGED(rerror_policy))
        return field_refused("rerror_policy", error);
    if (CHANGED(io))
        return field_refused("io", error);
    if (STR_CHANGED(serial))
        return field_refused("serial", error);
    if (STR_CHANGED(wwn))
        return field_refused("wwn", error);
    if (CHANGED(discard))
        return field_refused("discard", error);
    if (CHANGED(detect_zeroes))
        return field_refused("detect_zeroes", error);
    *change = new->type != old->type || g_strcmp0(new->source, old->source) != 0 ||
              new->protocol != old->protocol || g_strcmp0(new->net_name, old->net_name) != 0 ||
              new->hosts->len != old->hosts->len ||
              g_strcmp0(new->vol_pool, old->vol_pool) != 0 ||
              g_strcmp0(new->vol_name, old->vol_name) != 0;
    if (*change && old->device != SV_DOMAIN_DISK_DEVICE_CDROM &&
        old->device != SV_DOMAIN_DISK_DEVICE_FLOPPY) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "disk source can be changed only in removable drives");
        return FALSE;
    }
    /* A volume is resolved before (qemu_update.c), as libvirt translates it first. */
    g_return_val_if_fail(!sv_domain_disk_vol_unresolved(new), FALSE);
    return TRUE;
}

/* A medium change under way: the QMP steps left. */
typedef struct {
    GPtrArray *steps; /* of JsonObject {"execute", "arguments"} */
    guint next;
    GPtrArray *added; /* node names blockdev-add made, to delete on failure */
    QemuMediaDone done;
    gpointer data;
} Change;

static void
change_free(Change *c)
{
    g_ptr_array_unref(c->steps);
    g_ptr_array_unref(c->added);
    g_free(c);
}

/* A tray or medium command on the drive of qdev id `alias`. (transfer full) */
static JsonObject *
step_new(const char *cmd, const char *alias)
{
    return qemu_json_command1(cmd, "id", alias);
}

static void change_next(QemuMonitor *mon, Change *c);

static void
change_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    Change *c = data;
    JsonObject *step = c->steps->pdata[c->next - 1];

    (void)ret;
    if (error) {
        /* The new image's nodes deleted again, newest first. */
        for (guint i = c->added->len; i > 0; i--) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "node-name", c->added->pdata[i - 1]);
            qemu_monitor_command(mon, "blockdev-del", args, NULL, NULL);
        }
        c->done(error, c->data);
        change_free(c);
        return;
    }
    if (g_str_equal(json_object_get_string_member(step, "execute"), "blockdev-add"))
        g_ptr_array_add(c->added,
                        g_strdup(json_object_get_string_member(
                            json_object_get_object_member(step, "arguments"), "node-name")));
    change_next(mon, c);
}

static void
change_next(QemuMonitor *mon, Change *c)
{
    JsonObject *step;

    if (c->next == c->steps->len) {
        c->done(NULL, c->data);
        change_free(c);
        return;
    }
    step = c->steps->pdata[c->next++];
    qemu_hotplug_send_step(mon, step, change_replied, c);
}

void
qemu_media_change(QemuMonitor *mon, const char *alias, const SvDomainDiskDef *new,
                  gboolean force, QemuMediaDone done, gpointer data)
{
    Change *c = g_new0(Change, 1);
    JsonObject *open = step_new("blockdev-open-tray", alias);

    json_object_set_boolean_member(json_object_get_object_member(open, "arguments"), "force",
                                   force);
    c->done = done;
    c->data = data;
    c->added = g_ptr_array_new_with_free_func(g_free);
    c->steps = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_ptr_array_add(c->steps, open);
    g_ptr_array_add(c->steps, step_new("blockdev-remove-medium", alias));
    if (!sv_domain_disk_is_empty(new)) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) adds = NULL;
        g_autofree char *top = g_strdup_printf("libvirt-%u-format", new->source_index);
        JsonObject *insert = step_new("blockdev-insert-medium", alias);

        qemu_command_build_disk_nodes(new, argv);
        adds = qemu_hotplug_steps(argv);
        for (guint i = 0; i < adds->len; i++)
            g_ptr_array_add(c->steps, json_object_ref(adds->pdata[i]));
        json_object_set_string_member(json_object_get_object_member(insert, "arguments"),
                                      "node-name", top);
        g_ptr_array_add(c->steps, insert);
    }
    g_ptr_array_add(c->steps, step_new("blockdev-close-tray", alias));
    change_next(mon, c);
}

void
qemu_media_apply(SvDomainDiskDef *live, SvDomainDiskDef *new)
{
    GPtrArray *hosts = live->hosts;
    gboolean empty = sv_domain_disk_is_empty(new);

    g_free(live->source);
    live->source = g_steal_pointer(&new->source);
    live->type = new->type;
    /* A volume medium's names and what they resolved to. */
    g_free(live->vol_pool);
    live->vol_pool = g_steal_pointer(&new->vol_pool);
    g_free(live->vol_name);
    live->vol_name = g_steal_pointer(&new->vol_name);
    live->vol_mode = new->vol_mode;
    live->vol_actual_type = new->vol_actual_type;
    /* A network medium's: its protocol, name, query and hosts. */
    live->protocol = new->protocol;
    g_free(live->net_name);
    live->net_name = g_steal_pointer(&new->net_name);
    g_free(live->net_query);
    live->net_query = g_steal_pointer(&new->net_query);
    live->hosts = new->hosts;
    new->hosts = hosts;
    live->source_index = new->source_index;
    live->startup_policy = new->startup_policy;
    g_ptr_array_set_size(live->backing, 0);
    /* As libvirt shows it: the format given (an ejected medium's too), a raw image's chain
     * ended. */
    live->format = new->format;
    live->backing_end = !empty && live->format == SV_DOMAIN_DISK_FORMAT_RAW;
}
