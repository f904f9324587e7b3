/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include <string.h>

#include "rv-add-options.h"
#include "rv-command.h"
#include "rv-json.h"
#include "rv-manager-private.h"
#include "rv-torrent-fields.h"

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

        /* taken over but not restored yet: it never will be */
        for (GList *l = self->claim_queue.head; torrent == NULL && l != NULL; l = l->next) {
                RvStoreTorrent *record = l->data;
                if (g_str_equal(record->hash.hex, hash->hex)) {
                        g_queue_delete_link(&self->claim_queue, l);
                        rv_store_torrent_free(record);
                        break;
                }
        }
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

/* a slice of the main loop for restoring taken-over torrents, as for a start's load */
#define RV_MANAGER_CLAIM_SLICE_USEC 4000

static void
rv_manager_cluster_restore_one(RvManager *self, RvStoreTorrent *record)
{
        const char *save_path = rv_manager_cluster_save_path(self, record);
        g_autoptr(GError) error = NULL;
        RvTorrent *torrent;

        /* still here from before a stall, on its way out: the engine must let go first */
        if (g_hash_table_contains(self->torrents, record->hash.hex) ||
            g_hash_table_contains(self->adding, record->hash.hex)) {
                rv_manager_problem(self, "taken-over torrent %s is still known on this node, skipped",
                                   record->hash.hex);
                return;
        }
        if (!rv_manager_restore_record(self, record, save_path, &error)) {
                rv_manager_problem(self, "taken-over torrent %s cannot be restored and was moved aside: %s",
                                   record->hash.hex, error->message);
                rv_store_quarantine_torrent(self->store, &record->hash, error->message);
                return;
        }
        /* no longer another node's */
        if (g_hash_table_lookup(self->remote, record->hash.hex) != NULL) {
                g_ptr_array_remove_fast(self->remote_list, g_hash_table_lookup(self->remote, record->hash.hex));
                g_hash_table_remove(self->remote, record->hash.hex);
        }
        torrent = g_hash_table_lookup(self->torrents, record->hash.hex);
        if (save_path != NULL && torrent != NULL)
                rv_manager_persist_meta(self, torrent);
        self->claim_restored++;
}

static gboolean
rv_manager_cluster_restore_cb(gpointer user_data)
{
        RvManager *self = user_data;
        gint64 deadline = g_get_monotonic_time() + RV_MANAGER_CLAIM_SLICE_USEC;
        RvStoreTorrent *record;

        /* stopping: the rows name this node, the next start adopts them */
        if (self->stopping)
                g_queue_clear_full(&self->claim_queue, (GDestroyNotify)rv_store_torrent_free);
        while (g_get_monotonic_time() < deadline && (record = g_queue_pop_head(&self->claim_queue)) != NULL) {
                rv_manager_cluster_restore_one(self, record);
                rv_store_torrent_free(record);
        }
        if (!g_queue_is_empty(&self->claim_queue))
                return G_SOURCE_CONTINUE;
        self->claim_idle = 0;
        if (self->claim_restored > 0)
                rv_manager_problem(self, "took over %u torrents from nodes whose lease ran out", self->claim_restored);
        self->claim_restored = 0;
        if (self->fenced)
                rv_engine_pause_session(self->engine);
        return G_SOURCE_REMOVE;
}

/* a takeover's records come back into the engine a slice of the main loop at a time: replies go in between */
static void
rv_manager_cluster_claimed_cb(RvStore *store, GPtrArray *records_in, gpointer user_data)
{
        RvManager *self = user_data;
        g_autoptr(GPtrArray) records = records_in;

        for (guint i = 0; i < records->len; i++)
                g_queue_push_tail(&self->claim_queue, g_ptr_array_index(records, i));
        g_ptr_array_set_free_func(records, NULL);
        if (self->claim_idle == 0 && !g_queue_is_empty(&self->claim_queue))
                self->claim_idle = g_idle_add(rv_manager_cluster_restore_cb, self);
}

/*
 * one view of the cluster: every period (a third of the lease) this node
 * publishes a summary of each of its torrents that changed, and reads what
 * the other nodes published; their torrents are listed with their node
 */

