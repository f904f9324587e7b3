/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-qbt.h"

/*
 * Revaer's torrents as qBittorrent shows them: the table of
 * docs/qbittorrent.md, in code. Field names, types and units are
 * qBittorrent's (seconds, bytes, bytes/s, -1 and 8640000 for none and
 * unknown, seeding limits in minutes with -2 for the global one).
 */

/* a failure whose message says the data is gone */
static gboolean
rv_qbt_missing_files(const RvTorrent *t)
{
        g_autofree char *lower = t->error != NULL ? g_ascii_strdown(t->error, -1) : NULL;

        return lower != NULL && (strstr(lower, "no such file") != NULL || strstr(lower, "not found") != NULL);
}

gint64
rv_qbt_eta(const RvTorrent *t)
{
        gint64 eta = rv_torrent_get_eta(t);

        /* only a download that moves has an end in sight */
        if (t->state != RV_TORRENT_STATE_DOWNLOADING || t->download_rate <= 0 || eta < 0 || eta > RV_QBT_ETA_UNKNOWN)
                return RV_QBT_ETA_UNKNOWN;
        return eta;
}

const char *
rv_qbt_state(const RvTorrent *t, gboolean stopped_vocabulary)
{
        gboolean up = t->completed || t->state == RV_TORRENT_STATE_SEEDING;

        switch (t->state) {
        case RV_TORRENT_STATE_ERROR:
                return rv_qbt_missing_files(t) ? "missingFiles" : "error";
        case RV_TORRENT_STATE_PAUSED:
                if (stopped_vocabulary)
                        return up ? "stoppedUP" : "stoppedDL";
                return up ? "pausedUP" : "pausedDL";
        case RV_TORRENT_STATE_QUEUED:
                return up ? "queuedUP" : "queuedDL";
        case RV_TORRENT_STATE_CHECKING:
                return up ? "checkingUP" : "checkingDL";
        case RV_TORRENT_STATE_FETCHING_METADATA:
                return "metaDL";
        case RV_TORRENT_STATE_DOWNLOADING:
                return t->download_rate > 0 ? "downloading" : "stalledDL";
        case RV_TORRENT_STATE_SEEDING:
                return t->upload_rate > 0 ? "uploading" : "stalledUP";
        default:
                return "unknown";
        }
}

const char *
rv_qbt_category(const RvTorrent *t, JsonObject *categories)
{
        for (guint i = 0; categories != NULL && t->labels != NULL && t->labels[i] != NULL; i++) {
                if (json_object_has_member(categories, t->labels[i]))
                        return t->labels[i];
        }
        return NULL;
}

char *
rv_qbt_content_path(const RvTorrent *t)
{
        const char *save = t->save_path != NULL ? t->save_path : "";
        const RvEngineFile *first = NULL;
        g_autofree char *root = NULL;
        guint real = 0;

        for (guint i = 0; t->files != NULL && i < t->files->len; i++) {
                const RvEngineFile *f = g_ptr_array_index(t->files, i);
                if (f->pad)
                        continue;
                if (first == NULL)
                        first = f;
                real++;
        }
        if (first == NULL)
                return g_build_filename(save, t->name != NULL ? t->name : t->hash.hex, NULL);
        if (real == 1)
                return g_build_filename(save, first->path, NULL);
        /* a multi-file torrent: its top folder */
        root = g_strndup(first->path, strcspn(first->path, "/"));
        return g_build_filename(save, root, NULL);
}

static void
rv_qbt_member(GString *out, const char *name)
{
        g_string_append_c(out, ',');
        g_string_append_c(out, '"');
        g_string_append(out, name);
        g_string_append(out, "\":");
}

static void
rv_qbt_int(GString *out, const char *name, gint64 v)
{
        rv_qbt_member(out, name);
        rv_http_json_append_int(out, v);
}

static void
rv_qbt_string(GString *out, const char *name, const char *v)
{
        rv_qbt_member(out, name);
        rv_http_json_append_string(out, v);
}

static void
rv_qbt_double(GString *out, const char *name, double v)
{
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        rv_qbt_member(out, name);
        g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.6g", v));
}

static void
rv_qbt_bool(GString *out, const char *name, gboolean v)
{
        rv_qbt_member(out, name);
        g_string_append(out, v ? "true" : "false");
}

