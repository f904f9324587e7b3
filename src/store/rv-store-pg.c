/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-store"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-store-pg-conn.h"
#include "rv-store-private.h"
#include "rv-store-sql.h"

/*
 * the PostgreSQL backend
 *
 * Two connections, both driven by their sockets on the main loop. The main
 * connection runs a queue of operations in order: whatever is queued when it
 * is free goes out as one batch in pipeline mode (prepared statements, then
 * one Sync), which PostgreSQL runs as one implicit transaction in one round
 * trip. When a statement fails, the whole batch is rolled back: the failing
 * operation reports its error and the others go back to the head of the queue
 * to run again. The second connection LISTENs for settings changes made by
 * other nodes (or by hand, through the triggers of the schema).
 *
 * Writes survive an outage: when the connection drops they stay queued (the
 * batch in flight goes back to the head; every write is idempotent, so one
 * that did commit can run again), the store reports itself degraded and
 * reconnects with backoff, then writes the queue out in order and reports
 * itself healthy. Reads, and the compare-and-set operations whose outcome the
 * caller waits for, fail with Unavailable instead of waiting.
 *
 * Every callback runs from one idle source, never inside a call into the store
 * nor in the middle of our own bookkeeping.
 */

/* writes kept while the server is away; coalesced torrent writes still replace older ones beyond it */
#define RV_PG_QUEUE_MAX 10000u
#define RV_PG_BATCH_MAX_OPS 256
#define RV_PG_BATCH_MAX_BYTES (4 * 1024 * 1024)
#define RV_PG_BACKOFF_MIN_MS 100
#define RV_PG_BACKOFF_MAX_MS 5000
/* serializes migrations of nodes that start together */
#define RV_PG_MIGRATION_LOCK "7370091827193"
/* timestamps the schema keeps as timestamptz: 0001-01-01 .. 9999-12-31 */
#define RV_PG_UNIX_MIN G_GINT64_CONSTANT(-62135596800)
#define RV_PG_UNIX_MAX G_GINT64_CONSTANT(253402300799)

static const char *const rv_pg_migrations[] = {
        "0001-init.sql", "0002-nodes.sql", "0003-key-scopes.sql", "0004-cluster.sql", "0005-commands.sql",
};

typedef enum {
        RV_PG_STMT_PUT_TORRENT,
        RV_PG_STMT_DELETE_TORRENT,
        RV_PG_STMT_QUARANTINE,
        RV_PG_STMT_COPY_ASIDE,
        RV_PG_STMT_LOAD_TORRENTS,
        RV_PG_STMT_LOAD_RESERVATION,
        RV_PG_STMT_PUT_RESERVATION,
        RV_PG_STMT_LOAD_SETTINGS,
        RV_PG_STMT_SAVE_SETTINGS,
        RV_PG_STMT_LIST_HISTORY,
        RV_PG_STMT_PUT_KEY,
        RV_PG_STMT_DELETE_KEY,
        RV_PG_STMT_LIST_KEYS,
        RV_PG_STMT_PUT_TOKEN,
        RV_PG_STMT_TAKE_TOKEN,
        RV_PG_STMT_TOUCH_NODE,
        RV_PG_STMT_LIST_NODES,
        RV_PG_STMT_ADOPT_TORRENTS,
        RV_PG_STMT_RENEW_LEASE,
        RV_PG_STMT_RECONCILE,
        RV_PG_STMT_CLAIM,
        RV_PG_STMT_SEND_COMMAND,
        RV_PG_STMT_TAKE_COMMANDS,
        RV_PG_STMT_ANSWER_COMMAND,
        RV_PG_STMT_TAKE_ANSWERS,
        RV_PG_STMT_DROP_COMMAND,
        RV_PG_STMT_PUT_STATUS,
        RV_PG_STMT_LIST_CLUSTER,
        RV_PG_STMT_LIVE_NODES,
        RV_PG_STMT_LAST,
} RvPgStmtId;

typedef struct {
        const char *name;
        /* results in binary: the catalogue's resume blobs would double in text */
        gboolean binary;
        const char *sql;
} RvPgStatement;

/* $1 is this node's id in every statement about this node's records */
/* clang-format off */
static const RvPgStatement rv_pg_statements[RV_PG_STMT_LAST] = {
        /*
         * the torrent writes are fenced (docs/cluster.md): a row is written
         * only by the node it names, with the ownership epoch that node holds
         * for it ($5, NULL when it has none yet: then the epoch its own insert
         * gets, $6, which also makes a retried insert whole); each answers
         * with the epoch written (NULL: refused) and the owner found
         */
        [RV_PG_STMT_PUT_TORRENT] = {
                "rv_put_torrent", FALSE,
                "WITH w AS (INSERT INTO torrents (node_id, info_hash, meta, resume, updated_at, owner_epoch) "
                "VALUES ($1::text, $2::text, $3::jsonb, $4::bytea, now(), $6::bigint) "
                "ON CONFLICT (info_hash) DO UPDATE SET meta = COALESCE(EXCLUDED.meta, torrents.meta), "
                "resume = COALESCE(EXCLUDED.resume, torrents.resume), updated_at = now() "
                "WHERE torrents.node_id = $1::text AND torrents.owner_epoch = COALESCE($5::bigint, $6::bigint) "
                "RETURNING owner_epoch) "
                "SELECT (SELECT owner_epoch FROM w), (SELECT node_id FROM torrents WHERE info_hash = $2::text)" },
        [RV_PG_STMT_DELETE_TORRENT] = {
                "rv_delete_torrent", FALSE,
                "WITH d AS (DELETE FROM torrents WHERE node_id = $1::text AND info_hash = $2::text "
                "AND owner_epoch = COALESCE($3::bigint, $4::bigint) RETURNING 1) "
                "SELECT (SELECT count(*) FROM d), (SELECT node_id FROM torrents WHERE info_hash = $2::text)" },
        [RV_PG_STMT_QUARANTINE] = {
                "rv_quarantine", FALSE,
                "WITH moved AS (DELETE FROM torrents WHERE node_id = $1::text AND info_hash = $2::text "
                "AND owner_epoch = COALESCE($4::bigint, $5::bigint) RETURNING info_hash, meta, resume) "
                "INSERT INTO torrents_quarantine (node_id, info_hash, meta, resume, reason) "
                "SELECT $1::text, info_hash, meta, resume, $3::text FROM moved" },
        [RV_PG_STMT_COPY_ASIDE] = {
                "rv_copy_aside", FALSE,
                "INSERT INTO torrents_quarantine (node_id, info_hash, meta, resume, reason) "
                "SELECT node_id, info_hash, meta, resume, $3::text FROM torrents "
                "WHERE node_id = $1::text AND info_hash = $2::text AND owner_epoch = COALESCE($4::bigint, $5::bigint)" },
        [RV_PG_STMT_LOAD_TORRENTS] = {
                "rv_load_torrents", TRUE,
                "SELECT info_hash, meta::text, resume, owner_epoch::text FROM torrents WHERE node_id = $1::text" },
        [RV_PG_STMT_LOAD_RESERVATION] = {
                "rv_load_reservation", FALSE,
                "SELECT reserved_up_to FROM event_reservation WHERE node_id = $1::text" },
        [RV_PG_STMT_PUT_RESERVATION] = {
                "rv_put_reservation", FALSE,
                "INSERT INTO event_reservation (node_id, reserved_up_to) VALUES ($1::text, $2::bigint) "
                "ON CONFLICT (node_id) DO UPDATE SET reserved_up_to = EXCLUDED.reserved_up_to" },
        [RV_PG_STMT_LOAD_SETTINGS] = {
                "rv_load_settings", FALSE,
                "SELECT revision, document::text FROM settings WHERE id = 1" },
        /*
         * compare and set in one statement, one round trip: the UPDATE only
         * matches the expected revision; a concurrent writer holds the row
         * lock, and after it commits the row is checked again and no longer
         * matches (Conflict); the history row is written from what the UPDATE
         * returned; the trigger sends the NOTIFY at commit; the last column is
         * the revision before this statement, for the message of a conflict
         */
        [RV_PG_STMT_SAVE_SETTINGS] = {
                "rv_save_settings", FALSE,
                "WITH updated AS (UPDATE settings SET revision = revision + 1, document = $2::jsonb "
                "WHERE id = 1 AND revision = $1::bigint RETURNING revision), "
                "logged AS (INSERT INTO settings_history (revision, actor, reason, changes) "
                "SELECT revision, $3::text, $4::text, $5::jsonb FROM updated RETURNING revision) "
                "SELECT (SELECT revision FROM logged), (SELECT revision FROM settings WHERE id = 1)" },
        [RV_PG_STMT_LIST_HISTORY] = {
                "rv_list_history", FALSE,
                "SELECT revision, (extract(epoch FROM ts) * 1000000)::bigint, actor, reason, changes::text "
                "FROM settings_history ORDER BY revision DESC LIMIT $1::bigint" },
        [RV_PG_STMT_PUT_KEY] = {
                "rv_put_key", FALSE,
                "INSERT INTO api_keys (key_id, label, secret_hash, enabled, burst, period_s, created, scope) "
                "VALUES ($1::text, $2::text, $3::text, $4::boolean, $5::bigint, $6::bigint, to_timestamp($7::bigint), "
                "$8::text) "
                "ON CONFLICT (key_id) DO UPDATE SET label = EXCLUDED.label, secret_hash = EXCLUDED.secret_hash, "
                "enabled = EXCLUDED.enabled, burst = EXCLUDED.burst, period_s = EXCLUDED.period_s, "
                "created = EXCLUDED.created, scope = EXCLUDED.scope" },
        [RV_PG_STMT_DELETE_KEY] = {
                "rv_delete_key", FALSE,
                "DELETE FROM api_keys WHERE key_id = $1::text" },
        [RV_PG_STMT_LIST_KEYS] = {
                "rv_list_keys", FALSE,
                "SELECT key_id, label, secret_hash, enabled, burst, period_s, extract(epoch FROM created)::bigint, "
                "scope FROM api_keys ORDER BY key_id COLLATE \"C\"" },
        [RV_PG_STMT_PUT_TOKEN] = {
                "rv_put_token", FALSE,
                "INSERT INTO setup_token (id, hash, expires_at, issued_by) "
                "VALUES (1, $1::text, to_timestamp($2::bigint), $3::text) "
                "ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash, expires_at = EXCLUDED.expires_at, "
                "issued_by = EXCLUDED.issued_by" },
        /* taking is one DELETE: of two nodes racing for the token, one gets it */
        [RV_PG_STMT_TAKE_TOKEN] = {
                "rv_take_token", FALSE,
                "DELETE FROM setup_token WHERE id = 1 AND hash = $1::text AND expires_at > to_timestamp($2::bigint)" },
        [RV_PG_STMT_TOUCH_NODE] = {
                "rv_touch_node", FALSE,
                "INSERT INTO nodes (node_id, name, last_seen) VALUES ($1::text, $2::text, now()) "
                "ON CONFLICT (node_id) DO UPDATE SET name = EXCLUDED.name, last_seen = now()" },
        [RV_PG_STMT_LIST_NODES] = {
                "rv_list_nodes", FALSE,
                "SELECT node_id, name, extract(epoch FROM last_seen)::bigint FROM nodes "
                "ORDER BY node_id COLLATE \"C\"" },
        /* a node with a lease loads by adopting what still names it: the epoch of this start fences older ones */
        [RV_PG_STMT_ADOPT_TORRENTS] = {
                "rv_adopt_torrents", TRUE,
                "UPDATE torrents SET owner_epoch = (SELECT epoch FROM nodes WHERE node_id = $1::text) "
                "WHERE node_id = $1::text RETURNING info_hash, meta::text, resume, owner_epoch::text" },
        /* renewed only by this start of the node; says whether the lease had run out meanwhile */
        [RV_PG_STMT_RENEW_LEASE] = {
                "rv_renew_lease", FALSE,
                "WITH old AS (SELECT lease_expires FROM nodes WHERE node_id = $1::text AND epoch = $2::bigint "
                "FOR UPDATE) "
                "UPDATE nodes n SET lease_expires = now() + make_interval(secs => n.lease_seconds), last_seen = now() "
                "FROM old WHERE n.node_id = $1::text AND n.epoch = $2::bigint "
                "RETURNING (old.lease_expires IS NULL OR old.lease_expires < now())" },
        /* what still names this node, locked: a takeover in flight finishes first or skips these rows */
        [RV_PG_STMT_RECONCILE] = {
                "rv_reconcile", FALSE,
                "SELECT info_hash, owner_epoch FROM torrents WHERE node_id = $1::text FOR UPDATE" },
        /*
         * takeover: a node is dead once its lease ran out, counted from the
         * server's start at the earliest (a restarted PostgreSQL gives every
         * node a full lease to come back); a live claimer (its own lease
         * current) takes a fair share of what the dead nodes own, rows another
         * claimer holds skipped, each with a new ownership epoch. The share
         * divides what is left among the live nodes that have not claimed
         * since the death (schema 5: nodes.last_claim), so that every live
         * node's first claim together take it all, one renewal period at
         * most; a node that claimed already takes its part of any rest
         */
        [RV_PG_STMT_CLAIM] = {
                "rv_claim", TRUE,
                "WITH dead AS (SELECT node_id, lease_expires FROM nodes WHERE node_id <> $1::text "
                "AND lease_expires IS NOT NULL "
                "AND now() > GREATEST(lease_expires, pg_postmaster_start_time() + "
                "make_interval(secs => lease_seconds))), "
                "since AS (SELECT min(lease_expires) AS t FROM dead), "
                "me AS (SELECT last_claim FROM nodes WHERE node_id = $1::text AND epoch = $2::bigint "
                "AND lease_expires > now()), "
                "live AS (SELECT last_claim FROM nodes WHERE lease_expires > now()), "
                "share AS (SELECT ceil((SELECT count(*) FROM torrents WHERE node_id IN (SELECT node_id FROM dead))"
                "::numeric / GREATEST(CASE WHEN EXISTS (SELECT 1 FROM me WHERE last_claim IS NULL "
                "OR last_claim < (SELECT t FROM since)) "
                "THEN (SELECT count(*) FROM live WHERE last_claim IS NULL OR last_claim < (SELECT t FROM since)) "
                "ELSE (SELECT count(*) FROM live) END, 1))::bigint AS n), "
                "victims AS (SELECT info_hash FROM torrents WHERE node_id IN (SELECT node_id FROM dead) "
                "AND EXISTS (SELECT 1 FROM me) ORDER BY info_hash LIMIT (SELECT n FROM share) FOR UPDATE SKIP LOCKED), "
                "claimed AS (UPDATE torrents t SET node_id = $1::text, owner_epoch = nextval('revaer_epoch'), "
                "updated_at = now() FROM victims v WHERE t.info_hash = v.info_hash "
                "RETURNING t.info_hash, t.meta::text, t.resume, t.owner_epoch::text), "
                "marked AS (UPDATE nodes SET last_claim = now() WHERE node_id = $1::text "
                "AND EXISTS (SELECT 1 FROM claimed)) "
                "SELECT * FROM claimed" },
        /*
         * commands between nodes (schema 5): queued only for a node whose
         * lease is current; the triggers NOTIFY the target and, at the
         * answer, the sender
         */
        [RV_PG_STMT_SEND_COMMAND] = {
                "rv_send_command", FALSE,
                "INSERT INTO commands (target_node, from_node, body) SELECT $2::text, $1::text, $3::jsonb "
                "WHERE EXISTS (SELECT 1 FROM nodes WHERE node_id = $2::text AND lease_expires > now()) RETURNING id" },
        [RV_PG_STMT_TAKE_COMMANDS] = {
                "rv_take_commands", FALSE,
                "UPDATE commands SET taken = now() WHERE id IN (SELECT id FROM commands WHERE target_node = $1::text "
                "AND taken IS NULL ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id, from_node, body::text" },
        [RV_PG_STMT_ANSWER_COMMAND] = {
                "rv_answer_command", FALSE,
                "UPDATE commands SET answered = now(), answer = $3::jsonb "
                "WHERE id = $2::bigint AND target_node = $1::text AND answered IS NULL" },
        /* the answers for this node, and what nobody came back for within an hour */
        [RV_PG_STMT_TAKE_ANSWERS] = {
                "rv_take_answers", FALSE,
                "DELETE FROM commands WHERE (from_node = $1::text AND answered IS NOT NULL) "
                "OR created < now() - interval '1 hour' RETURNING id, from_node = $1::text, answer::text" },
        [RV_PG_STMT_DROP_COMMAND] = {
                "rv_drop_command", FALSE,
                "DELETE FROM commands WHERE id = $2::bigint AND from_node = $1::text" },
        /* $2: {"<info hash>": {summary}, ...} of rows this node owns */
        [RV_PG_STMT_PUT_STATUS] = {
                "rv_put_status", FALSE,
                "UPDATE torrents t SET status = s.value FROM jsonb_each($2::jsonb) s "
                "WHERE t.info_hash = s.key AND t.node_id = $1::text" },
        [RV_PG_STMT_LIST_CLUSTER] = {
                "rv_list_cluster", FALSE,
                "SELECT t.info_hash, t.node_id, t.meta::text, t.status::text, "
                "COALESCE((SELECT n.lease_expires > now() FROM nodes n WHERE n.node_id = t.node_id), false) "
                "FROM torrents t WHERE t.node_id <> $1::text" },
        [RV_PG_STMT_LIVE_NODES] = {
                "rv_live_nodes", FALSE,
                "SELECT node_id FROM nodes WHERE node_id <> $1::text AND lease_expires > now() "
                "ORDER BY node_id COLLATE \"C\"" },
};
/* clang-format on */

