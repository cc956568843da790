/* qemu_chr.c: what libvirt's QEMU driver checks and fills in for character devices and the
 * small devices kept with them, at define and at start (qemu_command_chr.h). */
#include "qemu_command_chr.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "qemu_command.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "qemu_virtiofs.h"
#include "util/error.h"

/* The serial models that go with each serial target type, as libvirt pairs them. */
static const struct {
    const char *type;
    const char *model;
} serial_models[] = {
    {"isa-serial", "isa-serial"}, {"usb-serial", "usb-serial"}, {"pci-serial", "pci-serial"},
    {"spapr-vio-serial", "spapr-vty"}, {"system-serial", "pl011"},
    {"sclp-serial", "sclpconsole"}, {"isa-debug", "isa-debugcon"},
};

static const char *
serial_type_of_model(const char *model)
{
    for (guint i = 0; i < G_N_ELEMENTS(serial_models); i++) {
        if (g_str_equal(serial_models[i].model, model))
            return serial_models[i].type;
    }
    /* sclplmconsole and 16550a: only on other architectures. */
    return NULL;
}

static gboolean
unsupported(GError **error, const char *what, const char *value)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                 "%s '%s' is not supported by splitvirt's QEMU driver", what, value);
    return FALSE;
}

static gboolean
check_serial(const SvDomainChrDef *c, GError **error)
{
    const char *type = c->target_type ? c->target_type : "isa-serial";

    if (c->target_model) {
        const char *needs = serial_type_of_model(c->target_model);

        if (g_strcmp0(needs, type) != 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Target model '%s' requires target type '%s'", c->target_model,
                         needs ? needs : "none");
            return FALSE;
        }
    }
    /* usb-serial gets its USB port with the other USB devices (qemu_usb.c). */
    if (!g_str_equal(type, "isa-serial") && !g_str_equal(type, "pci-serial") &&
        !g_str_equal(type, "usb-serial"))
        return unsupported(error, "serial target type", type);
    return TRUE;
}

static gboolean
check_chrs(const SvDomainDef *def, GError **error)
{
    GPtrArray *lists[] = {def->serials, def->consoles, def->channels};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainChrDef *c = lists[l]->pdata[i];

            /* spicevmc needs its server: spice graphics. */
            if (c->source.type == SV_DOMAIN_CHR_TYPE_SPICEVMC &&
                !sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_SPICE)) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                             "chardev 'spicevmc' not supported without spice graphics");
                return FALSE;
            }
            if (lists[l] == def->serials && !check_serial(c, error))
                return FALSE;
            if (lists[l] == def->consoles && c->target_type &&
                !g_str_equal(c->target_type, "serial") && !g_str_equal(c->target_type, "virtio"))
                return unsupported(error, "console target type", c->target_type);
        }
    }
    return TRUE;
}

gboolean
qemu_chr_check_def(const SvDomainDef *def, GError **error)
{
    if (!check_chrs(def, error))
        return FALSE;
    for (guint i = 0; i < def->panics->len; i++) {
        const SvDomainPanicDef *p = def->panics->pdata[i];

        /* hyperv's is a -cpu flag (hv-crash), which this driver does not write yet. */
        if (p->model && !g_str_equal(p->model, "isa"))
            return unsupported(error, "panic model", p->model);
    }
    if (def->watchdog && def->watchdog->model == SV_DOMAIN_WATCHDOG_DIAG288)
        return unsupported(error, "watchdog model", "diag288");
    if (def->memballoon && g_str_equal(def->memballoon->model, "xen"))
        return unsupported(error, "memballoon model", "xen");
    return qemu_fs_check_def(def, error);
}

/* ---- define-time defaults ------------------------------------------------------------------ */

static SvDomainChrDef *
console_stub(void)
{
    SvDomainChrDef *c = g_new0(SvDomainChrDef, 1);

    c->target_type = g_strdup("serial");
    return c;
}

static gboolean
chr_source_equal(const SvDomainChrSource *a, const SvDomainChrSource *b)
{
    return a->type == b->type && g_strcmp0(a->path, b->path) == 0 && a->mode == b->mode &&
           g_strcmp0(a->host, b->host) == 0 && g_strcmp0(a->service, b->service) == 0 &&
           a->protocol == b->protocol;
}

