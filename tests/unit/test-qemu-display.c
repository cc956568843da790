/* test-qemu-display.c: the display ports (qemu_ports.c) and the live state a start gives
 * displays (qemu_display_prepare, _release, _reserve). */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/domain_conf.h"
#include "qemu_display.h"
#include "qemu_ports.h"
#include "util/error.h"

/* A free port range of `n` ports of this host, high enough to be nobody's: the ports
 * after one the kernel hands out. */
static guint
free_base(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    guint port;

    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port < 60000 ? port : 40000;
}

/* A socket listening on 0.0.0.0:port, as another program would hold it. */
static int
hold_port(guint port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_ANY)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
test_ports(void)
{
    guint base = free_base();
    g_autoptr(QemuPorts) ports = qemu_ports_new("display", base, base + 3);
    g_autoptr(GError) error = NULL;
    guint a = 0, b = 0, c = 0, d = 0;
    int held = hold_port(base + 1);

    /* Two guests never share a port; one bound on the host is skipped. */
    g_assert_cmpint(held, >=, 0);
    g_assert_true(qemu_ports_acquire(ports, &a, &error));
    g_assert_true(qemu_ports_acquire(ports, &b, &error));
    g_assert_cmpuint(a, ==, base);
    g_assert_cmpuint(b, ==, base + 2);
    g_assert_true(qemu_ports_acquire(ports, &c, &error));
    g_assert_cmpuint(c, ==, base + 3);
    /* Exhausted: libvirt's error. */
    g_assert_false(qemu_ports_acquire(ports, &d, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "Unable to find an unused port in range 'display'"));
    g_clear_error(&error);
    /* Released, it is the first again. */
    qemu_ports_release(ports, a);
    g_assert_false(qemu_ports_is_used(ports, a));
    g_assert_true(qemu_ports_acquire(ports, &d, &error));
    g_assert_cmpuint(d, ==, a);
    close(held);
}

static SvDomainDef *
parse(const char *devices, guint flags)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>d</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices>%s</devices></domain>",
        devices);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, flags, &error);

    g_assert_no_error(error);
    return def;
}

/* A start's live state: the default address, a socket in the guest's directory, autoport
 * ports; the live XML shows them as libvirt's does, the inactive XML does not; a restart
 * reserves them again from the live XML, and the stop gives them back. */
static void
test_prepare_release(void)
{
    guint base = free_base();
    g_autoptr(QemuPorts) ports = qemu_ports_new("display", base, base + 9);
    g_autoptr(QemuPorts) restarted = qemu_ports_new("display", base, base + 9);
    g_autoptr(QemuPorts) ws = qemu_ports_new("websocket", base + 10, base + 19);
    g_autoptr(QemuPorts) ws_restarted = qemu_ports_new("websocket", base + 10, base + 19);
    g_autoptr(SvDomainDef) live =
        parse("<graphics type='vnc' port='-1' autoport='yes' websocket='-1'/>"
              "<graphics type='spice' autoport='yes'/>"
              "<graphics type='vnc' port='5999' autoport='no'><listen type='socket'/></graphics>",
              SV_DOMAIN_PARSE_INACTIVE);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) again = NULL;
    g_autofree char *xml = NULL, *inactive = NULL, *want = NULL;

    g_assert_true(qemu_display_prepare(live, ports, ws, "/run/g", &error));
    g_assert_no_error(error);
    xml = sv_domain_def_format(live, 1, 0);
    want = g_strdup_printf("<graphics type='vnc' port='%u' autoport='yes' websocket='%u' "
                           "listen='127.0.0.1'>\n"
                           "      <listen type='address' address='127.0.0.1'/>",
                           base, base + 10);
    g_assert_nonnull(strstr(xml, want));
    g_free(want);
    want = g_strdup_printf("<graphics type='spice' port='%u' autoport='yes' listen='127.0.0.1'>",
                           base + 1);
    g_assert_nonnull(strstr(xml, want));
    g_assert_nonnull(strstr(xml, "<listen type='socket' socket='/run/g/vnc.sock'/>"));
    inactive = sv_domain_def_format(live, 1, SV_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(inactive, "<graphics type='vnc' port='-1' autoport='yes'"));
    /* The daemon restarts: the status file's live XML, parsed as live state. */
    again = sv_domain_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    qemu_display_reserve(again, restarted, ws_restarted);
    g_assert_true(qemu_ports_is_used(restarted, base));
    g_assert_true(qemu_ports_is_used(restarted, base + 1));
    g_assert_true(qemu_ports_is_used(ws_restarted, base + 10));
    /* The stop. */
    qemu_display_release(live, ports, ws);
    g_assert_false(qemu_ports_is_used(ports, base));
    g_assert_false(qemu_ports_is_used(ports, base + 1));
    g_assert_false(qemu_ports_is_used(ws, base + 10));
}

