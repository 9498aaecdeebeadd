#!/usr/bin/env bash
# Installs the Debian packages Bulwark needs, then configures and builds it.
# Usage: scripts/build.sh [BUILD_DIR [TARGET...]]   (default: build, every target)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for t in "$@"; do
  targets+=(--target "$t")
done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
