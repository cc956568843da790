/* domain_conf.c: the domain definition: parse, validate and format libvirt domain XML.
 *
 * Longer than the usual ~1000 lines on purpose: the schema tables, the parser and the
 * formatter describe one document and must change together; splitting them would only
 * spread one change over several files.
 *
 * The order of work in sv_domain_def_parse() follows libvirt's, so a document with several
 * problems mostly reports the one libvirt reports:
 *   read (well-formedness, no entities) -> root name -> schema check (VALIDATE only) ->
 *   parse each part -> refuse known-but-unimplemented XML -> defaults -> validate. */
#include "domain_conf.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "uuid.h"
#include "util/error.h"

/* libvirt error numbers and domains that error.h does not define yet (virterror.h). */
#define ERR_NO_SOURCE 19
#define ERR_NO_TARGET 20
#define FROM_CPU 31

/* libvirt's limit on memory in bytes, virMemoryMaxValue(false) = LLONG_MAX. */
#define MEMORY_MAX_BYTES ((guint64)G_MAXINT64)

#define NAME_MAX_BYTES 200

/* Where libvirt's error context for malformed XML stops: the offending source line is
 * copied into the message, and a document on one huge line must not make a huge error. */
#define ERROR_CONTEXT_MAX 65536

#define SCHEMA_FILE "/usr/share/libvirt/schemas/domain.rng"

/* libxml2 made the structured-error argument const in 2.12. */
#if LIBXML_VERSION >= 21200
#define XML_ERROR_CONST const
#else
#define XML_ERROR_CONST
#endif

/* ---- string tables ------------------------------------------------------------------ */

static int
table_index(const char *const *table, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++) {
        if (g_str_equal(table[i], s))
            return i;
    }
    return -1;
}

#define ENUM_IMPL(what, last, ...)                                                             \
    static const char *const what##_names[] = {__VA_ARGS__};                                   \
    G_STATIC_ASSERT(G_N_ELEMENTS(what##_names) == (last));                                     \
    const char *sv_domain_##what##_to_string(int v)                                            \
    {                                                                                          \
        return v >= 0 && v < (last) ? what##_names[v] : NULL;                                  \
    }                                                                                          \
    int sv_domain_##what##_from_string(const char *s)                                          \
    {                                                                                          \
        return table_index(what##_names, (last), s);                                           \
    }

ENUM_IMPL(virt_type, SV_DOMAIN_VIRT_LAST, "qemu", "kvm", "lxc", "xen")
ENUM_IMPL(lifecycle_action, SV_DOMAIN_LIFECYCLE_LAST, "destroy", "restart", "preserve",
          "rename-restart", "coredump-destroy", "coredump-restart")
ENUM_IMPL(cpu_placement, SV_DOMAIN_CPU_PLACEMENT_LAST, "static", "auto")
ENUM_IMPL(boot_dev, SV_DOMAIN_BOOT_LAST, "fd", "hd", "cdrom", "network")
ENUM_IMPL(loader_type, SV_DOMAIN_LOADER_TYPE_LAST, "none", "rom", "pflash")
ENUM_IMPL(tristate, SV_DOMAIN_TRISTATE_LAST, "absent", "yes", "no")
ENUM_IMPL(cpu_mode, SV_DOMAIN_CPU_MODE_LAST, "custom", "host-model", "host-passthrough",
          "maximum")
ENUM_IMPL(cpu_match, SV_DOMAIN_CPU_MATCH_LAST, "exact", "minimum", "strict")
ENUM_IMPL(cpu_check, SV_DOMAIN_CPU_CHECK_LAST, "default", "none", "partial", "full")
ENUM_IMPL(switch, SV_DOMAIN_SWITCH_LAST, "absent", "on", "off")
ENUM_IMPL(cpu_fallback, SV_DOMAIN_CPU_FALLBACK_LAST, "allow", "forbid")
ENUM_IMPL(clock_offset, SV_DOMAIN_CLOCK_OFFSET_LAST, "utc", "localtime")
ENUM_IMPL(disk_type, SV_DOMAIN_DISK_TYPE_LAST, "file", "block")
ENUM_IMPL(disk_device, SV_DOMAIN_DISK_DEVICE_LAST, "disk", "cdrom")
ENUM_IMPL(disk_format, SV_DOMAIN_DISK_FORMAT_LAST, "none", "raw", "qcow2")
ENUM_IMPL(disk_bus, SV_DOMAIN_DISK_BUS_LAST, "ide", "fdc", "scsi", "virtio", "xen", "usb", "uml",
          "sata", "sd")
ENUM_IMPL(fs_type, SV_DOMAIN_FS_TYPE_LAST, "mount")
ENUM_IMPL(fs_access_mode, SV_DOMAIN_FS_ACCESS_LAST, "passthrough", "mapped", "squash")
ENUM_IMPL(net_type, SV_DOMAIN_NET_TYPE_LAST, "user", "ethernet")
ENUM_IMPL(chr_type, SV_DOMAIN_CHR_TYPE_LAST, "pty", "file")
ENUM_IMPL(controller_type, SV_DOMAIN_CONTROLLER_LAST, "ide", "fdc", "scsi", "sata",
          "virtio-serial", "ccid", "usb", "pci", "xenbus", "isa")
ENUM_IMPL(idmap_kind, SV_DOMAIN_IDMAP_LAST, "uid", "gid")

/* Features are bits, so their table is indexed by bit number. */
static const char *const feature_names[] = {"acpi", "apic", "pae"};
G_STATIC_ASSERT(1 << G_N_ELEMENTS(feature_names) == SV_DOMAIN_FEATURE_LAST);

const char *
sv_domain_feature_to_string(int v)
{
    for (guint i = 0; i < G_N_ELEMENTS(feature_names); i++) {
        if (v == 1 << i)
            return feature_names[i];
    }
    return NULL;
}

int
sv_domain_feature_from_string(const char *s)
{
    int i = table_index(feature_names, G_N_ELEMENTS(feature_names), s);

    return i < 0 ? -1 : 1 << i;
}

/* Values libvirt 9.0.0 knows and splitvirt does not implement: these are refused as
 * unsupported, while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_VIRT_TYPES                                                                 \
    "kqemu uml openvz test vmware hyperv vbox phyp parallels vz bhyve hvf ch"
#define UNSUPPORTED_OS_TYPES "uml xenpvh"
#define UNSUPPORTED_DISK_TYPES "dir network volume nvme vhostuser"
#define UNSUPPORTED_DISK_DEVICES "floppy lun"
#define UNSUPPORTED_DISK_FORMATS                                                               \
    "dir bochs cloop dmg iso vpc vdi fat vhd ploop cow qcow qed vmdk luks"
#define UNSUPPORTED_FS_TYPES "block file template ram bind volume"
#define UNSUPPORTED_NET_TYPES                                                                  \
    "vhostuser server client mcast network bridge internal direct hostdev udp vdpa null vds"
#define UNSUPPORTED_CHR_TYPES                                                                  \
    "null vc dev pipe stdio udp tcp unix spicevmc spiceport nmdm qemu-vdagent dbus"
#define UNSUPPORTED_GRAPHICS_TYPES "sdl vnc rdp desktop spice egl-headless dbus"
#define UNSUPPORTED_CLOCK_OFFSETS "timezone variable absolute"
#define UNSUPPORTED_SECLABEL_TYPES "dynamic static"

/* Values splitvirt keeps as strings, checked against libvirt's lists. */
#define KNOWN_ARCHES                                                                           \
    "aarch64 alpha armv6l armv7l armv7b cris i686 ia64 lm32 m68k microblaze microblazeel mips "  \
    "mipsel mips64 mips64el openrisc parisc parisc64 ppc ppcle ppc64 ppc64le ppcemb riscv32 "    \
    "riscv64 s390 s390x sh4 sh4eb sparc sparc64 unicore32 x86_64 xtensa xtensaeb"
#define SERIAL_TARGET_TYPES                                                                    \
    "isa-serial usb-serial pci-serial spapr-vio-serial system-serial sclp-serial isa-debug"
#define CONSOLE_TARGET_TYPES "serial xen uml virtio lxc openvz sclp sclplm"
#define PANIC_MODELS "isa pseries hyperv s390"
#define MEMBALLOON_MODELS "virtio xen none virtio-transitional virtio-non-transitional"

/* Whether `word` is one of the space-separated words of `list`. */
static gboolean
word_in(const char *list, const char *word)
{
    gsize len = strlen(word);

    if (!list || len == 0)
        return FALSE;
    for (const char *p = list; (p = strstr(p, word)); p += len) {
        if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
            return TRUE;
    }
    return FALSE;
}

/* ---- errors ------------------------------------------------------------------------- */

/* An error whose code has a template error.c does not know yet, with the same fields
 * sv_error_set() would give; without a detail, libvirt's detail-less text. */
static void
set_templated(GError **error, int from, int code, const char *tmpl, const char *bare,
              const char *detail)
{
    g_autofree char *msg = NULL;

    if (!detail) {
        g_propagate_error(error, sv_error_new_full(from, code, bare, 2, bare, NULL, NULL, -1, -1));
        return;
    }
    msg = g_strdup_printf(tmpl, detail);
    g_propagate_error(error, sv_error_new_full(from, code, msg, 2, tmpl, detail, NULL, -1, -1));
}

static void
set_no_source(GError **error, const char *device)
{
    set_templated(error, SV_FROM_DOMAIN, ERR_NO_SOURCE, "missing source information for device %s",
                  "missing source information for device", device);
}

static void
set_no_target(GError **error, const char *device)
{
    set_templated(error, SV_FROM_DOMAIN, ERR_NO_TARGET, "missing target information for device %s",
                  "missing target information for device", device);
}

/* libvirt's virXMLPropEnum errors come from virxml.c, hence error domain XML. */
static void
set_invalid_attr(GError **error, const xmlNode *node, const char *attr, const char *value)
{
    sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                 "Invalid value for attribute '%s' in element '%s': '%s'.", attr,
                 (const char *)node->name, value);
}

static void
set_missing_attr(GError **error, const xmlNode *node, const char *attr)
{
    sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                 "Missing required attribute '%s' in element '%s'", attr,
                 (const char *)node->name);
}

static void
set_unsupported(GError **error, const char *what)
{
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                 "%s is not supported by splitvirt", what);
}

static void
set_unsupported_value(GError **error, const xmlNode *node, const char *attr, const char *value)
{
    g_autofree char *what = g_strdup_printf("<%s %s='%s'>", node->name, attr, value);

    set_unsupported(error, what);
}

/* ---- reading the document ----------------------------------------------------------- */

typedef struct {
    char *detail;       /* the first fatal error, formatted as libvirt does */
    gboolean forbidden; /* an entity declaration or reference was seen */
} ReadState;

/* libvirt's catchXMLError: "FILE:LINE: MSG" then the offending line and a pointer under
 * the error column, computed by the same walk so that positions match byte for byte. */
