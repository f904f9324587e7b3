/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <libpq-fe.h>

#include "rv-faults-common.h"
#include "rv-test-pg.h"

/*
 * PostgreSQL drops revaerd's connection in the middle of a transaction: the
 * test holds a lock the daemon's write batch waits on, so the batch is inside
 * its transaction for certain, then ends it from outside, either by
 * pg_terminate_backend() on the daemon's backend (and again every 20 ms
 * while the rest of the workload runs) or by stopping the whole cluster,
 * which comes back 3 s later. For each: health turns degraded, the daemon
 * keeps answering, reconnects and writes its queue, health is ok again;
 * after a kill -9 everything acknowledged is in the database and nothing
 * refused is; a client that tries the refused operations again ends with
 * exactly what the same workload leaves on a database without faults.
 *
 * one throwaway cluster per run (tests/data/pg-cluster.sh, needs root), one
 * database per test
 */

static RvTestPgCluster cluster;

static char *
store_config(const char *database)
{
        g_autofree char *admin = rv_test_pg_conninfo(&cluster, "postgres");
        g_autofree char *sql = g_strdup_printf("CREATE DATABASE %s", database);
        g_autofree char *conninfo = NULL;

        g_free(rv_test_pg_value(admin, sql));
        conninfo = rv_test_pg_conninfo(&cluster, database);
        /* an add waits for its records at most 2 s: refused, not hanging, while the server is away */
        return g_strdup_printf(
                "[daemon]\nadd-timeout=2\n[store]\nbackend=postgres\ndatabase-url=%s\nnode-id=node-faults\n", conninfo);
}

/* made once per run, in a database of its own */
static const char *
reference(void)
{
        static const char *ref;

        if (ref == NULL) {
                g_autofree char *config = store_config("faults_reference");
                ref = rv_faults_reference(config);
        }
        return ref;
}

/* the daemon's main connection: its backend's pid once it waits on a lock, 0 meanwhile */
static char *
blocked_backend(const char *conninfo)
{
        return rv_test_pg_value(conninfo, "SELECT pid FROM pg_stat_activity WHERE application_name = 'revaerd' "
                                          "AND wait_event_type = 'Lock'");
}

/* BEGIN and a lock on the tables the daemon writes, on a connection of the test's own */
static PGconn *
hold_tables(const char *conninfo)
{
        PGconn *conn = PQconnectdb(conninfo);
        PGresult *res;

        g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);
        res = PQexec(conn, "BEGIN; LOCK TABLE torrents, settings, api_keys IN ACCESS EXCLUSIVE MODE");
        g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
        PQclear(res);
        return conn;
}

/* the workload's pause and labels are queued writes: their batch waits on the lock inside its transaction */
static char *
daemon_mid_transaction(RvFaultsDaemon *d, const char *conninfo)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        for (;;) {
                char *pid = blocked_backend(conninfo);
                if (pid != NULL)
                        return pid;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20000);
        }
}

typedef struct {
        char *conninfo;
        gint stop;
        guint killed;
} Killer;

/* ends the daemon's main backend every 20 ms until told to stop */
static gpointer
killer_thread(gpointer data)
{
        Killer *k = data;
        PGconn *conn = PQconnectdb(k->conninfo);

        while (!g_atomic_int_get(&k->stop) && PQstatus(conn) == CONNECTION_OK) {
                PGresult *res = PQexec(conn, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                             "WHERE application_name = 'revaerd'");
                if (PQresultStatus(res) == PGRES_TUPLES_OK)
                        k->killed += (guint)g_ascii_strtoull(PQgetvalue(res, 0, 0), NULL, 10);
                PQclear(res);
                g_usleep(20000);
        }
        PQfinish(conn);
        return NULL;
}

static gpointer
restart_thread(gpointer data)
{
        g_usleep(3 * G_USEC_PER_SEC);
        return GINT_TO_POINTER(rv_test_pg_run(&cluster, "start"));
}

