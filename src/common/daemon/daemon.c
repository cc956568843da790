/* daemon.c: the daemon skeleton shared by every splitvirt daemon. */
#include "daemon/daemon.h"
#include "programs/private.h"
#include "daemon/daemon_net.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "programs/admin.h"
#include "programs/auth.h"
#include "programs/backend.h"
#include "programs/remote.h"
#include "sv-config.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/host.h"
#include "util/log.h"
#include "util/process.h"

struct SvDaemon {
    const SvDaemonDriver *drv;
    char *root;
    int timeout;
    gboolean verbose;
    gboolean listen; /* --listen */
    SvNetSockets net_passed; /* systemd's -tcp/-tls sockets, until set up */
    char *config_path;
    char *pid_path;
    int pid_fd;
    SvConfFile *conf;
    char *host_uuid;
    SvServer *server;
    SvServer *admin;
    SvAdmin *admin_program; /* served on `admin`; lists `server` and `admin` */
    SvRemoteConfig remote;  /* for the driver's remote program (sv_daemon_serve_remote) */
    SvAuthConfig auth;      /* what clients of each kind of socket must pass */
    char *family_run_dir;   /* remote.family_run_dir's storage */
    GMainLoop *loop;
    guint idle_timer;
    guint inhibitors;
    GPtrArray *created_sockets; /* paths we bound and must remove */
    gpointer driver_data;
    char system_token[SV_SYSTEM_TOKEN_LEN + 1];
    gboolean token_tried;
};

char *
sv_daemon_path(SvDaemon *d, const char *std_path)
{
    return g_strconcat(d->root, std_path, NULL);
}

const char *
sv_daemon_system_token(SvDaemon *d)
{
    g_autofree char *run_dir = NULL;
    g_autoptr(GError) error = NULL;

    if (d->token_tried)
        return d->system_token;
    d->token_tried = TRUE;
    run_dir = sv_daemon_path(d, "/run/libvirt");
    if (!sv_backend_system_token(run_dir, d->system_token, &error)) {
        g_message("no system token: %s", error->message);
        d->system_token[0] = '\0';
    }
    return d->system_token;
}

const char *
sv_daemon_get_root(SvDaemon *d)
{
    return d->root;
}

SvServer *
sv_daemon_get_server(SvDaemon *d)
{
    return d->server;
}

void
sv_daemon_serve_remote(SvDaemon *d, const SvRemoteHandlers *handlers)
{
    sv_remote_serve(d->server, handlers, &d->remote);
    if (!d->drv->routes_clients)
        sv_private_serve(d->server);
}

SvServer *
sv_daemon_get_admin_server(SvDaemon *d)
{
    return d->admin;
}

SvConfFile *
sv_daemon_get_config(SvDaemon *d)
{
    return d->conf;
}

const char *
sv_daemon_host_uuid(SvDaemon *d)
{
    return d->host_uuid;
}

/* libvirt fails the start on a bad host_uuid or host_uuid_source. */
static gboolean
host_uuid_setup(SvDaemon *d, GError **error)
{
    g_autofree char *uuid = NULL, *source = NULL;

    if (!sv_conf_file_get_string(d->conf, "host_uuid", &uuid, error) ||
        !sv_conf_file_get_string(d->conf, "host_uuid_source", &source, error))
        return FALSE;
    d->host_uuid = sv_host_uuid_configured(uuid, source, error);
    if (!d->host_uuid) {
        g_prefix_error(error, "Can't setup host uuid: ");
        return FALSE;
    }
    return TRUE;
}

char *
sv_daemon_config_dir(SvDaemon *d)
{
    return g_path_get_dirname(d->config_path);
}

gboolean
sv_daemon_is_verbose(SvDaemon *d)
{
    return d->verbose;
}

gpointer
sv_daemon_get_driver_data(SvDaemon *d)
{
    return d->driver_data;
}

void
sv_daemon_set_driver_data(SvDaemon *d, gpointer data)
{
    d->driver_data = data;
}

void
sv_daemon_quit(SvDaemon *d)
{
    g_main_loop_quit(d->loop);
}

static gboolean
idle_expired(gpointer data)
{
    SvDaemon *d = data;

    d->idle_timer = 0;
    g_message("%s: idle for %d seconds, exiting", d->drv->name, d->timeout);
    g_main_loop_quit(d->loop);
    return G_SOURCE_REMOVE;
}

