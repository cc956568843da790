/* domain_format.c: format an SvDomainDef as libvirt formats domain XML. */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/uuid.h"

static void
format_metadata(GString *buf, const SvDomainDef *def)
{
    xmlDoc *doc;
    g_autofree char *dump = NULL;

    if (!def->metadata)
        return;
    doc = sv_xml_read_fragment(def->metadata);
    /* Only a driver storing malformed metadata gets here without a document. */
    if (!doc)
        return;
    dump = sv_xml_node_dump(doc, xmlDocGetRootElement(doc), 1);
    if (dump)
        g_string_append_printf(buf, "  %s\n", dump);
    xmlFreeDoc(doc);
}

static void
format_os(GString *buf, const SvDomainDef *def)
{
    const SvDomainOsDef *o = &def->os;

    g_string_append(buf, "  <os");
    if (def->firmware != SV_DOMAIN_FIRMWARE_NONE)
        sv_xml_append_attr(buf, "firmware", sv_domain_firmware_to_string(def->firmware));
    g_string_append(buf, ">\n    <type");
    sv_xml_append_attr(buf, "arch", o->arch);
    sv_xml_append_attr(buf, "machine", o->machine);
    g_string_append(buf, ">");
    sv_xml_append_escaped(buf, o->type, FALSE);
    g_string_append(buf, "</type>\n");
    sv_domain_platform_format_fw_features(buf, def);
    sv_xml_append_text_elem(buf, 4, "init", o->init);
    for (guint i = 0; i < o->initargs->len; i++)
        sv_xml_append_text_elem(buf, 4, "initarg", o->initargs->pdata[i]);
    if (o->loader || o->loader_type != SV_DOMAIN_LOADER_TYPE_NONE ||
        o->loader_readonly != SV_DOMAIN_TRISTATE_ABSENT ||
        def->loader_secure != SV_DOMAIN_TRISTATE_ABSENT) {
        g_string_append(buf, "    <loader");
        if (o->loader_readonly != SV_DOMAIN_TRISTATE_ABSENT)
            sv_xml_append_attr(buf, "readonly", sv_domain_tristate_to_string(o->loader_readonly));
        if (def->loader_secure != SV_DOMAIN_TRISTATE_ABSENT)
            sv_xml_append_attr(buf, "secure", sv_domain_tristate_to_string(def->loader_secure));
        if (o->loader_type != SV_DOMAIN_LOADER_TYPE_NONE)
            sv_xml_append_attr(buf, "type", sv_domain_loader_type_to_string(o->loader_type));
        if (o->loader) {
            g_string_append_c(buf, '>');
            sv_xml_append_escaped(buf, o->loader, FALSE);
            g_string_append(buf, "</loader>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    sv_domain_platform_format_nvram(buf, def);
    sv_xml_append_text_elem(buf, 4, "kernel", o->kernel);
    sv_xml_append_text_elem(buf, 4, "initrd", o->initrd);
    sv_xml_append_text_elem(buf, 4, "cmdline", o->cmdline);
    for (guint i = 0; i < o->n_boot_devs; i++)
        g_string_append_printf(buf, "    <boot dev='%s'/>\n",
                               sv_domain_boot_dev_to_string(o->boot_devs[i]));
    sv_domain_platform_format_os_extras(buf, def);
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
        sv_xml_append_attr(buf, "match", sv_domain_cpu_match_to_string(def->cpu_match));
    if (def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT)
        sv_xml_append_attr(buf, "check", sv_domain_cpu_check_to_string(def->cpu_check));
    if (def->cpu_migratable != SV_DOMAIN_SWITCH_ABSENT)
        sv_xml_append_attr(buf, "migratable", sv_domain_switch_to_string(def->cpu_migratable));
    if (!custom) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n    <model fallback='%s'>",
                           sv_domain_cpu_fallback_to_string(def->cpu_fallback));
    sv_xml_append_escaped(buf, def->cpu_model, FALSE);
    g_string_append(buf, "</model>\n  </cpu>\n");
}

static void
format_features_cpu_clock(GString *buf, const SvDomainDef *def)
{
    sv_domain_platform_format_features(buf, def);
    format_cpu(buf, def);
    sv_domain_platform_format_clock(buf, def);
    sv_xml_append_text_elem(buf, 2, "on_poweroff", sv_domain_lifecycle_action_to_string(def->on_poweroff));
    sv_xml_append_text_elem(buf, 2, "on_reboot", sv_domain_lifecycle_action_to_string(def->on_reboot));
    sv_xml_append_text_elem(buf, 2, "on_crash", sv_domain_lifecycle_action_to_string(def->on_crash));
    sv_domain_platform_format_pm(buf, def);
}

static void
format_disk(GString *buf, const SvDomainDiskDef *disk, guint flags)
{
    g_string_append_printf(buf, "    <disk type='%s' device='%s'>\n",
                           sv_domain_disk_type_to_string(disk->type),
                           sv_domain_disk_device_to_string(disk->device));
    if (disk->driver_name || disk->format != SV_DOMAIN_DISK_FORMAT_NONE) {
        g_string_append(buf, "      <driver");
        sv_xml_append_attr(buf, "name", disk->driver_name);
        if (disk->format != SV_DOMAIN_DISK_FORMAT_NONE)
            sv_xml_append_attr(buf, "type", sv_domain_disk_format_to_string(disk->format));
        g_string_append(buf, "/>\n");
    }
    if (disk->source) {
        g_string_append(buf, "      <source");
        sv_xml_append_attr(buf, disk->type == SV_DOMAIN_DISK_TYPE_FILE ? "file" : "dev", disk->source);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    sv_xml_append_attr(buf, "dev", disk->target_dev);
    sv_xml_append_attr(buf, "bus", sv_domain_disk_bus_to_string(disk->bus));
    g_string_append(buf, "/>\n");
    if (disk->readonly)
        g_string_append(buf, "      <readonly/>\n");
    sv_domain_device_info_format(buf, 6, &disk->info, flags);
    g_string_append(buf, "    </disk>\n");
}

static void
format_filesystem(GString *buf, const SvDomainFsDef *fs, guint flags)
{
    g_string_append_printf(buf, "    <filesystem type='%s' accessmode='%s'>\n      <source",
                           sv_domain_fs_type_to_string(fs->type),
                           sv_domain_fs_access_mode_to_string(fs->accessmode));
    sv_xml_append_attr(buf, "dir", fs->source_dir);
    g_string_append(buf, "/>\n      <target");
    sv_xml_append_attr(buf, "dir", fs->target_dir);
    g_string_append(buf, "/>\n");
    if (fs->readonly)
        g_string_append(buf, "      <readonly/>\n");
    sv_domain_device_info_format(buf, 6, &fs->info, flags);
    g_string_append(buf, "    </filesystem>\n");
}

static void
format_interface(GString *buf, const SvDomainNetDef *net, guint flags)
{
    g_string_append_printf(buf, "    <interface type='%s'>\n",
                           sv_domain_net_type_to_string(net->type));
    if (net->mac) {
        g_string_append(buf, "      <mac");
        sv_xml_append_attr(buf, "address", net->mac);
        g_string_append(buf, "/>\n");
    }
    if (net->target_dev) {
        g_string_append(buf, "      <target");
        sv_xml_append_attr(buf, "dev", net->target_dev);
        g_string_append(buf, "/>\n");
    }
    if (net->model) {
        g_string_append(buf, "      <model");
        sv_xml_append_attr(buf, "type", net->model);
        g_string_append(buf, "/>\n");
    }
    sv_domain_device_info_format(buf, 6, &net->info, flags);
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
        sv_xml_append_attr(buf, "tty", chr->source_path);
    g_string_append(buf, ">\n");
    if (chr->source_path && (chr->type != SV_DOMAIN_CHR_TYPE_PTY || live_pty)) {
        g_string_append(buf, "      <source");
        sv_xml_append_attr(buf, "path", chr->source_path);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    sv_xml_append_attr(buf, "type", chr->target_type);
    g_string_append_printf(buf, " port='%u'/>\n", chr->target_port);
    sv_domain_device_info_format(buf, 6, &chr->info, flags);
    g_string_append_printf(buf, "    </%s>\n", element);
}

/* The end of a device element written so far without its closing '>': "/>" when it has no
 * device info to show, else its info lines and the closing tag. */
static void
format_device_end(GString *buf, const char *element, const SvDomainDeviceInfo *info,
                  guint flags)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    sv_domain_device_info_format(inner, 6, info, flags);
    if (!inner->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n%s    </%s>\n", inner->str, element);
}

static void
format_devices(GString *buf, const SvDomainDef *def, guint flags)
{
    g_string_append(buf, "  <devices>\n");
    sv_xml_append_text_elem(buf, 4, "emulator", def->emulator);
    for (guint i = 0; i < def->disks->len; i++)
        format_disk(buf, def->disks->pdata[i], flags);
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        g_string_append_printf(buf, "    <controller type='%s' index='%u'",
                               sv_domain_controller_type_to_string(c->type), c->index);
        sv_xml_append_attr(buf, "model", c->model);
        format_device_end(buf, "controller", &c->info, flags);
    }
    for (guint i = 0; i < def->filesystems->len; i++)
        format_filesystem(buf, def->filesystems->pdata[i], flags);
    for (guint i = 0; i < def->interfaces->len; i++)
        format_interface(buf, def->interfaces->pdata[i], flags);
    for (guint i = 0; i < def->serials->len; i++)
        format_chr(buf, "serial", def->serials->pdata[i], FALSE, flags);
    for (guint i = 0; i < def->consoles->len; i++)
        format_chr(buf, "console", def->consoles->pdata[i], TRUE, flags);

    /* libvirt's device order from here: channel, input, tpm, graphics, sound, audio, video,
     * hostdev, redirdev, redirfilter, hub, watchdog, memballoon, rng, nvram, panic, shmem,
     * memory, iommu, vsock. Each area writes its own devices at its place. */

    /* ---- channels (character devices) ---- */

    /* ---- input, graphics, sound, audio, video, redirdev ---- */

    /* ---- watchdog, memballoon, rng, panic (character devices area) ---- */

    if (def->graphics_none)
        g_string_append(buf, "    <graphics type='none'/>\n");
    if (def->memballoon_model) {
        g_string_append(buf, "    <memballoon");
        sv_xml_append_attr(buf, "model", def->memballoon_model);
        g_string_append(buf, "/>\n");
    }
    if (def->panic) {
        g_string_append(buf, "    <panic");
        sv_xml_append_attr(buf, "model", def->panic_model);
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
    sv_xml_append_attr(buf, "type", sv_domain_virt_type_to_string(def->type));
    if (id >= 0 && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
        g_string_append_printf(buf, " id='%d'", id);
    g_string_append(buf, ">\n");
    sv_xml_append_text_elem(buf, 2, "name", def->name);
    sv_uuid_format(def->uuid, uuid);
    sv_xml_append_text_elem(buf, 2, "uuid", uuid);
    sv_domain_platform_format_genid(buf, def);
    sv_xml_append_text_elem(buf, 2, "title", def->title);
    sv_xml_append_text_elem(buf, 2, "description", def->description);
    format_metadata(buf, def);
    g_string_append_printf(buf, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           def->memory_kib);
    g_string_append_printf(buf,
                           "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           def->current_memory_kib);
    g_string_append_printf(buf, "  <vcpu placement='%s'>%u</vcpu>\n",
                           sv_domain_cpu_placement_to_string(def->placement), def->vcpus);
    sv_domain_platform_format_sysinfo(buf, def);
    format_os(buf, def);
    format_idmaps(buf, def);
    format_features_cpu_clock(buf, def);
    format_devices(buf, def, flags);
    if (def->seclabel_none) {
        g_string_append(buf, "  <seclabel type='none'");
        sv_xml_append_attr(buf, "model", def->seclabel_model);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}
