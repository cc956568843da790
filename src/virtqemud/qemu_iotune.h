/* qemu_iotune.h: DOMAIN_SET_BLOCK_IO_TUNE and DOMAIN_GET_BLOCK_IO_TUNE (virsh blkdeviotune;
 * issue 18, block I/O throttling), qemu_iotune.c. */
#pragma once

#include "programs/remote.h"

/* Serve both procedures in h (their handlers find the driver through the call). */
void qemu_iotune_install(SvRemoteHandlers *h);
