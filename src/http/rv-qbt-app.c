/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-qbt.h"
#include "rv-validate.h"

/* app/: versions and preferences; torrents/ categories and tags; transfer/info */

/* the reported qBittorrent version and its WebAPI version (/app/webapi_version) */
static const char *
rv_qbt_webapi_version(JsonNode *settings)
{
        return rv_qbt_stopped_vocabulary(settings) ? "2.11.3" : "2.9.3";
}

void
rv_qbt_app_webapi_version(RvHttpRequest *req)
{
        rv_qbt_respond_text(req, SOUP_STATUS_OK, rv_qbt_webapi_version(rv_qbt_settings(req)));
}

void
rv_qbt_app_version(RvHttpRequest *req)
{
        JsonNode *doc = rv_qbt_settings(req);
        const char *version = doc != NULL ? rv_settings_get_string(doc, "app", "webapi_version") : NULL;
        g_autofree char *text = g_strdup_printf("v%s", version != NULL ? version : "5.0.4");

        rv_qbt_respond_text(req, SOUP_STATUS_OK, text);
}

void
rv_qbt_app_build_info(RvHttpRequest *req)
{
        GString *out =
                g_string_new("{\"qt\":\"\",\"libtorrent\":\"2.0\",\"boost\":\"\",\"openssl\":\"\",\"zlib\":\"\"");

        g_string_append(out, ",\"bitness\":");
        rv_json_append_int(out, (gint64)sizeof(void *) * 8);
        g_string_append(out, ",\"platform\":\"linux\",\"revaer\":\"" PACKAGE_VERSION "\"}");
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

static const char *
rv_qbt_default_save_path(RvHttpRequest *req)
{
        return rv_manager_get_config(req->http->manager)->download_dir;
}

void
rv_qbt_app_default_save_path(RvHttpRequest *req)
{
        rv_qbt_respond_text(req, SOUP_STATUS_OK, rv_qbt_default_save_path(req));
}

/* the preferences that are integer settings, both ways; "dl_limit" and "up_limit" take -1 for none */
static const struct {
        const char *pref;
        const char *section;
        const char *name;
} rv_qbt_pref_ints[] = {
        { "dl_limit", "engine", "download_limit" },         { "up_limit", "engine", "upload_limit" },
        { "listen_port", "engine", "listen_port" },         { "max_active_downloads", "engine", "active_downloads" },
        { "max_active_uploads", "engine", "active_seeds" }, { "max_active_torrents", "engine", "active_limit" },
        { "max_connec", "engine", "connections_limit" },
};

static void
rv_qbt_pref_member(GString *out, const char *name)
{
        g_string_append_printf(out, ",\"%s\":", name);
}

void
rv_qbt_app_preferences(RvHttpRequest *req)
{
        JsonNode *doc = rv_qbt_settings(req);
        const RvManagerConfig *c = rv_manager_get_config(req->http->manager);
        GString *out = g_string_new("{\"save_path\":");
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        const char *action = doc != NULL ? rv_settings_get_string(doc, "engine", "seed_action") : "pause";
        const char *encryption = doc != NULL ? rv_settings_get_string(doc, "engine", "encryption") : "prefer";
        const char *user = doc != NULL ? rv_settings_get_string(doc, "app", "webapi_username") : NULL;

        rv_json_append_string(out, rv_qbt_default_save_path(req));
        rv_qbt_pref_member(out, "max_ratio_enabled");
        g_string_append(out, c->seed_ratio > 0 ? "true" : "false");
        rv_qbt_pref_member(out, "max_ratio");
        g_string_append(out, c->seed_ratio > 0 ? g_ascii_formatd(buf, sizeof(buf), "%.6g", c->seed_ratio) : "-1");
        rv_qbt_pref_member(out, "max_seeding_time_enabled");
        g_string_append(out, c->seed_time_s > 0 ? "true" : "false");
        rv_qbt_pref_member(out, "max_seeding_time");
        rv_json_append_int(out, c->seed_time_s > 0 ? c->seed_time_s / 60 : -1);
        rv_qbt_pref_member(out, "max_inactive_seeding_time_enabled");
        g_string_append(out, c->seed_inactive_time_s > 0 ? "true" : "false");
        rv_qbt_pref_member(out, "max_inactive_seeding_time");
        rv_json_append_int(out, c->seed_inactive_time_s > 0 ? c->seed_inactive_time_s / 60 : -1);
        /* qBittorrent's actions: 0 stop, 1 remove, 3 remove with files */
        rv_qbt_pref_member(out, "max_ratio_act");
        rv_json_append_int(out, g_strcmp0(action, "remove") == 0             ? 1
                                : g_strcmp0(action, "remove_with_data") == 0 ? 3
                                                                             : 0);
        g_string_append(out, ",\"queueing_enabled\":false,\"temp_path_enabled\":false,\"temp_path\":\"\"");
        g_string_append(out, ",\"create_subfolder_enabled\":true,\"torrent_content_layout\":\"Original\"");
        g_string_append(out, ",\"start_paused_enabled\":false,\"auto_tmm_enabled\":false,\"pex\":false");
        rv_qbt_pref_member(out, "dht");
        g_string_append(out, doc == NULL || rv_settings_get_bool(doc, "engine", "dht") ? "true" : "false");
        rv_qbt_pref_member(out, "lsd");
        g_string_append(out, doc == NULL || rv_settings_get_bool(doc, "engine", "lsd") ? "true" : "false");
        rv_qbt_pref_member(out, "encryption");
        rv_json_append_int(out, g_strcmp0(encryption, "require") == 0   ? 1
                                : g_strcmp0(encryption, "disable") == 0 ? 2
                                                                        : 0);
        for (guint i = 0; i < G_N_ELEMENTS(rv_qbt_pref_ints); i++) {
                rv_qbt_pref_member(out, rv_qbt_pref_ints[i].pref);
                rv_json_append_int(out, doc != NULL ? rv_settings_get_int(doc, rv_qbt_pref_ints[i].section,
                                                                          rv_qbt_pref_ints[i].name, 0)
                                                    : 0);
        }
        rv_qbt_pref_member(out, "web_ui_username");
        rv_json_append_string(out, user != NULL ? user : "");
        g_string_append_c(out, '}');
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* settings writes: stored with a revision like every other, answered when they are */

typedef struct {
        RvHttpRequest *req;
        RvQbtThen then;
        gpointer data;
        GDestroyNotify destroy;
} RvQbtUpdate;

static void
rv_qbt_updated_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvQbtUpdate *u = user_data;
        g_autoptr(RvHttpRequest) req = u->req;
        g_autoptr(GError) error = NULL;

        (void)rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &error);
        /* then takes the data; without it, or after an error, it is destroyed here */
        if (error == NULL && u->then != NULL) {
                u->then(req, u->data);
        } else {
                if (error != NULL)
                        rv_qbt_respond_error(req, error);
                else
                        rv_qbt_respond_ok(req);
                if (u->destroy != NULL)
                        u->destroy(u->data);
        }
        g_free(u);
}

