/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

/* what the daemon accepts from a descriptor; a pipe is read here, up to the same bound */
#define RV_CLI_MAX_TORRENT_BYTES (64 * 1024 * 1024)
/* the event loop's exit code for SIGINT/SIGTERM */
#define RV_CLI_INTERRUPTED 130
/* plain progress lines (not a terminal) at most this often, unless the state changes */
#define RV_CLI_PLAIN_INTERVAL_USEC (2 * G_USEC_PER_SEC)

static gboolean opt_paused;
static gboolean opt_sequential;
static char *opt_save_path;
static char **opt_labels;
static char **opt_include;
static char **opt_exclude;
static gboolean opt_skip_fluff;
static char *opt_download_limit;
static char *opt_upload_limit;
static char **opt_peers;
static char *opt_fs;
static gboolean opt_wait;

static const GOptionEntry rv_cli_add_entries[] = {
        { "paused", 0, 0, G_OPTION_ARG_NONE, &opt_paused, N_("Add the torrent paused"), NULL },
        { "sequential", 0, 0, G_OPTION_ARG_NONE, &opt_sequential, N_("Download the pieces in order"), NULL },
        { "save-path", 0, 0, G_OPTION_ARG_FILENAME, &opt_save_path,
          N_("Directory for the data (default: the service's download directory)"), N_("DIR") },
        { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &opt_labels, N_("Attach a label (repeatable)"), N_("LABEL") },
        { "include", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &opt_include,
          N_("Download only files that match GLOB (repeatable)"), N_("GLOB") },
        { "exclude", 'x', 0, G_OPTION_ARG_STRING_ARRAY, &opt_exclude,
          N_("Leave out files that match GLOB (repeatable)"), N_("GLOB") },
        { "skip-fluff", 0, 0, G_OPTION_ARG_NONE, &opt_skip_fluff,
          N_("Leave out samples, extras, .nfo files and the like"), NULL },
        { "download-limit", 0, 0, G_OPTION_ARG_STRING, &opt_download_limit,
          N_("Download limit in bytes/s (K, M, G: KiB/s, MiB/s, GiB/s; 0: unlimited)"), N_("RATE") },
        { "upload-limit", 0, 0, G_OPTION_ARG_STRING, &opt_upload_limit,
          N_("Upload limit in bytes/s (K, M, G: KiB/s, MiB/s, GiB/s; 0: unlimited)"), N_("RATE") },
        { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_peers, N_("Connect to this peer at once (repeatable)"),
          N_("HOST:PORT") },
        { "fs", 0, 0, G_OPTION_ARG_STRING, &opt_fs,
          N_("The torrent's own file pipeline fields as JSON ({\"library_root\": \"/srv/x\", \"extract\": true})"),
          N_("JSON") },
        { "wait", 'w', 0, G_OPTION_ARG_NONE, &opt_wait, N_("Show progress and return when the download is complete"),
          NULL },
        G_OPTION_ENTRY_NULL,
};

/* options */

typedef struct {
        char *save_path;
        gint64 download_limit;
        gint64 upload_limit;
} RvCliAddOptions;

static void
rv_cli_add_options_clear(RvCliAddOptions *options)
{
        g_free(options->save_path);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RvCliAddOptions, rv_cli_add_options_clear)

static gboolean
rv_cli_add_options_parse(RvCliAddOptions *options, GError **error)
{
        if (opt_download_limit != NULL && !rv_cli_parse_rate(opt_download_limit, &options->download_limit, error))
                return FALSE;
        if (opt_upload_limit != NULL && !rv_cli_parse_rate(opt_upload_limit, &options->upload_limit, error))
                return FALSE;
        /* the service runs elsewhere: a relative directory means one relative to here */
        if (opt_save_path != NULL)
                options->save_path = g_canonicalize_filename(opt_save_path, NULL);
        return TRUE;
}

static int
rv_cli_append_strv_option(sd_bus_message *m, const char *key, char **strv)
{
        int r;

        if (strv == NULL)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, strv);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int
