/* qemu_caps.c: probing QEMU and caching what it said. */
#include "qemu_caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "util/error.h"
#include "util/fd.h"
#include "util/process.h"

#define RECHECK_US (2 * G_USEC_PER_SEC) /* how often the binary's mtime is looked at */

typedef struct {
    QemuCapsReadyFunc cb;
    gpointer data;
} Waiter;

struct QemuCaps {
    char *emulator;
    char *cache_file;
    gboolean loaded; /* disk cache looked at */
    gboolean ready;
    gint64 mtime;          /* of the binary the facts came from */
    gint64 last_check_us;  /* monotonic time of the last mtime check */
    guint64 version;
    GPtrArray *machines;   /* QemuMachine */
    GPtrArray *cpu_models; /* char *, as -cpu takes them */
    GPtrArray *nic_models; /* char *, PCI network devices and their aliases */
    GArray *waiters;       /* Waiter, while a probe runs */
    char *version_out;     /* probe steps' outputs, until the last one */
    char *machines_out;
    char *cpus_out;
    gint64 probe_mtime;
};

static void
machine_free(gpointer p)
{
    QemuMachine *m = p;

    g_free(m->name);
    g_free(m->canonical);
    g_free(m);
}

QemuCaps *
qemu_caps_new(const char *emulator, const char *cache_dir)
{
    QemuCaps *caps = g_new0(QemuCaps, 1);

    caps->emulator = g_strdup(emulator);
    caps->cache_file = g_build_filename(cache_dir, "capabilities.ini", NULL);
    caps->machines = g_ptr_array_new_with_free_func(machine_free);
    caps->cpu_models = g_ptr_array_new_with_free_func(g_free);
    caps->nic_models = g_ptr_array_new_with_free_func(g_free);
    caps->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
    return caps;
}

QemuCaps *
qemu_caps_new_from_output(const char *emulator, const char *version, const char *machines,
                          const char *cpus, const char *devices)
{
    QemuCaps *caps = qemu_caps_new(emulator, "/nonexistent");

    caps->loaded = TRUE;
    caps->ready = qemu_caps_parse_version(version, &caps->version);
    g_ptr_array_unref(caps->machines);
    caps->machines = qemu_caps_parse_machines(machines);
    g_ptr_array_unref(caps->cpu_models);
    caps->cpu_models = qemu_caps_parse_cpu_models(cpus);
    g_ptr_array_unref(caps->nic_models);
    caps->nic_models = qemu_caps_parse_nic_models(devices);
    /* Never looked at again: the facts are what the caller gave. */
    caps->last_check_us = G_MAXINT64 / 2;
    return caps;
}

void
qemu_caps_free(QemuCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->emulator);
    g_free(caps->cache_file);
    g_ptr_array_unref(caps->machines);
    g_ptr_array_unref(caps->cpu_models);
    g_ptr_array_unref(caps->nic_models);
    g_array_unref(caps->waiters);
    g_free(caps->version_out);
    g_free(caps->machines_out);
    g_free(caps->cpus_out);
    g_free(caps);
}

const char *
qemu_caps_get_emulator(QemuCaps *caps)
{
    return caps->emulator;
}

guint64
qemu_caps_get_version(QemuCaps *caps)
{
    return caps->version;
}

const GPtrArray *
qemu_caps_get_machines(QemuCaps *caps)
{
    return caps->machines;
}

static gboolean
has_string(const GPtrArray *list, const char *s)
{
    for (guint i = 0; i < list->len; i++) {
        if (g_str_equal(list->pdata[i], s))
            return TRUE;
    }
    return FALSE;
}

gboolean
qemu_caps_has_machine(QemuCaps *caps, const char *name)
{
    for (guint i = 0; i < caps->machines->len; i++) {
        const QemuMachine *m = caps->machines->pdata[i];
        if (g_str_equal(m->name, name))
            return TRUE;
    }
    return FALSE;
}

const char *
qemu_caps_get_canonical_machine(QemuCaps *caps, const char *name)
{
    for (guint i = 0; i < caps->machines->len; i++) {
        const QemuMachine *m = caps->machines->pdata[i];
        if (g_str_equal(m->name, name))
            return m->canonical ? m->canonical : m->name;
    }
    return name;
}

gboolean
qemu_caps_has_cpu_model(QemuCaps *caps, const char *name)
{
    return has_string(caps->cpu_models, name);
}

gboolean
qemu_caps_has_nic_model(QemuCaps *caps, const char *name)
{
    return has_string(caps->nic_models, name);
}

gboolean
qemu_caps_parse_version(const char *text, guint64 *version)
{
    const char *p = strstr(text, "version ");
    unsigned major, minor, micro = 0;

    if (!p || sscanf(p + 8, "%u.%u.%u", &major, &minor, &micro) < 2)
        return FALSE;
    *version = (guint64)major * 1000000 + minor * 1000 + micro;
    return TRUE;
}

