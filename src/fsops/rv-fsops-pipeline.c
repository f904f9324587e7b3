/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-fsops-run.h"

#define RV_FS_WORK_ROOT ".revaer"

const char *const rv_fs_step_names[] = {
        "move", "par2", "extract", "place", "flatten", "cleanup", "permissions", "commit", NULL,
};

static gboolean rv_fs_step_move_plan(RvFsRun *run);
static gboolean rv_fs_step_move_run(RvFsRun *run, GError **error);

static const RvFsStep rv_fs_steps[] = {
        { "move", rv_fs_step_move_plan, rv_fs_step_move_run },
        { "par2", rv_fs_step_par2_plan, rv_fs_step_par2_run },
        { "extract", rv_fs_step_extract_plan, rv_fs_step_extract_run },
        { "place", rv_fs_step_place_plan, rv_fs_step_place_run },
        { "flatten", rv_fs_step_flatten_plan, rv_fs_step_flatten_run },
        { "cleanup", rv_fs_step_cleanup_plan, rv_fs_step_cleanup_run },
        { "permissions", rv_fs_step_permissions_plan, rv_fs_step_permissions_run },
        { "commit", rv_fs_step_commit_plan, rv_fs_step_commit_run },
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_fs_steps) + 1 == G_N_ELEMENTS(rv_fs_step_names));

/* a step that reports this is not failed: the main loop has work to do first */
#define RV_FS_NEEDS_MOVE "needs-move"

RvFsJobSpec *
rv_fs_job_spec_new(void)
{
        RvFsJobSpec *spec = g_new0(RvFsJobSpec, 1);

        spec->files = g_ptr_array_new_with_free_func((GDestroyNotify)rv_fs_file_free);
        return spec;
}

void
rv_fs_job_spec_free(RvFsJobSpec *spec)
{
        if (spec == NULL)
                return;
        g_free(spec->info_hash);
        g_clear_pointer(&spec->fault, rv_fs_fault_unref);
        g_free(spec->name);
        g_free(spec->save_path);
        g_ptr_array_unref(spec->files);
        rv_fs_policy_free(spec->policy);
        g_free(spec);
}

char *
rv_fs_work_dir(const char *library, const char *info_hash)
{
        return g_build_filename(library, RV_FS_WORK_ROOT, info_hash, NULL);
}

gboolean
rv_fs_work_remove(const RvFsJobSpec *spec, GError **error)
{
        const char *library = rv_fs_policy_library(spec->policy, spec->save_path);
        g_autoptr(RvFsDir) root =
                rv_fs_dir_open_confined(library, (const char *const *)spec->policy->allowed_paths, FALSE, error);
        g_autoptr(RvFsDir) works = NULL;

        if (root == NULL)
                return FALSE;
        if (!rv_fs_exists_at(root->fd, RV_FS_WORK_ROOT))
                return TRUE;
        works = rv_fs_dir_open_at(root, RV_FS_WORK_ROOT, FALSE, error);
        return works != NULL && rv_fs_remove_tree_at(works->fd, spec->info_hash, error);
}

/* move: libtorrent moves the data into the library (move_storage) and seeds it from there */

static gboolean
rv_fs_step_move_plan(RvFsRun *run)
{
        return run->policy->move_mode == RV_FS_MOVE_MOVE && run->policy->library_root != NULL;
}

static gboolean
rv_fs_step_move_run(RvFsRun *run, GError **error)
{
        if (run->same_place)
                return TRUE;
        g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE, RV_FS_NEEDS_MOVE);
        return FALSE;
}

static void
rv_fs_run_clear(RvFsRun *run)
{
        g_clear_pointer(&run->source, rv_fs_dir_free);
        g_clear_pointer(&run->library, rv_fs_dir_free);
        g_clear_pointer(&run->work, rv_fs_dir_free);
        g_clear_pointer(&run->journal, rv_fs_journal_free);
        g_clear_pointer(&run->archives, g_ptr_array_unref);
        g_clear_pointer(&run->consumed, g_hash_table_unref);
        g_clear_pointer(&run->detail, json_object_unref);
}

