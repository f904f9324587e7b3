/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-bus-private.h"

/* length of the first complete type in sig */
static gsize
rv_sig_complete_len(const char *sig)
{
        const char *p = sig;
        gsize depth = 0;

        /* arrays prefix one complete type */
        while (*p == 'a')
                p++;
        if (*p != '(' && *p != '{')
                return *p == '\0' ? (gsize)(p - sig) : (gsize)(p - sig) + 1;
        do {
                if (*p == '(' || *p == '{')
                        depth++;
                else if (*p == ')' || *p == '}')
                        depth--;
                else if (*p == '\0')
                        return (gsize)(p - sig);
                p++;
        } while (depth > 0);
        return (gsize)(p - sig);
}

/* one <arg/> per complete type; names is a NUL-separated list, advanced past what was used */
static void
rv_introspect_args(GString *xml, const char *sig, const char **names, const char *direction)
{
        while (sig != NULL && *sig != '\0') {
                gsize len = rv_sig_complete_len(sig);
                g_autofree char *type = g_strndup(sig, len);
                const char *name = *names;

                if (name != NULL && *name != '\0') {
                        g_string_append_printf(xml, "   <arg type=\"%s\" name=\"%s\"%s%s%s/>\n", type, name,
                                               direction != NULL ? " direction=\"" : "",
                                               direction != NULL ? direction : "", direction != NULL ? "\"" : "");
                        *names = name + strlen(name) + 1;
                } else {
                        g_string_append_printf(xml, "   <arg type=\"%s\"%s%s%s/>\n", type,
                                               direction != NULL ? " direction=\"" : "",
                                               direction != NULL ? direction : "", direction != NULL ? "\"" : "");
                }
                sig += len;
        }
}

static void
rv_introspect_interface(GString *xml, const char *name, const sd_bus_vtable *vtable)
{
        if (vtable == NULL)
                return;
        g_string_append_printf(xml, " <interface name=\"%s\">\n", name);
        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                if (v->type == _SD_BUS_VTABLE_METHOD) {
                        const char *names = v->x.method.names;
                        g_string_append_printf(xml, "  <method name=\"%s\">\n", v->x.method.member);
                        rv_introspect_args(xml, v->x.method.signature, &names, "in");
                        rv_introspect_args(xml, v->x.method.result, &names, "out");
                        g_string_append(xml, "  </method>\n");
                } else if (v->type == _SD_BUS_VTABLE_SIGNAL) {
                        const char *names = v->x.signal.names;
                        g_string_append_printf(xml, "  <signal name=\"%s\">\n", v->x.signal.member);
                        rv_introspect_args(xml, v->x.signal.signature, &names, NULL);
                        g_string_append(xml, "  </signal>\n");
                } else if (v->type == _SD_BUS_VTABLE_PROPERTY || v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY) {
                        const char *emits = NULL;
                        if (v->flags & SD_BUS_VTABLE_PROPERTY_CONST)
                                emits = "const";
                        else if (v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)
                                emits = "invalidates";
                        else if (!(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
                                emits = "false";
                        g_string_append_printf(xml, "  <property name=\"%s\" type=\"%s\" access=\"%s\"",
                                               v->x.property.member, v->x.property.signature,
                                               v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY ? "readwrite" : "read");
                        if (emits == NULL && !(v->flags & SD_BUS_VTABLE_PROPERTY_EXPLICIT)) {
                                g_string_append(xml, "/>\n");
                                continue;
                        }
                        g_string_append(xml, ">\n");
                        if (emits != NULL)
                                g_string_append_printf(xml,
                                                       "   <annotation name=\"org.freedesktop.DBus.Property."
                                                       "EmitsChangedSignal\" value=\"%s\"/>\n",
                                                       emits);
                        /* sd-bus's own name for it: not in GetAll, read with Get */
                        if (v->flags & SD_BUS_VTABLE_PROPERTY_EXPLICIT)
                                g_string_append(xml, "   <annotation name=\"org.freedesktop.systemd1.Explicit\" "
                                                     "value=\"true\"/>\n");
                        g_string_append(xml, "  </property>\n");
                }
        }
        g_string_append(xml, " </interface>\n");
}

static const char *const rv_interface_names[] = {
        RV_BUS_MANAGER_IFACE,
        RV_BUS_TORRENT_IFACE,
        RV_BUS_POLICY_IFACE,
        RV_BUS_POLICY_IFACE ".App",
        RV_BUS_POLICY_IFACE ".Engine",
        RV_BUS_POLICY_IFACE ".Fs",
        NULL,
};

static const sd_bus_vtable *
rv_interface_vtable(const char *name)
{
        if (g_str_equal(name, RV_BUS_MANAGER_IFACE))
                return rv_bus_manager_vtable;
        if (g_str_equal(name, RV_BUS_TORRENT_IFACE))
                return rv_bus_torrent_vtable;
        if (g_str_equal(name, RV_BUS_POLICY_IFACE))
                return rv_bus_policy_common_vtable;
        for (guint i = 0; RV_SETTINGS_SECTIONS[i] != NULL; i++) {
                if (g_strcmp0(rv_bus_policy_iface(RV_SETTINGS_SECTIONS[i]), name) == 0)
                        return rv_bus_policy_vtable(RV_SETTINGS_SECTIONS[i]);
        }
        return NULL;
}

char *
rv_bus_introspect_interface(const char *name)
{
        GString *xml = g_string_new("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                                    "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n");
        gboolean found = FALSE;

        for (guint i = 0; rv_interface_names[i] != NULL; i++) {
                if (name != NULL && g_strcmp0(name, rv_interface_names[i]) != 0)
                        continue;
                rv_introspect_interface(xml, rv_interface_names[i], rv_interface_vtable(rv_interface_names[i]));
                found = TRUE;
        }
        if (!found) {
                g_string_free(xml, TRUE);
                return NULL;
        }
        g_string_append(xml, "</node>\n");
        return g_string_free(xml, FALSE);
}

char *
rv_bus_introspect(void)
{
        return rv_bus_introspect_interface(NULL);
}

const char *const *
rv_bus_interface_names(void)
{
        return rv_interface_names;
}
