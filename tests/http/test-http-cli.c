/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "rv-test-http.h"

/*
 * revaerctl --url against the real daemon: the commands it has over D-Bus,
 * their exit codes (0, 2 for usage, 3 for failures) and Problem+JSON
 * printed as errors; monitor across a dropped connection, through a proxy
 * of our own that cuts every connection at once
 */

#define MIB (1024 * 1024)

static RvTestHttp t;

/* revaerctl with the URL and key in the environment; status, and the output in ret_out */
static int
ctl(char **ret_out, char **ret_err, const char *first, ...)
{
        g_autoptr(GSubprocessLauncher) launcher =
                g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        va_list ap;

        g_ptr_array_add(argv, (gpointer)g_getenv("REVAERCTL"));
        va_start(ap, first);
        for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
                g_ptr_array_add(argv, (gpointer)a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        g_subprocess_launcher_setenv(launcher, "REVAER_URL", t.base, TRUE);
        g_subprocess_launcher_setenv(launcher, "REVAER_API_KEY", t.admin, TRUE);
        g_subprocess_launcher_setenv(launcher, "COLUMNS", "200", TRUE);
        proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
        if (ret_out != NULL)
                *ret_out = g_steal_pointer(&out);
        if (ret_err != NULL)
                *ret_err = g_steal_pointer(&err);
        return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

#define OK(...) g_assert_cmpint(ctl(NULL, NULL, __VA_ARGS__, NULL), ==, 0)

static void
test_cli_torrents(void)
{
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *torrent = NULL;
        g_autofree char *peer = NULL;
        g_autoptr(GBytes) data = NULL;

        OK("health");
        OK("add", "--paused", "-l", "tv", "magnet:?xt=urn:btih:4123456789abcdef0123456789abcdef01234567&dn=cli");
        g_assert_cmpint(ctl(&out, NULL, "--json", "list", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "4123456789abcdef0123456789abcdef01234567"));
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(ctl(&out, NULL, "info", "4123", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "paused"));
        g_clear_pointer(&out, g_free);
        OK("resume", "4123");
        OK("pause", "4123");
        OK("recheck", "4123");
        OK("reannounce", "4123");
        OK("limit", "4123", "-d", "500K");
        g_assert_cmpint(ctl(&out, NULL, "--json", "info", "4123", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"download_limit\" : 512000"));
        g_clear_pointer(&out, g_free);
        OK("sequential", "4123", "on");
        OK("pause", "--all");
        OK("resume", "--all");

        /* a real .torrent that downloads from a seeder, followed to the end */
        rv_test_harness_start_seeder(&t.h, "cli", 2 * MIB, 2, FALSE, 0);
        data = rv_test_harness_seeder_torrent(&t.h);
        torrent = g_build_filename(t.h.dir, "cli.torrent", NULL);
        g_assert_true(g_file_set_contents(torrent, g_bytes_get_data(data, NULL), (gssize)g_bytes_get_size(data), NULL));
        peer = g_strdup_printf("127.0.0.1:%u", t.h.seeder.port);
        g_assert_cmpint(ctl(&out, &err, "add", "--wait", "--peer", peer, torrent, NULL), ==, 0);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(&out, NULL, "files", t.h.seeder.hash, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "100"));
        g_clear_pointer(&out, g_free);
        OK("select", t.h.seeder.hash, "--exclude", "*.nfo", "--priority", "0=high");
        rv_test_harness_stop_seeder(&t.h);

        /* failures: 3, with the problem's detail; usage: 2 */
        g_assert_cmpint(ctl(NULL, &err, "info", "ffff", NULL), ==, 3);
        g_assert_nonnull(strstr(err, "no torrent 'ffff'"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "add", torrent, NULL), ==, 3);
        g_assert_nonnull(strstr(err, "already present"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "limit", "4123", "-d", "fast", NULL), ==, 2);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "add", "--peer", "example.com:80",
                            "magnet:?xt=urn:btih:5123456789abcdef0123456789abcdef01234567", NULL),
                        ==, 2);
        g_assert_nonnull(strstr(err, "example.com"));
        g_clear_pointer(&err, g_free);
        OK("remove", "--delete-data", "4123");
        g_assert_cmpint(ctl(NULL, NULL, "info", "4123", NULL), ==, 3);
}

