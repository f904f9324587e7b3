/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-fsops-run.h"

/* par2: verify, and repair in a folder of links to the torrent's files */

/* the index file of a set ("x.par2"), not its recovery volumes ("x.vol03+04.par2") */
static gboolean
rv_fs_is_par2_index(const char *path)
{
        g_autofree char *lower = g_ascii_strdown(path, -1);
        const char *vol = g_strrstr(lower, ".vol");

        if (!g_str_has_suffix(lower, ".par2"))
                return FALSE;
        if (vol == NULL)
                return TRUE;
        vol += 4;
        while (g_ascii_isdigit(*vol))
                vol++;
        return !(*vol == '+' || *vol == '-');
}

gboolean
rv_fs_step_par2_plan(RvFsRun *run)
{
        if (run->policy->par2 == RV_FS_PAR2_OFF)
                return FALSE;
        for (guint i = 0; i < run->spec->files->len; i++) {
                if (rv_fs_is_par2_index(((RvFsFile *)g_ptr_array_index(run->spec->files, i))->path))
                        return TRUE;
        }
        return FALSE;
}

static gboolean
rv_fs_par2_status(gint status, const char *par2, gboolean repair, GError **error)
{
        switch (status) {
        case 0:
                return TRUE;
        case 1:
                if (repair)
                        rv_fs_set_error(error, RV_FS_FAILURE_PAR2_UNREPAIRABLE, "'%s': repair did not succeed", par2);
                else
                        rv_fs_set_error(error, RV_FS_FAILURE_PAR2_DAMAGED,
                                        "'%s': the data is damaged and repairable (/fs/par2 is verify)", par2);
                return FALSE;
        case 2:
                rv_fs_set_error(error, RV_FS_FAILURE_PAR2_UNREPAIRABLE,
                                "'%s': the data is damaged beyond what the recovery files can repair", par2);
                return FALSE;
        default:
                rv_fs_set_error(error, RV_FS_FAILURE_PAR2_FAILED, "'%s': par2 exited with status %d", par2, status);
                return FALSE;
        }
}

/* links (or copies) of every file in the set's folder, for par2 to repair in */
static gboolean
rv_fs_par2_stage(RvFsRun *run, const char *dir, GError **error)
{
        g_autofree char *prefix = dir[0] != '\0' ? g_strconcat(dir, "/", NULL) : g_strdup("");
        g_autoptr(RvFsDir) stage = rv_fs_dir_open_at(run->work, RV_FS_WORK_PAR2, TRUE, error);

        if (stage == NULL)
                return FALSE;
        for (guint i = 0; i < run->spec->files->len; i++) {
                const RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                RvFsPlaced how;
                if (!g_str_has_prefix(f->path, prefix) || rv_fs_exists_at(stage->fd, f->path))
                        continue;
                if (!rv_fs_place_file(&run->io, run->source->fd, f->path, stage->fd, f->path, RV_FS_MOVE_HARDLINK, &how,
                                      error))
                        return FALSE;
        }
        return TRUE;
}

static gboolean
rv_fs_par2_one(RvFsRun *run, const char *par2, JsonArray *sets, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(par2);
        g_autofree char *base = g_path_get_basename(par2);
        g_autofree char *source_dir = NULL;
        g_autofree char *stage_dir = NULL;
        JsonObject *set = json_object_new();
        gint status = -1;

        if (g_str_equal(dir, "."))
                dir[0] = '\0';
        source_dir = g_build_filename(run->source->path, dir, NULL);
        json_object_set_string_member(set, "par2", par2);
        json_array_add_object_element(sets, set);
        if (!rv_fs_par2_run(&run->io, source_dir, base, FALSE, &status, error))
                return FALSE;
        if (status == 0) {
                json_object_set_string_member(set, "result", "intact");
                return TRUE;
        }
        if (status != 1 || run->policy->par2 != RV_FS_PAR2_REPAIR)
                return rv_fs_par2_status(status, par2, FALSE, error);
        if (!rv_fs_par2_stage(run, dir, error))
                return FALSE;
        stage_dir = g_build_filename(run->work->path, RV_FS_WORK_PAR2, dir, NULL);
        if (!rv_fs_par2_run(&run->io, stage_dir, base, TRUE, &status, error) ||
            !rv_fs_par2_status(status, par2, TRUE, error))
                return FALSE;
        json_object_set_string_member(set, "result", "repaired");
        return TRUE;
}

