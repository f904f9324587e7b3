/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rv-store-private.h"
#include "rv-test-data.h"

/* the embedded store: atomic, coalesced writes off the main loop; a damaged record never stops a load */

typedef struct {
        char *dir;
        RvHealth *health;
        RvStore *store;
        guint done;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        f->dir = g_dir_make_tmp("rv-test-store-XXXXXX", NULL);
        f->health = rv_health_new();
        f->store = rv_store_embedded_new(f->dir, f->health, NULL);
        g_assert_nonnull(f->store);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->store, rv_store_free);
        rv_health_free(f->health);
        rv_test_data_remove_tree(f->dir);
        g_free(f->dir);
}

static void
done_cb(const GError *error, gpointer user_data)
{
        Fixture *f = user_data;

        g_assert_no_error(error);
        f->done++;
}

static void
wait_done(Fixture *f, guint n)
{
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

        while (f->done < n && g_get_monotonic_time() < deadline)
                g_main_context_iteration(NULL, TRUE);
        g_assert_cmpuint(f->done, ==, n);
}

static void
loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvStoreSnapshot **ret = user_data;
        g_autoptr(GError) error = NULL;

        *ret = rv_store_load_finish(NULL, result, &error);
        g_assert_no_error(error);
}

static RvStoreSnapshot *
load(Fixture *f)
{
        RvStoreSnapshot *snapshot = NULL;

        rv_store_load_async(f->store, NULL, loaded_cb, &snapshot);
        while (snapshot == NULL)
                g_main_context_iteration(NULL, TRUE);
        return snapshot;
}

static RvInfoHash
hash_of(char c)
{
        RvInfoHash hash;

        memset(hash.hex, c, RV_INFO_HASH_HEX_LEN);
        hash.hex[RV_INFO_HASH_HEX_LEN] = '\0';
        return hash;
}

/* "cc...c" for 0, its first two digits the number's in hex otherwise */
static RvInfoHash
hash_numbered(guint i)
{
        RvInfoHash hash = hash_of('c');
        char two[3];

        if (i > 0) {
                g_snprintf(two, sizeof(two), "%02x", i & 0xff);
                memcpy(hash.hex, two, 2);
        }
        return hash;
}

static JsonNode *
meta_with(const char *name)
{
        g_autofree char *text = g_strdup_printf("{\"name\": \"%s\"}", name);

        return json_from_string(text, NULL);
}

static void
test_store_round_trip(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(JsonNode) meta = meta_with("first");
        g_autoptr(JsonNode) meta2 = meta_with("second");
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spame", 8);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        /* coalesced: the second meta write replaces the first, both callers hear back */
        rv_store_put_torrent(f->store, &a, meta2, NULL, done_cb, f);
        rv_store_put_torrent(f->store, &b, NULL, resume, done_cb, f);
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 4);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);

        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 2);
        /* b has no metadata: a damaged record, see orphan-resume */
        g_assert_cmpuint(snapshot->problems->len, ==, 1);
        for (guint i = 0; i < snapshot->torrents->len; i++) {
                RvStoreTorrent *t = g_ptr_array_index(snapshot->torrents, i);
                g_assert_nonnull(t->resume);
                g_assert_true(g_bytes_equal(t->resume, resume));
                if (rv_info_hash_equal(&t->hash, &a))
                        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(t->meta), "name"), ==,
                                        "second");
                else
                        g_assert_null(t->meta);
        }
}

static void
test_store_delete_and_leftovers(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('c');
        g_autoptr(JsonNode) meta = meta_with("gone");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autofree char *tmp = g_build_filename(f->dir, "torrents", ".cccc.json.tmp", NULL);
        g_autofree char *stray = g_build_filename(f->dir, "torrents", "not-a-hash.json", NULL);

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        rv_store_delete_torrent(f->store, &a, done_cb, f);
        wait_done(f, 2);
        /* a temp file from an interrupted write and a stray file */
        g_assert_true(g_file_set_contents(tmp, "{", 1, NULL));
        g_assert_true(g_file_set_contents(stray, "{}", 2, NULL));
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 0);
        g_assert_cmpuint(snapshot->problems->len, ==, 1);
        g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
}

static void
test_store_corrupt_meta(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('d');
        g_autofree char *path = g_build_filename(f->dir, "torrents", NULL);
        g_autofree char *json = g_strconcat(path, "/", a.hex, ".json", NULL);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autofree char *corrupt_dir = g_build_filename(f->dir, "corrupt", NULL);
        g_autoptr(GDir) corrupt = NULL;

        g_assert_true(g_file_set_contents(json, "{\"name\": \"trunc", -1, NULL));
        snapshot = load(f);
        g_assert_cmpuint(snapshot->problems->len, ==, 1);
        g_assert_nonnull(strstr(g_ptr_array_index(snapshot->problems, 0), "corrupt"));
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
        corrupt = g_dir_open(corrupt_dir, 0, NULL);
        g_assert_nonnull(corrupt);
        g_assert_nonnull(g_dir_read_name(corrupt));
}

static void
test_store_reservation(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(f->dir, "events.json", NULL);

        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 0);
        g_assert_no_error(error);
        rv_store_put_event_reservation(f->store, 1234);
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 1);
        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 1234);
        g_assert_true(g_file_set_contents(path, "garbage", -1, NULL));
        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 0);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

