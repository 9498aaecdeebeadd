#!/usr/bin/env bash
# Builds the console protocol fuzz target with clang's libFuzzer (ASan + UBSan) and runs it
# for a bounded time. Usage: run_fuzz.sh SOURCE_DIR WORK_DIR [SECONDS]
set -euo pipefail
src="$1"
work="$2"
seconds="${3:-20}"
mkdir -p "$work/corpus"
cp "$src"/tests/fuzz/corpus/* "$work/corpus/"
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I "$src" \
  "$src/tests/fuzz/console_protocol_fuzz.cpp" "$src/actors/console/console_protocol.cpp" \
  "$src/persistence/sha256.cpp" "$src/messages/ids.cpp" "$src/messages/error.cpp" \
  "$src/messages/refusals.cpp" \
  -lcaf_core -lcrypto -o "$work/console_protocol_fuzz"
"$work/console_protocol_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  "$work/corpus" 2>&1 | tail -n 12
