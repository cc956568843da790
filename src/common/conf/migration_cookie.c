/* migration_cookie.c: see migration_cookie.h. */
#include "conf/migration_cookie.h"

#include <stdlib.h>
#include <string.h>

#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

/* libvirt's qemuMigrationCookieFlag names, bit i for name i. */
static const char *const flag_names[] = {
    "graphics", "lockstate", "persistent", "network", "nbd", "statistics",
    "memory-hotplug", "cpu-hotplug", "cpu", "allowReboot", "capabilities",
    "block-dirty-bitmaps",
};

const char *
sv_mig_cookie_flag_name(guint flag)
{
    for (guint i = 0; i < G_N_ELEMENTS(flag_names); i++) {
        if (flag == 1u << i)
            return flag_names[i];
    }
    return NULL;
}

static void
graphics_free(SvMigCookieGraphics *g)
{
    if (!g)
        return;
    g_free(g->type);
    g_free(g->listen);
    g_free(g->tls_subject);
    g_free(g);
}

static void
nbd_disk_clear(gpointer p)
{
    g_free(((SvMigCookieNbdDisk *)p)->target);
}

static void
cap_clear(gpointer p)
{
    g_free(((SvMigCookieCap *)p)->name);
}

SvMigrationCookie *
sv_migration_cookie_new(const char *name, const guint8 uuid[16], const char *hostname,
                        const guint8 hostuuid[16])
{
    SvMigrationCookie *c = g_new0(SvMigrationCookie, 1);

    c->name = g_strdup(name);
    memcpy(c->uuid, uuid, 16);
    c->hostname = g_strdup(hostname);
    if (hostuuid)
        memcpy(c->hostuuid, hostuuid, 16);
    return c;
}

void
sv_migration_cookie_free(SvMigrationCookie *c)
{
    if (!c)
        return;
    g_free(c->name);
    g_free(c->hostname);
    graphics_free(c->graphics);
    g_free(c->lock_driver);
    g_free(c->lock_state);
    sv_domain_def_free(c->persistent);
    g_free(c->network_xml);
    if (c->nbd_disks)
        g_array_unref(c->nbd_disks);
    g_free(c->stats);
    g_free(c->cpu_xml);
    if (c->caps)
        g_array_unref(c->caps);
    g_free(c->bitmaps_xml);
    g_free(c);
}

void
sv_migration_cookie_add_lockstate(SvMigrationCookie *c, const char *driver, const char *state)
{
    g_free(c->lock_driver);
    g_free(c->lock_state);
    c->lock_driver = g_strdup(driver);
    c->lock_state = g_strdup(state);
    c->flags |= SV_MIG_COOKIE_LOCKSTATE;
    c->mandatory |= SV_MIG_COOKIE_LOCKSTATE;
}

void
sv_migration_cookie_add_persistent(SvMigrationCookie *c, SvDomainDef *def)
{
    if (!def)
        return;
    sv_domain_def_free(c->persistent);
    c->persistent = def;
    c->flags |= SV_MIG_COOKIE_PERSISTENT;
    c->mandatory |= SV_MIG_COOKIE_PERSISTENT;
}

void
sv_migration_cookie_add_nbd(SvMigrationCookie *c, int port)
{
    c->nbd_port = port;
    c->flags |= SV_MIG_COOKIE_NBD;
}

void
sv_migration_cookie_add_nbd_disk(SvMigrationCookie *c, const char *target, guint64 capacity)
{
    SvMigCookieNbdDisk d = {g_strdup(target), capacity};

    if (!c->nbd_disks) {
        c->nbd_disks = g_array_new(FALSE, TRUE, sizeof(SvMigCookieNbdDisk));
        g_array_set_clear_func(c->nbd_disks, nbd_disk_clear);
    }
    g_array_append_val(c->nbd_disks, d);
    c->flags |= SV_MIG_COOKIE_NBD;
}

void
sv_migration_cookie_add_stats(SvMigrationCookie *c, const SvMigCookieStats *stats)
{
    g_free(c->stats);
    c->stats = g_memdup2(stats, sizeof(*stats));
    c->flags |= SV_MIG_COOKIE_STATS;
}

