/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-bus-private.h"
#include "rv-json.h"

/*
 * the settings as objects: /com/revaer/Revaer1/policy/<section> carries
 * com.revaer.Revaer1.Policy (Section, Revision, Update, History) and a typed
 * interface per section (com.revaer.Revaer1.Policy.Engine, ...) with one
 * property per setting, built at start from the settings table; writes are
 * authorized by the "configure" action and go through RvLiveSettings, so they are
 * validated, stored with a revision and applied like any other change
 */

const char *const rv_bus_policy_sections[] = { "app", "engine", "fs", NULL };
static const char *const rv_policy_ifaces[] = { RV_BUS_POLICY_IFACE ".App", RV_BUS_POLICY_IFACE ".Engine",
                                                RV_BUS_POLICY_IFACE ".Fs", NULL };
static sd_bus_vtable *rv_policy_vtables[3];

static gint
rv_policy_section_index(const char *section)
{
        for (guint i = 0; rv_bus_policy_sections[i] != NULL; i++) {
                if (g_strcmp0(rv_bus_policy_sections[i], section) == 0)
                        return (gint)i;
        }
        return -1;
}

static const char *
rv_policy_section_of_iface(const char *iface)
{
        for (guint i = 0; rv_policy_ifaces[i] != NULL; i++) {
                if (g_strcmp0(rv_policy_ifaces[i], iface) == 0)
                        return rv_bus_policy_sections[i];
        }
        return NULL;
}

const char *
rv_bus_policy_iface(const char *section)
{
        gint i = rv_policy_section_index(section);

        return i >= 0 ? rv_policy_ifaces[i] : NULL;
}

static const char *
rv_policy_signature(const RvSettingDesc *desc)
{
        switch (desc->type) {
        case RV_SETTING_BOOL:
                return "b";
        case RV_SETTING_INT:
        case RV_SETTING_INT_OR_NULL:
                return "x";
        case RV_SETTING_DOUBLE:
                return "d";
        case RV_SETTING_GLOBS:
        case RV_SETTING_PATHS:
        case RV_SETTING_STRINGS:
                return "as";
        default:
                return "s";
        }
}

static gboolean
rv_policy_nullable(const RvSettingDesc *desc)
{
        return desc->type == RV_SETTING_INT_OR_NULL || g_str_equal(desc->default_json, "null");
}

static int
rv_policy_get(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
              void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const RvSettingDesc *desc = rv_settings_find_property(rv_policy_section_of_iface(interface), property);
        JsonNode *v;
        const char *sig;

        if (desc == NULL || self->settings == NULL)
                return -ENOENT;
        v = rv_settings_get(rv_live_settings_get_document(self->settings), desc);
        sig = rv_policy_signature(desc);
        if (g_str_equal(sig, "b"))
                return sd_bus_message_append(reply, "b", v != NULL && json_node_get_boolean(v));
        if (g_str_equal(sig, "x"))
                return sd_bus_message_append(
                        reply, "x", (int64_t)(v != NULL && !JSON_NODE_HOLDS_NULL(v) ? json_node_get_int(v) : -1));
        if (g_str_equal(sig, "d"))
                return sd_bus_message_append(reply, "d", v != NULL ? json_node_get_double(v) : 0.0);
        if (g_str_equal(sig, "as")) {
                int r = sd_bus_message_open_container(reply, 'a', "s");
                JsonArray *array = v != NULL && JSON_NODE_HOLDS_ARRAY(v) ? json_node_get_array(v) : NULL;
                for (guint i = 0; r >= 0 && array != NULL && i < json_array_get_length(array); i++)
                        r = sd_bus_message_append(reply, "s", json_array_get_string_element(array, i));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                return r;
        }
        /* the label policies are JSON text */
        if (v != NULL && JSON_NODE_HOLDS_OBJECT(v)) {
                g_autofree char *text = json_to_string(v, FALSE);
                return sd_bus_message_append(reply, "s", text);
        }
        /* a null string-like setting reads as "" */
        return sd_bus_message_append(reply, "s", v != NULL && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_string(v) : "");
}

/* the vtable setter is reached only by callers that bypass the filter: refuse */
static int
rv_policy_set_refused(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *value,
                      void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "settings writes go through authorization");
}

