/* qemu_status.c: writing status files, and reading them back as hostile input.
 *
 * Who can write ROOT/run/libvirt/qemu is trusted, but a status file is still checked
 * like anything read from outside before the daemon signals a process, connects to a
 * socket, opens a pty or restores a label because of it: the file may be stale, torn
 * by a bug, or planted. */
#include "qemu_status.h"

#include <errno.h>
#include <string.h>

#include "conf/domain_status.h"
#include "qemu_command.h"
#include "qemu_domain.h"
#include "util/error.h"
#include "util/fileio.h"

static const char *kill_mode_names[QEMU_KILL_LAST] = {"none", "graceful", "forced"};

const char *
qemu_kill_mode_to_string(int mode)
{
    return mode >= 0 && mode < QEMU_KILL_LAST ? kill_mode_names[mode] : NULL;
}

int
qemu_kill_mode_from_string(const char *s)
{
    for (int i = 0; s && i < QEMU_KILL_LAST; i++) {
        if (g_str_equal(s, kill_mode_names[i]))
            return i;
    }
    return -1;
}

/* ---------------------------------------------------------------- writing */

static char *
status_path(SvDomainObj *obj)
{
    return g_strdup_printf("%s/%s.xml", qemu_ctx->run_dir, obj->def->name);
}

static char *
format_status(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);
    SvStatusCommon common = sv_status_common_of(obj);
    g_autofree char *sock = g_build_filename(qd->dir, "monitor.sock", NULL);
    g_autofree char *sec_attrs = qemu_security_label_format_status_attrs(qd->sec);
    g_autofree char *sec_files = qemu_security_label_format_status_children(qemu_ctx->security,
                                                                            qd->sec);
    g_autofree char *kill = NULL;
    g_autofree char *attrs = NULL;
    g_autofree char *children = NULL;
    gboolean graceful = FALSE;
    gint64 deadline = 0;

    /* A kill under way is carried on by a restarted daemon, in the same mode and on
     * the same timeline (the monotonic clock is the system's, not the daemon's). */
    if (sv_process_get_kill(qd->proc, &graceful, &deadline))
        kill = g_strdup_printf(" killmode='%s' killdeadline='%" G_GINT64_FORMAT "'",
                               qemu_kill_mode_to_string(graceful ? QEMU_KILL_GRACEFUL
                                                                 : QEMU_KILL_FORCED),
                               deadline);
    attrs = g_strdup_printf(
        " pid='%d' starttime='%" G_GUINT64_FORMAT "' destroying='%d' fakereboot='%d' "
        "crashdestroy='%d' crashrestart='%d' autodestroy='%d' starting='%d'%s%s",
        (int)sv_process_get_pid(qd->proc), sv_process_get_start_time(qd->proc),
        sv_domain_run_destroying(obj), qd->fake_reboot, sv_domain_run_crashing(obj),
        sv_domain_run_stopping(obj, SV_STOP_CRASH_RESTART), qd->autodestroy_client != 0,
        sv_domain_run_in_start(obj), kill ? kill : "", sec_attrs);
    children = g_strdup_printf("  <monitor path='%s'/>\n%s", sock, sec_files);
    return sv_status_format(&common, attrs, children, obj->def, obj->id);
}

void
qemu_status_save_then(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *path = status_path(obj);
    g_autofree char *text = NULL;

    if (!qd || !qd->proc || obj->state == SV_DOMAIN_SHUTOFF) {
        sv_domain_store_remove_file_async(qemu_ctx->domains->store, path, done, data);
        return;
    }
    text = format_status(obj);
    sv_domain_store_write_file_async(qemu_ctx->domains->store, path, text, done, data);
}

void
qemu_status_save(SvDomainObj *obj)
{
    sv_domain_driver_save_status(qemu_ctx->domains, obj);
}

/* ---------------------------------------------------------------- reading */

void
qemu_status_free(QemuStatus *st)
{
    if (!st)
        return;
    sv_domain_def_free(st->def);
    g_free(st->monitor);
    g_free(st->emulator);
    if (st->doc)
        xmlFreeDoc(st->doc);
    g_free(st);
}

/* An integer attribute in [min, max]; absent gives `otherwise`. */
static gboolean
attr_int(xmlNodePtr n, const char *name, gint64 min, gint64 max, gint64 otherwise, gint64 *out,
         GError **error)
{
    g_autofree char *v = sv_status_attr(n, name);
    g_autoptr(GError) local = NULL;

    if (!v) {
        *out = otherwise;
        return TRUE;
    }
    if (!g_ascii_string_to_signed(v, 10, min, max, out, &local)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "attribute %s='%s': %s", name,
                     v, local->message);
        return FALSE;
    }
    return TRUE;
}

static gboolean
attr_flag(xmlNodePtr n, const char *name, gboolean *out, GError **error)
{
    gint64 v;

    if (!attr_int(n, name, 0, 1, 0, &v, error))
        return FALSE;
    *out = v != 0;
    return TRUE;
}

/* A pty QEMU allocated: /dev/pts/N, nothing else (the console opens it). */
static gboolean
is_pty_path(const char *path)
{
    const char *n;

    if (!sv_path_is_within(path, "/dev/pts"))
        return FALSE;
    n = path + strlen("/dev/pts/");
    return *n && strspn(n, "0123456789") == strlen(n);
}

static gboolean
check_ptys(const SvDomainDef *def, GError **error)
{
    GPtrArray *lists[] = {def->serials, def->consoles};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainChrDef *c = lists[l]->pdata[i];
            if (c->type == SV_DOMAIN_CHR_TYPE_PTY && c->source_path &&
                !is_pty_path(c->source_path)) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "pty path '%s' is not a /dev/pts device", c->source_path);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* Whether the definition names path as a file QEMU opens (the ones labels are put on). */
