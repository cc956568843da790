/* lxc_console.c: DOMAIN_OPEN_CONSOLE: a container's console, a console connection to its
 * supervisor (which owns the pty, lxc_proto.h) on a stream (domain/domain_console.h). As in
 * libvirt's LXC driver there is no exclusive access: every open gets its own connection. */

#include "domain/domain_console.h"
#include "lxc_domain.h"
#include "util/error.h"
#include "util/fd.h"

#define INPUT_LIMIT (256 * 1024) /* queued for the supervisor before typing is dropped */

/* libvirt's LXC rules: a name matches a console's alias (consoleN); no name means the first
 * console, else the first serial. */
static const SvDomainChrDef *
find_console(SvDomainObj *obj, const char *dev_name, char **ret_alias)
{
    if (!dev_name) {
        GPtrArray *devs = obj->def->consoles->len ? obj->def->consoles : obj->def->serials;
        if (!devs->len)
            return NULL;
        *ret_alias = g_strdup(devs == obj->def->consoles ? "console0" : "serial0");
        return devs->pdata[0];
    }
    for (guint i = 0; i < obj->def->consoles->len; i++) {
        g_autofree char *alias = g_strdup_printf("console%u", i);
        if (g_str_equal(alias, dev_name)) {
            *ret_alias = g_steal_pointer(&alias);
            return obj->def->consoles->pdata[i];
        }
    }
    return NULL;
}

static gboolean
domain_open_console(SvCall *call, remote_domain_open_console_args *a, GError **error)
{
    LxcProcessContext *ctx = lxc_ctx_of_call(call);
    const char *dev = a->dev_name ? *a->dev_name : NULL;
    g_autofree char *alias = NULL;
    const SvDomainChrDef *chr;
    const char *socket_path;
    SvDomainObj *obj;
    int fd;

    if (!sv_check_flags(a->flags, 0, SV_FROM_LXC, "lxcDomainOpenConsole", error))
        return FALSE;
    obj = sv_domain_list_lookup_handle(ctx->domains->list, &a->dom, SV_FROM_LXC, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    chr = find_console(obj, dev, &alias);
    if (!chr) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "cannot find console device '%s'", dev ? dev : "default");
        return FALSE;
    }
    /* Only the first console exists in a container (lxc_spec.c): its /dev/console. */
    if (chr->source.type != SV_DOMAIN_CHR_TYPE_PTY || obj->def->consoles->len == 0 ||
        chr != obj->def->consoles->pdata[0]) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "character device %s is not using a PTY", dev ? dev : alias);
        return FALSE;
    }
    socket_path = lxc_process_get_console_socket(obj);
    if (!socket_path) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "PTY device is not yet assigned");
        return FALSE;
    }
    fd = lxc_monitor_connect(socket_path, "console", error);
    if (fd < 0)
        return FALSE;
    sv_console_open(call, fd, INPUT_LIMIT, NULL, NULL);
    return TRUE;
}

void
lxc_console_install(LxcProcessContext *ctx, SvRemoteHandlers *h)
{
    (void)ctx; /* its handler finds the context from its call */
    h->domain_open_console = domain_open_console;
}
