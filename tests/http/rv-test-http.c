/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rv-test-http.h"

void
rv_test_response_free(RvTestResponse *r)
{
        if (r == NULL)
                return;
        if (r->headers != NULL)
                soup_message_headers_unref(r->headers);
        if (r->body != NULL)
                g_bytes_unref(r->body);
        if (r->json != NULL)
                json_node_unref(r->json);
        g_free(r);
}

guint16
rv_test_http_free_port(void)
{
        g_autoptr(GSocket) socket =
                g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
        g_autoptr(GSocketAddress) bound = NULL;

        g_assert_true(g_socket_bind(socket, any, TRUE, NULL));
        bound = g_socket_get_local_address(socket, NULL);
        return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static void
rv_test_http_setup_key(RvTestHttp *t)
{
        g_autoptr(RvTestResponse) start = rv_test_http_request(t, "POST", "/v1/setup/start", NULL, NULL, NULL, NULL);
        g_autoptr(RvTestResponse) done = NULL;
        g_autofree char *body = NULL;
        JsonObject *obj;

        g_assert_cmpuint(start->status, ==, 201);
        obj = rv_test_response_object(start);
        body = g_strdup_printf("{\"token\": \"%s\", \"label\": \"test admin\"}",
                               json_object_get_string_member(obj, "token"));
        done = rv_test_http_json(t, "POST", "/v1/setup/complete", NULL, body);
        g_assert_cmpuint(done->status, ==, 201);
        t->admin = g_strdup(json_object_get_string_member(rv_test_response_object(done), "key"));
}

void
rv_test_http_start(RvTestHttp *t, const char *http_extra, gboolean do_setup)
{
        g_autofree char *dropins = NULL;
        g_autofree char *dropin = NULL;
        g_autofree char *text = NULL;
        gint64 deadline;

        rv_test_harness_setup(&t->h);
        rv_test_harness_write_config(&t->h, NULL);
        t->port = rv_test_http_free_port();
        dropins = g_strconcat(t->h.config, ".d", NULL);
        g_assert_cmpint(g_mkdir_with_parents(dropins, 0700), ==, 0);
        dropin = g_build_filename(dropins, "50-http.conf", NULL);
        text = g_strdup_printf("[http]\nlisten=127.0.0.1:%u\n%s", t->port, http_extra != NULL ? http_extra : "");
        g_assert_true(g_file_set_contents(dropin, text, -1, NULL));
        if (t->stored > 0)
                rv_test_harness_store_torrents(&t->h, "stored", t->stored, TRUE);
        rv_test_harness_start_daemon(&t->h);
        t->base = g_strdup_printf("%s://127.0.0.1:%u",
                                  http_extra != NULL && strstr(http_extra, "tls-") ? "https" : "http", t->port);
        t->session = soup_session_new_with_options("timeout", 30, NULL);
        /* the service answers /health once it is ready */
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(RvTestResponse) r = rv_test_http_get(t, "/health", NULL);
                if (r->status == 200)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
        if (do_setup)
                rv_test_http_setup_key(t);
}

void
rv_test_http_stop(RvTestHttp *t)
{
        g_clear_object(&t->session);
        if (t->h.daemon != NULL && rv_test_harness_daemon_running(&t->h))
                g_assert_cmpint(rv_test_harness_stop_daemon(&t->h), ==, 0);
        rv_test_harness_teardown(&t->h);
        g_clear_pointer(&t->base, g_free);
        g_clear_pointer(&t->admin, g_free);
}

RvTestResponse *
rv_test_http_send(RvTestHttp *t, SoupMessage *msg)
{
        RvTestResponse *r = g_new0(RvTestResponse, 1);
        g_autoptr(GError) error = NULL;
        const char *type;

        r->body = soup_session_send_and_read(t->session, msg, NULL, &error);
        g_assert_no_error(error);
        r->status = soup_message_get_status(msg);
        r->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
        type = soup_message_headers_get_content_type(r->headers, NULL);
        if (type != NULL && g_bytes_get_size(r->body) > 0 &&
            (g_str_equal(type, "application/json") || g_str_equal(type, "application/problem+json"))) {
                g_autoptr(JsonParser) parser = json_parser_new();
                gsize len = 0;
                const char *data = g_bytes_get_data(r->body, &len);
                if (!json_parser_load_from_data(parser, data, (gssize)len, &error))
                        g_error("%s %s: the answer is not JSON: %s", soup_message_get_method(msg),
                                g_uri_get_path(soup_message_get_uri(msg)), error->message);
                r->json = json_node_ref(json_parser_get_root(parser));
        }
        return r;
}

static gboolean
rv_test_http_accept_cb(SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors, gpointer user_data)
{
        /* the tests trust the certificate they made */
        return TRUE;
}

RvTestResponse *
rv_test_http_request(RvTestHttp *t, const char *method, const char *path, const char *key, const char *content_type,
                     const char *body, ...)
{
        g_autofree char *url = g_strconcat(t->base, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, url);
        SoupMessageHeaders *h;
        va_list ap;
        const char *name;

        g_assert_nonnull(msg);
        h = soup_message_get_request_headers(msg);
        g_signal_connect(msg, "accept-certificate", G_CALLBACK(rv_test_http_accept_cb), NULL);
        if (key != NULL) {
                g_autofree char *bearer = g_strdup_printf("Bearer %s", key);
                soup_message_headers_replace(h, "Authorization", bearer);
        }
        if (body != NULL) {
                g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, content_type, bytes);
        }
        va_start(ap, body);
        while ((name = va_arg(ap, const char *)) != NULL)
                soup_message_headers_replace(h, name, va_arg(ap, const char *));
        va_end(ap);
        return rv_test_http_send(t, msg);
}

