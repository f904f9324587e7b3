/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "rv-http-private.h"
#include "rv-json.h"
#include "rv-messages.h"
#include "rv-qbt.h"

void
rv_http_config_init(RvHttpConfig *config)
{
        memset(config, 0, sizeof(*config));
        config->request_timeout_ms = 10000;
        config->event_queue = 1024 * 1024;
        config->auth_failures = 10;
        config->rate_limit = 1000;
}

GSocketAddress *
rv_http_parse_listen(const char *listen, GError **error)
{
        g_autofree char *host = NULL;
        const char *colon;
        guint64 port = 0;

        if (listen == NULL || listen[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "listen: empty address");
                return NULL;
        }
        colon = strrchr(listen, ':');
        if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "listen: '%s' is not host:port with a port from 0 (any) to 65535", listen);
                return NULL;
        }
        host = g_strndup(listen, (gsize)(colon - listen));
        if (host[0] == '[' && g_str_has_suffix(host, "]")) {
                char *inner = g_strndup(host + 1, strlen(host) - 2);
                g_free(host);
                host = inner;
        }
        if (host[0] == '\0') {
                g_free(host);
                host = g_strdup("127.0.0.1");
        }
        if (!g_hostname_is_ip_address(host)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "listen: '%s' is not an IP address", host);
                return NULL;
        }
        return g_inet_socket_address_new_from_string(host, (guint)port);
}

/* requests */

RvHttpRequest *
rv_http_request_ref(RvHttpRequest *req)
{
        req->ref_count++;
        return req;
}

void
rv_http_request_unref(RvHttpRequest *req)
{
        if (req == NULL || --req->ref_count > 0)
                return;
        g_free(req->params[0]);
        g_free(req->params[1]);
        g_free(req->request_id);
        g_free(req->method);
        g_free(req->path);
        g_free(req->client);
        rv_caller_clear(&req->caller);
        if (req->form != NULL)
                g_hash_table_unref(req->form);
        if (req->json != NULL)
                json_node_unref(req->json);
        g_free(req);
}

/* libsoup let go of the message: nothing more can be written */
static void
rv_http_request_detach(gpointer data)
{
        RvHttpRequest *req = data;

        req->msg = NULL;
        req->gone = TRUE;
        rv_http_request_unref(req);
}

RvHttpRequest *
rv_http_request_pause(RvHttpRequest *req)
{
        if (!req->paused && req->msg != NULL) {
                req->paused = TRUE;
                soup_server_message_pause(req->msg);
        }
        return rv_http_request_ref(req);
}

GHashTable *
rv_http_query_parse(const char *query)
{
        GHashTable *params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);

        return params != NULL ? params : g_hash_table_new(g_str_hash, g_str_equal);
}

const char *
rv_http_request_query(RvHttpRequest *req, const char *name)
{
        GUri *uri = req->msg != NULL ? soup_server_message_get_uri(req->msg) : NULL;
        const char *query = uri != NULL ? g_uri_get_query(uri) : NULL;
        GHashTable *params;

        if (query == NULL)
                return NULL;
        params = g_object_get_data(G_OBJECT(req->msg), "rv-http-query");
        if (params == NULL) {
                params = rv_http_query_parse(query);
                g_object_set_data_full(G_OBJECT(req->msg), "rv-http-query", params, (GDestroyNotify)g_hash_table_unref);
        }
        return g_hash_table_lookup(params, name);
}

const char *
rv_http_request_header(RvHttpRequest *req, const char *name)
{
        return req->msg != NULL ? soup_message_headers_get_one(soup_server_message_get_request_headers(req->msg), name)
                                : NULL;
}

gboolean
rv_http_request_allows(RvHttpRequest *req, RvOp op, GError **error)
{
        RvScope needed = rv_op_scope(op);

        if ((req->route->auth != RV_HTTP_AUTH_KEY && req->route->auth != RV_HTTP_AUTH_QBT) ||
            rv_scope_allows(req->scope, needed))
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_ACCESS_DENIED, "the key's scope '%s' does not cover %s (it needs '%s')",
                    rv_scope_to_string(req->scope), rv_op_to_string(op), rv_scope_to_string(needed));
        return FALSE;
}

/* libsoup knows no phrase for these */
static const char *
rv_http_reason(guint status)
{
        switch (status) {
        case 421:
                return "Misdirected Request";
        case 429:
                return "Too Many Requests";
        case 431:
                return "Request Header Fields Too Large";
        default:
                return NULL;
        }
}

/* what every answer carries */
static void
rv_http_common_headers(RvHttpRequest *req)
{
        SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);

        soup_message_headers_replace(h, "X-Request-Id", req->request_id);
        soup_message_headers_replace(h, "Cache-Control", "no-store");
        soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
        if (req->rate_limit > 0) {
                char value[32];
                g_snprintf(value, sizeof(value), "%u", req->rate_limit);
                soup_message_headers_replace(h, "X-RateLimit-Limit", value);
                g_snprintf(value, sizeof(value), "%u", req->rate_remaining);
                soup_message_headers_replace(h, "X-RateLimit-Remaining", value);
                g_snprintf(value, sizeof(value), "%u", req->rate_reset_s);
                soup_message_headers_replace(h, "X-RateLimit-Reset", value);
        }
}

