/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-engine.h"
#include "rv-test-data.h"
#include "rv-test-engine.h"

#define HASH_M "00112233445566778899aabbccddeeff00112233"
#define WAIT_MS 2000

typedef struct {
        char *dir;
        GBytes *torrent;
        RvEngine *engine;
        RvTestRecorder *recorder;
} Fixture;

static RvEngine *
new_fake(guint status_interval_ms)
{
        RvEngineSettings settings;
        RvEngine *engine;

        rv_engine_settings_init(&settings);
        g_free(settings.listen_interfaces);
        settings.listen_interfaces = g_strdup("127.0.0.1:51413");
        settings.status_interval_ms = status_interval_ms;
        engine = rv_engine_new_fake(&settings);
        rv_engine_settings_clear(&settings);
        return engine;
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *root = NULL;

        fixture->dir = g_dir_make_tmp("rv-engine-fake-XXXXXX", &error);
        g_assert_no_error(error);
        root = rv_test_data_make_payload(fixture->dir, "fake", 100000, 3, FALSE, &error);
        g_assert_no_error(error);
        fixture->torrent = rv_engine_create_torrent(root, 16384, NULL, &error);
        g_assert_no_error(error);
        /* no periodic ticks: statuses only when the test posts them, so runs compare exactly */
        fixture->engine = new_fake(0);
        fixture->recorder = rv_test_recorder_new(fixture->engine);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
        rv_engine_free(fixture->engine);
        rv_test_recorder_free(fixture->recorder);
        g_bytes_unref(fixture->torrent);
        rv_test_data_remove_tree(fixture->dir);
        g_free(fixture->dir);
}

static RvInfoHash
add_torrent(Fixture *fixture, GBytes *torrent, gboolean paused)
{
        g_autoptr(GError) error = NULL;
        RvEngineSource *source = rv_engine_source_new_torrent(fixture->engine, torrent, &error);
        RvEngineAddOptions options;
        RvInfoHash hash;

        g_assert_no_error(error);
        hash = rv_engine_source_get_info(source)->hash;
        rv_engine_add_options_init(&options);
        options.save_path = fixture->dir;
        options.paused = paused;
        g_assert_true(rv_engine_add(fixture->engine, source, &options, &error));
        g_assert_no_error(error);
        return hash;
}

static RvInfoHash
add_magnet(Fixture *fixture, const char *uri)
{
        g_autoptr(GError) error = NULL;
        RvEngineSource *source = rv_engine_source_new_magnet(fixture->engine, uri, &error);
        RvEngineAddOptions options;
        RvInfoHash hash;

        g_assert_no_error(error);
        hash = rv_engine_source_get_info(source)->hash;
        rv_engine_add_options_init(&options);
        options.save_path = fixture->dir;
        g_assert_true(rv_engine_add(fixture->engine, source, &options, &error));
        return hash;
}

/* the kinds seen so far, as "added,metadata,..." */
static char *
kinds(RvTestRecorder *recorder)
{
        GPtrArray *events = rv_test_recorder_get_events(recorder);
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < events->len; i++) {
                const RvTestEvent *event = g_ptr_array_index(events, i);
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append(out, rv_engine_event_kind_to_string(event->kind));
        }
        return g_string_free(out, FALSE);
}

