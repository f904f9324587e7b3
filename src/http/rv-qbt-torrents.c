/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-qbt.h"

/* the reads: torrents/info, properties, files, trackers, and sync/maindata */

/* filter= of torrents/info, as qBittorrent names them */
static gboolean
rv_qbt_filter_matches(const char *filter, const RvTorrent *t, const char *state)
{
        gboolean active = t->download_rate > 0 || t->upload_rate > 0;
        gboolean paused = t->state == RV_TORRENT_STATE_PAUSED;

        if (filter == NULL || g_str_equal(filter, "all"))
                return TRUE;
        if (g_str_equal(filter, "downloading"))
                return !t->completed && !paused && t->state != RV_TORRENT_STATE_ERROR;
        if (g_str_equal(filter, "seeding"))
                return t->state == RV_TORRENT_STATE_SEEDING;
        if (g_str_equal(filter, "completed"))
                return t->completed;
        if (g_str_equal(filter, "paused") || g_str_equal(filter, "stopped"))
                return paused;
        if (g_str_equal(filter, "resumed") || g_str_equal(filter, "running"))
                return !paused;
        if (g_str_equal(filter, "active"))
                return active;
        if (g_str_equal(filter, "inactive"))
                return !active;
        if (g_str_equal(filter, "stalled"))
                return g_str_has_prefix(state, "stalled");
        if (g_str_equal(filter, "stalled_uploading"))
                return g_str_equal(state, "stalledUP");
        if (g_str_equal(filter, "stalled_downloading"))
                return g_str_equal(state, "stalledDL");
        if (g_str_equal(filter, "checking"))
                return t->state == RV_TORRENT_STATE_CHECKING;
        if (g_str_equal(filter, "errored"))
                return t->state == RV_TORRENT_STATE_ERROR;
        return FALSE;
}

static gboolean
rv_qbt_has_label(const RvTorrent *t, const char *label)
{
        return t->labels != NULL && g_strv_contains((const char *const *)t->labels, label);
}

/* tag= : "" for torrents without tags */
static gboolean
rv_qbt_tag_matches(const char *tag, const RvTorrent *t, const char *category)
{
        guint n = t->labels != NULL ? g_strv_length(t->labels) : 0;

        if (tag == NULL)
                return TRUE;
        if (tag[0] == '\0')
                return n == (category != NULL ? 1u : 0u);
        return g_strcmp0(tag, category) != 0 && rv_qbt_has_label(t, tag);
}

typedef struct {
        const char *key;
        JsonObject *categories;
} RvQbtSort;

static gint64
rv_qbt_sort_int(const char *key, const RvTorrent *t)
{
        static const struct {
                const char *key;
                gsize offset;
        } fields[] = {
                { "size", G_STRUCT_OFFSET(RvTorrent, wanted_size) },
                { "total_size", G_STRUCT_OFFSET(RvTorrent, total_size) },
                { "added_on", G_STRUCT_OFFSET(RvTorrent, added_time) },
                { "completion_on", G_STRUCT_OFFSET(RvTorrent, completed_time) },
                { "dlspeed", G_STRUCT_OFFSET(RvTorrent, download_rate) },
                { "upspeed", G_STRUCT_OFFSET(RvTorrent, upload_rate) },
                { "downloaded", G_STRUCT_OFFSET(RvTorrent, downloaded) },
                { "uploaded", G_STRUCT_OFFSET(RvTorrent, uploaded) },
                { "completed", G_STRUCT_OFFSET(RvTorrent, wanted_done) },
        };

        for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
                if (g_str_equal(fields[i].key, key))
                        return G_STRUCT_MEMBER(gint64, t, fields[i].offset);
        }
        if (g_str_equal(key, "amount_left"))
                return t->wanted_size - t->wanted_done;
        if (g_str_equal(key, "eta"))
                return rv_qbt_eta(t);
        return 0;
}

