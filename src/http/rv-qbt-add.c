/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-add-options.h"
#include "rv-qbt.h"
#include "rv-validate.h"

/*
 * torrents/add: multipart (urls, "torrents" file parts and the options as
 * text parts) or a form. The options become one RvAddRequest per source
 * through the core's add options; a category that does not exist yet is
 * created first (as qBittorrent does), with the default save path. The
 * answer comes once every add is stored: "Ok.", or "Fails." when a torrent
 * is already there, 415 for a .torrent that is not one, 400 for a bad
 * option (a save path outside /fs/allowed_paths among them).
 */

#define RV_QBT_MAX_SOURCES 64

typedef struct {
        RvHttpRequest *req;
        /* name -> value of the text fields */
        GHashTable *fields;
        /* char * magnets */
        GPtrArray *magnets;
        /* GBytes .torrent files */
        GPtrArray *files;
        /* char * http(s) URLs of .torrent files, fetched before anything is added */
        GPtrArray *urls;
        /* the URL being fetched, what came of it so far, and the bound */
        guint fetch_index;
        GByteArray *fetched;
        gsize fetch_limit;
        GInputStream *fetch_stream;
        guint waiting;
        GError *error;
} RvQbtAdd;

static void
rv_qbt_add_free(RvQbtAdd *add)
{
        g_clear_pointer(&add->fields, g_hash_table_unref);
        g_clear_pointer(&add->magnets, g_ptr_array_unref);
        g_clear_pointer(&add->files, g_ptr_array_unref);
        g_clear_pointer(&add->urls, g_ptr_array_unref);
        g_clear_pointer(&add->fetched, g_byte_array_unref);
        g_clear_object(&add->fetch_stream);
        g_clear_error(&add->error);
        g_free(add);
}

static const char *
rv_qbt_add_field(RvQbtAdd *add, const char *name)
{
        return g_hash_table_lookup(add->fields, name);
}

static gboolean
rv_qbt_add_bool(RvQbtAdd *add, const char *name)
{
        const char *v = rv_qbt_add_field(add, name);

        return v != NULL && g_ascii_strcasecmp(v, "true") == 0;
}

/* urls: one per line; a bare info hash is a magnet link of it */
static void
rv_qbt_add_urls(RvQbtAdd *add, const char *text)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", RV_QBT_MAX_SOURCES + 1);

        for (guint i = 0; lines[i] != NULL; i++) {
                char *url = g_strstrip(lines[i]);
                RvInfoHash hash;
                if (url[0] == '\0')
                        continue;
                if (g_ascii_strncasecmp(url, "http://", 7) == 0 || g_ascii_strncasecmp(url, "https://", 8) == 0)
                        g_ptr_array_add(add->urls, g_strdup(url));
                else if (rv_info_hash_parse(url, &hash))
                        g_ptr_array_add(add->magnets, g_strdup_printf("magnet:?xt=urn:btih:%s", hash.hex));
                else
                        g_ptr_array_add(add->magnets, g_strdup(url));
        }
}

/* the parts of a multipart body: FALSE after a 400 */
static gboolean
rv_qbt_add_read_multipart(RvQbtAdd *add)
{
        if (rv_qbt_read_multipart(add->req, 2 * RV_QBT_MAX_SOURCES, add->fields, add->files))
                return TRUE;
        rv_qbt_respond_text(add->req, SOUP_STATUS_BAD_REQUEST,
                            "the body is not a form of at most 128 parts, each with a name");
        return FALSE;
}