GPtrArray *
qemu_caps_parse_machines(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(machine_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        g_auto(GStrv) words = NULL;
        const char *alias;
        QemuMachine *m;

        if (!**l || g_str_has_prefix(*l, "Supported machines") || g_ascii_isspace(**l))
            continue;
        if (strstr(*l, "(deprecated)"))
            continue;
        words = g_strsplit_set(*l, " \t", 2);
        if (!words[0] || !*words[0] || g_str_equal(words[0], "none"))
            continue;
        m = g_new0(QemuMachine, 1);
        m->name = g_strdup(words[0]);
        alias = strstr(*l, "(alias of ");
        if (alias) {
            const char *end = strchr(alias + 10, ')');
            if (end)
                m->canonical = g_strndup(alias + 10, end - (alias + 10));
        }
        g_ptr_array_add(out, m);
    }
    return out;
}

GPtrArray *
qemu_caps_parse_cpu_models(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    /* "x86 NAME   description": the list ends where the CPUID flags begin. */
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) words = NULL;

        if (!g_str_has_prefix(*l, "x86 "))
            continue;
        words = g_strsplit_set(*l + 4, " \t", 2);
        if (words[0] && *words[0])
            g_ptr_array_add(out, g_strdup(words[0]));
    }
    return out;
}

/* The next quoted word after key in line ("name \"e1000\""), or NULL. */
static char *
quoted_after(const char *line, const char *key)
{
    const char *p = strstr(line, key), *end;

    if (!p)
        return NULL;
    p += strlen(key);
    end = strchr(p, '"');
    return end ? g_strndup(p, end - p) : NULL;
}

GPtrArray *
qemu_caps_parse_nic_models(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gboolean in_network = FALSE;

    /* 'name "e1000", bus PCI, alias "e1000-82540em", desc "..."' lines under "Network
     * devices:"; only PCI ones fit the machines' buses without more options. */
    for (char **l = lines; *l; l++) {
        g_autofree char *name = NULL, *alias = NULL;

        if (!**l) {
            in_network = FALSE;
            continue;
        }
        if (g_str_has_suffix(*l, "devices:")) {
            in_network = g_str_equal(*l, "Network devices:");
            continue;
        }
        if (!in_network || !g_str_has_prefix(*l, "name \"") || !strstr(*l, ", bus PCI"))
            continue;
        name = quoted_after(*l, "name \"");
        alias = quoted_after(*l, "alias \"");
        if (name)
            g_ptr_array_add(out, g_steal_pointer(&name));
        if (alias)
            g_ptr_array_add(out, g_steal_pointer(&alias));
    }
    return out;
}

