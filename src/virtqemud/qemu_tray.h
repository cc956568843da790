/* qemu_tray.h: QEMU's DEVICE_TRAY_MOVED followed in the live XML, the status file and a
 * TRAY_CHANGE event (issue 18 item 2, the events of media changes). */
#pragma once

#include "conf/domain_obj.h"
#include "qemu_monitor.h"

/* A running obj's DEVICE_TRAY_MOVED event, with QEMU's data. */
void qemu_tray_moved(SvDomainObj *obj, JsonObject *data);