typedef enum {
        RV_PG_OP_PUT_TORRENT,
        RV_PG_OP_DELETE_TORRENT,
        RV_PG_OP_QUARANTINE,
        /* a copy into the quarantine, the row staying in use */
        RV_PG_OP_COPY_ASIDE,
        RV_PG_OP_PUT_RESERVATION,
        RV_PG_OP_PUT_KEY,
        RV_PG_OP_DELETE_KEY,
        RV_PG_OP_PUT_TOKEN,
        RV_PG_OP_TOUCH_NODE,
        RV_PG_OP_ANSWER_COMMAND,
        RV_PG_OP_DROP_COMMAND,
        RV_PG_OP_PUT_STATUS,
        /* the kinds above are writes, kept across an outage; those below are not */
        RV_PG_OP_BARRIER,
        RV_PG_OP_LOAD,
        RV_PG_OP_LOAD_SETTINGS,
        RV_PG_OP_SAVE_SETTINGS,
        RV_PG_OP_LIST_HISTORY,
        RV_PG_OP_LIST_KEYS,
        RV_PG_OP_TAKE_TOKEN,
        RV_PG_OP_LIST_NODES,
        /* the lease and takeover, answered inside the store */
        RV_PG_OP_RENEW,
        RV_PG_OP_RECONCILE,
        RV_PG_OP_CLAIM,
        /* commands between nodes: sending waits for the answer; taking is answered inside the store */
        RV_PG_OP_SEND_COMMAND,
        RV_PG_OP_TAKE_COMMANDS,
        RV_PG_OP_TAKE_ANSWERS,
        RV_PG_OP_LIST_CLUSTER,
        /* the statements of a new connection */
        RV_PG_OP_PREPARE,
        RV_PG_OP_LAST,
} RvPgOpKind;

#define RV_PG_OP_IS_WRITE(kind) ((kind) < RV_PG_OP_BARRIER)
#define RV_PG_OP_IS_CLUSTER(kind)                                                                \
        ((kind) == RV_PG_OP_RENEW || (kind) == RV_PG_OP_RECONCILE || (kind) == RV_PG_OP_CLAIM || \
         (kind) == RV_PG_OP_TAKE_COMMANDS || (kind) == RV_PG_OP_TAKE_ANSWERS)
/* the torrent writes that carry a fencing token */
#define RV_PG_OP_IS_FENCED(kind)                                                                                 \
        ((kind) == RV_PG_OP_PUT_TORRENT || (kind) == RV_PG_OP_DELETE_TORRENT || (kind) == RV_PG_OP_QUARANTINE || \
         (kind) == RV_PG_OP_COPY_ASIDE)
#define RV_PG_OP_MAX_ARGS 8

typedef struct {
        RvPgStmtId stmts[2];
        guint n_stmts;
        /* $1 is the node id, the arguments follow */
        gboolean node_scoped;
        guint n_args;
} RvPgOpClass;

static const RvPgOpClass rv_pg_op_classes[RV_PG_OP_LAST] = {
        [RV_PG_OP_PUT_TORRENT] = { { RV_PG_STMT_PUT_TORRENT }, 1, TRUE, 2 },
        [RV_PG_OP_DELETE_TORRENT] = { { RV_PG_STMT_DELETE_TORRENT }, 1, TRUE, 1 },
        [RV_PG_OP_QUARANTINE] = { { RV_PG_STMT_QUARANTINE }, 1, TRUE, 2 },
        [RV_PG_OP_COPY_ASIDE] = { { RV_PG_STMT_COPY_ASIDE }, 1, TRUE, 2 },
        [RV_PG_OP_PUT_RESERVATION] = { { RV_PG_STMT_PUT_RESERVATION }, 1, TRUE, 1 },
        [RV_PG_OP_PUT_KEY] = { { RV_PG_STMT_PUT_KEY }, 1, FALSE, 8 },
        [RV_PG_OP_DELETE_KEY] = { { RV_PG_STMT_DELETE_KEY }, 1, FALSE, 1 },
        [RV_PG_OP_PUT_TOKEN] = { { RV_PG_STMT_PUT_TOKEN }, 1, FALSE, 3 },
        [RV_PG_OP_TOUCH_NODE] = { { RV_PG_STMT_TOUCH_NODE }, 1, TRUE, 1 },
        [RV_PG_OP_BARRIER] = { { 0 }, 0, FALSE, 0 },
        [RV_PG_OP_LOAD] = { { RV_PG_STMT_LOAD_TORRENTS, RV_PG_STMT_LOAD_RESERVATION }, 2, TRUE, 0 },
        [RV_PG_OP_LOAD_SETTINGS] = { { RV_PG_STMT_LOAD_SETTINGS }, 1, FALSE, 0 },
        [RV_PG_OP_SAVE_SETTINGS] = { { RV_PG_STMT_SAVE_SETTINGS }, 1, FALSE, 5 },
        [RV_PG_OP_LIST_HISTORY] = { { RV_PG_STMT_LIST_HISTORY }, 1, FALSE, 1 },
        [RV_PG_OP_LIST_KEYS] = { { RV_PG_STMT_LIST_KEYS }, 1, FALSE, 0 },
        [RV_PG_OP_TAKE_TOKEN] = { { RV_PG_STMT_TAKE_TOKEN }, 1, FALSE, 2 },
        [RV_PG_OP_LIST_NODES] = { { RV_PG_STMT_LIST_NODES }, 1, FALSE, 0 },
        [RV_PG_OP_RENEW] = { { RV_PG_STMT_RENEW_LEASE }, 1, TRUE, 1 },
        [RV_PG_OP_RECONCILE] = { { RV_PG_STMT_RECONCILE }, 1, TRUE, 0 },
        [RV_PG_OP_CLAIM] = { { RV_PG_STMT_CLAIM }, 1, TRUE, 1 },
        [RV_PG_OP_ANSWER_COMMAND] = { { RV_PG_STMT_ANSWER_COMMAND }, 1, TRUE, 2 },
        [RV_PG_OP_DROP_COMMAND] = { { RV_PG_STMT_DROP_COMMAND }, 1, TRUE, 1 },
        [RV_PG_OP_PUT_STATUS] = { { RV_PG_STMT_PUT_STATUS }, 1, TRUE, 1 },
        [RV_PG_OP_SEND_COMMAND] = { { RV_PG_STMT_SEND_COMMAND }, 1, TRUE, 2 },
        [RV_PG_OP_TAKE_COMMANDS] = { { RV_PG_STMT_TAKE_COMMANDS }, 1, TRUE, 0 },
        [RV_PG_OP_TAKE_ANSWERS] = { { RV_PG_STMT_TAKE_ANSWERS }, 1, TRUE, 0 },
        [RV_PG_OP_LIST_CLUSTER] = { { RV_PG_STMT_LIST_CLUSTER, RV_PG_STMT_LIVE_NODES }, 2, TRUE, 0 },
        [RV_PG_OP_PREPARE] = { { 0 }, RV_PG_STMT_LAST, FALSE, 0 },
};

typedef struct {
        RvStoreDoneFunc func;
        gpointer user_data;
} RvPgWaiter;

typedef struct {
        RvPgOpKind kind;
        /* while queued and open to coalescing: "t:<hash>", "events", "node" */
        char *key;
        /* the statement's arguments as text, NULL for SQL NULL */
        char *args[RV_PG_OP_MAX_ARGS];
        GBytes *resume;
        GArray *waiters;
        GTask *task;
        /* ran before in a batch whose outcome was lost */
        gboolean retried;
        /* the recovery marker behind the writes queued during an outage */
        gboolean recovery;
        /* PGresult, one per statement, while in flight */
        GPtrArray *results;
        /* a fenced write's token and this node's epoch, as sent */
        char *fence[2];
        /* a command to another node: when it was asked for, and how long its answer may take */
        gint64 asked_at;
        guint timeout_ms;
} RvPgOp;

typedef enum {
        RV_PG_CLOSED,
        RV_PG_CONNECTING,
        /* bootstrap and migrations, simple query protocol */
        RV_PG_SETUP,
        /* pipeline mode from here on */
        RV_PG_PREPARING,
        RV_PG_READY,
        /* to reconnect after the backoff */
        RV_PG_WAITING,
} RvPgState;

typedef enum {
        RV_PG_LISTEN_DOWN,
        RV_PG_LISTEN_CONNECTING,
        RV_PG_LISTEN_STARTING,
        RV_PG_LISTEN_UP,
        RV_PG_LISTEN_WAITING,
} RvPgListenState;

typedef enum {
        RV_PG_SETUP_BOOTSTRAP,
        RV_PG_SETUP_MIGRATE,
        RV_PG_SETUP_FINISH,
} RvPgSetupStep;

typedef enum {
        RV_PG_DONE_WAITERS,
        RV_PG_DONE_TASK_BOOLEAN,
        RV_PG_DONE_TASK_INT,
        RV_PG_DONE_TASK_POINTER,
        RV_PG_DONE_SETTINGS_CHANGED,
        RV_PG_DONE_LEASE,
        RV_PG_DONE_LOST,
        RV_PG_DONE_CLAIMED,
        RV_PG_DONE_COMMAND,
        RV_PG_DONE_KEYS_CHANGED,
} RvPgDoneKind;

typedef struct {
        RvPgDoneKind kind;
        GArray *waiters;
        GTask *task;
        GError *error;
        gpointer pointer;
        GDestroyNotify destroy;
        gint64 number;
        RvInfoHash hash;
} RvPgDone;

struct _RvStorePg {
        gint ref;
        gboolean closed;
        RvStore *base;
        GMainContext *context;
        char *node_id;

        RvPgConn *main;
        RvPgState state;
        GTask *opening;
        /* opened once: from then on a lost connection is retried */
        gboolean opened;
        RvPgSetupStep setup_step;
        guint schema_version;
        GPtrArray *setup_results;
        guint backoff_ms;
        GSource *retry;
        /* why the store is degraded; stays until the writes queued meanwhile are out */
        char *main_reason;
        /* our server processes: their NOTIFYs are ours (the previous one too, for late arrivals) */
        int backend_pids[2];

        GQueue queue;
        /* op->key -> the queued RvPgOp it may coalesce into */
        GHashTable *coalesce;
        /* writes queued and in flight */
        guint n_writes;
        GPtrArray *batch;
        guint read_op;
        guint read_stmt;
        gboolean read_got;
        /* an error that belongs to no statement (the implicit COMMIT) */
        GError *batch_error;

        RvPgConn *listen;
        RvPgListenState listen_state;
        guint listen_backoff_ms;
        GSource *listen_retry;
        char *listen_reason;
        GPtrArray *listen_results;
        gboolean listened;

        /* the newest settings revision this process knows of */
        guint64 known_revision;
        gboolean have_reservation;
        guint64 reservation;

        GQueue done;
        GSource *done_idle;

        /* cluster (docs/cluster.md): lease_ms is 0 without a lease */
        guint lease_ms;
        /* this start of the node, from the open on */
        guint64 epoch;
        /* hex -> guint64 ownership epoch of each torrent row this node owns */
        GHashTable *owned;
        GSource *lease_tick;
        /* monotonic µs: past this the lease may have run out, so everything stops locally */
        gint64 lease_deadline;
        gint64 renew_sent;
        gint64 next_renew;
        gboolean renewing;
        gboolean reconciling;
        gboolean need_reconcile;
        gboolean claiming;
        gboolean fenced;
        gboolean takeover;
        /* another start of this node id holds the lease: nothing is ours any more */
        gboolean superseded;

        /* commands this node sent: id -> RvPgSent, waiting for the answer */
        GHashTable *sent;
        /* answers read before their command's id was (id -> JsonNode) */
        GHashTable *early;
        gboolean taking_commands;
        gboolean taking_answers;
        /* a NOTIFY came while a take was in flight: take again after it */
        gboolean commands_again;
        gboolean answers_again;
};

typedef struct _RvStorePg RvStorePg;

static void rv_pg_kick(RvStorePg *store);
static void rv_pg_main_lost(RvStorePg *store, GError *error);
static void rv_pg_listen_start(RvStorePg *store);
static void rv_pg_listen_lost(RvStorePg *store, GError *error);

typedef struct {
        RvStorePg *store;
        gint64 id;
        char *target;
        guint timeout_ms;
        GTask *task;
        GSource *timeout;
} RvPgSent;

static void rv_pg_sent_free(RvPgSent *sent);
static void rv_pg_take_message(RvStorePg *store, RvPgOpKind kind);
static void rv_pg_take_messages(RvStorePg *store);
static void rv_pg_commands_taken(RvStorePg *store, const PGresult *res);
static void rv_pg_answers_taken(RvStorePg *store, const PGresult *res);
static void rv_pg_command_sent(RvStorePg *store, RvPgOp *op, const PGresult *res);
static RvStoreClusterView *rv_pg_cluster_rows(const PGresult *res, const PGresult *nodes);

static RvStorePg *
rv_pg_ref(RvStorePg *store)
{
        g_atomic_int_inc(&store->ref);
        return store;
}

