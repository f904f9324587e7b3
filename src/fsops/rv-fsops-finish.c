/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-fsops-run.h"
#include "rv-selection.h"

#define RV_FS_FLATTEN_TMP ".revaer-flatten"
/* the dropped paths the journal lists; the count is always there */
#define RV_FS_CLEANUP_LISTED 100

GPtrArray *
rv_fs_list_dir(int fd, GError **error)
{
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
        struct dirent *e;

        if (d == NULL) {
                rv_fs_set_errno(error, errno, "cannot list a folder");
                if (dup >= 0)
                        close(dup);
                g_ptr_array_unref(names);
                return NULL;
        }
        rewinddir(d);
        while ((e = readdir(d)) != NULL) {
                if (!g_str_equal(e->d_name, ".") && !g_str_equal(e->d_name, ".."))
                        g_ptr_array_add(names, g_strdup(e->d_name));
        }
        closedir(d);
        g_ptr_array_sort(names, (GCompareFunc)(void (*)(void))g_strcmp0);
        return names;
}

static gboolean
rv_fs_is_dir_at(int fd, const char *name)
{
        struct stat st;

        return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

gboolean
rv_fs_merge_into(int src_fd, int dst_fd, const char *what, GError **error)
{
        g_autoptr(GPtrArray) names = rv_fs_list_dir(src_fd, error);

        if (names == NULL)
                return FALSE;
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                int from;
                int into;
                gboolean ok;
                if (renameat2(src_fd, name, dst_fd, name, RENAME_NOREPLACE) == 0)
                        continue;
                if (errno != EEXIST || !rv_fs_is_dir_at(src_fd, name) || !rv_fs_is_dir_at(dst_fd, name)) {
                        rv_fs_set_errno(error, errno, "cannot move '%s' of %s into place", name, what);
                        return FALSE;
                }
                /* both are folders: their contents meet */
                from = rv_fs_openat(src_fd, name, O_RDONLY | O_DIRECTORY, 0);
                into = rv_fs_openat(dst_fd, name, O_RDONLY | O_DIRECTORY, 0);
                ok = from >= 0 && into >= 0 && rv_fs_merge_into(from, into, what, error);
                if (from < 0 || into < 0)
                        rv_fs_set_errno(error, errno, "cannot open '%s' of %s", name, what);
                if (from >= 0)
                        close(from);
                if (into >= 0)
                        close(into);
                if (!ok)
                        return FALSE;
                if (unlinkat(src_fd, name, AT_REMOVEDIR) < 0) {
                        rv_fs_set_errno(error, errno, "cannot remove the emptied '%s'", name);
                        return FALSE;
                }
        }
        return TRUE;
}

/* at most this many fsyncs at once: enough for the disk to take one cache flush for many of them */
#define RV_FS_SYNC_THREADS 8
/* descriptors held open at most before their batch is synced and closed */
#define RV_FS_SYNC_BATCH 256

typedef struct {
        GThreadPool *pool;
        GArray *fds;
        GMutex lock;
        GCond done;
        guint pending;
        int errsv;
} RvFsSync;

static void
rv_fs_sync_one(gpointer data, gpointer user_data)
{
        RvFsSync *sync = user_data;
        int errsv = fsync(GPOINTER_TO_INT(data) - 1) < 0 ? errno : 0;

        g_mutex_lock(&sync->lock);
        if (errsv != 0 && sync->errsv == 0)
                sync->errsv = errsv;
        if (--sync->pending == 0)
                g_cond_signal(&sync->done);
        g_mutex_unlock(&sync->lock);
}

/*
 * the descriptors gathered so far synced, all at once, and closed: each fsync
 * of an inode already committed costs a cache flush of its own (ext4 issues
 * one per call), and issued together the block layer folds the waiting ones
 * into one flush
 */
static gboolean
rv_fs_sync_flush(RvFsSync *sync, GError **error)
{
        if (sync->fds->len == 0)
                return TRUE;
        sync->pending = sync->fds->len;
        for (guint i = 0; i < sync->fds->len; i++) {
                gpointer fd = GINT_TO_POINTER(g_array_index(sync->fds, int, i) + 1);
                if (sync->pool == NULL || sync->fds->len == 1 || !g_thread_pool_push(sync->pool, fd, NULL))
                        rv_fs_sync_one(fd, sync);
        }
        g_mutex_lock(&sync->lock);
        while (sync->pending > 0)
                g_cond_wait(&sync->done, &sync->lock);
        g_mutex_unlock(&sync->lock);
        for (guint i = 0; i < sync->fds->len; i++)
                close(g_array_index(sync->fds, int, i));
        g_array_set_size(sync->fds, 0);
        if (sync->errsv != 0) {
                rv_fs_set_errno(error, sync->errsv, "cannot sync what was written");
                return FALSE;
        }
        return TRUE;
}

