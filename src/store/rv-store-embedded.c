/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rv-store.h"


/* batches at least this large are made durable with one syncfs() instead of a fdatasync() per file */
#define RV_STORE_SYNCFS_BATCH 32

typedef enum {
        RV_STORE_OP_WRITE,
        RV_STORE_OP_DELETE,
        RV_STORE_OP_QUARANTINE,
} RvStoreOpKind;

typedef struct {
        RvStoreDoneFunc func;
        gpointer user_data;
} RvStoreWaiter;

typedef struct {
        RvStoreOpKind kind;
        /* file name inside the torrents directory (or the state directory for daemon records) */
        char *name;
        gboolean in_state_dir;
        GBytes *data;
        char *reason;
        GArray *waiters;
} RvStoreOp;

struct _RvStore {
        char *state_dir;
        char *torrents_dir;
        int torrents_fd;
        int state_fd;
        RvHealth *health;
        GMainContext *context;

        GMutex lock;
        GCond cond;
        /* name -> RvStoreOp, coalesced: a later write replaces an earlier one */
        GHashTable *pending;
        /* flush waiters queued behind everything pending */
        GArray *barriers;
        guint in_flight;
        gboolean quit;
        GThread *thread;
        /* written by the writer thread, read under the lock */
        guint failures;
};

typedef struct {
        GArray *waiters;
        GError *error;
} RvStoreCompletion;

static void
rv_store_op_free(RvStoreOp *op)
{
        g_free(op->name);
        if (op->data != NULL)
                g_bytes_unref(op->data);
        g_free(op->reason);
        g_array_unref(op->waiters);
        g_free(op);
}

void
rv_store_torrent_free(RvStoreTorrent *torrent)
{
        if (torrent->meta != NULL)
                json_node_unref(torrent->meta);
        if (torrent->resume != NULL)
                g_bytes_unref(torrent->resume);
        g_free(torrent);
}

void
rv_store_snapshot_free(RvStoreSnapshot *snapshot)
{
        if (snapshot == NULL)
                return;
        g_ptr_array_unref(snapshot->torrents);
        g_ptr_array_unref(snapshot->problems);
        g_free(snapshot);
}

