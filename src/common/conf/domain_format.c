/* domain_format.c: format an SvDomainDef as libvirt formats domain XML. */
#include "conf/domain_conf.h"

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/uuid.h"

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
format_features_cpu_clock(GString *buf, const SvDomainDef *def)
{
    sv_domain_platform_format_features(buf, def);
    sv_domain_format_cpu(buf, def);
    sv_domain_platform_format_clock(buf, def);
    sv_xml_append_text_elem(buf, 2, "on_poweroff", sv_domain_lifecycle_action_to_string(def->on_poweroff));
    sv_xml_append_text_elem(buf, 2, "on_reboot", sv_domain_lifecycle_action_to_string(def->on_reboot));
    sv_xml_append_text_elem(buf, 2, "on_crash", sv_domain_lifecycle_action_to_string(def->on_crash));
    sv_domain_platform_format_pm(buf, def);
}

/* The end of a device element written so far without its closing '>': "/>" when it has no
 * device info to show, else its info lines and the closing tag. */
G_GNUC_UNUSED static void
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
    /* ---- disks and controllers ---- */
    for (guint i = 0; i < def->disks->len; i++)
        sv_domain_disk_format(buf, def->disks->pdata[i], flags);
    for (guint i = 0; i < def->controllers->len; i++)
        sv_domain_controller_format(buf, def->controllers->pdata[i], flags);
    sv_domain_format_filesystems(buf, def, flags);
    for (guint i = 0; i < def->interfaces->len; i++)
        sv_domain_net_format(buf, def->interfaces->pdata[i], flags);
    sv_domain_format_chrs(buf, def, flags);

    /* libvirt's device order from here: channel, input, tpm, graphics, sound, audio, video,
     * hostdev, redirdev, redirfilter, hub, watchdog, memballoon, rng, nvram, panic, shmem,
     * memory, iommu, vsock. Each area writes its own devices at its place. */

    /* ---- channels (character devices) ---- */
    sv_domain_format_channels(buf, def, flags);

    /* ---- input, graphics, sound, audio, video, redirdev ---- */
    sv_domain_display_format(buf, def, flags);

    /* ---- usb hubs ---- */
    sv_domain_hubs_format(buf, def, flags);

    /* ---- watchdog, memballoon, rng, panic (character devices area) ---- */

    /* Where the memballoon and panic were written before the markers: after the graphics. */
    sv_domain_format_chr_late(buf, def, flags);
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
    sv_xml_append_metadata(buf, def->metadata);
    sv_domain_format_resources(buf, def);
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
