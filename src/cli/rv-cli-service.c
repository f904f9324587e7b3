/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

/* the event loop's exit code for SIGINT/SIGTERM: the normal end of a monitor */
#define RV_CLI_MONITOR_STOPPED 0
/* sd-bus ends the loop with EXIT_FAILURE when the connection drops */
#define RV_CLI_MONITOR_DISCONNECTED 1

/* health */

static void
rv_cli_health_json_degraded(JsonBuilder *builder, GVariant *degraded)
{
        GVariantIter iter;
        const char *component;
        const char *reason;

        json_builder_begin_array(builder);
        g_variant_iter_init(&iter, degraded);
        while (g_variant_iter_next(&iter, "(&s&s)", &component, &reason)) {
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "component");
                json_builder_add_string_value(builder, component);
                json_builder_set_member_name(builder, "reason");
                json_builder_add_string_value(builder, reason);
                json_builder_end_object(builder);
        }
        json_builder_end_array(builder);
}

static char *
rv_cli_state_counts(GVariant *counts)
{
        g_autoptr(GString) out = g_string_new(NULL);
        GVariantIter iter;
        const char *state;
        guint32 n;

        if (counts == NULL)
                return g_strdup("");
        g_variant_iter_init(&iter, counts);
        while (g_variant_iter_next(&iter, "{&su}", &state, &n)) {
                if (n == 0)
                        continue;
                g_string_append_printf(out, "%s%s %u", out->len > 0 ? ", " : "", state, n);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
rv_cli_health(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) props = NULL;
        g_autoptr(GVariantDict) dict = NULL;
        g_autoptr(GVariant) health = NULL;
        g_autoptr(GVariant) degraded = NULL;
        g_autoptr(GVariant) service = NULL;
        g_autoptr(GVariant) version = NULL;
        g_autoptr(GVariant) counts = NULL;
        g_autofree char *count_text = NULL;
        g_autofree char *torrents = NULL;
        g_autofree char *down = NULL;
        g_autofree char *up = NULL;
        const char *labels[] = { N_("Health"),        N_("Service"),     N_("Version"), N_("Torrents"),
                                 N_("Download rate"), N_("Upload rate"), N_("Degraded") };
        guint width = 0;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        props = rv_cli_get_all(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, error);
        if (props == NULL)
                return FALSE;
        dict = g_variant_dict_new(props);
        health = g_variant_dict_lookup_value(dict, "Health", G_VARIANT_TYPE_STRING);
        degraded = g_variant_dict_lookup_value(dict, "Degraded", G_VARIANT_TYPE("a(ss)"));
        if (health == NULL || degraded == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("unexpected reply to %s"), "GetAll");
                return FALSE;
        }
        if (cli->json) {
                g_autoptr(JsonNode) root = rv_cli_properties_to_json(props);
                g_autoptr(JsonBuilder) builder = json_builder_new();
                rv_cli_health_json_degraded(builder, degraded);
                /* objects read better than [component, reason] pairs */
                json_object_set_member(json_node_get_object(root), "degraded", json_builder_get_root(builder));
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }

        service = g_variant_dict_lookup_value(dict, "ServiceState", G_VARIANT_TYPE_STRING);
        version = g_variant_dict_lookup_value(dict, "Version", G_VARIANT_TYPE_STRING);
        counts = g_variant_dict_lookup_value(dict, "StateCounts", G_VARIANT_TYPE("a{su}"));
        count_text = rv_cli_state_counts(counts);
        {
                g_autoptr(GVariant) count = g_variant_dict_lookup_value(dict, "TorrentCount", NULL);
                g_autoptr(GVariant) rate_down = g_variant_dict_lookup_value(dict, "DownloadRate", NULL);
                g_autoptr(GVariant) rate_up = g_variant_dict_lookup_value(dict, "UploadRate", NULL);
                torrents = count_text[0] != '\0' ? g_strdup_printf("%" G_GINT64_FORMAT " (%s)",
                                                                   rv_cli_variant_to_int64(count), count_text)
                                                 : g_strdup_printf("%" G_GINT64_FORMAT, rv_cli_variant_to_int64(count));
                down = rv_cli_format_rate((guint64)MAX(rv_cli_variant_to_int64(rate_down), 0));
                up = rv_cli_format_rate((guint64)MAX(rv_cli_variant_to_int64(rate_up), 0));
        }
        for (guint i = 0; i < G_N_ELEMENTS(labels); i++)
                width = MAX(width, rv_cli_display_width(_(labels[i])));
        rv_cli_print_field(_("Health"), width, g_variant_get_string(health, NULL));
        rv_cli_print_field(_("Service"), width, service != NULL ? g_variant_get_string(service, NULL) : "-");
        rv_cli_print_field(_("Version"), width, version != NULL ? g_variant_get_string(version, NULL) : "-");
        rv_cli_print_field(_("Torrents"), width, torrents);
        rv_cli_print_field(_("Download rate"), width, down);
        rv_cli_print_field(_("Upload rate"), width, up);
        {
                GVariantIter iter;
                const char *component;
                const char *reason;
                gboolean first = TRUE;
                g_variant_iter_init(&iter, degraded);
                while (g_variant_iter_next(&iter, "(&s&s)", &component, &reason)) {
                        g_autofree char *text = g_strdup_printf("%s: %s", component, reason);
                        rv_cli_print_field(first ? _("Degraded") : "", width, text);
                        first = FALSE;
                }
        }
        return TRUE;
}

