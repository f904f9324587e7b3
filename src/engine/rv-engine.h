/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * the torrent engine as seen by the rest of Revaer: a C API with opaque
 * handles and plain structs; two implementations share it, libtorrent
 * (rv-engine-lt.cpp) and a deterministic fake for fast tests of the layers
 * above (rv-engine-fake.c)
 *
 * threading: every function is called on the thread that runs the GLib main
 * context the engine was created on; events are delivered there too, from a
 * GSource the engine attaches itself; nothing here blocks on the network or
 * disk threads (status comes from events, never from synchronous queries)
 *
 * errors: every failure is a GError in the RV_ERROR domain with a message that
 * names what was wrong; nothing foreign leaves the engine
 */

#include <glib.h>

#include "rv-enums.h"
#include "rv-error.h"
#include "rv-info-hash.h"

G_BEGIN_DECLS

typedef struct _RvEngine RvEngine;
typedef struct _RvEngineSource RvEngineSource;

/*
 * The engine's defaults, once: rv_engine_settings_init() and the settings
 * table (src/config/rv-settings.c, through G_STRINGIFY) both take them from here.
 * Plain numbers, so that G_STRINGIFY gives the settings their JSON defaults.
 */
#define RV_ENGINE_DEFAULT_LISTEN_PORT 6881
#define RV_ENGINE_DEFAULT_ACTIVE_DOWNLOADS 3
#define RV_ENGINE_DEFAULT_ACTIVE_SEEDS 5
#define RV_ENGINE_DEFAULT_ACTIVE_LIMIT 500
#define RV_ENGINE_DEFAULT_CONNECTIONS_LIMIT 200
#define RV_ENGINE_DEFAULT_MAX_METADATA_SIZE 10485760

typedef struct {
        /* libtorrent listen_interfaces syntax, e.g. "0.0.0.0:6881,[::]:6881"; "127.0.0.1:0" picks a port */
        char *listen_interfaces;
        gboolean enable_dht;
        gboolean enable_lsd;
        gboolean enable_upnp;
        gboolean enable_natpmp;
        gboolean enable_utp;
        RvEncryption encryption;
        /* bytes per second, 0 = unlimited */
        gint64 download_rate_limit;
        gint64 upload_rate_limit;
        /* -1 = unlimited */
        gint active_downloads;
        gint active_seeds;
        gint active_limit;
        gint connections_limit;
        /* cadence of post_torrent_updates(); status events come no faster than this */
        guint status_interval_ms;
        /* upper bound for metadata fetched from peers and for .torrent files, in bytes */
        gint64 max_metadata_size;
        /* tests run several peers on 127.0.0.1 */
        gboolean allow_multiple_connections_per_ip;
} RvEngineSettings;

void rv_engine_settings_init(RvEngineSettings *settings);
void rv_engine_settings_clear(RvEngineSettings *settings);
/* fills dest whole, as init does: dest must not hold settings of its own (they would leak) */
void rv_engine_settings_copy(RvEngineSettings *dest, const RvEngineSettings *src);

typedef enum {
        RV_ENGINE_STATE_CHECKING_RESUME,
        RV_ENGINE_STATE_CHECKING_FILES,
        RV_ENGINE_STATE_FETCHING_METADATA,
        RV_ENGINE_STATE_DOWNLOADING,
        RV_ENGINE_STATE_FINISHED,
        RV_ENGINE_STATE_SEEDING,
} RvEngineState;

