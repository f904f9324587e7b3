/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "rv-access.h"
#include "rv-live-settings.h"
#include "rv-manager.h"
#include "rv-names.h"

G_BEGIN_DECLS

typedef enum {
        RV_BUS_KIND_SYSTEM,
        RV_BUS_KIND_SESSION,
} RvBusKind;

typedef struct _RvBus RvBus;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_creds, sd_bus_creds_unref)

/* connects, exports the objects and attaches to the thread-default main context; the name is not requested yet */
RvBus *rv_bus_new(RvManager *manager, RvBusKind kind, GError **error);
void rv_bus_free(RvBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvBus, rv_bus_free)

typedef void (*RvBusDisconnectedFunc)(RvBus *bus, const char *reason, gpointer user_data);
/* called once when the connection is lost for good */
void rv_bus_set_disconnected_func(RvBus *bus, RvBusDisconnectedFunc func, gpointer user_data);

/* publishes the policy objects of these settings */
void rv_bus_set_settings(RvBus *bus, RvLiveSettings *settings);
/* setup tokens and API keys over the bus */
void rv_bus_set_access(RvBus *bus, RvAccess *access);

/* owns the well-known name; fails when another process holds it */
gboolean rv_bus_request_name(RvBus *bus, GError **error);
sd_bus *rv_bus_get_sd_bus(RvBus *bus);
void rv_bus_set_service_state(RvBus *bus, const char *state);

/* the introspection XML of every Revaer interface, what `revaerd --bus-introspect` prints */
char *rv_bus_introspect(void);
/* one interface by name, NULL when unknown */
char *rv_bus_introspect_interface(const char *name);
const char *const *rv_bus_interface_names(void);

/* an object path for a torrent */
char *rv_bus_torrent_path(const RvInfoHash *hash);

G_END_DECLS