static void
test_store_unwritable(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        RvStore *store;

        /* a state directory that cannot exist is refused with its name */
        store = rv_store_embedded_new("/proc/revaer-cannot-exist", f->health, &error);
        g_assert_null(store);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "/proc/revaer-cannot-exist"));
}

typedef struct {
        GHashTable *seen;
        guint batches;
        gboolean finished;
} BatchLoad;

static void
batch_cb(GPtrArray *records, gpointer user_data)
{
        BatchLoad *load = user_data;

        /* batches come while the load runs, never after it completed */
        g_assert_false(load->finished);
        load->batches++;
        for (guint i = 0; i < records->len; i++) {
                RvStoreTorrent *t = g_ptr_array_index(records, i);
                g_assert_nonnull(t->meta);
                g_assert_nonnull(t->resume);
                g_assert_true(g_hash_table_add(load->seen, g_strdup(t->hash.hex)));
        }
        g_ptr_array_unref(records);
}

static void
batch_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvStoreSnapshot **ret = user_data;
        g_autoptr(GError) error = NULL;

        *ret = rv_store_load_finish(NULL, result, &error);
        g_assert_no_error(error);
}

/* a large catalogue comes back in batches while the rest is read; every record once, its two parts paired */
static void
test_store_load_batches(Fixture *f, gconstpointer data)
{
        const guint n = 700;
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spame", 8);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        BatchLoad batches = { .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };

        for (guint i = 0; i < n; i++) {
                g_autofree char *hex = g_strdup_printf("%040x", i + 1);
                g_autofree char *name = g_strdup_printf("t%u", i);
                g_autoptr(JsonNode) meta = meta_with(name);
                RvInfoHash hash;
                g_assert_true(rv_info_hash_parse(hex, &hash));
                rv_store_put_torrent(f->store, &hash, meta, resume, done_cb, f);
        }
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, n + 1);

        rv_store_set_load_batch_func(f->store, batch_cb, &batches);
        rv_store_load_async(f->store, NULL, batch_loaded_cb, &snapshot);
        while (snapshot == NULL)
                g_main_context_iteration(NULL, TRUE);
        batches.finished = TRUE;
        rv_store_set_load_batch_func(f->store, NULL, NULL);

        g_assert_cmpuint(batches.batches, >=, 2);
        g_assert_cmpuint(snapshot->problems->len, ==, 0);
        for (guint i = 0; i < snapshot->torrents->len; i++) {
                RvStoreTorrent *t = g_ptr_array_index(snapshot->torrents, i);
                g_assert_nonnull(t->meta);
                g_assert_nonnull(t->resume);
                g_assert_true(g_hash_table_add(batches.seen, g_strdup(t->hash.hex)));
        }
        g_assert_cmpuint(g_hash_table_size(batches.seen), ==, n);
        g_hash_table_unref(batches.seen);

        /* without a batch function everything is in the snapshot */
        g_clear_pointer(&snapshot, rv_store_snapshot_free);
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, n);
}

typedef struct {
        guint calls;
        GError *error;
} Outcome;

static void
outcome_cb(const GError *error, gpointer user_data)
{
        Outcome *o = user_data;

        o->calls++;
        g_clear_error(&o->error);
        o->error = error != NULL ? g_error_copy(error) : NULL;
}

static void
wait_outcome(Outcome *o, guint calls)
{
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

        while (o->calls < calls && g_get_monotonic_time() < deadline)
                g_main_context_iteration(NULL, TRUE);
        g_assert_cmpuint(o->calls, ==, calls);
}

static char *
stored_name(Fixture *f, const RvInfoHash *hash)
{
        g_autofree char *name = g_strconcat(hash->hex, ".json", NULL);
        g_autofree char *path = g_build_filename(f->dir, "torrents", name, NULL);
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) node = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        node = json_from_string(text, NULL);
        return g_strdup(json_object_get_string_member(json_node_get_object(node), "name"));
}

static gboolean
health_cleared_cb(gpointer user_data)
{
        return G_SOURCE_REMOVE;
}

/* the store's health degraded, or ok again, within seconds; the caller asserts which it got */
static void
wait_store_health(Fixture *f, gboolean degraded, guint seconds)
{
        gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;

        while ((rv_health_get_reason(f->health, RV_HEALTH_STORE) != NULL) != degraded &&
               g_get_monotonic_time() < deadline) {
                g_timeout_add(50, health_cleared_cb, NULL);
                g_main_context_iteration(NULL, TRUE);
        }
}

/*
 * reliability issue, defect 3: a failed write was answered and then
 * forgotten; it stays owed to the disk, is tried again after a backoff, and
 * health is ok again once it is written, with nothing else written meanwhile
 */
