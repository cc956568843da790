/* domain_chr.c: the character devices of libvirt domain XML (<serial>, <console>,
 * <channel>) and the small devices kept with them (<rng>, <memballoon>, <watchdog>,
 * <panic>; <filesystem> is domain_fs.c's): parsing and formatting as libvirt 9.0 does. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

#define ENUM_IMPL SV_DOMAIN_ENUM_IMPL

ENUM_IMPL(chr_mode, SV_DOMAIN_CHR_MODE_LAST, "connect", "bind")
ENUM_IMPL(chr_tcp_protocol, SV_DOMAIN_CHR_TCP_LAST, "raw", "telnet")
ENUM_IMPL(rng_backend, SV_DOMAIN_RNG_BACKEND_LAST, "random", "egd", "builtin")
ENUM_IMPL(watchdog_model, SV_DOMAIN_WATCHDOG_LAST, "i6300esb", "ib700", "diag288")
ENUM_IMPL(watchdog_action, SV_DOMAIN_WATCHDOG_ACTION_LAST, "reset", "shutdown", "poweroff",
          "pause", "dump", "none", "inject-nmi")

/* Values libvirt 9.0.0 knows and splitvirt does not implement: refused as unsupported,
 * while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_CHR_TYPES "vc dev pipe stdio udp spiceport nmdm qemu-vdagent dbus"
#define UNSUPPORTED_TCP_PROTOCOLS "telnets tls"
#define UNSUPPORTED_CHANNEL_TARGETS "guestfwd xen"

/* Values splitvirt keeps as strings, checked against libvirt's lists. */
#define SERIAL_TARGET_TYPES                                                                    \
    "isa-serial usb-serial pci-serial spapr-vio-serial system-serial sclp-serial isa-debug"
#define SERIAL_TARGET_MODELS                                                                   \
    "isa-serial usb-serial pci-serial spapr-vty pl011 sclpconsole sclplmconsole 16550a "       \
    "isa-debugcon"
#define CONSOLE_TARGET_TYPES "serial xen uml virtio lxc openvz sclp sclplm"
#define PANIC_MODELS "isa pseries hyperv s390"
#define MEMBALLOON_MODELS "virtio xen none virtio-transitional virtio-non-transitional"
#define RNG_MODELS "virtio virtio-transitional virtio-non-transitional"
#define RNG_DEFAULT_DEVICE "/dev/random"

/* The device-info flags for a device parsed under SvDomainParseFlags `flags`. */
static guint
info_flags(guint flags)
{
    return (flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS;
}

static void
set_error(GError **error, int code, const char *msg)
{
    sv_error_set(error, SV_FROM_DOMAIN, code, "%s", msg);
}

/* ---- character device sources ------------------------------------------------------------- */

void
sv_domain_chr_source_clear(SvDomainChrSource *src)
{
    g_clear_pointer(&src->path, g_free);
    g_clear_pointer(&src->host, g_free);
    g_clear_pointer(&src->service, g_free);
    g_clear_pointer(&src->log_file, g_free);
}

static gboolean
parse_chr_type(const xmlNode *node, SvDomainChrSource *src, GError **error)
{
    g_autofree char *type = sv_xml_prop(node, "type");
    int v = type ? sv_domain_chr_type_from_string(type) : SV_DOMAIN_CHR_TYPE_PTY;

    if (v < 0 && sv_word_in(UNSUPPORTED_CHR_TYPES, type)) {
        sv_domain_error_unsupported_value(error, node, "type", type);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown type presented to host for character device: %s", type);
        return FALSE;
    }
    src->type = v;
    return TRUE;
}

static gboolean
parse_chr_protocol(const xmlNode *node, SvDomainChrSource *src, GError **error)
{
    g_autofree char *proto = sv_xml_child_prop(node, "protocol", "type");
    int v;

    if (!proto)
        return TRUE;
    v = sv_domain_chr_tcp_protocol_from_string(proto);
    if (v >= 0) {
        src->protocol = v;
        return TRUE;
    }
    if (sv_word_in(UNSUPPORTED_TCP_PROTOCOLS, proto))
        sv_domain_error_unsupported_value(error, sv_xml_child(node, "protocol"), "type", proto);
    else
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "Unknown protocol '%s'",
                     proto);
    return FALSE;
}

