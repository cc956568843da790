/* domain_ifparams.c: DOMAIN_GET_INTERFACE_PARAMETERS (domain_ifparams.h). */
#include "domain/domain_ifparams.h"

#include <string.h>

#include "domain/domain_driver.h"
#include "domain/domain_modify.h"
#include "domain/domain_typed.h"
#include "util/error.h"

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
static const SvDomainNetDef *
find_net(const SvDomainDef *def, const char *device, GError **error)
{
    guint8 want[6], mac[6];
    gboolean is_mac = mac_read(device, want);

    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

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

void
sv_domain_ifparams_install_get(SvRemoteHandlers *h)
{
    h->domain_get_interface_parameters = get_interface_parameters;
}
