/* domain_display.c: the display devices of a domain (graphics, video, input, sound, audio,
 * redirdev): string tables, parse, and the defaults and checks every driver shares, as
 * libvirt 9.0 does them; domain_display_format.c writes them. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* ---- string tables ------------------------------------------------------------------------ */

SV_DOMAIN_ENUM_IMPL(graphics_type, SV_DOMAIN_GRAPHICS_LAST, "sdl", "vnc", "rdp", "desktop", "spice",
      "egl-headless", "dbus", "none")
SV_DOMAIN_ENUM_IMPL(graphics_listen_type, SV_DOMAIN_GRAPHICS_LISTEN_LAST, "none", "address", "network",
      "socket")
SV_DOMAIN_ENUM_IMPL(graphics_share_policy, SV_DOMAIN_GRAPHICS_SHARE_LAST, "default", "allow-exclusive",
      "force-shared", "ignore")
SV_DOMAIN_ENUM_IMPL(video_type, SV_DOMAIN_VIDEO_LAST, "default", "vga", "cirrus", "vmvga", "xen", "vbox", "qxl",
      "parallels", "virtio", "gop", "none", "bochs", "ramfb")
SV_DOMAIN_ENUM_IMPL(input_type, SV_DOMAIN_INPUT_LAST, "mouse", "tablet", "keyboard", "passthrough", "evdev")
SV_DOMAIN_ENUM_IMPL(input_bus, SV_DOMAIN_INPUT_BUS_LAST, "ps2", "usb", "xen", "parallels", "virtio", "none")
SV_DOMAIN_ENUM_IMPL(sound_model, SV_DOMAIN_SOUND_LAST, "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb",
      "ich7")
SV_DOMAIN_ENUM_IMPL(sound_codec, SV_DOMAIN_SOUND_CODEC_LAST, "duplex", "micro", "output")
SV_DOMAIN_ENUM_IMPL(audio_type, SV_DOMAIN_AUDIO_LAST, "none", "alsa", "coreaudio", "jack", "oss", "pulseaudio",
      "sdl", "spice", "file", "dbus")

/* Spice's one-attribute children: element, attribute, values (NULL-terminated). */
static const struct {
    const char *element;
    const char *attr;
    const char *const values[7];
} spice_options[SV_DOMAIN_SPICE_OPTION_LAST] = {
    [SV_DOMAIN_SPICE_IMAGE] = {"image", "compression",
                               {"auto_glz", "auto_lz", "quic", "glz", "lz", "off", NULL}},
    [SV_DOMAIN_SPICE_JPEG] = {"jpeg", "compression", {"auto", "never", "always", NULL}},
    [SV_DOMAIN_SPICE_ZLIB] = {"zlib", "compression", {"auto", "never", "always", NULL}},
    [SV_DOMAIN_SPICE_PLAYBACK] = {"playback", "compression", {"on", "off", NULL}},
    [SV_DOMAIN_SPICE_STREAMING] = {"streaming", "mode", {"filter", "all", "off", NULL}},
    [SV_DOMAIN_SPICE_MOUSE] = {"mouse", "mode", {"server", "client", NULL}},
    [SV_DOMAIN_SPICE_CLIPBOARD] = {"clipboard", "copypaste", {"yes", "no", NULL}},
    [SV_DOMAIN_SPICE_FILETRANSFER] = {"filetransfer", "enable", {"yes", "no", NULL}},
};

const char *
sv_domain_spice_option_element(int opt)
{
    return opt >= 0 && opt < SV_DOMAIN_SPICE_OPTION_LAST ? spice_options[opt].element : NULL;
}

const char *
sv_domain_spice_option_attr(int opt)
{
    return opt >= 0 && opt < SV_DOMAIN_SPICE_OPTION_LAST ? spice_options[opt].attr : NULL;
}

const char *
sv_domain_spice_option_value(int opt, int v)
{
    if (opt < 0 || opt >= SV_DOMAIN_SPICE_OPTION_LAST || v < 0)
        return NULL;
    for (int i = 0; spice_options[opt].values[i]; i++) {
        if (i == v)
            return spice_options[opt].values[i];
    }
    return NULL;
}