/* what the library does not get: the volumes of archives that are extracted, par2 sets that are checked */
static void
rv_fs_run_consumed(RvFsRun *run)
{
        run->consumed = g_hash_table_new(g_str_hash, g_str_equal);
        if (rv_fs_step_extract_plan(run)) {
                for (guint i = 0; i < run->archives->len; i++) {
                        RvFsArchive *archive = g_ptr_array_index(run->archives, i);
                        for (guint v = 0; v < archive->volumes->len; v++)
                                g_hash_table_add(run->consumed, g_ptr_array_index(archive->volumes, v));
                }
        }
        if (rv_fs_step_par2_plan(run)) {
                for (guint i = 0; i < run->spec->files->len; i++) {
                        RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                        g_autofree char *lower = g_ascii_strdown(f->path, -1);
                        if (g_str_has_suffix(lower, ".par2"))
                                g_hash_table_add(run->consumed, f->path);
                }
        }
}

/* the journal of an earlier run of the same policy, else a new one (and the old work cleared away) */
static gboolean
rv_fs_run_journal(RvFsRun *run, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autoptr(RvFsJournal) old = rv_fs_journal_load(run->work->fd, &error_local);
        g_autoptr(JsonNode) policy = rv_fs_policy_to_json(run->policy);

        if (old != NULL && g_str_equal(rv_fs_journal_get_hash(old), run->spec->info_hash) &&
            json_node_equal(rv_fs_journal_get_policy(old), policy)) {
                run->journal = g_steal_pointer(&old);
                rv_fs_journal_set_state(run->journal, "running");
                return rv_fs_journal_save(run->journal, run->work->fd, FALSE, error);
        }
        /* another policy (a Retry after a settings change) or no usable journal: start over */
        for (guint i = 0; i < 3; i++) {
                const char *const dirs[] = { RV_FS_WORK_TREE, RV_FS_WORK_EXTRACTED, RV_FS_WORK_PAR2 };
                if (!rv_fs_remove_tree_at(run->work->fd, dirs[i], error))
                        return FALSE;
        }
        run->journal = rv_fs_journal_new(run->spec->info_hash, run->spec->name, policy);
        return rv_fs_journal_save(run->journal, run->work->fd, FALSE, error);
}

static gboolean
rv_fs_run_open(RvFsRun *run, GError **error)
{
        const char *const *allowed = (const char *const *)run->policy->allowed_paths;
        const char *library = rv_fs_policy_library(run->policy, run->spec->save_path);
        g_autofree char *work = g_build_filename(RV_FS_WORK_ROOT, run->spec->info_hash, NULL);
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        for (guint i = 0; i < run->spec->files->len; i++) {
                RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                if (!rv_fs_check_relpath(f->path, "the torrent's file", error))
                        return FALSE;
        }
        run->source = rv_fs_dir_open_confined(run->spec->save_path, allowed, FALSE, error);
        if (run->source == NULL)
                return FALSE;
        run->library = rv_fs_dir_open_confined(library, allowed, TRUE, error);
        if (run->library == NULL)
                return FALSE;
        run->work = rv_fs_dir_open_at(run->library, work, TRUE, error);
        if (run->work == NULL)
                return FALSE;
        a = g_canonicalize_filename(run->spec->save_path, "/");
        b = g_canonicalize_filename(library, "/");
        run->same_place = g_str_equal(a, b);
        run->archives = rv_fs_archives_find(run->spec->files);
        rv_fs_run_consumed(run);
        return rv_fs_run_journal(run, error);
}

