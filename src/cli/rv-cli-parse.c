/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

gboolean
rv_cli_check_args(char **args, guint min, guint max, GError **error)
{
        guint n = args != NULL ? g_strv_length(args) : 0;

        if (n < min) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    min == 1 ? _("missing TORRENT argument") : _("missing argument"));
                return FALSE;
        }
        if (n > max) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("unexpected argument '%s'"), args[max]);
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_cli_parse_rate(const char *text, gint64 *ret, GError **error)
{
        static const struct {
                const char *suffix;
                double factor;
        } units[] = {
                { "", 1.0 },
                { "b", 1.0 },
                { "k", 1024.0 },
                { "kb", 1024.0 },
                { "kib", 1024.0 },
                { "m", 1024.0 * 1024.0 },
                { "mb", 1024.0 * 1024.0 },
                { "mib", 1024.0 * 1024.0 },
                { "g", 1024.0 * 1024.0 * 1024.0 },
                { "gb", 1024.0 * 1024.0 * 1024.0 },
                { "gib", 1024.0 * 1024.0 * 1024.0 },
        };
        g_autofree char *lower = g_ascii_strdown(text, -1);
        char *end = NULL;
        double value;
        double factor = -1.0;

        g_strstrip(lower);
        if (g_str_equal(lower, "unlimited") || g_str_equal(lower, "none") || g_str_equal(lower, "off")) {
                *ret = 0;
                return TRUE;
        }
        /* digits first: strtod would take "inf", "nan" and hex */
        if (!g_ascii_isdigit(lower[0]) && lower[0] != '.') {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a rate (try 500K, 5M or 0)"),
                            text);
                return FALSE;
        }
        errno = 0;
        value = g_ascii_strtod(lower, &end);
        /* plain decimals only: no exponents, no hex */
        if (errno != 0 || end == lower || strspn(lower, "0123456789.") != (gsize)(end - lower) || !isfinite(value) ||
            value < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a rate (try 500K, 5M or 0)"),
                            text);
                return FALSE;
        }
        while (*end == ' ')
                end++;
        if (g_str_has_suffix(end, "/s"))
                end[strlen(end) - 2] = '\0';
        for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
                if (g_str_equal(end, units[i].suffix))
                        factor = units[i].factor;
        }
        if (factor < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("'%s' has an unknown unit (use K, M or G for KiB/s, MiB/s or GiB/s)"), text);
                return FALSE;
        }
        value = round(value * factor);
        if (value > (double)G_MAXINT64) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is too large"), text);
                return FALSE;
        }
        *ret = (gint64)value;
        return TRUE;
}

gboolean
rv_cli_parse_bool(const char *text, gboolean *ret, GError **error)
{
        static const char *const yes[] = { "on", "yes", "true", "1", NULL };
        static const char *const no[] = { "off", "no", "false", "0", NULL };
        g_autofree char *lower = g_ascii_strdown(text, -1);

        if (g_strv_contains(yes, lower)) {
                *ret = TRUE;
                return TRUE;
        }
        if (g_strv_contains(no, lower)) {
                *ret = FALSE;
                return TRUE;
        }
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is neither on nor off"), text);
        return FALSE;
}

gboolean
rv_cli_parse_priority(const char *text, guint8 *ret, GError **error)
{
        static const char *const names[] = { "skip", "low", "normal", "high" };
        static const guint8 values[] = { 0, 1, 4, 7 };
        guint64 n = 0;

        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
                if (g_ascii_strcasecmp(text, names[i]) == 0) {
                        *ret = values[i];
                        return TRUE;
                }
        }
        if (g_ascii_string_to_unsigned(text, 10, 0, 7, &n, NULL)) {
                *ret = (guint8)n;
                return TRUE;
        }
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                    _("'%s' is not a priority (skip, low, normal, high or 0 to 7)"), text);
        return FALSE;
}

static gboolean
rv_cli_parse_index(const char *text, const char *spec, guint32 *ret, GError **error)
{
        guint64 n = 0;

        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &n, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s': '%s' is not a file index"), spec,
                            text);
                return FALSE;
        }
        *ret = (guint32)n;
        return TRUE;
}

gboolean
rv_cli_parse_priority_spec(const char *text, GArray *ret_indexes, GByteArray *ret_priorities, GError **error)
{
        const char *eq = strrchr(text, '=');
        g_autofree char *indexes = NULL;
        g_auto(GStrv) parts = NULL;
        guint8 priority = 0;

        if (eq == NULL || eq == text) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("'%s' is not INDEX=PRIORITY (for example 3=high or 0,2-4=skip)"), text);
                return FALSE;
        }
        if (!rv_cli_parse_priority(eq + 1, &priority, error)) {
                g_prefix_error(error, "'%s': ", text);
                return FALSE;
        }
        indexes = g_strndup(text, (gsize)(eq - text));
        parts = g_strsplit(indexes, ",", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                g_auto(GStrv) range = g_strsplit(parts[i], "-", 2);
                guint32 first = 0;
                guint32 last = 0;
                if (!rv_cli_parse_index(range[0] != NULL ? range[0] : "", text, &first, error))
                        return FALSE;
                last = first;
                if (range[1] != NULL && !rv_cli_parse_index(range[1], text, &last, error))
                        return FALSE;
                if (last < first || last - first >= 1000000) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s': bad range '%s'"), text,
                                    parts[i]);
                        return FALSE;
                }
                for (guint64 index = first; index <= last; index++) {
                        guint32 value = (guint32)index;
                        g_array_append_val(ret_indexes, value);
                        g_byte_array_append(ret_priorities, &priority, 1);
                }
        }
        return TRUE;
}
