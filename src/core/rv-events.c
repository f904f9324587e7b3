/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-events.h"
#include "rv-json.h"
#include "rv-torrent-fields.h"

static const char *const rv_event_kind_names[] = {
        [RV_EVENT_TORRENT_ADDED] = "torrent_added",
        [RV_EVENT_TORRENT_REMOVED] = "torrent_removed",
        [RV_EVENT_FILES_DISCOVERED] = "files_discovered",
        [RV_EVENT_PROGRESS] = "progress",
        [RV_EVENT_STATE_CHANGED] = "state_changed",
        [RV_EVENT_COMPLETED] = "completed",
        [RV_EVENT_TORRENT_FAILED] = "torrent_failed",
        [RV_EVENT_SELECTION_CHANGED] = "selection_changed",
        [RV_EVENT_SETTINGS_CHANGED] = "settings_changed",
        [RV_EVENT_HEALTH_CHANGED] = "health_changed",
        [RV_EVENT_SEEDING_GOAL_REACHED] = "seeding_goal_reached",
        [RV_EVENT_TORRENT_UPDATED] = "torrent_updated",
        [RV_EVENT_RESET] = "reset",
        [RV_EVENT_FSOPS_STEP] = "fsops_step",
        [RV_EVENT_FSOPS_COMPLETED] = "fsops_completed",
        [RV_EVENT_FSOPS_FAILED] = "fsops_failed",
        [RV_EVENT_CLUSTER_CHANGED] = "cluster_changed",
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_event_kind_names) == RV_EVENT_LAST);

const char *
rv_event_kind_to_string(RvEventKind kind)
{
        if ((guint)kind >= RV_EVENT_LAST)
                return NULL;
        return rv_event_kind_names[kind];
}

RvEventKind
rv_event_kind_from_string(const char *text)
{
        for (guint i = 0; text != NULL && i < RV_EVENT_LAST; i++) {
                if (g_strcmp0(rv_event_kind_names[i], text) == 0)
                        return (RvEventKind)i;
        }
        return RV_EVENT_LAST;
}

RvEvent *
rv_event_ref(RvEvent *event)
{
        g_atomic_int_inc(&event->ref_count);
        return event;
}

void
rv_event_unref(RvEvent *event)
{
        if (event == NULL)
                return;
        if (!g_atomic_int_dec_and_test(&event->ref_count))
                return;
        if (event->data != NULL)
                json_node_unref(event->data);
        g_free(event);
}

JsonNode *
rv_event_to_json(const RvEvent *event)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc(event->timestamp / G_USEC_PER_SEC);
        g_autoptr(GDateTime) dt = g_date_time_add(secs, event->timestamp % G_USEC_PER_SEC);
        g_autofree char *ts = g_date_time_format_iso8601(dt);

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "id");
        json_builder_add_int_value(builder, (gint64)event->id);
        json_builder_set_member_name(builder, "timestamp");
        json_builder_add_string_value(builder, ts);
        json_builder_set_member_name(builder, "event");
        json_builder_add_value(builder, json_node_copy(event->data));
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

RvTorrentState
rv_event_get_state(const RvEvent *event)
{
        JsonObject *obj = json_node_get_object(event->data);
        const char *state = json_object_get_string_member_with_default(obj, "state", NULL);

        if (state == NULL)
                return RV_TORRENT_STATE_LAST;
        return rv_torrent_state_from_string(state);
}

typedef struct {
        guint id;
        RvEventFunc func;
        gpointer user_data;
        /* rv_event_bus_hold() depth, and what waits meanwhile */
        guint holds;
        GPtrArray *held;
        gboolean overflowed;
} RvEventSubscriber;

typedef struct {
        gint64 last_us;
        /* coalesced fields waiting for their turn, 0 when none */
        guint pending;
} RvProgressSlot;

