#!/usr/bin/env bash
# ctest runs each doctest case by its name, and its discovery splits a name at ';' (a CMake
# list separator): a case named "a; b" would become two ctest entries that match no case
# and pass without running anything. Fails naming every such case of the given binaries.
set -euo pipefail
bad=0
for bin in "$@"; do
  while IFS= read -r name; do
    case "$name" in
      "[doctest]"* | "=============================================================================="*) ;;
      *";"*) echo "$(basename "$bin"): a test case name holds ';': $name"; bad=1 ;;
    esac
  done < <("$bin" --list-test-cases --no-version)
done
[ "$bad" -eq 0 ] && echo "$# binaries: every test case name can be run by ctest"
exit "$bad"
