/* qemu_command_chr.c: the QEMU command line of the character devices and the small devices
 * kept with them, as libvirt 9.0 writes it for QEMU 7.2 (qemu_command_chr.h). */
#include "qemu_command_chr.h"

#include "qemu_argv.h"
#include "util/error.h"

/* The -chardev value for `src` with id `id`: QEMU 7.2 takes no JSON for -chardev, so every
 * value from XML is escaped (commas doubled). With descriptors (`fd`, at start), files are
 * fd sets and a listening socket its number, as libvirt writes them. (transfer full) */
static char *
chardev_value(const SvDomainChrSource *src, const char *id, const QemuChrFd *fd)
{
    GString *s = g_string_new(NULL);
    g_autofree char *path = src->path ? qemu_argv_escape(src->path) : NULL;
    gboolean listen = src->mode == SV_DOMAIN_CHR_MODE_BIND;

    switch (src->type) {
    case SV_DOMAIN_CHR_TYPE_NULL:
        g_string_append_printf(s, "null,id=%s", id);
        break;
    case SV_DOMAIN_CHR_TYPE_FILE:
        if (fd->source_fd >= 0)
            g_string_append_printf(s, "file,id=%s,path=/dev/fdset/%u,append=on", id,
                                   fd->source_set);
        else
            g_string_append_printf(s, "file,id=%s,path=%s%s%s", id, path,
                                   src->append != SV_DOMAIN_SWITCH_ABSENT ? ",append=" : "",
                                   src->append != SV_DOMAIN_SWITCH_ABSENT
                                       ? sv_domain_switch_to_string(src->append)
                                       : "");
        break;
    case SV_DOMAIN_CHR_TYPE_UNIX:
        /* A channel without a path got one at start (qemu_chr_prepare_channels). */
        g_assert(path);
        if (fd->source_fd >= 0)
            g_string_append_printf(s, "socket,id=%s,fd=%d,server=on,wait=off", id, fd->source_fd);
        else
            g_string_append_printf(s, "socket,id=%s,path=%s%s", id, path,
                                   listen ? ",server=on,wait=off" : "");
        break;
    case SV_DOMAIN_CHR_TYPE_TCP: {
        g_autofree char *host = qemu_argv_escape(src->host);
        g_autofree char *service = qemu_argv_escape(src->service);

        g_string_append_printf(s, "socket,id=%s,host=%s,port=%s%s%s", id, host, service,
                               src->protocol == SV_DOMAIN_CHR_TCP_TELNET ? ",telnet=on" : "",
                               listen ? ",server=on,wait=off" : "");
        break;
    }
    case SV_DOMAIN_CHR_TYPE_SPICEVMC:
        g_string_append_printf(s, "spicevmc,id=%s,name=vdagent", id);
        break;
    case SV_DOMAIN_CHR_TYPE_PTY:
    default:
        g_string_append_printf(s, "pty,id=%s", id);
        break;
    }
    if (src->log_file && fd->log_fd >= 0) {
        g_string_append_printf(s, ",logfile=/dev/fdset/%u,logappend=on", fd->log_set);
    } else if (src->log_file) {
        g_autofree char *log = qemu_argv_escape(src->log_file);

        g_string_append_printf(s, ",logfile=%s", log);
        if (src->log_append != SV_DOMAIN_SWITCH_ABSENT)
            g_string_append_printf(s, ",logappend=%s",
                                   sv_domain_switch_to_string(src->log_append));
    }
    return g_string_free(s, FALSE);
}

static void
add_fdset(GPtrArray *argv, guint set, int fd, const char *alias, const char *what)
{
    qemu_argv_add(argv, "-add-fd");
    qemu_argv_addf(argv, "set=%u,fd=%d,opaque=%s-%s", set, fd, alias, what);
}

