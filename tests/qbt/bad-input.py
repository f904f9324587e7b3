#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Bad input to a qBittorrent WebAPI v2 server, answered as qBittorrent 4.5.2
# answers it (every expectation here was taken from qbittorrent-nox), and
# nothing changed by it: unknown endpoints and hashes, missing parameters, the
# wrong method, a .torrent that is garbage, a URL that is none, an existing or
# missing category, a save path outside the server's roots (only where the
# server has roots: --outside PATH), and wrong passwords past the limit, last,
# since it locks this address out.
#
#   bad-input.py --url URL --user U --password P --fixtures FILE [--outside PATH]
#
# Prints TAP lines without a plan ("ok - ..."); qbt-test.sh counts them.
# Standard library only.

import argparse
import http.client
import json
import sys
import time
import urllib.parse
import uuid

from rv_qbt_tap import check, failed, not_ok

UNKNOWN = '0' * 40
CATEGORY = 'revaer-bad-input'


class Api:
    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookie = None

    def call(self, method, path, query=None, form=None, files=None, cookie=True):
        headers = {}
        if cookie and self.cookie:
            headers['Cookie'] = self.cookie
        body = None
        if files is not None:
            boundary = uuid.uuid4().hex
            chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                      for k, v in (form or {}).items()]
            for name, (filename, content) in files.items():
                chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                              'Content-Type: application/x-bittorrent\r\n\r\n'.encode() + content + b'\r\n')
            chunks.append(f'--{boundary}--\r\n'.encode())
            body = b''.join(chunks)
            headers['Content-Type'] = f'multipart/form-data; boundary={boundary}'
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        target = '/api/v2/' + path + ('?' + urllib.parse.urlencode(query) if query else '')
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        return resp.status, data.decode('utf-8', 'replace'), resp

    def login(self, user, password):
        status, text, resp = self.call('POST', 'auth/login', form={'username': user, 'password': password},
                                       cookie=False)
        cookie = resp.getheader('Set-Cookie')
        if status == 200 and text == 'Ok.' and cookie:
            self.cookie = cookie.split(';', 1)[0]
        return status, text, cookie


def snapshot(api):
    """what bad input must leave as it was"""
    _, text, _ = api.call('GET', 'torrents/info')
    torrents = {t['hash']: {k: t.get(k) for k in ('name', 'category', 'tags', 'save_path', 'state', 'ratio_limit',
                                                     'seeding_time_limit', 'size')}
                for t in json.loads(text)}
    _, text, _ = api.call('GET', 'torrents/categories')
    return {'torrents': torrents, 'categories': json.loads(text)}


def expect(api, what, method, path, statuses, bodies=None, **kw):
    status, text, _ = api.call(method, path, **kw)
    good = status in statuses and (bodies is None or text in bodies)
    want = ' or '.join(map(str, statuses)) + (f' with {" or ".join(map(repr, bodies))}' if bodies else '')
    return check(f'{what}: {want}', good, f'HTTP {status} {text[:200]!r}')