static void
drain(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

static void
test_add_order(Fixture *fixture, gconstpointer data)
{
        g_autofree char *seen = NULL;
        const RvTestEvent *event;
        RvInfoHash hash;

        hash = add_torrent(fixture, fixture->torrent, FALSE);
        /* nothing is delivered from inside a call */
        g_assert_cmpuint(rv_test_recorder_get_events(fixture->recorder)->len, ==, 0);
        g_assert_cmpuint(rv_engine_get_listen_port(fixture->engine), ==, 0);
        g_assert_cmpuint(rv_engine_get_torrent_count(fixture->engine), ==, 1);

        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_METADATA, &hash, WAIT_MS);
        g_assert_nonnull(event);
        g_assert_cmpstr(event->name, ==, "fake");
        g_assert_cmpuint(event->files->len, ==, 3);
        g_assert_cmpint(event->total_size, ==, 100000);
        g_assert_cmpuint(rv_engine_get_listen_port(fixture->engine), ==, 51413);

        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_nonnull(event);
        g_assert_cmpint(event->status.state, ==, RV_ENGINE_STATE_DOWNLOADING);
        g_assert_true(event->status.has_metadata);
        g_assert_false(event->status.paused);
        g_assert_true(event->status.auto_managed);
        g_assert_cmpint(event->status.total_wanted, ==, 100000);
        g_assert_cmpint(event->status.total_size, ==, 100000);

        seen = kinds(fixture->recorder);
        g_assert_cmpstr(seen, ==, "listen-succeeded,added,metadata,status");

        /* nothing changed: no status */
        rv_engine_post_status(fixture->engine);
        drain();
        g_assert_cmpuint(rv_test_recorder_count(fixture->recorder, RV_ENGINE_EVENT_STATUS, NULL), ==, 1);
}

static void
test_conflict_not_found(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        RvEngineSource *source;
        RvInfoHash unknown;

        add_torrent(fixture, fixture->torrent, FALSE);
        source = rv_engine_source_new_torrent(fixture->engine, fixture->torrent, &error);
        g_assert_no_error(error);
        g_assert_false(rv_engine_add(fixture->engine, source, NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_CONFLICT);
        g_clear_error(&error);

        g_assert_true(rv_info_hash_parse(HASH_M, &unknown));
        g_assert_false(rv_engine_pause(fixture->engine, &unknown, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(rv_engine_remove(fixture->engine, &unknown, FALSE, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_NOT_FOUND);
        g_assert_cmpuint(rv_engine_save_resume(fixture->engine, &unknown, FALSE), ==, 0);
}

static void
test_magnet_progress(Fixture *fixture, gconstpointer data)
{
        const char *const paths[] = { "show/a.mkv", "show/b.nfo", NULL };
        const gint64 sizes[] = { 1000, 24 };
        const RvTestEvent *event;
        g_autofree char *seen = NULL;
        RvInfoHash hash = add_magnet(fixture, "magnet:?xt=urn:btih:" HASH_M "&dn=show");

        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_ADDED, &hash, WAIT_MS));
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_cmpint(event->status.state, ==, RV_ENGINE_STATE_FETCHING_METADATA);
        g_assert_false(event->status.has_metadata);

        rv_engine_fake_deliver_metadata(fixture->engine, &hash, "show", paths, sizes);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_METADATA, &hash, WAIT_MS);
        g_assert_nonnull(event);
        g_assert_cmpuint(event->files->len, ==, 2);
        g_assert_cmpint(event->total_size, ==, 1024);
        g_assert_cmpint(((RvEngineFile *)g_ptr_array_index(event->files, 1))->offset, ==, 1000);

        rv_engine_fake_set_progress(fixture->engine, &hash, 500);
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_cmpint(event->status.total_wanted_done, ==, 500);
        g_assert_cmpfloat_with_epsilon(event->status.progress, 500.0 / 1024.0, 1e-9);

        rv_engine_request_file_progress(fixture->engine, &hash, NULL);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_FILE_PROGRESS, &hash, WAIT_MS);
        g_assert_cmpuint(event->file_progress->len, ==, 2);
        g_assert_cmpint(g_array_index(event->file_progress, gint64, 0), ==, 500);
        g_assert_cmpint(g_array_index(event->file_progress, gint64, 1), ==, 0);

        rv_engine_fake_set_progress(fixture->engine, &hash, 1024);
        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_FINISHED, &hash, WAIT_MS));
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_cmpint(event->status.state, ==, RV_ENGINE_STATE_SEEDING);
        g_assert_true(event->status.is_finished);
        g_assert_cmpfloat(event->status.progress, ==, 1.0);

        /* once only */
        rv_engine_fake_set_progress(fixture->engine, &hash, 1024);
        drain();
        g_assert_cmpuint(rv_test_recorder_count(fixture->recorder, RV_ENGINE_EVENT_FINISHED, &hash), ==, 1);

        seen = kinds(fixture->recorder);
        g_assert_cmpstr(seen, ==, "listen-succeeded,added,status,metadata,status,file-progress,finished,status");
}

