/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-add-options.h"
#include "rv-http-private.h"
#include "rv-json.h"
#include "rv-settings.h"
#include "rv-torrent-fields.h"
#include "rv-torrent-query.h"

/*
 * /v1/torrents: every request is decoded into RvCommands (or an add request,
 * or a query), validated by the core, checked against the key's scope for
 * the command's operation, and run by the core; nothing here keeps state or
 * a check of its own. Torrents are written from the core's field table.
 */

/* a list answer is built in slices of this much work, so 10,000 torrents never hold the loop */
#define RV_HTTP_LIST_SLICE_US 2000
#define RV_HTTP_LIST_SLICE_ROWS 512
/* up to this many rows are answered at once, with a length */
#define RV_HTTP_LIST_DIRECT_ROWS 256

/* the fields to write: fields= (names, or "all"), else the list view's or all */
static GPtrArray *
rv_http_parse_fields(RvHttpRequest *req, gboolean list_view, GError **error)
{
        const char *param = rv_http_request_query(req, "fields");
        g_auto(GStrv) names = NULL;

        if (param == NULL || g_str_equal(param, "all"))
                return rv_torrent_fields_select(NULL, list_view && param == NULL, NULL, error);
        names = g_strsplit(param, ",", -1);
        for (guint i = 0; names[i] != NULL; i++)
                g_strstrip(names[i]);
        /* "fields=" alone: as if not given */
        return rv_torrent_fields_select((const char *const *)names, list_view, "see GET /v1/torrents/{hash}", error);
}

/* one torrent as a JSON object, straight from the field table's getters */
static void
rv_http_append_torrent(GString *out, const RvTorrent *t, GPtrArray *fields)
{
        char number[G_ASCII_DTOSTR_BUF_SIZE];

        g_string_append_c(out, '{');
        for (guint i = 0; i < fields->len; i++) {
                const RvTorrentField *f = g_ptr_array_index(fields, i);
                RvFieldValue v;
                f->get(t, &v);
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append_c(out, '"');
                g_string_append(out, f->json);
                g_string_append_len(out, "\":", 2);
                switch (v.type) {
                case RV_FIELD_STRING:
                        rv_json_append_string(out, v.s);
                        break;
                case RV_FIELD_BOOL:
                        g_string_append(out, v.b ? "true" : "false");
                        break;
                case RV_FIELD_DOUBLE:
                        /* most progress is 0 or 1 exactly */
                        if (v.d == 0.0 || v.d == 1.0)
                                g_string_append_c(out, v.d == 0.0 ? '0' : '1');
                        else
                                g_string_append(out, g_ascii_formatd(number, sizeof(number), "%.10g", v.d));
                        break;
                case RV_FIELD_STRV:
                        g_string_append_c(out, '[');
                        for (guint j = 0; v.strv[j] != NULL; j++) {
                                if (j > 0)
                                        g_string_append_c(out, ',');
                                rv_json_append_string(out, v.strv[j]);
                        }
                        g_string_append_c(out, ']');
                        break;
                default:
                        rv_json_append_int(out, v.i);
                        break;
                }
        }
        /* a torrent another node of the cluster owns */
        if (t->node != NULL) {
                g_string_append(out, fields->len > 0 ? ",\"node\":" : "\"node\":");
                rv_json_append_string(out, t->node);
        }
        g_string_append_c(out, '}');
}

static void
rv_http_respond_torrent(RvHttpRequest *req, guint status, const RvTorrent *t, gboolean list_view)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) fields = rv_http_parse_fields(req, list_view, &error);
        GString *out;

        if (fields == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        out = g_string_sized_new(1024);
        rv_http_append_torrent(out, t, fields);
        rv_http_respond_string(req, status, "application/json", out);
}

/* the torrent the path names: 400 for a malformed hash, 404 for an unknown one */
static RvTorrent *
rv_http_torrent_from_path(RvHttpRequest *req)
{
        RvInfoHash hash;
        RvTorrent *t;

        if (!rv_info_hash_parse(req->params[0], &hash)) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "info_hash: not 40 hexadecimal digits", "info_hash");
                return NULL;
        }
        t = rv_manager_lookup_listed(req->http->manager, &hash);
        if (t == NULL || t->removing) {
                g_autofree char *detail = g_strdup_printf("no torrent %s", hash.hex);
                rv_http_respond_problem(req, SOUP_STATUS_NOT_FOUND, "not-found", detail, NULL);
                return NULL;
        }
        return t;
}

/*
 * commands on a torrent another node owns go to that node one after the
 * other (docs/cluster.md); the answer is the owner's view of the torrent
 * (or 204 after a remove), or the first error
 */
typedef struct {
        RvHttpRequest *req;
        GPtrArray *commands;
        guint next;
        char *node;
} RvHttpForward;

static void
rv_http_forward_free(RvHttpForward *fwd)
{
        rv_http_request_unref(fwd->req);
        g_ptr_array_unref(fwd->commands);
        g_free(fwd->node);
        g_free(fwd);
}

