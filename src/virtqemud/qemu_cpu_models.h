/* qemu_cpu_models.h: CONNECT_GET_CPU_MODEL_NAMES from the QEMU probe (issue 18 item 5). */
#pragma once

#include "programs/remote.h"

/* Install CONNECT_GET_CPU_MODEL_NAMES: for x86 the CPU models query-cpu-definitions lists
 * (QEMU's order, versions included), once the probe is done; libvirt's answers for the
 * other architectures (see the .c). The handler finds the caps through the call. */
void qemu_cpu_models_install(SvRemoteHandlers *h);
