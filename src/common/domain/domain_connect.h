/* domain_connect.h: the connection procedures every hypervisor driver serves the same way,
 * from a few facts of its own: CONNECT_OPEN's URI check, CONNECT_GET_URI, CONNECT_GET_TYPE
 * and CONNECT_SUPPORTS_FEATURE. (GET_VERSION and GET_MAX_VCPUS ask the hypervisor: the
 * driver's.) */
#pragma once

#include "programs/remote.h"

typedef struct {
    const char *scheme;        /* the URI scheme served: "qemu" */
    const char *const *paths;  /* the URI paths accepted, NULL-terminated ("": none) */
    const char *path_error;    /* libvirt's words for another path: "unexpected qemu URI
                                  path" ('PATH', try DEFAULT_URI follows) */
    int path_error_from;       /* and the error domain libvirt gives it */
    const char *default_uri;   /* what an empty URI means: "qemu:///system" */
    gboolean uri_is_default;   /* CONNECT_GET_URI always says default_uri (libvirt's LXC
                                  driver); else the scheme and the path opened */
    const char *type;          /* CONNECT_GET_TYPE: "QEMU" */
    const int *features;       /* the driver's own VIR_DRV_FEATURE_* answered 1 (the
                                  protocol's are the remote program's), 0-terminated */
} SvConnectFacts;

/* The URI a connection reports for `name` as CONNECT_OPEN gives it (transport, host and
 * the parameters meant for the client already removed), or NULL with libvirt's error:
 * NO_CONNECT naming it for another scheme, the driver's error for another path. */
char *sv_connect_check_uri(const SvConnectFacts *facts, const char *name, GError **error);

/* Serve CONNECT_OPEN, CONNECT_GET_URI, CONNECT_GET_TYPE and CONNECT_SUPPORTS_FEATURE in h
 * from the facts of the call's domain driver (SvDomainDriver.connect). */
void sv_domain_connect_install(SvRemoteHandlers *h);

/* For a daemon without a domain driver (the secondary drivers): serve CONNECT_OPEN,
 * CONNECT_GET_URI and CONNECT_GET_TYPE in h from facts (static; one set per daemon). */
void sv_connect_install(SvRemoteHandlers *h, const SvConnectFacts *facts);
