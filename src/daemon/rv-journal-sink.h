/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rv-events.h"

G_BEGIN_DECLS

/* the event stream's subscriber that writes what happens to torrents as journal entries */
void rv_journal_sink_attach(RvEventBus *events);

G_END_DECLS