static void
test_priorities_finish(Fixture *fixture, gconstpointer data)
{
        const guint8 skip_last[] = { RV_FILE_PRIORITY_NORMAL, RV_FILE_PRIORITY_NORMAL, RV_FILE_PRIORITY_SKIP };
        const RvTestEvent *event;
        RvInfoHash hash = add_torrent(fixture, fixture->torrent, FALSE);
        g_autoptr(GError) error = NULL;
        gint64 wanted;

        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_METADATA, &hash, WAIT_MS));
        g_assert_false(rv_engine_set_file_priorities(fixture->engine, &hash, skip_last, 2, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_true(rv_engine_set_file_priorities(fixture->engine, &hash, skip_last, 3, NULL));
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        wanted = event->status.total_wanted;
        g_assert_cmpint(wanted, <, 100000);

        rv_engine_fake_set_progress(fixture->engine, &hash, wanted);
        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_FINISHED, &hash, WAIT_MS));
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_cmpint(event->status.state, ==, RV_ENGINE_STATE_FINISHED);
        g_assert_false(event->status.is_seeding);
}

static void
test_commands(Fixture *fixture, gconstpointer data)
{
        g_autofree char *seen = NULL;
        const RvTestEvent *event;
        RvInfoHash hash = add_torrent(fixture, fixture->torrent, TRUE);

        g_assert_true(rv_engine_pause(fixture->engine, &hash, NULL));
        g_assert_true(rv_engine_resume(fixture->engine, &hash, NULL));
        g_assert_true(rv_engine_pause(fixture->engine, &hash, NULL));
        g_assert_true(rv_engine_set_limits(fixture->engine, &hash, 1000, 2000, NULL));
        g_assert_true(rv_engine_set_sequential(fixture->engine, &hash, TRUE, NULL));
        g_assert_true(rv_engine_move_storage(fixture->engine, &hash, "/srv/elsewhere", NULL));
        g_assert_true(rv_engine_recheck(fixture->engine, &hash, NULL));
        g_assert_true(rv_engine_reannounce(fixture->engine, &hash, NULL));
        g_assert_true(rv_engine_connect_peer(fixture->engine, &hash, "127.0.0.1:1", NULL));
        rv_engine_fake_fail(fixture->engine, &hash, "disk on fire");
        rv_engine_probe(fixture->engine);
        rv_engine_post_status(fixture->engine);
        g_assert_true(rv_engine_remove(fixture->engine, &hash, TRUE, NULL));
        g_assert_cmpuint(rv_engine_get_torrent_count(fixture->engine), ==, 0);

        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_FILES_DELETED, &hash, WAIT_MS));
        seen = kinds(fixture->recorder);
        /* paused at add: the first pause is a no-op, as in libtorrent */
        g_assert_cmpstr(seen, ==,
                        "listen-succeeded,added,metadata,resumed,paused,storage-moved,error,probe,status,removed,"
                        "files-deleted");
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STORAGE_MOVED, &hash, 0);
        g_assert_cmpstr(event->save_path, ==, "/srv/elsewhere");
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_ERROR, &hash, 0);
        g_assert_cmpstr(event->error->message, ==, "disk on fire");
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, 0);
        g_assert_true(event->status.paused);
        g_assert_true(event->status.sequential);
        g_assert_cmpint(event->status.download_limit, ==, 1000);
        g_assert_cmpint(event->status.upload_limit, ==, 2000);
        g_assert_cmpstr(event->status.error, ==, "disk on fire");
}

