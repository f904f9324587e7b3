/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-bus-private.h"

/*
 * a missing polkit check is a security hole: every method and writable
 * property of every exported vtable must have an action, and everything that
 * is not a plain read must need more than "observe"
 */

static const char *const rv_read_only_methods[] = { "GetTorrent", "ListTorrents", "ListFiles", NULL };

static void
check_vtable(const char *iface, const sd_bus_vtable *vtable)
{
        guint n = 0;

        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                const char *member = NULL;
                const char *action;

                if (v->type == _SD_BUS_VTABLE_METHOD) {
                        member = v->x.method.member;
                        /* unprivileged callers must reach the handler so polkit can decide */
                        g_assert_true(v->flags & SD_BUS_VTABLE_UNPRIVILEGED);
                } else if (v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY) {
                        member = v->x.property.member;
                } else {
                        continue;
                }
                action = rv_bus_action_for(iface, member);
                if (action == NULL)
                        g_error("%s.%s has no polkit action", iface, member);
                if (!g_strv_contains(rv_read_only_methods, member) && g_str_equal(action, RV_ACTION_OBSERVE))
                        g_error("%s.%s changes something but needs only %s", iface, member, action);
                n++;
        }
        g_assert_cmpuint(n, >, 0);
}

static void
test_bus_actions(void)
{
        check_vtable(RV_BUS_MANAGER_IFACE, rv_bus_manager_vtable);
        check_vtable(RV_BUS_TORRENT_IFACE, rv_bus_torrent_vtable);
        g_assert_null(rv_bus_action_for(RV_BUS_TORRENT_IFACE, "NoSuchMethod"));
}

/* every torrent property comes from the core's field table, with the signature the table gives, and the
 * table has nothing the bus does not show */
static void
test_bus_torrent_fields(void)
{
        guint n = 0;

        for (const sd_bus_vtable *v = rv_bus_torrent_vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                const RvTorrentField *field;
                if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
                        continue;
                field = rv_torrent_field_by_property(v->x.property.member);
                if (field == NULL)
                        g_error("property %s is not in the field table", v->x.property.member);
                g_assert_cmpstr(rv_torrent_field_signature(field), ==, v->x.property.signature);
                n++;
        }
        g_assert_cmpuint(n, ==, rv_torrent_fields_count());
}

static void
test_torrent_fields_names(void)
{
        const RvTorrentField *fields = rv_torrent_fields();
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(RvTorrent) t = rv_torrent_new(&(RvInfoHash){ .hex = "0123456789abcdef0123456789abcdef01234567" });
        g_autoptr(JsonNode) snap = NULL;
        g_autofree const char **props = NULL;
        JsonObject *obj;

        for (guint i = 0; fields[i].json != NULL; i++) {
                g_assert_true(g_hash_table_add(seen, (gpointer)fields[i].json));
                g_assert_true(g_hash_table_add(seen, (gpointer)fields[i].property));
                g_assert_cmpuint(strspn(fields[i].json, "abcdefghijklmnopqrstuvwxyz_"), ==, strlen(fields[i].json));
        }
        /* a progress change carries what it touches, named once, and the hash */
        snap = rv_torrent_fields_snapshot(t, RV_TORRENT_FIELD_PROGRESS);
        obj = json_node_get_object(snap);
        g_assert_true(json_object_has_member(obj, "info_hash"));
        g_assert_true(json_object_has_member(obj, "progress"));
        g_assert_true(json_object_has_member(obj, "done"));
        g_assert_true(json_object_has_member(obj, "eta"));
        g_assert_false(json_object_has_member(obj, "name"));
        g_assert_false(json_object_has_member(obj, "added_time"));
        props = rv_torrent_fields_properties(RV_TORRENT_FIELD_STATE);
        g_assert_cmpstr(props[0], ==, "State");
        g_assert_cmpstr(props[1], ==, "Eta");
        g_assert_null(props[2]);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bus/every-method-has-an-action", test_bus_actions);
        g_test_add_func("/bus/torrent-properties-are-the-field-table", test_bus_torrent_fields);
        g_test_add_func("/core/torrent-field-names", test_torrent_fields_names);
        return g_test_run();
}
