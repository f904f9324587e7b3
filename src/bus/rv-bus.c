/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rv-bus-private.h"

/* clients that use sd-bus get errnos back for our names */
static const sd_bus_error_map rv_bus_error_map[] = {
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "NotFound", ENOENT),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "InvalidArgument", EINVAL),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "Conflict", EEXIST),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "SetupRequired", EADDRNOTAVAIL),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "RateLimited", EBUSY),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "Unavailable", EAGAIN),
        SD_BUS_ERROR_MAP(RV_BUS_ERROR_PREFIX "Internal", EIO),
        SD_BUS_ERROR_MAP_END,
};

int
rv_bus_set_error(sd_bus_error *ret_error, const GError *error)
{
        g_autoptr(GError) copy = g_error_copy(error);

        rv_error_convert(&copy);
        return sd_bus_error_set(ret_error, rv_error_to_dbus_name(copy->code), copy->message);
}

int
rv_bus_reply_error(sd_bus_message *m, const GError *error)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r;

        (void)rv_bus_set_error(&err, error);
        r = sd_bus_reply_method_error(m, &err);
        sd_bus_error_free(&err);
        return r;
}

/*
 * sees every message to a path under the torrent prefix before sd-bus does:
 * a torrent that does not exist is a NotFound naming it (not sd-bus's
 * UnknownMethod), and Properties.Set on a writable property of ours is
 * authorized like a method, so it cannot be handled synchronously
 */
static int
rv_bus_torrent_filter_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const char *path = sd_bus_message_get_path(m);
        const char *iface = sd_bus_message_get_interface(m);
        const char *prop_iface = NULL;
        const char *property = NULL;
        RvTorrent *torrent;
        uint8_t type = 0;
        int r;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return 0;
        if (g_strcmp0(iface, RV_BUS_TORRENT_IFACE) != 0 && g_strcmp0(iface, "org.freedesktop.DBus.Properties") != 0)
                return 0;
        torrent = rv_bus_torrent_from_path(self, path);
        if (torrent == NULL || torrent->removing)
                return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_NOT_FOUND), "no torrent at %s",
                                         path);
        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Set"))
                return 0;
        r = sd_bus_message_read(m, "ss", &prop_iface, &property);
        if (r < 0 || g_strcmp0(prop_iface, RV_BUS_TORRENT_IFACE) != 0) {
                /* not ours to handle: let sd-bus answer from the start of the message */
                (void)sd_bus_message_rewind(m, TRUE);
                return 0;
        }
        r = rv_bus_torrent_set_property(self, m, property, ret_error);
        if (r == 0)
                (void)sd_bus_message_rewind(m, TRUE);
        return r;
}

/* GLib main loop glue: one GSource on the bus fd, honouring the bus timeout */

/* time one dispatch spends on queued messages */
#define RV_BUS_DISPATCH_USEC 3000

typedef struct {
        GSource source;
        sd_bus *bus;
        gpointer tag;
        GIOCondition events;
        RvBus *owner;
} RvBusSource;

static gboolean
rv_bus_source_prepare(GSource *source, gint *timeout)
{
        RvBusSource *s = (RvBusSource *)source;
        int events = sd_bus_get_events(s->bus);
        GIOCondition cond = (GIOCondition)(events > 0 ? events : 0);
        uint64_t usec = 0;

        /* modifying the fd wakes the context up: only when something changed, or the loop never sleeps */
        if (cond != s->events) {
                g_source_modify_unix_fd(source, s->tag, cond);
                s->events = cond;
        }
        *timeout = -1;
        if (sd_bus_get_timeout(s->bus, &usec) >= 0 && usec != UINT64_MAX) {
                gint64 now = g_get_monotonic_time();
                /* both count CLOCK_MONOTONIC microseconds */
                *timeout = (gint64)usec <= now ? 0 : (gint)MIN(((gint64)usec - now + 999) / 1000, G_MAXINT);
        }
        return *timeout == 0;
}

static gboolean
rv_bus_source_check(GSource *source)
{
        RvBusSource *s = (RvBusSource *)source;
        uint64_t usec = 0;

        if (g_source_query_unix_fd(source, s->tag) != 0)
                return TRUE;
        return sd_bus_get_timeout(s->bus, &usec) >= 0 && usec != UINT64_MAX && (gint64)usec <= g_get_monotonic_time();
}