/* The index of `word` among spice option `opt`'s values, -1 when it is not one. */
static int
spice_option_index(int opt, const char *word)
{
    for (int i = 0; word && spice_options[opt].values[i]; i++) {
        if (g_str_equal(spice_options[opt].values[i], word))
            return i;
    }
    return -1;
}

/* ---- free --------------------------------------------------------------------------------- */

static void
listen_free(gpointer p)
{
    SvDomainGraphicsListenDef *l = p;

    if (!l)
        return;
    g_free(l->address);
    g_free(l->network);
    g_free(l->socket);
    g_free(l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainGraphicsListenDef, listen_free)

void
sv_domain_graphics_def_free(gpointer p)
{
    SvDomainGraphicsDef *g = p;

    if (!g)
        return;
    sv_domain_device_info_clear(&g->info);
    g_free(g->passwd);
    g_free(g->passwd_valid_to);
    g_free(g->connected);
    g_free(g->keymap);
    g_clear_pointer(&g->listens, g_ptr_array_unref);
    g_free(g);
}

void
sv_domain_video_def_free(gpointer p)
{
    SvDomainVideoDef *v = p;

    if (!v)
        return;
    sv_domain_device_info_clear(&v->info);
    g_free(v);
}

void
sv_domain_input_def_free(gpointer p)
{
    SvDomainInputDef *i = p;

    if (!i)
        return;
    sv_domain_device_info_clear(&i->info);
    g_free(i);
}

void
sv_domain_sound_def_free(gpointer p)
{
    SvDomainSoundDef *s = p;

    if (!s)
        return;
    sv_domain_device_info_clear(&s->info);
    g_clear_pointer(&s->codecs, g_array_unref);
    g_free(s);
}

void
sv_domain_redirdev_def_free(gpointer p)
{
    SvDomainRedirdevDef *r = p;

    if (!r)
        return;
    sv_domain_device_info_clear(&r->info);
    g_free(r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainGraphicsDef, sv_domain_graphics_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainVideoDef, sv_domain_video_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainInputDef, sv_domain_input_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainSoundDef, sv_domain_sound_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainRedirdevDef, sv_domain_redirdev_def_free)

void
sv_domain_display_lists_new(SvDomainDef *def)
{
    def->graphics = g_ptr_array_new_with_free_func(sv_domain_graphics_def_free);
    def->videos = g_ptr_array_new_with_free_func(sv_domain_video_def_free);
    def->inputs = g_ptr_array_new_with_free_func(sv_domain_input_def_free);
    def->sounds = g_ptr_array_new_with_free_func(sv_domain_sound_def_free);
    def->audios = g_ptr_array_new_with_free_func(g_free);
    def->redirdevs = g_ptr_array_new_with_free_func(sv_domain_redirdev_def_free);
}

void
sv_domain_display_lists_free(SvDomainDef *def)
{
    g_clear_pointer(&def->graphics, g_ptr_array_unref);
    g_clear_pointer(&def->videos, g_ptr_array_unref);
    g_clear_pointer(&def->inputs, g_ptr_array_unref);
    g_clear_pointer(&def->sounds, g_ptr_array_unref);
    g_clear_pointer(&def->audios, g_ptr_array_unref);
    g_clear_pointer(&def->redirdevs, g_ptr_array_unref);
}

SvDomainGraphicsDef *
sv_domain_def_find_graphics(const SvDomainDef *def, SvDomainGraphicsType type)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        SvDomainGraphicsDef *g = def->graphics->pdata[i];

        if (g->type == type)
            return g;
    }
    return NULL;
}

const char *
sv_domain_display_first_device(const SvDomainDef *def)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        if (((SvDomainGraphicsDef *)def->graphics->pdata[i])->type != SV_DOMAIN_GRAPHICS_NONE)
            return "<graphics>";
    }
    if (def->videos->len)
        return "<video>";
    if (def->inputs->len)
        return "<input>";
    if (def->sounds->len)
        return "<sound>";
    if (def->audios->len)
        return "<audio>";
    return def->redirdevs->len ? "<redirdev>" : NULL;
}

