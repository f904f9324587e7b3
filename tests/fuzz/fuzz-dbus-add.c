/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AddMagnet/AddTorrent as the bus reads them: the options a{sv} through
 * rv_bus_read_add_options(), the add through the manager (fake engine, real
 * embedded store in a temp directory), then torrent commands through the one
 * command path (rv_command_validate, rv_command_run).
 *
 * Input, one entry a line:
 *   first line   the source: a magnet URI, "torrent" (a multi-file torrent with fluff) or "tiny"
 *   KEY:T:VALUE  an option of D-Bus type T (s b x t i u n q y d, or "as" with items split by tabs)
 *   @OP ARG      a command on the added torrent: an RvOp name ("move_storage /x", "set_labels a<TAB>b",
 *                "set_file_priorities 0=7,2=0", "set_selection +GLOB<TAB>-GLOB<TAB>!", "remove 1", ...)
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rv-bus-private.h"
#include "rv-fuzz-manager.h"
#include "rv-fuzz.h"
#include "rv-test-data.h"

typedef struct {
        RvFuzzManager m;
        RvStore *store;
        RvManager *manager;
        sd_bus *bus;
        GBytes *torrent;
        GBytes *tiny;
} RvFuzzAdd;

static RvFuzzAdd rv_add;

static GBytes *
rv_fuzz_make_torrent(const char *dir)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *payload = rv_test_data_make_payload(dir, "Show", 5 * 16384, 4, TRUE, &error);
        GBytes *bytes = payload != NULL ? rv_engine_create_torrent(payload, 16384, NULL, &error) : NULL;

        if (bytes == NULL) {
                g_printerr("rv-fuzz: cannot make the test torrent: %s\n", error->message);
                abort();
        }
        return bytes;
}

