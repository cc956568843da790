/* transport.c: transport kinds and the TCP sockets under TCP and TLS connections
 * (transport.h). */
#include "rpc/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

static const char *const kind_names[SV_TRANSPORT_LAST] = {"unix", "tcp", "tls"};

const char *
sv_transport_kind_to_string(SvTransportKind kind)
{
    return kind < SV_TRANSPORT_LAST ? kind_names[kind] : NULL;
}

int
sv_transport_kind_from_string(const char *name)
{
    for (int i = 0; i < SV_TRANSPORT_LAST; i++) {
        if (name && g_str_equal(name, kind_names[i]))
            return i;
    }
    return -1;
}

static int
listen_one(const struct addrinfo *ai, GError **error)
{
    g_auto(SvFd) fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                             ai->ai_protocol);
    int on = 1;

    if (fd < 0) {
        if (errno == EAFNOSUPPORT)
            return -2; /* no IPv6 here: the other family serves */
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Unable to create socket");
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* One socket per family, as libvirt binds them: the IPv6 one takes IPv6 alone. */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno == EADDRNOTAVAIL && ai->ai_family == AF_INET6)
            return -2;
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Unable to bind to port");
        return -1;
    }
    if (listen(fd, 256) < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Unable to listen on socket");
        return -1;
    }
    return g_steal_fd(&fd);
}

static void
close_fd_at(gpointer p)
{
    close(*(int *)p);
}

GArray *
sv_transport_listen_tcp(const char *addr, const char *port, GError **error)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_ADDRCONFIG,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    int rc;

    g_array_set_clear_func(fds, close_fd_at);
    if (addr && !*addr)
        addr = NULL;
    rc = getaddrinfo(addr, port, &hints, &res);
    if (rc != 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to resolve address '%s' service '%s': %s", addr ? addr : "(null)",
                     port, gai_strerror(rc));
        return NULL;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = listen_one(ai, error);
        if (fd == -1) {
            freeaddrinfo(res);
            return NULL;
        }
        if (fd >= 0)
            g_array_append_val(fds, fd);
    }
    freeaddrinfo(res);
    if (fds->len == 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "No addresses to bind to for '%s' service '%s'", addr ? addr : "(null)",
                     port);
        return NULL;
    }
    g_array_set_clear_func(fds, NULL);
    return g_steal_pointer(&fds);
}

int
sv_transport_connect_tcp(const char *host, const char *port, GError **error)
{
    struct addrinfo hints = {.ai_flags = AI_ADDRCONFIG, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc, saved = 0;

    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "unable to resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        g_auto(SvFd) fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int on = 1;

        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(res);
            g_unix_set_fd_nonblocking(fd, TRUE, NULL);
            return g_steal_fd(&fd);
        }
        saved = errno;
    }
    freeaddrinfo(res);
    sv_error_set_errno(error, SV_FROM_RPC, saved ? saved : ECONNREFUSED,
                       "unable to connect to server at '%s:%s'", host, port);
    return -1;
}

char *
sv_transport_format_addr(int fd, gboolean local)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if ((local ? getsockname(fd, (struct sockaddr *)&ss, &len)
               : getpeername(fd, (struct sockaddr *)&ss, &len)) < 0)
        return NULL;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return NULL;
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return NULL;
    return g_strdup_printf("%s;%s", host, serv);
}