/* Arm the idle timer exactly when nothing holds the daemon. */
static void
idle_update(SvDaemon *d)
{
    gboolean idle = d->timeout > 0 && d->inhibitors == 0 &&
                    sv_server_n_clients(d->server) == 0 && sv_server_n_clients(d->admin) == 0;

    if (idle && !d->idle_timer)
        d->idle_timer = g_timeout_add((guint)d->timeout * 1000, idle_expired, d);
    else if (!idle && d->idle_timer) {
        g_source_remove(d->idle_timer);
        d->idle_timer = 0;
    }
}

static void
clients_changed(SvServer *srv, gpointer data)
{
    (void)srv;
    idle_update(data);
}

void
sv_daemon_set_timeout(SvDaemon *d, guint timeout)
{
    d->timeout = (int)MIN(timeout, (guint)G_MAXINT / 1000);
    /* A running timer counts down the old value: start over with the new one. */
    if (d->idle_timer) {
        g_source_remove(d->idle_timer);
        d->idle_timer = 0;
    }
    idle_update(d);
}

static void
admin_set_timeout(guint timeout, gpointer data)
{
    sv_daemon_set_timeout(data, timeout);
}

void
sv_daemon_inhibit(SvDaemon *d)
{
    d->inhibitors++;
    idle_update(d);
}

void
sv_daemon_uninhibit(SvDaemon *d)
{
    g_return_if_fail(d->inhibitors > 0);
    d->inhibitors--;
    idle_update(d);
}

void
sv_daemon_hold(gpointer daemon, gboolean on)
{
    if (on)
        sv_daemon_inhibit(daemon);
    else
        sv_daemon_uninhibit(daemon);
}

static gboolean
on_quit_signal(gpointer data)
{
    SvDaemon *d = data;

    g_message("%s: signal received, shutting down", d->drv->name);
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_hup(gpointer data)
{
    SvDaemon *d = data;

    g_message("%s: SIGHUP ignored (nothing to reload)", d->drv->name);
    return G_SOURCE_CONTINUE;
}

/* Exclusive pid file: a second daemon with the same file refuses to start. */
static gboolean
pid_file_take(SvDaemon *d, GError **error)
{
    g_auto(SvFd) fd = -1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char buf[32];
    int n;

    fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to open pid file '%s'",
                           d->pid_path);
        return FALSE;
    }
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno,
                           "Failed to acquire pid file '%s' (is another %s running?)",
                           d->pid_path, d->drv->name);
        return FALSE;
    }
    n = g_snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, n) != n) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to write pid file '%s'",
                           d->pid_path);
        return FALSE;
    }
    d->pid_fd = g_steal_fd(&fd);
    return TRUE;
}

/* Bind one unix socket ourselves. A live daemon on the path is never taken over;
 * a stale socket file (connection refused) is replaced. */
static int
bind_socket(SvDaemon *d, const char *path, guint mode, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "UNIX socket path '%s' too long (%zu bytes, at most %zu)", path, strlen(path),
                     sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Failed to create socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_OPERATION_FAILED,
                     "another daemon is already listening on '%s'", path);
        return -1;
    }
    if (errno == ECONNREFUSED)
        unlink(path);
    sv_fd_clear(&fd);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Failed to bind socket to '%s'", path);
        return -1;
    }
    g_ptr_array_add(d->created_sockets, g_strdup(path));
    if (chmod(path, mode) < 0 || listen(fd, 256) < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Failed to set up socket '%s'", path);
        return -1;
    }
    return g_steal_fd(&fd);
}

/* How clients authenticate (programs/auth.h); SASL's configuration is libvirt's
 * /etc/sasl2/libvirt.conf, ROOT/etc/sasl2/libvirt.conf under --root. Only a daemon that
 * listens on the network (the proxy) reads the keys of TCP and TLS, as libvirt's. */
static gboolean
auth_setup(SvDaemon *d, GError **error)
{
    g_autofree char *sasl_dir = *d->root ? sv_daemon_path(d, "/etc/sasl2") : NULL;

    if (!sv_auth_config_load(&d->auth, d->conf, d->config_path, d->drv->listens_on_network,
                             error))
        return FALSE;
    sv_auth_setup(&d->auth, sasl_dir);
    return TRUE;
}