const sd_bus_vtable *
rv_bus_policy_vtable(const char *section)
{
        gint idx = rv_policy_section_index(section);
        guint n = 0;
        guint i = 0;

        if (idx < 0)
                return NULL;
        if (rv_policy_vtables[idx] != NULL)
                return rv_policy_vtables[idx];
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++)
                n += g_str_equal(d->section, section);
        /* zeroed: unused parts of the union must be 0 (sd-bus-vtable.h) */
        rv_policy_vtables[idx] = g_new0(sd_bus_vtable, n + 2);
        rv_policy_vtables[idx][i++] = (sd_bus_vtable)SD_BUS_VTABLE_START(0);
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                if (!g_str_equal(d->section, section))
                        continue;
                if (d->read_only)
                        rv_policy_vtables[idx][i++] =
                                (sd_bus_vtable)SD_BUS_PROPERTY(d->property, rv_policy_signature(d), rv_policy_get, 0,
                                                               SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE);
                else
                        rv_policy_vtables[idx][i++] = (sd_bus_vtable)SD_BUS_WRITABLE_PROPERTY(
                                d->property, rv_policy_signature(d), rv_policy_get, rv_policy_set_refused, 0,
                                SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED);
        }
        rv_policy_vtables[idx][i++] = (sd_bus_vtable)SD_BUS_VTABLE_END;
        return rv_policy_vtables[idx];
}

/* a D-Bus value of a setting as JSON, checked against the field's type */
static JsonNode *
rv_policy_read_value(sd_bus_message *m, const RvSettingDesc *desc, GError **error)
{
        const char *want = rv_policy_signature(desc);
        const char *contents = NULL;
        char type = 0;
        JsonNode *node = NULL;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0 || type != 'v') {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected a variant", desc->pointer);
                return NULL;
        }
        /* integers of any width, and an integer for a number */
        if ((g_str_equal(want, "x") || g_str_equal(want, "d")) &&
            (g_strcmp0(contents, "x") == 0 || g_strcmp0(contents, "t") == 0 || g_strcmp0(contents, "i") == 0 ||
             g_strcmp0(contents, "u") == 0))
                want = contents;
        if (g_strcmp0(contents, want) != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected a value of type '%s', got '%s'",
                            desc->pointer, rv_policy_signature(desc), contents);
                return NULL;
        }
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: malformed value", desc->pointer);
                return NULL;
        }
        node = json_node_new(JSON_NODE_VALUE);
        if (want[0] == 'b') {
                int b = 0;
                r = sd_bus_message_read(m, "b", &b);
                json_node_set_boolean(node, b != 0);
        } else if (want[0] == 'x' || want[0] == 'i') {
                int64_t x = 0;
                int32_t i32 = 0;
                r = want[0] == 'x' ? sd_bus_message_read(m, "x", &x) : sd_bus_message_read(m, "i", &i32);
                if (want[0] == 'i')
                        x = i32;
                if (desc->type == RV_SETTING_INT_OR_NULL && x < 0)
                        json_node_init_null(node);
                else if (desc->type == RV_SETTING_DOUBLE)
                        json_node_set_double(node, (double)x);
                else
                        json_node_set_int(node, x);
        } else if (want[0] == 't' || want[0] == 'u') {
                uint64_t t = 0;
                uint32_t u32 = 0;
                r = want[0] == 't' ? sd_bus_message_read(m, "t", &t) : sd_bus_message_read(m, "u", &u32);
                if (want[0] == 'u')
                        t = u32;
                if (desc->type == RV_SETTING_DOUBLE)
                        json_node_set_double(node, (double)t);
                else
                        json_node_set_int(node, t > G_MAXINT64 ? G_MAXINT64 : (gint64)t);
        } else if (want[0] == 'd') {
                double d = 0;
                r = sd_bus_message_read(m, "d", &d);
                json_node_set_double(node, d);
        } else if (g_str_equal(want, "as")) {
                g_auto(GStrv) strv = NULL;
                JsonArray *array = json_array_new();
                r = sd_bus_message_read_strv(m, &strv);
                for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
                        json_array_add_string_element(array, strv[i]);
                json_node_unref(node);
                node = json_node_new(JSON_NODE_ARRAY);
                json_node_take_array(node, array);
        } else {
                const char *s = NULL;
                r = sd_bus_message_read(m, "s", &s);
                /* "" clears a setting that may be null */
                if (s != NULL && s[0] == '\0' && rv_policy_nullable(desc)) {
                        json_node_init_null(node);
                } else if (desc->type == RV_SETTING_FS_LABELS || desc->type == RV_SETTING_CATEGORIES) {
                        /* JSON text; a value that does not parse is refused by the validation */
                        JsonNode *parsed = rv_json_parse(s != NULL ? s : "", -1, FALSE, NULL);
                        json_node_unref(node);
                        node = parsed != NULL ? parsed : json_node_init_string(json_node_alloc(), s != NULL ? s : "");
                } else {
                        json_node_set_string(node, s != NULL ? s : "");
                }
        }
        if (r < 0 || sd_bus_message_exit_container(m) < 0) {
                json_node_unref(node);
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: malformed value", desc->pointer);
                return NULL;
        }
        return node;
}

