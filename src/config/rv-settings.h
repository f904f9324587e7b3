/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-engine.h"

G_BEGIN_DECLS

/*
 * the runtime settings: three sections (app, engine, fs) of typed fields,
 * described once in a table (rv-settings.c) that drives defaults,
 * validation with field pointers ("/engine/download_limit"), the D-Bus policy
 * objects and the CLI; a settings document is JSON {"app": {...}, "engine":
 * {...}, "fs": {...}}
 */
typedef enum {
        RV_SETTING_BOOL,
        /* integer in [min, max] */
        RV_SETTING_INT,
        /* integer in [min, max] or null (off / unlimited) */
        RV_SETTING_INT_OR_NULL,
        RV_SETTING_DOUBLE,
        RV_SETTING_STRING,
        /* one of a fixed set of strings */
        RV_SETTING_ENUM,
        /* absolute path, no "..", or null */
        RV_SETTING_PATH,
        /* octal mode like "0644", or null */
        RV_SETTING_MODE,
        /* list of globs */
        RV_SETTING_GLOBS,
        /* list of absolute paths */
        RV_SETTING_PATHS,
        /* list of strings */
        RV_SETTING_STRINGS,
        /* "HH:MM" */
        RV_SETTING_TIME,
        /* label -> an object of fs fields that apply to torrents with that label ({"tv": {"extract": true}}) */
        RV_SETTING_FS_LABELS,
        /* category -> {"save_path": absolute path or null} (the qBittorrent WebAPI's categories) */
        RV_SETTING_CATEGORIES,
        /* a password hash of rv-password.h, or null */
        RV_SETTING_PASSWORD_HASH,
} RvSettingType;

typedef struct {
        const char *section;
        const char *name;
        /* "/section/name" */
        const char *pointer;
        /* D-Bus property name */
        const char *property;
        RvSettingType type;
        /* JSON text of the default */
        const char *default_json;
        gint64 min;
        gint64 max;
        /* NULL-terminated, for RV_SETTING_ENUM */
        const char *const *choices;
        /* changes only through a dedicated path (setup), never through a settings write */
        gboolean read_only;
        /* takes effect at the next start */
        gboolean needs_restart;
        const char *description;
} RvSettingDesc;

#define RV_SETTINGS_SECTIONS ((const char *const[]){ "app", "engine", "fs", NULL })

/* the field table; NULL-terminated by a zero entry (name NULL) */
const RvSettingDesc *rv_settings_fields(void);
const RvSettingDesc *rv_settings_find(const char *section, const char *name);
const RvSettingDesc *rv_settings_find_pointer(const char *pointer);
const RvSettingDesc *rv_settings_find_property(const char *section, const char *property);

/* a full document with every default */
JsonNode *rv_settings_defaults(void);

/*
 * the document with a patch applied ({"engine": {"download_limit": 5000}},
 * or JSON-pointer keys {"/engine/download_limit": 5000}); every field is
 * checked (types, ranges, choices, paths inside allowed roots, immutable keys)
 * and the first problem is an InvalidArgument whose message starts with the
 * field's pointer; ret_changes gets {"pointer": {"old": .., "new": ..}} for
 * what really changed
 */
JsonNode *rv_settings_apply_patch(JsonNode *current, JsonNode *patch, JsonNode **ret_changes, GError **error);
/* the same, letting Revaer itself change read-only fields (the mode, at setup) */
JsonNode *rv_settings_apply_patch_full(JsonNode *current, JsonNode *patch, gboolean allow_read_only,
                                       JsonNode **ret_changes, GError **error);
/* fills in defaults for missing fields and validates a whole stored document */
JsonNode *rv_settings_normalize(JsonNode *document, GError **error);
/*
 * an object of fs fields that changes a policy: a label's entry in
 * /fs/label_policies or a torrent's own overrides given at add time; only the
 * fields of RV_SETTINGS_FS_OVERRIDABLE, each checked like a settings write;
 * errors name prefix + field ("/fs/label_policies/tv/extract: ...")
 */
#define RV_SETTINGS_FS_OVERRIDABLE                                                                                    \
        ((const char *const[]){ "library_root", "extract", "par2", "flatten", "move_mode", "chmod_file", "chmod_dir", \
                                "chown_user", "chown_group", "umask", "cleanup_keep", "cleanup_drop", NULL })
gboolean rv_settings_check_fs_overrides(JsonNode *overrides, const char *prefix, GError **error);

/*
 * a category's save path from /app/categories: TRUE when the category
 * exists, with *ret_save_path its path or NULL (the default save path)
 */
gboolean rv_settings_get_category(JsonNode *document, const char *name, const char **ret_save_path);

/* a value of one field; borrowed */
JsonNode *rv_settings_get(JsonNode *document, const RvSettingDesc *desc);

/* typed readers over a normalized document */
gboolean rv_settings_get_bool(JsonNode *document, const char *section, const char *name);
gint64 rv_settings_get_int(JsonNode *document, const char *section, const char *name, gint64 if_null);
const char *rv_settings_get_string(JsonNode *document, const char *section, const char *name);

/* the engine's settings (libtorrent) for a document */
void rv_settings_to_engine(JsonNode *document, RvEngineSettings *ret_settings);

/* a value as text for people ("5000", "true", "null", "[a, b]") */
char *rv_settings_value_to_string(JsonNode *value);
/* text from a person or a command line to a JSON value of the field's type */
JsonNode *rv_settings_value_from_string(const RvSettingDesc *desc, const char *text, GError **error);

/*
 * guard rails on a document: a global limit driven (almost) to zero or above
 * 5 Gbps; returns a human-readable reason or NULL when all is well
 */
char *rv_settings_guard_rails(JsonNode *document);
/* a change that switched a global limit off (from a value to unlimited): the pointer, or NULL */
const char *rv_settings_limit_disabled(JsonNode *changes);

G_END_DECLS