/* the response is set: let libsoup send it (resuming a paused message) */
static void
rv_http_request_done(RvHttpRequest *req, guint status)
{
        req->status = status;
        req->responded = TRUE;
        if (req->paused) {
                req->paused = FALSE;
                soup_server_message_unpause(req->msg);
        }
}

static gboolean
rv_http_request_can_respond(RvHttpRequest *req)
{
        if (req->gone || req->msg == NULL)
                return FALSE;
        if (req->responded) {
                g_debug("request %s answered twice, ignoring", req->request_id);
                return FALSE;
        }
        return TRUE;
}

/*
 * gzip, when the client asks for it (Accept-Encoding), for every answer of
 * /v1 and /api/v2 big enough to gain: a full torrent list is mostly
 * repeated JSON names and compresses about twentyfold, which is what web
 * UIs and node's fetch (the qBittorrent clients) expect from qBittorrent.
 * Level 6 (zlib's default) costs ~20 ms per MiB here; the list is built
 * on the main loop anyway
 */
#define RV_HTTP_GZIP_MIN 1024
#define RV_HTTP_GZIP_LEVEL 6

static gboolean
rv_http_accepts_gzip(RvHttpRequest *req)
{
        const char *header = rv_http_request_header(req, "Accept-Encoding");
        g_auto(GStrv) codings = header != NULL ? g_strsplit(header, ",", 32) : NULL;

        for (guint i = 0; codings != NULL && codings[i] != NULL; i++) {
                g_auto(GStrv) parts = g_strsplit(codings[i], ";", 2);
                const char *q = parts[1] != NULL ? strstr(parts[1], "q=") : NULL;
                char *name = g_strstrip(parts[0]);
                if (g_ascii_strcasecmp(name, "gzip") != 0 && g_ascii_strcasecmp(name, "x-gzip") != 0)
                        continue;
                /* "gzip;q=0" refuses it */
                return q == NULL || g_ascii_strtod(q + 2, NULL) > 0;
        }
        return FALSE;
}

static GBytes *
rv_http_gzip(const char *data, gsize len)
{
        g_autoptr(GZlibCompressor) zlib = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, RV_HTTP_GZIP_LEVEL);
        g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
        g_autoptr(GOutputStream) out = g_converter_output_stream_new(mem, G_CONVERTER(zlib));

        if (!g_output_stream_write_all(out, data, len, NULL, NULL, NULL) || !g_output_stream_close(out, NULL, NULL))
                return NULL;
        return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(mem));
}

/* the body as it goes out: gzip when asked for and worth it, else as it is */
static void
rv_http_set_body(RvHttpRequest *req, const char *content_type, const char *data, gsize len, GDestroyNotify free_data)
{
        SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
        g_autoptr(GBytes) packed = NULL;

        if (len >= RV_HTTP_GZIP_MIN) {
                soup_message_headers_append(h, "Vary", "Accept-Encoding");
                if (rv_http_accepts_gzip(req))
                        packed = rv_http_gzip(data, len);
        }
        if (packed != NULL) {
                gsize packed_len = 0;
                gconstpointer packed_data = g_bytes_get_data(packed, &packed_len);
                soup_message_headers_replace(h, "Content-Encoding", "gzip");
                soup_server_message_set_response(req->msg, content_type, SOUP_MEMORY_COPY, packed_data, packed_len);
                if (free_data != NULL)
                        free_data((gpointer)data);
                return;
        }
        soup_server_message_set_response(req->msg, content_type,
                                         free_data != NULL ? SOUP_MEMORY_TAKE : SOUP_MEMORY_COPY, data, len);
}

void
rv_http_respond_bytes(RvHttpRequest *req, guint status, const char *content_type, GBytes *body)
{
        if (!rv_http_request_can_respond(req))
                return;
        soup_server_message_set_status(req->msg, status, rv_http_reason(status));
        rv_http_common_headers(req);
        soup_message_body_truncate(soup_server_message_get_response_body(req->msg));
        if (body != NULL) {
                gsize len = 0;
                const char *data = g_bytes_get_data(body, &len);
                rv_http_set_body(req, content_type, data, len, NULL);
        } else {
                soup_message_headers_remove(soup_server_message_get_response_headers(req->msg), "Content-Type");
        }
        rv_http_request_done(req, status);
}

static void
rv_http_respond_take(RvHttpRequest *req, guint status, const char *content_type, char *text, gsize len)
{
        if (!rv_http_request_can_respond(req)) {
                g_free(text);
                return;
        }
        soup_server_message_set_status(req->msg, status, rv_http_reason(status));
        rv_http_common_headers(req);
        /* libsoup appends: drop the problem every request starts with */
        soup_message_body_truncate(soup_server_message_get_response_body(req->msg));
        rv_http_set_body(req, content_type, text, len, g_free);
        rv_http_request_done(req, status);
}

void
rv_http_respond_string(RvHttpRequest *req, guint status, const char *content_type, GString *text)
{
        gsize len = text->len;

        rv_http_respond_take(req, status, content_type, g_string_free(text, FALSE), len);
}

void
rv_http_respond_json(RvHttpRequest *req, guint status, JsonNode *node)
{
        char *text = json_to_string(node, FALSE);

        rv_http_respond_take(req, status, "application/json", text, strlen(text));
}