typedef struct {
        JsonNode *patch;
        char *actor;
        char *reason;
        sd_bus_message *message;
        gboolean reply_revision;
} RvPolicyWrite;

static void
rv_policy_write_free(RvPolicyWrite *w)
{
        if (w->patch != NULL)
                json_node_unref(w->patch);
        if (w->message != NULL)
                sd_bus_message_unref(w->message);
        g_free(w->actor);
        g_free(w->reason);
        g_free(w);
}

static char *
rv_policy_actor(RvBus *self, sd_bus_message *m)
{
        uid_t uid = (uid_t)-1;

        if (rv_bus_sender_uid(self, m, &uid))
                return g_strdup_printf("dbus:uid=%u", (guint)uid);
        return g_strdup_printf("dbus:%s", sd_bus_message_get_sender(m));
}

static void
rv_policy_updated_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvPolicyWrite *w = user_data;
        g_autoptr(GError) error = NULL;
        guint64 revision = rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &error);

        if (error != NULL)
                (void)rv_bus_reply_error(w->message, error);
        else if (w->reply_revision)
                (void)sd_bus_reply_method_return(w->message, "t", (uint64_t)revision);
        else
                (void)sd_bus_reply_method_return(w->message, NULL);
        rv_policy_write_free(w);
}

static int
rv_policy_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvPolicyWrite *w = data;
        RvPolicyWrite *owned = g_new0(RvPolicyWrite, 1);

        /* the authorization helper frees data after this returns: take what the update needs */
        owned->patch = g_steal_pointer(&w->patch);
        owned->actor = g_steal_pointer(&w->actor);
        owned->reason = g_steal_pointer(&w->reason);
        owned->reply_revision = w->reply_revision;
        owned->message = sd_bus_message_ref(m);
        rv_live_settings_update_async(self->settings, owned->patch, owned->actor, owned->reason, NULL,
                                      rv_policy_updated_cb, owned);
        return 1;
}

static const char *
rv_policy_section_of_path(const char *path)
{
        if (!g_str_has_prefix(path, RV_BUS_POLICY_PREFIX "/"))
                return NULL;
        return rv_policy_section_index(path + strlen(RV_BUS_POLICY_PREFIX "/")) >= 0
                       ? path + strlen(RV_BUS_POLICY_PREFIX "/")
                       : NULL;
}

