/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "rv-test-harness.h"
#include "rv-test-pg.h"

/*
 * failover (docs/cluster.md), end to end: three nodes with a 3 s lease on one
 * throwaway PostgreSQL, each with its own state directory and bus, one shared
 * download directory, a torrent from a local seeder on each. A watcher reads
 * the torrents table every 50 ms the whole time and checks that every torrent
 * has exactly one owner at every moment and never goes back to a node that
 * lost it.
 *
 * - kill -9 of a node mid-download: its torrent is owned by another node
 *   within the bound and completes there with the seeder's bytes;
 * - the killed node restarts: it takes nothing back and writes nothing;
 * - SIGSTOP of a node past its lease, then SIGCONT: its torrents moved, and
 *   the woken node dropped them;
 * - PostgreSQL restarted under the nodes: no ownership change, nothing lost.
 */

#define LEASE_S 3
/* the documented bound: the lease, one renewal period, the restore */
#define BOUND_US ((LEASE_S + LEASE_S) * G_USEC_PER_SEC)
#define N_NODES 3
#define PAYLOAD (8 * 1024 * 1024)
#define PROPS_IFACE "org.freedesktop.DBus.Properties"

static RvTestPgCluster cluster;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)

typedef struct {
        char *conninfo;
        GThread *thread;
        gint stop;
        GMutex lock;
        /* hex -> GPtrArray of owners, in order of appearance */
        GHashTable *history;
        /* hex -> owner, the latest sample */
        GHashTable *owners;
        guint samples;
        guint failed;
        /* first violation seen, NULL when none */
        char *violation;
        guint expected;
} Watcher;

static void
watcher_violation(Watcher *w, char *message)
{
        if (w->violation == NULL)
                w->violation = message;
        else
                g_free(message);
}

static void
watcher_sample(Watcher *w, PGresult *res)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        g_mutex_lock(&w->lock);
        w->samples++;
        if ((guint)PQntuples(res) != w->expected)
                watcher_violation(w, g_strdup_printf("sample %u: %d torrent rows, expected %u", w->samples,
                                                     PQntuples(res), w->expected));
        for (int row = 0; row < PQntuples(res); row++) {
                const char *hex = PQgetvalue(res, row, 0);
                const char *owner = PQgetvalue(res, row, 1);
                guint64 epoch = g_ascii_strtoull(PQgetvalue(res, row, 2), NULL, 10);
                g_autofree char *entry = g_strdup_printf("%s@%" G_GUINT64_FORMAT, owner, epoch);
                GPtrArray *history = g_hash_table_lookup(w->history, hex);
                const char *last;

                if (!g_hash_table_add(seen, (gpointer)hex))
                        watcher_violation(w, g_strdup_printf("sample %u: torrent %s owned twice", w->samples, hex));
                if (history == NULL) {
                        history = g_ptr_array_new_with_free_func(g_free);
                        g_hash_table_insert(w->history, g_strdup(hex), history);
                }
                last = history->len > 0 ? g_ptr_array_index(history, history->len - 1) : NULL;
                /* an owner change comes with a newer ownership epoch; an epoch never goes back */
                if (last != NULL && !g_str_equal(last, entry)) {
                        const char *at = strrchr(last, '@');
                        guint64 last_epoch = g_ascii_strtoull(at + 1, NULL, 10);
                        gboolean same_owner = strncmp(last, owner, (gsize)(at - last)) == 0 && owner[at - last] == '\0';
                        if (epoch < last_epoch || (!same_owner && epoch == last_epoch))
                                watcher_violation(w, g_strdup_printf("sample %u: torrent %s went from %s to %s",
                                                                     w->samples, hex, last, entry));
                }
                if (last == NULL || !g_str_equal(last, entry))
                        g_ptr_array_add(history, g_steal_pointer(&entry));
                g_hash_table_insert(w->owners, g_strdup(hex), g_strdup(owner));
        }
        g_mutex_unlock(&w->lock);
}

