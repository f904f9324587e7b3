/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "rv-test-data.h"
#include "rv-test-harness.h"

/*
 * revaerctl as users run it: a subprocess talking to revaerd on the harness's
 * private session bus (--user), checked against what the daemon reports
 * through GDBus
 */

#define MIB (1024 * 1024)

static void
start_services(RvTestHarness *h, const char *name, gint64 size, guint files, gboolean fluff)
{
        rv_test_harness_start_seeder(h, name, size, files, fluff, 0);
        rv_test_harness_start_daemon(h);
}

typedef struct {
        int status;
        char *out;
        char *err;
} RvCtlResult;

static void
rv_ctl_result_clear(RvCtlResult *res)
{
        g_clear_pointer(&res->out, g_free);
        g_clear_pointer(&res->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RvCtlResult, rv_ctl_result_clear)

static GSubprocessLauncher *
ctl_launcher(RvTestHarness *h, GSubprocessFlags flags, const char *bus_address)
{
        GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);

        g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS",
                                     bus_address != NULL ? bus_address : h->bus_address, TRUE);
        /* tables as a pipe gets them: no width, nothing truncated */
        g_subprocess_launcher_unsetenv(launcher, "COLUMNS");
        g_subprocess_launcher_setenv(launcher, "LC_ALL", "C.UTF-8", TRUE);
        return launcher;
}

static GPtrArray *
ctl_argv(va_list ap)
{
        GPtrArray *argv = g_ptr_array_new();
        const char *arg;

        g_ptr_array_add(argv, (gpointer)g_getenv("REVAERCTL"));
        g_assert_nonnull(g_ptr_array_index(argv, 0));
        g_ptr_array_add(argv, "--user");
        while ((arg = va_arg(ap, const char *)) != NULL)
                g_ptr_array_add(argv, (gpointer)arg);
        g_ptr_array_add(argv, NULL);
        return argv;
}

/* revaerctl --user ARGS... with stdin from stdin_data (NULL: none) on bus_address (NULL: the harness's) */
static void
ctl_run_full(RvTestHarness *h, const char *bus_address, GBytes *stdin_data, RvCtlResult *res, ...)
{
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) out = NULL;
        g_autoptr(GBytes) err = NULL;
        va_list ap;

        va_start(ap, res);
        argv = ctl_argv(ap);
        va_end(ap);
        launcher = ctl_launcher(h,
                                G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        (stdin_data != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0),
                                bus_address);
        proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        g_subprocess_communicate(proc, stdin_data, NULL, &out, &err, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_get_if_exited(proc));
        res->status = g_subprocess_get_exit_status(proc);
        /* an empty GBytes has no data pointer: "" rather than NULL */
        res->out = g_strndup(g_bytes_get_size(out) > 0 ? g_bytes_get_data(out, NULL) : "", g_bytes_get_size(out));
        res->err = g_strndup(g_bytes_get_size(err) > 0 ? g_bytes_get_data(err, NULL) : "", g_bytes_get_size(err));
        if (g_test_verbose())
                g_printerr("# revaerctl %s -> %d\n# stdout: %s\n# stderr: %s\n", (char *)argv->pdata[2], res->status,
                           res->out, res->err);
}

#define ctl_run(h, res, ...) ctl_run_full((h), NULL, NULL, (res), __VA_ARGS__, NULL)

/* runs revaerctl and insists on an exit status and on text in stdout/stderr (NULL: anything) */
#define ctl_expect(h, status_, out_needle, err_needle, ...)              \
        G_STMT_START                                                     \
        {                                                                \
                g_auto(RvCtlResult) res_ = { 0 };                        \
                ctl_run((h), &res_, __VA_ARGS__);                        \
                ctl_check(&res_, (status_), (out_needle), (err_needle)); \
        }                                                                \
        G_STMT_END

static void
ctl_check(const RvCtlResult *res, int status, const char *out_needle, const char *err_needle)
{
        if (res->status != status || (out_needle != NULL && strstr(res->out, out_needle) == NULL) ||
            (err_needle != NULL && strstr(res->err, err_needle) == NULL))
                g_error("revaerctl exited %d (expected %d)\nstdout (want '%s'):\n%s\nstderr (want '%s'):\n%s",
                        res->status, status, out_needle != NULL ? out_needle : "", res->out,
                        err_needle != NULL ? err_needle : "", res->err);
        /* every failure says why, prefixed with the program */
        if (status != 0)
                g_assert_true(g_str_has_prefix(res->err, "revaerctl: "));
}

static JsonNode *
parse_json(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

/* a reader that gives up: a missing event must fail the test, not hang it */
typedef struct {
        gboolean done;
        char *line;
} RvLineRead;

static void
read_line_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvLineRead *lr = user_data;

        lr->line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), result, NULL, NULL);
        lr->done = TRUE;
}

static gboolean
timeout_cb(gpointer user_data)
{
        *(gboolean *)user_data = TRUE;
        return G_SOURCE_REMOVE;
}

static char *
read_line_timeout(GDataInputStream *in, guint timeout_s)
{
        g_autoptr(GCancellable) cancellable = g_cancellable_new();
        RvLineRead lr = { 0 };
        gboolean expired = FALSE;
        guint timer = g_timeout_add_seconds(timeout_s, timeout_cb, &expired);

        g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, cancellable, read_line_cb, &lr);
        while (!lr.done) {
                if (expired)
                        g_cancellable_cancel(cancellable);
                g_main_context_iteration(NULL, TRUE);
        }
        if (!expired)
                g_source_remove(timer);
        return lr.line;
}

