/* sv-loadgen: pipelined raw-RPC load generator for libvirt's remote protocol (libc only). */

/*
 * One connection, one thread.  After a blocking handshake (AUTH_LIST, CONNECT_OPEN) it keeps
 * exactly W calls of one void-argument procedure (CONNECT_GET_VERSION by default) in flight:
 * every poll round reads everything the kernel has, parses all complete replies, tops the
 * window up again and sends the new calls with a single write.  Replies may arrive out of
 * order (libvirtd answers from a worker pool), so outstanding serials live in a ring bitmap.
 *
 * Output, one line on stdout:  replies_per_sec=<float> replies=<n> seconds=<float>
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REMOTE_PROGRAM      0x20008086u
#define REMOTE_VERSION      1u
#define KEEPALIVE_PROGRAM   0x6b656570u
#define KEEPALIVE_PROC_PING 1u
#define KEEPALIVE_PROC_PONG 2u

#define PROC_CONNECT_OPEN        1u
#define PROC_CONNECT_GET_VERSION 4u
#define PROC_AUTH_LIST           66u

#define TYPE_CALL    0u
#define TYPE_REPLY   1u
#define TYPE_MESSAGE 2u
#define STATUS_OK    0u
#define STATUS_ERROR 1u

#define HEADER_LEN  28u              /* length word + 6 header words */
#define MESSAGE_MAX (33554432u + 4u) /* VIR_NET_MESSAGE_MAX plus the length word */
#define WINDOW_MAX  65536u
/* Outstanding serials are tracked in a ring; a call may lag the newest one by this much. */
#define RING_BITS     22u
#define RING_SIZE     (1u << RING_BITS)
#define STALL_SECONDS 30.0

typedef struct {
    uint32_t len, prog, vers, proc, type, serial, status;
} Header;

typedef struct {
    int fd;
    uint8_t *in; /* received, not yet parsed bytes: in[0 .. in_len) */
    size_t in_len, in_cap;
    uint8_t *out; /* encoded, not yet written bytes: out[out_off .. out_len) */
    size_t out_off, out_len, out_cap;
} Conn;

static const char *progname = "sv-loadgen";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static Header header_decode(const uint8_t *p)
{
    Header h = {
        get_u32(p),      get_u32(p + 4),  get_u32(p + 8),  get_u32(p + 12),
        get_u32(p + 16), get_u32(p + 20), get_u32(p + 24),
    };
    return h;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

/* Reserve n bytes at the end of the output buffer and return where they start. */
static uint8_t *out_reserve(Conn *c, size_t n)
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

static void out_message(Conn *c, uint32_t prog, uint32_t proc, uint32_t type, uint32_t serial,
                        const uint8_t *payload, size_t payload_len)
{
    uint8_t *p = out_reserve(c, HEADER_LEN + payload_len);
    put_u32(p, (uint32_t)(HEADER_LEN + payload_len));
    put_u32(p + 4, prog);
    put_u32(p + 8, prog == KEEPALIVE_PROGRAM ? 1u : REMOTE_VERSION);
    put_u32(p + 12, proc);
    put_u32(p + 16, type);
    put_u32(p + 20, serial);
    put_u32(p + 24, STATUS_OK);
    if (payload_len)
        memcpy(p + HEADER_LEN, payload, payload_len);
}

/* Write as much pending output as the socket takes; exits on a write error. */
static void conn_flush(Conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            die("write to server failed: %s", strerror(errno));
        }
        c->out_off += (size_t)n;
    }
}

/* Read whatever is available (one large read). Returns bytes read, 0 if it would block. */
static size_t conn_fill(Conn *c)
{
    if (c->in_cap - c->in_len < 65536) {
        c->in_cap = c->in_cap ? c->in_cap * 2 : 262144;
        c->in = xrealloc(c->in, c->in_cap);
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            return (size_t)n;
        }
        if (n == 0)
            die("server closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        die("read from server failed: %s", strerror(errno));
    }
}