void
rv_http_respond_empty(RvHttpRequest *req, guint status)
{
        rv_http_respond_bytes(req, status, NULL, NULL);
}

void
rv_http_respond_problem(RvHttpRequest *req, guint status, const char *slug, const char *detail, const char *field)
{
        char *text;

        if (!rv_http_request_can_respond(req))
                return;
        /* the qBittorrent WebAPI answers its errors in plain text, as qBittorrent does */
        if (req->path != NULL && g_str_has_prefix(req->path, "/api/v2/")) {
                text = g_strdup(status == SOUP_STATUS_NOT_FOUND ? "Not Found" : detail);
                rv_http_respond_take(req, status, "text/plain; charset=UTF-8", text, strlen(text));
                return;
        }
        text = rv_http_problem_text(status, slug, detail, field, req->path, req->request_id);
        rv_http_respond_take(req, status, "application/problem+json", text, strlen(text));
}

void
rv_http_respond_error(RvHttpRequest *req, const GError *error)
{
        g_autoptr(GError) copy = g_error_copy(error);
        g_autofree char *field = NULL;

        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)) {
                rv_http_respond_problem(req, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                                        error->message, NULL);
                return;
        }
        /* nothing foreign reaches a client: the one table decides status and type */
        rv_error_convert(&copy);
        if (copy->code == RV_ERROR_INVALID_ARGUMENT)
                field = rv_http_error_field(copy->message);
        rv_http_respond_problem(req, rv_error_to_http_status(copy->code), rv_error_to_problem_slug(copy->code),
                                copy->message, field);
}

void
rv_http_respond_stream(RvHttpRequest *req, const char *content_type)
{
        SoupMessageHeaders *h;

        if (!rv_http_request_can_respond(req))
                return;
        h = soup_server_message_get_response_headers(req->msg);
        soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
        rv_http_common_headers(req);
        soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
        soup_message_headers_set_content_type(h, content_type, NULL);
        soup_message_body_truncate(soup_server_message_get_response_body(req->msg));
        /* proxies must not hold the stream back */
        soup_message_headers_replace(h, "X-Accel-Buffering", "no");
        soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
        req->streaming = TRUE;
        req->status = SOUP_STATUS_OK;
        req->responded = TRUE;
}

/* the journal entry of a request, and its count in the metrics */
static void
rv_http_request_log(RvHttp *http, RvHttpRequest *req)
{
        gint64 us = g_get_monotonic_time() - req->started_us;
        g_autofree char *status = g_strdup_printf("%u", req->status);
        g_autofree char *ms = g_strdup_printf("%.3f", (double)us / 1000.0);
        gboolean quiet =
                req->status < 400 && (g_strcmp0(req->method, "GET") == 0 || g_strcmp0(req->method, "HEAD") == 0);

        rv_http_metrics_count(http, req);
        g_log_structured(
                G_LOG_DOMAIN, quiet ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_HTTP_REQUEST,
                "REVAER_REQUEST_ID", req->request_id, "REVAER_HTTP_METHOD", req->method != NULL ? req->method : "",
                "REVAER_HTTP_ROUTE", req->route != NULL ? req->route->pattern : "", "REVAER_HTTP_STATUS", status,
                "REVAER_HTTP_DURATION_MS", ms, "REVAER_CLIENT", req->client != NULL ? req->client : "", "REVAER_KEY_ID",
                req->caller.key_id != NULL ? req->caller.key_id : "", "MESSAGE", "HTTP %s %s %u in %s ms (request %s)",
                req->method, req->path, req->status, ms, req->request_id);
}

static void
rv_http_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
        RvHttpRequest *req = user_data;

        if (req->status == 0)
                req->status = soup_server_message_get_status(msg);
        if (!req->gone)
                rv_http_request_log(req->http, req);
        req->gone = TRUE;
}

/*
 * Closing a connection the hard way: a client that sends too slowly (or
 * too much) is not worth reading to the end, and a stream whose client fell
 * behind is not worth finishing. The connection is taken from libsoup, a
 * last answer is written when there is one, the sending side is shut, what
 * the client still sends is read away for a moment (closing with unread data
 * would reset the connection and lose the answer), and then it is closed.
 */
#define RV_HTTP_LINGER_MS 1000
#define RV_HTTP_LINGER_BYTES (1024 * 1024)

typedef struct {
        GIOStream *stream;
        GBytes *answer;
        guint8 buf[8192];
        gsize drained;
        GCancellable *cancellable;
        guint timer;
} RvHttpAbort;

static void
rv_http_abort_free(RvHttpAbort *a)
{
        if (a->timer != 0)
                g_source_remove(a->timer);
        g_clear_object(&a->cancellable);
        if (a->answer != NULL)
                g_bytes_unref(a->answer);
        g_object_unref(a->stream);
        g_free(a);
}

static void
rv_http_abort_closed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        (void)g_io_stream_close_finish(G_IO_STREAM(source), result, NULL);
        rv_http_abort_free(user_data);
}

static void
rv_http_abort_close(RvHttpAbort *a)
{
        if (a->timer != 0) {
                g_source_remove(a->timer);
                a->timer = 0;
        }
        g_io_stream_close_async(a->stream, G_PRIORITY_DEFAULT, NULL, rv_http_abort_closed_cb, a);
}

