/* qemu_security.c: QEMU's identity (user, group, environment) and its SELinux labels.
 *
 * The daemon stays root; QEMU becomes the configured user in the child, from
 * ids resolved here at startup (the child may not look anything up).
 *
 * With SELinux enabled every labelled guest gets a category pair cA,cB of its
 * own (libvirt's "dynamic" labels): QEMU is exec'ed as the base domain
 * context with those categories, its writable images carry the image context
 * with the same ones, so one guest's QEMU cannot open another's images. Files
 * several guests may share (kernel, initrd, read-only disks) get the shared
 * content context. Each file's original label is kept, counted across running
 * guests, and put back when the last one stops; the status file keeps both
 * the label and the originals for a restarted daemon.
 *
 * File ownership (libvirt's DAC driver) is qemu_dac.c's; a guest's label also holds the
 * files given to QEMU's user, so the two are applied, saved, taken back and released
 * together. A guest has a label object when either is in force. */
#include "qemu_security.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <selinux/context.h>
#include <selinux/selinux.h>

#include "conf/domain_status.h"
#include "qemu_dac.h"
#include "util/error.h"
#include "util/fileio.h"

#define MCS_CATEGORIES 1024 /* c0 ... c1023 */
#define MCS_ATTEMPTS 100000

/* A file relabelled for running guests: its label before the first of them. */
typedef struct {
    char *original;
    guint users;
} FileUse;

struct QemuSecurity {
    uid_t uid;
    gid_t gid;
    char *user_name; /* NULL when the uid has no passwd entry */
    gboolean switch_ids; /* the child takes uid, gid and groups */
    gboolean set_groups; /* only root may set supplementary groups */
    gid_t *groups;
    int n_groups;
    gboolean selinux;
    char *domain_context[2]; /* base process contexts: [0] kvm, [1] qemu (TCG) */
    char *image_context;     /* base context of a guest's own images */
    char *content_context;   /* shared read-only content: kernel, initrd, cdroms */
    GHashTable *mcs;         /* "cA,cB" of running guests -> NULL */
    GHashTable *files;       /* resolved path -> FileUse */
    QemuDac *dac;            /* file ownership for QEMU's user */
};

struct QemuSecLabel {
    char *label;      /* NULL without SELinux */
    char *imagelabel; /* NULL without SELinux */
    char *mcs;       /* "cA,cB", reserved in QemuSecurity.mcs; NULL once released */
    GPtrArray *files; /* of resolved paths this guest counts in QemuSecurity.files */
    GPtrArray *owned; /* of resolved paths given to QEMU's user (qemu_dac.c) */
};

static void
file_use_free(gpointer p)
{
    FileUse *u = p;

    g_free(u->original);
    g_free(u);
}

/* ---------------------------------------------------------------- user and group */

/* "+N" is a number only; otherwise a name, or a number without a passwd/group entry. */
static gboolean
resolve_id(const char *key, const char *value, gboolean group, guint *out_id, GError **error)
{
    const char *digits = value[0] == '+' ? value + 1 : value;
    guint64 n;

    if (value[0] != '+') {
        if (!group) {
            struct passwd *pw = getpwnam(value);
            if (pw) {
                *out_id = pw->pw_uid;
                return TRUE;
            }
        } else {
            struct group *gr = getgrnam(value);
            if (gr) {
                *out_id = gr->gr_gid;
                return TRUE;
            }
        }
    }
    if (*digits && g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT32 - 1, &n, NULL)) {
        *out_id = (guint)n;
        return TRUE;
    }
    sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "%s '%s' (key '%s') not found",
                 group ? "group" : "user", value, key);
    return FALSE;
}

