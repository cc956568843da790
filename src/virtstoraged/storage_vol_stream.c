/* storage_vol_stream.c: STORAGE_VOL_UPLOAD and STORAGE_VOL_DOWNLOAD: a volume's bytes through
 * a libvirt stream, as libvirt 9.0's fs backend serves them (the file opened at the offset,
 * `length` bytes or to its end, no truncation). The file I/O runs on a thread of the
 * transfer's own, never the loop's: an upload's chunks go to it through a queue; a
 * download's reader reads one chunk per credit the loop gives it, and the loop gives a
 * credit while the client keeps up (sv_stream_can_send), so memory stays bounded. The end
 * of an upload refreshes the pool (libvirt's refresh thread and its REFRESH event). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "rpc/stream.h"
#include "storage_vol.h"
#include "util/error.h"

#define CHUNK (256 * 1024)
#define SEND_LIMIT (4 * 1024 * 1024) /* queued to the client before the reader waits */
#define UPLOAD_HIGH (8 * 1024 * 1024)   /* queued to the writer: the client's reads pause */
#define UPLOAD_LOW (2 * 1024 * 1024)    /* ... and resume below this */

static int mark_eof, mark_stop; /* queue markers (their addresses) */

typedef struct {
    StorageDriver *drv;
    SvStream *st;          /* NULL once the stream is gone */
    guint refs;            /* the stream side and the thread side (both dropped on the loop) */
    gboolean upload;
    guint8 uuid[16];
    char *vol_name;
    int fd;
    guint64 offset;
    guint64 left;          /* bytes still to move; G_MAXUINT64: to the end */
    GAsyncQueue *queue;    /* upload: GBytes and markers; download: credits and markers */
    GError *error;         /* the thread's failure, read on the loop after it ended */
    gboolean failed;       /* upload: the loop stops queueing */
    gint queued;           /* upload: bytes queued to the writer (atomic) */
    gboolean paused;       /* upload: the client's reads are paused (loop only) */
} Xfer;

static void
xfer_unref(Xfer *x)
{
    if (--x->refs)
        return;
    if (x->fd >= 0)
        close(x->fd);
    g_async_queue_unref(x->queue);
    g_clear_error(&x->error);
    g_free(x->vol_name);
    g_free(x);
}

/* The pool and volume are free again; an upload refreshes the pool (with its event) when no
 * other job runs, as libvirt's refresh thread. */
static void
release(Xfer *x)
{
    StoragePool *pool = storage_pools_find_uuid(x->drv->pools, x->uuid, NULL);
    StorageVol *vol;

    sv_daemon_uninhibit(x->drv->daemon);
    if (!pool)
        return;
    pool->jobs--;
    if (pool->vols && (vol = storage_vol_find(pool, x->vol_name, NULL)) && vol->in_use)
        vol->in_use--;
    if (!x->upload || !pool->active)
        return;
    if (!pool->jobs) {
        StorageJobSpec spec = {.kind = STORAGE_JOB_REFRESH};
        storage_job_run(x->drv, pool, &spec, NULL);
    } else {
        storage_pool_emit(x->drv, pool, -1);
    }
}

/* ---------------------------------------------------------------- upload */

static gboolean
write_all(Xfer *x, GBytes *b, GError **error)
{
    gsize len;
    const guint8 *p = g_bytes_get_data(b, &len);

    len = MIN(len, x->left);
    while (len > 0) {
        ssize_t n = pwrite(x->fd, p, len, (off_t)x->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno, "%s", "cannot write to stream");
            return FALSE;
        }
        p += n;
        len -= (gsize)n;
        x->offset += (guint64)n;
        if (x->left != G_MAXUINT64)
            x->left -= (guint64)n;
    }
    return TRUE;
}

/* The writer caught up: the client's reads resume (while its stream lives). */
static void
resume(Xfer *x)
{
    if (x->paused && x->st)
        sv_client_pause(sv_stream_get_client(x->st), FALSE);
    x->paused = FALSE;
}

static gboolean
writer_caught_up(gpointer data)
{
    Xfer *x = data;

    if (g_atomic_int_get(&x->queued) < UPLOAD_LOW)
        resume(x);
    return G_SOURCE_REMOVE;
}

static gboolean
upload_failed(gpointer data)
{
    Xfer *x = data;

    x->failed = TRUE;
    resume(x);
    g_async_queue_push(x->queue, &mark_stop); /* the writer ends: no closed() will say so */
    if (x->st) {
        sv_stream_abort(x->st, x->error);
        x->st = NULL;
        xfer_unref(x); /* the stream side: abort calls no closed() */
    }
    return G_SOURCE_REMOVE;
}

static gboolean
thread_ended(gpointer data)
{
    Xfer *x = data;

    release(x);
    xfer_unref(x);
    return G_SOURCE_REMOVE;
}

static gpointer
writer_main(gpointer data)
{
    Xfer *x = data;
    gpointer item;

    while ((item = g_async_queue_pop(x->queue)) != &mark_eof && item != &mark_stop) {
        gint len = (gint)g_bytes_get_size(item);
        gint before;

        if (!x->error && !write_all(x, item, &x->error)) {
            /* the loop aborts the stream; the rest of the queue is dropped */
            g_idle_add(upload_failed, x);
        }
        g_bytes_unref(item);
        before = g_atomic_int_add(&x->queued, -len);
        if (before >= UPLOAD_LOW && before - len < UPLOAD_LOW)
            g_idle_add(writer_caught_up, x); /* runs before thread_ended: x lives */
    }
    g_idle_add(thread_ended, x);
    return NULL;
}

