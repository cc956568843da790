/* lxc_status.h: a running container's status file, ROOT/run/libvirt/lxc/NAME.xml: what a
 * restarted daemon needs to find the container again. Pure formatting and parsing.
 *
 *   <domstatus state='running' reason='1' statetime='...' persistent='1' destroying='0'
 *              starting='0' autodestroy='0'>
 * (with destroying='1' also destroymode='graceful' or 'forced' and destroydeadline='...',
 * the g_get_monotonic_time() end of its SIGTERM wait, 0 when the supervisor stops it)
 *     <supervisor pid='...' starttime='...' socket='ROOT/run/libvirt/lxc/NAME.sock'/>
 *     <init pid='...' starttime='...'/>
 *     <cgroup path='splitvirt-.../NAME.libvirt-lxc'/>
 *     <domain type='lxc' id='...'>...the live definition...</domain>
 *   </domstatus> */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/domain_conf.h"

typedef struct {
    int state; /* SvDomainState */
    int reason;
    gint64 state_time;
    gboolean persistent;
    gboolean destroying;
    gboolean destroy_graceful;
    gint64 destroy_deadline;
    gboolean starting;
    gboolean autodestroy;
    pid_t supervisor_pid;
    guint64 supervisor_start;
    char *socket;
    pid_t init_pid; /* 0 while not known */
    guint64 init_start;
    char *cgroup;
} LxcStatus;

void lxc_status_clear(LxcStatus *st);

/* The file's text for a container running `def` under `id`. (transfer full) */
char *lxc_status_format(const LxcStatus *st, const SvDomainDef *def, int id);

/* Parse a status file: fills *st (cleared by the caller) and returns the live definition,
 * with its id in *ret_id. (transfer full) Only the syntax is checked here: what the fields
 * name is for the reader to check before acting on it. */
SvDomainDef *lxc_status_parse(const char *text, LxcStatus *st, int *ret_id, GError **error);