static gboolean
parse_chr_log(const xmlNode *node, SvDomainChrSource *src, GError **error)
{
    xmlNode *log = sv_xml_child(node, "log");
    int append = SV_DOMAIN_SWITCH_ABSENT;

    if (!log)
        return TRUE;
    if (!sv_domain_prop_enum(log, "append", sv_domain_switch_from_string, SV_DOMAIN_SWITCH_ON,
                             NULL, FALSE, &append, error))
        return FALSE;
    /* As libvirt: a <log> without a file says nothing. */
    src->log_file = sv_xml_prop(log, "file");
    src->log_append = src->log_file ? append : SV_DOMAIN_SWITCH_ABSENT;
    return TRUE;
}

/* The <source>, <protocol> and <log> of `node`, whose type= names the kind. A unix source
 * may lack its path only where `path_optional` (a virtio channel gets one at start). */
static gboolean
parse_chr_source(const xmlNode *node, SvDomainChrSource *src, guint flags,
                 gboolean path_optional, GError **error)
{
    xmlNode *source = sv_xml_child(node, "source");
    int mode = SV_DOMAIN_CHR_MODE_CONNECT;

    if (!parse_chr_type(node, src, error))
        return FALSE;
    if (source && (src->type == SV_DOMAIN_CHR_TYPE_UNIX || src->type == SV_DOMAIN_CHR_TYPE_TCP) &&
        !sv_domain_prop_enum(source, "mode", sv_domain_chr_mode_from_string, 0, NULL, FALSE,
                             &mode, error))
        return FALSE;
    src->mode = mode;
    if (source && src->type == SV_DOMAIN_CHR_TYPE_FILE) {
        int append = SV_DOMAIN_SWITCH_ABSENT;

        if (!sv_domain_prop_enum(source, "append", sv_domain_switch_from_string,
                                 SV_DOMAIN_SWITCH_ON, NULL, FALSE, &append, error))
            return FALSE;
        src->append = append;
    }
    switch (src->type) {
    case SV_DOMAIN_CHR_TYPE_PTY:
    case SV_DOMAIN_CHR_TYPE_FILE:
    case SV_DOMAIN_CHR_TYPE_UNIX:
        src->path = source ? sv_xml_prop(source, "path") : NULL;
        if (src->path && !*src->path)
            g_clear_pointer(&src->path, g_free);
        /* A pty path is live state, allocated at start; a new definition has none. */
        if (src->type == SV_DOMAIN_CHR_TYPE_PTY && (flags & SV_DOMAIN_PARSE_INACTIVE))
            g_clear_pointer(&src->path, g_free);
        if (!src->path && (src->type == SV_DOMAIN_CHR_TYPE_FILE ||
                           (src->type == SV_DOMAIN_CHR_TYPE_UNIX && !path_optional))) {
            set_error(error, SV_ERR_INTERNAL_ERROR, "Missing source path attribute for char device");
            return FALSE;
        }
        break;
    case SV_DOMAIN_CHR_TYPE_TCP:
        src->host = source ? sv_xml_prop(source, "host") : NULL;
        src->service = source ? sv_xml_prop(source, "service") : NULL;
        if (!src->host || !src->service) {
            set_error(error, SV_ERR_INTERNAL_ERROR,
                      !src->host ? "Missing source host attribute for char device"
                                 : "Missing source service attribute for char device");
            return FALSE;
        }
        if (!parse_chr_protocol(node, src, error))
            return FALSE;
        break;
    default:
        break;
    }
    return parse_chr_log(node, src, error);
}

