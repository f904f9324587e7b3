#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds Revaer's libFuzzer targets (tests/fuzz, -Dfuzz=true with clang) in a
# build directory of their own and runs them.
#   scripts/fuzz.sh [SECONDS]            every target for SECONDS each (default 60): what CI runs
#   scripts/fuzz.sh TARGET [SECONDS]     one target (magnet, torrent, ...), default 600 seconds
# A crash, a leak, a timeout (one input over 10 s) or running out of memory
# fails the run; the input that did it is left in BUILD/fuzz-artifacts/ and
# belongs in tests/fuzz/corpus/TARGET/ with the fix. Inputs that reached new
# code are kept in BUILD/fuzz-corpus/TARGET/, the seeds in the tree are only read.
# Per target it prints executions per second, total executions and the edges covered.
# FUZZ_BUILD_DIR overrides the build directory (default build-fuzz).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="${FUZZ_BUILD_DIR:-build-fuzz}"

if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true >/dev/null
fi
ninja -C "$build" fuzz >/dev/null

all=()
for f in "$build"/tests/fuzz/fuzz-*; do
    [ -x "$f" ] && [ -f "$f" ] && all+=("${f##*/fuzz-}")
done

if [ $# -ge 1 ] && [[ ! "$1" =~ ^[0-9]+$ ]]; then
    targets=("$1")
    seconds="${2:-600}"
    if [ ! -x "$build/tests/fuzz/fuzz-$1" ]; then
        echo "fuzz: no target '$1' (there are: ${all[*]})" >&2
        exit 2
    fi
else
    targets=("${all[@]}")
    seconds="${1:-60}"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# no per-thread slice magazines: a worker thread's would outlive the input that made them
# (see rv_fuzz_warm_threads in tests/fuzz/rv-fuzz.c)
export G_SLICE=always-malloc
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"

failed=()
summary=()
for t in "${targets[@]}"; do
    seeds="tests/fuzz/corpus/$t"
    work="$build/fuzz-corpus/$t"
    log="$build/fuzz-logs/$t.log"
    mkdir -p "$work"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1
          -artifact_prefix="$build/fuzz-artifacts/$t-")
    [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    echo "fuzz: $t for ${seconds}s"
    status=0
    "$build/tests/fuzz/fuzz-$t" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    edges="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
    result=ok
    if [ "$status" -ne 0 ]; then
        result="FAILED ($status)"
        failed+=("$t")
        echo "fuzz: $t failed; the end of $log:" >&2
        grep -E 'ERROR|SUMMARY|Test unit written|^rv-fuzz' "$log" | tail -n 20 >&2 || tail -n 30 "$log" >&2
    fi
    summary+=("$(printf '%-16s %10s %14s %8s  %s' "$t" "${rate:-?}" "${execs:-?}" "${edges:-?}" "$result")")
done

printf '\n%-16s %10s %14s %8s  %s\n' target exec/s executions edges result
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]} (inputs in $build/fuzz-artifacts/)" >&2
    exit 1
fi
