/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-fsops-io.h"

G_BEGIN_DECLS

/* a file of the torrent: '/'-separated path below the save path, as libtorrent names it */
typedef struct {
        char *path;
        gint64 size;
} RvFsFile;

RvFsFile *rv_fs_file_new(const char *path, gint64 size);
void rv_fs_file_free(RvFsFile *file);

/* one archive, possibly of several volumes */
typedef struct {
        /* paths as in RvFsFile, the first volume first */
        GPtrArray *volumes;
        /* all volumes together */
        gint64 size;
} RvFsArchive;

void rv_fs_archive_free(RvFsArchive *archive);

/*
 * the archives among files, by name: .zip, .7z (and .7z.001, ...), .tar and
 * its compressions (.tar.gz, .tgz, .tar.bz2, .tar.xz, .tar.zst, ...), .rar
 * with .partN.rar or .r00, .r01, ... volumes; in path order
 */
GPtrArray *rv_fs_archives_find(GPtrArray *files);

/*
 * extracts archive (its volumes beneath src_dirfd) into the empty folder
 * dst_dirfd with libarchive's secure flags; refuses entries named with ".."
 * or absolutely (ArchiveUnsafePath), links that point out of the folder
 * (ArchiveUnsafeLink), more than max_entries entries (ArchiveTooManyEntries)
 * and more output than max_ratio times the archive (and at least 16 MiB,
 * ArchiveBomb); encrypted entries are ArchiveEncrypted, what libarchive
 * cannot read ArchiveUnsupported or ArchiveCorrupt. The calling thread must
 * have its own working directory (unshare(CLONE_FS)): it is changed meanwhile.
 */
gboolean rv_fs_extract(RvFsIo *io, int src_dirfd, const RvFsArchive *archive, int dst_dirfd, gint64 max_ratio,
                       gint64 max_entries, GError **error);

#define RV_FS_EXTRACT_MIN_ALLOWANCE (16 * 1024 * 1024)

G_END_DECLS
