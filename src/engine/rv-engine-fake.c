/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-engine-private.h"

/*
 * a deterministic engine for tests of the layers above: no network, no
 * threads; commands queue events that an idle source on the engine's main
 * context delivers in the order libtorrent would send them, never from
 * inside the call; sources are parsed by the same code as for libtorrent
 */

typedef RvEngineOwnedEvent RvFakeEvent;

typedef struct {
        RvInfoHash hash;
        RvEngineSource *source;
        char *name;
        char *save_path;
        /* RvEngineFile, NULL without metadata */
        GPtrArray *files;
        gint64 total_size;
        gboolean paused;
        gboolean sequential;
        gboolean seed_mode;
        /* running outside the queue: not auto-managed */
        gboolean force_start;
        gboolean super_seeding;
        gboolean first_last_piece;
        gint64 download_limit;
        gint64 upload_limit;
        /* total_wanted_done */
        gint64 done;
        gboolean finished;
        char *error;
        /* a status event is due on the next tick */
        gboolean changed;
        /* a resume save would record something new */
        gboolean dirty;
        gint64 added_time;
        gint64 completed_time;
} RvFakeTorrent;

typedef struct {
        RvEngine *engine;
        /* hash hex -> RvFakeTorrent, owned by list */
        GHashTable *torrents;
        /* RvFakeTorrent in add order, so ticks walk them the same way every run */
        GPtrArray *list;
        GQueue events;
        GSource *idle_source;
        GSource *status_source;
        guint16 listen_port;
} RvFakeEngine;

static RvFakeEngine *
rv_fake_self(RvEngine *engine)
{
        return engine->impl;
}

static void
rv_fake_event_free(RvFakeEvent *event)
{
        rv_engine_owned_event_clear(event);
        g_free(event);
}

static void
rv_fake_torrent_free(RvFakeTorrent *torrent)
{
        rv_engine_source_free(torrent->source);
        g_free(torrent->name);
        g_free(torrent->save_path);
        g_clear_pointer(&torrent->files, g_ptr_array_unref);
        g_free(torrent->error);
        g_free(torrent);
}

static gint64
rv_fake_wanted(const RvFakeTorrent *torrent)
{
        gint64 wanted = 0;

        if (torrent->files == NULL)
                return 0;
        for (guint i = 0; i < torrent->files->len; i++) {
                const RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                if (!file->pad && file->priority > RV_FILE_PRIORITY_SKIP)
                        wanted += file->size;
        }
        return wanted;
}

static gboolean
rv_fake_dispatch_cb(gpointer user_data)
{
        RvEngine *engine = user_data;
        RvFakeEngine *self = rv_fake_self(engine);
        /* only what was queued before this dispatch: commands from the event func wait for the next one */
        guint n = g_queue_get_length(&self->events);

        for (guint i = 0; i < n; i++) {
                RvFakeEvent *fake = g_queue_pop_head(&self->events);
                if (fake->kind == RV_ENGINE_EVENT_LISTEN_SUCCEEDED)
                        self->listen_port = fake->listen_port;
                RvEngineEvent event;
                gboolean alive;

                rv_engine_event_view(fake, &event);
                alive = rv_engine_emit(engine, &event);
                rv_fake_event_free(fake);
                if (!alive)
                        return G_SOURCE_REMOVE;
        }
        if (!g_queue_is_empty(&self->events))
                return G_SOURCE_CONTINUE;
        g_clear_pointer(&self->idle_source, g_source_unref);
        return G_SOURCE_REMOVE;
}

static RvFakeEvent *
rv_fake_queue(RvFakeEngine *self, RvEngineEventKind kind, const RvInfoHash *hash)
{
        RvFakeEvent *event = g_new0(RvFakeEvent, 1);

        event->kind = kind;
        if (hash != NULL)
                event->hash = *hash;
        g_queue_push_tail(&self->events, event);
        if (self->idle_source == NULL) {
                self->idle_source = g_idle_source_new();
                g_source_set_name(self->idle_source, "rv-engine-fake-events");
                g_source_set_callback(self->idle_source, rv_fake_dispatch_cb, self->engine, NULL);
                g_source_attach(self->idle_source, self->engine->context);
        }
        return event;
}