def run(args, fx):
    api = Api(args.url)
    status, text, _ = api.login(args.user, args.password)
    if not check('auth/login', api.cookie is not None, f'HTTP {status} {text!r}'):
        return
    _, version, _ = api.call('GET', 'app/webapiVersion')
    api_version = tuple(int(x) for x in version.split('.'))
    stopped = 'stopped' if api_version >= (2, 11, 0) else 'paused'

    # one stopped torrent and a category to aim the bad input at
    target = fx['torrents']['bad-input']
    with open(target['torrent'], 'rb') as f:
        blob = f.read()
    status, text, _ = api.call('POST', 'torrents/add', form={stopped: 'true'},
                               files={'torrents': ('bad-input.torrent', blob)})
    check('a stopped torrent to aim at is added', status == 200 and text != 'Fails.', f'HTTP {status} {text!r}')
    api.call('POST', 'torrents/createCategory', form={'category': CATEGORY})
    for _ in range(50):
        if target['hash'] in snapshot(api)['torrents']:
            break
        time.sleep(0.1)
    before = snapshot(api)
    h = target['hash']

    # unknown endpoints and the wrong method
    expect(api, 'an unknown endpoint', 'GET', 'torrents/nosuch', (404,))
    expect(api, 'an unknown API area', 'GET', 'nosuch/thing', (404,))
    expect(api, 'GET of an action that takes POST (torrents/pause)', 'GET', 'torrents/pause',
           (405,), query={'hashes': h})

    # missing parameters
    expect(api, 'torrents/properties without hash', 'GET', 'torrents/properties', (400,))
    expect(api, 'torrents/setShareLimits without ratioLimit and seedingTimeLimit', 'POST',
           'torrents/setShareLimits', (400,), form={'hashes': h})
    expect(api, 'torrents/setLocation without location', 'POST', 'torrents/setLocation', (400,),
           form={'hashes': h})
    expect(api, 'torrents/createCategory with an empty name', 'POST', 'torrents/createCategory', (400,),
           form={'category': ''})

    # unknown hashes: reads of one torrent are 404, actions on a list ignore what they do not know
    expect(api, 'torrents/properties of an unknown hash', 'GET', 'torrents/properties', (404,),
           query={'hash': UNKNOWN})
    expect(api, 'torrents/files of an unknown hash', 'GET', 'torrents/files', (404,), query={'hash': UNKNOWN})
    expect(api, 'torrents/filePrio of an unknown hash', 'POST', 'torrents/filePrio', (404,),
           form={'hash': UNKNOWN, 'id': '0', 'priority': '1'})
    pause = 'stop' if api_version >= (2, 11, 0) else 'pause'
    for path, form in ((f'torrents/{pause}', {}), ('torrents/setForceStart', {'value': 'true'}),
                       ('torrents/addTags', {'tags': 'x'}), ('torrents/delete', {'deleteFiles': 'true'})):
        expect(api, f'{path} of an unknown hash (ignored)', 'POST', path, (200,), form={'hashes': UNKNOWN, **form})

    # categories
    expect(api, 'createCategory of an existing category', 'POST', 'torrents/createCategory', (409,),
           form={'category': CATEGORY})
    expect(api, 'editCategory of a missing category', 'POST', 'torrents/editCategory', (409,),
           form={'category': 'revaer-no-such-category', 'savePath': ''})
    expect(api, 'setCategory of a torrent to a missing category', 'POST', 'torrents/setCategory', (409,),
           form={'hashes': h, 'category': 'revaer-no-such-category'})

    # what is added must be a torrent
    expect(api, 'torrents/add of a .torrent that is garbage', 'POST', 'torrents/add', (415,),
           files={'torrents': ('garbage.torrent', b'd8:announce4:nope')})
    expect(api, 'torrents/add of a URL that is neither magnet nor http', 'POST', 'torrents/add', (200, 400, 415),
           form={'urls': 'not a link'}, files={})
    status, text, _ = api.call('POST', 'torrents/add', form={'urls': 'not a link'}, files={})
    check('... and is not "Ok."', text != 'Ok.', f'HTTP {status} {text!r}')
    expect(api, 'torrents/add with neither urls nor torrents', 'POST', 'torrents/add', (200, 400),
           form={'category': CATEGORY}, files={})

    if args.outside:
        other = fx['torrents']['replay-file']
        with open(other['torrent'], 'rb') as f:
            status, text, _ = api.call('POST', 'torrents/add', form={'savepath': args.outside, stopped: 'true'},
                                       files={'torrents': ('outside.torrent', f.read())})
        check(f'torrents/add with a save path outside the roots ({args.outside}) is refused',
              status in (400, 403, 409, 415) or text == 'Fails.', f'HTTP {status} {text!r}')
        expect(api, 'setLocation outside the roots', 'POST', 'torrents/setLocation', (400, 403, 409),
               form={'hashes': h, 'location': args.outside})
        expect(api, 'createCategory with a save path outside the roots', 'POST', 'torrents/createCategory',
               (400, 403, 409), form={'category': 'revaer-outside', 'savePath': args.outside})

    after = snapshot(api)
    check('nothing changed: the same torrents with the same fields, the same categories', after == before,
          json.dumps({'before': before, 'after': after}, indent=1, sort_keys=True))

    api.call('POST', 'torrents/delete', form={'hashes': h, 'deleteFiles': 'true'})
    api.call('POST', 'torrents/removeCategories', form={'categories': CATEGORY})

    # last: wrong passwords until the server locks this address out; qBittorrent 4.5.2
    # answers "Fails." five times, then 403 for every login, the right password included,
    # while a session made before goes on working
    stranger = Api(args.url)
    fails = 0
    status, text = 200, 'Fails.'
    for _ in range(20):
        status, text, cookie = stranger.login(args.user, args.password + '-wrong')
        if status != 200 or text != 'Fails.':
            break
        if cookie is not None:
            not_ok('a failed login sets no cookie', cookie)
        fails += 1
    check(f'wrong passwords: "Fails." until a limit ({fails} times), then 403', 0 < fails < 20 and status == 403,
          f'HTTP {status} {text!r} after {fails}')
    status, text, _ = stranger.login(args.user, args.password)
    check('past the limit the right password is refused too: 403', status == 403 and stranger.cookie is None,
          f'HTTP {status} {text!r}')
    status, text, _ = api.call('GET', 'app/webapiVersion')
    check('a session made before the lockout keeps working', status == 200, f'HTTP {status} {text!r}')


def main():
    ap = argparse.ArgumentParser(description='bad input to a qBittorrent WebAPI v2 server')
    ap.add_argument('--url', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--fixtures', required=True)
    ap.add_argument('--outside', help='a save path outside the server\'s roots (servers that have roots)')
    args = ap.parse_args()
    with open(args.fixtures) as f:
        fx = json.load(f)
    try:
        run(args, fx)
    except (OSError, ValueError, KeyError) as e:
        not_ok('bad input', repr(e))
    sys.exit(1 if failed() else 0)


if __name__ == '__main__':
    main()