/* libvirt's virDomainChrSourceDefFormat: a pty's path only in live XML. */
static void
format_chr_source(GString *buf, int indent, const SvDomainChrSource *src, guint flags)
{
    gboolean inactive = (flags & SV_DOMAIN_FORMAT_INACTIVE) != 0;

    switch (src->type) {
    case SV_DOMAIN_CHR_TYPE_PTY:
    case SV_DOMAIN_CHR_TYPE_FILE:
        if (src->path && !(src->type == SV_DOMAIN_CHR_TYPE_PTY && inactive)) {
            g_string_append_printf(buf, "%*s<source", indent, "");
            sv_xml_append_attr(buf, "path", src->path);
            if (src->append != SV_DOMAIN_SWITCH_ABSENT)
                sv_xml_append_attr(buf, "append", sv_domain_switch_to_string(src->append));
            g_string_append(buf, "/>\n");
        }
        break;
    case SV_DOMAIN_CHR_TYPE_UNIX:
        if (src->path) {
            g_string_append_printf(buf, "%*s<source", indent, "");
            sv_xml_append_attr(buf, "mode", sv_domain_chr_mode_to_string(src->mode));
            sv_xml_append_attr(buf, "path", src->path);
            g_string_append(buf, "/>\n");
        }
        break;
    case SV_DOMAIN_CHR_TYPE_TCP:
        g_string_append_printf(buf, "%*s<source", indent, "");
        sv_xml_append_attr(buf, "mode", sv_domain_chr_mode_to_string(src->mode));
        sv_xml_append_attr(buf, "host", src->host);
        sv_xml_append_attr(buf, "service", src->service);
        g_string_append_printf(buf, "/>\n%*s<protocol type='%s'/>\n", indent, "",
                               sv_domain_chr_tcp_protocol_to_string(src->protocol));
        break;
    default:
        break;
    }
    if (src->log_file) {
        g_string_append_printf(buf, "%*s<log", indent, "");
        sv_xml_append_attr(buf, "file", src->log_file);
        if (src->log_append != SV_DOMAIN_SWITCH_ABSENT)
            sv_xml_append_attr(buf, "append", sv_domain_switch_to_string(src->log_append));
        g_string_append(buf, "/>\n");
    }
}

/* ---- serials, consoles, channels ---------------------------------------------------------- */

typedef enum {
    CHR_SERIAL,
    CHR_CONSOLE,
    CHR_CHANNEL,
} ChrKind;

static gboolean
parse_serial_target(const xmlNode *target, SvDomainChrDef *chr, GError **error)
{
    g_autofree char *port = target ? sv_xml_prop(target, "port") : NULL;

    chr->target_model = target ? sv_xml_child_prop(target, "model", "name") : NULL;
    if (chr->target_model && !sv_word_in(SERIAL_TARGET_MODELS, chr->target_model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown target model '%s' specified for character device",
                     chr->target_model);
        return FALSE;
    }
    /* Unset ports (libvirt also takes -1 for unset) are assigned after parsing; libvirt
     * 9.0 reads an isa-serial target without a port as port 0 (seen with its libvirtd). */
    chr->target_port = g_strcmp0(chr->target_type, "isa-serial") == 0 ? 0 : G_MAXUINT;
    if (port && !g_str_equal(port, "-1") && !sv_domain_parse_int_range(port, &chr->target_port)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Invalid port number: %s", port);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_channel_target(const xmlNode *node, const xmlNode *target, SvDomainChrDef *chr,
                     guint flags, GError **error)
{
    if (!chr->target_type) {
        set_error(error, SV_ERR_XML_ERROR, "target type must be specified for channel device");
        return FALSE;
    }
    if (sv_word_in(UNSUPPORTED_CHANNEL_TARGETS, chr->target_type)) {
        sv_domain_error_unsupported_value(error, target, "type", chr->target_type);
        return FALSE;
    }
    if (!g_str_equal(chr->target_type, "virtio")) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown target type '%s' specified for character device",
                     chr->target_type);
        return FALSE;
    }
    chr->target_name = sv_xml_prop(target, "name");
    /* The connection state is live state, shown only in live XML. */
    if (!(flags & SV_DOMAIN_PARSE_INACTIVE))
        chr->target_state = sv_xml_prop(target, "state");
    return parse_chr_source(node, &chr->source, flags, TRUE, error);
}

/* libvirt numbers consoles by their place in the document, whatever port= says. Taking
 * port= where it is given keeps format(parse(x)) a fixed point: libvirt's own output, once
 * a console standing for a serial is put first, is not one (its next parse renumbers the
 * others). So an explicit port= that is not the console's place differs from libvirt. */
