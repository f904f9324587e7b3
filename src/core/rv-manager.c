/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-json.h"
#include "rv-manager-private.h"
#include "rv-path.h"
#include "rv-validate.h"

G_DEFINE_TYPE(RvManager, rv_manager, G_TYPE_OBJECT)

typedef struct _RvManagerAdd RvManagerAdd;

/* owned by the store's callback, which runs once whatever happens */
struct _RvManagerAdd {
        /* NULL once the manager is gone */
        RvManager *self;
        /* NULL once answered */
        GTask *task;
        RvInfoHash hash;
        /* NULL once registered */
        RvTorrent *torrent;
        RvEngineSource *source;
        GStrv peers;
        guint8 *prio;
        gsize n_prio;
        /* seed mode: the data on disk is taken as it is */
        gboolean skip_checking;
        /* paused with its metadata: it stays out of the engine once stored (parked) */
        gboolean park;
        /* a parked torrent's resume data, kept when the store cannot read it back */
        GBytes *resume;
        guint timer;
        /* the adding func was told: it hears of a failure too */
        gboolean told;
};

enum {
        SIGNAL_ENGINE_ALIVE,
        SIGNAL_LISTEN_CHANGED,
        SIGNAL_PROBLEM,
        SIGNAL_LISTED,
        SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

void
rv_manager_config_init(RvManagerConfig *config)
{
        memset(config, 0, sizeof(*config));
        config->download_dir = g_build_filename(g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD) != NULL
                                                        ? g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD)
                                                        : g_get_home_dir(),
                                                NULL);
        config->sequential_default = FALSE;
        config->resume_save_interval_s = 60;
        config->progress_interval_ms = RV_PROGRESS_INTERVAL_DEFAULT_MS;
        config->shutdown_timeout_ms = 10000;
        config->add_timeout_ms = RV_MANAGER_ADD_TIMEOUT_DEFAULT_MS;
        /* about 6 ms of restoring per main-loop iteration */
        config->load_batch = 100;
}

void
rv_manager_config_clear(RvManagerConfig *config)
{
        g_clear_pointer(&config->download_dir, g_free);
        g_clear_pointer(&config->allowed_paths, g_strfreev);
}

static void
rv_manager_config_copy(RvManagerConfig *dest, const RvManagerConfig *src)
{
        if (dest == src)
                return;
        g_free(dest->download_dir);
        g_strfreev(dest->allowed_paths);
        *dest = *src;
        dest->download_dir = g_strdup(src->download_dir);
        dest->allowed_paths = g_strdupv(src->allowed_paths);
}

gboolean
rv_manager_check_path_allowed(RvManager *self, const char *path, const char *field, GError **error)
{
        if (path == NULL || rv_path_under_roots(path, (const char *const *)self->config.allowed_paths))
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                    "%s: '%s' is outside the allowed paths (/fs/allowed_paths)", field, path);
        return FALSE;
}

/* helpers */

/* something an operator should hear about; the daemon decides how loudly */

void
rv_manager_problem(RvManager *self, const char *fmt, ...)
{
        g_autofree char *msg = NULL;
        va_list args;

        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        g_debug("%s", msg);
        g_signal_emit(self, signals[SIGNAL_PROBLEM], 0, msg);
}

/* every change of a torrent goes into the event stream, which coalesces progress once for every transport */
void
rv_manager_changed(RvManager *self, RvTorrent *torrent, guint fields)
{
        rv_event_bus_torrent_changed(self->events, torrent, fields);
}

static JsonNode *
rv_manager_event_payload(RvTorrent *torrent)
{
        JsonObject *obj = json_object_new();

        if (torrent->name != NULL)
                json_object_set_string_member(obj, "name", torrent->name);
        json_object_set_string_member(obj, "state", rv_torrent_state_to_string(torrent->state));
        return rv_json_node_take_object(obj);
}

static void
rv_manager_publish(RvManager *self, RvEventKind kind, RvTorrent *torrent, const char *message)
{
        JsonNode *data = rv_manager_event_payload(torrent);

        if (message != NULL)
                json_object_set_string_member(json_node_get_object(data), "message", message);
        if (kind == RV_EVENT_COMPLETED && torrent->save_path != NULL)
                json_object_set_string_member(json_node_get_object(data), "save_path", torrent->save_path);
        rv_event_bus_publish(self->events, kind, &torrent->hash, data);
}

/* a torrent back from the store: announced like an add, marked so the journal does not call it new */
void
rv_manager_publish_restored(RvManager *self, RvTorrent *torrent)
{
        JsonNode *data = rv_manager_event_payload(torrent);

        json_object_set_boolean_member(json_node_get_object(data), "restored", TRUE);
        rv_event_bus_publish(self->events, RV_EVENT_TORRENT_ADDED, &torrent->hash, data);
}

/* the torrents component: degraded while a torrent is stopped by an error, naming the latest */
static void
rv_manager_count_errored(RvManager *self, RvTorrent *torrent, gboolean was, gboolean is)
{
        g_autofree char *reason = NULL;

        if (was == is)
                return;
        self->n_errored = is ? self->n_errored + 1 : MAX(self->n_errored, 1) - 1;
        if (self->n_errored == 0) {
                rv_health_set_ok(self->health, RV_HEALTH_TORRENTS);
                return;
        }
        if (!is)
                return;
        reason = g_strdup_printf("%u torrent%s stopped by an error, the latest %s '%s': %s", self->n_errored,
                                 self->n_errored == 1 ? "" : "s", torrent->hash.hex,
                                 torrent->name != NULL ? torrent->name : "",
                                 torrent->error != NULL ? torrent->error : "");
        rv_health_set_degraded(self->health, RV_HEALTH_TORRENTS, reason);
}

static void
rv_manager_set_state(RvManager *self, RvTorrent *torrent, RvTorrentState state, guint *fields)
{
        RvTorrentState was = torrent->state;

        if (was == state)
                return;
        torrent->state = state;
        *fields |= RV_TORRENT_FIELD_STATE;
        rv_manager_count_errored(self, torrent, was == RV_TORRENT_STATE_ERROR, state == RV_TORRENT_STATE_ERROR);
}

void
rv_manager_persist_meta(RvManager *self, RvTorrent *torrent)
{
        gsize len = 0;
        char *meta = rv_torrent_meta_to_text(torrent, &len);

        rv_store_put_torrent_text(self->store, &torrent->hash, meta, len, NULL, NULL, NULL);
}

static void
rv_manager_apply_priorities(RvManager *self, RvTorrent *torrent)
{
        g_autofree guint8 *prio = NULL;
        gsize n = 0;
        g_autoptr(GError) error = NULL;

        if (!torrent->in_engine || torrent->files == NULL)
                return;
        prio = rv_torrent_compute_priorities(torrent, &n);
        if (!rv_engine_set_file_priorities(self->engine, &torrent->hash, prio, n, &error))
                g_debug("cannot set file priorities of %s: %s", torrent->hash.hex, error->message);
}

void
rv_manager_forget(RvManager *self, RvTorrent *torrent)
{
        RvInfoHash hash = torrent->hash;
        JsonObject *obj = json_object_new();

        rv_manager_count_errored(self, torrent, torrent->state == RV_TORRENT_STATE_ERROR, FALSE);
        rv_event_bus_forget(self->events, &hash);
        g_ptr_array_remove(self->order, torrent);
        /* a parked or loading torrent's records wait here no longer */
        g_hash_table_remove(self->loading, hash.hex);
        if (torrent->name != NULL)
                json_object_set_string_member(obj, "name", torrent->name);
        rv_event_bus_publish(self->events, RV_EVENT_TORRENT_REMOVED, &hash, rv_json_node_take_object(obj));
        self->forgotten++;
        g_hash_table_remove(self->torrents, hash.hex);
}

void
rv_manager_unregister(RvManager *self, RvTorrent *torrent)
{
        /* a torrent another node owns now keeps its row */
        if (!torrent->released)
                rv_store_delete_torrent(self->store, &torrent->hash, NULL, NULL);
        rv_manager_forget(self, torrent);
}

