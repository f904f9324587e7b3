/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Planted defects for scripts/check-source.py: each line below must be flagged. */
#include <glib.h>
#include <systemd/sd-bus.h>

int rv_planted_source(int n);

int
rv_planted_source(int n)
{
        g_assert(n > 0);
        if (n > 10)
                goto out;
        if (n > 100)
                g_error("never");
        g_print("%s\n", "com.revaer.Revaer1");
out:
        return n;
}
