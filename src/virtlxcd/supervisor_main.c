/* supervisor_main.c: virtlxcd-supervisor, the process that owns one container. */
#include "lxc_supervisor.h"

int
main(int argc, char **argv)
{
    return lxc_supervisor_main(argc, argv);
}
