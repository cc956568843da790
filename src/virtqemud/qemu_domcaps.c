/* qemu_domcaps.c: the domain capabilities document, from what the QEMU probe found
 * (machines, CPU models and their usability, QOM types, display types, TPM, SPICE/VNC)
 * and the firmware descriptors installed on the host (QEMU's interop format, read as
 * libvirt reads them). The layout and the order of every list are libvirt 9.0's. */
#include "qemu_domcaps.h"

#include "qemu_cpu_host.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf/cpu_def.h"
#include "conf/domain_xml.h"
#include "qemu_firmware_desc.h"
#include "util/error.h"

/* libvirt's loader list when no descriptor fits (its build-time default, as Debian's
 * libvirt 9.0 is configured): shown whether or not the files exist. */
static const char *const fallback_loaders[] = {"/usr/share/OVMF/OVMF_CODE.fd",
                                               "/usr/share/OVMF/OVMF_CODE.secboot.fd", NULL};

/* The x86 CPU models libvirt 9.0's CPU map knows, with the vendor it gives them; a model
 * QEMU has that is not here (versions "-v1", "max", "host", "base", "KnightsMill",
 * "Denverton") is not listed, as libvirt does not list it. */
static const struct {
    const char *name, *vendor;
} cpu_map[] = {
    {"qemu64", "unknown"},
    {"qemu32", "unknown"},
    {"phenom", "AMD"},
    {"pentium3", "unknown"},
    {"pentium2", "unknown"},
    {"pentium", "unknown"},
    {"n270", "Intel"},
    {"kvm64", "unknown"},
    {"kvm32", "unknown"},
    {"coreduo", "Intel"},
    {"core2duo", "Intel"},
    {"athlon", "AMD"},
    {"Westmere-IBRS", "Intel"},
    {"Westmere", "Intel"},
    {"Snowridge", "Intel"},
    {"Skylake-Server-noTSX-IBRS", "Intel"},
    {"Skylake-Server-IBRS", "Intel"},
    {"Skylake-Server", "Intel"},
    {"Skylake-Client-noTSX-IBRS", "Intel"},
    {"Skylake-Client-IBRS", "Intel"},
    {"Skylake-Client", "Intel"},
    {"SandyBridge-IBRS", "Intel"},
    {"SandyBridge", "Intel"},
    {"Penryn", "Intel"},
    {"Opteron_G5", "AMD"},
    {"Opteron_G4", "AMD"},
    {"Opteron_G3", "AMD"},
    {"Opteron_G2", "AMD"},
    {"Opteron_G1", "AMD"},
    {"Nehalem-IBRS", "Intel"},
    {"Nehalem", "Intel"},
    {"IvyBridge-IBRS", "Intel"},
    {"IvyBridge", "Intel"},
    {"Icelake-Server-noTSX", "Intel"},
    {"Icelake-Server", "Intel"},
    {"Haswell-noTSX-IBRS", "Intel"},
    {"Haswell-noTSX", "Intel"},
    {"Haswell-IBRS", "Intel"},
    {"Haswell", "Intel"},
    {"EPYC-Rome", "AMD"},
    {"EPYC-Milan", "AMD"},
    {"EPYC-IBPB", "AMD"},
    {"EPYC", "AMD"},
    {"Dhyana", "Hygon"},
    {"Cooperlake", "Intel"},
    {"Conroe", "Intel"},
    {"Cascadelake-Server-noTSX", "Intel"},
    {"Cascadelake-Server", "Intel"},
    {"Broadwell-noTSX-IBRS", "Intel"},
    {"Broadwell-noTSX", "Intel"},
    {"Broadwell-IBRS", "Intel"},
    {"Broadwell", "Intel"},
    {"486", "unknown"},
};

/* libvirt's domain types (virDomainVirtType), for "unknown virttype". */
static const char *const known_virt_types[] = {
    "none",   "qemu",   "kqemu", "kvm",  "xen",       "lxc",   "uml", "openvz", "test",
    "vmware", "hyperv", "vbox",  "phyp", "parallels", "bhyve", "vz",  NULL};

