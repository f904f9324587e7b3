/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

void
rv_cli_clear(RvCli *cli)
{
        g_clear_pointer(&cli->http, rv_cli_http_free);
        if (cli->bus != NULL)
                sd_bus_detach_event(cli->bus);
        g_clear_pointer(&cli->bus, sd_bus_flush_close_unref);
        g_clear_pointer(&cli->event, sd_event_unref);
}

const char *
rv_cli_bus_label(const RvCli *cli)
{
        /* TRANSLATORS: completes "... on the %s bus" */
        return cli->user ? _("session") : _("system");
}

/*
 * the one place where bus failures become RvError: the daemon's own names
 * keep their code and message, the bus's names say what the user can do
 */
void
rv_cli_set_bus_error(const RvCli *cli, const sd_bus_error *bus_error, int r, GError **error)
{
        const char *name = bus_error != NULL && sd_bus_error_is_set(bus_error) ? bus_error->name : NULL;
        const char *message = name != NULL && bus_error->message != NULL ? bus_error->message : NULL;

        if (name == NULL) {
                g_set_error(error, RV_ERROR, r == -EINVAL ? RV_ERROR_INVALID_ARGUMENT : RV_ERROR_UNAVAILABLE,
                            _("D-Bus call failed: %s"), g_strerror(-r));
                return;
        }
        if (g_str_has_prefix(name, RV_BUS_ERROR_PREFIX)) {
                RvError code = rv_error_from_string(name + strlen(RV_BUS_ERROR_PREFIX));
                g_set_error_literal(error, RV_ERROR, code == RV_ERROR_LAST ? RV_ERROR_INTERNAL : code,
                                    message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_SERVICE_UNKNOWN) || g_str_equal(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                            _("the Revaer service (%s) is not running on the %s bus"), RV_BUS_NAME,
                            rv_cli_bus_label(cli));
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_ACCESS_DENIED) || g_str_equal(name, SD_BUS_ERROR_AUTH_FAILED) ||
            g_str_equal(name, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                g_set_error(error, RV_ERROR, RV_ERROR_ACCESS_DENIED, _("access denied: %s"),
                            message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                /* a torrent object goes away when the torrent is removed */
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, _("the torrent is gone: %s"),
                            message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_INVALID_ARGS) || g_str_equal(name, SD_BUS_ERROR_PROPERTY_READ_ONLY)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_NO_REPLY) || g_str_equal(name, SD_BUS_ERROR_TIMEOUT) ||
            g_str_equal(name, SD_BUS_ERROR_DISCONNECTED) || g_str_equal(name, SD_BUS_ERROR_NO_SERVER)) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("the Revaer service did not answer: %s"),
                            message != NULL ? message : name);
                return;
        }
        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "%s (%s)", message != NULL ? message : name, name);
}

gboolean
rv_cli_connect(RvCli *cli, GError **error)
{
        g_autoptr(sd_bus) bus = NULL;
        int r;

        if (cli->bus != NULL)
                return TRUE;
        r = cli->user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r == -ENOMEDIUM) {
                /* sd-bus's way of saying that it has no address to try */
                g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                                    _("cannot find the session bus: neither DBUS_SESSION_BUS_ADDRESS nor "
                                      "XDG_RUNTIME_DIR is set"));
                return FALSE;
        }
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("cannot connect to the %s bus: %s"),
                            rv_cli_bus_label(cli), g_strerror(-r));
                return FALSE;
        }
        /* a future polkit agent may ask the user at the terminal */
        (void)sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
        cli->bus = g_steal_pointer(&bus);
        return TRUE;
}

sd_event *
rv_cli_get_event(RvCli *cli, GError **error)
{
        int r;

        if (!rv_cli_connect(cli, error))
                return NULL;
        if (cli->event != NULL)
                return cli->event;
        r = sd_event_new(&cli->event);
        if (r >= 0)
                r = sd_bus_attach_event(cli->bus, cli->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("cannot set up the event loop: %s"), g_strerror(-r));
                return NULL;
        }
        return cli->event;
}

static int
rv_cli_exit_signal_cb(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(source), GPOINTER_TO_INT(userdata));
}

