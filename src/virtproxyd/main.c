/* main.c: virtproxyd, the legacy libvirt sockets routed to per-driver daemons. */
#include "proxy.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&proxy_daemon_driver, argc, argv);
}
