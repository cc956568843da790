/* qemu_migrate_priv.h: what the migration phases' files (qemu_migrate_calls.c,
 * qemu_migrate_perform.c) share: a migration's job on one side, its cookies, the begin
 * phase a peer-to-peer perform runs itself. */
#pragma once

#include "conf/migration_cookie.h"
#include "conf/migration_params.h"
#include "qemu_migrate_calls.h"
#include "rpc/client.h"

/* libvirt's qemuMigrationJobPhase, in its order (it refuses to go backwards). */
typedef enum {
    MIG_PHASE_NONE,
    MIG_PHASE_PERFORM2,
    MIG_PHASE_BEGIN3,
    MIG_PHASE_PERFORM3,
    MIG_PHASE_PERFORM3_DONE,
    MIG_PHASE_CONFIRM3_CANCELLED,
    MIG_PHASE_CONFIRM3,
    MIG_PHASE_PREPARE,
    MIG_PHASE_FINISH2,
    MIG_PHASE_FINISH3,
    MIG_PHASE_LAST,
} MigPhase;

/* libvirt's name of a phase ("begin3", ...), as its status files write it. */
const char *mig_phase_name(int phase);

/* One side's migration of one domain, from the phase that starts it (begin with
 * CHANGE_PROTECTION, perform, prepare) to the one that ends it (confirm, finish). */
typedef struct {
    QemuProcessContext *ctx;
    char *key;          /* the domain's UUID, as text */
    gboolean incoming;  /* destination (MIGRATION_IN) or source (MIGRATION_OUT) */
    int phase;          /* MigPhase */
    guint flags;
    char *origname;     /* destination: the name the source knows it by (DEST_NAME renamed) */
    guint port;         /* destination, offline: the migration port prepare took */
    gboolean added;     /* destination: prepare made the domain (it was not defined here) */
    gboolean live_def;  /* destination: a defined domain runs on the incoming definition */
    gboolean busy;      /* a phase's asynchronous step is under way */
    gboolean recovered; /* read back from a status file by a restarted daemon */
} MigJob;

struct QemuMigrations {
    GHashTable *jobs;   /* key -> MigJob */
};

/* The job of obj on this side, or NULL. */
MigJob *mig_job_find(QemuProcessContext *ctx, const SvDomainObj *obj);
/* The same by the domain's UUID text: an asynchronous step's, whose domain may be gone. */
MigJob *mig_job_by_key(QemuProcessContext *ctx, const char *key);
/* Start obj's job (incoming or not) at phase: libvirt's "another migration job is already
 * running for domain '%s'" when one is; the daemon's idle exit is held until it ends. */
MigJob *mig_job_begin(QemuProcessContext *ctx, SvDomainObj *obj, gboolean incoming,
                      guint flags, int phase, GError **error);
/* obj's job of that direction, or libvirt's "domain '%s' is not processing incoming
 * migration" / "domain '%s' is not being migrated" (OPERATION_INVALID). */
MigJob *mig_job_get(QemuProcessContext *ctx, const SvDomainObj *obj, gboolean incoming,
                    GError **error);
/* Move to phase, as libvirt's qemuMigrationJobStartPhase (never backwards: "migration
 * protocol going backwards %s => %s", INTERNAL_ERROR). */
gboolean mig_job_phase(MigJob *job, int phase, GError **error);
void mig_job_end(QemuProcessContext *ctx, MigJob *job);

/* A cookie from this host about (name, uuid). (transfer full) */
SvMigrationCookie *mig_cookie_new(QemuProcessContext *ctx, const char *name,
                                  const guint8 uuid[16]);
/* c's wire form: the XML with its NUL. */
void mig_cookie_to_wire(const SvMigrationCookie *c, u_int *ret_len, char **ret_val);
/* A received cookie about (name, uuid), read for the sections `accept` (SvMigCookieFlags);
 * dname renames its persistent definition. (transfer full) */
SvMigrationCookie *mig_cookie_from_wire(QemuProcessContext *ctx, const char *val, u_int len,
                                        guint accept, const char *name, const guint8 uuid[16],
                                        const char *dname, GError **error);

/* The begin phase on obj (libvirt's qemuMigrationSrcBeginPhase): the checks of flags and
 * parameters against the domain, the definition to send (dest_xml checked against obj's,
 * or obj's own) and the cookie (transfer full: *ret_cookie). The XML, or NULL with error. */
char *mig_begin_phase(QemuProcessContext *ctx, SvDomainObj *obj, const SvMigrationParams *p,
                      guint flags, SvMigrationCookie **ret_cookie, GError **error);

/* The domain an active migration was started for may change under a phase's asynchronous
 * step: find it again by its UUID text. */
SvDomainObj *mig_domain_find(QemuProcessContext *ctx, const char *key);

/* The answer of a finish that went well (call: a deferred FINISH3): the domain here, and a
 * cookie. */
void mig_finish_reply(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj);

/* The end of a confirm (CONFIRM3, or a peer-to-peer PERFORM3's own: perform) on obj, whose
 * job has ended: with undefine (UNDEFINE_SOURCE after a migration that went well) its
 * definition is removed first; an inactive transient domain goes; then call (deferred here,
 * or already) is answered. */
void mig_confirm_end(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj,
                     gboolean undefine, gboolean perform);

/* Tunnelled data (qemu_migrate_tunnel.c). The destination: a stream on call (before its
 * reply) whose data goes into a pipe; the end QEMU reads (transfer full), or -1 with error.
 * The source: what QEMU writes into the pipe whose other end *ret_qemu_fd (transfer full) is
 * goes out on conn as the STREAM messages of the destination's PREPARE_TUNNEL3 call serial. */
typedef struct MigTunnelIn MigTunnelIn;
typedef struct MigTunnelOut MigTunnelOut;
int mig_tunnel_in_new(SvCall *call, GError **error);
MigTunnelOut *mig_tunnel_out_new(SvRpcConn *conn, guint32 serial, int *ret_qemu_fd,
                                 GError **error);
void mig_tunnel_out_free(MigTunnelOut *t);
/* Call fn(data) once QEMU's end is closed and all it wrote went out; FALSE: that is so
 * already. */
gboolean mig_tunnel_out_when_sent(MigTunnelOut *t, GSourceFunc fn, gpointer data);

/* A live migration's confirm step on obj (whose job has ended): QEMU ends (ok) or the guest
 * goes on, then mig_confirm_end() answers call (deferred here). */
void mig_confirm_qemu(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj, gboolean ok,
                      guint flags, gboolean perform);

/* PERFORM3 (qemu_migrate_perform.c). */
gboolean mig_perform3_params(SvCall *call, remote_domain_migrate_perform3_params_args *a,
                             remote_domain_migrate_perform3_params_ret *ret, GError **error);
