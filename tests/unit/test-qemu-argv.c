/* test-qemu-argv.c: golden QEMU command lines: tests/data/qemu-argv/CASE.xml beside
 * CASE.args (one argument per line) or CASE.err (code domain message), against the facts
 * of a QEMU 7.2 probe captured in tests/data/qemu-argv/probe. Then hostile values in
 * every element that reaches the command line (tests/data/qemu-argv/hostile): each is
 * refused or leaves the command line's shape (its arguments, options and keys) as it
 * is, and what happened to each is compared with hostile/outcomes.txt. A CASE.out, where
 * there is one, holds the definition as a define leaves it (its inactive XML). Cases named
 * err-* or AREA-err-* expect an error.
 * SV_REGENERATE=1 rewrites the expected files instead of comparing. */
#include <string.h>

#include <gnutls/crypto.h>
#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"
#include "qemu_alias.h"
#include "qemu_caps.h"
#include "qemu_command.h"
#include "qemu_command_net.h"
#include "qemu_command_chr.h"
#include "qemu_postparse.h"
#include "qemu_secret.h"
#include "qemu_virtiofs.h"
#include "util/error.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static const char *data_dir = SV_TEST_DATA_DIR;
static QemuCaps *caps;

static char *
probe_output(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/probe/%s", data_dir, name);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static QemuCaps *
captured_caps(void)
{
    g_autofree char *version = probe_output("version.txt");
    g_autofree char *qmp = probe_output("qmp.txt");
    g_autofree char *cpus = probe_output("cpu-help.txt");
    g_autofree char *devices = probe_output("device-help.txt");

    return qemu_caps_new_from_output(QEMU, version, qmp, NULL, cpus, devices);
}

static void
compare_golden(const char *want_path, const char *got)
{
    g_autofree char *want = NULL;

    if (g_getenv("SV_REGENERATE"))
        g_assert_true(g_file_set_contents(want_path, got, -1, NULL));
    g_assert_true(g_file_get_contents(want_path, &want, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
}

/* What a start opens for the guest's taps, with made-up fd numbers: interface i gets
 * 100 + 10 * i + queue for its taps and 200 + 10 * i + queue for vhost-net, as if
 * /dev/vhost-net were there. (transfer full: g_free) */
static QemuNetFds *
fake_net_fds(const SvDomainDef *def)
{
    QemuNetFds *fds = g_new0(QemuNetFds, def->interfaces->len + 1);

    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        guint queues = qemu_net_queue_count(n);

        if (!qemu_net_uses_tap(n) || queues > QEMU_NET_MAX_QUEUES)
            continue;
        for (guint q = 0; q < queues; q++) {
            fds[i].tapfds[fds[i].n_tapfds++] = (int)(100 + 10 * i + q);
            if (qemu_net_wants_vhost(def, n))
                fds[i].vhostfds[fds[i].n_vhostfds++] = (int)(200 + 10 * i + q);
        }
    }
    return fds;
}

/* What a start does to its live copy before the command line: aliases, and the channel
 * sockets' paths in libvirt's channel directory, with the id domxml-to-native shows (-1). */
static gboolean
start_steps(SvDomainDef *def, GError **error)
{
    g_autofree char *channel_dir = NULL;
    g_autofree char *dir_name = qemu_domain_dir_name(-1, def->name);
    g_autofree char *dir = g_build_filename("/var/lib/libvirt/qemu", dir_name, NULL);

    qemu_domain_assign_aliases(def);
    qemu_virtiofs_prepare_sockets(def, dir);
    return qemu_chr_prepare_channels(def, "/var/lib/libvirt/qemu/channel/target", -1,
                                     &channel_dir, error);
}

/* When CASE.out exists: the definition as a define leaves it (dumpxml --inactive),
 * compared with it. */
static void
check_defined(const char *xml_path, const SvDomainDef *def)
{
    g_autofree char *base = g_strndup(xml_path, strlen(xml_path) - strlen(".xml"));
    g_autofree char *out_path = g_strconcat(base, ".out", NULL);
    g_autofree char *got = NULL;

    if (!g_file_test(out_path, G_FILE_TEST_EXISTS))
        return;
    got = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    compare_golden(out_path, got);
}

static char *
render(const char *xml_path)
{
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    g_autofree QemuNetFds *fds = NULL;
    QemuCommandOptions opts = {.emulator = QEMU, .monitor_fd = 3, .caps = caps};

    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    /* Generated MAC addresses, the same in every run. */
    sv_domain_net_seed_mac(17);
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    /* As a define, then a start do. */
    if (!qemu_domain_def_post_parse(def, caps, &error))
        return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error),
                               error->message);
    check_defined(xml_path, def);
    if (!start_steps(def, &error))
        return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error),
                               error->message);
    fds = fake_net_fds(def);
    opts.net_fds = fds;
    argv = qemu_command_build(def, &opts, &error);
    if (!argv)
        return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error),
                               error->message);
    {
        g_autofree char *joined = g_strjoinv("\n", argv);
        return g_strconcat(joined, "\n", NULL);
    }
}

