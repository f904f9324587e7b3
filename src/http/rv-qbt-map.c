/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-qbt.h"
#include "rv-torrent-fields.h"

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

        /* as qBittorrent: a move of the data shows over any other state but an error */
        if (t->moving && t->state != RV_TORRENT_STATE_ERROR)
                return "moving";
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
        case RV_TORRENT_STATE_LOADING:
                return "checkingResumeData";
        case RV_TORRENT_STATE_FETCHING_METADATA:
                return t->force_start ? "forcedMetaDL" : "metaDL";
        case RV_TORRENT_STATE_DOWNLOADING:
                if (t->force_start)
                        return "forcedDL";
                return t->download_rate > 0 ? "downloading" : "stalledDL";
        case RV_TORRENT_STATE_SEEDING:
                if (t->force_start)
                        return "forcedUP";
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
        gboolean common = TRUE;

        for (guint i = 0; t->files != NULL && i < t->files->len; i++) {
                const RvEngineFile *f = g_ptr_array_index(t->files, i);
                if (f->pad)
                        continue;
                if (first == NULL) {
                        first = f;
                        root = g_strndup(f->path, strcspn(f->path, "/"));
                }
                /* every file under the same top folder, or (content layout NoSubfolder) none */
                common = common && f->path[strlen(root)] == '/' && strncmp(f->path, root, strlen(root)) == 0;
                real++;
        }
        if (first == NULL)
                return g_build_filename(save, t->name != NULL ? t->name : t->hash.hex, NULL);
        if (real == 1)
                return g_build_filename(save, first->path, NULL);
        /* a multi-file torrent: its top folder, the save path when the files lie in it side by side */
        return common ? g_build_filename(save, root, NULL) : g_strdup(save);
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
        rv_json_append_int(out, v);
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
char *
rv_qbt_tags_text(const RvTorrent *t, const char *category)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) tags = NULL;

        for (guint i = 0; t->labels != NULL && t->labels[i] != NULL; i++) {
                if (g_strcmp0(t->labels[i], category) != 0)
                        g_strv_builder_add(builder, t->labels[i]);
        }
        tags = g_strv_builder_end(builder);
        /* kept per torrent by the change log: exactly as long as it is */
        return g_strjoinv(", ", tags);
}

/* one torrent being written: what several fields need, made once */
typedef struct {
        const RvQbtView *view;
        const RvTorrent *t;
        const char *category;
        /* made when a field asks */
        char *text;
} RvQbtRow;

typedef void (*RvQbtGet)(RvQbtRow *row, RvFieldValue *ret);

/*
 * every field of a torrent once: its name, the RvTorrentFields whose change
 * changes it (0: it never changes, and only whole objects carry it) and its
 * value; sync/maindata's deltas carry the fields whose bits changed since
 * the client's rid
 */
typedef struct {
        const char *name;
        guint changed_by;
        RvQbtGet get;
} RvQbtField;

#define RV_QBT_GET(fn, kind, member, expr)               \
        static void fn(RvQbtRow *row, RvFieldValue *ret) \
        {                                                \
                const RvTorrent *t = row->t;             \
                ret->type = kind;                        \
                ret->member = (expr);                    \
                (void)t;                                 \
        }
#define RV_QBT_INT(fn, expr) RV_QBT_GET(fn, RV_FIELD_INT64, i, expr)
#define RV_QBT_DOUBLE(fn, expr) RV_QBT_GET(fn, RV_FIELD_DOUBLE, d, expr)
#define RV_QBT_BOOL(fn, expr) RV_QBT_GET(fn, RV_FIELD_BOOL, b, expr)
#define RV_QBT_STRING(fn, expr) RV_QBT_GET(fn, RV_FIELD_STRING, s, expr)

static gint64
rv_qbt_seeding_s(const RvTorrent *t, gint64 now)
{
        return t->completed && t->completed_time > 0 ? MAX(now - t->completed_time, 0) : 0;
}

static const char *
rv_qbt_row_tags(RvQbtRow *row)
{
        g_free(row->text);
        row->text = rv_qbt_tags_text(row->t, row->category);
        return row->text;
}

