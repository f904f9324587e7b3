/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <glib/gstdio.h>

#include "rv-json.h"
#include "rv-store.h"
#include "rv-test-data.h"
#include "rv-test-pg.h"

/*
 * one suite of behaviour tests, written against rv-store.h only, run against
 * every backend: the embedded store in a temporary directory
 * (/store/conformance/embedded/...) and PostgreSQL in a throwaway cluster this
 * test starts itself through tests/data/pg-cluster.sh, one fresh database per
 * test (/store/conformance/postgres/...); a few tests that only make sense for
 * a server follow at the end
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvStoreApiKey, rv_store_api_key_free)

typedef struct _Backend Backend;

typedef struct {
        const Backend *backend;
        /* embedded: the state directory */
        char *dir;
        /* postgres: this test's own database */
        char *conninfo;
        RvHealth *health;
        RvStore *store;
        gboolean skipped;
} Fixture;

struct _Backend {
        const char *name;
        /* FALSE to skip (the backend cannot run here) */
        gboolean (*setup)(Fixture *f);
        RvStore *(*new_store)(Fixture *f, const char *node_id, RvHealth *health, GError **error);
        /* someone else changes the settings; returns the revision they become */
        guint64 (*change_settings_elsewhere)(Fixture *f, JsonNode *document);
        void (*teardown)(Fixture *f);
};

typedef void (*TestFunc)(Fixture *f);

typedef struct {
        const Backend *backend;
        TestFunc func;
        /* the test opens its stores itself */
        gboolean no_store;
} TestCase;

/* waiting on the main loop */

static gboolean
tick_cb(gpointer user_data)
{
        return G_SOURCE_CONTINUE;
}

#define ITERATE_UNTIL(cond)                                                      \
        G_STMT_START                                                             \
        {                                                                        \
                gint64 deadline_ = g_get_monotonic_time() + 20 * G_USEC_PER_SEC; \
                while (!(cond) && g_get_monotonic_time() < deadline_)            \
                        g_main_context_iteration(NULL, TRUE);                    \
                g_assert_true(cond);                                             \
        }                                                                        \
        G_STMT_END

static void
iterate_for(guint ms)
{
        gint64 until = g_get_monotonic_time() + ms * 1000;

        while (g_get_monotonic_time() < until)
                g_main_context_iteration(NULL, TRUE);
}

static void
result_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GAsyncResult **ret = user_data;

        *ret = g_object_ref(result);
}

typedef struct {
        guint calls;
        GError *error;
        /* flush ordering: names appended as callbacks run */
        GPtrArray *log;
        const char *name;
} Done;

static void
done_cb(const GError *error, gpointer user_data)
{
        Done *d = user_data;

        d->calls++;
        if (error != NULL && d->error == NULL)
                d->error = g_error_copy(error);
        if (d->log != NULL)
                g_ptr_array_add(d->log, (gpointer)d->name);
}

static void
done_clear(Done *d)
{
        g_clear_error(&d->error);
        d->calls = 0;
}