/* libvirt's console compatibility: an hvm guest's first console of target type serial (or
 * none) is its first serial port. A lone one becomes the serial; one differing from the
 * serial gives way to it; and a first isa serial gets a console standing for it. */
static gboolean
console_compat(SvDomainDef *def, GError **error)
{
    SvDomainChrDef *con = def->consoles->len ? def->consoles->pdata[0] : NULL;

    for (guint i = 1; i < def->consoles->len; i++) {
        if (g_strcmp0(((SvDomainChrDef *)def->consoles->pdata[i])->target_type, "serial") == 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "Only the first console can be a serial port");
            return FALSE;
        }
    }
    if (con && (!con->target_type || g_str_equal(con->target_type, "serial"))) {
        if (def->serials->len == 0) {
            SvDomainChrDef *serial = g_ptr_array_steal_index(def->consoles, 0);

            g_clear_pointer(&serial->target_type, g_free);
            serial->target_port = 0;
            g_ptr_array_add(def->serials, serial);
            g_ptr_array_insert(def->consoles, 0, console_stub());
        } else if (!chr_source_equal(&con->source,
                                     &((SvDomainChrDef *)def->serials->pdata[0])->source)) {
            g_ptr_array_remove_index(def->consoles, 0);
            g_ptr_array_insert(def->consoles, 0, console_stub());
        } else if (!con->target_type) {
            con->target_type = g_strdup("serial");
        }
        return TRUE;
    }
    if (def->serials->len &&
        g_strcmp0(((SvDomainChrDef *)def->serials->pdata[0])->target_type, "isa-serial") == 0)
        g_ptr_array_insert(def->consoles, 0, console_stub());
    return TRUE;
}

static void
serial_defaults(SvDomainDef *def)
{
    for (guint i = 0; i < def->serials->len; i++) {
        SvDomainChrDef *c = def->serials->pdata[i];

        if (!c->target_type)
            c->target_type = g_strdup("isa-serial");
        for (guint m = 0; !c->target_model && m < G_N_ELEMENTS(serial_models); m++) {
            if (g_str_equal(serial_models[m].type, c->target_type))
                c->target_model = g_strdup(serial_models[m].model);
        }
    }
}

static gboolean
is_virtio_port(const SvDomainChrDef *c)
{
    return g_strcmp0(c->target_type, "virtio") == 0;
}

static gboolean
has_controller(const SvDomainDef *def, SvDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == type && c->index == index)
            return TRUE;
    }
    return FALSE;
}

/* libvirt's virDomainDefMaybeAddController for a virtio-serial controller. */
static void
add_virtio_serial_controller(SvDomainDef *def, guint index)
{
    SvDomainControllerDef *c;

    if (has_controller(def, SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL, index))
        return;
    c = sv_domain_controller_def_new(SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL, index, NULL);
    g_ptr_array_add(def->controllers, c);
}

static gboolean
port_used(const SvDomainDef *def, guint controller, guint bus, guint port)
{
    for (guint i = 0; i < def->channels->len; i++) {
        const SvDomainDeviceAddress *a = &((SvDomainChrDef *)def->channels->pdata[i])->info.addr;

        if (a->type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL && a->serial.controller == controller &&
            a->serial.bus == bus && a->serial.port == port)
            return TRUE;
    }
    return FALSE;
}

/* The virtio-serial controllers the virtio ports need, and each channel's address: the
 * first free port from 1 on the controller's bus 0 (port 0 is the console's). */