static void
rv_fake_queue_error(RvFakeEngine *self, RvEngineEventKind kind, const RvInfoHash *hash, RvError code,
                    const char *message)
{
        RvFakeEvent *event = rv_fake_queue(self, kind, hash);
        event->error = g_error_new_literal(RV_ERROR, code, message);
}

static GPtrArray *
rv_fake_files_copy(GPtrArray *files)
{
        GPtrArray *copy;

        if (files == NULL)
                return NULL;
        copy = g_ptr_array_new_full(files->len, (GDestroyNotify)rv_engine_file_free);
        for (guint i = 0; i < files->len; i++)
                g_ptr_array_add(copy, rv_engine_file_copy(g_ptr_array_index(files, i)));
        return copy;
}

static void
rv_fake_queue_metadata(RvFakeEngine *self, RvFakeTorrent *torrent)
{
        RvFakeEvent *event = rv_fake_queue(self, RV_ENGINE_EVENT_METADATA, &torrent->hash);

        event->name = g_strdup(torrent->name);
        event->files = rv_fake_files_copy(torrent->files);
        event->total_size = torrent->total_size;
}

static void
rv_fake_status_fill(RvFakeTorrent *torrent, RvEngineStatus *status)
{
        gint64 wanted = rv_fake_wanted(torrent);

        memset(status, 0, sizeof(*status));
        status->hash = torrent->hash;
        status->has_metadata = torrent->files != NULL;
        if (!status->has_metadata)
                status->state = RV_ENGINE_STATE_FETCHING_METADATA;
        else if (!torrent->finished)
                status->state = RV_ENGINE_STATE_DOWNLOADING;
        else if (wanted == torrent->total_size)
                status->state = RV_ENGINE_STATE_SEEDING;
        else
                status->state = RV_ENGINE_STATE_FINISHED;
        status->paused = torrent->paused;
        status->auto_managed = !torrent->paused && !torrent->force_start;
        status->super_seeding = torrent->super_seeding;
        status->is_finished = torrent->finished;
        status->is_seeding = status->state == RV_ENGINE_STATE_SEEDING;
        status->sequential = torrent->sequential;
        status->need_save_resume = torrent->dirty;
        status->total_size = torrent->total_size;
        status->total_wanted = wanted;
        status->total_wanted_done = MIN(torrent->done, wanted);
        status->total_done = status->total_wanted_done;
        if (wanted > 0)
                status->progress = (double)status->total_wanted_done / (double)wanted;
        else
                status->progress = torrent->finished ? 1.0 : 0.0;
        status->all_time_download = status->total_done;
        status->added_time = torrent->added_time;
        status->completed_time = torrent->completed_time;
        status->download_limit = torrent->download_limit;
        status->upload_limit = torrent->upload_limit;
        status->queue_position = -1;
        status->error = g_strdup(torrent->error);
}

static void
rv_fake_queue_statuses(RvFakeEngine *self)
{
        for (guint i = 0; i < self->list->len; i++) {
                RvFakeTorrent *torrent = g_ptr_array_index(self->list, i);
                RvFakeEvent *event;

                if (!torrent->changed)
                        continue;
                torrent->changed = FALSE;
                event = rv_fake_queue(self, RV_ENGINE_EVENT_STATUS, &torrent->hash);
                rv_fake_status_fill(torrent, &event->status);
                event->has_status = TRUE;
        }
}

static gboolean
rv_fake_status_cb(gpointer user_data)
{
        rv_fake_queue_statuses(user_data);
        return G_SOURCE_CONTINUE;
}

static void
rv_fake_status_timer_start(RvFakeEngine *self, guint interval_ms)
{
        if (self->status_source != NULL) {
                g_source_destroy(self->status_source);
                g_clear_pointer(&self->status_source, g_source_unref);
        }
        if (interval_ms == 0)
                return;
        self->status_source = g_timeout_source_new(interval_ms);
        g_source_set_name(self->status_source, "rv-engine-fake-status");
        g_source_set_callback(self->status_source, rv_fake_status_cb, self, NULL);
        g_source_attach(self->status_source, self->engine->context);
}

