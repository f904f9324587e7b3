/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * revaerd with many torrents, measured through its D-Bus API on a private
 * session bus: adds per second (pipelined AddTorrent calls, each replied once
 * durable), the compact list, GetManagedObjects and a property read, the
 * daemon's RSS, its idle CPU and wake-ups, ResumeAll and PauseAll, the main
 * loop's longest iterations, and a restart until every torrent is listed
 * again
 *
 *   rv-bench-bus --revaerd build/src/daemon/revaerd [--torrents 10000] [--idle 30]
 */

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>
#include <systemd/sd-bus.h>

#include "rv-test-data.h"

typedef struct {
        GDBusConnection *conn;
        GSubprocess *daemon;
        char *revaerd;
        char *dir;
        char *address;
        guint inflight;
        guint done;
        guint failed;
        GMainLoop *loop;
} Bench;

static double
now_s(void)
{
        return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static gboolean
name_owned(Bench *b)
{
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                g_variant_new("(s)", "com.revaer.Revaer1"), G_VARIANT_TYPE("(b)"), 0, 5000, NULL, NULL);
        gboolean owned = FALSE;

        if (r != NULL)
                g_variant_get(r, "(b)", &owned);
        return owned;
}

static guint
torrent_count(Bench *b)
{
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                b->conn, "com.revaer.Revaer1", "/com/revaer/Revaer1", "org.freedesktop.DBus.Properties", "Get",
                g_variant_new("(ss)", "com.revaer.Revaer1.Manager", "TorrentCount"), G_VARIANT_TYPE("(v)"), 0, 30000,
                NULL, NULL);
        g_autoptr(GVariant) v = NULL;

        if (r == NULL)
                return 0;
        g_variant_get(r, "(v)", &v);
        return g_variant_get_uint32(v);
}

static void
start_daemon(Bench *b)
{
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_autofree char *log = g_build_filename(b->dir, "revaerd.log", NULL);
        g_autofree char *state = g_build_filename(b->dir, "state", NULL);
        g_autofree char *downloads = g_build_filename(b->dir, "downloads", NULL);
        g_autofree char *config = g_build_filename(b->dir, "revaerd.conf", NULL);
        g_autoptr(GError) error = NULL;

        g_subprocess_launcher_setenv(l, "DBUS_SESSION_BUS_ADDRESS", b->address, TRUE);
        /* appended: the restarted daemon's lines follow the first one's */
        g_subprocess_launcher_take_stderr_fd(l, open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        g_clear_object(&b->daemon);
        b->daemon = g_subprocess_launcher_spawn(l, &error, b->revaerd, "--bus", "session", "--config", config,
                                                "--state-dir", state, "--download-dir", downloads, NULL);
        if (b->daemon == NULL) {
                g_printerr("cannot start revaerd: %s\n", error->message);
                exit(1);
        }
}

static void
add_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Bench *b = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        if (r == NULL) {
                if (b->failed++ == 0)
                        g_printerr("add failed: %s\n", error->message);
        }
        b->done++;
        b->inflight--;
        g_main_loop_quit(b->loop);
}

static void
add_one(Bench *b, guint i)
{
        g_autoptr(GBytes) data = rv_test_data_tiny_torrent("bench", i);
        GVariantBuilder opts;

        g_variant_builder_init(&opts, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&opts, "{sv}", "paused", g_variant_new_boolean(TRUE));
        g_dbus_connection_call(
                b->conn, "com.revaer.Revaer1", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager", "AddTorrent",
                g_variant_new("(@aya{sv})", g_variant_new_from_bytes(G_VARIANT_TYPE("ay"), data, TRUE), &opts),
                G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 120000, NULL, add_cb, b);
        b->inflight++;
}

static int
compare_double(const void *a, const void *b)
{
        double x = *(const double *)a;
        double y = *(const double *)b;

        return (x > y) - (x < y);
}

