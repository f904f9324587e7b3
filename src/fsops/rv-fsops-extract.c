/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "rv-fsops-error.h"
#include "rv-fsops-extract.h"
#include "rv-fsops-path.h"

#define RV_FS_READ_BLOCK (1024 * 1024)
/* written data handed to the disk at a time */
#define RV_FS_WRITEBACK_STRETCH (8 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsArchive, rv_fs_archive_free)

RvFsFile *
rv_fs_file_new(const char *path, gint64 size)
{
        RvFsFile *file = g_new0(RvFsFile, 1);

        file->path = g_strdup(path);
        file->size = size;
        return file;
}

void
rv_fs_file_free(RvFsFile *file)
{
        if (file == NULL)
                return;
        g_free(file->path);
        g_free(file);
}

void
rv_fs_archive_free(RvFsArchive *archive)
{
        if (archive == NULL)
                return;
        g_ptr_array_unref(archive->volumes);
        g_free(archive);
}

/* finding archives by name */

static const char *const rv_fs_single_suffixes[] = {
        ".zip", ".7z",      ".tar",  ".tar.gz",  ".tgz",      ".tar.bz2", ".tbz2",  ".tbz", ".tar.xz",
        ".txz", ".tar.zst", ".tzst", ".tar.lz4", ".tar.lzma", ".tlz",     ".tar.z", NULL,
};

/* "name.part07.rar" -> 7, "name.r03" -> 4 (after name.rar), "name.7z.002" -> 2; the stem goes to ret_key */
static gint
rv_fs_volume_index(const char *lower, char **ret_key)
{
        gsize n = strlen(lower);
        const char *dot = strrchr(lower, '.');
        const char *part;

        if (g_str_has_suffix(lower, ".rar")) {
                part = g_strrstr_len(lower, (gssize)n - 4, ".part");
                if (part != NULL && part + 5 < lower + n - 4 &&
                    strspn(part + 5, "0123456789") == (gsize)(lower + n - 4 - (part + 5))) {
                        *ret_key = g_strndup(lower, (gsize)(part - lower));
                        return (gint)g_ascii_strtoll(part + 5, NULL, 10);
                }
                *ret_key = g_strndup(lower, n - 4);
                return 0;
        }
        if (dot != NULL && dot[1] == 'r' && strlen(dot) == 4 && g_ascii_isdigit(dot[2]) && g_ascii_isdigit(dot[3])) {
                *ret_key = g_strndup(lower, (gsize)(dot - lower));
                return (gint)g_ascii_strtoll(dot + 2, NULL, 10) + 1;
        }
        if (dot != NULL && strlen(dot) == 4 && strspn(dot + 1, "0123456789") == 3 && dot - lower > 3 &&
            strncmp(dot - 3, ".7z", 3) == 0) {
                *ret_key = g_strndup(lower, (gsize)(dot - lower));
                return (gint)g_ascii_strtoll(dot + 1, NULL, 10);
        }
        return -1;
}

typedef struct {
        gint index;
        const RvFsFile *file;
} RvFsVolume;

static gint
rv_fs_volume_cmp(gconstpointer a, gconstpointer b)
{
        return ((const RvFsVolume *)a)->index - ((const RvFsVolume *)b)->index;
}

static RvFsArchive *
rv_fs_archive_new(void)
{
        RvFsArchive *archive = g_new0(RvFsArchive, 1);

        archive->volumes = g_ptr_array_new_with_free_func(g_free);
        return archive;
}

static gint
rv_fs_archive_cmp(gconstpointer a, gconstpointer b)
{
        const RvFsArchive *x = *(RvFsArchive *const *)a;
        const RvFsArchive *y = *(RvFsArchive *const *)b;

        return g_strcmp0(g_ptr_array_index(x->volumes, 0), g_ptr_array_index(y->volumes, 0));
}

/* volumes by stem: a set counts when its first volume is there (.part1.rar, .rar or .7z.001) */
static void
rv_fs_archives_from_sets(GHashTable *sets, GPtrArray *out)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, sets);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                GArray *vols = value;
                RvFsArchive *archive;
                g_array_sort(vols, rv_fs_volume_cmp);
                if (g_array_index(vols, RvFsVolume, 0).index > 1)
                        continue;
                archive = rv_fs_archive_new();
                for (guint i = 0; i < vols->len; i++) {
                        const RvFsFile *f = g_array_index(vols, RvFsVolume, i).file;
                        g_ptr_array_add(archive->volumes, g_strdup(f->path));
                        archive->size += f->size;
                }
                g_ptr_array_add(out, archive);
        }
}