/* A key given as a "string" or as a bare number. */
static gboolean
conf_get_id(SvConfFile *conf, const char *key, gboolean group, guint *out_id, GError **error)
{
    g_autofree char *value = NULL;
    g_autoptr(GError) string_error = NULL;
    guint n;

    /* Debian's libvirt runs QEMU as libvirt-qemu:libvirt-qemu (the install step creates
     * them); the user's primary group, kvm, comes with its supplementary groups. */
    if (!sv_conf_file_has(conf, key))
        return resolve_id(key, "libvirt-qemu", group, out_id, error);
    if (sv_conf_file_get_string(conf, key, &value, &string_error))
        return resolve_id(key, value, group, out_id, error);
    if (sv_conf_file_get_uint(conf, key, &n, NULL)) {
        *out_id = n;
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&string_error));
    return FALSE;
}

/* The user's groups as libvirt's virGetGroupList lists them: those of the user's own
 * primary group (from the password database, kvm for libvirt-qemu) and of its memberships,
 * then the configured group if it is not among them. */
static void
load_groups(QemuSecurity *sec, gid_t primary)
{
    int n = 16;
    gboolean has_gid = FALSE;

    sec->groups = g_new(gid_t, n + 1);
    if (getgrouplist(sec->user_name, primary, sec->groups, &n) < 0) {
        sec->groups = g_renew(gid_t, sec->groups, n + 1);
        if (getgrouplist(sec->user_name, primary, sec->groups, &n) < 0)
            n = 0;
    }
    for (int i = 0; i < n; i++)
        has_gid = has_gid || sec->groups[i] == sec->gid;
    if (n > 0 && !has_gid)
        sec->groups[n++] = sec->gid;
    sec->n_groups = n;
}

static gboolean
load_identity(QemuSecurity *sec, SvConfFile *conf, GError **error)
{
    struct passwd *pw;
    guint uid, gid;

    if (!conf_get_id(conf, "user", FALSE, &uid, error) ||
        !conf_get_id(conf, "group", TRUE, &gid, error))
        return FALSE;
    sec->uid = uid;
    sec->gid = gid;
    pw = getpwuid(sec->uid);
    sec->user_name = pw ? g_strdup(pw->pw_name) : NULL;
    sec->switch_ids = sec->uid != geteuid() || sec->gid != getegid();
    sec->set_groups = sec->switch_ids && geteuid() == 0;
    /* The supplementary groups matter only to a child that switches to them; looking
     * them up asks every group database (NSS modules loaded for good), so only then. */
    if (sec->set_groups && sec->user_name)
        load_groups(sec, pw->pw_gid);
    if (sec->n_groups == 0) {
        g_free(sec->groups);
        sec->groups = g_new(gid_t, 1);
        sec->groups[0] = sec->gid;
        sec->n_groups = 1;
    }
    g_debug("QEMU runs as uid %u gid %u (%d groups)", (guint)sec->uid, (guint)sec->gid,
            sec->n_groups);
    return TRUE;
}

/* ---------------------------------------------------------------- SELinux setup */

/* The first and second non-empty lines of a context file; the second falls
 * back to the first when `second_optional`. */
static gboolean
read_contexts(const char *path, gboolean second_optional, char **out_first, char **out_second,
              GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *found = g_ptr_array_new();

    if (!path || !g_file_get_contents(path, &text, NULL, &local)) {
        sv_error_set(error, SV_FROM_SECURITY, SV_ERR_INTERNAL_ERROR,
                     "cannot read SELinux context file '%s': %s", path ? path : "(none)",
                     local ? local->message : "no path");
        g_ptr_array_free(found, TRUE);
        return FALSE;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (*lines[i] && lines[i][0] != '#')
            g_ptr_array_add(found, lines[i]);
    }
    if (found->len == 0 || (found->len == 1 && !second_optional)) {
        sv_error_set(error, SV_FROM_SECURITY, SV_ERR_INTERNAL_ERROR,
                     "cannot parse SELinux context file '%s': expected %s", path,
                     second_optional ? "a context" : "two contexts");
        g_ptr_array_free(found, TRUE);
        return FALSE;
    }
    *out_first = g_strdup(found->pdata[0]);
    *out_second = g_strdup(found->pdata[found->len > 1 ? 1 : 0]);
    g_ptr_array_free(found, TRUE);
    return TRUE;
}

