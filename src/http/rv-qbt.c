/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-qbt.h"

static void
rv_qbt_entry_free(RvQbtEntry *entry)
{
        g_free(entry->category);
        g_free(entry->tags);
        g_free(entry);
}

static RvQbtEntry *
rv_qbt_entry_get(RvQbt *qbt, const RvInfoHash *hash)
{
        RvQbtEntry *entry = g_hash_table_lookup(qbt->entries, hash->hex);

        if (entry == NULL) {
                entry = g_new0(RvQbtEntry, 1);
                entry->hash = *hash;
                entry->link.data = entry;
                g_hash_table_insert(qbt->entries, entry->hash.hex, entry);
        }
        return entry;
}

/* the entry changed last: to the end of the change log */
static void
rv_qbt_entry_touch(RvQbt *qbt, RvQbtEntry *entry)
{
        if (entry->queued)
                g_queue_unlink(&qbt->changes, &entry->link);
        g_queue_push_tail_link(&qbt->changes, &entry->link);
        entry->queued = TRUE;
}

/* a transfer is going on when the event says a rate is above zero */
static gboolean
rv_qbt_event_active(const RvEvent *event)
{
        JsonObject *data =
                event->data != NULL && JSON_NODE_HOLDS_OBJECT(event->data) ? json_node_get_object(event->data) : NULL;

        return data != NULL && (rv_json_object_get_int_or(data, "download_rate", 0) > 0 ||
                                rv_json_object_get_int_or(data, "upload_rate", 0) > 0);
}

static void
rv_qbt_torrent_removed(RvQbt *qbt, const RvInfoHash *hash, guint64 id)
{
        RvQbtEntry *entry = g_hash_table_lookup(qbt->entries, hash->hex);
        RvQbtRemoved *removed;

        if (entry != NULL) {
                if (entry->queued)
                        g_queue_unlink(&qbt->changes, &entry->link);
                g_hash_table_remove(qbt->entries, hash->hex);
        }
        /* before the first sync every client gets a full update: nothing to remember */
        if (!qbt->tracking)
                return;
        removed = g_new0(RvQbtRemoved, 1);
        removed->id = id;
        removed->hash = *hash;
        g_queue_push_tail(&qbt->removed, removed);
        /* bounded: a client that saw less than what is forgotten gets everything again */
        while (g_queue_get_length(&qbt->removed) > RV_QBT_MAX_REMOVED) {
                RvQbtRemoved *old = g_queue_pop_head(&qbt->removed);
                qbt->floor_id = MAX(qbt->floor_id, old->id);
                g_free(old);
        }
}

/* a change of labels: which of the category and the tags it changed */
static void
rv_qbt_labels_changed(RvQbt *qbt, RvQbtEntry *entry, guint64 id)
{
        const RvTorrent *t = rv_manager_lookup_listed(qbt->http->manager, &entry->hash);
        JsonNode *settings = qbt->http->settings != NULL ? rv_live_settings_get_document(qbt->http->settings) : NULL;
        JsonObject *categories = rv_qbt_categories_of(settings);
        const char *category = t != NULL ? rv_qbt_category(t, categories) : NULL;
        g_autofree char *tags = t != NULL ? rv_qbt_tags_text(t, category) : NULL;

        if (g_strcmp0(entry->category, category) != 0) {
                g_free(entry->category);
                entry->category = g_strdup(category);
                entry->field_ids[RV_QBT_TORRENT_BITS] = id;
        }
        if (g_strcmp0(entry->tags, tags) != 0) {
                g_free(entry->tags);
                entry->tags = g_steal_pointer(&tags);
                entry->field_ids[RV_QBT_TORRENT_BITS + 1] = id;
        }
}