/* ---- parse: graphics ---------------------------------------------------------------------- */

static guint
info_flags(guint flags, gboolean boot)
{
    return (boot ? SV_DEVICE_INFO_BOOT : 0) |
           ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS);
}

/* A signed int attribute as libvirt's virStrToLong_i takes it ("-1", "5900"). */
static gboolean
parse_int(const char *s, int *out)
{
    guint v;

    if (s && s[0] == '-' && sv_domain_parse_int_range(s + 1, &v)) {
        *out = -(int)v;
        return TRUE;
    }
    if (s && sv_domain_parse_int_range(s, &v)) {
        *out = (int)v;
        return TRUE;
    }
    return FALSE;
}

static gboolean
parse_listen(const xmlNode *node, SvDomainGraphicsDef *g, GError **error)
{
    g_autoptr(SvDomainGraphicsListenDef) l = g_new0(SvDomainGraphicsListenDef, 1);
    int type = 0;

    if (!sv_domain_prop_enum(node, "type", sv_domain_graphics_listen_type_from_string, 0, NULL,
                             TRUE, &type, error))
        return FALSE;
    l->type = type;
    switch (l->type) {
    case SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS:
        l->address = sv_xml_prop(node, "address");
        break;
    case SV_DOMAIN_GRAPHICS_LISTEN_NETWORK:
        l->network = sv_xml_prop(node, "network");
        if (!l->network) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "'network' attribute is required for listen type 'network'");
            return FALSE;
        }
        break;
    case SV_DOMAIN_GRAPHICS_LISTEN_SOCKET:
        l->socket = sv_xml_prop(node, "socket");
        break;
    default:
        break;
    }
    g_ptr_array_add(g->listens, g_steal_pointer(&l));
    return TRUE;
}

/* libvirt's listen rules: <listen> children, else the old listen= (an address) or socket=
 * (vnc) attribute, else an address listen with the default address; spice without any port
 * listens nowhere. listen= must agree with the first <listen>'s address. */
static gboolean
parse_listens(const xmlNode *node, SvDomainGraphicsDef *g, GError **error)
{
    g_autofree char *listen = sv_xml_prop(node, "listen");
    g_autofree char *socket = g->type == SV_DOMAIN_GRAPHICS_VNC ? sv_xml_prop(node, "socket")
                                                                  : NULL;
    SvDomainGraphicsListenDef *first;

    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && sv_xml_is(c, "listen") && !parse_listen(c, g, error))
            return FALSE;
    }
    if (g->listens->len == 0) {
        SvDomainGraphicsListenDef *l = g_new0(SvDomainGraphicsListenDef, 1);

        l->type = SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS;
        if (socket) {
            l->type = SV_DOMAIN_GRAPHICS_LISTEN_SOCKET;
            l->socket = g_steal_pointer(&socket);
        } else if (g->type == SV_DOMAIN_GRAPHICS_SPICE && !listen && g->port == 0 &&
                   g->tls_port == 0 && !g->autoport) {
            l->type = SV_DOMAIN_GRAPHICS_LISTEN_NONE;
        }
        g_ptr_array_add(g->listens, l);
    }
    first = g->listens->pdata[0];
    if (!listen || first->type != SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS)
        return TRUE;
    if (!first->address) {
        first->address = g_steal_pointer(&listen);
        return TRUE;
    }
    if (!g_str_equal(first->address, listen)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "graphics 'listen' attribute '%s' must match 'address' attribute of first "
                     "listen element (found '%s')",
                     listen, first->address);
        return FALSE;
    }
    return TRUE;
}

/* passwdValidTo as libvirt reads it (YYYY-MM-DDTHH:MM:SS); anything else is dropped, as
 * libvirt drops it. */
static char *
parse_valid_to(const xmlNode *node)
{
    g_autofree char *v = sv_xml_prop(node, "passwdValidTo");
    g_autoptr(GRegex) re = NULL;

    if (!v)
        return NULL;
    re = g_regex_new("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", 0, 0, NULL);
    return g_regex_match(re, v, 0, NULL) ? g_steal_pointer(&v) : NULL;
}

