/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replies that cover every torrent, built a slice per main-loop iteration.
 *
 * GetManagedObjects with 10,000 torrents is about 10 MB of properties; built
 * in one go by sd-bus it held the main loop for over half a second, and the
 * compact list for some 15 ms. Here the torrents are fixed when the call
 * arrives, and each iteration appends rows for at most RV_BUS_SLICE_USEC (and
 * RV_BUS_SLICE_ROWS rows) before letting the loop run: alerts, other callers
 * and the watchdog go on while a large reply is built. A torrent removed
 * meanwhile is left out; one added meanwhile is announced by its signal.
 * The rows are read through the torrents' pointers for as long as no torrent
 * has been freed since the call arrived, and looked up by hash after that: a
 * lookup per row was a sixth of the list view's cost in revaerd.
 * While a GetManagedObjects reply is in the making, torrent signals wait
 * (rv_bus_release_signals()): a client must not see a change or a removal
 * before the reply that still holds the older state.
 */

#include "config.h"

#include "rv-bus-private.h"

#define RV_BUS_SLICE_USEC 2000
#define RV_BUS_SLICE_ROWS 256
/* rows between two clock reads */
#define RV_BUS_SLICE_CHECK 16
#define RV_BUS_MAX_STREAMS_PER_SENDER 4

struct _RvBusStream {
        RvBus *bus;
        sd_bus_message *call;
        sd_bus_message *reply;
        /* RvInfoHash, the torrents when the call arrived */
        GArray *hashes;
        /* the same torrents, valid while the manager's forgotten count is still forgotten */
        GPtrArray *torrents;
        guint64 forgotten;
        guint next;
        RvBusRowFunc row;
        RvBusFinishFunc finish;
        gpointer data;
        GDestroyNotify destroy;
        GSource *source;
        /* a GetManagedObjects reply: torrent signals wait for it */
        gboolean managed;
};

static void
rv_bus_stream_free(RvBusStream *stream)
{
        if (stream->source != NULL) {
                g_source_destroy(stream->source);
                g_source_unref(stream->source);
        }
        sd_bus_message_unref(stream->reply);
        sd_bus_message_unref(stream->call);
        g_array_unref(stream->hashes);
        g_ptr_array_unref(stream->torrents);
        if (stream->destroy != NULL)
                stream->destroy(stream->data);
        g_free(stream);
}

/* appends one slice; TRUE while rows are left */
static gboolean
rv_bus_stream_slice(RvBusStream *stream)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        gint64 deadline = g_get_monotonic_time() + RV_BUS_SLICE_USEC;
        /* no torrent freed since the call arrived: the pointers hold */
        gboolean same = rv_manager_get_forgotten(stream->bus->manager) == stream->forgotten;
        guint rows = 0;
        int r = 0;

        while (stream->next < stream->hashes->len) {
                RvTorrent *torrent = same ? g_ptr_array_index(stream->torrents, stream->next)
                                          : rv_manager_lookup(stream->bus->manager,
                                                              &g_array_index(stream->hashes, RvInfoHash, stream->next));
                stream->next++;
                if (torrent != NULL && !torrent->removing)
                        r = stream->row(stream->bus, stream->reply, torrent, stream->data, &error);
                if (r < 0)
                        break;
                rows++;
                if (rows == RV_BUS_SLICE_ROWS || (rows % RV_BUS_SLICE_CHECK == 0 && g_get_monotonic_time() >= deadline))
                        break;
        }
        if (r >= 0 && stream->next < stream->hashes->len) {
                sd_bus_error_free(&error);
                return TRUE;
        }
        if (r >= 0 && stream->finish != NULL)
                r = stream->finish(stream->reply, stream->data);
        if (r >= 0)
                r = sd_bus_message_close_container(stream->reply);
        if (r >= 0)
                r = sd_bus_send(NULL, stream->reply, NULL);
        if (r < 0) {
                g_debug("a reply over every torrent failed: %s", error.message ? error.message : g_strerror(-r));
                if (sd_bus_error_is_set(&error))
                        (void)sd_bus_reply_method_error(stream->call, &error);
                else
                        (void)sd_bus_reply_method_errno(stream->call, r, NULL);
        }
        sd_bus_error_free(&error);
        return FALSE;
}

