/* main.c: virtlxcd, the Linux container daemon. */
#include "lxc_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&lxc_daemon_driver, argc, argv);
}
