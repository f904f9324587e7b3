/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rv-json.h"

static JsonNode *
rv_json_node_take_array(JsonArray *array)
{
        JsonNode *node = json_node_new(JSON_NODE_ARRAY);

        json_node_take_array(node, array);
        return node;
}

JsonNode *
rv_json_deep_copy(JsonNode *node)
{
        if (node == NULL)
                return NULL;
        if (JSON_NODE_HOLDS_OBJECT(node)) {
                JsonObject *in = json_node_get_object(node);
                JsonObject *out = json_object_new();
                JsonObjectIter iter;
                const char *name;
                JsonNode *member;
                json_object_iter_init(&iter, in);
                while (json_object_iter_next(&iter, &name, &member))
                        json_object_set_member(out, name, rv_json_deep_copy(member));
                return rv_json_node_take_object(out);
        }
        if (JSON_NODE_HOLDS_ARRAY(node)) {
                JsonArray *in = json_node_get_array(node);
                JsonArray *out = json_array_sized_new(json_array_get_length(in));
                for (guint i = 0; i < json_array_get_length(in); i++)
                        json_array_add_element(out, rv_json_deep_copy(json_array_get_element(in, i)));
                return rv_json_node_take_array(out);
        }
        return json_node_copy(node);
}

static gboolean
rv_json_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* where the first value of text ends; len when that cannot be told (the parser then says what is wrong) */
static gsize
rv_json_value_end(const char *text, gsize len)
{
        gsize i = 0;
        guint depth = 0;
        gboolean in_string = FALSE;

        while (i < len && rv_json_is_space(text[i]))
                i++;
        if (i < len && text[i] != '{' && text[i] != '[' && text[i] != '"') {
                /* a number, true, false or null: up to the first character none of them holds */
                while (i < len && text[i] != '\0' && strchr(" \t\r\n{}[]\",:", text[i]) == NULL)
                        i++;
                return i;
        }
        for (; i < len; i++) {
                char c = text[i];
                if (in_string && c == '\\') {
                        i++;
                } else if (in_string && c == '"') {
                        in_string = FALSE;
                        if (depth == 0)
                                return i + 1;
                } else if (!in_string && c == '"') {
                        in_string = TRUE;
                } else if (!in_string && (c == '{' || c == '[')) {
                        depth++;
                } else if (!in_string && (c == '}' || c == ']') && depth > 0 && --depth == 0) {
                        return i + 1;
                }
        }
        return len;
}

/*
 * The common case without json-glib's scanner, which was most of the time a
 * restart with 10,000 torrents spent reading their metadata: ASCII strings
 * with the short escapes, integers of up to 18 digits, decimals without an
 * exponent, true, false, null, and objects without a repeated name, nested
 * up to RV_JSON_SIMPLE_DEPTH. Anything else, an error included, is left to
 * json-glib, so what json-glib would make of the text (and say of a fault)
 * is what comes out either way.
 */
#define RV_JSON_SIMPLE_DEPTH 32

typedef struct {
        const char *p;
        const char *end;
        guint depth;
} RvJsonCursor;

static JsonNode *rv_json_simple_value(RvJsonCursor *c);

static void
rv_json_simple_space(RvJsonCursor *c)
{
        while (c->p < c->end && rv_json_is_space(*c->p))
                c->p++;
}

/* at the opening quote; the string's text, or NULL */
static char *
rv_json_simple_string(RvJsonCursor *c)
{
        const char *start = ++c->p;
        GString *buf = NULL;

        while (c->p < c->end) {
                guchar ch = (guchar)*c->p;
                char out;
                if (ch == '"') {
                        c->p++;
                        if (buf == NULL)
                                return g_strndup(start, (gsize)(c->p - 1 - start));
                        return g_string_free(buf, FALSE);
                }
                if (ch < 0x20 || ch > 0x7e)
                        break;
                if (ch != '\\') {
                        if (buf != NULL)
                                g_string_append_c(buf, (char)ch);
                        c->p++;
                        continue;
                }
                if (c->end - c->p < 2)
                        break;
                switch (c->p[1]) {
                case '"':
                case '\\':
                case '/':
                        out = c->p[1];
                        break;
                case 'b':
                        out = '\b';
                        break;
                case 'f':
                        out = '\f';
                        break;
                case 'n':
                        out = '\n';
                        break;
                case 'r':
                        out = '\r';
                        break;
                case 't':
                        out = '\t';
                        break;
                default:
                        /* \u and what is not JSON */
                        out = '\0';
                        break;
                }
                if (out == '\0')
                        break;
                if (buf == NULL)
                        buf = g_string_new_len(start, c->p - start);
                g_string_append_c(buf, out);
                c->p += 2;
        }
        if (buf != NULL)
                g_string_free(buf, TRUE);
        return NULL;
}

