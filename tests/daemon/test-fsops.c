/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>

#include "rv-test-archive.h"
#include "rv-test-data.h"
#include "rv-test-harness.h"

/*
 * FsOps as users meet it: revaerd on a private bus downloads archives a test
 * made from the seeder helper over loopback, and the pipeline places the
 * result into a library; every setting and result goes through D-Bus
 */

#define MIB (1024 * 1024)
#define FS_POLICY RV_BUS_POLICY_PREFIX "/fs"
#define HASH_LEN 40

/* a settings object's Update with key, GVariant, ..., NULL */
static void
set_policy_va(RvTestHarness *h, const char *path, va_list args)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        GVariantBuilder b;
        const char *key;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        while ((key = va_arg(args, const char *)) != NULL)
                g_variant_builder_add(&b, "{sv}", key, va_arg(args, GVariant *));
        reply = rv_test_call(h, path, RV_BUS_POLICY_IFACE, "Update", g_variant_new("(a{sv})", &b),
                             G_VARIANT_TYPE("(t)"), &error);
        g_assert_no_error(error);
}

/* the fs settings: key, GVariant, ..., NULL */
static void G_GNUC_NULL_TERMINATED
set_fs(RvTestHarness *h, ...)
{
        va_list args;

        va_start(args, h);
        set_policy_va(h, FS_POLICY, args);
        va_end(args);
}

/* the engine settings: key, GVariant, ..., NULL */
static void G_GNUC_NULL_TERMINATED
set_engine(RvTestHarness *h, ...)
{
        va_list args;

        va_start(args, h);
        set_policy_va(h, RV_BUS_POLICY_PREFIX "/engine", args);
        va_end(args);
}

/* the seeder's torrent, added with the seeder as its peer and extra options (key, GVariant, ..., NULL) */
static char *G_GNUC_NULL_TERMINATED
add_seeded(RvTestHarness *h, ...)
{
        g_autoptr(GBytes) data = rv_test_harness_seeder_torrent(h);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *peer = g_strdup_printf("127.0.0.1:%u", h->seeder.port);
        const char *peers[] = { peer, NULL };
        GVariantBuilder b;
        const char *key;
        char *path = NULL;
        va_list args;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "peers", g_variant_new_strv(peers, -1));
        va_start(args, h);
        while ((key = va_arg(args, const char *)) != NULL)
                g_variant_builder_add(&b, "{sv}", key, va_arg(args, GVariant *));
        va_end(args);
        reply = rv_test_call(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                             g_variant_new("(@ay@a{sv})", g_variant_new_from_bytes(G_VARIANT_TYPE("ay"), data, TRUE),
                                           g_variant_builder_end(&b)),
                             G_VARIANT_TYPE("(o)"), &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(o)", &path);
        return path;
}

static char *
get_string(RvTestHarness *h, const char *path, const char *prop)
{
        g_autoptr(GVariant) v = rv_test_get(h, path, prop);

        return g_variant_dup_string(v, NULL);
}

/* waits until the pipeline is done or failed (or retrying, when that is what is expected) and asserts which */
static void
wait_fs(RvTestHarness *h, const char *path, const char *expected, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *state = get_string(h, path, "FsState");
                if (g_str_equal(state, expected))
                        return;
                if (g_str_equal(state, "done") || g_str_equal(state, "failed") || g_get_monotonic_time() > deadline) {
                        g_autofree char *error = get_string(h, path, "FsError");
                        g_autofree char *log = rv_test_read_log(h);
                        g_printerr("%s\n", log != NULL ? log : "");
                        g_error("FsState of %s is '%s' (%s), expected '%s'", path, state, error, expected);
                }
                g_usleep(50000);
        }
}

static void
assert_fs_error(RvTestHarness *h, const char *path, const char *name)
{
        g_autofree char *error = get_string(h, path, "FsError");
        g_autofree char *prefix = g_strconcat(name, ": ", NULL);

        g_test_message("%s", error);
        if (!g_str_has_prefix(error, prefix))
                g_error("FsError is '%s', expected %s", error, name);
}

/* the torrent still seeds whatever the pipeline did */
static void
assert_seeding(RvTestHarness *h, const char *path)
{
        g_variant_unref(rv_test_wait_prop(h, path, "State", rv_test_pred_string, "seeding", 20));
}

/* a torrent of the folder or file at path, downloaded, its pipeline ended in expected */
static char *
download(RvTestHarness *h, const char *payload, const char *expected)
{
        char *path;

        rv_test_harness_start_seeder_path(h, payload);
        path = add_seeded(h, NULL);
        g_variant_unref(rv_test_wait_prop(h, path, "Completed", rv_test_pred_true, NULL, 60));
        wait_fs(h, path, expected, 60);
        rv_test_harness_stop_seeder(h);
        return path;
}

static char *
sub(RvTestHarness *h, const char *a, const char *b)
{
        return g_build_filename(h->dir, a, b, NULL);
}

