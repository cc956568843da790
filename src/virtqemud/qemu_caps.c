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
#include "qemu_caps_qmp.h"

#define RECHECK_US (2 * G_USEC_PER_SEC) /* how often the binary's mtime is looked at */
/* A QEMU that answers nothing within this is killed and the probe fails (each run takes
 * well under a second). */
#define PROBE_TIMEOUT_MS 30000

typedef struct {
    QemuCapsReadyFunc cb;
    gpointer data;
} Waiter;

/* What the probe's runs printed; the facts are parsed from these, which is also what the
 * disk cache keeps. */
typedef enum {
    OUT_VERSION, /* --version */
    OUT_QMP,     /* QMP with TCG */
    OUT_QMP_KVM, /* QMP with KVM, where /dev/kvm is usable */
    OUT_CPUS,    /* -cpu help */
    OUT_DEVICES, /* -device help */
    OUT_LAST
} ProbeOutput;

static const char *const output_keys[OUT_LAST] = {"version", "qmp", "qmp_kvm", "cpus",
                                                  "devices"};

struct QemuCaps {
    char *emulator;
    char *cache_file;
    gboolean loaded; /* disk cache looked at */
    gboolean ready;
    gint64 mtime;          /* of the binary the facts came from */
    gint64 last_check_us;  /* monotonic time of the last mtime check */
    guint64 version;
    GPtrArray *machines;   /* QemuMachine */
    GPtrArray *cpu_defs;   /* QemuCpuDef, TCG */
    GPtrArray *cpu_defs_kvm; /* QemuCpuDef, KVM */
    QemuHostCpu *host_cpu;   /* "max" under TCG, or NULL */
    QemuHostCpu *host_cpu_kvm; /* "host" under KVM, or NULL */
    GPtrArray *cpu_models; /* char *, as -cpu takes them */
    GPtrArray *nic_models; /* char *, PCI network devices and their aliases */
    GHashTable *types;     /* QOM type names */
    GPtrArray *displays, *tpm_models, *tpm_types; /* char * */
    gboolean spice, vnc, kvm;
    char *arch;            /* QEMU's name of its target */
    GHashTable *memo;      /* what callers computed from these facts, dropped with them */
    GArray *waiters;       /* Waiter, while a probe runs */
    char *outputs[OUT_LAST]; /* of the probe under way, or of the facts */
    gint64 probe_mtime;
    gboolean probe_kvm;    /* /dev/kvm was usable when the probe began */
    void (*child_setup)(gpointer); /* QEMU's identity for the probe's runs */
    gpointer child_setup_data;
    char *identity;        /* its name in the cache ("+64055:+64055"), or NULL */
    guint timeout_ms;      /* for each run of QEMU */
};

static const char *const usable_names[QEMU_CPU_USABLE_LAST] = {"unknown", "yes", "no"};

const char *
qemu_cpu_usable_to_string(QemuCpuUsable u)
{
    return u < QEMU_CPU_USABLE_LAST ? usable_names[u] : NULL;
}

static void
clear_facts(QemuCaps *caps)
{
    g_clear_pointer(&caps->machines, g_ptr_array_unref);
    g_clear_pointer(&caps->cpu_defs, g_ptr_array_unref);
    g_clear_pointer(&caps->cpu_defs_kvm, g_ptr_array_unref);
    g_clear_pointer(&caps->host_cpu, qemu_host_cpu_free);
    g_clear_pointer(&caps->host_cpu_kvm, qemu_host_cpu_free);
    g_clear_pointer(&caps->cpu_models, g_ptr_array_unref);
    g_clear_pointer(&caps->nic_models, g_ptr_array_unref);
    g_clear_pointer(&caps->types, g_hash_table_unref);
    g_clear_pointer(&caps->displays, g_ptr_array_unref);
    g_clear_pointer(&caps->tpm_models, g_ptr_array_unref);
    g_clear_pointer(&caps->tpm_types, g_ptr_array_unref);
    g_clear_pointer(&caps->arch, g_free);
    g_clear_pointer(&caps->memo, g_hash_table_unref);
}

/* The last n bytes of text (all of it when shorter). */
static const char *
tail_of(const char *text, gsize n)
{
    gsize len = strlen(text);

    return len > n ? text + len - n : text;
}

