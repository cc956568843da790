/* qemu_command_display.c: the display devices on QEMU's command line, as libvirt 9.0 writes
 * them for QEMU 7.2 (qemu_display.h). */
#include <string.h>

#include "qemu_argv.h"
#include "qemu_display.h"

/* qemu.conf's vnc_listen and spice_listen defaults. */
#define DEFAULT_LISTEN "127.0.0.1"
#define VNC_PORT_MIN 5900

void
qemu_display_assign_aliases(SvDomainDef *def)
{
    const struct {
        GPtrArray *list;
        const char *prefix;
    } kinds[] = {{def->videos, "video"}, {def->inputs, "input"}, {def->sounds, "sound"},
                 {def->redirdevs, "redir"}};

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint i = 0; i < kinds[k].list->len; i++) {
            /* Every display device struct starts with its info. */
            SvDomainDeviceInfo *info = kinds[k].list->pdata[i];

            if (!info->alias)
                info->alias = g_strdup_printf("%s%u", kinds[k].prefix, i);
        }
    }
}

/* The device's place (PCI or USB), through the shared helper. */
static void
props_place(JsonObject *o, const SvDomainDef *def, const SvDomainDeviceInfo *info)
{
    qemu_props_device_info(o, def, info);
}

static void
build_audiodevs(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->audios->len; i++) {
        const SvDomainAudioDef *a = def->audios->pdata[i];
        g_autofree char *id = g_strdup_printf("audio%u", a->id);
        JsonObject *o = qemu_props_new(NULL);

        qemu_props_str(o, "id", id);
        qemu_props_str(o, "driver", sv_domain_audio_type_to_string(a->type));
        qemu_argv_add_json(argv, "-audiodev", o);
    }
}

/* The audiodev a device without its own <audio id> plays to: the first. */
static guint
default_audio_id(const SvDomainDef *def)
{
    return def->audios->len ? ((SvDomainAudioDef *)def->audios->pdata[0])->id : 0;
}

static const SvDomainGraphicsListenDef *
first_listen(const SvDomainGraphicsDef *g)
{
    return g->listens->len ? g->listens->pdata[0] : NULL;
}

static void
build_vnc(const SvDomainDef *def, const SvDomainGraphicsDef *g, GString *opt)
{
    const SvDomainGraphicsListenDef *l = first_listen(g);
    guint audio = default_audio_id(def);

    if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET) {
        g_autofree char *path = qemu_argv_escape(l->socket);
        g_string_append_printf(opt, "vnc=unix:%s", path);
    } else if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_NONE) {
        g_string_append(opt, "vnc=none");
    } else {
        const char *addr = l && l->address ? l->address : DEFAULT_LISTEN;
        g_autofree char *esc = qemu_argv_escape(addr);
        int display = g->port >= VNC_PORT_MIN ? g->port - VNC_PORT_MIN : 0;

        /* Spelled as the key QEMU implies ("vnc="), unlike libvirt, so that an '=' in the
         * address cannot make it a key of its own; an IPv6 address in brackets, so its colons
         * are not the display's. */
        if (strchr(addr, ':'))
            g_string_append_printf(opt, "vnc=[%s]:%d", esc, display);
        else
            g_string_append_printf(opt, "vnc=%s:%d", esc, display);
    }
    if (g->websocket > 0)
        g_string_append_printf(opt, ",websocket=%d", g->websocket);
    if (g->share_policy)
        g_string_append_printf(opt, ",share=%s",
                               sv_domain_graphics_share_policy_to_string(g->share_policy));
    /* The password itself goes through QMP after start, never on the command line. */
    if (g->passwd)
        g_string_append(opt, ",password=on");
    if (audio)
        g_string_append_printf(opt, ",audiodev=audio%u", audio);
}

/* QEMU's -spice keys of the spice options, "" for those libvirt maps to flags below. */
static const char *const spice_keys[SV_DOMAIN_SPICE_OPTION_LAST] = {
    [SV_DOMAIN_SPICE_IMAGE] = "image-compression",
    [SV_DOMAIN_SPICE_JPEG] = "jpeg-wan-compression",
    [SV_DOMAIN_SPICE_ZLIB] = "zlib-glz-wan-compression",
    [SV_DOMAIN_SPICE_PLAYBACK] = "playback-compression",
    [SV_DOMAIN_SPICE_STREAMING] = "streaming-video",
    [SV_DOMAIN_SPICE_MOUSE] = "",
    [SV_DOMAIN_SPICE_CLIPBOARD] = "",
    [SV_DOMAIN_SPICE_FILETRANSFER] = "",
};