static void
test_store_failed_write_retried(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("paused");
        Outcome o = { 0 };

        rv_store_embedded_set_write_failure(f->store, ENOSPC);
        rv_store_put_torrent(f->store, &a, meta, NULL, outcome_cb, &o);
        wait_outcome(&o, 1);
        g_assert_error(o.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(o.error->message, g_strerror(ENOSPC)));
        g_assert_nonnull(rv_health_get_reason(f->health, RV_HEALTH_STORE));
        g_assert_nonnull(strstr(rv_health_get_reason(f->health, RV_HEALTH_STORE), g_strerror(ENOSPC)));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 1);
        g_assert_null(stored_name(f, &a));

        /* space is back: the record is written on its own and health follows */
        rv_store_embedded_set_write_failure(f->store, 0);
        wait_store_health(f, FALSE, 5);
        g_assert_null(rv_health_get_reason(f->health, RV_HEALTH_STORE));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);
        /* the log holds it now; a flush finds it in its file */
        g_clear_error(&o.error);
        rv_store_flush(f->store, outcome_cb, &o);
        wait_outcome(&o, 2);
        g_assert_no_error(o.error);
        {
                g_autofree char *name = stored_name(f, &a);
                g_assert_cmpstr(name, ==, "paused");
        }
        g_clear_error(&o.error);
}

/* defect 3 at a stop: a flush and the writer's end write the backlog at once, whatever the backoff */
static void
test_store_failed_write_flushed(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(JsonNode) v2 = meta_with("v2");
        g_autoptr(JsonNode) v3 = meta_with("v3");
        Outcome o = { 0 };
        Outcome flushed = { 0 };

        rv_store_embedded_set_write_failure(f->store, ENOSPC);
        rv_store_put_torrent(f->store, &a, v2, NULL, outcome_cb, &o);
        wait_outcome(&o, 1);
        g_assert_nonnull(o.error);
        /* a flush while the disk is still full says so */
        rv_store_flush(f->store, outcome_cb, &flushed);
        wait_outcome(&flushed, 1);
        g_assert_error(flushed.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(flushed.error->message, "1 records are not written"));

        rv_store_embedded_set_write_failure(f->store, 0);
        rv_store_flush(f->store, outcome_cb, &flushed);
        wait_outcome(&flushed, 2);
        g_assert_no_error(flushed.error);
        {
                g_autofree char *name = stored_name(f, &a);
                g_assert_cmpstr(name, ==, "v2");
        }

        /* the store closes with a record owed: it is written before the store is gone */
        rv_store_embedded_set_write_failure(f->store, ENOSPC);
        rv_store_put_torrent(f->store, &b, v3, NULL, outcome_cb, &o);
        wait_outcome(&o, 2);
        g_assert_nonnull(o.error);
        rv_store_embedded_set_write_failure(f->store, 0);
        g_clear_pointer(&f->store, rv_store_free);
        {
                g_autofree char *name = stored_name(f, &b);
                g_assert_cmpstr(name, ==, "v3");
        }
        g_clear_error(&o.error);
        g_clear_error(&flushed.error);
}

/* a failed write that a delete replaces is owed no more: nothing is written, health is ok */
static void
test_store_failed_write_deleted(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("half");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autofree char *resume_path = g_strconcat(f->dir, "/torrents/", a.hex, ".resume", NULL);
        Outcome o = { 0 };

        rv_store_embedded_set_write_failure(f->store, ENOSPC);
        /* both parts: the caller hears once, with the failure */
        rv_store_put_torrent(f->store, &a, meta, resume, outcome_cb, &o);
        wait_outcome(&o, 1);
        g_assert_error(o.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 2);
        rv_store_delete_torrent(f->store, &a, outcome_cb, &o);
        wait_outcome(&o, 2);
        g_assert_no_error(o.error);
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);
        rv_store_embedded_set_write_failure(f->store, 0);
        rv_store_flush(f->store, outcome_cb, &o);
        wait_outcome(&o, 3);
        g_assert_no_error(o.error);
        g_assert_null(stored_name(f, &a));
        g_assert_false(g_file_test(resume_path, G_FILE_TEST_EXISTS));
        g_assert_null(rv_health_get_reason(f->health, RV_HEALTH_STORE));
}

/*
 * reliability issue, defect 4: a torrent whose metadata file is gone comes
 * back from its resume data, reported as a damaged record, with a copy of
 * that resume data kept in corrupt/
 */
static void
test_store_orphan_resume(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("labelled");
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spame", 8);
        g_autofree char *json = g_strconcat(f->dir, "/torrents/", a.hex, ".json", NULL);
        g_autofree char *corrupt_dir = g_build_filename(f->dir, "corrupt", NULL);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        g_autoptr(GDir) corrupt = NULL;
        g_autofree char *copy = NULL;
        g_autofree char *contents = NULL;
        const char *problem;
        const char *name;
        gsize len = 0;

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        /* answered once the log holds it; a flush finds it in its files */
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 2);
        g_assert_cmpint(g_unlink(json), ==, 0);

        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_null(((RvStoreTorrent *)g_ptr_array_index(snapshot->torrents, 0))->meta);
        g_assert_nonnull(((RvStoreTorrent *)g_ptr_array_index(snapshot->torrents, 0))->resume);
        g_assert_cmpuint(snapshot->problems->len, ==, 1);
        problem = g_ptr_array_index(snapshot->problems, 0);
        g_test_message("%s", problem);
        g_assert_nonnull(strstr(problem, "is missing"));
        g_assert_nonnull(strstr(problem, "labels"));
        g_assert_nonnull(strstr(problem, corrupt_dir));

        corrupt = g_dir_open(corrupt_dir, 0, NULL);
        g_assert_nonnull(corrupt);
        name = g_dir_read_name(corrupt);
        g_assert_nonnull(name);
        g_assert_true(g_str_has_prefix(name, a.hex));
        copy = g_build_filename(corrupt_dir, name, NULL);
        g_assert_true(g_file_get_contents(copy, &contents, &len, NULL));
        g_assert_cmpmem(contents, len, "d4:spame", 8);
}