/* a folder src/<name> with a text file and size random bytes */
static void
make_content(RvTestHarness *h, const char *name, gint64 size, guint64 seed)
{
        g_autofree char *text = g_build_filename(h->dir, "src", name, "docs", "readme.txt", NULL);
        g_autofree char *bin = g_build_filename(h->dir, "src", name, "data", "payload.bin", NULL);
        g_autofree char *dir = g_path_get_dirname(text);
        g_autofree char *bin_dir = g_path_get_dirname(bin);

        g_mkdir_with_parents(dir, 0755);
        g_mkdir_with_parents(bin_dir, 0755);
        g_assert_true(g_file_set_contents(text, name, -1, NULL));
        g_assert_true(rv_test_data_write_file(bin, size, seed, NULL));
}

static char *
pack_dir(RvTestHarness *h, const char *name)
{
        char *dir = g_build_filename(h->dir, "pack", name, NULL);

        g_mkdir_with_parents(dir, 0755);
        return dir;
}

static ino_t
inode_of(const char *path)
{
        GStatBuf st;

        g_assert_cmpint(g_lstat(path, &st), ==, 0);
        return st.st_ino;
}

static guint
count_in_log(RvTestHarness *h, const char *needle)
{
        g_autofree char *log = rv_test_read_log(h);
        guint n = 0;

        for (const char *p = log != NULL ? strstr(log, needle) : NULL; p != NULL; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* .revaer.meta of the torrent at path (an object path ending in its hash) */
static JsonNode *
read_journal(const char *library, const char *path)
{
        const char *hash = strrchr(path, '/') + 1;
        g_autofree char *file = g_build_filename(library, ".revaer", hash, ".revaer.meta", NULL);
        g_autofree char *text = NULL;
        JsonNode *node;

        g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
        node = json_from_string(text, NULL);
        g_assert_nonnull(node);
        return node;
}

static JsonObject *
step_of(JsonNode *journal, const char *step)
{
        return json_object_get_object_member(json_object_get_object_member(json_node_get_object(journal), "steps"),
                                             step);
}

static JsonObject *
step_detail(JsonNode *journal, const char *step)
{
        return json_object_get_object_member(step_of(journal, step), "detail");
}

static gint64
step_runs(JsonNode *journal, const char *step)
{
        return json_object_get_int_member(step_of(journal, step), "runs");
}

/* revaerctl on the test's bus; returns its exit status, ret_out its output */
static int
run_ctl(RvTestHarness *h, char **ret_out, const char *const *args)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;

        g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", h->bus_address, TRUE);
        g_ptr_array_add(argv, (gpointer)g_getenv("REVAERCTL"));
        g_ptr_array_add(argv, "--user");
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        g_assert_nonnull(g_ptr_array_index(argv, 0));
        proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error);
        g_assert_no_error(error);
        if (ret_out != NULL)
                *ret_out = g_steal_pointer(&out);
        return g_subprocess_get_exit_status(proc);
}

/* skips (77) outside CI without root, which mounting a file system takes */
static void
require_root(void)
{
        if (geteuid() == 0)
                return;
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
                g_error("the FsOps mount tests need root in CI");
        g_print("1..0 # SKIP mounting a tmpfs needs root\n");
        exit(77);
}

static void
mount_tmpfs(const char *dir, const char *options)
{
        const char *argv[] = { "mount", "-t", "tmpfs", "-o", options, "tmpfs", dir, NULL };

        g_mkdir_with_parents(dir, 0755);
        rv_test_run_in("/", argv);
}

static void
umount(const char *dir)
{
        const char *argv[] = { "umount", "-l", dir, NULL };

        rv_test_run_in("/", argv);
}