static int
rv_qbt_sort_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
        const RvQbtSort *sort = user_data;
        const RvTorrent *x = *(RvTorrent *const *)a;
        const RvTorrent *y = *(RvTorrent *const *)b;
        const char *k = sort->key;
        double dx;
        double dy;

        if (g_str_equal(k, "name"))
                return g_strcmp0(x->name, y->name);
        if (g_str_equal(k, "hash"))
                return strcmp(x->hash.hex, y->hash.hex);
        if (g_str_equal(k, "save_path"))
                return g_strcmp0(x->save_path, y->save_path);
        if (g_str_equal(k, "category"))
                return g_strcmp0(rv_qbt_category(x, sort->categories), rv_qbt_category(y, sort->categories));
        if (g_str_equal(k, "state"))
                return g_strcmp0(rv_qbt_state(x, TRUE), rv_qbt_state(y, TRUE));
        if (g_str_equal(k, "progress") || g_str_equal(k, "ratio")) {
                dx = k[0] == 'p' ? x->progress : rv_manager_torrent_ratio(x);
                dy = k[0] == 'p' ? y->progress : rv_manager_torrent_ratio(y);
                return dx < dy ? -1 : dx > dy;
        }
        return rv_qbt_sort_int(k, x) < rv_qbt_sort_int(k, y) ? -1 : rv_qbt_sort_int(k, x) > rv_qbt_sort_int(k, y);
}

/* the torrents torrents/info selects, in the order asked for */
static GPtrArray *
rv_qbt_select(RvHttpRequest *req, const RvQbtView *view)
{
        const char *filter = rv_qbt_param(req, "filter");
        const char *category = rv_qbt_param(req, "category");
        const char *tag = rv_qbt_param(req, "tag");
        const char *sort = rv_qbt_param(req, "sort");
        g_autoptr(GPtrArray) from = NULL;
        GPtrArray *out = g_ptr_array_new();

        if (rv_qbt_param(req, "hashes") != NULL)
                from = rv_qbt_hashes(req, "hashes");
        else
                from = rv_qbt_all_listed(req->http->manager);
        for (guint i = 0; i < from->len; i++) {
                RvTorrent *t = g_ptr_array_index(from, i);
                const char *cat;
                if (t->removing)
                        continue;
                cat = rv_qbt_category(t, view->categories);
                if (category != NULL && g_strcmp0(category, cat != NULL ? cat : "") != 0)
                        continue;
                if (!rv_qbt_tag_matches(tag, t, cat) ||
                    !rv_qbt_filter_matches(filter, t, rv_qbt_state(t, view->stopped)))
                        continue;
                g_ptr_array_add(out, t);
        }
        if (sort != NULL) {
                RvQbtSort s = { sort, view->categories };
                g_ptr_array_sort_with_data(out, rv_qbt_sort_cmp, &s);
        }
        if (rv_qbt_param_bool(req, "reverse", FALSE)) {
                for (guint i = 0; i < out->len / 2; i++) {
                        gpointer tmp = out->pdata[i];
                        out->pdata[i] = out->pdata[out->len - 1 - i];
                        out->pdata[out->len - 1 - i] = tmp;
                }
        }
        return out;
}