/* a copy of what libtorrent reported for one torrent; owns nothing but error and current_tracker */
typedef struct {
        RvInfoHash hash;
        RvEngineState state;
        gboolean paused;
        gboolean auto_managed;
        gboolean has_metadata;
        /* all wanted pieces are present */
        gboolean is_finished;
        gboolean is_seeding;
        gboolean sequential;
        gboolean super_seeding;
        gboolean moving_storage;
        gboolean need_save_resume;
        /* 0.0 .. 1.0 of the wanted bytes */
        double progress;
        gint64 total_size;
        gint64 total_wanted;
        gint64 total_wanted_done;
        gint64 total_done;
        /* payload bytes per second */
        gint64 download_rate;
        gint64 upload_rate;
        gint64 all_time_download;
        gint64 all_time_upload;
        gint num_peers;
        gint num_seeds;
        gint queue_position;
        /* unix seconds, 0 = never */
        gint64 added_time;
        gint64 completed_time;
        /* unix seconds of the last payload sent to a peer, 0 = never (libtorrent's last_upload) */
        gint64 last_upload;
        /* bytes per second, 0 = unlimited */
        gint64 download_limit;
        gint64 upload_limit;
        /* NULL when the torrent has no error */
        char *error;
        /* the tracker of the last announce that worked (libtorrent's current_tracker), NULL for none */
        char *current_tracker;
} RvEngineStatus;

void rv_engine_status_clear(RvEngineStatus *status);

typedef enum {
        RV_FILE_PRIORITY_SKIP = 0,
        RV_FILE_PRIORITY_LOW = 1,
        RV_FILE_PRIORITY_NORMAL = 4,
        RV_FILE_PRIORITY_HIGH = 7,
} RvFilePriority;

typedef struct {
        /* relative path inside the torrent, '/'-separated, including the torrent's top folder if any */
        char *path;
        gint64 size;
        gint64 offset;
        guint8 priority;
        gboolean pad;
} RvEngineFile;

void rv_engine_file_free(RvEngineFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEngineFile, rv_engine_file_free)

/* one tracker of a torrent as its announces went */
typedef struct {
        char *url;
        gint tier;
        RvTrackerStatus status;
        /* the tracker's warning or the last announce's error, "" for none */
        char *message;
        /* from the tracker's answers (scrape), -1 where it gave none */
        gint num_peers;
        gint num_seeds;
        gint num_leeches;
        gint num_downloaded;
} RvEngineTracker;

RvEngineTracker *rv_engine_tracker_new(const char *url, gint tier);
RvEngineTracker *rv_engine_tracker_copy(const RvEngineTracker *tracker);
void rv_engine_tracker_free(RvEngineTracker *tracker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEngineTracker, rv_engine_tracker_free)

typedef enum {
        /* torrent is in the session (hash, name) */
        RV_ENGINE_EVENT_ADDED,
        /* the async add failed (hash, error); the torrent is not in the session */
        RV_ENGINE_EVENT_ADD_FAILED,
        /* metadata is known (hash, name, files, total_size); sent once per torrent after ADDED,
         * at once for .torrent and resume adds, when the swarm delivers it for magnets */
        RV_ENGINE_EVENT_METADATA,
        /* metadata from the swarm was refused (hash, error: too big, unsafe file names);
         * the torrent was removed from the session, REMOVED follows */
        RV_ENGINE_EVENT_METADATA_REJECTED,
        /* status changed (status) */
        RV_ENGINE_EVENT_STATUS,
        /* all wanted pieces downloaded and verified (hash) */
        RV_ENGINE_EVENT_FINISHED,
        RV_ENGINE_EVENT_PAUSED,
        RV_ENGINE_EVENT_RESUMED,
        /* torrent left the session (hash) */
        RV_ENGINE_EVENT_REMOVED,
        /* after a remove with data: files deleted (hash) or not (hash, error) */
        RV_ENGINE_EVENT_FILES_DELETED,
        RV_ENGINE_EVENT_FILES_DELETE_FAILED,
        /* torrent or file error (hash, error); the torrent is stopped */
        RV_ENGINE_EVENT_ERROR,
        /* resume blob with the info dict (hash, resume_data) */
        RV_ENGINE_EVENT_RESUME_DATA,
        RV_ENGINE_EVENT_RESUME_DATA_FAILED,
        /* (hash, save_path) / (hash, error) */
        RV_ENGINE_EVENT_STORAGE_MOVED,
        RV_ENGINE_EVENT_STORAGE_MOVE_FAILED,
        /* answer to rv_engine_request_file_progress (hash, file_progress) */
        RV_ENGINE_EVENT_FILE_PROGRESS,
        /* answer to rv_engine_request_trackers (hash, trackers) */
        RV_ENGINE_EVENT_TRACKERS,
        /* answer to rv_engine_probe: the network thread is alive (no hash) */
        RV_ENGINE_EVENT_PROBE,
        /* listening (listen_port) or failed to (error); no hash */
        RV_ENGINE_EVENT_LISTEN_SUCCEEDED,
        RV_ENGINE_EVENT_LISTEN_FAILED,
        RV_ENGINE_EVENT_LAST,
} RvEngineEventKind;

