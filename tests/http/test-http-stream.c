/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "rv-test-http.h"

/*
 * what needs a daemon of its own: the event stream past its replay ring
 * and with a client that never reads, and HTTPS with a self-signed
 * certificate
 */

#define N_STORED 600

static guint64
metric(RvTestHttp *t, const char *name)
{
        g_autoptr(RvTestResponse) r = rv_test_http_get(t, "/metrics", t->admin);
        const char *text = g_bytes_get_data(r->body, NULL);
        g_autofree char *needle = g_strdup_printf("\n%s ", name);
        const char *at = strstr(text, needle);

        g_assert_nonnull(at);
        return g_ascii_strtoull(at + strlen(needle), NULL, 10);
}

/* every stored torrent changes state twice: far more events than the ring holds */
static void
churn(RvTestHttp *t)
{
        g_autoptr(RvTestResponse) resume =
                rv_test_http_request(t, "POST", "/v1/torrents/resume", t->admin, NULL, NULL, NULL);
        g_autoptr(RvTestResponse) pause =
                rv_test_http_request(t, "POST", "/v1/torrents/pause", t->admin, NULL, NULL, NULL);

        g_assert_cmpuint(resume->status, ==, 204);
        g_assert_cmpuint(pause->status, ==, 204);
}

/* a client whose Last-Event-ID the ring no longer reaches gets "reset" first, then the ring, gap-free */
static void
test_stream_reset(gconstpointer data)
{
        RvTestHttp *t = (RvTestHttp *)data;
        RvTestSse *late;
        g_autoptr(GPtrArray) events = NULL;
        guint64 end;

        churn(t);
        end = rv_test_http_last_event_id(t);
        g_assert_cmpuint(end, >, 1100);
        late = rv_test_sse_open(t, NULL, "1");
        g_assert_true(rv_test_sse_wait_id(late, end, 10));
        events = rv_test_sse_events(late);
        g_assert_cmpstr(((RvTestSseEvent *)g_ptr_array_index(events, 0))->kind, ==, "reset");
        g_assert_nonnull(strstr(((RvTestSseEvent *)g_ptr_array_index(events, 0))->data, "\"last_event_id\":1"));
        /* the ring follows: its 1024 events, consecutive, up to the end */
        g_assert_cmpuint(events->len, >=, 1 + 1024);
        for (guint i = 1; i < events->len; i++) {
                RvTestSseEvent *e = g_ptr_array_index(events, i);
                RvTestSseEvent *before = g_ptr_array_index(events, i - 1);
                g_assert_cmpuint(e->id, ==, before->id + 1);
                g_assert_cmpstr(e->kind, !=, "reset");
        }
        rv_test_sse_close(late);
        {
                /* a Last-Event-ID the ring still holds needs no reset */
                g_autofree char *recent = g_strdup_printf("%" G_GUINT64_FORMAT, end - 10);
                RvTestSse *fine = rv_test_sse_open(t, NULL, recent);
                g_autoptr(GPtrArray) tail = NULL;
                g_assert_true(rv_test_sse_wait_id(fine, end, 10));
                tail = rv_test_sse_events(fine);
                g_assert_cmpuint(((RvTestSseEvent *)g_ptr_array_index(tail, 0))->id, ==, end - 9);
                rv_test_sse_close(fine);
        }
}

/* a client that never reads is cut off once it stays event-queue bytes behind; the others keep receiving */
static void
test_stream_slow_client(gconstpointer data)
{
        RvTestHttp *t = (RvTestHttp *)data;
        g_autoptr(GSocket) socket =
                g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, t->port);
        g_autofree char *request = g_strdup_printf("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                   "Authorization: Bearer %s\r\n\r\n",
                                                   t->admin);
        RvTestSse *steady = rv_test_sse_open(t, NULL, NULL);
        guint64 dropped = metric(t, "revaer_sse_dropped_total");
        gint64 deadline;
        gsize drained = 0;
        guint64 end;

        /* a small window keeps the kernel from buffering for the client */
        g_assert_true(g_socket_set_option(socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL));
        g_assert_true(g_socket_connect(socket, address, NULL, NULL));
        g_assert_cmpint(g_socket_send(socket, request, strlen(request), NULL, NULL), ==, (gssize)strlen(request));
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        while (metric(t, "revaer_sse_dropped_total") == dropped) {
                churn(t);
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }
        /* the steady client saw everything up to now, and is still connected */
        end = rv_test_http_last_event_id(t);
        /* a loaded machine (CI runs two suites at once) may keep the reading thread waiting a while */
        if (!rv_test_sse_wait_id(steady, end, 60))
                g_error("the steady client did not get event %" G_GUINT64_FORMAT " (%s)", end,
                        rv_test_sse_connected(steady) ? "still connected" : "cut off");
        g_assert_true(rv_test_sse_connected(steady));
        g_assert_cmpuint(metric(t, "revaer_sse_clients"), ==, 1);
        /* the slow one: what the kernel held, then the end */
        g_socket_set_blocking(socket, FALSE);
        for (;;) {
                char buf[65536];
                gssize n;
                if (!g_socket_condition_timed_wait(socket, G_IO_IN | G_IO_HUP, 5 * G_USEC_PER_SEC, NULL, NULL))
                        g_error("the slow client's connection is still open");
                n = g_socket_receive(socket, buf, sizeof(buf), NULL, NULL);
                if (n <= 0)
                        break;
                drained += (gsize)n;
        }
        /* less than the queue and the kernel's buffers together: nothing grew without bound */
        g_assert_cmpuint(drained, <, 8 * 1024 * 1024);
        rv_test_sse_close(steady);
}

static void
test_stream_tls(void)
{
        RvTestHttp t = { 0 };
        g_autofree char *dir = g_dir_make_tmp("rv-test-tls-XXXXXX", NULL);
        g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
        g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
        g_autofree char *extra = g_strdup_printf("tls-certificate=%s\ntls-key=%s\n", cert, key);
        g_autoptr(GSubprocess) openssl = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(RvTestResponse) health = NULL;
        g_autoptr(GBytes) plain = NULL;

        rv_test_require_program("openssl");
        openssl = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                   "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                   cert, "-days", "1", "-subj", "/CN=127.0.0.1", NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_wait_check(openssl, NULL, &error));
        rv_test_http_start(&t, extra, TRUE);
        g_assert_true(g_str_has_prefix(t.base, "https://"));
        health = rv_test_http_get(&t, "/health/full", t.admin);
        g_assert_cmpuint(health->status, ==, 200);
        /* plain HTTP on the HTTPS port gets no HTTP answer */
        plain = rv_test_http_raw(&t, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 39, 2000);
        g_assert_cmpuint(rv_test_raw_status(plain), ==, 0);
        rv_test_http_stop(&t);
        g_unlink(cert);
        g_unlink(key);
        g_rmdir(dir);
}

int
main(int argc, char **argv)
{
        RvTestHttp t = { 0 };
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        t.stored = N_STORED;
        rv_test_http_start(&t, "event-queue=262144\n", TRUE);
        g_test_add_data_func("/stream/reset", &t, test_stream_reset);
        g_test_add_data_func("/stream/slow-client", &t, test_stream_slow_client);
        g_test_add_func("/stream/tls", test_stream_tls);
        status = g_test_run();
        rv_test_http_stop(&t);
        return status;
}