/* every archive format, extracted beside its archive into the library; the rest hardlinked */
static void
test_fsops_extract_hardlink(void)
{
        RvTestHarness h;
        const char *kinds[][3] = { { "zip", "a.zip", "0" },
                                   { "7z", "b.7z", "0" },
                                   { "tar.xz", "c.tar.xz", "0" },
                                   { "rar", "d.rar", "100000" } };
        g_autofree char *show = NULL;
        g_autofree char *library = NULL;
        g_autofree char *expected = NULL;
        g_autofree char *path = NULL;
        g_autofree char *placed = NULL;
        g_autofree char *src = NULL;

        rv_test_harness_setup(&h);
        show = pack_dir(&h, "Show");
        library = sub(&h, "library", NULL);
        expected = sub(&h, "expected", "Show");
        src = sub(&h, "src", NULL);
        g_mkdir_with_parents(expected, 0755);
        for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
                g_autofree char *name = g_strdup_printf("from-%s", kinds[i][0]);
                g_autofree char *out = g_build_filename(show, kinds[i][1], NULL);
                const char *inputs[] = { name, NULL };
                const char *cp[] = { "cp", "-r", name, expected, NULL };
                make_content(&h, name, 300000 + i, i + 1);
                rv_test_archive_make(src, kinds[i][0], out, inputs, g_ascii_strtoll(kinds[i][2], NULL, 10));
                rv_test_run_in(src, cp);
        }
        {
                g_autofree char *notes = g_build_filename(show, "notes.txt", NULL);
                const char *cp[] = { "cp", notes, expected, NULL };
                g_assert_true(g_file_set_contents(notes, "not an archive\n", -1, NULL));
                rv_test_run_in(src, cp);
        }
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), "extract", g_variant_new_boolean(TRUE), NULL);

        path = download(&h, show, "done");
        placed = g_build_filename(library, "Show", NULL);
        {
                g_autofree char *lp = get_string(&h, path, "LibraryPath");
                g_autofree char *error = get_string(&h, path, "FsError");
                g_assert_cmpstr(lp, ==, placed);
                g_assert_cmpstr(error, ==, "");
        }
        rv_test_assert_same_tree(expected, placed);
        {
                g_autofree char *linked = g_build_filename(placed, "notes.txt", NULL);
                g_autofree char *own = g_build_filename(h.downloads, "Show", "notes.txt", NULL);
                g_assert_cmpuint(inode_of(linked), ==, inode_of(own));
        }
        assert_seeding(&h, path);
        g_assert_cmpuint(count_in_log(&h, "fsops step extract done"), ==, 1);
        g_assert_cmpuint(count_in_log(&h, "fsops placed the result in"), ==, 1);

        /* a removed torrent's work folder goes; what it placed in the library stays */
        {
                g_autofree char *work = g_build_filename(library, ".revaer", strrchr(path, '/') + 1, NULL);
                g_autoptr(GError) error = NULL;
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                g_assert_true(g_file_test(work, G_FILE_TEST_IS_DIR));
                g_variant_unref(rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Remove", g_variant_new("(b)", FALSE),
                                             NULL, &error));
                g_assert_no_error(error);
                while (g_file_test(work, G_FILE_TEST_EXISTS)) {
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(20000);
                }
                rv_test_assert_same_tree(expected, placed);
        }

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* a library on another file system: hardlinks cannot reach it, the files are copied */
static void
test_fsops_copy_fallback(void)
{
        RvTestHarness h;
        g_autofree char *library = NULL;
        g_autofree char *file = NULL;
        g_autofree char *path = NULL;

        require_root();
        rv_test_harness_setup(&h);
        library = sub(&h, "tmpfs", NULL);
        mount_tmpfs(library, "size=64m");
        g_free(pack_dir(&h, ""));
        file = g_build_filename(h.dir, "pack", "film.mkv", NULL);
        g_assert_true(rv_test_data_write_file(file, 8 * MIB, 21, NULL));
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), NULL);

        path = download(&h, file, "done");
        {
                g_autofree char *placed = g_build_filename(library, "film.mkv", NULL);
                g_autofree char *own = g_build_filename(h.downloads, "film.mkv", NULL);
                g_autofree char *a = rv_test_data_checksum_file(placed);
                g_autofree char *b = rv_test_data_checksum_file(file);
                g_assert_cmpstr(a, ==, b);
                g_assert_cmpuint(inode_of(placed), !=, inode_of(own));
        }
        {
                g_autoptr(JsonNode) j = read_journal(library, path);
                g_assert_cmpint(json_object_get_int_member(step_detail(j, "place"), "copied"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(step_detail(j, "place"), "linked"), ==, 0);
        }
        assert_seeding(&h, path);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        umount(library);
        rv_test_harness_teardown(&h);
}

/* move mode: libtorrent moves the data into the library and seeds it from there */
static void
test_fsops_move(void)
{
        RvTestHarness h;
        g_autofree char *top = NULL;
        g_autofree char *library = NULL;
        g_autofree char *path = NULL;
        const char *inputs[] = { "inner", NULL };

        rv_test_harness_setup(&h);
        top = pack_dir(&h, "Mv");
        library = sub(&h, "library", NULL);
        make_content(&h, "inner", 200000, 22);
        {
                g_autofree char *zip = g_build_filename(top, "inner.zip", NULL);
                g_autofree char *src = sub(&h, "src", NULL);
                g_autofree char *plain = g_build_filename(top, "plain.bin", NULL);
                rv_test_archive_make(src, "zip", zip, inputs, 0);
                g_assert_true(rv_test_data_write_file(plain, 3 * MIB, 23, NULL));
        }
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), "extract", g_variant_new_boolean(TRUE), "move_mode",
               g_variant_new_string("move"), NULL);
        path = download(&h, top, "done");
        {
                g_autofree char *save = get_string(&h, path, "SavePath");
                g_autofree char *moved = g_build_filename(library, "Mv", "plain.bin", NULL);
                g_autofree char *readme = g_build_filename(library, "Mv", "inner", "docs", "readme.txt", NULL);
                g_autofree char *zip = g_build_filename(library, "Mv", "inner.zip", NULL);
                g_autofree char *old = g_build_filename(h.downloads, "Mv", NULL);
                g_autofree char *a = rv_test_data_checksum_file(moved);
                g_autofree char *b = g_build_filename(top, "plain.bin", NULL);
                g_autofree char *c = rv_test_data_checksum_file(b);
                g_assert_cmpstr(save, ==, library);
                g_assert_cmpstr(a, ==, c);
                g_assert_true(g_file_test(readme, G_FILE_TEST_EXISTS));
                g_assert_true(g_file_test(zip, G_FILE_TEST_EXISTS));
                g_assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
        }
        assert_seeding(&h, path);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* the torrent carries a damaged block and its recovery files: the library gets the repaired file */
