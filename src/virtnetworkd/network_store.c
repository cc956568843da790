/* network_store.c: virtnetworkd's networks, their ports and their files (network_store.h). */
#include "network_store.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>
#include <unistd.h>

#include "conf/uuid.h"
#include "util/error.h"
#include "util/fileio.h"

struct Networks {
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    GPtrArray *nets; /* NetworkObj, definition order */
};

static void
net_free(NetworkObj *net)
{
    sv_network_def_free(net->def);
    sv_network_def_free(net->new_def);
    g_ptr_array_unref(net->ports);
    g_free(net);
}

Networks *
networks_new(const char *config_dir, const char *state_dir)
{
    Networks *nets = g_new0(Networks, 1);

    nets->config_dir = g_strdup(config_dir);
    nets->autostart_dir = g_build_filename(config_dir, "autostart", NULL);
    nets->state_dir = g_strdup(state_dir);
    nets->nets = g_ptr_array_new_with_free_func((GDestroyNotify)net_free);
    return nets;
}

void
networks_free(Networks *nets)
{
    if (!nets)
        return;
    g_ptr_array_unref(nets->nets);
    g_free(nets->config_dir);
    g_free(nets->autostart_dir);
    g_free(nets->state_dir);
    g_free(nets);
}

GPtrArray *
networks_list(Networks *nets)
{
    return nets->nets;
}

static NetworkObj *
lookup_name(Networks *nets, const char *name)
{
    for (guint i = 0; i < nets->nets->len; i++) {
        NetworkObj *n = nets->nets->pdata[i];
        if (g_str_equal(n->def->name, name))
            return n;
    }
    return NULL;
}

static NetworkObj *
lookup_uuid(Networks *nets, const guint8 uuid[16])
{
    for (guint i = 0; i < nets->nets->len; i++) {
        NetworkObj *n = nets->nets->pdata[i];
        if (memcmp(n->def->uuid, uuid, 16) == 0)
            return n;
    }
    return NULL;
}

NetworkObj *
networks_find_name(Networks *nets, const char *name, GError **error)
{
    NetworkObj *n = lookup_name(nets, name);

    if (!n)
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK,
                     "no network with matching name '%s'", name);
    return n;
}

NetworkObj *
networks_find_uuid(Networks *nets, const guint8 uuid[16], GError **error)
{
    NetworkObj *n = lookup_uuid(nets, uuid);
    char s[SV_UUID_STRING_LEN + 1];

    if (!n) {
        sv_uuid_format(uuid, s);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK,
                     "no network with matching uuid '%s'", s);
    }
    return n;
}

gboolean
networks_bridge_in_use(Networks *nets, const char *bridge, const char *skip_name)
{
    for (guint i = 0; i < nets->nets->len; i++) {
        NetworkObj *n = nets->nets->pdata[i];

        if (skip_name && g_str_equal(n->def->name, skip_name))
            continue;
        if (g_strcmp0(n->def->bridge.name, bridge) == 0 ||
            (n->new_def && g_strcmp0(n->new_def->bridge.name, bridge) == 0))
            return TRUE;
    }
    return FALSE;
}

NetworkObj *
networks_check_add(Networks *nets, const SvNetworkDef *def, gboolean check_live, GError **error)
{
    NetworkObj *old = lookup_uuid(nets, def->uuid);
    char uuid[SV_UUID_STRING_LEN + 1];

    if (old && !g_str_equal(old->def->name, def->name)) {
        sv_uuid_format(old->def->uuid, uuid);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_FAILED,
                     "network '%s' is already defined with uuid %s", old->def->name, uuid);
        return NULL;
    }
    if (old && check_live && old->active) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID,
                     "network is already active as '%s'", old->def->name);
        return NULL;
    }
    if (!old && (old = lookup_name(nets, def->name))) {
        sv_uuid_format(old->def->uuid, uuid);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_FAILED,
                     "network '%s' already exists with uuid %s", def->name, uuid);
        return NULL;
    }
    return old;
}

NetworkObj *
networks_assign(Networks *nets, NetworkObj *old, SvNetworkDef *def, gboolean live)
{
    NetworkObj *n = old;

    if (!n) {
        n = g_new0(NetworkObj, 1);
        n->ports = g_ptr_array_new_with_free_func((GDestroyNotify)sv_network_port_def_free);
        n->def = def;
        n->persistent = !live;
        g_ptr_array_add(nets->nets, n);
        return n;
    }
    if (live) {
        /* the persistent definition waits aside for the stop */
        if (n->persistent && !n->new_def)
            n->new_def = n->def;
        else
            sv_network_def_free(n->def);
        n->def = def;
        return n;
    }
    sv_network_def_free(n->new_def);
    n->new_def = NULL;
    if (n->active) {
        n->new_def = def;
    } else {
        sv_network_def_free(n->def);
        n->def = def;
    }
    n->persistent = TRUE;
    return n;
}

