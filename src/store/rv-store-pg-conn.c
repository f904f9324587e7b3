/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-store"

#include "config.h"

#include <string.h>

#include <glib-unix.h>

#include "rv-store-pg-conn.h"

/* when the connection string sets no connect_timeout */
#define RV_PG_CONNECT_TIMEOUT_S 10

struct _RvPgConn {
        GMainContext *context;
        char *conninfo;
        char *application_name;
        guint connect_timeout_s;
        RvPgConnReadyFunc ready;
        RvPgConnIoFunc io;
        gpointer user_data;

        PGconn *conn;
        gboolean up;
        GSource *watch;
        int watch_fd;
        GIOCondition watch_cond;
        GSource *timeout;

        /*
         * PQconnectStart resolves host names before it returns, and a resolver
         * can block for seconds: it runs in a thread of its own, which hands
         * the half-open connection back through an idle source; PQconnectPoll
         * then runs here, on the socket's readiness
         */
        GThread *thread;
        GSource *started;
        PGconn *started_conn;
};

static void rv_pg_conn_poll(RvPgConn *pc);

/* libpq prints notices (NOTICE: relation exists, skipping) on stderr unless told otherwise */
static void
rv_pg_conn_notice_cb(void *arg, const char *message)
{
        g_autofree char *line = rv_pg_clean_message(message);

        g_debug("PostgreSQL: %s", line);
}

char *
rv_pg_clean_message(const char *message)
{
        GString *out = g_string_new(NULL);
        gboolean space = FALSE;

        for (const char *p = message != NULL ? message : ""; *p != '\0'; p++) {
                if (g_ascii_isspace(*p)) {
                        space = out->len > 0;
                        continue;
                }
                if (space)
                        g_string_append_c(out, ' ');
                space = FALSE;
                g_string_append_c(out, *p);
        }
        if (out->len == 0)
                g_string_append(out, "unknown error");
        return g_string_free(out, FALSE);
}

static RvError
rv_pg_error_code(const char *sqlstate)
{
        /* no SQLSTATE: libpq itself failed, which is the connection */
        if (sqlstate == NULL || strlen(sqlstate) != 5)
                return RV_ERROR_UNAVAILABLE;
        if (g_str_equal(sqlstate, "23505"))
                return RV_ERROR_CONFLICT;
        /*
         * connection exception, insufficient resources, operator intervention
         * (shutdown, cancel), a read-only standby, serialization failure and
         * deadlock: the same request can succeed later
         */
        if (g_str_has_prefix(sqlstate, "08") || g_str_has_prefix(sqlstate, "53") || g_str_has_prefix(sqlstate, "57") ||
            g_str_has_prefix(sqlstate, "40") || g_str_equal(sqlstate, "25006"))
                return RV_ERROR_UNAVAILABLE;
        /* data exception: the value handed in (text with a NUL escape, a number out of range) */
        if (g_str_has_prefix(sqlstate, "22"))
                return RV_ERROR_INVALID_ARGUMENT;
        return RV_ERROR_INTERNAL;
}

GError *
rv_pg_error_from_result(const PGresult *result, const char *what)
{
        const char *sqlstate = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
        /* the primary message only: DETAIL can quote the values of a row */
        const char *primary = result != NULL ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        g_autofree char *message = NULL;

        if (primary == NULL)
                primary = result != NULL ? PQresultErrorMessage(result) : "no result from the server";
        message = rv_pg_clean_message(primary);
        if (sqlstate != NULL)
                return g_error_new(RV_ERROR, rv_pg_error_code(sqlstate), "%s: %s (SQLSTATE %s)", what, message,
                                   sqlstate);
        return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %s", what, message);
}

GError *
rv_pg_error_from_conn(PGconn *conn, const char *what)
{
        g_autofree char *message = rv_pg_clean_message(conn != NULL ? PQerrorMessage(conn) : "out of memory");

        return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %s", what, message);
}

