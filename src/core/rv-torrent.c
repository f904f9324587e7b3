/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-json.h"
#include "rv-torrent.h"
#include "rv-validate.h"

static const char *const rv_torrent_state_names[] = {
        [RV_TORRENT_STATE_QUEUED] = "queued",
        [RV_TORRENT_STATE_CHECKING] = "checking",
        [RV_TORRENT_STATE_FETCHING_METADATA] = "fetching_metadata",
        [RV_TORRENT_STATE_DOWNLOADING] = "downloading",
        [RV_TORRENT_STATE_SEEDING] = "seeding",
        [RV_TORRENT_STATE_PAUSED] = "paused",
        [RV_TORRENT_STATE_ERROR] = "error",
        [RV_TORRENT_STATE_LOADING] = "loading",
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_torrent_state_names) == RV_TORRENT_STATE_LAST);

/* the meta document's format; bump with a migration in rv_torrent_meta_from_json */
#define RV_TORRENT_META_VERSION 1

const char *
rv_torrent_state_to_string(RvTorrentState state)
{
        if ((guint)state >= RV_TORRENT_STATE_LAST)
                return "unknown";
        return rv_torrent_state_names[state];
}

RvTorrentState
rv_torrent_state_from_string(const char *text)
{
        for (guint i = 0; text != NULL && i < RV_TORRENT_STATE_LAST; i++) {
                if (g_strcmp0(rv_torrent_state_names[i], text) == 0)
                        return (RvTorrentState)i;
        }
        return RV_TORRENT_STATE_LAST;
}

RvTorrent *
rv_torrent_new(const RvInfoHash *hash)
{
        RvTorrent *torrent = g_new0(RvTorrent, 1);

        torrent->hash = *hash;
        torrent->state = RV_TORRENT_STATE_QUEUED;
        torrent->labels = g_new0(char *, 1);
        torrent->ratio_limit = RV_SHARE_LIMIT_GLOBAL;
        torrent->seeding_time_limit = RV_SHARE_LIMIT_GLOBAL;
        torrent->inactive_seeding_time_limit = RV_SHARE_LIMIT_GLOBAL;
        torrent->last_progress_event_us = G_MININT64 / 2;
        return torrent;
}

static void rv_torrent_clear_fsops(RvTorrent *torrent);

void
rv_torrent_free(RvTorrent *torrent)
{
        if (torrent == NULL)
                return;
        g_free(torrent->name);
        g_free(torrent->save_path);
        g_strfreev(torrent->labels);
        rv_selection_free(torrent->selection);
        if (torrent->priority_overrides != NULL)
                g_hash_table_unref(torrent->priority_overrides);
        g_free(torrent->error);
        g_free(torrent->tracker);
        g_free(torrent->move_error);
        if (torrent->files != NULL)
                g_ptr_array_unref(torrent->files);
        g_free(torrent->magnet);
        g_strfreev(torrent->peers);
        rv_torrent_clear_fsops(torrent);
        g_free(torrent->node);
        g_free(torrent);
}

gint64
rv_torrent_get_eta(const RvTorrent *torrent)
{
        gint64 left = torrent->wanted_size - torrent->wanted_done;

        if (left <= 0)
                return 0;
        if (torrent->download_rate <= 0 || torrent->state != RV_TORRENT_STATE_DOWNLOADING)
                return -1;
        return (left + torrent->download_rate - 1) / torrent->download_rate;
}

guint8 *
rv_torrent_compute_priorities(const RvTorrent *torrent, gsize *ret_n)
{
        guint8 *prio;

        if (torrent->files == NULL) {
                *ret_n = 0;
                return NULL;
        }
        prio = g_new0(guint8, MAX(torrent->files->len, 1));
        for (guint i = 0; i < torrent->files->len; i++) {
                RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                gpointer override = NULL;

                if (file->pad) {
                        prio[i] = RV_FILE_PRIORITY_SKIP;
                        continue;
                }
                if (torrent->priority_overrides != NULL &&
                    g_hash_table_lookup_extended(torrent->priority_overrides, GUINT_TO_POINTER(i), NULL, &override)) {
                        prio[i] = (guint8)GPOINTER_TO_UINT(override);
                        continue;
                }
                prio[i] = rv_selection_wants(torrent->selection, file->path) ? RV_FILE_PRIORITY_NORMAL
                                                                             : RV_FILE_PRIORITY_SKIP;
        }
        *ret_n = torrent->files->len;
        return prio;
}

