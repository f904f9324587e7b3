/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "rv-engine.h"
#include "rv-test-data.h"
#include "rv-test-harness.h"
#include "rv-test-pg.h"

/*
 * revaerd on PostgreSQL, end to end: two daemons on one database see each
 * other's settings changes within the budget and keep their own torrents; a
 * daemon outlives an outage of the server with its writes queued and its
 * torrents running; a bad database URL stops the start with a clear error
 * that does not echo the password
 *
 * one throwaway cluster per run (tests/data/pg-cluster.sh, needs root), one
 * database per test, each daemon on a private session bus of its own
 */

#define ENGINE_PATH RV_BUS_PATH "/policy/engine"
#define POLICY_IFACE "com.revaer.Revaer1.Policy"
#define ENGINE_IFACE POLICY_IFACE ".Engine"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define MIB (1024 * 1024)
/* the budget for a change through one node to be applied by another */
#define BUDGET_US (2 * G_USEC_PER_SEC)
#define SECRET "Pa55-not-for-logs"

static RvTestPgCluster cluster;

static void
use_postgres(RvTestHarness *h, const char *conninfo, const char *node_id)
{
        g_autofree char *extra =
                g_strdup_printf("[store]\nbackend=postgres\ndatabase-url=%s\nnode-id=%s\n", conninfo, node_id);

        rv_test_harness_write_config(h, extra);
}

/* D-Bus helpers */

static void
set_prop(RvTestHarness *h, const char *path, const char *iface, const char *prop, GVariant *value)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply =
                rv_test_call(h, path, PROPS_IFACE, "Set", g_variant_new("(ssv)", iface, prop, value), NULL, &error);
        (void)reply;

        g_assert_no_error(error);
}

static gint64
download_limit(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, ENGINE_PATH, ENGINE_IFACE, "DownloadLimit");

        return g_variant_get_int64(v);
}

static guint64
revision(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, ENGINE_PATH, POLICY_IFACE, "Revision");

        return g_variant_get_uint64(v);
}

static guint
torrent_count(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentCount");

        return g_variant_get_uint32(v);
}

static char *
health(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "Health");

        return g_variant_dup_string(v, NULL);
}

/* the reason given for component in Degraded, NULL when it is not listed */
static char *
degraded_reason(RvTestHarness *h, const char *component)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "Degraded");
        GVariantIter iter;
        const char *c;
        const char *reason;

        g_variant_iter_init(&iter, v);
        while (g_variant_iter_next(&iter, "(&s&s)", &c, &reason)) {
                if (g_strcmp0(c, component) == 0)
                        return g_strdup(reason);
        }
        return NULL;
}

static guint64
torrent_done(RvTestHarness *h, const char *path)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, path, RV_BUS_TORRENT_IFACE, "Done");

        return g_variant_get_uint64(v);
}

static char *
add_torrent(RvTestHarness *h, GBytes *data, GVariant *options)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        char *path = NULL;

        reply = rv_test_call(
                h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                g_variant_new("(@ay@a{sv})", g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, data, TRUE), options),
                G_VARIANT_TYPE("(o)"), &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(o)", &path);
        return path;
}

static GVariant *
options_paused(void)
{
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "paused", g_variant_new_boolean(TRUE));
        return g_variant_builder_end(&b);
}

/* a .torrent of a small file nobody seeds */
static GBytes *
make_torrent(RvTestHarness *h, const char *name, guint64 seed)
{
        g_autofree char *dir = g_build_filename(h->dir, "made", NULL);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        GBytes *torrent;

        g_mkdir_with_parents(dir, 0755);
        g_assert_true(rv_test_data_write_file(path, 64 * 1024, seed, &error));
        g_assert_no_error(error);
        torrent = rv_engine_create_torrent(path, 0, NULL, &error);
        g_assert_no_error(error);
        return torrent;
}