static void
rv_http_forward_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpForward *fwd = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) torrent = rv_command_forward_finish(RV_MANAGER(source), result, &error);
        RvCommand *last = g_ptr_array_index(fwd->commands, fwd->next);

        if (error != NULL) {
                rv_http_respond_error(fwd->req, error);
        } else if (++fwd->next < fwd->commands->len) {
                rv_command_forward_async(fwd->req->http->manager, g_ptr_array_index(fwd->commands, fwd->next),
                                         rv_http_forward_cb, fwd);
                return;
        } else if (last->op == RV_OP_REMOVE || torrent == NULL) {
                rv_http_respond_empty(fwd->req, SOUP_STATUS_NO_CONTENT);
        } else {
                json_object_set_string_member(json_node_get_object(torrent), "node", fwd->node);
                rv_http_respond_json(fwd->req, SOUP_STATUS_OK, torrent);
        }
        rv_http_forward_free(fwd);
}

/* FALSE when t is this node's; else the commands (taken) went to its owner, who answers the request */
static gboolean
rv_http_forward(RvHttpRequest *req, const RvTorrent *t, GPtrArray *commands)
{
        RvHttpForward *fwd;

        if (t->node == NULL)
                return FALSE;
        fwd = g_new0(RvHttpForward, 1);
        fwd->req = rv_http_request_pause(req);
        fwd->commands = commands;
        fwd->node = g_strdup(t->node);
        rv_command_forward_async(req->http->manager, g_ptr_array_index(commands, 0), rv_http_forward_cb, fwd);
        return TRUE;
}

/*
 * validate, authorize for the command's operation, run; the torrent's new
 * state goes out first. FALSE without an error: the torrent is another
 * node's and the command went there, which answers the request
 */
static gboolean
rv_http_run_command(RvHttpRequest *req, RvTorrent *t, RvCommand **command_inout, GError **error)
{
        RvCommand *command = *command_inout;

        if (!rv_command_validate(command, t, error) || !rv_http_request_allows(req, command->op, error))
                return FALSE;
        if (t->node != NULL) {
                GPtrArray *one = g_ptr_array_new_with_free_func((GDestroyNotify)rv_command_free);
                g_ptr_array_add(one, g_steal_pointer(command_inout));
                return !rv_http_forward(req, t, one);
        }
        if (!rv_command_run(req->http->manager, command, error))
                return FALSE;
        rv_event_bus_flush_torrent(rv_manager_get_events(req->http->manager), &command->hash);
        return TRUE;
}

/* GET /v1/torrents */

typedef struct {
        RvHttpRequest *req;
        GPtrArray *fields;
        /* the page, fixed when the request came; a torrent removed meanwhile is left out */
        GArray *hashes;
        guint next;
        char *next_cursor;
        guint64 event_id;
        gboolean started;
} RvHttpList;

static void
rv_http_list_free(RvHttpList *list)
{
        rv_http_request_unref(list->req);
        g_ptr_array_unref(list->fields);
        g_array_unref(list->hashes);
        g_free(list->next_cursor);
        g_free(list);
}

static void
rv_http_list_rows(RvHttpList *list, GString *out, gint64 deadline_us, guint max_rows)
{
        RvManager *manager = list->req->http->manager;
        guint rows = 0;

        for (; list->next < list->hashes->len; list->next++) {
                const RvTorrent *t =
                        rv_manager_lookup_listed(manager, &g_array_index(list->hashes, RvInfoHash, list->next));
                if (t == NULL || t->removing)
                        continue;
                if (list->started)
                        g_string_append_c(out, ',');
                list->started = TRUE;
                rv_http_append_torrent(out, t, list->fields);
                if (++rows % 32 == 0 && (rows >= max_rows || g_get_monotonic_time() >= deadline_us)) {
                        list->next++;
                        return;
                }
        }
}

static void
rv_http_list_tail(RvHttpList *list, GString *out)
{
        g_string_append(out, "],\"next_cursor\":");
        if (list->next_cursor != NULL)
                rv_json_append_string(out, list->next_cursor);
        else
                g_string_append(out, "null");
        g_string_append_printf(out, ",\"event_id\":%" G_GUINT64_FORMAT "}", list->event_id);
}

static gboolean
rv_http_list_slice_cb(gpointer user_data)
{
        RvHttpList *list = user_data;
        RvHttpRequest *req = list->req;
        SoupMessageBody *body;
        GString *out;

        if (req->gone || req->msg == NULL) {
                rv_http_list_free(list);
                return G_SOURCE_REMOVE;
        }
        out = g_string_sized_new(256 * 1024);
        rv_http_list_rows(list, out, g_get_monotonic_time() + RV_HTTP_LIST_SLICE_US, RV_HTTP_LIST_SLICE_ROWS);
        if (list->next >= list->hashes->len)
                rv_http_list_tail(list, out);
        body = soup_server_message_get_response_body(req->msg);
        soup_message_body_append_bytes(body, g_string_free_to_bytes(out));
        if (list->next >= list->hashes->len)
                soup_message_body_complete(body);
        soup_server_message_unpause(req->msg);
        if (list->next < list->hashes->len)
                return G_SOURCE_CONTINUE;
        rv_http_list_free(list);
        return G_SOURCE_REMOVE;
}