static void
rv_manager_cluster_publish(RvManager *self)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonNode) statuses = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key;
        guint n = 0;

        json_builder_begin_object(builder);
        for (guint i = 0; i < self->order->len; i++) {
                RvTorrent *t = g_ptr_array_index(self->order, i);
                g_autoptr(JsonNode) status = NULL;
                g_autofree char *text = NULL;
                guint digest;
                if (t->released || t->removing)
                        continue;
                status = rv_torrent_status_to_json(t);
                text = json_to_string(status, FALSE);
                digest = g_str_hash(text);
                g_hash_table_add(seen, t->hash.hex);
                if (g_hash_table_contains(self->published, t->hash.hex) &&
                    GPOINTER_TO_UINT(g_hash_table_lookup(self->published, t->hash.hex)) == digest)
                        continue;
                g_hash_table_replace(self->published, g_strdup(t->hash.hex), GUINT_TO_POINTER(digest));
                json_builder_set_member_name(builder, t->hash.hex);
                json_builder_add_value(builder, g_steal_pointer(&status));
                n++;
        }
        json_builder_end_object(builder);
        /* gone from here: published again should they come back */
        g_hash_table_iter_init(&iter, self->published);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                if (!g_hash_table_contains(seen, key))
                        g_hash_table_iter_remove(&iter);
        }
        if (n == 0)
                return;
        statuses = json_builder_get_root(builder);
        rv_store_put_status(self->store, statuses);
}

/* TRUE when an answer from node says the command ran; else FALSE with its error, named as the owner named it */
static gboolean
rv_manager_answer_error(JsonObject *obj, const char *node, GError **error)
{
        JsonNode *member = json_object_get_member(obj, "error");
        JsonNode *message = json_object_get_member(obj, "message");
        RvError code;

        if (member == NULL)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(member) || json_node_get_value_type(member) != G_TYPE_STRING) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "node '%s' answered something else", node);
                return FALSE;
        }
        code = rv_error_from_string(json_node_get_string(member));
        g_set_error(error, RV_ERROR, code == RV_ERROR_LAST ? RV_ERROR_INTERNAL : code, "node '%s': %s", node,
                    message != NULL && JSON_NODE_HOLDS_VALUE(message) &&
                                    json_node_get_value_type(message) == G_TYPE_STRING
                            ? json_node_get_string(message)
                            : "the command failed");
        return FALSE;
}

/* another node's torrent, listed here from what its owner stored and published */
static void
rv_manager_remote_put(RvManager *self, const RvStoreClusterTorrent *row)
{
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_torrent_new(&row->hash);
        RvTorrent *old = g_hash_table_lookup(self->remote, row->hash.hex);

        if (row->meta != NULL && !rv_torrent_meta_from_json(t, row->meta, &error))
                g_debug("torrent %s of node '%s': %s", row->hash.hex, row->node_id, error->message);
        /* listed by the owner, not published yet */
        t->state = RV_TORRENT_STATE_LOADING;
        rv_torrent_status_from_json(t, row->status);
        t->node = g_strdup(row->node_id);
        if (!row->node_alive) {
                g_free(t->error);
                t->error = g_strdup_printf("node '%s' holds no lease: its torrents go to other nodes", row->node_id);
        }
        if (old != NULL)
                g_ptr_array_remove_fast(self->remote_list, old);
        g_hash_table_replace(self->remote, t->hash.hex, t);
        g_ptr_array_add(self->remote_list, t);
}

static guint
rv_manager_remote_digest(const RvStoreClusterTorrent *row)
{
        g_autofree char *status = row->status != NULL ? json_to_string(row->status, FALSE) : NULL;
        g_autofree char *meta = row->meta != NULL ? json_to_string(row->meta, FALSE) : NULL;
        g_autofree char *text = g_strdup_printf("%s\n%d\n%s\n%s", row->node_id, row->node_alive,
                                                status != NULL ? status : "", meta != NULL ? meta : "");

        return g_str_hash(text);
}

/*
 * what the other nodes changed since the last read, as one event on the
 * bus: the event stream's clients and the qBittorrent facade's
 * sync/maindata follow the cluster with it
 */
