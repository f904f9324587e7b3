/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>

#include "rv-bus-private.h"
#include "rv-command.h"

/*
 * the cluster on the bus (docs/cluster.md): every torrent of every node with
 * its node, and a command on any of them by info hash, run here or carried
 * to the node that owns it. Without [cluster] both serve this node alone.
 */

static int
rv_bus_list_cluster_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        g_autoptr(sd_bus_message) reply = NULL;
        GPtrArray *local = rv_manager_list(self->manager);
        GPtrArray *remote = rv_manager_list_remote(self->manager);
        const char *me = rv_manager_get_node_id(self->manager);
        int r = sd_bus_message_new_method_return(m, &reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssbdttttxas)");
        for (guint i = 0; r >= 0 && i < local->len; i++) {
                const RvTorrent *t = g_ptr_array_index(local, i);
                if (!t->removing)
                        r = rv_bus_append_list_row(reply, me, t);
        }
        for (guint i = 0; r >= 0 && i < remote->len; i++) {
                const RvTorrent *t = g_ptr_array_index(remote, i);
                r = rv_bus_append_list_row(reply, t->node, t);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        return r < 0 ? r : 1;
}

int
rv_bus_method_list_cluster_torrents(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_list_cluster_authorized, NULL, NULL, ret_error);
}

/* one argument of a command, from its variant into the command's JSON form */
static int
rv_bus_read_argument(sd_bus_message *m, const char *key, const char *contents, JsonObject *obj, GError **error)
{
        int r;

        if (g_str_equal(contents, "b")) {
                int b = 0;
                r = sd_bus_message_read_basic(m, 'b', &b);
                json_object_set_boolean_member(obj, key, b != 0);
        } else if (g_str_equal(contents, "x")) {
                int64_t x = 0;
                r = sd_bus_message_read_basic(m, 'x', &x);
                json_object_set_int_member(obj, key, x);
        } else if (g_str_equal(contents, "t")) {
                uint64_t t = 0;
                r = sd_bus_message_read_basic(m, 't', &t);
                json_object_set_int_member(obj, key, (gint64)MIN(t, (uint64_t)G_MAXINT64));
        } else if (g_str_equal(contents, "u")) {
                uint32_t u = 0;
                r = sd_bus_message_read_basic(m, 'u', &u);
                json_object_set_int_member(obj, key, u);
        } else if (g_str_equal(contents, "i")) {
                int32_t i = 0;
                r = sd_bus_message_read_basic(m, 'i', &i);
                json_object_set_int_member(obj, key, i);
        } else if (g_str_equal(contents, "d")) {
                double d = 0;
                r = sd_bus_message_read_basic(m, 'd', &d);
                json_object_set_double_member(obj, key, d);
        } else if (g_str_equal(contents, "s")) {
                const char *s = NULL;
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r >= 0)
                        json_object_set_string_member(obj, key, s);
        } else if (g_str_equal(contents, "as")) {
                g_auto(GStrv) strv = NULL;
                r = sd_bus_message_read_strv(m, &strv);
                if (r >= 0) {
                        JsonArray *array = json_array_new();
                        for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
                                json_array_add_string_element(array, strv[i]);
                        json_object_set_array_member(obj, key, array);
                }
        } else {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "arguments: %.64s: %s is not a type it takes",
                            key, contents);
                return -EINVAL;
        }
        if (r < 0)
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "arguments: %.64s: malformed", key);
        return r;
}

/* (s info_hash, s operation, a{sv} arguments) as a command, validated */
static RvCommand *
rv_bus_read_command(sd_bus_message *m, GError **error)
{
        g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
        JsonObject *obj = json_object_new();
        const char *hash = NULL;
        const char *operation = NULL;
        int r;

        json_node_take_object(node, obj);
        r = sd_bus_message_read(m, "ss", &hash, &operation);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "expected (s, s, a{sv})");
                return NULL;
        }
        for (;;) {
                const char *key = NULL;
                const char *contents = NULL;
                char type = 0;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r == 0)
                        break;
                if (r >= 0)
                        r = sd_bus_message_read_basic(m, 's', &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, &type, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "arguments: malformed entry");
                        return NULL;
                }
                /* the two that name the command come from the method's own arguments */
                if (g_str_equal(key, "op") || g_str_equal(key, "info_hash")) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "arguments: %s is the method's own argument", key);
                        return NULL;
                }
                if (rv_bus_read_argument(m, key, contents, obj, error) < 0)
                        return NULL;
                if (sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "arguments: malformed entry");
                        return NULL;
                }
        }
        if (sd_bus_message_exit_container(m) < 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "arguments: malformed");
                return NULL;
        }
        json_object_set_string_member(obj, "op", operation);
        json_object_set_string_member(obj, "info_hash", hash);
        return rv_command_from_json(node, error);
}

static void
rv_bus_forwarded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(GError) error = NULL;
        /* the owner's view of the torrent: not part of this answer */
        JsonNode *torrent = rv_command_forward_finish(RV_MANAGER(source), result, &error);

        if (torrent != NULL)
                json_node_unref(torrent);

        if (error != NULL)
                (void)rv_bus_reply_error(m, error);
        else
                (void)sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_run_command_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        const RvCommand *command = data;
        g_autoptr(GError) error = NULL;
        /* looked up again: polkit may have taken a while */
        const RvTorrent *t = rv_manager_lookup_listed(self->manager, &command->hash);

        if (t != NULL && t->node != NULL) {
                rv_command_forward_async(self->manager, command, rv_bus_forwarded_cb, sd_bus_message_ref(m));
                return 1;
        }
        if (!rv_command_run(self->manager, command, &error))
                return rv_bus_set_error(ret_error, error);
        rv_event_bus_flush_torrent(rv_manager_get_events(self->manager), &command->hash);
        return sd_bus_reply_method_return(m, NULL);
}

int
rv_bus_method_run_torrent_command(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        g_autoptr(GError) error = NULL;
        RvCommand *command = rv_bus_read_command(m, &error);
        const RvTorrent *t;

        if (command == NULL)
                return rv_bus_set_error(ret_error, error);
        t = rv_manager_lookup_listed(self->manager, &command->hash);
        if (t == NULL || t->removing) {
                g_set_error(&error, RV_ERROR, RV_ERROR_NOT_FOUND, "no torrent %s in the cluster", command->hash.hex);
                rv_command_free(command);
                return rv_bus_set_error(ret_error, error);
        }
        if (!rv_command_validate(command, t, &error)) {
                rv_command_free(command);
                return rv_bus_set_error(ret_error, error);
        }
        return rv_bus_authorize_message(self, m, NULL, rv_bus_run_command_authorized, command,
                                        (GDestroyNotify)rv_command_free, ret_error);
}