static gboolean
rv_bus_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
        RvBusSource *s = (RvBusSource *)source;
        gint64 deadline = g_get_monotonic_time() + RV_BUS_DISPATCH_USEC;
        int r;

        /*
         * a burst of calls (thousands of adds) is taken a few milliseconds at
         * a time: what is left keeps the timeout at 0, so the next iteration
         * goes on after alerts and timers had their turn
         */
        do {
                r = sd_bus_process(s->bus, NULL);
        } while (r > 0 && g_get_monotonic_time() < deadline);
        if (r < 0) {
                /* the bus is gone (dbus-daemon stopped or restarted): nothing can reach us any more */
                RvBus *owner = s->owner;
                s->owner = NULL;
                if (owner != NULL && owner->disconnected_func != NULL)
                        owner->disconnected_func(owner, g_strerror(-r), owner->disconnected_data);
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

static void
rv_bus_source_finalize(GSource *source)
{
        RvBusSource *s = (RvBusSource *)source;

        sd_bus_unref(s->bus);
}

static GSourceFuncs rv_bus_source_funcs = {
        .prepare = rv_bus_source_prepare,
        .check = rv_bus_source_check,
        .dispatch = rv_bus_source_dispatch,
        .finalize = rv_bus_source_finalize,
};

static GSource *
rv_bus_source_new(RvBus *owner, sd_bus *bus)
{
        RvBusSource *s = (RvBusSource *)g_source_new(&rv_bus_source_funcs, sizeof(RvBusSource));

        s->owner = owner;
        s->bus = sd_bus_ref(bus);
        s->events = G_IO_IN;
        s->tag = g_source_add_unix_fd(&s->source, sd_bus_get_fd(bus), s->events);
        g_source_set_name(&s->source, "sd-bus");
        return &s->source;
}

/* coalesced PropertiesChanged */

static void
rv_bus_emit_torrent_changes(RvBus *self, const char *hex, guint fields)
{
        g_autofree const char **names = rv_torrent_fields_properties(fields);
        g_autofree char *path = NULL;
        RvInfoHash hash;
        int r;

        if (!rv_info_hash_parse(hex, &hash))
                return;
        if (names[0] == NULL)
                return;
        path = rv_bus_torrent_path(&hash);
        r = sd_bus_emit_properties_changed_strv(self->bus, path, RV_BUS_TORRENT_IFACE, (char **)names);
        if (r < 0)
                g_debug("PropertiesChanged for %s failed: %s", hex, g_strerror(-r));
}

/* manager signals */

static void
rv_bus_emit_removed(RvBus *self, const char *hex)
{
        RvInfoHash hash;
        g_autofree char *path = NULL;
        int r;

        if (!rv_info_hash_parse(hex, &hash))
                return;
        path = rv_bus_torrent_path(&hash);
        /* the object is gone already, so name the interfaces ourselves */
        r = sd_bus_emit_interfaces_removed(self->bus, path, RV_BUS_TORRENT_IFACE, NULL);
        if (r < 0)
                g_debug("InterfacesRemoved for %s failed: %s", path, g_strerror(-r));
        r = sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentRemoved", "os", path, hex);
        if (r < 0)
                g_debug("TorrentRemoved for %s failed: %s", path, g_strerror(-r));
}

/* a torrent's InterfacesAdded and TorrentAdded, built before they are sent */
typedef struct {
        sd_bus_message *interfaces_added;
        sd_bus_message *torrent_added;
} RvBusAdded;

static void
rv_bus_added_free(RvBusAdded *added)
{
        sd_bus_message_unref(added->interfaces_added);
        sd_bus_message_unref(added->torrent_added);
        g_free(added);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvBusAdded, rv_bus_added_free)

/* the object's one interface, with the properties GetManagedObjects lists for it and InterfacesRemoved names */
static RvBusAdded *
rv_bus_added_new(RvBus *self, const RvTorrent *torrent)
{
        g_autoptr(RvBusAdded) added = g_new0(RvBusAdded, 1);
        sd_bus_error error = SD_BUS_ERROR_NULL;
        g_autofree char *path = rv_bus_torrent_path(&torrent->hash);
        int r;

        r = sd_bus_message_new_signal(self->bus, &added->interfaces_added, RV_BUS_PATH,
                                      "org.freedesktop.DBus.ObjectManager", "InterfacesAdded");
        if (r >= 0)
                r = sd_bus_message_append(added->interfaces_added, "o", path);
        if (r >= 0)
                r = sd_bus_message_open_container(added->interfaces_added, 'a', "{sa{sv}}");
        if (r >= 0)
                r = rv_bus_append_interface(added->interfaces_added, path, RV_BUS_TORRENT_IFACE, rv_bus_torrent_vtable,
                                            (void *)torrent, &error);
        if (r >= 0)
                r = sd_bus_message_close_container(added->interfaces_added);
        if (r >= 0)
                r = sd_bus_message_new_signal(self->bus, &added->torrent_added, RV_BUS_PATH, RV_BUS_MANAGER_IFACE,
                                              "TorrentAdded");
        if (r >= 0)
                r = sd_bus_message_append(added->torrent_added, "oss", path, torrent->hash.hex,
                                          torrent->name != NULL ? torrent->name : "");
        if (r < 0) {
                g_debug("the signals of %s's add could not be built: %s", path,
                        error.message != NULL ? error.message : g_strerror(-r));
                sd_bus_error_free(&error);
                return NULL;
        }
        return g_steal_pointer(&added);
}

/* built while the add's records are written, sent when it is added (rv_bus_emit_added) */
static void
rv_bus_adding_cb(RvManager *manager, const RvInfoHash *hash, const RvTorrent *torrent, gpointer user_data)
{
        RvBus *self = user_data;
        RvBusAdded *added;

        if (torrent == NULL || !self->public) {
                g_hash_table_remove(self->prepared, hash->hex);
                return;
        }
        added = rv_bus_added_new(self, torrent);
        if (added != NULL)
                g_hash_table_replace(self->prepared, g_strdup(hash->hex), added);
}

static void
rv_bus_emit_added(RvBus *self, const RvInfoHash *hash)
{
        RvTorrent *torrent = rv_manager_lookup(self->manager, hash);
        g_autoptr(RvBusAdded) added = NULL;
        g_autofree char *key = NULL;
        int r;

        /* built while the records were written, if the add came through here; taken either way */
        (void)g_hash_table_steal_extended(self->prepared, hash->hex, (gpointer *)&key, (gpointer *)&added);
        /* added and removed again while the event waited: its removal follows */
        if (torrent == NULL || torrent->removing)
                return;
        if (added == NULL)
                added = rv_bus_added_new(self, torrent);
        if (added == NULL)
                return;
        r = sd_bus_send(self->bus, added->interfaces_added, NULL);
        if (r >= 0)
                r = sd_bus_send(self->bus, added->torrent_added, NULL);
        if (r < 0)
                g_debug("the signals of %s's add failed: %s", hash->hex, g_strerror(-r));
}

static void
rv_bus_emit_completed(RvBus *self, const RvEvent *event)
{
        g_autofree char *path = rv_bus_torrent_path(&event->hash);
        const char *name = json_object_get_string_member_with_default(json_node_get_object(event->data), "name", "");

        (void)sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentCompleted", "oss", path,
                                 event->hash.hex, name);
}

