#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Replays, call by call, what Sonarr's qBittorrent download client
# (QBittorrentProxyV2 and QBittorrent.cs; Radarr, Lidarr and Prowlarr carry
# the same code) sends to a qBittorrent WebAPI v2 server, and checks every
# answer's fields and types against the contract those clients depend on
# (reference/peers.md section 2): the version probe without login, the login
# and its cookie, the settings test (version, preferences, categories), a grab
# by .torrent upload and one by magnet, the existence probe, share limits,
# queue priority, force start, the queue poll with Sonarr's state switch and
# import-path rule, the post-import category, tags and the removal with data.
#
#   sonarr-replay.py --url URL --user U --password P --fixtures FILE [--api-key KEY]
#
# FILE is what rv-qbt-fixtures.py wrote. Prints TAP lines without a plan
# ("ok - ..."); qbt-test.sh counts them. Exit 1 on failure. Standard library.

import argparse
import base64
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import uuid

from rv_qbt_tap import check, failed, not_ok, ok

CATEGORY = 'revaer-tv'
IMPORTED = 'revaer-tv-imported'
TAG = 'revaer-series-tag'
UNKNOWN_ETA = 8640000
# every state Sonarr's switch knows; anything else is "unknown, downloading"
STATES = {'error', 'stoppedDL', 'pausedDL', 'queuedDL', 'checkingDL', 'checkingUP', 'checkingResumeData',
          'pausedUP', 'stoppedUP', 'uploading', 'stalledUP', 'queuedUP', 'forcedUP', 'stalledDL',
          'missingFiles', 'metaDL', 'forcedMetaDL', 'forcedDL', 'moving', 'downloading', 'unknown',
          'allocating', 'queuedForChecking'}


class Stop(Exception):
    pass


def must(what, cond, detail=None):
    if not check(what, cond, detail):
        raise Stop()


def parse_version(text):
    """.NET Version.Parse: two to four dot-separated numbers, nothing else"""
    if not re.fullmatch(r'\d+\.\d+(\.\d+){0,2}', text or ''):
        return None
    return tuple(int(x) for x in text.split('.'))


def sonarr_status(state, dht):
    """QBittorrent.cs GetItems: the state switch"""
    if state == 'error' or state in ('stalledDL', 'missingFiles'):
        return 'Warning'
    if state in ('stoppedDL', 'pausedDL'):
        return 'Paused'
    if state in ('queuedDL', 'checkingDL', 'checkingUP', 'checkingResumeData'):
        return 'Queued'
    if state in ('pausedUP', 'stoppedUP', 'uploading', 'stalledUP', 'queuedUP', 'forcedUP'):
        return 'Completed'
    if state in ('metaDL', 'forcedMetaDL'):
        return 'Queued' if dht else 'Warning'
    return 'Downloading'


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.body)