gboolean
rv_cli_add_exit_signals(RvCli *cli, int code, GError **error)
{
        sd_event *event = rv_cli_get_event(cli, error);
        const int signals[] = { SIGINT, SIGTERM };
        sigset_t mask;

        if (event == NULL)
                return FALSE;
        sigemptyset(&mask);
        for (guint i = 0; i < G_N_ELEMENTS(signals); i++)
                sigaddset(&mask, signals[i]);
        /* sd-event takes signals through a signalfd, which needs them blocked */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "sigprocmask: %s", g_strerror(errno));
                return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(signals); i++) {
                int r = sd_event_add_signal(event, NULL, signals[i], rv_cli_exit_signal_cb, GINT_TO_POINTER(code));
                if (r < 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "sd_event_add_signal: %s", g_strerror(-r));
                        return FALSE;
                }
        }
        return TRUE;
}

int
rv_cli_match_service_owner(RvCli *cli, sd_bus_slot **ret_slot, sd_bus_message_handler_t handler, void *userdata)
{
        /* arg0 keeps the bus from sending every client's comings and goings */
        return sd_bus_add_match(cli->bus, ret_slot,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                "arg0='" RV_BUS_NAME "'",
                                handler, userdata);
}

/* sd-bus message contents as GVariant, so formatting and JSON work on one representation */
static int
rv_cli_read_basic(sd_bus_message *m, char type, GVariant **ret)
{
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } v;
        int r;

        memset(&v, 0, sizeof(v));
        r = sd_bus_message_read_basic(m, type, &v);
        if (r <= 0)
                return r;
        switch (type) {
        case SD_BUS_TYPE_BYTE:
                *ret = g_variant_new_byte(v.y);
                break;
        case SD_BUS_TYPE_BOOLEAN:
                *ret = g_variant_new_boolean(v.b != 0);
                break;
        case SD_BUS_TYPE_INT16:
                *ret = g_variant_new_int16(v.n);
                break;
        case SD_BUS_TYPE_UINT16:
                *ret = g_variant_new_uint16(v.q);
                break;
        case SD_BUS_TYPE_INT32:
                *ret = g_variant_new_int32(v.i);
                break;
        case SD_BUS_TYPE_UINT32:
                *ret = g_variant_new_uint32(v.u);
                break;
        case SD_BUS_TYPE_INT64:
                *ret = g_variant_new_int64(v.x);
                break;
        case SD_BUS_TYPE_UINT64:
                *ret = g_variant_new_uint64(v.t);
                break;
        case SD_BUS_TYPE_DOUBLE:
                *ret = g_variant_new_double(v.d);
                break;
        case SD_BUS_TYPE_STRING:
                *ret = g_variant_new_string(v.s);
                break;
        case SD_BUS_TYPE_OBJECT_PATH:
                *ret = g_variant_new_object_path(v.s);
                break;
        case SD_BUS_TYPE_SIGNATURE:
                *ret = g_variant_new_signature(v.s);
                break;
        case SD_BUS_TYPE_UNIX_FD:
                /* nothing revaerctl reads carries descriptors */
                *ret = g_variant_new_handle(-1);
                break;
        default:
                return -EBADMSG;
        }
        return 1;
}

static int
rv_cli_read_value(sd_bus_message *m, GVariant **ret)
{
        g_autoptr(GPtrArray) children = NULL;
        const char *contents = NULL;
        char type = 0;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;
        if (type != SD_BUS_TYPE_ARRAY && type != SD_BUS_TYPE_STRUCT && type != SD_BUS_TYPE_DICT_ENTRY &&
            type != SD_BUS_TYPE_VARIANT)
                return rv_cli_read_basic(m, type, ret);

        children = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        for (;;) {
                GVariant *child = NULL;
                r = rv_cli_read_value(m, &child);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                g_ptr_array_add(children, g_variant_ref_sink(child));
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        switch (type) {
        case SD_BUS_TYPE_ARRAY:
                if (!g_variant_type_string_is_valid(contents))
                        return -EBADMSG;
                *ret = g_variant_new_array(G_VARIANT_TYPE(contents), (GVariant **)children->pdata, children->len);
                break;
        case SD_BUS_TYPE_STRUCT:
                *ret = g_variant_new_tuple((GVariant **)children->pdata, children->len);
                break;
        case SD_BUS_TYPE_DICT_ENTRY:
                if (children->len != 2)
                        return -EBADMSG;
                *ret = g_variant_new_dict_entry(g_ptr_array_index(children, 0), g_ptr_array_index(children, 1));
                break;
        default:
                if (children->len != 1)
                        return -EBADMSG;
                *ret = g_variant_new_variant(g_ptr_array_index(children, 0));
                break;
        }
        return 1;
}

int
rv_cli_message_read_all(sd_bus_message *m, GVariant **ret)
{
        g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);

        for (;;) {
                GVariant *value = NULL;
                int r = rv_cli_read_value(m, &value);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                g_ptr_array_add(values, g_variant_ref_sink(value));
        }
        *ret = g_variant_ref_sink(g_variant_new_tuple((GVariant **)values->pdata, values->len));
        return 0;
}