/* every folder below dirfd, and with files every regular file, into the batch */
static gboolean
rv_fs_sync_collect(RvFsSync *sync, int dirfd, gboolean files, GError **error)
{
        g_autoptr(GPtrArray) names = rv_fs_list_dir(dirfd, error);

        if (names == NULL)
                return FALSE;
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                struct stat st;
                int fd;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !(S_ISDIR(st.st_mode) || (files && S_ISREG(st.st_mode))))
                        continue;
                fd = rv_fs_openat(dirfd, name, O_RDONLY | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0), 0);
                if (fd < 0) {
                        rv_fs_set_errno(error, errno, "cannot open '%s' to sync it", name);
                        return FALSE;
                }
                /* a folder joins the batch once walked: a flush meanwhile must not close it */
                if (S_ISDIR(st.st_mode) && !rv_fs_sync_collect(sync, fd, files, error)) {
                        close(fd);
                        return FALSE;
                }
                g_array_append_val(sync->fds, fd);
                if (sync->fds->len >= RV_FS_SYNC_BATCH && !rv_fs_sync_flush(sync, error))
                        return FALSE;
        }
        return TRUE;
}

gboolean
rv_fs_sync_tree(int dirfd, gboolean files, GError **error)
{
        RvFsSync sync = { 0 };
        gboolean ok;

        sync.fds = g_array_new(FALSE, FALSE, sizeof(int));
        g_mutex_init(&sync.lock);
        g_cond_init(&sync.done);
        sync.pool = g_thread_pool_new(rv_fs_sync_one, &sync, RV_FS_SYNC_THREADS, FALSE, NULL);
        ok = rv_fs_sync_collect(&sync, dirfd, files, error) && rv_fs_sync_flush(&sync, error);
        if (!ok) {
                /* what is open is closed unsynced: the step fails and runs again */
                for (guint i = 0; i < sync.fds->len; i++)
                        close(g_array_index(sync.fds, int, i));
        }
        if (sync.pool != NULL)
                g_thread_pool_free(sync.pool, FALSE, TRUE);
        g_array_unref(sync.fds);
        g_mutex_clear(&sync.lock);
        g_cond_clear(&sync.done);
        /* the folder last: its entries name what is synced now */
        if (ok && fsync(dirfd) < 0) {
                rv_fs_set_errno(error, errno, "cannot sync a folder");
                ok = FALSE;
        }
        return ok;
}

/* flatten: a single top folder whose only entry is a folder takes that folder's content */

gboolean
rv_fs_step_flatten_plan(RvFsRun *run)
{
        return run->policy->flatten;
}

gboolean
rv_fs_step_flatten_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) tree = rv_fs_dir_open_at(run->work, RV_FS_WORK_TREE, TRUE, error);
        g_autoptr(GPtrArray) top = tree != NULL ? rv_fs_list_dir(tree->fd, error) : NULL;
        g_autoptr(RvFsDir) outer = NULL;
        g_autoptr(RvFsDir) inner = NULL;
        g_autoptr(GPtrArray) inside = NULL;
        const char *lifted = NULL;

        if (top == NULL)
                return FALSE;
        if (top->len != 1 || !rv_fs_is_dir_at(tree->fd, g_ptr_array_index(top, 0)))
                return TRUE;
        outer = rv_fs_dir_open_at(tree, g_ptr_array_index(top, 0), FALSE, error);
        inside = outer != NULL ? rv_fs_list_dir(outer->fd, error) : NULL;
        if (inside == NULL)
                return FALSE;
        /* an earlier run got as far as moving the inner folder aside */
        if (!rv_fs_exists_at(outer->fd, RV_FS_FLATTEN_TMP)) {
                if (inside->len != 1 || !rv_fs_is_dir_at(outer->fd, g_ptr_array_index(inside, 0)))
                        return TRUE;
                lifted = g_ptr_array_index(inside, 0);
                /* aside first: the inner folder may hold an entry of its own name */
                if (renameat(outer->fd, lifted, outer->fd, RV_FS_FLATTEN_TMP) < 0) {
                        rv_fs_set_errno(error, errno, "cannot flatten '%s'", lifted);
                        return FALSE;
                }
                json_object_set_string_member(run->detail, "lifted", lifted);
        }
        inner = rv_fs_dir_open_at(outer, RV_FS_FLATTEN_TMP, FALSE, error);
        if (inner == NULL || !rv_fs_merge_into(inner->fd, outer->fd, "the flattened folder", error))
                return FALSE;
        if (unlinkat(outer->fd, RV_FS_FLATTEN_TMP, AT_REMOVEDIR) < 0) {
                rv_fs_set_errno(error, errno, "cannot remove the flattened folder");
                return FALSE;
        }
        return TRUE;
}