void
rv_manager_register(RvManager *self, RvTorrent *torrent)
{
        g_hash_table_insert(self->torrents, torrent->hash.hex, torrent);
        g_ptr_array_add(self->order, torrent);
}

void
rv_manager_set_files(RvTorrent *torrent, GPtrArray *files)
{
        if (torrent->files != NULL)
                g_ptr_array_unref(torrent->files);
        torrent->files = g_ptr_array_new_full(files->len, (GDestroyNotify)rv_engine_file_free);
        for (guint i = 0; i < files->len; i++) {
                RvEngineFile *src = g_ptr_array_index(files, i);
                RvEngineFile *dst = g_new0(RvEngineFile, 1);
                *dst = *src;
                dst->path = g_strdup(src->path);
                g_ptr_array_add(torrent->files, dst);
        }
}

/* engine events */

static void
rv_manager_on_status(RvManager *self, RvTorrent *torrent, const RvEngineStatus *st)
{
        guint fields = 0;
        /* the first payload is news, as a state change is: not held back behind the peers that brought it */
        gboolean first_payload = torrent->wanted_done == 0 && st->total_wanted_done > 0;

        /* real progress is what a resume save must not lose */
        if (torrent->wanted_done != st->total_wanted_done)
                torrent->resume_stale = TRUE;
        if (torrent->wanted_done != st->total_wanted_done || torrent->wanted_size != st->total_wanted ||
            torrent->progress != st->progress) {
                torrent->wanted_done = st->total_wanted_done;
                torrent->wanted_size = st->total_wanted;
                torrent->progress = st->progress;
                fields |= RV_TORRENT_FIELD_PROGRESS;
        }
        if (torrent->total_size != st->total_size) {
                torrent->total_size = st->total_size;
                fields |= RV_TORRENT_FIELD_SIZE;
        }
        if (torrent->download_rate != st->download_rate || torrent->upload_rate != st->upload_rate ||
            torrent->downloaded != st->all_time_download || torrent->uploaded != st->all_time_upload) {
                torrent->download_rate = st->download_rate;
                torrent->upload_rate = st->upload_rate;
                torrent->downloaded = st->all_time_download;
                torrent->uploaded = st->all_time_upload;
                fields |= RV_TORRENT_FIELD_RATES;
        }
        if (torrent->num_peers != st->num_peers || torrent->num_seeds != st->num_seeds) {
                torrent->num_peers = st->num_peers;
                torrent->num_seeds = st->num_seeds;
                fields |= RV_TORRENT_FIELD_PEERS;
        }
        if (g_strcmp0(torrent->error, st->error != NULL ? st->error : torrent->move_error) != 0) {
                g_free(torrent->error);
                torrent->error = g_strdup(st->error != NULL ? st->error : torrent->move_error);
                fields |= RV_TORRENT_FIELD_ERROR;
        }
        if (g_strcmp0(torrent->tracker, st->current_tracker) != 0) {
                g_free(torrent->tracker);
                torrent->tracker = g_strdup(st->current_tracker);
                fields |= RV_TORRENT_FIELD_TRACKER;
        }
        if (torrent->sequential_pending) {
                /* a status taken before the change reached libtorrent says the old value */
                torrent->sequential_pending = torrent->sequential != st->sequential;
        } else if (torrent->sequential != st->sequential) {
                torrent->sequential = st->sequential;
                fields |= RV_TORRENT_FIELD_SEQUENTIAL;
        }
        /* no event of its own: the goals read it, and an upload changes the rates anyway */
        torrent->last_upload_time = st->last_upload;
        if (torrent->moving != st->moving_storage) {
                torrent->moving = st->moving_storage;
                fields |= RV_TORRENT_FIELD_FLAGS;
        }
        rv_manager_set_state(self, torrent, rv_torrent_decide_state(st, torrent->user_paused), &fields);
        if (st->is_finished && st->total_wanted > 0 && !torrent->completed) {
                torrent->completed = TRUE;
                torrent->completed_time =
                        st->completed_time > 0 ? st->completed_time : g_get_real_time() / G_USEC_PER_SEC;
                fields |= RV_TORRENT_FIELD_COMPLETED;
                rv_manager_publish(self, RV_EVENT_COMPLETED, torrent, NULL);
                rv_manager_persist_meta(self, torrent);
                (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
        }
        rv_manager_changed(self, torrent, fields);
        if (first_payload)
                rv_event_bus_flush_torrent(self->events, &torrent->hash);
        if (fields & (RV_TORRENT_FIELD_RATES | RV_TORRENT_FIELD_STATE))
                rv_manager_check_goal(self, torrent);
}

static void
rv_manager_publish_files(RvManager *self, RvTorrent *torrent)
{
        JsonNode *data = rv_manager_event_payload(torrent);
        JsonArray *files = json_array_new();

        for (guint i = 0; torrent->files != NULL && i < torrent->files->len; i++) {
                RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                JsonObject *f = json_object_new();
                json_object_set_string_member(f, "path", file->path);
                json_object_set_int_member(f, "size", file->size);
                json_object_set_boolean_member(f, "wanted", rv_selection_wants(torrent->selection, file->path));
                json_array_add_object_element(files, f);
        }
        json_object_set_array_member(json_node_get_object(data), "files", files);
        rv_event_bus_publish(self->events, RV_EVENT_FILES_DISCOVERED, &torrent->hash, data);
}

static void
rv_manager_on_metadata(RvManager *self, RvTorrent *torrent, const RvEngineEvent *ev)
{
        guint fields = RV_TORRENT_FIELD_FILES | RV_TORRENT_FIELD_SIZE;

        /* added from a .torrent or restored: the files were known at add and are in the records */
        if (torrent->has_metadata && torrent->files != NULL)
                return;
        if (ev->name != NULL && !torrent->name_given && g_strcmp0(torrent->name, ev->name) != 0) {
                g_free(torrent->name);
                torrent->name = g_strdup(ev->name);
                fields |= RV_TORRENT_FIELD_NAME;
        }
        torrent->has_metadata = TRUE;
        torrent->total_size = ev->total_size;
        if (ev->files != NULL)
                rv_manager_set_files(torrent, ev->files);
        rv_manager_apply_priorities(self, torrent);
        rv_manager_publish_files(self, torrent);
        /* the name is now known and the info dict must reach the store */
        rv_manager_persist_meta(self, torrent);
        (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
        rv_manager_changed(self, torrent, fields);
}

/*
 * a failed move leaves the torrent running where it was, in the state
 * libtorrent reports (see docs/architecture.md): it shows as the torrent's
 * error until a move is asked for again or works; an error of libtorrent's
 * own comes first
 */
static void
rv_manager_set_move_error(RvManager *self, RvTorrent *torrent, const char *message)
{
        guint fields = 0;

        g_free(torrent->move_error);
        torrent->move_error = g_strdup(message);
        if (torrent->state != RV_TORRENT_STATE_ERROR && g_strcmp0(torrent->error, message) != 0) {
                g_free(torrent->error);
                torrent->error = g_strdup(message);
                fields |= RV_TORRENT_FIELD_ERROR;
        }
        rv_manager_changed(self, torrent, fields);
}

static void
rv_manager_fail(RvManager *self, RvTorrent *torrent, const char *message)
{
        guint fields = RV_TORRENT_FIELD_ERROR;

        g_free(torrent->error);
        torrent->error = g_strdup(message);
        rv_manager_set_state(self, torrent, RV_TORRENT_STATE_ERROR, &fields);
        rv_manager_publish(self, RV_EVENT_TORRENT_FAILED, torrent, message);
        rv_manager_changed(self, torrent, fields);
}

static void rv_manager_complete_requests(GHashTable *table, const RvInfoHash *hash, gpointer answer, GBoxedCopyFunc ref,
                                         GDestroyNotify unref, const GError *error);
static void rv_manager_on_trackers(RvManager *self, RvTorrent *torrent, GPtrArray *trackers);

static void
rv_manager_on_removed(RvManager *self, RvTorrent *torrent)
{
        /* the engine answers nothing more about it: whoever waits hears so */
        g_autoptr(GError) gone =
                g_error_new(RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s left the engine", torrent->hash.hex);

        rv_manager_complete_requests(self->file_requests, &torrent->hash, NULL, NULL, NULL, gone);
        rv_manager_complete_requests(self->tracker_requests, &torrent->hash, NULL, NULL, NULL, gone);
        torrent->in_engine = FALSE;
        if (torrent->removing)
                rv_manager_unregister(self, torrent);
}

static void
rv_manager_engine_event_cb(RvEngine *engine, const RvEngineEvent *ev, gpointer user_data)
{
        RvManager *self = user_data;
        RvTorrent *torrent = NULL;

        switch (ev->kind) {
        case RV_ENGINE_EVENT_PROBE:
                g_signal_emit(self, signals[SIGNAL_ENGINE_ALIVE], 0);
                return;
        case RV_ENGINE_EVENT_LISTEN_SUCCEEDED:
                rv_health_set_ok(self->health, RV_HEALTH_ENGINE);
                g_signal_emit(self, signals[SIGNAL_LISTEN_CHANGED], 0, (guint)ev->listen_port);
                return;
        case RV_ENGINE_EVENT_LISTEN_FAILED:
                rv_health_set_degraded(self->health, RV_HEALTH_ENGINE,
                                       ev->error != NULL ? ev->error->message : "cannot listen for peers");
                return;
        default:
                break;
        }

        torrent = g_hash_table_lookup(self->torrents, ev->hash.hex);
        if (torrent == NULL) {
                g_debug("engine event %s for unknown torrent %s, ignoring", rv_engine_event_kind_to_string(ev->kind),
                        ev->hash.hex);
                /* resume data of a torrent removed meanwhile still counts for a shutdown */
                if (self->shutdown_task != NULL &&
                    (ev->kind == RV_ENGINE_EVENT_RESUME_DATA || ev->kind == RV_ENGINE_EVENT_RESUME_DATA_FAILED))
                        rv_manager_shutdown_step(self);
                return;
        }

        switch (ev->kind) {
        case RV_ENGINE_EVENT_ADDED:
                torrent->in_engine = TRUE;
                if (torrent->removing) {
                        g_autoptr(GError) error = NULL;
                        if (!rv_engine_remove(self->engine, &torrent->hash, FALSE, &error))
                                g_debug("late remove of %s failed: %s", torrent->hash.hex, error->message);
                }
                break;
        case RV_ENGINE_EVENT_ADD_FAILED:
                rv_manager_fail(self, torrent, ev->error != NULL ? ev->error->message : "could not be started");
                break;
        case RV_ENGINE_EVENT_METADATA:
                rv_manager_on_metadata(self, torrent, ev);
                break;
        case RV_ENGINE_EVENT_METADATA_REJECTED: {
                g_autofree char *msg =
                        g_strdup_printf("metadata rejected: %s", ev->error != NULL ? ev->error->message : "invalid");
                torrent->in_engine = FALSE;
                rv_manager_fail(self, torrent, msg);
                break;
        }
        case RV_ENGINE_EVENT_STATUS:
                if (ev->status != NULL && !torrent->removing)
                        rv_manager_on_status(self, torrent, ev->status);
                break;
        case RV_ENGINE_EVENT_FINISHED:
                rv_engine_post_status(self->engine);
                break;
        case RV_ENGINE_EVENT_PAUSED:
                (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
                break;
        case RV_ENGINE_EVENT_RESUMED:
                break;
        case RV_ENGINE_EVENT_REMOVED:
                rv_manager_on_removed(self, torrent);
                break;
        case RV_ENGINE_EVENT_FILES_DELETED:
                g_debug("data of %s deleted", ev->hash.hex);
                break;
        case RV_ENGINE_EVENT_FILES_DELETE_FAILED:
                rv_manager_problem(self, "cannot delete the data of %s: %s", ev->hash.hex,
                                   ev->error != NULL ? ev->error->message : "unknown error");
                break;
        case RV_ENGINE_EVENT_ERROR:
                rv_manager_fail(self, torrent, ev->error != NULL ? ev->error->message : "torrent error");
                break;
        case RV_ENGINE_EVENT_RESUME_DATA:
                torrent->resume_stale = FALSE;
                if (ev->resume_data != NULL && !torrent->removing)
                        rv_store_put_torrent(self->store, &torrent->hash, NULL, ev->resume_data, NULL, NULL);
                if (self->shutdown_task != NULL)
                        rv_manager_shutdown_step(self);
                break;
        case RV_ENGINE_EVENT_RESUME_DATA_FAILED:
                g_debug("no resume data for %s: %s", ev->hash.hex, ev->error != NULL ? ev->error->message : "");
                if (self->shutdown_task != NULL)
                        rv_manager_shutdown_step(self);
                break;
        case RV_ENGINE_EVENT_STORAGE_MOVED:
                g_free(torrent->save_path);
                torrent->save_path = g_strdup(ev->save_path);
                rv_manager_persist_meta(self, torrent);
                (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
                rv_manager_changed(self, torrent, RV_TORRENT_FIELD_SAVE_PATH);
                if (torrent->move_error != NULL)
                        rv_manager_set_move_error(self, torrent, NULL);
                break;
        case RV_ENGINE_EVENT_STORAGE_MOVE_FAILED: {
                const char *message = ev->error != NULL ? ev->error->message : "moving the data failed";
                rv_manager_set_move_error(self, torrent, message);
                /* the daemon logs it, with the torrent's id and name */
                rv_manager_publish(self, RV_EVENT_TORRENT_FAILED, torrent, message);
                break;
        }
        case RV_ENGINE_EVENT_FILE_PROGRESS:
                rv_manager_complete_requests(self->file_requests, &ev->hash, ev->file_progress,
                                             (GBoxedCopyFunc)g_array_ref, (GDestroyNotify)g_array_unref, NULL);
                break;
        case RV_ENGINE_EVENT_TRACKERS:
                rv_manager_on_trackers(self, torrent, ev->trackers);
                break;
        default:
                break;
        }
}

/* construction */

static void
rv_manager_finalize(GObject *object)
{
        RvManager *self = RV_MANAGER(object);

        if (self->resume_timer != 0)
                g_source_remove(self->resume_timer);
        if (self->goal_timer != 0)
                g_source_remove(self->goal_timer);
        if (self->shutdown_timer != 0)
                g_source_remove(self->shutdown_timer);
        if (self->engine != NULL)
                rv_engine_set_event_func(self->engine, NULL, NULL);
        if (self->store != NULL)
                rv_store_set_cluster_funcs(self->store, NULL, NULL);
        /* the event stream may outlive the manager (a teardown's last iterations): it asks it nothing more */
        rv_event_bus_set_lookup(self->events, NULL, NULL);
        {
                /* adds still pending hold the manager through their tasks: these were answered already */
                GHashTableIter iter;
                gpointer add;
                g_hash_table_iter_init(&iter, self->adds_out);
                while (g_hash_table_iter_next(&iter, &add, NULL))
                        ((RvManagerAdd *)add)->self = NULL;
        }
        rv_manager_load_clear(self);
        rv_manager_cluster_clear(self);
        g_hash_table_unref(self->remote);
        g_ptr_array_unref(self->remote_list);
        g_hash_table_unref(self->published);
        g_hash_table_unref(self->pins);
        g_hash_table_unref(self->remote_digest);
        g_strfreev(self->live_nodes);
        g_hash_table_unref(self->loading);
        g_array_unref(self->load_queue);
        g_hash_table_unref(self->adds_out);
        g_hash_table_unref(self->adding);
        g_ptr_array_unref(self->order);
        g_hash_table_unref(self->torrents);
        g_hash_table_unref(self->file_requests);
        g_hash_table_unref(self->tracker_requests);
        rv_manager_config_clear(&self->config);
        G_OBJECT_CLASS(rv_manager_parent_class)->finalize(object);
}

static void
rv_manager_class_init(RvManagerClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->finalize = rv_manager_finalize;
        signals[SIGNAL_ENGINE_ALIVE] = g_signal_new("engine-alive", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                    NULL, NULL, NULL, G_TYPE_NONE, 0);
        signals[SIGNAL_LISTEN_CHANGED] = g_signal_new("listen-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
        signals[SIGNAL_PROBLEM] = g_signal_new("problem", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                               NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
        /* every stored torrent is listed (some still loading); the load finishes once the engine has them all */
        signals[SIGNAL_LISTED] = g_signal_new("listed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                              NULL, G_TYPE_NONE, 0);
}

void
rv_manager_emit_listed(RvManager *self)
{
        g_signal_emit(self, signals[SIGNAL_LISTED], 0);
}

static void
rv_manager_init(RvManager *self)
{
        self->torrents = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_torrent_free);
        self->order = g_ptr_array_new();
        self->adding = g_hash_table_new(g_str_hash, g_str_equal);
        self->adds_out = g_hash_table_new(NULL, NULL);
        self->file_requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        self->tracker_requests =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        /* keyed by the record's own hash */
        self->loading = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_store_torrent_free);
        self->load_queue = g_array_new(FALSE, FALSE, sizeof(RvInfoHash));
        self->remote = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_torrent_free);
        self->remote_list = g_ptr_array_new();
        self->published = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->pins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->remote_digest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        rv_manager_config_init(&self->config);
}

static gboolean
rv_manager_resume_timer_cb(gpointer user_data)
{
        RvManager *self = user_data;

        (void)rv_engine_save_resume_all(self->engine, TRUE);
        return G_SOURCE_CONTINUE;
}

void
rv_manager_set_config(RvManager *self, const RvManagerConfig *config)
{
        gboolean interval_changed = self->config.resume_save_interval_s != config->resume_save_interval_s;

        rv_manager_config_copy(&self->config, config);
        rv_event_bus_set_progress_interval(self->events, config->progress_interval_ms);
        /* always running: a torrent may have goals of its own (share limits) */
        if (self->goal_timer == 0)
                self->goal_timer = g_timeout_add_seconds(30, rv_manager_goal_timer_cb, self);
        /* a new goal applies to what is seeding now, not in half a minute */
        if (config->seed_ratio > 0 || config->seed_time_s > 0)
                (void)rv_manager_goal_timer_cb(self);
        if (interval_changed || self->resume_timer == 0) {
                if (self->resume_timer != 0)
                        g_source_remove(self->resume_timer);
                self->resume_timer =
                        g_timeout_add_seconds(MAX(config->resume_save_interval_s, 1), rv_manager_resume_timer_cb, self);
        }
}

const RvManagerConfig *
rv_manager_get_config(RvManager *self)
{
        return &self->config;
}

static const RvTorrent *
rv_manager_lookup_cb(const RvInfoHash *hash, gpointer user_data)
{
        return rv_manager_lookup(user_data, hash);
}

RvManager *
rv_manager_new(RvEngine *engine, RvStore *store, RvHealth *health, RvEventBus *events, const RvManagerConfig *config)
{
        RvManager *self = g_object_new(RV_TYPE_MANAGER, NULL);

        self->engine = engine;
        self->store = store;
        self->health = health;
        self->events = events;
        rv_event_bus_set_lookup(events, rv_manager_lookup_cb, self);
        rv_manager_set_config(self, config);
        rv_engine_set_event_func(engine, rv_manager_engine_event_cb, self);
        return self;
}

RvEngine *
rv_manager_get_engine(RvManager *self)
{
        return self->engine;
}

RvEventBus *
rv_manager_get_events(RvManager *self)
{
        return self->events;
}

RvHealth *
rv_manager_get_health(RvManager *self)
{
        return self->health;
}

/* adding */

static RvEngineSource *
rv_manager_make_source(RvManager *self, const RvAddRequest *request, GError **error)
{
        if ((request->magnet != NULL) == (request->torrent != NULL)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "give exactly one of a magnet link and torrent data");
                return NULL;
        }
        if (request->magnet != NULL) {
                if (strlen(request->magnet) > RV_MANAGER_MAX_MAGNET_LEN) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "magnet: longer than %d bytes",
                                    RV_MANAGER_MAX_MAGNET_LEN);
                        return NULL;
                }
                return rv_engine_source_new_magnet(self->engine, request->magnet, error);
        }
        return rv_engine_source_new_torrent(self->engine, request->torrent, error);
}

static gboolean
rv_manager_validate_request(RvManager *self, const RvAddRequest *request, GError **error)
{
        guint n_peers = request->peers != NULL ? g_strv_length((GStrv)request->peers) : 0;

        if (request->save_path != NULL &&
            (!rv_validate_save_path(request->save_path, "save_path", error) ||
             !rv_manager_check_path_allowed(self, request->save_path, "save_path", error)))
                return FALSE;
        if (!rv_validate_labels(request->labels, error))
                return FALSE;
        if (request->name != NULL && !rv_validate_torrent_name(request->name, "name", error))
                return FALSE;
        if (!rv_validate_content_layout(request->content_layout, "content_layout", NULL, error))
                return FALSE;
        if (!rv_validate_limit(request->download_limit, "download_limit", error) ||
            !rv_validate_limit(request->upload_limit, "upload_limit", error))
                return FALSE;
        if (request->share_limits && !rv_validate_share_limits(request->ratio_limit, request->seeding_time_limit,
                                                               request->inactive_seeding_time_limit, error))
                return FALSE;
        if (n_peers > RV_MANAGER_MAX_PEERS) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "peers: %u given, at most %d allowed", n_peers,
                            RV_MANAGER_MAX_PEERS);
                return FALSE;
        }
        return TRUE;
}