/* Properties.Set on a setting: validate, authorize ("configure"), then update through RvLiveSettings */
static int
rv_policy_filter_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const char *section = rv_policy_section_of_path(sd_bus_message_get_path(m));
        const char *iface = NULL;
        const char *property = NULL;
        const RvSettingDesc *desc;
        g_autoptr(GError) error = NULL;
        RvPolicyWrite *w;
        JsonObject *patch;
        JsonNode *value;
        int r;

        if (section == NULL || self->settings == NULL ||
            !sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Set"))
                return 0;
        r = sd_bus_message_read(m, "ss", &iface, &property);
        if (r < 0 || g_strcmp0(rv_policy_section_of_iface(iface), section) != 0) {
                (void)sd_bus_message_rewind(m, TRUE);
                return 0;
        }
        desc = rv_settings_find_property(section, property);
        if (desc == NULL || desc->read_only) {
                (void)sd_bus_message_rewind(m, TRUE);
                return 0;
        }
        value = rv_policy_read_value(m, desc, &error);
        if (value == NULL)
                return rv_bus_set_error(ret_error, error);
        patch = json_object_new();
        json_object_set_member(patch, desc->pointer, value);
        w = g_new0(RvPolicyWrite, 1);
        w->patch = rv_json_node_take_object(patch);
        w->actor = rv_policy_actor(self, m);
        w->reason = g_strdup_printf("set %s", desc->pointer);
        {
                const char *details[] = { "setting", desc->pointer, NULL };
                return rv_bus_authorize(self, m, RV_ACTION_CONFIGURE, details, rv_policy_authorized, w,
                                        (GDestroyNotify)rv_policy_write_free, ret_error);
        }
}

/* Update(a{sv}): several fields of one section in one revision */
static int
rv_policy_method_update(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const char *section = rv_policy_section_of_path(sd_bus_message_get_path(m));
        g_autoptr(GError) error = NULL;
        JsonObject *patch = json_object_new();
        g_autoptr(JsonNode) patch_node = rv_json_node_take_object(patch);
        RvPolicyWrite *w;
        int r;

        if (section == NULL || self->settings == NULL)
                return sd_bus_error_set(ret_error, rv_error_to_dbus_name(RV_ERROR_NOT_FOUND), "no such policy object");
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key = NULL;
                const RvSettingDesc *desc;
                JsonNode *value;
                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                /* field names or property names of this section */
                desc = rv_settings_find(section, key);
                if (desc == NULL)
                        desc = rv_settings_find_property(section, key);
                if (desc == NULL)
                        return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_INVALID_ARGUMENT),
                                                 "/%s/%s: unknown setting", section, key);
                value = rv_policy_read_value(m, desc, &error);
                if (value == NULL)
                        return rv_bus_set_error(ret_error, error);
                json_object_set_member(patch, desc->pointer, value);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        /* validate before asking anybody: a bad value is InvalidArgument whoever sends it */
        {
                g_autoptr(JsonNode) checked = rv_settings_apply_patch(rv_live_settings_get_document(self->settings),
                                                                      patch_node, NULL, &error);
                if (checked == NULL)
                        return rv_bus_set_error(ret_error, error);
        }
        w = g_new0(RvPolicyWrite, 1);
        w->patch = g_steal_pointer(&patch_node);
        w->actor = rv_policy_actor(self, m);
        w->reason = g_strdup_printf("update of %s", section);
        w->reply_revision = TRUE;
        return rv_bus_authorize_message(self, m, NULL, rv_policy_authorized, w, (GDestroyNotify)rv_policy_write_free,
                                        ret_error);
}

static void
rv_policy_history_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = rv_live_settings_history_finish(NULL, result, &error);
        int r;

        if (entries == NULL) {
                (void)rv_bus_reply_error(m, error);
                return;
        }
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(txsss)");
        for (guint i = 0; r >= 0 && i < entries->len; i++) {
                RvStoreHistoryEntry *e = g_ptr_array_index(entries, i);
                g_autofree char *changes = e->changes != NULL ? json_to_string(e->changes, FALSE) : g_strdup("{}");
                r = sd_bus_message_append(reply, "(txsss)", (uint64_t)e->revision, (int64_t)e->timestamp,
                                          e->actor != NULL ? e->actor : "", e->reason != NULL ? e->reason : "",
                                          changes);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_debug("History reply failed: %s", g_strerror(-r));
}

static int
rv_policy_history_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        rv_live_settings_history_async(self->settings, GPOINTER_TO_UINT(data), NULL, rv_policy_history_cb,
                                       sd_bus_message_ref(m));
        return 1;
}

static int
rv_policy_method_history(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        uint32_t limit = 0;
        int r = sd_bus_message_read(m, "u", &limit);

        if (r < 0)
                return r;
        if (limit == 0 || limit > 1000)
                return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_INVALID_ARGUMENT),
                                         "limit: %u is out of range (1 to 1000)", limit);
        return rv_bus_authorize_message(userdata, m, NULL, rv_policy_history_authorized, GUINT_TO_POINTER(limit), NULL,
                                        ret_error);
}

