/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-test-engine.h"

struct _RvTestRecorder {
        RvEngine *engine;
        GPtrArray *events;
};

static void
rv_test_event_free(RvTestEvent *event)
{
        rv_engine_owned_event_clear((RvEngineOwnedEvent *)event);
        g_free(event);
}

static void
rv_test_recorder_event_cb(RvEngine *engine, const RvEngineEvent *event, gpointer user_data)
{
        RvTestRecorder *recorder = user_data;
        RvTestEvent *copy = g_new0(RvTestEvent, 1);

        /* the owned members come first, as in RvEngineOwnedEvent */
        rv_engine_event_copy(event, (RvEngineOwnedEvent *)copy);
        copy->time_us = g_get_monotonic_time();
        g_ptr_array_add(recorder->events, copy);
}

RvTestRecorder *
rv_test_recorder_new(RvEngine *engine)
{
        RvTestRecorder *recorder = g_new0(RvTestRecorder, 1);

        recorder->engine = engine;
        recorder->events = g_ptr_array_new_with_free_func((GDestroyNotify)rv_test_event_free);
        rv_engine_set_event_func(engine, rv_test_recorder_event_cb, recorder);
        return recorder;
}

void
rv_test_recorder_free(RvTestRecorder *recorder)
{
        if (recorder == NULL)
                return;
        g_ptr_array_unref(recorder->events);
        g_free(recorder);
}

GPtrArray *
rv_test_recorder_get_events(RvTestRecorder *recorder)
{
        return recorder->events;
}

static gboolean
rv_test_event_matches(const RvTestEvent *event, RvEngineEventKind kind, const RvInfoHash *hash)
{
        return event->kind == kind && (hash == NULL || rv_info_hash_equal(&event->hash, hash));
}

guint
rv_test_recorder_count(RvTestRecorder *recorder, RvEngineEventKind kind, const RvInfoHash *hash)
{
        guint n = 0;

        for (guint i = 0; i < recorder->events->len; i++) {
                if (rv_test_event_matches(g_ptr_array_index(recorder->events, i), kind, hash))
                        n++;
        }
        return n;
}

static gboolean
rv_test_timeout_cb(gpointer user_data)
{
        gboolean *expired = user_data;
        *expired = TRUE;
        return G_SOURCE_REMOVE;
}

static const RvTestEvent *
rv_test_recorder_wait_full(RvTestRecorder *recorder, RvEngineEventKind kind, const RvInfoHash *hash,
                           RvTestStatusFunc func, gpointer user_data, guint timeout_ms)
{
        gboolean expired = FALSE;
        guint scanned = 0;
        guint timeout_id = g_timeout_add(timeout_ms, rv_test_timeout_cb, &expired);
        const RvTestEvent *found = NULL;

        while (found == NULL) {
                for (; scanned < recorder->events->len && found == NULL; scanned++) {
                        RvTestEvent *event = g_ptr_array_index(recorder->events, scanned);
                        if (event->consumed || !rv_test_event_matches(event, kind, hash))
                                continue;
                        event->consumed = TRUE;
                        if (func == NULL || (event->has_status && func(&event->status, user_data)))
                                found = event;
                }
                if (found != NULL || expired)
                        break;
                g_main_context_iteration(NULL, TRUE);
        }
        if (!expired)
                g_source_remove(timeout_id);
        return found;
}

const RvTestEvent *
rv_test_recorder_wait(RvTestRecorder *recorder, RvEngineEventKind kind, const RvInfoHash *hash, guint timeout_ms)
{
        return rv_test_recorder_wait_full(recorder, kind, hash, NULL, NULL, timeout_ms);
}

const RvTestEvent *
rv_test_recorder_wait_status(RvTestRecorder *recorder, const RvInfoHash *hash, RvTestStatusFunc func,
                             gpointer user_data, guint timeout_ms)
{
        return rv_test_recorder_wait_full(recorder, RV_ENGINE_EVENT_STATUS, hash, func, user_data, timeout_ms);
}

void
rv_test_run_for(guint ms)
{
        gboolean expired = FALSE;

        g_timeout_add(ms, rv_test_timeout_cb, &expired);
        while (!expired)
                g_main_context_iteration(NULL, TRUE);
}

void
rv_test_settings_init_loopback(RvEngineSettings *settings)
{
        rv_engine_settings_init(settings);
        g_free(settings->listen_interfaces);
        settings->listen_interfaces = g_strdup("127.0.0.1:0");
        settings->enable_dht = FALSE;
        settings->enable_lsd = FALSE;
        settings->enable_upnp = FALSE;
        settings->enable_natpmp = FALSE;
        /* uTP on loopback runs at a few MB/s */
        settings->enable_utp = FALSE;
        settings->allow_multiple_connections_per_ip = TRUE;
        settings->active_downloads = -1;
        settings->active_seeds = -1;
        settings->active_limit = -1;
        settings->status_interval_ms = 100;
}

char *
rv_test_engine_peer(RvEngine *engine)
{
        guint16 port = rv_engine_get_listen_port(engine);

        if (port == 0)
                return NULL;
        return g_strdup_printf("127.0.0.1:%u", port);
}