typedef struct {
        GSubprocess *proc;
        GDataInputStream *out;
        GDataInputStream *err;
} RvMonitor;

static void
monitor_start(RvTestHarness *h, RvMonitor *mon, gboolean json)
{
        g_autoptr(GSubprocessLauncher) launcher =
                ctl_launcher(h, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
        g_autoptr(GError) error = NULL;
        g_autofree char *banner = NULL;

        mon->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("REVAERCTL"), "--user", "monitor",
                                                json ? "--json" : NULL, NULL);
        g_assert_no_error(error);
        rv_test_track_child(mon->proc);
        mon->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(mon->proc));
        mon->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(mon->proc));
        /* the banner comes once the subscriptions are in place */
        banner = read_line_timeout(mon->err, 10);
        g_assert_nonnull(banner);
        g_assert_nonnull(strstr(banner, "Monitoring"));
}

/* lines until one contains needle; returns it */
static char *
monitor_expect(RvMonitor *mon, const char *needle)
{
        for (;;) {
                g_autofree char *line = read_line_timeout(mon->out, 60);
                if (line == NULL)
                        g_error("monitor ended or timed out before a line with '%s'", needle);
                if (strstr(line, needle) != NULL)
                        return g_steal_pointer(&line);
        }
}

static void
monitor_stop(RvMonitor *mon)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(mon->proc, SIGINT);
        g_assert_true(g_subprocess_wait(mon->proc, NULL, &error));
        g_assert_no_error(error);
        /* an interrupted monitor has done its job */
        g_assert_true(g_subprocess_get_if_exited(mon->proc));
        g_assert_cmpint(g_subprocess_get_exit_status(mon->proc), ==, 0);
        g_clear_object(&mon->out);
        g_clear_object(&mon->err);
        g_clear_object(&mon->proc);
}

static void
assert_same_file(const char *a, const char *b)
{
        g_autofree char *ha = rv_test_data_checksum_file(a);
        g_autofree char *hb = rv_test_data_checksum_file(b);

        g_assert_nonnull(ha);
        g_assert_nonnull(hb);
        g_assert_cmpstr(ha, ==, hb);
}

static char *
peer_arg(RvTestHarness *h)
{
        return g_strdup_printf("--peer=127.0.0.1:%u", h->seeder.port);
}

static guint
torrent_count(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get(h, RV_BUS_PATH, "TorrentCount");

        return g_variant_get_uint32(v);
}

static void
test_cli_usage(void)
{
        RvTestHarness h;

        /* a bus but no service: usage errors are found before anything is asked */
        rv_test_harness_setup(&h);
        ctl_expect(&h, 0, "Commands:", NULL, "--help");
        ctl_expect(&h, 0, "revaerctl ", NULL, "--version");
        ctl_expect(&h, 0, "--delete-data", NULL, "help", "remove");
        ctl_expect(&h, 2, NULL, "no command", "--json");
        ctl_expect(&h, 2, NULL, "unknown command 'frob'", "frob");
        ctl_expect(&h, 2, NULL, "--bogus", "list", "--bogus");
        ctl_expect(&h, 2, NULL, "missing TORRENT", "info");
        ctl_expect(&h, 2, NULL, "unexpected argument 'two'", "info", "one", "two");
        ctl_expect(&h, 2, NULL, "missing MAGNET or FILE", "add");
        ctl_expect(&h, 2, NULL, "'5X'", "limit", "x", "--download", "5X");
        ctl_expect(&h, 2, NULL, "'maybe'", "sequential", "x", "maybe");
        ctl_expect(&h, 2, NULL, "'3=urgent'", "select", "x", "--priority", "3=urgent");
        ctl_expect(&h, 2, NULL, "nothing to select", "select", "x");
        ctl_expect(&h, 2, NULL, "--wait follows one torrent", "add", "--wait", "a.torrent", "b.torrent");
        ctl_expect(&h, 2, NULL, "cannot open '/nonexistent/x.torrent'", "add", "/nonexistent/x.torrent");
        ctl_expect(&h, 2, NULL, "cannot open '/nonexistent/x.torrent'", "add", "file:///nonexistent/x.torrent");
        ctl_expect(&h, 2, NULL, "not on this machine", "add", "file://elsewhere.invalid/x.torrent");
        ctl_expect(&h, 2, NULL, "not a file URI", "add", "file:x.torrent");
        ctl_expect(&h, 0, "KEY=VALUE", NULL, "help", "config", "set");
        ctl_expect(&h, 0, "rotate KEY_ID", NULL, "keys", "--help");
        ctl_expect(&h, 2, NULL, "unknown keys command 'frob'", "keys", "frob");
        ctl_expect(&h, 2, NULL, "not KEY=VALUE", "config", "set", "engine.dht");
        ctl_expect(&h, 2, NULL, "not a setting", "config", "get", "download_limit");
        ctl_expect(&h, 2, NULL, "different sections", "config", "set", "engine.dht=off", "fs.flatten=on");
        ctl_expect(&h, 2, NULL, "--limit", "config", "history", "--limit", "0");
        ctl_expect(&h, 2, NULL, "missing KEY_ID", "keys", "rotate");
        ctl_expect(&h, 2, NULL, "--burst and --period", "keys", "create", "sonarr", "--burst", "5");

        /* no service on the bus, and no bus at all: runtime failures */
        ctl_expect(&h, 3, NULL, "not running on the session bus", "list");
        ctl_expect(&h, 3, NULL, "not running", "info", "abcd");
        ctl_expect(&h, 3, NULL, "not running", "monitor");
        ctl_expect(&h, 3, NULL, "not running", "config");
        ctl_expect(&h, 3, NULL, "not running", "setup");
        {
                g_auto(RvCtlResult) res = { 0 };
                ctl_run_full(&h, "unix:path=/nonexistent/revaer-test-bus", NULL, &res, "health", NULL);
                ctl_check(&res, 3, NULL, "cannot connect to the session bus");
        }
        rv_test_harness_teardown(&h);
}

