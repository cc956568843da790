/* lxc_spec.h: the launch spec: everything a supervisor needs to build and run one container,
 * computed by the daemon from the live definition and handed to the supervisor on its stdin
 * as a key file, so that the supervisor never parses domain XML. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

typedef struct {
    char *source; /* host directory */
    char *target; /* absolute path inside the container */
    gboolean readonly;
} LxcSpecMount;

typedef struct {
    char *host_name;  /* the veth end left in the daemon's network namespace */
    char *guest_name; /* the end moved into the container: eth0, eth1, ... */
    char *mac;        /* of the guest end */
    char *bridge;     /* the bridge the host end joins (type bridge, a network's port), or
                       * NULL */
    SvNetdevBandwidth *bandwidth; /* set on the host end once made (NULL: none) */
} LxcSpecNet;

/* One range of a user namespace's uid or gid map: ids START.. inside are TARGET.. outside;
 * one line of /proc/PID/uid_map or gid_map. */
typedef struct {
    guint start;
    guint target;
    guint count;
} LxcSpecIdMap;

/* The kernel's limit on lines in one uid_map or gid_map. */
#define LXC_SPEC_IDMAP_MAX 340

typedef struct {
    char *name;
    char *uuid;
    char *hostname;      /* the name, cut to what sethostname() takes */
    char *root;          /* host directory that becomes the container's / */
    char *init;          /* absolute, inside the container */
    GStrv initargs;      /* never NULL */
    GPtrArray *mounts;   /* LxcSpecMount, besides the root, in definition order */
    GPtrArray *nets;     /* LxcSpecNet */
    /* <idmap>: both empty, or the container gets its own user namespace with these maps
     * (LxcSpecIdMap, sorted by start; the first maps id 0, the container's root). */
    GArray *uidmap;
    GArray *gidmap;
    guint64 memory;      /* hard limit in bytes; 0 for none */
    char *cgroup_root;   /* "/sys/fs/cgroup" */
    char *cgroup_path;   /* relative to each hierarchy's root */
    gboolean reboot_restarts; /* <on_reboot>restart: a reboot inside starts init again */
} LxcSpec;

typedef struct {
    const char *cgroup_root;
    const char *cgroup_parent; /* the container's cgroup is PARENT/NAME.libvirt-lxc */
} LxcSpecContext;

/* The container's memory limit in bytes: its <memtune> hard limit, else its memory. */
guint64 lxc_spec_memory_limit(const SvDomainDef *def);

/* Check that the definition can run as a container here and build its spec. Every
 * <interface> needs its target dev and MAC set by the caller. Errors are libvirt's
 * CONFIG_UNSUPPORTED (LXC) where libvirt refuses the same start. (transfer full) */
LxcSpec *lxc_spec_new_from_def(const SvDomainDef *def, const LxcSpecContext *ctx,
                               GError **error);

/* The host id that id 0 inside maps to (0 without a user namespace). */
guint lxc_spec_idmap_root(const GArray *map);

/* The map as /proc/PID/uid_map or gid_map takes it, in one write: "START TARGET COUNT\n"
 * per range. (transfer full) */
char *lxc_spec_idmap_format(const GArray *map);

/* The spec as key-file text, and back. format(parse(format(s))) == format(s). */
char *lxc_spec_format(const LxcSpec *spec);
LxcSpec *lxc_spec_parse(const char *text, GError **error);

void lxc_spec_free(LxcSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LxcSpec, lxc_spec_free)
