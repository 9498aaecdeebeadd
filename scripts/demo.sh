#!/usr/bin/env bash
# Sets up what the demo needs (packages, the `bulwark` program) and runs Bulwark's main
# job: `bulwark demo`. The tests and benchmarks are built by scripts/test.sh.
# Extra arguments go to the demo, e.g. scripts/demo.sh --seed 7 --json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" "$root/build" bulwark
exec "$root/build/apps/bulwark" demo "$@"