const char *
qemu_domcaps_cpu_vendor(const char *model)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cpu_map); i++) {
        if (g_str_equal(cpu_map[i].name, model))
            return cpu_map[i].vendor;
    }
    return NULL;
}

/* libvirt's "built-in IDE" on x86: the i440FX machines only (isapc's ISA IDE is not
 * counted, so its domain capabilities list no ide bus). */
gboolean
qemu_domcaps_machine_has_ide(const char *machine)
{
    return g_str_has_prefix(machine, "pc-i440fx-") || g_str_equal(machine, "pc");
}

/* ---------------------------------------------------------------- writing */

/* <enum name='NAME'> with the values (NULL-terminated) whose shown[i] is TRUE, or
 * <enum name='NAME'/> when none is. */
static void
append_enum(GString *s, int indent, const char *name, const char *const *values,
            const gboolean *shown)
{
    gboolean any = FALSE;

    for (int i = 0; values[i]; i++)
        any = any || shown[i];
    g_string_append_printf(s, "%*s<enum name='%s'%s>\n", indent, "", name, any ? "" : "/");
    if (!any)
        return;
    for (int i = 0; values[i]; i++) {
        if (shown[i])
            sv_xml_append_text_elem(s, indent + 2, "value", values[i]);
    }
    g_string_append_printf(s, "%*s</enum>\n", indent, "");
}

/* An enum whose values are all shown. */
static void
append_enum_all(GString *s, int indent, const char *name, const char *const *values)
{
    gboolean shown[16];

    for (int i = 0; values[i]; i++) {
        g_assert(i < 16);
        shown[i] = TRUE;
    }
    append_enum(s, indent, name, values, shown);
}

/* ---------------------------------------------------------------- firmware */

typedef struct {
    GPtrArray *loaders; /* char * (not owned), executables in descriptor order */
    gboolean efi, secure;
} Firmware;

/* The UEFI descriptors for this arch and machine (qemu_firmware_desc.c, the reader the
 * start uses too): their executables, and whether one has secure boot. */
static void
firmware_add(Firmware *fw, const QemuFirmwareDesc *d, const char *arch, const char *machine)
{
    if (!d->uefi || !d->executable || !qemu_firmware_desc_targets(d, arch, machine))
        return;
    fw->efi = TRUE;
    fw->secure = fw->secure || d->secure_boot;
    for (guint i = 0; i < fw->loaders->len; i++) {
        if (g_str_equal(fw->loaders->pdata[i], d->executable))
            return;
    }
    g_ptr_array_add(fw->loaders, d->executable);
}

static void
append_os(GString *s, const char *arch, const char *machine, const char *const *dirs)
{
    g_autoptr(GPtrArray) descs = qemu_firmware_desc_load_all(dirs);
    g_autoptr(GPtrArray) loaders = g_ptr_array_new();
    Firmware fw = {loaders, FALSE, FALSE};
    static const char *const firmware[] = {"efi", NULL};
    static const char *const types[] = {"rom", "pflash", NULL};
    static const char *const readonly[] = {"yes", "no", NULL};
    static const char *const secure[] = {"yes", "no", NULL};
    gboolean secure_shown[] = {FALSE, TRUE};

    for (guint i = 0; i < descs->len; i++)
        firmware_add(&fw, descs->pdata[i], arch, machine);
    g_string_append(s, "  <os supported='yes'>\n");
    append_enum(s, 4, "firmware", firmware, &fw.efi);
    g_string_append(s, "    <loader supported='yes'>\n");
    if (fw.loaders->len == 0) {
        for (int i = 0; fallback_loaders[i]; i++)
            sv_xml_append_text_elem(s, 6, "value", fallback_loaders[i]);
    }
    for (guint i = 0; i < fw.loaders->len; i++)
        sv_xml_append_text_elem(s, 6, "value", fw.loaders->pdata[i]);
    append_enum_all(s, 6, "type", types);
    append_enum_all(s, 6, "readonly", readonly);
    secure_shown[0] = fw.secure;
    append_enum(s, 6, "secure", secure, secure_shown);
    g_string_append(s, "    </loader>\n  </os>\n");
}