static void
virtio_serial_defaults(SvDomainDef *def)
{
    GPtrArray *lists[] = {def->channels, def->consoles};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainChrDef *c = lists[l]->pdata[i];

            if (is_virtio_port(c))
                add_virtio_serial_controller(
                    def, c->info.addr.type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL
                             ? c->info.addr.serial.controller
                             : 0);
        }
    }
    for (guint i = 0; i < def->channels->len; i++) {
        SvDomainChrDef *c = def->channels->pdata[i];
        SvDomainDeviceAddress *a = &c->info.addr;
        guint port = 1;

        if (!is_virtio_port(c) ||
            (a->type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL && a->serial.port != 0))
            continue;
        if (a->type != SV_DOMAIN_ADDRESS_VIRTIO_SERIAL)
            memset(&a->serial, 0, sizeof(a->serial));
        while (port_used(def, a->serial.controller, a->serial.bus, port))
            port++;
        a->type = SV_DOMAIN_ADDRESS_VIRTIO_SERIAL;
        a->serial.port = port;
    }
}

gboolean
qemu_chr_post_parse(SvDomainDef *def, GError **error)
{
    /* libvirt's QEMU driver gives every x86 guest a balloon unless it says model='none'. */
    if (!def->memballoon) {
        def->memballoon = g_new0(SvDomainMemballoonDef, 1);
        def->memballoon->model = g_strdup("virtio");
    }
    serial_defaults(def);
    if (!console_compat(def, error))
        return FALSE;
    /* A serial made from a lone console gets its defaults too. */
    serial_defaults(def);
    for (guint i = 0; i < def->panics->len; i++) {
        SvDomainPanicDef *p = def->panics->pdata[i];

        if (!p->model)
            p->model = g_strdup("isa");
    }
    virtio_serial_defaults(def);
    return TRUE;
}

/* ---- aliases and start --------------------------------------------------------------------- */

static void
set_alias(SvDomainDeviceInfo *info, char *name)
{
    if (info->alias)
        g_free(name);
    else
        info->alias = name;
}

void
qemu_chr_assign_aliases(SvDomainDef *def)
{
    for (guint i = 0; i < def->channels->len; i++)
        set_alias(&((SvDomainChrDef *)def->channels->pdata[i])->info,
                  g_strdup_printf("channel%u", i));
    for (guint i = 0; i < def->rngs->len; i++)
        set_alias(&((SvDomainRngDef *)def->rngs->pdata[i])->info, g_strdup_printf("rng%u", i));
    if (def->watchdog)
        set_alias(&def->watchdog->info, g_strdup("watchdog0"));
    /* model='none' is no device: libvirt names it nothing. */
    if (def->memballoon && !g_str_equal(def->memballoon->model, "none"))
        set_alias(&def->memballoon->info, g_strdup("balloon0"));
}

/* A target name that stays a file name inside the channel directory. libvirt joins any
 * name to the directory ("../x" leaves it); splitvirt refuses those at start. */
