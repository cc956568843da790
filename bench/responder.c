/* sv-responder: the minimal libvirt-RPC responder, the ceiling for a synchronous round trip. */

/*
 * A single poll loop over a unix listening socket and all its clients.  Every CALL gets a
 * canned REPLY that echoes prog, vers, proc and serial with status OK; the payload is a u64
 * version for CONNECT_GET_VERSION (4), the auth type list [NONE] for AUTH_LIST (66) and empty
 * otherwise.  Keepalive PINGs get a PONG.  Per client it reads everything available, answers
 * every complete call and sends all the answers with one write.  It never decodes arguments,
 * so it does no work a real daemon could skip: its numbers are the floor for per-call cost.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KEEPALIVE_PROGRAM        0x6b656570u
#define KEEPALIVE_PROC_PING      1u
#define KEEPALIVE_PROC_PONG      2u
#define PROC_CONNECT_GET_VERSION 4u
#define PROC_AUTH_LIST           66u
#define TYPE_CALL                0u
#define TYPE_REPLY               1u
#define TYPE_MESSAGE             2u
#define STATUS_OK                0u

#define HEADER_LEN  28u
#define MESSAGE_MAX (33554432u + 4u)
#define CLIENTS_MAX 1024
/* Stop reading from a client whose unsent replies exceed this (it is not reading them). */
#define OUT_HIGH_WATER (4u << 20)
#define FAKE_VERSION   9000000ull

typedef struct {
    int fd;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
} Client;

static volatile sig_atomic_t quit_requested;

static void on_signal(int sig)
{
    (void)sig;
    quit_requested = 1;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("sv-responder: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

static uint8_t *out_reserve(Client *c, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        while (c->out_len + n > c->out_cap)
            c->out_cap = c->out_cap ? c->out_cap * 2 : 65536;
        c->out = xrealloc(c->out, c->out_cap);
    }
    uint8_t *p = c->out + c->out_len;
    c->out_len += n;
    return p;
}

/* Append the canned answer to the message whose 28 bytes (length word + header) are at m. */
static void answer(Client *c, const uint8_t *m)
{
    uint32_t prog = get_u32(m + 4), proc = get_u32(m + 12), type = get_u32(m + 16);
    size_t payload = 0;

    if (type == TYPE_MESSAGE && prog == KEEPALIVE_PROGRAM && proc == KEEPALIVE_PROC_PING) {
        uint8_t *p = out_reserve(c, HEADER_LEN);
        memcpy(p, m, HEADER_LEN);
        put_u32(p, HEADER_LEN);
        put_u32(p + 12, KEEPALIVE_PROC_PONG);
        put_u32(p + 24, STATUS_OK);
        return;
    }
    if (type != TYPE_CALL)
        return;
    if (proc == PROC_CONNECT_GET_VERSION)
        payload = 8;
    else if (proc == PROC_AUTH_LIST)
        payload = 8;

    uint8_t *p = out_reserve(c, HEADER_LEN + payload);
    memcpy(p, m, 24); /* length word is overwritten below; prog, vers, proc, serial stay */
    put_u32(p, (uint32_t)(HEADER_LEN + payload));
    put_u32(p + 16, TYPE_REPLY);
    put_u32(p + 24, STATUS_OK);
    if (proc == PROC_CONNECT_GET_VERSION) {
        put_u32(p + 28, (uint32_t)(FAKE_VERSION >> 32));
        put_u32(p + 32, (uint32_t)FAKE_VERSION);
    } else if (proc == PROC_AUTH_LIST) {
        put_u32(p + 28, 1); /* one auth type ... */
        put_u32(p + 32, 0); /* ... NONE */
    }
}

/* Returns false when the client must be dropped. */
static bool client_flush(Client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        c->out_off += (size_t)n;
    }
    return true;
}

/* Read everything available, answer all complete calls. Returns false to drop the client. */
static bool client_read(Client *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 262144;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n == 0)
            return false;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return false;
        }
        c->in_len += (size_t)n;
        if (c->in_len < c->in_cap)
            break; /* short read: the socket is drained */
    }

    size_t off = 0;
    while (c->in_len - off >= 4) {
        uint32_t len = get_u32(c->in + off);
        if (len < HEADER_LEN || len > MESSAGE_MAX) {
            fprintf(stderr, "sv-responder: dropping client: bad frame length %u\n", len);
            return false;
        }
        if (c->in_len - off < len)
            break;
        answer(c, c->in + off);
        off += len;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return true;
}

static void client_free(Client *c)
{
    close(c->fd);
    free(c->in);
    free(c->out);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        die("socket path too long: %s", path);
    strcpy(sa.sun_path, path);

    /* Replace a stale socket from an earlier run, never any other kind of file. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            die("%s exists and is not a socket", path);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("cannot bind %s: %s", path, strerror(errno));
    if (listen(fd, 128) < 0)
        die("listen: %s", strerror(errno));
    return fd;
}

/*
 * Socket activation (systemd's LISTEN_FDS protocol): the first passed fd is the listener, so
 * that the activation measurement has a floor too (exec plus one reply).  Returns -1 if none.
 */
static int listen_fd_from_activation(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid() || strtol(fds, NULL, 10) < 1)
        return -1;
    int fd = 3; /* SD_LISTEN_FDS_START */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("Usage: sv-responder --socket PATH\n"
                   "       (or socket-activated: listens on the first LISTEN_FDS socket)\n");
            return 0;
        } else {
            die("usage: sv-responder --socket PATH");
        }
    }
    int lfd = listen_fd_from_activation();
    if (lfd < 0 && !path)
        die("usage: sv-responder --socket PATH");

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll gets EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (lfd < 0)
        lfd = listen_unix(path);
    else
        path = NULL; /* the activator owns the socket file */
    static Client clients[CLIENTS_MAX];
    static struct pollfd pfds[CLIENTS_MAX + 1];
    int nclients = 0;

    while (!quit_requested) {
        pfds[0] = (struct pollfd){lfd, nclients < CLIENTS_MAX ? POLLIN : 0, 0};
        for (int i = 0; i < nclients; i++) {
            Client *c = &clients[i];
            size_t unsent = c->out_len - c->out_off;
            pfds[i + 1] = (struct pollfd){
                c->fd,
                (short)((unsent < OUT_HIGH_WATER ? POLLIN : 0) | (unsent ? POLLOUT : 0)),
                0,
            };
        }
        int r = poll(pfds, (nfds_t)nclients + 1, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }

        /* Walk backwards so that dropping client i (swap with the last) is safe. */
        for (int i = nclients - 1; i >= 0; i--) {
            short re = pfds[i + 1].revents;
            Client *c = &clients[i];
            bool ok = true;
            if (re & (POLLIN | POLLHUP | POLLERR))
                ok = client_read(c);
            if (ok && c->out_off < c->out_len)
                ok = client_flush(c);
            if (!ok) {
                client_free(c);
                clients[i] = clients[--nclients];
            }
        }

        if (pfds[0].revents & POLLIN) {
            while (nclients < CLIENTS_MAX) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                clients[nclients++] = (Client){.fd = fd};
            }
        }
    }

    for (int i = 0; i < nclients; i++)
        client_free(&clients[i]);
    close(lfd);
    if (path)
        unlink(path);
    return 0;
}