RvTestResponse *
rv_test_http_get(RvTestHttp *t, const char *path, const char *key)
{
        return rv_test_http_request(t, "GET", path, key, NULL, NULL, NULL);
}

RvTestResponse *
rv_test_http_json(RvTestHttp *t, const char *method, const char *path, const char *key, const char *body)
{
        return rv_test_http_request(t, method, path, key, "application/json", body, NULL);
}

JsonObject *
rv_test_response_object(RvTestResponse *r)
{
        g_assert_nonnull(r->json);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(r->json));
        return json_node_get_object(r->json);
}

const char *
rv_test_assert_problem(RvTestResponse *r, guint status, const char *slug)
{
        JsonObject *obj;
        g_autofree char *type = NULL;

        if (r->status != status)
                g_error("expected %u, got %u: %.*s", status, r->status, (int)g_bytes_get_size(r->body),
                        (const char *)g_bytes_get_data(r->body, NULL));
        g_assert_cmpstr(soup_message_headers_get_content_type(r->headers, NULL), ==, "application/problem+json");
        obj = rv_test_response_object(r);
        g_assert_cmpint(json_object_get_int_member(obj, "status"), ==, status);
        g_assert_nonnull(json_object_get_string_member(obj, "title"));
        g_assert_nonnull(json_object_get_string_member(obj, "instance"));
        g_assert_cmpstr(json_object_get_string_member(obj, "request_id"), ==,
                        soup_message_headers_get_one(r->headers, "X-Request-Id"));
        if (slug != NULL) {
                type = g_strdup_printf("https://revaer.dev/problems/%s", slug);
                g_assert_cmpstr(json_object_get_string_member(obj, "type"), ==, type);
        }
        return json_object_get_string_member_with_default(obj, "detail", "");
}

