/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-command.h"
#include "rv-names.h"
#include "rv-validate.h"

static const struct {
        const char *name;
        const char *polkit_action;
} rv_scope_table[] = {
        [RV_SCOPE_METRICS] = { "metrics", RV_ACTION_OBSERVE },
        [RV_SCOPE_READ] = { "read", RV_ACTION_OBSERVE },
        [RV_SCOPE_MANAGE] = { "manage", RV_ACTION_MANAGE },
        [RV_SCOPE_CONFIGURE] = { "configure", RV_ACTION_CONFIGURE },
        [RV_SCOPE_ADMIN] = { "admin", RV_ACTION_ADMIN },
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_scope_table) == RV_SCOPE_LAST);

const char *
rv_scope_to_string(RvScope scope)
{
        return (guint)scope < RV_SCOPE_LAST ? rv_scope_table[scope].name : NULL;
}

gboolean
rv_scope_from_string(const char *text, RvScope *ret_scope)
{
        for (guint i = 0; text != NULL && i < RV_SCOPE_LAST; i++) {
                if (g_str_equal(rv_scope_table[i].name, text)) {
                        if (ret_scope != NULL)
                                *ret_scope = (RvScope)i;
                        return TRUE;
                }
        }
        return FALSE;
}

const char *
rv_scope_to_polkit_action(RvScope scope)
{
        return (guint)scope < RV_SCOPE_LAST ? rv_scope_table[scope].polkit_action : NULL;
}

gboolean
rv_scope_allows(RvScope scope, RvScope needed)
{
        return scope >= needed;
}

/* every operation once: its name and the scope it needs */
static const struct {
        const char *name;
        RvScope scope;
        gboolean torrent;
} rv_op_table[] = {
        [RV_OP_ADD] = { "add", RV_SCOPE_MANAGE, FALSE },
        [RV_OP_GET] = { "get", RV_SCOPE_READ, FALSE },
        [RV_OP_LIST] = { "list", RV_SCOPE_READ, FALSE },
        [RV_OP_PAUSE_ALL] = { "pause_all", RV_SCOPE_MANAGE, FALSE },
        [RV_OP_RESUME_ALL] = { "resume_all", RV_SCOPE_MANAGE, FALSE },
        [RV_OP_PAUSE] = { "pause", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_RESUME] = { "resume", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_REMOVE] = { "remove", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_RECHECK] = { "recheck", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_REANNOUNCE] = { "reannounce", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_SELECTION] = { "set_selection", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_LIST_FILES] = { "list_files", RV_SCOPE_READ, TRUE },
        [RV_OP_SET_FILE_PRIORITIES] = { "set_file_priorities", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_MOVE_STORAGE] = { "move_storage", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_SEQUENTIAL] = { "set_sequential", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_DOWNLOAD_LIMIT] = { "set_download_limit", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_UPLOAD_LIMIT] = { "set_upload_limit", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_LABELS] = { "set_labels", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_SHARE_LIMITS] = { "set_share_limits", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_FS_RETRY] = { "fs_retry", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SETTINGS_READ] = { "settings_read", RV_SCOPE_READ, FALSE },
        [RV_OP_SETTINGS_UPDATE] = { "settings_update", RV_SCOPE_CONFIGURE, FALSE },
        [RV_OP_SETTINGS_HISTORY] = { "settings_history", RV_SCOPE_READ, FALSE },
        [RV_OP_SETUP_START] = { "setup_start", RV_SCOPE_ADMIN, FALSE },
        /* the one-time token is the proof; the caller needs no more than to manage */
        [RV_OP_SETUP_COMPLETE] = { "setup_complete", RV_SCOPE_MANAGE, FALSE },
        [RV_OP_KEY_CREATE] = { "key_create", RV_SCOPE_ADMIN, FALSE },
        [RV_OP_KEY_ROTATE] = { "key_rotate", RV_SCOPE_ADMIN, FALSE },
        [RV_OP_KEY_REVOKE] = { "key_revoke", RV_SCOPE_ADMIN, FALSE },
        [RV_OP_KEY_LIST] = { "key_list", RV_SCOPE_ADMIN, FALSE },
        [RV_OP_UPDATE] = { "update", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_EVENTS] = { "events", RV_SCOPE_READ, FALSE },
        [RV_OP_HEALTH] = { "health", RV_SCOPE_READ, FALSE },
        [RV_OP_METRICS] = { "metrics", RV_SCOPE_METRICS, FALSE },
        /* categories are labels with a save path: whoever may label torrents may name them */
        [RV_OP_SET_CATEGORIES] = { "set_categories", RV_SCOPE_MANAGE, FALSE },
        [RV_OP_LOGIN] = { "login", RV_SCOPE_READ, FALSE },
        [RV_OP_SET_FORCE_START] = { "set_force_start", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_SUPER_SEEDING] = { "set_super_seeding", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_SET_FIRST_LAST_PIECE] = { "set_first_last_piece", RV_SCOPE_MANAGE, TRUE },
        [RV_OP_LIST_TRACKERS] = { "list_trackers", RV_SCOPE_READ, TRUE },
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_op_table) == RV_OP_LAST);

