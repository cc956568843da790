/* secret_def.h: a secret's definition, its XML read and written as libvirt 9.0's
 * secret_conf.c does (the value is not part of it). */
#pragma once

#include <glib.h>

#include "protocol/sv_wire_constants.h"

typedef struct {
    guint8 uuid[16];
    gboolean ephemeral;   /* never written to disk */
    gboolean is_private;  /* its value never given to a client */
    char *description;    /* NULL: none */
    int usage_type;       /* SV_SECRET_USAGE_TYPE_* */
    char *usage_id;       /* the volume path, Ceph/TLS/vTPM name or iSCSI target; NULL for
                             usage type none */
} SvSecretDef;

void sv_secret_def_free(SvSecretDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvSecretDef, sv_secret_def_free)

/* libvirt's names of the usage types ("none", "volume", "ceph", "iscsi", "tls", "vtpm"):
 * NULL / -1 outside them. */
const char *sv_secret_usage_type_to_string(int type);
int sv_secret_usage_type_from_string(const char *s);

/* Parse a secret's XML with libvirt's errors (error domain SECRET); a missing <uuid> gets a
 * random one. (transfer full) */
SvSecretDef *sv_secret_def_parse(const char *xml, GError **error);

/* The XML libvirt writes for def (GET_XML_DESC and the file on disk). (transfer full) */
char *sv_secret_def_format(const SvSecretDef *def);