static void
build_spice(const SvDomainGraphicsDef *g, GString *opt)
{
    const SvDomainGraphicsListenDef *l = first_listen(g);
    const int *o = g->spice;

    if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET) {
        g_autofree char *path = qemu_argv_escape(l->socket);
        g_string_append_printf(opt, "unix,addr=%s", path);
    } else if (l && l->type == SV_DOMAIN_GRAPHICS_LISTEN_NONE) {
        g_string_append(opt, "port=0");
    } else {
        g_autofree char *addr = qemu_argv_escape(l && l->address ? l->address : DEFAULT_LISTEN);

        g_string_append_printf(opt, "port=%d", MAX(g->port, 0));
        if (g->tls_port > 0)
            g_string_append_printf(opt, ",tls-port=%d", g->tls_port);
        g_string_append_printf(opt, ",addr=%s", addr);
    }
    if (o[SV_DOMAIN_SPICE_MOUSE] >= 0)
        g_string_append_printf(opt, ",agent-mouse=%s",
                               g_str_equal(sv_domain_spice_option_value(SV_DOMAIN_SPICE_MOUSE,
                                                                        o[SV_DOMAIN_SPICE_MOUSE]),
                                           "client")
                                   ? "on"
                                   : "off");
    if (!g->passwd)
        g_string_append(opt, ",disable-ticketing=on");
    for (int i = 0; i < SV_DOMAIN_SPICE_OPTION_LAST; i++) {
        if (o[i] >= 0 && *spice_keys[i])
            g_string_append_printf(opt, ",%s=%s", spice_keys[i],
                                   sv_domain_spice_option_value(i, o[i]));
    }
    if (o[SV_DOMAIN_SPICE_CLIPBOARD] >= 0 &&
        g_str_equal(sv_domain_spice_option_value(SV_DOMAIN_SPICE_CLIPBOARD,
                                                 o[SV_DOMAIN_SPICE_CLIPBOARD]),
                    "no"))
        g_string_append(opt, ",disable-copy-paste=on");
    if (o[SV_DOMAIN_SPICE_FILETRANSFER] >= 0 &&
        g_str_equal(sv_domain_spice_option_value(SV_DOMAIN_SPICE_FILETRANSFER,
                                                 o[SV_DOMAIN_SPICE_FILETRANSFER]),
                    "no"))
        g_string_append(opt, ",disable-agent-file-xfer=on");
    g_string_append(opt, ",seamless-migration=on");
}

static void
build_graphics(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        const SvDomainGraphicsDef *g = def->graphics->pdata[i];
        g_autoptr(GString) opt = g_string_new(NULL);

        if (g->type == SV_DOMAIN_GRAPHICS_VNC)
            build_vnc(def, g, opt);
        else if (g->type == SV_DOMAIN_GRAPHICS_SPICE)
            build_spice(g, opt);
        else
            continue;
        qemu_argv_add(argv, g->type == SV_DOMAIN_GRAPHICS_VNC ? "-vnc" : "-spice");
        qemu_argv_add(argv, opt->str);
        /* -k takes the whole next argument as the keymap, whatever it holds. */
        if (g->keymap) {
            qemu_argv_add(argv, "-k");
            qemu_argv_add(argv, g->keymap);
        }
    }
}

static const char *
video_driver(const SvDomainVideoDef *v)
{
    switch (v->type) {
    case SV_DOMAIN_VIDEO_VGA:
        return "VGA";
    case SV_DOMAIN_VIDEO_CIRRUS:
        return "cirrus-vga";
    case SV_DOMAIN_VIDEO_VMVGA:
        return "vmware-svga";
    case SV_DOMAIN_VIDEO_QXL:
        return v->primary ? "qxl-vga" : "qxl";
    case SV_DOMAIN_VIDEO_VIRTIO:
        return v->primary ? "virtio-vga" : "virtio-gpu-pci";
    case SV_DOMAIN_VIDEO_BOCHS:
        return "bochs-display";
    case SV_DOMAIN_VIDEO_RAMFB:
        return "ramfb";
    default:
        return NULL;
    }
}

static void
build_videos(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->videos->len; i++) {
        const SvDomainVideoDef *v = def->videos->pdata[i];
        const char *driver = video_driver(v);
        JsonObject *o;

        if (!driver)
            continue;
        o = qemu_props_new(driver);
        qemu_props_str(o, "id", v->info.alias);
        if (v->type == SV_DOMAIN_VIDEO_QXL || v->type == SV_DOMAIN_VIDEO_VIRTIO)
            qemu_props_int(o, "max_outputs", v->heads);
        if (v->type == SV_DOMAIN_VIDEO_QXL) {
            qemu_props_int(o, "ram_size", (gint64)v->ram * 1024);
            qemu_props_int(o, "vram_size", (gint64)v->vram * 1024);
            qemu_props_int(o, "vram64_size_mb", 0);
            qemu_props_int(o, "vgamem_mb", v->vgamem / 1024);
        } else if (v->type == SV_DOMAIN_VIDEO_VGA || v->type == SV_DOMAIN_VIDEO_VMVGA) {
            qemu_props_int(o, "vgamem_mb", v->vram / 1024);
        } else if (v->type == SV_DOMAIN_VIDEO_BOCHS) {
            qemu_props_int(o, "vgamem", (gint64)v->vram * 1024);
        }
        props_place(o, def, &v->info);
        qemu_argv_add_json(argv, "-device", o);
    }
}

