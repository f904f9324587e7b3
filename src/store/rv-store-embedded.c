/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rv-context.h"
#include "rv-crc32c.h"
#include "rv-json.h"
#include "rv-store-private.h"

/* batches at least this large are made durable with one syncfs() instead of a fdatasync() per file */
#define RV_STORE_SYNCFS_BATCH 32
/* a record that could not be written is tried again after this long, doubling up to the maximum */
#define RV_STORE_RETRY_MIN_MS 1000
#define RV_STORE_RETRY_MAX_MS 60000

/*
 * the write-ahead log in the state directory: a header block, then records
 * of whole batches; preallocated so that an append overwrites allocated
 * space and one fdatasync() makes a batch durable (see rv_emb_log_append)
 */
#define RV_STORE_LOG_NAME "store.wal"
#define RV_STORE_LOG_SIZE (4 * 1024 * 1024)
/*
 * while the files thread is behind, a full log grows by RV_STORE_LOG_SIZE
 * at a time up to this, rather than wait for it; a checkpoint shrinks it
 */
#define RV_STORE_LOG_MAX (64 * 1024 * 1024)
#define RV_STORE_LOG_START 4096
#define RV_STORE_LOG_VERSION 1
#define RV_STORE_LOG_RECORD_MAGIC 0x52564c52u
#define RV_STORE_LOG_RECORD_HEADER 32
#define RV_STORE_LOG_OP_HEADER 8
/* an idle writer checkpoints this long after its last append */
#define RV_STORE_LOG_IDLE_US G_USEC_PER_SEC
/*
 * the files thread creates the files of what the log holds once the writes
 * pause this long, or once a quarter of the log's maximum waits (or when asked, by
 * a checkpoint, a flush or a load): during a burst of adds it would take
 * the CPU the adds' answers need, on a machine of two cores most of one
 */
#define RV_STORE_FILES_QUIET_US (50 * 1000)
#define RV_STORE_FILES_OWED_MAX (RV_STORE_LOG_MAX / 4)

typedef enum {
        RV_EMB_OP_WRITE,
        RV_EMB_OP_DELETE,
        RV_EMB_OP_QUARANTINE,
} RvEmbOpKind;

typedef struct {
        RvStoreDoneFunc func;
        gpointer user_data;
} RvEmbWaiter;

typedef struct {
        RvEmbOpKind kind;
        /* file name inside the torrents directory (or the state directory for daemon records) */
        char *name;
        gboolean in_state_dir;
        GBytes *data;
        /* a write the files thread does: its bytes in the log (data is NULL then) */
        gsize log_off;
        gsize log_len;
        /* why a quarantine happens */
        char *reason;
        /* with the log: the files thread writes this torrent record to its file after the caller is answered */
        gboolean deferred;
        /* why the op failed in its last batch, NULL when it succeeded */
        char *failure;
        GArray *waiters;
} RvEmbOp;

struct _RvStoreEmbedded {
        RvStore *base;
        char *state_dir;
        char *torrents_dir;
        int torrents_fd;
        int state_fd;
        GMainContext *context;

        GMutex lock;
        GCond cond;
        /* name -> RvEmbOp, coalesced: a later write replaces an earlier one */
        GHashTable *pending;
        /* flush waiters queued behind everything pending */
        GArray *barriers;
        guint in_flight;
        gboolean quit;
        GThread *thread;
        /*
         * writes and deletes whose last try failed (disk full, I/O error):
         * name -> RvEmbOp without waiters, still owed to the disk. They are
         * tried again after a backoff, at every flush and before the writer
         * leaves, until they succeed or a later op of the same name replaces
         * them; the store is degraded in health while any is left.
         */
        GHashTable *failed;
        /*
         * the write-ahead log, the writer thread's alone (and the
         * constructor's before it starts); log_fd is -1 without one
         */
        int log_fd;
        /* the log for reading what the files thread owes (theirs and rv_emb_read_resume's, under the lock) */
        int log_read_fd;
        gsize log_size;
        guint64 log_epoch;
        /* the next record's sequence number and offset */
        guint64 log_seq;
        gsize log_end;
        /* 't' or 's' (the folder) + name -> RvEmbOpKind of the newest op logged since the last checkpoint */
        GHashTable *log_names;
        /* when an idle writer checkpoints (monotonic) */
        gint64 log_idle_at;
        /* tests: FALSE leaves the records in the log, as a crash would, unless it is full (under the lock) */
        gboolean checkpoints;
        /* tests: the errno every log append fails with, 0 for none */
        gint fail_log;
        /* when the failed ones are tried next (monotonic), and the wait after that if they fail again */
        gint64 retry_at;
        guint retry_delay_ms;
        /* the writer's backlog as health hears of it, NULL while it has none (writer thread, under the lock) */
        char *failure_reason;
        /*
         * the files thread (rv_emb_files_thread), all under the lock: torrent
         * records the log holds, name -> RvEmbOp without waiters, still to be
         * written to their files or deleted; those of the pass under way; why
         * the last pass left some, and when it tries them again
         */
        GThread *files_thread;
        GCond files_cond;
        GHashTable *deferred;
        GHashTable *placing;
        /* the log bytes deferred holds, and when the writer last added to it (monotonic) */
        gsize deferred_bytes;
        gint64 deferred_at;
        char *files_error;
        gint64 files_retry_at;
        guint files_retry_ms;
        /* the writer wants a pass now, whatever the backoff; the store closes (and its last try is done) */
        gboolean files_now;
        gboolean files_quit;
        gboolean files_quit_tried;
        /* the reason health was last told, NULL for ok */
        char *reported_reason;
        /* tests: passes only when the writer asks for one; the errno every write of the files thread fails with */
        gboolean files_held;
        gint fail_files;
        /* tests: the errno every write fails with, 0 for none; a function that decides per write (under the lock) */
        gint fail_writes;
        RvStoreWriteFaultFunc fault_func;
        gpointer fault_data;

        /* small records, read at open and kept here; the files follow through the writer */
        gboolean opened;
        guint64 settings_revision;
        JsonNode *settings;
        /* RvStoreHistoryEntry, oldest first */
        GPtrArray *history;
        /* key_id -> RvStoreApiKey */
        GHashTable *keys;
        /* counts changes of keys, so an undo knows whether a later change came on top */
        guint keys_changes;
        char *token_hash;
        gint64 token_expires;
        char *token_issued_by;
        GFileMonitor *monitor;
        /* settings.json writes of ours not yet on disk: the file lags the revision in memory meanwhile */
        guint settings_writes_pending;
};

typedef struct _RvStoreEmbedded RvStoreEmbedded;

/* history kept in the embedded store */
#define RV_STORE_HISTORY_MAX 1000

typedef struct {
        GArray *waiters;
        GError *error;
} RvEmbCompletion;

static void
rv_emb_op_free(RvEmbOp *op)
{
        g_free(op->name);
        if (op->data != NULL)
                g_bytes_unref(op->data);
        g_free(op->reason);
        g_free(op->failure);
        g_array_unref(op->waiters);
        g_free(op);
}

static gboolean
rv_emb_completion_cb(gpointer user_data)
{
        RvEmbCompletion *c = user_data;

        for (guint i = 0; i < c->waiters->len; i++) {
                RvEmbWaiter *w = &g_array_index(c->waiters, RvEmbWaiter, i);
                if (w->func != NULL)
                        w->func(c->error, w->user_data);
        }
        g_array_unref(c->waiters);
        g_clear_error(&c->error);
        g_free(c);
        return G_SOURCE_REMOVE;
}

/* queued until the batch is accounted for, so a caller woken by it sees no pending work */
static void
rv_emb_complete(GPtrArray *completions, GArray *waiters, const GError *error)
{
        RvEmbCompletion *c;

        if (waiters->len == 0)
                return;
        c = g_new0(RvEmbCompletion, 1);
        c->waiters = g_array_ref(waiters);
        c->error = error != NULL ? g_error_copy(error) : NULL;
        g_ptr_array_add(completions, c);
}

static gboolean
rv_emb_write_all(int fd, const guint8 *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return FALSE;
                }
                data += n;
                len -= (gsize)n;
        }
        return TRUE;
}

static void
rv_emb_set_errno(GError **error, int errsv, const char *what, const char *name)
{
        g_set_error(error, RV_ERROR, rv_error_from_errno(errsv), "%s '%s': %s", what, name, g_strerror(errsv));
}

/*
 * .name.tmp with data, synced when asked; injected (an errno, 0 for none)
 * fails it after kept bytes, as a disk that fills up mid-write would
 */
static gboolean
rv_emb_create_tmp(int dirfd, const char *name, const guint8 *data, gsize len, gboolean sync, int injected, gsize kept,
                  GError **error)
{
        g_autofree char *tmp = g_strconcat(".", name, ".tmp", NULL);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0) {
                rv_emb_set_errno(error, errno, "cannot create", tmp);
                return FALSE;
        }
        /* an injected short write: part of the record is in the temp file when the write fails */
        if (injected != 0)
                (void)rv_emb_write_all(fd, data, MIN(kept, len));
        if (injected != 0 || !rv_emb_write_all(fd, data, len) || (sync && fdatasync(fd) < 0)) {
                int errsv = injected != 0 ? injected : errno;
                close(fd);
                (void)unlinkat(dirfd, tmp, 0);
                rv_emb_set_errno(error, errsv, "cannot write", tmp);
                return FALSE;
        }
        close(fd);
        return TRUE;
}

/* tests: the errno the write of op fails with (0 for none), and how much of it reaches the file first */
static int
rv_emb_injected(RvStoreEmbedded *store, const RvEmbOp *op, gsize *ret_kept)
{
        int injected = g_atomic_int_get(&store->fail_writes);

        *ret_kept = 0;
        g_mutex_lock(&store->lock);
        if (injected == 0 && store->fault_func != NULL)
                injected = store->fault_func(op->name, g_bytes_get_size(op->data), ret_kept, store->fault_data);
        g_mutex_unlock(&store->lock);
        return injected;
}

/*
 * a record the files thread writes later: an injected fault fails it now,
 * as the log is where its bytes go first
 */
static gboolean
rv_emb_defer_check(RvStoreEmbedded *store, const RvEmbOp *op, GError **error)
{
        gsize kept;
        int injected = rv_emb_injected(store, op, &kept);
        g_autofree char *tmp = NULL;

        if (injected == 0)
                return TRUE;
        tmp = g_strconcat(".", op->name, ".tmp", NULL);
        rv_emb_set_errno(error, injected, "cannot write", tmp);
        return FALSE;
}

/* write name.tmp, leaving it for the rename once the batch is durable */
static gboolean
rv_emb_write_tmp(RvStoreEmbedded *store, int dirfd, const RvEmbOp *op, gboolean sync_each, GError **error)
{
        gsize len = 0;
        const guint8 *data = g_bytes_get_data(op->data, &len);
        gsize kept;
        int injected = rv_emb_injected(store, op, &kept);

        return rv_emb_create_tmp(dirfd, op->name, data, len, sync_each, injected, kept, error);
}

static gboolean
rv_emb_quarantine_file(RvStoreEmbedded *store, int dirfd, const char *name, const char *reason, GError **error)
{
        g_autofree char *corrupt = g_build_filename(store->state_dir, "corrupt", NULL);
        g_autofree char *target = NULL;
        g_autofree char *source = NULL;
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return TRUE;
        if (g_mkdir_with_parents(corrupt, 0700) < 0) {
                rv_emb_set_errno(error, errno, "cannot create", corrupt);
                return FALSE;
        }
        target = g_strdup_printf("%s/%s.%" G_GINT64_FORMAT, corrupt, name, g_get_real_time());
        source = g_build_filename(dirfd == store->torrents_fd ? store->torrents_dir : store->state_dir, name, NULL);
        if (rename(source, target) < 0) {
                rv_emb_set_errno(error, errno, "cannot move aside", source);
                return FALSE;
        }
        g_debug("moved '%s' to '%s': %s", source, target, reason);
        return TRUE;
}

/* the write-ahead log */

static char *rv_emb_read_at(int dirfd, const char *name, gsize *ret_len, GError **error);

static void
rv_emb_put_u32(guint8 *p, guint32 v)
{
        v = GUINT32_TO_LE(v);
        memcpy(p, &v, sizeof(v));
}

static void
rv_emb_put_u64(guint8 *p, guint64 v)
{
        v = GUINT64_TO_LE(v);
        memcpy(p, &v, sizeof(v));
}

static guint32
rv_emb_get_u32(const guint8 *p)
{
        guint32 v;

        memcpy(&v, p, sizeof(v));
        return GUINT32_FROM_LE(v);
}

static guint64
rv_emb_get_u64(const guint8 *p)
{
        guint64 v;

        memcpy(&v, p, sizeof(v));
        return GUINT64_FROM_LE(v);
}

static const char rv_emb_log_magic[8] = { 'R', 'V', 'S', 'T', 'L', 'O', 'G', '\n' };

