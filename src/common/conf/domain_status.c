/* domain_status.c: status files: their one format, the one strict reader, and setting
 * aside the untrusted ones. */
#include "conf/domain_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "util/error.h"

static const char *kill_names[SV_STATUS_KILL_LAST] = {"none", "graceful", "forced"};

const char *
sv_status_kill_to_string(int mode)
{
    return mode >= 0 && mode < SV_STATUS_KILL_LAST ? kill_names[mode] : NULL;
}

int
sv_status_kill_from_string(const char *s)
{
    for (int i = 0; s && i < SV_STATUS_KILL_LAST; i++) {
        if (g_str_equal(s, kill_names[i]))
            return i;
    }
    return -1;
}

/* ---------------------------------------------------------------- writing */

static void
format_common_attrs(GString *s, const SvStatusStyle *style, const SvStatusCommon *c)
{
    const char *state = sv_domain_state_to_string(c->state);

    g_string_append_printf(s, "<domstatus state='%s' reason='%d' statetime='%" G_GINT64_FORMAT
                           "' persistent='%d'",
                           state ? state : "nostate", c->reason, c->state_time, c->persistent);
    if (style->process && !*style->process)
        g_string_append_printf(s, " pid='%d' starttime='%" G_GUINT64_FORMAT "'", (int)c->pid,
                               c->start_time);
    g_string_append_printf(s, " starting='%d'", c->starting);
    if (style->autodestroy)
        g_string_append_printf(s, " autodestroy='%d'", c->autodestroy);
    if (style->kill_mode && c->kill_mode != SV_STATUS_KILL_NONE)
        g_string_append_printf(s, " %s='%s' %s='%" G_GINT64_FORMAT "'", style->kill_mode,
                               sv_status_kill_to_string(c->kill_mode), style->kill_deadline,
                               c->kill_deadline);
}

char *
sv_status_format(const SvStatusStyle *style, const SvStatusCommon *c, const SvStatusOwn *own,
                 const SvDomainDef *live, int id)
{
    static const SvStatusOwn none = {NULL, NULL, NULL};
    /* With its secrets, as libvirt's status XML: a restarted daemon needs them. */
    g_autofree char *dom =
        sv_domain_def_format(live, id, SV_DOMAIN_FORMAT_SECURE | SV_DOMAIN_FORMAT_STATUS);
    GString *s = g_string_new(NULL);

    own = own ? own : &none;
    format_common_attrs(s, style, c);
    g_string_append_printf(s, "%s>\n", own->attrs ? own->attrs : "");
    if (style->process && *style->process)
        g_string_append_printf(s, "  <%s pid='%d' starttime='%" G_GUINT64_FORMAT "'%s/>\n",
                               style->process, (int)c->pid, c->start_time,
                               own->process_attrs ? own->process_attrs : "");
    g_string_append_printf(s, "%s%s</domstatus>\n", own->children ? own->children : "", dom);
    return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- reading */

void
sv_status_free(SvStatus *st)
{
    if (!st)
        return;
    if (st->own && st->free_own)
        st->free_own(st->own);
    sv_domain_def_free(st->def);
    if (st->doc)
        xmlFreeDoc(st->doc);
    g_free(st);
}

static gboolean
invalid(GError **error, int from, const char *fmt, const char *what)
{
    sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, fmt, what ? what : "(none)");
    return FALSE;
}

