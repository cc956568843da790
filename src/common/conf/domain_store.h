/* domain_store.h: definitions on disk (DIR/NAME.xml, autostart links), written off the loop. */
#pragma once

#include <glib.h>

#include "conf/domain_obj.h"

typedef struct SvDomainStore SvDomainStore;

/* Completion of an asynchronous store operation, on the loop; error is NULL on
 * success (transfer none). */
typedef void (*SvStoreDoneFunc)(const GError *error, gpointer data);

/* config_dir: ROOT/etc/libvirt/DRIVER; autostart links live in config_dir/autostart. */
SvDomainStore *sv_domain_store_new(const char *config_dir);
void sv_domain_store_free(SvDomainStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainStore, sv_domain_store_free)

const char *sv_domain_store_get_dir(SvDomainStore *store);

/* Load every NAME.xml into list as persistent, inactive domains. A file that
 * does not parse, or whose name does not match its file, is logged with its
 * path and skipped; `check` (given data) may refuse definitions the driver cannot run.
 * Temporary files of writes a killed daemon never finished are removed, so
 * they do not pile up; call it before any write is queued. Returns the number
 * loaded. */
guint sv_domain_store_load_all(SvDomainStore *store, SvDomainList *list,
                               gboolean (*check)(SvDomainDef *def, gpointer data,
                                                 GError **error),
                               gpointer data);

/* Durably write (xml) or remove a definition, and set or clear its autostart
 * link. Operations complete in the order they were asked for. */
void sv_domain_store_save_async(SvDomainStore *store, const char *name, const char *xml,
                                SvStoreDoneFunc done, gpointer data);
void sv_domain_store_remove_async(SvDomainStore *store, const char *name, SvStoreDoneFunc done,
                                  gpointer data);
void sv_domain_store_autostart_async(SvDomainStore *store, const char *name, gboolean on,
                                     SvStoreDoneFunc done, gpointer data);

/* Run a write on the store's worker, for other files that need the same
 * durability and ordering (status files). */
void sv_domain_store_write_file_async(SvDomainStore *store, const char *path, const char *data,
                                      SvStoreDoneFunc done, gpointer user_data);
void sv_domain_store_remove_file_async(SvDomainStore *store, const char *path,
                                       SvStoreDoneFunc done, gpointer user_data);

/* done runs once every operation queued before it has completed (a reply that
 * must not overtake the state it reports). */
void sv_domain_store_barrier_async(SvDomainStore *store, SvStoreDoneFunc done, gpointer data);

/* Wait until every queued operation has completed (shutdown, tests). */
void sv_domain_store_flush(SvDomainStore *store);
