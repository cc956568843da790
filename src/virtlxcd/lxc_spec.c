/* lxc_spec.c: the launch spec, from a definition and as a key file. */
#include "lxc_spec.h"

#include <string.h>

#include "conf/uuid.h"
#include "util/error.h"

#define HOSTNAME_MAX 64 /* what sethostname() takes on Linux */
#define IDMAP_TEXT_MAX 4096 /* a uid_map or gid_map write must be shorter than a page */

static void
mount_free(gpointer p)
{
    LxcSpecMount *m = p;

    g_free(m->source);
    g_free(m->target);
    g_free(m);
}

static void
net_free(gpointer p)
{
    LxcSpecNet *n = p;

    g_free(n->host_name);
    g_free(n->guest_name);
    g_free(n->mac);
    g_free(n->bridge);
    sv_domain_bandwidth_free(n->bandwidth);
    g_free(n);
}

/* One direction as "average,peak,floor,burst" (kbytes/s, kbytes); absent: no key. */
static void
rate_to_key(GKeyFile *kf, const char *group, const char *key, const SvNetdevBandwidthRate *r)
{
    g_autofree char *v = NULL;

    if (!r)
        return;
    v = g_strdup_printf("%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                        ",%" G_GUINT64_FORMAT, r->average, r->peak, r->floor, r->burst);
    g_key_file_set_string(kf, group, key, v);
}

static gboolean
rate_from_key(GKeyFile *kf, const char *group, const char *key, SvNetdevBandwidthRate **out,
              GError **error)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    SvNetdevBandwidthRate r;
    int end = -1;

    if (!v)
        return TRUE;
    /* Four unsigned numbers and nothing else (sscanf's %lu would take a sign). */
    if (strspn(v, "0123456789,") != strlen(v) ||
        sscanf(v, "%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                  ",%" G_GUINT64_FORMAT "%n",
               &r.average, &r.peak, &r.floor, &r.burst, &end) != 4 ||
        v[end] != '\0') {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "bad container spec: [%s] %s='%s' is not four rates", group, key, v);
        return FALSE;
    }
    *out = g_memdup2(&r, sizeof(r));
    return TRUE;
}

/* A net's <bandwidth> from its group: one when either direction is there. */
static gboolean
rates_from_keys(GKeyFile *kf, const char *group, LxcSpecNet *n, GError **error)
{
    g_autoptr(SvDomainBandwidth) bw = g_new0(SvNetdevBandwidth, 1);

    if (!rate_from_key(kf, group, "inbound", &bw->in, error) ||
        !rate_from_key(kf, group, "outbound", &bw->out, error))
        return FALSE;
    if (bw->in || bw->out)
        n->bandwidth = g_steal_pointer(&bw);
    return TRUE;
}

static LxcSpec *
spec_new(void)
{
    LxcSpec *s = g_new0(LxcSpec, 1);

    s->mounts = g_ptr_array_new_with_free_func(mount_free);
    s->nets = g_ptr_array_new_with_free_func(net_free);
    s->uidmap = g_array_new(FALSE, TRUE, sizeof(LxcSpecIdMap));
    s->gidmap = g_array_new(FALSE, TRUE, sizeof(LxcSpecIdMap));
    return s;
}

void
lxc_spec_free(LxcSpec *spec)
{
    if (!spec)
        return;
    g_free(spec->name);
    g_free(spec->uuid);
    g_free(spec->hostname);
    g_free(spec->root);
    g_free(spec->init);
    g_strfreev(spec->initargs);
    g_ptr_array_unref(spec->mounts);
    g_ptr_array_unref(spec->nets);
    g_array_unref(spec->uidmap);
    g_array_unref(spec->gidmap);
    g_free(spec->cgroup_root);
    g_free(spec->cgroup_path);
    g_free(spec);
}

/* libvirt's CONFIG_UNSUPPORTED for what a container cannot have; FALSE, for returning. */
#define unsupported(error, ...) \
    (sv_error_set((error), SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__), FALSE)

