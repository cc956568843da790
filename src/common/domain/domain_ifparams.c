/* domain_ifparams.c: DOMAIN_GET/SET_INTERFACE_PARAMETERS (domain_ifparams.h). */
#include "domain/domain_ifparams.h"

#include <string.h>

#include "domain/domain_driver.h"
#include "domain/domain_modify.h"
#include "domain/domain_typed.h"
#include "util/error.h"
#include "util/netdev_bandwidth.h"

/* libvirt's VIR_DOMAIN_BANDWIDTH_* names, in the order it answers them. */
static const char *const names[] = {"inbound.average", "inbound.peak", "inbound.burst",
                                    "inbound.floor", "outbound.average", "outbound.peak",
                                    "outbound.burst"};

/* A MAC address as libvirt's virMacAddrParse reads one: six hex octets of one or two
 * digits, colon-separated. */
static gboolean
mac_read(const char *s, guint8 out[6])
{
    for (guint i = 0; i < 6; i++) {
        char *end;
        guint64 v;

        if (!g_ascii_isxdigit(*s))
            return FALSE;
        v = g_ascii_strtoull(s, &end, 16);
        if (end - s > 2 || v > 0xff || (i < 5 ? *end != ':' : *end != '\0'))
            return FALSE;
        out[i] = (guint8)v;
        s = end + 1;
    }
    return TRUE;
}

/* The interface named by its MAC address (when `device` reads as one) or by its host-side
 * name, as libvirt's virDomainNetFind; INVALID_ARG when none. */
static SvDomainNetDef *
find_net(const SvDomainDef *def, const char *device, GError **error)
{
    guint8 want[6], mac[6];
    gboolean is_mac = mac_read(device, want);

    for (guint i = 0; i < def->interfaces->len; i++) {
        SvDomainNetDef *n = def->interfaces->pdata[i];

        if (is_mac ? n->mac && mac_read(n->mac, mac) && memcmp(mac, want, 6) == 0
                   : g_strcmp0(n->target_dev, device) == 0)
            return n;
    }
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "'%s' is not a known interface",
                 device);
    return NULL;
}

static guint64
rate_field(const SvDomainNetDef *n, guint i)
{
    const SvDomainBandwidthRate *r = !n->bandwidth ? NULL : i < 4 ? n->bandwidth->in
                                                                  : n->bandwidth->out;
    const guint64 in[] = {r ? r->average : 0, r ? r->peak : 0, r ? r->burst : 0,
                          r ? r->floor : 0};

    return i < 4 ? in[i] : in[i - 4];
}

static gboolean
get_interface_parameters(SvCall *call, remote_domain_get_interface_parameters_args *a,
                         remote_domain_get_interface_parameters_ret *ret, GError **error)
{
    const SvDomainNetDef *net;
    const SvDomainDef *def;
    SvDomainObj *obj;
    guint n;

    if (!(obj = sv_domain_typed_get_begin(call, &a->dom, a->nparams,
                                          REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX, a->flags,
                                          "DomainGetInterfaceParameters", error)) ||
        !(def = sv_domain_modify_one_def(obj, a->flags & ~SV_TYPED_PARAM_STRING_OKAY, error)))
        return FALSE;
    if (a->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(names);
        return TRUE;
    }
    if (!(net = find_net(def, a->device, error)))
        return FALSE;
    n = MIN((guint)a->nparams, G_N_ELEMENTS(names));
    ret->params.params_val = g_new0(remote_typed_param, n);
    ret->params.params_len = n;
    for (guint i = 0; i < n; i++) {
        remote_typed_param *p = &ret->params.params_val[i];

        p->field = g_strdup(names[i]);
        p->value.type = SV_TYPED_PARAM_UINT;
        p->value.remote_typed_param_value_u.ui = (guint)rate_field(net, i);
    }
    ret->nparams = (int)n;
    return TRUE;
}

/* ---------------------------------------------------------------- set */

/* The parameters' order in names[]: inbound's four, then outbound's three. */
enum { IN_AVERAGE, IN_PEAK, IN_BURST, IN_FLOOR, OUT_AVERAGE, OUT_PEAK, OUT_BURST, N_NAMES };

