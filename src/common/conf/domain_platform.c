/* domain_platform.c: the platform parts of a domain definition: <features>, <clock> with
 * its <timer>s, and <pm>; parsed and formatted as libvirt 9.0 does. What the QEMU driver
 * accepts of them is checked by the driver (virtqemud/qemu_command_platform.c). */
#include "conf/domain_conf.h"

#include <string.h>

#include <errno.h>
#include <stdlib.h>

#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"


/* ---- string tables ------------------------------------------------------------------ */

SV_DOMAIN_ENUM_IMPL(ioapic, SV_DOMAIN_IOAPIC_LAST, "none", "qemu", "kvm")
SV_DOMAIN_ENUM_IMPL(hyperv_mode, SV_DOMAIN_HYPERV_MODE_LAST, "custom", "passthrough")
SV_DOMAIN_ENUM_IMPL(hyperv, SV_DOMAIN_HYPERV_LAST, "relaxed", "vapic", "spinlocks", "vpindex",
                   "synic", "stimer", "vendor_id", "frequencies")
SV_DOMAIN_ENUM_IMPL(clock_basis, SV_DOMAIN_CLOCK_BASIS_LAST, "utc", "localtime")
SV_DOMAIN_ENUM_IMPL(timer_name, SV_DOMAIN_TIMER_LAST, "platform", "pit", "rtc", "hpet", "tsc",
                   "kvmclock", "hypervclock", "armvtimer")
SV_DOMAIN_ENUM_IMPL(timer_tickpolicy, SV_DOMAIN_TIMER_TICKPOLICY_LAST, "none", "delay", "catchup",
                   "merge", "discard")
SV_DOMAIN_ENUM_IMPL(timer_track, SV_DOMAIN_TIMER_TRACK_LAST, "none", "boot", "guest", "wall",
                   "realtime")

/* ---- <features> ----------------------------------------------------------------------- */

/* <vmport>, <smm>, <pvspinlock>, <pmu>, <vmcoreinfo>: state on or off, an element without
 * state meaning on. */
static gboolean
parse_feature_state(const xmlNode *node, SvDomainSwitch *out, GError **error)
{
    int state = SV_DOMAIN_SWITCH_ON;

    if (!sv_domain_prop_enum(node, "state", sv_domain_switch_from_string, 1, NULL, FALSE, &state,
                             error))
        return FALSE;
    *out = state;
    return TRUE;
}

/* <kvm>: hidden, hint-dedicated, poll-control, pv-ipi (dirty-ring is refused). */
static gboolean
parse_kvm(const xmlNode *node, SvDomainDef *def, GError **error)
{
    const struct {
        const char *element;
        SvDomainSwitch *out;
    } features[] = {
        {"hidden", &def->kvm_hidden},
        {"hint-dedicated", &def->kvm_hint_dedicated},
        {"poll-control", &def->kvm_poll_control},
        {"pv-ipi", &def->kvm_pv_ipi},
    };

    def->kvm_features = TRUE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        for (guint i = 0; i < G_N_ELEMENTS(features); i++) {
            int state = SV_DOMAIN_SWITCH_ABSENT;

            if (!sv_xml_is(c, features[i].element))
                continue;
            if (!sv_domain_prop_enum(c, "state", sv_domain_switch_from_string, 1, NULL, TRUE,
                                     &state, error))
                return FALSE;
            *features[i].out = state;
        }
    }
    return TRUE;
}

static gboolean
parse_spinlocks(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *retries = sv_xml_prop(node, "retries");
    guint v = 0;

    if (!retries) {
        sv_xml_error_missing_attr(error, node, "retries");
        return FALSE;
    }
    if (!sv_domain_parse_uint(retries, &v)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'retries' in element 'spinlocks': '%s'. "
                     "Expected non-negative integer value",
                     retries);
        return FALSE;
    }
    if (v < 0xFFF) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "HyperV spinlock retry count must be at least 4095");
        return FALSE;
    }
    def->hyperv_spinlocks = v;
    return TRUE;
}

/* <vendor_id state='on' value=>: the value libvirt takes (it goes into -cpu, where a comma
 * would start another property). */
