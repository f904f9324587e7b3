/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * how long the main loop goes between two polls: the work of one iteration,
 * which is how long a D-Bus call or a signal waits at worst. Once armed, an
 * iteration over the threshold is a stall: counted, and logged at most every
 * ten seconds with the longest since the last line. One per process: it
 * wraps the default main context's poll function.
 */
void rv_loop_watch_install(gint64 threshold_us);
/* from now on stalls count (after startup, whose loading is allowed to be busy) */
void rv_loop_watch_arm(void);
/* logs how many stalls there were since arming and the longest, and stops counting (shutdown is busy too) */
void rv_loop_watch_report(void);
void rv_loop_watch_uninstall(void);
guint rv_loop_watch_get_stalls(gint64 *ret_longest_us);

G_END_DECLS
