/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-manager-private.h"

/* loading */

typedef struct {
        /* RvStoreTorrent read so far; a slot is freed (NULL) once restored */
        GPtrArray *queue;
        guint next;
        guint restored;
        /* the store has delivered everything */
        gboolean read_done;
        guint idle_id;
        gint64 started_us;
        gint64 read_us;
        gint64 listed_us;
} RvLoadData;

static void
rv_load_data_free(RvLoadData *data)
{
        if (data->idle_id != 0)
                g_source_remove(data->idle_id);
        g_ptr_array_unref(data->queue);
        g_free(data);
}

/* what a stored torrent's resume data (or magnet link) says of it, checked against its hash */
static RvEngineSource *
rv_manager_restore_source(RvManager *self, RvTorrent *torrent, RvStoreTorrent *record, gboolean have_meta,
                          RvEngineAddOptions *ret_options, GError **error)
{
        g_autoptr(RvEngineSource) source = NULL;
        const RvEngineSourceInfo *info;
        RvEngineAddOptions options;

        if (record->resume != NULL) {
                g_autoptr(GError) error_local = NULL;
                source = rv_engine_source_new_resume(self->engine, record->resume, &error_local);
                if (source == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "resume data is invalid: %s",
                                    error_local->message);
                        return NULL;
                }
        } else if (torrent->magnet != NULL) {
                /* added as a magnet and never saved by libtorrent: start over from the link */
                source = rv_engine_source_new_magnet(self->engine, torrent->magnet, error);
                if (source == NULL)
                        return NULL;
        } else {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "resume data is missing and there is no magnet link to start from");
                return NULL;
        }
        info = rv_engine_source_get_info(source);
        if (!rv_info_hash_equal(&info->hash, &record->hash)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "resume data belongs to %s", info->hash.hex);
                return NULL;
        }

        rv_engine_source_get_options(source, &options);
        if (!have_meta) {
                /* only libtorrent's record survived (the store reported that): take what it knows */
                torrent->save_path = g_strdup(options.save_path);
                torrent->user_paused = options.paused;
                torrent->sequential = options.sequential;
                torrent->download_limit = options.download_limit;
                torrent->upload_limit = options.upload_limit;
                torrent->added_time = options.added_time > 0 ? options.added_time : g_get_real_time() / G_USEC_PER_SEC;
        }
        if (torrent->name == NULL)
                torrent->name = g_strdup(info->name);
        if (torrent->save_path == NULL)
                torrent->save_path =
                        g_strdup(options.save_path != NULL ? options.save_path : self->config.download_dir);
        torrent->has_metadata = info->has_metadata;
        torrent->total_size = info->total_size;
        torrent->wanted_size = info->total_size;
        torrent->trackers_count = info->n_trackers;
        torrent->state = torrent->user_paused ? RV_TORRENT_STATE_PAUSED : RV_TORRENT_STATE_CHECKING;
        if (info->files != NULL)
                rv_manager_set_files(torrent, info->files);
        *ret_options = options;
        return g_steal_pointer(&source);
}

/* what the engine needs of a stored torrent: its resume data (or magnet link) handed to libtorrent */
static gboolean
rv_manager_restore_engine(RvManager *self, RvTorrent *torrent, RvStoreTorrent *record, gboolean have_meta,
                          GError **error)
{
        g_autofree guint8 *prio = NULL;
        RvEngineAddOptions options;
        gsize n_prio = 0;
        RvEngineSource *source = rv_manager_restore_source(self, torrent, record, have_meta, &options, error);

        if (source == NULL)
                return FALSE;
        torrent->parked = FALSE;
        prio = rv_torrent_compute_priorities(torrent, &n_prio);

        /* Revaer's metadata wins over libtorrent's copy where both know a thing */
        options.save_path = torrent->save_path;
        options.paused = torrent->user_paused;
        options.sequential = torrent->sequential;
        options.force_start = torrent->force_start;
        options.super_seeding = torrent->super_seeding;
        options.first_last_piece = torrent->first_last_piece;
        options.content_layout = torrent->content_layout;
        options.download_limit = torrent->download_limit;
        options.upload_limit = torrent->upload_limit;
        if (torrent->peers != NULL && torrent->peers[0] != NULL)
                options.peers = (const char *const *)torrent->peers;
        if (prio != NULL) {
                options.file_priorities = prio;
                options.n_file_priorities = n_prio;
        }
        return rv_engine_add(self->engine, source, &options, error);
}

