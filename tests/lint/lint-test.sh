#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard rails guard: the linter and the source checker each find the
# defects planted in tests/lint/planted/, and pass on the tree itself.
set -uo pipefail
root="${REVAER_SOURCE_ROOT:?}"
# shellcheck source=../data/tap.sh
. "$root/tests/data/tap.sh"
planted="$root/tests/lint/planted"

if ! command -v cppcheck >/dev/null 2>&1; then
    skip "cppcheck finds the planted out-of-bounds write" cppcheck
else
    out="$("$root/scripts/lint.sh" "$planted/planted-oob.c" 2>&1)"
    rc=$?
    check "cppcheck fails on the planted out-of-bounds write (exit $rc)" test "$rc" -ne 0
    check "cppcheck names the write after G_DEFINE_AUTOPTR_CLEANUP_FUNC" \
        grep -q "planted-oob.c:30.*arrayIndexOutOfBounds" <<<"$out"
    check "cppcheck sees through G_DEFINE_QUARK" bash -c '! grep -q unknownMacro <<<"$1"' _ "$out"
    printf '%s\n' "$out" | diag
fi

out="$(cd "$planted" && python3 "$root/scripts/check-source.py" "$planted" 2>&1)"
rc=$?
check "check-source fails on the planted file (exit $rc)" test "$rc" -ne 0
for what in "bare g_assert" "goto" "g_error" "D-Bus name" "is not for core/"; do
    check "check-source flags $what" grep -q "planted-source.c:.*$what" <<<"$out"
done
printf '%s\n' "$out" | diag

out="$(python3 "$root/scripts/check-source.py" "$root" 2>&1)"
check "check-source passes on the tree" test $? -eq 0
printf '%s\n' "$out" | diag

echo "1..$n"
exit "$failed"