/* "a, b": the labels that are not the category, as qBittorrent joins tags */
static char *
rv_qbt_tags_text(const RvTorrent *t, const char *category)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; t->labels != NULL && t->labels[i] != NULL; i++) {
                if (g_strcmp0(t->labels[i], category) == 0)
                        continue;
                if (out->len > 0)
                        g_string_append(out, ", ");
                g_string_append(out, t->labels[i]);
        }
        return g_string_free(out, FALSE);
}

/* amounts: what is wanted, done and left */
static void
rv_qbt_append_amounts(GString *out, const RvTorrent *t)
{
        gint64 left = MAX(t->wanted_size - t->wanted_done, 0);
        gint64 eta = rv_qbt_eta(t);

        rv_qbt_int(out, "added_on", t->added_time);
        rv_qbt_int(out, "amount_left", left);
        rv_qbt_int(out, "completed", t->wanted_done);
        rv_qbt_int(out, "completion_on", t->completed && t->completed_time > 0 ? t->completed_time : -1);
        rv_qbt_int(out, "dlspeed", t->download_rate);
        rv_qbt_int(out, "downloaded", t->downloaded);
        rv_qbt_int(out, "downloaded_session", t->downloaded);
        rv_qbt_int(out, "eta", eta);
        rv_qbt_double(out, "progress", t->progress);
        rv_qbt_int(out, "size", t->wanted_size);
        rv_qbt_int(out, "total_size", t->total_size);
        rv_qbt_int(out, "uploaded", t->uploaded);
        rv_qbt_int(out, "uploaded_session", t->uploaded);
        rv_qbt_int(out, "upspeed", t->upload_rate);
        rv_qbt_int(out, "num_seeds", t->num_seeds);
        rv_qbt_int(out, "num_leechs", MAX(t->num_peers - t->num_seeds, 0));
        rv_qbt_int(out, "num_complete", t->num_seeds);
        rv_qbt_int(out, "num_incomplete", MAX(t->num_peers - t->num_seeds, 0));
}

/* limits and seeding: bytes/s with -1 for none, minutes with -2 for the global goal */
static void
rv_qbt_append_limits(GString *out, const RvTorrent *t, gint64 now)
{
        gint64 seeding = t->completed && t->completed_time > 0 ? MAX(now - t->completed_time, 0) : 0;

        rv_qbt_int(out, "dl_limit", t->download_limit > 0 ? t->download_limit : -1);
        rv_qbt_int(out, "up_limit", t->upload_limit > 0 ? t->upload_limit : -1);
        rv_qbt_double(out, "ratio", rv_manager_torrent_ratio(t));
        rv_qbt_double(out, "ratio_limit", t->ratio_limit);
        rv_qbt_double(out, "max_ratio", t->ratio_limit >= 0 ? t->ratio_limit : -1);
        rv_qbt_int(out, "seeding_time", seeding);
        rv_qbt_int(out, "seeding_time_limit", t->seeding_time_limit);
        rv_qbt_int(out, "max_seeding_time", t->seeding_time_limit >= 0 ? t->seeding_time_limit : -1);
        rv_qbt_int(out, "inactive_seeding_time_limit", -2);
        rv_qbt_int(out, "max_inactive_seeding_time", -1);
        rv_qbt_int(out, "time_active", t->added_time > 0 ? MAX(now - t->added_time, 0) : 0);
        rv_qbt_bool(out, "seq_dl", t->sequential);
        rv_qbt_bool(out, "f_l_piece_prio", FALSE);
        rv_qbt_bool(out, "force_start", FALSE);
        rv_qbt_bool(out, "super_seeding", FALSE);
        rv_qbt_bool(out, "auto_tmm", FALSE);
        rv_qbt_int(out, "priority", 0);
}

