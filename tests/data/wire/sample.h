/* sv_wire_constants.h: libvirt 9.0.0's numbers on the wire, generated from
 * sample.tsv by gen_wire_constants.py. Do not edit. */
#pragma once

/* virSampleState */
typedef enum {
    SV_SAMPLE_OFF        = 0, /* VIR_SAMPLE_OFF */
    SV_SAMPLE_ON         = 1, /* VIR_SAMPLE_ON */
    SV_SAMPLE_STATE_LAST = 2
} SvSampleState;

/* virSampleFlags */
typedef enum {
    SV_SAMPLE_FIRST      = 1, /* VIR_SAMPLE_FIRST */
    SV_SAMPLE_ALSO_FIRST = SV_SAMPLE_FIRST, /* VIR_SAMPLE_ALSO_FIRST */
    SV_SAMPLE_THIRD_BIT  = 4, /* VIR_SAMPLE_THIRD_BIT */
    SV_SAMPLE_FLAGS_ALL  = 0x5
} SvSampleFlags;
