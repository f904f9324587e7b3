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

/* coalescing: rates and progress at most once a second per torrent */
#define RV_BUS_COALESCE_MS 1000

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

static const char *const rv_bus_progress_props[] = { "Progress", "Done", "WantedSize", "Eta", NULL };
static const char *const rv_bus_rate_props[] = { "DownloadRate", "UploadRate", "Downloaded", "Uploaded", "Eta", NULL };

static void
rv_bus_add_props(GPtrArray *names, const char *const *props)
{
        for (guint i = 0; props[i] != NULL; i++) {
                gboolean seen = FALSE;
                for (guint j = 0; j < names->len; j++)
                        seen |= g_strcmp0(g_ptr_array_index(names, j), props[i]) == 0;
                if (!seen)
                        g_ptr_array_add(names, (gpointer)props[i]);
        }
}

static void
rv_bus_emit_torrent_changes(RvBus *self, const char *hex, guint fields)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        g_autofree char *path = NULL;
        RvInfoHash hash;
        int r;

        if (!rv_info_hash_parse(hex, &hash))
                return;
        if (fields & RV_TORRENT_FIELD_NAME)
                rv_bus_add_props(names, (const char *const[]){ "Name", NULL });
        if (fields & RV_TORRENT_FIELD_STATE)
                rv_bus_add_props(names, (const char *const[]){ "State", "Eta", NULL });
        if (fields & RV_TORRENT_FIELD_PROGRESS)
                rv_bus_add_props(names, rv_bus_progress_props);
        if (fields & RV_TORRENT_FIELD_RATES)
                rv_bus_add_props(names, rv_bus_rate_props);
        if (fields & RV_TORRENT_FIELD_PEERS)
                rv_bus_add_props(names, (const char *const[]){ "Peers", "Seeds", NULL });
        if (fields & RV_TORRENT_FIELD_SIZE)
                rv_bus_add_props(names, (const char *const[]){ "Size", "WantedSize", NULL });
        if (fields & RV_TORRENT_FIELD_SAVE_PATH)
                rv_bus_add_props(names, (const char *const[]){ "SavePath", NULL });
        if (fields & RV_TORRENT_FIELD_SEQUENTIAL)
                rv_bus_add_props(names, (const char *const[]){ "Sequential", NULL });
        if (fields & RV_TORRENT_FIELD_LIMITS)
                rv_bus_add_props(names, (const char *const[]){ "DownloadLimit", "UploadLimit", NULL });
        if (fields & RV_TORRENT_FIELD_LABELS)
                rv_bus_add_props(names, (const char *const[]){ "Labels", NULL });
        if (fields & RV_TORRENT_FIELD_SELECTION)
                rv_bus_add_props(names, (const char *const[]){ "Include", "Exclude", "SkipFluff", NULL });
        if (fields & RV_TORRENT_FIELD_ERROR)
                rv_bus_add_props(names, (const char *const[]){ "Error", NULL });
        if (fields & RV_TORRENT_FIELD_COMPLETED)
                rv_bus_add_props(names, (const char *const[]){ "Completed", "CompletedTime", NULL });
        if (fields & RV_TORRENT_FIELD_FSOPS)
                rv_bus_add_props(names, (const char *const[]){ "FsState", "FsError", "LibraryPath", NULL });
        if (names->len == 0)
                return;
        g_ptr_array_add(names, NULL);
        path = rv_bus_torrent_path(&hash);
        r = sd_bus_emit_properties_changed_strv(self->bus, path, RV_BUS_TORRENT_IFACE, (char **)names->pdata);
        if (r < 0)
                g_debug("PropertiesChanged for %s failed: %s", hex, g_strerror(-r));
}

void
rv_bus_flush(RvBus *self)
{
        g_autoptr(GHashTable) dirty = NULL;
        GHashTableIter iter;
        gpointer key;
        gpointer value;

        if (self->flush_timer != 0) {
                g_source_remove(self->flush_timer);
                self->flush_timer = 0;
        }
        /* rv_bus_release_signals() flushes once the reply is out */
        if (self->managed_pending > 0 || g_hash_table_size(self->dirty) == 0)
                return;
        dirty = g_steal_pointer(&self->dirty);
        self->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_iter_init(&iter, dirty);
        while (g_hash_table_iter_next(&iter, &key, &value))
                rv_bus_emit_torrent_changes(self, key, GPOINTER_TO_UINT(value));
}

static gboolean
rv_bus_flush_cb(gpointer user_data)
{
        RvBus *self = user_data;

        self->flush_timer = 0;
        rv_bus_flush(self);
        return G_SOURCE_REMOVE;
}

void
rv_bus_torrent_changed(RvBus *self, RvTorrent *torrent, guint fields)
{
        const guint coalesced = RV_TORRENT_FIELD_PROGRESS | RV_TORRENT_FIELD_RATES | RV_TORRENT_FIELD_PEERS;
        guint pending = GPOINTER_TO_UINT(g_hash_table_lookup(self->dirty, torrent->hash.hex));

        if ((fields & ~coalesced) != 0 && self->managed_pending == 0) {
                /* a state change goes out at once, together with whatever waited for the tick */
                g_hash_table_remove(self->dirty, torrent->hash.hex);
                rv_bus_emit_torrent_changes(self, torrent->hash.hex, fields | pending);
                return;
        }
        g_hash_table_replace(self->dirty, g_strdup(torrent->hash.hex), GUINT_TO_POINTER(pending | fields));
        if (self->flush_timer == 0)
                self->flush_timer = g_timeout_add(RV_BUS_COALESCE_MS, rv_bus_flush_cb, self);
}

