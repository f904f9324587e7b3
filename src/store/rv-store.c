/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-store"

#include "config.h"

#include <string.h>

#include "rv-context.h"
#include "rv-json.h"
#include "rv-store-private.h"

RvStore *
rv_store_new_internal(const RvStoreClass *klass, gpointer impl, RvHealth *health, const char *node_id)
{
        RvStore *store = g_new0(RvStore, 1);

        store->klass = klass;
        store->impl = impl;
        store->health = health;
        store->context = g_main_context_ref_thread_default();
        store->node_id = g_strdup(node_id != NULL ? node_id : "local");
        return store;
}

void
rv_store_free(RvStore *store)
{
        if (store == NULL)
                return;
        store->klass->free(store);
        g_main_context_unref(store->context);
        g_free(store->node_id);
        g_free(store);
}

const char *
rv_store_get_backend(RvStore *store)
{
        return store->klass->name;
}

const char *
rv_store_get_node_id(RvStore *store)
{
        return store->node_id;
}

void
rv_store_torrent_free(RvStoreTorrent *torrent)
{
        if (torrent == NULL)
                return;
        if (torrent->meta != NULL)
                json_node_unref(torrent->meta);
        if (torrent->resume != NULL)
                g_bytes_unref(torrent->resume);
        g_free(torrent);
}

void
rv_store_snapshot_free(RvStoreSnapshot *snapshot)
{
        if (snapshot == NULL)
                return;
        g_clear_pointer(&snapshot->torrents, g_ptr_array_unref);
        g_clear_pointer(&snapshot->problems, g_ptr_array_unref);
        g_free(snapshot);
}

void
rv_store_settings_free(RvStoreSettings *settings)
{
        if (settings == NULL)
                return;
        if (settings->document != NULL)
                json_node_unref(settings->document);
        g_free(settings);
}

void
rv_store_history_entry_free(RvStoreHistoryEntry *entry)
{
        if (entry == NULL)
                return;
        g_free(entry->actor);
        g_free(entry->reason);
        if (entry->changes != NULL)
                json_node_unref(entry->changes);
        g_free(entry);
}

RvStoreHistoryEntry *
rv_store_history_entry_copy(const RvStoreHistoryEntry *entry)
{
        RvStoreHistoryEntry *copy = g_new0(RvStoreHistoryEntry, 1);

        copy->revision = entry->revision;
        copy->timestamp = entry->timestamp;
        copy->actor = g_strdup(entry->actor);
        copy->reason = g_strdup(entry->reason);
        copy->changes = entry->changes != NULL ? json_node_copy(entry->changes) : NULL;
        return copy;
}

void
rv_store_api_key_free(RvStoreApiKey *key)
{
        if (key == NULL)
                return;
        g_free(key->key_id);
        g_free(key->label);
        if (key->secret_hash != NULL)
                explicit_bzero(key->secret_hash, strlen(key->secret_hash));
        g_free(key->secret_hash);
        g_free(key->scope);
        g_free(key);
}

RvStoreApiKey *
rv_store_api_key_copy(const RvStoreApiKey *key)
{
        RvStoreApiKey *copy = g_new0(RvStoreApiKey, 1);

        *copy = *key;
        copy->key_id = g_strdup(key->key_id);
        copy->label = g_strdup(key->label);
        copy->secret_hash = g_strdup(key->secret_hash);
        copy->scope = g_strdup(key->scope);
        return copy;
}

void
rv_store_node_free(RvStoreNode *node)
{
        if (node == NULL)
                return;
        g_free(node->node_id);
        g_free(node->name);
        g_free(node);
}

JsonNode *
rv_store_history_entry_to_json(const RvStoreHistoryEntry *entry)
{
        JsonObject *obj = json_object_new();

        json_object_set_int_member(obj, "revision", (gint64)entry->revision);
        json_object_set_int_member(obj, "timestamp", entry->timestamp);
        json_object_set_string_member(obj, "actor", entry->actor != NULL ? entry->actor : "");
        json_object_set_string_member(obj, "reason", entry->reason != NULL ? entry->reason : "");
        json_object_set_member(obj, "changes",
                               entry->changes != NULL ? json_node_copy(entry->changes)
                                                      : rv_json_node_take_object(json_object_new()));
        return rv_json_node_take_object(obj);
}