static void
test_fsops_par2(void)
{
        RvTestHarness h;
        g_autofree char *top = NULL;
        g_autofree char *file = NULL;
        g_autofree char *library = NULL;
        g_autofree char *good = NULL;
        g_autofree char *path = NULL;
        const char *create[] = { "par2", "create", "-q", "-q", "-r10", "-n1", "data.par2", "data.bin", NULL };

        rv_test_require("par2");
        rv_test_harness_setup(&h);
        top = pack_dir(&h, "Par");
        file = g_build_filename(top, "data.bin", NULL);
        library = sub(&h, "library", NULL);
        g_assert_true(rv_test_data_write_file(file, 2 * MIB, 24, NULL));
        rv_test_run_in(top, create);
        good = rv_test_data_checksum_file(file);
        {
                int fd = open(file, O_WRONLY | O_CLOEXEC);
                g_assert_cmpint(pwrite(fd, "a damaged block", 15, MIB), ==, 15);
                close(fd);
        }
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), "par2", g_variant_new_string("repair"), NULL);
        path = download(&h, top, "done");
        {
                g_autofree char *placed = g_build_filename(library, "Par", "data.bin", NULL);
                g_autofree char *sum = rv_test_data_checksum_file(placed);
                g_autofree char *own = g_build_filename(h.downloads, "Par", "data.bin", NULL);
                g_autofree char *own_sum = rv_test_data_checksum_file(own);
                g_assert_cmpstr(sum, ==, good);
                /* libtorrent's copy is as the swarm has it, so it goes on seeding */
                g_assert_cmpstr(own_sum, !=, good);
        }
        assert_seeding(&h, path);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* a one-file folder pack/<name>/<name>.zip of fresh content */
static char *
small_pack(RvTestHarness *h, const char *name, guint64 seed)
{
        g_autofree char *content = g_strdup_printf("%s-content", name);
        g_autofree char *src = sub(h, "src", NULL);
        g_autofree char *zip_name = g_strdup_printf("%s.zip", name);
        char *top = pack_dir(h, name);
        g_autofree char *zip = g_build_filename(top, zip_name, NULL);
        const char *inputs[] = { content, NULL };

        make_content(h, content, 10000, seed);
        rv_test_archive_make(src, "zip", zip, inputs, 0);
        return top;
}

/*
 * a label's policy, a torrent's own fields given at add, and a settings
 * change that reaches only torrents completing after it; the torrent's own
 * fields are kept in its stored metadata
 */