/*
 * a parked torrent described from its resume data without the engine: name,
 * sizes, files, trackers, what is on disk; then, when the store can read the
 * resume data back, the copy in memory goes (about a kilobyte a torrent)
 */
static void
rv_manager_park_describe(RvManager *self, RvTorrent *torrent)
{
        RvStoreTorrent *record = g_hash_table_lookup(self->loading, torrent->hash.hex);
        g_autoptr(RvEngineSource) source = NULL;
        const RvEngineSourceInfo *info;
        RvEngineAddOptions options;

        if (record == NULL || record->resume == NULL)
                return;
        source = rv_manager_restore_source(self, torrent, record, TRUE, &options, NULL);
        if (source == NULL) {
                /* unusable, as a loading one would be found now: the hand-over says so and moves it aside */
                (void)rv_manager_load_now(self, torrent, NULL);
                return;
        }
        info = rv_engine_source_get_info(source);
        /* of all its bytes: what is wanted of them comes with the engine's first report */
        if (torrent->completed) {
                torrent->wanted_done = torrent->wanted_size;
                torrent->progress = 1.0;
        } else {
                torrent->wanted_done = MIN(info->done_size, torrent->wanted_size);
                torrent->progress =
                        torrent->wanted_size > 0 ? (double)torrent->wanted_done / (double)torrent->wanted_size : 0.0;
        }
        torrent->downloaded = info->downloaded;
        torrent->uploaded = info->uploaded;
        if (rv_store_can_read_resume(self->store))
                g_clear_pointer(&record->resume, g_bytes_unref);
        rv_manager_changed(self, torrent,
                           RV_TORRENT_FIELD_SIZE | RV_TORRENT_FIELD_NAME | RV_TORRENT_FIELD_PROGRESS |
                                   RV_TORRENT_FIELD_FILES | RV_TORRENT_FIELD_RATES | RV_TORRENT_FIELD_TRACKER);
}

static gboolean
rv_manager_meta_to_torrent(RvTorrent *torrent, RvStoreTorrent *record, GError **error)
{
        g_autoptr(GError) error_local = NULL;

        if (record->meta == NULL || rv_torrent_meta_from_json(torrent, record->meta, &error_local))
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "metadata is invalid: %s", error_local->message);
        return FALSE;
}

/*
 * a stored record into the registry: with defer, one with both records is
 * listed at once from its metadata, in state loading (paused and parked when
 * the user paused it), and handed to the engine later (rv_manager_load_now);
 * otherwise, and for one with a part
 * missing (which may fail), the whole way now. save_path, when not NULL,
 * replaces the recorded one.
 */
static gboolean
rv_manager_restore(RvManager *self, RvStoreTorrent *record, const char *save_path, gboolean defer, gboolean *ret_listed,
                   GError **error)
{
        g_autoptr(RvTorrent) torrent = rv_torrent_new(&record->hash);
        gboolean listed = defer && record->meta != NULL && record->resume != NULL;
        RvTorrent *ret;

        if (!rv_manager_meta_to_torrent(torrent, record, error))
                return FALSE;
        if (save_path != NULL) {
                g_free(torrent->save_path);
                torrent->save_path = g_strdup(save_path);
        }
        if (listed) {
                /* paused by the user: it stays out of the engine until something needs it there */
                torrent->parked = torrent->user_paused;
                torrent->state = torrent->parked ? RV_TORRENT_STATE_PAUSED : RV_TORRENT_STATE_LOADING;
        } else if (!rv_manager_restore_engine(self, torrent, record, record->meta != NULL, error))
                return FALSE;
        if (ret_listed != NULL)
                *ret_listed = listed;
        ret = g_steal_pointer(&torrent);
        rv_manager_register(self, ret);
        /* the store kept a copy of what it had; a whole record again, so the next start has nothing to report */
        if (record->meta == NULL)
                rv_manager_persist_meta(self, ret);
        rv_manager_publish_restored(self, ret);
        return TRUE;
}