/* a bus that never connects: enough for sd-bus to build and read messages */
static sd_bus *
rv_fuzz_bus(void)
{
        sd_bus *bus = NULL;
        int fds[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
        /* the peer end stays open and silent for the life of the process */
        return bus;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        rv_fuzz_manager_init(&rv_add.m);
        rv_add.store = rv_add.m.store;
        rv_add.manager = rv_add.m.manager;
        rv_add.bus = rv_fuzz_bus();
        rv_add.torrent = rv_fuzz_make_torrent(rv_fuzz_tmpdir());
        rv_add.tiny = rv_test_data_tiny_torrent("fuzz", 1);
        return 0;
}

/* one "KEY:T:VALUE" line into the open a{sv}; FALSE when D-Bus itself would not carry it */
static gboolean
rv_fuzz_append_option(sd_bus_message *m, const char *line)
{
        g_auto(GStrv) parts = g_strsplit(line, ":", 3);
        const char *key;
        const char *type;
        const char *value;
        int r;

        if (g_strv_length(parts) != 3)
                return TRUE;
        key = parts[0];
        type = parts[1];
        value = parts[2];
        if (g_str_equal(type, "as")) {
                g_auto(GStrv) items = g_strsplit(value, "\t", -1);
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', key);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, items);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r >= 0;
        }
        if (strlen(type) != 1 || strchr("sbxtiunqyd", type[0]) == NULL)
                return TRUE;
        switch (type[0]) {
        case 's':
                r = sd_bus_message_append(m, "{sv}", key, "s", value);
                break;
        case 'b':
                r = sd_bus_message_append(m, "{sv}", key, "b", (int)(g_ascii_strtoll(value, NULL, 10) != 0));
                break;
        case 'x':
                r = sd_bus_message_append(m, "{sv}", key, "x", (int64_t)g_ascii_strtoll(value, NULL, 10));
                break;
        case 't':
                r = sd_bus_message_append(m, "{sv}", key, "t", (uint64_t)g_ascii_strtoull(value, NULL, 10));
                break;
        case 'i':
                r = sd_bus_message_append(m, "{sv}", key, "i", (int32_t)g_ascii_strtoll(value, NULL, 10));
                break;
        case 'u':
                r = sd_bus_message_append(m, "{sv}", key, "u", (uint32_t)g_ascii_strtoull(value, NULL, 10));
                break;
        case 'n':
                r = sd_bus_message_append(m, "{sv}", key, "n", (int16_t)g_ascii_strtoll(value, NULL, 10));
                break;
        case 'q':
                r = sd_bus_message_append(m, "{sv}", key, "q", (uint16_t)g_ascii_strtoull(value, NULL, 10));
                break;
        case 'y':
                r = sd_bus_message_append(m, "{sv}", key, "y", (uint8_t)g_ascii_strtoull(value, NULL, 10));
                break;
        default:
                r = sd_bus_message_append(m, "{sv}", key, "d", g_ascii_strtod(value, NULL));
                break;
        }
        return r >= 0;
}

/* the options as a sealed method call, read back from its start as the daemon reads one */
static sd_bus_message *
rv_fuzz_options_message(char **lines)
{
        g_autoptr(sd_bus_message) m = NULL;

        if (sd_bus_message_new_method_call(rv_add.bus, &m, "org.example.Fuzz", "/", "org.example.Fuzz", "Add") < 0 ||
            sd_bus_message_open_container(m, 'a', "{sv}") < 0)
                abort();
        for (guint i = 1; lines[i] != NULL && lines[i][0] != '@'; i++) {
                if (!rv_fuzz_append_option(m, lines[i]))
                        return NULL;
        }
        if (sd_bus_message_close_container(m) < 0 || sd_bus_message_seal(m, 1, 0) < 0 ||
            sd_bus_message_rewind(m, 1) < 0)
                abort();
        return g_steal_pointer(&m);
}

static RvOp
rv_fuzz_op(const char *name)
{
        for (RvOp op = 0; op < RV_OP_LAST; op++) {
                if (g_strcmp0(rv_op_to_string(op), name) == 0)
                        return op;
        }
        return RV_OP_LAST;
}

/* "0=7,2=0" */
static void
rv_fuzz_priorities(RvCommand *command, const char *arg)
{
        g_auto(GStrv) pairs = g_strsplit(arg, ",", 64);

        command->indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        command->priorities = g_byte_array_new();
        for (guint i = 0; pairs[i] != NULL; i++) {
                char *end = NULL;
                guint32 index = (guint32)g_ascii_strtoull(pairs[i], &end, 10);
                guint8 prio = (guint8)(end != NULL && *end == '=' ? g_ascii_strtoull(end + 1, NULL, 10) : 0);
                g_array_append_val(command->indexes, index);
                g_byte_array_append(command->priorities, &prio, 1);
        }
}

/* "+GLOB<TAB>-GLOB<TAB>!"; NULL selection when the rules are refused (the transport answers the error) */
static gboolean
rv_fuzz_selection(RvCommand *command, const char *arg)
{
        g_auto(GStrv) items = g_strsplit(arg, "\t", -1);
        g_autoptr(GStrvBuilder) in = g_strv_builder_new();
        g_autoptr(GStrvBuilder) ex = g_strv_builder_new();
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;
        gboolean skip_fluff = FALSE;

        for (guint i = 0; items[i] != NULL; i++) {
                if (items[i][0] == '+')
                        g_strv_builder_add(in, items[i] + 1);
                else if (items[i][0] == '-')
                        g_strv_builder_add(ex, items[i] + 1);
                else if (items[i][0] == '!')
                        skip_fluff = TRUE;
        }
        include = g_strv_builder_end(in);
        exclude = g_strv_builder_end(ex);
        command->selection =
                rv_selection_new((const char *const *)include, (const char *const *)exclude, skip_fluff, NULL);
        return command->selection != NULL;
}

static void
rv_fuzz_command(RvTorrent *torrent, const char *line)
{
        g_auto(GStrv) parts = g_strsplit(line + 1, " ", 2);
        const char *arg = parts[0] != NULL && parts[1] != NULL ? parts[1] : "";
        RvOp op = parts[0] != NULL ? rv_fuzz_op(parts[0]) : RV_OP_LAST;
        g_autoptr(RvCommand) command = NULL;

        if (op == RV_OP_LAST || !rv_op_targets_torrent(op) || op == RV_OP_LIST_FILES)
                return;
        command = rv_command_new(op, &torrent->hash);
        command->flag = g_ascii_strtoll(arg, NULL, 10) != 0;
        command->limit = g_ascii_strtoll(arg, NULL, 10);
        if (op == RV_OP_MOVE_STORAGE)
                command->path = g_strdup(arg);
        if (op == RV_OP_SET_LABELS)
                command->labels = g_strsplit(arg, "\t", -1);
        if (op == RV_OP_SET_FILE_PRIORITIES)
                rv_fuzz_priorities(command, arg);
        if (op == RV_OP_SET_SELECTION && !rv_fuzz_selection(command, arg))
                return;
        /* only what validates reaches the manager, as on every transport */
        if (!rv_command_validate(command, torrent, NULL))
                return;
        (void)rv_command_run(rv_add.manager, command, NULL);
}

static gboolean
rv_fuzz_deadline_cb(gpointer user_data)
{
        g_printerr("rv-fuzz: the manager did not settle within 10 s\n");
        abort();
        return G_SOURCE_REMOVE;
}

static void
rv_fuzz_flushed_cb(const GError *error, gpointer user_data)
{
        *(gboolean *)user_data = TRUE;
}

/* every torrent removed and the store idle again, so each input starts from an empty registry */
static void
rv_fuzz_settle(void)
{
        guint deadline = g_timeout_add_seconds(10, rv_fuzz_deadline_cb, NULL);
        gboolean flushed = FALSE;

        while (g_main_context_iteration(NULL, FALSE))
                ;
        for (guint i = 0; i < rv_manager_get_count(rv_add.manager); i++) {
                RvTorrent *t = g_ptr_array_index(rv_manager_list(rv_add.manager), i);
                if (!t->removing)
                        (void)rv_manager_remove(rv_add.manager, t, FALSE, NULL);
        }
        while (rv_manager_get_count(rv_add.manager) > 0)
                g_main_context_iteration(NULL, TRUE);
        rv_store_flush(rv_add.store, rv_fuzz_flushed_cb, &flushed);
        while (!flushed)
                g_main_context_iteration(NULL, TRUE);
        g_source_remove(deadline);
}

typedef struct {
        gboolean done;
        RvTorrent *torrent;
} RvFuzzAddCall;

static void
rv_fuzz_added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvFuzzAddCall *call = user_data;

        call->torrent = rv_manager_add_finish(RV_MANAGER(source), result, NULL);
        call->done = TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_auto(GStrv) lines = rv_fuzz_lines(data, size);
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        g_autoptr(RvSelection) selection = NULL;
        RvAddRequest request = { 0 };
        RvFuzzAddCall call = { 0 };
        RvTorrent *torrent;

        if (lines[0] == NULL)
                return 0;
        m = rv_fuzz_options_message(lines);
        if (m == NULL)
                return 0;
        if (rv_bus_read_add_options(m, &request, keep, &selection, NULL) < 0)
                return 0;
        if (g_str_equal(lines[0], "torrent"))
                request.torrent = rv_add.torrent;
        else if (g_str_equal(lines[0], "tiny"))
                request.torrent = rv_add.tiny;
        else
                request.magnet = lines[0];
        /* the add completes once its records are stored */
        rv_manager_add_async(rv_add.manager, &request, rv_fuzz_added_cb, &call);
        while (!call.done)
                g_main_context_iteration(NULL, TRUE);
        torrent = call.torrent;
        if (torrent != NULL) {
                /* the idle events of the add (ADDED, metadata) first, as on the daemon's loop */
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                for (guint i = 1; lines[i] != NULL; i++) {
                        if (lines[i][0] == '@' && rv_manager_lookup(rv_add.manager, &torrent->hash) == torrent &&
                            !torrent->removing)
                                rv_fuzz_command(torrent, lines[i]);
                }
        }
        rv_fuzz_settle();
        return 0;
}