static gboolean
parse_auth(const xmlNode *node, SvDomainGraphicsDef *g, GError **error)
{
    int policy = 0;

    g->passwd = sv_xml_prop(node, "passwd");
    g->passwd_valid_to = parse_valid_to(node);
    g->keymap = sv_xml_prop(node, "keymap");
    g->connected = sv_xml_prop(node, "connected");
    /* VNC only keeps clients; libvirt drops any other value there, and values it does not
     * know everywhere. */
    if (g->connected &&
        !sv_word_in(g->type == SV_DOMAIN_GRAPHICS_VNC ? "keep" : "fail disconnect keep",
                    g->connected))
        g_clear_pointer(&g->connected, g_free);
    if (g->type != SV_DOMAIN_GRAPHICS_VNC)
        return TRUE;
    if (!sv_domain_prop_enum(node, "sharePolicy", sv_domain_graphics_share_policy_from_string, 1,
                             NULL, FALSE, &policy, error))
        return FALSE;
    g->share_policy = policy;
    return TRUE;
}

/* A port attribute; libvirt reports vnc's in its own words (`what`), spice's as any
 * integer attribute (`what` NULL). */
static gboolean
parse_port(const xmlNode *node, const char *attr, const char *what, int *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);

    if (!v || parse_int(v, out))
        return TRUE;
    if (what)
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "cannot parse %s %s", what, v);
    else
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element 'graphics': '%s'. Expected "
                     "integer value",
                     attr, v);
    return FALSE;
}

static gboolean
parse_graphics_ports(const xmlNode *node, SvDomainGraphicsDef *g, guint flags, GError **error)
{
    g_autofree char *autoport = sv_xml_prop(node, "autoport");
    g_autofree char *websocket = NULL;
    gboolean vnc = g->type == SV_DOMAIN_GRAPHICS_VNC;
    gboolean has_port = FALSE;

    if (vnc) {
        g_autofree char *p = sv_xml_prop(node, "port");

        has_port = p != NULL;
        if (!parse_port(node, "port", "vnc port", &g->port, error))
            return FALSE;
        websocket = sv_xml_prop(node, "websocket");
        if (websocket && !parse_int(websocket, &g->websocket)) {
            sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                         "Invalid value for attribute 'websocket' in element 'graphics': '%s'. "
                         "Expected integer value",
                         websocket);
            return FALSE;
        }
        /* A vnc server without a port asks for one. */
        g->autoport = !has_port || g->port == -1;
        if (g->port == -1)
            g->port = 0;
    } else {
        if (!parse_port(node, "port", NULL, &g->port, error) ||
            !parse_port(node, "tlsPort", NULL, &g->tls_port, error))
            return FALSE;
    }
    if (autoport && g_str_equal(autoport, "yes"))
        g->autoport = TRUE;
    else if (autoport && g_str_equal(autoport, "no"))
        g->autoport = FALSE;
    /* Allocated ports are live state. */
    if (g->autoport && (flags & SV_DOMAIN_PARSE_INACTIVE)) {
        g->port = 0;
        g->tls_port = 0;
    }
    return TRUE;
}

