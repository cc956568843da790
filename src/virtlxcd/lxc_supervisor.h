/* lxc_supervisor.h: virtlxcd-supervisor, the small process that owns one container.
 *
 * virtlxcd starts one per container, in its own session, with the launch spec on stdin
 * (lxc_spec.h), the container log as stdout and stderr, and a listening unix socket
 * (lxc_proto.h) at a descriptor named on the command line:
 *
 *   virtlxcd-supervisor --name NAME --listen-fd FD --socket PATH [--verbose]
 *
 * It builds the container (cgroup, namespaces, veth pairs, console pty; with <idmap>, a
 * user namespace too, whose uid and gid maps it writes), holds the pty's master and init's
 * exit status, restarts init in place after a reboot from inside, and tears everything
 * down when init ends. The daemon may come and go meanwhile: the supervisor never depends
 * on it, and a restarted daemon reconnects through the socket.
 *
 * SIGTERM or SIGINT stop the container (SIGKILL to all of it) and the supervisor with it,
 * once a connected daemon has seen EXITED, or at once when none is connected. SIGHUP is
 * ignored. The container itself dies with its supervisor (PR_SET_PDEATHSIG), so no
 * container ever runs unsupervised. */
#pragma once

/* Run the supervisor; returns the process exit status. */
int lxc_supervisor_main(int argc, char **argv);
