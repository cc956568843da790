/* sv-net-runtime-tool.c: virtnetworkd's data plane (net_runtime.h) driven line by line on
 * stdin, for tests/e2e/test_net_runtime.py, which runs it inside a network namespace:
 *   sv-net-runtime-tool ROOT LEASESHELPER NETWORK.xml
 * Commands: "start", "stop", "reload XML" (the definition becomes XML's), "reattach" (a new
 * runtime, as after a daemon restart, takes the running network over), "leases [MAC]",
 * "quit" (leaves the network as it is). Each answers "ok" (leases: one "lease ..." line
 * each first) or "error CODE DOMAIN MESSAGE", on one line (newlines written as \n). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "net_runtime.h"
#include "util/error.h"

static SvNetRuntime *rt;
static SvNetworkDef *def;
static const char *root;
static const char *helper;
static GMainLoop *loop;

static void
reply(gboolean ok, GError *error)
{
    g_auto(GStrv) lines = ok ? NULL : g_strsplit(error->message, "\n", -1);
    g_autofree char *one_line = ok ? NULL : g_strjoinv("\\n", lines);

    if (ok)
        printf("ok\n");
    else
        printf("error %d %d %s\n", error->code, sv_error_get_from(error), one_line);
    fflush(stdout);
}

static void
op_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = data ? sv_net_runtime_stop_finish(rt, res, &error)
                       : sv_net_runtime_start_finish(rt, res, &error);

    (void)src;
    reply(ok, error);
}

static SvNetworkDef *
load(const char *path, GError **error)
{
    g_autofree char *xml = NULL;

    if (!g_file_get_contents(path, &xml, NULL, error))
        return NULL;
    return sv_network_def_parse(xml, 0, error);
}

static SvNetRuntime *
runtime_new(void)
{
    SvNetRuntime *r = sv_net_runtime_new(root, NULL);

    sv_net_runtime_set_leaseshelper(r, helper);
    return r;
}

static void
print_leases(const char *mac)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) leases = sv_net_runtime_leases(rt, def, mac, &error);

    for (guint i = 0; leases && i < leases->len; i++) {
        SvNetLease *l = leases->pdata[i];
        printf("lease %s %" G_GINT64_FORMAT " %d %s %s %s %u %s %s\n", l->iface, l->expiry,
               l->type, l->mac ? l->mac : "-", l->iaid ? l->iaid : "-", l->ipaddr, l->prefix,
               l->hostname ? l->hostname : "-", l->clientid ? l->clientid : "-");
    }
    reply(leases != NULL, error);
}

static void
command(const char *line)
{
    g_autoptr(GError) error = NULL;

    if (g_str_equal(line, "start")) {
        sv_net_runtime_start(rt, def, op_done, NULL);
    } else if (g_str_equal(line, "stop")) {
        sv_net_runtime_stop(rt, def, op_done, GINT_TO_POINTER(1));
    } else if (g_str_has_prefix(line, "reload ")) {
        SvNetworkDef *next = load(line + 7, &error);
        if (next) {
            sv_network_def_free(def);
            def = next;
        }
        reply(next && sv_net_runtime_reload(rt, def, FALSE, &error), error);
    } else if (g_str_equal(line, "reattach")) {
        sv_net_runtime_free(rt);
        rt = runtime_new();
        reply(sv_net_runtime_reattach(rt, def, &error), error);
    } else if (g_str_has_prefix(line, "leases")) {
        print_leases(line[6] == ' ' ? line + 7 : NULL);
    } else if (g_str_equal(line, "quit")) {
        g_main_loop_quit(loop);
    } else {
        printf("error 0 0 unknown command %s\n", line);
        fflush(stdout);
    }
}

static gboolean
on_stdin(gint fd, GIOCondition cond, gpointer data)
{
    static GString *buf;
    char chunk[512];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    char *nl;

    (void)cond;
    (void)data;
    if (!buf)
        buf = g_string_new(NULL);
    if (n <= 0) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(buf, chunk, n);
    while ((nl = strchr(buf->str, '\n'))) {
        g_autofree char *line = g_strndup(buf->str, nl - buf->str);
        g_string_erase(buf, 0, nl - buf->str + 1);
        command(line);
    }
    return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    if (argc != 4) {
        fprintf(stderr, "usage: %s ROOT LEASESHELPER NETWORK.xml\n", argv[0]);
        return 2;
    }
    root = argv[1];
    helper = argv[2];
    if (!(def = load(argv[3], &error))) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    rt = runtime_new();
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP, on_stdin, NULL);
    g_main_loop_run(loop);
    sv_net_runtime_free(rt);
    sv_network_def_free(def);
    g_main_loop_unref(loop);
    return 0;
}
