/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-engine.h"
#include "rv-selection.h"

G_BEGIN_DECLS

/* the one state vocabulary every transport speaks; completion is a flag, not a state */
typedef enum {
        RV_TORRENT_STATE_QUEUED,
        RV_TORRENT_STATE_CHECKING,
        RV_TORRENT_STATE_FETCHING_METADATA,
        RV_TORRENT_STATE_DOWNLOADING,
        RV_TORRENT_STATE_SEEDING,
        RV_TORRENT_STATE_PAUSED,
        RV_TORRENT_STATE_ERROR,
        /* listed from its stored records after a start, not handed to the engine yet */
        RV_TORRENT_STATE_LOADING,
        RV_TORRENT_STATE_LAST,
} RvTorrentState;

const char *rv_torrent_state_to_string(RvTorrentState state);
RvTorrentState rv_torrent_state_from_string(const char *text);

/* which parts of a torrent changed; transports use it to coalesce notifications */
typedef enum {
        RV_TORRENT_FIELD_NAME = 1 << 0,
        RV_TORRENT_FIELD_STATE = 1 << 1,
        RV_TORRENT_FIELD_PROGRESS = 1 << 2,
        RV_TORRENT_FIELD_RATES = 1 << 3,
        RV_TORRENT_FIELD_PEERS = 1 << 4,
        RV_TORRENT_FIELD_SIZE = 1 << 5,
        RV_TORRENT_FIELD_SAVE_PATH = 1 << 6,
        RV_TORRENT_FIELD_SEQUENTIAL = 1 << 7,
        RV_TORRENT_FIELD_LIMITS = 1 << 8,
        RV_TORRENT_FIELD_LABELS = 1 << 9,
        RV_TORRENT_FIELD_SELECTION = 1 << 10,
        RV_TORRENT_FIELD_ERROR = 1 << 11,
        RV_TORRENT_FIELD_COMPLETED = 1 << 12,
        RV_TORRENT_FIELD_FILES = 1 << 13,
        RV_TORRENT_FIELD_FSOPS = 1 << 14,
        /* force start, super seeding, a move of the data under way */
        RV_TORRENT_FIELD_FLAGS = 1 << 15,
        /* the working tracker, the number of trackers */
        RV_TORRENT_FIELD_TRACKER = 1 << 16,
} RvTorrentFields;

/* a share limit (ratio, seeding minutes) of one torrent is a value or one of these */
#define RV_SHARE_LIMIT_GLOBAL (-2)
#define RV_SHARE_LIMIT_NONE (-1)
/* the largest ratio and seeding time (minutes, 100 years) a torrent may be given */
#define RV_SHARE_RATIO_MAX 10000.0
#define RV_SHARE_MINUTES_MAX 52560000