static char *
format_parse_error(xmlParserCtxt *ctxt, XML_ERROR_CONST xmlError *err)
{
    const xmlChar *base = ctxt->input->base;
    const xmlChar *pos = ctxt->input->cur;
    const xmlChar *cur = pos;
    g_autoptr(GString) line = g_string_new(NULL);
    g_autoptr(GString) pointer = g_string_new(NULL);
    gsize col;

    while (cur > base && (*cur == '\n' || *cur == '\r'))
        cur--;
    while (cur > base && *cur != '\n' && *cur != '\r')
        cur--;
    if (*cur == '\n' || *cur == '\r')
        cur++;
    col = (gsize)(pos - cur);
    while (*cur && *cur != '\n' && *cur != '\r' && line->len < ERROR_CONTEXT_MAX)
        g_string_append_c(line, (char)*cur++);
    for (gsize n = 0; n < col && n < line->len; n++)
        g_string_append_c(pointer, line->str[n] == '\t' ? '\t' : '-');
    g_string_append_c(pointer, '^');
    /* libvirt prints its empty buffer as "(null)". */
    if (err->file) {
        return g_strdup_printf("%s:%d: %s%s\n%s", err->file, err->line, err->message,
                               line->len ? line->str : "(null)", pointer->str);
    }
    return g_strdup_printf("at line %d: %s%s\n%s", err->line, err->message,
                           line->len ? line->str : "(null)", pointer->str);
}

static void
on_structured_error(void *user_data, XML_ERROR_CONST xmlError *err)
{
    xmlParserCtxt *ctxt = user_data;
    ReadState *st = ctxt->_private;

    /* Like libvirt, only the first fatal error counts; warnings and namespace errors do not
     * stop the parse. */
    if (!st || st->detail || !err || err->level != XML_ERR_FATAL || !err->message ||
        !ctxt->input || !ctxt->input->cur || !ctxt->input->base)
        return;
    st->detail = format_parse_error(ctxt, err);
}

/* Stopping at the declaration means no entity is ever expanded or fetched, so entity
 * bombs and external entities cost nothing. */
static void
forbid(void *user_data)
{
    xmlParserCtxt *ctxt = user_data;
    ReadState *st = ctxt->_private;

    if (st)
        st->forbidden = TRUE;
    xmlStopParser(ctxt);
}

static void
on_entity_decl(void *user_data, const xmlChar *name G_GNUC_UNUSED, int type G_GNUC_UNUSED,
               const xmlChar *public_id G_GNUC_UNUSED, const xmlChar *system_id G_GNUC_UNUSED,
               xmlChar *content G_GNUC_UNUSED)
{
    forbid(user_data);
}

static void
on_unparsed_entity_decl(void *user_data, const xmlChar *name G_GNUC_UNUSED,
                        const xmlChar *public_id G_GNUC_UNUSED,
                        const xmlChar *system_id G_GNUC_UNUSED,
                        const xmlChar *notation G_GNUC_UNUSED)
{
    forbid(user_data);
}

static void
on_reference(void *user_data, const xmlChar *name G_GNUC_UNUSED)
{
    forbid(user_data);
}

/* A second line of defence behind the SAX hooks: no entity may survive into the tree. */
static gboolean
has_entities(const xmlNode *node)
{
    for (; node; node = node->next) {
        if (node->type == XML_ENTITY_REF_NODE || node->type == XML_ENTITY_DECL)
            return TRUE;
        if (node->type == XML_ELEMENT_NODE && has_entities(node->children))
            return TRUE;
    }
    return FALSE;
}

static gboolean
doc_has_entities(const xmlDoc *doc)
{
    const xmlDtd *dtds[] = {doc->intSubset, doc->extSubset};

    for (guint i = 0; i < G_N_ELEMENTS(dtds); i++) {
        if (dtds[i] && (dtds[i]->entities || dtds[i]->pentities))
            return TRUE;
    }
    return has_entities(doc->children);
}

static void
xml_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

/* Parse `text` safely: no network (NONET), no DTD loading, no entity substitution (no
 * NOENT), libxml2's default depth and size limits (no HUGE). Blank text between elements
 * is dropped so that <metadata> re-indents the way libvirt's output shows it.
 * Returns the document, or NULL with `st` saying why. */
static xmlDoc *
read_xml(const char *text, ReadState *st)
{
    xmlParserCtxt *ctxt;
    xmlDoc *doc;

    xml_init();
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        g_error("%s: out of memory", G_STRLOC);
    ctxt->_private = st;
    ctxt->sax->serror = on_structured_error;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->reference = on_reference;
    doc = xmlCtxtReadDoc(ctxt, (const xmlChar *)text, "(domain_definition)", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    xmlFreeParserCtxt(ctxt);
    if (doc && (st->forbidden || doc_has_entities(doc))) {
        st->forbidden = TRUE;
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static xmlDoc *
read_document(const char *xml, GError **error)
{
    ReadState st = {0};
    xmlDoc *doc = read_xml(xml, &st);
    g_autofree char *detail = g_steal_pointer(&st.detail);

    if (st.forbidden) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "entity references and DTDs are not allowed in domain XML");
        return NULL;
    }
    if (!doc && detail) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL, "%s", detail);
        return NULL;
    }
    if (!doc) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "failed to parse xml document '[inline data]'");
        return NULL;
    }
    return doc;
}

/* ---- tree helpers --------------------------------------------------------------------- */

/* Whether `n` is a libvirt element: libvirt's XPath matches only unprefixed names. */
static gboolean
is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !n->ns && g_str_equal((const char *)n->name, name);
}

static xmlNode *
first_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (is_elem(c, name))
            return c;
    }
    return NULL;
}

/* An attribute as a GLib string; libxml2 allocates its own. */
static char *
get_prop(const xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *ret = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return ret;
}

/* An element's text as XPath string() gives it, "" when empty. */
static char *
get_text_raw(const xmlNode *node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret = g_strdup(v ? (const char *)v : "");

    xmlFree(v);
    return ret;
}

/* An element's text, NULL when absent or empty as libvirt's virXPathString treats it. */
static char *
get_text(const xmlNode *node)
{
    char *s;

    if (!node)
        return NULL;
    s = get_text_raw(node);
    if (!*s)
        g_clear_pointer(&s, g_free);
    return s;
}

static char *
child_text(const xmlNode *parent, const char *name)
{
    return get_text(first_child(parent, name));
}

/* Digits only: no sign, no spaces, no junk, as libvirt's virStrToLong_ullp (which also
 * refuses what we refuse here, except leading blanks). */
static gboolean
parse_u64(const char *s, guint64 *out)
{
    guint64 v = 0;

    if (!s || !*s)
        return FALSE;
    for (const char *p = s; *p; p++) {
        guint d = (guint)(*p - '0');

        if (!g_ascii_isdigit(*p) || v > (G_MAXUINT64 - d) / 10)
            return FALSE;
        v = v * 10 + d;
    }
    *out = v;
    return TRUE;
}

/* A number that fits libvirt's int fields (indexes, ports, ids). */
static gboolean
parse_int_range(const char *s, guint *out)
{
    guint64 v;

    if (!parse_u64(s, &v) || v > G_MAXINT)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

static gboolean
parse_uint(const char *s, guint *out)
{
    guint64 v;

    if (!parse_u64(s, &v) || v > G_MAXUINT)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

typedef int (*FromString)(const char *s);

/* Parse enum attribute `attr`. Values below `min` are libvirt's "none"/"absent" placeholders,
 * which XML may not name. Values in `unsupported` are refused as unsupported, others as
 * libvirt does. An absent attribute leaves `*out` alone unless `required`. */
static gboolean
prop_enum(const xmlNode *node, const char *attr, FromString from_string, int min,
          const char *unsupported, gboolean required, int *out, GError **error)
{
    g_autofree char *v = get_prop(node, attr);
    int i;

    if (!v) {
        if (required) {
            set_missing_attr(error, node, attr);
            return FALSE;
        }
        return TRUE;
    }
    i = from_string(v);
    if (i >= min) {
        *out = i;
        return TRUE;
    }
    if (word_in(unsupported, v))
        set_unsupported_value(error, node, attr, v);
    else
        set_invalid_attr(error, node, attr, v);
    return FALSE;
}

/* ---- the schema check ----------------------------------------------------------------- */

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
     "on_poweroff on_reboot on_crash idmap seclabel devices",
     "type id"},
    {"domain/memory", "", "unit"},
    {"domain/currentMemory", "", "unit"},
    {"domain/vcpu", "", "placement"},
    {"domain/os", "type loader kernel initrd cmdline boot init initarg", ""},
    {"os/type", "", "arch machine"},
    {"os/loader", "", "type readonly"},
    {"os/boot", "", "dev"},
    {"domain/features", "acpi apic pae", ""},
    {"domain/cpu", "model", "mode match check migratable"},
    {"cpu/model", "", "fallback"},
    {"domain/clock", "", "offset"},
    {"domain/idmap", "uid gid", ""},
    {"idmap/uid", "", "start target count"},
    {"idmap/gid", "", "start target count"},
    {"domain/seclabel", "", "type model"},
    {"domain/devices",
     "emulator disk filesystem interface serial console controller panic memballoon graphics", ""},
    {"devices/disk", "driver source target readonly", "type device"},
    {"disk/driver", "", "name type"},
    {"disk/source", "", "file dev"},
    {"disk/target", "", "dev bus"},
    {"devices/filesystem", "source target readonly", "type accessmode"},
    {"filesystem/source", "", "dir"},
    {"filesystem/target", "", "dir"},
    {"devices/interface", "mac model target", "type"},
    {"interface/mac", "", "address"},
    {"interface/model", "", "type"},
    {"interface/target", "", "dev"},
    {"devices/serial", "source target", "type tty"},
    {"serial/source", "", "path"},
    {"serial/target", "", "type port"},
    {"devices/console", "source target", "type tty"},
    {"console/source", "", "path"},
    {"console/target", "", "type port"},
    {"devices/controller", "", "type index model"},
    {"devices/panic", "", "model"},
    {"devices/memballoon", "", "model"},
    {"devices/graphics", "", "type"},
};

/* For each element name, every child and attribute libvirt 9.0.0's domain schema allows
 * under an element of that name anywhere (generated once from domain.rng and its includes;
 * a union, so slightly generous). Anything here that splitvirt does not handle is refused
 * as unsupported; anything in neither table is unknown to libvirt and dropped as libvirt
 * drops it. Text-only leaves are absent: nothing is known under them. */
typedef struct {
    const char *name;
    const char *children;
    const char *attrs;
} KnownElement;

