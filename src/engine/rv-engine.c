/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-engine-private.h"

void
rv_info_hash_set_error_not_found(GError **error, const RvInfoHash *hash)
{
        g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "no torrent %s in the engine", hash->hex);
}

static const char *const rv_engine_event_names[] = {
        [RV_ENGINE_EVENT_ADDED] = "added",
        [RV_ENGINE_EVENT_ADD_FAILED] = "add-failed",
        [RV_ENGINE_EVENT_METADATA] = "metadata",
        [RV_ENGINE_EVENT_METADATA_REJECTED] = "metadata-rejected",
        [RV_ENGINE_EVENT_STATUS] = "status",
        [RV_ENGINE_EVENT_FINISHED] = "finished",
        [RV_ENGINE_EVENT_PAUSED] = "paused",
        [RV_ENGINE_EVENT_RESUMED] = "resumed",
        [RV_ENGINE_EVENT_REMOVED] = "removed",
        [RV_ENGINE_EVENT_FILES_DELETED] = "files-deleted",
        [RV_ENGINE_EVENT_FILES_DELETE_FAILED] = "files-delete-failed",
        [RV_ENGINE_EVENT_ERROR] = "error",
        [RV_ENGINE_EVENT_RESUME_DATA] = "resume-data",
        [RV_ENGINE_EVENT_RESUME_DATA_FAILED] = "resume-data-failed",
        [RV_ENGINE_EVENT_STORAGE_MOVED] = "storage-moved",
        [RV_ENGINE_EVENT_STORAGE_MOVE_FAILED] = "storage-move-failed",
        [RV_ENGINE_EVENT_FILE_PROGRESS] = "file-progress",
        [RV_ENGINE_EVENT_TRACKERS] = "trackers",
        [RV_ENGINE_EVENT_PROBE] = "probe",
        [RV_ENGINE_EVENT_LISTEN_SUCCEEDED] = "listen-succeeded",
        [RV_ENGINE_EVENT_LISTEN_FAILED] = "listen-failed",
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_engine_event_names) == RV_ENGINE_EVENT_LAST);

const char *
rv_engine_event_kind_to_string(RvEngineEventKind kind)
{
        if ((guint)kind >= RV_ENGINE_EVENT_LAST)
                return "unknown";
        return rv_engine_event_names[kind];
}

void
rv_engine_settings_init(RvEngineSettings *settings)
{
        g_return_if_fail(settings != NULL);

        memset(settings, 0, sizeof(*settings));
        settings->listen_interfaces =
                g_strdup_printf("0.0.0.0:%d,[::]:%d", RV_ENGINE_DEFAULT_LISTEN_PORT, RV_ENGINE_DEFAULT_LISTEN_PORT);
        settings->enable_dht = TRUE;
        settings->enable_lsd = TRUE;
        settings->enable_upnp = TRUE;
        settings->enable_natpmp = TRUE;
        settings->enable_utp = TRUE;
        settings->encryption = RV_ENCRYPTION_PREFER;
        settings->download_rate_limit = 0;
        settings->upload_rate_limit = 0;
        /* libtorrent's own defaults */
        settings->active_downloads = RV_ENGINE_DEFAULT_ACTIVE_DOWNLOADS;
        settings->active_seeds = RV_ENGINE_DEFAULT_ACTIVE_SEEDS;
        settings->active_limit = RV_ENGINE_DEFAULT_ACTIVE_LIMIT;
        settings->connections_limit = RV_ENGINE_DEFAULT_CONNECTIONS_LIMIT;
        settings->status_interval_ms = 1000;
        settings->max_metadata_size = RV_ENGINE_DEFAULT_MAX_METADATA_SIZE;
        settings->allow_multiple_connections_per_ip = FALSE;
}

void
rv_engine_settings_clear(RvEngineSettings *settings)
{
        if (settings == NULL)
                return;
        g_clear_pointer(&settings->listen_interfaces, g_free);
}

