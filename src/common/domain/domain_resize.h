/* domain_resize.h: DOMAIN_SET_MEMORY(_FLAGS), DOMAIN_SET_MAX_MEMORY and DOMAIN_SET_VCPUS(_FLAGS)
 * (issue 18, metadata and tuning): the persistent definition changed as libvirt's QEMU driver
 * changes it, a running guest through the driver's facts. */
#pragma once

#include "domain/domain_driver.h"

/* After a vcpu hotplug: how many vcpus are online now (those plugged before an error too). */
typedef void (*SvVcpusDoneFunc)(const GError *error, guint online, gpointer data);

struct SvResizeFacts {
    /* Set the balloon target of a running guest that has a balloon device to kib;
     * done(error, data) runs on the loop once the hypervisor answered. */
    void (*balloon)(SvDomainObj *obj, guint64 kib, SvStoreDoneFunc done, gpointer data);
    /* Whether a running guest has the memory cgroup its limits go to: FALSE with libvirt's
     * error when not. */
    gboolean (*memtune_check)(SvDomainObj *obj, GError **error);
    /* Set limit `which` (SvMemtuneParam, domain_memtune.h) of a running guest to kib
     * (SV_DOMAIN_MEMORY_UNLIMITED: none) in its cgroup. */
    gboolean (*memtune_live)(SvDomainObj *obj, int which, guint64 kib, GError **error);
    /* Plug vcpus online..n-1 (in id order) into a running guest; done(error, online, data)
     * runs on the loop once the hypervisor answered. NULL: no live vcpu hotplug. */
    void (*vcpus_plug)(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                       gpointer data);
    /* Unplug the hotpluggable vcpus n..online-1 (the highest first) from a running guest;
     * done(error, online, data) once the hypervisor let go of them or the wait for one
     * ended. NULL: no live vcpu unplug. */
    void (*vcpus_unplug)(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                         gpointer data);
    /* The running guest's three limits (KiB, SvMemtuneParam order) read from its cgroup, as
     * libvirt's LXC driver answers them; NULL: the live definition's (libvirt's QEMU
     * driver). */
    gboolean (*memtune_get_live)(SvDomainObj *obj, guint64 out_kib[3], GError **error);
    /* issue 18, LXC tuning: set a running guest's memory at once instead of through a
     * balloon (LXC: its cgroup's limit), with libvirt's error; the live and persistent
     * definitions' current memory then take the value. NULL: the balloon above. */
    gboolean (*set_live_memory)(SvDomainObj *obj, guint64 kib, GError **error);
    /* libvirt's LXC driver's wording of two errors ("Cannot resize the max memory on an
     * active domain", "Cannot set memory higher than max memory"); FALSE: its QEMU
     * driver's. */
    gboolean lxc_messages;
};

gboolean sv_domain_resize_set_memory(SvCall *call, remote_domain_set_memory_args *a,
                                     GError **error);
gboolean sv_domain_resize_set_memory_flags(SvCall *call, remote_domain_set_memory_flags_args *a,
                                           GError **error);
gboolean sv_domain_resize_set_max_memory(SvCall *call, remote_domain_set_max_memory_args *a,
                                         GError **error);
gboolean sv_domain_resize_set_vcpus(SvCall *call, remote_domain_set_vcpus_args *a,
                                    GError **error);
gboolean sv_domain_resize_set_vcpus_flags(SvCall *call, remote_domain_set_vcpus_flags_args *a,
                                          GError **error);
