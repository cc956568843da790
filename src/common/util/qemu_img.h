/* qemu_img.h: storage volumes made, converted, resized and read with qemu-img, and raw
 * volumes made without it, as libvirt 9.0's storage backends (storage_util.c) do.
 *
 * Everything here is synchronous and blocks: call it from a worker thread, never the
 * loop's. Programs run with argv only and a clean environment (sv_process_run_sync). The
 * argv builders are pure, for golden tests. Volumes are described by plain fields (this
 * layer knows no volume definition): formats are libvirt's names ("raw", "qcow2", ...). */
#pragma once

#include <glib.h>

/* libvirt's volume encryption formats (virStorageEncryptionFormat numbers). */
typedef enum {
    SV_QEMU_IMG_ENC_NONE = -1,
    SV_QEMU_IMG_ENC_DEFAULT = 0,
    SV_QEMU_IMG_ENC_QCOW = 1,
    SV_QEMU_IMG_ENC_LUKS = 2,
} SvQemuImgEnc;

/* One volume as the tools see it. */
typedef struct {
    const char *name;       /* the volume's name: its secret's alias is NAME_encrypt0 */
    const char *path;       /* its file or device */
    const char *format;     /* libvirt's format name; "iso" and block devices are raw */
    gboolean block;         /* a block device (vol type block) */
    guint64 capacity;       /* bytes */
    guint64 allocation;     /* bytes */
    gint64 mode;            /* -1: libvirt's default 0600 */
    gint64 uid, gid;        /* -1: leave */
    const char *compat;     /* NULL: qcow2 gets 0.10, as libvirt 9.0 writes it */
    gboolean lazy_refcounts;
    gboolean has_features;  /* a <features> was given (qcow2 only) */
    guint64 cluster_size;   /* 0: qemu-img's */
    gboolean nocow;
    const char *backing_path;   /* NULL: none */
    const char *backing_format; /* libvirt's name of the backing file's format */
    SvQemuImgEnc encryption;
    guint n_secrets;            /* <secret> elements of the encryption */
    const char *secret_path;    /* a file holding the key (0600) */
    const char *cipher_name;    /* LUKS cipher details, NULL: qemu-img's */
    guint cipher_size;
    const char *cipher_mode, *cipher_hash, *ivgen_name, *ivgen_hash;
} SvQemuImgVol;

/* The steps of making a volume from an encrypted one or into an encrypted one: libvirt
 * creates the image, then converts into it (convert --image-opts -n --target-image-opts). */
typedef enum {
    SV_QEMU_IMG_STEP_NONE,
    SV_QEMU_IMG_STEP_CREATE,
    SV_QEMU_IMG_STEP_CONVERT,
} SvQemuImgStep;

/* libvirt's qemu-img command line for making `vol` (create), or making it from `input`
 * (convert; NULL: none) at `step`; `pool_path` resolves a relative backing path for
 * libvirt's check that it is readable. prealloc: VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA.
 * libvirt's errors (STORAGE domain). (transfer full: NULL-terminated, g_strfreev) */
char **sv_qemu_img_create_argv(const char *tool, const SvQemuImgVol *vol,
                               const SvQemuImgVol *input, gboolean prealloc,
                               SvQemuImgStep step, const char *pool_path, GError **error);

/* Make `vol` with qemu-img (from `input` when given, in libvirt's two steps when either is
 * encrypted), then give it its owner and mode; on failure nothing is left at vol->path. */
gboolean sv_qemu_img_create(const char *tool, const SvQemuImgVol *vol, const SvQemuImgVol *input,
                            gboolean prealloc, const char *pool_path, GError **error);

/* How libvirt's directory-pool backends build a volume (from `input` when given): */
typedef enum {
    SV_STORAGE_BUILD_RAW,      /* sv_storage_create_raw */
    SV_STORAGE_BUILD_QEMU_IMG, /* sv_qemu_img_create */
    SV_STORAGE_BUILD_DIR,      /* a directory (format dir) */
    SV_STORAGE_BUILD_PLOOP,    /* the ploop tools */
    SV_STORAGE_BUILD_BLOCK,    /* copied onto an existing block device */
} SvStorageBuild;

