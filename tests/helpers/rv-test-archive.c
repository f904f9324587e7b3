/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "rv-test-archive.h"
#include "rv-test-data.h"

void
rv_test_require(const char *program)
{
        g_autofree char *path = g_find_program_in_path(program);

        if (path != NULL)
                return;
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
                g_error("%s is required in CI", program);
        g_print("1..0 # SKIP %s is not installed\n", program);
        exit(77);
}

void
rv_test_run_in(const char *cwd, const char *const *argv)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        gint status = 0;

        g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("%s failed: %s", argv[0], err != NULL ? err : "");
}

static void
rv_test_make_rar(const char *cwd, const char *kind, const char *out, const char *const *inputs, gint64 volume_size)
{
        g_autofree char *script =
                g_build_filename(g_getenv("REVAER_SOURCE_ROOT"), "tests", "data", "make-rar.py", NULL);
        g_autofree char *stage = g_build_filename(cwd, ".rar-input", NULL);
        g_autofree char *size = g_strdup_printf("%" G_GINT64_FORMAT, volume_size);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        /* the script takes a folder: the inputs are linked into one */
        g_mkdir_with_parents(stage, 0755);
        for (guint i = 0; inputs[i] != NULL; i++) {
                const char *cp[] = { "cp", "-al", inputs[i], stage, NULL };
                rv_test_run_in(cwd, cp);
        }
        g_ptr_array_add(argv, "python3");
        g_ptr_array_add(argv, script);
        if (g_str_equal(kind, "rar5"))
                g_ptr_array_add(argv, "--rar5");
        if (g_str_equal(kind, "rar-old"))
                g_ptr_array_add(argv, "--old-naming");
        if (volume_size > 0) {
                g_ptr_array_add(argv, "--volume-size");
                g_ptr_array_add(argv, size);
        }
        g_ptr_array_add(argv, (gpointer)out);
        g_ptr_array_add(argv, stage);
        g_ptr_array_add(argv, NULL);
        rv_test_run_in(cwd, (const char *const *)argv->pdata);
        rv_test_data_remove_tree(stage);
}

void
rv_test_archive_make(const char *cwd, const char *kind, const char *out, const char *const *inputs, gint64 volume_size)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        if (g_str_has_prefix(kind, "rar")) {
                rv_test_require("python3");
                rv_test_make_rar(cwd, kind, out, inputs, volume_size);
                return;
        }
        if (g_str_equal(kind, "zip") || g_str_equal(kind, "zip-password")) {
                rv_test_require("zip");
                g_ptr_array_add(argv, "zip");
                g_ptr_array_add(argv, "-q");
                g_ptr_array_add(argv, "-r");
                if (g_str_equal(kind, "zip-password")) {
                        g_ptr_array_add(argv, "-P");
                        g_ptr_array_add(argv, "secret");
                }
        } else if (g_str_equal(kind, "7z")) {
                rv_test_require("7z");
                g_ptr_array_add(argv, "7z");
                g_ptr_array_add(argv, "a");
                g_ptr_array_add(argv, "-bd");
                g_ptr_array_add(argv, "-bso0");
        } else {
                rv_test_require("tar");
                g_ptr_array_add(argv, "tar");
                g_ptr_array_add(argv, g_str_equal(kind, "tar.xz") ? "-cJf" : "-czf");
        }
        g_ptr_array_add(argv, (gpointer)out);
        for (guint i = 0; inputs[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)inputs[i]);
        g_ptr_array_add(argv, NULL);
        rv_test_run_in(cwd, (const char *const *)argv->pdata);
}

static void
rv_test_hostile_entry(struct archive *a, const char *path, const char *symlink, const char *data)
{
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, path);
        if (symlink != NULL) {
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_symlink(e, symlink);
                archive_entry_set_perm(e, 0777);
        } else {
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t)strlen(data));
        }
        g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
        if (symlink == NULL)
                g_assert_cmpint(archive_write_data(a, data, strlen(data)), ==, (la_ssize_t)strlen(data));
        archive_entry_free(e);
}

void
rv_test_archive_make_hostile(const char *path, const char *kind)
{
        struct archive *a = archive_write_new();

        /* ustar keeps a name's bytes as they are: pax would mark one that is not UTF-8 */
        if (g_str_equal(kind, "dotdot-not-utf8"))
                archive_write_set_format_ustar(a);
        else
                archive_write_set_format_pax_restricted(a);
        g_assert_cmpint(archive_write_open_filename(a, path), ==, ARCHIVE_OK);
        rv_test_hostile_entry(a, "fine.txt", NULL, "harmless\n");
        if (g_str_equal(kind, "dotdot-not-utf8")) {
                rv_test_hostile_entry(a, "../../\xff\xfe-escaped.txt", NULL, "escaped\n");
        } else if (g_str_equal(kind, "dotdot")) {
                rv_test_hostile_entry(a, "../../escaped.txt", NULL, "escaped\n");
        } else if (g_str_equal(kind, "absolute")) {
                g_autofree char *abs = g_strdup_printf("%s.absolute.txt", path);
                rv_test_hostile_entry(a, abs, NULL, "absolute\n");
        } else if (g_str_equal(kind, "dot-symlink")) {
                /* the link's folder is "sub": its target leads one above the extraction folder */
                rv_test_hostile_entry(a, "sub/./out", "../..", NULL);
        } else {
                rv_test_hostile_entry(a, "out", "../../..", NULL);
                rv_test_hostile_entry(a, "out/escaped.txt", NULL, "through a link\n");
        }
        g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
        archive_write_free(a);
}

static void
rv_test_tree_walk(GHashTable *out, const char *root, const char *rel)
{
        g_autofree char *dir = g_build_filename(root, rel, NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        if (d == NULL)
                return;
        while ((name = g_dir_read_name(d)) != NULL) {
                g_autofree char *sub = rel[0] != '\0' ? g_build_filename(rel, name, NULL) : g_strdup(name);
                g_autofree char *full = g_build_filename(root, sub, NULL);
                GStatBuf st;
                if (g_lstat(full, &st) != 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        rv_test_tree_walk(out, root, sub);
                else if (S_ISREG(st.st_mode))
                        g_hash_table_insert(out, g_strdup(sub), rv_test_data_checksum_file(full));
        }
}

GHashTable *
rv_test_tree_checksums(const char *dir)
{
        GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        rv_test_tree_walk(out, dir, "");
        return out;
}

void
rv_test_assert_same_tree(const char *expected, const char *actual)
{
        g_autoptr(GHashTable) a = rv_test_tree_checksums(expected);
        g_autoptr(GHashTable) b = rv_test_tree_checksums(actual);
        GHashTableIter iter;
        gpointer key;
        gpointer value;

        g_hash_table_iter_init(&iter, a);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const char *other = g_hash_table_lookup(b, key);
                if (other == NULL)
                        g_error("'%s' is missing from '%s'", (const char *)key, actual);
                g_assert_cmpstr(other, ==, value);
        }
        g_hash_table_iter_init(&iter, b);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                if (!g_hash_table_contains(a, key))
                        g_error("'%s' in '%s' is not expected", (const char *)key, actual);
        }
}
