/* object_list.c: the list calls' shared pieces (object_list.h). */
#include "programs/object_list.h"

#include "util/error.h"

int
sv_object_list_count(GPtrArray *objs, SvObjectActiveFunc is_active, gboolean active)
{
    int n = 0;

    for (guint i = 0; i < objs->len; i++)
        n += !!is_active(objs->pdata[i]) == !!active;
    return n;
}

gboolean
sv_object_list_names(GPtrArray *objs, SvObjectActiveFunc is_active, SvObjectNameFunc name_of,
                     gboolean active, int maxnames, int limit, const char *limit_name,
                     char ***out, u_int *out_len, GError **error)
{
    guint n = 0;

    if (maxnames > limit) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxnames > %s", limit_name);
        return FALSE;
    }
    *out = g_new0(char *, objs->len + 1);
    for (guint i = 0; i < objs->len && (int)n < maxnames; i++) {
        if (!!is_active(objs->pdata[i]) == !!active)
            (*out)[n++] = g_strdup(name_of(objs->pdata[i]));
    }
    *out_len = n;
    return TRUE;
}

gboolean
sv_object_list_filter(unsigned int flags, unsigned int yes, unsigned int no, gboolean value)
{
    if (!(flags & (yes | no)))
        return TRUE;
    return ((flags & yes) && value) || ((flags & no) && !value);
}