/* A unix socket's listener; the main server's clients pass auth_unix_rw or auth_unix_ro
 * (the admin socket's need nothing, as libvirt's). */
static void
add_unix_listener(SvDaemon *d, SvServer *srv, int fd, gboolean ro)
{
    sv_server_add_listener(srv, fd, ro);
    if (srv == d->server)
        sv_server_set_listener_auth(srv, fd, ro ? d->auth.unix_ro : d->auth.unix_rw);
}

/* Sockets handed over by systemd, matched on their unit names. Returns FALSE with
 * *error unset when there are none. */
static gboolean
sockets_from_systemd(SvDaemon *d, GError **error)
{
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    g_autofree char *rw = g_strdup_printf("%s.socket", d->drv->name);
    g_autofree char *ro = g_strdup_printf("%s-ro.socket", d->drv->name);
    g_autofree char *adm = g_strdup_printf("%s-admin.socket", d->drv->name);
    g_autofree char *tcp = g_strdup_printf("%s-tcp.socket", d->drv->name);
    g_autofree char *tls = g_strdup_printf("%s-tls.socket", d->drv->name);
    gboolean any = FALSE;

    if (n < 0) {
        sv_error_set_errno(error, SV_FROM_SYSTEMD, -n, "Failed to read LISTEN_FDS");
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        const char *name = names ? names[i] : "unknown";
        if (g_str_equal(name, rw)) {
            add_unix_listener(d, d->server, fd, FALSE);
        } else if (g_str_equal(name, ro)) {
            add_unix_listener(d, d->server, fd, TRUE);
        } else if (g_str_equal(name, adm)) {
            add_unix_listener(d, d->admin, fd, FALSE);
        } else if (d->drv->listens_on_network &&
                   (g_str_equal(name, tcp) || g_str_equal(name, tls))) {
            GArray **to = g_str_equal(name, tcp) ? &d->net_passed.tcp : &d->net_passed.tls;
            if (!*to)
                *to = g_array_new(FALSE, FALSE, sizeof(int));
            g_array_append_val(*to, fd);
        } else {
            g_warning("%s: ignoring socket %d named '%s' from systemd", d->drv->name, fd, name);
            close(fd);
            continue;
        }
        any = TRUE;
    }
    g_strfreev(names);
    if (n > 0 && !any) {
        sv_error_set(error, SV_FROM_SYSTEMD, SV_ERR_INTERNAL_ERROR,
                     "none of the %d sockets from systemd is named %s, %s or %s (LISTEN_FDNAMES)",
                     n, rw, ro, adm);
        return FALSE;
    }
    return any;
}

static gboolean
sockets_bind(SvDaemon *d, GError **error)
{
    g_autofree char *dir = sv_daemon_path(d, "/run/libvirt");
    guint rw_mode = 0600, ro_mode = 0666, admin_mode = 0600;
    g_autofree char *rw_s = NULL, *ro_s = NULL, *admin_s = NULL;
    const struct {
        const char *suffix;
        guint *mode;
        char **conf_mode;
        const char *key;
        SvServer *srv;
        gboolean ro;
    } socks[] = {
        {"sock", &rw_mode, &rw_s, "unix_sock_rw_perms", d->server, FALSE},
        {"sock-ro", &ro_mode, &ro_s, "unix_sock_ro_perms", d->server, TRUE},
        {"admin-sock", &admin_mode, &admin_s, "unix_sock_admin_perms", d->admin, FALSE},
    };

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to create directory '%s'", dir);
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(socks); i++) {
        g_autofree char *path = NULL;
        int fd;

        if (!sv_conf_file_get_string(d->conf, socks[i].key, socks[i].conf_mode, error))
            return FALSE;
        if (*socks[i].conf_mode) {
            char *end;
            guint64 m = g_ascii_strtoull(*socks[i].conf_mode, &end, 8);
            if (*end || m > 07777) {
                sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                             "%s must be an octal mode, not '%s'", socks[i].key,
                             *socks[i].conf_mode);
                return FALSE;
            }
            *socks[i].mode = (guint)m;
        }
        path = g_strdup_printf("%s/%s-%s", dir, d->drv->sock_prefix, socks[i].suffix);
        fd = bind_socket(d, path, *socks[i].mode, error);
        if (fd < 0)
            return FALSE;
        add_unix_listener(d, socks[i].srv, fd, socks[i].ro);
    }
    return TRUE;
}

