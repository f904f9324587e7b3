/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rv-error.h"
#include "rv-info-hash.h"
#include "rv-health.h"

G_BEGIN_DECLS

/*
 * where Revaer keeps what must survive a restart, behind one interface with
 * two backends: "embedded" (files in the state directory, the default) and
 * "postgres" (libpq, for a control plane shared by several nodes)
 *
 * - per torrent: Revaer's metadata (a JSON document) and libtorrent's resume
 *   blob, in the catalogue of the node that owns the torrent;
 * - settings: one JSON document {"app": {...}, "engine": {...}, "fs": {...}}
 *   with a revision that every change bumps, and a history of changes;
 * - API keys and the setup token, as hashes only;
 * - the node registry.
 *
 * Everything is asynchronous: nothing blocks the main loop. Callbacks and
 * _finish results are delivered on the main context the store was created
 * on. Writes are queued, coalesced where they replace each other, and made
 * durable in order; a backend that loses its server keeps queued writes (up to
 * a bound), reports itself degraded in health, and flushes them when it is
 * back. A write the embedded store could not make (disk full) is reported to
 * its caller and still kept: tried again with a backoff, at every flush and
 * at close, until it succeeds or a later write or delete of the same record
 * replaces it; health is degraded while any is left.
 */
typedef struct _RvStore RvStore;

typedef struct {
        RvInfoHash hash;
        /* either may be NULL when missing */
        JsonNode *meta;
        GBytes *resume;
} RvStoreTorrent;

void rv_store_torrent_free(RvStoreTorrent *torrent);

typedef struct {
        /* RvStoreTorrent of this node */
        GPtrArray *torrents;
        /* one human-readable line per record that was unusable and moved aside */
        GPtrArray *problems;
        /* the highest event id that may have been handed out before */
        guint64 event_ids_reserved;
} RvStoreSnapshot;

void rv_store_snapshot_free(RvStoreSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreSnapshot, rv_store_snapshot_free)

typedef struct {
        /* 0 when nothing was ever stored */
        guint64 revision;
        /* {"app": {...}, "engine": {...}, "fs": {...}}, NULL when nothing was ever stored */
        JsonNode *document;
} RvStoreSettings;

void rv_store_settings_free(RvStoreSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreSettings, rv_store_settings_free)

typedef struct {
        guint64 revision;
        /* unix microseconds */
        gint64 timestamp;
        /* who: "dbus:uid=1000", "cli", "node:<id>", "setup", ... */
        char *actor;
        char *reason;
        /* {"/engine/download_limit": {"old": 0, "new": 5000}, ...} */
        JsonNode *changes;
} RvStoreHistoryEntry;

void rv_store_history_entry_free(RvStoreHistoryEntry *entry);

typedef struct {
        char *key_id;
        char *label;
        /* never the secret itself */
        char *secret_hash;
        gboolean enabled;
        /* token bucket; 0 = no limit */
        guint burst;
        guint period_s;
        /* unix seconds */
        gint64 created;
        /* what the key may do ("metrics", "read", "manage", "configure", "admin"); NULL is "admin" */
        char *scope;
} RvStoreApiKey;

void rv_store_api_key_free(RvStoreApiKey *key);
RvStoreApiKey *rv_store_api_key_copy(const RvStoreApiKey *key);

typedef struct {
        char *node_id;
        char *name;
        /* unix seconds */
        gint64 last_seen;
} RvStoreNode;

void rv_store_node_free(RvStoreNode *node);

/* error is NULL on success */
typedef void (*RvStoreDoneFunc)(const GError *error, gpointer user_data);
/* another node, or an edit of the stored document, made this revision current */
typedef void (*RvStoreSettingsChangedFunc)(RvStore *store, guint64 revision, gpointer user_data);

RvStore *rv_store_embedded_new(const char *state_dir, RvHealth *health, GError **error);
/*
 * conninfo is a libpq connection string or URI; node_id names this node in the
 * catalogue; the connection and migrations happen in rv_store_open_async()
 */
RvStore *rv_store_postgres_new(const char *conninfo, const char *node_id, RvHealth *health, GError **error);
void rv_store_free(RvStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStore, rv_store_free)

/* "embedded" or "postgres" */
const char *rv_store_get_backend(RvStore *store);
const char *rv_store_get_node_id(RvStore *store);

/*
 * gets the store ready: the embedded store has nothing to do; PostgreSQL
 * connects, runs migrations (each in one transaction) and starts listening for
 * settings changes; a server that cannot be reached is an Unavailable error
 */
void rv_store_open_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_store_open_finish(RvStore *store, GAsyncResult *result, GError **error);

/* torrents */

/*
 * records handed over while a load is still reading, so the caller can start
 * restoring them: called on the store's main context, before the load
 * completes, with an array of RvStoreTorrent the callee takes; what was handed
 * over this way is not in the snapshot. A backend may keep everything for the
 * snapshot instead. NULL turns it off.
 */