static void
test_cli_magnet(void)
{
        RvTestHarness h;
        RvMonitor mon_json = { 0 };
        RvMonitor mon_text = { 0 };
        g_autofree char *peer = NULL;
        g_autofree char *hash = NULL;
        g_autofree char *prefix = NULL;
        g_autofree char *path = NULL;
        g_autofree char *dest = NULL;

        rv_test_harness_setup(&h);
        start_services(&h, "single.bin", 4 * MIB, 1, FALSE);
        peer = peer_arg(&h);
        hash = g_strdup(h.seeder.hash);
        prefix = g_strndup(hash, 6);
        path = g_strconcat(RV_BUS_PATH "/torrent/", hash, NULL);
        dest = g_build_filename(h.downloads, "single.bin", NULL);
        monitor_start(&h, &mon_json, TRUE);
        monitor_start(&h, &mon_text, FALSE);

        /* add --wait: progress on a pipe is plain lines, exit 0 once complete */
        {
                g_auto(RvCtlResult) res = { 0 };
                ctl_run(&h, &res, "add", "--wait", "--label", "demo", "--label", "cli", peer, h.seeder.magnet);
                ctl_check(&res, 0, "Completed single.bin", NULL);
                g_assert_nonnull(strstr(res.out, hash));
                /* not a terminal: no escape sequences, no carriage returns */
                g_assert_null(strchr(res.out, '\r'));
                g_assert_null(strchr(res.out, '\033'));
        }
        assert_same_file(h.seeder.payload, dest);

        /* the monitors saw it come and finish */
        {
                g_autofree char *added = monitor_expect(&mon_json, "\"added\"");
                g_autofree char *completed = monitor_expect(&mon_json, "\"completed\"");
                g_autoptr(JsonNode) added_node = parse_json(added);
                g_autoptr(JsonNode) node = parse_json(completed);
                JsonObject *obj = json_node_get_object(added_node);
                g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hash);
                obj = json_node_get_object(node);
                g_assert_cmpstr(json_object_get_string_member(obj, "event"), ==, "completed");
                g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hash);
                g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "single.bin");
        }
        {
                g_autofree char *short_hash = g_strndup(hash, 8);
                g_autofree char *added = monitor_expect(&mon_text, "added");
                g_autofree char *completed = monitor_expect(&mon_text, "completed");
                g_assert_nonnull(strstr(added, short_hash));
                g_assert_nonnull(strstr(completed, "single.bin"));
        }

        /* list: a table for people, JSON for scripts, bare hashes for completion */
        ctl_expect(&h, 0, "single.bin", NULL, "list");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonArray *array;
                JsonObject *obj;
                ctl_run(&h, &res, "list", "--json");
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                array = json_node_get_array(node);
                g_assert_cmpuint(json_array_get_length(array), ==, 1);
                obj = json_array_get_object_element(array, 0);
                g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hash);
                g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "single.bin");
                g_assert_true(json_object_get_boolean_member(obj, "completed"));
                g_assert_cmpint(json_object_get_int_member(obj, "size"), ==, 4 * MIB);
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "labels")), ==, 2);
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autofree char *line = g_strconcat(hash, "\n", NULL);
                ctl_run(&h, &res, "list", "--quiet");
                ctl_check(&res, 0, NULL, NULL);
                g_assert_cmpstr(res.out, ==, line);
        }

        /* info and files by hash, by prefix, by name */
        ctl_expect(&h, 0, hash, NULL, "info", hash);
        ctl_expect(&h, 0, "single.bin", NULL, "info", prefix);
        ctl_expect(&h, 0, "Info hash:", NULL, "info", "single.bin");
        /* explicit properties (not in GetAll) are read one by one */
        ctl_expect(&h, 0, "Save path:", NULL, "info", "single.bin");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "info", "--json", prefix);
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                obj = json_node_get_object(node);
                g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hash);
                g_assert_cmpstr(json_object_get_string_member(obj, "state"), ==, "seeding");
                g_assert_cmpint(json_object_get_int_member(obj, "done"), ==, 4 * MIB);
                g_assert_true(json_object_get_boolean_member(obj, "completed"));
                g_assert_cmpint(json_object_get_int_member(obj, "wanted_size"), ==, 4 * MIB);
                g_assert_true(json_object_has_member(obj, "save_path"));
                g_assert_true(json_object_has_member(obj, "library_path"));
        }
        ctl_expect(&h, 0, "single.bin", NULL, "files", hash);
        ctl_expect(&h, 0, "100.0%", NULL, "files", "single.bin");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "files", "--json", prefix);
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                g_assert_cmpuint(json_array_get_length(json_node_get_array(node)), ==, 1);
                obj = json_array_get_object_element(json_node_get_array(node), 0);
                g_assert_cmpstr(json_object_get_string_member(obj, "path"), ==, "single.bin");
                g_assert_cmpint(json_object_get_int_member(obj, "done"), ==, 4 * MIB);
                g_assert_true(json_object_get_boolean_member(obj, "wanted"));
        }

        /* changes land in the daemon */
        ctl_expect(&h, 0, NULL, NULL, "pause", "single.bin");
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "paused", 10));
        monitor_stop(&mon_text);
        g_free(monitor_expect(&mon_json, "\"paused\""));
        ctl_expect(&h, 0, NULL, NULL, "resume", prefix);
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "seeding", 10));
        ctl_expect(&h, 0, NULL, NULL, "pause", "--all");
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "paused", 10));
        ctl_expect(&h, 0, NULL, NULL, "resume", "--all");
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "seeding", 10));

        ctl_expect(&h, 0, NULL, NULL, "sequential", hash, "on");
        g_variant_unref(rv_test_wait_prop(&h, path, "Sequential", rv_test_pred_true, NULL, 5));
        ctl_expect(&h, 0, "on", NULL, "sequential", hash);
        ctl_expect(&h, 0, NULL, NULL, "sequential", hash, "off");
        {
                g_autoptr(GVariant) v = rv_test_get(&h, path, "Sequential");
                g_assert_false(g_variant_get_boolean(v));
        }

        ctl_expect(&h, 0, NULL, NULL, "limit", hash, "--download", "5M", "--upload", "500K");
        {
                g_autoptr(GVariant) down = rv_test_get(&h, path, "DownloadLimit");
                g_autoptr(GVariant) up = rv_test_get(&h, path, "UploadLimit");
                g_assert_cmpint(g_variant_get_int64(down), ==, 5 * MIB);
                g_assert_cmpint(g_variant_get_int64(up), ==, 500 * 1024);
        }
        ctl_expect(&h, 0, "5.0 MiB/s", NULL, "limit", hash);
        ctl_expect(&h, 0, NULL, NULL, "limit", hash, "--download", "0");
        ctl_expect(&h, 0, "unlimited", NULL, "limit", hash);

        ctl_expect(&h, 0, NULL, NULL, "select", hash, "--exclude", "*.iso", "--exclude", "*.txt", "--skip-fluff");
        {
                g_autoptr(GVariant) exclude = rv_test_get(&h, path, "Exclude");
                g_autoptr(GVariant) fluff = rv_test_get(&h, path, "SkipFluff");
                g_autofree const char **strv = g_variant_get_strv(exclude, NULL);
                g_assert_cmpuint(g_strv_length((char **)strv), ==, 2);
                g_assert_cmpstr(strv[0], ==, "*.iso");
                g_assert_true(g_variant_get_boolean(fluff));
        }
        ctl_expect(&h, 0, NULL, NULL, "select", hash, "--all");
        {
                g_autoptr(GVariant) exclude = rv_test_get(&h, path, "Exclude");
                g_assert_cmpuint(g_variant_n_children(exclude), ==, 0);
        }
        ctl_expect(&h, 0, NULL, NULL, "select", hash, "--priority", "0=high");
        ctl_expect(&h, 0, "high", NULL, "files", hash);
        ctl_expect(&h, 0, NULL, NULL, "recheck", hash);
        ctl_expect(&h, 0, NULL, NULL, "reannounce", hash);

        /* what the daemon refuses, and what it does not have */
        ctl_expect(&h, 2, NULL, "include[0]", "select", hash, "--include", "[oops");
        ctl_expect(&h, 2, NULL, "include", "add", "--include", "[oops", h.seeder.magnet);
        ctl_expect(&h, 3, NULL, "no torrent matches 'nope'", "info", "nope");
        /* every reference is resolved before anything changes */
        ctl_expect(&h, 3, NULL, "no torrent matches", "pause", hash, "0000000000");
        {
                g_autoptr(GVariant) state = rv_test_get(&h, path, "State");
                g_assert_cmpstr(g_variant_get_string(state, NULL), !=, "paused");
        }
        ctl_expect(&h, 3, NULL, "already", "add", h.seeder.magnet);

        ctl_expect(&h, 0, "Health:", NULL, "health");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "health", "--json");
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                obj = json_node_get_object(node);
                g_assert_cmpstr(json_object_get_string_member(obj, "health"), ==, "ok");
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "degraded")), ==, 0);
                g_assert_cmpint(json_object_get_int_member(obj, "torrent_count"), ==, 1);
        }

        /* remove keeps the data and returns once the torrent is gone */
        ctl_expect(&h, 0, NULL, NULL, "remove", "single.bin");
        g_assert_cmpuint(torrent_count(&h), ==, 0);
        g_assert_true(g_file_test(dest, G_FILE_TEST_EXISTS));
        g_free(monitor_expect(&mon_json, "\"removed\""));
        ctl_expect(&h, 0, "No torrents.", NULL, "list");
        ctl_expect(&h, 0, "[]", NULL, "list", "--json");
        monitor_stop(&mon_json);

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static gboolean
wait_gone(const char *path, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        while (g_file_test(path, G_FILE_TEST_EXISTS)) {
                if (g_get_monotonic_time() > deadline)
                        return FALSE;
                g_usleep(50000);
        }
        return TRUE;
}