static int
param_type(int which)
{
    (void)which;
    return SV_TYPED_PARAM_UINT;
}

/* What a set asks for: the rates given (a direction without its average, or inbound's
 * floor, dropped, as libvirt does) and whether each direction was named by its average
 * (or floor): a direction named with 0 is removed, one not named is kept. */
typedef struct {
    SvDomainBandwidthRate in, out;
    gboolean has_in, has_out;
    gboolean in_named, out_named;
} IfRequest;

/* libvirt's virTypedParamsValidate (each name known, a UINT, once), then the request. */
static gboolean
read_request(const remote_typed_param *p, guint n, IfRequest *req, GError **error)
{
    gboolean seen[N_NAMES] = {FALSE};

    for (guint i = 0; i < n; i++) {
        int which = sv_domain_typed_param_take(&p[i], names, N_NAMES, param_type, seen, error);
        guint64 v;

        if (which < 0)
            return FALSE;
        v = p[i].value.remote_typed_param_value_u.ui;
        switch (which) {
        case IN_AVERAGE: req->in.average = v; req->in_named = TRUE; break;
        case IN_PEAK: req->in.peak = v; break;
        case IN_BURST: req->in.burst = v; break;
        case IN_FLOOR: req->in.floor = v; req->in_named = TRUE; break;
        case OUT_AVERAGE: req->out.average = v; req->out_named = TRUE; break;
        case OUT_PEAK: req->out.peak = v; break;
        default: req->out.burst = v; break;
        }
    }
    req->has_in = req->in.average || req->in.floor;
    req->has_out = req->out.average != 0;
    return TRUE;
}

/* One direction after the request: the one asked for, else the old one unless the
 * direction was named (then none). (transfer full) */
static SvDomainBandwidthRate *
merged_rate(const SvDomainBandwidthRate *asked, gboolean has, gboolean named,
            const SvDomainBandwidthRate *old)
{
    if (has)
        return g_memdup2(asked, sizeof(*asked));
    return !named && old ? g_memdup2(old, sizeof(*old)) : NULL;
}

static SvDomainBandwidth *
merged(const IfRequest *req, const SvDomainBandwidth *old)
{
    SvDomainBandwidth *bw = g_new0(SvDomainBandwidth, 1);

    bw->in = merged_rate(&req->in, req->has_in, req->in_named, old ? old->in : NULL);
    bw->out = merged_rate(&req->out, req->has_out, req->out_named, old ? old->out : NULL);
    return bw;
}

/* The interface types libvirt sets rates on (virNetDevSupportsBandwidth); the others get
 * its error, for the live and the persistent interface alike. libvirt sets them on an
 * interface of type network too, through its port (NETWORK_PORT_SET_PARAMETERS, for the
 * floor the network reserves): not done here, so refused with the same words. */
static gboolean
check_type(SvDomainDriver *drv, const SvDomainNetDef *net, GError **error)
{
    switch (net ? net->type : SV_DOMAIN_NET_TYPE_ETHERNET) {
    case SV_DOMAIN_NET_TYPE_ETHERNET:
    case SV_DOMAIN_NET_TYPE_BRIDGE:
    case SV_DOMAIN_NET_TYPE_DIRECT:
        return TRUE;
    default:
        sv_error_set(error, drv->from, SV_ERR_CONFIG_UNSUPPORTED,
                     "setting bandwidth on interfaces of type '%s' is not implemented yet",
                     sv_domain_net_type_to_string(net->type));
        return FALSE;
    }
}

gboolean
sv_domain_ifparams_apply(SvDomainNetDef *live, const SvDomainBandwidth *bw, GError **error)
{
    const char *dev = live->type == SV_DOMAIN_NET_TYPE_USER ? NULL : live->target_dev;
    gboolean swapped = live->type != SV_DOMAIN_NET_TYPE_DIRECT;
    const SvDomainBandwidthRate *sent = !bw ? NULL : swapped ? bw->in : bw->out;

    if (bw ? !sv_netdev_bandwidth_set(dev, bw, swapped, error)
           : dev && live->bandwidth && !sv_netdev_bandwidth_clear(dev, error))
        return FALSE;
    if (dev && (!sent || !sent->average))
        sv_netdev_bandwidth_set_root_qdisc(dev, "noqueue", NULL);
    sv_domain_bandwidth_free(live->bandwidth);
    live->bandwidth = bw && (bw->in || bw->out) ? sv_netdev_bandwidth_copy(bw) : NULL;
    return TRUE;
}

