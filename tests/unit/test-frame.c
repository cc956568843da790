/* test-frame.c: the frame reader: partial and split reads, bad lengths, headers. */
#include <string.h>

#include "protocol/sv_net.h"
#include "rpc/frame.h"
#include "rpc/message.h"
#include "util/error.h"

static GByteArray *
make_frame(guint32 len_word, gsize body)
{
    GByteArray *b = g_byte_array_new();
    guint8 w[4];

    sv_put_be32(w, len_word);
    g_byte_array_append(b, w, 4);
    for (gsize i = 0; i < body; i++) {
        guint8 c = (guint8)i;
        g_byte_array_append(b, &c, 1);
    }
    return b;
}

/* Feed `data` in pieces of `step` bytes; count whole frames. */
static int
feed(SvFrameReader *r, const guint8 *data, gsize len, gsize step, GError **error)
{
    int frames = 0;

    for (gsize off = 0; off < len;) {
        gsize size, n;
        guint8 *space = sv_frame_reader_space(r, &size);
        const guint8 *f;
        gsize flen;

        n = MIN(MIN(step, size), len - off);
        memcpy(space, data + off, n);
        sv_frame_reader_commit(r, n);
        off += n;
        while ((f = sv_frame_reader_next(r, &flen, error))) {
            g_assert_cmpuint(flen, ==, sv_be32(f));
            frames++;
        }
        if (*error)
            return frames;
    }
    return frames;
}

static void
test_byte_at_a_time(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(SV_MESSAGE_MAX);
    g_autoptr(GByteArray) f = make_frame(40, 36);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(feed(r, f->data, f->len, 1, &error), ==, 1);
    g_assert_no_error(error);
    g_assert_cmpuint(sv_frame_reader_pending(r), ==, 0);
}

static void
test_many_in_one_read(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(SV_MESSAGE_MAX);
    g_autoptr(GByteArray) all = g_byte_array_new();
    g_autoptr(GError) error = NULL;

    for (int i = 0; i < 50; i++) {
        g_autoptr(GByteArray) f = make_frame(28 + 4 * i, 24 + 4 * i);
        g_byte_array_append(all, f->data, f->len);
    }
    /* One big read, then reads that split frames at odd places. */
    g_assert_cmpint(feed(r, all->data, all->len, all->len, &error), ==, 50);
    g_assert_cmpint(feed(r, all->data, all->len, 7, &error), ==, 50);
    g_assert_cmpint(feed(r, all->data, all->len, 4096, &error), ==, 50);
    g_assert_no_error(error);
}

static void
test_large_frame(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(SV_MESSAGE_MAX);
    gsize body = 3 * 1024 * 1024;
    g_autoptr(GByteArray) f = make_frame(4 + body, body);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(feed(r, f->data, f->len, 65536, &error), ==, 1);
    g_assert_no_error(error);
}

static void
expect_bad_length(guint32 len_word, gsize max)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(max);
    g_autoptr(GByteArray) f = make_frame(len_word, 24);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(feed(r, f->data, f->len, f->len, &error), ==, 0);
    g_assert_error(error, sv_error_quark(SV_FROM_RPC), SV_ERR_RPC);
}

static void
test_bad_lengths(void)
{
    expect_bad_length(0, SV_MESSAGE_MAX);
    expect_bad_length(4, SV_MESSAGE_MAX);
    expect_bad_length(27, SV_MESSAGE_MAX);
    expect_bad_length(SV_MESSAGE_MAX + 5, SV_MESSAGE_MAX);
    expect_bad_length(0xffffffffu, SV_MESSAGE_MAX);
    expect_bad_length(4096 + 5, 4096); /* a configured, smaller limit */
}

static void
test_exact_limits(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(100);
    g_autoptr(GByteArray) f = make_frame(104, 100);
    g_autoptr(GByteArray) m = make_frame(28, 24);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(feed(r, f->data, f->len, 3, &error), ==, 1);
    g_assert_cmpint(feed(r, m->data, m->len, 3, &error), ==, 1);
    g_assert_no_error(error);
}

static void
test_header(void)
{
    SvHeader h = {0x20008086, 1, 273, 0, 0xdeadbeef, 2}, back;
    guint8 buf[24];
    static const guint8 want[24] = {0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 1, 0x11,
                                    0,    0,    0,    0,    0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 2};

    sv_header_encode(buf, &h);
    g_assert_cmpmem(buf, 24, want, 24);
    sv_header_decode(buf, &back);
    g_assert_cmpmem(&h, sizeof(h), &back, sizeof(back));
    h.proc = -1;
    sv_header_encode(buf, &h);
    sv_header_decode(buf, &back);
    g_assert_cmpint(back.proc, ==, -1);
}

/* A length word promising the largest frame reserves nothing: the buffer grows with
 * the bytes that arrive (issue 15: a client could make the daemon reserve 32 MiB with
 * four bytes, before it had even opened its connection). */
