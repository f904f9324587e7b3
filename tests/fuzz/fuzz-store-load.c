/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * one torrent's records as the embedded store finds them at start
 * (torrents/<hash>.json and <hash>.resume), read by the store's load and
 * restored by the manager over the fake engine. Input: the metadata JSON,
 * then a line "--resume--" and the resume record's bytes; either may be
 * empty. The files are named after the metadata's info_hash, else the
 * resume record's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rv-fuzz.h"
#include "rv-manager.h"

#define RV_FUZZ_SEPARATOR "\n--resume--\n"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

static void
rv_fuzz_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        *(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean
rv_fuzz_deadline_cb(gpointer user_data)
{
        g_printerr("rv-fuzz: the store or the manager did not finish within 10 s\n");
        abort();
        return G_SOURCE_REMOVE;
}

/* iterate until an asynchronous call is done; its result */
static GAsyncResult *
rv_fuzz_wait(GAsyncResult **slot)
{
        guint deadline = g_timeout_add_seconds(10, rv_fuzz_deadline_cb, NULL);

        while (*slot == NULL)
                g_main_context_iteration(NULL, TRUE);
        g_source_remove(deadline);
        return *slot;
}

/* the name the store would find the records under */
static void
rv_fuzz_record_hash(const char *meta, gsize meta_len, GBytes *resume, RvInfoHash *ret_hash)
{
        g_autoptr(JsonNode) node = rv_fuzz_json((const uint8_t *)meta, meta_len, TRUE);
        const char *text = NULL;

        if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
                /* json-glib's _with_default getters are critical about members that are not values */
                JsonNode *member = json_object_get_member(json_node_get_object(node), "info_hash");
                if (member != NULL && JSON_NODE_HOLDS_VALUE(member))
                        text = json_node_get_string(member);
        }
        if (text != NULL && rv_info_hash_parse(text, ret_hash))
                return;
        if (resume != NULL) {
                g_autoptr(RvEngineSource) source = rv_engine_source_new_resume(rv_fuzz_engine(), resume, NULL);
                if (source != NULL) {
                        *ret_hash = rv_engine_source_get_info(source)->hash;
                        return;
                }
        }
        (void)rv_info_hash_parse("0123456789abcdef0123456789abcdef01234567", ret_hash);
}

static void
rv_fuzz_clear_dir(const char *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                (void)g_unlink(child);
        }
}

static void
rv_fuzz_write_records(const char *torrents, const RvInfoHash *hash, const char *meta, gsize meta_len, GBytes *resume)
{
        g_mkdir_with_parents(torrents, 0700);
        if (meta_len > 0) {
                g_autofree char *name = g_strconcat(hash->hex, ".json", NULL);
                g_autofree char *path = g_build_filename(torrents, name, NULL);
                if (!g_file_set_contents_full(path, meta, (gssize)meta_len, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
                        abort();
        }
        if (resume != NULL) {
                g_autofree char *name = g_strconcat(hash->hex, ".resume", NULL);
                g_autofree char *path = g_build_filename(torrents, name, NULL);
                gsize len = 0;
                const char *bytes = g_bytes_get_data(resume, &len);
                if (!g_file_set_contents_full(path, bytes, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
                        abort();
        }
}

/* the start of revaerd over these records, and its stop */
static void
rv_fuzz_start_and_stop(const char *state)
{
        g_autoptr(RvHealth) health = rv_health_new();
        g_autoptr(RvStore) store = rv_store_embedded_new(state, health, NULL);
        g_autoptr(RvEventBus) events = rv_event_bus_new(64, 1, NULL, NULL);
        g_autoptr(RvEngine) engine = NULL;
        g_autoptr(RvManager) manager = NULL;
        g_autoptr(GAsyncResult) opened = NULL;
        g_autoptr(GAsyncResult) loaded = NULL;
        g_autoptr(GAsyncResult) stopped = NULL;
        RvEngineSettings settings;
        RvManagerConfig mc;

        if (store == NULL)
                abort();
        rv_store_open_async(store, NULL, rv_fuzz_done_cb, &opened);
        (void)rv_store_open_finish(store, rv_fuzz_wait(&opened), NULL);
        rv_engine_settings_init(&settings);
        engine = rv_engine_new_fake(&settings);
        rv_engine_settings_clear(&settings);
        rv_manager_config_init(&mc);
        manager = rv_manager_new(engine, store, health, events, &mc);
        rv_manager_config_clear(&mc);
        rv_manager_load_async(manager, NULL, rv_fuzz_done_cb, &loaded);
        (void)rv_manager_load_finish(manager, rv_fuzz_wait(&loaded), NULL);
        /* one record is one torrent at most */
        if (rv_manager_get_count(manager) > 1)
                abort();
        rv_manager_shutdown_async(manager, rv_fuzz_done_cb, &stopped);
        (void)rv_manager_shutdown_finish(manager, rv_fuzz_wait(&stopped), NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char *state;
        static char *torrents;
        static char *corrupt;
        const char *text = (const char *)data;
        const char *sep = size > 0 ? g_strstr_len(text, (gssize)size, RV_FUZZ_SEPARATOR) : NULL;
        gsize meta_len = sep != NULL ? (gsize)(sep - text) : size;
        g_autoptr(GBytes) resume = NULL;
        RvInfoHash hash;

        if (state == NULL) {
                state = g_build_filename(rv_fuzz_tmpdir(), "state", NULL);
                torrents = g_build_filename(state, "torrents", NULL);
                corrupt = g_build_filename(state, "corrupt", NULL);
        }
        if (sep != NULL && size - meta_len - strlen(RV_FUZZ_SEPARATOR) > 0)
                resume = g_bytes_new(sep + strlen(RV_FUZZ_SEPARATOR), size - meta_len - strlen(RV_FUZZ_SEPARATOR));
        rv_fuzz_record_hash(text, meta_len, resume, &hash);
        rv_fuzz_clear_dir(torrents);
        rv_fuzz_clear_dir(corrupt);
        rv_fuzz_write_records(torrents, &hash, text, meta_len, resume);
        rv_fuzz_start_and_stop(state);
        return 0;
}