/*
 * the peers a user named, from the options and a magnet's x.pe (checked by
 * the engine's parser with the rule of the options): libtorrent does not keep
 * them in its resume data, and without trackers or the DHT a restarted
 * torrent would have nobody to talk to
 */
static GStrv
rv_manager_named_peers(const RvAddRequest *request, const RvEngineSourceInfo *info)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        guint n = 0;

        for (guint i = 0; request->peers != NULL && request->peers[i] != NULL; i++, n++)
                g_strv_builder_add(builder, request->peers[i]);
        for (guint i = 0; info->peers != NULL && info->peers[i] != NULL && n < RV_MANAGER_MAX_PEERS; i++, n++)
                g_strv_builder_add(builder, info->peers[i]);
        return g_strv_builder_end(builder);
}

/*
 * An add is acknowledged only once its records are durable, and a torrent
 * the caller was told failed must leave nothing behind. So the records go
 * to the store first, while the torrent is held here with its hash taken
 * (another add of it is a Conflict); only when the store confirms the
 * write does the torrent enter the registry, the engine and the bus. A
 * failed write, or one the store has not confirmed within add_timeout_ms
 * (PostgreSQL away), is an Unavailable error, and a delete of the records
 * is queued behind the write: the store replaces a queued write with it,
 * or runs it after the write in flight, so a late write never leaves a
 * stored torrent the caller was told about as failed.
 */