static void
rv_bus_emit_health(RvBus *self)
{
        RvHealth *health = rv_manager_get_health(self->manager);

        (void)sd_bus_emit_properties_changed(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "Health", "Degraded", NULL);
        (void)sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "HealthChanged", "s",
                                 rv_health_get_status(health));
}

/*
 * the bus follows the core's event stream: one event, one set of signals,
 * sent as it comes (the stream has coalesced progress already); while a
 * GetManagedObjects reply is in the making the stream holds them back
 */
static void
rv_bus_event_cb(const RvEvent *event, gpointer user_data)
{
        RvBus *self = user_data;

        if (event->kind == RV_EVENT_HEALTH_CHANGED) {
                rv_bus_emit_health(self);
                return;
        }
        if (event->kind == RV_EVENT_RESET) {
                g_warning("torrent signals were dropped while replies were in the making; clients may be behind");
                return;
        }
        /* torrents restored before the name is owned are found through GetManagedObjects */
        if (!event->has_hash || !self->public)
                return;
        switch (event->kind) {
        case RV_EVENT_TORRENT_ADDED:
                rv_bus_emit_added(self, &event->hash);
                break;
        case RV_EVENT_TORRENT_REMOVED:
                rv_bus_emit_removed(self, event->hash.hex);
                break;
        case RV_EVENT_COMPLETED:
                rv_bus_emit_completed(self, event);
                break;
        default:
                if (event->fields != 0)
                        rv_bus_emit_torrent_changes(self, event->hash.hex, event->fields);
                break;
        }
}