/* FINISHED once when the wanted bytes are all there, as torrent_finished_alert */
static void
rv_fake_update_finished(RvFakeEngine *self, RvFakeTorrent *torrent)
{
        gint64 wanted = rv_fake_wanted(torrent);
        gboolean complete = torrent->files != NULL && torrent->done >= wanted;

        if (complete && !torrent->finished) {
                torrent->finished = TRUE;
                torrent->completed_time = g_get_real_time() / G_USEC_PER_SEC;
                rv_fake_queue(self, RV_ENGINE_EVENT_FINISHED, &torrent->hash);
        } else if (!complete) {
                torrent->finished = FALSE;
        }
}

static void
rv_fake_touch(RvFakeTorrent *torrent)
{
        torrent->changed = TRUE;
        torrent->dirty = TRUE;
}

static RvFakeTorrent *
rv_fake_lookup(RvFakeEngine *self, const RvInfoHash *hash, GError **error)
{
        RvFakeTorrent *torrent = g_hash_table_lookup(self->torrents, hash->hex);

        if (torrent == NULL)
                rv_info_hash_set_error_not_found(error, hash);
        return torrent;
}

static void
rv_fake_free(RvEngine *engine)
{
        RvFakeEngine *self = rv_fake_self(engine);

        if (self == NULL)
                return;
        if (self->idle_source != NULL) {
                g_source_destroy(self->idle_source);
                g_clear_pointer(&self->idle_source, g_source_unref);
        }
        if (self->status_source != NULL) {
                g_source_destroy(self->status_source);
                g_clear_pointer(&self->status_source, g_source_unref);
        }
        g_queue_clear_full(&self->events, (GDestroyNotify)rv_fake_event_free);
        g_hash_table_unref(self->torrents);
        g_ptr_array_unref(self->list);
        g_free(self);
        engine->impl = NULL;
}

static gboolean
rv_fake_apply_settings(RvEngine *engine, const RvEngineSettings *settings, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);

        if (settings->status_interval_ms != engine->settings.status_interval_ms || self->status_source == NULL)
                rv_fake_status_timer_start(self, settings->status_interval_ms);
        return TRUE;
}

static void
rv_fake_get_settings(RvEngine *engine, RvEngineSettings *ret_settings)
{
        rv_engine_settings_copy(ret_settings, &engine->settings);
}

static guint16
rv_fake_get_listen_port(RvEngine *engine)
{
        return rv_fake_self(engine)->listen_port;
}

static gboolean
rv_fake_add(RvEngine *engine, RvEngineSource *source, const RvEngineAddOptions *options, GError **error)
{
        g_autoptr(RvEngineSource) owned = source;
        RvFakeEngine *self = rv_fake_self(engine);
        const RvEngineSourceInfo *info = rv_engine_source_get_info(source);
        RvEngineAddOptions own;
        RvFakeTorrent *torrent;
        RvFakeEvent *event;

        if (g_hash_table_contains(self->torrents, info->hash.hex)) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s is already in the engine", info->hash.hex);
                return FALSE;
        }
        if (options == NULL) {
                rv_engine_source_get_options(source, &own);
                options = &own;
        }
        if (!rv_engine_save_path_validate(options->save_path, error))
                return FALSE;
        if (info->files != NULL && options->file_priorities != NULL && options->n_file_priorities > 0 &&
            options->n_file_priorities != info->files->len) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%" G_GSIZE_FORMAT " file priorities for a torrent with %u files",
                            options->n_file_priorities, info->files->len);
                return FALSE;
        }

        torrent = g_new0(RvFakeTorrent, 1);
        torrent->hash = info->hash;
        torrent->name = g_strdup(info->name);
        torrent->save_path = g_strdup(options->save_path);
        torrent->files = rv_fake_files_copy(info->files);
        torrent->total_size = info->total_size;
        torrent->paused = options->paused;
        torrent->sequential = options->sequential;
        torrent->seed_mode = options->seed_mode;
        torrent->force_start = !options->paused && options->force_start;
        torrent->super_seeding = options->super_seeding;
        torrent->first_last_piece = options->first_last_piece;
        torrent->download_limit = options->download_limit;
        torrent->upload_limit = options->upload_limit;
        torrent->added_time = options->added_time > 0 ? options->added_time : g_get_real_time() / G_USEC_PER_SEC;
        for (gsize i = 0; torrent->files != NULL && options->file_priorities != NULL && i < options->n_file_priorities;
             i++) {
                RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                if (!file->pad)
                        file->priority = options->file_priorities[i];
        }
        torrent->changed = TRUE;
        torrent->dirty = TRUE;
        torrent->source = g_steal_pointer(&owned);
        g_ptr_array_add(self->list, torrent);
        g_hash_table_insert(self->torrents, torrent->hash.hex, torrent);

        event = rv_fake_queue(self, RV_ENGINE_EVENT_ADDED, &torrent->hash);
        event->name = g_strdup(torrent->name);
        event->save_path = g_strdup(torrent->save_path);
        if (torrent->files != NULL) {
                rv_fake_queue_metadata(self, torrent);
                /* a creator seeding its own files has all of them; libtorrent says FINISHED for it too */
                if (torrent->seed_mode) {
                        torrent->done = rv_fake_wanted(torrent);
                        rv_fake_update_finished(self, torrent);
                }
        }
        return TRUE;
}