static gboolean
rv_http_list_query(RvHttpRequest *req, RvTorrentQuery *query, GError **error)
{
        const char *state = rv_http_request_query(req, "state");
        const char *label = rv_http_request_query(req, "label");
        const char *cursor = rv_http_request_query(req, "cursor");
        const char *limit = rv_http_request_query(req, "limit");
        guint64 n = 0;

        if (state != NULL && !rv_torrent_query_set_states(query, state, "state", error))
                return FALSE;
        if (label != NULL && !rv_torrent_query_set_labels(query, label, "label", error))
                return FALSE;
        if (cursor != NULL && !rv_torrent_query_set_cursor(query, cursor, "cursor", error))
                return FALSE;
        if (limit != NULL && !g_ascii_string_to_unsigned(limit, 10, 1, RV_HTTP_MAX_PAGE, &n, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "limit: '%.32s' is not a number from 1 to %d",
                            limit, RV_HTTP_MAX_PAGE);
                return FALSE;
        }
        query->limit = (guint)n;
        return TRUE;
}

void
rv_http_torrents_list(RvHttpRequest *req)
{
        g_auto(RvTorrentQuery) query = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) rows = NULL;
        GPtrArray *fields;
        RvHttpList *list;
        gboolean more = FALSE;

        rv_torrent_query_init(&query);
        fields = rv_http_parse_fields(req, TRUE, &error);
        if (fields == NULL || !rv_http_list_query(req, &query, &error)) {
                if (fields != NULL)
                        g_ptr_array_unref(fields);
                rv_http_respond_error(req, error);
                return;
        }
        rows = rv_manager_query(req->http->manager, &query, &more);
        list = g_new0(RvHttpList, 1);
        list->req = rv_http_request_ref(req);
        list->fields = fields;
        list->hashes = g_array_sized_new(FALSE, FALSE, sizeof(RvInfoHash), rows->len);
        for (guint i = 0; i < rows->len; i++)
                g_array_append_val(list->hashes, ((RvTorrent *)g_ptr_array_index(rows, i))->hash);
        if (more)
                list->next_cursor = rv_torrent_query_cursor(g_ptr_array_index(rows, rows->len - 1));
        list->event_id = rv_event_bus_get_last_id(rv_manager_get_events(req->http->manager));
        if (rows->len <= RV_HTTP_LIST_DIRECT_ROWS) {
                GString *out = g_string_sized_new(256 + rows->len * 512);
                g_string_append(out, "{\"torrents\":[");
                rv_http_list_rows(list, out, G_MAXINT64, G_MAXUINT);
                rv_http_list_tail(list, out);
                rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
                rv_http_list_free(list);
                return;
        }
        /* many rows: a chunked answer, a slice per main-loop iteration */
        rv_http_respond_stream(req, "application/json");
        soup_message_body_append(soup_server_message_get_response_body(req->msg), SOUP_MEMORY_STATIC, "{\"torrents\":[",
                                 13);
        g_idle_add_full(G_PRIORITY_DEFAULT, rv_http_list_slice_cb, list, NULL);
}

void
rv_http_torrents_get(RvHttpRequest *req)
{
        RvTorrent *t = rv_http_torrent_from_path(req);

        if (t != NULL)
                rv_http_respond_torrent(req, SOUP_STATUS_OK, t, FALSE);
}

/* POST /v1/torrents */

gsize
rv_http_upload_limit(RvHttp *http)
{
        gint64 meta = RV_ENGINE_DEFAULT_MAX_METADATA_SIZE;

        if (http->settings != NULL)
                meta = rv_settings_get_int(rv_live_settings_get_document(http->settings), "engine", "max_metadata_size",
                                           meta);
        /* a .torrent is its info dict plus a little (trackers, piece layers); base64 in JSON takes a third more */
        return (gsize)(meta + 1024 * 1024) * 4 / 3;
}

/*
 * Adds answer once the torrents' records are stored (the core calls back),
 * so a client that was told 201 never loses the torrent to a crash. The one
 * place that calls rv_manager_add: a batch of adds from one request, each
 * with its own callback, answered when the last one is in.
 */
typedef struct {
        RvHttpRequest *req;
        /* RvInfoHash of the added torrents, in order */
        GArray *added;
        guint waiting;
        GError *error;
        char *error_field;
} RvHttpAdd;

typedef struct {
        RvHttpAdd *add;
        guint index;
        /* which part of a multipart upload, for the error */
        char *what;
} RvHttpAddOne;

static void
rv_http_add_reply(RvHttpAdd *add)
{
        RvHttpRequest *req = add->req;
        GString *out;

        if (add->error != NULL) {
                /* an add that failed is never half there: the others stay, and the problem says which */
                rv_http_respond_error(req, add->error);
        } else {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) fields = rv_http_parse_fields(req, FALSE, &error);
                if (fields == NULL) {
                        rv_http_respond_error(req, error);
                } else {
                        guint written = 0;
                        out = g_string_new("{\"torrents\":[");
                        for (guint i = 0; i < add->added->len; i++) {
                                RvInfoHash *hash = &g_array_index(add->added, RvInfoHash, i);
                                /* placed on another node of a cluster, listed with its node */
                                RvTorrent *t = rv_manager_lookup_listed(req->http->manager, hash);
                                if (t == NULL)
                                        continue;
                                if (written++ > 0)
                                        g_string_append_c(out, ',');
                                rv_http_append_torrent(out, t, fields);
                        }
                        g_string_append(out, "]}");
                        if (add->added->len == 1) {
                                g_autofree char *location = g_strdup_printf(
                                        "/v1/torrents/%s", g_array_index(add->added, RvInfoHash, 0).hex);
                                soup_message_headers_replace(soup_server_message_get_response_headers(req->msg),
                                                             "Location", location);
                        }
                        rv_http_respond_string(req, SOUP_STATUS_CREATED, "application/json", out);
                }
        }
        rv_http_request_unref(req);
        g_array_unref(add->added);
        g_clear_error(&add->error);
        g_free(add->error_field);
        g_free(add);
}

