#!/usr/bin/env bash
# Builds the benchmarks and runs them one after another; docs/performance.md says what
# each measures. With --peers, the journal is also measured beside a PostgreSQL table
# chained by a trigger and SQLite with synchronous=FULL, in the same run (bench/peers.py).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [--quick] [--peers] [NAME...]
  NAME     a benchmark without its _bench suffix: journal, pipeline, console, history, incident,
           admission, cluster, breaker, forward, effector, prometheus, node_memory
           (default: all of them)
  --quick  short runs (each benchmark's --quick; peers: 2 s per run)
  --peers  also run bench/peers.py: Bulwark's durable append beside PostgreSQL and
           SQLite, 16 and 256 concurrent writers, each chain verified after its run
  --help   this text
Results go to stdout; progress to stderr. Run benchmarks on a quiet machine: other
processes on the same cores change every figure.
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
all=(journal pipeline console history incident admission cluster breaker forward effector prometheus
     node_memory)
quick=() peers=0 names=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --peers) peers=1 ;;
    --help|-h) usage; exit 0 ;;
    -*) echo "bench.sh: unknown option $arg" >&2; usage >&2; exit 1 ;;
    *)
      if [[ ! " ${all[*]} " == *" $arg "* ]]; then
        echo "bench.sh: no benchmark named '$arg' (one of: ${all[*]})" >&2
        exit 1
      fi
      names+=("$arg") ;;
  esac
done
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
if [ "$peers" -eq 1 ] && [[ ! " ${names[*]} " == *" journal "* ]]; then
  names+=(journal)
fi

targets=()
for n in "${names[@]}"; do targets+=("${n}_bench"); done
[[ " ${names[*]} " == *" node_memory "* ]] && targets+=(bulwark) # it starts a node
"$root/scripts/build.sh" "$build" "${targets[@]}"

for n in "${names[@]}"; do
  args=("${quick[@]}")
  # node_memory_bench has no --quick: a smaller journal instead
  [ "$n" = node_memory ] && [ ${#quick[@]} -gt 0 ] && args=(--events 100000)
  echo "== ${n}_bench ${args[*]}"
  "$build/bench/${n}_bench" "${args[@]}"
done
if [ "$peers" -eq 1 ]; then
  echo "== peers ${quick[*]}"
  python3 "$root/bench/peers.py" "${quick[@]}" --journal-bench "$build/bench/journal_bench"
fi