static void
test_cli_torrent_file(void)
{
        RvTestHarness h;
        g_autofree char *peer = NULL;
        g_autofree char *root = NULL;
        g_autoptr(GBytes) torrent = NULL;
        guint n_wanted = 0;
        guint n_skipped = 0;

        rv_test_harness_setup(&h);
        start_services(&h, "pack", 6 * MIB, 4, TRUE);
        peer = peer_arg(&h);
        root = g_build_filename(h.downloads, "pack", NULL);

        /* a regular file goes over as a descriptor (AddTorrentFd) */
        ctl_expect(&h, 0, "Completed pack", NULL, "add", "--wait", "--include", "*.bin", "--skip-fluff", peer,
                   h.seeder.torrent_path);
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonArray *files;
                ctl_run(&h, &res, "files", "--json", "pack");
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                files = json_node_get_array(node);
                for (guint i = 0; i < json_array_get_length(files); i++) {
                        JsonObject *f = json_array_get_object_element(files, i);
                        const char *file_path = json_object_get_string_member(f, "path");
                        gboolean wanted = json_object_get_boolean_member(f, "wanted");
                        g_assert_cmpint(wanted, ==, g_str_has_suffix(file_path, ".bin"));
                        if (wanted) {
                                g_autofree char *src = g_build_filename(h.dir, "seed", file_path, NULL);
                                g_autofree char *dst = g_build_filename(h.downloads, file_path, NULL);
                                assert_same_file(src, dst);
                                n_wanted++;
                        } else {
                                n_skipped++;
                        }
                }
                g_assert_cmpuint(n_wanted, ==, 4);
                g_assert_cmpuint(n_skipped, ==, 3);
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "info", "--json", "pack");
                ctl_check(&res, 0, NULL, NULL);
                node = parse_json(res.out);
                obj = json_node_get_object(node);
                g_assert_true(json_object_get_boolean_member(obj, "skip_fluff"));
                g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(obj, "include"), 0), ==,
                                "*.bin");
        }

        /* remove --delete-data: the torrent goes at once, the data soon after */
        ctl_expect(&h, 0, NULL, NULL, "remove", "--delete-data", "pack");
        g_assert_cmpuint(torrent_count(&h), ==, 0);
        g_assert_true(wait_gone(root, 30));

        /* from a pipe (AddTorrent), paused, with options the daemon keeps */
        torrent = rv_test_harness_seeder_torrent(&h);
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autofree char *save = g_build_filename(h.dir, "elsewhere", NULL);
                g_autofree char *save_arg = g_strconcat("--save-path=", save, NULL);
                g_autoptr(GVariant) state = NULL;
                g_autoptr(GVariant) save_path = NULL;
                g_autoptr(GVariant) sequential = NULL;
                g_autoptr(GVariant) limit = NULL;
                g_autofree char *path = g_strconcat(RV_BUS_PATH "/torrent/", h.seeder.hash, NULL);
                ctl_run_full(&h, NULL, torrent, &res, "add", "--json", "--paused", "--sequential", save_arg,
                             "--download-limit", "1M", "-", NULL);
                ctl_check(&res, 0, NULL, NULL);
                {
                        g_autoptr(JsonNode) node = parse_json(res.out);
                        JsonObject *obj = json_array_get_object_element(json_node_get_array(node), 0);
                        g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, h.seeder.hash);
                        g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "pack");
                }
                state = rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "paused", 10);
                save_path = rv_test_get(&h, path, "SavePath");
                sequential = rv_test_get(&h, path, "Sequential");
                limit = rv_test_get(&h, path, "DownloadLimit");
                g_assert_cmpstr(g_variant_get_string(save_path, NULL), ==, save);
                g_assert_true(g_variant_get_boolean(sequential));
                g_assert_cmpint(g_variant_get_int64(limit), ==, MIB);
        }
        /* the same file once more, as a desktop handler passes it, is a conflict: a runtime failure */
        {
                g_autofree char *uri = g_filename_to_uri(h.seeder.torrent_path, NULL, NULL);
                ctl_expect(&h, 3, NULL, "already", "add", uri);
        }
        ctl_expect(&h, 0, NULL, NULL, "remove", "pack");

        /*
         * add --wait ends with 3 when the torrent is removed under it, and not
         * when some other client comes and goes (regression: every
         * NameOwnerChanged used to count as the service stopping)
         */
        {
                g_autoptr(GSubprocessLauncher) launcher =
                        ctl_launcher(&h, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
                g_autoptr(GSubprocess) proc = NULL;
                g_autoptr(GDataInputStream) out = NULL;
                g_autoptr(GError) error = NULL;
                g_autoptr(GBytes) err = NULL;
                g_autofree char *added = NULL;
                g_autofree char *progress = NULL;
                g_autofree char *err_text = NULL;
                proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("REVAERCTL"), "--user", "add", "--wait",
                                                   "--download-limit", "100K", peer, h.seeder.torrent_path, NULL);
                g_assert_no_error(error);
                rv_test_track_child(proc);
                out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
                added = read_line_timeout(out, 10);
                g_assert_nonnull(added);
                g_assert_true(g_str_has_prefix(added, "Added "));
                /* the first progress line comes after the subscriptions */
                progress = read_line_timeout(out, 10);
                g_assert_nonnull(progress);
                ctl_expect(&h, 0, "pack", NULL, "list");
                ctl_expect(&h, 0, NULL, NULL, "health");
                g_usleep(300000);
                g_assert_nonnull(g_subprocess_get_identifier(proc));
                ctl_expect(&h, 0, NULL, NULL, "remove", "pack");
                g_subprocess_communicate(proc, NULL, NULL, NULL, &err, &error);
                g_assert_no_error(error);
                g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 3);
                err_text = g_strndup(g_bytes_get_data(err, NULL), g_bytes_get_size(err));
                g_assert_nonnull(strstr(err_text, "removed before it completed"));
        }

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