void
rv_engine_settings_copy(RvEngineSettings *dest, const RvEngineSettings *src)
{
        g_return_if_fail(dest != NULL);
        g_return_if_fail(src != NULL);

        if (dest == src)
                return;
        *dest = *src;
        dest->listen_interfaces = g_strdup(src->listen_interfaces);
}

void
rv_engine_status_clear(RvEngineStatus *status)
{
        if (status == NULL)
                return;
        g_clear_pointer(&status->error, g_free);
        g_clear_pointer(&status->current_tracker, g_free);
}

RvEngineTracker *
rv_engine_tracker_new(const char *url, gint tier)
{
        RvEngineTracker *tracker = g_new0(RvEngineTracker, 1);

        tracker->url = g_strdup(url);
        tracker->tier = tier;
        tracker->status = RV_TRACKER_STATUS_NOT_CONTACTED;
        tracker->message = g_strdup("");
        tracker->num_peers = -1;
        tracker->num_seeds = -1;
        tracker->num_leeches = -1;
        tracker->num_downloaded = -1;
        return tracker;
}

RvEngineTracker *
rv_engine_tracker_copy(const RvEngineTracker *tracker)
{
        RvEngineTracker *copy = g_new(RvEngineTracker, 1);

        *copy = *tracker;
        copy->url = g_strdup(tracker->url);
        copy->message = g_strdup(tracker->message);
        return copy;
}

void
rv_engine_tracker_free(RvEngineTracker *tracker)
{
        if (tracker == NULL)
                return;
        g_free(tracker->url);
        g_free(tracker->message);
        g_free(tracker);
}

RvEngineFile *
rv_engine_file_new(const char *path, gint64 size, gint64 offset, guint8 priority, gboolean pad)
{
        RvEngineFile *file = g_new0(RvEngineFile, 1);

        file->path = g_strdup(path);
        file->size = size;
        file->offset = offset;
        file->priority = priority;
        file->pad = pad;
        return file;
}

RvEngineFile *
rv_engine_file_copy(const RvEngineFile *file)
{
        return rv_engine_file_new(file->path, file->size, file->offset, file->priority, file->pad);
}

void
rv_engine_file_free(RvEngineFile *file)
{
        if (file == NULL)
                return;
        g_free(file->path);
        g_free(file);
}

void
rv_engine_event_copy(const RvEngineEvent *event, RvEngineOwnedEvent *ret)
{
        ret->kind = event->kind;
        ret->hash = event->hash;
        ret->name = g_strdup(event->name);
        ret->save_path = g_strdup(event->save_path);
        ret->error = event->error != NULL ? g_error_copy(event->error) : NULL;
        ret->resume_data = event->resume_data != NULL ? g_bytes_ref(event->resume_data) : NULL;
        ret->files = NULL;
        if (event->files != NULL) {
                ret->files = g_ptr_array_new_full(event->files->len, (GDestroyNotify)rv_engine_file_free);
                for (guint i = 0; i < event->files->len; i++)
                        g_ptr_array_add(ret->files, rv_engine_file_copy(g_ptr_array_index(event->files, i)));
        }
        ret->total_size = event->total_size;
        ret->file_progress = NULL;
        if (event->file_progress != NULL) {
                ret->file_progress = g_array_sized_new(FALSE, FALSE, sizeof(gint64), event->file_progress->len);
                g_array_append_vals(ret->file_progress, event->file_progress->data, event->file_progress->len);
        }
        ret->trackers = NULL;
        if (event->trackers != NULL) {
                ret->trackers = g_ptr_array_new_full(event->trackers->len, (GDestroyNotify)rv_engine_tracker_free);
                for (guint i = 0; i < event->trackers->len; i++)
                        g_ptr_array_add(ret->trackers, rv_engine_tracker_copy(g_ptr_array_index(event->trackers, i)));
        }
        ret->has_status = event->status != NULL;
        memset(&ret->status, 0, sizeof(ret->status));
        if (event->status != NULL) {
                ret->status = *event->status;
                ret->status.error = g_strdup(event->status->error);
                ret->status.current_tracker = g_strdup(event->status->current_tracker);
        }
        ret->listen_port = event->listen_port;
}