void
rv_bus_hold_signals(RvBus *self)
{
        rv_event_bus_hold(rv_manager_get_events(self->manager), self->event_sub);
}

void
rv_bus_release_signals(RvBus *self)
{
        rv_event_bus_release(rv_manager_get_events(self->manager), self->event_sub);
}

/* lifecycle */

/*
 * an info hash is 40 lower-case hex digits, already a valid object path
 * element; sd_bus_path_encode() would escape a leading digit ("_39a2...")
 * and make paths that scripts cannot build from the hash, so the hash is
 * used as it is and anything else under the prefix is refused
 */
char *
rv_bus_torrent_path(const RvInfoHash *hash)
{
        return g_strconcat(RV_BUS_TORRENT_PREFIX "/", hash->hex, NULL);
}

RvTorrent *
rv_bus_torrent_from_path(RvBus *self, const char *path)
{
        const char *hex;
        RvInfoHash hash;

        if (!g_str_has_prefix(path, RV_BUS_TORRENT_PREFIX "/"))
                return NULL;
        hex = path + strlen(RV_BUS_TORRENT_PREFIX "/");
        if (strlen(hex) != RV_INFO_HASH_HEX_LEN || !rv_info_hash_parse(hex, &hash) || g_strcmp0(hash.hex, hex) != 0)
                return NULL;
        return rv_manager_lookup(self->manager, &hash);
}

static int
rv_bus_torrent_find_cb(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                       sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        RvTorrent *torrent = rv_bus_torrent_from_path(self, path);

        if (torrent == NULL || torrent->removing)
                return 0;
        *ret_found = torrent;
        return 1;
}

static int
rv_bus_torrent_enumerate_cb(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        GPtrArray *list = rv_manager_list(self->manager);
        char **nodes = calloc(list->len + 1, sizeof(char *));
        guint n = 0;

        if (nodes == NULL)
                return -ENOMEM;
        for (guint i = 0; i < list->len; i++) {
                RvTorrent *torrent = g_ptr_array_index(list, i);
                if (torrent->removing)
                        continue;
                /* sd-bus frees these with free() */
                if (asprintf(&nodes[n], RV_BUS_TORRENT_PREFIX "/%s", torrent->hash.hex) < 0) {
                        for (guint j = 0; j < n; j++)
                                free(nodes[j]);
                        free(nodes);
                        return -ENOMEM;
                }
                n++;
        }
        *ret_nodes = nodes;
        return 0;
}

static void
rv_bus_set_gerror_from_errno(GError **error, int r, const char *what)
{
        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: %s", what, g_strerror(-r));
}

RvBus *
rv_bus_new(RvManager *manager, RvBusKind kind, GError **error)
{
        g_autoptr(RvBus) self = g_new0(RvBus, 1);
        int r;

        self->manager = g_object_ref(manager);
        self->kind = kind;
        self->own_uid = geteuid();
        self->service_state = g_strdup("starting");
        self->streams = rv_bus_streams_new();
        self->all_calls = g_ptr_array_new();
        rv_bus_polkit_init(self);

        r = kind == RV_BUS_KIND_SYSTEM ? sd_bus_open_system(&self->bus) : sd_bus_open_user(&self->bus);
        if (r < 0) {
                rv_bus_set_gerror_from_errno(error, r,
                                             kind == RV_BUS_KIND_SYSTEM ? "cannot connect to the system bus"
                                                                        : "cannot connect to the session bus");
                return NULL;
        }
        (void)sd_bus_error_add_map(rv_bus_error_map);
        r = sd_bus_add_object_vtable(self->bus, &self->manager_slot, RV_BUS_PATH, RV_BUS_MANAGER_IFACE,
                                     rv_bus_manager_vtable, self);
        if (r >= 0)
                r = sd_bus_add_object_manager(self->bus, &self->om_slot, RV_BUS_PATH);
        if (r >= 0)
                r = sd_bus_add_object(self->bus, &self->managed_slot, RV_BUS_PATH, rv_bus_managed_objects_cb, self);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(self->bus, &self->torrent_slot, RV_BUS_TORRENT_PREFIX,
                                               RV_BUS_TORRENT_IFACE, rv_bus_torrent_vtable, rv_bus_torrent_find_cb,
                                               self);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(self->bus, &self->enum_slot, RV_BUS_TORRENT_PREFIX,
                                               rv_bus_torrent_enumerate_cb, self);
        if (r >= 0)
                r = sd_bus_add_fallback(self->bus, &self->filter_slot, RV_BUS_TORRENT_PREFIX, rv_bus_torrent_filter_cb,
                                        self);
        if (r < 0) {
                rv_bus_set_gerror_from_errno(error, r, "cannot export objects");
                return NULL;
        }

        self->source = rv_bus_source_new(self, self->bus);
        g_source_attach(self->source, NULL);

        self->event_sub = rv_event_bus_subscribe(rv_manager_get_events(manager), rv_bus_event_cb, self);
        self->prepared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rv_bus_added_free);
        rv_manager_set_adding_func(manager, rv_bus_adding_cb, self);
        return g_steal_pointer(&self);
}

