/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-live-settings.h"
#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * FsOps on the main loop: hears completions on the event bus, freezes the
 * torrent's policy (settings, its labels' entries, its own overrides), runs
 * the pipeline (rv-fsops-pipeline.h) in a GTask worker, at most
 * RV_FSOPS_MAX_RUNNING at once, and keeps the torrent's FsState, FsError and
 * LibraryPath; a failure for a passing reason is tried again with backoff,
 * a pipeline a restart cut short resumes (rv_fsops_start), and Retry reaches
 * it through the manager
 */
typedef struct _RvFsops RvFsops;

#define RV_FSOPS_MAX_RUNNING 2
/* the first retry waits this long, each next one twice as long, up to the cap */
#define RV_FSOPS_BACKOFF_MS 1000
#define RV_FSOPS_BACKOFF_MAX_MS 60000

RvFsops *rv_fsops_new(RvManager *manager, RvLiveSettings *settings);
/* cancels what runs (it resumes at the next start) and waits for the workers to let go */
void rv_fsops_free(RvFsops *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsops, rv_fsops_free)

/* resumes the pipelines a stop or a crash interrupted; once the stored torrents are registered */
void rv_fsops_start(RvFsops *self);

/* runs a failed (or never run) pipeline again with the settings as they are now; a waiting retry at once */
gboolean rv_fsops_retry(RvFsops *self, RvTorrent *torrent, GError **error);

/* pipelines in a worker now */
guint rv_fsops_get_running(RvFsops *self);

G_END_DECLS
