/* qemu.h: libvirt's QEMU-specific program (libvirt-qemu, sv_qemu.x) on a daemon whose
 * driver is not QEMU's: every call answered as libvirt's public API answers a driver
 * without it. virtqemud serves the program itself (src/virtqemud/qemu_program.c). */
#pragma once

#include "rpc/server.h"

/* Serve libvirt-qemu on srv, each call failing with NO_SUPPORT naming its API (after the
 * read-only check every call of it passes first, as libvirt's). */
void sv_qemu_serve_unsupported(SvServer *srv);
