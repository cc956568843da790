/* main.c: virtnodedevd, the node-device daemon (read-only). */
#include "nodedev_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&nodedev_daemon_driver, argc, argv);
}
