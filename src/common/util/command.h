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
