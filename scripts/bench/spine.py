#!/usr/bin/env python3
"""Spine benchmarks (stdlib only): start-up to initialize (or server/discover) response over stdio, idle RSS, and
rlm_status round trips over stdio and streamable HTTP, in the handshake era and in 2026-07-28, and the memory one
handshake-era HTTP session gains over 10,000 calls (PSS from /proc/PID/smaps_rollup). Run against a release
build:

    swift build -c release --product rlm-mcp && python3 scripts/bench/spine.py

Prints median / p90 / min of each figure; numbers are for the closing notes, never asserted in tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INITIALIZE = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}}
DISCOVER = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": MODERN_META}}
MODERN_HEADERS = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "rlm_status"}


def status_call(request_id: int, modern: bool = False) -> dict:
    params = {"name": "rlm_status", "arguments": {}}
    if modern:
        params["_meta"] = MODERN_META
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def line(message: dict) -> bytes:
    return (json.dumps(message) + "\n").encode()


def summary(name: str, samples: list[float], unit: str) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1] if len(ordered) >= 10 else ordered[-1]
    return f"{name:<42} median {statistics.median(ordered):8.3f} {unit}   p90 {p90:8.3f}   min {ordered[0]:8.3f}   (n={len(ordered)})"


def spawn_stdio(binary: str, cwd: str) -> subprocess.Popen:
    return subprocess.Popen([binary, "serve"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "error"})


def bench_startup(binary: str, cwd: str, runs: int, modern: bool = False) -> list[float]:
    """Process start until the initialize (or server/discover) response line is read, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        process = spawn_stdio(binary, cwd)
        process.stdin.write(line(DISCOVER if modern else INITIALIZE))
        process.stdin.flush()
        response = process.stdout.readline()
        samples.append((time.perf_counter() - started) * 1000)
        assert (b'"supportedVersions"' if modern else b'"protocolVersion"') in response, response
        process.stdin.close()
        process.wait(timeout=10)
    return samples


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def bench_stdio_calls(binary: str, cwd: str, calls: int, modern: bool = False) -> tuple[list[float], float]:
    process = spawn_stdio(binary, cwd)
    process.stdin.write(line(DISCOVER) if modern else line(INITIALIZE) + line(INITIALIZED))
    process.stdin.flush()
    process.stdout.readline()
    time.sleep(1.0)
    idle_rss = rss_mb(process.pid)
    samples = []
    for request_id in range(1, calls + 1):
        started = time.perf_counter()
        process.stdin.write(line(status_call(request_id, modern)))
        process.stdin.flush()
        response = process.stdout.readline()
        samples.append((time.perf_counter() - started) * 1000)
        assert f'"id":{request_id}'.encode() in response, response
    process.stdin.close()
    process.wait(timeout=10)
    return samples, idle_rss


def bench_http_calls(binary: str, cwd: str, calls: int, modern: bool = False) -> tuple[list[float], float]:
    process = subprocess.Popen([binary, "serve", "--transport", "streamable-http", "--port", "0"], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "info"})
    try:
        port = None
        for text in process.stderr:
            if match := re.search(r"listening on http://127\.0\.0\.1:(\d+)/mcp", text):
                port = int(match.group(1))
                break
        assert port, "server did not report its port"
        time.sleep(1.0)
        idle_rss = rss_mb(process.pid)
        connection = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

        def post(message: dict) -> tuple[http.client.HTTPResponse, bytes]:
            connection.request("POST", "/mcp", body=json.dumps(message), headers=headers)
            response = connection.getresponse()
            return response, response.read()

        if modern:
            headers.update(MODERN_HEADERS)  # no handshake: every request stands alone
        else:
            response, _ = post(INITIALIZE)
            headers["Mcp-Session-Id"] = response.getheader("Mcp-Session-Id")
            headers["Mcp-Protocol-Version"] = "2025-11-25"
            post(INITIALIZED)
        samples = []
        for request_id in range(1, calls + 1):
            started = time.perf_counter()
            _, body = post(status_call(request_id, modern))
            samples.append((time.perf_counter() - started) * 1000)
            assert f'"id":{request_id}'.encode() in body, body
        connection.close()
        return samples, idle_rss
    finally:
        process.terminate()
        process.wait(timeout=15)


def pss_mb(pid: int) -> float:
    for text in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if text.startswith("Pss:"):
            return int(text.split()[1]) / 1024
    raise RuntimeError("no Pss line in smaps_rollup")


def bench_session_memory(binary: str, cwd: str, calls: int) -> tuple[float, float, int]:
    """One handshake-era streamable-HTTP session: server PSS after 500 warm-up calls and after `calls` more (MB), and
    the size of one answer (bytes)."""
    process = subprocess.Popen([binary, "serve", "--transport", "streamable-http", "--port", "0"], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "info"})
    try:
        port = next(int(m.group(1)) for text in process.stderr if (m := re.search(r"listening on http://127\.0\.0\.1:(\d+)/mcp", text)))
        connection = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

        def post(message: dict) -> tuple[http.client.HTTPResponse, bytes]:
            connection.request("POST", "/mcp", body=json.dumps(message), headers=headers)
            response = connection.getresponse()
            return response, response.read()

        response, _ = post(INITIALIZE)
        headers["Mcp-Session-Id"] = response.getheader("Mcp-Session-Id")
        headers["Mcp-Protocol-Version"] = "2025-11-25"
        post(INITIALIZED)
        size = 0
        for request_id in range(1, 501):
            size = len(post(status_call(request_id))[1])
        before = pss_mb(process.pid)
        for request_id in range(501, 501 + calls):
            post(status_call(request_id))
        after = pss_mb(process.pid)
        connection.close()
        return before, after, size
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--startups", type=int, default=30)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--session-calls", type=int, default=10_000, help="calls in the session-memory run")
    parser.add_argument("--only-session-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        before, after, size = bench_session_memory(args.binary, cwd, args.session_calls)
    print(f"{'one HTTP session: PSS growth over calls':<42} {after - before:8.1f} MB   ({before:.1f} -> {after:.1f} MB, "
          f"{args.session_calls} calls of {size} bytes)")
    if args.only_session_memory:
        return
    with tempfile.TemporaryDirectory() as cwd:  # no .env files from the checkout
        bench_startup(args.binary, cwd, 3)  # warm the page cache
        startup = bench_startup(args.binary, cwd, args.startups)
        discover = bench_startup(args.binary, cwd, args.startups, modern=True)
        stdio, stdio_rss = bench_stdio_calls(args.binary, cwd, args.calls)
        stdio_modern, _ = bench_stdio_calls(args.binary, cwd, args.calls, modern=True)
        http_calls, http_rss = bench_http_calls(args.binary, cwd, args.calls)
        http_modern, _ = bench_http_calls(args.binary, cwd, args.calls, modern=True)
    print(summary("start -> initialize response (stdio)", startup, "ms"))
    print(summary("start -> server/discover response (stdio)", discover, "ms"))
    print(summary("rlm_status round trip (stdio)", stdio, "ms"))
    print(summary("rlm_status round trip (stdio, 2026-07-28)", stdio_modern, "ms"))
    print(summary("rlm_status round trip (streamable HTTP)", http_calls, "ms"))
    print(summary("rlm_status round trip (HTTP, 2026-07-28)", http_modern, "ms"))
    print(f"{'idle RSS after initialize (stdio)':<42} {stdio_rss:8.1f} MB")
    print(f"{'idle RSS (streamable HTTP, no session)':<42} {http_rss:8.1f} MB")


if __name__ == "__main__":
    main()
