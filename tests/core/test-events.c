/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-events.h"
#include "rv-health.h"

typedef struct {
        GPtrArray *seen;
        guint64 reserved;
        guint reserve_calls;
} Fixture;

static void
collect_cb(const RvEvent *event, gpointer user_data)
{
        Fixture *f = user_data;

        g_ptr_array_add(f->seen, rv_event_ref((RvEvent *)event));
}

static void
reserve_cb(guint64 reserved_up_to, gpointer user_data)
{
        Fixture *f = user_data;

        g_assert_cmpuint(reserved_up_to, >, f->reserved);
        f->reserved = reserved_up_to;
        f->reserve_calls++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        f->seen = g_ptr_array_new_with_free_func((GDestroyNotify)rv_event_unref);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_ptr_array_unref(f->seen);
}

static RvInfoHash
hash_of(char c)
{
        RvInfoHash hash;

        memset(hash.hex, c, RV_INFO_HASH_HEX_LEN);
        hash.hex[RV_INFO_HASH_HEX_LEN] = '\0';
        return hash;
}

static void
test_events_ids_and_ring(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(4, 1, reserve_cb, f);
        RvInfoHash h = hash_of('a');
        g_autoptr(GPtrArray) replay = NULL;
        gboolean complete = FALSE;
        g_autoptr(JsonNode) json = NULL;

        rv_event_bus_subscribe(bus, collect_cb, f);
        for (guint i = 0; i < 6; i++)
                rv_event_bus_publish(bus, RV_EVENT_STATE_CHANGED, &h, NULL);
        g_assert_cmpuint(f->seen->len, ==, 6);
        for (guint i = 0; i < 6; i++)
                g_assert_cmpuint(((RvEvent *)g_ptr_array_index(f->seen, i))->id, ==, i + 1);

        /* the ring keeps the last four; asking from id 4 gives 5 and 6 */
        replay = rv_event_bus_replay(bus, 4, &complete);
        g_assert_cmpuint(replay->len, ==, 2);
        g_assert_true(complete);
        g_clear_pointer(&replay, g_ptr_array_unref);
        /* asking from id 1 misses 2: the caller must learn it lost events */
        replay = rv_event_bus_replay(bus, 1, &complete);
        g_assert_cmpuint(replay->len, ==, 4);
        g_assert_false(complete);

        json = rv_event_to_json(g_ptr_array_index(f->seen, 0));
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(json), "id"), ==, 1);
        g_assert_cmpstr(json_object_get_string_member(
                                json_object_get_object_member(json_node_get_object(json), "event"), "type"),
                        ==, "state_changed");
}

static void
test_events_reservation(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(8, 1, reserve_cb, f);
        g_autoptr(RvEventBus) again = NULL;
        guint64 last;

        g_assert_cmpuint(f->reserve_calls, ==, 1);
        for (guint i = 0; i < RV_EVENT_BUS_ID_BLOCK; i++)
                rv_event_bus_publish(bus, RV_EVENT_HEALTH_CHANGED, NULL, NULL);
        /* a new block was reserved before the first one ran out */
        g_assert_cmpuint(f->reserve_calls, >=, 2);
        last = rv_event_bus_get_last_id(bus);
        g_assert_cmpuint(f->reserved, >, last);

        /* a restart continues above everything that may have been handed out */
        again = rv_event_bus_new(8, f->reserved + 1, reserve_cb, f);
        g_assert_cmpuint(rv_event_bus_publish(again, RV_EVENT_HEALTH_CHANGED, NULL, NULL)->id, >, last);
}

static gboolean
quit_cb(gpointer user_data)
{
        g_main_loop_quit(user_data);
        return G_SOURCE_REMOVE;
}

/* the registry the stream reads coalesced values from: two torrents */
static const RvTorrent *lookup_torrents[2];

static const RvTorrent *
lookup_cb(const RvInfoHash *hash, gpointer user_data)
{
        for (guint i = 0; i < G_N_ELEMENTS(lookup_torrents); i++) {
                if (lookup_torrents[i] != NULL && rv_info_hash_equal(&lookup_torrents[i]->hash, hash))
                        return lookup_torrents[i];
        }
        return NULL;
}