GPtrArray *
rv_fs_archives_find(GPtrArray *files)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_fs_archive_free);
        g_autoptr(GHashTable) sets =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);

        for (guint i = 0; files != NULL && i < files->len; i++) {
                const RvFsFile *f = g_ptr_array_index(files, i);
                g_autofree char *lower = g_ascii_strdown(f->path, -1);
                char *key = NULL;
                gint index = rv_fs_volume_index(lower, &key);
                if (index >= 0) {
                        GArray *vols = g_hash_table_lookup(sets, key);
                        RvFsVolume v = { index, f };
                        if (vols == NULL) {
                                vols = g_array_new(FALSE, FALSE, sizeof(RvFsVolume));
                                g_hash_table_insert(sets, g_strdup(key), vols);
                        }
                        g_array_append_val(vols, v);
                        g_free(key);
                        continue;
                }
                for (guint s = 0; rv_fs_single_suffixes[s] != NULL; s++) {
                        if (g_str_has_suffix(lower, rv_fs_single_suffixes[s])) {
                                RvFsArchive *archive = rv_fs_archive_new();
                                g_ptr_array_add(archive->volumes, g_strdup(f->path));
                                archive->size = f->size;
                                g_ptr_array_add(out, archive);
                                break;
                        }
                }
        }
        rv_fs_archives_from_sets(sets, out);
        g_ptr_array_sort(out, rv_fs_archive_cmp);
        return out;
}

/* reading volumes from descriptors opened beneath the torrent's folder */

typedef struct {
        int fd;
        char *buffer;
} RvFsVolumeFd;

static void
rv_fs_volume_fd_free(RvFsVolumeFd *v)
{
        if (v->fd >= 0)
                close(v->fd);
        g_free(v->buffer);
        g_free(v);
}

static la_ssize_t
rv_fs_read_cb(struct archive *a, void *client_data, const void **buffer)
{
        RvFsVolumeFd *v = client_data;
        ssize_t n;

        do
                n = read(v->fd, v->buffer, RV_FS_READ_BLOCK);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                archive_set_error(a, errno, "read failed");
        *buffer = v->buffer;
        return n;
}

static la_int64_t
rv_fs_seek_cb(struct archive *a, void *client_data, la_int64_t offset, int whence)
{
        RvFsVolumeFd *v = client_data;
        off_t r = lseek(v->fd, (off_t)offset, whence);

        if (r < 0)
                archive_set_error(a, errno, "seek failed");
        return r < 0 ? ARCHIVE_FATAL : r;
}

static la_int64_t
rv_fs_skip_cb(struct archive *a, void *client_data, la_int64_t request)
{
        RvFsVolumeFd *v = client_data;
        off_t here = lseek(v->fd, 0, SEEK_CUR);

        if (here < 0 || lseek(v->fd, (off_t)request, SEEK_CUR) < 0)
                return 0;
        return request;
}

static int
rv_fs_switch_cb(struct archive *a, void *client_data1, void *client_data2)
{
        RvFsVolumeFd *next = client_data2;

        if (next != NULL && lseek(next->fd, 0, SEEK_SET) < 0)
                return ARCHIVE_FATAL;
        return ARCHIVE_OK;
}

typedef struct {
        RvFsIo *io;
        const RvFsArchive *archive;
        struct archive *in;
        struct archive *out;
        GPtrArray *fds;
        const char *name;
        gint64 allowance;
        gint64 max_entries;
        gint64 written;
        gint64 entries;
} RvFsExtract;

static void
rv_fs_extract_clear(RvFsExtract *x)
{
        if (x->in != NULL)
                archive_read_free(x->in);
        if (x->out != NULL)
                archive_write_free(x->out);
        if (x->fds != NULL)
                g_ptr_array_unref(x->fds);
}

