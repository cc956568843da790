/* qemu_caps_qmp.c: what QEMU answered on its QMP monitor during the probe (a run with
 * -machine none and the commands of qemu_caps_qmp_commands() on stdin), read into
 * facts. Pure: text in, facts out, so tests feed captured outputs. */
#include "qemu_caps_qmp.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "qemu_monitor.h"
#include "qmp_reader.h"

#define REPLY_MAX (8u << 20)

const char *
qemu_caps_qmp_commands(gboolean kvm)
{
    /* Every reply is found by its id; events in between are skipped. */
    if (kvm)
        return "{\"execute\":\"qmp_capabilities\"}\n"
               "{\"execute\":\"query-kvm\",\"id\":\"kvm\"}\n"
               "{\"execute\":\"query-cpu-definitions\",\"id\":\"cpus\"}\n"
               /* The CPU KVM gives a guest as "host" (libvirt's KVM host-model). */
               "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"max\",\"arguments\":"
               "{\"type\":\"full\",\"model\":{\"name\":\"host\"}}}\n"
               "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"max-all\",\"arguments\":"
               "{\"type\":\"full\",\"model\":{\"name\":\"host\","
               "\"props\":{\"migratable\":false}}}}\n"
               "{\"execute\":\"quit\"}\n";
    return "{\"execute\":\"qmp_capabilities\"}\n"
           "{\"execute\":\"query-target\",\"id\":\"target\"}\n"
           "{\"execute\":\"query-machines\",\"id\":\"machines\"}\n"
           "{\"execute\":\"query-cpu-definitions\",\"id\":\"cpus\"}\n"
           "{\"execute\":\"query-spice\",\"id\":\"spice\"}\n"
           "{\"execute\":\"query-vnc\",\"id\":\"vnc\"}\n"
           "{\"execute\":\"query-tpm-models\",\"id\":\"tpm-models\"}\n"
           "{\"execute\":\"query-tpm-types\",\"id\":\"tpm-types\"}\n"
           "{\"execute\":\"qom-list-types\",\"id\":\"types\"}\n"
           "{\"execute\":\"query-qmp-schema\",\"id\":\"schema\"}\n"
           /* The CPU QEMU gives a guest as "max" (libvirt's TCG host-model): with its
            * migratable features only, then with all. */
           "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"max\",\"arguments\":"
           "{\"type\":\"full\",\"model\":{\"name\":\"max\"}}}\n"
           "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"max-all\",\"arguments\":"
           "{\"type\":\"full\",\"model\":{\"name\":\"max\","
           "\"props\":{\"migratable\":false}}}}\n"
           "{\"execute\":\"quit\"}\n";
}

struct QemuQmpReplies {
    GHashTable *returns; /* id -> JsonNode "return" (owned); an error reply: NULL value */
};

void
qemu_qmp_replies_free(QemuQmpReplies *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->returns);
    g_free(r);
}

static void
node_unref(gpointer n)
{
    if (n)
        json_node_unref(n);
}

static void
add_reply(QemuQmpReplies *r, const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *obj;
    const char *id;
    JsonNode *ret;

    if (!json_parser_load_from_data(parser, text, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return;
    obj = json_node_get_object(json_parser_get_root(parser));
    id = qemu_json_string(obj, "id");
    if (!id)
        return; /* the greeting, events, unnamed commands */
    ret = json_object_get_member(obj, "return");
    g_hash_table_replace(r->returns, g_strdup(id), ret ? json_node_copy(ret) : NULL);
}

QemuQmpReplies *
qemu_qmp_replies_parse(const char *text)
{
    QemuQmpReplies *r = g_new0(QemuQmpReplies, 1);
    g_autoptr(QmpReader) reader = qmp_reader_new(REPLY_MAX);
    g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_free);

    r->returns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, node_unref);
    if (text)
        qmp_reader_feed(reader, text, strlen(text), msgs);
    for (guint i = 0; i < msgs->len; i++)
        add_reply(r, msgs->pdata[i]);
    return r;
}

gboolean
qemu_qmp_replies_ok(QemuQmpReplies *r, const char *id)
{
    return g_hash_table_lookup(r->returns, id) != NULL;
}