static void
rv_pg_op_free(RvPgOp *op)
{
        if (op == NULL)
                return;
        g_free(op->key);
        for (guint i = 0; i < RV_PG_OP_MAX_ARGS; i++) {
                /* the hash of a secret is still not for the heap to keep */
                if (op->args[i] != NULL &&
                    (op->kind == RV_PG_OP_PUT_KEY || op->kind == RV_PG_OP_PUT_TOKEN || op->kind == RV_PG_OP_TAKE_TOKEN))
                        explicit_bzero(op->args[i], strlen(op->args[i]));
                g_free(op->args[i]);
        }
        if (op->resume != NULL)
                g_bytes_unref(op->resume);
        if (op->waiters != NULL)
                g_array_unref(op->waiters);
        g_clear_object(&op->task);
        g_ptr_array_unref(op->results);
        g_free(op->fence[0]);
        g_free(op->fence[1]);
        g_free(op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvPgOp, rv_pg_op_free)

static void
rv_pg_done_free(RvPgDone *done)
{
        if (done->waiters != NULL)
                g_array_unref(done->waiters);
        g_clear_object(&done->task);
        g_clear_error(&done->error);
        if (done->pointer != NULL && done->destroy != NULL)
                done->destroy(done->pointer);
        g_free(done);
}

static void
rv_pg_unref(RvStorePg *store)
{
        if (!g_atomic_int_dec_and_test(&store->ref))
                return;
        rv_pg_conn_free(store->main);
        rv_pg_conn_free(store->listen);
        g_queue_clear_full(&store->queue, (GDestroyNotify)rv_pg_op_free);
        g_queue_clear_full(&store->done, (GDestroyNotify)rv_pg_done_free);
        g_hash_table_unref(store->coalesce);
        g_ptr_array_unref(store->batch);
        g_ptr_array_unref(store->setup_results);
        g_ptr_array_unref(store->listen_results);
        g_clear_error(&store->batch_error);
        g_main_context_unref(store->context);
        g_free(store->main_reason);
        g_free(store->listen_reason);
        g_free(store->node_id);
        g_hash_table_unref(store->owned);
        g_hash_table_unref(store->sent);
        g_hash_table_unref(store->early);
        g_free(store);
}

/* completions: everything the caller hears runs from here */

static void
rv_pg_done_run(RvStorePg *store, RvPgDone *done)
{
        switch (done->kind) {
        case RV_PG_DONE_WAITERS:
                for (guint i = 0; done->waiters != NULL && i < done->waiters->len; i++) {
                        RvPgWaiter *w = &g_array_index(done->waiters, RvPgWaiter, i);
                        if (w->func != NULL)
                                w->func(done->error, w->user_data);
                }
                break;
        case RV_PG_DONE_TASK_BOOLEAN:
        case RV_PG_DONE_TASK_INT:
        case RV_PG_DONE_TASK_POINTER:
                if (done->error != NULL)
                        g_task_return_error(done->task, g_steal_pointer(&done->error));
                else if (done->kind == RV_PG_DONE_TASK_BOOLEAN)
                        g_task_return_boolean(done->task, done->number != 0);
                else if (done->kind == RV_PG_DONE_TASK_INT)
                        g_task_return_int(done->task, (gssize)done->number);
                else
                        g_task_return_pointer(done->task, g_steal_pointer(&done->pointer), done->destroy);
                break;
        case RV_PG_DONE_SETTINGS_CHANGED:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_settings_changed(store->base, (guint64)done->number);
                break;
        case RV_PG_DONE_LEASE:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_lease(store->base, done->number != 0, done->pointer);
                break;
        case RV_PG_DONE_LOST:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_lost(store->base, &done->hash, done->pointer);
                break;
        case RV_PG_DONE_CLAIMED:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_claimed(store->base, g_steal_pointer(&done->pointer));
                break;
        case RV_PG_DONE_COMMAND:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_command(store->base, g_steal_pointer(&done->pointer));
                break;
        case RV_PG_DONE_KEYS_CHANGED:
                if (!store->closed && store->base != NULL)
                        rv_store_emit_keys_changed(store->base);
                break;
        }
        rv_pg_done_free(done);
}

static void
rv_pg_done_run_all(RvStorePg *store)
{
        RvPgDone *done;

        rv_pg_ref(store);
        while ((done = g_queue_pop_head(&store->done)) != NULL)
                rv_pg_done_run(store, done);
        rv_pg_unref(store);
}

static gboolean
rv_pg_done_idle_cb(gpointer user_data)
{
        RvStorePg *store = user_data;

        g_clear_pointer(&store->done_idle, g_source_unref);
        rv_pg_done_run_all(store);
        return G_SOURCE_REMOVE;
}

static void
rv_pg_done_push(RvStorePg *store, RvPgDone *done)
{
        g_queue_push_tail(&store->done, done);
        if (store->done_idle != NULL || store->closed)
                return;
        store->done_idle = g_idle_source_new();
        /* as urgent as the socket that brought the answer */
        g_source_set_priority(store->done_idle, G_PRIORITY_DEFAULT);
        g_source_set_callback(store->done_idle, rv_pg_done_idle_cb, store, NULL);
        g_source_set_name(store->done_idle, "revaer PostgreSQL completions");
        g_source_attach(store->done_idle, store->context);
}

static void
rv_pg_done_waiters(RvStorePg *store, GArray *waiters, const GError *error)
{
        RvPgDone *done;

        if (waiters == NULL || waiters->len == 0)
                return;
        done = g_new0(RvPgDone, 1);
        done->kind = RV_PG_DONE_WAITERS;
        done->waiters = g_array_ref(waiters);
        done->error = error != NULL ? g_error_copy(error) : NULL;
        rv_pg_done_push(store, done);
}

static void
rv_pg_done_task(RvStorePg *store, GTask *task, RvPgDoneKind kind, GError *error, gpointer pointer,
                GDestroyNotify destroy, gint64 number)
{
        RvPgDone *done = g_new0(RvPgDone, 1);

        done->kind = kind;
        done->task = g_object_ref(task);
        done->error = error;
        done->pointer = pointer;
        done->destroy = destroy;
        done->number = number;
        rv_pg_done_push(store, done);
}

static void
rv_pg_done_settings_changed(RvStorePg *store, guint64 revision)
{
        RvPgDone *done = g_new0(RvPgDone, 1);

        done->kind = RV_PG_DONE_SETTINGS_CHANGED;
        done->number = (gint64)revision;
        rv_pg_done_push(store, done);
}

static void
rv_pg_done_keys_changed(RvStorePg *store)
{
        RvPgDone *done = g_new0(RvPgDone, 1);

        done->kind = RV_PG_DONE_KEYS_CHANGED;
        rv_pg_done_push(store, done);
}

/* health: a lost main connection first, then a lost listener */

static void
rv_pg_update_health(RvStorePg *store)
{
        RvHealth *health = store->base != NULL ? store->base->health : NULL;

        if (health == NULL || store->closed || !store->opened)
                return;
        if (store->main_reason != NULL)
                rv_health_set_degraded(health, RV_HEALTH_STORE, store->main_reason);
        else if (store->listen_reason != NULL)
                rv_health_set_degraded(health, RV_HEALTH_STORE, store->listen_reason);
        else
                rv_health_set_ok(health, RV_HEALTH_STORE);
}

/* operations */

static RvPgOp *
rv_pg_op_new(RvPgOpKind kind)
{
        RvPgOp *op = g_new0(RvPgOp, 1);

        op->kind = kind;
        op->waiters = g_array_new(FALSE, TRUE, sizeof(RvPgWaiter));
        op->results = g_ptr_array_new_with_free_func((GDestroyNotify)PQclear);
        return op;
}

static void
rv_pg_op_add_waiter(RvPgOp *op, RvStoreDoneFunc func, gpointer user_data)
{
        RvPgWaiter w = { func, user_data };

        if (func != NULL)
                g_array_append_val(op->waiters, w);
}

static char *
rv_pg_op_describe(const RvPgOp *op)
{
        switch (op->kind) {
        case RV_PG_OP_PUT_TORRENT:
                return g_strdup_printf("storing torrent %s", op->args[0]);
        case RV_PG_OP_DELETE_TORRENT:
                return g_strdup_printf("deleting torrent %s", op->args[0]);
        case RV_PG_OP_QUARANTINE:
                return g_strdup_printf("quarantining torrent %s", op->args[0]);
        case RV_PG_OP_COPY_ASIDE:
                return g_strdup_printf("keeping a copy of torrent %s", op->args[0]);
        case RV_PG_OP_PUT_RESERVATION:
                return g_strdup("storing the event id reservation");
        case RV_PG_OP_PUT_KEY:
                return g_strdup_printf("storing API key '%s'", op->args[0]);
        case RV_PG_OP_DELETE_KEY:
                return g_strdup_printf("deleting API key '%s'", op->args[0]);
        case RV_PG_OP_PUT_TOKEN:
                return g_strdup("storing the setup token");
        case RV_PG_OP_TOUCH_NODE:
                return g_strdup("recording this node");
        case RV_PG_OP_LOAD:
                return g_strdup("loading the catalogue");
        case RV_PG_OP_LOAD_SETTINGS:
                return g_strdup("loading the settings");
        case RV_PG_OP_SAVE_SETTINGS:
                return g_strdup("saving the settings");
        case RV_PG_OP_LIST_HISTORY:
                return g_strdup("listing the settings history");
        case RV_PG_OP_LIST_KEYS:
                return g_strdup("listing API keys");
        case RV_PG_OP_TAKE_TOKEN:
                return g_strdup("taking the setup token");
        case RV_PG_OP_LIST_NODES:
                return g_strdup("listing nodes");
        case RV_PG_OP_RENEW:
                return g_strdup("renewing this node's lease");
        case RV_PG_OP_RECONCILE:
                return g_strdup("checking which torrents this node still owns");
        case RV_PG_OP_CLAIM:
                return g_strdup("taking over torrents of nodes whose lease ran out");
        case RV_PG_OP_ANSWER_COMMAND:
                return g_strdup_printf("answering command %s", op->args[0]);
        case RV_PG_OP_DROP_COMMAND:
                return g_strdup_printf("dropping command %s", op->args[0]);
        case RV_PG_OP_PUT_STATUS:
                return g_strdup("publishing this node's torrents");
        case RV_PG_OP_SEND_COMMAND:
                return g_strdup_printf("sending a command to node '%s'", op->args[0]);
        case RV_PG_OP_TAKE_COMMANDS:
                return g_strdup("taking commands for this node");
        case RV_PG_OP_TAKE_ANSWERS:
                return g_strdup("taking answers for this node");
        case RV_PG_OP_LIST_CLUSTER:
                return g_strdup("listing the torrents of other nodes");
        case RV_PG_OP_PREPARE:
                return g_strdup("preparing statements");
        case RV_PG_OP_BARRIER:
        case RV_PG_OP_LAST:
        default:
                return g_strdup("flushing");
        }
}

static gsize
rv_pg_op_size(const RvPgOp *op)
{
        gsize size = 64;

        for (guint i = 0; i < RV_PG_OP_MAX_ARGS; i++)
                size += op->args[i] != NULL ? strlen(op->args[i]) : 0;
        return size + (op->resume != NULL ? g_bytes_get_size(op->resume) : 0);
}

/* an operation that ends: its waiters or its task hear the outcome */
static void rv_pg_cluster_failed(RvStorePg *store, RvPgOp *op, const GError *error);

static void
rv_pg_op_fail(RvStorePg *store, RvPgOp *op, const GError *error)
{
        if (RV_PG_OP_IS_CLUSTER(op->kind))
                rv_pg_cluster_failed(store, op, error);
        if (RV_PG_OP_IS_WRITE(op->kind))
                store->n_writes--;
        if (op->task != NULL)
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, g_error_copy(error), NULL, NULL, 0);
        rv_pg_done_waiters(store, op->waiters, error);
        rv_pg_op_free(op);
}

static void
rv_pg_op_unregister(RvStorePg *store, RvPgOp *op)
{
        if (op->key != NULL && g_hash_table_lookup(store->coalesce, op->key) == op)
                g_hash_table_remove(store->coalesce, op->key);
        g_clear_pointer(&op->key, g_free);
}

static GError *
rv_pg_unavailable(RvStorePg *store, const char *what)
{
        if (store->closed)
                return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: the store was closed", what);
        if (store->main_reason != NULL)
                return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %s", what, store->main_reason);
        if (!store->opened)
                return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: the store is not open", what);
        return g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: PostgreSQL is unavailable", what);
}

/* a write: kept while the server is away, up to the bound */
static void
rv_pg_push_write(RvStorePg *store, RvPgOp *op_in)
{
        g_autoptr(RvPgOp) op = op_in;

        if (store->n_writes >= RV_PG_QUEUE_MAX) {
                g_autofree char *what = rv_pg_op_describe(op);
                g_autoptr(GError) error =
                        g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %u writes are already queued for PostgreSQL",
                                    what, RV_PG_QUEUE_MAX);
                rv_pg_done_waiters(store, op->waiters, error);
                return;
        }
        store->n_writes++;
        if (op->key != NULL)
                g_hash_table_replace(store->coalesce, op->key, op);
        g_queue_push_tail(&store->queue, g_steal_pointer(&op));
        rv_pg_kick(store);
}

/* a read, or a compare-and-set whose caller waits: only on a working connection */
static void
rv_pg_push_task(RvStorePg *store, RvPgOp *op_in, GTask *task)
{
        g_autoptr(RvPgOp) op = op_in;

        op->task = task;
        if (store->state != RV_PG_READY) {
                g_autofree char *what = rv_pg_op_describe(op);
                rv_pg_done_task(store, task, RV_PG_DONE_TASK_POINTER, rv_pg_unavailable(store, what), NULL, NULL, 0);
                return;
        }
        g_queue_push_tail(&store->queue, g_steal_pointer(&op));
        rv_pg_kick(store);
}

/* sending a batch */

static char *
rv_pg_int(gint64 value)
{
        return g_strdup_printf("%" G_GINT64_FORMAT, value);
}

static char *
rv_pg_uint(guint64 value)
{
        return g_strdup_printf("%" G_GUINT64_FORMAT, value);
}

static gboolean
rv_pg_op_send(RvStorePg *store, PGconn *conn, RvPgOp *op)
{
        const RvPgOpClass *klass = &rv_pg_op_classes[op->kind];
        const char *values[RV_PG_OP_MAX_ARGS + 2] = { NULL };
        int lengths[RV_PG_OP_MAX_ARGS + 2] = { 0 };
        int formats[RV_PG_OP_MAX_ARGS + 2] = { 0 };
        int n = 0;

        g_ptr_array_set_size(op->results, 0);
        if (op->kind == RV_PG_OP_PREPARE) {
                for (guint i = 0; i < RV_PG_STMT_LAST; i++) {
                        if (!PQsendPrepare(conn, rv_pg_statements[i].name, rv_pg_statements[i].sql, 0, NULL))
                                return FALSE;
                }
                g_ptr_array_set_size(op->results, RV_PG_STMT_LAST);
                return TRUE;
        }
        if (klass->node_scoped)
                values[n++] = store->node_id;
        for (guint i = 0; i < klass->n_args; i++)
                values[n++] = op->args[i];
        if (op->kind == RV_PG_OP_PUT_TORRENT) {
                gsize len = 0;
                const char *data = op->resume != NULL ? g_bytes_get_data(op->resume, &len) : NULL;
                /* an empty blob is not SQL NULL */
                values[n] = op->resume != NULL && data == NULL ? "" : data;
                lengths[n] = (int)len;
                formats[n] = 1;
                n++;
        }
        if (RV_PG_OP_IS_FENCED(op->kind)) {
                /* read when sent: a token learned from an earlier batch applies */
                const guint64 *token = g_hash_table_lookup(store->owned, op->args[0]);
                g_free(op->fence[0]);
                g_free(op->fence[1]);
                op->fence[0] = token != NULL ? rv_pg_uint(*token) : NULL;
                op->fence[1] = rv_pg_uint(store->epoch);
                values[n++] = op->fence[0];
                values[n++] = op->fence[1];
        }
        for (guint s = 0; s < klass->n_stmts; s++) {
                RvPgStmtId id = klass->stmts[s];
                const RvPgStatement *stmt;
                if (id == RV_PG_STMT_LOAD_TORRENTS && store->lease_ms > 0)
                        id = RV_PG_STMT_ADOPT_TORRENTS;
                stmt = &rv_pg_statements[id];
                if (!PQsendQueryPrepared(conn, stmt->name, n, values, lengths, formats, stmt->binary ? 1 : 0))
                        return FALSE;
        }
        g_ptr_array_set_size(op->results, klass->n_stmts);
        return TRUE;
}