static const char *
hash_of_path(const char *path)
{
        g_assert_cmpuint(strlen(path), >, RV_INFO_HASH_HEX_LEN);
        return path + strlen(path) - RV_INFO_HASH_HEX_LEN;
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/* waits for a query to return want (string compare), up to timeout_s */
static void
wait_pg_value(const char *conninfo, const char *sql, const char *want, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *value = rv_test_pg_value(conninfo, sql);
                if (g_strcmp0(value, want) == 0)
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("'%s' gave '%s', not '%s', within %u s", sql, value, want, timeout_s);
                g_usleep(50000);
        }
}

/* the daemon logs to stderr (its log file) unless a journal took it */
static gboolean
log_is_console(RvTestHarness *h)
{
        g_autofree char *log = rv_test_read_log(h);

        return log != NULL && strstr(log, "ready:") != NULL;
}

/*
 * two daemons on one database, each on its own bus: a change through one is
 * applied by the other within the budget (both ways, several times), with the
 * same revision; torrents belong to the node that added them
 */
static void
test_two_nodes(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "two_nodes");
        RvTestHarness a;
        RvTestHarness b;
        RvTestHarness *nodes[2] = { &a, &b };
        g_autoptr(GArray) latency = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GBytes) torrent = NULL;
        g_autofree char *path_a = NULL;
        g_autofree char *sql = NULL;
        g_autofree char *owners = NULL;
        const guint n_changes = 20;
        guint64 last_rev = 0;

        rv_test_harness_setup(&a);
        rv_test_harness_setup(&b);
        use_postgres(&a, conninfo, "node-a");
        use_postgres(&b, conninfo, "node-b");
        rv_test_harness_start_daemon(&a);
        rv_test_harness_start_daemon(&b);
        /* one seeded the settings, the other found them */
        g_assert_cmpuint(revision(&a), ==, revision(&b));
        g_assert_cmpint(download_limit(&a), ==, download_limit(&b));

        for (guint i = 0; i < n_changes; i++) {
                RvTestHarness *from = nodes[i % 2];
                RvTestHarness *to = nodes[(i + 1) % 2];
                gint64 value = 1000000 + (gint64)i * 1000;
                gint64 start = g_get_monotonic_time();
                gint64 elapsed;
                guint64 rev;

                set_prop(from, ENGINE_PATH, ENGINE_IFACE, "DownloadLimit", g_variant_new_int64(value));
                while (download_limit(to) != value) {
                        if (g_get_monotonic_time() - start > BUDGET_US)
                                g_error("change %u (%" G_GINT64_FORMAT ") not applied by the other node within 2 s", i,
                                        value);
                        g_usleep(1000);
                }
                elapsed = g_get_monotonic_time() - start;
                g_array_append_val(latency, elapsed);
                rev = revision(from);
                g_assert_cmpuint(revision(to), ==, rev);
                g_assert_cmpuint(rev, >, last_rev);
                last_rev = rev;
        }
        g_array_sort(latency, cmp_gint64);
        g_test_message("set on one node until the other's property reports it, %u changes: median %.1f ms, max %.1f ms",
                       n_changes, (double)g_array_index(latency, gint64, n_changes / 2) / 1000.0,
                       (double)g_array_index(latency, gint64, n_changes - 1) / 1000.0);
        g_assert_cmpint(g_array_index(latency, gint64, n_changes - 1), <, BUDGET_US);
        /* the stored document and the history agree */
        sql = g_strdup("SELECT revision::text || ' ' || (document->'engine'->>'download_limit') FROM settings");
        {
                g_autofree char *stored = rv_test_pg_value(conninfo, sql);
                g_autofree char *want = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT, last_rev,
                                                        (gint64)1000000 + (gint64)(n_changes - 1) * 1000);
                g_assert_cmpstr(stored, ==, want);
        }
        /* and each receiving daemon said so: the last change went B -> A, the one before A -> B */
        for (guint k = 0; k < 2 && log_is_console(&a) && log_is_console(&b); k++) {
                g_autofree char *log = rv_test_read_log(nodes[k]);
                g_autofree char *line =
                        g_strdup_printf("settings revision %" G_GUINT64_FORMAT " by elsewhere", last_rev - k);
                if (strstr(log, line) == NULL)
                        g_error("node %u's log has no '%s':\n%s", k, line, log);
        }

        /* a torrent added on A is A's: B does not list it, its row names node-a */
        rv_test_harness_start_seeder(&a, "owned.bin", 256 * 1024, 1, FALSE, 0);
        torrent = rv_test_harness_seeder_torrent(&a);
        path_a = add_torrent(&a, torrent, rv_test_options(&a, NULL));
        g_assert_cmpuint(torrent_count(&a), ==, 1);
        g_assert_cmpuint(torrent_count(&b), ==, 0);
        g_free(sql);
        sql = g_strdup_printf("SELECT string_agg(node_id, ',' ORDER BY node_id) FROM torrents WHERE info_hash = '%s'",
                              a.seeder.hash);
        owners = rv_test_pg_value(conninfo, sql);
        g_assert_cmpstr(owners, ==, "node-a");

        /* one owner per info hash (docs/cluster.md): the same torrent on B is refused, naming its owner */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = rv_test_call(
                        &b, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                        g_variant_new("(@ay@a{sv})", g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, torrent, TRUE),
                                      options_paused()),
                        G_VARIANT_TYPE("(o)"), &error);
                (void)reply;
                g_assert_nonnull(error);
                g_assert_nonnull(strstr(error->message, "Conflict"));
                g_assert_nonnull(strstr(error->message, "owned by node 'node-a'"));
        }
        g_free(owners);
        owners = rv_test_pg_value(conninfo, sql);
        g_assert_cmpstr(owners, ==, "node-a");
        g_assert_cmpuint(torrent_count(&b), ==, 0);
        g_assert_cmpuint(torrent_count(&a), ==, 1);

        /* a restart of B loads B's rows only */
        g_assert_cmpint(rv_test_harness_stop_daemon(&b), ==, 0);
        rv_test_harness_start_daemon(&b);
        g_assert_cmpuint(torrent_count(&b), ==, 0);
        g_assert_cmpuint(revision(&b), ==, last_rev);

        g_assert_cmpint(rv_test_harness_stop_daemon(&a), ==, 0);
        g_assert_cmpint(rv_test_harness_stop_daemon(&b), ==, 0);
        rv_test_harness_teardown(&a);
        rv_test_harness_teardown(&b);
}