static gboolean
parse_vendor_id(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *value = sv_xml_prop(node, "value");

    if (!value) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "missing 'value' attribute for HyperV feature 'vendor_id'");
        return FALSE;
    }
    if (strlen(value) > 12) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "HyperV vendor_id value must not be more than 12 characters.");
        return FALSE;
    }
    if (strchr(value, ',')) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "HyperV vendor_id value is invalid");
        return FALSE;
    }
    g_free(def->hyperv_vendor_id);
    def->hyperv_vendor_id = g_steal_pointer(&value);
    return TRUE;
}

/* <hyperv>: the enlightenments splitvirt knows; the schema check refuses the others. A
 * later element of the same name wins, as in libvirt. */
static gboolean
parse_hyperv(const xmlNode *node, SvDomainDef *def, GError **error)
{
    int mode = SV_DOMAIN_HYPERV_MODE_CUSTOM;

    if (!sv_domain_prop_enum(node, "mode", sv_domain_hyperv_mode_from_string, 0, NULL, FALSE,
                             &mode, error))
        return FALSE;
    /* hv-passthrough copies the host's enlightenments: not implemented. */
    if (mode != SV_DOMAIN_HYPERV_MODE_CUSTOM) {
        sv_domain_error_unsupported_value(error, node, "mode", "passthrough");
        return FALSE;
    }
    def->hyperv = TRUE;
    def->hyperv_mode = mode;
    for (const xmlNode *c = node->children; c; c = c->next) {
        int feature;
        int state = SV_DOMAIN_SWITCH_ABSENT;

        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        feature = sv_domain_hyperv_from_string((const char *)c->name);
        if (feature < 0)
            continue;
        if (!sv_domain_prop_enum(c, "state", sv_domain_switch_from_string, 1, NULL, TRUE, &state,
                                 error))
            return FALSE;
        if (feature == SV_DOMAIN_HYPERV_SPINLOCKS && state == SV_DOMAIN_SWITCH_ON &&
            !parse_spinlocks(c, def, error))
            return FALSE;
        if (feature == SV_DOMAIN_HYPERV_VENDOR_ID && state == SV_DOMAIN_SWITCH_ON &&
            !parse_vendor_id(c, def, error))
            return FALSE;
        def->hyperv_features[feature] = state;
    }
    return TRUE;
}

static gboolean
parse_feature(const xmlNode *c, SvDomainDef *def, GError **error)
{
    int bit;
    int driver = SV_DOMAIN_IOAPIC_NONE;

    if (sv_xml_is(c, "vmport"))
        return parse_feature_state(c, &def->vmport, error);
    if (sv_xml_is(c, "pvspinlock"))
        return parse_feature_state(c, &def->pvspinlock, error);
    if (sv_xml_is(c, "pmu"))
        return parse_feature_state(c, &def->pmu, error);
    if (sv_xml_is(c, "vmcoreinfo"))
        return parse_feature_state(c, &def->vmcoreinfo, error);
    if (sv_xml_is(c, "apic")) {
        int eoi = SV_DOMAIN_SWITCH_ABSENT;

        if (!sv_domain_prop_enum(c, "eoi", sv_domain_switch_from_string, 1, NULL, FALSE, &eoi,
                                 error))
            return FALSE;
        def->apic_eoi = eoi;
    }
    if (sv_xml_is(c, "smm"))
        return parse_feature_state(c, &def->smm, error);
    if (sv_xml_is(c, "kvm"))
        return parse_kvm(c, def, error);
    if (sv_xml_is(c, "hyperv"))
        return parse_hyperv(c, def, error);
    if (sv_xml_is(c, "ioapic")) {
        if (!sv_domain_prop_enum(c, "driver", sv_domain_ioapic_from_string, 1, NULL, FALSE,
                                 &driver, error))
            return FALSE;
        def->ioapic = driver;
        return TRUE;
    }
    bit = sv_domain_feature_from_string((const char *)c->name);
    if (bit > 0)
        def->features |= (guint)bit;
    return TRUE;
}

gboolean
sv_domain_platform_parse_features(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "features");

    if (!node)
        return TRUE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        if (!parse_feature(c, def, error))
            return FALSE;
    }
    return TRUE;
}

