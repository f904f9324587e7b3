/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-engine.h"
#include "rv-torrent.h"

G_BEGIN_DECLS

typedef enum {
        RV_EVENT_TORRENT_ADDED,
        RV_EVENT_TORRENT_REMOVED,
        RV_EVENT_FILES_DISCOVERED,
        RV_EVENT_PROGRESS,
        RV_EVENT_STATE_CHANGED,
        RV_EVENT_COMPLETED,
        RV_EVENT_TORRENT_FAILED,
        RV_EVENT_SELECTION_CHANGED,
        RV_EVENT_SETTINGS_CHANGED,
        RV_EVENT_HEALTH_CHANGED,
        RV_EVENT_SEEDING_GOAL_REACHED,
        /* fields of a torrent other than its state and progress (labels, limits, error, ...) */
        RV_EVENT_TORRENT_UPDATED,
        /* to a held subscriber whose queue overflowed: events were lost, read the state again */
        RV_EVENT_RESET,
        /* the post-download pipeline: a step's status, the result in place, a failure (retried or final) */
        RV_EVENT_FSOPS_STEP,
        RV_EVENT_FSOPS_COMPLETED,
        RV_EVENT_FSOPS_FAILED,
        /* the other nodes of a cluster published changes: "changed" and "removed" name their torrents */
        RV_EVENT_CLUSTER_CHANGED,
        RV_EVENT_LAST,
} RvEventKind;

const char *rv_event_kind_to_string(RvEventKind kind);
RvEventKind rv_event_kind_from_string(const char *text);

/* immutable once published; shared by the replay ring and subscribers */
typedef struct {
        gint ref_count;
        guint64 id;
        /* wall clock, microseconds since the epoch */
        gint64 timestamp;
        RvEventKind kind;
        gboolean has_hash;
        RvInfoHash hash;
        /* torrent changes: the RvTorrentFields that changed, whose values are in data; 0 for other events */
        guint fields;
        /* the payload as it goes on the wire ("type", "info_hash" and, for changes, the changed fields named as
         * in rv-torrent-fields.c) */
        JsonNode *data;
} RvEvent;

RvEvent *rv_event_ref(RvEvent *event);
void rv_event_unref(RvEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEvent, rv_event_unref)
/* {"id", "timestamp", "event": {...}} */
JsonNode *rv_event_to_json(const RvEvent *event);
/* the torrent's state member, or RV_TORRENT_STATE_LAST */
RvTorrentState rv_event_get_state(const RvEvent *event);

typedef struct _RvEventBus RvEventBus;

typedef void (*RvEventFunc)(const RvEvent *event, gpointer user_data);

/*
 * ids must not restart after a restart: the bus hands out ids from blocks
 * reserved in persistent storage, and asks for the next block well before
 * the current one runs out
 */
typedef void (*RvEventReserveFunc)(guint64 reserved_up_to, gpointer user_data);

#define RV_EVENT_BUS_DEFAULT_RING 1024
#define RV_EVENT_BUS_ID_BLOCK 100000

RvEventBus *rv_event_bus_new(guint ring_size, guint64 first_id, RvEventReserveFunc reserve, gpointer user_data);
void rv_event_bus_free(RvEventBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvEventBus, rv_event_bus_free)

/* takes the data node; returns the event (borrowed) */
const RvEvent *rv_event_bus_publish(RvEventBus *bus, RvEventKind kind, const RvInfoHash *hash, JsonNode *data);
guint rv_event_bus_subscribe(RvEventBus *bus, RvEventFunc func, gpointer user_data);
void rv_event_bus_unsubscribe(RvEventBus *bus, guint id);
/* events with an id above after_id still in the ring, oldest first; *ret_complete FALSE when some were lost */
GPtrArray *rv_event_bus_replay(RvEventBus *bus, guint64 after_id, gboolean *ret_complete);
guint64 rv_event_bus_get_last_id(RvEventBus *bus);
/* for the metrics: events the replay ring holds, coalesced changes waiting for their turn, subscribers */
guint rv_event_bus_get_ring_length(RvEventBus *bus);
guint rv_event_bus_get_waiting(RvEventBus *bus);
guint rv_event_bus_get_subscribers(RvEventBus *bus);

/*
 * A torrent's changes, the one stream every transport follows: a change of
 * state or of anything but progress, rates and peers goes out at once, with
 * whatever progress waited for its turn. Progress, rates and peers are
 * coalesced per torrent: the first change after a quiet interval goes out at
 * once, later ones at most once per interval, with the values of the moment
 * it goes out (read through the lookup). Kinds: RV_EVENT_STATE_CHANGED when
 * the state is among the fields, RV_EVENT_PROGRESS when only coalesced
 * fields are, RV_EVENT_TORRENT_UPDATED otherwise.
 */
#define RV_PROGRESS_INTERVAL_MIN_MS 100
#define RV_PROGRESS_INTERVAL_DEFAULT_MS 1000
#define RV_TORRENT_FIELDS_COALESCED (RV_TORRENT_FIELD_PROGRESS | RV_TORRENT_FIELD_RATES | RV_TORRENT_FIELD_PEERS)

typedef const RvTorrent *(*RvEventLookupFunc)(const RvInfoHash *hash, gpointer user_data);

void rv_event_bus_set_lookup(RvEventBus *bus, RvEventLookupFunc lookup, gpointer user_data);
void rv_event_bus_set_progress_interval(RvEventBus *bus, guint interval_ms);
guint rv_event_bus_get_progress_interval(RvEventBus *bus);
/* torrents whose coalesced fields had their turn within the interval or wait for it (tests, metrics) */
guint rv_event_bus_get_progress_slots(RvEventBus *bus);
void rv_event_bus_torrent_changed(RvEventBus *bus, const RvTorrent *torrent, guint fields);
/* send a torrent's waiting change now, e.g. before a reply that depends on it */
void rv_event_bus_flush_torrent(RvEventBus *bus, const RvInfoHash *hash);
/* drop a waiting change, e.g. when the torrent is removed */
void rv_event_bus_forget(RvEventBus *bus, const RvInfoHash *hash);

/*
 * Snapshot, then stream: a subscriber that reads the whole state (a
 * GetManagedObjects reply built over many iterations, an SSE client's first
 * list) holds its events meanwhile; they wait in order and arrive at
 * release, so none overtakes the snapshot that holds the older state. Holds
 * nest. At most RV_EVENT_HOLD_MAX wait; past that the rest are dropped and
 * the subscriber gets one RV_EVENT_RESET at release.
 */
#define RV_EVENT_HOLD_MAX 65536
void rv_event_bus_hold(RvEventBus *bus, guint subscriber);
void rv_event_bus_release(RvEventBus *bus, guint subscriber);

G_END_DECLS
