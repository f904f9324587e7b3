/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "rv-engine.h"
#include "rv-test-data.h"

#define HASH_A "0123456789abcdef0123456789abcdef01234567"

typedef struct {
        char *dir;
} Fixture;

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        fixture->dir = g_dir_make_tmp("rv-engine-source-XXXXXX", &error);
        g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
        rv_test_data_remove_tree(fixture->dir);
        g_free(fixture->dir);
}

/* ---- a little bencode writer for hand-crafted (hostile) torrents ---- */

static void
b_str_len(GString *out, const char *text, gsize len)
{
        g_string_append_printf(out, "%" G_GSIZE_FORMAT ":", len);
        g_string_append_len(out, text, (gssize)len);
}

static void
b_str(GString *out, const char *text)
{
        b_str_len(out, text, strlen(text));
}

static void
b_int(GString *out, gint64 value)
{
        g_string_append_printf(out, "i%" G_GINT64_FORMAT "e", value);
}

static void
b_pieces(GString *out, guint n)
{
        g_autofree char *zeros = g_malloc0(20 * n);
        b_str_len(out, zeros, 20 * n);
}

/* a v1 multi-file torrent with one file whose path elements are given (may contain NULs: lengths given) */
static GBytes *
craft_multi(const char *name, const char *const *elements, const gsize *lengths)
{
        GString *out = g_string_new("d4:infod5:filesld6:lengthi16384e4:pathl");

        for (guint i = 0; elements[i] != NULL; i++)
                b_str_len(out, elements[i], lengths != NULL ? lengths[i] : strlen(elements[i]));
        g_string_append(out, "eee");
        b_str(out, "name");
        b_str(out, name);
        b_str(out, "piece length");
        b_int(out, 16384);
        b_str(out, "pieces");
        b_pieces(out, 1);
        g_string_append(out, "ee");
        return g_string_free_to_bytes(out);
}

static GBytes *
craft_single(const char *name)
{
        GString *out = g_string_new("d4:infod6:lengthi16384e");

        b_str(out, "name");
        b_str(out, name);
        b_str(out, "piece length");
        b_int(out, 16384);
        b_str(out, "pieces");
        b_pieces(out, 1);
        g_string_append(out, "ee");
        return g_string_free_to_bytes(out);
}

/* a v2 torrent whose file tree holds name/<element>/file */
static GBytes *
craft_v2(const char *element)
{
        GString *out = g_string_new("d4:infod");
        g_autofree char *root = g_strnfill(32, (char)0x5a);

        b_str(out, "file tree");
        g_string_append(out, "d");
        b_str(out, "top");
        g_string_append(out, "d");
        b_str(out, element);
        g_string_append(out, "d0:d");
        b_str(out, "length");
        b_int(out, 16384);
        b_str(out, "pieces root");
        b_str_len(out, root, 32);
        g_string_append(out, "eeee");
        b_str(out, "meta version");
        b_int(out, 2);
        b_str(out, "name");
        b_str(out, "top");
        b_str(out, "piece length");
        b_int(out, 16384);
        g_string_append(out, "ee");
        return g_string_free_to_bytes(out);
}

static GBytes *
make_torrent(const char *path, guint piece_size)
{
        g_autoptr(GError) error = NULL;
        GBytes *bytes = rv_engine_create_torrent(path, piece_size, NULL, &error);

        g_assert_no_error(error);
        g_assert_nonnull(bytes);
        return bytes;
}

static void
assert_unsafe(GBytes *bytes, const char *fragment)
{
        g_autoptr(GBytes) owned = bytes;
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, owned, &error);

        g_assert_null(source);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "unsafe file name"));
        if (fragment != NULL && strstr(error->message, fragment) == NULL)
                g_error("'%s' does not name '%s'", error->message, fragment);
}

/* ---- tests ---- */

static void
test_info_hash(void)
{
        RvInfoHash a;
        RvInfoHash b;

        g_assert_true(rv_info_hash_parse(HASH_A, &a));
        g_assert_true(rv_info_hash_parse("0123456789ABCDEF0123456789ABCDEF01234567", &b));
        g_assert_cmpstr(b.hex, ==, HASH_A);
        g_assert_true(rv_info_hash_equal(&a, &b));
        g_assert_false(rv_info_hash_parse("0123", NULL));
        g_assert_false(rv_info_hash_parse("g123456789abcdef0123456789abcdef01234567", NULL));
        g_assert_false(rv_info_hash_parse(NULL, NULL));
}

