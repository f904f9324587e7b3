#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The qBittorrent WebAPI v2 client tests: a real client (@ctrl/qbittorrent,
# qbt-client.mjs), the replay of Sonarr's calls (sonarr-replay.py) and bad
# input (bad-input.py), against torrents that local seeders serve
# (rv-qbt-fixtures.py). TAP out.
#
# The server comes from the environment, QBT_TARGET:
#   revaer  (the default when REVAERD is set) starts $REVAERD with its HTTP API
#           on 127.0.0.1, makes its first key through setup and a key of scope
#           manage, and logs in as $QBT_USER (revaer) with that key as the
#           password; the client and the Sonarr replay run a second time with the
#           key as a Bearer token
#   nox     starts qbittorrent-nox (Debian's 4.5.2, the reference) with a profile
#           of its own in a temp dir, Web UI on a free 127.0.0.1 port
#   url     a server already running: QBT_URL, QBT_USER, QBT_PASSWORD, and
#           QBT_SAVE_ROOT, a folder of this machine it may save into
# RV_TEST_SEEDER is tests/helpers/rv-test-seeder (default: under
# REVAER_BUILD_ROOT). The client needs `npm ci` in tests/qbt (bootstrap does it).
# A missing prerequisite skips (exit 77) outside CI and fails in CI.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../data/tap.sh
. "$here/../data/tap.sh"

python=/usr/bin/python3
target=${QBT_TARGET:-}
if [ -z "$target" ]; then
    if [ -n "${REVAERD:-}" ]; then target=revaer; else target=nox; fi
fi
seeder=${RV_TEST_SEEDER:-${REVAER_BUILD_ROOT:-$here/../../build}/tests/helpers/rv-test-seeder}

command -v node >/dev/null || skip_all "node is not installed"
[ -d "$here/node_modules/@ctrl/qbittorrent" ] || skip_all "@ctrl/qbittorrent is not installed (npm ci in tests/qbt)"
[ -x "$python" ] || skip_all "$python is missing"
[ -x "$seeder" ] || skip_all "the seeder $seeder is not built"
command -v curl >/dev/null || skip_all "curl is not installed"

TMP=$(mktemp -d /tmp/rv-qbt-test.XXXXXX)
chmod 755 "$TMP"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "${QBT_KEEP_TMP:-}" = 1 ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# status of GET URL without credentials
http_status() {
    curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null
}

start_nox() {
    command -v qbittorrent-nox >/dev/null || skip_all "qbittorrent-nox is not installed"
    local port
    port=$(free_port)
    QBT_USER=revaer
    QBT_PASSWORD="rv-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    QBT_SAVE_ROOT="$TMP/downloads"
    "$python" "$here/rv_qbt_nox.py" --profile "$TMP/nox" --webui-port "$port" --save-path "$QBT_SAVE_ROOT" \
        --user "$QBT_USER" --password "$QBT_PASSWORD" >/dev/null || return 1
    qbittorrent-nox --profile="$TMP/nox" --webui-port="$port" >"$TMP/nox.log" 2>&1 &
    pids+=($!)
    QBT_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        [ "$(http_status "$QBT_URL/api/v2/app/webapiVersion")" = 403 ] && return 0
        sleep 0.1
    done
    diag <"$TMP/nox.log"
    return 1
}

start_revaer() {
    [ -x "${REVAERD:-}" ] || skip_all "REVAERD is not set to revaerd"
    command -v jq >/dev/null || skip_all "jq is not installed"
    mkdir -p "$TMP/state" "$TMP/downloads"
    cat >"$TMP/revaerd.conf" <<CONF
[http]
listen=127.0.0.1:0
[engine]
listen-interfaces=127.0.0.1:0
dht=false
lsd=false
upnp=false
natpmp=false
utp=false
CONF
    "$REVAERD" --bus none --config "$TMP/revaerd.conf" --state-dir "$TMP/state" \
        --download-dir "$TMP/downloads" 2>"$TMP/revaerd.log" &
    pids+=($!)
    local url=
    for _ in $(seq 1 100); do
        url=$(sed -n 's/.*HTTP API at \(http[^ ]*\).*/\1/p' "$TMP/revaerd.log" | head -n 1)
        url=${url%/}
        [ -n "$url" ] && curl -sf "$url/health" >/dev/null 2>&1 && break
        url=
        sleep 0.1
    done
    if [ -z "$url" ]; then
        diag <"$TMP/revaerd.log"
        return 1
    fi
    # the first key through setup, then the key a *arr user would paste as the password
    local token admin
    token=$(curl -sS -X POST "$url/v1/setup/start" | jq -r .token)
    admin=$(curl -sS -X POST "$url/v1/setup/complete" -H 'Content-Type: application/json' \
        -d "{\"token\": \"$token\", \"label\": \"admin\"}" | jq -r .key)
    QBT_API_KEY=$(curl -sS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
        -d '{"label": "qbt-clients", "scope": "manage"}' "$url/v1/keys" | jq -r .key)
    if [ -z "$QBT_API_KEY" ] || [ "$QBT_API_KEY" = null ]; then
        echo "# no manage key from $url/v1/keys"
        return 1
    fi
    # save paths must lie under the download dir, so that bad-input.py --outside is refused
    local allowed
    allowed=$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' -d "{\"allowed_paths\": [\"$TMP/downloads\"]}" "$url/v1/settings/fs")
    if [ "$allowed" != 200 ]; then
        echo "# PATCH /v1/settings/fs allowed_paths: HTTP $allowed"
        return 1
    fi
    # any user name goes with a key of scope manage as the password
    QBT_USER=${QBT_USER:-revaer}
    QBT_PASSWORD=$QBT_API_KEY
    QBT_SAVE_ROOT="$TMP/downloads"
    QBT_URL=$url
    if [ "$(http_status "$url/api/v2/app/webapiVersion")" = 404 ]; then
        echo "# revaerd answers 404 on /api/v2: the qBittorrent facade is not in this build"
    fi
}