/* Length of the first complete frame in the input buffer, or 0 if none is complete yet. */
static size_t conn_frame_len(const Conn *c, size_t off)
{
    if (c->in_len - off < 4)
        return 0;
    uint32_t len = get_u32(c->in + off);
    if (len < HEADER_LEN || len > MESSAGE_MAX)
        die("protocol error: bad frame length %" PRIu32, len);
    return c->in_len - off >= len ? len : 0;
}

static void conn_consume(Conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* Decode just enough of a virNetMessageError to say what went wrong. */
static void describe_error(const uint8_t *p, size_t n, char *buf, size_t buflen)
{
    if (n < 12) {
        snprintf(buf, buflen, "(truncated error payload)");
        return;
    }
    int32_t code = (int32_t)get_u32(p), domain = (int32_t)get_u32(p + 4);
    uint32_t has_msg = get_u32(p + 8);
    if (has_msg && n >= 16) {
        uint32_t len = get_u32(p + 12);
        if (len <= n - 16) {
            snprintf(buf, buflen, "code=%d domain=%d: %.*s", code, domain, (int)len, p + 16);
            return;
        }
    }
    snprintf(buf, buflen, "code=%d domain=%d", code, domain);
}

/* Check a reply header against what the call must have produced; exits on any mismatch. */
static void check_reply(const Header *h, const uint8_t *payload, uint32_t proc)
{
    if (h->prog != REMOTE_PROGRAM || h->vers != REMOTE_VERSION)
        die("protocol error: reply for program 0x%08" PRIx32 " version %" PRIu32, h->prog, h->vers);
    if (h->type != TYPE_REPLY)
        die("protocol error: message type %" PRIu32 " (serial %" PRIu32 "), expected REPLY",
            h->type, h->serial);
    if (h->status == STATUS_ERROR) {
        char buf[512];
        describe_error(payload, h->len - HEADER_LEN, buf, sizeof buf);
        die("server returned an error for proc %" PRIu32 " serial %" PRIu32 ": %s", h->proc,
            h->serial, buf);
    }
    if (h->status != STATUS_OK)
        die("protocol error: reply status %" PRIu32 " (serial %" PRIu32 ")", h->status, h->serial);
    if (h->proc != proc)
        die("protocol error: reply proc %" PRIu32 " for a call of proc %" PRIu32 " (serial %" PRIu32
            ")",
            h->proc, proc, h->serial);
}

/* Answer a keepalive PING; anything else that is not a REPLY is a protocol error. */
static bool handle_unsolicited(Conn *c, const Header *h)
{
    if (h->type != TYPE_MESSAGE)
        return false;
    if (h->prog == KEEPALIVE_PROGRAM && h->proc == KEEPALIVE_PROC_PING) {
        out_message(c, KEEPALIVE_PROGRAM, KEEPALIVE_PROC_PONG, TYPE_MESSAGE, 0, NULL, 0);
        return true;
    }
    if (h->prog == KEEPALIVE_PROGRAM && h->proc == KEEPALIVE_PROC_PONG)
        return true;
    die("protocol error: unexpected MESSAGE prog 0x%08" PRIx32 " proc %" PRIu32, h->prog, h->proc);
}

/* Blocking call used during the handshake: send one call, wait for its reply. */
static void call_sync(Conn *c, uint32_t proc, uint32_t serial, const uint8_t *args, size_t args_len,
                      uint8_t *ret, size_t ret_cap, size_t *ret_len)
{
    out_message(c, REMOTE_PROGRAM, proc, TYPE_CALL, serial, args, args_len);
    double deadline = now_s() + STALL_SECONDS;
    for (;;) {
        conn_flush(c);
        struct pollfd pfd = {c->fd, POLLIN | (c->out_off < c->out_len ? POLLOUT : 0), 0};
        int r = poll(&pfd, 1, 1000);
        if (r < 0 && errno != EINTR)
            die("poll failed: %s", strerror(errno));
        if (now_s() > deadline)
            die("no reply to proc %" PRIu32 " within %.0f s", proc, STALL_SECONDS);
        if (r <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        conn_fill(c);
        size_t len;
        while ((len = conn_frame_len(c, 0)) != 0) {
            Header h = header_decode(c->in);
            if (handle_unsolicited(c, &h)) {
                conn_consume(c, len);
                continue;
            }
            check_reply(&h, c->in + HEADER_LEN, proc);
            if (h.serial != serial)
                die("protocol error: reply serial %" PRIu32 ", expected %" PRIu32, h.serial,
                    serial);
            size_t n = len - HEADER_LEN;
            if (ret) {
                if (n > ret_cap)
                    die("protocol error: reply to proc %" PRIu32 " too large (%zu bytes)", proc, n);
                memcpy(ret, c->in + HEADER_LEN, n);
                *ret_len = n;
            }
            conn_consume(c, len);
            return;
        }
    }
}

static void handshake(Conn *c, const char *name)
{
    uint8_t ret[1024];
    size_t ret_len = 0;

    call_sync(c, PROC_AUTH_LIST, 0, NULL, 0, ret, sizeof ret, &ret_len);
    if (ret_len < 4)
        die("protocol error: AUTH_LIST reply too short");
    uint32_t count = get_u32(ret);
    if (count > (ret_len - 4) / 4)
        die("protocol error: AUTH_LIST reply truncated");
    bool none_ok = count == 0;
    for (uint32_t i = 0; i < count; i++)
        if (get_u32(ret + 4 + 4 * i) == 0)
            none_ok = true;
    if (!none_ok)
        die("server requires authentication (first type %" PRIu32 "); not supported",
            get_u32(ret + 4));

    /* CONNECT_OPEN args: remote_string name (present), unsigned flags. */
    size_t name_len = strlen(name), pad = (4 - name_len % 4) % 4;
    if (name_len > 4096)
        die("--name too long");
    uint8_t args[4 + 4 + 4096 + 4 + 4] = {0};
    put_u32(args, 1);
    put_u32(args + 4, (uint32_t)name_len);
    memcpy(args + 8, name, name_len);
    size_t off = 8 + name_len + pad;
    put_u32(args + off, 0);
    call_sync(c, PROC_CONNECT_OPEN, 1, args, off + 4, NULL, 0, NULL);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        die("socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("cannot connect to %s: %s", path, strerror(errno));
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));
    return fd;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s --socket PATH [--window W] [--seconds S] [--warmup S] [--proc N]\n"
            "          [--name URI]\n"
            "Keeps W void-argument calls (proc N, default 4 = CONNECT_GET_VERSION) in flight on\n"
            "one connection for S seconds after a warm-up and prints\n"
            "  replies_per_sec=<float> replies=<n> seconds=<float>\n",
            progname);
}