static void
test_strings(void)
{
        RvEncryption enc;

        for (RvEncryption e = RV_ENCRYPTION_PREFER; e <= RV_ENCRYPTION_DISABLE; e++) {
                g_assert_true(rv_encryption_from_string(rv_encryption_to_string(e), &enc));
                g_assert_cmpint(enc, ==, e);
        }
        g_assert_false(rv_encryption_from_string("maybe", &enc));
        for (guint k = 0; k < RV_ENGINE_EVENT_LAST; k++)
                g_assert_cmpstr(rv_engine_event_kind_to_string(k), !=, "unknown");
        g_assert_cmpstr(rv_engine_event_kind_to_string(RV_ENGINE_EVENT_METADATA_REJECTED), ==, "metadata-rejected");
}

static void
test_settings(void)
{
        RvEngineSettings a;
        RvEngineSettings b;

        rv_engine_settings_init(&a);
        g_assert_nonnull(a.listen_interfaces);
        g_assert_cmpint(a.max_metadata_size, >, 0);
        rv_engine_settings_copy(&b, &a);
        g_assert_true(a.listen_interfaces != b.listen_interfaces);
        g_assert_cmpstr(a.listen_interfaces, ==, b.listen_interfaces);
        rv_engine_settings_clear(&a);
        rv_engine_settings_clear(&b);
        rv_engine_settings_clear(&b);
        g_assert_null(b.listen_interfaces);
}

