/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

#include "rv-access.h"
#include "rv-command.h"
#include "rv-http-server.h"
#include "rv-json.h"
#include "rv-live-settings.h"
#include "rv-manager.h"

G_BEGIN_DECLS

/* bounds on what a client sends (beyond these, libsoup itself closes at 64 KiB of headers) */
#define RV_HTTP_MAX_HEADER_BYTES (16 * 1024)
#define RV_HTTP_MAX_HEADER_VALUE (8 * 1024)
#define RV_HTTP_MAX_HEADERS 64
#define RV_HTTP_MAX_TARGET 4096
#define RV_HTTP_MAX_JSON_BODY (64 * 1024)
#define RV_HTTP_MAX_JSON_DEPTH 32
#define RV_HTTP_MAX_PAGE 10000
#define RV_HTTP_MAX_REQUEST_ID 64
#define RV_HTTP_MAX_FILTER 64
/* rate-limit and failed-auth bookkeeping is bounded too */
#define RV_HTTP_MAX_TRACKED_ADDRESSES 4096
#define RV_HTTP_AUTH_WINDOW_S 60
#define RV_HTTP_KEEPALIVE_S 15
/* connections waiting to be accepted (a socket from systemd has its unit's Backlog=) */
#define RV_HTTP_BACKLOG 1024
/* a connection with no request on it is closed after this long */
#define RV_HTTP_IDLE_S 120

/* who may call a route */
typedef enum {
        /* an API key whose scope covers the route's operation */
        RV_HTTP_AUTH_KEY,
        /* anybody (/health) */
        RV_HTTP_AUTH_NONE,
        /* anybody on a loopback address (the setup token is handed out there only) */
        RV_HTTP_AUTH_LOOPBACK,
        /* the body carries the proof (completing setup with the token) */
        RV_HTTP_AUTH_TOKEN,
        /* the qBittorrent WebAPI: a session cookie from auth/login, or a key as Bearer (rv-qbt-auth.c) */
        RV_HTTP_AUTH_QBT,
} RvHttpAuth;

/* what a route takes as a body */
typedef enum {
        RV_HTTP_BODY_NONE,
        RV_HTTP_BODY_JSON,
        /* JSON or multipart/form-data with .torrent files, up to the metadata bound */
        RV_HTTP_BODY_UPLOAD,
        /* application/x-www-form-urlencoded (the qBittorrent WebAPI) */
        RV_HTTP_BODY_FORM,
} RvHttpBody;

typedef struct _RvHttpRequest RvHttpRequest;
typedef void (*RvHttpHandler)(RvHttpRequest *req);

typedef struct {
        const char *method;
        /* segments; "{hash}" and "{section}" capture one */
        const char *pattern;
        /* what the route does: its scope (rv_op_scope) and the journal's and the metrics' name */
        RvOp op;
        RvHttpAuth auth;
        RvHttpBody body;
        RvHttpHandler handler;
        /* one line for docs and errors */
        const char *summary;
} RvHttpRoute;

/* the route table (rv-http-routes.c), terminated by an entry with a NULL method */
const RvHttpRoute *rv_http_routes(void);
/*
 * the route for method and path; captured segments go to ret_params (at most
 * 2, owned by the caller); NULL when nothing matches, with *ret_allow the
 * methods the path has (for 405) or NULL when the path is unknown (404)
 */
const RvHttpRoute *rv_http_route_match(const char *method, const char *path, char **ret_params, char **ret_allow);

typedef struct {
        double tokens;
        gint64 updated_us;
        guint burst;
        guint period_s;
} RvHttpBucket;

typedef struct {
        guint failures;
        gint64 window_start_us;
} RvHttpFailures;

/* a request from its headers until the response is out (or the client is gone) */
struct _RvHttpRequest {
        gint ref_count;
        RvHttp *http;
        /* NULL once libsoup let go of it */
        SoupServerMessage *msg;
        /* the client went away: nothing more is written */
        gboolean gone;
        gboolean responded;
        /* the handler went asynchronous (rv_http_request_pause) */
        gboolean paused;
        /* the response is a stream (events): the journal entry and metrics are written at its end */
        gboolean streaming;
        const RvHttpRoute *route;
        char *params[2];
        char *request_id;
        char *method;
        char *path;
        char *client;
        gboolean client_loopback;
        RvCaller caller;
        RvScope scope;
        gboolean authenticated;
        /* X-RateLimit-* of the key, 0 limit when none */
        guint rate_limit;
        guint rate_remaining;
        guint rate_reset_s;
        gint64 started_us;
        guint status;
        /* the body parsed as JSON, for handlers */
        JsonNode *json;
        /* the qBittorrent WebAPI's parameters: query and form body, parsed once */
        GHashTable *form;
        /* the WebAPI session of the request's cookie (owned by RvQbt), NULL for a key */
        gpointer qbt_session;
};