class SonarrProxy:
    """QBittorrentProxyV2's transport: Basic credentials on every request
    (BasicNetworkCredential is sent up front), the login cookie cached and
    sent back, one re-login and retry on a 403; or, with an API key (for
    qBittorrent 5.2), "Authorization: Bearer" on every request and no login"""

    def __init__(self, url, user, password, api_key=None):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base = parts.path.rstrip('/')
        self.user = user
        self.password = password
        self.api_key = api_key
        self.cookies = None
        self.calls = []

    def raw(self, method, path, query=None, form=None, files=None, cookies=None, basic=True):
        headers = {'Accept': 'application/json, text/plain, */*', 'User-Agent': 'Sonarr/4 (replay)'}
        if self.api_key:
            headers['Authorization'] = f'Bearer {self.api_key}'
        elif basic and (self.user or self.password):
            cred = base64.b64encode(f'{self.user}:{self.password}'.encode()).decode()
            headers['Authorization'] = f'Basic {cred}'
        if cookies:
            headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in cookies.items())
        body = None
        if files is not None:
            boundary = uuid.uuid4().hex
            chunks = []
            for name, value in (form or {}).items():
                chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
            for name, (filename, content) in files.items():
                chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                              'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b'\r\n')
            chunks.append(f'--{boundary}--\r\n'.encode())
            body = b''.join(chunks)
            headers['Content-Type'] = f'multipart/form-data; boundary={boundary}'
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        target = self.base + path + ('?' + urllib.parse.urlencode(query) if query else '')
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            r = Response(resp.status, resp.headers, resp.read())
        finally:
            conn.close()
        self.calls.append((method, path, r.status))
        return r

    def login(self):
        r = self.raw('POST', '/api/v2/auth/login', form={'username': self.user, 'password': self.password})
        if r.status in (401, 403):
            raise Stop(f'login refused with HTTP {r.status}')
        if r.text.strip() and r.text != 'Ok.':
            raise Stop(f'login answered {r.text!r}')
        jar = {}
        for header in r.headers.get_all('Set-Cookie') or []:
            name, _, rest = header.partition('=')
            jar[name.strip()] = rest.split(';', 1)[0]
        self.cookies = jar
        return r

    def request(self, method, path, **kw):
        """ProcessRequest: log in when there is no cookie yet, retry once after a 403;
        with a key, one request and a 401 or 403 is an authentication error"""
        if self.api_key:
            r = self.raw(method, path, **kw)
            if r.status in (401, 403):
                raise Stop(f'{path}: the API key was refused with HTTP {r.status}')
            return r
        if (self.user or self.password) and self.cookies is None:
            self.login()
        r = self.raw(method, path, cookies=self.cookies, **kw)
        if r.status == 403:
            self.login()
            r = self.raw(method, path, cookies=self.cookies, **kw)
        return r


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_torrent_fields(t, api, label):
    """the /torrents/info fields Sonarr, Radarr and Lidarr read, with their types and units"""
    problems = []
    want = {'hash': str, 'name': str, 'size': 'int', 'progress': 'num', 'eta': 'int', 'state': str,
            'category': str, 'save_path': str, 'ratio': 'num', 'ratio_limit': 'num',
            'seeding_time_limit': 'int', 'last_activity': 'int', 'added_on': 'int', 'amount_left': 'int',
            'tags': str, 'completion_on': 'int', 'seeding_time': 'int'}
    if api >= (2, 6, 1):
        want['content_path'] = str
    if api >= (2, 9, 2):
        want['inactive_seeding_time_limit'] = 'int'
    for key, kind in want.items():
        v = t.get(key)
        good = (is_int(v) if kind == 'int' else is_num(v) if kind == 'num' else isinstance(v, kind))
        if not good:
            problems.append(f'{key}={v!r} is not {kind if isinstance(kind, str) else kind.__name__}')
    if not problems:
        if not re.fullmatch(r'[0-9a-f]{40}', t['hash']):
            problems.append(f'hash {t["hash"]!r} is not 40 lowercase hex')
        if not 0 <= t['progress'] <= 1:
            problems.append(f'progress {t["progress"]} is outside 0..1')
        if t['state'] not in STATES:
            problems.append(f'state {t["state"]!r} is not a qBittorrent state')
        # qBittorrent 5 (WebAPI 2.11.0) renamed paused* to stopped*: one vocabulary per version
        old = t['state'] in ('pausedDL', 'pausedUP')
        new = t['state'] in ('stoppedDL', 'stoppedUP')
        if (old and api >= (2, 11, 0)) or (new and api < (2, 11, 0)):
            problems.append(f'state {t["state"]!r} does not belong to WebAPI {api}')
        if t['eta'] < 0 or (t['eta'] > 365 * 24 * 3600 and t['eta'] != UNKNOWN_ETA):
            problems.append(f'eta {t["eta"]} is neither seconds nor {UNKNOWN_ETA}')
        if t['ratio_limit'] < 0 and t['ratio_limit'] not in (-1, -2):
            problems.append(f'ratio_limit {t["ratio_limit"]} is neither >= 0 nor -1/-2')
        if t['seeding_time_limit'] < 0 and t['seeding_time_limit'] not in (-1, -2):
            problems.append(f'seeding_time_limit {t["seeding_time_limit"]} is neither >= 0 nor -1/-2')
        if not os.path.isabs(t['save_path']):
            problems.append(f'save_path {t["save_path"]!r} is not absolute')
        if t['amount_left'] < 0 or t['amount_left'] > t['size']:
            problems.append(f'amount_left {t["amount_left"]} outside 0..size')
    return check(f'{label}: fields and types of torrents/info', not problems, '\n'.join(problems))


def norm(path):
    return path.rstrip('/') if isinstance(path, str) and len(path) > 1 else path


