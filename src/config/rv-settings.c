/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-config"

#include "config.h"

#include <math.h>
#include <string.h>

#include "rv-json.h"
#include "rv-password.h"
#include "rv-path.h"
#include "rv-selection.h"
#include "rv-validate.h"
#include "rv-settings.h"

#define RV_GBPS5_BYTES ((gint64)625000000)
/* a global limit below this is "driven to zero": the swarm effectively stops */
#define RV_NEAR_ZERO_BPS 1024

static const char *const rv_modes[] = { "setup", "active", NULL };
static const char *const rv_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const rv_par2[] = { "off", "verify", "repair", NULL };
static const char *const rv_move_modes[] = { "copy", "move", "hardlink", "reflink", NULL };
static const char *const rv_webapi_versions[] = { "5.0.4", "4.6.7", NULL };
static const char *const rv_days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL };

#define F(sec, nm, prop, ty, def, mn, mx, ch, ro, rs, desc)                      \
        {                                                                        \
                sec, nm, "/" sec "/" nm, prop, ty, def, mn, mx, ch, ro, rs, desc \
        }

static const RvSettingDesc rv_settings_table[] = {
        F("app", "instance_name", "InstanceName", RV_SETTING_STRING, "\"revaer\"", 1, 64, NULL, FALSE, FALSE,
          "name of this Revaer instance"),
        F("app", "mode", "Mode", RV_SETTING_ENUM, "\"setup\"", 0, 0, rv_modes, TRUE, FALSE,
          "setup until the first API key exists, then active"),
        F("app", "http_bind", "HttpBind", RV_SETTING_STRING, "\"127.0.0.1\"", 1, 64, NULL, FALSE, TRUE,
          "address the HTTP API listens on when not socket-activated"),
        F("app", "http_port", "HttpPort", RV_SETTING_INT, "7070", 0, 65535, NULL, FALSE, TRUE, "port of the HTTP API"),
        F("app", "log_level", "LogLevel", RV_SETTING_ENUM, "\"info\"", 0, 0, rv_levels, FALSE, FALSE,
          "log level of the service"),
        F("app", "immutable_keys", "ImmutableKeys", RV_SETTING_STRINGS, "[]", 0, 64, NULL, FALSE, FALSE,
          "field pointers (\"/engine/listen_port\") or sections (\"/fs\") no write may change"),
        F("app", "categories", "Categories", RV_SETTING_CATEGORIES, "{}", 0, 1024, NULL, FALSE, FALSE,
          "labels that are qBittorrent categories, each with its save path ({\"tv\": {\"save_path\": \"/srv/tv\"}})"),
        F("app", "webapi_username", "WebapiUsername", RV_SETTING_STRING, "null", 1, 128, NULL, FALSE, FALSE,
          "user name of the qBittorrent WebAPI (/api/v2), null: API keys only"),
        F("app", "webapi_password", "WebapiPassword", RV_SETTING_PASSWORD_HASH, "null", 0, 0, NULL, FALSE, FALSE,
          "PBKDF2 hash of the WebAPI user's password (revaerctl config webapi-password sets it)"),
        F("app", "webapi_version", "WebapiVersion", RV_SETTING_ENUM, "\"5.0.4\"", 0, 0, rv_webapi_versions, FALSE,
          FALSE,
          "the qBittorrent version the WebAPI reports (4.6.7: WebAPI 2.9.3, paused* states; 5.0.4: 2.11.3, stopped*)"),
        F("app", "webapi_session_timeout", "WebapiSessionTimeout", RV_SETTING_INT, "3600", 1, 2592000, NULL, FALSE,
          FALSE, "seconds a WebAPI session lives without a request"),
        F("engine", "listen_interfaces", "ListenInterfaces", RV_SETTING_STRING, "\"0.0.0.0,[::]\"", 1, 1024, NULL,
          FALSE, FALSE, "addresses to accept peers on, comma-separated"),
        F("engine", "listen_port", "ListenPort", RV_SETTING_INT, G_STRINGIFY(RV_ENGINE_DEFAULT_LISTEN_PORT), 0, 65535,
          NULL, FALSE, FALSE, "port to accept peers on, 0 for any"),
        F("engine", "dht", "Dht", RV_SETTING_BOOL, "true", 0, 0, NULL, FALSE, FALSE, "use the DHT"),
        F("engine", "lsd", "Lsd", RV_SETTING_BOOL, "true", 0, 0, NULL, FALSE, FALSE, "local service discovery"),
        F("engine", "utp", "Utp", RV_SETTING_BOOL, "true", 0, 0, NULL, FALSE, FALSE, "uTP connections"),
        F("engine", "upnp", "Upnp", RV_SETTING_BOOL, "true", 0, 0, NULL, FALSE, FALSE, "UPnP port mapping"),
        F("engine", "natpmp", "Natpmp", RV_SETTING_BOOL, "true", 0, 0, NULL, FALSE, FALSE, "NAT-PMP port mapping"),
        F("engine", "encryption", "Encryption", RV_SETTING_ENUM, "\"prefer\"", 0, 0, rv_encryption_names, FALSE, FALSE,
          "peer connection encryption"),
        F("engine", "active_downloads", "ActiveDownloads", RV_SETTING_INT,
          G_STRINGIFY(RV_ENGINE_DEFAULT_ACTIVE_DOWNLOADS), -1, 100000, NULL, FALSE, FALSE,
          "downloads running at once, -1 for no limit"),
        F("engine", "active_seeds", "ActiveSeeds", RV_SETTING_INT, G_STRINGIFY(RV_ENGINE_DEFAULT_ACTIVE_SEEDS), -1,
          100000, NULL, FALSE, FALSE, "seeds running at once, -1 for no limit"),
        F("engine", "active_limit", "ActiveLimit", RV_SETTING_INT, G_STRINGIFY(RV_ENGINE_DEFAULT_ACTIVE_LIMIT), -1,
          100000, NULL, FALSE, FALSE, "torrents running at once, -1 for no limit"),
        F("engine", "connections_limit", "ConnectionsLimit", RV_SETTING_INT,
          G_STRINGIFY(RV_ENGINE_DEFAULT_CONNECTIONS_LIMIT), 2, 65535, NULL, FALSE, FALSE, "peer connections in all"),
        F("engine", "download_limit", "DownloadLimit", RV_SETTING_INT, "0", 0, G_MAXINT32, NULL, FALSE, FALSE,
          "global download limit in bytes/s, 0 for none"),
        F("engine", "upload_limit", "UploadLimit", RV_SETTING_INT, "0", 0, G_MAXINT32, NULL, FALSE, FALSE,
          "global upload limit in bytes/s, 0 for none"),
        F("engine", "alt_download_limit", "AltDownloadLimit", RV_SETTING_INT, "0", 0, G_MAXINT32, NULL, FALSE, FALSE,
          "download limit while the alternative schedule is on"),
        F("engine", "alt_upload_limit", "AltUploadLimit", RV_SETTING_INT, "0", 0, G_MAXINT32, NULL, FALSE, FALSE,
          "upload limit while the alternative schedule is on"),
        F("engine", "alt_schedule_enabled", "AltScheduleEnabled", RV_SETTING_BOOL, "false", 0, 0, NULL, FALSE, FALSE,
          "switch to the alternative limits on a schedule"),
        F("engine", "alt_schedule_from", "AltScheduleFrom", RV_SETTING_TIME, "\"01:00\"", 0, 0, NULL, FALSE, FALSE,
          "start of the alternative limits, local time"),
        F("engine", "alt_schedule_to", "AltScheduleTo", RV_SETTING_TIME, "\"07:00\"", 0, 0, NULL, FALSE, FALSE,
          "end of the alternative limits, local time"),
        F("engine", "alt_schedule_days", "AltScheduleDays", RV_SETTING_STRINGS,
          "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]", 0, 7, rv_days, FALSE, FALSE,
          "days the schedule applies on"),
        F("engine", "sequential_default", "SequentialDefault", RV_SETTING_BOOL, "false", 0, 0, NULL, FALSE, FALSE,
          "download new torrents in order"),
        F("engine", "download_root", "DownloadRoot", RV_SETTING_PATH, "null", 0, 0, NULL, FALSE, FALSE,
          "default save path of new torrents (null: the daemon's download directory)"),
        F("engine", "seed_ratio", "SeedRatio", RV_SETTING_DOUBLE, "0", 0, 10000, NULL, FALSE, FALSE,
          "upload/download ratio after which seeding stops, 0 for none"),
        F("engine", "seed_time", "SeedTime", RV_SETTING_INT, "0", 0, 52560000, NULL, FALSE, FALSE,
          "minutes of seeding after which seeding stops, 0 for none"),
        F("engine", "seed_inactive_time", "SeedInactiveTime", RV_SETTING_INT, "0", 0, 52560000, NULL, FALSE, FALSE,
          "minutes without an upload after which seeding stops, 0 for none"),
        F("engine", "seed_action", "SeedAction", RV_SETTING_ENUM, "\"pause\"", 0, 0, rv_seed_action_names, FALSE, FALSE,
          "what happens at a seeding goal"),
        F("engine", "max_metadata_size", "MaxMetadataSize", RV_SETTING_INT,
          G_STRINGIFY(RV_ENGINE_DEFAULT_MAX_METADATA_SIZE), 16384, 268435456, NULL, FALSE, FALSE,
          "largest info dict accepted, in bytes"),
        F("engine", "allow_multiple_connections_per_ip", "AllowMultipleConnectionsPerIp", RV_SETTING_BOOL, "false", 0,
          0, NULL, FALSE, FALSE, "several peers on one address"),
        F("fs", "library_root", "LibraryRoot", RV_SETTING_PATH, "null", 0, 0, NULL, FALSE, FALSE,
          "where finished data is placed"),
        F("fs", "extract", "Extract", RV_SETTING_BOOL, "false", 0, 0, NULL, FALSE, FALSE, "extract archives"),
        F("fs", "par2", "Par2", RV_SETTING_ENUM, "\"off\"", 0, 0, rv_par2, FALSE, FALSE, "PAR2 verification"),
        F("fs", "flatten", "Flatten", RV_SETTING_BOOL, "false", 0, 0, NULL, FALSE, FALSE,
          "lift the content of a single top folder"),
        F("fs", "move_mode", "MoveMode", RV_SETTING_ENUM, "\"hardlink\"", 0, 0, rv_move_modes, FALSE, FALSE,
          "how finished data reaches the library"),
        F("fs", "chmod_file", "ChmodFile", RV_SETTING_MODE, "null", 0, 0, NULL, FALSE, FALSE, "mode of files"),
        F("fs", "chmod_dir", "ChmodDir", RV_SETTING_MODE, "null", 0, 0, NULL, FALSE, FALSE, "mode of directories"),
        F("fs", "chown_user", "ChownUser", RV_SETTING_STRING, "null", 1, 64, NULL, FALSE, FALSE, "owner"),
        F("fs", "chown_group", "ChownGroup", RV_SETTING_STRING, "null", 1, 64, NULL, FALSE, FALSE, "group"),
        F("fs", "umask", "Umask", RV_SETTING_MODE, "null", 0, 0, NULL, FALSE, FALSE, "umask of the pipeline"),
        F("fs", "cleanup_keep", "CleanupKeep", RV_SETTING_GLOBS, "[]", 0, RV_SELECTION_MAX_GLOBS, NULL, FALSE, FALSE,
          "globs of files kept after the transfer"),
        F("fs", "cleanup_drop", "CleanupDrop", RV_SETTING_GLOBS, "[]", 0, RV_SELECTION_MAX_GLOBS, NULL, FALSE, FALSE,
          "globs of files dropped after the transfer (@skip_fluff allowed)"),
        F("fs", "allowed_paths", "AllowedPaths", RV_SETTING_PATHS, "[]", 0, 64, NULL, FALSE, FALSE,
          "roots the download and library paths must lie in (empty: anywhere)"),
        F("fs", "label_policies", "LabelPolicies", RV_SETTING_FS_LABELS, "{}", 0, 64, NULL, FALSE, FALSE,
          "per label, fs fields that replace the ones above for torrents with that label"),
        F("fs", "extract_max_ratio", "ExtractMaxRatio", RV_SETTING_INT, "100", 1, 1000000, NULL, FALSE, FALSE,
          "an archive may extract to at most this many times its size (at least 16 MiB)"),
        F("fs", "extract_max_entries", "ExtractMaxEntries", RV_SETTING_INT, "100000", 1, 10000000, NULL, FALSE, FALSE,
          "an archive may hold at most this many entries"),
        F("fs", "retry_attempts", "RetryAttempts", RV_SETTING_INT, "5", 0, 20, NULL, FALSE, FALSE,
          "retries of a pipeline that failed for a passing reason (a full disk, a busy file)"),
        { NULL },
};