static gboolean
load_selinux(QemuSecurity *sec, GError **error)
{
    sec->selinux = is_selinux_enabled() > 0;
    if (!sec->selinux)
        return TRUE;
    if (!read_contexts(selinux_virtual_domain_context_path(), TRUE, &sec->domain_context[0],
                       &sec->domain_context[1], error) ||
        !read_contexts(selinux_virtual_image_context_path(), FALSE, &sec->image_context,
                       &sec->content_context, error)) {
        g_prefix_error(error, "SELinux is enabled: ");
        return FALSE;
    }
    g_debug("SELinux: domains %s / %s, images %s, content %s", sec->domain_context[0],
            sec->domain_context[1], sec->image_context, sec->content_context);
    return TRUE;
}

QemuSecurity *
qemu_security_new(SvConfFile *conf, const char *lib_dir, GError **error)
{
    g_autoptr(QemuSecurity) sec = g_new0(QemuSecurity, 1);

    sec->mcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sec->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, file_use_free);
    if (!load_identity(sec, conf, error) || !load_selinux(sec, error))
        return NULL;
    sec->dac = qemu_dac_new(conf, sec->uid, sec->gid, error);
    if (!sec->dac)
        return NULL;
    if (sec->switch_ids) {
        /* As libvirt gives its qemu user /var/lib/libvirt/qemu: the way to its directories. */
        if (!sv_mkdir_p(lib_dir, 0751, error))
            return NULL;
        if (chown(lib_dir, sec->uid, sec->gid) < 0) {
            sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot give '%s' to %u:%u", lib_dir,
                               (guint)sec->uid, (guint)sec->gid);
            return NULL;
        }
    }
    return g_steal_pointer(&sec);
}

void
qemu_security_free(QemuSecurity *sec)
{
    if (!sec)
        return;
    g_free(sec->user_name);
    g_free(sec->groups);
    g_free(sec->domain_context[0]);
    g_free(sec->domain_context[1]);
    g_free(sec->image_context);
    g_free(sec->content_context);
    g_hash_table_unref(sec->mcs);
    g_hash_table_unref(sec->files);
    qemu_dac_free(sec->dac);
    g_free(sec);
}

const char *
qemu_security_get_model(QemuSecurity *sec)
{
    return sec->selinux ? "selinux" : "";
}

const char *
qemu_security_get_doi(QemuSecurity *sec)
{
    return sec->selinux ? "0" : "";
}

char *
qemu_security_get_dac_label(QemuSecurity *sec)
{
    return qemu_dac_label(sec->dac);
}

const char *
qemu_security_get_base_label(QemuSecurity *sec, gboolean kvm)
{
    return sec->selinux ? sec->domain_context[kvm ? 0 : 1] : NULL;
}

/* ---------------------------------------------------------------- labels */

/* base with its MLS range replaced by "LEVEL:cats", LEVEL the base's low level. */
static char *
context_with_categories(const char *base, const char *cats, GError **error)
{
    context_t c = context_new(base);
    const char *range = c ? context_range_get(c) : NULL;
    g_autofree char *level = NULL, *new_range = NULL;
    char *out = NULL;

    if (!range) {
        sv_error_set(error, SV_FROM_SECURITY, SV_ERR_INTERNAL_ERROR,
                     "SELinux context '%s' has no MLS range", base);
    } else {
        level = g_strndup(range, strcspn(range, "-:"));
        new_range = g_strdup_printf("%s:%s", level, cats);
        if (context_range_set(c, new_range) != 0 || !context_str(c))
            sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                               "cannot set range '%s' in SELinux context '%s'", new_range, base);
        else
            out = g_strdup(context_str(c));
    }
    if (c)
        context_free(c);
    return out;
}

/* The "cA,cB" part of a label this module made. */
static char *
label_categories(const char *label)
{
    context_t c = context_new(label);
    const char *range = c ? context_range_get(c) : NULL;
    const char *colon = range ? strchr(range, ':') : NULL;
    char *out = colon ? g_strdup(colon + 1) : NULL;

    if (c)
        context_free(c);
    return out;
}

