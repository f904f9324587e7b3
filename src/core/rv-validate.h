/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-enums.h"

G_BEGIN_DECLS

/*
 * The checks of what callers send, once for every transport; each error is
 * RV_ERROR_INVALID_ARGUMENT and names the field (rv_command_validate() runs
 * the ones a command needs).
 */

#define RV_KEY_MAX_LABEL 128

/* absolute, UTF-8, at most 4096 bytes, no ".." */
gboolean rv_validate_save_path(const char *path, const char *field, GError **error);
/* at most RV_MANAGER_MAX_LABELS, each 1..RV_MANAGER_MAX_LABEL_LEN bytes of UTF-8, no control character or ',',
 * none twice */
gboolean rv_validate_labels(const char *const *labels, GError **error);
/* 0 (none) up to G_MAXINT32 bytes/s */
gboolean rv_validate_limit(gint64 limit, const char *field, GError **error);
/* as many indexes as priorities, each priority 0..7, each index below n_files (G_MAXUINT: not known yet) */
gboolean rv_validate_file_priorities(GArray *indexes, GByteArray *priorities, guint n_files, GError **error);
gboolean rv_validate_file_priorities_n(const guint32 *indexes, const guint8 *priorities, gsize n, guint n_files,
                                       GError **error);
/* a torrent's share limits: a ratio 0..RV_SHARE_RATIO_MAX, minutes of seeding and minutes without an upload
 * 0..RV_SHARE_MINUTES_MAX, each or RV_SHARE_LIMIT_GLOBAL or RV_SHARE_LIMIT_NONE (rv-torrent.h) */
gboolean rv_validate_share_limits(double ratio, gint64 minutes, gint64 inactive_minutes, GError **error);
/* a qBittorrent category or Revaer label name: 1..RV_MANAGER_MAX_LABEL_LEN bytes of UTF-8, no control character,
 * no ',', no '\\' and no "//" (qBittorrent's rule for its category names) */
gboolean rv_validate_category(const char *name, const char *field, GError **error);
/* a torrent's name as the user gives it: 1 to 255 bytes of UTF-8, no control characters */
gboolean rv_validate_torrent_name(const char *name, const char *field, GError **error);
/* a content layout by its wire name (original, subfolder, no_subfolder); NULL is original */
gboolean rv_validate_content_layout(const char *text, const char *field, RvContentLayout *ret_layout, GError **error);
/* an API key's label: 1..RV_KEY_MAX_LABEL bytes of UTF-8 */
gboolean rv_validate_key_label(const char *label, GError **error);
/* an API key's rate limit: both burst and period, or neither */
gboolean rv_validate_key_rate(guint burst, guint period_s, GError **error);
/* an API key's scope: one of "metrics", "read", "manage", "configure", "admin" */
gboolean rv_validate_key_scope(const char *scope, GError **error);

G_END_DECLS
