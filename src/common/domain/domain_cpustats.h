/* domain_cpustats.h: DOMAIN_GET_CPU_STATS's wire side, shared by the drivers that serve it
 * (issue 18, CPU stats): the daemon's argument limits, the total figures (start_cpu -1) and
 * the per-CPU ones from a cgroup's cpuacct.usage_percpu text, laid out as libvirt's daemon
 * sends them: the caller's nparams * ncpus array flattened, the unset entries left out, and
 * the reply's nparams the figures per CPU, the stride the client reads the list with. */
#pragma once

#include "programs/remote.h"

/* libvirt's remote dispatch limits (nparams, ncpus), RPC errors. */
gboolean sv_domain_cpu_stats_check_args(const remote_domain_get_cpu_stats_args *a,
                                        GError **error);

/* start_cpu -1: cpu_time, user_time and system_time (ns), the first nparams of them; with
 * nparams 0 only their count. */
void sv_domain_cpu_stats_total(const remote_domain_get_cpu_stats_args *a,
                               remote_domain_get_cpu_stats_ret *ret, guint64 total,
                               guint64 user, guint64 sys);

/* start_cpu >= 0: as libvirt's cgroup layer answers with no per-vCPU figures: nparams 0
 * answers 1 (cpu_time), ncpus 0 the host's CPU count (`host_cpus`, the highest present id
 * + 1); else each CPU's cpu_time from start_cpu on, read by `read_percpu` (the cgroup's
 * usage_percpu text, NULL and `error` set on failure) called with `data`. */
gboolean sv_domain_cpu_stats_percpu(const remote_domain_get_cpu_stats_args *a,
                                    remote_domain_get_cpu_stats_ret *ret, guint host_cpus,
                                    char *(*read_percpu)(gpointer data, GError **error),
                                    gpointer data, GError **error);