static const KnownElement known_elements[] = {
    {"domain",
     "blkiotune bootloader bootloader_args clock commandline cpu cputune currentMemory "
     "datacenterpath defaultiothread description devices features genid idmap iothreadids "
     "iothreads keywrap launchSecurity maxMemory memory memoryBacking memtune metadata name "
     "numatune on_crash on_lockfailure on_poweroff on_reboot os perf pm resource seclabel "
     "sysinfo title uuid vcpu vcpus",
     "id type"},
    {"memory", "acpi address alias source target uuid",
     "access discard dumpCore mode model nodeset placement unit"},
    {"currentMemory", "", "unit"},
    {"vcpu", "", "cpuset current enabled hotpluggable id order placement"},
    {"os",
     "acpi bios boot bootmenu cmdline dtb firmware init initarg initdir initenv initgroup "
     "initrd inituser kernel loader nvram root smbios type",
     "firmware"},
    {"type", "", "arch machine"},
    {"loader", "", "readonly secure stateless type"},
    {"boot", "", "dev loadparm order"},
    {"features",
     "acpi apic capabilities ccf-assist cfpc extended_l2 gic hap hpt htm hyperv ibs ioapic kvm "
     "lazy_refcounts msrs nested-hv nonpae pae pmu privnet pvspinlock sbbc smm svm tcg viridian "
     "vmcoreinfo vmport vmx xen",
     ""},
    {"acpi", "table", "index"},
    {"apic", "", "eoi"},
    {"cpu",
     "arch cache counter feature features maxphysaddr microcode model numa pages signature "
     "topology vendor",
     "check match migratable mode"},
    {"model", "acceleration resolution",
     "fallback heads name primary ram type vendor_id vgamem vram vram64"},
    {"clock", "timer", "adjustment basis offset start timezone"},
    {"idmap", "gid uid", ""},
    {"uid", "", "count start target"},
    {"gid", "", "count start target"},
    {"seclabel", "baselabel imagelabel label", "labelskip model relabel type"},
    {"devices",
     "audio channel console controller disk emulator filesystem graphics hostdev hub input "
     "interface iommu lease memballoon memory nvram panic parallel redirdev redirfilter rng "
     "serial shmem smartcard sound tpm video vsock watchdog",
     ""},
    {"disk",
     "acpi address alias auth backenddomain backingStore blockio boot driver encryption "
     "geometry iotune mirror privateData product readonly serial shareable source target "
     "transient vendor wwn",
     "device model rawio sgio snapshot type"},
    {"driver", "guest host metadata_cache",
     "ats aw_bits cache caching_mode cmd_per_lun copy_on_read detect_zeroes discard eim "
     "error_policy event_idx format intremap io ioeventfd iommu iothread iotlb max_sectors name "
     "packed page_per_vq queue queue_size queues rerror_policy rss rss_hash_report "
     "rx_queue_size tx_queue_size txmode type vgaconf wrpolicy"},
    {"source",
     "adapter address alignsize auth block char clipboard config cookies encryption host "
     "identity initiator interface ip local mouse nodemask pagesize path pmem privateData "
     "product readahead reconnect reservations route seclabel slices snapshot ssl timeout "
     "vendor",
     "address append bridge channel connectionid dev dir evdev fdgroup file grab grabToggle "
     "guestReset host index macTableManager managed master missing mode name namespace "
     "network path pool port portgroup portgroupid portid protocol query repeat service slave "
     "socket startupPolicy switchid tls tlsHostname type units usage volume writeFiltering "
     "wwpn"},
    {"target", "block current label model node readonly requested size",
     "address bus busNr chassis chassisNr dev dir hotplug index managed name offset path port "
     "removable rotation_rate state tray type"},
    {"filesystem",
     "acpi address alias binary boot driver readonly source space_hard_limit space_soft_limit "
     "target",
     "accessmode dmode fmode model multidevs type"},
    {"interface",
     "acpi address alias backend backenddomain bandwidth boot coalesce downscript driver "
     "filterref guest ip link mac model mtu port portForward rom route script source target "
     "teaming tune virtualport vlan",
     "managed trustGuestRxFilters type"},
    {"mac", "", "address check type"},
    {"serial", "acpi address alias log protocol source target", "tty type"},
    {"console", "acpi address alias log protocol source target", "tty type"},
    {"controller", "acpi address alias driver master model pcihole64 target",
     "index maxEventChannels maxGrantFrames model ports type vectors"},
    {"panic", "address alias", "model"},
    {"memballoon", "acpi address alias driver stats", "autodeflate freePageReporting model"},
    {"graphics",
     "audio channel clipboard filetransfer gl image jpeg listen mouse playback streaming zlib",
     "address autoport connected defaultMode display fullscreen keymap listen multiUser p2p "
     "passwd passwdValidTo port powerControl replaceUser sharePolicy socket tlsPort type "
     "websocket xauth"},
};

/* libvirt's own namespaces (qemu:commandline, lxc:namespace, xen:commandline...). */
#define LIBVIRT_NS_PREFIX "http://libvirt.org/schemas/domain/"

typedef enum {
    CHECK_UNKNOWN,     /* refuse what libvirt's schema does not know (VALIDATE) */
    CHECK_UNSUPPORTED, /* refuse what libvirt knows but splitvirt does not implement */
} CheckPass;

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

static const KnownElement *
find_known(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(known_elements); i++) {
        if (g_str_equal(known_elements[i].name, name))
            return &known_elements[i];
    }
    return NULL;
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
        if (g_str_equal(top, "os") && is_elem(parent, "os"))
            g_string_append_printf(lines, "Element os has extra content: %s\n", child->name);
        else if (g_str_equal(top, "clock") && is_elem(parent, "clock"))
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
check_attrs(const xmlNode *node, const HandledElement *handled, const KnownElement *known,
            const char *parent, GError **error)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_autofree char *what = NULL;

        if (a->ns || word_in(handled->attrs, (const char *)a->name) || !known ||
            !word_in(known->attrs, (const char *)a->name))
            continue;
        if (parent && !g_str_equal(parent, "domain") && !g_str_equal(parent, "devices"))
            what = g_strdup_printf("attribute '%s' of <%s> in <%s>", a->name, node->name, parent);
        else
            what = g_strdup_printf("attribute '%s' of <%s>", a->name, node->name);
        set_unsupported(error, what);
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_known_child(const xmlNode *child, const KnownElement *known)
{
    if (child->ns)
        return child->ns->href &&
               g_str_has_prefix((const char *)child->ns->href, LIBVIRT_NS_PREFIX);
    return known && word_in(known->children, (const char *)child->name);
}

/* Walk the elements splitvirt handles, looking at each child it does not handle.
 * `parent` is the name of node's parent (NULL for the root), `top` the top-level element
 * node is in (NULL for the root itself). */
static gboolean
check_element(const xmlNode *node, const char *parent, const char *top, CheckPass pass,
              GError **error)
{
    const HandledElement *handled = find_handled(parent, (const char *)node->name);
    const KnownElement *known = find_known((const char *)node->name);

    /* <metadata> holds anything; leaves parsed as text have no entry either. */
    if (!handled)
        return TRUE;
    if (pass == CHECK_UNSUPPORTED && !check_attrs(node, handled, known, parent, error))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        g_autofree char *qname = NULL;
        g_autofree char *what = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!c->ns && word_in(handled->children, (const char *)c->name)) {
            if (!check_element(c, (const char *)node->name,
                               top ? top : (const char *)c->name, pass, error))
                return FALSE;
            continue;
        }
        if (pass == CHECK_UNKNOWN && !is_known_child(c, known)) {
            set_schema_error(error, node, top, c);
            return FALSE;
        }
        if (pass == CHECK_UNSUPPORTED && is_known_child(c, known)) {
            qname = qualified_name(c);
            if (!parent || g_str_equal((const char *)node->name, "devices"))
                what = g_strdup_printf("<%s>", qname);
            else
                what = g_strdup_printf("<%s> in <%s>", qname, node->name);
            set_unsupported(error, what);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- construction and destruction ------------------------------------------------------ */

static void
disk_free(gpointer p)
{
    SvDomainDiskDef *d = p;

    if (!d)
        return;
    g_free(d->driver_name);
    g_free(d->source);
    g_free(d->target_dev);
    g_free(d);
}

static void
fs_free(gpointer p)
{
    SvDomainFsDef *f = p;

    if (!f)
        return;
    g_free(f->source_dir);
    g_free(f->target_dir);
    g_free(f);
}

static void
net_free(gpointer p)
{
    SvDomainNetDef *n = p;

    if (!n)
        return;
    g_free(n->mac);
    g_free(n->model);
    g_free(n->target_dev);
    g_free(n);
}

static void
chr_free(gpointer p)
{
    SvDomainChrDef *c = p;

    if (!c)
        return;
    g_free(c->source_path);
    g_free(c->target_type);
    g_free(c);
}

static void
controller_free(gpointer p)
{
    SvDomainControllerDef *c = p;

    if (!c)
        return;
    g_free(c->model);
    g_free(c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainDiskDef, disk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainFsDef, fs_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainNetDef, net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainChrDef, chr_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainControllerDef, controller_free)

/* A definition with libvirt's defaults and empty lists. */
static SvDomainDef *
def_new(void)
{
    SvDomainDef *def = g_new0(SvDomainDef, 1);

    def->vcpus = 1;
    def->placement = SV_DOMAIN_CPU_PLACEMENT_STATIC;
    def->os.initargs = g_ptr_array_new_with_free_func(g_free);
    def->cpu_mode = SV_DOMAIN_CPU_MODE_CUSTOM;
    def->cpu_match = SV_DOMAIN_CPU_MATCH_EXACT;
    def->cpu_fallback = SV_DOMAIN_CPU_FALLBACK_ALLOW;
    def->clock_offset = SV_DOMAIN_CLOCK_OFFSET_UTC;
    def->on_poweroff = SV_DOMAIN_LIFECYCLE_DESTROY;
    def->on_reboot = SV_DOMAIN_LIFECYCLE_RESTART;
    def->on_crash = SV_DOMAIN_LIFECYCLE_DESTROY;
    def->disks = g_ptr_array_new_with_free_func(disk_free);
    def->filesystems = g_ptr_array_new_with_free_func(fs_free);
    def->interfaces = g_ptr_array_new_with_free_func(net_free);
    def->serials = g_ptr_array_new_with_free_func(chr_free);
    def->consoles = g_ptr_array_new_with_free_func(chr_free);
    def->controllers = g_ptr_array_new_with_free_func(controller_free);
    def->idmaps = g_ptr_array_new_with_free_func(g_free);
    return def;
}

void
sv_domain_def_free(SvDomainDef *def)
{
    SvDomainOsDef *os;

    if (!def)
        return;
    os = &def->os;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata);
    g_free(os->type);
    g_free(os->arch);
    g_free(os->machine);
    g_free(os->loader);
    g_free(os->kernel);
    g_free(os->initrd);
    g_free(os->cmdline);
    g_free(os->init);
    g_clear_pointer(&os->initargs, g_ptr_array_unref);
    g_free(def->cpu_model);
    g_free(def->seclabel_model);
    g_free(def->emulator);
    g_clear_pointer(&def->disks, g_ptr_array_unref);
    g_clear_pointer(&def->filesystems, g_ptr_array_unref);
    g_clear_pointer(&def->interfaces, g_ptr_array_unref);
    g_clear_pointer(&def->serials, g_ptr_array_unref);
    g_clear_pointer(&def->consoles, g_ptr_array_unref);
    g_clear_pointer(&def->controllers, g_ptr_array_unref);
    g_clear_pointer(&def->idmaps, g_ptr_array_unref);
    g_free(def->panic_model);
    g_free(def->memballoon_model);
    g_free(def);
}

/* ---- parsing: identity and resources --------------------------------------------------- */

/* <domain type=>, name, uuid, os type, arch and machine: libvirt's virDomainDefParseIDs and
 * virDomainDefParseCaps, in their order. */
static gboolean
parse_ids(const xmlNode *root, SvDomainDef *def, GError **error)
{
    g_autofree char *type = get_prop(root, "type");
    g_autofree char *uuid = child_text(root, "uuid");
    int v;

    def->name = child_text(root, "name");
    if (!def->name) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_NO_NAME, "missing name information");
        return FALSE;
    }
    /* libvirt checks newlines here, in its generic XML layer; the rest comes later. */
    if (strchr(def->name, '\n')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: \n");
        return FALSE;
    }
    if (!uuid)
        sv_uuid_generate(def->uuid);
    else if (!sv_uuid_parse(uuid, def->uuid)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "malformed uuid element");
        return FALSE;
    }
    if (!type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "missing domain type attribute");
        return FALSE;
    }
    v = sv_domain_virt_type_from_string(type);
    if (v < 0 && word_in(UNSUPPORTED_VIRT_TYPES, type)) {
        set_unsupported_value(error, root, "type", type);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "invalid domain type %s",
                     type);
        return FALSE;
    }
    def->type = v;
    return TRUE;
}