rv_cli_append_options(sd_bus_message *m, const RvCliAddOptions *options)
{
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0 && opt_paused)
                r = sd_bus_message_append(m, "{sv}", "paused", "b", 1);
        if (r >= 0 && opt_sequential)
                r = sd_bus_message_append(m, "{sv}", "sequential", "b", 1);
        if (r >= 0 && opt_skip_fluff)
                r = sd_bus_message_append(m, "{sv}", "skip_fluff", "b", 1);
        if (r >= 0 && options->save_path != NULL)
                r = sd_bus_message_append(m, "{sv}", "save_path", "s", options->save_path);
        if (r >= 0 && opt_download_limit != NULL)
                r = sd_bus_message_append(m, "{sv}", "download_limit", "x", (int64_t)options->download_limit);
        if (r >= 0 && opt_upload_limit != NULL)
                r = sd_bus_message_append(m, "{sv}", "upload_limit", "x", (int64_t)options->upload_limit);
        if (r >= 0)
                r = rv_cli_append_strv_option(m, "labels", opt_labels);
        if (r >= 0)
                r = rv_cli_append_strv_option(m, "include", opt_include);
        if (r >= 0)
                r = rv_cli_append_strv_option(m, "exclude", opt_exclude);
        if (r >= 0)
                r = rv_cli_append_strv_option(m, "peers", opt_peers);
        if (r >= 0 && opt_fs != NULL)
                r = sd_bus_message_append(m, "{sv}", "fs", "s", opt_fs);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* sources */

static gboolean
rv_cli_is_bare_hash(const char *text)
{
        gsize len = strlen(text);

        if (len == 40)
                return strspn(text, "0123456789abcdefABCDEF") == len;
        if (len == 32)
                return strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz") == len;
        return FALSE;
}

/* a pipe or a terminal cannot be handed over: the daemon reads without blocking */
static GBytes *
rv_cli_read_stream(int fd, const char *name, GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();

        for (;;) {
                guint8 chunk[65536];
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int errsv = errno;
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot read '%s': %s"), name,
                                    g_strerror(errsv));
                        return NULL;
                }
                if (n == 0)
                        break;
                if (buf->len + (gsize)n > RV_CLI_MAX_TORRENT_BYTES) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("'%s' is larger than %d bytes: not a .torrent file"), name,
                                    RV_CLI_MAX_TORRENT_BYTES);
                        return NULL;
                }
                g_byte_array_append(buf, chunk, (guint)n);
        }
        return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

/* the path of a file: URI naming this machine, or an error saying why not */
static char *
rv_cli_local_path_from_uri(const char *uri, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autofree char *host = NULL;
        g_autofree char *path = g_filename_from_uri(uri, &host, &error_local);

        if (path == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a file URI: %s"), uri,
                            error_local->message);
                return NULL;
        }
        if (host != NULL && g_ascii_strcasecmp(host, "localhost") != 0 &&
            g_ascii_strcasecmp(host, g_get_host_name()) != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("'%s' names a file on host '%s', not on this machine"), uri, host);
                return NULL;
        }
        return g_steal_pointer(&path);
}

/*
 * what a source names: desktop handlers pass .torrent files as file: URIs
 * (*source then points at the path, kept in ret_local); a magnet link, or a
 * bare info hash that is not a file, becomes the magnet to add (ret_magnet);
 * anything else is a file to read. FALSE when a file: URI cannot be used.
 */
static gboolean
rv_cli_resolve_source(const char **source, char **ret_local, char **ret_magnet, GError **error)
{
        if (g_ascii_strncasecmp(*source, "file:", 5) == 0) {
                *ret_local = rv_cli_local_path_from_uri(*source, error);
                if (*ret_local == NULL)
                        return FALSE;
                *source = *ret_local;
        }
        if (g_ascii_strncasecmp(*source, "magnet:", 7) == 0)
                *ret_magnet = g_strdup(*source);
        else if (rv_cli_is_bare_hash(*source) && !g_file_test(*source, G_FILE_TEST_EXISTS))
                *ret_magnet = g_strconcat("magnet:?xt=urn:btih:", *source, NULL);
        return TRUE;
}

