/* test-xl-cfg.c: the xl.cfg syntax (xl_cfg.c): values, lists, comments, separators,
 * escapes, `+=`, errors with their line, the formatter, and agreement with libxlutil's
 * parser on the same text. */
#include <stdio.h>
#include <string.h>

#include <libxlutil.h>

#include "util/error.h"
#include "xl_cfg.h"

static XlCfg *
parse_ok(const char *text)
{
    g_autoptr(GError) error = NULL;
    XlCfg *cfg = xl_cfg_parse(text, &error);

    g_assert_no_error(error);
    g_assert_nonnull(cfg);
    return cfg;
}

static void
assert_parse_error(const char *text, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlCfg) cfg = xl_cfg_parse(text, &error);

    g_assert_null(cfg);
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_CONF);
    g_assert_cmpint(error->code, ==, SV_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==, message);
}

static const char *
string_of(const XlCfg *cfg, const char *key)
{
    const XlValue *v = xl_cfg_lookup(cfg, key);

    g_assert_nonnull(v);
    g_assert_cmpint(v->type, !=, XL_VALUE_LIST);
    return v->str;
}

static void
test_values(void)
{
    g_autoptr(XlCfg) cfg = parse_ok("name = \"vm\"\nmemory = 512\nvcpus=0x2\n"
                                    "disk = [ 'a', \"b\" ]\nempty = []\n");
    const XlValue *disk = xl_cfg_lookup(cfg, "disk");

    g_assert_cmpuint(xl_cfg_size(cfg), ==, 5);
    g_assert_cmpstr(xl_cfg_get_entry(cfg, 0)->key, ==, "name");
    g_assert_cmpuint(xl_cfg_get_entry(cfg, 3)->line, ==, 4);
    g_assert_cmpstr(string_of(cfg, "name"), ==, "vm");
    g_assert_cmpint(xl_cfg_lookup(cfg, "memory")->type, ==, XL_VALUE_NUMBER);
    g_assert_cmpstr(string_of(cfg, "memory"), ==, "512");
    g_assert_cmpstr(string_of(cfg, "vcpus"), ==, "0x2");
    g_assert_cmpint(disk->type, ==, XL_VALUE_LIST);
    g_assert_cmpuint(disk->items->len, ==, 2);
    g_assert_cmpstr(((XlValue *)disk->items->pdata[1])->str, ==, "b");
    g_assert_cmpuint(xl_cfg_lookup(cfg, "empty")->items->len, ==, 0);
    g_assert_null(xl_cfg_lookup(cfg, "nothing"));
}

static void
test_layout(void)
{
    /* Comments, ';', blank lines, CRLF, lists over lines with a trailing comma. */
    g_autoptr(XlCfg) cfg = parse_ok("# leading comment\r\n\r\n"
                                    "a = 1; b = 'two' # trailing\r\n"
                                    "list = [\n  'x',  # first\n\n  'y',\n]\n"
                                    ";;\nlast = \"end\"");

    g_assert_cmpuint(xl_cfg_size(cfg), ==, 4);
    g_assert_cmpstr(string_of(cfg, "b"), ==, "two");
    g_assert_cmpuint(xl_cfg_lookup(cfg, "list")->items->len, ==, 2);
    g_assert_cmpuint(xl_cfg_get_entry(cfg, 3)->line, ==, 10);
    g_assert_cmpstr(string_of(cfg, "last"), ==, "end");
}

static void
test_escapes(void)
{
    g_autoptr(XlCfg) cfg = parse_ok("s = \"a\\\"b\\\\c\\nd\\te\\'f\"\nq = 'it\\'s \"x\"'\n");

    g_assert_cmpstr(string_of(cfg, "s"), ==, "a\"b\\c\nd\te'f");
    g_assert_cmpstr(string_of(cfg, "q"), ==, "it's \"x\"");
}

static void
test_repeat_and_append(void)
{
    g_autoptr(XlCfg) cfg = parse_ok("a = 1\nb = 'x'\na = 2\nb += 'y'\n"
                                    "l = [ 'p' ]\nl += [ 'q', 'r' ]\nn += 'new'\n");
    const XlValue *l = xl_cfg_lookup(cfg, "l");

    /* A later value replaces the earlier one in its place, as xl reads it. */
    g_assert_cmpuint(xl_cfg_size(cfg), ==, 4);
    g_assert_cmpstr(xl_cfg_get_entry(cfg, 0)->key, ==, "a");
    g_assert_cmpstr(string_of(cfg, "a"), ==, "2");
    g_assert_cmpstr(string_of(cfg, "b"), ==, "xy");
    g_assert_cmpuint(l->items->len, ==, 3);
    g_assert_cmpstr(((XlValue *)l->items->pdata[2])->str, ==, "r");
    g_assert_cmpstr(string_of(cfg, "n"), ==, "new");
}