static JsonNode *
rv_json_simple_number(RvJsonCursor *c)
{
        const char *start = c->p;
        const char *p = c->p;
        gboolean negative = p < c->end && *p == '-';
        guint64 value = 0;
        guint digits = 0;

        if (negative)
                p++;
        for (; p < c->end && g_ascii_isdigit(*p); p++, digits++)
                value = value * 10 + (guint64)(*p - '0');
        /* none, a leading zero before another digit, or more than a gint64 surely holds */
        if (digits == 0 || digits > 18 || (digits > 1 && start[negative ? 1 : 0] == '0'))
                return NULL;
        if (p < c->end && *p == '.') {
                g_autofree char *copy = NULL;
                char *parsed_end = NULL;
                double d;
                guint fraction = 0;
                for (p++; p < c->end && g_ascii_isdigit(*p); p++)
                        fraction++;
                if (fraction == 0 || (p < c->end && (*p == 'e' || *p == 'E')))
                        return NULL;
                copy = g_strndup(start, (gsize)(p - start));
                d = g_ascii_strtod(copy, &parsed_end);
                if (parsed_end == NULL || *parsed_end != '\0')
                        return NULL;
                c->p = p;
                return json_node_init_double(json_node_alloc(), d);
        }
        if (p < c->end && (*p == 'e' || *p == 'E'))
                return NULL;
        c->p = p;
        return json_node_init_int(json_node_alloc(), negative ? -(gint64)value : (gint64)value);
}

static gboolean
rv_json_simple_word(RvJsonCursor *c, const char *word)
{
        gsize n = strlen(word);

        if ((gsize)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
                return FALSE;
        c->p += n;
        return TRUE;
}

static JsonNode *
rv_json_simple_object(RvJsonCursor *c)
{
        JsonObject *obj = json_object_new();

        c->p++;
        rv_json_simple_space(c);
        if (c->p < c->end && *c->p == '}') {
                c->p++;
                return rv_json_node_take_object(obj);
        }
        while (c->p < c->end && *c->p == '"') {
                g_autofree char *name = rv_json_simple_string(c);
                JsonNode *member;
                if (name == NULL || json_object_has_member(obj, name))
                        break;
                rv_json_simple_space(c);
                if (c->p >= c->end || *c->p != ':')
                        break;
                c->p++;
                rv_json_simple_space(c);
                member = rv_json_simple_value(c);
                if (member == NULL)
                        break;
                json_object_set_member(obj, name, member);
                rv_json_simple_space(c);
                if (c->p < c->end && *c->p == '}') {
                        c->p++;
                        return rv_json_node_take_object(obj);
                }
                if (c->p >= c->end || *c->p != ',')
                        break;
                c->p++;
                rv_json_simple_space(c);
        }
        json_object_unref(obj);
        return NULL;
}

static JsonNode *
rv_json_simple_array(RvJsonCursor *c)
{
        g_autoptr(JsonArray) array = json_array_new();

        c->p++;
        rv_json_simple_space(c);
        if (c->p < c->end && *c->p == ']') {
                c->p++;
                return rv_json_node_take_array(g_steal_pointer(&array));
        }
        for (;;) {
                JsonNode *element = rv_json_simple_value(c);
                if (element == NULL)
                        return NULL;
                json_array_add_element(array, element);
                rv_json_simple_space(c);
                if (c->p < c->end && *c->p == ']') {
                        c->p++;
                        return rv_json_node_take_array(g_steal_pointer(&array));
                }
                if (c->p >= c->end || *c->p != ',')
                        return NULL;
                c->p++;
                rv_json_simple_space(c);
        }
}

static JsonNode *
rv_json_simple_value(RvJsonCursor *c)
{
        JsonNode *node = NULL;

        if (c->p >= c->end)
                return NULL;
        switch (*c->p) {
        case '{':
        case '[':
                if (c->depth >= RV_JSON_SIMPLE_DEPTH)
                        return NULL;
                c->depth++;
                node = *c->p == '{' ? rv_json_simple_object(c) : rv_json_simple_array(c);
                c->depth--;
                return node;
        case '"': {
                g_autofree char *text = rv_json_simple_string(c);
                return text != NULL ? json_node_init_string(json_node_alloc(), text) : NULL;
        }
        case 't':
                return rv_json_simple_word(c, "true") ? json_node_init_boolean(json_node_alloc(), TRUE) : NULL;
        case 'f':
                return rv_json_simple_word(c, "false") ? json_node_init_boolean(json_node_alloc(), FALSE) : NULL;
        case 'n':
                return rv_json_simple_word(c, "null") ? json_node_init_null(json_node_alloc()) : NULL;
        default:
                return rv_json_simple_number(c);
        }
}

JsonNode *
rv_json_parse_simple(const char *text, gsize len)
{
        RvJsonCursor c = { text, text + len, 0 };
        JsonNode *root;

        rv_json_simple_space(&c);
        /* json-glib's own rules for a bare value at the top are its to apply */
        if (c.p >= c.end || (*c.p != '{' && *c.p != '['))
                return NULL;
        root = rv_json_simple_value(&c);
        if (root == NULL)
                return NULL;
        rv_json_simple_space(&c);
        if (c.p != c.end) {
                json_node_unref(root);
                return NULL;
        }
        return root;
}

JsonNode *
rv_json_parse(const char *text, gssize length, gboolean immutable, GError **error)
{
        g_autoptr(JsonParser) parser = NULL;
        gsize len = length < 0 ? strlen(text) : (gsize)length;
        JsonNode *root;

        for (gsize i = rv_json_value_end(text, len); i < len; i++) {
                if (!rv_json_is_space(text[i])) {
                        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                                    "more after the JSON value, at byte %" G_GSIZE_FORMAT, i);
                        return NULL;
                }
        }
        root = rv_json_parse_simple(text, len);
        if (root != NULL) {
                if (immutable)
                        json_node_seal(root);
                return root;
        }
        parser = immutable ? json_parser_new_immutable() : json_parser_new();
        if (!json_parser_load_from_data(parser, text, (gssize)len, error))
                return NULL;
        root = json_parser_get_root(parser);
        if (root == NULL) {
                g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "no JSON value");
                return NULL;
        }
        return json_node_ref(root);
}