static void
rv_manager_cluster_announce(RvManager *self, GPtrArray *rows)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        JsonArray *changed = json_array_new();
        JsonArray *removed = json_array_new();
        JsonObject *data;
        GHashTableIter iter;
        gpointer key;

        for (guint i = 0; i < rows->len; i++) {
                RvStoreClusterTorrent *row = g_ptr_array_index(rows, i);
                gpointer old = NULL;
                guint digest;
                if (!g_hash_table_contains(self->remote, row->hash.hex))
                        continue;
                digest = rv_manager_remote_digest(row);
                g_hash_table_add(seen, row->hash.hex);
                if (g_hash_table_lookup_extended(self->remote_digest, row->hash.hex, NULL, &old) &&
                    GPOINTER_TO_UINT(old) == digest)
                        continue;
                g_hash_table_replace(self->remote_digest, g_strdup(row->hash.hex), GUINT_TO_POINTER(digest));
                json_array_add_string_element(changed, row->hash.hex);
        }
        g_hash_table_iter_init(&iter, self->remote_digest);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                if (g_hash_table_contains(seen, key))
                        continue;
                /* taken over by this node is not gone: its own events say so */
                if (!g_hash_table_contains(self->torrents, key))
                        json_array_add_string_element(removed, key);
                g_hash_table_iter_remove(&iter);
        }
        if (json_array_get_length(changed) == 0 && json_array_get_length(removed) == 0) {
                json_array_unref(changed);
                json_array_unref(removed);
                return;
        }
        data = json_object_new();
        json_object_set_array_member(data, "changed", changed);
        json_object_set_array_member(data, "removed", removed);
        rv_event_bus_publish(self->events, RV_EVENT_CLUSTER_CHANGED, NULL, rv_json_node_take_object(data));
}

static void
rv_manager_cluster_listed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvManager) self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreClusterView) view = rv_store_list_cluster_finish(self->store, result, &error);

        self->cluster_refreshing = FALSE;
        if (view == NULL) {
                /* the view stays as it was; the store's health says why */
                g_debug("listing the other nodes' torrents: %s", error->message);
                return;
        }
        g_ptr_array_set_size(self->remote_list, 0);
        g_hash_table_remove_all(self->remote);
        for (guint i = 0; i < view->torrents->len; i++) {
                RvStoreClusterTorrent *row = g_ptr_array_index(view->torrents, i);
                /* just taken over, or listed twice */
                if (!g_hash_table_contains(self->torrents, row->hash.hex) &&
                    !g_hash_table_contains(self->remote, row->hash.hex))
                        rv_manager_remote_put(self, row);
        }
        g_strfreev(self->live_nodes);
        self->live_nodes = g_steal_pointer(&view->live_nodes);
        rv_manager_cluster_announce(self, view->torrents);
}

/*
 * placement (docs/cluster.md): an add over HTTP with a pinned label goes to
 * that label's node; else, with placement=least-loaded, to the live node with
 * the fewest active (not paused) torrents, then the fewest torrents, then the
 * first by id; else here. NULL: here
 */
static const char *
rv_manager_place(RvManager *self, const RvAddRequest *request)
{
        const char *me = rv_store_get_node_id(self->store);
        g_autoptr(GHashTable) active = NULL;
        g_autoptr(GHashTable) total = NULL;
        const char *best = me;

        for (guint i = 0; request->labels != NULL && request->labels[i] != NULL; i++) {
                const char *node = g_hash_table_lookup(self->pins, request->labels[i]);
                if (node != NULL)
                        return g_str_equal(node, me) ? NULL : node;
        }
        if (!self->least_loaded)
                return NULL;
        active = g_hash_table_new(g_str_hash, g_str_equal);
        total = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < self->order->len + self->remote_list->len; i++) {
                RvTorrent *t = i < self->order->len ? g_ptr_array_index(self->order, i)
                                                    : g_ptr_array_index(self->remote_list, i - self->order->len);
                const char *node = t->node != NULL ? t->node : me;
                g_hash_table_insert(total, (gpointer)node,
                                    GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(total, node)) + 1));
                if (!t->user_paused)
                        g_hash_table_insert(active, (gpointer)node,
                                            GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(active, node)) + 1));
        }
        for (guint i = 0; self->live_nodes != NULL && self->live_nodes[i] != NULL; i++) {
                const char *node = self->live_nodes[i];
                guint a = GPOINTER_TO_UINT(g_hash_table_lookup(active, node));
                guint b = GPOINTER_TO_UINT(g_hash_table_lookup(active, best));
                guint ta = GPOINTER_TO_UINT(g_hash_table_lookup(total, node));
                guint tb = GPOINTER_TO_UINT(g_hash_table_lookup(total, best));
                if (a < b || (a == b && (ta < tb || (ta == tb && strcmp(node, best) < 0))))
                        best = node;
        }
        return best == me ? NULL : best;
}

