/* main.c: virtqemud, the QEMU daemon. */
#include "qemu_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&qemu_daemon_driver, argc, argv);
}