void
sv_migration_cookie_add_cap(SvMigrationCookie *c, const char *name, gboolean automatic)
{
    SvMigCookieCap cap = {g_strdup(name), automatic};

    if (!c->caps) {
        c->caps = g_array_new(FALSE, TRUE, sizeof(SvMigCookieCap));
        g_array_set_clear_func(c->caps, cap_clear);
    }
    g_array_append_val(c->caps, cap);
    c->flags |= SV_MIG_COOKIE_CAPS;
}

void
sv_migration_cookie_add_mandatory(SvMigrationCookie *c, guint flag)
{
    c->mandatory |= flag;
}

/* ---------------------------------------------------------------- format */

/* text (lines, each ending with a newline) with every line indented by `indent` more. */
static void
append_indented(GString *buf, const char *text, int indent)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i] && !lines[i + 1])
            break;
        g_string_append_printf(buf, "%*s%s\n", indent, "", lines[i]);
    }
}

static void
format_graphics(GString *buf, const SvMigCookieGraphics *g)
{
    g_string_append_printf(buf, "  <graphics type='%s' port='%d' listen='", g->type, g->port);
    sv_xml_append_escaped(buf, g->listen ? g->listen : "(null)", TRUE);
    g_string_append_c(buf, '\'');
    if (g_strcmp0(g->type, "spice") == 0)
        g_string_append_printf(buf, " tlsPort='%d'", g->tls_port);
    if (!g->tls_subject) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n    <cert info='subject' value='");
    sv_xml_append_escaped(buf, g->tls_subject, TRUE);
    g_string_append(buf, "'/>\n  </graphics>\n");
}

static void
format_nbd(GString *buf, const SvMigrationCookie *c)
{
    guint n = c->nbd_disks ? c->nbd_disks->len : 0;

    g_string_append(buf, "  <nbd");
    if (c->nbd_port)
        g_string_append_printf(buf, " port='%d'", c->nbd_port);
    if (!n) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (guint i = 0; i < n; i++) {
        const SvMigCookieNbdDisk *d = &g_array_index(c->nbd_disks, SvMigCookieNbdDisk, i);

        g_string_append(buf, "    <disk target='");
        sv_xml_append_escaped(buf, d->target, TRUE);
        g_string_append_printf(buf, "' capacity='%" G_GUINT64_FORMAT "'/>\n", d->capacity);
    }
    g_string_append(buf, "  </nbd>\n");
}

static void
stat_u(GString *buf, const char *name, guint64 v)
{
    g_string_append_printf(buf, "    <%s>%" G_GUINT64_FORMAT "</%s>\n", name, v, name);
}

static void
format_stats(GString *buf, const SvMigCookieStats *s)
{
    g_string_append(buf, "  <statistics>\n");
    stat_u(buf, "started", s->started);
    stat_u(buf, "stopped", s->stopped);
    stat_u(buf, "sent", s->sent);
    if (s->has_delta)
        g_string_append_printf(buf, "    <delta>%" G_GINT64_FORMAT "</delta>\n", s->delta);
    stat_u(buf, "time_elapsed", s->time_elapsed);
    if (s->has_downtime)
        stat_u(buf, "downtime", s->downtime);
    if (s->has_setup_time)
        stat_u(buf, "setup_time", s->setup_time);
    stat_u(buf, "memory_total", s->memory_total);
    stat_u(buf, "memory_processed", s->memory_processed);
    stat_u(buf, "memory_remaining", s->memory_remaining);
    stat_u(buf, "memory_bps", s->memory_bps);
    if (s->has_memory_constant) {
        stat_u(buf, "memory_constant", s->memory_constant);
        stat_u(buf, "memory_normal", s->memory_normal);
        stat_u(buf, "memory_normal_bytes", s->memory_normal_bytes);
    }
    stat_u(buf, "memory_dirty_rate", s->memory_dirty_rate);
    stat_u(buf, "memory_iteration", s->memory_iteration);
    stat_u(buf, "memory_postcopy_requests", s->memory_postcopy_requests);
    stat_u(buf, "memory_page_size", s->memory_page_size);
    stat_u(buf, "disk_total", s->disk_total);
    stat_u(buf, "disk_processed", s->disk_processed);
    stat_u(buf, "disk_remaining", s->disk_remaining);
    stat_u(buf, "disk_bps", s->disk_bps);
    if (s->has_compression) {
        stat_u(buf, "compression_cache", s->compression_cache);
        stat_u(buf, "compression_bytes", s->compression_bytes);
        stat_u(buf, "compression_pages", s->compression_pages);
        stat_u(buf, "compression_cache_misses", s->compression_cache_misses);
        stat_u(buf, "compression_overflow", s->compression_overflow);
    }
    g_string_append_printf(buf, "    <auto_converge_throttle>%d</auto_converge_throttle>\n",
                           s->auto_converge_throttle);
    g_string_append(buf, "  </statistics>\n");
}