static gboolean
rv_http_abort_linger_done_cb(gpointer user_data)
{
        RvHttpAbort *a = user_data;

        a->timer = 0;
        /* the pending read ends with CANCELLED and closes */
        g_cancellable_cancel(a->cancellable);
        return G_SOURCE_REMOVE;
}

static void
rv_http_abort_drained_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpAbort *a = user_data;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);

        if (n <= 0 || (a->drained += (gsize)n) >= RV_HTTP_LINGER_BYTES) {
                rv_http_abort_close(a);
                return;
        }
        g_input_stream_read_async(g_io_stream_get_input_stream(a->stream), a->buf, sizeof(a->buf), G_PRIORITY_LOW,
                                  a->cancellable, rv_http_abort_drained_cb, a);
}

static void
rv_http_abort_linger(RvHttpAbort *a)
{
        GSocket *socket = g_object_get_data(G_OBJECT(a->stream), "GSocket");

        /* plain TCP: FIN now, so the client sees the end of the answer; TLS closes its own way */
        if (socket != NULL && G_IS_SOCKET_CONNECTION(a->stream))
                (void)g_socket_shutdown(socket, FALSE, TRUE, NULL);
        a->cancellable = g_cancellable_new();
        a->timer = g_timeout_add(RV_HTTP_LINGER_MS, rv_http_abort_linger_done_cb, a);
        g_input_stream_read_async(g_io_stream_get_input_stream(a->stream), a->buf, sizeof(a->buf), G_PRIORITY_LOW,
                                  a->cancellable, rv_http_abort_drained_cb, a);
}

static void
rv_http_abort_written_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpAbort *a = user_data;

        if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, NULL)) {
                rv_http_abort_close(a);
                return;
        }
        rv_http_abort_linger(a);
}

/* the response set on msg, as bytes to write on a connection that closes after it */
static GBytes *
rv_http_abort_answer(SoupServerMessage *msg)
{
        GString *out = g_string_new(NULL);
        SoupMessageHeadersIter iter;
        const char *name;
        const char *value;
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_response_body(msg));
        guint status = soup_server_message_get_status(msg);

        g_string_append_printf(out, "HTTP/1.1 %u %s\r\n", status, soup_server_message_get_reason_phrase(msg));
        soup_message_headers_iter_init(&iter, soup_server_message_get_response_headers(msg));
        while (soup_message_headers_iter_next(&iter, &name, &value)) {
                if (g_ascii_strcasecmp(name, "Content-Length") != 0 && g_ascii_strcasecmp(name, "Connection") != 0 &&
                    g_ascii_strcasecmp(name, "Transfer-Encoding") != 0)
                        g_string_append_printf(out, "%s: %s\r\n", name, value);
        }
        g_string_append_printf(out, "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                               g_bytes_get_size(body));
        g_string_append_len(out, g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body));
        return g_string_free_to_bytes(out);
}

/* with_answer: the response set on msg is written first (msg must not have started answering) */
static void
rv_http_abort_message(SoupServerMessage *msg, gboolean with_answer)
{
        g_autoptr(GBytes) answer = with_answer ? rv_http_abort_answer(msg) : NULL;
        GIOStream *stream;
        RvHttpAbort *a;

        /* msg may go away in here */
        stream = soup_server_message_steal_connection(msg);
        if (stream == NULL)
                return;
        a = g_new0(RvHttpAbort, 1);
        a->stream = stream;
        if (answer == NULL) {
                rv_http_abort_close(a);
                return;
        }
        a->answer = g_steal_pointer(&answer);
        g_output_stream_write_all_async(g_io_stream_get_output_stream(stream), g_bytes_get_data(a->answer, NULL),
                                        g_bytes_get_size(a->answer), G_PRIORITY_DEFAULT, NULL, rv_http_abort_written_cb,
                                        a);
}

void
rv_http_request_abort(RvHttpRequest *req)
{
        SoupServerMessage *msg = req->msg;

        if (msg == NULL || req->gone)
                return;
        req->gone = TRUE;
        req->http->aborted++;
        rv_http_request_log(req->http, req);
        g_object_ref(msg);
        rv_http_abort_message(msg, FALSE);
        g_object_unref(msg);
}

/*
 * Slow requests: from the moment libsoup starts a request (a connection is
 * accepted, or the next request's first bytes arrive) the whole of it, body
 * included, must be in within request_timeout_ms; a slow-loris client that
 * trickles headers or a body gets 408 and is cut off.
 */
typedef struct {
        RvHttp *http;
        SoupServerMessage *msg;
        guint id;
        /* an idle connection: waiting for its first byte, and how long it may stay idle */
        GSource *watch;
        guint idle;
} RvHttpDeadline;

static void
rv_http_deadline_free(gpointer data)
{
        RvHttpDeadline *d = data;

        if (d->id != 0)
                g_source_remove(d->id);
        if (d->idle != 0)
                g_source_remove(d->idle);
        if (d->watch != NULL) {
                g_source_destroy(d->watch);
                g_source_unref(d->watch);
        }
        g_free(d);
}