/* The running interface's new rates (a floor refused as libvirt refuses it); what failed
 * is put back (the old rates, if any), as libvirt does. */
static gboolean
apply_live(SvDomainDriver *drv, SvDomainNetDef *net, const IfRequest *req, GError **error)
{
    g_autoptr(SvDomainBandwidth) bw = merged(req, net->bandwidth);

    if (sv_netdev_bandwidth_has_floor(bw)) {
        sv_netdev_bandwidth_floor_error(net->mac, drv->from, error);
        return FALSE;
    }
    if (!sv_domain_ifparams_apply(net, bw, error)) {
        sv_netdev_bandwidth_set(net->target_dev, net->bandwidth,
                                net->type != SV_DOMAIN_NET_TYPE_DIRECT, NULL);
        return FALSE;
    }
    return TRUE;
}

/* The persistent interface's rates: a new <bandwidth> takes the request as it is (even
 * with no direction: libvirt then writes an empty one); an existing one changes only in the
 * directions named. (transfer full) */
static SvDomainBandwidth *
config_rates(const SvDomainNetDef *net, const IfRequest *req)
{
    const SvDomainBandwidth *old = net->bandwidth;
    SvDomainBandwidth *bw;

    if (!old)
        return merged(req, NULL);
    bw = g_new0(SvDomainBandwidth, 1);
    bw->in = merged_rate(&req->in, req->has_in, req->has_in || req->in_named, old->in);
    bw->out = merged_rate(&req->out, req->has_out, req->has_out || req->out_named, old->out);
    return bw;
}

/* Kept on purpose, unlike libvirt: a floor on an interface that is not on a network is
 * refused in the persistent definition too. libvirt 9.0 writes it, then refuses that very
 * definition at the next start (and at its next load) with this parser error; splitvirt
 * gives the error now rather than keep a definition it cannot copy. */
static gboolean
check_config_floor(const SvDomainBandwidth *bw, GError **error)
{
    if (!sv_netdev_bandwidth_has_floor(bw))
        return TRUE;
    sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                 "floor attribute is not supported for this config");
    return FALSE;
}

static gboolean
set_interface_parameters(SvCall *call, remote_domain_set_interface_parameters_args *a,
                         GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainBandwidth) config_bw = NULL;
    SvDomainNetDef *net = NULL, *pnet = NULL;
    SvDomainDef *live, *config;
    IfRequest req = {0};
    SvDomainObj *obj;
    guint flags = a->flags;
    gboolean ok = TRUE;

    if (!sv_domain_driver_check_flags(drv, flags, SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG,
                                      "DomainSetInterfaceParameters", error) ||
        !read_request(a->params.params_val, a->params.params_len, &req, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error) ||
        (live && !(net = find_net(live, a->device, error))) ||
        (config && !(pnet = find_net(config, a->device, error))) ||
        !check_type(drv, net, error) || !check_type(drv, pnet, error))
        return FALSE;
    if (pnet && !check_config_floor(config_bw = config_rates(pnet, &req), error))
        return FALSE;
    if (net)
        ok = apply_live(drv, net, &req, error);
    if (ok && pnet) {
        sv_domain_bandwidth_free(pnet->bandwidth);
        pnet->bandwidth = g_steal_pointer(&config_bw);
    }
    return sv_domain_modify_finish(call, drv, obj, ok ? live : NULL, ok ? config : NULL, ok);
}

void
sv_domain_ifparams_install_get(SvRemoteHandlers *h)
{
    h->domain_get_interface_parameters = get_interface_parameters;
}

void
sv_domain_ifparams_install_set(SvRemoteHandlers *h)
{
    h->domain_set_interface_parameters = set_interface_parameters;
}
