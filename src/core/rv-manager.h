/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "rv-engine.h"
#include "rv-events.h"
#include "rv-health.h"
#include "rv-store.h"
#include "rv-torrent.h"

G_BEGIN_DECLS

/*
 * the torrent registry: owns every RvTorrent, turns transport commands into
 * engine commands, turns engine events into state changes, events and store
 * writes; every read is served from here, never from the engine
 *
 * what happens to torrents goes out through the event stream (rv-events.h)
 * only; signals: "engine-alive" (), "listen-changed" (guint port), "problem"
 * (const char *message: something an operator should hear about)
 */
#define RV_TYPE_MANAGER (rv_manager_get_type())
G_DECLARE_FINAL_TYPE(RvManager, rv_manager, RV, MANAGER, GObject)

/* bounds on client input */
#define RV_MANAGER_MAX_LABELS 32
#define RV_MANAGER_MAX_LABEL_LEN 128
#define RV_MANAGER_MAX_MAGNET_LEN (64 * 1024)
#define RV_MANAGER_MAX_PEERS 64

#define RV_MANAGER_ADD_TIMEOUT_DEFAULT_MS 15000

typedef struct {
        /* exactly one of magnet and torrent */
        const char *magnet;
        GBytes *torrent;
        /* NULL for the default download directory */
        const char *save_path;
        gboolean paused;
        /* -1 for the default */
        gint sequential;
        /* trust the data on disk without checking it (libtorrent's seed mode) */
        gboolean skip_checking;
        /* the first and last pieces of each wanted file first */
        gboolean first_last_piece;
        /* the torrent's name as the user wants it shown, NULL for the metadata's */
        const char *name;
        /* rv_content_layout_names, NULL for original */
        const char *content_layout;
        const char *const *labels;
        /* may be NULL */
        const RvSelection *selection;
        gint64 download_limit;
        gint64 upload_limit;
        const char *const *peers;
        /* the torrent's own seeding goals when share_limits is set (rv_manager_set_share_limits), else global */
        gboolean share_limits;
        double ratio_limit;
        gint64 seeding_time_limit;
        gint64 inactive_seeding_time_limit;
        /* the torrent's own FsOps policy fields (checked by rv_settings_check_fs_overrides), may be NULL */
        JsonNode *fs_overrides;
        /* a cluster may place it on another node by its rule (adds over HTTP; a bus add stays on this machine) */
        gboolean placeable;
} RvAddRequest;

typedef struct {
        char *download_dir;
        gboolean sequential_default;
        /* how often resume data of changed torrents is saved */
        guint resume_save_interval_s;
        guint progress_interval_ms;
        /* how long a shutdown waits for resume data */
        guint shutdown_timeout_ms;
        /* how long an add waits for the store to confirm its records; below a D-Bus client's 25 s */
        guint add_timeout_ms;
        /* torrents registered per main-loop iteration at start-up */
        guint load_batch;
        /* seeding goals: stop seeding at this upload ratio or after this long; 0 = no goal */
        double seed_ratio;
        gint64 seed_time_s;
        /* stop seeding after this long without an upload; 0 = no goal */
        gint64 seed_inactive_time_s;
        RvSeedAction seed_action;
        /* roots every save path must lie in (/fs/allowed_paths); NULL or empty: anywhere */
        GStrv allowed_paths;
} RvManagerConfig;

void rv_manager_config_init(RvManagerConfig *config);
void rv_manager_config_clear(RvManagerConfig *config);

/* path lies in one of the configured roots (or there are none): InvalidArgument naming field otherwise */
gboolean rv_manager_check_path_allowed(RvManager *self, const char *path, const char *field, GError **error);

RvManager *rv_manager_new(RvEngine *engine, RvStore *store, RvHealth *health, RvEventBus *events,
                          const RvManagerConfig *config);
void rv_manager_set_config(RvManager *self, const RvManagerConfig *config);
const RvManagerConfig *rv_manager_get_config(RvManager *self);
RvEngine *rv_manager_get_engine(RvManager *self);
RvEventBus *rv_manager_get_events(RvManager *self);
RvHealth *rv_manager_get_health(RvManager *self);