/* libvirt's choice: without input, a plain raw file is written directly, dir and ploop have
 * their own ways, everything else is qemu-img's; from an input, qemu-img whenever either
 * file volume is not plain raw (another format, or encrypted), else by the target's type.
 * Pure. */
SvStorageBuild sv_storage_build_kind(const SvQemuImgVol *vol, const SvQemuImgVol *input);

/* Make a raw file volume without qemu-img, as libvirt's storageBackendCreateRaw: created
 * O_EXCL with its mode and owner, its capacity by ftruncate, its allocation fallocated (or
 * zeros written), data copied from `input` (raw; NULL: none) with zero blocks skipped where
 * the copy may be sparse, then synced; on failure removed. */
gboolean sv_storage_create_raw(const SvQemuImgVol *vol, const SvQemuImgVol *input,
                               gboolean prealloc, GError **error);

/* Copy raw `input` onto the existing block device vol->path (libvirt's
 * storageBackendCreateBlockFrom: every byte written, up to vol->capacity, then synced). */
gboolean sv_storage_copy_to_block(const SvQemuImgVol *vol, const SvQemuImgVol *input,
                                  GError **error);

/* libvirt's qemu-img resize command line: `capacity` rounded up to 512, --shrink when below
 * vol->capacity, --image-opts for an encrypted volume. (transfer full) */
char **sv_qemu_img_resize_argv(const char *tool, const SvQemuImgVol *vol, guint64 capacity,
                               GError **error);

/* Resize a volume as libvirt's virStorageBackendVolResizeLocal: a plain raw file by
 * ftruncate (allocated first with `allocate`), anything else by qemu-img. */
gboolean sv_storage_resize(const char *tool, const SvQemuImgVol *vol, guint64 capacity,
                           gboolean allocate, GError **error);

/* What qemu-img info says of one image. */
typedef struct {
    char *filename;
    char *format;
    guint64 virtual_size;
    guint64 actual_size;
    guint64 cluster_size;    /* 0: none */
    char *backing_file;      /* NULL: none */
    char *backing_format;    /* NULL: not recorded */
    char *compat;            /* qcow2's, NULL otherwise */
    gboolean lazy_refcounts;
    gboolean encrypted;
    char *encrypt_format;    /* "luks" / "aes" for qcow2, NULL otherwise */
    gboolean dirty;
} SvQemuImgInfo;

void sv_qemu_img_info_free(SvQemuImgInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvQemuImgInfo, sv_qemu_img_info_free)

/* Parse `qemu-img info --output=json` (an object) or `--backing-chain` (an array): the
 * images, top first. Pure. (transfer full: GPtrArray of SvQemuImgInfo) */
GPtrArray *sv_qemu_img_info_parse(const char *json, GError **error);

/* Run qemu-img info --output=json [--backing-chain] on `path` (-f format when given, as
 * libvirt never lets qemu-img probe a known format). (transfer full) */
GPtrArray *sv_qemu_img_info(const char *tool, const char *path, const char *format,
                            gboolean backing_chain, GError **error);

/* The file qemu-img reads a volume's key from, as libvirt's storage driver writes it: created
 * 0600 as STATE_DIR/POOL.VOL.secret.XXXXXX, the key written, owned by the volume's uid and
 * gid when both are set. The caller unlinks it once qemu-img is done. (transfer full: the
 * path) */
char *sv_storage_secret_file(const char *state_dir, const char *pool, const char *vol,
                             const guint8 *key, gsize key_len, gint64 uid, gint64 gid,
                             GError **error);

/* The clean environment every storage tool runs with. */
const char *const *sv_storage_tool_env(void);

/* Run a storage tool to its end; a failure is libvirt's INTERNAL_ERROR "Child process (CMD)
 * unexpected exit status N: STDERR". *ret_out (may be NULL) gets its stdout. */
gboolean sv_storage_tool_run(const char *const *argv, char **ret_out, GError **error);
