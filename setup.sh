#!/usr/bin/env bash
# One-time setup: checks the toolchain, builds the release binary, creates .env.local from .env.example, and says
# what to do next. Safe to run again: it never overwrites an existing .env.local.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

fail() { echo "setup.sh: $*" >&2; exit 1; }

command -v swift >/dev/null 2>&1 \
    || fail "swift was not found on PATH. Install the Swift 6.2+ toolchain (swiftly, or the release for your Linux distribution) and make sure \`swift --version\` works."
swift_version="$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1)"
case "$swift_version" in
    "") fail "could not read the Swift version from \`swift --version\`; rlm-mcp needs Swift 6.2 or newer." ;;
    [0-5].*|6.[01]) fail "Swift $swift_version is too old; rlm-mcp needs Swift 6.2 or newer." ;;
esac

command -v python3 >/dev/null 2>&1 \
    || fail "python3 was not found on PATH. Install Python 3.10 or newer (Debian/Ubuntu: apt-get install python3); the sandbox runs code with it."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
    || fail "Python 3.10 or newer is required (found $(python3 -V 2>&1)). Install a newer python3, or point RLM_PYTHON at one in .env.local after setup."

if [ "$(uname)" = Linux ] && [ ! -f /usr/include/sqlite3.h ]; then
    fail "SQLite's development files are missing; the run history needs them to build. Debian/Ubuntu: apt-get install libsqlite3-dev"
fi

if ! command -v bwrap >/dev/null 2>&1; then
    echo "setup.sh: note: bubblewrap is not installed; the local sandbox falls back to unshare (weaker: the host filesystem stays visible). Debian/Ubuntu: apt-get install bubblewrap" >&2
fi

# With the Swift runtime linked in, the same binary also runs in a Docker image or a Daytona sandbox (rlm-mcp deploy);
# nothing imports FoundationNetworking, so the static link needs no libcurl.
echo "==> building the release binary (the first build takes several minutes)"
# Static, laid out and stripped for a small footprint: the flags and their reasons are in scripts/build-release.sh.
"$BASH" scripts/build-release.sh
binary="$(swift build -c release --show-bin-path)/rlm-mcp"
[ -x "$binary" ] || fail "the build finished but $binary is missing"

if [ -e .env.local ]; then
    echo "==> .env.local exists; left as it is"
else
    cp .env.example .env.local
    chmod 600 .env.local
    echo "==> created .env.local from .env.example (readable only by you)"
fi

cat <<EOF

rlm-mcp is built: $binary

Next steps:
  1. Put a model key in .env.local (OPENAI_API_KEY or ANTHROPIC_API_KEY, or OPENAI_BASE_URL for a local server).
  2. Check the configuration:        $binary status
  3. Run it:
       $root/run_server.sh            MCP over stdio, for clients that launch the server
       $root/run_server.sh --http     streamable HTTP on http://127.0.0.1:8000/mcp
       $root/run_server.sh --docker   the same in a container (needs Docker with Compose)
  4. Add it to Claude Code:
       claude mcp add rlm-mcp -- $root/run_server.sh
EOF