static gboolean
parse_os_type(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *os = first_child(root, "os");
    xmlNode *type = os ? first_child(os, "type") : NULL;
    g_autofree char *text = get_text(type);

    if (!text) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "an os <type> must be specified");
        return FALSE;
    }
    if (word_in(UNSUPPORTED_OS_TYPES, text)) {
        g_autofree char *what = g_strdup_printf("os type '%s'", text);

        set_unsupported(error, what);
        return FALSE;
    }
    if (!word_in("hvm xen linux exe", text)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown OS type '%s'",
                     text);
        return FALSE;
    }
    /* libvirt's back-compat hack: xen PV guests have always been called 'linux'. */
    if (def->type == SV_DOMAIN_VIRT_XEN && g_str_equal(text, "xen")) {
        g_free(text);
        text = g_strdup("linux");
    }
    def->os.type = g_steal_pointer(&text);
    def->os.arch = get_prop(type, "arch");
    def->os.machine = get_prop(type, "machine");
    if (def->os.arch && !word_in(KNOWN_ARCHES, def->os.arch)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "Unknown architecture %s",
                     def->os.arch);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_title(const xmlNode *root, SvDomainDef *def, GError **error)
{
    def->title = child_text(root, "title");
    if (def->title && strchr(def->title, '\n')) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Domain title can't contain newlines");
        return FALSE;
    }
    def->description = child_text(root, "description");
    return TRUE;
}

static char *
node_dump(xmlDoc *doc, xmlNode *node, int level)
{
    xmlBuffer *buf = xmlBufferCreate();
    int saved = xmlIndentTreeOutput;
    char *ret = NULL;

    /* libxml2's thread-local indentation switch, restored as libvirt does. */
    xmlIndentTreeOutput = 1;
    if (xmlNodeDump(buf, doc, node, level, 1) >= 0)
        ret = g_strdup((const char *)xmlBufferContent(buf));
    xmlIndentTreeOutput = saved;
    xmlBufferFree(buf);
    return ret;
}

/* libvirt's virXMLNodeSanitizeNamespaces: keep only namespaced child elements, and only the
 * first per namespace, so each application owns exactly one element. */
static void
metadata_sanitize(xmlNode *metadata)
{
    xmlNode *c = metadata->children;

    while (c) {
        xmlNode *next = c->next;

        if (c->type != XML_ELEMENT_NODE || !c->ns || !c->ns->href) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
            c = next;
            continue;
        }
        for (xmlNode *d = next; d;) {
            xmlNode *dnext = d->next;

            if (d->type == XML_ELEMENT_NODE && d->ns && d->ns->href &&
                xmlStrEqual(d->ns->href, c->ns->href)) {
                if (d == next)
                    next = dnext;
                xmlUnlinkNode(d);
                xmlFreeNode(d);
            }
            d = dnext;
        }
        c = next;
    }
}

/* <metadata> as a standalone element: the copy into a new document declares the namespaces
 * its content borrowed from ancestors, so the string parses on its own. */
static void
parse_metadata(const xmlNode *root, SvDomainDef *def)
{
    xmlNode *node = first_child(root, "metadata");
    xmlDoc *doc;
    xmlNode *copy;

    if (!node)
        return;
    doc = xmlNewDoc((const xmlChar *)"1.0");
    copy = xmlDocCopyNode(node, doc, 1);
    if (!copy)
        g_error("%s: out of memory", G_STRLOC);
    xmlDocSetRootElement(doc, copy);
    metadata_sanitize(copy);
    def->metadata = node_dump(doc, copy, 0);
    xmlFreeDoc(doc);
}

/* libvirt's virScaleInteger on a value from an element with a unit attribute, giving KiB
 * rounded up. `xpath` names the element in libvirt's error. A missing or empty element
 * gives 0, as in libvirt. */
static gboolean
parse_memory_value(const xmlNode *node, const char *xpath, guint64 *out_kib, GError **error)
{
    g_autofree char *text = get_text(node);
    g_autofree char *unit = node ? get_prop(node, "unit") : NULL;
    guint64 value = 0;
    guint64 scale = 1024;

    *out_kib = 0;
    if (!text)
        return TRUE;
    if (!parse_u64(text, &value)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value '%s' for element or attribute '%s'", text, xpath);
        return FALSE;
    }
    if (unit && *unit) {
        static const char *const prefixes = "kmgtpe";
        const char *p = strchr(prefixes, g_ascii_tolower(unit[0]));
        guint64 base = 0;

        if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
            !g_ascii_strcasecmp(unit, "bytes"))
            base = 1;
        else if (p && (!unit[1] || !g_ascii_strcasecmp(unit + 1, "iB")))
            base = 1024;
        else if (p && g_ascii_tolower(unit[1]) == 'b' && !unit[2])
            base = 1000;
        if (!base) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
            return FALSE;
        }
        scale = 1;
        if (base > 1) {
            for (const char *q = prefixes; q <= p; q++)
                scale *= base;
        }
    }
    if (value && value > MEMORY_MAX_BYTES / scale) {
        g_autofree char *detail =
            g_strdup_printf("value too large: %" G_GUINT64_FORMAT "%s", value, unit ? unit : "");

        set_templated(error, SV_FROM_NONE, SV_ERR_OVERFLOW, "numerical overflow: %s",
                      "numerical overflow", detail);
        return FALSE;
    }
    *out_kib = (value * scale + 1023) / 1024;
    return TRUE;
}

static gboolean
parse_memory(const xmlNode *root, SvDomainDef *def, GError **error)
{
    if (!parse_memory_value(first_child(root, "memory"), "./memory[1]", &def->memory_kib,
                            error))
        return FALSE;
    return parse_memory_value(first_child(root, "currentMemory"), "./currentMemory[1]",
                              &def->current_memory_kib, error);
}

static gboolean
parse_vcpu(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = first_child(root, "vcpu");
    g_autofree char *text = NULL;
    int placement = SV_DOMAIN_CPU_PLACEMENT_STATIC;

    if (!node)
        return TRUE;
    text = get_text_raw(node);
    if (!parse_uint(text, &def->vcpus)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "maximum vcpus count must be an integer");
        return FALSE;
    }
    if (!prop_enum(node, "placement", sv_domain_cpu_placement_from_string, 0, NULL, FALSE,
                   &placement, error))
        return FALSE;
    def->placement = placement;
    return TRUE;
}

/* ---- parsing: os, features, cpu, clock, lifecycle, idmap, seclabel ------------------- */

/* Children of <os> that only some os types use. libvirt ignores them for the others, which
 * would lose them silently, so they are refused instead. */