/* ---------------------------------------------------------------- cpu */

static void
append_cpu(GString *s, QemuCaps *caps, gboolean kvm)
{
    const GPtrArray *defs = qemu_caps_get_cpu_defs(caps, kvm);
    static const char *const on_off[] = {"on", "off", NULL};

    g_string_append(s, "  <cpu>\n");
    if (kvm) {
        g_string_append(s, "    <mode name='host-passthrough' supported='yes'>\n");
        append_enum_all(s, 6, "hostPassthroughMigratable", on_off);
        g_string_append(s, "    </mode>\n");
    } else {
        g_string_append(s, "    <mode name='host-passthrough' supported='no'/>\n");
    }
    g_string_append(s, "    <mode name='maximum' supported='yes'>\n");
    append_enum_all(s, 6, "maximumMigratable", on_off);
    g_string_append(s, "    </mode>\n");
    /* libvirt decodes QEMU's "max" (TCG) or "host" (KVM) CPU through its CPU map. */
    qemu_cpu_host_model_append(s, caps, kvm);
    g_string_append(s, "    <mode name='custom' supported='yes'>\n");
    for (guint i = 0; i < defs->len; i++) {
        const QemuCpuDef *d = defs->pdata[i];
        const char *vendor = qemu_domcaps_cpu_vendor(d->name);

        if (!vendor)
            continue;
        g_string_append_printf(s, "      <model usable='%s' vendor='%s'>",
                               qemu_cpu_usable_to_string(d->usable), vendor);
        sv_xml_append_escaped(s, d->name, FALSE);
        g_string_append(s, "</model>\n");
    }
    g_string_append(s, "    </mode>\n  </cpu>\n");
}

/* ---------------------------------------------------------------- devices */

static void
append_memory_backing(GString *s, QemuCaps *caps)
{
    static const char *const types[] = {"file", "anonymous", "memfd", NULL};
    const gboolean shown[] = {qemu_caps_has_type(caps, "memory-backend-file"),
                              qemu_caps_has_type(caps, "memory-backend-ram"),
                              qemu_caps_has_type(caps, "memory-backend-memfd")};

    g_string_append(s, "  <memoryBacking supported='yes'>\n");
    append_enum(s, 4, "sourceType", types, shown);
    g_string_append(s, "  </memoryBacking>\n");
}

static void
append_virtio_models(GString *s, QemuCaps *caps, const char *device)
{
    static const char *const models[] = {"virtio", "virtio-transitional", "virtio-non-transitional",
                                         NULL};
    g_autofree char *trans = g_strdup_printf("%s-transitional", device);
    g_autofree char *nontrans = g_strdup_printf("%s-non-transitional", device);
    const gboolean shown[] = {qemu_caps_has_type(caps, device), qemu_caps_has_type(caps, trans),
                              qemu_caps_has_type(caps, nontrans)};

    append_enum(s, 6, "model", models, shown);
}

static void
append_disk(GString *s, QemuCaps *caps, const char *machine)
{
    static const char *const devices[] = {"disk", "cdrom", "floppy", "lun", NULL};
    static const char *const buses[] = {"ide", "fdc", "scsi", "virtio", "usb", "sata", NULL};
    const gboolean dev_shown[] = {TRUE, TRUE, qemu_caps_has_type(caps, "isa-fdc"),
                                  qemu_caps_has_type(caps, "scsi-block")};
    const gboolean bus_shown[] = {
        qemu_domcaps_machine_has_ide(machine),   qemu_caps_has_type(caps, "isa-fdc"),
        qemu_caps_has_type(caps, "scsi-hd"),     qemu_caps_has_type(caps, "virtio-blk-pci"),
        qemu_caps_has_type(caps, "usb-storage"), qemu_caps_has_type(caps, "ich9-ahci")};

    g_string_append(s, "    <disk supported='yes'>\n");
    append_enum(s, 6, "diskDevice", devices, dev_shown);
    append_enum(s, 6, "bus", buses, bus_shown);
    append_virtio_models(s, caps, "virtio-blk-pci");
    g_string_append(s, "    </disk>\n");
}

