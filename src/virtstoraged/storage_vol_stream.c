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
#include <sys/stat.h>
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
    gboolean sparse;       /* download: holes sent as holes */
    gboolean paused;       /* upload: the client's reads are paused (loop only) */
    gboolean released;     /* the pool and volume are free again (loop only) */
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
 * other job runs, as libvirt's refresh thread. Once, and before the client hears how the
 * transfer ended: a call it makes next finds the volume free. */
static void
release(Xfer *x)
{
    StoragePool *pool;
    StorageVol *vol;

    if (x->released)
        return;
    x->released = TRUE;
    pool = storage_pools_find_uuid(x->drv->pools, x->uuid, NULL);
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
    release(x); /* the writer writes nothing more */
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
    if (x->upload && x->st) {
        /* every byte is written: the client's finish is answered (a failure aborted the
         * stream before this) */
        sv_stream_finish_done(x->st, NULL);
        x->st = NULL;
        xfer_unref(x); /* the stream side */
    }
    xfer_unref(x);
    return G_SOURCE_REMOVE;
}

/* One thing for the writer: data, or a sparse stream's hole. */
typedef struct {
    GBytes *data;   /* NULL: a hole */
    guint64 hole;
} Item;

/* A hole on a block device (a disk pool's partition), which has none: zeros written over
 * it, as libvirt's fdstream does there. */