static gboolean
check_channel_name(const char *name, GError **error)
{
    if (strchr(name, '/') || g_str_equal(name, ".") || g_str_equal(name, "..")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "channel target name '%s' cannot name a socket in the channel directory",
                     name);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_chr_prepare_channels(SvDomainDef *def, const char *channel_dir, int id, char **ret_dir,
                          GError **error)
{
    g_autofree char *dir_name = NULL;
    g_autofree char *dir = NULL;
    gboolean needed = FALSE;

    for (guint i = 0; i < def->channels->len; i++) {
        SvDomainChrDef *c = def->channels->pdata[i];
        const SvDomainSerialAddress *a = &c->info.addr.serial;

        if (c->source.type != SV_DOMAIN_CHR_TYPE_UNIX || c->source.path || !is_virtio_port(c))
            continue;
        if (!dir) {
            dir_name = qemu_domain_dir_name(id, def->name);
            dir = g_build_filename(channel_dir, dir_name, NULL);
        }
        if (c->target_name && !check_channel_name(c->target_name, error))
            return FALSE;
        if (c->target_name)
            c->source.path = g_build_filename(dir, c->target_name, NULL);
        else
            c->source.path = g_strdup_printf("%s/vioser-%02u-%02u-%02u.sock", dir, a->controller,
                                             a->bus, a->port);
        c->source.mode = SV_DOMAIN_CHR_MODE_BIND;
        needed = TRUE;
    }
    *ret_dir = needed ? g_steal_pointer(&dir) : NULL;
    return TRUE;
}

char *
qemu_chr_channel_dir(const char *lib_dir)
{
    return g_build_filename(lib_dir, "channel", "target", NULL);
}

void
qemu_chr_remove_channels(const SvDomainDef *def, const char *channel_dir)
{
    for (guint i = 0; i < def->channels->len; i++) {
        const SvDomainChrDef *c = def->channels->pdata[i];
        g_autofree char *dir = NULL;
        g_autofree char *parent = NULL;

        if (c->source.type != SV_DOMAIN_CHR_TYPE_UNIX || !c->source.path)
            continue;
        dir = g_path_get_dirname(c->source.path);
        parent = g_path_get_dirname(dir);
        /* Only the sockets of the guest's own directory, which the start made. */
        if (!g_str_equal(parent, channel_dir))
            continue;
        unlink(c->source.path);
        rmdir(dir);
    }
}

/* What query-chardev tells of one chardev (`c`, labelled "charchannel1", "charconsole0"...):
 * the pty QEMU gave a channel or a virtio console, and whether the guest opened a virtio
 * channel ("frontend-open"), as libvirt shows them in live XML. */
void
qemu_chr_learn_chardev(SvDomainDef *def, JsonObject *c)
{
    const char *label = qemu_json_string(c, "label");
    const char *file = qemu_json_string(c, "filename");
    const struct {
        const char *prefix;
        GPtrArray *list;
    } kinds[] = {{"charchannel", def->channels}, {"charconsole", def->consoles}};

    for (guint k = 0; label && k < G_N_ELEMENTS(kinds); k++) {
        SvDomainChrDef *chr;
        guint64 n;

        if (!g_str_has_prefix(label, kinds[k].prefix) ||
            !g_ascii_string_to_unsigned(label + strlen(kinds[k].prefix), 10, 0, G_MAXUINT, &n,
                                        NULL) ||
            n >= kinds[k].list->len)
            continue;
        chr = kinds[k].list->pdata[n];
        if (chr->source.type == SV_DOMAIN_CHR_TYPE_PTY && file && g_str_has_prefix(file, "pty:")) {
            g_free(chr->source.path);
            chr->source.path = g_strdup(file + 4);
        }
        if (kinds[k].list == def->channels && g_strcmp0(chr->target_type, "virtio") == 0 &&
            json_object_has_member(c, "frontend-open")) {
            g_free(chr->target_state);
            chr->target_state = g_strdup(qemu_json_bool(c, "frontend-open", FALSE)
                                             ? "connected"
                                             : "disconnected");
        }
    }
}

void
qemu_chr_port_changed(SvDomainDef *def, JsonObject *data)
{
    const char *id = data ? qemu_json_string(data, "id") : NULL;

    for (guint i = 0; id && i < def->channels->len; i++) {
        SvDomainChrDef *c = def->channels->pdata[i];

        if (g_strcmp0(c->info.alias, id) != 0 || g_strcmp0(c->target_type, "virtio") != 0)
            continue;
        g_free(c->target_state);
        c->target_state =
            g_strdup(qemu_json_bool(data, "open", FALSE) ? "connected" : "disconnected");
    }
}

JsonObject *
qemu_chr_balloon_period_args(const SvDomainMemballoonDef *balloon)
{
    JsonObject *args = json_object_new();
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", balloon->info.alias);

    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "guest-stats-polling-interval");
    json_object_set_int_member(args, "value", balloon->stats_period);
    return args;
}

/* ---- descriptors QEMU gets at start ------------------------------------------------------- */

typedef struct {
    const SvDomainChrSource *src;
    int source_fd; /* a file or a listening socket, or -1 */
    int log_fd;    /* the <log> file, or -1 */
    guint source_set;
    guint log_set;
} ChrFd;

struct QemuChrFds {
    GArray *entries; /* of ChrFd, in command-line order */
    GArray *numbers; /* of int: every descriptor, for QEMU to keep */
};

void
qemu_chr_fds_free(QemuChrFds *fds)
{
    if (!fds)
        return;
    for (guint i = 0; i < fds->numbers->len; i++)
        close(g_array_index(fds->numbers, int, i));
    g_array_unref(fds->entries);
    g_array_unref(fds->numbers);
    g_free(fds);
}

