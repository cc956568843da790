/* qemu_cpu_compare.h: CONNECT_COMPARE_CPU, CONNECT_BASELINE_CPU and their hypervisor forms
 * (issue 18 item 5). */
#pragma once

#include "programs/remote.h"

/* Install the four procedures. They answer what libvirt 9.0's x86 CPU driver answers, from
 * libvirt's CPU map (see the .c); the handlers find the caps through the call. */
void qemu_cpu_compare_install(SvRemoteHandlers *h);