static void
test_fsops_policies(void)
{
        RvTestHarness h;
        g_autofree char *lib_tv = NULL;
        g_autofree char *lib_one = NULL;
        g_autofree char *lib_two = NULL;
        g_autofree char *lib_own = NULL;
        g_autofree char *labels = NULL;
        g_autofree char *own = NULL;
        g_autofree char *pa = NULL;
        g_autofree char *pb = NULL;
        g_autofree char *pc = NULL;
        g_autofree char *pd = NULL;

        rv_test_harness_setup(&h);
        lib_tv = sub(&h, "library", "tv");
        lib_one = sub(&h, "library", "one");
        lib_two = sub(&h, "library", "two");
        lib_own = sub(&h, "library", "own");
        labels = g_strdup_printf("{\"tv\": {\"library_root\": \"%s\", \"extract\": true}}", lib_tv);
        own = g_strdup_printf("{\"library_root\": \"%s\", \"extract\": true}", lib_own);
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(lib_one), "LabelPolicies", g_variant_new_string(labels), NULL);

        {
                g_autofree char *top = small_pack(&h, "A", 31);
                const char *tv[] = { "tv", NULL };
                rv_test_harness_start_seeder_path(&h, top);
                pa = add_seeded(&h, "labels", g_variant_new_strv(tv, -1), NULL);
                wait_fs(&h, pa, "done", 60);
                rv_test_harness_stop_seeder(&h);
        }
        {
                g_autofree char *top = small_pack(&h, "B", 32);
                pb = download(&h, top, "done");
        }
        set_fs(&h, "library_root", g_variant_new_string(lib_two), NULL);
        {
                g_autofree char *top = small_pack(&h, "C", 33);
                pc = download(&h, top, "done");
        }
        {
                g_autofree char *top = small_pack(&h, "D", 34);
                rv_test_harness_start_seeder_path(&h, top);
                pd = add_seeded(&h, "fs", g_variant_new_string(own), NULL);
                wait_fs(&h, pd, "done", 60);
                rv_test_harness_stop_seeder(&h);
        }
        {
                g_autofree char *a = get_string(&h, pa, "LibraryPath");
                g_autofree char *b = get_string(&h, pb, "LibraryPath");
                g_autofree char *c = get_string(&h, pc, "LibraryPath");
                g_autofree char *d = get_string(&h, pd, "LibraryPath");
                g_autofree char *ea = g_build_filename(lib_tv, "A", NULL);
                g_autofree char *eb = g_build_filename(lib_one, "B", NULL);
                g_autofree char *ec = g_build_filename(lib_two, "C", NULL);
                g_autofree char *ed = g_build_filename(lib_own, "D", NULL);
                g_autofree char *a_extracted = g_build_filename(ea, "A-content", "docs", "readme.txt", NULL);
                g_autofree char *b_zip = g_build_filename(eb, "B.zip", NULL);
                g_autofree char *d_extracted = g_build_filename(ed, "D-content", "docs", "readme.txt", NULL);
                g_assert_cmpstr(a, ==, ea);
                g_assert_cmpstr(b, ==, eb);
                g_assert_cmpstr(c, ==, ec);
                g_assert_cmpstr(d, ==, ed);
                /* the label's extraction; none for B; D's own */
                g_assert_true(g_file_test(a_extracted, G_FILE_TEST_EXISTS));
                g_assert_true(g_file_test(b_zip, G_FILE_TEST_EXISTS));
                g_assert_true(g_file_test(d_extracted, G_FILE_TEST_EXISTS));
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        {
                const char *hash = strrchr(pd, '/') + 1;
                g_autofree char *name = g_strconcat(hash, ".json", NULL);
                g_autofree char *meta = g_build_filename(h.state, "torrents", name, NULL);
                g_autofree char *text = NULL;
                g_autoptr(JsonNode) node = NULL;
                JsonObject *fs;
                g_assert_true(g_file_get_contents(meta, &text, NULL, NULL));
                node = json_from_string(text, NULL);
                fs = json_object_get_object_member(json_node_get_object(node), "fsops");
                g_assert_cmpstr(
                        json_object_get_string_member(json_object_get_object_member(fs, "overrides"), "library_root"),
                        ==, lib_own);
                g_assert_cmpstr(json_object_get_string_member(fs, "state"), ==, "done");
        }
        /* and after a restart the torrent shows what it had */
        rv_test_harness_start_daemon(&h);
        {
                g_autofree char *d = get_string(&h, pd, "LibraryPath");
                g_autofree char *state = get_string(&h, pd, "FsState");
                g_autofree char *ed = g_build_filename(lib_own, "D", NULL);
                g_assert_cmpstr(d, ==, ed);
                g_assert_cmpstr(state, ==, "done");
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* one bad archive per torrent: each a named FsError, the torrent seeding, nothing written outside */
static void
test_fsops_bad_input(void)
{
        RvTestHarness h;
        const char *hostile[][2] = { { "dotdot", "ArchiveUnsafePath" },
                                     { "absolute", "ArchiveUnsafePath" },
                                     { "symlink", "ArchiveUnsafeLink" } };
        g_autofree char *library = NULL;
        g_autofree char *src = NULL;

        rv_test_harness_setup(&h);
        library = sub(&h, "library", NULL);
        src = sub(&h, "src", NULL);
        g_mkdir_with_parents(src, 0755);
        rv_test_harness_start_daemon(&h);
        /* seven torrents end up seeding: none may wait in libtorrent's queue (5 active seeds by default) */
        set_engine(&h, "active_seeds", g_variant_new_int64(-1), "active_limit", g_variant_new_int64(-1), NULL);
        set_fs(&h, "library_root", g_variant_new_string(library), "extract", g_variant_new_boolean(TRUE),
               "extract_max_ratio", g_variant_new_int64(2), NULL);
        for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
                g_autofree char *top = pack_dir(&h, hostile[i][0]);
                g_autofree char *tar = g_build_filename(top, "evil.tar", NULL);
                g_autofree char *path = NULL;
                rv_test_archive_make_hostile(tar, hostile[i][0]);
                path = download(&h, top, "failed");
                assert_fs_error(&h, path, hostile[i][1]);
                assert_seeding(&h, path);
        }
        {
                g_autofree char *top = pack_dir(&h, "bomb");
                g_autofree char *zeros = g_build_filename(src, "zeros.bin", NULL);
                g_autofree char *zip = g_build_filename(top, "bomb.zip", NULL);
                g_autofree char *path = NULL;
                const char *inputs[] = { "zeros.bin", NULL };
                const char *mk[] = { "truncate", "-s", "40M", zeros, NULL };
                rv_test_run_in(src, mk);
                rv_test_archive_make(src, "zip", zip, inputs, 0);
                path = download(&h, top, "failed");
                assert_fs_error(&h, path, "ArchiveBomb");
        }
        {
                g_autofree char *top = pack_dir(&h, "corrupt");
                g_autofree char *zip = g_build_filename(top, "broken.zip", NULL);
                g_autofree char *path = NULL;
                g_assert_true(rv_test_data_write_file(zip, 100000, 25, NULL));
                path = download(&h, top, "failed");
                assert_fs_error(&h, path, "ArchiveCorrupt");
        }
        {
                g_autofree char *top = pack_dir(&h, "password");
                g_autofree char *zip = g_build_filename(top, "locked.zip", NULL);
                g_autofree char *path = NULL;
                const char *inputs[] = { "locked", NULL };
                make_content(&h, "locked", 5000, 26);
                rv_test_archive_make(src, "zip-password", zip, inputs, 0);
                path = download(&h, top, "failed");
                assert_fs_error(&h, path, "ArchiveEncrypted");
                assert_seeding(&h, path);
        }
        /* nothing escaped: no such file anywhere in the test's folder but the archives' own data */
        {
                g_autoptr(GHashTable) all = rv_test_tree_checksums(h.dir);
                GHashTableIter iter;
                gpointer key;
                g_hash_table_iter_init(&iter, all);
                while (g_hash_table_iter_next(&iter, &key, NULL)) {
                        g_assert_false(g_str_has_suffix(key, "escaped.txt"));
                        g_assert_false(g_str_has_suffix(key, ".absolute.txt"));
                }
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/*
 * a full disk: the pipeline retries with backoff and succeeds once space is
 * freed; a library on a read-only file system: NotWritable, not retried,
 * until Retry after it is writable again
 */
static void
test_fsops_full_and_read_only(void)
{
        RvTestHarness h;
        g_autofree char *full = NULL;
        g_autofree char *filler = NULL;
        g_autofree char *ro = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;

        require_root();
        rv_test_harness_setup(&h);
        full = sub(&h, "full", NULL);
        ro = sub(&h, "ro", NULL);
        mount_tmpfs(full, "size=6m");
        filler = g_build_filename(full, "filler.bin", NULL);
        g_assert_true(rv_test_data_write_file(filler, 4 * MIB, 27, NULL));
        {
                g_autofree char *file = g_build_filename(h.dir, "pack", "big.bin", NULL);
                g_free(pack_dir(&h, ""));
                g_assert_true(rv_test_data_write_file(file, 4 * MIB, 28, NULL));
                rv_test_harness_start_daemon(&h);
                set_fs(&h, "library_root", g_variant_new_string(full), "retry_attempts", g_variant_new_int64(10), NULL);
                path = download(&h, file, "retrying");
        }
        assert_fs_error(&h, path, "NoSpace");
        assert_seeding(&h, path);
        g_assert_cmpint(g_unlink(filler), ==, 0);
        wait_fs(&h, path, "done", 30);
        g_clear_pointer(&path, g_free);

        mount_tmpfs(ro, "size=16m,ro");
        set_fs(&h, "library_root", g_variant_new_string(ro), NULL);
        {
                g_autofree char *file = g_build_filename(h.dir, "pack", "small.bin", NULL);
                g_assert_true(rv_test_data_write_file(file, MIB, 29, NULL));
                path = download(&h, file, "failed");
        }
        assert_fs_error(&h, path, "NotWritable");
        assert_seeding(&h, path);
        {
                const char *argv[] = { "mount", "-o", "remount,rw", ro, NULL };
                rv_test_run_in("/", argv);
        }
        g_variant_unref(rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Retry", NULL, NULL, &error));
        g_assert_no_error(error);
        wait_fs(&h, path, "done", 30);
        /* done is done: a second Retry is refused */
        g_assert_null(rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Retry", NULL, NULL, &error));
        {
                g_autofree char *name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, RV_BUS_ERROR_PREFIX "Conflict");
        }
        /* and through revaerctl */
        {
                const char *hash = strrchr(path, '/') + 1;
                const char *retry[] = { "fsops", "retry", hash, NULL };
                const char *status[] = { "--json", "fsops", "status", hash, NULL };
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) node = NULL;
                g_assert_cmpint(run_ctl(&h, NULL, retry), ==, 3);
                g_assert_cmpint(run_ctl(&h, &out, status), ==, 0);
                node = json_from_string(out, NULL);
                g_assert_nonnull(node);
                g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "fs_state"), ==, "done");
                g_assert_true(g_str_has_prefix(
                        json_object_get_string_member(json_node_get_object(node), "library_path"), ro));
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        umount(full);
        umount(ro);
        rv_test_harness_teardown(&h);
}

/* a torrent of one small file, downloaded, its pipeline then in state expected */
static char *
download_small(RvTestHarness *h, const char *name, guint64 seed, const char *expected)
{
        g_autofree char *top = pack_dir(h, name);
        g_autofree char *file = g_build_filename(top, "data.bin", NULL);

        g_assert_true(rv_test_data_write_file(file, 256 * 1024, seed, NULL));
        return download(h, top, expected);
}

/*
 * transient failures (busy, an I/O error once) are tried again after a
 * backoff, an I/O error twice is final, and Retry cuts a backoff short; the
 * faults are injected at the start of the place step (REVAER_FSOPS_FAULT)
 */
static void
test_fsops_retries(void)
{
        RvTestHarness h;
        g_autofree char *library = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;

        rv_test_harness_setup(&h);
        library = sub(&h, "library", NULL);

        /* busy twice: tried a third time, after 100 then 200 ms */
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_FAULT", "place:EBUSY:2");
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_BACKOFF_MS", "100");
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), NULL);
        path = download_small(&h, "busy", 51, "done");
        {
                g_autoptr(JsonNode) journal = read_journal(library, path);
                g_assert_cmpint(step_runs(journal, "place"), ==, 3);
        }
        g_assert_cmpuint(count_in_log(&h, "fsops failed, retrying in"), ==, 2);
        g_clear_pointer(&path, g_free);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);

        /* an I/O error once is tried again; twice is final, until Retry */
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_FAULT", "place:EIO:2");
        rv_test_harness_start_daemon(&h);
        path = download_small(&h, "eio", 52, "failed");
        assert_fs_error(&h, path, "IoError");
        assert_seeding(&h, path);
        {
                g_autoptr(JsonNode) journal = read_journal(library, path);
                g_autofree char *placed = g_build_filename(library, "eio", NULL);
                g_assert_cmpint(step_runs(journal, "place"), ==, 2);
                g_assert_false(g_file_test(placed, G_FILE_TEST_EXISTS));
        }
        g_variant_unref(rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Retry", NULL, NULL, &error));
        g_assert_no_error(error);
        wait_fs(&h, path, "done", 30);
        g_clear_pointer(&path, g_free);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);

        /* busy once with a backoff of ten minutes: Retry runs it now */
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_FAULT", "place:EBUSY:1");
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_BACKOFF_MS", "600000");
        rv_test_harness_start_daemon(&h);
        path = download_small(&h, "waiting", 53, "retrying");
        assert_fs_error(&h, path, "Busy");
        g_variant_unref(rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Retry", NULL, NULL, &error));
        g_assert_no_error(error);
        wait_fs(&h, path, "done", 30);
        {
                g_autoptr(JsonNode) journal = read_journal(library, path);
                g_assert_cmpint(step_runs(journal, "place"), ==, 2);
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

/* the first file below dir whose name ends in suffix and that holds at least min bytes */
static char *
find_growing(const char *dir, const char *suffix, gint64 min)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
                g_autofree char *full = g_build_filename(dir, name, NULL);
                GStatBuf st;
                if (g_lstat(full, &st) != 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        char *found = find_growing(full, suffix, min);
                        if (found != NULL)
                                return found;
                } else if (g_str_has_suffix(name, suffix) && st.st_size >= min) {
                        return g_steal_pointer(&full);
                }
        }
        return NULL;
}

