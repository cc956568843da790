/* test-lxc-proto.c: the supervisor protocol: every message formatted and parsed back, the
 * line splitter fed in every split, and malformed input refused. */
#include <string.h>

#include "lxc_proto.h"

static void
round_trip(const LxcMsg *in, const char *expect)
{
    g_autofree char *line = lxc_msg_format(in);
    g_autoptr(GError) error = NULL;
    LxcMsg out;

    g_assert_cmpstr(line, ==, expect);
    line[strlen(line) - 1] = '\0';
    g_assert_true(lxc_msg_parse(line, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpint(out.type, ==, in->type);
    g_assert_cmpint(out.version, ==, in->version);
    g_assert_cmpint(out.pid, ==, in->pid);
    g_assert_cmpuint(out.start_time, ==, in->start_time);
    g_assert_cmpstr(out.pty, ==, in->pty);
    g_assert_cmpint(out.signaled, ==, in->signaled);
    g_assert_cmpint(out.code, ==, in->code);
    g_assert_cmpstr(out.text, ==, in->text);
    lxc_msg_clear(&out);
}

static void
test_messages(void)
{
    LxcMsg hello = {.type = LXC_MSG_SUPERVISOR, .version = 1, .pid = 77};
    LxcMsg running = {.type = LXC_MSG_RUNNING, .pid = 1234, .start_time = 987654321,
                      .pty = "/dev/pts/3"};
    LxcMsg running_nopty = {.type = LXC_MSG_RUNNING, .pid = 5, .start_time = 0};
    LxcMsg rebooted = {.type = LXC_MSG_REBOOTED, .pid = 1300, .start_time = 987659999};
    LxcMsg exited = {.type = LXC_MSG_EXITED, .signaled = FALSE, .code = 0};
    LxcMsg killed = {.type = LXC_MSG_EXITED, .signaled = TRUE, .code = 9};
    LxcMsg failed = {.type = LXC_MSG_FAILED,
                     .text = "cannot find init path '/a b' relative to container root:\n"
                             "No such file\tor directory \\ \"x\""};
    LxcMsg empty = {.type = LXC_MSG_FAILED, .text = ""};

    round_trip(&hello, "SUPERVISOR 1 77\n");
    round_trip(&running, "RUNNING 1234 987654321 /dev/pts/3\n");
    round_trip(&running_nopty, "RUNNING 5 0 -\n");
    round_trip(&rebooted, "REBOOTED 1300 987659999\n");
    round_trip(&exited, "EXITED exited 0\n");
    round_trip(&killed, "EXITED signaled 9\n");
    /* Free text never holds a raw newline: the line stays one line. */
    round_trip(&failed, "FAILED cannot find init path '/a b' relative to container root:\\n"
                        "No such file\\tor directory \\\\ \\\"x\\\"\n");
    round_trip(&empty, "FAILED \n");
}

static void
test_type_strings(void)
{
    for (int t = 0; t < LXC_MSG_LAST; t++)
        g_assert_cmpint(lxc_msg_type_from_string(lxc_msg_type_to_string(t)), ==, t);
    g_assert_null(lxc_msg_type_to_string(LXC_MSG_LAST));
    g_assert_null(lxc_msg_type_to_string(-1));
    g_assert_cmpint(lxc_msg_type_from_string("running"), ==, -1);
    g_assert_cmpint(lxc_msg_type_from_string(NULL), ==, -1);
}

static void
test_malformed(void)
{
    static const char *const bad[] = {
        "", "HELLO", "RUNNING", "RUNNING 1 2", "RUNNING 1 2 /dev/pts/1 extra", "RUNNING 0 2 x",
        "RUNNING -5 2 x", "RUNNING 1 x x", "REBOOTED 1", "EXITED", "EXITED died 1",
        "EXITED exited 256", "EXITED exited -1", "SUPERVISOR 1", "SUPERVISOR x 1",
        "running 1 2 x", "RUNNING  1 2 x", "RUNNING 99999999999 2 x",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        LxcMsg m;
        g_assert_false(lxc_msg_parse(bad[i], &m, &error));
        g_assert_nonnull(error);
        g_assert_true(g_str_has_prefix(error->message,
                                       "internal error: malformed message from the container"));
        g_assert_null(m.pty);
    }
}

static void
test_reader_splits(void)
{
    const char *text = "SUPERVISOR 1 9\nRUNNING 1 2 /dev/pts/0\n\nEXITED exited 3\npartial";

    for (gsize step = 1; step <= strlen(text); step++) {
        g_autoptr(LxcLineReader) r = lxc_line_reader_new();
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        for (gsize off = 0; off < strlen(text); off += step)
            g_assert_true(lxc_line_reader_feed(r, text + off, MIN(step, strlen(text) - off), out));
        g_assert_cmpuint(out->len, ==, 4);
        g_assert_cmpstr(out->pdata[0], ==, "SUPERVISOR 1 9");
        g_assert_cmpstr(out->pdata[1], ==, "RUNNING 1 2 /dev/pts/0");
        g_assert_cmpstr(out->pdata[2], ==, "");
        g_assert_cmpstr(out->pdata[3], ==, "EXITED exited 3");
    }
}

static void
test_reader_first_line(void)
{
    g_autoptr(LxcLineReader) r = lxc_line_reader_new();
    const char *data = "conso";
    const char *more = "le\nraw bytes\n";
    char *line = NULL;

    /* A console connection: only its first line is protocol; the rest is console input. */
    g_assert_cmpint(lxc_line_reader_feed_one(r, data, strlen(data), &line), ==, 5);
    g_assert_null(line);
    g_assert_cmpint(lxc_line_reader_feed_one(r, more, strlen(more), &line), ==, 3);
    g_assert_cmpstr(line, ==, "console");
    g_free(line);
}

static void
test_reader_limit(void)
{
    g_autoptr(LxcLineReader) r = lxc_line_reader_new();
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *big = g_strnfill(LXC_PROTO_LINE_MAX + 1, 'x');

    g_assert_true(lxc_line_reader_feed(r, big, LXC_PROTO_LINE_MAX, out));
    g_assert_false(lxc_line_reader_feed(r, "xx", 2, out));
    g_assert_cmpuint(out->len, ==, 0);
    /* The reader starts over after refusing. */
    g_assert_true(lxc_line_reader_feed(r, "EXITED exited 0\n", 16, out));
    g_assert_cmpuint(out->len, ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lxc-proto/messages", test_messages);
    g_test_add_func("/lxc-proto/type-strings", test_type_strings);
    g_test_add_func("/lxc-proto/malformed", test_malformed);
    g_test_add_func("/lxc-proto/reader-splits", test_reader_splits);
    g_test_add_func("/lxc-proto/reader-first-line", test_reader_first_line);
    g_test_add_func("/lxc-proto/reader-limit", test_reader_limit);
    return g_test_run();
}
