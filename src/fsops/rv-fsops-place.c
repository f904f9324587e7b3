/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-fsops-error.h"
#include "rv-fsops-io.h"
#include "rv-fsops-path.h"

/* a chunk between cancellation checks: about 10 ms of a fast disk */
#define RV_FS_COPY_CHUNK (8 * 1024 * 1024)
#define RV_FS_COPY_BUFFER (1024 * 1024)

gboolean
rv_fs_io_account(RvFsIo *io, gsize n, GError **error)
{
        io->written += (gint64)n;
        if (g_cancellable_set_error_if_cancelled(io->cancellable, error))
                return FALSE;
        if (io->throttle_bps <= 0)
                return TRUE;
        if (io->throttle_start_us == 0)
                io->throttle_start_us = g_get_monotonic_time();
        io->throttle_bytes += (gint64)n;
        for (;;) {
                gint64 due = io->throttle_start_us + io->throttle_bytes * G_USEC_PER_SEC / io->throttle_bps;
                gint64 now = g_get_monotonic_time();
                if (now >= due)
                        return TRUE;
                g_usleep((gulong)MIN(due - now, 50000));
                if (g_cancellable_set_error_if_cancelled(io->cancellable, error))
                        return FALSE;
        }
}

int
rv_fs_open_parent(int dirfd, const char *rel, gboolean create, const char **ret_base, GError **error)
{
        const char *slash = strrchr(rel, '/');
        g_autofree char *parent = NULL;
        g_autoptr(RvFsDir) at = NULL;
        g_autoptr(RvFsDir) dir = NULL;
        int fd;

        *ret_base = slash != NULL ? slash + 1 : rel;
        if (slash == NULL)
                return fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        parent = g_strndup(rel, (gsize)(slash - rel));
        at = g_new0(RvFsDir, 1);
        at->fd = dirfd;
        at->path = g_strdup(".");
        dir = rv_fs_dir_open_at(at, parent, create, error);
        /* the borrowed descriptor is not ours to close */
        at->fd = -1;
        if (dir == NULL)
                return -1;
        fd = dir->fd;
        dir->fd = -1;
        return fd;
}

static gboolean
rv_fs_copy_fallback(RvFsIo *io, int in, int out, const char *name, GError **error)
{
        g_autofree char *buf = g_malloc(RV_FS_COPY_BUFFER);

        for (;;) {
                ssize_t r = read(in, buf, RV_FS_COPY_BUFFER);
                gsize off = 0;
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        rv_fs_set_errno(error, errno, "cannot read '%s'", name);
                        return FALSE;
                }
                if (r == 0)
                        return TRUE;
                while (off < (gsize)r) {
                        ssize_t w = write(out, buf + off, (gsize)r - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0) {
                                rv_fs_set_errno(error, errno, "cannot write '%s'", name);
                                return FALSE;
                        }
                        off += (gsize)w;
                }
                if (!rv_fs_io_account(io, (gsize)r, error))
                        return FALSE;
        }
}

/* copy_file_range lets the kernel copy (and share blocks where the file system can); read/write where it cannot */
static gboolean
rv_fs_copy_data(RvFsIo *io, int in, int out, const char *name, GError **error)
{
        gboolean first = TRUE;
        off_t written = 0;

        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, RV_FS_COPY_CHUNK, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && first && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
                        return rv_fs_copy_fallback(io, in, out, name, error);
                if (n < 0) {
                        rv_fs_set_errno(error, errno, "cannot copy '%s'", name);
                        return FALSE;
                }
                if (n == 0)
                        return TRUE;
                first = FALSE;
                /* the disk starts on this chunk now, so the fsync before the rename has little left to wait for */
                (void)sync_file_range(out, written, n, SYNC_FILE_RANGE_WRITE);
                written += n;
                if (!rv_fs_io_account(io, (gsize)n, error))
                        return FALSE;
        }
}

static gboolean
rv_fs_link_refused(int errsv)
{
        /* another file system, no hardlinks there, too many links, or protected_hardlinks */
        return errsv == EXDEV || errsv == EPERM || errsv == EMLINK || errsv == EOPNOTSUPP || errsv == EACCES;
}

