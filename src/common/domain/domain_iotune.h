/* domain_iotune.h: DOMAIN_SET/GET_BLOCK_IO_TUNE (virsh blkdeviotune; issue 18 item 2, block
 * I/O throttling) for the drivers libvirt 9.0 has none in: its lxc and libxl drivers answer
 * NO_SUPPORT. virtqemud serves them (src/virtqemud/qemu_iotune.c). */
#pragma once

#include "domain/domain_driver.h"

void sv_domain_iotune_install_no_support(SvRemoteHandlers *h);