static double parse_double(const char *opt, const char *s, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < min)
        die("bad value for %s: '%s'", opt, s);
    return v;
}

int main(int argc, char **argv)
{
    const char *sock = NULL, *name = "qemu:///system";
    double seconds = 5, warmup = 1;
    uint32_t window = 1, proc = PROC_CONNECT_GET_VERSION;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            die("missing value for %s", a);
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--socket"))
            sock = v;
        else if (!strcmp(a, "--window"))
            window = (uint32_t)parse_double(a, v, 1);
        else if (!strcmp(a, "--seconds"))
            seconds = parse_double(a, v, 0.001);
        else if (!strcmp(a, "--warmup"))
            warmup = parse_double(a, v, 0);
        else if (!strcmp(a, "--proc"))
            proc = (uint32_t)parse_double(a, v, 1);
        else if (!strcmp(a, "--name"))
            name = v;
        else {
            usage(stderr);
            die("unknown option %s", a);
        }
    }
    if (!sock) {
        usage(stderr);
        die("--socket is required");
    }
    if (window > WINDOW_MAX)
        die("--window must be at most %u", WINDOW_MAX);
    signal(SIGPIPE, SIG_IGN);

    Conn c = {.fd = connect_unix(sock)};
    handshake(&c, name);

    /* Pre-encoded call; only the serial changes from one call to the next. */
    uint8_t call[HEADER_LEN];
    put_u32(call, HEADER_LEN);
    put_u32(call + 4, REMOTE_PROGRAM);
    put_u32(call + 8, REMOTE_VERSION);
    put_u32(call + 12, proc);
    put_u32(call + 16, TYPE_CALL);
    put_u32(call + 24, STATUS_OK);

    uint8_t *pending = calloc(RING_SIZE / 8, 1); /* bit set = call with that serial in flight */
    if (!pending)
        die("out of memory");
    uint32_t next_serial = 2, oldest = 2, inflight = 0;
    uint64_t replies = 0; /* replies received while measuring */
    enum { WARMUP, MEASURE, DRAIN } phase = warmup > 0 ? WARMUP : MEASURE;
    double t = now_s(), t_start = t, t_measure = t + warmup, t_end = t_measure + seconds;
    double t_stop = t_end, last_progress = t;

    for (;;) {
        t = now_s();
        if (phase == WARMUP && t >= t_measure) {
            phase = MEASURE;
            t_start = t;
        }
        if (phase == MEASURE && t >= t_end) {
            phase = DRAIN;
            t_stop = t;
        }
        if (phase == DRAIN && inflight == 0)
            break;
        if (t - last_progress > STALL_SECONDS)
            die("no reply for %.0f s (%" PRIu32 " calls in flight)", STALL_SECONDS, inflight);

        if (phase != DRAIN && inflight < window) {
            uint32_t n = window - inflight;
            uint8_t *p = out_reserve(&c, (size_t)n * HEADER_LEN);
            for (uint32_t k = 0; k < n; k++, p += HEADER_LEN) {
                if (next_serial - oldest >= RING_SIZE)
                    die("serial %" PRIu32 " still unanswered after %u newer calls", oldest,
                        RING_SIZE);
                memcpy(p, call, HEADER_LEN);
                put_u32(p + 20, next_serial);
                pending[(next_serial & (RING_SIZE - 1)) >> 3] |= (uint8_t)(1u << (next_serial & 7));
                next_serial++;
            }
            inflight += n;
        }
        conn_flush(&c);

        double until = phase == WARMUP ? t_measure : phase == MEASURE ? t_end : t + 1.0;
        int timeout_ms = (int)((until - t) * 1000.0) + 1;
        struct pollfd pfd = {c.fd, POLLIN | (c.out_off < c.out_len ? POLLOUT : 0), 0};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll failed: %s", strerror(errno));
        }
        if (r == 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (!conn_fill(&c))
            continue;

        size_t off = 0, len;
        while ((len = conn_frame_len(&c, off)) != 0) {
            const uint8_t *m = c.in + off;
            Header h = header_decode(m);
            off += len;
            if (handle_unsolicited(&c, &h))
                continue;
            check_reply(&h, m + HEADER_LEN, proc);
            uint32_t s = h.serial;
            uint8_t bit = (uint8_t)(1u << (s & 7));
            uint8_t *slot = &pending[(s & (RING_SIZE - 1)) >> 3];
            if (s - oldest >= next_serial - oldest || !(*slot & bit))
                die("protocol error: reply with serial %" PRIu32 " that is not in flight", s);
            *slot &= (uint8_t)~bit;
            inflight--;
            if (phase == MEASURE)
                replies++;
            while (oldest != next_serial &&
                   !(pending[(oldest & (RING_SIZE - 1)) >> 3] & (1u << (oldest & 7))))
                oldest++;
        }
        if (off)
            conn_consume(&c, off);
        last_progress = t;
    }

    close(c.fd);
    double secs = t_stop - t_start;
    printf("replies_per_sec=%.1f replies=%" PRIu64 " seconds=%.3f\n",
           secs > 0 ? (double)replies / secs : 0.0, replies, secs);
    free(pending);
    free(c.in);
    free(c.out);
    return 0;
}
