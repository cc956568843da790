/* leaseshelper.c: the program dnsmasq runs as its --dhcp-script for every lease event, as
 * libvirt's libvirt_leaseshelper: "add|old|del MAC|CLIENTID IP [HOSTNAME]" keeps the
 * network's BRIDGE.status (net_leases.h) and "init" prints it back to a restarted
 * dnsmasq in its own lease-file format. The bridge comes from DNSMASQ_INTERFACE or, for
 * events before dnsmasq knows it, VIR_BRIDGE_NAME (the daemon sets it); the directory
 * from SV_DNSMASQ_STATE_DIR (the daemon sets it under --root), else libvirt's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_leases.h"
#include "util/fd.h"
#include "util/fileio.h"
#include "util/netdev.h"

#define DEFAULT_STATE_DIR "/var/lib/libvirt/dnsmasq"

typedef enum { ACTION_ADD, ACTION_OLD, ACTION_DEL, ACTION_INIT, ACTION_LAST } Action;
static const char *const action_names[ACTION_LAST] = {"add", "old", "del", "init"};

typedef struct {
    Action action;
    const char *ip;
    const char *server_duid;
    SvNetLeaseRecord *lease; /* add/old with a known MAC */
} Event;

static int
usage(const char *prog, int status)
{
    if (status)
        fprintf(stderr, "%s: try --help for more details\n", prog);
    else
        printf("Usage: %s add|old|del|init mac|clientid ip [hostname]\n"
               "Designed for use with 'dnsmasq --dhcp-script'\n"
               "Refer to man page of dnsmasq for more details'\n", prog);
    return status;
}

/* The lease an add/old event describes, NULL when its MAC is unknown (an IPv6 client
 * dnsmasq gave no DNSMASQ_MAC for): libvirt keeps no such lease. */
static SvNetLeaseRecord *
event_lease(int argc, char **argv, gboolean *ret_bad_expiry)
{
    const char *iaid = g_getenv("DNSMASQ_IAID");
    const char *mac = iaid ? g_getenv("DNSMASQ_MAC") : argv[2];
    const char *client = iaid ? argv[2] : g_getenv("DNSMASQ_CLIENT_ID");
    const char *host = argc == 5 ? argv[4] : g_getenv("DNSMASQ_SUPPLIED_HOSTNAME");
    g_autofree char *expires = g_strdup(g_getenv("DNSMASQ_LEASE_EXPIRES"));
    SvNetLeaseRecord *r;
    gint64 expiry = 0;
    char *end = NULL;

    *ret_bad_expiry = FALSE;
    if (!host)
        host = g_getenv("DNSMASQ_OLD_HOSTNAME");
    if (!mac)
        return NULL;
    if (expires)
        g_strstrip(expires);
    if (expires && *expires) {
        errno = 0;
        expiry = g_ascii_strtoll(expires, &end, 10);
        if (errno || *end) {
            fprintf(stderr, "Unable to convert lease expiry time to long long: %s\n", expires);
            *ret_bad_expiry = TRUE;
            return NULL;
        }
    }
    r = g_new0(SvNetLeaseRecord, 1);
    r->iaid = g_strdup(iaid);
    r->ip = g_strdup(argv[3]);
    r->mac = g_strdup(mac);
    r->hostname = g_strdup(host);
    r->client_id = g_strdup(client);
    r->server_duid = g_strdup(g_getenv("DNSMASQ_SERVER_DUID"));
    r->expiry = expiry;
    return r;
}

/* Apply ev to the status file's records; prints for init. */
static gboolean
apply(const Event *ev, GPtrArray *recs, const char **server_duid)
{
    gboolean drop = ev->action == ACTION_DEL || ev->lease;

    for (guint i = 0; i < recs->len;) {
        SvNetLeaseRecord *r = g_ptr_array_index(recs, i);
        if (drop && ev->ip && g_str_equal(r->ip, ev->ip)) {
            g_ptr_array_remove_index(recs, i);
            continue;
        }
        /* IPv6 leases carry the server's DUID, which init must print back */
        if (strchr(r->ip, ':')) {
            if (r->server_duid && !*server_duid)
                *server_duid = r->server_duid;
            else if (!r->server_duid && *server_duid)
                r->server_duid = g_strdup(*server_duid);
        }
        i++;
    }
    if (ev->action == ACTION_INIT) {
        g_autofree char *text = sv_net_lease_records_init_text(recs, *server_duid);
        fputs(text, stdout);
        return fflush(stdout) == 0;
    }
    return TRUE;
}

