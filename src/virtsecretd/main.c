/* main.c: virtsecretd, the secrets daemon. */
#include "secret_driver.h"

int
main(int argc, char **argv)
{
    return sv_daemon_main(&secret_daemon_driver, argc, argv);
}
