#!/usr/bin/env bash
# Sets up everything (packages, build) and runs Bulwark's main job: `bulwark demo`.
# Extra arguments go to the demo, e.g. scripts/demo.sh --seed 7 --json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" "$root/build"
exec "$root/build/apps/bulwark" demo "$@"
