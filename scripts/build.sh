#!/usr/bin/env bash
# Installs the Debian packages Bulwark needs, then configures and builds it.
# Usage: scripts/build.sh [BUILD_DIR [TARGET...]]   (default: build, every target)
# BULWARK_UNITY=OFF builds file by file (quicker rebuilds after editing one file); the
# default, ON, compiles each library in batches of 16 sources (docs/operations.md, "Build options").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
"$root/scripts/install-deps.sh"
# A new build directory uses Ninja (it compiles a library's dependents while the library
# still links); an existing one keeps the generator it was made with.
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_UNITY_BUILD="${BULWARK_UNITY:-ON}" >/dev/null
targets=()
for t in "$@"; do
  targets+=(--target "$t")
done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
