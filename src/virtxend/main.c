/* main.c: virtxend, the Xen daemon. */
#include "xen_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&xen_daemon_driver, argc, argv);
}