static void
test_resume_data(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngineSource) back = NULL;
        const RvTestEvent *event;
        RvEngineAddOptions options;
        RvInfoHash hash = add_torrent(fixture, fixture->torrent, FALSE);

        g_assert_true(rv_engine_set_sequential(fixture->engine, &hash, TRUE, NULL));
        g_assert_cmpuint(rv_engine_save_resume_all(fixture->engine, TRUE), ==, 1);
        /* nothing new since */
        g_assert_cmpuint(rv_engine_save_resume_all(fixture->engine, TRUE), ==, 0);
        g_assert_cmpuint(rv_engine_save_resume(fixture->engine, &hash, TRUE), ==, 0);
        g_assert_cmpuint(rv_engine_save_resume(fixture->engine, &hash, FALSE), ==, 1);

        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_RESUME_DATA, &hash, WAIT_MS);
        g_assert_nonnull(event);
        back = rv_engine_source_new_resume(fixture->engine, event->resume_data, &error);
        g_assert_no_error(error);
        g_assert_true(rv_info_hash_equal(&rv_engine_source_get_info(back)->hash, &hash));
        g_assert_true(rv_engine_source_get_info(back)->has_metadata);
        rv_engine_source_get_options(back, &options);
        g_assert_cmpstr(options.save_path, ==, fixture->dir);
        g_assert_true(options.sequential);
        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_RESUME_DATA, &hash, WAIT_MS));
}

static void
test_metadata_rejected(Fixture *fixture, gconstpointer data)
{
        const char *const paths[] = { "ok/file", "../escape", NULL };
        const gint64 sizes[] = { 1, 1 };
        const RvTestEvent *event;
        g_autofree char *seen = NULL;
        RvInfoHash hash = add_magnet(fixture, "magnet:?xt=urn:btih:" HASH_M);

        rv_engine_fake_deliver_metadata(fixture->engine, &hash, "x", paths, sizes);
        g_assert_cmpuint(rv_engine_get_torrent_count(fixture->engine), ==, 0);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_METADATA_REJECTED, &hash, WAIT_MS);
        g_assert_error(event->error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_REMOVED, &hash, WAIT_MS));
        seen = kinds(fixture->recorder);
        g_assert_cmpstr(seen, ==, "listen-succeeded,added,metadata-rejected,removed");
}

/* the same script twice gives the same events, in the same order, with the same content */
static char *
run_script(const char *dir, GBytes *torrent)
{
        g_autoptr(RvEngine) engine = new_fake(0);
        g_autoptr(RvTestRecorder) recorder = rv_test_recorder_new(engine);
        g_autoptr(GError) error = NULL;
        RvEngineSource *source = rv_engine_source_new_torrent(engine, torrent, &error);
        RvInfoHash hash = rv_engine_source_get_info(source)->hash;
        RvInfoHash magnet;
        RvEngineAddOptions options;
        GString *out = g_string_new(NULL);
        GPtrArray *events;

        rv_engine_add_options_init(&options);
        options.save_path = dir;
        g_assert_true(rv_engine_add(engine, source, &options, NULL));
        source = rv_engine_source_new_magnet(engine, "magnet:?xt=urn:btih:" HASH_M, &error);
        magnet = rv_engine_source_get_info(source)->hash;
        g_assert_true(rv_engine_add(engine, source, &options, NULL));
        rv_engine_post_status(engine);
        rv_engine_fake_set_progress(engine, &hash, 40000);
        rv_engine_pause(engine, &magnet, NULL);
        rv_engine_post_status(engine);
        rv_engine_fake_set_progress(engine, &hash, 100000);
        rv_engine_post_status(engine);
        rv_engine_remove(engine, &magnet, FALSE, NULL);
        drain();

        events = rv_test_recorder_get_events(recorder);
        for (guint i = 0; i < events->len; i++) {
                const RvTestEvent *event = g_ptr_array_index(events, i);
                g_string_append_printf(out, "%s %s", rv_engine_event_kind_to_string(event->kind), event->hash.hex);
                if (event->has_status)
                        g_string_append_printf(out, " state=%d done=%" G_GINT64_FORMAT " paused=%d",
                                               event->status.state, event->status.total_wanted_done,
                                               event->status.paused);
                g_string_append_c(out, '\n');
        }
        return g_string_free(out, FALSE);
}