/* a record taken over from another node: the whole way at once */
gboolean
rv_manager_restore_record(RvManager *self, RvStoreTorrent *record, const char *save_path, GError **error)
{
        return rv_manager_restore(self, record, save_path, FALSE, NULL, error);
}

gboolean
rv_manager_load_now(RvManager *self, RvTorrent *torrent, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        RvStoreTorrent *record = NULL;
        gboolean ok;

        /* listed here, run by its owner: what needs the engine is asked of that node */
        if (torrent->node != NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT,
                            "torrent %s is owned by node '%s': ask that node for it", torrent->hash.hex, torrent->node);
                return FALSE;
        }
        if ((torrent->state != RV_TORRENT_STATE_LOADING && !torrent->parked) ||
            !g_hash_table_steal_extended(self->loading, torrent->hash.hex, NULL, (gpointer *)&record))
                return TRUE;
        /* a parked torrent's resume data stayed in the store */
        if (record->resume == NULL && torrent->parked) {
                record->resume = rv_store_read_resume(self->store, &record->hash, &error_local);
                if (record->resume == NULL)
                        g_prefix_error(&error_local, "resume data cannot be read: ");
        }
        /* a listed torrent had its metadata: it is in the torrent now */
        ok = error_local == NULL && rv_manager_restore_engine(self, torrent, record, TRUE, &error_local);
        if (!ok) {
                rv_manager_problem(self, "stored torrent %s cannot be restored and was moved aside: %s",
                                   record->hash.hex, error_local->message);
                rv_store_quarantine_torrent(self->store, &record->hash, error_local->message);
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s could not be restored: %s",
                            record->hash.hex, error_local->message);
                rv_manager_forget(self, torrent);
        } else {
                rv_manager_changed(self, torrent,
                                   RV_TORRENT_FIELD_STATE | RV_TORRENT_FIELD_SIZE | RV_TORRENT_FIELD_NAME |
                                           RV_TORRENT_FIELD_PROGRESS | RV_TORRENT_FIELD_FILES);
        }
        rv_store_torrent_free(record);
        return ok;
}

/* a slice of the engine's part per iteration, at idle priority: the bus and HTTP answer in between */
#define RV_MANAGER_LOAD_SLICE_USEC 4000

static void
rv_manager_load_done(RvManager *self, GTask *task)
{
        RvLoadData *data = g_task_get_task_data(task);

        self->load_task = NULL;
        g_debug("restored %u torrents from the %s store: read in %" G_GINT64_FORMAT
                " ms, all listed after %" G_GINT64_FORMAT " ms, all in the engine after %" G_GINT64_FORMAT " ms",
                data->restored, rv_store_get_backend(self->store), (data->read_us - data->started_us) / 1000,
                (data->listed_us - data->started_us) / 1000, (g_get_monotonic_time() - data->started_us) / 1000);
        /* a shutdown cut the load short: what did not reach the engine stays as stored */
        if (self->stopping)
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                        "stopping before every stored torrent was loaded");
        else
                g_task_return_boolean(task, TRUE);
        g_object_unref(task);
}

