#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The examples of docs/http-api.md, run in order against a fresh revaerd:
# every ```sh block must succeed (they check their own answers with jq -e,
# grep and test), so the document cannot drift from what the API does.
set -u
revaerd=$1
doc=$2
. "$(dirname "$0")/../data/tap.sh"

for tool in curl jq; do
    command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done
TMP=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
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
"$revaerd" --bus none --config "$TMP/revaerd.conf" --state-dir "$TMP/state" --download-dir "$TMP/downloads" \
    2>"$TMP/revaerd.log" &
pids+=($!)
URL=
for _ in $(seq 1 100); do
    URL=$(sed -n 's/.*HTTP API at \(http[^ ]*\).*/\1/p' "$TMP/revaerd.log" | head -n 1)
    URL=${URL%/}
    [ -n "$URL" ] && curl -sf "$URL/health" >/dev/null 2>&1 && break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "Bail out! revaerd did not start"
    diag <"$TMP/revaerd.log"
    exit 1
fi
export URL TMP

# the blocks, each into a file of its own, run one after the other in one shell
awk -v dir="$TMP" '
    /^```sh$/ { n++; file = sprintf("%s/example-%02d.sh", dir, n); inside = 1; next }
    /^```$/ { inside = 0; next }
    inside { print > file }
' "$doc"
examples=("$TMP"/example-*.sh)
if [ "${#examples[@]}" -lt 10 ]; then
    not_ok "docs/http-api.md has examples (found ${#examples[@]})"
fi
# one shell for all, so what an example defines is there for the next; -e stops at the first
# command that fails, and the trap says which example it was in
{
    echo 'set -eo pipefail'
    echo "trap 'echo failed' ERR"
    for f in "${examples[@]}"; do
        echo ". '$f' >'$f.out' 2>&1"
        echo "echo ok"
    done
} >"$TMP/run.sh"
results=$(bash "$TMP/run.sh")
i=0
for f in "${examples[@]}"; do
    i=$((i + 1))
    line=$(sed -n "${i}p" <<<"$results")
    first=$(head -n 1 "$f")
    if [ "$line" = ok ]; then
        ok "example $i: $first"
    else
        not_ok "example $i: $first"
        diag <"$f"
        diag <"$f.out"
        break
    fi
done
echo "1..$n"
exit $failed
