/* storage_wipe.h: a volume's wipe as libvirt 9.0's storage backends do it (vol-wipe, and
 * vol-delete with its wipe flag): zeros written by the daemon, the patterned algorithms and
 * random data by the scrub program, trim refused.
 *
 * Synchronous and blocking: call it from a worker thread, never the loop's. */
#pragma once

#include <glib.h>

/* Where libvirt runs scrub from (its build-time SCRUB path on Debian). */
#define SV_SCRUB_PATH "/usr/bin/scrub"

/* Whether `algorithm` is one of libvirt's names of the wipe algorithms ("zero", "nnsa",
 * "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33", "random", "trim"); the
 * daemon maps the wire's VIR_STORAGE_VOL_WIPE_ALG_* numbers to these names. */
gboolean sv_storage_wipe_known(const char *algorithm);

/* libvirt's scrub command line for a patterned algorithm or random: scrub -f -p ALG PATH.
 * (transfer full: g_strfreev) */
char **sv_storage_wipe_scrub_argv(const char *scrub, const char *algorithm, const char *path);

/* Wipe the file or device at `path` as libvirt's storageBackendVolWipeLocalFile:
 *   zero: a sparse regular file (fewer blocks than its size) is truncated to 0 and back to
 *         its size; anything else gets `allocation` bytes of zeros from its start, written
 *         in blocks of its st_blksize, then fdatasync;
 *   trim: ARGUMENT_UNSUPPORTED "'trim' algorithm not supported";
 *   the others: `scrub` (NULL: SV_SCRUB_PATH) -f -p ALG PATH.
 * libvirt's errors (STORAGE domain). */
gboolean sv_storage_wipe(const char *path, const char *algorithm, guint64 allocation,
                         const char *scrub, GError **error);