/* the state and bookkeeping of one torrent, owned by RvManager on the main loop */
typedef struct {
        RvInfoHash hash;
        char *name;
        /* the name is the user's (an add's name option): metadata does not replace it */
        gboolean name_given;
        RvTorrentState state;
        /* progress of wanted bytes; completion happens once and is remembered */
        gboolean completed;
        gint64 completed_time;
        gint64 added_time;
        double progress;
        gint64 total_size;
        gint64 wanted_size;
        gint64 wanted_done;
        gint64 download_rate;
        gint64 upload_rate;
        gint64 downloaded;
        gint64 uploaded;
        gint num_peers;
        gint num_seeds;
        char *save_path;
        gboolean sequential;
        /* a change of sequential the engine has not reported yet: an older report does not undo it */
        gboolean sequential_pending;
        /* runs whatever libtorrent's queue says (the user asked; a pause or resume ends it) */
        gboolean force_start;
        gboolean super_seeding;
        /* the first and last pieces of each wanted file first (qBittorrent's f_l_piece_prio) */
        gboolean first_last_piece;
        /* as asked at add; a magnet's waits for the metadata, so it is kept across restarts */
        RvContentLayout content_layout;
        /* the tracker of the last announce that worked, NULL for none; how many trackers it has */
        char *tracker;
        guint trackers_count;
        /* libtorrent is moving the data to another save path */
        gboolean moving;
        gint64 download_limit;
        gint64 upload_limit;
        GStrv labels;
        /* its own seeding goals: upload ratio and minutes of seeding, or RV_SHARE_LIMIT_GLOBAL (the settings'),
         * or RV_SHARE_LIMIT_NONE */
        double ratio_limit;
        gint64 seeding_time_limit;
        /* minutes without an upload after which seeding stops, the same sentinels */
        gint64 inactive_seeding_time_limit;
        /* unix seconds of the last upload to a peer, 0 never (libtorrent's, kept in its resume data) */
        gint64 last_upload_time;
        RvSelection *selection;
        /* per-file priority overrides by index, applied over the selection rules; may be NULL */
        GHashTable *priority_overrides;
        char *error;
        /* the last MoveStorage that failed, shown as the error while libtorrent reports none */
        char *move_error;
        /* what the user asked for, as opposed to what the engine reports */
        gboolean user_paused;
        gboolean has_metadata;
        /* RvEngineFile, NULL until metadata arrives */
        GPtrArray *files;
        /* magnet link kept so a torrent without metadata can come back from it */
        char *magnet;
        /* peers the user named (add options, a magnet's x.pe): connected again after a restart */
        GStrv peers;
        /* the engine knows the torrent (ADDED seen) */
        gboolean in_engine;
        /*
         * paused by the user when the daemon started, so kept out of the
         * engine: shown from its stored records, handed over
         * (rv_manager_load_now) once something needs the engine
         */
        gboolean parked;
        /* a remove is in flight */
        gboolean removing;
        /* dropped locally because another node owns it now: its stored records are not ours to delete */
        gboolean released;
        /* something changed since libtorrent last gave us resume data */
        gboolean resume_stale;
        /* last progress event, for per-torrent coalescing */
        gint64 last_progress_event_us;
        /*
         * the post-download pipeline (src/fsops), kept here so it is stored
         * with the torrent: its state ("idle", "queued", "running",
         * "retrying", "done", "failed"), its last error ("Name: message"),
         * where the result went, the torrent's own policy fields given at add
         * (an object, may be NULL) and the policy frozen when it completed
         * (NULL until then)
         */
        char *fs_state;
        char *fs_error;
        char *library_path;
        JsonNode *fs_overrides;
        JsonNode *fs_policy;
        /* cluster: the node that owns a torrent of another node (listed here, run there); NULL: this node */
        char *node;
} RvTorrent;

RvTorrent *rv_torrent_new(const RvInfoHash *hash);
void rv_torrent_free(RvTorrent *torrent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvTorrent, rv_torrent_free)

/* the state to show for an engine status, with the user's pause over a report taken before it */
RvTorrentState rv_torrent_decide_state(const RvEngineStatus *st, gboolean user_paused);
/* seconds until the wanted bytes are done at the current rate, -1 when unknown */
gint64 rv_torrent_get_eta(const RvTorrent *torrent);
/* what the torrent's files should be set to now: selection rules, then overrides */
guint8 *rv_torrent_compute_priorities(const RvTorrent *torrent, gsize *ret_n);

/* Revaer's own metadata, persisted next to libtorrent's resume data */
JsonNode *rv_torrent_meta_to_json(const RvTorrent *torrent);
/* the same as JSON text (what the stores write), which the caller frees */
char *rv_torrent_meta_to_text(const RvTorrent *torrent, gsize *ret_length);
/* what the owner of a torrent publishes for the other nodes of a cluster to list (docs/cluster.md) */
JsonNode *rv_torrent_status_to_json(const RvTorrent *torrent);
/* never fails: members missing or of another type leave the torrent's values */
void rv_torrent_status_from_json(RvTorrent *torrent, JsonNode *node);
gboolean rv_torrent_meta_from_json(RvTorrent *torrent, JsonNode *node, GError **error);

G_END_DECLS