static gboolean
store_open(RvStore *store, GError **error)
{
        g_autoptr(GAsyncResult) result = NULL;

        rv_store_open_async(store, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        return rv_store_open_finish(store, result, error);
}

static void
store_flush(RvStore *store)
{
        Done d = { 0 };

        rv_store_flush(store, done_cb, &d);
        ITERATE_UNTIL(d.calls == 1);
        g_assert_no_error(d.error);
}

static RvStoreSnapshot *
store_load(RvStore *store)
{
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) error = NULL;
        RvStoreSnapshot *snapshot;

        rv_store_load_async(store, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        snapshot = rv_store_load_finish(store, result, &error);
        g_assert_no_error(error);
        return snapshot;
}

static RvStoreSettings *
store_load_settings(RvStore *store, GError **error)
{
        g_autoptr(GAsyncResult) result = NULL;

        rv_store_load_settings_async(store, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        return rv_store_load_settings_finish(store, result, error);
}

static guint64
store_save(RvStore *store, guint64 expected, JsonNode *document, const char *actor, const char *reason,
           JsonNode *changes, GError **error)
{
        g_autoptr(GAsyncResult) result = NULL;
        RvStoreHistoryEntry entry = { 0 };

        entry.actor = (char *)actor;
        entry.reason = (char *)reason;
        entry.changes = changes;
        rv_store_save_settings_async(store, expected, document, &entry, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        return rv_store_save_settings_finish(store, result, error);
}

static GPtrArray *
store_history(RvStore *store, guint limit)
{
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *out;

        rv_store_list_history_async(store, limit, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        out = rv_store_list_history_finish(store, result, &error);
        g_assert_no_error(error);
        return out;
}

static GPtrArray *
store_keys(RvStore *store)
{
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *out;

        rv_store_list_api_keys_async(store, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        out = rv_store_list_api_keys_finish(store, result, &error);
        g_assert_no_error(error);
        return out;
}

static gboolean
store_take_token(RvStore *store, const char *hash, gint64 now)
{
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) error = NULL;
        gboolean taken;

        rv_store_take_setup_token_async(store, hash, now, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        taken = rv_store_take_setup_token_finish(store, result, &error);
        g_assert_no_error(error);
        return taken;
}

static GPtrArray *
store_nodes(RvStore *store)
{
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *out;

        rv_store_list_nodes_async(store, NULL, result_cb, &result);
        ITERATE_UNTIL(result != NULL);
        out = rv_store_list_nodes_finish(store, result, &error);
        g_assert_no_error(error);
        return out;
}

static RvStore *
open_store(Fixture *f, const char *node_id, RvHealth *health)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStore) store = f->backend->new_store(f, node_id, health, &error);

        g_assert_no_error(error);
        g_assert_nonnull(store);
        g_assert_true(store_open(store, &error));
        g_assert_no_error(error);
        return g_steal_pointer(&store);
}

/* records */

static RvInfoHash
hash_of(char c)
{
        RvInfoHash hash;

        memset(hash.hex, c, RV_INFO_HASH_HEX_LEN);
        hash.hex[RV_INFO_HASH_HEX_LEN] = '\0';
        return hash;
}

static RvInfoHash
hash_of_number(guint n)
{
        RvInfoHash hash;

        g_snprintf(hash.hex, sizeof(hash.hex), "%040x", n);
        return hash;
}

static JsonNode *
json(const char *text)
{
        g_autoptr(GError) error = NULL;
        JsonNode *node = json_from_string(text, &error);

        g_assert_no_error(error);
        return node;
}

static JsonNode *
meta_with(const char *name)
{
        g_autofree char *text = g_strdup_printf("{\"name\": \"%s\", \"labels\": [\"a\", \"b\"]}", name);

        return json(text);
}

static const char *
meta_name(const RvStoreTorrent *t)
{
        g_assert_nonnull(t->meta);
        return json_object_get_string_member(json_node_get_object(t->meta), "name");
}

static const RvStoreTorrent *
find_torrent(RvStoreSnapshot *snapshot, const RvInfoHash *hash)
{
        for (guint i = 0; i < snapshot->torrents->len; i++) {
                const RvStoreTorrent *t = g_ptr_array_index(snapshot->torrents, i);
                if (rv_info_hash_equal(&t->hash, hash))
                        return t;
        }
        return NULL;
}

/* one that must be there */
static const RvStoreTorrent *
get_torrent(RvStoreSnapshot *snapshot, const RvInfoHash *hash)
{
        const RvStoreTorrent *t = find_torrent(snapshot, hash);

        if (t == NULL)
                g_error("torrent %s is not in the snapshot", hash->hex);
        return t;
}

static JsonNode *
settings_doc(const char *name)
{
        g_autofree char *text = g_strdup_printf(
                "{\"app\": {\"instance_name\": \"%s\"}, \"engine\": {\"dht\": false}, \"fs\": {}}", name);

        return json(text);
}

/* the embedded backend */

static gboolean
embedded_setup(Fixture *f)
{
        f->dir = g_dir_make_tmp("rv-test-conformance-XXXXXX", NULL);
        g_assert_nonnull(f->dir);
        return TRUE;
}

static RvStore *
embedded_new_store(Fixture *f, const char *node_id, RvHealth *health, GError **error)
{
        return rv_store_embedded_new(f->dir, health, error);
}

/* an operator edits settings.json by hand */
static guint64
embedded_change_settings_elsewhere(Fixture *f, JsonNode *document)
{
        g_autofree char *path = g_build_filename(f->dir, "settings.json", NULL);
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        guint64 revision = 0;
        JsonObject *obj;

        if (g_file_get_contents(path, &text, NULL, NULL)) {
                g_autoptr(JsonNode) old = json(text);
                revision = (guint64)json_object_get_int_member(json_node_get_object(old), "revision");
                g_clear_pointer(&text, g_free);
        }
        obj = json_object_new();
        json_object_set_int_member(obj, "revision", (gint64)revision + 1);
        json_object_set_member(obj, "document", json_node_copy(document));
        root = rv_json_node_take_object(obj);
        text = json_to_string(root, TRUE);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        return revision + 1;
}

static void
embedded_teardown(Fixture *f)
{
        if (f->dir != NULL)
                rv_test_data_remove_tree(f->dir);
}

static const Backend embedded_backend = {
        "embedded", embedded_setup, embedded_new_store, embedded_change_settings_elsewhere, embedded_teardown,
};

/* the postgres backend: one cluster per run, one database per test */

static struct {
        gboolean tried;
        gboolean available;
        gboolean failed;
        RvTestPgCluster pg;
        guint n_databases;
} cluster;

static gboolean
cluster_ensure(void)
{
        int status;

        if (cluster.tried)
                return cluster.available;
        cluster.tried = TRUE;
        status = rv_test_pg_start(&cluster.pg);
        /* 77: no PostgreSQL here, skip; anything else fails the tests */
        cluster.failed = status != 0 && status != 77;
        cluster.available = status == 0;
        return cluster.available;
}

static char *
pg_value(Fixture *f, const char *sql)
{
        return rv_test_pg_value(f->conninfo, sql);
}

static gboolean
postgres_setup(Fixture *f)
{
        g_autofree char *admin = NULL;
        g_autofree char *dbname = NULL;
        g_autofree char *sql = NULL;

        if (!cluster_ensure()) {
                if (cluster.failed)
                        g_test_fail_printf("cannot start the PostgreSQL test cluster");
                else
                        g_test_skip("no PostgreSQL server here (needs root and /usr/lib/postgresql/*/bin)");
                return FALSE;
        }
        admin = rv_test_pg_conninfo(&cluster.pg, "postgres");
        dbname = g_strdup_printf("t%u", ++cluster.n_databases);
        sql = g_strdup_printf("CREATE DATABASE %s", dbname);
        PQclear(rv_test_pg_exec(admin, sql));
        f->conninfo = rv_test_pg_conninfo(&cluster.pg, dbname);
        return TRUE;
}

static RvStore *
postgres_new_store(Fixture *f, const char *node_id, RvHealth *health, GError **error)
{
        return rv_store_postgres_new(f->conninfo, node_id, health, error);
}

/* another node saves */
static guint64
postgres_change_settings_elsewhere(Fixture *f, JsonNode *document)
{
        g_autoptr(RvStore) other = open_store(f, "node-elsewhere", NULL);
        g_autoptr(RvStoreSettings) current = store_load_settings(other, NULL);
        g_autoptr(GError) error = NULL;
        guint64 revision;

        g_assert_nonnull(current);
        revision = store_save(other, current->revision, document, "node:elsewhere", "test", NULL, &error);
        g_assert_no_error(error);
        return revision;
}

static void
postgres_teardown(Fixture *f)
{
}

static const Backend postgres_backend = {
        "postgres", postgres_setup, postgres_new_store, postgres_change_settings_elsewhere, postgres_teardown,
};

/* fixture */

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const TestCase *tc = data;

        f->backend = tc->backend;
        f->health = rv_health_new();
        if (!f->backend->setup(f)) {
                f->skipped = TRUE;
                return;
        }
        if (!tc->no_store)
                f->store = open_store(f, "node-a", f->health);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->store, rv_store_free);
        if (!f->skipped)
                f->backend->teardown(f);
        /* what the stores left for the loop (completions of GTasks) */
        while (g_main_context_iteration(NULL, FALSE))
                ;
        rv_health_free(f->health);
        g_free(f->dir);
        g_free(f->conninfo);
}

static void
test_run(Fixture *f, gconstpointer data)
{
        const TestCase *tc = data;

        if (f->skipped)
                return;
        tc->func(f);
}

/* torrents */

static void
test_torrent_round_trip(Fixture *f)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        RvInfoHash c = hash_of('c');
        g_autoptr(JsonNode) meta_a = meta_with("meta only");
        g_autoptr(JsonNode) meta_c = meta_with("both");
        g_autoptr(JsonNode) meta_c2 = meta_with("both, renamed");
        g_autoptr(GBytes) resume_b = g_bytes_new_static("d4:spame", 8);
        g_autoptr(GBytes) resume_c = g_bytes_new_static("d3:cow3:mooe\0binary", 20);
        g_autoptr(GBytes) resume_a = g_bytes_new_static("de", 2);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(RvStoreSnapshot) again = NULL;
        g_autoptr(RvStore) reopened = NULL;
        const RvStoreTorrent *t;
        Done d = { 0 };

        rv_store_put_torrent(f->store, &a, meta_a, NULL, done_cb, &d);
        rv_store_put_torrent(f->store, &b, NULL, resume_b, done_cb, &d);
        rv_store_put_torrent(f->store, &c, meta_c, resume_c, done_cb, &d);
        store_flush(f->store);
        g_assert_cmpuint(d.calls, ==, 3);
        g_assert_no_error(d.error);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);
        {
                /* each write was timed, for the metrics */
                RvStoreWriteStats stats;
                rv_store_get_write_stats(f->store, &stats);
                g_assert_cmpuint(stats.count, ==, 3);
                g_assert_cmpuint(stats.failed, ==, 0);
                g_assert_cmpuint(stats.buckets[RV_STORE_WRITE_BUCKETS - 1], <=, 3);
                g_assert_cmpuint(stats.sum_us, >=, stats.max_us);
        }

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 3);
        /* resume data without metadata comes back, reported as incomplete */
        g_assert_cmpuint(snapshot->problems->len, ==, 1);
        g_assert_nonnull(strstr(g_ptr_array_index(snapshot->problems, 0), b.hex));
        g_assert_nonnull(strstr(g_ptr_array_index(snapshot->problems, 0), "missing"));
        /* and what there was is copied aside, for a human */
        store_flush(f->store);
        if (f->conninfo != NULL) {
                g_autofree char *sql = g_strdup_printf(
                        "SELECT count(*) FROM torrents_quarantine WHERE info_hash = '%s' AND resume IS NOT NULL",
                        b.hex);
                g_autofree char *copies = pg_value(f, sql);
                g_assert_cmpstr(copies, ==, "1");
        } else {
                g_autofree char *corrupt = g_build_filename(f->dir, "corrupt", NULL);
                g_autoptr(GDir) dir = g_dir_open(corrupt, 0, NULL);
                g_assert_nonnull(dir);
                g_assert_true(g_str_has_prefix(g_dir_read_name(dir), b.hex));
        }
        t = get_torrent(snapshot, &a);
        g_assert_nonnull(t);
        g_assert_cmpstr(meta_name(t), ==, "meta only");
        g_assert_null(t->resume);
        t = get_torrent(snapshot, &b);
        g_assert_nonnull(t);
        g_assert_null(t->meta);
        g_assert_true(g_bytes_equal(t->resume, resume_b));
        t = get_torrent(snapshot, &c);
        g_assert_nonnull(t);
        g_assert_true(json_node_equal(t->meta, meta_c));
        g_assert_true(g_bytes_equal(t->resume, resume_c));

        /* NULL leaves the other part as it is */
        rv_store_put_torrent(f->store, &a, NULL, resume_a, done_cb, &d);
        rv_store_put_torrent(f->store, &c, meta_c2, NULL, done_cb, &d);
        store_flush(f->store);
        g_assert_cmpuint(d.calls, ==, 5);

        /* what another instance reads back is on disk or in the database, not in a cache */
        reopened = open_store(f, "node-a", NULL);
        again = store_load(reopened);
        g_assert_cmpuint(again->torrents->len, ==, 3);
        t = get_torrent(again, &a);
        g_assert_cmpstr(meta_name(t), ==, "meta only");
        g_assert_true(g_bytes_equal(t->resume, resume_a));
        t = get_torrent(again, &c);
        g_assert_cmpstr(meta_name(t), ==, "both, renamed");
        g_assert_true(g_bytes_equal(t->resume, resume_c));
}