static gboolean
rv_qbt_add_read(RvQbtAdd *add)
{
        RvHttpRequest *req = add->req;
        const char *type =
                soup_message_headers_get_content_type(soup_server_message_get_request_headers(req->msg), NULL);
        const char *urls;

        if (type != NULL && g_ascii_strcasecmp(type, "multipart/form-data") == 0) {
                if (!rv_qbt_add_read_multipart(add))
                        return FALSE;
        } else {
                /* a form: the request's parameters */
                const char *const names[] = { "urls",
                                              "savepath",
                                              "category",
                                              "tags",
                                              "paused",
                                              "stopped",
                                              "sequentialDownload",
                                              "firstLastPiecePrio",
                                              "upLimit",
                                              "dlLimit",
                                              "ratioLimit",
                                              "seedingTimeLimit",
                                              "inactiveSeedingTimeLimit",
                                              "skip_checking",
                                              "contentLayout",
                                              "rename",
                                              "autoTMM",
                                              NULL };
                for (guint i = 0; names[i] != NULL; i++) {
                        const char *v = rv_qbt_param(req, names[i]);
                        if (v != NULL)
                                g_hash_table_replace(add->fields, g_strdup(names[i]), g_strdup(v));
                }
        }
        if ((urls = rv_qbt_add_field(add, "urls")) != NULL)
                rv_qbt_add_urls(add, urls);
        if (add->magnets->len + add->files->len + add->urls->len == 0) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "Missing required parameter: urls or torrents");
                return FALSE;
        }
        if (add->magnets->len + add->files->len + add->urls->len > RV_QBT_MAX_SOURCES) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "too many torrents in one add");
                return FALSE;
        }
        return TRUE;
}

