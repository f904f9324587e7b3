/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

/*
 * ListTorrentColumns: every torrent, as one array per field asked for.
 *
 * A client decodes each D-Bus value into an object of its own, and each
 * container too: python-dbus spends about as much on a row's struct as on
 * two of its strings, and more on an empty label list than on a number. The
 * rows of ListTorrents (a struct, ten values and an array each) took 87 ms to
 * decode with 10,000 torrents. Columns leave one object per value and none per
 * row: the same 10,000 with the five fields of a compact list decode in about
 * a quarter of that. Fixed-size columns go in with one copy each.
 *
 * The rows are gathered a slice per main-loop iteration like every reply over
 * all torrents (rv-bus-stream.c), into buffers, since the message holds one
 * column after the other; the columns are written when the last row is in.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-bus-private.h"
#include "rv-torrent-fields.h"

typedef struct {
        const RvTorrentField *field;
        /* fixed-size values as D-Bus lays them out: b and u in 32 bits, t and x in 64, d a double */
        GArray *fixed;
        /* their size: 4 or 8 */
        guint width;
        /* s: strings in the chunk; as: a GStrv each */
        GPtrArray *texts;
} RvBusColumn;

typedef struct {
        GArray *columns;
        GStringChunk *chunk;
        /* ListTorrentColumnsSparse: a column mostly of zero values holds only the others, with their rows */
        gboolean sparse;
} RvBusColumns;

/* the label list most torrents have: kept once, not copied per row */
static char *rv_bus_no_strings[] = { NULL };

static void
rv_bus_column_strv_free(char **strv)
{
        if (strv != rv_bus_no_strings)
                g_strfreev(strv);
}

static guint
rv_bus_column_width(RvFieldType type)
{
        switch (type) {
        case RV_FIELD_BOOL:
        case RV_FIELD_UINT32:
                return sizeof(guint32);
        case RV_FIELD_DOUBLE:
                return sizeof(double);
        case RV_FIELD_UINT64:
        case RV_FIELD_INT64:
                return sizeof(guint64);
        default:
                return 0;
        }
}

static void
rv_bus_column_clear(RvBusColumn *column)
{
        g_clear_pointer(&column->fixed, g_array_unref);
        g_clear_pointer(&column->texts, g_ptr_array_unref);
}

static void
rv_bus_columns_free(RvBusColumns *columns)
{
        g_array_unref(columns->columns);
        g_string_chunk_free(columns->chunk);
        g_free(columns);
}

/* the last entry of the field list handed to the authorized half: this for sparse columns, else NULL */
static const char rv_bus_columns_sparse_mark = 's';

static RvBusColumns *
rv_bus_columns_new(GPtrArray *fields_marked, guint rows)
{
        RvBusColumns *columns = g_new0(RvBusColumns, 1);
        g_autoptr(GPtrArray) fields = g_ptr_array_copy(fields_marked, NULL, NULL);

        columns->sparse = g_ptr_array_steal_index(fields, fields->len - 1) == &rv_bus_columns_sparse_mark;

        columns->columns = g_array_sized_new(FALSE, TRUE, sizeof(RvBusColumn), fields->len);
        g_array_set_clear_func(columns->columns, (GDestroyNotify)rv_bus_column_clear);
        columns->chunk = g_string_chunk_new(MAX(rows, 1) * 32);
        g_array_set_size(columns->columns, fields->len);
        for (guint i = 0; i < fields->len; i++) {
                RvBusColumn *column = &g_array_index(columns->columns, RvBusColumn, i);
                guint width;
                column->field = g_ptr_array_index(fields, i);
                width = rv_bus_column_width(column->field->type);
                column->width = width;
                if (width > 0)
                        column->fixed = g_array_sized_new(FALSE, FALSE, width, rows);
                else if (column->field->type == RV_FIELD_STRV)
                        column->texts = g_ptr_array_new_full(rows + 1, (GDestroyNotify)rv_bus_column_strv_free);
                else
                        column->texts = g_ptr_array_sized_new(rows + 1);
        }
        return columns;
}