static void
format_caps(GString *buf, const GArray *caps)
{
    g_string_append(buf, "  <capabilities>\n");
    for (guint i = 0; caps && i < caps->len; i++) {
        const SvMigCookieCap *cap = &g_array_index(caps, SvMigCookieCap, i);

        g_string_append_printf(buf, "    <cap name='%s' auto='%s'/>\n", cap->name,
                               cap->automatic ? "yes" : "no");
    }
    g_string_append(buf, "  </capabilities>\n");
}

static void
format_persistent(GString *buf, const SvDomainDef *def)
{
    g_autofree char *xml =
        sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);

    append_indented(buf, xml, 2);
}

static void
format_head(GString *buf, const SvMigrationCookie *c)
{
    char uuid[SV_UUID_STRING_LEN + 1], hostuuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format(c->uuid, uuid);
    sv_uuid_format(c->hostuuid, hostuuid);
    g_string_append(buf, "<qemu-migration>\n");
    sv_xml_append_text_elem(buf, 2, "name", c->name);
    g_string_append_printf(buf, "  <uuid>%s</uuid>\n", uuid);
    sv_xml_append_text_elem(buf, 2, "hostname", c->hostname);
    g_string_append_printf(buf, "  <hostuuid>%s</hostuuid>\n", hostuuid);
    for (guint i = 0; i < G_N_ELEMENTS(flag_names); i++) {
        if (c->mandatory & (1u << i))
            g_string_append_printf(buf, "  <feature name='%s'/>\n", flag_names[i]);
    }
}

char *
sv_migration_cookie_format(const SvMigrationCookie *c)
{
    GString *buf = g_string_new(NULL);

    format_head(buf, c);
    if ((c->flags & SV_MIG_COOKIE_GRAPHICS) && c->graphics)
        format_graphics(buf, c->graphics);
    if ((c->flags & SV_MIG_COOKIE_LOCKSTATE) && c->lock_state) {
        g_string_append_printf(buf, "  <lockstate driver='%s'>\n", c->lock_driver);
        g_string_append_printf(buf, "    <leases>%s</leases>\n", c->lock_state);
        g_string_append(buf, "  </lockstate>\n");
    }
    if ((c->flags & SV_MIG_COOKIE_PERSISTENT) && c->persistent)
        format_persistent(buf, c->persistent);
    if ((c->flags & SV_MIG_COOKIE_NETWORK) && c->network_xml)
        append_indented(buf, c->network_xml, 2);
    if (c->flags & SV_MIG_COOKIE_NBD)
        format_nbd(buf, c);
    if ((c->flags & SV_MIG_COOKIE_STATS) && c->stats)
        format_stats(buf, c->stats);
    if ((c->flags & SV_MIG_COOKIE_CPU) && c->cpu_xml)
        append_indented(buf, c->cpu_xml, 2);
    if (c->flags & SV_MIG_COOKIE_CAPS)
        format_caps(buf, c->caps);
    if ((c->flags & SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS) && c->bitmaps_xml)
        append_indented(buf, c->bitmaps_xml, 2);
    g_string_append(buf, "</qemu-migration>\n");
    return g_string_free(buf, FALSE);
}

/* ---------------------------------------------------------------- parse */

static gboolean
bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "%s", msg);
    return FALSE;
}

/* libvirt's virXPathInt/ULongLong on an attribute or a child's text: TRUE with the value
 * when it is a number, FALSE when absent or not one. */
static gboolean
read_ll(const char *s, gint64 *out)
{
    char *end = NULL;

    if (!s || !*s)
        return FALSE;
    *out = g_ascii_strtoll(s, &end, 10);
    return *end == '\0';
}

static gboolean
read_ull(const char *s, guint64 *out)
{
    char *end = NULL;

    if (!s || !*s || *s == '-')
        return FALSE;
    *out = g_ascii_strtoull(s, &end, 10);
    return *end == '\0';
}