static void
rv_pg_kick(RvStorePg *store)
{
        PGconn *conn;
        gsize bytes = 0;
        RvPgOp *head;

        if (store->closed || store->batch->len > 0 || (store->state != RV_PG_READY && store->state != RV_PG_PREPARING))
                return;
        /* a flush whose predecessors are all written */
        while ((head = g_queue_peek_head(&store->queue)) != NULL && head->kind == RV_PG_OP_BARRIER) {
                g_queue_pop_head(&store->queue);
                if (head->recovery) {
                        g_clear_pointer(&store->main_reason, g_free);
                        rv_pg_update_health(store);
                }
                rv_pg_done_waiters(store, head->waiters, NULL);
                rv_pg_op_free(head);
        }
        if (head == NULL)
                return;
        conn = rv_pg_conn_get(store->main);
        while ((head = g_queue_peek_head(&store->queue)) != NULL && head->kind != RV_PG_OP_BARRIER &&
               store->batch->len < RV_PG_BATCH_MAX_OPS && bytes < RV_PG_BATCH_MAX_BYTES) {
                g_queue_pop_head(&store->queue);
                rv_pg_op_unregister(store, head);
                g_ptr_array_add(store->batch, head);
                bytes += rv_pg_op_size(head);
                if (!rv_pg_op_send(store, conn, head)) {
                        rv_pg_main_lost(store, rv_pg_error_from_conn(conn, "sending to PostgreSQL"));
                        return;
                }
                /* the statements alone: a failure behind them would roll back nothing of theirs */
                if (head->kind == RV_PG_OP_PREPARE)
                        break;
        }
        store->read_op = 0;
        store->read_stmt = 0;
        store->read_got = FALSE;
        if (!PQpipelineSync(conn) || !rv_pg_conn_flush(store->main))
                rv_pg_main_lost(store, rv_pg_error_from_conn(conn, "sending to PostgreSQL"));
}

/* results */

static gboolean
rv_pg_result_ok(const PGresult *res)
{
        ExecStatusType status = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

static guint64
rv_pg_get_uint(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? 0 : g_ascii_strtoull(PQgetvalue(res, row, col), NULL, 10);
}

static gint64
rv_pg_get_int(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? 0 : g_ascii_strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static char *
rv_pg_get_string(const PGresult *res, int row, int col)
{
        return g_strdup(PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static JsonNode *
rv_pg_parse_json(const char *data, gssize len, GError **error)
{
        return rv_json_parse(data, len, TRUE, error);
}

static RvPgOp *rv_pg_op_new_quarantine(const char *hash, const char *reason);
static char *rv_pg_hash_key(const char *hex);

/* this node owns the row of hex (len bytes) with that ownership epoch (text) */
static void
rv_pg_own(RvStorePg *store, const char *hex, gsize len, const char *epoch)
{
        guint64 *value = g_new(guint64, 1);

        *value = g_ascii_strtoull(epoch, NULL, 10);
        g_hash_table_replace(store->owned, g_strndup(hex, len), value);
}

/* a torrent this node no longer owns: its token goes, the owner hears of it once (owner NULL: unknown) */
static void
rv_pg_lost(RvStorePg *store, const char *hex, const char *owner)
{
        RvPgDone *done;
        RvInfoHash hash;

        g_hash_table_remove(store->owned, hex);
        if (!rv_info_hash_parse(hex, &hash))
                return;
        done = g_new0(RvPgDone, 1);
        done->kind = RV_PG_DONE_LOST;
        done->hash = hash;
        done->pointer = g_strdup(owner);
        done->destroy = g_free;
        rv_pg_done_push(store, done);
}

/*
 * the outcome of a fenced write: the statement answered with what it wrote
 * and the owner it found; a refusal is a Conflict for the caller and a lost
 * torrent for the owner of the store
 */
static GError *
rv_pg_fence_result(RvStorePg *store, RvPgOp *op)
{
        const PGresult *res = g_ptr_array_index(op->results, 0);
        const char *hex = op->args[0];
        const char *owner = NULL;

        switch (op->kind) {
        case RV_PG_OP_PUT_TORRENT:
                if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
                        rv_pg_own(store, hex, strlen(hex), PQgetvalue(res, 0, 0));
                        return NULL;
                }
                break;
        case RV_PG_OP_DELETE_TORRENT:
                /* deleted, or gone already (a retry whose first run deleted it) */
                if (PQntuples(res) == 0 || rv_pg_get_uint(res, 0, 0) > 0 || PQgetisnull(res, 0, 1)) {
                        g_hash_table_remove(store->owned, hex);
                        return NULL;
                }
                break;
        case RV_PG_OP_QUARANTINE:
                g_hash_table_remove(store->owned, hex);
                return NULL;
        default:
                return NULL;
        }
        owner = PQntuples(res) > 0 && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : NULL;
        rv_pg_lost(store, hex, owner);
        if (g_strcmp0(owner, store->node_id) == 0)
                return g_error_new(RV_ERROR, RV_ERROR_CONFLICT,
                                   "torrent %s: this node's claim on it is stale (another start of node '%s' "
                                   "owns it now), the write was refused",
                                   hex, owner);
        return g_error_new(RV_ERROR, RV_ERROR_CONFLICT, "torrent %s is owned by node '%s', the write was refused", hex,
                           owner != NULL ? owner : "unknown");
}

static RvStoreSnapshot *
rv_pg_snapshot_from(RvStorePg *store, const PGresult *torrents, const PGresult *reservation)
{
        RvStoreSnapshot *snapshot = g_new0(RvStoreSnapshot, 1);

        snapshot->torrents = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_torrent_free);
        snapshot->problems = g_ptr_array_new_with_free_func(g_free);
        /* every row read is this node's, unusable ones too: moving them aside is a fenced write */
        for (int row = 0; row < PQntuples(torrents); row++)
                rv_pg_own(store, PQgetvalue(torrents, row, 0), (gsize)PQgetlength(torrents, row, 0),
                          PQgetvalue(torrents, row, 3));
        for (int row = 0; row < PQntuples(torrents); row++) {
                g_autofree char *hex = g_strndup(PQgetvalue(torrents, row, 0), (gsize)PQgetlength(torrents, row, 0));
                g_autoptr(JsonNode) meta = NULL;
                RvStoreTorrent *record;
                RvInfoHash hash;

                /* what does not fit is moved aside, reported and never fatal */
                if (!rv_info_hash_parse(hex, &hash) || !g_str_equal(hash.hex, hex)) {
                        g_ptr_array_add(snapshot->problems,
                                        g_strdup_printf("torrent row '%s' is not named after an info hash, "
                                                        "moved to torrents_quarantine",
                                                        hex));
                        rv_pg_push_write(store, rv_pg_op_new_quarantine(hex, "not an info hash"));
                        continue;
                }
                if (!PQgetisnull(torrents, row, 1)) {
                        g_autoptr(GError) error = NULL;
                        meta = rv_pg_parse_json(PQgetvalue(torrents, row, 1), PQgetlength(torrents, row, 1), &error);
                        if (meta != NULL && !JSON_NODE_HOLDS_OBJECT(meta))
                                g_set_error_literal(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "not a JSON object");
                        if (error != NULL) {
                                g_ptr_array_add(snapshot->problems,
                                                g_strdup_printf("metadata of torrent %s is corrupt (%s), "
                                                                "moved to torrents_quarantine",
                                                                hex, error->message));
                                rv_pg_push_write(store, rv_pg_op_new_quarantine(hex, error->message));
                                continue;
                        }
                }
                record = g_new0(RvStoreTorrent, 1);
                record->hash = hash;
                record->meta = g_steal_pointer(&meta);
                if (!PQgetisnull(torrents, row, 2))
                        record->resume =
                                g_bytes_new(PQgetvalue(torrents, row, 2), (gsize)PQgetlength(torrents, row, 2));
                /* what only the metadata held is lost: reported, and the row copied aside before it is whole again */
                if (record->meta == NULL && record->resume != NULL) {
                        RvPgOp *op = rv_pg_op_new(RV_PG_OP_COPY_ASIDE);
                        g_autofree char *key = rv_pg_hash_key(hex);
                        op->args[0] = g_strdup(hex);
                        op->args[1] = g_strdup("metadata missing");
                        /* a later write of the torrent must not coalesce into one queued before the copy */
                        g_hash_table_remove(store->coalesce, key);
                        rv_pg_push_write(store, op);
                        g_ptr_array_add(snapshot->problems,
                                        g_strdup_printf("metadata of torrent %s is missing: it comes back from its "
                                                        "resume data alone (its labels, selection rules and "
                                                        "magnet link are lost); a copy of its row is in "
                                                        "torrents_quarantine",
                                                        hex));
                }
                g_ptr_array_add(snapshot->torrents, record);
        }
        snapshot->event_ids_reserved = PQntuples(reservation) > 0 ? rv_pg_get_uint(reservation, 0, 0) : 0;
        store->reservation = snapshot->event_ids_reserved;
        store->have_reservation = TRUE;
        return snapshot;
}

static void
rv_pg_op_finish_task(RvStorePg *store, RvPgOp *op)
{
        const PGresult *res = g_ptr_array_index(op->results, 0);
        GError *error = NULL;

        switch (op->kind) {
        case RV_PG_OP_LOAD: {
                RvStoreSnapshot *snapshot = rv_pg_snapshot_from(store, res, g_ptr_array_index(op->results, 1));
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, snapshot,
                                (GDestroyNotify)rv_store_snapshot_free, 0);
                break;
        }
        case RV_PG_OP_LOAD_SETTINGS: {
                g_autoptr(RvStoreSettings) settings = g_new0(RvStoreSettings, 1);
                if (PQntuples(res) > 0) {
                        settings->revision = rv_pg_get_uint(res, 0, 0);
                        if (!PQgetisnull(res, 0, 1))
                                settings->document = rv_pg_parse_json(PQgetvalue(res, 0, 1), -1, &error);
                        if (settings->document != NULL && !JSON_NODE_HOLDS_OBJECT(settings->document))
                                g_set_error_literal(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                    "the stored settings are not a JSON object");
                }
                if (error != NULL) {
                        g_prefix_error(&error, "loading the settings: ");
                        rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, error, NULL, NULL, 0);
                        break;
                }
                store->known_revision = MAX(store->known_revision, settings->revision);
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, g_steal_pointer(&settings),
                                (GDestroyNotify)rv_store_settings_free, 0);
                break;
        }
        case RV_PG_OP_SAVE_SETTINGS: {
                guint64 expected = g_ascii_strtoull(op->args[0], NULL, 10);
                guint64 stored = rv_pg_get_uint(res, 0, 1);
                if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
                        if (stored != expected)
                                error = g_error_new(RV_ERROR, RV_ERROR_CONFLICT,
                                                    "the settings changed meanwhile (revision %" G_GUINT64_FORMAT
                                                    ", expected %" G_GUINT64_FORMAT ")",
                                                    stored, expected);
                        else
                                error = g_error_new(RV_ERROR, RV_ERROR_CONFLICT,
                                                    "the settings changed meanwhile (revision %" G_GUINT64_FORMAT
                                                    " is no longer current)",
                                                    expected);
                        rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_INT, error, NULL, NULL, 0);
                        break;
                }
                store->known_revision = MAX(store->known_revision, rv_pg_get_uint(res, 0, 0));
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_INT, NULL, NULL, NULL, rv_pg_get_int(res, 0, 0));
                break;
        }
        case RV_PG_OP_LIST_HISTORY: {
                GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_history_entry_free);
                for (int row = 0; row < PQntuples(res); row++) {
                        RvStoreHistoryEntry *entry = g_new0(RvStoreHistoryEntry, 1);
                        entry->revision = rv_pg_get_uint(res, row, 0);
                        entry->timestamp = rv_pg_get_int(res, row, 1);
                        entry->actor = rv_pg_get_string(res, row, 2);
                        entry->reason = rv_pg_get_string(res, row, 3);
                        entry->changes = rv_pg_parse_json(PQgetvalue(res, row, 4), -1, NULL);
                        g_ptr_array_add(out, entry);
                }
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, out, (GDestroyNotify)g_ptr_array_unref,
                                0);
                break;
        }
        case RV_PG_OP_LIST_KEYS: {
                GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_api_key_free);
                for (int row = 0; row < PQntuples(res); row++) {
                        RvStoreApiKey *key = g_new0(RvStoreApiKey, 1);
                        key->key_id = rv_pg_get_string(res, row, 0);
                        key->label = rv_pg_get_string(res, row, 1);
                        key->secret_hash = rv_pg_get_string(res, row, 2);
                        key->enabled = g_strcmp0(PQgetvalue(res, row, 3), "t") == 0;
                        key->burst = (guint)rv_pg_get_uint(res, row, 4);
                        key->period_s = (guint)rv_pg_get_uint(res, row, 5);
                        key->created = rv_pg_get_int(res, row, 6);
                        key->scope = rv_pg_get_string(res, row, 7);
                        g_ptr_array_add(out, key);
                }
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, out, (GDestroyNotify)g_ptr_array_unref,
                                0);
                break;
        }
        case RV_PG_OP_LIST_NODES: {
                GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_node_free);
                for (int row = 0; row < PQntuples(res); row++) {
                        RvStoreNode *node = g_new0(RvStoreNode, 1);
                        node->node_id = rv_pg_get_string(res, row, 0);
                        node->name = rv_pg_get_string(res, row, 1);
                        node->last_seen = rv_pg_get_int(res, row, 2);
                        g_ptr_array_add(out, node);
                }
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, out, (GDestroyNotify)g_ptr_array_unref,
                                0);
                break;
        }
        case RV_PG_OP_TAKE_TOKEN:
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_BOOLEAN, NULL, NULL, NULL,
                                g_strcmp0(PQcmdTuples((PGresult *)res), "1") == 0);
                break;
        case RV_PG_OP_SEND_COMMAND:
                rv_pg_command_sent(store, op, res);
                break;
        case RV_PG_OP_LIST_CLUSTER:
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL,
                                rv_pg_cluster_rows(res, g_ptr_array_index(op->results, 1)),
                                (GDestroyNotify)rv_store_cluster_view_free, 0);
                break;
        default:
                g_assert_not_reached();
        }
}

static void rv_pg_main_ready(RvStorePg *store);
static void rv_pg_cluster_done(RvStorePg *store, RvPgOp *op);