static void
format_switch_elem(GString *buf, int indent, const char *name, SvDomainSwitch state)
{
    if (state != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(buf, "%*s<%s state='%s'/>\n", indent, "", name,
                               sv_domain_switch_to_string(state));
}

static void
format_hyperv(GString *buf, const SvDomainDef *def)
{
    g_string_append_printf(buf, "    <hyperv mode='%s'>\n",
                           sv_domain_hyperv_mode_to_string(def->hyperv_mode));
    for (int i = 0; i < SV_DOMAIN_HYPERV_LAST; i++) {
        if (i == SV_DOMAIN_HYPERV_SPINLOCKS &&
            def->hyperv_features[i] == SV_DOMAIN_SWITCH_ON) {
            g_string_append_printf(buf, "      <spinlocks state='on' retries='%u'/>\n",
                                   def->hyperv_spinlocks);
            continue;
        }
        if (i == SV_DOMAIN_HYPERV_VENDOR_ID &&
            def->hyperv_features[i] == SV_DOMAIN_SWITCH_ON) {
            g_string_append(buf, "      <vendor_id state='on'");
            sv_xml_append_attr(buf, "value", def->hyperv_vendor_id);
            g_string_append(buf, "/>\n");
            continue;
        }
        format_switch_elem(buf, 6, sv_domain_hyperv_to_string(i), def->hyperv_features[i]);
    }
    g_string_append(buf, "    </hyperv>\n");
}

static gboolean
has_features(const SvDomainDef *def)
{
    return def->features || def->hyperv || def->kvm_features ||
           def->vmport != SV_DOMAIN_SWITCH_ABSENT || def->smm != SV_DOMAIN_SWITCH_ABSENT ||
           def->ioapic != SV_DOMAIN_IOAPIC_NONE || def->pvspinlock != SV_DOMAIN_SWITCH_ABSENT ||
           def->pmu != SV_DOMAIN_SWITCH_ABSENT || def->vmcoreinfo != SV_DOMAIN_SWITCH_ABSENT;
}

/* In libvirt's order: acpi apic pae hyperv kvm pvspinlock pmu vmport smm ioapic vmcoreinfo. */
void
sv_domain_platform_format_features(GString *buf, const SvDomainDef *def)
{
    if (!has_features(def))
        return;
    g_string_append(buf, "  <features>\n");
    for (int bit = 1; bit < SV_DOMAIN_FEATURE_LAST; bit <<= 1) {
        if (!(def->features & (guint)bit))
            continue;
        if (bit == SV_DOMAIN_FEATURE_APIC && def->apic_eoi != SV_DOMAIN_SWITCH_ABSENT)
            g_string_append_printf(buf, "    <apic eoi='%s'/>\n",
                                   sv_domain_switch_to_string(def->apic_eoi));
        else
            g_string_append_printf(buf, "    <%s/>\n", sv_domain_feature_to_string(bit));
    }
    if (def->hyperv)
        format_hyperv(buf, def);
    if (def->kvm_features) {
        g_string_append(buf, "    <kvm>\n");
        format_switch_elem(buf, 6, "hidden", def->kvm_hidden);
        format_switch_elem(buf, 6, "hint-dedicated", def->kvm_hint_dedicated);
        format_switch_elem(buf, 6, "poll-control", def->kvm_poll_control);
        format_switch_elem(buf, 6, "pv-ipi", def->kvm_pv_ipi);
        g_string_append(buf, "    </kvm>\n");
    }
    format_switch_elem(buf, 4, "pvspinlock", def->pvspinlock);
    format_switch_elem(buf, 4, "pmu", def->pmu);
    format_switch_elem(buf, 4, "vmport", def->vmport);
    format_switch_elem(buf, 4, "smm", def->smm);
    if (def->ioapic != SV_DOMAIN_IOAPIC_NONE)
        g_string_append_printf(buf, "    <ioapic driver='%s'/>\n",
                               sv_domain_ioapic_to_string(def->ioapic));
    format_switch_elem(buf, 4, "vmcoreinfo", def->vmcoreinfo);
    g_string_append(buf, "  </features>\n");
}

/* ---- <clock> ---------------------------------------------------------------------------- */

/* A signed 64-bit decimal number with an optional sign, as strtoll reads it. */
static gboolean
parse_i64(const char *s, gint64 *out)
{
    char *end = NULL;
    gint64 v;

    if (!s || !*s || g_ascii_isspace(*s))
        return FALSE;
    errno = 0;
    v = g_ascii_strtoll(s, &end, 10);
    if (errno || *end)
        return FALSE;
    *out = v;
    return TRUE;
}

/* utc and localtime: adjustment='reset', or a number, which makes the clock variable. */
static gboolean
parse_clock_adjustment(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *adj = sv_xml_prop(node, "adjustment");

    if (!adj)
        return TRUE;
    if (g_str_equal(adj, "reset")) {
        def->clock_adjustment_reset = TRUE;
        return TRUE;
    }
    if (!parse_i64(adj, &def->clock_adjustment)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR, "unknown clock adjustment '%s'", adj);
        return FALSE;
    }
    def->clock_basis = def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_LOCALTIME
                           ? SV_DOMAIN_CLOCK_BASIS_LOCALTIME
                           : SV_DOMAIN_CLOCK_BASIS_UTC;
    def->clock_offset = SV_DOMAIN_CLOCK_OFFSET_VARIABLE;
    return TRUE;
}

