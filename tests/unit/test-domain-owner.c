/* test-domain-owner.c: two domain drivers in one process. Each call finds the driver of
 * its server, each object the driver of its list, and each run handle its own object:
 * handles are unique in the process, and one whose run ended finds nothing. */
#include <sys/socket.h>
#include <unistd.h>

#include "domain/domain_driver.h"
#include "protocol/sv_remote.h"
#include "util/error.h"
#include "domain-test.h"
#include "rpc-test.h"

/* A driver of its own, as a daemon sets one up, and a client connected to its server. */
typedef struct {
    char *name;         /* its context: what its GET_HOSTNAME answers */
    SvDomainList *list;
    SvServer *srv;
    SvRemoteHandlers handlers;
    SvDomainDriver drv;
    int fd;             /* the client's end */
    guint32 serial;
} TestDriver;

static const char *const test_paths[] = {"/system", NULL};

/* A handler of the driver's own: it reaches the driver's context from its call alone. */
static gboolean
t_get_hostname(SvCall *call, remote_connect_get_hostname_ret *ret, GError **error)
{
    TestDriver *t = sv_domain_driver_of(call)->data;

    (void)error;
    ret->hostname = g_strdup(t->name);
    return TRUE;
}

static TestDriver *
driver_new(const char *name, const SvConnectFacts *facts)
{
    TestDriver *t = g_new0(TestDriver, 1);
    SvRemoteHandlers own = {.connect_get_hostname = t_get_hostname};
    int sv[2];

    t->name = g_strdup(name);
    t->list = sv_domain_list_new();
    t->srv = sv_server_new(name, NULL);
    t->drv = (SvDomainDriver){
        .prefix = "test",
        .from = SV_FROM_NONE,
        .lookup_style = SV_LOOKUP_STYLE_QEMU,
        .server = t->srv,
        .list = t->list,
        .connect = facts,
        .data = t,
    };
    sv_remote_common_handlers(&t->handlers);
    sv_domain_driver_install(&t->drv, &t->handlers);
    sv_remote_handlers_overlay(&t->handlers, &own);
    sv_remote_serve(t->srv, &t->handlers, NULL);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    t->fd = sv[0];
    sv_server_add_client_fd(t->srv, sv[1], FALSE);
    return t;
}

static void
driver_free(TestDriver *t)
{
    close(t->fd);
    sv_server_free(t->srv);
    rpc_test_spin(0);
    sv_domain_list_free(t->list);
    g_hash_table_unref(t->drv.pending);
    g_free(t->name);
    g_free(t);
}

/* Call proc on t's server and decode its reply into ret (ret_filter; NULL: none). */
static void
call(TestDriver *t, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter,
     void *ret)
{
    g_autofree SvMsg *m = rpc_test_frame(REMOTE_PROGRAM, proc, SV_NET_CALL, ++t->serial,
                                         args_filter, args, -1);
    g_autoptr(GBytes) r = NULL;
    g_autoptr(GError) error = NULL;
    const guint8 *p;
    SvHeader h;
    gsize len;

    rpc_test_send(t->fd, m->data, m->len, NULL, 0);
    r = rpc_test_recv(t->fd, 5000);
    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    g_assert_cmpuint(h.serial, ==, t->serial);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
    p = g_bytes_get_data(r, &len);
    if (ret_filter) {
        sv_xdr_decode(p + SV_FRAME_MIN, len - SV_FRAME_MIN, ret_filter, ret, &error);
        g_assert_no_error(error);
    }
}

static void
start(SvDomainList *list, const char *name)
{
    SvDomainObj *obj = test_domain_add(list, name);

    sv_domain_list_assign_id(list, obj); /* active: what NUM_OF_DOMAINS counts */
}

/* Each client reaches its own server's driver: its facts, its domains, its context. */
static void
test_calls(void)
{
    static const SvConnectFacts facts_a = {.scheme = "a", .paths = test_paths,
                                           .path_error = "unexpected path",
                                           .default_uri = "a:///system", .type = "A"};
    static const SvConnectFacts facts_b = {.scheme = "b", .paths = test_paths,
                                           .path_error = "unexpected path",
                                           .default_uri = "b:///system", .type = "B"};
    TestDriver *a = driver_new("host-a", &facts_a);
    TestDriver *b = driver_new("host-b", &facts_b);
    TestDriver *both[] = {a, b};

    start(a->list, "web");
    start(b->list, "web");
    start(b->list, "db");
    for (guint i = 0; i < G_N_ELEMENTS(both); i++) {
        TestDriver *t = both[i];
        remote_connect_open_args open = {NULL, 0};
        remote_connect_get_type_ret type = {0};
        remote_connect_num_of_domains_ret num = {0};
        remote_connect_get_hostname_ret host = {0};

        g_assert_true(sv_server_get_user_data(t->srv) == &t->drv);
        call(t, REMOTE_PROC_CONNECT_OPEN, (xdrproc_t)xdr_remote_connect_open_args, &open, NULL,
             NULL);
        call(t, REMOTE_PROC_CONNECT_GET_TYPE, NULL, NULL,
             (xdrproc_t)xdr_remote_connect_get_type_ret, &type);
        g_assert_cmpstr(type.type, ==, t == a ? "A" : "B");
        call(t, REMOTE_PROC_CONNECT_NUM_OF_DOMAINS, NULL, NULL,
             (xdrproc_t)xdr_remote_connect_num_of_domains_ret, &num);
        g_assert_cmpint(num.num, ==, t == a ? 1 : 2);
        call(t, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, NULL,
             (xdrproc_t)xdr_remote_connect_get_hostname_ret, &host);
        g_assert_cmpstr(host.hostname, ==, t->name);
        xdr_free((xdrproc_t)xdr_remote_connect_get_type_ret, (char *)&type);
        xdr_free((xdrproc_t)xdr_remote_connect_get_hostname_ret, (char *)&host);
    }
    driver_free(a);
    driver_free(b);
}