static void
append_graphics_video(GString *s, QemuCaps *caps)
{
    static const char *const graphics[] = {"sdl", "vnc", "spice", "egl-headless", "dbus", NULL};
    static const char *const video[] = {"vga",  "cirrus", "vmvga", "qxl", "virtio",
                                        "none", "bochs",  "ramfb", NULL};
    const gboolean g_shown[] = {
        qemu_caps_has_display(caps, "sdl"), qemu_caps_has_vnc(caps), qemu_caps_has_spice(caps),
        qemu_caps_has_display(caps, "egl-headless"), qemu_caps_has_display(caps, "dbus")};
    const gboolean v_shown[] = {qemu_caps_has_type(caps, "VGA"),
                                qemu_caps_has_type(caps, "cirrus-vga"),
                                qemu_caps_has_type(caps, "vmware-svga"),
                                qemu_caps_has_type(caps, "qxl-vga"),
                                qemu_caps_has_type(caps, "virtio-gpu-pci"),
                                TRUE,
                                qemu_caps_has_type(caps, "bochs-display"),
                                qemu_caps_has_type(caps, "ramfb")};

    g_string_append(s, "    <graphics supported='yes'>\n");
    append_enum(s, 6, "type", graphics, g_shown);
    g_string_append(s, "    </graphics>\n    <video supported='yes'>\n");
    append_enum(s, 6, "modelType", video, v_shown);
    g_string_append(s, "    </video>\n");
}

gboolean
qemu_domcaps_host_vfio(void)
{
    g_autoptr(GDir) groups = g_dir_open("/sys/kernel/iommu_groups", 0, NULL);

    return access("/dev/vfio/vfio", F_OK) == 0 && groups && g_dir_read_name(groups);
}

static void
append_hostdev(GString *s, QemuCaps *caps, const QemuDomcapsRequest *req)
{
    static const char *const modes[] = {"subsystem", NULL};
    static const char *const policies[] = {"default", "mandatory", "requisite", "optional", NULL};
    static const char *const subsys[] = {"usb", "pci", "scsi", NULL};
    static const char *const backends[] = {"default", "vfio", NULL};
    const gboolean vfio = req->vfio_usable && qemu_caps_has_type(caps, "vfio-pci");
    const gboolean subsys_shown[] = {qemu_caps_has_type(caps, "usb-host"),
                                     qemu_caps_has_type(caps, "vfio-pci"),
                                     qemu_caps_has_type(caps, "scsi-generic")};
    const gboolean backend_shown[] = {vfio, vfio};

    g_string_append(s, "    <hostdev supported='yes'>\n");
    append_enum_all(s, 6, "mode", modes);
    append_enum_all(s, 6, "startupPolicy", policies);
    append_enum(s, 6, "subsysType", subsys, subsys_shown);
    g_string_append(s, "      <enum name='capsType'/>\n");
    append_enum(s, 6, "pciBackend", backends, backend_shown);
    g_string_append(s, "    </hostdev>\n");
}

gboolean
qemu_domcaps_host_swtpm(void)
{
    g_autofree char *path = g_find_program_in_path("swtpm");

    return path != NULL;
}

