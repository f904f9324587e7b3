/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libpq-fe.h>

#include <glib.h>

#include "rv-error.h"

G_BEGIN_DECLS

/*
 * one libpq connection on a GLib main context: connects without blocking the
 * loop and watches the socket; what is sent and read over it is the owner's
 */
typedef struct _RvPgConn RvPgConn;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PQconninfoOption, PQconninfoFree)

/* the end of a connection attempt: error is NULL when the connection is up (the callee owns error) */
typedef void (*RvPgConnReadyFunc)(RvPgConn *pc, GError *error, gpointer user_data);
/* the socket of an established connection has something to read, or was closed */
typedef void (*RvPgConnIoFunc)(RvPgConn *pc, gpointer user_data);

RvPgConn *rv_pg_conn_new(GMainContext *context, const char *conninfo, const char *application_name,
                         guint connect_timeout_s, RvPgConnReadyFunc ready, RvPgConnIoFunc io, gpointer user_data);
void rv_pg_conn_free(RvPgConn *pc);
/* starts an attempt; ready runs once, later, on the context */
void rv_pg_conn_start(RvPgConn *pc);
/* drops the connection or the attempt; no callback runs after this */
void rv_pg_conn_close(RvPgConn *pc);
/* the established connection (non-blocking), NULL otherwise */
PGconn *rv_pg_conn_get(RvPgConn *pc);
/* sends what libpq has buffered, watching for writability while some is left; FALSE when that failed */
gboolean rv_pg_conn_flush(RvPgConn *pc);

/* checks a connection string or URI without connecting; returns connect_timeout (0 when unset) */
gboolean rv_pg_conninfo_check(const char *conninfo, guint *ret_connect_timeout, GError **error);

/* the boundary where libpq errors become RvError: SQLSTATE decides the code, what says what failed */
GError *rv_pg_error_from_result(const PGresult *result, const char *what);
/* a failure of the connection itself: Unavailable */
GError *rv_pg_error_from_conn(PGconn *conn, const char *what);
/* libpq's multi-line messages as one line */
char *rv_pg_clean_message(const char *message);

G_END_DECLS