static void
rv_manager_placed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvManager *self = g_task_get_source_object(task);
        const RvInfoHash *hash = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) answer = rv_store_send_command_finish(self->store, result, &error);
        RvStoreClusterTorrent row = { .hash = *hash, .node_alive = TRUE };
        JsonObject *obj = answer != NULL && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;

        if (answer == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (obj == NULL || !rv_manager_answer_error(obj, g_object_get_data(G_OBJECT(task), "node"), &error)) {
                g_task_return_error(task, error != NULL
                                                  ? g_steal_pointer(&error)
                                                  : g_error_new_literal(RV_ERROR, RV_ERROR_INTERNAL,
                                                                        "the other node answered something else"));
                return;
        }
        /* listed at once, as the owner sees it; the next refresh reads it from the store */
        row.node_id = g_object_get_data(G_OBJECT(task), "node");
        row.meta = json_object_get_member(obj, "meta");
        row.status = json_object_get_member(obj, "status");
        rv_manager_remote_put(self, &row);
        g_task_return_boolean(task, TRUE);
}

gboolean
rv_manager_place_elsewhere(RvManager *self, const RvAddRequest *request, const RvInfoHash *hash, GTask *task)
{
        g_autoptr(JsonNode) body = NULL;
        const char *node;

        if (!request->placeable || self->cluster_timer == 0 || (node = rv_manager_place(self, request)) == NULL)
                return FALSE;
        body = rv_add_request_to_json(request);
        json_object_set_string_member(json_node_get_object(body), "op", "add");
        g_task_set_task_data(task, g_memdup2(hash, sizeof(RvInfoHash)), g_free);
        g_object_set_data_full(G_OBJECT(task), "node", g_strdup(node), g_free);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_NODE", node, "REVAER_INFO_HASH", hash->hex, "MESSAGE",
                         "torrent %s goes to node '%s' by the placement rule", hash->hex, node);
        rv_store_send_command_async(self->store, node, body, self->command_timeout_ms, NULL, rv_manager_placed_cb,
                                    g_object_ref(task));
        return TRUE;
}

static gboolean
rv_manager_cluster_tick_cb(gpointer user_data)
{
        RvManager *self = user_data;

        rv_manager_cluster_publish(self);
        if (!self->cluster_refreshing) {
                self->cluster_refreshing = TRUE;
                rv_store_list_cluster_async(self->store, NULL, rv_manager_cluster_listed_cb, g_object_ref(self));
        }
        return G_SOURCE_CONTINUE;
}

const char *
rv_manager_get_node_id(RvManager *self)
{
        return rv_store_get_node_id(self->store);
}

GPtrArray *
rv_manager_list_remote(RvManager *self)
{
        return self->remote_list;
}

RvTorrent *
rv_manager_lookup_listed(RvManager *self, const RvInfoHash *hash)
{
        RvTorrent *t = g_hash_table_lookup(self->torrents, hash->hex);

        return t != NULL ? t : g_hash_table_lookup(self->remote, hash->hex);
}

/* commands between nodes: this node runs what another node carried here */

static void
rv_manager_answer(RvStore *store, guint64 id, const GError *error, RvTorrent *t)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;

        json_builder_begin_object(builder);
        if (error != NULL) {
                json_builder_set_member_name(builder, "error");
                json_builder_add_string_value(
                        builder,
                        rv_error_to_string(error->domain == RV_ERROR ? (RvError)error->code : RV_ERROR_INTERNAL));
                json_builder_set_member_name(builder, "message");
                json_builder_add_string_value(builder, error->message);
        } else {
                json_builder_set_member_name(builder, "ok");
                json_builder_add_boolean_value(builder, TRUE);
        }
        /* the torrent as this node sees it now: for a reply, and for the sender's list */
        if (error == NULL && t != NULL && !t->removing) {
                json_builder_set_member_name(builder, "torrent");
                json_builder_add_value(builder, rv_torrent_fields_snapshot(t, G_MAXUINT));
                json_builder_set_member_name(builder, "meta");
                json_builder_add_value(builder, rv_torrent_meta_to_json(t));
                json_builder_set_member_name(builder, "status");
                json_builder_add_value(builder, rv_torrent_status_to_json(t));
        }
        json_builder_end_object(builder);
        answer = json_builder_get_root(builder);
        rv_store_answer_command(store, id, answer);
}

