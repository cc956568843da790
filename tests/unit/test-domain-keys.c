/* test-domain-keys.c: key codes translated between libvirt's code sets
 * (domain/domain_keys.h) as libvirt 9.0 translates them for QEMU's send-key: to qnum, AT
 * set 1 with 0xe0-prefixed codes as 0x80 | code; XT is AT set 1; a key a set lacks gives
 * that set's KEY_RESERVED value; a code no key has, -1. */
#include "domain/domain_keys.h"

static void test_to_qnum(void)
{
    /* KEY_A in every set. */
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 30), ==, 0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_XT, SV_KEYCODE_SET_QNUM, 0x1e), ==, 0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_ATSET2, SV_KEYCODE_SET_QNUM, 0x1c), ==,
                    0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_ATSET3, SV_KEYCODE_SET_QNUM, 0x1c), ==,
                    0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_OSX, SV_KEYCODE_SET_QNUM, 0x00), ==, 0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_USB, SV_KEYCODE_SET_QNUM, 4), ==, 0x1e);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_WIN32, SV_KEYCODE_SET_QNUM, 0x41), ==,
                    0x1e);
    /* Right control: AT set 1 0xe01d, the Linux keyboard driver's 0x11d, qnum 0x9d. */
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 97), ==, 0x9d);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_ATSET1, SV_KEYCODE_SET_QNUM, 0xe01d), ==,
                    0x9d);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_XT_KBD, SV_KEYCODE_SET_QNUM, 0x11d), ==,
                    0x9d);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_ATSET2, SV_KEYCODE_SET_QNUM, 0xe014), ==,
                    0x9d);
    /* Delete (AT set 1 0xe053) and SysRq (0x54). */
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 111), ==, 0xd3);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 99), ==, 0x54);
    /* Back from qnum the first key with the code wins, as in libvirt: Linux 84 shares 0x54. */
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_QNUM, SV_KEYCODE_SET_LINUX, 0x54), ==, 84);
}

static void test_unknown(void)
{
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 9999), ==, -1);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_WIN32, SV_KEYCODE_SET_QNUM, 700), ==, -1);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LAST, SV_KEYCODE_SET_QNUM, 30), ==, -1);
    /* 0 is KEY_RESERVED's code: it exists, and has 0 in every set but os_x (0xff). */
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_QNUM, 0), ==, 0);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_LINUX, SV_KEYCODE_SET_OSX, 0), ==, 0xff);
    g_assert_cmpint(sv_keycode_translate(SV_KEYCODE_SET_OSX, SV_KEYCODE_SET_QNUM, 0xff), ==, 0);
    g_assert_cmpstr(sv_keycode_set_name(SV_KEYCODE_SET_XT_KBD), ==, "xt_kbd");
    g_assert_cmpstr(sv_keycode_set_name(SV_KEYCODE_SET_QNUM), ==, "qnum");
    g_assert_null(sv_keycode_set_name(SV_KEYCODE_SET_LAST));
}

/* The table is keyed by Linux code, ascending and unique, as libvirt's. */
static void test_table_order(void)
{
    g_assert_cmpuint(sv_key_table_len, >, 400);
    for (gsize i = 1; i < sv_key_table_len; i++)
        g_assert_cmpuint(sv_key_table[i - 1].linux_code, <, sv_key_table[i].linux_code);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-keys/to-qnum", test_to_qnum);
    g_test_add_func("/domain-keys/unknown", test_unknown);
    g_test_add_func("/domain-keys/table-order", test_table_order);
    return g_test_run();
}
