/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-error.h"
#include "rv-json.h"
#include "rv-selection.h"

static const char *const rv_fluff_globs[] = {
        "**/sample/**",  "**/samples/**",
        "**/extras/**",  "**/proof/**",
        "**/screens/**", "**/screenshots/**",
        "sample.*",      "*-sample.*",
        "*.sample.*",    "sample-*.*",
        "*.nfo",         "*.url",
        "*.lnk",         NULL,
};

const char *const *
rv_selection_fluff_globs(void)
{
        return rv_fluff_globs;
}

static gunichar
rv_glob_fold(gunichar c)
{
        return g_unichar_tolower(c);
}

/* returns the length of a class starting at '[', 0 when it is not closed */
static gsize
rv_glob_class_len(const char *p)
{
        const char *q = p + 1;

        if (*q == '!' || *q == '^')
                q++;
        /* a leading ']' is a literal member */
        if (*q == ']')
                q++;
        while (*q != '\0' && *q != ']') {
                if (*q == '\\' && q[1] != '\0')
                        q++;
                q = g_utf8_next_char(q);
        }
        if (*q != ']')
                return 0;
        return (gsize)(q - p) + 1;
}

static gboolean
rv_glob_class_match(const char *p, gsize len, gunichar c)
{
        const char *end = p + len - 1;
        const char *q = p + 1;
        gboolean negate = FALSE;
        gboolean first = TRUE;
        gboolean hit = FALSE;

        if (*q == '!' || *q == '^') {
                negate = TRUE;
                q++;
        }
        c = rv_glob_fold(c);
        while (q < end) {
                gunichar lo;
                gunichar hi;

                if (*q == ']' && !first)
                        break;
                first = FALSE;
                if (*q == '\\' && q + 1 < end)
                        q++;
                lo = rv_glob_fold(g_utf8_get_char(q));
                q = g_utf8_next_char(q);
                hi = lo;
                if (*q == '-' && q + 1 < end) {
                        q++;
                        if (*q == '\\' && q + 1 < end)
                                q++;
                        hi = rv_glob_fold(g_utf8_get_char(q));
                        q = g_utf8_next_char(q);
                }
                if (c >= lo && c <= hi)
                        hit = TRUE;
        }
        return hit != negate;
}

/*
 * backtracking matcher for '*' (one segment) and '**' (any depth); the result
 * depends only on the two offsets, so failed pairs are remembered once a match
 * gets expensive, which keeps hostile globs polynomial
 */
typedef struct {
        const char *pattern;
        const char *subject;
        gsize plen;
        gsize slen;
        guint steps;
        guint8 *failed;
} RvGlobCtx;

static gboolean
rv_glob_seen_failed(RvGlobCtx *ctx, const char *p, const char *s)
{
        gsize bit;

        if (ctx->failed == NULL)
                return FALSE;
        bit = (gsize)(p - ctx->pattern) * (ctx->slen + 1) + (gsize)(s - ctx->subject);
        return (ctx->failed[bit / 8] & (1u << (bit % 8))) != 0;
}

static void
rv_glob_mark_failed(RvGlobCtx *ctx, const char *p, const char *s)
{
        gsize bit;

        if (ctx->failed == NULL) {
                if (++ctx->steps < 4096)
                        return;
                ctx->failed = g_malloc0(((ctx->plen + 1) * (ctx->slen + 1)) / 8 + 1);
        }
        bit = (gsize)(p - ctx->pattern) * (ctx->slen + 1) + (gsize)(s - ctx->subject);
        ctx->failed[bit / 8] |= (guint8)(1u << (bit % 8));
}

static gboolean rv_glob_match_here(RvGlobCtx *ctx, const char *p, const char *s);

/*
 * a star tries the rest of the glob at every later offset: at each one up to
 * the end of the segment for '*', of the path for '**'. Whether the rest
 * matches from some offset on depends on that offset alone, so a failed try
 * is remembered under the star (the second star of '**', whose own state
 * also holds its zero-directory case) and ends any later try that reaches
 * it: each offset is tried once per star, and a match costs glob length
 * times path length instead of that times the path length again
 */