static gboolean
rv_manager_cluster_is_add(JsonNode *body)
{
        JsonNode *op = JSON_NODE_HOLDS_OBJECT(body) ? json_object_get_member(json_node_get_object(body), "op") : NULL;

        return op != NULL && JSON_NODE_HOLDS_VALUE(op) && json_node_get_value_type(op) == G_TYPE_STRING &&
               g_str_equal(json_node_get_string(op), "add");
}

typedef struct {
        RvManager *self;
        RvStoreCommand *in;
        RvAddOptions *options;
} RvClusterAdd;

static void
rv_cluster_add_free(RvClusterAdd *add)
{
        g_object_unref(add->self);
        rv_store_command_free(add->in);
        rv_add_options_free(add->options);
        g_free(add);
}

static void
rv_manager_cluster_added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvClusterAdd *add = user_data;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_manager_add_finish(add->self, result, &error);

        g_log_structured(G_LOG_DOMAIN, error != NULL ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO, "REVAER_NODE",
                         add->in->from_node, "MESSAGE", "add placed here by node '%s'%s%s", add->in->from_node,
                         error != NULL ? ": " : "", error != NULL ? error->message : "");
        rv_manager_answer(add->self->store, add->in->id, error, t);
        rv_cluster_add_free(add);
}

/* an add another node placed here: the same checks and the same durable add as this node's own */
static void
rv_manager_cluster_add(RvManager *self, RvStoreCommand *in)
{
        static const char *const skip[] = { "op", "magnet", "torrent", "share_limits", NULL };
        RvClusterAdd *add = g_new0(RvClusterAdd, 1);
        JsonObject *obj = json_node_get_object(in->body);
        g_autoptr(GError) error = NULL;
        const RvAddRequest *request = NULL;
        JsonNode *member;

        add->self = g_object_ref(self);
        add->in = in;
        add->options = rv_add_options_new();
        member = json_object_get_member(obj, "magnet");
        if (member != NULL && JSON_NODE_HOLDS_VALUE(member) && json_node_get_value_type(member) == G_TYPE_STRING)
                rv_add_options_set_magnet(add->options, json_node_get_string(member));
        member = json_object_get_member(obj, "torrent");
        if (member != NULL && JSON_NODE_HOLDS_VALUE(member) && json_node_get_value_type(member) == G_TYPE_STRING) {
                gsize len = 0;
                guchar *data = g_base64_decode(json_node_get_string(member), &len);
                g_autoptr(GBytes) bytes = g_bytes_new_take(data, len);
                rv_add_options_set_torrent(add->options, bytes);
        }
        member = json_object_get_member(obj, "share_limits");
        if (member != NULL && JSON_NODE_HOLDS_OBJECT(member)) {
                JsonObject *limits = json_node_get_object(member);
                JsonNode *ratio = json_object_get_member(limits, "ratio");
                JsonNode *minutes = json_object_get_member(limits, "minutes");
                JsonNode *inactive = json_object_get_member(limits, "inactive_minutes");
                rv_add_options_set_share_limits(
                        add->options, ratio != NULL && JSON_NODE_HOLDS_VALUE(ratio) ? json_node_get_double(ratio) : -2,
                        minutes != NULL && JSON_NODE_HOLDS_VALUE(minutes) ? json_node_get_int(minutes) : -2,
                        inactive != NULL && JSON_NODE_HOLDS_VALUE(inactive) ? json_node_get_int(inactive) : -2);
        }
        if (rv_add_options_set_json_object(add->options, obj, skip, "", &error))
                request = rv_add_options_get_request(add->options, &error);
        if (request == NULL) {
                rv_manager_answer(self->store, in->id, error, NULL);
                rv_cluster_add_free(add);
                return;
        }
        rv_manager_add_async(self, request, rv_manager_cluster_added_cb, add);
}