/* kill -9 once a file in the work folder has grown past min: the pipeline is mid-step */
static void
kill_when_growing(RvTestHarness *h, const char *work, const char *suffix)
{
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        g_autofree char *found = NULL;

        while ((found = find_growing(work, suffix, MIB)) == NULL) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(5000);
        }
        g_test_message("killed while '%s' was being written", found);
        kill(atoi(g_subprocess_get_identifier(h->daemon)), SIGKILL);
        (void)g_subprocess_wait(h->daemon, NULL, NULL);
}

/* nothing under the library's own names but whole files; no step logged as done twice */
static void
assert_clean_finish(RvTestHarness *h, const char *library, const char *path)
{
        g_autoptr(JsonNode) j = read_journal(library, path);
        g_autoptr(GHashTable) all = rv_test_tree_checksums(library);
        GHashTableIter iter;
        gpointer key;
        const char *steps[] = { "par2", "extract", "place", "flatten", "cleanup", "permissions", "commit", NULL };

        g_hash_table_iter_init(&iter, all);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                g_assert_false(g_str_has_suffix(key, ".revaer-part"));
                g_assert_false(g_str_has_prefix(key, ".revaer/") && !g_str_has_suffix(key, "/.revaer.meta"));
        }
        for (guint i = 0; steps[i] != NULL; i++) {
                g_autofree char *line = g_strdup_printf("fsops step %s done", steps[i]);
                g_assert_cmpuint(count_in_log(h, line), <=, 1);
        }
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(j), "state"), ==, "done");
}

