/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * a client of Revaer's HTTP API for the tests: revaerd under the daemon
 * harness with an HTTP port of the test's choosing, requests through
 * libsoup, raw requests over a socket for what libsoup would not send, and a
 * reader of the event stream
 */

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "rv-test-harness.h"

G_BEGIN_DECLS

typedef struct {
        RvTestHarness h;
        guint16 port;
        char *base;
        SoupSession *session;
        /* the admin key from setup, "key_id:secret" */
        char *admin;
        /* paused torrents stored before the daemon starts */
        guint stored;
} RvTestHttp;

typedef struct {
        guint status;
        SoupMessageHeaders *headers;
        GBytes *body;
        /* the body parsed, when it is JSON */
        JsonNode *json;
} RvTestResponse;

void rv_test_response_free(RvTestResponse *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvTestResponse, rv_test_response_free)

/* a port nobody listens on now */
guint16 rv_test_http_free_port(void);
/* harness set up, config written with extra [http] lines (a drop-in), daemon started; setup gives the admin key */
void rv_test_http_start(RvTestHttp *t, const char *http_extra, gboolean do_setup);
void rv_test_http_stop(RvTestHttp *t);

/*
 * method path with key (NULL: none), body of content_type (NULL: none), then
 * header name/value pairs, NULL-terminated
 */
RvTestResponse *rv_test_http_request(RvTestHttp *t, const char *method, const char *path, const char *key,
                                     const char *content_type, const char *body, ...) G_GNUC_NULL_TERMINATED;
/* any message, as built by the caller */
RvTestResponse *rv_test_http_send(RvTestHttp *t, SoupMessage *msg);
RvTestResponse *rv_test_http_get(RvTestHttp *t, const char *path, const char *key);
RvTestResponse *rv_test_http_json(RvTestHttp *t, const char *method, const char *path, const char *key,
                                  const char *body);

/* a response that is a problem of status (and slug when not NULL): asserts, and returns its detail */
const char *rv_test_assert_problem(RvTestResponse *r, guint status, const char *slug);
JsonObject *rv_test_response_object(RvTestResponse *r);

/* raw bytes to the port; the answer until the server closes or timeout_ms passes */
GBytes *rv_test_http_raw(RvTestHttp *t, const void *data, gsize len, guint timeout_ms);
/* the status of a raw answer, 0 when there is none */
guint rv_test_raw_status(GBytes *answer);

/* an event stream client reading on a thread of its own */
typedef struct _RvTestSse RvTestSse;
typedef struct {
        guint64 id;
        char *kind;
        char *data;
} RvTestSseEvent;

RvTestSse *rv_test_sse_open(RvTestHttp *t, const char *query, const char *last_event_id);
/* a copy of the events so far (RvTestSseEvent) */
GPtrArray *rv_test_sse_events(RvTestSse *sse);
/* waits until an event with an id at least id arrived (FALSE after timeout_s) */
gboolean rv_test_sse_wait_id(RvTestSse *sse, guint64 id, guint timeout_s);
gboolean rv_test_sse_connected(RvTestSse *sse);
void rv_test_sse_close(RvTestSse *sse);

/* the bus's last event id, from /health/full */
guint64 rv_test_http_last_event_id(RvTestHttp *t);

G_END_DECLS
