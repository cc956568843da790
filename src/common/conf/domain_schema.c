/* domain_schema.c: the schema check. Two tables meet here: what splitvirt parses (below,
 * by hand, next to the parser it describes) and what libvirt's schema knows (generated at
 * build time from the installed schema by gen_domain_schema.py). A child or attribute in
 * the first is parsed; one only in the second is refused as unsupported, so no
 * configuration is lost silently; one in neither is unknown to libvirt, refused with
 * libvirt's schema error under VALIDATE and otherwise dropped, as libvirt drops it. */
#include "conf/domain_schema.h"

#include <stdlib.h>
#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* The schema libvirt names in its validation errors. */
#define SCHEMA_FILE "/usr/share/libvirt/schemas/domain.rng"

/* libvirt's own namespaces (qemu:commandline, lxc:namespace, xen:commandline...). */
#define LIBVIRT_NS_PREFIX "http://libvirt.org/schemas/domain/"

/* For each element splitvirt parses (keyed "parent/name"), the children and attributes it
 * handles. Attributes listed here but not stored (domain id, serial tty) are output-only in
 * libvirt and ignored on input as libvirt ignores them. */
typedef struct {
    const char *path;
    const char *children;
    const char *attrs;
} HandledElement;

static const HandledElement handled_elements[] = {
    {"/domain",
     "name uuid title description metadata memory currentMemory vcpu os features cpu clock "
     "on_poweroff on_reboot on_crash idmap seclabel devices"
     /* platform */ " pm genid sysinfo"
     /* cpu, vcpus, memory and tuning */ " maxMemory blkiotune memtune memoryBacking iothreads"
     " cputune vcpus resource"
     /* the end */ "",
     "type id"},
    {"domain/memory", "", "unit"},
    {"domain/currentMemory", "", "unit"},
    {"domain/vcpu", "", "placement cpuset current"},
    {"domain/vcpus", "vcpu", ""},
    {"domain/resource", "partition", ""},
    {"vcpus/vcpu", "", "id enabled hotpluggable order"},
    {"domain/os", "type loader kernel initrd cmdline boot init initarg"
     /* platform */ " bootmenu smbios nvram firmware bios", "" /* platform */ "firmware"},
    {"os/type", "", "arch machine"},
    {"os/loader", "", "type readonly" /* platform */ " secure"},
    {"os/boot", "", "dev"},
    {"domain/features", "acpi apic pae"
     /* platform */ " hyperv kvm vmport smm ioapic pvspinlock pmu vmcoreinfo", ""},
    {"domain/cpu", "model vendor topology feature", "mode match check migratable"},
    {"cpu/model", "", "fallback"},
    {"domain/clock", "" /* platform */ "timer", "offset" /* platform */ " adjustment basis timezone start"},
    {"domain/idmap", "uid gid", ""},
    {"idmap/uid", "", "start target count"},
    {"idmap/gid", "", "start target count"},
    {"domain/seclabel", "", "type model"},
    {"domain/devices",
     "emulator disk filesystem interface serial console controller panic memballoon"
     /* disks and controllers */ ""
     /* interfaces */ ""
     /* character devices, channels, rng, memballoon, watchdog, panic, filesystems */
     " channel rng watchdog"
     /* graphics, video, input, sound, audio, redirdev */ " graphics video input sound audio redirdev"
     /* usb hubs */ " hub"
     /* capabilities: host devices and TPM */ " hostdev tpm"
     /* the end */ "",
     ""},
    /* Device info (domain_device.c), under every device that has it. */
#define DEVICE_INFO(dev)                                                                       \
    {dev "/boot", "", "order"}, {dev "/alias", "", "name"},                                     \
    {dev "/address", "",                                                                       \
     "type domain bus slot function multifunction controller target unit port iobase irq"}
    DEVICE_INFO("disk"),
    DEVICE_INFO("interface"),
    DEVICE_INFO("controller"),

    /* ---- platform ---- */
    {"features/hyperv", "relaxed vapic spinlocks vpindex synic stimer frequencies"
     /* capabilities (domcaps lists it) */ " vendor_id", "mode"},
    {"hyperv/vendor_id", "", "state value"},
    {"hyperv/relaxed", "", "state"},
    {"hyperv/vapic", "", "state"},
    {"hyperv/spinlocks", "", "state retries"},
    {"hyperv/vpindex", "", "state"},
    {"hyperv/synic", "", "state"},
    {"hyperv/stimer", "", "state"},
    {"hyperv/frequencies", "", "state"},
    {"features/kvm", "hidden hint-dedicated poll-control pv-ipi", ""},
    {"kvm/hidden", "", "state"},
    {"kvm/hint-dedicated", "", "state"},
    {"kvm/poll-control", "", "state"},
    {"kvm/pv-ipi", "", "state"},
    {"features/vmport", "", "state"},
    {"features/smm", "", "state"},
    {"features/apic", "", "eoi"},
    {"features/pvspinlock", "", "state"},
    {"features/pmu", "", "state"},
    {"features/vmcoreinfo", "", "state"},
    {"features/ioapic", "", "driver"},
    {"clock/timer", "", "name present tickpolicy track"},
    {"domain/pm", "suspend-to-mem suspend-to-disk", ""},
    {"os/bootmenu", "", "enable timeout"},
    {"os/smbios", "", "mode"},
    {"os/bios", "", "useserial rebootTimeout"},
    {"os/nvram", "", "template"},
    {"os/firmware", "feature", ""},
    {"firmware/feature", "", "enabled name"},
    {"domain/sysinfo", "bios system baseBoard chassis oemStrings", "type"},
    {"sysinfo/bios", "entry", ""},
    {"sysinfo/system", "entry", ""},
    {"sysinfo/baseBoard", "entry", ""},
    {"sysinfo/chassis", "entry", ""},
    {"sysinfo/oemStrings", "entry", ""},
    {"bios/entry", "", "name"},
    {"system/entry", "", "name"},
    {"baseBoard/entry", "", "name"},
    {"chassis/entry", "", "name"},
    {"pm/suspend-to-mem", "", "enabled"},
    {"pm/suspend-to-disk", "", "enabled"},

    /* ---- cpu, vcpus, memory and tuning ---- */
    {"cpu/topology", "", "sockets dies cores threads"},
    {"cpu/feature", "", "policy name"},
    {"domain/maxMemory", "", "slots unit"},
    {"domain/blkiotune", "weight device", ""},
    {"blkiotune/device", "path weight read_iops_sec write_iops_sec read_bytes_sec write_bytes_sec",
     ""},
    {"domain/memtune", "hard_limit soft_limit min_guarantee swap_hard_limit", ""},
    {"memtune/hard_limit", "", "unit"},
    {"memtune/soft_limit", "", "unit"},
    {"memtune/min_guarantee", "", "unit"},
    {"memtune/swap_hard_limit", "", "unit"},
    {"domain/memoryBacking", "source access allocation locked", ""},
    {"memoryBacking/source", "", "type"},
    {"memoryBacking/access", "", "mode"},
    {"memoryBacking/allocation", "", "mode threads"},
    {"domain/cputune", "shares period quota global_period global_quota emulator_period emulator_quota iothread_period iothread_quota vcpupin emulatorpin",
     ""},
    {"cputune/vcpupin", "", "vcpu cpuset"},
    {"cputune/emulatorpin", "", "cpuset"},

    /* ---- disks and controllers ---- */
    {"devices/disk",
     "driver source backingStore blockio target iotune readonly shareable serial wwn encryption "
     "boot alias address",
     "type device model"},
    /* in <source> or, the older placement, in <disk> (storage_vol_def.c parses both) */
    {"disk/encryption", "secret cipher ivgen", "format engine"},
    {"source/encryption", "secret cipher ivgen", "format engine"},
    {"encryption/secret", "", "type uuid usage"},
    {"encryption/cipher", "", "name size mode hash"},
    {"encryption/ivgen", "", "name hash"},
    {"disk/blockio", "", "logical_block_size physical_block_size"},
    {"disk/driver", "",
     "name type cache error_policy rerror_policy io discard detect_zeroes iothread queues "
     "queue_size"},
    {"disk/source", "host encryption",
     "file dev startupPolicy index protocol name query pool volume mode"},
    {"source/host", "", "name port transport socket"},
    {"disk/backingStore", "format source backingStore", "type index"},
    {"backingStore/format", "", "type"},
    {"backingStore/source", "", "file dev"},
    {"backingStore/backingStore", "format source backingStore", "type index"},
    {"disk/target", "", "dev bus tray removable rotation_rate"},
    {"devices/controller", "driver model target master alias address",
     "type index model ports vectors"},
    {"controller/driver", "", "queues"},
    {"controller/model", "", "name"},
    {"controller/target", "", "chassisNr chassis port hotplug"},
    {"controller/master", "", "startport"},
    {"disk/iotune",
     "total_bytes_sec read_bytes_sec write_bytes_sec total_iops_sec read_iops_sec "
     "write_iops_sec total_bytes_sec_max read_bytes_sec_max write_bytes_sec_max "
     "total_iops_sec_max read_iops_sec_max write_iops_sec_max size_iops_sec group_name "
     "total_bytes_sec_max_length read_bytes_sec_max_length write_bytes_sec_max_length "
     "total_iops_sec_max_length read_iops_sec_max_length write_iops_sec_max_length",
     ""},

    /* ---- interfaces ---- */
    {"devices/interface",
     "mac source target model driver link mtu rom bandwidth boot alias address", "type"},
    {"interface/bandwidth", "inbound outbound", "classID"},
    {"bandwidth/inbound", "", "average peak floor burst"},
    {"bandwidth/outbound", "", "average peak floor burst"},
    {"interface/mac", "", "address"},
    /* (A status file's <actual>, the plug of a network port, is not libvirt's schema's: read
     * by the parser from status files only, dropped elsewhere as libvirt drops it.) */
    {"interface/source", "", "bridge dev mode network portgroup portid"},
    {"interface/model", "", "type"},
    {"interface/target", "", "dev managed"},
    {"interface/driver", "", "name queues rx_queue_size tx_queue_size"},
    {"interface/link", "", "state"},
    {"interface/mtu", "", "size"},
    {"interface/rom", "", "bar enabled file"},

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
#define CHR_ELEMENTS(dev)                                                                      \
    {"devices/" dev, "source protocol log target alias address", "type tty"},                  \
    {dev "/source", "", "mode path host service append"}, {dev "/protocol", "", "type"},       \
    {dev "/log", "", "file append"}, DEVICE_INFO(dev)
    CHR_ELEMENTS("serial"),
    CHR_ELEMENTS("console"),
    CHR_ELEMENTS("channel"),
#undef CHR_ELEMENTS
    {"serial/target", "model", "type port"},
    {"target/model", "", "name"},
    {"console/target", "", "type port"},
    {"channel/target", "", "type name state"},
    {"devices/rng", "backend alias address", "model"},
    {"rng/backend", "source protocol", "model type"},
    {"backend/source", "", "mode path host service"},
    {"backend/protocol", "", "type"},
    DEVICE_INFO("rng"),
    {"devices/memballoon", "stats alias address", "model autodeflate freePageReporting"},
    {"memballoon/stats", "", "period"},
    DEVICE_INFO("memballoon"),
    {"devices/watchdog", "alias address", "model action"},
    DEVICE_INFO("watchdog"),
    {"devices/panic", "alias address", "model"},
    DEVICE_INFO("panic"),
    {"devices/filesystem", "driver binary source target readonly boot alias address",
     "type accessmode model multidevs fmode dmode"},
    {"filesystem/driver", "", "type queue wrpolicy"},
    {"filesystem/binary", "cache lock", "path xattr"},
    {"binary/cache", "", "mode"},
    {"binary/lock", "", "posix flock"},
    {"filesystem/source", "", "dir"},
    {"filesystem/target", "", "dir"},
    DEVICE_INFO("filesystem"),

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    {"devices/graphics",
     "listen image jpeg zlib playback streaming mouse clipboard filetransfer",
     "type port tlsPort autoport websocket listen socket passwd passwdValidTo connected keymap "
     "sharePolicy"},
    {"graphics/listen", "", "type address network socket"},
    {"graphics/image", "", "compression"},
    {"graphics/jpeg", "", "compression"},
    {"graphics/zlib", "", "compression"},
    {"graphics/playback", "", "compression"},
    {"graphics/streaming", "", "mode"},
    {"graphics/mouse", "", "mode"},
    {"graphics/clipboard", "", "copypaste"},
    {"graphics/filetransfer", "", "enable"},
    {"devices/video", "model alias address", ""},
    {"video/model", "", "type ram vram vgamem heads primary"},
    {"devices/input", "alias address", "type bus"},
    {"devices/sound", "codec audio alias address", "model"},
    {"sound/codec", "", "type"},
    {"sound/audio", "", "id"},
    {"devices/audio", "", "id type"},
    {"devices/redirdev", "boot alias address", "bus type"},
    DEVICE_INFO("video"),
    DEVICE_INFO("input"),
    DEVICE_INFO("sound"),
    DEVICE_INFO("redirdev"),

    /* ---- defaults, addresses and aliases ---- */
    {"controller/model", "", "name"},
    {"controller/target", "", "chassisNr chassis port"},

    /* ---- usb hubs ---- */
    {"devices/hub", "alias address", "type"},
    DEVICE_INFO("hub"),

    /* ---- capabilities: host devices and TPM ---- */
    {"devices/hostdev", "driver source boot alias address", "mode type managed"},
    {"hostdev/driver", "", "name"},
    {"hostdev/source", "vendor product address adapter", "startupPolicy"},
    {"source/vendor", "", "id"},
    {"source/product", "", "id"},
    {"source/adapter", "", "name"},
    {"source/address", "", "domain bus slot function device target unit"},
    DEVICE_INFO("hostdev"),
    {"devices/tpm", "backend alias address", "model"},
    {"tpm/backend", "device", "type"},
    {"backend/device", "", "path"},
    DEVICE_INFO("tpm"),

#undef DEVICE_INFO
};