typedef void (*RvStoreLoadBatchFunc)(GPtrArray *records, gpointer user_data);
void rv_store_set_load_batch_func(RvStore *store, RvStoreLoadBatchFunc func, gpointer user_data);

/*
 * read this node's catalogue back; unusable records are moved aside and
 * reported, never fatal; resume data without its metadata comes back, reported
 * as a problem, with a copy kept aside (corrupt/, torrents_quarantine)
 */
void rv_store_load_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
RvStoreSnapshot *rv_store_load_finish(RvStore *store, GAsyncResult *result, GError **error);
/* meta or resume may be NULL to leave that part as it is; done runs once both are durable, with the first failure */
void rv_store_put_torrent(RvStore *store, const RvInfoHash *hash, JsonNode *meta, GBytes *resume, RvStoreDoneFunc done,
                          gpointer user_data);
/* the same with the metadata as JSON text, which it takes (NUL-terminated, meta_length without the NUL) */
void rv_store_put_torrent_text(RvStore *store, const RvInfoHash *hash, char *meta, gsize meta_length, GBytes *resume,
                               RvStoreDoneFunc done, gpointer user_data);
void rv_store_delete_torrent(RvStore *store, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data);
/* move a torrent's records aside after a later stage found them unusable */
void rv_store_quarantine_torrent(RvStore *store, const RvInfoHash *hash, const char *reason);
/* TRUE when rv_store_read_resume() can read a torrent's resume data back, so a caller need not keep it */
gboolean rv_store_can_read_resume(RvStore *store);
/* a torrent's stored resume data as it is now, read synchronously; Unavailable when the backend cannot */
GBytes *rv_store_read_resume(RvStore *store, const RvInfoHash *hash, GError **error);

/* event ids */

/*
 * the highest event id handed out before (0 for a new store); read once at
 * start-up (PostgreSQL reads it while opening: Unavailable before the open completed)
 */
guint64 rv_store_read_event_reservation(RvStore *store, GError **error);
void rv_store_put_event_reservation(RvStore *store, guint64 reserved_up_to);

/* settings */

void rv_store_load_settings_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
RvStoreSettings *rv_store_load_settings_finish(RvStore *store, GAsyncResult *result, GError **error);
/*
 * compare and set: stores document as revision expected_revision + 1 with a
 * history entry (its revision and timestamp are filled in), or fails with
 * Conflict when the stored revision is not expected_revision (someone else
 * changed the settings first)
 */