#undef F

const RvSettingDesc *
rv_settings_fields(void)
{
        return rv_settings_table;
}

const RvSettingDesc *
rv_settings_find(const char *section, const char *name)
{
        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                if (g_strcmp0(d->section, section) == 0 && g_strcmp0(d->name, name) == 0)
                        return d;
        }
        return NULL;
}

const RvSettingDesc *
rv_settings_find_pointer(const char *pointer)
{
        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                if (g_strcmp0(d->pointer, pointer) == 0)
                        return d;
        }
        return NULL;
}

const RvSettingDesc *
rv_settings_find_property(const char *section, const char *property)
{
        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                if (g_strcmp0(d->section, section) == 0 && g_strcmp0(d->property, property) == 0)
                        return d;
        }
        return NULL;
}

static gboolean
rv_settings_nullable(const RvSettingDesc *desc)
{
        return desc->type == RV_SETTING_INT_OR_NULL || g_str_equal(desc->default_json, "null");
}

JsonNode *
rv_settings_defaults(void)
{
        JsonObject *root = json_object_new();

        for (guint s = 0; RV_SETTINGS_SECTIONS[s] != NULL; s++)
                json_object_set_object_member(root, RV_SETTINGS_SECTIONS[s], json_object_new());
        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                JsonObject *section = rv_json_object_get_object(root, d->section);
                json_object_set_member(section, d->name, json_from_string(d->default_json, NULL));
        }
        return rv_json_node_take_object(root);
}

