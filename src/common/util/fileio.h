/* fileio.h: durable file replacement and small file helpers. */
#pragma once

#include <glib.h>

/* Replace path with data durably: write a temporary file beside it, fsync it,
 * rename it over path, fsync the directory. Readers see the old or the new
 * content, never a mix. */
gboolean sv_file_write_atomic(const char *path, const char *data, gsize len, guint mode,
                              GError **error);

/* Whether the file name (no directory) is the temporary file of an
 * sv_file_write_atomic() that never reached its rename, e.g. because the
 * process was killed: such files are garbage once no write is running. */
gboolean sv_file_is_atomic_temp(const char *name);

/* Called for a file of a directory walk: path is DIR/ENTRY. */
typedef void (*SvFileWalkFunc)(const char *path, const char *entry, gpointer data);

/* A restarted daemon's walk over a directory it writes with sv_file_write_atomic()
 * (definitions, status files), before it writes there again: the temporary files of
 * writes a killed daemon never finished are removed (the files they were to replace are
 * whole, old or new), then fn runs for every entry ending in suffix, in turn. The
 * directory is read whole first, so what fn does there never changes the walk. Nothing
 * else is touched. No directory, no walk. */
void sv_file_walk_dir(const char *dir, const char *suffix, SvFileWalkFunc fn, gpointer data);

/* Remove path and fsync its directory; a missing file is not an error. */
gboolean sv_file_remove_durable(const char *path, GError **error);

/* mkdir -p with mode, as a libvirt error. */
gboolean sv_mkdir_p(const char *path, guint mode, GError **error);

/* Whether path names something inside dir, by its text alone: both absolute, and path
 * is dir, a '/', then one or more components none of which is empty, "." or "..".
 * For paths read back from files an attacker may have written (status files), before
 * anything is opened, removed or signalled through them. */
gboolean sv_path_is_within(const char *path, const char *dir);
