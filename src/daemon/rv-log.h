/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* installs the structured log writer; messages above level are dropped */
void rv_log_init(GLogLevelFlags level);
void rv_log_set_level(GLogLevelFlags level);
GLogLevelFlags rv_log_get_level(void);

G_END_DECLS