static gpointer
watcher_thread(gpointer user_data)
{
        Watcher *w = user_data;
        PGconn *conn = NULL;

        while (!g_atomic_int_get(&w->stop)) {
                PGresult *res;

                if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
                        g_clear_pointer(&conn, PQfinish);
                        conn = PQconnectdb(w->conninfo);
                }
                res = PQexec(conn, "SELECT info_hash, node_id, owner_epoch FROM torrents ORDER BY info_hash");
                if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                        watcher_sample(w, res);
                } else {
                        /* the server is being restarted */
                        g_mutex_lock(&w->lock);
                        w->failed++;
                        g_mutex_unlock(&w->lock);
                }
                PQclear(res);
                g_usleep(50 * 1000);
        }
        g_clear_pointer(&conn, PQfinish);
        return NULL;
}

/* the owner of hex as the watcher saw it last (a copy) */
static char *
watcher_owner(Watcher *w, const char *hex)
{
        char *owner;

        g_mutex_lock(&w->lock);
        owner = g_strdup(g_hash_table_lookup(w->owners, hex));
        g_mutex_unlock(&w->lock);
        return owner;
}

static guint
torrent_count(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentCount");

        return g_variant_get_uint32(v);
}

static char *
torrent_path(const char *hex)
{
        return g_strdup_printf(RV_BUS_PATH "/torrent/%s", hex);
}

/* Done of the torrent on h, -1 when h does not have it */
static gint64
torrent_done(RvTestHarness *h, const char *hex)
{
        g_autofree char *path = torrent_path(hex);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply =
                rv_test_call(h, path, PROPS_IFACE, "Get", g_variant_new("(ss)", RV_BUS_TORRENT_IFACE, "Done"),
                             G_VARIANT_TYPE("(v)"), &error);
        g_autoptr(GVariant) value = NULL;

        if (reply == NULL)
                return -1;
        g_variant_get(reply, "(v)", &value);
        return (gint64)g_variant_get_uint64(value);
}

static void
add_torrent(RvTestHarness *h)
{
        g_autoptr(GBytes) data = rv_test_harness_seeder_torrent(h);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = rv_test_call(
                h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                g_variant_new("(@ay@a{sv})", g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, data, TRUE),
                              rv_test_options(h, NULL)),
                G_VARIANT_TYPE("(o)"), &error);

        (void)reply;
        g_assert_no_error(error);
}

static void
signal_daemon(RvTestHarness *h, int sig)
{
        const char *id = g_subprocess_get_identifier(h->daemon);

        g_assert_nonnull(id);
        g_assert_cmpint(kill((pid_t)atoi(id), sig), ==, 0);
}

/* the owner of hex in the table, waiting up to timeout_us for it to be other than not_owner; its time in µs */
static gint64
wait_owner_change(Watcher *w, const char *hex, const char *not_owner, gint64 timeout_us, char **ret_owner)
{
        gint64 start = g_get_monotonic_time();

        while (g_get_monotonic_time() - start < timeout_us) {
                g_autofree char *owner = watcher_owner(w, hex);
                if (owner != NULL && !g_str_equal(owner, not_owner)) {
                        *ret_owner = g_steal_pointer(&owner);
                        return g_get_monotonic_time() - start;
                }
                g_usleep(20 * 1000);
        }
        g_error("torrent %s still owned by %s after %.1f s", hex, not_owner, (double)timeout_us / G_USEC_PER_SEC);
        return -1;
}

static RvTestHarness *
node_named(RvTestHarness *nodes, const char *const *ids, const char *id)
{
        for (guint i = 0; i < N_NODES; i++) {
                if (g_str_equal(ids[i], id))
                        return &nodes[i];
        }
        g_error("no node '%s'", id);
        return NULL;
}