/* median and 99th percentile of n timed calls, in milliseconds */
static void
time_calls(Bench *b, const char *label, const char *path, const char *iface, const char *method, GVariant *params,
           guint n)
{
        g_autofree double *t = g_new0(double, n);
        gsize bytes = 0;

        if (params != NULL)
                g_variant_ref_sink(params);
        for (guint i = 0; i < n; i++) {
                g_autoptr(GError) error = NULL;
                double t0 = now_s();
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(b->conn, "com.revaer.Revaer1", path, iface, method,
                                                                    params, NULL, 0, 60000, NULL, &error);
                t[i] = (now_s() - t0) * 1000.0;
                if (r == NULL) {
                        g_printerr("%s failed: %s\n", method, error->message);
                        exit(1);
                }
                bytes = g_variant_get_size(r);
        }
        if (params != NULL)
                g_variant_unref(params);
        qsort(t, n, sizeof(double), compare_double);
        printf("%-28s median %8.2f ms   p99 %8.2f ms   (%u calls, reply %.2f MB)\n", label, t[n / 2],
               t[MIN(n - 1, (n * 99) / 100)], n, (double)bytes / 1e6);
}

/* the "main loop since ready" line of one daemon in the log */
static void
print_stalls(Bench *b, pid_t pid, const char *when)
{
        g_autofree char *log = g_build_filename(b->dir, "revaerd.log", NULL);
        g_autofree char *text = NULL;
        g_autofree char *prefix = g_strdup_printf("revaerd[%d]: info: main loop since ready: ", (int)pid);
        const char *line = NULL;

        if (g_file_get_contents(log, &text, NULL, NULL))
                line = strstr(text, prefix);
        if (line == NULL) {
                printf("%-28s not reported\n", "main-loop stalls");
                return;
        }
        line += strlen(prefix);
        printf("%-28s %.*s   (%s)\n", "main-loop stalls", (int)strcspn(line, "\n"), line, when);
}

/* a state change seen by a client: PropertiesChanged with State on one torrent */
typedef struct {
        const char *want_paused;
        gboolean seen;
} StateWait;

static void
state_changed_cb(GDBusConnection *conn, const char *sender, const char *path, const char *iface, const char *signal,
                 GVariant *params, gpointer user_data)
{
        StateWait *w = user_data;
        g_autoptr(GVariant) changed = NULL;
        const char *state = NULL;

        g_variant_get(params, "(&s@a{sv}@as)", NULL, &changed, NULL);
        if (!g_variant_lookup(changed, "State", "&s", &state))
                return;
        if ((g_strcmp0(state, "paused") == 0) == (w->want_paused != NULL))
                w->seen = TRUE;
}

/*
 * Resume and Pause on n torrents: the time from the call to the
 * PropertiesChanged signal carrying the new State. It bounds libtorrent's
 * alert to the signal from above: the call, libtorrent's work and the alert
 * are all inside it.
 */
static void
time_state_signals(Bench *b, guint n)
{
        g_autofree double *t = g_new0(double, 2 * n);
        guint count = 0;

        for (guint i = 0; i < n; i++) {
                g_autofree char *name = g_strdup_printf("bench-%07u", i);
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                        b->conn, "com.revaer.Revaer1", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager",
                        "GetTorrent", g_variant_new("(s)", name), G_VARIANT_TYPE("(o)"), 0, 10000, NULL, NULL);
                const char *path = NULL;
                if (r == NULL)
                        continue;
                g_variant_get(r, "(&o)", &path);
                for (guint step = 0; step < 2; step++) {
                        StateWait w = { .want_paused = step == 1 ? "paused" : NULL };
                        guint id = g_dbus_connection_signal_subscribe(
                                b->conn, "com.revaer.Revaer1", "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                path, "com.revaer.Revaer1.Torrent", G_DBUS_SIGNAL_FLAGS_NONE, state_changed_cb, &w,
                                NULL);
                        /* the match rule is in place once a round trip to the bus has passed */
                        g_autoptr(GVariant) ping = g_dbus_connection_call_sync(
                                b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "GetId", NULL, NULL, 0, 10000, NULL, NULL);
                        double t0 = now_s();
                        double deadline = t0 + 5.0;
                        (void)ping;
                        g_dbus_connection_call(b->conn, "com.revaer.Revaer1", path, "com.revaer.Revaer1.Torrent",
                                               step == 0 ? "Resume" : "Pause", NULL, NULL, 0, 10000, NULL, NULL, NULL);
                        while (!w.seen && now_s() < deadline)
                                g_main_context_iteration(NULL, FALSE) || (g_usleep(100), TRUE);
                        if (w.seen)
                                t[count++] = (now_s() - t0) * 1000.0;
                        g_dbus_connection_signal_unsubscribe(b->conn, id);
                }
        }
        if (count == 0) {
                printf("%-28s no State signal seen\n", "call to State signal");
                return;
        }
        qsort(t, count, sizeof(double), compare_double);
        printf("%-28s median %8.2f ms   p99 %8.2f ms   (%u of %u changes, max %.2f ms)\n", "call to State signal",
               t[count / 2], t[MIN(count - 1, (count * 99) / 100)], count, 2 * n, t[count - 1]);
}

