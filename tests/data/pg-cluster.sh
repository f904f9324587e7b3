#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# a throwaway PostgreSQL cluster for the tests, in a directory of its own:
#
#   pg-cluster.sh start DIR [PID]
#                               create it if needed, start it, print its conninfo;
#                               with PID, destroy it once process PID is gone
#                               (a test that crashes leaves no server behind)
#   pg-cluster.sh stop DIR      stop it, keeping the data (start brings it back)
#   pg-cluster.sh destroy DIR   stop it and remove DIR
#
# The server runs as user postgres (it refuses root), listens on a unix socket
# in DIR only, on a port of its own (kept in DIR/port across restarts), with
# fsync off. Exits 77 (skip) when not root or without PostgreSQL, except in CI
# (CI=true), where that is a failure.
set -eu

skip() {
        if [ "${CI:-}" = true ]; then
                echo "pg-cluster: $*" >&2
                exit 1
        fi
        echo "pg-cluster: $*, skipping" >&2
        exit 77
}

usage() {
        echo "usage: $0 start|stop|destroy DIR" >&2
        exit 2
}

[ $# -eq 2 ] || [ $# -eq 3 ] || usage
cmd=$1
dir=$2
watch_pid=${3:-}
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
        # the newest installed server
        for d in /usr/lib/postgresql/*/bin; do
                [ -x "$d/pg_ctl" ] && bindir=$d
        done
fi
[ "$(id -u)" = 0 ] || skip "needs root to run the server as user postgres"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
        skip "no PostgreSQL server binaries"
fi
id postgres >/dev/null 2>&1 || skip "no user postgres"

as_postgres() {
        runuser -u postgres -- "$@"
}

port_in_use() {
        hex=$(printf ':%04X ' "$1")
        cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi "$hex"
}

pick_port() {
        i=0
        while [ $i -lt 50 ]; do
                port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
                if ! port_in_use $port; then
                        echo $port
                        return 0
                fi
                i=$((i + 1))
        done
        echo "pg-cluster: no free port" >&2
        return 1
}

running() {
        [ -f "$dir/data/postmaster.pid" ] && as_postgres "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case $cmd in
start)
        mkdir -p "$dir"
        # postgres must reach DIR: a private temp dir is 0700
        chmod 755 "$dir"
        chown postgres: "$dir"
        if ! as_postgres test -w "$dir"; then
                echo "pg-cluster: user postgres cannot reach $dir (its parent directories must be searchable)" >&2
                exit 1
        fi
        if [ ! -f "$dir/data/PG_VERSION" ]; then
                as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
                        >"$dir/initdb.log" 2>&1 || {
                        cat "$dir/initdb.log" >&2
                        exit 1
                }
        fi
        [ -f "$dir/port" ] || pick_port >"$dir/port"
        port=$(cat "$dir/port")
        if ! running; then
                as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "-k $dir -p $port \
                        -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
                        start >/dev/null || {
                        cat "$dir/server.log" >&2
                        exit 1
                }
        fi
        if [ -n "$watch_pid" ]; then
                # its own session: a harness that kills the test's process group does not take it along
                # shellcheck disable=SC2016 # the inner shell expands its own arguments
                setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec "$2" destroy "$3"' \
                        sh "$watch_pid" "$0" "$dir" </dev/null >/dev/null 2>&1 &
        fi
        echo "host=$dir port=$port user=postgres dbname=postgres"
        ;;
stop)
        if running; then
                as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
        fi
        ;;
destroy)
        if running; then
                as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null || true
        fi
        rm -rf "$dir"
        ;;
*)
        usage
        ;;
esac
