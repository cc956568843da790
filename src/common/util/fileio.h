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

/* Remove path and fsync its directory; a missing file is not an error. */
gboolean sv_file_remove_durable(const char *path, GError **error);

/* mkdir -p with mode, as a libvirt error. */
gboolean sv_mkdir_p(const char *path, guint mode, GError **error);

/* Whether path names something inside dir, by its text alone: both absolute, and path
 * is dir, a '/', then one or more components none of which is empty, "." or "..".
 * For paths read back from files an attacker may have written (status files), before
 * anything is opened, removed or signalled through them. */
gboolean sv_path_is_within(const char *path, const char *dir);