static JsonArray *
reply_array(QemuQmpReplies *r, const char *id)
{
    JsonNode *n = g_hash_table_lookup(r->returns, id);

    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
reply_object(QemuQmpReplies *r, const char *id)
{
    JsonNode *n = g_hash_table_lookup(r->returns, id);

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void
machine_free(gpointer p)
{
    QemuMachine *m = p;

    g_free(m->name);
    g_free(m->canonical);
    g_free(m);
}

static QemuMachine *
machine_new(const char *name, const char *canonical, guint max_cpus,
            gboolean deprecated)
{
    QemuMachine *m = g_new0(QemuMachine, 1);

    m->name = g_strdup(name);
    m->canonical = g_strdup(canonical);
    m->max_cpus = max_cpus;
    m->deprecated = deprecated;
    return m;
}

GPtrArray *
qemu_qmp_replies_machines(QemuQmpReplies *r)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(machine_free);
    JsonArray *a = reply_array(r, "machines");

    /* QEMU's order, except that the default machine (and its alias) comes first, as
     * libvirt lists them: clients take the first one as the default. "none" is no
     * machine a guest runs on. */
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *o = qemu_json_array_object(a, i);
        const char *name = qemu_json_string(o, "name");
        const char *alias = qemu_json_string(o, "alias");
        gboolean deprecated = qemu_json_bool(o, "deprecated", FALSE);
        JsonNode *max_node = o ? json_object_get_member(o, "cpu-max") : NULL;
        guint max = max_node && JSON_NODE_HOLDS_VALUE(max_node) &&
                            json_node_get_value_type(max_node) == G_TYPE_INT64
                        ? (guint)json_node_get_int(max_node)
                        : 1;
        guint at = out->len;

        if (!name || g_str_equal(name, "none"))
            continue;
        if (qemu_json_bool(o, "is-default", FALSE))
            at = 0;
        g_ptr_array_insert(out, at, machine_new(name, NULL, max, deprecated));
        if (alias)
            g_ptr_array_insert(out, at + 1, machine_new(alias, name, max, deprecated));
    }
    return out;
}

static void
cpu_def_free(gpointer p)
{
    QemuCpuDef *c = p;

    g_free(c->name);
    g_strfreev(c->blockers);
    g_free(c);
}

/* The strings of an array member (unavailable-features). (transfer full) */
static GStrv
string_list(JsonNode *n)
{
    GPtrArray *out = g_ptr_array_new();
    JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);

        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(out, FALSE);
}

GPtrArray *
qemu_qmp_replies_cpu_defs(QemuQmpReplies *r)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(cpu_def_free);
    JsonArray *a = reply_array(r, "cpus");

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *o = qemu_json_array_object(a, i);
        const char *name = qemu_json_string(o, "name");
        JsonNode *un = o ? json_object_get_member(o, "unavailable-features") : NULL;
        QemuCpuDef *c;

        if (!name)
            continue;
        c = g_new0(QemuCpuDef, 1);
        c->name = g_strdup(name);
        c->blockers = string_list(un);
        c->usable = !un || !JSON_NODE_HOLDS_ARRAY(un)                     ? QEMU_CPU_USABLE_UNKNOWN
                    : json_array_get_length(json_node_get_array(un)) == 0 ? QEMU_CPU_USABLE_YES
                                                                          : QEMU_CPU_USABLE_NO;
        g_ptr_array_add(out, c);
    }
    return out;
}

/* The names in a reply that is an array of strings (query-tpm-models) or of objects
 * with a "name" (qom-list-types). */
GPtrArray *
qemu_qmp_replies_names(QemuQmpReplies *r, const char *id)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    JsonArray *a = reply_array(r, id);

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        const char *name = NULL;

        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
            name = json_node_get_string(n);
        else if (JSON_NODE_HOLDS_OBJECT(n))
            name = qemu_json_string(json_node_get_object(n), "name");
        if (name)
            g_ptr_array_add(out, g_strdup(name));
    }
    return out;
}