static gboolean
rv_fs_reflink_refused(int errsv)
{
        return errsv == EXDEV || errsv == EOPNOTSUPP || errsv == EINVAL || errsv == ENOTTY || errsv == EBADF ||
               errsv == ETXTBSY;
}

/* into "<base>.revaer-part" next to the target, renamed when whole */
static gboolean
rv_fs_write_part(RvFsIo *io, int in, const struct stat *st, int pfd, const char *base, gboolean reflink,
                 RvFsPlaced *ret_how, GError **error)
{
        g_autofree char *part = g_strconcat(base, RV_FS_PART_SUFFIX, NULL);
        struct timespec times[2] = { st->st_atim, st->st_mtim };
        gboolean ok;
        int out;

        (void)unlinkat(pfd, part, 0);
        out = rv_fs_openat(pfd, part, O_WRONLY | O_CREAT | O_EXCL, st->st_mode & 0777);
        if (out < 0) {
                rv_fs_set_errno(error, errno, "cannot create '%s'", part);
                return FALSE;
        }
        *ret_how = RV_FS_PLACED_COPY;
        if (reflink && ioctl(out, FICLONE, in) == 0) {
                *ret_how = RV_FS_PLACED_REFLINK;
                ok = rv_fs_io_account(io, 0, error);
        } else if (reflink && !rv_fs_reflink_refused(errno)) {
                rv_fs_set_errno(error, errno, "cannot reflink '%s'", base);
                ok = FALSE;
        } else {
                ok = rv_fs_copy_data(io, in, out, base, error);
        }
        if (ok)
                (void)futimens(out, times);
        /* whole on disk before it is whole by name: a file under its final name is never copied again */
        if (ok && fsync(out) < 0) {
                rv_fs_set_errno(error, errno, "cannot sync '%s'", part);
                ok = FALSE;
        }
        close(out);
        if (ok && renameat(pfd, part, pfd, base) < 0) {
                rv_fs_set_errno(error, errno, "cannot rename '%s'", part);
                ok = FALSE;
        }
        if (!ok)
                (void)unlinkat(pfd, part, 0);
        return ok;
}

gboolean
rv_fs_place_file(RvFsIo *io, int src_dirfd, const char *src_rel, int dst_dirfd, const char *dst_rel, RvFsMoveMode mode,
                 RvFsPlaced *ret_how, GError **error)
{
        const char *src_base = NULL;
        const char *dst_base = NULL;
        struct stat st;
        gboolean ok;
        int spfd;
        int pfd;
        int in;

        spfd = rv_fs_open_parent(src_dirfd, src_rel, FALSE, &src_base, error);
        if (spfd < 0)
                return FALSE;
        in = rv_fs_openat(spfd, src_base, O_RDONLY | O_NOFOLLOW, 0);
        if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
                int errsv = in < 0 ? errno : ENOENT;
                if (in >= 0)
                        close(in);
                close(spfd);
                rv_fs_set_errno(error, errsv == ELOOP ? ELOOP : errsv, "'%s' is not a readable file", src_rel);
                return FALSE;
        }
        pfd = rv_fs_open_parent(dst_dirfd, dst_rel, TRUE, &dst_base, error);
        if (pfd < 0) {
                close(in);
                close(spfd);
                return FALSE;
        }
        if (mode == RV_FS_MOVE_HARDLINK) {
                if (linkat(spfd, src_base, pfd, dst_base, 0) == 0) {
                        *ret_how = RV_FS_PLACED_LINK;
                        close(in);
                        close(spfd);
                        close(pfd);
                        return rv_fs_io_account(io, 0, error);
                }
                if (!rv_fs_link_refused(errno)) {
                        rv_fs_set_errno(error, errno, "cannot link '%s'", dst_rel);
                        close(in);
                        close(spfd);
                        close(pfd);
                        return FALSE;
                }
        }
        ok = rv_fs_write_part(io, in, &st, pfd, dst_base, mode == RV_FS_MOVE_REFLINK, ret_how, error);
        close(in);
        close(spfd);
        close(pfd);
        return ok;
}
