/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * what systemd hears from revaerd: READY, a STATUS line kept current at a
 * low rate, RELOADING, STOPPING with EXTEND_TIMEOUT_USEC while resume data is
 * saved, and watchdog pings sent only while the main loop runs and the
 * engine answers its liveness probe; all no-ops without NOTIFY_SOCKET
 */
typedef struct _RvNotify RvNotify;

RvNotify *rv_notify_new(RvManager *manager);
void rv_notify_free(RvNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvNotify, rv_notify_free)

void rv_notify_ready(RvNotify *notify);
void rv_notify_reloading(RvNotify *notify);
void rv_notify_reloaded(RvNotify *notify);
void rv_notify_stopping(RvNotify *notify);
/* the STATUS= line now */
char *rv_notify_status_line(RvManager *manager);

G_END_DECLS