/* the torrent is stored and registered, or nothing of it is left and the error says why */
static void
rv_http_added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpAddOne *one = user_data;
        RvHttpAdd *add = one->add;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_manager_add_finish(RV_MANAGER(source), result, &error);

        if (t != NULL) {
                g_array_append_val(add->added, t->hash);
        } else if (add->error == NULL) {
                if (one->what != NULL)
                        g_prefix_error(&error, "%s: ", one->what);
                add->error = g_steal_pointer(&error);
        }
        g_free(one->what);
        g_free(one);
        if (--add->waiting == 0)
                rv_http_add_reply(add);
}

/* one torrent of the batch, submitted to the core: its outcome comes to rv_http_added_cb(); FALSE (and the error
 * kept) when its options could not be read */
static gboolean
rv_http_add_one(RvHttpAdd *add, RvAddOptions *options, const char *what)
{
        g_autoptr(GError) error = NULL;
        const RvAddRequest *request = NULL;
        RvHttpAddOne *one;

        /* an add over HTTP may go to another node of a cluster by its placement rule */
        rv_add_options_set_placeable(options, TRUE);
        request = rv_add_options_get_request(options, &error);

        if (request == NULL) {
                add->error = g_steal_pointer(&error);
                return FALSE;
        }
        one = g_new0(RvHttpAddOne, 1);
        one->add = add;
        one->index = add->added->len;
        one->what = g_strdup(what);
        add->waiting++;
        rv_manager_add_async(add->req->http->manager, request, rv_http_added_cb, one);
        return TRUE;
}

static RvHttpAdd *
rv_http_add_new(RvHttpRequest *req)
{
        RvHttpAdd *add = g_new0(RvHttpAdd, 1);

        add->req = rv_http_request_pause(req);
        add->added = g_array_new(FALSE, FALSE, sizeof(RvInfoHash));
        /* held until every add was submitted, so the answer cannot come in between */
        add->waiting = 1;
        return add;
}

static void
rv_http_add_submitted(RvHttpAdd *add)
{
        if (--add->waiting == 0)
                rv_http_add_reply(add);
}

/* {"magnet": "..."} or {"metainfo": "<base64>"}, plus the options */
static void
rv_http_add_json(RvHttpRequest *req)
{
        static const char *const sources[] = { "magnet", "metainfo", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(RvAddOptions) options = rv_add_options_new();
        JsonObject *obj = rv_http_request_json_object(req, &error);
        JsonNode *magnet;
        JsonNode *metainfo;

        if (obj == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        magnet = json_object_get_member(obj, "magnet");
        metainfo = json_object_get_member(obj, "metainfo");
        if ((magnet == NULL) == (metainfo == NULL)) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "give exactly one of magnet and metainfo", "magnet");
                return;
        }
        if (!rv_add_options_set_json_object(options, obj, sources, NULL, &error)) {
                rv_http_respond_error(req, error);
                return;
        }
        if (magnet != NULL) {
                if (!JSON_NODE_HOLDS_VALUE(magnet) || json_node_get_value_type(magnet) != G_TYPE_STRING) {
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                                "magnet: expected a string", "magnet");
                        return;
                }
                rv_add_options_set_magnet(options, json_node_get_string(magnet));
        } else {
                gsize len = 0;
                g_autofree guchar *data = NULL;
                if (!JSON_NODE_HOLDS_VALUE(metainfo) || json_node_get_value_type(metainfo) != G_TYPE_STRING ||
                    strspn(json_node_get_string(metainfo),
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789+/=\r\n") != strlen(json_node_get_string(metainfo))) {
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                                "metainfo: expected the .torrent file in base64", "metainfo");
                        return;
                }
                g_autoptr(GBytes) bytes = NULL;
                data = g_base64_decode(json_node_get_string(metainfo), &len);
                bytes = g_bytes_new_take(g_steal_pointer(&data), len);
                rv_add_options_set_torrent(options, bytes);
        }
        {
                RvHttpAdd *add = rv_http_add_new(req);
                (void)rv_http_add_one(add, options, NULL);
                rv_http_add_submitted(add);
        }
}

/* the "options" part of a form: a JSON object, checked like a JSON body */
static JsonObject *
rv_http_parse_options_part(GBytes *data, GError **error)
{
        gsize len = 0;
        const char *text = g_bytes_get_data(data, &len);
        g_autoptr(GError) error_local = NULL;
        g_autoptr(JsonNode) root = NULL;

        if (len > RV_HTTP_MAX_JSON_BODY || rv_http_json_too_deep(text, len, RV_HTTP_MAX_JSON_DEPTH) ||
            !g_utf8_validate(text, (gssize)len, NULL) ||
            (root = rv_json_parse(text, (gssize)len, TRUE, &error_local)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "options: expected a JSON object of add options%s%s", error_local != NULL ? ": " : "",
                            error_local != NULL ? error_local->message : "");
                return NULL;
        }
        return json_object_ref(json_node_get_object(root));
}

