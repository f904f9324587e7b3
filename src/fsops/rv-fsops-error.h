/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-error.h"

G_BEGIN_DECLS

/*
 * why a pipeline failed, named for users: a torrent's FsError is
 * "<Name>: <what happened>"; the GError carrying it stays in the RvError
 * domain (the table maps each name to a code), with the name leading its
 * message so it survives being passed back to the main loop
 */
typedef enum {
        RV_FS_FAILURE_PATH_NOT_ALLOWED,
        RV_FS_FAILURE_UNSAFE_PATH,
        RV_FS_FAILURE_SOURCE_MISSING,
        RV_FS_FAILURE_ARCHIVE_UNSAFE_PATH,
        RV_FS_FAILURE_ARCHIVE_UNSAFE_LINK,
        RV_FS_FAILURE_ARCHIVE_BOMB,
        RV_FS_FAILURE_ARCHIVE_TOO_MANY_ENTRIES,
        RV_FS_FAILURE_ARCHIVE_CORRUPT,
        RV_FS_FAILURE_ARCHIVE_ENCRYPTED,
        RV_FS_FAILURE_ARCHIVE_UNSUPPORTED,
        RV_FS_FAILURE_PAR2_DAMAGED,
        RV_FS_FAILURE_PAR2_UNREPAIRABLE,
        RV_FS_FAILURE_PAR2_FAILED,
        RV_FS_FAILURE_PAR2_UNAVAILABLE,
        RV_FS_FAILURE_NO_SPACE,
        RV_FS_FAILURE_NOT_WRITABLE,
        RV_FS_FAILURE_NOT_PERMITTED,
        RV_FS_FAILURE_UNKNOWN_OWNER,
        RV_FS_FAILURE_BUSY,
        RV_FS_FAILURE_IO,
        RV_FS_FAILURE_TARGET_EXISTS,
        RV_FS_FAILURE_MOVE_FAILED,
        RV_FS_FAILURE_INTERNAL,
        RV_FS_FAILURE_LAST,
} RvFsFailure;

const char *rv_fs_failure_to_string(RvFsFailure failure);
RvFsFailure rv_fs_failure_from_string(const char *name);
RvError rv_fs_failure_to_error(RvFsFailure failure);
/*
 * how often a failure is tried again with backoff: 0 for a terminal one,
 * G_MAXUINT for "as often as /fs/retry_attempts says" (a full disk, a busy
 * file), 1 for an I/O error (once: a second one is a broken disk)
 */
guint rv_fs_failure_retries(RvFsFailure failure);

/* the failure an error's message starts with; RV_FS_FAILURE_INTERNAL when it names none */
RvFsFailure rv_fs_failure_from_error(const GError *error);

void rv_fs_set_error(GError **error, RvFsFailure failure, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* a file operation failed with errsv: NoSpace, NotWritable, Busy, IoError, ... */
void rv_fs_set_errno(GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
RvFsFailure rv_fs_failure_from_errno(int errsv);

G_END_DECLS