/* an operation whose statements all succeeded */
static void
rv_pg_op_finish(RvStorePg *store, RvPgOp *op_in)
{
        g_autoptr(RvPgOp) op = op_in;
        g_autoptr(GError) error = NULL;

        if (RV_PG_OP_IS_WRITE(op->kind)) {
                store->n_writes--;
                /* a delete that ran before, with its outcome lost, may have been the one that deleted */
                if (op->kind == RV_PG_OP_DELETE_KEY && !op->retried &&
                    g_strcmp0(PQcmdTuples(g_ptr_array_index(op->results, 0)), "0") == 0)
                        error = g_error_new(RV_ERROR, RV_ERROR_NOT_FOUND, "no API key '%s'", op->args[0]);
                if (RV_PG_OP_IS_FENCED(op->kind))
                        error = rv_pg_fence_result(store, op);
                rv_pg_done_waiters(store, op->waiters, error);
                return;
        }
        if (RV_PG_OP_IS_CLUSTER(op->kind)) {
                rv_pg_cluster_done(store, op);
                return;
        }
        if (op->kind == RV_PG_OP_PREPARE) {
                rv_pg_main_ready(store);
                return;
        }
        rv_pg_op_finish_task(store, op);
}

/* back to the head of the queue; outcome_unknown when the batch may have committed */
static void
rv_pg_requeue(RvStorePg *store, RvPgOp *op, gboolean outcome_unknown)
{
        op->retried |= outcome_unknown;
        g_ptr_array_set_size(op->results, 0);
        g_queue_push_head(&store->queue, op);
}

/* the Sync came back: the batch committed, or was rolled back as a whole */
static void
rv_pg_batch_done(RvStorePg *store)
{
        g_autoptr(GPtrArray) batch = g_steal_pointer(&store->batch);
        g_autoptr(GError) error = g_steal_pointer(&store->batch_error);
        RvPgOp *failed = NULL;

        store->batch = g_ptr_array_new();
        for (guint i = 0; error == NULL && i < batch->len; i++) {
                RvPgOp *op = g_ptr_array_index(batch, i);
                for (guint s = 0; s < op->results->len; s++) {
                        PGresult *res = g_ptr_array_index(op->results, s);
                        g_autofree char *what = NULL;
                        if (res != NULL && (rv_pg_result_ok(res) || PQresultStatus(res) == PGRES_PIPELINE_ABORTED))
                                continue;
                        what = rv_pg_op_describe(op);
                        error = rv_pg_error_from_result(res, what);
                        failed = op;
                        break;
                }
        }
        if (error != NULL &&
            (failed == NULL || failed->kind == RV_PG_OP_PREPARE || error->code == RV_ERROR_UNAVAILABLE)) {
                /* the server's trouble, not the operation's: all of it runs again on a new connection */
                g_ptr_array_extend_and_steal(store->batch, g_steal_pointer(&batch));
                rv_pg_main_lost(store, g_steal_pointer(&error));
                return;
        }
        if (error != NULL) {
                /* rolled back: the failing operation hears why, the others run again in a batch of their own */
                g_debug("PostgreSQL: a batch of %u rolled back (%s), running the others again", batch->len,
                        error->message);
                for (guint i = batch->len; i > 0; i--) {
                        RvPgOp *op = g_ptr_array_index(batch, i - 1);
                        if (op == failed)
                                rv_pg_op_fail(store, op, error);
                        else
                                rv_pg_requeue(store, op, FALSE);
                }
        } else {
                for (guint i = 0; i < batch->len; i++)
                        rv_pg_op_finish(store, g_ptr_array_index(batch, i));
        }
        rv_pg_kick(store);
}

/* reads what arrived in pipeline mode: results, a NULL after each statement's, then the Sync */
static void
rv_pg_pipeline_read(RvStorePg *store, PGconn *conn)
{
        while (store->batch->len > 0 && !PQisBusy(conn)) {
                PGresult *res = PQgetResult(conn);
                RvPgOp *op;

                if (res == NULL) {
                        if (!store->read_got)
                                break;
                        store->read_got = FALSE;
                        op = store->read_op < store->batch->len ? g_ptr_array_index(store->batch, store->read_op)
                                                                : NULL;
                        if (op != NULL && ++store->read_stmt >= op->results->len) {
                                store->read_op++;
                                store->read_stmt = 0;
                        }
                        continue;
                }
                if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                        PQclear(res);
                        rv_pg_batch_done(store);
                        return;
                }
                store->read_got = TRUE;
                op = store->read_op < store->batch->len ? g_ptr_array_index(store->batch, store->read_op) : NULL;
                if (op != NULL && store->read_stmt < op->results->len &&
                    g_ptr_array_index(op->results, store->read_stmt) == NULL) {
                        op->results->pdata[store->read_stmt] = res;
                } else {
                        /* not a statement's: the implicit COMMIT failed */
                        if (!rv_pg_result_ok(res) && store->batch_error == NULL)
                                store->batch_error = rv_pg_error_from_result(res, "committing to PostgreSQL");
                        PQclear(res);
                }
        }
}

/* connecting and migrating */

static void
rv_pg_setup_send(RvStorePg *store, const char *sql)
{
        PGconn *conn = rv_pg_conn_get(store->main);

        g_ptr_array_set_size(store->setup_results, 0);
        if (!PQsendQuery(conn, sql) || !rv_pg_conn_flush(store->main))
                rv_pg_main_lost(store, rv_pg_error_from_conn(conn, "setting up PostgreSQL"));
}

static char *
rv_pg_literal(RvStorePg *store, const char *text)
{
        PGconn *conn = rv_pg_conn_get(store->main);
        char *quoted = PQescapeLiteral(conn, text, strlen(text));
        char *out = g_strdup(quoted != NULL ? quoted : "''");

        PQfreemem(quoted);
        return out;
}

static void
rv_pg_setup_migrate_next(RvStorePg *store)
{
        guint version = store->schema_version + 1;
        g_autofree char *path = NULL;
        g_autoptr(GBytes) sql = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *node = NULL;
        g_autofree char *text = NULL;

        if (store->schema_version >= G_N_ELEMENTS(rv_pg_migrations)) {
                g_autofree char *lease = NULL;
                node = rv_pg_literal(store, store->node_id);
                /* a lease is taken once, at the first open: a new epoch for this start of the node */
                if (store->lease_ms > 0 && !store->opened) {
                        guint secs = store->lease_ms / 1000;
                        lease = g_strdup_printf(
                                "INSERT INTO nodes (node_id, name, last_seen, epoch, lease_expires, lease_seconds) "
                                "VALUES (%s, %s, now(), nextval('revaer_epoch'), now() + make_interval(secs => %u), "
                                "%u) ON CONFLICT (node_id) DO UPDATE SET epoch = EXCLUDED.epoch, "
                                "lease_expires = EXCLUDED.lease_expires, lease_seconds = EXCLUDED.lease_seconds, "
                                "last_seen = now() RETURNING epoch;",
                                node, node, secs, secs);
                        store->renew_sent = g_get_monotonic_time();
                }
                text = g_strdup_printf("SELECT pg_advisory_unlock(" RV_PG_MIGRATION_LOCK ");%s"
                                       "SELECT reserved_up_to FROM event_reservation WHERE node_id = %s",
                                       lease != NULL ? lease : "", node);
                store->setup_step = RV_PG_SETUP_FINISH;
                rv_pg_setup_send(store, text);
                return;
        }
        path = g_strconcat("/com/revaer/store/sql/", rv_pg_migrations[version - 1], NULL);
        sql = g_resource_lookup_data(rv_store_sql_get_resource(), path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
        if (sql == NULL) {
                rv_pg_main_lost(store,
                                g_error_new(RV_ERROR, RV_ERROR_INTERNAL, "migration %u: %s", version, error->message));
                return;
        }
        /* one simple query: PostgreSQL runs it as one transaction, the version row with it */
        text = g_strdup_printf("%s\nINSERT INTO schema_version (version) VALUES (%u)",
                               (const char *)g_bytes_get_data(sql, NULL), version);
        g_debug("PostgreSQL: migrating the schema to version %u", version);
        store->setup_step = RV_PG_SETUP_MIGRATE;
        rv_pg_setup_send(store, text);
}

/* when the lease taken by a statement sent at sent may have run out: a tenth early, for the clocks */
static gint64
rv_pg_lease_deadline(RvStorePg *store, gint64 sent)
{
        return sent + (gint64)store->lease_ms * 900;
}

static void
rv_pg_setup_step_done(RvStorePg *store)
{
        g_autoptr(GPtrArray) results = g_steal_pointer(&store->setup_results);
        PGresult *last;
        RvPgOp *prepare;

        store->setup_results = g_ptr_array_new_with_free_func((GDestroyNotify)PQclear);
        for (guint i = 0; i < results->len; i++) {
                PGresult *res = g_ptr_array_index(results, i);
                if (!rv_pg_result_ok(res) && PQresultStatus(res) != PGRES_EMPTY_QUERY) {
                        g_autofree char *what = store->setup_step == RV_PG_SETUP_MIGRATE
                                                        ? g_strdup_printf("migrating the schema to version %u",
                                                                          store->schema_version + 1)
                                                        : g_strdup("setting up PostgreSQL");
                        rv_pg_main_lost(store, rv_pg_error_from_result(res, what));
                        return;
                }
        }
        last = results->len > 0 ? g_ptr_array_index(results, results->len - 1) : NULL;
        switch (store->setup_step) {
        case RV_PG_SETUP_BOOTSTRAP:
                store->schema_version = last != NULL && PQntuples(last) > 0 ? (guint)rv_pg_get_uint(last, 0, 0) : 0;
                if (store->schema_version > G_N_ELEMENTS(rv_pg_migrations)) {
                        rv_pg_main_lost(store,
                                        g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                                    "the database has schema version %u, newer than this "
                                                    "Revaer knows (%u): upgrade Revaer",
                                                    store->schema_version, (guint)G_N_ELEMENTS(rv_pg_migrations)));
                        return;
                }
                rv_pg_setup_migrate_next(store);
                break;
        case RV_PG_SETUP_MIGRATE:
                store->schema_version++;
                rv_pg_setup_migrate_next(store);
                break;
        case RV_PG_SETUP_FINISH:
                if (store->lease_ms > 0 && !store->opened && results->len >= 3) {
                        PGresult *reg = g_ptr_array_index(results, 1);
                        store->epoch = PQntuples(reg) > 0 ? rv_pg_get_uint(reg, 0, 0) : 0;
                        store->lease_deadline = rv_pg_lease_deadline(store, store->renew_sent);
                        store->next_renew = store->renew_sent + (gint64)store->lease_ms * 1000 / 3;
                }
                if (!store->have_reservation) {
                        store->reservation = last != NULL && PQntuples(last) > 0 ? rv_pg_get_uint(last, 0, 0) : 0;
                        store->have_reservation = TRUE;
                }
                if (PQenterPipelineMode(rv_pg_conn_get(store->main)) != 1) {
                        rv_pg_main_lost(store,
                                        rv_pg_error_from_conn(rv_pg_conn_get(store->main), "setting up PostgreSQL"));
                        return;
                }
                /* the statements go first, ahead of anything queued */
                store->state = RV_PG_PREPARING;
                prepare = rv_pg_op_new(RV_PG_OP_PREPARE);
                g_queue_push_head(&store->queue, prepare);
                rv_pg_kick(store);
                break;
        }
}

static void
rv_pg_setup_read(RvStorePg *store, PGconn *conn)
{
        while (!PQisBusy(conn)) {
                PGresult *res = PQgetResult(conn);
                if (res == NULL) {
                        rv_pg_setup_step_done(store);
                        return;
                }
                g_ptr_array_add(store->setup_results, res);
        }
}

static void
rv_pg_main_io_cb(RvPgConn *pc, gpointer user_data)
{
        RvStorePg *store = rv_pg_ref(user_data);
        PGconn *conn = rv_pg_conn_get(pc);

        if (conn == NULL) {
                rv_pg_unref(store);
                return;
        }
        if (!PQconsumeInput(conn)) {
                rv_pg_main_lost(store, rv_pg_error_from_conn(conn, "lost the connection to PostgreSQL"));
        } else if (store->state == RV_PG_SETUP) {
                rv_pg_setup_read(store, conn);
        } else if (store->state == RV_PG_PREPARING || store->state == RV_PG_READY) {
                rv_pg_pipeline_read(store, conn);
        }
        /* anything still up and yet broken: an EOF that came with the data */
        conn = rv_pg_conn_get(pc);
        if (conn != NULL && !store->closed && PQstatus(conn) == CONNECTION_BAD)
                rv_pg_main_lost(store, rv_pg_error_from_conn(conn, "lost the connection to PostgreSQL"));
        rv_pg_unref(store);
}

static void
rv_pg_main_connected_cb(RvPgConn *pc, GError *error_in, gpointer user_data)
{
        RvStorePg *store = user_data;
        g_autoptr(GError) error = error_in;
        g_autofree char *node = NULL;
        g_autofree char *sql = NULL;
        PGconn *conn;

        if (error != NULL) {
                rv_pg_main_lost(store, g_steal_pointer(&error));
                return;
        }
        conn = rv_pg_conn_get(pc);
        store->backend_pids[1] = store->backend_pids[0];
        store->backend_pids[0] = PQbackendPID(conn);
        store->state = RV_PG_SETUP;
        store->setup_step = RV_PG_SETUP_BOOTSTRAP;
        node = rv_pg_literal(store, store->node_id);
        /* the node id is for migrations that adopt rows; the lock keeps two nodes from migrating at once */
        sql = g_strdup_printf("SELECT set_config('revaer.node_id', %s, false);"
                              "SELECT pg_advisory_lock(" RV_PG_MIGRATION_LOCK ");"
                              "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
                              "applied_at timestamptz NOT NULL DEFAULT now());"
                              "SELECT max(version) FROM schema_version",
                              node);
        rv_pg_setup_send(store, sql);
}

static void
rv_pg_connect(RvStorePg *store)
{
        store->state = RV_PG_CONNECTING;
        rv_pg_conn_start(store->main);
}

static gboolean
rv_pg_retry_cb(gpointer user_data)
{
        RvStorePg *store = user_data;

        g_clear_pointer(&store->retry, g_source_unref);
        rv_pg_connect(store);
        return G_SOURCE_REMOVE;
}

static GSource *
rv_pg_timeout(RvStorePg *store, guint ms, GSourceFunc func)
{
        GSource *source = g_timeout_source_new(ms);

        g_source_set_callback(source, func, store, NULL);
        g_source_attach(source, store->context);
        return source;
}

