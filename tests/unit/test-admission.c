/* test-admission.c: the rules a call passes before its arguments are decoded
 * (rpc/admission.c), on facts alone: a program table made here, no sockets, no server. */
#include <stddef.h>

#include <glib.h>

#include "protocol/sv_net.h"
#include "rpc/admission.h"
#include "util/error.h"

#define TEST_PROGRAM 0x5eed
#define TEST_VERSION 1

enum {
    PROC_OPEN = 1,    /* opens the connection; allowed read-only, before the open */
    PROC_READ = 2,    /* allowed read-only */
    PROC_WRITE = 3,   /* not allowed read-only */
    PROC_PING = 4,    /* a MESSAGE the server sends, never a call */
    PROC_FEATURE = 5, /* allowed before the open and read-only */
    PROC_BIG = 6,     /* arguments over the dispatcher's buffer */
    PROC_MISSING = 7, /* no handler in this daemon */
    PROC_SECRET = 8,  /* a secret call, not allowed read-only */
    PROC_POOL = 9,    /* a storage call, not allowed read-only; no handler here */
    PROC_SNAPSHOT = 10, /* a hypervisor call of libvirt's snapshot API; no handler here */
    PROC_DETACH = 11, /* a hypervisor call of libvirt's node-device API; no handler here */
    PROC_AUTH = 12,   /* an AUTH_* call: served before authentication, and the open */
};

typedef struct {
    gboolean (*open)(void);
    gboolean (*read)(void);
    gboolean (*write)(void);
    gboolean (*feature)(void);
    gboolean (*big)(void);
    gboolean (*missing)(void);
    gboolean (*secret)(void);
    gboolean (*pool)(void);
    gboolean (*snapshot)(void);
    gboolean (*detach)(void);
    gboolean (*auth)(void);
} Handlers;

static gboolean
handler(void)
{
    return TRUE;
}

/* Admission asks only whether an entry has an invoke function and a handler at its
 * offset; this one is never called. */
static gboolean
invoke(const void *handlers, SvCall *call, void *args, void *ret, GError **error)
{
    (void)handlers, (void)call, (void)args, (void)ret, (void)error;
    g_assert_not_reached();
}

/* A call's entry (no XDR filters: admission never decodes), of the primary family or
 * another. */
#define FAMILY_ENTRY(num, name, api, size, flags, field, family)                                   \
    {num, name, api, NULL, size, NULL, 0, flags, 0, offsetof(Handlers, field), invoke, family}
#define ENTRY(num, name, api, size, flags, field)                                                  \
    FAMILY_ENTRY(num, name, api, size, flags, field, SV_PROC_FAMILY_PRIMARY)

static const SvProcInfo procs[] = {
    ENTRY(PROC_OPEN, "OPEN", "virOpen", 8, SV_PROC_OPEN | SV_PROC_NOOPEN | SV_PROC_RO, open),
    ENTRY(PROC_READ, "READ", "virRead", 8, SV_PROC_RO, read),
    ENTRY(PROC_WRITE, "WRITE", "virWrite", 8, 0, write),
    {PROC_PING, "PING", "virPing", NULL, 0, NULL, 0, SV_PROC_MSG, 0, 0, NULL,
     SV_PROC_FAMILY_PRIMARY},
    ENTRY(PROC_FEATURE, "FEATURE", "virFeature", 0, SV_PROC_NOOPEN | SV_PROC_RO, feature),
    ENTRY(PROC_BIG, "BIG", "virBig", SV_PROC_BUF_SIZE + 1, SV_PROC_RO, big),
    ENTRY(PROC_MISSING, "MISSING", "virMissing", 8, 0, missing),
    FAMILY_ENTRY(PROC_SECRET, "SECRET_SET_VALUE", "virSecretSetValue", 8, 0, secret,
                 SV_PROC_FAMILY_SECRET),
    FAMILY_ENTRY(PROC_POOL, "STORAGE_POOL_DEFINE_XML", "virStoragePoolDefineXML", 8, 0, pool,
                 SV_PROC_FAMILY_STORAGE),
    ENTRY(PROC_SNAPSHOT, "DOMAIN_SNAPSHOT_NUM", "virDomainSnapshotNum", 8, SV_PROC_RO, snapshot),
    ENTRY(PROC_DETACH, "NODE_DEVICE_DETACH_FLAGS", "virNodeDeviceDetachFlags", 8, 0, detach),
    ENTRY(PROC_AUTH, "AUTH_SASL_INIT", "virAuthSaslInit", 8,
          SV_PROC_NOAUTH | SV_PROC_NOOPEN | SV_PROC_RO, auth),
};