/* the write-ahead log: a crash after an acknowledged write, stood in for by a close without a checkpoint */

static char *
record_path(Fixture *f, const RvInfoHash *hash, const char *suffix)
{
        return g_strconcat(f->dir, "/torrents/", hash->hex, suffix, NULL);
}

static char *
log_path(Fixture *f)
{
        return g_build_filename(f->dir, "store.wal", NULL);
}

static GBytes *
file_bytes(const char *path)
{
        char *contents = NULL;
        gsize len = 0;

        g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
        return g_bytes_new_take(contents, len);
}

/* the store stops with its records in the log only, as a kill -9 leaves them */
static void
close_without_checkpoint(Fixture *f)
{
        rv_store_embedded_set_checkpoints(f->store, FALSE);
        g_clear_pointer(&f->store, rv_store_free);
}

static void
reopen(Fixture *f)
{
        g_autoptr(GError) error = NULL;

        g_clear_pointer(&f->store, rv_store_free);
        f->store = rv_store_embedded_new(f->dir, f->health, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f->store);
}

/*
 * an answered write is in the log, its files follow from the files thread:
 * held back here, the resume data is read from memory, and a crash before
 * the files are written loses nothing
 */
static void
test_store_log_files_later(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(JsonNode) meta = meta_with("later");
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spam4:eggse", 14);
        g_autofree char *json = record_path(f, &a, ".json");
        g_autofree char *res = record_path(f, &a, ".resume");
        g_autofree char *json_b = record_path(f, &b, ".json");
        g_autoptr(GBytes) read_back = NULL;
        g_autoptr(GError) error = NULL;

        rv_store_put_torrent(f->store, &b, meta, NULL, done_cb, f);
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 2);
        g_assert_true(g_file_test(json_b, G_FILE_TEST_EXISTS));

        rv_store_embedded_set_files_held(f->store, TRUE);
        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        rv_store_delete_torrent(f->store, &b, done_cb, f);
        wait_done(f, 4);
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(res, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(json_b, G_FILE_TEST_EXISTS));
        read_back = rv_store_read_resume(f->store, &a, &error);
        g_assert_no_error(error);
        g_assert_true(g_bytes_equal(read_back, resume));
        g_assert_null(rv_store_read_resume(f->store, &b, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);

        /* killed now: the next start writes them from the log */
        close_without_checkpoint(f);
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
        reopen(f);
        {
                g_autoptr(GBytes) res_after = file_bytes(res);
                g_autofree char *name = stored_name(f, &a);
                g_assert_true(g_bytes_equal(res_after, resume));
                g_assert_cmpstr(name, ==, "later");
        }
        g_assert_false(g_file_test(json_b, G_FILE_TEST_EXISTS));
}

/*
 * the files thread waits for the writes to pause: during a burst (a write
 * every 10 ms) no file of it is created, after it they all are, without a
 * flush or a checkpoint. A machine that stalls a burst's writes past the
 * pause is told apart and not held against it.
 */