/* cleanup: files matching a drop glob (and no keep glob) leave the result */

gboolean
rv_fs_step_cleanup_plan(RvFsRun *run)
{
        return g_strv_length(run->policy->cleanup_drop) > 0 || g_strv_length(run->policy->cleanup_keep) > 0;
}

static gboolean
rv_fs_globs_match(const char *const *globs, const char *path)
{
        for (guint i = 0; globs != NULL && globs[i] != NULL; i++) {
                if (g_str_equal(globs[i], RV_SELECTION_SKIP_FLUFF_TOKEN)) {
                        if (rv_fs_globs_match(rv_selection_fluff_globs(), path))
                                return TRUE;
                } else if (rv_glob_match(globs[i], path)) {
                        return TRUE;
                }
        }
        return FALSE;
}

/* a keep glob wins; with keep globs and no drop glob, what none keeps goes */
static gboolean
rv_fs_cleanup_drops(const RvFsPolicy *p, const char *path)
{
        if (rv_fs_globs_match((const char *const *)p->cleanup_keep, path))
                return FALSE;
        if (rv_fs_globs_match((const char *const *)p->cleanup_drop, path))
                return TRUE;
        return g_strv_length(p->cleanup_keep) > 0;
}

/* depth first; ret_empty tells the caller the folder was emptied by the cleanup */
static gboolean
rv_fs_cleanup_dir(RvFsRun *run, int fd, const char *prefix, JsonArray *dropped, gboolean *ret_empty, GError **error)
{
        g_autoptr(GPtrArray) names = rv_fs_list_dir(fd, error);
        guint left = 0;

        if (names == NULL)
                return FALSE;
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                g_autofree char *path = prefix[0] != '\0' ? g_strconcat(prefix, "/", name, NULL) : g_strdup(name);
                if (rv_fs_is_dir_at(fd, name)) {
                        gboolean empty = FALSE;
                        int sub = rv_fs_openat(fd, name, O_RDONLY | O_DIRECTORY, 0);
                        gboolean ok = sub >= 0 && rv_fs_cleanup_dir(run, sub, path, dropped, &empty, error);
                        if (sub < 0)
                                rv_fs_set_errno(error, errno, "cannot open '%s'", path);
                        else
                                close(sub);
                        if (!ok)
                                return FALSE;
                        if (empty && unlinkat(fd, name, AT_REMOVEDIR) == 0)
                                continue;
                        left++;
                        continue;
                }
                if (!rv_fs_cleanup_drops(run->policy, path)) {
                        left++;
                        continue;
                }
                if (unlinkat(fd, name, 0) < 0 && errno != ENOENT) {
                        rv_fs_set_errno(error, errno, "cannot drop '%s'", path);
                        return FALSE;
                }
                if (json_array_get_length(dropped) < RV_FS_CLEANUP_LISTED)
                        json_array_add_string_element(dropped, path);
                json_object_set_int_member(run->detail, "count",
                                           json_object_get_int_member_with_default(run->detail, "count", 0) + 1);
        }
        *ret_empty = names->len > 0 && left == 0;
        return TRUE;
}

gboolean
rv_fs_step_cleanup_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) tree = rv_fs_dir_open_at(run->work, RV_FS_WORK_TREE, TRUE, error);
        JsonArray *dropped = json_array_new();
        gboolean empty = FALSE;

        json_object_set_array_member(run->detail, "dropped", dropped);
        json_object_set_int_member(run->detail, "count", 0);
        return tree != NULL && rv_fs_cleanup_dir(run, tree->fd, "", dropped, &empty, error);
}

/* permissions: modes and owner of what lands in the library (umask applies as files are made) */

gboolean
rv_fs_step_permissions_plan(RvFsRun *run)
{
        const RvFsPolicy *p = run->policy;

        return p->chmod_file >= 0 || p->chmod_dir >= 0 || p->chown_user != NULL || p->chown_group != NULL;
}

