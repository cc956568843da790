/* qemu_hotplug_luks.c: a LUKS disk plugged live (qemu_hotplug_priv.h): its key fetched
 * from virtsecretd first, then its secret object (encrypted with the guest's master key)
 * plugged before its nodes, as a start gives it (qemu_secret.h). */
#include "qemu_hotplug_priv.h"

#include "qemu_command_disk.h"
#include "qemu_domain.h"
#include "qemu_secret.h"
#include "util/error.h"


typedef struct {
    gpointer run;
    SvDomainDef *newlive;
    guint index;
    SvStoreDoneFunc done;
    gpointer data;
} KeyedAttach;

static void
keyed_key_fetched(GPtrArray *values, const GError *error, gpointer p)
{
    g_autofree KeyedAttach *k = p;
    g_autoptr(GPtrArray) keys = values;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(QemuDiskSecret) secret = NULL;
    g_autoptr(GError) e = NULL;
    SvDomainObj *obj = qemu_domain_find(k->run);
    QemuDomain *qd = obj ? qemu_domain_of(obj) : NULL;

    if (!error && !obj)
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "%s",
                     "domain is not running");
    else if (!error && !qd->has_master_key &&
             qemu_secret_master_key_read(qd->dir, qd->master_key, &e))
        qd->has_master_key = TRUE;
    if (!error && !e)
        secret = qemu_secret_encrypt(qd->master_key, keys->pdata[k->index], &e);
    if (error || e) {
        sv_domain_def_free(k->newlive);
        k->done(error ? error : e, k->data);
        return;
    }
    qemu_command_build_disk(k->newlive, k->newlive->disks->pdata[k->index], secret, argv);
    qemu_hotplug_plug_argv(obj, k->newlive, FALSE, k->index, argv, -1, k->done, k->data);
}

/* libvirt fetches a plugged disk's key as it does at start (here for the daemon's own
 * identity, elevated: the client's is not known to the plug). */
void
qemu_hotplug_attach_keyed_disk(SvDomainObj *obj, SvDomainDef *newlive, guint index, SvStoreDoneFunc done,
                  gpointer data)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    KeyedAttach *k = g_new0(KeyedAttach, 1);
    g_autofree char *sock_dir = sv_daemon_path(ctx->daemon, "/run/libvirt");
    g_autoptr(GPtrArray) one = g_ptr_array_new();
    SvBackendIdentity id;

    k->run = sv_domain_obj_run_key(obj);
    k->newlive = newlive;
    k->index = index;
    k->done = done;
    k->data = data;
    sv_backend_identity_of_daemon(&id);
    g_strlcpy(id.system_token, sv_daemon_system_token(ctx->daemon), sizeof(id.system_token));
    /* only the new disk's key: the others' are QEMU's already */
    g_ptr_array_set_size(one, newlive->disks->len);
    one->pdata[index] = newlive->disks->pdata[index];
    qemu_secret_fetch_disks(one, sock_dir, &id, keyed_key_fetched, k);
}

