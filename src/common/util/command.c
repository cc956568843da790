/* command.c: an external command as libvirt shows it in its errors (command.h). */
#include "util/command.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "util/error.h"
#include "util/process.h"

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

char *
sv_command_path(const char *name)
{
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};

    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path = g_build_filename(dirs[i], name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&path);
    }
    return NULL;
}

gboolean
sv_command_run_status(const char *const *argv, const char *input, gboolean ignore_status,
                      char **ret_out, GError **error)
{
    static const char *const envp[] = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    g_autofree char *path = strchr(argv[0], '/') ? g_strdup(argv[0]) : sv_command_path(argv[0]);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    int status = 0;

    if (!path) {
        sv_error_set_errno(error, SV_FROM_NONE, ENOENT, "Cannot find '%s' in path", argv[0]);
        return FALSE;
    }
    g_ptr_array_add(args, path);
    for (guint i = 1; argv[i]; i++)
        g_ptr_array_add(args, (char *)argv[i]);
    g_ptr_array_add(args, NULL);
    if (!sv_process_run_sync_input((const char *const *)args->pdata, envp, input, &out, &err,
                                   &status, error))
        return FALSE;
    g_debug("%s %s: status %d, stderr '%s'", argv[0], argv[1] ? argv[1] : "", status, err);
    if (!ignore_status && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        sv_command_error(argv, status, err, error);
        return FALSE;
    }
    if (ret_out)
        *ret_out = g_steal_pointer(&out);
    return TRUE;
}

gboolean
sv_command_run(const char *const *argv, const char *input, char **ret_out, GError **error)
{
    return sv_command_run_status(argv, input, FALSE, ret_out, error);
}