const char *rv_engine_event_kind_to_string(RvEngineEventKind kind);

/* valid only during the callback; copy what must outlive it */
typedef struct {
        RvEngineEventKind kind;
        RvInfoHash hash;
        const char *name;
        const char *save_path;
        const GError *error;
        GBytes *resume_data;
        /* RvEngineFile, in file index order */
        GPtrArray *files;
        gint64 total_size;
        /* bytes downloaded per file, in file index order */
        GArray *file_progress;
        /* RvEngineTracker, in libtorrent's order (by tier) */
        GPtrArray *trackers;
        const RvEngineStatus *status;
        guint16 listen_port;
} RvEngineEvent;

/*
 * an event that outlives the callback, owning what it holds: the fake engine
 * queues these, the tests record them. Its members are a macro so that a
 * record of one (the tests' RvTestEvent) can add fields after them and still
 * be copied and cleared by these functions.
 */
#define RV_ENGINE_OWNED_EVENT_MEMBERS \
        RvEngineEventKind kind;       \
        RvInfoHash hash;              \
        char *name;                   \
        char *save_path;              \
        GError *error;                \
        GBytes *resume_data;          \
        GPtrArray *files;             \
        gint64 total_size;            \
        GArray *file_progress;        \
        GPtrArray *trackers;          \
        RvEngineStatus status;        \
        gboolean has_status;          \
        guint16 listen_port;

typedef struct {
        RV_ENGINE_OWNED_EVENT_MEMBERS
} RvEngineOwnedEvent;

/* copies event into ret (zeroed or cleared) */
void rv_engine_event_copy(const RvEngineEvent *event, RvEngineOwnedEvent *ret);
/* the borrowed view a callback gets, valid while owned is */
void rv_engine_event_view(const RvEngineOwnedEvent *owned, RvEngineEvent *ret);
/* frees what owned holds, not owned itself */
void rv_engine_owned_event_clear(RvEngineOwnedEvent *owned);

typedef void (*RvEngineEventFunc)(RvEngine *engine, const RvEngineEvent *event, gpointer user_data);

/* what a source is, before it enters the session */
typedef struct {
        RvInfoHash hash;
        /* may be NULL for a magnet without dn= */
        const char *name;
        gboolean has_metadata;
        /* RvEngineFile, NULL without metadata */
        GPtrArray *files;
        gint64 total_size;
        /* the bytes of the pieces a resume blob says are on disk (all for seed mode), 0 otherwise */
        gint64 done_size;
        /* all-time payload counters a resume blob carries, 0 otherwise */
        gint64 downloaded;
        gint64 uploaded;
        /* a magnet's x.pe peers as "host:port", checked like the peers option; NULL when it has none */
        const char *const *peers;
        /* the trackers the metadata, the magnet or the resume data name */
        guint n_trackers;
} RvEngineSourceInfo;