static gboolean
rv_store_completion_cb(gpointer user_data)
{
        RvStoreCompletion *c = user_data;

        for (guint i = 0; i < c->waiters->len; i++) {
                RvStoreWaiter *w = &g_array_index(c->waiters, RvStoreWaiter, i);
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
rv_store_complete(GPtrArray *completions, GArray *waiters, const GError *error)
{
        RvStoreCompletion *c;

        if (waiters->len == 0)
                return;
        c = g_new0(RvStoreCompletion, 1);
        c->waiters = g_array_ref(waiters);
        c->error = error != NULL ? g_error_copy(error) : NULL;
        g_ptr_array_add(completions, c);
}

static gboolean
rv_store_write_all(int fd, const guint8 *data, gsize len)
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
rv_store_set_errno(GError **error, int errsv, const char *what, const char *name)
{
        g_set_error(error, RV_ERROR, rv_error_from_errno(errsv), "%s '%s': %s", what, name, g_strerror(errsv));
}

/* write name.tmp, leaving it for the rename once the batch is durable */
static gboolean
rv_store_write_tmp(int dirfd, const RvStoreOp *op, gboolean sync_each, GError **error)
{
        g_autofree char *tmp = g_strconcat(".", op->name, ".tmp", NULL);
        gsize len = 0;
        const guint8 *data = g_bytes_get_data(op->data, &len);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0) {
                rv_store_set_errno(error, errno, "cannot create", tmp);
                return FALSE;
        }
        if (!rv_store_write_all(fd, data, len) || (sync_each && fdatasync(fd) < 0)) {
                int errsv = errno;
                close(fd);
                (void)unlinkat(dirfd, tmp, 0);
                rv_store_set_errno(error, errsv, "cannot write", tmp);
                return FALSE;
        }
        close(fd);
        return TRUE;
}

static gboolean
rv_store_quarantine_file(RvStore *store, int dirfd, const char *name, const char *reason, GError **error)
{
        g_autofree char *corrupt = g_build_filename(store->state_dir, "corrupt", NULL);
        g_autofree char *target = NULL;
        g_autofree char *source = NULL;
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return TRUE;
        if (g_mkdir_with_parents(corrupt, 0700) < 0) {
                rv_store_set_errno(error, errno, "cannot create", corrupt);
                return FALSE;
        }
        target = g_strdup_printf("%s/%s.%" G_GINT64_FORMAT, corrupt, name, g_get_real_time());
        source = g_build_filename(dirfd == store->torrents_fd ? store->torrents_dir : store->state_dir, name, NULL);
        if (rename(source, target) < 0) {
                rv_store_set_errno(error, errno, "cannot move aside", source);
                return FALSE;
        }
        g_debug("moved '%s' to '%s': %s", source, target, reason);
        return TRUE;
}

/* one batch: write temp files, make them durable, rename them in place, sync the directories */
static GError *
rv_store_run_batch(RvStore *store, GHashTable *batch, GArray *barriers, GPtrArray *completions)
{
        GHashTableIter iter;
        gpointer value;
        guint n_writes = 0;
        gboolean sync_each;
        g_autoptr(GError) batch_error = NULL;

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (((RvStoreOp *)value)->kind == RV_STORE_OP_WRITE)
                        n_writes++;
        }
        sync_each = n_writes < RV_STORE_SYNCFS_BATCH;

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvStoreOp *op = value;
                int dirfd = op->in_state_dir ? store->state_fd : store->torrents_fd;
                g_autoptr(GError) error = NULL;
                if (op->kind != RV_STORE_OP_WRITE)
                        continue;
                if (!rv_store_write_tmp(dirfd, op, sync_each, &error)) {
                        g_debug("store write failed: %s", error->message);
                        /* keep the old file in place: the rename below is skipped for this op */
                        g_free(op->reason);
                        op->reason = g_strdup(error->message);
                        if (batch_error == NULL)
                                batch_error = g_error_copy(error);
                }
        }
        if (!sync_each && n_writes > 0 && syncfs(store->torrents_fd) < 0)
                g_debug("syncfs on '%s' failed: %s, ignoring", store->torrents_dir, g_strerror(errno));

        g_hash_table_iter_init(&iter, batch);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvStoreOp *op = value;
                int dirfd = op->in_state_dir ? store->state_fd : store->torrents_fd;
                g_autoptr(GError) error = NULL;
                if (op->kind == RV_STORE_OP_WRITE && op->reason == NULL) {
                        g_autofree char *tmp = g_strconcat(".", op->name, ".tmp", NULL);
                        if (renameat(dirfd, tmp, dirfd, op->name) < 0)
                                rv_store_set_errno(&error, errno, "cannot rename", tmp);
                } else if (op->kind == RV_STORE_OP_DELETE) {
                        if (unlinkat(dirfd, op->name, 0) < 0 && errno != ENOENT)
                                rv_store_set_errno(&error, errno, "cannot delete", op->name);
                } else if (op->kind == RV_STORE_OP_QUARANTINE) {
                        (void)rv_store_quarantine_file(store, dirfd, op->name, op->reason, &error);
                } else if (op->kind == RV_STORE_OP_WRITE) {
                        g_set_error_literal(&error, RV_ERROR, RV_ERROR_UNAVAILABLE, op->reason);
                }
                if (error != NULL && batch_error == NULL)
                        batch_error = g_error_copy(error);
                rv_store_complete(completions, op->waiters, error);
        }
        if (fsync(store->torrents_fd) < 0 || fsync(store->state_fd) < 0)
                g_debug("fsync of the state directory failed: %s, ignoring", g_strerror(errno));

        rv_store_complete(completions, barriers, NULL);
        return g_steal_pointer(&batch_error);
}

typedef struct {
        RvStore *store;
        char *reason;
} RvStoreHealthReport;

/* health belongs to the main loop: the writer reports there */
static gboolean
rv_store_health_cb(gpointer user_data)
{
        RvStoreHealthReport *report = user_data;

        if (report->store->health != NULL) {
                if (report->reason != NULL)
                        rv_health_set_degraded(report->store->health, RV_HEALTH_STORE, report->reason);
                else
                        rv_health_set_ok(report->store->health, RV_HEALTH_STORE);
        }
        g_free(report->reason);
        g_free(report);
        return G_SOURCE_REMOVE;
}