static void
test_events_progress_coalescing(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(64, 1, NULL, NULL);
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        RvInfoHash h1 = hash_of('b');
        RvInfoHash h2 = hash_of('c');
        g_autoptr(RvTorrent) t1 = rv_torrent_new(&h1);
        g_autoptr(RvTorrent) t2 = rv_torrent_new(&h2);
        guint n1 = 0;
        JsonObject *last = NULL;

        lookup_torrents[0] = t1;
        lookup_torrents[1] = t2;
        rv_event_bus_set_lookup(bus, lookup_cb, NULL);
        rv_event_bus_set_progress_interval(bus, 200);
        rv_event_bus_subscribe(bus, collect_cb, f);
        /* 20 updates at about 10 ms apart: the first goes out, then at most one per 200 ms, the latest value */
        for (guint i = 1; i <= 20; i++) {
                t1->wanted_done = i;
                t1->wanted_size = 20;
                rv_event_bus_torrent_changed(bus, t1, RV_TORRENT_FIELD_PROGRESS);
                if (i == 1) {
                        t2->wanted_done = 1;
                        rv_event_bus_torrent_changed(bus, t2, RV_TORRENT_FIELD_PROGRESS);
                }
                g_usleep(10000);
        }
        g_timeout_add(450, quit_cb, loop);
        g_main_loop_run(loop);

        for (guint i = 0; i < f->seen->len; i++) {
                RvEvent *ev = g_ptr_array_index(f->seen, i);
                g_assert_cmpint(ev->kind, ==, RV_EVENT_PROGRESS);
                if (rv_info_hash_equal(&ev->hash, &h1)) {
                        n1++;
                        last = json_node_get_object(ev->data);
                }
        }
        g_assert_cmpuint(n1, >=, 2);
        g_assert_cmpuint(n1, <=, 3);
        g_assert_nonnull(last);
        g_assert_cmpint(json_object_get_int_member(last, "done"), ==, 20);
        lookup_torrents[0] = lookup_torrents[1] = NULL;
}

/*
 * a torrent costs the coalescer nothing once its turn is over: 10,000 that
 * each reported progress once (a restart) hold no slot an interval later,
 * and a change of other fields makes none
 */
static void
test_events_progress_slots_dropped(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(64, 1, NULL, NULL);
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        RvInfoHash h = hash_of('e');
        g_autoptr(RvTorrent) t = rv_torrent_new(&h);

        lookup_torrents[0] = t;
        rv_event_bus_set_lookup(bus, lookup_cb, NULL);
        rv_event_bus_set_progress_interval(bus, 100);
        rv_event_bus_subscribe(bus, collect_cb, f);
        t->state = RV_TORRENT_STATE_PAUSED;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_STATE);
        g_assert_cmpuint(f->seen->len, ==, 1);
        g_assert_cmpuint(rv_event_bus_get_progress_slots(bus), ==, 0);
        for (guint i = 0; i < 10000; i++) {
                RvInfoHash hi;
                g_autoptr(RvTorrent) ti = NULL;
                g_snprintf(hi.hex, sizeof(hi.hex), "%040x", i + 1);
                ti = rv_torrent_new(&hi);
                rv_event_bus_torrent_changed(bus, ti, RV_TORRENT_FIELD_PROGRESS);
        }
        g_assert_cmpuint(f->seen->len, ==, 10001);
        g_assert_cmpuint(rv_event_bus_get_progress_slots(bus), ==, 10000);
        /* one waits for its turn: it goes out, then its slot goes too */
        t->wanted_done = 1;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_PROGRESS);
        t->wanted_done = 2;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_PROGRESS);
        g_assert_cmpuint(f->seen->len, ==, 10002);
        while (rv_event_bus_get_progress_slots(bus) > 0)
                g_main_context_iteration(NULL, TRUE);
        g_assert_cmpuint(f->seen->len, ==, 10003);
        g_assert_cmpint(json_object_get_int_member(
                                json_node_get_object(((RvEvent *)g_ptr_array_index(f->seen, 10002))->data), "done"),
                        ==, 2);
        lookup_torrents[0] = NULL;
}

/* a state change goes out at once and takes along the progress that waited for its turn */
static void
test_events_state_at_once(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(64, 1, NULL, NULL);
        RvInfoHash h = hash_of('d');
        g_autoptr(RvTorrent) t = rv_torrent_new(&h);
        RvEvent *ev;

        lookup_torrents[0] = t;
        rv_event_bus_set_lookup(bus, lookup_cb, NULL);
        rv_event_bus_set_progress_interval(bus, 60000);
        rv_event_bus_subscribe(bus, collect_cb, f);
        t->wanted_done = 1;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_PROGRESS);
        t->wanted_done = 2;
        t->download_rate = 5;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_PROGRESS | RV_TORRENT_FIELD_RATES);
        /* the first progress went out, the second waits a minute */
        g_assert_cmpuint(f->seen->len, ==, 1);
        t->state = RV_TORRENT_STATE_SEEDING;
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_STATE);
        g_assert_cmpuint(f->seen->len, ==, 2);
        ev = g_ptr_array_index(f->seen, 1);
        g_assert_cmpint(ev->kind, ==, RV_EVENT_STATE_CHANGED);
        g_assert_cmpuint(ev->fields, ==, RV_TORRENT_FIELD_STATE | RV_TORRENT_FIELD_PROGRESS | RV_TORRENT_FIELD_RATES);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ev->data), "state"), ==, "seeding");
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(ev->data), "done"), ==, 2);
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(ev->data), "download_rate"), ==, 5);
        /* labels: neither state nor progress */
        rv_event_bus_torrent_changed(bus, t, RV_TORRENT_FIELD_LABELS);
        ev = g_ptr_array_index(f->seen, 2);
        g_assert_cmpint(ev->kind, ==, RV_EVENT_TORRENT_UPDATED);
        g_assert_true(json_object_has_member(json_node_get_object(ev->data), "labels"));
        lookup_torrents[0] = NULL;
}