static void
rv_json_add_string(JsonBuilder *builder, const char *member, const char *value)
{
        json_builder_set_member_name(builder, member);
        if (value != NULL)
                json_builder_add_string_value(builder, value);
        else
                json_builder_add_null_value(builder);
}

static void
rv_json_add_int(JsonBuilder *builder, const char *member, gint64 value)
{
        json_builder_set_member_name(builder, member);
        json_builder_add_int_value(builder, value);
}

static void
rv_torrent_meta_write_int(RvJsonWriter *w, const char *member, gint64 value)
{
        rv_json_writer_name(w, member);
        rv_json_writer_int(w, value);
}

static void
rv_torrent_meta_write_boolean(RvJsonWriter *w, const char *member, gboolean value)
{
        rv_json_writer_name(w, member);
        rv_json_writer_boolean(w, value);
}

static void
rv_torrent_meta_write_string(RvJsonWriter *w, const char *member, const char *value)
{
        rv_json_writer_name(w, member);
        rv_json_writer_string(w, value);
}

/* "fsops": {"state", "error", "library_path", "overrides", "policy"} */
static void
rv_torrent_meta_write_fsops(RvJsonWriter *w, const RvTorrent *torrent)
{
        rv_json_writer_name(w, "fsops");
        rv_json_writer_begin_object(w);
        rv_torrent_meta_write_string(w, "state", torrent->fs_state);
        rv_torrent_meta_write_string(w, "error", torrent->fs_error);
        rv_torrent_meta_write_string(w, "library_path", torrent->library_path);
        rv_json_writer_name(w, "overrides");
        rv_json_writer_node(w, torrent->fs_overrides);
        rv_json_writer_name(w, "policy");
        rv_json_writer_node(w, torrent->fs_policy);
        rv_json_writer_end_object(w);
}

/* written as text, not as a JsonNode tree: it is written at every add and every change of a setting */
char *
rv_torrent_meta_to_text(const RvTorrent *torrent, gsize *ret_length)
{
        RvJsonWriter w;

        rv_json_writer_init(&w, 1024);
        rv_json_writer_begin_object(&w);
        rv_torrent_meta_write_int(&w, "version", RV_TORRENT_META_VERSION);
        rv_torrent_meta_write_string(&w, "info_hash", torrent->hash.hex);
        rv_torrent_meta_write_string(&w, "name", torrent->name);
        rv_torrent_meta_write_string(&w, "magnet", torrent->magnet);
        rv_torrent_meta_write_string(&w, "save_path", torrent->save_path);
        rv_json_writer_name(&w, "labels");
        rv_json_writer_strv(&w, (const char *const *)torrent->labels);
        rv_json_writer_name(&w, "peers");
        rv_json_writer_strv(&w, (const char *const *)torrent->peers);
        rv_json_writer_name(&w, "selection");
        rv_selection_write_json(torrent->selection, &w);
        rv_json_writer_name(&w, "priority_overrides");
        rv_json_writer_begin_object(&w);
        if (torrent->priority_overrides != NULL) {
                GHashTableIter iter;
                gpointer key;
                gpointer value;
                g_hash_table_iter_init(&iter, torrent->priority_overrides);
                while (g_hash_table_iter_next(&iter, &key, &value)) {
                        char idx[16];
                        g_snprintf(idx, sizeof(idx), "%u", GPOINTER_TO_UINT(key));
                        rv_torrent_meta_write_int(&w, idx, GPOINTER_TO_UINT(value));
                }
        }
        rv_json_writer_end_object(&w);
        rv_torrent_meta_write_boolean(&w, "sequential", torrent->sequential);
        rv_torrent_meta_write_boolean(&w, "paused", torrent->user_paused);
        rv_torrent_meta_write_boolean(&w, "name_given", torrent->name_given);
        rv_torrent_meta_write_boolean(&w, "force_start", torrent->force_start);
        rv_torrent_meta_write_boolean(&w, "super_seeding", torrent->super_seeding);
        rv_torrent_meta_write_boolean(&w, "first_last_piece", torrent->first_last_piece);
        rv_torrent_meta_write_string(&w, "content_layout", rv_content_layout_to_string(torrent->content_layout));
        rv_torrent_meta_write_int(&w, "download_limit", torrent->download_limit);
        rv_torrent_meta_write_int(&w, "upload_limit", torrent->upload_limit);
        rv_json_writer_name(&w, "ratio_limit");
        rv_json_writer_double(&w, torrent->ratio_limit);
        rv_torrent_meta_write_int(&w, "seeding_time_limit", torrent->seeding_time_limit);
        rv_torrent_meta_write_int(&w, "inactive_seeding_time_limit", torrent->inactive_seeding_time_limit);
        rv_torrent_meta_write_int(&w, "added_time", torrent->added_time);
        rv_torrent_meta_write_boolean(&w, "completed", torrent->completed);
        rv_torrent_meta_write_int(&w, "completed_time", torrent->completed_time);
        rv_torrent_meta_write_fsops(&w, torrent);
        rv_json_writer_end_object(&w);
        return rv_json_writer_finish(&w, ret_length);
}

