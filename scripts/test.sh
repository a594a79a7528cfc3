#!/usr/bin/env bash
# The README's test command: builds rlm-mcp, runs the Swift unit tests, then the interop tests that drive the real
# binary with the official MCP Python client over stdio, streamable HTTP and legacy SSE.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "scripts/test.sh: $1 is required ($2)" >&2; exit 1; }; }
need swift "install the Swift 6.2+ toolchain"
need python3 "install Python 3.10 or newer"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "scripts/test.sh: Python 3.10+ is required (found $(python3 -V))" >&2; exit 1; }

echo "==> swift build"
swift build --build-tests
echo "==> swift test"
swift test --skip-build

# A private venv with the pinned official client, rebuilt only when the pins change.
venv=.venv-test
requirements=Tests/Interop/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/.requirements"; then
    echo "==> creating $venv with the pinned official client ($requirements)"
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "scripts/test.sh: python3 -m venv failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements"
fi

echo "==> interop tests (official mcp client)"
RLM_MCP_BIN=.build/debug/rlm-mcp "$venv/bin/python" -m pytest Tests/Interop -q -p no:cacheprovider

# Modest sizes here; RLM_RELIABILITY_FULL=1 with a release binary gives the README's figures (see docs/reliability.md).
echo "==> reliability suite (load, provider faults, dropped clients, hostile arguments)"
(cd Tests/Reliability && RLM_MCP_BIN="${RLM_MCP_BIN:-$PWD/../../.build/debug/rlm-mcp}" "../../$venv/bin/python" -m pytest . -q -p no:cacheprovider)
