/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "rv-test-harness.h"

/*
 * what systemd would see, without systemd: the notify protocol on a socket
 * of our own, socket activation through systemd-socket-activate, and
 * LogControl1 through busctl
 */

typedef struct {
        int fd;
        char *path;
        GPtrArray *messages;
        pid_t daemon_pid;
        guint n_foreign;
} Notify;

static gboolean
notify_readable_cb(gint fd, GIOCondition cond, gpointer user_data)
{
        Notify *n = user_data;

        for (;;) {
                char buf[4096];
                char control[CMSG_SPACE(sizeof(struct ucred))];
                struct iovec iov = { buf, sizeof(buf) - 1 };
                struct msghdr msg = { 0 };
                struct cmsghdr *cmsg;
                ssize_t len;

                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                msg.msg_control = control;
                msg.msg_controllen = sizeof(control);
                len = recvmsg(fd, &msg, MSG_DONTWAIT);
                if (len < 0)
                        break;
                buf[len] = '\0';
                for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
                        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred cred;
                                memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
                                /* sd_notify sends from the main process, as systemd requires */
                                if (n->daemon_pid != 0 && cred.pid != n->daemon_pid)
                                        n->n_foreign++;
                        }
                }
                g_ptr_array_add(n->messages, g_strdup(buf));
        }
        return G_SOURCE_CONTINUE;
}

static void
notify_open(Notify *n, const char *dir)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int one = 1;

        n->messages = g_ptr_array_new_with_free_func(g_free);
        n->path = g_build_filename(dir, "notify.sock", NULL);
        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(n->fd, >=, 0);
        g_assert_cmpint(setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), ==, 0);
        g_strlcpy(addr.sun_path, n->path, sizeof(addr.sun_path));
        g_assert_cmpint(bind(n->fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_unix_fd_add(n->fd, G_IO_IN, notify_readable_cb, n);
}

/* index of the first message at or after from that contains needle, -1 when none arrives within timeout */
static gint
notify_wait(Notify *n, guint from, const char *needle, guint timeout_ms)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        for (;;) {
                for (guint i = from; i < n->messages->len; i++) {
                        if (strstr(g_ptr_array_index(n->messages, i), needle) != NULL)
                                return (gint)i;
                }
                if (g_get_monotonic_time() > deadline)
                        return -1;
                g_main_context_iteration(NULL, FALSE);
                g_usleep(5000);
        }
}

static guint
notify_count(Notify *n, guint from, const char *needle)
{
        guint c = 0;

        for (guint i = from; i < n->messages->len; i++)
                c += strstr(g_ptr_array_index(n->messages, i), needle) != NULL;
        return c;
}

static GSubprocess *
spawn_daemon(RvTestHarness *h, const char *const *prefix, const char *const *env, GError **error)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        GSubprocess *proc;

        g_subprocess_launcher_take_stderr_fd(launcher, fd);
        g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", h->bus_address, TRUE);
        for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
                g_subprocess_launcher_setenv(launcher, env[i], env[i + 1], TRUE);
        for (guint i = 0; prefix != NULL && prefix[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)prefix[i]);
        g_ptr_array_add(argv, (gpointer)g_getenv("REVAERD"));
        g_ptr_array_add(argv, "--bus");
        g_ptr_array_add(argv, "session");
        g_ptr_array_add(argv, "--config");
        g_ptr_array_add(argv, h->config);
        g_ptr_array_add(argv, "--state-dir");
        g_ptr_array_add(argv, h->state);
        g_ptr_array_add(argv, "--download-dir");
        g_ptr_array_add(argv, h->downloads);
        g_ptr_array_add(argv, NULL);
        proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
        rv_test_track_child(proc);
        return proc;
}