void
networks_remove(Networks *nets, NetworkObj *net)
{
    g_ptr_array_remove(nets->nets, net);
}

const SvNetworkDef *
network_obj_persistent_def(const NetworkObj *net)
{
    return net->new_def ? net->new_def : net->def;
}

/* ---------------------------------------------------------------- files */

/* Network names never hold '/' (the parser refuses them), so NAME.xml is a file of the
 * directory; checked again here for names read back from files. */
static char *
file_in(const char *dir, const char *name, const char *suffix, GError **error)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);
    g_autofree char *path = g_build_filename(dir, file, NULL);

    if (strchr(name, '/') || !sv_path_is_within(path, dir)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network name '%s' cannot name a file", name);
        return NULL;
    }
    return g_steal_pointer(&path);
}

/* libvirt's virXMLPickShellSafeComment: a name the comment can show as a shell word. */
static gboolean
shell_safe(const char *s)
{
    return s && !strpbrk(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") && !strstr(s, "--");
}

/* A file as libvirt's virXMLSaveFile writes it: its warning comment naming the command
 * that edits the network (by name, or by UUID when the name is no shell word), then the
 * XML. */
static gboolean
save_xml(const char *path, const SvNetworkDef *def, const char *xml, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    g_autofree char *text = NULL;

    sv_uuid_format(def->uuid, uuid);
    text = g_strdup_printf(
        "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
        "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
        "  virsh net-edit %s\nor other application using the libvirt API.\n-->\n\n%s",
        shell_safe(def->name) ? def->name : uuid, xml);
    return sv_file_write_atomic(path, text, strlen(text), 0600, error);
}

gboolean
networks_save_config(Networks *nets, NetworkObj *net, GError **error)
{
    const SvNetworkDef *def = network_obj_persistent_def(net);
    g_autofree char *path = file_in(nets->config_dir, def->name, ".xml", error);
    g_autofree char *xml = NULL;

    if (!path)
        return FALSE;
    xml = sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
    return sv_mkdir_p(nets->config_dir, 0755, error) && save_xml(path, def, xml, error);
}

gboolean
networks_set_autostart(Networks *nets, NetworkObj *net, gboolean on, GError **error)
{
    g_autofree char *link = file_in(nets->autostart_dir, net->def->name, ".xml", error);
    g_autofree char *target = NULL;

    if (!link)
        return FALSE;
    if (!on) {
        if (unlink(link) < 0 && errno != ENOENT && errno != ENOTDIR) {
            sv_error_set_errno(error, SV_FROM_NETWORK, errno, "Failed to delete symlink '%s'",
                               link);
            return FALSE;
        }
        net->autostart = FALSE;
        return TRUE;
    }
    target = file_in(nets->config_dir, net->def->name, ".xml", error);
    if (!target)
        return FALSE;
    if (g_mkdir_with_parents(nets->autostart_dir, 0777) < 0) {
        sv_error_set_errno(error, SV_FROM_NETWORK, errno,
                           "cannot create autostart directory '%s'", nets->autostart_dir);
        return FALSE;
    }
    if (symlink(target, link) < 0) {
        sv_error_set_errno(error, SV_FROM_NETWORK, errno,
                           "Failed to create symlink '%s' to '%s'", link, target);
        return FALSE;
    }
    net->autostart = TRUE;
    return TRUE;
}

gboolean
networks_delete_config(Networks *nets, NetworkObj *net, GError **error)
{
    g_autofree char *path = file_in(nets->config_dir, net->def->name, ".xml", error);

    if (!path)
        return FALSE;
    (void)networks_set_autostart(nets, net, FALSE, NULL);
    if (unlink(path) < 0 && errno != ENOENT) {
        sv_error_set_errno(error, SV_FROM_NETWORK, errno, "cannot remove config file '%s'",
                           path);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's status file: the class ids in use on the bridge (0-2 are the bridge's own
 * classes, taken from the start), the sum of the ports' inbound floors, the live
 * definition; no newline at its end. */
static char *
status_xml(const NetworkObj *net)
{
    g_autofree char *def = sv_network_def_format(net->def, 0);
    g_auto(GStrv) lines = g_strsplit(def, "\n", -1);
    GString *s = g_string_new("<networkstatus>\n  <class_id bitmap='0-2'/>\n"
                              "  <floor sum='0'/>\n");

    for (guint i = 0; lines[i]; i++) {
        if (*lines[i])
            g_string_append_printf(s, "  %s\n", lines[i]);
    }
    g_string_append(s, "</networkstatus>");
    return g_string_free(s, FALSE);
}

gboolean
networks_save_status(Networks *nets, NetworkObj *net, GError **error)
{
    g_autofree char *path = file_in(nets->state_dir, net->def->name, ".xml", error);
    g_autofree char *xml = NULL;

    if (!path)
        return FALSE;
    xml = status_xml(net);
    return save_xml(path, net->def, xml, error);
}

void
networks_activate(NetworkObj *net)
{
    net->active = TRUE;
}

static char *
ports_dir(Networks *nets, const NetworkObj *net)
{
    return g_build_filename(nets->state_dir, net->def->name, "ports", NULL);
}

/* Every port file of net's directory, and the directories libvirt makes for them. */
static void
delete_all_ports(Networks *nets, NetworkObj *net)
{
    g_autofree char *dir = ports_dir(nets, net);
    g_autofree char *parent = g_path_get_dirname(dir);

    for (guint i = 0; i < net->ports->len; i++) {
        char uuid[SV_UUID_STRING_LEN + 1];
        g_autofree char *file = NULL;

        sv_uuid_format(((SvNetworkPortDef *)net->ports->pdata[i])->uuid, uuid);
        file = file_in(dir, uuid, ".xml", NULL);
        if (file && unlink(file) < 0 && errno != ENOENT)
            g_warning("Unable to delete %s", file);
    }
    g_ptr_array_set_size(net->ports, 0);
    (void)rmdir(dir);
    (void)rmdir(parent);
}

gboolean
networks_deactivate(Networks *nets, NetworkObj *net)
{
    g_autofree char *path = file_in(nets->state_dir, net->def->name, ".xml", NULL);

    if (path)
        (void)unlink(path);
    delete_all_ports(nets, net);
    net->active = FALSE;
    if (!net->persistent) {
        networks_remove(nets, net);
        return FALSE;
    }
    if (net->new_def) {
        sv_network_def_free(net->def);
        net->def = g_steal_pointer(&net->new_def);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- ports */

SvNetworkPortDef *
networks_find_port(NetworkObj *net, const guint8 uuid[16], GError **error)
{
    char s[SV_UUID_STRING_LEN + 1];

    for (guint i = 0; i < net->ports->len; i++) {
        SvNetworkPortDef *p = net->ports->pdata[i];
        if (memcmp(p->uuid, uuid, 16) == 0)
            return p;
    }
    sv_uuid_format(uuid, s);
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK_PORT,
                 "Network port with UUID %s does not exist", s);
    return NULL;
}

gboolean
networks_save_port(Networks *nets, NetworkObj *net, const SvNetworkPortDef *port,
                   GError **error)
{
    g_autofree char *dir = ports_dir(nets, net);
    char uuid[SV_UUID_STRING_LEN + 1];
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;

    sv_uuid_format(port->uuid, uuid);
    if (!(path = file_in(dir, uuid, ".xml", error)))
        return FALSE;
    if (g_mkdir_with_parents(dir, 0777) < 0) {
        sv_error_set_errno(error, SV_FROM_NETWORK, errno, "cannot create directory '%s'", dir);
        return FALSE;
    }
    xml = sv_network_port_def_format(port);
    return sv_file_write_atomic(path, xml, strlen(xml), 0600, error);
}

gboolean
networks_add_port(Networks *nets, NetworkObj *net, SvNetworkPortDef *port, GError **error)
{
    g_autoptr(SvNetworkPortDef) owned = port;
    char uuid[SV_UUID_STRING_LEN + 1];

    if (networks_find_port(net, port->uuid, NULL)) {
        sv_uuid_format(port->uuid, uuid);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NETWORK_PORT_EXIST,
                     "Network port with UUID %s already exists", uuid);
        return FALSE;
    }
    if (!networks_save_port(nets, net, port, error))
        return FALSE;
    g_ptr_array_add(net->ports, g_steal_pointer(&owned));
    return TRUE;
}

void
networks_delete_port(Networks *nets, NetworkObj *net, SvNetworkPortDef *port)
{
    g_autofree char *dir = ports_dir(nets, net);
    char uuid[SV_UUID_STRING_LEN + 1];
    g_autofree char *path = NULL;

    sv_uuid_format(port->uuid, uuid);
    path = file_in(dir, uuid, ".xml", NULL);
    if (path && unlink(path) < 0 && errno != ENOENT)
        g_warning("Unable to delete %s", path);
    g_ptr_array_remove(net->ports, port);
}

/* ---------------------------------------------------------------- loading */

/* A definition file, read as hostile input: its network must be named as the file is. */
static SvNetworkDef *
check_named(SvNetworkDef *def, const char *path, const char *entry)
{
    g_autoptr(SvNetworkDef) owned = def;
    g_autofree char *expected = g_strconcat(def->name, ".xml", NULL);

    if (!g_str_equal(entry, expected)) {
        g_warning("Network config filename '%s' does not match network name '%s'", path,
                  def->name);
        return NULL;
    }
    return g_steal_pointer(&owned);
}

static SvNetworkDef *
read_def(const char *path, const char *entry)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    SvNetworkDef *def;

    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(def = sv_network_def_parse(text, 0, &error))) {
        g_warning("Failed to load network config '%s': %s", path, error->message);
        return NULL;
    }
    return check_named(def, path, entry);
}

