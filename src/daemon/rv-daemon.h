/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        char *state_dir;
        char *download_dir;
        char *config_path;
        char *bus;
        gboolean verbose;
} RvDaemonOptions;

void rv_daemon_options_clear(RvDaemonOptions *options);

/* runs the service until SIGTERM/SIGINT; returns the process exit status */
int rv_daemon_run(const RvDaemonOptions *options);

G_END_DECLS