/* only the formats and filters Revaer names, and only built-in filters: no external program is ever run */
static struct archive *
rv_fs_reader_new(void)
{
        struct archive *a = archive_read_new();

        archive_read_support_format_zip(a);
        archive_read_support_format_7zip(a);
        archive_read_support_format_rar(a);
        archive_read_support_format_rar5(a);
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_lzma(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_lz4(a);
        archive_read_support_filter_compress(a);
        return a;
}

static gboolean
rv_fs_extract_open(RvFsExtract *x, int src_dirfd, GError **error)
{
        x->in = rv_fs_reader_new();
        x->fds = g_ptr_array_new_with_free_func((GDestroyNotify)rv_fs_volume_fd_free);
        for (guint i = 0; i < x->archive->volumes->len; i++) {
                const char *rel = g_ptr_array_index(x->archive->volumes, i);
                RvFsVolumeFd *v = g_new0(RvFsVolumeFd, 1);
                v->fd = rv_fs_openat(src_dirfd, rel, O_RDONLY | O_NOFOLLOW, 0);
                v->buffer = g_malloc(RV_FS_READ_BLOCK);
                g_ptr_array_add(x->fds, v);
                if (v->fd < 0) {
                        rv_fs_set_errno(error, errno, "cannot open '%s'", rel);
                        return FALSE;
                }
                archive_read_append_callback_data(x->in, v);
        }
        archive_read_set_read_callback(x->in, rv_fs_read_cb);
        archive_read_set_seek_callback(x->in, rv_fs_seek_cb);
        archive_read_set_skip_callback(x->in, rv_fs_skip_cb);
        archive_read_set_switch_callback(x->in, rv_fs_switch_cb);
        if (archive_read_open1(x->in) != ARCHIVE_OK) {
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_CORRUPT, "'%s': %s", x->name,
                                archive_error_string(x->in) != NULL ? archive_error_string(x->in) : "cannot open");
                return FALSE;
        }
        x->out = archive_write_disk_new();
        archive_write_disk_set_options(x->out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                       ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        return TRUE;
}

/*
 * libarchive says what went wrong only in words: encryption, a format or
 * method it lacks, and damage are told apart by them here, at the boundary
 */
static void
rv_fs_extract_read_failed(RvFsExtract *x, struct archive_entry *entry, GError **error)
{
        const char *msg = archive_error_string(x->in) != NULL ? archive_error_string(x->in) : "unreadable";
        g_autofree char *lower = g_ascii_strdown(msg, -1);

        if ((entry != NULL && archive_entry_is_encrypted(entry)) || strstr(lower, "encrypt") != NULL ||
            strstr(lower, "passphrase") != NULL || strstr(lower, "password") != NULL)
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_ENCRYPTED, "'%s' is encrypted: %s", x->name, msg);
        else if (strstr(lower, "unsupported") != NULL || strstr(lower, "unavailable") != NULL ||
                 strstr(lower, "not supported") != NULL)
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_UNSUPPORTED, "'%s': %s", x->name, msg);
        else
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_CORRUPT, "'%s': %s", x->name, msg);
}

static void
rv_fs_extract_write_failed(RvFsExtract *x, const char *path, GError **error)
{
        const char *msg = archive_error_string(x->out) != NULL ? archive_error_string(x->out) : "cannot write";
        int errsv = archive_errno(x->out);

        /* the secure flags' refusals carry no errno of their own */
        if (errsv > 0 && errsv != EINVAL && rv_fs_failure_from_errno(errsv) != RV_FS_FAILURE_INTERNAL &&
            rv_fs_failure_from_errno(errsv) != RV_FS_FAILURE_UNSAFE_PATH)
                rv_fs_set_error(error, rv_fs_failure_from_errno(errsv), "extracting '%s' from '%s': %s", path, x->name,
                                msg);
        else
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_UNSAFE_PATH, "'%s' in '%s': %s", path, x->name, msg);
}

/* the checks before libarchive's own: each refusal is named for the user */
static gboolean
rv_fs_extract_check_entry(RvFsExtract *x, struct archive_entry *entry, GError **error)
{
        const char *path = archive_entry_pathname(entry);
        const char *symlink = archive_entry_symlink(entry);
        const char *hardlink = archive_entry_hardlink(entry);

        if (++x->entries > x->max_entries) {
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_TOO_MANY_ENTRIES,
                                "'%s' holds more than %" G_GINT64_FORMAT " entries (/fs/extract_max_entries)", x->name,
                                x->max_entries);
                return FALSE;
        }
        if (!rv_fs_entry_name_safe(path)) {
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_UNSAFE_PATH, "'%s' in '%s' would be written outside",
                                path != NULL ? path : "", x->name);
                return FALSE;
        }
        if ((symlink != NULL && !rv_fs_link_stays_inside(path, symlink)) ||
            (hardlink != NULL && !rv_fs_entry_name_safe(hardlink))) {
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_UNSAFE_LINK, "'%s' in '%s' links to '%s', outside", path,
                                x->name, symlink != NULL ? symlink : hardlink);
                return FALSE;
        }
        if (archive_entry_is_encrypted(entry)) {
                rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_ENCRYPTED, "'%s' in '%s' is encrypted", path, x->name);
                return FALSE;
        }
        return TRUE;
}

