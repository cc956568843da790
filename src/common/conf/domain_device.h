/* domain_device.h: what every device of a domain has besides its own settings: its alias,
 * its address on a bus and its place in the boot order (libvirt's virDomainDeviceInfo).
 * Every device struct of domain_conf.h has an SvDomainDeviceInfo as its first member `info`,
 * so code that walks all devices (address assignment, aliases) can reach it the same way. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* <address type=...>, libvirt's names. Kinds splitvirt does not implement are refused as
 * unsupported. */
typedef enum {
    SV_DOMAIN_ADDRESS_NONE,
    SV_DOMAIN_ADDRESS_PCI,
    SV_DOMAIN_ADDRESS_DRIVE,
    SV_DOMAIN_ADDRESS_VIRTIO_SERIAL,
    SV_DOMAIN_ADDRESS_CCID,
    SV_DOMAIN_ADDRESS_USB,
    SV_DOMAIN_ADDRESS_SPAPRVIO,
    SV_DOMAIN_ADDRESS_VIRTIO_S390,
    SV_DOMAIN_ADDRESS_CCW,
    SV_DOMAIN_ADDRESS_VIRTIO_MMIO,
    SV_DOMAIN_ADDRESS_ISA,
    SV_DOMAIN_ADDRESS_DIMM,
    SV_DOMAIN_ADDRESS_UNASSIGNED,
    SV_DOMAIN_ADDRESS_LAST
} SvDomainAddressType;

typedef struct {
    guint domain;   /* 0..0xffff */
    guint bus;      /* 0..0xff */
    guint slot;     /* 0..0x1f */
    guint function; /* 0..7 */
    int multifunction; /* SvDomainSwitch: ABSENT, ON, OFF */
} SvDomainPciAddress;

typedef struct {
    guint controller;
    guint bus;
    guint target;
    guint unit;
} SvDomainDriveAddress;

/* virtio-serial (controller, bus, port) and ccid (controller, slot in `port`). */
typedef struct {
    guint controller;
    guint bus;
    guint port;
} SvDomainSerialAddress;

/* How deep a USB port path goes: a root port and hubs below it (libvirt's limit). */
#define SV_DOMAIN_USB_PORT_DEPTH 4

typedef struct {
    guint bus;
    /* "1", "1.2" ... (the root port, then the port of each hub below), NULL when absent.
     * Parsed ports are kept as their numbers ("01" is "1"); a path whose first number is 0
     * is no port (sv_domain_usb_port_is_set) and is written without one. */
    char *port;
} SvDomainUsbAddress;

typedef struct {
    guint iobase; /* 0 = absent */
    guint irq;    /* 0 = absent */
} SvDomainIsaAddress;

typedef struct {
    SvDomainAddressType type;
    /* Only the member of `type` is meaningful; the others stay zero. */
    SvDomainPciAddress pci;
    SvDomainDriveAddress drive;
    SvDomainSerialAddress serial; /* VIRTIO_SERIAL and CCID */
    SvDomainUsbAddress usb;
    SvDomainIsaAddress isa;
} SvDomainDeviceAddress;

typedef struct {
    /* The device's name in QEMU ("virtio-disk0", "net0", "ua-mine"). User aliases (prefix
     * "ua-") come from the XML and are always formatted; the others are given at start and
     * shown only in live XML, as libvirt does. NULL = none yet. */
    char *alias;
    SvDomainDeviceAddress addr;
    guint boot_order; /* <boot order=N/>, 0 = none */
} SvDomainDeviceInfo;

typedef enum {
    /* The device may carry <boot order=.../> (disks, interfaces, redirdevs...). */
    SV_DEVICE_INFO_BOOT = 1 << 0,
    /* Keep a non-user alias from the XML (saved live state, not a new definition). */
    SV_DEVICE_INFO_KEEP_ALIAS = 1 << 1,
} SvDeviceInfoFlags;

/* Read <boot>, <alias> and <address> under device element `dev` into `info` (which the
 * caller zeroed). A <boot> where the device takes none, or an address libvirt refuses,
 * fails with libvirt's error; address kinds splitvirt does not implement fail with
 * CONFIG_UNSUPPORTED. */
gboolean sv_domain_device_info_parse(const xmlNode *dev, SvDomainDeviceInfo *info, guint flags,
                                     GError **error);

/* Write info's <boot>, <alias> and <address> lines at `indent` spaces, in libvirt's order.
 * `format_flags` are SvDomainFormatFlags: INACTIVE omits aliases that are not user aliases. */
void sv_domain_device_info_format(GString *buf, int indent, const SvDomainDeviceInfo *info,
                                  guint format_flags);

/* Free what info owns and zero it. */
void sv_domain_device_info_clear(SvDomainDeviceInfo *info);

/* Whether `alias` is a user alias ("ua-" and at least one more character). */
gboolean sv_domain_alias_is_user(const char *alias);

const char *sv_domain_address_type_to_string(int v);
int sv_domain_address_type_from_string(const char *s);

/* Read a USB port path ("1.2") into path[SV_DOMAIN_USB_PORT_DEPTH] (zeroed by the caller);
 * FALSE when it is no such path (libvirt's syntax: dot-separated unsigned numbers). */
gboolean sv_domain_usb_port_parse(const char *port, guint *path);
/* The path as text: up to its first 0 when stop_at_zero (as libvirt writes it), else up to
 * its last number that is not 0 ("0" for none). (transfer full) */
char *sv_domain_usb_port_format(const guint *path, gboolean stop_at_zero);
/* Whether a port path is set: its first number is not 0. */
gboolean sv_domain_usb_port_is_set(const char *port);