static gboolean
parse_clock_variable(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *adj = sv_xml_prop(node, "adjustment");
    g_autofree char *basis = sv_xml_prop(node, "basis");
    int v = SV_DOMAIN_CLOCK_BASIS_UTC;

    /* libvirt reads it as an XPath number: anything else is 0. */
    if (!parse_i64(adj, &def->clock_adjustment))
        def->clock_adjustment = 0;
    if (basis) {
        v = sv_domain_clock_basis_from_string(basis);
        if (v < 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown clock basis '%s'", basis);
            return FALSE;
        }
    }
    def->clock_basis = v;
    return TRUE;
}

static gboolean
parse_timer(const xmlNode *node, SvDomainDef *def, GError **error)
{
    int name = 0;
    int present = SV_DOMAIN_TRISTATE_ABSENT;
    int tickpolicy = SV_DOMAIN_TIMER_TICKPOLICY_NONE;
    int track = SV_DOMAIN_TIMER_TRACK_NONE;
    SvDomainTimerDef *timer;

    if (!sv_domain_prop_enum(node, "name", sv_domain_timer_name_from_string, 0, NULL, TRUE, &name,
                             error) ||
        !sv_domain_prop_enum(node, "present", sv_domain_tristate_from_string, 1, NULL, FALSE,
                             &present, error) ||
        !sv_domain_prop_enum(node, "tickpolicy", sv_domain_timer_tickpolicy_from_string, 1, NULL,
                             FALSE, &tickpolicy, error) ||
        !sv_domain_prop_enum(node, "track", sv_domain_timer_track_from_string, 1, NULL, FALSE,
                             &track, error))
        return FALSE;
    timer = g_new0(SvDomainTimerDef, 1);
    timer->name = name;
    timer->present = present;
    timer->tickpolicy = tickpolicy;
    timer->track = track;
    g_ptr_array_add(def->timers, timer);
    return TRUE;
}

static gboolean
parse_clock_offset(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *offset = sv_xml_prop(node, "offset");
    int v = offset ? sv_domain_clock_offset_from_string(offset) : SV_DOMAIN_CLOCK_OFFSET_UTC;

    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown clock offset '%s'", offset);
        return FALSE;
    }
    def->clock_offset = v;
    switch (def->clock_offset) {
    case SV_DOMAIN_CLOCK_OFFSET_VARIABLE:
        return parse_clock_variable(node, def, error);
    case SV_DOMAIN_CLOCK_OFFSET_ABSOLUTE: {
        g_autofree char *start = sv_xml_prop(node, "start");

        if (!sv_domain_parse_u64(start, &def->clock_start)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "missing 'start' attribute for clock with offset='absolute'");
            return FALSE;
        }
        return TRUE;
    }
    case SV_DOMAIN_CLOCK_OFFSET_TIMEZONE:
        /* libvirt ignores an adjustment here. */
        def->clock_timezone = sv_xml_prop(node, "timezone");
        if (!def->clock_timezone) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "missing 'timezone' attribute for clock with offset='timezone'");
            return FALSE;
        }
        return TRUE;
    default:
        return parse_clock_adjustment(node, def, error);
    }
}

