/* migration_cookie.h: libvirt's QEMU migration cookie (<qemu-migration>), the XML each phase
 * of a migration hands to the next one on the other side: who sends (name, uuid, hostname,
 * hostuuid), the features the receiver must understand, and the sections a phase adds
 * (graphics, lockstate, persistent definition, network, nbd, statistics, cpu,
 * capabilities). Parsed and formatted as libvirt 9.0's qemu_migration_cookie.c does, so
 * that a cookie goes between our daemons and Debian's libvirtd either way. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* The sections (libvirt's qemuMigrationCookieFlags: bit i is the feature name i). */
typedef enum {
    SV_MIG_COOKIE_GRAPHICS = 1 << 0,
    SV_MIG_COOKIE_LOCKSTATE = 1 << 1,
    SV_MIG_COOKIE_PERSISTENT = 1 << 2,
    SV_MIG_COOKIE_NETWORK = 1 << 3,
    SV_MIG_COOKIE_NBD = 1 << 4,
    SV_MIG_COOKIE_STATS = 1 << 5,
    SV_MIG_COOKIE_MEMORY_HOTPLUG = 1 << 6,
    SV_MIG_COOKIE_CPU_HOTPLUG = 1 << 7,
    SV_MIG_COOKIE_CPU = 1 << 8,
    SV_MIG_COOKIE_ALLOW_REBOOT = 1 << 9,
    SV_MIG_COOKIE_CAPS = 1 << 10,
    SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS = 1 << 11,
} SvMigCookieFlags;

/* "graphics", "lockstate", ... for a single flag; NULL for another value. */
const char *sv_mig_cookie_flag_name(guint flag);

typedef struct {
    char *type;        /* "spice", "vnc" */
    int port;
    int tls_port;      /* spice only; -1: none */
    char *listen;
    char *tls_subject; /* <cert info='subject' value=.../>, or NULL */
} SvMigCookieGraphics;

typedef struct {
    char *target;
    guint64 capacity;
} SvMigCookieNbdDisk;

/* The <statistics> of a completed job: times in ms since the epoch (started, stopped,
 * sent) or durations in ms, sizes in bytes; has_* for those libvirt writes only when set. */
typedef struct {
    guint64 started, stopped, sent;
    gboolean has_delta;
    gint64 delta;
    guint64 time_elapsed;
    gboolean has_downtime;
    guint64 downtime;
    gboolean has_setup_time;
    guint64 setup_time;
    guint64 memory_total, memory_processed, memory_remaining, memory_bps;
    gboolean has_memory_constant;
    guint64 memory_constant, memory_normal, memory_normal_bytes;
    guint64 memory_dirty_rate, memory_iteration, memory_postcopy_requests, memory_page_size;
    guint64 disk_total, disk_processed, disk_remaining, disk_bps;
    gboolean has_compression;
    guint64 compression_cache, compression_bytes, compression_pages;
    guint64 compression_cache_misses, compression_overflow;
    int auto_converge_throttle;
} SvMigCookieStats;

typedef struct {
    char *name;          /* the capability's QEMU name ("xbzrle", "postcopy-ram", ...) */
    gboolean automatic;  /* auto='yes': the sender enables it whatever the flags */
} SvMigCookieCap;

typedef struct {
    /* The sender. */
    char *name;
    guint8 uuid[16];
    char *hostname;
    guint8 hostuuid[16];
    /* Sections present (SvMigCookieFlags), and those the receiver must know (<feature>). */
    guint flags;
    guint mandatory;
    SvMigCookieGraphics *graphics;
    char *lock_driver;
    char *lock_state;
    SvDomainDef *persistent;
    char *network_xml;   /* <network> as received (NULL: none): kept, never acted on */
    int nbd_port;        /* 0: none given */
    GArray *nbd_disks;   /* SvMigCookieNbdDisk */
    SvMigCookieStats *stats;
    char *cpu_xml;       /* <cpu> as received, or NULL */
    GArray *caps;        /* SvMigCookieCap, in libvirt's capability order */
    char *bitmaps_xml;   /* <blockDirtyBitmaps> as received, or NULL */
} SvMigrationCookie;

/* A cookie from this host about the domain `name` (uuid): libvirt's qemuMigrationCookieNew.
 * (transfer full) */
SvMigrationCookie *sv_migration_cookie_new(const char *name, const guint8 uuid[16],
                                           const char *hostname, const guint8 hostuuid[16]);
void sv_migration_cookie_free(SvMigrationCookie *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvMigrationCookie, sv_migration_cookie_free)

/* Sections a phase fills; each sets its flag (and, where libvirt does, the mandatory one). */
void sv_migration_cookie_add_lockstate(SvMigrationCookie *c, const char *driver,
                                       const char *state);
/* (def: transfer full; NULL adds nothing, as libvirt) */
void sv_migration_cookie_add_persistent(SvMigrationCookie *c, SvDomainDef *def);
void sv_migration_cookie_add_nbd(SvMigrationCookie *c, int port);
void sv_migration_cookie_add_nbd_disk(SvMigrationCookie *c, const char *target,
                                      guint64 capacity);
void sv_migration_cookie_add_stats(SvMigrationCookie *c, const SvMigCookieStats *stats);
void sv_migration_cookie_add_cap(SvMigrationCookie *c, const char *name, gboolean automatic);
/* A feature the receiver must know with no section of its own (memory-hotplug,
 * cpu-hotplug). */
void sv_migration_cookie_add_mandatory(SvMigrationCookie *c, guint flag);

/* The cookie's XML as libvirt writes it; the wire form is this text with its NUL
 * (length strlen + 1). (transfer full) */
char *sv_migration_cookie_format(const SvMigrationCookie *c);

/* What the receiver knows of the migration, to check a cookie against. */
typedef struct {
    const char *name;          /* the domain's (original) name */
    const guint8 *uuid;        /* its UUID */
    const guint8 *hostuuid;    /* this host's */
    const char *dname;         /* the name the persistent definition takes (NULL: as sent) */
} SvMigCookieExpect;

/* Read a cookie of len bytes (with its NUL; 0 or NULL data: an empty cookie, which gives a
 * cookie with no section) as libvirt's qemuMigrationCookieParse with the sections `accept`
 * (SvMigCookieFlags) the phase reads; the others are ignored. libvirt's errors
 * (INTERNAL_ERROR, QEMU): not NUL-terminated, malformed XML, another name or UUID, the same
 * host UUID as ours ("Attempt to migrate guest to the same host %s"), a mandatory feature
 * not accepted, a malformed section. (transfer full) */
SvMigrationCookie *sv_migration_cookie_parse(const char *data, gsize len, guint accept,
                                             const SvMigCookieExpect *expect, GError **error);