/* Parse every fact from caps->outputs; FALSE when they say nothing usable. */
static gboolean
facts_from_outputs(QemuCaps *caps)
{
    g_autoptr(QemuQmpReplies) qmp = qemu_qmp_replies_parse(caps->outputs[OUT_QMP]);
    g_autoptr(QemuQmpReplies) kvm = qemu_qmp_replies_parse(caps->outputs[OUT_QMP_KVM]);
    g_autoptr(GPtrArray) types = NULL;
    const char *version = caps->outputs[OUT_VERSION];

    clear_facts(caps);
    caps->machines = qemu_qmp_replies_machines(qmp);
    caps->cpu_defs = qemu_qmp_replies_cpu_defs(qmp);
    caps->host_cpu = qemu_qmp_replies_host_cpu(qmp);
    /* Without it the hypervisor-CPU calls and host-model guests cannot be answered: say so,
     * with what QEMU answered (seen once, under load, and not since). */
    if (!caps->host_cpu && caps->outputs[OUT_QMP])
        g_message("%s: the probe has no 'max' CPU expansion; QEMU's output ends: %s",
                  caps->emulator, tail_of(caps->outputs[OUT_QMP], 600));
    caps->kvm = qemu_qmp_replies_kvm_enabled(kvm);
    caps->cpu_defs_kvm = caps->kvm ? qemu_qmp_replies_cpu_defs(kvm) : g_ptr_array_new();
    caps->host_cpu_kvm = caps->kvm ? qemu_qmp_replies_host_cpu(kvm) : NULL;
    caps->cpu_models =
        qemu_caps_parse_cpu_models(caps->outputs[OUT_CPUS] ? caps->outputs[OUT_CPUS] : "");
    caps->nic_models =
        qemu_caps_parse_nic_models(caps->outputs[OUT_DEVICES] ? caps->outputs[OUT_DEVICES] : "");
    types = qemu_qmp_replies_names(qmp, "types");
    caps->types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < types->len; i++)
        g_hash_table_add(caps->types, g_strdup(types->pdata[i]));
    caps->displays = qemu_qmp_replies_display_types(qmp);
    caps->tpm_models = qemu_qmp_replies_names(qmp, "tpm-models");
    caps->tpm_types = qemu_qmp_replies_names(qmp, "tpm-types");
    caps->spice = qemu_qmp_replies_ok(qmp, "spice");
    caps->vnc = qemu_qmp_replies_ok(qmp, "vnc");
    caps->arch = qemu_qmp_replies_target_arch(qmp);
    caps->memo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return version && qemu_caps_parse_version(version, &caps->version) && caps->machines->len > 0;
}

QemuCaps *
qemu_caps_new(const char *emulator, const char *cache_dir)
{
    QemuCaps *caps = g_new0(QemuCaps, 1);

    caps->emulator = g_strdup(emulator);
    caps->cache_file = g_build_filename(cache_dir, "capabilities.ini", NULL);
    caps->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
    caps->timeout_ms = PROBE_TIMEOUT_MS;
    facts_from_outputs(caps); /* empty lists until the probe */
    return caps;
}

QemuCaps *
qemu_caps_new_from_output(const char *emulator, const char *version, const char *qmp,
                          const char *qmp_kvm, const char *cpus, const char *devices)
{
    QemuCaps *caps = qemu_caps_new(emulator, "/nonexistent");
    const char *outs[OUT_LAST] = {version, qmp, qmp_kvm, cpus, devices};

    for (int i = 0; i < OUT_LAST; i++)
        caps->outputs[i] = g_strdup(outs[i]);
    caps->loaded = TRUE;
    caps->ready = facts_from_outputs(caps);
    /* Never looked at again: the facts are what the caller gave. */
    caps->last_check_us = G_MAXINT64 / 2;
    return caps;
}

void
qemu_caps_set_identity(QemuCaps *caps, const char *identity, void (*child_setup)(gpointer),
                       gpointer data)
{
    g_free(caps->identity);
    caps->identity = g_strdup(identity);
    caps->child_setup = child_setup;
    caps->child_setup_data = data;
}

void
qemu_caps_set_probe_timeout(QemuCaps *caps, guint ms)
{
    caps->timeout_ms = ms;
}

static void probe_done(QemuCaps *caps, GError *error);