static const char *
input_driver(const SvDomainInputDef *in)
{
    static const char *const usb[SV_DOMAIN_INPUT_LAST] = {"usb-mouse", "usb-tablet", "usb-kbd"};
    static const char *const virtio[SV_DOMAIN_INPUT_LAST] = {
        "virtio-mouse-pci", "virtio-tablet-pci", "virtio-keyboard-pci"};

    if (in->bus == SV_DOMAIN_INPUT_BUS_USB)
        return usb[in->type];
    if (in->bus == SV_DOMAIN_INPUT_BUS_VIRTIO)
        return virtio[in->type];
    /* ps2: the i8042 the machine has. */
    return NULL;
}

static void
build_inputs(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        const SvDomainInputDef *in = def->inputs->pdata[i];
        const char *driver = input_driver(in);
        JsonObject *o;

        if (!driver)
            continue;
        o = qemu_props_new(driver);
        /* libvirt names a USB input before its port, a virtio one after its PCI address. */
        if (in->bus == SV_DOMAIN_INPUT_BUS_USB)
            qemu_props_str(o, "id", in->info.alias);
        props_place(o, def, &in->info);
        qemu_argv_add_json(argv, "-device", o);
    }
}

static void
build_sound_codecs(const SvDomainSoundDef *s, const char *audiodev, GPtrArray *argv)
{
    static const SvDomainSoundCodec duplex = SV_DOMAIN_SOUND_CODEC_DUPLEX;
    g_autofree char *bus = g_strdup_printf("%s.0", s->info.alias);
    guint n = MAX(s->codecs->len, 1);

    for (guint c = 0; c < n; c++) {
        SvDomainSoundCodec codec =
            s->codecs->len ? g_array_index(s->codecs, SvDomainSoundCodec, c) : duplex;
        g_autofree char *driver = g_strdup_printf("hda-%s", sv_domain_sound_codec_to_string(codec));
        g_autofree char *id = g_strdup_printf("%s-codec%u", s->info.alias, c);
        JsonObject *o = qemu_props_new(driver);

        qemu_props_str(o, "id", id);
        qemu_props_str(o, "bus", bus);
        qemu_props_int(o, "cad", c);
        qemu_props_str(o, "audiodev", audiodev);
        qemu_argv_add_json(argv, "-device", o);
    }
}

static void
build_sounds(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->sounds->len; i++) {
        const SvDomainSoundDef *s = def->sounds->pdata[i];
        guint audio = s->audio_id ? s->audio_id : default_audio_id(def);
        g_autofree char *audiodev = audio ? g_strdup_printf("audio%u", audio) : NULL;
        gboolean hda = s->model == SV_DOMAIN_SOUND_ICH6 || s->model == SV_DOMAIN_SOUND_ICH9;
        const char *driver;
        JsonObject *o;

        switch (s->model) {
        case SV_DOMAIN_SOUND_ICH6: driver = "intel-hda"; break;
        case SV_DOMAIN_SOUND_ICH9: driver = "ich9-intel-hda"; break;
        case SV_DOMAIN_SOUND_AC97: driver = "AC97"; break;
        case SV_DOMAIN_SOUND_USB: driver = "usb-audio"; break;
        case SV_DOMAIN_SOUND_SB16: driver = "sb16"; break;
        case SV_DOMAIN_SOUND_ES1370: driver = "ES1370"; break;
        default: continue; /* refused at start */
        }
        o = qemu_props_new(driver);
        qemu_props_str(o, "id", s->info.alias);
        if (!hda)
            qemu_props_str(o, "audiodev", audiodev);
        props_place(o, def, &s->info);
        qemu_argv_add_json(argv, "-device", o);
        if (hda)
            build_sound_codecs(s, audiodev, argv);
    }
}

static void
build_redirdevs(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->redirdevs->len; i++) {
        const SvDomainRedirdevDef *r = def->redirdevs->pdata[i];
        g_autofree char *alias = qemu_argv_escape(r->info.alias);
        g_autofree char *chardev = g_strdup_printf("char%s", r->info.alias);
        JsonObject *o = qemu_props_new("usb-redir");

        qemu_argv_add(argv, "-chardev");
        qemu_argv_addf(argv, "spicevmc,id=char%s,name=usbredir", alias);
        qemu_props_str(o, "chardev", chardev);
        qemu_props_str(o, "id", r->info.alias);
        props_place(o, def, &r->info);
        qemu_argv_add_json(argv, "-device", o);
    }
}

void
qemu_display_build(const SvDomainDef *def, GPtrArray *argv)
{
    build_inputs(def, argv);
    build_audiodevs(def, argv);
    build_graphics(def, argv);
    build_videos(def, argv);
    build_sounds(def, argv);
    build_redirdevs(def, argv);
}
