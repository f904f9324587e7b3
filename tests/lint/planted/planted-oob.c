/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A planted defect: an out-of-bounds write after the GLib macros that once made
 * the linter stop reading a file. tests/lint/lint-test.sh expects it reported. */
#include <glib.h>

typedef struct {
        int refs;
} RvPlanted;

static void
rv_planted_free(RvPlanted *p)
{
        g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvPlanted, rv_planted_free)

/* clang-format off */
G_DEFINE_QUARK(rv-planted-quark, rv_planted)
/* clang-format on */

int rv_planted_write(void);

int
rv_planted_write(void)
{
        g_autoptr(RvPlanted) p = g_new0(RvPlanted, 1);
        int buf[8];

        for (int i = 0; i <= 8; i++)
                buf[i] = i;
        return buf[0] + p->refs;
}