static void
test_magnet_good(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        g_autoptr(RvEngineSource) base32 = NULL;
        const RvEngineSourceInfo *info;

        source = rv_engine_source_new_magnet(NULL, "magnet:?xt=urn:btih:" HASH_A "&dn=Some%20Name&x.pe=127.0.0.1:6881",
                                             &error);
        g_assert_no_error(error);
        info = rv_engine_source_get_info(source);
        g_assert_cmpstr(info->hash.hex, ==, HASH_A);
        g_assert_cmpstr(info->name, ==, "Some Name");
        g_assert_false(info->has_metadata);
        g_assert_null(info->files);

        /* base32 btih comes out as hex */
        base32 = rv_engine_source_new_magnet(NULL, "magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(rv_engine_source_get_info(base32)->hash.hex, ==, HASH_A);
        g_assert_null(rv_engine_source_get_info(base32)->name);
}

static void
test_magnet_bad(void)
{
        const char *const bad[] = {
                "http://example.com/x.torrent", "magnet:?dn=no-hash", "magnet:?xt=urn:btih:zzzz", "magnet:", "",
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_magnet(NULL, bad[i], &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
}

/*
 * reliability issue, defect 7: libtorrent reads a btih with bad digits as some
 * other hash ('1' as 'I' in base32, hex up to the first bad digit) and drops
 * an x.pe it cannot parse; both are refused, naming the field
 */
static void
assert_magnet_invalid(const char *uri, const char *field, const char *value)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngineSource) source = rv_engine_source_new_magnet(NULL, uri, &error);

        if (source != NULL)
                g_error("'%s' was taken as %s", uri, rv_engine_source_get_info(source)->hash.hex);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        if (strstr(error->message, field) == NULL || (value != NULL && strstr(error->message, value) == NULL))
                g_error("'%s' does not name %s '%s'", error->message, field, value != NULL ? value : "");
}

static void
test_magnet_hostile(void)
{
        /* the base32 of HASH_A with its last digit replaced: '1', '0' and '8' are not base32 */
        const char *const bad_btih[] = {
                "AERUKZ4JVPG66AJDIVTYTK6N54ASGRL1",         "AERUKZ4JVPG66AJDIVTYTK6N54ASGRL0",
                "AERUKZ4JVPG66AJDIVTYTK6N54ASGRL8",         "AERUKZ4JVPG66AJDIVTYTK6N54ASGR==",
                "g123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef0123456z",
                "0123456789abcdef 123456789abcdef01234567",
        };
        const char *const peers_bad[] = {
                "garbage", "1.2.3.4:0", "1.2.3.4", "example.com:80", "1.2.3.4:70000", "[::1]80", "",
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad_btih); i++) {
                g_autofree char *uri = g_strdup_printf("magnet:?xt=urn:btih:%s&dn=x", bad_btih[i]);
                assert_magnet_invalid(uri, "xt", bad_btih[i]);
        }
        {
                g_autofree char *btmh = g_strnfill(64, 'g');
                g_autofree char *uri = g_strdup_printf("magnet:?xt=urn:btmh:1220%s", btmh);
                assert_magnet_invalid(uri, "xt", btmh);
        }
        /* an escaped btih is checked once unescaped */
        assert_magnet_invalid("magnet:?xt=urn%3Abtih%3AAERUKZ4JVPG66AJDIVTYTK6N54ASGRL1", "xt", NULL);

        /* x.pe follows the rule of the peers option, which refuses the same */
        for (guint i = 0; i < G_N_ELEMENTS(peers_bad); i++) {
                g_autofree char *uri = g_strdup_printf("magnet:?xt=urn:btih:" HASH_A "&x.pe=%s", peers_bad[i]);
                g_autoptr(RvEngine) engine = rv_engine_new_fake(NULL);
                g_autoptr(GError) error = NULL;
                RvInfoHash hash;

                assert_magnet_invalid(uri, "x.pe", peers_bad[i]);
                g_assert_true(rv_info_hash_parse(HASH_A, &hash));
                g_assert_false(rv_engine_connect_peer(engine, &hash, peers_bad[i], &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
        /* a display name that is not UTF-8 would be a name no client can show */
        assert_magnet_invalid("magnet:?xt=urn:btih:" HASH_A "&dn=%FF%FE", "dn", NULL);
        assert_magnet_invalid("magnet:?xt=urn:btih:" HASH_A "&dn=%FF%zz", "dn", NULL);
        /* a stray '%' in a name is not worth refusing a link for */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source =
                        rv_engine_source_new_magnet(NULL, "magnet:?xt=urn:btih:" HASH_A "&dn=100%", &error);
                (void)source;
                g_assert_no_error(error);
        }

        /* good links still pass: either case of base32, escapes, several peers, a bracketed IPv6 peer */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_magnet(
                        NULL,
                        "magnet:?xt=urn%3Abtih%3AaeruKZ4JVPG66AJDIVTYTK6N54ASGRLH&x.pe=127.0.0.1:6881"
                        "&x.pe=%5B::1%5D:6882&dn=caf%C3%A9",
                        &error);
                const RvEngineSourceInfo *info;

                g_assert_no_error(error);
                info = rv_engine_source_get_info(source);
                g_assert_cmpstr(info->hash.hex, ==, HASH_A);
                g_assert_cmpstr(info->name, ==, "caf\xc3\xa9");
                g_assert_nonnull(info->peers);
                g_assert_cmpstr(info->peers[0], ==, "127.0.0.1:6881");
                g_assert_cmpstr(info->peers[1], ==, "[::1]:6882");
                g_assert_null(info->peers[2]);
        }
}

static void
test_torrent_single(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fixture->dir, "single.bin", NULL);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        const RvEngineSourceInfo *info;
        const RvEngineFile *file;

        g_assert_true(rv_test_data_write_file(path, 100000, 7, &error));
        bytes = make_torrent(path, 16384);
        source = rv_engine_source_new_torrent(NULL, bytes, &error);
        g_assert_no_error(error);
        info = rv_engine_source_get_info(source);
        g_assert_true(info->has_metadata);
        g_assert_cmpstr(info->name, ==, "single.bin");
        g_assert_cmpint(info->total_size, ==, 100000);
        g_assert_nonnull(info->files);
        g_assert_cmpuint(info->files->len, ==, 1);
        file = g_ptr_array_index(info->files, 0);
        g_assert_cmpstr(file->path, ==, "single.bin");
        g_assert_cmpint(file->size, ==, 100000);
        g_assert_cmpint(file->offset, ==, 0);
        g_assert_cmpuint(file->priority, ==, RV_FILE_PRIORITY_NORMAL);
        g_assert_false(file->pad);
        g_assert_true(rv_info_hash_parse(info->hash.hex, NULL));
}