const char *
rv_op_to_string(RvOp op)
{
        return (guint)op < RV_OP_LAST ? rv_op_table[op].name : NULL;
}

RvScope
rv_op_scope(RvOp op)
{
        /* an unknown operation needs the most */
        return (guint)op < RV_OP_LAST ? rv_op_table[op].scope : RV_SCOPE_ADMIN;
}

gboolean
rv_op_targets_torrent(RvOp op)
{
        return (guint)op < RV_OP_LAST && rv_op_table[op].torrent;
}

/* the writable boolean fields, once for D-Bus properties and /v1 PATCH */
static const struct {
        const char *field;
        RvOp op;
} rv_bool_field_ops[] = {
        { "sequential", RV_OP_SET_SEQUENTIAL },
        { "force_start", RV_OP_SET_FORCE_START },
        { "super_seeding", RV_OP_SET_SUPER_SEEDING },
        { "first_last_piece", RV_OP_SET_FIRST_LAST_PIECE },
};

gboolean
rv_op_for_bool_field(const char *field, RvOp *ret_op)
{
        for (guint i = 0; field != NULL && i < G_N_ELEMENTS(rv_bool_field_ops); i++) {
                if (g_str_equal(rv_bool_field_ops[i].field, field)) {
                        *ret_op = rv_bool_field_ops[i].op;
                        return TRUE;
                }
        }
        return FALSE;
}

void
rv_caller_clear(RvCaller *caller)
{
        g_clear_pointer(&caller->key_id, g_free);
        g_clear_pointer(&caller->actor, g_free);
}

RvCommand *
rv_command_new(RvOp op, const RvInfoHash *hash)
{
        RvCommand *command = g_new0(RvCommand, 1);

        command->op = op;
        if (hash != NULL)
                command->hash = *hash;
        return command;
}

void
rv_command_free(RvCommand *command)
{
        if (command == NULL)
                return;
        g_free(command->path);
        g_strfreev(command->labels);
        rv_selection_free(command->selection);
        if (command->indexes != NULL)
                g_array_unref(command->indexes);
        if (command->priorities != NULL)
                g_byte_array_unref(command->priorities);
        g_free(command);
}

gboolean
rv_command_validate(const RvCommand *command, const RvTorrent *target, GError **error)
{
        switch (command->op) {
        case RV_OP_MOVE_STORAGE:
                return rv_validate_save_path(command->path, command->field != NULL ? command->field : "save_path",
                                             error);
        case RV_OP_SET_DOWNLOAD_LIMIT:
                return rv_validate_limit(command->limit, command->field != NULL ? command->field : "download_limit",
                                         error);
        case RV_OP_SET_UPLOAD_LIMIT:
                return rv_validate_limit(command->limit, command->field != NULL ? command->field : "upload_limit",
                                         error);
        case RV_OP_SET_LABELS:
                return rv_validate_labels((const char *const *)command->labels, error);
        case RV_OP_SET_SHARE_LIMITS:
                return rv_validate_share_limits(command->ratio, command->limit, command->inactive_minutes, error);
        case RV_OP_SET_FILE_PRIORITIES:
                return rv_validate_file_priorities(
                        command->indexes, command->priorities,
                        target != NULL && target->files != NULL ? target->files->len : G_MAXUINT, error);
        case RV_OP_SET_SELECTION:
                if (command->selection == NULL) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "selection: missing");
                        return FALSE;
                }
                return TRUE;
        default:
                return TRUE;
        }
}