static gboolean
server_config(SvDaemon *d, const char *prefix, SvServerConfig *cfg, GError **error)
{
    const struct {
        const char *key;
        guint *val;
    } keys[] = {
        {"max_clients", &cfg->max_clients},
        {"max_readonly_clients", &cfg->max_readonly_clients},
        {"max_anonymous_clients", &cfg->max_anonymous_clients},
        {"max_client_requests", &cfg->max_client_requests},
        {"keepalive_interval", &cfg->keepalive_interval},
        {"keepalive_count", &cfg->keepalive_count},
    };
    guint max_msg = (guint)cfg->max_message, max_out = (guint)cfg->max_client_output;

    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *key = g_strconcat(prefix, keys[i].key, NULL);
        if (!sv_conf_file_get_uint(d->conf, key, keys[i].val, error))
            return FALSE;
    }
    if (!sv_conf_file_get_uint(d->conf, "max_message_size", &max_msg, error) ||
        !sv_conf_file_get_uint(d->conf, "max_client_output", &max_out, error))
        return FALSE;
    if (cfg->max_client_requests == 0) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%smax_client_requests must be at least 1", prefix);
        return FALSE;
    }
    /* Reported by virt-admin only (no client ever waits for auth): a small max_clients
     * caps it rather than failing as libvirt would. */
    cfg->max_anonymous_clients = MIN(cfg->max_anonymous_clients, cfg->max_clients);
    cfg->max_message = MIN(max_msg, SV_MESSAGE_MAX);
    cfg->max_client_output = max_out;
    return TRUE;
}

/* The user virtproxyd runs as may hand over connections and identities
 * (`proxy_user`, default the build's proxy user; "root" or absent: root only). */
static gboolean
proxy_user_setup(SvDaemon *d, GError **error)
{
    g_autofree char *name = g_strdup(SV_PROXY_USER);
    struct passwd *pw;
    char *end;
    guint64 uid;

    if (!sv_conf_file_get_string(d->conf, "proxy_user", &name, error))
        return FALSE;
    if (!name || !*name || g_str_equal(name, "root"))
        return TRUE;
    uid = g_ascii_strtoull(name, &end, 10);
    if (*end) {
        /* Looked up once at start, before the loop runs. */
        pw = getpwnam(name);
        if (!pw) {
            g_debug("proxy user '%s' does not exist; only root may hand over clients", name);
            return TRUE;
        }
        uid = pw->pw_uid;
    }
    d->remote.proxy_uid = (uid_t)uid;
    return TRUE;
}

/* Descriptors the daemon keeps for itself beyond its clients' (listeners, log, pid
 * file, the loop's own, guests' monitors and logs, refused clients being answered). */
#define SV_DAEMON_FD_RESERVE 64

/* One limit cut to share of the room, at least 1. */
static guint
scaled(guint limit, guint64 room, guint64 total)
{
    return (guint)MAX(1, (guint64)limit * room / total);
}

/* Raise the soft descriptor limit to the hard one (a daemon started by hand keeps the
 * usual 1024), then make the client limits fit under it with our own needs, cutting
 * them in proportion with a warning when they do not: running out of descriptors
 * would otherwise lock everyone out, root included. */
static void
fit_client_limits(SvDaemon *d, SvServerConfig *cfg, SvServerConfig *admin_cfg)
{
    guint per = MAX(d->drv->fds_per_client, 1);
    guint64 clients, need, room;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    sv_process_set_child_nofile(rl.rlim_cur);
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
        else
            g_debug("cannot raise the descriptor limit to %llu: %s",
                    (unsigned long long)rl.rlim_max, g_strerror(errno));
    }
    clients = (guint64)per * (cfg->max_clients + cfg->max_readonly_clients) +
              admin_cfg->max_clients;
    need = clients + SV_DAEMON_FD_RESERVE;
    if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
        return;
    room = rl.rlim_cur > SV_DAEMON_FD_RESERVE + 3 ? rl.rlim_cur - SV_DAEMON_FD_RESERVE : 3;
    g_warning("%s: the descriptor limit (%llu) is below what the client limits need (%llu): "
              "max_clients %u -> %u, max_readonly_clients %u -> %u, admin_max_clients %u -> %u",
              d->drv->name, (unsigned long long)rl.rlim_cur, (unsigned long long)need,
              cfg->max_clients, scaled(cfg->max_clients, room, clients),
              cfg->max_readonly_clients, scaled(cfg->max_readonly_clients, room, clients),
              admin_cfg->max_clients, scaled(admin_cfg->max_clients, room, clients));
    cfg->max_clients = scaled(cfg->max_clients, room, clients);
    cfg->max_readonly_clients = scaled(cfg->max_readonly_clients, room, clients);
    admin_cfg->max_clients = scaled(admin_cfg->max_clients, room, clients);
    cfg->max_anonymous_clients = MIN(cfg->max_anonymous_clients, cfg->max_clients);
    admin_cfg->max_anonymous_clients = MIN(admin_cfg->max_anonymous_clients,
                                           admin_cfg->max_clients);
}

