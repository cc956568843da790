/* domain_stats.h: the per-guest statistics procedures (issue 18, item 1) a hypervisor
 * driver does not serve, answered as libvirt answers a driver without them: NO_SUPPORT,
 * "this function is not supported by the connection driver: virDomainXxx", whatever the
 * arguments (libvirt's public API refuses before any lookup). */
#pragma once

#include "programs/remote.h"

/* The procedures of this piece a driver may leave to libvirt's NO_SUPPORT answer. */
enum {
    SV_STATS_GET_VCPUS = 1 << 0,
    SV_STATS_GET_VCPUS_FLAGS = 1 << 1,
    SV_STATS_GET_VCPU_PIN_INFO = 1 << 2,
    SV_STATS_GET_EMULATOR_PIN_INFO = 1 << 3,
    SV_STATS_GET_BLOCK_INFO = 1 << 4,
    SV_STATS_GET_JOB_INFO = 1 << 5,
    SV_STATS_GET_JOB_STATS = 1 << 6,
    SV_STATS_SET_MEMORY_STATS_PERIOD = 1 << 7,
    SV_STATS_GET_TIME = 1 << 8,
    /* virConnectGetAllDomainStats and virDomainListGetStats */
    SV_STATS_CONNECT_GET_ALL_DOMAIN_STATS = 1 << 9,
    /* issue 18 item 2, blkio parameters (libvirt's libxl driver has neither) */
    SV_STATS_GET_BLKIO_PARAMETERS = 1 << 10,
    SV_STATS_SET_BLKIO_PARAMETERS = 1 << 11,
    /* issue 18, virDomainGetGuestInfo: libvirt's lxc and libxl drivers have no agent */
    SV_STATS_GET_GUEST_INFO = 1 << 12,
    /* issue 18, virDomainSetGuestVcpus: the same */
    SV_STATS_SET_GUEST_VCPUS = 1 << 13,
    /* issue 18 item 2, virsh dump: libvirt's lxc driver has no core dump; its libxl driver
     * has virDomainCoreDump but not virDomainCoreDumpWithFormat */
    SV_STATS_CORE_DUMP = 1 << 14,
    SV_STATS_CORE_DUMP_WITH_FORMAT = 1 << 15,
};

/* Install NO_SUPPORT answers into h for the procedures in `which` (SV_STATS_*). */
void sv_domain_stats_install_no_support(SvRemoteHandlers *h, guint which);

/* DOMAIN_MEMORY_STATS's argument checks, in libvirt's order: the flags (none), then the
 * wire's limit on maxStats; FALSE with libvirt's error. */
gboolean sv_domain_memory_stats_check_args(SvCall *call, const remote_domain_memory_stats_args *a,
                                           GError **error);