sd_bus_message *
rv_cli_new_call(RvCli *cli, const char *path, const char *iface, const char *method, GError **error)
{
        sd_bus_message *m = NULL;
        int r;

        if (!rv_cli_connect(cli, error))
                return NULL;
        r = sd_bus_message_new_method_call(cli->bus, &m, RV_BUS_NAME, path, iface, method);
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return NULL;
        }
        return m;
}

GVariant *
rv_cli_send_full(RvCli *cli, sd_bus_message *call, const char *no_answer, GError **error)
{
        sd_bus_error bus_error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        GVariant *ret = NULL;
        int r = sd_bus_call(cli->bus, call, 0, &bus_error, &reply);

        if (no_answer != NULL && (r == -ETIMEDOUT || (r < 0 && sd_bus_error_has_names(&bus_error, SD_BUS_ERROR_NO_REPLY,
                                                                                      SD_BUS_ERROR_TIMEOUT)))) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s (%s): %s",
                            _("the Revaer service did not answer"),
                            bus_error.message != NULL ? bus_error.message : g_strerror(-r), no_answer);
                sd_bus_error_free(&bus_error);
                return NULL;
        }
        if (r < 0) {
                rv_cli_set_bus_error(cli, &bus_error, r, error);
                sd_bus_error_free(&bus_error);
                return NULL;
        }
        r = rv_cli_message_read_all(reply, &ret);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("cannot read the reply to %s: %s"),
                            sd_bus_message_get_member(call), g_strerror(-r));
                return NULL;
        }
        return ret;
}

GVariant *
rv_cli_send(RvCli *cli, sd_bus_message *call, GError **error)
{
        return rv_cli_send_full(cli, call, NULL, error);
}

gboolean
rv_cli_reply_is(GVariant *reply, const char *type, const char *method, GError **error)
{
        if (g_variant_is_of_type(reply, G_VARIANT_TYPE(type)))
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("unexpected reply to %s"), method);
        return FALSE;
}

GVariant *
rv_cli_call(RvCli *cli, const char *path, const char *iface, const char *method, GError **error, const char *types, ...)
{
        g_autoptr(sd_bus_message) m = NULL;
        va_list ap;
        int r;

        if (cli->http != NULL) {
                /* the basic types the commands pass read the same as a GVariant tuple */
                g_autofree char *tuple = g_strdup_printf("(%s)", types != NULL ? types : "");
                GVariant *args;
                va_start(ap, types);
                args = g_variant_new_va(tuple, NULL, &ap);
                va_end(ap);
                return rv_cli_http_call(cli, path, iface, method, args, error);
        }
        m = rv_cli_new_call(cli, path, iface, method, error);
        if (m == NULL)
                return NULL;
        if (types != NULL) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0) {
                        rv_cli_set_bus_error(cli, NULL, r, error);
                        return NULL;
                }
        }
        return rv_cli_send(cli, m, error);
}

