/* main.c: virtstoraged, the storage daemon. */
#include "storage_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&storage_daemon_driver, argc, argv);
}
