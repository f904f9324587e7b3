/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include <glib.h>

#include "rv-bus.h"
#include "rv-daemon.h"

static int
rv_main_introspect(const char *iface)
{
        g_autofree char *xml = NULL;

        if (iface == NULL || iface[0] == '\0' || g_strcmp0(iface, "all") == 0)
                xml = rv_bus_introspect();
        else
                xml = rv_bus_introspect_interface(iface);
        if (xml == NULL) {
                g_autofree char *known = g_strjoinv(", ", (GStrv)rv_bus_interface_names());
                fprintf(stderr, "revaerd: unknown interface '%s' (known: %s)\n", iface, known);
                return 2;
        }
        fputs(xml, stdout);
        return 0;
}

int
main(int argc, char *argv[])
{
        RvDaemonOptions options = { 0 };
        g_autofree char *introspect = NULL;
        gboolean version = FALSE;
        gboolean introspect_all = FALSE;
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GError) error = NULL;
        int status;
        const GOptionEntry entries[] = {
                { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &options.state_dir,
                  "Directory for resume data and the embedded store", "DIR" },
                { "download-dir", 0, 0, G_OPTION_ARG_FILENAME, &options.download_dir,
                  "Default directory for downloaded data", "DIR" },
                { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options.config_path, "Bootstrap configuration file",
                  "FILE" },
                { "bus", 0, 0, G_OPTION_ARG_STRING, &options.bus, "Bus to serve on: system, session or none", "BUS" },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options.verbose, "Log debug messages", NULL },
                { "bus-introspect", 0, 0, G_OPTION_ARG_STRING, &introspect,
                  "Print the D-Bus introspection of an interface (or 'all') and exit", "INTERFACE" },
                { "bus-introspect-all", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &introspect_all, NULL, NULL },
                { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
                { NULL },
        };

        setlocale(LC_ALL, "");
        /*
         * a peer or client that closes its end is an error on the write, not
         * the end of the service (systemd ignores SIGPIPE for services too;
         * revaerd is also started by hand and by tests)
         */
        (void)signal(SIGPIPE, SIG_IGN);
        context = g_option_context_new("- the Revaer torrent service");
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                fprintf(stderr, "revaerd: %s\n", error->message);
                rv_daemon_options_clear(&options);
                return 2;
        }
        if (argc > 1) {
                fprintf(stderr, "revaerd: unexpected argument '%s'\n", argv[1]);
                rv_daemon_options_clear(&options);
                return 2;
        }
        if (version) {
                printf("revaerd %s\n", PACKAGE_VERSION);
                rv_daemon_options_clear(&options);
                return 0;
        }
        if (introspect != NULL || introspect_all) {
                rv_daemon_options_clear(&options);
                return rv_main_introspect(introspect);
        }
        if (options.bus != NULL && g_strcmp0(options.bus, "system") != 0 && g_strcmp0(options.bus, "session") != 0 &&
            g_strcmp0(options.bus, "none") != 0) {
                fprintf(stderr, "revaerd: --bus: expected system, session or none, got '%s'\n", options.bus);
                rv_daemon_options_clear(&options);
                return 2;
        }
        status = rv_daemon_run(&options);
        rv_daemon_options_clear(&options);
        return status;
}