JsonNode *
rv_torrent_meta_to_json(const RvTorrent *torrent)
{
        gsize len = 0;
        g_autofree char *text = rv_torrent_meta_to_text(torrent, &len);
        g_autoptr(GError) error = NULL;
        JsonNode *node = rv_json_parse(text, (gssize)len, FALSE, &error);

        /* the writer writes JSON: anything else is a bug in it (the round-trip test and fuzz-store-record say) */
        if (node == NULL) {
                g_critical("torrent %s: its metadata did not read back: %s", torrent->hash.hex, error->message);
                return json_node_new(JSON_NODE_NULL);
        }
        return node;
}

JsonNode *
rv_torrent_status_to_json(const RvTorrent *torrent)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        rv_json_add_string(builder, "name", torrent->name);
        rv_json_add_string(builder, "state", rv_torrent_state_to_string(torrent->state));
        json_builder_set_member_name(builder, "progress");
        json_builder_add_double_value(builder, torrent->progress);
        rv_json_add_int(builder, "total_size", torrent->total_size);
        rv_json_add_int(builder, "wanted_size", torrent->wanted_size);
        rv_json_add_int(builder, "wanted_done", torrent->wanted_done);
        rv_json_add_int(builder, "download_rate", torrent->download_rate);
        rv_json_add_int(builder, "upload_rate", torrent->upload_rate);
        rv_json_add_int(builder, "downloaded", torrent->downloaded);
        rv_json_add_int(builder, "uploaded", torrent->uploaded);
        rv_json_add_int(builder, "num_peers", torrent->num_peers);
        rv_json_add_int(builder, "num_seeds", torrent->num_seeds);
        json_builder_set_member_name(builder, "has_metadata");
        json_builder_add_boolean_value(builder, torrent->has_metadata);
        rv_json_add_string(builder, "error", torrent->error);
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

static gint64
rv_json_int_or(JsonObject *obj, const char *member, gint64 fallback)
{
        JsonNode *node = json_object_get_member(obj, member);

        return node != NULL && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64
                       ? json_node_get_int(node)
                       : fallback;
}

static void
rv_json_replace_string(JsonObject *obj, const char *member, char **field)
{
        JsonNode *node = json_object_get_member(obj, member);

        if (node == NULL || (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) != G_TYPE_STRING))
                return;
        g_free(*field);
        *field = JSON_NODE_HOLDS_NULL(node) ? NULL : g_strdup(json_node_get_string(node));
}

