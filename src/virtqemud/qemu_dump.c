/* qemu_dump.c: the crash dump of <on_crash>coredump-*</on_crash> (qemu_dump.h). */
#include "qemu_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/error.h"

#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "qemu_process.h"
#include "qemu_security.h"
#include "util/fileio.h"

/* libvirt's short name of a guest (virDomainDefGetShortName): its id, then at most this
 * many characters of its name. */
#define DUMP_SHORT_NAME_MAX 20

typedef struct {
    QemuSecurity *security; /* (transfer none) the driver's, which outlives every guest */
    gpointer run; /* the run's weak handle: the guest may be destroyed meanwhile */
    SvStopCause then;
    char *path;
} DumpJob;

/* An empty 0600 file for QEMU to write. */
static gboolean
create_for_qemu(QemuSecurity *security, const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot create '%s'", path);
        return FALSE;
    }
    close(fd);
    if (!qemu_security_give_file(security, path, TRUE, error)) {
        unlink(path);
        return FALSE;
    }
    return TRUE;
}

char *
qemu_dump_path(const char *dir, int id, const char *name, GDateTime *now)
{
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d-%H:%M:%S");
    g_autofree char *shortname =
        g_utf8_substring(name, 0, MIN(g_utf8_strlen(name, -1), DUMP_SHORT_NAME_MAX));
    g_autofree char *file = g_strdup_printf("%d-%s-%s", id, shortname, stamp);

    return g_build_filename(dir, file, NULL);
}

static void
dump_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    DumpJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);
    g_autoptr(GError) local = NULL;

    (void)mon;
    (void)ret;
    /* As libvirt: a failed dump leaves the guest crashed, for its owner to look at. */
    if (!qemu_security_give_file(job->security, job->path, FALSE, &local))
        g_warning("crash dump: %s", local->message);
    /* As libvirt: no half-written dump is left. */
    if (error && unlink(job->path) < 0)
        g_debug("cannot remove %s: %s", job->path, g_strerror(errno));
    if (error)
        g_warning("crash dump to %s failed: %s", job->path, error->message);
    else if (obj && !sv_domain_run_destroying(obj))
        qemu_domain_kill(obj, job->then);
    g_free(job->path);
    g_free(job);
}

void
qemu_dump_on_crash(SvDomainObj *obj, SvStopCause then)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autoptr(GError) error = NULL;
    g_autofree char *protocol = NULL;
    DumpJob *job;
    JsonObject *args;

    if (!sv_mkdir_p(ctx->dump_dir, 0755, &error)) {
        g_warning("crash dump of %s: %s", obj->def->name, error->message);
        return;
    }
    job = g_new0(DumpJob, 1);
    job->security = ctx->security;
    job->run = sv_domain_obj_run_key(obj);
    job->then = then;
    job->path = qemu_dump_path(ctx->dump_dir, obj->id, obj->def->name, now);
    /* QEMU opens the file itself, as its own user: made here, given to it, and taken
     * back once written. The name has no '/' (sv_domain_name_check). */
    if (!create_for_qemu(ctx->security, job->path, &error)) {
        g_warning("crash dump of %s: %s", obj->def->name, error->message);
        g_free(job->path);
        g_free(job);
        return;
    }
    protocol = g_strconcat("file:", job->path, NULL);
    args = json_object_new();
    json_object_set_boolean_member(args, "paging", FALSE);
    json_object_set_string_member(args, "protocol", protocol);
    qemu_monitor_command(qemu_domain_of(obj)->mon, "dump-guest-memory", args, dump_done, job);
}
