/* qemu_display.c: libvirt's QEMU defaults and checks for the display devices at define and
 * at start (qemu_display.h). */
#include "qemu_display.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

static gboolean
is_x86(const SvDomainDef *def)
{
    return !def->os.arch || g_str_equal(def->os.arch, "x86_64") ||
           g_str_equal(def->os.arch, "i686");
}

static gboolean
has_input(const SvDomainDef *def, SvDomainInputType type, SvDomainInputBus bus)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        const SvDomainInputDef *in = def->inputs->pdata[i];

        if (in->type == type && in->bus == bus)
            return TRUE;
    }
    return FALSE;
}

/* libvirt adds the i8042's mouse and keyboard to every x86 guest, after the others. */
static void
add_implicit_inputs(SvDomainDef *def)
{
    static const SvDomainInputType types[] = {SV_DOMAIN_INPUT_MOUSE, SV_DOMAIN_INPUT_KEYBOARD};

    if (!is_x86(def) || !g_str_equal(def->os.type, "hvm"))
        return;
    for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
        SvDomainInputDef *in;

        if (has_input(def, types[i], SV_DOMAIN_INPUT_BUS_PS2))
            continue;
        in = g_new0(SvDomainInputDef, 1);
        in->type = types[i];
        in->bus = SV_DOMAIN_INPUT_BUS_PS2;
        g_ptr_array_add(def->inputs, in);
    }
}

/* libvirt's default audio backend: none for vnc or no display, spice's own for spice; a
 * display that plays on the host (sdl) gets none, as without QEMU_AUDIO_DRV. */
static void
add_default_audio(SvDomainDef *def)
{
    /* splitvirt's <graphics type='none'/> is no display, as libvirt's absent one. */
    gboolean add = def->graphics->len == 0 ||
                   (def->graphics->len == 1 &&
                    sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_NONE));
    gboolean passthrough = FALSE;
    SvDomainAudioType type = SV_DOMAIN_AUDIO_NONE;
    SvDomainAudioDef *audio;

    if (def->audios->len > 0)
        return;
    for (guint i = 0; i < def->graphics->len; i++) {
        const SvDomainGraphicsDef *g = def->graphics->pdata[i];

        if (g->type == SV_DOMAIN_GRAPHICS_VNC || g->type == SV_DOMAIN_GRAPHICS_SPICE) {
            add = TRUE;
            passthrough = FALSE;
            type = g->type == SV_DOMAIN_GRAPHICS_SPICE ? SV_DOMAIN_AUDIO_SPICE
                                                       : SV_DOMAIN_AUDIO_NONE;
        } else if (g->type == SV_DOMAIN_GRAPHICS_SDL) {
            add = TRUE;
            passthrough = TRUE;
        }
    }
    if (!add || passthrough)
        return;
    audio = g_new0(SvDomainAudioDef, 1);
    audio->id = 1;
    audio->type = type;
    g_ptr_array_add(def->audios, audio);
}

static void
set_video_defaults(SvDomainDef *def)
{
    for (guint i = 0; i < def->videos->len; i++) {
        SvDomainVideoDef *v = def->videos->pdata[i];

        /* QEMU 7.2 on x86 has cirrus, which libvirt prefers. */
        if (v->type == SV_DOMAIN_VIDEO_DEFAULT)
            v->type = SV_DOMAIN_VIDEO_CIRRUS;
        sv_domain_video_set_defaults(v);
        if (i == 0 && v->type != SV_DOMAIN_VIDEO_NONE)
            v->primary = TRUE;
    }
}

static gboolean
unsupported(GError **error, const char *fmt, const char *what)
{
    g_autofree char *msg = g_strdup_printf(fmt, what);

    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED, "%s", msg);
    return FALSE;
}

static gboolean
check_video_size(const char *attr, guint v, gboolean pow2, GError **error)
{
    if (v < 1024)
        return unsupported(error, "value for '%s' must be at least 1 MiB (1024 KiB)", attr);
    if (pow2 && (v & (v - 1)))
        return unsupported(error, "value for '%s' must be power of two", attr);
    return TRUE;
}

