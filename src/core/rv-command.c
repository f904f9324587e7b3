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
