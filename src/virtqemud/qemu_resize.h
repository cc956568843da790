/* qemu_resize.h: virtqemud's memory and vcpu procedures (issue 18, metadata and tuning). */
#pragma once

#include <json-glib/json-glib.h>

#include "domain/domain_driver.h"

/* Serve SET_MEMORY(_FLAGS), SET_MAX_MEMORY and SET_VCPUS(_FLAGS) for drv in h, a running
 * guest's memory through its balloon. */
void qemu_resize_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* QEMU's BALLOON_CHANGE event on a running guest: its live <currentMemory> becomes the
 * guest's actual size (KiB, rounded up), saved, and clients get the BALLOON_CHANGE event in
 * both registration forms, as libvirt 9.0 does. */
void qemu_resize_balloon_changed(SvDomainObj *obj, JsonObject *data);
