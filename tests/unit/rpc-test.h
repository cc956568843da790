/* rpc-test.h: what the RPC server's unit tests share: frames over a test's own socket,
 * read while the daemon-side loop runs. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/program.h"
#include "protocol/sv_net.h"
#include "rpc/message.h"

/* A unix socket listening on path (a test's own directory). */
static inline int
rpc_test_listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 256), ==, 0);
    return fd;
}

/* A connection to the unix socket at path. */
static inline int
rpc_test_connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    strcpy(sa.sun_path, path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    return fd;
}

/* Run the loop for up to ms, or until nothing is left to do when ms is 0. */
static inline void
rpc_test_spin(int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    do {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (ms)
            g_usleep(1000);
    } while (g_get_monotonic_time() < end);
}

/* Encode a frame of any type; for CALL_WITH_FDS the count comes before the args. */
static inline SvMsg *
rpc_test_frame(guint32 prog, int proc, guint32 type, guint32 serial, xdrproc_t filter,
               void *args, gint64 nfds)
{
    SvHeader h = {prog, 1, proc, type, serial, SV_NET_OK};
    g_autofree SvMsg *body = sv_msg_encode(&h, filter ? filter : (xdrproc_t)sv_xdr_void, args,
                                           NULL);
    SvMsg *m;

    if (nfds < 0)
        return g_steal_pointer(&body);
    m = g_malloc(sizeof(SvMsg) + body->len + 4);
    m->len = body->len + 4;
    m->off = 0;
    memcpy(m->data, body->data, SV_FRAME_MIN);
    sv_put_be32(m->data, m->len);
    sv_put_be32(m->data + SV_FRAME_MIN, (guint32)nfds);
    memcpy(m->data + SV_FRAME_MIN + 4, body->data + SV_FRAME_MIN, body->len - SV_FRAME_MIN);
    return m;
}

/* One sendmsg of len bytes carrying n descriptors (none when n is 0). */
static inline void
rpc_test_send(int sock, const void *data, gsize len, const int *fds, int n)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 64)];
    } ctl;
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    g_assert_cmpint(n, <=, 64);
    if (n) {
        struct cmsghdr *cm;
        memset(ctl.buf, 0, sizeof(ctl.buf));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    }
    g_assert_cmpint(sendmsg(sock, &msg, MSG_NOSIGNAL), ==, (gssize)len);
}

/* Run the loop until one whole message arrives on sock; NULL on EOF or after
 * timeout_ms. */
static inline GBytes *
rpc_test_recv(int sock, int timeout_ms)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (g_get_monotonic_time() < end) {
        struct pollfd p = {sock, POLLIN, 0};
        guint8 tmp[4096];
        gsize want;
        ssize_t n;

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&p, 1, 5) <= 0)
            continue;
        want = buf->len < 4 ? 4 : sv_be32(buf->data);
        n = read(sock, tmp, MIN(sizeof(tmp), want - buf->len));
        if (n <= 0)
            return NULL;
        g_byte_array_append(buf, tmp, n);
        if (buf->len >= 4 && buf->len == sv_be32(buf->data))
            return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
    }
    return NULL;
}

/* Whether the peer closed sock within timeout_ms (what it sent first is dropped). */
static inline gboolean
rpc_test_wait_eof(int sock, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (g_get_monotonic_time() < end) {
        struct pollfd p = {sock, POLLIN, 0};
        guint8 tmp[4096];

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&p, 1, 5) <= 0)
            continue;
        if (read(sock, tmp, sizeof(tmp)) <= 0)
            return TRUE;
    }
    return FALSE;
}

static inline void
rpc_test_header(GBytes *b, SvHeader *h)
{
    sv_header_decode((const guint8 *)g_bytes_get_data(b, NULL) + 4, h);
}

/* The error of an ERROR reply. (transfer full) */
static inline GError *
rpc_test_error(GBytes *b)
{
    gsize len;
    const guint8 *p = g_bytes_get_data(b, &len);

    return sv_error_from_payload(p + SV_FRAME_MIN, len - SV_FRAME_MIN);
}

/* A pipe whose write end goes to the daemon: once every copy of it is closed, the read
 * end sees end of file, which tells a test the daemon closed what it was given. */
typedef struct {
    int rd;
    int wr;
} RpcTestPipe;

static inline RpcTestPipe
rpc_test_pipe(void)
{
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC | O_NONBLOCK), ==, 0);
    return (RpcTestPipe){p[0], p[1]};
}

/* After the write end was sent: drop ours, then wait for the daemon's copy to go. */
static inline gboolean
rpc_test_pipe_closed_by_peer(RpcTestPipe *p, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    if (p->wr >= 0)
        close(p->wr);
    p->wr = -1;
    while (g_get_monotonic_time() < end) {
        struct pollfd pf = {p->rd, POLLIN, 0};
        char c;

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&pf, 1, 5) > 0 && read(p->rd, &c, 1) == 0)
            return TRUE;
    }
    return FALSE;
}

static inline void
rpc_test_pipe_close(RpcTestPipe *p)
{
    if (p->rd >= 0)
        close(p->rd);
    if (p->wr >= 0)
        close(p->wr);
    p->rd = p->wr = -1;
}