static void
test_errors(void)
{
    assert_parse_error("name = \"x\"\nmemory 512\n",
                       "unsupported configuration: xl.cfg:2: expected '=' after 'memory', not "
                       "'512'");
    assert_parse_error("name = \"x\n", "unsupported configuration: xl.cfg:1: unterminated string");
    assert_parse_error("a = \"\\x41\"",
                       "unsupported configuration: xl.cfg:1: unsupported escape '\\x' in a "
                       "string");
    assert_parse_error("a = 1 2\n",
                       "unsupported configuration: xl.cfg:1: unexpected '2' after the value of "
                       "'a'");
    assert_parse_error("\n\na = [ 'x' 'y' ]",
                       "unsupported configuration: xl.cfg:3: expected ',' or ']' in a list, not "
                       "\"y\"");
    assert_parse_error("a = [ 'x',\n", "unsupported configuration: xl.cfg:2: expected a value, "
                                       "not end of file");
    assert_parse_error("a = @", "unsupported configuration: xl.cfg:1: unexpected character '@'");
    assert_parse_error("a = 0x", "unsupported configuration: xl.cfg:1: '0x' is not a number");
    assert_parse_error("a = 12ab", "unsupported configuration: xl.cfg:1: '12ab' is not a number");
    assert_parse_error("'a' = 1",
                       "unsupported configuration: xl.cfg:1: expected a setting name, not \"a\"");
    assert_parse_error("a = ]", "unsupported configuration: xl.cfg:1: expected a value, not ']'");
    assert_parse_error("a = 'x'\na += [ 'y' ]",
                       "unsupported configuration: xl.cfg:2: '+=' mixes a list and a string for "
                       "'a'");
    assert_parse_error("a = [[[[[[[[[ 'deep' ]]]]]]]]]",
                       "unsupported configuration: xl.cfg:1: lists nested more than 8 deep");
}

static void
test_format(void)
{
    g_autoptr(XlCfg) cfg = xl_cfg_new();
    const char *const list[] = {"one", "t\"wo", NULL};
    const char *const none[] = {NULL};
    g_autofree char *text = NULL;
    g_autofree char *again = NULL;
    g_autoptr(XlCfg) parsed = NULL;

    xl_cfg_set_string(cfg, "name", "a\\b\n\tc\r");
    xl_cfg_set_number(cfg, "memory", 512);
    xl_cfg_set_string_list(cfg, "disk", list);
    xl_cfg_set_string_list(cfg, "vif", none);
    xl_cfg_set_number(cfg, "memory", 1024); /* replaces, in place */
    text = xl_cfg_format(cfg);
    g_assert_cmpstr(text, ==,
                    "name = \"a\\\\b\\n\\tc\\r\"\nmemory = 1024\n"
                    "disk = [ \"one\", \"t\\\"wo\" ]\nvif = []\n");
    parsed = parse_ok(text);
    again = xl_cfg_format(parsed);
    g_assert_cmpstr(again, ==, text);
    g_assert_cmpstr(string_of(parsed, "name"), ==, "a\\b\n\tc\r");
}

/* libxlutil reads the same text to the same strings. */
static void
test_libxlutil_agrees(void)
{
    const char *text = "# xl's own parser\nname = 'vm'; memory = 512\n"
                       "kernel = \"/boot/a \\\"b\\\" \\\\ c\"\n"
                       "disk = [\n 'x',\n \"y\",\n]\nb = 'p'\nb += 'q'\n";
    g_autoptr(XlCfg) cfg = parse_ok(text);
    FILE *report = fopen("/dev/null", "w");
    XLU_Config *xlu = xlu_cfg_init(report, "test.cfg");
    XLU_ConfigList *list = NULL;
    const char *s = NULL;
    long n = 0;
    int entries = 0;

    g_assert_cmpint(xlu_cfg_readdata(xlu, text, (int)strlen(text)), ==, 0);
    g_assert_cmpint(xlu_cfg_get_string(xlu, "name", &s, 0), ==, 0);
    g_assert_cmpstr(s, ==, string_of(cfg, "name"));
    g_assert_cmpint(xlu_cfg_get_long(xlu, "memory", &n, 0), ==, 0);
    g_assert_cmpint(n, ==, 512);
    g_assert_cmpint(xlu_cfg_get_string(xlu, "kernel", &s, 0), ==, 0);
    g_assert_cmpstr(s, ==, string_of(cfg, "kernel"));
    g_assert_cmpint(xlu_cfg_get_list(xlu, "disk", &list, &entries, 0), ==, 0);
    g_assert_cmpint(entries, ==, 2);
    g_assert_cmpstr(xlu_cfg_get_listitem(list, 1), ==, "y");
    g_assert_cmpint(xlu_cfg_get_string(xlu, "b", &s, 0), ==, 0);
    g_assert_cmpstr(s, ==, string_of(cfg, "b"));
    xlu_cfg_destroy(xlu);
    fclose(report);
}

static void
test_string_table(void)
{
    for (int i = 0; i < XL_VALUE_LAST; i++)
        g_assert_cmpint(xl_value_type_from_string(xl_value_type_to_string(i)), ==, i);
    g_assert_null(xl_value_type_to_string(XL_VALUE_LAST));
    g_assert_null(xl_value_type_to_string(-1));
    g_assert_cmpint(xl_value_type_from_string("bogus"), ==, -1);
    g_assert_cmpint(xl_value_type_from_string(NULL), ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xl-cfg/values", test_values);
    g_test_add_func("/xl-cfg/layout", test_layout);
    g_test_add_func("/xl-cfg/escapes", test_escapes);
    g_test_add_func("/xl-cfg/repeat-and-append", test_repeat_and_append);
    g_test_add_func("/xl-cfg/errors", test_errors);
    g_test_add_func("/xl-cfg/format", test_format);
    g_test_add_func("/xl-cfg/libxlutil-agrees", test_libxlutil_agrees);
    g_test_add_func("/xl-cfg/string-table", test_string_table);
    return g_test_run();
}
