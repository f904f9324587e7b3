/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * revaerd with many torrents, measured through its HTTP API: adds per
 * second (concurrent POST /v1/torrents, each answered once durable), the
 * full list with every field (time and size) and a page of 100, the
 * latency of events on the stream from the state change that made them
 * (p50/p99, 50 clients following a mass pause), and the daemon's main-loop
 * stalls meanwhile
 *
 *   rv-bench-http --revaerd build/src/daemon/revaerd [--torrents 10000] [--clients 50]
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "rv-test-data.h"

#define ADD_CONCURRENCY 256

typedef struct {
        char *revaerd;
        char *dir;
        GSubprocess *daemon;
        char *base;
        char *bearer;
        SoupSession *session;
        GMainLoop *loop;
        guint torrents;
        guint clients;
        /* adds */
        guint next;
        guint inflight;
        guint added;
        guint failed;
        /* event latencies in microseconds */
        GArray *latencies;
        guint64 state_events;
        guint64 want_events;
        guint timer;
} Bench;

static double
now_s(void)
{
        return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
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
        gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;

        /* each start reads its own URL */
        (void)g_unlink(log);
        g_assert_true(
                g_file_set_contents(config,
                                    "[daemon]\nprogress-interval=1000\n[http]\nlisten=127.0.0.1:0\nrate-limit=1000000\n"
                                    "[engine]\nlisten-interfaces=127.0.0.1:0\ndht=false\nlsd=false\n"
                                    "upnp=false\nnatpmp=false\nutp=false\nactive-downloads=-1\n"
                                    "active-limit=-1\n",
                                    -1, NULL));
        g_subprocess_launcher_set_stderr_file_path(l, log);
        g_subprocess_launcher_unsetenv(l, "LISTEN_FDS");
        b->daemon = g_subprocess_launcher_spawn(l, &error, b->revaerd, "--bus", "none", "--config", config,
                                                "--state-dir", state, "--download-dir", downloads, NULL);
        g_assert_no_error(error);
        g_clear_pointer(&b->base, g_free);
        while (b->base == NULL) {
                g_autofree char *text = NULL;
                const char *at;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
                if (!g_file_get_contents(log, &text, NULL, NULL) || (at = strstr(text, "HTTP API at ")) == NULL)
                        continue;
                /* "http://127.0.0.1:PORT/", without the slash */
                b->base = g_strndup(at + 12, strcspn(at + 12, " \n"));
                if (g_str_has_suffix(b->base, "/"))
                        b->base[strlen(b->base) - 1] = '\0';
        }
        for (;;) {
                g_autofree char *url = g_strconcat(b->base, "/health", NULL);
                g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
                g_autoptr(GBytes) body = soup_session_send_and_read(b->session, msg, NULL, NULL);
                if (body != NULL && soup_message_get_status(msg) == 200)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(100000);
        }
}

static void
stop_daemon(Bench *b)
{
        g_subprocess_send_signal(b->daemon, SIGTERM);
        g_assert_true(g_subprocess_wait(b->daemon, NULL, NULL));
        g_clear_object(&b->daemon);
}

static SoupMessage *
request(Bench *b, const char *method, const char *path, const char *body)
{
        g_autofree char *url = g_strconcat(b->base, path, NULL);
        SoupMessage *msg = soup_message_new(method, url);

        if (b->bearer != NULL)
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", b->bearer);
        if (body != NULL) {
                g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
        }
        return msg;
}

static JsonNode *
call(Bench *b, const char *method, const char *path, const char *body, guint want)
{
        g_autoptr(SoupMessage) msg = request(b, method, path, body);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) answer = soup_session_send_and_read(b->session, msg, NULL, &error);
        g_autoptr(JsonParser) parser = json_parser_new();

        g_assert_no_error(error);
        if (soup_message_get_status(msg) != want)
                g_error("%s %s: %u %.*s", method, path, soup_message_get_status(msg), (int)g_bytes_get_size(answer),
                        (const char *)g_bytes_get_data(answer, NULL));
        if (g_bytes_get_size(answer) == 0)
                return NULL;
        g_assert_true(json_parser_load_from_data(parser, g_bytes_get_data(answer, NULL),
                                                 (gssize)g_bytes_get_size(answer), NULL));
        return json_node_ref(json_parser_get_root(parser));
}

static void
setup_key(Bench *b)
{
        g_autoptr(JsonNode) start = call(b, "POST", "/v1/setup/start", NULL, 201);
        g_autofree char *body = g_strdup_printf("{\"token\": \"%s\", \"label\": \"bench\"}",
                                                json_object_get_string_member(json_node_get_object(start), "token"));
        g_autoptr(JsonNode) done = call(b, "POST", "/v1/setup/complete", body, 201);

        b->bearer = g_strdup_printf("Bearer %s", json_object_get_string_member(json_node_get_object(done), "key"));
}