static gboolean
check_video(const SvDomainVideoDef *v, GError **error)
{
    const char *type = sv_domain_video_type_to_string(v->type);
    gboolean vga_like = v->type == SV_DOMAIN_VIDEO_VGA || v->type == SV_DOMAIN_VIDEO_CIRRUS ||
                        v->type == SV_DOMAIN_VIDEO_VMVGA || v->type == SV_DOMAIN_VIDEO_QXL;

    if (v->type != SV_DOMAIN_VIDEO_QXL && v->type != SV_DOMAIN_VIDEO_VIRTIO &&
        v->type != SV_DOMAIN_VIDEO_NONE) {
        if (v->heads > 1)
            return unsupported(error, "video type '%s' doesn't support multiple 'heads'", type);
        if (!v->primary)
            return unsupported(error, "video type '%s' is only valid as primary video device",
                               type);
    }
    if (v->type == SV_DOMAIN_VIDEO_QXL && !check_video_size("vgamem", v->vgamem, TRUE, error))
        return FALSE;
    if (vga_like && !check_video_size("vram", v->vram, FALSE, error))
        return FALSE;
    if (v->type == SV_DOMAIN_VIDEO_XEN || v->type == SV_DOMAIN_VIDEO_VBOX ||
        v->type == SV_DOMAIN_VIDEO_PARALLELS || v->type == SV_DOMAIN_VIDEO_GOP)
        return unsupported(error, "video type '%s' is not supported with QEMU", type);
    return TRUE;
}

gboolean
qemu_display_check_graphics(const SvDomainGraphicsDef *g, GError **error)
{
    if (g->type == SV_DOMAIN_GRAPHICS_RDP || g->type == SV_DOMAIN_GRAPHICS_DESKTOP)
        return unsupported(error, "%s graphics are not supported with this QEMU",
                           sv_domain_graphics_type_to_string(g->type));
    if (g->type == SV_DOMAIN_GRAPHICS_SPICE && g->tls_port > 0)
        return unsupported(error, "%sspice TLS port set in XML configuration, but TLS is "
                                  "disabled in qemu.conf", "");
    if (g->type == SV_DOMAIN_GRAPHICS_VNC && g->passwd && strlen(g->passwd) > 8) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "VNC password is %zu characters long, only 8 permitted",
                     strlen(g->passwd));
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_define(const SvDomainDef *def, GError **error)
{
    gboolean spice = sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_SPICE) != NULL;

    for (guint i = 0; i < def->graphics->len; i++) {
        if (!qemu_display_check_graphics(def->graphics->pdata[i], error))
            return FALSE;
    }
    if (sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_EGL_HEADLESS)) {
        for (guint i = 0; i < def->graphics->len; i++) {
            SvDomainGraphicsType t = ((SvDomainGraphicsDef *)def->graphics->pdata[i])->type;

            if (t != SV_DOMAIN_GRAPHICS_EGL_HEADLESS && t != SV_DOMAIN_GRAPHICS_VNC &&
                t != SV_DOMAIN_GRAPHICS_SPICE)
                return unsupported(error, "graphics type 'egl-headless' is only supported with "
                                          "one of: %s graphics types", "'vnc', 'spice'");
        }
    }
    for (guint i = 0; i < def->videos->len; i++) {
        if (!check_video(def->videos->pdata[i], error))
            return FALSE;
    }
    for (guint i = 0; i < def->audios->len; i++) {
        if (((SvDomainAudioDef *)def->audios->pdata[i])->type == SV_DOMAIN_AUDIO_SPICE && !spice)
            return unsupported(error, "%sSpice audio is not supported without spice graphics",
                               "");
    }
    if (def->redirdevs->len && !spice)
        return unsupported(error, "chardev '%s' not supported without spice graphics",
                           "spicevmc");
    return TRUE;
}

gboolean
qemu_display_post_parse(SvDomainDef *def, GError **error)
{
    add_implicit_inputs(def);
    set_video_defaults(def);
    add_default_audio(def);
    return check_define(def, error);
}

