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

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bus/every-method-has-an-action", test_bus_actions);
        return g_test_run();
}
