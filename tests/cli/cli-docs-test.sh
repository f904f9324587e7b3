#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# revaerctl's bash completion and man page: they parse, and they know every
# command and option that `revaerctl --help` lists.
set -u
completion=$1
manpage=$2
revaerctl=$3
n=0
status=0

ok() {
    n=$((n + 1))
    echo "ok $n $1"
}

not_ok() {
    n=$((n + 1))
    echo "not ok $n $1"
    status=1
}

skip() {
    n=$((n + 1))
    # outside CI a missing tool skips; in CI nothing skips
    if [ "${CI:-}" = "true" ]; then
        echo "not ok $n $1 # $2 is required in CI"
        status=1
    else
        echo "ok $n $1 # SKIP $2 is not installed"
    fi
}

if bash -n "$completion"; then ok "completion parses"; else not_ok "completion parses"; fi

if command -v groff >/dev/null; then
    warnings=$(groff -man -z -ww "$manpage" 2>&1)
    if [ -z "$warnings" ]; then ok "man page has no groff warnings"; else
        not_ok "man page has groff warnings"
        echo "$warnings" | sed 's/^/# /'
    fi
else
    skip "man page has no groff warnings" groff
fi

if command -v man >/dev/null; then
    warnings=$(man --warnings -l "$manpage" 2>&1 >/dev/null)
    if [ -z "$warnings" ]; then ok "man --warnings is quiet"; else
        not_ok "man --warnings is quiet"
        echo "$warnings" | sed 's/^/# /'
    fi
else
    skip "man --warnings is quiet" man
fi

# the commands, from the program itself
commands=$("$revaerctl" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 != "Commands:" { print $1 }')
if [ -n "$commands" ]; then ok "revaerctl --help lists commands"; else not_ok "revaerctl --help lists commands"; fi

complete_words() {
    # prints what the completion offers for the words given, the last one being completed
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _revaerctl; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$completion" "$@"
}

# every long option of a command ("config set" for a subcommand), except the global ones
check_options() {
    local name=$1 opt roff options offered
    shift
    options=$("$revaerctl" "$@" --help | grep -o -- '^  \(-., \)\?--[a-z-]*' | sed 's/.*--/--/' |
        grep -vx -- '--help\|--user\|--system\|--json')
    offered=$(complete_words revaerctl "$@" --)
    for opt in $options; do
        if echo "$offered" | grep -qx -- "$opt"; then ok "completion offers $name $opt"; else
            not_ok "completion offers $name $opt"
        fi
        # roff writes dashes as \-
        roff=$(echo "$opt" | sed 's/-/\\\\-/g')
        if grep -q -- "$roff" "$manpage"; then ok "man page documents $name $opt"; else
            not_ok "man page documents $name $opt"
        fi
    done
}

for cmd in $commands; do
    if complete_words revaerctl "${cmd:0:3}" | grep -qx -- "$cmd"; then ok "completion offers $cmd"; else
        not_ok "completion offers $cmd"
    fi
    if grep -q -- "^\\.B[IR]* \"\\?$cmd\\b" "$manpage"; then ok "man page documents $cmd"; else
        not_ok "man page documents $cmd"
    fi
    check_options "$cmd" "$cmd"
    # a command with subcommands lists them in its help
    subcommands=$("$revaerctl" "$cmd" --help | sed -n '/^Subcommands:/,/^$/p' |
        awk 'NF > 1 && $1 != "Subcommands:" { print $1 }')
    for sub in $subcommands; do
        if complete_words revaerctl "$cmd" "${sub:0:2}" | grep -qx -- "$sub"; then
            ok "completion offers $cmd $sub"
        else
            not_ok "completion offers $cmd $sub"
        fi
        if grep -q -- "^\\.B[IR]* \"$cmd $sub\\b" "$manpage"; then ok "man page documents $cmd $sub"; else
            not_ok "man page documents $cmd $sub"
        fi
        check_options "$cmd $sub" "$cmd" "$sub"
    done
done

echo "1..$n"
exit $status
