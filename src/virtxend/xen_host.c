/* xen_host.c: the Xen host probe and the capabilities XML. */
#include "xen_host.h"

#include <string.h>

#include "util/host.h"

/* Where Debian and libvirt expect the HVM device model and firmware. */
#define XEN_EMULATOR "/usr/lib/xen/bin/qemu-system-i386"
#define XEN_HVMLOADER "/usr/lib/xen/boot/hvmloader"

gboolean
xen_host_is_dom0(const char *capabilities_path, const char *xenstored_path)
{
    g_autofree char *caps = NULL;

    if (g_file_get_contents(capabilities_path, &caps, NULL, NULL))
        return g_str_has_prefix(caps, "control_d");
    return g_file_test(xenstored_path, G_FILE_TEST_EXISTS);
}

guint64
xen_host_version_number(int major, int minor, const char *extra)
{
    guint64 micro = 0;

    if (extra && extra[0] == '.' && g_ascii_isdigit(extra[1]))
        micro = g_ascii_strtoull(extra + 1, NULL, 10);
    return (guint64)major * 1000000 + (guint64)minor * 1000 + MIN(micro, 999);
}

static void
append_host(GString *s, const char *host_uuid)
{
    sv_host_capabilities_begin(s, host_uuid, NULL,
                               "    <migration_features>\n      <live/>\n    </migration_features>\n");
    g_string_append(s, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
                       "    </secmodel>\n  </host>\n\n");
}

static void
append_guest(GString *s, const char *os_type, const char *arch, int wordsize, gboolean hvm)
{
    g_string_append_printf(s,
                           "  <guest>\n    <os_type>%s</os_type>\n    <arch name='%s'>\n"
                           "      <wordsize>%d</wordsize>\n      <emulator>%s</emulator>\n",
                           os_type, arch, wordsize, XEN_EMULATOR);
    if (hvm)
        g_string_append(s, "      <loader>" XEN_HVMLOADER "</loader>\n");
    g_string_append_printf(s, "      <machine>%s</machine>\n      <domain type='xen'/>\n"
                              "    </arch>\n",
                           hvm ? "xenfv" : "xenpv");
    if (hvm)
        g_string_append(s, "    <features>\n"
                           "      <pae/>\n"
                           "      <nonpae/>\n"
                           "      <acpi default='on' toggle='yes'/>\n"
                           "      <apic default='on' toggle='no'/>\n"
                           "      <hap default='on' toggle='yes'/>\n"
                           "    </features>\n");
    g_string_append(s, "  </guest>\n\n");
}

char *
xen_host_capabilities(const char *host_uuid)
{
    GString *s = g_string_new("<capabilities>\n\n");

    append_host(s, host_uuid);
    append_guest(s, "xen", "x86_64", 64, FALSE);
    append_guest(s, "hvm", "i686", 32, TRUE);
    append_guest(s, "hvm", "x86_64", 64, TRUE);
    g_string_append(s, "</capabilities>\n");
    return g_string_free(s, FALSE);
}
