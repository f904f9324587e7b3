/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * fault injection, compiled only into revaerd-faults (a test program, never
 * installed): the daemon arms the store's test hook from a control file
 */

#include "rv-store.h"

G_BEGIN_DECLS

/* with REVAER_TEST_FAULTS set, the embedded store's writes obey the file it names */
void rv_faults_attach(RvStore *store);

G_END_DECLS