typedef struct {
        /* a taken-over torrent whose recorded path is not reachable here downloads again under the download dir */
        gboolean takeover_fresh;
        /* placeable adds go to the live node with the fewest active torrents (else they stay here) */
        gboolean least_loaded;
        /* "label", "node" pairs, NULL-terminated, may be NULL: placeable adds with the label go to the node */
        const char *const *pins;
        /* how long a command carried to another node may take ([cluster] command-timeout, never 0) */
        guint command_timeout_ms;
} RvManagerCluster;

/*
 * the node shares a PostgreSQL store with a lease (docs/cluster.md): the
 * torrents stop while the lease may have lapsed, leave when another node owns
 * them, and come in when this node takes them over; the other nodes'
 * torrents are listed, commands on them carried there, and placeable adds go
 * where the rule says
 */
void rv_manager_set_cluster(RvManager *self, const RvManagerCluster *cluster);
/* the torrents of the other nodes, as their owners published them (node set); empty without [cluster] */
GPtrArray *rv_manager_list_remote(RvManager *self);
/* this node's id in the store ("local" for the embedded store) */
const char *rv_manager_get_node_id(RvManager *self);
/* a torrent of this node, or else one another node owns (node set): for listing, never kept */
RvTorrent *rv_manager_lookup_listed(RvManager *self, const RvInfoHash *hash);

/*
 * lists every stored torrent from its metadata, in state loading, and emits
 * "listed" once all are; then hands them to the engine a slice per main-loop
 * iteration (a command on one still loading hands it over at once) and
 * finishes once the engine has them all. One the user paused is listed paused
 * instead and only described from its resume data: it stays out of the engine
 * until a command needs it there
 */
