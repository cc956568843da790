/* error.c: one extended GError domain per libvirt error domain, carrying libvirt's extra fields. */
#include "util/error.h"

#include <errno.h>
#include <string.h>

static GQuark quarks[SV_FROM_LAST];

/* GLib keeps an extended error's private data just before the GError, aligned
 * as G_DEFINE_EXTENDED_ERROR computes it; this is that computation. */
static SvErrorExtra *
extra_of(const GError *error)
{
    const gsize sa = 2 * sizeof(gsize);
    const gsize as = (sizeof(SvErrorExtra) + (sa - 1)) & -sa;

    return (SvErrorExtra *)(((guint8 *)error) - as);
}

static void
extra_init(GError *error)
{
    SvErrorExtra *x = extra_of(error);

    x->int1 = -1;
    x->int2 = -1;
    x->level = 2;
}

static void
extra_copy(const GError *src, GError *dst)
{
    const SvErrorExtra *a = extra_of(src);
    SvErrorExtra *b = extra_of(dst);

    *b = *a;
    b->str1 = g_strdup(a->str1);
    b->str2 = g_strdup(a->str2);
    b->str3 = g_strdup(a->str3);
}

static void
extra_clear(GError *error)
{
    SvErrorExtra *x = extra_of(error);

    g_clear_pointer(&x->str1, g_free);
    g_clear_pointer(&x->str2, g_free);
    g_clear_pointer(&x->str3, g_free);
}

GQuark
sv_error_quark(int from)
{
    g_return_val_if_fail(from >= 0 && from < SV_FROM_LAST, 0);
    if (!quarks[from]) {
        g_autofree char *name = g_strdup_printf("sv-error-from-%d", from);
        /* Registered once per process; the name is interned by GLib. */
        quarks[from] = g_error_domain_register(name, sizeof(SvErrorExtra), extra_init, extra_copy,
                                               extra_clear);
    }
    return quarks[from];
}

int
sv_error_get_from(const GError *error)
{
    for (int i = 0; i < SV_FROM_LAST; i++) {
        if (quarks[i] && quarks[i] == error->domain)
            return i;
    }
    return SV_FROM_NONE;
}

const SvErrorExtra *
sv_error_get_extra(const GError *error)
{
    for (int i = 0; i < SV_FROM_LAST; i++) {
        if (quarks[i] && quarks[i] == error->domain)
            return extra_of(error);
    }
    return NULL;
}

