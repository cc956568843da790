/* domain_host.h: host facts every hypervisor daemon answers the same way (issue 18 item
 * 5): the node's CPU and memory statistics, cells' free memory, the CPU map, KSM
 * parameters, free pages, and the host's SMBIOS tables (CONNECT_GET_SYSINFO). */
#pragma once

#include "domain/domain_driver.h"
#include "programs/remote.h"

/* Install the node procedures, read from /proc and /sys as libvirt's virhostcpu.c and
 * virhostmem.c do; their errors name the driver where libvirt's driver checks (free
 * pages' flags: "<prefix>NodeGetFreePages"). The handlers find drv through the call. */
void sv_domain_host_install_node(SvDomainDriver *drv, SvRemoteHandlers *h);

/* Install CONNECT_GET_SYSINFO: dmidecode's tables as <sysinfo type='smbios'>, or, where
 * dmidecode finds none (or is missing), CONFIG_UNSUPPORTED "Host SMBIOS information is
 * not available" in the driver's error domain, as libvirt's qemu and libxl drivers answer.
 * dmidecode runs for each call, off the loop. */
void sv_domain_host_install_sysinfo(SvDomainDriver *drv, SvRemoteHandlers *h);

/* Install NODE_GET_SECURITY_MODEL for a daemon whose capabilities' first <secmodel> is
 * libvirt's "none" driver (no labelling): model "none", doi "0", as libvirt answers. */
void sv_domain_host_install_security_none(SvRemoteHandlers *h);
