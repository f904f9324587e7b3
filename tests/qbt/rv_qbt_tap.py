# SPDX-License-Identifier: LGPL-2.1-or-later
"""TAP lines for the qBittorrent client scripts (sonarr-replay.py, bad-input.py):
ok/not_ok/check print them, failed() says whether any check failed."""

_failed = False


def ok(what):
    print(f'ok - {what}', flush=True)


def not_ok(what, detail=None):
    global _failed
    _failed = True
    print(f'not ok - {what}', flush=True)
    if detail is not None:
        for line in str(detail).splitlines():
            print(f'# {line}', flush=True)


def check(what, cond, detail=None):
    if cond:
        ok(what)
    else:
        not_ok(what, detail)
    return cond


def failed():
    return _failed
