/* net_leases.c: the leases status file (net_leases.h): read with json-glib, written by
 * hand so that the bytes are libvirt's (its pretty printer's layout, which json-glib's
 * differs from by the space before each colon). */
#include "net_leases.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "net_dnsmasq.h"
#include "util/error.h"

void
sv_net_lease_free(SvNetLease *lease)
{
    if (!lease)
        return;
    g_free(lease->iface);
    g_free(lease->mac);
    g_free(lease->iaid);
    g_free(lease->ipaddr);
    g_free(lease->hostname);
    g_free(lease->clientid);
    g_free(lease);
}

void
sv_net_lease_record_free(SvNetLeaseRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->iaid);
    g_free(rec->ip);
    g_free(rec->mac);
    g_free(rec->hostname);
    g_free(rec->client_id);
    g_free(rec->server_duid);
    g_free(rec);
}

/* The string member `name`, NULL when absent or not a string. (transfer none) */
static const char *
obj_string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* The integer member `name`; FALSE when absent or not an integer. */
static gboolean
obj_int(JsonObject *o, const char *name, gint64 *ret)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return FALSE;
    *ret = json_node_get_int(n);
    return TRUE;
}

/* Element i of arr when it is an object, else NULL. (transfer none) */
static JsonObject *
array_object(JsonArray *arr, guint i)
{
    JsonNode *n = json_array_get_element(arr, i);

    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* The array of the text, NULL with *ret_invalid when it is not JSON. (transfer full) */
static JsonNode *
parse_array(const char *text, gboolean *ret_invalid)
{
    g_autoptr(JsonParser) parser = json_parser_new();

    *ret_invalid = !json_parser_load_from_data(parser, text, -1, NULL);
    if (*ret_invalid || !json_parser_get_root(parser))
        return NULL;
    return json_node_copy(json_parser_get_root(parser));
}

GPtrArray *
sv_net_lease_records_parse(const char *text, gboolean *ret_invalid, GError **error)
{
    g_autoptr(GPtrArray) recs = g_ptr_array_new_with_free_func(
        (GDestroyNotify)sv_net_lease_record_free);
    g_autoptr(JsonNode) root = NULL;
    JsonArray *arr;

    *ret_invalid = FALSE;
    if (!text || !*text)
        return g_steal_pointer(&recs);
    root = parse_array(text, ret_invalid);
    if (*ret_invalid)
        return g_steal_pointer(&recs);
    if (!root || !JSON_NODE_HOLDS_ARRAY(root)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "couldn't fetch array of leases");
        return NULL;
    }
    arr = json_node_get_array(root);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = array_object(arr, i);
        SvNetLeaseRecord *r;
        gint64 expiry;

        if (!o || !obj_string(o, "ip-address") || !obj_int(o, "expiry-time", &expiry)) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "failed to parse json");
            return NULL;
        }
        r = g_new0(SvNetLeaseRecord, 1);
        r->iaid = g_strdup(obj_string(o, "iaid"));
        r->ip = g_strdup(obj_string(o, "ip-address"));
        r->mac = g_strdup(obj_string(o, "mac-address"));
        r->hostname = g_strdup(obj_string(o, "hostname"));
        r->client_id = g_strdup(obj_string(o, "client-id"));
        r->server_duid = g_strdup(obj_string(o, "server-duid"));
        r->expiry = expiry;
        g_ptr_array_add(recs, r);
    }
    return g_steal_pointer(&recs);
}

/* A JSON string literal. */
static void
append_json_string(GString *s, const char *v)
{
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        switch (*p) {
        case '"': g_string_append(s, "\\\""); break;
        case '\\': g_string_append(s, "\\\\"); break;
        case '\n': g_string_append(s, "\\n"); break;
        case '\r': g_string_append(s, "\\r"); break;
        case '\t': g_string_append(s, "\\t"); break;
        case '\b': g_string_append(s, "\\b"); break;
        case '\f': g_string_append(s, "\\f"); break;
        default:
            if (*p < 0x20)
                g_string_append_printf(s, "\\u%04x", *p);
            else
                g_string_append_c(s, (char)*p);
        }
    }
    g_string_append_c(s, '"');
}

static void
append_member(GString *s, gboolean *first, const char *key, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(s, "%s    \"%s\": ", *first ? "" : ",\n", key);
    append_json_string(s, value);
    *first = FALSE;
}