/*
 * move mode with the library on another file system: libtorrent copies the
 * data there and removes it only once all is copied; kill -9 in the middle
 * of that copy, restart: the move runs again, the library gets whole files
 * and the torrent seeds from there
 */
static void
test_fsops_crash_move(void)
{
        RvTestHarness h;
        g_autofree char *top = NULL;
        g_autofree char *library = NULL;
        g_autofree char *path = NULL;
        g_autofree char *placed = NULL;
        g_autofree char *old = NULL;

        require_root();
        rv_test_harness_setup(&h);
        top = pack_dir(&h, "Moving");
        library = sub(&h, "library", NULL);
        mount_tmpfs(library, "size=512m");
        for (guint i = 0; i < 6; i++) {
                g_autofree char *name = g_strdup_printf("part-%u.bin", i);
                g_autofree char *file = g_build_filename(top, name, NULL);
                g_assert_true(rv_test_data_write_file(file, 48 * MIB, 60 + i, NULL));
        }
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), "move_mode", g_variant_new_string("move"), NULL);
        rv_test_harness_start_seeder_path(&h, top);
        path = add_seeded(&h, NULL);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 120));
        placed = g_build_filename(library, "Moving", NULL);
        kill_when_growing(&h, placed, ".bin");
        {
                g_autoptr(JsonNode) j = read_journal(library, path);
                g_assert_cmpstr(json_object_get_string_member(step_of(j, "move"), "state"), ==, "running");
        }

        rv_test_harness_start_daemon(&h);
        wait_fs(&h, path, "done", 120);
        rv_test_assert_same_tree(top, placed);
        old = g_build_filename(h.downloads, "Moving", NULL);
        g_assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
        {
                g_autofree char *save = get_string(&h, path, "SavePath");
                g_autoptr(JsonNode) j = read_journal(library, path);
                g_assert_cmpstr(save, ==, library);
                /* cut short; asking libtorrent again; finding the data moved */
                g_assert_cmpint(step_runs(j, "move"), ==, 3);
                g_assert_cmpuint(count_in_log(&h, "fsops step move done"), ==, 1);
        }
        assert_clean_finish(&h, library, path);
        assert_seeding(&h, path);
        rv_test_harness_stop_seeder(&h);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        umount(library);
        rv_test_harness_teardown(&h);
}

