/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * path lies in one of roots (/fs/allowed_paths): the root itself or below
 * it, by components ("/data" holds "/data/x", not "/database"); TRUE when
 * there are no roots. The one rule for the settings, the manager's adds
 * and moves, and FsOps.
 */
gboolean rv_path_under_roots(const char *path, const char *const *roots);

G_END_DECLS