static double metric(Bench *b, const char *name);

/* adds: ADD_CONCURRENCY requests in flight until every torrent is in */

static void add_next(Bench *b);

static void
added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Bench *b = user_data;
        SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), result);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);

        if (body == NULL || soup_message_get_status(msg) != 201) {
                if (b->failed++ == 0)
                        g_printerr("first failed add: %s %u %.*s\n", error != NULL ? error->message : "",
                                   soup_message_get_status(msg), body != NULL ? (int)g_bytes_get_size(body) : 0,
                                   body != NULL ? (const char *)g_bytes_get_data(body, NULL) : "");
        } else
                b->added++;
        b->inflight--;
        add_next(b);
        if (b->inflight == 0 && b->next >= b->torrents)
                g_main_loop_quit(b->loop);
}

static void
add_next(Bench *b)
{
        while (b->inflight < ADD_CONCURRENCY && b->next < b->torrents) {
                g_autoptr(GBytes) data = rv_test_data_tiny_torrent("bench", b->next++);
                g_autofree char *b64 = g_base64_encode(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
                g_autofree char *body = g_strdup_printf("{\"metainfo\": \"%s\", \"paused\": true}", b64);
                g_autoptr(SoupMessage) msg = request(b, "POST", "/v1/torrents?fields=info_hash", body);
                b->inflight++;
                soup_session_send_and_read_async(b->session, msg, G_PRIORITY_DEFAULT, NULL, added_cb, b);
        }
}

static void
bench_adds(Bench *b)
{
        double t0 = now_s();
        double took;

        add_next(b);
        g_main_loop_run(b->loop);
        took = now_s() - t0;
        printf("adds over HTTP:          %u in %.2f s = %.0f adds/s (%u failed, %d in flight)\n", b->added, took,
               b->added / took, b->failed, ADD_CONCURRENCY);
        if (b->failed > 0)
                printf("  connections the service cut: %.0f\n", metric(b, "revaer_http_aborted_total"));
}

static gint
compare_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a;
        double y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static gint
compare_int64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/* the time until the whole answer is in, the best of runs and the median */
static void
bench_get(Bench *b, const char *what, const char *path, guint runs)
{
        g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
        gsize size = 0;

        for (guint i = 0; i < runs; i++) {
                g_autoptr(SoupMessage) msg = request(b, "GET", path, NULL);
                double t0 = now_s();
                g_autoptr(GBytes) body = soup_session_send_and_read(b->session, msg, NULL, NULL);
                double took = now_s() - t0;
                g_assert_nonnull(body);
                g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
                size = g_bytes_get_size(body);
                g_array_append_val(times, took);
        }
        g_array_sort(times, compare_double);
        printf("%-24s %.1f ms best, %.1f ms median of %u, %.2f MB\n", what, g_array_index(times, double, 0) * 1000,
               g_array_index(times, double, runs / 2) * 1000, runs, size / 1e6);
}

/*
 * SSE clients: each reads its stream as it comes; for every state_changed
 * event the time from its timestamp (when the core published it) to now is
 * one latency; the text is not parsed as JSON, only the timestamp is cut out
 */
typedef struct {
        Bench *b;
        SoupMessage *msg;
        GInputStream *stream;
        GString *buffer;
        char buf[65536];
        gboolean open;
} Client;

/*
 * "2026-12-06T18:01:00.740123Z" in microseconds, cheaply: the clients read
 * half a million of them on the machine under test, so the date's midnight
 * is parsed once and the time of day by hand
 */
static gint64
event_time_us(const char *block)
{
        static char day[11];
        static gint64 midnight;
        const char *at = strstr(block, "\"timestamp\":\"");
        const char *t;
        gint64 us = 0;
        guint digits = 0;

        if (at == NULL)
                return 0;
        at += 13;
        if (strncmp(at, day, 10) != 0) {
                g_autofree char *date = g_strndup(at, 10);
                g_autofree char *iso = g_strdup_printf("%sT00:00:00Z", date);
                g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
                if (dt == NULL)
                        return 0;
                memcpy(day, at, 10);
                midnight = g_date_time_to_unix(dt) * G_USEC_PER_SEC;
        }
        t = at + 11;
        us = ((gint64)atoi(t) * 3600 + (gint64)atoi(t + 3) * 60 + atoi(t + 6)) * G_USEC_PER_SEC;
        if (t[8] == '.') {
                gint64 frac = 0;
                for (const char *p = t + 9; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
                        frac = frac * 10 + (*p - '0');
                for (; digits < 6; digits++)
                        frac *= 10;
                us += frac;
        }
        return midnight + us;
}

static void
client_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Client *c = user_data;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);
        gint64 now = g_get_real_time();
        char *end;

        if (n <= 0) {
                c->open = FALSE;
                return;
        }
        g_string_append_len(c->buffer, c->buf, n);
        while ((end = strstr(c->buffer->str, "\n\n")) != NULL) {
                *end = '\0';
                if (strstr(c->buffer->str, "event: state_changed") != NULL) {
                        gint64 t = event_time_us(c->buffer->str);
                        gint64 latency = t > 0 ? now - t : 0;
                        g_array_append_val(c->b->latencies, latency);
                        c->b->state_events++;
                }
                g_string_erase(c->buffer, 0, end - c->buffer->str + 2);
        }
        if (c->b->state_events >= c->b->want_events)
                g_main_loop_quit(c->b->loop);
        g_input_stream_read_async(c->stream, c->buf, sizeof(c->buf), G_PRIORITY_DEFAULT, NULL, client_read_cb, c);
}

