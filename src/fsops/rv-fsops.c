/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-fsops"

#include "config.h"

#include <string.h>

#include "rv-fsops-error.h"
#include "rv-fsops-pipeline.h"
#include "rv-fsops.h"
#include "rv-context.h"
#include "rv-json.h"

/* FsState values */
#define RV_FS_STATE_IDLE "idle"
#define RV_FS_STATE_QUEUED "queued"
#define RV_FS_STATE_RUNNING "running"
#define RV_FS_STATE_RETRYING "retrying"
#define RV_FS_STATE_DONE "done"
#define RV_FS_STATE_FAILED "failed"

/* a pipeline of one torrent, from queued until it is done, failed or the torrent is gone */
typedef struct {
        RvFsops *self;
        RvInfoHash hash;
        GCancellable *cancellable;
        /* failures so far of this run, for the backoff */
        guint attempt;
        guint backoff_id;
        /* in a worker now */
        gboolean running;
        gboolean queued;
        /* libtorrent moves the data into this folder (move mode); the worker goes on when it has */
        char *move_target;
        /* the torrent went while the worker ran; its work folder goes after it (may be NULL) */
        gboolean dropped;
        RvFsJobSpec *sweep;
} RvFsJob;

struct _RvFsops {
        RvManager *manager;
        RvLiveSettings *settings;
        RvEventBus *events;
        GMainContext *context;
        guint subscription;
        /* hex -> RvFsJob */
        GHashTable *jobs;
        /* RvFsJob waiting for a worker, oldest first (borrowed) */
        GQueue queue;
        guint running;
        gint64 throttle_bps;
        RvFsFault *fault;
        guint backoff_ms;
        gboolean stopping;
};

/* what a worker reports, marshalled to the main loop */
typedef struct {
        RvFsops *self;
        char hex[RV_INFO_HASH_HEX_LEN + 1];
        char *step;
        char *status;
} RvFsStepReport;

/* what a worker gets and gives back */
typedef struct {
        RvFsJobSpec *spec;
        RvFsRunResult result;
        char *library_path;
        RvFsStepReport report;
} RvFsWork;

static void rv_fsops_pump(RvFsops *self);

static RvFsops *
rv_fsops_ref(RvFsops *self)
{
        return g_atomic_rc_box_acquire(self);
}

static void
rv_fsops_clear(RvFsops *self)
{
        g_hash_table_unref(self->jobs);
        g_main_context_unref(self->context);
        g_clear_pointer(&self->fault, rv_fs_fault_unref);
}

static void
rv_fsops_unref(RvFsops *self)
{
        g_atomic_rc_box_release_full(self, (GDestroyNotify)rv_fsops_clear);
}

static void
rv_fs_job_free(RvFsJob *job)
{
        if (job->backoff_id != 0)
                g_source_remove(job->backoff_id);
        g_object_unref(job->cancellable);
        g_free(job->move_target);
        rv_fs_job_spec_free(job->sweep);
        g_free(job);
}

static void
rv_fs_work_free(RvFsWork *work)
{
        rv_fs_job_spec_free(work->spec);
        g_free(work->library_path);
        g_free(work);
}

/* the torrent's fs fields, stored and announced */
static void
rv_fsops_set(RvFsops *self, RvTorrent *torrent, const char *state, const char *error, const char *library_path)
{
        g_free(torrent->fs_state);
        torrent->fs_state = g_strdup(state);
        g_free(torrent->fs_error);
        torrent->fs_error = g_strdup(error);
        if (library_path != NULL) {
                g_free(torrent->library_path);
                torrent->library_path = g_strdup(library_path);
        }
        rv_manager_fs_changed(self->manager, torrent);
}

static void
rv_fsops_publish(RvFsops *self, RvEventKind kind, RvTorrent *torrent, JsonObject *obj)
{
        if (torrent->name != NULL)
                json_object_set_string_member(obj, "name", torrent->name);
        rv_event_bus_publish(self->events, kind, &torrent->hash, rv_json_node_take_object(obj));
}

static const char *
rv_fsops_state(const RvTorrent *torrent)
{
        return torrent->fs_state != NULL ? torrent->fs_state : RV_FS_STATE_IDLE;
}