/*
 * the disk starts on each written stretch at once, so the fsync of the whole
 * extraction has little left to wait for; the entry is reopened by the name
 * libarchive wrote it under (the working directory is the extraction folder)
 */
static void
rv_fs_extract_kick(RvFsExtract *x, const char *path, int *fd, gint64 *kicked, gint64 upto)
{
        if (upto - *kicked < RV_FS_WRITEBACK_STRETCH)
                return;
        if (*fd < 0)
                *fd = rv_fs_openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW, 0);
        if (*fd >= 0)
                (void)sync_file_range(*fd, *kicked, upto - *kicked, SYNC_FILE_RANGE_WRITE);
        *kicked = upto;
}

static gboolean
rv_fs_extract_data(RvFsExtract *x, struct archive_entry *entry, GError **error)
{
        const char *path = archive_entry_pathname(entry);
        gint64 kicked = 0;
        gboolean ok = TRUE;
        int fd = -1;

        while (ok) {
                const void *buf = NULL;
                size_t size = 0;
                la_int64_t offset = 0;
                int r = archive_read_data_block(x->in, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        rv_fs_extract_read_failed(x, entry, error);
                        ok = FALSE;
                } else if (x->written + (gint64)size > x->allowance) {
                        /* checked before the bytes are written: a bomb stops at the allowance */
                        rv_fs_set_error(error, RV_FS_FAILURE_ARCHIVE_BOMB,
                                        "'%s' extracts to more than %" G_GINT64_FORMAT
                                        " bytes (/fs/extract_max_ratio times its size)",
                                        x->name, x->allowance);
                        ok = FALSE;
                } else if (archive_write_data_block(x->out, buf, size, offset) < ARCHIVE_WARN) {
                        rv_fs_extract_write_failed(x, path, error);
                        ok = FALSE;
                } else {
                        x->written += (gint64)size;
                        rv_fs_extract_kick(x, path, &fd, &kicked, offset + (gint64)size);
                        ok = rv_fs_io_account(x->io, size, error);
                }
        }
        if (fd >= 0)
                close(fd);
        return ok;
}

static gboolean
rv_fs_extract_entries(RvFsExtract *x, GError **error)
{
        for (;;) {
                struct archive_entry *entry = NULL;
                int r = archive_read_next_header(x->in, &entry);
                g_autofree char *clean = NULL;
                if (r == ARCHIVE_EOF)
                        return TRUE;
                if (r < ARCHIVE_WARN) {
                        rv_fs_extract_read_failed(x, entry, error);
                        return FALSE;
                }
                if (!rv_fs_extract_check_entry(x, entry, error))
                        return FALSE;
                clean = rv_fs_sanitize_name(archive_entry_pathname(entry));
                archive_entry_set_pathname(entry, clean);
                if (archive_write_header(x->out, entry) < ARCHIVE_WARN) {
                        rv_fs_extract_write_failed(x, clean, error);
                        return FALSE;
                }
                if (archive_entry_size(entry) > 0 && !rv_fs_extract_data(x, entry, error))
                        return FALSE;
                if (archive_write_finish_entry(x->out) < ARCHIVE_WARN) {
                        rv_fs_extract_write_failed(x, clean, error);
                        return FALSE;
                }
        }
}

gboolean
rv_fs_extract(RvFsIo *io, int src_dirfd, const RvFsArchive *archive, int dst_dirfd, gint64 max_ratio,
              gint64 max_entries, GError **error)
{
        RvFsExtract x = { 0 };
        int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        gboolean ok;

        x.io = io;
        x.archive = archive;
        x.name = g_ptr_array_index(archive->volumes, 0);
        x.max_entries = max_entries;
        x.allowance = MAX(archive->size > G_MAXINT64 / MAX(max_ratio, 1) ? G_MAXINT64 : archive->size * max_ratio,
                          RV_FS_EXTRACT_MIN_ALLOWANCE);
        /* libarchive writes relative to the working directory, which this thread has to itself */
        if (cwd < 0 || fchdir(dst_dirfd) < 0) {
                rv_fs_set_errno(error, errno, "cannot enter the extraction folder");
                if (cwd >= 0)
                        close(cwd);
                return FALSE;
        }
        ok = rv_fs_extract_open(&x, src_dirfd, error) && rv_fs_extract_entries(&x, error);
        if (ok && archive_write_close(x.out) < ARCHIVE_WARN) {
                rv_fs_extract_write_failed(&x, x.name, error);
                ok = FALSE;
        }
        rv_fs_extract_clear(&x);
        (void)fchdir(cwd);
        close(cwd);
        return ok;
}
