#!/usr/bin/python3
"""Architecture check (VAL-3): pure cores include no actor, clock, random or I/O headers
and read no clock; only persistence/ includes LMDB.

Usage: check_boundaries.py SOURCE_ROOT
Prints one line per violation naming the file, the line and the include, and exits 1;
exits 0 when the tree keeps its boundaries.
"""
import os
import re
import sys

# The pure cores: deterministic functions of their inputs (no clock, random source, I/O
# or actors).
PURE = re.compile(r"(_policy|_fsm|_machine|flight_steps|signal_history|prometheus_answer|validation|console_protocol|http_routes|projection|codec|record)\.(hpp|cpp)$")
ALLOWED_CAF = {"caf/error.hpp", "caf/expected.hpp", "caf/optional.hpp", "caf/timespan.hpp",
               "caf/timestamp.hpp", "caf/meta/annotation.hpp", "caf/meta/load_callback.hpp",
               "caf/meta/type_name.hpp", "caf/meta/hex_formatted.hpp"}
FORBIDDEN_STD = {"random", "thread", "fstream", "iostream", "filesystem", "future", "ctime",
                 "cstdio", "lmdb.h", "unistd.h", "sys/socket.h"}
FORBIDDEN_CALLS = re.compile(r"\b(system_clock|steady_clock|high_resolution_clock)::now\b|"
                             r"\brandom_device\b|\bstd::rand\b|\bmake_timestamp\b")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
SKIP = ("tests/", "bench/", "examples/", "build", ".git")


def check(root):
    problems = []
    for dirpath, _, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.startswith(SKIP) or "/build" in rel_dir:
            continue
        for name in sorted(files):
            if not name.endswith((".hpp", ".cpp", ".h")):
                continue
            rel = os.path.normpath(os.path.join(rel_dir, name))
            pure = bool(PURE.search(name))
            with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m:
                        inc = m.group(1)
                        if inc == "lmdb.h" and not rel.startswith("persistence/"):
                            problems.append(f"{rel}:{n}: includes <lmdb.h> outside persistence/")
                        if pure and inc.startswith("caf/") and inc not in ALLOWED_CAF:
                            problems.append(f"{rel}:{n}: pure core includes <{inc}>")
                        if pure and inc in FORBIDDEN_STD:
                            problems.append(f"{rel}:{n}: pure core includes <{inc}>")
                    elif pure and FORBIDDEN_CALLS.search(line.split("//")[0]):
                        problems.append(f"{rel}:{n}: pure core reads a clock or a random source")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
