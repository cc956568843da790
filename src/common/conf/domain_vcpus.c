/* domain_vcpus.c: the <vcpus> list of a definition, as far as the definitions model it:
 * the list libvirt 9.0 writes in a running guest's XML once a vcpu was hot-plugged
 * (qemuDomainSetVcpusLive). Vcpus are plugged in id order, so the list is two numbers:
 * the vcpus enabled (vcpus_current) and those QEMU started with, which cannot be unplugged
 * (vcpus_fixed). A list of another shape is refused as not supported. */
#include "conf/domain_vcpus.h"

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* Whether attr of node is yes (1), no (0), or absent or other (-1). */
static int
prop_bool(const xmlNode *node, const char *attr)
{
    g_autofree char *value = sv_xml_prop(node, attr);

    if (!value)
        return -1;
    return g_str_equal(value, "yes") ? 1 : g_str_equal(value, "no") ? 0 : -1;
}

static gboolean
unsupported(GError **error)
{
    sv_domain_error_unsupported(error, "<vcpus> other than the vcpus enabled, and the ones not "
                                       "hotpluggable among them, first in id order");
    return FALSE;
}

gboolean
sv_domain_parse_vcpus_list(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *list = sv_xml_child(root, "vcpus");
    guint enabled = 0, fixed = 0, seen = 0;

    if (!list)
        return TRUE;
    for (const xmlNode *c = list->children; c; c = c->next) {
        g_autofree char *id_text = NULL;
        guint id;
        int on, plug;

        if (!sv_xml_is(c, "vcpu"))
            continue;
        id_text = sv_xml_prop(c, "id");
        on = prop_bool(c, "enabled");
        plug = prop_bool(c, "hotpluggable");
        /* Only ids in order, an enabled prefix and a fixed prefix within it. */
        if (!id_text || !sv_domain_parse_uint(id_text, &id) || id != seen || on < 0 ||
            plug < 0 || (on && enabled != seen) || (!plug && (fixed != seen || !on)))
            return unsupported(error);
        enabled += on;
        fixed += !plug;
        seen++;
    }
    if (seen != def->vcpus || fixed == 0)
        return unsupported(error);
    def->vcpus_current = enabled;
    def->vcpus_fixed = fixed;
    return TRUE;
}

void
sv_domain_format_vcpus_list(GString *buf, const SvDomainDef *def)
{
    if (!def->vcpus_fixed)
        return;
    g_string_append(buf, "  <vcpus>\n");
    for (guint i = 0; i < def->vcpus; i++) {
        gboolean on = i < def->vcpus_current;

        g_string_append_printf(buf, "    <vcpu id='%u' enabled='%s' hotpluggable='%s'", i,
                               on ? "yes" : "no", i < def->vcpus_fixed ? "no" : "yes");
        if (on)
            g_string_append_printf(buf, " order='%u'", i + 1);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "  </vcpus>\n");
}
