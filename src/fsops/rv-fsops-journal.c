/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-fsops-error.h"
#include "rv-fsops-journal.h"
#include "rv-fsops-path.h"
#include "rv-json.h"

#define RV_FS_JOURNAL_VERSION 1
/* a journal is a few KiB; anything much larger is not ours */
#define RV_FS_JOURNAL_MAX (1024 * 1024)

struct _RvFsJournal {
        JsonNode *root;
};

static JsonObject *
rv_fs_journal_obj(RvFsJournal *j)
{
        return json_node_get_object(j->root);
}

RvFsJournal *
rv_fs_journal_new(const char *info_hash, const char *name, JsonNode *policy)
{
        RvFsJournal *j = g_new0(RvFsJournal, 1);
        JsonObject *obj = json_object_new();

        json_object_set_int_member(obj, "version", RV_FS_JOURNAL_VERSION);
        json_object_set_string_member(obj, "info_hash", info_hash);
        json_object_set_string_member(obj, "name", name != NULL ? name : "");
        json_object_set_member(obj, "policy", json_node_copy(policy));
        json_object_set_string_member(obj, "state", "running");
        json_object_set_null_member(obj, "library_path");
        json_object_set_object_member(obj, "steps", json_object_new());
        j->root = rv_json_node_take_object(obj);
        return j;
}

void
rv_fs_journal_free(RvFsJournal *j)
{
        if (j == NULL)
                return;
        if (j->root != NULL)
                json_node_unref(j->root);
        g_free(j);
}

/*
 * a string member, or fallback when it is missing or anything but a string:
 * the file is ours, but a hand or a disk may have changed it, and json-glib's
 * getters are critical about objects and arrays
 */
static const char *
rv_fs_journal_string(JsonObject *obj, const char *member, const char *fallback)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
                return fallback;
        return json_node_get_string(node);
}

/*
 * what json-glib reads but cannot write back: 1e400 is infinity, written as
 * "inf", and 1e40 is written as "1e+40.0" (json-glib 1.6 appends ".0" to any
 * double printed without a point); a journal holding such a number would be
 * saved unreadable and the pipeline would lose its checkpoints
 */
static gboolean
rv_fs_journal_writable(JsonNode *root)
{
        g_autofree char *text = json_to_string(root, FALSE);
        g_autoptr(JsonNode) again = json_from_string(text, NULL);

        return again != NULL;
}

static gboolean
rv_fs_journal_valid(JsonNode *root)
{
        JsonObject *obj;

        if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
                return FALSE;
        obj = json_node_get_object(root);
        return rv_json_object_get_int_or(obj, "version", 0) == RV_FS_JOURNAL_VERSION && rv_fs_journal_writable(root) &&
               rv_fs_journal_string(obj, "info_hash", NULL) != NULL &&
               rv_json_object_get_object(obj, "steps") != NULL && rv_json_object_get_object(obj, "policy") != NULL;
}

RvFsJournal *
rv_fs_journal_load(int dirfd, GError **error)
{
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) root = NULL;
        struct stat st;
        RvFsJournal *j;
        ssize_t n;
        int fd = rv_fs_openat(dirfd, RV_FS_JOURNAL_NAME, O_RDONLY, 0);

        if (fd < 0) {
                if (errno == ENOENT)
                        return NULL;
                rv_fs_set_errno(error, errno, "cannot open the journal");
                return NULL;
        }
        if (fstat(fd, &st) < 0 || st.st_size > RV_FS_JOURNAL_MAX) {
                close(fd);
                rv_fs_set_error(error, RV_FS_FAILURE_INTERNAL, "the journal is not a journal");
                return NULL;
        }
        text = g_malloc0((gsize)st.st_size + 1);
        n = read(fd, text, (gsize)st.st_size);
        close(fd);
        root = n == st.st_size ? rv_json_parse(text, n, FALSE, NULL) : NULL;
        if (!rv_fs_journal_valid(root)) {
                rv_fs_set_error(error, RV_FS_FAILURE_INTERNAL, "the journal cannot be read");
                return NULL;
        }
        j = g_new0(RvFsJournal, 1);
        j->root = g_steal_pointer(&root);
        return j;
}