struct _RvEventBus {
        GPtrArray *ring;
        guint ring_size;
        guint ring_head;
        guint64 next_id;
        guint64 reserved_up_to;
        RvEventReserveFunc reserve;
        gpointer reserve_data;
        /* RvEventSubscriber */
        GPtrArray *subscribers;
        guint next_subscriber;
        RvEventLookupFunc lookup;
        gpointer lookup_data;
        /* RvInfoHash.hex -> RvProgressSlot */
        GHashTable *progress;
        guint progress_interval_ms;
        guint progress_timer;
        gint64 progress_timer_due;
        guint n_pending;
        gboolean dispatching;
};

static void
rv_event_subscriber_free(RvEventSubscriber *sub)
{
        if (sub->held != NULL)
                g_ptr_array_unref(sub->held);
        g_free(sub);
}

RvEventBus *
rv_event_bus_new(guint ring_size, guint64 first_id, RvEventReserveFunc reserve, gpointer user_data)
{
        RvEventBus *bus = g_new0(RvEventBus, 1);

        bus->ring_size = MAX(ring_size, 1);
        bus->ring = g_ptr_array_new_full(bus->ring_size, (GDestroyNotify)rv_event_unref);
        bus->next_id = MAX(first_id, 1);
        bus->reserve = reserve;
        bus->reserve_data = user_data;
        bus->subscribers = g_ptr_array_new_with_free_func((GDestroyNotify)rv_event_subscriber_free);
        bus->progress = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        bus->progress_interval_ms = RV_PROGRESS_INTERVAL_DEFAULT_MS;
        bus->reserved_up_to = bus->next_id + RV_EVENT_BUS_ID_BLOCK;
        if (bus->reserve != NULL)
                bus->reserve(bus->reserved_up_to, bus->reserve_data);
        return bus;
}

void
rv_event_bus_free(RvEventBus *bus)
{
        if (bus == NULL)
                return;
        if (bus->progress_timer != 0)
                g_source_remove(bus->progress_timer);
        g_ptr_array_unref(bus->ring);
        g_ptr_array_unref(bus->subscribers);
        g_hash_table_unref(bus->progress);
        g_free(bus);
}

static guint64
rv_event_bus_take_id(RvEventBus *bus)
{
        guint64 id = bus->next_id++;

        /* reserve the next block once half of this one is used, so a crash never reuses ids */
        if (bus->reserve != NULL && bus->reserved_up_to - id < RV_EVENT_BUS_ID_BLOCK / 2) {
                bus->reserved_up_to = id + RV_EVENT_BUS_ID_BLOCK;
                bus->reserve(bus->reserved_up_to, bus->reserve_data);
        }
        return id;
}

static RvEventSubscriber *
rv_event_bus_find_subscriber(RvEventBus *bus, guint id)
{
        for (guint i = 0; i < bus->subscribers->len; i++) {
                RvEventSubscriber *sub = g_ptr_array_index(bus->subscribers, i);
                if (sub->id == id)
                        return sub;
        }
        return NULL;
}

static void
rv_event_bus_deliver(RvEventBus *bus, RvEvent *event)
{
        g_autoptr(GArray) ids = g_array_sized_new(FALSE, FALSE, sizeof(guint), bus->subscribers->len);

        /* a subscriber may subscribe or unsubscribe from its callback: go by id */
        for (guint i = 0; i < bus->subscribers->len; i++)
                g_array_append_val(ids, ((RvEventSubscriber *)g_ptr_array_index(bus->subscribers, i))->id);
        for (guint i = 0; i < ids->len; i++) {
                RvEventSubscriber *sub = rv_event_bus_find_subscriber(bus, g_array_index(ids, guint, i));
                if (sub == NULL)
                        continue;
                if (sub->holds == 0) {
                        sub->func(event, sub->user_data);
                } else if (sub->held->len < RV_EVENT_HOLD_MAX) {
                        g_ptr_array_add(sub->held, rv_event_ref(event));
                } else {
                        sub->overflowed = TRUE;
                }
        }
}

