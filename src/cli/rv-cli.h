/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "rv-error.h"
#include "rv-names.h"

G_BEGIN_DECLS

/*
 * revaerctl: a D-Bus client of revaerd. Errors are RvError codes: a daemon
 * error keeps its code, bus failures become RV_ERROR_UNAVAILABLE and bad
 * usage RV_ERROR_INVALID_ARGUMENT, which is the only code that exits 2.
 */

#define RV_CLI_EXIT_SUCCESS 0
#define RV_CLI_EXIT_USAGE 2
#define RV_CLI_EXIT_FAILURE 3

/* the short form of an info hash in tables and events */
#define RV_CLI_SHORT_HASH 8

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event, sd_event_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event_source, sd_event_source_unref)

typedef struct _RvCliHttp RvCliHttp;

typedef struct {
        /* options every command takes */
        gboolean user;
        gboolean json;
        /* --url: the commands go over HTTP (rv-cli-http.c) instead of D-Bus */
        RvCliHttp *http;
        /* connected on first use, so usage errors never need a bus */
        sd_bus *bus;
        sd_event *event;
} RvCli;

void rv_cli_clear(RvCli *cli);

/* a command: main() parses its options (entries) and passes the positional arguments */
typedef struct {
        const char *name;
        /* N_() strings, translated when printed */
        const char *parameter_string;
        const char *summary;
        const GOptionEntry *entries;
        gboolean (*run)(RvCli *cli, char **args, GError **error);
} RvCliCommand;

/* the command tables of each file, NULL-name terminated */
extern const RvCliCommand rv_cli_torrent_commands[];
extern const RvCliCommand rv_cli_add_commands[];
extern const RvCliCommand rv_cli_service_commands[];

/* a command with subcommands: "revaerctl config set ..." */
typedef struct {
        const char *name;
        /* N_() */
        const char *summary;
        /* run when no subcommand is named (it gets the group's options parsed); NULL: one must be named */
        const char *default_command;
        /* NULL-name terminated */
        const RvCliCommand *commands;
} RvCliGroup;

extern const RvCliGroup rv_cli_config_group;
extern const RvCliGroup rv_cli_setup_group;
extern const RvCliGroup rv_cli_keys_group;
extern const RvCliGroup rv_cli_fsops_group;

/* rv-cli-bus.c */
gboolean rv_cli_connect(RvCli *cli, GError **error);
sd_event *rv_cli_get_event(RvCli *cli, GError **error);
const char *rv_cli_bus_label(const RvCli *cli);
/* an RvError from a failed call or a negative errno; ret_error may be NULL */
void rv_cli_set_bus_error(const RvCli *cli, const sd_bus_error *bus_error, int r, GError **error);
sd_bus_message *rv_cli_new_call(RvCli *cli, const char *path, const char *iface, const char *method, GError **error);
/* TRUE when reply has the D-Bus type signature type, else an error naming what method answered */
gboolean rv_cli_reply_is(GVariant *reply, const char *type, const char *method, GError **error);
/* sends and returns the reply's arguments as a tuple */
GVariant *rv_cli_send(RvCli *cli, sd_bus_message *call, GError **error);
/* the same, and when the service does not answer in time, an Unavailable error that ends with no_answer
 * (what is known then) instead of the bus's error; no_answer NULL: as rv_cli_send */
GVariant *rv_cli_send_full(RvCli *cli, sd_bus_message *call, const char *no_answer, GError **error);
/* a call with only basic arguments (types as for sd_bus_message_append) */
GVariant *rv_cli_call(RvCli *cli, const char *path, const char *iface, const char *method, GError **error,
                      const char *types, ...);
/* a call whose arguments are the children of the tuple args (NULL: none) */
GVariant *rv_cli_call_variant(RvCli *cli, const char *path, const char *iface, const char *method, GVariant *args,
                              GError **error);
/* appends any GVariant as the D-Bus value of its type */
int rv_cli_message_append_variant(sd_bus_message *m, GVariant *value);
/* the introspection data of an object */
GDBusNodeInfo *rv_cli_introspect(RvCli *cli, const char *path, GError **error);
/* every property of an interface as an a{sv} */
GVariant *rv_cli_get_all(RvCli *cli, const char *path, const char *iface, GError **error);
/* the same, with those of names that GetAll leaves out (explicit properties) read one by one */
GVariant *rv_cli_get_all_with(RvCli *cli, const char *path, const char *iface, const char *const *names,
                              GError **error);
/* the values of names read with Get into dict; one the service does not have is left out */
void rv_cli_get_into(RvCli *cli, const char *path, const char *iface, const char *const *names, GVariantDict *dict);
GVariant *rv_cli_get_property(RvCli *cli, const char *path, const char *iface, const char *name, GError **error);
gboolean rv_cli_set_property(RvCli *cli, const char *path, const char *iface, const char *name, GError **error,
                             const char *type, ...);
/* the object path of a torrent reference (hash, unique prefix, name) */
char *rv_cli_resolve(RvCli *cli, const char *ref, GError **error);
/* the info hash at the end of a torrent path */
const char *rv_cli_path_to_hash(const char *path);
/* the rest of the message (from the current position) as a tuple */
int rv_cli_message_read_all(sd_bus_message *m, GVariant **ret);
/* NameOwnerChanged of the service's name: it started or stopped */
int rv_cli_match_service_owner(RvCli *cli, sd_bus_slot **ret_slot, sd_bus_message_handler_t handler, void *userdata);
/* blocks SIGINT/SIGTERM and ends the event loop with code on either */
gboolean rv_cli_add_exit_signals(RvCli *cli, int code, GError **error);

