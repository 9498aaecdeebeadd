#!/usr/bin/env bash
# Installs Bulwark from BUILD_DIR into a temporary prefix, builds examples/host against it
# with find_package(bulwark), and runs the host. Exits non-zero on any failure.
set -euo pipefail
build="$1"
source="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/examples/host" -B "$work/host" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/host" -j 2 >/dev/null
"$work/host/bulwark_host" "$work/data"