/* every .torrent is one, before anything is added: 415 otherwise, as qBittorrent */
static gboolean
rv_qbt_add_check_files(RvQbtAdd *add)
{
        RvEngine *engine = rv_manager_get_engine(add->req->http->manager);

        for (guint i = 0; i < add->files->len; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(engine, add->files->pdata[i], &error);
                if (source == NULL) {
                        g_autofree char *text = g_strdup_printf("Error: torrents[%u] is not a valid torrent file: %s",
                                                                i, error->message);
                        rv_qbt_respond_text(add->req, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, text);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
rv_qbt_add_number(RvQbtAdd *add, const char *name, double *ret)
{
        const char *text = rv_qbt_add_field(add, name);
        char *end = NULL;

        if (text == NULL || text[0] == '\0')
                return TRUE;
        *ret = g_ascii_strtod(text, &end);
        if (end == text || *end != '\0') {
                g_autofree char *msg = g_strdup_printf("%s: '%s' is not a number", name, text);
                rv_qbt_respond_text(add->req, SOUP_STATUS_BAD_REQUEST, msg);
                return FALSE;
        }
        return TRUE;
}

/* the labels: the category, then the tags */
static GStrv
rv_qbt_add_labels(RvQbtAdd *add)
{
        const char *category = rv_qbt_add_field(add, "category");
        const char *tags = rv_qbt_add_field(add, "tags");
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        g_auto(GStrv) parts = tags != NULL ? g_strsplit(tags, ",", RV_MANAGER_MAX_LABELS + 1) : NULL;

        if (category != NULL && category[0] != '\0')
                g_strv_builder_add(b, category);
        for (guint i = 0; parts != NULL && parts[i] != NULL; i++) {
                char *tag = g_strstrip(parts[i]);
                if (tag[0] != '\0' && g_strcmp0(tag, category) != 0)
                        g_strv_builder_add(b, tag);
        }
        return g_strv_builder_end(b);
}

/* qBittorrent's contentLayout names, in the order of RvContentLayout */
static const char *const rv_qbt_layout_names[] = { "Original", "Subfolder", "NoSubfolder", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(rv_qbt_layout_names) == RV_CONTENT_LAYOUT_LAST + 1);

/* contentLayout as the core's content_layout: FALSE after a 400 naming it */
static gboolean
rv_qbt_add_layout(RvQbtAdd *add, RvAddOptions *options)
{
        const char *layout = rv_qbt_add_field(add, "contentLayout");
        g_autoptr(JsonNode) node = NULL;
        g_autoptr(GError) error = NULL;
        guint i = 0;

        if (layout == NULL || layout[0] == '\0')
                return TRUE;
        while (rv_qbt_layout_names[i] != NULL && g_strcmp0(rv_qbt_layout_names[i], layout) != 0)
                i++;
        if (rv_qbt_layout_names[i] == NULL) {
                g_set_error(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "contentLayout: unknown layout '%s' (Original, Subfolder or NoSubfolder)", layout);
                rv_qbt_respond_error(add->req, error);
                return FALSE;
        }
        node = json_node_init_string(json_node_alloc(), rv_content_layout_to_string((RvContentLayout)i));
        return rv_add_options_set_json(options, "content_layout", node, NULL, NULL);
}

/* the options of every source: FALSE after a 400 */
static gboolean
rv_qbt_add_options(RvQbtAdd *add, RvAddOptions *options)
{
        const char *save = rv_qbt_add_field(add, "savepath");
        const char *category = rv_qbt_add_field(add, "category");
        const char *category_path = NULL;
        g_auto(GStrv) labels = rv_qbt_add_labels(add);
        g_autoptr(JsonNode) labels_node = json_node_new(JSON_NODE_ARRAY);
        JsonArray *array = json_array_new();
        double up = 0;
        double down = 0;
        double ratio = RV_SHARE_LIMIT_GLOBAL;
        double minutes = RV_SHARE_LIMIT_GLOBAL;
        double inactive = RV_SHARE_LIMIT_GLOBAL;
        g_autoptr(GError) error = NULL;

        if (!rv_qbt_add_number(add, "upLimit", &up) || !rv_qbt_add_number(add, "dlLimit", &down) ||
            !rv_qbt_add_number(add, "ratioLimit", &ratio) || !rv_qbt_add_number(add, "seedingTimeLimit", &minutes) ||
            !rv_qbt_add_number(add, "inactiveSeedingTimeLimit", &inactive))
                return FALSE;
        for (guint i = 0; labels[i] != NULL; i++)
                json_array_add_string_element(array, labels[i]);
        json_node_take_array(labels_node, array);
        if (!rv_add_options_set_json(options, "labels", labels_node, NULL, &error)) {
                rv_qbt_respond_error(add->req, error);
                return FALSE;
        }
        (void)rv_settings_get_category(rv_qbt_settings(add->req), category, &category_path);
        /* automatic management: the category decides where the data goes, whatever savepath says */
        if (rv_qbt_add_bool(add, "autoTMM") || save == NULL || save[0] == '\0')
                save = category_path;
        if (save != NULL) {
                g_autoptr(JsonNode) v = json_node_init_string(json_node_alloc(), save);
                (void)rv_add_options_set_json(options, "save_path", v, NULL, NULL);
        }
        {
                g_autoptr(JsonNode) paused = json_node_init_boolean(
                        json_node_alloc(), rv_qbt_add_bool(add, "paused") || rv_qbt_add_bool(add, "stopped"));
                g_autoptr(JsonNode) dl = json_node_init_int(json_node_alloc(), down > 0 ? (gint64)down : 0);
                g_autoptr(JsonNode) ul = json_node_init_int(json_node_alloc(), up > 0 ? (gint64)up : 0);
                (void)rv_add_options_set_json(options, "paused", paused, NULL, NULL);
                (void)rv_add_options_set_json(options, "download_limit", dl, NULL, NULL);
                (void)rv_add_options_set_json(options, "upload_limit", ul, NULL, NULL);
        }
        if (rv_qbt_add_field(add, "rename") != NULL && rv_qbt_add_field(add, "rename")[0] != '\0') {
                g_autoptr(JsonNode) name = json_node_init_string(json_node_alloc(), rv_qbt_add_field(add, "rename"));
                (void)rv_add_options_set_json(options, "name", name, NULL, NULL);
        }
        if (rv_qbt_add_bool(add, "skip_checking")) {
                g_autoptr(JsonNode) skip = json_node_init_boolean(json_node_alloc(), TRUE);
                (void)rv_add_options_set_json(options, "skip_checking", skip, NULL, NULL);
        }
        if (rv_qbt_add_bool(add, "firstLastPiecePrio")) {
                g_autoptr(JsonNode) first_last = json_node_init_boolean(json_node_alloc(), TRUE);
                (void)rv_add_options_set_json(options, "first_last_piece", first_last, NULL, NULL);
        }
        if (rv_qbt_add_field(add, "sequentialDownload") != NULL) {
                g_autoptr(JsonNode) seq =
                        json_node_init_boolean(json_node_alloc(), rv_qbt_add_bool(add, "sequentialDownload"));
                (void)rv_add_options_set_json(options, "sequential", seq, NULL, NULL);
        }
        if (ratio != RV_SHARE_LIMIT_GLOBAL || minutes != RV_SHARE_LIMIT_GLOBAL || inactive != RV_SHARE_LIMIT_GLOBAL)
                rv_add_options_set_share_limits(options, ratio, (gint64)minutes, (gint64)inactive);
        return rv_qbt_add_layout(add, options);
}

static void
rv_qbt_add_reply(RvQbtAdd *add)
{
        RvHttpRequest *req = add->req;

        if (add->error == NULL)
                rv_qbt_respond_text(req, SOUP_STATUS_OK, "Ok.");
        else if (g_error_matches(add->error, RV_ERROR, RV_ERROR_CONFLICT))
                rv_qbt_respond_text(req, SOUP_STATUS_OK, "Fails.");
        else
                rv_qbt_respond_error(req, add->error);
        rv_http_request_unref(req);
        rv_qbt_add_free(add);
}

static void
rv_qbt_added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvQbtAdd *add = user_data;
        g_autoptr(GError) error = NULL;

        if (rv_manager_add_finish(RV_MANAGER(source), result, &error) == NULL && add->error == NULL)
                add->error = g_steal_pointer(&error);
        if (--add->waiting == 0)
                rv_qbt_add_reply(add);
}

/* one add per source, each with the same options; the answer once the last is stored; takes add */
static void
rv_qbt_add_submit(RvHttpRequest *req, gpointer data)
{
        RvQbtAdd *add = data;
        guint n = add->magnets->len + add->files->len;
        g_autoptr(RvAddOptions) check = rv_add_options_new();

        /* the options are the same for every source: read once, answered when they are wrong */
        add->req = req;
        if (!rv_qbt_add_options(add, check)) {
                rv_qbt_add_free(add);
                return;
        }
        add->req = rv_http_request_pause(req);
        /* held until all are submitted */
        add->waiting = 1;
        for (guint i = 0; i < n && add->error == NULL; i++) {
                g_autoptr(RvAddOptions) options = rv_add_options_new();
                const RvAddRequest *request;
                (void)rv_qbt_add_options(add, options);
                if (i < add->magnets->len)
                        rv_add_options_set_magnet(options, add->magnets->pdata[i]);
                else
                        rv_add_options_set_torrent(options, add->files->pdata[i - add->magnets->len]);
                /* Sonarr and friends add over HTTP: a cluster may place it on another node */
                rv_add_options_set_placeable(options, TRUE);
                request = rv_add_options_get_request(options, &add->error);
                if (request == NULL)
                        break;
                add->waiting++;
                rv_manager_add_async(req->http->manager, request, rv_qbt_added_cb, add);
        }
        if (--add->waiting == 0)
                rv_qbt_add_reply(add);
}

/* a bad save path is refused before an unknown category is created for the add */
static gboolean
rv_qbt_add_check_path(RvQbtAdd *add)
{
        const char *save = rv_qbt_add_field(add, "savepath");
        g_autoptr(GError) error = NULL;

        /* with automatic management savepath is not used */
        if (save == NULL || save[0] == '\0' || rv_qbt_add_bool(add, "autoTMM"))
                return TRUE;
        if (rv_validate_save_path(save, "savepath", &error) &&
            rv_manager_check_path_allowed(add->req->http->manager, save, "savepath", &error))
                return TRUE;
        rv_qbt_respond_error(add->req, error);
        return FALSE;
}

/* the sources are all .torrent files or magnets now: the category, then the adds; takes add */
static void
rv_qbt_add_continue(RvHttpRequest *req, RvQbtAdd *add)
{
        const char *category;
        g_autoptr(GError) error = NULL;

        add->req = NULL;
        category = rv_qbt_add_field(add, "category");
        if (category == NULL || category[0] == '\0' || rv_settings_get_category(rv_qbt_settings(req), category, NULL)) {
                rv_qbt_add_submit(req, add);
                return;
        }
        if (!rv_validate_category(category, "category", &error)) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "Invalid category name");
                rv_qbt_add_free(add);
                return;
        }
        /* as qBittorrent: an unknown category is created (with the default save path), then the adds */
        rv_qbt_set_category_entry(req, category, NULL, rv_qbt_add_submit, add, (GDestroyNotify)rv_qbt_add_free);
}