JsonNode *
rv_settings_get(JsonNode *document, const RvSettingDesc *desc)
{
        JsonObject *section;

        if (document == NULL || !JSON_NODE_HOLDS_OBJECT(document))
                return NULL;
        section = rv_json_object_get_object(json_node_get_object(document), desc->section);
        return section != NULL ? json_object_get_member(section, desc->name) : NULL;
}

static gboolean rv_settings_fail(GError **error, const RvSettingDesc *desc, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
rv_settings_fail(GError **error, const RvSettingDesc *desc, const char *fmt, ...)
{
        g_autofree char *msg = NULL;
        va_list args;

        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: %s", desc->pointer, msg);
        return FALSE;
}

static gboolean
rv_settings_is_int(JsonNode *v)
{
        return v != NULL && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64;
}

static gboolean
rv_settings_is_string(JsonNode *v)
{
        return v != NULL && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING;
}

static gboolean
rv_settings_check_path(const RvSettingDesc *desc, const char *path, GError **error)
{
        if (!g_path_is_absolute(path))
                return rv_settings_fail(error, desc, "'%s' is not an absolute path", path);
        if (strstr(path, "/../") != NULL || g_str_has_suffix(path, "/..") || strlen(path) > 4096)
                return rv_settings_fail(error, desc, "'%s' contains '..'", path);
        return TRUE;
}

static gboolean
rv_settings_check_list(const RvSettingDesc *desc, JsonNode *v, GError **error)
{
        JsonArray *array;
        guint n;

        if (!JSON_NODE_HOLDS_ARRAY(v))
                return rv_settings_fail(error, desc, "expected a list of strings");
        array = json_node_get_array(v);
        n = json_array_get_length(array);
        if ((gint64)n > desc->max)
                return rv_settings_fail(error, desc, "%u entries, at most %" G_GINT64_FORMAT " allowed", n, desc->max);
        for (guint i = 0; i < n; i++) {
                JsonNode *e = json_array_get_element(array, i);
                const char *text;
                if (!rv_settings_is_string(e))
                        return rv_settings_fail(error, desc, "entry %u is not a string", i);
                text = json_node_get_string(e);
                if (desc->type == RV_SETTING_GLOBS && g_strcmp0(text, RV_SELECTION_SKIP_FLUFF_TOKEN) != 0) {
                        g_autoptr(GError) error_local = NULL;
                        if (!rv_glob_validate(text, &error_local))
                                return rv_settings_fail(error, desc, "entry %u: %s", i, error_local->message);
                }
                if (desc->type == RV_SETTING_PATHS && !rv_settings_check_path(desc, text, error))
                        return FALSE;
                if (desc->choices != NULL && !g_strv_contains(desc->choices, text)) {
                        g_autofree char *all = g_strjoinv(", ", (GStrv)desc->choices);
                        return rv_settings_fail(error, desc, "'%s' is not one of %s", text, all);
                }
                /* a pointer ("/engine/download_limit") or a section ("/engine"); "" has no section after its '/' */
                if (desc->type == RV_SETTING_STRINGS && g_str_equal(desc->name, "immutable_keys") &&
                    (text[0] != '/' ||
                     (rv_settings_find_pointer(text) == NULL && !g_strv_contains(RV_SETTINGS_SECTIONS, text + 1)))) {
                        return rv_settings_fail(error, desc, "'%s' names no setting", text);
                }
        }
        return TRUE;
}

static gboolean rv_settings_check(const RvSettingDesc *desc, JsonNode *v, GError **error);

gboolean
rv_settings_check_fs_overrides(JsonNode *overrides, const char *prefix, GError **error)
{
        g_autoptr(GList) members = NULL;

        if (overrides == NULL || !JSON_NODE_HOLDS_OBJECT(overrides)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an object of fs fields", prefix);
                return FALSE;
        }
        members = json_object_get_members(json_node_get_object(overrides));
        for (GList *l = members; l != NULL; l = l->next) {
                const char *name = l->data;
                const RvSettingDesc *desc = rv_settings_find("fs", name);
                g_autoptr(GError) error_local = NULL;
                if (desc == NULL || !g_strv_contains(RV_SETTINGS_FS_OVERRIDABLE, name)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s/%s: not a field a policy may set",
                                    prefix, name);
                        return FALSE;
                }
                if (!rv_settings_check(desc, json_object_get_member(json_node_get_object(overrides), name),
                                       &error_local)) {
                        /* the field's own message starts with its pointer: name the place instead */
                        const char *msg = error_local->message + strlen(desc->pointer);
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s/%s%s", prefix, name, msg);
                        return FALSE;
                }
        }
        return TRUE;
}

