/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-qbt.h"

/* the qBittorrent WebAPI: reads take GET and a POSTed form (cross-seed posts them), writes a POSTed form */
#define QBT_READ(path, op, handler, summary)                                                       \
        { "GET", "/api/v2/" path, op, RV_HTTP_AUTH_QBT, RV_HTTP_BODY_NONE, handler, summary },     \
        {                                                                                          \
                "POST", "/api/v2/" path, op, RV_HTTP_AUTH_QBT, RV_HTTP_BODY_FORM, handler, summary \
        }
#define QBT_WRITE(path, op, handler, summary)                                                      \
        {                                                                                          \
                "POST", "/api/v2/" path, op, RV_HTTP_AUTH_QBT, RV_HTTP_BODY_FORM, handler, summary \
        }
#define QBT_COMMAND(name, op, summary) QBT_WRITE("torrents/" name, op, rv_qbt_torrents_command, summary)

/*
 * every route once: method, path, the core operation it is (which gives the
 * scope a key needs, as it gives polkit's action on D-Bus), who may call it,
 * what body it takes and the handler; docs/openapi.yaml describes exactly
 * these, and a test holds the two together
 */
static const RvHttpRoute rv_http_route_table[] = {
        { "GET", "/health", RV_OP_HEALTH, RV_HTTP_AUTH_NONE, RV_HTTP_BODY_NONE, rv_http_health,
          "whether the service is up and healthy" },
        { "GET", "/health/full", RV_OP_HEALTH, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_health_full,
          "every component with its latency, and the settings revision" },
        { "GET", "/metrics", RV_OP_METRICS, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_metrics,
          "Prometheus metrics" },
        { "GET", "/v1/torrents", RV_OP_LIST, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_torrents_list,
          "torrents, filtered and a page at a time" },
        { "POST", "/v1/torrents", RV_OP_ADD, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_UPLOAD, rv_http_torrents_add,
          "add a magnet link (JSON) or .torrent files (multipart)" },
        { "POST", "/v1/torrents/pause", RV_OP_PAUSE_ALL, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_torrents_action,
          "pause every torrent" },
        { "POST", "/v1/torrents/resume", RV_OP_RESUME_ALL, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_torrents_action,
          "resume every torrent" },
        { "GET", "/v1/torrents/{hash}", RV_OP_GET, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_torrents_get,
          "one torrent" },
        { "PATCH", "/v1/torrents/{hash}", RV_OP_UPDATE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON, rv_http_torrents_update,
          "change labels, limits or sequential download" },
        { "DELETE", "/v1/torrents/{hash}", RV_OP_REMOVE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_torrents_remove,
          "remove a torrent (delete_data=true: and its data)" },
        { "POST", "/v1/torrents/{hash}/pause", RV_OP_PAUSE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_action, "pause" },
        { "POST", "/v1/torrents/{hash}/resume", RV_OP_RESUME, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_action, "resume" },
        { "POST", "/v1/torrents/{hash}/recheck", RV_OP_RECHECK, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_action, "check the data again" },
        { "POST", "/v1/torrents/{hash}/reannounce", RV_OP_REANNOUNCE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_action, "announce to the trackers now" },
        { "POST", "/v1/torrents/{hash}/move", RV_OP_MOVE_STORAGE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON,
          rv_http_torrents_move, "move the data" },
        { "GET", "/v1/torrents/{hash}/files", RV_OP_LIST_FILES, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_files, "the files with their progress and priorities" },
        { "GET", "/v1/torrents/{hash}/trackers", RV_OP_LIST_TRACKERS, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_torrents_trackers, "the trackers with their status" },
        { "PUT", "/v1/torrents/{hash}/selection", RV_OP_SET_SELECTION, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON,
          rv_http_torrents_selection, "the selection rules" },
        { "PUT", "/v1/torrents/{hash}/files/priorities", RV_OP_SET_FILE_PRIORITIES, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON,
          rv_http_torrents_priorities, "priorities of single files" },
        { "GET", "/v1/events", RV_OP_EVENTS, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_events_stream,
          "the event stream (Server-Sent Events)" },
        { "GET", "/v1/settings/{section}", RV_OP_SETTINGS_READ, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_settings_get, "one section of the settings, with its revision" },
        { "PATCH", "/v1/settings/{section}", RV_OP_SETTINGS_UPDATE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON,
          rv_http_settings_patch, "change settings of one section (If-Match: the revision)" },
        { "GET", "/v1/settings/{section}/history", RV_OP_SETTINGS_HISTORY, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE,
          rv_http_settings_history, "the changes that touched one section, newest first" },
        { "POST", "/v1/setup/start", RV_OP_SETUP_START, RV_HTTP_AUTH_LOOPBACK, RV_HTTP_BODY_NONE, rv_http_setup_start,
          "a one-time setup token (loopback only, while no key exists)" },
        { "POST", "/v1/setup/complete", RV_OP_SETUP_COMPLETE, RV_HTTP_AUTH_TOKEN, RV_HTTP_BODY_JSON,
          rv_http_setup_complete, "the first API key, for the holder of the setup token" },
        { "GET", "/v1/keys", RV_OP_KEY_LIST, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_keys_list,
          "the API keys (never their secrets)" },
        { "POST", "/v1/keys", RV_OP_KEY_CREATE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_JSON, rv_http_keys_create,
          "a new key; its secret is shown once" },
        { "DELETE", "/v1/keys/{key}", RV_OP_KEY_REVOKE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_keys_revoke,
          "revoke a key" },
        { "POST", "/v1/keys/{key}/rotate", RV_OP_KEY_ROTATE, RV_HTTP_AUTH_KEY, RV_HTTP_BODY_NONE, rv_http_keys_rotate,
          "a new secret for a key; shown once" },
        /* the qBittorrent WebAPI v2 (docs/qbittorrent.md) */
        QBT_READ("app/webapiVersion", RV_OP_HEALTH, rv_qbt_app_webapi_version, "the WebAPI version, 2.x.y"),
        QBT_READ("app/version", RV_OP_HEALTH, rv_qbt_app_version, "the qBittorrent version reported"),
        QBT_READ("app/buildInfo", RV_OP_HEALTH, rv_qbt_app_build_info, "build information"),
        QBT_READ("app/preferences", RV_OP_SETTINGS_READ, rv_qbt_app_preferences, "the settings as preferences"),
        QBT_WRITE("app/setPreferences", RV_OP_SETTINGS_UPDATE, rv_qbt_app_set_preferences,
                  "change settings given as preferences"),
        QBT_READ("app/defaultSavePath", RV_OP_SETTINGS_READ, rv_qbt_app_default_save_path, "the default save path"),
        QBT_WRITE("auth/login", RV_OP_LOGIN, rv_qbt_auth_login, "a session (cookie SID)"),
        QBT_WRITE("auth/logout", RV_OP_LOGIN, rv_qbt_auth_logout, "end the session"),
        QBT_READ("torrents/info", RV_OP_LIST, rv_qbt_torrents_info, "torrents, filtered and sorted"),
        QBT_READ("torrents/properties", RV_OP_GET, rv_qbt_torrents_properties, "one torrent's properties"),
        QBT_READ("torrents/files", RV_OP_LIST_FILES, rv_qbt_torrents_files, "one torrent's files"),
        QBT_READ("torrents/trackers", RV_OP_LIST_TRACKERS, rv_qbt_torrents_trackers, "one torrent's trackers"),
        QBT_READ("torrents/categories", RV_OP_LIST, rv_qbt_categories, "the categories with their save paths"),
        QBT_READ("torrents/tags", RV_OP_LIST, rv_qbt_tags, "the tags"),
        { "POST", "/api/v2/torrents/add", RV_OP_ADD, RV_HTTP_AUTH_QBT, RV_HTTP_BODY_UPLOAD, rv_qbt_torrents_add,
          "add magnets (urls) and .torrent files (torrents)" },
        QBT_COMMAND("delete", RV_OP_REMOVE, "remove torrents (deleteFiles: and their data)"),
        QBT_COMMAND("pause", RV_OP_PAUSE, "pause torrents"),
        QBT_COMMAND("stop", RV_OP_PAUSE, "stop torrents"),
        QBT_COMMAND("resume", RV_OP_RESUME, "resume torrents"),
        QBT_COMMAND("start", RV_OP_RESUME, "start torrents"),
        QBT_COMMAND("recheck", RV_OP_RECHECK, "check torrents' data again"),
        QBT_COMMAND("reannounce", RV_OP_REANNOUNCE, "announce torrents now"),
        QBT_COMMAND("setForceStart", RV_OP_SET_FORCE_START, "run torrents past the queue (value), or give them back"),
        QBT_COMMAND("setSuperSeeding", RV_OP_SET_SUPER_SEEDING, "super seeding on or off (value)"),
        QBT_COMMAND("toggleFirstLastPiecePrio", RV_OP_SET_FIRST_LAST_PIECE, "first and last pieces first, or not"),
        QBT_COMMAND("toggleSequentialDownload", RV_OP_SET_SEQUENTIAL, "sequential download on or off"),
        QBT_COMMAND("setDownloadLimit", RV_OP_SET_DOWNLOAD_LIMIT, "torrents' download limit"),
        QBT_COMMAND("setUploadLimit", RV_OP_SET_UPLOAD_LIMIT, "torrents' upload limit"),
        QBT_COMMAND("setShareLimits", RV_OP_SET_SHARE_LIMITS, "torrents' seeding goals"),
        QBT_COMMAND("setLocation", RV_OP_MOVE_STORAGE, "move torrents' data"),
        QBT_COMMAND("setCategory", RV_OP_SET_LABELS, "torrents' category"),
        QBT_COMMAND("addTags", RV_OP_SET_LABELS, "add tags to torrents"),
        QBT_COMMAND("removeTags", RV_OP_SET_LABELS, "take tags off torrents"),
        QBT_COMMAND("topPrio", RV_OP_UPDATE, "409: Revaer keeps no queue positions"),
        QBT_COMMAND("bottomPrio", RV_OP_UPDATE, "409: Revaer keeps no queue positions"),
        QBT_COMMAND("increasePrio", RV_OP_UPDATE, "409: Revaer keeps no queue positions"),
        QBT_COMMAND("decreasePrio", RV_OP_UPDATE, "409: Revaer keeps no queue positions"),
        QBT_WRITE("torrents/filePrio", RV_OP_SET_FILE_PRIORITIES, rv_qbt_torrents_file_prio, "files' priorities"),
        QBT_WRITE("torrents/createCategory", RV_OP_SET_CATEGORIES, rv_qbt_create_category, "a new category"),
        QBT_WRITE("torrents/editCategory", RV_OP_SET_CATEGORIES, rv_qbt_edit_category, "a category's save path"),
        QBT_WRITE("torrents/removeCategories", RV_OP_SET_CATEGORIES, rv_qbt_remove_categories,
                  "remove categories (one per line)"),
        QBT_WRITE("torrents/createTags", RV_OP_SET_LABELS, rv_qbt_create_tags,
                  "check tag names (a tag exists while a torrent carries it)"),
        QBT_WRITE("torrents/deleteTags", RV_OP_SET_LABELS, rv_qbt_delete_tags, "take tags off every torrent"),
        QBT_READ("transfer/info", RV_OP_LIST, rv_qbt_transfer_info, "global rates and totals"),
        QBT_READ("sync/maindata", RV_OP_LIST, rv_qbt_sync_maindata, "everything, then what changed since rid"),
        { NULL, NULL, 0, 0, 0, NULL, NULL },
};