static const HandledElement *
find_handled(const char *parent, const char *name)
{
    g_autofree char *path = g_strconcat(parent ? parent : "", "/", name, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(handled_elements); i++) {
        if (g_str_equal(handled_elements[i].path, path))
            return &handled_elements[i];
    }
    return NULL;
}

static int
compare_name(const void *key, const void *entry)
{
    return strcmp(key, ((const SvSchemaElement *)entry)->name);
}

const SvSchemaElement *
sv_domain_schema_find(const char *name)
{
    return bsearch(name, sv_domain_schema_known, sv_domain_schema_known_len,
                   sizeof(SvSchemaElement), compare_name);
}

static char *
qualified_name(const xmlNode *n)
{
    if (n->ns && n->ns->prefix)
        return g_strdup_printf("%s:%s", n->ns->prefix, n->name);
    return g_strdup((const char *)n->name);
}

/* libvirt's schema error for unknown element `child` under `parent`, itself under the
 * top-level element `top` (NULL when `parent` is the root). The texts are libxml2's
 * RelaxNG messages as libvirt 9.0.0 reports them. */
static void
set_schema_error(GError **error, const xmlNode *parent, const char *top, const xmlNode *child)
{
    g_autoptr(GString) lines = g_string_new(NULL);
    g_autofree char *detail = NULL;
    g_autofree char *msg = NULL;

    if (!top) {
        g_string_append_printf(lines, "Element domain has extra content: %s\n", child->name);
    } else {
        /* The interleave in <domain> hides the inner message for most elements; <os> and
         * <clock> are sequences and name the culprit first. */
        if (g_str_equal(top, "os") && sv_xml_is(parent, "os"))
            g_string_append_printf(lines, "Element os has extra content: %s\n", child->name);
        else if (g_str_equal(top, "clock") && sv_xml_is(parent, "clock"))
            g_string_append_printf(lines, "Expecting element timer, got %s\n", child->name);
        g_string_append_printf(lines,
                               "Extra element %s in interleave\n"
                               "Element domain failed to validate content\n",
                               top);
    }
    detail = g_strdup_printf("Unable to validate doc against %s\n%s", SCHEMA_FILE, lines->str);
    msg = g_strdup_printf("XML document failed to validate against schema: %s", detail);
    g_propagate_error(error, sv_error_new_full(SV_FROM_XML, SV_ERR_XML_INVALID_SCHEMA, msg, 2,
                                               "XML document failed to validate against schema: %s",
                                               detail, NULL, -1, -1));
}