/* a worker's step reports */

static gboolean
rv_fsops_step_report_cb(gpointer user_data)
{
        RvFsStepReport *r = user_data;
        RvInfoHash hash;
        RvTorrent *torrent;
        JsonObject *obj;

        if (r->self->stopping || !rv_info_hash_parse(r->hex, &hash))
                return G_SOURCE_REMOVE;
        torrent = rv_manager_lookup(r->self->manager, &hash);
        if (torrent == NULL)
                return G_SOURCE_REMOVE;
        obj = json_object_new();
        json_object_set_string_member(obj, "step", r->step);
        json_object_set_string_member(obj, "status", r->status);
        rv_fsops_publish(r->self, RV_EVENT_FSOPS_STEP, torrent, obj);
        return G_SOURCE_REMOVE;
}

static void
rv_fsops_step_report_free(RvFsStepReport *r)
{
        rv_fsops_unref(r->self);
        g_free(r->step);
        g_free(r->status);
        g_free(r);
}

/* in the worker */
static void
rv_fsops_step_cb(const char *step, const char *status, gpointer user_data)
{
        RvFsWork *work = user_data;
        RvFsStepReport *r = g_new0(RvFsStepReport, 1);

        r->self = rv_fsops_ref(work->report.self);
        g_strlcpy(r->hex, work->report.hex, sizeof(r->hex));
        r->step = g_strdup(step);
        r->status = g_strdup(status);
        rv_context_post(r->self->context, G_PRIORITY_DEFAULT, rv_fsops_step_report_cb, r,
                        (GDestroyNotify)rv_fsops_step_report_free);
}

static void
rv_fsops_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        RvFsWork *work = task_data;
        GError *error = NULL;

        work->result = rv_fs_pipeline_run(work->spec, cancellable, rv_fsops_step_cb, work, &work->library_path, &error);
        if (error != NULL)
                g_task_return_error(task, error);
        else
                g_task_return_boolean(task, TRUE);
}

/* starting a worker */

/* the wanted files of a torrent, as libtorrent names them */
static void
rv_fsops_spec_files(const RvTorrent *torrent, GPtrArray *out)
{
        g_autofree guint8 *prio = NULL;
        gsize n = 0;

        prio = rv_torrent_compute_priorities(torrent, &n);
        for (guint i = 0; torrent->files != NULL && i < torrent->files->len; i++) {
                const RvEngineFile *f = g_ptr_array_index(torrent->files, i);
                if (f->pad || (i < n && prio[i] == RV_FILE_PRIORITY_SKIP))
                        continue;
                g_ptr_array_add(out, rv_fs_file_new(f->path, f->size));
        }
}

static RvFsJobSpec *
rv_fsops_spec(RvFsops *self, const RvTorrent *torrent, GError **error)
{
        g_autoptr(RvFsJobSpec) spec = rv_fs_job_spec_new();

        spec->policy = rv_fs_policy_from_json(torrent->fs_policy, error);
        if (spec->policy == NULL)
                return NULL;
        spec->info_hash = g_strdup(torrent->hash.hex);
        spec->name = g_strdup(torrent->name != NULL ? torrent->name : torrent->hash.hex);
        spec->save_path = g_strdup(torrent->save_path);
        spec->throttle_bps = self->throttle_bps;
        spec->fault = self->fault != NULL ? rv_fs_fault_ref(self->fault) : NULL;
        rv_fsops_spec_files(torrent, spec->files);
        return g_steal_pointer(&spec);
}

static void rv_fsops_work_done_cb(GObject *source, GAsyncResult *result, gpointer user_data);
static void rv_fsops_finish(RvFsops *self, RvFsJob *job, RvTorrent *torrent, const GError *error);

