/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-json.h"
#include "rv-torrent-fields.h"

static const char *const rv_no_strings[] = { NULL };

#define RV_GETTER(fn, kind, member, expr)                     \
        static void fn(const RvTorrent *t, RvFieldValue *ret) \
        {                                                     \
                ret->type = kind;                             \
                ret->member = (expr);                         \
        }

RV_GETTER(rv_field_info_hash, RV_FIELD_STRING, s, t->hash.hex)
RV_GETTER(rv_field_name, RV_FIELD_STRING, s, t->name != NULL ? t->name : "")
RV_GETTER(rv_field_state, RV_FIELD_STRING, s, rv_torrent_state_to_string(t->state))
RV_GETTER(rv_field_completed, RV_FIELD_BOOL, b, t->completed)
RV_GETTER(rv_field_progress, RV_FIELD_DOUBLE, d, t->progress)
RV_GETTER(rv_field_size, RV_FIELD_UINT64, i, t->total_size)
RV_GETTER(rv_field_wanted, RV_FIELD_UINT64, i, t->wanted_size)
RV_GETTER(rv_field_done, RV_FIELD_UINT64, i, t->wanted_done)
RV_GETTER(rv_field_download_rate, RV_FIELD_UINT64, i, t->download_rate)
RV_GETTER(rv_field_upload_rate, RV_FIELD_UINT64, i, t->upload_rate)
RV_GETTER(rv_field_downloaded, RV_FIELD_UINT64, i, t->downloaded)
RV_GETTER(rv_field_uploaded, RV_FIELD_UINT64, i, t->uploaded)
RV_GETTER(rv_field_eta, RV_FIELD_INT64, i, rv_torrent_get_eta(t))
RV_GETTER(rv_field_peers, RV_FIELD_UINT32, i, t->num_peers)
RV_GETTER(rv_field_seeds, RV_FIELD_UINT32, i, t->num_seeds)
RV_GETTER(rv_field_save_path, RV_FIELD_STRING, s, t->save_path != NULL ? t->save_path : "")
RV_GETTER(rv_field_sequential, RV_FIELD_BOOL, b, t->sequential)
RV_GETTER(rv_field_force_start, RV_FIELD_BOOL, b, t->force_start)
RV_GETTER(rv_field_super_seeding, RV_FIELD_BOOL, b, t->super_seeding)
RV_GETTER(rv_field_first_last_piece, RV_FIELD_BOOL, b, t->first_last_piece)
RV_GETTER(rv_field_download_limit, RV_FIELD_INT64, i, t->download_limit)
RV_GETTER(rv_field_upload_limit, RV_FIELD_INT64, i, t->upload_limit)
RV_GETTER(rv_field_ratio_limit, RV_FIELD_DOUBLE, d, t->ratio_limit)
RV_GETTER(rv_field_seeding_time_limit, RV_FIELD_INT64, i, t->seeding_time_limit)
RV_GETTER(rv_field_inactive_limit, RV_FIELD_INT64, i, t->inactive_seeding_time_limit)
RV_GETTER(rv_field_labels, RV_FIELD_STRV, strv, t->labels != NULL ? (const char *const *)t->labels : rv_no_strings)
RV_GETTER(rv_field_include, RV_FIELD_STRV, strv,
          t->selection != NULL ? (const char *const *)t->selection->include : rv_no_strings)
RV_GETTER(rv_field_exclude, RV_FIELD_STRV, strv,
          t->selection != NULL ? (const char *const *)t->selection->exclude : rv_no_strings)
RV_GETTER(rv_field_skip_fluff, RV_FIELD_BOOL, b, t->selection != NULL && t->selection->skip_fluff)
RV_GETTER(rv_field_added_time, RV_FIELD_UINT64, i, t->added_time)
RV_GETTER(rv_field_completed_time, RV_FIELD_UINT64, i, t->completed_time)
RV_GETTER(rv_field_error, RV_FIELD_STRING, s, t->error != NULL ? t->error : "")
RV_GETTER(rv_field_fs_state, RV_FIELD_STRING, s, t->fs_state != NULL ? t->fs_state : "idle")
RV_GETTER(rv_field_fs_error, RV_FIELD_STRING, s, t->fs_error != NULL ? t->fs_error : "")
RV_GETTER(rv_field_tracker, RV_FIELD_STRING, s, t->tracker != NULL ? t->tracker : "")
RV_GETTER(rv_field_trackers_count, RV_FIELD_UINT32, i, t->trackers_count)
RV_GETTER(rv_field_library_path, RV_FIELD_STRING, s, t->library_path != NULL ? t->library_path : "")

#define F_PROGRESS RV_TORRENT_FIELD_PROGRESS
#define F_RATES RV_TORRENT_FIELD_RATES

