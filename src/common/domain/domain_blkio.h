/* domain_blkio.h: DOMAIN_GET/SET_BLKIO_PARAMETERS (virsh blkiotune; issue 18, blkio
 * parameters), as libvirt 9.0's QEMU driver answers them: the persistent definition's
 * <blkiotune>, and a running guest's through its cgroup (the driver's SvBlkioFacts). */
#pragma once

#include "domain/domain_driver.h"

/* The parameters, in the order libvirt returns them. */
typedef enum {
    SV_BLKIO_WEIGHT,
    SV_BLKIO_DEVICE_WEIGHT,
    SV_BLKIO_DEVICE_READ_IOPS,
    SV_BLKIO_DEVICE_WRITE_IOPS,
    SV_BLKIO_DEVICE_READ_BYTES,
    SV_BLKIO_DEVICE_WRITE_BYTES,
    SV_BLKIO_LAST
} SvBlkioParam;


struct SvBlkioFacts {
    /* Whether a running guest has the block I/O cgroup: FALSE with libvirt's error when
     * not. */
    gboolean (*check)(SvDomainObj *obj, GError **error);
    /* The running guest's weight, as its cgroup has it. */
    gboolean (*get_weight)(SvDomainObj *obj, guint *out_weight, GError **error);
    gboolean (*set_weight)(SvDomainObj *obj, guint weight, GError **error);
    /* One device's value `which` (SV_BLKIO_DEVICE_*; 0: none) in the guest's cgroup. */
    gboolean (*set_device)(SvDomainObj *obj, const char *path, int which, guint64 value,
                           GError **error);
};

gboolean sv_domain_blkio_set(SvCall *call, remote_domain_set_blkio_parameters_args *a,
                             GError **error);
gboolean sv_domain_blkio_get(SvCall *call, remote_domain_get_blkio_parameters_args *a,
                             remote_domain_get_blkio_parameters_ret *ret, GError **error);

/* libvirt's "PATH,VALUE[,PATH,VALUE...]" for parameter `which` (SV_BLKIO_DEVICE_*) into
 * devices (of SvDomainBlkioDeviceDef, only that value set), with its errors; "" is none. */
GPtrArray *sv_domain_blkio_parse_devices(const char *text, int which, GError **error);