void
qemu_chr_foreach_source(const SvDomainDef *def, QemuChrSourceFunc func, gpointer data)
{
    for (guint i = 0; i < def->serials->len; i++)
        func(&((SvDomainChrDef *)def->serials->pdata[i])->source, data);
    for (guint i = 0; i < def->channels->len; i++)
        func(&((SvDomainChrDef *)def->channels->pdata[i])->source, data);
    for (guint i = 0; i < def->consoles->len; i++) {
        const SvDomainChrDef *c = def->consoles->pdata[i];
        if (is_virtio_port(c))
            func(&c->source, data);
    }
    for (guint i = 0; i < def->rngs->len; i++) {
        const SvDomainRngDef *r = def->rngs->pdata[i];
        if (r->backend == SV_DOMAIN_RNG_BACKEND_EGD)
            func(&r->egd, data);
    }
}

/* A file QEMU writes, opened as libvirt opens it: created, appended to or truncated. */
static int
open_chr_file(const char *path, gboolean append, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | (append ? O_APPEND : O_TRUNC),
                  0600);

    if (fd < 0)
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Unable to open '%s'", path);
    return fd;
}

/* Files go to QEMU through fd sets (-add-fd set=N), numbered in command-line order;
 * listening sockets by their number. */
typedef struct {
    QemuChrFds *fds;
    guint next_set;
    GError *error;
} OpenState;

static void
open_source(const SvDomainChrSource *src, gpointer data)
{
    OpenState *st = data;
    ChrFd e = {src, -1, -1, 0, 0};
    GArray *numbers = st->fds->numbers;

    if (st->error)
        return;
    if (src->type == SV_DOMAIN_CHR_TYPE_FILE)
        e.source_fd = open_chr_file(src->path, src->append == SV_DOMAIN_SWITCH_ON, &st->error);
    else if (src->type == SV_DOMAIN_CHR_TYPE_UNIX && src->mode == SV_DOMAIN_CHR_MODE_BIND)
        e.source_fd = qemu_listen_unix(src->path, "character device socket", &st->error);
    if (e.source_fd >= 0) {
        g_array_append_val(numbers, e.source_fd);
        if (src->type == SV_DOMAIN_CHR_TYPE_FILE)
            e.source_set = st->next_set++;
    }
    if (!st->error && src->log_file) {
        e.log_fd = open_chr_file(src->log_file, src->log_append == SV_DOMAIN_SWITCH_ON,
                                 &st->error);
        if (e.log_fd >= 0) {
            g_array_append_val(numbers, e.log_fd);
            e.log_set = st->next_set++;
        }
    }
    if (e.source_fd >= 0 || e.log_fd >= 0)
        g_array_append_val(st->fds->entries, e);
}

QemuChrFds *
qemu_chr_fds_open(const SvDomainDef *def, GError **error)
{
    OpenState st = {g_new0(QemuChrFds, 1), 0, NULL};

    st.fds->entries = g_array_new(FALSE, FALSE, sizeof(ChrFd));
    st.fds->numbers = g_array_new(FALSE, FALSE, sizeof(int));
    qemu_chr_foreach_source(def, open_source, &st);
    if (st.error) {
        g_propagate_error(error, st.error);
        qemu_chr_fds_free(st.fds);
        return NULL;
    }
    return st.fds;
}

const int *
qemu_chr_fds_numbers(const QemuChrFds *fds, guint *ret_n)
{
    *ret_n = fds ? fds->numbers->len : 0;
    return fds ? (const int *)(gpointer)fds->numbers->data : NULL;
}

gboolean
qemu_chr_fds_lookup(const QemuChrFds *fds, const SvDomainChrSource *src, QemuChrFd *ret)
{
    for (guint i = 0; fds && i < fds->entries->len; i++) {
        const ChrFd *e = &g_array_index(fds->entries, ChrFd, i);

        if (e->src != src)
            continue;
        ret->source_fd = e->source_fd;
        ret->log_fd = e->log_fd;
        ret->source_set = e->source_set;
        ret->log_set = e->log_set;
        return TRUE;
    }
    return FALSE;
}
