/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rv-http-private.h"

G_BEGIN_DECLS

/*
 * The qBittorrent WebAPI v2 facade (docs/qbittorrent.md): routes under
 * /api/v2 in the one route table, answered in qBittorrent's forms (plain
 * text "Ok."/"Fails.", its JSON field names, types and sentinels, its
 * statuses) over the same core commands, validation and error table as /v1
 * and D-Bus. Here: the sessions of auth/login and the per-torrent change
 * log that sync/maindata answers from, fed by the core's event stream.
 */

/* qBittorrent's "unknown" ETA (100 days) */
#define RV_QBT_ETA_UNKNOWN 8640000
#define RV_QBT_MAX_SESSIONS 1024
/* removals remembered for deltas; a client further behind gets a full update */
#define RV_QBT_MAX_REMOVED 4096
#define RV_QBT_COOKIE "SID"

typedef struct {
        char *actor;
        char *key_id;
        RvScope scope;
        gint64 expires_us;
        /* the server_state of the last sync/maindata answer: a delta leaves it out when it is the same */
        char *server_state;
} RvQbtSession;

/*
 * what the change log follows one by one: the RvTorrentFields bits, then
 * two of its own that split a change of labels into the category and the
 * tags, so that a setCategory delta carries the category and not the tags
 * (as qBittorrent's does)
 */
#define RV_QBT_TORRENT_BITS 17
G_STATIC_ASSERT(RV_TORRENT_FIELD_TRACKER < (1 << RV_QBT_TORRENT_BITS));
#define RV_QBT_CHANGED_CATEGORY (1u << RV_QBT_TORRENT_BITS)
#define RV_QBT_CHANGED_TAGS (1u << (RV_QBT_TORRENT_BITS + 1))
#define RV_QBT_FIELD_BITS (RV_QBT_TORRENT_BITS + 2)

/* one torrent's place in the change log */
typedef struct {
        RvInfoHash hash;
        /* the event id of its last change, and its link in RvQbt.changes */
        guint64 changed_id;
        GList link;
        /* the link is in RvQbt.changes */
        gboolean queued;
        /* the event id that last changed each RvTorrentFields bit; added_id: the torrent came (all of it is new) */
        guint64 field_ids[RV_QBT_FIELD_BITS];
        guint64 added_id;
        /* seconds since the epoch of the last transfer seen (qBittorrent's last_activity) */
        gint64 last_activity;
        /* the category and tags as the last change of labels left them */
        char *category;
        char *tags;
} RvQbtEntry;

typedef struct {
        guint64 id;
        RvInfoHash hash;
} RvQbtRemoved;

struct _RvQbt {
        RvHttp *http;
        /* sid -> RvQbtSession */
        GHashTable *sessions;
        guint subscription;
        /* hash hex -> RvQbtEntry (owned) */
        GHashTable *entries;
        /* RvQbtEntry by changed_id, oldest first (the entries' own links) */
        GQueue changes;
        /* RvQbtRemoved, oldest first */
        GQueue removed;
        /* a rid at or below this is older than what is known: full update */
        guint64 floor_id;
        /* the change log is kept (from the first sync/maindata on) */
        gboolean tracking;
        /* the last settings change (categories) */
        guint64 settings_id;
        /* fetches .torrent files named by URL in torrents/add; made on first use */
        SoupSession *fetcher;
};

/* rv-qbt.c */
RvQbt *rv_qbt_new(RvHttp *http);
void rv_qbt_free(RvQbt *qbt);
/* keeps the change log from now on (last_id: the event id the first full update names) */
void rv_qbt_track_changes(RvQbt *qbt, guint64 last_id);
/* the RvTorrentFields of a torrent changed since the event rid (RV_QBT_ALL when it came since) */
guint rv_qbt_changes_since(const RvQbtEntry *entry, guint64 rid);
/* the last transfer seen of a torrent (seconds since the epoch), its added time when none */
gint64 rv_qbt_last_activity(RvQbt *qbt, const RvTorrent *t);

/* a parameter from the query or the form body (qBittorrent takes both), NULL when absent */
const char *rv_qbt_param(RvHttpRequest *req, const char *name);
/*
 * a multipart form: its text parts into fields (name -> value), the file
 * parts named "torrents" into files (GBytes) when files is given; FALSE when
 * the body is no form, has more than max_parts parts or a part without a name
 */
gboolean rv_qbt_read_multipart(RvHttpRequest *req, guint max_parts, GHashTable *fields, GPtrArray *files);
/* the same on a body and its headers (the fuzz target's way in) */
gboolean rv_qbt_multipart_parse(SoupMessageHeaders *headers, GBytes *body, guint max_parts, GHashTable *fields,
                                GPtrArray *files);
/* an application/x-www-form-urlencoded text (a query or a form body) into params, a later value replacing an earlier */
void rv_qbt_form_merge(GHashTable *into, const char *text, gsize len);
/* a required parameter: NULL after a 400 */
const char *rv_qbt_require(RvHttpRequest *req, const char *name);
/* "true"/"false" as qBittorrent writes them */
gboolean rv_qbt_param_bool(RvHttpRequest *req, const char *name, gboolean if_missing);
/* plain-text answers */
void rv_qbt_respond_text(RvHttpRequest *req, guint status, const char *text);
void rv_qbt_respond_ok(RvHttpRequest *req);
/* an error of the one table, with qBittorrent's status for it and its message as plain text */
void rv_qbt_respond_error(RvHttpRequest *req, const GError *error);
/* the settings document now (NULL before they are loaded) */
JsonNode *rv_qbt_settings(RvHttpRequest *req);
/* the reported version: TRUE for 5.x (WebAPI >= 2.11: stopped* states, stop/start) */
gboolean rv_qbt_stopped_vocabulary(JsonNode *settings);

