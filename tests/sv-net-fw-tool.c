/* sv-net-fw-tool.c: virtnetworkd's firewall (src/virtnetworkd/net_firewall.c) driven from
 * the command line, for tests/e2e/test_net_firewall.py, which runs it inside network
 * namespaces of its own (never the host's).
 *
 *   sv-net-fw-tool script < network.xml    print the nft script of the network ("none")
 *   sv-net-fw-tool add < network.xml       add (or replace) the network's table
 *   sv-net-fw-tool remove < network.xml    remove it
 *   sv-net-fw-tool present < network.xml   exit 0 when the table is there, 1 otherwise
 *   sv-net-fw-tool watch SECONDS           print each loss the watch reports ("*": all)
 *                                          for SECONDS (or until SIGTERM), "ready"
 *                                          once watching
 *   sv-net-fw-tool keep SECONDS < network.xml
 *       add the network's table, then watch as virtnetworkd's runtime does and add it again
 *       each time it is reported lost (printing "lost TABLE" and "added"), for SECONDS
 *       (or until SIGTERM) */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/network_def.h"
#include "net_firewall.h"

/* watch: print; keep (data: the network): add its table again when it is the one lost. */
static void
lost(const char *table, gpointer data)
{
    const SvNetworkDef *def = data;
    g_autofree char *mine = def ? sv_net_firewall_table_name(def) : NULL;
    g_autoptr(GError) error = NULL;

    printf("%s%s\n", def ? "lost " : "", table ? table : "*");
    fflush(stdout);
    if (!def || (table && !g_str_equal(table, mine)))
        return;
    /* Blocking on the loop: this is a test tool; the runtime does it on a worker. */
    if (!sv_net_firewall_add(def, &error))
        fprintf(stderr, "%s\n", error->message);
    else
        printf("added\n");
    fflush(stdout);
}

static gboolean
quit(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int
watch(const char *seconds, const SvNetworkDef *def)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(SvNetFirewallWatch) w = sv_net_firewall_watch_new(lost, (gpointer)def, &error);

    if (!w) {
        fprintf(stderr, "%s\n", error->message);
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    g_timeout_add_seconds(atoi(seconds), quit, loop);
    g_unix_signal_add(SIGTERM, quit, loop);
    g_main_loop_run(loop);
    return 0;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *script = NULL;

    if (argc == 3 && g_str_equal(argv[1], "watch"))
        return watch(argv[2], NULL);
    if (argc != 2 && !(argc == 3 && g_str_equal(argv[1], "keep"))) {
        fprintf(stderr, "usage: sv-net-fw-tool script|add|remove|present < network.xml\n");
        return 2;
    }
    if (!g_file_get_contents("/dev/stdin", &xml, NULL, &error) ||
        !(def = sv_network_def_parse(xml, 0, &error))) {
        fprintf(stderr, "%s\n", error->message);
        return 2;
    }
    if (g_str_equal(argv[1], "script")) {
        if (!sv_net_firewall_script(def, &script, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        printf("%s", script ? script : "none\n");
        return 0;
    }
    if (g_str_equal(argv[1], "add")) {
        if (!sv_net_firewall_add(def, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        return 0;
    }
    if (g_str_equal(argv[1], "remove")) {
        sv_net_firewall_remove(def);
        return 0;
    }
    if (g_str_equal(argv[1], "keep")) {
        if (!sv_net_firewall_add(def, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        return watch(argv[2], def);
    }
    if (g_str_equal(argv[1], "present"))
        return sv_net_firewall_present(def) ? 0 : 1;
    fprintf(stderr, "unknown command '%s'\n", argv[1]);
    return 2;
}
