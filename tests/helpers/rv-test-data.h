/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* deterministic payloads for transfer tests, the seeder helper and the benchmarks */

#include <glib.h>

G_BEGIN_DECLS

/* write size pseudo-random bytes derived from seed; keeps an existing file of the right size */
gboolean rv_test_data_write_file(const char *path, gint64 size, guint64 seed, GError **error);

/*
 * make a payload under dir: one file named name (default "payload.bin") when
 * n_files is 1 and there is no fluff, else a folder name (default "payload")
 * with n_files files of varied sizes that add up to size, plus
 * Sample/sample.mkv, proof.jpg and info.nfo when fluff is set; returns the
 * path of the file or folder
 */
char *rv_test_data_make_payload(const char *dir, const char *name, gint64 size, guint n_files, gboolean fluff,
                                GError **error);

/* the smallest valid .torrent, "<prefix>-<i>" of one 16 KiB piece, different for every i */
GBytes *rv_test_data_tiny_torrent(const char *prefix, guint i);

/* hex SHA-1 of a file's content, NULL when it cannot be read */
char *rv_test_data_checksum_file(const char *path);

/* rm -rf, for temp dirs of tests */
void rv_test_data_remove_tree(const char *path);

/* GSourceFunc that sets the gboolean at data, for deadlines */
gboolean rv_test_flag_set_cb(gpointer data);

/* iterate the default main context until cond holds or 5 s pass, then assert cond */
#define RV_TEST_WAIT_FOR(cond)                                                   \
        G_STMT_START                                                             \
        {                                                                        \
                gboolean expired_ = FALSE;                                       \
                guint id_ = g_timeout_add(5000, rv_test_flag_set_cb, &expired_); \
                while (!(cond) && !expired_)                                     \
                        g_main_context_iteration(NULL, TRUE);                    \
                if (!expired_)                                                   \
                        g_source_remove(id_);                                    \
                g_assert_true(cond);                                             \
        }                                                                        \
        G_STMT_END

G_END_DECLS
