#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Flags what Revaer's sources must not contain (STYLE.md): goto anywhere; and
in the daemon's and revaerctl's code (src/), g_error(), a bare g_assert(),
functions over 120 lines, D-Bus names or object paths written as string
literals outside src/base/, and a library's headers in a folder that may not
use it. Tests may abort on a failed check; they are exempt
from the rules that exist to keep the daemon running.

Usage: check-source.py [ROOT | FILE...]   exit 1 when anything is flagged."""

import os
import re
import sys

MAX_FUNCTION_LINES = 120
BUS_LITERAL = re.compile(r'"(com\.revaer\.Revaer1|/com/revaer/Revaer1)')
GOTO = re.compile(r"\bgoto\b")
# which folder of src/ may include which library's headers (ARCHITECTURE.md); the
# per-folder libraries of src/meson.build enforce the rest through include paths
LAYER_INCLUDES = [
    (re.compile(r'#include\s*<systemd/sd-bus'), ("src/bus/", "src/daemon/", "src/cli/")),
    (re.compile(r'#include\s*<systemd/'), ("src/bus/", "src/daemon/", "src/cli/", "src/http/")),
    (re.compile(r'#include\s*<libpq'), ("src/store/",)),
    (re.compile(r'#include\s*<libsoup'), ("src/http/", "src/cli/")),
    (re.compile(r'#include\s*<libtorrent/'), ("src/engine/",)),
    (re.compile(r'#include\s*<archive'), ("src/fsops/",)),
]
SRC_RULES = [
    (re.compile(r"\bg_error\s*\("), "g_error() aborts the daemon; return a GError instead"),
    (re.compile(r"\bg_assert\s*\("),
     "bare g_assert() vanishes under G_DISABLE_ASSERT; use g_return_val_if_fail() or handle the case"),
]


def strip_comments_and_strings(text, keep_strings=False):
    """Blanks comments (and string contents unless keep_strings), keeping lines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            if keep_strings:
                out.append(text[i:j])
            else:
                out.append(c + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_lengths(code):
    """Yields (name, first line, length) of each top-level function body."""
    depth = 0
    start = None
    name = None
    lines = code.split("\n")
    for lineno, line in enumerate(lines, 1):
        for ch in line:
            if ch == "{":
                if depth == 0:
                    start = lineno
                    name = None
                    # the name sits before the first '(' of the declaration above
                    for back in range(lineno - 1, max(lineno - 6, 0) - 1, -1):
                        m = re.search(r"\b([A-Za-z_]\w*)\s*\(", lines[back])
                        if m and not lines[back].lstrip().startswith(("struct", "typedef", "enum")):
                            name = m.group(1)
                            break
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0 and start is not None:
                    if name is not None:
                        yield name, start, lineno - start + 1
                    start = None


def check_file(path, rel):
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    code = strip_comments_and_strings(text)
    with_strings = strip_comments_and_strings(text, keep_strings=True)
    in_src = rel.startswith("src/")
    for lineno, line in enumerate(code.split("\n"), 1):
        if GOTO.search(line):
            problems.append(f"{rel}:{lineno}: goto; use g_autoptr cleanups and early returns")
        for rule, why in SRC_RULES if in_src else []:
            if rule.search(line):
                problems.append(f"{rel}:{lineno}: {why}")
    for lineno, line in enumerate(text.split("\n"), 1):
        for rule, allowed in LAYER_INCLUDES if in_src else []:
            if rule.search(line) and not rel.startswith(allowed):
                problems.append(f"{rel}:{lineno}: {line.strip()} is not for {rel.split('/')[1]}/ (see ARCHITECTURE.md)")
                break
    if in_src and not rel.startswith("src/base/"):
        for lineno, line in enumerate(with_strings.split("\n"), 1):
            if BUS_LITERAL.search(line):
                problems.append(f"{rel}:{lineno}: D-Bus name or path as a literal; use the names in src/base/")
    if in_src and rel.endswith((".c", ".cpp")):
        for name, start, length in function_lengths(code):
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{rel}:{start}: function {name}() is {length} lines, over {MAX_FUNCTION_LINES}")
    return problems


def main(argv):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    files = []
    if len(argv) > 1 and all(os.path.isfile(a) for a in argv[1:]):
        files = [(os.path.abspath(a), os.path.relpath(os.path.abspath(a), root)) for a in argv[1:]]
    else:
        if len(argv) > 1:
            root = os.path.abspath(argv[1])
        for top in ("src", "tests", "bench"):
            for dirpath, _, names in os.walk(os.path.join(root, top)):
                for n in sorted(names):
                    if n.endswith((".c", ".h", ".cpp", ".hpp")):
                        p = os.path.join(dirpath, n)
                        files.append((p, os.path.relpath(p, root)))
    problems = []
    for path, rel in sorted(files):
        # the planted defects of the checkers' own tests are meant to be found
        if "/lint/planted" in "/" + rel:
            continue
        problems.extend(check_file(path, rel))
    for p in problems:
        print(p)
    if problems:
        print(f"check-source: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