static gboolean
rv_http_deadline_cb(gpointer user_data)
{
        RvHttpDeadline *d = user_data;
        SoupServerMessage *msg = d->msg;
        RvHttp *http = d->http;
        RvHttpRequest *req = g_object_get_data(G_OBJECT(msg), "rv-http-request");
        GSocket *socket = soup_server_message_get_socket(msg);
        g_autofree char *text = NULL;
        g_autofree char *detail = g_strdup_printf("the request did not arrive within %u ms", http->request_timeout_ms);

        /*
         * the client sent more that this loop has not read yet: the slow one
         * is the service (busy with other requests), not the client; a slow
         * client has nothing waiting when its time is up
         */
        if (socket != NULL && g_socket_get_available_bytes(socket) > 0)
                return G_SOURCE_CONTINUE;
        d->id = 0;
        g_object_ref(msg);
        soup_server_message_set_status(msg, SOUP_STATUS_REQUEST_TIMEOUT, NULL);
        text = rv_http_problem_text(SOUP_STATUS_REQUEST_TIMEOUT, "request-timeout", detail, NULL,
                                    req != NULL ? req->path : NULL, req != NULL ? req->request_id : NULL);
        soup_message_body_truncate(soup_server_message_get_response_body(msg));
        soup_server_message_set_response(msg, "application/problem+json", SOUP_MEMORY_COPY, text, strlen(text));
        if (req != NULL && !req->gone) {
                req->status = SOUP_STATUS_REQUEST_TIMEOUT;
                req->gone = TRUE;
                rv_http_request_log(http, req);
        }
        http->aborted++;
        rv_http_abort_message(msg, TRUE);
        g_object_unref(msg);
        return G_SOURCE_REMOVE;
}

/* an idle connection that never said anything: closed without an answer, as there is no request to answer */
static gboolean
rv_http_idle_cb(gpointer user_data)
{
        RvHttpDeadline *d = user_data;
        SoupServerMessage *msg = d->msg;

        d->idle = 0;
        g_object_ref(msg);
        rv_http_abort_message(msg, FALSE);
        g_object_unref(msg);
        return G_SOURCE_REMOVE;
}

/* the first byte of a request on an idle connection: its time starts now */
static gboolean
rv_http_first_byte_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
        RvHttpDeadline *d = user_data;

        if (d->idle != 0) {
                g_source_remove(d->idle);
                d->idle = 0;
        }
        d->id = g_timeout_add(d->http->request_timeout_ms, rv_http_deadline_cb, d);
        /* the source goes with its last reference, after this returns */
        g_clear_pointer(&d->watch, g_source_unref);
        return G_SOURCE_REMOVE;
}

static void
rv_http_got_body_cb(SoupServerMessage *msg, gpointer user_data)
{
        /* in full: the deadline is met */
        g_object_set_data(G_OBJECT(msg), "rv-http-deadline", NULL);
}

static void
rv_http_request_started_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
        RvHttp *self = user_data;
        RvHttpDeadline *d = g_new0(RvHttpDeadline, 1);
        GSocket *socket;
        static const char malformed[] =
                "{\"type\":\"https://revaer.dev/problems/malformed-request\",\"title\":\"Malformed request\","
                "\"detail\":\"the request is not HTTP this service can read\"}";

        /*
         * when libsoup cannot parse a request it answers by itself, with the
         * status it chose and the body the message has: make that body a
         * problem too; every other answer replaces it
         */
        soup_server_message_set_response(msg, "application/problem+json", SOUP_MEMORY_STATIC, malformed,
                                         sizeof(malformed) - 1);
        d->http = self;
        d->msg = msg;
        socket = soup_server_message_get_socket(msg);
        if (socket != NULL && soup_server_message_get_method(msg) == NULL &&
            g_socket_get_available_bytes(socket) <= 0) {
                /*
                 * a connection that has sent nothing yet (a new one, or one
                 * kept alive between requests) is idle, not slow: clients
                 * open connections ahead and keep them, and closing one as it
                 * is used loses the request; the clock starts at its first
                 * byte, and an idle connection is closed after a while
                 */
                d->watch = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
                g_source_set_callback(d->watch, G_SOURCE_FUNC(rv_http_first_byte_cb), d, NULL);
                g_source_attach(d->watch, NULL);
                d->idle = g_timeout_add_seconds(RV_HTTP_IDLE_S, rv_http_idle_cb, d);
        } else {
                d->id = g_timeout_add(self->request_timeout_ms, rv_http_deadline_cb, d);
        }
        g_object_set_data_full(G_OBJECT(msg), "rv-http-deadline", d, rv_http_deadline_free);
        g_signal_connect(msg, "got-body", G_CALLBACK(rv_http_got_body_cb), NULL);
}

/* a Host header that a DNS rebinding attack cannot produce: an IP address, localhost, or a configured name */
static gboolean
rv_http_host_allowed(RvHttp *self, const char *host_header)
{
        g_autofree char *host = NULL;
        const char *end;

        if (host_header == NULL)
                return TRUE;
        if (host_header[0] == '[') {
                end = strchr(host_header, ']');
                if (end == NULL)
                        return FALSE;
                host = g_strndup(host_header + 1, (gsize)(end - host_header - 1));
        } else {
                end = strrchr(host_header, ':');
                host = end != NULL ? g_strndup(host_header, (gsize)(end - host_header)) : g_strdup(host_header);
        }
        if (host[0] == '\0')
                return FALSE;
        if (g_hostname_is_ip_address(host))
                return TRUE;
        {
                g_autofree char *lower = g_ascii_strdown(host, -1);
                if (g_str_equal(lower, "localhost") || g_str_equal(lower, "localhost."))
                        return TRUE;
                return self->allowed_hosts != NULL && g_strv_contains((const char *const *)self->allowed_hosts, lower);
        }
}

