/* lxc_status.h: a running container's status file, ROOT/run/libvirt/lxc/NAME.xml: what a
 * restarted daemon needs to find the container again, in the drivers' one format
 * (conf/domain_status.h). Pure formatting and parsing.
 *
 *   <domstatus state='running' reason='1' statetime='...' persistent='1' starting='0'
 *              autodestroy='0' destroying='0'>
 * (with destroying='1' also destroymode='graceful' or 'forced' and destroydeadline='...',
 * the g_get_monotonic_time() end of its SIGTERM wait, 0 when the supervisor stops it)
 *     <supervisor pid='...' starttime='...' socket='ROOT/run/libvirt/lxc/NAME.sock'/>
 *     <init pid='...' starttime='...'/>
 *     <cgroup path='splitvirt-.../NAME.libvirt-lxc'/>
 *     <domain type='lxc' id='...'>...the live definition...</domain>
 *   </domstatus>
 * The supervisor is the common part's process, destroymode and destroydeadline its kill
 * under way. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/domain_status.h"

/* What virtlxcd's status files record of their own. */
typedef struct {
    gboolean destroying;
    char *socket;   /* the supervisor's */
    pid_t init_pid; /* 0 while not known */
    guint64 init_start;
    char *cgroup;
} LxcStatus;

void lxc_status_clear(LxcStatus *st);

/* How virtlxcd's files record the common part; its hook reads its own part (an LxcStatus
 * in SvStatus.own), checking what the values can be on their own: a socket, an init that
 * is not process 1. What they name is for the reader to check before acting on it. */
extern const SvStatusStyle lxc_status_style;

static inline LxcStatus *
lxc_status_of(const SvStatus *st)
{
    return st->own;
}

/* own as the file records it: the attributes of <domstatus> and <supervisor>, <init> and
 * <cgroup> (out's strings transfer full). */
void lxc_status_own(const LxcStatus *own, SvStatusOwn *out);
/* The file's text for a container running `def` under `id`. (transfer full) */
char *lxc_status_format(const SvStatusCommon *c, const LxcStatus *own, const SvDomainDef *def,
                        int id);