static gboolean
parse_spice_options(const xmlNode *node, SvDomainGraphicsDef *g, GError **error)
{
    for (int o = 0; o < SV_DOMAIN_SPICE_OPTION_LAST; o++) {
        xmlNode *c = sv_xml_child(node, spice_options[o].element);
        g_autofree char *v = NULL;

        g->spice[o] = -1;
        if (!c)
            continue;
        v = sv_xml_prop(c, spice_options[o].attr);
        if (!v) {
            sv_xml_error_missing_attr(error, c, spice_options[o].attr);
            return FALSE;
        }
        g->spice[o] = spice_option_index(o, v);
        if (g->spice[o] < 0) {
            sv_xml_error_invalid_attr(error, c, spice_options[o].attr, v);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_graphics(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainGraphicsDef) g = g_new0(SvDomainGraphicsDef, 1);
    int type = 0;

    g->listens = g_ptr_array_new_with_free_func(listen_free);
    for (int o = 0; o < SV_DOMAIN_SPICE_OPTION_LAST; o++)
        g->spice[o] = -1;
    if (!sv_domain_prop_enum(node, "type", sv_domain_graphics_type_from_string, 0, NULL, TRUE,
                             &type, error))
        return FALSE;
    g->type = type;
    if (g->type == SV_DOMAIN_GRAPHICS_VNC || g->type == SV_DOMAIN_GRAPHICS_SPICE) {
        if (!parse_graphics_ports(node, g, flags, error) || !parse_auth(node, g, error) ||
            !parse_listens(node, g, error))
            return FALSE;
        if (g->type == SV_DOMAIN_GRAPHICS_SPICE && !parse_spice_options(node, g, error))
            return FALSE;
    }
    g_ptr_array_add(def->graphics, g_steal_pointer(&g));
    return TRUE;
}

/* ---- parse: video, input, sound, audio, redirdev ------------------------------------------ */

static gboolean
parse_video_size(const xmlNode *model, const char *attr, guint *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(model, attr);

    if (v && !sv_domain_parse_uint(v, out)) {
        /* libvirt's code for heads differs from the sizes'. */
        sv_error_set(error, SV_FROM_DOMAIN,
                     g_str_equal(attr, "heads") ? SV_ERR_INTERNAL_ERROR : SV_ERR_XML_ERROR,
                     "cannot parse video %s '%s'", attr, v);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_video(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainVideoDef) v = g_new0(SvDomainVideoDef, 1);
    xmlNode *model = sv_xml_child(node, "model");
    g_autofree char *type = model ? sv_xml_prop(model, "type") : NULL;
    g_autofree char *primary = model ? sv_xml_prop(model, "primary") : NULL;

    if (type && sv_domain_video_type_from_string(type) < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown video model '%s'",
                     type);
        return FALSE;
    }
    v->type = type ? sv_domain_video_type_from_string(type) : SV_DOMAIN_VIDEO_DEFAULT;
    if (model && (!parse_video_size(model, "ram", &v->ram, error) ||
                  !parse_video_size(model, "vram", &v->vram, error) ||
                  !parse_video_size(model, "vgamem", &v->vgamem, error) ||
                  !parse_video_size(model, "heads", &v->heads, error)))
        return FALSE;
    if (!sv_domain_device_info_parse(node, &v->info, info_flags(flags, FALSE), error))
        return FALSE;
    v->primary = primary && g_str_equal(primary, "yes");
    if (!v->primary) {
        g_ptr_array_add(def->videos, g_steal_pointer(&v));
        return TRUE;
    }
    for (guint i = 0; i < def->videos->len; i++) {
        if (((SvDomainVideoDef *)def->videos->pdata[i])->primary) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "Only one primary video device is supported");
            return FALSE;
        }
    }
    /* The primary video is the first, as libvirt keeps it. */
    g_ptr_array_insert(def->videos, 0, g_steal_pointer(&v));
    return TRUE;
}