static void
test_torrent_multi(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *root = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        const RvEngineSourceInfo *info;
        gint64 sum = 0;
        gboolean saw_nfo = FALSE;

        root = rv_test_data_make_payload(fixture->dir, "multi", 300000, 3, TRUE, &error);
        g_assert_no_error(error);
        bytes = make_torrent(root, 0);
        source = rv_engine_source_new_torrent(NULL, bytes, &error);
        g_assert_no_error(error);
        info = rv_engine_source_get_info(source);
        g_assert_cmpstr(info->name, ==, "multi");
        g_assert_cmpuint(info->files->len, ==, 6);
        for (guint i = 0; i < info->files->len; i++) {
                const RvEngineFile *file = g_ptr_array_index(info->files, i);
                g_assert_true(g_str_has_prefix(file->path, "multi/"));
                g_assert_false(file->pad);
                if (g_str_equal(file->path, "multi/info.nfo"))
                        saw_nfo = TRUE;
                sum += file->size;
        }
        g_assert_true(saw_nfo);
        g_assert_cmpint(sum, ==, info->total_size);
}

static void
test_torrent_truncated(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fixture->dir, "t.bin", NULL);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GBytes) half = NULL;
        g_autoptr(RvEngineSource) source = NULL;

        g_assert_true(rv_test_data_write_file(path, 70000, 3, &error));
        bytes = make_torrent(path, 16384);
        half = g_bytes_new_from_bytes(bytes, 0, g_bytes_get_size(bytes) / 2);
        source = rv_engine_source_new_torrent(NULL, half, &error);
        g_assert_null(source);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_true(g_str_has_prefix(error->message, "invalid torrent file"));
}

static void
test_torrent_garbage(void)
{
        const char *const garbage[] = { "hello world", "d4:info", "i42e", "le", "d4:infoi1ee" };
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) empty = g_bytes_new_static("", 0);

        for (guint i = 0; i < G_N_ELEMENTS(garbage); i++) {
                g_autoptr(GError) err = NULL;
                g_autoptr(GBytes) bytes = g_bytes_new_static(garbage[i], strlen(garbage[i]));
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &err);
                g_assert_null(source);
                g_assert_error(err, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
        g_assert_null(rv_engine_source_new_torrent(NULL, empty, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

static void
test_torrent_unsafe(void)
{
        const char *const dotdot[] = { "..", "etc", "passwd", NULL };
        const char *const empty_el[] = { "a", "", "b", NULL };
        const char *const slash[] = { "a/b", NULL };
        const char *const backslash[] = { "a\\b", NULL };
        const char *const dot[] = { ".", "x", NULL };
        const char *const none[] = { NULL };
        const char *const nul[] = { "a\0b", NULL };
        const gsize nul_len[] = { 3 };
        const char *const fine[] = { "sub", "file.bin", NULL };

        /* the crafted form itself is acceptable when the names are */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GBytes) bytes = craft_multi("top", fine, NULL);
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(((RvEngineFile *)g_ptr_array_index(rv_engine_source_get_info(source)->files, 0))->path,
                                ==, "top/sub/file.bin");
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GBytes) bytes = craft_v2("fine");
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_no_error(error);
                g_assert_true(rv_engine_source_get_info(source)->has_metadata);
        }

        assert_unsafe(craft_multi("top", dotdot, NULL), "../etc/passwd");
        assert_unsafe(craft_multi("top", empty_el, NULL), "a//b");
        assert_unsafe(craft_multi("top", slash, NULL), "a/b");
        assert_unsafe(craft_multi("top", backslash, NULL), "a\\x5cb");
        assert_unsafe(craft_multi("top", dot, NULL), "./x");
        assert_unsafe(craft_multi("top", none, NULL), NULL);
        assert_unsafe(craft_multi("top", nul, nul_len), "a\\x00b");
        assert_unsafe(craft_multi("..", fine, NULL), "..");
        assert_unsafe(craft_single("/etc/passwd"), "/etc/passwd");
        assert_unsafe(craft_single(""), NULL);
        assert_unsafe(craft_v2(".."), "top/..");
        assert_unsafe(craft_v2("x/y"), "top/x/y");
}