static void
test_store_log_files_after_burst(Fixture *f, gconstpointer data)
{
        g_autoptr(JsonNode) meta = meta_with("burst");
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spam4:eggse", 14);
        RvInfoHash first = hash_of('c');
        g_autofree char *json = record_path(f, &first, ".json");
        gint64 last = 0;
        gint64 longest = 0;
        gint64 deadline;
        gboolean early = FALSE;

        rv_store_embedded_set_checkpoints(f->store, FALSE);
        for (guint i = 0; i < 30; i++) {
                RvInfoHash h = hash_numbered(i);
                gint64 t;
                rv_store_put_torrent(f->store, &h, meta, resume, done_cb, f);
                wait_done(f, i + 1);
                t = g_get_monotonic_time();
                if (last != 0)
                        longest = MAX(longest, t - last);
                last = t;
                early |= g_file_test(json, G_FILE_TEST_EXISTS);
                g_usleep(10 * 1000);
        }
        if (longest < 40 * 1000)
                g_assert_false(early);
        else
                g_test_message("the burst stalled %" G_GINT64_FORMAT " ms between writes: not judged", longest / 1000);
        deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (!g_file_test(json, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
                g_usleep(5 * 1000);
        g_assert_true(g_file_test(json, G_FILE_TEST_EXISTS));
        {
                RvInfoHash h = hash_numbered(29);
                g_autofree char *res = record_path(f, &h, ".resume");
                deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
                while (!g_file_test(res, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
                        g_usleep(5 * 1000);
                g_assert_true(g_file_test(res, G_FILE_TEST_EXISTS));
        }
}

/*
 * a burst while the files thread is behind: the log grows rather than wait
 * for it, a crash then loses nothing (the replay reads past the first 4
 * MiB), and once the files are written a checkpoint gives the space back
 */
static void
test_store_log_grows(Fixture *f, gconstpointer data)
{
        g_autofree char *wal = log_path(f);
        g_autofree guint8 *big = g_malloc(512 * 1024);
        GStatBuf st;
        const guint n = 12;
        gint64 deadline;

        for (guint i = 0; i < 512 * 1024; i++)
                big[i] = (guint8)(i * 7 + 3);
        rv_store_embedded_set_files_held(f->store, TRUE);
        for (guint i = 0; i < n; i++) {
                RvInfoHash h = hash_of((char)('a' + i));
                g_autoptr(GBytes) resume = g_bytes_new(big, 512 * 1024 - i);
                rv_store_put_torrent(f->store, &h, NULL, resume, done_cb, f);
                wait_done(f, i + 1);
        }
        g_assert_cmpint(g_stat(wal, &st), ==, 0);
        g_test_message("log of %" G_GINT64_FORMAT " bytes", (gint64)st.st_size);
        g_assert_cmpint(st.st_size, >, 4 * 1024 * 1024);
        {
                RvInfoHash first = hash_of('a');
                g_autofree char *res = record_path(f, &first, ".resume");
                g_assert_false(g_file_test(res, G_FILE_TEST_EXISTS));
        }

        close_without_checkpoint(f);
        reopen(f);
        for (guint i = 0; i < n; i++) {
                RvInfoHash h = hash_of((char)('a' + i));
                g_autofree char *res = record_path(f, &h, ".resume");
                g_autoptr(GBytes) bytes = file_bytes(res);
                g_autoptr(GBytes) want = g_bytes_new(big, 512 * 1024 - i);
                g_assert_true(g_bytes_equal(bytes, want));
        }
        g_assert_cmpint(g_stat(wal, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 4 * 1024 * 1024);

        /* grown again, then the files thread catches up and the idle writer checkpoints */
        rv_store_embedded_set_files_held(f->store, TRUE);
        for (guint i = 0; i < n; i++) {
                RvInfoHash h = hash_of((char)('a' + i));
                g_autoptr(GBytes) resume = g_bytes_new(big, 512 * 1024 - 100 - i);
                rv_store_put_torrent(f->store, &h, NULL, resume, done_cb, f);
                wait_done(f, n + i + 1);
        }
        g_assert_cmpint(g_stat(wal, &st), ==, 0);
        g_assert_cmpint(st.st_size, >, 4 * 1024 * 1024);
        rv_store_embedded_set_files_held(f->store, FALSE);
        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        do {
                g_usleep(50000);
                g_assert_cmpint(g_stat(wal, &st), ==, 0);
        } while (st.st_size > 4 * 1024 * 1024 && g_get_monotonic_time() < deadline);
        g_assert_cmpint(st.st_size, ==, 4 * 1024 * 1024);
        {
                RvInfoHash last = hash_of((char)('a' + n - 1));
                g_autofree char *res = record_path(f, &last, ".resume");
                g_autoptr(GBytes) bytes = file_bytes(res);
                g_assert_cmpuint(g_bytes_get_size(bytes), ==, 512 * 1024 - 100 - (n - 1));
        }
}

/*
 * the files thread cannot write (the disk filled up after the log took the
 * records): health says so, a flush says so, the log keeps them, and they
 * are written once the disk takes them again
 */
static void
test_store_log_files_fail(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("owed");
        Outcome flushed = { 0 };

        rv_store_embedded_set_files_failure(f->store, ENOSPC);
        rv_store_put_torrent(f->store, &a, meta, NULL, done_cb, f);
        wait_done(f, 1);
        rv_store_flush(f->store, outcome_cb, &flushed);
        wait_outcome(&flushed, 1);
        g_assert_error(flushed.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_test_message("%s", flushed.error->message);
        g_assert_nonnull(strstr(flushed.error->message, "1 records are not written"));
        g_assert_nonnull(strstr(flushed.error->message, g_strerror(ENOSPC)));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 1);
        wait_store_health(f, TRUE, 5);
        g_assert_nonnull(rv_health_get_reason(f->health, RV_HEALTH_STORE));
        g_assert_nonnull(strstr(rv_health_get_reason(f->health, RV_HEALTH_STORE), g_strerror(ENOSPC)));
        g_assert_null(stored_name(f, &a));

        /* space is back: the backoff passes, the record is written, health follows */
        rv_store_embedded_set_files_failure(f->store, 0);
        wait_store_health(f, FALSE, 10);
        g_assert_null(rv_health_get_reason(f->health, RV_HEALTH_STORE));
        g_assert_cmpuint(rv_store_get_pending(f->store), ==, 0);
        {
                g_autofree char *name = stored_name(f, &a);
                g_assert_cmpstr(name, ==, "owed");
        }
        g_clear_error(&flushed.error);
}

/* the files as page-cache data lost in a crash: gone, the log brings them back byte for byte */
static void
test_store_log_replay(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("logged");
        g_autoptr(GBytes) resume = g_bytes_new_static("d4:spam4:eggse", 14);
        g_autofree char *json = record_path(f, &a, ".json");
        g_autofree char *res = record_path(f, &a, ".resume");
        g_autofree char *events = g_build_filename(f->dir, "events.json", NULL);
        g_autoptr(GBytes) json_before = NULL;
        g_autoptr(GBytes) events_before = NULL;
        g_autoptr(GError) error = NULL;

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        wait_done(f, 1);
        rv_store_put_event_reservation(f->store, 77);
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 2);
        json_before = file_bytes(json);
        events_before = file_bytes(events);
        close_without_checkpoint(f);

        g_assert_cmpint(g_unlink(json), ==, 0);
        g_assert_cmpint(g_unlink(res), ==, 0);
        g_assert_cmpint(g_unlink(events), ==, 0);
        reopen(f);
        {
                g_autoptr(GBytes) json_after = file_bytes(json);
                g_autoptr(GBytes) res_after = file_bytes(res);
                g_autoptr(GBytes) events_after = file_bytes(events);
                g_assert_true(g_bytes_equal(json_after, json_before));
                g_assert_true(g_bytes_equal(res_after, resume));
                g_assert_true(g_bytes_equal(events_after, events_before));
        }
        g_assert_cmpuint(rv_store_read_event_reservation(f->store, &error), ==, 77);
        g_assert_no_error(error);

        /* replayed once: the log was emptied, and a record gone since stays gone */
        close_without_checkpoint(f);
        g_assert_cmpint(g_unlink(json), ==, 0);
        reopen(f);
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(res, G_FILE_TEST_EXISTS));
}

/* a delete after a put, both in the log: the record stays deleted, whatever the crash left of the files */
static void
test_store_log_delete(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("deleted");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autofree char *json = record_path(f, &a, ".json");
        g_autofree char *res = record_path(f, &a, ".resume");
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        wait_done(f, 1);
        rv_store_delete_torrent(f->store, &a, done_cb, f);
        wait_done(f, 2);
        close_without_checkpoint(f);

        /* the unlinks were lost: the files are back as they were */
        g_assert_true(g_file_set_contents(json, "{\"name\": \"deleted\"}", -1, NULL));
        g_assert_true(g_file_set_contents(res, "de", -1, NULL));
        reopen(f);
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(res, G_FILE_TEST_EXISTS));
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 0);
}

static guint32
log_u32(const guint8 *p)
{
        guint32 v;

        memcpy(&v, p, sizeof(v));
        return GUINT32_FROM_LE(v);
}

typedef enum {
        DAMAGE_FLIP,
        DAMAGE_TRUNCATE,
} Damage;

/* a torn or corrupted last record was never acknowledged: the ones before it are replayed, it is not */
static void
test_store_log_torn(Fixture *f, gconstpointer data)
{
        Damage damage = GPOINTER_TO_INT(data);
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        g_autoptr(JsonNode) meta_a = meta_with("first");
        g_autoptr(JsonNode) meta_b = meta_with("torn");
        g_autofree char *json_a = record_path(f, &a, ".json");
        g_autofree char *json_b = record_path(f, &b, ".json");
        g_autofree char *wal = log_path(f);
        g_autoptr(GBytes) before = NULL;
        g_autofree guint8 *log = NULL;
        gsize log_len = 0;
        gsize second;
        gsize second_len;

        rv_store_put_torrent(f->store, &a, meta_a, NULL, done_cb, f);
        wait_done(f, 1);
        rv_store_put_torrent(f->store, &b, meta_b, NULL, done_cb, f);
        /* the files follow the answer; a flush has them written (and adds nothing to the log) */
        rv_store_flush(f->store, done_cb, f);
        wait_done(f, 3);
        before = file_bytes(json_a);
        close_without_checkpoint(f);
        g_assert_cmpint(g_unlink(json_a), ==, 0);
        g_assert_cmpint(g_unlink(json_b), ==, 0);

        /* records from 4096 on, each a 32-byte header with the payload's length at 4 */
        g_assert_true(g_file_get_contents(wal, (char **)&log, &log_len, NULL));
        second = 4096 + 32 + log_u32(log + 4096 + 4);
        second_len = 32 + log_u32(log + second + 4);
        g_assert_cmpuint(second + second_len, <=, log_len);
        if (damage == DAMAGE_FLIP) {
                log[second + second_len - 1] ^= 0x20;
                g_assert_true(g_file_set_contents(wal, (const char *)log, (gssize)log_len, NULL));
        } else {
                g_assert_cmpint(truncate(wal, (off_t)(second + second_len / 2)), ==, 0);
        }

        reopen(f);
        {
                g_autoptr(GBytes) after = file_bytes(json_a);
                g_assert_true(g_bytes_equal(after, before));
        }
        g_assert_false(g_file_test(json_b, G_FILE_TEST_EXISTS));
}

/* a checkpoint empties the log with a new epoch: a record of the old one left behind is never applied */
static void
test_store_log_old_epoch(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("checkpointed");
        g_autofree char *json = record_path(f, &a, ".json");
        g_autofree char *wal = log_path(f);
        g_autofree guint8 *log = NULL;
        gsize log_len = 0;

        rv_store_put_torrent(f->store, &a, meta, NULL, done_cb, f);
        wait_done(f, 1);
        /* a clean stop: the files complete, the log emptied */
        g_clear_pointer(&f->store, rv_store_free);
        g_assert_true(g_file_get_contents(wal, (char **)&log, &log_len, NULL));
        g_assert_cmpuint(log_len, ==, 4 * 1024 * 1024);
        /* the record's bytes are still there, of the epoch before */
        g_assert_cmpuint(log_u32(log + 4096), ==, 0x52564c52u);

        g_assert_cmpint(g_unlink(json), ==, 0);
        reopen(f);
        g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
}

/* a batch of many writes goes past the log after records in it: the newest data wins after a restart */
static void
test_store_log_big_batch(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(GBytes) v1 = g_bytes_new_static("d2:v1i1ee", 9);
        g_autoptr(GBytes) v2 = g_bytes_new_static("d2:v2i2ee", 9);
        g_autofree char *res = record_path(f, &a, ".resume");
        const guint n = 40;

        rv_store_put_torrent(f->store, &a, NULL, v1, done_cb, f);
        wait_done(f, 1);
        for (guint i = 0; i < n; i++) {
                RvInfoHash h;
                g_autoptr(JsonNode) meta = meta_with("many");
                g_snprintf(h.hex, sizeof(h.hex), "%040x", i + 1);
                rv_store_put_torrent(f->store, &h, meta, v1, done_cb, f);
        }
        rv_store_put_torrent(f->store, &a, NULL, v2, done_cb, f);
        wait_done(f, n + 2);
        close_without_checkpoint(f);

        reopen(f);
        {
                g_autoptr(GBytes) after = file_bytes(res);
                g_assert_true(g_bytes_equal(after, v2));
        }
}

/* without a log (one that cannot be created) every write is durable the old way, with one warning */
static void
test_store_log_unavailable(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        g_autoptr(JsonNode) meta = meta_with("no log");
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autofree char *wal = log_path(f);
        g_autofree char *res = record_path(f, &a, ".resume");
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        if (!g_test_subprocess()) {
                g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
                g_test_trap_assert_passed();
                g_test_trap_assert_stderr("*has no write-ahead log*Is a directory*writing every record durably*");
                return;
        }
        /* the warning is the point here, not a failure */
        g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
        g_clear_pointer(&f->store, rv_store_free);
        g_assert_cmpint(g_unlink(wal), ==, 0);
        /* a folder where the log goes: it cannot be opened */
        g_assert_cmpint(g_mkdir(wal, 0700), ==, 0);
        reopen(f);

        rv_store_put_torrent(f->store, &a, meta, resume, done_cb, f);
        wait_done(f, 1);
        {
                g_autoptr(GBytes) after = file_bytes(res);
                g_assert_true(g_bytes_equal(after, resume));
        }
        reopen(f);
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 1);
        g_assert_true(g_file_test(wal, G_FILE_TEST_IS_DIR));
}