/* AddMagnet for a magnet or a bare info hash, AddTorrentFd for a regular file, AddTorrent for a pipe */
static sd_bus_message *
rv_cli_new_add_call(RvCli *cli, const char *source, GError **error)
{
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autofree char *local = NULL;
        g_autofree char *magnet = NULL;
        gboolean is_stdin = g_str_equal(source, "-");
        struct stat st;
        int fd;
        int r;

        if (!rv_cli_resolve_source(&source, &local, &magnet, error))
                return NULL;
        if (magnet != NULL) {
                m = rv_cli_new_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddMagnet", error);
                if (m == NULL)
                        return NULL;
                r = sd_bus_message_append(m, "s", magnet);
                if (r < 0) {
                        rv_cli_set_bus_error(cli, NULL, r, error);
                        return NULL;
                }
                return g_steal_pointer(&m);
        }
        if (g_str_has_prefix(source, "http://") || g_str_has_prefix(source, "https://")) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("'%s': URLs are not supported, download the .torrent file first"), source);
                return NULL;
        }

        if (is_stdin && isatty(STDIN_FILENO)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("'-' reads a .torrent file from the standard input, which is a terminal"));
                return NULL;
        }
        fd = is_stdin ? STDIN_FILENO : open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int errsv = errno;
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot open '%s': %s"), source,
                            g_strerror(errsv));
                return NULL;
        }
        if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not a .torrent file"), source);
                if (!is_stdin)
                        close(fd);
                return NULL;
        }
        if (S_ISREG(st.st_mode)) {
                /* the daemon reads the file itself: large files do not travel through the bus */
                m = rv_cli_new_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrentFd", error);
                r = m != NULL ? sd_bus_message_append(m, "h", fd) : 0;
        } else {
                bytes = rv_cli_read_stream(fd, is_stdin ? _("standard input") : source, error);
                if (bytes != NULL)
                        m = rv_cli_new_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent", error);
                r = m != NULL ? sd_bus_message_append_array(m, 'y', g_bytes_get_data(bytes, NULL),
                                                            g_bytes_get_size(bytes))
                              : 0;
        }
        /* sd-bus keeps a duplicate of the descriptor */
        if (!is_stdin)
                close(fd);
        if (m == NULL)
                return NULL;
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return NULL;
        }
        return g_steal_pointer(&m);
}

/*
 * an add that got no answer may still have happened: the service holds the
 * reply until the torrent is stored, and may store it after the bus gave up
 * waiting or as it went away. Saying it failed would be a guess; say what is
 * known and how to find out.
 */
static GVariant *
rv_cli_send_unsure(RvCli *cli, sd_bus_message *m, GError **error)
{
        return rv_cli_send_full(
                cli, m, _("whether the torrent was added is not known; 'revaerctl list' shows it if it was"), error);
}

/* the options as a{sv}, for a call made of GVariants (over HTTP) */
static GVariant *
rv_cli_options_variant(const RvCliAddOptions *options)
{
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        if (opt_paused)
                g_variant_builder_add(&b, "{sv}", "paused", g_variant_new_boolean(TRUE));
        if (opt_sequential)
                g_variant_builder_add(&b, "{sv}", "sequential", g_variant_new_boolean(TRUE));
        if (opt_skip_fluff)
                g_variant_builder_add(&b, "{sv}", "skip_fluff", g_variant_new_boolean(TRUE));
        if (options->save_path != NULL)
                g_variant_builder_add(&b, "{sv}", "save_path", g_variant_new_string(options->save_path));
        if (opt_download_limit != NULL)
                g_variant_builder_add(&b, "{sv}", "download_limit", g_variant_new_int64(options->download_limit));
        if (opt_upload_limit != NULL)
                g_variant_builder_add(&b, "{sv}", "upload_limit", g_variant_new_int64(options->upload_limit));
        if (opt_labels != NULL)
                g_variant_builder_add(&b, "{sv}", "labels", g_variant_new_strv((const char *const *)opt_labels, -1));
        if (opt_include != NULL)
                g_variant_builder_add(&b, "{sv}", "include", g_variant_new_strv((const char *const *)opt_include, -1));
        if (opt_exclude != NULL)
                g_variant_builder_add(&b, "{sv}", "exclude", g_variant_new_strv((const char *const *)opt_exclude, -1));
        if (opt_peers != NULL)
                g_variant_builder_add(&b, "{sv}", "peers", g_variant_new_strv((const char *const *)opt_peers, -1));
        return g_variant_builder_end(&b);
}