def wait(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        done, value = fn()
        if done:
            ok(what)
            return value
        if time.monotonic() > deadline:
            not_ok(what, f'timed out after {timeout} s; last seen: {value!r}')
            raise Stop()
        time.sleep(0.2)


def run(args, fx):
    anonymous = SonarrProxy(args.url, '', '')
    sonarr = SonarrProxy(args.url, args.user, args.password, args.api_key)

    # -- the settings test: IsApiSupported, exactly as sent (Basic credentials or the key, no cookie)
    r = sonarr.raw('GET', '/api/v2/app/webapiVersion')
    if args.api_key:
        must('probe app/webapiVersion with the key as Bearer: 200', r.status == 200, f'HTTP {r.status}')
        wrong = SonarrProxy(args.url, '', '', args.api_key + 'x').raw('GET', '/api/v2/app/webapiVersion')
        check('a wrong Bearer key: 401 or 403 (Sonarr: authentication failed)', wrong.status in (401, 403),
              f'HTTP {wrong.status}')
    else:
        must('probe app/webapiVersion without login: 403 (or 200 to a server that takes Basic credentials)',
             r.status in (403, 200), f'HTTP {r.status}')
    r = anonymous.raw('GET', '/api/v2/app/webapiVersion', basic=False)
    must('probe app/webapiVersion with no credentials at all: 403 (not 401, not 404)', r.status == 403,
         f'HTTP {r.status}')
    if not args.api_key:
        r = anonymous.raw('POST', '/api/v2/auth/login', basic=False,
                          form={'username': args.user, 'password': args.password + 'x'})
        check('auth/login with a wrong password: "Fails." or 401/403, no session cookie',
              (r.status == 200 and r.text == 'Fails.') or r.status in (401, 403), f'HTTP {r.status} {r.text!r}')
        check('no session cookie for the wrong password', not r.headers.get_all('Set-Cookie'),
              r.headers.get_all('Set-Cookie'))
        r = sonarr.login()
        # Sonarr takes an empty body too; an older Radarr copy wants exactly "Ok."
        check('auth/login: "Ok." with a session cookie', bool(sonarr.cookies) and r.text == 'Ok.',
              f'{r.text!r} {r.headers.get_all("Set-Cookie")}')
    r = sonarr.request('GET', '/api/v2/app/webapiVersion')
    api = parse_version(r.text)
    must('app/webapiVersion is plain text that Version.Parse reads, 2.x.y',
         r.status == 200 and api is not None and api[0] == 2, f'HTTP {r.status} {r.text!r}')
    api = api + (0,) * (3 - len(api))
    r = sonarr.request('GET', '/api/v2/app/version')
    check('app/version is text "v<major>.<minor>..."', r.status == 200 and re.match(r'v?\d+\.\d+', r.text),
          f'HTTP {r.status} {r.text!r}')

    r = sonarr.request('GET', '/api/v2/app/preferences')
    must('app/preferences is JSON', r.status == 200 and r.headers.get_content_type() == 'application/json',
         f'HTTP {r.status} {r.headers.get("Content-Type")}')
    prefs = r.json()
    want = {'save_path': str, 'max_ratio_enabled': bool, 'max_ratio': 'num', 'max_seeding_time_enabled': bool,
            'max_seeding_time': 'int', 'max_ratio_act': 'int', 'queueing_enabled': bool, 'dht': bool}
    if api >= (2, 9, 2):
        want.update(max_inactive_seeding_time_enabled=bool, max_inactive_seeding_time='int')
    bad = [f'{k}={prefs.get(k)!r}' for k, kind in want.items()
           if not (is_int(prefs.get(k)) if kind == 'int' else is_num(prefs.get(k)) if kind == 'num'
                   else isinstance(prefs.get(k), kind))]
    check('preferences: the fields Sonarr reads, with their types', not bad, ', '.join(bad))
    check('preferences: max_ratio_act is 0..3', prefs.get('max_ratio_act') in (0, 1, 2, 3), prefs.get('max_ratio_act'))
    removes = ((prefs.get('max_ratio_enabled') or (prefs.get('max_seeding_time_enabled')
                and prefs.get('max_seeding_time', 0) < 60 * 24 * 14)) and prefs.get('max_ratio_act') in (1, 3))
    check('preferences: a fresh server does not remove completed downloads (Sonarr\'s test would fail)',
          not removes, json.dumps({k: prefs.get(k) for k in want}))
    dht = prefs.get('dht')

    # TestCategory: categories, createCategory when missing, categories again
    r = sonarr.request('GET', '/api/v2/torrents/categories')
    must('torrents/categories is a JSON object', r.status == 200 and isinstance(r.json(), dict), r.text[:200])
    for cat in (CATEGORY, IMPORTED):
        if cat not in r.json():
            c = sonarr.request('POST', '/api/v2/torrents/createCategory', form={'category': cat})
            check(f'createCategory "{cat}": 200', c.status == 200, f'HTTP {c.status} {c.text!r}')
    r = sonarr.request('GET', '/api/v2/torrents/categories')
    cats = r.json()
    for cat in (CATEGORY, IMPORTED):
        entry = cats.get(cat)
        # GetStatus: an empty savePath means the default save_path, else a rooted path
        check(f'categories has "{cat}" as {{name, savePath}}, savePath empty or absolute',
              isinstance(entry, dict) and entry.get('name') == cat and isinstance(entry.get('savePath'), str)
              and (entry['savePath'] == '' or os.path.isabs(entry['savePath'])), json.dumps(entry))
    r = sonarr.request('POST', '/api/v2/torrents/createCategory', form={'category': CATEGORY})
    check('createCategory of an existing category: 409', r.status == 409, f'HTTP {r.status} {r.text!r}')
    # TestGetTorrents
    r = sonarr.request('GET', '/api/v2/torrents/info', query={'category': CATEGORY})
    check('torrents/info?category= is a JSON array', r.status == 200 and isinstance(r.json(), list), r.text[:200])

    # -- a grab by .torrent upload: ratio 1, 60 min in the add (WebAPI >= 2.8.1), then
    # the existence probe, topPrio (first priority), setForceStart (initial state ForceStart)
    byfile = fx['torrents']['replay-file']
    bymagnet = fx['torrents']['replay-magnet']
    seed_in_add = api >= (2, 8, 1)
    form = {'category': CATEGORY}
    if seed_in_add:
        form.update(ratioLimit='1', seedingTimeLimit='60')
    with open(byfile['torrent'], 'rb') as f:
        content = f.read()
    r = sonarr.request('POST', '/api/v2/torrents/add', form=form,
                       files={'torrents': (f'{byfile["name"]}.torrent', content)})
    check('torrents/add (multipart, torrents=<file>, category): 200, not "Fails."',
          r.status == 200 and r.text != 'Fails.', f'HTTP {r.status} {r.text!r}')
    tries = 0
    for tries in range(1, 11):   # WaitForTorrent: 10 x 100 ms (Prowlarr: 5)
        p = sonarr.request('GET', '/api/v2/torrents/properties', query={'hash': byfile['hash']})
        if p.status == 200:
            break
        time.sleep(0.1)
    must('torrents/properties finds the added torrent within 5 x 100 ms (Prowlarr; Sonarr waits 10)',
         p.status == 200 and tries <= 5, f'HTTP {p.status} after {tries} tries')
    props = p.json()
    check('properties: save_path (string) and seeding_time (integer seconds)',
          isinstance(props.get('save_path'), str) and is_int(props.get('seeding_time')),
          json.dumps({k: props.get(k) for k in ('save_path', 'seeding_time')}))
    r = sonarr.request('GET', '/api/v2/torrents/properties', query={'hash': '0' * 40})
    check('properties of an unknown hash is an HTTP error (404)', r.status == 404, f'HTTP {r.status}')
    r = sonarr.request('POST', '/api/v2/torrents/topPrio', form={'hashes': byfile['hash']})
    queueing = prefs.get('queueing_enabled')
    check(f'topPrio: 200, or 409 with queueing off (queueing_enabled={queueing})',
          r.status == 200 if queueing else r.status in (200, 409), f'HTTP {r.status} {r.text!r}')
    r = sonarr.request('POST', '/api/v2/torrents/setForceStart', form={'hashes': byfile['hash'], 'value': 'true'})
    check('setForceStart value=true: 200', r.status == 200, f'HTTP {r.status} {r.text!r}')

    # -- a grab by magnet with initial state Stop, as an older Sonarr or a WebAPI < 2.8.1
    # server does it: no limits in the add, setShareLimits after the probe
    stopped = 'stopped' if api >= (2, 11, 0) else 'paused'
    r = sonarr.request('POST', '/api/v2/torrents/add', form={'urls': bymagnet['magnet'], 'category': CATEGORY,
                                                             stopped: 'true'})
    # Sonarr's form goes multipart only with a file or a value over 1 KiB: a magnet is urlencoded
    check(f'torrents/add (urlencoded, urls=<magnet>, category, {stopped}=true): 200, not "Fails."',
          r.status == 200 and r.text != 'Fails.', f'HTTP {r.status} {r.text!r}')
    wait('the magnet shows up in torrents/properties', lambda: (
        sonarr.request('GET', '/api/v2/torrents/properties', query={'hash': bymagnet['hash']}).status == 200, None), 5)

    def info(cat=CATEGORY):
        r = sonarr.request('GET', '/api/v2/torrents/info', query={'category': cat})
        if r.status != 200:
            raise Stop(f'torrents/info HTTP {r.status}')
        return {t.get('hash'): t for t in r.json()}

    t = info()[bymagnet['hash']]
    check_torrent_fields(t, api, 'stopped magnet')
    check('stopped magnet: ratio_limit -2 and seeding_time_limit -2 (the global ones)',
          t['ratio_limit'] == -2 and t['seeding_time_limit'] == -2, f'{t["ratio_limit"]} {t["seeding_time_limit"]}')
    check(f'stopped magnet: state {stopped}DL (Sonarr: Paused)',
          t['state'] == f'{stopped}DL' and sonarr_status(t['state'], dht) == 'Paused', t['state'])
    check(f'stopped magnet: eta {UNKNOWN_ETA} (unknown)', t['eta'] == UNKNOWN_ETA, t['eta'])
    r = sonarr.request('POST', '/api/v2/torrents/setShareLimits',
                       form={'hashes': bymagnet['hash'], 'ratioLimit': '2', 'seedingTimeLimit': '120'})
    check('setShareLimits ratio 2, 120 min: 200', r.status == 200, f'HTTP {r.status} {r.text!r}')
    start = 'start' if api >= (2, 11, 0) else 'resume'
    r = sonarr.request('POST', f'/api/v2/torrents/{start}', form={'hashes': bymagnet['hash']})
    check(f'torrents/{start} (the user starts it): 200', r.status == 200, f'HTTP {r.status} {r.text!r}')

    # -- the queue poll (GetItems): webapiVersion, preferences, info?category, until both are done
    def poll():
        sonarr.request('GET', '/api/v2/app/webapiVersion')
        sonarr.request('GET', '/api/v2/app/preferences')
        items = info()
        mine = [items.get(byfile['hash']), items.get(bymagnet['hash'])]
        states = [x and x['state'] for x in mine]
        return all(x and sonarr_status(x['state'], dht) == 'Completed' and x['progress'] == 1 for x in mine), states

    wait('both reach a state Sonarr calls Completed', poll, args.timeout)
    items = info()
    limits = {byfile['hash']: (1, 60) if seed_in_add else (-2, -2), bymagnet['hash']: (2, 120)}
    for fxt in (byfile, bymagnet):
        t = items[fxt['hash']]
        label = fxt['name']
        check_torrent_fields(t, api, label)
        check(f'{label}: category "{CATEGORY}"', t['category'] == CATEGORY, t['category'])
        check(f'{label}: size {fxt["size"]}, amount_left 0', t['size'] == fxt['size'] and t['amount_left'] == 0,
              f'{t["size"]} {t["amount_left"]}')
        check(f'{label}: ratio_limit/seeding_time_limit {limits[fxt["hash"]]}',
              (t['ratio_limit'], t['seeding_time_limit']) == limits[fxt['hash']],
              f'{t["ratio_limit"]} {t["seeding_time_limit"]}')
        check(f'{label}: save_path is the default or the category\'s',
              norm(t['save_path']) in (norm(prefs['save_path']), norm(cats[CATEGORY]['savePath'])),
              f'{t["save_path"]} vs {prefs["save_path"]}')
        check(f'{label}: completion_on and added_on are set (unix seconds)',
              t['completion_on'] >= t['added_on'] > 1500000000, f'{t["added_on"]} {t["completion_on"]}')
        if api >= (2, 6, 1):
            # the import path: a folder for several files, the file for one; never save_path itself
            expected = os.path.join(norm(t['save_path']), fxt['name'])
            check(f'{label}: content_path {expected} differs from save_path (else "Unable to import")',
                  norm(t['content_path']) == expected and norm(t['content_path']) != norm(t['save_path']),
                  f'content_path {t["content_path"]} save_path {t["save_path"]}')
        p = sonarr.request('GET', '/api/v2/torrents/properties', query={'hash': fxt['hash']}).json()
        check(f'{label}: properties save_path equals the list\'s', norm(p.get('save_path')) == norm(t['save_path']),
              f'{p.get("save_path")} vs {t["save_path"]}')
        r = sonarr.request('GET', '/api/v2/torrents/files', query={'hash': fxt['hash']})
        names = [f.get('name') for f in r.json()] if r.status == 200 else []
        prefix = fxt['name'] + '/' if fxt['files'] > 1 else fxt['name']
        check(f'{label}: torrents/files has {fxt["files"]} "/"-separated names under "{fxt["name"]}"',
              len(names) == fxt['files'] and all(n.startswith(prefix) for n in names), names)

    # -- after the import: the post-import category (which must exist), tags
    r = sonarr.request('POST', '/api/v2/torrents/setCategory', form={'hashes': byfile['hash'], 'category': IMPORTED})
    check(f'setCategory "{IMPORTED}": 200', r.status == 200, f'HTTP {r.status} {r.text!r}')
    check(f'the torrent is listed under "{IMPORTED}", not "{CATEGORY}"',
          byfile['hash'] in info(IMPORTED) and byfile['hash'] not in info(), None)
    r = sonarr.request('POST', '/api/v2/torrents/setCategory',
                       form={'hashes': bymagnet['hash'], 'category': 'revaer-no-such-category'})
    check('setCategory to a category that does not exist: 409 ("Does the label exist?")', r.status == 409,
          f'HTTP {r.status} {r.text!r}')
    r = sonarr.request('POST', '/api/v2/torrents/addTags', form={'hashes': bymagnet['hash'], 'tags': TAG})
    check('addTags: 200', r.status == 200, f'HTTP {r.status} {r.text!r}')
    tags = info()[bymagnet['hash']]['tags']
    check(f'the torrent carries tag "{TAG}"', TAG in [x.strip() for x in tags.split(',')], tags)

    # -- RemoveItem with deleteData
    paths = []
    for fxt, cat in ((byfile, IMPORTED), (bymagnet, CATEGORY)):
        t = info(cat)[fxt['hash']]
        paths.append(t.get('content_path') or os.path.join(t['save_path'], fxt['name']))
        r = sonarr.request('POST', '/api/v2/torrents/delete', form={'hashes': fxt['hash'], 'deleteFiles': 'true'})
        check(f'{fxt["name"]}: torrents/delete deleteFiles=true: 200', r.status == 200, f'HTTP {r.status} {r.text!r}')
    wait('both are gone from torrents/info', lambda: (
        not ({byfile['hash'], bymagnet['hash']} & (set(info()) | set(info(IMPORTED)))), None), 30)
    wait('their data is gone from disk', lambda: (not any(os.path.exists(x) for x in paths),
                                                   [x for x in paths if os.path.exists(x)]), 30)
    r = sonarr.request('POST', '/api/v2/torrents/removeCategories', form={'categories': f'{CATEGORY}\n{IMPORTED}'})
    check('removeCategories: 200', r.status == 200, f'HTTP {r.status}')
    calls = sorted({p for _, p, _ in sonarr.calls})
    print(f'# {len(sonarr.calls)} calls to {len(calls)} endpoints: {" ".join(c.rsplit("/api/v2/", 1)[-1] for c in calls)}')


def main():
    ap = argparse.ArgumentParser(description='replay Sonarr\'s qBittorrent WebAPI v2 calls and check the answers')
    ap.add_argument('--url', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--api-key', help='as Sonarr with an API key (qBittorrent 5.2): Bearer, no login')
    ap.add_argument('--fixtures', required=True)
    ap.add_argument('--timeout', type=float, default=120)
    args = ap.parse_args()
    with open(args.fixtures) as f:
        fx = json.load(f)
    try:
        run(args, fx)
    except Stop as e:
        if str(e):
            not_ok('the replay', str(e))
    except (OSError, ValueError, KeyError) as e:
        not_ok('the replay', repr(e))
    sys.exit(1 if failed() else 0)


if __name__ == '__main__':
    main()