static void
append_rng_fs_tpm(GString *s, QemuCaps *caps, const QemuDomcapsRequest *req)
{
    static const char *const rng_backends[] = {"random", "egd", "builtin", NULL};
    static const char *const fs_types[] = {"path", "handle", "virtiofs", NULL};
    static const char *const tpm_models[] = {"tpm-tis", "tpm-crb", NULL};
    static const char *const tpm_backends[] = {"passthrough", "emulator", NULL};
    const gboolean rng_shown[] = {qemu_caps_has_type(caps, "rng-random"),
                                  qemu_caps_has_type(caps, "rng-egd"),
                                  qemu_caps_has_type(caps, "rng-builtin")};
    const gboolean fs_shown[] = {qemu_caps_has_type(caps, "virtio-9p-pci"),
                                 qemu_caps_has_type(caps, "virtio-9p-pci"),
                                 qemu_caps_has_type(caps, "vhost-user-fs-pci")};
    const gboolean tpm_shown[] = {qemu_caps_has_tpm_model(caps, "tpm-tis"),
                                  qemu_caps_has_tpm_model(caps, "tpm-crb")};
    const gboolean tpmb_shown[] = {qemu_caps_has_tpm_type(caps, "passthrough"),
                                   qemu_caps_has_tpm_type(caps, "emulator") && req->swtpm};

    g_string_append(s, "    <rng supported='yes'>\n");
    append_virtio_models(s, caps, "virtio-rng-pci");
    append_enum(s, 6, "backendModel", rng_backends, rng_shown);
    g_string_append(s, "    </rng>\n    <filesystem supported='yes'>\n");
    append_enum(s, 6, "driverType", fs_types, fs_shown);
    g_string_append(s, "    </filesystem>\n    <tpm supported='yes'>\n");
    append_enum(s, 6, "model", tpm_models, tpm_shown);
    append_enum(s, 6, "backendModel", tpm_backends, tpmb_shown);
    g_string_append(s, "    </tpm>\n");
}

static void
append_devices(GString *s, QemuCaps *caps, const char *machine,
               const QemuDomcapsRequest *req)
{
    static const char *const redir_buses[] = {"usb", NULL};
    static const char *const channels[] = {"pty", "unix", "spicevmc", NULL};
    const gboolean redir_shown[] = {qemu_caps_has_type(caps, "usb-redir")};
    const gboolean chan_shown[] = {TRUE, TRUE, qemu_caps_has_spice(caps)};

    g_string_append(s, "  <devices>\n");
    append_disk(s, caps, machine);
    append_graphics_video(s, caps);
    append_hostdev(s, caps, req);
    append_rng_fs_tpm(s, caps, req);
    g_string_append(s, "    <redirdev supported='yes'>\n");
    append_enum(s, 6, "bus", redir_buses, redir_shown);
    g_string_append(s, "    </redirdev>\n    <channel supported='yes'>\n");
    append_enum(s, 6, "type", channels, chan_shown);
    g_string_append(s, "    </channel>\n  </devices>\n");
}

/* ---------------------------------------------------------------- features */

static const char *
yes_no(gboolean b)
{
    return b ? "yes" : "no";
}

static void
append_features(GString *s, QemuCaps *caps)
{
    static const char *const hyperv[] = {"spinlocks", "vendor_id", NULL};
    /* -blockdev, which backing store input and backups need, as libvirt uses it from
     * QEMU 4.2 on. */
    gboolean blockdev = qemu_caps_get_version(caps) >= 4002000;

    g_string_append(s, "  <features>\n    <gic supported='no'/>\n");
    g_string_append_printf(s, "    <vmcoreinfo supported='%s'/>\n",
                           yes_no(qemu_caps_has_type(caps, "vmcoreinfo")));
    g_string_append_printf(s, "    <genid supported='%s'/>\n",
                           yes_no(qemu_caps_has_type(caps, "vmgenid")));
    g_string_append_printf(s, "    <backingStoreInput supported='%s'/>\n", yes_no(blockdev));
    g_string_append_printf(s, "    <backup supported='%s'/>\n", yes_no(blockdev));
    /* Launch security (SEV) and SGX guests are not implemented. */
    g_string_append(s, "    <sev supported='no'/>\n    <sgx supported='no'/>\n");
    g_string_append(s, "    <hyperv supported='yes'>\n");
    append_enum_all(s, 6, "features", hyperv);
    g_string_append(s, "    </hyperv>\n  </features>\n");
}

