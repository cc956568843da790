/* domain_keys.c: key code sets and their translation (domain_keys.h). */
#include "domain_keys.h"

#include "util/error.h"

static const char *const set_names[SV_KEYCODE_SET_LAST] = {
    "linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum",
};

const char *
sv_keycode_set_name(guint set)
{
    return set < SV_KEYCODE_SET_LAST ? set_names[set] : NULL;
}

static guint16
code_in(const SvKeyRow *row, guint set)
{
    switch (set) {
    case SV_KEYCODE_SET_LINUX:
        return row->linux_code;
    case SV_KEYCODE_SET_XT:
    case SV_KEYCODE_SET_ATSET1:
        return row->atset1;
    case SV_KEYCODE_SET_ATSET2:
        return row->atset2;
    case SV_KEYCODE_SET_ATSET3:
        return row->atset3;
    case SV_KEYCODE_SET_OSX:
        return row->osx;
    case SV_KEYCODE_SET_XT_KBD:
        return row->xtkbd;
    case SV_KEYCODE_SET_USB:
        return row->usb;
    case SV_KEYCODE_SET_WIN32:
        return row->win32;
    default:
        return row->qnum;
    }
}

int
sv_keycode_translate(guint from, guint to, guint value)
{
    if (from >= SV_KEYCODE_SET_LAST || to >= SV_KEYCODE_SET_LAST || value > G_MAXINT)
        return -1;
    for (gsize i = 0; i < sv_key_table_len; i++) {
        if (code_in(&sv_key_table[i], from) == value)
            return code_in(&sv_key_table[i], to);
    }
    return -1;
}

gboolean
sv_domain_send_key_check(guint codeset, guint nkeys, GError **error)
{
    if (nkeys == 0) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "nkeycodes in virDomainSendKey must be greater than zero");
        return FALSE;
    }
    if (nkeys > REMOTE_DOMAIN_SEND_KEY_MAX) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "nkeycodes must be <= %d", REMOTE_DOMAIN_SEND_KEY_MAX);
        return FALSE;
    }
    if (codeset >= SV_KEYCODE_SET_LAST) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "Unsupported codeset '%d'", (int)codeset);
        return FALSE;
    }
    return TRUE;
}

static gboolean
send_key_no_support(SvCall *call, remote_domain_send_key_args *a, GError **error)
{
    (void)call;
    if (!sv_domain_send_key_check(a->codeset, a->keycodes.keycodes_len, error))
        return FALSE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainSendKey");
    return FALSE;
}

static gboolean
inject_nmi_no_support(SvCall *call, remote_domain_inject_nmi_args *a, GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainInjectNMI");
    return FALSE;
}

static gboolean
screenshot_no_support(SvCall *call, remote_domain_screenshot_args *a,
                      remote_domain_screenshot_ret *r, GError **error)
{
    (void)call;
    (void)a;
    (void)r;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainScreenshot");
    return FALSE;
}

static gboolean
open_graphics_fd_no_support(SvCall *call, remote_domain_open_graphics_fd_args *a,
                            GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainOpenGraphicsFD");
    return FALSE;
}

static gboolean
block_resize_no_support(SvCall *call, remote_domain_block_resize_args *a, GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainBlockResize");
    return FALSE;
}

void
sv_domain_guestops_install_no_support(SvRemoteHandlers *h)
{
    h->domain_send_key = send_key_no_support;
    h->domain_inject_nmi = inject_nmi_no_support;
    h->domain_screenshot = screenshot_no_support;
    h->domain_block_resize = block_resize_no_support;
    /* issue 18 item 2, OPEN_GRAPHICS_FD: neither libvirt's lxc nor its libxl driver has it */
    h->domain_open_graphics_fd = open_graphics_fd_no_support;
}