void
rv_engine_event_view(const RvEngineOwnedEvent *owned, RvEngineEvent *ret)
{
        *ret = (RvEngineEvent){
                .kind = owned->kind,
                .hash = owned->hash,
                .name = owned->name,
                .save_path = owned->save_path,
                .error = owned->error,
                .resume_data = owned->resume_data,
                .files = owned->files,
                .total_size = owned->total_size,
                .file_progress = owned->file_progress,
                .trackers = owned->trackers,
                .status = owned->has_status ? &owned->status : NULL,
                .listen_port = owned->listen_port,
        };
}

void
rv_engine_owned_event_clear(RvEngineOwnedEvent *owned)
{
        g_clear_pointer(&owned->name, g_free);
        g_clear_pointer(&owned->save_path, g_free);
        g_clear_error(&owned->error);
        g_clear_pointer(&owned->resume_data, g_bytes_unref);
        g_clear_pointer(&owned->files, g_ptr_array_unref);
        g_clear_pointer(&owned->file_progress, g_array_unref);
        g_clear_pointer(&owned->trackers, g_ptr_array_unref);
        rv_engine_status_clear(&owned->status);
}

void
rv_engine_add_options_init(RvEngineAddOptions *options)
{
        g_return_if_fail(options != NULL);
        memset(options, 0, sizeof(*options));
}

gboolean
rv_engine_save_path_validate(const char *save_path, GError **error)
{
        if (save_path == NULL || save_path[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "save path is empty");
                return FALSE;
        }
        if (!g_path_is_absolute(save_path)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "save path '%s' is not absolute", save_path);
                return FALSE;
        }
        return TRUE;
}

RvEngine *
rv_engine_new_internal(const RvEngineVTable *vtable, const RvEngineSettings *settings)
{
        RvEngine *engine = g_new0(RvEngine, 1);

        engine->vtable = vtable;
        if (settings != NULL)
                rv_engine_settings_copy(&engine->settings, settings);
        else
                rv_engine_settings_init(&engine->settings);
        engine->context = g_main_context_ref_thread_default();
        return engine;
}

gint64
rv_engine_get_max_metadata_size(RvEngine *engine)
{
        if (engine == NULL || engine->settings.max_metadata_size <= 0)
                return RV_ENGINE_DEFAULT_MAX_METADATA_SIZE;
        return engine->settings.max_metadata_size;
}

static void
rv_engine_free_now(RvEngine *engine)
{
        engine->vtable->free(engine);
        rv_engine_settings_clear(&engine->settings);
        g_main_context_unref(engine->context);
        g_free(engine);
}

gboolean
rv_engine_emit(RvEngine *engine, const RvEngineEvent *event)
{
        if (engine->event_func == NULL)
                return TRUE;
        engine->emit_depth++;
        engine->event_func(engine, event, engine->event_data);
        engine->emit_depth--;
        if (engine->free_pending && engine->emit_depth == 0) {
                rv_engine_free_now(engine);
                return FALSE;
        }
        return !engine->free_pending;
}

void
rv_engine_free(RvEngine *engine)
{
        if (engine == NULL)
                return;
        /* the event func may drop the last reference to its owner; finish the free once it returns */
        if (engine->emit_depth > 0) {
                engine->free_pending = TRUE;
                engine->event_func = NULL;
                return;
        }
        rv_engine_free_now(engine);
}

void
rv_engine_set_event_func(RvEngine *engine, RvEngineEventFunc func, gpointer user_data)
{
        g_return_if_fail(engine != NULL);
        engine->event_func = func;
        engine->event_data = user_data;
}

gboolean
rv_engine_apply_settings(RvEngine *engine, const RvEngineSettings *settings, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(settings != NULL, FALSE);

        if (settings->max_metadata_size <= 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "max_metadata_size must be positive, not %" G_GINT64_FORMAT, settings->max_metadata_size);
                return FALSE;
        }
        if (settings->download_rate_limit < 0 || settings->upload_rate_limit < 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "rate limits must not be negative");
                return FALSE;
        }
        if (!engine->vtable->apply_settings(engine, settings, error))
                return FALSE;
        if (&engine->settings != settings) {
                rv_engine_settings_clear(&engine->settings);
                rv_engine_settings_copy(&engine->settings, settings);
        }
        return TRUE;
}