/* label -> fs fields; labels follow the rules of torrent labels (RV_MANAGER_MAX_LABEL_LEN) */
static gboolean
rv_settings_check_labels(const RvSettingDesc *desc, JsonNode *v, GError **error)
{
        g_autoptr(GList) members = NULL;

        if (!JSON_NODE_HOLDS_OBJECT(v))
                return rv_settings_fail(error, desc, "expected an object of label: {fs fields}");
        members = json_object_get_members(json_node_get_object(v));
        if ((gint64)g_list_length(members) > desc->max)
                return rv_settings_fail(error, desc, "%u labels, at most %" G_GINT64_FORMAT " allowed",
                                        g_list_length(members), desc->max);
        for (GList *l = members; l != NULL; l = l->next) {
                const char *label = l->data;
                g_autofree char *prefix = NULL;
                if (label[0] == '\0' || strlen(label) > 128 || !g_utf8_validate(label, -1, NULL) ||
                    strchr(label, '/') != NULL)
                        return rv_settings_fail(error, desc, "'%s' is not a label (1 to 128 bytes of UTF-8, no '/')",
                                                label);
                prefix = g_strdup_printf("%s/%s", desc->pointer, label);
                if (!rv_settings_check_fs_overrides(json_object_get_member(json_node_get_object(v), label), prefix,
                                                    error))
                        return FALSE;
        }
        return TRUE;
}

/* category -> {"save_path": path or null}; names follow rv_validate_category(), paths are absolute */
static gboolean
rv_settings_check_categories(const RvSettingDesc *desc, JsonNode *v, GError **error)
{
        g_autoptr(GList) members = NULL;

        if (!JSON_NODE_HOLDS_OBJECT(v))
                return rv_settings_fail(error, desc, "expected an object of category: {\"save_path\": path}");
        members = json_object_get_members(json_node_get_object(v));
        if ((gint64)g_list_length(members) > desc->max)
                return rv_settings_fail(error, desc, "%u categories, at most %" G_GINT64_FORMAT " allowed",
                                        g_list_length(members), desc->max);
        for (GList *l = members; l != NULL; l = l->next) {
                const char *name = l->data;
                JsonNode *entry = json_object_get_member(json_node_get_object(v), name);
                JsonObject *obj = JSON_NODE_HOLDS_OBJECT(entry) ? json_node_get_object(entry) : NULL;
                JsonNode *path = obj != NULL ? json_object_get_member(obj, "save_path") : NULL;
                g_autoptr(GError) local = NULL;
                if (!rv_validate_category(name, "name", &local))
                        return rv_settings_fail(error, desc, "%s", local->message);
                if (obj == NULL || json_object_get_size(obj) != (path != NULL ? 1u : 0u))
                        return rv_settings_fail(error, desc, "%s: expected {\"save_path\": path or null}", name);
                if (path == NULL || JSON_NODE_HOLDS_NULL(path))
                        continue;
                if (!rv_settings_is_string(path) ||
                    !rv_validate_save_path(json_node_get_string(path), "save_path", &local))
                        return rv_settings_fail(error, desc, "%s/%s", name,
                                                local != NULL ? local->message : "save_path: expected a path");
        }
        return TRUE;
}

