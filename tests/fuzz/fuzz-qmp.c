/* fuzz-qmp.c: libFuzzer harness for the QMP stream reader (qmp_reader.c) and the monitor
 * that handles what it splits out (qemu_monitor.c): the input is what QEMU writes on its
 * monitor socket.
 *
 * Input: byte 0 picks the piece size (1..256); the rest is the stream. The reader must
 * split it into the same messages, count the same garbage and report the same overflow
 * whether it comes in one piece or in many. Then a monitor with two commands queued
 * before the handshake reads the whole stream from a socketpair, as virtqemud's does:
 * greeting, replies by id, errors and events go to their callbacks; a g_critical()
 * (a json-glib precondition that QEMU's output reached) is a finding. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qemu_monitor.h"
#include "qmp_reader.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* The reader's limit here: low enough that inputs reach it. */
#define FUZZ_MAX_MESSAGE 4096
/* The whole stream fits in the socketpair's buffer, so one write hands it over. */
#define FUZZ_MAX_INPUT (64 * 1024)

static GLogWriterOutput
quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        g_log_writer_default(level, fields, n_fields, data);
        abort();
    }
    return G_LOG_WRITER_HANDLED; /* the monitor warns about every odd message */
}

static void
check_reader(const char *text, gsize len, gsize step)
{
    g_autoptr(QmpReader) whole = qmp_reader_new(FUZZ_MAX_MESSAGE);
    g_autoptr(QmpReader) pieces = qmp_reader_new(FUZZ_MAX_MESSAGE);
    g_autoptr(GPtrArray) out1 = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) out2 = g_ptr_array_new_with_free_func(g_free);
    gboolean ok1, ok2 = TRUE;

    ok1 = qmp_reader_feed(whole, text, len, out1);
    for (gsize off = 0; off < len; off += step)
        ok2 &= qmp_reader_feed(pieces, text + off, MIN(step, len - off), out2);
    g_assert(ok1 == ok2);
    g_assert(qmp_reader_garbage(whole) == qmp_reader_garbage(pieces));
    g_assert(out1->len == out2->len);
    for (guint i = 0; i < out1->len; i++) {
        const char *m = out1->pdata[i];
        g_assert(strcmp(m, out2->pdata[i]) == 0);
        g_assert(m[0] == '{' && strlen(m) <= FUZZ_MAX_MESSAGE);
    }
}

static void
on_event(QemuMonitor *mon, const char *name, JsonObject *data, gpointer user)
{
    (void)mon;
    (void)user;
    g_assert(name != NULL); /* an event without a string name is dropped */
    if (data)
        (void)json_object_get_size(data);
}

static void
on_reply(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    (void)mon;
    (void)data;
    g_assert((ret == NULL) != (error == NULL));
}

static void
check_monitor(const char *text, gsize len)
{
    static const QemuMonitorCallbacks cb = {.event = on_event};
    QemuMonitor *mon;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        g_error("socketpair failed");
    mon = qemu_monitor_new(sv[0], &cb, NULL);
    qemu_monitor_command(mon, "query-status", NULL, on_reply, NULL);
    qemu_monitor_command(mon, "cont", NULL, on_reply, NULL);
    if (len && write(sv[1], text, len) != (gssize)len)
        g_error("short write to the socketpair");
    shutdown(sv[1], SHUT_WR); /* EOF for the monitor; its own writes still land */
    qemu_monitor_drain(mon);
    g_assert(qemu_monitor_is_closed(mon));
    qemu_monitor_free(mon);
    close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    static gboolean initialized;
    gsize step;

    if (!initialized) {
        g_log_set_writer_func(quiet_writer, NULL, NULL);
        initialized = TRUE;
    }
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    step = (gsize)data[0] + 1;
    check_reader((const char *)data + 1, size - 1, step);
    check_monitor((const char *)data + 1, size - 1);
    return 0;
}
