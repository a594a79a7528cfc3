#!/usr/bin/env bash
# Starts rlm-mcp in one of its run modes; the first argument picks the mode, the rest go to `rlm-mcp serve`/`deploy`.
#   ./run_server.sh [--stdio]   MCP over stdio (what an MCP client launches; stdout carries only the protocol)
#   ./run_server.sh --http      streamable HTTP on MCP_HOST:MCP_PORT (default http://127.0.0.1:8000/mcp)
#   ./run_server.sh --docker    the server in a container (deploy/compose.yaml), published on 127.0.0.1:8000
#   ./run_server.sh --deploy    `rlm-mcp deploy`: the server in a Daytona sandbox
# The release binary is built first when it is missing or older than the sources; RLM_MCP_BIN=/path/to/rlm-mcp uses
# that binary instead and never builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
compose_file="$root/deploy/compose.yaml"

usage() {
    cat <<EOF
usage: run_server.sh [--stdio | --http | --docker | --deploy] [options for rlm-mcp serve/deploy...]

  (no flag), --stdio  MCP over stdio, for clients that launch the server (stdout carries only the protocol)
  --http              streamable HTTP on MCP_HOST:MCP_PORT (default http://127.0.0.1:8000/mcp)
  --docker            build and start the container (deploy/compose.yaml) and wait until it is healthy
  --deploy            rlm-mcp deploy: run the server in a Daytona sandbox
  -h, --help          this help

Options after the mode go to rlm-mcp, e.g. ./run_server.sh --http --port 9000 --log-level debug.
Configuration comes from .env.local and .env in $root (see .env.example), passed to rlm-mcp as --env-file.

Environment of this script:
  RLM_MCP_BIN=/path/to/rlm-mcp   use that binary instead of building .build/release/rlm-mcp
  RLM_DOCKER_PORT=8000           host port (on 127.0.0.1) that --docker publishes
  RLM_DOCKER_WAIT_S=180          how long --docker waits for the container to become healthy
EOF
}

# Everything but the protocol goes to stderr: in stdio mode stdout belongs to the MCP client.
say() { echo "run_server.sh: $*" >&2; }
die() { say "$*"; exit 1; }

binary_path() {
    if [ -n "${RLM_MCP_BIN:-}" ]; then
        [ -x "$RLM_MCP_BIN" ] || die "RLM_MCP_BIN=$RLM_MCP_BIN is not an executable file"
        echo "$RLM_MCP_BIN"
        return
    fi
    local binary="$root/.build/release/rlm-mcp"
    if [ ! -x "$binary" ] || [ -n "$(find "$root/Sources" "$root/Package.swift" -newer "$binary" -print -quit)" ]; then
        command -v swift >/dev/null 2>&1 || die "swift was not found on PATH and $binary is not built; run ./setup.sh first"
        say "building rlm-mcp (release; the first build takes a few minutes)..."
        # The Swift runtime linked in statically (portable to Docker and Daytona; no FoundationNetworking, so no
        # libcurl needed), start-up code laid out together, stripped: the flags are in scripts/build-release.sh.
        "$BASH" "$root/scripts/build-release.sh" >&2
    fi
    echo "$binary"
}

# The value of MCP_AUTH_TOKEN in a .env-style file (last assignment wins, quotes removed); empty when unset.
token_in() {
    [ -f "$1" ] || return 0
    sed -n 's/^[[:space:]]*\(export[[:space:]][[:space:]]*\)\{0,1\}MCP_AUTH_TOKEN[[:space:]]*=[[:space:]]*//p' "$1" \
        | tail -n 1 | sed "s/^\"\(.*\)\"\$/\1/; s/^'\(.*\)'\$/\1/; s/[[:space:]]*\$//"
}

docker_mode() {
    command -v docker >/dev/null 2>&1 || die "docker was not found on PATH; install Docker Engine with the Compose plugin"
    docker compose version >/dev/null 2>&1 \
        || die "the Docker Compose plugin is missing (\`docker compose version\` failed); install docker-compose-plugin"
    docker info >/dev/null 2>&1 \
        || die "no Docker engine answers (\`docker info\` failed): start the Docker daemon, or point DOCKER_HOST at one"

    local env_file="$root/.env.local"
    if [ ! -e "$env_file" ]; then
        cp "$root/.env.example" "$env_file"
        chmod 600 "$env_file"
        say "created .env.local from .env.example"
    fi
    # The container listens on all its interfaces, so the server insists on a bearer token: make one if none is set.
    local token
    token="$(token_in "$env_file")"
    if [ -z "$token" ]; then
        token="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))' 2>/dev/null || od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
        if grep -q '^[[:space:]]*MCP_AUTH_TOKEN[[:space:]]*=' "$env_file"; then
            sed -i "s/^[[:space:]]*MCP_AUTH_TOKEN[[:space:]]*=.*/MCP_AUTH_TOKEN=$token/" "$env_file"
        else
            printf '\nMCP_AUTH_TOKEN=%s\n' "$token" >>"$env_file"
        fi
        chmod 600 "$env_file"
        say "generated MCP_AUTH_TOKEN in .env.local (clients must send it as a bearer token)"
    fi

    say "building and starting the container (docker compose -f deploy/compose.yaml up --build -d)..."
    docker compose -f "$compose_file" up --build -d "$@" >&2
    local container health="" waited=0 limit="${RLM_DOCKER_WAIT_S:-180}"
    container="$(docker compose -f "$compose_file" ps -q rlm-mcp)"
    [ -n "$container" ] || die "docker compose started no rlm-mcp container; see: docker compose -f deploy/compose.yaml logs"
    while [ "$waited" -lt "$limit" ]; do
        health="$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$container" 2>/dev/null || echo gone)"
        case "$health" in
            healthy) break ;;
            unhealthy|exited|dead|gone)
                docker compose -f "$compose_file" logs --tail 40 rlm-mcp >&2 || true
                die "the container is $health; its last log lines are above" ;;
        esac
        sleep 2
        waited=$((waited + 2))
    done
    if [ "$health" != healthy ]; then
        docker compose -f "$compose_file" logs --tail 40 rlm-mcp >&2 || true
        die "the container was not healthy after ${limit}s (state: $health); its last log lines are above"
    fi
    local port="${RLM_DOCKER_PORT:-8000}" shown="<MCP_AUTH_TOKEN from .env.local>"
    [ -t 1 ] && shown="$token"
    echo "rlm-mcp is running in Docker and healthy."
    echo "MCP endpoint: http://127.0.0.1:$port/mcp"
    echo "Health check: http://127.0.0.1:$port/health"
    echo "Claude Code:  claude mcp add --transport http rlm-mcp http://127.0.0.1:$port/mcp --header 'Authorization: Bearer $shown'"
    echo "Logs: docker compose -f deploy/compose.yaml logs -f    Stop: docker compose -f deploy/compose.yaml down"
}