void
rv_torrent_status_from_json(RvTorrent *torrent, JsonNode *node)
{
        JsonObject *obj = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        JsonNode *member;
        RvTorrentState state;

        if (obj == NULL)
                return;
        rv_json_replace_string(obj, "name", &torrent->name);
        rv_json_replace_string(obj, "error", &torrent->error);
        member = json_object_get_member(obj, "state");
        state = member != NULL && JSON_NODE_HOLDS_VALUE(member) && json_node_get_value_type(member) == G_TYPE_STRING
                        ? rv_torrent_state_from_string(json_node_get_string(member))
                        : RV_TORRENT_STATE_LAST;
        if (state != RV_TORRENT_STATE_LAST)
                torrent->state = state;
        member = json_object_get_member(obj, "progress");
        if (member != NULL && JSON_NODE_HOLDS_VALUE(member) &&
            (json_node_get_value_type(member) == G_TYPE_DOUBLE || json_node_get_value_type(member) == G_TYPE_INT64))
                torrent->progress = CLAMP(json_node_get_double(member), 0.0, 1.0);
        torrent->total_size = MAX(rv_json_int_or(obj, "total_size", torrent->total_size), 0);
        torrent->wanted_size = MAX(rv_json_int_or(obj, "wanted_size", torrent->wanted_size), 0);
        torrent->wanted_done = MAX(rv_json_int_or(obj, "wanted_done", torrent->wanted_done), 0);
        torrent->download_rate = MAX(rv_json_int_or(obj, "download_rate", torrent->download_rate), 0);
        torrent->upload_rate = MAX(rv_json_int_or(obj, "upload_rate", torrent->upload_rate), 0);
        torrent->downloaded = MAX(rv_json_int_or(obj, "downloaded", torrent->downloaded), 0);
        torrent->uploaded = MAX(rv_json_int_or(obj, "uploaded", torrent->uploaded), 0);
        torrent->num_peers = (gint)CLAMP(rv_json_int_or(obj, "num_peers", torrent->num_peers), 0, G_MAXINT);
        torrent->num_seeds = (gint)CLAMP(rv_json_int_or(obj, "num_seeds", torrent->num_seeds), 0, G_MAXINT);
        member = json_object_get_member(obj, "has_metadata");
        if (member != NULL && JSON_NODE_HOLDS_VALUE(member) && json_node_get_value_type(member) == G_TYPE_BOOLEAN)
                torrent->has_metadata = json_node_get_boolean(member);
}

static gboolean
rv_json_get_int(JsonObject *obj, const char *member, gint64 min, gint64 max, gint64 *ret_value, GError **error)
{
        JsonNode *node = json_object_get_member(obj, member);
        gint64 value;

        if (node == NULL || JSON_NODE_HOLDS_NULL(node))
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an integer", member);
                return FALSE;
        }
        value = json_node_get_int(node);
        if (value < min || value > max) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: %" G_GINT64_FORMAT " is out of range",
                            member, value);
                return FALSE;
        }
        *ret_value = value;
        return TRUE;
}

static gboolean
rv_json_get_string(JsonObject *obj, const char *member, char **ret_value, GError **error)
{
        JsonNode *node = json_object_get_member(obj, member);

        if (node == NULL || JSON_NODE_HOLDS_NULL(node))
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected a string", member);
                return FALSE;
        }
        g_free(*ret_value);
        *ret_value = g_strdup(json_node_get_string(node));
        return TRUE;
}

static gboolean
rv_json_get_bool(JsonObject *obj, const char *member, gboolean *ret_value, GError **error)
{
        JsonNode *node = json_object_get_member(obj, member);

        if (node == NULL || JSON_NODE_HOLDS_NULL(node))
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected a boolean", member);
                return FALSE;
        }
        *ret_value = json_node_get_boolean(node);
        return TRUE;
}

/* "ratio_limit", "seeding_time_limit" and "inactive_seeding_time_limit", absent in records from before they existed */
static gboolean
rv_torrent_meta_read_share_limits(JsonObject *obj, RvTorrent *ret, GError **error)
{
        JsonNode *ratio = json_object_get_member(obj, "ratio_limit");

        ret->ratio_limit = RV_SHARE_LIMIT_GLOBAL;
        ret->seeding_time_limit = RV_SHARE_LIMIT_GLOBAL;
        ret->inactive_seeding_time_limit = RV_SHARE_LIMIT_GLOBAL;
        if (ratio != NULL && !JSON_NODE_HOLDS_NULL(ratio)) {
                GType type = JSON_NODE_HOLDS_VALUE(ratio) ? json_node_get_value_type(ratio) : G_TYPE_INVALID;
                if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "ratio_limit: expected a number");
                        return FALSE;
                }
                ret->ratio_limit = json_node_get_double(ratio);
        }
        return rv_json_get_int(obj, "seeding_time_limit", RV_SHARE_LIMIT_GLOBAL, RV_SHARE_MINUTES_MAX,
                               &ret->seeding_time_limit, error) &&
               rv_json_get_int(obj, "inactive_seeding_time_limit", RV_SHARE_LIMIT_GLOBAL, RV_SHARE_MINUTES_MAX,
                               &ret->inactive_seeding_time_limit, error);
}

