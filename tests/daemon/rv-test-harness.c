/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "rv-engine.h"
#include "rv-test-data.h"
#include "rv-test-harness.h"

void
rv_test_require_program(const char *name)
{
        g_autofree char *path = g_find_program_in_path(name);

        if (path != NULL)
                return;
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
                g_error("%s is required in CI", name);
        g_print("1..0 # SKIP %s is not installed\n", name);
        exit(77);
}

void
rv_test_require_mount_namespace(void)
{
        const char *why = NULL;

        if (geteuid() != 0)
                why = "needs root for a tmpfs in a mount namespace";
        else if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                why = "cannot make a mount namespace";
        if (why == NULL)
                return;
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
                g_error("%s (required in CI)", why);
        g_print("1..0 # SKIP %s\n", why);
        exit(77);
}

static volatile sig_atomic_t rv_test_children[32];

/* whether pid is still a child of this process, not a stranger that took its number (async-signal-safe) */
static gboolean
rv_test_is_own_child(pid_t pid)
{
        char path[32] = "/proc/";
        char digits[16];
        char buf[512];
        gsize n = 0;
        gsize len = strlen(path);
        ssize_t got;
        const char *p;
        int fd;
        long ppid = 0;

        for (pid_t v = pid; v > 0 && n < sizeof(digits); v /= 10)
                digits[n++] = (char)('0' + v % 10);
        while (n > 0)
                path[len++] = digits[--n];
        memcpy(path + len, "/stat", 6);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return FALSE;
        got = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (got <= 0)
                return FALSE;
        buf[got] = '\0';
        /* pid (comm) state ppid: comm may hold anything, so start after its last ')' */
        p = strrchr(buf, ')');
        if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
                return FALSE;
        for (p += 4; *p >= '0' && *p <= '9'; p++)
                ppid = ppid * 10 + (*p - '0');
        return ppid == (long)getpid();
}

static void
rv_test_abort_handler(int sig)
{
        for (guint i = 0; i < G_N_ELEMENTS(rv_test_children); i++) {
                pid_t pid = (pid_t)rv_test_children[i];
                if (pid > 0 && rv_test_is_own_child(pid))
                        kill(pid, SIGKILL);
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

void
rv_test_track_child(GSubprocess *proc)
{
        const char *id = proc != NULL ? g_subprocess_get_identifier(proc) : NULL;

        if (id == NULL)
                return;
        for (guint i = 0; i < G_N_ELEMENTS(rv_test_children); i++) {
                /* a slot whose child was reaped is free again */
                if (rv_test_children[i] == 0 || !rv_test_is_own_child((pid_t)rv_test_children[i])) {
                        rv_test_children[i] = atoi(id);
                        return;
                }
        }
        g_error("more than %u children to track", (guint)G_N_ELEMENTS(rv_test_children));
}

/*
 * in the child: killed when the test dies, however it dies (a sanitizer's
 * _exit runs no handler), so no daemon outlives its test holding the test
 * runner's output pipe open
 */
static void
rv_test_child_setup(gpointer user_data)
{
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocessLauncher *
rv_test_launcher_new(GSubprocessFlags flags)
{
        GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);

        g_subprocess_launcher_set_child_setup(launcher, rv_test_child_setup, NULL, NULL);
        return launcher;
}

/* dbus-daemon on a socket in the test's dir, allowing everything, with no services to activate */
static void
rv_test_bus_start(RvTestHarness *h)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *conf_path = g_build_filename(h->dir, "bus.conf", NULL);
        g_autofree char *conf = g_markup_printf_escaped(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <type>session</type>\n"
                "  <listen>unix:dir=%s</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "  <policy context=\"default\">\n"
                "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                "    <allow eavesdrop=\"true\"/>\n"
                "    <allow own=\"*\"/>\n"
                "  </policy>\n"
                "</busconfig>\n",
                h->dir);
        g_autofree char *conf_arg = NULL;
        g_autoptr(GDataInputStream) in = NULL;

        g_file_set_contents(conf_path, conf, -1, &error);
        g_assert_no_error(error);
        conf_arg = g_strconcat("--config-file=", conf_path, NULL);
        {
                g_autoptr(GSubprocessLauncher) launcher = rv_test_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
                h->bus = g_subprocess_launcher_spawn(launcher, &error, "dbus-daemon", conf_arg, "--nofork",
                                                     "--nosyslog", "--print-address=1", NULL);
        }
        g_assert_no_error(error);
        rv_test_track_child(h->bus);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(h->bus));
        h->bus_address = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(h->bus_address);
}