/* what a transport built for the add goes: the add failed */
static void
rv_manager_add_untell(RvManagerAdd *add)
{
        RvManager *self = add->self;

        if (add->told && self != NULL && self->adding_func != NULL)
                self->adding_func(self, &add->hash, NULL, self->adding_data);
        add->told = FALSE;
}

static void
rv_manager_add_free(RvManagerAdd *add)
{
        /* not registered: whatever was built for it is not sent */
        if (add->torrent != NULL)
                rv_manager_add_untell(add);
        if (add->timer != 0)
                g_source_remove(add->timer);
        g_clear_object(&add->task);
        rv_torrent_free(add->torrent);
        rv_engine_source_free(add->source);
        g_strfreev(add->peers);
        g_free(add->prio);
        if (add->resume != NULL)
                g_bytes_unref(add->resume);
        g_free(add);
}

static void
rv_manager_add_options(RvManagerAdd *add, RvEngineAddOptions *options)
{
        rv_engine_add_options_init(options);
        options->save_path = add->torrent->save_path;
        options->paused = add->torrent->user_paused;
        options->sequential = add->torrent->sequential;
        options->seed_mode = add->skip_checking;
        options->first_last_piece = add->torrent->first_last_piece;
        options->content_layout = add->torrent->content_layout;
        options->download_limit = add->torrent->download_limit;
        options->upload_limit = add->torrent->upload_limit;
        options->added_time = add->torrent->added_time;
        options->peers = (const char *const *)add->peers;
        options->file_priorities = add->prio;
        options->n_file_priorities = add->n_prio;
}