static void
load_config(const char *path, const char *entry, gpointer data)
{
    Networks *nets = data;
    SvNetworkDef *def = read_def(path, entry);
    g_autofree char *link = NULL;
    NetworkObj *n;

    if (!def)
        return;
    if (lookup_name(nets, def->name) || lookup_uuid(nets, def->uuid)) {
        g_warning("network '%s' clashes with a network already loaded", def->name);
        sv_network_def_free(def);
        return;
    }
    n = networks_assign(nets, NULL, def, FALSE);
    link = g_build_filename(nets->autostart_dir, entry, NULL);
    n->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
}

/* The <network> of a status file, as its own document's text. */
static char *
status_network(const char *text, GError **error)
{
    xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), "status.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *found = NULL;

    for (xmlNode *c = root && g_str_equal((const char *)root->name, "networkstatus")
                      ? root->children : NULL;
         c && !found; c = c->next) {
        xmlBuffer *buf;

        if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "network"))
            continue;
        buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, c, 0, 0);
        found = g_strdup((const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
    }
    if (doc)
        xmlFreeDoc(doc);
    if (!found)
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR, "%s",
                     "missing <network> in the network status");
    return found;
}

/* The ports of an active network found again. */
static void
load_port(const char *path, const char *entry, gpointer data)
{
    NetworkObj *n = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    SvNetworkPortDef *port;

    (void)entry;
    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(port = sv_network_port_def_parse(text, &error))) {
        g_warning("Cannot parse port %s: %s", path, error->message);
        return;
    }
    if (networks_find_port(n, port->uuid, NULL)) {
        sv_network_port_def_free(port);
        return;
    }
    g_ptr_array_add(n->ports, port);
}

