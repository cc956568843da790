/* fuzz-dispatch.c: libFuzzer harness for the server's dispatch (dispatch.c, over
 * connection.c) with the generated tables of the remote, admin and private programs: every
 * procedure's argument decoder, the connection rules (not open, already open, read-only),
 * keepalive, deferred calls and the shared remote handlers (remote.c), over a real
 * connection on a socketpair.
 *
 * Input: byte 0 holds flags (bit 0: the socket is read-only; bit 1: the harness sends a
 * CONNECT_OPEN first, so mutations need not keep one; bit 2: the server is a secondary
 * driver's daemon, the storage one, whose other families' and domain calls have no
 * handler); the rest is the byte stream a client sends. It is written frame by frame, following the length words, with the main
 * context run until quiet after each write; the replies are read and dropped.
 *
 * The stand-in driver: the shared handlers from sv_remote_common_handlers() (or, as the
 * storage daemon, sv_remote_secondary_handlers()) run as in every daemon; each other
 * procedure of the three programs (as the storage daemon, of the storage family) gets the
 * generic stand-in
 * below in place of the generated typed invoke function (the rest of its table entry,
 * the XDR filters, sizes and flags, is the generated one). It accepts the decoded
 * arguments and answers with a default return value, fails, or defers, chosen by the
 * call's serial, so that every reply path runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/remote.h"
#include "protocol/admin_dispatch.h"
#include "protocol/private_dispatch.h"
#include "protocol/sv_net.h"
#include "protocol/sv_remote.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

enum {
    FUZZ_FLAG_READONLY = 1 << 0,
    FUZZ_FLAG_OPEN = 1 << 1,
    FUZZ_FLAG_SECONDARY = 1 << 2,
};

/* Zero bytes decode into every type's default value: empty strings and arrays, absent
 * optional values, discriminant 0; that value encodes. */
static const guint8 zeros[4096];

typedef union {
    guint8 b[512];
    gint64 align;
    void *p;
} RetBuf;

/* Fill ret (zeroed, p->ret_size bytes) with a default value that encodes. */
static void
default_ret(const SvProcInfo *p, void *ret)
{
    /* A type without such a default (a union without arm 0) stays zeroed: its reply
     * then fails to encode, which the server answers as an error. */
    sv_xdr_decode(zeros, sizeof(zeros), p->ret_filter, ret, NULL);
}

static gboolean
complete_deferred(gpointer data)
{
    SvCall *call = data;
    const SvProcInfo *p = sv_call_get_proc(call);
    RetBuf ret;

    memset(&ret, 0, sizeof(ret));
    default_ret(p, &ret);
    sv_call_reply(call, &ret);
    xdr_free(p->ret_filter, (char *)&ret);
    return G_SOURCE_REMOVE;
}

/* The stand-in for every handler the shared set does not provide. */
static gboolean
stand_in_invoke(const void *handlers, SvCall *call, void *args, void *ret, GError **error)
{
    const SvProcInfo *p = sv_call_get_proc(call);

    (void)handlers;
    (void)args;
    switch (sv_call_get_header(call)->serial % 4) {
    case 2:
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_DOMAIN, "Domain not found: %s", p->name);
        return FALSE;
    case 3:
        g_idle_add(complete_deferred, sv_call_defer(call));
        return TRUE;
    default:
        default_ret(p, ret);
        return TRUE;
    }
}

/* A program whose procedures without a handler in `handlers` get the stand-in (those of
 * `family` alone, unless it is -1): the table is copied, and those procedures' handler
 * slots are made non-NULL so the dispatcher finds them (the slot is never called; the
 * stand-in invoke ignores it). */
typedef struct {
    SvProgramInfo info;
    SvProcInfo *procs;
} StandInProgram;

static void
stand_in_program_init(StandInProgram *sp, const SvProgramInfo *info, void *handlers,
                      int family)
{
    void (*slot_value)(void) = (void (*)(void))stand_in_invoke;

    sp->procs = g_new(SvProcInfo, info->n_procs);
    memcpy(sp->procs, info->procs, sizeof(SvProcInfo) * info->n_procs);
    for (guint i = 0; i < info->n_procs; i++) {
        SvProcInfo *p = &sp->procs[i];
        if (!p->invoke || sv_proc_has_handler(p, handlers) ||
            (family >= 0 && (int)p->family != family))
            continue; /* a MESSAGE, a real shared handler, or not the daemon's */
        memcpy((char *)handlers + p->handler_offset, &slot_value, sizeof(slot_value));
        p->invoke = stand_in_invoke;
    }
    sp->info = *info;
    sp->info.procs = sp->procs;
}