/* header block: magic[8], version u32, reserved u32, epoch u64, CRC-32C of the 24 bytes before it */
static gboolean
rv_emb_log_write_header(int fd, guint64 epoch, GError **error)
{
        guint8 block[RV_STORE_LOG_START] = { 0 };

        memcpy(block, rv_emb_log_magic, sizeof(rv_emb_log_magic));
        rv_emb_put_u32(block + 8, RV_STORE_LOG_VERSION);
        rv_emb_put_u64(block + 16, epoch);
        rv_emb_put_u32(block + 24, rv_crc32c(0, block, 24));
        if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fdatasync(fd) < 0) {
                rv_emb_set_errno(error, errno != 0 ? errno : EIO, "cannot write", RV_STORE_LOG_NAME);
                return FALSE;
        }
        return TRUE;
}

static gboolean
rv_emb_log_read_header(int fd, guint64 *ret_epoch)
{
        guint8 block[32];

        if (pread(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) ||
            memcmp(block, rv_emb_log_magic, sizeof(rv_emb_log_magic)) != 0 ||
            rv_emb_get_u32(block + 8) != RV_STORE_LOG_VERSION || rv_emb_get_u32(block + 24) != rv_crc32c(0, block, 24))
                return FALSE;
        *ret_epoch = rv_emb_get_u64(block + 16);
        return TRUE;
}

static void
rv_emb_log_remember(RvStoreEmbedded *store, gboolean in_state_dir, const char *name, RvEmbOpKind kind)
{
        g_hash_table_replace(store->log_names, g_strconcat(in_state_dir ? "s" : "t", name, NULL),
                             GINT_TO_POINTER(kind));
}

/* fdatasync of one record file; one that is gone (deleted or moved aside since) needs none */
static gboolean
rv_emb_sync_file(int dirfd, const char *name, GError **error)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0 && errno == ENOENT)
                return TRUE;
        if (fd < 0 || fdatasync(fd) < 0) {
                rv_emb_set_errno(error, errno, "cannot sync", name);
                if (fd >= 0)
                        close(fd);
                return FALSE;
        }
        close(fd);
        return TRUE;
}

static gboolean rv_emb_wait_files(RvStoreEmbedded *store, GError **error);

/*
 * what the log holds is made durable in the files themselves, then the log
 * is emptied by a new epoch in its header: records behind it are of an old
 * epoch and never replayed. On failure the log stays as it is (still the
 * durable copy) and is tried again at the next checkpoint.
 */
static gboolean
rv_emb_checkpoint(RvStoreEmbedded *store, GError **error)
{
        GHashTableIter iter;
        gpointer key;
        gpointer value;
        guint n_writes = 0;
        gboolean in_state = FALSE;
        gboolean in_torrents = FALSE;

        if (store->log_fd < 0 || store->log_end == RV_STORE_LOG_START)
                return TRUE;
        /* the files thread has written what the log holds, or the log stays the only copy */
        if (!rv_emb_wait_files(store, error))
                return FALSE;
        g_hash_table_iter_init(&iter, store->log_names);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                n_writes += GPOINTER_TO_INT(value) == RV_EMB_OP_WRITE;
                in_state |= ((const char *)key)[0] == 's';
                in_torrents |= ((const char *)key)[0] == 't';
        }
        if (n_writes >= RV_STORE_SYNCFS_BATCH) {
                if (syncfs(store->torrents_fd) < 0) {
                        rv_emb_set_errno(error, errno, "cannot sync", store->torrents_dir);
                        return FALSE;
                }
        } else {
                g_hash_table_iter_init(&iter, store->log_names);
                while (g_hash_table_iter_next(&iter, &key, &value)) {
                        const char *name = key;
                        if (GPOINTER_TO_INT(value) == RV_EMB_OP_WRITE &&
                            !rv_emb_sync_file(name[0] == 's' ? store->state_fd : store->torrents_fd, name + 1, error))
                                return FALSE;
                }
        }
        if ((in_torrents && fsync(store->torrents_fd) < 0) || (in_state && fsync(store->state_fd) < 0))
                g_debug("fsync of the state directory failed: %s, ignoring", g_strerror(errno));
        if (!rv_emb_log_write_header(store->log_fd, store->log_epoch + 1, error))
                return FALSE;
        /* a log grown during a burst: its records are of the old epoch, the space goes back */
        if (store->log_size > RV_STORE_LOG_SIZE && ftruncate(store->log_fd, RV_STORE_LOG_SIZE) == 0)
                store->log_size = RV_STORE_LOG_SIZE;
        store->log_epoch++;
        store->log_seq = 0;
        store->log_end = RV_STORE_LOG_START;
        g_hash_table_remove_all(store->log_names);
        return TRUE;
}

static gsize
rv_emb_log_op_size(const RvEmbOp *op)
{
        return RV_STORE_LOG_OP_HEADER + strlen(op->name) + (op->data != NULL ? g_bytes_get_size(op->data) : 0);
}

/*
 * one record for the ops of a batch: {magic, payload length, epoch,
 * sequence, CRC-32C of the 24 bytes before it and the payload, 0} and the
 * payload, each op {kind, folder, name length u16, data length u32, name,
 * data}; durable with one fdatasync of the preallocated file
 */
static gboolean
rv_emb_log_append(RvStoreEmbedded *store, GPtrArray *ops, GError **error)
{
        g_autoptr(GByteArray) record = g_byte_array_sized_new(RV_STORE_LOG_RECORD_HEADER + 4096);
        guint8 header[RV_STORE_LOG_RECORD_HEADER] = { 0 };
        guint32 crc;

        g_byte_array_set_size(record, RV_STORE_LOG_RECORD_HEADER);
        for (guint i = 0; i < ops->len; i++) {
                RvEmbOp *op = g_ptr_array_index(ops, i);
                gsize name_len = strlen(op->name);
                gsize data_len = 0;
                const guint8 *data = op->data != NULL ? g_bytes_get_data(op->data, &data_len) : NULL;
                guint8 oph[RV_STORE_LOG_OP_HEADER] = { 0 };
                oph[0] = op->kind == RV_EMB_OP_WRITE ? 1 : 2;
                oph[1] = op->in_state_dir ? 1 : 0;
                oph[2] = (guint8)(name_len & 0xff);
                oph[3] = (guint8)(name_len >> 8);
                rv_emb_put_u32(oph + 4, (guint32)data_len);
                g_byte_array_append(record, oph, sizeof(oph));
                g_byte_array_append(record, (const guint8 *)op->name, (guint)name_len);
                /* where the files thread finds the bytes, if the record is written after the answer */
                op->log_off = store->log_end + record->len;
                op->log_len = data_len;
                if (data_len > 0)
                        g_byte_array_append(record, data, (guint)data_len);
        }
        rv_emb_put_u32(header, RV_STORE_LOG_RECORD_MAGIC);
        rv_emb_put_u32(header + 4, record->len - RV_STORE_LOG_RECORD_HEADER);
        rv_emb_put_u64(header + 8, store->log_epoch);
        rv_emb_put_u64(header + 16, store->log_seq);
        crc = rv_crc32c(0, header, 24);
        crc = rv_crc32c(crc, record->data + RV_STORE_LOG_RECORD_HEADER, record->len - RV_STORE_LOG_RECORD_HEADER);
        rv_emb_put_u32(header + 24, crc);
        memcpy(record->data, header, sizeof(header));

        /* the caller made room: a record that does not fit is refused rather than written past the end */
        errno = store->log_end + record->len > store->log_size ? ENOSPC : g_atomic_int_get(&store->fail_log);
        if (errno != 0 ||
            pwrite(store->log_fd, record->data, record->len, (off_t)store->log_end) != (ssize_t)record->len ||
            fdatasync(store->log_fd) < 0) {
                rv_emb_set_errno(error, errno != 0 ? errno : ENOSPC, "cannot append to", RV_STORE_LOG_NAME);
                return FALSE;
        }
        store->log_end += record->len;
        store->log_seq++;
        for (guint i = 0; i < ops->len; i++) {
                const RvEmbOp *op = g_ptr_array_index(ops, i);
                rv_emb_log_remember(store, op->in_state_dir, op->name, op->kind);
        }
        store->log_idle_at = g_get_monotonic_time() + RV_STORE_LOG_IDLE_US;
        return TRUE;
}

/*
 * a log that failed once is not trusted again in this run: what it holds is
 * made durable in the files and the log goes, so that no record of it is
 * replayed over a later write that did not go through it. While it holds
 * records not yet in their files (the disk full for them too), it is their
 * only copy: it stays, FALSE, and the next write tries it again.
 */
static gboolean
rv_emb_log_disable(RvStoreEmbedded *store, const char *why, GError **error)
{
        g_autoptr(GError) checkpoint_error = NULL;

        if (!rv_emb_checkpoint(store, &checkpoint_error)) {
                g_warning("the store's write-ahead log failed: %s; it is kept, as it holds what is not in the files "
                          "yet (%s)",
                          why, checkpoint_error->message);
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                            "%s; the log is kept and tried again, as it holds what is not in the files yet (%s)", why,
                            checkpoint_error->message);
                return FALSE;
        }
        g_warning("the store's write-ahead log failed: %s; writing every record durably without it", why);
        close(store->log_fd);
        store->log_fd = -1;
        if (unlinkat(store->state_fd, RV_STORE_LOG_NAME, 0) < 0 || fsync(store->state_fd) < 0)
                g_debug("cannot remove the store's log: %s, ignoring", g_strerror(errno));
        g_hash_table_remove_all(store->log_names);
        return TRUE;
}

/* a record of the log again in its file; one that already holds those bytes (a crash of the process alone) is left */
static gboolean
rv_emb_replay_write(int dirfd, const char *name, const guint8 *data, gsize len, GError **error)
{
        g_autofree char *tmp = g_strconcat(".", name, ".tmp", NULL);
        g_autoptr(GError) read_error = NULL;
        gsize old_len = 0;
        g_autofree char *old = rv_emb_read_at(dirfd, name, &old_len, &read_error);

        if (old != NULL && old_len == len && memcmp(old, data, len) == 0)
                return TRUE;
        if (!rv_emb_create_tmp(dirfd, name, data, len, FALSE, 0, 0, error))
                return FALSE;
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                rv_emb_set_errno(error, errno, "cannot rename", tmp);
                return FALSE;
        }
        return TRUE;
}

/* the ops of one record, checked whole before any is applied: FALSE when the payload is not well formed */
static gboolean
rv_emb_log_parse(const guint8 *payload, gsize len, gboolean apply, RvStoreEmbedded *store, GError **error)
{
        gsize at = 0;

        while (at < len) {
                const guint8 *oph = payload + at;
                gsize name_len;
                gsize data_len;
                g_autofree char *name = NULL;
                gboolean in_state;
                int dirfd;

                if (len - at < RV_STORE_LOG_OP_HEADER)
                        return FALSE;
                name_len = (gsize)oph[2] | (gsize)oph[3] << 8;
                data_len = rv_emb_get_u32(oph + 4);
                at += RV_STORE_LOG_OP_HEADER;
                if ((oph[0] != 1 && oph[0] != 2) || oph[1] > 1 || name_len == 0 || name_len > len - at ||
                    data_len > len - at - name_len || (oph[0] == 2 && data_len > 0))
                        return FALSE;
                name = g_strndup((const char *)payload + at, name_len);
                in_state = oph[1] == 1;
                /* a name the writer never logs: inside its folder, not hidden, not the log itself */
                if (strlen(name) != name_len || name[0] == '.' || strchr(name, '/') != NULL ||
                    (in_state && g_str_equal(name, RV_STORE_LOG_NAME)))
                        return FALSE;
                dirfd = in_state ? store->state_fd : store->torrents_fd;
                if (apply && oph[0] == 1 && !rv_emb_replay_write(dirfd, name, payload + at + name_len, data_len, error))
                        return FALSE;
                if (apply && oph[0] == 2 && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
                        rv_emb_set_errno(error, errno, "cannot delete", name);
                        return FALSE;
                }
                if (apply)
                        rv_emb_log_remember(store, in_state, name, oph[0] == 1 ? RV_EMB_OP_WRITE : RV_EMB_OP_DELETE);
                at += name_len + data_len;
        }
        return TRUE;
}

/*
 * every record of the current epoch, in order, up to the first that is not
 * whole (a torn append was never acknowledged); *ret_seen is TRUE when
 * anything of this epoch was found, whole or not
 */
static gboolean
rv_emb_log_replay(RvStoreEmbedded *store, gboolean *ret_seen, GError **error)
{
        *ret_seen = FALSE;
        for (;;) {
                guint8 header[RV_STORE_LOG_RECORD_HEADER];
                g_autofree guint8 *payload = NULL;
                gsize len;
                guint32 crc;

                if (store->log_size - store->log_end < RV_STORE_LOG_RECORD_HEADER ||
                    pread(store->log_fd, header, sizeof(header), (off_t)store->log_end) != (ssize_t)sizeof(header) ||
                    rv_emb_get_u32(header) != RV_STORE_LOG_RECORD_MAGIC ||
                    rv_emb_get_u64(header + 8) != store->log_epoch)
                        return TRUE;
                *ret_seen = TRUE;
                len = rv_emb_get_u32(header + 4);
                if (rv_emb_get_u64(header + 16) != store->log_seq ||
                    len > store->log_size - store->log_end - RV_STORE_LOG_RECORD_HEADER)
                        return TRUE;
                payload = g_malloc(MAX(len, 1));
                if (pread(store->log_fd, payload, len, (off_t)(store->log_end + RV_STORE_LOG_RECORD_HEADER)) !=
                    (ssize_t)len)
                        return TRUE;
                crc = rv_crc32c(rv_crc32c(0, header, 24), payload, len);
                if (crc != rv_emb_get_u32(header + 24) || !rv_emb_log_parse(payload, len, FALSE, store, NULL))
                        return TRUE;
                if (!rv_emb_log_parse(payload, len, TRUE, store, error))
                        return FALSE;
                g_debug("replayed record %" G_GUINT64_FORMAT " of the store's log", store->log_seq);
                store->log_end += RV_STORE_LOG_RECORD_HEADER + len;
                store->log_seq++;
        }
}