void
qemu_caps_free(QemuCaps *caps)
{
    if (!caps)
        return;
    /* What waits for a probe the shutdown interrupted (a define) is answered, so its call
     * and client are let go. */
    if (caps->waiters->len) {
        GError *error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "The daemon is shutting down before QEMU '%s' was probed", caps->emulator);
        probe_done(caps, error);
    }
    g_free(caps->identity);
    g_free(caps->emulator);
    g_free(caps->cache_file);
    clear_facts(caps);
    g_array_unref(caps->waiters);
    for (int i = 0; i < OUT_LAST; i++)
        g_free(caps->outputs[i]);
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

const char *
qemu_caps_get_arch(QemuCaps *caps)
{
    return caps->arch;
}

const char *
qemu_caps_memo_get(QemuCaps *caps, const char *key)
{
    return g_hash_table_lookup(caps->memo, key);
}

void
qemu_caps_memo_set(QemuCaps *caps, const char *key, const char *value)
{
    g_hash_table_replace(caps->memo, g_strdup(key), g_strdup(value));
}

const QemuMachine *
qemu_caps_find_machine(QemuCaps *caps, const char *name)
{
    for (guint i = 0; i < caps->machines->len; i++) {
        const QemuMachine *m = caps->machines->pdata[i];
        if (g_str_equal(m->name, name))
            return m;
    }
    return NULL;
}

const QemuHostCpu *
qemu_caps_get_host_cpu(QemuCaps *caps, gboolean kvm)
{
    return kvm ? caps->host_cpu_kvm : caps->host_cpu;
}

const GPtrArray *
qemu_caps_get_cpu_defs(QemuCaps *caps, gboolean kvm)
{
    return kvm ? caps->cpu_defs_kvm : caps->cpu_defs;
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
    return qemu_caps_find_machine(caps, name) != NULL;
}

gboolean
qemu_caps_has_type(QemuCaps *caps, const char *name)
{
    return g_hash_table_contains(caps->types, name);
}

gboolean
qemu_caps_has_display(QemuCaps *caps, const char *name)
{
    return has_string(caps->displays, name);
}

gboolean
qemu_caps_has_tpm_model(QemuCaps *caps, const char *name)
{
    return has_string(caps->tpm_models, name);
}

gboolean
qemu_caps_has_tpm_type(QemuCaps *caps, const char *name)
{
    return has_string(caps->tpm_types, name);
}

gboolean
qemu_caps_has_spice(QemuCaps *caps)
{
    return caps->spice;
}

gboolean
qemu_caps_has_vnc(QemuCaps *caps)
{
    return caps->vnc;
}

gboolean
qemu_caps_has_kvm(QemuCaps *caps)
{
    return caps->kvm;
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
#define CACHE_FORMAT 5

static void
cache_load(QemuCaps *caps)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL, *identity = NULL;
    gint64 mtime;

    caps->loaded = TRUE;
    if (!g_key_file_load_from_file(kf, caps->cache_file, G_KEY_FILE_NONE, NULL) ||
        g_key_file_get_integer(kf, "qemu", "format", NULL) != CACHE_FORMAT)
        return;
    path = g_key_file_get_string(kf, "qemu", "path", NULL);
    mtime = g_key_file_get_int64(kf, "qemu", "mtime", NULL);
    if (!path || !g_str_equal(path, caps->emulator) || mtime != binary_mtime(caps->emulator))
        return;
    /* KVM came or went since (a module loaded, the device's permissions), or QEMU runs as
     * someone else (what it may open differs): probe again. */
    if (g_key_file_get_boolean(kf, "qemu", "kvm_usable", NULL) != qemu_caps_kvm_usable())
        return;
    identity = g_key_file_get_string(kf, "qemu", "identity", NULL);
    if (g_strcmp0(identity ? identity : "", caps->identity ? caps->identity : "") != 0)
        return;
    for (int i = 0; i < OUT_LAST; i++) {
        g_free(caps->outputs[i]);
        caps->outputs[i] = g_key_file_get_string(kf, "qemu", output_keys[i], NULL);
    }
    caps->mtime = mtime;
    caps->ready = facts_from_outputs(caps);
    caps->last_check_us = g_get_monotonic_time();
}