RvStoreHistoryEntry *
rv_store_history_entry_from_json(JsonNode *node, GError **error)
{
        JsonObject *obj;
        JsonNode *changes;
        RvStoreHistoryEntry *entry;

        if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "history entry: not an object");
                return NULL;
        }
        obj = json_node_get_object(node);
        entry = g_new0(RvStoreHistoryEntry, 1);
        entry->revision = (guint64)rv_json_object_get_int_or(obj, "revision", 0);
        entry->timestamp = rv_json_object_get_int_or(obj, "timestamp", 0);
        entry->actor = g_strdup(rv_json_object_get_string_or(obj, "actor", ""));
        entry->reason = g_strdup(rv_json_object_get_string_or(obj, "reason", ""));
        changes = json_object_get_member(obj, "changes");
        entry->changes = changes != NULL ? json_node_copy(changes) : NULL;
        return entry;
}

JsonNode *
rv_store_api_key_to_json(const RvStoreApiKey *key)
{
        JsonObject *obj = json_object_new();

        json_object_set_string_member(obj, "key_id", key->key_id);
        json_object_set_string_member(obj, "label", key->label != NULL ? key->label : "");
        json_object_set_string_member(obj, "secret_hash", key->secret_hash != NULL ? key->secret_hash : "");
        json_object_set_boolean_member(obj, "enabled", key->enabled);
        json_object_set_int_member(obj, "burst", key->burst);
        json_object_set_int_member(obj, "period_s", key->period_s);
        json_object_set_int_member(obj, "created", key->created);
        json_object_set_string_member(obj, "scope", key->scope != NULL ? key->scope : "admin");
        return rv_json_node_take_object(obj);
}

RvStoreApiKey *
rv_store_api_key_from_json(JsonNode *node, GError **error)
{
        JsonObject *obj;
        RvStoreApiKey *key;

        if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node) ||
            rv_json_object_get_string_or(json_node_get_object(node), "key_id", NULL) == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "API key: not an object with a key_id");
                return NULL;
        }
        obj = json_node_get_object(node);
        key = g_new0(RvStoreApiKey, 1);
        key->key_id = g_strdup(json_object_get_string_member(obj, "key_id"));
        key->label = g_strdup(rv_json_object_get_string_or(obj, "label", ""));
        key->secret_hash = g_strdup(rv_json_object_get_string_or(obj, "secret_hash", ""));
        key->enabled = rv_json_object_get_boolean_or(obj, "enabled", TRUE);
        key->burst = (guint)rv_json_object_get_int_or(obj, "burst", 0);
        key->period_s = (guint)rv_json_object_get_int_or(obj, "period_s", 0);
        key->created = rv_json_object_get_int_or(obj, "created", 0);
        /* keys stored before scopes existed could do everything */
        key->scope = g_strdup(rv_json_object_get_string_or(obj, "scope", "admin"));
        return key;
}

void
rv_store_emit_settings_changed(RvStore *store, guint64 revision)
{
        if (store->settings_changed != NULL)
                store->settings_changed(store, revision, store->settings_changed_data);
}

void
rv_store_emit_keys_changed(RvStore *store)
{
        if (store->keys_changed != NULL)
                store->keys_changed(store, store->keys_changed_data);
}

void
rv_store_set_keys_changed_func(RvStore *store, RvStoreKeysChangedFunc func, gpointer user_data)
{
        store->keys_changed = func;
        store->keys_changed_data = user_data;
}

void
rv_store_set_settings_changed_func(RvStore *store, RvStoreSettingsChangedFunc func, gpointer user_data)
{
        store->settings_changed = func;
        store->settings_changed_data = user_data;
}

static GTask *
rv_store_task(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(NULL, cancellable, callback, user_data);

        g_task_set_task_data(task, store, NULL);
        return task;
}

