/* client_auth.c: what a client must pass before its calls are served, and who it passed as
 * (server.h, "authentication"); the AUTH_* calls that pass it are programs/auth.c. */
#include "rpc/server-internal.h"

static const char *const auth_names[SV_AUTH_LAST] = {
    [SV_AUTH_NONE] = "none",
    [SV_AUTH_SASL] = "sasl",
    [SV_AUTH_POLKIT] = "polkit",
};

const char *
sv_auth_to_string(SvAuth auth)
{
    return (guint)auth < SV_AUTH_LAST ? auth_names[auth] : NULL;
}

int
sv_auth_from_string(const char *name)
{
    for (int i = 0; name && i < SV_AUTH_LAST; i++) {
        if (g_str_equal(name, auth_names[i]))
            return i;
    }
    return -1;
}

SvAuth
sv_client_get_auth(SvClient *c)
{
    return c->auth;
}

void
sv_client_set_authenticated(SvClient *c)
{
    c->auth = SV_AUTH_NONE;
}

const char *
sv_client_get_sasl_user(SvClient *c)
{
    return c->sasl_user;
}

void
sv_client_set_sasl_user(SvClient *c, const char *user)
{
    g_free(c->sasl_user);
    c->sasl_user = g_strdup(user);
}

gboolean
sv_client_is_secure(SvClient *c)
{
    return c->transport != SV_TRANSPORT_TCP;
}

char *
sv_client_sasl_local_addr(SvClient *c)
{
    return g_strdup(c->sock_addr_local);
}

char *
sv_client_sasl_remote_addr(SvClient *c)
{
    return g_strdup(c->sock_addr);
}

guint
sv_server_n_unauth_clients(SvServer *srv)
{
    guint n = 0;

    for (GList *l = srv->clients.head; l; l = l->next) {
        if (((SvClient *)l->data)->auth != SV_AUTH_NONE)
            n++;
    }
    return n;
}