static gpointer
rv_store_writer_thread(gpointer user_data)
{
        RvStore *store = user_data;

        g_mutex_lock(&store->lock);
        for (;;) {
                g_autoptr(GHashTable) batch = NULL;
                g_autoptr(GArray) barriers = NULL;
                g_autoptr(GPtrArray) completions = g_ptr_array_new();
                g_autoptr(GError) batch_error = NULL;

                while (!store->quit && g_hash_table_size(store->pending) == 0 && store->barriers->len == 0)
                        g_cond_wait(&store->cond, &store->lock);
                if (g_hash_table_size(store->pending) == 0 && store->barriers->len == 0 && store->quit)
                        break;
                batch = g_steal_pointer(&store->pending);
                store->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_store_op_free);
                barriers = g_steal_pointer(&store->barriers);
                store->barriers = g_array_new(FALSE, TRUE, sizeof(RvStoreWaiter));
                store->in_flight = g_hash_table_size(batch);
                g_mutex_unlock(&store->lock);

                batch_error = rv_store_run_batch(store, batch, barriers, completions);

                g_mutex_lock(&store->lock);
                store->in_flight = 0;
                /* report a change of fortune, not every batch */
                if ((batch_error != NULL) != (store->failures > 0)) {
                        RvStoreHealthReport *report = g_new0(RvStoreHealthReport, 1);
                        report->store = store;
                        report->reason = batch_error != NULL ? g_strdup(batch_error->message) : NULL;
                        g_main_context_invoke(store->context, rv_store_health_cb, report);
                }
                store->failures = batch_error != NULL ? store->failures + 1 : 0;
                g_cond_broadcast(&store->cond);
                for (guint i = 0; i < completions->len; i++)
                        g_main_context_invoke(store->context, rv_store_completion_cb,
                                              g_ptr_array_index(completions, i));
        }
        g_mutex_unlock(&store->lock);
        return NULL;
}

static gboolean
rv_store_open_dir(const char *path, int *ret_fd, GError **error)
{
        int fd;

        if (g_mkdir_with_parents(path, 0700) < 0) {
                rv_store_set_errno(error, errno, "cannot create directory", path);
                return FALSE;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                rv_store_set_errno(error, errno, "cannot open directory", path);
                return FALSE;
        }
        *ret_fd = fd;
        return TRUE;
}

RvStore *
rv_store_embedded_new(const char *state_dir, RvHealth *health, GError **error)
{
        g_autoptr(RvStore) store = g_new0(RvStore, 1);

        store->torrents_fd = -1;
        store->state_fd = -1;
        store->state_dir = g_strdup(state_dir);
        store->torrents_dir = g_build_filename(state_dir, "torrents", NULL);
        store->health = health;
        store->context = g_main_context_ref_thread_default();
        g_mutex_init(&store->lock);
        g_cond_init(&store->cond);
        store->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_store_op_free);
        store->barriers = g_array_new(FALSE, TRUE, sizeof(RvStoreWaiter));
        if (!rv_store_open_dir(store->state_dir, &store->state_fd, error))
                return NULL;
        if (!rv_store_open_dir(store->torrents_dir, &store->torrents_fd, error))
                return NULL;
        store->thread = g_thread_new("rv-store", rv_store_writer_thread, store);
        return g_steal_pointer(&store);
}

void
rv_store_free(RvStore *store)
{
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
        /* completions posted by the writer must not outlive the store's users; run them now */
        while (g_main_context_iteration(store->context, FALSE))
                ;
        g_hash_table_unref(store->pending);
        g_array_unref(store->barriers);
        g_mutex_clear(&store->lock);
        g_cond_clear(&store->cond);
        if (store->torrents_fd >= 0)
                close(store->torrents_fd);
        if (store->state_fd >= 0)
                close(store->state_fd);
        g_main_context_unref(store->context);
        g_free(store->state_dir);
        g_free(store->torrents_dir);
        g_free(store);
}

const char *
rv_store_get_backend(RvStore *store)
{
        return "embedded";
}