void
rv_store_open_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        store->klass->open_async(store, rv_store_task(store, cancellable, callback, user_data));
}

gboolean
rv_store_open_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

void
rv_store_set_load_batch_func(RvStore *store, RvStoreLoadBatchFunc func, gpointer user_data)
{
        store->load_batch = func;
        store->load_batch_data = user_data;
}

typedef struct {
        RvStore *store;
        GPtrArray *records;
} RvStoreLoadBatch;

static gboolean
rv_store_load_batch_cb(gpointer user_data)
{
        RvStoreLoadBatch *batch = user_data;

        if (batch->store->load_batch != NULL)
                batch->store->load_batch(g_steal_pointer(&batch->records), batch->store->load_batch_data);
        g_clear_pointer(&batch->records, g_ptr_array_unref);
        g_free(batch);
        return G_SOURCE_REMOVE;
}

gboolean
rv_store_post_load_batch(RvStore *store, GPtrArray *records)
{
        RvStoreLoadBatch *batch;

        /* read from the loading thread: set before the load starts and left alone until it ends */
        if (store->load_batch == NULL)
                return FALSE;
        batch = g_new0(RvStoreLoadBatch, 1);
        batch->store = store;
        batch->records = records;
        /* the same priority as the task's completion, and queued before it: batches arrive first */
        rv_context_post(store->context, G_PRIORITY_DEFAULT, rv_store_load_batch_cb, batch, NULL);
        return TRUE;
}

void
rv_store_load_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        store->klass->load_async(store, rv_store_task(store, cancellable, callback, user_data));
}

RvStoreSnapshot *
rv_store_load_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

const guint rv_store_write_bucket_ms[RV_STORE_WRITE_BUCKETS] = { 1, 5, 10, 25, 50, 100, 250, 1000 };

typedef struct {
        RvStore *store;
        gint64 started_us;
        RvStoreDoneFunc done;
        gpointer user_data;
} RvStoreTimedWrite;

/* every torrent write is timed here, whichever backend does it, for the metrics */
static void
rv_store_timed_write_cb(const GError *error, gpointer user_data)
{
        RvStoreTimedWrite *w = user_data;
        RvStoreWriteStats *stats = &w->store->writes;
        guint64 took = (guint64)MAX(g_get_monotonic_time() - w->started_us, 0);

        stats->count++;
        stats->failed += error != NULL;
        stats->sum_us += took;
        stats->max_us = MAX(stats->max_us, took);
        for (guint i = 0; i < RV_STORE_WRITE_BUCKETS; i++)
                stats->buckets[i] += took <= (guint64)rv_store_write_bucket_ms[i] * 1000;
        if (w->done != NULL)
                w->done(error, w->user_data);
        g_free(w);
}

void
rv_store_put_torrent_text(RvStore *store, const RvInfoHash *hash, char *meta, gsize meta_length, GBytes *resume,
                          RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreTimedWrite *w = g_new(RvStoreTimedWrite, 1);

        w->store = store;
        w->started_us = g_get_monotonic_time();
        w->done = done;
        w->user_data = user_data;
        store->klass->put_torrent(store, hash, meta, meta_length, resume, rv_store_timed_write_cb, w);
}

void
rv_store_put_torrent(RvStore *store, const RvInfoHash *hash, JsonNode *meta, GBytes *resume, RvStoreDoneFunc done,
                     gpointer user_data)
{
        char *text = NULL;
        gsize len = 0;

        if (meta != NULL) {
                g_autoptr(JsonGenerator) gen = json_generator_new();
                json_generator_set_root(gen, meta);
                json_generator_set_pretty(gen, TRUE);
                text = json_generator_to_data(gen, &len);
        }
        rv_store_put_torrent_text(store, hash, text, len, resume, done, user_data);
}

void
rv_store_get_write_stats(RvStore *store, RvStoreWriteStats *ret_stats)
{
        *ret_stats = store->writes;
}