/* monitor */

typedef struct {
        RvCli *cli;
        /* info hash -> name, info hash -> state */
        GHashTable *names;
        GHashTable *states;
} RvCliMonitor;

static void
rv_cli_monitor_clear(RvCliMonitor *mon)
{
        g_clear_pointer(&mon->names, g_hash_table_unref);
        g_clear_pointer(&mon->states, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RvCliMonitor, rv_cli_monitor_clear)

static const char *
rv_cli_monitor_event_label(const char *event)
{
        /* the wire words stay in JSON; people read them translated */
        if (g_str_equal(event, "added"))
                return C_("event", "added");
        if (g_str_equal(event, "removed"))
                return C_("event", "removed");
        if (g_str_equal(event, "completed"))
                return C_("event", "completed");
        if (g_str_equal(event, "state"))
                return C_("event", "state");
        if (g_str_equal(event, "health"))
                return C_("event", "health");
        if (g_str_equal(event, "service"))
                return C_("event", "service");
        return event;
}

/* one line per event; members is NULL-terminated name, value pairs of strings for JSON */
static void
rv_cli_monitor_emit(RvCliMonitor *mon, const char *event, const char *hash, const char *detail, ...)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        const char *name = hash != NULL ? g_hash_table_lookup(mon->names, hash) : NULL;
        va_list ap;

        if (mon->cli->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) root = NULL;
                g_autofree char *time = g_date_time_format_iso8601(now);
                const char *key;
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "time");
                json_builder_add_string_value(builder, time);
                json_builder_set_member_name(builder, "event");
                json_builder_add_string_value(builder, event);
                if (hash != NULL) {
                        json_builder_set_member_name(builder, "info_hash");
                        json_builder_add_string_value(builder, hash);
                        json_builder_set_member_name(builder, "name");
                        json_builder_add_string_value(builder, name != NULL ? name : "");
                }
                va_start(ap, detail);
                while ((key = va_arg(ap, const char *)) != NULL) {
                        const char *value = va_arg(ap, const char *);
                        json_builder_set_member_name(builder, key);
                        json_builder_add_string_value(builder, value);
                }
                va_end(ap);
                json_builder_end_object(builder);
                root = json_builder_get_root(builder);
                rv_cli_print_json(root, FALSE);
                return;
        }
        {
                g_autofree char *time = g_date_time_format(now, "%H:%M:%S");
                g_autoptr(GString) line = g_string_new(NULL);
                const char *label = rv_cli_monitor_event_label(event);
                guint pad = 10 - MIN(10, rv_cli_display_width(label));
                g_string_append_printf(line, "%s  %s%*s", time, label, (int)pad, "");
                if (hash != NULL) {
                        g_autofree char *short_hash = rv_cli_short_hash(hash);
                        g_string_append_printf(line, "%s  %s", short_hash,
                                               name != NULL && name[0] != '\0' ? name : "-");
                }
                if (detail != NULL && detail[0] != '\0')
                        g_string_append_printf(line, "%s%s", hash != NULL ? "  " : "", detail);
                g_print("%s\n", line->str);
                fflush(stdout);
        }
}

static void
rv_cli_monitor_set_name(RvCliMonitor *mon, const char *hash, const char *name)
{
        if (name != NULL && name[0] != '\0')
                g_hash_table_replace(mon->names, g_strdup(hash), g_strdup(name));
}

/* TorrentAdded and TorrentCompleted: (path, hash, name) */
static int
rv_cli_monitor_named_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliMonitor *mon = userdata;
        const char *path = NULL;
        const char *hash = NULL;
        const char *name = NULL;

        if (sd_bus_message_read(m, "oss", &path, &hash, &name) <= 0)
                return 0;
        rv_cli_monitor_set_name(mon, hash, name);
        rv_cli_monitor_emit(mon, sd_bus_message_is_signal(m, NULL, "TorrentAdded") ? "added" : "completed", hash, NULL,
                            NULL);
        return 0;
}

