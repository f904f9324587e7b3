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

gboolean
rv_cli_check_one_arg(char **args, const char *what, GError **error)
{
        if (args == NULL || args[0] == NULL) {
                /* TRANSLATORS: %s is an argument's placeholder such as KEY_ID */
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("missing %s argument"), what);
                return FALSE;
        }
        return rv_cli_check_args(args, 1, 1, error);
}

static gboolean
rv_cli_is_identifier(const char *text, gsize len)
{
        if (len == 0)
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if (!g_ascii_isalnum(text[i]) && text[i] != '_')
                        return FALSE;
        }
        return TRUE;
}

gboolean
rv_cli_parse_setting_key(const char *text, char **ret_section, char **ret_name, GError **error)
{
        /* "/engine/download_limit" as in the daemon's messages, "engine.download_limit" to type */
        const char *start = text[0] == '/' ? text + 1 : text;
        const char *sep = strchr(start, text[0] == '/' ? '/' : '.');

        if (sep == NULL || !rv_cli_is_identifier(start, (gsize)(sep - start)) ||
            !rv_cli_is_identifier(sep + 1, strlen(sep + 1))) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("'%s' is not a setting (for example engine.download_limit)"), text);
                return FALSE;
        }
        *ret_section = g_strndup(start, (gsize)(sep - start));
        *ret_name = g_strdup(sep + 1);
        return TRUE;
}

static gboolean
rv_cli_parse_integer(const char *text, char type, gboolean rate, GVariant **ret, GError **error)
{
        g_autofree char *trimmed = g_strstrip(g_strdup(text));
        gint64 x = 0;
        guint64 t = 0;

        if (rate && rv_cli_parse_rate(trimmed, &x, NULL)) {
                t = (guint64)x;
        } else if (type == 'x' || type == 'i' || type == 'n') {
                gint64 min = type == 'x' ? G_MININT64 : type == 'i' ? G_MININT32 : G_MININT16;
                gint64 max = type == 'x' ? G_MAXINT64 : type == 'i' ? G_MAXINT32 : G_MAXINT16;
                if (!g_ascii_string_to_signed(trimmed, 10, min, max, &x, NULL)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    rate ? _("'%s' is neither an integer nor a rate (try 500K, 5M or 0)")
                                         : _("'%s' is not an integer"),
                                    text);
                        return FALSE;
                }
                t = (guint64)x;
        } else {
                guint64 max = type == 't' ? G_MAXUINT64 : type == 'u' ? G_MAXUINT32 : type == 'q' ? G_MAXUINT16 : 255;
                if (!g_ascii_string_to_unsigned(trimmed, 10, 0, max, &t, NULL)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a whole number"), text);
                        return FALSE;
                }
                x = (gint64)MIN(t, (guint64)G_MAXINT64);
        }
        switch (type) {
        case 'y':
                *ret = g_variant_new_byte((guint8)t);
                break;
        case 'n':
                *ret = g_variant_new_int16((gint16)x);
                break;
        case 'q':
                *ret = g_variant_new_uint16((guint16)t);
                break;
        case 'i':
                *ret = g_variant_new_int32((gint32)x);
                break;
        case 'u':
                *ret = g_variant_new_uint32((guint32)t);
                break;
        case 't':
                *ret = g_variant_new_uint64(t);
                break;
        default:
                *ret = g_variant_new_int64(x);
                break;
        }
        return TRUE;
}

static gboolean
rv_cli_parse_double(const char *text, GVariant **ret, GError **error)
{
        g_autofree char *trimmed = g_strstrip(g_strdup(text));
        char *end = NULL;
        double d;

        errno = 0;
        d = g_ascii_strtod(trimmed, &end);
        /* decimals only: strtod would take "inf", "nan" and hex too */
        if (trimmed[0] == '\0' || errno != 0 || *end != '\0' || !isfinite(d) ||
            strspn(trimmed, "+-0123456789.eE") != strlen(trimmed)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a number"), text);
                return FALSE;
        }
        *ret = g_variant_new_double(d);
        return TRUE;
}

static GVariant *
rv_cli_parse_list(const char *text)
{
        g_auto(GStrv) parts = g_strsplit(text, ",", -1);
        g_autoptr(GPtrArray) items = g_ptr_array_new();

        for (guint i = 0; parts[i] != NULL; i++) {
                /* "mon, tue" reads as two days; an empty entry is a stray comma */
                g_strstrip(parts[i]);
                if (parts[i][0] != '\0')
                        g_ptr_array_add(items, parts[i]);
        }
        return g_variant_new_strv((const char *const *)items->pdata, items->len);
}

GVariant *
rv_cli_parse_setting_value(const char *text, const GVariantType *type, gboolean rate, const char *name, GError **error)
{
        const char *sig = g_variant_type_peek_string(type);
        GVariant *value = NULL;
        gboolean ok = TRUE;

        switch (sig[0]) {
        case 'b': {
                gboolean b = FALSE;
                ok = rv_cli_parse_bool(text, &b, error);
                if (ok)
                        value = g_variant_new_boolean(b);
                break;
        }
        case 'y':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't':
                ok = rv_cli_parse_integer(text, sig[0], rate, &value, error);
                break;
        case 'd':
                ok = rv_cli_parse_double(text, &value, error);
                break;
        case 's':
                /* the service reads "" as null where a setting may be null */
                value = g_variant_new_string(g_str_equal(text, "null") ? "" : text);
                break;
        default:
                if (g_variant_type_equal(type, G_VARIANT_TYPE_STRING_ARRAY)) {
                        value = rv_cli_parse_list(text);
                        break;
                }
                {
                        g_autofree char *type_string = g_variant_type_dup_string(type);
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot set a value of type '%s'"),
                                    type_string);
                }
                ok = FALSE;
                break;
        }
        if (!ok) {
                g_prefix_error(error, "%s: ", name);
                return NULL;
        }
        return g_variant_ref_sink(value);
}
