/* test-xdr.c: XDR round trips and the wire sizes clients depend on. */
#include <string.h>

#include "protocol/program.h"
#include "protocol/remote_dispatch.h"
#include "protocol/sv_net.h"
#include "protocol/sv_remote.h"
#include "rpc/message.h"
#include "util/error.h"

static GBytes *
encode(xdrproc_t f, void *obj)
{
    SvHeader h = {REMOTE_PROGRAM, 1, 1, 1, 0, 0};
    g_autoptr(GError) error = NULL;
    g_autofree SvMsg *m = sv_msg_encode(&h, f, obj, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(sv_be32(m->data), ==, m->len);
    return g_bytes_new(m->data + SV_FRAME_MIN, m->len - SV_FRAME_MIN);
}

static void
test_node_info_size(void)
{
    remote_node_get_info_ret r = {.memory = 1, .cpus = 2, .mhz = 3};
    g_autoptr(GBytes) b = NULL;
    const guint8 *p;

    strcpy(r.model, "x86_64");
    b = encode((xdrproc_t)xdr_remote_node_get_info_ret, &r);
    /* char model[32] takes four bytes per character. */
    g_assert_cmpuint(g_bytes_get_size(b), ==, 32 * 4 + 8 + 6 * 4);
    p = g_bytes_get_data(b, NULL);
    g_assert_cmpuint(sv_be32(p), ==, 'x');
    g_assert_cmpuint(sv_be32(p + 4), ==, '8');
}

static void
test_domain_info_size(void)
{
    remote_domain_get_info_ret r = {5, 1024, 512, 2, 99};
    g_autoptr(GBytes) b = encode((xdrproc_t)xdr_remote_domain_get_info_ret, &r);
    remote_domain_get_info_ret back = {0};

    g_assert_cmpuint(g_bytes_get_size(b), ==, 4 + 8 + 8 + 4 + 8);
    g_assert_true(sv_xdr_decode(g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                                (xdrproc_t)xdr_remote_domain_get_info_ret, &back, NULL));
    g_assert_cmpuint(back.state, ==, 5);
    g_assert_cmpuint(back.maxMem, ==, 1024);
    g_assert_cmpuint(back.memory, ==, 512);
    g_assert_cmpuint(back.nrVirtCpu, ==, 2);
    g_assert_cmpuint(back.cpuTime, ==, 99);
}

static void
test_domain_roundtrip(void)
{
    remote_nonnull_domain d = {"ab", {0}, -1}, back = {0};
    g_autoptr(GBytes) b = NULL;
    const guint8 *p;

    memset(d.uuid, 0x5a, 16);
    b = encode((xdrproc_t)xdr_remote_nonnull_domain, &d);
    g_assert_cmpuint(g_bytes_get_size(b), ==, 4 + 4 + 16 + 4);
    p = g_bytes_get_data(b, NULL);
    g_assert_cmpuint(sv_be32(p), ==, 2);
    g_assert_cmpint(p[6], ==, 0); /* padding */
    g_assert_cmpint(p[8], ==, 0x5a);
    g_assert_true(sv_xdr_decode(p, g_bytes_get_size(b), (xdrproc_t)xdr_remote_nonnull_domain,
                                &back, NULL));
    g_assert_cmpstr(back.name, ==, "ab");
    g_assert_cmpint(back.id, ==, -1);
    g_assert_cmpmem(back.uuid, 16, d.uuid, 16);
    xdr_free((xdrproc_t)xdr_remote_nonnull_domain, (char *)&back);
}

static void
test_open_args(void)
{
    char *name = "qemu:///system";
    remote_connect_open_args a = {&name, 1}, none = {NULL, 0}, back = {0};
    g_autoptr(GBytes) b = encode((xdrproc_t)xdr_remote_connect_open_args, &a);
    g_autoptr(GBytes) n = encode((xdrproc_t)xdr_remote_connect_open_args, &none);

    g_assert_cmpuint(g_bytes_get_size(b), ==, 4 + 4 + 16 + 4);
    g_assert_cmpuint(g_bytes_get_size(n), ==, 4 + 4);
    g_assert_true(sv_xdr_decode(g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                                (xdrproc_t)xdr_remote_connect_open_args, &back, NULL));
    g_assert_cmpstr(*back.name, ==, name);
    g_assert_cmpuint(back.flags, ==, 1);
    xdr_free((xdrproc_t)xdr_remote_connect_open_args, (char *)&back);
}

static void
test_security_model_chars(void)
{
    char model[] = "selinux";
    remote_node_get_security_model_ret r = {{sizeof(model), model}, {0, NULL}};
    g_autoptr(GBytes) b = encode((xdrproc_t)xdr_remote_node_get_security_model_ret, &r);

    /* char x<N>: a count, then four bytes per character, NUL included. */
    g_assert_cmpuint(g_bytes_get_size(b), ==, 4 + 8 * 4 + 4);
}

static void
test_typed_param(void)
{
    remote_typed_param p[2] = {{"unix-user-id", {.type = 2, .remote_typed_param_value_u.ui = 7}},
                               {"user-name", {.type = 7, .remote_typed_param_value_u.s = "root"}}};
    remote_connect_set_identity_args a = {{2, p}, 0}, back = {{0}, 0};
    g_autoptr(GBytes) b = encode((xdrproc_t)xdr_remote_connect_set_identity_args, &a);

    g_assert_true(sv_xdr_decode(g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                                (xdrproc_t)xdr_remote_connect_set_identity_args, &back, NULL));
    g_assert_cmpuint(back.params.params_len, ==, 2);
    g_assert_cmpuint(back.params.params_val[0].value.remote_typed_param_value_u.ui, ==, 7);
    g_assert_cmpstr(back.params.params_val[1].value.remote_typed_param_value_u.s, ==, "root");
    xdr_free((xdrproc_t)xdr_remote_connect_set_identity_args, (char *)&back);
}

static void
test_truncated_decode(void)
{
    /* A declared string length far beyond the bytes sent must fail, not read past. */
    guint8 buf[8] = {0x00, 0x10, 0x00, 0x00, 'a', 'b', 'c', 'd'};
    remote_domain_lookup_by_name_args a = {0};
    g_autoptr(GError) error = NULL;

    g_assert_false(sv_xdr_decode(buf, sizeof(buf), (xdrproc_t)xdr_remote_domain_lookup_by_name_args,
                                 &a, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_RPC), SV_ERR_RPC);
}

static void
check_error_roundtrip(GError *e)
{
    SvHeader h = {REMOTE_PROGRAM, 1, 11, 1, 3, 0};
    g_autofree SvMsg *m = sv_msg_encode_error(&h, e);
    g_autoptr(GError) back = sv_error_from_payload(m->data + SV_FRAME_MIN, m->len - SV_FRAME_MIN);
    const SvErrorExtra *a = sv_error_get_extra(e), *b = sv_error_get_extra(back);
    SvHeader mh;

    sv_header_decode(m->data + 4, &mh);
    g_assert_cmpuint(mh.status, ==, 1);
    g_assert_cmpuint(mh.serial, ==, 3);
    g_assert_cmpint(back->code, ==, e->code);
    g_assert_cmpint(sv_error_get_from(back), ==, sv_error_get_from(e));
    g_assert_cmpstr(back->message, ==, e->message);
    g_assert_cmpstr(b->str1, ==, a->str1);
    g_assert_cmpstr(b->str2, ==, a->str2);
    g_assert_cmpint(b->int1, ==, a->int1);
    g_assert_cmpint(b->int2, ==, a->int2);
    g_assert_cmpint(b->level, ==, 2);
}

static void
test_errors(void)
{
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

    sv_error_set(&e1, SV_FROM_QEMU, SV_ERR_NO_DOMAIN, "no domain with matching name '%s'", "x");
    g_assert_cmpstr(e1->message, ==, "Domain not found: no domain with matching name 'x'");
    g_assert_cmpstr(sv_error_get_extra(e1)->str1, ==, "Domain not found: %s");
    check_error_roundtrip(e1);
    sv_error_set_flags(&e2, SV_FROM_QEMU, 0x80, "qemuDomainDestroyFlags");
    g_assert_cmpstr(e2->message, ==, "unsupported flags (0x80) in function qemuDomainDestroyFlags");
    g_assert_cmpint(sv_error_get_extra(e2)->int1, ==, 0);
    check_error_roundtrip(e2);
    sv_error_set_errno(&e3, SV_FROM_NONE, 16, "Failed to terminate process %d with SIGTERM", 42);
    g_assert_cmpstr(e3->message, ==,
                    "Failed to terminate process 42 with SIGTERM: Device or resource busy");
    g_assert_cmpint(sv_error_get_extra(e3)->int1, ==, 16);
    check_error_roundtrip(e3);
    sv_error_set_literal(&e4, SV_FROM_DOMAIN, SV_ERR_NO_NAME, "missing name information");
    g_assert_null(sv_error_get_extra(e4)->str2);
    check_error_roundtrip(e4);
}

static void
test_table(void)
{
    const SvProgramInfo *info = &sv_remote_handlers_info;

    /* Sorted, unique, and every decode buffer fits the dispatcher's stack space. */
    for (guint i = 0; i < info->n_procs; i++) {
        g_assert_cmpuint(info->procs[i].args_size, <=, 512);
        g_assert_cmpuint(info->procs[i].ret_size, <=, 512);
        if (i)
            g_assert_cmpint(info->procs[i - 1].proc, <, info->procs[i].proc);
    }
    g_assert_cmpstr(sv_program_info_lookup(info, 11)->api, ==, "virDomainDefineXML");
    g_assert_cmpstr(sv_program_info_lookup(info, 24)->api, ==, "virDomainLookupByUUID");
    g_assert_true(sv_program_info_lookup(info, 66)->flags & SV_PROC_NOOPEN);
    g_assert_false(sv_program_info_lookup(info, 12)->flags & SV_PROC_RO);
    /* a network call, served by the network family's daemon (gen_dispatch.py's family) */
    g_assert_cmpint(sv_program_info_lookup(info, 36)->family, ==, SV_PROC_FAMILY_NETWORK);
    g_assert_null(sv_program_info_lookup(info, 347)); /* a procedure not served (unknown) */
    g_assert_cmpstr(sv_program_info_lookup(info, 36)->api, ==, "virConnectListDefinedNetworks");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xdr/node-info-size", test_node_info_size);
    g_test_add_func("/xdr/domain-info-size", test_domain_info_size);
    g_test_add_func("/xdr/domain-roundtrip", test_domain_roundtrip);
    g_test_add_func("/xdr/open-args", test_open_args);
    g_test_add_func("/xdr/security-model-chars", test_security_model_chars);
    g_test_add_func("/xdr/typed-param", test_typed_param);
    g_test_add_func("/xdr/truncated", test_truncated_decode);
    g_test_add_func("/xdr/errors", test_errors);
    g_test_add_func("/xdr/table", test_table);
    return g_test_run();
}
