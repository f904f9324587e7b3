/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "rv-bootstrap.h"
#include "rv-error.h"

/* revaerd.conf's [cluster] group (docs/cluster.md): off unless a key is set, every bad value named */

static gboolean
load(const char *text, RvBootstrap *config, GError **error)
{
        g_autofree char *dir = g_dir_make_tmp("rv-bootstrap-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "revaerd.conf", NULL);
        gboolean ok;

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        rv_bootstrap_init(config);
        ok = rv_bootstrap_load(config, path, error);
        g_unlink(path);
        g_rmdir(dir);
        return ok;
}

static void
test_cluster_off(void)
{
        RvBootstrap c;
        g_autoptr(GError) error = NULL;

        g_assert_true(load("[store]\nbackend=postgres\n", &c, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(c.cluster_lease_s, ==, 0);
        rv_bootstrap_clear(&c);
        /* the example ships the group with its keys commented out */
        g_assert_true(load("[cluster]\n#lease-seconds=30\n", &c, &error));
        g_assert_cmpuint(c.cluster_lease_s, ==, 0);
        rv_bootstrap_clear(&c);
}

static void
test_cluster_on(void)
{
        RvBootstrap c;
        g_autoptr(GError) error = NULL;

        g_assert_true(load("[cluster]\ntakeover=fresh\n", &c, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(c.cluster_lease_s, ==, RV_BOOTSTRAP_LEASE_DEFAULT_S);
        g_assert_true(c.cluster_takeover_fresh);
        rv_bootstrap_clear(&c);
        g_assert_true(load("[cluster]\nlease-seconds=3\ntakeover=shared-storage\n", &c, &error));
        g_assert_cmpuint(c.cluster_lease_s, ==, 3);
        g_assert_false(c.cluster_takeover_fresh);
        g_assert_false(c.cluster_least_loaded);
        g_assert_cmpuint(c.cluster_command_timeout_s, ==, RV_BOOTSTRAP_COMMAND_TIMEOUT_DEFAULT_S);
        g_assert_null(c.cluster_pins);
        rv_bootstrap_clear(&c);
        g_assert_true(load("[cluster]\nplacement=least-loaded\npin=tv:box-2, movies : box-3\ncommand-timeout=4\n", &c,
                           &error));
        g_assert_true(c.cluster_least_loaded);
        g_assert_cmpuint(c.cluster_command_timeout_s, ==, 4);
        g_assert_cmpuint(g_strv_length(c.cluster_pins), ==, 4);
        g_assert_cmpstr(c.cluster_pins[0], ==, "tv");
        g_assert_cmpstr(c.cluster_pins[1], ==, "box-2");
        g_assert_cmpstr(c.cluster_pins[2], ==, "movies");
        g_assert_cmpstr(c.cluster_pins[3], ==, "box-3");
        rv_bootstrap_clear(&c);
}

static void
test_cluster_bad(void)
{
        static const struct {
                const char *text;
                const char *expect;
        } cases[] = {
                { "[cluster]\nlease-seconds=1\n", "[cluster] lease-seconds: '1' is not an integer from 2 to 3600" },
                { "[cluster]\nlease-seconds=soon\n", "[cluster] lease-seconds: 'soon' is not an integer" },
                { "[cluster]\ntakeover=copy\n", "[cluster] takeover: expected 'shared-storage' or 'fresh'" },
                { "[cluster]\nplacement=random\n", "[cluster] placement: expected 'local' or 'least-loaded'" },
                { "[cluster]\npin=tv\n", "[cluster] pin: 'tv' is not label:node" },
                { "[cluster]\npin=tv:a:b\n", "[cluster] pin: 'tv:a:b' is not label:node" },
                { "[cluster]\ncommand-timeout=0\n", "[cluster] command-timeout: '0' is not an integer from 1 to 600" },
                { "[cluster]\nleases=3\n", "[cluster] leases: unknown key" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                RvBootstrap c;
                g_autoptr(GError) error = NULL;

                g_assert_false(load(cases[i].text, &c, &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                if (strstr(error->message, cases[i].expect) == NULL)
                        g_error("case %u: '%s' lacks '%s'", i, error->message, cases[i].expect);
                rv_bootstrap_clear(&c);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/bootstrap/cluster-off", test_cluster_off);
        g_test_add_func("/config/bootstrap/cluster-on", test_cluster_on);
        g_test_add_func("/config/bootstrap/cluster-bad", test_cluster_bad);
        return g_test_run();
}