/*
 * The state a torrent shows: libtorrent's report, with one rule on top: a
 * torrent the user paused is paused (or in error) whatever a report says,
 * since a status libtorrent took before the pause reached it may arrive after
 * it. Pure, so tests/core/test-manager.c walks a table of cases.
 */
RvTorrentState
rv_torrent_decide_state(const RvEngineStatus *st, gboolean user_paused)
{
        if (st->error != NULL)
                return RV_TORRENT_STATE_ERROR;
        if (user_paused)
                return RV_TORRENT_STATE_PAUSED;
        if (st->paused)
                return st->auto_managed ? RV_TORRENT_STATE_QUEUED : RV_TORRENT_STATE_PAUSED;
        switch (st->state) {
        case RV_ENGINE_STATE_CHECKING_RESUME:
        case RV_ENGINE_STATE_CHECKING_FILES:
                return RV_TORRENT_STATE_CHECKING;
        case RV_ENGINE_STATE_FETCHING_METADATA:
                return RV_TORRENT_STATE_FETCHING_METADATA;
        case RV_ENGINE_STATE_DOWNLOADING:
                return RV_TORRENT_STATE_DOWNLOADING;
        case RV_ENGINE_STATE_FINISHED:
        case RV_ENGINE_STATE_SEEDING:
        default:
                return RV_TORRENT_STATE_SEEDING;
        }
}

/* "labels": null, absent or an array of strings */
static gboolean
rv_torrent_meta_read_labels(JsonObject *obj, GStrvBuilder *labels, GError **error)
{
        JsonNode *member = json_object_get_member(obj, "labels");
        JsonArray *array;

        if (member == NULL || JSON_NODE_HOLDS_NULL(member))
                return TRUE;
        if (!JSON_NODE_HOLDS_ARRAY(member)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "labels: expected an array");
                return FALSE;
        }
        array = json_node_get_array(member);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonNode *elem = json_array_get_element(array, i);
                if (!JSON_NODE_HOLDS_VALUE(elem) || json_node_get_value_type(elem) != G_TYPE_STRING) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "labels[%u]: expected a string", i);
                        return FALSE;
                }
                g_strv_builder_add(labels, json_node_get_string(elem));
        }
        return TRUE;
}

/* "selection"; ret_selection stays NULL when there is none, or one that selects everything */
static gboolean
rv_torrent_meta_read_selection(JsonObject *obj, RvSelection **ret_selection, GError **error)
{
        JsonNode *member = json_object_get_member(obj, "selection");
        RvSelection *selection;

        if (member == NULL || JSON_NODE_HOLDS_NULL(member))
                return TRUE;
        selection = rv_selection_from_json(member, error);
        if (selection == NULL)
                return FALSE;
        /* written as none is: none is kept */
        if (rv_selection_is_empty(selection))
                rv_selection_free(selection);
        else
                *ret_selection = selection;
        return TRUE;
}

/* "priority_overrides": file index -> priority 0..7; ret_overrides stays NULL when there are none */
static gboolean
rv_torrent_meta_read_overrides(JsonObject *obj, GHashTable **ret_overrides, GError **error)
{
        JsonNode *member = json_object_get_member(obj, "priority_overrides");
        g_autoptr(GHashTable) overrides = NULL;
        g_autoptr(GList) keys = NULL;
        JsonObject *po;

        if (member == NULL || !JSON_NODE_HOLDS_OBJECT(member))
                return TRUE;
        po = json_node_get_object(member);
        keys = json_object_get_members(po);
        /* the usual case: an empty object, and no table kept for it */
        if (keys == NULL)
                return TRUE;
        overrides = g_hash_table_new(NULL, NULL);
        for (GList *l = keys; l != NULL; l = l->next) {
                guint64 idx = 0;
                gint64 prio = 0;
                if (!g_ascii_string_to_unsigned(l->data, 10, 0, G_MAXUINT32, &idx, NULL)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "priority_overrides: '%s' is not a file index", (const char *)l->data);
                        return FALSE;
                }
                if (!rv_json_get_int(po, l->data, 0, 7, &prio, error))
                        return FALSE;
                g_hash_table_insert(overrides, GUINT_TO_POINTER((guint)idx), GUINT_TO_POINTER((guint)prio));
        }
        *ret_overrides = g_steal_pointer(&overrides);
        return TRUE;
}