static void
check_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autofree char *got = render(xml);
    /* "err-CASE", or an area's "AREA-err-CASE". */
    gboolean is_err = g_str_has_prefix(name, "err-") || strstr(name, "-err-") != NULL;
    g_autofree char *want_path =
        g_strdup_printf("%s/%s.%s", data_dir, name, is_err ? "err" : "args");

    compare_golden(want_path, got);
}

/* The probe parsers on captured output: what -cpu and -device list. */
static void
test_probe_parsers(void)
{
    g_autoptr(QemuCaps) c = captured_caps();

    g_assert_cmpuint(qemu_caps_get_version(c), ==, 7002022);
    g_assert_true(qemu_caps_has_machine(c, "pc"));
    g_assert_true(qemu_caps_has_machine(c, "pc-q35-7.2"));
    g_assert_false(qemu_caps_has_machine(c, "pc,usb=on"));
    g_assert_true(qemu_caps_has_cpu_model(c, "qemu64"));
    g_assert_true(qemu_caps_has_cpu_model(c, "Broadwell-noTSX-IBRS"));
    g_assert_true(qemu_caps_has_cpu_model(c, "max"));
    g_assert_false(qemu_caps_has_cpu_model(c, "3dnow")); /* a CPUID flag, not a model */
    g_assert_false(qemu_caps_has_cpu_model(c, "Available"));
    g_assert_true(qemu_caps_has_nic_model(c, "e1000"));
    g_assert_true(qemu_caps_has_nic_model(c, "virtio-net-pci"));
    g_assert_true(qemu_caps_has_nic_model(c, "virtio-net")); /* its alias */
    g_assert_true(qemu_caps_has_nic_model(c, "rtl8139"));
    g_assert_false(qemu_caps_has_nic_model(c, "ne2k_isa"));  /* ISA, not PCI */
    g_assert_false(qemu_caps_has_nic_model(c, "usb-net"));   /* USB */
    g_assert_false(qemu_caps_has_nic_model(c, "virtio-blk-pci")); /* not a network device */
    g_assert_false(qemu_caps_has_nic_model(c, "pci-testdev"));
}

/* ---------------------------------------------------------------- hostile values */

typedef struct {
    const char *placeholder;
    const char *benign;
} Element;