/* "/a//b/" -> "/a/b"; the root stays "/". */
static char *
clean_path(const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    GString *out = g_string_new(NULL);

    for (guint i = 0; parts[i]; i++) {
        if (*parts[i])
            g_string_append_printf(out, "/%s", parts[i]);
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    return g_string_free(out, FALSE);
}

static gboolean
check_devices(const SvDomainDef *def, GError **error)
{
    if (def->consoles->len == 0)
        return unsupported(error, "At least one PTY console is required");
    for (guint i = 0; i < def->consoles->len; i++) {
        const SvDomainChrDef *c = def->consoles->pdata[i];
        if (c->source.type != SV_DOMAIN_CHR_TYPE_PTY)
            return unsupported(error, "Only PTY console types are supported");
    }
    if (def->consoles->len > 1)
        return unsupported(error, "Only one console is supported; it becomes /dev/console");
    if (def->disks->len)
        return unsupported(error, "Disk devices are not supported by this driver");
    if (def->channels->len || def->rngs->len || def->watchdog)
        return unsupported(error, "%s devices are not supported by this driver",
                           def->channels->len ? "Channel" : def->rngs->len ? "RNG" : "Watchdog");
    if (sv_domain_display_first_device(def))
        return unsupported(error, "%s is not supported by this driver",
                           sv_domain_display_first_device(def));
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        if (n->type != SV_DOMAIN_NET_TYPE_ETHERNET && n->type != SV_DOMAIN_NET_TYPE_BRIDGE &&
            n->type != SV_DOMAIN_NET_TYPE_NETWORK)
            return unsupported(error, "Unsupported net type %s",
                               sv_domain_net_type_to_string(n->type));
        /* <bandwidth>, the last it names, is set on the host end (lxc_supervisor.c). */
        if (sv_domain_net_tuning_name(n) && !g_str_equal(sv_domain_net_tuning_name(n),
                                                         "<bandwidth>"))
            return unsupported(error, "interface %s is not supported by this driver",
                               sv_domain_net_tuning_name(n));
    }
    return TRUE;
}

static gboolean
add_filesystems(LxcSpec *spec, const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];
        g_autofree char *target = NULL;
        LxcSpecMount *m;

        if (!g_path_is_absolute(fs->source_dir) || !g_path_is_absolute(fs->target_dir))
            return unsupported(error, "Filesystem paths must be absolute: '%s' on '%s'",
                               fs->source_dir, fs->target_dir);
        target = clean_path(fs->target_dir);
        if (strstr(target, "/../") || g_str_has_suffix(target, "/.."))
            return unsupported(error, "Filesystem target '%s' leaves the container's root",
                               fs->target_dir);
        if (g_str_equal(target, "/")) {
            if (spec->root)
                return unsupported(error, "More than one root filesystem");
            spec->root = clean_path(fs->source_dir);
            continue;
        }
        m = g_new0(LxcSpecMount, 1);
        m->source = clean_path(fs->source_dir);
        m->target = g_steal_pointer(&target);
        m->readonly = fs->readonly;
        g_ptr_array_add(spec->mounts, m);
    }
    /* libvirt would share the host's / with the container instead; this driver always
     * gives a container its own root. */
    if (!spec->root)
        return unsupported(error, "A root filesystem is required: <filesystem type='mount'> "
                                  "with <target dir='/'/>");
    return TRUE;
}

static gint
compare_target(gconstpointer a, gconstpointer b)
{
    const LxcSpecIdMap *x = a, *y = b;

    return x->target < y->target ? -1 : x->target > y->target;
}

/* What the kernel would refuse in a uid_map or gid_map, refused here with the ranges named:
 * empty ranges, ranges past the last valid id ((uid_t)-1 is not one), ranges overlapping
 * inside or outside, too many of them or too long a text. The parser already sorted them by start and checked
 * that the first starts at 0; that 0 is really mapped is checked again here. */