/* the pipeline's part; strings as they are (src/fsops checks them), objects or null */
static gboolean
rv_torrent_meta_read_fsops(JsonObject *obj, RvTorrent *out, GError **error)
{
        JsonNode *member = json_object_get_member(obj, "fsops");
        JsonObject *fs;
        JsonNode *overrides;
        JsonNode *policy;

        if (member == NULL || JSON_NODE_HOLDS_NULL(member))
                return TRUE;
        if (!JSON_NODE_HOLDS_OBJECT(member)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fsops: expected an object");
                return FALSE;
        }
        fs = json_node_get_object(member);
        if (!rv_json_get_string(fs, "state", &out->fs_state, error) ||
            !rv_json_get_string(fs, "error", &out->fs_error, error) ||
            !rv_json_get_string(fs, "library_path", &out->library_path, error))
                return FALSE;
        overrides = json_object_get_member(fs, "overrides");
        policy = json_object_get_member(fs, "policy");
        if ((overrides != NULL && !JSON_NODE_HOLDS_NULL(overrides) && !JSON_NODE_HOLDS_OBJECT(overrides)) ||
            (policy != NULL && !JSON_NODE_HOLDS_NULL(policy) && !JSON_NODE_HOLDS_OBJECT(policy))) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "fsops: overrides and policy must be objects");
                return FALSE;
        }
        if (overrides != NULL && JSON_NODE_HOLDS_OBJECT(overrides))
                out->fs_overrides = json_node_copy(overrides);
        if (policy != NULL && JSON_NODE_HOLDS_OBJECT(policy))
                out->fs_policy = json_node_copy(policy);
        return TRUE;
}

static void
rv_torrent_clear_fsops(RvTorrent *torrent)
{
        g_clear_pointer(&torrent->fs_state, g_free);
        g_clear_pointer(&torrent->fs_error, g_free);
        g_clear_pointer(&torrent->library_path, g_free);
        g_clear_pointer(&torrent->fs_overrides, json_node_unref);
        g_clear_pointer(&torrent->fs_policy, json_node_unref);
}

static void
rv_torrent_take_fsops(RvTorrent *torrent, RvTorrent *from)
{
        rv_torrent_clear_fsops(torrent);
        torrent->fs_state = g_steal_pointer(&from->fs_state);
        torrent->fs_error = g_steal_pointer(&from->fs_error);
        torrent->library_path = g_steal_pointer(&from->library_path);
        torrent->fs_overrides = g_steal_pointer(&from->fs_overrides);
        torrent->fs_policy = g_steal_pointer(&from->fs_policy);
}