static const RvEvent *
rv_event_bus_publish_fields(RvEventBus *bus, RvEventKind kind, const RvInfoHash *hash, guint fields, JsonNode *data)
{
        RvEvent *event = g_new0(RvEvent, 1);
        JsonObject *obj;

        event->ref_count = 1;
        event->id = rv_event_bus_take_id(bus);
        event->timestamp = g_get_real_time();
        event->kind = kind;
        event->fields = fields;
        if (data == NULL)
                data = rv_json_node_take_object(json_object_new());
        obj = json_node_get_object(data);
        json_object_set_string_member(obj, "type", rv_event_kind_to_string(kind));
        if (hash != NULL) {
                event->has_hash = TRUE;
                event->hash = *hash;
                json_object_set_string_member(obj, "info_hash", hash->hex);
        }
        event->data = data;

        /* the ring is a circular buffer over a pointer array */
        if (bus->ring->len < bus->ring_size) {
                g_ptr_array_add(bus->ring, event);
        } else {
                rv_event_unref(g_ptr_array_index(bus->ring, bus->ring_head));
                g_ptr_array_index(bus->ring, bus->ring_head) = event;
                bus->ring_head = (bus->ring_head + 1) % bus->ring_size;
        }
        rv_event_bus_deliver(bus, event);
        return event;
}

const RvEvent *
rv_event_bus_publish(RvEventBus *bus, RvEventKind kind, const RvInfoHash *hash, JsonNode *data)
{
        return rv_event_bus_publish_fields(bus, kind, hash, 0, data);
}

guint
rv_event_bus_subscribe(RvEventBus *bus, RvEventFunc func, gpointer user_data)
{
        RvEventSubscriber *sub = g_new0(RvEventSubscriber, 1);

        sub->id = ++bus->next_subscriber;
        sub->func = func;
        sub->user_data = user_data;
        g_ptr_array_add(bus->subscribers, sub);
        return sub->id;
}

void
rv_event_bus_unsubscribe(RvEventBus *bus, guint id)
{
        RvEventSubscriber *sub = rv_event_bus_find_subscriber(bus, id);

        if (sub != NULL)
                g_ptr_array_remove(bus->subscribers, sub);
}

void
rv_event_bus_hold(RvEventBus *bus, guint subscriber)
{
        RvEventSubscriber *sub = rv_event_bus_find_subscriber(bus, subscriber);

        g_return_if_fail(sub != NULL);
        if (sub->holds++ == 0 && sub->held == NULL)
                sub->held = g_ptr_array_new_with_free_func((GDestroyNotify)rv_event_unref);
}

void
rv_event_bus_release(RvEventBus *bus, guint subscriber)
{
        RvEventSubscriber *sub = rv_event_bus_find_subscriber(bus, subscriber);
        g_autoptr(GPtrArray) held = NULL;
        gboolean overflowed;
        guint id = subscriber;

        g_return_if_fail(sub != NULL && sub->holds > 0);
        if (--sub->holds > 0)
                return;
        held = g_steal_pointer(&sub->held);
        overflowed = sub->overflowed;
        sub->overflowed = FALSE;
        for (guint i = 0; held != NULL && i < held->len; i++) {
                /* the callback may unsubscribe, or hold again */
                sub = rv_event_bus_find_subscriber(bus, id);
                if (sub == NULL)
                        return;
                if (sub->holds > 0) {
                        if (sub->held == NULL)
                                sub->held = g_ptr_array_new_with_free_func((GDestroyNotify)rv_event_unref);
                        g_ptr_array_add(sub->held, rv_event_ref(g_ptr_array_index(held, i)));
                        continue;
                }
                sub->func(g_ptr_array_index(held, i), sub->user_data);
        }
        sub = rv_event_bus_find_subscriber(bus, id);
        if (overflowed && sub != NULL) {
                g_autoptr(RvEvent) reset = g_new0(RvEvent, 1);
                reset->ref_count = 1;
                reset->id = rv_event_bus_get_last_id(bus);
                reset->timestamp = g_get_real_time();
                reset->kind = RV_EVENT_RESET;
                reset->data = rv_json_node_take_object(json_object_new());
                json_object_set_string_member(json_node_get_object(reset->data), "type", "reset");
                sub->func(reset, sub->user_data);
        }
}

