/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-http-private.h"

/*
 * GET /v1/events: the event bus as Server-Sent Events. Each event goes out
 * as "id: <bus id>", "event: <kind>", "data: <the JSON envelope>". A client
 * that comes back with Last-Event-ID (or ?last_event_id=) gets what it
 * missed from the bus's replay ring first, in the same main-loop callback
 * that subscribes it, so nothing falls between the replay and the live
 * stream and nothing comes twice; when the ring no longer reaches back that
 * far, a "reset" event says so (read the state again), then the ring follows.
 *
 * A client's events are framed once per event (all clients share the text),
 * gathered per main-loop iteration and handed to libsoup as one chunk. What
 * libsoup has not written yet counts against the client's queue; a client
 * that falls further behind than the queue allows is cut off, so one that
 * never reads can neither grow memory nor slow the others.
 */

typedef struct {
        RvHttpEvents *events;
        RvHttpRequest *req;
        guint subscriber;
        /* info hashes to pass (NULL: all) and kinds (0: all) */
        GHashTable *torrents;
        guint kinds;
        /* framed, waiting for the next flush */
        GString *pending;
        /* handed to libsoup, not yet written, and since when that is over the queue (0: it is not) */
        gsize queued;
        gint64 over_since;
        /* what the replay handed it at once, on top of the cap */
        gsize replayed;
        guint keepalive;
        gulong wrote_handler;
        gulong finished_handler;
        gboolean closed;
} RvHttpClient;

/* how many queues' worth may wait for a client at most, in any case */
#define RV_HTTP_EVENT_BURST 8
/* how long a client may stay more than a queue behind */
#define RV_HTTP_EVENT_GRACE (2 * G_USEC_PER_SEC)

struct _RvHttpEvents {
        RvHttp *http;
        gsize queue_max;
        GPtrArray *clients;
        guint flush_idle;
        /* the last event framed, and its text */
        guint64 framed_id;
        GBytes *framed;
        guint64 dropped;
        guint64 sent;
};

RvHttpEvents *
rv_http_events_new(RvHttp *http, guint queue_max)
{
        RvHttpEvents *events = g_new0(RvHttpEvents, 1);

        events->http = http;
        events->queue_max = queue_max;
        events->clients = g_ptr_array_new();
        return events;
}

static void
rv_http_client_free(RvHttpClient *c)
{
        if (c->keepalive != 0)
                g_source_remove(c->keepalive);
        if (c->torrents != NULL)
                g_hash_table_unref(c->torrents);
        g_string_free(c->pending, TRUE);
        rv_http_request_unref(c->req);
        g_free(c);
}

/* the client is gone or cut off: no more events, no more callbacks */
static void
rv_http_client_close(RvHttpClient *c)
{
        RvHttpEvents *events = c->events;

        if (c->closed)
                return;
        c->closed = TRUE;
        rv_event_bus_unsubscribe(rv_manager_get_events(events->http->manager), c->subscriber);
        if (c->req->msg != NULL) {
                if (c->wrote_handler != 0)
                        g_signal_handler_disconnect(c->req->msg, c->wrote_handler);
                if (c->finished_handler != 0)
                        g_signal_handler_disconnect(c->req->msg, c->finished_handler);
        }
        g_ptr_array_remove_fast(events->clients, c);
        rv_http_client_free(c);
}

void
rv_http_events_free(RvHttpEvents *events)
{
        if (events == NULL)
                return;
        if (events->flush_idle != 0)
                g_source_remove(events->flush_idle);
        while (events->clients->len > 0)
                rv_http_client_close(g_ptr_array_index(events->clients, 0));
        g_ptr_array_unref(events->clients);
        if (events->framed != NULL)
                g_bytes_unref(events->framed);
        g_free(events);
}