static void
test_torrent_delete(Fixture *f)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        RvInfoHash never = hash_of('e');
        g_autoptr(JsonNode) meta = meta_with("x");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        Done d = { 0 };

        rv_store_put_torrent(f->store, &a, meta, resume, NULL, NULL);
        rv_store_put_torrent(f->store, &b, meta, resume, NULL, NULL);
        store_flush(f->store);
        rv_store_delete_torrent(f->store, &a, done_cb, &d);
        /* deleting what is not there is no error */
        rv_store_delete_torrent(f->store, &never, done_cb, &d);
        ITERATE_UNTIL(d.calls == 2);
        g_assert_no_error(d.error);

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_nonnull(find_torrent(snapshot, &b));
}

static void
test_torrent_quarantine(Fixture *f)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(JsonNode) meta = meta_with("x");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        rv_store_put_torrent(f->store, &a, meta, resume, NULL, NULL);
        rv_store_put_torrent(f->store, &b, meta, resume, NULL, NULL);
        store_flush(f->store);
        rv_store_quarantine_torrent(f->store, &a, "resume data does not match the torrent");
        store_flush(f->store);

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_nonnull(find_torrent(snapshot, &b));
        g_assert_nonnull(strstr(rv_health_get_reason(f->health, RV_HEALTH_RESUME_STORE), "does not match"));
}

static void
test_torrent_coalescing(Fixture *f)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        Done d = { 0 };

        for (guint i = 0; i < 100; i++) {
                g_autofree char *name = g_strdup_printf("v%u", i);
                g_autoptr(JsonNode) meta = meta_with(name);
                rv_store_put_torrent(f->store, &a, meta, NULL, done_cb, &d);
        }
        /* at most the write in flight and the one that replaced all the others */
        g_assert_cmpuint(rv_store_get_pending(f->store), <=, 2);
        /* a delete replaces the queued writes of the same torrent */
        rv_store_put_torrent(f->store, &b, NULL, resume, done_cb, &d);
        rv_store_put_torrent(f->store, &b, NULL, resume, done_cb, &d);
        rv_store_delete_torrent(f->store, &b, done_cb, &d);
        store_flush(f->store);
        g_assert_cmpuint(d.calls, ==, 103);
        g_assert_no_error(d.error);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_cmpstr(meta_name(get_torrent(snapshot, &a)), ==, "v99");
}

static guint
log_index(GPtrArray *log, const char *name)
{
        guint index = G_MAXUINT;

        g_assert_true(g_ptr_array_find_with_equal_func(log, name, g_str_equal, &index));
        return index;
}

static void
test_flush_order(Fixture *f)
{
        g_autoptr(GPtrArray) log = g_ptr_array_new();
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        RvInfoHash c = hash_of('c');
        g_autoptr(JsonNode) meta = meta_with("x");
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        Done da = { 0, NULL, log, "a" };
        Done db = { 0, NULL, log, "b" };
        Done dc = { 0, NULL, log, "c" };
        Done f1 = { 0, NULL, log, "flush1" };
        Done f2 = { 0, NULL, log, "flush2" };

        rv_store_put_torrent(f->store, &a, meta, NULL, done_cb, &da);
        rv_store_put_torrent(f->store, &b, meta, NULL, done_cb, &db);
        rv_store_flush(f->store, done_cb, &f1);
        rv_store_put_torrent(f->store, &c, meta, NULL, done_cb, &dc);
        rv_store_flush(f->store, done_cb, &f2);
        /* never inside the call that asked */
        g_assert_cmpuint(log->len, ==, 0);
        ITERATE_UNTIL(f2.calls == 1);
        g_assert_cmpuint(log->len, ==, 5);
        /* a flush completes after everything queued before it; what came later may or may not be in */
        g_assert_cmpuint(log_index(log, "a"), <, log_index(log, "flush1"));
        g_assert_cmpuint(log_index(log, "b"), <, log_index(log, "flush1"));
        g_assert_cmpuint(log_index(log, "c"), <, log_index(log, "flush2"));
        g_assert_cmpuint(log_index(log, "flush1"), <, log_index(log, "flush2"));

        /* a flush with nothing queued still answers later, not inside the call */
        f1.calls = 0;
        rv_store_flush(f->store, done_cb, &f1);
        g_assert_cmpuint(f1.calls, ==, 0);
        ITERATE_UNTIL(f1.calls == 1);
        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 3);
}

static void
test_event_reservation(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStore) reopened = NULL;
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 0);
        g_assert_no_error(error);
        rv_store_put_event_reservation(f->store, 1000);
        rv_store_put_event_reservation(f->store, 1234);
        store_flush(f->store);
        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 1234);
        g_assert_no_error(error);

        reopened = open_store(f, "node-a", NULL);
        g_assert_cmpuint(rv_store_read_event_reservation(reopened, &error), ==, 1234);
        g_assert_no_error(error);
        snapshot = store_load(reopened);
        g_assert_cmpuint(snapshot->event_ids_reserved, ==, 1234);
}

/* settings */

static void
test_settings_empty(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) settings = store_load_settings(f->store, &error);
        g_autoptr(GPtrArray) history = store_history(f->store, 10);

        g_assert_no_error(error);
        g_assert_nonnull(settings);
        g_assert_cmpuint(settings->revision, ==, 0);
        g_assert_null(settings->document);
        g_assert_cmpuint(history->len, ==, 0);
}