static void
rv_fsops_start_job(RvFsops *self, RvFsJob *job)
{
        RvTorrent *torrent = rv_manager_lookup(self->manager, &job->hash);
        g_autoptr(GTask) task = NULL;
        g_autoptr(GError) error = NULL;
        RvFsWork *work;
        RvFsJobSpec *spec;

        job->queued = FALSE;
        if (torrent == NULL || torrent->removing) {
                g_hash_table_remove(self->jobs, job->hash.hex);
                return;
        }
        spec = rv_fsops_spec(self, torrent, &error);
        if (spec == NULL) {
                g_autoptr(GError) named = NULL;
                rv_fs_set_error(&named, RV_FS_FAILURE_INTERNAL, "%s", error->message);
                rv_fsops_finish(self, job, torrent, named);
                return;
        }
        work = g_new0(RvFsWork, 1);
        work->spec = spec;
        work->report.self = self;
        g_strlcpy(work->report.hex, job->hash.hex, sizeof(work->report.hex));
        job->running = TRUE;
        self->running++;
        if (g_strcmp0(torrent->fs_state, RV_FS_STATE_RUNNING) != 0)
                rv_fsops_set(self, torrent, RV_FS_STATE_RUNNING, NULL, NULL);
        g_debug("pipeline of %s starts (attempt %u)", job->hash.hex, job->attempt + 1);
        task = g_task_new(NULL, job->cancellable, rv_fsops_work_done_cb, rv_fsops_ref(self));
        g_task_set_task_data(task, work, (GDestroyNotify)rv_fs_work_free);
        g_task_set_name(task, "revaer fsops");
        g_task_run_in_thread(task, rv_fsops_worker);
}

static void
rv_fsops_pump(RvFsops *self)
{
        while (!self->stopping && self->running < RV_FSOPS_MAX_RUNNING && !g_queue_is_empty(&self->queue))
                rv_fsops_start_job(self, g_queue_pop_head(&self->queue));
}

static void
rv_fsops_enqueue(RvFsops *self, RvFsJob *job)
{
        if (job->queued || job->running)
                return;
        job->queued = TRUE;
        g_queue_push_tail(&self->queue, job);
        rv_fsops_pump(self);
}

static RvFsJob *
rv_fsops_job_new(RvFsops *self, const RvInfoHash *hash)
{
        RvFsJob *job = g_new0(RvFsJob, 1);

        job->self = self;
        job->hash = *hash;
        job->cancellable = g_cancellable_new();
        g_hash_table_insert(self->jobs, job->hash.hex, job);
        return job;
}

static void
rv_fsops_forget(RvFsops *self, RvFsJob *job)
{
        g_queue_remove(&self->queue, job);
        g_hash_table_remove(self->jobs, job->hash.hex);
}

/* results */

static gboolean
rv_fsops_backoff_cb(gpointer user_data)
{
        RvFsJob *job = user_data;

        job->backoff_id = 0;
        rv_fsops_enqueue(job->self, job);
        return G_SOURCE_REMOVE;
}

/* a failure: tried again after a while when it may pass, else final */
static void
rv_fsops_finish(RvFsops *self, RvFsJob *job, RvTorrent *torrent, const GError *error)
{
        RvFsFailure failure = rv_fs_failure_from_error(error);
        g_autoptr(RvFsPolicy) policy = rv_fs_policy_from_json(torrent->fs_policy, NULL);
        guint allowed = rv_fs_failure_retries(failure);
        JsonObject *obj = json_object_new();

        if (allowed == G_MAXUINT)
                allowed = policy != NULL ? policy->retry_attempts : 0;
        json_object_set_string_member(obj, "failure", rv_fs_failure_to_string(failure));
        json_object_set_string_member(obj, "error", error->message);
        json_object_set_int_member(obj, "attempt", job->attempt + 1);
        if (job->attempt < allowed) {
                guint delay = MIN(self->backoff_ms << MIN(job->attempt, 16), RV_FSOPS_BACKOFF_MAX_MS);
                job->attempt++;
                json_object_set_int_member(obj, "retry_in_ms", delay);
                rv_fsops_set(self, torrent, RV_FS_STATE_RETRYING, error->message, NULL);
                rv_fsops_publish(self, RV_EVENT_FSOPS_FAILED, torrent, obj);
                job->backoff_id = g_timeout_add(delay, rv_fsops_backoff_cb, job);
                return;
        }
        rv_fsops_set(self, torrent, RV_FS_STATE_FAILED, error->message, NULL);
        rv_fsops_publish(self, RV_EVENT_FSOPS_FAILED, torrent, obj);
        rv_fsops_forget(self, job);
}