/* the add is over for the caller: the hash is free again and the task hears the outcome */
static void
rv_manager_add_answer(RvManagerAdd *add, GError *error)
{
        RvManager *self = add->self;
        GTask *task = g_steal_pointer(&add->task);

        if (add->timer != 0) {
                g_source_remove(add->timer);
                add->timer = 0;
        }
        g_hash_table_remove(self->adding, add->hash.hex);
        if (error != NULL) {
                rv_manager_add_untell(add);
                /* whatever of the records reached the store goes, after the write (or instead of it) */
                rv_store_delete_torrent(self->store, &add->hash, NULL, NULL);
                g_task_return_error(task, error);
        } else {
                g_task_return_boolean(task, TRUE);
        }
        g_object_unref(task);
}

/*
 * a paused add with its metadata stays out of libtorrent, as a paused
 * torrent does after a restart: libtorrent's torrent and storage cost memory
 * and a look at the disk per add, and nothing runs until a resume. The first
 * command that needs the engine hands it over (rv_manager_load_now) from the
 * resume data just stored; until then it has nothing on disk to show (the
 * check of data already there comes with the hand-over).
 */
static void
rv_manager_park_added(RvManager *self, RvManagerAdd *add)
{
        rv_manager_keep_record(self, &add->hash, g_steal_pointer(&add->resume));
        add->torrent->parked = TRUE;
        g_clear_pointer(&add->source, rv_engine_source_free);
}

static void
rv_manager_add_stored_cb(const GError *error, gpointer user_data)
{
        RvManagerAdd *add = user_data;
        RvManager *self = add->self;
        g_autoptr(GError) engine_error = NULL;
        RvEngineAddOptions options;
        RvTorrent *torrent;

        if (self != NULL)
                g_hash_table_remove(self->adds_out, add);
        /* answered already (timed out) or the manager is gone: the delete queued then has the last word */
        if (self == NULL || add->task == NULL) {
                rv_manager_add_free(add);
                return;
        }
        if (error != NULL) {
                /* refused by fencing: another node owns the info hash (docs/cluster.md) */
                rv_manager_add_answer(
                        add, g_error_new(RV_ERROR,
                                         error->code == RV_ERROR_CONFLICT ? RV_ERROR_CONFLICT : RV_ERROR_UNAVAILABLE,
                                         "the torrent's records could not be stored: %s", error->message));
                rv_manager_add_free(add);
                return;
        }
        if (add->park) {
                rv_manager_park_added(self, add);
        } else {
                rv_manager_add_options(add, &options);
                if (!rv_engine_add(self->engine, g_steal_pointer(&add->source), &options, &engine_error)) {
                        rv_manager_add_answer(add, g_steal_pointer(&engine_error));
                        rv_manager_add_free(add);
                        return;
                }
        }
        torrent = g_steal_pointer(&add->torrent);
        rv_manager_register(self, torrent);
        rv_manager_publish(self, RV_EVENT_TORRENT_ADDED, torrent, NULL);
        if (torrent->files != NULL)
                rv_manager_publish_files(self, torrent);
        rv_manager_add_answer(add, NULL);
        rv_manager_add_free(add);
}

static gboolean
rv_manager_add_timeout_cb(gpointer user_data)
{
        RvManagerAdd *add = user_data;
        RvManager *self = add->self;
        const char *reason = rv_health_get_reason(self->health, RV_HEALTH_STORE);
        guint timeout_ms = self->config.add_timeout_ms;

        add->timer = 0;
        rv_manager_add_answer(add, g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                               "the torrent was not added: its records were not stored within "
                                               "%u.%u s%s%s%s",
                                               timeout_ms / 1000, timeout_ms % 1000 / 100, reason != NULL ? " (" : "",
                                               reason != NULL ? reason : "", reason != NULL ? ")" : ""));
        return G_SOURCE_REMOVE;
}

void
rv_manager_add_async(RvManager *self, const RvAddRequest *request, GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
        g_autoptr(RvEngineSource) source = NULL;
        g_autoptr(RvTorrent) torrent = NULL;
        g_autoptr(GBytes) resume = NULL;
        g_autoptr(GError) error = NULL;
        const RvEngineSourceInfo *info;
        char *meta;
        gsize meta_len = 0;
        RvEngineAddOptions options;
        RvManagerAdd *add;
        RvTorrent *existing;
        RvInfoHash hash;
        RvContentLayout layout = RV_CONTENT_LAYOUT_ORIGINAL;

        if (self->stopping) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_UNAVAILABLE, "the service is shutting down");
                return;
        }
        if (!rv_manager_validate_request(self, request, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        source = rv_manager_make_source(self, request, &error);
        if (source == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        /* validated above; the file list below then has the paths the files get on disk */
        (void)rv_validate_content_layout(request->content_layout, "content_layout", &layout, NULL);
        rv_engine_source_set_content_layout(source, layout);
        info = rv_engine_source_get_info(source);
        existing = g_hash_table_lookup(self->torrents, info->hash.hex);
        if (existing != NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s ('%s') is already present",
                                        info->hash.hex, existing->name != NULL ? existing->name : info->hash.hex);
                return;
        }
        add = g_hash_table_lookup(self->adding, info->hash.hex);
        if (add != NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s ('%s') is being added",
                                        info->hash.hex,
                                        add->torrent->name != NULL ? add->torrent->name : info->hash.hex);
                return;
        }
        /* a cluster's placement rule may send it to another node (docs/cluster.md) */
        if (rv_manager_place_elsewhere(self, request, &info->hash, task))
                return;

        torrent = rv_torrent_new(&info->hash);
        torrent->name = g_strdup(request->name != NULL ? request->name : info->name);
        torrent->name_given = request->name != NULL;
        torrent->magnet = g_strdup(request->magnet);
        torrent->peers = rv_manager_named_peers(request, info);
        torrent->save_path = g_strdup(request->save_path != NULL ? request->save_path : self->config.download_dir);
        torrent->sequential = request->sequential >= 0 ? request->sequential != 0 : self->config.sequential_default;
        torrent->user_paused = request->paused;
        torrent->state = request->paused
                                 ? RV_TORRENT_STATE_PAUSED
                                 : (info->has_metadata ? RV_TORRENT_STATE_QUEUED : RV_TORRENT_STATE_FETCHING_METADATA);
        torrent->download_limit = request->download_limit;
        torrent->upload_limit = request->upload_limit;
        torrent->first_last_piece = request->first_last_piece;
        torrent->content_layout = layout;
        if (request->share_limits) {
                torrent->ratio_limit = request->ratio_limit;
                torrent->seeding_time_limit = request->seeding_time_limit;
                torrent->inactive_seeding_time_limit = request->inactive_seeding_time_limit;
        }
        g_strfreev(torrent->labels);
        torrent->labels = g_strdupv((GStrv)(request->labels != NULL ? request->labels : (const char *const[]){ NULL }));
        torrent->selection = request->selection != NULL ? rv_selection_copy(request->selection) : NULL;
        torrent->fs_overrides = request->fs_overrides != NULL ? json_node_copy(request->fs_overrides) : NULL;
        torrent->added_time = g_get_real_time() / G_USEC_PER_SEC;
        torrent->has_metadata = info->has_metadata;
        torrent->trackers_count = info->n_trackers;
        torrent->total_size = info->total_size;
        torrent->wanted_size = info->total_size;
        if (info->files != NULL)
                rv_manager_set_files(torrent, info->files);

        add = g_new0(RvManagerAdd, 1);
        add->self = self;
        add->hash = info->hash;
        add->torrent = g_steal_pointer(&torrent);
        add->peers = g_strdupv((GStrv)request->peers);
        add->skip_checking = request->skip_checking;
        add->park = request->paused && !request->skip_checking && info->has_metadata;
        add->prio = rv_torrent_compute_priorities(add->torrent, &add->n_prio);
        rv_manager_add_options(add, &options);
        resume = rv_engine_source_write_resume(source, &options, &error);
        if (resume == NULL) {
                rv_manager_add_free(add);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        meta = rv_torrent_meta_to_text(add->torrent, &meta_len);
        if (add->park && !rv_store_can_read_resume(self->store))
                add->resume = g_bytes_ref(resume);
        add->source = g_steal_pointer(&source);
        add->task = g_steal_pointer(&task);
        g_task_set_task_data(add->task, g_memdup2(&info->hash, sizeof(RvInfoHash)), g_free);
        add->timer = g_timeout_add(MAX(self->config.add_timeout_ms, 1), rv_manager_add_timeout_cb, add);
        g_hash_table_insert(self->adding, add->hash.hex, add);
        g_hash_table_add(self->adds_out, add);
        hash = add->hash;
        rv_store_put_torrent_text(self->store, &add->hash, meta, meta_len, resume, rv_manager_add_stored_cb, add);
        /* the disk has the records now (unless the store answered at once, and the add is over) */
        add = g_hash_table_lookup(self->adding, hash.hex);
        if (add != NULL && self->adding_func != NULL) {
                add->told = TRUE;
                self->adding_func(self, &add->hash, add->torrent, self->adding_data);
        }
}

/*
 * the stop is over: adds the store has not confirmed fail now, and their
 * confirmations, should they still come, find no manager
 */
void
rv_manager_abandon_adds(RvManager *self)
{
        g_autoptr(GPtrArray) open = g_ptr_array_new();
        GHashTableIter iter;
        gpointer add;

        g_hash_table_iter_init(&iter, self->adding);
        while (g_hash_table_iter_next(&iter, NULL, &add))
                g_ptr_array_add(open, add);
        for (guint i = 0; i < open->len; i++)
                rv_manager_add_answer(g_ptr_array_index(open, i),
                                      g_error_new_literal(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                                          "the service stopped before the torrent's records were "
                                                          "stored; it was not added"));
        g_hash_table_iter_init(&iter, self->adds_out);
        while (g_hash_table_iter_next(&iter, &add, NULL))
                ((RvManagerAdd *)add)->self = NULL;
        g_hash_table_remove_all(self->adds_out);
}

RvTorrent *
rv_manager_add_finish(RvManager *self, GAsyncResult *result, GError **error)
{
        GTask *task = G_TASK(result);
        const RvInfoHash *hash = g_task_get_task_data(task);
        RvTorrent *torrent;

        g_return_val_if_fail(g_task_is_valid(result, self), NULL);
        if (!g_task_propagate_boolean(task, error))
                return NULL;
        torrent = rv_manager_lookup_listed(self, hash);
        if (torrent == NULL)
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s was removed before its add completed",
                            hash->hex);
        return torrent;
}

