#!/usr/bin/env bash
# PV-003: the mutating entry points take a halt_guard::pass that only the guard makes.
# The guarded use must compile; forging a pass or skipping it must fail to compile.
set -euo pipefail
src="$1"
cxx="$2"
file="$src/tests/architecture/halt_guard_use.cpp"
flags=(-std=c++17 -fsyntax-only -I"$src")
"$cxx" "${flags[@]}" "$file"
echo "guarded launch compiles: ok"
if out="$("$cxx" "${flags[@]}" -DFORGE_PASS "$file" 2>&1)"; then
  echo "a forged halt_guard::pass compiled"; exit 1
fi
grep -q "private" <<<"$out" || { echo "$out"; echo "unexpected error for a forged pass"; exit 1; }
echo "forged pass refused by the compiler: ok"
if out="$("$cxx" "${flags[@]}" -DSKIP_GUARD "$file" 2>&1)"; then
  echo "a launch without a pass compiled"; exit 1
fi
grep -q "launch" <<<"$out" || { echo "$out"; echo "unexpected error for a missing pass"; exit 1; }
echo "launch without a pass refused by the compiler: ok"