static gboolean
rv_glob_match_star(RvGlobCtx *ctx, const char *p, const char *s)
{
        const gboolean twice = p[1] == '*';
        const char *rest = twice ? p + 2 : p + 1;
        const char *loop = twice ? p + 1 : p;
        const char *t;

        /* "**" followed by '/' also matches zero directories */
        if (twice && *rest == '/' && rv_glob_match_here(ctx, rest + 1, s))
                return TRUE;
        for (t = s;; t = g_utf8_next_char(t)) {
                if (rv_glob_seen_failed(ctx, loop, t))
                        break;
                if (rv_glob_match_here(ctx, rest, t))
                        return TRUE;
                if (*t == '\0' || (!twice && *t == '/'))
                        break;
        }
        for (const char *u = s; u != t; u = g_utf8_next_char(u))
                rv_glob_mark_failed(ctx, loop, u);
        rv_glob_mark_failed(ctx, loop, t);
        return FALSE;
}

static gboolean
rv_glob_match_here(RvGlobCtx *ctx, const char *p, const char *s)
{
        const char *p0 = p;
        const char *s0 = s;

        if (rv_glob_seen_failed(ctx, p, s))
                return FALSE;
        while (*p != '\0') {
                if (*p == '*') {
                        if (rv_glob_match_star(ctx, p, s))
                                return TRUE;
                        break;
                }
                if (*s == '\0')
                        break;
                if (*p == '?') {
                        if (*s == '/')
                                break;
                        p++;
                        s = g_utf8_next_char(s);
                        continue;
                }
                if (*p == '[') {
                        gsize len = rv_glob_class_len(p);
                        if (len > 0) {
                                if (*s == '/' || !rv_glob_class_match(p, len, g_utf8_get_char(s)))
                                        break;
                                p += len;
                                s = g_utf8_next_char(s);
                                continue;
                        }
                }
                if (*p == '\\' && p[1] != '\0')
                        p++;
                if (rv_glob_fold(g_utf8_get_char(p)) != rv_glob_fold(g_utf8_get_char(s)))
                        break;
                p = g_utf8_next_char(p);
                s = g_utf8_next_char(s);
        }
        if (*p == '\0' && *s == '\0')
                return TRUE;
        rv_glob_mark_failed(ctx, p0, s0);
        return FALSE;
}

static gboolean
rv_glob_match_at(const char *glob, const char *subject, gboolean at_any_segment)
{
        RvGlobCtx ctx = { glob, subject, strlen(glob), strlen(subject), 0, NULL };
        const char *s = subject;
        gboolean ret;

        /* one memory for every segment start: a state is the same wherever the try began */
        for (;;) {
                ret = rv_glob_match_here(&ctx, glob, s);
                if (ret || !at_any_segment)
                        break;
                s = strchr(s, '/');
                if (s == NULL)
                        break;
                s++;
        }
        g_free(ctx.failed);
        return ret;
}

gboolean
rv_glob_validate(const char *glob, GError **error)
{
        if (glob == NULL || glob[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "empty glob");
                return FALSE;
        }
        if (strlen(glob) > RV_SELECTION_MAX_GLOB_LEN) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "glob longer than %d bytes",
                            RV_SELECTION_MAX_GLOB_LEN);
                return FALSE;
        }
        if (!g_utf8_validate(glob, -1, NULL)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "glob is not valid UTF-8");
                return FALSE;
        }
        for (const char *p = glob; *p != '\0'; p++) {
                if (*p == '\\') {
                        if (p[1] == '\0') {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "glob '%s' ends with a lone backslash", glob);
                                return FALSE;
                        }
                        p++;
                        continue;
                }
                if (*p == '[') {
                        gsize len = rv_glob_class_len(p);
                        if (len == 0) {
                                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "glob '%s' has an unclosed '['",
                                            glob);
                                return FALSE;
                        }
                        p += len - 1;
                        continue;
                }
                if (*p == ']') {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "glob '%s' has an unmatched ']'", glob);
                        return FALSE;
                }
                /* "***" is a typo nobody means */
                if (p[0] == '*' && p[1] == '*' && p[2] == '*') {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "glob '%s' has '***'", glob);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