static gboolean
parse_console_port(const xmlNode *target, SvDomainChrDef *chr, guint index, GError **error)
{
    g_autofree char *port = target ? sv_xml_prop(target, "port") : NULL;

    chr->target_port = index;
    if (port && !g_str_equal(port, "-1") && !sv_domain_parse_int_range(port, &chr->target_port)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Invalid port number: %s", port);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_chr_target(const xmlNode *node, SvDomainChrDef *chr, ChrKind kind, guint index,
                 guint flags, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");

    chr->target_type = target ? sv_xml_prop(target, "type") : NULL;
    if (kind == CHR_CHANNEL)
        return parse_channel_target(node, target, chr, flags, error);
    if (chr->target_type &&
        !sv_word_in(kind == CHR_SERIAL ? SERIAL_TARGET_TYPES : CONSOLE_TARGET_TYPES,
                    chr->target_type)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown target type '%s' specified for character device",
                     chr->target_type);
        return FALSE;
    }
    if (kind == CHR_CONSOLE)
        return parse_console_port(target, chr, index, error) &&
               parse_chr_source(node, &chr->source, flags, FALSE, error);
    return parse_serial_target(target, chr, error) &&
           parse_chr_source(node, &chr->source, flags, FALSE, error);
}

static gboolean
parse_chr(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainChrDef) chr = g_new0(SvDomainChrDef, 1);
    ChrKind kind = sv_xml_is(node, "serial")    ? CHR_SERIAL
                   : sv_xml_is(node, "console") ? CHR_CONSOLE
                                                : CHR_CHANNEL;
    GPtrArray *list = kind == CHR_SERIAL    ? def->serials
                      : kind == CHR_CONSOLE ? def->consoles
                                            : def->channels;

    if (!parse_chr_type(node, &chr->source, error) ||
        !parse_chr_target(node, chr, kind, list->len, flags, error) ||
        !sv_domain_device_info_parse(node, &chr->info, info_flags(flags), error))
        return FALSE;
    g_ptr_array_add(list, g_steal_pointer(&chr));
    return TRUE;
}

static void
format_chr_target(GString *buf, const SvDomainChrDef *chr, ChrKind kind, guint port,
                  guint flags)
{
    g_string_append(buf, "      <target");
    sv_xml_append_attr(buf, "type", chr->target_type);
    if (kind == CHR_CHANNEL) {
        sv_xml_append_attr(buf, "name", chr->target_name);
        if (!(flags & SV_DOMAIN_FORMAT_INACTIVE))
            sv_xml_append_attr(buf, "state", chr->target_state);
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, " port='%u'", port);
    if (kind == CHR_SERIAL && chr->target_model) {
        g_string_append(buf, ">\n        <model");
        sv_xml_append_attr(buf, "name", chr->target_model);
        g_string_append(buf, "/>\n      </target>\n");
        return;
    }
    g_string_append(buf, "/>\n");
}

/* libvirt's virDomainChrDefFormat. `chr` gives the source and the device info, `port` the
 * target port (a console standing for a serial shows the serial's). */
static void
format_chr(GString *buf, const char *element, const SvDomainChrDef *chr,
           const SvDomainChrDef *target, ChrKind kind, guint port, guint flags)
{
    const SvDomainChrSource *src = &chr->source;

    g_string_append_printf(buf, "    <%s type='%s'", element,
                           sv_domain_chr_type_to_string(src->type));
    /* libvirt's tty attribute is for the console on port 0 alone. */
    if (kind == CHR_CONSOLE && target->target_port == 0 && src->type == SV_DOMAIN_CHR_TYPE_PTY &&
        src->path && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
        sv_xml_append_attr(buf, "tty", src->path);
    g_string_append(buf, ">\n");
    format_chr_source(buf, 6, src, flags);
    format_chr_target(buf, target, kind, port, flags);
    sv_domain_device_info_format(buf, 6, &chr->info, flags);
    g_string_append_printf(buf, "    </%s>\n", element);
}

/* Whether console `n` stands for serial `n`, as libvirt's format and post-parse read it:
 * an hvm guest's console of target type serial. */
gboolean
sv_domain_console_is_serial(const SvDomainDef *def, guint n)
{
    const SvDomainChrDef *con = def->consoles->pdata[n];

    return n < def->serials->len && g_strcmp0(def->os.type, "hvm") == 0 &&
           g_strcmp0(con->target_type, "serial") == 0;
}

void
sv_domain_format_chrs(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->serials->len; i++) {
        const SvDomainChrDef *c = def->serials->pdata[i];
        format_chr(buf, "serial", c, c, CHR_SERIAL, c->target_port, flags);
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        const SvDomainChrDef *c = def->consoles->pdata[i];
        const SvDomainChrDef *s = sv_domain_console_is_serial(def, i) ? def->serials->pdata[i]
                                                                       : NULL;

        if (s)
            format_chr(buf, "console", s, c, CHR_CONSOLE, s->target_port, flags);
        else
            format_chr(buf, "console", c, c, CHR_CONSOLE, c->target_port, flags);
    }
}

