/* domain_validate.c: what libvirt does to a domain definition after parsing it: the
 * defaults it fills in, then the checks of the whole definition; and the domain name rules
 * every driver shares. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_parse.h"
#include "util/error.h"

#define NAME_MAX_BYTES 200

static gboolean
controller_index_used(const SvDomainDef *def, SvDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == type && c->index == index)
            return TRUE;
    }
    return FALSE;
}

/* libvirt's post-parse: serials get the port after the highest one of all serials so far
 * (explicit ports after them included), controllers the lowest index unused by their type,
 * in document order. */
static void
assign_ports_and_indexes(SvDomainDef *def)
{
    for (guint i = 0; i < def->serials->len; i++) {
        SvDomainChrDef *chr = def->serials->pdata[i];
        gint64 max = -1;

        if (chr->target_port != G_MAXUINT)
            continue;
        for (guint j = 0; j < def->serials->len; j++) {
            guint port = ((SvDomainChrDef *)def->serials->pdata[j])->target_port;
            if (port != G_MAXUINT)
                max = MAX(max, (gint64)port);
        }
        chr->target_port = (guint)(max + 1);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *ctrl = def->controllers->pdata[i];
        guint index = 0;

        if (ctrl->index != G_MAXUINT)
            continue;
        while (controller_index_used(def, ctrl->type, index))
            index++;
        ctrl->index = index;
    }
}

static gboolean
has_device_boot_order(const SvDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (((const SvDomainDiskDef *)def->disks->pdata[i])->info.boot_order)
            return TRUE;
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        if (((const SvDomainNetDef *)def->interfaces->pdata[i])->info.boot_order)
            return TRUE;
    }
    for (guint i = 0; i < def->filesystems->len; i++) {
        if (((const SvDomainFsDef *)def->filesystems->pdata[i])->info.boot_order)
            return TRUE;
    }
    return FALSE;
}

/* libvirt's boot order rules: <os><boot dev> or per-device <boot order>, never both; hvm
 * guests with neither boot from the first disk. */
static gboolean
post_parse_boot(SvDomainDef *def, GError **error)
{
    gboolean per_device = has_device_boot_order(def);

    if (per_device && def->os.n_boot_devs > 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "per-device boot elements cannot be used together with os/boot elements");
        return FALSE;
    }
    if (!per_device && g_str_equal(def->os.type, "hvm") && def->os.n_boot_devs == 0)
        def->os.boot_devs[def->os.n_boot_devs++] = SV_DOMAIN_BOOT_DISK;
    return TRUE;
}

gboolean
sv_domain_def_post_parse(SvDomainDef *def, GError **error)
{
    if (def->memory_kib == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Memory size must be specified via <memory> or in the <numa> configuration");
        return FALSE;
    }
    if (def->current_memory_kib == 0 || def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    if (!post_parse_boot(def, error))
        return FALSE;
    assign_ports_and_indexes(def);
    /* graphics, video, input, sound, audio, redirdev */
    return sv_domain_display_post_parse(def, error);
}

static gboolean
validate_idmaps(const SvDomainDef *def, GError **error)
{
    const SvDomainIdMapDef *first[SV_DOMAIN_IDMAP_LAST] = {NULL, NULL};

    for (guint i = 0; i < def->idmaps->len; i++) {
        const SvDomainIdMapDef *m = def->idmaps->pdata[i];

        if (!first[m->kind])
            first[m->kind] = m;
    }
    if (!first[SV_DOMAIN_IDMAP_UID] != !first[SV_DOMAIN_IDMAP_GID]) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "uid and gid should be mapped both");
        return FALSE;
    }
    for (guint k = 0; k < SV_DOMAIN_IDMAP_LAST; k++) {
        if (first[k] && first[k]->start != 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "You must map the root user of container");
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
sv_domain_def_validate(const SvDomainDef *def, GError **error)
{
    const struct {
        const char *event;
        SvDomainLifecycleAction action;
    } no_coredump[] = {{"poweroff", def->on_poweroff}, {"reboot", def->on_reboot}};

    /* Yes, this text for 0 vCPUs without NUMA: it is what libvirt says (facts section 11). */
    if (def->vcpus == 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "CPU IDs in <numa> exceed the <vcpu> count");
        return FALSE;
    }
    if (!sv_domain_name_check(def->name, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(no_coredump); i++) {
        if (no_coredump[i].action == SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY ||
            no_coredump[i].action == SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "Lifecycle event '%s' doesn't support '%s' action", no_coredump[i].event,
                         sv_domain_lifecycle_action_to_string(no_coredump[i].action));
            return FALSE;
        }
    }
    return validate_idmaps(def, error) && sv_domain_cpu_def_validate(def, error) &&
           sv_domain_panics_validate(def, error) && sv_domain_fs_validate(def, error);
}

gboolean
sv_domain_name_check(const char *name, GError **error)
{
    if (!name || !*name) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_NO_NAME, "missing name information");
        return FALSE;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name is not valid UTF-8");
        return FALSE;
    }
    if (strlen(name) > NAME_MAX_BYTES) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "name must not be longer than %d bytes", NAME_MAX_BYTES);
        return FALSE;
    }
    if (strchr(name, '\n')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: \n");
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "name must not contain control characters");
            return FALSE;
        }
    }
    if (strchr(name, '/')) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name %s cannot contain '/'", name);
        return FALSE;
    }
    if (name[0] == '.') {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "name '%s' must not start with '.'",
                     name);
        return FALSE;
    }
    return TRUE;
}