/* hands listed torrents to the engine, a slice per main-loop iteration, in the order they were listed */
static gboolean
rv_manager_load_engine_cb(gpointer user_data)
{
        GTask *task = user_data;
        RvManager *self = g_task_get_source_object(task);
        gint64 deadline = g_get_monotonic_time() + RV_MANAGER_LOAD_SLICE_USEC;

        /* from the start of a shutdown on the rest stays as stored */
        while (self->load_next < self->load_queue->len && !self->stopping) {
                const RvInfoHash *hash = &g_array_index(self->load_queue, RvInfoHash, self->load_next++);
                RvTorrent *torrent = rv_manager_lookup(self, hash);
                /* gone (removed) or handed over already for a command: nothing to do; parked: described only */
                if (torrent != NULL && torrent->parked)
                        rv_manager_park_describe(self, torrent);
                else if (torrent != NULL)
                        (void)rv_manager_load_now(self, torrent, NULL);
                if (g_get_monotonic_time() >= deadline)
                        return G_SOURCE_CONTINUE;
        }
        self->load_idle_id = 0;
        g_array_set_size(self->load_queue, 0);
        self->load_next = 0;
        rv_manager_load_done(self, task);
        return G_SOURCE_REMOVE;
}

/* every stored torrent is listed: ListTorrents is complete, while the engine's part goes on */
static void
rv_manager_load_listed(RvManager *self, GTask *task)
{
        RvLoadData *data = g_task_get_task_data(task);

        rv_store_set_load_batch_func(self->store, NULL, NULL);
        data->listed_us = g_get_monotonic_time();
        rv_manager_emit_listed(self);
        if (self->stopping) {
                rv_manager_load_done(self, task);
                return;
        }
        self->load_idle_id = g_idle_add(rv_manager_load_engine_cb, task);
}

/* lists a slice of what was read; FALSE once the queue is empty */
static gboolean
rv_manager_load_list_slice(RvManager *self, RvLoadData *data)
{
        guint end = MIN(data->next + MAX(self->config.load_batch, 1), data->queue->len);

        for (; data->next < end; data->next++) {
                RvStoreTorrent *record = g_ptr_array_index(data->queue, data->next);
                g_autoptr(GError) error = NULL;
                gboolean listed = FALSE;
                g_ptr_array_index(data->queue, data->next) = NULL;
                if (g_hash_table_contains(self->torrents, record->hash.hex) ||
                    g_hash_table_contains(self->adding, record->hash.hex)) {
                        /* added again before the load reached it */
                } else if (!rv_manager_restore(self, record, NULL, TRUE, &listed, &error)) {
                        rv_manager_problem(self, "stored torrent %s cannot be restored and was moved aside: %s",
                                           record->hash.hex, error->message);
                        rv_store_quarantine_torrent(self->store, &record->hash, error->message);
                } else {
                        data->restored++;
                }
                if (listed) {
                        /*
                         * the metadata is in the torrent: only the resume data waits for the
                         * engine, in a record of this thread's; the store's, made by its reader
                         * among the documents it parsed, would keep those pages of its heap
                         * for as long as a paused torrent stays parked
                         */
                        g_array_append_val(self->load_queue, record->hash);
                        rv_manager_keep_record(self, &record->hash, g_steal_pointer(&record->resume));
                }
                rv_store_torrent_free(record);
        }
        return data->next < data->queue->len;
}

/* lists a slice of what was read, so the main loop stays responsive; torrents are listed as they come */
static gboolean
rv_manager_load_batch_cb(gpointer user_data)
{
        GTask *task = user_data;
        RvManager *self = g_task_get_source_object(task);
        RvLoadData *data = g_task_get_task_data(task);

        if (rv_manager_load_list_slice(self, data))
                return G_SOURCE_CONTINUE;
        data->idle_id = 0;
        if (data->read_done)
                rv_manager_load_listed(self, task);
        return G_SOURCE_REMOVE;
}

static void
rv_manager_load_schedule(GTask *task)
{
        RvLoadData *data = g_task_get_task_data(task);

        if (data->idle_id == 0)
                data->idle_id = g_idle_add(rv_manager_load_batch_cb, task);
}

/* records the store hands over while it is still reading */
static void
rv_manager_load_records_cb(GPtrArray *records, gpointer user_data)
{
        RvManager *self = user_data;
        RvLoadData *data;

        if (self->load_task == NULL) {
                g_ptr_array_unref(records);
                return;
        }
        data = g_task_get_task_data(self->load_task);
        g_ptr_array_extend_and_steal(data->queue, records);
        rv_manager_load_schedule(self->load_task);
}

