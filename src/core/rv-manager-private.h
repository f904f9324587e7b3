/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * RvManager's parts: the registry and its commands (rv-manager.c), restoring
 * what the store holds (rv-manager-load.c), the bounded stop
 * (rv-manager-shutdown.c) and seeding goals (rv-manager-goals.c); what they
 * share is here, for them only
 */

#include "rv-manager.h"

G_BEGIN_DECLS

struct _RvManager {
        GObject parent_instance;
        RvEngine *engine;
        RvStore *store;
        RvHealth *health;
        /* torrents in state error, for the torrents health component */
        guint n_errored;
        RvEventBus *events;
        RvManagerConfig config;
        /* hex -> RvTorrent (owned) */
        GHashTable *torrents;
        /* RvTorrent in insertion order (borrowed) */
        GPtrArray *order;
        /* torrents freed so far: see rv_manager_get_forgotten() */
        guint64 forgotten;
        guint resume_timer;
        guint goal_timer;
        /* file list requests waiting for FILE_PROGRESS: hex -> GPtrArray of GTask */
        GHashTable *file_requests;
        /* tracker list requests waiting for TRACKERS: hex -> GPtrArray of GTask */
        GHashTable *tracker_requests;
        /* shutdown in progress */
        GTask *shutdown_task;
        /* from the start of a shutdown on: no more adds */
        gboolean stopping;
        guint shutdown_waiting;
        guint shutdown_saved;
        guint shutdown_timer;
        /* the load in progress, NULL when none */
        GTask *load_task;
        /* torrents listed from their metadata, not handed to the engine yet: hex -> RvStoreTorrent (owned) */
        GHashTable *loading;
        /* their hashes in the order they were listed, handed to the engine a slice at a time */
        GArray *load_queue;
        guint load_next;
        guint load_idle_id;
        RvManagerFsRetryFunc fs_retry;
        gpointer fs_retry_data;
        /* adds whose records are on their way to the store: hex -> RvManagerAdd; the hash is taken meanwhile */
        GHashTable *adding;
        /* every RvManagerAdd the store still owes an answer, answered or not (a set) */
        GHashTable *adds_out;
        RvManagerAddingFunc adding_func;
        gpointer adding_data;
        /* cluster (rv-manager-cluster.c): torrents stopped locally while the lease may have lapsed */
        gboolean fenced;
        /* taken-over torrents whose recorded path is not reachable here download again under download_dir */
        gboolean takeover_fresh;
        /* the torrents of the other nodes as their owners published them: hex -> RvTorrent (node set) */
        GHashTable *remote;
        GPtrArray *remote_list;
        /* what this node published last: hex -> hash of the summary's text */
        GHashTable *published;
        guint cluster_timer;
        gboolean cluster_refreshing;
        /* how long a command carried to another node may take, ms */
        guint command_timeout_ms;
        /* placement (docs/cluster.md): least loaded, and label -> node pins */
        gboolean least_loaded;
        GHashTable *pins;
        /* the other nodes whose lease is current, as last read */
        GStrv live_nodes;
        /* each remote torrent's node, summary and metadata as last read, hashed: hex -> digest */
        GHashTable *remote_digest;
        /* taken-over records waiting to be restored a slice at a time (RvStoreTorrent) */
        GQueue claim_queue;
        guint claim_idle;
        guint claim_restored;
};

/* a placeable add for another node: the task returns TRUE with its hash as task data, the torrent listed remote */
gboolean rv_manager_place_elsewhere(RvManager *self, const RvAddRequest *request, const RvInfoHash *hash, GTask *task);

void rv_manager_cluster_clear(RvManager *self);

void rv_manager_problem(RvManager *self, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void rv_manager_publish_restored(RvManager *self, RvTorrent *torrent);
void rv_manager_set_files(RvTorrent *torrent, GPtrArray *files);
void rv_manager_persist_meta(RvManager *self, RvTorrent *torrent);
void rv_manager_register(RvManager *self, RvTorrent *torrent);
/* drops a torrent from the registry, leaving its records in the store */
void rv_manager_forget(RvManager *self, RvTorrent *torrent);
void rv_manager_changed(RvManager *self, RvTorrent *torrent, guint fields);
/* a torrent still loading goes to the engine now, before a command acts on it; error when it could not */
gboolean rv_manager_load_now(RvManager *self, RvTorrent *torrent, GError **error);
void rv_manager_load_clear(RvManager *self);
/* a torrent out of the engine waits for it with its resume data (taken; NULL when the store reads it back) */
void rv_manager_keep_record(RvManager *self, const RvInfoHash *hash, GBytes *resume);
/* a shutdown ends the load: its task fails with G_IO_ERROR_CANCELLED, at once or once all are listed */
void rv_manager_load_stop(RvManager *self);
void rv_manager_emit_listed(RvManager *self);
void rv_manager_unregister(RvManager *self, RvTorrent *torrent);
/* one stored record into the engine and the registry; save_path, when not NULL, replaces the recorded one */
gboolean rv_manager_restore_record(RvManager *self, RvStoreTorrent *record, const char *save_path, GError **error);
void rv_manager_abandon_adds(RvManager *self);
void rv_manager_shutdown_step(RvManager *self);
gboolean rv_manager_goal_timer_cb(gpointer user_data);
void rv_manager_check_goal(RvManager *self, RvTorrent *torrent);

G_END_DECLS