static char *
reserve_categories(QemuSecurity *sec, GError **error)
{
    for (guint i = 0; i < MCS_ATTEMPTS; i++) {
        guint a = (guint)g_random_int_range(0, MCS_CATEGORIES);
        guint b = (guint)g_random_int_range(0, MCS_CATEGORIES);
        char *cats;

        if (a == b)
            continue;
        cats = g_strdup_printf("c%u,c%u", MIN(a, b), MAX(a, b));
        if (!g_hash_table_contains(sec->mcs, cats)) {
            g_hash_table_add(sec->mcs, g_strdup(cats));
            return cats;
        }
        g_free(cats);
    }
    sv_error_set(error, SV_FROM_SECURITY, SV_ERR_INTERNAL_ERROR,
                 "no free MCS category pair for another guest");
    return NULL;
}

static QemuSecLabel *
label_alloc(void)
{
    QemuSecLabel *l = g_new0(QemuSecLabel, 1);

    l->files = g_ptr_array_new_with_free_func(g_free);
    l->owned = g_ptr_array_new_with_free_func(g_free);
    return l;
}

gboolean
qemu_security_label_new(QemuSecurity *sec, const SvDomainDef *def, QemuSecLabel **out_label,
                        GError **error)
{
    g_autoptr(QemuSecLabel) l = NULL;

    *out_label = NULL;
    if (def->seclabel_none || (!sec->selinux && !qemu_dac_enabled(sec->dac)))
        return TRUE;
    l = label_alloc();
    if (!sec->selinux) {
        *out_label = g_steal_pointer(&l);
        return TRUE;
    }
    l->mcs = reserve_categories(sec, error);
    if (!l->mcs)
        return FALSE;
    l->label = context_with_categories(
        qemu_security_get_base_label(sec, def->type == SV_DOMAIN_VIRT_KVM), l->mcs, error);
    if (l->label)
        l->imagelabel = context_with_categories(sec->image_context, l->mcs, error);
    if (!l->imagelabel) {
        qemu_security_label_release(sec, l);
        return FALSE;
    }
    *out_label = g_steal_pointer(&l);
    return TRUE;
}

static gboolean
label_has_file(const QemuSecLabel *l, const char *path)
{
    for (guint i = 0; i < l->files->len; i++) {
        if (g_str_equal(l->files->pdata[i], path))
            return TRUE;
    }
    return FALSE;
}

/* Label one file for this guest, remembering the label it had before any guest. */
static gboolean
relabel(QemuSecurity *sec, QemuSecLabel *l, const char *path, const char *context,
        GError **error)
{
    g_autofree char *real = realpath(path, NULL);
    FileUse *use;

    if (!real) {
        sv_error_set_errno(error, SV_FROM_SECURITY, errno, "unable to label '%s' as %s", path,
                           context);
        return FALSE;
    }
    if (label_has_file(l, real))
        return TRUE;
    use = g_hash_table_lookup(sec->files, real);
    if (!use) {
        char *original = NULL;
        if (getfilecon_raw(real, &original) < 0) {
            if (errno == ENOTSUP || errno == ENODATA) {
                g_debug("'%s' carries no SELinux label; left as it is", real);
                return TRUE;
            }
            sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                               "unable to read the SELinux label of '%s'", real);
            return FALSE;
        }
        use = g_new0(FileUse, 1);
        use->original = g_strdup(original);
        freecon(original);
        g_hash_table_insert(sec->files, g_strdup(real), use);
    }
    if (setfilecon_raw(real, context) < 0) {
        int err = errno;
        if (use->users == 0)
            g_hash_table_remove(sec->files, real);
        if (err == ENOTSUP) {
            g_debug("'%s' cannot be labelled here; left as it is", real);
            return TRUE;
        }
        sv_error_set_errno(error, SV_FROM_SECURITY, err, "unable to label '%s' as %s", real,
                           context);
        return FALSE;
    }
    use->users++;
    g_ptr_array_add(l->files, g_steal_pointer(&real));
    return TRUE;
}