/* patch (JSON pointers to values) stored, then then (or "Ok"); expected: the revision it was made from, 0 any */
static void
rv_qbt_update(RvHttpRequest *req, JsonObject *patch, guint64 expected, const char *reason, RvQbtThen then,
              gpointer data, GDestroyNotify destroy)
{
        RvQbtUpdate *u = g_new0(RvQbtUpdate, 1);
        g_autoptr(JsonNode) node = rv_json_node_take_object(patch);

        u->req = rv_http_request_pause(req);
        u->then = then;
        u->data = data;
        u->destroy = destroy;
        rv_live_settings_update_if_async(req->http->settings, expected, node, req->caller.actor, reason, NULL,
                                         rv_qbt_updated_cb, u);
}

/* preferences qBittorrent clients set, as settings; what Revaer has no setting for is ignored, as qBittorrent
 * ignores keys it does not know */

/* a minutes goal of qBittorrent's (an "enabled" flag and minutes, -1 or 0 for none) as a setting in minutes */
static void
rv_qbt_pref_minutes(JsonObject *prefs, const char *enabled, const char *minutes, JsonObject *patch, const char *setting)
{
        gboolean on;
        gint64 value;

        if (!json_object_has_member(prefs, enabled) && !json_object_has_member(prefs, minutes))
                return;
        on = rv_json_object_get_boolean_or(prefs, enabled, TRUE);
        value = rv_json_object_get_int_or(prefs, minutes, 0);
        json_object_set_int_member(patch, setting, on && value > 0 ? value : 0);
}