typedef struct {
        gboolean done;
        char *path;
        GError *error;
} AsyncAdd;

static void
async_add_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        AsyncAdd *add = user_data;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &add->error);

        if (reply != NULL)
                g_variant_get(reply, "(o)", &add->path);
        add->done = TRUE;
}

/* polls until pred holds, running the default main context so async replies come in */
typedef gboolean (*WaitFunc)(RvTestHarness *h, gconstpointer data);

static void
wait_for(RvTestHarness *h, WaitFunc func, gconstpointer data, guint timeout_s, const char *what)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        while (!func(h, data)) {
                if (g_get_monotonic_time() > deadline) {
                        g_autofree char *log = rv_test_read_log(h);
                        g_printerr("%s\n", log != NULL ? log : "");
                        g_error("timed out after %u s waiting for %s", timeout_s, what);
                }
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                g_usleep(20000);
        }
}

static gboolean
health_is(RvTestHarness *h, gconstpointer data)
{
        g_autofree char *status = health(h);

        return g_strcmp0(status, data) == 0;
}

typedef struct {
        const char *path;
        guint64 at_least;
} DoneAtLeast;

static gboolean
done_at_least(RvTestHarness *h, gconstpointer data)
{
        const DoneAtLeast *d = data;

        return torrent_done(h, d->path) >= d->at_least;
}

