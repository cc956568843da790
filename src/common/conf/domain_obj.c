/* domain_obj.c: the domain list with its indexes and libvirt's listing filters. */
#include "conf/domain_obj.h"

#include <stdarg.h>
#include <string.h>

#include "util/error.h"

struct SvDomainList {
    GHashTable *by_name; /* name -> obj (owns objs) */
    GHashTable *by_uuid; /* uuid bytes -> obj */
    GHashTable *by_id;   /* id -> obj, active only */
    int next_id;
    gpointer owner;      /* set by the layer above (transfer none) */
};

/* The runs of every list in the process: run handle -> obj, while the run lasts. One
 * table, not one per list, so that a handle is unique in the process and finds its object
 * (and through it its list and owner) by itself: infrastructure like a file descriptor
 * table, which any number of lists and drivers share. Touched from the loop's thread
 * only; it exists while some run lasts. */
static GHashTable *runs;
static guint next_run;

static const char *state_names[SV_DOMAIN_STATE_LAST] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
};

const char *
sv_domain_state_to_string(int state)
{
    return state >= 0 && state < SV_DOMAIN_STATE_LAST ? state_names[state] : NULL;
}

int
sv_domain_state_from_string(const char *s)
{
    for (int i = 0; i < SV_DOMAIN_STATE_LAST; i++) {
        if (s && g_str_equal(s, state_names[i]))
            return i;
    }
    return -1;
}

static const char *const shutoff_reason_names[] = {
    [SV_DOMAIN_SHUTOFF_UNKNOWN] = "unknown",     [SV_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
    [SV_DOMAIN_SHUTOFF_DESTROYED] = "destroyed", [SV_DOMAIN_SHUTOFF_CRASHED] = "crashed",
    [SV_DOMAIN_SHUTOFF_MIGRATED] = "migrated",   [SV_DOMAIN_SHUTOFF_SAVED] = "saved",
    [SV_DOMAIN_SHUTOFF_FAILED] = "failed",
};

const char *
sv_domain_shutoff_reason_to_string(int reason)
{
    if (reason < 0 || reason >= (int)G_N_ELEMENTS(shutoff_reason_names))
        return shutoff_reason_names[0];
    return shutoff_reason_names[reason];
}

static guint
uuid_hash(gconstpointer p)
{
    guint h;

    memcpy(&h, p, sizeof(h)); /* random bytes hash themselves */
    return h;
}

static gboolean
uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

static void
obj_free(gpointer p)
{
    SvDomainObj *obj = p;

    if (obj->priv && obj->priv_free)
        obj->priv_free(obj->priv);
    sv_domain_def_free(obj->def);
    sv_domain_def_free(obj->new_def);
    g_free(obj->cause);
    g_free(obj);
}

SvDomainList *
sv_domain_list_new(void)
{
    SvDomainList *list = g_new0(SvDomainList, 1);

    /* Keys are copies, so a definition can be replaced under its object. */
    list->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, obj_free);
    list->by_uuid = g_hash_table_new_full(uuid_hash, uuid_equal, g_free, NULL);
    list->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    list->next_id = 1;
    return list;
}

static void
end_run_of(gpointer key, gpointer obj, gpointer list)
{
    (void)key;
    sv_domain_list_end_run(list, obj);
}

void
sv_domain_list_free(SvDomainList *list)
{
    if (!list)
        return;
    /* No handle may outlive its object in the process's table. */
    g_hash_table_foreach(list->by_name, end_run_of, list);
    g_hash_table_unref(list->by_id);
    g_hash_table_unref(list->by_uuid);
    g_hash_table_unref(list->by_name);
    g_free(list);
}

void
sv_domain_list_set_owner(SvDomainList *list, gpointer owner)
{
    list->owner = owner;
}

SvDomainObj *
sv_domain_list_add(SvDomainList *list, SvDomainDef *def, gboolean persistent)
{
    SvDomainObj *obj = g_new0(SvDomainObj, 1);

    obj->def = def;
    obj->id = -1;
    obj->state = SV_DOMAIN_SHUTOFF;
    obj->reason = SV_DOMAIN_SHUTOFF_UNKNOWN;
    obj->state_time = g_get_real_time();
    obj->persistent = persistent;
    obj->list = list;
    g_hash_table_insert(list->by_name, g_strdup(def->name), obj);
    g_hash_table_insert(list->by_uuid, g_memdup2(def->uuid, 16), obj);
    return obj;
}

