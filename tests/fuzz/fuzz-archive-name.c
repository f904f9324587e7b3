/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * an archive entry as extraction sees it: the first line is the entry's
 * name, the second (when there is one) its symlink target. The name goes
 * through the checks extraction makes before libarchive writes anything and
 * through the sanitizer that makes the name it is written under; the target
 * through the check that a link stays inside the extraction folder. A
 * reference model (the name and target resolved component by component, as
 * libarchive and the kernel do) must agree that nothing accepted leads out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-fsops-path.h"
#include "rv-fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

/*
 * depth of the folder a path names, from the extraction folder: empty and
 * "." parts count nothing, ".." goes up; -1 once it went above
 */
static gint
resolve(gint depth, const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        for (guint i = 0; parts[i] != NULL; i++) {
                if (parts[i][0] == '\0' || g_str_equal(parts[i], "."))
                        continue;
                if (g_str_equal(parts[i], "..")) {
                        if (--depth < 0)
                                return -1;
                } else {
                        depth++;
                }
        }
        return depth;
}

static void
check_name(const char *name)
{
        g_autofree char *clean = rv_fs_sanitize_name(name);
        g_autofree char *twice = rv_fs_sanitize_name(clean);
        gboolean safe = rv_fs_entry_name_safe(name);

        /* the name written: UTF-8 without control characters, the same when cleaned again */
        if (!g_utf8_validate(clean, -1, NULL) || strcmp(clean, twice) != 0)
                abort();
        for (const char *p = clean; *p != '\0'; p++) {
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        abort();
        }
        /* accepted: relative and never above the extraction folder, before and after cleaning */
        if (safe && (name[0] == '/' || resolve(0, name) < 0 || !rv_fs_entry_name_safe(clean) || resolve(0, clean) < 0))
                abort();
}

static void
check_link(const char *name, const char *target)
{
        g_autofree char *clean = rv_fs_sanitize_name(name);
        g_autofree char *folder = NULL;
        const char *slash;
        gint depth;

        if (!rv_fs_entry_name_safe(name) || !rv_fs_link_stays_inside(name, target))
                return;
        /* the link is made where the cleaned name points; its target is read from the link's folder */
        slash = strrchr(clean, '/');
        folder = slash != NULL ? g_strndup(clean, (gsize)(slash - clean)) : g_strdup("");
        depth = resolve(0, folder);
        if (target[0] == '/' || depth < 0 || resolve(depth, target) < 0)
                abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *text = rv_fuzz_text(data, size);
        char *nl = strchr(text, '\n');

        if (nl != NULL)
                *nl = '\0';
        check_name(text);
        if (nl != NULL)
                check_link(text, nl + 1);
        return 0;
}