static const SvProgramInfo program = {
    TEST_PROGRAM, TEST_VERSION, procs, G_N_ELEMENTS(procs),
};

static const Handlers handlers = {
    .open = handler,
    .read = handler,
    .write = handler,
    .feature = handler,
    .big = handler,
    .secret = handler,
    .auth = handler,
};

typedef struct {
    SvHeader hdr;
    SvCallFacts facts;
} Call;

/* A call of `proc` to the test program on an open read-write connection; cases change
 * one fact at a time. */
static void
call_init(Call *c, int proc)
{
    c->hdr = (SvHeader){TEST_PROGRAM, TEST_VERSION, proc, SV_NET_CALL, 7, SV_NET_OK};
    c->facts = (SvCallFacts){&c->hdr, &program, &handlers, TRUE, TRUE, FALSE, NULL, NULL,
                             SV_PROC_FAMILY_PRIMARY};
}

static void
expect_admitted(const Call *c)
{
    g_autoptr(GError) error = NULL;
    const SvProcInfo *p = sv_call_admit(&c->facts, &error);

    g_assert_no_error(error);
    g_assert_nonnull(p);
    g_assert_cmpint(p->proc, ==, c->hdr.proc);
}

static void
expect_refused(const Call *c, int from, int code, const char *message)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(sv_call_admit(&c->facts, &error));
    g_assert_error(error, sv_error_quark(from), code);
    g_assert_cmpstr(error->message, ==, message);
}

static void
test_admitted(void)
{
    Call c;

    call_init(&c, PROC_WRITE);
    expect_admitted(&c);
    call_init(&c, PROC_READ);
    c.facts.readonly = TRUE;
    expect_admitted(&c);
    call_init(&c, PROC_OPEN);
    c.facts.open = FALSE;
    expect_admitted(&c);
    call_init(&c, PROC_FEATURE);
    c.facts.open = FALSE;
    c.facts.readonly = TRUE;
    expect_admitted(&c);
}

static void
test_header_and_table(void)
{
    Call c;

    call_init(&c, PROC_READ);
    c.hdr.status = SV_NET_ERROR;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "Unexpected message status 1");
    call_init(&c, PROC_READ);
    c.hdr.prog = 0x12345678;
    c.facts.program = NULL;
    c.facts.handlers = NULL;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "Cannot find program 305419896 version 1");
    call_init(&c, 99);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 99");
    call_init(&c, -1);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: -1");
    call_init(&c, PROC_PING);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 4");
}

static void
test_open(void)
{
    Call c;

    call_init(&c, PROC_READ);
    c.facts.open = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                   "internal error: hypervisor connection not open");
    call_init(&c, PROC_OPEN);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                   "internal error: connection already open");
    /* A secondary family's call names no hypervisor connection (libvirtd, observed). */
    call_init(&c, PROC_SECRET);
    c.facts.open = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "internal error: connection not open");
}

/* Before the client has authenticated only the AUTH_* calls are served; every other known
 * call hears libvirt's RPC error, before the rules of the open (libvirtd answers a call
 * before authentication so whether its connection is open or not). */
static void
test_auth(void)
{
    Call c;

    call_init(&c, PROC_AUTH);
    c.facts.open = FALSE;
    c.facts.authenticated = FALSE;
    expect_admitted(&c);
    call_init(&c, PROC_AUTH);
    c.facts.authenticated = FALSE;
    c.facts.readonly = TRUE;
    expect_admitted(&c);
    call_init(&c, PROC_OPEN);
    c.facts.open = FALSE;
    c.facts.authenticated = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "authentication required");
    call_init(&c, PROC_FEATURE);
    c.facts.open = FALSE;
    c.facts.authenticated = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "authentication required");
    call_init(&c, PROC_WRITE);
    c.facts.authenticated = FALSE;
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "authentication required");
    call_init(&c, PROC_MISSING);
    c.facts.authenticated = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "authentication required");
    /* The table comes first: a number it lacks is unknown, authenticated or not. */
    call_init(&c, 99);
    c.facts.authenticated = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 99");
}

static void
test_readonly(void)
{
    Call c;

    call_init(&c, PROC_WRITE);
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virWrite");
    /* libvirt-secret.c refuses in its own error domain, SECRET. */
    call_init(&c, PROC_SECRET);
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_SECRET, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virSecretSetValue");
}

static gboolean
relays_pool(gpointer data, const SvProcInfo *proc)
{
    (void)data;
    return proc->family == SV_PROC_FAMILY_STORAGE;
}