typedef struct {
        char *component;
        RvHttpProbeFunc func;
        gpointer user_data;
} RvHttpProbe;

typedef struct _RvHttpEvents RvHttpEvents;
typedef struct _RvQbt RvQbt;

struct _RvHttp {
        RvManager *manager;
        RvStore *store;
        RvLiveSettings *settings;
        RvAccess *access;
        SoupServer *server;
        guint activated;
        gboolean ready;
        gboolean tls;
        GStrv allowed_hosts;
        guint request_timeout_ms;
        guint auth_failure_limit;
        /* the bucket of a key without a limit of its own: this many requests per second */
        guint rate_limit;
        /* key_id -> RvHttpBucket */
        GHashTable *buckets;
        /* client address -> RvHttpFailures */
        GHashTable *failures;
        GPtrArray *probes;
        RvHttpMetricsFunc metrics_func;
        gpointer metrics_data;
        RvHttpEvents *events;
        /* the qBittorrent WebAPI's sessions and sync state (rv-qbt.c) */
        RvQbt *qbt;
        /* "GET /v1/torrents 200" -> guint64 count */
        GHashTable *request_counts;
        /* "GET /v1/torrents" -> sum of seconds (double) and count */
        GHashTable *request_seconds;
        guint64 auth_failed;
        guint64 rate_limited;
        guint64 aborted;
};

/* rv-http-server.c: requests */
RvHttpRequest *rv_http_request_ref(RvHttpRequest *req);
void rv_http_request_unref(RvHttpRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvHttpRequest, rv_http_request_unref)
/* the answer comes later: returns a reference for the callback, which responds and drops it */
RvHttpRequest *rv_http_request_pause(RvHttpRequest *req);
const char *rv_http_request_query(RvHttpRequest *req, const char *name);
/* a request's query as rv_http_request_query() reads it: name -> value, decoded; never NULL */
GHashTable *rv_http_query_parse(const char *query);
const char *rv_http_request_header(RvHttpRequest *req, const char *name);
/* the key's scope covers op: AccessDenied naming the scope needed otherwise */
gboolean rv_http_request_allows(RvHttpRequest *req, RvOp op, GError **error);
/* after a response with this body: adds the headers every answer carries */
void rv_http_respond_bytes(RvHttpRequest *req, guint status, const char *content_type, GBytes *body);
void rv_http_respond_json(RvHttpRequest *req, guint status, JsonNode *node);
void rv_http_respond_string(RvHttpRequest *req, guint status, const char *content_type, GString *text);
void rv_http_respond_empty(RvHttpRequest *req, guint status);
/* Problem+JSON; field names the member at fault (validation), may be NULL */
void rv_http_respond_problem(RvHttpRequest *req, guint status, const char *slug, const char *detail, const char *field);
/* Problem+JSON from an error of the one table (foreign errors are converted first) */
void rv_http_respond_error(RvHttpRequest *req, const GError *error);
/* starts a streamed response (chunked); the caller appends and finally completes it */
void rv_http_respond_stream(RvHttpRequest *req, const char *content_type);
/* takes the connection away from libsoup and closes it (a stream whose client fell behind) */
void rv_http_request_abort(RvHttpRequest *req);

/* rv-http-problem.c */
const char *rv_http_problem_title(const char *slug);
char *rv_http_problem_text(guint status, const char *slug, const char *detail, const char *field, const char *instance,
                           const char *request_id);
/* "save_path: ..." -> "save_path"; NULL when the message names no field */
char *rv_http_error_field(const char *message);
/* the JSON body of a request: content type, size and depth checked, an object at the top */
JsonObject *rv_http_request_json_object(RvHttpRequest *req, GError **error);
/* the same checks on a body's bytes and content type: the object's node, NULL with error */
JsonNode *rv_http_json_body_parse(const char *content_type, const char *data, gsize len, GError **error);
/* JSON nesting deeper than max_depth anywhere in text (strings skipped) */
gboolean rv_http_json_too_deep(const char *text, gsize len, guint max_depth);