static gboolean
child_ull(const xmlNode *parent, const char *name, guint64 *out)
{
    g_autofree char *s = sv_xml_child_text(parent, name);

    return read_ull(s, out);
}

static gboolean
parse_graphics(const xmlNode *n, SvMigrationCookie *c, GError **error)
{
    g_autofree char *port = sv_xml_prop(n, "port");
    g_autofree char *tls = sv_xml_prop(n, "tlsPort");
    SvMigCookieGraphics *g = g_new0(SvMigCookieGraphics, 1);
    gint64 v = 0;

    c->graphics = g;
    g->type = sv_xml_prop(n, "type");
    if (!g->type)
        return bad(error, "missing type attribute in migration data");
    if (!g_str_equal(g->type, "spice") && !g_str_equal(g->type, "vnc") &&
        !g_str_equal(g->type, "sdl") && !g_str_equal(g->type, "rdp") &&
        !g_str_equal(g->type, "desktop") && !g_str_equal(g->type, "egl-headless") &&
        !g_str_equal(g->type, "dbus"))
        return bad(error, "unknown graphics type %s", g->type);
    if (!read_ll(port, &v))
        return bad(error, "missing port attribute in migration data");
    g->port = (int)v;
    g->tls_port = -1;
    if (g_str_equal(g->type, "spice")) {
        if (!read_ll(tls, &v))
            return bad(error, "missing tlsPort attribute in migration data");
        g->tls_port = (int)v;
    }
    g->listen = sv_xml_prop(n, "listen");
    if (!g->listen)
        return bad(error, "missing listen attribute in migration data");
    for (const xmlNode *k = n->children; k; k = k->next) {
        g_autofree char *info = NULL;

        if (!sv_xml_is(k, "cert") || g->tls_subject)
            continue;
        info = sv_xml_prop(k, "info");
        if (g_strcmp0(info, "subject") == 0)
            g->tls_subject = sv_xml_prop(k, "value");
    }
    return TRUE;
}

static gboolean
parse_nbd(const xmlNode *n, SvMigrationCookie *c, GError **error)
{
    g_autofree char *port = sv_xml_prop(n, "port");
    gint64 v = 0;

    c->flags |= SV_MIG_COOKIE_NBD;
    if (port) {
        if (!read_ll(port, &v) || v < G_MININT || v > G_MAXINT)
            return bad(error, "Malformed nbd port '%s'", port);
        c->nbd_port = (int)v;
    }
    for (const xmlNode *k = n->children; k; k = k->next) {
        g_autofree char *target = NULL, *capacity = NULL;
        guint64 cap = 0;

        if (!sv_xml_is(k, "disk"))
            continue;
        target = sv_xml_prop(k, "target");
        if (!target || !*target)
            return bad(error, "Malformed disk target");
        capacity = sv_xml_prop(k, "capacity");
        if (!read_ull(capacity, &cap))
            return bad(error, "Malformed disk capacity: '%s'", capacity ? capacity : "<null>");
        sv_migration_cookie_add_nbd_disk(c, target, cap);
    }
    return TRUE;
}

static void
parse_stats(const xmlNode *n, SvMigrationCookie *c)
{
    SvMigCookieStats s = {0};
    g_autofree char *delta = sv_xml_child_text(n, "delta");
    g_autofree char *throttle = sv_xml_child_text(n, "auto_converge_throttle");
    gint64 v = 0;

    child_ull(n, "started", &s.started);
    child_ull(n, "stopped", &s.stopped);
    child_ull(n, "sent", &s.sent);
    s.has_delta = read_ll(delta, &s.delta);
    child_ull(n, "time_elapsed", &s.time_elapsed);
    s.has_downtime = child_ull(n, "downtime", &s.downtime);
    s.has_setup_time = child_ull(n, "setup_time", &s.setup_time);
    child_ull(n, "memory_total", &s.memory_total);
    child_ull(n, "memory_processed", &s.memory_processed);
    child_ull(n, "memory_remaining", &s.memory_remaining);
    child_ull(n, "memory_bps", &s.memory_bps);
    s.has_memory_constant = child_ull(n, "memory_constant", &s.memory_constant);
    child_ull(n, "memory_normal", &s.memory_normal);
    child_ull(n, "memory_normal_bytes", &s.memory_normal_bytes);
    child_ull(n, "memory_dirty_rate", &s.memory_dirty_rate);
    child_ull(n, "memory_iteration", &s.memory_iteration);
    child_ull(n, "memory_postcopy_requests", &s.memory_postcopy_requests);
    child_ull(n, "memory_page_size", &s.memory_page_size);
    child_ull(n, "disk_total", &s.disk_total);
    child_ull(n, "disk_processed", &s.disk_processed);
    child_ull(n, "disk_remaining", &s.disk_remaining);
    child_ull(n, "disk_bps", &s.disk_bps);
    s.has_compression = child_ull(n, "compression_cache", &s.compression_cache);
    child_ull(n, "compression_bytes", &s.compression_bytes);
    child_ull(n, "compression_pages", &s.compression_pages);
    child_ull(n, "compression_cache_misses", &s.compression_cache_misses);
    child_ull(n, "compression_overflow", &s.compression_overflow);
    if (read_ll(throttle, &v))
        s.auto_converge_throttle = (int)v;
    sv_migration_cookie_add_stats(c, &s);
}

