/* qemu.c: libvirt-qemu where the driver is not QEMU's (issue 18 item 4): libvirt's LXC and
 * libxl drivers, and the secondary drivers whose daemons serve the program too, have none
 * of its calls, so its public API answers each with NO_SUPPORT ("this function is not
 * supported by the connection driver: virDomainQemu..."). */
#include "programs/qemu.h"

#include "protocol/qemu_dispatch.h"
#include "util/error.h"

static gboolean
unsupported(SvCall *call, GError **error)
{
    /* libvirt-qemu.c reports it in no error domain. */
    sv_error_set(error, SV_FROM_NONE, SV_ERR_NO_SUPPORT, "%s", sv_call_get_proc(call)->api);
    return FALSE;
}

static gboolean
monitor_command(SvCall *call, qemu_domain_monitor_command_args *a,
                qemu_domain_monitor_command_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

static gboolean
attach(SvCall *call, qemu_domain_attach_args *a, qemu_domain_attach_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

static gboolean
agent_command(SvCall *call, qemu_domain_agent_command_args *a,
              qemu_domain_agent_command_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

static gboolean
event_register(SvCall *call, qemu_connect_domain_monitor_event_register_args *a,
               qemu_connect_domain_monitor_event_register_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

void
sv_qemu_callback_not_registered(int callback_id, GError **error)
{
    sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                 "qemu monitor event callback %d not registered", callback_id);
}

/* No registration can exist: event_register never makes one. */
static gboolean
event_deregister(SvCall *call, qemu_connect_domain_monitor_event_deregister_args *a,
                 GError **error)
{
    (void)call;
    sv_qemu_callback_not_registered(a->callbackID, error);
    return FALSE;
}

/* A hypervisor driver passes descriptors (libvirt's global driver feature), so the public
 * API goes on to its read-only check and then finds no entry point. */
static gboolean
monitor_command_with_files(SvCall *call, qemu_domain_monitor_command_with_files_args *a,
                           qemu_domain_monitor_command_with_files_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

/* A secondary driver answers no feature at all: the public API stops at descriptor
 * passing, before its read-only check (the daemon always asks for the files out). */
static gboolean
monitor_command_with_files_no_fds(SvCall *call, qemu_domain_monitor_command_with_files_args *a,
                                  qemu_domain_monitor_command_with_files_ret *ret,
                                  GError **error)
{
    (void)call;
    (void)a;
    (void)ret;
    sv_error_set(error, SV_FROM_NONE, SV_ERR_ARGUMENT_UNSUPPORTED,
                 "fd passing is not supported by this connection");
    return FALSE;
}

static const SvQemuHandlers hypervisor_handlers = {
    .domain_monitor_command = monitor_command,
    .domain_attach = attach,
    .domain_agent_command = agent_command,
    .connect_domain_monitor_event_register = event_register,
    .connect_domain_monitor_event_deregister = event_deregister,
    .domain_monitor_command_with_files = monitor_command_with_files,
};

static const SvQemuHandlers secondary_handlers = {
    .domain_monitor_command = monitor_command,
    .domain_attach = attach,
    .domain_agent_command = agent_command,
    .connect_domain_monitor_event_register = event_register,
    .connect_domain_monitor_event_deregister = event_deregister,
    .domain_monitor_command_with_files = monitor_command_with_files_no_fds,
};

gboolean
sv_qemu_readonly_check(SvCall *call, const SvProcInfo *proc, const void *args, GError **error)
{
    (void)call;
    (void)args;
    if (proc->proc != QEMU_PROC_DOMAIN_MONITOR_COMMAND_WITH_FILES)
        return TRUE;
    sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_DENIED, "read only access prevents %s",
                 proc->api);
    return FALSE;
}

const SvProgramHooks sv_qemu_hooks = {
    .readonly_check = sv_qemu_readonly_check,
};

void
sv_qemu_serve_unsupported(SvServer *srv, gboolean secondary)
{
    if (secondary)
        sv_server_add_program(srv, &sv_qemu_handlers_info, &secondary_handlers);
    else
        sv_server_add_program_hooks(srv, &sv_qemu_handlers_info, &hypervisor_handlers,
                                    &sv_qemu_hooks, NULL, NULL);
}