/*
 * len bytes of the log from off allocated and written with zeros: space
 * only allocated is unwritten to the file system (ext4, XFS), and the first
 * append into it changes the file's extents, which its fdatasync() then
 * writes as well; written once, an append is a write of data alone
 */
static int
rv_emb_log_fill(int fd, gsize off, gsize len)
{
        static const guint8 zeros[64 * 1024];
        int err = posix_fallocate(fd, (off_t)off, (off_t)len);

        for (gsize done = 0; err == 0 && done < len;) {
                ssize_t n = pwrite(fd, zeros, MIN(sizeof(zeros), len - done), (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        err = n < 0 ? errno : EIO;
                else
                        done += (gsize)n;
        }
        return err;
}

/* a fresh log: zeros (no record of any epoch) after a header of epoch 1, allocated whole */
static gboolean
rv_emb_log_create(RvStoreEmbedded *store, GError **error)
{
        int err;

        if (ftruncate(store->log_fd, 0) < 0) {
                rv_emb_set_errno(error, errno, "cannot truncate", RV_STORE_LOG_NAME);
                return FALSE;
        }
        err = rv_emb_log_fill(store->log_fd, 0, RV_STORE_LOG_SIZE);
        if (err != 0) {
                rv_emb_set_errno(error, err, "cannot allocate", RV_STORE_LOG_NAME);
                return FALSE;
        }
        store->log_epoch = 1;
        store->log_size = RV_STORE_LOG_SIZE;
        if (!rv_emb_log_write_header(store->log_fd, store->log_epoch, error))
                return FALSE;
        if (fsync(store->log_fd) < 0 || fsync(store->state_fd) < 0) {
                rv_emb_set_errno(error, errno, "cannot sync", RV_STORE_LOG_NAME);
                return FALSE;
        }
        return TRUE;
}

/*
 * at open, before anything reads a record: the log's records go back into
 * their files and are made durable there, and the log is empty again. A log
 * that cannot be had (disk full, read-only) leaves the store without one;
 * one whose records cannot be applied fails the open, as the files would
 * be missing what was acknowledged.
 */
static gboolean
rv_emb_log_open(RvStoreEmbedded *store, GError **error)
{
        g_autoptr(GError) local_error = NULL;
        struct stat st;
        gboolean seen = FALSE;

        store->log_end = RV_STORE_LOG_START;
        store->log_fd = openat(store->state_fd, RV_STORE_LOG_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (store->log_fd < 0) {
                rv_emb_set_errno(&local_error, errno, "cannot open", RV_STORE_LOG_NAME);
        } else if (fstat(store->log_fd, &st) == 0 && st.st_size >= RV_STORE_LOG_START &&
                   rv_emb_log_read_header(store->log_fd, &store->log_epoch)) {
                store->log_size = MAX((gsize)st.st_size, (gsize)RV_STORE_LOG_SIZE);
                if (!rv_emb_log_replay(store, &seen, error)) {
                        g_prefix_error(error, "cannot replay the store's log '%s/%s': ", store->state_dir,
                                       RV_STORE_LOG_NAME);
                        return FALSE;
                }
                /* a torn first record leaves nothing to sync, but its bytes must not chain to a later append */
                if (seen && store->log_end == RV_STORE_LOG_START &&
                    rv_emb_log_write_header(store->log_fd, store->log_epoch + 1, &local_error))
                        store->log_epoch++;
                if (seen && local_error == NULL && !rv_emb_checkpoint(store, &local_error)) {
                        g_prefix_error(&local_error, "cannot checkpoint the store's log '%s/%s': ", store->state_dir,
                                       RV_STORE_LOG_NAME);
                        g_propagate_error(error, g_steal_pointer(&local_error));
                        return FALSE;
                }
                /* a log cut short (copied, truncated) is whole again */
                if (st.st_size < RV_STORE_LOG_SIZE && posix_fallocate(store->log_fd, 0, RV_STORE_LOG_SIZE) != 0)
                        rv_emb_set_errno(&local_error, ENOSPC, "cannot allocate", RV_STORE_LOG_NAME);
        } else {
                (void)rv_emb_log_create(store, &local_error);
        }
        if (local_error != NULL) {
                g_warning("the store has no write-ahead log in '%s': %s; writing every record durably without it",
                          store->state_dir, local_error->message);
                if (store->log_fd >= 0) {
                        close(store->log_fd);
                        store->log_fd = -1;
                        (void)unlinkat(store->state_fd, RV_STORE_LOG_NAME, 0);
                }
        }
        /* kept open for reads if the log is given up later with records the files thread still owes */
        if (store->log_fd >= 0)
                store->log_read_fd = fcntl(store->log_fd, F_DUPFD_CLOEXEC, 0);
        return TRUE;
}

static void rv_emb_defer(RvStoreEmbedded *store, GPtrArray *ops);
static gboolean rv_emb_files_idle(RvStoreEmbedded *store);

/*
 * a full log while the files thread is behind (a burst of adds on a file
 * system slow to create files): one more step of log rather than a
 * checkpoint that waits for it, up to RV_STORE_LOG_MAX
 */
static void
rv_emb_log_grow(RvStoreEmbedded *store)
{
        gboolean idle;
        int err;

        g_mutex_lock(&store->lock);
        idle = rv_emb_files_idle(store);
        g_mutex_unlock(&store->lock);
        if (idle || store->log_size + RV_STORE_LOG_SIZE > RV_STORE_LOG_MAX)
                return;
        /* the append's fdatasync makes the new size durable with the record */
        err = rv_emb_log_fill(store->log_fd, store->log_size, RV_STORE_LOG_SIZE);
        if (err != 0) {
                g_debug("cannot grow the store's log: %s, checkpointing instead", g_strerror(err));
                if (ftruncate(store->log_fd, (off_t)store->log_size) < 0)
                        g_debug("cannot cut the store's log back: %s, ignoring", g_strerror(errno));
                return;
        }
        store->log_size += RV_STORE_LOG_SIZE;
}

/* a batch that cannot start (its checkpoint failed): every op keeps the failure and is tried again */
static void
rv_emb_fail_batch(GHashTable *batch, GPtrArray *completions, const GError *error)
{
        GHashTableIter iter;
        gpointer value;

        g_debug("store: %s", error->message);
        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                g_free(op->failure);
                op->failure = g_strdup(error->message);
                rv_emb_complete(completions, op->waiters, error);
        }
}

/* the temp files a batch wrote before it failed as a whole */
static void
rv_emb_drop_tmps(RvStoreEmbedded *store, GHashTable *batch)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                g_autofree char *tmp = NULL;
                if (op->kind != RV_EMB_OP_WRITE || op->deferred || op->failure != NULL)
                        continue;
                tmp = g_strconcat(".", op->name, ".tmp", NULL);
                (void)unlinkat(op->in_state_dir ? store->state_fd : store->torrents_fd, tmp, 0);
        }
}

/* a temp file made durable before it replaces anything, as without the log */
static void
rv_emb_sync_tmp(int dirfd, RvEmbOp *op)
{
        g_autofree char *tmp = g_strconcat(".", op->name, ".tmp", NULL);
        g_autoptr(GError) error = NULL;
        int fd = openat(dirfd, tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0 || fdatasync(fd) < 0) {
                rv_emb_set_errno(&error, errno, "cannot write", tmp);
                op->failure = g_strdup(error->message);
                (void)unlinkat(dirfd, tmp, 0);
        }
        if (fd >= 0)
                close(fd);
}

/*
 * the batch whose append failed, made durable without the log once the log
 * is dropped; FALSE when the log has to stay, and the batch failed
 */
static gboolean
rv_emb_log_fallback(RvStoreEmbedded *store, GHashTable *batch, GPtrArray *completions, const char *why)
{
        g_autoptr(GError) kept = NULL;
        GHashTableIter iter;
        gpointer value;

        if (!rv_emb_log_disable(store, why, &kept)) {
                rv_emb_drop_tmps(store, batch);
                rv_emb_fail_batch(batch, completions, kept);
                return FALSE;
        }
        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                int dirfd = op->in_state_dir ? store->state_fd : store->torrents_fd;
                g_autoptr(GError) tmp_error = NULL;
                gboolean was_deferred = op->deferred;
                op->deferred = FALSE;
                if (op->kind != RV_EMB_OP_WRITE || op->failure != NULL)
                        continue;
                if (!was_deferred)
                        rv_emb_sync_tmp(dirfd, op);
                else if (!rv_emb_write_tmp(store, dirfd, op, TRUE, &tmp_error))
                        op->failure = g_strdup(tmp_error->message);
        }
        return TRUE;
}

/*
 * one batch: write temp files, make them durable, rename them in place, sync
 * the directories; an op that fails keeps its failure for the caller to hold
 * on to, and its waiters hear of it.
 *
 * With the log, what makes the batch durable is one record of it appended
 * to the log before the renames, instead of a fdatasync() per file and of
 * the folders: a crash at any point after the append is repaired by the
 * replay at the next open, and one before it left only temp files. The
 * torrent records' files are not written here at all but by the files
 * thread, after the answer (rv_emb_files_thread). Records too large for the
 * log and moves aside go the old way, the log emptied first so that none of
 * its records is replayed over them.
 */
static void
rv_emb_run_batch(RvStoreEmbedded *store, GHashTable *batch, GPtrArray *completions)
{
        GHashTableIter iter;
        gpointer value;
        guint n_writes = 0;
        gboolean sync_each;
        /* the folders whose entries the batch changes: the other is not synced */
        gboolean in_state = FALSE;
        gboolean in_torrents = FALSE;
        gboolean use_log = store->log_fd >= 0;
        gsize log_bytes = RV_STORE_LOG_RECORD_HEADER;
        g_autoptr(GError) checkpoint_error = NULL;
        g_autoptr(GPtrArray) deferred = g_ptr_array_new();

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                g_clear_pointer(&op->failure, g_free);
                if (op->kind == RV_EMB_OP_WRITE)
                        n_writes++;
                /* moving aside renames into a folder of the state directory */
                in_state |= op->in_state_dir || op->kind == RV_EMB_OP_QUARANTINE;
                in_torrents |= !op->in_state_dir;
                use_log &= op->kind != RV_EMB_OP_QUARANTINE;
                log_bytes += rv_emb_log_op_size(op);
        }
        /* with the files written behind the answers, a batch of many writes is cheapest in the log as well */
        use_log &= log_bytes <= (RV_STORE_LOG_SIZE - RV_STORE_LOG_START) / 2;
        if (use_log && store->log_end + log_bytes > store->log_size)
                rv_emb_log_grow(store);
        if ((!use_log || store->log_end + log_bytes > store->log_size) &&
            !rv_emb_checkpoint(store, &checkpoint_error)) {
                rv_emb_fail_batch(batch, completions, checkpoint_error);
                return;
        }
        sync_each = !use_log && n_writes < RV_STORE_SYNCFS_BATCH;

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                int dirfd = op->in_state_dir ? store->state_fd : store->torrents_fd;
                g_autoptr(GError) error = NULL;
                op->deferred = use_log && !op->in_state_dir && op->kind != RV_EMB_OP_QUARANTINE;
                if (op->kind != RV_EMB_OP_WRITE)
                        continue;
                if (op->deferred) {
                        /* its file is written by the files thread, after the log holds it */
                        if (!rv_emb_defer_check(store, op, &error)) {
                                op->failure = g_strdup(error->message);
                                op->deferred = FALSE;
                        }
                        continue;
                }
                /* the old file stays in place: the rename below is skipped for this op */
                if (!rv_emb_write_tmp(store, dirfd, op, sync_each, &error))
                        op->failure = g_strdup(error->message);
        }
        if (use_log) {
                /* what the renames and unlinks below will do: the ops whose temp file is written */
                g_autoptr(GPtrArray) logged = g_ptr_array_new();
                g_autoptr(GError) error = NULL;
                g_hash_table_iter_init(&iter, batch);
                while (g_hash_table_iter_next(&iter, NULL, &value)) {
                        RvEmbOp *op = value;
                        if (op->failure == NULL)
                                g_ptr_array_add(logged, op);
                }
                if (logged->len > 0 && !rv_emb_log_append(store, logged, &error)) {
                        if (!rv_emb_log_fallback(store, batch, completions, error->message))
                                return;
                        use_log = FALSE;
                }
        } else if (!sync_each && n_writes > 0 && syncfs(store->torrents_fd) < 0) {
                g_debug("syncfs on '%s' failed: %s, ignoring", store->torrents_dir, g_strerror(errno));
        }

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                int dirfd = op->in_state_dir ? store->state_fd : store->torrents_fd;
                g_autoptr(GError) error = NULL;
                if (op->deferred && op->failure == NULL) {
                        g_ptr_array_add(deferred, op);
                } else if (op->kind == RV_EMB_OP_WRITE && op->failure == NULL) {
                        g_autofree char *tmp = g_strconcat(".", op->name, ".tmp", NULL);
                        if (renameat(dirfd, tmp, dirfd, op->name) < 0)
                                rv_emb_set_errno(&error, errno, "cannot rename", tmp);
                } else if (op->kind == RV_EMB_OP_DELETE) {
                        if (unlinkat(dirfd, op->name, 0) < 0 && errno != ENOENT)
                                rv_emb_set_errno(&error, errno, "cannot delete", op->name);
                } else if (op->kind == RV_EMB_OP_QUARANTINE) {
                        (void)rv_emb_quarantine_file(store, dirfd, op->name, op->reason, &error);
                } else if (op->kind == RV_EMB_OP_WRITE) {
                        g_set_error_literal(&error, RV_ERROR, RV_ERROR_UNAVAILABLE, op->failure);
                }
                if (error != NULL) {
                        g_debug("store: %s", error->message);
                        if (op->failure == NULL)
                                op->failure = g_strdup(error->message);
                }
                rv_emb_complete(completions, op->waiters, error);
        }
        rv_emb_defer(store, deferred);
        /* with the log, the renames and unlinks are made durable at the next checkpoint */
        if (!use_log && ((in_torrents && fsync(store->torrents_fd) < 0) || (in_state && fsync(store->state_fd) < 0)))
                g_debug("fsync of the state directory failed: %s, ignoring", g_strerror(errno));
}

