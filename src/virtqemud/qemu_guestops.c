/* qemu_guestops.c: keys and an NMI sent to a running guest (qemu_guestops.h), as libvirt
 * 9.0's qemuDomainSendKey and qemuDomainInjectNMI: the arguments checked as
 * virDomainSendKey checks them, the key codes translated to QEMU's numbers (qnum) before
 * the lookup, "domain is not running" for an inactive guest, then one QMP command whose
 * reply answers the call. */
#include "qemu_guestops.h"

#include <unistd.h>

#include "domain/domain_keys.h"
#include "qemu_command_disk.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "rpc/stream.h"
#include "util/error.h"

void
qemu_guestops_answer_call(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvCall *call = data;

    (void)mon;
    (void)ret;
    if (error)
        sv_call_fail(call, g_error_copy(error));
    else
        sv_call_reply(call, NULL);
}

QemuMonitor *
qemu_guestops_monitor(SvDomainDriver *drv, const remote_nonnull_domain *dom, GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(drv, dom, error);
    QemuDomain *priv;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return NULL;
    priv = qemu_domain_of(obj);
    if (!priv || !priv->mon || qemu_monitor_is_closed(priv->mon)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return priv->mon;
}

/* QMP send-key's "keys": each code as a qnum number, translated from codeset. */
static JsonArray *
qnum_keys(guint codeset, const guint *codes, guint n, GError **error)
{
    g_autoptr(JsonArray) keys = json_array_new();

    for (guint i = 0; i < n; i++) {
        int qnum = codes[i];
        JsonObject *key;

        if (codeset != SV_KEYCODE_SET_QNUM &&
            (qnum = sv_keycode_translate(codeset, SV_KEYCODE_SET_QNUM, codes[i])) < 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "cannot translate keycode %u of %s codeset to qnum keycode", codes[i],
                         sv_keycode_set_name(codeset));
            return NULL;
        }
        key = json_object_new();
        json_object_set_string_member(key, "type", "number");
        json_object_set_int_member(key, "data", qnum);
        json_array_add_object_element(keys, key);
    }
    return g_steal_pointer(&keys);
}

static gboolean
send_key(SvCall *call, remote_domain_send_key_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(JsonArray) keys = NULL;
    QemuMonitor *mon;
    JsonObject *args;

    if (!sv_domain_send_key_check(a->codeset, a->keycodes.keycodes_len, error) ||
        !sv_domain_driver_check_flags(drv, a->flags, 0, "DomainSendKey", error))
        return FALSE;
    keys = qnum_keys(a->codeset, a->keycodes.keycodes_val, a->keycodes.keycodes_len, error);
    if (!keys || !(mon = qemu_guestops_monitor(drv, &a->dom, error)))
        return FALSE;
    args = json_object_new();
    json_object_set_array_member(args, "keys", g_steal_pointer(&keys));
    if (a->holdtime) /* as libvirt: QEMU's default hold time when none is given */
        json_object_set_int_member(args, "hold-time", a->holdtime);
    qemu_monitor_command(mon, "send-key", args, qemu_guestops_answer_call, sv_call_defer(call));
    return TRUE;
}

static gboolean
inject_nmi(SvCall *call, remote_domain_inject_nmi_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    QemuMonitor *mon;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainInjectNMI", error) ||
        !(mon = qemu_guestops_monitor(drv, &a->dom, error)))
        return FALSE;
    qemu_monitor_command(mon, "inject-nmi", NULL, qemu_guestops_answer_call, sv_call_defer(call));
    return TRUE;
}

/* ---------------------------------------------------------------- screenshot */

/* A screenshot under way: QMP screendump to a file in the guest's directory, then the file's
 * bytes on the stream. Held by the monitor command and by the stream, each dropping its
 * reference when done (the client may end the stream or go away first). */
typedef struct {
    guint refs;
    SvCall *call; /* deferred */
    SvStream *st; /* NULL once the stream is closed */
    char *path;
} Shot;

static void
shot_unref(Shot *shot)
{
    if (--shot->refs)
        return;
    g_free(shot->path);
    g_free(shot);
}

static void
shot_stream_closed(SvStream *st, gboolean aborted, gpointer user)
{
    Shot *shot = user;

    (void)st;
    (void)aborted;
    shot->st = NULL;
    shot_unref(shot);
}

static void
shot_stream_recv(SvStream *st, const guint8 *data, gsize len, gpointer user)
{
    (void)st; /* a download: the client sends nothing but its end */
    (void)data;
    (void)len;
    (void)user;
}

static void
screendump_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    Shot *shot = data;
    g_autofree char *image = NULL;
    g_autoptr(GError) e = NULL;
    gsize len = 0;
    char *mime = (char *)"image/png";
    remote_domain_screenshot_ret reply = {&mime};

    (void)mon;
    (void)ret;
    /* The image QEMU just wrote, small and local (libvirt streams the same file). */
    if (!error && !g_file_get_contents(shot->path, &image, &len, NULL))
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "unable to open '%s'",
                     shot->path);
    unlink(shot->path);
    if (error || e) {
        sv_call_fail(shot->call, error ? g_error_copy(error) : g_steal_pointer(&e));
    } else {
        sv_call_reply(shot->call, &reply);
        if (shot->st) {
            sv_stream_send(shot->st, (const guint8 *)image, len);
            sv_stream_send_eof(shot->st);
        }
    }
    shot_unref(shot);
}

