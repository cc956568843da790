/* qemu_caps_qmp.h: reading the QMP part of the QEMU probe. */
#pragma once

#include <glib.h>

#include "qemu_caps.h"

/* The commands sent on stdin: the main probe (TCG), or the KVM one (usability of the
 * CPU models under KVM). */
const char *qemu_caps_qmp_commands(gboolean kvm);

/* The replies of one probe run, by command id. */
typedef struct QemuQmpReplies QemuQmpReplies;
QemuQmpReplies *qemu_qmp_replies_parse(const char *text);
void qemu_qmp_replies_free(QemuQmpReplies *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuQmpReplies, qemu_qmp_replies_free)

/* Whether the command succeeded (query-spice fails where QEMU has no SPICE). */
gboolean qemu_qmp_replies_ok(QemuQmpReplies *r, const char *id);
GPtrArray *qemu_qmp_replies_machines(QemuQmpReplies *r);              /* QemuMachine */
GPtrArray *qemu_qmp_replies_cpu_defs(QemuQmpReplies *r);              /* QemuCpuDef */
GPtrArray *qemu_qmp_replies_names(QemuQmpReplies *r, const char *id); /* char * */
GPtrArray *qemu_qmp_replies_display_types(QemuQmpReplies *r);         /* char * */
gboolean qemu_qmp_replies_kvm_enabled(QemuQmpReplies *r);
/* The target architecture, QEMU's name for it ("x86_64", "i386"). (transfer full) */
char *qemu_qmp_replies_target_arch(QemuQmpReplies *r);

/* The CPU of the "max" (TCG) or "host" (KVM) expansions, ids "max" and "max-all"
 * (QemuHostCpu); NULL when the probe has no expansion (an older cache, or QEMU refused). (transfer full) */
QemuHostCpu *qemu_qmp_replies_host_cpu(QemuQmpReplies *r);