# runs a script whose output is TAP lines without numbers and numbers them;
# anything else it prints becomes a diagnostic, and a failing exit status
# without a failed line is a failure of its own
run_tap() {
    local line rc before=$failed
    "$@" >"$TMP/run.out" 2>&1
    rc=$?
    failed=0
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        "#"*) echo "$line" ;;
        *) echo "# $line" ;;
        esac
    done <"$TMP/run.out"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        not_ok "$(basename "$2") exited with status $rc"
    fi
    [ "$before" -ne 0 ] && failed=1
}

case "$target" in
nox) start_nox ;;
revaer) start_revaer ;;
url)
    for v in QBT_URL QBT_SAVE_ROOT; do
        [ -n "${!v:-}" ] || { echo "Bail out! QBT_TARGET=url needs $v"; exit 1; }
    done
    QBT_USER=${QBT_USER:-}
    QBT_PASSWORD=${QBT_PASSWORD:-}
    ;;
*)
    echo "Bail out! QBT_TARGET is revaer, nox or url, not '$target'"
    exit 1
    ;;
esac
status=$?
if [ "$status" -ne 0 ]; then
    echo "Bail out! the $target server did not start"
    exit 1
fi
ok "the $target server answers at $QBT_URL"

mkdir -p "$TMP/fixtures"
"$python" "$here/rv-qbt-fixtures.py" --seeder "$seeder" --dir "$TMP/fixtures" >"$TMP/fixtures.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
    [ -f "$TMP/fixtures/fixtures.json" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
done
if [ ! -f "$TMP/fixtures/fixtures.json" ]; then
    echo "Bail out! the seeders did not start"
    diag <"$TMP/fixtures.log"
    exit 1
fi
ok "$(grep -c "\"hash\"" "$TMP/fixtures/fixtures.json") torrents seeded on 127.0.0.1"

echo "# @ctrl/qbittorrent $(node -p 'require(process.argv[1]).version' "$here/node_modules/@ctrl/qbittorrent/package.json") against $target"
run_tap node "$here/qbt-client.mjs" --url "$QBT_URL" --user "$QBT_USER" --password "$QBT_PASSWORD" \
    --fixtures "$TMP/fixtures/fixtures.json" --save-root "$QBT_SAVE_ROOT"
if [ "$target" = revaer ]; then
    echo "# the same client with the key as a Bearer token"
    run_tap node "$here/qbt-client.mjs" --url "$QBT_URL" --api-key "$QBT_API_KEY" \
        --fixtures "$TMP/fixtures/fixtures.json" --save-root "$QBT_SAVE_ROOT"
fi
echo "# Sonarr's calls against $target"
run_tap "$python" "$here/sonarr-replay.py" --url "$QBT_URL" --user "$QBT_USER" --password "$QBT_PASSWORD" \
    --fixtures "$TMP/fixtures/fixtures.json"
if [ "$target" = revaer ]; then
    echo "# Sonarr's calls with the key in its API key field (qBittorrent 5.2): Bearer, no login"
    run_tap "$python" "$here/sonarr-replay.py" --url "$QBT_URL" --user "" --password "" --api-key "$QBT_API_KEY" \
        --fixtures "$TMP/fixtures/fixtures.json"
fi
# last: it ends with wrong passwords until the server locks 127.0.0.1 out
outside=()
[ "$target" = revaer ] && outside=(--outside "$TMP/outside")
echo "# bad input against $target"
run_tap "$python" "$here/bad-input.py" --url "$QBT_URL" --user "$QBT_USER" --password "$QBT_PASSWORD" \
    --fixtures "$TMP/fixtures/fixtures.json" "${outside[@]}"

if [ "$failed" -ne 0 ]; then
    for log in nox.log revaerd.log fixtures.log; do
        [ -s "$TMP/$log" ] && { echo "# --- $log (last 30 lines)"; tail -n 30 "$TMP/$log" | diag; }
    done
fi
echo "1..$n"
exit $failed