static gboolean
zero_hole(Xfer *x, guint64 len, GError **error)
{
    static const guint8 zeros[64 * 1024];

    for (guint64 done = 0; done < len;) {
        ssize_t n = pwrite(x->fd, zeros, (size_t)MIN(sizeof(zeros), len - done),
                           (off_t)(x->offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sv_error_set_errno(error, SV_FROM_STORAGE, n < 0 ? errno : ENOSPC, "%s",
                               "unable to write stream data");
            return FALSE;
        }
        done += (guint64)n;
    }
    return TRUE;
}

/* A hole, as libvirt's fdstream writes one into a file: skipped, the file's size set to its
 * end (ftruncate); on a block device, zeros. */
static gboolean
skip_hole(Xfer *x, guint64 len, GError **error)
{
    struct stat st;

    len = MIN(len, x->left);
    if (fstat(x->fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (!zero_hole(x, len, error))
            return FALSE;
        x->offset += len;
        if (x->left != G_MAXUINT64)
            x->left -= len;
        return TRUE;
    }
    x->offset += len;
    if (x->left != G_MAXUINT64)
        x->left -= len;
    if (ftruncate(x->fd, (off_t)x->offset) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "%s", "unable to seek");
        return FALSE;
    }
    return TRUE;
}

static gpointer
writer_main(gpointer data)
{
    Xfer *x = data;
    Item *item;

    while ((item = g_async_queue_pop(x->queue)) != (gpointer)&mark_eof &&
           item != (gpointer)&mark_stop) {
        gint len = item->data ? (gint)g_bytes_get_size(item->data) : 0;
        gint before;
        gboolean ok = x->error || (item->data ? write_all(x, item->data, &x->error)
                                              : skip_hole(x, item->hole, &x->error));

        if (!ok) /* the loop aborts the stream; the rest of the queue is dropped */
            g_idle_add(upload_failed, x);
        if (item->data)
            g_bytes_unref(item->data);
        g_free(item);
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
    Item *item;

    if (x->failed || !len)
        return;
    /* counted before the writer can see it */
    if (g_atomic_int_add(&x->queued, (gint)len) + (gint)len > UPLOAD_HIGH && !x->paused) {
        sv_client_pause(sv_stream_get_client(st), TRUE);
        x->paused = TRUE;
    }
    item = g_new0(Item, 1);
    item->data = g_bytes_new(data, len);
    g_async_queue_push(x->queue, item);
}

static void
upload_hole(SvStream *st, gint64 length, gpointer user)
{
    Xfer *x = user;
    Item *item;

    (void)st;
    if (x->failed)
        return;
    item = g_new0(Item, 1);
    item->hole = (guint64)length;
    g_async_queue_push(x->queue, item);
}

/* The client finished an upload: the writer ends after what is queued, then
 * thread_ended() answers the finish. */
static void
upload_finish(SvStream *st, gpointer user)
{
    Xfer *x = user;

    (void)st;
    g_async_queue_push(x->queue, &mark_eof);
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
    GBytes *data; /* NULL and no hole: the end (x->error tells whether it failed) */
    guint64 hole; /* a sparse download's hole */
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

    if (x->st && c->hole) {
        sv_stream_send_hole(x->st, (gint64)c->hole);
        give_credit(x);
    } else if (x->st && c->data) {
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
read_chunk(Xfer *x, guint64 limit)
{
    gsize want = (gsize)MIN(MIN((guint64)CHUNK, x->left), limit);
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

/* A sparse download at its offset: the hole there (its length; 0 in data, with how much
 * data follows in *data_len; 0 and 0 at the end), found as libvirt's virFileInData does. */
static guint64
section_at(Xfer *x, guint64 *data_len)
{
    off_t off = (off_t)x->offset, d, h;
    struct stat st;

    *data_len = 0;
    if (fstat(x->fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a block device (a disk pool's partition) has no holes: all of it is data */
        *data_len = CHUNK;
        return 0;
    }
    if ((d = lseek(x->fd, off, SEEK_DATA)) < 0) {
        /* no data after off: a hole to the end of the file */
        if (fstat(x->fd, &st) < 0 || st.st_size <= off)
            return 0;
        return MIN((guint64)(st.st_size - off), x->left);
    }
    if (d > off)
        return MIN((guint64)(d - off), x->left);
    h = lseek(x->fd, off, SEEK_HOLE);
    *data_len = h > off ? (guint64)(h - off) : CHUNK;
    return 0;
}

static gpointer
reader_main(gpointer data)
{
    Xfer *x = data;
    gpointer credit;

    while ((credit = g_async_queue_pop(x->queue)) != &mark_stop) {
        Chunk *c = g_new0(Chunk, 1);
        guint64 limit = G_MAXUINT64;
        gboolean end;

        c->x = x;
        if (x->sparse && x->left && (c->hole = section_at(x, &limit))) {
            x->offset += c->hole;
            if (x->left != G_MAXUINT64)
                x->left -= c->hole;
        } else if (limit) {
            c->data = read_chunk(x, limit);
        }
        end = !c->data && !c->hole;
        g_idle_add(chunk_read, c); /* c is the loop's now */
        if (end)
            break;
    }
    g_idle_add(thread_ended, x);
    return NULL;
}

/* ---------------------------------------------------------------- the calls */

/* VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM and VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM. */
static gboolean
check_flags(unsigned int flags, const char *fn, GError **error)
{
    return sv_check_flags(flags, SV_STORAGE_VOL_UPLOAD_SPARSE_STREAM, SV_FROM_STORAGE, fn,
                          error);
}

/* libvirt's checks, the file opened, the transfer's thread started and the stream made. */
static gboolean
start(SvCall *call, const remote_nonnull_storage_vol *v, guint64 offset, guint64 length,
      gboolean upload, gboolean sparse, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    const SvStreamCallbacks cb = {.recv = upload ? upload_recv : NULL,
                                  .closed = stream_closed,
                                  .hole = upload && sparse ? upload_hole : NULL,
                                  .finish = upload ? upload_finish : NULL};
    StoragePool *pool;
    StorageVol *vol = storage_vol_of(drv, v, &pool, error);
    Xfer *x;
    int fd;

    if (!vol || !storage_vol_check_idle(vol, FALSE, error))
        return FALSE;
    if ((storage_vol_formats(pool->def->type) != SV_VOL_FORMATS_FILE &&
         pool->def->type != SV_STORAGE_POOL_DISK) ||
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
    x->sparse = sparse;
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
           start(call, &a->vol, a->offset, a->length, TRUE,
                 (a->flags & SV_STORAGE_VOL_UPLOAD_SPARSE_STREAM) != 0, error);
}

static gboolean
download(SvCall *call, remote_storage_vol_download_args *a, GError **error)
{
    return check_flags(a->flags, "storageVolDownload", error) &&
           start(call, &a->vol, a->offset, a->length, FALSE,
                 (a->flags & SV_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) != 0, error);
}

void
storage_vol_stream_install(SvRemoteHandlers *h)
{
    h->storage_vol_upload = upload;
    h->storage_vol_download = download;
}