/* in the order of the D-Bus interface */
static const RvTorrentField rv_torrent_field_table[] = {
        { "info_hash", "InfoHash", RV_FIELD_STRING, 0, TRUE, rv_field_info_hash },
        { "name", "Name", RV_FIELD_STRING, RV_TORRENT_FIELD_NAME, TRUE, rv_field_name },
        { "state", "State", RV_FIELD_STRING, RV_TORRENT_FIELD_STATE, TRUE, rv_field_state, TRUE },
        { "completed", "Completed", RV_FIELD_BOOL, RV_TORRENT_FIELD_COMPLETED, TRUE, rv_field_completed },
        { "progress", "Progress", RV_FIELD_DOUBLE, F_PROGRESS, TRUE, rv_field_progress },
        { "size", "Size", RV_FIELD_UINT64, RV_TORRENT_FIELD_SIZE, TRUE, rv_field_size },
        { "wanted_size", "WantedSize", RV_FIELD_UINT64, RV_TORRENT_FIELD_SIZE | F_PROGRESS, FALSE, rv_field_wanted },
        { "done", "Done", RV_FIELD_UINT64, F_PROGRESS, TRUE, rv_field_done },
        { "download_rate", "DownloadRate", RV_FIELD_UINT64, F_RATES, TRUE, rv_field_download_rate },
        { "upload_rate", "UploadRate", RV_FIELD_UINT64, F_RATES, TRUE, rv_field_upload_rate },
        { "downloaded", "Downloaded", RV_FIELD_UINT64, F_RATES, FALSE, rv_field_downloaded },
        { "uploaded", "Uploaded", RV_FIELD_UINT64, F_RATES, FALSE, rv_field_uploaded },
        { "eta", "Eta", RV_FIELD_INT64, F_PROGRESS | F_RATES | RV_TORRENT_FIELD_STATE, TRUE, rv_field_eta },
        { "peers", "Peers", RV_FIELD_UINT32, RV_TORRENT_FIELD_PEERS, FALSE, rv_field_peers },
        { "seeds", "Seeds", RV_FIELD_UINT32, RV_TORRENT_FIELD_PEERS, FALSE, rv_field_seeds },
        { "save_path", "SavePath", RV_FIELD_STRING, RV_TORRENT_FIELD_SAVE_PATH, FALSE, rv_field_save_path },
        { "sequential", "Sequential", RV_FIELD_BOOL, RV_TORRENT_FIELD_SEQUENTIAL, FALSE, rv_field_sequential },
        { "force_start", "ForceStart", RV_FIELD_BOOL, RV_TORRENT_FIELD_FLAGS, FALSE, rv_field_force_start },
        { "super_seeding", "SuperSeeding", RV_FIELD_BOOL, RV_TORRENT_FIELD_FLAGS, FALSE, rv_field_super_seeding },
        { "first_last_piece", "FirstLastPiece", RV_FIELD_BOOL, RV_TORRENT_FIELD_FLAGS, FALSE,
          rv_field_first_last_piece },
        { "download_limit", "DownloadLimit", RV_FIELD_INT64, RV_TORRENT_FIELD_LIMITS, FALSE, rv_field_download_limit },
        { "upload_limit", "UploadLimit", RV_FIELD_INT64, RV_TORRENT_FIELD_LIMITS, FALSE, rv_field_upload_limit },
        { "ratio_limit", "RatioLimit", RV_FIELD_DOUBLE, RV_TORRENT_FIELD_LIMITS, FALSE, rv_field_ratio_limit },
        { "seeding_time_limit", "SeedingTimeLimit", RV_FIELD_INT64, RV_TORRENT_FIELD_LIMITS, FALSE,
          rv_field_seeding_time_limit },
        { "inactive_seeding_time_limit", "InactiveSeedingTimeLimit", RV_FIELD_INT64, RV_TORRENT_FIELD_LIMITS, FALSE,
          rv_field_inactive_limit },
        { "labels", "Labels", RV_FIELD_STRV, RV_TORRENT_FIELD_LABELS, TRUE, rv_field_labels },
        { "include", "Include", RV_FIELD_STRV, RV_TORRENT_FIELD_SELECTION, FALSE, rv_field_include },
        { "exclude", "Exclude", RV_FIELD_STRV, RV_TORRENT_FIELD_SELECTION, FALSE, rv_field_exclude },
        { "skip_fluff", "SkipFluff", RV_FIELD_BOOL, RV_TORRENT_FIELD_SELECTION, FALSE, rv_field_skip_fluff },
        { "added_time", "AddedTime", RV_FIELD_UINT64, 0, FALSE, rv_field_added_time },
        { "completed_time", "CompletedTime", RV_FIELD_UINT64, RV_TORRENT_FIELD_COMPLETED, FALSE,
          rv_field_completed_time },
        { "error", "Error", RV_FIELD_STRING, RV_TORRENT_FIELD_ERROR, FALSE, rv_field_error },
        { "fs_state", "FsState", RV_FIELD_STRING, RV_TORRENT_FIELD_FSOPS, FALSE, rv_field_fs_state },
        { "fs_error", "FsError", RV_FIELD_STRING, RV_TORRENT_FIELD_FSOPS, FALSE, rv_field_fs_error },
        { "library_path", "LibraryPath", RV_FIELD_STRING, RV_TORRENT_FIELD_FSOPS, FALSE, rv_field_library_path },
        { "tracker", "Tracker", RV_FIELD_STRING, RV_TORRENT_FIELD_TRACKER, FALSE, rv_field_tracker },
        { "trackers_count", "TrackersCount", RV_FIELD_UINT32, RV_TORRENT_FIELD_TRACKER, FALSE,
          rv_field_trackers_count },
        { NULL, NULL, 0, 0, FALSE, NULL },
};