/* a crafted single-file torrent with name and, when given, name.utf-8 (in bencode's key order) */
static GBytes *
craft_named(const char *name, const char *name_utf8)
{
        GString *out = g_string_new("d4:infod6:lengthi16384e");

        b_str(out, "name");
        b_str(out, name);
        if (name_utf8 != NULL) {
                b_str(out, "name.utf-8");
                b_str(out, name_utf8);
        }
        b_str(out, "piece length");
        b_int(out, 16384);
        b_str(out, "pieces");
        b_pieces(out, 1);
        g_string_append(out, "ee");
        return g_string_free_to_bytes(out);
}

/*
 * reliability issue, defect 7: libtorrent turns a name that is not UTF-8 into
 * underscores ("____") and carries on; it is refused, and name.utf-8 is used
 * when the torrent has a valid one
 */
static void
test_torrent_not_utf8(void)
{
        const char *const bad_path[] = { "ok", "\xc3\x28", NULL };

        {
                g_autoptr(GBytes) bytes = craft_named("\xff\xfe\xfd\xfc", NULL);
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "'name'"));
                g_assert_nonnull(strstr(error->message, "UTF-8"));
        }
        {
                g_autoptr(GBytes) bytes = craft_named("fine", "\xff\xfe");
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "'name.utf-8'"));
        }
        {
                /* a legacy name in another encoding, with its UTF-8 twin */
                g_autoptr(GBytes) bytes = craft_named("caf\xe9", "caf\xc3\xa9");
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(rv_engine_source_get_info(source)->name, ==, "caf\xc3\xa9");
        }
        {
                g_autoptr(GBytes) bytes = craft_multi("top", bad_path, NULL);
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "UTF-8"));
        }
        {
                g_autoptr(GBytes) bytes = craft_v2("\xff");
                g_autoptr(GError) error = NULL;
                g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, bytes, &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "UTF-8"));
        }
}

static void
test_torrent_too_big(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fixture->dir, "big.bin", NULL);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(RvEngine) engine = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        RvEngineSettings settings;

        /* 4 MiB in 16 KiB pieces: 256 piece hashes, about 5 KiB of torrent */
        g_assert_true(rv_test_data_write_file(path, 4 * 1024 * 1024, 5, &error));
        bytes = make_torrent(path, 16384);
        g_assert_cmpuint(g_bytes_get_size(bytes), >, 4096);

        rv_engine_settings_init(&settings);
        settings.max_metadata_size = 4096;
        settings.status_interval_ms = 0;
        engine = rv_engine_new_fake(&settings);
        rv_engine_settings_clear(&settings);
        source = rv_engine_source_new_torrent(engine, bytes, &error);
        g_assert_null(source);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "over the bound"));
        g_clear_error(&error);

        /* the default bound takes it */
        source = rv_engine_source_new_torrent(NULL, bytes, &error);
        g_assert_no_error(error);
        g_assert_nonnull(source);
}

static void
assert_same_info(const RvEngineSourceInfo *a, const RvEngineSourceInfo *b)
{
        g_assert_true(rv_info_hash_equal(&a->hash, &b->hash));
        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpint(a->has_metadata, ==, b->has_metadata);
        g_assert_cmpint(a->total_size, ==, b->total_size);
        if (a->files == NULL) {
                g_assert_null(b->files);
                return;
        }
        g_assert_cmpuint(a->files->len, ==, b->files->len);
        for (guint i = 0; i < a->files->len; i++) {
                const RvEngineFile *fa = g_ptr_array_index(a->files, i);
                const RvEngineFile *fb = g_ptr_array_index(b->files, i);
                g_assert_cmpstr(fa->path, ==, fb->path);
                g_assert_cmpint(fa->size, ==, fb->size);
                g_assert_cmpint(fa->offset, ==, fb->offset);
        }
}