/* One file QEMU opens by path: its SELinux label (`context`) when the guest has one, and
 * its owner (taken back at the end when `restore`). */
static gboolean
prepare_file(QemuSecurity *sec, QemuSecLabel *l, const char *path, const char *context,
             gboolean restore, GError **error)
{
    if (l->label && !relabel(sec, l, path, context, error))
        return FALSE;
    return qemu_dac_own(sec->dac, l->owned, path, restore, error);
}

gboolean
qemu_security_label_apply(QemuSecurity *sec, QemuSecLabel *l, const SvDomainDef *def,
                          GError **error)
{
    GPtrArray *serials = def->serials->len ? def->serials : def->consoles;

    if (!l)
        return TRUE;
    /* Read-only images are given to QEMU's user but never taken back, as libvirt does:
     * another guest may be reading them. */
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        if (d->source &&
            !prepare_file(sec, l, d->source, d->readonly ? sec->content_context : l->imagelabel,
                          !d->readonly, error))
            return FALSE;
    }
    if (def->os.kernel &&
        !prepare_file(sec, l, def->os.kernel, sec->content_context, TRUE, error))
        return FALSE;
    if (def->os.initrd &&
        !prepare_file(sec, l, def->os.initrd, sec->content_context, TRUE, error))
        return FALSE;
    /* The guest's UEFI variables, which QEMU writes (the firmware code is read-only and
     * world-readable, and libvirt leaves it alone too). */
    if (def->nvram && !prepare_file(sec, l, def->nvram, l->imagelabel, TRUE, error))
        return FALSE;
    /* A serial file QEMU creates itself takes its label from the directory. */
    for (guint i = 0; i < serials->len; i++) {
        const SvDomainChrDef *c = serials->pdata[i];
        if (c->source.type == SV_DOMAIN_CHR_TYPE_FILE && g_file_test(c->source.path, G_FILE_TEST_EXISTS) &&
            !prepare_file(sec, l, c->source.path, l->imagelabel, TRUE, error))
            return FALSE;
    }
    return TRUE;
}

void
qemu_security_label_release(QemuSecurity *sec, QemuSecLabel *l)
{
    if (!l)
        return;
    for (guint i = 0; i < l->files->len; i++) {
        const char *path = l->files->pdata[i];
        FileUse *use = g_hash_table_lookup(sec->files, path);

        if (!use || --use->users > 0)
            continue;
        if (setfilecon_raw(path, use->original) < 0 && errno != ENOENT)
            g_warning("cannot restore the SELinux label %s of '%s': %s", use->original, path,
                      g_strerror(errno));
        g_hash_table_remove(sec->files, path);
    }
    g_ptr_array_set_size(l->files, 0);
    qemu_dac_restore(sec->dac, l->owned);
    if (l->mcs)
        g_hash_table_remove(sec->mcs, l->mcs);
    g_clear_pointer(&l->mcs, g_free);
}

void
qemu_security_label_free(QemuSecLabel *l)
{
    if (!l)
        return;
    g_free(l->label);
    g_free(l->imagelabel);
    g_free(l->mcs);
    g_ptr_array_unref(l->files);
    g_ptr_array_unref(l->owned);
    g_free(l);
}

const char *
qemu_security_label_get_label(const QemuSecLabel *l)
{
    return l->label;
}

const char *
qemu_security_label_get_imagelabel(const QemuSecLabel *l)
{
    return l->imagelabel;
}