static gboolean
rv_http_request_id_usable(const char *id)
{
        gsize n = id != NULL ? strlen(id) : 0;

        return n > 0 && n <= RV_HTTP_MAX_REQUEST_ID &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

static RvHttpRequest *
rv_http_request_new(RvHttp *self, SoupServerMessage *msg)
{
        RvHttpRequest *req = g_new0(RvHttpRequest, 1);
        GUri *uri = soup_server_message_get_uri(msg);
        GSocketAddress *remote = soup_server_message_get_remote_address(msg);
        const char *id = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "X-Request-Id");

        req->ref_count = 1;
        req->http = self;
        req->msg = msg;
        req->started_us = g_get_monotonic_time();
        req->request_id = rv_http_request_id_usable(id) ? g_strdup(id) : g_uuid_string_random();
        req->method = g_strdup(soup_server_message_get_method(msg));
        req->path = g_strdup(uri != NULL ? g_uri_get_path(uri) : "");
        req->scope = RV_SCOPE_METRICS;
        if (G_IS_INET_SOCKET_ADDRESS(remote)) {
                GInetAddress *address = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote));
                req->client = g_inet_address_to_string(address);
                req->client_loopback = g_inet_address_get_is_loopback(address);
        } else {
                /* a socket that is not IP (a unix socket passed by systemd) is local */
                req->client = g_strdup("local");
                req->client_loopback = remote != NULL;
        }
        g_object_set_data_full(G_OBJECT(msg), "rv-http-request", req, rv_http_request_detach);
        g_signal_connect(msg, "finished", G_CALLBACK(rv_http_finished_cb), req);
        return req;
}

/* the header block within bounds: FALSE after a 431 */
static gboolean
rv_http_check_headers(RvHttpRequest *req)
{
        SoupMessageHeadersIter iter;
        const char *name;
        const char *value;
        gsize total = 0;
        guint n = 0;

        soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(req->msg));
        while (soup_message_headers_iter_next(&iter, &name, &value)) {
                gsize len = strlen(value);
                if (len > RV_HTTP_MAX_HEADER_VALUE) {
                        g_autofree char *detail =
                                g_strdup_printf("header %.64s: longer than %d bytes", name, RV_HTTP_MAX_HEADER_VALUE);
                        rv_http_respond_problem(req, 431, "header-too-large", detail, NULL);
                        return FALSE;
                }
                total += strlen(name) + len + 4;
                n++;
        }
        if (n > RV_HTTP_MAX_HEADERS || total > RV_HTTP_MAX_HEADER_BYTES) {
                g_autofree char *detail = g_strdup_printf("at most %d headers and %d bytes of them",
                                                          RV_HTTP_MAX_HEADERS, RV_HTTP_MAX_HEADER_BYTES);
                rv_http_respond_problem(req, 431, "header-too-large", detail, NULL);
                return FALSE;
        }
        return TRUE;
}

/* a body the route takes, of a size it allows: FALSE after a problem */
static gboolean
rv_http_check_body(RvHttp *self, RvHttpRequest *req)
{
        SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
        SoupEncoding encoding = soup_message_headers_get_encoding(h);
        goffset length = encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length(h) : 0;
        gsize limit = req->route->body == RV_HTTP_BODY_UPLOAD ? rv_http_upload_limit(self)
                      : req->route->body == RV_HTTP_BODY_JSON || req->route->body == RV_HTTP_BODY_FORM
                              ? RV_HTTP_MAX_JSON_BODY
                              : 0;

        if (encoding == SOUP_ENCODING_CHUNKED) {
                rv_http_respond_problem(req, SOUP_STATUS_LENGTH_REQUIRED, "length-required",
                                        "a request body needs a Content-Length", NULL);
                return FALSE;
        }
        if (length > 0 && limit == 0) {
                g_autofree char *detail = g_strdup_printf("%s %s takes no body", req->method, req->route->pattern);
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, NULL);
                return FALSE;
        }
        if (length > 0 && (guint64)length > limit) {
                g_autofree char *detail = g_strdup_printf("the body is %" G_GINT64_FORMAT
                                                          " bytes, more than the %" G_GSIZE_FORMAT " this route takes",
                                                          (gint64)length, limit);
                rv_http_respond_problem(req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large", detail, NULL);
                return FALSE;
        }
        return TRUE;
}