/* A secondary driver's daemon (here the secret one) as libvirt's per-driver daemons: the
 * hypervisor API's calls it lacks are NO_SUPPORT in the error domain of that API's file,
 * after the read-only check; another family's calls find no connection, before the
 * read-only check, unless the daemon relays them; its own family's missing calls and
 * another family's on a hypervisor daemon stay "unknown procedure". */
static void
test_secondary_daemon(void)
{
    Call c;

    call_init(&c, PROC_MISSING);
    c.facts.family = SV_PROC_FAMILY_SECRET;
    expect_refused(&c, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT,
                   "this function is not supported by the connection driver: virMissing");
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virMissing");
    call_init(&c, PROC_SNAPSHOT);
    c.facts.family = SV_PROC_FAMILY_SECRET;
    expect_refused(&c, SV_FROM_DOMAIN_SNAPSHOT, SV_ERR_NO_SUPPORT,
                   "this function is not supported by the connection driver: "
                   "virDomainSnapshotNum");
    call_init(&c, PROC_DETACH);
    c.facts.family = SV_PROC_FAMILY_SECRET;
    expect_refused(&c, SV_FROM_NODEDEV, SV_ERR_NO_SUPPORT,
                   "this function is not supported by the connection driver: "
                   "virNodeDeviceDetachFlags");
    call_init(&c, PROC_POOL);
    c.facts.family = SV_PROC_FAMILY_SECRET;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "internal error: connection not open");
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "internal error: connection not open");
    c.facts.readonly = FALSE;
    c.facts.relays = relays_pool;
    expect_admitted(&c);
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_STORAGE, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virStoragePoolDefineXML");
    call_init(&c, PROC_SECRET);
    c.facts.family = SV_PROC_FAMILY_SECRET;
    expect_admitted(&c);
    call_init(&c, PROC_POOL);
    c.facts.family = SV_PROC_FAMILY_STORAGE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 9");
    call_init(&c, PROC_POOL);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 9");
}

static void
test_handler(void)
{
    Call c;

    call_init(&c, PROC_MISSING);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 7");
    call_init(&c, PROC_READ);
    c.facts.handlers = NULL;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 2");
}

static void
test_too_large(void)
{
    Call c;

    call_init(&c, PROC_BIG);
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                   "internal error: procedure BIG: arguments or return value over 512 bytes");
}

/* libvirt's order: the first rule broken is the one answered. */
static void
test_order(void)
{
    Call c;

    /* Not open beats read-only: a write before the open on a read-only socket. */
    call_init(&c, PROC_WRITE);
    c.facts.open = FALSE;
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                   "internal error: hypervisor connection not open");
    /* Read-only beats a missing handler. */
    call_init(&c, PROC_MISSING);
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virMissing");
    /* A bad status beats everything, even an unknown program. */
    call_init(&c, 99);
    c.hdr.status = SV_NET_ERROR;
    c.facts.program = NULL;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_RPC, "Unexpected message status 1");
}

/* A program that relays MISSING (as a hypervisor daemon relays a secondary family). */
static gboolean
relays_missing(gpointer data, const SvProcInfo *proc)
{
    g_assert_true(data == &program);
    return proc->proc == PROC_MISSING;
}

/* A call without a handler is admitted when its program relays it, after the same
 * connection rules as any other: open, then read-only. */
static void
test_relayed(void)
{
    Call c;

    call_init(&c, PROC_MISSING);
    c.facts.relays = relays_missing;
    c.facts.relays_data = (gpointer)&program;
    expect_admitted(&c);
    c.facts.open = FALSE;
    expect_refused(&c, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                   "internal error: hypervisor connection not open");
    c.facts.open = TRUE;
    c.facts.readonly = TRUE;
    expect_refused(&c, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                   "operation forbidden: read only access prevents virMissing");
    call_init(&c, PROC_WRITE);
    c.facts.relays = relays_missing;
    c.facts.relays_data = (gpointer)&program;
    expect_admitted(&c); /* a handler of its own: served here */
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/admission/admitted", test_admitted);
    g_test_add_func("/admission/header-and-table", test_header_and_table);
    g_test_add_func("/admission/open", test_open);
    g_test_add_func("/admission/auth", test_auth);
    g_test_add_func("/admission/readonly", test_readonly);
    g_test_add_func("/admission/handler", test_handler);
    g_test_add_func("/admission/too-large", test_too_large);
    g_test_add_func("/admission/order", test_order);
    g_test_add_func("/admission/relayed", test_relayed);
    g_test_add_func("/admission/secondary-daemon", test_secondary_daemon);
    return g_test_run();
}
