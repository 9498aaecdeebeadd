#!/usr/bin/env bash
# Runs the architecture check on the tree (must pass), then on a copy with a planted bad
# include in a pure core (must fail, naming the file and the include).
set -euo pipefail
src="$1"
check="$src/tests/architecture/check_boundaries.py"
/usr/bin/python3 "$check" "$src"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/actors/circuit_breaker" "$work/messages"
cp "$src/actors/circuit_breaker/breaker_fsm.cpp" "$work/actors/circuit_breaker/"
sed -i '1i #include "caf/event_based_actor.hpp"' "$work/actors/circuit_breaker/breaker_fsm.cpp"
echo '#include <lmdb.h>' > "$work/messages/leak.hpp"
if out="$(/usr/bin/python3 "$check" "$work")"; then
  echo "the planted violations were not found"; exit 1
fi
echo "$out"
grep -q 'actors/circuit_breaker/breaker_fsm.cpp:1: pure core includes <caf/event_based_actor.hpp>' <<<"$out"
grep -q 'messages/leak.hpp:1: includes <lmdb.h> outside persistence/' <<<"$out"
echo "planted violations named: ok"