static char *
domcaps_format(QemuCaps *caps, const char *path, const char *arch,
               const QemuMachine *machine, gboolean kvm, const QemuDomcapsRequest *req)
{
    GString *s = g_string_new("<domainCapabilities>\n");
    const char *name = machine->canonical ? machine->canonical : machine->name;

    sv_xml_append_text_elem(s, 2, "path", path);
    sv_xml_append_text_elem(s, 2, "domain", kvm ? "kvm" : "qemu");
    sv_xml_append_text_elem(s, 2, "machine", name);
    sv_xml_append_text_elem(s, 2, "arch", arch);
    g_string_append_printf(s, "  <vcpu max='%u'/>\n", machine->max_cpus);
    g_string_append_printf(s, "  <iothreads supported='%s'/>\n",
                           yes_no(qemu_caps_has_type(caps, "iothread")));
    append_os(s, arch, name, req->firmware_dirs);
    append_cpu(s, caps, kvm);
    append_memory_backing(s, caps);
    append_devices(s, caps, name, req);
    append_features(s, caps);
    g_string_append(s, "</domainCapabilities>\n");
    return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- the request */

/* libvirt's name of the architecture a QEMU target emulates. */
static const char *
target_arch(QemuCaps *caps)
{
    const char *a = qemu_caps_get_arch(caps);

    return g_strcmp0(a, "i386") == 0 ? "i686" : a;
}

static gboolean
emulator_serves(QemuCaps *caps, const char *arch)
{
    const char *own = target_arch(caps);

    /* An x86_64 QEMU runs i686 guests too, as libvirt lets it. */
    return g_strcmp0(own, arch) == 0 ||
           (g_strcmp0(own, "x86_64") == 0 && g_str_equal(arch, "i686"));
}

static gboolean
check_emulator(QemuCaps *caps, const char *bin, GError **error)
{
    g_autofree char *want = NULL, *own = NULL;

    if (access(bin, F_OK) < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_SYSTEM_ERROR, "Cannot check QEMU binary %s: %s",
                     bin, g_strerror(errno));
        return FALSE;
    }
    want = g_canonicalize_filename(bin, NULL);
    own = g_canonicalize_filename(qemu_caps_get_emulator(caps), NULL);
    if (!g_str_equal(want, own)) {
        /* libvirt probes any binary asked for; we probe the configured one. */
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' is not the one this daemon probes ('%s')", bin,
                     qemu_caps_get_emulator(caps));
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_arch(QemuCaps *caps, const QemuDomcapsRequest *req, const char **ret_arch,
           GError **error)
{
    const char *arch = req->arch;

    if (arch && !sv_arch_is_known(arch)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unknown architecture: %s", arch);
        return FALSE;
    }
    if (req->emulatorbin && !check_emulator(caps, req->emulatorbin, error))
        return FALSE;
    if (!arch)
        arch = req->emulatorbin ? target_arch(caps) : "x86_64";
    if (!emulator_serves(caps, arch)) {
        if (req->emulatorbin && req->arch)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "architecture from emulator '%s' doesn't match given architecture "
                         "'%s'",
                         target_arch(caps), arch);
        else if (req->emulatorbin)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "Emulator '%s' does not support arch '%s'", req->emulatorbin, arch);
        else
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "unable to find any emulator to serve '%s' architecture", arch);
        return FALSE;
    }
    *ret_arch = arch;
    return TRUE;
}

gboolean
qemu_domcaps_resolve(QemuCaps *caps, const QemuDomcapsRequest *req, gboolean check_virttype,
                     const char **ret_arch, const QemuMachine **ret_machine, gboolean *ret_kvm,
                     GError **error)
{
    const char *bin = req->emulatorbin ? req->emulatorbin : qemu_caps_get_emulator(caps);
    gboolean kvm_here = req->kvm_usable && qemu_caps_has_kvm(caps);
    const char *virttype = req->virttype;
    const QemuMachine *machine;
    gboolean kvm;

    /* "none" is libvirt's unspecified type: the default. */
    if (g_strcmp0(virttype, "none") == 0)
        virttype = NULL;
    if (virttype && !g_strv_contains(known_virt_types, virttype)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unknown virttype: %s", virttype);
        return FALSE;
    }
    kvm = virttype ? g_str_equal(virttype, "kvm") : kvm_here;
    if (!check_arch(caps, req, ret_arch, error))
        return FALSE;
    if (check_virttype && virttype && !g_str_equal(virttype, "qemu") && !(kvm && kvm_here)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "Emulator '%s' does not support virt type '%s'", bin, virttype);
        return FALSE;
    }
    machine = req->machine ? qemu_caps_find_machine(caps, req->machine)
                           : g_ptr_array_index(qemu_caps_get_machines(caps), 0);
    if (!machine) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "the machine '%s' is not supported by emulator '%s'", req->machine, bin);
        return FALSE;
    }
    *ret_machine = machine;
    *ret_kvm = kvm;
    return TRUE;
}