static void
wait_complete(RvTestHarness *h, const char *hex, guint timeout_s)
{
        gint64 start = g_get_monotonic_time();

        while (torrent_done(h, hex) < PAYLOAD) {
                if (g_get_monotonic_time() - start > (gint64)timeout_s * G_USEC_PER_SEC)
                        g_error("torrent %s not complete after %u s (done %" G_GINT64_FORMAT ")", hex, timeout_s,
                                torrent_done(h, hex));
                g_usleep(100 * 1000);
        }
}

static void
assert_same_bytes(const char *a, const char *b)
{
        g_autofree char *da = NULL;
        g_autofree char *db = NULL;
        gsize la = 0;
        gsize lb = 0;

        g_assert_true(g_file_get_contents(a, &da, &la, NULL));
        g_assert_true(g_file_get_contents(b, &db, &lb, NULL));
        g_assert_cmpuint(la, ==, lb);
        g_assert_true(memcmp(da, db, la) == 0);
}

/* how many torrent rows name id */
static guint
rows_of(const char *conninfo, const char *id)
{
        g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM torrents WHERE node_id = '%s'", id);
        g_autofree char *n = rv_test_pg_value(conninfo, sql);

        return (guint)atoi(n);
}

static void
wait_count(RvTestHarness *h, guint want, guint timeout_s, const char *what)
{
        gint64 start = g_get_monotonic_time();

        while (torrent_count(h) != want) {
                if (g_get_monotonic_time() - start > (gint64)timeout_s * G_USEC_PER_SEC)
                        g_error("%s: %u torrents, expected %u", what, torrent_count(h), want);
                g_usleep(100 * 1000);
        }
}

/* h's ListClusterTorrents names each of hashes with the node of ids at the same place, within 10 s */
static void
wait_cluster_listed(RvTestHarness *h, char *const *hashes, const char *const *ids)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = rv_test_call(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListClusterTorrents",
                                                         NULL, G_VARIANT_TYPE("(a(ssssbdttttxas))"), &error);
                g_autoptr(GVariant) rows = NULL;
                GVariantIter iter;
                const char *node;
                const char *hex;
                guint matched = 0;

                g_assert_no_error(error);
                rows = g_variant_get_child_value(reply, 0);
                g_variant_iter_init(&iter, rows);
                while (g_variant_iter_next(&iter, "(&s&s&s&sbdttttx^as)", &node, &hex, NULL, NULL, NULL, NULL, NULL,
                                           NULL, NULL, NULL, NULL, NULL)) {
                        for (guint i = 0; i < N_NODES; i++)
                                matched += g_str_equal(hex, hashes[i]) && g_str_equal(node, ids[i]);
                }
                if (matched == N_NODES)
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("the cluster list of a node names %u of the %d torrents with their owners", matched,
                                N_NODES);
                g_usleep(100 * 1000);
        }
}

