/* domain_modify.h: the definitions a change to a domain reaches (its live one, its
 * persistent one, or both, as the AFFECT_* flags say) and the change put on disk, as
 * libvirt's virDomainObjGetDefs and virDomainObjGetOneDef choose them. */
#pragma once

#include "domain/domain_driver.h"

/* Which definitions *flags (SV_DOMAIN_AFFECT_*; CURRENT means LIVE for a running domain,
 * CONFIG for another, and *flags says so on return) reach: *live the running one (NULL
 * unless LIVE), *config the persistent one (NULL unless CONFIG, or the only one of an
 * inactive domain). libvirt's errors for LIVE on an inactive domain and CONFIG on a
 * transient one. */
gboolean sv_domain_modify_defs(SvDomainObj *obj, guint *flags, SvDomainDef **live,
                               SvDomainDef **config, GError **error);

/* The one definition a read with flags (LIVE or CONFIG or CURRENT) asks for, with the
 * same errors. (transfer none) */
SvDomainDef *sv_domain_modify_one_def(SvDomainObj *obj, guint flags, GError **error);

/* Put obj's changed definitions on disk: its status file when `live` changed, its
 * persistent definition when `config` did; done(error, data) runs on the loop once both
 * are written (error: the definition could not be saved). */
void sv_domain_modify_save(SvDomainDriver *drv, SvDomainObj *obj, gboolean live,
                           gboolean config, SvStoreDoneFunc done, gpointer data);

/* A done function for sv_domain_modify_save whose data is the deferred call that asked for
 * the change: it is answered (an empty reply, or the error). */
void sv_domain_modify_reply_call(const GError *error, gpointer call);

/* The end of a change to obj's definitions (live, config: those it reached): when
 * `applied`, both are put on disk and the call is answered once they are (TRUE); when not,
 * what already reached the running guest is recorded in its status file and FALSE is
 * returned, for the call to fail with the error set. */
gboolean sv_domain_modify_finish(SvCall *call, SvDomainDriver *drv, SvDomainObj *obj,
                                 SvDomainDef *live, SvDomainDef *config, gboolean applied);
