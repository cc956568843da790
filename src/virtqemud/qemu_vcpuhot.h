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
/* QEMU let go of obj's device `alias`: when it is the highest vcpu online ('vcpuN', N the
 * live count - 1), the live count goes down (an unplug whose wait ended before); FALSE
 * otherwise. */
gboolean qemu_vcpuhot_deleted(SvDomainObj *obj, const char *alias);
