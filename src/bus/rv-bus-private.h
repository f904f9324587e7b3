/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rv-bus.h"

G_BEGIN_DECLS

struct _RvBus {
        RvManager *manager;
        RvBusKind kind;
        sd_bus *bus;
        GSource *source;
        sd_bus_slot *manager_slot;
        sd_bus_slot *om_slot;
        sd_bus_slot *torrent_slot;
        sd_bus_slot *enum_slot;
        sd_bus_slot *filter_slot;
        char *service_state;
        gulong sig_added;
        gulong sig_removed;
        gulong sig_changed;
        guint health_sub;
        /* hex -> pending RvTorrentFields for coalesced PropertiesChanged */
        GHashTable *dirty;
        guint flush_timer;
        uid_t own_uid;
        RvBusDisconnectedFunc disconnected_func;
        gpointer disconnected_data;
};

/* the vtables, for export and for introspection */
extern const sd_bus_vtable rv_bus_manager_vtable[];
extern const sd_bus_vtable rv_bus_torrent_vtable[];

/* an RvError-domain reply from any GError */
int rv_bus_reply_error(sd_bus_message *m, const GError *error);
int rv_bus_set_error(sd_bus_error *ret_error, const GError *error);
/* may the sender change things (methods, property writes)? */
int rv_bus_check_manage(RvBus *self, sd_bus_message *m, sd_bus_error *ret_error);

/* reads an a{sv} of add options into request; strings stay owned by the storage arrays */
int rv_bus_read_add_options(sd_bus_message *m, RvAddRequest *request, GPtrArray *keep, RvSelection **ret_selection,
                            GError **error);

void rv_bus_torrent_changed(RvBus *self, RvTorrent *torrent, guint fields);
void rv_bus_torrent_forget(RvBus *self, const char *hex);
RvTorrent *rv_bus_torrent_from_path(RvBus *self, const char *path);

G_END_DECLS
