/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * CRC-32C (Castagnoli), as the embedded store's log and header carry it:
 * crc is the value so far (0 to start). With the CPU's crc32 instruction
 * where it has one (x86-64 with SSE 4.2), a table otherwise: the log's
 * writer sums every record on the way to the disk, before the add's reply.
 */
guint32 rv_crc32c(guint32 crc, const void *data, gsize len);
/* the table, whatever the CPU (tests compare the two) */
guint32 rv_crc32c_portable(guint32 crc, const void *data, gsize len);

G_END_DECLS