static void
test_systemd_notify(void)
{
        RvTestHarness h;
        Notify n = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) daemon = NULL;
        const char *env[] = { "NOTIFY_SOCKET", NULL, "WATCHDOG_USEC", "400000", NULL };
        gint i;
        gint ready;

        rv_test_harness_setup(&h);
        notify_open(&n, h.dir);
        env[1] = n.path;
        daemon = spawn_daemon(&h, NULL, env, &error);
        g_assert_no_error(error);
        n.daemon_pid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(daemon), NULL, 10);

        /* READY comes with the status line, then watchdog pings at half the period */
        ready = notify_wait(&n, 0, "READY=1", 20000);
        g_assert_cmpint(ready, >=, 0);
        g_assert_nonnull(strstr(g_ptr_array_index(n.messages, ready), "STATUS=0 torrents"));
        g_assert_cmpint(notify_wait(&n, (guint)ready, "WATCHDOG=1", 2000), >=, 0);
        g_usleep(1200000);
        (void)notify_wait(&n, 0, "nothing", 10);
        /* 1.2 s at 200 ms: about six pings, allowing for a busy machine */
        g_assert_cmpuint(notify_count(&n, (guint)ready, "WATCHDOG=1"), >=, 3);

        /* reload: RELOADING with the monotonic time, then READY again */
        g_subprocess_send_signal(daemon, SIGHUP);
        i = notify_wait(&n, (guint)ready + 1, "RELOADING=1", 5000);
        g_assert_cmpint(i, >=, 0);
        g_assert_nonnull(strstr(g_ptr_array_index(n.messages, i), "MONOTONIC_USEC="));
        g_assert_cmpint(notify_wait(&n, (guint)i, "READY=1", 5000), >, i);

        /* stop: STOPPING, with more time asked for while saving */
        g_subprocess_send_signal(daemon, SIGTERM);
        i = notify_wait(&n, 0, "STOPPING=1", 5000);
        g_assert_cmpint(i, >=, 0);
        g_assert_cmpint(notify_wait(&n, (guint)i, "EXTEND_TIMEOUT_USEC=", 5000), >=, i);
        g_assert_true(g_subprocess_wait(daemon, NULL, NULL));
        g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 0);
        g_assert_cmpuint(n.n_foreign, ==, 0);

        close(n.fd);
        g_ptr_array_unref(n.messages);
        g_free(n.path);
        rv_test_harness_teardown(&h);
}

/* a port nobody listens on now (the kernel picks it) */
static guint16
free_port(void)
{
        g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
        g_autoptr(GSocketAddress) bound = NULL;

        g_assert_true(g_socket_bind(s, any, FALSE, NULL));
        bound = g_socket_get_local_address(s, NULL);
        return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static void
test_systemd_socket_activation(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) activator = NULL;
        g_autoptr(SoupSession) session = soup_session_new();
        g_autoptr(GBytes) body = NULL;
        g_autofree char *listen = NULL;
        g_autofree char *url = NULL;
        g_autofree char *log = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autofree char *bus_env = NULL;
        /* the activator hands its child only what -E names: the bus, and the sanitizers' options when set */
        const char *prefix[] = {
                "systemd-socket-activate", "-l", NULL, "--fdname=http", "-E", NULL, NULL, NULL, NULL, NULL, NULL
        };
        guint n_prefix = 6;
        guint16 port;

        rv_test_require_program("systemd-socket-activate");
        rv_test_harness_setup(&h);
        /* the daemon's own listener would take this port: it must not be used when sockets are passed */
        rv_test_harness_write_config(&h, NULL);
        port = free_port();
        listen = g_strdup_printf("127.0.0.1:%u", port);
        prefix[2] = listen;
        bus_env = g_strdup_printf("DBUS_SESSION_BUS_ADDRESS=%s", h.bus_address);
        prefix[5] = bus_env;
        for (guint i = 0; i < 2; i++) {
                const char *name = i == 0 ? "ASAN_OPTIONS" : "UBSAN_OPTIONS";
                if (g_getenv(name) != NULL) {
                        prefix[n_prefix++] = "-E";
                        prefix[n_prefix++] = name;
                }
        }
        activator = spawn_daemon(&h, prefix, NULL, &error);
        g_assert_no_error(error);

        /* the first connection starts the daemon; it answers once it is up */
        url = g_strdup_printf("http://%s/health", listen);
        for (guint attempt = 0; attempt < 100; attempt++) {
                g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
                g_clear_error(&error);
                g_clear_pointer(&body, g_bytes_unref);
                body = soup_session_send_and_read(session, msg, NULL, &error);
                if (body != NULL && soup_message_get_status(msg) == SOUP_STATUS_OK)
                        break;
                g_usleep(100000);
        }
        g_assert_no_error(error);
        g_assert_nonnull(body);
        g_assert_true(
                json_parser_load_from_data(parser, g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body), NULL));
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(json_parser_get_root(parser)), "status"), ==,
                        "ok");
        {
                g_autofree char *missing = g_strdup_printf("http://%s/nothing-here", listen);
                g_autoptr(SoupMessage) msg = soup_message_new("GET", missing);
                g_autoptr(GBytes) problem = soup_session_send_and_read(session, msg, NULL, NULL);
                (void)problem;
                g_assert_cmpuint(soup_message_get_status(msg), ==, 404);
                g_assert_cmpstr(soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL), ==,
                                "application/problem+json");
        }
        log = rv_test_read_log(&h);
        g_assert_nonnull(strstr(log, "socket-activated"));

        g_subprocess_send_signal(activator, SIGTERM);
        g_assert_true(g_subprocess_wait(activator, NULL, NULL));
        if (!g_subprocess_get_if_exited(activator) || g_subprocess_get_exit_status(activator) != 0) {
                g_autofree char *full = rv_test_read_log(&h);
                g_test_message("daemon log:\n%s", full);
        }
        g_assert_true(g_subprocess_get_if_exited(activator));
        g_assert_cmpint(g_subprocess_get_exit_status(activator), ==, 0);
        rv_test_harness_teardown(&h);
}