static void
rv_test_bus_stop(RvTestHarness *h)
{
        if (h->bus != NULL) {
                g_subprocess_send_signal(h->bus, SIGTERM);
                (void)g_subprocess_wait(h->bus, NULL, NULL);
        }
        g_clear_object(&h->bus);
        g_clear_pointer(&h->bus_address, g_free);
}

void
rv_test_harness_setup(RvTestHarness *h)
{
        static gsize handler_installed;
        g_autoptr(GError) error = NULL;

        rv_test_require_program("dbus-daemon");
        if (g_once_init_enter(&handler_installed)) {
                signal(SIGABRT, rv_test_abort_handler);
                /* g_error() traps rather than aborts */
                signal(SIGTRAP, rv_test_abort_handler);
                g_once_init_leave(&handler_installed, 1);
        }
        memset(h, 0, sizeof(*h));
        h->dir = g_dir_make_tmp("rv-test-daemon-XXXXXX", &error);
        g_assert_no_error(error);
        h->state = g_build_filename(h->dir, "state", NULL);
        h->downloads = g_build_filename(h->dir, "downloads", NULL);
        h->config = g_build_filename(h->dir, "revaerd.conf", NULL);
        h->log = g_build_filename(h->dir, "revaerd.log", NULL);
        g_mkdir_with_parents(h->downloads, 0755);
        rv_test_bus_start(h);
        h->conn = g_dbus_connection_new_for_address_sync(h->bus_address,
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                         NULL, NULL, &error);
        g_assert_no_error(error);
        rv_test_harness_write_config(h, NULL);
}

void
rv_test_harness_teardown(RvTestHarness *h)
{
        if (h->daemon != NULL && rv_test_harness_daemon_running(h))
                rv_test_harness_kill_daemon(h);
        g_clear_object(&h->daemon);
        rv_test_harness_stop_seeder(h);
        if (h->conn != NULL)
                g_dbus_connection_close_sync(h->conn, NULL, NULL);
        g_clear_object(&h->conn);
        rv_test_bus_stop(h);
        if (g_getenv("REVAER_TEST_KEEP") == NULL)
                rv_test_data_remove_tree(h->dir);
        else
                g_printerr("# kept %s\n", h->dir);
        g_free(h->dir);
        g_free(h->state);
        g_free(h->downloads);
        g_free(h->config);
        g_free(h->log);
        g_clear_pointer(&h->daemon_env, g_ptr_array_unref);
}

void
rv_test_harness_write_config(RvTestHarness *h, const char *extra)
{
        g_autofree char *text = g_strdup_printf("[daemon]\n"
                                                "resume-save-interval=1\n"
                                                "progress-interval=200\n"
                                                "shutdown-timeout=20\n"
                                                "[http]\n"
                                                "listen=127.0.0.1:0\n"
                                                "[engine]\n"
                                                "listen-interfaces=127.0.0.1:0\n"
                                                "dht=false\nlsd=false\nupnp=false\nnatpmp=false\nutp=false\n"
                                                "allow-multiple-connections-per-ip=true\n"
                                                "status-interval=200\n"
                                                "%s",
                                                extra != NULL ? extra : "");
        g_autoptr(GError) error = NULL;

        g_file_set_contents(h->config, text, -1, &error);
        g_assert_no_error(error);
}

