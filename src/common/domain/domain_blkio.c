/* domain_blkio.c: the blkio procedures (domain_blkio.h) as libvirt 9.0's QEMU driver answers
 * them. */
#include "domain/domain_blkio.h"

#include <errno.h>
#include <string.h>

#include "domain/domain_modify.h"
#include "domain/domain_typed.h"
#include "util/error.h"

#define BLKIO_FLAGS (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

static const char *const param_names[SV_BLKIO_LAST] = {
    "weight",
    "device_weight",
    "device_read_iops_sec",
    "device_write_iops_sec",
    "device_read_bytes_sec",
    "device_write_bytes_sec",
};

static guint64
device_value(const SvDomainBlkioDeviceDef *dev, int which)
{
    switch (which) {
    case SV_BLKIO_DEVICE_WEIGHT:
        return dev->weight;
    case SV_BLKIO_DEVICE_READ_IOPS:
        return dev->read_iops;
    case SV_BLKIO_DEVICE_WRITE_IOPS:
        return dev->write_iops;
    case SV_BLKIO_DEVICE_READ_BYTES:
        return dev->read_bytes;
    default:
        return dev->write_bytes;
    }
}

static void
set_device_value(SvDomainBlkioDeviceDef *dev, int which, guint64 v)
{
    switch (which) {
    case SV_BLKIO_DEVICE_WEIGHT:
        dev->weight = (guint)v;
        break;
    case SV_BLKIO_DEVICE_READ_IOPS:
        dev->read_iops = (guint)v;
        break;
    case SV_BLKIO_DEVICE_WRITE_IOPS:
        dev->write_iops = (guint)v;
        break;
    case SV_BLKIO_DEVICE_READ_BYTES:
        dev->read_bytes = v;
        break;
    default:
        dev->write_bytes = v;
        break;
    }
}

static void
device_free(gpointer p)
{
    SvDomainBlkioDeviceDef *dev = p;

    g_free(dev->path);
    g_free(dev);
}

/* libvirt's virStrToLong_uip/_ullp with an end pointer: a number without sign, text may
 * follow. */
static gboolean
parse_number(const char *s, gboolean wide, guint64 *out, const char **end)
{
    char *p = NULL;
    guint64 v;

    errno = 0;
    v = g_ascii_strtoull(s, &p, 10);
    if (p == s || errno || memchr(s, '-', (gsize)(p - s)) || (!wide && v > G_MAXUINT))
        return FALSE;
    *out = v;
    *end = p;
    return TRUE;
}

GPtrArray *
sv_domain_blkio_parse_devices(const char *text, int which, GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func(device_free);
    const char *temp = text;
    guint commas = 0;

    for (const char *c = text; (c = strchr(c, ',')); c++)
        commas++;
    if (*text && commas % 2 == 0)
        goto parse_error;
    while (*temp) {
        const char *comma = strchr(temp, ',');
        const char *end = NULL;
        SvDomainBlkioDeviceDef *dev;
        guint64 v = 0;

        if (!comma)
            goto parse_error;
        dev = g_new0(SvDomainBlkioDeviceDef, 1);
        dev->path = g_strndup(temp, (gsize)(comma - temp));
        g_ptr_array_add(devs, dev);
        temp = comma + 1;
        if (!parse_number(temp, which >= SV_BLKIO_DEVICE_READ_BYTES, &v, &end)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                         "invalid value '%s' for parameter '%s' of device '%s'", temp,
                         param_names[which], dev->path);
            return NULL;
        }
        set_device_value(dev, which, v);
        if (*end == '\0')
            break;
        if (*end != ',')
            goto parse_error;
        temp = end + 1;
    }
    return g_steal_pointer(&devs);

parse_error:
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                 "unable to parse blkio device '%s' '%s'", param_names[which], text);
    return NULL;
}

/* libvirt's virDomainDriverMergeBlkioDevice: each device's value `which` into the
 * definition's list, a new device only when it has a value. */
static void
merge_devices(SvDomainDef *def, GPtrArray *devs, int which)
{
    for (guint i = 0; i < devs->len; i++) {
        const SvDomainBlkioDeviceDef *src = devs->pdata[i];
        SvDomainBlkioDeviceDef *dest = NULL;

        for (guint j = 0; j < def->blkio_devices->len && !dest; j++) {
            SvDomainBlkioDeviceDef *d = def->blkio_devices->pdata[j];

            if (g_str_equal(d->path, src->path))
                dest = d;
        }
        if (!dest && !device_value(src, which))
            continue;
        if (!dest) {
            dest = g_new0(SvDomainBlkioDeviceDef, 1);
            dest->path = g_strdup(src->path);
            g_ptr_array_add(def->blkio_devices, dest);
        }
        set_device_value(dest, which, device_value(src, which));
    }
}

/* ---------------------------------------------------------------- set */

static int
param_index(const char *field)
{
    for (int k = 0; k < SV_BLKIO_LAST; k++) {
        if (g_str_equal(field, param_names[k]))
            return k;
    }
    return -1;
}

static int
param_type(int which)
{
    return which == SV_BLKIO_WEIGHT ? SV_TYPED_PARAM_UINT : SV_TYPED_PARAM_STRING;
}

