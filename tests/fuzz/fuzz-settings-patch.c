/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * a settings patch, as the settings object and the CLI send one: JSON
 * ({"engine": {...}} or {"/engine/x": ...}), or lines "/section/name=text" of
 * the CLI's text form
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-fuzz.h"
#include "rv-settings.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

/* the CLI's "revaerctl config set /engine/x TEXT" lines as one patch; NULL when a line is refused */
static JsonNode *
rv_fuzz_text_patch(const uint8_t *data, size_t size)
{
        g_auto(GStrv) lines = rv_fuzz_lines(data, size);
        g_autoptr(JsonObject) patch = json_object_new();
        JsonNode *node;

        for (guint i = 0; lines[i] != NULL; i++) {
                char *eq = strchr(lines[i], '=');
                const RvSettingDesc *desc;
                JsonNode *value;

                if (eq == NULL)
                        continue;
                *eq = '\0';
                desc = rv_settings_find_pointer(lines[i]);
                if (desc == NULL)
                        continue;
                value = rv_settings_value_from_string(desc, eq + 1, NULL);
                if (value == NULL)
                        return NULL;
                json_object_set_member(patch, desc->pointer, value);
        }
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(node, patch);
        return node;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(JsonNode) patch = rv_fuzz_json(data, size, FALSE);
        g_autoptr(JsonNode) current = rv_settings_defaults();
        g_autoptr(JsonNode) changes = NULL;
        g_autoptr(JsonNode) patched = NULL;
        g_autoptr(JsonNode) normalized = NULL;
        g_autoptr(JsonNode) changes_again = NULL;
        g_autoptr(JsonNode) patched_again = NULL;

        if (patch == NULL)
                patch = rv_fuzz_text_patch(data, size);
        if (patch == NULL)
                return 0;
        patched = rv_settings_apply_patch(current, patch, &changes, NULL);
        if (patched == NULL) {
                /* Revaer itself may change read-only fields; the checks are the same otherwise */
                g_autoptr(JsonNode) full = rv_settings_apply_patch_full(current, patch, TRUE, NULL, NULL);
                (void)full;
                return 0;
        }
        /*
         * what a patch makes is a valid document, and the same patch again
         * changes nothing (unless it locked what it set: immutable_keys)
         */
        normalized = rv_settings_normalize(patched, NULL);
        if (normalized == NULL || !json_node_equal(normalized, patched))
                abort();
        (void)rv_settings_limit_disabled(changes);
        patched_again = rv_settings_apply_patch(patched, patch, &changes_again, NULL);
        if (patched_again != NULL && (!json_node_equal(patched_again, patched) || changes_again == NULL ||
                                      json_object_get_size(json_node_get_object(changes_again)) != 0))
                abort();
        return 0;
}