void
rv_store_delete_torrent(RvStore *store, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->delete_torrent(store, hash, done, user_data);
}

void
rv_store_quarantine_torrent(RvStore *store, const RvInfoHash *hash, const char *reason)
{
        g_autofree char *why = g_strdup_printf("torrent %s: %s", hash->hex, reason);

        store->klass->quarantine_torrent(store, hash, reason);
        if (store->health != NULL)
                rv_health_set_degraded(store->health, RV_HEALTH_RESUME_STORE, why);
}

gboolean
rv_store_can_read_resume(RvStore *store)
{
        return store->klass->read_resume != NULL;
}

GBytes *
rv_store_read_resume(RvStore *store, const RvInfoHash *hash, GError **error)
{
        if (store->klass->read_resume == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "the %s store does not read records back",
                            store->klass->name);
                return NULL;
        }
        return store->klass->read_resume(store, hash, error);
}

guint64
rv_store_read_event_reservation(RvStore *store, GError **error)
{
        return store->klass->read_event_reservation(store, error);
}

void
rv_store_put_event_reservation(RvStore *store, guint64 reserved_up_to)
{
        store->klass->put_event_reservation(store, reserved_up_to);
}

void
rv_store_load_settings_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
        store->klass->load_settings_async(store, rv_store_task(store, cancellable, callback, user_data));
}

RvStoreSettings *
rv_store_load_settings_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_save_settings_async(RvStore *store, guint64 expected_revision, JsonNode *document,
                             const RvStoreHistoryEntry *entry, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
        store->klass->save_settings_async(store, expected_revision, document, entry,
                                          rv_store_task(store, cancellable, callback, user_data));
}

guint64
rv_store_save_settings_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        gssize revision = g_task_propagate_int(G_TASK(result), error);

        return revision < 0 ? 0 : (guint64)revision;
}

void
rv_store_list_history_async(RvStore *store, guint limit, GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
        store->klass->list_history_async(store, limit, rv_store_task(store, cancellable, callback, user_data));
}

GPtrArray *
rv_store_list_history_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_put_api_key(RvStore *store, const RvStoreApiKey *key, RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->put_api_key(store, key, done, user_data);
}

void
rv_store_delete_api_key(RvStore *store, const char *key_id, RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->delete_api_key(store, key_id, done, user_data);
}

void
rv_store_list_api_keys_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
        store->klass->list_api_keys_async(store, rv_store_task(store, cancellable, callback, user_data));
}

GPtrArray *
rv_store_list_api_keys_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_put_setup_token(RvStore *store, const char *token_hash, gint64 expires_at, const char *issued_by,
                         RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->put_setup_token(store, token_hash, expires_at, issued_by, done, user_data);
}

void
rv_store_take_setup_token_async(RvStore *store, const char *token_hash, gint64 now, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
        store->klass->take_setup_token_async(store, token_hash, now,
                                             rv_store_task(store, cancellable, callback, user_data));
}

gboolean
rv_store_take_setup_token_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

void
rv_store_touch_node(RvStore *store, const char *name, RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->touch_node(store, name, done, user_data);
}

void
rv_store_list_nodes_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        store->klass->list_nodes_async(store, rv_store_task(store, cancellable, callback, user_data));
}

GPtrArray *
rv_store_list_nodes_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_flush(RvStore *store, RvStoreDoneFunc done, gpointer user_data)
{
        store->klass->flush(store, done, user_data);
}

guint
rv_store_get_pending(RvStore *store)
{
        return store->klass->get_pending(store);
}

gboolean
rv_store_set_lease(RvStore *store, guint lease_s, GError **error)
{
        if (store->klass->set_lease == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "[cluster]: leases need the PostgreSQL store, this node uses the %s store",
                            store->klass->name);
                return FALSE;
        }
        if (!store->klass->set_lease(store, lease_s, error))
                return FALSE;
        store->lease_s = lease_s;
        return TRUE;
}

guint
rv_store_get_lease(RvStore *store)
{
        return store->lease_s;
}