gboolean
rv_fs_step_par2_run(RvFsRun *run, GError **error)
{
        JsonArray *sets = json_array_new();

        json_object_set_array_member(run->detail, "sets", sets);
        /* a repair cut short leaves half-written files: start it over */
        if (!rv_fs_remove_tree_at(run->work->fd, RV_FS_WORK_PAR2, error))
                return FALSE;
        for (guint i = 0; i < run->spec->files->len; i++) {
                const RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                if (rv_fs_is_par2_index(f->path) && !rv_fs_par2_one(run, f->path, sets, error))
                        return FALSE;
        }
        if (!rv_fs_exists_at(run->work->fd, RV_FS_WORK_PAR2))
                return TRUE;
        {
                g_autoptr(RvFsDir) stage = rv_fs_dir_open_at(run->work, RV_FS_WORK_PAR2, FALSE, error);
                return stage != NULL && rv_fs_sync_tree(stage->fd, TRUE, error);
        }
}

/* extract: each archive into x/<n>.tmp, renamed to x/<n> when whole */

gboolean
rv_fs_step_extract_plan(RvFsRun *run)
{
        return run->policy->extract && run->archives->len > 0;
}

/* where an archive's volumes are read from: the repaired copies when par2 made them */
static RvFsDir *
rv_fs_archive_source(RvFsRun *run, const RvFsArchive *archive, GError **error)
{
        g_autoptr(RvFsDir) repaired = NULL;

        if (rv_fs_exists_at(run->work->fd, RV_FS_WORK_PAR2)) {
                repaired = rv_fs_dir_open_at(run->work, RV_FS_WORK_PAR2, FALSE, error);
                if (repaired == NULL)
                        return NULL;
                if (rv_fs_exists_at(repaired->fd, g_ptr_array_index(archive->volumes, 0)))
                        return g_steal_pointer(&repaired);
        }
        return rv_fs_dir_open_at(run->source, ".", FALSE, error);
}

static gboolean
rv_fs_extract_one(RvFsRun *run, RvFsDir *x, guint index, const RvFsArchive *archive, JsonArray *done, GError **error)
{
        g_autofree char *name = g_strdup_printf("%u", index);
        g_autofree char *tmp = g_strdup_printf("%u.tmp", index);
        g_autoptr(RvFsDir) into = NULL;
        g_autoptr(RvFsDir) from = NULL;
        gint64 before = run->io.written;
        JsonObject *entry;

        /* extracted whole before a restart */
        if (rv_fs_exists_at(x->fd, name))
                return TRUE;
        if (!rv_fs_remove_tree_at(x->fd, tmp, error))
                return FALSE;
        into = rv_fs_dir_open_at(x, tmp, TRUE, error);
        from = into != NULL ? rv_fs_archive_source(run, archive, error) : NULL;
        if (from == NULL)
                return FALSE;
        if (!rv_fs_extract(&run->io, from->fd, archive, into->fd, run->policy->extract_max_ratio,
                           run->policy->extract_max_entries, error))
                return FALSE;
        /* whole on disk before it is whole by name */
        if (!rv_fs_sync_tree(into->fd, TRUE, error))
                return FALSE;
        if (renameat(x->fd, tmp, x->fd, name) < 0) {
                rv_fs_set_errno(error, errno, "cannot rename the extraction of '%s'",
                                (const char *)g_ptr_array_index(archive->volumes, 0));
                return FALSE;
        }
        entry = json_object_new();
        json_object_set_string_member(entry, "archive", g_ptr_array_index(archive->volumes, 0));
        json_object_set_int_member(entry, "volumes", archive->volumes->len);
        json_object_set_int_member(entry, "bytes", run->io.written - before);
        json_array_add_object_element(done, entry);
        return TRUE;
}

gboolean
rv_fs_step_extract_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) x = rv_fs_dir_open_at(run->work, RV_FS_WORK_EXTRACTED, TRUE, error);
        JsonArray *done = json_array_new();

        json_object_set_array_member(run->detail, "archives", done);
        if (x == NULL)
                return FALSE;
        for (guint i = 0; i < run->archives->len; i++) {
                if (!rv_fs_extract_one(run, x, i, g_ptr_array_index(run->archives, i), done, error))
                        return FALSE;
        }
        if (fsync(x->fd) < 0) {
                rv_fs_set_errno(error, errno, "cannot sync the extraction folder");
                return FALSE;
        }
        return TRUE;
}

