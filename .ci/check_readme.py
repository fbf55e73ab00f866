#!/usr/bin/env python3
"""Checks that README.md shows every example exactly as it is in examples/.

A code block in README.md is tied to a file by an HTML comment on the line right before its
opening fence:

    <!-- example: examples/signal.cpp -->
    ```cpp
    ...the whole file...
    ```

The check fails (exit status 1, with a diff) when a marked block differs from its file (a trailing
newline at the end of the file is ignored), when a marked file does not exist, when a marker is not
followed by a fenced block, or when a file examples/*.cpp or examples/*.hpp is not shown in the
README at all. `--update` rewrites every marked block from its file instead of checking.

Python 3 standard library only; run from anywhere: python3 .ci/check_readme.py [--update]
"""

import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*example:\s*(\S+)\s*-->\s*$")
FENCE = "```"


def read_text(path):
    # newline="" keeps the bytes as they are (no \r\n translation): the comparison is exact.
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def find_blocks(lines):
    """Yields (marker line index, path, first code line index, closing fence index) per marker;
    errors are yielded as strings."""
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].rstrip("\r\n"))
        if not m:
            i += 1
            continue
        path = m.group(1)
        opening = i + 1
        if opening >= len(lines) or not lines[opening].startswith(FENCE):
            yield f"README.md:{i + 1}: marker for {path} is not followed by a ``` code block"
            i += 1
            continue
        closing = opening + 1
        while closing < len(lines) and lines[closing].rstrip("\r\n") != FENCE:
            closing += 1
        if closing >= len(lines):
            yield f"README.md:{opening + 1}: code block for {path} is never closed"
            return
        yield (i, path, opening + 1, closing)
        i = closing + 1


def main(argv):
    update = "--update" in argv[1:]
    unknown = [a for a in argv[1:] if a != "--update"]
    if unknown:
        print(f"usage: {argv[0]} [--update]", file=sys.stderr)
        return 2

    lines = read_text(README).splitlines(keepends=True)
    errors = []
    shown = set()
    replacements = []  # (first code line, closing fence, new code lines)

    for item in find_blocks(lines):
        if isinstance(item, str):
            errors.append(item)
            continue
        marker, rel, first, closing = item
        shown.add(rel)
        path = ROOT / rel
        if not path.is_file():
            errors.append(f"README.md:{marker + 1}: {rel} does not exist")
            continue
        expected = read_text(path)
        if expected.endswith("\n"):
            expected = expected[:-1]
        actual = "".join(lines[first:closing])
        if actual.endswith("\n"):
            actual = actual[:-1]
        if actual == expected:
            continue
        if update:
            replacements.append((first, closing, (expected + "\n").splitlines(keepends=True)))
            continue
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=rel,
            tofile=f"README.md (lines {first + 1}-{closing})",
        )
        errors.append(
            f"README.md:{first + 1}: the block shown for {rel} differs from the file:\n" + "".join(diff)
        )

    examples = sorted(
        p.relative_to(ROOT).as_posix()
        for pattern in ("*.cpp", "*.hpp")
        for p in (ROOT / "examples").glob(pattern)
    )
    for rel in examples:
        if rel not in shown:
            errors.append(
                f"{rel} is not shown in README.md (add a block preceded by <!-- example: {rel} -->)"
            )

    if update and replacements:
        for first, closing, new in sorted(replacements, reverse=True):
            lines[first:closing] = new
        with open(README, "w", encoding="utf-8", newline="") as f:
            f.write("".join(lines))
        print(f"README.md: rewrote {len(replacements)} example block(s) from their files")

    if errors:
        for e in errors:
            print(e if e.endswith("\n") else e + "\n", file=sys.stderr, end="")
        print(f"check_readme: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_readme: README.md shows all {len(examples)} files of examples/, each identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