GPtrArray *
rv_event_bus_replay(RvEventBus *bus, guint64 after_id, gboolean *ret_complete)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_event_unref);
        guint n = bus->ring->len;
        guint64 oldest = 0;

        for (guint i = 0; i < n; i++) {
                RvEvent *event = g_ptr_array_index(bus->ring, (bus->ring_head + i) % n);
                if (i == 0)
                        oldest = event->id;
                if (event->id > after_id)
                        g_ptr_array_add(out, rv_event_ref(event));
        }
        if (ret_complete != NULL) {
                /* complete when the ring still holds the event right after after_id, or nothing was missed */
                *ret_complete = n == 0 || after_id + 1 >= oldest || after_id >= bus->next_id - 1;
        }
        return out;
}

guint64
rv_event_bus_get_last_id(RvEventBus *bus)
{
        return bus->next_id - 1;
}

guint
rv_event_bus_get_ring_length(RvEventBus *bus)
{
        return bus->ring->len;
}

guint
rv_event_bus_get_waiting(RvEventBus *bus)
{
        return bus->n_pending;
}

guint
rv_event_bus_get_subscribers(RvEventBus *bus)
{
        return bus->subscribers->len;
}

void
rv_event_bus_set_lookup(RvEventBus *bus, RvEventLookupFunc lookup, gpointer user_data)
{
        bus->lookup = lookup;
        bus->lookup_data = user_data;
}

void
rv_event_bus_set_progress_interval(RvEventBus *bus, guint interval_ms)
{
        bus->progress_interval_ms = MAX(interval_ms, RV_PROGRESS_INTERVAL_MIN_MS);
}

guint
rv_event_bus_get_progress_interval(RvEventBus *bus)
{
        return bus->progress_interval_ms;
}

static void
rv_event_bus_publish_change(RvEventBus *bus, const RvTorrent *torrent, guint fields)
{
        RvEventKind kind = (fields & RV_TORRENT_FIELD_STATE)              ? RV_EVENT_STATE_CHANGED
                           : (fields & ~RV_TORRENT_FIELDS_COALESCED) == 0 ? RV_EVENT_PROGRESS
                                                                          : RV_EVENT_TORRENT_UPDATED;

        rv_event_bus_publish_fields(bus, kind, &torrent->hash, fields, rv_torrent_fields_snapshot(torrent, fields));
}

static gboolean rv_event_bus_progress_cb(gpointer user_data);

/* one timer for all torrents, due at the earliest waiting slot */
static void
rv_event_bus_arm_progress(RvEventBus *bus, gint64 due_us)
{
        gint64 now = g_get_monotonic_time();

        if (bus->progress_timer != 0) {
                if (bus->progress_timer_due <= due_us)
                        return;
                g_source_remove(bus->progress_timer);
        }
        bus->progress_timer_due = due_us;
        bus->progress_timer =
                g_timeout_add(due_us > now ? (guint)((due_us - now + 999) / 1000) : 0, rv_event_bus_progress_cb, bus);
}

static gboolean
rv_event_bus_progress_cb(gpointer user_data)
{
        RvEventBus *bus = user_data;
        GHashTableIter iter;
        gpointer key;
        gpointer value;
        gint64 now = g_get_monotonic_time();
        g_autoptr(GArray) due = g_array_new(FALSE, FALSE, sizeof(RvInfoHash));
        g_autoptr(GArray) due_fields = g_array_new(FALSE, FALSE, sizeof(guint));
        gint64 earliest = G_MAXINT64;

        bus->progress_timer = 0;
        g_hash_table_iter_init(&iter, bus->progress);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                RvProgressSlot *slot = value;
                gint64 due_us = slot->last_us + (gint64)bus->progress_interval_ms * 1000;
                RvInfoHash hash;
                if (slot->pending == 0 && due_us <= now) {
                        /* its turn is over with nothing waiting: as good as no slot, which costs nothing */
                        g_hash_table_iter_remove(&iter);
                        continue;
                }
                if (due_us > now) {
                        earliest = MIN(earliest, due_us);
                        continue;
                }
                if (rv_info_hash_parse(key, &hash)) {
                        g_array_append_val(due, hash);
                        g_array_append_val(due_fields, slot->pending);
                }
                slot->pending = 0;
                slot->last_us = now;
                bus->n_pending--;
                earliest = MIN(earliest, now + (gint64)bus->progress_interval_ms * 1000);
        }
        /* published after the walk: a subscriber may change the table */
        for (guint i = 0; i < due->len; i++) {
                const RvTorrent *torrent =
                        bus->lookup != NULL ? bus->lookup(&g_array_index(due, RvInfoHash, i), bus->lookup_data) : NULL;
                if (torrent != NULL)
                        rv_event_bus_publish_change(bus, torrent, g_array_index(due_fields, guint, i));
        }
        if (earliest != G_MAXINT64)
                rv_event_bus_arm_progress(bus, earliest);
        return G_SOURCE_REMOVE;
}