static const char *
rv_qbt_row_content(RvQbtRow *row)
{
        g_free(row->text);
        row->text = rv_qbt_content_path(row->t);
        return row->text;
}

static const char *
rv_qbt_row_magnet(RvQbtRow *row)
{
        g_free(row->text);
        row->text = row->t->magnet != NULL ? g_strdup(row->t->magnet)
                                           : g_strdup_printf("magnet:?xt=urn:btih:%s", row->t->hash.hex);
        return row->text;
}

RV_QBT_STRING(rv_qbt_f_name, t->name != NULL ? t->name : t->hash.hex)
RV_QBT_STRING(rv_qbt_f_state, rv_qbt_state(t, row->view->stopped))
RV_QBT_STRING(rv_qbt_f_category, row->category != NULL ? row->category : "")
RV_QBT_STRING(rv_qbt_f_tags, rv_qbt_row_tags(row))
RV_QBT_STRING(rv_qbt_f_save_path, t->save_path != NULL ? t->save_path : "")
RV_QBT_STRING(rv_qbt_f_content_path, rv_qbt_row_content(row))
RV_QBT_STRING(rv_qbt_f_magnet, rv_qbt_row_magnet(row))
RV_QBT_STRING(rv_qbt_f_empty, "")
RV_QBT_STRING(rv_qbt_f_tracker, t->tracker != NULL ? t->tracker : "")
RV_QBT_INT(rv_qbt_f_trackers_count, t->trackers_count)
RV_QBT_INT(rv_qbt_f_zero, 0)
RV_QBT_BOOL(rv_qbt_f_false, FALSE)
RV_QBT_INT(rv_qbt_f_last_activity, rv_qbt_last_activity(row->view->qbt, t))
RV_QBT_INT(rv_qbt_f_seen_complete, t->completed_time > 0 ? t->completed_time : -1)
RV_QBT_DOUBLE(rv_qbt_f_availability, t->has_metadata ? (double)t->num_seeds : -1)
RV_QBT_INT(rv_qbt_f_added_on, t->added_time)
RV_QBT_INT(rv_qbt_f_amount_left, MAX(t->wanted_size - t->wanted_done, 0))
RV_QBT_INT(rv_qbt_f_completed, t->wanted_done)
RV_QBT_INT(rv_qbt_f_completion_on, t->completed && t->completed_time > 0 ? t->completed_time : -1)
RV_QBT_INT(rv_qbt_f_dlspeed, t->download_rate)
RV_QBT_INT(rv_qbt_f_downloaded, t->downloaded)
RV_QBT_INT(rv_qbt_f_eta, rv_qbt_eta(t))
RV_QBT_DOUBLE(rv_qbt_f_progress, t->progress)
RV_QBT_INT(rv_qbt_f_size, t->wanted_size)
RV_QBT_INT(rv_qbt_f_total_size, t->total_size)
RV_QBT_INT(rv_qbt_f_uploaded, t->uploaded)
RV_QBT_INT(rv_qbt_f_upspeed, t->upload_rate)
RV_QBT_INT(rv_qbt_f_seeds, t->num_seeds)
RV_QBT_INT(rv_qbt_f_leechs, MAX(t->num_peers - t->num_seeds, 0))
RV_QBT_INT(rv_qbt_f_dl_limit, t->download_limit > 0 ? t->download_limit : -1)
RV_QBT_INT(rv_qbt_f_up_limit, t->upload_limit > 0 ? t->upload_limit : -1)
RV_QBT_DOUBLE(rv_qbt_f_ratio, rv_manager_torrent_ratio(t))
RV_QBT_DOUBLE(rv_qbt_f_ratio_limit, t->ratio_limit)
RV_QBT_DOUBLE(rv_qbt_f_max_ratio, t->ratio_limit >= 0 ? t->ratio_limit : -1)
RV_QBT_INT(rv_qbt_f_seeding_time, rv_qbt_seeding_s(t, row->view->now))
RV_QBT_INT(rv_qbt_f_seeding_time_limit, t->seeding_time_limit)
RV_QBT_INT(rv_qbt_f_max_seeding_time, t->seeding_time_limit >= 0 ? t->seeding_time_limit : -1)
RV_QBT_INT(rv_qbt_f_inactive_limit, t->inactive_seeding_time_limit)
RV_QBT_INT(rv_qbt_f_max_inactive, t->inactive_seeding_time_limit >= 0 ? t->inactive_seeding_time_limit : -1)
RV_QBT_INT(rv_qbt_f_time_active, t->added_time > 0 ? MAX(row->view->now - t->added_time, 0) : 0)
RV_QBT_BOOL(rv_qbt_f_seq_dl, t->sequential)
RV_QBT_BOOL(rv_qbt_f_force_start, t->force_start)
RV_QBT_BOOL(rv_qbt_f_super_seeding, t->super_seeding)
RV_QBT_BOOL(rv_qbt_f_first_last, t->first_last_piece)

