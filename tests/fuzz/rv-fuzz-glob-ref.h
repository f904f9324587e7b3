/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * the glob matcher as it was before it was made linear (rv-selection.c),
 * kept as the reference the fuzz target compares the real one with on short
 * inputs: its answers were right, only its time on hostile globs was not
 */

#include <string.h>

#include <glib.h>

static gunichar
ref_glob_fold(gunichar c)
{
        return g_unichar_tolower(c);
}

/* returns the length of a class starting at '[', 0 when it is not closed */
static gsize
ref_glob_class_len(const char *p)
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
ref_glob_class_match(const char *p, gsize len, gunichar c)
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
        c = ref_glob_fold(c);
        while (q < end) {
                gunichar lo;
                gunichar hi;

                if (*q == ']' && !first)
                        break;
                first = FALSE;
                if (*q == '\\' && q + 1 < end)
                        q++;
                lo = ref_glob_fold(g_utf8_get_char(q));
                q = g_utf8_next_char(q);
                hi = lo;
                if (*q == '-' && q + 1 < end) {
                        q++;
                        if (*q == '\\' && q + 1 < end)
                                q++;
                        hi = ref_glob_fold(g_utf8_get_char(q));
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
} RefGlobCtx;

static gboolean
ref_glob_seen_failed(RefGlobCtx *ctx, const char *p, const char *s)
{
        gsize bit;

        if (ctx->failed == NULL)
                return FALSE;
        bit = (gsize)(p - ctx->pattern) * (ctx->slen + 1) + (gsize)(s - ctx->subject);
        return (ctx->failed[bit / 8] & (1u << (bit % 8))) != 0;
}

static void
ref_glob_mark_failed(RefGlobCtx *ctx, const char *p, const char *s)
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

static gboolean ref_glob_match_here(RefGlobCtx *ctx, const char *p, const char *s);

static gboolean
ref_glob_match_star(RefGlobCtx *ctx, const char *p, const char *s)
{
        if (p[0] == '*' && p[1] == '*') {
                const char *rest = p + 2;
                /* "**" followed by '/' also matches zero directories */
                if (*rest == '/' && ref_glob_match_here(ctx, rest + 1, s))
                        return TRUE;
                for (const char *t = s;; t = g_utf8_next_char(t)) {
                        if (ref_glob_match_here(ctx, rest, t))
                                return TRUE;
                        if (*t == '\0')
                                return FALSE;
                }
        }
        for (const char *t = s;; t = g_utf8_next_char(t)) {
                if (ref_glob_match_here(ctx, p + 1, t))
                        return TRUE;
                if (*t == '\0' || *t == '/')
                        return FALSE;
        }
}

static gboolean
ref_glob_match_here(RefGlobCtx *ctx, const char *p, const char *s)
{
        const char *p0 = p;
        const char *s0 = s;

        if (ref_glob_seen_failed(ctx, p, s))
                return FALSE;
        while (*p != '\0') {
                if (*p == '*') {
                        if (ref_glob_match_star(ctx, p, s))
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
                        gsize len = ref_glob_class_len(p);
                        if (len > 0) {
                                if (*s == '/' || !ref_glob_class_match(p, len, g_utf8_get_char(s)))
                                        break;
                                p += len;
                                s = g_utf8_next_char(s);
                                continue;
                        }
                }
                if (*p == '\\' && p[1] != '\0')
                        p++;
                if (ref_glob_fold(g_utf8_get_char(p)) != ref_glob_fold(g_utf8_get_char(s)))
                        break;
                p = g_utf8_next_char(p);
                s = g_utf8_next_char(s);
        }
        if (*p == '\0' && *s == '\0')
                return TRUE;
        ref_glob_mark_failed(ctx, p0, s0);
        return FALSE;
}

static gboolean
ref_glob_match_at(const char *glob, const char *subject)
{
        RefGlobCtx ctx = { glob, subject, strlen(glob), strlen(subject), 0, NULL };
        gboolean ret = ref_glob_match_here(&ctx, glob, subject);

        g_free(ctx.failed);
        return ret;
}

static gboolean
ref_glob_match(const char *glob, const char *path)
{
        const char *s;

        if (glob[0] == '/')
                return ref_glob_match_at(glob + 1, path);
        if (strchr(glob, '/') == NULL) {
                const char *base = strrchr(path, '/');
                return ref_glob_match_at(glob, base != NULL ? base + 1 : path);
        }
        s = path;
        for (;;) {
                if (ref_glob_match_at(glob, s))
                        return TRUE;
                s = strchr(s, '/');
                if (s == NULL)
                        return FALSE;
                s++;
        }
}