gboolean
sv_status_attr_range(xmlNodePtr n, const char *name, gint64 min, gint64 max, gint64 otherwise,
                     gint64 *out, int from, GError **error)
{
    g_autofree char *v = sv_status_attr(n, name);
    g_autoptr(GError) local = NULL;

    if (!v) {
        *out = otherwise;
        return TRUE;
    }
    if (!g_ascii_string_to_signed(v, 10, min, max, out, &local)) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, "attribute %s='%s': %s", name, v,
                     local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_status_attr_flag(xmlNodePtr n, const char *name, gboolean *out, int from, GError **error)
{
    gint64 v;

    if (!sv_status_attr_range(n, name, 0, 1, 0, &v, from, error))
        return FALSE;
    *out = v != 0;
    return TRUE;
}

/* The process of a status file: a pid above 1 and a start time, both required. */
static gboolean
read_process(xmlNodePtr root, const SvStatusStyle *style, SvStatusCommon *c, GError **error)
{
    xmlNodePtr n = *style->process ? sv_status_child(root, style->process) : root;
    gint64 pid, start;

    if (!sv_status_attr_range(n, "pid", 2, G_MAXINT32, -1, &pid, style->from, error) ||
        !sv_status_attr_range(n, "starttime", 1, G_MAXINT64, -1, &start, style->from, error))
        return FALSE;
    if (pid < 0 || start < 0)
        return invalid(error, style->from, "no pid or start time%s", "");
    c->pid = (pid_t)pid;
    c->start_time = (guint64)start;
    return TRUE;
}

/* A kill under way: a known mode, and a deadline that is a time. */
static gboolean
read_kill(xmlNodePtr root, const SvStatusStyle *style, SvStatusCommon *c, GError **error)
{
    g_autofree char *mode = sv_status_attr(root, style->kill_mode);
    int m = mode ? sv_status_kill_from_string(mode) : SV_STATUS_KILL_NONE;

    if (m < 0)
        return invalid(error, style->from, "unknown kill mode '%s'", mode);
    c->kill_mode = m;
    return sv_status_attr_range(root, style->kill_deadline, 0, G_MAXINT64, 0, &c->kill_deadline,
                                style->from, error);
}

static gboolean
read_common(xmlNodePtr root, const SvStatusStyle *style, SvStatusCommon *c, GError **error)
{
    g_autofree char *state = sv_status_attr(root, "state");
    int from = style->from;
    gint64 v;

    c->state = sv_domain_state_from_string(state);
    if (!sv_status_attr_flag(root, "starting", &c->starting, from, error))
        return FALSE;
    /* A guest recorded has the state of one that runs, but for a start recorded before
     * its guest exists. */
    if (c->state < 0 || c->state == SV_DOMAIN_NOSTATE ||
        (c->state == SV_DOMAIN_SHUTOFF && !(c->starting && style->start_shut_off)))
        return invalid(error, from, "state '%s' is not a live one", state);
    if (!sv_status_attr_range(root, "reason", 0, 64, 0, &v, from, error) ||
        !sv_status_attr_range(root, "statetime", 0, G_MAXINT64, 0, &c->state_time, from,
                              error) ||
        !sv_status_attr_flag(root, "persistent", &c->persistent, from, error))
        return FALSE;
    c->reason = (int)v;
    if (style->autodestroy &&
        !sv_status_attr_flag(root, "autodestroy", &c->autodestroy, from, error))
        return FALSE;
    if (style->kill_mode && !read_kill(root, style, c, error))
        return FALSE;
    return !style->process || read_process(root, style, c, error);
}

/* The definition, named as its file, and its id if it has one (a number the driver checks
 * further: virtqemud's guests have ids from 1, a start of virtxend's none yet). */
static gboolean
read_domain(xmlNodePtr root, const char *file, const SvStatusStyle *style, SvStatus *st,
            GError **error)
{
    xmlNodePtr dom = sv_status_child(root, "domain");
    gint64 id;

    if (!dom)
        return invalid(error, style->from, "it has no <domain>%s", "");
    st->def = sv_status_parse_domain(st->doc, dom, error);
    if (!st->def)
        return FALSE;
    if (file) {
        g_autofree char *want = g_strconcat(st->def->name, ".xml", NULL);
        if (!g_str_equal(file, want))
            return invalid(error, style->from, "it describes domain '%s'", st->def->name);
    }
    if (!sv_status_attr_range(dom, "id", 0, G_MAXINT32, -1, &id, style->from, error))
        return FALSE;
    st->id = (int)id;
    return TRUE;
}

SvStatus *
sv_status_parse(const char *text, gsize len, const char *file, const SvStatusStyle *style,
                GError **error)
{
    g_autoptr(SvStatus) st = g_new0(SvStatus, 1);
    xmlNodePtr root;

    st->doc = sv_status_read(text, len, style->from, error);
    if (!st->doc)
        return NULL;
    root = xmlDocGetRootElement(st->doc);
    if (!read_domain(root, file, style, st, error) || !read_common(root, style, &st->c, error))
        return NULL;
    st->free_own = style->free_own;
    if (style->read_own && !style->read_own(style, root, st, error))
        return NULL;
    return g_steal_pointer(&st);
}

SvStatus *
sv_status_load(const char *path, const SvStatusStyle *style, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *file = g_path_get_basename(path);
    gsize len;

    if (!g_file_get_contents(path, &text, &len, NULL) || len > 16 * 1024 * 1024) {
        sv_error_set(error, style->from, SV_ERR_INTERNAL_ERROR, "cannot read it");
        return NULL;
    }
    return sv_status_parse(text, len, file, style, error);
}

xmlDocPtr
sv_status_read(const char *text, gsize len, int from, GError **error)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root;

    if (len <= G_MAXINT)
        doc = xmlReadMemory(text, (int)len, "status", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !xmlStrEqual(root->name, (const xmlChar *)"domstatus")) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, "it is not a <domstatus>");
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlNodePtr
sv_status_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)name))
            return c;
    }
    return NULL;
}

char *
sv_status_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    char *out = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return out;
}

gint64
sv_status_attr_int(xmlNodePtr n, const char *name)
{
    g_autofree char *v = sv_status_attr(n, name);

    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

SvDomainDef *
sv_status_parse_domain(xmlDocPtr doc, xmlNodePtr dom, GError **error)
{
    xmlBufferPtr buf = xmlBufferCreate();
    SvDomainDef *def;

    /* Dumped and parsed again by the definition parser, with its defences and checks. */
    xmlNodeDump(buf, doc, dom, 0, 0);
    def = sv_domain_def_parse((const char *)xmlBufferContent(buf), SV_DOMAIN_PARSE_STATUS, error);
    xmlBufferFree(buf);
    return def;
}

void
sv_status_set_aside(const char *path, const GError *why)
{
    g_autofree char *aside = g_strconcat(path, ".rejected", NULL);

    g_warning("setting aside status file '%s' as '%s', touching nothing it names: %s", path,
              aside, why->message);
    if (rename(path, aside) < 0)
        g_warning("cannot rename '%s': %s", path, g_strerror(errno));
}