static void
upload_recv(SvStream *st, const guint8 *data, gsize len, gpointer user)
{
    Xfer *x = user;

    if (x->failed || !len)
        return;
    /* counted before the writer can see it */
    if (g_atomic_int_add(&x->queued, (gint)len) + (gint)len > UPLOAD_HIGH && !x->paused) {
        sv_client_pause(sv_stream_get_client(st), TRUE);
        x->paused = TRUE;
    }
    g_async_queue_push(x->queue, g_bytes_new(data, len));
}

static void
stream_closed(SvStream *st, gboolean aborted, gpointer user)
{
    Xfer *x = user;

    (void)st;
    x->st = NULL;
    g_async_queue_push(x->queue, aborted || !x->upload ? &mark_stop : &mark_eof);
    xfer_unref(x);
}

/* ---------------------------------------------------------------- download */

typedef struct {
    Xfer *x;
    GBytes *data; /* NULL: the end (x->error tells whether it failed) */
} Chunk;

static void give_credit(Xfer *x);

static void
drained(SvStream *st, gpointer data)
{
    (void)st;
    give_credit(data);
}

static void
give_credit(Xfer *x)
{
    if (!x->st)
        return;
    if (sv_stream_can_send(x->st, SEND_LIMIT))
        g_async_queue_push(x->queue, GINT_TO_POINTER(1));
    else
        sv_stream_when_drained(x->st, drained, x);
}

static gboolean
chunk_read(gpointer data)
{
    Chunk *c = data;
    Xfer *x = c->x;

    if (x->st && c->data) {
        gsize len;
        const guint8 *p = g_bytes_get_data(c->data, &len);
        sv_stream_send(x->st, p, len);
        give_credit(x);
    } else if (x->st && x->error) {
        sv_stream_abort(x->st, x->error);
        x->st = NULL;
        xfer_unref(x);
    } else if (x->st) {
        sv_stream_send_eof(x->st);
    }
    if (c->data)
        g_bytes_unref(c->data);
    g_free(c);
    return G_SOURCE_REMOVE;
}

/* One chunk read at the offset: NULL at the end (or on a failure, in x->error). */
static GBytes *
read_chunk(Xfer *x)
{
    gsize want = (gsize)MIN((guint64)CHUNK, x->left);
    guint8 *buf;
    ssize_t n;

    if (!want)
        return NULL;
    buf = g_malloc(want);
    do {
        n = pread(x->fd, buf, want, (off_t)x->offset);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n < 0)
            sv_error_set_errno(&x->error, SV_FROM_STORAGE, errno, "%s",
                               "cannot read from stream");
        g_free(buf);
        return NULL;
    }
    x->offset += (guint64)n;
    if (x->left != G_MAXUINT64)
        x->left -= (guint64)n;
    return g_bytes_new_take(buf, (gsize)n);
}

static gpointer
reader_main(gpointer data)
{
    Xfer *x = data;
    gpointer credit;

    while ((credit = g_async_queue_pop(x->queue)) != &mark_stop) {
        Chunk *c = g_new0(Chunk, 1);
        gboolean end;

        c->x = x;
        c->data = read_chunk(x);
        end = c->data == NULL;
        g_idle_add(chunk_read, c); /* c is the loop's now */
        if (end)
            break;
    }
    g_idle_add(thread_ended, x);
    return NULL;
}

/* ---------------------------------------------------------------- the calls */

static gboolean
check_flags(unsigned int flags, const char *fn, GError **error)
{
    return sv_check_flags(flags, 0, SV_FROM_STORAGE, fn, error);
}

/* libvirt's checks, the file opened, the transfer's thread started and the stream made. */
static gboolean
start(SvCall *call, const remote_nonnull_storage_vol *v, guint64 offset, guint64 length,
      gboolean upload, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    const SvStreamCallbacks cb = {.recv = upload ? upload_recv : NULL, .closed = stream_closed};
    StoragePool *pool;
    StorageVol *vol = storage_vol_of(drv, v, &pool, error);
    Xfer *x;
    int fd;

    if (!vol || !storage_vol_check_idle(vol, FALSE, error))
        return FALSE;
    if (storage_vol_formats(pool->def->type) != SV_VOL_FORMATS_FILE ||
        vol->type == SV_VOL_TYPE_DIR) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT, "storage pool doesn't support "
                     "volume %s", upload ? "upload" : "download");
        return FALSE;
    }
    if ((fd = open(vol->path, (upload ? O_WRONLY : O_RDONLY) | O_CLOEXEC)) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "Unable to open %s", vol->path);
        return FALSE;
    }
    x = g_new0(Xfer, 1);
    x->drv = drv;
    x->refs = 2;
    x->upload = upload;
    memcpy(x->uuid, pool->def->uuid, 16);
    x->vol_name = g_strdup(vol->name);
    x->fd = fd;
    x->offset = offset;
    x->left = length ? length : G_MAXUINT64;
    x->queue = g_async_queue_new();
    pool->jobs++;
    vol->in_use++;
    sv_daemon_inhibit(drv->daemon);
    x->st = sv_stream_new(call, &cb, x);
    g_thread_unref(g_thread_new(upload ? "vol-upload" : "vol-download",
                                upload ? writer_main : reader_main, x));
    if (!upload)
        give_credit(x);
    return TRUE;
}

static gboolean
upload(SvCall *call, remote_storage_vol_upload_args *a, GError **error)
{
    return check_flags(a->flags, "storageVolUpload", error) &&
           start(call, &a->vol, a->offset, a->length, TRUE, error);
}

static gboolean
download(SvCall *call, remote_storage_vol_download_args *a, GError **error)
{
    return check_flags(a->flags, "storageVolDownload", error) &&
           start(call, &a->vol, a->offset, a->length, FALSE, error);
}

void
storage_vol_stream_install(SvRemoteHandlers *h)
{
    h->storage_vol_upload = upload;
    h->storage_vol_download = download;
}