static void
test_deterministic(Fixture *fixture, gconstpointer data)
{
        g_autofree char *first = run_script(fixture->dir, fixture->torrent);
        g_autofree char *second = run_script(fixture->dir, fixture->torrent);

        g_assert_cmpstr(first, ==, second);
        g_assert_nonnull(strstr(first, "finished"));
        g_test_message("%s", first);
}

static void
test_status_ticks(Fixture *fixture, gconstpointer data)
{
        g_autoptr(RvEngine) engine = new_fake(20);
        g_autoptr(RvTestRecorder) recorder = rv_test_recorder_new(engine);
        g_autoptr(GError) error = NULL;
        RvEngineSource *source = rv_engine_source_new_torrent(engine, fixture->torrent, &error);
        RvInfoHash hash = rv_engine_source_get_info(source)->hash;
        RvEngineAddOptions options;

        rv_engine_add_options_init(&options);
        options.save_path = fixture->dir;
        g_assert_true(rv_engine_add(engine, source, &options, NULL));
        g_assert_nonnull(rv_test_recorder_wait(recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS));
        /* unchanged torrents stay quiet over several ticks */
        rv_test_run_for(100);
        g_assert_cmpuint(rv_test_recorder_count(recorder, RV_ENGINE_EVENT_STATUS, &hash), ==, 1);
        rv_engine_fake_set_progress(engine, &hash, 1);
        g_assert_nonnull(rv_test_recorder_wait(recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS));
        g_assert_cmpuint(rv_test_recorder_count(recorder, RV_ENGINE_EVENT_STATUS, &hash), ==, 2);
}

static void
test_seed_mode(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *seen = NULL;
        RvEngineSource *source = rv_engine_source_new_torrent(fixture->engine, fixture->torrent, &error);
        RvEngineAddOptions options;
        const RvTestEvent *event;
        RvInfoHash hash = rv_engine_source_get_info(source)->hash;

        rv_engine_add_options_init(&options);
        options.save_path = fixture->dir;
        options.seed_mode = TRUE;
        g_assert_true(rv_engine_add(fixture->engine, source, &options, &error));
        rv_engine_post_status(fixture->engine);
        event = rv_test_recorder_wait(fixture->recorder, RV_ENGINE_EVENT_STATUS, &hash, WAIT_MS);
        g_assert_cmpint(event->status.state, ==, RV_ENGINE_STATE_SEEDING);
        g_assert_cmpfloat(event->status.progress, ==, 1.0);
        /* as libtorrent: a torrent added in seed mode is reported finished at once */
        seen = kinds(fixture->recorder);
        g_assert_cmpstr(seen, ==, "listen-succeeded,added,metadata,finished,status");
}

static void
free_in_callback_cb(RvEngine *engine, const RvEngineEvent *event, gpointer user_data)
{
        guint *seen = user_data;

        (*seen)++;
        rv_engine_free(engine);
}

static void
test_free_in_callback(void)
{
        RvEngine *engine = new_fake(0);
        guint seen = 0;

        rv_engine_set_event_func(engine, free_in_callback_cb, &seen);
        rv_engine_probe(engine);
        rv_engine_probe(engine);
        drain();
        /* freed at the first event; the second never comes */
        g_assert_cmpuint(seen, ==, 1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
        ADD("/engine/fake/add-order", test_add_order);
        ADD("/engine/fake/conflict-not-found", test_conflict_not_found);
        ADD("/engine/fake/magnet-progress", test_magnet_progress);
        ADD("/engine/fake/priorities-finish", test_priorities_finish);
        ADD("/engine/fake/commands", test_commands);
        ADD("/engine/fake/resume-data", test_resume_data);
        ADD("/engine/fake/metadata-rejected", test_metadata_rejected);
        ADD("/engine/fake/deterministic", test_deterministic);
        ADD("/engine/fake/status-ticks", test_status_ticks);
        ADD("/engine/fake/seed-mode", test_seed_mode);
#undef ADD
        g_test_add_func("/engine/fake/free-in-callback", test_free_in_callback);
        return g_test_run();
}
