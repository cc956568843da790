/* qemu_status.c: writing status files, and reading them back as hostile input.
 *
 * Who can write ROOT/run/libvirt/qemu is trusted, but a status file is still checked
 * like anything read from outside before the daemon signals a process, connects to a
 * socket, opens a pty or restores a label because of it: the file may be stale, torn
 * by a bug, or planted. */
#include "qemu_status.h"
#include "qemu_migrate_calls.h"

#include <errno.h>
#include <string.h>

#include "conf/domain_status.h"
#include "qemu_command.h"
#include "qemu_domain.h"
#include "domain/domain_helper.h"
#include "util/error.h"
#include "util/fileio.h"

/* ---------------------------------------------------------------- writing */

const char *
qemu_status_dir(SvDomainObj *obj)
{
    return qemu_ctx_of(obj)->run_dir;
}

gboolean
qemu_status_exists(SvDomainObj *obj)
{
    return qemu_domain_of(obj)->proc != NULL;
}

void
qemu_status_own(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *sock = g_build_filename(qd->dir, "monitor.sock", NULL);
    g_autofree char *sec_attrs = qemu_security_label_format_status_attrs(qd->sec);
    g_autofree char *sec_files =
        qemu_security_label_format_status_children(qemu_ctx_of(obj)->security, qd->sec);
    g_autoptr(GString) helpers = g_string_new(NULL);
    gboolean graceful = FALSE;

    c->pid = sv_process_get_pid(qd->proc);
    c->start_time = sv_process_get_start_time(qd->proc);
    /* A kill under way is carried on by a restarted daemon, in the same mode and on
     * the same timeline (the monotonic clock is the system's, not the daemon's). */
    if (sv_process_get_kill(qd->proc, &graceful, &c->kill_deadline))
        c->kill_mode = graceful ? SV_STATUS_KILL_GRACEFUL : SV_STATUS_KILL_FORCED;
    own->attrs = g_strdup_printf(" destroying='%d' fakereboot='%d' crashdestroy='%d' "
                                 "crashrestart='%d'%s",
                                 sv_domain_run_destroying(obj), qd->fake_reboot,
                                 sv_domain_run_crashing(obj),
                                 sv_domain_run_stopping(obj, SV_STOP_CRASH_RESTART), sec_attrs);
    sv_run_helpers_format_status(qd->run.helpers, helpers); /* virtiofsd */
    qemu_migrate_status_format(obj, helpers);               /* a migration's phase */
    own->children = g_strdup_printf("  <monitor path='%s'/>\n%s%s", sock, sec_files, helpers->str);
}

void
qemu_status_save(SvDomainObj *obj)
{
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
}

/* ---------------------------------------------------------------- reading */

static void
qemu_status_free(gpointer data)
{
    QemuStatus *qs = data;

    g_free(qs->monitor);
    g_free(qs->emulator);
    g_free(qs);
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
    GPtrArray *lists[] = {def->serials, def->consoles, def->channels};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainChrDef *c = lists[l]->pdata[i];
            if (c->source.type == SV_DOMAIN_CHR_TYPE_PTY && c->source.path &&
                !is_pty_path(c->source.path)) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "pty path '%s' is not a /dev/pts device", c->source.path);
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
            if (c->source.type == SV_DOMAIN_CHR_TYPE_FILE && g_strcmp0(c->source.path, path) == 0)
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

/* The flags of <domstatus> only virtqemud records. */
static gboolean
load_flags(xmlNodePtr root, QemuStatus *qs, GError **error)
{
    return sv_status_attr_flag(root, "destroying", &qs->destroying, SV_FROM_QEMU, error) &&
           sv_status_attr_flag(root, "fakereboot", &qs->fake_reboot, SV_FROM_QEMU, error) &&
           sv_status_attr_flag(root, "crashdestroy", &qs->crash_destroy, SV_FROM_QEMU, error) &&
           sv_status_attr_flag(root, "crashrestart", &qs->crash_restart, SV_FROM_QEMU, error);
}

/* The guest has an id; its monitor socket is read (and checked by qemu_status_check_places). */
static gboolean
load_monitor(xmlNodePtr root, const SvStatus *st, QemuStatus *qs, GError **error)
{
    if (st->id < 1) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "the domain has no id");
        return FALSE;
    }
    qs->monitor = sv_status_attr(sv_status_child(root, "monitor"), "path");
    return TRUE;
}

static gboolean
read_own(const SvStatusStyle *style, xmlNodePtr root, SvStatus *st, GError **error)
{
    QemuStatus *qs = g_new0(QemuStatus, 1);

    (void)style;
    st->own = qs;
    return load_flags(root, qs, error) && load_monitor(root, st, qs, error) &&
           qemu_migrate_status_load(sv_status_child(root, "job"), &qs->mig_dir,
                                    &qs->mig_phase, &qs->mig_flags, error) &&
           check_ptys(st->def, error) && check_relabels(root, st->def, error);
}

gboolean
qemu_status_check_places(QemuProcessContext *ctx, SvStatus *st, GError **error)
{
    QemuStatus *qs = qemu_status_of(st);
    const char *default_emulator = qemu_caps_get_emulator(ctx->caps);
    g_autofree char *dir = qemu_domain_dir_name(st->id, st->def->name);
    g_autofree char *want_mon = g_build_filename(ctx->lib_dir, dir, "monitor.sock", NULL);

    if (!qs->monitor || !g_str_equal(qs->monitor, want_mon)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "monitor socket '%s' is not %s", qs->monitor ? qs->monitor : "(none)",
                     want_mon);
        return FALSE;
    }
    g_free(qs->emulator);
    qs->emulator = g_strdup(qemu_command_emulator(st->def, default_emulator));
    return qemu_command_check_emulator(qs->emulator, default_emulator,
                                       (const char *const *)ctx->allowed_emulators, FALSE,
                                       error);
}

const SvStatusStyle qemu_status_style = {
    .from = SV_FROM_QEMU,
    .process = "",
    .kill_mode = "killmode",
    .kill_deadline = "killdeadline",
    .autodestroy = TRUE,
    .read_own = read_own,
    .free_own = qemu_status_free,
};