static void
add_chardev(GPtrArray *argv, const QemuChrFds *fds, const SvDomainChrSource *src,
            const char *alias)
{
    g_autofree char *id = g_strconcat("char", alias, NULL);
    QemuChrFd fd = {-1, -1, 0, 0};

    qemu_chr_fds_lookup(fds, src, &fd);
    if (fd.source_fd >= 0 && src->type == SV_DOMAIN_CHR_TYPE_FILE)
        add_fdset(argv, fd.source_set, fd.source_fd, alias, "source");
    if (fd.log_fd >= 0)
        add_fdset(argv, fd.log_set, fd.log_fd, alias, "log");
    qemu_argv_add(argv, "-chardev");
    g_ptr_array_add(argv, chardev_value(src, id, &fd));
}

static void
build_serial(GPtrArray *argv, const QemuChrFds *fds, const SvDomainDef *def,
             const SvDomainChrDef *c)
{
    JsonObject *o = qemu_props_new(c->target_model ? c->target_model : "isa-serial");
    g_autofree char *chardev = g_strconcat("char", c->info.alias, NULL);

    add_chardev(argv, fds, &c->source, c->info.alias);
    qemu_props_str(o, "chardev", chardev);
    qemu_props_str(o, "id", c->info.alias);
    qemu_props_device_info(o, def, &c->info);
    /* The port number is the ISA serial's index; a PCI or USB serial has none. */
    if (g_strcmp0(c->target_type, "pci-serial") != 0 &&
        g_strcmp0(c->target_type, "usb-serial") != 0)
        qemu_props_int(o, "index", c->target_port);
    qemu_argv_add_json(argv, "-device", o);
}

/* A virtserialport or virtconsole on its virtio-serial bus. */
static void
build_virtio_port(GPtrArray *argv, const QemuChrFds *fds, const SvDomainChrDef *c,
                  const char *driver)
{
    JsonObject *o = qemu_props_new(driver);
    g_autofree char *chardev = g_strconcat("char", c->info.alias, NULL);
    const SvDomainSerialAddress *a = &c->info.addr.serial;

    add_chardev(argv, fds, &c->source, c->info.alias);
    if (c->info.addr.type == SV_DOMAIN_ADDRESS_VIRTIO_SERIAL) {
        g_autofree char *bus = g_strdup_printf("virtio-serial%u.%u", a->controller, a->bus);

        qemu_props_str(o, "bus", bus);
        qemu_props_int(o, "nr", a->port);
    }
    qemu_props_str(o, "chardev", chardev);
    qemu_props_str(o, "id", c->info.alias);
    if (c->source.type == SV_DOMAIN_CHR_TYPE_SPICEVMC && !c->target_name)
        qemu_props_str(o, "name", "com.redhat.spice.0");
    else
        qemu_props_str(o, "name", c->target_name);
    qemu_argv_add_json(argv, "-device", o);
}

void
qemu_command_build_chrs(const SvDomainDef *def, const QemuChrFds *fds, GPtrArray *argv)
{
    for (guint i = 0; i < def->serials->len; i++)
        build_serial(argv, fds, def, def->serials->pdata[i]);
    for (guint i = 0; i < def->channels->len; i++)
        build_virtio_port(argv, fds, def->channels->pdata[i], "virtserialport");
    for (guint i = 0; i < def->consoles->len; i++) {
        const SvDomainChrDef *c = def->consoles->pdata[i];

        if (g_strcmp0(c->target_type, "virtio") == 0)
            build_virtio_port(argv, fds, c, "virtconsole");
    }
}

static const char *
rng_driver(const SvDomainRngDef *rng)
{
    if (g_str_equal(rng->model, "virtio-transitional"))
        return "virtio-rng-pci-transitional";
    if (g_str_equal(rng->model, "virtio-non-transitional"))
        return "virtio-rng-pci-non-transitional";
    return "virtio-rng-pci";
}

