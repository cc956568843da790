/* migration_params.h: a migration's parameters (libvirt's VIR_MIGRATE_PARAM_* of the
 * MIGRATE_*3_PARAMS calls) read into one struct with libvirt's checks of names, types and
 * repeats, and libvirt's checks of the migration flags (virDomainMigrateFlags) each phase
 * makes. The wire form (remote_typed_param) is read and written by
 * domain/domain_migrate_params.h; this layer sees one parameter at a time. */
#pragma once

#include <glib.h>

#include "protocol/sv_wire_constants.h"

/* The tunables that reach QEMU, each with whether it was given; what is not given keeps
 * QEMU's own value. */
typedef struct {
    gboolean has_bandwidth;
    guint64 bandwidth;            /* MiB/s (bandwidth) */
    gboolean has_bandwidth_postcopy;
    guint64 bandwidth_postcopy;   /* MiB/s (bandwidth.postcopy) */
    gboolean has_parallel_connections;
    int parallel_connections;     /* parallel.connections (with PARALLEL) */
    GStrv compression;            /* compression methods: "xbzrle", "mt"; NULL: not given
                                     (xbzrle with COMPRESSED) */
    gboolean has_compression_mt_level;
    int compression_mt_level;
    gboolean has_compression_mt_threads;
    int compression_mt_threads;
    gboolean has_compression_mt_dthreads;
    int compression_mt_dthreads;
    gboolean has_compression_xbzrle_cache;
    guint64 compression_xbzrle_cache; /* bytes */
    gboolean has_auto_converge_initial;
    int auto_converge_initial;    /* % (auto_converge.initial) */
    gboolean has_auto_converge_increment;
    int auto_converge_increment;  /* % (auto_converge.increment) */
} SvMigrationTuning;

/* Every parameter libvirt 9.0's QEMU driver accepts; strings NULL when not given. */
typedef struct {
    char *uri;                    /* migrate_uri */
    char *dest_name;              /* destination_name */
    char *dest_xml;               /* destination_xml */
    char *persist_xml;            /* persistent_xml */
    char *graphics_uri;           /* graphics_uri */
    char *listen_address;         /* listen_address */
    char *disks_uri;              /* disks_uri */
    char *tls_destination;        /* tls.destination */
    GStrv migrate_disks;          /* migrate_disks (repeatable); NULL: not given */
    gboolean has_disks_port;
    int disks_port;               /* disks_port */
    SvMigrationTuning tuning;
} SvMigrationParams;

SvMigrationParams *sv_migration_params_new(void);
void sv_migration_params_free(SvMigrationParams *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvMigrationParams, sv_migration_params_free)

/* One typed value as a parameter list carries it (virTypedParameterType in type). */
typedef struct {
    int type;
    union {
        int i;
        guint ui;
        gint64 l;
        guint64 ul;
        double d;
        gboolean b;
        const char *s;
    } v;
} SvMigrationValue;

/* The parameters libvirt 9.0's QEMU driver accepts (QEMU_MIGRATION_PARAMETERS), in its
 * order: their names and virTypedParameterType, and whether one may repeat. */
typedef struct {
    const char *name;
    int type;
    gboolean multiple;
} SvMigrationParamInfo;

/* The table (n entries in *ret_n). */
const SvMigrationParamInfo *sv_migration_params_known(guint *ret_n);

/* Store value as parameter number `which` of the table in p; a repeatable one gains a value,
 * another is replaced. The caller (domain/domain_migrate_params.h) has checked the name,
 * the type and the repeats with libvirt's messages. */
void sv_migration_params_set(SvMigrationParams *p, guint which, const SvMigrationValue *value);

/* Call fn for each parameter p holds, in libvirt's list order (repeatable ones once per
 * value): what the source's daemon sends to the destination's prepare and finish in a
 * peer-to-peer migration. */
void sv_migration_params_foreach(const SvMigrationParams *p,
                                 void (*fn)(const char *name, const SvMigrationValue *value,
                                            gpointer data),
                                 gpointer data);

/* Which call checks the flags: the phases differ in what they refuse. */
typedef enum {
    SV_MIGRATION_CALL_BEGIN,      /* source: begin3 (and perform3 of a peer-to-peer one) */
    SV_MIGRATION_CALL_PREPARE,    /* destination: prepare3 / prepare_tunnel3 */
    SV_MIGRATION_CALL_PERFORM,
    SV_MIGRATION_CALL_FINISH,
    SV_MIGRATION_CALL_CONFIRM,
    SV_MIGRATION_CALL_LAST,
} SvMigrationCall;

/* libvirt's checks of flags (and of p, which may be NULL) at call: flags libvirt's QEMU
 * driver does not know (virCheckFlags: INVALID_ARG "unsupported flags (0x%x) in function
 * %s"), and the combinations it refuses (OFFLINE with LIVE or NON_SHARED_*, TUNNELLED
 * without PEER2PEER, POSTCOPY with OFFLINE, ...) with libvirt's code, domain and message.
 * fn is the name libvirt's message carries (e.g. "qemuDomainMigrateBegin3Params"). */
gboolean sv_migration_flags_check(SvMigrationCall call, guint flags,
                                  const SvMigrationParams *p, const char *fn, GError **error);

/* libvirt's checks of the tunables against the flags (qemuMigrationParamsFromFlags, made by
 * prepare and perform): auto_converge.* without AUTO_CONVERGE, parallel.connections without
 * PARALLEL, an unknown or repeated compression method, compression.mt.* without "mt",
 * compression.xbzrle.cache without "xbzrle" (INVALID_ARG, QEMU). */
gboolean sv_migration_params_check_tuning(const SvMigrationParams *p, guint flags,
                                          GError **error);
