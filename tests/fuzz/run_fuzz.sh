#!/usr/bin/env bash
# Builds a fuzz target with clang's libFuzzer (ASan + UBSan) and runs it for a bounded time.
# Usage: run_fuzz.sh SOURCE_DIR WORK_DIR [SECONDS] [TARGET]
# TARGET: console_protocol (the console's request parser and responses, the default) or
# http_routes (the HTTP API's request translation and response mapping).
set -euo pipefail
src="$1"
work="$2"
seconds="${3:-20}"
target="${4:-console_protocol}"
common=("$src/actors/console/console_protocol.cpp" "$src/actors/console/command_table.cpp"
        "$src/persistence/sha256.cpp"
        "$src/messages/ids.cpp" "$src/messages/error.cpp" "$src/messages/refusals.cpp")
case "$target" in
  console_protocol) corpus_src="$src/tests/fuzz/corpus"; extra=() ;;
  http_routes) corpus_src="$src/tests/fuzz/corpus_http"; extra=("$src/actors/http/http_routes.cpp") ;;
  *) echo "unknown fuzz target $target" >&2; exit 2 ;;
esac
mkdir -p "$work/corpus_$target"
cp "$corpus_src"/* "$work/corpus_$target/"
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I "$src" \
  "$src/tests/fuzz/${target}_fuzz.cpp" "${common[@]}" "${extra[@]}" \
  -lcaf_core -lcrypto -o "$work/${target}_fuzz"
"$work/${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  "$work/corpus_$target" 2>&1 | tail -n 12
