/* domain_sched.h: DOMAIN_GET_SCHEDULER_TYPE and DOMAIN_GET/SET_SCHEDULER_PARAMETERS(_FLAGS)
 * (virsh schedinfo; issue 18, scheduler parameters), as libvirt 9.0's QEMU and LXC drivers
 * answer them: the persistent definition's <cputune>, a running guest's cgroup through the
 * driver's SvSchedFacts, and (QEMU) the TUNABLE event after a live change. */
#pragma once

#include "domain/domain_driver.h"

/* The parameters, in the order libvirt returns them. */
typedef enum {
    SV_SCHED_CPU_SHARES,
    SV_SCHED_VCPU_PERIOD,
    SV_SCHED_VCPU_QUOTA,
    SV_SCHED_EMULATOR_PERIOD,
    SV_SCHED_EMULATOR_QUOTA,
    SV_SCHED_GLOBAL_PERIOD,
    SV_SCHED_GLOBAL_QUOTA,
    SV_SCHED_IOTHREAD_PERIOD,
    SV_SCHED_IOTHREAD_QUOTA,
    SV_SCHED_LAST
} SvSchedParam;

struct SvSchedFacts {
    /* How many of the parameters (the first ones of SvSchedParam) the driver has: QEMU all,
     * LXC cpu_shares, vcpu_period and vcpu_quota. Others are refused as unknown. */
    guint nparams;
    /* QEMU: periods and quotas are checked against libvirt's QEMU ranges before anything
     * changes (LXC leaves it to the cgroup layer's checks, on a live change only), and a
     * live change sends the TUNABLE event (LXC sends none). */
    gboolean qemu_checks;
    /* Whether a running guest has the CPU cgroup its tuning goes to: FALSE with libvirt's
     * error when not. */
    gboolean (*check)(SvDomainObj *obj, GError **error);
    /* The running guest's values as its cgroup has them (periods and shares as guint64,
     * quotas as gint64 stored in the same slots). */
    gboolean (*get_live)(SvDomainObj *obj, gint64 values[SV_SCHED_LAST], GError **error);
    /* Set parameter `which` of a running guest (never a 0 period or quota); *value is what
     * its cgroup took (the kernel may round shares). */
    gboolean (*set_live)(SvDomainObj *obj, int which, gint64 *value, GError **error);
};

/* libvirt's TUNABLE event for obj with these parameters (transfer none), to every client
 * registered for it (both registration forms). */
void sv_domain_emit_tunable(SvDomainDriver *drv, SvDomainObj *obj, remote_typed_param *params,
                            guint n);

gboolean sv_domain_sched_get_type(SvCall *call, remote_domain_get_scheduler_type_args *a,
                                  remote_domain_get_scheduler_type_ret *ret, GError **error);
gboolean sv_domain_sched_get(SvCall *call, remote_domain_get_scheduler_parameters_args *a,
                             remote_domain_get_scheduler_parameters_ret *ret, GError **error);
gboolean sv_domain_sched_get_flags(SvCall *call,
                                   remote_domain_get_scheduler_parameters_flags_args *a,
                                   remote_domain_get_scheduler_parameters_flags_ret *ret,
                                   GError **error);
gboolean sv_domain_sched_set(SvCall *call, remote_domain_set_scheduler_parameters_args *a,
                             GError **error);
gboolean sv_domain_sched_set_flags(SvCall *call,
                                   remote_domain_set_scheduler_parameters_flags_args *a,
                                   GError **error);