void
rv_qbt_torrents_info(RvHttpRequest *req)
{
        RvQbtView view;
        g_autoptr(GPtrArray) list = NULL;
        const char *limit_text = rv_qbt_param(req, "limit");
        const char *offset_text = rv_qbt_param(req, "offset");
        gint64 offset = offset_text != NULL ? g_ascii_strtoll(offset_text, NULL, 10) : 0;
        gint64 limit = limit_text != NULL ? g_ascii_strtoll(limit_text, NULL, 10) : 0;
        GString *out;
        guint n = 0;

        rv_qbt_view_init(&view, req);
        list = rv_qbt_select(req, &view);
        /* a negative offset counts from the end, as qBittorrent's does */
        if (offset < 0)
                offset = MAX((gint64)list->len + offset, 0);
        if (limit <= 0)
                limit = G_MAXINT64;
        out = g_string_sized_new(64 + MIN(list->len, (guint)MIN(limit, G_MAXUINT)) * 1100);
        g_string_append_c(out, '[');
        for (gint64 i = offset; i < (gint64)list->len && n < limit; i++) {
                if (n++ > 0)
                        g_string_append_c(out, ',');
                rv_qbt_append_torrent(out, &view, g_ptr_array_index(list, i), TRUE, RV_QBT_ALL);
        }
        g_string_append_c(out, ']');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* hash=: 400 when missing, 404 when no such torrent (the *arr existence probe after an add) */
static RvTorrent *
rv_qbt_torrent_param(RvHttpRequest *req)
{
        const char *text = rv_qbt_require(req, "hash");
        RvInfoHash hash;
        RvTorrent *t;

        if (text == NULL)
                return NULL;
        /* another node's too: an add placed there is probed here */
        t = rv_info_hash_parse(text, &hash) ? rv_manager_lookup_listed(req->http->manager, &hash) : NULL;
        if (t == NULL || t->removing) {
                rv_qbt_respond_text(req, SOUP_STATUS_NOT_FOUND, "Not Found");
                return NULL;
        }
        return t;
}

static void
rv_qbt_prop_int(GString *out, const char *name, gint64 v)
{
        g_string_append_printf(out, ",\"%s\":", name);
        rv_json_append_int(out, v);
}

void
rv_qbt_torrents_properties(RvHttpRequest *req)
{
        RvTorrent *t = rv_qbt_torrent_param(req);
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        GString *out;

        if (t == NULL)
                return;
        out = g_string_new("{\"hash\":");
        rv_json_append_string(out, t->hash.hex);
        g_string_append(out, ",\"infohash_v1\":");
        rv_json_append_string(out, t->hash.hex);
        g_string_append(out, ",\"infohash_v2\":\"\",\"name\":");
        rv_json_append_string(out, t->name != NULL ? t->name : t->hash.hex);
        g_string_append(out, ",\"save_path\":");
        rv_json_append_string(out, t->save_path != NULL ? t->save_path : "");
        g_string_append(out, ",\"download_path\":\"\",\"comment\":\"\",\"created_by\":\"\",\"isPrivate\":false");
        g_string_append_printf(out, ",\"share_ratio\":%s",
                               g_ascii_formatd(buf, sizeof(buf), "%.6g", rv_manager_torrent_ratio(t)));
        rv_qbt_prop_int(out, "seeding_time", t->completed && t->completed_time > 0 ? now - t->completed_time : 0);
        rv_qbt_prop_int(out, "time_elapsed", t->added_time > 0 ? now - t->added_time : 0);
        rv_qbt_prop_int(out, "addition_date", t->added_time);
        rv_qbt_prop_int(out, "completion_date", t->completed && t->completed_time > 0 ? t->completed_time : -1);
        rv_qbt_prop_int(out, "creation_date", -1);
        rv_qbt_prop_int(out, "last_seen", t->completed_time > 0 ? t->completed_time : -1);
        rv_qbt_prop_int(out, "total_size", t->wanted_size);
        rv_qbt_prop_int(out, "total_downloaded", t->downloaded);
        rv_qbt_prop_int(out, "total_downloaded_session", t->downloaded);
        rv_qbt_prop_int(out, "total_uploaded", t->uploaded);
        rv_qbt_prop_int(out, "total_uploaded_session", t->uploaded);
        rv_qbt_prop_int(out, "total_wasted", 0);
        rv_qbt_prop_int(out, "dl_speed", t->download_rate);
        rv_qbt_prop_int(out, "up_speed", t->upload_rate);
        rv_qbt_prop_int(out, "dl_speed_avg",
                        t->added_time > 0 && now > t->added_time ? t->downloaded / (now - t->added_time) : 0);
        rv_qbt_prop_int(out, "up_speed_avg",
                        t->added_time > 0 && now > t->added_time ? t->uploaded / (now - t->added_time) : 0);
        rv_qbt_prop_int(out, "dl_limit", t->download_limit > 0 ? t->download_limit : -1);
        rv_qbt_prop_int(out, "up_limit", t->upload_limit > 0 ? t->upload_limit : -1);
        rv_qbt_prop_int(out, "eta", rv_qbt_eta(t));
        rv_qbt_prop_int(out, "nb_connections", t->num_peers);
        rv_qbt_prop_int(out, "nb_connections_limit", -1);
        rv_qbt_prop_int(out, "peers", MAX(t->num_peers - t->num_seeds, 0));
        rv_qbt_prop_int(out, "peers_total", MAX(t->num_peers - t->num_seeds, 0));
        rv_qbt_prop_int(out, "seeds", t->num_seeds);
        rv_qbt_prop_int(out, "seeds_total", t->num_seeds);
        rv_qbt_prop_int(out, "reannounce", 0);
        rv_qbt_prop_int(out, "piece_size", -1);
        rv_qbt_prop_int(out, "pieces_have", -1);
        rv_qbt_prop_int(out, "pieces_num", -1);
        g_string_append_c(out, '}');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* Revaer's priorities 0..7 as qBittorrent's 0 (skip), 1 (normal), 6 (high), 7 (maximal) */
static guint
rv_qbt_file_priority(guint8 priority)
{
        return priority == 0 ? 0 : priority <= 4 ? 1 : priority < 7 ? 6 : 7;
}

static void
rv_qbt_files_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) files = rv_manager_list_files_finish(RV_MANAGER(source), result, &error);
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        GString *out;

        if (files == NULL) {
                rv_qbt_respond_error(req, error);
                return;
        }
        out = g_string_sized_new(64 + files->len * 160);
        g_string_append_c(out, '[');
        for (guint i = 0; i < files->len; i++) {
                RvFileInfo *fi = &g_array_index(files, RvFileInfo, i);
                double progress = fi->size > 0 ? (double)fi->done / (double)fi->size : 1.0;
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append_printf(out, "{\"index\":%u,\"name\":", fi->index);
                rv_json_append_string(out, fi->path);
                g_string_append_printf(out,
                                       ",\"size\":%" G_GINT64_FORMAT ",\"progress\":%s,\"priority\":%u,\"is_seed\":%s"
                                       ",\"piece_range\":[0,0],\"availability\":-1}",
                                       fi->size, g_ascii_formatd(buf, sizeof(buf), "%.6g", progress),
                                       rv_qbt_file_priority(fi->priority), fi->done >= fi->size ? "true" : "false");
        }
        g_string_append_c(out, ']');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

void
rv_qbt_torrents_files(RvHttpRequest *req)
{
        RvTorrent *t = rv_qbt_torrent_param(req);

        if (t == NULL)
                return;
        if (!t->has_metadata || t->files == NULL) {
                rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", g_string_new("[]"));
                return;
        }
        rv_manager_list_files_async(req->http->manager, t, NULL, rv_qbt_files_cb, rv_http_request_pause(req));
}

static void
rv_qbt_append_tracker(GString *out, const RvEngineTracker *tr)
{
        if (out->len > 1)
                g_string_append_c(out, ',');
        g_string_append(out, "{\"url\":");
        rv_json_append_string(out, tr->url);
        /* RvTrackerStatus is in the order of qBittorrent's codes */
        g_string_append_printf(out,
                               ",\"status\":%d,\"tier\":%d,\"num_peers\":%d,\"num_seeds\":%d,\"num_leeches\":%d,"
                               "\"num_downloaded\":%d,\"msg\":",
                               (int)tr->status, tr->tier, tr->num_peers, tr->num_seeds, tr->num_leeches,
                               tr->num_downloaded);
        rv_json_append_string(out, tr->message != NULL ? tr->message : "");
        g_string_append_c(out, '}');
}

/* the DHT, PeX and LSD rows qBittorrent always shows, working when the setting is on */
static void
rv_qbt_append_source(GString *out, const char *url, gboolean on)
{
        RvEngineTracker row = {
                .url = (char *)url,
                .tier = -1,
                .status = on ? RV_TRACKER_STATUS_WORKING : RV_TRACKER_STATUS_DISABLED,
                .num_downloaded = -1,
        };

        rv_qbt_append_tracker(out, &row);
}

static void
rv_qbt_trackers_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) trackers = rv_manager_list_trackers_finish(RV_MANAGER(source), result, &error);
        JsonNode *settings = rv_qbt_settings(req);
        GString *out;

        if (trackers == NULL) {
                rv_qbt_respond_error(req, error);
                return;
        }
        out = g_string_new("[");
        rv_qbt_append_source(out, "** [DHT] **", settings == NULL || rv_settings_get_bool(settings, "engine", "dht"));
        rv_qbt_append_source(out, "** [PeX] **", FALSE);
        rv_qbt_append_source(out, "** [LSD] **", settings == NULL || rv_settings_get_bool(settings, "engine", "lsd"));
        for (guint i = 0; i < trackers->len; i++)
                rv_qbt_append_tracker(out, g_ptr_array_index(trackers, i));
        g_string_append_c(out, ']');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* the torrent's trackers as libtorrent's announces went, after the DHT, PeX and LSD rows */