void rv_store_save_settings_async(RvStore *store, guint64 expected_revision, JsonNode *document,
                                  const RvStoreHistoryEntry *entry, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
guint64 rv_store_save_settings_finish(RvStore *store, GAsyncResult *result, GError **error);
/* newest first, at most limit entries */
void rv_store_list_history_async(RvStore *store, guint limit, GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
/* RvStoreHistoryEntry */
GPtrArray *rv_store_list_history_finish(RvStore *store, GAsyncResult *result, GError **error);
void rv_store_set_settings_changed_func(RvStore *store, RvStoreSettingsChangedFunc func, gpointer user_data);
/* the API keys may have changed elsewhere (another node of a shared store): read them again */
typedef void (*RvStoreKeysChangedFunc)(RvStore *store, gpointer user_data);
void rv_store_set_keys_changed_func(RvStore *store, RvStoreKeysChangedFunc func, gpointer user_data);

/* API keys and the setup token */

/* creates or replaces by key_id */
void rv_store_put_api_key(RvStore *store, const RvStoreApiKey *key, RvStoreDoneFunc done, gpointer user_data);
/* NotFound when there is no such key */
void rv_store_delete_api_key(RvStore *store, const char *key_id, RvStoreDoneFunc done, gpointer user_data);
void rv_store_list_api_keys_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
/* RvStoreApiKey */
GPtrArray *rv_store_list_api_keys_finish(RvStore *store, GAsyncResult *result, GError **error);
/* the one active setup token (any earlier one is gone) */
void rv_store_put_setup_token(RvStore *store, const char *token_hash, gint64 expires_at, const char *issued_by,
                              RvStoreDoneFunc done, gpointer user_data);
/*
 * consumes the active token if its hash matches and it has not expired at now
 * (unix seconds): TRUE then, and the token is gone; FALSE otherwise (no error)
 */
void rv_store_take_setup_token_async(RvStore *store, const char *token_hash, gint64 now, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_store_take_setup_token_finish(RvStore *store, GAsyncResult *result, GError **error);

/* nodes */

/* records this node as alive now */
void rv_store_touch_node(RvStore *store, const char *name, RvStoreDoneFunc done, gpointer user_data);
void rv_store_list_nodes_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* RvStoreNode */
GPtrArray *rv_store_list_nodes_finish(RvStore *store, GAsyncResult *result, GError **error);

/* a command another node sent to this one (docs/cluster.md) */
typedef struct {
        guint64 id;
        char *from_node;
        /* NULL when the stored body was not JSON (answer it with an error) */
        JsonNode *body;
} RvStoreCommand;

void rv_store_command_free(RvStoreCommand *command);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreCommand, rv_store_command_free)

/* a torrent of another node, as its owner published it */
typedef struct {
        RvInfoHash hash;
        char *node_id;
        /* the owner's lease is current */
        gboolean node_alive;
        /* either may be NULL */
        JsonNode *meta;
        JsonNode *status;
} RvStoreClusterTorrent;

void rv_store_cluster_torrent_free(RvStoreClusterTorrent *torrent);

/* the other nodes as this node sees them */
typedef struct {
        /* RvStoreClusterTorrent */
        GPtrArray *torrents;
        /* the other nodes whose lease is current */
        GStrv live_nodes;
} RvStoreClusterView;

void rv_store_cluster_view_free(RvStoreClusterView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreClusterView, rv_store_cluster_view_free)

/* cluster: leases, fencing and takeover (PostgreSQL only; docs/cluster.md) */

typedef struct {
        /*
         * the lease may have lapsed (held FALSE): stop every torrent locally
         * now, before another node may take them; held again (TRUE): what is
         * still ours may run (the torrents lost meanwhile were reported first)
         */
        void (*lease)(RvStore *store, gboolean held, const char *reason, gpointer user_data);
        /* this node no longer owns the torrent (a write was refused, or another node took it): drop it locally */
        void (*lost)(RvStore *store, const RvInfoHash *hash, const char *owner, gpointer user_data);
        /* torrents taken over from a node whose lease ran out: RvStoreTorrent, the callee takes the array */
        void (*claimed)(RvStore *store, GPtrArray *records, gpointer user_data);
        /* a command from another node, to be answered with rv_store_answer_command(); the callee takes it */
        void (*command)(RvStore *store, RvStoreCommand *command, gpointer user_data);
} RvStoreClusterFuncs;

/*
 * before rv_store_open_async(): this node holds a lease of lease_s seconds,
 * renewed every lease_s / 3; the open registers the node with a new epoch and
 * the load adopts the rows that still name it. InvalidArgument for a backend
 * without leases (the embedded store) or a lease out of range
 */
gboolean rv_store_set_lease(RvStore *store, guint lease_s, GError **error);
/* 0 without a lease */
guint rv_store_get_lease(RvStore *store);
void rv_store_set_cluster_funcs(RvStore *store, const RvStoreClusterFuncs *funcs, gpointer user_data);
/* after the load: take a fair share of the torrents of nodes whose lease ran out, from now on */
void rv_store_start_takeover(RvStore *store);
/* this node's epoch (0 before the open or without a lease) */
guint64 rv_store_get_epoch(RvStore *store);

/*
 * commands between nodes (a lease is needed): body goes to node target, which
 * runs it and answers; the answer (a JSON node) or Unavailable (target holds
 * no lease, or PostgreSQL is away) or TimedOut (no answer within timeout_ms:
 * the command may still run if the target took it first)
 */
void rv_store_send_command_async(RvStore *store, const char *target, JsonNode *body, guint timeout_ms,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
JsonNode *rv_store_send_command_finish(RvStore *store, GAsyncResult *result, GError **error);
void rv_store_answer_command(RvStore *store, guint64 id, JsonNode *answer);
/* publish summaries of torrents this node owns: {"<info hash>": {...}, ...} */
void rv_store_put_status(RvStore *store, JsonNode *statuses);
/* the torrents of the other nodes, and which of them are alive */
void rv_store_list_cluster_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
RvStoreClusterView *rv_store_list_cluster_finish(RvStore *store, GAsyncResult *result, GError **error);

/* flushing */

/*
 * done runs once everything queued before this call is durable, or with an
 * error when some of it, or of the failed writes a flush tries again, is not
 */
void rv_store_flush(RvStore *store, RvStoreDoneFunc done, gpointer user_data);
/* writes queued, in flight, or failed and waiting to be tried again */
guint rv_store_get_pending(RvStore *store);

/* how long torrent writes took, from rv_store_put_torrent() until durable (or failed) */
#define RV_STORE_WRITE_BUCKETS 8
typedef struct {
        guint64 count;
        guint64 failed;
        guint64 sum_us;
        guint64 max_us;
        /* cumulative counts at or under 1, 5, 10, 25, 50, 100, 250, 1000 ms */
        guint64 buckets[RV_STORE_WRITE_BUCKETS];
} RvStoreWriteStats;

/* the bucket bounds in milliseconds */
extern const guint rv_store_write_bucket_ms[RV_STORE_WRITE_BUCKETS];
void rv_store_get_write_stats(RvStore *store, RvStoreWriteStats *ret_stats);

G_END_DECLS
