/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>

#include "rv-fuzz-manager.h"
#include "rv-fuzz.h"
#include "rv-store.h"

void
rv_fuzz_manager_init(RvFuzzManager *m)
{
        const char *dir = rv_fuzz_tmpdir();
        g_autofree char *state = g_build_filename(dir, "state", NULL);
        g_autofree char *data = g_build_filename(dir, "data", NULL);
        RvManagerConfig mc;
        RvEngineSettings settings;

        g_mkdir_with_parents(data, 0755);
        m->health = rv_health_new();
        m->store = rv_store_embedded_new(state, m->health, NULL);
        if (m->store == NULL)
                abort();
        m->events = rv_event_bus_new(256, 1, NULL, NULL);
        rv_engine_settings_init(&settings);
        m->engine = rv_engine_new_fake(&settings);
        rv_engine_settings_clear(&settings);
        rv_manager_config_init(&mc);
        g_free(mc.download_dir);
        mc.download_dir = g_strdup(data);
        m->manager = rv_manager_new(m->engine, m->store, m->health, m->events, &mc);
        rv_manager_config_clear(&mc);
}