void
rv_qbt_append_torrent(GString *out, const RvQbtView *view, const RvTorrent *t, gboolean with_hash)
{
        const char *category = rv_qbt_category(t, view->categories);
        g_autofree char *tags = rv_qbt_tags_text(t, category);
        g_autofree char *content = rv_qbt_content_path(t);
        g_autofree char *magnet = t->magnet != NULL ? NULL : g_strdup_printf("magnet:?xt=urn:btih:%s", t->hash.hex);

        g_string_append(out, "{\"name\":");
        rv_http_json_append_string(out, t->name != NULL ? t->name : t->hash.hex);
        if (with_hash) {
                rv_qbt_string(out, "hash", t->hash.hex);
                rv_qbt_string(out, "infohash_v1", t->hash.hex);
                rv_qbt_string(out, "infohash_v2", "");
        }
        rv_qbt_string(out, "state", rv_qbt_state(t, view->stopped));
        rv_qbt_string(out, "category", category != NULL ? category : "");
        rv_qbt_string(out, "tags", tags);
        rv_qbt_string(out, "save_path", t->save_path != NULL ? t->save_path : "");
        rv_qbt_string(out, "download_path", "");
        rv_qbt_string(out, "content_path", content);
        rv_qbt_string(out, "magnet_uri", t->magnet != NULL ? t->magnet : magnet);
        rv_qbt_string(out, "tracker", "");
        rv_qbt_int(out, "trackers_count", 0);
        rv_qbt_int(out, "last_activity", rv_qbt_last_activity(view->qbt, t));
        rv_qbt_int(out, "seen_complete", t->completed_time > 0 ? t->completed_time : -1);
        rv_qbt_double(out, "availability", t->has_metadata ? (double)t->num_seeds : -1);
        rv_qbt_append_amounts(out, t);
        rv_qbt_append_limits(out, t, view->now);
        g_string_append_c(out, '}');
}

void
rv_qbt_append_categories(GString *out, JsonNode *settings)
{
        JsonNode *v = settings != NULL ? rv_settings_get(settings, rv_settings_find("app", "categories")) : NULL;
        g_autoptr(GList) names =
                v != NULL && JSON_NODE_HOLDS_OBJECT(v) ? json_object_get_members(json_node_get_object(v)) : NULL;
        guint n = 0;

        g_string_append_c(out, '{');
        for (GList *l = names; l != NULL; l = l->next) {
                const char *path = NULL;
                (void)rv_settings_get_category(settings, l->data, &path);
                if (n++ > 0)
                        g_string_append_c(out, ',');
                rv_http_json_append_string(out, l->data);
                g_string_append(out, ":{\"name\":");
                rv_http_json_append_string(out, l->data);
                g_string_append(out, ",\"savePath\":");
                rv_http_json_append_string(out, path != NULL ? path : "");
                g_string_append_c(out, '}');
        }
        g_string_append_c(out, '}');
}

void
rv_qbt_append_tags(GString *out, RvManager *manager, JsonObject *categories)
{
        GPtrArray *all = rv_manager_list(manager);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GList) tags = NULL;
        guint n = 0;

        for (guint i = 0; i < all->len; i++) {
                const RvTorrent *t = g_ptr_array_index(all, i);
                for (guint j = 0; t->labels != NULL && t->labels[j] != NULL; j++) {
                        if (!g_hash_table_contains(seen, t->labels[j]) &&
                            (categories == NULL || !json_object_has_member(categories, t->labels[j])))
                                g_hash_table_add(seen, t->labels[j]);
                }
        }
        tags = g_list_sort(g_hash_table_get_keys(seen), (GCompareFunc)g_strcmp0);
        g_string_append_c(out, '[');
        for (GList *l = tags; l != NULL; l = l->next) {
                if (n++ > 0)
                        g_string_append_c(out, ',');
                rv_http_json_append_string(out, l->data);
        }
        g_string_append_c(out, ']');
}

void
rv_qbt_append_server_state(GString *out, RvHttp *http)
{
        gint64 down = 0;
        gint64 up = 0;
        gint64 down_total = 0;
        gint64 up_total = 0;
        GPtrArray *all = rv_manager_list(http->manager);

        rv_manager_get_rates(http->manager, &down, &up);
        for (guint i = 0; i < all->len; i++) {
                const RvTorrent *t = g_ptr_array_index(all, i);
                down_total += t->downloaded;
                up_total += t->uploaded;
        }
        g_string_append(out, "{\"connection_status\":\"connected\"");
        rv_qbt_int(out, "dl_info_speed", down);
        rv_qbt_int(out, "up_info_speed", up);
        rv_qbt_int(out, "dl_info_data", down_total);
        rv_qbt_int(out, "up_info_data", up_total);
        rv_qbt_int(out, "dl_rate_limit", 0);
        rv_qbt_int(out, "up_rate_limit", 0);
        rv_qbt_int(out, "dht_nodes", 0);
        rv_qbt_bool(out, "queueing", FALSE);
        rv_qbt_bool(out, "use_alt_speed_limits", FALSE);
        rv_qbt_int(out, "refresh_interval", 1500);
        g_string_append_c(out, '}');
}
