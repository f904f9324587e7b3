/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * the FsOps pipeline against the tools people would use by hand, on the same
 * data in one run: extracting a set of tar archives (bsdtar -x) and placing
 * the files into a library by copy (cp -r) and by hardlink (cp -al); MB/s of
 * each, and the longest stall of a main loop that runs meanwhile (the
 * pipeline runs in a GTask worker, as in revaerd). The pipeline syncs what it
 * wrote before it records a step as done, so the tools' times include a sync
 * of the file system too (their times without it are printed as well).
 *
 *   rv-bench-fsops [--dir DIR] [--size BYTES] [--archives N] [--runs N] [--keep]
 */

#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "rv-fsops-pipeline.h"
#include "rv-settings.h"
#include "rv-test-data.h"

typedef struct {
        double seconds;
        double seconds_nosync;
        /* the longest main-loop iteration (as revaerd counts stalls), and how late a 1 ms timer fired at worst */
        gint64 max_stall_us;
        gint64 max_late_us;
} RvBenchTime;

/* the time each main-loop iteration spends outside poll(), as src/daemon/rv-loopwatch.c measures it */
static GPollFunc rv_bench_poll;
static gint64 rv_bench_woke_us;
static gint64 rv_bench_busy_us;

static gint
rv_bench_poll_cb(GPollFD *fds, guint n_fds, gint timeout)
{
        gint64 now = g_get_monotonic_time();
        gint ret;

        if (rv_bench_woke_us != 0)
                rv_bench_busy_us = MAX(rv_bench_busy_us, now - rv_bench_woke_us);
        ret = rv_bench_poll(fds, n_fds, timeout);
        rv_bench_woke_us = g_get_monotonic_time();
        return ret;
}

/* NULL-terminated arguments as an owned vector */
static GStrv G_GNUC_NULL_TERMINATED
rv_bench_argv(const char *first, ...)
{
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        va_list args;

        va_start(args, first);
        for (const char *a = first; a != NULL; a = va_arg(args, const char *))
                g_strv_builder_add(b, a);
        va_end(args);
        return g_strv_builder_end(b);
}

static void
rv_bench_run(const char *cwd, const char *const *argv)
{
        g_autoptr(GError) error = NULL;
        gint status = 0;

        if (!g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error) ||
            !g_spawn_check_wait_status(status, &error)) {
                g_printerr("rv-bench-fsops: %s: %s\n", argv[0], error->message);
                exit(1);
        }
}

/* syncfs of the file system dir is on */
static void
rv_bench_sync(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0) {
                (void)syncfs(fd);
                close(fd);
        }
}

typedef struct {
        GMainLoop *loop;
        gint64 last_us;
        gint64 max_late_us;
        GError *error;
} RvBenchLoop;

/* a 1 ms timer: how late it fires is how long the loop was held or not scheduled */
static gboolean
rv_bench_tick_cb(gpointer user_data)
{
        RvBenchLoop *l = user_data;
        gint64 now = g_get_monotonic_time();

        if (l->last_us > 0)
                l->max_late_us = MAX(l->max_late_us, now - l->last_us - 1000);
        l->last_us = now;
        return G_SOURCE_CONTINUE;
}

static void
rv_bench_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvBenchLoop *l = user_data;

        (void)g_task_propagate_boolean(G_TASK(result), &l->error);
        g_main_loop_quit(l->loop);
}

/*
 * work in a GTask worker while the main loop runs and is watched, the same
 * for the tools and for the pipeline: a tool's stalls say what the machine
 * does to a loop anyway
 */
