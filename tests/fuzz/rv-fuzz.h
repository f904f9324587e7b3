/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * what every libFuzzer target shares: GLib criticals abort (a g_return_if_fail
 * that fires on outside input is a bug), input as text, JSON or lines, a
 * private temp directory, and the checks on a parsed engine source
 */

#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-engine.h"

G_BEGIN_DECLS

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* once per process: criticals and warnings abort (so libFuzzer keeps the input), debug output off */
void rv_fuzz_init(void);

/* the input as a NUL-terminated string (stops at an embedded NUL) */
char *rv_fuzz_text(const uint8_t *data, size_t size);
/* the input as lines ("\n"), without the newlines */
GStrv rv_fuzz_lines(const uint8_t *data, size_t size);
/* the input as a JSON document, NULL when it is not one; immutable as the store's load reads records */
JsonNode *rv_fuzz_json(const uint8_t *data, size_t size, gboolean immutable);

/*
 * a request body as soup_message_body_flatten() gives it: NUL-terminated
 * past its length (libsoup's multipart reader runs strstr() on it)
 */
GBytes *rv_fuzz_flattened(const void *data, gsize len);

/* a directory of this process's own (on tmpfs where there is one), removed at exit */
const char *rv_fuzz_tmpdir(void);

/* a fake engine with the default settings, shared by the process */
RvEngine *rv_fuzz_engine(void);

/*
 * everything a caller may do with a parsed source: its info and options, and
 * a resume blob written from it that must parse back to the same torrent
 */
void rv_fuzz_check_source(RvEngineSource *source);

G_END_DECLS