static void
build_rng(GPtrArray *argv, const QemuChrFds *fds, const SvDomainDef *def,
          const SvDomainRngDef *rng)
{
    g_autofree char *obj_id = g_strconcat("obj", rng->info.alias, NULL);
    JsonObject *obj = qemu_props_new(NULL);
    JsonObject *dev;

    if (rng->backend == SV_DOMAIN_RNG_BACKEND_EGD)
        add_chardev(argv, fds, &rng->egd, rng->info.alias);
    qemu_props_str(obj, "qom-type", rng->backend == SV_DOMAIN_RNG_BACKEND_RANDOM ? "rng-random"
                                    : rng->backend == SV_DOMAIN_RNG_BACKEND_EGD  ? "rng-egd"
                                                                                 : "rng-builtin");
    qemu_props_str(obj, "id", obj_id);
    if (rng->backend == SV_DOMAIN_RNG_BACKEND_RANDOM)
        qemu_props_str(obj, "filename", rng->device);
    if (rng->backend == SV_DOMAIN_RNG_BACKEND_EGD) {
        g_autofree char *chardev = g_strconcat("char", rng->info.alias, NULL);
        qemu_props_str(obj, "chardev", chardev);
    }
    qemu_argv_add_json(argv, "-object", obj);
    dev = qemu_props_new(rng_driver(rng));
    qemu_props_str(dev, "rng", obj_id);
    qemu_props_str(dev, "id", rng->info.alias);
    qemu_props_device_info(dev, def, &rng->info);
    qemu_argv_add_json(argv, "-device", dev);
}

/* QEMU's -watchdog-action for libvirt's action: libvirt dumps the guest itself and has
 * QEMU pause it for that. */
static const char *
watchdog_action(SvDomainWatchdogAction a)
{
    return a == SV_DOMAIN_WATCHDOG_ACTION_DUMP ? "pause" : sv_domain_watchdog_action_to_string(a);
}

static void
build_balloon(GPtrArray *argv, const SvDomainDef *def, const SvDomainMemballoonDef *m)
{
    const char *driver = g_str_equal(m->model, "virtio-transitional")
                             ? "virtio-balloon-pci-transitional"
                         : g_str_equal(m->model, "virtio-non-transitional")
                             ? "virtio-balloon-pci-non-transitional"
                             : "virtio-balloon-pci";
    JsonObject *o = qemu_props_new(driver);

    qemu_props_str(o, "id", m->info.alias);
    if (m->autodeflate != SV_DOMAIN_SWITCH_ABSENT)
        qemu_props_bool(o, "deflate-on-oom", m->autodeflate == SV_DOMAIN_SWITCH_ON);
    if (m->free_page_reporting != SV_DOMAIN_SWITCH_ABSENT)
        qemu_props_bool(o, "free-page-reporting", m->free_page_reporting == SV_DOMAIN_SWITCH_ON);
    /* The id stays where it is set; this adds the place after it, as libvirt orders it. */
    qemu_props_device_info(o, def, &m->info);
    qemu_argv_add_json(argv, "-device", o);
}

void
qemu_command_build_chr_late(const SvDomainDef *def, const QemuChrFds *fds, GPtrArray *argv)
{
    if (def->watchdog) {
        JsonObject *o =
            qemu_props_new(sv_domain_watchdog_model_to_string(def->watchdog->model));

        qemu_props_str(o, "id", def->watchdog->info.alias);
        qemu_props_device_info(o, def, &def->watchdog->info);
        qemu_argv_add_json(argv, "-device", o);
        qemu_argv_add(argv, "-watchdog-action");
        qemu_argv_add(argv, watchdog_action(def->watchdog->action));
    }
    if (def->memballoon && !g_str_equal(def->memballoon->model, "none"))
        build_balloon(argv, def, def->memballoon);
    for (guint i = 0; i < def->rngs->len; i++)
        build_rng(argv, fds, def, def->rngs->pdata[i]);
}

void
qemu_command_build_panics(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->panics->len; i++) {
        const SvDomainPanicDef *p = def->panics->pdata[i];
        JsonObject *o;

        if (g_strcmp0(p->model, "isa") != 0)
            continue;
        o = qemu_props_new("pvpanic");
        if (p->info.addr.type == SV_DOMAIN_ADDRESS_ISA && p->info.addr.isa.iobase)
            qemu_props_int(o, "ioport", p->info.addr.isa.iobase);
        qemu_argv_add_json(argv, "-device", o);
    }
}
