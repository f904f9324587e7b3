/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-manager.h"
#include "rv-selection.h"

G_BEGIN_DECLS

/*
 * The one command path: every transport (D-Bus today, REST and the
 * qBittorrent facade tomorrow) decodes a request into an RvCommand, has the
 * core validate it, authorizes the caller for the command's scope (polkit's
 * action or an API key's scope, both from the table in rv-command.c), and
 * submits it; no transport keeps a switch over operations or a copy of a
 * check.
 */

/*
 * what a caller may do; each maps to one polkit action and one API key scope;
 * metrics is the least (a Prometheus scraper's key can read the metrics and
 * nothing else), admin the most
 */
typedef enum {
        RV_SCOPE_METRICS,
        RV_SCOPE_READ,
        RV_SCOPE_MANAGE,
        RV_SCOPE_CONFIGURE,
        RV_SCOPE_ADMIN,
        RV_SCOPE_LAST,
} RvScope;

/* "metrics", "read", "manage", "configure", "admin" */
const char *rv_scope_to_string(RvScope scope);
gboolean rv_scope_from_string(const char *text, RvScope *ret_scope);
/* "com.revaer.revaer1.observe" for RV_SCOPE_METRICS and RV_SCOPE_READ, ... */
const char *rv_scope_to_polkit_action(RvScope scope);
/* a key of scope has what needed asks for: admin > configure > manage > read > metrics */
gboolean rv_scope_allows(RvScope scope, RvScope needed);

typedef enum {
        /* on the manager */
        RV_OP_ADD,
        RV_OP_GET,
        RV_OP_LIST,
        RV_OP_PAUSE_ALL,
        RV_OP_RESUME_ALL,
        /* on one torrent */
        RV_OP_PAUSE,
        RV_OP_RESUME,
        RV_OP_REMOVE,
        RV_OP_RECHECK,
        RV_OP_REANNOUNCE,
        RV_OP_SET_SELECTION,
        RV_OP_LIST_FILES,
        RV_OP_SET_FILE_PRIORITIES,
        RV_OP_MOVE_STORAGE,
        RV_OP_SET_SEQUENTIAL,
        RV_OP_SET_DOWNLOAD_LIMIT,
        RV_OP_SET_UPLOAD_LIMIT,
        RV_OP_SET_LABELS,
        /* a torrent's own seeding goals (ratio, seeding minutes) */
        RV_OP_SET_SHARE_LIMITS,
        /* run a torrent's post-download pipeline again */
        RV_OP_FS_RETRY,
        /* settings */
        RV_OP_SETTINGS_READ,
        RV_OP_SETTINGS_UPDATE,
        RV_OP_SETTINGS_HISTORY,
        /* setup and keys */
        RV_OP_SETUP_START,
        RV_OP_SETUP_COMPLETE,
        RV_OP_KEY_CREATE,
        RV_OP_KEY_ROTATE,
        RV_OP_KEY_REVOKE,
        RV_OP_KEY_LIST,
        /* several fields of one torrent at once (labels, limits, sequential), one command each */
        RV_OP_UPDATE,
        /* following the event stream */
        RV_OP_EVENTS,
        /* the health of every component, with latencies */
        RV_OP_HEALTH,
        /* the metrics (Prometheus) */
        RV_OP_METRICS,
        /* create, change or remove categories (/app/categories: a save path per label) */
        RV_OP_SET_CATEGORIES,
        /* a session for the qBittorrent WebAPI (user name and password, or an API key) */
        RV_OP_LOGIN,
        /* on one torrent: run it outside libtorrent's queue (flag) or give it back */
        RV_OP_SET_FORCE_START,
        /* on one torrent: libtorrent's super seeding (flag) */
        RV_OP_SET_SUPER_SEEDING,
        /* on one torrent: the first and last pieces of each wanted file first (flag) */
        RV_OP_SET_FIRST_LAST_PIECE,
        /* on one torrent: its trackers with their status (asynchronous, like list_files) */
        RV_OP_LIST_TRACKERS,
        RV_OP_LAST,
} RvOp;

/* "pause", "set_labels", ... (journal entries, metrics labels) */
const char *rv_op_to_string(RvOp op);
RvScope rv_op_scope(RvOp op);
/* the operation acts on one torrent named by RvCommand.hash */
gboolean rv_op_targets_torrent(RvOp op);
/* the command that sets a boolean torrent field a client may change ("sequential", "force_start", ...; the JSON
 * name of rv-torrent-fields.c), its value in RvCommand.flag; FALSE for any other name */
gboolean rv_op_for_bool_field(const char *field, RvOp *ret_op);

typedef enum {
        RV_TRANSPORT_INTERNAL,
        RV_TRANSPORT_DBUS,
        RV_TRANSPORT_HTTP,
        RV_TRANSPORT_QBITTORRENT,
} RvTransport;

/* who asks */
typedef struct {
        RvTransport transport;
        /* D-Bus: the caller's uid, -1 when not known */
        gint64 uid;
        /* HTTP: the id of the API key used, NULL otherwise */
        char *key_id;
        /* who did it, for settings history and the journal: "uid:1000", "key:abc123", "revaerd" */
        char *actor;
        /* the caller may be asked to authenticate */
        gboolean interactive;
} RvCaller;

void rv_caller_clear(RvCaller *caller);

/* one command on one torrent, with the typed arguments its operation takes */
typedef struct {
        RvOp op;
        RvInfoHash hash;
        /* remove: delete the data; set_sequential, set_force_start, set_super_seeding: on */
        gboolean flag;
        /* set_download_limit, set_upload_limit: bytes/s, 0 for none; set_share_limits: seeding minutes */
        gint64 limit;
        /* set_share_limits: the ratio and the minutes without an upload */
        double ratio;
        gint64 inactive_minutes;
        /* move_storage */
        char *path;
        /* set_labels */
        GStrv labels;
        /* set_selection */
        RvSelection *selection;
        /* set_file_priorities: guint32 file indexes and their priorities 0..7 */
        GArray *indexes;
        GByteArray *priorities;
        /* the name the caller gave the argument (a D-Bus property, a JSON member), for errors; NULL: the core's */
        const char *field;
} RvCommand;

RvCommand *rv_command_new(RvOp op, const RvInfoHash *hash);
void rv_command_free(RvCommand *command);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvCommand, rv_command_free)

/* the arguments, checked before anything is authorized or changed; the error names the field. target, when
 * known, is the torrent as it is now (file indexes are checked against its files) */
gboolean rv_command_validate(const RvCommand *command, const RvTorrent *target, GError **error);
/* applies a torrent command (every RV_OP that targets a torrent but list_files and list_trackers, which are
 * asynchronous): NOT_FOUND when the torrent is gone or going */
gboolean rv_command_run(RvManager *manager, const RvCommand *command, GError **error);

/*
 * a command as it travels to the node that owns its torrent (docs/cluster.md);
 * only the operations rv_command_run() takes
 */
JsonNode *rv_command_to_json(const RvCommand *command);
RvCommand *rv_command_from_json(JsonNode *node, GError **error);

/*
 * a command on a torrent another node owns (the torrent is listed with its
 * node): carried to that node, run there, answered; the torrent as the owner
 * sees it afterwards (NULL for a remove), or the owner's error, Unavailable,
 * or TimedOut
 */
void rv_command_forward_async(RvManager *manager, const RvCommand *command, GAsyncReadyCallback callback,
                              gpointer user_data);
JsonNode *rv_command_forward_finish(RvManager *manager, GAsyncResult *result, GError **error);

G_END_DECLS