typedef struct {
        RvStoreEmbedded *store;
        char *reason;
} RvEmbHealthReport;

/* health belongs to the main loop: the writer reports there */
static gboolean
rv_emb_health_cb(gpointer user_data)
{
        RvEmbHealthReport *report = user_data;

        if (report->store->base->health != NULL) {
                if (report->reason != NULL)
                        rv_health_set_degraded(report->store->base->health, RV_HEALTH_STORE, report->reason);
                else
                        rv_health_set_ok(report->store->base->health, RV_HEALTH_STORE);
        }
        g_free(report->reason);
        g_free(report);
        return G_SOURCE_REMOVE;
}

/* when to try again after a failure: the least wait for a first one, twice the last for another, up to the most */
static gint64
rv_emb_backoff(guint *delay_ms, gboolean again)
{
        *delay_ms = again ? MIN(*delay_ms * 2, RV_STORE_RETRY_MAX_MS) : RV_STORE_RETRY_MIN_MS;
        return g_get_monotonic_time() + (gint64)*delay_ms * 1000;
}

/* health shows the writer's backlog, else what the files thread could not write; told when that changes (under the
 * lock) */
static void
rv_emb_report_health(RvStoreEmbedded *store)
{
        const char *reason = store->failure_reason != NULL ? store->failure_reason : store->files_error;
        RvEmbHealthReport *report;

        if (g_strcmp0(reason, store->reported_reason) == 0)
                return;
        g_free(store->reported_reason);
        store->reported_reason = g_strdup(reason);
        report = g_new0(RvEmbHealthReport, 1);
        report->store = store;
        report->reason = g_strdup(reason);
        rv_context_post(store->context, G_PRIORITY_DEFAULT, rv_emb_health_cb, report, NULL);
}

/*
 * after a batch, under the lock: failed writes and deletes are kept until
 * they succeed or a newer op of the same name is written in a batch (one
 * already queued does not count until then: health stays degraded while
 * the record is owed to the disk in any version), the backoff moves on, and
 * health hears when the backlog appears, changes its reason or is gone
 */
static void
rv_emb_keep_failed(RvStoreEmbedded *store, GHashTable *batch, gboolean retried)
{
        GHashTableIter iter;
        gpointer value;
        const char *failure = NULL;
        /* the backlog as health knows it: a retry took it out of the table for the batch */
        gboolean had_backlog = store->failure_reason != NULL;
        gboolean has_backlog;

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvEmbOp *op = value;
                if (op->failure == NULL || (op->kind != RV_EMB_OP_WRITE && op->kind != RV_EMB_OP_DELETE))
                        continue;
                failure = op->failure;
                g_hash_table_iter_steal(&iter);
                /* its waiters heard of the failure (the completion holds the array) */
                g_array_unref(op->waiters);
                op->waiters = g_array_new(FALSE, TRUE, sizeof(RvEmbWaiter));
                g_hash_table_replace(store->failed, op->name, op);
        }
        has_backlog = g_hash_table_size(store->failed) > 0;
        if (!has_backlog) {
                store->retry_delay_ms = RV_STORE_RETRY_MIN_MS;
        } else if (!had_backlog || (retried && failure != NULL)) {
                store->retry_at = rv_emb_backoff(&store->retry_delay_ms, had_backlog);
        }
        if (has_backlog != had_backlog || (failure != NULL && g_strcmp0(failure, store->failure_reason) != 0)) {
                g_free(store->failure_reason);
                store->failure_reason = has_backlog ? g_strdup(failure != NULL ? failure : "a write failed") : NULL;
                rv_emb_report_health(store);
        }
}

/* the files thread */

static RvEmbOp *rv_emb_op_new(RvEmbOpKind kind, char *name, gboolean in_state_dir, GBytes *data, const char *reason,
                              RvStoreDoneFunc done, gpointer user_data);

/* the bytes of a write the files thread owes, from the log: no checkpoint reuses them while it owes them */
static guint8 *
rv_emb_log_read(RvStoreEmbedded *store, const RvEmbOp *op, GError **error)
{
        g_autofree guint8 *data = g_malloc(MAX(op->log_len, 1));
        gsize done = 0;

        while (done < op->log_len) {
                ssize_t n = pread(store->log_read_fd, data + done, op->log_len - done, (off_t)(op->log_off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        rv_emb_set_errno(error, n < 0 ? errno : EIO, "cannot read the log for", op->name);
                        return NULL;
                }
                done += (gsize)n;
        }
        return g_steal_pointer(&data);
}

/* one torrent record the log holds, written to its file (not synced: the checkpoint does that) or deleted */
static gboolean
rv_emb_place(RvStoreEmbedded *store, const RvEmbOp *op, GError **error)
{
        g_autofree char *tmp = NULL;
        g_autofree guint8 *data = NULL;
        int injected = g_atomic_int_get(&store->fail_files);

        if (injected != 0) {
                rv_emb_set_errno(error, injected, "cannot write", op->name);
                return FALSE;
        }
        if (op->kind == RV_EMB_OP_DELETE) {
                if (unlinkat(store->torrents_fd, op->name, 0) < 0 && errno != ENOENT) {
                        rv_emb_set_errno(error, errno, "cannot delete", op->name);
                        return FALSE;
                }
                return TRUE;
        }
        data = rv_emb_log_read(store, op, error);
        if (data == NULL || !rv_emb_create_tmp(store->torrents_fd, op->name, data, op->log_len, FALSE, 0, 0, error))
                return FALSE;
        tmp = g_strconcat(".", op->name, ".tmp", NULL);
        if (renameat(store->torrents_fd, tmp, store->torrents_fd, op->name) < 0) {
                rv_emb_set_errno(error, errno, "cannot rename", tmp);
                (void)unlinkat(store->torrents_fd, tmp, 0);
                return FALSE;
        }
        return TRUE;
}

/* the files thread has written all it was given (under the lock) */
static gboolean
rv_emb_files_idle(RvStoreEmbedded *store)
{
        return store->placing == NULL && g_hash_table_size(store->deferred) == 0;
}

/* when the writes will have paused long enough for a pass (under the lock) */
static gint64
rv_emb_files_quiet_at(RvStoreEmbedded *store)
{
        return store->deferred_at + RV_STORE_FILES_QUIET_US;
}

/* a pass is due: records wait, and no backoff holds them (under the lock) */
static gboolean
rv_emb_files_due(RvStoreEmbedded *store)
{
        if (store->files_held && !store->files_now)
                return FALSE;
        /* a burst of writes goes on: its files wait for its end (a failed pass's backoff is the later of the two) */
        if (!store->files_now && !store->files_quit && store->deferred_bytes < RV_STORE_FILES_OWED_MAX &&
            g_get_monotonic_time() < rv_emb_files_quiet_at(store))
                return FALSE;
        return g_hash_table_size(store->deferred) > 0 &&
               (store->files_error == NULL || store->files_now || (store->files_quit && !store->files_quit_tried) ||
                g_get_monotonic_time() >= store->files_retry_at);
}

/* one pass over what waits; what fails waits again unless a newer op of its name came meanwhile (under the lock) */
static void
rv_emb_files_pass(RvStoreEmbedded *store)
{
        g_autoptr(GPtrArray) failed = g_ptr_array_new();
        g_autoptr(GError) first_error = NULL;
        GHashTableIter iter;
        gpointer value;

        store->files_now = FALSE;
        store->files_quit_tried |= store->files_quit;
        store->placing = g_steal_pointer(&store->deferred);
        store->deferred = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_emb_op_free);
        store->deferred_bytes = 0;
        g_mutex_unlock(&store->lock);

        g_hash_table_iter_init(&iter, store->placing);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                g_autoptr(GError) error = NULL;
                if (!rv_emb_place(store, value, &error)) {
                        g_debug("store: %s", error->message);
                        g_ptr_array_add(failed, value);
                        if (first_error == NULL)
                                first_error = g_steal_pointer(&error);
                }
        }

        g_mutex_lock(&store->lock);
        for (guint i = 0; i < failed->len; i++) {
                RvEmbOp *op = g_ptr_array_index(failed, i);
                if (g_hash_table_contains(store->deferred, op->name))
                        continue;
                g_hash_table_steal(store->placing, op->name);
                g_hash_table_insert(store->deferred, op->name, op);
                store->deferred_bytes += op->log_len;
        }
        g_clear_pointer(&store->placing, g_hash_table_unref);
        g_clear_pointer(&store->files_error, g_free);
        if (first_error != NULL) {
                store->files_error = g_strdup(first_error->message);
                store->files_retry_at = rv_emb_backoff(&store->files_retry_ms, store->files_retry_ms > 0);
        } else {
                store->files_retry_ms = 0;
        }
        rv_emb_report_health(store);
        g_cond_broadcast(&store->files_cond);
        /* an idle writer may checkpoint now */
        if (rv_emb_files_idle(store))
                g_cond_broadcast(&store->cond);
}

/*
 * with the log, a torrent record is durable once the log holds it and its
 * caller is answered then; creating its file (on some file systems the
 * costliest part of a write) is done here, behind the answer, with the
 * bytes read back from the log. Until it is, rv_emb_read_resume() reads the
 * record from the log too; a checkpoint, a flush and a load
 * wait for this thread first, so the log is never emptied of a record that
 * is not in its file. A write that fails here (the disk is full) is tried
 * again with a backoff, and the log keeps it meanwhile.
 */
static gpointer
rv_emb_files_thread(gpointer user_data)
{
        RvStoreEmbedded *store = user_data;

        g_mutex_lock(&store->lock);
        for (;;) {
                if (rv_emb_files_due(store)) {
                        rv_emb_files_pass(store);
                        continue;
                }
                if (store->files_quit)
                        break;
                /* only a backoff and the wait for the writes to pause end by themselves */
                if (g_hash_table_size(store->deferred) == 0 || store->files_held)
                        g_cond_wait(&store->files_cond, &store->lock);
                else
                        g_cond_wait_until(&store->files_cond, &store->lock,
                                          MAX(rv_emb_files_quiet_at(store),
                                              store->files_error != NULL ? store->files_retry_at : 0));
        }
        g_mutex_unlock(&store->lock);
        return NULL;
}

/* torrent records of a batch the log holds, to the files thread */
static void
rv_emb_defer(RvStoreEmbedded *store, GPtrArray *ops)
{
        gboolean was_empty;

        if (ops->len == 0)
                return;
        g_mutex_lock(&store->lock);
        was_empty = g_hash_table_size(store->deferred) == 0;
        for (guint i = 0; i < ops->len; i++) {
                const RvEmbOp *op = g_ptr_array_index(ops, i);
                /* the bytes stay in the log (in the page cache), not in memory */
                RvEmbOp *copy = rv_emb_op_new(op->kind, g_strdup(op->name), FALSE, NULL, NULL, NULL, NULL);
                RvEmbOp *older = g_hash_table_lookup(store->deferred, op->name);
                copy->log_off = op->log_off;
                copy->log_len = op->log_len;
                if (older != NULL)
                        store->deferred_bytes -= MIN(older->log_len, store->deferred_bytes);
                store->deferred_bytes += copy->log_len;
                g_hash_table_replace(store->deferred, copy->name, copy);
        }
        store->deferred_at = g_get_monotonic_time();
        /* the files thread waits for the writes to pause, on its own clock; it hears of the first, and of too many */
        if (was_empty || store->deferred_bytes >= RV_STORE_FILES_OWED_MAX)
                g_cond_broadcast(&store->files_cond);
        g_mutex_unlock(&store->lock);
}

