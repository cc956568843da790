/* private.c: ADOPT_CLIENT: take over a client connection from virtproxyd. */
#include "programs/private.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/remote.h"
#include "protocol/private_dispatch.h"
#include "util/error.h"
#include "util/fd.h"

static gboolean
adopt_client(SvCall *call, sv_private_adopt_client_args *a, GError **error)
{
    SvClient *from = sv_call_get_client(call);
    g_auto(SvFd) fd = -1;
    guint64 id;
    int type = 0;
    socklen_t len = sizeof(type);

    /* Only root or the proxy's user may hand us connections (and say read-only). */
    if (!sv_remote_peer_trusted(from)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_ACCESS_DENIED,
                     "only root or the proxy user may hand over connections");
        return FALSE;
    }
    if (!sv_check_flags(a->flags, SV_PRIVATE_ADOPT_READONLY | SV_PRIVATE_ADOPT_KEEPALIVE,
                        SV_FROM_RPC, "adoptClient", error))
        return FALSE;
    fd = sv_call_take_fd(call);
    if (fd < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "no connection came with ADOPT_CLIENT");
        return FALSE;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "ADOPT_CLIENT needs a stream socket");
        return FALSE;
    }
    id = sv_server_adopt_client(sv_client_get_server(from), fd,
                                a->flags & SV_PRIVATE_ADOPT_READONLY,
                                a->flags & SV_PRIVATE_ADOPT_KEEPALIVE,
                                (const guint8 *)a->input.input_val, a->input.input_len, error);
    if (!id)
        return FALSE;
    fd = -1; /* the adopted client's now */
    g_debug("adopted client %" G_GUINT64_FORMAT " from client %" G_GUINT64_FORMAT, id,
            sv_client_get_id(from));
    return TRUE;
}

static const SvPrivateHandlers handlers = {
    .adopt_client = adopt_client,
};

void
sv_private_serve(SvServer *srv)
{
    sv_server_add_program(srv, &sv_private_handlers_info, &handlers);
}