static gboolean
rv_test_name_has_owner(RvTestHarness *h)
{
        g_autoptr(GVariant) reply = NULL;
        gboolean has = FALSE;

        reply = g_dbus_connection_call_sync(h->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", RV_BUS_NAME),
                                            G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
        if (reply != NULL)
                g_variant_get(reply, "(b)", &has);
        return has;
}

void
rv_test_harness_set_daemon_env(RvTestHarness *h, const char *name, const char *value)
{
        if (h->daemon_env == NULL)
                h->daemon_env = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(h->daemon_env, g_strdup_printf("%s=%s", name, value));
}

void
rv_test_harness_spawn_daemon(RvTestHarness *h)
{
        g_autoptr(GSubprocessLauncher) launcher = rv_test_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_autoptr(GError) error = NULL;
        const char *revaerd = g_getenv("REVAERD");

        g_assert_nonnull(revaerd);
        g_clear_object(&h->daemon);
        g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", h->bus_address, TRUE);
        g_subprocess_launcher_unsetenv(launcher, "STATE_DIRECTORY");
        g_subprocess_launcher_unsetenv(launcher, "NOTIFY_SOCKET");
        for (guint i = 0; h->daemon_env != NULL && i < h->daemon_env->len; i++) {
                const char *item = g_ptr_array_index(h->daemon_env, i);
                g_autofree char *name = g_strndup(item, (gsize)(strchr(item, '=') - item));
                g_subprocess_launcher_setenv(launcher, name, strchr(item, '=') + 1, TRUE);
        }
        g_subprocess_launcher_set_stderr_file_path(launcher, NULL);
        {
                /* append, so the log of every run of this test is kept */
                int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                g_assert_cmpint(fd, >=, 0);
                g_subprocess_launcher_take_stderr_fd(launcher, fd);
        }
        h->daemon =
                g_subprocess_launcher_spawn(launcher, &error, revaerd, "--bus", "session", "--config", h->config,
                                            "--state-dir", h->state, "--download-dir", h->downloads, "--verbose", NULL);
        g_assert_no_error(error);
        rv_test_track_child(h->daemon);
}

void
rv_test_harness_start_daemon(RvTestHarness *h)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        rv_test_harness_spawn_daemon(h);
        while (!rv_test_name_has_owner(h)) {
                if (!rv_test_harness_daemon_running(h)) {
                        g_autofree char *log = rv_test_read_log(h);
                        g_error("revaerd exited early:\n%s", log);
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
}

void
rv_test_harness_store_torrents(RvTestHarness *h, const char *prefix, guint n, gboolean paused)
{
        g_autofree char *dir = g_build_filename(h->state, "torrents", NULL);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        for (guint i = 0; i < n; i++) {
                g_autoptr(GBytes) data = rv_test_data_tiny_torrent(prefix, i);
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, data, &error);
                g_autoptr(GBytes) resume = NULL;
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) meta = NULL;
                g_autofree char *text = NULL;
                g_autofree char *file = NULL;
                const RvEngineSourceInfo *info;
                RvEngineAddOptions options;

                g_assert_no_error(error);
                info = rv_engine_source_get_info(source);
                rv_engine_add_options_init(&options);
                options.save_path = h->downloads;
                options.paused = paused;
                resume = rv_engine_source_write_resume(source, &options, &error);
                g_assert_no_error(error);
                file = g_strdup_printf("%s/%s.resume", dir, info->hash.hex);
                g_assert_true(g_file_set_contents(file, g_bytes_get_data(resume, NULL),
                                                  (gssize)g_bytes_get_size(resume), &error));
                g_assert_no_error(error);

                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "version");
                json_builder_add_int_value(builder, 1);
                json_builder_set_member_name(builder, "info_hash");
                json_builder_add_string_value(builder, info->hash.hex);
                json_builder_set_member_name(builder, "name");
                json_builder_add_string_value(builder, info->name);
                json_builder_set_member_name(builder, "save_path");
                json_builder_add_string_value(builder, h->downloads);
                json_builder_set_member_name(builder, "paused");
                json_builder_add_boolean_value(builder, paused);
                json_builder_set_member_name(builder, "added_time");
                json_builder_add_int_value(builder, g_get_real_time() / G_USEC_PER_SEC);
                json_builder_end_object(builder);
                meta = json_builder_get_root(builder);
                text = json_to_string(meta, FALSE);
                g_free(file);
                file = g_strdup_printf("%s/%s.json", dir, info->hash.hex);
                g_assert_true(g_file_set_contents(file, text, -1, &error));
                g_assert_no_error(error);
        }
}