JsonNode *
rv_command_to_json(const RvCommand *command)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "op");
        json_builder_add_string_value(builder, rv_op_to_string(command->op));
        json_builder_set_member_name(builder, "info_hash");
        json_builder_add_string_value(builder, command->hash.hex);
        json_builder_set_member_name(builder, "flag");
        json_builder_add_boolean_value(builder, command->flag);
        json_builder_set_member_name(builder, "limit");
        json_builder_add_int_value(builder, command->limit);
        json_builder_set_member_name(builder, "ratio");
        json_builder_add_double_value(builder, command->ratio);
        json_builder_set_member_name(builder, "inactive_minutes");
        json_builder_add_int_value(builder, command->inactive_minutes);
        if (command->path != NULL) {
                json_builder_set_member_name(builder, "path");
                json_builder_add_string_value(builder, command->path);
        }
        if (command->labels != NULL) {
                json_builder_set_member_name(builder, "labels");
                json_builder_begin_array(builder);
                for (guint i = 0; command->labels[i] != NULL; i++)
                        json_builder_add_string_value(builder, command->labels[i]);
                json_builder_end_array(builder);
        }
        if (command->selection != NULL) {
                json_builder_set_member_name(builder, "selection");
                json_builder_add_value(builder, rv_selection_to_json(command->selection));
        }
        if (command->indexes != NULL && command->priorities != NULL) {
                json_builder_set_member_name(builder, "priorities");
                json_builder_begin_array(builder);
                for (guint i = 0; i < command->indexes->len && i < command->priorities->len; i++) {
                        json_builder_begin_array(builder);
                        json_builder_add_int_value(builder, g_array_index(command->indexes, guint32, i));
                        json_builder_add_int_value(builder, command->priorities->data[i]);
                        json_builder_end_array(builder);
                }
                json_builder_end_array(builder);
        }
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

static gboolean
rv_command_json_member(JsonObject *obj, const char *member, GType type, JsonNode **ret_node, GError **error)
{
        JsonNode *node = json_object_get_member(obj, member);

        *ret_node = NULL;
        if (node == NULL)
                return TRUE;
        if (type == JSON_TYPE_ARRAY ? !JSON_NODE_HOLDS_ARRAY(node)
            : type == JSON_TYPE_OBJECT
                    ? !JSON_NODE_HOLDS_OBJECT(node)
                    : !JSON_NODE_HOLDS_VALUE(node) ||
                              (json_node_get_value_type(node) != type &&
                               !(type == G_TYPE_DOUBLE && json_node_get_value_type(node) == G_TYPE_INT64))) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "command: %s has the wrong type", member);
                return FALSE;
        }
        *ret_node = node;
        return TRUE;
}

RvCommand *
rv_command_from_json(JsonNode *node, GError **error)
{
        g_autoptr(RvCommand) command = NULL;
        JsonObject *obj = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        JsonNode *op = NULL;
        JsonNode *hash = NULL;
        JsonNode *m = NULL;
        RvInfoHash parsed;
        guint i;

        if (obj == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "command: not a JSON object");
                return NULL;
        }
        if (!rv_command_json_member(obj, "op", G_TYPE_STRING, &op, error) ||
            !rv_command_json_member(obj, "info_hash", G_TYPE_STRING, &hash, error))
                return NULL;
        for (i = 0; op != NULL && i < RV_OP_LAST; i++) {
                if (g_str_equal(rv_op_table[i].name, json_node_get_string(op)))
                        break;
        }
        if (op == NULL || i == RV_OP_LAST || !rv_op_table[i].torrent) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "command: %s is not a command on a torrent",
                            op != NULL ? json_node_get_string(op) : "(no op)");
                return NULL;
        }
        if (hash == NULL || !rv_info_hash_parse(json_node_get_string(hash), &parsed)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "command: info_hash: not an info hash");
                return NULL;
        }
        command = rv_command_new((RvOp)i, &parsed);
        if (!rv_command_json_member(obj, "flag", G_TYPE_BOOLEAN, &m, error))
                return NULL;
        command->flag = m != NULL && json_node_get_boolean(m);
        if (!rv_command_json_member(obj, "limit", G_TYPE_INT64, &m, error))
                return NULL;
        command->limit = m != NULL ? json_node_get_int(m) : 0;
        if (!rv_command_json_member(obj, "ratio", G_TYPE_DOUBLE, &m, error))
                return NULL;
        command->ratio = m != NULL ? json_node_get_double(m) : 0;
        if (!rv_command_json_member(obj, "inactive_minutes", G_TYPE_INT64, &m, error))
                return NULL;
        command->inactive_minutes = m != NULL ? json_node_get_int(m) : 0;
        if (!rv_command_json_member(obj, "path", G_TYPE_STRING, &m, error))
                return NULL;
        command->path = m != NULL ? g_strdup(json_node_get_string(m)) : NULL;
        if (!rv_command_json_member(obj, "labels", JSON_TYPE_ARRAY, &m, error))
                return NULL;
        if (m != NULL) {
                JsonArray *array = json_node_get_array(m);
                guint n = json_array_get_length(array);
                command->labels = g_new0(char *, n + 1);
                for (guint k = 0; k < n; k++) {
                        JsonNode *label = json_array_get_element(array, k);
                        if (!JSON_NODE_HOLDS_VALUE(label) || json_node_get_value_type(label) != G_TYPE_STRING) {
                                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                    "command: labels: not strings");
                                return NULL;
                        }
                        command->labels[k] = g_strdup(json_node_get_string(label));
                }
        }
        if (!rv_command_json_member(obj, "selection", JSON_TYPE_OBJECT, &m, error))
                return NULL;
        if (m != NULL && (command->selection = rv_selection_from_json(m, error)) == NULL)
                return NULL;
        if (!rv_command_json_member(obj, "priorities", JSON_TYPE_ARRAY, &m, error))
                return NULL;
        if (m != NULL) {
                JsonArray *array = json_node_get_array(m);
                command->indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
                command->priorities = g_byte_array_new();
                for (guint k = 0; k < json_array_get_length(array); k++) {
                        JsonNode *pair = json_array_get_element(array, k);
                        JsonArray *two = JSON_NODE_HOLDS_ARRAY(pair) ? json_node_get_array(pair) : NULL;
                        gint64 idx;
                        gint64 prio;
                        guint32 idx32;
                        guint8 prio8;
                        if (two == NULL || json_array_get_length(two) != 2 ||
                            json_node_get_value_type(json_array_get_element(two, 0)) != G_TYPE_INT64 ||
                            json_node_get_value_type(json_array_get_element(two, 1)) != G_TYPE_INT64) {
                                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                    "command: priorities: not [index, priority] pairs");
                                return NULL;
                        }
                        idx = json_array_get_int_element(two, 0);
                        prio = json_array_get_int_element(two, 1);
                        if (idx < 0 || idx > G_MAXUINT32 || prio < 0 || prio > 255) {
                                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                    "command: priorities: out of range");
                                return NULL;
                        }
                        idx32 = (guint32)idx;
                        prio8 = (guint8)prio;
                        g_array_append_val(command->indexes, idx32);
                        g_byte_array_append(command->priorities, &prio8, 1);
                }
        }
        return g_steal_pointer(&command);
}

