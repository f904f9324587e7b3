/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/wait.h>
#include <unistd.h>

#include "rv-test-data.h"
#include "rv-test-pg.h"

int
rv_test_pg_run(RvTestPgCluster *cluster, const char *command)
{
        g_autofree char *script = g_test_build_filename(G_TEST_DIST, "data", "pg-cluster.sh", NULL);
        g_autofree char *pid = g_strdup_printf("%d", (int)getpid());
        const char *argv[] = { "/bin/sh", script, command, cluster->dir, pid, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!g_str_equal(command, "start"))
                argv[4] = NULL;
        /* stdout is TAP's: the script's own (the conninfo) stays out of it */
        g_assert_true(
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
        g_assert_no_error(error);
        if (err != NULL && err[0] != '\0')
                g_test_message("pg-cluster.sh %s: %s", command, g_strstrip(err));
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
rv_test_pg_start(RvTestPgCluster *cluster)
{
        g_autofree char *port_file = NULL;
        int status;

        cluster->dir = g_dir_make_tmp("rv-test-pg-XXXXXX", NULL);
        g_assert_nonnull(cluster->dir);
        status = rv_test_pg_run(cluster, "start");
        if (status != 0) {
                if (status != 77)
                        (void)rv_test_pg_run(cluster, "destroy");
                rv_test_data_remove_tree(cluster->dir);
                g_clear_pointer(&cluster->dir, g_free);
                return status;
        }
        port_file = g_build_filename(cluster->dir, "port", NULL);
        g_assert_true(g_file_get_contents(port_file, &cluster->port, NULL, NULL));
        g_strstrip(cluster->port);
        return 0;
}

int
rv_test_pg_start_or_skip(RvTestPgCluster *cluster)
{
        int status = rv_test_pg_start(cluster);

        if (status == 77) {
                g_print("1..0 # SKIP no PostgreSQL server here (needs root and /usr/lib/postgresql/*/bin)\n");
                return 77;
        }
        if (status != 0) {
                g_printerr("cannot start the PostgreSQL test cluster (pg-cluster.sh exited %d)\n", status);
                return 1;
        }
        return 0;
}

void
rv_test_pg_destroy(RvTestPgCluster *cluster)
{
        if (cluster->dir != NULL)
                (void)rv_test_pg_run(cluster, "destroy");
        g_clear_pointer(&cluster->dir, g_free);
        g_clear_pointer(&cluster->port, g_free);
}

char *
rv_test_pg_conninfo(const RvTestPgCluster *cluster, const char *dbname)
{
        return g_strdup_printf("host=%s port=%s user=postgres dbname=%s", cluster->dir, cluster->port, dbname);
}

static void
rv_test_pg_quiet_cb(void *arg, const char *message)
{
}

PGresult *
rv_test_pg_exec(const char *conninfo, const char *sql)
{
        PGconn *conn = PQconnectdb(conninfo);
        PGresult *res;

        if (PQstatus(conn) != CONNECTION_OK)
                g_error("cannot connect to the test cluster: %s", PQerrorMessage(conn));
        PQsetNoticeProcessor(conn, rv_test_pg_quiet_cb, NULL);
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
                g_error("'%s' failed: %s", sql, PQresultErrorMessage(res));
        PQfinish(conn);
        return res;
}

char *
rv_test_pg_value(const char *conninfo, const char *sql)
{
        PGresult *res = rv_test_pg_exec(conninfo, sql);
        char *value = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)
                              ? g_strdup(PQgetvalue(res, 0, 0))
                              : NULL;

        PQclear(res);
        return value;
}

char *
rv_test_pg_new_database(const RvTestPgCluster *cluster, const char *name)
{
        g_autofree char *admin = rv_test_pg_conninfo(cluster, "postgres");
        g_autofree char *sql = g_strdup_printf("CREATE DATABASE %s", name);

        g_free(rv_test_pg_value(admin, sql));
        return rv_test_pg_conninfo(cluster, name);
}
