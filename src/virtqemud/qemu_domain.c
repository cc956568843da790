/* qemu_domain.c: a QEMU guest's private data and its run, its log, the files it leaves
 * while it runs, and the forced kill nobody waits on. */
#include "qemu_domain.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu_interface.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_agent.h"
#include "qemu_coredump.h"
#include "qemu_hotplug.h"
#include "qemu_migration.h"
#include "qemu_secret.h"
#include "qemu_status.h"
#include "qemu_virtiofs.h"
#include "qemu_cgroup.h"
#include "util/error.h"
#include "util/fd.h"

static void
qemu_domain_dispose(gpointer p)
{
    QemuDomain *qd = p;

    g_assert(!qd->dump); /* failed when QEMU went (qemu_domain_release) */
    g_clear_pointer(&qd->mig, qemu_migration_free);
    g_free(qd->dump_done);
    g_clear_pointer(&qd->hotplug, qemu_hotplug_free);
    g_clear_pointer(&qd->agent, qemu_agent_free);
    g_clear_pointer(&qd->mon, qemu_monitor_free);
    sv_process_free_later(qd->proc); /* never inside its own callbacks */
    if (qd->log_fd >= 0)
        close(qd->log_fd);
    g_free(qd->dir);
    g_free(qd->pid_path);
    g_ptr_array_unref(qd->ptys);
    g_clear_pointer(&qd->disk_keys, g_ptr_array_unref);
    explicit_bzero(qd->master_key, sizeof(qd->master_key));
    /* Labels stay: the guest may live on without us (daemon exit). */
    qemu_security_label_free(qd->sec);
}

/* QEMU is gone (or never ran): its monitor, files and label go with it. */
static void
qemu_domain_release(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    qemu_coredump_abort(obj);
    qemu_migration_release(obj);
    qemu_console_release(obj);
    g_clear_pointer(&qd->hotplug, qemu_hotplug_free);
    g_clear_pointer(&qd->agent, qemu_agent_free);
    g_clear_pointer(&qd->mon, qemu_monitor_free);
    qemu_interface_release(obj->def);
    qemu_interface_release_ports(obj->def, qemu_ctx_of(obj)->family_run_dir);
    qemu_domain_remove_files(obj);
    qemu_display_release(obj->def, qemu_ctx_of(obj)->display_ports,
                         qemu_ctx_of(obj)->websocket_ports);
    qemu_cgroup_remove(qemu_ctx_of(obj), obj->def->name);
    qemu_security_label_release(qemu_ctx_of(obj)->security, qd->sec);
}

/* A failed start's log says "start failed: ..." (qemu_start_error), no "shutting down". */
const SvRunFacts qemu_run_facts = {
    .dispose = qemu_domain_dispose,
    .release = qemu_domain_release,
    .log_fd_offset = offsetof(QemuDomain, log_fd),
    .start_error = qemu_start_error,
    .status_style = &qemu_status_style,
    .status_dir = qemu_status_dir,
    .status_exists = qemu_status_exists,
    .status_own = qemu_status_own,
};

guint
qemu_domain_begin(SvDomainObj *obj)
{
    QemuDomain *qd = sv_domain_run_new(sv_domain_driver_of_obj(obj), obj, sizeof(QemuDomain));

    qd->log_fd = -1;
    qd->log_offset = -1;
    qd->ptys = g_ptr_array_new_with_free_func(g_free);
    return obj->run;
}

SvDomainObj *
qemu_domain_find(gpointer run)
{
    return sv_domain_run_find_attached(run);
}

void
qemu_domain_kill(SvDomainObj *obj, SvStopCause cause)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    QemuDomain *qd = qemu_domain_of(obj);
    g_autoptr(GError) error = NULL;

    /* Written below, with the kill's mode and deadline. */
    sv_domain_run_change(obj, SV_RUN_STOPPING, cause);
    if (!qd->proc) {
        /* Still waiting for what QEMU's command line needs: nothing runs yet. */
        if (sv_domain_run_in_start(obj)) {
            sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                         "domain '%s' was stopped during its start", obj->def->name);
            qemu_start_failed(obj, g_steal_pointer(&error));
        }
        return;
    }
    sv_process_kill(qd->proc, FALSE, ctx->timeouts.term_timeout_ms,
                    ctx->timeouts.kill_timeout_ms, sv_process_kill_warn, NULL);
    qemu_status_save(obj);
}

int
qemu_domain_open_log(SvDomainObj *obj, GError **error)
{
    return sv_guest_log_open(qemu_ctx_of(obj)->log_dir, obj->def->name, SV_FROM_QEMU,
                             "cannot open log file", error);
}

void
qemu_domain_remove_files(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (qd->pid_path)
        sv_domain_store_remove_file_async(qemu_ctx_of(obj)->domains->store, qd->pid_path, NULL,
                                          NULL);
    if (qd->dir) {
        g_autofree char *sock = g_build_filename(qd->dir, "monitor.sock", NULL);
        g_autofree char *channel_dir = qemu_chr_channel_dir(qemu_ctx_of(obj)->lib_dir);

        unlink(sock);
        qemu_secret_master_key_remove(qd->dir);
        qemu_display_remove_sockets(obj->def, qd->dir);
        qemu_virtiofs_remove_sockets(obj->def, qd->dir);
        rmdir(qd->dir);
        qemu_chr_remove_channels(obj->def, channel_dir);
    }
}

int
qemu_listen_unix(const char *path, const char *what, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s path '%s' is %zu bytes; at most %zu fit in a UNIX socket "
                     "address (use a shorter root directory)",
                     what, path, strlen(path), sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot listen on %s '%s'", what, path);
        return -1;
    }
    return g_steal_fd(&fd);
}