/*
 * the writer before a checkpoint or a flush: a pass at once, and its end;
 * FALSE and why when records are left that the files thread cannot write
 */
static gboolean
rv_emb_wait_files(RvStoreEmbedded *store, GError **error)
{
        guint left;

        g_mutex_lock(&store->lock);
        if (g_hash_table_size(store->deferred) > 0) {
                store->files_now = TRUE;
                g_cond_broadcast(&store->files_cond);
        }
        while (store->placing != NULL ||
               (g_hash_table_size(store->deferred) > 0 && (store->files_error == NULL || store->files_now)))
                g_cond_wait(&store->files_cond, &store->lock);
        left = g_hash_table_size(store->deferred);
        if (left > 0)
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%u records are not written: %s", left,
                            store->files_error);
        g_mutex_unlock(&store->lock);
        return left == 0;
}

/* records in the log that an idle writer checkpoints (under the lock) */
static gboolean
rv_emb_log_has_records(RvStoreEmbedded *store)
{
        return store->log_fd >= 0 && store->log_end > RV_STORE_LOG_START && store->checkpoints;
}

/* records in the log and the writer idle since the last append (under the lock) */
static gboolean
rv_emb_log_idle(RvStoreEmbedded *store)
{
        return rv_emb_log_has_records(store) && rv_emb_files_idle(store) &&
               g_get_monotonic_time() >= store->log_idle_at;
}

/* when the idle writer has something to do: try the failed records again, checkpoint (under the lock) */
static gint64
rv_emb_wake_at(RvStoreEmbedded *store)
{
        gint64 wake = G_MAXINT64;

        if (g_hash_table_size(store->failed) > 0)
                wake = store->retry_at;
        /* the files thread wakes the writer when it has caught up */
        if (rv_emb_log_has_records(store) && rv_emb_files_idle(store))
                wake = MIN(wake, store->log_idle_at);
        return wake;
}

static void
rv_emb_idle_checkpoint(RvStoreEmbedded *store)
{
        g_autoptr(GError) error = NULL;

        if (!rv_emb_checkpoint(store, &error)) {
                g_debug("cannot checkpoint the store's log: %s, trying again later", error->message);
                store->log_idle_at = g_get_monotonic_time() + (gint64)RV_STORE_RETRY_MAX_MS * 1000;
        }
}

static gpointer
rv_emb_writer_thread(gpointer user_data)
{
        RvStoreEmbedded *store = user_data;
        gboolean last_try_done = FALSE;
        gboolean checkpoints;
        g_autoptr(GError) error = NULL;

        g_mutex_lock(&store->lock);
        for (;;) {
                g_autoptr(GHashTable) batch = NULL;
                g_autoptr(GArray) barriers = NULL;
                g_autoptr(GPtrArray) completions = g_ptr_array_new();
                g_autoptr(GError) barrier_error = NULL;
                g_autoptr(GError) files_error = NULL;
                gboolean retry;

                while (!store->quit && g_hash_table_size(store->pending) == 0 && store->barriers->len == 0) {
                        gint64 wake = rv_emb_wake_at(store);
                        if (wake == G_MAXINT64)
                                g_cond_wait(&store->cond, &store->lock);
                        else if (g_get_monotonic_time() >= wake || !g_cond_wait_until(&store->cond, &store->lock, wake))
                                break;
                }
                /* a flush or the end wants everything on disk: the backlog is tried at once */
                retry = g_hash_table_size(store->failed) > 0 &&
                        (store->barriers->len > 0 || (store->quit && !last_try_done) ||
                         g_get_monotonic_time() >= store->retry_at);
                if (g_hash_table_size(store->pending) == 0 && store->barriers->len == 0 && !retry) {
                        if (store->quit)
                                break;
                        if (rv_emb_log_idle(store)) {
                                g_mutex_unlock(&store->lock);
                                rv_emb_idle_checkpoint(store);
                                g_mutex_lock(&store->lock);
                        }
                        continue;
                }
                if (store->quit)
                        last_try_done = TRUE;
                batch = g_steal_pointer(&store->pending);
                store->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_emb_op_free);
                {
                        /* a record still owed to the disk is owed no more once a newer op of its name is written */
                        GHashTableIter iter;
                        gpointer name;
                        g_hash_table_iter_init(&iter, batch);
                        while (g_hash_table_iter_next(&iter, &name, NULL))
                                g_hash_table_remove(store->failed, name);
                }
                if (retry) {
                        GHashTableIter iter;
                        gpointer value;
                        g_hash_table_iter_init(&iter, store->failed);
                        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                                RvEmbOp *op = value;
                                g_hash_table_iter_steal(&iter);
                                if (g_hash_table_contains(batch, op->name))
                                        rv_emb_op_free(op);
                                else
                                        g_hash_table_insert(batch, op->name, op);
                        }
                }
                barriers = g_steal_pointer(&store->barriers);
                store->barriers = g_array_new(FALSE, TRUE, sizeof(RvEmbWaiter));
                store->in_flight = g_hash_table_size(batch);
                g_mutex_unlock(&store->lock);

                rv_emb_run_batch(store, batch, completions);
                /* a flush finds every record in its file */
                if (barriers->len > 0)
                        (void)rv_emb_wait_files(store, &files_error);

                g_mutex_lock(&store->lock);
                store->in_flight = 0;
                rv_emb_keep_failed(store, batch, retry);
                /* a flush is answered truthfully: durable, or not all of it */
                if (g_hash_table_size(store->failed) > 0)
                        barrier_error = g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "%u records are not written: %s",
                                                    g_hash_table_size(store->failed), store->failure_reason);
                else if (files_error != NULL)
                        barrier_error = g_steal_pointer(&files_error);
                rv_emb_complete(completions, barriers, barrier_error);
                g_cond_broadcast(&store->cond);
                for (guint i = 0; i < completions->len; i++)
                        rv_context_post(store->context, G_PRIORITY_DEFAULT, rv_emb_completion_cb,
                                        g_ptr_array_index(completions, i), NULL);
        }
        checkpoints = store->checkpoints;
        g_mutex_unlock(&store->lock);
        /* a clean stop leaves the files complete and the log empty; what fails stays for the next start's replay */
        if (checkpoints && !rv_emb_checkpoint(store, &error))
                g_debug("cannot checkpoint the store's log: %s, left for the next start", error->message);
        return NULL;
}

static gboolean
rv_emb_open_dir(const char *path, int *ret_fd, GError **error)
{
        int fd;

        if (g_mkdir_with_parents(path, 0700) < 0) {
                rv_emb_set_errno(error, errno, "cannot create directory", path);
                return FALSE;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                rv_emb_set_errno(error, errno, "cannot open directory", path);
                return FALSE;
        }
        *ret_fd = fd;
        return TRUE;
}

static void
rv_emb_free(RvStore *base)
{
        RvStoreEmbedded *store = base->impl;

        if (store == NULL)
                return;
        if (store->thread != NULL) {
                /* the writer drains what is queued before it leaves */
                g_mutex_lock(&store->lock);
                store->quit = TRUE;
                g_cond_broadcast(&store->cond);
                g_mutex_unlock(&store->lock);
                g_thread_join(store->thread);
        }
        if (store->files_thread != NULL) {
                /* after the writer: its last checkpoint waited for the files; a last try of what is left */
                g_mutex_lock(&store->lock);
                store->files_quit = TRUE;
                g_cond_broadcast(&store->files_cond);
                g_mutex_unlock(&store->lock);
                g_thread_join(store->files_thread);
        }
        /* completions posted by the writer must not outlive the store's users; run them now */
        while (g_main_context_iteration(store->context, FALSE))
                ;
        g_clear_object(&store->monitor);
        if (g_hash_table_size(store->failed) > 0)
                g_debug("%u records were never written: %s", g_hash_table_size(store->failed), store->failure_reason);
        if (g_hash_table_size(store->deferred) > 0)
                g_debug("%u records are only in the store's log: %s", g_hash_table_size(store->deferred),
                        store->files_error);
        g_hash_table_unref(store->pending);
        g_hash_table_unref(store->failed);
        g_hash_table_unref(store->deferred);
        g_free(store->failure_reason);
        g_free(store->files_error);
        g_free(store->reported_reason);
        g_cond_clear(&store->files_cond);
        g_array_unref(store->barriers);
        g_mutex_clear(&store->lock);
        g_cond_clear(&store->cond);
        if (store->log_fd >= 0)
                close(store->log_fd);
        if (store->log_read_fd >= 0)
                close(store->log_read_fd);
        g_hash_table_unref(store->log_names);
        if (store->torrents_fd >= 0)
                close(store->torrents_fd);
        if (store->state_fd >= 0)
                close(store->state_fd);
        g_main_context_unref(store->context);
        if (store->settings != NULL)
                json_node_unref(store->settings);
        g_ptr_array_unref(store->history);
        g_hash_table_unref(store->keys);
        g_free(store->token_hash);
        g_free(store->token_issued_by);
        g_free(store->state_dir);
        g_free(store->torrents_dir);
        g_free(store);
        base->impl = NULL;
}

static RvEmbOp *
rv_emb_op_new(RvEmbOpKind kind, char *name, gboolean in_state_dir, GBytes *data, const char *reason,
              RvStoreDoneFunc done, gpointer user_data)
{
        RvEmbOp *op = g_new0(RvEmbOp, 1);

        op->kind = kind;
        op->name = name;
        op->in_state_dir = in_state_dir;
        op->data = data;
        op->reason = g_strdup(reason);
        op->waiters = g_array_new(FALSE, TRUE, sizeof(RvEmbWaiter));
        if (done != NULL) {
                RvEmbWaiter w = { done, user_data };
                g_array_append_val(op->waiters, w);
        }
        return op;
}

/*
 * ops queued together reach the writer in one batch: a torrent's two
 * records are one record of the log, one fdatasync, and never half written
 */
static void
rv_emb_enqueue_ops(RvStoreEmbedded *store, RvEmbOp **ops, guint n_ops)
{
        g_mutex_lock(&store->lock);
        for (guint i = 0; i < n_ops; i++) {
                RvEmbOp *op = ops[i];
                RvEmbOp *old = g_hash_table_lookup(store->pending, op->name);
                if (old != NULL) {
                        /* the superseded write's callers learn their data is durable when this one is */
                        g_array_append_vals(op->waiters, old->waiters->data, old->waiters->len);
                        g_array_set_size(old->waiters, 0);
                }
                g_hash_table_replace(store->pending, op->name, op);
        }
        g_cond_broadcast(&store->cond);
        g_mutex_unlock(&store->lock);
}

static void
rv_emb_enqueue(RvStoreEmbedded *store, RvEmbOpKind kind, char *name, gboolean in_state_dir, GBytes *data,
               const char *reason, RvStoreDoneFunc done, gpointer user_data)
{
        RvEmbOp *op = rv_emb_op_new(kind, name, in_state_dir, data, reason, done, user_data);

        rv_emb_enqueue_ops(store, &op, 1);
}

static void rv_emb_flush(RvStore *base, RvStoreDoneFunc done, gpointer user_data);

/* a torrent written whole: its caller hears once both files are durable, with the first failure */
typedef struct {
        RvStoreDoneFunc done;
        gpointer user_data;
        guint left;
        GError *error;
} RvEmbJoin;

static void
rv_emb_join_cb(const GError *error, gpointer user_data)
{
        RvEmbJoin *join = user_data;

        if (error != NULL && join->error == NULL)
                join->error = g_error_copy(error);
        if (--join->left > 0)
                return;
        join->done(join->error, join->user_data);
        g_clear_error(&join->error);
        g_free(join);
}

static void
rv_emb_put_torrent(RvStore *base, const RvInfoHash *hash, char *meta, gsize meta_length, GBytes *resume,
                   RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;
        RvEmbOp *ops[2];
        guint n_ops = 0;

        if (meta != NULL && resume != NULL && done != NULL) {
                RvEmbJoin *join = g_new0(RvEmbJoin, 1);
                join->done = done;
                join->user_data = user_data;
                join->left = 2;
                done = rv_emb_join_cb;
                user_data = join;
        }

        if (resume != NULL) {
                ops[n_ops++] = rv_emb_op_new(RV_EMB_OP_WRITE, g_strconcat(hash->hex, ".resume", NULL), FALSE,
                                             g_bytes_ref(resume), NULL, done, user_data);
        }
        if (meta != NULL) {
                ops[n_ops++] = rv_emb_op_new(RV_EMB_OP_WRITE, g_strconcat(hash->hex, ".json", NULL), FALSE,
                                             g_bytes_new_take(meta, meta_length), NULL, done, user_data);
        }
        if (n_ops > 0)
                rv_emb_enqueue_ops(store, ops, n_ops);
        else
                rv_emb_flush(base, done, user_data);
}

static void
rv_emb_delete_torrent(RvStore *base, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;

        RvEmbOp *ops[2];

        ops[0] =
                rv_emb_op_new(RV_EMB_OP_DELETE, g_strconcat(hash->hex, ".resume", NULL), FALSE, NULL, NULL, NULL, NULL);
        ops[1] = rv_emb_op_new(RV_EMB_OP_DELETE, g_strconcat(hash->hex, ".json", NULL), FALSE, NULL, NULL, done,
                               user_data);
        rv_emb_enqueue_ops(store, ops, 2);
}

