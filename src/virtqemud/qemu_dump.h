/* qemu_dump.h: <on_crash>coredump-destroy</on_crash> and coredump-restart: the crashed
 * guest's memory written to the dump directory before it is destroyed or restarted, as
 * libvirt 9.0's QEMU driver does (its auto_dump_path). */
#pragma once

#include "conf/domain_obj.h"
#include "domain/domain_state.h"

/* The dump file of guest `name` (running as `id`) at `now`: DIR/ID-NAME-YYYY-MM-DD-HH:MM:SS
 * (local time, NAME cut to 20 characters), libvirt's name. (transfer full) */
char *qemu_dump_path(const char *dir, int id, const char *name, GDateTime *now);

/* Ask QEMU for an ELF dump of the guest's memory into the context's dump directory, then
 * stop the guest with `then` (SV_STOP_CRASH, or SV_STOP_CRASH_RESTART). A dump that fails
 * leaves the guest crashed, as in libvirt. */
void qemu_dump_on_crash(SvDomainObj *obj, SvStopCause then);