void
rv_qbt_torrents_trackers(RvHttpRequest *req)
{
        RvTorrent *t = rv_qbt_torrent_param(req);

        if (t != NULL)
                rv_manager_list_trackers_async(req->http->manager, t, NULL, rv_qbt_trackers_cb,
                                               rv_http_request_pause(req));
}

/*
 * sync/maindata?rid=N: the rid is the event id the client saw last. With
 * rid 0, an id this service did not hand out, or one older than what the
 * change log still knows, the answer is a full update; otherwise the
 * torrents changed since with only their fields that changed (clients
 * merge them into what they have; a torrent added since comes whole), the
 * removed ones, and the categories when the settings changed.
 */
static gboolean
rv_qbt_sync_is_full(RvQbt *qbt, guint64 rid, guint64 last_id)
{
        return rid == 0 || rid > last_id || rid < qbt->floor_id;
}

/* "hash":{...} of one torrent, with a comma before all but the first */
static void
rv_qbt_sync_one(GString *out, const RvQbtView *view, const RvTorrent *t, guint changes, guint *n)
{
        if ((*n)++ > 0)
                g_string_append_c(out, ',');
        rv_json_append_string(out, t->hash.hex);
        g_string_append_c(out, ':');
        rv_qbt_append_torrent(out, view, t, FALSE, changes);
}