/* A status file: its network was active when the last daemon ended. */
static void
load_state(const char *path, const char *entry, gpointer data)
{
    Networks *nets = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *inner = NULL;
    g_autofree char *dir = NULL;
    SvNetworkDef *def;
    NetworkObj *n;

    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(inner = status_network(text, &error)) ||
        !(def = sv_network_def_parse(inner, 0, &error))) {
        g_warning("Failed to load network status '%s': %s", path, error->message);
        return;
    }
    if (!(def = check_named(def, path, entry)))
        return;
    n = lookup_name(nets, def->name);
    if (n && memcmp(n->def->uuid, def->uuid, 16) != 0) {
        g_warning("live network '%s' is not the one defined", def->name);
        sv_network_def_free(def);
        return;
    }
    n = networks_assign(nets, n, def, TRUE);
    n->active = TRUE;
    dir = ports_dir(nets, n);
    sv_file_walk_dir(dir, ".xml", load_port, n);
}

int
networks_load(Networks *nets, GError **error)
{
    if (!sv_mkdir_p(nets->config_dir, 0755, error) ||
        !sv_mkdir_p(nets->state_dir, 0755, error))
        return -1;
    sv_file_walk_dir(nets->config_dir, ".xml", load_config, nets);
    sv_file_walk_dir(nets->state_dir, ".xml", load_state, nets);
    return (int)nets->nets->len;
}