static void
rv_manager_cluster_command_cb(RvStore *store, RvStoreCommand *in_arg, gpointer user_data)
{
        RvManager *self = user_data;
        g_autoptr(RvStoreCommand) in = in_arg;
        g_autoptr(RvCommand) command = NULL;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = NULL;

        if (in->body != NULL && rv_manager_cluster_is_add(in->body)) {
                rv_manager_cluster_add(self, g_steal_pointer(&in));
                return;
        }
        if (in->body == NULL)
                g_set_error_literal(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "command: not JSON");
        else
                command = rv_command_from_json(in->body, &error);
        if (command != NULL) {
                t = rv_manager_lookup(self, &command->hash);
                if (t == NULL || t->removing || t->released)
                        g_set_error(&error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is not on node '%s' any more",
                                    command->hash.hex, rv_store_get_node_id(self->store));
                else if (rv_command_validate(command, t, &error) && rv_command_run(self, command, &error))
                        rv_event_bus_flush_torrent(self->events, &command->hash);
        }
        g_log_structured(G_LOG_DOMAIN, error != NULL ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO, "REVAER_NODE",
                         in->from_node, "REVAER_INFO_HASH", command != NULL ? command->hash.hex : "", "MESSAGE",
                         "command %s from node '%s'%s%s", command != NULL ? rv_op_to_string(command->op) : "?",
                         in->from_node, error != NULL ? ": " : "", error != NULL ? error->message : "");
        rv_manager_answer(store, in->id, error, command != NULL ? rv_manager_lookup(self, &command->hash) : NULL);
}

typedef struct {
        char *node;
        RvInfoHash hash;
} RvForward;

static void
rv_forward_free(RvForward *fwd)
{
        g_free(fwd->node);
        g_free(fwd);
}

static void
rv_manager_forward_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvManager *self = g_task_get_source_object(task);
        RvForward *fwd = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) answer = rv_store_send_command_finish(self->store, result, &error);
        JsonObject *obj;
        JsonNode *member;

        if (answer == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        obj = JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;
        if (obj == NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_INTERNAL, "node '%s' answered something else",
                                        fwd->node);
                return;
        }
        if (!rv_manager_answer_error(obj, fwd->node, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        member = json_object_get_member(obj, "torrent");
        g_task_return_pointer(task, member != NULL && JSON_NODE_HOLDS_OBJECT(member) ? json_node_copy(member) : NULL,
                              (GDestroyNotify)json_node_unref);
}

void
rv_command_forward_async(RvManager *manager, const RvCommand *command, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(manager, NULL, callback, user_data);
        RvTorrent *t = g_hash_table_lookup(manager->remote, command->hash.hex);
        g_autoptr(JsonNode) body = NULL;
        RvForward *fwd;

        if (t == NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_NOT_FOUND, "no torrent %s", command->hash.hex);
                g_object_unref(task);
                return;
        }
        fwd = g_new0(RvForward, 1);
        fwd->node = g_strdup(t->node);
        fwd->hash = command->hash;
        g_task_set_task_data(task, fwd, (GDestroyNotify)rv_forward_free);
        body = rv_command_to_json(command);
        rv_store_send_command_async(manager->store, t->node, body, manager->command_timeout_ms, NULL,
                                    rv_manager_forward_cb, task);
}

JsonNode *
rv_command_forward_finish(RvManager *manager, GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

void
rv_manager_cluster_clear(RvManager *self)
{
        if (self->cluster_timer != 0)
                g_source_remove(self->cluster_timer);
        self->cluster_timer = 0;
        if (self->claim_idle != 0)
                g_source_remove(self->claim_idle);
        self->claim_idle = 0;
        g_queue_clear_full(&self->claim_queue, (GDestroyNotify)rv_store_torrent_free);
}

void
rv_manager_set_cluster(RvManager *self, const RvManagerCluster *cluster)
{
        static const RvStoreClusterFuncs funcs = {
                .lease = rv_manager_cluster_lease_cb,
                .lost = rv_manager_cluster_lost_cb,
                .claimed = rv_manager_cluster_claimed_cb,
                .command = rv_manager_cluster_command_cb,
        };
        guint lease_ms = rv_store_get_lease(self->store) * 1000;

        self->takeover_fresh = cluster->takeover_fresh;
        self->least_loaded = cluster->least_loaded;
        g_hash_table_remove_all(self->pins);
        for (guint i = 0; cluster->pins != NULL && cluster->pins[i] != NULL && cluster->pins[i + 1] != NULL; i += 2)
                g_hash_table_replace(self->pins, g_strdup(cluster->pins[i]), g_strdup(cluster->pins[i + 1]));
        rv_store_set_cluster_funcs(self->store, &funcs, self);
        self->command_timeout_ms = cluster->command_timeout_ms;
        if (lease_ms > 0 && self->cluster_timer == 0)
                self->cluster_timer = g_timeout_add(MAX(lease_ms / 3, 500), rv_manager_cluster_tick_cb, self);
}