void
rv_engine_get_settings(RvEngine *engine, RvEngineSettings *ret_settings)
{
        g_return_if_fail(engine != NULL);
        g_return_if_fail(ret_settings != NULL);
        engine->vtable->get_settings(engine, ret_settings);
}

guint16
rv_engine_get_listen_port(RvEngine *engine)
{
        g_return_val_if_fail(engine != NULL, 0);
        return engine->vtable->get_listen_port(engine);
}

gboolean
rv_engine_add(RvEngine *engine, RvEngineSource *source, const RvEngineAddOptions *options, GError **error)
{
        if (engine == NULL || source == NULL) {
                rv_engine_source_free(source);
                g_return_val_if_fail(engine != NULL, FALSE);
                g_return_val_if_fail(source != NULL, FALSE);
        }
        if (options != NULL && options->save_path != NULL && !rv_engine_save_path_validate(options->save_path, error)) {
                rv_engine_source_free(source);
                return FALSE;
        }
        for (gsize i = 0; options != NULL && options->file_priorities != NULL && i < options->n_file_priorities; i++) {
                if (options->file_priorities[i] > RV_FILE_PRIORITY_HIGH) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "file priority %u of file %" G_GSIZE_FORMAT " is over %d",
                                    options->file_priorities[i], i, RV_FILE_PRIORITY_HIGH);
                        rv_engine_source_free(source);
                        return FALSE;
                }
        }
        for (guint i = 0; options != NULL && options->peers != NULL && options->peers[i] != NULL; i++) {
                if (!rv_engine_peer_validate(options->peers[i], error)) {
                        rv_engine_source_free(source);
                        return FALSE;
                }
        }
        return engine->vtable->add(engine, source, options, error);
}

gboolean
rv_engine_pause(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->pause(engine, hash, error);
}

gboolean
rv_engine_resume(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->resume(engine, hash, error);
}

gboolean
rv_engine_remove(RvEngine *engine, const RvInfoHash *hash, gboolean delete_data, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->remove(engine, hash, delete_data, error);
}

gboolean
rv_engine_recheck(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->recheck(engine, hash, error);
}

gboolean
rv_engine_reannounce(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->reannounce(engine, hash, error);
}

gboolean
rv_engine_set_sequential(RvEngine *engine, const RvInfoHash *hash, gboolean sequential, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->set_sequential(engine, hash, sequential, error);
}

gboolean
rv_engine_set_force_start(RvEngine *engine, const RvInfoHash *hash, gboolean force, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->set_force_start(engine, hash, force, error);
}

gboolean
rv_engine_set_super_seeding(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->set_super_seeding(engine, hash, on, error);
}

gboolean
rv_engine_set_first_last_piece(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->set_first_last_piece(engine, hash, on, error);
}

GByteArray *
rv_engine_get_piece_priorities(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, NULL);
        g_return_val_if_fail(hash != NULL, NULL);
        if (engine->vtable->get_piece_priorities == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "the %s engine does not report piece priorities",
                            engine->vtable->name);
                return NULL;
        }
        return engine->vtable->get_piece_priorities(engine, hash, error);
}

gboolean
rv_engine_set_limits(RvEngine *engine, const RvInfoHash *hash, gint64 download_limit, gint64 upload_limit,
                     GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        if (download_limit < 0 || upload_limit < 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "rate limits must not be negative");
                return FALSE;
        }
        return engine->vtable->set_limits(engine, hash, download_limit, upload_limit, error);
}