int
rv_test_harness_wait_daemon(RvTestHarness *h, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        while (rv_test_harness_daemon_running(h)) {
                if (g_get_monotonic_time() > deadline) {
                        rv_test_harness_kill_daemon(h);
                        return -1;
                }
                g_usleep(20000);
        }
        (void)g_subprocess_wait(h->daemon, NULL, NULL);
        return g_subprocess_get_if_exited(h->daemon) ? g_subprocess_get_exit_status(h->daemon) : -1;
}

gboolean
rv_test_harness_daemon_running(RvTestHarness *h)
{
        return h->daemon != NULL && g_subprocess_get_identifier(h->daemon) != NULL;
}

int
rv_test_harness_stop_daemon(RvTestHarness *h)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(h->daemon, SIGTERM);
        g_assert_true(g_subprocess_wait(h->daemon, NULL, &error));
        g_assert_no_error(error);
        if (!g_subprocess_get_if_exited(h->daemon)) {
                g_autofree char *log = rv_test_read_log(h);
                g_error("revaerd ended by signal %d on SIGTERM:\n%s", g_subprocess_get_term_sig(h->daemon), log);
        }
        return g_subprocess_get_exit_status(h->daemon);
}

void
rv_test_harness_kill_daemon(RvTestHarness *h)
{
        g_subprocess_force_exit(h->daemon);
        (void)g_subprocess_wait(h->daemon, NULL, NULL);
}

/* runs the seeder with argv and reads its READY line */
static void
rv_test_harness_run_seeder(RvTestHarness *h, GPtrArray *argv, const char *payload)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        g_autofree char *magnet_out = g_build_filename(h->dir, "seed.magnet", NULL);
        g_auto(GStrv) fields = NULL;

        g_ptr_array_add(argv, NULL);
        g_assert_nonnull(g_ptr_array_index(argv, 0));
        rv_test_harness_stop_seeder(h);
        h->seeder.process = g_subprocess_newv((const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
        g_assert_no_error(error);
        rv_test_track_child(h->seeder.process);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(h->seeder.process));
        for (;;) {
                g_free(line);
                line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_nonnull(line);
                if (g_str_has_prefix(line, "READY "))
                        break;
        }
        fields = g_strsplit(line, " ", -1);
        for (guint i = 1; fields[i] != NULL; i++) {
                if (g_str_has_prefix(fields[i], "port="))
                        h->seeder.port = (guint16)g_ascii_strtoull(fields[i] + 5, NULL, 10);
                else if (g_str_has_prefix(fields[i], "hash="))
                        h->seeder.hash = g_strdup(fields[i] + 5);
                else if (g_str_has_prefix(fields[i], "torrent="))
                        h->seeder.torrent_path = g_strdup(fields[i] + 8);
        }
        g_assert_nonnull(h->seeder.hash);
        g_assert_cmpuint(h->seeder.port, >, 0);
        g_assert_true(g_file_get_contents(magnet_out, &h->seeder.magnet, NULL, NULL));
        g_strstrip(h->seeder.magnet);
        h->seeder.payload = g_strdup(payload);
}

static void
rv_test_harness_seeder_common_args(RvTestHarness *h, GPtrArray *argv)
{
        g_ptr_array_add(argv, (gpointer)g_getenv("REVAER_SEEDER"));
        g_ptr_array_add(argv, "--port");
        g_ptr_array_add(argv, "0");
        g_ptr_array_add(argv, "--torrent-out");
        g_ptr_array_add(argv, g_build_filename(h->dir, "seed.torrent", NULL));
        g_ptr_array_add(argv, "--magnet-out");
        g_ptr_array_add(argv, g_build_filename(h->dir, "seed.magnet", NULL));
}