static void
test_settings_save(Fixture *f)
{
        g_autoptr(JsonNode) doc1 = settings_doc("one");
        g_autoptr(JsonNode) doc2 = settings_doc("two");
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) settings = NULL;
        g_autoptr(RvStoreSettings) again = NULL;
        g_autoptr(RvStore) reopened = NULL;

        g_assert_cmpuint(store_save(f->store, 0, doc1, "cli", "first", NULL, &error), ==, 1);
        g_assert_no_error(error);
        settings = store_load_settings(f->store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(settings->revision, ==, 1);
        g_assert_true(json_node_equal(settings->document, doc1));

        g_assert_cmpuint(store_save(f->store, 1, doc2, "cli", "second", NULL, &error), ==, 2);
        g_assert_no_error(error);
        reopened = open_store(f, "node-a", NULL);
        again = store_load_settings(reopened, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(again->revision, ==, 2);
        g_assert_true(json_node_equal(again->document, doc2));
}

static void
test_settings_conflict(Fixture *f)
{
        g_autoptr(JsonNode) doc1 = settings_doc("one");
        g_autoptr(JsonNode) doc2 = settings_doc("two");
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) settings = NULL;
        g_autoptr(GPtrArray) history = NULL;

        g_assert_cmpuint(store_save(f->store, 0, doc1, "cli", "first", NULL, &error), ==, 1);
        g_assert_no_error(error);
        /* someone else saved revision 1 first */
        g_assert_cmpuint(store_save(f->store, 0, doc2, "cli", "late", NULL, &error), ==, 0);
        g_assert_error(error, RV_ERROR, RV_ERROR_CONFLICT);
        g_clear_error(&error);
        g_assert_cmpuint(store_save(f->store, 7, doc2, "cli", "ahead", NULL, &error), ==, 0);
        g_assert_error(error, RV_ERROR, RV_ERROR_CONFLICT);
        g_clear_error(&error);

        settings = store_load_settings(f->store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(settings->revision, ==, 1);
        g_assert_true(json_node_equal(settings->document, doc1));
        history = store_history(f->store, 10);
        g_assert_cmpuint(history->len, ==, 1);
}

static void
test_settings_history(Fixture *f)
{
        const char *actors[] = { "setup", "cli", "dbus:uid=1000" };
        gint64 before = g_get_real_time() - G_USEC_PER_SEC;
        g_autoptr(GPtrArray) history = NULL;
        g_autoptr(GPtrArray) newest = NULL;
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < G_N_ELEMENTS(actors); i++) {
                g_autofree char *name = g_strdup_printf("doc%u", i);
                g_autofree char *reason = g_strdup_printf("change %u", i);
                g_autofree char *changes_text =
                        g_strdup_printf("{\"/engine/download_limit\": {\"old\": %u, \"new\": %u}}", i, i + 1);
                g_autoptr(JsonNode) doc = settings_doc(name);
                g_autoptr(JsonNode) changes = json(changes_text);
                g_assert_cmpuint(store_save(f->store, i, doc, actors[i], reason, changes, &error), ==, i + 1);
                g_assert_no_error(error);
        }
        history = store_history(f->store, 10);
        g_assert_cmpuint(history->len, ==, 3);
        for (guint i = 0; i < history->len; i++) {
                RvStoreHistoryEntry *e = g_ptr_array_index(history, i);
                guint n = 2 - i;
                g_autofree char *reason = g_strdup_printf("change %u", n);
                JsonObject *change;

                g_assert_cmpuint(e->revision, ==, n + 1);
                g_assert_cmpstr(e->actor, ==, actors[n]);
                g_assert_cmpstr(e->reason, ==, reason);
                g_assert_cmpint(e->timestamp, >=, before);
                g_assert_cmpint(e->timestamp, <=, g_get_real_time() + G_USEC_PER_SEC);
                if (i > 0)
                        g_assert_cmpint(e->timestamp, <=,
                                        ((RvStoreHistoryEntry *)g_ptr_array_index(history, i - 1))->timestamp);
                g_assert_nonnull(e->changes);
                change = json_object_get_object_member(json_node_get_object(e->changes), "/engine/download_limit");
                g_assert_cmpint(json_object_get_int_member(change, "old"), ==, n);
                g_assert_cmpint(json_object_get_int_member(change, "new"), ==, n + 1);
        }
        newest = store_history(f->store, 2);
        g_assert_cmpuint(newest->len, ==, 2);
        g_assert_cmpuint(((RvStoreHistoryEntry *)g_ptr_array_index(newest, 0))->revision, ==, 3);
        g_assert_cmpuint(((RvStoreHistoryEntry *)g_ptr_array_index(newest, 1))->revision, ==, 2);
}

typedef struct {
        guint calls;
        guint64 revision;
} Changed;

static void
settings_changed_cb(RvStore *store, guint64 revision, gpointer user_data)
{
        Changed *c = user_data;

        c->calls++;
        c->revision = revision;
}

static void
test_settings_changed_elsewhere(Fixture *f)
{
        g_autoptr(JsonNode) mine = settings_doc("mine");
        g_autoptr(JsonNode) theirs = settings_doc("theirs");
        g_autoptr(RvStoreSettings) settings = NULL;
        g_autoptr(GError) error = NULL;
        Changed changed = { 0 };
        guint64 revision;

        rv_store_set_settings_changed_func(f->store, settings_changed_cb, &changed);
        /* our own save is not news to us */
        g_assert_cmpuint(store_save(f->store, 0, mine, "cli", "mine", NULL, &error), ==, 1);
        g_assert_no_error(error);

        revision = f->backend->change_settings_elsewhere(f, theirs);
        g_assert_cmpuint(revision, ==, 2);
        ITERATE_UNTIL(changed.calls > 0);
        g_assert_cmpuint(changed.calls, ==, 1);
        g_assert_cmpuint(changed.revision, ==, revision);

        settings = store_load_settings(f->store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(settings->revision, ==, revision);
        g_assert_true(json_node_equal(settings->document, theirs));
        rv_store_set_settings_changed_func(f->store, NULL, NULL);
}

/* API keys, the setup token, nodes */

static RvStoreApiKey *
key_new(const char *id, const char *label, const char *hash, gboolean enabled, guint burst, guint period,
        gint64 created)
{
        RvStoreApiKey key = { (char *)id, (char *)label, (char *)hash, enabled,
                              burst,      period,        created,      (char *)(enabled ? "read" : "admin") };

        return rv_store_api_key_copy(&key);
}

static void
assert_key(const RvStoreApiKey *key, const RvStoreApiKey *expected)
{
        g_assert_cmpstr(key->key_id, ==, expected->key_id);
        g_assert_cmpstr(key->label, ==, expected->label);
        g_assert_cmpstr(key->secret_hash, ==, expected->secret_hash);
        g_assert_cmpint(key->enabled, ==, expected->enabled);
        g_assert_cmpuint(key->burst, ==, expected->burst);
        g_assert_cmpuint(key->period_s, ==, expected->period_s);
        g_assert_cmpint(key->created, ==, expected->created);
        g_assert_cmpstr(key->scope, ==, expected->scope);
}

static void
test_api_keys(Fixture *f)
{
        g_autoptr(RvStoreApiKey) k1 = key_new("k1", "laptop", "$argon2id$v=19$AAAA", TRUE, 10, 60, 1700000000);
        g_autoptr(RvStoreApiKey) k1b = key_new("k1", "laptop, renamed", "$argon2id$v=19$BBBB", FALSE, 0, 0, 1700000100);
        g_autoptr(RvStoreApiKey) k2 = key_new("k2", "ci", "$argon2id$v=19$CCCC", TRUE, G_MAXUINT32, 1, 1700000200);
        g_autoptr(GPtrArray) keys = NULL;
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GPtrArray) elsewhere = NULL;
        g_autoptr(RvStore) reopened = NULL;
        Done d = { 0 };

        rv_store_put_api_key(f->store, k2, done_cb, &d);
        rv_store_put_api_key(f->store, k1, done_cb, &d);
        rv_store_put_api_key(f->store, k1b, done_cb, &d);
        ITERATE_UNTIL(d.calls == 3);
        g_assert_no_error(d.error);

        keys = store_keys(f->store);
        g_assert_cmpuint(keys->len, ==, 2);
        assert_key(g_ptr_array_index(keys, 0), k1b);
        assert_key(g_ptr_array_index(keys, 1), k2);

        done_clear(&d);
        rv_store_delete_api_key(f->store, "k2", done_cb, &d);
        ITERATE_UNTIL(d.calls == 1);
        g_assert_no_error(d.error);
        done_clear(&d);
        rv_store_delete_api_key(f->store, "k2", done_cb, &d);
        ITERATE_UNTIL(d.calls == 1);
        g_assert_error(d.error, RV_ERROR, RV_ERROR_NOT_FOUND);
        done_clear(&d);

        after = store_keys(f->store);
        g_assert_cmpuint(after->len, ==, 1);
        assert_key(g_ptr_array_index(after, 0), k1b);
        reopened = open_store(f, "node-a", NULL);
        elsewhere = store_keys(reopened);
        g_assert_cmpuint(elsewhere->len, ==, 1);
        assert_key(g_ptr_array_index(elsewhere, 0), k1b);
}

