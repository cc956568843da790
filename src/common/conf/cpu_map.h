/* cpu_map.h: libvirt's x86 CPU map (index.xml and the x86_*.xml files it includes), read at
 * run time from where libvirt0 installs it, and the CPUID/MSR data sets the x86 CPU code
 * (cpu_x86.c) computes with. */
#pragma once

#include <glib.h>

/* Where Debian's libvirt0 installs the map. */
#define SV_CPU_MAP_DIR_DEFAULT "/usr/share/libvirt/cpu_map"

typedef enum {
    SV_CPU_ITEM_CPUID,
    SV_CPU_ITEM_MSR,
} SvCpuItemType;

/* One CPUID leaf (in: eax_in, ecx_in; reg: eax, ebx, ecx, edx) or one MSR (in: index, 0;
 * reg: eax, 0, 0, edx). Items of a data set are unique by (type, in) and sorted by it. */
typedef struct {
    SvCpuItemType type;
    guint32 in[2];
    guint32 reg[4];
} SvCpuItem;

/* A data set: a GArray of SvCpuItem. */
GArray *sv_cpu_data_new(void);
GArray *sv_cpu_data_copy(const GArray *data);
/* OR `item` into `data` (inserted in order when new). */
void sv_cpu_data_add_item(GArray *data, const SvCpuItem *item);
void sv_cpu_data_add(GArray *data, const GArray *other);
void sv_cpu_data_subtract(GArray *data, const GArray *other);
void sv_cpu_data_intersect(GArray *data, const GArray *other);
gboolean sv_cpu_data_is_empty(const GArray *data);
/* Whether every bit of `subset` is set in `data`. */
gboolean sv_cpu_data_is_subset(const GArray *data, const GArray *subset);
/* The item of `data` with the key of `key`, or NULL. (transfer none) */
SvCpuItem *sv_cpu_data_get(const GArray *data, const SvCpuItem *key);

/* Leaf 0's item for a 12-character vendor string ("AuthenticAMD"). */
void sv_cpu_vendor_item(const char *string, SvCpuItem *out);
/* Set leaf 1's eax to the signature of family, model, stepping (bits OR'ed in). */
void sv_cpu_data_set_signature(GArray *data, guint family, guint model, guint stepping);

typedef struct {
    char *name;
    SvCpuItem item; /* leaf 0's ebx, edx, ecx: the vendor string */
} SvCpuVendor;

typedef struct {
    char *name;
    GArray *data;
    gboolean migratable;
} SvCpuFeature;

typedef struct {
    guint family, model;
    guint16 steppings; /* a bit per stepping; 0xffff when the map names none */
} SvCpuSignature;

typedef struct {
    char *name;
    gboolean decode_host, decode_guest;
    const SvCpuVendor *vendor; /* NULL when the model has none */
    GArray *signatures;        /* of SvCpuSignature */
    GArray *data;
    GStrv removed; /* features the model lists as removed='yes' */
} SvCpuModel;

typedef struct {
    GPtrArray *vendors;  /* of SvCpuVendor, in map order */
    GPtrArray *features; /* of SvCpuFeature, in map order */
    GPtrArray *models;   /* of SvCpuModel, in map order (newest last) */
} SvCpuMap;

void sv_cpu_map_free(SvCpuMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvCpuMap, sv_cpu_map_free)

/* Read the x86 part of the map in `dir` (index.xml and its includes), as libvirt's
 * cpuMapLoad does: vendors, features and models of each file in that order, files in the
 * order index.xml includes them. A missing or malformed map is an error (INTERNAL_ERROR in
 * the CPU domain) naming the file. (transfer full) */
SvCpuMap *sv_cpu_map_load(const char *dir, GError **error);

/* The map of the system (SV_CPU_MAP_DIR_DEFAULT, or $SV_CPU_MAP_DIR when set), read once and
 * kept; NULL with error set while it cannot be read (tried again on the next call).
 * (transfer none) */
const SvCpuMap *sv_cpu_map_get(GError **error);

const SvCpuFeature *sv_cpu_map_feature(const SvCpuMap *map, const char *name);
const SvCpuModel *sv_cpu_map_model(const SvCpuMap *map, const char *name);
const SvCpuVendor *sv_cpu_map_vendor(const SvCpuMap *map, const char *name);

/* Read a <cpudata arch='x86'> document (libvirt's test data format: <cpuid> and <msr>
 * elements) into a data set. (transfer full) */
GArray *sv_cpu_data_parse(const char *xml, GError **error);
