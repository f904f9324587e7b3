/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * archives made the way users get them, for the FsOps tests: zip (Info-ZIP),
 * 7z (p7zip-full), tar with gzip and xz (GNU tar), RAR 4 and RAR 5 from
 * tests/data/make-rar.py (nothing in Debian writes RAR); hostile ones are
 * written entry by entry with libarchive
 */

#include <glib.h>

G_BEGIN_DECLS

/* skips (77) outside CI when a program the test needs is missing */
void rv_test_require(const char *program);

/* runs argv (NULL-terminated) in cwd and asserts it exits 0 */
void rv_test_run_in(const char *cwd, const char *const *argv);

/*
 * out (relative to cwd) from the inputs (relative to cwd); kind: "zip",
 * "7z", "tar.gz", "tar.xz", "rar" (RAR 4), "rar-old" (RAR 4 volumes named
 * .rar, .r00, ...), "rar5", "zip-password"; volume_size > 0 splits the RAR
 * kinds (the name is then out's stem plus .partN.rar)
 */
void rv_test_archive_make(const char *cwd, const char *kind, const char *out, const char *const *inputs,
                          gint64 volume_size);

/*
 * a tar whose one entry is hostile: "dotdot" (../escaped.txt), "dotdot-not-utf8" (the same, its name not UTF-8),
 * "absolute"
 * (/tmp/...), "symlink" (a link to ../../outside, then a file through it),
 * "dot-symlink" (sub/./out, a link to ../..)
 */
void rv_test_archive_make_hostile(const char *path, const char *kind);

/* relative path -> SHA-1 of every regular file below dir */
GHashTable *rv_test_tree_checksums(const char *dir);
/* the same file names and contents */
void rv_test_assert_same_tree(const char *expected, const char *actual);

G_END_DECLS