/* over HTTP the file travels in the request: it is read here, a pipe or a regular file alike */
static char *
rv_cli_add_one_http(RvCli *cli, const char *source, const RvCliAddOptions *options, GError **error)
{
        g_autofree char *local = NULL;
        g_autofree char *magnet = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *path = NULL;

        if (!rv_cli_resolve_source(&source, &local, &magnet, error))
                return NULL;
        if (magnet != NULL) {
                reply = rv_cli_call_variant(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddMagnet",
                                            g_variant_new("(s@a{sv})", magnet, rv_cli_options_variant(options)), error);
        } else {
                gboolean is_stdin = g_str_equal(source, "-");
                int fd = is_stdin ? STDIN_FILENO : open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                g_autoptr(GBytes) bytes = NULL;
                if (fd < 0 || (is_stdin && isatty(STDIN_FILENO))) {
                        int errsv = errno;
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot open '%s': %s"), source,
                                    fd < 0 ? g_strerror(errsv) : _("the standard input is a terminal"));
                        return NULL;
                }
                bytes = rv_cli_read_stream(fd, is_stdin ? _("standard input") : source, error);
                if (!is_stdin)
                        close(fd);
                if (bytes == NULL)
                        return NULL;
                reply = rv_cli_call_variant(
                        cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                        g_variant_new("(@ay@a{sv})",
                                      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, g_bytes_get_data(bytes, NULL),
                                                                g_bytes_get_size(bytes), 1),
                                      rv_cli_options_variant(options)),
                        error);
        }
        if (reply == NULL || !rv_cli_reply_is(reply, "(o)", "AddMagnet", error))
                return NULL;
        g_variant_get(reply, "(&o)", &path);
        return g_strdup(path);
}

static char *
rv_cli_add_one(RvCli *cli, const char *source, const RvCliAddOptions *options, GError **error)
{
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *path = NULL;
        int r;

        if (cli->http != NULL)
                return rv_cli_add_one_http(cli, source, options, error);
        m = rv_cli_new_add_call(cli, source, error);
        if (m == NULL)
                return NULL;
        r = rv_cli_append_options(m, options);
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return NULL;
        }
        reply = rv_cli_send_unsure(cli, m, error);
        if (reply == NULL)
                return NULL;
        if (!rv_cli_reply_is(reply, "(o)", sd_bus_message_get_member(m), error))
                return NULL;
        g_variant_get(reply, "(&o)", &path);
        return g_strdup(path);
}

/* --wait: PropertiesChanged of the one torrent drives a progress bar */

typedef struct {
        RvCli *cli;
        const char *path;
        GVariantDict *props;
        gboolean tty;
        gboolean quiet;
        gboolean bar_shown;
        char *last_state;
        int last_decile;
        gint64 last_line_us;
        gboolean done;
        GError *error;
} RvCliWait;

