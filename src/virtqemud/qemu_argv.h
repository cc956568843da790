/* qemu_argv.h: writing QEMU options safely. Every value that comes from a definition goes
 * either into a JSON object (-device, -blockdev, -netdev, -object take JSON in QEMU 7.2:
 * json-glib escapes it, so no value can add a key or an option), or, for options without a
 * JSON form, through qemu_argv_escape(). Nothing from XML is ever an argument of its own
 * except where QEMU reads the whole next argument as the value (-kernel, -append ...). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"

void qemu_argv_add(GPtrArray *argv, const char *a);
void qemu_argv_addf(GPtrArray *argv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* `s` with every comma doubled, for QEMU's key=value option syntax. (transfer full) */
char *qemu_argv_escape(const char *s);

/* A JSON object for one -device (`driver`) or other JSON option, to fill with the setters
 * below and hand to qemu_argv_add_json(). Keys appear in the order they are set, as in
 * libvirt's command lines. NULL driver: no "driver" key (-blockdev uses "driver" too, so
 * pass it; -object uses "qom-type": set it with qemu_props_str). */
JsonObject *qemu_props_new(const char *driver);
/* Set string `key`; a NULL value sets nothing. */
void qemu_props_str(JsonObject *o, const char *key, const char *value);
void qemu_props_int(JsonObject *o, const char *key, gint64 value);
void qemu_props_bool(JsonObject *o, const char *key, gboolean value);
/* Set `key` to `value` (transfer full) when not NULL. */
void qemu_props_obj(JsonObject *o, const char *key, JsonObject *value);

/* The device's place and name as libvirt writes them: "bus" and "addr" for a PCI address
 * ("pci.0" or, on q35, "pcie.0" for bus 0, else "pci.N"; "0xS" or "0xS.0xF"), "bus" and
 * "port" for a USB one ("usb.0", "usb1.0": the controller's alias; "1", "1.2"),
 * "multifunction", "id" (the alias) and "bootindex". Nothing for parts info lacks. */
void qemu_props_device_info(JsonObject *o, const SvDomainDef *def,
                            const SvDomainDeviceInfo *info);

/* Append `option` and the object `o` as compact JSON; frees `o`. */
void qemu_argv_add_json(GPtrArray *argv, const char *option, JsonObject *o);

/* Whether the machine is a q35 ("q35", "pc-q35-*"). */
gboolean qemu_machine_is_q35(const SvDomainDef *def);