/* another node's torrents changed or went: whole in the next delta, or among the removed */
static void
rv_qbt_cluster_changed(RvQbt *qbt, const RvEvent *event)
{
        JsonObject *data = json_node_get_object(event->data);
        JsonArray *changed = rv_json_object_get_array(data, "changed");
        JsonArray *removed = rv_json_object_get_array(data, "removed");

        for (guint i = 0; changed != NULL && i < json_array_get_length(changed); i++) {
                RvInfoHash hash;
                RvQbtEntry *entry;
                if (!rv_info_hash_parse(json_array_get_string_element(changed, i), &hash))
                        continue;
                entry = rv_qbt_entry_get(qbt, &hash);
                entry->changed_id = event->id;
                entry->added_id = event->id;
                for (guint b = 0; b < RV_QBT_TORRENT_BITS; b++)
                        entry->field_ids[b] = event->id;
                rv_qbt_labels_changed(qbt, entry, event->id);
                rv_qbt_entry_touch(qbt, entry);
        }
        for (guint i = 0; removed != NULL && i < json_array_get_length(removed); i++) {
                RvInfoHash hash;
                if (rv_info_hash_parse(json_array_get_string_element(removed, i), &hash))
                        rv_qbt_torrent_removed(qbt, &hash, event->id);
        }
}

/*
 * the change log sync/maindata answers from: each torrent's last change
 * (an entry moved to the end of the queue), removals, settings; never a
 * rescan of the torrents
 */
static void
rv_qbt_event_cb(const RvEvent *event, gpointer user_data)
{
        RvQbt *qbt = user_data;
        RvQbtEntry *entry;

        switch (event->kind) {
        case RV_EVENT_SETTINGS_CHANGED:
                qbt->settings_id = event->id;
                return;
        case RV_EVENT_RESET:
                /* events were lost: every client starts over */
                qbt->floor_id = event->id;
                return;
        case RV_EVENT_TORRENT_REMOVED:
                rv_qbt_torrent_removed(qbt, &event->hash, event->id);
                return;
        case RV_EVENT_CLUSTER_CHANGED:
                if (qbt->tracking)
                        rv_qbt_cluster_changed(qbt, event);
                return;
        default:
                break;
        }
        if (!event->has_hash)
                return;
        if (!qbt->tracking) {
                /* only the last transfer is kept until a client asks for deltas */
                if (rv_qbt_event_active(event))
                        rv_qbt_entry_get(qbt, &event->hash)->last_activity = event->timestamp / G_USEC_PER_SEC;
                return;
        }
        entry = rv_qbt_entry_get(qbt, &event->hash);
        entry->changed_id = event->id;
        /* a change names its fields; the other kinds (added, completed, files, ...) count as a change of all */
        if (event->kind == RV_EVENT_TORRENT_ADDED)
                entry->added_id = event->id;
        for (guint b = 0; b < RV_QBT_TORRENT_BITS; b++) {
                if (event->fields == 0 || (event->fields & (1u << b)) != 0)
                        entry->field_ids[b] = event->id;
        }
        if (event->fields == 0 || (event->fields & RV_TORRENT_FIELD_LABELS) != 0)
                rv_qbt_labels_changed(qbt, entry, event->id);
        rv_qbt_entry_touch(qbt, entry);
        if (rv_qbt_event_active(event))
                entry->last_activity = event->timestamp / G_USEC_PER_SEC;
}

RvQbt *
rv_qbt_new(RvHttp *http)
{
        RvQbt *qbt = g_new0(RvQbt, 1);
        RvEventBus *bus = rv_manager_get_events(http->manager);

        qbt->http = http;
        qbt->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rv_qbt_session_free);
        qbt->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_qbt_entry_free);
        g_queue_init(&qbt->changes);
        g_queue_init(&qbt->removed);
        qbt->subscription = rv_event_bus_subscribe(bus, rv_qbt_event_cb, qbt);
        return qbt;
}

void
rv_qbt_free(RvQbt *qbt)
{
        if (qbt == NULL)
                return;
        if (qbt->subscription != 0)
                rv_event_bus_unsubscribe(rv_manager_get_events(qbt->http->manager), qbt->subscription);
        /* the entries own the links of the queue: it is dropped, not cleared */
        g_queue_init(&qbt->changes);
        g_hash_table_unref(qbt->entries);
        g_queue_clear_full(&qbt->removed, g_free);
        g_hash_table_unref(qbt->sessions);
        g_clear_object(&qbt->fetcher);
        g_free(qbt);
}

/*
 * the change log costs a few hundred bytes a torrent: it is kept from the
 * first sync/maindata on, which is a full update whatever its rid (no delta
 * was handed out before), so a service no client syncs with keeps none
 */
void
rv_qbt_track_changes(RvQbt *qbt, guint64 last_id)
{
        if (qbt->tracking)
                return;
        qbt->tracking = TRUE;
        qbt->floor_id = last_id;
}