void rv_manager_load_async(RvManager *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean rv_manager_load_finish(RvManager *self, GAsyncResult *result, GError **error);

/*
 * validates the request and writes the torrent's records; once the store
 * confirms them the torrent is registered and started, and the add
 * completes (the torrent survives a crash from then on). Meanwhile its hash
 * is taken: another add of it is a Conflict. A write that fails, or that the
 * store does not confirm within add_timeout_ms, completes with Unavailable
 * and leaves nothing of the torrent: not in the registry, the engine or the
 * store.
 */
void rv_manager_add_async(RvManager *self, const RvAddRequest *request, GAsyncReadyCallback callback,
                          gpointer user_data);
/* the torrent, registered */
RvTorrent *rv_manager_add_finish(RvManager *self, GAsyncResult *result, GError **error);

RvTorrent *rv_manager_lookup(RvManager *self, const RvInfoHash *hash);
/* by full hash, unique hash prefix, or exact name; NotFound or Conflict (ambiguous) otherwise */
RvTorrent *rv_manager_resolve(RvManager *self, const char *ref, GError **error);
/* borrowed RvTorrent pointers in insertion order */
GPtrArray *rv_manager_list(RvManager *self);
guint64 rv_manager_get_forgotten(RvManager *self);
guint rv_manager_get_count(RvManager *self);
void rv_manager_count_by_state(RvManager *self, guint ret_counts[RV_TORRENT_STATE_LAST]);
void rv_manager_get_rates(RvManager *self, gint64 *ret_download, gint64 *ret_upload);

gboolean rv_manager_pause(RvManager *self, RvTorrent *torrent, GError **error);
gboolean rv_manager_resume(RvManager *self, RvTorrent *torrent, GError **error);
gboolean rv_manager_remove(RvManager *self, RvTorrent *torrent, gboolean delete_data, GError **error);
gboolean rv_manager_recheck(RvManager *self, RvTorrent *torrent, GError **error);
gboolean rv_manager_reannounce(RvManager *self, RvTorrent *torrent, GError **error);
gboolean rv_manager_set_sequential(RvManager *self, RvTorrent *torrent, gboolean sequential, GError **error);
/* on: the torrent runs (a paused one is resumed) whatever libtorrent's queue says; off: it waits its turn */
gboolean rv_manager_set_force_start(RvManager *self, RvTorrent *torrent, gboolean force, GError **error);
gboolean rv_manager_set_super_seeding(RvManager *self, RvTorrent *torrent, gboolean on, GError **error);
/* the first and last pieces of each wanted file first, kept across restarts and file priority changes */
gboolean rv_manager_set_first_last_piece(RvManager *self, RvTorrent *torrent, gboolean on, GError **error);
gboolean rv_manager_set_limits(RvManager *self, RvTorrent *torrent, gint64 download_limit, gint64 upload_limit,
                               GError **error);
gboolean rv_manager_set_labels(RvManager *self, RvTorrent *torrent, const char *const *labels, GError **error);
/* uploaded over downloaded (data that was there already counts as downloaded once) */
double rv_manager_torrent_ratio(const RvTorrent *torrent);
/* the torrent's own seeding goals: ratio, minutes of seeding and minutes without an upload, each or
 * RV_SHARE_LIMIT_GLOBAL / RV_SHARE_LIMIT_NONE */
gboolean rv_manager_set_share_limits(RvManager *self, RvTorrent *torrent, double ratio, gint64 minutes,
                                     gint64 inactive_minutes, GError **error);
gboolean rv_manager_set_selection(RvManager *self, RvTorrent *torrent, const RvSelection *selection, GError **error);
/* indexes and priorities (0 skip, 1 low, 4 normal, 7 high) of equal length */
gboolean rv_manager_set_file_priorities(RvManager *self, RvTorrent *torrent, const guint32 *indexes,
                                        const guint8 *priorities, gsize n, GError **error);
gboolean rv_manager_move_storage(RvManager *self, RvTorrent *torrent, const char *save_path, GError **error);
/*
 * pauses (or resumes) every torrent, a slice per main-loop iteration so that
 * 10,000 do not hold the loop; callback runs when each has had its turn
 */
void rv_manager_set_all_paused_async(RvManager *self, gboolean pause, GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_manager_set_all_paused_finish(RvManager *self, GAsyncResult *result, GError **error);

typedef struct {
        guint index;
        const char *path;
        gint64 size;
        gint64 done;
        guint8 priority;
        gboolean wanted;
} RvFileInfo;

/* the file list with per-file progress (asks the engine, answers from its event) */
void rv_manager_list_files_async(RvManager *self, RvTorrent *torrent, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
/* RvFileInfo array (paths borrowed from the torrent) */
GArray *rv_manager_list_files_finish(RvManager *self, GAsyncResult *result, GError **error);

/* the torrent's trackers with their status (asks the engine, answers from its TRACKERS event) */
void rv_manager_list_trackers_async(RvManager *self, RvTorrent *torrent, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* RvEngineTracker, owned by the caller; empty when the torrent is not in the engine */
GPtrArray *rv_manager_list_trackers_finish(RvManager *self, GAsyncResult *result, GError **error);

/*
 * the post-download pipeline (src/fsops) is wired in by the daemon: it keeps
 * its state in the torrent's fs fields and reports changes here, which stores
 * them and tells the transports; Retry reaches it through the retry function
 */
void rv_manager_fs_changed(RvManager *self, RvTorrent *torrent);
typedef gboolean (*RvManagerFsRetryFunc)(RvTorrent *torrent, gpointer user_data, GError **error);
void rv_manager_set_fs_retry_func(RvManager *self, RvManagerFsRetryFunc func, gpointer user_data);

/*
 * An add's records are on their way to the store, and the main loop would
 * wait for the disk: a transport may build now what it sends when the torrent
 * is added (RV_EVENT_TORRENT_ADDED), from the torrent as it will be listed,
 * so the add's answer does not wait for that work after the disk. Called
 * again with torrent NULL when the add failed and what was built is to go.
 * One func (the bus's); NULL for none.
 */
typedef void (*RvManagerAddingFunc)(RvManager *self, const RvInfoHash *hash, const RvTorrent *torrent,
                                    gpointer user_data);
void rv_manager_set_adding_func(RvManager *self, RvManagerAddingFunc func, gpointer user_data);
/* runs the pipeline of a completed torrent again (Unavailable when there is no pipeline) */
gboolean rv_manager_fs_retry(RvManager *self, RvTorrent *torrent, GError **error);

/* pause transfers, save resume data for every torrent within the configured bound, flush the store */
void rv_manager_shutdown_async(RvManager *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_manager_shutdown_finish(RvManager *self, GAsyncResult *result, guint *ret_saved, GError **error);
/* torrents whose resume data a running shutdown still waits for */
guint rv_manager_get_shutdown_pending(RvManager *self);

G_END_DECLS