/* queries */

RvTorrent *
rv_manager_lookup(RvManager *self, const RvInfoHash *hash)
{
        return g_hash_table_lookup(self->torrents, hash->hex);
}

RvTorrent *
rv_manager_resolve(RvManager *self, const char *ref, GError **error)
{
        RvTorrent *found = NULL;
        g_autofree char *lower = NULL;
        gboolean hexish;
        guint n = 0;

        if (ref == NULL || ref[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "empty torrent reference");
                return NULL;
        }
        lower = g_ascii_strdown(ref, -1);
        found = g_hash_table_lookup(self->torrents, lower);
        if (found != NULL)
                return found;
        hexish = strspn(lower, "0123456789abcdef") == strlen(lower) && strlen(lower) >= 4;
        for (guint i = 0; i < self->order->len; i++) {
                RvTorrent *t = g_ptr_array_index(self->order, i);
                if ((hexish && g_str_has_prefix(t->hash.hex, lower)) || g_strcmp0(t->name, ref) == 0) {
                        found = t;
                        n++;
                }
        }
        if (n == 1)
                return found;
        if (n == 0)
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "no torrent matches '%s'", ref);
        else
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "'%s' matches %u torrents", ref, n);
        return NULL;
}

GPtrArray *
rv_manager_list(RvManager *self)
{
        return self->order;
}

/*
 * how many torrents have been freed since the start: a torrent pointer taken
 * from rv_manager_list() stays valid for as long as this says the same
 */
guint64
rv_manager_get_forgotten(RvManager *self)
{
        return self->forgotten;
}

guint
rv_manager_get_count(RvManager *self)
{
        return self->order->len;
}

void
rv_manager_count_by_state(RvManager *self, guint ret_counts[RV_TORRENT_STATE_LAST])
{
        memset(ret_counts, 0, sizeof(guint) * RV_TORRENT_STATE_LAST);
        for (guint i = 0; i < self->order->len; i++) {
                RvTorrent *t = g_ptr_array_index(self->order, i);
                ret_counts[t->state]++;
        }
}

void
rv_manager_get_rates(RvManager *self, gint64 *ret_download, gint64 *ret_upload)
{
        gint64 down = 0;
        gint64 up = 0;

        for (guint i = 0; i < self->order->len; i++) {
                RvTorrent *t = g_ptr_array_index(self->order, i);
                down += t->download_rate;
                up += t->upload_rate;
        }
        *ret_download = down;
        *ret_upload = up;
}

/* commands */

static gboolean
rv_manager_check_live(RvManager *self, RvTorrent *torrent, GError **error)
{
        /* a command does not wait for the load to reach the torrent */
        if (!rv_manager_load_now(self, torrent, error))
                return FALSE;
        if (torrent->removing) {
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is being removed", torrent->hash.hex);
                return FALSE;
        }
        if (!torrent->in_engine && torrent->state == RV_TORRENT_STATE_ERROR) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s failed: %s", torrent->hash.hex,
                            torrent->error != NULL ? torrent->error : "unknown error");
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_manager_pause(RvManager *self, RvTorrent *torrent, GError **error)
{
        guint fields = 0;

        /* paused already, and out of the engine: nothing to hand over for that */
        if (torrent->parked && !torrent->removing)
                return TRUE;
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!rv_engine_pause(self->engine, &torrent->hash, error))
                return FALSE;
        if (!torrent->user_paused || torrent->force_start) {
                torrent->user_paused = TRUE;
                torrent->force_start = FALSE;
                fields |= RV_TORRENT_FIELD_FLAGS;
                rv_manager_persist_meta(self, torrent);
        }
        rv_manager_set_state(self, torrent, RV_TORRENT_STATE_PAUSED, &fields);
        rv_manager_changed(self, torrent, fields);
        return TRUE;
}

gboolean
rv_manager_resume(RvManager *self, RvTorrent *torrent, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!rv_engine_resume(self->engine, &torrent->hash, error))
                return FALSE;
        if (torrent->user_paused || torrent->force_start) {
                torrent->user_paused = FALSE;
                if (torrent->force_start) {
                        torrent->force_start = FALSE;
                        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FLAGS);
                }
                rv_manager_persist_meta(self, torrent);
        }
        rv_engine_post_status(self->engine);
        return TRUE;
}

/*
 * force start as qBittorrent has it: the torrent is taken out of
 * libtorrent's queue (not auto-managed) and runs even when active_downloads
 * or active_seeds are reached; a paused one starts. Off gives it back to the
 * queue; on a paused torrent there is nothing to give back
 */
gboolean
rv_manager_set_force_start(RvManager *self, RvTorrent *torrent, gboolean force, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!force && (torrent->user_paused || !torrent->force_start))
                return TRUE;
        if (!rv_engine_set_force_start(self->engine, &torrent->hash, force, error))
                return FALSE;
        torrent->force_start = force;
        torrent->user_paused = FALSE;
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FLAGS);
        rv_engine_post_status(self->engine);
        return TRUE;
}

gboolean
rv_manager_set_super_seeding(RvManager *self, RvTorrent *torrent, gboolean on, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (torrent->super_seeding == on)
                return TRUE;
        if (!rv_engine_set_super_seeding(self->engine, &torrent->hash, on, error))
                return FALSE;
        torrent->super_seeding = on;
        rv_manager_persist_meta(self, torrent);
        (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FLAGS);
        return TRUE;
}

gboolean
rv_manager_set_first_last_piece(RvManager *self, RvTorrent *torrent, gboolean on, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (torrent->first_last_piece == on)
                return TRUE;
        if (!rv_engine_set_first_last_piece(self->engine, &torrent->hash, on, error))
                return FALSE;
        torrent->first_last_piece = on;
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FLAGS);
        return TRUE;
}

