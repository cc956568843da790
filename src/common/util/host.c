/* host.c: host facts read from /proc, /sys and /etc. */
#include "util/host.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static guint64
meminfo_kib(const char *key)
{
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
        return 0;
    p = strstr(text, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ' ' || *p == ':')
        p++;
    return g_ascii_strtoull(p, NULL, 10);
}

const char *
sv_host_arch(void)
{
    static struct utsname u;

    if (!u.machine[0] && uname(&u) < 0)
        return "x86_64";
    if (g_str_equal(u.machine, "i686") || g_str_equal(u.machine, "i586"))
        return "i686";
    return u.machine;
}

void
sv_host_info_get(SvHostInfo *info)
{
    g_autofree char *cpuinfo = NULL;
    g_autoptr(GHashTable) packages = g_hash_table_new(g_str_hash, g_str_equal);
    g_auto(GStrv) lines = NULL;
    int cores_per_socket = 0, siblings = 0;
    double mhz = 0;

    memset(info, 0, sizeof(*info));
    g_strlcpy(info->model, sv_host_arch(), sizeof(info->model));
    info->memory_kib = meminfo_kib("MemTotal");
    info->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (info->cpus < 1)
        info->cpus = 1;
    if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        lines = g_strsplit(cpuinfo, "\n", -1);
        for (char **l = lines; *l; l++) {
            char *colon = strchr(*l, ':');
            if (!colon)
                continue;
            if (g_str_has_prefix(*l, "cpu MHz") && mhz == 0)
                mhz = g_ascii_strtod(colon + 1, NULL);
            else if (g_str_has_prefix(*l, "physical id"))
                g_hash_table_add(packages, g_strstrip(colon + 1));
            else if (g_str_has_prefix(*l, "cpu cores"))
                cores_per_socket = atoi(colon + 1);
            else if (g_str_has_prefix(*l, "siblings"))
                siblings = atoi(colon + 1);
        }
    }
    info->mhz = (int)mhz;
    info->nodes = 1;
    info->sockets = MAX(1, (int)g_hash_table_size(packages));
    info->cores = cores_per_socket > 0 ? cores_per_socket : info->cpus / info->sockets;
    info->threads = (cores_per_socket > 0 && siblings >= cores_per_socket)
                        ? siblings / cores_per_socket
                        : 1;
    /* libvirt's invariant: nodes * sockets * cores * threads == cpus; otherwise
     * report a flat topology as it does. */
    if (info->nodes * info->sockets * info->cores * info->threads != info->cpus) {
        info->sockets = 1;
        info->cores = info->cpus;
        info->threads = 1;
    }
}

guint64
sv_host_free_memory(void)
{
    return meminfo_kib("MemFree") * 1024;
}

static char *
format_uuid(const char *hex32)
{
    return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", hex32, hex32 + 8, hex32 + 12, hex32 + 16,
                           hex32 + 20);
}

/* libvirt's reading of a UUID: 32 hex digits, pairs optionally split by dashes, spaces
 * around; one whose bytes are all the same is refused, as libvirt refuses it. */
static char *
parse_uuid(const char *text)
{
    char hex[33];
    int n = 0;
    const char *p = text;

    while (g_ascii_isspace(*p))
        p++;
    while (*p && n < 32) {
        if (*p == '-') {
            p++;
            continue;
        }
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return NULL;
        hex[n++] = g_ascii_tolower(p[0]);
        hex[n++] = g_ascii_tolower(p[1]);
        p += 2;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (n != 32 || *p)
        return NULL;
    hex[32] = '\0';
    for (int i = 2; i < 32; i += 2) {
        if (hex[i] != hex[0] || hex[i + 1] != hex[1])
            return format_uuid(hex);
    }
    return NULL;
}

char *
sv_host_uuid_configured(const char *host_uuid, const char *source, GError **error)
{
    g_autofree char *text = NULL;
    char *uuid;

    if (!host_uuid && (!source || g_str_equal(source, "smbios")))
        return sv_host_uuid();
    if (!host_uuid && g_str_equal(source, "machine-id")) {
        if (!g_file_get_contents("/etc/machine-id", &text, NULL, NULL)) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Can't read %s",
                         "/etc/machine-id");
            return NULL;
        }
        host_uuid = g_strstrip(text);
    } else if (!host_uuid) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "invalid UUID source: %s",
                     source);
        return NULL;
    }
    uuid = parse_uuid(host_uuid);
    if (!uuid)
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "invalid host UUID: %s",
                     host_uuid);
    return uuid;
}

char *
sv_host_uuid(void)
{
    g_autofree char *text = NULL;

    if (g_file_get_contents("/sys/class/dmi/id/product_uuid", &text, NULL, NULL)) {
        g_strstrip(text);
        if (strlen(text) == 36 && strcmp(text, "00000000-0000-0000-0000-000000000000") != 0)
            return g_ascii_strdown(text, -1);
    }
    g_clear_pointer(&text, g_free);
    if (g_file_get_contents("/etc/machine-id", &text, NULL, NULL)) {
        g_strstrip(text);
        if (strlen(text) == 32)
            return format_uuid(text);
    }
    return g_strdup("00000000-0000-0000-0000-000000000001");
}