char *
qemu_domcaps_get(QemuCaps *caps, const QemuDomcapsRequest *req, GError **error)
{
    const char *bin = req->emulatorbin ? req->emulatorbin : qemu_caps_get_emulator(caps);
    g_autofree char *key = NULL;
    const QemuMachine *machine;
    const char *arch = NULL;
    gboolean kvm;

    if (!sv_check_flags(req->flags, 0, SV_FROM_QEMU, "qemuConnectGetDomainCapabilities", error) ||
        !qemu_domcaps_resolve(caps, req, TRUE, &arch, &machine, &kvm, error))
        return NULL;
    /* Made once per probe, as libvirt keeps them: the firmware descriptors are read then. */
    key = g_strdup_printf("domcaps|%s|%s|%s|%d|%d|%d|%p", bin, arch, machine->name, kvm,
                          req->vfio_usable, req->swtpm, (const void *)req->firmware_dirs);
    if (!qemu_caps_memo_get(caps, key)) {
        g_autofree char *xml = domcaps_format(caps, bin, arch, machine, kvm, req);
        qemu_caps_memo_set(caps, key, xml);
    }
    return g_strdup(qemu_caps_memo_get(caps, key));
}

/* ---------------------------------------------------------------- capabilities */

static void
append_guest(GString *s, QemuCaps *caps, const char *arch, gboolean kvm)
{
    const GPtrArray *machines = qemu_caps_get_machines(caps);
    gboolean i686 = g_str_equal(arch, "i686");

    g_string_append_printf(s,
                           "  <guest>\n    <os_type>hvm</os_type>\n    <arch name='%s'>\n"
                           "      <wordsize>%d</wordsize>\n",
                           arch, i686 ? 32 : 64);
    sv_xml_append_text_elem(s, 6, "emulator", qemu_caps_get_emulator(caps));
    for (guint i = 0; i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];

        g_string_append(s, "      <machine");
        sv_xml_append_attr(s, "canonical", m->canonical);
        g_string_append_printf(s, " maxCpus='%u'", m->max_cpus);
        if (m->deprecated && !m->canonical)
            g_string_append(s, " deprecated='yes'");
        g_string_append_c(s, '>');
        sv_xml_append_escaped(s, m->name, FALSE);
        g_string_append(s, "</machine>\n");
    }
    g_string_append(s, "      <domain type='qemu'/>\n");
    if (kvm)
        g_string_append(s, "      <domain type='kvm'/>\n");
    g_string_append(s, "    </arch>\n    <features>\n");
    if (i686)
        g_string_append(s, "      <pae/>\n      <nonpae/>\n");
    g_string_append(s, "      <acpi default='on' toggle='yes'/>\n"
                       "      <apic default='on' toggle='no'/>\n      <cpuselection/>\n"
                       "      <deviceboot/>\n      <disksnapshot default='on' toggle='no'/>\n"
                       "    </features>\n  </guest>\n\n");
}

void
qemu_capabilities_append_guests(GString *s, QemuCaps *caps, gboolean kvm_usable)
{
    gboolean kvm = kvm_usable && qemu_caps_has_kvm(caps);

    /* libvirt's order: i686, then x86_64. */
    if (emulator_serves(caps, "i686"))
        append_guest(s, caps, "i686", kvm);
    if (emulator_serves(caps, "x86_64"))
        append_guest(s, caps, "x86_64", kvm);
}
