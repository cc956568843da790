/* qemu.h: libvirt's QEMU-specific program (libvirt-qemu, sv_qemu.x) on a daemon whose
 * driver is not QEMU's: every call answered as libvirt's public API answers a driver
 * without it. virtqemud serves the program itself (src/virtqemud/qemu_program.c). */
#pragma once

#include "rpc/server.h"

/* Serve libvirt-qemu on srv, each call failing with NO_SUPPORT naming its API (after the
 * read-only check every call of it passes first, as libvirt's), but a deregistration,
 * which finds no registration first; for a secondary driver's daemon (`secondary`), a
 * monitor command with files finds no descriptor passing, before the read-only check. */
void sv_qemu_serve_unsupported(SvServer *srv, gboolean secondary);

/* The read-only check of MONITOR_COMMAND_WITH_FILES, which the .x lets through (see
 * sv_qemu.x) for a daemon whose driver passes descriptors, as sv_qemu_hooks, with which a
 * daemon serving the program for such a driver serves it. */
gboolean sv_qemu_readonly_check(SvCall *call, const SvProcInfo *proc, const void *args,
                                GError **error);
extern const SvProgramHooks sv_qemu_hooks;

/* libvirt's answer to a monitor event deregistration of a callback id the connection
 * never registered, which its daemon looks for before any driver is asked. */
void sv_qemu_callback_not_registered(int callback_id, GError **error);
