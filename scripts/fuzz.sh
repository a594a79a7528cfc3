#!/usr/bin/env bash
# Fuzzes the JSON-RPC envelope check (Sources/JSONRPCWire) with libFuzzer for a bounded time (default 60 s):
#   scripts/fuzz.sh [seconds]
# Built with swiftc directly (one module: the check's sources, RLMCommon's JSONValue, the property, libFuzzer's entry
# point), because SwiftPM renames an executable's entry point in a way libFuzzer's own main cannot link with. New inputs go to a scratch copy of
# the committed seed corpus (Fuzz/corpus), so the repository is not written to; a crash leaves its reproducer there.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

mkdir -p .build/fuzz
echo "==> building message-fuzz with -sanitize=fuzzer,address"
swiftc -sanitize=fuzzer,address -parse-as-library -DFUZZING -g -Onone -module-name MessageFuzz \
    Sources/JSONRPCWire/*.swift Sources/RLMCommon/JSONValue.swift Fuzz/message-fuzz/Property.swift Fuzz/libfuzzer/Entry.swift -o .build/fuzz/message-fuzz

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp Fuzz/corpus/* "$scratch/"
echo "==> fuzzing for ${seconds}s from $(ls Fuzz/corpus | wc -l) seeds"
if ! .build/fuzz/message-fuzz "$scratch" -max_total_time="$seconds" -artifact_prefix="$scratch/" -print_final_stats=1; then
    echo "scripts/fuzz.sh: the fuzzer found a failing input; reproducers:" >&2
    ls "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/oom-* 2>/dev/null >&2 || true
    mkdir -p .build/fuzz/artifacts && cp "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/oom-* .build/fuzz/artifacts/ 2>/dev/null || true
    exit 1
fi