/* The listeners: systemd's sockets, else our own; the network ones of a daemon that
 * listens on the network. */
static gboolean
daemon_sockets(SvDaemon *d, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean activated = sockets_from_systemd(d, &local);

    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!activated && !sockets_bind(d, error))
        return FALSE;
    return !d->drv->listens_on_network ||
           sv_daemon_net_setup(d->server, d->conf, d->root, d->listen, activated,
                               &d->net_passed, &d->auth, error);
}

static gboolean
daemon_setup(SvDaemon *d, GError **error)
{
    SvServerConfig cfg, admin_cfg;
    g_autofree char *admin_name = g_strdup("admin");

    if (!d->config_path) {
        g_autofree char *name = g_strdup_printf("/etc/libvirt/%s.conf", d->drv->name);
        d->config_path = sv_daemon_path(d, name);
        d->conf = sv_conf_file_load(d->config_path, TRUE, error);
    } else {
        d->conf = sv_conf_file_load(d->config_path, FALSE, error);
    }
    if (!d->conf)
        return FALSE;
    sv_config_logging(d->conf, d->verbose);
    if (!proxy_user_setup(d, error) || !host_uuid_setup(d, error) || !auth_setup(d, error))
        return FALSE;
    if (d->timeout < 0) {
        guint t = 0;
        if (!sv_conf_file_get_uint(d->conf, "timeout", &t, error))
            return FALSE;
        d->timeout = (int)t;
    }
    sv_server_config_init(&cfg);
    sv_server_config_init(&admin_cfg);
    admin_cfg.max_clients = 5000;
    admin_cfg.max_anonymous_clients = 0; /* as libvirt's admin server */
    if (!server_config(d, "", &cfg, error) || !server_config(d, "admin_", &admin_cfg, error))
        return FALSE;
    fit_client_limits(d, &cfg, &admin_cfg);
    d->remote.driver_name = d->drv->driver_name;
    d->remote.family = d->drv->family;
    if (d->drv->relay_families) {
        d->family_run_dir = sv_daemon_path(d, "/run/libvirt");
        d->remote.family_run_dir = d->family_run_dir;
        d->remote.relay_families = d->drv->relay_families;
    }
    d->server = sv_server_new(d->drv->name, &cfg);
    d->admin = sv_server_new(admin_name, &admin_cfg);
    sv_server_set_clients_changed(d->server, clients_changed, d);
    sv_server_set_clients_changed(d->admin, clients_changed, d);
    d->admin_program = sv_admin_new(admin_set_timeout, d);
    sv_admin_add_server(d->admin_program, d->server);
    sv_admin_add_server(d->admin_program, d->admin);
    sv_admin_serve(d->admin_program, d->admin);

    if (!d->pid_path) {
        g_autofree char *name = g_strdup_printf("/run/%s.pid", d->drv->name);
        d->pid_path = sv_daemon_path(d, name);
    }
    {
        g_autofree char *dir = g_path_get_dirname(d->pid_path);
        if (g_mkdir_with_parents(dir, 0755) < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to create directory '%s'",
                               dir);
            return FALSE;
        }
    }
    if (!pid_file_take(d, error))
        return FALSE;

    /* The driver comes up before the sockets so no client sees it half ready. */
    sv_daemon_inhibit(d);
    if (!d->drv->init(d, error)) {
        sv_daemon_uninhibit(d);
        return FALSE;
    }
    sv_daemon_uninhibit(d);

    return daemon_sockets(d, error);
}

