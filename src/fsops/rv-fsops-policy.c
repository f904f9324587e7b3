/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-error.h"
#include "rv-fsops-policy.h"
#include "rv-json.h"
#include "rv-settings.h"

/* the wire names are the settings' choices (src/config/rv-settings.c) */
static const char *const rv_fs_move_names[] = { "copy", "move", "hardlink", "reflink", NULL };
static const char *const rv_fs_par2_names[] = { "off", "verify", "repair", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(rv_fs_move_names) == RV_FS_MOVE_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(rv_fs_par2_names) == RV_FS_PAR2_LAST + 1);

const char *
rv_fs_move_mode_to_string(RvFsMoveMode mode)
{
        return (guint)mode < RV_FS_MOVE_LAST ? rv_fs_move_names[mode] : "hardlink";
}

static guint
rv_fs_name_index(const char *const *names, const char *text, guint fallback)
{
        for (guint i = 0; text != NULL && names[i] != NULL; i++) {
                if (g_str_equal(names[i], text))
                        return i;
        }
        return fallback;
}

void
rv_fs_policy_free(RvFsPolicy *policy)
{
        if (policy == NULL)
                return;
        g_free(policy->library_root);
        g_free(policy->chown_user);
        g_free(policy->chown_group);
        g_strfreev(policy->cleanup_keep);
        g_strfreev(policy->cleanup_drop);
        g_strfreev(policy->allowed_paths);
        g_free(policy);
}

static GStrv
rv_fs_strv_from_json(JsonNode *node)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

        if (node != NULL && JSON_NODE_HOLDS_ARRAY(node)) {
                JsonArray *array = json_node_get_array(node);
                for (guint i = 0; i < json_array_get_length(array); i++) {
                        JsonNode *e = json_array_get_element(array, i);
                        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                                g_strv_builder_add(builder, json_node_get_string(e));
                }
        }
        return g_strv_builder_end(builder);
}

static const char *
rv_fs_json_string(JsonNode *node)
{
        if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
                return NULL;
        return json_node_get_string(node);
}

/* "0644" -> 0644; -1 for null */
static gint
rv_fs_mode_from_json(JsonNode *node)
{
        const char *s = rv_fs_json_string(node);
        guint64 mode = 0;

        if (s == NULL || !g_ascii_string_to_unsigned(s, 8, 0, 07777, &mode, NULL))
                return -1;
        return (gint)mode;
}

/* one fs field over the policy; fields the policy does not know are left alone */
static void
rv_fs_policy_set(RvFsPolicy *p, const char *name, JsonNode *v)
{
        gboolean b = v != NULL && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_BOOLEAN &&
                     json_node_get_boolean(v);
        gint64 n = v != NULL && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64
                           ? json_node_get_int(v)
                           : 0;

        if (g_str_equal(name, "library_root")) {
                g_free(p->library_root);
                p->library_root = g_strdup(rv_fs_json_string(v));
        } else if (g_str_equal(name, "extract")) {
                p->extract = b;
        } else if (g_str_equal(name, "par2")) {
                p->par2 = rv_fs_name_index(rv_fs_par2_names, rv_fs_json_string(v), RV_FS_PAR2_OFF);
        } else if (g_str_equal(name, "flatten")) {
                p->flatten = b;
        } else if (g_str_equal(name, "move_mode")) {
                p->move_mode = rv_fs_name_index(rv_fs_move_names, rv_fs_json_string(v), RV_FS_MOVE_HARDLINK);
        } else if (g_str_equal(name, "chmod_file")) {
                p->chmod_file = rv_fs_mode_from_json(v);
        } else if (g_str_equal(name, "chmod_dir")) {
                p->chmod_dir = rv_fs_mode_from_json(v);
        } else if (g_str_equal(name, "umask")) {
                p->umask = rv_fs_mode_from_json(v);
        } else if (g_str_equal(name, "chown_user")) {
                g_free(p->chown_user);
                p->chown_user = g_strdup(rv_fs_json_string(v));
        } else if (g_str_equal(name, "chown_group")) {
                g_free(p->chown_group);
                p->chown_group = g_strdup(rv_fs_json_string(v));
        } else if (g_str_equal(name, "cleanup_keep")) {
                g_strfreev(p->cleanup_keep);
                p->cleanup_keep = rv_fs_strv_from_json(v);
        } else if (g_str_equal(name, "cleanup_drop")) {
                g_strfreev(p->cleanup_drop);
                p->cleanup_drop = rv_fs_strv_from_json(v);
        } else if (g_str_equal(name, "allowed_paths")) {
                g_strfreev(p->allowed_paths);
                p->allowed_paths = rv_fs_strv_from_json(v);
        } else if (g_str_equal(name, "extract_max_ratio")) {
                p->extract_max_ratio = MAX(n, 1);
        } else if (g_str_equal(name, "extract_max_entries")) {
                p->extract_max_entries = MAX(n, 1);
        } else if (g_str_equal(name, "retry_attempts")) {
                p->retry_attempts = (guint)CLAMP(n, 0, 100);
        }
}

/* every member of an object of fs fields */
static void
rv_fs_policy_apply(RvFsPolicy *p, JsonObject *fields, gboolean overridable_only)
{
        g_autoptr(GList) members = fields != NULL ? json_object_get_members(fields) : NULL;

        for (GList *l = members; l != NULL; l = l->next) {
                if (overridable_only && !g_strv_contains(RV_SETTINGS_FS_OVERRIDABLE, l->data))
                        continue;
                rv_fs_policy_set(p, l->data, json_object_get_member(fields, l->data));
        }
}