guint
rv_event_bus_get_progress_slots(RvEventBus *bus)
{
        return g_hash_table_size(bus->progress);
}

static RvProgressSlot *
rv_event_bus_slot(RvEventBus *bus, const RvInfoHash *hash)
{
        RvProgressSlot *slot = g_hash_table_lookup(bus->progress, hash->hex);

        if (slot == NULL) {
                slot = g_new0(RvProgressSlot, 1);
                slot->last_us = G_MININT64 / 2;
                g_hash_table_insert(bus->progress, g_strdup(hash->hex), slot);
        }
        return slot;
}

void
rv_event_bus_torrent_changed(RvEventBus *bus, const RvTorrent *torrent, guint fields)
{
        RvProgressSlot *slot;
        gint64 now;

        if (fields == 0)
                return;
        /* a change of no coalesced field goes out at once: a torrent without a slot needs none for it */
        if ((fields & RV_TORRENT_FIELDS_COALESCED) == 0 && !g_hash_table_contains(bus->progress, torrent->hash.hex)) {
                rv_event_bus_publish_change(bus, torrent, fields);
                return;
        }
        slot = rv_event_bus_slot(bus, &torrent->hash);
        now = g_get_monotonic_time();
        if ((fields & ~RV_TORRENT_FIELDS_COALESCED) == 0 &&
            now - slot->last_us < (gint64)bus->progress_interval_ms * 1000) {
                /* its turn has not come: wait, with whatever else waits */
                if (slot->pending == 0)
                        bus->n_pending++;
                slot->pending |= fields;
                rv_event_bus_arm_progress(bus, slot->last_us + (gint64)bus->progress_interval_ms * 1000);
                return;
        }
        /* out now, taking along what waited */
        if (slot->pending != 0)
                bus->n_pending--;
        fields |= slot->pending;
        slot->pending = 0;
        if (fields & RV_TORRENT_FIELDS_COALESCED) {
                slot->last_us = now;
                /* the timer drops the slot once its turn is over */
                rv_event_bus_arm_progress(bus, now + (gint64)bus->progress_interval_ms * 1000);
        }
        rv_event_bus_publish_change(bus, torrent, fields);
}

void
rv_event_bus_flush_torrent(RvEventBus *bus, const RvInfoHash *hash)
{
        RvProgressSlot *slot = g_hash_table_lookup(bus->progress, hash->hex);
        const RvTorrent *torrent;
        guint fields;

        if (slot == NULL || slot->pending == 0)
                return;
        fields = slot->pending;
        slot->pending = 0;
        bus->n_pending--;
        slot->last_us = g_get_monotonic_time();
        rv_event_bus_arm_progress(bus, slot->last_us + (gint64)bus->progress_interval_ms * 1000);
        torrent = bus->lookup != NULL ? bus->lookup(hash, bus->lookup_data) : NULL;
        if (torrent != NULL)
                rv_event_bus_publish_change(bus, torrent, fields);
}

void
rv_event_bus_forget(RvEventBus *bus, const RvInfoHash *hash)
{
        RvProgressSlot *slot = g_hash_table_lookup(bus->progress, hash->hex);

        if (slot == NULL)
                return;
        if (slot->pending != 0)
                bus->n_pending--;
        g_hash_table_remove(bus->progress, hash->hex);
}
