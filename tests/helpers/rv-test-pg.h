/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * a throwaway PostgreSQL cluster for the tests that need one, through
 * tests/data/pg-cluster.sh (root, /usr/lib/postgresql/<v>/bin), and the
 * tests' own blocking view of its databases
 */

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

typedef struct {
        char *dir;
        char *port;
} RvTestPgCluster;

/*
 * pg-cluster.sh command (start, stop, destroy) on the cluster; the script's
 * stderr goes to the test log; only start watches this process, so the
 * cluster goes when the test does, however it ends
 */
int rv_test_pg_run(RvTestPgCluster *cluster, const char *command);
/* 0 when started; else the script's status (77: no PostgreSQL here) and nothing is left behind */
int rv_test_pg_start(RvTestPgCluster *cluster);
/*
 * for a test's main(): 0 when started; otherwise what main() returns, with
 * TAP's skip line printed for 77 (no PostgreSQL here) or the reason for 1
 */
int rv_test_pg_start_or_skip(RvTestPgCluster *cluster);
/* destroys a started cluster and frees the fields */
void rv_test_pg_destroy(RvTestPgCluster *cluster);
char *rv_test_pg_conninfo(const RvTestPgCluster *cluster, const char *dbname);
/* a fresh database of the cluster; its conninfo */
char *rv_test_pg_new_database(const RvTestPgCluster *cluster, const char *name);
/* runs sql on its own connection, g_error() when that fails */
PGresult *rv_test_pg_exec(const char *conninfo, const char *sql);
/* the first value of the first row, NULL for SQL NULL or no row */
char *rv_test_pg_value(const char *conninfo, const char *sql);

G_END_DECLS