static RvBenchTime
rv_bench_watch(GTaskThreadFunc work, gpointer data)
{
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        GMainContext *context = g_main_context_default();
        RvBenchLoop l = { loop, 0, 0, NULL };
        g_autoptr(GTask) task = g_task_new(NULL, NULL, rv_bench_done_cb, &l);
        RvBenchTime t = { 0 };
        gint64 start;
        guint tick;

        g_task_set_task_data(task, data, NULL);
        tick = g_timeout_add(1, rv_bench_tick_cb, &l);
        rv_bench_poll = g_main_context_get_poll_func(context);
        rv_bench_woke_us = 0;
        rv_bench_busy_us = 0;
        g_main_context_set_poll_func(context, rv_bench_poll_cb);
        start = g_get_monotonic_time();
        g_task_run_in_thread(task, work);
        g_main_loop_run(loop);
        t.seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_main_context_set_poll_func(context, rv_bench_poll);
        g_source_remove(tick);
        t.max_stall_us = rv_bench_busy_us;
        t.max_late_us = l.max_late_us;
        if (l.error != NULL) {
                g_printerr("rv-bench-fsops: %s\n", l.error->message);
                exit(1);
        }
        return t;
}

typedef struct {
        const char *cwd;
        const char *const *const *commands;
        const char *out;
        double seconds_nosync;
} RvBenchTool;

static void
rv_bench_tool_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        RvBenchTool *tool = task_data;
        gint64 start = g_get_monotonic_time();

        for (guint i = 0; tool->commands[i] != NULL; i++)
                rv_bench_run(tool->cwd, tool->commands[i]);
        tool->seconds_nosync = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        rv_bench_sync(tool->out);
        g_task_return_boolean(task, TRUE);
}

/* a tool's run: its time with the data synced, and without */
static RvBenchTime
rv_bench_tool(const char *cwd, const char *const *const *commands, const char *out)
{
        RvBenchTool tool = { cwd, commands, out, 0 };
        RvBenchTime t;

        rv_bench_sync(out);
        t = rv_bench_watch(rv_bench_tool_worker, &tool);
        t.seconds_nosync = tool.seconds_nosync;
        return t;
}

static void
rv_bench_pipeline_worker(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        g_autofree char *path = NULL;
        GError *error = NULL;
        RvFsRunResult r = rv_fs_pipeline_run(task_data, cancellable, NULL, NULL, &path, &error);

        if (r != RV_FS_RUN_DONE)
                g_task_return_error(task, error != NULL ? error : g_error_new_literal(G_IO_ERROR, 0, "not done"));
        else
                g_task_return_boolean(task, TRUE);
}

/* the pipeline of a torrent named name in downloads, under the fs fields in json, into library */
static RvBenchTime
rv_bench_pipeline(const char *downloads, const char *name, const char *json, const char *library)
{
        g_autoptr(RvFsJobSpec) spec = rv_fs_job_spec_new();
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autofree char *patch_text = g_strdup_printf("{\"fs\": %s}", json);
        g_autoptr(JsonNode) patch = json_from_string(patch_text, NULL);
        g_autoptr(JsonNode) doc = rv_settings_apply_patch(defaults, patch, NULL, NULL);
        g_autofree char *top = g_build_filename(downloads, name, NULL);
        g_autoptr(GDir) d = g_dir_open(top, 0, NULL);
        RvBenchTime t;
        const char *entry;

        spec->info_hash = g_strdup("be0c4f5e0c4f5e0c4f5e0c4f5e0c4f5e0c4f5e0c");
        spec->name = g_strdup(name);
        spec->save_path = g_strdup(downloads);
        spec->policy = rv_fs_policy_resolve(doc, NULL, NULL);
        spec->policy->library_root = g_strdup(library);
        /* part-NN/data.bin or part-NN.tar, one level down */
        while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
                g_autofree char *full = g_build_filename(top, entry, NULL);
                gboolean is_dir = g_file_test(full, G_FILE_TEST_IS_DIR);
                g_autofree char *file = is_dir ? g_build_filename(full, "data.bin", NULL) : g_strdup(full);
                g_autofree char *rel =
                        is_dir ? g_build_filename(name, entry, "data.bin", NULL) : g_build_filename(name, entry, NULL);
                GStatBuf st;
                if (g_stat(file, &st) == 0)
                        g_ptr_array_add(spec->files, rv_fs_file_new(rel, st.st_size));
        }
        rv_bench_sync(downloads);
        t = rv_bench_watch(rv_bench_pipeline_worker, spec);
        t.seconds_nosync = t.seconds;
        return t;
}

