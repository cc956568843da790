/* test-secret-def.c: conf/secret_def.c, secret XML as libvirt 9.0's secret_conf.c reads and
 * writes it: each usage type, the flags, a generated UUID, escaping, and libvirt's error
 * (code, domain, message) for each kind of bad document. */
#include <glib.h>
#include <string.h>

#include "conf/secret_def.h"
#include "conf/uuid.h"
#include "util/error.h"

#define UUID "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"

/* Each usage type's element, and the document libvirt writes back. */
static const struct {
    const char *in;
    int type;
    const char *id;
    const char *out;
} good[] = {
    {"<secret ephemeral='no' private='yes'><uuid>" UUID "</uuid><description>d</description>"
     "<usage type='volume'><volume>/var/lib/libvirt/images/a.img</volume></usage></secret>",
     SV_SECRET_USAGE_TYPE_VOLUME, "/var/lib/libvirt/images/a.img",
     "<secret ephemeral='no' private='yes'>\n  <uuid>" UUID "</uuid>\n"
     "  <description>d</description>\n  <usage type='volume'>\n"
     "    <volume>/var/lib/libvirt/images/a.img</volume>\n  </usage>\n</secret>\n"},
    {"<secret ephemeral='yes'><uuid>" UUID "</uuid><usage type='ceph'><name>client.admin "
     "secret</name></usage></secret>",
     SV_SECRET_USAGE_TYPE_CEPH, "client.admin secret",
     "<secret ephemeral='yes' private='no'>\n  <uuid>" UUID "</uuid>\n"
     "  <usage type='ceph'>\n    <name>client.admin secret</name>\n  </usage>\n</secret>\n"},
    {"<secret><uuid>" UUID "</uuid><usage type='iscsi'><target>libvirtiscsi</target></usage>"
     "</secret>",
     SV_SECRET_USAGE_TYPE_ISCSI, "libvirtiscsi",
     "<secret ephemeral='no' private='no'>\n  <uuid>" UUID "</uuid>\n"
     "  <usage type='iscsi'>\n    <target>libvirtiscsi</target>\n  </usage>\n</secret>\n"},
    {"<secret><uuid>" UUID "</uuid><usage type='tls'><name>t&amp;'&lt;</name></usage></secret>",
     SV_SECRET_USAGE_TYPE_TLS, "t&'<",
     "<secret ephemeral='no' private='no'>\n  <uuid>" UUID "</uuid>\n"
     "  <usage type='tls'>\n    <name>t&amp;&apos;&lt;</name>\n  </usage>\n</secret>\n"},
    {"<secret><uuid>" UUID "</uuid><usage type='vtpm'><name>VTPM_example</name></usage>"
     "</secret>",
     SV_SECRET_USAGE_TYPE_VTPM, "VTPM_example",
     "<secret ephemeral='no' private='no'>\n  <uuid>" UUID "</uuid>\n"
     "  <usage type='vtpm'>\n    <name>VTPM_example</name>\n  </usage>\n</secret>\n"},
    /* No <usage>, and usage type none: neither has an id nor writes <usage>. */
    {"<secret><uuid>" UUID "</uuid></secret>", SV_SECRET_USAGE_TYPE_NONE, NULL,
     "<secret ephemeral='no' private='no'>\n  <uuid>" UUID "</uuid>\n</secret>\n"},
    {"<secret><uuid>" UUID "</uuid><usage type='none'/></secret>", SV_SECRET_USAGE_TYPE_NONE,
     NULL, "<secret ephemeral='no' private='no'>\n  <uuid>" UUID "</uuid>\n</secret>\n"},
};

static void
test_good(gconstpointer data)
{
    const __typeof__(good[0]) *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvSecretDef) def = sv_secret_def_parse(t->in, &error);
    g_autoptr(SvSecretDef) again = NULL;
    g_autofree char *out = NULL, *out2 = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(def->usage_type, ==, t->type);
    g_assert_cmpstr(def->usage_id, ==, t->id);
    out = sv_secret_def_format(def);
    g_assert_cmpstr(out, ==, t->out);
    /* What is written reads back to the same document. */
    again = sv_secret_def_parse(out, &error);
    g_assert_no_error(error);
    out2 = sv_secret_def_format(again);
    g_assert_cmpstr(out2, ==, out);
}