static const Element elements[] = {
    {"@NAME@", "guest"},
    {"@MACHINE@", "pc"},
    {"@KERNEL@", "/boot/vmlinuz"},
    {"@INITRD@", "/boot/initrd.img"},
    {"@CMDLINE@", "console=ttyS0"},
    {"@CPU@", "qemu64"},
    {"@EMULATOR@", QEMU},
    {"@DISK@", "/var/lib/images/disk.img"},
    {"@TARGET@", "vda"},
    {"@MAC@", "52:54:00:12:34:56"},
    {"@TAP@", "tap0"},
    {"@BRIDGE@", "br0"},
    {"@NICMODEL@", "virtio"},
    {"@SERIAL@", "/var/log/serial.log"},
    {"@SMBIOSVENDOR@", "ACME"},
    {"@SMBIOSSERIAL@", "S-1"},
    {"@OEMSTRING@", "key=value"},
    /* cpu, vcpus, memory and tuning */
    {"@CPUFEATURE@", "sse4.2"},
    /* ---- disks and controllers ---- */
    {"@DSERIAL@", "SN1234"},
    {"@BACKING@", "/var/lib/images/base.qcow2"},
    {"@NETNAME@", "/images/install.iso"},
    {"@NETHOST@", "mirror.example.org"},
    {"@NBDSOCK@", "/run/nbd.sock"},
    {"@LOG@", "/var/log/serial.qlog"},
    {"@UNIXPATH@", "/run/serial.sock"},
    {"@HOST@", "127.0.0.1"},
    {"@SERVICE@", "4555"},
    {"@CHANNEL@", "org.qemu.guest_agent.0"},
    {"@RNG@", "/dev/urandom"},
    {"@LISTEN@", "127.0.0.1"},
    {"@PASSWD@", "secret"},
    {"@KEYMAP@", "de"},
    {"@SOCKET@", "/run/spice.sock"},
    {"@BIOS@", "/usr/share/seabios/bios.bin"},
    /* usb ports */
    {"@USBPORT@", "2"},
    /* filesystems (virtiofs, then 9p) */
    {"@FSDIR@", "/srv/share"},
    {"@FSTAG@", "share"},
    {"@9PDIR@", "/srv/9p"},
    {"@9PTAG@", "ninep"},
    /* capabilities: the hyperv vendor_id domcaps lists */
    {"@HVVENDOR@", "KVMKVMKVM"},
};

typedef struct {
    const char *name;
    const char *value;
} Hostile;

static const Hostile hostile_values[] = {
    {"comma", "x,id=evil"},
    {"commas", "x,,y=z"},
    {"equals", "x=y"},
    {"dash", "-S"},
    {"dashes", "--daemonize"},
    {"device", "e1000,romfile=/etc/shadow"},
    {"newline", "x\n-S"},
    {"space", "x -S"},
    {"trailing", "x,"},
    {"long", NULL}, /* 5000 bytes, below */
};

/* XML-escaped, newlines kept (attribute values would fold them into spaces). */
static char *
xml_escape(const char *v)
{
    GString *out = g_string_new(NULL);

    for (; *v; v++) {
        switch (*v) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\n': g_string_append(out, "&#10;"); break;
        default: g_string_append_c(out, *v);
        }
    }
    return g_string_free(out, FALSE);
}

/* The base document with `value` in element `which` (-1: none) and benign values
 * elsewhere. */
static char *
hostile_xml(const char *base, int which, const char *value)
{
    g_autofree char *doc = g_strdup(base);

    for (guint i = 0; i < G_N_ELEMENTS(elements); i++) {
        g_auto(GStrv) parts = g_strsplit(doc, elements[i].placeholder, -1);
        g_autofree char *v = xml_escape((int)i == which ? value : elements[i].benign);
        g_free(doc);
        doc = g_strjoinv(v, parts);
    }
    return g_steal_pointer(&doc);
}

/* The member names of a JSON option argument, nested objects' in braces, in order. */
static void
json_keys(JsonNode *node, GString *keys)
{
    JsonObject *o;
    g_autoptr(GList) members = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(node))
        return;
    o = json_node_get_object(node);
    members = json_object_get_members(o);
    g_string_append_c(keys, '{');
    for (GList *m = members; m; m = m->next) {
        g_string_append_printf(keys, "%s|", (const char *)m->data);
        json_keys(json_object_get_member(o, m->data), keys);
    }
    g_string_append_c(keys, '}');
}

/* The keys of an option argument as QEMU's option parser sees them: comma-separated
 * pieces (",," is a comma inside a value), each "key=value" or a bare positional one;
 * for a JSON argument, its member names (a value that is no JSON object is its own key). */
static char *
option_keys(const char *arg)
{
    GString *keys = g_string_new(NULL);
    gboolean in_value = FALSE;

    if (arg[0] == '{') {
        g_autoptr(JsonParser) parser = json_parser_new();

        if (json_parser_load_from_data(parser, arg, -1, NULL))
            json_keys(json_parser_get_root(parser), keys);
        else
            g_string_append(keys, arg);
        return g_string_free(keys, FALSE);
    }

    for (const char *p = arg; *p; p++) {
        if (*p == ',' && p[1] == ',') {
            p++;
            continue;
        }
        if (*p == ',') {
            g_string_append_c(keys, '|');
            in_value = FALSE;
            continue;
        }
        if (*p == '=')
            in_value = TRUE;
        else if (!in_value)
            g_string_append_c(keys, *p);
    }
    return g_string_free(keys, FALSE);
}