static void
put_token(RvStore *store, const char *hash, gint64 expires)
{
        Done d = { 0 };

        rv_store_put_setup_token(store, hash, expires, "setup", done_cb, &d);
        ITERATE_UNTIL(d.calls == 1);
        g_assert_no_error(d.error);
}

static void
test_setup_token(Fixture *f)
{
        gint64 now = 1700000000;

        g_assert_false(store_take_token(f->store, "sha256:nothing", now));
        put_token(f->store, "sha256:old", now + 600);
        /* a new token replaces the earlier one */
        put_token(f->store, "sha256:t1", now + 600);
        g_assert_false(store_take_token(f->store, "sha256:old", now));
        g_assert_false(store_take_token(f->store, "sha256:wrong", now));
        /* expired at that time */
        g_assert_false(store_take_token(f->store, "sha256:t1", now + 600));
        g_assert_false(store_take_token(f->store, "sha256:t1", now + 601));
        /* a failed attempt leaves it in place; a match consumes it */
        g_assert_true(store_take_token(f->store, "sha256:t1", now + 599));
        g_assert_false(store_take_token(f->store, "sha256:t1", now));
}

static void
test_nodes(Fixture *f)
{
        g_autoptr(GPtrArray) nodes = NULL;
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        const char *id = rv_store_get_node_id(f->store);
        gboolean found = FALSE;
        Done d = { 0 };

        rv_store_touch_node(f->store, "first name", done_cb, &d);
        rv_store_touch_node(f->store, "alpha", done_cb, &d);
        ITERATE_UNTIL(d.calls == 2);
        g_assert_no_error(d.error);
        nodes = store_nodes(f->store);
        for (guint i = 0; i < nodes->len; i++) {
                RvStoreNode *node = g_ptr_array_index(nodes, i);
                if (!g_str_equal(node->node_id, id))
                        continue;
                found = TRUE;
                g_assert_cmpstr(node->name, ==, "alpha");
                g_assert_cmpint(node->last_seen, >=, now - 5);
                g_assert_cmpint(node->last_seen, <=, now + 5);
        }
        g_assert_true(found);
}

/* PostgreSQL only */

static void
test_pg_node_ownership(Fixture *f)
{
        g_autoptr(RvStore) b = open_store(f, "node-b", NULL);
        RvInfoHash x = hash_of('a');
        RvInfoHash y = hash_of('b');
        g_autoptr(JsonNode) meta_a = meta_with("on a");
        g_autoptr(JsonNode) meta_b = meta_with("on b");
        g_autoptr(RvStoreSnapshot) snap_a = NULL;
        g_autoptr(RvStoreSnapshot) snap_b = NULL;
        g_autoptr(GPtrArray) nodes = NULL;
        Done put_b = { 0 };
        Done delete_a = { 0 };

        /* one owner per info hash (schema version 4): B's write of A's torrent and A's delete of B's are refused */
        rv_store_put_torrent(f->store, &x, meta_a, NULL, NULL, NULL);
        store_flush(f->store);
        rv_store_put_torrent(b, &x, meta_b, NULL, done_cb, &put_b);
        rv_store_put_torrent(b, &y, meta_b, NULL, NULL, NULL);
        store_flush(b);
        rv_store_delete_torrent(f->store, &y, done_cb, &delete_a);
        rv_store_touch_node(f->store, "alpha", NULL, NULL);
        rv_store_touch_node(b, "beta", NULL, NULL);
        store_flush(f->store);
        store_flush(b);
        ITERATE_UNTIL(put_b.calls == 1 && delete_a.calls == 1);
        g_assert_error(put_b.error, RV_ERROR, RV_ERROR_CONFLICT);
        g_assert_nonnull(strstr(put_b.error->message, "owned by node 'node-a'"));
        g_assert_error(delete_a.error, RV_ERROR, RV_ERROR_CONFLICT);
        g_assert_nonnull(strstr(delete_a.error->message, "owned by node 'node-b'"));

        snap_a = store_load(f->store);
        g_assert_cmpuint(snap_a->torrents->len, ==, 1);
        g_assert_cmpstr(meta_name(get_torrent(snap_a, &x)), ==, "on a");
        snap_b = store_load(b);
        g_assert_cmpuint(snap_b->torrents->len, ==, 1);
        g_assert_cmpstr(meta_name(get_torrent(snap_b, &y)), ==, "on b");

        nodes = store_nodes(b);
        g_assert_cmpuint(nodes->len, ==, 2);
        g_assert_cmpstr(((RvStoreNode *)g_ptr_array_index(nodes, 0))->node_id, ==, "node-a");
        g_assert_cmpstr(((RvStoreNode *)g_ptr_array_index(nodes, 1))->name, ==, "beta");
        done_clear(&put_b);
        done_clear(&delete_a);
}