/*
 * urls that are http(s): the .torrent files are fetched first (one at a
 * time, libsoup, 30 s each), each bounded by /engine/max_metadata_size plus
 * a MiB as an upload is, and checked like an upload; a URL that cannot be
 * fetched is 400 naming it, one that is not a .torrent 415, and then
 * nothing is added. qBittorrent answers "Ok." first and fetches later,
 * which leaves a client to guess what became of it
 */
static void rv_qbt_fetch_next(RvQbtAdd *add);

static void
rv_qbt_fetch_failed(RvQbtAdd *add, guint status, const char *what)
{
        RvHttpRequest *req = add->req;
        g_autofree char *text =
                g_strdup_printf("Error: urls: '%s' %s", (const char *)add->urls->pdata[add->fetch_index], what);

        rv_qbt_respond_text(req, status, text);
        rv_qbt_add_free(add);
        rv_http_request_unref(req);
}

static void
rv_qbt_fetch_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvQbtAdd *add = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);

        if (chunk == NULL) {
                g_autofree char *what = g_strdup_printf("could not be read: %s", error->message);
                rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, what);
                return;
        }
        if (g_bytes_get_size(chunk) > 0) {
                g_byte_array_append(add->fetched, g_bytes_get_data(chunk, NULL), (guint)g_bytes_get_size(chunk));
                if (add->fetched->len > add->fetch_limit) {
                        rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, "is larger than max_metadata_size");
                        return;
                }
                g_input_stream_read_bytes_async(add->fetch_stream, 64 * 1024, G_PRIORITY_DEFAULT, NULL,
                                                rv_qbt_fetch_read_cb, add);
                return;
        }
        /* the whole file: it goes with the uploads, checked as they are */
        g_clear_object(&add->fetch_stream);
        g_ptr_array_add(add->files, g_byte_array_free_to_bytes(g_steal_pointer(&add->fetched)));
        add->fetch_index++;
        rv_qbt_fetch_next(add);
}