gboolean
rv_engine_set_file_priorities(RvEngine *engine, const RvInfoHash *hash, const guint8 *priorities, gsize n,
                              GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        g_return_val_if_fail(priorities != NULL || n == 0, FALSE);
        for (gsize i = 0; i < n; i++) {
                if (priorities[i] > RV_FILE_PRIORITY_HIGH) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "file priority %u of file %" G_GSIZE_FORMAT " is over %d", priorities[i], i,
                                    RV_FILE_PRIORITY_HIGH);
                        return FALSE;
                }
        }
        return engine->vtable->set_file_priorities(engine, hash, priorities, n, error);
}

gboolean
rv_engine_move_storage(RvEngine *engine, const RvInfoHash *hash, const char *save_path, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        if (!rv_engine_save_path_validate(save_path, error))
                return FALSE;
        return engine->vtable->move_storage(engine, hash, save_path, error);
}

gboolean
rv_engine_connect_peer(RvEngine *engine, const RvInfoHash *hash, const char *host_port, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        if (!rv_engine_peer_validate(host_port, error))
                return FALSE;
        return engine->vtable->connect_peer(engine, hash, host_port, error);
}

gboolean
rv_engine_request_trackers(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->request_trackers(engine, hash, error);
}

gboolean
rv_engine_request_file_progress(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        g_return_val_if_fail(engine != NULL, FALSE);
        g_return_val_if_fail(hash != NULL, FALSE);
        return engine->vtable->request_file_progress(engine, hash, error);
}

guint
rv_engine_save_resume(RvEngine *engine, const RvInfoHash *hash, gboolean only_if_modified)
{
        g_return_val_if_fail(engine != NULL, 0);
        g_return_val_if_fail(hash != NULL, 0);
        return engine->vtable->save_resume(engine, hash, only_if_modified);
}

guint
rv_engine_save_resume_all(RvEngine *engine, gboolean only_if_modified)
{
        g_return_val_if_fail(engine != NULL, 0);
        return engine->vtable->save_resume_all(engine, only_if_modified);
}

void
rv_engine_pause_session(RvEngine *engine)
{
        g_return_if_fail(engine != NULL);
        engine->vtable->pause_session(engine);
}

void
rv_engine_resume_session(RvEngine *engine)
{
        g_return_if_fail(engine != NULL);
        engine->vtable->resume_session(engine);
}

void
rv_engine_probe(RvEngine *engine)
{
        g_return_if_fail(engine != NULL);
        engine->vtable->probe(engine);
}

void
rv_engine_post_status(RvEngine *engine)
{
        g_return_if_fail(engine != NULL);
        engine->vtable->post_status(engine);
}

guint
rv_engine_get_torrent_count(RvEngine *engine)
{
        g_return_val_if_fail(engine != NULL, 0);
        return engine->vtable->get_torrent_count(engine);
}

void
rv_engine_fake_set_progress(RvEngine *engine, const RvInfoHash *hash, gint64 done)
{
        g_return_if_fail(engine != NULL);
        g_return_if_fail(hash != NULL);
        if (engine->vtable->fake_set_progress != NULL)
                engine->vtable->fake_set_progress(engine, hash, done);
}

void
rv_engine_fake_deliver_metadata(RvEngine *engine, const RvInfoHash *hash, const char *name, const char *const *paths,
                                const gint64 *sizes)
{
        g_return_if_fail(engine != NULL);
        g_return_if_fail(hash != NULL);
        if (engine->vtable->fake_deliver_metadata != NULL)
                engine->vtable->fake_deliver_metadata(engine, hash, name, paths, sizes);
}

void
rv_engine_fake_deliver_stale_status(RvEngine *engine, const RvInfoHash *hash)
{
        g_return_if_fail(engine != NULL);
        g_return_if_fail(hash != NULL);
        if (engine->vtable->fake_deliver_stale_status != NULL)
                engine->vtable->fake_deliver_stale_status(engine, hash);
}

void
rv_engine_fake_fail(RvEngine *engine, const RvInfoHash *hash, const char *message)
{
        g_return_if_fail(engine != NULL);
        g_return_if_fail(hash != NULL);
        if (engine->vtable->fake_fail != NULL)
                engine->vtable->fake_fail(engine, hash, message);
}
