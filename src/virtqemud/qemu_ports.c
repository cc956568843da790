/* qemu_ports.c: a range of TCP ports handed out to guests (qemu_ports.h). */
#include "qemu_ports.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"

struct QemuPorts {
    char *name;
    guint min;
    guint max;
    GHashTable *used; /* of GUINT_TO_POINTER(port) */
};

QemuPorts *
qemu_ports_new(const char *name, guint min, guint max)
{
    QemuPorts *p = g_new0(QemuPorts, 1);

    g_return_val_if_fail(min >= 1 && min <= max && max <= 65535, NULL);
    p->name = g_strdup(name);
    p->min = min;
    p->max = max;
    p->used = g_hash_table_new(NULL, NULL);
    return p;
}

void
qemu_ports_free(QemuPorts *p)
{
    if (!p)
        return;
    g_free(p->name);
    g_hash_table_unref(p->used);
    g_free(p);
}

/* Whether a listening socket could bind `port` on the wildcard address of `family`. Only
 * EADDRINUSE counts as taken: a host without IPv6 does not make every port busy. */
static gboolean
port_bindable(int family, guint port)
{
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                              .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    int one = 1;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;

    if (fd < 0)
        return TRUE;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    rc = family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
                            : bind(fd, (struct sockaddr *)&a4, sizeof(a4));
    rc = rc < 0 && errno == EADDRINUSE ? -1 : 0;
    close(fd);
    return rc == 0;
}

gboolean
qemu_ports_acquire(QemuPorts *p, guint *ret_port, GError **error)
{
    for (guint port = p->min; port <= p->max; port++) {
        if (g_hash_table_contains(p->used, GUINT_TO_POINTER(port)) ||
            !port_bindable(AF_INET6, port) || !port_bindable(AF_INET, port))
            continue;
        g_hash_table_add(p->used, GUINT_TO_POINTER(port));
        *ret_port = port;
        return TRUE;
    }
    sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                 "Unable to find an unused port in range '%s' (%u-%u)", p->name, p->min, p->max);
    return FALSE;
}

int
qemu_ports_reserve(QemuPorts *p, guint port, GError **error)
{
    if (port < p->min || port > p->max)
        return 0;
    if (g_hash_table_contains(p->used, GUINT_TO_POINTER(port))) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Failed to reserve port %u",
                     port);
        return -1;
    }
    g_hash_table_add(p->used, GUINT_TO_POINTER(port));
    return 1;
}

void
qemu_ports_set_used(QemuPorts *p, guint port)
{
    if (port >= p->min && port <= p->max)
        g_hash_table_add(p->used, GUINT_TO_POINTER(port));
}

void
qemu_ports_release(QemuPorts *p, guint port)
{
    g_hash_table_remove(p->used, GUINT_TO_POINTER(port));
}

gboolean
qemu_ports_is_used(const QemuPorts *p, guint port)
{
    return g_hash_table_contains(p->used, GUINT_TO_POINTER(port));
}