static gboolean
rv_fake_pause(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->force_start = FALSE;
        if (!torrent->paused) {
                torrent->paused = TRUE;
                rv_fake_touch(torrent);
                rv_fake_queue(self, RV_ENGINE_EVENT_PAUSED, hash);
        }
        return TRUE;
}

static gboolean
rv_fake_resume(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->force_start = FALSE;
        /* resume() clears a torrent error in libtorrent too */
        if (torrent->paused || torrent->error != NULL) {
                torrent->paused = FALSE;
                g_clear_pointer(&torrent->error, g_free);
                rv_fake_touch(torrent);
                rv_fake_queue(self, RV_ENGINE_EVENT_RESUMED, hash);
        }
        return TRUE;
}

static gboolean
rv_fake_remove(RvEngine *engine, const RvInfoHash *hash, gboolean delete_data, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);
        RvInfoHash copy;

        if (torrent == NULL)
                return FALSE;
        copy = torrent->hash;
        g_hash_table_remove(self->torrents, copy.hex);
        g_ptr_array_remove(self->list, torrent);
        rv_fake_queue(self, RV_ENGINE_EVENT_REMOVED, &copy);
        if (delete_data)
                rv_fake_queue(self, RV_ENGINE_EVENT_FILES_DELETED, &copy);
        return TRUE;
}

static gboolean
rv_fake_recheck(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        RvFakeTorrent *torrent = rv_fake_lookup(rv_fake_self(engine), hash, error);

        if (torrent == NULL)
                return FALSE;
        rv_fake_touch(torrent);
        return TRUE;
}

static gboolean
rv_fake_reannounce(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        return rv_fake_lookup(rv_fake_self(engine), hash, error) != NULL;
}

static gboolean
rv_fake_set_sequential(RvEngine *engine, const RvInfoHash *hash, gboolean sequential, GError **error)
{
        RvFakeTorrent *torrent = rv_fake_lookup(rv_fake_self(engine), hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->sequential = sequential;
        rv_fake_touch(torrent);
        return TRUE;
}

static gboolean
rv_fake_set_force_start(RvEngine *engine, const RvInfoHash *hash, gboolean force, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->force_start = force;
        if (torrent->paused) {
                torrent->paused = FALSE;
                rv_fake_queue(self, RV_ENGINE_EVENT_RESUMED, hash);
        }
        rv_fake_touch(torrent);
        return TRUE;
}

static gboolean
rv_fake_set_super_seeding(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        RvFakeTorrent *torrent = rv_fake_lookup(rv_fake_self(engine), hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->super_seeding = on;
        rv_fake_touch(torrent);
        return TRUE;
}

static gboolean
rv_fake_set_first_last_piece(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        RvFakeTorrent *torrent = rv_fake_lookup(rv_fake_self(engine), hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->first_last_piece = on;
        return TRUE;
}

static gboolean
rv_fake_set_limits(RvEngine *engine, const RvInfoHash *hash, gint64 download_limit, gint64 upload_limit, GError **error)
{
        RvFakeTorrent *torrent = rv_fake_lookup(rv_fake_self(engine), hash, error);

        if (torrent == NULL)
                return FALSE;
        torrent->download_limit = download_limit;
        torrent->upload_limit = upload_limit;
        rv_fake_touch(torrent);
        return TRUE;
}

static gboolean
rv_fake_set_file_priorities(RvEngine *engine, const RvInfoHash *hash, const guint8 *priorities, gsize n, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);

        if (torrent == NULL)
                return FALSE;
        if (torrent->files == NULL)
                return TRUE;
        if (n != torrent->files->len) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%" G_GSIZE_FORMAT " file priorities for a torrent with %u files", n, torrent->files->len);
                return FALSE;
        }
        for (gsize i = 0; i < n; i++) {
                RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                if (!file->pad)
                        file->priority = priorities[i];
        }
        rv_fake_touch(torrent);
        rv_fake_update_finished(self, torrent);
        return TRUE;
}

static gboolean
rv_fake_move_storage(RvEngine *engine, const RvInfoHash *hash, const char *save_path, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);
        RvFakeEvent *event;

        if (torrent == NULL)
                return FALSE;
        g_free(torrent->save_path);
        torrent->save_path = g_strdup(save_path);
        rv_fake_touch(torrent);
        event = rv_fake_queue(self, RV_ENGINE_EVENT_STORAGE_MOVED, hash);
        event->save_path = g_strdup(save_path);
        return TRUE;
}