static gboolean
check_idmap(GArray *map, const char *kind, GError **error)
{
    g_autoptr(GArray) by_target = NULL;
    g_autofree char *text = NULL;

    if (map->len > LXC_SPEC_IDMAP_MAX)
        return unsupported(error, "<idmap> has %u %s ranges; the kernel takes at most %d",
                           map->len, kind, LXC_SPEC_IDMAP_MAX);
    for (guint i = 0; i < map->len; i++) {
        const LxcSpecIdMap *m = &g_array_index(map, LxcSpecIdMap, i);

        if (m->count == 0)
            return unsupported(error, "Invalid <idmap> %s range start='%u' target='%u' "
                                      "count='0': it maps no ids", kind, m->start, m->target);
        if ((guint64)m->start + m->count > G_MAXUINT32 ||
            (guint64)m->target + m->count > G_MAXUINT32)
            return unsupported(error, "Invalid <idmap> %s range start='%u' target='%u' "
                                      "count='%u': it goes past id %u", kind, m->start,
                               m->target, m->count, G_MAXUINT32 - 1);
    }
    if (map->len == 0 || g_array_index(map, LxcSpecIdMap, 0).start != 0)
        return unsupported(error, "<idmap> must map %s 0, the container's root", kind);
    for (guint i = 1; i < map->len; i++) {
        const LxcSpecIdMap *a = &g_array_index(map, LxcSpecIdMap, i - 1);
        const LxcSpecIdMap *b = &g_array_index(map, LxcSpecIdMap, i);

        if ((guint64)a->start + a->count > b->start)
            return unsupported(error, "<idmap> %s ranges overlap inside the container: "
                                      "start='%u' count='%u' and start='%u' count='%u'",
                               kind, a->start, a->count, b->start, b->count);
    }
    text = lxc_spec_idmap_format(map);
    if (strlen(text) >= IDMAP_TEXT_MAX)
        return unsupported(error, "<idmap> %s ranges take %zu bytes as a map; the kernel takes "
                                  "fewer than %d", kind, strlen(text), IDMAP_TEXT_MAX);
    by_target = g_array_copy(map);
    g_array_sort(by_target, compare_target);
    for (guint i = 1; i < by_target->len; i++) {
        const LxcSpecIdMap *a = &g_array_index(by_target, LxcSpecIdMap, i - 1);
        const LxcSpecIdMap *b = &g_array_index(by_target, LxcSpecIdMap, i);

        if ((guint64)a->target + a->count > b->target)
            return unsupported(error, "<idmap> %s ranges overlap on the host: "
                                      "target='%u' count='%u' and target='%u' count='%u'",
                               kind, a->target, a->count, b->target, b->count);
    }
    return TRUE;
}

static gboolean
add_idmaps(LxcSpec *spec, const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->idmaps->len; i++) {
        const SvDomainIdMapDef *d = def->idmaps->pdata[i];
        LxcSpecIdMap m = {d->start, d->target, d->count};

        g_array_append_val(d->kind == SV_DOMAIN_IDMAP_UID ? spec->uidmap : spec->gidmap, m);
    }
    if (spec->uidmap->len == 0 && spec->gidmap->len == 0)
        return TRUE;
    return check_idmap(spec->uidmap, "uid", error) && check_idmap(spec->gidmap, "gid", error);
}

guint
lxc_spec_idmap_root(const GArray *map)
{
    for (guint i = 0; i < map->len; i++) {
        const LxcSpecIdMap *m = &g_array_index(map, LxcSpecIdMap, i);
        if (m->start == 0 && m->count > 0)
            return m->target;
    }
    return 0;
}

char *
lxc_spec_idmap_format(const GArray *map)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < map->len; i++) {
        const LxcSpecIdMap *m = &g_array_index(map, LxcSpecIdMap, i);
        g_string_append_printf(s, "%u %u %u\n", m->start, m->target, m->count);
    }
    return g_string_free(s, FALSE);
}

guint64
lxc_spec_memory_limit(const SvDomainDef *def)
{
    /* libvirt's LXC driver writes the memory, then the <memtune> hard limit over it. */
    guint64 hard = def->memtune.hard_limit;

    return (hard < SV_DOMAIN_MEMORY_UNLIMITED ? hard : def->memory_kib) * 1024;
}