void
rv_store_set_cluster_funcs(RvStore *store, const RvStoreClusterFuncs *funcs, gpointer user_data)
{
        if (funcs != NULL)
                store->cluster = *funcs;
        else
                memset(&store->cluster, 0, sizeof(store->cluster));
        store->cluster_data = user_data;
}

void
rv_store_start_takeover(RvStore *store)
{
        if (store->lease_s > 0 && store->klass->start_takeover != NULL)
                store->klass->start_takeover(store);
}

guint64
rv_store_get_epoch(RvStore *store)
{
        return store->klass->get_epoch != NULL ? store->klass->get_epoch(store) : 0;
}

void
rv_store_emit_lease(RvStore *store, gboolean held, const char *reason)
{
        if (store->cluster.lease != NULL)
                store->cluster.lease(store, held, reason, store->cluster_data);
}

void
rv_store_emit_lost(RvStore *store, const RvInfoHash *hash, const char *owner)
{
        if (store->cluster.lost != NULL)
                store->cluster.lost(store, hash, owner, store->cluster_data);
}

void
rv_store_emit_command(RvStore *store, RvStoreCommand *command)
{
        if (store->cluster.command != NULL)
                store->cluster.command(store, command, store->cluster_data);
        else
                rv_store_command_free(command);
}

void
rv_store_command_free(RvStoreCommand *command)
{
        if (command == NULL)
                return;
        g_free(command->from_node);
        if (command->body != NULL)
                json_node_unref(command->body);
        g_free(command);
}

void
rv_store_cluster_torrent_free(RvStoreClusterTorrent *torrent)
{
        if (torrent == NULL)
                return;
        g_free(torrent->node_id);
        if (torrent->meta != NULL)
                json_node_unref(torrent->meta);
        if (torrent->status != NULL)
                json_node_unref(torrent->status);
        g_free(torrent);
}

void
rv_store_cluster_view_free(RvStoreClusterView *view)
{
        if (view == NULL)
                return;
        if (view->torrents != NULL)
                g_ptr_array_unref(view->torrents);
        g_strfreev(view->live_nodes);
        g_free(view);
}

static gboolean
rv_store_check_cluster(RvStore *store, GError **error)
{
        if (store->klass->send_command_async == NULL || rv_store_get_lease(store) == 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "the cluster view and commands between nodes need the PostgreSQL store with [cluster] "
                            "(this node: the %s store%s)",
                            store->klass->name, rv_store_get_lease(store) == 0 ? ", no [cluster]" : "");
                return FALSE;
        }
        return TRUE;
}

/* a task for what needs the cluster; NULL when it already failed for its lack */
static GTask *
rv_store_cluster_task(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = rv_store_task(store, cancellable, callback, user_data);
        GError *error = NULL;

        if (rv_store_check_cluster(store, &error))
                return task;
        g_task_return_error(task, error);
        g_object_unref(task);
        return NULL;
}

void
rv_store_send_command_async(RvStore *store, const char *target, JsonNode *body, guint timeout_ms,
                            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = rv_store_cluster_task(store, cancellable, callback, user_data);

        if (task != NULL)
                store->klass->send_command_async(store, target, body, timeout_ms, task);
}

JsonNode *
rv_store_send_command_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_answer_command(RvStore *store, guint64 id, JsonNode *answer)
{
        if (store->klass->answer_command != NULL)
                store->klass->answer_command(store, id, answer);
}

void
rv_store_put_status(RvStore *store, JsonNode *statuses)
{
        if (store->klass->put_status != NULL && rv_store_get_lease(store) > 0)
                store->klass->put_status(store, statuses);
}

void
rv_store_list_cluster_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = rv_store_cluster_task(store, cancellable, callback, user_data);

        if (task != NULL)
                store->klass->list_cluster_async(store, task);
}

RvStoreClusterView *
rv_store_list_cluster_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_store_emit_claimed(RvStore *store, GPtrArray *records)
{
        if (store->cluster.claimed != NULL)
                store->cluster.claimed(store, records, store->cluster_data);
        else
                g_ptr_array_unref(records);
}
