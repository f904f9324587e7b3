/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* what the store backends implement behind rv-store.h */

#include "rv-store.h"

G_BEGIN_DECLS

/*
 * the async members complete a GTask (source object NULL) with: open,
 * take_setup_token -> boolean; load -> RvStoreSnapshot; load_settings ->
 * RvStoreSettings; save_settings -> int (the new revision); list_* ->
 * GPtrArray; the dispatcher's _finish functions propagate them
 */
typedef struct {
        const char *name;
        void (*free)(RvStore *store);
        void (*open_async)(RvStore *store, GTask *task);
        void (*load_async)(RvStore *store, GTask *task);
        /* meta: JSON text the backend takes, NUL-terminated, or NULL */
        void (*put_torrent)(RvStore *store, const RvInfoHash *hash, char *meta, gsize meta_length, GBytes *resume,
                            RvStoreDoneFunc done, gpointer user_data);
        void (*delete_torrent)(RvStore *store, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data);
        void (*quarantine_torrent)(RvStore *store, const RvInfoHash *hash, const char *reason);
        /* NULL for a backend that does not read one record back (the caller keeps its copy) */
        GBytes *(*read_resume)(RvStore *store, const RvInfoHash *hash, GError **error);
        guint64 (*read_event_reservation)(RvStore *store, GError **error);
        void (*put_event_reservation)(RvStore *store, guint64 reserved_up_to);
        void (*load_settings_async)(RvStore *store, GTask *task);
        void (*save_settings_async)(RvStore *store, guint64 expected_revision, JsonNode *document,
                                    const RvStoreHistoryEntry *entry, GTask *task);
        void (*list_history_async)(RvStore *store, guint limit, GTask *task);
        void (*put_api_key)(RvStore *store, const RvStoreApiKey *key, RvStoreDoneFunc done, gpointer user_data);
        void (*delete_api_key)(RvStore *store, const char *key_id, RvStoreDoneFunc done, gpointer user_data);
        void (*list_api_keys_async)(RvStore *store, GTask *task);
        void (*put_setup_token)(RvStore *store, const char *token_hash, gint64 expires_at, const char *issued_by,
                                RvStoreDoneFunc done, gpointer user_data);
        void (*take_setup_token_async)(RvStore *store, const char *token_hash, gint64 now, GTask *task);
        void (*touch_node)(RvStore *store, const char *name, RvStoreDoneFunc done, gpointer user_data);
        void (*list_nodes_async)(RvStore *store, GTask *task);
        void (*flush)(RvStore *store, RvStoreDoneFunc done, gpointer user_data);
        guint (*get_pending)(RvStore *store);
        /* NULL for a backend without leases */
        gboolean (*set_lease)(RvStore *store, guint lease_s, GError **error);
        void (*start_takeover)(RvStore *store);
        guint64 (*get_epoch)(RvStore *store);
        /* NULL for a backend without commands between nodes */
        void (*send_command_async)(RvStore *store, const char *target, JsonNode *body, guint timeout_ms, GTask *task);
        void (*answer_command)(RvStore *store, guint64 id, JsonNode *answer);
        void (*put_status)(RvStore *store, JsonNode *statuses);
        void (*list_cluster_async)(RvStore *store, GTask *task);
} RvStoreClass;

struct _RvStore {
        const RvStoreClass *klass;
        /* the backend's own state */
        gpointer impl;
        RvHealth *health;
        GMainContext *context;
        char *node_id;
        RvStoreSettingsChangedFunc settings_changed;
        gpointer settings_changed_data;
        RvStoreKeysChangedFunc keys_changed;
        gpointer keys_changed_data;
        RvStoreLoadBatchFunc load_batch;
        gpointer load_batch_data;
        guint lease_s;
        RvStoreClusterFuncs cluster;
        gpointer cluster_data;
        /* torrent writes, from the call until durable */
        RvStoreWriteStats writes;
};

RvStore *rv_store_new_internal(const RvStoreClass *klass, gpointer impl, RvHealth *health, const char *node_id);
/* tell the owner about a revision stored elsewhere (main context only) */
void rv_store_emit_settings_changed(RvStore *store, guint64 revision);
void rv_store_emit_keys_changed(RvStore *store);
/*
 * from a backend's loading thread: hand records over to the load batch
 * function on the main context, taking the array; FALSE (and records left
 * alone) when there is no such function
 */
gboolean rv_store_post_load_batch(RvStore *store, GPtrArray *records);

/* to the owner (main context only); nothing happens without cluster funcs */
void rv_store_emit_lease(RvStore *store, gboolean held, const char *reason);
void rv_store_emit_lost(RvStore *store, const RvInfoHash *hash, const char *owner);
/* takes records */
void rv_store_emit_claimed(RvStore *store, GPtrArray *records);
/* takes command */
void rv_store_emit_command(RvStore *store, RvStoreCommand *command);

/* tests: every write of the embedded store fails with errsv (ENOSPC, ...) until called with 0 */
void rv_store_embedded_set_write_failure(RvStore *store, int errsv);
/*
 * tests: asked on the writer thread before each record file is written (name
 * as in the torrents or state directory, len its size): 0 lets the write
 * happen; an errno fails it, after the first *ret_kept bytes (0 unless set)
 * reached the temp file, as a short write on a filling disk leaves it
 */
typedef int (*RvStoreWriteFaultFunc)(const char *name, gsize len, gsize *ret_kept, gpointer user_data);
void rv_store_embedded_set_write_fault_func(RvStore *store, RvStoreWriteFaultFunc func, gpointer user_data);
/*
 * tests: FALSE keeps the records in the embedded store's write-ahead log
 * (idle and at the end), as a crash would leave them; a full log and
 * batches past it still empty it
 */
void rv_store_embedded_set_checkpoints(RvStore *store, gboolean enabled);
/* tests: every append to the embedded store's write-ahead log fails with errsv (EIO, ...) until called with 0 */
void rv_store_embedded_set_log_failure(RvStore *store, int errsv);
/*
 * tests: the files thread holds what the log took (only a checkpoint, a
 * flush or a load has it written), and its writes fail with errsv (0: none)
 */
void rv_store_embedded_set_files_held(RvStore *store, gboolean held);
void rv_store_embedded_set_files_failure(RvStore *store, int errsv);

/* shared by the backends: history entries to and from JSON, API keys likewise */
JsonNode *rv_store_history_entry_to_json(const RvStoreHistoryEntry *entry);
RvStoreHistoryEntry *rv_store_history_entry_from_json(JsonNode *node, GError **error);
RvStoreHistoryEntry *rv_store_history_entry_copy(const RvStoreHistoryEntry *entry);
JsonNode *rv_store_api_key_to_json(const RvStoreApiKey *key);
RvStoreApiKey *rv_store_api_key_from_json(JsonNode *node, GError **error);

G_END_DECLS
