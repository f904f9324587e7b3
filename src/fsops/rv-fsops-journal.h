/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * .revaer.meta: the pipeline's checkpoints for one torrent, in its work
 * folder in the library root. Each step is recorded when it starts (state
 * "running", runs + 1) and when it ends ("done", "skipped" or "failed", with
 * what it did), and the file is replaced atomically and synced each time, so
 * after a crash at any instant the pipeline resumes at the first step that is
 * not done and never runs a done step again.
 *
 * {"version": 1, "info_hash", "name", "policy": {...}, "state",
 *  "library_path", "steps": {"extract": {"state", "runs", "started",
 *  "finished", "detail": {...}, "error"}, ...}}
 */
#define RV_FS_JOURNAL_NAME ".revaer.meta"

typedef struct _RvFsJournal RvFsJournal;

RvFsJournal *rv_fs_journal_new(const char *info_hash, const char *name, JsonNode *policy);
/* NULL without an error when there is none; an unreadable one is an error */
RvFsJournal *rv_fs_journal_load(int dirfd, GError **error);
void rv_fs_journal_free(RvFsJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsJournal, rv_fs_journal_free)

/*
 * replaces the file atomically (temp file, rename); durable also syncs the
 * file and the folder, which a step's end needs and its start does not: a
 * start lost to a power cut only undercounts runs, a lost end would run a
 * done step again
 */
gboolean rv_fs_journal_save(RvFsJournal *journal, int dirfd, gboolean durable, GError **error);

/* borrowed */
JsonNode *rv_fs_journal_get_policy(RvFsJournal *journal);
const char *rv_fs_journal_get_hash(RvFsJournal *journal);
const char *rv_fs_journal_get_state(RvFsJournal *journal);
void rv_fs_journal_set_state(RvFsJournal *journal, const char *state);
const char *rv_fs_journal_get_library_path(RvFsJournal *journal);
void rv_fs_journal_set_library_path(RvFsJournal *journal, const char *path);

/* "" when the step has no record */
const char *rv_fs_journal_step_state(RvFsJournal *journal, const char *step);
guint rv_fs_journal_step_runs(RvFsJournal *journal, const char *step);
/* borrowed, may be NULL */
JsonObject *rv_fs_journal_step_detail(RvFsJournal *journal, const char *step);
void rv_fs_journal_step_begin(RvFsJournal *journal, const char *step);
/* takes detail (may be NULL); error may be NULL */
void rv_fs_journal_step_end(RvFsJournal *journal, const char *step, const char *state, JsonObject *detail,
                            const char *error);

G_END_DECLS
