/* command.c: an external command as libvirt shows it in its errors (command.h). */
#include "util/command.h"

#include <string.h>
#include <sys/wait.h>

#include "util/error.h"

/* A word as virCommandToString shows it: quoted when the shell would otherwise read it
 * differently. */
static void
append_shell_word(GString *s, const char *arg)
{
    if (*arg && !arg[strcspn(arg, "$`\\\"' \t\n\r&|;<>()*?[]{}#~!")]) {
        g_string_append(s, arg);
        return;
    }
    g_string_append_c(s, '\'');
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            g_string_append(s, "'\\''");
        else
            g_string_append_c(s, *p);
    }
    g_string_append_c(s, '\'');
}

char *
sv_command_to_string(const char *const *argv)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; argv[i]; i++) {
        if (i)
            g_string_append_c(s, ' ');
        append_shell_word(s, argv[i]);
    }
    return g_string_free(s, FALSE);
}

void
sv_command_error(const char *const *argv, int status, const char *err, GError **error)
{
    g_autofree char *line = sv_command_to_string(argv);
    g_autofree char *how = WIFEXITED(status)
                               ? g_strdup_printf("exit status %d", WEXITSTATUS(status))
                               : g_strdup_printf("fatal signal %d", WTERMSIG(status));
    gboolean said = err && *err;

    sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Child process (%s) unexpected %s%s%s",
                 line, how, said ? ": " : "", said ? err : "");
}