/*
 * reliability issue, defect 8: /health answered "ok" with "torrents":0 to the
 * connection that socket-activated the service, a second before the stored
 * torrents were back. The first connection waits in the socket's backlog
 * from before the daemon runs, so it is served while the daemon restores
 * 2,000 stored torrents: no answer may say ok with fewer; until the restore
 * is done the answer is 503 with Retry-After and "starting", with the count
 * so far
 */
static void
test_systemd_health_while_restoring(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) activator = NULL;
        g_autoptr(SoupSession) session = soup_session_new();
        g_autofree char *listen = NULL;
        g_autofree char *url = NULL;
        g_autofree char *bus_env = NULL;
        const char *prefix[] = {
                "systemd-socket-activate", "-l", NULL, "--fdname=http", "-E", NULL, NULL, NULL, NULL, NULL, NULL
        };
        const guint n = 2000;
        guint n_prefix = 6;
        guint starting = 0;
        gboolean ok = FALSE;

        rv_test_require_program("systemd-socket-activate");
        rv_test_harness_setup(&h);
        rv_test_harness_store_torrents(&h, "health", n, TRUE);
        listen = g_strdup_printf("127.0.0.1:%u", free_port());
        prefix[2] = listen;
        bus_env = g_strdup_printf("DBUS_SESSION_BUS_ADDRESS=%s", h.bus_address);
        prefix[5] = bus_env;
        for (guint i = 0; i < 2; i++) {
                const char *name = i == 0 ? "ASAN_OPTIONS" : "UBSAN_OPTIONS";
                if (g_getenv(name) != NULL) {
                        prefix[n_prefix++] = "-E";
                        prefix[n_prefix++] = name;
                }
        }
        activator = spawn_daemon(&h, prefix, NULL, &error);
        g_assert_no_error(error);

        url = g_strdup_printf("http://%s/health", listen);
        for (guint attempt = 0; attempt < 600 && !ok; attempt++) {
                g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
                g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
                g_autoptr(JsonParser) parser = json_parser_new();
                JsonObject *obj;
                const char *status;
                gint64 torrents;

                if (body == NULL) {
                        /* the activator is not listening yet */
                        g_usleep(20000);
                        continue;
                }
                g_assert_true(json_parser_load_from_data(parser, g_bytes_get_data(body, NULL),
                                                         (gssize)g_bytes_get_size(body), NULL));
                obj = json_node_get_object(json_parser_get_root(parser));
                status = json_object_get_string_member(obj, "status");
                torrents = json_object_get_int_member(obj, "torrents");
                g_test_message("answer %u: HTTP %u, %s, %" G_GINT64_FORMAT " torrents", attempt,
                               soup_message_get_status(msg), status, torrents);
                if (g_strcmp0(status, "starting") == 0) {
                        g_assert_cmpuint(soup_message_get_status(msg), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
                        g_assert_cmpstr(
                                soup_message_headers_get_one(soup_message_get_response_headers(msg), "Retry-After"), ==,
                                "1");
                        g_assert_cmpint(torrents, <=, n);
                        starting++;
                        g_usleep(20000);
                        continue;
                }
                g_assert_cmpstr(status, ==, "ok");
                g_assert_cmpuint(soup_message_get_status(msg), ==, SOUP_STATUS_OK);
                g_assert_cmpint(torrents, ==, n);
                ok = TRUE;
        }
        g_assert_true(ok);
        g_test_message("%u answers said starting before the first ok", starting);

        g_subprocess_send_signal(activator, SIGTERM);
        g_assert_true(g_subprocess_wait(activator, NULL, NULL));
        if (!g_subprocess_get_if_exited(activator) || g_subprocess_get_exit_status(activator) != 0) {
                g_autofree char *log = rv_test_read_log(&h);
                g_error("revaerd did not stop cleanly on SIGTERM (wait status %d):\n%s",
                        g_subprocess_get_status(activator), log);
        }
        rv_test_harness_teardown(&h);
}