static void
rv_emb_quarantine_torrent(RvStore *base, const RvInfoHash *hash, const char *reason)
{
        RvStoreEmbedded *store = base->impl;

        g_autofree char *why = g_strdup_printf("torrent %s: %s", hash->hex, reason);

        rv_emb_enqueue(store, RV_EMB_OP_QUARANTINE, g_strconcat(hash->hex, ".resume", NULL), FALSE, NULL, why, NULL,
                       NULL);
        rv_emb_enqueue(store, RV_EMB_OP_QUARANTINE, g_strconcat(hash->hex, ".json", NULL), FALSE, NULL, why, NULL,
                       NULL);
}

static void
rv_emb_put_event_reservation(RvStore *base, guint64 reserved_up_to)
{
        RvStoreEmbedded *store = base->impl;
        g_autofree char *text = g_strdup_printf("{\"reserved_up_to\": %" G_GUINT64_FORMAT "}\n", reserved_up_to);
        gsize len = strlen(text);

        rv_emb_enqueue(store, RV_EMB_OP_WRITE, g_strdup("events.json"), TRUE,
                       g_bytes_new_take(g_steal_pointer(&text), len), NULL, NULL, NULL);
}

static void
rv_emb_flush(RvStore *base, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;
        RvEmbWaiter w = { done, user_data };

        g_mutex_lock(&store->lock);
        g_array_append_val(store->barriers, w);
        g_cond_broadcast(&store->cond);
        g_mutex_unlock(&store->lock);
}

static guint
rv_emb_get_pending(RvStore *base)
{
        RvStoreEmbedded *store = base->impl;
        guint n;

        g_mutex_lock(&store->lock);
        n = g_hash_table_size(store->pending) + store->in_flight + g_hash_table_size(store->failed);
        /* records the log holds that the files thread cannot write are owed to the disk as well */
        if (store->files_error != NULL)
                n += g_hash_table_size(store->deferred);
        g_mutex_unlock(&store->lock);
        return n;
}

/* loading */

static void rv_emb_add_problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
rv_emb_add_problem(GPtrArray *problems, const char *fmt, ...)
{
        va_list args;

        va_start(args, fmt);
        g_ptr_array_add(problems, g_strdup_vprintf(fmt, args));
        va_end(args);
}

static guint64
rv_emb_read_reservation(RvStoreEmbedded *store, GPtrArray *problems)
{
        g_autofree char *path = g_build_filename(store->state_dir, "events.json", NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        JsonNode *root;
        JsonNode *member;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
                return 0;
        if (!json_parser_load_from_mapped_file(parser, path, &error)) {
                rv_emb_add_problem(problems, "event id reservation '%s' is unreadable: %s", path, error->message);
                return 0;
        }
        root = json_parser_get_root(parser);
        member = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
                         ? json_object_get_member(json_node_get_object(root), "reserved_up_to")
                         : NULL;
        if (member == NULL || json_node_get_value_type(member) != G_TYPE_INT64 || json_node_get_int(member) < 0) {
                rv_emb_add_problem(problems, "event id reservation '%s' has no valid reserved_up_to", path);
                return 0;
        }
        return (guint64)json_node_get_int(member);
}

/* the whole of a small file under dirfd; NULL and error when it cannot be read */
static char *
rv_emb_read_at(int dirfd, const char *name, gsize *ret_len, GError **error)
{
        /* no access time: records just written would otherwise each cost an inode update in the journal */
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
        /* records are small: one read usually gets all of one, and a short read means the end */
        gsize cap = 4096;
        g_autofree char *buf = NULL;
        gsize len = 0;

        /* O_NOATIME is for the files' owner only */
        if (fd < 0 && errno == EPERM)
                fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s", g_strerror(errno));
                return NULL;
        }
        buf = g_malloc(cap + 1);
        for (;;) {
                ssize_t got = read(fd, buf + len, cap - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        int saved = errno;
                        close(fd);
                        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s", g_strerror(saved));
                        return NULL;
                }
                len += (gsize)got;
                if (len < cap)
                        break;
                cap *= 2;
                buf = g_realloc(buf, cap + 1);
        }
        close(fd);
        /* a resume blob is kept until the engine has it (or read back for a parked torrent): no 4 KiB of slack each */
        if (cap - len > 256)
                buf = g_realloc(buf, len + 1);
        buf[len] = '\0';
        *ret_len = len;
        return g_steal_pointer(&buf);
}

/*
 * one torrent's resume data, read on the caller's thread: a torrent parked at
 * start keeps no copy in memory, and nothing writes its resume file while it
 * is parked (a write is an atomic rename in any case)
 */
static GBytes *
rv_emb_read_resume(RvStore *base, const RvInfoHash *hash, GError **error)
{
        RvStoreEmbedded *store = base->impl;
        g_autofree char *file = g_strconcat(hash->hex, ".resume", NULL);
        gsize len = 0;
        char *contents;
        RvEmbOp *op;
        GBytes *data = NULL;
        gboolean found;
        gboolean deleted;

        /* a record the log holds and the files thread has not written yet is read from there */
        g_mutex_lock(&store->lock);
        op = g_hash_table_lookup(store->deferred, file);
        if (op == NULL && store->placing != NULL)
                op = g_hash_table_lookup(store->placing, file);
        /* read under the lock: a checkpoint cannot reuse those bytes of the log meanwhile */
        if (op != NULL && op->kind == RV_EMB_OP_WRITE) {
                guint8 *bytes = rv_emb_log_read(store, op, error);
                if (bytes != NULL)
                        data = g_bytes_new_take(bytes, op->log_len);
        }
        found = op != NULL;
        deleted = found && op->kind == RV_EMB_OP_DELETE;
        g_mutex_unlock(&store->lock);
        if (found) {
                if (deleted)
                        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s", g_strerror(ENOENT));
                return data;
        }
        contents = rv_emb_read_at(store->torrents_fd, file, &len, error);
        return contents != NULL ? g_bytes_new_take(contents, len) : NULL;
}

typedef struct {
        RvInfoHash hash;
        gboolean has_meta;
        gboolean has_resume;
} RvStoreEntry;

/*
 * resume data without its metadata: the torrent can come back from
 * libtorrent's record, but what only the metadata held (labels, selection
 * rules, the magnet link) is gone. That is a damaged record
 * like a corrupt one: reported, and a copy of what is left goes to corrupt/
 * before the metadata written anew makes the loss look like nothing happened.
 */
static void
rv_emb_report_orphan(RvStoreEmbedded *store, const RvStoreTorrent *record, GPtrArray *problems)
{
        g_autofree char *corrupt = g_build_filename(store->state_dir, "corrupt", NULL);
        g_autofree char *target =
                g_strdup_printf("%s/%s.resume.%" G_GINT64_FORMAT, corrupt, record->hash.hex, g_get_real_time());
        g_autofree char *kept = NULL;
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        const char *data = g_bytes_get_data(record->resume, &len);

        if (g_mkdir_with_parents(corrupt, 0700) < 0)
                rv_emb_set_errno(&error, errno, "cannot create", corrupt);
        else if (!g_file_set_contents_full(target, data != NULL ? data : "", (gssize)len,
                                           G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &error))
                rv_error_convert(&error);
        if (error == NULL)
                kept = g_strdup_printf("a copy of the resume data is in '%s'", target);
        else
                kept = g_strdup_printf("the resume data could not be copied aside: %s", error->message);
        rv_emb_add_problem(problems,
                           "metadata '%s/%s.json' is missing: torrent %s comes back from its resume data alone "
                           "(its labels, selection rules and magnet link are lost); %s",
                           store->torrents_dir, record->hash.hex, record->hash.hex, kept);
}

/* records are handed over in batches of this many while the rest is read */
#define RV_STORE_LOAD_BATCH 256

static void
rv_emb_load_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
        RvStoreEmbedded *store = task_data;
        g_autoptr(RvStoreSnapshot) snapshot = g_new0(RvStoreSnapshot, 1);
        /* hex -> index + 1 into entries */
        g_autoptr(GHashTable) by_hash = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(RvStoreEntry));
        g_autoptr(GPtrArray) batch = NULL;
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) error = NULL;
        const char *name;

        /* what the log holds is in the files first; one that cannot be written is read as it was before */
        if (!rv_emb_wait_files(store, &error)) {
                g_debug("store: %s", error->message);
                g_clear_error(&error);
        }
        snapshot->torrents = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_torrent_free);
        snapshot->problems = g_ptr_array_new_with_free_func(g_free);
        snapshot->event_ids_reserved = rv_emb_read_reservation(store, snapshot->problems);

        dir = g_dir_open(store->torrents_dir, 0, &error);
        if (dir == NULL) {
                rv_error_convert(&error);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        /* the names first: a torrent's two files are far apart in the directory's order */
        while ((name = g_dir_read_name(dir)) != NULL) {
                gboolean is_meta = g_str_has_suffix(name, ".json");
                gboolean is_resume = g_str_has_suffix(name, ".resume");
                g_autofree char *stem = NULL;
                gpointer index;
                RvInfoHash hash;

                if (name[0] == '.') {
                        /* a temp file from a write that never finished: the old file is still in place */
                        if (g_str_has_suffix(name, ".tmp"))
                                (void)unlinkat(store->torrents_fd, name, 0);
                        continue;
                }
                if (!is_meta && !is_resume)
                        continue;
                stem = g_strndup(name, strlen(name) - (is_meta ? 5 : 7));
                if (!rv_info_hash_parse(stem, &hash)) {
                        g_autoptr(GError) qerr = NULL;
                        rv_emb_add_problem(snapshot->problems, "'%s/%s' is not named after an info hash",
                                           store->torrents_dir, name);
                        (void)rv_emb_quarantine_file(store, store->torrents_fd, name, "not an info hash", &qerr);
                        continue;
                }
                if (!g_hash_table_lookup_extended(by_hash, hash.hex, NULL, &index)) {
                        RvStoreEntry entry = { .hash = hash };
                        g_array_append_val(entries, entry);
                        index = GUINT_TO_POINTER(entries->len);
                        g_hash_table_insert(by_hash, g_strdup(hash.hex), index);
                }
                if (is_meta)
                        g_array_index(entries, RvStoreEntry, GPOINTER_TO_UINT(index) - 1).has_meta = TRUE;
                else
                        g_array_index(entries, RvStoreEntry, GPOINTER_TO_UINT(index) - 1).has_resume = TRUE;
        }

        for (guint i = 0; i < entries->len; i++) {
                RvStoreEntry *entry = &g_array_index(entries, RvStoreEntry, i);
                RvStoreTorrent *record = g_new0(RvStoreTorrent, 1);

                record->hash = entry->hash;
                if (entry->has_resume) {
                        g_autofree char *file = g_strconcat(entry->hash.hex, ".resume", NULL);
                        gsize len = 0;
                        char *contents = rv_emb_read_at(store->torrents_fd, file, &len, &error);
                        if (contents == NULL) {
                                rv_emb_add_problem(snapshot->problems, "cannot read '%s/%s': %s", store->torrents_dir,
                                                   file, error->message);
                                g_clear_error(&error);
                        } else {
                                record->resume = g_bytes_new_take(contents, len);
                        }
                }
                if (entry->has_meta) {
                        g_autofree char *file = g_strconcat(entry->hash.hex, ".json", NULL);
                        gsize len = 0;
                        g_autofree char *contents = rv_emb_read_at(store->torrents_fd, file, &len, &error);
                        g_autoptr(JsonNode) root = NULL;
                        if (contents != NULL && (root = rv_json_parse(contents, (gssize)len, TRUE, &error)) != NULL &&
                            !JSON_NODE_HOLDS_OBJECT(root))
                                g_set_error_literal(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "not a JSON object");
                        if (error != NULL) {
                                g_autoptr(GError) qerr = NULL;
                                rv_emb_add_problem(snapshot->problems, "metadata '%s/%s' is corrupt (%s), moved aside",
                                                   store->torrents_dir, file, error->message);
                                (void)rv_emb_quarantine_file(store, store->torrents_fd, file, error->message, &qerr);
                                g_clear_error(&error);
                        } else {
                                record->meta = g_steal_pointer(&root);
                        }
                }
                if (!entry->has_meta && record->resume != NULL)
                        rv_emb_report_orphan(store, record, snapshot->problems);
                /* with neither part usable it still goes on: the caller reports it and moves what is left aside */
                if (batch == NULL)
                        batch = g_ptr_array_new_full(RV_STORE_LOAD_BATCH, (GDestroyNotify)rv_store_torrent_free);
                g_ptr_array_add(batch, record);
                if (batch->len == RV_STORE_LOAD_BATCH) {
                        if (rv_store_post_load_batch(store->base, batch))
                                batch = NULL;
                        else
                                g_ptr_array_extend_and_steal(snapshot->torrents, g_steal_pointer(&batch));
                }
        }
        if (batch != NULL)
                g_ptr_array_extend_and_steal(snapshot->torrents, g_steal_pointer(&batch));
        g_task_return_pointer(task, g_steal_pointer(&snapshot), (GDestroyNotify)rv_store_snapshot_free);
}