static gboolean
check_attrs(const xmlNode *node, const HandledElement *handled, const SvSchemaElement *known,
            const char *parent, GError **error)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_autofree char *what = NULL;

        if (a->ns || sv_word_in(handled->attrs, (const char *)a->name) || !known ||
            !sv_word_in(known->attrs, (const char *)a->name))
            continue;
        if (parent && !g_str_equal(parent, "domain") && !g_str_equal(parent, "devices"))
            what = g_strdup_printf("attribute '%s' of <%s> in <%s>", a->name, node->name, parent);
        else
            what = g_strdup_printf("attribute '%s' of <%s>", a->name, node->name);
        sv_domain_error_unsupported(error, what);
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_known_child(const xmlNode *child, const SvSchemaElement *known)
{
    if (child->ns)
        return child->ns->href &&
               g_str_has_prefix((const char *)child->ns->href, LIBVIRT_NS_PREFIX);
    return known && sv_word_in(known->children, (const char *)child->name);
}

/* Walk the elements splitvirt handles, looking at each child it does not handle.
 * `parent` is the name of node's parent (NULL for the root), `top` the top-level element
 * node is in (NULL for the root itself). */
static gboolean
check_element(const xmlNode *node, const char *parent, const char *top,
              SvDomainSchemaPass pass, GError **error)
{
    const HandledElement *handled = find_handled(parent, (const char *)node->name);
    const SvSchemaElement *known = sv_domain_schema_find((const char *)node->name);

    /* <metadata> holds anything; leaves parsed as text have no entry either. */
    if (!handled)
        return TRUE;
    if (pass == SV_DOMAIN_SCHEMA_UNSUPPORTED && !check_attrs(node, handled, known, parent, error))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        g_autofree char *qname = NULL;
        g_autofree char *what = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!c->ns && sv_word_in(handled->children, (const char *)c->name)) {
            if (!check_element(c, (const char *)node->name,
                               top ? top : (const char *)c->name, pass, error))
                return FALSE;
            continue;
        }
        if (pass == SV_DOMAIN_SCHEMA_UNKNOWN && !is_known_child(c, known)) {
            set_schema_error(error, node, top, c);
            return FALSE;
        }
        if (pass == SV_DOMAIN_SCHEMA_UNSUPPORTED && is_known_child(c, known)) {
            qname = qualified_name(c);
            if (!parent || g_str_equal((const char *)node->name, "devices"))
                what = g_strdup_printf("<%s>", qname);
            else
                what = g_strdup_printf("<%s> in <%s>", qname, node->name);
            sv_domain_error_unsupported(error, what);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
sv_domain_schema_check(const xmlNode *root, SvDomainSchemaPass pass, GError **error)
{
    return check_element(root, NULL, NULL, pass, error);
}