rv_glob_match(const char *glob, const char *path)
{
        if (glob == NULL || path == NULL)
                return FALSE;
        if (glob[0] == '/')
                return rv_glob_match_at(glob + 1, path, FALSE);
        if (strchr(glob, '/') == NULL) {
                const char *base = strrchr(path, '/');
                return rv_glob_match_at(glob, base != NULL ? base + 1 : path, FALSE);
        }
        /* unanchored: try at every segment boundary */
        return rv_glob_match_at(glob, path, TRUE);
}

static gboolean
rv_selection_validate_list(const char *const *globs, const char *what, GError **error)
{
        guint n = globs != NULL ? g_strv_length((GStrv)globs) : 0;

        if (n > RV_SELECTION_MAX_GLOBS) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s has %u globs, at most %d are allowed", what,
                            n, RV_SELECTION_MAX_GLOBS);
                return FALSE;
        }
        for (guint i = 0; i < n; i++) {
                g_autoptr(GError) error_local = NULL;
                if (g_strcmp0(globs[i], RV_SELECTION_SKIP_FLUFF_TOKEN) == 0)
                        continue;
                if (!rv_glob_validate(globs[i], &error_local)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s[%u]: %s", what, i,
                                    error_local->message);
                        return FALSE;
                }
        }
        return TRUE;
}

static GStrv
rv_selection_strip_token(const char *const *globs, gboolean *ret_found)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

        for (guint i = 0; globs != NULL && globs[i] != NULL; i++) {
                if (g_strcmp0(globs[i], RV_SELECTION_SKIP_FLUFF_TOKEN) == 0) {
                        *ret_found = TRUE;
                        continue;
                }
                g_strv_builder_add(builder, globs[i]);
        }
        return g_strv_builder_end(builder);
}

RvSelection *
rv_selection_new(const char *const *include, const char *const *exclude, gboolean skip_fluff, GError **error)
{
        g_autoptr(RvSelection) selection = g_new0(RvSelection, 1);
        gboolean token = FALSE;

        if (!rv_selection_validate_list(include, "include", error))
                return NULL;
        if (!rv_selection_validate_list(exclude, "exclude", error))
                return NULL;
        if (include != NULL && g_strv_contains(include, RV_SELECTION_SKIP_FLUFF_TOKEN)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "include: '%s' belongs in the exclude list",
                            RV_SELECTION_SKIP_FLUFF_TOKEN);
                return NULL;
        }
        selection->include = g_strdupv((GStrv)(include != NULL ? include : (const char *const[]){ NULL }));
        selection->exclude = rv_selection_strip_token(exclude, &token);
        selection->skip_fluff = skip_fluff || token;
        return g_steal_pointer(&selection);
}

RvSelection *
rv_selection_copy(const RvSelection *selection)
{
        RvSelection *copy = g_new0(RvSelection, 1);

        copy->include = g_strdupv(selection->include);
        copy->exclude = g_strdupv(selection->exclude);
        copy->skip_fluff = selection->skip_fluff;
        return copy;
}

void
rv_selection_free(RvSelection *selection)
{
        if (selection == NULL)
                return;
        g_strfreev(selection->include);
        g_strfreev(selection->exclude);
        g_free(selection);
}

gboolean
rv_selection_is_empty(const RvSelection *selection)
{
        return selection == NULL || (g_strv_length(selection->include) == 0 && g_strv_length(selection->exclude) == 0 &&
                                     !selection->skip_fluff);
}