/* Without <uuid> (or with an empty one) each definition gets a new random UUID. */
static void
test_generated_uuid(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvSecretDef) a = sv_secret_def_parse("<secret/>", &error);
    g_autoptr(SvSecretDef) b = sv_secret_def_parse("<secret><uuid></uuid></secret>", &error);
    static const guint8 zero[16];

    g_assert_no_error(error);
    g_assert_true(memcmp(a->uuid, zero, 16) != 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
    g_assert_false(a->ephemeral);
    g_assert_false(a->is_private);
}

static void
test_usage_names(void)
{
    for (int i = 0; i < SV_SECRET_USAGE_TYPE_LAST; i++)
        g_assert_cmpint(sv_secret_usage_type_from_string(sv_secret_usage_type_to_string(i)), ==, i);
    g_assert_cmpstr(sv_secret_usage_type_to_string(SV_SECRET_USAGE_TYPE_VTPM), ==, "vtpm");
    g_assert_null(sv_secret_usage_type_to_string(SV_SECRET_USAGE_TYPE_LAST));
    g_assert_cmpint(sv_secret_usage_type_from_string("VOLUME"), ==, -1);
}

/* libvirt 9.0's errors, all in the SECRET error domain. */
static const struct {
    const char *xml;
    int code;
    const char *message;
} bad[] = {
    {"<domain/>", SV_ERR_XML_ERROR, "XML error: unexpected root element <domain>, expecting <secret>"},
    {"<secret ephemeral='1'/>", SV_ERR_XML_ERROR, "XML error: invalid value of 'ephemeral'"},
    {"<secret private='true'/>", SV_ERR_XML_ERROR, "XML error: invalid value of 'private'"},
    {"<secret><uuid>nope</uuid></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: malformed uuid element"},
    {"<secret><usage/></secret>", SV_ERR_XML_ERROR, "XML error: unknown secret usage type"},
    {"<secret><usage type='disk'/></secret>", SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown secret usage type disk"},
    {"<secret><usage type='volume'/></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: volume usage specified, but volume path is missing"},
    {"<secret><usage type='ceph'><name></name></usage></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: Ceph usage specified, but name is missing"},
    {"<secret><usage type='iscsi'><name>x</name></usage></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: iSCSI usage specified, but target is missing"},
    {"<secret><usage type='tls'/></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: TLS usage specified, but name is missing"},
    {"<secret><usage type='vtpm'/></secret>", SV_ERR_INTERNAL_ERROR,
     "internal error: vTPM usage specified, but name is missing"},
    {"<secret><uuid>x</secret>", SV_ERR_XML_DETAIL,
     "(definition_of_secret):1: Opening and ending tag mismatch: uuid line 1 and secret\n"
     "<secret><uuid>x</secret>\n------------------------^"},
};

static void
test_bad(gconstpointer data)
{
    const __typeof__(bad[0]) *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvSecretDef) def = sv_secret_def_parse(t->xml, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_SECRET);
    g_assert_cmpint(error->code, ==, t->code);
    g_assert_cmpstr(error->message, ==, t->message);
}

/* An entity is never expanded: refused as the domain parser refuses it. */
static void
test_entity(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvSecretDef) def = sv_secret_def_parse(
        "<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><secret><description>&x;"
        "</description></secret>",
        &error);

    g_assert_null(def);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_SECRET);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *name = g_strdup_printf("/secret-def/good/%zu", i);
        g_test_add_data_func(name, &good[i], test_good);
    }
    g_test_add_func("/secret-def/generated-uuid", test_generated_uuid);
    g_test_add_func("/secret-def/usage-names", test_usage_names);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/secret-def/bad/%zu", i);
        g_test_add_data_func(name, &bad[i], test_bad);
    }
    g_test_add_func("/secret-def/entity", test_entity);
    return g_test_run();
}