gboolean
qemu_caps_kvm_usable(void)
{
    g_auto(SvFd) fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    return fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

static gint64
binary_mtime(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    return (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

/* The cache's layout; an older one is probed again. */
#define CACHE_FORMAT 2

static void
load_list(GKeyFile *kf, const char *key, GPtrArray *into)
{
    g_auto(GStrv) items = g_key_file_get_string_list(kf, "qemu", key, NULL, NULL);

    g_ptr_array_set_size(into, 0);
    for (char **i = items; i && *i; i++)
        g_ptr_array_add(into, g_strdup(*i));
}

static void
cache_load(QemuCaps *caps)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL;
    g_auto(GStrv) machines = NULL;
    gint64 mtime;

    caps->loaded = TRUE;
    if (!g_key_file_load_from_file(kf, caps->cache_file, G_KEY_FILE_NONE, NULL) ||
        g_key_file_get_integer(kf, "qemu", "format", NULL) != CACHE_FORMAT)
        return;
    path = g_key_file_get_string(kf, "qemu", "path", NULL);
    mtime = g_key_file_get_int64(kf, "qemu", "mtime", NULL);
    if (!path || !g_str_equal(path, caps->emulator) || mtime != binary_mtime(caps->emulator))
        return;
    caps->version = g_key_file_get_uint64(kf, "qemu", "version", NULL);
    machines = g_key_file_get_string_list(kf, "qemu", "machines", NULL, NULL);
    g_ptr_array_set_size(caps->machines, 0);
    for (char **m = machines; m && *m; m++) {
        QemuMachine *qm = g_new0(QemuMachine, 1);
        char *eq = strchr(*m, '=');
        qm->name = eq ? g_strndup(*m, eq - *m) : g_strdup(*m);
        qm->canonical = eq ? g_strdup(eq + 1) : NULL;
        g_ptr_array_add(caps->machines, qm);
    }
    load_list(kf, "cpu_models", caps->cpu_models);
    load_list(kf, "nic_models", caps->nic_models);
    caps->mtime = mtime;
    caps->ready = caps->version > 0;
    caps->last_check_us = g_get_monotonic_time();
}

static void
cache_store(QemuCaps *caps)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir = g_path_get_dirname(caps->cache_file);
    g_autoptr(GError) error = NULL;

    g_key_file_set_integer(kf, "qemu", "format", CACHE_FORMAT);
    g_key_file_set_string(kf, "qemu", "path", caps->emulator);
    g_key_file_set_int64(kf, "qemu", "mtime", caps->mtime);
    g_key_file_set_uint64(kf, "qemu", "version", caps->version);
    for (guint i = 0; i < caps->machines->len; i++) {
        QemuMachine *m = caps->machines->pdata[i];
        g_ptr_array_add(list, m->canonical ? g_strdup_printf("%s=%s", m->name, m->canonical)
                                           : g_strdup(m->name));
    }
    g_key_file_set_string_list(kf, "qemu", "machines", (const char *const *)list->pdata,
                               list->len);
    g_key_file_set_string_list(kf, "qemu", "cpu_models",
                               (const char *const *)caps->cpu_models->pdata, caps->cpu_models->len);
    g_key_file_set_string_list(kf, "qemu", "nic_models",
                               (const char *const *)caps->nic_models->pdata, caps->nic_models->len);
    /* A lost cache only costs a probe, so failures are logged, not fatal. */
    if (g_mkdir_with_parents(dir, 0755) < 0 ||
        !g_key_file_save_to_file(kf, caps->cache_file, &error))
        g_warning("cannot write QEMU capability cache '%s': %s", caps->cache_file,
                  error ? error->message : g_strerror(errno));
}

gboolean
qemu_caps_is_ready(QemuCaps *caps)
{
    gint64 now;

    if (!caps->loaded)
        cache_load(caps);
    if (!caps->ready)
        return FALSE;
    now = g_get_monotonic_time();
    if (now - caps->last_check_us > RECHECK_US) {
        caps->last_check_us = now;
        if (binary_mtime(caps->emulator) != caps->mtime)
            caps->ready = FALSE; /* upgraded or replaced: probe again */
    }
    return caps->ready;
}

static void
probe_done(QemuCaps *caps, GError *error)
{
    g_autoptr(GArray) waiters = caps->waiters;

    caps->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
    for (guint i = 0; i < waiters->len; i++) {
        Waiter *w = &g_array_index(waiters, Waiter, i);
        w->cb(caps, error, w->data);
    }
    if (error)
        g_error_free(error);
}

/* The last probe step: every output is in, parse them all. */
static void
devices_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;
    GError *error = NULL;

    if (failed) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Failed to list QEMU device models: %s", failed->message);
    } else if (!qemu_caps_parse_version(caps->version_out, &caps->version)) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Cannot parse the version of '%s' from its output", caps->emulator);
    } else {
        g_ptr_array_unref(caps->machines);
        caps->machines = qemu_caps_parse_machines(caps->machines_out);
        g_ptr_array_unref(caps->cpu_models);
        caps->cpu_models = qemu_caps_parse_cpu_models(caps->cpus_out);
        g_ptr_array_unref(caps->nic_models);
        caps->nic_models = qemu_caps_parse_nic_models(out);
        caps->mtime = caps->probe_mtime;
        caps->ready = TRUE;
        caps->last_check_us = g_get_monotonic_time();
        cache_store(caps);
    }
    probe_done(caps, error);
}

/* Run the emulator with args, its output to fn; a failure to start ends the probe. */
static void
run(QemuCaps *caps, const char *arg1, const char *arg2, SvCaptureFunc fn)
{
    const char *argv[] = {caps->emulator, arg1, arg2, NULL};
    g_autoptr(GError) local = NULL;
    GError *error = NULL;

    /* As QEMU's guests get it: nothing of the daemon's environment (preloads, sanitizer
     * options) reaches QEMU. */
    static const char *const envp[] = {
        "LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};

    if (sv_process_capture_env_async(argv, envp, fn, caps, &local))
        return;
    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "Failed to probe QEMU '%s': %s",
                 caps->emulator, local->message);
    probe_done(caps, error);
}

/* One probe step's output is kept; a failure ends the probe. */
static gboolean
step_done(QemuCaps *caps, const char *what, const char *out, const GError *failed, char **keep)
{
    GError *error = NULL;

    if (failed) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "Failed to %s of QEMU '%s': %s",
                     what, caps->emulator, failed->message);
        probe_done(caps, error);
        return FALSE;
    }
    g_free(*keep);
    *keep = g_strdup(out);
    return TRUE;
}

static void
cpus_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (step_done(caps, "list the CPU models", out, failed, &caps->cpus_out))
        run(caps, "-device", "help", devices_done);
}

static void
machines_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (step_done(caps, "list the machine types", out, failed, &caps->machines_out))
        run(caps, "-cpu", "help", cpus_done);
}

static void
version_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (step_done(caps, "probe the version", out, failed, &caps->version_out))
        run(caps, "-machine", "help", machines_done);
}

void
qemu_caps_probe_async(QemuCaps *caps, QemuCapsReadyFunc cb, gpointer data)
{
    Waiter w = {cb, data};
    GError *error = NULL;

    g_array_append_val(caps->waiters, w);
    if (caps->waiters->len > 1)
        return; /* a probe is already on its way */
    caps->probe_mtime = binary_mtime(caps->emulator);
    if (caps->probe_mtime < 0) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Cannot find QEMU binary %s: %s", caps->emulator, g_strerror(errno));
        probe_done(caps, error);
        return;
    }
    run(caps, "--version", NULL, version_done);
}
