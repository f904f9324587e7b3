/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * a page of the registry: torrents in one stable order (added time, then
 * info hash: neither ever changes), filtered by state and labels, from a
 * cursor on. A cursor names a position, not an index, so a client paging
 * while torrents come and go sees every torrent that existed throughout
 * exactly once; torrents added meanwhile come last, as they are the newest.
 */

#define RV_TORRENT_QUERY_MAX_LABELS 8
#define RV_TORRENT_QUERY_MAX_CURSOR 128

typedef struct {
        /* 1 << RvTorrentState for each wanted state; 0: any */
        guint states;
        /* a torrent must carry every one; NULL: any */
        GStrv labels;
        /* only torrents after this position */
        gboolean has_after;
        gint64 after_added;
        RvInfoHash after_hash;
        /* 0: all */
        guint limit;
} RvTorrentQuery;

void rv_torrent_query_init(RvTorrentQuery *query);
void rv_torrent_query_clear(RvTorrentQuery *query);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RvTorrentQuery, rv_torrent_query_clear)

/* "downloading,seeding": InvalidArgument naming field and the unknown state */
gboolean rv_torrent_query_set_states(RvTorrentQuery *query, const char *states, const char *field, GError **error);
/* "a,b": each a valid label */
gboolean rv_torrent_query_set_labels(RvTorrentQuery *query, const char *labels, const char *field, GError **error);
/* a cursor from rv_torrent_query_cursor(); InvalidArgument naming field otherwise */
gboolean rv_torrent_query_set_cursor(RvTorrentQuery *query, const char *cursor, const char *field, GError **error);
/* the opaque position right after torrent */
char *rv_torrent_query_cursor(const RvTorrent *torrent);

gboolean rv_torrent_query_matches(const RvTorrentQuery *query, const RvTorrent *torrent);
/* borrowed RvTorrent pointers in the stable order; torrents being removed are left out; *ret_more when the limit
 * cut the page short of the end */
GPtrArray *rv_manager_query(RvManager *manager, const RvTorrentQuery *query, gboolean *ret_more);

G_END_DECLS