#define F_STATE                                                                                                  \
        (RV_TORRENT_FIELD_STATE | RV_TORRENT_FIELD_ERROR | RV_TORRENT_FIELD_COMPLETED | RV_TORRENT_FIELD_RATES | \
         RV_TORRENT_FIELD_FLAGS)
#define F_PROGRESS RV_TORRENT_FIELD_PROGRESS
#define F_RATES RV_TORRENT_FIELD_RATES
#define F_PEERS RV_TORRENT_FIELD_PEERS
#define F_LIMITS RV_TORRENT_FIELD_LIMITS
#define F_SIZE (RV_TORRENT_FIELD_SIZE | RV_TORRENT_FIELD_FILES | RV_TORRENT_FIELD_SELECTION)
#define F_DONE RV_TORRENT_FIELD_COMPLETED

static const RvQbtField rv_qbt_fields[] = {
        { "name", RV_TORRENT_FIELD_NAME, rv_qbt_f_name },
        { "state", F_STATE, rv_qbt_f_state },
        { "category", RV_QBT_CHANGED_CATEGORY, rv_qbt_f_category },
        { "tags", RV_QBT_CHANGED_TAGS, rv_qbt_f_tags },
        { "save_path", RV_TORRENT_FIELD_SAVE_PATH, rv_qbt_f_save_path },
        { "download_path", 0, rv_qbt_f_empty },
        { "content_path", RV_TORRENT_FIELD_SAVE_PATH | RV_TORRENT_FIELD_FILES | RV_TORRENT_FIELD_NAME,
          rv_qbt_f_content_path },
        { "magnet_uri", 0, rv_qbt_f_magnet },
        { "tracker", RV_TORRENT_FIELD_TRACKER, rv_qbt_f_tracker },
        { "trackers_count", RV_TORRENT_FIELD_TRACKER, rv_qbt_f_trackers_count },
        { "last_activity", F_RATES, rv_qbt_f_last_activity },
        { "seen_complete", F_DONE, rv_qbt_f_seen_complete },
        { "availability", F_PEERS, rv_qbt_f_availability },
        { "added_on", 0, rv_qbt_f_added_on },
        { "amount_left", F_PROGRESS | F_SIZE, rv_qbt_f_amount_left },
        { "completed", F_PROGRESS, rv_qbt_f_completed },
        { "completion_on", F_DONE, rv_qbt_f_completion_on },
        { "dlspeed", F_RATES, rv_qbt_f_dlspeed },
        { "downloaded", F_RATES, rv_qbt_f_downloaded },
        { "downloaded_session", F_RATES, rv_qbt_f_downloaded },
        { "eta", F_PROGRESS | F_RATES | RV_TORRENT_FIELD_STATE, rv_qbt_f_eta },
        { "progress", F_PROGRESS, rv_qbt_f_progress },
        { "size", F_SIZE, rv_qbt_f_size },
        { "total_size", F_SIZE, rv_qbt_f_total_size },
        { "uploaded", F_RATES, rv_qbt_f_uploaded },
        { "uploaded_session", F_RATES, rv_qbt_f_uploaded },
        { "upspeed", F_RATES, rv_qbt_f_upspeed },
        { "num_seeds", F_PEERS, rv_qbt_f_seeds },
        { "num_leechs", F_PEERS, rv_qbt_f_leechs },
        { "num_complete", F_PEERS, rv_qbt_f_seeds },
        { "num_incomplete", F_PEERS, rv_qbt_f_leechs },
        { "dl_limit", F_LIMITS, rv_qbt_f_dl_limit },
        { "up_limit", F_LIMITS, rv_qbt_f_up_limit },
        { "ratio", F_RATES, rv_qbt_f_ratio },
        { "ratio_limit", F_LIMITS, rv_qbt_f_ratio_limit },
        { "max_ratio", F_LIMITS, rv_qbt_f_max_ratio },
        { "seeding_time", F_DONE | F_RATES, rv_qbt_f_seeding_time },
        { "seeding_time_limit", F_LIMITS, rv_qbt_f_seeding_time_limit },
        { "max_seeding_time", F_LIMITS, rv_qbt_f_max_seeding_time },
        { "inactive_seeding_time_limit", F_LIMITS, rv_qbt_f_inactive_limit },
        { "max_inactive_seeding_time", F_LIMITS, rv_qbt_f_max_inactive },
        { "time_active", F_RATES | RV_TORRENT_FIELD_STATE, rv_qbt_f_time_active },
        { "seq_dl", RV_TORRENT_FIELD_SEQUENTIAL, rv_qbt_f_seq_dl },
        { "f_l_piece_prio", RV_TORRENT_FIELD_FLAGS, rv_qbt_f_first_last },
        { "force_start", RV_TORRENT_FIELD_FLAGS, rv_qbt_f_force_start },
        { "super_seeding", RV_TORRENT_FIELD_FLAGS, rv_qbt_f_super_seeding },
        { "auto_tmm", 0, rv_qbt_f_false },
        { "priority", 0, rv_qbt_f_zero },
};

