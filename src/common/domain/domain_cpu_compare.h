/* domain_cpu_compare.h: the CPU comparison and baseline procedures (issue 18 item 5) for a
 * driver without them, as libvirt 9.0's lxc driver is. */
#pragma once

#include "programs/remote.h"

/* Install CONNECT_COMPARE_CPU, CONNECT_BASELINE_CPU and their hypervisor forms answering
 * NO_SUPPORT "this function is not supported by the connection driver: virConnectXxx",
 * whatever the arguments, as libvirt's public API answers for a driver that lacks them. */
void sv_domain_cpu_compare_install_no_support(SvRemoteHandlers *h);

/* libvirt's public API answer to a baseline call with no CPU documents (they arrive as
 * NULL): INVALID_ARG "xmlCPUs in <api> must not be NULL", before any driver. FALSE. */
gboolean sv_domain_error_no_cpus(const char *api, GError **error);
