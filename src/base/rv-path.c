/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-path.h"

gboolean
rv_path_under_roots(const char *path, const char *const *roots)
{
        if (roots == NULL || roots[0] == NULL)
                return TRUE;
        for (guint i = 0; path != NULL && roots[i] != NULL; i++) {
                gsize n = strlen(roots[i]);
                while (n > 1 && roots[i][n - 1] == '/')
                        n--;
                if (strncmp(path, roots[i], n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1))
                        return TRUE;
        }
        return FALSE;
}
