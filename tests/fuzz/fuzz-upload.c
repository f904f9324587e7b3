/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POST /v1/torrents as a multipart/form-data upload: the first line of the
 * input is the Content-Type (with its boundary), the rest the body. The body
 * goes through libsoup's multipart reader as rv_http_add_multipart() calls
 * it, the parts through rv_http_upload_form_read(), the "options" part
 * through the add options as every source of the form gets them, and each
 * source into the add request the manager would be given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-add-options.h"
#include "rv-fuzz.h"
#include "rv-http-private.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

/* a refused form names the part, or says it has no source */
static void
check_refused(const GError *error)
{
        if (error == NULL || error->domain != RV_ERROR || error->code != RV_ERROR_INVALID_ARGUMENT)
                abort();
        if (!g_str_has_prefix(error->message, "part ") && !g_str_has_prefix(error->message, "options: ") &&
            !g_str_has_prefix(error->message, "torrent: ") && strstr(error->message, ": unknown part") == NULL)
                abort();
}

static void
check_sources(GPtrArray *sources, JsonObject *options)
{
        guint torrents = 0;

        if (sources->len == 0 || sources->len > RV_HTTP_MAX_PARTS)
                abort();
        for (guint i = 0; i < sources->len; i++) {
                RvHttpSource *s = g_ptr_array_index(sources, i);
                g_autoptr(RvAddOptions) one = rv_add_options_new();
                g_autoptr(GError) error = NULL;
                g_autofree char *want = NULL;

                /* exactly one of the two, named by its kind and its place among the sources */
                if ((s->magnet != NULL) == (s->torrent != NULL))
                        abort();
                want = g_strdup_printf("%s[%u]", s->magnet != NULL ? "magnet" : "torrent", torrents++);
                if (!g_str_equal(s->what, want))
                        abort();
                if (s->magnet != NULL && strlen(s->magnet) > 65536)
                        abort();
                if (options != NULL)
                        (void)rv_add_options_set_json_object(one, options, NULL, "options.", NULL);
                if (s->magnet != NULL)
                        rv_add_options_set_magnet(one, s->magnet);
                else
                        rv_add_options_set_torrent(one, s->torrent);
                if (rv_add_options_get_request(one, &error) == NULL && error == NULL)
                        abort();
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *nl = memchr(data, '\n', size);
        g_autofree char *type = NULL;
        g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
        g_autoptr(GBytes) body = NULL;
        g_autoptr(SoupMultipart) form = NULL;
        g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func((GDestroyNotify)rv_http_source_free);
        g_autoptr(JsonObject) options = NULL;
        g_autoptr(GError) error = NULL;

        if (nl == NULL)
                return 0;
        type = g_strndup((const char *)data, (gsize)(nl - (const char *)data));
        /* libsoup itself never lets a header value with a line break or a NUL through */
        if (strlen(type) != (gsize)(nl - (const char *)data) || strchr(type, '\r') != NULL)
                return 0;
        soup_message_headers_append(headers, "Content-Type", type);
        body = rv_fuzz_flattened(nl + 1, size - (gsize)(nl + 1 - (const char *)data));
        form = soup_multipart_new_from_message(headers, body);
        if (form == NULL || soup_multipart_get_length(form) > RV_HTTP_MAX_PARTS)
                return 0;
        if (!rv_http_upload_form_read(form, sources, &options, &error)) {
                check_refused(error);
                return 0;
        }
        if (error != NULL)
                abort();
        /* the options are read once before anything is added, as the daemon does */
        if (options != NULL) {
                g_autoptr(RvAddOptions) check = rv_add_options_new();
                if (!rv_add_options_set_json_object(check, options, NULL, "options.", &error)) {
                        if (error == NULL || !g_str_has_prefix(error->message, "options."))
                                abort();
                        return 0;
                }
        }
        check_sources(sources, options);
        return 0;
}