static void
test_failover(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "failover");
        g_autofree char *shared = NULL;
        static const char *const ids[N_NODES] = { "node-a", "node-b", "node-c" };
        RvTestHarness nodes[N_NODES];
        char *hashes[N_NODES] = { NULL };
        Watcher w = { 0 };
        RvTestHarness *victim = &nodes[2];
        g_autofree char *taker = NULL;
        gint64 took;
        gint64 kill_at;

        for (guint i = 0; i < N_NODES; i++) {
                g_autofree char *extra = NULL;
                g_autofree char *name = g_strdup_printf("payload-%c.bin", 'a' + i);

                rv_test_harness_setup(&nodes[i]);
                if (shared == NULL)
                        shared = g_build_filename(nodes[0].dir, "shared-downloads", NULL);
                g_assert_cmpint(g_mkdir_with_parents(shared, 0755), ==, 0);
                g_free(nodes[i].downloads);
                nodes[i].downloads = g_strdup(shared);
                /* slow enough to be killed mid-download; the settings are shared, so the first node seeds them */
                extra = g_strdup_printf("[store]\nbackend=postgres\ndatabase-url=%s\nnode-id=%s\n"
                                        "[cluster]\nlease-seconds=%d\ntakeover=shared-storage\n"
                                        "[engine]\ndownload-limit=1048576\n",
                                        conninfo, ids[i], LEASE_S);
                rv_test_harness_write_config(&nodes[i], extra);
                rv_test_harness_start_daemon(&nodes[i]);
                rv_test_harness_start_seeder(&nodes[i], name, PAYLOAD, 1, FALSE, 0);
                hashes[i] = g_strdup(nodes[i].seeder.hash);
        }

        /* a torrent on each node; the table lists each with its owner */
        for (guint i = 0; i < N_NODES; i++)
                add_torrent(&nodes[i]);
        {
                g_autoptr(PGresult) res = rv_test_pg_exec(
                        conninfo, "SELECT info_hash, node_id, owner_epoch FROM torrents ORDER BY node_id");
                g_assert_cmpint(PQntuples(res), ==, N_NODES);
                for (int row = 0; row < PQntuples(res); row++) {
                        g_test_message("%s owned by %s, epoch %s", PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
                                       PQgetvalue(res, row, 2));
                        g_assert_cmpstr(PQgetvalue(res, row, 0), ==, hashes[row]);
                        g_assert_cmpstr(PQgetvalue(res, row, 1), ==, ids[row]);
                }
        }
        /* and every node lists all three with their owners */
        for (guint i = 0; i < N_NODES; i++)
                wait_cluster_listed(&nodes[i], hashes, ids);
        w.conninfo = conninfo;
        w.expected = N_NODES;
        w.history = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        w.owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_mutex_init(&w.lock);
        w.thread = g_thread_new("watcher", watcher_thread, &w);

        /* kill -9 of C mid-download: another node owns its torrent within the bound and completes it */
        while (torrent_done(victim, hashes[2]) < PAYLOAD / 8)
                g_usleep(50 * 1000);
        g_assert_cmpint(torrent_done(victim, hashes[2]), <, PAYLOAD);
        g_test_message("killing node-c at %" G_GINT64_FORMAT " of %d bytes", torrent_done(victim, hashes[2]), PAYLOAD);
        kill_at = g_get_monotonic_time();
        rv_test_harness_kill_daemon(victim);
        took = wait_owner_change(&w, hashes[2], "node-c", 3 * BOUND_US, &taker);
        g_test_message("takeover after kill -9: owned by %s %.2f s after the kill (lease %d s)", taker,
                       (double)took / G_USEC_PER_SEC, LEASE_S);
        g_assert_cmpint(took, <, BOUND_US);
        {
                RvTestHarness *owner = node_named(nodes, ids, taker);
                gint64 listed = 0;
                while (torrent_done(owner, hashes[2]) < 0)
                        g_usleep(20 * 1000);
                listed = g_get_monotonic_time() - kill_at;
                g_test_message("takeover after kill -9: running on %s %.2f s after the kill", taker,
                               (double)listed / G_USEC_PER_SEC);
                for (guint i = 0; i < N_NODES; i++)
                        wait_complete(g_str_equal(ids[i], "node-c") ? owner : &nodes[i], hashes[i], 60);
        }
        for (guint i = 0; i < N_NODES; i++) {
                g_autofree char *name = g_path_get_basename(nodes[i].seeder.payload);
                g_autofree char *got = g_build_filename(shared, name, NULL);
                assert_same_bytes(nodes[i].seeder.payload, got);
        }

        /* C restarts: it takes nothing back and writes nothing */
        rv_test_harness_start_daemon(victim);
        g_assert_cmpuint(torrent_count(victim), ==, 0);
        g_usleep(2 * LEASE_S * G_USEC_PER_SEC);
        g_assert_cmpuint(torrent_count(victim), ==, 0);
        g_assert_cmpuint(rows_of(conninfo, "node-c"), ==, 0);

        /* SIGSTOP of A past its lease: its torrent moves; woken, A drops it and writes nothing */
        {
                g_autofree char *moved_to = NULL;
                guint a_rows = rows_of(conninfo, "node-a");
                g_autofree char *a_hash = g_strdup(hashes[0]);

                g_assert_cmpuint(a_rows, >=, 1);
                signal_daemon(&nodes[0], SIGSTOP);
                took = wait_owner_change(&w, a_hash, "node-a", 3 * BOUND_US, &moved_to);
                g_test_message("takeover after SIGSTOP: owned by %s %.2f s after the stop", moved_to,
                               (double)took / G_USEC_PER_SEC);
                g_assert_cmpint(took, <, BOUND_US);
                /* every row of A moved before A wakes */
                while (rows_of(conninfo, "node-a") > 0)
                        g_usleep(50 * 1000);
                signal_daemon(&nodes[0], SIGCONT);
                wait_count(&nodes[0], 0, 10, "node-a woken from SIGSTOP");
                g_usleep(LEASE_S * G_USEC_PER_SEC);
                g_assert_cmpuint(rows_of(conninfo, "node-a"), ==, 0);
                g_assert_cmpuint(torrent_count(&nodes[0]), ==, 0);
        }

        /* PostgreSQL restarted under the nodes: no ownership change, nothing lost */
        {
                g_autofree char *before = rv_test_pg_value(
                        conninfo,
                        "SELECT string_agg(info_hash || '=' || node_id, ',' ORDER BY info_hash) FROM torrents");
                g_autofree char *after = NULL;
                guint counts[N_NODES];

                for (guint i = 0; i < N_NODES; i++)
                        counts[i] = torrent_count(&nodes[i]);
                g_assert_cmpint(rv_test_pg_run(&cluster, "stop"), ==, 0);
                g_usleep(G_USEC_PER_SEC);
                g_assert_cmpint(rv_test_pg_run(&cluster, "start"), ==, 0);
                g_usleep(3 * LEASE_S * G_USEC_PER_SEC);
                after = rv_test_pg_value(
                        conninfo,
                        "SELECT string_agg(info_hash || '=' || node_id, ',' ORDER BY info_hash) FROM torrents");
                g_assert_cmpstr(after, ==, before);
                for (guint i = 0; i < N_NODES; i++)
                        g_assert_cmpuint(torrent_count(&nodes[i]), ==, counts[i]);
        }

        g_atomic_int_set(&w.stop, 1);
        g_thread_join(w.thread);
        g_test_message("watcher: %u samples, %u while the server was away", w.samples, w.failed);
        {
                GHashTableIter iter;
                gpointer hex;
                gpointer history;
                g_hash_table_iter_init(&iter, w.history);
                while (g_hash_table_iter_next(&iter, &hex, &history)) {
                        g_autoptr(GString) line = g_string_new(NULL);
                        GPtrArray *owners = history;
                        for (guint i = 0; i < owners->len; i++)
                                g_string_append_printf(line, "%s%s", i > 0 ? " -> " : "",
                                                       (const char *)g_ptr_array_index(owners, i));
                        g_test_message("owners of %s: %s", (const char *)hex, line->str);
                }
        }
        if (w.violation != NULL)
                g_error("watcher: %s", w.violation);
        g_assert_cmpuint(w.samples, >, 100);

        for (guint i = 0; i < N_NODES; i++) {
                g_assert_cmpint(rv_test_harness_stop_daemon(&nodes[i]), ==, 0);
                rv_test_harness_teardown(&nodes[i]);
                g_free(hashes[i]);
        }
        g_hash_table_unref(w.history);
        g_hash_table_unref(w.owners);
        g_mutex_clear(&w.lock);
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
        g_test_add_func("/cluster/failover", test_failover);
        ret = g_test_run();
        rv_test_pg_destroy(&cluster);
        return ret;
}
