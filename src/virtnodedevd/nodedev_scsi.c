/* nodedev_scsi.c: SCSI hosts (with their Fibre Channel names and vport counts), targets
 * and devices as libvirt's udev driver describes them: scsi_hostN, scsi_targetH_B_T,
 * scsi_H_B_T_L. */
#include <stdio.h>
#include <string.h>

#include "nodedev_sysfs.h"

/* libvirt's names of the SCSI peripheral types (Linux's TYPE_* numbers). */
static const char *
scsi_type_name(gint64 type)
{
    static const char *const names[] = {
        [0x00] = "disk",    [0x01] = "tape",  [0x03] = "processor", [0x04] = "worm",
        [0x05] = "cdrom",   [0x06] = "scanner", [0x07] = "mod",     [0x08] = "changer",
        [0x0c] = "raid",    [0x0d] = "enclosure",
    };

    return type >= 0 && type < (gint64)G_N_ELEMENTS(names) ? names[type] : NULL;
}

/* A World Wide Name attribute without its "0x". (transfer full) */
static char *
wwn_attr(const char *dir, const char *name)
{
    g_autofree char *v = nodedev_attr(dir, name);

    if (v && g_str_has_prefix(v, "0x"))
        return g_strdup(v + 2);
    return g_steal_pointer(&v);
}

static void
append_fc(GString *s, NodeDev *dev, const char *root, guint host)
{
    g_autofree char *fc = g_strdup_printf("%s/sys/class/fc_host/host%u", root, host);
    g_autofree char *sh = g_strdup_printf("%s/sys/class/scsi_host/host%u", root, host);
    g_autofree char *fabric = NULL;
    g_autofree char *vport_create = g_build_filename(sh, "vport_create", NULL);

    if (g_file_test(fc, G_FILE_TEST_IS_DIR) &&
        (dev->wwpn = wwn_attr(fc, "port_name")) && (dev->wwnn = wwn_attr(fc, "node_name"))) {
        fabric = wwn_attr(fc, "fabric_name");
        g_string_append_printf(s, "    <capability type='fc_host'>\n      <wwnn>%s</wwnn>\n"
                                  "      <wwpn>%s</wwpn>\n",
                               dev->wwnn, dev->wwpn);
        if (fabric)
            g_string_append_printf(s, "      <fabric_wwn>%s</fabric_wwn>\n", fabric);
        g_string_append(s, "    </capability>\n");
        g_ptr_array_add(dev->subcaps, g_strdup("fc_host"));
    }
    if (g_file_test(vport_create, G_FILE_TEST_EXISTS)) {
        g_string_append_printf(s, "    <capability type='vport_ops'>\n"
                                  "      <max_vports>%d</max_vports>\n"
                                  "      <vports>%d</vports>\n    </capability>\n",
                               (int)nodedev_attr_int(fc, "max_npiv_vports", 10, 0),
                               (int)nodedev_attr_int(fc, "npiv_vports_inuse", 10, 0));
        g_ptr_array_add(dev->subcaps, g_strdup("vports"));
    }
}

static NodeDev *
scsi_host_new(const char *root, const char *dir, const char *sysname)
{
    g_autofree char *sh = NULL;
    NodeDev *dev;
    GString *s;
    guint host;
    gint64 unique_id;

    if (sscanf(sysname, "host%u", &host) != 1)
        return NULL;
    sh = g_strdup_printf("%s/sys/class/scsi_host/host%u", root, host);
    unique_id = nodedev_attr_int(sh, "unique_id", 10, -1);
    dev = nodedev_new(root, dir, NODEDEV_CAP_SCSI_HOST);
    dev->name = nodedev_make_name("scsi", sysname, NULL);
    s = g_string_new(NULL);
    g_string_append_printf(s, "    <host>%u</host>\n", host);
    if (unique_id != -1)
        g_string_append_printf(s, "    <unique_id>%d</unique_id>\n", (int)unique_id);
    append_fc(s, dev, root, host);
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}

static NodeDev *
scsi_device_new(const char *root, const char *dir, const char *sysname)
{
    guint h, b, t, l;
    const char *type;
    NodeDev *dev;
    GString *s;

    if (sscanf(sysname, "%u:%u:%u:%u", &h, &b, &t, &l) != 4)
        return NULL;
    dev = nodedev_new(root, dir, NODEDEV_CAP_SCSI);
    dev->name = nodedev_make_name("scsi", sysname, NULL);
    s = g_string_new(NULL);
    g_string_append_printf(s, "    <host>%u</host>\n    <bus>%u</bus>\n    <target>%u</target>\n"
                              "    <lun>%u</lun>\n", h, b, t, l);
    if ((type = scsi_type_name(nodedev_attr_int(dir, "type", 0, -1))))
        g_string_append_printf(s, "    <type>%s</type>\n", type);
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}

NodeDev *
nodedev_scsi_new(const char *root, const char *dir)
{
    g_autofree char *sysname = g_path_get_basename(dir);
    g_autofree char *devtype = nodedev_uevent_get(dir, "DEVTYPE");
    NodeDev *dev;

    if (g_strcmp0(devtype, "scsi_host") == 0)
        return scsi_host_new(root, dir, sysname);
    if (g_strcmp0(devtype, "scsi_device") == 0)
        return scsi_device_new(root, dir, sysname);
    if (g_strcmp0(devtype, "scsi_target") != 0)
        return NULL;
    dev = nodedev_new(root, dir, NODEDEV_CAP_SCSI_TARGET);
    dev->name = nodedev_make_name("scsi", sysname, NULL);
    dev->cap_xml = g_markup_printf_escaped("    <target>%s</target>\n", sysname);
    return dev;
}