/* the request line: a route for it, FALSE after a 404, 405 or 414 */
static gboolean
rv_http_find_route(RvHttpRequest *req)
{
        GUri *uri = soup_server_message_get_uri(req->msg);
        const char *query = uri != NULL ? g_uri_get_query(uri) : NULL;
        g_autofree char *allow = NULL;

        if (strlen(req->path) + (query != NULL ? strlen(query) : 0) > RV_HTTP_MAX_TARGET) {
                rv_http_respond_problem(req, SOUP_STATUS_REQUEST_URI_TOO_LONG, "uri-too-long",
                                        "the request target is too long", NULL);
                return FALSE;
        }
        req->route = rv_http_route_match(req->method, req->path, req->params, &allow);
        if (req->route != NULL)
                return TRUE;
        if (allow != NULL) {
                g_autofree char *detail = g_strdup_printf("%s is not allowed here (only %s)", req->method, allow);
                soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Allow", allow);
                rv_http_respond_problem(req, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", detail, NULL);
        } else {
                rv_http_respond_problem(req, SOUP_STATUS_NOT_FOUND, "not-found", "no such resource", NULL);
        }
        return FALSE;
}

/* an answer given before the body was read: a large body is not worth reading at all */
static gboolean
rv_http_refuse_early_cb(gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        SoupServerMessage *msg = req->msg;

        if (msg == NULL || req->gone)
                return G_SOURCE_REMOVE;
        req->gone = TRUE;
        rv_http_request_log(req->http, req);
        req->http->aborted++;
        g_object_ref(msg);
        rv_http_abort_message(msg, TRUE);
        g_object_unref(msg);
        return G_SOURCE_REMOVE;
}

static void
rv_http_refused_early(RvHttpRequest *req)
{
        SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
        SoupEncoding encoding = soup_message_headers_get_encoding(h);
        goffset length = encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length(h) : 0;

        /* whatever body follows is read away, never kept */
        soup_message_body_set_accumulate(soup_server_message_get_request_body(req->msg), FALSE);
        if (encoding == SOUP_ENCODING_CHUNKED || length > RV_HTTP_MAX_JSON_BODY) {
                /* stop reading now; the answer goes out from the loop, outside libsoup's own call */
                soup_server_message_pause(req->msg);
                g_idle_add(rv_http_refuse_early_cb, rv_http_request_ref(req));
        }
}

/*
 * after the headers, before the body: everything that can be refused
 * without reading the body is refused here, so an unauthenticated or
 * oversized upload never takes memory
 */
static void
rv_http_early_cb(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
        RvHttp *self = user_data;
        RvHttpRequest *req = rv_http_request_new(self, msg);
        const char *host = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");

        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "X-Request-Id", req->request_id);
        if (host != NULL &&
            strchr(soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Host"), ',') != NULL) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "more than one Host", NULL);
        } else if (!rv_http_host_allowed(self, host)) {
                g_autofree char *detail = g_strdup_printf("Host '%.128s' is not a name of this service (add it to "
                                                          "[http] allowed-hosts)",
                                                          host);
                rv_http_respond_problem(req, SOUP_STATUS_MISDIRECTED_REQUEST, "host-not-allowed", detail, NULL);
        } else if (!rv_http_check_headers(req) || !rv_http_find_route(req) || !rv_http_check_body(self, req) ||
                   !rv_http_auth_check(self, req)) {
                /* answered */
        } else {
                return;
        }
        rv_http_refused_early(req);
}

static void
rv_http_handler_cb(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
        RvHttpRequest *req = g_object_get_data(G_OBJECT(msg), "rv-http-request");

        if (req == NULL || req->route == NULL) {
                soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
                return;
        }
        rv_http_request_ref(req);
        req->route->handler(req);
        if (!req->responded && !req->paused) {
                g_warning("HTTP %s %s: the handler gave no answer, ignoring", req->method, req->route->pattern);
                rv_http_respond_problem(req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "no answer", NULL);
        }
        rv_http_request_unref(req);
}

/* listeners */

static gboolean
rv_http_wanted_fd_name(const char *name)
{
        /* systemd names an unnamed socket after its unit; systemd-socket-activate says "unknown" */
        return name == NULL || g_strcmp0(name, "http") == 0 || g_strcmp0(name, "unknown") == 0 ||
               g_str_has_suffix(name, ".socket");
}

static gboolean
rv_http_take_activated(RvHttp *self, GError **error)
{
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names);
        SoupServerListenOptions options = self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0;

        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                g_autoptr(GSocket) socket = NULL;
                if (!rv_http_wanted_fd_name(names != NULL ? names[i] : NULL)) {
                        g_debug("ignoring passed socket '%s'", names[i]);
                        continue;
                }
                socket = g_socket_new_from_fd(fd, error);
                if (socket == NULL || !soup_server_listen_socket(self->server, socket, options, error)) {
                        g_strfreev(names);
                        rv_error_convert(error);
                        return FALSE;
                }
                self->activated++;
        }
        g_strfreev(names);
        return TRUE;
}

static gboolean
rv_http_load_tls(RvHttp *self, const RvHttpConfig *config, GError **error)
{
        g_autoptr(GTlsCertificate) certificate = NULL;
        g_autoptr(GError) error_local = NULL;

        if (config->tls_certificate == NULL)
                return TRUE;
        certificate = g_tls_certificate_new_from_files(config->tls_certificate, config->tls_key, &error_local);
        if (certificate == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "[http] tls-certificate '%s' and tls-key '%s': %s", config->tls_certificate,
                            config->tls_key, error_local->message);
                return FALSE;
        }
        soup_server_set_tls_certificate(self->server, certificate);
        self->tls = TRUE;
        return TRUE;
}

/*
 * the listening socket is made here, not by libsoup, for its backlog:
 * libsoup listens with GSocket's default of 10, and a client that opens
 * dozens of connections at once then gets some reset
 */
