/* domain_store.c: durable definition files, written by one worker thread in FIFO order so
 * the loop never waits for an fsync and two writes of one file never reorder. */
#include "conf/domain_store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"

typedef enum { OP_WRITE, OP_REMOVE, OP_LINK, OP_UNLINK, OP_BARRIER, OP_SYNC_DIR } OpType;

typedef struct {
    OpType type;
    char *path;
    char *target; /* OP_LINK: link target; OP_WRITE: data */
    char *extra;  /* OP_REMOVE of a definition: its autostart link */
    SvStoreDoneFunc done;
    gpointer data;
    GError *error;
} Op;

static void enqueue(SvDomainStore *store, OpType type, char *path, char *target, char *extra,
                    SvStoreDoneFunc done, gpointer data);

struct SvDomainStore {
    char *dir;
    char *autostart_dir;
    GThread *thread;     /* the one worker, started with the first operation */
    GAsyncQueue *queue; /* Op, for the worker; the store itself tells it to end */
    GMutex lock; /* guards `queued`: the worker and the loop both touch it */
    GCond idle;
    guint queued;
    guint queued_files; /* of those, operations that write or remove files */
};

SvDomainStore *
sv_domain_store_new(const char *config_dir)
{
    SvDomainStore *store = g_new0(SvDomainStore, 1);

    store->dir = g_strdup(config_dir);
    store->autostart_dir = g_build_filename(config_dir, "autostart", NULL);
    g_mutex_init(&store->lock);
    g_cond_init(&store->idle);
    return store;
}

const char *
sv_domain_store_get_dir(SvDomainStore *store)
{
    return store->dir;
}

void
sv_domain_store_barrier_async(SvDomainStore *store, SvStoreDoneFunc done, gpointer data)
{
    enqueue(store, OP_BARRIER, NULL, NULL, NULL, done, data);
}

void
sv_domain_store_flush(SvDomainStore *store)
{
    g_mutex_lock(&store->lock);
    while (store->queued)
        g_cond_wait(&store->idle, &store->lock);
    g_mutex_unlock(&store->lock);
    /* Deliver the completions the worker handed to the loop. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

void
sv_domain_store_free(SvDomainStore *store)
{
    if (!store)
        return;
    /* The worker ends after what is queued and is joined: no thread of the store outlives
     * it (a pool's threads tear themselves down after its free returns, which raced with
     * the process's exit). */
    if (store->thread) {
        g_async_queue_push(store->queue, store);
        g_thread_join(store->thread);
        g_async_queue_unref(store->queue);
    }
    g_mutex_clear(&store->lock);
    g_cond_clear(&store->idle);
    g_free(store->dir);
    g_free(store->autostart_dir);
    g_free(store);
}

static void
op_free(Op *op)
{
    g_free(op->path);
    g_free(op->target);
    g_free(op->extra);
    g_clear_error(&op->error);
    g_free(op);
}

static gboolean
op_complete(gpointer p)
{
    Op *op = p;

    if (op->done)
        op->done(op->error, op->data);
    else if (op->error)
        g_warning("%s", op->error->message); /* nobody waits: at least it is seen */
    op_free(op);
    return G_SOURCE_REMOVE;
}