static void
rv_cli_wait_clear(RvCliWait *w)
{
        g_clear_pointer(&w->props, g_variant_dict_unref);
        g_clear_pointer(&w->last_state, g_free);
        g_clear_error(&w->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RvCliWait, rv_cli_wait_clear)

static char *
rv_cli_wait_string(RvCliWait *w, const char *name)
{
        g_autoptr(GVariant) value = g_variant_dict_lookup_value(w->props, name, G_VARIANT_TYPE_STRING);

        return g_strdup(value != NULL ? g_variant_get_string(value, NULL) : "");
}

static gint64
rv_cli_wait_int(RvCliWait *w, const char *name)
{
        g_autoptr(GVariant) value = g_variant_dict_lookup_value(w->props, name, NULL);

        return rv_cli_variant_to_int64(value);
}

static double
rv_cli_wait_progress(RvCliWait *w)
{
        g_autoptr(GVariant) value = g_variant_dict_lookup_value(w->props, "Progress", G_VARIANT_TYPE_DOUBLE);

        return value != NULL ? CLAMP(g_variant_get_double(value), 0.0, 1.0) : 0.0;
}

static void
rv_cli_wait_end_bar(RvCliWait *w)
{
        if (!w->bar_shown)
                return;
        /* back to the start of the line and clear it */
        fputs("\r\033[K", stdout);
        fflush(stdout);
        w->bar_shown = FALSE;
}

static void
rv_cli_wait_draw(RvCliWait *w, const char *state)
{
        double progress = rv_cli_wait_progress(w);
        g_autofree char *percent = rv_cli_format_percent(progress);
        g_autofree char *done = rv_cli_format_size((guint64)MAX(rv_cli_wait_int(w, "Done"), 0));
        g_autofree char *wanted = rv_cli_format_size((guint64)MAX(rv_cli_wait_int(w, "WantedSize"), 0));
        g_autofree char *rate = rv_cli_format_rate((guint64)MAX(rv_cli_wait_int(w, "DownloadRate"), 0));
        g_autofree char *eta = rv_cli_format_eta(rv_cli_wait_int(w, "Eta"));
        g_autofree char *name = rv_cli_wait_string(w, "Name");
        g_autoptr(GString) line = g_string_new(NULL);
        guint width = rv_cli_output_width();
        /* the bar gives way first on a narrow terminal */
        guint bar_width = width == 0 || width >= 100 ? 24 : width >= 70 ? 16 : 8;
        guint filled = (guint)(progress * bar_width);

        if (!w->tty) {
                /* a log, not an animation: state changes and every tenth, not more than every few seconds */
                gint64 now = g_get_monotonic_time();
                int decile = (int)(progress * 10.0);
                gboolean state_changed = g_strcmp0(state, w->last_state) != 0;
                if (!state_changed && (decile <= w->last_decile || now - w->last_line_us < RV_CLI_PLAIN_INTERVAL_USEC))
                        return;
                w->last_decile = decile;
                w->last_line_us = now;
                /* TRANSLATORS: state, percentage, bytes done, bytes wanted, download rate */
                g_print(_("%s %s (%s of %s, %s)\n"), state, percent, done, wanted, rate);
                fflush(stdout);
                return;
        }
        g_string_append_printf(line, "%-11s [", state);
        for (guint i = 0; i < bar_width; i++)
                g_string_append_c(line, i < filled ? '#' : '-');
        g_string_append_printf(line, "] %6s  %s / %s  %s  ", percent, done, wanted, rate);
        /* TRANSLATORS: estimated time left, %s is a duration */
        g_string_append_printf(line, _("ETA %s"), eta);
        if (name[0] != '\0') {
                guint used = rv_cli_display_width(line->str) + 2;
                if (width == 0 || used + 8 < width) {
                        g_autofree char *shown = rv_cli_truncate(name, width > 0 ? width - used - 1 : 0, FALSE);
                        g_string_append_printf(line, "  %s", shown);
                }
        }
        {
                /* a line that wraps breaks the carriage return: narrow terminals lose the tail */
                g_autofree char *shown = rv_cli_truncate(line->str, width > 1 ? width - 1 : 0, FALSE);
                fputs("\r", stdout);
                fputs(shown, stdout);
                fputs("\033[K", stdout);
        }
        fflush(stdout);
        w->bar_shown = TRUE;
}

/* decides after every change: completed, failed, or one more frame */
static void
rv_cli_wait_check(RvCliWait *w)
{
        g_autofree char *state = rv_cli_wait_string(w, "State");
        g_autofree char *name = rv_cli_wait_string(w, "Name");

        if (rv_cli_wait_int(w, "Completed") != 0) {
                w->done = TRUE;
                if (!w->quiet) {
                        rv_cli_wait_end_bar(w);
                        g_print(_("Completed %s\n"), name[0] != '\0' ? name : rv_cli_path_to_hash(w->path));
                        fflush(stdout);
                }
                (void)sd_event_exit(w->cli->event, 0);
                return;
        }
        if (g_str_equal(state, "error")) {
                g_autofree char *reason = NULL;
                /* explicit: its invalidation may come in a signal of its own, after the state's */
                rv_cli_get_into(w->cli, w->path, RV_BUS_TORRENT_IFACE, (const char *const[]){ "Error", NULL },
                                w->props);
                reason = rv_cli_wait_string(w, "Error");
                g_set_error(&w->error, RV_ERROR, RV_ERROR_INTERNAL, _("torrent %s failed: %s"),
                            name[0] != '\0' ? name : rv_cli_path_to_hash(w->path),
                            reason[0] != '\0' ? reason : _("unknown error"));
                (void)sd_event_exit(w->cli->event, 0);
                return;
        }
        if (!w->quiet)
                rv_cli_wait_draw(w, state);
        g_free(w->last_state);
        w->last_state = g_steal_pointer(&state);
}

/* what the wait shows beside a list view's properties: explicit, read with Get */
static const char *const rv_cli_wait_explicit[] = { "WantedSize", "Error", NULL };

static gboolean
rv_cli_wait_refresh(RvCliWait *w, GError **error)
{
        g_autoptr(GVariant) props =
                rv_cli_get_all_with(w->cli, w->path, RV_BUS_TORRENT_IFACE, rv_cli_wait_explicit, error);

        if (props == NULL)
                return FALSE;
        g_clear_pointer(&w->props, g_variant_dict_unref);
        w->props = g_variant_dict_new(props);
        return TRUE;
}

static int
rv_cli_wait_changed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliWait *w = userdata;
        g_autoptr(GVariant) args = NULL;
        g_autoptr(GVariant) changed = NULL;
        g_autoptr(GVariant) invalidated = NULL;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        if (rv_cli_message_read_all(m, &args) < 0 || !g_variant_is_of_type(args, G_VARIANT_TYPE("(sa{sv}as)")))
                return 0;
        changed = g_variant_get_child_value(args, 1);
        invalidated = g_variant_get_child_value(args, 2);
        g_variant_iter_init(&iter, changed);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_variant_dict_insert_value(w->props, key, value);
                g_variant_unref(value);
        }
        /* an explicit property comes as invalidated: read again the ones shown */
        if (g_variant_n_children(invalidated) > 0) {
                g_autofree const char **names = g_variant_get_strv(invalidated, NULL);
                g_autoptr(GPtrArray) shown = g_ptr_array_new();
                for (guint i = 0; names[i] != NULL; i++) {
                        if (g_strv_contains(rv_cli_wait_explicit, names[i]))
                                g_ptr_array_add(shown, (gpointer)names[i]);
                }
                g_ptr_array_add(shown, NULL);
                rv_cli_get_into(w->cli, w->path, RV_BUS_TORRENT_IFACE, (const char *const *)shown->pdata, w->props);
        }
        rv_cli_wait_check(w);
        return 0;
}

