/* test-domain-helper.c: a run's helper processes (domain/domain_helper.h): held until
 * released, named in the status text, taken back by a restarted daemon only when pid, start
 * time and program all match, and ended by sv_run_helpers_stop(). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/domain_status.h"
#include "domain/domain_helper.h"
#include "util/error.h"
#include "util/process.h"

#define SLEEP "/bin/sleep"

static const char *exe_of(const char *id, gpointer data)
{
    (void)data;
    if (g_str_equal(id, "fs0"))
        return SLEEP;
    if (g_str_equal(id, "fs1"))
        return "/bin/true"; /* another program than the recorded pid runs */
    return NULL;
}

/* Whether pid has ended (gone, or a zombie nobody reaped yet). */
static gboolean ended(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *paren;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return TRUE;
    paren = strrchr(text, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static void test_held_recorded_taken_back_stopped(void)
{
    const char *argv[] = {SLEEP, "60", NULL};
    SvSpawnOptions o = {.argv = argv,
                        .stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                        .new_session = TRUE,
                        .hold_exec = TRUE};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) helpers = sv_run_helpers_new();
    g_autoptr(GPtrArray) again = sv_run_helpers_new();
    g_autoptr(GString) status = g_string_new("<domstatus>\n");
    g_autofree char *want = NULL;
    SvProcess *p = sv_process_spawn(&o, &error);
    xmlDocPtr doc;
    pid_t pid;
    gint64 end;

    g_assert_no_error(error);
    pid = sv_process_get_pid(p);
    sv_run_helpers_add(helpers, "fs0", SLEEP, p);
    g_assert_true(sv_run_helpers_find(helpers, "fs0") == p);
    g_assert_null(sv_run_helpers_find(helpers, "fs9"));
    g_assert_true(sv_run_helpers_release(helpers, &error));
    g_assert_no_error(error);
    /* Once it runs sleep, the record names it. */
    end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        g_autofree char *exe = sv_process_read_exe(pid);
        if (exe && g_str_has_suffix(exe, "/sleep"))
            break;
        g_usleep(10000);
    }
    sv_run_helpers_format_status(helpers, status);
    want = g_strdup_printf("  <helper id='fs0' pid='%d' starttime='%" G_GUINT64_FORMAT
                           "' exe='" SLEEP "'/>\n",
                           (int)pid, sv_process_get_start_time(p));
    g_assert_cmpstr(status->str + strlen("<domstatus>\n"), ==, want);
    /* Planted or stale records beside it: another program, a wrong start time, an id the
     * guest has no helper for, the same helper twice. None is taken. */
    g_string_append_printf(
        status, "  <helper id='fs1' pid='%d' starttime='%" G_GUINT64_FORMAT "' exe='/bin/true'/>\n",
        (int)pid, sv_process_get_start_time(p));
    g_string_append_printf(status, "  <helper id='fs0' pid='%d' starttime='1' exe='x'/>\n",
                           (int)getpid());
    g_string_append_printf(
        status, "  <helper id='fs7' pid='%d' starttime='%" G_GUINT64_FORMAT "' exe='" SLEEP "'/>\n",
        (int)pid, sv_process_get_start_time(p));
    g_string_append(status, "  <helper id='fs0' pid='-4'/>\n</domstatus>\n");
    doc = sv_status_read(status->str, status->len, SV_FROM_QEMU, &error);
    g_assert_no_error(error);
    /* The daemon that started it goes (its watch with it); a restarted one takes it back. */
    g_ptr_array_set_size(helpers, 0);
    sv_run_helpers_take_status(again, xmlDocGetRootElement(doc), exe_of, NULL);
    xmlFreeDoc(doc);
    g_assert_cmpuint(again->len, ==, 1);
    g_assert_cmpint(sv_process_get_pid(sv_run_helpers_find(again, "fs0")), ==, pid);
    g_assert_null(sv_run_helpers_find(again, "fs1"));
    sv_run_helpers_stop(again);
    g_assert_cmpuint(again->len, ==, 0);
    end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!ended(pid) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE), g_usleep(10000);
    g_assert_true(ended(pid));
    waitpid(pid, NULL, WNOHANG);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-helper/held-recorded-taken-back-stopped",
                    test_held_recorded_taken_back_stopped);
    return g_test_run();
}