static guint64
rv_emb_read_event_reservation(RvStore *base, GError **error)
{
        RvStoreEmbedded *store = base->impl;
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
        guint64 value = rv_emb_read_reservation(store, problems);

        if (problems->len > 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, g_ptr_array_index(problems, 0));
                return 0;
        }
        return value;
}

static void
rv_emb_load_async(RvStore *base, GTask *task)
{
        g_task_set_task_data(task, base->impl, NULL);
        g_task_run_in_thread(task, rv_emb_load_thread);
        g_object_unref(task);
}

/* small records: settings, history, keys, the setup token, this node */

static JsonNode *
rv_emb_read_json(RvStoreEmbedded *store, const char *name, GError **error)
{
        g_autofree char *path = g_build_filename(store->state_dir, name, NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
                return NULL;
        if (!json_parser_load_from_file(parser, path, error)) {
                rv_error_convert(error);
                g_prefix_error(error, "%s: ", path);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: not a JSON object", path);
                return NULL;
        }
        return json_node_ref(root);
}

static void
rv_emb_write_json(RvStoreEmbedded *store, const char *name, JsonNode *node, RvStoreDoneFunc done, gpointer user_data)
{
        g_autoptr(JsonGenerator) gen = json_generator_new();
        gsize len = 0;
        char *text;

        json_generator_set_root(gen, node);
        json_generator_set_pretty(gen, TRUE);
        text = json_generator_to_data(gen, &len);
        rv_emb_enqueue(store, RV_EMB_OP_WRITE, g_strdup(name), TRUE, g_bytes_new_take(text, len), NULL, done,
                       user_data);
}

/* reads everything small into the cache; problems with one record do not stop the others */
static gboolean
rv_emb_read_records(RvStoreEmbedded *store, GError **error)
{
        g_autoptr(JsonNode) settings = NULL;
        g_autoptr(JsonNode) history = NULL;
        g_autoptr(JsonNode) keys = NULL;
        g_autoptr(JsonNode) token = NULL;
        g_autoptr(GError) error_local = NULL;

        settings = rv_emb_read_json(store, "settings.json", &error_local);
        if (error_local != NULL) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        if (settings != NULL) {
                JsonObject *obj = json_node_get_object(settings);
                JsonNode *doc = json_object_get_member(obj, "document");
                store->settings_revision = (guint64)rv_json_object_get_int_or(obj, "revision", 0);
                if (doc != NULL && JSON_NODE_HOLDS_OBJECT(doc))
                        store->settings = json_node_copy(doc);
        }
        history = rv_emb_read_json(store, "history.json", NULL);
        if (history != NULL) {
                JsonArray *entries = rv_json_object_get_array(json_node_get_object(history), "entries");
                for (guint i = 0; entries != NULL && i < json_array_get_length(entries); i++) {
                        RvStoreHistoryEntry *e =
                                rv_store_history_entry_from_json(json_array_get_element(entries, i), NULL);
                        if (e != NULL)
                                g_ptr_array_add(store->history, e);
                }
        }
        keys = rv_emb_read_json(store, "keys.json", NULL);
        if (keys != NULL) {
                JsonArray *list = rv_json_object_get_array(json_node_get_object(keys), "keys");
                for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
                        RvStoreApiKey *k = rv_store_api_key_from_json(json_array_get_element(list, i), NULL);
                        if (k != NULL)
                                g_hash_table_replace(store->keys, k->key_id, k);
                }
        }
        token = rv_emb_read_json(store, "setup-token.json", NULL);
        if (token != NULL) {
                JsonObject *obj = json_node_get_object(token);
                store->token_hash = g_strdup(rv_json_object_get_string_or(obj, "hash", NULL));
                store->token_expires = rv_json_object_get_int_or(obj, "expires_at", 0);
                store->token_issued_by = g_strdup(rv_json_object_get_string_or(obj, "issued_by", ""));
        }
        store->opened = TRUE;
        return TRUE;
}

static void
rv_emb_ensure_open(RvStoreEmbedded *store)
{
        g_autoptr(GError) error = NULL;

        /* a caller that skipped open: the records are small, read them now */
        if (!store->opened && !rv_emb_read_records(store, &error))
                g_debug("reading the store's records failed: %s", error->message);
        store->opened = TRUE;
}

static gboolean
rv_emb_same_document(JsonNode *a, JsonNode *b)
{
        if (a == NULL || b == NULL)
                return a == b;
        return json_node_equal(a, b);
}

/* an operator edited settings.json by hand: take it as a new revision */
static void
rv_emb_settings_file_changed_cb(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                                gpointer user_data)
{
        RvStoreEmbedded *store = user_data;
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(GError) error = NULL;
        JsonNode *doc;
        guint64 revision;

        if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_CREATED &&
            event != G_FILE_MONITOR_EVENT_RENAMED && event != G_FILE_MONITOR_EVENT_MOVED_IN)
                return;
        /*
         * while a write of ours is on its way the file holds an older revision
         * than memory: taking it would undo a change; a hand edit racing that
         * write loses to it anyway
         */
        if (store->settings_writes_pending > 0)
                return;
        root = rv_emb_read_json(store, "settings.json", &error);
        if (root == NULL) {
                if (error != NULL)
                        g_debug("settings.json changed but cannot be read: %s, ignoring", error->message);
                return;
        }
        doc = json_object_get_member(json_node_get_object(root), "document");
        if (doc == NULL || !JSON_NODE_HOLDS_OBJECT(doc) || rv_emb_same_document(doc, store->settings))
                return;
        revision = (guint64)rv_json_object_get_int_or(json_node_get_object(root), "revision", 0);
        revision = MAX(revision, store->settings_revision + 1);
        if (store->settings != NULL)
                json_node_unref(store->settings);
        store->settings = json_node_copy(doc);
        store->settings_revision = revision;
        rv_store_emit_settings_changed(store->base, revision);
}

static void
rv_emb_open_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
        RvStoreEmbedded *store = task_data;
        g_autoptr(GError) error = NULL;

        if (!rv_emb_read_records(store, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        g_task_return_boolean(task, TRUE);
}

static void
rv_emb_open_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) outer = user_data;
        RvStoreEmbedded *store = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;
        g_autoptr(GFile) file = NULL;

        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_task_return_error(outer, g_steal_pointer(&error));
                return;
        }
        file = g_file_new_build_filename(store->state_dir, "settings.json", NULL);
        store->monitor = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
        if (store->monitor != NULL)
                g_signal_connect(store->monitor, "changed", G_CALLBACK(rv_emb_settings_file_changed_cb), store);
        g_task_return_boolean(outer, TRUE);
}

static void
rv_emb_open_async(RvStore *base, GTask *task)
{
        GTask *inner = g_task_new(NULL, NULL, rv_emb_open_done_cb, task);

        g_task_set_task_data(inner, base->impl, NULL);
        g_task_run_in_thread(inner, rv_emb_open_thread);
        g_object_unref(inner);
}

static void
rv_emb_load_settings_async(RvStore *base, GTask *task)
{
        RvStoreEmbedded *store = base->impl;
        RvStoreSettings *settings = g_new0(RvStoreSettings, 1);

        rv_emb_ensure_open(store);
        settings->revision = store->settings_revision;
        settings->document = store->settings != NULL ? json_node_copy(store->settings) : NULL;
        g_task_return_pointer(task, settings, (GDestroyNotify)rv_store_settings_free);
        g_object_unref(task);
}

static JsonNode *
rv_emb_history_document(RvStoreEmbedded *store)
{
        JsonObject *obj = json_object_new();
        JsonArray *entries = json_array_new();

        for (guint i = 0; i < store->history->len; i++)
                json_array_add_element(entries, rv_store_history_entry_to_json(g_ptr_array_index(store->history, i)));
        json_object_set_array_member(obj, "entries", entries);
        return rv_json_node_take_object(obj);
}

typedef struct {
        RvStoreEmbedded *store;
        GTask *task;
        guint64 revision;
        /* what the cache held before, to go back to when the write fails */
        guint64 previous_revision;
        JsonNode *previous;
} RvEmbSave;

static void rv_emb_write_settings(RvStoreEmbedded *store, RvStoreDoneFunc done, gpointer user_data);

static void
rv_emb_settings_written_cb(const GError *error, gpointer user_data)
{
        RvEmbSave *save = user_data;

        save->store->settings_writes_pending--;
        g_free(save);
}

/*
 * a save whose settings.json could not be written is refused, so it must not
 * happen later either: the cache goes back to the revision before it (unless
 * a later save came on top), and the files are written again from the cache,
 * replacing the failed writes that were to be tried again
 */
static void
rv_emb_settings_undo(RvEmbSave *save)
{
        RvStoreEmbedded *store = save->store;
        RvEmbSave *rewrite;

        if (store->settings_revision != save->revision)
                return;
        store->settings_revision = save->previous_revision;
        g_clear_pointer(&store->settings, json_node_unref);
        store->settings = g_steal_pointer(&save->previous);
        for (guint i = store->history->len; i > 0; i--) {
                RvStoreHistoryEntry *e = g_ptr_array_index(store->history, i - 1);
                if (e->revision == save->revision)
                        g_ptr_array_remove_index(store->history, i - 1);
        }
        {
                g_autoptr(JsonNode) history = rv_emb_history_document(store);
                rv_emb_write_json(store, "history.json", history, NULL, NULL);
        }
        rewrite = g_new0(RvEmbSave, 1);
        rewrite->store = store;
        store->settings_writes_pending++;
        rv_emb_write_settings(store, rv_emb_settings_written_cb, rewrite);
}

static void
rv_emb_saved_cb(const GError *error, gpointer user_data)
{
        RvEmbSave *save = user_data;

        save->store->settings_writes_pending--;
        if (error != NULL)
                rv_emb_settings_undo(save);
        if (error != NULL)
                g_task_return_error(save->task, g_error_copy(error));
        else
                g_task_return_int(save->task, (gssize)save->revision);
        g_object_unref(save->task);
        if (save->previous != NULL)
                json_node_unref(save->previous);
        g_free(save);
}

/* settings.json from the cache; with no settings, the file goes */
static void
rv_emb_write_settings(RvStoreEmbedded *store, RvStoreDoneFunc done, gpointer user_data)
{
        JsonObject *obj;
        g_autoptr(JsonNode) file = NULL;

        if (store->settings == NULL) {
                rv_emb_enqueue(store, RV_EMB_OP_DELETE, g_strdup("settings.json"), TRUE, NULL, NULL, done, user_data);
                return;
        }
        obj = json_object_new();
        json_object_set_int_member(obj, "revision", (gint64)store->settings_revision);
        json_object_set_member(obj, "document", json_node_copy(store->settings));
        file = rv_json_node_take_object(obj);
        rv_emb_write_json(store, "settings.json", file, done, user_data);
}

static void
rv_emb_save_settings_async(RvStore *base, guint64 expected_revision, JsonNode *document,
                           const RvStoreHistoryEntry *entry, GTask *task)
{
        RvStoreEmbedded *store = base->impl;
        RvStoreHistoryEntry *stored;
        RvEmbSave *save;

        rv_emb_ensure_open(store);
        if (expected_revision != store->settings_revision) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT,
                                        "the settings changed meanwhile (revision %" G_GUINT64_FORMAT
                                        ", expected %" G_GUINT64_FORMAT ")",
                                        store->settings_revision, expected_revision);
                g_object_unref(task);
                return;
        }
        save = g_new0(RvEmbSave, 1);
        save->store = store;
        save->task = task;
        save->previous_revision = store->settings_revision;
        save->previous = g_steal_pointer(&store->settings);
        store->settings_revision++;
        save->revision = store->settings_revision;
        store->settings = json_node_copy(document);
        stored = rv_store_history_entry_copy(entry);
        stored->revision = store->settings_revision;
        stored->timestamp = g_get_real_time();
        g_ptr_array_add(store->history, stored);
        if (store->history->len > RV_STORE_HISTORY_MAX)
                g_ptr_array_remove_range(store->history, 0, store->history->len - RV_STORE_HISTORY_MAX);

        {
                g_autoptr(JsonNode) history = rv_emb_history_document(store);
                rv_emb_write_json(store, "history.json", history, NULL, NULL);
        }
        store->settings_writes_pending++;
        rv_emb_write_settings(store, rv_emb_saved_cb, save);
}

static void
rv_emb_list_history_async(RvStore *base, guint limit, GTask *task)
{
        RvStoreEmbedded *store = base->impl;
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_history_entry_free);

        rv_emb_ensure_open(store);
        for (guint i = store->history->len; i > 0 && out->len < limit; i--)
                g_ptr_array_add(out, rv_store_history_entry_copy(g_ptr_array_index(store->history, i - 1)));
        g_task_return_pointer(task, out, (GDestroyNotify)g_ptr_array_unref);
        g_object_unref(task);
}

static gint
rv_emb_cmp_keys(gconstpointer a, gconstpointer b)
{
        const RvStoreApiKey *x = *(const RvStoreApiKey *const *)a;
        const RvStoreApiKey *y = *(const RvStoreApiKey *const *)b;

        return g_strcmp0(x->key_id, y->key_id);
}