static gboolean
check_os_children(const xmlNode *os, const char *os_type, GError **error)
{
    static const struct {
        const char *element;
        const char *os_types;
    } uses[] = {
        {"loader", "hvm"},         {"boot", "hvm"},         {"kernel", "hvm linux"},
        {"initrd", "hvm linux"},   {"cmdline", "hvm linux"}, {"init", "exe"},
        {"initarg", "exe"},
    };

    for (const xmlNode *c = os->children; c; c = c->next) {
        for (guint i = 0; i < G_N_ELEMENTS(uses); i++) {
            g_autofree char *what = NULL;

            if (!is_elem(c, uses[i].element) || word_in(uses[i].os_types, os_type))
                continue;
            what = g_strdup_printf("<%s> with os type '%s'", uses[i].element, os_type);
            set_unsupported(error, what);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_loader(const xmlNode *os, SvDomainDef *def, GError **error)
{
    xmlNode *node = first_child(os, "loader");
    int type = SV_DOMAIN_LOADER_TYPE_NONE;
    int readonly = SV_DOMAIN_TRISTATE_ABSENT;

    if (!node)
        return TRUE;
    if (!prop_enum(node, "readonly", sv_domain_tristate_from_string, 1, NULL, FALSE, &readonly,
                   error) ||
        !prop_enum(node, "type", sv_domain_loader_type_from_string, 1, NULL, FALSE, &type, error))
        return FALSE;
    def->os.loader = get_text(node);
    /* libvirt's post-parse: a loader path without a type is a ROM. */
    if (def->os.loader && type == SV_DOMAIN_LOADER_TYPE_NONE)
        type = SV_DOMAIN_LOADER_TYPE_ROM;
    def->os.loader_type = type;
    def->os.loader_readonly = readonly;
    return TRUE;
}

static gboolean
parse_os(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *os = first_child(root, "os");
    SvDomainOsDef *o = &def->os;

    if (!check_os_children(os, o->type, error) || !parse_loader(os, def, error))
        return FALSE;
    o->kernel = child_text(os, "kernel");
    o->initrd = child_text(os, "initrd");
    o->cmdline = child_text(os, "cmdline");
    o->init = child_text(os, "init");
    for (const xmlNode *c = os->children; c; c = c->next) {
        int dev = 0;

        if (is_elem(c, "initarg")) {
            char *arg = get_text(c);

            if (!arg) {
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                             "No data supplied for <initarg> element");
                return FALSE;
            }
            g_ptr_array_add(o->initargs, arg);
        }
        if (!is_elem(c, "boot"))
            continue;
        if (!prop_enum(c, "dev", sv_domain_boot_dev_from_string, 0, NULL, TRUE, &dev, error))
            return FALSE;
        /* libvirt keeps the first VIR_DOMAIN_BOOT_LAST entries and ignores the rest. */
        if (o->n_boot_devs < SV_DOMAIN_BOOT_LAST)
            o->boot_devs[o->n_boot_devs++] = dev;
    }
    return TRUE;
}

static void
parse_features(const xmlNode *root, SvDomainDef *def)
{
    xmlNode *node = first_child(root, "features");

    if (!node)
        return;
    for (const xmlNode *c = node->children; c; c = c->next) {
        int bit;

        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        bit = sv_domain_feature_from_string((const char *)c->name);
        if (bit > 0)
            def->features |= (guint)bit;
    }
}

/* <cpu>'s attributes, checked as libvirt's virCPUDefParseXML does. */
static gboolean
parse_cpu_attrs(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *mode = get_prop(node, "mode");
    int match = SV_DOMAIN_CPU_MATCH_EXACT;
    int check = SV_DOMAIN_CPU_CHECK_DEFAULT;
    int migratable = SV_DOMAIN_SWITCH_ABSENT;
    int v = mode ? sv_domain_cpu_mode_from_string(mode) : SV_DOMAIN_CPU_MODE_CUSTOM;

    if (v < 0) {
        sv_error_set(error, FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED, "Invalid mode attribute '%s'",
                     mode);
        return FALSE;
    }
    def->cpu_mode = v;
    if (!prop_enum(node, "match", sv_domain_cpu_match_from_string, 0, NULL, FALSE, &match,
                   error) ||
        !prop_enum(node, "check", sv_domain_cpu_check_from_string, 0, NULL, FALSE, &check,
                   error) ||
        !prop_enum(node, "migratable", sv_domain_switch_from_string, 1, NULL, FALSE, &migratable,
                   error))
        return FALSE;
    if (migratable != SV_DOMAIN_SWITCH_ABSENT &&
        def->cpu_mode != SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->cpu_mode != SV_DOMAIN_CPU_MODE_MAXIMUM) {
        sv_error_set(error, FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' "
                     "CPU mode");
        return FALSE;
    }
    def->cpu_match = match;
    def->cpu_check = check;
    def->cpu_migratable = migratable;
    return TRUE;
}

static gboolean
parse_cpu(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = first_child(root, "cpu");
    xmlNode *model;
    g_autofree char *fallback = NULL;
    int v;

    if (!node)
        return TRUE;
    if (!parse_cpu_attrs(node, def, error))
        return FALSE;
    model = first_child(node, "model");
    if (model) {
        fallback = get_prop(model, "fallback");
        v = fallback ? sv_domain_cpu_fallback_from_string(fallback)
                     : SV_DOMAIN_CPU_FALLBACK_ALLOW;
        if (v < 0) {
            sv_error_set(error, FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Invalid fallback attribute");
            return FALSE;
        }
        def->cpu_fallback = v;
        def->cpu_model = get_text(model);
    }
    if (def->cpu_model && def->cpu_mode != SV_DOMAIN_CPU_MODE_CUSTOM) {
        set_unsupported(error, "<model> in <cpu> with a mode other than 'custom'");
        return FALSE;
    }
    if (!def->cpu_model && def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM &&
        def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "check attribute specified for CPU with no model");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_clock(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = first_child(root, "clock");
    g_autofree char *offset = node ? get_prop(node, "offset") : NULL;
    int v;

    if (!offset)
        return TRUE;
    v = sv_domain_clock_offset_from_string(offset);
    if (v < 0 && word_in(UNSUPPORTED_CLOCK_OFFSETS, offset)) {
        set_unsupported_value(error, node, "offset", offset);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown clock offset '%s'", offset);
        return FALSE;
    }
    def->clock_offset = v;
    return TRUE;
}

static gboolean
parse_lifecycle(const xmlNode *root, SvDomainDef *def, GError **error)
{
    const struct {
        const char *element;
        SvDomainLifecycleAction *out;
    } events[] = {
        {"on_poweroff", &def->on_poweroff},
        {"on_reboot", &def->on_reboot},
        {"on_crash", &def->on_crash},
    };

    for (guint i = 0; i < G_N_ELEMENTS(events); i++) {
        g_autofree char *text = child_text(root, events[i].element);
        int v;

        if (!text)
            continue;
        v = sv_domain_lifecycle_action_from_string(text);
        if (v < 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown %s action: %s", events[i].element, text);
            return FALSE;
        }
        *events[i].out = v;
    }
    return TRUE;
}

static gint
idmap_compare(gconstpointer a, gconstpointer b)
{
    const SvDomainIdMapDef *x = *(SvDomainIdMapDef *const *)a;
    const SvDomainIdMapDef *y = *(SvDomainIdMapDef *const *)b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static gboolean
parse_idmaps(const xmlNode *root, SvDomainDef *def, GError **error)
{
    for (const xmlNode *m = root->children; m; m = m->next) {
        if (!is_elem(m, "idmap"))
            continue;
        for (const xmlNode *c = m->children; c; c = c->next) {
            g_autofree char *start = NULL;
            g_autofree char *target = NULL;
            g_autofree char *count = NULL;
            SvDomainIdMapDef entry = {0};

            if (!is_elem(c, "uid") && !is_elem(c, "gid"))
                continue;
            entry.kind = is_elem(c, "uid") ? SV_DOMAIN_IDMAP_UID : SV_DOMAIN_IDMAP_GID;
            start = get_prop(c, "start");
            target = get_prop(c, "target");
            count = get_prop(c, "count");
            if (!parse_uint(start, &entry.start) || !parse_uint(target, &entry.target) ||
                !parse_uint(count, &entry.count)) {
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                             "invalid idmap start/target/count settings");
                return FALSE;
            }
            g_ptr_array_add(def->idmaps, g_memdup2(&entry, sizeof(entry)));
        }
    }
    /* libvirt sorts each list by start; uids come first in its output. */
    g_ptr_array_sort(def->idmaps, idmap_compare);
    return TRUE;
}

static gboolean
parse_seclabel(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = NULL;
    g_autofree char *type = NULL;

    for (xmlNode *c = root->children; c; c = c->next) {
        if (!is_elem(c, "seclabel"))
            continue;
        if (node) {
            set_unsupported(error, "more than one <seclabel>");
            return FALSE;
        }
        node = c;
    }
    if (!node)
        return TRUE;
    /* Without a type libvirt picks dynamic labelling, which needs a security driver. */
    type = get_prop(node, "type");
    if (!type) {
        set_unsupported(error, "<seclabel> without type='none'");
        return FALSE;
    }
    if (!g_str_equal(type, "none")) {
        if (word_in(UNSUPPORTED_SECLABEL_TYPES, type))
            set_unsupported_value(error, node, "type", type);
        else
            set_invalid_attr(error, node, "type", type);
        return FALSE;
    }
    def->seclabel_none = TRUE;
    def->seclabel_model = get_prop(node, "model");
    return TRUE;
}

/* ---- parsing: devices -------------------------------------------------------------------- */

/* libvirt's virDiskNameToIndex: a known prefix, at least one lowercase letter (read as a
 * bijective base-26 number: a=0, z=25, aa=26) and an optional partition number.
 * Returns -1 for names libvirt refuses. */
static int
disk_name_index(const char *name)
{
    static const char *const prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    const char *p = NULL;
    gint64 index = 0;

    for (guint i = 0; i < G_N_ELEMENTS(prefixes) && !p; i++) {
        if (g_str_has_prefix(name, prefixes[i]))
            p = name + strlen(prefixes[i]);
    }
    if (!p || !g_ascii_islower(*p))
        return -1;
    for (gboolean first = TRUE; g_ascii_islower(*p); p++, first = FALSE) {
        index = (index + (first ? 0 : 1)) * 26 + (*p - 'a');
        if (index > G_MAXINT)
            return -1;
    }
    while (g_ascii_isdigit(*p))
        p++;
    return *p == '\0' ? (int)index : -1;
}

/* What the disk ordering looks at. libvirt compares the bus as written (none when derived
 * from the name), which makes its own output reorder when parsed again; the derived bus
 * gives the same order whenever buses are explicit, as in any XML libvirt formatted, and
 * keeps format(parse(x)) a fixed point. */
typedef struct {
    SvDomainDiskBus bus;
    int index;
} DiskKey;

/* libvirt's virDomainDiskInsert, which its parser uses: a disk goes after the disks on the
 * same bus, but before the first of them with a higher index. So each bus keeps its disks
 * together, sorted by index, in the order the buses first appear. */
static guint
disk_insert_position(const GArray *keys, DiskKey key)
{
    gint64 at = -1;

    for (gint64 i = (gint64)keys->len - 1; i >= 0; i--) {
        const DiskKey *k = &g_array_index(keys, DiskKey, i);

        if (k->bus != key.bus)
            continue;
        if (k->index > key.index)
            at = i;
        else if (at == -1)
            at = i + 1;
    }
    return at < 0 ? keys->len : (guint)at;
}

/* libvirt's bus guess for a target without bus=. */
static SvDomainDiskBus
disk_bus_from_name(const char *name)
{
    if (g_str_has_prefix(name, "sd"))
        return SV_DOMAIN_DISK_BUS_SCSI;
    if (g_str_has_prefix(name, "vd"))
        return SV_DOMAIN_DISK_BUS_VIRTIO;
    if (g_str_has_prefix(name, "xvd"))
        return SV_DOMAIN_DISK_BUS_XEN;
    if (g_str_has_prefix(name, "ubd"))
        return SV_DOMAIN_DISK_BUS_UML;
    if (g_str_has_prefix(name, "fd"))
        return SV_DOMAIN_DISK_BUS_FDC;
    return SV_DOMAIN_DISK_BUS_IDE;
}

static gboolean
parse_disk_driver(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    xmlNode *driver = first_child(node, "driver");
    g_autofree char *format = NULL;
    int v;

    if (!driver)
        return TRUE;
    disk->driver_name = get_prop(driver, "name");
    format = get_prop(driver, "type");
    if (!format)
        return TRUE;
    v = sv_domain_disk_format_from_string(format);
    if (v > SV_DOMAIN_DISK_FORMAT_NONE) {
        disk->format = v;
        return TRUE;
    }
    if (word_in(UNSUPPORTED_DISK_FORMATS, format))
        set_unsupported_value(error, driver, "type", format);
    else
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown driver format value '%s'", format);
    return FALSE;
}

static gboolean
parse_disk_target(const xmlNode *node, SvDomainDiskDef *disk, DiskKey *key, GError **error)
{
    xmlNode *target = first_child(node, "target");
    int bus = -1;

    disk->target_dev = target ? get_prop(target, "dev") : NULL;
    if (target && !prop_enum(target, "bus", sv_domain_disk_bus_from_string, 0, NULL, FALSE, &bus,
                             error))
        return FALSE;
    if (!disk->target_dev || !*disk->target_dev) {
        set_no_target(error, disk->source);
        return FALSE;
    }
    if (!disk->source && disk->device == SV_DOMAIN_DISK_DEVICE_DISK) {
        set_no_source(error, disk->target_dev);
        return FALSE;
    }
    key->index = disk_name_index(disk->target_dev);
    if (key->index < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Unknown disk name '%s' and no address specified", disk->target_dev);
        return FALSE;
    }
    disk->bus = bus >= 0 ? (SvDomainDiskBus)bus : disk_bus_from_name(disk->target_dev);
    key->bus = disk->bus;
    return TRUE;
}

static gboolean
parse_disk(const xmlNode *node, SvDomainDef *def, GArray *disk_keys, GError **error)
{
    g_autoptr(SvDomainDiskDef) disk = g_new0(SvDomainDiskDef, 1);
    DiskKey key;
    guint at;
    xmlNode *source = first_child(node, "source");
    int type = SV_DOMAIN_DISK_TYPE_FILE;
    int device = SV_DOMAIN_DISK_DEVICE_DISK;

    if (!prop_enum(node, "type", sv_domain_disk_type_from_string, 0, UNSUPPORTED_DISK_TYPES,
                   FALSE, &type, error) ||
        !prop_enum(node, "device", sv_domain_disk_device_from_string, 0,
                   UNSUPPORTED_DISK_DEVICES, FALSE, &device, error))
        return FALSE;
    disk->type = type;
    disk->device = device;
    if (source) {
        disk->source = get_prop(source, type == SV_DOMAIN_DISK_TYPE_FILE ? "file" : "dev");
        if (disk->source && !*disk->source)
            g_clear_pointer(&disk->source, g_free);
    }
    if (!parse_disk_driver(node, disk, error) || !parse_disk_target(node, disk, &key, error))
        return FALSE;
    /* libvirt makes every cdrom read-only. */
    disk->readonly = first_child(node, "readonly") || device == SV_DOMAIN_DISK_DEVICE_CDROM;
    at = disk_insert_position(disk_keys, key);
    g_array_insert_val(disk_keys, at, key);
    g_ptr_array_insert(def->disks, (gint)at, g_steal_pointer(&disk));
    return TRUE;
}

static char *
child_prop(const xmlNode *node, const char *child, const char *attr)
{
    xmlNode *c = first_child(node, child);
    char *v = c ? get_prop(c, attr) : NULL;

    if (v && !*v)
        g_clear_pointer(&v, g_free);
    return v;
}

static gboolean
parse_filesystem(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autoptr(SvDomainFsDef) fs = g_new0(SvDomainFsDef, 1);
    int type = SV_DOMAIN_FS_TYPE_MOUNT;
    int access = SV_DOMAIN_FS_ACCESS_PASSTHROUGH;

    if (!prop_enum(node, "type", sv_domain_fs_type_from_string, 0, UNSUPPORTED_FS_TYPES, FALSE,
                   &type, error) ||
        !prop_enum(node, "accessmode", sv_domain_fs_access_mode_from_string, 0, NULL, FALSE,
                   &access, error))
        return FALSE;
    fs->type = type;
    fs->accessmode = access;
    fs->source_dir = child_prop(node, "source", "dir");
    fs->target_dir = child_prop(node, "target", "dir");
    if (!fs->source_dir) {
        set_no_source(error, fs->target_dir);
        return FALSE;
    }
    if (!fs->target_dir) {
        set_no_target(error, fs->source_dir);
        return FALSE;
    }
    fs->readonly = first_child(node, "readonly") != NULL;
    g_ptr_array_add(def->filesystems, g_steal_pointer(&fs));
    return TRUE;
}

/* libvirt's virMacAddrParse: six groups of one or two hex digits split by ':', optionally
 * followed by blanks. */
static gboolean
mac_parse(const char *s, guint8 out[6])
{
    const char *p = s;

    for (guint i = 0; i < 6; i++) {
        guint v = 0;
        guint n = 0;

        while (n < 3 && g_ascii_isxdigit(p[n]))
            v = v * 16 + (guint)g_ascii_xdigit_value(p[n++]);
        if (n < 1 || n > 2)
            return FALSE;
        out[i] = (guint8)v;
        p += n;
        if (i == 5)
            return (guchar)*p <= ' ';
        if (*p != ':')
            return FALSE;
        p++;
    }
    return FALSE;
}

static gboolean
parse_mac(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    g_autofree char *address = child_prop(node, "mac", "address");
    guint8 mac[6];

    if (!address)
        return TRUE;
    if (!mac_parse(address, mac)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "unable to parse mac address '%s'",
                     address);
        return FALSE;
    }
    if (mac[0] & 1) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "expected unicast mac address, found multicast '%s'", address);
        return FALSE;
    }
    net->mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                               mac[4], mac[5]);
    return TRUE;
}