/* The string at i of a, NULL when it is something else. */
static const char *
element_string(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

/* The display types -display takes, as the schema has them compiled in (loadable
 * modules included, installed or not, as libvirt reads them): the values of the enum
 * that starts with "default" and "none" (DisplayType; the schema hides type names). */
GPtrArray *
qemu_qmp_replies_display_types(QemuQmpReplies *r)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    JsonArray *a = reply_array(r, "schema");

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *o = qemu_json_array_object(a, i);
        const char *meta = qemu_json_string(o, "meta-type");
        JsonNode *vn = o ? json_object_get_member(o, "values") : NULL;
        JsonArray *values;

        if (!meta || !g_str_equal(meta, "enum") || !vn || !JSON_NODE_HOLDS_ARRAY(vn))
            continue;
        values = json_node_get_array(vn);
        if (json_array_get_length(values) < 2 ||
            g_strcmp0(element_string(values, 0), "default") != 0 ||
            g_strcmp0(element_string(values, 1), "none") != 0)
            continue;
        for (guint j = 2; j < json_array_get_length(values); j++)
            if (element_string(values, j))
                g_ptr_array_add(out, g_strdup(element_string(values, j)));
        break;
    }
    return out;
}

gboolean
qemu_qmp_replies_kvm_enabled(QemuQmpReplies *r)
{
    JsonObject *o = reply_object(r, "kvm");

    return qemu_json_bool(o, "enabled", FALSE);
}

char *
qemu_qmp_replies_target_arch(QemuQmpReplies *r)
{
    return g_strdup(qemu_json_string(reply_object(r, "target"), "arch"));
}

void
qemu_host_cpu_free(QemuHostCpu *cpu)
{
    if (!cpu)
        return;
    g_strfreev(cpu->features);
    g_strfreev(cpu->props);
    g_strfreev(cpu->nonmigratable);
    g_free(cpu->vendor);
    g_free(cpu);
}

/* The props of expansion `id`: features set on into `on`, every boolean one into `all`
 * (QEMU's names, aliases included), vendor and signature into cpu. FALSE when QEMU did not answer. */
static gboolean
expansion_props(QemuQmpReplies *r, const char *id, GHashTable *on, GHashTable *all,
                QemuHostCpu *cpu)
{
    JsonObject *model = reply_object(r, id);
    JsonNode *pn;
    JsonObject *props;
    g_autoptr(GList) names = NULL;

    model = model && json_object_has_member(model, "model")
                ? json_object_get_object_member(model, "model") : NULL;
    pn = model ? json_object_get_member(model, "props") : NULL;
    if (!pn || !JSON_NODE_HOLDS_OBJECT(pn))
        return FALSE;
    props = json_node_get_object(pn);
    names = json_object_get_members(props);
    for (GList *l = names; l; l = l->next) {
        JsonNode *v = json_object_get_member(props, l->data);
        GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;

        if (t == G_TYPE_BOOLEAN)
            g_hash_table_add(all, g_strdup(l->data));
        if (t == G_TYPE_BOOLEAN && json_node_get_boolean(v))
            g_hash_table_add(on, g_strdup(l->data));
        else if (t == G_TYPE_STRING && g_str_equal(l->data, "vendor"))
            cpu->vendor = (g_free(cpu->vendor), g_strdup(json_node_get_string(v)));
        else if (t == G_TYPE_INT64 && g_str_equal(l->data, "family"))
            cpu->family = (guint)json_node_get_int(v);
        else if (t == G_TYPE_INT64 && g_str_equal(l->data, "model"))
            cpu->model = (guint)json_node_get_int(v);
        else if (t == G_TYPE_INT64 && g_str_equal(l->data, "stepping"))
            cpu->stepping = (guint)json_node_get_int(v);
    }
    return TRUE;
}

static gint
name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of a set, sorted. (transfer full) */
static GStrv
sorted_names(GHashTable *set)
{
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter it;
    gpointer name;

    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, name_cmp);
    g_ptr_array_add(names, NULL);
    return (GStrv)g_ptr_array_free(names, FALSE);
}

QemuHostCpu *
qemu_qmp_replies_host_cpu(QemuQmpReplies *r)
{
    g_autoptr(GHashTable) on = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) on_all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(QemuHostCpu) cpu = g_new0(QemuHostCpu, 1);
    GHashTableIter it;
    gpointer name;

    if (!expansion_props(r, "max", on, all, cpu))
        return NULL;
    /* As libvirt reports it: the features of the non-migratable expansion too, marked. */
    expansion_props(r, "max-all", on_all, all, cpu);
    g_hash_table_iter_init(&it, on);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_hash_table_remove(on_all, name);
    cpu->nonmigratable = sorted_names(on_all);
    g_hash_table_iter_init(&it, on_all);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_hash_table_add(on, g_strdup(name));
    cpu->features = sorted_names(on);
    cpu->props = sorted_names(all);
    return g_steal_pointer(&cpu);
}