static gboolean
parse_caps(const xmlNode *n, SvMigrationCookie *c, GError **error)
{
    c->flags |= SV_MIG_COOKIE_CAPS;
    for (const xmlNode *k = n ? n->children : NULL; k; k = k->next) {
        g_autofree char *name = NULL, *automatic = NULL;

        if (!sv_xml_is(k, "cap"))
            continue;
        name = sv_xml_prop(k, "name");
        if (!name)
            return bad(error, "missing migration capability name");
        automatic = sv_xml_prop(k, "auto");
        sv_migration_cookie_add_cap(c, name, g_strcmp0(automatic, "yes") == 0);
    }
    return TRUE;
}

static gboolean
parse_features(const xmlNode *root, guint accept, SvMigrationCookie *c, GError **error)
{
    for (const xmlNode *k = root->children; k; k = k->next) {
        g_autofree char *name = NULL;
        guint i = 0;

        if (!sv_xml_is(k, "feature"))
            continue;
        name = sv_xml_prop(k, "name");
        if (!name)
            return bad(error, "missing feature name");
        while (i < G_N_ELEMENTS(flag_names) && !g_str_equal(flag_names[i], name))
            i++;
        if (i == G_N_ELEMENTS(flag_names))
            return bad(error, "Unknown migration cookie feature %s", name);
        if (!(accept & (1u << i)))
            return bad(error, "Unsupported migration cookie feature %s", name);
        c->mandatory |= 1u << i;
    }
    return TRUE;
}

static gboolean
parse_head(const xmlNode *root, const SvMigCookieExpect *expect, SvMigrationCookie *c,
           GError **error)
{
    g_autofree char *name = sv_xml_child_text(root, "name");
    g_autofree char *uuid = sv_xml_child_text(root, "uuid");
    g_autofree char *hostuuid = NULL;
    char mine[SV_UUID_STRING_LEN + 1];

    if (!name)
        return bad(error, "missing name element in migration data");
    if (!g_str_equal(name, expect->name))
        return bad(error, "Incoming cookie data had unexpected name %s vs %s", name,
                   expect->name);
    if (!uuid)
        return bad(error, "missing uuid element in migration data");
    sv_uuid_format(expect->uuid, mine);
    if (!g_str_equal(uuid, mine))
        return bad(error, "Incoming cookie data had unexpected UUID %s vs %s", uuid, mine);
    g_free(c->hostname);
    c->hostname = sv_xml_child_text(root, "hostname");
    if (!c->hostname)
        return bad(error, "missing hostname element in migration data");
    hostuuid = sv_xml_child_text(root, "hostuuid");
    if (!hostuuid)
        return bad(error, "missing hostuuid element in migration data");
    if (!sv_uuid_parse(hostuuid, c->hostuuid))
        return bad(error, "malformed hostuuid element in migration data");
    if (memcmp(c->hostuuid, expect->hostuuid, 16) == 0)
        return bad(error, "Attempt to migrate guest to the same host %s", hostuuid);
    return TRUE;
}

static gboolean
parse_lockstate(const xmlNode *n, SvMigrationCookie *c, GError **error)
{
    g_autofree char *leases = NULL;

    c->lock_driver = sv_xml_prop(n, "driver");
    if (!c->lock_driver)
        return bad(error, "Missing lock driver name in migration cookie");
    leases = sv_xml_child_text(n, "leases");
    if (leases && *leases)
        c->lock_state = g_steal_pointer(&leases);
    return TRUE;
}

