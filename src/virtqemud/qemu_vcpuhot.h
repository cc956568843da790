/* qemu_vcpuhot.h: vcpus plugged into and unplugged from a running QEMU guest
 * (qemu_vcpuhot.c). */
#pragma once

#include "domain/domain_resize.h"

/* The resize fact vcpus_plug (domain/domain_resize.h). */
void qemu_vcpuhot_plug(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                       gpointer data);
/* The resize fact vcpus_unplug (domain/domain_resize.h). */
void qemu_vcpuhot_unplug(SvDomainObj *obj, guint online, guint n, SvVcpusDoneFunc done,
                         gpointer data);