/* libvirt's post-parse checks of the timers, common to every driver. */
static gboolean
check_timers(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->timers->len; i++) {
        const SvDomainTimerDef *t = def->timers->pdata[i];
        const char *name = sv_domain_timer_name_to_string(t->name);

        if ((t->name == SV_DOMAIN_TIMER_KVMCLOCK || t->name == SV_DOMAIN_TIMER_HYPERVCLOCK) &&
            t->tickpolicy != SV_DOMAIN_TIMER_TICKPOLICY_NONE) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "timer %s doesn't support setting of timer tickpolicy", name);
            return FALSE;
        }
        if (t->name != SV_DOMAIN_TIMER_PLATFORM && t->name != SV_DOMAIN_TIMER_RTC &&
            t->track != SV_DOMAIN_TIMER_TRACK_NONE) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "timer %s doesn't support setting of timer track", name);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
sv_domain_platform_parse_clock(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "clock");

    if (!node)
        return TRUE;
    if (!parse_clock_offset(node, def, error))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "timer") && !parse_timer(c, def, error))
            return FALSE;
    }
    return check_timers(def, error);
}

static void
format_timer(GString *buf, const SvDomainTimerDef *t)
{
    g_string_append_printf(buf, "    <timer name='%s'", sv_domain_timer_name_to_string(t->name));
    if (t->present != SV_DOMAIN_TRISTATE_ABSENT)
        sv_xml_append_attr(buf, "present", sv_domain_tristate_to_string(t->present));
    if (t->tickpolicy != SV_DOMAIN_TIMER_TICKPOLICY_NONE)
        sv_xml_append_attr(buf, "tickpolicy", sv_domain_timer_tickpolicy_to_string(t->tickpolicy));
    if (t->track != SV_DOMAIN_TIMER_TRACK_NONE)
        sv_xml_append_attr(buf, "track", sv_domain_timer_track_to_string(t->track));
    g_string_append(buf, "/>\n");
}

void
sv_domain_platform_format_clock(GString *buf, const SvDomainDef *def)
{
    g_string_append_printf(buf, "  <clock offset='%s'",
                           sv_domain_clock_offset_to_string(def->clock_offset));
    switch (def->clock_offset) {
    case SV_DOMAIN_CLOCK_OFFSET_VARIABLE:
        g_string_append_printf(buf, " adjustment='%" G_GINT64_FORMAT "' basis='%s'",
                               def->clock_adjustment,
                               sv_domain_clock_basis_to_string(def->clock_basis));
        break;
    case SV_DOMAIN_CLOCK_OFFSET_TIMEZONE:
        sv_xml_append_attr(buf, "timezone", def->clock_timezone);
        break;
    case SV_DOMAIN_CLOCK_OFFSET_ABSOLUTE:
        g_string_append_printf(buf, " start='%" G_GUINT64_FORMAT "'", def->clock_start);
        break;
    default:
        if (def->clock_adjustment_reset)
            g_string_append(buf, " adjustment='reset'");
        break;
    }
    if (def->timers->len == 0) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (guint i = 0; i < def->timers->len; i++)
        format_timer(buf, def->timers->pdata[i]);
    g_string_append(buf, "  </clock>\n");
}

/* ---- <pm> ------------------------------------------------------------------------------- */

gboolean
sv_domain_platform_parse_pm(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "pm");
    const struct {
        const char *element;
        SvDomainTristate *out;
    } states[] = {
        {"suspend-to-mem", &def->pm_suspend_to_mem},
        {"suspend-to-disk", &def->pm_suspend_to_disk},
    };

    if (!node)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
        xmlNode *c = sv_xml_child(node, states[i].element);
        int v = SV_DOMAIN_TRISTATE_ABSENT;

        if (c && !sv_domain_prop_enum(c, "enabled", sv_domain_tristate_from_string, 1, NULL,
                                      FALSE, &v, error))
            return FALSE;
        *states[i].out = v;
    }
    return TRUE;
}

void
sv_domain_platform_format_pm(GString *buf, const SvDomainDef *def)
{
    if (def->pm_suspend_to_mem == SV_DOMAIN_TRISTATE_ABSENT &&
        def->pm_suspend_to_disk == SV_DOMAIN_TRISTATE_ABSENT)
        return;
    g_string_append(buf, "  <pm>\n");
    if (def->pm_suspend_to_mem != SV_DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(buf, "    <suspend-to-mem enabled='%s'/>\n",
                               sv_domain_tristate_to_string(def->pm_suspend_to_mem));
    if (def->pm_suspend_to_disk != SV_DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(buf, "    <suspend-to-disk enabled='%s'/>\n",
                               sv_domain_tristate_to_string(def->pm_suspend_to_disk));
    g_string_append(buf, "  </pm>\n");
}
