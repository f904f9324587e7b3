/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * the least a bus service can do for an add whose reply means "stored":
 * AddTorrent(ay, a{sv}) -> o on the session bus, the bytes handed to a
 * writer thread that appends them to a preallocated file and fdatasyncs it,
 * the reply sent from the main loop once the writer is done (the main loop
 * never waits on the disk, as in revaerd). bench/peers times the same client
 * against it, one call at a time: what is left of an add's time is Revaer's
 * own work.
 *
 *   rv-bench-floor BUS-NAME FILE      (DBUS_SESSION_BUS_ADDRESS from the environment)
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib.h>
#include <systemd/sd-bus.h>

#define FLOOR_FILE_SIZE (64 * 1024 * 1024)

typedef struct {
        GMutex lock;
        GCond cond;
        /* the call being written, and the one written and not yet answered */
        sd_bus_message *writing;
        sd_bus_message *written;
        int write_errno;
        GBytes *data;
        int fd;
        int efd;
        off_t end;
} Floor;

static gpointer
floor_writer(gpointer user_data)
{
        Floor *fl = user_data;
        const guint64 one = 1;

        g_mutex_lock(&fl->lock);
        for (;;) {
                g_autoptr(GBytes) data = NULL;
                sd_bus_message *m;
                gsize len;
                const void *p;
                int err = 0;

                while (fl->writing == NULL)
                        g_cond_wait(&fl->cond, &fl->lock);
                m = fl->writing;
                data = g_steal_pointer(&fl->data);
                g_mutex_unlock(&fl->lock);

                p = g_bytes_get_data(data, &len);
                if (fl->end + (off_t)len > FLOOR_FILE_SIZE)
                        fl->end = 0;
                if (pwrite(fl->fd, p, len, fl->end) != (ssize_t)len || fdatasync(fl->fd) < 0)
                        err = errno != 0 ? errno : EIO;
                fl->end += (off_t)((len + 4095) & ~(gsize)4095);

                g_mutex_lock(&fl->lock);
                fl->writing = NULL;
                fl->written = m;
                fl->write_errno = err;
                if (write(fl->efd, &one, sizeof(one)) < 0)
                        g_printerr("rv-bench-floor: eventfd: %s\n", g_strerror(errno));
        }
        return NULL;
}

static int
floor_add(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Floor *fl = userdata;
        const void *p = NULL;
        size_t len = 0;
        int r = sd_bus_message_read_array(m, 'y', &p, &len);

        if (r < 0)
                return r;
        g_mutex_lock(&fl->lock);
        if (fl->writing != NULL || fl->written != NULL) {
                g_mutex_unlock(&fl->lock);
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_LIMITS_EXCEEDED, "one call at a time");
        }
        fl->data = g_bytes_new(p, len);
        fl->writing = sd_bus_message_ref(m);
        g_cond_signal(&fl->cond);
        g_mutex_unlock(&fl->lock);
        return 1;
}

static const sd_bus_vtable floor_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("AddTorrent", "aya{sv}", "o", floor_add, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* the writer is done: the reply */
static int
floor_answer(Floor *fl)
{
        sd_bus_message *m;
        guint64 n;
        int err;
        int r;

        if (read(fl->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                return -errno;
        g_mutex_lock(&fl->lock);
        m = g_steal_pointer(&fl->written);
        err = fl->write_errno;
        g_mutex_unlock(&fl->lock);
        if (m == NULL)
                return 0;
        r = err != 0 ? sd_bus_reply_method_errno(m, err, NULL) : sd_bus_reply_method_return(m, "o", "/floor/1");
        sd_bus_message_unref(m);
        return r;
}

static int
floor_setup(Floor *fl, const char *path)
{
        static const char zeros[1 << 16];

        /* written once, so that an append overwrites allocated blocks, as revaerd's log does */
        fl->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fl->fd < 0)
                return -errno;
        for (gsize off = 0; off < FLOOR_FILE_SIZE; off += sizeof(zeros))
                if (write(fl->fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros))
                        return -(errno != 0 ? errno : EIO);
        if (fsync(fl->fd) < 0)
                return -errno;
        fl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        return fl->efd < 0 ? -errno : 0;
}

int
main(int argc, char **argv)
{
        Floor fl = { 0 };
        sd_bus *bus = NULL;
        GThread *writer;
        int r;

        if (argc != 3) {
                g_printerr("usage: rv-bench-floor BUS-NAME FILE\n");
                return 2;
        }
        g_mutex_init(&fl.lock);
        g_cond_init(&fl.cond);
        r = floor_setup(&fl, argv[2]);
        if (r >= 0)
                r = sd_bus_open_user(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/floor", "com.revaer.Floor", floor_vtable, &fl);
        if (r >= 0)
                r = sd_bus_request_name(bus, argv[1], 0);
        if (r < 0) {
                g_printerr("rv-bench-floor: %s\n", g_strerror(-r));
                return 1;
        }
        writer = g_thread_new("floor-writer", floor_writer, &fl);
        for (;;) {
                struct pollfd fds[2] = { { 0 } };
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0)
                        break;
                fds[0] = (struct pollfd){ .fd = sd_bus_get_fd(bus), .events = (short)sd_bus_get_events(bus) };
                fds[1] = (struct pollfd){ .fd = fl.efd, .events = POLLIN };
                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        break;
                if ((fds[1].revents & POLLIN) && floor_answer(&fl) < 0)
                        break;
        }
        /* the bus went away: the bench is over (the writer waits for a call that does not come) */
        sd_bus_flush_close_unref(bus);
        g_thread_unref(writer);
        return 0;
}