LxcSpec *
lxc_spec_new_from_def(const SvDomainDef *def, const LxcSpecContext *ctx, GError **error)
{
    g_autoptr(LxcSpec) spec = spec_new();
    char uuid[SV_UUID_STRING_LEN + 1];

    if (!def->os.init || !g_path_is_absolute(def->os.init)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "The init path '%s' must be absolute", def->os.init ? def->os.init : "");
        return NULL;
    }
    if (!check_devices(def, error) || !add_filesystems(spec, def, error) ||
        !add_idmaps(spec, def, error))
        return NULL;
    sv_uuid_format(def->uuid, uuid);
    spec->name = g_strdup(def->name);
    spec->uuid = g_strdup(uuid);
    spec->hostname = g_strndup(def->name, HOSTNAME_MAX);
    spec->init = g_strdup(def->os.init);
    spec->initargs = g_new0(char *, def->os.initargs->len + 1);
    for (guint i = 0; i < def->os.initargs->len; i++)
        spec->initargs[i] = g_strdup(def->os.initargs->pdata[i]);
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        LxcSpecNet *net;

        g_return_val_if_fail(n->target_dev && n->mac, NULL);
        net = g_new0(LxcSpecNet, 1);
        net->host_name = g_strdup(n->target_dev);
        net->guest_name = g_strdup_printf("eth%u", i);
        net->mac = g_strdup(n->mac);
        net->bridge = g_strdup(sv_domain_net_bridge(n));
        net->bandwidth = sv_netdev_bandwidth_copy(sv_domain_net_bandwidth(n));
        g_ptr_array_add(spec->nets, net);
    }
    spec->memory = lxc_spec_memory_limit(def);
    spec->cgroup_root = g_strdup(ctx->cgroup_root);
    spec->cgroup_path = g_strdup_printf("%s/%s.libvirt-lxc", ctx->cgroup_parent, def->name);
    spec->reboot_restarts = def->on_reboot == SV_DOMAIN_LIFECYCLE_RESTART;
    return g_steal_pointer(&spec);
}

char *
lxc_spec_format(const LxcSpec *spec)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    g_key_file_set_string(kf, "container", "name", spec->name);
    g_key_file_set_string(kf, "container", "uuid", spec->uuid);
    g_key_file_set_string(kf, "container", "hostname", spec->hostname);
    g_key_file_set_string(kf, "container", "root", spec->root);
    g_key_file_set_string(kf, "container", "init", spec->init);
    g_key_file_set_string_list(kf, "container", "initargs",
                               (const char *const *)spec->initargs,
                               g_strv_length(spec->initargs));
    g_key_file_set_uint64(kf, "container", "memory", spec->memory);
    g_key_file_set_boolean(kf, "container", "reboot_restarts", spec->reboot_restarts);
    g_key_file_set_string(kf, "cgroup", "root", spec->cgroup_root);
    g_key_file_set_string(kf, "cgroup", "path", spec->cgroup_path);
    for (guint i = 0; i < spec->mounts->len; i++) {
        const LxcSpecMount *m = spec->mounts->pdata[i];
        g_autofree char *group = g_strdup_printf("mount %u", i);
        g_key_file_set_string(kf, group, "source", m->source);
        g_key_file_set_string(kf, group, "target", m->target);
        g_key_file_set_boolean(kf, group, "readonly", m->readonly);
    }
    for (guint i = 0; i < spec->nets->len; i++) {
        const LxcSpecNet *n = spec->nets->pdata[i];
        g_autofree char *group = g_strdup_printf("net %u", i);
        g_key_file_set_string(kf, group, "host", n->host_name);
        g_key_file_set_string(kf, group, "guest", n->guest_name);
        g_key_file_set_string(kf, group, "mac", n->mac);
        if (n->bridge)
            g_key_file_set_string(kf, group, "bridge", n->bridge);
        rate_to_key(kf, group, "inbound", n->bandwidth ? n->bandwidth->in : NULL);
        rate_to_key(kf, group, "outbound", n->bandwidth ? n->bandwidth->out : NULL);
    }
    for (guint k = 0; k < 2; k++) {
        const GArray *map = k ? spec->gidmap : spec->uidmap;
        for (guint i = 0; i < map->len; i++) {
            const LxcSpecIdMap *m = &g_array_index(map, LxcSpecIdMap, i);
            g_autofree char *group = g_strdup_printf("%s %u", k ? "gidmap" : "uidmap", i);
            g_key_file_set_uint64(kf, group, "start", m->start);
            g_key_file_set_uint64(kf, group, "target", m->target);
            g_key_file_set_uint64(kf, group, "count", m->count);
        }
    }
    return g_key_file_to_data(kf, NULL, NULL);
}