static void
test_events_hold(Fixture *f, gconstpointer data)
{
        g_autoptr(RvEventBus) bus = rv_event_bus_new(16, 1, NULL, NULL);
        RvInfoHash h = hash_of('e');
        guint sub = rv_event_bus_subscribe(bus, collect_cb, f);
        guint64 first;

        /* held: nothing arrives, then everything in order */
        rv_event_bus_hold(bus, sub);
        rv_event_bus_hold(bus, sub);
        first = rv_event_bus_publish(bus, RV_EVENT_TORRENT_ADDED, &h, NULL)->id;
        rv_event_bus_publish(bus, RV_EVENT_TORRENT_REMOVED, &h, NULL);
        rv_event_bus_release(bus, sub);
        g_assert_cmpuint(f->seen->len, ==, 0);
        rv_event_bus_release(bus, sub);
        g_assert_cmpuint(f->seen->len, ==, 2);
        g_assert_cmpuint(((RvEvent *)g_ptr_array_index(f->seen, 0))->id, ==, first);
        g_assert_cmpint(((RvEvent *)g_ptr_array_index(f->seen, 1))->kind, ==, RV_EVENT_TORRENT_REMOVED);

        /* past the bound: what fits, then one reset */
        g_ptr_array_set_size(f->seen, 0);
        rv_event_bus_hold(bus, sub);
        for (guint i = 0; i < RV_EVENT_HOLD_MAX + 10; i++)
                rv_event_bus_publish(bus, RV_EVENT_HEALTH_CHANGED, NULL, NULL);
        rv_event_bus_release(bus, sub);
        g_assert_cmpuint(f->seen->len, ==, RV_EVENT_HOLD_MAX + 1);
        g_assert_cmpint(((RvEvent *)g_ptr_array_index(f->seen, RV_EVENT_HOLD_MAX))->kind, ==, RV_EVENT_RESET);
        /* and then live again */
        rv_event_bus_publish(bus, RV_EVENT_HEALTH_CHANGED, NULL, NULL);
        g_assert_cmpuint(f->seen->len, ==, RV_EVENT_HOLD_MAX + 2);
}

static void
health_cb(RvHealth *health, const char *component, gpointer user_data)
{
        guint *n = user_data;

        (*n)++;
}

static void
test_health(Fixture *f, gconstpointer data)
{
        g_autoptr(RvHealth) health = rv_health_new();
        g_auto(GStrv) names = NULL;
        g_autoptr(JsonNode) json = NULL;
        guint notified = 0;

        rv_health_set_changed_func(health, health_cb, &notified);
        g_assert_true(rv_health_is_ok(health));
        rv_health_set_degraded(health, "store", "disk full");
        rv_health_set_degraded(health, "store", "disk full");
        rv_health_set_degraded(health, "engine", "cannot listen");
        g_assert_cmpuint(notified, ==, 2);
        g_assert_cmpstr(rv_health_get_status(health), ==, "degraded");
        names = rv_health_get_degraded(health);
        g_assert_cmpstr(names[0], ==, "engine");
        g_assert_cmpstr(names[1], ==, "store");
        json = rv_health_to_json(health);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(json_node_get_object(json), "degraded")),
                         ==, 2);
        rv_health_set_ok(health, "store");
        rv_health_set_ok(health, "store");
        rv_health_set_ok(health, "engine");
        g_assert_cmpuint(notified, ==, 4);
        g_assert_true(rv_health_is_ok(health));
        g_assert_null(rv_health_get_reason(health, "store"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/core/events/ids-and-ring", Fixture, NULL, fixture_setup, test_events_ids_and_ring,
                   fixture_teardown);
        g_test_add("/core/events/reservation", Fixture, NULL, fixture_setup, test_events_reservation, fixture_teardown);
        g_test_add("/core/events/progress-coalescing", Fixture, NULL, fixture_setup, test_events_progress_coalescing,
                   fixture_teardown);
        g_test_add("/core/events/progress-slots-dropped", Fixture, NULL, fixture_setup,
                   test_events_progress_slots_dropped, fixture_teardown);
        g_test_add("/core/events/state-at-once", Fixture, NULL, fixture_setup, test_events_state_at_once,
                   fixture_teardown);
        g_test_add("/core/events/hold", Fixture, NULL, fixture_setup, test_events_hold, fixture_teardown);
        g_test_add("/core/health", Fixture, NULL, fixture_setup, test_health, fixture_teardown);
        return g_test_run();
}