gboolean
rv_command_run(RvManager *manager, const RvCommand *command, GError **error)
{
        RvTorrent *t = rv_manager_lookup(manager, &command->hash);

        if (t == NULL || t->removing) {
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is gone", command->hash.hex);
                return FALSE;
        }
        switch (command->op) {
        case RV_OP_PAUSE:
                return rv_manager_pause(manager, t, error);
        case RV_OP_RESUME:
                return rv_manager_resume(manager, t, error);
        case RV_OP_REMOVE:
                return rv_manager_remove(manager, t, command->flag, error);
        case RV_OP_RECHECK:
                return rv_manager_recheck(manager, t, error);
        case RV_OP_REANNOUNCE:
                return rv_manager_reannounce(manager, t, error);
        case RV_OP_SET_SELECTION:
                return rv_manager_set_selection(manager, t, command->selection, error);
        case RV_OP_SET_FILE_PRIORITIES:
                return rv_manager_set_file_priorities(manager, t, (const guint32 *)(gpointer)command->indexes->data,
                                                      command->priorities->data, command->indexes->len, error);
        case RV_OP_MOVE_STORAGE:
                return rv_manager_move_storage(manager, t, command->path, error);
        case RV_OP_SET_SEQUENTIAL:
                return rv_manager_set_sequential(manager, t, command->flag, error);
        case RV_OP_SET_FORCE_START:
                return rv_manager_set_force_start(manager, t, command->flag, error);
        case RV_OP_SET_SUPER_SEEDING:
                return rv_manager_set_super_seeding(manager, t, command->flag, error);
        case RV_OP_SET_FIRST_LAST_PIECE:
                return rv_manager_set_first_last_piece(manager, t, command->flag, error);
        case RV_OP_SET_DOWNLOAD_LIMIT:
                return rv_manager_set_limits(manager, t, command->limit, t->upload_limit, error);
        case RV_OP_SET_UPLOAD_LIMIT:
                return rv_manager_set_limits(manager, t, t->download_limit, command->limit, error);
        case RV_OP_SET_LABELS:
                return rv_manager_set_labels(manager, t, (const char *const *)command->labels, error);
        case RV_OP_SET_SHARE_LIMITS:
                return rv_manager_set_share_limits(manager, t, command->ratio, command->limit,
                                                   command->inactive_minutes, error);
        case RV_OP_FS_RETRY:
                return rv_manager_fs_retry(manager, t, error);
        default:
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "%s is not a command on a torrent",
                            rv_op_to_string(command->op));
                return FALSE;
        }
}