static int
rv_policy_prop_section(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        const char *section = rv_policy_section_of_path(path);

        return sd_bus_message_append(reply, "s", section != NULL ? section : "");
}

static int
rv_policy_prop_revision(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;

        return sd_bus_message_append(
                reply, "t", (uint64_t)(self->settings != NULL ? rv_live_settings_get_revision(self->settings) : 0));
}

const sd_bus_vtable rv_bus_policy_common_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Section", "s", rv_policy_prop_section, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Revision", "t", rv_policy_prop_revision, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Update", SD_BUS_ARGS("a{sv}", values), SD_BUS_RESULT("t", revision),
                                rv_policy_method_update, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("History", SD_BUS_ARGS("u", limit), SD_BUS_RESULT("a(txsss)", entries),
                                rv_policy_method_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* tell clients what changed: typed properties, Revision, and the manager's SettingsChanged */
static void
rv_policy_changed_cb(RvLiveSettings *config, guint64 revision, JsonNode *changes, const char *actor, gpointer user_data)
{
        RvBus *self = user_data;
        g_autoptr(GPtrArray) pointers = g_ptr_array_new();

        for (guint s = 0; rv_bus_policy_sections[s] != NULL; s++) {
                g_autoptr(GPtrArray) names = g_ptr_array_new();
                g_autofree char *path = g_strdup_printf(RV_BUS_POLICY_PREFIX "/%s", rv_bus_policy_sections[s]);
                for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                        if (!g_str_equal(d->section, rv_bus_policy_sections[s]) || changes == NULL ||
                            !json_object_has_member(json_node_get_object(changes), d->pointer))
                                continue;
                        g_ptr_array_add(names, (gpointer)d->property);
                        g_ptr_array_add(pointers, (gpointer)d->pointer);
                }
                (void)sd_bus_emit_properties_changed(self->bus, path, RV_BUS_POLICY_IFACE, "Revision", NULL);
                if (names->len == 0)
                        continue;
                g_ptr_array_add(names, NULL);
                (void)sd_bus_emit_properties_changed_strv(self->bus, path, rv_policy_ifaces[s], (char **)names->pdata);
        }
        g_ptr_array_add(pointers, NULL);
        {
                g_autoptr(sd_bus_message) sig = NULL;
                int r = sd_bus_message_new_signal(self->bus, &sig, RV_BUS_PATH, RV_BUS_MANAGER_IFACE,
                                                  "SettingsChanged");
                if (r >= 0)
                        r = sd_bus_message_append(sig, "t", (uint64_t)revision);
                if (r >= 0)
                        r = sd_bus_message_append_strv(sig, (char **)pointers->pdata);
                if (r >= 0)
                        r = sd_bus_send(self->bus, sig, NULL);
                if (r < 0)
                        g_debug("SettingsChanged failed: %s", g_strerror(-r));
        }
}

void
rv_bus_set_settings(RvBus *self, RvLiveSettings *settings)
{
        int r = 0;

        g_return_if_fail(self->settings == NULL);
        self->settings = g_object_ref(settings);
        for (guint s = 0; r >= 0 && rv_bus_policy_sections[s] != NULL; s++) {
                g_autofree char *path = g_strdup_printf(RV_BUS_POLICY_PREFIX "/%s", rv_bus_policy_sections[s]);
                /* object callbacks run before sd-bus answers Properties.Set from the vtables */
                r = sd_bus_add_object(self->bus, NULL, path, rv_policy_filter_cb, self);
                if (r >= 0)
                        r = sd_bus_add_object_vtable(self->bus, NULL, path, RV_BUS_POLICY_IFACE,
                                                     rv_bus_policy_common_vtable, self);
                if (r >= 0)
                        r = sd_bus_add_object_vtable(self->bus, NULL, path, rv_policy_ifaces[s],
                                                     rv_bus_policy_vtable(rv_bus_policy_sections[s]), self);
        }
        if (r < 0)
                g_warning("cannot export the policy objects: %s", g_strerror(-r));
        self->settings_changed = g_signal_connect(settings, "changed", G_CALLBACK(rv_policy_changed_cb), self);
}
