/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rv-engine.h"
#include "rv-health.h"

G_BEGIN_DECLS

/*
 * where Revaer keeps what must survive a restart: per torrent its own
 * metadata (a JSON document) and libtorrent's resume blob, plus small
 * daemon-wide records; writes are queued, coalesced per record and made
 * durable off the main loop; completion callbacks run on the main context
 * the store was created on
 */
typedef struct _RvStore RvStore;

typedef struct {
        RvInfoHash hash;
        /* either may be NULL when its file was missing */
        JsonNode *meta;
        GBytes *resume;
} RvStoreTorrent;

void rv_store_torrent_free(RvStoreTorrent *torrent);

typedef struct {
        /* RvStoreTorrent */
        GPtrArray *torrents;
        /* one human-readable line per record that was moved aside */
        GPtrArray *problems;
        /* the highest event id that may have been handed out before */
        guint64 event_ids_reserved;
} RvStoreSnapshot;

void rv_store_snapshot_free(RvStoreSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreSnapshot, rv_store_snapshot_free)

/* error is NULL on success */
typedef void (*RvStoreDoneFunc)(const GError *error, gpointer user_data);

RvStore *rv_store_embedded_new(const char *state_dir, RvHealth *health, GError **error);
void rv_store_free(RvStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStore, rv_store_free)

const char *rv_store_get_backend(RvStore *store);

/* the highest event id handed out before (0 for a new store); small and read once at start-up */
guint64 rv_store_read_event_reservation(RvStore *store, GError **error);

/* read everything back; corrupt records are moved aside and reported, never fatal */
void rv_store_load_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
RvStoreSnapshot *rv_store_load_finish(RvStore *store, GAsyncResult *result, GError **error);

/* meta or resume may be NULL to leave that part as it is */
void rv_store_put_torrent(RvStore *store, const RvInfoHash *hash, JsonNode *meta, GBytes *resume,
                          RvStoreDoneFunc done, gpointer user_data);
void rv_store_delete_torrent(RvStore *store, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data);
/* move a torrent's records aside after a later stage found them unusable */
void rv_store_quarantine_torrent(RvStore *store, const RvInfoHash *hash, const char *reason);
void rv_store_put_event_reservation(RvStore *store, guint64 reserved_up_to);
/* done runs once everything queued before this call is durable */
void rv_store_flush(RvStore *store, RvStoreDoneFunc done, gpointer user_data);
/* writes queued or in flight */
guint rv_store_get_pending(RvStore *store);

G_END_DECLS
