/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/*
 * confinement: every file the pipeline touches is reached from a directory
 * descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a name
 * with "..", an absolute name or a symlink anywhere below a root cannot lead
 * out of it; the roots themselves are opened from the allowed paths
 * (/fs/allowed_paths) the same way
 */
typedef struct {
        int fd;
        /* absolute, for messages and for the par2 child */
        char *path;
} RvFsDir;

void rv_fs_dir_free(RvFsDir *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvFsDir, rv_fs_dir_free)

/* whether path lies in one of roots (an empty list allows anything) */
gboolean rv_fs_path_allowed(const char *path, const char *const *roots);

/*
 * an absolute directory, beneath the allowed root it lies in (PathNotAllowed
 * when none); with create, missing directories below that root are made
 */
RvFsDir *rv_fs_dir_open_confined(const char *path, const char *const *allowed, gboolean create, GError **error);
/* a directory below dir (rel "" or "." is dir itself, reopened) */
RvFsDir *rv_fs_dir_open_at(const RvFsDir *dir, const char *rel, gboolean create, GError **error);

/* openat2 beneath dirfd without symlinks; -1 with errno set */
int rv_fs_openat(int dirfd, const char *rel, int flags, mode_t mode);

/* a relative '/'-separated path with no empty, "." or ".." part and no control character (UnsafePath) */
gboolean rv_fs_check_relpath(const char *rel, const char *what, GError **error);
/* control characters (and invalid UTF-8) replaced by '_' */
char *rv_fs_sanitize_name(const char *name);
/* an archive entry's name: relative, no ".." part (what extraction accepts) */
gboolean rv_fs_entry_name_safe(const char *path);
/* whether a symlink entry's target, seen from the entry's folder, stays inside the extraction folder */
gboolean rv_fs_link_stays_inside(const char *entry_path, const char *target);

/* rm -rf of name in dirfd, never following a symlink; a missing name is fine */
gboolean rv_fs_remove_tree_at(int dirfd, const char *name, GError **error);
/* whether a directory entry exists (no symlink followed) */
gboolean rv_fs_exists_at(int dirfd, const char *name);

G_END_DECLS
