/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* the pipeline's internals, shared by its step files */

#include "rv-fsops-error.h"
#include "rv-fsops-io.h"
#include "rv-fsops-journal.h"
#include "rv-fsops-path.h"
#include "rv-fsops-pipeline.h"

G_BEGIN_DECLS

typedef struct {
        const RvFsJobSpec *spec;
        const RvFsPolicy *policy;
        RvFsIo io;
        /* the torrent's save path, the library root and <library>/.revaer/<hash> */
        RvFsDir *source;
        RvFsDir *library;
        RvFsDir *work;
        RvFsJournal *journal;
        /* RvFsArchive among the files */
        GPtrArray *archives;
        /* paths of files the library does not get (extracted volumes, par2 sets): path -> path */
        GHashTable *consumed;
        /* the data already is where results go (no library root, or moved there) */
        gboolean same_place;
        /* the step's account of what it did, for the journal */
        JsonObject *detail;
} RvFsRun;

/* folders in the work folder */
#define RV_FS_WORK_TREE "tree"
#define RV_FS_WORK_EXTRACTED "x"
#define RV_FS_WORK_PAR2 "par2"

typedef struct {
        const char *name;
        gboolean (*plan)(RvFsRun *run);
        gboolean (*run)(RvFsRun *run, GError **error);
} RvFsStep;

/* rv-fsops-steps.c */
gboolean rv_fs_step_par2_plan(RvFsRun *run);
gboolean rv_fs_step_par2_run(RvFsRun *run, GError **error);
gboolean rv_fs_step_extract_plan(RvFsRun *run);
gboolean rv_fs_step_extract_run(RvFsRun *run, GError **error);
gboolean rv_fs_step_place_plan(RvFsRun *run);
gboolean rv_fs_step_place_run(RvFsRun *run, GError **error);

/* rv-fsops-finish.c */
gboolean rv_fs_step_flatten_plan(RvFsRun *run);
gboolean rv_fs_step_flatten_run(RvFsRun *run, GError **error);
gboolean rv_fs_step_cleanup_plan(RvFsRun *run);
gboolean rv_fs_step_cleanup_run(RvFsRun *run, GError **error);
gboolean rv_fs_step_permissions_plan(RvFsRun *run);
gboolean rv_fs_step_permissions_run(RvFsRun *run, GError **error);
gboolean rv_fs_step_commit_plan(RvFsRun *run);
gboolean rv_fs_step_commit_run(RvFsRun *run, GError **error);

/* moves every entry of src_fd into dst_fd, folders merged, a file already there is TargetExists */
gboolean rv_fs_merge_into(int src_fd, int dst_fd, const char *what, GError **error);
/* names in a folder, sorted; NULL with error when it cannot be read */
GPtrArray *rv_fs_list_dir(int fd, GError **error);
/*
 * what a step wrote reaches the disk before the step is recorded as done:
 * every folder below dirfd (and dirfd), and with files every regular file;
 * fsync of what is ours rather than syncfs, which would wait for whatever
 * else the file system has to write; the fsyncs go out together, in batches
 * of at most 256 open descriptors, so that the disk flushes its cache once
 * for many of them rather than once each
 */
gboolean rv_fs_sync_tree(int dirfd, gboolean files, GError **error);

/* rv-fsops-par2.c: `par2 verify|repair` of par2_name in folder dir; ret_status is par2's exit status */
gboolean rv_fs_par2_run(RvFsIo *io, const char *dir, const char *par2_name, gboolean repair, gint *ret_status,
                        GError **error);

G_END_DECLS