#define POLICY_PATH RV_BUS_PATH "/policy/"

/* a service that takes every call and never answers */
static GDBusMessage *
swallow_calls_cb(GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
        if (incoming && g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL &&
            g_strcmp0(g_dbus_message_get_interface(message), RV_BUS_MANAGER_IFACE) == 0) {
                g_atomic_int_inc((gint *)user_data);
                g_object_unref(message);
                return NULL;
        }
        return message;
}

/*
 * reliability issue, defect 5: an add the service did not answer in time was
 * reported as failed (exit 3) while the service added and stored it anyway.
 * Without an answer the outcome is not known, and revaerctl says so and how
 * to find out.
 */
static void
test_cli_add_no_answer(void)
{
        RvTestHarness h;
        g_autoptr(GDBusConnection) service = NULL;
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GVariant) owned = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) out = NULL;
        g_autoptr(GBytes) err = NULL;
        g_autofree char *err_text = NULL;
        gint calls = 0;
        gint64 start;

        rv_test_harness_setup(&h);
        service = g_dbus_connection_new_for_address_sync(h.bus_address,
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                         NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_add_filter(service, swallow_calls_cb, &calls, NULL);
        owned = g_dbus_connection_call_sync(service, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "RequestName",
                                            g_variant_new("(su)", RV_BUS_NAME, 4), G_VARIANT_TYPE("(u)"),
                                            G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
        g_assert_no_error(error);

        launcher = ctl_launcher(&h, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
        /* sd-bus's wait for a reply, 25 s by default */
        g_subprocess_launcher_setenv(launcher, "SYSTEMD_BUS_TIMEOUT", "1", TRUE);
        start = g_get_monotonic_time();
        proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("REVAERCTL"), "--user", "add",
                                           "magnet:?xt=urn:btih:5555555555555555555555555555555555555555", NULL);
        g_assert_no_error(error);
        rv_test_track_child(proc);
        g_subprocess_communicate(proc, NULL, NULL, &out, &err, &error);
        g_assert_no_error(error);
        err_text = g_strndup(g_bytes_get_size(err) > 0 ? g_bytes_get_data(err, NULL) : "", g_bytes_get_size(err));
        g_test_message("after %.1f s: %s", (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC, err_text);
        g_assert_cmpint(g_atomic_int_get(&calls), ==, 1);
        g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 3);
        g_assert_true(g_str_has_prefix(err_text, "revaerctl: "));
        g_assert_nonnull(strstr(err_text, "did not answer"));
        g_assert_nonnull(strstr(err_text, "whether the torrent was added is not known"));
        g_assert_nonnull(strstr(err_text, "revaerctl list"));

        g_dbus_connection_close_sync(service, NULL, NULL);
        rv_test_harness_teardown(&h);
}

#define POLICY_PATH RV_BUS_PATH "/policy/"

static GVariant *
get_setting(RvTestHarness *h, const char *section, const char *iface, const char *prop)
{
        g_autofree char *path = g_strconcat(POLICY_PATH, section, NULL);

        return rv_test_get_iface(h, path, iface, prop);
}

static guint64
settings_revision(RvTestHarness *h)
{
        g_autoptr(GVariant) v = get_setting(h, "engine", "com.revaer.Revaer1.Policy", "Revision");

        return g_variant_get_uint64(v);
}

static JsonNode *
ctl_json(RvTestHarness *h, RvCtlResult *res)
{
        ctl_check(res, 0, NULL, NULL);
        return parse_json(res->out);
}

static void
test_cli_config(void)
{
        RvTestHarness h;
        guint64 rev;

        rv_test_harness_setup(&h);
        rv_test_harness_start_daemon(&h);
        rev = settings_revision(&h);

        /* show: every section, a table and JSON */
        ctl_expect(&h, 0, "engine.download_limit", NULL, "config", "show");
        ctl_expect(&h, 0, "fs.move_mode", NULL, "config");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "config", "show", "--json");
                node = ctl_json(&h, &res);
                obj = json_node_get_object(node);
                g_assert_cmpint(json_object_get_int_member(obj, "revision"), ==, (gint64)rev);
                g_assert_true(json_object_has_member(obj, "app"));
                g_assert_true(json_object_has_member(obj, "fs"));
                obj = json_object_get_object_member(obj, "engine");
                /* the harness turns uTP off in revaerd.conf */
                g_assert_false(json_object_get_boolean_member(obj, "utp"));
                g_assert_cmpint(json_object_get_int_member(obj, "download_limit"), ==, 0);
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "alt_schedule_days")), ==, 7);
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                ctl_run(&h, &res, "config", "show", "engine");
                ctl_check(&res, 0, "engine.dht", NULL);
                g_assert_null(strstr(res.out, "app.instance_name"));
        }
        ctl_expect(&h, 2, NULL, "unknown section 'nope'", "config", "show", "nope");

        /* get: both spellings of a key; JSON is the bare value */
        ctl_expect(&h, 0, "false\n", NULL, "config", "get", "engine.utp");
        ctl_expect(&h, 0, "7070\n", NULL, "config", "get", "/app/http_port");
        ctl_expect(&h, 0, "\"revaer\"", NULL, "config", "get", "--json", "app.instance_name");
        ctl_expect(&h, 2, NULL, "unknown setting 'engine.nope'", "config", "get", "engine.nope");

        /* set: one field, then several in one revision */
        ctl_expect(&h, 0, "Saved as revision", NULL, "config", "set", "engine.download_limit=5M");
        g_assert_cmpuint(settings_revision(&h), ==, rev + 1);
        {
                g_autoptr(GVariant) v = get_setting(&h, "engine", "com.revaer.Revaer1.Policy.Engine", "DownloadLimit");
                g_assert_cmpint(g_variant_get_int64(v), ==, 5 * MIB);
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                ctl_run(&h, &res, "config", "set", "--json", "fs.move_mode=copy", "fs.Flatten=yes",
                        "fs.cleanup_drop=@skip_fluff, *.nfo", "/fs/chown_user=alice");
                node = ctl_json(&h, &res);
                g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "revision"), ==,
                                (gint64)rev + 2);
                g_assert_true(json_object_get_boolean_member(json_node_get_object(node), "changed"));
        }
        g_assert_cmpuint(settings_revision(&h), ==, rev + 2);
        {
                g_autoptr(GVariant) mode = get_setting(&h, "fs", "com.revaer.Revaer1.Policy.Fs", "MoveMode");
                g_autoptr(GVariant) flatten = get_setting(&h, "fs", "com.revaer.Revaer1.Policy.Fs", "Flatten");
                g_autoptr(GVariant) drop = get_setting(&h, "fs", "com.revaer.Revaer1.Policy.Fs", "CleanupDrop");
                g_autofree const char **strv = g_variant_get_strv(drop, NULL);
                g_assert_cmpstr(g_variant_get_string(mode, NULL), ==, "copy");
                g_assert_true(g_variant_get_boolean(flatten));
                g_assert_cmpuint(g_strv_length((char **)strv), ==, 2);
                g_assert_cmpstr(strv[1], ==, "*.nfo");
        }
        ctl_expect(&h, 0, "alice\n", NULL, "config", "get", "fs.chown_user");
        ctl_expect(&h, 0, NULL, NULL, "config", "set", "fs.chown_user=null");
        ctl_expect(&h, 0, "\"\"", NULL, "config", "get", "--json", "fs.chown_user");
        rev = settings_revision(&h);
        /* the same value again stores nothing */
        ctl_expect(&h, 0, "Nothing changed", NULL, "config", "set", "fs.move_mode=copy");

        /* refused values name the field and change nothing */
        ctl_expect(&h, 2, NULL, "/engine/listen_port", "config", "set", "engine.listen_port=70000");
        ctl_expect(&h, 2, NULL, "/engine/dht", "config", "set", "engine.dht=maybe");
        ctl_expect(&h, 2, NULL, "/fs/library_root", "config", "set", "fs.library_root=relative/path");
        ctl_expect(&h, 2, NULL, "read-only", "config", "set", "app.mode=active");
        ctl_expect(&h, 2, NULL, "different sections", "config", "set", "engine.upload_limit=1M", "fs.flatten=no");
        g_assert_cmpuint(settings_revision(&h), ==, rev);

        /* history: who changed what, newest first */
        {
                g_auto(RvCtlResult) res = { 0 };
                ctl_run(&h, &res, "config", "history");
                ctl_check(&res, 0, "/engine/download_limit", NULL);
                g_assert_nonnull(strstr(res.out, "dbus:uid="));
                g_assert_nonnull(strstr(res.out, "bootstrap"));
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonArray *array;
                JsonObject *newest;
                ctl_run(&h, &res, "config", "history", "--json", "--limit", "2");
                node = ctl_json(&h, &res);
                array = json_node_get_array(node);
                g_assert_cmpuint(json_array_get_length(array), ==, 2);
                newest = json_array_get_object_element(array, 0);
                g_assert_cmpint(json_object_get_int_member(newest, "revision"), ==, (gint64)rev);
                g_assert_true(g_str_has_prefix(json_object_get_string_member(newest, "actor"), "dbus:uid="));
                g_assert_true(
                        json_object_has_member(json_object_get_object_member(newest, "changes"), "/fs/chown_user"));
        }

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static gboolean
setup_required(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get(h, RV_BUS_PATH, "SetupRequired");

        return g_variant_get_boolean(v);
}