static gboolean
rv_bus_stream_dispatch(gpointer user_data)
{
        RvBusStream *stream = user_data;
        RvBus *bus = stream->bus;
        gboolean managed = stream->managed;

        if (rv_bus_stream_slice(stream))
                return G_SOURCE_CONTINUE;
        /* frees the stream, and with it this source */
        g_ptr_array_remove_fast(bus->streams, stream);
        if (managed)
                rv_bus_release_signals(bus);
        return G_SOURCE_REMOVE;
}

static int rv_bus_managed_torrent_row(RvBus *self, sd_bus_message *reply, RvTorrent *torrent, gpointer data,
                                      sd_bus_error *error);

/* replies of one caller being built at a time: each can be megabytes */
static guint
rv_bus_streams_of(RvBus *self, const char *sender)
{
        guint n = 0;

        for (guint i = 0; sender != NULL && i < self->streams->len; i++) {
                RvBusStream *stream = g_ptr_array_index(self->streams, i);
                n += g_strcmp0(sd_bus_message_get_sender(stream->call), sender) == 0;
        }
        return n;
}

int
rv_bus_reply_stream_full(RvBus *self, sd_bus_message *call, sd_bus_message *reply, RvBusRowFunc row,
                         RvBusFinishFunc finish, gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error)
{
        GPtrArray *list = rv_manager_list(self->manager);
        const char *sender = sd_bus_message_get_sender(call);
        guint pending = rv_bus_streams_of(self, sender);
        RvBusStream *stream;

        if (pending >= RV_BUS_MAX_STREAMS_PER_SENDER) {
                if (destroy != NULL)
                        destroy(data);
                return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_RATE_LIMITED),
                                         "%u replies over every torrent are already being built for %s", pending,
                                         sender);
        }
        stream = g_new0(RvBusStream, 1);

        stream->bus = self;
        stream->call = sd_bus_message_ref(call);
        stream->reply = sd_bus_message_ref(reply);
        stream->row = row;
        stream->finish = finish;
        stream->data = data;
        stream->destroy = destroy;
        stream->hashes = g_array_sized_new(FALSE, FALSE, sizeof(RvInfoHash), list->len);
        stream->torrents = g_ptr_array_sized_new(list->len);
        stream->forgotten = rv_manager_get_forgotten(self->manager);
        for (guint i = 0; i < list->len; i++) {
                RvTorrent *torrent = g_ptr_array_index(list, i);
                if (torrent->removing)
                        continue;
                g_array_append_val(stream->hashes, torrent->hash);
                g_ptr_array_add(stream->torrents, torrent);
        }
        /* a short list is answered at once, as before */
        if (!rv_bus_stream_slice(stream)) {
                rv_bus_stream_free(stream);
                return 1;
        }
        stream->source = g_idle_source_new();
        /* not idle priority: a busy bus must not starve the reply */
        g_source_set_priority(stream->source, G_PRIORITY_DEFAULT);
        g_source_set_callback(stream->source, rv_bus_stream_dispatch, stream, NULL);
        g_source_set_static_name(stream->source, "revaer bus reply");
        g_source_attach(stream->source, NULL);
        g_ptr_array_add(self->streams, stream);
        stream->managed = row == rv_bus_managed_torrent_row;
        if (stream->managed)
                rv_bus_hold_signals(self);
        return 1;
}

int
rv_bus_reply_stream(RvBus *self, sd_bus_message *call, sd_bus_message *reply, RvBusRowFunc row, sd_bus_error *ret_error)
{
        return rv_bus_reply_stream_full(self, call, reply, row, NULL, NULL, NULL, ret_error);
}

GPtrArray *
rv_bus_streams_new(void)
{
        return g_ptr_array_new_with_free_func((GDestroyNotify)rv_bus_stream_free);
}