gboolean
rv_manager_remove(RvManager *self, RvTorrent *torrent, gboolean delete_data, GError **error)
{
        if (torrent->removing) {
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is already being removed",
                            torrent->hash.hex);
                return FALSE;
        }
        if (!rv_manager_load_now(self, torrent, error))
                return FALSE;
        if (!torrent->in_engine && torrent->state == RV_TORRENT_STATE_ERROR) {
                /* never made it into the session (rejected or failed add): nothing to wait for */
                rv_manager_unregister(self, torrent);
                return TRUE;
        }
        if (!rv_engine_remove(self->engine, &torrent->hash, delete_data, error))
                return FALSE;
        torrent->removing = TRUE;
        return TRUE;
}

gboolean
rv_manager_recheck(RvManager *self, RvTorrent *torrent, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        return rv_engine_recheck(self->engine, &torrent->hash, error);
}

gboolean
rv_manager_reannounce(RvManager *self, RvTorrent *torrent, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        return rv_engine_reannounce(self->engine, &torrent->hash, error);
}

gboolean
rv_manager_set_sequential(RvManager *self, RvTorrent *torrent, gboolean sequential, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!rv_engine_set_sequential(self->engine, &torrent->hash, sequential, error))
                return FALSE;
        if (torrent->sequential != sequential) {
                torrent->sequential = sequential;
                torrent->sequential_pending = TRUE;
                rv_manager_persist_meta(self, torrent);
                (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
                rv_manager_changed(self, torrent, RV_TORRENT_FIELD_SEQUENTIAL);
        }
        return TRUE;
}

gboolean
rv_manager_set_limits(RvManager *self, RvTorrent *torrent, gint64 download_limit, gint64 upload_limit, GError **error)
{
        if (!rv_validate_limit(download_limit, "download_limit", error) ||
            !rv_validate_limit(upload_limit, "upload_limit", error))
                return FALSE;
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!rv_engine_set_limits(self->engine, &torrent->hash, download_limit, upload_limit, error))
                return FALSE;
        torrent->download_limit = download_limit;
        torrent->upload_limit = upload_limit;
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_LIMITS);
        return TRUE;
}

gboolean
rv_manager_set_labels(RvManager *self, RvTorrent *torrent, const char *const *labels, GError **error)
{
        if (!rv_validate_labels(labels, error))
                return FALSE;
        g_strfreev(torrent->labels);
        torrent->labels = g_strdupv((GStrv)(labels != NULL ? labels : (const char *const[]){ NULL }));
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_LABELS);
        return TRUE;
}

gboolean
rv_manager_set_share_limits(RvManager *self, RvTorrent *torrent, double ratio, gint64 minutes, gint64 inactive_minutes,
                            GError **error)
{
        if (!rv_validate_share_limits(ratio, minutes, inactive_minutes, error))
                return FALSE;
        torrent->ratio_limit = ratio;
        torrent->seeding_time_limit = minutes;
        torrent->inactive_seeding_time_limit = inactive_minutes;
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_LIMITS);
        /* a goal already met applies now, not at the next round */
        rv_manager_check_goal(self, torrent);
        return TRUE;
}

gboolean
rv_manager_set_selection(RvManager *self, RvTorrent *torrent, const RvSelection *selection, GError **error)
{
        JsonNode *data;

        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        rv_selection_free(torrent->selection);
        torrent->selection = selection != NULL ? rv_selection_copy(selection) : NULL;
        /* new rules replace earlier per-file choices */
        g_clear_pointer(&torrent->priority_overrides, g_hash_table_unref);
        rv_manager_apply_priorities(self, torrent);
        rv_manager_persist_meta(self, torrent);
        (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
        data = rv_manager_event_payload(torrent);
        json_object_set_member(json_node_get_object(data), "selection", rv_selection_to_json(torrent->selection));
        rv_event_bus_publish(self->events, RV_EVENT_SELECTION_CHANGED, &torrent->hash, data);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_SELECTION | RV_TORRENT_FIELD_FILES);
        return TRUE;
}

gboolean
rv_manager_set_file_priorities(RvManager *self, RvTorrent *torrent, const guint32 *indexes, const guint8 *priorities,
                               gsize n, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (torrent->files == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s has no metadata yet", torrent->hash.hex);
                return FALSE;
        }
        if (!rv_validate_file_priorities_n(indexes, priorities, n, torrent->files->len, error))
                return FALSE;
        if (torrent->priority_overrides == NULL)
                torrent->priority_overrides = g_hash_table_new(NULL, NULL);
        for (gsize i = 0; i < n; i++)
                g_hash_table_insert(torrent->priority_overrides, GUINT_TO_POINTER(indexes[i]),
                                    GUINT_TO_POINTER((guint)priorities[i]));
        rv_manager_apply_priorities(self, torrent);
        rv_manager_persist_meta(self, torrent);
        (void)rv_engine_save_resume(self->engine, &torrent->hash, FALSE);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FILES);
        return TRUE;
}

/*
 * libtorrent moves the data on its disk thread, long after the reply: what
 * can be known now is checked now. The target is a directory the daemon may
 * write, or it can be created in the nearest directory that exists
 */
static gboolean
rv_manager_check_move_target(const char *path, GError **error)
{
        g_autofree char *dir = g_strdup(path);
        struct stat st;

        while (stat(dir, &st) < 0) {
                int errsv = errno;
                g_autofree char *parent = g_path_get_dirname(dir);

                if (errsv != ENOENT || g_strcmp0(parent, dir) == 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "save_path: cannot use '%s': %s", path,
                                    g_strerror(errsv));
                        return FALSE;
                }
                g_free(dir);
                dir = g_steal_pointer(&parent);
        }
        if (!S_ISDIR(st.st_mode)) {
                if (g_strcmp0(dir, path) == 0)
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "save_path: '%s' is not a directory",
                                    path);
                else
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "save_path: cannot create '%s': '%s' is not a directory", path, dir);
                return FALSE;
        }
        if (access(dir, W_OK | X_OK) < 0) {
                int errsv = errno;
                if (g_strcmp0(dir, path) == 0)
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "save_path: cannot write to '%s': %s",
                                    path, g_strerror(errsv));
                else
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "save_path: cannot create '%s' in '%s': %s", path, dir, g_strerror(errsv));
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_manager_move_storage(RvManager *self, RvTorrent *torrent, const char *save_path, GError **error)
{
        if (!rv_validate_save_path(save_path, "save_path", error) ||
            !rv_manager_check_path_allowed(self, save_path, "save_path", error))
                return FALSE;
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (!rv_manager_check_move_target(save_path, error))
                return FALSE;
        if (!rv_engine_move_storage(self->engine, &torrent->hash, save_path, error))
                return FALSE;
        /* a new attempt: the last failure no longer holds, and a failure of this one shows as a change */
        if (torrent->move_error != NULL)
                rv_manager_set_move_error(self, torrent, NULL);
        return TRUE;
}

/* the post-download pipeline */

void
rv_manager_fs_changed(RvManager *self, RvTorrent *torrent)
{
        if (torrent->removing)
                return;
        rv_manager_persist_meta(self, torrent);
        rv_manager_changed(self, torrent, RV_TORRENT_FIELD_FSOPS);
}

void
rv_manager_set_adding_func(RvManager *self, RvManagerAddingFunc func, gpointer user_data)
{
        self->adding_func = func;
        self->adding_data = user_data;
}

void
rv_manager_set_fs_retry_func(RvManager *self, RvManagerFsRetryFunc func, gpointer user_data)
{
        self->fs_retry = func;
        self->fs_retry_data = user_data;
}

gboolean
rv_manager_fs_retry(RvManager *self, RvTorrent *torrent, GError **error)
{
        if (!rv_manager_check_live(self, torrent, error))
                return FALSE;
        if (self->fs_retry == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "the file pipeline is not running");
                return FALSE;
        }
        return self->fs_retry(torrent, self->fs_retry_data, error);
}

/* pausing or resuming every torrent, a slice per main-loop iteration */