/* libvirt's choice of the screen: none without a video device; screen N counts the heads of
 * the videos in order (device, head), and one beyond them is refused. NULL device: the
 * primary one. */
static gboolean
pick_screen(const SvDomainDef *def, guint screen, const char **device, guint *head,
            GError **error)
{
    *device = NULL;
    if (def->videos->len == 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "no screens to take screenshot from");
        return FALSE;
    }
    if (screen == 0)
        return TRUE;
    for (guint i = 0; i < def->videos->len; i++) {
        const SvDomainVideoDef *v = def->videos->pdata[i];

        if (screen < v->heads) {
            *device = v->info.alias;
            *head = screen;
            return TRUE;
        }
        screen -= v->heads;
    }
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "no such screen ID");
    return FALSE;
}

static gboolean
screenshot(SvCall *call, remote_domain_screenshot_args *a, remote_domain_screenshot_ret *r,
           GError **error)
{
    static guint serial;
    SvStreamCallbacks cb = {.recv = shot_stream_recv, .closed = shot_stream_closed};
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const char *device;
    guint head = 0;
    QemuMonitor *mon;
    SvDomainObj *obj;
    JsonObject *args;
    Shot *shot;

    (void)r;
    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainScreenshot", error) ||
        !(mon = qemu_guestops_monitor(drv, &a->dom, error)))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!pick_screen(obj->def, a->screen, &device, &head, error))
        return FALSE;
    shot = g_new0(Shot, 1);
    shot->refs = 2;
    shot->path = g_strdup_printf("%s/screendump-%u.png", qemu_domain_of(obj)->dir, ++serial);
    /* The stream exists before the reply; its data follows the reply. */
    shot->st = sv_stream_new(call, &cb, shot);
    shot->call = sv_call_defer(call);
    args = json_object_new();
    json_object_set_string_member(args, "filename", shot->path);
    if (device) {
        json_object_set_string_member(args, "device", device);
        json_object_set_int_member(args, "head", head);
    }
    json_object_set_string_member(args, "format", "png");
    qemu_monitor_command(mon, "screendump", args, screendump_replied, shot);
    return TRUE;
}

/* ---------------------------------------------------------------- block resize */

/* A disk by target name or source path, as libvirt's virDomainDiskByName; its index. */
static gboolean
disk_index(const SvDomainDef *def, const char *name, guint *index)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_str_equal(d->target_dev, name) || (d->source && g_str_equal(d->source, name))) {
            *index = i;
            return TRUE;
        }
    }
    return FALSE;
}

/* libvirt's size in bytes, before the lookup: KiB unless BYTES. */
static gboolean
resize_bytes(guint64 size, guint flags, guint64 *bytes, GError **error)
{
    if (!(flags & SV_DOMAIN_BLOCK_RESIZE_BYTES)) {
        if (size > G_MAXUINT64 / 1024) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OVERFLOW,
                         "size must be less than %" G_GUINT64_FORMAT, G_MAXUINT64 / 1024);
            return FALSE;
        }
        size *= 1024;
    }
    *bytes = size;
    return TRUE;
}

/* QMP block_resize on the disk's format node (libvirt-N-format, N its image's node index). */
static gboolean
block_resize(SvCall *call, remote_domain_block_resize_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvDomainDiskDef *disk;
    g_autofree char *node = NULL;
    QemuMonitor *mon;
    SvDomainObj *obj;
    JsonObject *args;
    guint64 bytes;
    guint i;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_BLOCK_RESIZE_BYTES,
                                      "DomainBlockResize", error) ||
        !resize_bytes(a->size, a->flags, &bytes, error) ||
        !(mon = qemu_guestops_monitor(drv, &a->dom, error)))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!disk_index(obj->def, a->disk, &i)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "disk '%s' was not found in the domain config", a->disk);
        return FALSE;
    }
    disk = obj->def->disks->pdata[i];
    if (sv_domain_disk_is_empty(disk) || disk->readonly) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "can't resize empty or readonly disk '%s'", a->disk);
        return FALSE;
    }
    /* qcow2 and qed images grow by 512-byte sectors: rounded up, as libvirt. */
    if ((disk->format == SV_DOMAIN_DISK_FORMAT_QCOW2 ||
         disk->format == SV_DOMAIN_DISK_FORMAT_QED) && bytes % 512)
        bytes += 512 - bytes % 512;
    node = g_strdup_printf("libvirt-%u-format",
                           disk->source_index ? disk->source_index
                                              : qemu_disk_node_index(obj->def, i));
    args = json_object_new();
    json_object_set_string_member(args, "node-name", node);
    json_object_set_int_member(args, "size", (gint64)bytes);
    qemu_monitor_command(mon, "block_resize", args, qemu_guestops_answer_call, sv_call_defer(call));
    return TRUE;
}

void
qemu_guestops_install(SvRemoteHandlers *h)
{
    h->domain_send_key = send_key;
    h->domain_inject_nmi = inject_nmi;
    h->domain_screenshot = screenshot;
    h->domain_block_resize = block_resize;
}