RvFsFault *
rv_fs_fault_parse(const char *text)
{
        static const struct {
                const char *name;
                int errsv;
        } known[] = { { "EIO", EIO }, { "EBUSY", EBUSY }, { "ENOSPC", ENOSPC }, { "EACCES", EACCES } };
        g_auto(GStrv) parts = text != NULL ? g_strsplit(text, ":", 3) : NULL;
        RvFsFault *fault;

        if (parts == NULL || g_strv_length(parts) != 3)
                return NULL;
        for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
                if (g_str_equal(parts[1], known[i].name)) {
                        fault = g_atomic_rc_box_new0(RvFsFault);
                        fault->step = g_strdup(parts[0]);
                        fault->errsv = known[i].errsv;
                        fault->left = (gint)g_ascii_strtoll(parts[2], NULL, 10);
                        return fault;
                }
        }
        return NULL;
}

RvFsFault *
rv_fs_fault_ref(RvFsFault *fault)
{
        return g_atomic_rc_box_acquire(fault);
}

static void
rv_fs_fault_clear(RvFsFault *fault)
{
        g_free(fault->step);
}

void
rv_fs_fault_unref(RvFsFault *fault)
{
        g_atomic_rc_box_release_full(fault, (GDestroyNotify)rv_fs_fault_clear);
}

/* TRUE (and error set) when the fault is due at this step */
static gboolean
rv_fs_fault_hit(RvFsFault *fault, const char *step, GError **error)
{
        gint left;

        if (fault == NULL || !g_str_equal(fault->step, step))
                return FALSE;
        do {
                left = g_atomic_int_get(&fault->left);
                if (left <= 0)
                        return FALSE;
        } while (!g_atomic_int_compare_and_exchange(&fault->left, left, left - 1));
        rv_fs_set_errno(error, fault->errsv, "a fault injected into step %s", step);
        return TRUE;
}

/*
 * a step's end is synced when running it again would cost: not for a
 * placement of links only (redone in a moment, finding what is there), nor
 * for the commit, whose record the finish that follows at once syncs
 */
static gboolean
rv_fs_step_end_durable(const RvFsStep *step, JsonObject *detail)
{
        if (g_str_equal(step->name, "commit"))
                return FALSE;
        if (g_str_equal(step->name, "place"))
                return json_object_get_int_member_with_default(detail, "copied", 0) > 0;
        return TRUE;
}

static gboolean
rv_fs_run_step(RvFsRun *run, const RvFsStep *step, RvFsStepFunc func, gpointer data, GError **error)
{
        const char *state = rv_fs_journal_step_state(run->journal, step->name);
        g_autoptr(GError) error_local = NULL;
        gboolean durable;

        if (g_str_equal(state, "done") || g_str_equal(state, "skipped"))
                return TRUE;
        /* a skipped step is planned the same way again: it is written with the next record that is */
        if (!step->plan(run)) {
                rv_fs_journal_step_end(run->journal, step->name, "skipped", NULL, NULL);
                if (func != NULL)
                        func(step->name, "skipped", data);
                return TRUE;
        }
        rv_fs_journal_step_begin(run->journal, step->name);
        if (!rv_fs_journal_save(run->journal, run->work->fd, FALSE, error))
                return FALSE;
        if (func != NULL)
                func(step->name, "running", data);
        run->detail = json_object_new();
        if (rv_fs_fault_hit(run->spec->fault, step->name, &error_local) || !step->run(run, &error_local)) {
                if (g_error_matches(error_local, RV_ERROR, RV_ERROR_UNAVAILABLE) &&
                    g_str_equal(error_local->message, RV_FS_NEEDS_MOVE)) {
                        g_clear_pointer(&run->detail, json_object_unref);
                        g_propagate_error(error, g_steal_pointer(&error_local));
                        return FALSE;
                }
                /* a cancelled step is not failed: it runs again at the next start */
                if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                        rv_fs_journal_step_end(run->journal, step->name, "failed", g_steal_pointer(&run->detail),
                                               error_local->message);
                        (void)rv_fs_journal_save(run->journal, run->work->fd, TRUE, NULL);
                        if (func != NULL)
                                func(step->name, "failed", data);
                }
                g_clear_pointer(&run->detail, json_object_unref);
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        durable = rv_fs_step_end_durable(step, run->detail);
        rv_fs_journal_step_end(run->journal, step->name, "done", g_steal_pointer(&run->detail), NULL);
        if (!rv_fs_journal_save(run->journal, run->work->fd, durable, error))
                return FALSE;
        if (func != NULL)
                func(step->name, "done", data);
        return TRUE;
}

