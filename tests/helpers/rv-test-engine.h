/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* engine test helpers: an event recorder that waits by running the main context, and loopback settings */

#include <glib.h>

#include "rv-engine.h"

G_BEGIN_DECLS

/* an owned copy of an RvEngineEvent, as the engine API makes it, and when it came */
typedef struct {
        RV_ENGINE_OWNED_EVENT_MEMBERS
        /* g_get_monotonic_time() when it arrived */
        gint64 time_us;
        gboolean consumed;
} RvTestEvent;

typedef struct _RvTestRecorder RvTestRecorder;

/* records every event of engine (it takes the engine's event func) */
RvTestRecorder *rv_test_recorder_new(RvEngine *engine);
void rv_test_recorder_free(RvTestRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvTestRecorder, rv_test_recorder_free)

/* all events so far, RvTestEvent */
GPtrArray *rv_test_recorder_get_events(RvTestRecorder *recorder);
/* events of one kind (and hash when not NULL) so far */
guint rv_test_recorder_count(RvTestRecorder *recorder, RvEngineEventKind kind, const RvInfoHash *hash);

/*
 * run the main context until an event of kind (for hash when not NULL) that
 * no earlier wait returned arrives; marks it and every earlier match
 * consumed; NULL after timeout_ms
 */
const RvTestEvent *rv_test_recorder_wait(RvTestRecorder *recorder, RvEngineEventKind kind, const RvInfoHash *hash,
                                         guint timeout_ms);

typedef gboolean (*RvTestStatusFunc)(const RvEngineStatus *status, gpointer user_data);
/* the same for a status event that func accepts */
const RvTestEvent *rv_test_recorder_wait_status(RvTestRecorder *recorder, const RvInfoHash *hash, RvTestStatusFunc func,
                                                gpointer user_data, guint timeout_ms);

/* run the main context for ms milliseconds */
void rv_test_run_for(guint ms);

/* 127.0.0.1:0, TCP only: no uTP, DHT, LSD, UPnP or NAT-PMP; several peers per IP; quick status */
void rv_test_settings_init_loopback(RvEngineSettings *settings);

/* "127.0.0.1:<port>" of an engine, once it is listening */
char *rv_test_engine_peer(RvEngine *engine);

G_END_DECLS