/* the inverse of rv_cli_read_value: a GVariant of any type into a message */
int
rv_cli_message_append_variant(sd_bus_message *m, GVariant *value)
{
        const char *type = g_variant_get_type_string(value);
        g_autofree char *contents = NULL;
        GVariantIter iter;
        GVariant *child;
        char container;
        int r;

        switch (type[0]) {
        case 'b': {
                int b = g_variant_get_boolean(value);
                return sd_bus_message_append_basic(m, 'b', &b);
        }
        case 'y': {
                guint8 y = g_variant_get_byte(value);
                return sd_bus_message_append_basic(m, 'y', &y);
        }
        case 'n': {
                gint16 n = g_variant_get_int16(value);
                return sd_bus_message_append_basic(m, 'n', &n);
        }
        case 'q': {
                guint16 q = g_variant_get_uint16(value);
                return sd_bus_message_append_basic(m, 'q', &q);
        }
        case 'i': {
                gint32 i = g_variant_get_int32(value);
                return sd_bus_message_append_basic(m, 'i', &i);
        }
        case 'u': {
                guint32 u = g_variant_get_uint32(value);
                return sd_bus_message_append_basic(m, 'u', &u);
        }
        case 'x': {
                gint64 x = g_variant_get_int64(value);
                return sd_bus_message_append_basic(m, 'x', &x);
        }
        case 't': {
                guint64 t = g_variant_get_uint64(value);
                return sd_bus_message_append_basic(m, 't', &t);
        }
        case 'd': {
                double d = g_variant_get_double(value);
                return sd_bus_message_append_basic(m, 'd', &d);
        }
        case 's':
        case 'o':
        case 'g':
                return sd_bus_message_append_basic(m, type[0], g_variant_get_string(value, NULL));
        case 'v':
                child = g_variant_get_variant(value);
                container = 'v';
                contents = g_strdup(g_variant_get_type_string(child));
                g_variant_unref(child);
                break;
        case 'a':
                container = 'a';
                contents = g_strdup(type + 1);
                break;
        case '(':
        case '{':
                /* sd-bus names the contents without the brackets */
                container = type[0] == '(' ? 'r' : 'e';
                contents = g_strndup(type + 1, strlen(type) - 2);
                break;
        default:
                /* nothing revaerctl sends carries maybe types or descriptors */
                return -EINVAL;
        }
        r = sd_bus_message_open_container(m, container, contents);
        if (r < 0)
                return r;
        g_variant_iter_init(&iter, value);
        while ((child = g_variant_iter_next_value(&iter)) != NULL) {
                r = rv_cli_message_append_variant(m, child);
                g_variant_unref(child);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

GVariant *
rv_cli_call_variant(RvCli *cli, const char *path, const char *iface, const char *method, GVariant *args, GError **error)
{
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(GVariant) sunk = args != NULL ? g_variant_ref_sink(args) : NULL;
        GVariantIter iter;
        GVariant *child;

        if (cli->http != NULL)
                return rv_cli_http_call(cli, path, iface, method, sunk != NULL ? g_variant_ref(sunk) : NULL, error);
        m = rv_cli_new_call(cli, path, iface, method, error);
        if (m == NULL)
                return NULL;
        if (sunk != NULL) {
                g_variant_iter_init(&iter, sunk);
                while ((child = g_variant_iter_next_value(&iter)) != NULL) {
                        int r = rv_cli_message_append_variant(m, child);
                        g_variant_unref(child);
                        if (r < 0) {
                                rv_cli_set_bus_error(cli, NULL, r, error);
                                return NULL;
                        }
                }
        }
        return rv_cli_send(cli, m, error);
}

GDBusNodeInfo *
rv_cli_introspect(RvCli *cli, const char *path, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GError) error_local = NULL;
        GDBusNodeInfo *info;

        if (cli->http != NULL)
                return rv_cli_http_introspect(cli, path, error);
        reply = rv_cli_call(cli, path, RV_BUS_INTROSPECTABLE_IFACE, "Introspect", error, NULL);
        if (reply == NULL)
                return NULL;
        if (!rv_cli_reply_is(reply, "(s)", "Introspect", error))
                return NULL;
        {
                g_autoptr(GVariant) xml = g_variant_get_child_value(reply, 0);
                info = g_dbus_node_info_new_for_xml(g_variant_get_string(xml, NULL), &error_local);
        }
        if (info == NULL) {
                /* GMarkup's error is no RvError: the message travels, the code becomes ours */
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("cannot read the introspection data of %s: %s"), path,
                            error_local->message);
                return NULL;
        }
        return info;
}