static gboolean
completed(RvTestHarness *h, gconstpointer data)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, data, RV_BUS_TORRENT_IFACE, "Completed");

        return g_variant_get_boolean(v);
}

static gboolean
add_done(RvTestHarness *h, gconstpointer data)
{
        const AsyncAdd *add = data;

        return add->done;
}

/*
 * the server stops under a running daemon and comes back, nobody touches
 * the daemon: health goes degraded and back to ok, writes made meanwhile
 * reach the database, the download goes on throughout and its data is whole
 */
static void
test_outage(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "outage");
        RvTestHarness h;
        g_autoptr(GBytes) seeded = NULL;
        g_autoptr(GBytes) idle = NULL;
        g_autoptr(GBytes) late = NULL;
        g_autofree char *path1 = NULL;
        g_autofree char *path2 = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *dest = NULL;
        g_autofree char *sum_src = NULL;
        g_autofree char *sum_dst = NULL;
        const char *labels[] = { "during-outage", NULL };
        const gint64 size = 20 * MIB;
        AsyncAdd add = { 0 };
        DoneAtLeast want = { 0 };
        guint64 done_at_stop;
        gint64 stopped_at;
        gint64 degraded_after;
        gint64 ok_after;

        rv_test_harness_setup(&h);
        use_postgres(&h, conninfo, "node-outage");
        rv_test_harness_start_daemon(&h);
        rv_test_harness_start_seeder(&h, "outage.bin", size, 1, FALSE, 256 * 1024);
        seeded = rv_test_harness_seeder_torrent(&h);
        /* 2 MB/s: about 10 s for the whole, so the outage falls in the middle */
        path1 = add_torrent(&h, seeded, rv_test_options(&h, "download_limit", g_variant_new_int64(2000000), NULL));
        idle = make_torrent(&h, "idle.bin", 11);
        path2 = add_torrent(&h, idle, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
        want.path = path1;
        want.at_least = 2 * MIB;
        wait_for(&h, done_at_least, &want, 15, "the first 2 MiB");
        {
                g_autofree char *status = health(&h);
                g_assert_cmpstr(status, ==, "ok");
        }

        g_assert_cmpint(rv_test_pg_run(&cluster, "stop"), ==, 0);
        stopped_at = g_get_monotonic_time();
        done_at_stop = torrent_done(&h, path1);
        wait_for(&h, health_is, "degraded", 10, "health to go degraded");
        degraded_after = g_get_monotonic_time() - stopped_at;
        reason = degraded_reason(&h, "store");
        g_assert_nonnull(reason);
        g_test_message("degraded %.0f ms after the stop: %s", (double)degraded_after / 1000.0, reason);

        /* writes while the server is away: a pause, labels, and an add whose reply waits for durability */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = rv_test_call(&h, path2, RV_BUS_TORRENT_IFACE, "Pause", NULL, NULL, &error);
                (void)reply;
                g_assert_no_error(error);
        }
        set_prop(&h, path1, RV_BUS_TORRENT_IFACE, "Labels", g_variant_new_strv(labels, -1));
        late = make_torrent(&h, "late.bin", 12);
        g_dbus_connection_call(h.conn, RV_BUS_NAME, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                               g_variant_new("(@ay@a{sv})",
                                             g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, late, TRUE),
                                             options_paused()),
                               G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 60000, NULL, async_add_cb, &add);

        /* the download goes on meanwhile */
        want.at_least = done_at_stop + 2 * MIB;
        wait_for(&h, done_at_least, &want, 10, "2 MiB more during the outage");
        while (g_get_monotonic_time() - stopped_at < 3 * G_USEC_PER_SEC) {
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                g_usleep(50000);
        }
        {
                g_autofree char *status = health(&h);
                g_assert_cmpstr(status, ==, "degraded");
        }
        g_assert_false(add.done);
        g_test_message("%.1f MiB downloaded during the outage so far",
                       (double)(torrent_done(&h, path1) - done_at_stop) / MIB);

        /* the same cluster comes back on the same port; nobody tells the daemon */
        g_assert_cmpint(rv_test_pg_run(&cluster, "start"), ==, 0);
        wait_for(&h, health_is, "ok", 15, "health to be ok again");
        ok_after = g_get_monotonic_time() - stopped_at;
        g_test_message("ok again %.1f s after the stop", (double)ok_after / G_USEC_PER_SEC);
        g_assert_null(degraded_reason(&h, "store"));
        wait_for(&h, add_done, &add, 10, "the add made during the outage to reply");
        g_assert_no_error(add.error);

        /* everything queued is in the database */
        {
                g_autofree char *sql = NULL;
                g_autofree char *value = NULL;

                sql = g_strdup_printf("SELECT meta->>'paused' FROM torrents WHERE node_id = 'node-outage' "
                                      "AND info_hash = '%s'",
                                      hash_of_path(path2));
                value = rv_test_pg_value(conninfo, sql);
                g_assert_cmpstr(value, ==, "true");
                g_free(sql);
                g_free(value);
                sql = g_strdup_printf("SELECT (meta->'labels') ? 'during-outage' FROM torrents "
                                      "WHERE node_id = 'node-outage' AND info_hash = '%s'",
                                      hash_of_path(path1));
                value = rv_test_pg_value(conninfo, sql);
                g_assert_cmpstr(value, ==, "t");
                g_free(sql);
                g_free(value);
                sql = g_strdup_printf("SELECT count(*) FROM torrents WHERE node_id = 'node-outage' "
                                      "AND info_hash = '%s' AND resume IS NOT NULL",
                                      hash_of_path(add.path));
                value = rv_test_pg_value(conninfo, sql);
                g_assert_cmpstr(value, ==, "1");
                g_free(value);
                value = rv_test_pg_value(conninfo, "SELECT count(*) FROM torrents");
                g_assert_cmpstr(value, ==, "3");
        }

        /* and the download ends whole */
        wait_for(&h, completed, path1, 30, "the download to complete");
        dest = g_build_filename(h.downloads, "outage.bin", NULL);
        sum_src = rv_test_data_checksum_file(h.seeder.payload);
        sum_dst = rv_test_data_checksum_file(dest);
        g_assert_nonnull(sum_src);
        g_assert_cmpstr(sum_dst, ==, sum_src);
        {
                g_autofree char *sql = g_strdup_printf("SELECT meta->>'completed' FROM torrents WHERE info_hash = '%s'",
                                                       hash_of_path(path1));
                wait_pg_value(conninfo, sql, "true", 5);
        }

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        g_free(add.path);
        rv_test_harness_teardown(&h);
}