static void
test_pg_migration_from_v1(Fixture *f)
{
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "src", "store", "sql", "0001-init.sql", NULL);
        g_autofree char *v1 = NULL;
        g_autofree char *sql = NULL;
        g_autofree char *versions = NULL;
        g_autofree char *quarantined = NULL;
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(RvStoreSettings) settings = NULL;
        g_autoptr(GPtrArray) history = NULL;
        g_autoptr(GPtrArray) keys = NULL;
        g_autoptr(GError) error = NULL;
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        const RvStoreTorrent *t;

        /* a database as the first schema left it, with data in that shape */
        g_assert_true(g_file_get_contents(path, &v1, NULL, NULL));
        sql = g_strdup_printf("CREATE TABLE schema_version (version integer PRIMARY KEY, "
                              "applied_at timestamptz NOT NULL DEFAULT now());"
                              "%s\n"
                              "INSERT INTO schema_version (version) VALUES (1);"
                              "INSERT INTO torrents (info_hash, meta, resume) VALUES "
                              "('%s', '{\"name\": \"old a\"}', '\\x6465'), ('%s', NULL, '\\x00ff');"
                              "INSERT INTO torrents_quarantine (info_hash, reason) VALUES ('%s', 'long ago');"
                              "INSERT INTO event_reservation (id, reserved_up_to) VALUES (1, 4242);"
                              "UPDATE settings SET revision = 2, document = '{\"app\": {\"instance_name\": \"v1\"}}';"
                              "INSERT INTO settings_history (revision, actor, reason, changes) VALUES "
                              "(1, 'setup', 'first', '{}'), (2, 'cli', 'second', '{\"/app/x\": {\"old\": 1}}');"
                              "INSERT INTO api_keys (key_id, label, secret_hash, burst, period_s, created) VALUES "
                              "('k1', 'old key', 'hash1', 5, 10, to_timestamp(1600000000));"
                              "INSERT INTO setup_token (hash, expires_at, issued_by) VALUES "
                              "('tok', to_timestamp(1900000000), 'setup')",
                              v1, a.hex, b.hex, b.hex);
        PQclear(rv_test_pg_exec(f->conninfo, sql));

        /* the node that opens it first adopts the single-node catalogue */
        f->store = open_store(f, "node-a", f->health);
        versions = pg_value(f, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version");
        g_assert_cmpstr(versions, ==, "1,2,3,4,5");
        quarantined = pg_value(f, "SELECT node_id FROM torrents_quarantine");
        g_assert_cmpstr(quarantined, ==, "node-a");

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 2);
        g_assert_cmpuint(snapshot->event_ids_reserved, ==, 4242);
        g_assert_cmpuint(rv_store_read_event_reservation(f->store, NULL), ==, 4242);
        t = get_torrent(snapshot, &a);
        g_assert_cmpstr(meta_name(t), ==, "old a");
        g_assert_cmpmem(g_bytes_get_data(t->resume, NULL), g_bytes_get_size(t->resume), "de", 2);
        t = get_torrent(snapshot, &b);
        g_assert_null(t->meta);
        g_assert_cmpuint(g_bytes_get_size(t->resume), ==, 2);

        settings = store_load_settings(f->store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(settings->revision, ==, 2);
        history = store_history(f->store, 10);
        g_assert_cmpuint(history->len, ==, 2);
        g_assert_cmpstr(((RvStoreHistoryEntry *)g_ptr_array_index(history, 0))->actor, ==, "cli");
        keys = store_keys(f->store);
        g_assert_cmpuint(keys->len, ==, 1);
        g_assert_cmpint(((RvStoreApiKey *)g_ptr_array_index(keys, 0))->created, ==, 1600000000);
        /* a key from before scopes could do everything, and still can */
        g_assert_cmpstr(((RvStoreApiKey *)g_ptr_array_index(keys, 0))->scope, ==, "admin");
        g_assert_true(store_take_token(f->store, "tok", 1800000000));

        /* and it goes on from there: a save is revision 3 */
        g_assert_cmpuint(store_save(f->store, 2, settings->document, "cli", "after", NULL, &error), ==, 3);
        g_assert_no_error(error);
}

static void
test_pg_corrupt_rows(Fixture *f)
{
        RvInfoHash good = hash_of('a');
        RvInfoHash bad = hash_of('b');
        g_autofree char *sql = g_strdup_printf("INSERT INTO torrents (node_id, info_hash, meta) VALUES "
                                               "('node-a', '%s', '{\"name\": \"fine\"}'), "
                                               "('node-a', '%s', '\"a string\"'), "
                                               "('node-a', 'not-a-hash', '{}'), "
                                               "('node-b', 'not-mine', '{}')",
                                               good.hex, bad.hex);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autofree char *moved = NULL;
        g_autofree char *left = NULL;

        PQclear(rv_test_pg_exec(f->conninfo, sql));
        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_nonnull(find_torrent(snapshot, &good));
        g_assert_cmpuint(snapshot->problems->len, ==, 2);
        store_flush(f->store);
        moved = pg_value(f, "SELECT string_agg(info_hash || ': ' || reason, '; ' ORDER BY info_hash) "
                            "FROM torrents_quarantine WHERE node_id = 'node-a'");
        g_assert_nonnull(strstr(moved, "not-a-hash: not an info hash"));
        g_assert_nonnull(strstr(moved, "not a JSON object"));
        left = pg_value(f, "SELECT count(*) FROM torrents");
        g_assert_cmpstr(left, ==, "2");
}

static void
test_pg_quarantine_table(Fixture *f)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("kept aside");
        g_autoptr(GBytes) resume = g_bytes_new_static("d1:xi1ee", 8);
        g_autofree char *row = NULL;

        rv_store_put_torrent(f->store, &a, meta, resume, NULL, NULL);
        rv_store_quarantine_torrent(f->store, &a, "hash check failed");
        store_flush(f->store);
        row = pg_value(f, "SELECT node_id || '|' || reason || '|' || (meta->>'name') || '|' || length(resume) "
                          "FROM torrents_quarantine");
        g_assert_cmpstr(row, ==, "node-a|hash check failed|kept aside|8");
}

static void
test_pg_manual_edit(Fixture *f)
{
        g_autoptr(RvStore) b = open_store(f, "node-b", NULL);
        g_autoptr(JsonNode) doc = settings_doc("one");
        g_autoptr(GError) error = NULL;
        Changed on_a = { 0 };
        Changed on_b = { 0 };

        rv_store_set_settings_changed_func(f->store, settings_changed_cb, &on_a);
        rv_store_set_settings_changed_func(b, settings_changed_cb, &on_b);
        g_assert_cmpuint(store_save(b, 0, doc, "node:b", "first", NULL, &error), ==, 1);
        g_assert_no_error(error);
        ITERATE_UNTIL(on_a.calls == 1);
        /* an operator's UPDATE moves the revision through the trigger, and every node hears it */
        PQclear(rv_test_pg_exec(f->conninfo,
                                "UPDATE settings SET document = '{\"app\": {\"instance_name\": \"by hand\"}}'"));
        ITERATE_UNTIL(on_a.calls == 2 && on_b.calls == 1);
        g_assert_cmpuint(on_a.revision, ==, 2);
        g_assert_cmpuint(on_b.revision, ==, 2);
        iterate_for(100);
        g_assert_cmpuint(on_b.calls, ==, 1);
        rv_store_set_settings_changed_func(f->store, NULL, NULL);
        rv_store_set_settings_changed_func(b, NULL, NULL);
}

typedef struct {
        GAsyncResult *result;
        RvStore *store;
} Race;

static void
race_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Race *race = user_data;

        race->result = g_object_ref(result);
}

static void
test_pg_cas_race(Fixture *f)
{
        g_autoptr(RvStore) b = open_store(f, "node-b", NULL);
        g_autoptr(JsonNode) doc_a = settings_doc("a");
        g_autoptr(JsonNode) doc_b = settings_doc("b");
        g_autoptr(GError) error_a = NULL;
        g_autoptr(GError) error_b = NULL;
        Race ra = { NULL, f->store };
        Race rb = { NULL, b };
        guint64 rev_a;
        guint64 rev_b;

        /* two nodes, both at revision 0, save at the same time: one wins */
        rv_store_save_settings_async(f->store, 0, doc_a, NULL, NULL, race_cb, &ra);
        rv_store_save_settings_async(b, 0, doc_b, NULL, NULL, race_cb, &rb);
        ITERATE_UNTIL(ra.result != NULL && rb.result != NULL);
        rev_a = rv_store_save_settings_finish(f->store, ra.result, &error_a);
        rev_b = rv_store_save_settings_finish(b, rb.result, &error_b);
        g_object_unref(ra.result);
        g_object_unref(rb.result);
        g_assert_cmpuint(rev_a + rev_b, ==, 1);
        g_assert_true((error_a == NULL) != (error_b == NULL));
        g_assert_error((error_a != NULL ? error_a : error_b), RV_ERROR, RV_ERROR_CONFLICT);
}