static void
rv_qbt_fetch_sent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvQbtAdd *add = user_data;
        SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), result);
        g_autoptr(GError) error = NULL;
        GInputStream *stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
        goffset length;

        if (stream == NULL) {
                g_autofree char *what = g_strdup_printf("could not be fetched: %s", error->message);
                rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, what);
                return;
        }
        add->fetch_stream = stream;
        if (!SOUP_STATUS_IS_SUCCESSFUL(soup_message_get_status(msg))) {
                g_autofree char *what = g_strdup_printf("answered %u", soup_message_get_status(msg));
                rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, what);
                return;
        }
        length = soup_message_headers_get_content_length(soup_message_get_response_headers(msg));
        if (length > 0 && (guint64)length > add->fetch_limit) {
                rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, "is larger than max_metadata_size");
                return;
        }
        add->fetched = g_byte_array_new();
        g_input_stream_read_bytes_async(stream, 64 * 1024, G_PRIORITY_DEFAULT, NULL, rv_qbt_fetch_read_cb, add);
}

static void
rv_qbt_fetch_next(RvQbtAdd *add)
{
        RvQbt *qbt = add->req->http->qbt;
        RvHttpRequest *req = add->req;
        g_autoptr(SoupMessage) msg = NULL;

        if (add->fetch_index == add->urls->len) {
                /* every file is here: checked as uploads are, then the rest of the add */
                if (rv_qbt_add_check_files(add))
                        rv_qbt_add_continue(req, add);
                else
                        rv_qbt_add_free(add);
                rv_http_request_unref(req);
                return;
        }
        msg = soup_message_new("GET", add->urls->pdata[add->fetch_index]);
        if (msg == NULL) {
                rv_qbt_fetch_failed(add, SOUP_STATUS_BAD_REQUEST, "is not a URL");
                return;
        }
        if (qbt->fetcher == NULL)
                qbt->fetcher =
                        soup_session_new_with_options("timeout", 30, "user-agent", "Revaer/" PACKAGE_VERSION, NULL);
        soup_session_send_async(qbt->fetcher, msg, G_PRIORITY_DEFAULT, NULL, rv_qbt_fetch_sent_cb, add);
}

void
rv_qbt_torrents_add(RvHttpRequest *req)
{
        RvQbtAdd *add = g_new0(RvQbtAdd, 1);

        add->req = req;
        add->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        add->magnets = g_ptr_array_new_with_free_func(g_free);
        add->files = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        add->urls = g_ptr_array_new_with_free_func(g_free);
        if (!rv_qbt_add_read(add) || !rv_qbt_add_check_files(add) || !rv_qbt_add_check_path(add)) {
                rv_qbt_add_free(add);
                return;
        }
        if (add->urls->len == 0) {
                rv_qbt_add_continue(req, add);
                return;
        }
        add->fetch_limit = rv_http_upload_limit(req->http) * 3 / 4;
        add->req = rv_http_request_pause(req);
        rv_qbt_fetch_next(add);
}