void
sv_domain_format_channels(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->channels->len; i++) {
        const SvDomainChrDef *c = def->channels->pdata[i];
        format_chr(buf, "channel", c, c, CHR_CHANNEL, 0, flags);
    }
}

/* ---- rng ------------------------------------------------------------------------------------ */

void
sv_domain_rng_def_free(gpointer p)
{
    SvDomainRngDef *r = p;

    if (!r)
        return;
    sv_domain_device_info_clear(&r->info);
    g_free(r->model);
    g_free(r->device);
    sv_domain_chr_source_clear(&r->egd);
    g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainRngDef, sv_domain_rng_def_free)

static guint
count_children(const xmlNode *node, const char *name)
{
    guint n = 0;

    for (const xmlNode *c = node->children; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE && sv_xml_is(c, name);
    return n;
}

static gboolean
parse_rng_backend(const xmlNode *backend, SvDomainRngDef *rng, guint flags, GError **error)
{
    g_autofree char *model = sv_xml_prop(backend, "model");
    g_autofree char *type = NULL;
    int v;

    if (!model) {
        set_error(error, SV_ERR_XML_ERROR, "missing RNG device backend model");
        return FALSE;
    }
    v = sv_domain_rng_backend_from_string(model);
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown RNG backend model '%s'", model);
        return FALSE;
    }
    rng->backend = v;
    switch (rng->backend) {
    case SV_DOMAIN_RNG_BACKEND_RANDOM:
        rng->device = sv_xml_text(backend);
        if (rng->device && !*rng->device)
            g_clear_pointer(&rng->device, g_free);
        if (!rng->device)
            rng->device = g_strdup(RNG_DEFAULT_DEVICE);
        return TRUE;
    case SV_DOMAIN_RNG_BACKEND_EGD:
        type = sv_xml_prop(backend, "type");
        if (!type) {
            sv_xml_error_missing_attr(error, backend, "type");
            return FALSE;
        }
        if (sv_domain_chr_type_from_string(type) < 0 && !sv_word_in(UNSUPPORTED_CHR_TYPES, type)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown backend type '%s' for egd", type);
            return FALSE;
        }
        return parse_chr_source(backend, &rng->egd, flags, FALSE, error);
    default:
        return TRUE;
    }
}

static gboolean
parse_rng(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainRngDef) rng = g_new0(SvDomainRngDef, 1);

    rng->model = sv_xml_prop(node, "model");
    if (!rng->model) {
        set_error(error, SV_ERR_XML_ERROR, "missing RNG device model");
        return FALSE;
    }
    if (!sv_word_in(RNG_MODELS, rng->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown RNG model '%s'",
                     rng->model);
        return FALSE;
    }
    if (count_children(node, "backend") != 1) {
        set_error(error, SV_ERR_XML_ERROR, "only one RNG backend is supported");
        return FALSE;
    }
    if (!parse_rng_backend(sv_xml_child(node, "backend"), rng, flags, error) ||
        !sv_domain_device_info_parse(node, &rng->info, info_flags(flags), error))
        return FALSE;
    g_ptr_array_add(def->rngs, g_steal_pointer(&rng));
    return TRUE;
}

static void
format_rng(GString *buf, const SvDomainRngDef *rng, guint flags)
{
    const char *backend = sv_domain_rng_backend_to_string(rng->backend);

    g_string_append(buf, "    <rng");
    sv_xml_append_attr(buf, "model", rng->model);
    g_string_append_printf(buf, ">\n      <backend model='%s'", backend);
    switch (rng->backend) {
    case SV_DOMAIN_RNG_BACKEND_RANDOM:
        g_string_append_c(buf, '>');
        sv_xml_append_escaped(buf, rng->device, FALSE);
        g_string_append(buf, "</backend>\n");
        break;
    case SV_DOMAIN_RNG_BACKEND_EGD:
        sv_xml_append_attr(buf, "type", sv_domain_chr_type_to_string(rng->egd.type));
        g_string_append(buf, ">\n");
        format_chr_source(buf, 8, &rng->egd, flags);
        g_string_append(buf, "      </backend>\n");
        break;
    default:
        g_string_append(buf, "/>\n");
    }
    sv_domain_device_info_format(buf, 6, &rng->info, flags);
    g_string_append(buf, "    </rng>\n");
}