/* one torrent's values, one to each column */
static int
rv_bus_columns_row(RvBus *self, sd_bus_message *reply, RvTorrent *torrent, gpointer data, sd_bus_error *error)
{
        RvBusColumns *columns = data;

        for (guint i = 0; i < columns->columns->len; i++) {
                RvBusColumn *column = &g_array_index(columns->columns, RvBusColumn, i);
                RvFieldValue v;
                column->field->get(torrent, &v);
                switch (v.type) {
                case RV_FIELD_STRING:
                        /* the torrent's own strings can change or go before the last row is in */
                        g_ptr_array_add(column->texts, column->field->static_text
                                                               ? (gpointer)v.s
                                                               : g_string_chunk_insert(columns->chunk, v.s));
                        break;
                case RV_FIELD_STRV:
                        g_ptr_array_add(column->texts,
                                        v.strv[0] == NULL ? rv_bus_no_strings : g_strdupv((char **)v.strv));
                        break;
                case RV_FIELD_BOOL:
                case RV_FIELD_UINT32: {
                        guint32 u = v.type == RV_FIELD_BOOL ? (v.b != FALSE) : (guint32)MAX(v.i, 0);
                        g_array_append_val(column->fixed, u);
                        break;
                }
                case RV_FIELD_DOUBLE:
                        g_array_append_val(column->fixed, v.d);
                        break;
                case RV_FIELD_UINT64: {
                        guint64 t = (guint64)MAX(v.i, 0);
                        g_array_append_val(column->fixed, t);
                        break;
                }
                case RV_FIELD_INT64: {
                        gint64 x = v.i;
                        g_array_append_val(column->fixed, x);
                        break;
                }
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

/* one column's array, inside its variant */
static int
rv_bus_column_append(sd_bus_message *reply, RvBusColumn *column)
{
        const char *sig = rv_torrent_field_signature(column->field);
        int r = 0;

        /* sd-bus checks each boolean, so those go one by one */
        if (column->fixed != NULL && column->field->type == RV_FIELD_BOOL) {
                r = sd_bus_message_open_container(reply, 'a', sig);
                for (guint i = 0; r >= 0 && i < column->fixed->len; i++)
                        r = sd_bus_message_append_basic(reply, 'b', &g_array_index(column->fixed, guint32, i));
                return r >= 0 ? sd_bus_message_close_container(reply) : r;
        }
        if (column->fixed != NULL)
                return sd_bus_message_append_array(reply, sig[0], column->fixed->data,
                                                   (size_t)column->fixed->len *
                                                           g_array_get_element_size(column->fixed));
        if (column->field->type == RV_FIELD_STRING) {
                g_ptr_array_add(column->texts, NULL);
                return sd_bus_message_append_strv(reply, (char **)column->texts->pdata);
        }
        r = sd_bus_message_open_container(reply, 'a', sig);
        for (guint i = 0; r >= 0 && i < column->texts->len; i++)
                r = sd_bus_message_append_strv(reply, g_ptr_array_index(column->texts, i));
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

/* a value more than half a column's rows hold: else the type's zero is what rows not listed hold */
typedef struct {
        gboolean set;
        /* s */
        const char *text;
        /* fixed-size types: the value as the column keeps it, to compare and to append */
        union {
                guint32 u32;
                guint64 u64;
                double d;
        } stored;
} RvBusCommon;

/* a fixed-size value of width bytes as a number to compare: 4-byte ones widened, a double's bits */
static inline guint64
rv_bus_fixed_read(guint width, const void *at)
{
        if (width == sizeof(guint32)) {
                guint32 v;
                memcpy(&v, at, sizeof(v));
                return v;
        } else {
                guint64 v;
                memcpy(&v, at, sizeof(v));
                return v;
        }
}

static inline guint64
rv_bus_column_fixed(const RvBusColumn *column, guint row)
{
        return rv_bus_fixed_read(column->width, column->fixed->data + (gsize)row * column->width);
}

/* the row holds the common value, or the type's zero when there is none */
static gboolean
rv_bus_column_is_common(RvBusColumn *column, guint row, const RvBusCommon *common)
{
        const char *text;

        if (column->fixed != NULL)
                return rv_bus_column_fixed(column, row) ==
                       (common->set ? rv_bus_fixed_read(column->width, &common->stored) : 0);
        if (column->field->type == RV_FIELD_STRV)
                return ((char **)g_ptr_array_index(column->texts, row))[0] == NULL;
        text = g_ptr_array_index(column->texts, row);
        return common->set ? text == common->text || strcmp(text, common->text) == 0 : text[0] == '\0';
}

static gboolean
rv_bus_column_rows_equal(RvBusColumn *column, guint a, guint b)
{
        const char *ta;
        const char *tb;

        if (column->fixed != NULL)
                return rv_bus_column_fixed(column, a) == rv_bus_column_fixed(column, b);
        ta = g_ptr_array_index(column->texts, a);
        tb = g_ptr_array_index(column->texts, b);
        return ta == tb || strcmp(ta, tb) == 0;
}

/*
 * the value more than half the rows hold, when it is not the type's zero
 * (the zero form covers that): Boyer and Moore's majority vote, then a count.
 * Label lists go in the zero form only. Strings kept by pointer (a state's
 * name) mostly compare by it
 */
static RvBusCommon
rv_bus_column_majority(RvBusColumn *column)
{
        RvBusCommon common = { 0 };
        guint n = column->fixed != NULL ? column->fixed->len : column->texts->len;
        guint candidate = 0;
        guint votes = 0;
        guint count = 0;

        if (column->field->type == RV_FIELD_STRV || n == 0)
                return common;
        for (guint i = 0; i < n; i++) {
                if (votes == 0) {
                        candidate = i;
                        votes = 1;
                } else if (rv_bus_column_rows_equal(column, i, candidate)) {
                        votes++;
                } else {
                        votes--;
                }
        }
        /* a value more than half hold is the candidate, and outvotes all others */
        for (guint i = 0; votes > 0 && i < n; i++)
                count += rv_bus_column_rows_equal(column, i, candidate);
        if (count * 2 <= n || rv_bus_column_is_common(column, candidate, &common))
                return common;
        common.set = TRUE;
        if (column->fixed != NULL)
                memcpy(&common.stored, column->fixed->data + (gsize)candidate * column->width, column->width);
        else
                common.text = g_ptr_array_index(column->texts, candidate);
        return common;
}

/*
 * the rows whose value is not the common one (or the type's zero), or NULL
 * when they are half or more: then the column goes whole. A client decodes an
 * object per value, so labels nobody set, rates of idle torrents, the state
 * most torrents are in and the like cost it nothing
 */
static GArray *
rv_bus_column_sparse_rows(RvBusColumn *column, const RvBusCommon *common)
{
        guint n = column->fixed != NULL ? column->fixed->len : column->texts->len;
        g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(guint32));

        for (guint i = 0; i < n; i++) {
                guint32 row = i;
                if (rv_bus_column_is_common(column, i, common))
                        continue;
                g_array_append_val(rows, row);
                if (rows->len * 2 >= n && n > 0)
                        return NULL;
        }
        return g_steal_pointer(&rows);
}

/* only the rows listed: the values compacted in place, then the rows */
static int
rv_bus_column_append_sparse(sd_bus_message *reply, RvBusColumn *column, GArray *rows)
{
        int r;

        for (guint i = 0; i < rows->len; i++) {
                guint row = g_array_index(rows, guint32, i);
                if (column->fixed != NULL) {
                        guint width = g_array_get_element_size(column->fixed);
                        memmove(column->fixed->data + (gsize)i * width, column->fixed->data + (gsize)row * width,
                                width);
                } else {
                        /* a swap: rows ascend, so each strv stays in the array once, and the tail frees the rest */
                        gpointer kept = column->texts->pdata[i];
                        column->texts->pdata[i] = column->texts->pdata[row];
                        column->texts->pdata[row] = kept;
                }
        }
        if (column->fixed != NULL)
                g_array_set_size(column->fixed, rows->len);
        else
                g_ptr_array_set_size(column->texts, rows->len);
        r = rv_bus_column_append(reply, column);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'u', rows->data, (size_t)rows->len * sizeof(guint32));
        return r;
}

/* field name -> its column, in the order asked for */
static int
rv_bus_columns_finish(sd_bus_message *reply, gpointer data)
{
        RvBusColumns *columns = data;
        int r = 0;

        for (guint i = 0; r >= 0 && i < columns->columns->len; i++) {
                RvBusColumn *column = &g_array_index(columns->columns, RvBusColumn, i);
                const char *field_sig = rv_torrent_field_signature(column->field);
                gboolean sparse = columns->sparse && i > 0;
                RvBusCommon common = sparse ? rv_bus_column_majority(column) : (RvBusCommon){ 0 };
                g_autoptr(GArray) rows = sparse ? rv_bus_column_sparse_rows(column, &common) : NULL;
                g_autofree char *sig =
                        rows == NULL ? g_strconcat("a", field_sig, NULL)
                                     : g_strconcat("(", common.set ? field_sig : "", "a", field_sig, "au)", NULL);

                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", column->field->json);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', sig);
                if (r >= 0 && rows != NULL) {
                        /* the struct's contents: the signature without its parentheses */
                        g_autofree char *inner = g_strndup(sig + 1, strlen(sig) - 2);
                        r = sd_bus_message_open_container(reply, 'r', inner);
                        if (r >= 0 && common.set)
                                r = sd_bus_message_append_basic(reply, field_sig[0],
                                                                column->fixed != NULL ? (const void *)&common.stored
                                                                                      : (const void *)common.text);
                        if (r >= 0)
                                r = rv_bus_column_append_sparse(reply, column, rows);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                } else if (r >= 0) {
                        r = rv_bus_column_append(reply, column);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r;
}

static int
rv_bus_list_columns_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        g_autoptr(sd_bus_message) reply = NULL;
        guint rows = rv_manager_list(self->manager)->len;
        int r = sd_bus_message_new_method_return(m, &reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        return rv_bus_reply_stream_full(self, m, reply, rv_bus_columns_row, rv_bus_columns_finish,
                                        rv_bus_columns_new(data, rows), (GDestroyNotify)rv_bus_columns_free, ret_error);
}

static int
rv_bus_list_columns(sd_bus_message *m, void *userdata, gboolean sparse, sd_bus_error *ret_error)
{
        g_auto(GStrv) names = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *fields;
        int r = sd_bus_message_read_strv(m, &names);

        if (r < 0)
                return r;
        fields = rv_torrent_fields_select((const char *const *)names, TRUE, "the names of the HTTP API", &error);
        if (fields == NULL)
                return rv_bus_set_error(ret_error, error);
        /* the flag rides on the field list, which the authorized half gets */
        g_ptr_array_add(fields, sparse ? (gpointer)&rv_bus_columns_sparse_mark : NULL);
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_list_columns_authorized, fields,
                                        (GDestroyNotify)g_ptr_array_unref, ret_error);
}

int
rv_bus_method_list_columns(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_list_columns(m, userdata, FALSE, ret_error);
}

int
rv_bus_method_list_columns_sparse(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_list_columns(m, userdata, TRUE, ret_error);
}