/* rv-http-auth.c */
/* authenticates and authorizes req for its route; FALSE after a problem response */
gboolean rv_http_auth_check(RvHttp *http, RvHttpRequest *req);
void rv_http_auth_forget_key(RvHttp *http, const char *key_id);
/* a wrong credential (a key, a setup token) from the request's address */
void rv_http_auth_record_failure(RvHttp *http, RvHttpRequest *req);
/* seconds the request's address must wait after too many failed authentications, 0 when it may try */
guint rv_http_auth_blocked(RvHttp *http, RvHttpRequest *req);
/* the request is the key's: its scope and caller are set and a token of its rate limit is taken; FALSE after a
 * 429 */
gboolean rv_http_auth_accept_key(RvHttp *http, RvHttpRequest *req, const RvStoreApiKey *key);

/* rv-http-torrents.c, rv-http-admin.c, rv-http-events.c, rv-http-metrics.c: handlers */
void rv_http_torrents_list(RvHttpRequest *req);
void rv_http_torrents_add(RvHttpRequest *req);
void rv_http_torrents_get(RvHttpRequest *req);
void rv_http_torrents_update(RvHttpRequest *req);
void rv_http_torrents_remove(RvHttpRequest *req);
void rv_http_torrents_action(RvHttpRequest *req);
void rv_http_torrents_move(RvHttpRequest *req);
void rv_http_torrents_files(RvHttpRequest *req);
void rv_http_torrents_trackers(RvHttpRequest *req);
void rv_http_torrents_selection(RvHttpRequest *req);
void rv_http_torrents_priorities(RvHttpRequest *req);
/* one member of a PATCH /v1/torrents/{hash} body as the command it asks for; NULL with error naming it */
RvCommand *rv_http_torrent_update_command(const RvInfoHash *hash, const char *name, JsonNode *value, GError **error);
/* the largest upload body: from the engine's max_metadata_size */
gsize rv_http_upload_limit(RvHttp *http);
/* one torrent of a multipart upload: a .torrent file or a magnet, and which part it was ("torrent[0]") */
typedef struct {
        char *what;
        char *magnet;
        GBytes *torrent;
} RvHttpSource;
void rv_http_source_free(RvHttpSource *s);
/*
 * the parts of a POST /v1/torrents form: sources (RvHttpSource) and the
 * "options" part (a JSON object, not yet read as add options); FALSE with
 * error naming the part
 */
gboolean rv_http_upload_form_read(SoupMultipart *form, GPtrArray *sources, JsonObject **ret_options, GError **error);
#define RV_HTTP_MAX_PARTS 64

/* a PATCH /v1/settings/{section} body as a settings patch ("/section/name" members); NULL with error */
JsonNode *rv_http_settings_patch_from(const char *section, JsonObject *obj, GError **error);
void rv_http_settings_get(RvHttpRequest *req);
void rv_http_settings_patch(RvHttpRequest *req);
void rv_http_settings_history(RvHttpRequest *req);
void rv_http_setup_start(RvHttpRequest *req);
void rv_http_setup_complete(RvHttpRequest *req);
void rv_http_keys_list(RvHttpRequest *req);
void rv_http_keys_create(RvHttpRequest *req);
void rv_http_keys_revoke(RvHttpRequest *req);
void rv_http_keys_rotate(RvHttpRequest *req);
void rv_http_health(RvHttpRequest *req);
void rv_http_health_full(RvHttpRequest *req);

/* a Last-Event-ID (or ?last_event_id=): a decimal event id, FALSE for anything else */
gboolean rv_http_event_id_parse(const char *text, guint64 *ret_id);
/*
 * the event stream's ?torrent=<hash>,... and ?kind=<kind>,... (either NULL
 * when not given): the info hashes to pass (NULL: all) and a mask of
 * 1 << RvEventKind (0: all); FALSE with error naming the parameter
 */
gboolean rv_http_event_filters_parse(const char *torrents, const char *kinds, GHashTable **ret_torrents,
                                     guint *ret_kinds, GError **error);
RvHttpEvents *rv_http_events_new(RvHttp *http, guint queue_max);
void rv_http_events_free(RvHttpEvents *events);
void rv_http_events_stream(RvHttpRequest *req);
guint rv_http_events_get_clients(RvHttpEvents *events);
guint64 rv_http_events_get_dropped(RvHttpEvents *events);
guint64 rv_http_events_get_sent(RvHttpEvents *events);
gsize rv_http_events_get_queued(RvHttpEvents *events);

void rv_http_metrics(RvHttpRequest *req);
/* counts a finished request for the metrics */
void rv_http_metrics_count(RvHttp *http, const RvHttpRequest *req);

G_END_DECLS