gboolean
rv_torrent_meta_from_json(RvTorrent *torrent, JsonNode *node, GError **error)
{
        RvTorrent fs = { 0 };
        JsonObject *obj;
        JsonNode *member;
        gint64 version = 0;
        g_autofree char *hash = NULL;
        g_autofree char *name = NULL;
        g_autofree char *magnet = NULL;
        g_autofree char *save_path = NULL;
        g_autofree char *layout_name = NULL;
        RvContentLayout layout = RV_CONTENT_LAYOUT_ORIGINAL;
        g_autoptr(RvSelection) selection = NULL;
        g_autoptr(GHashTable) overrides = NULL;
        g_autoptr(GStrvBuilder) labels = g_strv_builder_new();
        g_autoptr(GStrvBuilder) peers = g_strv_builder_new();
        gboolean sequential = FALSE;
        gboolean paused = FALSE;
        gboolean forced = FALSE;
        gboolean name_given = FALSE;
        gboolean first_last = FALSE;
        gboolean super_seeding = FALSE;
        gboolean completed = FALSE;
        gint64 dl = 0;
        gint64 ul = 0;
        gint64 added = 0;
        gint64 completed_time = 0;

        if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "metadata: expected an object");
                return FALSE;
        }
        obj = json_node_get_object(node);
        if (!rv_json_get_int(obj, "version", 1, RV_TORRENT_META_VERSION, &version, error))
                return FALSE;
        if (version == 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "version: missing");
                return FALSE;
        }
        if (!rv_json_get_string(obj, "info_hash", &hash, error))
                return FALSE;
        if (hash == NULL || g_strcmp0(hash, torrent->hash.hex) != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "info_hash: '%s' does not match '%s'",
                            hash != NULL ? hash : "", torrent->hash.hex);
                return FALSE;
        }
        if (!rv_json_get_string(obj, "name", &name, error) || !rv_json_get_string(obj, "magnet", &magnet, error) ||
            !rv_json_get_string(obj, "save_path", &save_path, error) ||
            !rv_json_get_string(obj, "content_layout", &layout_name, error) ||
            !rv_validate_content_layout(layout_name, "content_layout", &layout, error))
                return FALSE;
        if (!rv_torrent_meta_read_labels(obj, labels, error))
                return FALSE;
        member = json_object_get_member(obj, "peers");
        if (member != NULL && JSON_NODE_HOLDS_ARRAY(member)) {
                JsonArray *array = json_node_get_array(member);
                for (guint i = 0; i < json_array_get_length(array); i++) {
                        JsonNode *elem = json_array_get_element(array, i);
                        if (JSON_NODE_HOLDS_VALUE(elem) && json_node_get_value_type(elem) == G_TYPE_STRING)
                                g_strv_builder_add(peers, json_node_get_string(elem));
                }
        }
        if (!rv_torrent_meta_read_selection(obj, &selection, error))
                return FALSE;
        if (!rv_torrent_meta_read_overrides(obj, &overrides, error))
                return FALSE;
        if (!rv_json_get_bool(obj, "sequential", &sequential, error) ||
            !rv_json_get_bool(obj, "paused", &paused, error) || !rv_json_get_bool(obj, "force_start", &forced, error) ||
            !rv_json_get_bool(obj, "name_given", &name_given, error) ||
            !rv_json_get_bool(obj, "super_seeding", &super_seeding, error) ||
            !rv_json_get_bool(obj, "first_last_piece", &first_last, error) ||
            !rv_json_get_bool(obj, "completed", &completed, error) ||
            !rv_json_get_int(obj, "download_limit", 0, G_MAXINT32, &dl, error) ||
            !rv_json_get_int(obj, "upload_limit", 0, G_MAXINT32, &ul, error) ||
            !rv_json_get_int(obj, "added_time", 0, G_MAXINT64, &added, error) ||
            !rv_json_get_int(obj, "completed_time", 0, G_MAXINT64, &completed_time, error))
                return FALSE;
        if (!rv_torrent_meta_read_share_limits(obj, &fs, error) || !rv_torrent_meta_read_fsops(obj, &fs, error)) {
                rv_torrent_clear_fsops(&fs);
                return FALSE;
        }

        /* success: commit */
        g_free(torrent->name);
        torrent->name = g_steal_pointer(&name);
        g_free(torrent->magnet);
        torrent->magnet = g_steal_pointer(&magnet);
        g_free(torrent->save_path);
        torrent->save_path = g_steal_pointer(&save_path);
        g_strfreev(torrent->labels);
        torrent->labels = g_strv_builder_end(labels);
        g_strfreev(torrent->peers);
        torrent->peers = g_strv_builder_end(peers);
        rv_selection_free(torrent->selection);
        torrent->selection = g_steal_pointer(&selection);
        if (torrent->priority_overrides != NULL)
                g_hash_table_unref(torrent->priority_overrides);
        torrent->priority_overrides = g_steal_pointer(&overrides);
        torrent->sequential = sequential;
        torrent->user_paused = paused;
        torrent->force_start = forced && !paused;
        torrent->name_given = name_given;
        torrent->super_seeding = super_seeding;
        torrent->first_last_piece = first_last;
        torrent->content_layout = layout;
        torrent->download_limit = dl;
        torrent->upload_limit = ul;
        torrent->added_time = added;
        torrent->completed = completed;
        torrent->completed_time = completed_time;
        torrent->ratio_limit = fs.ratio_limit;
        torrent->seeding_time_limit = fs.seeding_time_limit;
        torrent->inactive_seeding_time_limit = fs.inactive_seeding_time_limit;
        rv_torrent_take_fsops(torrent, &fs);
        return TRUE;
}