const RvHttpRoute *
rv_http_routes(void)
{
        return rv_http_route_table;
}

/* the path's segments against the pattern's; a "{...}" segment takes any non-empty one */
static gboolean
rv_http_route_path_matches(const char *pattern, const char *path, char **ret_params)
{
        g_auto(GStrv) want = NULL;
        g_auto(GStrv) have = NULL;
        guint n_params = 0;

        /* before path + 1: an empty path (a request without a URI) has nothing after its end */
        if (path[0] != '/')
                return FALSE;
        want = g_strsplit(pattern + 1, "/", -1);
        have = g_strsplit(path + 1, "/", -1);
        if (g_strv_length(want) != g_strv_length(have))
                return FALSE;
        for (guint i = 0; want[i] != NULL; i++) {
                if (want[i][0] == '{') {
                        if (have[i][0] == '\0')
                                return FALSE;
                        continue;
                }
                if (!g_str_equal(want[i], have[i]))
                        return FALSE;
        }
        for (guint i = 0; want[i] != NULL && ret_params != NULL; i++) {
                if (want[i][0] == '{' && n_params < 2)
                        ret_params[n_params++] = g_strdup(have[i]);
        }
        return TRUE;
}

/* a route with fewer captures wins: "/v1/torrents/pause" over "/v1/torrents/{hash}" */
static guint
rv_http_route_captures(const RvHttpRoute *route)
{
        guint n = 0;

        for (const char *p = route->pattern; *p != '\0'; p++)
                n += *p == '{';
        return n;
}

const RvHttpRoute *
rv_http_route_match(const char *method, const char *path, char **ret_params, char **ret_allow)
{
        const RvHttpRoute *best = NULL;
        g_autoptr(GString) allow = g_string_new(NULL);

        for (const RvHttpRoute *r = rv_http_route_table; r->method != NULL; r++) {
                if (!rv_http_route_path_matches(r->pattern, path, NULL))
                        continue;
                if (strstr(allow->str, r->method) == NULL) {
                        if (allow->len > 0)
                                g_string_append(allow, ", ");
                        g_string_append(allow, r->method);
                        if (g_str_equal(r->method, "GET"))
                                g_string_append(allow, ", HEAD");
                }
                if ((g_str_equal(r->method, method) ||
                     (g_str_equal(method, "HEAD") && g_str_equal(r->method, "GET"))) &&
                    (best == NULL || rv_http_route_captures(r) < rv_http_route_captures(best)))
                        best = r;
        }
        if (best != NULL)
                (void)rv_http_route_path_matches(best->pattern, path, ret_params);
        if (ret_allow != NULL)
                *ret_allow = best == NULL && allow->len > 0 ? g_strdup(allow->str) : NULL;
        return best;
}