static void
test_cli_settings_keys(void)
{
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *key_id = NULL;
        g_auto(GStrv) lines = NULL;

        OK("config", "set", "engine.download_limit=2M", "engine.seed_time=3600");
        /* a setting that may be null: a value, then "" for none, as over D-Bus */
        OK("config", "set", "fs.chmod_file=0644");
        g_assert_cmpint(ctl(&out, NULL, "config", "get", "fs.chmod_file", NULL), ==, 0);
        g_assert_cmpstr(out, ==, "0644\n");
        g_clear_pointer(&out, g_free);
        OK("config", "set", "fs.chmod_file=");
        g_assert_cmpint(ctl(&out, NULL, "config", "get", "engine.download_limit", NULL), ==, 0);
        g_assert_cmpstr(out, ==, "2097152\n");
        g_clear_pointer(&out, g_free);
        OK("config", "set", "engine.seed_time=0");
        g_assert_cmpint(ctl(&out, NULL, "--json", "config", "show", "engine", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"download_limit\" : 2097152"));
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(ctl(&out, NULL, "config", "history", "-n", "2", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "/engine/seed_time"));
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(ctl(NULL, &err, "config", "set", "engine.download_limit=-5", NULL), ==, 2);
        g_assert_nonnull(strstr(err, "/engine/download_limit"));
        g_clear_pointer(&err, g_free);
        OK("config", "set", "engine.download_limit=0");

        g_assert_cmpint(ctl(&out, NULL, "--json", "keys", "create", "--scope", "read", "reader", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"key_id\""));
        lines = g_strsplit(out, "\"", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_equal(lines[i], "key_id"))
                        key_id = g_strdup(lines[i + 2]);
        }
        g_clear_pointer(&out, g_free);
        OK("keys", "list");
        OK("keys", "rotate", key_id);
        OK("keys", "revoke", key_id);
        g_assert_cmpint(ctl(NULL, &err, "keys", "revoke", key_id, NULL), ==, 3);
        g_clear_pointer(&err, g_free);
        /* set up already: a refusal, not a usage error */
        g_assert_cmpint(ctl(NULL, &err, "setup", "token", NULL), ==, 3);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "--api-key", "rk_x:wrong", "list", NULL), ==, 3);
        g_assert_nonnull(strstr(err, "refused"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "--url", "ftp://example", "list", NULL), ==, 2);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(ctl(NULL, &err, "--url", "http://127.0.0.1:1", "list", NULL), ==, 3);
        g_assert_nonnull(strstr(err, "cannot reach"));
}

/* a proxy that can cut every connection through it at once */
typedef struct {
        GMainContext *context;
        GThread *thread;
        GMainLoop *loop;
        GSocketService *service;
        guint16 port;
        guint16 target;
        GPtrArray *streams;
} Proxy;

static void
proxy_spliced_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        (void)g_io_stream_splice_finish(result, NULL);
}

static gboolean
proxy_incoming_cb(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data)
{
        Proxy *p = user_data;
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketConnection) upstream =
                g_socket_client_connect_to_host(client, "127.0.0.1", p->target, NULL, NULL);

        if (upstream == NULL)
                return FALSE;
        g_ptr_array_add(p->streams, g_object_ref(conn));
        g_ptr_array_add(p->streams, g_object_ref(upstream));
        g_io_stream_splice_async(G_IO_STREAM(conn), G_IO_STREAM(upstream), G_IO_STREAM_SPLICE_NONE, G_PRIORITY_DEFAULT,
                                 NULL, proxy_spliced_cb, NULL);
        return TRUE;
}

static gpointer
proxy_thread(gpointer data)
{
        Proxy *p = data;

        g_main_context_push_thread_default(p->context);
        g_main_loop_run(p->loop);
        g_main_context_pop_thread_default(p->context);
        return NULL;
}

static gboolean
proxy_cut_cb(gpointer data)
{
        Proxy *p = data;

        for (guint i = 0; i < p->streams->len; i++) {
                GSocket *socket = g_socket_connection_get_socket(g_ptr_array_index(p->streams, i));
                (void)g_socket_shutdown(socket, TRUE, TRUE, NULL);
        }
        g_ptr_array_set_size(p->streams, 0);
        return G_SOURCE_REMOVE;
}

static void
proxy_start(Proxy *p, guint16 target)
{
        p->context = g_main_context_new();
        p->loop = g_main_loop_new(p->context, FALSE);
        p->streams = g_ptr_array_new_with_free_func(g_object_unref);
        p->target = target;
        g_main_context_push_thread_default(p->context);
        p->service = g_socket_service_new();
        p->port = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(p->service), NULL, NULL);
        g_signal_connect(p->service, "incoming", G_CALLBACK(proxy_incoming_cb), p);
        g_main_context_pop_thread_default(p->context);
        p->thread = g_thread_new("proxy", proxy_thread, p);
}