char *
sv_net_lease_records_format(GPtrArray *records)
{
    GString *s = g_string_new("[\n");

    for (guint i = 0; records && i < records->len; i++) {
        const SvNetLeaseRecord *r = g_ptr_array_index(records, i);
        gboolean first = TRUE;

        g_string_append_printf(s, "%s  {\n", i ? ",\n" : "");
        append_member(s, &first, "iaid", r->iaid);
        append_member(s, &first, "ip-address", r->ip);
        append_member(s, &first, "mac-address", r->mac);
        append_member(s, &first, "hostname", r->hostname);
        append_member(s, &first, "client-id", r->client_id);
        append_member(s, &first, "server-duid", r->server_duid);
        g_string_append_printf(s, "%s    \"expiry-time\": %" G_GINT64_FORMAT "\n  }",
                               first ? "" : ",\n", r->expiry);
    }
    g_string_append(s, "\n]\n");
    return g_string_free(s, FALSE);
}

char *
sv_net_lease_records_init_text(GPtrArray *records, const char *server_duid)
{
    GString *s = g_string_new(NULL);

    /* dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENTID", "*" for unknowns; then
     * the server's DUID and "EXPIRY IAID IP HOSTNAME DUID" for IPv6 */
    for (int v6 = 0; v6 < 2; v6++) {
        if (v6 && !server_duid)
            break;
        if (v6)
            g_string_append_printf(s, "duid %s\n", server_duid);
        for (guint i = 0; records && i < records->len; i++) {
            const SvNetLeaseRecord *r = g_ptr_array_index(records, i);
            if ((strchr(r->ip, ':') != NULL) != v6)
                continue;
            g_string_append_printf(s, "%" G_GINT64_FORMAT " %s %s %s %s\n", r->expiry,
                                   v6 ? (r->iaid ? r->iaid : "(null)")
                                      : (r->mac ? r->mac : "(null)"),
                                   r->ip, r->hostname ? r->hostname : "*",
                                   r->client_id ? r->client_id : "*");
        }
    }
    return g_string_free(s, FALSE);
}

/* The prefix a lease of family v6 gets: that of the network's first <ip> of its family. */
static guint
lease_prefix(const SvNetworkDef *def, gboolean v6)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        gboolean ip_v6 = ip->is_ipv6 || (ip->address && strchr(ip->address, ':'));
        int prefix;

        if (ip_v6 != v6)
            continue;
        prefix = v6 ? (int)ip->prefix : sv_net_dnsmasq_ip_prefix(ip);
        return prefix > 0 ? (guint)prefix : 0;
    }
    return 0;
}

static SvNetLease *
lease_from_object(JsonObject *o, const SvNetworkDef *def, gint64 expiry, GError **error)
{
    const char *ip = obj_string(o, "ip-address");
    SvNetLease *l;

    if (!ip) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "found lease without ip-address");
        return NULL;
    }
    l = g_new0(SvNetLease, 1);
    l->expiry = expiry;
    l->type = strchr(ip, ':') ? SV_NET_LEASE_IPV6 : SV_NET_LEASE_IPV4;
    l->prefix = lease_prefix(def, l->type == SV_NET_LEASE_IPV6);
    l->mac = g_strdup(obj_string(o, "mac-address"));
    l->ipaddr = g_strdup(ip);
    l->iface = g_strdup(def->bridge.name);
    l->iaid = g_strdup(obj_string(o, "iaid"));
    l->clientid = g_strdup(obj_string(o, "client-id"));
    l->hostname = g_strdup(obj_string(o, "hostname"));
    return l;
}

GPtrArray *
sv_net_leases_from_status(const char *text, const char *path, const SvNetworkDef *def,
                          const char *mac, gint64 now, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)sv_net_lease_free);
    g_autoptr(JsonNode) root = NULL;
    gboolean invalid;
    JsonArray *arr;

    if (!text || !*text)
        return g_steal_pointer(&out);
    root = parse_array(text, &invalid);
    if (invalid || !root) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "invalid json in file: %s",
                     path);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_ARRAY(root)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "Malformed lease_entries array");
        return NULL;
    }
    arr = json_node_get_array(root);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = array_object(arr, i);
        const char *lease_mac = o ? obj_string(o, "mac-address") : NULL;
        gint64 expiry;
        SvNetLease *l;

        if (!lease_mac) {
            /* the helper stores no lease whose MAC it does not know */
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                         "found lease without mac-address");
            return NULL;
        }
        if (mac && g_ascii_strcasecmp(mac, lease_mac) != 0)
            continue;
        if (!obj_int(o, "expiry-time", &expiry)) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                         "found lease without expiry-time");
            return NULL;
        }
        if (expiry > 0 && expiry < now)
            continue;
        if (!(l = lease_from_object(o, def, expiry, error)))
            return NULL;
        g_ptr_array_add(out, l);
    }
    return g_steal_pointer(&out);
}