static gboolean
check_graphics_start(const SvDomainGraphicsDef *g, GError **error)
{
    const SvDomainGraphicsListenDef *l = g->listens->len ? g->listens->pdata[0] : NULL;

    switch (g->type) {
    case SV_DOMAIN_GRAPHICS_EGL_HEADLESS:
        /* As libvirt, which looks for a render node first. */
        if (!g_file_test("/dev/dri", G_FILE_TEST_IS_DIR)) {
            sv_error_set_errno(error, SV_FROM_NONE, ENOENT, "cannot open directory '%s'",
                               "/dev/dri");
            return FALSE;
        }
        return unsupported(error, "%s graphics are not supported by splitvirt", "egl-headless");
    case SV_DOMAIN_GRAPHICS_SDL:
    case SV_DOMAIN_GRAPHICS_DBUS:
        return unsupported(error, "%s graphics are not supported by splitvirt",
                           sv_domain_graphics_type_to_string(g->type));
    default:
        break;
    }
    if (g->listens->len > 1)
        return unsupported(error, "%s", "QEMU does not support multiple listens for one "
                                        "graphics device");
    if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_NETWORK)
        return unsupported(error, "%s", "graphics listen type 'network' needs the network "
                                        "driver, which splitvirt does not have yet");
    if (g->type == SV_DOMAIN_GRAPHICS_VNC && !g->autoport && (g->port < 5900 || g->port > 65535))
        return unsupported(error, "%s", "vnc port must be in range [5900,65535]");
    return TRUE;
}

gboolean
qemu_display_check_prepared(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        const SvDomainGraphicsDef *g = def->graphics->pdata[i];
        const SvDomainGraphicsListenDef *l = g->listens->len ? g->listens->pdata[0] : NULL;

        if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET && !l->socket)
            return unsupported(error, "%s", "a graphics socket has no path: "
                                            "qemu_display_prepare() gives it one");
    }
    return TRUE;
}

gboolean
qemu_display_check_start(const SvDomainDef *def, GError **error)
{
    guint seen = 0;

    for (guint i = 0; i < def->graphics->len; i++) {
        const SvDomainGraphicsDef *g = def->graphics->pdata[i];

        if (seen & (1u << g->type))
            return unsupported(error, "%s", "only 1 graphics device of each type (sdl, vnc, "
                                            "spice, headless, dbus) is supported");
        seen |= 1u << g->type;
        if (!check_graphics_start(g, error))
            return FALSE;
    }
    for (guint i = 0; i < def->audios->len; i++) {
        const SvDomainAudioDef *a = def->audios->pdata[i];

        if (a->type != SV_DOMAIN_AUDIO_NONE && a->type != SV_DOMAIN_AUDIO_SPICE)
            return unsupported(error, "audio type '%s' is not supported by splitvirt",
                               sv_domain_audio_type_to_string(a->type));
    }
    for (guint i = 0; i < def->sounds->len; i++) {
        const SvDomainSoundDef *s = def->sounds->pdata[i];

        if (s->model == SV_DOMAIN_SOUND_PCSPK || s->model == SV_DOMAIN_SOUND_ICH7)
            return unsupported(error, "sound model '%s' is not supported by splitvirt",
                               sv_domain_sound_model_to_string(s->model));
    }
    return TRUE;
}

/* ---- at start and stop -------------------------------------------------------------------- */

/* qemu.conf's vnc_listen and spice_listen. */
#define DEFAULT_LISTEN "127.0.0.1"

static gboolean
has_port(const SvDomainGraphicsDef *g)
{
    const SvDomainGraphicsListenDef *l = g->listens->len ? g->listens->pdata[0] : NULL;

    return (g->type == SV_DOMAIN_GRAPHICS_VNC || g->type == SV_DOMAIN_GRAPHICS_SPICE) &&
           (!l || l->type == SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS ||
            l->type == SV_DOMAIN_GRAPHICS_LISTEN_NETWORK);
}

/* Take the ports a start gives one display, or the ones its definition names. */
static gboolean
prepare_ports(SvDomainGraphicsDef *g, QemuPorts *ports, QemuPorts *websockets, GError **error)
{
    guint port;
    int rc;

    if (g->type == SV_DOMAIN_GRAPHICS_VNC && g->websocket == -1) {
        if (!qemu_ports_acquire(websockets, &port, error))
            return FALSE;
        g->websocket = (int)port;
        g->websocket_reserved = TRUE;
    } else if (g->type == SV_DOMAIN_GRAPHICS_VNC && g->websocket > 0) {
        if ((rc = qemu_ports_reserve(websockets, (guint)g->websocket, error)) < 0)
            return FALSE;
        g->websocket_reserved = rc > 0;
    }
    if (!has_port(g))
        return TRUE;
    /* Spice's port='-1' asks for a port too (autoport stays as written, as libvirt's). */
    if ((g->autoport && g->port <= 0) || g->port == -1) {
        if (!qemu_ports_acquire(ports, &port, error))
            return FALSE;
        g->port = (int)port;
        g->port_reserved = TRUE;
    } else if (g->port > 0) {
        if ((rc = qemu_ports_reserve(ports, (guint)g->port, error)) < 0)
            return FALSE;
        g->port_reserved = rc > 0;
    }
    return TRUE;
}