static void
proxy_stop(Proxy *p)
{
        g_main_context_invoke(p->context, proxy_cut_cb, p);
        g_main_loop_quit(p->loop);
        g_thread_join(p->thread);
        g_socket_service_stop(p->service);
        g_object_unref(p->service);
        g_ptr_array_unref(p->streams);
        g_main_loop_unref(p->loop);
        g_main_context_unref(p->context);
}

static void
add_magnet(guint i)
{
        g_autofree char *magnet = g_strdup_printf("magnet:?xt=urn:btih:%040x&dn=mon%u", 0x9000 + i, i);
        g_autofree char *body = g_strdup_printf("{\"magnet\": \"%s\", \"paused\": true}", magnet);
        g_autoptr(RvTestResponse) r = rv_test_http_json(&t, "POST", "/v1/torrents", t.admin, body);

        g_assert_cmpuint(r->status, ==, 201);
}

/* every added event's id, from monitor --json's output */
static GPtrArray *
added_ids(const char *out)
{
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; lines[i] != NULL; i++) {
                const char *at = strstr(lines[i], "\"event_id\":\"");
                if (strstr(lines[i], "\"event\":\"added\"") == NULL || at == NULL)
                        continue;
                g_ptr_array_add(ids, g_strndup(at + 12, strcspn(at + 12, "\"")));
        }
        return ids;
}

static void
test_cli_monitor_resumes(void)
{
        Proxy proxy = { 0 };
        g_autoptr(GSubprocessLauncher) launcher =
                g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GSubprocess) monitor = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *url = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GPtrArray) ids = NULL;
        RvTestSse *reference = rv_test_sse_open(&t, "kind=torrent_added", NULL);
        g_autoptr(GPtrArray) want = NULL;

        proxy_start(&proxy, t.port);
        url = g_strdup_printf("http://127.0.0.1:%u", proxy.port);
        g_subprocess_launcher_setenv(launcher, "REVAER_URL", url, TRUE);
        g_subprocess_launcher_setenv(launcher, "REVAER_API_KEY", t.admin, TRUE);
        monitor = g_subprocess_launcher_spawn(launcher, &error, g_getenv("REVAERCTL"), "--json", "monitor", NULL);
        g_assert_no_error(error);
        g_usleep(G_USEC_PER_SEC / 2);
        for (guint i = 0; i < 3; i++)
                add_magnet(i);
        g_usleep(G_USEC_PER_SEC / 2);
        /* the connection drops; what happens meanwhile must still reach the monitor */
        g_main_context_invoke(proxy.context, proxy_cut_cb, &proxy);
        for (guint i = 3; i < 6; i++)
                add_magnet(i);
        g_usleep(3 * G_USEC_PER_SEC / 2);
        for (guint i = 6; i < 9; i++)
                add_magnet(i);
        g_assert_true(rv_test_sse_wait_id(reference, rv_test_http_last_event_id(&t), 10));
        g_usleep(G_USEC_PER_SEC);
        /* Ctrl+C ends a monitor normally */
        g_subprocess_send_signal(monitor, SIGINT);
        g_assert_true(g_subprocess_communicate_utf8(monitor, NULL, NULL, &out, &err, &error));
        g_assert_true(g_subprocess_get_if_exited(monitor));
        g_assert_cmpint(g_subprocess_get_exit_status(monitor), ==, 0);
        g_assert_nonnull(strstr(err, "resuming"));
        ids = added_ids(out);
        want = rv_test_sse_events(reference);
        /* every torrent added, in order, once: none lost while the connection was down, none twice */
        g_assert_cmpuint(ids->len, ==, 9);
        g_assert_cmpuint(want->len, ==, 9);
        for (guint i = 0; i < 9; i++) {
                g_autofree char *id =
                        g_strdup_printf("%" G_GUINT64_FORMAT, ((RvTestSseEvent *)g_ptr_array_index(want, i))->id);
                g_assert_cmpstr(g_ptr_array_index(ids, i), ==, id);
        }
        rv_test_sse_close(reference);
        proxy_stop(&proxy);
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        rv_test_http_start(&t, NULL, TRUE);
        g_test_add_func("/cli-http/torrents", test_cli_torrents);
        g_test_add_func("/cli-http/settings-keys", test_cli_settings_keys);
        g_test_add_func("/cli-http/monitor-resumes", test_cli_monitor_resumes);
        status = g_test_run();
        rv_test_http_stop(&t);
        return status;
}