static void
test_grows_with_bytes_not_promises(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(SV_MESSAGE_MAX);
    g_autoptr(GError) error = NULL;
    gsize size, got = 0, len;
    guint8 *space = sv_frame_reader_space(r, &size);

    sv_put_be32(space, SV_MESSAGE_MAX + SV_FRAME_LEN_SIZE);
    memset(space + 4, 0, 24);
    sv_frame_reader_commit(r, 28);
    g_assert_null(sv_frame_reader_next(r, &len, &error));
    g_assert_no_error(error);
    space = sv_frame_reader_space(r, &size);
    g_assert_cmpuint(size, <, 64 * 1024);
    /* After a MiB has come, room for about as much again, not for the 32 promised. */
    while (got < 1024 * 1024) {
        space = sv_frame_reader_space(r, &size);
        memset(space, 0xab, size);
        sv_frame_reader_commit(r, size);
        got += size;
    }
    sv_frame_reader_space(r, &size);
    g_assert_cmpuint(size, <=, 2 * got);
    g_assert_null(sv_frame_reader_next(r, &len, &error));
    g_assert_no_error(error);
}

/* peek leaves the frame first; consume drops it, and then bytes outside the framing. */
static void
test_peek_and_consume(void)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(SV_MESSAGE_MAX);
    g_autoptr(GByteArray) a = make_frame(32, 28);
    g_autoptr(GByteArray) b = make_frame(28, 24);
    g_autoptr(GError) error = NULL;
    const guint8 *f, *g;
    gsize size, len;
    guint8 *space = sv_frame_reader_space(r, &size);

    memcpy(space, a->data, a->len);
    space[a->len] = 0; /* a byte outside the framing */
    memcpy(space + a->len + 1, b->data, b->len);
    sv_frame_reader_commit(r, a->len + 1 + b->len);
    f = sv_frame_reader_peek(r, &len, &error);
    g_assert_nonnull(f);
    g_assert_cmpuint(len, ==, 32);
    g = sv_frame_reader_peek(r, &len, &error);
    g_assert_true(f == g);
    sv_frame_reader_consume(r, len + 1);
    g_assert_cmpuint(sv_be32(f), ==, 32); /* still readable after consume */
    g_assert_cmpuint(sv_frame_reader_pending(r), ==, 28);
    f = sv_frame_reader_next(r, &len, &error);
    g_assert_nonnull(f);
    g_assert_cmpuint(len, ==, 28);
    g_assert_cmpuint(sv_frame_reader_pending(r), ==, 0);
    g_assert_no_error(error);
}

/* A reply with a descriptor, as libvirt frames it: type REPLY_WITH_FDS, the count after the
 * header, the payload unchanged; then the descriptor's one 0x00 byte. */
static void
test_with_fds(void)
{
    SvHeader h = {0x20008086, 1, 343, SV_NET_REPLY, 7, SV_NET_OK}, got;
    SvMsg *m = sv_msg_new_raw(&h, "abcd", 4);
    SvMsg *b;

    m = sv_msg_with_fds(m, SV_NET_REPLY_WITH_FDS, 1);
    g_assert_cmpuint(m->len, ==, SV_FRAME_MIN + 8);
    g_assert_cmpuint(sv_be32(m->data), ==, m->len);
    sv_header_decode(m->data + SV_FRAME_LEN_SIZE, &got);
    g_assert_cmpuint(got.type, ==, SV_NET_REPLY_WITH_FDS);
    g_assert_cmpuint(got.proc, ==, 343);
    g_assert_cmpuint(got.serial, ==, 7);
    g_assert_cmpuint(sv_be32(m->data + SV_FRAME_MIN), ==, 1);
    g_assert_cmpmem(m->data + SV_FRAME_MIN + 4, 4, "abcd", 4);
    g_assert_cmpint(m->fd, ==, -1);
    b = sv_msg_new_fd(42);
    g_assert_cmpuint(b->len, ==, 1);
    g_assert_cmpuint(b->data[0], ==, 0);
    g_assert_cmpint(b->fd, ==, 42);
    g_free(b);
    g_free(m);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/frame/byte-at-a-time", test_byte_at_a_time);
    g_test_add_func("/frame/many-in-one-read", test_many_in_one_read);
    g_test_add_func("/frame/large", test_large_frame);
    g_test_add_func("/frame/bad-lengths", test_bad_lengths);
    g_test_add_func("/frame/exact-limits", test_exact_limits);
    g_test_add_func("/frame/header", test_header);
    g_test_add_func("/frame/grows-with-bytes", test_grows_with_bytes_not_promises);
    g_test_add_func("/frame/peek-and-consume", test_peek_and_consume);
    g_test_add_func("/frame/reply-with-fds", test_with_fds);
    return g_test_run();
}
