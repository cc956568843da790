/* cpu_x86_host.h: the host's x86 CPU as libvirt 9.0 reports it in the capabilities: CPUID
 * read leaf by leaf as libvirt's cpuidSet reads it, decoded through the CPU map. */
#pragma once

#include <glib.h>

#include "conf/cpu_def.h"
#include "conf/cpu_map.h"
#include "util/host.h"

/* One CPUID call: out = eax, ebx, ecx, edx of leaf/sub. */
typedef void (*SvCpuidFn)(guint32 leaf, guint32 sub, guint32 out[4], gpointer opaque);

/* The cpuid instruction of the CPU this runs on (zeros elsewhere than x86). */
void sv_cpu_x86_cpuid_native(guint32 leaf, guint32 sub, guint32 out[4], gpointer opaque);

/* The basic (0..) and extended (0x80000000..) leaves and the sub-leaves libvirt reads, as a
 * data set. `fn` answers each call (tests give fixed data). (transfer full) */
GArray *sv_cpu_x86_read_cpuid(SvCpuidFn fn, gpointer opaque);

/* The host's data set: its CPUID, and IA32_ARCH_CAPABILITIES when the CPU has it and the MSR
 * can be read (/dev/cpu/0/msr or KVM), as libvirt adds it. (transfer full) */
GArray *sv_cpu_x86_host_data(const SvCpuMap *map);

/* The capabilities' host CPU (arch, model, vendor, features with policy -1), decoded once
 * from the host data through the system's map and kept; NULL with error set when the map
 * cannot be read. (transfer none) */
SvCpuDef *sv_cpu_x86_host(GError **error);

/* The host CPU's model, vendor and features for the capabilities (util/host.h); all NULL
 * when the map cannot be read (the capabilities then show none, as without a map). The
 * strings stay valid for the process's life. */
void sv_cpu_x86_host_model(SvHostCpuModel *out);