typedef struct {
        RvFsRun *run;
        uid_t uid;
        gid_t gid;
        gint64 changed;
} RvFsPerms;

static gboolean
rv_fs_lookup_owner(const RvFsPolicy *p, uid_t *ret_uid, gid_t *ret_gid, GError **error)
{
        *ret_uid = (uid_t)-1;
        *ret_gid = (gid_t)-1;
        if (p->chown_user != NULL) {
                struct passwd pw;
                struct passwd *found = NULL;
                char buf[4096];
                guint64 n = 0;
                if (g_ascii_string_to_unsigned(p->chown_user, 10, 0, G_MAXUINT32 - 1, &n, NULL))
                        *ret_uid = (uid_t)n;
                else if (getpwnam_r(p->chown_user, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
                        *ret_uid = found->pw_uid;
                else {
                        rv_fs_set_error(error, RV_FS_FAILURE_UNKNOWN_OWNER, "no user '%s' (/fs/chown_user)",
                                        p->chown_user);
                        return FALSE;
                }
        }
        if (p->chown_group != NULL) {
                struct group gr;
                struct group *found = NULL;
                char buf[4096];
                guint64 n = 0;
                if (g_ascii_string_to_unsigned(p->chown_group, 10, 0, G_MAXUINT32 - 1, &n, NULL))
                        *ret_gid = (gid_t)n;
                else if (getgrnam_r(p->chown_group, &gr, buf, sizeof(buf), &found) == 0 && found != NULL)
                        *ret_gid = found->gr_gid;
                else {
                        rv_fs_set_error(error, RV_FS_FAILURE_UNKNOWN_OWNER, "no group '%s' (/fs/chown_group)",
                                        p->chown_group);
                        return FALSE;
                }
        }
        return TRUE;
}

/* one entry, never through a symlink */
static gboolean
rv_fs_perms_one(RvFsPerms *perms, int fd, const char *name, const char *path, GError **error)
{
        const RvFsPolicy *p = perms->run->policy;
        struct stat st;
        gint mode;

        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                rv_fs_set_errno(error, errno, "cannot look at '%s'", path);
                return FALSE;
        }
        mode = S_ISDIR(st.st_mode) ? p->chmod_dir : S_ISREG(st.st_mode) ? p->chmod_file : -1;
        if (mode >= 0 && (st.st_mode & 07777) != (mode_t)mode && fchmodat(fd, name, (mode_t)mode, 0) < 0) {
                rv_fs_set_errno(error, errno, "cannot change the mode of '%s'", path);
                return FALSE;
        }
        if ((perms->uid != (uid_t)-1 && st.st_uid != perms->uid) ||
            (perms->gid != (gid_t)-1 && st.st_gid != perms->gid)) {
                if (fchownat(fd, name, perms->uid, perms->gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        rv_fs_set_errno(error, errno, "cannot change the owner of '%s'", path);
                        return FALSE;
                }
        }
        perms->changed++;
        return TRUE;
}

static gboolean
rv_fs_perms_tree(RvFsPerms *perms, int fd, const char *prefix, GError **error)
{
        g_autoptr(GPtrArray) names = rv_fs_list_dir(fd, error);

        if (names == NULL)
                return FALSE;
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                g_autofree char *path = prefix[0] != '\0' ? g_strconcat(prefix, "/", name, NULL) : g_strdup(name);
                if (!rv_fs_perms_one(perms, fd, name, path, error))
                        return FALSE;
                if (rv_fs_is_dir_at(fd, name)) {
                        int sub = rv_fs_openat(fd, name, O_RDONLY | O_DIRECTORY, 0);
                        gboolean ok = sub >= 0 && rv_fs_perms_tree(perms, sub, path, error);
                        if (sub < 0)
                                rv_fs_set_errno(error, errno, "cannot open '%s'", path);
                        else
                                close(sub);
                        if (!ok)
                                return FALSE;
                }
        }
        return TRUE;
}

/* moved by libtorrent into the library: the torrent's own files and their folders are the library's too */
static gboolean
rv_fs_perms_moved(RvFsPerms *perms, GError **error)
{
        RvFsRun *run = perms->run;
        g_autoptr(GHashTable) dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < run->spec->files->len; i++) {
                const RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                g_autofree char *dir = g_path_get_dirname(f->path);
                const char *base = NULL;
                int pfd = rv_fs_open_parent(run->library->fd, f->path, FALSE, &base, error);
                gboolean ok = pfd >= 0 && rv_fs_perms_one(perms, pfd, base, f->path, error);
                if (pfd >= 0)
                        close(pfd);
                if (!ok)
                        return FALSE;
                while (!g_str_equal(dir, ".") && !g_hash_table_contains(dirs, dir)) {
                        char *parent = g_path_get_dirname(dir);
                        const char *dbase = NULL;
                        pfd = rv_fs_open_parent(run->library->fd, dir, FALSE, &dbase, error);
                        ok = pfd >= 0 && rv_fs_perms_one(perms, pfd, dbase, dir, error);
                        if (pfd >= 0)
                                close(pfd);
                        g_hash_table_add(dirs, g_steal_pointer(&dir));
                        dir = parent;
                        if (!ok)
                                return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_fs_step_permissions_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) tree = rv_fs_dir_open_at(run->work, RV_FS_WORK_TREE, TRUE, error);
        RvFsPerms perms = { run, (uid_t)-1, (gid_t)-1, 0 };

        if (tree == NULL || !rv_fs_lookup_owner(run->policy, &perms.uid, &perms.gid, error))
                return FALSE;
        if (!rv_fs_perms_tree(&perms, tree->fd, "", error))
                return FALSE;
        if (run->policy->move_mode == RV_FS_MOVE_MOVE && run->policy->library_root != NULL &&
            !rv_fs_perms_moved(&perms, error))
                return FALSE;
        json_object_set_int_member(run->detail, "entries", perms.changed);
        return TRUE;
}

/* commit: tree/ into the library, folders merged, never over a file already there */

gboolean
rv_fs_step_commit_plan(RvFsRun *run)
{
        return TRUE;
}

/* the renames into the library: its folder, and the result's folders when it is one */
static gboolean
rv_fs_sync_committed(RvFsRun *run, const char *result, GError **error)
{
        g_autoptr(RvFsDir) top = NULL;
        const char *rel = result + strlen(run->library->path);

        while (*rel == '/')
                rel++;
        if (*rel != '\0' && rv_fs_is_dir_at(run->library->fd, rel)) {
                top = rv_fs_dir_open_at(run->library, rel, FALSE, error);
                if (top == NULL || !rv_fs_sync_tree(top->fd, FALSE, error))
                        return FALSE;
        }
        if (fsync(run->library->fd) < 0) {
                rv_fs_set_errno(error, errno, "cannot sync the library");
                return FALSE;
        }
        return TRUE;
}

/* the one top entry of the result, else the library itself; known before anything moves */
static char *
rv_fs_result_path(RvFsRun *run, RvFsDir *tree, GError **error)
{
        g_autoptr(GPtrArray) top = rv_fs_list_dir(tree->fd, error);
        const char *first =
                run->spec->files->len > 0 ? ((RvFsFile *)g_ptr_array_index(run->spec->files, 0))->path : NULL;
        g_autofree char *head = first != NULL ? g_strdup(first) : NULL;

        if (top == NULL)
                return NULL;
        if (top->len == 1)
                return g_build_filename(run->library->path, g_ptr_array_index(top, 0), NULL);
        if (top->len == 0 && head != NULL) {
                /* nothing new: the torrent's own data, where it is */
                char *slash = strchr(head, '/');
                if (slash != NULL)
                        *slash = '\0';
                if (rv_fs_exists_at(run->library->fd, head))
                        return g_build_filename(run->library->path, head, NULL);
        }
        return g_strdup(run->library->path);
}

gboolean
rv_fs_step_commit_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) tree = rv_fs_dir_open_at(run->work, RV_FS_WORK_TREE, TRUE, error);
        JsonObject *planned = rv_fs_journal_step_detail(run->journal, "commit");
        const char *known =
                planned != NULL ? json_object_get_string_member_with_default(planned, "library_path", NULL) : NULL;
        g_autofree char *result = NULL;

        if (tree == NULL)
                return FALSE;
        /* a commit cut short has moved part of the result: the path it worked out then still holds */
        result = known != NULL ? g_strdup(known) : rv_fs_result_path(run, tree, error);
        if (result == NULL)
                return FALSE;
        json_object_set_string_member(run->detail, "library_path", result);
        /* recorded before the first rename */
        rv_fs_journal_step_end(run->journal, "commit", "running", json_object_ref(run->detail), NULL);
        if (!rv_fs_journal_save(run->journal, run->work->fd, TRUE, error))
                return FALSE;
        if (!rv_fs_merge_into(tree->fd, run->library->fd, "the result", error))
                return FALSE;
        rv_fs_journal_set_library_path(run->journal, result);
        return rv_fs_sync_committed(run, result, error);
}