static void
rv_manager_load_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        RvManager *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;
        RvLoadData *data = g_task_get_task_data(task);
        RvStoreSnapshot *snapshot = rv_store_load_finish(self->store, result, &error);

        data->read_us = g_get_monotonic_time();
        data->read_done = TRUE;
        if (snapshot == NULL) {
                rv_health_set_degraded(self->health, RV_HEALTH_RESUME_STORE, error->message);
                /* what was handed over before the failure still comes back, the whole way; then the error */
                if (data->idle_id != 0) {
                        g_source_remove(data->idle_id);
                        data->idle_id = 0;
                }
                while (rv_manager_load_list_slice(self, data))
                        ;
                rv_store_set_load_batch_func(self->store, NULL, NULL);
                rv_manager_emit_listed(self);
                for (; self->load_next < self->load_queue->len; self->load_next++) {
                        RvTorrent *torrent =
                                rv_manager_lookup(self, &g_array_index(self->load_queue, RvInfoHash, self->load_next));
                        if (torrent != NULL)
                                (void)rv_manager_load_now(self, torrent, NULL);
                }
                g_array_set_size(self->load_queue, 0);
                self->load_next = 0;
                self->load_task = NULL;
                g_task_return_error(task, g_steal_pointer(&error));
                g_object_unref(task);
                return;
        }
        for (guint i = 0; i < snapshot->problems->len; i++)
                rv_manager_problem(self, "%s", (const char *)g_ptr_array_index(snapshot->problems, i));
        if (snapshot->problems->len > 0) {
                const char *first = g_ptr_array_index(snapshot->problems, 0);
                g_autofree char *reason =
                        snapshot->problems->len == 1
                                ? g_strdup(first)
                                : g_strdup_printf("%u stored records were damaged or incomplete, the first: %s",
                                                  snapshot->problems->len, first);
                rv_health_set_degraded(self->health, RV_HEALTH_RESUME_STORE, reason);
        }
        /* the array's free function goes with it: the queue owns the records */
        g_ptr_array_set_free_func(snapshot->torrents, NULL);
        g_ptr_array_extend_and_steal(data->queue, g_steal_pointer(&snapshot->torrents));
        rv_store_snapshot_free(snapshot);
        if (data->next < data->queue->len || data->idle_id != 0)
                rv_manager_load_schedule(task);
        else
                rv_manager_load_listed(self, task);
}

void
rv_manager_load_async(RvManager *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, cancellable, callback, user_data);
        RvLoadData *data = g_new0(RvLoadData, 1);

        g_return_if_fail(self->load_task == NULL);
        /* owns its records: a slot is NULL once restored */
        data->queue = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_torrent_free);
        data->started_us = g_get_monotonic_time();
        g_task_set_task_data(task, data, (GDestroyNotify)rv_load_data_free);
        self->load_task = task;
        rv_store_set_load_batch_func(self->store, rv_manager_load_records_cb, self);
        rv_store_load_async(self->store, cancellable, rv_manager_load_cb, task);
}

gboolean
rv_manager_load_finish(RvManager *self, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

void
rv_manager_keep_record(RvManager *self, const RvInfoHash *hash, GBytes *resume)
{
        RvStoreTorrent *record = g_new0(RvStoreTorrent, 1);

        record->hash = *hash;
        record->resume = resume;
        g_hash_table_replace(self->loading, record->hash.hex, record);
}

void
rv_manager_load_clear(RvManager *self)
{
        if (self->load_idle_id != 0) {
                g_source_remove(self->load_idle_id);
                self->load_idle_id = 0;
        }
        g_hash_table_remove_all(self->loading);
        g_array_set_size(self->load_queue, 0);
        self->load_next = 0;
}

void
rv_manager_load_stop(RvManager *self)
{
        /* the engine's part of a load ends at once; a load still listing ends when it is listed */
        if (self->load_task == NULL || self->load_idle_id == 0)
                return;
        g_source_remove(self->load_idle_id);
        self->load_idle_id = 0;
        rv_manager_load_done(self, self->load_task);
}