#define NET_MODEL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static gboolean
parse_interface(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autoptr(SvDomainNetDef) net = g_new0(SvDomainNetDef, 1);
    int type = SV_DOMAIN_NET_TYPE_USER;

    if (!prop_enum(node, "type", sv_domain_net_type_from_string, 0, UNSUPPORTED_NET_TYPES, FALSE,
                   &type, error) ||
        !parse_mac(node, net, error))
        return FALSE;
    net->type = type;
    net->model = child_prop(node, "model", "type");
    net->target_dev = child_prop(node, "target", "dev");
    /* As libvirt: a model it does not know is taken, but only as one plain word (it ends
     * up in a hypervisor's command line). */
    if (net->model && strspn(net->model, NET_MODEL_CHARS) < strlen(net->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                     "Model name contains invalid characters");
        return FALSE;
    }
    g_ptr_array_add(def->interfaces, g_steal_pointer(&net));
    return TRUE;
}

static gboolean
parse_chr_target(const xmlNode *node, SvDomainChrDef *chr, gboolean serial, GError **error)
{
    xmlNode *target = first_child(node, "target");
    g_autofree char *port = target ? get_prop(target, "port") : NULL;

    chr->target_type = target ? get_prop(target, "type") : NULL;
    if (chr->target_type &&
        !word_in(serial ? SERIAL_TARGET_TYPES : CONSOLE_TARGET_TYPES, chr->target_type)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown target type '%s' specified for character device",
                     chr->target_type);
        return FALSE;
    }
    /* Unset ports (libvirt also takes -1 for unset) are assigned after parsing. */
    chr->target_port = serial ? G_MAXUINT : 0;
    if (port && !g_str_equal(port, "-1") && !parse_int_range(port, &chr->target_port)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Invalid port number: %s", port);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_chr(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainChrDef) chr = g_new0(SvDomainChrDef, 1);
    g_autofree char *type = get_prop(node, "type");
    gboolean serial = is_elem(node, "serial");
    int v = type ? sv_domain_chr_type_from_string(type) : SV_DOMAIN_CHR_TYPE_PTY;

    if (v < 0 && word_in(UNSUPPORTED_CHR_TYPES, type)) {
        set_unsupported_value(error, node, "type", type);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown type presented to host for character device: %s", type);
        return FALSE;
    }
    chr->type = v;
    chr->source_path = child_prop(node, "source", "path");
    if (chr->type == SV_DOMAIN_CHR_TYPE_FILE && !chr->source_path) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "Missing source path attribute for char device");
        return FALSE;
    }
    /* A pty path is live state, allocated at start; a new definition must not carry one. */
    if (chr->type == SV_DOMAIN_CHR_TYPE_PTY && (flags & SV_DOMAIN_PARSE_INACTIVE))
        g_clear_pointer(&chr->source_path, g_free);
    if (!parse_chr_target(node, chr, serial, error))
        return FALSE;
    g_ptr_array_add(serial ? def->serials : def->consoles, g_steal_pointer(&chr));
    return TRUE;
}

static gboolean
parse_controller(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autoptr(SvDomainControllerDef) ctrl = g_new0(SvDomainControllerDef, 1);
    g_autofree char *index = get_prop(node, "index");
    int type = SV_DOMAIN_CONTROLLER_IDE;

    if (!prop_enum(node, "type", sv_domain_controller_type_from_string, 0, NULL, FALSE, &type,
                   error))
        return FALSE;
    ctrl->type = type;
    /* G_MAXUINT marks "assign one" until post-parse; real indexes fit libvirt's int. */
    ctrl->index = G_MAXUINT;
    if (index && !parse_int_range(index, &ctrl->index)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'index' in element 'controller': '%s'. "
                     "Expected integer value",
                     index);
        return FALSE;
    }
    ctrl->model = get_prop(node, "model");
    g_ptr_array_add(def->controllers, g_steal_pointer(&ctrl));
    return TRUE;
}

static gboolean
parse_panic(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *model = get_prop(node, "model");

    if (def->panic) {
        set_unsupported(error, "more than one <panic>");
        return FALSE;
    }
    if (model && !word_in(PANIC_MODELS, model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown panic model '%s'",
                     model);
        return FALSE;
    }
    def->panic = TRUE;
    def->panic_model = g_steal_pointer(&model);
    return TRUE;
}

static gboolean
parse_memballoon(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *model = get_prop(node, "model");

    if (def->memballoon_model) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "only a single memory balloon device is supported");
        return FALSE;
    }
    if (!model) {
        set_missing_attr(error, node, "model");
        return FALSE;
    }
    if (!word_in(MEMBALLOON_MODELS, model)) {
        set_invalid_attr(error, node, "model", model);
        return FALSE;
    }
    def->memballoon_model = g_steal_pointer(&model);
    return TRUE;
}

static gboolean
parse_graphics(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *type = get_prop(node, "type");

    if (!type) {
        set_missing_attr(error, node, "type");
        return FALSE;
    }
    /* 'none' is splitvirt's own: libvirt 9.0.0 has no such graphics type. */
    if (!g_str_equal(type, "none")) {
        if (word_in(UNSUPPORTED_GRAPHICS_TYPES, type))
            set_unsupported_value(error, node, "type", type);
        else
            set_invalid_attr(error, node, "type", type);
        return FALSE;
    }
    def->graphics_none = TRUE;
    return TRUE;
}

static gboolean
parse_device(const xmlNode *node, SvDomainDef *def, guint flags, GArray *disk_keys,
             GError **error)
{
    if (is_elem(node, "emulator")) {
        if (!def->emulator)
            def->emulator = get_text(node);
        return TRUE;
    }
    if (is_elem(node, "disk"))
        return parse_disk(node, def, disk_keys, error);
    if (is_elem(node, "filesystem"))
        return parse_filesystem(node, def, error);
    if (is_elem(node, "interface"))
        return parse_interface(node, def, error);
    if (is_elem(node, "serial") || is_elem(node, "console"))
        return parse_chr(node, def, flags, error);
    if (is_elem(node, "controller"))
        return parse_controller(node, def, error);
    if (is_elem(node, "panic"))
        return parse_panic(node, def, error);
    if (is_elem(node, "memballoon"))
        return parse_memballoon(node, def, error);
    if (is_elem(node, "graphics"))
        return parse_graphics(node, def, error);
    /* Anything else is refused or dropped by the schema check. */
    return TRUE;
}