GBytes *
rv_test_http_raw(RvTestHttp *t, const void *data, gsize len, guint timeout_ms)
{
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketConnection) conn = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GByteArray) out = g_byte_array_new();
        GSocket *socket;
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        conn = g_socket_client_connect_to_host(client, "127.0.0.1", t->port, NULL, &error);
        g_assert_no_error(error);
        socket = g_socket_connection_get_socket(conn);
        if (len > 0 && g_socket_send(socket, data, len, NULL, &error) < 0)
                g_clear_error(&error);
        g_socket_set_blocking(socket, FALSE);
        while (g_get_monotonic_time() < deadline) {
                guint8 buf[16384];
                gssize n;
                if (!g_socket_condition_timed_wait(socket, G_IO_IN | G_IO_HUP, deadline - g_get_monotonic_time(), NULL,
                                                   NULL))
                        break;
                n = g_socket_receive(socket, (char *)buf, sizeof(buf), NULL, &error);
                if (n <= 0)
                        break;
                g_byte_array_append(out, buf, (guint)n);
        }
        return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

guint
rv_test_raw_status(GBytes *answer)
{
        gsize len = 0;
        const char *data = g_bytes_get_data(answer, &len);
        g_autofree char *head = g_strndup(data, MIN(len, 32));
        guint status = 0;

        if (len < 12 || !g_str_has_prefix(head, "HTTP/1."))
                return 0;
        status = (guint)g_ascii_strtoull(head + 9, NULL, 10);
        return status;
}

/* the event stream on a thread of its own, with a session of its own */
struct _RvTestSse {
        char *url;
        char *key;
        char *last_event_id;
        GThread *thread;
        GCancellable *cancellable;
        GMutex lock;
        GCond cond;
        GPtrArray *events;
        gboolean connected;
        gboolean ended;
};

static void
rv_test_sse_event_free(RvTestSseEvent *e)
{
        g_free(e->kind);
        g_free(e->data);
        g_free(e);
}

/* one "id/event/data" block */
static void
rv_test_sse_block(RvTestSse *sse, const char *block)
{
        g_auto(GStrv) lines = g_strsplit(block, "\n", -1);
        RvTestSseEvent *e = g_new0(RvTestSseEvent, 1);
        gboolean any = FALSE;

        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], "id: ")) {
                        e->id = g_ascii_strtoull(lines[i] + 4, NULL, 10);
                        any = TRUE;
                } else if (g_str_has_prefix(lines[i], "event: ")) {
                        e->kind = g_strdup(lines[i] + 7);
                } else if (g_str_has_prefix(lines[i], "data: ")) {
                        e->data = g_strdup(lines[i] + 6);
                }
        }
        if (!any) {
                rv_test_sse_event_free(e);
                return;
        }
        g_mutex_lock(&sse->lock);
        g_ptr_array_add(sse->events, e);
        g_cond_broadcast(&sse->cond);
        g_mutex_unlock(&sse->lock);
}

static gpointer
rv_test_sse_thread(gpointer data)
{
        RvTestSse *sse = data;
        g_autoptr(GMainContext) context = g_main_context_new();
        g_autoptr(SoupSession) session = NULL;
        g_autoptr(SoupMessage) msg = NULL;
        g_autoptr(GInputStream) stream = NULL;
        g_autoptr(GString) buffer = g_string_new(NULL);
        g_autofree char *bearer = g_strdup_printf("Bearer %s", sse->key);

        g_main_context_push_thread_default(context);
        session = soup_session_new();
        msg = soup_message_new("GET", sse->url);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", bearer);
        if (sse->last_event_id != NULL)
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Last-Event-ID",
                                             sse->last_event_id);
        stream = soup_session_send(session, msg, sse->cancellable, NULL);
        g_mutex_lock(&sse->lock);
        sse->connected = stream != NULL && soup_message_get_status(msg) == 200;
        g_cond_broadcast(&sse->cond);
        g_mutex_unlock(&sse->lock);
        while (stream != NULL) {
                char buf[8192];
                gssize n = g_input_stream_read(stream, buf, sizeof(buf), sse->cancellable, NULL);
                char *end;
                if (n <= 0)
                        break;
                g_string_append_len(buffer, buf, n);
                while ((end = strstr(buffer->str, "\n\n")) != NULL) {
                        g_autofree char *block = g_strndup(buffer->str, (gsize)(end - buffer->str));
                        g_string_erase(buffer, 0, end - buffer->str + 2);
                        rv_test_sse_block(sse, block);
                }
        }
        g_mutex_lock(&sse->lock);
        sse->ended = TRUE;
        g_cond_broadcast(&sse->cond);
        g_mutex_unlock(&sse->lock);
        g_clear_object(&stream);
        g_clear_object(&msg);
        g_clear_object(&session);
        g_main_context_pop_thread_default(context);
        return NULL;
}