/* one event as the stream carries it, framed once for every client */
static GBytes *
rv_http_event_frame(RvHttpEvents *events, const RvEvent *event)
{
        g_autoptr(JsonNode) envelope = NULL;
        g_autofree char *data = NULL;

        if (events->framed != NULL && events->framed_id == event->id && event->kind != RV_EVENT_RESET)
                return events->framed;
        envelope = rv_event_to_json(event);
        data = json_to_string(envelope, FALSE);
        if (events->framed != NULL)
                g_bytes_unref(events->framed);
        {
                char *text = g_strdup_printf("id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n", event->id,
                                             rv_event_kind_to_string(event->kind), data);
                events->framed = g_bytes_new_take(text, strlen(text));
        }
        events->framed_id = event->id;
        return events->framed;
}

static gboolean
rv_http_client_wants(const RvHttpClient *c, const RvEvent *event)
{
        if (event->kind == RV_EVENT_RESET)
                return TRUE;
        if (c->kinds != 0 && (c->kinds & (1u << event->kind)) == 0)
                return FALSE;
        if (c->torrents != NULL && (!event->has_hash || !g_hash_table_contains(c->torrents, event->hash.hex)))
                return FALSE;
        return TRUE;
}

static void
rv_http_client_cut(RvHttpClient *c)
{
        RvHttpRequest *req = rv_http_request_ref(c->req);

        c->events->dropped++;
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_REQUEST_ID", req->request_id, "REVAER_CLIENT",
                         req->client, "MESSAGE",
                         "event stream of %s cut off: it fell more than %" G_GSIZE_FORMAT " bytes behind", req->client,
                         c->events->queue_max);
        rv_http_client_close(c);
        rv_http_request_abort(req);
        rv_http_request_unref(req);
}

static gboolean
rv_http_events_flush_cb(gpointer user_data)
{
        RvHttpEvents *events = user_data;
        g_autoptr(GPtrArray) clients = g_ptr_array_copy(events->clients, NULL, NULL);

        events->flush_idle = 0;
        for (guint i = 0; i < clients->len; i++) {
                RvHttpClient *c = g_ptr_array_index(clients, i);
                GString *pending = c->pending;
                if (pending->len == 0 || c->req->msg == NULL)
                        continue;
                /* more than the queue has stayed unwritten for a while: it does not read */
                if (c->over_since != 0 && g_get_monotonic_time() - c->over_since > RV_HTTP_EVENT_GRACE) {
                        rv_http_client_cut(c);
                        continue;
                }
                c->queued += pending->len;
                if (c->queued > events->queue_max && c->over_since == 0)
                        c->over_since = g_get_monotonic_time();
                c->pending = g_string_sized_new(1024);
                soup_message_body_append_bytes(soup_server_message_get_response_body(c->req->msg),
                                               g_string_free_to_bytes(pending));
                soup_server_message_unpause(c->req->msg);
        }
        return G_SOURCE_REMOVE;
}

/*
 * A client is cut when, at a flush, more than the queue has stayed
 * unwritten for the grace time: a reader that is only slow for a moment
 * (a mass pause's burst, a busy machine) catches up within it, one that
 * does not read does not. Whatever the timing, what waits for one client
 * (unwritten and gathered) is capped at a multiple of the queue.
 */
static void
rv_http_client_queue(RvHttpClient *c, const char *data, gsize len)
{
        RvHttpEvents *events = c->events;

        if (c->queued + c->pending->len + len > RV_HTTP_EVENT_BURST * events->queue_max + c->replayed) {
                rv_http_client_cut(c);
                return;
        }
        g_string_append_len(c->pending, data, (gssize)len);
        if (events->flush_idle == 0)
                events->flush_idle = g_idle_add_full(G_PRIORITY_DEFAULT, rv_http_events_flush_cb, events, NULL);
}

static void
rv_http_client_event_cb(const RvEvent *event, gpointer user_data)
{
        RvHttpClient *c = user_data;
        GBytes *frame;

        if (c->closed || !rv_http_client_wants(c, event))
                return;
        frame = rv_http_event_frame(c->events, event);
        c->events->sent++;
        rv_http_client_queue(c, g_bytes_get_data(frame, NULL), g_bytes_get_size(frame));
}