/* move mode: libtorrent moves the data into the library and seeds it from there */
static void
rv_fsops_request_move(RvFsops *self, RvFsJob *job, RvTorrent *torrent)
{
        g_autoptr(RvFsPolicy) policy = rv_fs_policy_from_json(torrent->fs_policy, NULL);
        g_autoptr(GError) error = NULL;

        g_free(job->move_target);
        job->move_target = policy != NULL && policy->library_root != NULL
                                   ? g_canonicalize_filename(policy->library_root, "/")
                                   : NULL;
        if (job->move_target == NULL || !rv_manager_move_storage(self->manager, torrent, job->move_target, &error)) {
                g_autoptr(GError) named = NULL;
                rv_fs_set_error(&named, RV_FS_FAILURE_MOVE_FAILED, "cannot move the data into the library: %s",
                                error != NULL ? error->message : "no library root");
                g_clear_pointer(&job->move_target, g_free);
                rv_fsops_finish(self, job, torrent, named);
        }
}

/* in a worker: the work folder of a removed torrent (its journal and anything half-made) goes */
static void
rv_fsops_sweep_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        g_autoptr(GError) error = NULL;

        if (!rv_fs_work_remove(task_data, &error))
                g_debug("cannot remove a work folder: %s, ignoring", error->message);
        g_task_return_boolean(task, TRUE);
}

/* where the work folder of a torrent is, kept past the torrent */
static RvFsJobSpec *
rv_fsops_sweep_spec(const RvTorrent *torrent)
{
        g_autoptr(RvFsJobSpec) spec = rv_fs_job_spec_new();

        spec->policy = rv_fs_policy_from_json(torrent->fs_policy, NULL);
        if (spec->policy == NULL || torrent->save_path == NULL)
                return NULL;
        spec->info_hash = g_strdup(torrent->hash.hex);
        spec->save_path = g_strdup(torrent->save_path);
        return g_steal_pointer(&spec);
}

static void
rv_fsops_sweep(RvFsJobSpec *spec)
{
        g_autoptr(GTask) task = NULL;

        if (spec == NULL)
                return;
        task = g_task_new(NULL, NULL, NULL, NULL);
        g_task_set_task_data(task, spec, (GDestroyNotify)rv_fs_job_spec_free);
        g_task_set_name(task, "revaer fsops sweep");
        g_task_run_in_thread(task, rv_fsops_sweep_worker);
}

static void
rv_fsops_work_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvFsops *self = user_data;
        GTask *task = G_TASK(result);
        RvFsWork *work = g_task_get_task_data(task);
        RvFsJob *job = g_hash_table_lookup(self->jobs, work->spec->info_hash);
        g_autoptr(GError) error = NULL;
        RvTorrent *torrent;

        (void)g_task_propagate_boolean(task, &error);
        self->running--;
        if (job == NULL || self->stopping) {
                rv_fsops_unref(self);
                return;
        }
        job->running = FALSE;
        torrent = rv_manager_lookup(self->manager, &job->hash);
        if (job->dropped || torrent == NULL || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                rv_fsops_sweep(g_steal_pointer(&job->sweep));
                rv_fsops_forget(self, job);
        } else if (work->result == RV_FS_RUN_DONE) {
                JsonObject *obj = json_object_new();
                json_object_set_string_member(obj, "library_path", work->library_path);
                rv_fsops_set(self, torrent, RV_FS_STATE_DONE, NULL, work->library_path);
                rv_fsops_publish(self, RV_EVENT_FSOPS_COMPLETED, torrent, obj);
                rv_fsops_forget(self, job);
        } else if (work->result == RV_FS_RUN_NEEDS_MOVE) {
                rv_fsops_request_move(self, job, torrent);
        } else {
                rv_fsops_finish(self, job, torrent, error);
        }
        rv_fsops_pump(self);
        rv_fsops_unref(self);
}

/* what happens to torrents */