/* ------------------------------------------------------------ BRIDGE.macs */

typedef struct {
    char *domain;
    GPtrArray *macs; /* char * */
} MacsEntry;

static void
macs_entry_free(MacsEntry *e)
{
    g_free(e->domain);
    g_ptr_array_unref(e->macs);
    g_free(e);
}

static MacsEntry *
macs_entry_new(const char *domain)
{
    MacsEntry *e = g_new0(MacsEntry, 1);

    e->domain = g_strdup(domain);
    e->macs = g_ptr_array_new_with_free_func(g_free);
    return e;
}

/* The map's entries, NULL with error for text that is not a map. */
static GPtrArray *
macs_parse(const char *text, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)macs_entry_free);
    g_autoptr(JsonNode) root = NULL;
    gboolean invalid;
    JsonArray *arr;

    if (!text || !*text)
        return g_steal_pointer(&out);
    root = parse_array(text, &invalid);
    if (invalid || !root || !JSON_NODE_HOLDS_ARRAY(root))
        goto bad;
    arr = json_node_get_array(root);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = array_object(arr, i);
        JsonNode *macs = o ? json_object_get_member(o, "macs") : NULL;
        MacsEntry *e;

        if (!o || !obj_string(o, "domain") || !macs || !JSON_NODE_HOLDS_ARRAY(macs))
            goto bad;
        e = macs_entry_new(obj_string(o, "domain"));
        g_ptr_array_add(out, e);
        for (guint j = 0; j < json_array_get_length(json_node_get_array(macs)); j++) {
            JsonNode *m = json_array_get_element(json_node_get_array(macs), j);
            if (!JSON_NODE_HOLDS_VALUE(m) || json_node_get_value_type(m) != G_TYPE_STRING)
                goto bad;
            g_ptr_array_add(e->macs, g_strdup(json_node_get_string(m)));
        }
    }
    return g_steal_pointer(&out);
bad:
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "Malformed MAC map file");
    return NULL;
}

static gint
macs_entry_compare(gconstpointer a, gconstpointer b)
{
    return strcmp((*(MacsEntry *const *)a)->domain, (*(MacsEntry *const *)b)->domain);
}

static char *
macs_format(GPtrArray *entries)
{
    GString *s = g_string_new("[\n");

    g_ptr_array_sort(entries, macs_entry_compare);
    for (guint i = 0; i < entries->len; i++) {
        const MacsEntry *e = entries->pdata[i];
        g_string_append_printf(s, "%s  {\n    \"domain\": ", i ? ",\n" : "");
        append_json_string(s, e->domain);
        g_string_append(s, ",\n    \"macs\": [\n");
        for (guint j = 0; j < e->macs->len; j++) {
            g_string_append_printf(s, "%s      ", j ? ",\n" : "");
            append_json_string(s, e->macs->pdata[j]);
        }
        g_string_append(s, "\n    ]\n  }");
    }
    g_string_append(s, "\n]\n");
    return g_string_free(s, FALSE);
}

char *
sv_net_macs_update(const char *text, const char *owner, const char *mac, gboolean add,
                   GError **error)
{
    g_autoptr(GPtrArray) entries = macs_parse(text, error);
    MacsEntry *e = NULL;
    guint at;

    if (!entries)
        return NULL;
    for (guint i = 0; i < entries->len && !e; i++)
        if (g_str_equal(((MacsEntry *)entries->pdata[i])->domain, owner))
            e = entries->pdata[i];
    if (add) {
        if (!e)
            g_ptr_array_add(entries, e = macs_entry_new(owner));
        if (!g_ptr_array_find_with_equal_func(e->macs, mac, g_str_equal, NULL))
            g_ptr_array_add(e->macs, g_strdup(mac));
    } else if (e && g_ptr_array_find_with_equal_func(e->macs, mac, g_str_equal, &at)) {
        g_ptr_array_remove_index(e->macs, at);
        if (e->macs->len == 0)
            g_ptr_array_remove(entries, e);
    }
    return macs_format(entries);
}