gboolean
rv_settings_get_category(JsonNode *document, const char *name, const char **ret_save_path)
{
        JsonNode *v = rv_settings_get(document, rv_settings_find("app", "categories"));
        JsonObject *entry;
        JsonNode *path;

        if (name == NULL || v == NULL || !JSON_NODE_HOLDS_OBJECT(v))
                return FALSE;
        entry = rv_json_object_get_object(json_node_get_object(v), name);
        if (entry == NULL)
                return FALSE;
        path = json_object_get_member(entry, "save_path");
        if (ret_save_path != NULL)
                *ret_save_path = path != NULL && rv_settings_is_string(path) ? json_node_get_string(path) : NULL;
        return TRUE;
}

/* one field's value against its description */
static gboolean
rv_settings_check(const RvSettingDesc *desc, JsonNode *v, GError **error)
{
        if (v == NULL)
                return rv_settings_fail(error, desc, "missing");
        if (JSON_NODE_HOLDS_NULL(v)) {
                if (rv_settings_nullable(desc))
                        return TRUE;
                return rv_settings_fail(error, desc, "may not be null");
        }
        switch (desc->type) {
        case RV_SETTING_BOOL:
                if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_BOOLEAN)
                        return rv_settings_fail(error, desc, "expected true or false");
                return TRUE;
        case RV_SETTING_INT:
        case RV_SETTING_INT_OR_NULL:
                if (!rv_settings_is_int(v))
                        return rv_settings_fail(error, desc, "expected an integer");
                if (json_node_get_int(v) < desc->min || json_node_get_int(v) > desc->max)
                        return rv_settings_fail(error, desc,
                                                "%" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT
                                                " to %" G_GINT64_FORMAT ")",
                                                json_node_get_int(v), desc->min, desc->max);
                return TRUE;
        case RV_SETTING_DOUBLE: {
                double d;
                if (!JSON_NODE_HOLDS_VALUE(v) ||
                    (json_node_get_value_type(v) != G_TYPE_DOUBLE && json_node_get_value_type(v) != G_TYPE_INT64))
                        return rv_settings_fail(error, desc, "expected a number");
                d = json_node_get_double(v);
                if (!isfinite(d) || d < (double)desc->min || d > (double)desc->max)
                        return rv_settings_fail(error, desc,
                                                "%g is out of range (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")", d,
                                                desc->min, desc->max);
                return TRUE;
        }
        case RV_SETTING_STRING: {
                const char *s;
                if (!rv_settings_is_string(v))
                        return rv_settings_fail(error, desc, "expected a string");
                s = json_node_get_string(v);
                if ((gint64)strlen(s) < desc->min || (gint64)strlen(s) > desc->max || !g_utf8_validate(s, -1, NULL))
                        return rv_settings_fail(error, desc,
                                                "must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " bytes of UTF-8",
                                                desc->min, desc->max);
                if (g_str_equal(desc->name, "http_bind") && !g_hostname_is_ip_address(s))
                        return rv_settings_fail(error, desc, "'%s' is not an IP address", s);
                return TRUE;
        }
        case RV_SETTING_ENUM:
                if (!rv_settings_is_string(v) || !g_strv_contains(desc->choices, json_node_get_string(v))) {
                        g_autofree char *all = g_strjoinv(", ", (GStrv)desc->choices);
                        return rv_settings_fail(error, desc, "expected one of %s", all);
                }
                return TRUE;
        case RV_SETTING_PATH:
                if (!rv_settings_is_string(v))
                        return rv_settings_fail(error, desc, "expected an absolute path or null");
                return rv_settings_check_path(desc, json_node_get_string(v), error);
        case RV_SETTING_MODE: {
                guint64 mode = 0;
                const char *s = rv_settings_is_string(v) ? json_node_get_string(v) : NULL;
                if (s == NULL || strlen(s) < 3 || strlen(s) > 4 ||
                    !g_ascii_string_to_unsigned(s, 8, 0, 07777, &mode, NULL))
                        return rv_settings_fail(error, desc, "expected an octal mode like \"0644\"");
                return TRUE;
        }
        case RV_SETTING_TIME: {
                const char *s = rv_settings_is_string(v) ? json_node_get_string(v) : NULL;
                guint64 h = 0;
                guint64 m = 0;
                g_auto(GStrv) parts = s != NULL ? g_strsplit(s, ":", 3) : NULL;
                if (parts == NULL || g_strv_length(parts) != 2 || strlen(parts[1]) != 2 ||
                    !g_ascii_string_to_unsigned(parts[0], 10, 0, 23, &h, NULL) ||
                    !g_ascii_string_to_unsigned(parts[1], 10, 0, 59, &m, NULL))
                        return rv_settings_fail(error, desc, "expected a time of day \"HH:MM\"");
                return TRUE;
        }
        case RV_SETTING_FS_LABELS:
                return rv_settings_check_labels(desc, v, error);
        case RV_SETTING_CATEGORIES:
                return rv_settings_check_categories(desc, v, error);
        case RV_SETTING_PASSWORD_HASH:
                if (!rv_settings_is_string(v) || !rv_password_hash_valid(json_node_get_string(v)))
                        return rv_settings_fail(error, desc,
                                                "expected a hash \"pbkdf2-sha256$ITERATIONS$SALT$KEY\" "
                                                "(revaerctl config webapi-password makes one)");
                return TRUE;
        case RV_SETTING_GLOBS:
        case RV_SETTING_PATHS:
        case RV_SETTING_STRINGS:
        default:
                return rv_settings_check_list(desc, v, error);
        }
}