static int
rv_cli_wait_removed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliWait *w = userdata;
        const char *path = NULL;

        if (sd_bus_message_read(m, "o", &path) <= 0 || g_strcmp0(path, w->path) != 0)
                return 0;
        g_set_error(&w->error, RV_ERROR, RV_ERROR_NOT_FOUND, _("torrent %s was removed before it completed"),
                    rv_cli_path_to_hash(w->path));
        (void)sd_event_exit(w->cli->event, 0);
        return 0;
}

static int
rv_cli_wait_owner_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCliWait *w = userdata;
        const char *name = NULL;
        const char *old_owner = NULL;
        const char *new_owner = NULL;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) <= 0 || g_strcmp0(name, RV_BUS_NAME) != 0 ||
            new_owner[0] != '\0')
                return 0;
        g_set_error(&w->error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("the Revaer service stopped"));
        (void)sd_event_exit(w->cli->event, 0);
        return 0;
}

/* --wait over HTTP: the torrent is read again twice a second */
static gboolean
rv_cli_wait_http(RvCli *cli, const char *path, GError **error)
{
        g_auto(RvCliWait) w = { 0 };

        w.cli = cli;
        w.path = path;
        w.tty = rv_cli_is_tty(stdout);
        w.quiet = cli->json;
        w.last_decile = -1;
        for (;;) {
                if (!rv_cli_wait_refresh(&w, error))
                        return FALSE;
                rv_cli_wait_check(&w);
                if (w.done || w.error != NULL)
                        break;
                g_usleep(G_USEC_PER_SEC / 2);
        }
        if (!w.quiet)
                rv_cli_wait_end_bar(&w);
        if (w.error != NULL) {
                g_propagate_error(error, g_steal_pointer(&w.error));
                return FALSE;
        }
        return TRUE;
}