/*
 * reliability issue, defect 6: the nodes table was never written, though
 * each daemon is to record itself there with a last-seen time. A running
 * daemon's row appears at start, with the host name, and its last_seen moves
 * on every 10 s while it runs
 */
static void
test_node_seen(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "node_seen");
        const char *row = "SELECT count(*) FROM nodes WHERE node_id = 'node-seen'";
        RvTestHarness h;
        g_autofree char *first = NULL;
        g_autofree char *name = NULL;
        g_autofree char *later = NULL;
        g_autofree char *moved = NULL;
        gint64 start;

        rv_test_harness_setup(&h);
        use_postgres(&h, conninfo, "node-seen");
        rv_test_harness_start_daemon(&h);
        wait_pg_value(conninfo, row, "1", 5);
        first = rv_test_pg_value(conninfo, "SELECT last_seen::text FROM nodes WHERE node_id = 'node-seen'");
        name = rv_test_pg_value(conninfo, "SELECT name FROM nodes WHERE node_id = 'node-seen'");
        g_assert_cmpstr(name, ==, g_get_host_name());
        {
                g_autofree char *age = rv_test_pg_value(
                        conninfo,
                        "SELECT (now() - last_seen < interval '10 s')::text FROM nodes WHERE node_id = 'node-seen'");
                g_assert_cmpstr(age, ==, "true");
        }

        /* nobody touches the daemon: its row is touched all the same */
        start = g_get_monotonic_time();
        moved = g_strdup_printf("SELECT (last_seen > '%s'::timestamptz)::text FROM nodes WHERE node_id = 'node-seen'",
                                first);
        wait_pg_value(conninfo, moved, "true", 20);
        later = rv_test_pg_value(conninfo, "SELECT last_seen::text FROM nodes WHERE node_id = 'node-seen'");
        g_test_message("last_seen %s, then %s after %.1f s", first, later,
                       (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
        {
                g_autofree char *nodes = rv_test_pg_value(conninfo, "SELECT count(*) FROM nodes");
                g_assert_cmpstr(nodes, ==, "1");
        }

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/*
 * reliability issue, defect 5: during an outage the daemon held an add's
 * reply until the server was back, with no bound; the client gave up and
 * said the add failed, and then the torrent was added and stored anyway.
 * The daemon's wait is bounded (add-timeout, 2 s here): the add fails with
 * Unavailable, the torrent is not added, and the write queued for it does
 * not reach the database when the server returns.
 */
static void
test_add_timeout(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "add_timeout");
        g_autofree char *extra = g_strdup_printf("[store]\nbackend=postgres\ndatabase-url=%s\nnode-id=node-late\n"
                                                 "[daemon]\nadd-timeout=2\n",
                                                 conninfo);
        RvTestHarness h;
        g_autoptr(GBytes) first = NULL;
        g_autoptr(GBytes) late = NULL;
        g_autofree char *path = NULL;
        g_autofree char *late_hash = NULL;
        g_autofree char *sql = NULL;
        g_autofree char *value = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, extra);
        rv_test_harness_start_daemon(&h);
        first = make_torrent(&h, "first.bin", 21);
        path = add_torrent(&h, first, options_paused());
        late = make_torrent(&h, "late.bin", 22);
        {
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, late, NULL);
                g_assert_nonnull(source);
                late_hash = g_strdup(rv_engine_source_get_info(source)->hash.hex);
        }

        g_assert_cmpint(rv_test_pg_run(&cluster, "stop"), ==, 0);
        wait_for(&h, health_is, "degraded", 10, "health to go degraded");
        /* twice: the first add left nothing behind that would make the second a Conflict */
        for (guint i = 0; i < 2; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = NULL;
                g_autofree char *name = NULL;
                gint64 start = g_get_monotonic_time();
                double elapsed;

                reply = rv_test_call(&h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                                     g_variant_new("(@ay@a{sv})",
                                                   g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, late, TRUE),
                                                   options_paused()),
                                     G_VARIANT_TYPE("(o)"), &error);
                elapsed = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
                g_assert_null(reply);
                name = rv_test_error_name(error);
                g_test_message("add %u during the outage: %s after %.1f s: %s", i, name, elapsed, error->message);
                g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.Unavailable");
                g_assert_nonnull(strstr(error->message, "not stored within 2.0 s"));
                g_assert_nonnull(strstr(error->message, "not added"));
                g_assert_cmpfloat(elapsed, >=, 1.9);
                g_assert_cmpfloat(elapsed, <, 10.0);
        }
        g_assert_cmpuint(torrent_count(&h), ==, 1);

        /* the server comes back and the queue is written: the refused torrent is not in it */
        g_assert_cmpint(rv_test_pg_run(&cluster, "start"), ==, 0);
        wait_for(&h, health_is, "ok", 15, "health to be ok again");
        sql = g_strdup_printf("SELECT count(*) FROM torrents WHERE info_hash = '%s'", late_hash);
        value = rv_test_pg_value(conninfo, sql);
        g_assert_cmpstr(value, ==, "0");
        g_clear_pointer(&value, g_free);
        value = rv_test_pg_value(conninfo, "SELECT count(*) FROM torrents");
        g_assert_cmpstr(value, ==, "1");
        g_assert_cmpuint(torrent_count(&h), ==, 1);

        /* nor after a restart; and with the server there the add works */
        rv_test_harness_kill_daemon(&h);
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(torrent_count(&h), ==, 1);
        {
                g_autofree char *added = add_torrent(&h, late, options_paused());
                g_assert_true(g_str_has_suffix(added, late_hash));
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* a bad database URL: exit 1 with an error that names the problem and never the password */
static void
test_bad_url(void)
{
        g_autofree char *nowhere = g_build_filename(cluster.dir, "nowhere", NULL);
        g_autofree char *socket_url = g_strdup_printf("host=%s port=5432 user=revaer password=" SECRET, nowhere);
        const struct {
                /* in revaerd.conf, or in DATABASE_URL when env is set */
                const char *url;
                gboolean env;
                const char *expect[3];
        } cases[] = {
                { "postgresql://revaer:" SECRET "@localhost/revaer?hots=db.example.net",
                  TRUE,
                  { "cannot start: database URL: ", "hots", NULL } },
                { "host=localhost hots=db.example.net password=" SECRET,
                  FALSE,
                  { "cannot start: database URL: ", "invalid connection option \"hots\"", NULL } },
                { "postgresql://revaer:" SECRET "@127.0.0.1:1/revaer?connect_timeout=5",
                  FALSE,
                  { "cannot start: cannot connect to PostgreSQL", "Connection refused", NULL } },
                { socket_url,
                  TRUE,
                  { "cannot start: cannot connect to PostgreSQL", "No such file or directory", NULL } },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                RvTestHarness h;
                g_autofree char *extra = NULL;
                g_autofree char *log = NULL;
                gint64 start;
                int status;

                rv_test_harness_setup(&h);
                if (cases[i].env) {
                        extra = g_strdup("[store]\nbackend=postgres\n");
                        rv_test_harness_set_daemon_env(&h, "DATABASE_URL", cases[i].url);
                } else {
                        extra = g_strdup_printf("[store]\nbackend=postgres\ndatabase-url=%s\n", cases[i].url);
                }
                rv_test_harness_write_config(&h, extra);
                start = g_get_monotonic_time();
                rv_test_harness_spawn_daemon(&h);
                status = rv_test_harness_wait_daemon(&h, 20);
                log = rv_test_read_log(&h);
                g_test_message("case %u: exit %d after %.0f ms", i, status,
                               (double)(g_get_monotonic_time() - start) / 1000.0);
                if (status != 1)
                        g_error("case %u: revaerd exited with %d, not 1:\n%s", i, status, log);
                for (guint k = 0; cases[i].expect[k] != NULL; k++) {
                        if (strstr(log, cases[i].expect[k]) == NULL)
                                g_error("case %u: no '%s' in:\n%s", i, cases[i].expect[k], log);
                }
                if (strstr(log, SECRET) != NULL)
                        g_error("case %u: the password is in the log:\n%s", i, log);
                {
                        /* the line a person reads */
                        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
                        for (guint k = 0; lines[k] != NULL; k++) {
                                if (strstr(lines[k], "cannot start:") != NULL)
                                        g_test_message("case %u: %s", i, lines[k]);
                        }
                }
                rv_test_harness_teardown(&h);
        }
}

int
main(int argc, char **argv)
{
        int status;
        int ret;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        status = rv_test_pg_start_or_skip(&cluster);
        if (status != 0)
                return status;
        g_test_add_func("/pg/two-nodes", test_two_nodes);
        g_test_add_func("/pg/outage", test_outage);
        g_test_add_func("/pg/add-timeout", test_add_timeout);
        g_test_add_func("/pg/bad-url", test_bad_url);
        g_test_add_func("/pg/node-seen", test_node_seen);
        ret = g_test_run();
        rv_test_pg_destroy(&cluster);
        return ret;
}