void
sv_domain_list_remove(SvDomainList *list, SvDomainObj *obj)
{
    sv_domain_list_end_run(list, obj);
    if (obj->id > 0)
        g_hash_table_remove(list->by_id, GINT_TO_POINTER(obj->id));
    g_hash_table_remove(list->by_uuid, obj->def->uuid);
    g_hash_table_remove(list->by_name, obj->def->name); /* frees obj */
}

void
sv_domain_list_rename(SvDomainList *list, SvDomainObj *obj, const char *name)
{
    gpointer key = NULL;

    g_assert(!obj->new_def);
    g_hash_table_steal_extended(list->by_name, obj->def->name, &key, NULL);
    g_free(key);
    g_free(obj->def->name);
    obj->def->name = g_strdup(name);
    g_hash_table_insert(list->by_name, g_strdup(name), obj);
}

SvDomainObj *
sv_domain_list_find_by_name(SvDomainList *list, const char *name)
{
    return g_hash_table_lookup(list->by_name, name);
}

SvDomainObj *
sv_domain_list_find_by_uuid(SvDomainList *list, const guint8 uuid[16])
{
    return g_hash_table_lookup(list->by_uuid, uuid);
}

SvDomainObj *
sv_domain_list_find_by_id(SvDomainList *list, int id)
{
    return id > 0 ? g_hash_table_lookup(list->by_id, GINT_TO_POINTER(id)) : NULL;
}

void
sv_domain_list_assign_id(SvDomainList *list, SvDomainObj *obj)
{
    sv_domain_list_set_id(list, obj, list->next_id);
}

void
sv_domain_list_set_id(SvDomainList *list, SvDomainObj *obj, int id)
{
    sv_domain_list_clear_id(list, obj);
    obj->id = id;
    g_hash_table_insert(list->by_id, GINT_TO_POINTER(id), obj);
    if (id >= list->next_id)
        list->next_id = id + 1;
}

void
sv_domain_list_clear_id(SvDomainList *list, SvDomainObj *obj)
{
    if (obj->id > 0)
        g_hash_table_remove(list->by_id, GINT_TO_POINTER(obj->id));
    obj->id = -1;
}

guint
sv_domain_list_begin_run(SvDomainList *list, SvDomainObj *obj)
{
    g_assert(obj->list == list);
    sv_domain_list_end_run(list, obj);
    if (!runs)
        runs = g_hash_table_new(g_direct_hash, g_direct_equal);
    /* After 2^32 runs the numbers wrap: skip 0 and any handle still in use. */
    do {
        obj->run = ++next_run;
    } while (obj->run == 0 || g_hash_table_contains(runs, GUINT_TO_POINTER(obj->run)));
    g_hash_table_insert(runs, GUINT_TO_POINTER(obj->run), obj);
    return obj->run;
}

void
sv_domain_list_end_run(SvDomainList *list, SvDomainObj *obj)
{
    g_assert(obj->list == list);
    if (obj->run && runs) {
        g_hash_table_remove(runs, GUINT_TO_POINTER(obj->run));
        if (g_hash_table_size(runs) == 0)
            g_clear_pointer(&runs, g_hash_table_unref);
    }
    obj->run = 0;
}

SvDomainObj *
sv_domain_run_find(guint run)
{
    return run && runs ? g_hash_table_lookup(runs, GUINT_TO_POINTER(run)) : NULL;
}

SvDomainObj *
sv_domain_list_find_run(SvDomainList *list, guint run)
{
    SvDomainObj *obj = sv_domain_run_find(run);

    return obj && obj->list == list ? obj : NULL;
}

guint
sv_domain_list_attach_run(SvDomainList *list, SvDomainObj *obj, gpointer priv,
                          GDestroyNotify priv_free)
{
    g_assert(!obj->priv);
    obj->priv = priv;
    obj->priv_free = priv_free;
    return sv_domain_list_begin_run(list, obj);
}

void
sv_domain_list_release_run(SvDomainList *list, SvDomainObj *obj)
{
    gpointer priv = g_steal_pointer(&obj->priv);

    sv_domain_list_end_run(list, obj);
    /* NULL before it is freed: what its free function runs never finds it. */
    if (priv && obj->priv_free)
        obj->priv_free(priv);
}

SvDomainObj *
sv_domain_list_find_attached(SvDomainList *list, gpointer key)
{
    SvDomainObj *obj = sv_domain_list_find_run(list, GPOINTER_TO_UINT(key));

    return obj && obj->priv ? obj : NULL;
}