RvTestSse *
rv_test_sse_open(RvTestHttp *t, const char *query, const char *last_event_id)
{
        RvTestSse *sse = g_new0(RvTestSse, 1);
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        sse->url = g_strdup_printf("%s/v1/events%s%s", t->base, query != NULL ? "?" : "", query != NULL ? query : "");
        sse->key = g_strdup(t->admin);
        sse->last_event_id = g_strdup(last_event_id);
        sse->cancellable = g_cancellable_new();
        sse->events = g_ptr_array_new_with_free_func((GDestroyNotify)rv_test_sse_event_free);
        g_mutex_init(&sse->lock);
        g_cond_init(&sse->cond);
        sse->thread = g_thread_new("sse", rv_test_sse_thread, sse);
        g_mutex_lock(&sse->lock);
        while (!sse->connected && !sse->ended && g_cond_wait_until(&sse->cond, &sse->lock, deadline))
                ;
        g_mutex_unlock(&sse->lock);
        g_assert_true(sse->connected);
        return sse;
}

GPtrArray *
rv_test_sse_events(RvTestSse *sse)
{
        GPtrArray *copy = g_ptr_array_new_with_free_func((GDestroyNotify)rv_test_sse_event_free);

        g_mutex_lock(&sse->lock);
        for (guint i = 0; i < sse->events->len; i++) {
                const RvTestSseEvent *e = g_ptr_array_index(sse->events, i);
                RvTestSseEvent *c = g_new0(RvTestSseEvent, 1);
                c->id = e->id;
                c->kind = g_strdup(e->kind);
                c->data = g_strdup(e->data);
                g_ptr_array_add(copy, c);
        }
        g_mutex_unlock(&sse->lock);
        return copy;
}

gboolean
rv_test_sse_wait_id(RvTestSse *sse, guint64 id, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        gboolean found = FALSE;

        g_mutex_lock(&sse->lock);
        for (;;) {
                for (guint i = 0; i < sse->events->len && !found; i++)
                        found = ((RvTestSseEvent *)g_ptr_array_index(sse->events, i))->id >= id;
                if (found || sse->ended || !g_cond_wait_until(&sse->cond, &sse->lock, deadline))
                        break;
        }
        g_mutex_unlock(&sse->lock);
        return found;
}

gboolean
rv_test_sse_connected(RvTestSse *sse)
{
        gboolean connected;

        g_mutex_lock(&sse->lock);
        connected = sse->connected && !sse->ended;
        g_mutex_unlock(&sse->lock);
        return connected;
}

void
rv_test_sse_close(RvTestSse *sse)
{
        if (sse == NULL)
                return;
        g_cancellable_cancel(sse->cancellable);
        g_thread_join(sse->thread);
        g_ptr_array_unref(sse->events);
        g_object_unref(sse->cancellable);
        g_mutex_clear(&sse->lock);
        g_cond_clear(&sse->cond);
        g_free(sse->url);
        g_free(sse->key);
        g_free(sse->last_event_id);
        g_free(sse);
}

guint64
rv_test_http_last_event_id(RvTestHttp *t)
{
        g_autoptr(RvTestResponse) r = rv_test_http_get(t, "/health/full", t->admin);

        /* a degraded component answers 503 with the same body */
        if (r->status != 200 && r->status != 503)
                g_error("/health/full: %u", r->status);
        if (r->status == 503)
                g_printerr("# /health/full: %.*s\n", (int)g_bytes_get_size(r->body),
                           (const char *)g_bytes_get_data(r->body, NULL));
        return (guint64)json_object_get_int_member(rv_test_response_object(r), "event_id");
}