/* Spice's port='-1' asks for a port as autoport does, and gives it back at stop. */
static void
test_spice_port_minus_one(void)
{
    guint base = free_base();
    g_autoptr(QemuPorts) ports = qemu_ports_new("display", base, base + 9);
    g_autoptr(QemuPorts) ws = qemu_ports_new("websocket", base + 10, base + 19);
    g_autoptr(SvDomainDef) live = parse("<graphics type='spice' port='-1'/>",
                                        SV_DOMAIN_PARSE_INACTIVE);
    const SvDomainGraphicsDef *g = live->graphics->pdata[0];
    g_autoptr(GError) error = NULL;

    g_autofree char *xml = NULL, *want = g_strdup_printf(
        "<graphics type='spice' port='%u' autoport='no' listen='127.0.0.1'>", base);

    g_assert_true(qemu_display_prepare(live, ports, ws, "/run/g", &error));
    g_assert_cmpint(g->port, ==, (int)base);
    g_assert_true(qemu_ports_is_used(ports, base));
    xml = sv_domain_def_format(live, 1, 0);
    g_assert_nonnull(strstr(xml, want));
    qemu_display_release(live, ports, ws);
    g_assert_false(qemu_ports_is_used(ports, base));
}

/* A port a definition names is taken too: a second guest naming it fails as libvirt's does,
 * and its failed start gives back nothing of the first's; autoport passes it by even before
 * QEMU listens on it. */
static void
test_named_ports(void)
{
    guint base = free_base();
    g_autoptr(QemuPorts) ports = qemu_ports_new("display", base, base + 9);
    g_autoptr(QemuPorts) ws = qemu_ports_new("websocket", base + 10, base + 19);
    g_autofree char *named = g_strdup_printf("<graphics type='vnc' port='%u' autoport='no'/>",
                                             base);
    g_autoptr(SvDomainDef) a = parse(named, SV_DOMAIN_PARSE_INACTIVE);
    g_autoptr(SvDomainDef) b = parse(named, SV_DOMAIN_PARSE_INACTIVE);
    g_autoptr(SvDomainDef) c = parse("<graphics type='vnc'/>", SV_DOMAIN_PARSE_INACTIVE);
    g_autoptr(GError) error = NULL;
    g_autofree char *want = g_strdup_printf("Failed to reserve port %u", base);

    g_assert_true(qemu_display_prepare(a, ports, ws, "/run/a", &error));
    g_assert_false(qemu_display_prepare(b, ports, ws, "/run/b", &error));
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, want));
    qemu_display_release(b, ports, ws);
    g_assert_true(qemu_ports_is_used(ports, base));
    g_clear_error(&error);
    g_assert_true(qemu_display_prepare(c, ports, ws, "/run/c", &error));
    g_assert_cmpint(((SvDomainGraphicsDef *)c->graphics->pdata[0])->port, ==, (int)base + 1);
    qemu_display_release(a, ports, ws);
    g_assert_false(qemu_ports_is_used(ports, base));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-display/ports", test_ports);
    g_test_add_func("/qemu-display/prepare-release", test_prepare_release);
    g_test_add_func("/qemu-display/spice-port-minus-one", test_spice_port_minus_one);
    g_test_add_func("/qemu-display/named-ports", test_named_ports);
    return g_test_run();
}