SvDomainObj *
sv_domain_run_find_attached(gpointer key)
{
    SvDomainObj *obj = sv_domain_run_find(GPOINTER_TO_UINT(key));

    return obj && obj->priv ? obj : NULL;
}

gboolean
sv_domain_list_check_live(SvDomainList *list, const SvDomainDef *live, int from, GError **error)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(list, live->uuid);

    if (!obj && sv_domain_list_find_by_name(list, live->name)) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR,
                     "domain '%s' is defined with another UUID", live->name);
        return FALSE;
    }
    if (obj && !g_str_equal(obj->def->name, live->name)) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, "its UUID belongs to domain '%s'",
                     obj->def->name);
        return FALSE;
    }
    if (obj && obj->priv) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR,
                     "domain '%s' runs already (another status file names it)", live->name);
        return FALSE;
    }
    return TRUE;
}

SvDomainObj *
sv_domain_list_take_live(SvDomainList *list, SvDomainDef *live)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(list, live->uuid);

    if (!obj)
        return sv_domain_list_add(list, live, FALSE);
    g_assert(!obj->priv);
    obj->new_def = obj->def;
    obj->def = live;
    obj->persistent = TRUE;
    return obj;
}

void
sv_domain_obj_set_def(SvDomainObj *obj, SvDomainDef *def)
{
    g_assert(memcmp(obj->def->uuid, def->uuid, 16) == 0);
    g_assert(g_str_equal(obj->def->name, def->name));
    sv_domain_def_free(obj->def);
    obj->def = def;
}

void
sv_domain_obj_run_on_live(SvDomainObj *obj, SvDomainDef *live)
{
    if (obj->persistent && !obj->new_def) {
        obj->new_def = obj->def;
        obj->def = live;
    } else {
        sv_domain_obj_set_def(obj, live);
    }
}

void
sv_domain_obj_restore_def(SvDomainObj *obj)
{
    if (obj->new_def) {
        sv_domain_obj_set_def(obj, obj->new_def);
        obj->new_def = NULL;
    }
}

gboolean
sv_domain_obj_is_active(const SvDomainObj *obj)
{
    return obj->id > 0;
}

gpointer
sv_domain_obj_get_owner(const SvDomainObj *obj)
{
    return obj->list->owner;
}

static gboolean
matches(const SvDomainObj *obj, guint f)
{
    gboolean active = sv_domain_obj_is_active(obj);

    if ((f & (SV_CONNECT_LIST_DOMAINS_ACTIVE | SV_CONNECT_LIST_DOMAINS_INACTIVE)) &&
        !((f & SV_CONNECT_LIST_DOMAINS_ACTIVE && active) ||
          (f & SV_CONNECT_LIST_DOMAINS_INACTIVE && !active)))
        return FALSE;
    if ((f & (SV_CONNECT_LIST_DOMAINS_PERSISTENT | SV_CONNECT_LIST_DOMAINS_TRANSIENT)) &&
        !((f & SV_CONNECT_LIST_DOMAINS_PERSISTENT && obj->persistent) ||
          (f & SV_CONNECT_LIST_DOMAINS_TRANSIENT && !obj->persistent)))
        return FALSE;
    if (f & (SV_CONNECT_LIST_DOMAINS_RUNNING | SV_CONNECT_LIST_DOMAINS_PAUSED |
             SV_CONNECT_LIST_DOMAINS_SHUTOFF | SV_CONNECT_LIST_DOMAINS_OTHER)) {
        gboolean running = obj->state == SV_DOMAIN_RUNNING;
        gboolean paused = obj->state == SV_DOMAIN_PAUSED;
        gboolean shutoff = obj->state == SV_DOMAIN_SHUTOFF;
        gboolean other = !running && !paused && !shutoff;
        if (!((f & SV_CONNECT_LIST_DOMAINS_RUNNING && running) ||
              (f & SV_CONNECT_LIST_DOMAINS_PAUSED && paused) ||
              (f & SV_CONNECT_LIST_DOMAINS_SHUTOFF && shutoff) ||
              (f & SV_CONNECT_LIST_DOMAINS_OTHER && other)))
            return FALSE;
    }
    /* No managed save images, snapshots or checkpoints exist in splitvirt. */
    if ((f & (SV_CONNECT_LIST_DOMAINS_MANAGEDSAVE | SV_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE)) &&
        !(f & SV_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE))
        return FALSE;
    if ((f & (SV_CONNECT_LIST_DOMAINS_AUTOSTART | SV_CONNECT_LIST_DOMAINS_NO_AUTOSTART)) &&
        !((f & SV_CONNECT_LIST_DOMAINS_AUTOSTART && obj->autostart) ||
          (f & SV_CONNECT_LIST_DOMAINS_NO_AUTOSTART && !obj->autostart)))
        return FALSE;
    if ((f & (SV_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT | SV_CONNECT_LIST_DOMAINS_NO_SNAPSHOT)) &&
        !(f & SV_CONNECT_LIST_DOMAINS_NO_SNAPSHOT))
        return FALSE;
    if ((f & (SV_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT | SV_CONNECT_LIST_DOMAINS_NO_CHECKPOINT)) &&
        !(f & SV_CONNECT_LIST_DOMAINS_NO_CHECKPOINT))
        return FALSE;
    return TRUE;
}