/* ---- memballoon, watchdog, panic ---------------------------------------------------------- */

void
sv_domain_memballoon_def_free(SvDomainMemballoonDef *m)
{
    if (!m)
        return;
    sv_domain_device_info_clear(&m->info);
    g_free(m->model);
    g_free(m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainMemballoonDef, sv_domain_memballoon_def_free)

static gboolean
parse_memballoon(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainMemballoonDef) m = g_new0(SvDomainMemballoonDef, 1);
    xmlNode *stats = sv_xml_child(node, "stats");
    g_autofree char *period = stats ? sv_xml_prop(stats, "period") : NULL;
    int deflate = SV_DOMAIN_SWITCH_ABSENT;
    int reporting = SV_DOMAIN_SWITCH_ABSENT;
    gint64 p = 0;

    if (def->memballoon) {
        set_error(error, SV_ERR_INTERNAL_ERROR, "only a single memory balloon device is supported");
        return FALSE;
    }
    m->model = sv_xml_prop(node, "model");
    if (!m->model) {
        sv_xml_error_missing_attr(error, node, "model");
        return FALSE;
    }
    if (!sv_word_in(MEMBALLOON_MODELS, m->model)) {
        sv_xml_error_invalid_attr(error, node, "model", m->model);
        return FALSE;
    }
    if (!sv_domain_prop_enum(node, "autodeflate", sv_domain_switch_from_string,
                             SV_DOMAIN_SWITCH_ON, NULL, FALSE, &deflate, error) ||
        !sv_domain_prop_enum(node, "freePageReporting", sv_domain_switch_from_string,
                             SV_DOMAIN_SWITCH_ON, NULL, FALSE, &reporting, error))
        return FALSE;
    if (period && !g_ascii_string_to_signed(period, 10, G_MININT, G_MAXINT, &p, NULL)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'period' in element 'stats': '%s'. "
                     "Expected integer value",
                     period);
        return FALSE;
    }
    m->autodeflate = deflate;
    m->free_page_reporting = reporting;
    m->stats_period = (int)p;
    if (!sv_domain_device_info_parse(node, &m->info, info_flags(flags), error))
        return FALSE;
    def->memballoon = g_steal_pointer(&m);
    return TRUE;
}

/* The end of a device element written so far without its closing '>': "/>" when it has no
 * device info to show, else its info lines and the closing tag. */