/* freezes the policy of a torrent that completed (or is retried) and queues its pipeline */
static gboolean
rv_fsops_begin(RvFsops *self, RvTorrent *torrent)
{
        g_autoptr(RvFsPolicy) policy =
                rv_fs_policy_resolve(rv_live_settings_get_document(self->settings),
                                     (const char *const *)torrent->labels, torrent->fs_overrides);
        RvFsJob *job;

        if (!rv_fs_policy_has_work(policy))
                return FALSE;
        if (torrent->fs_policy != NULL)
                json_node_unref(torrent->fs_policy);
        torrent->fs_policy = rv_fs_policy_to_json(policy);
        g_clear_pointer(&torrent->library_path, g_free);
        rv_fsops_set(self, torrent, RV_FS_STATE_QUEUED, NULL, NULL);
        job = g_hash_table_lookup(self->jobs, torrent->hash.hex);
        if (job == NULL)
                job = rv_fsops_job_new(self, &torrent->hash);
        rv_fsops_enqueue(self, job);
        return TRUE;
}

static void
rv_fsops_removed(RvFsops *self, const RvInfoHash *hash)
{
        RvFsJob *job = g_hash_table_lookup(self->jobs, hash->hex);
        RvTorrent *torrent = rv_manager_lookup(self->manager, hash);

        RvFsJobSpec *sweep = torrent != NULL && torrent->fs_policy != NULL ? rv_fsops_sweep_spec(torrent) : NULL;

        if (job != NULL && job->running) {
                /* the worker still holds the folder: it goes when the worker has let go */
                g_cancellable_cancel(job->cancellable);
                job->dropped = TRUE;
                job->sweep = sweep;
                return;
        }
        if (job != NULL)
                rv_fsops_forget(self, job);
        rv_fsops_sweep(sweep);
}

/* libtorrent has moved the data where the pipeline asked: it goes on from there */
static void
rv_fsops_save_path_changed(RvFsops *self, RvTorrent *torrent, RvFsJob *job)
{
        g_autofree char *now = NULL;

        if (torrent == NULL || job == NULL || job->move_target == NULL || torrent->save_path == NULL)
                return;
        now = g_canonicalize_filename(torrent->save_path, "/");
        if (!g_str_equal(now, job->move_target))
                return;
        g_clear_pointer(&job->move_target, g_free);
        rv_fsops_enqueue(self, job);
}

static void
rv_fsops_event_cb(const RvEvent *event, gpointer user_data)
{
        RvFsops *self = user_data;
        RvTorrent *torrent = event->has_hash ? rv_manager_lookup(self->manager, &event->hash) : NULL;
        RvFsJob *job = event->has_hash ? g_hash_table_lookup(self->jobs, event->hash.hex) : NULL;

        switch (event->kind) {
        case RV_EVENT_COMPLETED:
                if (torrent != NULL && job == NULL)
                        (void)rv_fsops_begin(self, torrent);
                break;
        case RV_EVENT_TORRENT_REMOVED:
                rv_fsops_removed(self, &event->hash);
                break;
        case RV_EVENT_TORRENT_FAILED:
                /* a move libtorrent could not make */
                if (torrent != NULL && job != NULL && job->move_target != NULL) {
                        JsonObject *obj = json_node_get_object(event->data);
                        g_autoptr(GError) named = NULL;
                        rv_fs_set_error(&named, RV_FS_FAILURE_MOVE_FAILED, "cannot move the data into the library: %s",
                                        json_object_get_string_member_with_default(obj, "message", "unknown"));
                        g_clear_pointer(&job->move_target, g_free);
                        rv_fsops_finish(self, job, torrent, named);
                }
                break;
        default:
                if (event->fields & RV_TORRENT_FIELD_SAVE_PATH)
                        rv_fsops_save_path_changed(self, torrent, job);
                break;
        }
}

static gboolean
rv_fsops_retry_cb(RvTorrent *torrent, gpointer user_data, GError **error)
{
        return rv_fsops_retry(user_data, torrent, error);
}