char *
qemu_security_label_format_xml(QemuSecurity *sec, const QemuSecLabel *l, gboolean migratable)
{
    g_autofree char *dac = NULL;
    GString *out = g_string_new(NULL);

    if (!l)
        return g_string_free(out, FALSE);
    if (l->label) {
        g_autofree char *label = g_markup_escape_text(l->label, -1);
        g_autofree char *image = g_markup_escape_text(l->imagelabel, -1);
        g_string_append_printf(out,
                               "  <seclabel type='dynamic' model='selinux' relabel='yes'>\n"
                               "    <label>%s</label>\n"
                               "    <imagelabel>%s</imagelabel>\n"
                               "  </seclabel>\n",
                               label, image);
    }
    /* libvirt's DAC driver labels every guest it runs with QEMU's identity. */
    if (migratable)
        return g_string_free(out, FALSE);
    dac = qemu_dac_label(sec->dac);
    g_string_append_printf(out,
                           "  <seclabel type='dynamic' model='dac' relabel='yes'>\n"
                           "    <label>%s</label>\n"
                           "    <imagelabel>%s</imagelabel>\n"
                           "  </seclabel>\n",
                           dac, dac);
    return g_string_free(out, FALSE);
}

/* ---------------------------------------------------------------- status file */

char *
qemu_security_label_format_status_attrs(const QemuSecLabel *l)
{
    g_autofree char *label = NULL, *image = NULL;

    if (!l || !l->label)
        return g_strdup("");
    label = g_markup_escape_text(l->label, -1);
    image = g_markup_escape_text(l->imagelabel, -1);
    return g_strdup_printf(" seclabel='%s' imagelabel='%s'", label, image);
}

char *
qemu_security_label_format_status_children(QemuSecurity *sec, const QemuSecLabel *l)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; l && i < l->files->len; i++) {
        const FileUse *use = g_hash_table_lookup(sec->files, l->files->pdata[i]);
        g_autofree char *path = g_markup_escape_text(l->files->pdata[i], -1);
        g_autofree char *original = use ? g_markup_escape_text(use->original, -1) : NULL;

        if (use)
            g_string_append_printf(s, "  <relabel path='%s' original='%s'/>\n", path, original);
    }
    if (l)
        qemu_dac_format_status(sec->dac, l->owned, s);
    return g_string_free(s, FALSE);
}

/* The SELinux part of a status file's label: the label, its categories and the files
 * relabelled with their originals. */
static void
selinux_from_status(QemuSecurity *sec, QemuSecLabel *l, xmlNodePtr domstatus, char *label)
{
    l->label = label;
    l->imagelabel = sv_status_attr(domstatus, "imagelabel");
    if (!l->imagelabel)
        l->imagelabel = g_strdup("");
    l->mcs = label_categories(l->label);
    if (l->mcs && !g_hash_table_add(sec->mcs, g_strdup(l->mcs)))
        g_warning("SELinux categories %s are used by two guests", l->mcs);
    for (xmlNodePtr c = domstatus->children; c; c = c->next) {
        g_autofree char *path = NULL, *original = NULL;
        FileUse *use;

        if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "relabel"))
            continue;
        path = sv_status_attr(c, "path");
        original = sv_status_attr(c, "original");
        if (!path || !original || label_has_file(l, path))
            continue;
        use = g_hash_table_lookup(sec->files, path);
        if (!use) {
            use = g_new0(FileUse, 1);
            use->original = g_steal_pointer(&original);
            g_hash_table_insert(sec->files, g_strdup(path), use);
        }
        use->users++;
        g_ptr_array_add(l->files, g_steal_pointer(&path));
    }
}

QemuSecLabel *
qemu_security_label_from_status(QemuSecurity *sec, xmlNodePtr domstatus)
{
    g_autofree char *label = sv_status_attr(domstatus, "seclabel");
    QemuSecLabel *l = label_alloc();

    if (label && !sec->selinux)
        g_warning("a guest runs with SELinux label %s, but SELinux is now disabled; its files "
                  "keep their labels",
                  label);
    else if (label)
        selinux_from_status(sec, l, domstatus, g_steal_pointer(&label));
    qemu_dac_take_status(sec->dac, l->owned, domstatus);
    /* As at start: an object when either part is in force. */
    if (!l->label && !l->owned->len && !qemu_dac_enabled(sec->dac)) {
        qemu_security_label_free(l);
        return NULL;
    }
    return l;
}

