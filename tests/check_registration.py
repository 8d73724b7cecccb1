#!/usr/bin/env python3
"""Every TEST_CASE in tests/ runs under ctest, exactly once, and no ctest entry runs nothing.

  python3 tests/check_registration.py BUILD_DIR

doctest_discover_tests makes one ctest entry per test case, `exe --test-case=<name>`. A name that
CMake cannot carry (a ';' splits it into two list items) gives entries whose filter matches no test
case: they pass with "0 test cases" and the test case never runs. This check, itself a ctest entry:
  1. every TEST_CASE("...") written in tests/**/*.cpp is a test case of some test executable
     (listed with --no-skip, so that the float build's needs-double cases count);
  2. every test case an executable runs in this build (listed without --no-skip) is selected by
     exactly one ctest entry;
  3. every ctest entry's --test-case filter selects exactly one test case.
Exit 0 when all hold (prints the counts), 1 with one line per problem. Python 3 standard library.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_CASE = re.compile(r'TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')  # adjacent literals join
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def source_test_cases() -> dict[str, str]:
    """name -> the file that declares it, for every TEST_CASE in tests/."""
    found = {}
    for path in sorted((ROOT / "tests").rglob("*.cpp")):
        for literals in TEST_CASE.findall(path.read_text(errors="replace")):
            name = "".join(LITERAL.findall(literals))
            found[name.encode().decode("unicode_escape")] = str(path.relative_to(ROOT))
    return found


def ctest_entries(build: Path) -> list[dict]:
    out = subprocess.run(["ctest", "--test-dir", str(build), "--show-only=json-v1"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["tests"]


def listed_cases(exe: str, no_skip: bool) -> list[str]:
    """The test case names doctest lists: the lines between its two rules of '='."""
    args = [exe, "--list-test-cases", "--no-colors"] + (["--no-skip"] if no_skip else [])
    lines = subprocess.run(args, check=True, capture_output=True, text=True).stdout.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=====")]
    return lines[rules[0] + 1:rules[1]] if len(rules) >= 2 else []


def doctest_filter(command: list[str]) -> str | None:
    """The --test-case value of a doctest entry, with CMake's escaped commas restored."""
    for arg in command[1:]:
        if arg.startswith("--test-case="):
            return arg[len("--test-case="):]
    return None


def matches(pattern: str, name: str) -> bool:
    """doctest's filter: comma-separated alternatives ('\\,' is a literal comma), '*' and '?' wildcards."""
    alternatives = re.split(r"(?<!\\),", pattern)
    for alt in alternatives:
        alt = alt.replace("\\,", ",")
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in alt)
        if re.fullmatch(regex, name, flags=re.DOTALL):
            return True
    return False


def main() -> int:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: check_registration.py BUILD_DIR", file=sys.stderr)
        return 2
    build = Path(sys.argv[1])
    filters: dict[str, list[tuple[str, str]]] = defaultdict(list)  # exe -> (ctest name, filter)
    for entry in ctest_entries(build):
        command = entry.get("command") or []
        f = doctest_filter(command)
        if f is not None:
            filters[command[0]].append((entry["name"], f))

    problems = []
    every_case = set()
    running = 0
    for exe, entries in sorted(filters.items()):
        every_case.update(listed_cases(exe, no_skip=True))
        cases = listed_cases(exe, no_skip=False)
        running += len(cases)
        selected_by = defaultdict(list)
        for ctest_name, f in entries:
            hits = [c for c in cases if matches(f, c)]
            if len(hits) != 1:
                problems.append(f"ctest entry '{ctest_name}' selects {len(hits)} test cases of {Path(exe).name}")
            for c in hits:
                selected_by[c].append(ctest_name)
        for c in cases:
            if len(selected_by[c]) != 1:
                problems.append(f"{Path(exe).name}: test case '{c}' runs under {len(selected_by[c])} ctest entries")
    for name, path in sorted(source_test_cases().items()):
        if name not in every_case:
            problems.append(f"{path}: TEST_CASE '{name}' is in no test executable")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"check_registration: {running} test cases in {len(filters)} executables, each run by exactly one "
          f"ctest entry ({len(source_test_cases())} TEST_CASEs in the sources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
