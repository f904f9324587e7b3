/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-bus-private.h"

/*
 * a missing polkit check is a security hole: every method and writable
 * property of every exported vtable must be a core operation (whose scope
 * gives the polkit action and the HTTP key scope alike), and everything that
 * is not a plain read must need more than "observe"
 */

static const char *const rv_read_only_methods[] = { "GetTorrent",
                                                    "ListTorrents",
                                                    "ListTorrentColumns",
                                                    "ListTorrentColumnsSparse",
                                                    "ListClusterTorrents",
                                                    "ListFiles",
                                                    "GetTrackers",
                                                    "History",
                                                    NULL };

static void
check_vtable(const char *iface, const sd_bus_vtable *vtable)
{
        guint n = 0;

        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                const char *member = NULL;
                const char *action;
                RvOp op;

                if (v->type == _SD_BUS_VTABLE_METHOD) {
                        member = v->x.method.member;
                        /* unprivileged callers must reach the handler so polkit can decide */
                        g_assert_true(v->flags & SD_BUS_VTABLE_UNPRIVILEGED);
                } else if (v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY) {
                        member = v->x.property.member;
                } else {
                        continue;
                }
                if (!rv_bus_op_for(iface, member, &op))
                        g_error("%s.%s is no core operation", iface, member);
                action = rv_bus_action_for(iface, member);
                g_assert_cmpstr(action, ==, rv_scope_to_polkit_action(rv_op_scope(op)));
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
        check_vtable(RV_BUS_POLICY_IFACE, rv_bus_policy_common_vtable);
        for (guint i = 0; rv_bus_policy_sections[i] != NULL; i++)
                check_vtable(rv_bus_policy_iface(rv_bus_policy_sections[i]),
                             rv_bus_policy_vtable(rv_bus_policy_sections[i]));
        g_assert_null(rv_bus_action_for(RV_BUS_TORRENT_IFACE, "NoSuchMethod"));
        /* settings writes need configure, whatever the section */
        g_assert_cmpstr(rv_bus_action_for(rv_bus_policy_iface("engine"), "DownloadLimit"), ==, RV_ACTION_CONFIGURE);
}

/* every torrent property comes from the core's field table, with the signature the table gives, and the
 * table has nothing the bus does not show */
/* every operation has a scope, a name and a polkit action; only reads need no more than read */
static void
test_command_table(void)
{
        for (guint op = 0; op < RV_OP_LAST; op++) {
                RvScope scope = rv_op_scope(op);
                RvScope back;
                g_assert_nonnull(rv_op_to_string(op));
                g_assert_nonnull(rv_scope_to_polkit_action(scope));
                g_assert_true(rv_scope_from_string(rv_scope_to_string(scope), &back));
                g_assert_cmpint(back, ==, scope);
        }
        g_assert_true(rv_scope_allows(RV_SCOPE_ADMIN, RV_SCOPE_MANAGE));
        g_assert_false(rv_scope_allows(RV_SCOPE_READ, RV_SCOPE_MANAGE));
        g_assert_cmpint(rv_op_scope(RV_OP_PAUSE), ==, RV_SCOPE_MANAGE);
        g_assert_cmpint(rv_op_scope(RV_OP_SETTINGS_UPDATE), ==, RV_SCOPE_CONFIGURE);
        g_assert_cmpint(rv_op_scope(RV_OP_KEY_CREATE), ==, RV_SCOPE_ADMIN);
}

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
                /* what a list view draws is in GetAll and GetManagedObjects; the rest is read with Get */
                if (((v->flags & SD_BUS_VTABLE_PROPERTY_EXPLICIT) != 0) == field->in_list)
                        g_error("property %s: explicit must be the opposite of in_list", v->x.property.member);
                /* and a change of it is signalled: with its value, or as invalidated when explicit */
                if ((v->flags & SD_BUS_VTABLE_PROPERTY_CONST) == 0)
                        g_assert_true((v->flags & (field->in_list ? SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
                                                                  : SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)) != 0);
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
        g_test_add_func("/core/command-table", test_command_table);
        g_test_add_func("/core/torrent-field-names", test_torrent_fields_names);
        return g_test_run();
}
