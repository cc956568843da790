/* qemu_display.h: the display devices (graphics, video, input, sound, audio, redirdev) in the
 * QEMU driver: libvirt's defaults and checks at define, the checks at start, and the
 * command line. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "qemu_monitor.h"
#include "qemu_ports.h"

/* libvirt's QEMU defaults at define (qemu_postparse.c): implicit ps2 mouse and keyboard on
 * x86, the default video model and its sizes, the primary video, the default <audio>; then
 * libvirt's QEMU define-time refusals of display devices. */
gboolean qemu_display_post_parse(SvDomainDef *def, GError **error);

/* libvirt's QEMU refusals of one display at define and when update-device gives it: rdp
 * and desktop, a spice TLS port (TLS is off), a VNC password longer than 8 characters. */
gboolean qemu_display_check_graphics(const SvDomainGraphicsDef *g, GError **error);

/* What this daemon cannot start though libvirt defines it (sdl, egl-headless and dbus
 * displays, audio backends other than none and spice, some sound models, listens on a
 * network). */
gboolean qemu_display_check_start(const SvDomainDef *def, GError **error);

/* What the command line needs of the live state qemu_display_prepare() gives (a socket
 * path): FALSE, as a programming error's CONFIG_UNSUPPORTED, without it. */
gboolean qemu_display_check_prepared(const SvDomainDef *def, GError **error);

/* Append the display options (-audiodev, -vnc, -spice, -k, the display's -device, -chardev
 * for usb redirection), or "-display none" when there is no display. Values from the
 * definition go into JSON or through qemu_argv_escape(); passwords never appear. */
void qemu_display_build(const SvDomainDef *def, GPtrArray *argv);

/* Name the video, input, sound and redirdev devices as libvirt does ("video0", "input0",
 * "sound0", "redir0"). */
void qemu_display_assign_aliases(SvDomainDef *def);

/* The live state a start gives a guest's displays (`live` is the run's definition): the
 * default listen address, a socket in the guest's directory `dir` where none is named, a
 * port from `ports` for each autoport display and one from `websockets` for a vnc
 * websocket='-1'; the ports a definition names are taken too (libvirt's error when another
 * guest has one). Taken ports are in `live`, so a failure half way is undone by
 * qemu_display_release() with the rest of the run. */
gboolean qemu_display_prepare(SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets,
                              const char *dir, GError **error);

/* The run is over: give back the ports its displays took (those marked reserved in `live`;
 * a start that failed to reserve a port another guest has gives that one nothing back). */
void qemu_display_release(const SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets);

/* Remove the display sockets QEMU left in the guest's directory `dir` (those
 * qemu_display_prepare() named there); sockets elsewhere are the definition's, left alone. */
void qemu_display_remove_sockets(const SvDomainDef *live, const char *dir);

/* A guest found running after a restart keeps the ports its live definition shows. */
void qemu_display_reserve(SvDomainDef *live, QemuPorts *ports, QemuPorts *websockets);

/* Before the guest runs: send the display passwords (set_password, expire_password), which
 * never go on the command line. `done` gets each reply; TRUE when anything was sent. */
gboolean qemu_display_set_passwords(QemuMonitor *mon, const SvDomainDef *def,
                                    QemuMonitorReplyFunc done, gpointer data);
