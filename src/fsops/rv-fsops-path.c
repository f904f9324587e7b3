/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rv-fsops-error.h"
#include "rv-path.h"
#include "rv-fsops-path.h"

void
rv_fs_dir_free(RvFsDir *dir)
{
        if (dir == NULL)
                return;
        if (dir->fd >= 0)
                close(dir->fd);
        g_free(dir->path);
        g_free(dir);
}

static RvFsDir *
rv_fs_dir_new(int fd, const char *path)
{
        RvFsDir *dir = g_new0(RvFsDir, 1);

        dir->fd = fd;
        dir->path = g_strdup(path);
        return dir;
}

int
rv_fs_openat(int dirfd, const char *rel, int flags, mode_t mode)
{
        struct open_how how = { 0 };

        how.flags = (guint64)(flags | O_CLOEXEC);
        how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

gboolean
rv_fs_path_allowed(const char *path, const char *const *roots)
{
        return rv_path_under_roots(path, roots);
}

gboolean
rv_fs_check_relpath(const char *rel, const char *what, GError **error)
{
        g_auto(GStrv) parts = NULL;

        if (rel == NULL || rel[0] == '\0' || rel[0] == '/' || strlen(rel) > 4096) {
                rv_fs_set_error(error, RV_FS_FAILURE_UNSAFE_PATH, "%s '%s' is empty, absolute or too long", what,
                                rel != NULL ? rel : "");
                return FALSE;
        }
        parts = g_strsplit(rel, "/", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                if (parts[i][0] == '\0' || g_str_equal(parts[i], ".") || g_str_equal(parts[i], "..")) {
                        rv_fs_set_error(error, RV_FS_FAILURE_UNSAFE_PATH, "%s '%s' has an empty, '.' or '..' part",
                                        what, rel);
                        return FALSE;
                }
        }
        return TRUE;
}

/* one part of a path resolved from depth: empty and "." parts are no level, ".." one up; FALSE above the top */
static gboolean
rv_fs_path_step(const char *part, gint *depth)
{
        if (g_str_equal(part, ".."))
                (*depth)--;
        else if (part[0] != '\0' && !g_str_equal(part, "."))
                (*depth)++;
        return *depth >= 0;
}

/*
 * the link's folder is counted the way libarchive writes the entry ("a/./b"
 * and "a//b" are "a/b"), not by its separators: "a/./b" -> "../../x" leads out
 */
gboolean
rv_fs_link_stays_inside(const char *entry_path, const char *target)
{
        g_auto(GStrv) dir = g_strsplit(entry_path, "/", -1);
        g_auto(GStrv) parts = g_strsplit(target, "/", -1);
        guint n = g_strv_length(dir);
        gint depth = 0;

        if (target[0] == '/' || entry_path[0] == '/')
                return FALSE;
        for (guint i = 0; i + 1 < n; i++) {
                if (!rv_fs_path_step(dir[i], &depth))
                        return FALSE;
        }
        for (guint i = 0; parts[i] != NULL; i++) {
                if (!rv_fs_path_step(parts[i], &depth))
                        return FALSE;
        }
        return TRUE;
}

gboolean
rv_fs_entry_name_safe(const char *path)
{
        g_auto(GStrv) parts = NULL;

        if (path == NULL || path[0] == '\0' || path[0] == '/')
                return FALSE;
        parts = g_strsplit(path, "/", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                if (g_str_equal(parts[i], ".."))
                        return FALSE;
        }
        return TRUE;
}

char *
rv_fs_sanitize_name(const char *name)
{
        char *out = g_utf8_make_valid(name, -1);

        for (char *p = out; *p != '\0'; p++) {
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        *p = '_';
        }
        return out;
}

/* one component at a time, so each missing directory can be made beneath the last */
static int
rv_fs_open_dirs(int rootfd, const char *rel, gboolean create, GError **error)
{
        g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
        int fd = rv_fs_openat(rootfd, ".", O_RDONLY | O_DIRECTORY, 0);

        for (guint i = 0; fd >= 0 && parts[i] != NULL; i++) {
                int next;
                if (parts[i][0] == '\0' || g_str_equal(parts[i], "."))
                        continue;
                next = rv_fs_openat(fd, parts[i], O_RDONLY | O_DIRECTORY, 0);
                if (next < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, parts[i], 0777) < 0 && errno != EEXIST) {
                                int errsv = errno;
                                close(fd);
                                rv_fs_set_errno(error, errsv, "cannot create '%s' in '%s'", parts[i], rel);
                                return -1;
                        }
                        next = rv_fs_openat(fd, parts[i], O_RDONLY | O_DIRECTORY, 0);
                }
                if (next < 0) {
                        int errsv = errno;
                        close(fd);
                        rv_fs_set_errno(error, errsv, "cannot open '%s' of '%s'", parts[i], rel);
                        return -1;
                }
                close(fd);
                fd = next;
        }
        if (fd < 0)
                rv_fs_set_errno(error, errno, "cannot open '%s'", rel);
        return fd;
}