typedef struct {
        const char *save_path;
        gboolean paused;
        gboolean sequential;
        /* trust the data on disk without checking (creators seeding their own files) */
        gboolean seed_mode;
        /* running outside libtorrent's queue (not auto-managed); ignored when paused */
        gboolean force_start;
        gboolean super_seeding;
        /* the first and last pieces of each wanted file first (qBittorrent's f_l_piece_prio) */
        gboolean first_last_piece;
        gint64 download_limit;
        gint64 upload_limit;
        /* "host:port" peers to connect to at once, NULL-terminated, may be NULL */
        const char *const *peers;
        /* one per file, NULL = all normal; ignored without metadata */
        const guint8 *file_priorities;
        gsize n_file_priorities;
        /* unix seconds, 0 unknown (libtorrent then takes the time of the add) */
        gint64 added_time;
        /* for a magnet, applied when the metadata arrives; a source with metadata takes
         * rv_engine_source_set_content_layout() before the add */
        RvContentLayout content_layout;
} RvEngineAddOptions;

void rv_engine_add_options_init(RvEngineAddOptions *options);

/*
 * parse and validate without touching the session: a magnet URI, .torrent
 * bytes, or a resume blob written by RV_ENGINE_EVENT_RESUME_DATA or
 * rv_engine_source_write_resume(); file names with "..", absolute paths,
 * empty components or bytes that are not UTF-8 are refused here, and so is
 * metadata over the size bound; so are a magnet's info hash with digits that
 * are not hex or base32 and an x.pe that is not an IP address and port
 */
RvEngineSource *rv_engine_source_new_magnet(RvEngine *engine, const char *uri, GError **error);
RvEngineSource *rv_engine_source_new_torrent(RvEngine *engine, GBytes *data, GError **error);
RvEngineSource *rv_engine_source_new_resume(RvEngine *engine, GBytes *data, GError **error);
const RvEngineSourceInfo *rv_engine_source_get_info(RvEngineSource *source);
/*
 * lay the files out as layout says (libtorrent's renamed files, kept in the
 * resume data); the info's files follow; nothing for a magnet without metadata
 */
void rv_engine_source_set_content_layout(RvEngineSource *source, RvContentLayout layout);
/* the options stored in a resume blob (save path, paused, sequential, limits, priorities, added time) */
void rv_engine_source_get_options(RvEngineSource *source, RvEngineAddOptions *ret_options);
/* a resume blob for this source with these options, to persist before the add returns */
GBytes *rv_engine_source_write_resume(RvEngineSource *source, const RvEngineAddOptions *options, GError **error);
void rv_engine_source_free(RvEngineSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEngineSource, rv_engine_source_free)

RvEngine *rv_engine_new_libtorrent(const RvEngineSettings *settings, GError **error);
RvEngine *rv_engine_new_fake(const RvEngineSettings *settings);
void rv_engine_free(RvEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEngine, rv_engine_free)

void rv_engine_set_event_func(RvEngine *engine, RvEngineEventFunc func, gpointer user_data);
gboolean rv_engine_apply_settings(RvEngine *engine, const RvEngineSettings *settings, GError **error);
/* the settings as the engine holds them now (what libtorrent reports back) */
void rv_engine_get_settings(RvEngine *engine, RvEngineSettings *ret_settings);
/* 0 until RV_ENGINE_EVENT_LISTEN_SUCCEEDED */
guint16 rv_engine_get_listen_port(RvEngine *engine);

/*
 * start adding; the source is consumed whatever the result; Conflict when
 * the hash is already in the session; ADDED or ADD_FAILED follows
 */
gboolean rv_engine_add(RvEngine *engine, RvEngineSource *source, const RvEngineAddOptions *options, GError **error);

/* per-torrent commands: NotFound for an unknown hash; results arrive as events */
gboolean rv_engine_pause(RvEngine *engine, const RvInfoHash *hash, GError **error);
gboolean rv_engine_resume(RvEngine *engine, const RvInfoHash *hash, GError **error);
gboolean rv_engine_remove(RvEngine *engine, const RvInfoHash *hash, gboolean delete_data, GError **error);
gboolean rv_engine_recheck(RvEngine *engine, const RvInfoHash *hash, GError **error);
gboolean rv_engine_reannounce(RvEngine *engine, const RvInfoHash *hash, GError **error);
gboolean rv_engine_set_sequential(RvEngine *engine, const RvInfoHash *hash, gboolean sequential, GError **error);
/* on: the torrent runs whatever the queue (active_downloads, active_seeds) says; off: back in the queue (call it
 * only for a torrent that is not paused); a pause or resume ends a force start */