#define RV_MANAGER_SLICE_USEC 2000
#define RV_MANAGER_SLICE_TORRENTS 256

typedef struct {
        /* RvInfoHash, the torrents when the call came */
        GArray *hashes;
        guint next;
        gboolean pause;
} RvAllData;

static void
rv_all_data_free(RvAllData *data)
{
        g_array_unref(data->hashes);
        g_free(data);
}

static gboolean
rv_manager_all_slice_cb(gpointer user_data)
{
        GTask *task = user_data;
        RvManager *self = g_task_get_source_object(task);
        RvAllData *data = g_task_get_task_data(task);
        gint64 deadline = g_get_monotonic_time() + RV_MANAGER_SLICE_USEC;

        for (guint done = 0; data->next < data->hashes->len && done < RV_MANAGER_SLICE_TORRENTS; done++) {
                const RvInfoHash *hash = &g_array_index(data->hashes, RvInfoHash, data->next++);
                RvTorrent *t = rv_manager_lookup(self, hash);
                g_autoptr(GError) error = NULL;
                if (t == NULL || t->user_paused == data->pause || t->removing ||
                    (!t->in_engine && t->state != RV_TORRENT_STATE_LOADING && !t->parked))
                        continue;
                if (data->pause ? !rv_manager_pause(self, t, &error) : !rv_manager_resume(self, t, &error))
                        g_debug("cannot %s %s: %s", data->pause ? "pause" : "resume", t->hash.hex, error->message);
                if (g_get_monotonic_time() >= deadline)
                        break;
        }
        if (data->next < data->hashes->len)
                return G_SOURCE_CONTINUE;
        g_task_return_boolean(task, TRUE);
        return G_SOURCE_REMOVE;
}

void
rv_manager_set_all_paused_async(RvManager *self, gboolean pause, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        RvAllData *data = g_new0(RvAllData, 1);
        GSource *source;

        data->pause = pause;
        data->hashes = g_array_sized_new(FALSE, FALSE, sizeof(RvInfoHash), self->order->len);
        for (guint i = 0; i < self->order->len; i++) {
                const RvTorrent *t = g_ptr_array_index(self->order, i);
                g_array_append_val(data->hashes, t->hash);
        }
        g_task_set_task_data(task, data, (GDestroyNotify)rv_all_data_free);
        /* a few torrents are done at once, as before */
        if (!rv_manager_all_slice_cb(task)) {
                g_object_unref(task);
                return;
        }
        source = g_idle_source_new();
        /* not idle priority: a busy loop must not starve it */
        g_source_set_priority(source, G_PRIORITY_DEFAULT);
        g_source_set_callback(source, rv_manager_all_slice_cb, task, g_object_unref);
        g_source_set_static_name(source, "revaer pause or resume all");
        g_source_attach(source, NULL);
        g_source_unref(source);
}

gboolean
rv_manager_set_all_paused_finish(RvManager *self, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* files and trackers: asked of the engine once however many wait, answered by its event */

static void
rv_manager_request_engine(RvManager *self, GHashTable *table, RvTorrent *torrent, GTask *task,
                          gboolean (*request)(RvEngine *engine, const RvInfoHash *hash, GError **error))
{
        g_autoptr(GError) error = NULL;
        GPtrArray *waiting = g_hash_table_lookup(table, torrent->hash.hex);

        if (waiting == NULL) {
                if (!request(self->engine, &torrent->hash, &error)) {
                        g_task_return_error(task, g_steal_pointer(&error));
                        g_object_unref(task);
                        return;
                }
                waiting = g_ptr_array_new_with_free_func(g_object_unref);
                g_hash_table_insert(table, g_strdup(torrent->hash.hex), waiting);
        }
        g_ptr_array_add(waiting, task);
}

static void
rv_manager_complete_requests(GHashTable *table, const RvInfoHash *hash, gpointer answer, GBoxedCopyFunc ref,
                             GDestroyNotify unref, const GError *error)
{
        GPtrArray *waiting = NULL;
        gpointer key = NULL;

        if (!g_hash_table_steal_extended(table, hash->hex, &key, (gpointer *)&waiting))
                return;
        g_free(key);
        for (guint i = 0; i < waiting->len; i++) {
                GTask *task = g_ptr_array_index(waiting, i);
                if (error != NULL)
                        g_task_return_error(task, g_error_copy(error));
                else
                        g_task_return_pointer(task, answer != NULL ? ref(answer) : NULL, unref);
        }
        g_ptr_array_unref(waiting);
}

void
rv_manager_list_files_async(RvManager *self, RvTorrent *torrent, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
        g_autoptr(GError) error = NULL;

        g_task_set_task_data(task, g_strdup(torrent->hash.hex), g_free);
        if (!rv_manager_load_now(self, torrent, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (torrent->files == NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s has no metadata yet",
                                        torrent->hash.hex);
                return;
        }
        if (!torrent->in_engine) {
                /* nothing to ask: report the list without progress */
                g_task_return_pointer(task, NULL, NULL);
                return;
        }
        rv_manager_request_engine(self, self->file_requests, torrent, g_steal_pointer(&task),
                                  rv_engine_request_file_progress);
}

/* the count follows what libtorrent says: a magnet's metadata may name more trackers than its link */
static void
rv_manager_on_trackers(RvManager *self, RvTorrent *torrent, GPtrArray *trackers)
{
        if (trackers != NULL && torrent->trackers_count != trackers->len) {
                torrent->trackers_count = trackers->len;
                rv_manager_changed(self, torrent, RV_TORRENT_FIELD_TRACKER);
        }
        rv_manager_complete_requests(self->tracker_requests, &torrent->hash, trackers, (GBoxedCopyFunc)g_ptr_array_ref,
                                     (GDestroyNotify)g_ptr_array_unref, NULL);
}

void
rv_manager_list_trackers_async(RvManager *self, RvTorrent *torrent, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
        g_autoptr(GError) error = NULL;

        if (!rv_manager_load_now(self, torrent, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (!torrent->in_engine) {
                /* not in the session: nothing announced */
                g_task_return_pointer(task, g_ptr_array_new(), (GDestroyNotify)g_ptr_array_unref);
                return;
        }
        rv_manager_request_engine(self, self->tracker_requests, torrent, g_steal_pointer(&task),
                                  rv_engine_request_trackers);
}

GPtrArray *
rv_manager_list_trackers_finish(RvManager *self, GAsyncResult *result, GError **error)
{
        GPtrArray *trackers;

        g_return_val_if_fail(g_task_is_valid(result, self), NULL);
        trackers = g_task_propagate_pointer(G_TASK(result), error);
        /* the fake engine and a failed read answer with nothing: an empty list */
        if (trackers == NULL && (error == NULL || *error == NULL))
                trackers = g_ptr_array_new();
        return trackers;
}

GArray *
rv_manager_list_files_finish(RvManager *self, GAsyncResult *result, GError **error)
{
        GTask *task = G_TASK(result);
        g_autoptr(GArray) progress = NULL;
        g_autoptr(GError) error_local = NULL;
        const char *hex = g_task_get_task_data(task);
        RvTorrent *torrent;
        GArray *out;

        progress = g_task_propagate_pointer(task, &error_local);
        if (error_local != NULL) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return NULL;
        }
        torrent = g_hash_table_lookup(self->torrents, hex);
        if (torrent == NULL || torrent->files == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is gone", hex);
                return NULL;
        }
        out = g_array_sized_new(FALSE, TRUE, sizeof(RvFileInfo), torrent->files->len);
        {
                g_autofree guint8 *prio = NULL;
                gsize n = 0;
                prio = rv_torrent_compute_priorities(torrent, &n);
                for (guint i = 0; i < torrent->files->len; i++) {
                        RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                        RvFileInfo fi = { 0 };
                        fi.index = i;
                        fi.path = file->path;
                        fi.size = file->size;
                        fi.done = progress != NULL && i < progress->len ? g_array_index(progress, gint64, i) : 0;
                        fi.priority = i < n ? prio[i] : RV_FILE_PRIORITY_NORMAL;
                        fi.wanted = fi.priority != RV_FILE_PRIORITY_SKIP;
                        g_array_append_val(out, fi);
                }
        }
        return out;
}
