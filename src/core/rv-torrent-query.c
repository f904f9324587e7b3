/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-error.h"
#include "rv-torrent-query.h"
#include "rv-validate.h"

void
rv_torrent_query_init(RvTorrentQuery *query)
{
        memset(query, 0, sizeof(*query));
}

void
rv_torrent_query_clear(RvTorrentQuery *query)
{
        g_clear_pointer(&query->labels, g_strfreev);
}

gboolean
rv_torrent_query_set_states(RvTorrentQuery *query, const char *states, const char *field, GError **error)
{
        g_auto(GStrv) parts = g_strsplit(states != NULL ? states : "", ",", RV_TORRENT_STATE_LAST + 1);
        guint mask = 0;

        for (guint i = 0; parts[i] != NULL; i++) {
                RvTorrentState state = rv_torrent_state_from_string(g_strstrip(parts[i]));
                if (state == RV_TORRENT_STATE_LAST) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "%s: '%s' is not a state (queued, checking, fetching_metadata, downloading, "
                                    "seeding, paused, error, loading)",
                                    field, parts[i]);
                        return FALSE;
                }
                mask |= 1u << state;
        }
        if (mask == 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: no state given", field);
                return FALSE;
        }
        query->states = mask;
        return TRUE;
}

gboolean
rv_torrent_query_set_labels(RvTorrentQuery *query, const char *labels, const char *field, GError **error)
{
        g_auto(GStrv) parts = g_strsplit(labels != NULL ? labels : "", ",", RV_TORRENT_QUERY_MAX_LABELS + 1);

        if (g_strv_length(parts) > RV_TORRENT_QUERY_MAX_LABELS) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: at most %d labels", field,
                            RV_TORRENT_QUERY_MAX_LABELS);
                return FALSE;
        }
        /* the rules of a label (length, UTF-8, no control characters), with the field named */
        if (parts[0] == NULL || !rv_validate_labels((const char *const *)parts, error)) {
                if (error != NULL && *error != NULL)
                        g_prefix_error(error, "%s: ", field);
                else
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: no label given", field);
                return FALSE;
        }
        g_strfreev(query->labels);
        query->labels = g_steal_pointer(&parts);
        return TRUE;
}

/* "<added>.<hash>" in base64url, so clients treat it as opaque */
char *
rv_torrent_query_cursor(const RvTorrent *torrent)
{
        g_autofree char *plain = g_strdup_printf("%" G_GINT64_FORMAT ".%s", torrent->added_time, torrent->hash.hex);
        char *b64 = g_base64_encode((const guchar *)plain, strlen(plain));

        for (char *p = b64; *p != '\0'; p++) {
                if (*p == '+')
                        *p = '-';
                else if (*p == '/')
                        *p = '_';
                else if (*p == '=')
                        *p = '\0';
        }
        return b64;
}

gboolean
rv_torrent_query_set_cursor(RvTorrentQuery *query, const char *cursor, const char *field, GError **error)
{
        gsize n = cursor != NULL ? strlen(cursor) : 0;
        g_autofree char *b64 = NULL;
        g_autofree guchar *plain = NULL;
        g_autofree char *text = NULL;
        g_autofree char *added_text = NULL;
        gsize len = 0;
        const char *dot;
        gint64 added = 0;

        if (n == 0 || n > RV_TORRENT_QUERY_MAX_CURSOR ||
            strspn(cursor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-_") != n) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: not a cursor this service gave", field);
                return FALSE;
        }
        b64 = g_malloc0(n + 4);
        for (gsize i = 0; i < n; i++)
                b64[i] = cursor[i] == '-' ? '+' : cursor[i] == '_' ? '/' : cursor[i];
        for (gsize i = n; i % 4 != 0; i++)
                b64[i] = '=';
        plain = g_base64_decode(b64, &len);
        text = g_strndup((const char *)plain, len);
        dot = strchr(text, '.');
        added_text = dot != NULL ? g_strndup(text, (gsize)(dot - text)) : NULL;
        if (dot == NULL || !g_ascii_string_to_signed(added_text, 10, 0, G_MAXINT64, &added, NULL) ||
            !rv_info_hash_parse(dot + 1, &query->after_hash)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: not a cursor this service gave", field);
                return FALSE;
        }
        query->has_after = TRUE;
        query->after_added = added;
        return TRUE;
}

static gint
rv_torrent_query_compare_position(gint64 added_a, const RvInfoHash *a, gint64 added_b, const RvInfoHash *b)
{
        if (added_a != added_b)
                return added_a < added_b ? -1 : 1;
        return memcmp(a->hex, b->hex, RV_INFO_HASH_HEX_LEN);
}

static gint
rv_torrent_query_compare(gconstpointer a, gconstpointer b)
{
        const RvTorrent *ta = *(const RvTorrent *const *)a;
        const RvTorrent *tb = *(const RvTorrent *const *)b;

        return rv_torrent_query_compare_position(ta->added_time, &ta->hash, tb->added_time, &tb->hash);
}

gboolean
rv_torrent_query_matches(const RvTorrentQuery *query, const RvTorrent *torrent)
{
        if (torrent->removing)
                return FALSE;
        if (query->states != 0 && (query->states & (1u << torrent->state)) == 0)
                return FALSE;
        for (guint i = 0; query->labels != NULL && query->labels[i] != NULL; i++) {
                if (torrent->labels == NULL || !g_strv_contains((const char *const *)torrent->labels, query->labels[i]))
                        return FALSE;
        }
        if (query->has_after && rv_torrent_query_compare_position(torrent->added_time, &torrent->hash,
                                                                  query->after_added, &query->after_hash) <= 0)
                return FALSE;
        return TRUE;
}

GPtrArray *
rv_manager_query(RvManager *manager, const RvTorrentQuery *query, gboolean *ret_more)
{
        /* the registry's own array: read, never kept */
        GPtrArray *all = rv_manager_list(manager);
        GPtrArray *out = g_ptr_array_sized_new(all->len);

        /* and the other nodes' of a cluster, with their node */
        GPtrArray *remote = rv_manager_list_remote(manager);

        for (guint i = 0; i < all->len + remote->len; i++) {
                RvTorrent *t = i < all->len ? g_ptr_array_index(all, i) : g_ptr_array_index(remote, i - all->len);
                if (rv_torrent_query_matches(query, t))
                        g_ptr_array_add(out, t);
        }
        g_ptr_array_sort(out, rv_torrent_query_compare);
        if (ret_more != NULL)
                *ret_more = query->limit > 0 && out->len > query->limit;
        if (query->limit > 0 && out->len > query->limit)
                g_ptr_array_set_size(out, query->limit);
        return out;
}
