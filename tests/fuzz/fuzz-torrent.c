/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .torrent bytes, as AddTorrent, AddTorrentFd and the CLI hand them to the engine's parser */
#include "config.h"

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
        g_autoptr(GBytes) bytes = g_bytes_new(data, size);
        g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(rv_fuzz_engine(), bytes, NULL);

        if (source != NULL)
                rv_fuzz_check_source(source);
        return 0;
}