void
rv_http_source_free(RvHttpSource *s)
{
        g_free(s->what);
        g_free(s->magnet);
        if (s->torrent != NULL)
                g_bytes_unref(s->torrent);
        g_free(s);
}

gboolean
rv_http_upload_form_read(SoupMultipart *form, GPtrArray *sources, JsonObject **ret_options, GError **error)
{
        guint n_torrents = 0;

        for (int i = 0; i < soup_multipart_get_length(form); i++) {
                SoupMessageHeaders *headers = NULL;
                GBytes *data = NULL;
                g_autoptr(GHashTable) params = NULL;
                const char *name;
                RvHttpSource *s;

                (void)soup_multipart_get_part(form, i, &headers, &data);
                if (!soup_message_headers_get_content_disposition(headers, NULL, &params) ||
                    (name = g_hash_table_lookup(params, "name")) == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "part %d: no form-data name", i);
                        return FALSE;
                }
                if (g_str_equal(name, "options")) {
                        if (*ret_options != NULL) {
                                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: given twice");
                                return FALSE;
                        }
                        *ret_options = rv_http_parse_options_part(data, error);
                        if (*ret_options == NULL)
                                return FALSE;
                        continue;
                }
                if (!g_str_equal(name, "torrent") && !g_str_equal(name, "magnet")) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "%.64s: unknown part (torrent, magnet or options)", name);
                        return FALSE;
                }
                s = g_new0(RvHttpSource, 1);
                s->what = g_strdup_printf("%s[%u]", name, n_torrents++);
                if (g_str_equal(name, "magnet"))
                        s->magnet = g_strndup(g_bytes_get_data(data, NULL), MIN(g_bytes_get_size(data), 65536));
                else
                        s->torrent = g_bytes_ref(data);
                g_ptr_array_add(sources, s);
        }
        if (sources->len == 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "torrent: the form has no .torrent file and no magnet");
                return FALSE;
        }
        return TRUE;
}

static void
rv_http_add_multipart(RvHttpRequest *req)
{
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(req->msg));
        g_autoptr(SoupMultipart) form =
                soup_multipart_new_from_message(soup_server_message_get_request_headers(req->msg), body);
        g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func((GDestroyNotify)rv_http_source_free);
        g_autoptr(JsonObject) options = NULL;
        g_autoptr(GError) error = NULL;
        RvHttpAdd *add;

        if (form == NULL) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "the body is not multipart/form-data", NULL);
                return;
        }
        if (soup_multipart_get_length(form) > RV_HTTP_MAX_PARTS) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "too many parts", NULL);
                return;
        }
        if (!rv_http_upload_form_read(form, sources, &options, &error)) {
                rv_http_respond_error(req, error);
                return;
        }
        /* the options are checked once before anything is added */
        if (options != NULL) {
                g_autoptr(RvAddOptions) check = rv_add_options_new();
                if (!rv_add_options_set_json_object(check, options, NULL, "options.", &error)) {
                        rv_http_respond_error(req, error);
                        return;
                }
        }
        add = rv_http_add_new(req);
        for (guint i = 0; i < sources->len && add->error == NULL; i++) {
                RvHttpSource *s = g_ptr_array_index(sources, i);
                g_autoptr(RvAddOptions) one = rv_add_options_new();
                if (options != NULL)
                        (void)rv_add_options_set_json_object(one, options, NULL, "options.", NULL);
                if (s->magnet != NULL)
                        rv_add_options_set_magnet(one, s->magnet);
                else
                        rv_add_options_set_torrent(one, s->torrent);
                if (!rv_http_add_one(add, one, s->what))
                        break;
        }
        rv_http_add_submitted(add);
}

void
rv_http_torrents_add(RvHttpRequest *req)
{
        const char *type =
                soup_message_headers_get_content_type(soup_server_message_get_request_headers(req->msg), NULL);

        if (type != NULL && g_ascii_strcasecmp(type, "multipart/form-data") == 0)
                rv_http_add_multipart(req);
        else
                rv_http_add_json(req);
}

/* PATCH /v1/torrents/{hash}: each member is one command; all are checked before any runs */

static const char *
rv_http_json_kind(JsonNode *node)
{
        if (JSON_NODE_HOLDS_OBJECT(node))
                return "an object";
        if (JSON_NODE_HOLDS_ARRAY(node))
                return "an array";
        if (JSON_NODE_HOLDS_NULL(node))
                return "null";
        if (json_node_get_value_type(node) == G_TYPE_STRING)
                return "a string";
        if (json_node_get_value_type(node) == G_TYPE_BOOLEAN)
                return "a boolean";
        return "a number";
}

static gboolean
rv_http_json_is(JsonNode *node, GType type)
{
        return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

static GStrv
rv_http_json_strv(JsonNode *node, const char *field, guint max, GError **error)
{
        JsonArray *array = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        if (array == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an array of strings, got %s",
                            field, rv_http_json_kind(node));
                return NULL;
        }
        if (json_array_get_length(array) > max) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: at most %u entries", field, max);
                return NULL;
        }
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonNode *e = json_array_get_element(array, i);
                if (!rv_http_json_is(e, G_TYPE_STRING)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s[%u]: expected a string, got %s",
                                    field, i, rv_http_json_kind(e));
                        return NULL;
                }
                g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
        }
        g_ptr_array_add(out, NULL);
        return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