/* the value after "Label:" on a line of its own */
static char *
field_value(const char *out, const char *label)
{
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], label) && lines[i][strlen(label)] == ':')
                        return g_strstrip(g_strdup(lines[i] + strlen(label) + 1));
        }
        g_error("no '%s:' in:\n%s", label, out);
        return NULL;
}

static void
test_cli_setup_keys(void)
{
        RvTestHarness h;
        g_autofree char *token = NULL;
        g_autofree char *first = NULL;
        g_autofree char *first_secret = NULL;
        g_autofree char *second = NULL;
        g_autofree char *second_secret = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_start_daemon(&h);
        g_assert_true(setup_required(&h));
        ctl_expect(&h, 0, "No API keys", NULL, "keys", "list");

        /* a token, in text and in JSON; the later one replaces the earlier */
        ctl_expect(&h, 0, "Setup token:", NULL, "setup");
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                ctl_run(&h, &res, "setup", "--json");
                node = ctl_json(&h, &res);
                obj = json_node_get_object(node);
                token = g_strdup(json_object_get_string_member(obj, "token"));
                g_assert_cmpint(json_object_get_int_member(obj, "expires_at"), >, g_get_real_time() / G_USEC_PER_SEC);
        }
        g_assert_cmpuint(strlen(token), >=, 16);

        /* a wrong token is a refusal, a runtime failure; the right one makes the first key */
        ctl_expect(&h, 3, NULL, "access denied", "setup", "complete", "not-the-token");
        g_assert_true(setup_required(&h));
        {
                g_auto(RvCtlResult) res = { 0 };
                /* a token may start with '-' */
                ctl_run(&h, &res, "setup", "complete", "--label", "first", "--", token);
                ctl_check(&res, 0, "shown this once", NULL);
                first = field_value(res.out, "Key ID");
                first_secret = field_value(res.out, "Secret");
        }
        g_assert_true(g_str_has_prefix(first, "rk_"));
        g_assert_cmpuint(strlen(first_secret), >=, 40);
        g_assert_false(setup_required(&h));
        ctl_expect(&h, 3, NULL, NULL, "setup", "complete", "--", token);
        ctl_expect(&h, 3, NULL, "set up already", "setup");

        /* more keys; the list never shows a secret */
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                ctl_run(&h, &res, "keys", "create", "sonarr", "--burst", "5", "--period", "60", "--json");
                node = ctl_json(&h, &res);
                second = g_strdup(json_object_get_string_member(json_node_get_object(node), "key_id"));
                second_secret = g_strdup(json_object_get_string_member(json_node_get_object(node), "secret"));
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                ctl_run(&h, &res, "keys", "list");
                ctl_check(&res, 0, "5 per 60 s", NULL);
                g_assert_nonnull(strstr(res.out, first));
                g_assert_nonnull(strstr(res.out, "sonarr"));
                g_assert_null(strstr(res.out, first_secret));
        }
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autoptr(JsonNode) node = NULL;
                JsonObject *obj;
                JsonArray *array = NULL;
                ctl_run(&h, &res, "keys", "--json");
                node = ctl_json(&h, &res);
                array = json_node_get_array(node);
                g_assert_cmpuint(json_array_get_length(array), ==, 2);
                /* in the service's order, which is not necessarily the order of creation */
                obj = json_array_get_object_element(array, 0);
                if (g_strcmp0(json_object_get_string_member(obj, "key_id"), second) != 0)
                        obj = json_array_get_object_element(array, 1);
                g_assert_cmpstr(json_object_get_string_member(obj, "key_id"), ==, second);
                g_assert_cmpstr(json_object_get_string_member(obj, "label"), ==, "sonarr");
                g_assert_cmpint(json_object_get_int_member(obj, "burst"), ==, 5);
                g_assert_cmpint(json_object_get_int_member(obj, "period_s"), ==, 60);
                g_assert_false(json_object_has_member(obj, "secret"));
                g_assert_null(strstr(res.out, second_secret));
        }

        /* rotate gives a new secret; revoke, and the last key gone means setup again */
        {
                g_auto(RvCtlResult) res = { 0 };
                g_autofree char *rotated = NULL;
                ctl_run(&h, &res, "keys", "rotate", second);
                ctl_check(&res, 0, "shown this once", NULL);
                rotated = field_value(res.out, "Secret");
                g_assert_cmpstr(rotated, !=, second_secret);
        }
        ctl_expect(&h, 3, NULL, "rk_nope", "keys", "revoke", "rk_nope");
        ctl_expect(&h, 0, NULL, NULL, "keys", "revoke", second);
        g_assert_false(setup_required(&h));
        ctl_expect(&h, 0, "last API key", NULL, "keys", "revoke", first);
        g_assert_true(setup_required(&h));

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cli/usage", test_cli_usage);
        g_test_add_func("/cli/magnet", test_cli_magnet);
        g_test_add_func("/cli/torrent-file", test_cli_torrent_file);
        g_test_add_func("/cli/add-no-answer", test_cli_add_no_answer);
        g_test_add_func("/cli/config", test_cli_config);
        g_test_add_func("/cli/setup-keys", test_cli_setup_keys);
        return g_test_run();
}