gboolean
rv_pg_conninfo_check(const char *conninfo, guint *ret_connect_timeout, GError **error)
{
        g_autoptr(PQconninfoOption) options = NULL;
        char *errmsg = NULL;
        guint timeout = 0;

        if (conninfo == NULL || conninfo[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "database URL: empty (set [store] database-url or DATABASE_URL; "
                                    "'postgresql://' takes libpq's defaults)");
                return FALSE;
        }
        options = PQconninfoParse(conninfo, &errmsg);
        if (options == NULL) {
                /* the message names the bad part, never the whole string, which may hold a password */
                g_autofree char *message = rv_pg_clean_message(errmsg != NULL ? errmsg : "out of memory");
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "database URL: %s", message);
                PQfreemem(errmsg);
                return FALSE;
        }
        for (PQconninfoOption *o = options; o->keyword != NULL; o++) {
                guint64 value = 0;
                if (!g_str_equal(o->keyword, "connect_timeout") || o->val == NULL || o->val[0] == '\0')
                        continue;
                if (!g_ascii_string_to_unsigned(o->val, 10, 0, 3600, &value, NULL)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "database URL: connect_timeout '%s' is not a number of seconds up to 3600", o->val);
                        return FALSE;
                }
                timeout = (guint)value;
        }
        if (ret_connect_timeout != NULL)
                *ret_connect_timeout = timeout;
        return TRUE;
}

RvPgConn *
rv_pg_conn_new(GMainContext *context, const char *conninfo, const char *application_name, guint connect_timeout_s,
               RvPgConnReadyFunc ready, RvPgConnIoFunc io, gpointer user_data)
{
        RvPgConn *pc = g_new0(RvPgConn, 1);

        pc->context = g_main_context_ref(context);
        pc->conninfo = g_strdup(conninfo);
        pc->application_name = g_strdup(application_name);
        /* libpq takes 1 as 2 */
        pc->connect_timeout_s = connect_timeout_s == 0 ? RV_PG_CONNECT_TIMEOUT_S : MAX(connect_timeout_s, 2);
        pc->ready = ready;
        pc->io = io;
        pc->user_data = user_data;
        pc->watch_fd = -1;
        return pc;
}

static void
rv_pg_conn_unwatch(RvPgConn *pc)
{
        if (pc->watch != NULL) {
                g_source_destroy(pc->watch);
                g_clear_pointer(&pc->watch, g_source_unref);
        }
        pc->watch_fd = -1;
        pc->watch_cond = 0;
}

static gboolean
rv_pg_conn_watch_cb(int fd, GIOCondition condition, gpointer user_data)
{
        RvPgConn *pc = user_data;

        if (!pc->up) {
                rv_pg_conn_poll(pc);
                return G_SOURCE_CONTINUE;
        }
        /* the owner's handler reads; writing what is left is ours */
        if ((condition & G_IO_OUT) != 0 && !rv_pg_conn_flush(pc))
                g_debug("PostgreSQL: flushing failed: %s", PQerrorMessage(pc->conn));
        /* last: the handler may close the connection */
        pc->io(pc, pc->user_data);
        return G_SOURCE_CONTINUE;
}

static void
rv_pg_conn_watch(RvPgConn *pc, GIOCondition condition)
{
        int fd = PQsocket(pc->conn);

        /* the socket may change between polls: libpq tries one host after the other */
        if (pc->watch != NULL && fd == pc->watch_fd && condition == pc->watch_cond)
                return;
        rv_pg_conn_unwatch(pc);
        if (fd < 0)
                return;
        pc->watch = g_unix_fd_source_new(fd, condition);
        g_source_set_callback(pc->watch, G_SOURCE_FUNC(rv_pg_conn_watch_cb), pc, NULL);
        g_source_set_name(pc->watch, "revaer PostgreSQL socket");
        g_source_attach(pc->watch, pc->context);
        pc->watch_fd = fd;
        pc->watch_cond = condition;
}

static void
rv_pg_conn_clear_timeout(RvPgConn *pc)
{
        if (pc->timeout != NULL) {
                g_source_destroy(pc->timeout);
                g_clear_pointer(&pc->timeout, g_source_unref);
        }
}

static void
rv_pg_conn_fail(RvPgConn *pc, GError *error)
{
        rv_pg_conn_unwatch(pc);
        rv_pg_conn_clear_timeout(pc);
        g_clear_pointer(&pc->conn, PQfinish);
        pc->up = FALSE;
        pc->ready(pc, error, pc->user_data);
}

static void
rv_pg_conn_poll(RvPgConn *pc)
{
        switch (PQconnectPoll(pc->conn)) {
        case PGRES_POLLING_READING:
                rv_pg_conn_watch(pc, G_IO_IN);
                break;
        case PGRES_POLLING_WRITING:
                rv_pg_conn_watch(pc, G_IO_OUT);
                break;
        case PGRES_POLLING_OK:
                rv_pg_conn_clear_timeout(pc);
                if (PQsetnonblocking(pc->conn, 1) != 0) {
                        rv_pg_conn_fail(pc, rv_pg_error_from_conn(pc->conn, "cannot use PostgreSQL"));
                        return;
                }
                pc->up = TRUE;
                rv_pg_conn_watch(pc, G_IO_IN);
                pc->ready(pc, NULL, pc->user_data);
                break;
        case PGRES_POLLING_FAILED:
        default:
                rv_pg_conn_fail(pc, rv_pg_error_from_conn(pc->conn, "cannot connect to PostgreSQL"));
                break;
        }
}