static const struct {
    int code;
    const char *template;
} templates[] = {
    {SV_ERR_INTERNAL_ERROR, "internal error: %s"},
    {SV_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s"},
    {SV_ERR_NO_CONNECT, "no connection driver available for %s"},
    {SV_ERR_INVALID_ARG, "invalid argument: %s"},
    {SV_ERR_OPERATION_FAILED, "operation failed: %s"},
    {SV_ERR_XML_ERROR, "XML error: %s"},
    {SV_ERR_DOM_EXIST, "domain %s exists already"},
    {SV_ERR_OPERATION_DENIED, "operation forbidden: %s"},
    {SV_ERR_NO_DOMAIN, "Domain not found: %s"},
    {SV_ERR_NO_NETWORK, "Network not found: %s"},
    {SV_ERR_INVALID_MAC, "invalid MAC address: %s"},
    {SV_ERR_NETWORK_EXIST, "network %s exists already"},
    {SV_ERR_INVALID_NETWORK, "invalid network pointer in %s"},
    {SV_ERR_OPERATION_INVALID, "Requested operation is not valid: %s"},
    {SV_ERR_NO_STORAGE_POOL, "Storage pool not found: %s"},
    {SV_ERR_NO_STORAGE_VOL, "Storage volume not found: %s"},
    {SV_ERR_STORAGE_VOL_EXIST, "storage volume %s exists already"},
    {SV_ERR_NO_NODE_DEVICE, "Node device not found: %s"},
    {SV_ERR_INVALID_SECRET, "Invalid secret: %s"},
    {SV_ERR_NO_SECRET, "Secret not found: %s"},
    {SV_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: %s"},
    {SV_ERR_OPERATION_TIMEOUT, "Timed out during operation: %s"},
    {SV_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: %s"},
    {SV_ERR_STORAGE_PROBE_FAILED, "Storage pool probe failed: %s"},
    {SV_ERR_STORAGE_POOL_BUILT, "Storage pool already built: %s"},
    {SV_ERR_NO_DOMAIN_METADATA, "metadata not found: %s"},
    {SV_ERR_OPERATION_UNSUPPORTED, "Operation not supported: %s"},
    {SV_ERR_OPERATION_ABORTED, "operation aborted: %s"},
    {SV_ERR_OVERFLOW, "numerical overflow: %s"},
    {SV_ERR_AGENT_UNRESPONSIVE, "Guest agent is not responding: %s"},
    {SV_ERR_RESOURCE_BUSY, "resource busy: %s"},
    {SV_ERR_CPU_INCOMPATIBLE, "the CPU is incompatible with host CPU: %s"},
    {SV_ERR_ACCESS_DENIED, "access denied: %s"},
    {SV_ERR_AUTH_FAILED, "authentication failed: %s"},
    {SV_ERR_NO_SERVER, "Server not found: %s"},
    {SV_ERR_NO_CLIENT, "Client not found: %s"},
    {SV_ERR_DEVICE_MISSING, "device not found: %s"},
    {SV_ERR_INVALID_NETWORK_PORT, "Invalid network port pointer: %s"},
    {SV_ERR_NETWORK_PORT_EXIST, "network port %s exists already"},
    {SV_ERR_NO_NETWORK_PORT, "network port not found: %s"},
    {SV_ERR_NO_HOSTNAME, "no hostname found: %s"},
    {SV_ERR_MIGRATE_FINISH_OK, "migration successfully aborted: %s"},
};

const char *
sv_error_template(int code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(templates); i++) {
        if (templates[i].code == code)
            return templates[i].template;
    }
    return "%s";
}

static void
set_full(GError **error, int from, int code, char *message, char *str1, char *str2, int int1,
         int int2)
{
    GError *e;
    SvErrorExtra *x;

    if (!error) {
        g_free(message);
        g_free(str1);
        g_free(str2);
        return;
    }
    e = g_error_new_literal(sv_error_quark(from), code, message);
    x = extra_of(e);
    x->str1 = str1;
    x->str2 = str2;
    x->int1 = int1;
    x->int2 = int2;
    g_free(message);
    g_propagate_error(error, e);
}

static char *
fill_template(const char *tmpl, const char *detail)
{
    const char *p = strstr(tmpl, "%s");

    if (!p)
        return g_strdup(tmpl);
    return g_strdup_printf("%.*s%s%s", (int)(p - tmpl), tmpl, detail, p + 2);
}

void
sv_error_set(GError **error, int from, int code, const char *fmt, ...)
{
    va_list ap;
    char *detail;
    const char *tmpl = sv_error_template(code);

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    set_full(error, from, code, fill_template(tmpl, detail), g_strdup(tmpl), detail, -1, -1);
}

void
sv_error_set_literal(GError **error, int from, int code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    set_full(error, from, code, msg, g_strdup(msg), NULL, -1, -1);
}

void
sv_error_set_errno(GError **error, int from, int errnum, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *detail = NULL;
    char *msg;

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    msg = g_strdup_printf("%s: %s", detail, g_strerror(errnum));
    set_full(error, from, SV_ERR_SYSTEM_ERROR, msg, g_strdup("%s"), g_strdup(msg), errnum, -1);
}

void
sv_error_set_flags(GError **error, int from, unsigned int bad_flags, const char *func)
{
    set_full(error, from, SV_ERR_INVALID_ARG,
             g_strdup_printf("unsupported flags (0x%x) in function %s", bad_flags, func),
             g_strdup(func), g_strdup("flags"), 0, 0);
}

gboolean
sv_check_flags(unsigned int flags, unsigned int supported, int from, const char *func,
               GError **error)
{
    if (flags & ~supported) {
        sv_error_set_flags(error, from, flags & ~supported, func);
        return FALSE;
    }
    return TRUE;
}

GError *
sv_error_new_full(int from, int code, const char *message, int level, const char *str1,
                  const char *str2, const char *str3, int int1, int int2)
{
    GError *e;
    SvErrorExtra *x;

    if (from < 0 || from >= SV_FROM_LAST)
        from = SV_FROM_NONE;
    e = g_error_new_literal(sv_error_quark(from), code, message ? message : "");
    x = extra_of(e);
    x->level = level;
    x->str1 = g_strdup(str1);
    x->str2 = g_strdup(str2);
    x->str3 = g_strdup(str3);
    x->int1 = int1;
    x->int2 = int2;
    return e;
}