static gboolean
parse_devices(const xmlNode *root, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(GArray) disk_keys = g_array_new(FALSE, FALSE, sizeof(DiskKey));

    for (const xmlNode *d = root->children; d; d = d->next) {
        if (!is_elem(d, "devices"))
            continue;
        for (const xmlNode *c = d->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && !parse_device(c, def, flags, disk_keys, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* ---- defaults and validation -------------------------------------------------------------- */

static gboolean
controller_index_used(const SvDomainDef *def, SvDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == type && c->index == index)
            return TRUE;
    }
    return FALSE;
}

/* libvirt's post-parse: serials get the port after the highest one before them, controllers
 * the lowest index unused by their type, in document order. */
static void
assign_ports_and_indexes(SvDomainDef *def)
{
    for (guint i = 0; i < def->serials->len; i++) {
        SvDomainChrDef *chr = def->serials->pdata[i];
        gint64 max = -1;

        if (chr->target_port != G_MAXUINT)
            continue;
        for (guint j = 0; j < i; j++)
            max = MAX(max, (gint64)((SvDomainChrDef *)def->serials->pdata[j])->target_port);
        chr->target_port = (guint)(max + 1);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *ctrl = def->controllers->pdata[i];
        guint index = 0;

        if (ctrl->index != G_MAXUINT)
            continue;
        while (controller_index_used(def, ctrl->type, index))
            index++;
        ctrl->index = index;
    }
}

static gboolean
post_parse(SvDomainDef *def, GError **error)
{
    if (def->memory_kib == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Memory size must be specified via <memory> or in the <numa> configuration");
        return FALSE;
    }
    if (def->current_memory_kib == 0 || def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    if (g_str_equal(def->os.type, "hvm") && def->os.n_boot_devs == 0)
        def->os.boot_devs[def->os.n_boot_devs++] = SV_DOMAIN_BOOT_DISK;
    assign_ports_and_indexes(def);
    return TRUE;
}

static gboolean
validate_idmaps(const SvDomainDef *def, GError **error)
{
    const SvDomainIdMapDef *first[SV_DOMAIN_IDMAP_LAST] = {NULL, NULL};

    for (guint i = 0; i < def->idmaps->len; i++) {
        const SvDomainIdMapDef *m = def->idmaps->pdata[i];

        if (!first[m->kind])
            first[m->kind] = m;
    }
    if (!first[SV_DOMAIN_IDMAP_UID] != !first[SV_DOMAIN_IDMAP_GID]) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "uid and gid should be mapped both");
        return FALSE;
    }
    for (guint k = 0; k < SV_DOMAIN_IDMAP_LAST; k++) {
        if (first[k] && first[k]->start != 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "You must map the root user of container");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
validate(const SvDomainDef *def, GError **error)
{
    const struct {
        const char *event;
        SvDomainLifecycleAction action;
    } no_coredump[] = {{"poweroff", def->on_poweroff}, {"reboot", def->on_reboot}};

    /* Yes, this text for 0 vCPUs without NUMA: it is what libvirt says (facts section 11). */
    if (def->vcpus == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "CPU IDs in <numa> exceed the <vcpu> count");
        return FALSE;
    }
    if (!sv_domain_name_check(def->name, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(no_coredump); i++) {
        if (no_coredump[i].action == SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY ||
            no_coredump[i].action == SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "Lifecycle event '%s' doesn't support '%s' action", no_coredump[i].event,
                         sv_domain_lifecycle_action_to_string(no_coredump[i].action));
            return FALSE;
        }
    }
    return validate_idmaps(def, error);
}

gboolean
sv_domain_name_check(const char *name, GError **error)
{
    if (!name || !*name) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_NO_NAME, "missing name information");
        return FALSE;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name is not valid UTF-8");
        return FALSE;
    }
    if (strlen(name) > NAME_MAX_BYTES) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "name must not be longer than %d bytes", NAME_MAX_BYTES);
        return FALSE;
    }
    if (strchr(name, '\n')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: \n");
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "name must not contain control characters");
            return FALSE;
        }
    }
    if (strchr(name, '/')) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name %s cannot contain '/'", name);
        return FALSE;
    }
    if (name[0] == '.') {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name '%s' must not start with '.'",
                     name);
        return FALSE;
    }
    return TRUE;
}

/* ---- parse entry point ----------------------------------------------------------------- */

static gboolean
parse_root(const xmlNode *root, SvDomainDef *def, guint flags, GError **error)
{
    if (!parse_ids(root, def, error) || !parse_os_type(root, def, error) ||
        !parse_title(root, def, error))
        return FALSE;
    parse_metadata(root, def);
    if (!parse_memory(root, def, error) || !parse_vcpu(root, def, error) ||
        !parse_os(root, def, error) || !parse_idmaps(root, def, error) ||
        !parse_clock(root, def, error) || !parse_lifecycle(root, def, error))
        return FALSE;
    parse_features(root, def);
    return parse_cpu(root, def, error) && parse_seclabel(root, def, error) &&
           parse_devices(root, def, flags, error);
}

SvDomainDef *
sv_domain_def_parse(const char *xml, guint flags, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    xmlDoc *doc;
    xmlNode *root;
    gboolean ok;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = read_document(xml, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR, "missing root element");
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!g_str_equal((const char *)root->name, "domain")) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "expecting root element of 'domain', not '%s'", root->name);
        xmlFreeDoc(doc);
        return NULL;
    }
    def = def_new();
    ok = (!(flags & SV_DOMAIN_PARSE_VALIDATE) ||
          check_element(root, NULL, NULL, CHECK_UNKNOWN, error)) &&
         parse_root(root, def, flags, error) &&
         check_element(root, NULL, NULL, CHECK_UNSUPPORTED, error) && post_parse(def, error) &&
         validate(def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

/* ---- copy -------------------------------------------------------------------------------- */

static gpointer
disk_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    const SvDomainDiskDef *s = src;
    SvDomainDiskDef *d = g_memdup2(s, sizeof(*s));

    d->driver_name = g_strdup(s->driver_name);
    d->source = g_strdup(s->source);
    d->target_dev = g_strdup(s->target_dev);
    return d;
}

static gpointer
fs_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    const SvDomainFsDef *s = src;
    SvDomainFsDef *d = g_memdup2(s, sizeof(*s));

    d->source_dir = g_strdup(s->source_dir);
    d->target_dir = g_strdup(s->target_dir);
    return d;
}

static gpointer
net_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    const SvDomainNetDef *s = src;
    SvDomainNetDef *d = g_memdup2(s, sizeof(*s));

    d->mac = g_strdup(s->mac);
    d->model = g_strdup(s->model);
    d->target_dev = g_strdup(s->target_dev);
    return d;
}

static gpointer
chr_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    const SvDomainChrDef *s = src;
    SvDomainChrDef *d = g_memdup2(s, sizeof(*s));

    d->source_path = g_strdup(s->source_path);
    d->target_type = g_strdup(s->target_type);
    return d;
}

static gpointer
controller_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    const SvDomainControllerDef *s = src;
    SvDomainControllerDef *d = g_memdup2(s, sizeof(*s));

    d->model = g_strdup(s->model);
    return d;
}

static gpointer
idmap_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    return g_memdup2(src, sizeof(SvDomainIdMapDef));
}

static gpointer
str_copy(gconstpointer src, gpointer data G_GNUC_UNUSED)
{
    return g_strdup(src);
}

/* Replace `*array`, a pointer shallow-copied from the source, by a deep copy; the copy keeps
 * the source's free function. */
static void
array_copy(GPtrArray **array, GCopyFunc copy)
{
    *array = g_ptr_array_copy(*array, copy, NULL);
}

SvDomainDef *
sv_domain_def_copy(const SvDomainDef *def)
{
    SvDomainDef *d;
    SvDomainOsDef *o;

    g_return_val_if_fail(def != NULL, NULL);
    d = g_memdup2(def, sizeof(*def));
    o = &d->os;
    d->name = g_strdup(def->name);
    d->title = g_strdup(def->title);
    d->description = g_strdup(def->description);
    d->metadata = g_strdup(def->metadata);
    o->type = g_strdup(def->os.type);
    o->arch = g_strdup(def->os.arch);
    o->machine = g_strdup(def->os.machine);
    o->loader = g_strdup(def->os.loader);
    o->kernel = g_strdup(def->os.kernel);
    o->initrd = g_strdup(def->os.initrd);
    o->cmdline = g_strdup(def->os.cmdline);
    o->init = g_strdup(def->os.init);
    array_copy(&o->initargs, str_copy);
    d->cpu_model = g_strdup(def->cpu_model);
    d->seclabel_model = g_strdup(def->seclabel_model);
    d->emulator = g_strdup(def->emulator);
    array_copy(&d->disks, disk_copy);
    array_copy(&d->filesystems, fs_copy);
    array_copy(&d->interfaces, net_copy);
    array_copy(&d->serials, chr_copy);
    array_copy(&d->consoles, chr_copy);
    array_copy(&d->controllers, controller_copy);
    array_copy(&d->idmaps, idmap_copy);
    d->panic_model = g_strdup(def->panic_model);
    d->memballoon_model = g_strdup(def->memballoon_model);
    return d;
}

/* ---- formatting -------------------------------------------------------------------------- */

/* libvirt's virBufferEscapeString, plus character references where libvirt writes a raw
 * character that a parser would not give back (CR anywhere; TAB and LF in attributes are
 * normalized to spaces), so that format(parse(x)) is a fixed point. */
static void
append_escaped(GString *buf, const char *s, gboolean attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            g_string_append(buf, "&lt;");
            break;
        case '>':
            g_string_append(buf, "&gt;");
            break;
        case '&':
            g_string_append(buf, "&amp;");
            break;
        case '"':
            g_string_append(buf, "&quot;");
            break;
        case '\'':
            g_string_append(buf, "&apos;");
            break;
        case '\r':
            g_string_append(buf, "&#13;");
            break;
        case '\n':
        case '\t':
            if (attr)
                g_string_append_printf(buf, "&#%d;", *s);
            else
                g_string_append_c(buf, *s);
            break;
        default:
            /* Other control characters cannot be represented in XML 1.0: dropped, as by
             * libvirt. */
            if ((guchar)*s >= 0x20)
                g_string_append_c(buf, *s);
        }
    }
}

/* " name='value'", nothing when value is NULL. */
static void
append_attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    append_escaped(buf, value, TRUE);
    g_string_append_c(buf, '\'');
}

/* "<name>value</name>" on its own line at `indent` spaces, nothing when value is NULL. */
static void
append_text_elem(GString *buf, int indent, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, "%*s<%s>", indent, "", name);
    append_escaped(buf, value, FALSE);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void
format_metadata(GString *buf, const SvDomainDef *def)
{
    ReadState st = {0};
    xmlDoc *doc;
    g_autofree char *dump = NULL;

    if (!def->metadata)
        return;
    doc = read_xml(def->metadata, &st);
    g_free(st.detail);
    /* Only a driver storing malformed metadata gets here without a document. */
    if (!doc)
        return;
    dump = node_dump(doc, xmlDocGetRootElement(doc), 1);
    if (dump)
        g_string_append_printf(buf, "  %s\n", dump);
    xmlFreeDoc(doc);
}

