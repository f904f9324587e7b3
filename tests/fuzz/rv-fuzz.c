/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rv-fuzz.h"
#include "rv-json.h"

static char *rv_fuzz_dir;

static void
rv_fuzz_remove_tree(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        rv_fuzz_remove_tree(child);
                else
                        (void)g_unlink(child);
        }
        (void)g_rmdir(path);
}

static void
rv_fuzz_cleanup(void)
{
        if (rv_fuzz_dir != NULL)
                rv_fuzz_remove_tree(rv_fuzz_dir);
        g_clear_pointer(&rv_fuzz_dir, g_free);
}

/*
 * what the test setup does with G_DEBUG=fatal-criticals, and warnings too:
 * neither may follow from input. GLib ends a fatal message with a breakpoint
 * trap, which libFuzzer does not take for a crash (no input is saved), so
 * the writer aborts itself; debug and info messages are dropped
 */
static GLogWriterOutput
rv_fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
                return G_LOG_WRITER_HANDLED;
        (void)g_log_writer_standard_streams(level, fields, n_fields, user_data);
        abort();
}

/*
 * a GTask worker thread that GLib's pool starts while an input runs gets
 * blocks of its own there (the stack of current sources, and the slice
 * magazines unless G_SLICE=always-malloc, which scripts/fuzz.sh sets) that
 * live as long as the thread: libFuzzer's per-input leak check took them for
 * leaks of the input. The pool's threads are started here, before any input,
 * each made to take those blocks, and kept for the whole run.
 */
#define RV_FUZZ_WORKERS 16

static void
rv_fuzz_warm_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        g_autoptr(GQueue) queue = g_queue_new();

        g_queue_push_tail(queue, task_data);
        (void)g_queue_pop_tail(queue);
        (void)g_main_current_source();
        /* busy a while, so that the others need threads of their own */
        g_usleep(20000);
        g_task_return_boolean(task, TRUE);
}

static void
rv_fuzz_warm_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        (*(guint *)user_data)++;
}

static void
rv_fuzz_warm_threads(void)
{
        guint done = 0;

        g_thread_pool_set_max_idle_time(0);
        g_thread_pool_set_max_unused_threads(-1);
        for (guint i = 0; i < RV_FUZZ_WORKERS; i++) {
                g_autoptr(GTask) task = g_task_new(NULL, NULL, rv_fuzz_warm_done_cb, &done);
                g_task_run_in_thread(task, rv_fuzz_warm_worker);
        }
        while (done < RV_FUZZ_WORKERS)
                g_main_context_iteration(NULL, TRUE);
}

void
rv_fuzz_init(void)
{
        static gboolean done;

        if (done)
                return;
        done = TRUE;
        g_log_set_writer_func(rv_fuzz_log_writer, NULL, NULL);
        g_setenv("LC_ALL", "C.UTF-8", TRUE);
        rv_fuzz_warm_threads();
}

char *
rv_fuzz_text(const uint8_t *data, size_t size)
{
        return g_strndup((const char *)data, size);
}

GStrv
rv_fuzz_lines(const uint8_t *data, size_t size)
{
        g_autofree char *text = g_malloc(size + 1);

        memcpy(text, data, size);
        text[size] = '\0';
        /* an embedded NUL ends a line's text but not the input */
        for (size_t i = 0; i < size; i++) {
                if (text[i] == '\0')
                        text[i] = '\n';
        }
        return g_strsplit(text, "\n", -1);
}

JsonNode *
rv_fuzz_json(const uint8_t *data, size_t size, gboolean immutable)
{
        /* as the daemon parses outside input: one value, nothing after it */
        return size == 0 ? NULL : rv_json_parse((const char *)data, (gssize)size, immutable, NULL);
}

const char *
rv_fuzz_tmpdir(void)
{
        if (rv_fuzz_dir == NULL) {
                g_autoptr(GError) error = NULL;
                /* the store syncs every record it writes: on tmpfs that costs nothing */
                if (g_access("/dev/shm", W_OK) == 0) {
                        rv_fuzz_dir = g_build_filename("/dev/shm", "rv-fuzz-XXXXXX", NULL);
                        if (g_mkdtemp(rv_fuzz_dir) == NULL)
                                g_clear_pointer(&rv_fuzz_dir, g_free);
                }
                if (rv_fuzz_dir == NULL)
                        rv_fuzz_dir = g_dir_make_tmp("rv-fuzz-XXXXXX", &error);
                if (rv_fuzz_dir == NULL) {
                        g_printerr("rv-fuzz: no temp directory: %s\n", error->message);
                        abort();
                }
                atexit(rv_fuzz_cleanup);
        }
        return rv_fuzz_dir;
}

RvEngine *
rv_fuzz_engine(void)
{
        static RvEngine *engine;

        if (engine == NULL) {
                RvEngineSettings settings;
                rv_engine_settings_init(&settings);
                engine = rv_engine_new_fake(&settings);
                rv_engine_settings_clear(&settings);
        }
        return engine;
}

void
rv_fuzz_check_source(RvEngineSource *source)
{
        const RvEngineSourceInfo *info = rv_engine_source_get_info(source);
        RvEngineSourceInfo copy = *info;
        g_autoptr(GBytes) resume = NULL;
        g_autoptr(RvEngineSource) again = NULL;
        g_autoptr(GError) error = NULL;
        RvEngineAddOptions options;
        gint64 sum = 0;

        /* the documented promises of a source that parsed */
        if (!rv_info_hash_parse(info->hash.hex, &copy.hash) ||
            (info->name != NULL && !g_utf8_validate(info->name, -1, NULL)))
                abort();
        if (info->has_metadata != (info->files != NULL))
                abort();
        for (guint i = 0; info->files != NULL && i < info->files->len; i++) {
                const RvEngineFile *file = g_ptr_array_index(info->files, i);
                if (file->path == NULL || !g_utf8_validate(file->path, -1, NULL) || file->path[0] == '/' ||
                    file->size < 0)
                        abort();
                sum += file->size;
        }
        if (info->files != NULL && sum != info->total_size)
                abort();
        for (guint i = 0; info->peers != NULL && info->peers[i] != NULL; i++)
                (void)strlen(info->peers[i]);

        /* what the manager does at add: the source's own options into a resume blob, which must read back */
        rv_engine_source_get_options(source, &options);
        if (options.save_path == NULL)
                options.save_path = "/srv/revaer-fuzz";
        resume = rv_engine_source_write_resume(source, &options, &error);
        if (resume == NULL)
                return;
        again = rv_engine_source_new_resume(rv_fuzz_engine(), resume, &error);
        if (again == NULL) {
                g_printerr("rv-fuzz: a resume blob Revaer wrote does not read back: %s\n", error->message);
                abort();
        }
        if (!rv_info_hash_equal(&rv_engine_source_get_info(again)->hash, &info->hash)) {
                g_printerr("rv-fuzz: the resume blob is of %s, not %s\n", rv_engine_source_get_info(again)->hash.hex,
                           info->hash.hex);
                abort();
        }
}

GBytes *
rv_fuzz_flattened(const void *data, gsize len)
{
        char *copy = g_malloc(len + 1);

        memcpy(copy, data, len);
        copy[len] = '\0';
        return g_bytes_new_take(copy, len);
}