static void
rv_bench_print(const char *what, gint64 bytes, const char *tool, RvBenchTime a, RvBenchTime b)
{
        double mb = (double)bytes / 1e6;

        g_print("%-9s %5.0f MB  %-9s %6.0f MB/s (%5.0f unsynced) %5.1f/%5.1f ms  revaer %6.0f MB/s %5.1f/%5.1f ms"
                "  %5.1f %%\n",
                what, mb, tool, mb / a.seconds, mb / a.seconds_nosync, (double)a.max_stall_us / 1000.0,
                (double)a.max_late_us / 1000.0, mb / b.seconds, (double)b.max_stall_us / 1000.0,
                (double)b.max_late_us / 1000.0, 100.0 * a.seconds / b.seconds);
}

/* 2 GiB in `archives` tar files and the same data as files */
static void
rv_bench_prepare(const char *dir, gint64 size, guint archives)
{
        g_autofree char *set = g_build_filename(dir, "downloads", "Set", NULL);
        g_autofree char *files = g_build_filename(dir, "downloads", "Files", NULL);

        g_mkdir_with_parents(set, 0755);
        g_mkdir_with_parents(files, 0755);
        for (guint i = 0; i < archives; i++) {
                g_autofree char *part = g_strdup_printf("part-%02u", i);
                g_autofree char *data = g_build_filename(files, part, "data.bin", NULL);
                g_autofree char *tar_name = g_strdup_printf("%s.tar", part);
                g_autofree char *tar = g_build_filename(set, tar_name, NULL);
                g_autofree char *pdir = g_path_get_dirname(data);
                g_autoptr(GError) error = NULL;
                const char *argv[] = { "tar", "-cf", tar, part, NULL };
                g_mkdir_with_parents(pdir, 0755);
                if (!rv_test_data_write_file(data, size / archives, i + 1, &error)) {
                        g_printerr("rv-bench-fsops: %s\n", error->message);
                        exit(1);
                }
                if (!g_file_test(tar, G_FILE_TEST_EXISTS))
                        rv_bench_run(files, argv);
        }
}

static void
rv_bench_clear(const char *dir, const char *name)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);

        rv_test_data_remove_tree(path);
}

static guint rv_bench_runs = 3;

/* the faster of two results */
static RvBenchTime
rv_bench_best(RvBenchTime a, RvBenchTime b, gboolean first)
{
        if (first)
                return b;
        a.max_stall_us = MAX(a.max_stall_us, b.max_stall_us);
        a.max_late_us = MAX(a.max_late_us, b.max_late_us);
        if (b.seconds < a.seconds) {
                a.seconds = b.seconds;
                a.seconds_nosync = b.seconds_nosync;
        }
        return a;
}

/*
 * deleting gigabytes leaves work for the file system (ext4 with discard
 * trims the freed blocks at the next journal commit) that lands on whoever
 * writes next: each run alternates who goes first, and the best of the runs
 * counts
 */
static void
rv_bench_settle(const char *out)
{
        rv_bench_sync(out);
        g_usleep(G_USEC_PER_SEC);
}

static void
rv_bench_extract(const char *dir, const char *downloads, const char *out, gint64 size, guint archives)
{
        g_autofree char *bsd = g_build_filename(out, "bsdtar", NULL);
        g_autofree char *library = g_build_filename(out, "rx", NULL);
        g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        RvBenchTime a = { 0 };
        RvBenchTime b = { 0 };

        for (guint i = 0; i < archives; i++) {
                g_autofree char *tar = g_strdup_printf("%s/Set/part-%02u.tar", downloads, i);
                g_ptr_array_add(cmds, rv_bench_argv("bsdtar", "-xf", tar, "-C", bsd, NULL));
        }
        g_ptr_array_add(cmds, NULL);
        for (guint run = 0; run < rv_bench_runs; run++) {
                for (guint turn = 0; turn < 2; turn++) {
                        g_mkdir_with_parents(bsd, 0755);
                        if ((run + turn) % 2 == 0)
                                a = rv_bench_best(a, rv_bench_tool(dir, (const char *const *const *)cmds->pdata, out),
                                                  run == 0);
                        else
                                b = rv_bench_best(b,
                                                  rv_bench_pipeline(downloads, "Set", "{\"extract\": true}", library),
                                                  run == 0);
                        rv_bench_clear(out, "bsdtar");
                        rv_bench_clear(out, "rx");
                        rv_bench_settle(out);
                }
        }
        rv_bench_print("extract", size, "bsdtar -x", a, b);
}