/* Whether argv has the shape of want: as many arguments, options where options were, and
 * the same keys in every option argument; values of options QEMU takes whole (-kernel,
 * -initrd, -append, -bios) and the program name are values, whatever they contain. */
static void
assert_same_shape(GStrv want, GStrv argv, const char *what)
{
    guint n = g_strv_length(want);

    if (g_strv_length(argv) != n)
        g_error("%s: %u arguments instead of %u", what, g_strv_length(argv), n);
    for (guint i = 1; i < n; i++) {
        const char *prev = want[i - 1];
        g_autofree char *k1 = NULL, *k2 = NULL;
        if (g_str_equal(prev, "-kernel") || g_str_equal(prev, "-initrd") ||
            g_str_equal(prev, "-append") || g_str_equal(prev, "-k") ||
            g_str_equal(prev, "-bios"))
            continue;
        if ((want[i][0] == '-') != (argv[i][0] == '-'))
            g_error("%s: argument %u '%s' where '%s' was", what, i, argv[i], want[i]);
        /* Keys, and positional pieces (a device or machine type) as they were. */
        k1 = option_keys(want[i]);
        k2 = option_keys(argv[i]);
        if (!g_str_equal(k1, k2))
            g_error("%s: argument %u '%s' has keys '%s', not '%s'", what, i, argv[i], k2, k1);
    }
}

/* One hostile case: its outcome, for the golden file; the shape checked when it runs. */
static char *
hostile_case(const char *base, GStrv want, int which, const char *value)
{
    g_autofree char *xml = hostile_xml(base, which, value);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    QemuCommandOptions opts = {.emulator = QEMU, .monitor_fd = 3, .caps = caps};
    g_auto(GStrv) argv = NULL;
    g_autofree QemuNetFds *fds = NULL;

    if (!def)
        return g_strdup_printf("define: %d %d", error->code, sv_error_get_from(error));
    if (!qemu_domain_def_post_parse(def, caps, &error))
        return g_strdup_printf("define: %d %d", error->code, sv_error_get_from(error));
    fds = fake_net_fds(def);
    opts.net_fds = fds;
    if (!qemu_command_check_emulator(qemu_command_emulator(def, QEMU), QEMU, NULL, FALSE,
                                     &error))
        return g_strdup_printf("emulator: %d %d", error->code, sv_error_get_from(error));
    if (!start_steps(def, &error))
        return g_strdup_printf("start: %d %d", error->code, sv_error_get_from(error));
    argv = qemu_command_build(def, &opts, &error);
    if (!argv)
        return g_strdup_printf("start: %d %d", error->code, sv_error_get_from(error));
    assert_same_shape(want, argv, elements[which].placeholder);
    return g_strdup("runs, same shape");
}