/* kill -9 in the middle of an extraction, then in the middle of a copy: each resumes and ends as a clean run would */
static void
test_fsops_crash(gconstpointer data)
{
        const char *where = data;
        RvTestHarness h;
        g_autofree char *top = NULL;
        g_autofree char *library = NULL;
        g_autofree char *expected = NULL;
        g_autofree char *path = NULL;
        g_autofree char *work = NULL;
        g_autofree char *placed = NULL;
        gboolean extract = g_str_equal(where, "extract");

        rv_test_harness_setup(&h);
        top = pack_dir(&h, "Crash");
        library = sub(&h, "library", NULL);
        expected = sub(&h, "expected", "Crash");
        g_mkdir_with_parents(expected, 0755);
        if (extract) {
                g_autofree char *src = sub(&h, "src", NULL);
                g_autofree char *tar = g_build_filename(top, "big.tar.gz", NULL);
                const char *inputs[] = { "big", NULL };
                const char *cp[] = { "cp", "-r", "big", expected, NULL };
                make_content(&h, "big", 24 * MIB, 30);
                rv_test_archive_make(src, "tar.gz", tar, inputs, 0);
                rv_test_run_in(src, cp);
        } else {
                g_autofree char *big = g_build_filename(top, "big.bin", NULL);
                const char *cp[] = { "cp", big, expected, NULL };
                g_assert_true(rv_test_data_write_file(big, 24 * MIB, 30, NULL));
                rv_test_run_in(top, cp);
        }
        /* 12 MB/s: two seconds of writing, long enough to be caught in the middle */
        rv_test_harness_set_daemon_env(&h, "REVAER_FSOPS_THROTTLE", "12000000");
        rv_test_harness_start_daemon(&h);
        set_fs(&h, "library_root", g_variant_new_string(library), "extract", g_variant_new_boolean(extract),
               "move_mode", g_variant_new_string("copy"), NULL);
        rv_test_harness_start_seeder_path(&h, top);
        path = add_seeded(&h, NULL);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        work = g_build_filename(library, ".revaer", strrchr(path, '/') + 1, NULL);
        kill_when_growing(&h, work, extract ? ".bin" : ".revaer-part");

        /* nothing under its final name yet, and the journal stops in the step */
        placed = g_build_filename(library, "Crash", NULL);
        g_assert_false(g_file_test(placed, G_FILE_TEST_EXISTS));
        {
                g_autoptr(JsonNode) j = read_journal(library, path);
                JsonObject *step = step_of(j, where);
                g_assert_cmpstr(json_object_get_string_member(step, "state"), ==, "running");
                g_assert_cmpint(json_object_get_int_member(step, "runs"), ==, 1);
        }

        rv_test_harness_start_daemon(&h);
        wait_fs(&h, path, "done", 60);
        rv_test_assert_same_tree(expected, placed);
        assert_clean_finish(&h, library, path);
        {
                g_autoptr(JsonNode) j = read_journal(library, path);
                g_autofree char *line = g_strdup_printf("fsops step %s done", where);
                /* the interrupted step ran again, once; the steps before it not at all */
                g_assert_cmpint(step_runs(j, where), ==, 2);
                g_assert_cmpint(step_runs(j, "commit"), ==, 1);
                if (!extract)
                        g_assert_cmpstr(json_object_get_string_member(step_of(j, "extract"), "state"), ==, "skipped");
                else
                        g_assert_cmpint(step_runs(j, "place"), ==, 1);
                g_assert_cmpuint(count_in_log(&h, line), ==, 1);
        }
        assert_seeding(&h, path);
        rv_test_harness_stop_seeder(&h);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fsops/extract-hardlink", test_fsops_extract_hardlink);
        g_test_add_func("/fsops/copy-fallback", test_fsops_copy_fallback);
        g_test_add_func("/fsops/move", test_fsops_move);
        g_test_add_func("/fsops/par2", test_fsops_par2);
        g_test_add_func("/fsops/policies", test_fsops_policies);
        g_test_add_func("/fsops/bad-input", test_fsops_bad_input);
        g_test_add_func("/fsops/full-and-read-only", test_fsops_full_and_read_only);
        g_test_add_func("/fsops/retries", test_fsops_retries);
        g_test_add_data_func("/fsops/crash/extract", "extract", test_fsops_crash);
        g_test_add_data_func("/fsops/crash/copy", "place", test_fsops_crash);
        g_test_add_func("/fsops/crash/move", test_fsops_crash_move);
        return g_test_run();
}