static void
client_open_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Client *c = user_data;

        c->stream = soup_session_send_finish(SOUP_SESSION(source), result, NULL);
        g_assert_nonnull(c->stream);
        c->open = TRUE;
        g_input_stream_read_async(c->stream, c->buf, sizeof(c->buf), G_PRIORITY_DEFAULT, NULL, client_read_cb, c);
}

static double
metric(Bench *b, const char *name)
{
        g_autoptr(SoupMessage) msg = request(b, "GET", "/metrics", NULL);
        g_autoptr(GBytes) body = soup_session_send_and_read(b->session, msg, NULL, NULL);
        g_autofree char *text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
        g_autofree char *needle = g_strdup_printf("\n%s ", name);
        const char *at = strstr(text, needle);

        return at != NULL ? g_ascii_strtod(at + strlen(needle), NULL) : -1;
}

static gboolean
stop_loop_cb(gpointer data)
{
        g_main_loop_quit(data);
        return G_SOURCE_REMOVE;
}

static gboolean
stop_timer_cb(gpointer data)
{
        Bench *b = data;

        b->timer = 0;
        g_main_loop_quit(b->loop);
        return G_SOURCE_REMOVE;
}

static void
bench_events(Bench *b)
{
        g_autoptr(GPtrArray) clients = g_ptr_array_new();
        g_autofree char *url = g_strconcat(b->base, "/v1/events?kind=state_changed", NULL);
        double stalls_before = metric(b, "revaer_main_loop_stalls_total");
        double t0;
        double took;
        guint connected = 0;
        guint timer;

        for (guint i = 0; i < b->clients; i++) {
                Client *c = g_new0(Client, 1);
                c->b = b;
                c->buffer = g_string_new(NULL);
                c->msg = soup_message_new("GET", url);
                soup_message_headers_replace(soup_message_get_request_headers(c->msg), "Authorization", b->bearer);
                soup_session_send_async(b->session, c->msg, G_PRIORITY_DEFAULT, NULL, client_open_cb, c);
                g_ptr_array_add(clients, c);
        }
        while (connected < b->clients) {
                g_main_context_iteration(NULL, TRUE);
                connected = 0;
                for (guint i = 0; i < clients->len; i++)
                        connected += ((Client *)g_ptr_array_index(clients, i))->open;
        }
        /* every torrent changes state once: each client sees every change */
        b->want_events = (guint64)b->added * b->clients;
        t0 = now_s();
        {
                g_autoptr(SoupMessage) msg = request(b, "POST", "/v1/torrents/pause", NULL);
                soup_session_send_async(b->session, msg, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
        }
        timer = b->timer = g_timeout_add_seconds(120, stop_timer_cb, b);
        g_main_loop_run(b->loop);
        if (b->timer != 0)
                g_source_remove(b->timer);
        (void)timer;
        took = now_s() - t0;
        g_array_sort(b->latencies, compare_int64);
        printf("mass pause, %u clients:   %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
               " state events in %.2f s; latency from the state change p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
               b->clients, b->state_events, b->want_events, took,
               b->latencies->len > 0 ? g_array_index(b->latencies, gint64, b->latencies->len / 2) / 1000.0 : -1,
               b->latencies->len > 0 ? g_array_index(b->latencies, gint64, b->latencies->len * 99 / 100) / 1000.0 : -1,
               b->latencies->len > 0 ? g_array_index(b->latencies, gint64, b->latencies->len - 1) / 1000.0 : -1);
        printf("main-loop stalls (>10 ms) during it: %.0f; longest since ready %.1f ms; clients dropped %.0f\n",
               metric(b, "revaer_main_loop_stalls_total") - stalls_before,
               metric(b, "revaer_main_loop_longest_stall_seconds") * 1000, metric(b, "revaer_sse_dropped_total"));
}

/* one state change at a time, each seen by every client: the latency of a single event */
static void
bench_single(Bench *b)
{
        g_autoptr(JsonNode) page = call(b, "GET", "/v1/torrents?limit=1&fields=name", NULL, 200);
        const char *hash = json_object_get_string_member(
                json_array_get_object_element(json_object_get_array_member(json_node_get_object(page), "torrents"), 0),
                "info_hash");
        g_autofree char *resume = g_strdup_printf("/v1/torrents/%s/resume", hash);
        g_autofree char *pause = g_strdup_printf("/v1/torrents/%s/pause", hash);

        g_array_set_size(b->latencies, 0);
        for (guint i = 0; i < 20; i++) {
                g_autoptr(JsonNode) r1 = NULL;
                b->state_events = 0;
                b->want_events = b->clients;
                r1 = call(b, "POST", (i % 2) == 0 ? resume : pause, NULL, 200);
                g_timeout_add(2000, stop_loop_cb, b->loop);
                if (b->state_events < b->want_events)
                        g_main_loop_run(b->loop);
        }
        g_array_sort(b->latencies, compare_int64);
        printf("single changes, %u clients: p50 %.2f ms, p99 %.2f ms (%u events)\n", b->clients,
               b->latencies->len > 0 ? g_array_index(b->latencies, gint64, b->latencies->len / 2) / 1000.0 : -1,
               b->latencies->len > 0 ? g_array_index(b->latencies, gint64, b->latencies->len * 99 / 100) / 1000.0 : -1,
               b->latencies->len);
}

int
main(int argc, char **argv)
{
        Bench b = { 0 };
        int torrents = 10000;
        int clients = 50;
        g_autofree char *full = NULL;
        const GOptionEntry entries[] = {
                { "revaerd", 0, 0, G_OPTION_ARG_FILENAME, &b.revaerd, "revaerd to run", "PATH" },
                { "torrents", 0, 0, G_OPTION_ARG_INT, &torrents, "torrents (10000)", "N" },
                { "clients", 0, 0, G_OPTION_ARG_INT, &clients, "event stream clients (50)", "N" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- revaerd's HTTP API under load");

        setvbuf(stdout, NULL, _IOLBF, 0);
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, NULL) || b.revaerd == NULL) {
                g_printerr("usage: rv-bench-http --revaerd PATH [--torrents N] [--clients N]\n");
                return 2;
        }
        b.torrents = (guint)MAX(torrents, 1);
        b.clients = (guint)MAX(clients, 1);
        b.dir = g_dir_make_tmp("rv-bench-http-XXXXXX", NULL);
        b.loop = g_main_loop_new(NULL, FALSE);
        b.latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
        b.session = soup_session_new_with_options("timeout", 300, "max-conns", 256, "max-conns-per-host", 256, NULL);
        printf("revaerd %s, %u torrents, %u event stream clients\n", b.revaerd, b.torrents, b.clients);

        start_daemon(&b);
        setup_key(&b);
        bench_adds(&b);
        if (b.failed > 0) {
                g_autofree char *log = g_build_filename(b.dir, "revaerd.log", NULL);
                g_autofree char *kept = g_build_filename(b.dir, "revaerd-adds.log", NULL);
                (void)g_rename(log, kept);
        }
        /* again from the store, so the figures are of a daemon that restored them, and the list is warm */
        stop_daemon(&b);
        start_daemon(&b);
        full = g_strdup_printf("/v1/torrents?fields=all");
        bench_get(&b, "full list, all fields:", full, 9);
        bench_get(&b, "full list, list fields:", "/v1/torrents", 9);
        bench_get(&b, "a page of 100:", "/v1/torrents?limit=100", 21);
        {
                g_autoptr(JsonNode) r = call(&b, "POST", "/v1/torrents/resume", NULL, 204);
                (void)r;
        }
        /* let the resumes settle before the pause that is measured */
        g_timeout_add_seconds(5, stop_loop_cb, b.loop);
        g_main_loop_run(b.loop);
        bench_events(&b);
        bench_single(&b);
        stop_daemon(&b);
        if (b.failed == 0)
                rv_test_data_remove_tree(b.dir);
        else
                printf("kept %s (adds failed: see revaerd.log)\n", b.dir);
        return 0;
}