/* roots from /fs/allowed_paths: the one rule of rv_path_under_roots() */
static gboolean
rv_settings_under(const char *path, JsonArray *roots)
{
        g_autoptr(GPtrArray) strv = g_ptr_array_new();

        for (guint i = 0; i < json_array_get_length(roots); i++)
                g_ptr_array_add(strv, (gpointer)json_array_get_string_element(roots, i));
        g_ptr_array_add(strv, NULL);
        return rv_path_under_roots(path, (const char *const *)strv->pdata);
}

/* a label's library root is confined like the global one */
static gboolean
rv_settings_check_label_roots(JsonNode *document, JsonArray *roots, GError **error)
{
        const RvSettingDesc *desc = rv_settings_find("fs", "label_policies");
        JsonNode *labels = rv_settings_get(document, desc);
        g_autoptr(GList) members = NULL;

        if (labels == NULL || !JSON_NODE_HOLDS_OBJECT(labels))
                return TRUE;
        members = json_object_get_members(json_node_get_object(labels));
        for (GList *l = members; l != NULL; l = l->next) {
                JsonObject *policy = rv_json_object_get_object(json_node_get_object(labels), l->data);
                JsonNode *root = policy != NULL ? json_object_get_member(policy, "library_root") : NULL;
                if (root == NULL || !JSON_NODE_HOLDS_VALUE(root))
                        continue;
                if (!rv_settings_under(json_node_get_string(root), roots))
                        return rv_settings_fail(error, desc,
                                                "%s: '%s' is outside the allowed paths (/fs/allowed_paths)",
                                                (const char *)l->data, json_node_get_string(root));
        }
        return TRUE;
}

/* a category's save path is confined like the download root */
static gboolean
rv_settings_check_category_roots(JsonNode *document, JsonArray *roots, GError **error)
{
        const RvSettingDesc *desc = rv_settings_find("app", "categories");
        JsonNode *categories = rv_settings_get(document, desc);
        g_autoptr(GList) members = NULL;

        if (categories == NULL || !JSON_NODE_HOLDS_OBJECT(categories))
                return TRUE;
        members = json_object_get_members(json_node_get_object(categories));
        for (GList *l = members; l != NULL; l = l->next) {
                const char *path = NULL;
                if (!rv_settings_get_category(document, l->data, &path) || path == NULL)
                        continue;
                if (!rv_settings_under(path, roots))
                        return rv_settings_fail(error, desc,
                                                "%s: '%s' is outside the allowed paths (/fs/allowed_paths)",
                                                (const char *)l->data, path);
        }
        return TRUE;
}

/* rules across fields */
static gboolean
rv_settings_check_document(JsonNode *document, GError **error)
{
        JsonArray *roots = json_node_get_array(rv_settings_get(document, rv_settings_find("fs", "allowed_paths")));
        const char *const confined[] = { "/engine/download_root", "/fs/library_root", NULL };

        if (json_array_get_length(roots) == 0)
                return TRUE;
        for (guint i = 0; confined[i] != NULL; i++) {
                const RvSettingDesc *desc = rv_settings_find_pointer(confined[i]);
                JsonNode *v = rv_settings_get(document, desc);
                if (v == NULL || JSON_NODE_HOLDS_NULL(v))
                        continue;
                if (!rv_settings_under(json_node_get_string(v), roots))
                        return rv_settings_fail(error, desc, "'%s' is outside the allowed paths (/fs/allowed_paths)",
                                                json_node_get_string(v));
        }
        return rv_settings_check_label_roots(document, roots, error) &&
               rv_settings_check_category_roots(document, roots, error);
}

JsonNode *
rv_settings_normalize(JsonNode *document, GError **error)
{
        g_autoptr(JsonNode) out = rv_settings_defaults();
        JsonObject *in = document != NULL && JSON_NODE_HOLDS_OBJECT(document) ? json_node_get_object(document) : NULL;

        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                JsonObject *section = in != NULL ? rv_json_object_get_object(in, d->section) : NULL;
                JsonNode *v = section != NULL ? json_object_get_member(section, d->name) : NULL;
                if (v == NULL)
                        continue;
                if (!rv_settings_check(d, v, error))
                        return NULL;
                json_object_set_member(rv_json_object_get_object(json_node_get_object(out), d->section), d->name,
                                       json_node_copy(v));
        }
        if (!rv_settings_check_document(out, error))
                return NULL;
        return g_steal_pointer(&out);
}