void
rv_test_harness_start_seeder(RvTestHarness *h, const char *name, gint64 size, guint files, gboolean fluff,
                             guint piece_size)
{
        g_autofree char *seed_dir = g_build_filename(h->dir, "seed", NULL);
        g_autofree char *size_s = g_strdup_printf("%" G_GINT64_FORMAT, size);
        g_autofree char *files_s = g_strdup_printf("%u", files);
        g_autofree char *piece_s = g_strdup_printf("%u", piece_size);
        g_autofree char *payload = g_build_filename(seed_dir, name, NULL);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);

        rv_test_harness_seeder_common_args(h, argv);
        /* the two paths the common arguments made */
        g_ptr_array_add(owned, g_ptr_array_index(argv, 4));
        g_ptr_array_add(owned, g_ptr_array_index(argv, 6));
        g_ptr_array_add(argv, "--dir");
        g_ptr_array_add(argv, seed_dir);
        g_ptr_array_add(argv, "--name");
        g_ptr_array_add(argv, (gpointer)name);
        g_ptr_array_add(argv, "--size");
        g_ptr_array_add(argv, size_s);
        g_ptr_array_add(argv, "--files");
        g_ptr_array_add(argv, files_s);
        if (piece_size > 0) {
                g_ptr_array_add(argv, "--piece-size");
                g_ptr_array_add(argv, piece_s);
        }
        if (fluff)
                g_ptr_array_add(argv, "--fluff");
        rv_test_harness_run_seeder(h, argv, payload);
        if (!g_file_test(h->seeder.payload, G_FILE_TEST_EXISTS)) {
                g_free(h->seeder.payload);
                h->seeder.payload = g_build_filename(seed_dir, "payload.bin", NULL);
        }
}

void
rv_test_harness_start_seeder_path(RvTestHarness *h, const char *path)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);

        rv_test_harness_seeder_common_args(h, argv);
        g_ptr_array_add(owned, g_ptr_array_index(argv, 4));
        g_ptr_array_add(owned, g_ptr_array_index(argv, 6));
        g_ptr_array_add(argv, "--path");
        g_ptr_array_add(argv, (gpointer)path);
        rv_test_harness_run_seeder(h, argv, path);
}

void
rv_test_harness_stop_seeder(RvTestHarness *h)
{
        if (h->seeder.process != NULL) {
                g_subprocess_send_signal(h->seeder.process, SIGTERM);
                (void)g_subprocess_wait(h->seeder.process, NULL, NULL);
        }
        g_clear_object(&h->seeder.process);
        g_clear_pointer(&h->seeder.hash, g_free);
        g_clear_pointer(&h->seeder.torrent_path, g_free);
        g_clear_pointer(&h->seeder.magnet, g_free);
        g_clear_pointer(&h->seeder.payload, g_free);
}

GBytes *
rv_test_harness_seeder_torrent(RvTestHarness *h)
{
        char *contents = NULL;
        gsize len = 0;

        g_assert_true(g_file_get_contents(h->seeder.torrent_path, &contents, &len, NULL));
        return g_bytes_new_take(contents, len);
}