static void
count_free(gpointer p)
{
    (*(int *)p)++;
}

/* A callback holding only a run handle finds its object, and from it its driver and the
 * driver's context; never the other driver's object, whatever the names. */
static void
test_owner(void)
{
    TestDriver *a = driver_new("host-a", NULL);
    TestDriver *b = driver_new("host-b", NULL);
    SvDomainObj *wa = test_domain_add(a->list, "web");
    SvDomainObj *wb = test_domain_add(b->list, "web");
    int freed = 0;
    gpointer ka, kb;

    g_assert_true(sv_domain_obj_get_owner(wa) == &a->drv);
    g_assert_true(sv_domain_driver_of_obj(wa) == &a->drv);
    g_assert_true(sv_domain_driver_of_obj(wb) == &b->drv);
    sv_domain_list_attach_run(a->list, wa, &freed, count_free);
    sv_domain_list_attach_run(b->list, wb, &freed, count_free);
    ka = sv_domain_obj_run_key(wa);
    kb = sv_domain_obj_run_key(wb);
    g_assert_true(ka != kb);
    g_assert_true(sv_domain_run_find_attached(ka) == wa);
    g_assert_true(sv_domain_run_find_attached(kb) == wb);
    g_assert_true(sv_domain_driver_of_obj(sv_domain_run_find_attached(kb))->data == b);
    /* The lookups of one list keep to it. */
    g_assert_true(sv_domain_list_find_attached(a->list, ka) == wa);
    g_assert_null(sv_domain_list_find_attached(a->list, kb));
    g_assert_null(sv_domain_list_find_run(b->list, GPOINTER_TO_UINT(ka)));
    driver_free(a); /* its list goes with wa's run */
    g_assert_cmpint(freed, ==, 1);
    g_assert_null(sv_domain_run_find_attached(ka));
    g_assert_true(sv_domain_run_find_attached(kb) == wb);
    driver_free(b);
    g_assert_cmpint(freed, ==, 2);
    g_assert_null(sv_domain_run_find_attached(kb));
}

/* Runs begun in turn in two lists: every handle differs from every other, each finds its
 * own object, and none lingers once its run ends. */
static void
test_unique(void)
{
    g_autoptr(SvDomainList) la = sv_domain_list_new();
    g_autoptr(SvDomainList) lb = sv_domain_list_new();
    SvDomainObj *objs[4] = {test_domain_add(la, "a1"), test_domain_add(lb, "b1"),
                            test_domain_add(la, "a2"), test_domain_add(lb, "b2")};
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < 1000; i++) {
        SvDomainObj *obj = objs[i % G_N_ELEMENTS(objs)];
        guint old = obj->run;
        guint run = sv_domain_list_begin_run(obj->list, obj);

        g_assert_cmpuint(run, !=, 0);
        g_assert_false(g_hash_table_contains(seen, GUINT_TO_POINTER(run)));
        g_hash_table_add(seen, GUINT_TO_POINTER(run));
        g_assert_true(sv_domain_run_find(run) == obj);
        g_assert_true(sv_domain_list_find_run(obj->list, run) == obj);
        g_assert_null(sv_domain_list_find_run(obj->list == la ? lb : la, run));
        /* A new run of the same domain: the old handle finds nothing. */
        g_assert_null(sv_domain_run_find(old));
    }
    for (guint i = 0; i < G_N_ELEMENTS(objs); i++) {
        guint run = objs[i]->run;

        g_assert_true(sv_domain_run_find(run) == objs[i]);
        g_assert_null(sv_domain_run_find_attached(GUINT_TO_POINTER(run))); /* no data */
        if (i % 2)
            sv_domain_list_end_run(objs[i]->list, objs[i]);
        else
            sv_domain_list_remove(objs[i]->list, objs[i]); /* frees it */
        g_assert_null(sv_domain_run_find(run));
    }
    g_assert_null(sv_domain_run_find(0));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-owner/calls", test_calls);
    g_test_add_func("/domain-owner/owner", test_owner);
    g_test_add_func("/domain-owner/unique", test_unique);
    return g_test_run();
}