static gboolean
rv_settings_immutable(JsonNode *document, const RvSettingDesc *desc)
{
        JsonArray *keys = json_node_get_array(rv_settings_get(document, rv_settings_find("app", "immutable_keys")));
        g_autofree char *section = g_strconcat("/", desc->section, NULL);

        /* the list itself stays changeable, or nothing could ever be unlocked */
        if (g_str_equal(desc->name, "immutable_keys"))
                return FALSE;
        for (guint i = 0; keys != NULL && i < json_array_get_length(keys); i++) {
                const char *k = json_array_get_string_element(keys, i);
                if (g_strcmp0(k, desc->pointer) == 0 || g_strcmp0(k, section) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* one patch entry into the working copy */
static gboolean
rv_settings_patch_one(JsonNode *work, JsonNode *current, const char *pointer, JsonNode *value, gboolean allow_read_only,
                      GError **error)
{
        const RvSettingDesc *desc = rv_settings_find_pointer(pointer);

        if (desc == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: unknown setting", pointer);
                return FALSE;
        }
        if (desc->read_only && !allow_read_only)
                return rv_settings_fail(error, desc, "cannot be changed by a settings write");
        if (rv_settings_immutable(current, desc))
                return rv_settings_fail(error, desc, "is immutable (listed in /app/immutable_keys)");
        if (!rv_settings_check(desc, value, error))
                return FALSE;
        json_object_set_member(rv_json_object_get_object(json_node_get_object(work), desc->section), desc->name,
                               json_node_copy(value));
        return TRUE;
}

JsonNode *
rv_settings_apply_patch(JsonNode *current, JsonNode *patch, JsonNode **ret_changes, GError **error)
{
        return rv_settings_apply_patch_full(current, patch, FALSE, ret_changes, error);
}

JsonNode *
rv_settings_apply_patch_full(JsonNode *current, JsonNode *patch, gboolean allow_read_only, JsonNode **ret_changes,
                             GError **error)
{
        g_autoptr(JsonNode) base = rv_settings_normalize(current, error);
        g_autoptr(JsonNode) work = NULL;
        g_autoptr(GList) members = NULL;
        JsonObject *changes;

        if (base == NULL)
                return NULL;
        if (patch == NULL || !JSON_NODE_HOLDS_OBJECT(patch)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "/: expected an object");
                return NULL;
        }
        work = rv_json_deep_copy(base);
        members = json_object_get_members(json_node_get_object(patch));
        for (GList *l = members; l != NULL; l = l->next) {
                const char *key = l->data;
                JsonNode *value = json_object_get_member(json_node_get_object(patch), key);
                if (key[0] == '/') {
                        if (!rv_settings_patch_one(work, base, key, value, allow_read_only, error))
                                return NULL;
                        continue;
                }
                if (!g_strv_contains(RV_SETTINGS_SECTIONS, key)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "/%s: unknown section", key);
                        return NULL;
                }
                if (!JSON_NODE_HOLDS_OBJECT(value)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "/%s: expected an object", key);
                        return NULL;
                }
                {
                        g_autoptr(GList) fields = json_object_get_members(json_node_get_object(value));
                        for (GList *f = fields; f != NULL; f = f->next) {
                                g_autofree char *pointer = g_strdup_printf("/%s/%s", key, (const char *)f->data);
                                if (!rv_settings_patch_one(work, base, pointer,
                                                           json_object_get_member(json_node_get_object(value), f->data),
                                                           allow_read_only, error))
                                        return NULL;
                        }
                }
        }
        if (!rv_settings_check_document(work, error))
                return NULL;

        changes = json_object_new();
        for (const RvSettingDesc *d = rv_settings_table; d->name != NULL; d++) {
                JsonNode *old = rv_settings_get(base, d);
                JsonNode *new = rv_settings_get(work, d);
                JsonObject *change;
                if (json_node_equal(old, new))
                        continue;
                change = json_object_new();
                json_object_set_member(change, "old", json_node_copy(old));
                json_object_set_member(change, "new", json_node_copy(new));
                json_object_set_object_member(changes, d->pointer, change);
        }
        if (ret_changes != NULL)
                *ret_changes = rv_json_node_take_object(changes);
        else
                json_object_unref(changes);
        return g_steal_pointer(&work);
}

gboolean
rv_settings_get_bool(JsonNode *document, const char *section, const char *name)
{
        JsonNode *v = rv_settings_get(document, rv_settings_find(section, name));

        return v != NULL && JSON_NODE_HOLDS_VALUE(v) && json_node_get_boolean(v);
}

gint64
rv_settings_get_int(JsonNode *document, const char *section, const char *name, gint64 if_null)
{
        JsonNode *v = rv_settings_get(document, rv_settings_find(section, name));

        if (v == NULL || !JSON_NODE_HOLDS_VALUE(v))
                return if_null;
        if (json_node_get_value_type(v) == G_TYPE_DOUBLE)
                return (gint64)json_node_get_double(v);
        return json_node_get_int(v);
}

const char *
rv_settings_get_string(JsonNode *document, const char *section, const char *name)
{
        JsonNode *v = rv_settings_get(document, rv_settings_find(section, name));

        return v != NULL && rv_settings_is_string(v) ? json_node_get_string(v) : NULL;
}

