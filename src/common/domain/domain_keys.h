/* domain_keys.h: the key code sets of virDomainSendKey (libvirt's virKeycodeSet) and the
 * translation of a key code from one set to another, as libvirt translates them. */
#pragma once

#include <glib.h>

#include "programs/remote.h"
#include "protocol/sv_wire_constants.h"

/* The sets are libvirt's VIR_KEYCODE_SET_* (protocol/sv_wire_constants.h: SV_KEYCODE_SET_*;
 * XT is AT set 1, as in libvirt). */

/* One key: its code in each set (domain_keytable.c, generated from keycodemapdb). */
typedef struct {
    guint16 linux_code, atset1, atset2, atset3, osx, xtkbd, usb, win32, qnum;
} SvKeyRow;

extern const SvKeyRow sv_key_table[];
extern const gsize sv_key_table_len;

/* libvirt's name of a set ("linux", ..., "qnum"), or NULL beyond them. */
const char *sv_keycode_set_name(guint set);

/* value of set `from` in set `to`: the first key whose code in `from` is value gives its
 * code in `to` (0 where that key has none), as libvirt; -1 when no key has it (or a set is
 * unknown). */
int sv_keycode_translate(guint from, guint to, guint value);

/* virDomainSendKey's checks of its arguments, which libvirt's daemon runs too before any
 * driver: at least one key, at most VIR_DOMAIN_SEND_KEY_MAX_KEYS (16, the wire's bound
 * REMOTE_DOMAIN_SEND_KEY_MAX, which refuses more before this), a known set. */
gboolean sv_domain_send_key_check(guint codeset, guint nkeys, GError **error);

/* For a driver without keys, NMIs, screenshots, block resizes or local display connections
 * (libvirt's lxc and libxl drivers): SEND_KEY, INJECT_NMI, SCREENSHOT, BLOCK_RESIZE and
 * OPEN_GRAPHICS_FD answered NO_SUPPORT, "this
 * function is not supported by the connection driver: virDomainSendKey" (send-key after its
 * argument checks), whatever the domain. */
void sv_domain_guestops_install_no_support(SvRemoteHandlers *h);