mode="${1:-}"
case "$mode" in
    ""|--stdio) ;;
    --http|--docker|--deploy) ;;
    -h|--help) usage; exit 0 ;;
    *) say "unknown mode \"$mode\""; usage >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift

# The server never reads configuration from its working directory: name the project's own files explicitly, so they
# apply wherever a client launched us (and a .env in that directory does not).
env_files=()
for file in "$root/.env.local" "$root/.env"; do
    [ -f "$file" ] && env_files+=(--env-file "$file")
done
cd "$root"
case "$mode" in
    ""|--stdio)
        binary="$(binary_path)"
        exec "$binary" serve --transport stdio ${env_files[@]+"${env_files[@]}"} "$@"
        ;;
    --http)
        binary="$(binary_path)"
        # The real token is shown only on a terminal, never when this output is captured into a log.
        show=()
        [ -t 1 ] && show=(--show-token)
        "$binary" connect --transport streamable-http ${env_files[@]+"${env_files[@]}"} ${show[@]+"${show[@]}"} "$@"
        exec "$binary" serve --transport streamable-http ${env_files[@]+"${env_files[@]}"} "$@"
        ;;
    --docker)
        docker_mode "$@"
        ;;
    --deploy)
        binary="$(binary_path)"
        # `rlm-mcp deploy` would otherwise run `serve` (the default command) with "deploy" as an argument.
        "$binary" --help 2>/dev/null | grep -qE '^[[:space:]]+deploy([[:space:]]|$)' \
            || die "this rlm-mcp has no deploy command yet (it comes with the Daytona backend); until then use --http or --docker"
        # After the arguments: they may name a subcommand (status, logs, ...), whose options these are.
        exec "$binary" deploy "$@" ${env_files[@]+"${env_files[@]}"}
        ;;
esac