static gboolean
parse_input_bus(const xmlNode *node, const SvDomainDef *def, SvDomainInputDef *in,
                GError **error)
{
    g_autofree char *bus = sv_xml_prop(node, "bus");
    gboolean hvm = g_str_equal(def->os.type, "hvm");
    int b;

    if (!bus) {
        if (!hvm)
            in->bus = SV_DOMAIN_INPUT_BUS_XEN;
        else if (in->type == SV_DOMAIN_INPUT_TABLET)
            in->bus = SV_DOMAIN_INPUT_BUS_USB;
        else
            in->bus = SV_DOMAIN_INPUT_BUS_PS2;
        return TRUE;
    }
    b = sv_domain_input_bus_from_string(bus);
    if (b < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown input bus type '%s'", bus);
        return FALSE;
    }
    in->bus = b;
    if (in->bus == SV_DOMAIN_INPUT_BUS_PS2 && in->type == SV_DOMAIN_INPUT_TABLET) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "ps2 bus does not support %s input device", "tablet");
        return FALSE;
    }
    if ((hvm && (b == SV_DOMAIN_INPUT_BUS_XEN || b == SV_DOMAIN_INPUT_BUS_PARALLELS)) ||
        (!hvm && b != SV_DOMAIN_INPUT_BUS_XEN)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "unsupported input bus %s",
                     bus);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_input(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainInputDef) in = g_new0(SvDomainInputDef, 1);
    g_autofree char *type = sv_xml_prop(node, "type");
    int t = type ? sv_domain_input_type_from_string(type) : -1;

    if (!type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "missing input device type");
        return FALSE;
    }
    if (t < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown input device type '%s'", type);
        return FALSE;
    }
    if (t == SV_DOMAIN_INPUT_PASSTHROUGH || t == SV_DOMAIN_INPUT_EVDEV) {
        sv_domain_error_unsupported_value(error, node, "type", type);
        return FALSE;
    }
    in->type = t;
    if (!parse_input_bus(node, def, in, error) ||
        !sv_domain_device_info_parse(node, &in->info, info_flags(flags, FALSE), error))
        return FALSE;
    g_ptr_array_add(def->inputs, g_steal_pointer(&in));
    return TRUE;
}

static gboolean
parse_audio_id(const xmlNode *node, gboolean required, guint *out, GError **error)
{
    g_autofree char *id = sv_xml_prop(node, "id");

    if (!id) {
        if (required)
            sv_xml_error_missing_attr(error, node, "id");
        return !required;
    }
    if (!sv_domain_parse_int_range(id, out)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'id' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     node->name, id);
        return FALSE;
    }
    if (*out == 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'id' in element '%s': Zero is not permitted",
                     node->name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_sound(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainSoundDef) s = g_new0(SvDomainSoundDef, 1);
    xmlNode *audio = sv_xml_child(node, "audio");
    int model = 0;

    s->codecs = g_array_new(FALSE, FALSE, sizeof(SvDomainSoundCodec));
    if (!sv_domain_prop_enum(node, "model", sv_domain_sound_model_from_string, 0, NULL, TRUE,
                             &model, error))
        return FALSE;
    s->model = model;
    for (const xmlNode *c = node->children; c; c = c->next) {
        g_autofree char *type = NULL;
        int codec;

        if (c->type != XML_ELEMENT_NODE || !sv_xml_is(c, "codec"))
            continue;
        type = sv_xml_prop(c, "type");
        codec = sv_domain_sound_codec_from_string(type);
        if (codec < 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown codec type '%s'", type ? type : "(null)");
            return FALSE;
        }
        g_array_append_val(s->codecs, codec);
    }
    if (audio && !parse_audio_id(audio, FALSE, &s->audio_id, error))
        return FALSE;
    if (!sv_domain_device_info_parse(node, &s->info, info_flags(flags, FALSE), error))
        return FALSE;
    g_ptr_array_add(def->sounds, g_steal_pointer(&s));
    return TRUE;
}

static gboolean
parse_audio(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree SvDomainAudioDef *a = g_new0(SvDomainAudioDef, 1);
    int type = 0;

    if (!parse_audio_id(node, TRUE, &a->id, error) ||
        !sv_domain_prop_enum(node, "type", sv_domain_audio_type_from_string, 0, NULL, TRUE, &type,
                             error))
        return FALSE;
    a->type = type;
    for (guint i = 0; i < def->audios->len; i++) {
        if (((SvDomainAudioDef *)def->audios->pdata[i])->id == a->id) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "audio ID %u is used multiple times", a->id);
            return FALSE;
        }
    }
    g_ptr_array_add(def->audios, g_steal_pointer(&a));
    return TRUE;
}

/* libvirt's character device types, of which redirdev takes spicevmc alone here. */
#define REDIRDEV_KNOWN_TYPES                                                                   \
    "null vc pty dev file pipe stdio udp tcp unix spicevmc spiceport nmdm qemu-vdagent dbus"