static gboolean
rv_fake_connect_peer(RvEngine *engine, const RvInfoHash *hash, const char *host_port, GError **error)
{
        return rv_fake_lookup(rv_fake_self(engine), hash, error) != NULL;
}

/* the fake announces nowhere: no trackers */
static gboolean
rv_fake_request_trackers(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeEvent *event;

        if (rv_fake_lookup(self, hash, error) == NULL)
                return FALSE;
        event = rv_fake_queue(self, RV_ENGINE_EVENT_TRACKERS, hash);
        event->trackers = g_ptr_array_new_with_free_func((GDestroyNotify)rv_engine_tracker_free);
        return TRUE;
}

static gboolean
rv_fake_request_file_progress(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, error);
        RvFakeEvent *event;
        gint64 left;

        if (torrent == NULL)
                return FALSE;
        event = rv_fake_queue(self, RV_ENGINE_EVENT_FILE_PROGRESS, hash);
        event->file_progress = g_array_new(FALSE, TRUE, sizeof(gint64));
        /* the wanted bytes fill the wanted files in order */
        left = torrent->done;
        for (guint i = 0; torrent->files != NULL && i < torrent->files->len; i++) {
                const RvEngineFile *file = g_ptr_array_index(torrent->files, i);
                gint64 done = 0;

                if (!file->pad && file->priority > RV_FILE_PRIORITY_SKIP) {
                        done = MIN(left, file->size);
                        left -= done;
                }
                g_array_append_val(event->file_progress, done);
        }
        return TRUE;
}

static guint
rv_fake_save_resume_one(RvFakeEngine *self, RvFakeTorrent *torrent, gboolean only_if_modified)
{
        g_autoptr(GError) error = NULL;
        g_autofree guint8 *priorities = NULL;
        RvEngineAddOptions options;
        GBytes *blob;

        if (only_if_modified && !torrent->dirty)
                return 0;
        torrent->dirty = FALSE;

        rv_engine_add_options_init(&options);
        options.save_path = torrent->save_path;
        options.paused = torrent->paused;
        options.sequential = torrent->sequential;
        options.seed_mode = torrent->seed_mode;
        options.force_start = torrent->force_start;
        options.super_seeding = torrent->super_seeding;
        options.download_limit = torrent->download_limit;
        options.upload_limit = torrent->upload_limit;
        options.added_time = torrent->added_time;
        if (torrent->files != NULL && !rv_engine_source_is_magnet(torrent->source)) {
                priorities = g_new0(guint8, torrent->files->len);
                for (guint i = 0; i < torrent->files->len; i++)
                        priorities[i] = ((RvEngineFile *)g_ptr_array_index(torrent->files, i))->priority;
                options.file_priorities = priorities;
                options.n_file_priorities = torrent->files->len;
        }
        blob = rv_engine_source_write_resume(torrent->source, &options, &error);
        if (blob == NULL) {
                rv_fake_queue_error(self, RV_ENGINE_EVENT_RESUME_DATA_FAILED, &torrent->hash, error->code,
                                    error->message);
                return 1;
        }
        rv_fake_queue(self, RV_ENGINE_EVENT_RESUME_DATA, &torrent->hash)->resume_data = blob;
        return 1;
}

