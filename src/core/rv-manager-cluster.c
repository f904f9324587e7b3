/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include "rv-manager-private.h"

/*
 * what the manager does for a cluster (docs/cluster.md): the store holds the
 * lease and fences the writes; here the torrents follow. While the lease may
 * have lapsed the whole session stops; a torrent another node owns now leaves
 * the engine and the registry, its data and its stored records untouched; a
 * torrent taken over from a dead node comes in through the path a start
 * restores stored records by.
 */

static void
rv_manager_cluster_lease_cb(RvStore *store, gboolean held, const char *reason, gpointer user_data)
{
        RvManager *self = user_data;

        if (!held && !self->fenced) {
                self->fenced = TRUE;
                rv_engine_pause_session(self->engine);
                rv_manager_problem(self, "all torrents stopped on this node: %s",
                                   reason != NULL ? reason : "the lease may have run out");
        } else if (held && self->fenced) {
                self->fenced = FALSE;
                rv_engine_resume_session(self->engine);
                rv_engine_post_status(self->engine);
                g_debug("the lease of this node is held again, its torrents run");
        }
}

static void
rv_manager_cluster_lost_cb(RvStore *store, const RvInfoHash *hash, const char *owner, gpointer user_data)
{
        RvManager *self = user_data;
        RvTorrent *torrent = g_hash_table_lookup(self->torrents, hash->hex);
        g_autoptr(GError) error = NULL;

        /* an add refused the same way hears it from its write; a torrent already on its way out stays so */
        if (torrent == NULL || torrent->released)
                return;
        rv_manager_problem(self, "torrent %s ('%s') is owned by %s%s%s now: dropped on this node, its data kept",
                           hash->hex, torrent->name != NULL ? torrent->name : "", owner != NULL ? "node '" : "",
                           owner != NULL ? owner : "another node", owner != NULL ? "'" : "");
        torrent->released = TRUE;
        if (torrent->removing)
                return;
        if (torrent->in_engine && rv_engine_remove(self->engine, &torrent->hash, FALSE, &error)) {
                /* unregistered when the engine confirms, without touching the stored records */
                torrent->removing = TRUE;
                return;
        }
        if (error != NULL)
                g_debug("dropping %s from the engine: %s, ignoring", hash->hex, error->message);
        rv_manager_unregister(self, torrent);
}

/* where a taken-over torrent's data goes on this node */
static const char *
rv_manager_cluster_save_path(RvManager *self, RvStoreTorrent *record)
{
        JsonObject *meta = record->meta != NULL ? json_node_get_object(record->meta) : NULL;
        const char *path = meta != NULL && json_object_has_member(meta, "save_path")
                                   ? json_object_get_string_member(meta, "save_path")
                                   : NULL;

        /* shared storage: as recorded; fresh: as recorded where reachable, else downloaded again here */
        if (!self->takeover_fresh || path == NULL || g_file_test(path, G_FILE_TEST_IS_DIR))
                return NULL;
        return self->config.download_dir;
}

static void
rv_manager_cluster_claimed_cb(RvStore *store, GPtrArray *records_in, gpointer user_data)
{
        RvManager *self = user_data;
        g_autoptr(GPtrArray) records = records_in;
        guint restored = 0;

        for (guint i = 0; i < records->len; i++) {
                RvStoreTorrent *record = g_ptr_array_index(records, i);
                const char *save_path = rv_manager_cluster_save_path(self, record);
                g_autoptr(GError) error = NULL;
                RvTorrent *torrent;

                /* still here from before a stall, on its way out: the engine must let go first */
                if (g_hash_table_contains(self->torrents, record->hash.hex) ||
                    g_hash_table_contains(self->adding, record->hash.hex)) {
                        rv_manager_problem(self, "taken-over torrent %s is still known on this node, skipped",
                                           record->hash.hex);
                        continue;
                }
                if (!rv_manager_restore_record(self, record, save_path, &error)) {
                        rv_manager_problem(self, "taken-over torrent %s cannot be restored and was moved aside: %s",
                                           record->hash.hex, error->message);
                        rv_store_quarantine_torrent(self->store, &record->hash, error->message);
                        continue;
                }
                torrent = g_hash_table_lookup(self->torrents, record->hash.hex);
                if (save_path != NULL && torrent != NULL)
                        rv_manager_persist_meta(self, torrent);
                restored++;
        }
        if (restored > 0)
                rv_manager_problem(self, "took over %u torrents from nodes whose lease ran out", restored);
        if (self->fenced)
                rv_engine_pause_session(self->engine);
}

void
rv_manager_set_cluster(RvManager *self, gboolean takeover_fresh)
{
        static const RvStoreClusterFuncs funcs = {
                .lease = rv_manager_cluster_lease_cb,
                .lost = rv_manager_cluster_lost_cb,
                .claimed = rv_manager_cluster_claimed_cb,
        };

        self->takeover_fresh = takeover_fresh;
        rv_store_set_cluster_funcs(self->store, &funcs, self);
}