/* writing */

/* runs of characters that need no escape go in one append: lists of 10,000 torrents are mostly those */
void
rv_json_append_string(GString *out, const char *s)
{
        const guchar *p = (const guchar *)(s != NULL ? s : "");

        g_string_append_c(out, '"');
        for (;;) {
                const guchar *run = p;
                while (*p >= 0x20 && *p != '"' && *p != '\\')
                        p++;
                if (p > run)
                        g_string_append_len(out, (const char *)run, p - run);
                if (*p == '\0')
                        break;
                switch (*p) {
                case '"':
                        g_string_append(out, "\\\"");
                        break;
                case '\\':
                        g_string_append(out, "\\\\");
                        break;
                case '\n':
                        g_string_append(out, "\\n");
                        break;
                case '\r':
                        g_string_append(out, "\\r");
                        break;
                case '\t':
                        g_string_append(out, "\\t");
                        break;
                default:
                        g_string_append_printf(out, "\\u%04x", *p);
                        break;
                }
                p++;
        }
        g_string_append_c(out, '"');
}

/* an integer without printf, which is most of the time of a long list */
void
rv_json_append_int(GString *out, gint64 v)
{
        char buf[24];
        int i = sizeof(buf);
        guint64 u = v < 0 ? (guint64)(-(v + 1)) + 1 : (guint64)v;

        do {
                buf[--i] = (char)('0' + u % 10);
                u /= 10;
        } while (u > 0);
        if (v < 0)
                buf[--i] = '-';
        g_string_append_len(out, buf + i, (gssize)sizeof(buf) - i);
}

void
rv_json_writer_init(RvJsonWriter *w, gsize reserve)
{
        w->out = g_string_sized_new(reserve);
        w->depth = 0;
        w->started = 0;
        w->after_name = FALSE;
}

char *
rv_json_writer_finish(RvJsonWriter *w, gsize *ret_length)
{
        if (ret_length != NULL)
                *ret_length = w->out->len;
        return g_string_free(g_steal_pointer(&w->out), FALSE);
}