static void
test_hostile_values(void)
{
    g_autofree char *base_path = g_strdup_printf("%s/hostile/base.xml", data_dir);
    g_autofree char *out_path = g_strdup_printf("%s/hostile/outcomes.txt", data_dir);
    g_autofree char *base = NULL, *base_xml = NULL, *longv = g_strnfill(5000, 'A');
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autoptr(GString) got = g_string_new(NULL);
    QemuCommandOptions opts = {.emulator = QEMU, .monitor_fd = 3, .caps = caps};
    g_auto(GStrv) want = NULL;
    g_autofree QemuNetFds *fds = NULL;

    g_assert_true(g_file_get_contents(base_path, &base, NULL, NULL));
    base_xml = hostile_xml(base, -1, NULL);
    def = sv_domain_def_parse(base_xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    g_assert_true(qemu_domain_def_post_parse(def, caps, &error));
    g_assert_true(start_steps(def, &error));
    fds = fake_net_fds(def);
    opts.net_fds = fds;
    want = qemu_command_build(def, &opts, &error);
    g_assert_no_error(error);
    for (guint e = 0; e < G_N_ELEMENTS(elements); e++) {
        for (guint h = 0; h < G_N_ELEMENTS(hostile_values); h++) {
            for (int path = 0; path < 2; path++) {
                const char *raw = hostile_values[h].value ? hostile_values[h].value : longv;
                g_autofree char *value = g_strconcat(path ? "/p/" : "", raw, NULL);
                g_autofree char *outcome = hostile_case(base, want, (int)e, value);
                g_autofree char *label = g_strconcat(path ? "/p/" : "", hostile_values[h].name,
                                                     NULL);
                g_string_append_printf(got, "%-11s %-12s %s\n", elements[e].placeholder, label,
                                       outcome);
            }
        }
    }
    compare_golden(out_path, got->str);
}

/* A graphics password is set through QMP after start, never on the command line (where any
 * user of the host could read it). */
static void
test_display_password(void)
{
    static const char *const xml =
        "<domain type='qemu'><name>pw</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices>"
        "<graphics type='vnc' passwd='VncSecr1'/>"
        "<graphics type='spice' autoport='yes' passwd='Spice-Secret-2'/>"
        "</devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    QemuCommandOptions opts = {.emulator = QEMU, .monitor_fd = 3, .caps = caps};
    g_auto(GStrv) argv = NULL;
    g_autofree char *joined = NULL;

    g_assert_no_error(error);
    g_assert_true(qemu_domain_def_post_parse(def, caps, &error));
    qemu_domain_assign_aliases(def);
    argv = qemu_command_build(def, &opts, &error);
    g_assert_no_error(error);
    joined = g_strjoinv("\n", argv);
    g_assert_nonnull(strstr(joined, "password=on"));
    g_assert_null(strstr(joined, "disable-ticketing"));
    g_assert_null(strstr(joined, "Secret"));
}

/* LUKS disks: the master key's object right after -S, each disk's secret object before its
 * nodes, and its format node opened with it, in libvirtd 9.0's forms (its own command line
 * for the same two disks, qcow2 with <encryption> in <source> and raw at the disk's level,
 * with the data and IV it chose). */
static void
test_luks_disks(void)
{
    static const char *const xml =
        "<domain type='qemu'><name>luks</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/i/e.qcow2'><encryption format='luks'><secret type='passphrase' "
        "uuid='1f0c8a3e-6d2b-4c7a-9e15-3b8d6f4a2c07'/></encryption></source>"
        "<target dev='vda' bus='virtio'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/i/e.luks'/><target dev='vdb' bus='virtio'/><encryption format='luks'>"
        "<secret type='passphrase' usage='/i/e.luks'/></encryption></disk>"
        "</devices></domain>";
    static const char *const want[] = {
        "-S\n-object\n{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\","
        "\"file\":\"/var/lib/libvirt/qemu/domain-1-luks/master-key.aes\"}\n-machine",
        "-object\n{\"qom-type\":\"secret\",\"id\":\"libvirt-2-format-encryption-secret0\","
        "\"data\":\"XBEGXB79xTuRcXZpoPrntg==\",\"keyid\":\"masterKey0\","
        "\"iv\":\"2tqrSg+zLvuBVxBZ1oSB0g==\",\"format\":\"base64\"}\n-blockdev\n"
        "{\"driver\":\"file\",\"filename\":\"/i/e.qcow2\",\"node-name\":\"libvirt-2-storage\"",
        "{\"node-name\":\"libvirt-2-format\",\"read-only\":false,\"driver\":\"qcow2\","
        "\"encrypt\":{\"format\":\"luks\",\"key-secret\":\"libvirt-2-format-encryption-"
        "secret0\"},\"file\":\"libvirt-2-storage\"",
        "-object\n{\"qom-type\":\"secret\",\"id\":\"libvirt-1-format-encryption-secret0\","
        "\"data\":\"w/YdFpEiFy8VDZnGlLvWtQ==\",\"keyid\":\"masterKey0\","
        "\"iv\":\"WIDVphFS0IoT2RJpD+gedQ==\",\"format\":\"base64\"}\n-blockdev\n"
        "{\"driver\":\"file\",\"filename\":\"/i/e.luks\",\"node-name\":\"libvirt-1-storage\"",
        "{\"node-name\":\"libvirt-1-format\",\"read-only\":false,\"driver\":\"luks\","
        "\"key-secret\":\"libvirt-1-format-encryption-secret0\",\"file\":\"libvirt-1-storage\"}",
    };
    QemuDiskSecret a = {"XBEGXB79xTuRcXZpoPrntg==", "2tqrSg+zLvuBVxBZ1oSB0g=="};
    QemuDiskSecret b = {"w/YdFpEiFy8VDZnGlLvWtQ==", "WIDVphFS0IoT2RJpD+gedQ=="};
    g_autoptr(GPtrArray) secrets = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    QemuCommandOptions opts = {.emulator = QEMU, .monitor_fd = 3, .caps = caps,
                               .master_key_path =
                                   "/var/lib/libvirt/qemu/domain-1-luks/master-key.aes"};
    g_auto(GStrv) argv = NULL;
    g_autofree char *joined = NULL;

    g_assert_no_error(error);
    g_assert_true(qemu_domain_def_post_parse(def, caps, &error));
    qemu_domain_assign_aliases(def);
    g_ptr_array_add(secrets, &a);
    g_ptr_array_add(secrets, &b);
    opts.disk_secrets = secrets;
    argv = qemu_command_build(def, &opts, &error);
    g_assert_no_error(error);
    joined = g_strjoinv("\n", argv);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_nonnull(strstr(joined, want[i]));
}

/* The secret object's data is the passphrase, AES-256-CBC with PKCS#7 padding under the
 * master key and a fresh IV: decrypted again it is the passphrase. */
static void
test_secret_encrypt(void)
{
    guint8 key[QEMU_MASTER_KEY_LEN];
    g_autoptr(GBytes) value = g_bytes_new_static("0123456789abcdef!", 17);
    g_autoptr(QemuDiskSecret) s = NULL, t = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *ct = NULL, *iv = NULL;
    gsize ct_len, iv_len;
    gnutls_cipher_hd_t h;
    gnutls_datum_t k = {key, sizeof(key)}, v;

    for (gsize i = 0; i < sizeof(key); i++)
        key[i] = (guint8)(i * 7 + 1);
    s = qemu_secret_encrypt(key, value, &error);
    t = qemu_secret_encrypt(key, value, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->iv, !=, t->iv);
    ct = g_base64_decode(s->data, &ct_len);
    iv = g_base64_decode(s->iv, &iv_len);
    g_assert_cmpuint(iv_len, ==, 16);
    g_assert_cmpuint(ct_len, ==, 32);
    v = (gnutls_datum_t){iv, (unsigned)iv_len};
    g_assert_cmpint(gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &k, &v), ==, 0);
    g_assert_cmpint(gnutls_cipher_decrypt(h, ct, ct_len), ==, 0);
    gnutls_cipher_deinit(h);
    g_assert_cmpmem(ct, 17, "0123456789abcdef!", 17);
    for (gsize i = 17; i < 32; i++)
        g_assert_cmpuint(ct[i], ==, 15);
}