/* rv-cli-http.c: the service's D-Bus calls answered from its REST API */
RvCliHttp *rv_cli_http_new(const char *url, const char *key, GError **error);
void rv_cli_http_free(RvCliHttp *http);
GVariant *rv_cli_http_call(RvCli *cli, const char *path, const char *iface, const char *method, GVariant *args,
                           GError **error);
GVariant *rv_cli_http_get_all(RvCli *cli, const char *path, const char *iface, GError **error);
gboolean rv_cli_http_set_property(RvCli *cli, const char *path, const char *name, GVariant *value, GError **error);
GDBusNodeInfo *rv_cli_http_introspect(RvCli *cli, const char *path, GError **error);
/* a request: the answer's JSON (NULL when empty or failed: error tells), Problem+JSON as RvError */
JsonNode *rv_cli_http_request(RvCli *cli, const char *method, const char *target, JsonNode *body, GError **error);
/* follows the event stream, resuming after a dropped connection (rv-cli-service.c's monitor over HTTP) */
typedef void (*RvCliHttpEventFunc)(const char *kind, JsonObject *event, gpointer user_data);
gboolean rv_cli_http_follow(RvCli *cli, RvCliHttpEventFunc func, gpointer user_data, GError **error);

/* rv-cli-format.c */
gboolean rv_cli_is_tty(FILE *stream);
/* terminal width of stdout, 0 when unlimited */
guint rv_cli_output_width(void);
guint rv_cli_display_width(const char *text);
/* at most width columns, ellipsis at the end (or at the start with keep_end) */
char *rv_cli_truncate(const char *text, guint width, gboolean keep_end);
char *rv_cli_format_size(guint64 size);
char *rv_cli_format_rate(guint64 rate);
char *rv_cli_format_limit(gint64 limit);
char *rv_cli_format_eta(gint64 seconds);
char *rv_cli_format_percent(double fraction);
char *rv_cli_format_time(guint64 unix_seconds);
/* a setting's value as "config set" takes it: true/false, numbers, lists comma-separated */
char *rv_cli_format_setting(GVariant *value);
const char *rv_cli_format_bool(gboolean value);
const char *rv_cli_priority_to_string(guint8 priority);
char *rv_cli_short_hash(const char *hash);
/* any integer, boolean or double variant as gint64 (0 for NULL) */
gint64 rv_cli_variant_to_int64(GVariant *value);
/* "Label:   value", labels padded to width */
void rv_cli_print_field(const char *label, guint width, const char *value);
/* "InfoHash" -> "info_hash" */
char *rv_cli_json_key(const char *property);
void rv_cli_print_json(JsonNode *node, gboolean pretty);
/* an a{sv} of properties as a JSON object with snake_case members */
JsonNode *rv_cli_properties_to_json(GVariant *props);

typedef enum {
        RV_CLI_ALIGN_LEFT,
        RV_CLI_ALIGN_RIGHT,
} RvCliAlign;

typedef struct _RvCliTable RvCliTable;
RvCliTable *rv_cli_table_new(guint n_columns);
void rv_cli_table_free(RvCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvCliTable, rv_cli_table_free)
/* header is translated already; the flexible column shrinks to fit the width */
void rv_cli_table_set_column(RvCliTable *table, guint column, const char *header, RvCliAlign align, gboolean flexible,
                             gboolean keep_end);
/* takes the strings; n_columns of them */
void rv_cli_table_add_row(RvCliTable *table, ...);
void rv_cli_table_print(RvCliTable *table, FILE *out, guint width);

/* rv-cli-parse.c */
/* between min and max positional arguments; min 1 means a TORRENT */
gboolean rv_cli_check_args(char **args, guint min, guint max, GError **error);
/* "0", "unlimited", "500K", "5M", "1.5MiB", "2G/s": bytes per second, 1024-based */
gboolean rv_cli_parse_rate(const char *text, gint64 *ret, GError **error);
/* on/off, yes/no, true/false, 1/0 */
gboolean rv_cli_parse_bool(const char *text, gboolean *ret, GError **error);
/* "skip", "low", "normal", "high" or 0..7 */
gboolean rv_cli_parse_priority(const char *text, guint8 *ret, GError **error);
/* "3=high", "0,2-4=skip": appends (index, priority) pairs to ret */
gboolean rv_cli_parse_priority_spec(const char *text, GArray *ret_indexes, GByteArray *ret_priorities, GError **error);
/* exactly one argument, named what ("KEY_ID") when it is missing */
gboolean rv_cli_check_one_arg(char **args, const char *what, GError **error);
/* "engine.download_limit" or "/engine/download_limit" */
gboolean rv_cli_parse_setting_key(const char *text, char **ret_section, char **ret_name, GError **error);
/*
 * a setting's value for D-Bus type (b, y, n, q, i, u, x, t, d, s, as); rate
 * allows RATE syntax for integers; name (a KEY) prefixes errors
 */
GVariant *rv_cli_parse_setting_value(const char *text, const GVariantType *type, gboolean rate, const char *name,
                                     GError **error);

G_END_DECLS