RvCommand *
rv_http_torrent_update_command(const RvInfoHash *hash, const char *name, JsonNode *value, GError **error)
{
        g_autoptr(RvCommand) command = NULL;
        RvOp flag_op;

        if (rv_op_for_bool_field(name, &flag_op)) {
                if (!rv_http_json_is(value, G_TYPE_BOOLEAN)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected a boolean, got %s", name,
                                    rv_http_json_kind(value));
                        return NULL;
                }
                command = rv_command_new(flag_op, hash);
                command->flag = json_node_get_boolean(value);
        } else if (g_str_equal(name, "download_limit") || g_str_equal(name, "upload_limit")) {
                if (!rv_http_json_is(value, G_TYPE_INT64)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an integer, got %s", name,
                                    rv_http_json_kind(value));
                        return NULL;
                }
                command = rv_command_new(
                        g_str_equal(name, "download_limit") ? RV_OP_SET_DOWNLOAD_LIMIT : RV_OP_SET_UPLOAD_LIMIT, hash);
                command->limit = json_node_get_int(value);
        } else if (g_str_equal(name, "labels")) {
                command = rv_command_new(RV_OP_SET_LABELS, hash);
                command->labels = rv_http_json_strv(value, "labels", RV_MANAGER_MAX_LABELS + 1, error);
                if (command->labels == NULL)
                        return NULL;
        } else {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%.64s: not a field that can be changed (labels, download_limit, upload_limit, sequential, "
                            "force_start, super_seeding, first_last_piece, ratio_limit, seeding_time_limit, "
                            "inactive_seeding_time_limit)",
                            name);
                return NULL;
        }
        command->field = g_intern_string(name);
        return g_steal_pointer(&command);
}

/*
 * ratio_limit, seeding_time_limit and inactive_seeding_time_limit are one
 * command (set_share_limits): the members given change theirs, the others
 * keep the torrent's; FALSE with no error: name is none of them
 */
static gboolean
rv_http_share_member(RvCommand **share, const RvTorrent *t, const char *name, JsonNode *value, GError **error)
{
        gboolean ratio = g_str_equal(name, "ratio_limit");

        if (!ratio && !g_str_equal(name, "seeding_time_limit") && !g_str_equal(name, "inactive_seeding_time_limit"))
                return FALSE;
        if (ratio ? !rv_http_json_is(value, G_TYPE_DOUBLE) && !rv_http_json_is(value, G_TYPE_INT64)
                  : !rv_http_json_is(value, G_TYPE_INT64)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected %s, got %s", name,
                            ratio ? "a number" : "an integer", rv_http_json_kind(value));
                return TRUE;
        }
        if (*share == NULL) {
                *share = rv_command_new(RV_OP_SET_SHARE_LIMITS, &t->hash);
                (*share)->ratio = t->ratio_limit;
                (*share)->limit = t->seeding_time_limit;
                (*share)->inactive_minutes = t->inactive_seeding_time_limit;
        }
        if (ratio)
                (*share)->ratio = json_node_get_double(value);
        else if (g_str_equal(name, "seeding_time_limit"))
                (*share)->limit = json_node_get_int(value);
        else
                (*share)->inactive_minutes = json_node_get_int(value);
        return TRUE;
}

void
rv_http_torrents_update(RvHttpRequest *req)
{
        g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func((GDestroyNotify)rv_command_free);
        g_autoptr(RvCommand) share = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_http_torrent_from_path(req);
        JsonObject *obj;
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        if (t == NULL)
                return;
        obj = rv_http_request_json_object(req, &error);
        if (obj == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, &value)) {
                RvCommand *command = NULL;
                if (rv_http_share_member(&share, t, name, value, &error)) {
                        if (error == NULL)
                                continue;
                } else {
                        command = rv_http_torrent_update_command(&t->hash, name, value, &error);
                }
                if (command == NULL || !rv_command_validate(command, t, &error) ||
                    !rv_http_request_allows(req, command->op, &error)) {
                        rv_command_free(command);
                        rv_http_respond_error(req, error);
                        return;
                }
                g_ptr_array_add(commands, command);
        }
        if (share != NULL) {
                if (!rv_command_validate(share, t, &error) || !rv_http_request_allows(req, share->op, &error)) {
                        rv_http_respond_error(req, error);
                        return;
                }
                g_ptr_array_add(commands, g_steal_pointer(&share));
        }
        if (commands->len > 0 && rv_http_forward(req, t, g_ptr_array_ref(commands)))
                return;
        for (guint i = 0; i < commands->len; i++) {
                if (!rv_command_run(req->http->manager, g_ptr_array_index(commands, i), &error)) {
                        rv_http_respond_error(req, error);
                        return;
                }
        }
        rv_event_bus_flush_torrent(rv_manager_get_events(req->http->manager), &t->hash);
        rv_http_respond_torrent(req, SOUP_STATUS_OK, t, FALSE);
}

