/* qemu_guestops.c: keys and an NMI sent to a running guest (qemu_guestops.h), as libvirt
 * 9.0's qemuDomainSendKey and qemuDomainInjectNMI: the arguments checked as
 * virDomainSendKey checks them, the key codes translated to QEMU's numbers (qnum) before
 * the lookup, "domain is not running" for an inactive guest, then one QMP command whose
 * reply answers the call. */
#include "qemu_guestops.h"

#include "domain/domain_keys.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "util/error.h"

static void
command_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvCall *call = data;

    (void)mon;
    (void)ret;
    if (error)
        sv_call_fail(call, g_error_copy(error));
    else
        sv_call_reply(call, NULL);
}

/* The monitor of dom's guest, running, or NULL with libvirt's error. */
static QemuMonitor *
running_monitor(SvDomainDriver *drv, const remote_nonnull_domain *dom, GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(drv, dom, error);
    QemuDomain *priv;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return NULL;
    priv = qemu_domain_of(obj);
    if (!priv || !priv->mon || qemu_monitor_is_closed(priv->mon)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return priv->mon;
}

/* QMP send-key's "keys": each code as a qnum number, translated from codeset. */
static JsonArray *
qnum_keys(guint codeset, const guint *codes, guint n, GError **error)
{
    g_autoptr(JsonArray) keys = json_array_new();

    for (guint i = 0; i < n; i++) {
        int qnum = codes[i];
        JsonObject *key;

        if (codeset != SV_KEYCODE_SET_QNUM &&
            (qnum = sv_keycode_translate(codeset, SV_KEYCODE_SET_QNUM, codes[i])) < 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "cannot translate keycode %u of %s codeset to qnum keycode", codes[i],
                         sv_keycode_set_name(codeset));
            return NULL;
        }
        key = json_object_new();
        json_object_set_string_member(key, "type", "number");
        json_object_set_int_member(key, "data", qnum);
        json_array_add_object_element(keys, key);
    }
    return g_steal_pointer(&keys);
}

static gboolean
send_key(SvCall *call, remote_domain_send_key_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(JsonArray) keys = NULL;
    QemuMonitor *mon;
    JsonObject *args;

    if (!sv_domain_send_key_check(a->codeset, a->keycodes.keycodes_len, error) ||
        !sv_domain_driver_check_flags(drv, a->flags, 0, "DomainSendKey", error))
        return FALSE;
    keys = qnum_keys(a->codeset, a->keycodes.keycodes_val, a->keycodes.keycodes_len, error);
    if (!keys || !(mon = running_monitor(drv, &a->dom, error)))
        return FALSE;
    args = json_object_new();
    json_object_set_array_member(args, "keys", g_steal_pointer(&keys));
    if (a->holdtime) /* as libvirt: QEMU's default hold time when none is given */
        json_object_set_int_member(args, "hold-time", a->holdtime);
    qemu_monitor_command(mon, "send-key", args, command_replied, sv_call_defer(call));
    return TRUE;
}

static gboolean
inject_nmi(SvCall *call, remote_domain_inject_nmi_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    QemuMonitor *mon;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainInjectNMI", error) ||
        !(mon = running_monitor(drv, &a->dom, error)))
        return FALSE;
    qemu_monitor_command(mon, "inject-nmi", NULL, command_replied, sv_call_defer(call));
    return TRUE;
}

void
qemu_guestops_install(SvRemoteHandlers *h)
{
    h->domain_send_key = send_key;
    h->domain_inject_nmi = inject_nmi;
}