/* the same call through sd-bus, reply not decoded: what the daemon and the bus cost, without GVariant */
static void
time_raw(Bench *b, const char *label, const char *path, const char *iface, const char *method, guint n)
{
        g_autofree double *t = g_new0(double, n);
        sd_bus *bus = NULL;
        size_t size = 0;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, b->address) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
            sd_bus_start(bus) < 0) {
                g_printerr("cannot connect with sd-bus\n");
                exit(1);
        }
        for (guint i = 0; i < n; i++) {
                sd_bus_message *reply = NULL;
                sd_bus_error err = SD_BUS_ERROR_NULL;
                double t0 = now_s();
                if (sd_bus_call_method(bus, "com.revaer.Revaer1", path, iface, method, &err, &reply, NULL) < 0) {
                        g_printerr("%s failed: %s\n", method, err.message);
                        exit(1);
                }
                t[i] = (now_s() - t0) * 1000.0;
                (void)sd_bus_message_get_allow_interactive_authorization(reply);
                size = 0;
                sd_bus_message_unref(reply);
                sd_bus_error_free(&err);
        }
        (void)size;
        qsort(t, n, sizeof(double), compare_double);
        printf("%-28s median %8.2f ms   p99 %8.2f ms   (%u calls, sd-bus, reply not decoded)\n", label, t[n / 2],
               t[MIN(n - 1, (n * 99) / 100)], n);
        sd_bus_flush_close_unref(bus);
}

static gboolean
read_proc_status(pid_t pid, const char *key, gint64 *ret)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return FALSE;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], key)) {
                        *ret = g_ascii_strtoll(lines[i] + strlen(key), NULL, 10);
                        return TRUE;
                }
        }
        return FALSE;
}

/* CPU ticks (utime + stime) and context switches summed over all threads */
static void
read_usage(pid_t pid, gint64 *ret_ticks, gint64 *ret_switches)
{
        g_autofree char *taskdir = g_strdup_printf("/proc/%d/task", (int)pid);
        g_autoptr(GDir) dir = g_dir_open(taskdir, 0, NULL);
        const char *tid;
        gint64 ticks = 0;
        gint64 switches = 0;

        while (dir != NULL && (tid = g_dir_read_name(dir)) != NULL) {
                g_autofree char *stat = g_strdup_printf("%s/%s/stat", taskdir, tid);
                g_autofree char *status = g_strdup_printf("%s/%s/status", taskdir, tid);
                g_autofree char *text = NULL;
                g_autofree char *stext = NULL;
                if (g_file_get_contents(stat, &text, NULL, NULL)) {
                        /* fields after the command name in parentheses */
                        const char *p = strrchr(text, ')');
                        g_auto(GStrv) f = p != NULL ? g_strsplit(p + 2, " ", -1) : NULL;
                        if (f != NULL && g_strv_length(f) > 13)
                                ticks += g_ascii_strtoll(f[11], NULL, 10) + g_ascii_strtoll(f[12], NULL, 10);
                }
                if (g_file_get_contents(status, &stext, NULL, NULL)) {
                        g_auto(GStrv) lines = g_strsplit(stext, "\n", -1);
                        for (guint i = 0; lines[i] != NULL; i++) {
                                if (g_str_has_prefix(lines[i], "voluntary_ctxt_switches:") ||
                                    g_str_has_prefix(lines[i], "nonvoluntary_ctxt_switches:"))
                                        switches += g_ascii_strtoll(strchr(lines[i], ':') + 1, NULL, 10);
                        }
                }
        }
        *ret_ticks = ticks;
        *ret_switches = switches;
}