static GSocket *
rv_http_listening_socket(GSocketAddress *address, GError **error)
{
        GSocketFamily family = g_socket_address_get_family(address);
        g_autoptr(GSocket) socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);

        if (socket == NULL)
                return NULL;
        if (family == G_SOCKET_FAMILY_IPV6)
                (void)g_socket_set_option(socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
        g_socket_set_listen_backlog(socket, RV_HTTP_BACKLOG);
        if (!g_socket_bind(socket, address, TRUE, error) || !g_socket_listen(socket, error))
                return NULL;
        return g_steal_pointer(&socket);
}

static gboolean
rv_http_listen(RvHttp *self, const char *listen, GError **error)
{
        g_autoptr(GSocketAddress) address = rv_http_parse_listen(listen, error);
        g_autoptr(GSocket) socket = NULL;
        g_autoptr(GError) error_local = NULL;

        if (address == NULL)
                return FALSE;
        socket = rv_http_listening_socket(address, &error_local);
        if (socket == NULL ||
            !soup_server_listen_socket(self->server, socket, self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error_local)) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "cannot listen on %s: %s", listen,
                            error_local->message);
                return FALSE;
        }
        return TRUE;
}

static void
rv_http_probe_free(RvHttpProbe *probe)
{
        g_free(probe->component);
        g_free(probe);
}

RvHttp *
rv_http_new(RvManager *manager, RvStore *store, const RvHttpConfig *config, GError **error)
{
        g_autoptr(RvHttp) self = g_new0(RvHttp, 1);
        g_autofree char *header = g_strdup_printf("revaer/%s", PACKAGE_VERSION);

        self->manager = g_object_ref(manager);
        self->store = store;
        self->allowed_hosts = g_strdupv((GStrv)config->allowed_hosts);
        self->request_timeout_ms = MAX(config->request_timeout_ms, 100);
        self->auth_failure_limit = MAX(config->auth_failures, 1);
        self->rate_limit = MAX(config->rate_limit, 1);
        self->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->probes = g_ptr_array_new_with_free_func((GDestroyNotify)rv_http_probe_free);
        self->request_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->request_seconds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->server = soup_server_new("server-header", header, NULL);
        self->events = rv_http_events_new(self, MAX(config->event_queue, 4096));
        self->qbt = rv_qbt_new(self);
        g_signal_connect(self->server, "request-started", G_CALLBACK(rv_http_request_started_cb), self);
        soup_server_add_early_handler(self->server, NULL, rv_http_early_cb, self, NULL);
        soup_server_add_handler(self->server, NULL, rv_http_handler_cb, self, NULL);
        if (!rv_http_load_tls(self, config, error) || !rv_http_take_activated(self, error))
                return NULL;
        if (self->activated == 0 && config->listen != NULL && !rv_http_listen(self, config->listen, error))
                return NULL;
        return g_steal_pointer(&self);
}

void
rv_http_free(RvHttp *self)
{
        if (self == NULL)
                return;
        /* the streams first: they hold subscriptions on the event bus */
        g_clear_pointer(&self->events, rv_http_events_free);
        g_clear_pointer(&self->qbt, rv_qbt_free);
        if (self->server != NULL) {
                soup_server_disconnect(self->server);
                g_object_unref(self->server);
        }
        g_clear_object(&self->manager);
        g_clear_object(&self->settings);
        g_clear_object(&self->access);
        g_strfreev(self->allowed_hosts);
        g_clear_pointer(&self->buckets, g_hash_table_unref);
        g_clear_pointer(&self->failures, g_hash_table_unref);
        g_clear_pointer(&self->request_counts, g_hash_table_unref);
        g_clear_pointer(&self->request_seconds, g_hash_table_unref);
        g_clear_pointer(&self->probes, g_ptr_array_unref);
        g_free(self);
}

void
rv_http_set_settings(RvHttp *self, RvLiveSettings *settings)
{
        g_set_object(&self->settings, settings);
}

void
rv_http_set_access(RvHttp *self, RvAccess *access)
{
        g_set_object(&self->access, access);
}

void
rv_http_add_probe(RvHttp *self, const char *component, RvHttpProbeFunc func, gpointer user_data)
{
        RvHttpProbe *probe = g_new0(RvHttpProbe, 1);

        probe->component = g_strdup(component);
        probe->func = func;
        probe->user_data = user_data;
        g_ptr_array_add(self->probes, probe);
}

void
rv_http_set_metrics_func(RvHttp *self, RvHttpMetricsFunc func, gpointer user_data)
{
        self->metrics_func = func;
        self->metrics_data = user_data;
}

void
rv_http_set_ready(RvHttp *self)
{
        self->ready = TRUE;
}

guint
rv_http_get_activated(RvHttp *self)
{
        return self->activated;
}

guint16
rv_http_get_port(RvHttp *self)
{
        GSList *uris = soup_server_get_uris(self->server);
        guint16 port = uris != NULL ? (guint16)g_uri_get_port(uris->data) : 0;

        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        return port;
}

char *
rv_http_get_url(RvHttp *self)
{
        GSList *uris = soup_server_get_uris(self->server);
        char *url = uris != NULL ? g_uri_to_string(uris->data) : NULL;

        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        return url;
}