static gboolean
rv_qbt_preferences_patch(JsonObject *prefs, JsonObject *patch, GError **error)
{
        JsonNode *v;

        for (guint i = 0; i < G_N_ELEMENTS(rv_qbt_pref_ints); i++) {
                g_autofree char *pointer = NULL;
                if ((v = json_object_get_member(prefs, rv_qbt_pref_ints[i].pref)) == NULL)
                        continue;
                if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_INT64) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an integer",
                                    rv_qbt_pref_ints[i].pref);
                        return FALSE;
                }
                pointer = g_strdup_printf("/%s/%s", rv_qbt_pref_ints[i].section, rv_qbt_pref_ints[i].name);
                /* -1 is qBittorrent's "no limit" */
                json_object_set_int_member(patch, pointer,
                                           json_node_get_int(v) < 0 && i < 2 ? 0 : json_node_get_int(v));
        }
        if ((v = json_object_get_member(prefs, "save_path")) != NULL)
                json_object_set_member(patch, "/engine/download_root", json_node_copy(v));
        if ((v = json_object_get_member(prefs, "dht")) != NULL)
                json_object_set_member(patch, "/engine/dht", json_node_copy(v));
        if ((v = json_object_get_member(prefs, "lsd")) != NULL)
                json_object_set_member(patch, "/engine/lsd", json_node_copy(v));
        if (json_object_has_member(prefs, "max_ratio_enabled") || json_object_has_member(prefs, "max_ratio")) {
                gboolean on = rv_json_object_get_boolean_or(prefs, "max_ratio_enabled", TRUE);
                JsonNode *r = json_object_get_member(prefs, "max_ratio");
                double ratio = r != NULL && JSON_NODE_HOLDS_VALUE(r) ? json_node_get_double(r) : 0;
                json_object_set_double_member(patch, "/engine/seed_ratio", on && ratio > 0 ? ratio : 0);
        }
        rv_qbt_pref_minutes(prefs, "max_seeding_time_enabled", "max_seeding_time", patch, "/engine/seed_time");
        rv_qbt_pref_minutes(prefs, "max_inactive_seeding_time_enabled", "max_inactive_seeding_time", patch,
                            "/engine/seed_inactive_time");
        if ((v = json_object_get_member(prefs, "max_ratio_act")) != NULL) {
                gint64 act = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_int(v) : 0;
                json_object_set_string_member(patch, "/engine/seed_action",
                                              act == 1   ? "remove"
                                              : act == 3 ? "remove_with_data"
                                                         : "pause");
        }
        if ((v = json_object_get_member(prefs, "web_ui_username")) != NULL)
                json_object_set_member(patch, "/app/webapi_username", json_node_copy(v));
        return TRUE;
}

void
rv_qbt_app_set_preferences(RvHttpRequest *req)
{
        const char *text = rv_qbt_require(req, "json");
        g_autoptr(JsonNode) prefs = NULL;
        g_autoptr(GError) error = NULL;
        JsonObject *patch;

        if (text == NULL)
                return;
        prefs = rv_json_parse(text, -1, FALSE, NULL);
        if (prefs == NULL || !JSON_NODE_HOLDS_OBJECT(prefs) ||
            rv_http_json_too_deep(text, strlen(text), RV_HTTP_MAX_JSON_DEPTH)) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "json: expected an object of preferences");
                return;
        }
        patch = json_object_new();
        if (!rv_qbt_preferences_patch(json_node_get_object(prefs), patch, &error)) {
                json_object_unref(patch);
                rv_qbt_respond_error(req, error);
                return;
        }
        rv_qbt_update(req, patch, 0, "WebAPI app/setPreferences", NULL, NULL, NULL);
}

