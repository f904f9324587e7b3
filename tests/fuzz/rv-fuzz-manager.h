/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rv-manager.h"

G_BEGIN_DECLS

/* a manager over the fake engine and a real embedded store, for the life of the process */
typedef struct {
        RvHealth *health;
        RvStore *store;
        RvEventBus *events;
        RvEngine *engine;
        RvManager *manager;
} RvFuzzManager;

/* the store in rv_fuzz_tmpdir()/state, downloads in rv_fuzz_tmpdir()/data; aborts when it cannot */
void rv_fuzz_manager_init(RvFuzzManager *m);

G_END_DECLS