/* place: the torrent's files into tree/ by the move mode, then what was extracted beside its archive */

gboolean
rv_fs_step_place_plan(RvFsRun *run)
{
        return !run->same_place || rv_fs_step_extract_plan(run);
}

static gboolean
rv_fs_place_files(RvFsRun *run, RvFsDir *tree, GError **error)
{
        g_autoptr(RvFsDir) repaired = NULL;
        gint64 counts[3] = { 0 };

        if (rv_fs_exists_at(run->work->fd, RV_FS_WORK_PAR2)) {
                repaired = rv_fs_dir_open_at(run->work, RV_FS_WORK_PAR2, FALSE, error);
                if (repaired == NULL)
                        return FALSE;
        }
        for (guint i = 0; i < run->spec->files->len; i++) {
                const RvFsFile *f = g_ptr_array_index(run->spec->files, i);
                int from = run->source->fd;
                RvFsPlaced how = RV_FS_PLACED_COPY;
                /* the library gets no control characters in its names; the torrent keeps its own */
                g_autofree char *name = rv_fs_sanitize_name(f->path);
                /* whole under its final name: placed before a restart */
                if (g_hash_table_contains(run->consumed, f->path) || rv_fs_exists_at(tree->fd, name))
                        continue;
                if (repaired != NULL && rv_fs_exists_at(repaired->fd, f->path))
                        from = repaired->fd;
                if (!rv_fs_place_file(&run->io, from, f->path, tree->fd, name, run->policy->move_mode, &how, error))
                        return FALSE;
                counts[how]++;
        }
        json_object_set_int_member(run->detail, "linked", counts[RV_FS_PLACED_LINK]);
        json_object_set_int_member(run->detail, "copied", counts[RV_FS_PLACED_COPY]);
        json_object_set_int_member(run->detail, "reflinked", counts[RV_FS_PLACED_REFLINK]);
        return TRUE;
}

/* x/<n> into tree/<the archive's folder>/ */
static gboolean
rv_fs_place_extracted(RvFsRun *run, RvFsDir *tree, GError **error)
{
        g_autoptr(RvFsDir) x = NULL;

        if (!rv_fs_exists_at(run->work->fd, RV_FS_WORK_EXTRACTED))
                return TRUE;
        x = rv_fs_dir_open_at(run->work, RV_FS_WORK_EXTRACTED, FALSE, error);
        if (x == NULL)
                return FALSE;
        for (guint i = 0; i < run->archives->len; i++) {
                const RvFsArchive *archive = g_ptr_array_index(run->archives, i);
                g_autofree char *name = g_strdup_printf("%u", i);
                g_autofree char *dir = g_path_get_dirname(g_ptr_array_index(archive->volumes, 0));
                g_autoptr(RvFsDir) from = NULL;
                g_autoptr(RvFsDir) into = NULL;
                if (!rv_fs_exists_at(x->fd, name))
                        continue;
                from = rv_fs_dir_open_at(x, name, FALSE, error);
                into = from != NULL ? rv_fs_dir_open_at(tree, dir, TRUE, error) : NULL;
                if (into == NULL || !rv_fs_merge_into(from->fd, into->fd, name, error))
                        return FALSE;
                if (unlinkat(x->fd, name, AT_REMOVEDIR) < 0) {
                        rv_fs_set_errno(error, errno, "cannot remove an emptied extraction folder");
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_fs_step_place_run(RvFsRun *run, GError **error)
{
        g_autoptr(RvFsDir) tree = rv_fs_dir_open_at(run->work, RV_FS_WORK_TREE, TRUE, error);

        if (tree == NULL)
                return FALSE;
        json_object_set_string_member(run->detail, "mode", rv_fs_move_mode_to_string(run->policy->move_mode));
        if (!run->same_place && !rv_fs_place_files(run, tree, error))
                return FALSE;
        /*
         * copies were synced one by one and extracted files at the end of their
         * step; the folders' entries (links, renames) are synced once, by the
         * commit after its renames: a file system that journals its metadata
         * in order (ext4, xfs) keeps no rename without the links before it
         */
        return rv_fs_place_extracted(run, tree, error);
}
