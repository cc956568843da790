/* domain_net_bandwidth.c: an interface's <bandwidth> (issue 18, interface parameters), as
 * libvirt 9.0 parses, checks and writes it (virNetDevBandwidthParse/Format): the errors,
 * their codes and order are the ones Debian's libvirtd gives for the same XML. */
#include "conf/domain_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

void
sv_domain_bandwidth_free(SvDomainBandwidth *bw)
{
    if (!bw)
        return;
    g_free(bw->in);
    g_free(bw->out);
    g_free(bw);
}

static gboolean
rate_equal(const SvDomainBandwidthRate *a, const SvDomainBandwidthRate *b)
{
    return (!a && !b) || (a && b && memcmp(a, b, sizeof(*a)) == 0);
}

gboolean
sv_domain_bandwidth_equal(const SvDomainBandwidth *a, const SvDomainBandwidth *b)
{
    return (!a && !b) || (a && b && rate_equal(a->in, b->in) && rate_equal(a->out, b->out));
}

/* A value as libvirt's virStrToLong_ullp takes it: strtoull's, whole, never negative. */
static gboolean
rate_value(const xmlNode *node, const char *attr, gboolean *present, guint64 *out,
           GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    char *end;

    *present = v != NULL;
    if (!v)
        return TRUE;
    errno = 0;
    *out = g_ascii_strtoull(v, &end, 10);
    if (end == v || *end || errno || strchr(v, '-')) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "could not convert bandwidth %s value '%s'", attr, v);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_rate(const xmlNode *node, SvDomainBandwidthRate *r, GError **error)
{
    g_autofree char *floor_text = sv_xml_prop(node, "floor");
    g_autofree char *peak_text = sv_xml_prop(node, "peak");
    g_autofree char *burst_text = sv_xml_prop(node, "burst");
    gboolean avg, present;

    if (!rate_value(node, "average", &avg, &r->average, error))
        return FALSE;
    if (!avg && !floor_text) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_DETAIL,
                     "Missing mandatory average or floor attributes");
        return FALSE;
    }
    if ((peak_text || burst_text) && !avg) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                     "'peak' and 'burst' require 'average' attribute");
        return FALSE;
    }
    return rate_value(node, "peak", &present, &r->peak, error) &&
           rate_value(node, "burst", &present, &r->burst, error) &&
           rate_value(node, "floor", &present, &r->floor, error);
}

/* The single <inbound> and <outbound>: a second one of either, in document order, is
 * refused. */
static gboolean
directions(const xmlNode *node, xmlNode **in, xmlNode **out, GError **error)
{
    for (xmlNode *c = node->children; c; c = c->next) {
        xmlNode **slot = sv_xml_is(c, "inbound") ? in : sv_xml_is(c, "outbound") ? out : NULL;

        if (!slot)
            continue;
        if (*slot) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_DETAIL,
                         "Only one child <%s> element allowed", (const char *)c->name);
            return FALSE;
        }
        *slot = c;
    }
    return TRUE;
}

gboolean
sv_domain_bandwidth_parse(const xmlNode *node, gboolean allow_floor, SvDomainBandwidth **out,
                          GError **error)
{
    g_autofree char *class_id = sv_xml_prop(node, "classID");
    g_autoptr(SvDomainBandwidth) bw = g_new0(SvDomainBandwidth, 1);
    xmlNode *in = NULL, *outbound = NULL;

    if (class_id) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_DETAIL,
                     "classID attribute not supported on <bandwidth> in this usage context");
        return FALSE;
    }
    if (!directions(node, &in, &outbound, error))
        return FALSE;
    if (in) {
        bw->in = g_new0(SvDomainBandwidthRate, 1);
        if (!parse_rate(in, bw->in, error))
            return FALSE;
        if (bw->in->floor && !allow_floor) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                         "floor attribute is not supported for this config");
            return FALSE;
        }
    }
    if (outbound) {
        bw->out = g_new0(SvDomainBandwidthRate, 1);
        if (!parse_rate(outbound, bw->out, error))
            return FALSE;
        if (bw->out->floor) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_CONFIG_UNSUPPORTED,
                         "'floor' attribute allowed only in <inbound> element");
            return FALSE;
        }
    }
    if (bw->in || bw->out)
        *out = g_steal_pointer(&bw);
    return TRUE;
}

static void
format_rate(GString *buf, const char *indent, const char *name, const SvDomainBandwidthRate *r)
{
    if (!r || (!r->average && !r->floor))
        return;
    g_string_append_printf(buf, "%s  <%s", indent, name);
    if (r->average)
        g_string_append_printf(buf, " average='%" G_GUINT64_FORMAT "'", r->average);
    if (r->peak)
        g_string_append_printf(buf, " peak='%" G_GUINT64_FORMAT "'", r->peak);
    if (r->floor)
        g_string_append_printf(buf, " floor='%" G_GUINT64_FORMAT "'", r->floor);
    if (r->burst)
        g_string_append_printf(buf, " burst='%" G_GUINT64_FORMAT "'", r->burst);
    g_string_append(buf, "/>\n");
}

void
sv_domain_bandwidth_format(GString *buf, const char *indent, const SvDomainBandwidth *bw)
{
    if (!bw)
        return;
    g_string_append_printf(buf, "%s<bandwidth>\n", indent);
    format_rate(buf, indent, "inbound", bw->in);
    format_rate(buf, indent, "outbound", bw->out);
    g_string_append_printf(buf, "%s</bandwidth>\n", indent);
}