static char *
need_string(GKeyFile *kf, const char *group, const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *v = g_key_file_get_string(kf, group, key, &local);

    if (!v)
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR, "bad container spec: %s",
                     local->message);
    return v;
}

static gboolean
need_id(GKeyFile *kf, const char *group, const char *key, guint *out, GError **error)
{
    g_autofree char *v = need_string(kf, group, key, error);
    guint64 n;

    if (!v)
        return FALSE;
    if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT32, &n, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "bad container spec: [%s] %s=%s is not an id", group, key, v);
        return FALSE;
    }
    *out = (guint)n;
    return TRUE;
}

static gboolean
parse_idmap(GKeyFile *kf, const char *kind, GArray *map, GError **error)
{
    for (guint i = 0;; i++) {
        g_autofree char *group = g_strdup_printf("%s %u", kind, i);
        LxcSpecIdMap m;

        if (!g_key_file_has_group(kf, group))
            return TRUE;
        if (!need_id(kf, group, "start", &m.start, error) ||
            !need_id(kf, group, "target", &m.target, error) ||
            !need_id(kf, group, "count", &m.count, error))
            return FALSE;
        g_array_append_val(map, m);
    }
}

static gboolean
parse_sections(LxcSpec *spec, GKeyFile *kf, GError **error)
{
    for (guint i = 0;; i++) {
        g_autofree char *group = g_strdup_printf("mount %u", i);
        LxcSpecMount *m;

        if (!g_key_file_has_group(kf, group))
            break;
        m = g_new0(LxcSpecMount, 1);
        g_ptr_array_add(spec->mounts, m);
        if (!(m->source = need_string(kf, group, "source", error)) ||
            !(m->target = need_string(kf, group, "target", error)))
            return FALSE;
        m->readonly = g_key_file_get_boolean(kf, group, "readonly", NULL);
    }
    for (guint i = 0;; i++) {
        g_autofree char *group = g_strdup_printf("net %u", i);
        LxcSpecNet *n;

        if (!g_key_file_has_group(kf, group))
            break;
        n = g_new0(LxcSpecNet, 1);
        g_ptr_array_add(spec->nets, n);
        if (!(n->host_name = need_string(kf, group, "host", error)) ||
            !(n->guest_name = need_string(kf, group, "guest", error)) ||
            !(n->mac = need_string(kf, group, "mac", error)) ||
            !rates_from_keys(kf, group, n, error))
            return FALSE;
        n->bridge = g_key_file_get_string(kf, group, "bridge", NULL);
    }
    if (!parse_idmap(kf, "uidmap", spec->uidmap, error) ||
        !parse_idmap(kf, "gidmap", spec->gidmap, error))
        return FALSE;
    if (!spec->uidmap->len != !spec->gidmap->len) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "bad container spec: a uid map needs a gid map and the other way round");
        return FALSE;
    }
    return TRUE;
}

LxcSpec *
lxc_spec_parse(const char *text, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(LxcSpec) spec = spec_new();
    g_autoptr(GError) local = NULL;

    if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &local)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR, "bad container spec: %s",
                     local->message);
        return NULL;
    }
    if (!(spec->name = need_string(kf, "container", "name", error)) ||
        !(spec->uuid = need_string(kf, "container", "uuid", error)) ||
        !(spec->hostname = need_string(kf, "container", "hostname", error)) ||
        !(spec->root = need_string(kf, "container", "root", error)) ||
        !(spec->init = need_string(kf, "container", "init", error)) ||
        !(spec->cgroup_root = need_string(kf, "cgroup", "root", error)) ||
        !(spec->cgroup_path = need_string(kf, "cgroup", "path", error)))
        return NULL;
    spec->initargs = g_key_file_get_string_list(kf, "container", "initargs", NULL, NULL);
    if (!spec->initargs)
        spec->initargs = g_new0(char *, 1);
    spec->memory = g_key_file_get_uint64(kf, "container", "memory", NULL);
    spec->reboot_restarts = g_key_file_get_boolean(kf, "container", "reboot_restarts", NULL);
    if (!parse_sections(spec, kf, error))
        return NULL;
    return g_steal_pointer(&spec);
}
