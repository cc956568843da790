/* main.c: virtnetworkd, the virtual network daemon. */
#include "network_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&network_daemon_driver, argc, argv);
}
