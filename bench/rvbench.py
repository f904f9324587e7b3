# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the benchmarks that compare Revaer with other clients share: the
# children and temp dirs of a run, undone on exit, free loopback ports, and the
# generated torrents every client is fed (bench/peers, bench/qbt,
# bench/cluster), a private session bus, pipelined D-Bus calls, the first API
# key of a fresh revaerd. Needs /usr/bin/python3 for python3-libtorrent and
# python3-dbus.

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import libtorrent as lt


def log(msg):
    print(f'# {msg}', flush=True)


def now():
    return time.monotonic()


def cpu_seconds(pid):
    """CPU time of a process, all its threads, from /proc"""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def wait_quiet(pids, share=0.05, window=0.2, timeout=5.0):
    """until the processes together use less than share of a core over
    window (work a client left behind its replies, such as files written
    after the answer, done before the next client is measured): seconds waited"""
    t0 = now()
    while now() - t0 < timeout:
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(window)
        if sum(cpu_seconds(p) for p in pids) - before < share * window:
            break
    return now() - t0


class Reaper:
    """every child and temporary directory of the run, undone in reverse on exit"""

    def __init__(self):
        self.procs = []
        self.dirs = []
        self.deferred = []
        # a child dies with the benchmark even when the benchmark is killed outright
        self.prefix = ['setpriv', '--pdeathsig', 'TERM', '--'] if shutil.which('setpriv') else []

    def spawn(self, cmd, **kw):
        proc = subprocess.Popen(self.prefix + list(cmd), start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def defer(self, fn):
        """fn() on exit, after the children are gone and before the dirs are removed"""
        self.deferred.append(fn)

    def mkdtemp(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self.dirs.append(path)
        return path

    @staticmethod
    def stop(proc, timeout=120):
        """SIGTERM and wait: the seconds it took to exit"""
        if proc.poll() is not None:
            return 0.0
        t0 = now()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return now() - t0

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for fn in reversed(self.deferred):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - the rest of the cleanup still runs
                log(f'cleanup: {e}')
        for path in reversed(self.dirs):
            shutil.rmtree(path, ignore_errors=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_tiny_torrents(directory, count):
    """count paused-to-be torrents of one file of up to 16 KiB each, made once for all three clients; the
    sizes differ (as in any real list), so that no size column is one value repeated"""
    os.makedirs(directory)
    data = []
    for i in range(count):
        fs = lt.file_storage()
        # 7919 is odd: the first 16,384 torrents each have a size of their own
        fs.add_file(f'peers-bench-{i:07d}', 1 + (i * 7919) % 16384)
        ct = lt.create_torrent(fs, 16384, lt.create_torrent.v1_only)
        ct.set_hash(0, hashlib.sha1(b'peers-bench %d' % i).digest())
        blob = lt.bencode(ct.generate())
        with open(os.path.join(directory, f'{i:07d}.torrent'), 'wb') as f:
            f.write(blob)
        data.append(blob)
    return data


def nearest_rank(xs, pct):
    """the pct-th percentile by nearest rank (p50 of 200 is the 100th smallest, p99 the 198th); None when empty"""
    if not xs:
        return None
    ordered = sorted(xs)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# ---------------------------------------------------------------- D-Bus


def start_session_bus(reaper):
    """a private dbus-daemon with the session bus's policy: its address"""
    proc = reaper.spawn(['dbus-daemon', '--session', '--nofork', '--print-address=1'],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        raise SystemExit('dbus-daemon did not start')
    return address


def run_until(pred, timeout, what='the bus'):
    """iterates GLib's default main context (python-dbus's replies) until pred() holds"""
    from gi.repository import GLib
    ctx = GLib.MainContext.default()
    deadline = now() + timeout
    # wakes the loop every 100 ms, so the deadline and Ctrl-C are seen
    tick = GLib.timeout_add(100, lambda: True)
    try:
        while not pred():
            if now() > deadline:
                raise SystemExit(f'timed out waiting on {what}')
            ctx.iteration(True)
    finally:
        GLib.source_remove(tick)


def pipelined(call, count, window, timeout=600, what='calls'):
    """call(i, reply_handler, error_handler) for i in range(count), window of them
    in flight at once (python-dbus async calls): the seconds until the last reply"""
    st = {'next': 0, 'inflight': 0, 'done': 0, 'error': None}

    def ok(*_reply):
        st['inflight'] -= 1
        st['done'] += 1
        issue()

    def fail(err):
        if st['error'] is None:
            st['error'] = err
        ok()

    def issue():
        while st['next'] < count and st['inflight'] < window:
            i = st['next']
            st['next'] += 1
            st['inflight'] += 1
            call(i, ok, fail)

    t0 = now()
    issue()
    run_until(lambda: st['done'] >= count, timeout, what)
    elapsed = now() - t0
    if st['error'] is not None:
        raise SystemExit(f'{what} failed: {st["error"]}')
    return elapsed


def add_paused(mgr, blobs, window, what='AddTorrent'):
    """AddTorrent(blob, {paused}) of every blob (dbus.ByteArray) on the manager
    proxy mgr, window calls in flight: the seconds until the last reply"""
    import dbus
    opts = dbus.Dictionary({'paused': dbus.Boolean(True)}, signature='sv')
    return pipelined(lambda i, ok, fail: mgr.AddTorrent(blobs[i], opts, signature='aya{sv}', timeout=300,
                                                        reply_handler=ok, error_handler=fail),
                     len(blobs), window, what=what)


def add_paused_serial(mgr, blobs):
    """AddTorrent(blob, {paused}) of every blob on mgr (revaerd's manager, or
    anything with its signature), one call after the other: the seconds until the last reply"""
    import dbus
    opts = dbus.Dictionary({'paused': dbus.Boolean(True)}, signature='sv')
    t0 = now()
    for blob in blobs:
        mgr.AddTorrent(blob, opts, signature='aya{sv}', timeout=300)
    return now() - t0


# ---------------------------------------------------------------- HTTP API


def http_call(url, method, path, payload=None, key=None, timeout=30):
    """one request on a connection of its own: (status, decoded JSON body or {})"""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {'Content-Type': 'application/json'}
    if key:
        headers['Authorization'] = f'Bearer {key}'
    try:
        conn.request(method, path, body=json.dumps(payload).encode() if payload is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b'{}')
    finally:
        conn.close()


def setup_admin_key(url):
    """the first API key of a revaerd in setup mode (/v1/setup, loopback only): scope admin"""
    status, start = http_call(url, 'POST', '/v1/setup/start')
    if status != 201:
        raise SystemExit(f'{url}/v1/setup/start answered {status}: {start}')
    status, done = http_call(url, 'POST', '/v1/setup/complete', {'token': start['token'], 'label': 'admin'})
    if status != 201:
        raise SystemExit(f'{url}/v1/setup/complete answered {status}: {done}')
    return done['key']