static void
format_os(GString *buf, const SvDomainDef *def)
{
    const SvDomainOsDef *o = &def->os;

    g_string_append(buf, "  <os>\n    <type");
    append_attr(buf, "arch", o->arch);
    append_attr(buf, "machine", o->machine);
    g_string_append(buf, ">");
    append_escaped(buf, o->type, FALSE);
    g_string_append(buf, "</type>\n");
    append_text_elem(buf, 4, "init", o->init);
    for (guint i = 0; i < o->initargs->len; i++)
        append_text_elem(buf, 4, "initarg", o->initargs->pdata[i]);
    if (o->loader || o->loader_type != SV_DOMAIN_LOADER_TYPE_NONE ||
        o->loader_readonly != SV_DOMAIN_TRISTATE_ABSENT) {
        g_string_append(buf, "    <loader");
        if (o->loader_readonly != SV_DOMAIN_TRISTATE_ABSENT)
            append_attr(buf, "readonly", sv_domain_tristate_to_string(o->loader_readonly));
        if (o->loader_type != SV_DOMAIN_LOADER_TYPE_NONE)
            append_attr(buf, "type", sv_domain_loader_type_to_string(o->loader_type));
        if (o->loader) {
            g_string_append_c(buf, '>');
            append_escaped(buf, o->loader, FALSE);
            g_string_append(buf, "</loader>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    append_text_elem(buf, 4, "kernel", o->kernel);
    append_text_elem(buf, 4, "initrd", o->initrd);
    append_text_elem(buf, 4, "cmdline", o->cmdline);
    for (guint i = 0; i < o->n_boot_devs; i++)
        g_string_append_printf(buf, "    <boot dev='%s'/>\n",
                               sv_domain_boot_dev_to_string(o->boot_devs[i]));
    g_string_append(buf, "  </os>\n");
}

static void
format_idmaps(GString *buf, const SvDomainDef *def)
{
    if (def->idmaps->len == 0)
        return;
    g_string_append(buf, "  <idmap>\n");
    for (guint i = 0; i < def->idmaps->len; i++) {
        const SvDomainIdMapDef *m = def->idmaps->pdata[i];

        g_string_append_printf(buf, "    <%s start='%u' target='%u' count='%u'/>\n",
                               sv_domain_idmap_kind_to_string(m->kind), m->start, m->target,
                               m->count);
    }
    g_string_append(buf, "  </idmap>\n");
}

static void
format_cpu(GString *buf, const SvDomainDef *def)
{
    gboolean custom = def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM;

    /* libvirt drops a custom <cpu> without a model: it says nothing. */
    if (custom && !def->cpu_model)
        return;
    g_string_append_printf(buf, "  <cpu mode='%s'", sv_domain_cpu_mode_to_string(def->cpu_mode));
    if (custom)
        append_attr(buf, "match", sv_domain_cpu_match_to_string(def->cpu_match));
    if (def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT)
        append_attr(buf, "check", sv_domain_cpu_check_to_string(def->cpu_check));
    if (def->cpu_migratable != SV_DOMAIN_SWITCH_ABSENT)
        append_attr(buf, "migratable", sv_domain_switch_to_string(def->cpu_migratable));
    if (!custom) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n    <model fallback='%s'>",
                           sv_domain_cpu_fallback_to_string(def->cpu_fallback));
    append_escaped(buf, def->cpu_model, FALSE);
    g_string_append(buf, "</model>\n  </cpu>\n");
}

static void
format_features_cpu_clock(GString *buf, const SvDomainDef *def)
{
    if (def->features) {
        g_string_append(buf, "  <features>\n");
        for (int bit = 1; bit < SV_DOMAIN_FEATURE_LAST; bit <<= 1) {
            if (def->features & (guint)bit)
                g_string_append_printf(buf, "    <%s/>\n", sv_domain_feature_to_string(bit));
        }
        g_string_append(buf, "  </features>\n");
    }
    format_cpu(buf, def);
    g_string_append_printf(buf, "  <clock offset='%s'/>\n",
                           sv_domain_clock_offset_to_string(def->clock_offset));
    append_text_elem(buf, 2, "on_poweroff", sv_domain_lifecycle_action_to_string(def->on_poweroff));
    append_text_elem(buf, 2, "on_reboot", sv_domain_lifecycle_action_to_string(def->on_reboot));
    append_text_elem(buf, 2, "on_crash", sv_domain_lifecycle_action_to_string(def->on_crash));
}

static void
format_disk(GString *buf, const SvDomainDiskDef *disk)
{
    g_string_append_printf(buf, "    <disk type='%s' device='%s'>\n",
                           sv_domain_disk_type_to_string(disk->type),
                           sv_domain_disk_device_to_string(disk->device));
    if (disk->driver_name || disk->format != SV_DOMAIN_DISK_FORMAT_NONE) {
        g_string_append(buf, "      <driver");
        append_attr(buf, "name", disk->driver_name);
        if (disk->format != SV_DOMAIN_DISK_FORMAT_NONE)
            append_attr(buf, "type", sv_domain_disk_format_to_string(disk->format));
        g_string_append(buf, "/>\n");
    }
    if (disk->source) {
        g_string_append(buf, "      <source");
        append_attr(buf, disk->type == SV_DOMAIN_DISK_TYPE_FILE ? "file" : "dev", disk->source);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    append_attr(buf, "dev", disk->target_dev);
    append_attr(buf, "bus", sv_domain_disk_bus_to_string(disk->bus));
    g_string_append(buf, "/>\n");
    if (disk->readonly)
        g_string_append(buf, "      <readonly/>\n");
    g_string_append(buf, "    </disk>\n");
}

static void
format_filesystem(GString *buf, const SvDomainFsDef *fs)
{
    g_string_append_printf(buf, "    <filesystem type='%s' accessmode='%s'>\n      <source",
                           sv_domain_fs_type_to_string(fs->type),
                           sv_domain_fs_access_mode_to_string(fs->accessmode));
    append_attr(buf, "dir", fs->source_dir);
    g_string_append(buf, "/>\n      <target");
    append_attr(buf, "dir", fs->target_dir);
    g_string_append(buf, "/>\n");
    if (fs->readonly)
        g_string_append(buf, "      <readonly/>\n");
    g_string_append(buf, "    </filesystem>\n");
}

static void
format_interface(GString *buf, const SvDomainNetDef *net)
{
    g_string_append_printf(buf, "    <interface type='%s'>\n",
                           sv_domain_net_type_to_string(net->type));
    if (net->mac) {
        g_string_append(buf, "      <mac");
        append_attr(buf, "address", net->mac);
        g_string_append(buf, "/>\n");
    }
    if (net->target_dev) {
        g_string_append(buf, "      <target");
        append_attr(buf, "dev", net->target_dev);
        g_string_append(buf, "/>\n");
    }
    if (net->model) {
        g_string_append(buf, "      <model");
        append_attr(buf, "type", net->model);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "    </interface>\n");
}

/* libvirt's virDomainChrDefFormat: a pty's path is live state, shown only in live XML
 * (and, for the first console, also as tty=). */
static void
format_chr(GString *buf, const char *element, const SvDomainChrDef *chr, gboolean console,
           guint flags)
{
    gboolean live_pty = chr->type == SV_DOMAIN_CHR_TYPE_PTY && chr->source_path &&
                        !(flags & SV_DOMAIN_FORMAT_INACTIVE);

    g_string_append_printf(buf, "    <%s type='%s'", element,
                           sv_domain_chr_type_to_string(chr->type));
    if (console && live_pty && chr->target_port == 0)
        append_attr(buf, "tty", chr->source_path);
    g_string_append(buf, ">\n");
    if (chr->source_path && (chr->type != SV_DOMAIN_CHR_TYPE_PTY || live_pty)) {
        g_string_append(buf, "      <source");
        append_attr(buf, "path", chr->source_path);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    append_attr(buf, "type", chr->target_type);
    g_string_append_printf(buf, " port='%u'/>\n    </%s>\n", chr->target_port, element);
}

static void
format_devices(GString *buf, const SvDomainDef *def, guint flags)
{
    g_string_append(buf, "  <devices>\n");
    append_text_elem(buf, 4, "emulator", def->emulator);
    for (guint i = 0; i < def->disks->len; i++)
        format_disk(buf, def->disks->pdata[i]);
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        g_string_append_printf(buf, "    <controller type='%s' index='%u'",
                               sv_domain_controller_type_to_string(c->type), c->index);
        append_attr(buf, "model", c->model);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < def->filesystems->len; i++)
        format_filesystem(buf, def->filesystems->pdata[i]);
    for (guint i = 0; i < def->interfaces->len; i++)
        format_interface(buf, def->interfaces->pdata[i]);
    for (guint i = 0; i < def->serials->len; i++)
        format_chr(buf, "serial", def->serials->pdata[i], FALSE, flags);
    for (guint i = 0; i < def->consoles->len; i++)
        format_chr(buf, "console", def->consoles->pdata[i], TRUE, flags);
    if (def->graphics_none)
        g_string_append(buf, "    <graphics type='none'/>\n");
    if (def->memballoon_model) {
        g_string_append(buf, "    <memballoon");
        append_attr(buf, "model", def->memballoon_model);
        g_string_append(buf, "/>\n");
    }
    if (def->panic) {
        g_string_append(buf, "    <panic");
        append_attr(buf, "model", def->panic_model);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "  </devices>\n");
}

char *
sv_domain_def_format(const SvDomainDef *def, int id, guint flags)
{
    GString *buf;
    char uuid[SV_UUID_STRING_LEN + 1];

    g_return_val_if_fail(def != NULL, NULL);
    buf = g_string_new("<domain");
    append_attr(buf, "type", sv_domain_virt_type_to_string(def->type));
    if (id >= 0 && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
        g_string_append_printf(buf, " id='%d'", id);
    g_string_append(buf, ">\n");
    append_text_elem(buf, 2, "name", def->name);
    sv_uuid_format(def->uuid, uuid);
    append_text_elem(buf, 2, "uuid", uuid);
    append_text_elem(buf, 2, "title", def->title);
    append_text_elem(buf, 2, "description", def->description);
    format_metadata(buf, def);
    g_string_append_printf(buf, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           def->memory_kib);
    g_string_append_printf(buf,
                           "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           def->current_memory_kib);
    g_string_append_printf(buf, "  <vcpu placement='%s'>%u</vcpu>\n",
                           sv_domain_cpu_placement_to_string(def->placement), def->vcpus);
    format_os(buf, def);
    format_idmaps(buf, def);
    format_features_cpu_clock(buf, def);
    format_devices(buf, def, flags);
    if (def->seclabel_none) {
        g_string_append(buf, "  <seclabel type='none'");
        append_attr(buf, "model", def->seclabel_model);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}