/* GetManagedObjects */

/* opens a dict entry of signature entry, appends key of type key_type, opens its array of array_sig */
static int
rv_bus_open_entry(sd_bus_message *reply, const char *entry, char key_type, const char *key, const char *array_sig)
{
        int r = sd_bus_message_open_container(reply, 'e', entry);

        if (r >= 0)
                r = sd_bus_message_append_basic(reply, key_type, key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', array_sig);
        return r;
}

static int
rv_bus_close_entry(sd_bus_message *reply)
{
        int r = sd_bus_message_close_container(reply);

        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

int
rv_bus_append_interface(sd_bus_message *reply, const char *path, const char *iface, const sd_bus_vtable *vtable,
                        void *userdata, sd_bus_error *error)
{
        sd_bus *bus = sd_bus_message_get_bus(reply);
        int r = rv_bus_open_entry(reply, "sa{sv}", 's', iface, "{sv}");

        for (const sd_bus_vtable *v = vtable; r >= 0 && v->type != _SD_BUS_VTABLE_END; v++) {
                if ((v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY) ||
                    (v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT)) != 0)
                        continue;
                if (v->x.property.get == NULL)
                        return -EINVAL;
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', v->x.property.member);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', v->x.property.signature);
                if (r >= 0)
                        r = v->x.property.get(bus, path, iface, v->x.property.member, reply, userdata, error);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r >= 0 ? rv_bus_close_entry(reply) : r;
}

/*
 * path -> the object's own interfaces. Peer, Introspectable and Properties,
 * which every object has, are not listed (as GDBus does, and as
 * InterfacesAdded says): three empty dictionaries per torrent were a third of
 * what a client decoded of an object once its properties were cut to a row's
 */
static int
rv_bus_append_object(sd_bus_message *reply, const char *path, const char *const *ifaces,
                     const sd_bus_vtable *const *vtables, void *userdata, sd_bus_error *error)
{
        int r = rv_bus_open_entry(reply, "oa{sa{sv}}", 'o', path, "{sa{sv}}");

        for (guint i = 0; r >= 0 && ifaces[i] != NULL; i++)
                r = rv_bus_append_interface(reply, path, ifaces[i], vtables[i], userdata, error);
        return r >= 0 ? rv_bus_close_entry(reply) : r;
}

static int
rv_bus_managed_torrent_row(RvBus *self, sd_bus_message *reply, RvTorrent *torrent, gpointer data, sd_bus_error *error)
{
        static const char *const ifaces[] = { RV_BUS_TORRENT_IFACE, NULL };
        const sd_bus_vtable *const vtables[] = { rv_bus_torrent_vtable };
        char path[sizeof(RV_BUS_TORRENT_PREFIX "/") + RV_INFO_HASH_HEX_LEN];

        g_snprintf(path, sizeof(path), RV_BUS_TORRENT_PREFIX "/%s", torrent->hash.hex);
        return rv_bus_append_object(reply, path, ifaces, vtables, torrent, error);
}

/*
 * an object callback on the manager's path runs before sd-bus's own
 * ObjectManager: it answers GetManagedObjects and leaves the rest alone
 */
int
rv_bus_managed_objects_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") ||
            !sd_bus_message_has_signature(m, ""))
                return 0;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
        for (guint s = 0; r >= 0 && self->settings != NULL && rv_bus_policy_sections[s] != NULL; s++) {
                const char *section = rv_bus_policy_sections[s];
                const char *ifaces[] = { rv_bus_policy_iface(section), RV_BUS_POLICY_IFACE, NULL };
                const sd_bus_vtable *vtables[] = { rv_bus_policy_vtable(section), rv_bus_policy_common_vtable };
                g_autofree char *path = g_strdup_printf(RV_BUS_POLICY_PREFIX "/%s", section);
                r = rv_bus_append_object(reply, path, ifaces, vtables, self, ret_error);
        }
        if (r < 0)
                return r;
        return rv_bus_reply_stream(self, m, reply, rv_bus_managed_torrent_row, ret_error);
}
