/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "rv-fsops-policy.h"

G_BEGIN_DECLS

/* what a worker's writes share: cancellation, an optional throttle, a count */
typedef struct {
        GCancellable *cancellable;
        /* bytes per second the writes are held to, 0 for none (tests and benchmarks) */
        gint64 throttle_bps;
        gint64 throttle_start_us;
        gint64 throttle_bytes;
        gint64 written;
} RvFsIo;

/* after n bytes were written: FALSE with G_IO_ERROR_CANCELLED once cancelled; sleeps to keep to the throttle */
gboolean rv_fs_io_account(RvFsIo *io, gsize n, GError **error);

typedef enum {
        RV_FS_PLACED_LINK,
        RV_FS_PLACED_COPY,
        RV_FS_PLACED_REFLINK,
} RvFsPlaced;

/*
 * src_rel (beneath src_dirfd) to dst_rel (beneath dst_dirfd, missing folders
 * made) by hardlink, reflink or copy; a hardlink or reflink the file systems
 * refuse (another file system, no support) falls back to a copy; a copy is
 * written under "<name>.revaer-part" and renamed when complete, so a file
 * under its final name is always whole
 */
gboolean rv_fs_place_file(RvFsIo *io, int src_dirfd, const char *src_rel, int dst_dirfd, const char *dst_rel,
                          RvFsMoveMode mode, RvFsPlaced *ret_how, GError **error);

/* the parent folder of rel beneath dirfd (made when create) and rel's last part; -1 with error */
int rv_fs_open_parent(int dirfd, const char *rel, gboolean create, const char **ret_base, GError **error);

#define RV_FS_PART_SUFFIX ".revaer-part"

G_END_DECLS