static int
rv_cli_monitor_removed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliMonitor *mon = userdata;
        const char *path = NULL;
        const char *hash = NULL;

        if (sd_bus_message_read(m, "os", &path, &hash) <= 0)
                return 0;
        rv_cli_monitor_emit(mon, "removed", hash, NULL, NULL);
        g_hash_table_remove(mon->names, hash);
        g_hash_table_remove(mon->states, hash);
        return 0;
}

static int
rv_cli_monitor_health_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliMonitor *mon = userdata;
        g_autoptr(GVariant) degraded = NULL;
        g_autoptr(GString) reasons = g_string_new(NULL);
        g_autofree char *detail = NULL;
        const char *status = NULL;

        if (sd_bus_message_read(m, "s", &status) <= 0)
                return 0;
        /* the signal says how, the property says why */
        degraded = rv_cli_get_property(mon->cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "Degraded", NULL);
        if (degraded != NULL && g_variant_is_of_type(degraded, G_VARIANT_TYPE("a(ss)"))) {
                GVariantIter iter;
                const char *component;
                const char *reason;
                g_variant_iter_init(&iter, degraded);
                while (g_variant_iter_next(&iter, "(&s&s)", &component, &reason))
                        g_string_append_printf(reasons, "%s%s: %s", reasons->len > 0 ? "; " : "", component, reason);
        }
        detail = reasons->len > 0 ? g_strdup_printf("%s (%s)", status, reasons->str) : g_strdup(status);
        rv_cli_monitor_emit(mon, "health", NULL, detail, "health", status, "reasons", reasons->str, NULL);
        return 0;
}

static int
rv_cli_monitor_changed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliMonitor *mon = userdata;
        const char *hash = rv_cli_path_to_hash(sd_bus_message_get_path(m));
        g_autoptr(GVariant) args = NULL;
        g_autoptr(GVariantDict) changed = NULL;
        g_autoptr(GVariant) name = NULL;
        g_autoptr(GVariant) state = NULL;
        const char *new_state;

        if (rv_cli_message_read_all(m, &args) < 0 || !g_variant_is_of_type(args, G_VARIANT_TYPE("(sa{sv}as)")))
                return 0;
        {
                g_autoptr(GVariant) dict = g_variant_get_child_value(args, 1);
                changed = g_variant_dict_new(dict);
        }
        name = g_variant_dict_lookup_value(changed, "Name", G_VARIANT_TYPE_STRING);
        if (name != NULL)
                rv_cli_monitor_set_name(mon, hash, g_variant_get_string(name, NULL));
        state = g_variant_dict_lookup_value(changed, "State", G_VARIANT_TYPE_STRING);
        if (state == NULL)
                return 0;
        new_state = g_variant_get_string(state, NULL);
        /* State comes along with other changes; only a new value is an event */
        if (g_strcmp0(g_hash_table_lookup(mon->states, hash), new_state) == 0)
                return 0;
        g_hash_table_replace(mon->states, g_strdup(hash), g_strdup(new_state));
        if (g_str_equal(new_state, "error")) {
                g_autoptr(GVariant) reason = g_variant_dict_lookup_value(changed, "Error", G_VARIANT_TYPE_STRING);
                g_autofree char *detail = NULL;
                if (reason == NULL)
                        reason = rv_cli_get_property(mon->cli, sd_bus_message_get_path(m), RV_BUS_TORRENT_IFACE,
                                                     "Error", NULL);
                detail = reason != NULL && g_variant_is_of_type(reason, G_VARIANT_TYPE_STRING)
                                 ? g_strdup_printf("error: %s", g_variant_get_string(reason, NULL))
                                 : g_strdup("error");
                rv_cli_monitor_emit(mon, "state", hash, detail, "state", new_state, "error",
                                    reason != NULL && g_variant_is_of_type(reason, G_VARIANT_TYPE_STRING)
                                            ? g_variant_get_string(reason, NULL)
                                            : "",
                                    NULL);
                return 0;
        }
        rv_cli_monitor_emit(mon, "state", hash, new_state, "state", new_state, NULL);
        return 0;
}