static void
cache_store(QemuCaps *caps)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *dir = g_path_get_dirname(caps->cache_file);
    g_autoptr(GError) error = NULL;

    g_key_file_set_integer(kf, "qemu", "format", CACHE_FORMAT);
    g_key_file_set_string(kf, "qemu", "path", caps->emulator);
    g_key_file_set_int64(kf, "qemu", "mtime", caps->mtime);
    g_key_file_set_boolean(kf, "qemu", "kvm_usable", caps->probe_kvm);
    g_key_file_set_string(kf, "qemu", "identity", caps->identity ? caps->identity : "");
    for (int i = 0; i < OUT_LAST; i++) {
        if (caps->outputs[i])
            g_key_file_set_string(kf, "qemu", output_keys[i], caps->outputs[i]);
    }
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
        probe_done(caps, error);
        return;
    }
    g_free(caps->outputs[OUT_DEVICES]);
    caps->outputs[OUT_DEVICES] = g_strdup(out);
    if (!facts_from_outputs(caps)) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Cannot parse the version and machine types of '%s' from its output",
                     caps->emulator);
    } else {
        caps->mtime = caps->probe_mtime;
        caps->ready = TRUE;
        caps->last_check_us = g_get_monotonic_time();
        cache_store(caps);
    }
    probe_done(caps, error);
}

/* As QEMU's guests get it: nothing of the daemon's environment (preloads, sanitizer
 * options) reaches QEMU. */
static const char *const probe_envp[] = {
    "LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};

static void
run_failed(QemuCaps *caps, const GError *local)
{
    GError *error = NULL;

    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "Failed to probe QEMU '%s': %s",
                 caps->emulator, local->message);
    probe_done(caps, error);
}

/* Run the emulator with args, its output to fn; a failure to start ends the probe. */
static void
run(QemuCaps *caps, const char *arg1, const char *arg2, SvCaptureFunc fn)
{
    const char *argv[] = {caps->emulator, arg1, arg2, NULL};
    g_autoptr(GError) local = NULL;

    SvCaptureOptions opts = {NULL, caps->child_setup, caps->child_setup_data, caps->timeout_ms};

    if (!sv_process_capture_full_async(argv, probe_envp, &opts, fn, caps, &local))
        run_failed(caps, local);
}

/* Run the emulator with no machine and QMP on stdio, answering the probe's commands. */
static void
run_qmp(QemuCaps *caps, gboolean kvm, SvCaptureFunc fn)
{
    const char *argv[] = {caps->emulator, "-S", "-no-user-config", "-nodefaults",
                          "-display", "none", "-machine", kvm ? "none,accel=kvm" : "none,accel=tcg",
                          "-qmp", "stdio", NULL};
    g_autoptr(GError) local = NULL;

    SvCaptureOptions opts = {qemu_caps_qmp_commands(kvm), caps->child_setup,
                             caps->child_setup_data, caps->timeout_ms};

    if (!sv_process_capture_full_async(argv, probe_envp, &opts, fn, caps, &local))
        run_failed(caps, local);
}

/* One probe step's output is kept; a failure ends the probe. */
static gboolean
step_done(QemuCaps *caps, const char *what, const char *out, const GError *failed,
          ProbeOutput keep)
{
    GError *error = NULL;

    if (failed) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "Failed to %s of QEMU '%s': %s",
                     what, caps->emulator, failed->message);
        probe_done(caps, error);
        return FALSE;
    }
    g_free(caps->outputs[keep]);
    caps->outputs[keep] = g_strdup(out);
    return TRUE;
}

static void
cpus_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (step_done(caps, "list the CPU models", out, failed, OUT_CPUS))
        run(caps, "-device", "help", devices_done);
}

static void
qmp_kvm_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    /* A QEMU that cannot start with KVM here (the module refuses it, a nested host's
     * limits) has no KVM guests: the probe goes on without them. */
    if (failed)
        g_debug("QEMU '%s' does not run with KVM: %s", caps->emulator, failed->message);
    g_free(caps->outputs[OUT_QMP_KVM]);
    caps->outputs[OUT_QMP_KVM] = failed ? NULL : g_strdup(out);
    run(caps, "-cpu", "help", cpus_done);
}

static void
qmp_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (!step_done(caps, "query the machine types", out, failed, OUT_QMP))
        return;
    g_clear_pointer(&caps->outputs[OUT_QMP_KVM], g_free);
    caps->probe_kvm = qemu_caps_kvm_usable();
    if (caps->probe_kvm)
        run_qmp(caps, TRUE, qmp_kvm_done);
    else
        run(caps, "-cpu", "help", cpus_done);
}

static void
version_done(const char *out, const GError *failed, gpointer data)
{
    QemuCaps *caps = data;

    if (step_done(caps, "probe the version", out, failed, OUT_VERSION))
        run_qmp(caps, FALSE, qmp_done);
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