static void
op_run(Op *op)
{
    g_autofree char *dir = op->path ? g_path_get_dirname(op->path) : NULL;

    switch (op->type) {
    case OP_WRITE:
        if (sv_mkdir_p(dir, 0755, &op->error))
            sv_file_write_atomic(op->path, op->target, strlen(op->target), 0600, &op->error);
        break;
    case OP_REMOVE:
        if (op->extra && !sv_file_remove_durable(op->extra, &op->error))
            break;
        sv_file_remove_durable(op->path, &op->error);
        break;
    case OP_LINK:
        if (!sv_mkdir_p(dir, 0755, &op->error))
            break;
        if (unlink(op->path) < 0 && errno != ENOENT) {
            sv_error_set_errno(&op->error, SV_FROM_NONE, errno, "cannot remove '%s'", op->path);
            break;
        }
        if (symlink(op->target, op->path) < 0)
            sv_error_set_errno(&op->error, SV_FROM_NONE, errno,
                               "Failed to create symlink '%s' to '%s'", op->path, op->target);
        break;
    case OP_UNLINK:
        sv_file_remove_durable(op->path, &op->error);
        break;
    case OP_BARRIER:
        break;
    case OP_SYNC_DIR: {
        g_auto(SvFd) fd = open(op->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
            sv_error_set_errno(&op->error, SV_FROM_NONE, errno, "cannot sync directory '%s'",
                               op->path);
        break;
    }
    }
}

static void
run_one(gpointer p, gpointer user)
{
    SvDomainStore *store = user;

    gboolean touches = ((Op *)p)->type != OP_SYNC_DIR && ((Op *)p)->type != OP_BARRIER;

    op_run(p);
    g_idle_add_full(G_PRIORITY_DEFAULT, op_complete, p, NULL);
    g_mutex_lock(&store->lock);
    if (touches)
        store->queued_files--;
    if (--store->queued == 0)
        g_cond_broadcast(&store->idle);
    g_mutex_unlock(&store->lock);
}

static gpointer
worker(gpointer user)
{
    SvDomainStore *store = user;
    gpointer p;

    while ((p = g_async_queue_pop(store->queue)) != store)
        run_one(p, store);
    return NULL;
}

static void
enqueue(SvDomainStore *store, OpType type, char *path, char *target, char *extra,
        SvStoreDoneFunc done, gpointer data)
{
    Op *op = g_new0(Op, 1);

    op->type = type;
    op->path = path;
    op->target = target;
    op->extra = extra;
    op->done = done;
    op->data = data;
    if (!store->thread) {
        store->queue = g_async_queue_new();
        store->thread = g_thread_new("store", worker, store);
    }
    g_mutex_lock(&store->lock);
    store->queued++;
    if (type != OP_SYNC_DIR && type != OP_BARRIER)
        store->queued_files++;
    g_mutex_unlock(&store->lock);
    g_async_queue_push(store->queue, op);
}

static char *
config_path(SvDomainStore *store, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(store->dir, file, NULL);
}

static char *
autostart_path(SvDomainStore *store, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(store->autostart_dir, file, NULL);
}

void
sv_domain_store_save_async(SvDomainStore *store, const char *name, const char *xml,
                           SvStoreDoneFunc done, gpointer data)
{
    enqueue(store, OP_WRITE, config_path(store, name), g_strdup(xml), NULL, done, data);
}

void
sv_domain_store_remove_async(SvDomainStore *store, const char *name, SvStoreDoneFunc done,
                             gpointer data)
{
    g_autofree char *config = config_path(store, name);
    g_autofree char *link = autostart_path(store, name);
    g_autoptr(GError) error = NULL;
    guint queued;

    g_mutex_lock(&store->lock);
    queued = store->queued_files;
    g_mutex_unlock(&store->lock);
    if (queued) {
        /* Behind a write of the same file: keep the order. */
        enqueue(store, OP_REMOVE, g_steal_pointer(&config), NULL, g_steal_pointer(&link), done,
                data);
        return;
    }
    /* Nothing queued: an unlink is atomic and quick, so it happens here and the
     * caller hears at once; the directory's fsync (against power loss) follows
     * on the worker, in order with whatever comes next. */
    if ((unlink(link) < 0 && errno != ENOENT) || (unlink(config) < 0 && errno != ENOENT))
        sv_error_set_errno(&error, SV_FROM_NONE, errno, "cannot remove '%s'", config);
    done(error, data);
    if (!error)
        enqueue(store, OP_SYNC_DIR, g_strdup(store->dir), NULL, NULL, NULL, NULL);
}

void
sv_domain_store_autostart_async(SvDomainStore *store, const char *name, gboolean on,
                                SvStoreDoneFunc done, gpointer data)
{
    if (on)
        enqueue(store, OP_LINK, autostart_path(store, name), config_path(store, name), NULL, done,
                data);
    else
        enqueue(store, OP_UNLINK, autostart_path(store, name), NULL, NULL, done, data);
}

void
sv_domain_store_write_file_async(SvDomainStore *store, const char *path, const char *data,
                                 SvStoreDoneFunc done, gpointer user_data)
{
    enqueue(store, OP_WRITE, g_strdup(path), g_strdup(data), NULL, done, user_data);
}

void
sv_domain_store_remove_file_async(SvDomainStore *store, const char *path, SvStoreDoneFunc done,
                                  gpointer user_data)
{
    enqueue(store, OP_UNLINK, g_strdup(path), NULL, NULL, done, user_data);
}

typedef struct {
    SvDomainStore *store;
    SvDomainList *list;
    gboolean (*check)(SvDomainDef *def, gpointer data, GError **error);
    gpointer check_data;
    guint n;
} Load;

static void
load_one(const char *path, const char *entry, gpointer data)
{
    Load *l = data;
    g_autofree char *text = NULL, *want = NULL, *link = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    SvDomainObj *obj;

    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(def = sv_domain_def_parse(text, SV_DOMAIN_PARSE_INACTIVE, &error)) ||
        (l->check && !l->check(def, l->check_data, &error))) {
        g_warning("skipping domain definition '%s': %s", path, error->message);
        return;
    }
    want = g_strconcat(def->name, ".xml", NULL);
    if (!g_str_equal(want, entry)) {
        g_warning("skipping domain definition '%s': it defines '%s'", path, def->name);
        return;
    }
    if (sv_domain_list_find_by_uuid(l->list, def->uuid) ||
        sv_domain_list_find_by_name(l->list, def->name)) {
        g_warning("skipping domain definition '%s': its UUID is already defined", path);
        return;
    }
    link = autostart_path(l->store, def->name);
    obj = sv_domain_list_add(l->list, g_steal_pointer(&def), TRUE);
    obj->autostart = g_file_test(link, G_FILE_TEST_EXISTS);
    l->n++;
}

guint
sv_domain_store_load_all(SvDomainStore *store, SvDomainList *list,
                         gboolean (*check)(SvDomainDef *def, gpointer data, GError **error),
                         gpointer data)
{
    Load l = {store, list, check, data, 0};

    /* Temporary files of writes a killed daemon never finished go first; the definitions
     * themselves are the old or the new ones, whole. Nothing writes yet. */
    sv_file_walk_dir(store->dir, ".xml", load_one, &l);
    return l.n;
}