/* DELETE /v1/torrents/{hash}?delete_data=true */
void
rv_http_torrents_remove(RvHttpRequest *req)
{
        const char *delete_data = rv_http_request_query(req, "delete_data");
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t;

        if (delete_data != NULL && !g_str_equal(delete_data, "true") && !g_str_equal(delete_data, "false")) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "delete_data: expected true or false", "delete_data");
                return;
        }
        t = rv_http_torrent_from_path(req);
        if (t == NULL)
                return;
        command = rv_command_new(RV_OP_REMOVE, &t->hash);
        command->flag = g_strcmp0(delete_data, "true") == 0;
        if (!rv_http_run_command(req, t, &command, &error)) {
                if (error != NULL)
                        rv_http_respond_error(req, error);
        } else
                rv_http_respond_empty(req, SOUP_STATUS_NO_CONTENT);
}

static void
rv_http_all_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_manager_set_all_paused_finish(RV_MANAGER(source), result, &error))
                rv_http_respond_error(req, error);
        else
                rv_http_respond_empty(req, SOUP_STATUS_NO_CONTENT);
}

/* POST .../pause, resume, recheck, reannounce; and pause or resume of all */
void
rv_http_torrents_action(RvHttpRequest *req)
{
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t;

        if (req->route->op == RV_OP_PAUSE_ALL || req->route->op == RV_OP_RESUME_ALL) {
                rv_manager_set_all_paused_async(req->http->manager, req->route->op == RV_OP_PAUSE_ALL,
                                                rv_http_all_done_cb, rv_http_request_pause(req));
                return;
        }
        t = rv_http_torrent_from_path(req);
        if (t == NULL)
                return;
        command = rv_command_new(req->route->op, &t->hash);
        if (!rv_http_run_command(req, t, &command, &error)) {
                if (error != NULL)
                        rv_http_respond_error(req, error);
        } else
                rv_http_respond_torrent(req, SOUP_STATUS_OK, t, TRUE);
}

/* the object of a body with exactly the members allowed; FALSE after a problem */
static JsonObject *
rv_http_body_members(RvHttpRequest *req, const char *const *allowed)
{
        g_autoptr(GError) error = NULL;
        JsonObject *obj = rv_http_request_json_object(req, &error);
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        if (obj == NULL) {
                rv_http_respond_error(req, error);
                return NULL;
        }
        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, &value)) {
                if (!g_strv_contains(allowed, name)) {
                        g_autofree char *detail = g_strdup_printf("%.64s: unknown member", name);
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, name);
                        return NULL;
                }
        }
        return obj;
}

/* POST .../move {"save_path": "/srv/data"} */
void
rv_http_torrents_move(RvHttpRequest *req)
{
        static const char *const allowed[] = { "save_path", NULL };
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_http_torrent_from_path(req);
        JsonObject *obj = t != NULL ? rv_http_body_members(req, allowed) : NULL;
        JsonNode *path;

        if (obj == NULL)
                return;
        path = json_object_get_member(obj, "save_path");
        if (path == NULL || !rv_http_json_is(path, G_TYPE_STRING)) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "save_path: expected an absolute directory", "save_path");
                return;
        }
        command = rv_command_new(RV_OP_MOVE_STORAGE, &t->hash);
        command->path = g_strdup(json_node_get_string(path));
        command->field = "save_path";
        if (!rv_http_run_command(req, t, &command, &error)) {
                if (error != NULL)
                        rv_http_respond_error(req, error);
        } else
                rv_http_respond_torrent(req, SOUP_STATUS_OK, t, FALSE);
}

/* GET .../files */