gboolean rv_engine_set_force_start(RvEngine *engine, const RvInfoHash *hash, gboolean force, GError **error);
gboolean rv_engine_set_super_seeding(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error);
/* on: the first and last pieces of every wanted file (1% of it at each end, one piece at least) get the top
 * priority (7), as qBittorrent does; kept over file priority changes and applied when a magnet's metadata comes;
 * off: the pieces follow the file priorities again */
gboolean rv_engine_set_first_last_piece(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error);
/* the piece priorities (0..7) libtorrent holds now; a blocking round trip to its network thread, for tests and
 * diagnostics only; NotSupported on the fake engine, NULL without metadata */
GByteArray *rv_engine_get_piece_priorities(RvEngine *engine, const RvInfoHash *hash, GError **error);
gboolean rv_engine_set_limits(RvEngine *engine, const RvInfoHash *hash, gint64 download_limit, gint64 upload_limit,
                              GError **error);
gboolean rv_engine_set_file_priorities(RvEngine *engine, const RvInfoHash *hash, const guint8 *priorities, gsize n,
                                       GError **error);
gboolean rv_engine_move_storage(RvEngine *engine, const RvInfoHash *hash, const char *save_path, GError **error);
gboolean rv_engine_connect_peer(RvEngine *engine, const RvInfoHash *hash, const char *host_port, GError **error);
gboolean rv_engine_request_file_progress(RvEngine *engine, const RvInfoHash *hash, GError **error);
/* the torrent's trackers with their status, answered by a TRACKERS event (libtorrent asked off the main loop) */
gboolean rv_engine_request_trackers(RvEngine *engine, const RvInfoHash *hash, GError **error);

/* ask for resume data; only_if_modified skips torrents with nothing new; returns how many were asked */
guint rv_engine_save_resume(RvEngine *engine, const RvInfoHash *hash, gboolean only_if_modified);
guint rv_engine_save_resume_all(RvEngine *engine, gboolean only_if_modified);

/* stop all transfers before a shutdown, so the resume data written after it is final */
void rv_engine_pause_session(RvEngine *engine);
/* undoes rv_engine_pause_session: each torrent runs again as its own state says */
void rv_engine_resume_session(RvEngine *engine);
/* post a request through the network thread; RV_ENGINE_EVENT_PROBE answers it */
void rv_engine_probe(RvEngine *engine);
/* a status event for every torrent that changed since the last one, at once */
void rv_engine_post_status(RvEngine *engine);

/* number of torrents in the session */
guint rv_engine_get_torrent_count(RvEngine *engine);

/*
 * make a v1 .torrent of a file or directory (blocking: hashes every byte;
 * run it off the main loop); piece_size 0 lets the engine choose
 */
GBytes *rv_engine_create_torrent(const char *path, guint piece_size, const char *const *trackers, GError **error);

/* fake engine controls, for tests; no-ops on libtorrent */
void rv_engine_fake_set_progress(RvEngine *engine, const RvInfoHash *hash, gint64 done);
void rv_engine_fake_deliver_metadata(RvEngine *engine, const RvInfoHash *hash, const char *name,
                                     const char *const *paths, const gint64 *sizes);
void rv_engine_fake_fail(RvEngine *engine, const RvInfoHash *hash, const char *message);
/* a status as libtorrent may deliver one it took before a pause or resume reached it: the torrent running
 * (downloading or seeding) whatever it is now */
void rv_engine_fake_deliver_stale_status(RvEngine *engine, const RvInfoHash *hash);

G_END_DECLS