gboolean
qemu_display_prepare(SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets, const char *dir,
                     GError **error)
{
    for (guint i = 0; i < live->graphics->len; i++) {
        SvDomainGraphicsDef *g = live->graphics->pdata[i];
        SvDomainGraphicsListenDef *l = g->listens->len ? g->listens->pdata[0] : NULL;

        if (g->type != SV_DOMAIN_GRAPHICS_VNC && g->type != SV_DOMAIN_GRAPHICS_SPICE)
            continue;
        if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS && !l->address)
            l->address = g_strdup(DEFAULT_LISTEN);
        if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET && !l->socket)
            l->socket = g_strdup_printf("%s/%s.sock", dir,
                                        sv_domain_graphics_type_to_string(g->type));
        if (!prepare_ports(g, ports, websockets, error))
            return FALSE;
    }
    return TRUE;
}

void
qemu_display_release(const SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets)
{
    for (guint i = 0; i < live->graphics->len; i++) {
        const SvDomainGraphicsDef *g = live->graphics->pdata[i];

        if (g->port_reserved)
            qemu_ports_release(ports, (guint)g->port);
        if (g->websocket_reserved)
            qemu_ports_release(websockets, (guint)g->websocket);
    }
}

void
qemu_display_remove_sockets(const SvDomainDef *live, const char *dir)
{
    g_autofree char *prefix = g_strconcat(dir, "/", NULL);

    for (guint i = 0; i < live->graphics->len; i++) {
        const SvDomainGraphicsDef *g = live->graphics->pdata[i];
        const SvDomainGraphicsListenDef *l = g->listens->len ? g->listens->pdata[0] : NULL;

        if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET && l->socket &&
            g_str_has_prefix(l->socket, prefix) && !strchr(l->socket + strlen(prefix), '/'))
            unlink(l->socket);
    }
}

void
qemu_display_reserve(SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets)
{
    for (guint i = 0; i < live->graphics->len; i++) {
        SvDomainGraphicsDef *g = live->graphics->pdata[i];

        if (has_port(g) && g->port > 0) {
            qemu_ports_set_used(ports, (guint)g->port);
            g->port_reserved = TRUE;
        }
        if (g->type == SV_DOMAIN_GRAPHICS_VNC && g->websocket > 0) {
            qemu_ports_set_used(websockets, (guint)g->websocket);
            g->websocket_reserved = TRUE;
        }
    }
}

/* passwdValidTo (UTC) as QEMU's expire_password takes it: seconds since the epoch, or
 * "never". */
static char *
expire_time(const SvDomainGraphicsDef *g)
{
    g_autofree char *iso = NULL;
    g_autoptr(GDateTime) t = NULL;

    if (!g->passwd_valid_to)
        return g_strdup("never");
    iso = g_strconcat(g->passwd_valid_to, "Z", NULL);
    t = g_date_time_new_from_iso8601(iso, NULL);
    return t ? g_strdup_printf("%" G_GINT64_FORMAT, g_date_time_to_unix(t)) : g_strdup("never");
}

gboolean
qemu_display_set_passwords(QemuMonitor *mon, const SvDomainDef *def, QemuMonitorReplyFunc done,
                           gpointer data)
{
    gboolean sent = FALSE;

    for (guint i = 0; i < def->graphics->len; i++) {
        const SvDomainGraphicsDef *g = def->graphics->pdata[i];
        const char *protocol = sv_domain_graphics_type_to_string(g->type);
        g_autofree char *when = NULL;
        JsonObject *args;

        if (!g->passwd ||
            (g->type != SV_DOMAIN_GRAPHICS_VNC && g->type != SV_DOMAIN_GRAPHICS_SPICE))
            continue;
        args = json_object_new();
        json_object_set_string_member(args, "protocol", protocol);
        json_object_set_string_member(args, "password", g->passwd);
        if (g->connected)
            json_object_set_string_member(args, "connected", g->connected);
        qemu_monitor_command(mon, "set_password", args, done, data);
        when = expire_time(g);
        args = json_object_new();
        json_object_set_string_member(args, "protocol", protocol);
        json_object_set_string_member(args, "time", when);
        qemu_monitor_command(mon, "expire_password", args, done, data);
        sent = TRUE;
    }
    return sent;
}
