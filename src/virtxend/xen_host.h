/* xen_host.h: whether this host is a Xen control domain, and the capabilities XML the
 * Xen driver reports (hvm and PV guests). */
#pragma once

#include <glib.h>

/* libvirt's test for a usable Xen host: `capabilities_path` (normally
 * /proc/xen/capabilities) starts with "control_d", or, when that file is absent,
 * `xenstored_path` (/dev/xen/xenstored) exists. The paths are parameters so tests and
 * unusual layouts can point elsewhere. */
gboolean xen_host_is_dom0(const char *capabilities_path, const char *xenstored_path);

/* The capabilities XML: the host (as sv_host_info_get() sees it) and the guests libxl runs,
 * hvm (i686, x86_64) and xen (PV, x86_64), each with <domain type='xen'/>. (transfer full) */
char *xen_host_capabilities(const char *host_uuid);

/* libvirt's version number for a Xen version: major*1000000 + minor*1000 + micro, micro
 * taken from xen_version_extra when it is ".N...". */
guint64 xen_host_version_number(int major, int minor, const char *extra);