static void
finish(RvFaultsDaemon *d, RvFaultsOutcome *o, const char *ref)
{
        g_autofree char *log = rv_test_read_log(&d->t.h);
        g_autofree char *after = NULL;
        gint64 start = g_get_monotonic_time();

        /* the degraded spell after a kill may be shorter than a poll: the log has every change */
        g_assert_nonnull(strstr(log, "health: store degraded"));
        g_assert_true(rv_test_harness_daemon_running(&d->t.h));
        rv_faults_wait_health(d, "ok", NULL, 20);
        g_test_message("ok again after %.1f s", (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);

        /* what the service records of its own after the key, refused during the fault, is recorded now */
        rv_faults_wait_mode(d, o);
        rv_test_harness_kill_daemon(&d->t.h);
        rv_faults_daemon_start(d);
        rv_faults_workload_check(d, o);
        rv_faults_workload_retry(d, o);
        rv_faults_daemon_stop(d);
        rv_faults_daemon_start(d);
        after = rv_faults_snapshot(d);
        g_assert_cmpstr(after, ==, ref);
        rv_faults_daemon_stop(d);
}

/*
 * the daemon on database with the workload's torrents, then its first two
 * operations (queued writes) with the tables locked: returns the pid of the
 * daemon's backend, waiting inside its transaction, and the lock's holder
 */
static char *
start_mid_transaction(RvFaultsDaemon *d, RvFaultsOutcome *o, const char *database, PGconn **ret_holder)
{
        g_autofree char *config = store_config(database);
        g_autofree char *conninfo = rv_test_pg_conninfo(&cluster, database);

        rv_faults_daemon_setup(d, config);
        rv_faults_daemon_start(d);
        rv_faults_workload_prepare(d);
        *ret_holder = hold_tables(conninfo);
        rv_faults_workload_run_first(d, o, 2);
        return daemon_mid_transaction(d, conninfo);
}

static void
test_terminate(void)
{
        const char *ref = reference();
        g_autofree char *conninfo = rv_test_pg_conninfo(&cluster, "faults_terminate");
        g_autofree char *pid = NULL;
        g_autofree char *sql = NULL;
        RvFaultsDaemon d;
        RvFaultsOutcome o = { 0 };
        Killer killer = { 0 };
        GThread *thread;
        PGconn *holder = NULL;

        pid = start_mid_transaction(&d, &o, "faults_terminate", &holder);
        sql = g_strdup_printf("SELECT pg_terminate_backend(%s)", pid);
        g_free(rv_test_pg_value(conninfo, sql));
        PQfinish(holder);

        /* the rest of the workload with the connection ended again and again */
        killer.conninfo = conninfo;
        thread = g_thread_new("killer", killer_thread, &killer);
        rv_faults_workload_run_rest(&d, &o, 2);
        g_usleep(500000);
        g_atomic_int_set(&killer.stop, 1);
        g_thread_join(thread);
        g_test_message("the daemon's backend was ended %u times after the first", killer.killed);
        g_assert_cmpuint(killer.killed, >, 0);

        finish(&d, &o, ref);
        rv_faults_daemon_teardown(&d);
        rv_faults_outcome_clear(&o);
}

static void
test_restart(void)
{
        const char *ref = reference();
        g_autofree char *pid = NULL;
        RvFaultsDaemon d;
        RvFaultsOutcome o = { 0 };
        GThread *thread;
        PGconn *holder = NULL;

        pid = start_mid_transaction(&d, &o, "faults_restart", &holder);
        g_test_message("the daemon's backend %s waits inside its transaction", pid);
        /* a fast shutdown aborts the transaction the daemon is in */
        g_assert_cmpint(rv_test_pg_run(&cluster, "stop"), ==, 0);
        PQfinish(holder);
        rv_faults_wait_health(&d, "degraded", "PostgreSQL is unavailable", 10);
        thread = g_thread_new("restart", restart_thread, NULL);
        rv_faults_workload_run_rest(&d, &o, 2);
        g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(thread)), ==, 0);

        finish(&d, &o, ref);
        rv_faults_daemon_teardown(&d);
        rv_faults_outcome_clear(&o);
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
        g_test_add_func("/faults/pg/terminate", test_terminate);
        g_test_add_func("/faults/pg/restart", test_restart);
        ret = g_test_run();
        rv_test_pg_destroy(&cluster);
        return ret;
}
