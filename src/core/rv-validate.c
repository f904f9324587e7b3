/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-command.h"
#include "rv-error.h"
#include "rv-manager.h"
#include "rv-validate.h"

gboolean
rv_validate_save_path(const char *path, const char *field, GError **error)
{
        g_auto(GStrv) parts = NULL;

        if (path == NULL || path[0] == '\0') {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: empty path", field);
                return FALSE;
        }
        if (strlen(path) > 4096 || !g_utf8_validate(path, -1, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: not a valid path", field);
                return FALSE;
        }
        if (!g_path_is_absolute(path)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: '%s' is not an absolute path", field,
                            path);
                return FALSE;
        }
        parts = g_strsplit(path, "/", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                if (g_strcmp0(parts[i], "..") == 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: '%s' contains '..'", field, path);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_validate_labels(const char *const *labels, GError **error)
{
        guint n = labels != NULL ? g_strv_length((GStrv)labels) : 0;

        if (n > RV_MANAGER_MAX_LABELS) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "labels: %u given, at most %d allowed", n,
                            RV_MANAGER_MAX_LABELS);
                return FALSE;
        }
        for (guint i = 0; i < n; i++) {
                const char *l = labels[i];
                if (l[0] == '\0' || strlen(l) > RV_MANAGER_MAX_LABEL_LEN || !g_utf8_validate(l, -1, NULL)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "labels[%u]: must be 1 to %d bytes of UTF-8", i, RV_MANAGER_MAX_LABEL_LEN);
                        return FALSE;
                }
                for (const char *p = l; *p != '\0'; p = g_utf8_next_char(p)) {
                        if (g_unichar_iscntrl(g_utf8_get_char(p)) || *p == ',') {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "labels[%u]: '%s' contains a control character or ','", i, l);
                                return FALSE;
                        }
                }
                for (guint j = 0; j < i; j++) {
                        if (g_strcmp0(labels[j], l) == 0) {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "labels[%u]: '%s' is listed twice", i, l);
                                return FALSE;
                        }
                }
        }
        return TRUE;
}

/* minutes of a share limit: 0..RV_SHARE_MINUTES_MAX or a sentinel */
static gboolean
rv_validate_share_minutes(gint64 minutes, const char *field, GError **error)
{
        if (minutes >= RV_SHARE_LIMIT_GLOBAL && minutes <= RV_SHARE_MINUTES_MAX)
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                    "%s: %" G_GINT64_FORMAT " is out of range (0 to %d minutes, -1 for none, -2 for the global goal)",
                    field, minutes, RV_SHARE_MINUTES_MAX);
        return FALSE;
}

gboolean
rv_validate_share_limits(double ratio, gint64 minutes, gint64 inactive_minutes, GError **error)
{
        if (!(ratio == RV_SHARE_LIMIT_GLOBAL || ratio == RV_SHARE_LIMIT_NONE ||
              (ratio >= 0 && ratio <= RV_SHARE_RATIO_MAX))) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "ratio_limit: %g is out of range (0 to %g, -1 for none, -2 for the global goal)", ratio,
                            RV_SHARE_RATIO_MAX);
                return FALSE;
        }
        return rv_validate_share_minutes(minutes, "seeding_time_limit", error) &&
               rv_validate_share_minutes(inactive_minutes, "inactive_seeding_time_limit", error);
}

gboolean
rv_validate_category(const char *name, const char *field, GError **error)
{
        if (name == NULL || name[0] == '\0' || strlen(name) > RV_MANAGER_MAX_LABEL_LEN ||
            !g_utf8_validate(name, -1, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: must be 1 to %d bytes of UTF-8", field,
                            RV_MANAGER_MAX_LABEL_LEN);
                return FALSE;
        }
        for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
                if (g_unichar_iscntrl(g_utf8_get_char(p)) || *p == ',' || *p == '\\' || g_str_has_prefix(p, "//") ||
                    (p == name && *p == '/') || (*p == '/' && p[1] == '\0')) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "%s: '%s' has a control character, ',', '\\', \"//\" or a '/' at an end", field,
                                    name);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_validate_content_layout(const char *text, const char *field, RvContentLayout *ret_layout, GError **error)
{
        RvContentLayout layout = RV_CONTENT_LAYOUT_ORIGINAL;

        if (text != NULL && !rv_content_layout_from_string(text, &layout)) {
                g_autofree char *names = g_strjoinv(", ", (GStrv)rv_content_layout_names);
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: unknown layout '%s' (one of %s)", field,
                            text, names);
                return FALSE;
        }
        if (ret_layout != NULL)
                *ret_layout = layout;
        return TRUE;
}

gboolean
rv_validate_torrent_name(const char *name, const char *field, GError **error)
{
        if (name == NULL || name[0] == '\0' || strlen(name) > 255 || !g_utf8_validate(name, -1, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: must be 1 to 255 bytes of UTF-8", field);
                return FALSE;
        }
        for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
                if (g_unichar_iscntrl(g_utf8_get_char(p))) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: has a control character", field);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_validate_limit(gint64 limit, const char *field, GError **error)
{
        if (limit < 0 || limit > G_MAXINT32) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%s: %" G_GINT64_FORMAT " is out of range (0 for unlimited up to %d bytes/s)", field, limit,
                            G_MAXINT32);
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_validate_file_priorities_n(const guint32 *indexes, const guint8 *priorities, gsize n, guint n_files, GError **error)
{
        for (gsize i = 0; i < n; i++) {
                if (n_files != G_MAXUINT && indexes[i] >= n_files) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "priorities[%" G_GSIZE_FORMAT "]: file index %u is out of range (%u files)", i,
                                    indexes[i], n_files);
                        return FALSE;
                }
                if (priorities[i] > 7) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "priorities[%" G_GSIZE_FORMAT "]: priority %u is out of range (0..7)", i,
                                    priorities[i]);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_validate_file_priorities(GArray *indexes, GByteArray *priorities, guint n_files, GError **error)
{
        if (indexes == NULL || priorities == NULL || indexes->len != priorities->len) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "priorities: each file index needs one priority");
                return FALSE;
        }
        return rv_validate_file_priorities_n((const guint32 *)(gpointer)indexes->data, priorities->data, indexes->len,
                                             n_files, error);
}

gboolean
rv_validate_key_label(const char *label, GError **error)
{
        if (label == NULL || label[0] == '\0' || strlen(label) > RV_KEY_MAX_LABEL ||
            !g_utf8_validate(label, -1, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "label: must be 1 to %d bytes of UTF-8",
                            RV_KEY_MAX_LABEL);
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_validate_key_rate(guint burst, guint period_s, GError **error)
{
        if ((burst == 0) != (period_s == 0)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "rate limit: give both burst and period, or neither");
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_validate_key_scope(const char *scope, GError **error)
{
        if (!rv_scope_from_string(scope, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "scope: '%s' is not one of metrics, read, manage, configure, admin",
                            scope != NULL ? scope : "");
                return FALSE;
        }
        return TRUE;
}
