/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "rv-fsops-extract.h"
#include "rv-fsops-policy.h"

G_BEGIN_DECLS

/*
 * the pipeline of one torrent, run in a worker thread: the steps in order
 * (move, par2, extract, place, flatten, cleanup, permissions, commit), each
 * planned (does it apply?), run and checkpointed in .revaer.meta in the
 * work folder <library>/.revaer/<info hash>/. Results are assembled in that
 * folder (on the library's file system) and renamed into the library at the
 * end, so nothing half-made ever appears under its final name; after a crash
 * the next run continues at the first step that is not done.
 */

/* what a worker needs of a torrent, copied on the main loop */
/*
 * a fault the pipeline injects at the start of a step, count times in all
 * (REVAER_FSOPS_FAULT=step:ERRNO:count, for the tests of retries); shared by
 * the specs of every run, counted down atomically
 */
typedef struct {
        char *step;
        int errsv;
        gint left;
} RvFsFault;

RvFsFault *rv_fs_fault_parse(const char *text);
RvFsFault *rv_fs_fault_ref(RvFsFault *fault);
void rv_fs_fault_unref(RvFsFault *fault);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsFault, rv_fs_fault_unref)

typedef struct {
        char *info_hash;
        char *name;
        /* where libtorrent keeps the data now */
        char *save_path;
        /* RvFsFile, the wanted files */
        GPtrArray *files;
        RvFsPolicy *policy;
        /* bytes per second the writes are held to, 0 for none (tests and benchmarks) */
        gint64 throttle_bps;
        /* NULL but in tests */
        RvFsFault *fault;
} RvFsJobSpec;

RvFsJobSpec *rv_fs_job_spec_new(void);
void rv_fs_job_spec_free(RvFsJobSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsJobSpec, rv_fs_job_spec_free)

typedef enum {
        RV_FS_RUN_DONE,
        /* move mode: libtorrent must move the data into the library first (move_storage), then run again */
        RV_FS_RUN_NEEDS_MOVE,
        RV_FS_RUN_FAILED,
} RvFsRunResult;

/* step names, in order; NULL-terminated */
extern const char *const rv_fs_step_names[];

/* called from the worker as steps start ("running") and end ("done", "skipped", "failed") */
typedef void (*RvFsStepFunc)(const char *step, const char *status, gpointer user_data);

/* blocking: for a worker thread; ret_library_path is where the result went */
RvFsRunResult rv_fs_pipeline_run(const RvFsJobSpec *spec, GCancellable *cancellable, RvFsStepFunc step_func,
                                 gpointer user_data, char **ret_library_path, GError **error);

/* the work folder of a torrent below its library root */
char *rv_fs_work_dir(const char *library, const char *info_hash);
/* blocking: removes the work folder (journal and all) of a torrent that is gone */
gboolean rv_fs_work_remove(const RvFsJobSpec *spec, GError **error);

G_END_DECLS