gboolean
rv_selection_equal(const RvSelection *a, const RvSelection *b)
{
        if (rv_selection_is_empty(a) || rv_selection_is_empty(b))
                return rv_selection_is_empty(a) == rv_selection_is_empty(b);
        return a->skip_fluff == b->skip_fluff &&
               g_strv_equal((const char *const *)a->include, (const char *const *)b->include) &&
               g_strv_equal((const char *const *)a->exclude, (const char *const *)b->exclude);
}

static gboolean
rv_selection_any(const char *const *globs, const char *path)
{
        for (guint i = 0; globs != NULL && globs[i] != NULL; i++) {
                if (rv_glob_match(globs[i], path))
                        return TRUE;
        }
        return FALSE;
}

gboolean
rv_selection_wants(const RvSelection *selection, const char *path)
{
        if (rv_selection_is_empty(selection))
                return TRUE;
        if (g_strv_length(selection->include) > 0 && !rv_selection_any((const char *const *)selection->include, path))
                return FALSE;
        if (rv_selection_any((const char *const *)selection->exclude, path))
                return FALSE;
        if (selection->skip_fluff && rv_selection_any(rv_fluff_globs, path))
                return FALSE;
        return TRUE;
}

static JsonNode *
rv_strv_to_json(GStrv strv)
{
        JsonArray *array = json_array_new();
        JsonNode *node = json_node_new(JSON_NODE_ARRAY);

        for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
                json_array_add_string_element(array, strv[i]);
        json_node_take_array(node, array);
        return node;
}

JsonNode *
rv_selection_to_json(const RvSelection *selection)
{
        JsonObject *obj = json_object_new();
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);

        json_object_set_member(obj, "include", rv_strv_to_json(selection != NULL ? selection->include : NULL));
        json_object_set_member(obj, "exclude", rv_strv_to_json(selection != NULL ? selection->exclude : NULL));
        json_object_set_boolean_member(obj, "skip_fluff", selection != NULL && selection->skip_fluff);
        json_node_take_object(node, obj);
        return node;
}

void
rv_selection_write_json(const RvSelection *selection, RvJsonWriter *w)
{
        rv_json_writer_begin_object(w);
        rv_json_writer_name(w, "include");
        rv_json_writer_strv(w, selection != NULL ? (const char *const *)selection->include : NULL);
        rv_json_writer_name(w, "exclude");
        rv_json_writer_strv(w, selection != NULL ? (const char *const *)selection->exclude : NULL);
        rv_json_writer_name(w, "skip_fluff");
        rv_json_writer_boolean(w, selection != NULL && selection->skip_fluff);
        rv_json_writer_end_object(w);
}

static GStrv
rv_strv_from_json(JsonObject *obj, const char *member, GError **error)
{
        JsonNode *node = json_object_get_member(obj, member);
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        JsonArray *array;

        if (node == NULL || JSON_NODE_HOLDS_NULL(node))
                return g_strv_builder_end(builder);
        if (!JSON_NODE_HOLDS_ARRAY(node)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: expected an array of strings", member);
                return NULL;
        }
        array = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonNode *elem = json_array_get_element(array, i);
                if (!JSON_NODE_HOLDS_VALUE(elem) || json_node_get_value_type(elem) != G_TYPE_STRING) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s[%u]: expected a string", member, i);
                        return NULL;
                }
                g_strv_builder_add(builder, json_node_get_string(elem));
        }
        return g_strv_builder_end(builder);
}

RvSelection *
rv_selection_from_json(JsonNode *node, GError **error)
{
        JsonObject *obj;
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;

        if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "selection: expected an object");
                return NULL;
        }
        obj = json_node_get_object(node);
        include = rv_strv_from_json(obj, "include", error);
        if (include == NULL)
                return NULL;
        exclude = rv_strv_from_json(obj, "exclude", error);
        if (exclude == NULL)
                return NULL;
        return rv_selection_new((const char *const *)include, (const char *const *)exclude,
                                rv_json_object_get_boolean_or(obj, "skip_fluff", FALSE), error);
}
