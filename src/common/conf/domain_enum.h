/* domain_enum.h: the string tables of the definition's enums (private to src/common/conf).
 * SV_DOMAIN_ENUM_IMPL(what, LAST, "name0", "name1", ...) defines
 * sv_domain_<what>_to_string() and sv_domain_<what>_from_string(), declared in
 * domain_conf.h. */
#pragma once

#include <glib.h>

static inline int
sv_domain_table_index(const char *const *table, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++) {
        if (g_str_equal(table[i], s))
            return i;
    }
    return -1;
}

#define SV_DOMAIN_ENUM_IMPL(what, last, ...)                                                   \
    static const char *const what##_names[] = {__VA_ARGS__};                                   \
    G_STATIC_ASSERT(G_N_ELEMENTS(what##_names) == (last));                                     \
    const char *sv_domain_##what##_to_string(int v)                                            \
    {                                                                                          \
        return v >= 0 && v < (last) ? what##_names[v] : NULL;                                  \
    }                                                                                          \
    int sv_domain_##what##_from_string(const char *s)                                          \
    {                                                                                          \
        return sv_domain_table_index(what##_names, (last), s);                                 \
    }