const RvTorrentField *
rv_torrent_fields(void)
{
        return rv_torrent_field_table;
}

guint
rv_torrent_fields_count(void)
{
        return G_N_ELEMENTS(rv_torrent_field_table) - 1;
}

static const RvTorrentField *
rv_torrent_field_find(const char *name, gboolean by_property)
{
        for (const RvTorrentField *f = rv_torrent_field_table; name != NULL && f->json != NULL; f++) {
                if (g_str_equal(by_property ? f->property : f->json, name))
                        return f;
        }
        return NULL;
}

const RvTorrentField *
rv_torrent_field_by_json(const char *name)
{
        return rv_torrent_field_find(name, FALSE);
}

const RvTorrentField *
rv_torrent_field_by_property(const char *property)
{
        return rv_torrent_field_find(property, TRUE);
}

GPtrArray *
rv_torrent_fields_select(const char *const *names, gboolean list_view, const char *hint, GError **error)
{
        g_autoptr(GPtrArray) fields = g_ptr_array_new();
        guint n = names != NULL ? g_strv_length((char **)names) : 0;
        guint max = 2 * rv_torrent_fields_count();

        /* the info hash first: rows and columns must say which torrent they are */
        g_ptr_array_add(fields, (gpointer)rv_torrent_field_table);
        if (n > max) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fields: %u names, at most %u", n, max);
                return NULL;
        }
        for (const RvTorrentField *f = rv_torrent_field_table + 1; n == 0 && f->json != NULL; f++) {
                if (!list_view || f->in_list)
                        g_ptr_array_add(fields, (gpointer)f);
        }
        for (guint i = 0; i < n; i++) {
                const RvTorrentField *f = rv_torrent_field_by_json(names[i]);
                if (f == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "fields: '%.64s' is not a torrent field (%s)", names[i], hint);
                        return NULL;
                }
                if (!g_ptr_array_find(fields, f, NULL))
                        g_ptr_array_add(fields, (gpointer)f);
        }
        return g_steal_pointer(&fields);
}

const char *
rv_torrent_field_signature(const RvTorrentField *field)
{
        static const char *const signatures[] = {
                [RV_FIELD_STRING] = "s", [RV_FIELD_BOOL] = "b",   [RV_FIELD_DOUBLE] = "d", [RV_FIELD_UINT64] = "t",
                [RV_FIELD_INT64] = "x",  [RV_FIELD_UINT32] = "u", [RV_FIELD_STRV] = "as",
        };
        G_STATIC_ASSERT(G_N_ELEMENTS(signatures) == RV_FIELD_STRV + 1);

        return signatures[field->type];
}

void
rv_torrent_field_to_json(const RvTorrentField *field, const RvTorrent *torrent, JsonBuilder *builder)
{
        RvFieldValue v;

        field->get(torrent, &v);
        json_builder_set_member_name(builder, field->json);
        switch (v.type) {
        case RV_FIELD_STRING:
                json_builder_add_string_value(builder, v.s);
                break;
        case RV_FIELD_BOOL:
                json_builder_add_boolean_value(builder, v.b);
                break;
        case RV_FIELD_DOUBLE:
                json_builder_add_double_value(builder, v.d);
                break;
        case RV_FIELD_UINT64:
        case RV_FIELD_INT64:
        case RV_FIELD_UINT32:
                json_builder_add_int_value(builder, v.i);
                break;
        case RV_FIELD_STRV:
                json_builder_begin_array(builder);
                for (guint i = 0; v.strv[i] != NULL; i++)
                        json_builder_add_string_value(builder, v.strv[i]);
                json_builder_end_array(builder);
                break;
        default:
                json_builder_add_null_value(builder);
                break;
        }
}

JsonNode *
rv_torrent_fields_snapshot(const RvTorrent *torrent, guint changes)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        for (const RvTorrentField *f = rv_torrent_field_table; f->json != NULL; f++) {
                if (f->changed_by == 0 ? changes == G_MAXUINT || f == rv_torrent_field_table
                                       : (f->changed_by & changes) != 0)
                        rv_torrent_field_to_json(f, torrent, builder);
        }
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

const char **
rv_torrent_fields_properties(guint changes)
{
        const char **names = g_new0(const char *, G_N_ELEMENTS(rv_torrent_field_table));
        guint n = 0;

        for (const RvTorrentField *f = rv_torrent_field_table; f->json != NULL; f++) {
                if ((f->changed_by & changes) != 0)
                        names[n++] = f->property;
        }
        return names;
}
