/* test-qmp-reader.c: the QMP stream reader: split, merged, nested, strings and garbage. */
#include <string.h>

#include "qmp_reader.h"

static GPtrArray *
feed_in_steps(const char *text, gsize step, gsize max, gboolean *ok)
{
    g_autoptr(QmpReader) r = qmp_reader_new(max);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    gsize len = strlen(text);

    *ok = TRUE;
    for (gsize off = 0; off < len; off += step)
        *ok &= qmp_reader_feed(r, text + off, MIN(step, len - off), out);
    return out;
}

static void
test_split_and_merged(void)
{
    const char *text = "{\"QMP\": {\"version\": {}}}\r\n"
                       "{\"return\": {}, \"id\": 0}\r\n{\"event\": \"STOP\", \"data\": {}}\r\n";

    for (gsize step = 1; step <= strlen(text); step++) {
        gboolean ok;
        g_autoptr(GPtrArray) out = feed_in_steps(text, step, 4096, &ok);
        g_assert_true(ok);
        g_assert_cmpuint(out->len, ==, 3);
        g_assert_cmpstr(out->pdata[1], ==, "{\"return\": {}, \"id\": 0}");
        g_assert_cmpstr(out->pdata[2], ==, "{\"event\": \"STOP\", \"data\": {}}");
    }
}

static void
test_strings_with_braces(void)
{
    const char *text = "{\"error\": {\"desc\": \"bad } { \\\" ] [\"}}\n{\"return\": [1, {\"a\": \"}\"}]}";
    gboolean ok;
    g_autoptr(GPtrArray) out = feed_in_steps(text, 3, 4096, &ok);

    g_assert_cmpuint(out->len, ==, 2);
    g_assert_cmpstr(out->pdata[0], ==, "{\"error\": {\"desc\": \"bad } { \\\" ] [\"}}");
}

static void
test_garbage(void)
{
    g_autoptr(QmpReader) r = qmp_reader_new(4096);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    g_assert_true(qmp_reader_feed(r, "junk\n{\"a\": 1}xx}{\"b\": 2}", 24, out));
    g_assert_cmpuint(out->len, ==, 2);
    g_assert_cmpuint(qmp_reader_garbage(r), ==, 7);
}

static void
test_too_long(void)
{
    g_autoptr(QmpReader) r = qmp_reader_new(16);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    const char *big = "{\"aaaaaaaaaaaaaaaaaaaaaaaa\": 1}";

    g_assert_false(qmp_reader_feed(r, big, strlen(big), out));
    g_assert_cmpuint(out->len, ==, 0);
    /* The reader recovers for the next message. */
    g_assert_true(qmp_reader_feed(r, "{\"b\": 2}", 8, out));
    g_assert_cmpuint(out->len, ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-reader/split-and-merged", test_split_and_merged);
    g_test_add_func("/qmp-reader/strings", test_strings_with_braces);
    g_test_add_func("/qmp-reader/garbage", test_garbage);
    g_test_add_func("/qmp-reader/too-long", test_too_long);
    return g_test_run();
}