static guint
rv_fake_save_resume(RvEngine *engine, const RvInfoHash *hash, gboolean only_if_modified)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, NULL);

        if (torrent == NULL)
                return 0;
        return rv_fake_save_resume_one(self, torrent, only_if_modified);
}

static guint
rv_fake_save_resume_all(RvEngine *engine, gboolean only_if_modified)
{
        RvFakeEngine *self = rv_fake_self(engine);
        guint asked = 0;

        for (guint i = 0; i < self->list->len; i++)
                asked += rv_fake_save_resume_one(self, g_ptr_array_index(self->list, i), only_if_modified);
        return asked;
}

static void
rv_fake_pause_session(RvEngine *engine)
{
}

static void
rv_fake_resume_session(RvEngine *engine)
{
}

static void
rv_fake_probe(RvEngine *engine)
{
        rv_fake_queue(rv_fake_self(engine), RV_ENGINE_EVENT_PROBE, NULL);
}

static void
rv_fake_post_status(RvEngine *engine)
{
        rv_fake_queue_statuses(rv_fake_self(engine));
}

static guint
rv_fake_get_torrent_count(RvEngine *engine)
{
        return rv_fake_self(engine)->list->len;
}

static void
rv_fake_set_progress(RvEngine *engine, const RvInfoHash *hash, gint64 done)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, NULL);

        if (torrent == NULL || torrent->files == NULL)
                return;
        torrent->done = CLAMP(done, 0, rv_fake_wanted(torrent));
        rv_fake_touch(torrent);
        rv_fake_update_finished(self, torrent);
}

static gboolean
rv_fake_path_is_safe(const char *path)
{
        g_auto(GStrv) elements = NULL;

        if (path == NULL || path[0] == '\0' || path[0] == '/' || strchr(path, '\\') != NULL)
                return FALSE;
        elements = g_strsplit(path, "/", -1);
        for (guint i = 0; elements[i] != NULL; i++) {
                if (elements[i][0] == '\0' || g_str_equal(elements[i], ".") || g_str_equal(elements[i], ".."))
                        return FALSE;
        }
        return TRUE;
}

static void
rv_fake_deliver_metadata(RvEngine *engine, const RvInfoHash *hash, const char *name, const char *const *paths,
                         const gint64 *sizes)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, NULL);
        g_autoptr(GPtrArray) files = NULL;
        gint64 offset = 0;

        if (torrent == NULL || torrent->files != NULL || paths == NULL || sizes == NULL)
                return;
        files = g_ptr_array_new_with_free_func((GDestroyNotify)rv_engine_file_free);
        for (guint i = 0; paths[i] != NULL; i++) {
                if (!rv_fake_path_is_safe(paths[i]) || sizes[i] < 0) {
                        g_autofree char *message = g_strdup_printf("unsafe file name '%s' in torrent", paths[i]);
                        RvInfoHash copy = torrent->hash;
                        /* as libtorrent's engine does: out of the session, then the news */
                        g_hash_table_remove(self->torrents, copy.hex);
                        g_ptr_array_remove(self->list, torrent);
                        rv_fake_queue_error(self, RV_ENGINE_EVENT_METADATA_REJECTED, &copy, RV_ERROR_INVALID_ARGUMENT,
                                            message);
                        rv_fake_queue(self, RV_ENGINE_EVENT_REMOVED, &copy);
                        return;
                }
                g_ptr_array_add(files, rv_engine_file_new(paths[i], sizes[i], offset, RV_FILE_PRIORITY_NORMAL, FALSE));
                offset += sizes[i];
        }
        if (name != NULL) {
                g_free(torrent->name);
                torrent->name = g_strdup(name);
        }
        torrent->files = g_steal_pointer(&files);
        torrent->total_size = offset;
        rv_fake_touch(torrent);
        rv_fake_queue_metadata(self, torrent);
}