gboolean
rv_bus_request_name(RvBus *self, GError **error)
{
        int r = sd_bus_request_name(self->bus, RV_BUS_NAME, 0);

        if (r < 0) {
                g_set_error(error, RV_ERROR, r == -EEXIST ? RV_ERROR_CONFLICT : RV_ERROR_UNAVAILABLE,
                            "cannot own the bus name %s: %s", RV_BUS_NAME,
                            r == -EEXIST ? "another process holds it" : g_strerror(-r));
                return FALSE;
        }
        self->public = TRUE;
        return TRUE;
}

void
rv_bus_free(RvBus *self)
{
        if (self == NULL)
                return;
        if (self->manager != NULL && self->event_sub != 0)
                rv_event_bus_unsubscribe(rv_manager_get_events(self->manager), self->event_sub);
        if (self->manager != NULL && self->prepared != NULL)
                rv_manager_set_adding_func(self->manager, NULL, NULL);
        if (self->prepared != NULL)
                g_hash_table_unref(self->prepared);
        rv_bus_polkit_clear(self);
        /* replies still being built are dropped: the connection goes too */
        if (self->streams != NULL)
                g_ptr_array_unref(self->streams);
        for (guint i = 0; self->all_calls != NULL && i < self->all_calls->len; i++)
                ((RvBusAllCall *)g_ptr_array_index(self->all_calls, i))->bus = NULL;
        if (self->all_calls != NULL)
                g_ptr_array_unref(self->all_calls);
        if (self->settings != NULL) {
                g_signal_handler_disconnect(self->settings, self->settings_changed);
                g_clear_object(&self->settings);
        }
        g_clear_object(&self->access);
        sd_bus_slot_unref(self->policy_filter_slot);
        sd_bus_slot_unref(self->manager_slot);
        sd_bus_slot_unref(self->om_slot);
        sd_bus_slot_unref(self->managed_slot);
        sd_bus_slot_unref(self->torrent_slot);
        sd_bus_slot_unref(self->enum_slot);
        sd_bus_slot_unref(self->filter_slot);
        if (self->source != NULL) {
                g_source_destroy(self->source);
                g_source_unref(self->source);
        }
        if (self->bus != NULL)
                sd_bus_flush_close_unref(self->bus);
        g_clear_object(&self->manager);
        g_free(self->service_state);
        g_free(self);
}

void
rv_bus_set_disconnected_func(RvBus *self, RvBusDisconnectedFunc func, gpointer user_data)
{
        self->disconnected_func = func;
        self->disconnected_data = user_data;
}

void
rv_bus_set_access(RvBus *self, RvAccess *access)
{
        g_set_object(&self->access, access);
}

sd_bus *
rv_bus_get_sd_bus(RvBus *self)
{
        return self->bus;
}

void
rv_bus_set_service_state(RvBus *self, const char *state)
{
        if (g_strcmp0(self->service_state, state) == 0)
                return;
        g_free(self->service_state);
        self->service_state = g_strdup(state);
        (void)sd_bus_emit_properties_changed(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ServiceState", NULL);
}
