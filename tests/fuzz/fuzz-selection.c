/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * selection rules as a client sends them, and the file paths of a torrent
 * they are matched against; one entry a line: "+GLOB" include, "-GLOB"
 * exclude, "!" skip the fluff, "=PATH" a file of the torrent
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-fuzz-glob-ref.h"
#include "rv-fuzz.h"
#include "rv-selection.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_auto(GStrv) lines = rv_fuzz_lines(data, size);
        g_autoptr(GStrvBuilder) include = g_strv_builder_new();
        g_autoptr(GStrvBuilder) exclude = g_strv_builder_new();
        g_autoptr(GPtrArray) paths = g_ptr_array_new();
        g_autoptr(GPtrArray) globs = g_ptr_array_new();
        g_auto(GStrv) in = NULL;
        g_auto(GStrv) ex = NULL;
        g_autoptr(RvSelection) selection = NULL;
        g_autoptr(RvSelection) back = NULL;
        g_autoptr(JsonNode) json = NULL;
        gboolean skip_fluff = FALSE;

        for (guint i = 0; lines[i] != NULL; i++) {
                const char *rest = lines[i] + (lines[i][0] != '\0' ? 1 : 0);
                switch (lines[i][0]) {
                case '+':
                        g_strv_builder_add(include, rest);
                        break;
                case '-':
                        g_strv_builder_add(exclude, rest);
                        break;
                case '!':
                        skip_fluff = TRUE;
                        break;
                case '=':
                        /* the engine refuses file names that are not UTF-8 before any rule sees them */
                        if (g_utf8_validate(rest, -1, NULL))
                                g_ptr_array_add(paths, (gpointer)rest);
                        break;
                default:
                        break;
                }
        }
        in = g_strv_builder_end(include);
        ex = g_strv_builder_end(exclude);

        /* every glob on its own: one that validates matches every path without harm */
        for (guint i = 0; in[i] != NULL; i++)
                g_ptr_array_add(globs, in[i]);
        for (guint i = 0; ex[i] != NULL; i++)
                g_ptr_array_add(globs, ex[i]);
        for (guint i = 0; i < globs->len; i++) {
                const char *glob = g_ptr_array_index(globs, i);
                if (!rv_glob_validate(glob, NULL))
                        continue;
                for (guint j = 0; j < paths->len; j++) {
                        const char *path = g_ptr_array_index(paths, j);
                        gboolean match = rv_glob_match(glob, path);
                        /* the reference is slow on hostile input: short ones only */
                        if (strlen(glob) <= 64 && strlen(path) <= 128 && match != ref_glob_match(glob, path)) {
                                g_printerr("rv-fuzz: '%s' on '%s': %d, the reference says %d\n", glob, path, match,
                                           !match);
                                abort();
                        }
                }
        }

        selection = rv_selection_new((const char *const *)in, (const char *const *)ex, skip_fluff, NULL);
        if (selection == NULL)
                return 0;
        for (guint j = 0; j < paths->len; j++)
                (void)rv_selection_wants(selection, g_ptr_array_index(paths, j));

        /* what the store keeps reads back as the same rules, deciding the same */
        json = rv_selection_to_json(selection);
        back = rv_selection_from_json(json, NULL);
        if (back == NULL || !rv_selection_equal(selection, back))
                abort();
        for (guint j = 0; j < paths->len; j++) {
                const char *path = g_ptr_array_index(paths, j);
                if (rv_selection_wants(selection, path) != rv_selection_wants(back, path))
                        abort();
        }
        return 0;
}
