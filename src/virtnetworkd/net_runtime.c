/* net_runtime.c: a virtual network's data plane (placeholder until the bridge, dnsmasq and
 * firewall pieces land: start refuses with a clear error). */
#include "net_runtime.h"

struct SvNetRuntime {
    char *root;
};

SvNetRuntime *
sv_net_runtime_new(const char *root, GError **error)
{
    (void)error;
    SvNetRuntime *rt = g_new0(SvNetRuntime, 1);
    rt->root = g_strdup(root ? root : "");
    return rt;
}

void
sv_net_runtime_free(SvNetRuntime *rt)
{
    if (!rt)
        return;
    g_free(rt->root);
    g_free(rt);
}

static void
runtime_not_yet(SvNetRuntime *rt, gpointer tag, GAsyncReadyCallback cb, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, cb, data);
    g_task_set_source_tag(task, tag);
    (void)rt;
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "network data plane not implemented yet");
}

void
sv_net_runtime_start(SvNetRuntime *rt, const SvNetworkDef *def, GAsyncReadyCallback cb,
                     gpointer data)
{
    (void)def;
    runtime_not_yet(rt, sv_net_runtime_start, cb, data);
}

gboolean
sv_net_runtime_start_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error)
{
    (void)rt;
    return g_task_propagate_boolean(G_TASK(res), error);
}

void
sv_net_runtime_stop(SvNetRuntime *rt, const SvNetworkDef *def, GAsyncReadyCallback cb,
                    gpointer data)
{
    (void)def;
    runtime_not_yet(rt, sv_net_runtime_stop, cb, data);
}

gboolean
sv_net_runtime_stop_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error)
{
    (void)rt;
    return g_task_propagate_boolean(G_TASK(res), error);
}

gboolean
sv_net_runtime_reattach(SvNetRuntime *rt, const SvNetworkDef *def, GError **error)
{
    (void)rt;
    (void)def;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "network data plane not implemented yet");
    return FALSE;
}

gboolean
sv_net_runtime_reload(SvNetRuntime *rt, const SvNetworkDef *def, GError **error)
{
    return sv_net_runtime_reattach(rt, def, error);
}

GPtrArray *
sv_net_runtime_leases(SvNetRuntime *rt, const SvNetworkDef *def, const char *mac,
                      GError **error)
{
    (void)mac;
    sv_net_runtime_reattach(rt, def, error);
    return NULL;
}

void
sv_net_lease_free(SvNetLease *lease)
{
    if (!lease)
        return;
    g_free(lease->iface);
    g_free(lease->mac);
    g_free(lease->iaid);
    g_free(lease->ipaddr);
    g_free(lease->hostname);
    g_free(lease->clientid);
    g_free(lease);
}
