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
} RvLoadData;

static void
rv_load_data_free(RvLoadData *data)
{
        if (data->idle_id != 0)
                g_source_remove(data->idle_id);
        g_ptr_array_unref(data->queue);
        g_free(data);
}

static gboolean
rv_manager_restore_one(RvManager *self, RvStoreTorrent *record, GError **error)
{
        g_autoptr(RvTorrent) torrent = rv_torrent_new(&record->hash);
        g_autoptr(RvEngineSource) source = NULL;
        g_autofree guint8 *prio = NULL;
        const RvEngineSourceInfo *info;
        RvEngineAddOptions options;
        RvTorrent *ret;
        gsize n_prio = 0;

        if (record->meta != NULL) {
                g_autoptr(GError) error_local = NULL;
                if (!rv_torrent_meta_from_json(torrent, record->meta, &error_local)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "metadata is invalid: %s",
                                    error_local->message);
                        return FALSE;
                }
        }
        if (record->resume != NULL) {
                g_autoptr(GError) error_local = NULL;
                source = rv_engine_source_new_resume(self->engine, record->resume, &error_local);
                if (source == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "resume data is invalid: %s",
                                    error_local->message);
                        return FALSE;
                }
        } else if (torrent->magnet != NULL) {
                /* added as a magnet and never saved by libtorrent: start over from the link */
                source = rv_engine_source_new_magnet(self->engine, torrent->magnet, error);
                if (source == NULL)
                        return FALSE;
        } else {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "resume data is missing and there is no magnet link to start from");
                return FALSE;
        }
        info = rv_engine_source_get_info(source);
        if (!rv_info_hash_equal(&info->hash, &record->hash)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "resume data belongs to %s", info->hash.hex);
                return FALSE;
        }

        rv_engine_source_get_options(source, &options);
        if (record->meta == NULL) {
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
        torrent->state = torrent->user_paused ? RV_TORRENT_STATE_PAUSED : RV_TORRENT_STATE_CHECKING;
        if (info->files != NULL)
                rv_manager_set_files(torrent, info->files);
        prio = rv_torrent_compute_priorities(torrent, &n_prio);

        /* Revaer's metadata wins over libtorrent's copy where both know a thing */
        options.save_path = torrent->save_path;
        options.paused = torrent->user_paused;
        options.sequential = torrent->sequential;
        options.force_start = torrent->force_start;
        options.super_seeding = torrent->super_seeding;
        options.first_last_piece = torrent->first_last_piece;
        options.download_limit = torrent->download_limit;
        options.upload_limit = torrent->upload_limit;
        if (torrent->peers != NULL && torrent->peers[0] != NULL)
                options.peers = (const char *const *)torrent->peers;
        if (prio != NULL) {
                options.file_priorities = prio;
                options.n_file_priorities = n_prio;
        }
        if (!rv_engine_add(self->engine, g_steal_pointer(&source), &options, error))
                return FALSE;
        ret = g_steal_pointer(&torrent);
        rv_manager_register(self, ret);
        /* the store kept a copy of what it had; a whole record again, so the next start has nothing to report */
        if (record->meta == NULL)
                rv_manager_persist_meta(self, ret);
        rv_manager_publish_restored(self, ret);
        return TRUE;
}

static void
rv_manager_load_done(RvManager *self, GTask *task)
{
        RvLoadData *data = g_task_get_task_data(task);

        rv_store_set_load_batch_func(self->store, NULL, NULL);
        self->load_task = NULL;
        g_debug("restored %u torrents from the %s store: read in %" G_GINT64_FORMAT
                " ms, all registered after %" G_GINT64_FORMAT " ms",
                data->restored, rv_store_get_backend(self->store), (data->read_us - data->started_us) / 1000,
                (g_get_monotonic_time() - data->started_us) / 1000);
        g_task_return_boolean(task, TRUE);
        g_object_unref(task);
}

/* restores a slice of what was read, so the main loop stays responsive; torrents are listed as they come */
static gboolean
rv_manager_load_batch_cb(gpointer user_data)
{
        GTask *task = user_data;
        RvManager *self = g_task_get_source_object(task);
        RvLoadData *data = g_task_get_task_data(task);
        guint end = MIN(data->next + MAX(self->config.load_batch, 1), data->queue->len);

        for (; data->next < end; data->next++) {
                RvStoreTorrent *record = g_ptr_array_index(data->queue, data->next);
                g_autoptr(GError) error = NULL;
                if (g_hash_table_contains(self->torrents, record->hash.hex) ||
                    g_hash_table_contains(self->adding, record->hash.hex)) {
                        /* added again before the load reached it */
                } else if (!rv_manager_restore_one(self, record, &error)) {
                        rv_manager_problem(self, "stored torrent %s cannot be restored and was moved aside: %s",
                                           record->hash.hex, error->message);
                        rv_store_quarantine_torrent(self->store, &record->hash, error->message);
                } else {
                        data->restored++;
                }
                rv_store_torrent_free(record);
                g_ptr_array_index(data->queue, data->next) = NULL;
        }
        if (data->next < data->queue->len)
                return G_SOURCE_CONTINUE;
        data->idle_id = 0;
        if (data->read_done)
                rv_manager_load_done(self, task);
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
                if (data->idle_id != 0) {
                        /* what was handed over before the failure still comes back; then the error */
                        g_source_remove(data->idle_id);
                        data->idle_id = 0;
                        while (rv_manager_load_batch_cb(task) == G_SOURCE_CONTINUE)
                                ;
                }
                rv_store_set_load_batch_func(self->store, NULL, NULL);
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
                rv_manager_load_done(self, task);
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
