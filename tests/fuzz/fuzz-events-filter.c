/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * the event stream's filters as GET /v1/events reads them: the input is the
 * request's query ("torrent=<hash>,...&kind=<kind>,...&last_event_id=N"),
 * decoded by rv_http_query_parse() as rv_http_request_query() does, then
 * ?torrent= and ?kind= through rv_http_event_filters_parse().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-events.h"
#include "rv-fuzz.h"
#include "rv-http-private.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

/* a refusal names the parameter it is about */
static void
check_refused(const GError *error, const char *torrents, const char *kinds)
{
        if (error == NULL || error->domain != RV_ERROR || error->code != RV_ERROR_INVALID_ARGUMENT)
                abort();
        if (!(g_str_has_prefix(error->message, "torrent: ") && torrents != NULL) &&
            !(g_str_has_prefix(error->message, "kind: ") && kinds != NULL))
                abort();
}

/* what was accepted: bounded, canonical, and the same when written out and read again */
static void
check_accepted(GHashTable *set, guint mask, const char *torrents, const char *kinds)
{
        g_autoptr(GString) again_torrents = g_string_new(NULL);
        g_autoptr(GString) again_kinds = g_string_new(NULL);
        g_autoptr(GHashTable) set2 = NULL;
        g_autoptr(GError) error = NULL;
        GHashTableIter iter;
        gpointer key;
        guint mask2 = 0;

        if ((set != NULL) != (torrents != NULL) || (kinds == NULL && mask != 0))
                abort();
        if ((mask & (1u << RV_EVENT_RESET)) != 0 || (mask >> RV_EVENT_LAST) != 0)
                abort();
        if (set != NULL) {
                if (g_hash_table_size(set) > RV_HTTP_MAX_FILTER)
                        abort();
                g_hash_table_iter_init(&iter, set);
                while (g_hash_table_iter_next(&iter, &key, NULL)) {
                        RvInfoHash hash;
                        if (!rv_info_hash_parse(key, &hash) || !g_str_equal(hash.hex, key))
                                abort();
                        if (again_torrents->len > 0)
                                g_string_append_c(again_torrents, ',');
                        g_string_append(again_torrents, key);
                }
        }
        for (guint k = 0; k < RV_EVENT_LAST; k++) {
                if ((mask & (1u << k)) == 0)
                        continue;
                if (again_kinds->len > 0)
                        g_string_append_c(again_kinds, ',');
                g_string_append(again_kinds, rv_event_kind_to_string(k));
        }
        if (!rv_http_event_filters_parse(set != NULL ? again_torrents->str : NULL,
                                         kinds != NULL ? again_kinds->str : NULL, &set2, &mask2, &error))
                abort();
        if (mask2 != mask || (set2 != NULL) != (set != NULL) ||
            (set != NULL && g_hash_table_size(set2) != g_hash_table_size(set)))
                abort();
        if (set != NULL) {
                g_hash_table_iter_init(&iter, set);
                while (g_hash_table_iter_next(&iter, &key, NULL)) {
                        if (!g_hash_table_contains(set2, key))
                                abort();
                }
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *query = rv_fuzz_text(data, size);
        g_autoptr(GHashTable) params = rv_http_query_parse(query);
        const char *torrents = g_hash_table_lookup(params, "torrent");
        const char *kinds = g_hash_table_lookup(params, "kind");
        g_autoptr(GHashTable) set = NULL;
        g_autoptr(GError) error = NULL;
        guint mask = 0;

        if (!rv_http_event_filters_parse(torrents, kinds, &set, &mask, &error)) {
                /* out-parameters are not written on failure */
                if (set != NULL || mask != 0)
                        abort();
                check_refused(error, torrents, kinds);
                return 0;
        }
        if (error != NULL)
                abort();
        check_accepted(set, mask, torrents, kinds);
        return 0;
}
