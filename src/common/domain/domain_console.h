/* domain_console.h: a guest's console on a stream (DOMAIN_OPEN_CONSOLE): the bytes of a
 * descriptor (a pty, or a socket to a container's supervisor) go to the client's stream,
 * what the client types goes to the descriptor, each way with its bound. Which device, and
 * whether one client at a time, is the driver's. */
#pragma once

#include "rpc/stream.h"

typedef struct SvConsole SvConsole;

/* The stream closed (the client finished or aborted it, or went away); the console is
 * freed right after this returns. */
typedef void (*SvConsoleClosedFunc)(SvConsole *con, gpointer data);

/* Open the console for the call being handled, before it is answered (its reply is the
 * stream's start); fd (transfer full) is made non-blocking. Output stops being read while
 * more than 1 MiB waits for the client; input beyond input_limit bytes that the guest has
 * not taken is dropped, as a tty drops typing nobody reads (0: no limit). At the end of
 * fd's data (the guest is gone) the client gets the stream's end, and finishes. */
SvConsole *sv_console_open(SvCall *call, int fd, gsize input_limit, SvConsoleClosedFunc closed,
                           gpointer data);

/* Take the console away from its client (another one forced its way in): the client's
 * stream fails with "stream had I/O failure" and the console is freed (closed is not
 * called). */
void sv_console_take_away(SvConsole *con);