static void
rv_pg_clear_source(GSource **source)
{
        if (*source == NULL)
                return;
        g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

/* an open that did not make it: nothing stays connected, queued writes wait for the next open */
static void
rv_pg_open_failed(RvStorePg *store, GError *error)
{
        rv_pg_conn_close(store->main);
        rv_pg_conn_close(store->listen);
        rv_pg_clear_source(&store->retry);
        rv_pg_clear_source(&store->listen_retry);
        store->state = RV_PG_CLOSED;
        store->listen_state = RV_PG_LISTEN_DOWN;
        if (store->opening != NULL)
                rv_pg_done_task(store, store->opening, RV_PG_DONE_TASK_BOOLEAN, error, NULL, NULL, 0);
        else
                g_error_free(error);
        g_clear_object(&store->opening);
}

/* a node with a lease tries often enough to renew it within a third of it */
static guint
rv_pg_backoff_max(RvStorePg *store)
{
        if (store->lease_ms > 0)
                return CLAMP(store->lease_ms / 3, RV_PG_BACKOFF_MIN_MS, RV_PG_BACKOFF_MAX_MS);
        return RV_PG_BACKOFF_MAX_MS;
}

static void
rv_pg_main_lost(RvStorePg *store, GError *error_in)
{
        g_autoptr(GError) error = error_in;
        g_autoptr(GQueue) kept = g_queue_new();
        RvPgOp *op;

        g_debug("PostgreSQL: %s", error->message);
        rv_pg_conn_close(store->main);
        g_ptr_array_set_size(store->setup_results, 0);
        g_clear_error(&store->batch_error);
        /* the batch in flight goes back in front, in order */
        for (guint i = store->batch->len; i > 0; i--) {
                op = g_ptr_array_steal_index(store->batch, i - 1);
                if (op != NULL)
                        rv_pg_requeue(store, op, TRUE);
        }
        /* writes stay; reads, and answers a caller waits for, fail now */
        while ((op = g_queue_pop_head(&store->queue)) != NULL) {
                if (RV_PG_OP_IS_WRITE(op->kind) || op->kind == RV_PG_OP_BARRIER) {
                        g_queue_push_tail(kept, op);
                } else if (op->kind == RV_PG_OP_PREPARE) {
                        rv_pg_op_free(op);
                } else {
                        g_autofree char *what = rv_pg_op_describe(op);
                        g_autoptr(GError) lost =
                                g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %s%s", what, error->message,
                                            op->retried ? " (its outcome is unknown)" : "");
                        rv_pg_op_fail(store, op, lost);
                }
        }
        while ((op = g_queue_pop_head(kept)) != NULL)
                g_queue_push_tail(&store->queue, op);
        if (store->closed)
                return;
        if (!store->opened) {
                rv_pg_open_failed(store, g_steal_pointer(&error));
                return;
        }
        g_free(store->main_reason);
        store->main_reason = g_strdup_printf("PostgreSQL is unavailable, writes are queued: %s", error->message);
        store->state = RV_PG_WAITING;
        rv_pg_clear_source(&store->retry);
        store->retry = rv_pg_timeout(store, store->backoff_ms, rv_pg_retry_cb);
        store->backoff_ms = MIN(store->backoff_ms * 2, rv_pg_backoff_max(store));
        rv_pg_update_health(store);
}

/* the statements are prepared: the connection is ready for the queue */
static void
rv_pg_main_ready(RvStorePg *store)
{
        store->state = RV_PG_READY;
        store->backoff_ms = RV_PG_BACKOFF_MIN_MS;
        if (!store->opened) {
                rv_pg_listen_start(store);
        } else if (store->main_reason != NULL) {
                /* healthy again once what was queued during the outage is written */
                RvPgOp *marker = rv_pg_op_new(RV_PG_OP_BARRIER);
                marker->recovery = TRUE;
                g_queue_push_tail(&store->queue, marker);
        }
        rv_pg_kick(store);
}

/* the listening connection */

static gboolean
rv_pg_listen_retry_cb(gpointer user_data)
{
        RvStorePg *store = user_data;

        g_clear_pointer(&store->listen_retry, g_source_unref);
        rv_pg_listen_start(store);
        return G_SOURCE_REMOVE;
}

static void
rv_pg_listen_lost(RvStorePg *store, GError *error_in)
{
        g_autoptr(GError) error = error_in;

        g_debug("PostgreSQL listener: %s", error->message);
        rv_pg_conn_close(store->listen);
        g_ptr_array_set_size(store->listen_results, 0);
        if (store->closed)
                return;
        if (!store->opened) {
                rv_pg_open_failed(store, g_steal_pointer(&error));
                return;
        }
        g_free(store->listen_reason);
        store->listen_reason = g_strdup_printf("not hearing of settings changes from other nodes: %s", error->message);
        store->listen_state = RV_PG_LISTEN_WAITING;
        rv_pg_clear_source(&store->listen_retry);
        store->listen_retry = rv_pg_timeout(store, store->listen_backoff_ms, rv_pg_listen_retry_cb);
        store->listen_backoff_ms = MIN(store->listen_backoff_ms * 2, rv_pg_backoff_max(store));
        rv_pg_update_health(store);
}

static void
rv_pg_listen_notifies(RvStorePg *store, PGconn *conn)
{
        PGnotify *notify;

        while ((notify = PQnotifies(conn)) != NULL) {
                guint64 revision = g_ascii_strtoull(notify->extra, NULL, 10);
                /* our own saves: the caller has the revision already */
                gboolean ours = notify->be_pid == store->backend_pids[0] || notify->be_pid == store->backend_pids[1];

                if (g_str_equal(notify->relname, "revaer_keys")) {
                        rv_pg_done_keys_changed(store);
                } else if (g_str_equal(notify->relname, "revaer_commands") ||
                           g_str_equal(notify->relname, "revaer_answers")) {
                        if (g_str_equal(notify->extra, store->node_id))
                                rv_pg_take_message(store, g_str_equal(notify->relname, "revaer_commands")
                                                                  ? RV_PG_OP_TAKE_COMMANDS
                                                                  : RV_PG_OP_TAKE_ANSWERS);
                } else if (!ours && revision > store->known_revision) {
                        store->known_revision = revision;
                        rv_pg_done_settings_changed(store, revision);
                }
                PQfreemem(notify);
        }
}

static void rv_pg_lease_start(RvStorePg *store);

/* LISTEN is up: the revision read after it covers what happened while nobody listened */
static void
rv_pg_listen_started(RvStorePg *store)
{
        g_autoptr(GPtrArray) results = g_steal_pointer(&store->listen_results);
        PGresult *last;
        guint64 revision;

        store->listen_results = g_ptr_array_new_with_free_func((GDestroyNotify)PQclear);
        for (guint i = 0; i < results->len; i++) {
                if (!rv_pg_result_ok(g_ptr_array_index(results, i))) {
                        rv_pg_listen_lost(store, rv_pg_error_from_result(g_ptr_array_index(results, i),
                                                                         "listening for settings changes"));
                        return;
                }
        }
        last = results->len > 0 ? g_ptr_array_index(results, results->len - 1) : NULL;
        revision = last != NULL && PQntuples(last) > 0 ? rv_pg_get_uint(last, 0, 0) : 0;
        if (store->listened && revision > store->known_revision)
                rv_pg_done_settings_changed(store, revision);
        /* what changed while nobody listened */
        if (store->listened)
                rv_pg_done_keys_changed(store);
        store->known_revision = MAX(store->known_revision, revision);
        store->listened = TRUE;
        store->listen_state = RV_PG_LISTEN_UP;
        store->listen_backoff_ms = RV_PG_BACKOFF_MIN_MS;
        g_clear_pointer(&store->listen_reason, g_free);
        if (store->opened)
                rv_pg_take_messages(store);
        if (!store->opened) {
                store->opened = TRUE;
                rv_pg_lease_start(store);
                rv_pg_done_task(store, store->opening, RV_PG_DONE_TASK_BOOLEAN, NULL, NULL, NULL, TRUE);
                g_clear_object(&store->opening);
        }
        rv_pg_update_health(store);
}

static void
rv_pg_listen_io_cb(RvPgConn *pc, gpointer user_data)
{
        RvStorePg *store = rv_pg_ref(user_data);
        PGconn *conn = rv_pg_conn_get(pc);

        if (conn == NULL) {
                rv_pg_unref(store);
                return;
        }
        if (!PQconsumeInput(conn) || PQstatus(conn) == CONNECTION_BAD) {
                rv_pg_listen_lost(store, rv_pg_error_from_conn(conn, "lost the connection to PostgreSQL"));
                rv_pg_unref(store);
                return;
        }
        while (store->listen_state == RV_PG_LISTEN_STARTING && !PQisBusy(conn)) {
                PGresult *res = PQgetResult(conn);
                if (res == NULL) {
                        rv_pg_listen_started(store);
                        break;
                }
                g_ptr_array_add(store->listen_results, res);
        }
        conn = rv_pg_conn_get(pc);
        if (conn != NULL)
                rv_pg_listen_notifies(store, conn);
        rv_pg_unref(store);
}

static void
rv_pg_listen_connected_cb(RvPgConn *pc, GError *error_in, gpointer user_data)
{
        RvStorePg *store = user_data;
        g_autoptr(GError) error = error_in;
        PGconn *conn;

        if (error != NULL) {
                rv_pg_listen_lost(store, g_steal_pointer(&error));
                return;
        }
        conn = rv_pg_conn_get(pc);
        store->listen_state = RV_PG_LISTEN_STARTING;
        g_ptr_array_set_size(store->listen_results, 0);
        if (!PQsendQuery(conn, "LISTEN revaer_settings; LISTEN revaer_commands; LISTEN revaer_answers; "
                               "LISTEN revaer_keys; "
                               "SELECT revision FROM settings WHERE id = 1") ||
            !rv_pg_conn_flush(pc))
                rv_pg_listen_lost(store, rv_pg_error_from_conn(conn, "listening for settings changes"));
}

static void
rv_pg_listen_start(RvStorePg *store)
{
        store->listen_state = RV_PG_LISTEN_CONNECTING;
        rv_pg_conn_start(store->listen);
}

/* the lease, fencing and takeover (docs/cluster.md) */

static void
rv_pg_done_lease(RvStorePg *store, gboolean held, const char *reason)
{
        RvPgDone *done = g_new0(RvPgDone, 1);

        done->kind = RV_PG_DONE_LEASE;
        done->number = held;
        done->pointer = g_strdup(reason);
        done->destroy = g_free;
        rv_pg_done_push(store, done);
}

/* stop everything locally: from here on another node may take this node's torrents */
static void
rv_pg_fence(RvStorePg *store, const char *reason)
{
        if (store->fenced)
                return;
        store->fenced = TRUE;
        rv_pg_done_lease(store, FALSE, reason);
}

/* the lease and takeover go ahead of queued writes: a long queue must not cost the lease */
static void
rv_pg_push_cluster(RvStorePg *store, RvPgOp *op_in)
{
        g_autoptr(RvPgOp) op = op_in;

        if (store->state != RV_PG_READY) {
                g_autofree char *what = rv_pg_op_describe(op);
                g_autoptr(GError) error = rv_pg_unavailable(store, what);
                rv_pg_cluster_failed(store, op, error);
                return;
        }
        g_queue_push_head(&store->queue, g_steal_pointer(&op));
        rv_pg_kick(store);
}

static void
rv_pg_cluster_push(RvStorePg *store, RvPgOpKind kind)
{
        RvPgOp *op = rv_pg_op_new(kind);

        /* the renewal is the tick's, with its send time */
        g_return_if_fail(kind == RV_PG_OP_RECONCILE || kind == RV_PG_OP_CLAIM);
        if (kind == RV_PG_OP_CLAIM)
                op->args[0] = rv_pg_uint(store->epoch);
        if (kind == RV_PG_OP_RECONCILE)
                store->reconciling = TRUE;
        else
                store->claiming = TRUE;
        rv_pg_push_cluster(store, op);
}

static void
rv_pg_cluster_failed(RvStorePg *store, RvPgOp *op, const GError *error)
{
        g_debug("PostgreSQL: %s", error->message);
        if (op->kind == RV_PG_OP_RENEW) {
                store->renewing = FALSE;
                /* soon again: the deadline, not the schedule, decides when to stop */
                store->next_renew = g_get_monotonic_time() + RV_PG_BACKOFF_MIN_MS * 1000;
        } else if (op->kind == RV_PG_OP_RECONCILE) {
                store->reconciling = FALSE;
        } else if (op->kind == RV_PG_OP_CLAIM) {
                store->claiming = FALSE;
        } else if (op->kind == RV_PG_OP_TAKE_COMMANDS) {
                store->taking_commands = FALSE;
        } else if (op->kind == RV_PG_OP_TAKE_ANSWERS) {
                store->taking_answers = FALSE;
        }
}

static void
rv_pg_renewed(RvStorePg *store, const PGresult *res, gint64 sent)
{
        store->renewing = FALSE;
        if (PQntuples(res) == 0) {
                /* the row names a newer epoch: this node id was started again elsewhere; all of it is theirs */
                g_autofree char *reason = g_strdup_printf(
                        "another revaerd started as node '%s' and holds its lease: this one gave up its torrents",
                        store->node_id);
                GHashTableIter iter;
                gpointer key;
                g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func(g_free);
                store->superseded = TRUE;
                rv_pg_fence(store, reason);
                g_hash_table_iter_init(&iter, store->owned);
                while (g_hash_table_iter_next(&iter, &key, NULL))
                        g_ptr_array_add(lost, g_strdup(key));
                for (guint i = 0; i < lost->len; i++)
                        rv_pg_lost(store, g_ptr_array_index(lost, i), store->node_id);
                return;
        }
        store->lease_deadline = rv_pg_lease_deadline(store, sent);
        if (g_strcmp0(PQgetvalue(res, 0, 0), "t") == 0) {
                /* it ran out meanwhile: stop first, then keep only what still names this node */
                rv_pg_fence(store, "the lease of this node had run out (stalled or cut off from PostgreSQL)");
                store->need_reconcile = TRUE;
        }
        if (store->need_reconcile) {
                if (!store->reconciling)
                        rv_pg_cluster_push(store, RV_PG_OP_RECONCILE);
                return;
        }
        /* stopped on the clock alone: nobody could take anything while the lease stood */
        if (store->fenced) {
                store->fenced = FALSE;
                rv_pg_done_lease(store, TRUE, NULL);
        }
        if (store->takeover && !store->claiming)
                rv_pg_cluster_push(store, RV_PG_OP_CLAIM);
}

static void
rv_pg_reconciled(RvStorePg *store, const PGresult *res)
{
        g_autoptr(GHashTable) rows = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter iter;
        gpointer key;
        gpointer value;

        store->reconciling = FALSE;
        store->need_reconcile = FALSE;
        for (int row = 0; row < PQntuples(res); row++)
                g_hash_table_insert(rows, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
        g_hash_table_iter_init(&iter, store->owned);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const char *epoch = g_hash_table_lookup(rows, key);
                if (epoch == NULL || g_ascii_strtoull(epoch, NULL, 10) != *(guint64 *)value)
                        g_ptr_array_add(lost, g_strdup(key));
        }
        for (guint i = 0; i < lost->len; i++)
                rv_pg_lost(store, g_ptr_array_index(lost, i), NULL);
        g_debug("PostgreSQL: lease back, %u torrents kept, %u taken by other nodes meanwhile",
                g_hash_table_size(store->owned), lost->len);
        /* the lost ones are reported before the rest may run again */
        store->fenced = FALSE;
        rv_pg_done_lease(store, TRUE, NULL);
}

static void
rv_pg_claimed(RvStorePg *store, const PGresult *res)
{
        GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_torrent_free);
        RvPgDone *done;

        store->claiming = FALSE;
        for (int row = 0; row < PQntuples(res); row++) {
                g_autofree char *hex = g_strndup(PQgetvalue(res, row, 0), (gsize)PQgetlength(res, row, 0));
                g_autofree char *epoch = g_strndup(PQgetvalue(res, row, 3), (gsize)PQgetlength(res, row, 3));
                RvStoreTorrent *record;
                RvInfoHash hash;

                rv_pg_own(store, hex, strlen(hex), epoch);
                if (!rv_info_hash_parse(hex, &hash)) {
                        rv_pg_push_write(store, rv_pg_op_new_quarantine(hex, "not an info hash"));
                        continue;
                }
                record = g_new0(RvStoreTorrent, 1);
                record->hash = hash;
                /* metadata that does not parse is left out: the manager reports what it cannot restore */
                if (!PQgetisnull(res, row, 1))
                        record->meta = rv_pg_parse_json(PQgetvalue(res, row, 1), PQgetlength(res, row, 1), NULL);
                if (record->meta != NULL && !JSON_NODE_HOLDS_OBJECT(record->meta))
                        g_clear_pointer(&record->meta, json_node_unref);
                if (!PQgetisnull(res, row, 2))
                        record->resume = g_bytes_new(PQgetvalue(res, row, 2), (gsize)PQgetlength(res, row, 2));
                g_ptr_array_add(records, record);
        }
        if (records->len == 0) {
                g_ptr_array_unref(records);
                return;
        }
        g_debug("PostgreSQL: took over %u torrents of nodes whose lease ran out", records->len);
        done = g_new0(RvPgDone, 1);
        done->kind = RV_PG_DONE_CLAIMED;
        done->pointer = records;
        done->destroy = (GDestroyNotify)g_ptr_array_unref;
        rv_pg_done_push(store, done);
}