/*
 * an append to the log that fails: that batch is made durable the old way and
 * answered, the log is dropped for the rest of the run (its earlier records
 * made durable first), and the next start has a fresh one
 */
static void
test_store_log_append_fails(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        RvInfoHash c = hash_of('c');
        g_autoptr(GBytes) resume = g_bytes_new_static("de", 2);
        g_autofree char *wal = log_path(f);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;

        if (!g_test_subprocess()) {
                g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
                g_test_trap_assert_passed();
                g_test_trap_assert_stderr("*write-ahead log failed*cannot append to 'store.wal'*");
                return;
        }
        g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
        rv_store_put_torrent(f->store, &a, NULL, resume, done_cb, f);
        wait_done(f, 1);
        rv_store_embedded_set_log_failure(f->store, EIO);
        rv_store_put_torrent(f->store, &b, NULL, resume, done_cb, f);
        wait_done(f, 2);
        g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
        rv_store_put_torrent(f->store, &c, NULL, resume, done_cb, f);
        wait_done(f, 3);
        g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));

        reopen(f);
        g_assert_true(g_file_test(wal, G_FILE_TEST_IS_REGULAR));
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 3);
}

/*
 * an append to the log fails while the log holds records the files thread
 * could not write (the disk is full): the log is their only copy, so it
 * stays, the write that failed is refused, the next one tries the log again,
 * and a restart brings back every write that was answered
 */
