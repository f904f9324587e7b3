/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * a .revaer.meta checkpoint file as FsOps finds it in a torrent's work
 * folder when the pipeline starts again (after a crash, an edit, a stray
 * file): loaded, read the way the pipeline reads it, a step begun and ended,
 * saved, and loaded again
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv-fsops-journal.h"
#include "rv-fuzz.h"

static const char *const steps[] = {
        "move", "par2", "extract", "place", "flatten", "cleanup", "permissions", "commit", "unknown", NULL,
};

static int work_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        work_fd = open(rv_fuzz_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (work_fd < 0)
                abort();
        return 0;
}

static void
put_file(const uint8_t *data, size_t size)
{
        int fd = openat(work_fd, RV_FS_JOURNAL_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
                abort();
        close(fd);
}

/* what the pipeline reads of a journal: never NULL where it compares strings */
static void
read_all(RvFsJournal *j)
{
        JsonNode *policy = rv_fs_journal_get_policy(j);

        if (policy == NULL || !JSON_NODE_HOLDS_OBJECT(policy) || rv_fs_journal_get_hash(j) == NULL ||
            rv_fs_journal_get_state(j) == NULL)
                abort();
        (void)rv_fs_journal_get_library_path(j);
        for (guint i = 0; steps[i] != NULL; i++) {
                if (rv_fs_journal_step_state(j, steps[i]) == NULL)
                        abort();
                (void)rv_fs_journal_step_runs(j, steps[i]);
                (void)rv_fs_journal_step_detail(j, steps[i]);
        }
}

/* what survives a save and a load */
static char *
describe(RvFsJournal *j)
{
        GString *out = g_string_new(NULL);

        g_string_append_printf(out, "%s %s %s\n", rv_fs_journal_get_hash(j), rv_fs_journal_get_state(j),
                               rv_fs_journal_get_library_path(j));
        for (guint i = 0; steps[i] != NULL; i++)
                g_string_append_printf(out, "%s %s %u\n", steps[i], rv_fs_journal_step_state(j, steps[i]),
                                       rv_fs_journal_step_runs(j, steps[i]));
        return g_string_free(out, FALSE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvFsJournal) j = NULL;
        g_autoptr(RvFsJournal) again = NULL;
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        const char *step = steps[size % (G_N_ELEMENTS(steps) - 1)];
        guint runs;

        put_file(data, size);
        j = rv_fs_journal_load(work_fd, &error);
        if (j == NULL) {
                /* the file is there: a journal or an error, never nothing */
                if (error == NULL)
                        abort();
                return 0;
        }
        read_all(j);

        /* a step run again: one more run, its end recorded */
        runs = rv_fs_journal_step_runs(j, step);
        rv_fs_journal_step_begin(j, step);
        if (g_strcmp0(rv_fs_journal_step_state(j, step), "running") != 0 ||
            rv_fs_journal_step_runs(j, step) != runs + 1)
                abort();
        rv_fs_journal_step_end(j, step, "done", json_object_new(), NULL);
        if (g_strcmp0(rv_fs_journal_step_state(j, step), "done") != 0 || rv_fs_journal_step_detail(j, step) == NULL)
                abort();
        rv_fs_journal_set_library_path(j, "/library/fuzz");
        read_all(j);

        if (!rv_fs_journal_save(j, work_fd, FALSE, &error))
                abort();
        again = rv_fs_journal_load(work_fd, &error);
        if (again == NULL)
                abort();
        before = describe(j);
        after = describe(again);
        if (strcmp(before, after) != 0 ||
            !json_node_equal(rv_fs_journal_get_policy(j), rv_fs_journal_get_policy(again)))
                abort();
        return 0;
}
