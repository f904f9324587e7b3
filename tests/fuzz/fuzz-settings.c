/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* a whole settings document, as the store hands it back and an operator may edit it */
#include "config.h"

#include <stdlib.h>

#include "rv-fuzz.h"
#include "rv-settings.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(JsonNode) document = rv_fuzz_json(data, size, FALSE);
        g_autoptr(JsonNode) normalized = NULL;
        g_autoptr(JsonNode) again = NULL;
        g_autofree char *rails = NULL;
        RvEngineSettings engine;

        if (document == NULL)
                return 0;
        normalized = rv_settings_normalize(document, NULL);
        if (normalized == NULL)
                return 0;
        /* a normalized document is valid and a fixed point */
        again = rv_settings_normalize(normalized, NULL);
        if (again == NULL || !json_node_equal(again, normalized))
                abort();
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                g_autofree char *text = rv_settings_value_to_string(rv_settings_get(normalized, d));
                g_autoptr(JsonNode) back = rv_settings_value_from_string(d, text, NULL);
                (void)back;
        }
        rv_engine_settings_init(&engine);
        rv_settings_to_engine(normalized, &engine);
        rv_engine_settings_clear(&engine);
        rails = rv_settings_guard_rails(normalized);
        return 0;
}
