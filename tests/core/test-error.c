/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include <gio/gio.h>

#include "rv-error.h"

static void
test_error_table(void)
{
        for (guint i = 0; i < RV_ERROR_LAST; i++) {
                const char *name = rv_error_to_string((RvError)i);
                g_assert_nonnull(name);
                g_assert_cmpint(rv_error_from_string(name), ==, i);
                g_assert_true(g_str_has_suffix(rv_error_to_dbus_name((RvError)i), name));
                g_assert_cmpuint(rv_error_to_http_status((RvError)i), >=, 400);
                g_assert_nonnull(rv_error_to_problem_slug((RvError)i));
        }
        g_assert_cmpstr(rv_error_to_dbus_name(RV_ERROR_NOT_FOUND), ==, "com.revaer.Revaer1.Error.NotFound");
        g_assert_cmpuint(rv_error_to_http_status(RV_ERROR_RATE_LIMITED), ==, 429);
        g_assert_cmpint(rv_error_from_string("Nonsense"), ==, RV_ERROR_LAST);
        /* out of range codes fall back to Internal rather than reading past the table */
        g_assert_cmpstr(rv_error_to_string((RvError)999), ==, "Internal");
}

static void
test_error_convert(void)
{
        g_autoptr(GError) io = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such file");
        g_autoptr(GError) kf = g_error_new_literal(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "bad line");
        g_autoptr(GError) odd = g_error_new_literal(g_quark_from_static_string("x"), 3, "odd");

        rv_error_convert(&io);
        g_assert_error(io, RV_ERROR, RV_ERROR_NOT_FOUND);
        g_assert_cmpstr(io->message, ==, "no such file");
        rv_error_convert(&kf);
        g_assert_error(kf, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        rv_error_convert(&odd);
        g_assert_error(odd, RV_ERROR, RV_ERROR_INTERNAL);
        g_assert_cmpint(rv_error_from_errno(ENOSPC), ==, RV_ERROR_UNAVAILABLE);
        g_assert_cmpint(rv_error_from_errno(EACCES), ==, RV_ERROR_ACCESS_DENIED);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/core/error/table", test_error_table);
        g_test_add_func("/core/error/convert", test_error_convert);
        return g_test_run();
}