static void
rv_store_enqueue(RvStore *store, RvStoreOpKind kind, char *name, gboolean in_state_dir, GBytes *data,
                 const char *reason, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreOp *op;
        RvStoreOp *old;

        op = g_new0(RvStoreOp, 1);
        op->kind = kind;
        op->name = name;
        op->in_state_dir = in_state_dir;
        op->data = data;
        op->reason = g_strdup(reason);
        op->waiters = g_array_new(FALSE, TRUE, sizeof(RvStoreWaiter));
        if (done != NULL) {
                RvStoreWaiter w = { done, user_data };
                g_array_append_val(op->waiters, w);
        }

        g_mutex_lock(&store->lock);
        old = g_hash_table_lookup(store->pending, op->name);
        if (old != NULL) {
                /* the superseded write's callers learn their data is durable when this one is */
                g_array_append_vals(op->waiters, old->waiters->data, old->waiters->len);
                g_array_set_size(old->waiters, 0);
        }
        g_hash_table_replace(store->pending, op->name, op);
        g_cond_broadcast(&store->cond);
        g_mutex_unlock(&store->lock);
}

void
rv_store_put_torrent(RvStore *store, const RvInfoHash *hash, JsonNode *meta, GBytes *resume, RvStoreDoneFunc done,
                     gpointer user_data)
{
        /* the resume blob goes first so a meta document never points at nothing */
        if (resume != NULL) {
                rv_store_enqueue(store, RV_STORE_OP_WRITE, g_strconcat(hash->hex, ".resume", NULL), FALSE,
                                 g_bytes_ref(resume), NULL, meta == NULL ? done : NULL, user_data);
        }
        if (meta != NULL) {
                g_autoptr(JsonGenerator) gen = json_generator_new();
                gsize len = 0;
                char *text;
                json_generator_set_root(gen, meta);
                json_generator_set_pretty(gen, TRUE);
                text = json_generator_to_data(gen, &len);
                rv_store_enqueue(store, RV_STORE_OP_WRITE, g_strconcat(hash->hex, ".json", NULL), FALSE,
                                 g_bytes_new_take(text, len), NULL, done, user_data);
        }
        if (meta == NULL && resume == NULL)
                rv_store_flush(store, done, user_data);
}

void
rv_store_delete_torrent(RvStore *store, const RvInfoHash *hash, RvStoreDoneFunc done, gpointer user_data)
{
        rv_store_enqueue(store, RV_STORE_OP_DELETE, g_strconcat(hash->hex, ".resume", NULL), FALSE, NULL, NULL, NULL,
                         NULL);
        rv_store_enqueue(store, RV_STORE_OP_DELETE, g_strconcat(hash->hex, ".json", NULL), FALSE, NULL, NULL, done,
                         user_data);
}

void
rv_store_quarantine_torrent(RvStore *store, const RvInfoHash *hash, const char *reason)
{
        g_autofree char *why = g_strdup_printf("torrent %s: %s", hash->hex, reason);

        rv_store_enqueue(store, RV_STORE_OP_QUARANTINE, g_strconcat(hash->hex, ".resume", NULL), FALSE, NULL, why,
                         NULL, NULL);
        rv_store_enqueue(store, RV_STORE_OP_QUARANTINE, g_strconcat(hash->hex, ".json", NULL), FALSE, NULL, why,
                         NULL, NULL);
        if (store->health != NULL)
                rv_health_set_degraded(store->health, RV_HEALTH_RESUME_STORE, why);
}

void
rv_store_put_event_reservation(RvStore *store, guint64 reserved_up_to)
{
        g_autofree char *text = g_strdup_printf("{\"reserved_up_to\": %" G_GUINT64_FORMAT "}\n", reserved_up_to);
        gsize len = strlen(text);

        rv_store_enqueue(store, RV_STORE_OP_WRITE, g_strdup("events.json"), TRUE,
                         g_bytes_new_take(g_steal_pointer(&text), len), NULL, NULL, NULL);
}

void
rv_store_flush(RvStore *store, RvStoreDoneFunc done, gpointer user_data)
{
        RvStoreWaiter w = { done, user_data };

        g_mutex_lock(&store->lock);
        g_array_append_val(store->barriers, w);
        g_cond_broadcast(&store->cond);
        g_mutex_unlock(&store->lock);
}

guint
rv_store_get_pending(RvStore *store)
{
        guint n;

        g_mutex_lock(&store->lock);
        n = g_hash_table_size(store->pending) + store->in_flight;
        g_mutex_unlock(&store->lock);
        return n;
}

/* loading */

static void
rv_store_add_problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
rv_store_add_problem(GPtrArray *problems, const char *fmt, ...)
{
        va_list args;

        va_start(args, fmt);
        g_ptr_array_add(problems, g_strdup_vprintf(fmt, args));
        va_end(args);
}