static void
rv_http_files_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) files = rv_manager_list_files_finish(RV_MANAGER(source), result, &error);
        GString *out;

        if (files == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        out = g_string_sized_new(64 + files->len * 128);
        g_string_append(out, "{\"files\":[");
        for (guint i = 0; i < files->len; i++) {
                RvFileInfo *fi = &g_array_index(files, RvFileInfo, i);
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append_printf(out, "{\"index\":%u,\"path\":", fi->index);
                rv_json_append_string(out, fi->path);
                g_string_append_printf(out,
                                       ",\"size\":%" G_GINT64_FORMAT ",\"done\":%" G_GINT64_FORMAT
                                       ",\"priority\":%u,\"wanted\":%s}",
                                       fi->size, fi->done, fi->priority, fi->wanted ? "true" : "false");
        }
        g_string_append(out, "]}");
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

void
rv_http_torrents_files(RvHttpRequest *req)
{
        RvTorrent *t = rv_http_torrent_from_path(req);

        if (t != NULL)
                rv_manager_list_files_async(req->http->manager, t, NULL, rv_http_files_cb, rv_http_request_pause(req));
}

/* GET .../trackers */

static void
rv_http_trackers_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) trackers = rv_manager_list_trackers_finish(RV_MANAGER(source), result, &error);
        GString *out;

        if (trackers == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        out = g_string_sized_new(64 + trackers->len * 192);
        g_string_append(out, "{\"trackers\":[");
        for (guint i = 0; i < trackers->len; i++) {
                const RvEngineTracker *tr = g_ptr_array_index(trackers, i);
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append(out, "{\"url\":");
                rv_json_append_string(out, tr->url);
                g_string_append_printf(out, ",\"tier\":%d,\"status\":\"%s\",\"message\":", tr->tier,
                                       rv_tracker_status_to_string(tr->status));
                rv_json_append_string(out, tr->message);
                g_string_append_printf(out,
                                       ",\"num_peers\":%d,\"num_seeds\":%d,\"num_leeches\":%d,\"num_downloaded\":%d}",
                                       tr->num_peers, tr->num_seeds, tr->num_leeches, tr->num_downloaded);
        }
        g_string_append(out, "]}");
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

void
rv_http_torrents_trackers(RvHttpRequest *req)
{
        RvTorrent *t = rv_http_torrent_from_path(req);

        if (t != NULL)
                rv_manager_list_trackers_async(req->http->manager, t, NULL, rv_http_trackers_cb,
                                               rv_http_request_pause(req));
}

/* PUT .../selection {"include": [...], "exclude": [...], "skip_fluff": bool}: the rules as a whole */
void
rv_http_torrents_selection(RvHttpRequest *req)
{
        static const char *const allowed[] = { "include", "exclude", "skip_fluff", NULL };
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;
        RvTorrent *t = rv_http_torrent_from_path(req);
        JsonObject *obj = t != NULL ? rv_http_body_members(req, allowed) : NULL;
        JsonNode *node;
        gboolean skip_fluff = FALSE;

        if (obj == NULL)
                return;
        if ((node = json_object_get_member(obj, "include")) != NULL &&
            (include = rv_http_json_strv(node, "include", RV_SELECTION_MAX_GLOBS + 1, &error)) == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        if ((node = json_object_get_member(obj, "exclude")) != NULL &&
            (exclude = rv_http_json_strv(node, "exclude", RV_SELECTION_MAX_GLOBS + 1, &error)) == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        if ((node = json_object_get_member(obj, "skip_fluff")) != NULL) {
                if (!rv_http_json_is(node, G_TYPE_BOOLEAN)) {
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                                "skip_fluff: expected a boolean", "skip_fluff");
                        return;
                }
                skip_fluff = json_node_get_boolean(node);
        }
        command = rv_command_new(RV_OP_SET_SELECTION, &t->hash);
        command->selection =
                rv_selection_new((const char *const *)include, (const char *const *)exclude, skip_fluff, &error);
        if (command->selection == NULL || !rv_http_run_command(req, t, &command, &error)) {
                if (error != NULL)
                        rv_http_respond_error(req, error);
        } else
                rv_http_respond_torrent(req, SOUP_STATUS_OK, t, FALSE);
}

/* "skip", "low", "normal", "high" or 0..7 */
static gboolean
rv_http_priority(JsonNode *node, guint8 *ret)
{
        static const char *const names[] = { "skip", "low", "normal", "high" };
        static const guint8 values[] = { 0, 1, 4, 7 };

        if (rv_http_json_is(node, G_TYPE_INT64)) {
                gint64 v = json_node_get_int(node);
                *ret = (guint8)CLAMP(v, 0, 255);
                return v >= 0 && v <= 255;
        }
        for (guint i = 0; rv_http_json_is(node, G_TYPE_STRING) && i < G_N_ELEMENTS(names); i++) {
                if (g_str_equal(json_node_get_string(node), names[i])) {
                        *ret = values[i];
                        return TRUE;
                }
        }
        return FALSE;
}

/* PUT .../files/priorities {"priorities": [{"index": 0, "priority": "high"}]} */
void
rv_http_torrents_priorities(RvHttpRequest *req)
{
        static const char *const allowed[] = { "priorities", NULL };
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_http_torrent_from_path(req);
        JsonObject *obj = t != NULL ? rv_http_body_members(req, allowed) : NULL;
        JsonArray *list;

        if (obj == NULL)
                return;
        list = rv_json_object_get_array(obj, "priorities");
        if (list == NULL) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "priorities: expected an array of {index, priority}", "priorities");
                return;
        }
        command = rv_command_new(RV_OP_SET_FILE_PRIORITIES, &t->hash);
        command->indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        command->priorities = g_byte_array_new();
        for (guint i = 0; i < json_array_get_length(list); i++) {
                JsonNode *e = json_array_get_element(list, i);
                JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
                JsonNode *index = o != NULL ? json_object_get_member(o, "index") : NULL;
                JsonNode *prio = o != NULL ? json_object_get_member(o, "priority") : NULL;
                guint32 idx;
                guint8 p = 0;
                if (o == NULL || json_object_get_size(o) != 2 || index == NULL ||
                    !rv_http_json_is(index, G_TYPE_INT64) || json_node_get_int(index) < 0 ||
                    json_node_get_int(index) > G_MAXUINT32 || prio == NULL || !rv_http_priority(prio, &p)) {
                        g_autofree char *field = g_strdup_printf("priorities[%u]", i);
                        g_autofree char *detail = g_strdup_printf(
                                "%s: expected {\"index\": N, \"priority\": skip|low|normal|high or 0..7}", field);
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, field);
                        return;
                }
                idx = (guint32)json_node_get_int(index);
                g_array_append_val(command->indexes, idx);
                g_byte_array_append(command->priorities, &p, 1);
        }
        command->field = "priorities";
        if (!rv_http_run_command(req, t, &command, &error)) {
                if (error != NULL)
                        rv_http_respond_error(req, error);
        } else
                rv_http_respond_torrent(req, SOUP_STATUS_OK, t, FALSE);
}