static char *
run_busctl(RvTestHarness *h, int *ret_status, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GSubprocess) p = NULL;
        g_autoptr(GError) error = NULL;
        char *out = NULL;
        const char *arg;
        va_list args;

        g_ptr_array_add(argv, "busctl");
        g_ptr_array_add(argv, "--address");
        g_ptr_array_add(argv, (gpointer)h->bus_address);
        va_start(args, ret_status);
        while ((arg = va_arg(args, const char *)) != NULL)
                g_ptr_array_add(argv, (gpointer)arg);
        va_end(args);
        g_ptr_array_add(argv, NULL);
        p = g_subprocess_newv((const char *const *)argv->pdata,
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
        *ret_status = g_subprocess_get_exit_status(p);
        return out;
}

static void
test_systemd_logcontrol(void)
{
        RvTestHarness h;
        g_autofree char *out = NULL;
        g_autofree char *log = NULL;
        int status = -1;
        const char *path = "/org/freedesktop/LogControl1";
        const char *iface = "org.freedesktop.LogControl1";

        rv_test_require_program("busctl");
        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "[daemon]\nlog-level=info\n");
        rv_test_harness_start_daemon(&h);

        out = run_busctl(&h, &status, "get-property", RV_BUS_NAME, path, iface, "LogLevel", NULL);
        g_assert_cmpint(status, ==, 0);
        g_assert_nonnull(strstr(out, "\"debug\""));
        g_clear_pointer(&out, g_free);

        /* what `systemctl service-log-level revaer notice` does */
        out = run_busctl(&h, &status, "set-property", RV_BUS_NAME, path, iface, "LogLevel", "s", "notice", NULL);
        g_assert_cmpint(status, ==, 0);
        g_clear_pointer(&out, g_free);
        out = run_busctl(&h, &status, "get-property", RV_BUS_NAME, path, iface, "LogLevel", NULL);
        g_assert_nonnull(strstr(out, "\"notice\""));
        g_clear_pointer(&out, g_free);
        out = run_busctl(&h, &status, "set-property", RV_BUS_NAME, path, iface, "LogLevel", "s", "loud", NULL);
        g_assert_cmpint(status, !=, 0);
        g_assert_nonnull(strstr(out, "loud"));
        g_clear_pointer(&out, g_free);
        out = run_busctl(&h, &status, "set-property", RV_BUS_NAME, path, iface, "LogTarget", "s", "console", NULL);
        g_assert_cmpint(status, ==, 0);
        g_clear_pointer(&out, g_free);
        out = run_busctl(&h, &status, "get-property", RV_BUS_NAME, path, iface, "SyslogIdentifier", NULL);
        g_assert_nonnull(strstr(out, "revaerd"));

        /* at notice, an info line (a torrent added) no longer reaches the log */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = rv_test_call(
                        &h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddMagnet",
                        g_variant_new("(s@a{sv})",
                                      "magnet:?xt=urn:btih:4444444444444444444444444444444444444444&dn=quiet",
                                      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                        G_VARIANT_TYPE("(o)"), &error);
                (void)reply;
                g_assert_no_error(error);
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        log = rv_test_read_log(&h);
        g_assert_null(strstr(log, "'quiet' added"));
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/systemd/notify", test_systemd_notify);
        g_test_add_func("/systemd/socket-activation", test_systemd_socket_activation);
        g_test_add_func("/systemd/health-while-restoring", test_systemd_health_while_restoring);
        g_test_add_func("/systemd/logcontrol", test_systemd_logcontrol);
        return g_test_run();
}