static void
daemon_cleanup(SvDaemon *d)
{
    if (d->idle_timer)
        g_source_remove(d->idle_timer);
    if (d->server)
        sv_server_close_listeners(d->server);
    if (d->admin)
        sv_server_close_listeners(d->admin);
    for (guint i = 0; i < d->created_sockets->len; i++)
        unlink(d->created_sockets->pdata[i]);
    /* Clients go first: their close hooks still reach the driver. The servers stay
     * allocated through the driver's cleanup, which may complete work that emits events. */
    sv_server_shutdown(d->server);
    sv_server_shutdown(d->admin);
    g_clear_pointer(&d->admin_program, sv_admin_free);
    if (d->drv->cleanup && d->driver_data)
        d->drv->cleanup(d);
    g_clear_pointer(&d->server, sv_server_free);
    g_clear_pointer(&d->admin, sv_server_free);
    if (d->pid_fd >= 0) {
        unlink(d->pid_path);
        close(d->pid_fd);
    }
    g_ptr_array_unref(d->created_sockets);
    sv_net_sockets_clear(&d->net_passed);
    sv_conf_file_free(d->conf);
    sv_auth_config_clear(&d->auth);
    g_main_loop_unref(d->loop);
    g_free(d->root);
    g_free(d->family_run_dir);
    g_free(d->config_path);
    g_free(d->host_uuid);
    g_free(d->pid_path);
}

int
sv_daemon_main(const SvDaemonDriver *drv, int argc, char **argv)
{
    SvDaemon d = {.drv = drv, .timeout = -1, .pid_fd = -1};
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *root = NULL;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        {"root", 'r', 0, G_OPTION_ARG_FILENAME, &root,
         "Keep every path (run, etc, lib, log, cache) under DIR", "DIR"},
        {"timeout", 't', 0, G_OPTION_ARG_INT, &d.timeout,
         "Exit after SECS seconds with no client and nothing running (0: never)", "SECS"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &d.verbose, "Log debug messages", NULL},
        {"config", 'f', 0, G_OPTION_ARG_FILENAME, &d.config_path, "Configuration file", "FILE"},
        {"pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &d.pid_path, "Pid file (locked)", "FILE"},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        G_OPTION_ENTRY_NULL,
        G_OPTION_ENTRY_NULL,
    };
    int status = EXIT_FAILURE;

    if (drv->listens_on_network)
        entries[G_N_ELEMENTS(entries) - 2] = (GOptionEntry){
            "listen", 'l', 0, G_OPTION_ARG_NONE, &d.listen,
            "Listen for TCP/IP connections (listen_tcp, listen_tls)", NULL};
    ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "splitvirt per-driver daemon");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", drv->name, error->message);
        return 2;
    }
    if (version) {
        printf("%s (splitvirt) %s\n", drv->name, SV_VERSION);
        return EXIT_SUCCESS;
    }
    if (root && !g_path_is_absolute(root)) {
        g_autofree char *cwd = g_get_current_dir();
        char *abs = g_build_filename(cwd, root, NULL);
        g_free(root);
        root = abs;
    }
    d.root = g_strdup(root ? root : "");
    /* A trailing slash would double the separator in every path. */
    while (strlen(d.root) > 1 && g_str_has_suffix(d.root, "/"))
        d.root[strlen(d.root) - 1] = '\0';
    sv_log_init(drv->name, d.verbose);
    signal(SIGPIPE, SIG_IGN);
    d.loop = g_main_loop_new(NULL, FALSE);
    d.created_sockets = g_ptr_array_new_with_free_func(g_free);

    if (!daemon_setup(&d, &error)) {
        g_critical("%s: %s", drv->name, error->message);
        sd_notifyf(0, "STATUS=Failed to start: %s", error->message);
        daemon_cleanup(&d);
        return EXIT_FAILURE;
    }
    g_unix_signal_add(SIGTERM, on_quit_signal, &d);
    g_unix_signal_add(SIGINT, on_quit_signal, &d);
    g_unix_signal_add(SIGHUP, on_hup, &d);
    idle_update(&d);
    sd_notify(0, "READY=1");
    g_debug("%s ready", drv->name);
    g_main_loop_run(d.loop);
    sd_notify(0, "STOPPING=1");
    status = EXIT_SUCCESS;
    daemon_cleanup(&d);
    return status;
}
