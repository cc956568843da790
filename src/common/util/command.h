/* command.h: an external command as libvirt shows it in its errors. */
#pragma once
#include <glib.h>

/* argv as one line, each word quoted where the shell would read it otherwise, as libvirt's
 * virCommandToString writes it. (transfer full) */
char *sv_command_to_string(const char *const *argv);

/* libvirt's error for a command that ended with wait status `status` and printed `err`
 * (may be NULL) on stderr: INTERNAL_ERROR of no domain, "Child process (ARGV) unexpected
 * exit status N: STDERR" (or "fatal signal N"), stderr kept as printed, trailing newline
 * included. */
void sv_command_error(const char *const *argv, int status, const char *err, GError **error);

/* A system tool's path: name found in /usr/sbin, /usr/bin, /sbin or /bin, the directories
 * a root daemon finds them in; NULL when in none. (transfer full) */
char *sv_command_path(const char *name);

/* Run a system tool to its end, blocking (a worker's, never the loop's): argv[0] is a name
 * found in /usr/sbin, /usr/bin, /sbin or /bin (libvirt's "Cannot find 'NAME' in path"
 * when it is in none), the environment only LC_ALL=C and that PATH, input (NULL: none) on
 * its stdin. Its stdout goes to *ret_out (NULL: dropped). A status other than 0 is
 * sv_command_error's error, argv shown as given. */
gboolean sv_command_run(const char *const *argv, const char *input, char **ret_out,
                        GError **error);
/* The same, any exit status accepted when ignore_status. */
gboolean sv_command_run_status(const char *const *argv, const char *input, gboolean ignore_status,
                               char **ret_out, GError **error);
