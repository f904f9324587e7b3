/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-fsops-run.h"

/*
 * par2cmdline (Debian's par2) as a child process: it verifies and repairs
 * better than anything Revaer could link, and a child that crashes on a
 * hostile recovery file takes nothing else with it. Repair never writes into
 * a file it checks: it renames a damaged file to "<name>.1" and writes the
 * repaired one anew, which is why a folder of hardlinks to the torrent's
 * files is a safe place to repair in.
 */
gboolean
rv_fs_par2_run(RvFsIo *io, const char *dir, const char *par2_name, gboolean repair, gint *ret_status, GError **error)
{
        g_autofree char *program = g_find_program_in_path("par2");
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GError) error_local = NULL;

        if (program == NULL) {
                rv_fs_set_error(error, RV_FS_FAILURE_PAR2_UNAVAILABLE,
                                "the par2 program is not installed (Debian package par2)");
                return FALSE;
        }
        launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        g_subprocess_launcher_set_cwd(launcher, dir);
        child = g_subprocess_launcher_spawn(launcher, &error_local, program, repair ? "r" : "v", "-q", "-q", "--",
                                            par2_name, NULL);
        if (child == NULL) {
                rv_fs_set_error(error, RV_FS_FAILURE_PAR2_FAILED, "cannot run par2: %s", error_local->message);
                return FALSE;
        }
        if (!g_subprocess_wait(child, io->cancellable, &error_local)) {
                g_subprocess_force_exit(child);
                (void)g_subprocess_wait(child, NULL, NULL);
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        if (!g_subprocess_get_if_exited(child)) {
                rv_fs_set_error(error, RV_FS_FAILURE_PAR2_FAILED, "par2 was killed by signal %d",
                                g_subprocess_get_term_sig(child));
                return FALSE;
        }
        *ret_status = g_subprocess_get_exit_status(child);
        return TRUE;
}