static SvRemoteHandlers remote_handlers, storage_handlers;
static SvAdminHandlers admin_handlers;
static SvPrivateHandlers private_handlers;
static StandInProgram remote_program, storage_program, admin_program, private_program;

static SvProcFamily
storage_family(gpointer data)
{
    (void)data;
    return SV_PROC_FAMILY_STORAGE;
}

/* The remote program's hooks as virtstoraged has them (it relays nothing here). */
static SvProgramHooks storage_hooks;

/* Messages (every dropped client logs one) would only slow the run; a critical is a
 * g_return_if_fail() that client input reached, which is a finding. */
static GLogWriterOutput
quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
        g_log_writer_default(level, fields, n_fields, data);
        if (level & G_LOG_LEVEL_CRITICAL)
            abort();
    }
    return G_LOG_WRITER_HANDLED;
}

static void
harness_init(void)
{
    static gboolean done;

    if (done)
        return;
    done = TRUE;
    g_log_set_writer_func(quiet_writer, NULL, NULL);
    sv_remote_common_handlers(&remote_handlers);
    stand_in_program_init(&remote_program, &sv_remote_handlers_info, &remote_handlers, -1);
    sv_remote_secondary_handlers(&storage_handlers);
    stand_in_program_init(&storage_program, &sv_remote_handlers_info, &storage_handlers,
                          SV_PROC_FAMILY_STORAGE);
    storage_hooks = sv_remote_hooks;
    storage_hooks.served_family = storage_family;
    stand_in_program_init(&admin_program, &sv_admin_handlers_info, &admin_handlers, -1);
    stand_in_program_init(&private_program, &sv_private_handlers_info, &private_handlers, -1);
}

/* Read and drop whatever the server has sent. */
static void
drain(int fd)
{
    guint8 buf[65536];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

static void
run_until_quiet(int fd)
{
    do
        drain(fd);
    while (g_main_context_iteration(NULL, FALSE));
    drain(fd);
}

/* Write all of buf, running the server whenever the socket is full. */
static void
write_all(int fd, const guint8 *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            /* Run the server until it has read something, or give up once it has stopped
             * reading (paused with deferred calls, or the connection is closed). */
            if (!g_main_context_iteration(NULL, FALSE)) {
                drain(fd);
                if (!g_main_context_iteration(NULL, FALSE))
                    return;
            }
            drain(fd);
            continue;
        }
        if (n <= 0)
            return; /* the server hung up */
        buf += n;
        len -= n;
    }
}

static void
send_open(int fd)
{
    char *name = "test:///default";
    remote_connect_open_args a = {&name, 0};
    SvHeader h = {REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_CONNECT_OPEN,
                  SV_NET_CALL, 0, SV_NET_OK};
    g_autofree SvMsg *m = sv_msg_encode(&h, (xdrproc_t)xdr_remote_connect_open_args, &a, NULL);

    write_all(fd, m->data, m->len);
    run_until_quiet(fd);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autoptr(SvServer) srv = NULL;
    SvServerConfig cfg;
    int sv[2];
    guint8 flags;

    if (size < 1)
        return 0;
    harness_init();
    flags = data[0];
    data++;
    size--;

    sv_server_config_init(&cfg);
    cfg.max_client_requests = 2; /* reached by a few deferred calls */
    cfg.max_message = 1024 * 1024;
    srv = sv_server_new("fuzz", &cfg);
    if (flags & FUZZ_FLAG_SECONDARY)
        sv_server_add_program_hooks(srv, &storage_program.info, &storage_handlers,
                                    &storage_hooks, NULL, NULL);
    else
        sv_server_add_program_hooks(srv, &remote_program.info, &remote_handlers,
                                    &sv_remote_hooks, NULL, NULL);
    sv_server_add_program(srv, &admin_program.info, &admin_handlers);
    sv_server_add_program(srv, &private_program.info, &private_handlers);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        g_error("socketpair: %s", g_strerror(errno));
    sv_server_add_client_fd(srv, sv[1], flags & FUZZ_FLAG_READONLY);

    if (flags & FUZZ_FLAG_OPEN)
        send_open(sv[0]);
    /* One frame per write, as its length word says; what is left (a bad length word or a
     * partial frame) goes in one last write. */
    while (size > 0) {
        gsize n = size;
        if (size >= SV_FRAME_LEN_SIZE) {
            guint32 len = sv_be32(data);
            if (len >= SV_FRAME_MIN && len <= size)
                n = len;
        }
        write_all(sv[0], data, n);
        run_until_quiet(sv[0]);
        data += n;
        size -= n;
    }
    /* Hang up: the server closes the client, and everything it holds goes. */
    close(sv[0]);
    run_until_quiet(-1);
    g_clear_pointer(&srv, sv_server_free);
    run_until_quiet(-1);
    return 0;
}