/* the extracted data as files, into a library by mode, against cp with flags */
static void
rv_bench_place(const char *dir, const char *downloads, const char *out, gint64 size, const char *mode, const char *tool)
{
        g_autofree char *files = g_build_filename(downloads, "Files", NULL);
        g_autofree char *cp_out = g_build_filename(out, "cp", NULL);
        g_autofree char *library = g_build_filename(out, "rp", NULL);
        g_autofree char *json = g_strdup_printf("{\"move_mode\": \"%s\"}", mode);
        g_auto(GStrv) cp = rv_bench_argv("cp", g_str_equal(mode, "copy") ? "-r" : "-al", files, cp_out, NULL);
        const char *const *cmds[] = { (const char *const *)cp, NULL };
        RvBenchTime a = { 0 };
        RvBenchTime b = { 0 };

        for (guint run = 0; run < rv_bench_runs; run++) {
                for (guint turn = 0; turn < 2; turn++) {
                        if ((run + turn) % 2 == 0)
                                a = rv_bench_best(a, rv_bench_tool(dir, cmds, out), run == 0);
                        else
                                b = rv_bench_best(b, rv_bench_pipeline(downloads, "Files", json, library), run == 0);
                        rv_bench_clear(out, "cp");
                        rv_bench_clear(out, "rp");
                        rv_bench_settle(out);
                }
        }
        rv_bench_print(mode, size, tool, a, b);
}

int
main(int argc, char **argv)
{
        g_autofree char *dir = NULL;
        gint64 size = G_GINT64_CONSTANT(2) * 1024 * 1024 * 1024;
        gint archives = 8;
        gboolean keep = FALSE;
        gint runs = 3;
        GOptionEntry entries[] = {
                { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Where to work (default: a new folder in $TMPDIR or /tmp)",
                  "DIR" },
                { "size", 0, 0, G_OPTION_ARG_INT64, &size, "Bytes in all (default 2 GiB)", "BYTES" },
                { "archives", 0, 0, G_OPTION_ARG_INT, &archives, "Tar archives in the set (default 8)", "N" },
                { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the data for the next run", NULL },
                { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs of each, the best counts (default 3)", "N" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- FsOps against bsdtar and cp");
        g_autoptr(GError) error = NULL;
        g_autofree char *downloads = NULL;
        g_autofree char *out = NULL;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || archives < 1 || size < archives) {
                g_printerr("rv-bench-fsops: %s\n", error != NULL ? error->message : "bad --size or --archives");
                return 2;
        }
        rv_bench_runs = (guint)MAX(runs, 1);
        if (dir == NULL)
                dir = g_dir_make_tmp("rv-bench-fsops-XXXXXX", NULL);
        downloads = g_build_filename(dir, "downloads", NULL);
        out = g_build_filename(dir, "out", NULL);
        g_mkdir_with_parents(out, 0755);
        g_print("FsOps against bsdtar and cp on %" G_GINT64_FORMAT " MB in %d files, in %s\n", size / 1000000, archives,
                dir);
        rv_bench_prepare(dir, size, (guint)archives);
        {
                /* the sources are read once first, so every run starts from the page cache alike */
                g_autofree char *cmd =
                        g_strdup_printf("cat '%s'/Set/* '%s'/Files/*/data.bin > /dev/null", downloads, downloads);
                const char *sh[] = { "sh", "-c", cmd, NULL };
                rv_bench_run(dir, sh);
        }
        g_print("(each: synced MB/s, then the longest main-loop iteration / the latest a 1 ms timer fired meanwhile;"
                " rv/tool: revaer's rate over the tool's)\n");
        rv_bench_extract(dir, downloads, out, size, (guint)archives);
        rv_bench_place(dir, downloads, out, size, "copy", "cp -r");
        rv_bench_place(dir, downloads, out, size, "hardlink", "cp -al");
        if (!keep)
                rv_test_data_remove_tree(dir);
        return 0;
}
