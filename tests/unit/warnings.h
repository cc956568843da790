/* warnings.h: for unit tests of code that logs warnings (fatal in tests otherwise): call
 * test_warnings_capture() once in main(); the texts logged are then in test_warnings. */
#pragma once

#include <glib.h>

static GPtrArray *test_warnings;

static inline GLogWriterOutput
test_warnings_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    (void)data;
    for (gsize i = 0; i < n && (level & G_LOG_LEVEL_WARNING); i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            g_ptr_array_add(test_warnings, g_strdup(fields[i].value));
    }
    return G_LOG_WRITER_HANDLED;
}

static inline void
test_warnings_capture(void)
{
    test_warnings = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(test_warnings_writer, NULL, NULL);
}
