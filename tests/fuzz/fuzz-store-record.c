/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * the embedded store's JSON records as they are read back at start: a
 * torrent's metadata (<hash>.json), a settings history entry, an API key, and
 * the history.json and keys.json documents that hold them
 */
#include "config.h"

#include <stdlib.h>

#include "rv-fuzz.h"
#include "rv-json.h"
#include "rv-store-private.h"
#include "rv-torrent.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

/* files of a season with the usual fluff, so selection rules and overrides have something to decide */
static void
rv_fuzz_give_files(RvTorrent *torrent)
{
        static const char *const paths[] = {
                "Show/S01E01.mkv",
                "Show/S01E02.mkv",
                "Show/Sample/sample.mkv",
                "Show/info.nfo",
                "Show/Extras/proof.jpg",
                "Show/.pad/0",
                NULL,
        };

        torrent->files = g_ptr_array_new_with_free_func((GDestroyNotify)rv_engine_file_free);
        for (guint i = 0; paths[i] != NULL; i++) {
                RvEngineFile *file = g_new0(RvEngineFile, 1);
                file->path = g_strdup(paths[i]);
                file->size = 1000 * (i + 1);
                file->pad = g_str_has_prefix(paths[i], "Show/.pad/");
                g_ptr_array_add(torrent->files, file);
        }
        torrent->has_metadata = TRUE;
}

static void
rv_fuzz_meta(JsonNode *node)
{
        RvInfoHash hash;
        g_autoptr(RvTorrent) torrent = NULL;
        g_autoptr(RvTorrent) again = NULL;
        g_autoptr(JsonNode) out = NULL;
        g_autoptr(JsonNode) out_again = NULL;
        g_autofree guint8 *prio = NULL;
        const char *text = NULL;
        gsize n = 0;

        /* the store pairs the record with the hash in its file name: take the one the record claims */
        if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
                /* json-glib's _with_default getters are critical about members that are not values */
                JsonNode *member = json_object_get_member(json_node_get_object(node), "info_hash");
                if (member != NULL && JSON_NODE_HOLDS_VALUE(member))
                        text = json_node_get_string(member);
        }
        if (text == NULL || !rv_info_hash_parse(text, &hash))
                (void)rv_info_hash_parse("0123456789abcdef0123456789abcdef01234567", &hash);
        torrent = rv_torrent_new(&hash);
        if (!rv_torrent_meta_from_json(torrent, node, NULL))
                return;
        rv_fuzz_give_files(torrent);
        prio = rv_torrent_compute_priorities(torrent, &n);
        for (gsize i = 0; i < n; i++) {
                if (prio[i] > 7)
                        abort();
        }

        /* what was read is written back the same */
        out = rv_torrent_meta_to_json(torrent);
        again = rv_torrent_new(&hash);
        if (!rv_torrent_meta_from_json(again, out, NULL))
                abort();
        out_again = rv_torrent_meta_to_json(again);
        if (!json_node_equal(out, out_again))
                abort();
}

static void
rv_fuzz_history_entry(JsonNode *node)
{
        RvStoreHistoryEntry *entry = rv_store_history_entry_from_json(node, NULL);
        g_autoptr(JsonNode) out = NULL;

        if (entry == NULL)
                return;
        out = rv_store_history_entry_to_json(entry);
        rv_store_history_entry_free(entry);
}

static void
rv_fuzz_api_key(JsonNode *node)
{
        RvStoreApiKey *key = rv_store_api_key_from_json(node, NULL);
        g_autoptr(JsonNode) out = NULL;

        if (key == NULL)
                return;
        out = rv_store_api_key_to_json(key);
        rv_store_api_key_free(key);
}

/* history.json {"entries": [...]} and keys.json {"keys": [...]}, read as the store reads them */
static void
rv_fuzz_lists(JsonNode *node)
{
        JsonObject *obj;
        JsonArray *list;

        if (!JSON_NODE_HOLDS_OBJECT(node))
                return;
        obj = json_node_get_object(node);
        list = rv_json_object_get_array(obj, "entries");
        for (guint i = 0; list != NULL && i < json_array_get_length(list); i++)
                rv_fuzz_history_entry(json_array_get_element(list, i));
        list = rv_json_object_get_array(obj, "keys");
        for (guint i = 0; list != NULL && i < json_array_get_length(list); i++)
                rv_fuzz_api_key(json_array_get_element(list, i));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(JsonNode) node = rv_fuzz_json(data, size, TRUE);

        if (node == NULL)
                return 0;
        rv_fuzz_meta(node);
        rv_fuzz_history_entry(node);
        rv_fuzz_api_key(node);
        rv_fuzz_lists(node);
        return 0;
}