GPtrArray *
sv_domain_list_filter(SvDomainList *list, guint flags)
{
    GPtrArray *out = g_ptr_array_sized_new(g_hash_table_size(list->by_name));
    GHashTableIter it;
    gpointer obj;

    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &obj)) {
        /* No flags, no filter: the objects themselves are not touched here. */
        if (!flags || matches(obj, flags))
            g_ptr_array_add(out, obj);
    }
    /* Unsorted, as libvirt's: clients sort for display, and a sort here was
     * most of the cost of listing 10,000 domains. */
    return out;
}

guint
sv_domain_list_count_active(SvDomainList *list, gboolean active)
{
    guint n = g_hash_table_size(list->by_id);

    return active ? n : g_hash_table_size(list->by_name) - n;
}

guint
sv_domain_list_size(SvDomainList *list)
{
    return g_hash_table_size(list->by_name);
}

void
sv_domain_obj_set_cause(SvDomainObj *obj, const char *fmt, ...)
{
    va_list ap;

    g_free(obj->cause);
    va_start(ap, fmt);
    obj->cause = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* The state changes a guest can go through, whatever the hypervisor: a start (to RUNNING,
 * or PAUSED while it starts), pauses and resumes, the guest's own shutdown or crash, a
 * reset out of those (on_poweroff/on_crash, a reboot in place), and the end. Anything
 * else is a driver bug, logged loudly. NOSTATE is where a new object begins. */
static gboolean
transition_allowed(int from, int to)
{
    static const guint allowed[SV_DOMAIN_STATE_LAST] = {
        [SV_DOMAIN_NOSTATE] = ~0u,
        [SV_DOMAIN_SHUTOFF] = 1u << SV_DOMAIN_RUNNING | 1u << SV_DOMAIN_PAUSED,
        [SV_DOMAIN_RUNNING] = 1u << SV_DOMAIN_PAUSED | 1u << SV_DOMAIN_SHUTDOWN |
                              1u << SV_DOMAIN_CRASHED | 1u << SV_DOMAIN_SHUTOFF,
        [SV_DOMAIN_PAUSED] = 1u << SV_DOMAIN_RUNNING | 1u << SV_DOMAIN_SHUTDOWN |
                             1u << SV_DOMAIN_CRASHED | 1u << SV_DOMAIN_SHUTOFF,
        [SV_DOMAIN_SHUTDOWN] = 1u << SV_DOMAIN_RUNNING | 1u << SV_DOMAIN_PAUSED |
                               1u << SV_DOMAIN_CRASHED | 1u << SV_DOMAIN_SHUTOFF,
        [SV_DOMAIN_CRASHED] = 1u << SV_DOMAIN_RUNNING | 1u << SV_DOMAIN_PAUSED |
                              1u << SV_DOMAIN_SHUTOFF,
    };

    return from == to || (from >= 0 && from < SV_DOMAIN_STATE_LAST && to >= 0 &&
                          to < SV_DOMAIN_STATE_LAST && (allowed[from] & (1u << to)));
}

void
sv_domain_obj_set_state(SvDomainObj *obj, int state, int reason)
{
    if (!transition_allowed(obj->state, state))
        g_warning("domain %s: unexpected transition %s -> %s", obj->def->name,
                  sv_domain_state_to_string(obj->state), sv_domain_state_to_string(state));
    if (obj->state != state || obj->reason != reason)
        g_message("domain %s: %s/%d -> %s/%d, asked by %s", obj->def->name,
                  sv_domain_state_to_string(obj->state), obj->reason,
                  sv_domain_state_to_string(state), reason,
                  obj->cause ? obj->cause : "the daemon");
    obj->state = state;
    obj->reason = reason;
    obj->state_time = g_get_real_time();
}