static void
rv_fake_deliver_stale_status(RvEngine *engine, const RvInfoHash *hash)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, NULL);
        RvFakeEvent *event;

        if (torrent == NULL)
                return;
        event = rv_fake_queue(self, RV_ENGINE_EVENT_STATUS, &torrent->hash);
        rv_fake_status_fill(torrent, &event->status);
        event->has_status = TRUE;
        event->status.paused = FALSE;
        event->status.auto_managed = TRUE;
        if (event->status.state != RV_ENGINE_STATE_FETCHING_METADATA)
                event->status.state = torrent->finished ? RV_ENGINE_STATE_SEEDING : RV_ENGINE_STATE_DOWNLOADING;
}

static void
rv_fake_fail(RvEngine *engine, const RvInfoHash *hash, const char *message)
{
        RvFakeEngine *self = rv_fake_self(engine);
        RvFakeTorrent *torrent = rv_fake_lookup(self, hash, NULL);

        if (torrent == NULL)
                return;
        g_free(torrent->error);
        torrent->error = g_strdup(message != NULL ? message : "fake failure");
        rv_fake_touch(torrent);
        rv_fake_queue_error(self, RV_ENGINE_EVENT_ERROR, hash, RV_ERROR_UNAVAILABLE, torrent->error);
}

static const RvEngineVTable rv_fake_vtable = {
        .name = "fake",
        .free = rv_fake_free,
        .apply_settings = rv_fake_apply_settings,
        .get_settings = rv_fake_get_settings,
        .get_listen_port = rv_fake_get_listen_port,
        .add = rv_fake_add,
        .pause = rv_fake_pause,
        .resume = rv_fake_resume,
        .remove = rv_fake_remove,
        .recheck = rv_fake_recheck,
        .reannounce = rv_fake_reannounce,
        .set_sequential = rv_fake_set_sequential,
        .set_force_start = rv_fake_set_force_start,
        .set_super_seeding = rv_fake_set_super_seeding,
        .set_first_last_piece = rv_fake_set_first_last_piece,
        .set_limits = rv_fake_set_limits,
        .set_file_priorities = rv_fake_set_file_priorities,
        .move_storage = rv_fake_move_storage,
        .connect_peer = rv_fake_connect_peer,
        .request_file_progress = rv_fake_request_file_progress,
        .request_trackers = rv_fake_request_trackers,
        .save_resume = rv_fake_save_resume,
        .save_resume_all = rv_fake_save_resume_all,
        .pause_session = rv_fake_pause_session,
        .resume_session = rv_fake_resume_session,
        .probe = rv_fake_probe,
        .post_status = rv_fake_post_status,
        .get_torrent_count = rv_fake_get_torrent_count,
        .fake_set_progress = rv_fake_set_progress,
        .fake_deliver_metadata = rv_fake_deliver_metadata,
        .fake_fail = rv_fake_fail,
        .fake_deliver_stale_status = rv_fake_deliver_stale_status,
};

/* the port the fake claims to listen on: the first interface's, 6881 for 0 or nonsense */
static guint16
rv_fake_port_from_interfaces(const char *interfaces)
{
        g_auto(GStrv) parts = NULL;
        const char *colon;
        guint64 port = 0;

        if (interfaces == NULL)
                return 6881;
        parts = g_strsplit(interfaces, ",", 2);
        if (parts[0] == NULL)
                return 6881;
        colon = strrchr(parts[0], ':');
        if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
                return 6881;
        return (guint16)port;
}

RvEngine *
rv_engine_new_fake(const RvEngineSettings *settings)
{
        RvEngine *engine = rv_engine_new_internal(&rv_fake_vtable, settings);
        RvFakeEngine *self = g_new0(RvFakeEngine, 1);

        engine->impl = self;
        self->engine = engine;
        self->torrents = g_hash_table_new(g_str_hash, g_str_equal);
        self->list = g_ptr_array_new_with_free_func((GDestroyNotify)rv_fake_torrent_free);
        g_queue_init(&self->events);
        rv_fake_queue(self, RV_ENGINE_EVENT_LISTEN_SUCCEEDED, NULL)->listen_port =
                rv_fake_port_from_interfaces(engine->settings.listen_interfaces);
        rv_fake_status_timer_start(self, engine->settings.status_interval_ms);
        return engine;
}