static gboolean
parse_persistent(xmlDoc *doc, const xmlNode *root, const SvMigCookieExpect *expect,
                 SvMigrationCookie *c, GError **error)
{
    xmlNode *found = NULL;
    g_autofree char *text = NULL;

    for (xmlNode *k = root->children; k; k = k->next) {
        if (!sv_xml_is(k, "domain"))
            continue;
        if (found)
            return bad(error, "Too many domain elements in migration cookie");
        found = k;
    }
    if (!found)
        return TRUE;
    text = sv_xml_node_dump(doc, found, 0);
    c->persistent = sv_domain_def_parse(text, SV_DOMAIN_PARSE_INACTIVE, error);
    if (!c->persistent)
        return FALSE;
    if (expect->dname && !g_str_equal(c->persistent->name, expect->dname)) {
        g_free(c->persistent->name);
        c->persistent->name = g_strdup(expect->dname);
    }
    c->flags |= SV_MIG_COOKIE_PERSISTENT;
    return TRUE;
}

/* A section kept as the sender wrote it (dumped from its element, at indent 0). */
static char *
keep_raw(xmlDoc *doc, const xmlNode *root, const char *name)
{
    xmlNode *n = sv_xml_child(root, name);

    return n ? sv_xml_node_dump(doc, n, 0) : NULL;
}

static gboolean
parse_sections(xmlDoc *doc, const xmlNode *root, guint accept, const SvMigCookieExpect *expect,
               SvMigrationCookie *c, GError **error)
{
    xmlNode *n;

    if ((accept & SV_MIG_COOKIE_GRAPHICS) && (n = sv_xml_child(root, "graphics"))) {
        c->flags |= SV_MIG_COOKIE_GRAPHICS;
        if (!parse_graphics(n, c, error))
            return FALSE;
    }
    if ((accept & SV_MIG_COOKIE_LOCKSTATE) && (n = sv_xml_child(root, "lockstate")) &&
        !parse_lockstate(n, c, error))
        return FALSE;
    if ((accept & SV_MIG_COOKIE_PERSISTENT) &&
        !parse_persistent(doc, root, expect, c, error))
        return FALSE;
    if ((accept & SV_MIG_COOKIE_NETWORK) && (c->network_xml = keep_raw(doc, root, "network")))
        c->flags |= SV_MIG_COOKIE_NETWORK;
    if ((accept & SV_MIG_COOKIE_NBD) && (n = sv_xml_child(root, "nbd")) &&
        !parse_nbd(n, c, error))
        return FALSE;
    if ((accept & SV_MIG_COOKIE_STATS) && (n = sv_xml_child(root, "statistics")))
        parse_stats(n, c);
    if ((accept & SV_MIG_COOKIE_CPU) && (c->cpu_xml = keep_raw(doc, root, "cpu")))
        c->flags |= SV_MIG_COOKIE_CPU;
    if ((accept & SV_MIG_COOKIE_CAPS) &&
        !parse_caps(sv_xml_child(root, "capabilities"), c, error))
        return FALSE;
    if ((accept & SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS) &&
        (c->bitmaps_xml = keep_raw(doc, root, "blockDirtyBitmaps")))
        c->flags |= SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS;
    return TRUE;
}

SvMigrationCookie *
sv_migration_cookie_parse(const char *data, gsize len, guint accept,
                          const SvMigCookieExpect *expect, GError **error)
{
    g_autoptr(SvMigrationCookie) c = NULL;
    xmlDoc *doc;
    xmlNode *root;
    gboolean ok;

    if (data && len && data[len - 1] != '\0') {
        bad(error, "Migration cookie was not NULL terminated");
        return NULL;
    }
    c = sv_migration_cookie_new(expect->name, expect->uuid, NULL, NULL);
    if (!data || !len)
        return g_steal_pointer(&c);
    doc = sv_xml_read_named_from(data, "(qemu_migration_cookie)", SV_FROM_QEMU, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    ok = parse_head(root, expect, c, error) && parse_features(root, accept, c, error) &&
         parse_sections(doc, root, accept, expect, c, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&c) : NULL;
}