static void
rv_pg_cluster_done(RvStorePg *store, RvPgOp *op)
{
        const PGresult *res = g_ptr_array_index(op->results, 0);

        switch (op->kind) {
        case RV_PG_OP_RENEW:
                rv_pg_renewed(store, res, g_ascii_strtoll(op->args[1], NULL, 10));
                break;
        case RV_PG_OP_RECONCILE:
                rv_pg_reconciled(store, res);
                break;
        case RV_PG_OP_CLAIM:
                rv_pg_claimed(store, res);
                break;
        case RV_PG_OP_TAKE_COMMANDS:
                rv_pg_commands_taken(store, res);
                break;
        case RV_PG_OP_TAKE_ANSWERS:
                rv_pg_answers_taken(store, res);
                break;
        default:
                g_assert_not_reached();
        }
}

/*
 * the lease clock, at a high priority so that after a stall (SIGSTOP, a
 * frozen VM) it runs before the torrents' own work: past the deadline the
 * node stops everything first and asks PostgreSQL second
 */
static gboolean
rv_pg_lease_tick_cb(gpointer user_data)
{
        RvStorePg *store = user_data;
        gint64 now = g_get_monotonic_time();
        RvPgOp *op;

        if (now >= store->lease_deadline)
                rv_pg_fence(store, "the lease of this node may have run out: it could not be renewed in time");
        if (store->superseded || store->renewing || store->reconciling || now < store->next_renew)
                return G_SOURCE_CONTINUE;
        store->next_renew = now + (gint64)store->lease_ms * 1000 / 3;
        op = rv_pg_op_new(RV_PG_OP_RENEW);
        op->args[0] = rv_pg_uint(store->epoch);
        /* the send time bounds the lease from below: the server starts it later */
        op->args[1] = rv_pg_int(now);
        store->renewing = TRUE;
        rv_pg_push_cluster(store, op);
        /* a NOTIFY missed while the listener reconnected is caught here */
        rv_pg_take_messages(store);
        return G_SOURCE_CONTINUE;
}

static void
rv_pg_lease_start(RvStorePg *store)
{
        if (store->lease_ms == 0 || store->lease_tick != NULL)
                return;
        store->lease_tick = g_timeout_source_new(CLAMP(store->lease_ms / 10, 20, 250));
        g_source_set_priority(store->lease_tick, G_PRIORITY_HIGH);
        g_source_set_callback(store->lease_tick, rv_pg_lease_tick_cb, store, NULL);
        g_source_set_name(store->lease_tick, "revaer lease");
        g_source_attach(store->lease_tick, store->context);
}

static gboolean
rv_pg_set_lease(RvStore *base, guint lease_s, GError **error)
{
        RvStorePg *store = base->impl;

        if (store->opened || store->opening != NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "[cluster]: the lease is set before the store opens");
                return FALSE;
        }
        if (lease_s < 2 || lease_s > 3600) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "[cluster] lease-seconds: %u is not from 2 to 3600", lease_s);
                return FALSE;
        }
        store->lease_ms = lease_s * 1000;
        return TRUE;
}

static void
rv_pg_start_takeover(RvStore *base)
{
        RvStorePg *store = base->impl;

        store->takeover = TRUE;
}

static guint64
rv_pg_get_epoch(RvStore *base)
{
        RvStorePg *store = base->impl;

        return store->epoch;
}

/* commands between nodes and the cluster view (docs/cluster.md) */

static void
rv_pg_sent_free(RvPgSent *sent)
{
        if (sent->timeout != NULL) {
                g_source_destroy(sent->timeout);
                g_source_unref(sent->timeout);
        }
        g_clear_object(&sent->task);
        g_free(sent->target);
        g_free(sent);
}

static gboolean
rv_pg_sent_timeout_cb(gpointer user_data)
{
        RvPgSent *sent = user_data;
        RvStorePg *store = sent->store;
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_DROP_COMMAND);

        rv_pg_done_task(store, sent->task, RV_PG_DONE_TASK_POINTER,
                        g_error_new(RV_ERROR, RV_ERROR_TIMED_OUT,
                                    "node '%s' did not answer within %u ms (the command may still run there)",
                                    sent->target, sent->timeout_ms),
                        NULL, NULL, 0);
        /* not run by the target after all, unless it took it already */
        op->args[0] = rv_pg_int(sent->id);
        rv_pg_push_write(store, op);
        /* the source is being dispatched: returning REMOVE destroys it */
        g_clear_pointer(&sent->timeout, g_source_unref);
        g_hash_table_remove(store->sent, &sent->id);
        return G_SOURCE_REMOVE;
}

static void
rv_pg_command_sent(RvStorePg *store, RvPgOp *op, const PGresult *res)
{
        RvPgSent *sent;
        gint64 id;
        gint64 left_ms;
        gpointer key;
        gpointer answer;

        if (PQntuples(res) == 0) {
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER,
                                g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                            "node '%s' holds no lease: it is stopped or cut off, and its torrents "
                                            "go to other nodes once its lease has run out",
                                            op->args[0]),
                                NULL, NULL, 0);
                return;
        }
        id = rv_pg_get_int(res, 0, 0);
        if (g_hash_table_steal_extended(store->early, &id, &key, &answer)) {
                g_free(key);
                rv_pg_done_task(store, op->task, RV_PG_DONE_TASK_POINTER, NULL, answer, (GDestroyNotify)json_node_unref,
                                0);
                return;
        }
        sent = g_new0(RvPgSent, 1);
        sent->store = store;
        sent->id = id;
        sent->target = g_strdup(op->args[0]);
        sent->timeout_ms = op->timeout_ms;
        sent->task = g_object_ref(op->task);
        left_ms = (gint64)op->timeout_ms - (g_get_monotonic_time() - op->asked_at) / 1000;
        sent->timeout = g_timeout_source_new((guint)CLAMP(left_ms, 1, G_MAXUINT));
        g_source_set_callback(sent->timeout, rv_pg_sent_timeout_cb, sent, NULL);
        g_source_set_name(sent->timeout, "revaer command timeout");
        g_source_attach(sent->timeout, store->context);
        g_hash_table_insert(store->sent, &sent->id, sent);
}

/* a NOTIFY (or the lease's tick) says there may be commands or answers for this node */
static void
rv_pg_take_message(RvStorePg *store, RvPgOpKind kind)
{
        gboolean *busy = kind == RV_PG_OP_TAKE_COMMANDS ? &store->taking_commands : &store->taking_answers;
        gboolean *again = kind == RV_PG_OP_TAKE_COMMANDS ? &store->commands_again : &store->answers_again;

        if (store->lease_ms == 0 || store->closed || store->superseded)
                return;
        if (*busy) {
                *again = TRUE;
                return;
        }
        *busy = TRUE;
        *again = FALSE;
        rv_pg_push_cluster(store, rv_pg_op_new(kind));
}

static void
rv_pg_take_messages(RvStorePg *store)
{
        rv_pg_take_message(store, RV_PG_OP_TAKE_COMMANDS);
        rv_pg_take_message(store, RV_PG_OP_TAKE_ANSWERS);
}

static gint
rv_pg_command_cmp(gconstpointer a, gconstpointer b)
{
        const RvStoreCommand *ca = *(RvStoreCommand *const *)a;
        const RvStoreCommand *cb = *(RvStoreCommand *const *)b;

        return ca->id < cb->id ? -1 : ca->id > cb->id;
}

static void
rv_pg_commands_taken(RvStorePg *store, const PGresult *res)
{
        g_autoptr(GPtrArray) commands = g_ptr_array_new();

        store->taking_commands = FALSE;
        for (int row = 0; row < PQntuples(res); row++) {
                RvStoreCommand *command = g_new0(RvStoreCommand, 1);
                command->id = rv_pg_get_uint(res, row, 0);
                command->from_node = rv_pg_get_string(res, row, 1);
                command->body = rv_pg_parse_json(PQgetvalue(res, row, 2), -1, NULL);
                g_ptr_array_add(commands, command);
        }
        /* in the order they were sent */
        g_ptr_array_sort(commands, rv_pg_command_cmp);
        for (guint i = 0; i < commands->len; i++) {
                RvPgDone *done = g_new0(RvPgDone, 1);
                done->kind = RV_PG_DONE_COMMAND;
                done->pointer = g_ptr_array_index(commands, i);
                done->destroy = (GDestroyNotify)rv_store_command_free;
                rv_pg_done_push(store, done);
        }
        if (store->commands_again)
                rv_pg_take_message(store, RV_PG_OP_TAKE_COMMANDS);
}

/* answers kept for commands whose id is not known yet; more would be leftovers of an earlier start */
#define RV_PG_EARLY_MAX 1024

static void
rv_pg_answers_taken(RvStorePg *store, const PGresult *res)
{
        store->taking_answers = FALSE;
        for (int row = 0; row < PQntuples(res); row++) {
                gint64 id = rv_pg_get_int(res, row, 0);
                g_autoptr(GError) error = NULL;
                JsonNode *answer;
                RvPgSent *sent;

                /* a row nobody came back for, deleted on the way */
                if (g_strcmp0(PQgetvalue(res, row, 1), "t") != 0 || PQgetisnull(res, row, 2))
                        continue;
                answer = rv_pg_parse_json(PQgetvalue(res, row, 2), -1, &error);
                sent = g_hash_table_lookup(store->sent, &id);
                if (sent == NULL) {
                        if (answer != NULL && g_hash_table_size(store->early) < RV_PG_EARLY_MAX)
                                g_hash_table_insert(store->early, g_memdup2(&id, sizeof(id)), answer);
                        else if (answer != NULL)
                                json_node_unref(answer);
                        continue;
                }
                if (answer == NULL)
                        rv_pg_done_task(store, sent->task, RV_PG_DONE_TASK_POINTER,
                                        g_error_new(RV_ERROR, RV_ERROR_INTERNAL, "the answer of node '%s' is not JSON",
                                                    sent->target),
                                        NULL, NULL, 0);
                else
                        rv_pg_done_task(store, sent->task, RV_PG_DONE_TASK_POINTER, NULL, answer,
                                        (GDestroyNotify)json_node_unref, 0);
                g_hash_table_remove(store->sent, &id);
        }
        if (store->answers_again)
                rv_pg_take_message(store, RV_PG_OP_TAKE_ANSWERS);
}

static RvStoreClusterView *
rv_pg_cluster_rows(const PGresult *res, const PGresult *nodes)
{
        RvStoreClusterView *view = g_new0(RvStoreClusterView, 1);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_cluster_torrent_free);
        g_autoptr(GStrvBuilder) live = g_strv_builder_new();

        for (int row = 0; row < PQntuples(res); row++) {
                RvStoreClusterTorrent *t = g_new0(RvStoreClusterTorrent, 1);
                if (!rv_info_hash_parse(PQgetvalue(res, row, 0), &t->hash)) {
                        rv_store_cluster_torrent_free(t);
                        continue;
                }
                t->node_id = rv_pg_get_string(res, row, 1);
                if (!PQgetisnull(res, row, 2))
                        t->meta = rv_pg_parse_json(PQgetvalue(res, row, 2), -1, NULL);
                if (!PQgetisnull(res, row, 3))
                        t->status = rv_pg_parse_json(PQgetvalue(res, row, 3), -1, NULL);
                t->node_alive = g_strcmp0(PQgetvalue(res, row, 4), "t") == 0;
                g_ptr_array_add(out, t);
        }
        for (int row = 0; row < PQntuples(nodes); row++)
                g_strv_builder_add(live, PQgetvalue(nodes, row, 0));
        view->torrents = out;
        view->live_nodes = g_strv_builder_end(live);
        return view;
}

static void
rv_pg_send_command_async(RvStore *base, const char *target, JsonNode *body, guint timeout_ms, GTask *task)
{
        RvStorePg *store = base->impl;
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_SEND_COMMAND);

        op->args[0] = g_strdup(target);
        op->args[1] = json_to_string(body, FALSE);
        op->timeout_ms = timeout_ms;
        op->asked_at = g_get_monotonic_time();
        rv_pg_push_task(store, op, task);
}

static void
rv_pg_answer_command(RvStore *base, guint64 id, JsonNode *answer)
{
        RvStorePg *store = base->impl;
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_ANSWER_COMMAND);

        op->args[0] = rv_pg_uint(id);
        op->args[1] = json_to_string(answer, FALSE);
        rv_pg_push_write(store, op);
}

static void
rv_pg_put_status(RvStore *base, JsonNode *statuses)
{
        RvStorePg *store = base->impl;
        RvPgOp *queued = g_hash_table_lookup(store->coalesce, "status");
        RvPgOp *op;

        if (queued != NULL) {
                /* still waiting (PostgreSQL is slow or away): one write with the newest of each */
                g_autoptr(JsonNode) merged = rv_pg_parse_json(queued->args[0], -1, NULL);
                JsonObjectIter iter;
                const char *member;
                JsonNode *value;
                if (merged != NULL && JSON_NODE_HOLDS_OBJECT(merged) && JSON_NODE_HOLDS_OBJECT(statuses)) {
                        json_object_iter_init(&iter, json_node_get_object(statuses));
                        while (json_object_iter_next(&iter, &member, &value))
                                json_object_set_member(json_node_get_object(merged), member, json_node_copy(value));
                        g_free(queued->args[0]);
                        queued->args[0] = json_to_string(merged, FALSE);
                        return;
                }
        }
        op = rv_pg_op_new(RV_PG_OP_PUT_STATUS);
        op->key = g_strdup("status");
        op->args[0] = json_to_string(statuses, FALSE);
        rv_pg_push_write(store, op);
}

static void
rv_pg_list_cluster_async(RvStore *base, GTask *task)
{
        rv_pg_push_task(base->impl, rv_pg_op_new(RV_PG_OP_LIST_CLUSTER), task);
}

/* the vtable */

static void
rv_pg_free(RvStore *base)
{
        RvStorePg *store = base->impl;
        g_autoptr(GError) error = NULL;
        RvPgOp *op;

        if (store == NULL)
                return;
        store->closed = TRUE;
        store->base = NULL;
        base->impl = NULL;
        rv_pg_conn_close(store->main);
        rv_pg_conn_close(store->listen);
        rv_pg_clear_source(&store->retry);
        rv_pg_clear_source(&store->listen_retry);
        rv_pg_clear_source(&store->done_idle);
        rv_pg_clear_source(&store->lease_tick);
        {
                GHashTableIter iter;
                RvPgSent *sent;
                g_hash_table_iter_init(&iter, store->sent);
                while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&sent))
                        rv_pg_done_task(store, sent->task, RV_PG_DONE_TASK_POINTER,
                                        g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                                    "a command to node '%s': the store was closed first", sent->target),
                                        NULL, NULL, 0);
                g_hash_table_remove_all(store->sent);
        }
        /* callers waiting hear that nothing more will happen; the daemon flushes before it gets here */
        for (guint i = store->batch->len; i > 0; i--) {
                op = g_ptr_array_steal_index(store->batch, i - 1);
                if (op != NULL)
                        g_queue_push_head(&store->queue, op);
        }
        while ((op = g_queue_pop_head(&store->queue)) != NULL) {
                g_autofree char *what = rv_pg_op_describe(op);
                g_clear_error(&error);
                error = g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: the store was closed first", what);
                rv_pg_op_fail(store, op, error);
        }
        if (store->opening != NULL) {
                rv_pg_done_task(store, store->opening, RV_PG_DONE_TASK_BOOLEAN,
                                g_error_new_literal(RV_ERROR, RV_ERROR_UNAVAILABLE,
                                                    "opening the store: the store was closed first"),
                                NULL, NULL, 0);
                g_clear_object(&store->opening);
        }
        rv_pg_done_run_all(store);
        rv_pg_unref(store);
}

