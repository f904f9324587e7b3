/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* how the data reaches the library (/fs/move_mode) */
typedef enum {
        RV_FS_MOVE_COPY,
        RV_FS_MOVE_MOVE,
        RV_FS_MOVE_HARDLINK,
        RV_FS_MOVE_REFLINK,
        RV_FS_MOVE_LAST,
} RvFsMoveMode;

const char *rv_fs_move_mode_to_string(RvFsMoveMode mode);

typedef enum {
        RV_FS_PAR2_OFF,
        RV_FS_PAR2_VERIFY,
        RV_FS_PAR2_REPAIR,
        RV_FS_PAR2_LAST,
} RvFsPar2Mode;

/*
 * what the pipeline does for one torrent: the fs settings, then the
 * label_policies entry of each of its labels in order, then its own
 * overrides; frozen when the torrent completes, so a settings change applies
 * to torrents that complete after it
 */
typedef struct {
        /* NULL: results stay beside the torrent's data */
        char *library_root;
        gboolean extract;
        RvFsPar2Mode par2;
        gboolean flatten;
        RvFsMoveMode move_mode;
        /* -1 when not set */
        gint chmod_file;
        gint chmod_dir;
        gint umask;
        char *chown_user;
        char *chown_group;
        GStrv cleanup_keep;
        GStrv cleanup_drop;
        GStrv allowed_paths;
        gint64 extract_max_ratio;
        gint64 extract_max_entries;
        guint retry_attempts;
} RvFsPolicy;

/* settings is a normalized settings document; labels and overrides may be NULL */
RvFsPolicy *rv_fs_policy_resolve(JsonNode *settings, const char *const *labels, JsonNode *overrides);
void rv_fs_policy_free(RvFsPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsPolicy, rv_fs_policy_free)

/* the frozen form, kept with the torrent and in the pipeline's journal */
JsonNode *rv_fs_policy_to_json(const RvFsPolicy *policy);
RvFsPolicy *rv_fs_policy_from_json(JsonNode *node, GError **error);
gboolean rv_fs_policy_equal(const RvFsPolicy *a, const RvFsPolicy *b);

/* whether there is anything to do beyond leaving the data where it is */
gboolean rv_fs_policy_has_work(const RvFsPolicy *policy);
/* where results go for a torrent saved in save_path */
const char *rv_fs_policy_library(const RvFsPolicy *policy, const char *save_path);

G_END_DECLS