void
rv_qbt_transfer_info(RvHttpRequest *req)
{
        GString *out = g_string_new(NULL);

        rv_qbt_append_server_state(out, req->http);
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* categories: /app/categories, a save path per label */

void
rv_qbt_categories(RvHttpRequest *req)
{
        GString *out = g_string_new(NULL);

        rv_qbt_append_categories(out, rv_qbt_settings(req));
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* /app/categories as it is now, to change */
static JsonObject *
rv_qbt_categories_copy(RvHttpRequest *req)
{
        JsonNode *v = rv_settings_get(rv_qbt_settings(req), rv_settings_find("app", "categories"));
        g_autoptr(JsonNode) copy = v != NULL && JSON_NODE_HOLDS_OBJECT(v) ? rv_json_deep_copy(v) : NULL;

        return copy != NULL ? json_object_ref(json_node_get_object(copy)) : json_object_new();
}

static void
rv_qbt_categories_store(RvHttpRequest *req, JsonObject *categories, const char *reason, RvQbtThen then, gpointer data,
                        GDestroyNotify destroy)
{
        JsonObject *patch = json_object_new();

        json_object_set_object_member(patch, "/app/categories", categories);
        rv_qbt_update(req, patch, rv_live_settings_get_revision(req->http->settings), reason, then, data, destroy);
}

/* {"save_path": path or null} from the request's savePath */
static JsonObject *
rv_qbt_category_entry(const char *save_path)
{
        JsonObject *entry = json_object_new();

        if (save_path != NULL && save_path[0] != '\0')
                json_object_set_string_member(entry, "save_path", save_path);
        else
                json_object_set_null_member(entry, "save_path");
        return entry;
}

void
rv_qbt_set_category_entry(RvHttpRequest *req, const char *name, const char *save_path, RvQbtThen then, gpointer data,
                          GDestroyNotify destroy)
{
        JsonObject *categories = rv_qbt_categories_copy(req);
        g_autofree char *reason = g_strdup_printf("WebAPI category '%s'", name);

        json_object_set_object_member(categories, name, rv_qbt_category_entry(save_path));
        rv_qbt_categories_store(req, categories, reason, then, data, destroy);
}

/* createCategory (edit FALSE) and editCategory: 400 for a bad name, 409 for one that exists (create) or not (edit) */
static void
rv_qbt_category_write(RvHttpRequest *req, gboolean edit)
{
        const char *name = rv_qbt_require(req, "category");
        const char *save_path = rv_qbt_param(req, "savePath");
        g_autoptr(GError) error = NULL;
        gboolean exists;

        if (name == NULL)
                return;
        if (!rv_validate_category(name, "category", &error)) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "Invalid category name");
                return;
        }
        if (save_path != NULL && save_path[0] != '\0' &&
            (!rv_validate_save_path(save_path, "savePath", &error) ||
             !rv_manager_check_path_allowed(req->http->manager, save_path, "savePath", &error))) {
                rv_qbt_respond_error(req, error);
                return;
        }
        exists = rv_settings_get_category(rv_qbt_settings(req), name, NULL);
        if (exists != edit) {
                rv_qbt_respond_text(req, SOUP_STATUS_CONFLICT,
                                    edit ? "Category does not exist" : "Category already exists");
                return;
        }
        rv_qbt_set_category_entry(req, name, save_path, NULL, NULL, NULL);
}

void
rv_qbt_create_category(RvHttpRequest *req)
{
        rv_qbt_category_write(req, FALSE);
}

void
rv_qbt_edit_category(RvHttpRequest *req)
{
        rv_qbt_category_write(req, TRUE);
}