/* names and states now, so later events can name their torrent and skip repeats */
static gboolean
rv_cli_monitor_load(RvCliMonitor *mon, guint *ret_count, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) list = NULL;
        GVariantIter iter;
        const char *hash;
        const char *name;
        const char *state;

        reply = rv_cli_call(mon->cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListTorrents", error, NULL);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(a(sssbdttttxas))", "ListTorrents", error))
                return FALSE;
        list = g_variant_get_child_value(reply, 0);
        g_variant_iter_init(&iter, list);
        while (g_variant_iter_next(&iter, "(&s&s&sbdttttxas)", &hash, &name, &state, NULL, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL)) {
                rv_cli_monitor_set_name(mon, hash, name);
                g_hash_table_replace(mon->states, g_strdup(hash), g_strdup(state));
        }
        if (ret_count != NULL)
                *ret_count = (guint)g_variant_n_children(list);
        return TRUE;
}

static int
rv_cli_monitor_owner_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliMonitor *mon = userdata;
        const char *name = NULL;
        const char *old_owner = NULL;
        const char *new_owner = NULL;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) <= 0 || g_strcmp0(name, RV_BUS_NAME) != 0)
                return 0;
        if (new_owner[0] == '\0') {
                rv_cli_monitor_emit(mon, "service", NULL, _("stopped"), "state", "stopped", NULL);
                return 0;
        }
        /* a restarted service: what it has now is the new baseline */
        if (old_owner[0] == '\0') {
                rv_cli_monitor_emit(mon, "service", NULL, _("started"), "state", "started", NULL);
                g_hash_table_remove_all(mon->states);
                (void)rv_cli_monitor_load(mon, NULL, NULL);
        }
        return 0;
}

static void
rv_cli_slot_free(gpointer slot)
{
        sd_bus_slot_unref(slot);
}

/* a torrent's state event from the stream: the same line as PropertiesChanged gives over D-Bus */
static void
rv_cli_monitor_http_state(RvCliMonitor *mon, const char *hash, JsonObject *event, const char *id)
{
        const char *state = json_object_get_string_member_with_default(event, "state", NULL);
        const char *reason = json_object_get_string_member_with_default(event, "error", NULL);

        if (state == NULL || g_strcmp0(g_hash_table_lookup(mon->states, hash), state) == 0)
                return;
        g_hash_table_replace(mon->states, g_strdup(hash), g_strdup(state));
        if (g_str_equal(state, "error")) {
                g_autofree char *detail = g_strdup_printf("error: %s", reason != NULL ? reason : "");
                rv_cli_monitor_emit(mon, "state", hash, detail, "state", state, "error", reason != NULL ? reason : "",
                                    "event_id", id, NULL);
                return;
        }
        rv_cli_monitor_emit(mon, "state", hash, state, "state", state, "event_id", id, NULL);
}

static void
rv_cli_monitor_http_event_cb(const char *kind, JsonObject *envelope, gpointer user_data)
{
        RvCliMonitor *mon = user_data;
        JsonObject *event = json_object_get_object_member(envelope, "event");
        g_autofree char *id =
                g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member_with_default(envelope, "id", 0));
        const char *hash = event != NULL ? json_object_get_string_member_with_default(event, "info_hash", NULL) : NULL;

        if (g_str_equal(kind, "reset")) {
                /* events were lost: what the service has now is the new baseline */
                g_hash_table_remove_all(mon->states);
                (void)rv_cli_monitor_load(mon, NULL, NULL);
                rv_cli_monitor_emit(mon, "service", NULL, _("events were lost; states read again"), "state", "reset",
                                    NULL);
                return;
        }
        if (event == NULL)
                return;
        if (hash != NULL)
                rv_cli_monitor_set_name(mon, hash, json_object_get_string_member_with_default(event, "name", NULL));
        if (g_str_equal(kind, "torrent_added") || g_str_equal(kind, "completed")) {
                rv_cli_monitor_emit(mon, g_str_equal(kind, "torrent_added") ? "added" : "completed", hash, NULL,
                                    "event_id", id, NULL);
        } else if (g_str_equal(kind, "torrent_removed") && hash != NULL) {
                rv_cli_monitor_emit(mon, "removed", hash, NULL, "event_id", id, NULL);
                g_hash_table_remove(mon->names, hash);
                g_hash_table_remove(mon->states, hash);
        } else if (g_str_equal(kind, "state_changed") && hash != NULL) {
                rv_cli_monitor_http_state(mon, hash, event, id);
        } else if (g_str_equal(kind, "health_changed")) {
                const char *status = json_object_get_string_member_with_default(event, "status", "");
                const char *reason = json_object_get_string_member_with_default(event, "reason", "");
                const char *component = json_object_get_string_member_with_default(event, "component", "");
                g_autofree char *reasons =
                        reason[0] != '\0' ? g_strdup_printf("%s: %s", component, reason) : g_strdup("");
                g_autofree char *detail =
                        reasons[0] != '\0' ? g_strdup_printf("%s (%s)", status, reasons) : g_strdup(status);
                rv_cli_monitor_emit(mon, "health", NULL, detail, "health", status, "reasons", reasons, "event_id", id,
                                    NULL);
        }
}