GVariant *
rv_cli_get_all(RvCli *cli, const char *path, const char *iface, GError **error)
{
        g_autoptr(GVariant) reply = NULL;

        if (cli->http != NULL)
                return rv_cli_http_get_all(cli, path, iface, error);
        reply = rv_cli_call(cli, path, RV_BUS_PROPERTIES_IFACE, "GetAll", error, "s", iface);
        if (reply == NULL)
                return NULL;
        if (!rv_cli_reply_is(reply, "(a{sv})", "GetAll", error))
                return NULL;
        return g_variant_get_child_value(reply, 0);
}

/*
 * a torrent's properties that a list view does not draw are explicit: the
 * service leaves them out of GetAll, and Get reads them. A service from before
 * that had them all in GetAll, so nothing is read twice
 */
void
rv_cli_get_into(RvCli *cli, const char *path, const char *iface, const char *const *names, GVariantDict *dict)
{
        for (guint i = 0; names[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) value = rv_cli_get_property(cli, path, iface, names[i], &error);
                if (value != NULL)
                        g_variant_dict_insert_value(dict, names[i], value);
                else
                        g_debug("reading %s of %s failed: %s, ignoring", names[i], path, error->message);
        }
}

GVariant *
rv_cli_get_all_with(RvCli *cli, const char *path, const char *iface, const char *const *names, GError **error)
{
        g_autoptr(GVariant) all = rv_cli_get_all(cli, path, iface, error);
        g_autoptr(GVariantDict) dict = NULL;
        g_autoptr(GPtrArray) missing = g_ptr_array_new();

        if (all == NULL)
                return NULL;
        dict = g_variant_dict_new(all);
        for (guint i = 0; names[i] != NULL; i++) {
                if (!g_variant_dict_contains(dict, names[i]))
                        g_ptr_array_add(missing, (gpointer)names[i]);
        }
        g_ptr_array_add(missing, NULL);
        rv_cli_get_into(cli, path, iface, (const char *const *)missing->pdata, dict);
        return g_variant_ref_sink(g_variant_dict_end(dict));
}

GVariant *
rv_cli_get_property(RvCli *cli, const char *path, const char *iface, const char *name, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) boxed = NULL;

        if (cli->http != NULL) {
                g_autoptr(GVariant) all = rv_cli_http_get_all(cli, path, iface, error);
                GVariant *value = all != NULL ? g_variant_lookup_value(all, name, NULL) : NULL;
                if (all != NULL && value == NULL)
                        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("the service has no %s"), name);
                return value;
        }
        reply = rv_cli_call(cli, path, RV_BUS_PROPERTIES_IFACE, "Get", error, "ss", iface, name);
        if (reply == NULL)
                return NULL;
        if (!rv_cli_reply_is(reply, "(v)", "Get", error))
                return NULL;
        boxed = g_variant_get_child_value(reply, 0);
        return g_variant_get_variant(boxed);
}

gboolean
rv_cli_set_property(RvCli *cli, const char *path, const char *iface, const char *name, GError **error, const char *type,
                    ...)
{
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(GVariant) reply = NULL;
        va_list ap;
        int r;

        if (cli->http != NULL) {
                g_autoptr(GVariant) value = NULL;
                va_start(ap, type);
                /* a string array comes as char **, which GVariant's "^as" takes */
                value = g_variant_ref_sink(g_variant_new_va(g_str_equal(type, "as") ? "^as" : type, NULL, &ap));
                va_end(ap);
                return rv_cli_http_set_property(cli, path, name, value, error);
        }
        m = rv_cli_new_call(cli, path, RV_BUS_PROPERTIES_IFACE, "Set", error);
        if (m == NULL)
                return FALSE;
        r = sd_bus_message_append(m, "ss", iface, name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', type);
        if (r >= 0) {
                va_start(ap, type);
                r = sd_bus_message_appendv(m, type, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return FALSE;
        }
        reply = rv_cli_send(cli, m, error);
        return reply != NULL;
}

char *
rv_cli_resolve(RvCli *cli, const char *ref, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        const char *path = NULL;

        if (ref[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("empty torrent reference"));
                return NULL;
        }
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "GetTorrent", error, "s", ref);
        if (reply == NULL)
                return NULL;
        if (!rv_cli_reply_is(reply, "(o)", "GetTorrent", error))
                return NULL;
        g_variant_get(reply, "(&o)", &path);
        return g_strdup(path);
}

const char *
rv_cli_path_to_hash(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash != NULL ? slash + 1 : path;
}