gboolean
rv_fsops_retry(RvFsops *self, RvTorrent *torrent, GError **error)
{
        RvFsJob *job = g_hash_table_lookup(self->jobs, torrent->hash.hex);

        if (!torrent->completed) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s has not completed", torrent->hash.hex);
                return FALSE;
        }
        if (job != NULL && job->backoff_id != 0) {
                /* waiting to try again: now */
                g_source_remove(job->backoff_id);
                job->backoff_id = 0;
                job->attempt = 0;
                rv_fsops_enqueue(self, job);
                return TRUE;
        }
        if (job != NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "the pipeline of %s is %s", torrent->hash.hex,
                            rv_fsops_state(torrent));
                return FALSE;
        }
        if (g_str_equal(rv_fsops_state(torrent), RV_FS_STATE_DONE)) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "the result of %s is in the library already (%s)",
                            torrent->hash.hex, torrent->library_path != NULL ? torrent->library_path : "");
                return FALSE;
        }
        if (!rv_fsops_begin(self, torrent)) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT,
                            "the policy of %s asks for nothing (no library root, extraction or PAR2)",
                            torrent->hash.hex);
                return FALSE;
        }
        return TRUE;
}

void
rv_fsops_start(RvFsops *self)
{
        GPtrArray *all = rv_manager_list(self->manager);

        for (guint i = 0; i < all->len; i++) {
                RvTorrent *t = g_ptr_array_index(all, i);
                const char *state = rv_fsops_state(t);
                RvFsJob *job;
                if (!t->completed || g_hash_table_contains(self->jobs, t->hash.hex) ||
                    !(g_str_equal(state, RV_FS_STATE_QUEUED) || g_str_equal(state, RV_FS_STATE_RUNNING) ||
                      g_str_equal(state, RV_FS_STATE_RETRYING)))
                        continue;
                /* the policy frozen at completion: a settings change since does not touch it */
                if (t->fs_policy == NULL) {
                        (void)rv_fsops_begin(self, t);
                        continue;
                }
                g_debug("resuming the pipeline of %s", t->hash.hex);
                job = rv_fsops_job_new(self, &t->hash);
                rv_fsops_enqueue(self, job);
        }
}

guint
rv_fsops_get_running(RvFsops *self)
{
        return self->running;
}

RvFsops *
rv_fsops_new(RvManager *manager, RvLiveSettings *settings)
{
        RvFsops *self = g_atomic_rc_box_new0(RvFsops);
        const char *throttle = g_getenv("REVAER_FSOPS_THROTTLE");
        const char *backoff = g_getenv("REVAER_FSOPS_BACKOFF_MS");

        self->manager = manager;
        self->settings = settings;
        self->events = rv_manager_get_events(manager);
        self->context = g_main_context_ref_thread_default();
        self->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_fs_job_free);
        g_queue_init(&self->queue);
        /* tests and benchmarks hold the pipeline's writes to a rate, to stop it at a known point */
        if (throttle != NULL)
                self->throttle_bps = g_ascii_strtoll(throttle, NULL, 10);
        /* and inject faults into a step, and wait longer or shorter before a retry */
        self->fault = rv_fs_fault_parse(g_getenv("REVAER_FSOPS_FAULT"));
        self->backoff_ms = backoff != NULL
                                   ? (guint)CLAMP(g_ascii_strtoll(backoff, NULL, 10), 1, RV_FSOPS_BACKOFF_MAX_MS)
                                   : RV_FSOPS_BACKOFF_MS;
        self->subscription = rv_event_bus_subscribe(self->events, rv_fsops_event_cb, self);
        rv_manager_set_fs_retry_func(manager, rv_fsops_retry_cb, self);
        return self;
}

void
rv_fsops_free(RvFsops *self)
{
        GHashTableIter iter;
        gpointer value;
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        if (self == NULL)
                return;
        self->stopping = TRUE;
        rv_manager_set_fs_retry_func(self->manager, NULL, NULL);
        rv_event_bus_unsubscribe(self->events, self->subscription);
        g_hash_table_iter_init(&iter, self->jobs);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                RvFsJob *job = value;
                g_cancellable_cancel(job->cancellable);
                if (job->backoff_id != 0) {
                        g_source_remove(job->backoff_id);
                        job->backoff_id = 0;
                }
        }
        /* a worker notices within one chunk; its journal keeps where it was */
        while (self->running > 0 && g_get_monotonic_time() < deadline)
                g_main_context_iteration(self->context, TRUE);
        if (self->running > 0)
                g_debug("%u pipelines did not stop in time, ignoring", self->running);
        g_queue_clear(&self->queue);
        rv_fsops_unref(self);
}