static void
test_pg_bad_conninfo(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStore) unreachable = NULL;
        g_autoptr(RvStore) nodb = NULL;
        g_autofree char *nodb_info = rv_test_pg_conninfo(&cluster.pg, "no_such_database");
        g_autoptr(RvStoreSettings) settings = NULL;
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("x");
        Done d = { 0 };

        g_assert_null(rv_store_postgres_new("host=/tmp nosuchoption=1", "n", NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "nosuchoption"));
        g_clear_error(&error);
        g_assert_null(rv_store_postgres_new("postgresql://[::1", "n", NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(rv_store_postgres_new("", "n", NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(rv_store_postgres_new("connect_timeout=soon", "n", NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(rv_store_postgres_new(f->conninfo, "", NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "node id"));
        g_clear_error(&error);

        /* no server there: Unavailable naming the socket */
        unreachable = rv_store_postgres_new("host=/nonexistent/revaer port=5 dbname=x", "n", NULL, &error);
        g_assert_no_error(error);
        g_assert_false(store_open(unreachable, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(error->message, "/nonexistent/revaer"));
        g_clear_error(&error);
        /* reads fail; a write waits for a later open, and hears when the store goes away */
        settings = store_load_settings(unreachable, &error);
        g_assert_null(settings);
        g_assert_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_clear_error(&error);
        rv_store_put_torrent(unreachable, &a, meta, NULL, done_cb, &d);
        g_assert_cmpuint(rv_store_get_pending(unreachable), ==, 1);
        g_clear_pointer(&unreachable, rv_store_free);
        g_assert_cmpuint(d.calls, ==, 1);
        g_assert_error(d.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        done_clear(&d);

        nodb = rv_store_postgres_new(nodb_info, "n", NULL, &error);
        g_assert_no_error(error);
        g_assert_false(store_open(nodb, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(error->message, "no_such_database"));
}

static void
test_pg_queue_bound(Fixture *f)
{
        g_autoptr(RvStore) store = rv_store_postgres_new(f->conninfo, "node-q", NULL, NULL);
        g_autoptr(JsonNode) meta = meta_with("queued");
        g_autoptr(JsonNode) meta2 = meta_with("replaced");
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(RvStoreApiKey) key = key_new("k", "", "h", TRUE, 0, 0, 0);
        g_autoptr(GError) error = NULL;
        RvInfoHash five = hash_of_number(5);
        RvInfoHash over = hash_of_number(10000);
        Done ok = { 0 };
        Done full = { 0 };

        /* not open yet: writes queue up to the bound */
        for (guint i = 0; i < 10000; i++) {
                RvInfoHash hash = hash_of_number(i);
                rv_store_put_torrent(store, &hash, meta, NULL, done_cb, &ok);
        }
        g_assert_cmpuint(rv_store_get_pending(store), ==, 10000);
        /* beyond it, a new record is refused, a write that replaces a queued one is not */
        rv_store_put_torrent(store, &over, meta, NULL, done_cb, &full);
        rv_store_put_api_key(store, key, done_cb, &full);
        rv_store_put_torrent(store, &five, meta2, NULL, done_cb, &ok);
        ITERATE_UNTIL(full.calls == 2);
        g_assert_error(full.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_cmpuint(rv_store_get_pending(store), ==, 10000);
        g_assert_cmpuint(ok.calls, ==, 0);

        g_assert_true(store_open(store, &error));
        g_assert_no_error(error);
        store_flush(store);
        g_assert_cmpuint(ok.calls, ==, 10001);
        g_assert_no_error(ok.error);
        snapshot = store_load(store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 10000);
        g_assert_cmpstr(meta_name(get_torrent(snapshot, &five)), ==, "replaced");
        g_assert_null(find_torrent(snapshot, &over));
}

static void
test_pg_outage(Fixture *f)
{
        g_autoptr(JsonNode) meta = meta_with("before");
        g_autoptr(JsonNode) meta2 = meta_with("during");
        g_autoptr(JsonNode) doc = settings_doc("x");
        g_autoptr(GBytes) resume = g_bytes_new_static("d5:piecei3ee", 12);
        g_autoptr(RvStoreApiKey) key = key_new("outage-key", "made while down", "hash", TRUE, 1, 1, 1700000000);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(RvStoreSettings) settings = NULL;
        g_autoptr(GPtrArray) keys = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStore) b = NULL;
        g_autofree char *reserved = NULL;
        RvInfoHash x = hash_of('a');
        RvInfoHash y = hash_of('b');
        RvInfoHash z = hash_of('c');
        Changed changed = { 0 };
        Done writes = { 0 };
        Done flushed = { 0 };

        rv_store_put_torrent(f->store, &x, meta, resume, NULL, NULL);
        rv_store_put_torrent(f->store, &y, meta, resume, NULL, NULL);
        store_flush(f->store);
        g_assert_true(rv_health_is_ok(f->health));

        /* the server goes away under the open store */
        g_assert_cmpint(rv_test_pg_run(&cluster.pg, "stop"), ==, 0);
        ITERATE_UNTIL(rv_health_get_reason(f->health, RV_HEALTH_STORE) != NULL);
        g_test_message("degraded: %s", rv_health_get_reason(f->health, RV_HEALTH_STORE));

        /* writes queue, in order, and nothing is lost */
        rv_store_put_torrent(f->store, &z, meta2, NULL, done_cb, &writes);
        rv_store_put_torrent(f->store, &x, meta2, NULL, done_cb, &writes);
        rv_store_delete_torrent(f->store, &y, done_cb, &writes);
        rv_store_put_api_key(f->store, key, done_cb, &writes);
        rv_store_put_event_reservation(f->store, 777);
        rv_store_touch_node(f->store, "back", done_cb, &writes);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 6);
        rv_store_flush(f->store, done_cb, &flushed);
        /* reads and saves fail at once instead of waiting */
        settings = store_load_settings(f->store, &error);
        g_assert_null(settings);
        g_assert_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_clear_error(&error);
        g_assert_cmpuint(store_save(f->store, 0, doc, "cli", "down", NULL, &error), ==, 0);
        g_assert_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_clear_error(&error);
        iterate_for(300);
        g_assert_cmpuint(writes.calls, ==, 0);
        g_assert_cmpuint(flushed.calls, ==, 0);
        g_assert_nonnull(rv_health_get_reason(f->health, RV_HEALTH_STORE));

        /* back: the queue goes out in order, then the store is healthy again */
        g_assert_cmpint(rv_test_pg_run(&cluster.pg, "start"), ==, 0);
        ITERATE_UNTIL(flushed.calls == 1);
        g_assert_no_error(flushed.error);
        g_assert_cmpuint(writes.calls, ==, 5);
        g_assert_no_error(writes.error);
        ITERATE_UNTIL(rv_health_is_ok(f->health));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);

        snapshot = store_load(f->store);
        g_assert_cmpuint(snapshot->torrents->len, ==, 2);
        g_assert_cmpstr(meta_name(get_torrent(snapshot, &x)), ==, "during");
        g_assert_true(g_bytes_equal(get_torrent(snapshot, &x)->resume, resume));
        g_assert_cmpstr(meta_name(get_torrent(snapshot, &z)), ==, "during");
        g_assert_null(find_torrent(snapshot, &y));
        keys = store_keys(f->store);
        g_assert_cmpuint(keys->len, ==, 1);
        reserved = pg_value(f, "SELECT reserved_up_to FROM event_reservation WHERE node_id = 'node-a'");
        g_assert_cmpstr(reserved, ==, "777");

        /* and it hears other nodes again */
        rv_store_set_settings_changed_func(f->store, settings_changed_cb, &changed);
        b = open_store(f, "node-b", NULL);
        g_assert_cmpuint(store_save(b, 0, doc, "node:b", "after the outage", NULL, &error), ==, 1);
        g_assert_no_error(error);
        ITERATE_UNTIL(changed.calls == 1);
        g_assert_cmpuint(changed.revision, ==, 1);
        rv_store_set_settings_changed_func(f->store, NULL, NULL);
}

static void
test_pg_listener_reconnects(Fixture *f)
{
        g_autoptr(RvStore) b = open_store(f, "node-b", NULL);
        g_autoptr(JsonNode) doc = settings_doc("x");
        g_autoptr(GError) error = NULL;
        Changed changed = { 0 };

        rv_store_set_settings_changed_func(f->store, settings_changed_cb, &changed);
        /* the listeners drop; a change lands while node-a's reconnects, and is not missed */
        PQclear(rv_test_pg_exec(f->conninfo, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                             "WHERE application_name = 'revaerd-listen'"));
        g_assert_cmpuint(store_save(b, 0, doc, "node:b", "meanwhile", NULL, &error), ==, 1);
        g_assert_no_error(error);
        ITERATE_UNTIL(changed.calls == 1);
        g_assert_cmpuint(changed.revision, ==, 1);
        ITERATE_UNTIL(rv_health_is_ok(f->health));
        rv_store_set_settings_changed_func(f->store, NULL, NULL);
}

static void
test_pg_batch_failure(Fixture *f)
{
        g_autoptr(RvStoreApiKey) good1 = key_new("good1", "one", "h1", TRUE, 0, 0, 0);
        g_autoptr(RvStoreApiKey) good2 = key_new("good2", "two", "h2", TRUE, 0, 0, 0);
        /* not UTF-8: the server refuses the text (a data exception) */
        g_autoptr(RvStoreApiKey) bad = key_new("bad", "\xff\xfe", "h3", TRUE, 0, 0, 0);
        g_autoptr(RvStoreApiKey) good3 = key_new("good3", "three", "h4", TRUE, 0, 0, 0);
        g_autoptr(JsonNode) doc = settings_doc("x");
        g_autoptr(GPtrArray) keys = NULL;
        g_autoptr(GError) error = NULL;
        Done d1 = { 0 };
        Done d2 = { 0 };
        Done d3 = { 0 };
        Done dbad = { 0 };

        /* the first goes out at once, the other three together as the next batch */
        rv_store_put_api_key(f->store, good1, done_cb, &d1);
        rv_store_put_api_key(f->store, good2, done_cb, &d2);
        rv_store_put_api_key(f->store, bad, done_cb, &dbad);
        rv_store_put_api_key(f->store, good3, done_cb, &d3);
        store_flush(f->store);
        g_assert_cmpuint(d1.calls + d2.calls + d3.calls + dbad.calls, ==, 4);
        g_assert_no_error(d1.error);
        /* the batch was rolled back: the others in it ran again */
        g_assert_no_error(d2.error);
        g_assert_no_error(d3.error);
        g_assert_error(dbad.error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(dbad.error->message, "storing API key 'bad'"));
        g_assert_nonnull(strstr(dbad.error->message, "SQLSTATE 22021"));
        keys = store_keys(f->store);
        g_assert_cmpuint(keys->len, ==, 3);

        /* a unique violation is a Conflict: history has revision 1 when an operator winds the revision back */
        g_assert_cmpuint(store_save(f->store, 0, doc, "cli", "first", NULL, &error), ==, 1);
        g_assert_no_error(error);
        PQclear(rv_test_pg_exec(f->conninfo, "UPDATE settings SET revision = 0"));
        g_assert_cmpuint(store_save(f->store, 0, doc, "cli", "again", NULL, &error), ==, 0);
        g_assert_error(error, RV_ERROR, RV_ERROR_CONFLICT);
        g_assert_nonnull(strstr(error->message, "SQLSTATE 23505"));
        g_assert_null(strstr(error->message, "Key ("));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);
}

/* registration */

static GPtrArray *test_cases;

static void
add(const Backend *backend, const char *name, TestFunc func, gboolean no_store)
{
        TestCase *tc = g_new0(TestCase, 1);
        g_autofree char *path = g_strdup_printf("/store/conformance/%s/%s", backend->name, name);

        tc->backend = backend;
        tc->func = func;
        tc->no_store = no_store;
        g_ptr_array_add(test_cases, tc);
        g_test_add(path, Fixture, tc, fixture_setup, test_run, fixture_teardown);
}

int
main(int argc, char **argv)
{
        const Backend *backends[] = { &embedded_backend, &postgres_backend };
        int ret;

        g_test_init(&argc, &argv, NULL);
        test_cases = g_ptr_array_new_with_free_func(g_free);
        /* wakes the loop so a wait notices its deadline */
        g_timeout_add(50, tick_cb, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(backends); i++) {
                const Backend *b = backends[i];
                add(b, "torrent-round-trip", test_torrent_round_trip, FALSE);
                add(b, "torrent-delete", test_torrent_delete, FALSE);
                add(b, "torrent-quarantine", test_torrent_quarantine, FALSE);
                add(b, "torrent-coalescing", test_torrent_coalescing, FALSE);
                add(b, "flush-order", test_flush_order, FALSE);
                add(b, "event-reservation", test_event_reservation, FALSE);
                add(b, "settings-empty", test_settings_empty, FALSE);
                add(b, "settings-save", test_settings_save, FALSE);
                add(b, "settings-conflict", test_settings_conflict, FALSE);
                add(b, "settings-history", test_settings_history, FALSE);
                add(b, "settings-changed-elsewhere", test_settings_changed_elsewhere, FALSE);
                add(b, "api-keys", test_api_keys, FALSE);
                add(b, "setup-token", test_setup_token, FALSE);
                add(b, "nodes", test_nodes, FALSE);
        }
        add(&postgres_backend, "node-ownership", test_pg_node_ownership, FALSE);
        add(&postgres_backend, "migration-from-v1", test_pg_migration_from_v1, TRUE);
        add(&postgres_backend, "corrupt-rows", test_pg_corrupt_rows, FALSE);
        add(&postgres_backend, "quarantine-table", test_pg_quarantine_table, FALSE);
        add(&postgres_backend, "settings-manual-edit", test_pg_manual_edit, FALSE);
        add(&postgres_backend, "settings-cas-race", test_pg_cas_race, FALSE);
        add(&postgres_backend, "batch-failure", test_pg_batch_failure, FALSE);
        add(&postgres_backend, "bad-conninfo", test_pg_bad_conninfo, FALSE);
        add(&postgres_backend, "queue-bound", test_pg_queue_bound, FALSE);
        add(&postgres_backend, "listener-reconnects", test_pg_listener_reconnects, FALSE);
        add(&postgres_backend, "outage", test_pg_outage, FALSE);

        ret = g_test_run();
        rv_test_pg_destroy(&cluster.pg);
        g_ptr_array_unref(test_cases);
        return ret;
}