static GPtrArray *
rv_emb_keys_sorted(RvStoreEmbedded *store)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_api_key_free);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, store->keys);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(out, rv_store_api_key_copy(value));
        g_ptr_array_sort(out, rv_emb_cmp_keys);
        return out;
}

static void
rv_emb_write_keys(RvStoreEmbedded *store, RvStoreDoneFunc done, gpointer user_data)
{
        g_autoptr(GPtrArray) keys = rv_emb_keys_sorted(store);
        JsonObject *obj = json_object_new();
        JsonArray *list = json_array_new();
        g_autoptr(JsonNode) node = NULL;

        for (guint i = 0; i < keys->len; i++)
                json_array_add_element(list, rv_store_api_key_to_json(g_ptr_array_index(keys, i)));
        json_object_set_array_member(obj, "keys", list);
        node = rv_json_node_take_object(obj);
        rv_emb_write_json(store, "keys.json", node, done, user_data);
}

/* a change of one key, undone when keys.json cannot be written: the caller hears it was refused */
typedef struct {
        RvStoreEmbedded *store;
        guint change;
        char *key_id;
        /* the key before the change, NULL when there was none */
        RvStoreApiKey *previous;
        RvStoreDoneFunc done;
        gpointer user_data;
} RvEmbKeyChange;

static void
rv_emb_key_changed_cb(const GError *error, gpointer user_data)
{
        RvEmbKeyChange *c = user_data;
        RvStoreEmbedded *store = c->store;

        /*
         * only the newest change is undone; changes that failed in one write
         * hear of it newest first, so each in turn is the newest again
         */
        if (error != NULL && c->change == store->keys_changes) {
                RvStoreApiKey *previous = g_steal_pointer(&c->previous);
                if (previous != NULL)
                        g_hash_table_replace(store->keys, previous->key_id, previous);
                else
                        g_hash_table_remove(store->keys, c->key_id);
                store->keys_changes = c->change - 1;
                rv_emb_write_keys(store, NULL, NULL);
        }
        if (c->done != NULL)
                c->done(error, c->user_data);
        if (c->previous != NULL)
                rv_store_api_key_free(c->previous);
        g_free(c->key_id);
        g_free(c);
}

static RvEmbKeyChange *
rv_emb_key_change_new(RvStoreEmbedded *store, const char *key_id, RvStoreDoneFunc done, gpointer user_data)
{
        RvEmbKeyChange *c = g_new0(RvEmbKeyChange, 1);
        const RvStoreApiKey *previous = g_hash_table_lookup(store->keys, key_id);

        c->store = store;
        c->change = ++store->keys_changes;
        c->key_id = g_strdup(key_id);
        c->previous = previous != NULL ? rv_store_api_key_copy(previous) : NULL;
        c->done = done;
        c->user_data = user_data;
        return c;
}

static void
rv_emb_put_api_key(RvStore *base, const RvStoreApiKey *key, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;
        RvStoreApiKey *copy = rv_store_api_key_copy(key);
        RvEmbKeyChange *change;

        rv_emb_ensure_open(store);
        change = rv_emb_key_change_new(store, key->key_id, done, user_data);
        g_hash_table_replace(store->keys, copy->key_id, copy);
        rv_emb_write_keys(store, rv_emb_key_changed_cb, change);
}

typedef struct {
        RvStoreDoneFunc done;
        gpointer user_data;
        GError *error;
} RvEmbLater;

static gboolean
rv_emb_later_cb(gpointer data)
{
        RvEmbLater *later = data;

        later->done(later->error, later->user_data);
        g_clear_error(&later->error);
        g_free(later);
        return G_SOURCE_REMOVE;
}

/* callbacks never run inside the call that asked */
static void
rv_emb_done_later(RvStoreDoneFunc done, gpointer user_data, GError *error)
{
        RvEmbLater *later;

        if (done == NULL) {
                g_clear_error(&error);
                return;
        }
        later = g_new0(RvEmbLater, 1);
        later->done = done;
        later->user_data = user_data;
        later->error = error;
        g_idle_add(rv_emb_later_cb, later);
}

static void
rv_emb_delete_api_key(RvStore *base, const char *key_id, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;
        RvEmbKeyChange *change;

        rv_emb_ensure_open(store);
        if (!g_hash_table_contains(store->keys, key_id)) {
                rv_emb_done_later(done, user_data,
                                  g_error_new(RV_ERROR, RV_ERROR_NOT_FOUND, "no API key '%s'", key_id));
                return;
        }
        change = rv_emb_key_change_new(store, key_id, done, user_data);
        g_hash_table_remove(store->keys, key_id);
        rv_emb_write_keys(store, rv_emb_key_changed_cb, change);
}

static void
rv_emb_list_api_keys_async(RvStore *base, GTask *task)
{
        RvStoreEmbedded *store = base->impl;

        rv_emb_ensure_open(store);
        g_task_return_pointer(task, rv_emb_keys_sorted(store), (GDestroyNotify)g_ptr_array_unref);
        g_object_unref(task);
}

static void
rv_emb_write_token(RvStoreEmbedded *store, RvStoreDoneFunc done, gpointer user_data)
{
        JsonObject *obj = json_object_new();
        g_autoptr(JsonNode) node = NULL;

        if (store->token_hash != NULL) {
                json_object_set_string_member(obj, "hash", store->token_hash);
                json_object_set_int_member(obj, "expires_at", store->token_expires);
                json_object_set_string_member(obj, "issued_by", store->token_issued_by);
        }
        node = rv_json_node_take_object(obj);
        rv_emb_write_json(store, "setup-token.json", node, done, user_data);
}

static void
rv_emb_put_setup_token(RvStore *base, const char *token_hash, gint64 expires_at, const char *issued_by,
                       RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;

        rv_emb_ensure_open(store);
        g_free(store->token_hash);
        g_free(store->token_issued_by);
        store->token_hash = g_strdup(token_hash);
        store->token_expires = expires_at;
        store->token_issued_by = g_strdup(issued_by);
        rv_emb_write_token(store, done, user_data);
}

typedef struct {
        RvStoreEmbedded *store;
        GTask *task;
        char *hash;
        gint64 expires;
} RvEmbTake;

/*
 * a take whose write failed was refused: the token is the user's again, in
 * the cache and in the write tried again (the failed one would clear it on
 * disk once the store takes writes), unless a newer token replaced it
 */
static void
rv_emb_token_taken_cb(const GError *error, gpointer user_data)
{
        RvEmbTake *take = user_data;
        RvStoreEmbedded *store = take->store;

        if (error != NULL) {
                if (store->token_hash == NULL) {
                        store->token_hash = g_steal_pointer(&take->hash);
                        store->token_expires = take->expires;
                        rv_emb_write_token(store, NULL, NULL);
                }
                g_task_return_error(take->task, g_error_copy(error));
        } else {
                g_task_return_boolean(take->task, TRUE);
        }
        g_object_unref(take->task);
        g_free(take->hash);
        g_free(take);
}

static void
rv_emb_take_setup_token_async(RvStore *base, const char *token_hash, gint64 now, GTask *task)
{
        RvStoreEmbedded *store = base->impl;
        RvEmbTake *take;
        gboolean match;

        rv_emb_ensure_open(store);
        /* the caller compares hashes of random secrets: equality of hashes is not a timing oracle */
        match = store->token_hash != NULL && token_hash != NULL && g_str_equal(store->token_hash, token_hash) &&
                store->token_expires > now;
        if (!match) {
                g_task_return_boolean(task, FALSE);
                g_object_unref(task);
                return;
        }
        take = g_new0(RvEmbTake, 1);
        take->store = store;
        take->task = task;
        take->hash = g_steal_pointer(&store->token_hash);
        take->expires = store->token_expires;
        rv_emb_write_token(store, rv_emb_token_taken_cb, take);
}

static void
rv_emb_touch_node(RvStore *base, const char *name, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;
        JsonObject *obj = json_object_new();
        g_autoptr(JsonNode) node = NULL;

        json_object_set_string_member(obj, "node_id", base->node_id);
        json_object_set_string_member(obj, "name", name != NULL ? name : base->node_id);
        json_object_set_int_member(obj, "last_seen", g_get_real_time() / G_USEC_PER_SEC);
        node = rv_json_node_take_object(obj);
        rv_emb_write_json(store, "node.json", node, done, user_data);
}

static void
rv_emb_list_nodes_async(RvStore *base, GTask *task)
{
        RvStoreEmbedded *store = base->impl;
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_node_free);
        g_autoptr(JsonNode) root = rv_emb_read_json(store, "node.json", NULL);
        RvStoreNode *node = g_new0(RvStoreNode, 1);

        node->node_id = g_strdup(base->node_id);
        node->name =
                g_strdup(root != NULL ? rv_json_object_get_string_or(json_node_get_object(root), "name", base->node_id)
                                      : base->node_id);
        node->last_seen = root != NULL ? rv_json_object_get_int_or(json_node_get_object(root), "last_seen", 0) : 0;
        g_ptr_array_add(out, node);
        g_task_return_pointer(task, out, (GDestroyNotify)g_ptr_array_unref);
        g_object_unref(task);
}

static const RvStoreClass rv_store_embedded_class = {
        .name = "embedded",
        .free = rv_emb_free,
        .open_async = rv_emb_open_async,
        .load_async = rv_emb_load_async,
        .put_torrent = rv_emb_put_torrent,
        .delete_torrent = rv_emb_delete_torrent,
        .quarantine_torrent = rv_emb_quarantine_torrent,
        .read_resume = rv_emb_read_resume,
        .read_event_reservation = rv_emb_read_event_reservation,
        .put_event_reservation = rv_emb_put_event_reservation,
        .load_settings_async = rv_emb_load_settings_async,
        .save_settings_async = rv_emb_save_settings_async,
        .list_history_async = rv_emb_list_history_async,
        .put_api_key = rv_emb_put_api_key,
        .delete_api_key = rv_emb_delete_api_key,
        .list_api_keys_async = rv_emb_list_api_keys_async,
        .put_setup_token = rv_emb_put_setup_token,
        .take_setup_token_async = rv_emb_take_setup_token_async,
        .touch_node = rv_emb_touch_node,
        .list_nodes_async = rv_emb_list_nodes_async,
        .flush = rv_emb_flush,
        .get_pending = rv_emb_get_pending,
};

RvStore *
rv_store_embedded_new(const char *state_dir, RvHealth *health, GError **error)
{
        RvStoreEmbedded *store = g_new0(RvStoreEmbedded, 1);
        RvStore *base = rv_store_new_internal(&rv_store_embedded_class, store, health, "local");

        store->base = base;
        store->torrents_fd = -1;
        store->state_fd = -1;
        store->log_fd = -1;
        store->log_read_fd = -1;
        store->log_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        store->checkpoints = TRUE;
        store->state_dir = g_strdup(state_dir);
        store->torrents_dir = g_build_filename(state_dir, "torrents", NULL);
        store->context = g_main_context_ref_thread_default();
        g_mutex_init(&store->lock);
        g_cond_init(&store->cond);
        store->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_emb_op_free);
        store->failed = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_emb_op_free);
        store->deferred = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_emb_op_free);
        g_cond_init(&store->files_cond);
        store->retry_delay_ms = RV_STORE_RETRY_MIN_MS;
        store->barriers = g_array_new(FALSE, TRUE, sizeof(RvEmbWaiter));
        store->history = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_history_entry_free);
        store->keys = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_store_api_key_free);
        if (!rv_emb_open_dir(store->state_dir, &store->state_fd, error) ||
            !rv_emb_open_dir(store->torrents_dir, &store->torrents_fd, error) || !rv_emb_log_open(store, error)) {
                rv_store_free(base);
                return NULL;
        }
        store->files_thread = g_thread_new("rv-store-files", rv_emb_files_thread, store);
        store->thread = g_thread_new("rv-store", rv_emb_writer_thread, store);
        return base;
}

void
rv_store_embedded_set_write_failure(RvStore *base, int errsv)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_atomic_int_set(&store->fail_writes, errsv);
}

void
rv_store_embedded_set_write_fault_func(RvStore *base, RvStoreWriteFaultFunc func, gpointer user_data)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_mutex_lock(&store->lock);
        store->fault_func = func;
        store->fault_data = user_data;
        g_mutex_unlock(&store->lock);
}

void
rv_store_embedded_set_checkpoints(RvStore *base, gboolean enabled)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_mutex_lock(&store->lock);
        store->checkpoints = enabled;
        g_mutex_unlock(&store->lock);
}

void
rv_store_embedded_set_log_failure(RvStore *base, int errsv)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_atomic_int_set(&store->fail_log, errsv);
}

void
rv_store_embedded_set_files_held(RvStore *base, gboolean held)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_mutex_lock(&store->lock);
        store->files_held = held;
        g_cond_broadcast(&store->files_cond);
        g_mutex_unlock(&store->lock);
}

void
rv_store_embedded_set_files_failure(RvStore *base, int errsv)
{
        RvStoreEmbedded *store = base->impl;

        g_return_if_fail(base->klass == &rv_store_embedded_class);
        g_atomic_int_set(&store->fail_files, errsv);
}