static void
rv_http_client_wrote_cb(SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
        RvHttpClient *c = user_data;

        c->queued = c->queued > chunk_size ? c->queued - chunk_size : 0;
        if (c->queued <= c->events->queue_max)
                c->over_since = 0;
}

static void
rv_http_client_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
        RvHttpClient *c = user_data;

        /* the client went away (the handler ran before libsoup's own "finished" logging one) */
        c->finished_handler = 0;
        rv_http_client_close(c);
}

static gboolean
rv_http_client_keepalive_cb(gpointer user_data)
{
        RvHttpClient *c = user_data;
        static const char comment[] = ": keep-alive\n\n";

        rv_http_client_queue(c, comment, sizeof(comment) - 1);
        return G_SOURCE_CONTINUE;
}

gboolean
rv_http_event_filters_parse(const char *torrents, const char *kinds, GHashTable **ret_torrents, guint *ret_kinds,
                            GError **error)
{
        g_autoptr(GHashTable) set = NULL;
        guint mask = 0;

        if (torrents != NULL) {
                g_auto(GStrv) parts = g_strsplit(torrents, ",", RV_HTTP_MAX_FILTER + 1);
                set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                for (guint i = 0; parts[i] != NULL; i++) {
                        RvInfoHash hash;
                        if (i >= RV_HTTP_MAX_FILTER || !rv_info_hash_parse(parts[i], &hash)) {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "torrent: expected up to %d info hashes (40 hex digits), comma-separated",
                                            RV_HTTP_MAX_FILTER);
                                return FALSE;
                        }
                        g_hash_table_add(set, g_strdup(hash.hex));
                }
        }
        if (kinds != NULL) {
                g_auto(GStrv) parts = g_strsplit(kinds, ",", RV_EVENT_LAST + 1);
                for (guint i = 0; parts[i] != NULL; i++) {
                        RvEventKind kind = rv_event_kind_from_string(parts[i]);
                        if (kind == RV_EVENT_LAST || kind == RV_EVENT_RESET) {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "kind: '%.64s' is not an event kind", parts[i]);
                                return FALSE;
                        }
                        mask |= 1u << kind;
                }
        }
        *ret_torrents = g_steal_pointer(&set);
        *ret_kinds = mask;
        return TRUE;
}

/* ?torrent=<hash>,... and ?kind=<kind>,...; FALSE with error naming the parameter */
static gboolean
rv_http_client_filters(RvHttpClient *c, RvHttpRequest *req, GError **error)
{
        return rv_http_event_filters_parse(rv_http_request_query(req, "torrent"), rv_http_request_query(req, "kind"),
                                           &c->torrents, &c->kinds, error);
}

gboolean
rv_http_event_id_parse(const char *text, guint64 *ret_id)
{
        /* digits only: GLib's parser lets a leading vertical tab or form feed through */
        if (text[0] == '\0' || text[strspn(text, "0123456789")] != '\0')
                return FALSE;
        return g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret_id, NULL);
}

/* Last-Event-ID or ?last_event_id=: 0 when neither; FALSE for one that is not a number */
static gboolean
rv_http_last_event_id(RvHttpRequest *req, guint64 *ret_id, gboolean *ret_given, GError **error)
{
        const char *header = rv_http_request_header(req, "Last-Event-ID");
        const char *text = header != NULL ? header : rv_http_request_query(req, "last_event_id");

        *ret_given = text != NULL;
        *ret_id = 0;
        if (text == NULL)
                return TRUE;
        if (!rv_http_event_id_parse(text, ret_id)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: '%.32s' is not an event id",
                            header != NULL ? "Last-Event-ID" : "last_event_id", text);
                return FALSE;
        }
        return TRUE;
}