/* monitor over HTTP: the event stream, resumed after a dropped connection without losing an event */
static gboolean
rv_cli_monitor_http(RvCliMonitor *mon, GError **error)
{
        guint count = 0;

        if (!rv_cli_monitor_load(mon, &count, error))
                return FALSE;
        g_printerr(g_dngettext(GETTEXT_PACKAGE, "Monitoring the Revaer service over HTTP (%u torrent).",
                               "Monitoring the Revaer service over HTTP (%u torrents).", count),
                   count);
        g_printerr(" %s\n", _("Press Ctrl+C to stop."));
        return rv_cli_http_follow(mon->cli, rv_cli_monitor_http_event_cb, mon, error);
}

static gboolean
rv_cli_monitor(RvCli *cli, char **args, GError **error)
{
        g_auto(RvCliMonitor) mon = { 0 };
        g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(rv_cli_slot_free);
        static const struct {
                const char *member;
                sd_bus_message_handler_t handler;
        } manager_signals[] = {
                { "TorrentAdded", rv_cli_monitor_named_cb },
                { "TorrentRemoved", rv_cli_monitor_removed_cb },
                { "TorrentCompleted", rv_cli_monitor_named_cb },
                { "HealthChanged", rv_cli_monitor_health_cb },
        };
        sd_event *event;
        sd_bus_slot *slot = NULL;
        guint count = 0;
        int r = 0;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        mon.cli = cli;
        mon.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        mon.states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        if (cli->http != NULL)
                return rv_cli_monitor_http(&mon, error);
        event = rv_cli_get_event(cli, error);
        if (event == NULL || !rv_cli_add_exit_signals(cli, RV_CLI_MONITOR_STOPPED, error))
                return FALSE;
        (void)sd_bus_set_exit_on_disconnect(cli->bus, TRUE);

        for (guint i = 0; r >= 0 && i < G_N_ELEMENTS(manager_signals); i++) {
                r = sd_bus_match_signal(cli->bus, &slot, RV_BUS_NAME, RV_BUS_PATH, RV_BUS_MANAGER_IFACE,
                                        manager_signals[i].member, manager_signals[i].handler, &mon);
                if (r >= 0)
                        g_ptr_array_add(slots, g_steal_pointer(&slot));
        }
        if (r >= 0) {
                /* every torrent's state changes: one rule for the whole subtree */
                r = sd_bus_add_match(cli->bus, &slot,
                                     "type='signal',sender='" RV_BUS_NAME "',"
                                     "interface='" RV_BUS_PROPERTIES_IFACE "',member='PropertiesChanged',"
                                     "path_namespace='" RV_BUS_PATH "/torrent',"
                                     "arg0='" RV_BUS_TORRENT_IFACE "'",
                                     rv_cli_monitor_changed_cb, &mon);
                if (r >= 0)
                        g_ptr_array_add(slots, g_steal_pointer(&slot));
        }
        if (r >= 0) {
                r = rv_cli_match_service_owner(cli, &slot, rv_cli_monitor_owner_cb, &mon);
                if (r >= 0)
                        g_ptr_array_add(slots, g_steal_pointer(&slot));
        }
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return FALSE;
        }
        if (!rv_cli_monitor_load(&mon, &count, error))
                return FALSE;
        /* on stderr like busctl monitor; scripts and tests know the subscriptions are in place from here */
        g_printerr(g_dngettext(GETTEXT_PACKAGE, "Monitoring the Revaer service on the %s bus (%u torrent).",
                               "Monitoring the Revaer service on the %s bus (%u torrents).", count),
                   rv_cli_bus_label(cli), count);
        g_printerr(" %s\n", _("Press Ctrl+C to stop."));

        r = sd_event_loop(event);
        if (r == RV_CLI_MONITOR_STOPPED)
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("lost the connection to the %s bus"),
                    rv_cli_bus_label(cli));
        return FALSE;
}

const RvCliCommand rv_cli_service_commands[] = {
        { "health", "", N_("Show the service's health and totals"), NULL, rv_cli_health },
        { "monitor", "", N_("Print events as they happen until interrupted"), NULL, rv_cli_monitor },
        { NULL, NULL, NULL, NULL, NULL },
};
