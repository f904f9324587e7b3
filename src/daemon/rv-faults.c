/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-faults.h"
#include "rv-store-private.h"

/*
 * REVAER_TEST_FAULTS names a file of one line, read again before every write
 * of the embedded store, so a test arms and clears a fault on a running
 * daemon without a race:
 *
 *   ERRNO [after=N] [count=K] [short] [match=TEXT]
 *
 * ERRNO is ENOSPC, EIO, EDQUOT or EROFS. Counting from when the line last
 * changed, the Nth write (1 by default) fails and K-1 more after it (K 0, the
 * default: every write until the line changes); short leaves half the record
 * in the temp file before the failure; match counts only the files whose name
 * holds TEXT. An empty or missing file is no fault.
 */

typedef struct {
        char *path;
        char *line;
        guint seen;
} RvFaults;

static const struct {
        const char *name;
        int errsv;
} rv_faults_errnos[] = {
        { "ENOSPC", ENOSPC },
        { "EIO", EIO },
        { "EDQUOT", EDQUOT },
        { "EROFS", EROFS },
};

/* writer thread, under the store's lock */
static int
rv_faults_write_cb(const char *name, gsize len, gsize *ret_kept, gpointer user_data)
{
        RvFaults *faults = user_data;
        g_autofree char *text = NULL;
        g_auto(GStrv) words = NULL;
        guint after = 1;
        guint count = 0;
        gboolean short_write = FALSE;
        int errsv = 0;

        if (!g_file_get_contents(faults->path, &text, NULL, NULL))
                text = g_strdup("");
        g_strstrip(text);
        if (g_strcmp0(text, faults->line) != 0) {
                g_free(faults->line);
                faults->line = g_strdup(text);
                faults->seen = 0;
        }
        words = g_strsplit_set(text, " \t", -1);
        for (guint i = 0; words[i] != NULL; i++) {
                const char *w = words[i];
                for (guint j = 0; j < G_N_ELEMENTS(rv_faults_errnos); j++) {
                        if (g_strcmp0(w, rv_faults_errnos[j].name) == 0)
                                errsv = rv_faults_errnos[j].errsv;
                }
                if (g_str_has_prefix(w, "after="))
                        after = (guint)g_ascii_strtoull(w + 6, NULL, 10);
                else if (g_str_has_prefix(w, "count="))
                        count = (guint)g_ascii_strtoull(w + 6, NULL, 10);
                else if (g_strcmp0(w, "short") == 0)
                        short_write = TRUE;
                else if (g_str_has_prefix(w, "match=") && strstr(name, w + 6) == NULL)
                        return 0;
        }
        if (errsv == 0)
                return 0;
        faults->seen++;
        if (faults->seen < after || (count > 0 && faults->seen >= after + count))
                return 0;
        if (short_write)
                *ret_kept = len / 2;
        g_debug("fault injected: write %u of '%s' fails with %s%s", faults->seen, name, g_strerror(errsv),
                short_write ? " after half of it" : "");
        return errsv;
}

void
rv_faults_attach(RvStore *store)
{
        /* lives as long as the process: the store may ask until its writer thread is gone */
        static RvFaults faults;
        const char *path = g_getenv("REVAER_TEST_FAULTS");

        if (path == NULL || g_strcmp0(rv_store_get_backend(store), "embedded") != 0)
                return;
        g_free(faults.path);
        faults.path = g_strdup(path);
        g_message("fault injection armed by '%s'", path);
        rv_store_embedded_set_write_fault_func(store, rv_faults_write_cb, &faults);
}