static guint64
rv_store_read_reservation(RvStore *store, GPtrArray *problems)
{
        g_autofree char *path = g_build_filename(store->state_dir, "events.json", NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        JsonNode *root;
        JsonNode *member;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
                return 0;
        if (!json_parser_load_from_mapped_file(parser, path, &error)) {
                rv_store_add_problem(problems, "event id reservation '%s' is unreadable: %s", path, error->message);
                return 0;
        }
        root = json_parser_get_root(parser);
        member = root != NULL && JSON_NODE_HOLDS_OBJECT(root)
                         ? json_object_get_member(json_node_get_object(root), "reserved_up_to")
                         : NULL;
        if (member == NULL || json_node_get_value_type(member) != G_TYPE_INT64 || json_node_get_int(member) < 0) {
                rv_store_add_problem(problems, "event id reservation '%s' has no valid reserved_up_to", path);
                return 0;
        }
        return (guint64)json_node_get_int(member);
}

static void
rv_store_load_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
        RvStore *store = task_data;
        g_autoptr(RvStoreSnapshot) snapshot = g_new0(RvStoreSnapshot, 1);
        g_autoptr(GHashTable) by_hash = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) error = NULL;
        const char *name;

        snapshot->torrents = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_torrent_free);
        snapshot->problems = g_ptr_array_new_with_free_func(g_free);
        snapshot->event_ids_reserved = rv_store_read_reservation(store, snapshot->problems);

        dir = g_dir_open(store->torrents_dir, 0, &error);
        if (dir == NULL) {
                rv_error_convert(&error);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        while ((name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *path = g_build_filename(store->torrents_dir, name, NULL);
                g_autofree char *stem = NULL;
                RvStoreTorrent *record;
                RvInfoHash hash;
                gboolean is_meta = g_str_has_suffix(name, ".json");
                gboolean is_resume = g_str_has_suffix(name, ".resume");

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
                        rv_store_add_problem(snapshot->problems, "'%s' is not named after an info hash", path);
                        (void)rv_store_quarantine_file(store, store->torrents_fd, name, "not an info hash", &qerr);
                        continue;
                }
                record = g_hash_table_lookup(by_hash, hash.hex);
                if (record == NULL) {
                        record = g_new0(RvStoreTorrent, 1);
                        record->hash = hash;
                        g_ptr_array_add(snapshot->torrents, record);
                        g_hash_table_insert(by_hash, record->hash.hex, record);
                }
                if (is_resume) {
                        g_autofree char *contents = NULL;
                        gsize len = 0;
                        if (!g_file_get_contents(path, &contents, &len, &error)) {
                                rv_store_add_problem(snapshot->problems, "cannot read '%s': %s", path,
                                                     error->message);
                                g_clear_error(&error);
                                continue;
                        }
                        record->resume = g_bytes_new_take(g_steal_pointer(&contents), len);
                } else {
                        g_autoptr(JsonParser) parser = json_parser_new_immutable();
                        JsonNode *root = NULL;
                        if (json_parser_load_from_mapped_file(parser, path, &error)) {
                                root = json_parser_get_root(parser);
                                if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
                                        g_set_error_literal(&error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                            "not a JSON object");
                        }
                        if (error != NULL) {
                                g_autoptr(GError) qerr = NULL;
                                rv_store_add_problem(snapshot->problems, "metadata '%s' is corrupt (%s), moved aside",
                                                     path, error->message);
                                (void)rv_store_quarantine_file(store, store->torrents_fd, name, error->message, &qerr);
                                g_clear_error(&error);
                                continue;
                        }
                        record->meta = json_node_ref(root);
                }
        }
        g_task_return_pointer(task, g_steal_pointer(&snapshot), (GDestroyNotify)rv_store_snapshot_free);
}

guint64
rv_store_read_event_reservation(RvStore *store, GError **error)
{
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
        guint64 value = rv_store_read_reservation(store, problems);

        if (problems->len > 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, g_ptr_array_index(problems, 0));
                return 0;
        }
        return value;
}

void
rv_store_load_async(RvStore *store, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
        g_task_set_task_data(task, store, NULL);
        g_task_run_in_thread(task, rv_store_load_thread);
}

RvStoreSnapshot *
rv_store_load_finish(RvStore *store, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
        return g_task_propagate_pointer(G_TASK(result), error);
}