static gboolean
rv_pg_conn_timeout_cb(gpointer user_data)
{
        RvPgConn *pc = user_data;

        g_clear_pointer(&pc->timeout, g_source_unref);
        rv_pg_conn_fail(pc, g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                        "cannot connect to PostgreSQL: no answer within %u s", pc->connect_timeout_s));
        return G_SOURCE_REMOVE;
}

static gboolean
rv_pg_conn_started_cb(gpointer user_data)
{
        RvPgConn *pc = user_data;
        PGconn *conn;

        g_thread_join(g_steal_pointer(&pc->thread));
        g_clear_pointer(&pc->started, g_source_unref);
        conn = g_steal_pointer(&pc->started_conn);
        if (conn == NULL || PQstatus(conn) == CONNECTION_BAD) {
                GError *error = rv_pg_error_from_conn(conn, "cannot connect to PostgreSQL");
                if (conn != NULL)
                        PQfinish(conn);
                pc->ready(pc, error, pc->user_data);
                return G_SOURCE_REMOVE;
        }
        pc->conn = conn;
        PQsetNoticeProcessor(conn, rv_pg_conn_notice_cb, NULL);
        pc->timeout = g_timeout_source_new_seconds(pc->connect_timeout_s);
        g_source_set_callback(pc->timeout, rv_pg_conn_timeout_cb, pc, NULL);
        g_source_attach(pc->timeout, pc->context);
        /* libpq: behave as if the first poll had asked to write */
        rv_pg_conn_watch(pc, G_IO_OUT);
        return G_SOURCE_REMOVE;
}

static gpointer
rv_pg_conn_start_thread(gpointer user_data)
{
        RvPgConn *pc = user_data;
        /* dbname is expanded: a connection string or URI, with everything it sets */
        const char *const keywords[] = { "dbname", "fallback_application_name", NULL };
        const char *const values[] = { pc->conninfo, pc->application_name, NULL };

        pc->started_conn = PQconnectStartParams(keywords, values, 1);
        g_source_attach(pc->started, pc->context);
        return NULL;
}

void
rv_pg_conn_start(RvPgConn *pc)
{
        g_return_if_fail(pc->conn == NULL && pc->thread == NULL);

        pc->started = g_idle_source_new();
        g_source_set_priority(pc->started, G_PRIORITY_DEFAULT);
        g_source_set_callback(pc->started, rv_pg_conn_started_cb, pc, NULL);
        g_source_set_name(pc->started, "revaer PostgreSQL connect");
        pc->thread = g_thread_new("rv-pg-connect", rv_pg_conn_start_thread, pc);
}

void
rv_pg_conn_close(RvPgConn *pc)
{
        if (pc == NULL)
                return;
        if (pc->thread != NULL) {
                /* bounded by the resolver's own timeouts; only when the store goes away mid-attempt */
                g_thread_join(g_steal_pointer(&pc->thread));
                g_source_destroy(pc->started);
                g_clear_pointer(&pc->started, g_source_unref);
                g_clear_pointer(&pc->started_conn, PQfinish);
        }
        rv_pg_conn_unwatch(pc);
        rv_pg_conn_clear_timeout(pc);
        g_clear_pointer(&pc->conn, PQfinish);
        pc->up = FALSE;
}

void
rv_pg_conn_free(RvPgConn *pc)
{
        if (pc == NULL)
                return;
        rv_pg_conn_close(pc);
        g_main_context_unref(pc->context);
        g_free(pc->conninfo);
        g_free(pc->application_name);
        g_free(pc);
}

PGconn *
rv_pg_conn_get(RvPgConn *pc)
{
        return pc->up ? pc->conn : NULL;
}

gboolean
rv_pg_conn_flush(RvPgConn *pc)
{
        int ret;

        if (!pc->up)
                return FALSE;
        ret = PQflush(pc->conn);
        if (ret < 0)
                return FALSE;
        rv_pg_conn_watch(pc, ret > 0 ? G_IO_IN | G_IO_OUT : G_IO_IN);
        return TRUE;
}