static void
test_dir_name(void)
{
    g_autofree char *a = qemu_domain_dir_name(3, "a-very-long-guest-name-indeed");
    g_autofree char *b = qemu_domain_dir_name(1, "short");
    /* 20 bytes, never half a UTF-8 character: "é" is 2 bytes at offset 19. */
    g_autofree char *c = qemu_domain_dir_name(2, "0123456789012345678é");

    g_assert_cmpstr(a, ==, "domain-3-a-very-long-guest-na");
    g_assert_cmpstr(b, ==, "domain-1-short");
    g_assert_cmpstr(c, ==, "domain-2-0123456789012345678");
}

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    g_test_init(&argc, &argv, NULL);
    if (argc > 1)
        data_dir = argv[1];
    caps = captured_caps();
    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((e = g_dir_read_name(dir))) {
        if (g_str_has_suffix(e, ".xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/qemu-argv/%s", (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], check_case);
    }
    g_test_add_func("/qemu-argv/dir-name", test_dir_name);
    g_test_add_func("/qemu-argv/luks-disks", test_luks_disks);
    g_test_add_func("/qemu-argv/secret-encrypt", test_secret_encrypt);
    g_test_add_func("/qemu-argv/display-password", test_display_password);
    g_test_add_func("/qemu-argv/probe-parsers", test_probe_parsers);
    g_test_add_func("/qemu-argv/hostile-values", test_hostile_values);
    return g_test_run();
}
