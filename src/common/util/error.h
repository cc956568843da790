/* error.h: libvirt errors as GErrors: domain = libvirt error domain, code = libvirt error number. */
#pragma once

#include <glib.h>

/* virErrorDomain values (wire ABI; numbers from the libvirt facts, never invented). */
typedef enum {
    SV_FROM_NONE = 0,
    SV_FROM_XEN = 1,
    SV_FROM_XML = 5,
    SV_FROM_DOM = 6,
    SV_FROM_RPC = 7,
    SV_FROM_CONF = 9,
    SV_FROM_QEMU = 10,
    SV_FROM_NET = 11, /* virnetdev*.c: a virtualport's parameters */
    SV_FROM_REMOTE = 13,
    SV_FROM_LXC = 17,
    SV_FROM_STORAGE = 18,
    SV_FROM_NETWORK = 19,
    SV_FROM_DOMAIN = 20,
    SV_FROM_NODEDEV = 22,
    SV_FROM_SECURITY = 24,
    SV_FROM_INTERFACE = 26,
    SV_FROM_SECRET = 30,
    SV_FROM_CPU = 31,
    SV_FROM_NWFILTER = 33,
    SV_FROM_DOMAIN_SNAPSHOT = 35,
    SV_FROM_STREAMS = 38,
    SV_FROM_EVENT = 40,
    SV_FROM_LIBXL = 41,
    SV_FROM_URI = 45,
    SV_FROM_DEVICE = 49,
    SV_FROM_AUTH = 46,
    SV_FROM_IDENTITY = 53,
    SV_FROM_CGROUP = 54,
    SV_FROM_ACCESS = 55,
    SV_FROM_SYSTEMD = 56,
    SV_FROM_ADMIN = 62,
    SV_FROM_LOGGING = 63,
    SV_FROM_DOMAIN_CHECKPOINT = 69,
    SV_FROM_LAST = 73,
} SvErrorDomain;

/* virErrorNumber values. */
typedef enum {
    SV_ERR_OK = 0,
    SV_ERR_INTERNAL_ERROR = 1,
    SV_ERR_NO_MEMORY = 2,
    SV_ERR_NO_SUPPORT = 3,
    SV_ERR_NO_CONNECT = 5,
    SV_ERR_INVALID_CONN = 6,
    SV_ERR_INVALID_DOMAIN = 7,
    SV_ERR_INVALID_ARG = 8,
    SV_ERR_OPERATION_FAILED = 9,
    SV_ERR_NO_SOURCE = 19,
    SV_ERR_NO_TARGET = 20,
    SV_ERR_NO_NAME = 21,
    SV_ERR_XML_ERROR = 27,
    SV_ERR_DOM_EXIST = 28,
    SV_ERR_OPERATION_DENIED = 29,
    SV_ERR_OPEN_FAILED = 30,
    SV_ERR_XML_DETAIL = 35,
    SV_ERR_INVALID_NETWORK = 36,
    SV_ERR_NETWORK_EXIST = 37,
    SV_ERR_SYSTEM_ERROR = 38,
    SV_ERR_RPC = 39,
    SV_ERR_NO_DOMAIN = 42,
    SV_ERR_NO_NETWORK = 43,
    SV_ERR_INVALID_MAC = 44,
    SV_ERR_NO_STORAGE_POOL = 49,
    SV_ERR_NO_STORAGE_VOL = 50,
    SV_ERR_AUTH_FAILED = 45,
    SV_ERR_NO_NODE_DEVICE = 53,
    SV_ERR_OPERATION_INVALID = 55,
    SV_ERR_INVALID_SECRET = 65,
    SV_ERR_NO_SECRET = 66,
    SV_ERR_CONFIG_UNSUPPORTED = 67,
    SV_ERR_OPERATION_TIMEOUT = 68,
    SV_ERR_ARGUMENT_UNSUPPORTED = 74,
    SV_ERR_STORAGE_PROBE_FAILED = 75,
    SV_ERR_STORAGE_POOL_BUILT = 76,
    SV_ERR_OPERATION_ABORTED = 78,
    SV_ERR_NO_DOMAIN_METADATA = 80,
    SV_ERR_OVERFLOW = 82,
    SV_ERR_OPERATION_UNSUPPORTED = 84,
    SV_ERR_AGENT_UNRESPONSIVE = 86,
    SV_ERR_RESOURCE_BUSY = 87,
    SV_ERR_ACCESS_DENIED = 88,
    SV_ERR_STORAGE_VOL_EXIST = 90,
    SV_ERR_CPU_INCOMPATIBLE = 91,
    SV_ERR_XML_INVALID_SCHEMA = 92,
    SV_ERR_MIGRATE_FINISH_OK = 93,
    SV_ERR_NO_SERVER = 95,
    SV_ERR_NO_CLIENT = 96,
    SV_ERR_DEVICE_MISSING = 99,
    SV_ERR_INVALID_NETWORK_PORT = 105,
    SV_ERR_NETWORK_PORT_EXIST = 106,
    SV_ERR_NO_NETWORK_PORT = 107,
    SV_ERR_NO_HOSTNAME = 108,
    SV_ERR_LAST = 111,
} SvErrorCode;

/* The fields of a libvirt error beyond code, domain and message. */
typedef struct {
    char *str1;
    char *str2;
    char *str3;
    int int1;
    int int2;
    int level;
} SvErrorExtra;

/* The GError domain standing for libvirt error domain `from` (0 <= from < SV_FROM_LAST). */
GQuark sv_error_quark(int from);

/* The libvirt error domain of a GError; SV_FROM_NONE for foreign GErrors. */
int sv_error_get_from(const GError *error);

/* The extra fields of a GError made here; NULL for foreign GErrors. (transfer none) */
const SvErrorExtra *sv_error_get_extra(const GError *error);

/* The template libvirt uses for `code`, e.g. "Domain not found: %s"; "%s" when unknown. */
const char *sv_error_template(int code);

/* An ordinary error: message = template with the formatted detail, str1 = the
 * template, str2 = the detail, int1 = int2 = -1. */
void sv_error_set(GError **error, int from, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* An error whose message is exactly `fmt` (no template): str1 = message, str2 absent. */
void sv_error_set_literal(GError **error, int from, int code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* SYSTEM_ERROR: message "<detail>: strerror(errnum)", str1 "%s", int1 = errnum. */
void sv_error_set_errno(GError **error, int from, int errnum, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* "unsupported flags (0x%x) in function %s" (INVALID_ARG, no prefix). */
void sv_error_set_flags(GError **error, int from, unsigned int bad_flags, const char *func);

/* Fail with the flags error when `flags` has bits outside `supported`. */
gboolean sv_check_flags(unsigned int flags, unsigned int supported, int from, const char *func,
                        GError **error);

/* Build a GError from the fields of a received libvirt error. */
GError *sv_error_new_full(int from, int code, const char *message, int level, const char *str1,
                          const char *str2, const char *str3, int int1, int int2);