/* the work folder keeps only the journal once the result is in place */
static gboolean
rv_fs_run_finish(RvFsRun *run, char **ret_library_path, GError **error)
{
        const char *const dirs[] = { RV_FS_WORK_TREE, RV_FS_WORK_EXTRACTED, RV_FS_WORK_PAR2 };
        const char *path = rv_fs_journal_get_library_path(run->journal);

        for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
                if (!rv_fs_remove_tree_at(run->work->fd, dirs[i], error))
                        return FALSE;
        }
        if (path == NULL) {
                JsonObject *commit = rv_fs_journal_step_detail(run->journal, "commit");
                path = commit != NULL ? json_object_get_string_member_with_default(commit, "library_path", NULL) : NULL;
        }
        *ret_library_path = g_strdup(path != NULL ? path : run->library->path);
        rv_fs_journal_set_library_path(run->journal, *ret_library_path);
        rv_fs_journal_set_state(run->journal, "done");
        return rv_fs_journal_save(run->journal, run->work->fd, TRUE, error);
}

/*
 * the worker's own working directory and umask: libarchive writes relative
 * to the first and every file made takes the second, and neither may be
 * changed for the whole process; both are put back before the thread returns
 * to the pool
 */
typedef struct {
        int cwd;
        mode_t umask;
} RvFsThreadState;

static gboolean
rv_fs_thread_enter(const RvFsPolicy *policy, RvFsThreadState *saved, GError **error)
{
        if (unshare(CLONE_FS) < 0) {
                rv_fs_set_errno(error, errno, "cannot give the worker a working directory of its own");
                return FALSE;
        }
        saved->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        saved->umask = umask(policy->umask >= 0 ? (mode_t)policy->umask : 022);
        if (policy->umask < 0)
                umask(saved->umask);
        return TRUE;
}

static void
rv_fs_thread_leave(RvFsThreadState *saved)
{
        umask(saved->umask);
        if (saved->cwd >= 0) {
                (void)fchdir(saved->cwd);
                close(saved->cwd);
        }
}

RvFsRunResult
rv_fs_pipeline_run(const RvFsJobSpec *spec, GCancellable *cancellable, RvFsStepFunc step_func, gpointer user_data,
                   char **ret_library_path, GError **error)
{
        RvFsRun run = { 0 };
        RvFsThreadState saved = { -1, 0 };
        g_autoptr(GError) error_local = NULL;
        RvFsRunResult result = RV_FS_RUN_FAILED;
        gboolean ok;

        run.spec = spec;
        run.policy = spec->policy;
        run.io.cancellable = cancellable;
        run.io.throttle_bps = spec->throttle_bps;
        if (!rv_fs_thread_enter(spec->policy, &saved, error))
                return RV_FS_RUN_FAILED;
        ok = rv_fs_run_open(&run, &error_local);
        for (guint i = 0; ok && i < G_N_ELEMENTS(rv_fs_steps); i++)
                ok = rv_fs_run_step(&run, &rv_fs_steps[i], step_func, user_data, &error_local);
        if (ok)
                ok = rv_fs_run_finish(&run, ret_library_path, &error_local);
        if (ok) {
                result = RV_FS_RUN_DONE;
        } else if (g_error_matches(error_local, RV_ERROR, RV_ERROR_UNAVAILABLE) &&
                   g_str_equal(error_local->message, RV_FS_NEEDS_MOVE)) {
                result = RV_FS_RUN_NEEDS_MOVE;
        } else {
                if (run.journal != NULL && !g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                        rv_fs_journal_set_state(run.journal, "failed");
                        (void)rv_fs_journal_save(run.journal, run.work->fd, TRUE, NULL);
                }
                g_propagate_error(error, g_steal_pointer(&error_local));
        }
        rv_fs_run_clear(&run);
        rv_fs_thread_leave(&saved);
        return result;
}
