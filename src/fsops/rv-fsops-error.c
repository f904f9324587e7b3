/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-fsops-error.h"

typedef struct {
        const char *name;
        RvError code;
        guint retries;
} RvFsFailureEntry;

static const RvFsFailureEntry rv_fs_failure_table[] = {
        [RV_FS_FAILURE_PATH_NOT_ALLOWED] = { "PathNotAllowed", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_UNSAFE_PATH] = { "UnsafePath", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_SOURCE_MISSING] = { "SourceMissing", RV_ERROR_NOT_FOUND, 0 },
        [RV_FS_FAILURE_ARCHIVE_UNSAFE_PATH] = { "ArchiveUnsafePath", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_UNSAFE_LINK] = { "ArchiveUnsafeLink", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_BOMB] = { "ArchiveBomb", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_TOO_MANY_ENTRIES] = { "ArchiveTooManyEntries", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_CORRUPT] = { "ArchiveCorrupt", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_ENCRYPTED] = { "ArchiveEncrypted", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_ARCHIVE_UNSUPPORTED] = { "ArchiveUnsupported", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_PAR2_DAMAGED] = { "Par2Damaged", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_PAR2_UNREPAIRABLE] = { "Par2Unrepairable", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_PAR2_FAILED] = { "Par2Failed", RV_ERROR_INTERNAL, 0 },
        [RV_FS_FAILURE_PAR2_UNAVAILABLE] = { "Par2Unavailable", RV_ERROR_UNAVAILABLE, 0 },
        [RV_FS_FAILURE_NO_SPACE] = { "NoSpace", RV_ERROR_UNAVAILABLE, G_MAXUINT },
        [RV_FS_FAILURE_NOT_WRITABLE] = { "NotWritable", RV_ERROR_ACCESS_DENIED, 0 },
        [RV_FS_FAILURE_NOT_PERMITTED] = { "NotPermitted", RV_ERROR_ACCESS_DENIED, 0 },
        [RV_FS_FAILURE_UNKNOWN_OWNER] = { "UnknownOwner", RV_ERROR_INVALID_ARGUMENT, 0 },
        [RV_FS_FAILURE_BUSY] = { "Busy", RV_ERROR_UNAVAILABLE, G_MAXUINT },
        [RV_FS_FAILURE_IO] = { "IoError", RV_ERROR_UNAVAILABLE, 1 },
        [RV_FS_FAILURE_TARGET_EXISTS] = { "TargetExists", RV_ERROR_CONFLICT, 0 },
        [RV_FS_FAILURE_MOVE_FAILED] = { "MoveFailed", RV_ERROR_UNAVAILABLE, 0 },
        [RV_FS_FAILURE_INTERNAL] = { "Internal", RV_ERROR_INTERNAL, 0 },
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_fs_failure_table) == RV_FS_FAILURE_LAST);

static const RvFsFailureEntry *
rv_fs_failure_entry(RvFsFailure failure)
{
        if ((guint)failure >= RV_FS_FAILURE_LAST)
                return &rv_fs_failure_table[RV_FS_FAILURE_INTERNAL];
        return &rv_fs_failure_table[failure];
}

const char *
rv_fs_failure_to_string(RvFsFailure failure)
{
        return rv_fs_failure_entry(failure)->name;
}

RvFsFailure
rv_fs_failure_from_string(const char *name)
{
        for (guint i = 0; name != NULL && i < RV_FS_FAILURE_LAST; i++) {
                if (g_str_equal(rv_fs_failure_table[i].name, name))
                        return (RvFsFailure)i;
        }
        return RV_FS_FAILURE_LAST;
}

RvError
rv_fs_failure_to_error(RvFsFailure failure)
{
        return rv_fs_failure_entry(failure)->code;
}

guint
rv_fs_failure_retries(RvFsFailure failure)
{
        return rv_fs_failure_entry(failure)->retries;
}

RvFsFailure
rv_fs_failure_from_error(const GError *error)
{
        const char *colon = error != NULL ? strchr(error->message, ':') : NULL;
        g_autofree char *name = NULL;
        RvFsFailure failure;

        if (colon == NULL || error->domain != RV_ERROR)
                return RV_FS_FAILURE_INTERNAL;
        name = g_strndup(error->message, (gsize)(colon - error->message));
        failure = rv_fs_failure_from_string(name);
        return failure != RV_FS_FAILURE_LAST ? failure : RV_FS_FAILURE_INTERNAL;
}

static void rv_fs_set_error_va(GError **error, RvFsFailure failure, const char *fmt, va_list args) G_GNUC_PRINTF(3, 0);

static void
rv_fs_set_error_va(GError **error, RvFsFailure failure, const char *fmt, va_list args)
{
        g_autofree char *raw = g_strdup_vprintf(fmt, args);
        /* names from archives and disks are bytes; the message goes out as FsError, a D-Bus string */
        g_autofree char *msg = g_utf8_make_valid(raw, -1);

        g_set_error(error, RV_ERROR, rv_fs_failure_to_error(failure), "%s: %s", rv_fs_failure_to_string(failure), msg);
}

void
rv_fs_set_error(GError **error, RvFsFailure failure, const char *fmt, ...)
{
        va_list args;

        va_start(args, fmt);
        rv_fs_set_error_va(error, failure, fmt, args);
        va_end(args);
}

RvFsFailure
rv_fs_failure_from_errno(int errsv)
{
        switch (errsv) {
        case ENOSPC:
        case EDQUOT:
                return RV_FS_FAILURE_NO_SPACE;
        case EACCES:
        case EROFS:
                return RV_FS_FAILURE_NOT_WRITABLE;
        case EPERM:
                return RV_FS_FAILURE_NOT_PERMITTED;
        case EBUSY:
        case ETXTBSY:
        case EAGAIN:
                return RV_FS_FAILURE_BUSY;
        case EIO:
                return RV_FS_FAILURE_IO;
        case ENOENT:
                return RV_FS_FAILURE_SOURCE_MISSING;
        case EEXIST:
        case ENOTEMPTY:
                return RV_FS_FAILURE_TARGET_EXISTS;
        /* openat2 refusing to leave a root (EXDEV) or to follow a symlink (ELOOP) */
        case EXDEV:
        case ELOOP:
        case ENOTDIR:
                return RV_FS_FAILURE_UNSAFE_PATH;
        default:
                return RV_FS_FAILURE_INTERNAL;
        }
}

void
rv_fs_set_errno(GError **error, int errsv, const char *fmt, ...)
{
        g_autofree char *msg = NULL;
        va_list args;

        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        rv_fs_set_error(error, rv_fs_failure_from_errno(errsv), "%s: %s", msg, g_strerror(errsv));
}