/*
 * the torrents "hashes" names: "all", or hashes separated by '|'; borrowed
 * RvTorrent pointers, unknown hashes left out (as qBittorrent does); NULL
 * after a 400 when the parameter is missing
 */
GPtrArray *rv_qbt_hashes(RvHttpRequest *req, const char *param);
/* this node's torrents and the other nodes' of a cluster (borrowed pointers, for this request only) */
GPtrArray *rv_qbt_all_listed(RvManager *manager);

/* rv-qbt-auth.c */
gboolean rv_qbt_auth_check(RvHttp *http, RvHttpRequest *req);
void rv_qbt_auth_login(RvHttpRequest *req);
void rv_qbt_auth_logout(RvHttpRequest *req);
void rv_qbt_session_free(RvQbtSession *session);

/* what every torrent of one answer is shown with, read once per answer */
typedef struct {
        RvQbt *qbt;
        /* /app/categories (borrowed), NULL before the settings are loaded */
        JsonObject *categories;
        /* the 5.x vocabulary (stopped*) */
        gboolean stopped;
        gint64 now;
} RvQbtView;

void rv_qbt_view_init(RvQbtView *view, RvHttpRequest *req);
/* /app/categories of a settings document (borrowed), or NULL */
JsonObject *rv_qbt_categories_of(JsonNode *settings);

/* rv-qbt-map.c: the mapping of docs/qbittorrent.md */
const char *rv_qbt_state(const RvTorrent *t, gboolean stopped_vocabulary);
/* seconds until done, RV_QBT_ETA_UNKNOWN unless a download is moving */
gint64 rv_qbt_eta(const RvTorrent *t);
/* the torrent's category: its first label that is a category, or NULL */
const char *rv_qbt_category(const RvTorrent *t, JsonObject *categories);
/* "a, b": the labels that are not the category */
char *rv_qbt_tags_text(const RvTorrent *t, const char *category);
/* content_path: the file of a single-file torrent, the root folder of a multi-file one */
char *rv_qbt_content_path(const RvTorrent *t);
/* every field, as torrents/info and a full sync/maindata show them */
#define RV_QBT_ALL G_MAXUINT
/* one torrent as torrents/info shows it (and sync/maindata, keyed by hash): every field (RV_QBT_ALL) or those
 * that changes (RvTorrentFields) change */
void rv_qbt_append_torrent(GString *out, const RvQbtView *view, const RvTorrent *t, gboolean with_hash, guint changes);
/* {"name": {"name":..., "savePath":...}, ...} */
void rv_qbt_append_categories(GString *out, JsonNode *settings);
/* ["tag", ...]: every label that is not a category */
void rv_qbt_append_tags(GString *out, RvManager *manager, JsonObject *categories);
void rv_qbt_append_server_state(GString *out, RvHttp *http);

/* what follows a settings write that worked, taking data; without one the answer is an empty 200 */
typedef void (*RvQbtThen)(RvHttpRequest *req, gpointer data);
/* a category created or changed in /app/categories (save_path NULL or "": the default save path) */
void rv_qbt_set_category_entry(RvHttpRequest *req, const char *name, const char *save_path, RvQbtThen then,
                               gpointer data, GDestroyNotify destroy);

/* handlers: rv-qbt-app.c */
void rv_qbt_app_webapi_version(RvHttpRequest *req);
void rv_qbt_app_version(RvHttpRequest *req);
void rv_qbt_app_build_info(RvHttpRequest *req);
void rv_qbt_app_preferences(RvHttpRequest *req);
void rv_qbt_app_set_preferences(RvHttpRequest *req);
void rv_qbt_app_default_save_path(RvHttpRequest *req);
void rv_qbt_transfer_info(RvHttpRequest *req);
void rv_qbt_categories(RvHttpRequest *req);
void rv_qbt_create_category(RvHttpRequest *req);
void rv_qbt_edit_category(RvHttpRequest *req);
void rv_qbt_remove_categories(RvHttpRequest *req);
void rv_qbt_tags(RvHttpRequest *req);
void rv_qbt_create_tags(RvHttpRequest *req);
void rv_qbt_delete_tags(RvHttpRequest *req);
/* rv-qbt-torrents.c */
void rv_qbt_torrents_info(RvHttpRequest *req);
void rv_qbt_torrents_properties(RvHttpRequest *req);
void rv_qbt_torrents_files(RvHttpRequest *req);
void rv_qbt_torrents_trackers(RvHttpRequest *req);
void rv_qbt_sync_maindata(RvHttpRequest *req);
/* rv-qbt-actions.c: every command on a list of hashes */
void rv_qbt_torrents_command(RvHttpRequest *req);
void rv_qbt_torrents_file_prio(RvHttpRequest *req);
/* rv-qbt-add.c */
void rv_qbt_torrents_add(RvHttpRequest *req);

G_END_DECLS
