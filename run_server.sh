#!/usr/bin/env bash
# Starts rlm-mcp, building the release binary first when it is missing or older than the sources.
#   ./run_server.sh          MCP over stdio (what an MCP client launches; stdout carries only the protocol)
#   ./run_server.sh --http   streamable HTTP on MCP_HOST:MCP_PORT (default http://127.0.0.1:8000/mcp)
# Any further arguments go to `rlm-mcp serve`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$root/.build/release/rlm-mcp"

if [ ! -x "$binary" ] || [ -n "$(find "$root/Sources" "$root/Package.swift" -newer "$binary" -print -quit)" ]; then
    echo "run_server.sh: building rlm-mcp (release; the first build takes a few minutes)..." >&2
    # Build output goes to stderr: in stdio mode stdout belongs to the MCP protocol.
    swift build -c release --product rlm-mcp --package-path "$root" >&2
fi

# .env.local / .env are read from the working directory; use the project's own wherever the client launched us.
cd "$root"
case "${1:-}" in
    --http)
        shift
        exec "$binary" serve --transport streamable-http "$@"
        ;;
    *)
        exec "$binary" serve "$@"
        ;;
esac
