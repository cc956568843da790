/* client_auth.c: what a client must pass before its calls are served, and who it passed as
 * (server.h, "authentication"); the AUTH_* calls that pass it are programs/auth.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

static int
sock_family(SvClient *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (c->fd < 0 || getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0)
        return AF_UNSPEC;
    return ss.ss_family;
}

gboolean
sv_client_is_secure(SvClient *c)
{
    return sock_family(c) == AF_UNIX;
}

/* "ADDR;PORT", the form SASL takes addresses in; NULL for anything but IP. */
static char *
sasl_addr(int fd, gboolean peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN];
    const void *addr;
    guint port;

    if (fd < 0 || (peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                        : getsockname(fd, (struct sockaddr *)&ss, &len)) < 0)
        return NULL;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        addr = &in->sin_addr;
        port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        addr = &in6->sin6_addr;
        port = ntohs(in6->sin6_port);
    } else {
        return NULL;
    }
    if (!inet_ntop(ss.ss_family, addr, host, sizeof(host)))
        return NULL;
    return g_strdup_printf("%s;%u", host, port);
}

char *
sv_client_sasl_local_addr(SvClient *c)
{
    return sasl_addr(c->fd, FALSE);
}

char *
sv_client_sasl_remote_addr(SvClient *c)
{
    return sasl_addr(c->fd, TRUE);
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