static void
rv_qbt_sync_torrents(GString *out, RvHttpRequest *req, const RvQbtView *view, guint64 rid, gboolean full)
{
        RvQbt *qbt = req->http->qbt;
        guint n = 0;
        gsize start = out->len;

        g_string_append(out, ",\"torrents\":{");
        if (full) {
                /* this node's and the other nodes' of a cluster */
                g_autoptr(GPtrArray) all = rv_qbt_all_listed(req->http->manager);
                for (guint i = 0; i < all->len; i++)
                        rv_qbt_sync_one(out, view, g_ptr_array_index(all, i), RV_QBT_ALL, &n);
        } else {
                /* newest first, back to what the client has */
                for (GList *l = qbt->changes.tail; l != NULL; l = l->prev) {
                        RvQbtEntry *e = l->data;
                        const RvTorrent *t;
                        if (e->changed_id <= rid)
                                break;
                        t = rv_manager_lookup_listed(req->http->manager, &e->hash);
                        /* only the fields that changed since: clients merge them into what they have */
                        if (t != NULL && !t->removing)
                                rv_qbt_sync_one(out, view, t, rv_qbt_changes_since(e, rid), &n);
                }
        }
        g_string_append_c(out, '}');
        /* as qBittorrent: a delta leaves out what has nothing in it */
        if (!full && n == 0)
                g_string_truncate(out, start);
}

static void
rv_qbt_sync_removed(GString *out, RvQbt *qbt, guint64 rid)
{
        guint n = 0;
        gsize start = out->len;

        g_string_append(out, ",\"torrents_removed\":[");
        for (GList *l = qbt->removed.tail; l != NULL; l = l->prev) {
                RvQbtRemoved *r = l->data;
                if (r->id <= rid)
                        break;
                if (n++ > 0)
                        g_string_append_c(out, ',');
                rv_json_append_string(out, r->hash.hex);
        }
        g_string_append_c(out, ']');
        if (n == 0)
                g_string_truncate(out, start);
}

/* server_state, unless a delta to the same session would repeat it */
static void
rv_qbt_sync_server_state(GString *out, RvHttpRequest *req, gboolean full)
{
        RvQbtSession *session = req->qbt_session;
        GString *state = g_string_new(NULL);

        rv_qbt_append_server_state(state, req->http);
        if (!full && session != NULL && g_strcmp0(session->server_state, state->str) == 0) {
                g_string_free(state, TRUE);
                return;
        }
        g_string_append(out, ",\"server_state\":");
        g_string_append_len(out, state->str, (gssize)state->len);
        if (session != NULL) {
                g_free(session->server_state);
                session->server_state = g_string_free(state, FALSE);
        } else {
                g_string_free(state, TRUE);
        }
}

void
rv_qbt_sync_maindata(RvHttpRequest *req)
{
        RvQbt *qbt = req->http->qbt;
        RvEventBus *bus = rv_manager_get_events(req->http->manager);
        const char *rid_text = rv_qbt_param(req, "rid");
        guint64 rid = rid_text != NULL ? g_ascii_strtoull(rid_text, NULL, 10) : 0;
        guint64 last_id;
        JsonNode *settings = rv_qbt_settings(req);
        RvQbtView view;
        gboolean full;
        GString *out = g_string_sized_new(1024);

        /* what waits for its turn goes out first, so the answer is as new as its rid says */
        last_id = rv_event_bus_get_last_id(bus);
        rv_qbt_track_changes(qbt, last_id);
        full = rv_qbt_sync_is_full(qbt, rid, last_id);
        g_string_append(out, "{\"rid\":");
        rv_json_append_int(out, (gint64)last_id);
        if (full)
                g_string_append(out, ",\"full_update\":true");
        rv_qbt_view_init(&view, req);
        rv_qbt_sync_torrents(out, req, &view, rid, full);
        if (!full)
                rv_qbt_sync_removed(out, qbt, rid);
        if (full || qbt->settings_id > rid) {
                g_string_append(out, ",\"categories\":");
                rv_qbt_append_categories(out, settings);
        }
        if (full) {
                g_string_append(out, ",\"tags\":");
                rv_qbt_append_tags(out, req->http->manager, view.categories);
        }
        rv_qbt_sync_server_state(out, req, full);
        g_string_append_c(out, '}');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}
