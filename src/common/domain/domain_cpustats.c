/* domain_cpustats.c: DOMAIN_GET_CPU_STATS's wire side (domain_cpustats.h). */
#include "domain/domain_cpustats.h"

#include "domain/domain_wire.h"
#include "util/error.h"

/* libvirt's REMOTE_NODE_CPU_STATS_MAX (the daemon bounds nparams by it) and
 * REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX. */
#define CPU_STATS_NPARAMS_MAX 16
#define CPU_STATS_NCPUS_MAX 128

gboolean
sv_domain_cpu_stats_check_args(const remote_domain_get_cpu_stats_args *a, GError **error)
{
    if (a->nparams > CPU_STATS_NPARAMS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "nparams too large");
        return FALSE;
    }
    if (a->ncpus > CPU_STATS_NCPUS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "ncpus too large");
        return FALSE;
    }
    return TRUE;
}

void
sv_domain_cpu_stats_total(const remote_domain_get_cpu_stats_args *a,
                          remote_domain_get_cpu_stats_ret *ret, guint64 total, guint64 user,
                          guint64 sys)
{
    const char *const names[] = {"cpu_time", "user_time", "system_time"};
    const guint64 values[] = {total, user, sys};
    guint n = MIN(a->nparams, G_N_ELEMENTS(names));

    if (a->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(names);
        return;
    }
    ret->params.params_val = g_new0(remote_typed_param, n);
    ret->params.params_len = n;
    for (guint i = 0; i < n; i++)
        sv_typed_param_set_ullong(&ret->params.params_val[i], names[i], values[i]);
    ret->nparams = (int)n;
}

/* The first `need` figures of a usage_percpu text; NULL with libvirt's error when short. */
static guint64 *
parse_percpu(const char *text, guint need, GError **error)
{
    g_autofree guint64 *values = g_new0(guint64, MAX(need, 1));
    const char *pos = text;

    for (guint i = 0; i < need; i++) {
        char *end;

        values[i] = g_ascii_strtoull(pos, &end, 10);
        if (end == pos) {
            sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "cpuacct parse error");
            return NULL;
        }
        pos = end;
    }
    return g_steal_pointer(&values);
}

gboolean
sv_domain_cpu_stats_percpu(const remote_domain_get_cpu_stats_args *a,
                           remote_domain_get_cpu_stats_ret *ret, guint host_cpus,
                           char *(*read_percpu)(gpointer data, GError **error), gpointer data,
                           GError **error)
{
    g_autofree char *text = NULL;
    g_autofree guint64 *values = NULL;
    guint need, n = 0;

    if (a->nparams == 0 && a->ncpus != 0) {
        ret->nparams = 1;
        return TRUE;
    }
    if (a->ncpus == 0) {
        ret->nparams = (int)host_cpus;
        return TRUE;
    }
    if ((guint)a->start_cpu >= host_cpus) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INVALID_ARG,
                     "start_cpu %d larger than maximum of %d", a->start_cpu,
                     (int)host_cpus - 1);
        return FALSE;
    }
    need = MIN(host_cpus, (guint)a->start_cpu + a->ncpus);
    if (!(text = read_percpu(data, error)) || !(values = parse_percpu(text, need, error)))
        return FALSE;
    /* One cpu_time per CPU (the first of its nparams slots): only those go on the wire,
     * and the reply's nparams, 1, is the stride the client reads them with. */
    ret->params.params_val = g_new0(remote_typed_param, need - (guint)a->start_cpu);
    for (guint i = (guint)a->start_cpu; i < need; i++)
        sv_typed_param_set_ullong(&ret->params.params_val[n++], "cpu_time", values[i]);
    ret->params.params_len = n;
    ret->nparams = 1;
    return TRUE;
}