static void
test_resume_round_trip(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *root = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GBytes) blob = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        g_autoptr(RvEngineSource) back = NULL;
        const guint8 priorities[] = { RV_FILE_PRIORITY_SKIP, RV_FILE_PRIORITY_NORMAL, RV_FILE_PRIORITY_HIGH };
        RvEngineAddOptions options;
        RvEngineAddOptions read;

        root = rv_test_data_make_payload(fixture->dir, "rt", 200000, 3, FALSE, &error);
        g_assert_no_error(error);
        bytes = make_torrent(root, 16384);
        source = rv_engine_source_new_torrent(NULL, bytes, &error);
        g_assert_no_error(error);

        rv_engine_add_options_init(&options);
        options.save_path = "/srv/downloads";
        options.paused = TRUE;
        options.sequential = TRUE;
        options.download_limit = 100000;
        options.upload_limit = 50000;
        options.file_priorities = priorities;
        options.n_file_priorities = G_N_ELEMENTS(priorities);
        blob = rv_engine_source_write_resume(source, &options, &error);
        g_assert_no_error(error);
        g_assert_nonnull(blob);

        back = rv_engine_source_new_resume(NULL, blob, &error);
        g_assert_no_error(error);
        assert_same_info(rv_engine_source_get_info(source), rv_engine_source_get_info(back));
        rv_engine_source_get_options(back, &read);
        g_assert_cmpstr(read.save_path, ==, "/srv/downloads");
        g_assert_true(read.paused);
        g_assert_true(read.sequential);
        g_assert_false(read.seed_mode);
        g_assert_cmpint(read.download_limit, ==, 100000);
        g_assert_cmpint(read.upload_limit, ==, 50000);
        g_assert_cmpuint(read.n_file_priorities, ==, 3);
        g_assert_cmpmem(read.file_priorities, 3, priorities, 3);
        /* the priorities show in the file list too */
        g_assert_cmpuint(((RvEngineFile *)g_ptr_array_index(rv_engine_source_get_info(back)->files, 0))->priority, ==,
                         RV_FILE_PRIORITY_SKIP);

        /* wrong number of priorities */
        options.n_file_priorities = 2;
        g_assert_null(rv_engine_source_write_resume(source, &options, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

static void
test_resume_magnet(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        g_autoptr(RvEngineSource) back = NULL;
        g_autoptr(GBytes) blob = NULL;
        RvEngineAddOptions options;
        RvEngineAddOptions read;

        source = rv_engine_source_new_magnet(NULL, "magnet:?xt=urn:btih:" HASH_A "&dn=m", &error);
        g_assert_no_error(error);
        rv_engine_add_options_init(&options);
        options.save_path = "/srv/m";
        blob = rv_engine_source_write_resume(source, &options, &error);
        g_assert_no_error(error);
        back = rv_engine_source_new_resume(NULL, blob, &error);
        g_assert_no_error(error);
        assert_same_info(rv_engine_source_get_info(source), rv_engine_source_get_info(back));
        rv_engine_source_get_options(back, &read);
        g_assert_cmpstr(read.save_path, ==, "/srv/m");
        g_assert_false(read.paused);
}

static void
test_resume_bad(void)
{
        /* the last: a record without metadata whose name is not UTF-8 (found by tests/fuzz/fuzz-resume) */
        const char *const bad[] = { "garbage", "de", "d9:info-hash3:abce", "d4:infod4:name2:..ee",
                                    "d11:file-format22:libtorrent resume file12:file-versioni1e"
                                    "9:info-hash20:\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23"
                                    "\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67"
                                    "4:name4:\x9b\xdf\xac\x9f"
                                    "e" };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GBytes) bytes = g_bytes_new_static(bad[i], strlen(bad[i]));
                g_autoptr(RvEngineSource) source = rv_engine_source_new_resume(NULL, bytes, &error);
                g_assert_null(source);
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
}

static void
test_create_missing(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = rv_engine_create_torrent("/nonexistent/rv-engine-test", 0, NULL, &error);

        g_assert_null(bytes);
        g_assert_error(error, RV_ERROR, RV_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_null(rv_engine_create_torrent("/", 1000, NULL, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

static void
test_create_trackers(Fixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fixture->dir, "tr.bin", NULL);
        const char *const trackers[] = { "http://127.0.0.1:1/announce", NULL };
        g_autoptr(GBytes) bytes = NULL;

        g_assert_true(rv_test_data_write_file(path, 1000, 1, &error));
        bytes = rv_engine_create_torrent(path, 0, trackers, &error);
        g_assert_no_error(error);
        g_assert_nonnull(g_strstr_len(g_bytes_get_data(bytes, NULL), (gssize)g_bytes_get_size(bytes),
                                      "http://127.0.0.1:1/announce"));
}

static void
test_peer_validate(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(RvEngine) engine = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        const char *const bad_peers[] = { "example.com:80", NULL };
        RvEngineAddOptions options;

        engine = rv_engine_new_fake(NULL);
        source = rv_engine_source_new_magnet(engine, "magnet:?xt=urn:btih:" HASH_A, &error);
        g_assert_no_error(error);
        rv_engine_add_options_init(&options);
        options.save_path = "/tmp";
        options.peers = bad_peers;
        g_assert_false(rv_engine_add(engine, g_steal_pointer(&source), &options, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "example.com:80"));
        g_clear_error(&error);

        /* a relative save path is refused before anything happens */
        source = rv_engine_source_new_magnet(engine, "magnet:?xt=urn:btih:" HASH_A, &error);
        options.peers = NULL;
        options.save_path = "relative/dir";
        g_assert_false(rv_engine_add(engine, g_steal_pointer(&source), &options, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_cmpuint(rv_engine_get_torrent_count(engine), ==, 0);
}

static void
test_peer_syntax(void)
{
        const char *const good[] = { "127.0.0.1:6881", "[::1]:1", "10.0.0.1:65535" };
        const char *const bad[] = {
                "127.0.0.1", "1.2.3.4:0", "1.2.3.4:70000", "[::1]80", "::1:80", "host:1", ":80", "",
        };
        g_autoptr(RvEngine) engine = rv_engine_new_fake(NULL);
        RvInfoHash hash;

        /* connect_peer validates the syntax before it looks the torrent up */
        g_assert_true(rv_info_hash_parse(HASH_A, &hash));
        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                g_assert_false(rv_engine_connect_peer(engine, &hash, good[i], &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_NOT_FOUND);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_assert_false(rv_engine_connect_peer(engine, &hash, bad[i], &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/engine/source/info-hash", test_info_hash);
        g_test_add_func("/engine/source/strings", test_strings);
        g_test_add_func("/engine/source/settings", test_settings);
        g_test_add_func("/engine/source/magnet/good", test_magnet_good);
        g_test_add_func("/engine/source/magnet/bad", test_magnet_bad);
        g_test_add_func("/engine/source/magnet/hostile", test_magnet_hostile);
        g_test_add("/engine/source/torrent/single", Fixture, NULL, fixture_setup, test_torrent_single,
                   fixture_teardown);
        g_test_add("/engine/source/torrent/multi", Fixture, NULL, fixture_setup, test_torrent_multi, fixture_teardown);
        g_test_add("/engine/source/torrent/truncated", Fixture, NULL, fixture_setup, test_torrent_truncated,
                   fixture_teardown);
        g_test_add_func("/engine/source/torrent/garbage", test_torrent_garbage);
        g_test_add_func("/engine/source/torrent/unsafe", test_torrent_unsafe);
        g_test_add_func("/engine/source/torrent/not-utf8", test_torrent_not_utf8);
        g_test_add("/engine/source/torrent/too-big", Fixture, NULL, fixture_setup, test_torrent_too_big,
                   fixture_teardown);
        g_test_add("/engine/source/resume/round-trip", Fixture, NULL, fixture_setup, test_resume_round_trip,
                   fixture_teardown);
        g_test_add_func("/engine/source/resume/magnet", test_resume_magnet);
        g_test_add_func("/engine/source/resume/bad", test_resume_bad);
        g_test_add_func("/engine/source/create/missing", test_create_missing);
        g_test_add("/engine/source/create/trackers", Fixture, NULL, fixture_setup, test_create_trackers,
                   fixture_teardown);
        g_test_add_func("/engine/source/peer/validate", test_peer_validate);
        g_test_add_func("/engine/source/peer/syntax", test_peer_syntax);
        return g_test_run();
}