/* libvirt's virTypedParamsValidate: weight a uint, the device lists strings, each once. */
static gboolean
check_params(const remote_typed_param *p, guint n, GError **error)
{
    gboolean seen[SV_BLKIO_LAST] = {FALSE};

    for (guint i = 0; i < n; i++) {
        if (sv_domain_typed_param_take(&p[i], param_names, SV_BLKIO_LAST, param_type, seen,
                                       error) < 0)
            return FALSE;
    }
    return TRUE;
}

/* Each parameter into the running guest's cgroup, and the values into its live
 * definition. */
static gboolean
apply_live(SvDomainDriver *drv, SvDomainObj *obj, SvDomainDef *live,
           const remote_typed_param *p, guint n, GError **error)
{
    for (guint i = 0; i < n; i++) {
        int which = param_index(p[i].field);
        g_autoptr(GPtrArray) devs = NULL;

        if (which == SV_BLKIO_WEIGHT) {
            guint w = p[i].value.remote_typed_param_value_u.ui;

            if (!drv->blkio->set_weight(obj, w, error))
                return FALSE;
            live->blkio_weight = w;
            continue;
        }
        devs = sv_domain_blkio_parse_devices(p[i].value.remote_typed_param_value_u.s, which,
                                             error);
        if (!devs)
            return FALSE;
        for (guint j = 0; j < devs->len; j++) {
            const SvDomainBlkioDeviceDef *dev = devs->pdata[j];

            if (!drv->blkio->set_device(obj, dev->path, which, device_value(dev, which),
                                        error))
                return FALSE;
        }
        merge_devices(live, devs, which);
    }
    return TRUE;
}

static gboolean
apply_config(SvDomainDef *config, const remote_typed_param *p, guint n, GError **error)
{
    for (guint i = 0; i < n; i++) {
        int which = param_index(p[i].field);
        g_autoptr(GPtrArray) devs = NULL;

        if (which == SV_BLKIO_WEIGHT) {
            config->blkio_weight = p[i].value.remote_typed_param_value_u.ui;
            continue;
        }
        devs = sv_domain_blkio_parse_devices(p[i].value.remote_typed_param_value_u.s, which,
                                             error);
        if (!devs)
            return FALSE;
        merge_devices(config, devs, which);
    }
    return TRUE;
}

gboolean
sv_domain_blkio_set(SvCall *call, remote_domain_set_blkio_parameters_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const remote_typed_param *p = a->params.params_val;
    guint n = a->params.params_len;
    guint flags = a->flags;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    gboolean ok = TRUE;

    if (!sv_domain_driver_check_flags(drv, flags, BLKIO_FLAGS, "DomainSetBlkioParameters",
                                      error) ||
        !check_params(p, n, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live && !drv->blkio->check(obj, error))
        return FALSE;
    if (live)
        ok = apply_live(drv, obj, live, p, n, error);
    if (ok && config)
        ok = apply_config(config, p, n, error);
    /* What reached the guest is recorded even when a later step failed. */
    return sv_domain_modify_finish(call, drv, obj, live, config, ok);
}

/* ---------------------------------------------------------------- get */

/* "PATH,VALUE,..." of the devices with a value `which`. */
static char *
format_devices(const SvDomainDef *def, int which)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const SvDomainBlkioDeviceDef *dev = def->blkio_devices->pdata[i];
        guint64 v = device_value(dev, which);

        if (!v)
            continue;
        g_string_append_printf(s, "%s%s,%" G_GUINT64_FORMAT, s->len ? "," : "", dev->path, v);
    }
    return g_string_free(s, FALSE);
}

gboolean
sv_domain_blkio_get(SvCall *call, remote_domain_get_blkio_parameters_args *a,
                    remote_domain_get_blkio_parameters_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint flags = a->flags & ~SV_TYPED_PARAM_STRING_OKAY;
    gboolean strings = (a->flags & SV_TYPED_PARAM_STRING_OKAY) != 0;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    guint weight = 0;
    guint max, n = 0;

    obj = sv_domain_typed_get_begin(call, &a->dom, a->nparams, REMOTE_DOMAIN_BLKIO_PARAMETERS_MAX,
                                    a->flags, "DomainGetBlkioParameters", error);
    if (!obj)
        return FALSE;
    /* libvirt answers the count before it looks at the definitions. */
    if (a->nparams == 0) {
        ret->nparams = SV_BLKIO_LAST;
        return TRUE;
    }
    if (!sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (config)
        weight = config->blkio_weight;
    else if (!drv->blkio->check(obj, error) || !drv->blkio->get_weight(obj, &weight, error))
        return FALSE;
    max = MIN((guint)a->nparams, (guint)SV_BLKIO_LAST);
    ret->params.params_val = g_new0(remote_typed_param, max);
    /* Strings only for a client that says it reads them, as libvirt's daemon. */
    for (guint k = 0; k < max; k++) {
        remote_typed_param *p = &ret->params.params_val[n];

        if (k != SV_BLKIO_WEIGHT && !strings)
            continue;
        p->field = g_strdup(param_names[k]);
        if (k == SV_BLKIO_WEIGHT) {
            p->value.type = SV_TYPED_PARAM_UINT;
            p->value.remote_typed_param_value_u.ui = weight;
        } else {
            p->value.type = SV_TYPED_PARAM_STRING;
            p->value.remote_typed_param_value_u.s = format_devices(config ? config : live,
                                                                   (int)k);
        }
        n++;
    }
    ret->params.params_len = n;
    ret->nparams = (int)n;
    return TRUE;
}
