/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-json.h"

G_BEGIN_DECLS

/* bounds on client input */
#define RV_SELECTION_MAX_GLOBS 256
#define RV_SELECTION_MAX_GLOB_LEN 1024

/* the token that stands for the built-in fluff patterns in an exclude list */
#define RV_SELECTION_SKIP_FLUFF_TOKEN "@skip_fluff"

typedef struct {
        GStrv include;
        GStrv exclude;
        gboolean skip_fluff;
} RvSelection;

/*
 * globs: '*' and '?' stay within one path segment, '**' crosses segments,
 * '[abc]' / '[!a-z]' are classes, '\' escapes; matching is case-insensitive;
 * a glob without '/' matches a file's base name, one with '/' matches the
 * path at any depth unless it starts with '/', which anchors it at the root
 */
gboolean rv_glob_validate(const char *glob, GError **error);
gboolean rv_glob_match(const char *glob, const char *path);

/* takes copies; an "@skip_fluff" entry in exclude turns skip_fluff on */
RvSelection *rv_selection_new(const char *const *include, const char *const *exclude, gboolean skip_fluff,
                              GError **error);
RvSelection *rv_selection_copy(const RvSelection *selection);
void rv_selection_free(RvSelection *selection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvSelection, rv_selection_free)
gboolean rv_selection_is_empty(const RvSelection *selection);
gboolean rv_selection_equal(const RvSelection *a, const RvSelection *b);

/* TRUE when a file at this path is wanted */
gboolean rv_selection_wants(const RvSelection *selection, const char *path);
/* the fluff patterns, NULL-terminated */
const char *const *rv_selection_fluff_globs(void);

JsonNode *rv_selection_to_json(const RvSelection *selection);
/* the same object as rv_selection_to_json(), as text: {"include", "exclude", "skip_fluff"} */
void rv_selection_write_json(const RvSelection *selection, RvJsonWriter *w);
RvSelection *rv_selection_from_json(JsonNode *node, GError **error);

G_END_DECLS