/* ---------------------------------------------------------------- process */

gboolean
qemu_security_set_socket_label(QemuSecurity *sec, const QemuSecLabel *l, GError **error)
{
    (void)sec;
    if (l && l->label && setsockcreatecon_raw(l->label) < 0) {
        sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                           "unable to create sockets with SELinux context %s", l->label);
        return FALSE;
    }
    return TRUE;
}

void
qemu_security_clear_socket_label(QemuSecurity *sec, const QemuSecLabel *l)
{
    (void)sec;
    if (l && l->label && setsockcreatecon_raw(NULL) < 0)
        g_warning("cannot reset the socket creation context: %s", g_strerror(errno));
}

gboolean
qemu_security_set_exec_label(QemuSecurity *sec, const QemuSecLabel *l, GError **error)
{
    (void)sec;
    if (l && l->label && setexeccon_raw(l->label) < 0) {
        sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                           "unable to run QEMU with SELinux context %s", l->label);
        return FALSE;
    }
    return TRUE;
}

void
qemu_security_clear_exec_label(QemuSecurity *sec, const QemuSecLabel *l)
{
    (void)sec;
    if (l && l->label && setexeccon_raw(NULL) < 0)
        g_warning("cannot reset the exec context: %s", g_strerror(errno));
}

gboolean
qemu_security_prepare_dir(QemuSecurity *sec, const char *dir, GError **error)
{
    if (sec->switch_ids && chown(dir, sec->uid, sec->gid) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot give '%s' to %u:%u", dir,
                           (guint)sec->uid, (guint)sec->gid);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_security_give_file(QemuSecurity *sec, const char *path, gboolean to_qemu, GError **error)
{
    uid_t uid = to_qemu ? sec->uid : getuid();
    gid_t gid = to_qemu ? sec->gid : getgid();

    if (sec->switch_ids && chown(path, uid, gid) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot give '%s' to %u:%u", path,
                           (guint)uid, (guint)gid);
        return FALSE;
    }
    return TRUE;
}

GStrv
qemu_security_build_env(QemuSecurity *sec, const char *home)
{
    GPtrArray *env = g_ptr_array_new();
    const char *path = g_getenv("PATH");

    g_ptr_array_add(env, g_strdup("LC_ALL=C"));
    g_ptr_array_add(env, g_strconcat("PATH=", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin",
                                     NULL));
    g_ptr_array_add(env, g_strconcat("HOME=", home, NULL));
    if (sec->user_name) {
        g_ptr_array_add(env, g_strconcat("USER=", sec->user_name, NULL));
        g_ptr_array_add(env, g_strconcat("LOGNAME=", sec->user_name, NULL));
    }
    g_ptr_array_add(env, NULL);
    return (GStrv)g_ptr_array_free(env, FALSE);
}

/* Async-signal-safe: a decimal number into buf (at least 12 bytes), returns its start. */
static char *
format_uint(unsigned int n, char *buf, size_t size)
{
    char *p = buf + size - 1;

    *p = '\0';
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n && p > buf);
    return p;
}

static void G_GNUC_NORETURN
child_fail(const char *what, int err)
{
    char num[16];
    const char *parts[] = {"virtqemud: cannot run QEMU as its configured user: ", what,
                           " failed, errno ", format_uint((unsigned)err, num, sizeof(num)),
                           "\n"};

    for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
        if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
            break;
    }
    _exit(127);
}

void
qemu_security_child_setup(gpointer data)
{
    const QemuSecurity *sec = data;

    if (!sec->switch_ids)
        return;
    /* Groups first: once the uid is gone, nothing else may change. */
    if (sec->set_groups && setgroups((size_t)sec->n_groups, sec->groups) < 0)
        child_fail("setgroups", errno);
    if (setresgid(sec->gid, sec->gid, sec->gid) < 0)
        child_fail("setresgid", errno);
    if (setresuid(sec->uid, sec->uid, sec->uid) < 0)
        child_fail("setresuid", errno);
}