static RvFsPolicy *
rv_fs_policy_new(void)
{
        RvFsPolicy *p = g_new0(RvFsPolicy, 1);

        p->par2 = RV_FS_PAR2_OFF;
        p->move_mode = RV_FS_MOVE_HARDLINK;
        p->chmod_file = p->chmod_dir = p->umask = -1;
        p->cleanup_keep = g_new0(char *, 1);
        p->cleanup_drop = g_new0(char *, 1);
        p->allowed_paths = g_new0(char *, 1);
        p->extract_max_ratio = 100;
        p->extract_max_entries = 100000;
        p->retry_attempts = 5;
        return p;
}

RvFsPolicy *
rv_fs_policy_resolve(JsonNode *settings, const char *const *labels, JsonNode *overrides)
{
        RvFsPolicy *p = rv_fs_policy_new();
        JsonObject *fs = settings != NULL && JSON_NODE_HOLDS_OBJECT(settings)
                                 ? rv_json_object_get_object(json_node_get_object(settings), "fs")
                                 : NULL;
        JsonObject *by_label = fs != NULL ? rv_json_object_get_object(fs, "label_policies") : NULL;

        rv_fs_policy_apply(p, fs, FALSE);
        for (guint i = 0; by_label != NULL && labels != NULL && labels[i] != NULL; i++)
                rv_fs_policy_apply(p, rv_json_object_get_object(by_label, labels[i]), TRUE);
        if (overrides != NULL && JSON_NODE_HOLDS_OBJECT(overrides))
                rv_fs_policy_apply(p, json_node_get_object(overrides), TRUE);
        return p;
}

static void
rv_fs_add_mode(JsonObject *obj, const char *name, gint mode)
{
        if (mode < 0) {
                json_object_set_null_member(obj, name);
        } else {
                g_autofree char *text = g_strdup_printf("%04o", (guint)mode);
                json_object_set_string_member(obj, name, text);
        }
}

static JsonArray *
rv_fs_strv_to_json(GStrv strv)
{
        JsonArray *array = json_array_new();

        for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
                json_array_add_string_element(array, strv[i]);
        return array;
}

static void
rv_fs_add_string(JsonObject *obj, const char *name, const char *value)
{
        if (value != NULL)
                json_object_set_string_member(obj, name, value);
        else
                json_object_set_null_member(obj, name);
}

JsonNode *
rv_fs_policy_to_json(const RvFsPolicy *p)
{
        JsonObject *obj = json_object_new();

        rv_fs_add_string(obj, "library_root", p->library_root);
        json_object_set_boolean_member(obj, "extract", p->extract);
        json_object_set_string_member(obj, "par2", rv_fs_par2_names[p->par2]);
        json_object_set_boolean_member(obj, "flatten", p->flatten);
        json_object_set_string_member(obj, "move_mode", rv_fs_move_names[p->move_mode]);
        rv_fs_add_mode(obj, "chmod_file", p->chmod_file);
        rv_fs_add_mode(obj, "chmod_dir", p->chmod_dir);
        rv_fs_add_mode(obj, "umask", p->umask);
        rv_fs_add_string(obj, "chown_user", p->chown_user);
        rv_fs_add_string(obj, "chown_group", p->chown_group);
        json_object_set_array_member(obj, "cleanup_keep", rv_fs_strv_to_json(p->cleanup_keep));
        json_object_set_array_member(obj, "cleanup_drop", rv_fs_strv_to_json(p->cleanup_drop));
        json_object_set_array_member(obj, "allowed_paths", rv_fs_strv_to_json(p->allowed_paths));
        json_object_set_int_member(obj, "extract_max_ratio", p->extract_max_ratio);
        json_object_set_int_member(obj, "extract_max_entries", p->extract_max_entries);
        json_object_set_int_member(obj, "retry_attempts", p->retry_attempts);
        return rv_json_node_take_object(obj);
}

RvFsPolicy *
rv_fs_policy_from_json(JsonNode *node, GError **error)
{
        RvFsPolicy *p;

        if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fsops policy: expected an object");
                return NULL;
        }
        p = rv_fs_policy_new();
        rv_fs_policy_apply(p, json_node_get_object(node), FALSE);
        if (p->library_root != NULL && !g_path_is_absolute(p->library_root)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "fsops policy: library_root '%s' is not absolute", p->library_root);
                rv_fs_policy_free(p);
                return NULL;
        }
        return p;
}

gboolean
rv_fs_policy_equal(const RvFsPolicy *a, const RvFsPolicy *b)
{
        g_autoptr(JsonNode) ja = rv_fs_policy_to_json(a);
        g_autoptr(JsonNode) jb = rv_fs_policy_to_json(b);

        return json_node_equal(ja, jb);
}

gboolean
rv_fs_policy_has_work(const RvFsPolicy *p)
{
        return p->library_root != NULL || p->extract || p->par2 != RV_FS_PAR2_OFF;
}

const char *
rv_fs_policy_library(const RvFsPolicy *p, const char *save_path)
{
        return p->library_root != NULL ? p->library_root : save_path;
}