guint
rv_qbt_changes_since(const RvQbtEntry *entry, guint64 rid)
{
        guint changes = 0;

        if (entry->added_id > rid)
                return RV_QBT_ALL;
        for (guint b = 0; b < RV_QBT_FIELD_BITS; b++) {
                if (entry->field_ids[b] > rid)
                        changes |= 1u << b;
        }
        return changes;
}

gint64
rv_qbt_last_activity(RvQbt *qbt, const RvTorrent *t)
{
        RvQbtEntry *entry = g_hash_table_lookup(qbt->entries, t->hash.hex);
        gint64 last = MAX(t->added_time, t->completed_time);

        if (t->download_rate > 0 || t->upload_rate > 0)
                return g_get_real_time() / G_USEC_PER_SEC;
        return entry != NULL ? MAX(entry->last_activity, last) : last;
}

/* parameters */

void
rv_qbt_form_merge(GHashTable *into, const char *text, gsize len)
{
        g_autoptr(GHashTable) params = NULL;
        GHashTableIter iter;
        gpointer key;
        gpointer value;

        if (text == NULL || len == 0)
                return;
        params = g_uri_parse_params(text, (gssize)len, "&", G_URI_PARAMS_WWW_FORM, NULL);
        if (params == NULL)
                return;
        g_hash_table_iter_init(&iter, params);
        while (g_hash_table_iter_next(&iter, &key, &value))
                g_hash_table_replace(into, g_strdup(key), g_strdup(value));
}

gboolean
rv_qbt_read_multipart(RvHttpRequest *req, guint max_parts, GHashTable *fields, GPtrArray *files)
{
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(req->msg));

        return rv_qbt_multipart_parse(soup_server_message_get_request_headers(req->msg), body, max_parts, fields,
                                      files);
}

gboolean
rv_qbt_multipart_parse(SoupMessageHeaders *headers, GBytes *body, guint max_parts, GHashTable *fields, GPtrArray *files)
{
        g_autoptr(SoupMultipart) form = soup_multipart_new_from_message(headers, body);

        if (form == NULL || soup_multipart_get_length(form) > (int)max_parts)
                return FALSE;
        for (int i = 0; i < soup_multipart_get_length(form); i++) {
                SoupMessageHeaders *part_headers = NULL;
                GBytes *data = NULL;
                g_autoptr(GHashTable) params = NULL;
                const char *name;
                (void)soup_multipart_get_part(form, i, &part_headers, &data);
                if (!soup_message_headers_get_content_disposition(part_headers, NULL, &params) ||
                    (name = g_hash_table_lookup(params, "name")) == NULL)
                        return FALSE;
                /* as qBittorrent: any part with a filename is a .torrent, whatever its name
                 * (Sonarr names it "torrents", @ctrl/qbittorrent "file") */
                if (g_str_equal(name, "torrents") || g_hash_table_contains(params, "filename")) {
                        if (files != NULL)
                                g_ptr_array_add(files, g_bytes_ref(data));
                        continue;
                }
                g_hash_table_replace(fields, g_strdup(name),
                                     g_strndup(g_bytes_get_data(data, NULL), MIN(g_bytes_get_size(data), 65536)));
        }
        return TRUE;
}

static GHashTable *
rv_qbt_params(RvHttpRequest *req)
{
        GUri *uri;
        const char *type;
        SoupMessageHeaders *h;

        if (req->form != NULL || req->msg == NULL)
                return req->form;
        req->form = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        uri = soup_server_message_get_uri(req->msg);
        if (uri != NULL && g_uri_get_query(uri) != NULL)
                rv_qbt_form_merge(req->form, g_uri_get_query(uri), strlen(g_uri_get_query(uri)));
        h = soup_server_message_get_request_headers(req->msg);
        type = soup_message_headers_get_content_type(h, NULL);
        if (type != NULL && g_ascii_strcasecmp(type, "application/x-www-form-urlencoded") == 0) {
                g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(req->msg));
                gsize len = 0;
                const char *data = g_bytes_get_data(body, &len);
                rv_qbt_form_merge(req->form, data, len);
        } else if (type != NULL && g_ascii_strcasecmp(type, "multipart/form-data") == 0) {
                /* some clients send every call as a multipart form */
                (void)rv_qbt_read_multipart(req, 64, req->form, NULL);
        }
        return req->form;
}