void
rv_settings_to_engine(JsonNode *document, RvEngineSettings *ret)
{
        const char *ifaces = rv_settings_get_string(document, "engine", "listen_interfaces");
        gint64 port = rv_settings_get_int(document, "engine", "listen_port", RV_ENGINE_DEFAULT_LISTEN_PORT);
        g_auto(GStrv) addrs = g_strsplit(ifaces != NULL ? ifaces : "0.0.0.0", ",", -1);
        g_autoptr(GString) listen = g_string_new(NULL);
        RvEncryption enc = RV_ENCRYPTION_PREFER;

        for (guint i = 0; addrs[i] != NULL; i++) {
                g_strstrip(addrs[i]);
                if (addrs[i][0] == '\0')
                        continue;
                g_string_append_printf(listen, "%s%s:%" G_GINT64_FORMAT, listen->len > 0 ? "," : "", addrs[i], port);
        }
        g_free(ret->listen_interfaces);
        ret->listen_interfaces = g_string_free(g_steal_pointer(&listen), FALSE);
        ret->enable_dht = rv_settings_get_bool(document, "engine", "dht");
        ret->enable_lsd = rv_settings_get_bool(document, "engine", "lsd");
        ret->enable_utp = rv_settings_get_bool(document, "engine", "utp");
        ret->enable_upnp = rv_settings_get_bool(document, "engine", "upnp");
        ret->enable_natpmp = rv_settings_get_bool(document, "engine", "natpmp");
        (void)rv_encryption_from_string(rv_settings_get_string(document, "engine", "encryption"), &enc);
        ret->encryption = enc;
        /* a value the document lacks keeps what ret holds: the engine's defaults or revaerd.conf's */
        ret->download_rate_limit = rv_settings_get_int(document, "engine", "download_limit", ret->download_rate_limit);
        ret->upload_rate_limit = rv_settings_get_int(document, "engine", "upload_limit", ret->upload_rate_limit);
        ret->active_downloads =
                (gint)rv_settings_get_int(document, "engine", "active_downloads", ret->active_downloads);
        ret->active_seeds = (gint)rv_settings_get_int(document, "engine", "active_seeds", ret->active_seeds);
        ret->active_limit = (gint)rv_settings_get_int(document, "engine", "active_limit", ret->active_limit);
        ret->connections_limit =
                (gint)rv_settings_get_int(document, "engine", "connections_limit", ret->connections_limit);
        ret->max_metadata_size = rv_settings_get_int(document, "engine", "max_metadata_size", ret->max_metadata_size);
        ret->allow_multiple_connections_per_ip =
                rv_settings_get_bool(document, "engine", "allow_multiple_connections_per_ip");
}

char *
rv_settings_value_to_string(JsonNode *value)
{
        if (value == NULL || JSON_NODE_HOLDS_NULL(value))
                return g_strdup("null");
        if (JSON_NODE_HOLDS_VALUE(value) && json_node_get_value_type(value) == G_TYPE_STRING)
                return g_strdup(json_node_get_string(value));
        return json_to_string(value, FALSE);
}

JsonNode *
rv_settings_value_from_string(const RvSettingDesc *desc, const char *text, GError **error)
{
        JsonNode *node = NULL;

        if (g_strcmp0(text, "null") == 0 && rv_settings_nullable(desc))
                return json_node_new(JSON_NODE_NULL);
        switch (desc->type) {
        case RV_SETTING_BOOL:
        case RV_SETTING_INT:
        case RV_SETTING_INT_OR_NULL:
        case RV_SETTING_DOUBLE:
                node = rv_json_parse(text, -1, FALSE, NULL);
                break;
        case RV_SETTING_FS_LABELS:
        case RV_SETTING_CATEGORIES:
                node = rv_json_parse(text, -1, FALSE, NULL);
                break;
        case RV_SETTING_GLOBS:
        case RV_SETTING_PATHS:
        case RV_SETTING_STRINGS:
                if (text[0] == '[') {
                        node = rv_json_parse(text, -1, FALSE, NULL);
                } else {
                        /* a,b,c on a command line */
                        g_auto(GStrv) parts = g_strsplit(text, ",", -1);
                        JsonArray *array = json_array_new();
                        for (guint i = 0; parts[i] != NULL; i++) {
                                if (parts[i][0] != '\0')
                                        json_array_add_string_element(array, g_strstrip(parts[i]));
                        }
                        node = json_node_new(JSON_NODE_ARRAY);
                        json_node_take_array(node, array);
                }
                break;
        default:
                node = json_node_new(JSON_NODE_VALUE);
                json_node_set_string(node, text);
                break;
        }
        if (node == NULL) {
                rv_settings_fail(error, desc, "'%s' is not a valid value", text);
                return NULL;
        }
        if (!rv_settings_check(desc, node, error)) {
                json_node_unref(node);
                return NULL;
        }
        return node;
}

char *
rv_settings_guard_rails(JsonNode *document)
{
        const char *const limits[] = { "download_limit", "upload_limit", NULL };
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; limits[i] != NULL; i++) {
                gint64 v = rv_settings_get_int(document, "engine", limits[i], 0);
                if (v > 0 && v < RV_NEAR_ZERO_BPS)
                        g_string_append_printf(out, "%s/engine/%s is %" G_GINT64_FORMAT " bytes/s (almost zero)",
                                               out->len > 0 ? "; " : "", limits[i], v);
                else if (v > RV_GBPS5_BYTES)
                        g_string_append_printf(out, "%s/engine/%s is %" G_GINT64_FORMAT " bytes/s (above 5 Gbps)",
                                               out->len > 0 ? "; " : "", limits[i], v);
        }
        return out->len > 0 ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

const char *
rv_settings_limit_disabled(JsonNode *changes)
{
        const char *const limits[] = { "/engine/download_limit", "/engine/upload_limit", NULL };

        for (guint i = 0; changes != NULL && limits[i] != NULL; i++) {
                JsonObject *c = rv_json_object_get_object(json_node_get_object(changes), limits[i]);
                if (c == NULL)
                        continue;
                if (json_object_get_int_member_with_default(c, "old", 0) > 0 &&
                    json_object_get_int_member_with_default(c, "new", 0) == 0)
                        return limits[i];
        }
        return NULL;
}
