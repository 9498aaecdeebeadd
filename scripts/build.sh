#!/usr/bin/env bash
# Installs the Debian packages Bulwark needs, then configures and builds it.
# Usage: scripts/build.sh [BUILD_DIR [TARGET...]]   (default: build, every target)
# BULWARK_UNITY=OFF builds file by file (quicker rebuilds after editing one file); the
# default, ON, compiles each library in batches, which makes a full build about twice as fast.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_UNITY_BUILD="${BULWARK_UNITY:-ON}" >/dev/null
targets=()
for t in "$@"; do
  targets+=(--target "$t")
done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