void
rv_bus_torrent_forget(RvBus *self, const char *hex)
{
        g_hash_table_remove(self->dirty, hex);
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

static void
rv_bus_torrent_added_cb(RvManager *manager, RvTorrent *torrent, gpointer user_data)
{
        RvBus *self = user_data;
        g_autofree char *path = NULL;
        int r;

        /* torrents restored before the name is owned are found through GetManagedObjects */
        if (!self->public)
                return;
        /* removed and added again while a reply was in the making: the removal first */
        for (guint i = 0; i < self->held_removed->len; i++) {
                if (g_str_equal(g_ptr_array_index(self->held_removed, i), torrent->hash.hex)) {
                        rv_bus_emit_removed(self, torrent->hash.hex);
                        g_ptr_array_remove_index(self->held_removed, i);
                        break;
                }
        }
        path = rv_bus_torrent_path(&torrent->hash);
        r = sd_bus_emit_object_added(self->bus, path);
        if (r < 0)
                g_debug("InterfacesAdded for %s failed: %s", path, g_strerror(-r));
        r = sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentAdded", "oss", path,
                               torrent->hash.hex, torrent->name != NULL ? torrent->name : "");
        if (r < 0)
                g_debug("TorrentAdded for %s failed: %s", path, g_strerror(-r));
}

static void
rv_bus_torrent_removed_cb(RvManager *manager, const char *hex, gpointer user_data)
{
        RvBus *self = user_data;

        rv_bus_torrent_forget(self, hex);
        if (self->managed_pending > 0) {
                g_ptr_array_add(self->held_removed, g_strdup(hex));
                return;
        }
        rv_bus_emit_removed(self, hex);
}

void
rv_bus_release_signals(RvBus *self)
{
        g_autoptr(GPtrArray) removed = NULL;

        g_return_if_fail(self->managed_pending > 0);
        if (--self->managed_pending > 0)
                return;
        removed = g_steal_pointer(&self->held_removed);
        self->held_removed = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < removed->len; i++)
                rv_bus_emit_removed(self, g_ptr_array_index(removed, i));
        rv_bus_flush(self);
}

static void
rv_bus_torrent_changed_cb(RvManager *manager, RvTorrent *torrent, guint fields, gpointer user_data)
{
        RvBus *self = user_data;

        rv_bus_torrent_changed(self, torrent, fields);
        if (fields & RV_TORRENT_FIELD_COMPLETED) {
                g_autofree char *path = rv_bus_torrent_path(&torrent->hash);
                (void)sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentCompleted", "oss", path,
                                         torrent->hash.hex, torrent->name != NULL ? torrent->name : "");
        }
}

static void
rv_bus_event_cb(const RvEvent *event, gpointer user_data)
{
        RvBus *self = user_data;
        RvHealth *health = rv_manager_get_health(self->manager);

        if (event->kind != RV_EVENT_HEALTH_CHANGED)
                return;
        (void)sd_bus_emit_properties_changed(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "Health", "Degraded", NULL);
        (void)sd_bus_emit_signal(self->bus, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "HealthChanged", "s",
                                 rv_health_get_status(health));
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
        self->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->streams = rv_bus_streams_new();
        self->held_removed = g_ptr_array_new_with_free_func(g_free);
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

        self->sig_added = g_signal_connect(manager, "torrent-added", G_CALLBACK(rv_bus_torrent_added_cb), self);
        self->sig_removed = g_signal_connect(manager, "torrent-removed", G_CALLBACK(rv_bus_torrent_removed_cb), self);
        self->sig_changed = g_signal_connect(manager, "torrent-changed", G_CALLBACK(rv_bus_torrent_changed_cb), self);
        self->health_sub = rv_event_bus_subscribe(rv_manager_get_events(manager), rv_bus_event_cb, self);
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
        if (self->flush_timer != 0)
                g_source_remove(self->flush_timer);
        if (self->manager != NULL) {
                if (self->sig_added != 0)
                        g_signal_handler_disconnect(self->manager, self->sig_added);
                if (self->sig_removed != 0)
                        g_signal_handler_disconnect(self->manager, self->sig_removed);
                if (self->sig_changed != 0)
                        g_signal_handler_disconnect(self->manager, self->sig_changed);
                if (self->health_sub != 0)
                        rv_event_bus_unsubscribe(rv_manager_get_events(self->manager), self->health_sub);
        }
        rv_bus_polkit_clear(self);
        /* replies still being built are dropped: the connection goes too */
        if (self->streams != NULL)
                g_ptr_array_unref(self->streams);
        if (self->held_removed != NULL)
                g_ptr_array_unref(self->held_removed);
        for (guint i = 0; self->all_calls != NULL && i < self->all_calls->len; i++)
                ((RvBusAllCall *)g_ptr_array_index(self->all_calls, i))->bus = NULL;
        if (self->all_calls != NULL)
                g_ptr_array_unref(self->all_calls);
        if (self->config != NULL) {
                g_signal_handler_disconnect(self->config, self->config_changed);
                g_clear_object(&self->config);
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
        if (self->dirty != NULL)
                g_hash_table_unref(self->dirty);
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