const char *
rv_qbt_param(RvHttpRequest *req, const char *name)
{
        GHashTable *params = rv_qbt_params(req);

        return params != NULL ? g_hash_table_lookup(params, name) : NULL;
}

const char *
rv_qbt_require(RvHttpRequest *req, const char *name)
{
        const char *value = rv_qbt_param(req, name);

        if (value == NULL) {
                g_autofree char *text = g_strdup_printf("Missing required parameter: %s", name);
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, text);
        }
        return value;
}

gboolean
rv_qbt_param_bool(RvHttpRequest *req, const char *name, gboolean if_missing)
{
        const char *value = rv_qbt_param(req, name);

        if (value == NULL || value[0] == '\0')
                return if_missing;
        return g_ascii_strcasecmp(value, "true") == 0 || g_str_equal(value, "1");
}

/* answers */

void
rv_qbt_respond_text(RvHttpRequest *req, guint status, const char *text)
{
        rv_http_respond_string(req, status, "text/plain; charset=UTF-8", g_string_new(text));
}

void
rv_qbt_respond_ok(RvHttpRequest *req)
{
        rv_qbt_respond_text(req, SOUP_STATUS_OK, "");
}

void
rv_qbt_respond_error(RvHttpRequest *req, const GError *error)
{
        g_autoptr(GError) copy = g_error_copy(error);

        rv_error_convert(&copy);
        rv_qbt_respond_text(req, rv_error_to_http_status(copy->code), copy->message);
}

JsonNode *
rv_qbt_settings(RvHttpRequest *req)
{
        return req->http->settings != NULL ? rv_live_settings_get_document(req->http->settings) : NULL;
}

JsonObject *
rv_qbt_categories_of(JsonNode *settings)
{
        JsonNode *v = settings != NULL ? rv_settings_get(settings, rv_settings_find("app", "categories")) : NULL;

        return v != NULL && JSON_NODE_HOLDS_OBJECT(v) ? json_node_get_object(v) : NULL;
}

void
rv_qbt_view_init(RvQbtView *view, RvHttpRequest *req)
{
        JsonNode *settings = rv_qbt_settings(req);

        view->qbt = req->http->qbt;
        view->categories = rv_qbt_categories_of(settings);
        view->stopped = rv_qbt_stopped_vocabulary(settings);
        view->now = g_get_real_time() / G_USEC_PER_SEC;
}

gboolean
rv_qbt_stopped_vocabulary(JsonNode *settings)
{
        const char *version = settings != NULL ? rv_settings_get_string(settings, "app", "webapi_version") : NULL;

        return version == NULL || !g_str_has_prefix(version, "4.");
}

GPtrArray *
rv_qbt_all_listed(RvManager *manager)
{
        GPtrArray *all = rv_manager_list(manager);
        GPtrArray *remote = rv_manager_list_remote(manager);
        GPtrArray *out = g_ptr_array_sized_new(all->len + remote->len);

        for (guint i = 0; i < all->len; i++) {
                RvTorrent *t = g_ptr_array_index(all, i);
                if (!t->removing)
                        g_ptr_array_add(out, t);
        }
        for (guint i = 0; i < remote->len; i++)
                g_ptr_array_add(out, g_ptr_array_index(remote, i));
        return out;
}

GPtrArray *
rv_qbt_hashes(RvHttpRequest *req, const char *param)
{
        const char *value = rv_qbt_require(req, param);
        GPtrArray *out;
        g_auto(GStrv) parts = NULL;

        if (value == NULL)
                return NULL;
        if (g_ascii_strcasecmp(value, "all") == 0)
                return rv_qbt_all_listed(req->http->manager);
        out = g_ptr_array_new();
        parts = g_strsplit(value, "|", RV_HTTP_MAX_PAGE + 1);
        for (guint i = 0; parts[i] != NULL; i++) {
                RvInfoHash hash;
                RvTorrent *t;
                if (!rv_info_hash_parse(g_strstrip(parts[i]), &hash))
                        continue;
                t = rv_manager_lookup_listed(req->http->manager, &hash);
                if (t != NULL && !t->removing && !g_ptr_array_find(out, t, NULL))
                        g_ptr_array_add(out, t);
        }
        return out;
}