static void
test_store_log_kept_while_owed(Fixture *f, gconstpointer data)
{
        RvInfoHash a = hash_of('a');
        RvInfoHash b = hash_of('b');
        RvInfoHash c = hash_of('c');
        g_autoptr(JsonNode) meta = meta_with("owed");
        g_autoptr(JsonNode) later = meta_with("later");
        g_autofree char *wal = log_path(f);
        g_autoptr(RvStoreSnapshot) snapshot = NULL;
        Outcome refused = { 0 };

        if (!g_test_subprocess()) {
                g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
                g_test_trap_assert_passed();
                g_test_trap_assert_stderr("*write-ahead log failed*cannot append to 'store.wal'*it is kept*");
                return;
        }
        g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
        rv_store_embedded_set_files_failure(f->store, ENOSPC);
        rv_store_put_torrent(f->store, &a, meta, NULL, done_cb, f);
        wait_done(f, 1);
        rv_store_embedded_set_log_failure(f->store, EIO);
        rv_store_put_torrent(f->store, &b, meta, NULL, outcome_cb, &refused);
        wait_outcome(&refused, 1);
        g_assert_error(refused.error, RV_ERROR, RV_ERROR_UNAVAILABLE);
        g_test_message("%s", refused.error->message);
        g_assert_nonnull(strstr(refused.error->message, "the log is kept"));
        g_assert_nonnull(strstr(refused.error->message, g_strerror(ENOSPC)));
        g_assert_true(g_file_test(wal, G_FILE_TEST_IS_REGULAR));
        g_assert_null(stored_name(f, &a));
        {
                g_autofree char *tmp = g_strconcat(".", b.hex, ".json.tmp", NULL);
                g_autofree char *path = g_build_filename(f->dir, "torrents", tmp, NULL);
                g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        }

        /* the log takes writes again: c is answered from it */
        rv_store_embedded_set_log_failure(f->store, 0);
        rv_store_delete_torrent(f->store, &b, done_cb, f);
        wait_done(f, 2);
        rv_store_put_torrent(f->store, &c, later, NULL, done_cb, f);
        wait_done(f, 3);

        /* stopped with the files still owed: the next start has them from the log */
        reopen(f);
        snapshot = load(f);
        g_assert_cmpuint(snapshot->torrents->len, ==, 2);
        {
                g_autofree char *name_a = stored_name(f, &a);
                g_autofree char *name_c = stored_name(f, &c);
                g_assert_cmpstr(name_a, ==, "owed");
                g_assert_cmpstr(name_c, ==, "later");
                g_assert_null(stored_name(f, &b));
        }
        g_clear_error(&refused.error);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/store/embedded/round-trip", Fixture, NULL, fixture_setup, test_store_round_trip, fixture_teardown);
        g_test_add("/store/embedded/delete-and-leftovers", Fixture, NULL, fixture_setup,
                   test_store_delete_and_leftovers, fixture_teardown);
        g_test_add("/store/embedded/corrupt-meta", Fixture, NULL, fixture_setup, test_store_corrupt_meta,
                   fixture_teardown);
        g_test_add("/store/embedded/reservation", Fixture, NULL, fixture_setup, test_store_reservation,
                   fixture_teardown);
        g_test_add("/store/embedded/unwritable", Fixture, NULL, fixture_setup, test_store_unwritable, fixture_teardown);
        g_test_add("/store/embedded/load-batches", Fixture, NULL, fixture_setup, test_store_load_batches,
                   fixture_teardown);
        g_test_add("/store/embedded/failed-write-retried", Fixture, NULL, fixture_setup,
                   test_store_failed_write_retried, fixture_teardown);
        g_test_add("/store/embedded/failed-write-flushed", Fixture, NULL, fixture_setup,
                   test_store_failed_write_flushed, fixture_teardown);
        g_test_add("/store/embedded/failed-write-deleted", Fixture, NULL, fixture_setup,
                   test_store_failed_write_deleted, fixture_teardown);
        g_test_add("/store/embedded/orphan-resume", Fixture, NULL, fixture_setup, test_store_orphan_resume,
                   fixture_teardown);
        g_test_add("/store/embedded/log-replay", Fixture, NULL, fixture_setup, test_store_log_replay, fixture_teardown);
        g_test_add("/store/embedded/log-delete", Fixture, NULL, fixture_setup, test_store_log_delete, fixture_teardown);
        g_test_add("/store/embedded/log-files-after-burst", Fixture, NULL, fixture_setup,
                   test_store_log_files_after_burst, fixture_teardown);
        g_test_add("/store/embedded/log-files-later", Fixture, NULL, fixture_setup, test_store_log_files_later,
                   fixture_teardown);
        g_test_add("/store/embedded/log-files-fail", Fixture, NULL, fixture_setup, test_store_log_files_fail,
                   fixture_teardown);
        g_test_add("/store/embedded/log-kept-while-owed", Fixture, NULL, fixture_setup, test_store_log_kept_while_owed,
                   fixture_teardown);
        g_test_add("/store/embedded/log-grows", Fixture, NULL, fixture_setup, test_store_log_grows, fixture_teardown);
        g_test_add("/store/embedded/log-torn-flipped", Fixture, GINT_TO_POINTER(DAMAGE_FLIP), fixture_setup,
                   test_store_log_torn, fixture_teardown);
        g_test_add("/store/embedded/log-torn-truncated", Fixture, GINT_TO_POINTER(DAMAGE_TRUNCATE), fixture_setup,
                   test_store_log_torn, fixture_teardown);
        g_test_add("/store/embedded/log-old-epoch", Fixture, NULL, fixture_setup, test_store_log_old_epoch,
                   fixture_teardown);
        g_test_add("/store/embedded/log-big-batch", Fixture, NULL, fixture_setup, test_store_log_big_batch,
                   fixture_teardown);
        g_test_add("/store/embedded/log-unavailable", Fixture, NULL, fixture_setup, test_store_log_unavailable,
                   fixture_teardown);
        g_test_add("/store/embedded/log-append-fails", Fixture, NULL, fixture_setup, test_store_log_append_fails,
                   fixture_teardown);
        return g_test_run();
}
