/* qemu.c: libvirt-qemu where the driver is not QEMU's (issue 18 item 4): libvirt's LXC and
 * libxl drivers have none of its calls, so its public API answers each with NO_SUPPORT
 * ("this function is not supported by the connection driver: virDomainQemu..."). */
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

static gboolean
event_deregister(SvCall *call, qemu_connect_domain_monitor_event_deregister_args *a,
                 GError **error)
{
    (void)a;
    return unsupported(call, error);
}

static gboolean
monitor_command_with_files(SvCall *call, qemu_domain_monitor_command_with_files_args *a,
                           qemu_domain_monitor_command_with_files_ret *ret, GError **error)
{
    (void)a;
    (void)ret;
    return unsupported(call, error);
}

static const SvQemuHandlers handlers = {
    .domain_monitor_command = monitor_command,
    .domain_attach = attach,
    .domain_agent_command = agent_command,
    .connect_domain_monitor_event_register = event_register,
    .connect_domain_monitor_event_deregister = event_deregister,
    .domain_monitor_command_with_files = monitor_command_with_files,
};

void
sv_qemu_serve_unsupported(SvServer *srv)
{
    sv_server_add_program(srv, &sv_qemu_handlers_info, &handlers);
}