static void
rm_rf(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        rm_rf(child);
                else
                        (void)unlink(child);
        }
        (void)rmdir(path);
}

int
main(int argc, char **argv)
{
        Bench b = { 0 };
        gint n_torrents = 10000;
        gint idle_s = 30;
        gint window = 64;
        gboolean keep = FALSE;
        g_autofree char *revaerd = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GOptionContext) ctx = g_option_context_new("- revaerd with many torrents over D-Bus");
        const GOptionEntry entries[] = {
                { "revaerd", 0, 0, G_OPTION_ARG_FILENAME, &revaerd, "revaerd to run", "PATH" },
                { "torrents", 'n', 0, G_OPTION_ARG_INT, &n_torrents, "torrents to add (10000)", "N" },
                { "idle", 0, 0, G_OPTION_ARG_INT, &idle_s, "seconds of idle measurement (30)", "S" },
                { "window", 0, 0, G_OPTION_ARG_INT, &window, "adds in flight (64)", "N" },
                { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "keep the state directory for a look afterwards", NULL },
                { NULL },
        };
        g_autoptr(GSubprocess) bus = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *config_path = NULL;
        double t0;
        double t_add;
        guint next = 0;
        gint64 rss = 0;
        gint64 ticks0;
        gint64 ticks1;
        gint64 sw0;
        gint64 sw1;
        pid_t pid;
        long hz = sysconf(_SC_CLK_TCK);

        g_option_context_add_main_entries(ctx, entries, NULL);
        if (!g_option_context_parse(ctx, &argc, &argv, &error) || revaerd == NULL || n_torrents <= 0) {
                g_printerr("usage: rv-bench-bus --revaerd PATH [--torrents N] [--idle S]\n");
                return 2;
        }
        b.revaerd = revaerd;
        b.loop = g_main_loop_new(NULL, FALSE);
        b.dir = g_dir_make_tmp("rv-bench-bus-XXXXXX", NULL);
        config_path = g_build_filename(b.dir, "revaerd.conf", NULL);
        g_file_set_contents(config_path,
                            "[daemon]\nresume-save-interval=60\n[http]\nlisten=127.0.0.1:0\n"
                            "[engine]\nlisten-interfaces=127.0.0.1:0\ndht=false\nlsd=false\nupnp=false\n"
                            "natpmp=false\nutp=false\n",
                            -1, NULL);

        bus = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                               "dbus-daemon", "--session", "--nofork", "--print-address=1", NULL);
        if (bus == NULL) {
                g_printerr("cannot start dbus-daemon: %s\n", error->message);
                return 1;
        }
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(bus));
        b.address = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
        b.conn = g_dbus_connection_new_for_address_sync(b.address,
                                                        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                        NULL, NULL, &error);
        if (b.conn == NULL) {
                g_printerr("cannot connect: %s\n", error->message);
                return 1;
        }

        printf("revaerd with %d torrents (paused, 16 KiB each), embedded store in %s\n", n_torrents, b.dir);
        start_daemon(&b);
        while (!name_owned(&b))
                g_usleep(20000);

        /* adds, pipelined: each reply means the torrent is durable */
        t0 = now_s();
        while (b.done < (guint)n_torrents) {
                while (next < (guint)n_torrents && b.inflight < (guint)window)
                        add_one(&b, next++);
                g_main_loop_run(b.loop);
        }
        t_add = now_s() - t0;
        while (torrent_count(&b) < (guint)n_torrents)
                g_usleep(10000);
        printf("%-28s %8.0f adds/s      (%.2f s for %d, %u failed; all listed after %.2f s)\n", "add (AddTorrent)",
               n_torrents / t_add, t_add, n_torrents, b.failed, now_s() - t0);

        time_calls(&b, "ListTorrents (compact list)", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager",
                   "ListTorrents", NULL, 21);
        time_raw(&b, "ListTorrents (round trip)", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager", "ListTorrents",
                 21);
        time_calls(&b, "GetManagedObjects", "/com/revaer/Revaer1", "org.freedesktop.DBus.ObjectManager",
                   "GetManagedObjects", NULL, 11);
        time_raw(&b, "GetManagedObjects (round trip)", "/com/revaer/Revaer1", "org.freedesktop.DBus.ObjectManager",
                 "GetManagedObjects", 11);
        {
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                        b.conn, "com.revaer.Revaer1", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager", "GetTorrent",
                        g_variant_new("(s)", "bench-0000000"), G_VARIANT_TYPE("(o)"), 0, 10000, NULL, NULL);
                const char *path = NULL;
                g_variant_get(r, "(&o)", &path);
                time_calls(&b, "property Get (State)", path, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new("(ss)", "com.revaer.Revaer1.Torrent", "State"), 201);
        }

        time_state_signals(&b, 100);

        pid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(b.daemon), NULL, 10);
        /* let the adds settle (store writes, libtorrent's checks) before measuring idle */
        g_usleep(5 * G_USEC_PER_SEC);
        read_proc_status(pid, "VmRSS:", &rss);
        printf("%-28s %8.1f MiB\n", "RSS", rss / 1024.0);
        read_usage(pid, &ticks0, &sw0);
        g_usleep((gulong)idle_s * G_USEC_PER_SEC);
        read_usage(pid, &ticks1, &sw1);
        printf("%-28s %8.3f %% of a core   %.1f wake-ups/s   (over %d s)\n", "idle CPU",
               100.0 * (double)(ticks1 - ticks0) / (double)hz / idle_s, (double)(sw1 - sw0) / idle_s, idle_s);

        /* every torrent at once; the loop's longest iteration shows in the stall line below */
        time_calls(&b, "ResumeAll", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager", "ResumeAll", NULL, 1);
        g_usleep(3 * G_USEC_PER_SEC);
        time_calls(&b, "PauseAll", "/com/revaer/Revaer1", "com.revaer.Revaer1.Manager", "PauseAll", NULL, 1);
        g_usleep(3 * G_USEC_PER_SEC);

        /* stop and start again */
        t0 = now_s();
        g_subprocess_send_signal(b.daemon, SIGTERM);
        g_subprocess_wait(b.daemon, NULL, NULL);
        printf("%-28s %8.2f s\n", "stop (SIGTERM to exit)", now_s() - t0);
        print_stalls(&b, pid, "from ready to stop: adds, calls, idle, ResumeAll, PauseAll");
        t0 = now_s();
        start_daemon(&b);
        /* every poll costs the loading daemon a dispatch: 20 ms apart keeps the probe from slowing what it measures */
        while (!name_owned(&b))
                g_usleep(20000);
        while (torrent_count(&b) < (guint)n_torrents)
                g_usleep(20000);
        printf("%-28s %8.2f s\n", "restart until all listed", now_s() - t0);
        pid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(b.daemon), NULL, 10);
        g_usleep(3 * G_USEC_PER_SEC);
        read_proc_status(pid, "VmRSS:", &rss);
        printf("%-28s %8.1f MiB\n", "RSS after restart", rss / 1024.0);
        /* steady state: the daemon's own count of main-loop iterations over 10 ms, idle after the restart */
        g_usleep((gulong)idle_s * G_USEC_PER_SEC);
        g_subprocess_send_signal(b.daemon, SIGTERM);
        g_subprocess_wait(b.daemon, NULL, NULL);
        {
                g_autofree char *when = g_strdup_printf("%d s after the restart", idle_s + 3);
                print_stalls(&b, pid, when);
        }

        g_subprocess_send_signal(bus, SIGTERM);
        g_subprocess_wait(bus, NULL, NULL);
        if (keep)
                printf("kept %s\n", b.dir);
        else
                rm_rf(b.dir);
        return 0;
}
