/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rv-bus.h"
#include "rv-command.h"
#include "rv-torrent-fields.h"
#include "rv-validate.h"

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
        /* the bus's subscription to the core's event stream */
        guint event_sub;
        uid_t own_uid;
        RvBusDisconnectedFunc disconnected_func;
        gpointer disconnected_data;
        RvLiveSettings *settings;
        RvAccess *access;
        gulong settings_changed;
        sd_bus_slot *policy_filter_slot;
        /* the name is owned: before that nobody can be listening, so no signals are built */
        gboolean public;
        /* sender -> checks in flight */
        GHashTable *pending_auth;
        /* unique name -> uid + 1 of callers asked of the bus before (a unique name is never reused) */
        GHashTable *sender_uids;
        /* RvBusAuthRequest set, for teardown */
        GHashTable *auth_requests;
        /* a failed polkit check was logged at warning: polkit refused to check, or did not answer */
        gboolean polkit_refused_logged;
        gboolean polkit_silent_logged;
        /* RvBusStream, replies built a slice per iteration */
        GPtrArray *streams;
        /* RvBusAllCall under way (borrowed) */
        GPtrArray *all_calls;
        /* answers GetManagedObjects before sd-bus would */
        sd_bus_slot *managed_slot;
        /* hex -> RvBusAdded: an add's signals, built while its records were written (rv_bus_adding_cb) */
        GHashTable *prepared;
};

/* PauseAll or ResumeAll under way; bus is NULL once the RvBus is gone */
typedef struct {
        RvBus *bus;
        sd_bus_message *message;
} RvBusAllCall;

/* a reply over every torrent being built, see rv-bus-stream.c */
typedef struct _RvBusStream RvBusStream;

/* the core operation a method or writable property is (rv-command.h), FALSE when there is none */
gboolean rv_bus_op_for(const char *interface, const char *member, RvOp *ret_op);
/* the polkit action that guards it: the one of its operation's scope, NULL when there is none */
const char *rv_bus_action_for(const char *interface, const char *member);

/* runs once the caller is authorized; replies itself, or returns < 0 with ret_error set */
typedef int (*RvBusAuthorizedFunc)(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error);

/*
 * validate first, then this, then mutate in func: trusted callers continue at
 * once, others after polkit said yes; returns 1 (the reply is sent later) or
 * < 0 with ret_error set; data is freed with destroy in every case
 */
int rv_bus_authorize(RvBus *self, sd_bus_message *m, const char *action, const char *const *details,
                     RvBusAuthorizedFunc func, gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error);
/* the same with the action looked up for the message's interface and member */
int rv_bus_authorize_message(RvBus *self, sd_bus_message *m, const char *const *details, RvBusAuthorizedFunc func,
                             gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error);
void rv_bus_polkit_init(RvBus *self);
/* the effective uid of a message's sender, asked of the bus once per connection */
gboolean rv_bus_sender_uid(RvBus *self, sd_bus_message *m, uid_t *ret_uid);
void rv_bus_polkit_clear(RvBus *self);
/* Properties.Set on writable properties, intercepted so it can be authorized asynchronously */
int rv_bus_torrent_set_property(RvBus *self, sd_bus_message *m, const char *property, sd_bus_error *ret_error);

/* the manager's setup and API key methods (rv-bus-access.c) */
int rv_bus_method_issue_setup_token(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_complete_setup(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_create_api_key(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_rotate_or_revoke(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_list_api_keys(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* a row of ListTorrents, or with node first one of ListClusterTorrents */
int rv_bus_append_list_row(sd_bus_message *reply, const char *node, const RvTorrent *t);
/* the cluster's torrents and commands on any of them (rv-bus-cluster.c) */
int rv_bus_method_list_cluster_torrents(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_run_torrent_command(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* the vtables, for export and for introspection */
extern const sd_bus_vtable rv_bus_manager_vtable[];
extern const sd_bus_vtable rv_bus_torrent_vtable[];
extern const sd_bus_vtable rv_bus_policy_common_vtable[];
/* "app", "engine", "fs": one policy object each */
extern const char *const rv_bus_policy_sections[];
/* built from the settings table on first use */
const sd_bus_vtable *rv_bus_policy_vtable(const char *section);
/* "com.revaer.Revaer1.Policy.Engine" for "engine" */
const char *rv_bus_policy_iface(const char *section);

/* an RvError-domain reply from any GError */
int rv_bus_reply_error(sd_bus_message *m, const GError *error);
int rv_bus_set_error(sd_bus_error *ret_error, const GError *error);

/* reads an a{sv} of add options into request; strings stay owned by the storage arrays */
int rv_bus_read_add_options(sd_bus_message *m, RvAddRequest *request, GPtrArray *keep, RvSelection **ret_selection,
                            GError **error);

RvTorrent *rv_bus_torrent_from_path(RvBus *self, const char *path);

/* appends one torrent's row to reply (or to data); < 0 (error set or not) ends the reply with an error */
typedef int (*RvBusRowFunc)(RvBus *self, sd_bus_message *reply, RvTorrent *torrent, gpointer data, sd_bus_error *error);
/* appends what the rows gathered in data, before reply's outermost array is closed */
typedef int (*RvBusFinishFunc)(sd_bus_message *reply, gpointer data);
/*
 * finishes reply, whose outermost array is open, with a row per torrent,
 * a slice per main-loop iteration, then sends it (or an error for call);
 * returns 1, as a method handler that replies later, or < 0 with ret_error
 * set when the caller has too many such replies in the making
 */
int rv_bus_reply_stream(RvBus *self, sd_bus_message *call, sd_bus_message *reply, RvBusRowFunc row,
                        sd_bus_error *ret_error);
/* the same, with data for row and finish (which may be NULL), freed with destroy in every case */
int rv_bus_reply_stream_full(RvBus *self, sd_bus_message *call, sd_bus_message *reply, RvBusRowFunc row,
                             RvBusFinishFunc finish, gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error);
GPtrArray *rv_bus_streams_new(void);
/*
 * a GetManagedObjects reply is in the making: torrent signals wait in the
 * event stream, so that none reaches a client before the reply that holds
 * older values; released when it went out or was dropped
 */
void rv_bus_hold_signals(RvBus *self);
void rv_bus_release_signals(RvBus *self);
/* ListTorrentColumns (rv-bus-columns.c) */
int rv_bus_method_list_columns(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int rv_bus_method_list_columns_sparse(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
/* object callback for the manager's path: GetManagedObjects without holding the loop */
int rv_bus_managed_objects_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
/* one interface with every property the vtable shows in GetAll (and InterfacesAdded), as sd-bus would */
int rv_bus_append_interface(sd_bus_message *reply, const char *path, const char *iface, const sd_bus_vtable *vtable,
                            void *userdata, sd_bus_error *error);

G_END_DECLS
