/* sysinfo.h: the host's SMBIOS tables as libvirt's <sysinfo type='smbios'> XML, from the
 * output of `dmidecode -q -t 0,1,2,3,4,11,17` (the command libvirt runs). */
#pragma once

#include <glib.h>

/* The arguments libvirt gives dmidecode (after the program's path). */
extern const char *const sv_sysinfo_dmidecode_args[];

/* Format dmidecode's output as libvirt 9.0 does (virSysinfoReadDMI + virSysinfoFormat):
 * each section's fields are found by searching forward from the section's title, an
 * empty or all-blank value is left out, an element without fields is left out, and
 * "<sysinfo type='smbios'/>" is the answer for output with no tables in it. Text is
 * escaped as XML. (transfer full) */
char *sv_sysinfo_format_dmidecode(const char *output);