/* what the client missed, from the ring; a reset first when the ring does not reach back */
static void
rv_http_client_replay(RvHttpClient *c, guint64 after)
{
        RvEventBus *bus = rv_manager_get_events(c->events->http->manager);
        gboolean complete = TRUE;
        g_autoptr(GPtrArray) missed = rv_event_bus_replay(bus, after, &complete);

        if (!complete) {
                guint64 reset_id = missed->len > 0 ? ((RvEvent *)g_ptr_array_index(missed, 0))->id - 1
                                                   : rv_event_bus_get_last_id(bus);
                g_string_append_printf(c->pending,
                                       "id: %" G_GUINT64_FORMAT "\nevent: reset\ndata: {\"type\":\"reset\","
                                       "\"last_event_id\":%" G_GUINT64_FORMAT
                                       ",\"detail\":\"events after %" G_GUINT64_FORMAT
                                       " are no longer kept: read the state again\"}\n\n",
                                       reset_id, after, after);
        }
        /* the ring is bounded, so the replay is too; it may exceed the queue once */
        for (guint i = 0; i < missed->len; i++) {
                const RvEvent *event = g_ptr_array_index(missed, i);
                GBytes *frame;
                if (!rv_http_client_wants(c, event))
                        continue;
                frame = rv_http_event_frame(c->events, event);
                g_string_append_len(c->pending, g_bytes_get_data(frame, NULL), (gssize)g_bytes_get_size(frame));
                c->events->sent++;
        }
        c->replayed = c->pending->len;
}

void
rv_http_events_stream(RvHttpRequest *req)
{
        RvHttpEvents *events = req->http->events;
        RvEventBus *bus = rv_manager_get_events(req->http->manager);
        RvHttpClient *c = g_new0(RvHttpClient, 1);
        g_autoptr(GError) error = NULL;
        gboolean resume = FALSE;
        guint64 after = 0;

        c->events = events;
        c->req = rv_http_request_ref(req);
        c->pending = g_string_sized_new(4096);
        if (!rv_http_client_filters(c, req, &error) || !rv_http_last_event_id(req, &after, &resume, &error)) {
                rv_http_respond_error(req, error);
                rv_http_client_free(c);
                return;
        }
        rv_http_respond_stream(req, "text/event-stream");
        /* a comment at once, so a client knows the stream is open before any event */
        g_string_append(c->pending, "retry: 3000\n: connected\n\n");
        /* replay and subscribe in one go: no event can fall between them */
        if (resume)
                rv_http_client_replay(c, after);
        c->subscriber = rv_event_bus_subscribe(bus, rv_http_client_event_cb, c);
        c->wrote_handler = g_signal_connect(req->msg, "wrote-body-data", G_CALLBACK(rv_http_client_wrote_cb), c);
        c->finished_handler = g_signal_connect(req->msg, "finished", G_CALLBACK(rv_http_client_finished_cb), c);
        c->keepalive = g_timeout_add_seconds(RV_HTTP_KEEPALIVE_S, rv_http_client_keepalive_cb, c);
        g_ptr_array_add(events->clients, c);
        if (events->flush_idle == 0)
                events->flush_idle = g_idle_add_full(G_PRIORITY_DEFAULT, rv_http_events_flush_cb, events, NULL);
}

guint
rv_http_events_get_clients(RvHttpEvents *events)
{
        return events->clients->len;
}

guint64
rv_http_events_get_dropped(RvHttpEvents *events)
{
        return events->dropped;
}

guint64
rv_http_events_get_sent(RvHttpEvents *events)
{
        return events->sent;
}

gsize
rv_http_events_get_queued(RvHttpEvents *events)
{
        gsize total = 0;

        for (guint i = 0; i < events->clients->len; i++) {
                RvHttpClient *c = g_ptr_array_index(events->clients, i);
                total += c->queued + c->pending->len;
        }
        return total;
}