/* the labels names takes off every torrent that carries one of them, one set_labels command each */
static void
rv_qbt_labels_take_off(RvHttpRequest *req, const char *const *names)
{
        g_autoptr(GPtrArray) snapshot = g_ptr_array_copy(rv_manager_list(req->http->manager), NULL, NULL);

        for (guint i = 0; i < snapshot->len; i++) {
                RvTorrent *t = g_ptr_array_index(snapshot, i);
                g_autoptr(GStrvBuilder) keep = g_strv_builder_new();
                g_autoptr(RvCommand) command = NULL;
                g_autoptr(GError) error = NULL;
                gboolean changed = FALSE;
                for (guint j = 0; t->labels != NULL && t->labels[j] != NULL; j++) {
                        if (g_strv_contains(names, t->labels[j]))
                                changed = TRUE;
                        else
                                g_strv_builder_add(keep, t->labels[j]);
                }
                if (!changed || t->removing)
                        continue;
                command = rv_command_new(RV_OP_SET_LABELS, &t->hash);
                command->labels = g_strv_builder_end(keep);
                if (!rv_command_run(req->http->manager, command, &error))
                        g_debug("cannot take labels off %s: %s, ignoring", t->hash.hex, error->message);
        }
}

/* once the categories are gone: their labels go from the torrents too, as qBittorrent clears them */
static void
rv_qbt_categories_removed(RvHttpRequest *req, gpointer data)
{
        g_auto(GStrv) names = data;

        rv_qbt_labels_take_off(req, (const char *const *)names);
        rv_qbt_respond_ok(req);
}

void
rv_qbt_remove_categories(RvHttpRequest *req)
{
        const char *text = rv_qbt_require(req, "categories");
        g_auto(GStrv) names = NULL;
        JsonObject *categories;
        gboolean changed = FALSE;

        if (text == NULL)
                return;
        names = g_strsplit(text, "\n", 1024);
        categories = rv_qbt_categories_copy(req);
        for (guint i = 0; names[i] != NULL; i++) {
                if (json_object_has_member(categories, names[i])) {
                        json_object_remove_member(categories, names[i]);
                        changed = TRUE;
                }
        }
        if (!changed) {
                json_object_unref(categories);
                rv_qbt_respond_ok(req);
                return;
        }
        rv_qbt_categories_store(req, categories, "WebAPI removeCategories", rv_qbt_categories_removed,
                                g_steal_pointer(&names), (GDestroyNotify)g_strfreev);
}

void
rv_qbt_tags(RvHttpRequest *req)
{
        GString *out = g_string_new(NULL);

        rv_qbt_append_tags(out, req->http->manager, rv_qbt_categories_of(rv_qbt_settings(req)));
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

/* tags=a,b: each a valid label name; NULL after a 400 */
static GStrv
rv_qbt_tag_names(RvHttpRequest *req)
{
        const char *text = rv_qbt_require(req, "tags");
        g_auto(GStrv) parts = text != NULL ? g_strsplit(text, ",", RV_MANAGER_MAX_LABELS + 1) : NULL;
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        if (parts == NULL)
                return NULL;
        for (guint i = 0; parts[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                char *tag = g_strstrip(parts[i]);
                if (tag[0] == '\0')
                        continue;
                if (!rv_validate_category(tag, "tags", &error)) {
                        rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, error->message);
                        return NULL;
                }
                g_strv_builder_add(b, tag);
        }
        return g_strv_builder_end(b);
}

/* createTags: a tag is a label, and exists while a torrent carries it; the names are checked, nothing stored */
void
rv_qbt_create_tags(RvHttpRequest *req)
{
        g_auto(GStrv) names = rv_qbt_tag_names(req);

        if (names != NULL)
                rv_qbt_respond_ok(req);
}

/* deleteTags: the labels go from every torrent */
void
rv_qbt_delete_tags(RvHttpRequest *req)
{
        g_auto(GStrv) names = rv_qbt_tag_names(req);

        if (names == NULL)
                return;
        rv_qbt_labels_take_off(req, (const char *const *)names);
        rv_qbt_respond_ok(req);
}