static gboolean
def_names_file(const SvDomainDef *def, const char *path)
{
    GPtrArray *chrs[] = {def->serials, def->consoles};

    if (g_strcmp0(def->os.kernel, path) == 0 || g_strcmp0(def->os.initrd, path) == 0)
        return TRUE;
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        if (g_strcmp0(d->source, path) == 0)
            return TRUE;
    }
    for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
        for (guint i = 0; i < chrs[l]->len; i++) {
            const SvDomainChrDef *c = chrs[l]->pdata[i];
            if (c->type == SV_DOMAIN_CHR_TYPE_FILE && g_strcmp0(c->source_path, path) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

static gboolean
check_relabels(xmlNodePtr root, const SvDomainDef *def, GError **error)
{
    for (xmlNodePtr c = root->children; c; c = c->next) {
        g_autofree char *path = NULL;
        if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "relabel"))
            continue;
        path = sv_status_attr(c, "path");
        if (!path || !def_names_file(def, path)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "relabelled file '%s' is not one the definition names",
                         path ? path : "(none)");
            return FALSE;
        }
    }
    return TRUE;
}

/* The numbers and flags of <domstatus>. */
static gboolean
load_attrs(xmlNodePtr root, QemuStatus *st, GError **error)
{
    g_autofree char *state = sv_status_attr(root, "state");
    g_autofree char *mode = sv_status_attr(root, "killmode");
    gint64 v;
    int kill_mode = mode ? qemu_kill_mode_from_string(mode) : QEMU_KILL_NONE;

    st->state = sv_domain_state_from_string(state);
    if (st->state < 0 || st->state == SV_DOMAIN_SHUTOFF || st->state == SV_DOMAIN_NOSTATE) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "state '%s' is not a live one",
                     state ? state : "(none)");
        return FALSE;
    }
    if (kill_mode < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "unknown killmode '%s'", mode);
        return FALSE;
    }
    st->kill_mode = kill_mode;
    if (!attr_int(root, "reason", 0, 64, 0, &v, error))
        return FALSE;
    st->reason = (int)v;
    if (!attr_int(root, "statetime", 0, G_MAXINT64, 0, &st->state_time, error) ||
        !attr_int(root, "pid", 2, G_MAXINT32, -1, &v, error))
        return FALSE;
    st->pid = (pid_t)v;
    if (!attr_int(root, "starttime", 1, G_MAXINT64, -1, &v, error) ||
        !attr_int(root, "killdeadline", 0, G_MAXINT64, 0, &st->kill_deadline, error))
        return FALSE;
    st->start_time = (guint64)v;
    if (st->pid < 0 || v < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "no pid or start time");
        return FALSE;
    }
    return attr_flag(root, "destroying", &st->destroying, error) &&
           attr_flag(root, "fakereboot", &st->fake_reboot, error) &&
           attr_flag(root, "crashdestroy", &st->crash_destroy, error) &&
           attr_flag(root, "crashrestart", &st->crash_restart, error) &&
           attr_flag(root, "autodestroy", &st->autodestroy, error) &&
           attr_flag(root, "starting", &st->starting, error);
}

/* What the definition says about where the guest lives, checked against where this
 * daemon puts a guest of that name and id. */
static gboolean
load_places(const char *path, xmlNodePtr dom, xmlNodePtr mon, QemuStatus *st, GError **error)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *want = g_strconcat(st->def->name, ".xml", NULL);
    g_autofree char *dir = NULL, *want_mon = NULL;
    gint64 id;

    if (!g_str_equal(base, want)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "it describes domain '%s'",
                     st->def->name);
        return FALSE;
    }
    if (!attr_int(dom, "id", 1, G_MAXINT32, -1, &id, error))
        return FALSE;
    if (id < 1) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "the domain has no id");
        return FALSE;
    }
    st->id = (int)id;
    dir = qemu_domain_dir_name(st->id, st->def->name);
    want_mon = g_build_filename(qemu_ctx->lib_dir, dir, "monitor.sock", NULL);
    st->monitor = sv_status_attr(mon, "path");
    if (!st->monitor || !g_str_equal(st->monitor, want_mon)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "monitor socket '%s' is not %s", st->monitor ? st->monitor : "(none)",
                     want_mon);
        return FALSE;
    }
    return TRUE;
}

QemuStatus *
qemu_status_load(const char *path, GError **error)
{
    g_autoptr(QemuStatus) st = g_new0(QemuStatus, 1);
    g_autofree char *text = NULL;
    gsize len;
    xmlNodePtr root, dom, mon;

    if (!g_file_get_contents(path, &text, &len, NULL) || len > 16 * 1024 * 1024) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "cannot read it");
        return NULL;
    }
    st->doc = sv_status_read(text, len, SV_FROM_QEMU, error);
    if (!st->doc)
        return NULL;
    root = xmlDocGetRootElement(st->doc);
    dom = sv_status_child(root, "domain");
    mon = sv_status_child(root, "monitor");
    if (!dom || !mon) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "it is not a <domstatus>");
        return NULL;
    }
    st->def = sv_status_parse_domain(st->doc, dom, error);
    if (!st->def || !load_attrs(root, st, error) || !load_places(path, dom, mon, st, error) ||
        !check_ptys(st->def, error) || !check_relabels(root, st->def, error))
        return NULL;
    st->emulator = g_strdup(qemu_command_emulator(st->def, qemu_caps_get_emulator(qemu_ctx->caps)));
    if (!qemu_command_check_emulator(st->emulator, qemu_caps_get_emulator(qemu_ctx->caps),
                                     (const char *const *)qemu_ctx->allowed_emulators, FALSE,
                                     error))
        return NULL;
    return g_steal_pointer(&st);
}
