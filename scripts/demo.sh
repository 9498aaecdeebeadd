#!/usr/bin/env bash
# Sets up what the demo needs (packages, the `bulwark` program) and runs Bulwark's main
# job: `bulwark demo`. The tests and benchmarks are built by scripts/test.sh.
# Extra arguments go to the demo, e.g. scripts/demo.sh --seed 7 --json
# scripts/demo.sh --stack runs the loop on real parts instead (examples/ops-stack): a
# small fleet, a real Prometheus, a node, an agent's good and bad change, the rollback.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" "$root/build" bulwark
if [ "${1:-}" = "--stack" ]; then
  shift
  exec "$root/examples/ops-stack/run_stack.py" --bulwark "$root/build/apps/bulwark" --narrate "$@"
fi
exec "$root/build/apps/bulwark" demo "$@"
