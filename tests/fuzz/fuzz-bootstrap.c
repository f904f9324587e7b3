/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revaerd.conf, read from a file as revaerd does at start */
#include "config.h"

#include <stdlib.h>

#include "rv-bootstrap.h"
#include "rv-fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char *path;
        RvBootstrap config;
        gboolean ok;

        if (path == NULL)
                path = g_build_filename(rv_fuzz_tmpdir(), "revaerd.conf", NULL);
        /* in place and without fsync: this file is rewritten for every input */
        if (!g_file_set_contents_full(path, (const char *)data, (gssize)size, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
                abort();
        rv_bootstrap_init(&config);
        ok = rv_bootstrap_load(&config, path, NULL);
        /* a file that loaded gives a complete configuration */
        if (ok && (config.log_level == NULL || config.store_backend == NULL || config.bus == NULL ||
                   config.engine.listen_interfaces == NULL || config.sources->len != 1))
                abort();
        rv_bootstrap_clear(&config);
        return 0;
}