/* Read, change and write the status file under an exclusive lock of its directory (dnsmasq
 * runs one script at a time, but two networks' dnsmasqs share the directory). */
static gboolean
update_status(const char *dir, const char *iface, Event *ev)
{
    g_autofree char *path = g_strdup_printf("%s/%s.status", dir, iface);
    g_auto(SvFd) dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) recs = NULL;
    g_autoptr(GError) err = NULL;
    const char *duid = ev->server_duid;
    gboolean invalid;
    gsize len = 0;

    if (dfd < 0 || flock(dfd, LOCK_EX) < 0) {
        fprintf(stderr, "cannot lock %s: %s\n", dir, g_strerror(errno));
        return FALSE;
    }
    if (!g_file_get_contents(path, &text, &len, NULL)) {
        /* as libvirt's helper, the file exists from the first event (init) on */
        g_auto(SvFd) fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            fchmod(fd, 0644); /* whatever the daemon's umask: readers are not all root */
        text = g_strdup("");
    }
    if (len > SV_NET_LEASES_FILE_MAX || !(recs = sv_net_lease_records_parse(text, &invalid, &err))) {
        fprintf(stderr, "%s\n", err ? err->message : "leases file too large");
        return FALSE;
    }
    if (invalid)
        fprintf(stderr, "invalid json in file: %s, rewriting it\n", path);
    if (!apply(ev, recs, &duid))
        return FALSE;
    if (ev->action == ACTION_INIT)
        return TRUE;
    if (ev->lease)
        g_ptr_array_add(recs, g_steal_pointer(&ev->lease));
    g_free(text);
    text = sv_net_lease_records_format(recs);
    if (!sv_file_write_atomic(path, text, strlen(text), 0644, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return FALSE;
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    const char *iface = g_getenv("DNSMASQ_INTERFACE");
    const char *dir = g_getenv("SV_DNSMASQ_STATE_DIR");
    Event ev = {.action = ACTION_LAST};
    gboolean bad_expiry = FALSE;
    gboolean ok;

    if (argc > 1 && g_str_equal(argv[1], "--help"))
        return usage(argv[0], EXIT_SUCCESS);
    if (argc > 1 && g_str_equal(argv[1], "--version")) {
        printf("%s (splitvirt)\n", argv[0]);
        return EXIT_SUCCESS;
    }
    if (argc != 2 && argc != 4 && argc != 5)
        return usage(argv[0], EXIT_FAILURE);
    if (!iface)
        iface = g_getenv("VIR_BRIDGE_NAME");
    if (!iface || !sv_netdev_name_valid(iface)) {
        fprintf(stderr, "interface not set\n");
        return EXIT_FAILURE;
    }
    for (int a = 0; a < ACTION_LAST; a++)
        if (g_str_equal(argv[1], action_names[a]))
            ev.action = a;
    if (ev.action == ACTION_LAST || (argc == 2) != (ev.action == ACTION_INIT)) {
        fprintf(stderr, "Unsupported action: %s\n", argv[1]);
        return EXIT_FAILURE;
    }
    ev.ip = argc > 3 ? argv[3] : NULL;
    ev.server_duid = g_getenv("DNSMASQ_SERVER_DUID");
    if (ev.action == ACTION_ADD || ev.action == ACTION_OLD)
        ev.lease = event_lease(argc, argv, &bad_expiry);
    if (bad_expiry)
        return EXIT_FAILURE;
    ok = update_status(dir && *dir ? dir : DEFAULT_STATE_DIR, iface, &ev);
    sv_net_lease_record_free(ev.lease);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