GVariant *
rv_test_call(RvTestHarness *h, const char *path, const char *iface, const char *method, GVariant *params,
             const GVariantType *reply_type, GError **error)
{
        return g_dbus_connection_call_sync(h->conn, RV_BUS_NAME, path, iface, method, params, reply_type,
                                           G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

/* the interface that holds the properties of an object */
static const char *
rv_test_iface_for_path(const char *path)
{
        if (g_str_has_prefix(path, RV_BUS_PATH "/torrent"))
                return RV_BUS_TORRENT_IFACE;
        if (g_str_has_suffix(path, "/policy/app"))
                return "com.revaer.Revaer1.Policy.App";
        if (g_str_has_suffix(path, "/policy/engine"))
                return "com.revaer.Revaer1.Policy.Engine";
        if (g_str_has_suffix(path, "/policy/fs"))
                return "com.revaer.Revaer1.Policy.Fs";
        return RV_BUS_MANAGER_IFACE;
}

GVariant *
rv_test_get_iface(RvTestHarness *h, const char *path, const char *iface, const char *prop)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        GVariant *value = NULL;

        reply = rv_test_call(h, path, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", iface, prop),
                             G_VARIANT_TYPE("(v)"), &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(v)", &value);
        return value;
}

GVariant *
rv_test_get(RvTestHarness *h, const char *path, const char *prop)
{
        return rv_test_get_iface(h, path, rv_test_iface_for_path(path), prop);
}

GVariant *
rv_test_wait_prop(RvTestHarness *h, const char *path, const char *prop, RvTestPred pred, gconstpointer data,
                  guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        for (;;) {
                GVariant *value = rv_test_get(h, path, prop);
                if (pred(value, data))
                        return value;
                if (g_get_monotonic_time() > deadline) {
                        g_autofree char *printed = g_variant_print(value, FALSE);
                        g_autofree char *log = rv_test_read_log(h);
                        g_printerr("%s\n", log != NULL ? log : "");
                        g_error("timed out waiting on %s of %s (last %s)", prop, path, printed);
                }
                g_variant_unref(value);
                g_usleep(100000);
        }
}

gboolean
rv_test_pred_true(GVariant *value, gconstpointer data)
{
        return g_variant_get_boolean(value);
}

gboolean
rv_test_pred_string(GVariant *value, gconstpointer data)
{
        return g_strcmp0(g_variant_get_string(value, NULL), data) == 0;
}

gboolean
rv_test_pred_at_least(GVariant *value, gconstpointer data)
{
        return g_variant_get_uint64(value) >= *(const guint64 *)data;
}

GVariant *
rv_test_options(RvTestHarness *h, ...)
{
        GVariantBuilder b;
        va_list args;
        const char *key;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (h->seeder.port > 0) {
                g_autofree char *peer = g_strdup_printf("127.0.0.1:%u", h->seeder.port);
                const char *peers[] = { peer, NULL };
                g_variant_builder_add(&b, "{sv}", "peers", g_variant_new_strv(peers, -1));
        }
        va_start(args, h);
        while ((key = va_arg(args, const char *)) != NULL) {
                GVariant *value = va_arg(args, GVariant *);
                g_variant_builder_add(&b, "{sv}", key, value);
        }
        va_end(args);
        return g_variant_builder_end(&b);
}

char *
rv_test_error_name(const GError *error)
{
        g_assert_nonnull(error);
        return g_dbus_error_get_remote_error(error);
}

char *
rv_test_read_log(RvTestHarness *h)
{
        char *contents = NULL;

        (void)g_file_get_contents(h->log, &contents, NULL, NULL);
        return contents;
}

GStrv
rv_test_column_strings(GVariant *columns, const char *field)
{
        g_autoptr(GVariant) column = g_variant_lookup_value(columns, field, NULL);
        g_autoptr(GVariant) hashes = g_variant_lookup_value(columns, "info_hash", G_VARIANT_TYPE("as"));
        g_autoptr(GVariant) values = NULL;
        g_autoptr(GVariant) rows = NULL;
        const char *common = "";
        gsize n;
        GStrv out;

        g_assert_nonnull(column);
        g_assert_nonnull(hashes);
        n = g_variant_n_children(hashes);
        if (g_variant_is_of_type(column, G_VARIANT_TYPE("as")))
                return g_variant_dup_strv(column, NULL);
        if (g_variant_is_of_type(column, G_VARIANT_TYPE("(sasau)"))) {
                g_variant_get_child(column, 0, "&s", &common);
                values = g_variant_get_child_value(column, 1);
                rows = g_variant_get_child_value(column, 2);
        } else {
                g_assert_true(g_variant_is_of_type(column, G_VARIANT_TYPE("(asau)")));
                values = g_variant_get_child_value(column, 0);
                rows = g_variant_get_child_value(column, 1);
        }
        g_assert_cmpuint(g_variant_n_children(values), ==, g_variant_n_children(rows));
        /* the listed rows hold something other than the common value, and fewer than half do */
        g_assert_cmpuint(g_variant_n_children(rows) * 2, <, n);
        out = g_new0(char *, n + 1);
        for (gsize i = 0; i < g_variant_n_children(rows); i++) {
                guint32 row;
                const char *value;
                g_variant_get_child(rows, i, "u", &row);
                g_variant_get_child(values, i, "&s", &value);
                g_assert_cmpuint(row, <, n);
                g_assert_null(out[row]);
                g_assert_cmpstr(value, !=, common);
                out[row] = g_strdup(value);
        }
        for (gsize i = 0; i < n; i++)
                if (out[i] == NULL)
                        out[i] = g_strdup(common);
        return out;
}