static void
rv_qbt_append_value(GString *out, const char *name, const RvFieldValue *v)
{
        switch (v->type) {
        case RV_FIELD_STRING:
                rv_qbt_member(out, name);
                rv_json_append_string(out, v->s);
                break;
        case RV_FIELD_DOUBLE:
                rv_qbt_double(out, name, v->d);
                break;
        case RV_FIELD_BOOL:
                rv_qbt_bool(out, name, v->b);
                break;
        default:
                rv_qbt_int(out, name, v->i);
                break;
        }
}

void
rv_qbt_append_torrent(GString *out, const RvQbtView *view, const RvTorrent *t, gboolean with_hash, guint changes)
{
        RvQbtRow row = { view, t, rv_qbt_category(t, view->categories), NULL };
        gsize start;

        g_string_append_c(out, '{');
        start = out->len;
        if (with_hash) {
                RvFieldValue hash = { .type = RV_FIELD_STRING, .s = t->hash.hex };
                RvFieldValue v2 = { .type = RV_FIELD_STRING, .s = "" };
                rv_qbt_append_value(out, "hash", &hash);
                rv_qbt_append_value(out, "infohash_v1", &hash);
                rv_qbt_append_value(out, "infohash_v2", &v2);
        }
        for (guint i = 0; i < G_N_ELEMENTS(rv_qbt_fields); i++) {
                const RvQbtField *f = &rv_qbt_fields[i];
                RvFieldValue v;
                if (changes != RV_QBT_ALL && (f->changed_by & changes) == 0)
                        continue;
                f->get(&row, &v);
                rv_qbt_append_value(out, f->name, &v);
        }
        /* every member came with a comma before it: the first one's goes */
        if (out->len > start)
                g_string_erase(out, (gssize)start, 1);
        g_string_append_c(out, '}');
        g_free(row.text);
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
                rv_json_append_string(out, l->data);
                g_string_append(out, ":{\"name\":");
                rv_json_append_string(out, l->data);
                g_string_append(out, ",\"savePath\":");
                rv_json_append_string(out, path != NULL ? path : "");
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
                rv_json_append_string(out, l->data);
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