static gboolean
parse_redirdev(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainRedirdevDef) r = g_new0(SvDomainRedirdevDef, 1);
    g_autofree char *bus = sv_xml_prop(node, "bus");
    g_autofree char *type = sv_xml_prop(node, "type");

    if (bus && !g_str_equal(bus, "usb")) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown redirdev bus '%s'", bus);
        return FALSE;
    }
    if (!type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "missing type in redirdev");
        return FALSE;
    }
    if (!sv_word_in(REDIRDEV_KNOWN_TYPES, type)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown redirdev character device type '%s'", type);
        return FALSE;
    }
    if (!g_str_equal(type, "spicevmc")) {
        sv_domain_error_unsupported_value(error, node, "type", type);
        return FALSE;
    }
    if (!sv_domain_device_info_parse(node, &r->info, info_flags(flags, TRUE), error))
        return FALSE;
    g_ptr_array_add(def->redirdevs, g_steal_pointer(&r));
    return TRUE;
}

gboolean
sv_domain_display_is_device(const xmlNode *node)
{
    return sv_xml_is(node, "graphics") || sv_xml_is(node, "video") || sv_xml_is(node, "input") ||
           sv_xml_is(node, "sound") || sv_xml_is(node, "audio") || sv_xml_is(node, "redirdev");
}

gboolean
sv_domain_display_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    if (sv_xml_is(node, "graphics"))
        return parse_graphics(node, def, flags, error);
    if (sv_xml_is(node, "video"))
        return parse_video(node, def, flags, error);
    if (sv_xml_is(node, "input"))
        return parse_input(node, def, flags, error);
    if (sv_xml_is(node, "sound"))
        return parse_sound(node, def, flags, error);
    if (sv_xml_is(node, "audio"))
        return parse_audio(node, def, error);
    return parse_redirdev(node, def, flags, error);
}

/* ---- defaults and checks every driver shares ---------------------------------------------- */

static gboolean
check_videos(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->videos->len; i++) {
        const SvDomainVideoDef *v = def->videos->pdata[i];

        if (v->type == SV_DOMAIN_VIDEO_NONE && def->videos->len > 1) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "a 'none' video type must be the only video device defined for the "
                         "domain");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
check_audio_refs(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->sounds->len; i++) {
        const SvDomainSoundDef *s = def->sounds->pdata[i];
        gboolean found = s->audio_id == 0;

        for (guint j = 0; j < def->audios->len && !found; j++)
            found = ((SvDomainAudioDef *)def->audios->pdata[j])->id == s->audio_id;
        if (!found) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "no audio device with ID %u",
                         s->audio_id);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
sv_domain_display_post_parse(SvDomainDef *def, GError **error)
{
    /* A display needs a video card: libvirt adds one of the driver's default model. */
    if (def->videos->len == 0 && def->graphics->len > 0 &&
        !sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_NONE))
        g_ptr_array_add(def->videos, g_new0(SvDomainVideoDef, 1));
    return check_videos(def, error) && check_audio_refs(def, error);
}

static guint
round_pow2(guint v)
{
    guint p = 1;

    while (p < v && p < (1u << 31))
        p <<= 1;
    return v ? p : 0;
}

void
sv_domain_video_set_defaults(SvDomainVideoDef *v)
{
    switch (v->type) {
    case SV_DOMAIN_VIDEO_VGA:
    case SV_DOMAIN_VIDEO_CIRRUS:
    case SV_DOMAIN_VIDEO_VMVGA:
    case SV_DOMAIN_VIDEO_BOCHS:
        if (!v->vram)
            v->vram = 16 * 1024;
        break;
    case SV_DOMAIN_VIDEO_QXL:
        if (!v->vram)
            v->vram = 64 * 1024;
        if (!v->ram)
            v->ram = 64 * 1024;
        if (!v->vgamem)
            v->vgamem = 16 * 1024;
        v->ram = round_pow2(v->ram);
        break;
    default:
        break;
    }
    /* Any model's vram, as libvirt rounds it (virtio's 3000 becomes 4096); vgamem is
     * checked instead. */
    v->vram = round_pow2(v->vram);
    if (v->type != SV_DOMAIN_VIDEO_NONE && !v->heads)
        v->heads = 1;
}