RvFsDir *
rv_fs_dir_open_at(const RvFsDir *dir, const char *rel, gboolean create, GError **error)
{
        int fd;

        if (rel == NULL || rel[0] == '\0' || g_str_equal(rel, "."))
                return rv_fs_dir_new(fcntl(dir->fd, F_DUPFD_CLOEXEC, 3), dir->path);
        if (!rv_fs_check_relpath(rel, "path", error))
                return NULL;
        fd = rv_fs_open_dirs(dir->fd, rel, create, error);
        if (fd < 0)
                return NULL;
        {
                g_autofree char *path = g_build_filename(dir->path, rel, NULL);
                return rv_fs_dir_new(fd, path);
        }
}

/* the allowed root a path lies in (the longest) */
static char *
rv_fs_root_of(const char *path, const char *const *allowed)
{
        const char *best = NULL;
        gsize best_len = 0;

        for (guint i = 0; allowed[i] != NULL; i++) {
                const char *const one[] = { allowed[i], NULL };
                if (rv_fs_path_allowed(path, one) && strlen(allowed[i]) > best_len) {
                        best = allowed[i];
                        best_len = strlen(allowed[i]);
                }
        }
        return g_strdup(best);
}

RvFsDir *
rv_fs_dir_open_confined(const char *path, const char *const *allowed, gboolean create, GError **error)
{
        g_autofree char *root = NULL;
        g_autofree char *canon = NULL;
        g_autoptr(RvFsDir) top = NULL;
        const char *rest;
        int fd;

        if (path == NULL || !g_path_is_absolute(path)) {
                rv_fs_set_error(error, RV_FS_FAILURE_UNSAFE_PATH, "'%s' is not an absolute path",
                                path != NULL ? path : "");
                return NULL;
        }
        canon = g_canonicalize_filename(path, "/");
        if (allowed == NULL || allowed[0] == NULL) {
                /* nothing to confine to: the operator's path as it is, symlinks and all */
                if (create && g_mkdir_with_parents(canon, 0777) < 0) {
                        rv_fs_set_errno(error, errno, "cannot create '%s'", canon);
                        return NULL;
                }
                fd = open(canon, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        rv_fs_set_errno(error, errno, "cannot open '%s'", canon);
                        return NULL;
                }
                return rv_fs_dir_new(fd, canon);
        }
        root = rv_fs_root_of(canon, allowed);
        if (root == NULL) {
                rv_fs_set_error(error, RV_FS_FAILURE_PATH_NOT_ALLOWED, "'%s' is outside the allowed paths", canon);
                return NULL;
        }
        /* the allowed root is the operator's: it may itself be reached through a symlink */
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                rv_fs_set_errno(error, errno, "cannot open the allowed path '%s'", root);
                return NULL;
        }
        top = rv_fs_dir_new(fd, root);
        rest = canon + strlen(root);
        while (*rest == '/')
                rest++;
        if (*rest == '\0')
                return g_steal_pointer(&top);
        fd = rv_fs_open_dirs(top->fd, rest, create, error);
        if (fd < 0)
                return NULL;
        return rv_fs_dir_new(fd, canon);
}

gboolean
rv_fs_exists_at(int dirfd, const char *name)
{
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static gboolean
rv_fs_remove_children(int fd, const char *what, GError **error)
{
        DIR *d = fdopendir(fd);
        struct dirent *e;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        if (d == NULL) {
                close(fd);
                rv_fs_set_errno(error, errno, "cannot list '%s'", what);
                return FALSE;
        }
        while ((e = readdir(d)) != NULL) {
                if (!g_str_equal(e->d_name, ".") && !g_str_equal(e->d_name, ".."))
                        g_ptr_array_add(names, g_strdup(e->d_name));
        }
        for (guint i = 0; i < names->len; i++) {
                if (!rv_fs_remove_tree_at(dirfd(d), g_ptr_array_index(names, i), error)) {
                        closedir(d);
                        return FALSE;
                }
        }
        closedir(d);
        return TRUE;
}

gboolean
rv_fs_remove_tree_at(int dirfd, const char *name, GError **error)
{
        struct stat st;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return TRUE;
                rv_fs_set_errno(error, errno, "cannot look at '%s'", name);
                return FALSE;
        }
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
                        rv_fs_set_errno(error, errno, "cannot remove '%s'", name);
                        return FALSE;
                }
                return TRUE;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                rv_fs_set_errno(error, errno, "cannot open '%s'", name);
                return FALSE;
        }
        if (!rv_fs_remove_children(fd, name, error))
                return FALSE;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                rv_fs_set_errno(error, errno, "cannot remove '%s'", name);
                return FALSE;
        }
        return TRUE;
}