static gboolean
rv_cli_wait(RvCli *cli, const char *path, GError **error)
{
        g_auto(RvCliWait) w = { 0 };
        g_autoptr(sd_bus_slot) changed_slot = NULL;
        g_autoptr(sd_bus_slot) removed_slot = NULL;
        g_autoptr(sd_bus_slot) owner_slot = NULL;
        sd_event *event;
        int r;

        if (cli->http != NULL)
                return rv_cli_wait_http(cli, path, error);
        event = rv_cli_get_event(cli, error);
        if (event == NULL || !rv_cli_add_exit_signals(cli, RV_CLI_INTERRUPTED, error))
                return FALSE;
        w.cli = cli;
        w.path = path;
        w.tty = rv_cli_is_tty(stdout);
        w.quiet = cli->json;
        w.last_decile = -1;
        (void)sd_bus_set_exit_on_disconnect(cli->bus, TRUE);

        /* subscribed first, then read: a change in between is seen twice, never missed */
        r = sd_bus_match_signal(cli->bus, &changed_slot, RV_BUS_NAME, path, RV_BUS_PROPERTIES_IFACE,
                                "PropertiesChanged", rv_cli_wait_changed_cb, &w);
        if (r >= 0)
                r = sd_bus_match_signal(cli->bus, &removed_slot, RV_BUS_NAME, RV_BUS_PATH, RV_BUS_MANAGER_IFACE,
                                        "TorrentRemoved", rv_cli_wait_removed_cb, &w);
        if (r >= 0)
                r = rv_cli_match_service_owner(cli, &owner_slot, rv_cli_wait_owner_cb, &w);
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return FALSE;
        }
        if (!rv_cli_wait_refresh(&w, error))
                return FALSE;
        rv_cli_wait_check(&w);
        r = w.done || w.error != NULL ? 0 : sd_event_loop(event);
        if (!w.quiet)
                rv_cli_wait_end_bar(&w);
        if (w.error != NULL) {
                g_propagate_error(error, g_steal_pointer(&w.error));
                return FALSE;
        }
        if (w.done)
                return TRUE;
        if (r == RV_CLI_INTERRUPTED)
                g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                                    _("interrupted; the torrent keeps downloading"));
        else
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("lost the connection to the %s bus"),
                            rv_cli_bus_label(cli));
        return FALSE;
}

static gboolean
rv_cli_add(RvCli *cli, char **args, GError **error)
{
        g_auto(RvCliAddOptions) options = { 0 };
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(JsonBuilder) builder = json_builder_new();

        if (args[0] == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("missing MAGNET or FILE argument"));
                return FALSE;
        }
        if (opt_wait && args[1] != NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("--wait follows one torrent: add them one at a time"));
                return FALSE;
        }
        if (!rv_cli_add_options_parse(&options, error))
                return FALSE;

        json_builder_begin_array(builder);
        for (guint i = 0; args[i] != NULL; i++) {
                g_autofree char *path = rv_cli_add_one(cli, args[i], &options, error);
                g_autoptr(GVariant) name = NULL;
                const char *hash;
                if (path == NULL)
                        return FALSE;
                hash = rv_cli_path_to_hash(path);
                /* a magnet has no name until the metadata arrives; an empty one is fine */
                name = rv_cli_get_property(cli, path, RV_BUS_TORRENT_IFACE, "Name", NULL);
                if (cli->json) {
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "info_hash");
                        json_builder_add_string_value(builder, hash);
                        json_builder_set_member_name(builder, "name");
                        json_builder_add_string_value(builder,
                                                      name != NULL && g_variant_is_of_type(name, G_VARIANT_TYPE_STRING)
                                                              ? g_variant_get_string(name, NULL)
                                                              : "");
                        json_builder_set_member_name(builder, "object_path");
                        json_builder_add_string_value(builder, path);
                        json_builder_end_object(builder);
                } else if (name != NULL && g_variant_is_of_type(name, G_VARIANT_TYPE_STRING) &&
                           g_variant_get_string(name, NULL)[0] != '\0') {
                        /* TRANSLATORS: info hash and name of a torrent */
                        g_print(_("Added %s %s\n"), hash, g_variant_get_string(name, NULL));
                } else {
                        g_print(_("Added %s\n"), hash);
                }
                fflush(stdout);
                g_ptr_array_add(paths, g_steal_pointer(&path));
        }
        json_builder_end_array(builder);
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
        }
        if (opt_wait)
                return rv_cli_wait(cli, g_ptr_array_index(paths, 0), error);
        return TRUE;
}

const RvCliCommand rv_cli_add_commands[] = {
        { "add", N_("MAGNET|FILE|-…"), N_("Add torrents from magnet links or .torrent files"), rv_cli_add_entries,
          rv_cli_add },
        { NULL, NULL, NULL, NULL, NULL },
};
