/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

gboolean
rv_cli_is_tty(FILE *stream)
{
        return isatty(fileno(stream)) == 1;
}

guint
rv_cli_output_width(void)
{
        const char *columns = g_getenv("COLUMNS");
        guint64 n = 0;
        struct winsize ws;

        /* $COLUMNS wins, as for ls and systemctl, so a pipe can ask for a width */
        if (columns != NULL && g_ascii_string_to_unsigned(columns, 10, 20, 10000, &n, NULL))
                return (guint)n;
        if (rv_cli_is_tty(stdout) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 0;
}

static guint
rv_cli_char_width(gunichar c)
{
        if (g_unichar_iszerowidth(c))
                return 0;
        return g_unichar_iswide(c) ? 2 : 1;
}

guint
rv_cli_display_width(const char *text)
{
        guint width = 0;

        if (!g_utf8_validate(text, -1, NULL))
                return (guint)strlen(text);
        for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
                width += rv_cli_char_width(g_utf8_get_char(p));
        return width;
}

static const char *
rv_cli_ellipsis(void)
{
        return g_get_charset(NULL) ? "…" : "...";
}

char *
rv_cli_truncate(const char *text, guint width, gboolean keep_end)
{
        const char *ellipsis = rv_cli_ellipsis();
        guint ellipsis_width = rv_cli_display_width(ellipsis);
        g_autoptr(GString) out = NULL;
        guint used = 0;

        if (width == 0 || rv_cli_display_width(text) <= width)
                return g_strdup(text);
        if (!g_utf8_validate(text, -1, NULL))
                return g_strndup(text, width);
        if (width <= ellipsis_width)
                return g_strndup(".....", width);
        width -= ellipsis_width;
        out = g_string_new(NULL);
        if (!keep_end) {
                for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
                        gunichar c = g_utf8_get_char(p);
                        if (used + rv_cli_char_width(c) > width)
                                break;
                        used += rv_cli_char_width(c);
                        g_string_append_unichar(out, c);
                }
                g_string_append(out, ellipsis);
                return g_string_free(g_steal_pointer(&out), FALSE);
        }
        /* walk back from the end: the file name matters more than its folders */
        {
                const char *start = text + strlen(text);
                while (start > text) {
                        const char *prev = g_utf8_prev_char(start);
                        guint w = rv_cli_char_width(g_utf8_get_char(prev));
                        if (used + w > width)
                                break;
                        used += w;
                        start = prev;
                }
                g_string_append(out, ellipsis);
                g_string_append(out, start);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
rv_cli_format_size(guint64 size)
{
        g_autofree char *formatted = NULL;
        GString *text;

        /* "0 B" rather than GLib's "0 bytes": narrower columns, one unit style */
        if (size < 1024)
                return g_strdup_printf("%u B", (guint)size);
        formatted = g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS);
        text = g_string_new(formatted);

        /* GLib puts a no-break space between number and unit; columns and grep want a plain one */
        g_string_replace(text, "\u00a0", " ", 0);
        return g_string_free(text, FALSE);
}

char *
rv_cli_format_rate(guint64 rate)
{
        g_autofree char *size = rv_cli_format_size(rate);

        /* TRANSLATORS: a transfer rate, %s is a size such as "1.5 MiB" */
        return g_strdup_printf(_("%s/s"), size);
}

char *
rv_cli_format_limit(gint64 limit)
{
        if (limit <= 0)
                return g_strdup(_("unlimited"));
        return rv_cli_format_rate((guint64)limit);
}

char *
rv_cli_format_eta(gint64 seconds)
{
        int s;

        if (seconds < 0)
                return g_strdup("-");
        /* a year and more says nothing more than "unknown" */
        if (seconds >= 365 * 86400)
                return g_strdup(g_get_charset(NULL) ? "∞" : "-");
        s = (int)seconds;
        if (s >= 86400)
                /* TRANSLATORS: a duration in days and hours */
                return g_strdup_printf(_("%dd %02dh"), s / 86400, (s % 86400) / 3600);
        if (s >= 3600)
                /* TRANSLATORS: a duration in hours and minutes */
                return g_strdup_printf(_("%dh %02dm"), s / 3600, (s % 3600) / 60);
        if (s >= 60)
                /* TRANSLATORS: a duration in minutes and seconds */
                return g_strdup_printf(_("%dm %02ds"), s / 60, s % 60);
        /* TRANSLATORS: a duration in seconds */
        return g_strdup_printf(_("%ds"), s);
}

char *
rv_cli_format_percent(double fraction)
{
        /* rounded down, so 100% means done */
        double tenths = floor(CLAMP(fraction, 0.0, 1.0) * 1000.0);

        return g_strdup_printf("%.1f%%", tenths / 10.0);
}

char *
rv_cli_format_time(guint64 unix_seconds)
{
        g_autoptr(GDateTime) dt = NULL;

        if (unix_seconds == 0)
                return g_strdup(_("never"));
        dt = g_date_time_new_from_unix_local((gint64)MIN(unix_seconds, (guint64)G_MAXINT64));
        if (dt == NULL)
                return g_strdup_printf("%" G_GUINT64_FORMAT, unix_seconds);
        return g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
}

const char *
rv_cli_format_bool(gboolean value)
{
        return value ? _("yes") : _("no");
}

/* libtorrent's download priorities: 0 skip, 1 low, 4 normal (default), 7 high */
const char *
rv_cli_priority_to_string(guint8 priority)
{
        switch (priority) {
        case 0:
                return "skip";
        case 1:
                return "low";
        case 4:
                return "normal";
        case 7:
                return "high";
        default:
                return NULL;
        }
}

gint64
rv_cli_variant_to_int64(GVariant *value)
{
        if (value == NULL)
                return 0;
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
                return (gint64)MIN(g_variant_get_uint64(value), (guint64)G_MAXINT64);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
                return g_variant_get_int64(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
                return g_variant_get_uint32(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
                return g_variant_get_int32(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
                return g_variant_get_boolean(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
                return (gint64)g_variant_get_double(value);
        return 0;
}

void
rv_cli_print_field(const char *label, guint width, const char *value)
{
        guint pad = width - MIN(width, rv_cli_display_width(label));

        g_print("%s:%*s %s\n", label, (int)pad, "", value);
}

char *
rv_cli_short_hash(const char *hash)
{
        return g_strndup(hash, RV_CLI_SHORT_HASH);
}

char *
rv_cli_json_key(const char *property)
{
        GString *out = g_string_new(NULL);

        for (const char *p = property; *p != '\0'; p++) {
                if (g_ascii_isupper(*p) && p != property)
                        g_string_append_c(out, '_');
                g_string_append_c(out, g_ascii_tolower(*p));
        }
        return g_string_free(out, FALSE);
}

JsonNode *
rv_cli_properties_to_json(GVariant *props)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        GVariantIter iter;
        const char *key;
        GVariant *value;

        json_builder_begin_object(builder);
        g_variant_iter_init(&iter, props);
        /* iter_loop owns value and key between rounds */
        while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                g_autofree char *member = rv_cli_json_key(key);
                json_builder_set_member_name(builder, member);
                json_builder_add_value(builder, json_gvariant_serialize(value));
        }
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

void
rv_cli_print_json(JsonNode *node, gboolean pretty)
{
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_pretty(generator, pretty);
        json_generator_set_indent(generator, 2);
        json_generator_set_root(generator, node);
        text = json_generator_to_data(generator, NULL);
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
}

/* tables: aligned columns, one of them shrinks to fit the terminal */

typedef struct {
        char *header;
        RvCliAlign align;
        gboolean flexible;
        gboolean keep_end;
} RvCliColumn;

struct _RvCliTable {
        guint n_columns;
        RvCliColumn *columns;
        /* GStrv per row */
        GPtrArray *rows;
};

RvCliTable *
rv_cli_table_new(guint n_columns)
{
        RvCliTable *table = g_new0(RvCliTable, 1);

        table->n_columns = n_columns;
        table->columns = g_new0(RvCliColumn, n_columns);
        table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        return table;
}

void
rv_cli_table_free(RvCliTable *table)
{
        if (table == NULL)
                return;
        for (guint i = 0; i < table->n_columns; i++)
                g_free(table->columns[i].header);
        g_free(table->columns);
        g_ptr_array_unref(table->rows);
        g_free(table);
}

void
rv_cli_table_set_column(RvCliTable *table, guint column, const char *header, RvCliAlign align, gboolean flexible,
                        gboolean keep_end)
{
        g_return_if_fail(column < table->n_columns);
        g_free(table->columns[column].header);
        table->columns[column].header = g_strdup(header);
        table->columns[column].align = align;
        table->columns[column].flexible = flexible;
        table->columns[column].keep_end = keep_end;
}

void
rv_cli_table_add_row(RvCliTable *table, ...)
{
        char **row = g_new0(char *, table->n_columns + 1);
        va_list ap;

        va_start(ap, table);
        for (guint i = 0; i < table->n_columns; i++) {
                char *cell = va_arg(ap, char *);
                row[i] = cell != NULL ? cell : g_strdup("");
        }
        va_end(ap);
        g_ptr_array_add(table->rows, row);
}

static void
rv_cli_table_print_cell(FILE *out, const char *text, guint width, RvCliAlign align, gboolean last)
{
        guint pad = width - MIN(width, rv_cli_display_width(text));

        if (align == RV_CLI_ALIGN_RIGHT)
                fprintf(out, "%*s", (int)pad, "");
        fputs(text, out);
        /* no trailing blanks at the end of a line */
        if (align == RV_CLI_ALIGN_LEFT && !last)
                fprintf(out, "%*s", (int)pad, "");
}

void
rv_cli_table_print(RvCliTable *table, FILE *out, guint width)
{
        g_autofree guint *widths = g_new0(guint, table->n_columns);
        const guint gap = 2;
        guint total = 0;

        for (guint c = 0; c < table->n_columns; c++) {
                widths[c] = rv_cli_display_width(table->columns[c].header != NULL ? table->columns[c].header : "");
                for (guint r = 0; r < table->rows->len; r++) {
                        char **row = g_ptr_array_index(table->rows, r);
                        widths[c] = MAX(widths[c], rv_cli_display_width(row[c]));
                }
                total += widths[c] + (c > 0 ? gap : 0);
        }
        /* the flexible column gives up what does not fit, down to a readable minimum */
        for (guint c = 0; width > 0 && total > width && c < table->n_columns; c++) {
                guint header = rv_cli_display_width(table->columns[c].header != NULL ? table->columns[c].header : "");
                guint minimum = MAX(header, 12);
                guint shrink;
                if (!table->columns[c].flexible || widths[c] <= minimum)
                        continue;
                shrink = MIN(total - width, widths[c] - minimum);
                widths[c] -= shrink;
                total -= shrink;
        }
        for (guint r = 0; r <= table->rows->len; r++) {
                char **row = r == 0 ? NULL : g_ptr_array_index(table->rows, r - 1);
                /* an empty last cell would leave the gap before it */
                guint n_cells = table->n_columns;
                while (n_cells > 1 && row != NULL && row[n_cells - 1][0] == '\0')
                        n_cells--;
                for (guint c = 0; c < n_cells; c++) {
                        const RvCliColumn *col = &table->columns[c];
                        const char *text = row != NULL ? row[c] : col->header;
                        g_autofree char *cell = rv_cli_truncate(text != NULL ? text : "", widths[c], col->keep_end);
                        if (c > 0)
                                fprintf(out, "%*s", (int)gap, "");
                        rv_cli_table_print_cell(out, cell, widths[c], col->align, c + 1 == n_cells);
                }
                fputc('\n', out);
        }
        fflush(out);
}

char *
rv_cli_format_setting(GVariant *value)
{
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
                return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
                char buf[G_ASCII_DTOSTR_BUF_SIZE];
                double d = g_variant_get_double(value);
                /* the C locale's decimal point, as config set reads it; short unless that loses digits */
                g_ascii_formatd(buf, sizeof(buf), "%.15g", d);
                if (g_ascii_strtod(buf, NULL) != d)
                        g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
                return g_strdup(buf);
        }
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                return g_variant_dup_string(value, NULL);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
                g_autofree const char **strv = g_variant_get_strv(value, NULL);
                return g_strjoinv(",", (char **)strv);
        }
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) || g_variant_is_of_type(value, G_VARIANT_TYPE_INT32) ||
            g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
                return g_strdup_printf("%" G_GINT64_FORMAT, rv_cli_variant_to_int64(value));
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
                return g_strdup_printf("%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
        return g_variant_print(value, FALSE);
}
