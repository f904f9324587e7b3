# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP for the shell tests, sourced: numbered results, diagnostics, and the
# rule that a missing prerequisite skips outside CI and fails in CI, where
# nothing may be skipped. The script ends with: echo "1..$n"; exit $failed
# shellcheck shell=bash

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n $*"; }
diag() { sed 's/^/# /'; }
# check WHAT COMMAND...: ok when the command succeeds
check() {
    local what="$1"
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# the whole script cannot run here
skip_all() {
    if [ "${CI:-}" = "true" ]; then
        echo "Bail out! $1 (required in CI)"
        exit 1
    fi
    echo "1..0 # SKIP $1"
    exit 77
}

# one result cannot be had here: WHAT, the missing TOOL
skip() {
    n=$((n + 1))
    if [ "${CI:-}" = "true" ]; then
        failed=1
        echo "not ok $n $1 # $2 is required in CI"
    else
        echo "ok $n $1 # SKIP $2 is not installed"
    fi
}

# in_private_mounts VAR SCRIPT ARGS...: runs the script again in a mount
# namespace of its own (once: VAR marks the inner run), so its mounts never
# reach the host
in_private_mounts() {
    local var="$1"
    shift
    if [ -z "${!var:-}" ]; then
        export "$var=1"
        exec unshare -m --propagation private "$@"
    fi
}

# start_revaerd BUS DIR [ARG...]: $revaerd on the session or system bus with
# loopback-only networking, its revaerd.conf, state/ and downloads/ under DIR
# and its stderr in DIR/revaerd.log; as user REVAERD_USER when that is set.
# The pid is appended to pids and kept in REVAERD_PID. Returns non-zero when
# revaerd does not own its name in 10 s.
start_revaerd() {
    local bus="$1" dir="$2" busctl_bus
    shift 2
    case "$bus" in
    session) busctl_bus=--user ;;
    system) busctl_bus=--system ;;
    *) echo "start_revaerd: bus is session or system, not '$bus'" >&2; return 2 ;;
    esac
    mkdir -p "$dir/state" "$dir/downloads"
    cat >"$dir/revaerd.conf" <<CONF
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
    local as_user=()
    if [ -n "${REVAERD_USER:-}" ]; then
        # setpriv execs revaerd, so the pid to stop is revaerd's (runuser would wait for it)
        chown "$REVAERD_USER": "$dir/state" "$dir/downloads"
        as_user=(setpriv "--reuid=$REVAERD_USER" "--regid=$REVAERD_USER" --init-groups)
    fi
    "${as_user[@]}" "$revaerd" --bus "$bus" --config "$dir/revaerd.conf" --state-dir "$dir/state" \
        --download-dir "$dir/downloads" "$@" 2>"$dir/revaerd.log" &
    REVAERD_PID=$!
    pids+=("$REVAERD_PID")
    for _ in $(seq 1 100); do
        busctl "$busctl_bus" status com.revaer.Revaer1 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