/* temp file, sync, rename, sync the directory: the journal is either the old one or the new one */
gboolean
rv_fs_journal_save(RvFsJournal *j, int dirfd, gboolean durable, GError **error)
{
        g_autofree char *text = json_to_string(j->root, TRUE);
        const char *tmp = RV_FS_JOURNAL_NAME ".tmp";
        gsize len = strlen(text);
        gsize off = 0;
        int fd = rv_fs_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        if (fd < 0) {
                rv_fs_set_errno(error, errno, "cannot write the journal");
                return FALSE;
        }
        while (off < len) {
                ssize_t w = write(fd, text + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        int errsv = errno;
                        close(fd);
                        rv_fs_set_errno(error, errsv, "cannot write the journal");
                        return FALSE;
                }
                off += (gsize)w;
        }
        if (durable && fsync(fd) < 0) {
                int errsv = errno;
                close(fd);
                rv_fs_set_errno(error, errsv, "cannot sync the journal");
                return FALSE;
        }
        close(fd);
        if (renameat(dirfd, tmp, dirfd, RV_FS_JOURNAL_NAME) < 0) {
                rv_fs_set_errno(error, errno, "cannot replace the journal");
                return FALSE;
        }
        if (durable)
                (void)fsync(dirfd);
        return TRUE;
}

JsonNode *
rv_fs_journal_get_policy(RvFsJournal *j)
{
        return json_object_get_member(rv_fs_journal_obj(j), "policy");
}

const char *
rv_fs_journal_get_hash(RvFsJournal *j)
{
        return rv_fs_journal_string(rv_fs_journal_obj(j), "info_hash", "");
}

const char *
rv_fs_journal_get_state(RvFsJournal *j)
{
        return rv_fs_journal_string(rv_fs_journal_obj(j), "state", "");
}

void
rv_fs_journal_set_state(RvFsJournal *j, const char *state)
{
        json_object_set_string_member(rv_fs_journal_obj(j), "state", state);
}

const char *
rv_fs_journal_get_library_path(RvFsJournal *j)
{
        return rv_fs_journal_string(rv_fs_journal_obj(j), "library_path", NULL);
}

void
rv_fs_journal_set_library_path(RvFsJournal *j, const char *path)
{
        json_object_set_string_member(rv_fs_journal_obj(j), "library_path", path);
}

static JsonObject *
rv_fs_journal_step(RvFsJournal *j, const char *step, gboolean create)
{
        JsonObject *steps = rv_json_object_get_object(rv_fs_journal_obj(j), "steps");
        JsonObject *s = rv_json_object_get_object(steps, step);

        if (s == NULL && create) {
                s = json_object_new();
                json_object_set_string_member(s, "state", "");
                json_object_set_int_member(s, "runs", 0);
                json_object_set_object_member(steps, step, s);
        }
        return s;
}

/* a step's run count; anything but a count (a fraction, 1e40, -3, a string) reads as none */
static guint
rv_fs_journal_runs(JsonObject *s)
{
        JsonNode *node = s != NULL ? json_object_get_member(s, "runs") : NULL;
        gint64 runs;

        if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64)
                return 0;
        runs = json_node_get_int(node);
        return runs >= 0 && runs < G_MAXUINT ? (guint)runs : 0;
}

const char *
rv_fs_journal_step_state(RvFsJournal *j, const char *step)
{
        JsonObject *s = rv_fs_journal_step(j, step, FALSE);

        return rv_fs_journal_string(s, "state", "");
}

guint
rv_fs_journal_step_runs(RvFsJournal *j, const char *step)
{
        JsonObject *s = rv_fs_journal_step(j, step, FALSE);

        return rv_fs_journal_runs(s);
}

JsonObject *
rv_fs_journal_step_detail(RvFsJournal *j, const char *step)
{
        JsonObject *s = rv_fs_journal_step(j, step, FALSE);

        return s != NULL ? rv_json_object_get_object(s, "detail") : NULL;
}

void
rv_fs_journal_step_begin(RvFsJournal *j, const char *step)
{
        JsonObject *s = rv_fs_journal_step(j, step, TRUE);

        json_object_set_string_member(s, "state", "running");
        json_object_set_int_member(s, "runs", (gint64)rv_fs_journal_runs(s) + 1);
        json_object_set_int_member(s, "started", g_get_real_time() / G_USEC_PER_SEC);
        json_object_remove_member(s, "error");
}

void
rv_fs_journal_step_end(RvFsJournal *j, const char *step, const char *state, JsonObject *detail, const char *error)
{
        JsonObject *s = rv_fs_journal_step(j, step, TRUE);

        json_object_set_string_member(s, "state", state);
        json_object_set_int_member(s, "finished", g_get_real_time() / G_USEC_PER_SEC);
        if (detail != NULL)
                json_object_set_object_member(s, "detail", detail);
        if (error != NULL)
                json_object_set_string_member(s, "error", error);
}
