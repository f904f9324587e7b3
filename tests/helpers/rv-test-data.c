/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rv-test-data.h"

#define RV_TEST_CHUNK (1024 * 1024)

/* xorshift64*: fast, and the same bytes on every machine */
static guint64
rv_test_next(guint64 *state)
{
        guint64 x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * G_GUINT64_CONSTANT(2685821657736338717);
}

gboolean
rv_test_data_write_file(const char *path, gint64 size, guint64 seed, GError **error)
{
        g_autofree guint64 *chunk = g_new(guint64, RV_TEST_CHUNK / sizeof(guint64));
        g_autofree char *tmp = g_strdup_printf("%s.part", path);
        guint64 state = seed * G_GUINT64_CONSTANT(0x9E3779B97F4A7C15) + 1;
        GStatBuf st;
        gint64 left = size;
        int fd;

        if (g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size)
                return TRUE;
        fd = g_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                int errsv = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "creating '%s' failed: %s", tmp,
                            g_strerror(errsv));
                return FALSE;
        }
        while (left > 0) {
                gsize n = (gsize)MIN(left, RV_TEST_CHUNK);
                gsize off = 0;

                for (gsize i = 0; i < RV_TEST_CHUNK / sizeof(guint64); i++)
                        chunk[i] = rv_test_next(&state);
                while (off < n) {
                        ssize_t r = write(fd, (const char *)chunk + off, n - off);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0) {
                                int errsv = errno;
                                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv),
                                            "writing '%s' failed: %s", tmp, g_strerror(errsv));
                                close(fd);
                                g_unlink(tmp);
                                return FALSE;
                        }
                        off += (gsize)r;
                }
                left -= (gint64)n;
        }
        if (close(fd) < 0 || g_rename(tmp, path) < 0) {
                int errsv = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "finishing '%s' failed: %s", path,
                            g_strerror(errsv));
                g_unlink(tmp);
                return FALSE;
        }
        return TRUE;
}

char *
rv_test_data_make_payload(const char *dir, const char *name, gint64 size, guint n_files, gboolean fluff, GError **error)
{
        g_autofree char *root = NULL;
        guint64 total_weight = 0;
        gint64 used = 0;

        if (n_files == 0)
                n_files = 1;
        if (g_mkdir_with_parents(dir, 0755) < 0) {
                int errsv = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "creating '%s' failed: %s", dir,
                            g_strerror(errsv));
                return NULL;
        }
        if (n_files == 1 && !fluff) {
                root = g_build_filename(dir, name != NULL ? name : "payload.bin", NULL);
                if (!rv_test_data_write_file(root, size, 1, error))
                        return NULL;
                return g_steal_pointer(&root);
        }

        root = g_build_filename(dir, name != NULL ? name : "payload", NULL);
        if (g_mkdir_with_parents(root, 0755) < 0) {
                int errsv = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "creating '%s' failed: %s", root,
                            g_strerror(errsv));
                return NULL;
        }
        /* varied sizes that do not line up with pieces */
        for (guint i = 0; i < n_files; i++)
                total_weight += 1 + (i * 37) % 5;
        for (guint i = 0; i < n_files; i++) {
                g_autofree char *file_name =
                        n_files == 1 ? g_strdup("payload.bin") : g_strdup_printf("file-%02u.bin", i);
                g_autofree char *path = g_build_filename(root, file_name, NULL);
                gint64 file_size;

                if (i + 1 == n_files)
                        file_size = size - used;
                else
                        file_size = (gint64)((double)size * (double)(1 + (i * 37) % 5) / (double)total_weight);
                used += file_size;
                if (!rv_test_data_write_file(path, MAX(file_size, 1), 100 + i, error))
                        return NULL;
        }
        if (fluff) {
                struct {
                        const char *path;
                        gint64 size;
                } extras[] = {
                        { "Sample/sample.mkv", MIN(MAX(size / 50, 4096), 4 * 1024 * 1024) },
                        { "proof.jpg", 65536 + 123 },
                        { "info.nfo", 2048 + 17 },
                };
                for (guint i = 0; i < G_N_ELEMENTS(extras); i++) {
                        g_autofree char *path = g_build_filename(root, extras[i].path, NULL);
                        g_autofree char *parent = g_path_get_dirname(path);
                        g_mkdir_with_parents(parent, 0755);
                        if (!rv_test_data_write_file(path, extras[i].size, 900 + i, error))
                                return NULL;
                }
        }
        return g_steal_pointer(&root);
}

char *
rv_test_data_checksum_file(const char *path)
{
        g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA1);
        g_autofree guchar *buffer = g_malloc(RV_TEST_CHUNK);
        int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);

        if (fd < 0)
                return NULL;
        for (;;) {
                ssize_t n = read(fd, buffer, RV_TEST_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        close(fd);
                        return NULL;
                }
                if (n == 0)
                        break;
                g_checksum_update(checksum, buffer, n);
        }
        close(fd);
        return g_strdup(g_checksum_get_string(checksum));
}

void
rv_test_data_remove_tree(const char *path)
{
        g_autoptr(GDir) dir = NULL;
        const char *entry;

        if (path == NULL)
                return;
        dir = g_dir_open(path, 0, NULL);
        if (dir == NULL) {
                g_unlink(path);
                return;
        }
        while ((entry = g_dir_read_name(dir)) != NULL) {
                g_autofree char *child = g_build_filename(path, entry, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        rv_test_data_remove_tree(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

gboolean
rv_test_flag_set_cb(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

GBytes *
rv_test_data_tiny_torrent(const char *prefix, guint i)
{
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *name = g_strdup_printf("%s-%07u", prefix, i);
        guint8 pieces[20];
        guint32 x = i * 2654435761u + 12345;

        for (guint k = 0; k < 20; k++) {
                x = x * 1103515245u + 12345u;
                pieces[k] = (guint8)(x >> 16);
        }
        g_string_append_printf(s, "d4:infod6:lengthi16384e4:name%zu:%s12:piece lengthi16384e6:pieces20:", strlen(name),
                               name);
        g_string_append_len(s, (const char *)pieces, 20);
        g_string_append(s, "ee");
        return g_string_free_to_bytes(g_steal_pointer(&s));
}
