/* domain_display_format.c: format the display devices of a domain (graphics, video, input,
 * sound, audio, redirdev) as libvirt 9.0 does; their model is domain_display.c's. */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"

/* The end of a device element written without its closing '>': "/>" when nothing is inside,
 * else `inner` and the device info lines, and the closing tag. */
static void
format_end(GString *buf, const char *element, const char *inner, const SvDomainDeviceInfo *info,
           guint flags)
{
    g_autoptr(GString) rest = g_string_new(inner);

    sv_domain_device_info_format(rest, 6, info, flags);
    if (!rest->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n%s    </%s>\n", rest->str, element);
}

static void
format_int_attr(GString *buf, const char *name, int v)
{
    g_string_append_printf(buf, " %s='%d'", name, v);
}

static void
format_graphics_ports(GString *buf, const SvDomainGraphicsDef *g, guint flags)
{
    gboolean inactive = (flags & SV_DOMAIN_FORMAT_INACTIVE) != 0;
    const SvDomainGraphicsListenDef *first = g->listens->len ? g->listens->pdata[0] : NULL;

    if (first && first->type == SV_DOMAIN_GRAPHICS_LISTEN_SOCKET) {
        if (g->type == SV_DOMAIN_GRAPHICS_VNC)
            sv_xml_append_attr(buf, "socket", first->socket);
        return;
    }
    if (first && first->type == SV_DOMAIN_GRAPHICS_LISTEN_NONE)
        return;
    if (g->type == SV_DOMAIN_GRAPHICS_VNC) {
        if (g->port && (!g->autoport || !inactive))
            format_int_attr(buf, "port", g->port);
        else if (g->autoport)
            format_int_attr(buf, "port", -1);
    } else {
        if (g->port)
            format_int_attr(buf, "port", g->port);
        if (g->tls_port)
            format_int_attr(buf, "tlsPort", g->tls_port);
    }
    sv_xml_append_attr(buf, "autoport", g->autoport ? "yes" : "no");
    if (g->websocket)
        format_int_attr(buf, "websocket", g->websocket);
    if (first && first->type == SV_DOMAIN_GRAPHICS_LISTEN_ADDRESS)
        sv_xml_append_attr(buf, "listen", first->address);
}

static void
format_listens(GString *buf, const SvDomainGraphicsDef *g)
{
    for (guint i = 0; i < g->listens->len; i++) {
        const SvDomainGraphicsListenDef *l = g->listens->pdata[i];

        g_string_append_printf(buf, "      <listen type='%s'",
                               sv_domain_graphics_listen_type_to_string(l->type));
        sv_xml_append_attr(buf, "address", l->address);
        sv_xml_append_attr(buf, "network", l->network);
        sv_xml_append_attr(buf, "socket", l->socket);
        g_string_append(buf, "/>\n");
    }
}

static void
format_graphics(GString *buf, const SvDomainGraphicsDef *g, guint flags)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    g_string_append_printf(buf, "    <graphics type='%s'",
                           sv_domain_graphics_type_to_string(g->type));
    if (g->type != SV_DOMAIN_GRAPHICS_VNC && g->type != SV_DOMAIN_GRAPHICS_SPICE) {
        g_string_append(buf, "/>\n");
        return;
    }
    format_graphics_ports(buf, g, flags);
    sv_xml_append_attr(buf, "keymap", g->keymap);
    if (g->share_policy)
        sv_xml_append_attr(buf, "sharePolicy",
                           sv_domain_graphics_share_policy_to_string(g->share_policy));
    if (flags & SV_DOMAIN_FORMAT_SECURE)
        sv_xml_append_attr(buf, "passwd", g->passwd);
    sv_xml_append_attr(buf, "passwdValidTo", g->passwd_valid_to);
    sv_xml_append_attr(buf, "connected", g->connected);
    format_listens(inner, g);
    for (int o = 0; o < SV_DOMAIN_SPICE_OPTION_LAST; o++) {
        if (g->type == SV_DOMAIN_GRAPHICS_SPICE && g->spice[o] >= 0)
            g_string_append_printf(inner, "      <%s %s='%s'/>\n",
                                   sv_domain_spice_option_element(o),
                                   sv_domain_spice_option_attr(o),
                                   sv_domain_spice_option_value(o, g->spice[o]));
    }
    format_end(buf, "graphics", inner->str, &g->info, flags);
}

static void
format_video(GString *buf, const SvDomainVideoDef *v, guint flags)
{
    g_string_append_printf(buf, "    <video>\n      <model type='%s'",
                           sv_domain_video_type_to_string(v->type));
    if (v->ram)
        g_string_append_printf(buf, " ram='%u'", v->ram);
    if (v->vram)
        g_string_append_printf(buf, " vram='%u'", v->vram);
    if (v->vgamem)
        g_string_append_printf(buf, " vgamem='%u'", v->vgamem);
    if (v->heads)
        g_string_append_printf(buf, " heads='%u'", v->heads);
    if (v->primary)
        g_string_append(buf, " primary='yes'");
    g_string_append(buf, "/>\n");
    sv_domain_device_info_format(buf, 6, &v->info, flags);
    g_string_append(buf, "    </video>\n");
}

static void
format_sound(GString *buf, const SvDomainSoundDef *s, guint flags)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    g_string_append_printf(buf, "    <sound model='%s'", sv_domain_sound_model_to_string(s->model));
    for (guint i = 0; i < s->codecs->len; i++)
        g_string_append_printf(inner, "      <codec type='%s'/>\n",
                               sv_domain_sound_codec_to_string(
                                   g_array_index(s->codecs, SvDomainSoundCodec, i)));
    if (s->audio_id)
        g_string_append_printf(inner, "      <audio id='%u'/>\n", s->audio_id);
    format_end(buf, "sound", inner->str, &s->info, flags);
}

void
sv_domain_display_format(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        const SvDomainInputDef *in = def->inputs->pdata[i];

        g_string_append_printf(buf, "    <input type='%s' bus='%s'",
                               sv_domain_input_type_to_string(in->type),
                               sv_domain_input_bus_to_string(in->bus));
        format_end(buf, "input", "", &in->info, flags);
    }
    /* libvirt's place of the <tpm> (capabilities area, domain_hostdev.c). */
    sv_domain_tpm_format(buf, def, flags);
    for (guint i = 0; i < def->graphics->len; i++)
        format_graphics(buf, def->graphics->pdata[i], flags);
    for (guint i = 0; i < def->sounds->len; i++)
        format_sound(buf, def->sounds->pdata[i], flags);
    for (guint i = 0; i < def->audios->len; i++) {
        const SvDomainAudioDef *a = def->audios->pdata[i];

        g_string_append_printf(buf, "    <audio id='%u' type='%s'/>\n", a->id,
                               sv_domain_audio_type_to_string(a->type));
    }
    for (guint i = 0; i < def->videos->len; i++)
        format_video(buf, def->videos->pdata[i], flags);
    /* libvirt's place of the <hostdev>s (capabilities area, domain_hostdev.c). */
    sv_domain_hostdevs_format(buf, def, flags);
    for (guint i = 0; i < def->redirdevs->len; i++) {
        const SvDomainRedirdevDef *r = def->redirdevs->pdata[i];

        g_string_append(buf, "    <redirdev bus='usb' type='spicevmc'");
        format_end(buf, "redirdev", "", &r->info, flags);
    }
}
