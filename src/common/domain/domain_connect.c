/* domain_connect.c: the connection procedures of every hypervisor driver, from its facts
 * (domain_connect.h). */
#include "domain/domain_connect.h"

#include <string.h>

#include "domain/domain_driver.h"
#include "util/error.h"

/* A connection's URI, attached at CONNECT_OPEN. */
static const SvAttachKey uri_key = {"domain connection URI", SV_ATTACH_LEVEL_DRIVER};

/* The facts of a daemon without a domain driver (sv_connect_install): one per process. */
static const SvConnectFacts *own_facts;

static const SvConnectFacts *
facts_of(SvCall *call)
{
    return own_facts ? own_facts : sv_domain_driver_of(call)->connect;
}

char *
sv_connect_check_uri(const SvConnectFacts *f, const char *name, GError **error)
{
    g_autofree char *scheme = NULL, *path = NULL;
    const char *sep, *slash;

    if (!name || !*name)
        return g_strdup(f->default_uri);
    sep = strstr(name, "://");
    scheme = sep ? g_ascii_strdown(name, sep - name) : NULL;
    if (!scheme || !g_str_equal(scheme, f->scheme)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_NO_CONNECT, "%s", name);
        return NULL;
    }
    slash = strchr(sep + 3, '/');
    path = g_strdup(slash ? slash : "");
    if (strchr(path, '?'))
        *strchr(path, '?') = '\0';
    if (!g_strv_contains(f->paths, path)) {
        sv_error_set(error, f->path_error_from, SV_ERR_INTERNAL_ERROR, "%s '%s', try %s",
                     f->path_error, path, f->default_uri);
        return NULL;
    }
    if (f->uri_is_default)
        return g_strdup(f->default_uri);
    return g_strdup_printf("%s://%s", f->scheme, path);
}

static gboolean
connect_open(SvCall *call, remote_connect_open_args *args, GError **error)
{
    char *uri = sv_connect_check_uri(facts_of(call), args->name ? *args->name : NULL, error);

    if (!uri)
        return FALSE;
    sv_client_attach(sv_call_get_client(call), &uri_key, uri, g_free);
    return TRUE;
}

static gboolean
connect_get_uri(SvCall *call, remote_connect_get_uri_ret *ret, GError **error)
{
    (void)error;
    ret->uri = g_strdup(sv_client_attachment(sv_call_get_client(call), &uri_key));
    return TRUE;
}

static gboolean
connect_get_type(SvCall *call, remote_connect_get_type_ret *ret, GError **error)
{
    (void)error;
    ret->type = g_strdup(facts_of(call)->type);
    return TRUE;
}

static gboolean
connect_supports_feature(SvCall *call, remote_connect_supports_feature_args *args,
                         remote_connect_supports_feature_ret *ret, GError **error)
{
    const int *own = facts_of(call)->features;

    if (sv_remote_generic_feature(call, args->feature, &ret->supported, error))
        return TRUE;
    if (*error)
        return FALSE;
    ret->supported = 0;
    for (gsize i = 0; own && own[i]; i++) {
        if (own[i] == args->feature)
            ret->supported = 1;
    }
    return TRUE;
}

void
sv_domain_connect_install(SvRemoteHandlers *h)
{
    h->connect_open = connect_open;
    h->connect_get_uri = connect_get_uri;
    h->connect_get_type = connect_get_type;
    h->connect_supports_feature = connect_supports_feature;
}

void
sv_connect_install(SvRemoteHandlers *h, const SvConnectFacts *facts)
{
    own_facts = facts;
    h->connect_open = connect_open;
    h->connect_get_uri = connect_get_uri;
    h->connect_get_type = connect_get_type;
}