static void
format_device_end(GString *buf, const char *inner_text, const char *element,
                  const SvDomainDeviceInfo *info, guint flags)
{
    g_autoptr(GString) inner = g_string_new(inner_text);

    sv_domain_device_info_format(inner, 6, info, flags);
    if (!inner->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n%s    </%s>\n", inner->str, element);
}

static void
format_memballoon(GString *buf, const SvDomainMemballoonDef *m, guint flags)
{
    g_autofree char *stats = m->stats_period
                                 ? g_strdup_printf("      <stats period='%d'/>\n", m->stats_period)
                                 : NULL;

    g_string_append(buf, "    <memballoon");
    sv_xml_append_attr(buf, "model", m->model);
    if (m->autodeflate != SV_DOMAIN_SWITCH_ABSENT)
        sv_xml_append_attr(buf, "autodeflate", sv_domain_switch_to_string(m->autodeflate));
    if (m->free_page_reporting != SV_DOMAIN_SWITCH_ABSENT)
        sv_xml_append_attr(buf, "freePageReporting",
                           sv_domain_switch_to_string(m->free_page_reporting));
    format_device_end(buf, stats, "memballoon", &m->info, flags);
}

static gboolean
parse_watchdog(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autofree char *model = sv_xml_prop(node, "model");
    g_autofree char *action = sv_xml_prop(node, "action");
    g_autofree SvDomainWatchdogDef *w = NULL;
    int m;
    int a = SV_DOMAIN_WATCHDOG_ACTION_RESET;

    if (!model) {
        set_error(error, SV_ERR_INTERNAL_ERROR, "watchdog must contain model name");
        return FALSE;
    }
    m = sv_domain_watchdog_model_from_string(model);
    if (m < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown watchdog model '%s'", model);
        return FALSE;
    }
    if (action && (a = sv_domain_watchdog_action_from_string(action)) < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown watchdog action '%s'", action);
        return FALSE;
    }
    if (def->watchdog) {
        set_error(error, SV_ERR_INTERNAL_ERROR, "only a single watchdog device is supported");
        return FALSE;
    }
    w = g_new0(SvDomainWatchdogDef, 1);
    w->model = m;
    w->action = a;
    if (!sv_domain_device_info_parse(node, &w->info, info_flags(flags), error)) {
        sv_domain_device_info_clear(&w->info);
        return FALSE;
    }
    def->watchdog = g_steal_pointer(&w);
    return TRUE;
}

void
sv_domain_watchdog_def_free(SvDomainWatchdogDef *w)
{
    if (!w)
        return;
    sv_domain_device_info_clear(&w->info);
    g_free(w);
}

void
sv_domain_panic_def_free(gpointer p)
{
    SvDomainPanicDef *panic = p;

    if (!panic)
        return;
    sv_domain_device_info_clear(&panic->info);
    g_free(panic->model);
    g_free(panic);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainPanicDef, sv_domain_panic_def_free)

static gboolean
parse_panic(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainPanicDef) panic = g_new0(SvDomainPanicDef, 1);

    panic->model = sv_xml_prop(node, "model");
    if (panic->model && !sv_word_in(PANIC_MODELS, panic->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown panic model '%s'",
                     panic->model);
        return FALSE;
    }
    if (!sv_domain_device_info_parse(node, &panic->info, info_flags(flags), error))
        return FALSE;
    g_ptr_array_add(def->panics, g_steal_pointer(&panic));
    return TRUE;
}

/* libvirt's check, after its defaults gave every panic a model. */
gboolean
sv_domain_panics_validate(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->panics->len; i++) {
        const SvDomainPanicDef *a = def->panics->pdata[i];

        for (guint j = 0; j < i; j++) {
            const SvDomainPanicDef *b = def->panics->pdata[j];

            if (g_strcmp0(a->model, b->model) == 0) {
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                             "Multiple panic devices with model '%s'",
                             a->model ? a->model : "default");
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* ---- entry points --------------------------------------------------------------------------- */

gboolean
sv_domain_is_chr_device(const xmlNode *node)
{
    static const char *const names[] = {"serial", "console", "channel", "rng",
                                        "memballoon", "watchdog", "panic", "filesystem"};

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (sv_xml_is(node, names[i]))
            return TRUE;
    }
    return FALSE;
}

gboolean
sv_domain_parse_chr_device(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    if (sv_xml_is(node, "serial") || sv_xml_is(node, "console") || sv_xml_is(node, "channel"))
        return parse_chr(node, def, flags, error);
    if (sv_xml_is(node, "rng"))
        return parse_rng(node, def, flags, error);
    if (sv_xml_is(node, "memballoon"))
        return parse_memballoon(node, def, flags, error);
    if (sv_xml_is(node, "watchdog"))
        return parse_watchdog(node, def, flags, error);
    if (sv_xml_is(node, "panic"))
        return parse_panic(node, def, flags, error);
    return sv_domain_fs_parse(node, def, flags, error);
}

/* libvirt's order: watchdog, memballoon, rng, (nvram), panic. */
void
sv_domain_format_chr_late(GString *buf, const SvDomainDef *def, guint flags)
{
    if (def->watchdog) {
        g_string_append_printf(buf, "    <watchdog model='%s' action='%s'",
                               sv_domain_watchdog_model_to_string(def->watchdog->model),
                               sv_domain_watchdog_action_to_string(def->watchdog->action));
        format_device_end(buf, NULL, "watchdog", &def->watchdog->info, flags);
    }
    if (def->memballoon)
        format_memballoon(buf, def->memballoon, flags);
    for (guint i = 0; i < def->rngs->len; i++)
        format_rng(buf, def->rngs->pdata[i], flags);
    for (guint i = 0; i < def->panics->len; i++) {
        const SvDomainPanicDef *p = def->panics->pdata[i];

        g_string_append(buf, "    <panic");
        sv_xml_append_attr(buf, "model", p->model);
        format_device_end(buf, NULL, "panic", &p->info, flags);
    }
}
