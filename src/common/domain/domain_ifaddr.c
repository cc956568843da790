/* domain_ifaddr.c: a guest's interface addresses from the host's side, and the agent's
 * procedures answered NO_SUPPORT (domain_ifaddr.h). */
#include "domain_ifaddr.h"

#include <errno.h>
#include <string.h>

#include "domain/domain_netport.h"
#include "util/error.h"

#define ARP_TABLE "/proc/net/arp"

void
sv_domain_ifaddr_add(remote_domain_interface *iface, int type, const char *addr, guint prefix)
{
    guint n = iface->addrs.addrs_len;

    iface->addrs.addrs_val = g_renew(remote_domain_ip_addr, iface->addrs.addrs_val, n + 1);
    iface->addrs.addrs_val[n].type = type;
    iface->addrs.addrs_val[n].addr = g_strdup(addr);
    iface->addrs.addrs_val[n].prefix = prefix;
    iface->addrs.addrs_len = n + 1;
}

void
sv_domain_ifaddr_set(remote_domain_interface_addresses_ret *ret, GArray *ifaces)
{
    ret->ifaces.ifaces_len = ifaces->len;
    ret->ifaces.ifaces_val = (remote_domain_interface *)g_array_free(ifaces, FALSE);
}

/* One line of /proc/net/arp: "IP HWtype Flags HWaddress Mask Device". */
static void
arp_line(const SvDomainDef *def, const char *line, GArray *ifaces)
{
    g_auto(GStrv) w = g_strsplit_set(line, " \t", -1);
    const char *f[4];
    guint n = 0;

    for (guint i = 0; w[i] && n < G_N_ELEMENTS(f); i++)
        if (*w[i])
            f[n++] = w[i];
    if (n < 4)
        return;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *net = def->interfaces->pdata[i];
        remote_domain_interface iface = {0};

        if (!net->mac || g_ascii_strcasecmp(net->mac, f[3]) != 0)
            continue;
        iface.name = g_strdup(net->target_dev ? net->target_dev : "");
        iface.hwaddr = g_new(char *, 1);
        *iface.hwaddr = g_strdup(net->mac);
        sv_domain_ifaddr_add(&iface, SV_IP_ADDR_TYPE_IPV4, f[0], 0);
        g_array_append_val(ifaces, iface);
    }
}

void
sv_domain_ifaddr_from_arp(const SvDomainDef *def, const char *arp, GArray *ifaces)
{
    g_auto(GStrv) lines = g_strsplit(arp, "\n", -1);

    for (guint i = 1; lines[0] && lines[i]; i++) /* the first line is the header */
        arp_line(def, lines[i], ifaces);
}

gboolean
sv_domain_ifaddr_arp(const SvDomainDef *def, remote_domain_interface_addresses_ret *ret,
                     GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;
    GArray *ifaces;

    if (!g_file_get_contents(ARP_TABLE, &text, NULL, &e)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "%s", e->message);
        return FALSE;
    }
    ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));
    sv_domain_ifaddr_from_arp(def, text, ifaces);
    sv_domain_ifaddr_set(ret, ifaces);
    return TRUE;
}

static void
leases_found(GArray *ifaces, const char *hostname, const GError *error, gpointer data)
{
    SvCall *call = data;

    (void)hostname;
    remote_domain_interface_addresses_ret r = {{0}};

    if (error) {
        sv_call_fail(call, g_error_copy(error));
        return;
    }
    sv_domain_ifaddr_set(&r, ifaces);
    sv_call_reply(call, &r);
    xdr_free((xdrproc_t)xdr_remote_domain_interface_addresses_ret, (char *)&r);
}

void
sv_domain_ifaddr_lease(SvCall *call, const SvDomainDef *def, const char *run_dir)
{
    SvBackendIdentity id;

    sv_backend_identity_of_client(&id, sv_call_get_client(call));
    sv_netport_leases(def, run_dir, &id, FALSE, leases_found, sv_call_defer(call));
}

typedef struct {
    SvCall *call;
    char *name;
    int from;
} HostnameLookup;

static void
hostname_found(GArray *ifaces, const char *hostname, const GError *error, gpointer data)
{
    g_autofree HostnameLookup *h = data;
    g_autofree char *name = h->name;
    remote_domain_get_hostname_ret r = {(char *)hostname};
    GError *e = NULL;

    if (ifaces)
        g_array_unref(ifaces);
    if (error) {
        sv_call_fail(h->call, g_error_copy(error));
        return;
    }
    if (!hostname) {
        sv_error_set(&e, h->from, SV_ERR_NO_HOSTNAME, "no hostname found for domain %s", name);
        sv_call_fail(h->call, e);
        return;
    }
    sv_call_reply(h->call, &r);
}

void
sv_domain_hostname_lease(SvCall *call, const SvDomainDef *def, const char *run_dir, int from)
{
    HostnameLookup *h = g_new0(HostnameLookup, 1);
    SvBackendIdentity id;

    h->call = sv_call_defer(call);
    h->name = g_strdup(def->name);
    h->from = from;
    sv_backend_identity_of_client(&id, sv_call_get_client(call));
    sv_netport_leases(def, run_dir, &id, TRUE, hostname_found, h);
}

/* ---------------------------------------------------------------- without an agent */

static gboolean
set_time_no_support(SvCall *call, remote_domain_set_time_args *a, GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainSetTime");
    return FALSE;
}

static gboolean
fsfreeze_no_support(SvCall *call, remote_domain_fsfreeze_args *a,
                    remote_domain_fsfreeze_ret *r, GError **error)
{
    (void)call;
    (void)a;
    (void)r;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainFSFreeze");
    return FALSE;
}

static gboolean
fsthaw_no_support(SvCall *call, remote_domain_fsthaw_args *a,
                  remote_domain_fsthaw_ret *r, GError **error)
{
    (void)call;
    (void)a;
    (void)r;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainFSThaw");
    return FALSE;
}

static gboolean
get_fsinfo_no_support(SvCall *call, remote_domain_get_fsinfo_args *a,
                      remote_domain_get_fsinfo_ret *r, GError **error)
{
    (void)call;
    (void)a;
    (void)r;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainGetFSInfo");
    return FALSE;
}

static gboolean
set_user_password_no_support(SvCall *call, remote_domain_set_user_password_args *a,
                             GError **error)
{
    (void)call;
    if (!sv_domain_password_check(a, error))
        return FALSE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainSetUserPassword");
    return FALSE;
}

gboolean
sv_domain_password_check(const remote_domain_set_user_password_args *a, GError **error)
{
    const char *missing = !a->user ? "user" : !a->password ? "password" : NULL;

    if (missing)
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                     "%s in virDomainSetUserPassword must not be NULL", missing);
    return !missing;
}

void
sv_domain_agent_install_no_support(SvRemoteHandlers *h)
{
    h->domain_set_time = set_time_no_support;
    h->domain_fsfreeze = fsfreeze_no_support;
    h->domain_fsthaw = fsthaw_no_support;
    h->domain_get_fsinfo = get_fsinfo_no_support;
    h->domain_set_user_password = set_user_password_no_support;
}