static void
rv_pg_open_async(RvStore *base, GTask *task)
{
        RvStorePg *store = base->impl;

        if (store->opened) {
                rv_pg_done_task(store, task, RV_PG_DONE_TASK_BOOLEAN, NULL, NULL, NULL, TRUE);
        } else if (store->opening != NULL) {
                rv_pg_done_task(store, task, RV_PG_DONE_TASK_BOOLEAN,
                                g_error_new_literal(RV_ERROR, RV_ERROR_CONFLICT, "the store is already opening"), NULL,
                                NULL, 0);
        } else {
                store->opening = g_object_ref(task);
                store->backoff_ms = RV_PG_BACKOFF_MIN_MS;
                store->listen_backoff_ms = RV_PG_BACKOFF_MIN_MS;
                rv_pg_connect(store);
        }
        g_object_unref(task);
}

static char *
rv_pg_hash_key(const char *hex)
{
        return g_strconcat("t:", hex, NULL);
}

static RvPgOp *
rv_pg_op_new_quarantine(const char *hash, const char *reason)
{
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_QUARANTINE);

        op->args[0] = g_strdup(hash);
        op->args[1] = g_strdup(reason);
        op->key = rv_pg_hash_key(hash);
        return op;
}

static void
rv_pg_load_async(RvStore *base, GTask *task)
{
        rv_pg_push_task(base->impl, rv_pg_op_new(RV_PG_OP_LOAD), task);
}

static void
rv_pg_flush(RvStore *base, RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        RvPgOp *op;

        if (g_queue_is_empty(&store->queue) && store->batch->len == 0) {
                g_autoptr(GArray) waiters = g_array_new(FALSE, TRUE, sizeof(RvPgWaiter));
                RvPgWaiter w = { done, user_data };
                if (done != NULL)
                        g_array_append_val(waiters, w);
                rv_pg_done_waiters(store, waiters, NULL);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_BARRIER);
        rv_pg_op_add_waiter(op, done, user_data);
        g_queue_push_tail(&store->queue, op);
        rv_pg_kick(store);
}

static void
rv_pg_put_torrent(RvStore *base, const RvInfoHash *hash, char *meta, gsize meta_length, GBytes *resume,
                  RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        g_autofree char *key = rv_pg_hash_key(hash->hex);
        g_autofree char *text = meta;
        RvPgOp *queued = g_hash_table_lookup(store->coalesce, key);
        RvPgOp *op;

        if (meta == NULL && resume == NULL) {
                rv_pg_flush(base, done, user_data);
                return;
        }
        /* a later write of the same torrent replaces the queued one's parts it carries */
        if (queued != NULL && queued->kind == RV_PG_OP_PUT_TORRENT) {
                if (text != NULL) {
                        g_free(queued->args[1]);
                        queued->args[1] = g_steal_pointer(&text);
                }
                if (resume != NULL) {
                        if (queued->resume != NULL)
                                g_bytes_unref(queued->resume);
                        queued->resume = g_bytes_ref(resume);
                }
                rv_pg_op_add_waiter(queued, done, user_data);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_PUT_TORRENT);
        op->key = g_steal_pointer(&key);
        op->args[0] = g_strdup(hash->hex);
        op->args[1] = g_steal_pointer(&text);
        op->resume = resume != NULL ? g_bytes_ref(resume) : NULL;
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(store, op);
}

static void
rv_pg_delete_torrent(RvStore *base, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        g_autofree char *key = rv_pg_hash_key(hash->hex);
        RvPgOp *queued = g_hash_table_lookup(store->coalesce, key);
        RvPgOp *op;

        /* a queued write of the torrent becomes the delete; nothing between them concerns it */
        if (queued != NULL && (queued->kind == RV_PG_OP_PUT_TORRENT || queued->kind == RV_PG_OP_DELETE_TORRENT)) {
                queued->kind = RV_PG_OP_DELETE_TORRENT;
                g_clear_pointer(&queued->args[1], g_free);
                g_clear_pointer(&queued->resume, g_bytes_unref);
                rv_pg_op_add_waiter(queued, done, user_data);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_DELETE_TORRENT);
        op->key = g_steal_pointer(&key);
        op->args[0] = g_strdup(hash->hex);
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(store, op);
}

static void
rv_pg_quarantine_torrent(RvStore *base, const RvInfoHash *hash, const char *reason)
{
        rv_pg_push_write(base->impl, rv_pg_op_new_quarantine(hash->hex, reason != NULL ? reason : ""));
}

static guint64
rv_pg_read_event_reservation(RvStore *base, GError **error)
{
        RvStorePg *store = base->impl;

        /* read with the migrations, before anything can be waited for */
        if (!store->have_reservation) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                                    "the event id reservation is read when the store opens: open it first");
                return 0;
        }
        return store->reservation;
}

static void
rv_pg_put_event_reservation(RvStore *base, guint64 reserved_up_to)
{
        RvStorePg *store = base->impl;
        RvPgOp *queued = g_hash_table_lookup(store->coalesce, "events");
        RvPgOp *op;

        store->reservation = reserved_up_to;
        store->have_reservation = TRUE;
        if (queued != NULL) {
                g_free(queued->args[0]);
                queued->args[0] = rv_pg_uint(reserved_up_to);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_PUT_RESERVATION);
        op->key = g_strdup("events");
        op->args[0] = rv_pg_uint(reserved_up_to);
        rv_pg_push_write(store, op);
}

static void
rv_pg_load_settings_async(RvStore *base, GTask *task)
{
        rv_pg_push_task(base->impl, rv_pg_op_new(RV_PG_OP_LOAD_SETTINGS), task);
}

static void
rv_pg_save_settings_async(RvStore *base, guint64 expected_revision, JsonNode *document,
                          const RvStoreHistoryEntry *entry, GTask *task)
{
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_SAVE_SETTINGS);

        op->args[0] = rv_pg_uint(expected_revision);
        op->args[1] = json_to_string(document, FALSE);
        op->args[2] = g_strdup(entry != NULL && entry->actor != NULL ? entry->actor : "");
        op->args[3] = g_strdup(entry != NULL && entry->reason != NULL ? entry->reason : "");
        op->args[4] = entry != NULL && entry->changes != NULL ? json_to_string(entry->changes, FALSE) : g_strdup("{}");
        rv_pg_push_task(base->impl, op, task);
}

static void
rv_pg_list_history_async(RvStore *base, guint limit, GTask *task)
{
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_LIST_HISTORY);

        op->args[0] = rv_pg_uint(limit);
        rv_pg_push_task(base->impl, op, task);
}

static gint64
rv_pg_clamp_time(gint64 unix_seconds)
{
        return CLAMP(unix_seconds, RV_PG_UNIX_MIN, RV_PG_UNIX_MAX);
}

static void
rv_pg_put_api_key(RvStore *base, const RvStoreApiKey *key, RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        RvPgOp *op;

        if (key == NULL || key->key_id == NULL || key->key_id[0] == '\0') {
                g_autoptr(GArray) waiters = g_array_new(FALSE, TRUE, sizeof(RvPgWaiter));
                g_autoptr(GError) error =
                        g_error_new_literal(RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "storing an API key: key_id is empty");
                RvPgWaiter w = { done, user_data };
                if (done != NULL)
                        g_array_append_val(waiters, w);
                rv_pg_done_waiters(store, waiters, error);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_PUT_KEY);
        op->args[0] = g_strdup(key->key_id);
        op->args[1] = g_strdup(key->label != NULL ? key->label : "");
        op->args[2] = g_strdup(key->secret_hash != NULL ? key->secret_hash : "");
        op->args[3] = g_strdup(key->enabled ? "true" : "false");
        op->args[4] = rv_pg_uint(key->burst);
        op->args[5] = rv_pg_uint(key->period_s);
        op->args[6] = rv_pg_int(rv_pg_clamp_time(key->created));
        op->args[7] = g_strdup(key->scope != NULL ? key->scope : "admin");
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(store, op);
}

static void
rv_pg_delete_api_key(RvStore *base, const char *key_id, RvStoreDoneFunc done, gpointer user_data)
{
        RvPgOp *op = rv_pg_op_new(RV_PG_OP_DELETE_KEY);

        op->args[0] = g_strdup(key_id != NULL ? key_id : "");
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(base->impl, op);
}

static void
rv_pg_list_api_keys_async(RvStore *base, GTask *task)
{
        rv_pg_push_task(base->impl, rv_pg_op_new(RV_PG_OP_LIST_KEYS), task);
}

static void
rv_pg_put_setup_token(RvStore *base, const char *token_hash, gint64 expires_at, const char *issued_by,
                      RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        RvPgOp *op;

        if (token_hash == NULL || token_hash[0] == '\0') {
                g_autoptr(GArray) waiters = g_array_new(FALSE, TRUE, sizeof(RvPgWaiter));
                g_autoptr(GError) error = g_error_new_literal(RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                              "storing the setup token: its hash is empty");
                RvPgWaiter w = { done, user_data };
                if (done != NULL)
                        g_array_append_val(waiters, w);
                rv_pg_done_waiters(store, waiters, error);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_PUT_TOKEN);
        op->args[0] = g_strdup(token_hash);
        op->args[1] = rv_pg_int(rv_pg_clamp_time(expires_at));
        op->args[2] = g_strdup(issued_by != NULL ? issued_by : "");
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(store, op);
}

static void
rv_pg_take_setup_token_async(RvStore *base, const char *token_hash, gint64 now, GTask *task)
{
        RvStorePg *store = base->impl;
        RvPgOp *op;

        if (token_hash == NULL || token_hash[0] == '\0') {
                rv_pg_done_task(store, task, RV_PG_DONE_TASK_BOOLEAN, NULL, NULL, NULL, FALSE);
                g_object_unref(task);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_TAKE_TOKEN);
        op->args[0] = g_strdup(token_hash);
        op->args[1] = rv_pg_int(rv_pg_clamp_time(now));
        rv_pg_push_task(store, op, task);
}

static void
rv_pg_touch_node(RvStore *base, const char *name, RvStoreDoneFunc done, gpointer user_data)
{
        RvStorePg *store = base->impl;
        RvPgOp *queued = g_hash_table_lookup(store->coalesce, "node");
        RvPgOp *op;

        if (queued != NULL) {
                g_free(queued->args[0]);
                queued->args[0] = g_strdup(name != NULL ? name : store->node_id);
                rv_pg_op_add_waiter(queued, done, user_data);
                return;
        }
        op = rv_pg_op_new(RV_PG_OP_TOUCH_NODE);
        op->key = g_strdup("node");
        op->args[0] = g_strdup(name != NULL ? name : store->node_id);
        rv_pg_op_add_waiter(op, done, user_data);
        rv_pg_push_write(store, op);
}

static void
rv_pg_list_nodes_async(RvStore *base, GTask *task)
{
        rv_pg_push_task(base->impl, rv_pg_op_new(RV_PG_OP_LIST_NODES), task);
}

static guint
rv_pg_get_pending(RvStore *base)
{
        RvStorePg *store = base->impl;

        return store->n_writes;
}

static const RvStoreClass rv_store_postgres_class = {
        .name = "postgres",
        .free = rv_pg_free,
        .open_async = rv_pg_open_async,
        .load_async = rv_pg_load_async,
        .put_torrent = rv_pg_put_torrent,
        .delete_torrent = rv_pg_delete_torrent,
        .quarantine_torrent = rv_pg_quarantine_torrent,
        .read_event_reservation = rv_pg_read_event_reservation,
        .put_event_reservation = rv_pg_put_event_reservation,
        .load_settings_async = rv_pg_load_settings_async,
        .save_settings_async = rv_pg_save_settings_async,
        .list_history_async = rv_pg_list_history_async,
        .put_api_key = rv_pg_put_api_key,
        .delete_api_key = rv_pg_delete_api_key,
        .list_api_keys_async = rv_pg_list_api_keys_async,
        .put_setup_token = rv_pg_put_setup_token,
        .take_setup_token_async = rv_pg_take_setup_token_async,
        .touch_node = rv_pg_touch_node,
        .list_nodes_async = rv_pg_list_nodes_async,
        .flush = rv_pg_flush,
        .get_pending = rv_pg_get_pending,
        .set_lease = rv_pg_set_lease,
        .start_takeover = rv_pg_start_takeover,
        .get_epoch = rv_pg_get_epoch,
        .send_command_async = rv_pg_send_command_async,
        .answer_command = rv_pg_answer_command,
        .put_status = rv_pg_put_status,
        .list_cluster_async = rv_pg_list_cluster_async,
};

static gboolean
rv_pg_node_id_check(const char *node_id, GError **error)
{
        if (node_id == NULL || node_id[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "node id: empty");
                return FALSE;
        }
        if (strlen(node_id) > 255 || !g_utf8_validate(node_id, -1, NULL)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "node id: not UTF-8 text of at most 255 bytes");
                return FALSE;
        }
        for (const char *p = node_id; *p != '\0'; p++) {
                if (g_ascii_iscntrl(*p)) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "node id: contains a control character");
                        return FALSE;
                }
        }
        return TRUE;
}

RvStore *
rv_store_postgres_new(const char *conninfo, const char *node_id, RvHealth *health, GError **error)
{
        RvStorePg *store;
        RvStore *base;
        guint connect_timeout = 0;

        if (!rv_pg_conninfo_check(conninfo, &connect_timeout, error) || !rv_pg_node_id_check(node_id, error))
                return NULL;
        store = g_new0(RvStorePg, 1);
        store->ref = 1;
        store->context = g_main_context_ref_thread_default();
        store->node_id = g_strdup(node_id);
        store->main = rv_pg_conn_new(store->context, conninfo, "revaerd", connect_timeout, rv_pg_main_connected_cb,
                                     rv_pg_main_io_cb, store);
        store->listen = rv_pg_conn_new(store->context, conninfo, "revaerd-listen", connect_timeout,
                                       rv_pg_listen_connected_cb, rv_pg_listen_io_cb, store);
        store->coalesce = g_hash_table_new(g_str_hash, g_str_equal);
        store->batch = g_ptr_array_new();
        store->setup_results = g_ptr_array_new_with_free_func((GDestroyNotify)PQclear);
        store->listen_results = g_ptr_array_new_with_free_func((GDestroyNotify)PQclear);
        store->backoff_ms = RV_PG_BACKOFF_MIN_MS;
        store->listen_backoff_ms = RV_PG_BACKOFF_MIN_MS;
        g_queue_init(&store->queue);
        g_queue_init(&store->done);
        store->owned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        store->sent = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)rv_pg_sent_free);
        store->early = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)json_node_unref);
        base = rv_store_new_internal(&rv_store_postgres_class, store, health, node_id);
        store->base = base;
        return base;
}