static void
rv_json_writer_indent(RvJsonWriter *w)
{
        g_string_append_c(w->out, '\n');
        for (guint i = 0; i < w->depth; i++)
                g_string_append(w->out, "  ");
}

/* what goes before a value: nothing after a member's name, a comma between elements */
static void
rv_json_writer_value(RvJsonWriter *w)
{
        guint64 bit = G_GUINT64_CONSTANT(1) << MIN(w->depth, 63);

        if (w->after_name) {
                w->after_name = FALSE;
                return;
        }
        if (w->depth > 0 && (w->started & bit) != 0)
                g_string_append(w->out, ", ");
        w->started |= bit;
}

static void
rv_json_writer_open(RvJsonWriter *w, char c)
{
        rv_json_writer_value(w);
        g_string_append_c(w->out, c);
        w->depth++;
        w->started &= ~(G_GUINT64_CONSTANT(1) << MIN(w->depth, 63));
}

static void
rv_json_writer_close(RvJsonWriter *w, char c)
{
        gboolean had = (w->started & (G_GUINT64_CONSTANT(1) << MIN(w->depth, 63))) != 0;

        g_return_if_fail(w->depth > 0);
        w->depth--;
        if (c == '}' && had)
                rv_json_writer_indent(w);
        g_string_append_c(w->out, c);
}

void
rv_json_writer_begin_object(RvJsonWriter *w)
{
        rv_json_writer_open(w, '{');
}

void
rv_json_writer_end_object(RvJsonWriter *w)
{
        rv_json_writer_close(w, '}');
}

void
rv_json_writer_begin_array(RvJsonWriter *w)
{
        rv_json_writer_open(w, '[');
}

void
rv_json_writer_end_array(RvJsonWriter *w)
{
        rv_json_writer_close(w, ']');
}

/* as D-Bus strings and json-glib's parser need: text that is not UTF-8 is made so */
static void
rv_json_writer_quoted(GString *out, const char *value)
{
        g_autofree char *valid = NULL;

        if (!g_utf8_validate(value, -1, NULL))
                value = valid = g_utf8_make_valid(value, -1);
        rv_json_append_string(out, value);
}

void
rv_json_writer_name(RvJsonWriter *w, const char *name)
{
        guint64 bit = G_GUINT64_CONSTANT(1) << MIN(w->depth, 63);

        if ((w->started & bit) != 0)
                g_string_append_c(w->out, ',');
        w->started |= bit;
        rv_json_writer_indent(w);
        rv_json_writer_quoted(w->out, name);
        g_string_append(w->out, " : ");
        w->after_name = TRUE;
}

void
rv_json_writer_string(RvJsonWriter *w, const char *value)
{
        if (value == NULL) {
                rv_json_writer_null(w);
                return;
        }
        rv_json_writer_value(w);
        rv_json_writer_quoted(w->out, value);
}

void
rv_json_writer_int(RvJsonWriter *w, gint64 value)
{
        rv_json_writer_value(w);
        rv_json_append_int(w->out, value);
}

void
rv_json_writer_boolean(RvJsonWriter *w, gboolean value)
{
        rv_json_writer_value(w);
        g_string_append(w->out, value ? "true" : "false");
}

void
rv_json_writer_double(RvJsonWriter *w, double value)
{
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        if (!isfinite(value)) {
                rv_json_writer_null(w);
                return;
        }
        rv_json_writer_value(w);
        g_ascii_dtostr(buf, sizeof(buf), value);
        g_string_append(w->out, buf);
        if (strpbrk(buf, ".eE") == NULL)
                g_string_append(w->out, ".0");
}

void
rv_json_writer_null(RvJsonWriter *w)
{
        rv_json_writer_value(w);
        g_string_append(w->out, "null");
}

void
rv_json_writer_strv(RvJsonWriter *w, const char *const *strv)
{
        rv_json_writer_begin_array(w);
        for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
                rv_json_writer_string(w, strv[i]);
        rv_json_writer_end_array(w);
}

void
rv_json_writer_node(RvJsonWriter *w, JsonNode *node)
{
        g_autofree char *text = NULL;

        if (node == NULL) {
                rv_json_writer_null(w);
                return;
        }
        text = json_to_string(node, FALSE);
        rv_json_writer_value(w);
        g_string_append(w->out, text);
}
