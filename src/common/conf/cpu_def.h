/* cpu_def.h: a standalone CPU definition (<cpu> as virConnectCompareCPU and
 * virConnectBaselineCPU take it), read as libvirt 9.0's virCPUDefParseXMLString does. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

typedef struct {
    gboolean host;      /* a host CPU (<arch> given, or asked for): no mode, match or policy */
    int mode;           /* SvDomainCpuMode of a guest CPU; -1 for a host CPU */
    int match;          /* SvDomainCpuMatch */
    char *arch;         /* NULL for a guest CPU */
    char *model;        /* NULL when none */
    char *vendor;
    gboolean fallback_forbid; /* a computed guest CPU: <model fallback='forbid'> */
    GPtrArray *features; /* of SvDomainCpuFeatureDef, in document order; a host CPU's
                            features have policy -1 (read as int) */
} SvCpuDef;

void sv_cpu_def_free(SvCpuDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvCpuDef, sv_cpu_def_free)

/* Whether `arch` is one of libvirt's architecture names (virArch). */
gboolean sv_arch_is_known(const char *arch);

/* Read `xml`, whose root must be <cpu>. With `host` it is a host CPU (baselineCPU's
 * inputs); otherwise it is one when it has <arch> (libvirt's VIR_CPU_TYPE_AUTO). Errors are
 * libvirt's, in the CPU error domain, in the order its parser finds them; the parse errors
 * name the document "(CPU_definition)". Returns (transfer full) the definition, or NULL with
 * `error` set. */
SvCpuDef *sv_cpu_def_parse(const char *xml, gboolean host, GError **error);
