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
