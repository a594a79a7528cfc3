#!/usr/bin/env python3
"""Spine benchmarks (stdlib only) for the protocol core, against a release build:

    swift build -c release --product rlm-mcp && python3 scripts/bench/spine.py

- server time per request = the bare client's round trip to rlm-mcp minus its round trip to a trivial server measured
  in the same run (a Python line echo over stdio, a Python keep-alive HTTP server over HTTP), for ping, tools/list,
  tools/call rlm_status and tools/call sandbox_exec_stateful print(1); both eras; stdio and streamable HTTP;
- one handshake-era streamable-HTTP session making --session-calls calls with ~2 KB answers: server RSS (and PSS)
  growth after a warm-up;
- start-up to the first answer (initialize, and server/discover) over stdio.

Prints median / p90 / min; numbers are for the closing notes, never asserted in tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
INITIALIZE = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
MODERN_META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}}
DISCOVER = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": MODERN_META}}

# name -> (method, params); 2026-07-28 has no ping.
OPERATIONS = {
    "ping": ("ping", {}),
    "tools/list": ("tools/list", {}),
    "rlm_status": ("tools/call", {"name": "rlm_status", "arguments": {}}),
    "sandbox_exec_stateful print(1)": ("tools/call", {"name": "sandbox_exec_stateful", "arguments": {"code": "print(1)"}}),
}

# The trivial line server: reads a JSON line, answers with the id. What any stdio server costs at least.
LINE_SERVER = r"""
import json, sys
for raw in sys.stdin:
    message = json.loads(raw)
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message.get("id"), "result": {}}) + "\n")
    sys.stdout.flush()
"""

# The trivial HTTP server: keep-alive HTTP/1.1, answers every POST with a JSON-RPC result.
HTTP_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    def do_POST(self):
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"jsonrpc": "2.0", "id": message.get("id"), "result": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def request(request_id: int, operation: str, modern: bool, workspace: str | None = None) -> dict:
    method, params = OPERATIONS[operation]
    params = dict(params)
    if workspace and "arguments" in params:
        params["arguments"] = {**params["arguments"], "workspace": workspace}
    if modern:
        params["_meta"] = MODERN_META
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def line(message: dict) -> bytes:
    return (json.dumps(message) + "\n").encode()


def summary(name: str, samples: list[float], unit: str) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1] if len(ordered) >= 10 else ordered[-1]
    return f"{name:<58} median {statistics.median(ordered):8.3f} {unit}   p90 {p90:8.3f}   min {ordered[0]:8.3f}   (n={len(ordered)})"


def server_env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "error", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}


class StdioClient:
    """A bare JSON-RPC client over a child's stdin/stdout: one line out, one line back."""

    def __init__(self, argv: list[str], cwd: str) -> None:
        self.process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=server_env())

    def call(self, message: dict) -> bytes:
        self.process.stdin.write(line(message))
        self.process.stdin.flush()
        while True:  # skip notifications (progress) until the answer
            answer = self.process.stdout.readline()
            if b'"id"' in answer or not answer:
                return answer

    def notify(self, message: dict) -> None:
        self.process.stdin.write(line(message))
        self.process.stdin.flush()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=15)


class HTTPClient:
    """A bare JSON-RPC client over one keep-alive HTTP connection."""

    def __init__(self, port: int, modern: bool) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port)
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        self.modern = modern

    def post(self, message: dict) -> tuple[http.client.HTTPResponse, bytes]:
        headers = dict(self.headers)
        if self.modern:
            headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]})
            if name := message.get("params", {}).get("name"):
                headers["Mcp-Name"] = name
        self.connection.request("POST", "/mcp", body=json.dumps(message), headers=headers)
        response = self.connection.getresponse()
        return response, response.read()

    def call(self, message: dict) -> bytes:
        return self.post(message)[1]

    def open_session(self) -> None:
        response, _ = self.post(INITIALIZE)
        self.headers["Mcp-Session-Id"] = response.getheader("Mcp-Session-Id")
        self.headers["MCP-Protocol-Version"] = HANDSHAKE
        self.post(INITIALIZED)


def start_http_server(binary: str, cwd: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([binary, "serve", "--transport", "streamable-http", "--port", "0"], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**server_env(), "RLM_LOG_LEVEL": "info"})
    for text in process.stderr:
        if match := re.search(r"listening on http://127\.0\.0\.1:(\d+)/mcp", text):
            return process, int(match.group(1))
    raise RuntimeError("server did not report its port")


def round_trips(client, operation: str, calls: int, modern: bool, workspace: str | None = None) -> list[float]:
    samples = []
    for request_id in range(1, calls + 1):
        message = request(request_id, operation, modern, workspace)
        started = time.perf_counter()
        answer = client.call(message)
        samples.append((time.perf_counter() - started) * 1000)
        assert f'"id":{request_id}'.encode() in answer.replace(b" ", b""), answer[:300]
    return samples


def baseline(kind: str, calls: int) -> list[float]:
    """Round trips to the trivial server of this transport, measured now (same machine load as the real run)."""
    if kind == "stdio":
        client = StdioClient([sys.executable, "-c", LINE_SERVER], cwd=".")
        samples = round_trips(client, "ping", calls, modern=False)
        client.close()
        return samples
    process = subprocess.Popen([sys.executable, "-c", HTTP_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        return round_trips(HTTPClient(port, modern=False), "ping", calls, modern=False)
    finally:
        process.terminate()
        process.wait(timeout=15)


def workspace_of(client, modern: bool) -> str | None:
    """2026-07-28 has no session workspace: one sandbox call makes a workspace, and the measured calls pass it back."""
    if not modern:
        return None
    answer = client.call(request(1, "sandbox_exec_stateful print(1)", modern))
    text = answer.decode()
    if text.startswith("event:") or "\ndata: " in text:  # an SSE stream: the JSON is on the data line with the id
        text = next(part[len("data: "):] for part in text.splitlines() if part.startswith("data: ") and '"id"' in part)
    return json.loads(text)["result"]["structuredContent"]["workspace"]


def measure_all(client, modern: bool, calls: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    workspace = workspace_of(client, modern)
    for operation in (name for name in OPERATIONS if not (modern and name == "ping")):
        round_trips(client, operation, 20, modern, workspace)  # warm-up (the first sandbox call starts the worker)
        results[operation] = round_trips(client, operation, calls, modern, workspace)
    return results


def server_times(binary: str, cwd: str, kind: str, modern: bool, calls: int) -> dict[str, list[float]]:
    """Round trips per operation (ms) to rlm-mcp over `kind`, in one era."""
    if kind == "stdio":
        client = StdioClient([binary, "serve"], cwd)
        if not modern:
            client.call(INITIALIZE)
            client.notify(INITIALIZED)
        results = measure_all(client, modern, calls)
        client.close()
        return results
    process, port = start_http_server(binary, cwd)
    try:
        client = HTTPClient(port, modern)
        if not modern:
            client.open_session()
        return measure_all(client, modern, calls)
    finally:
        process.terminate()
        process.wait(timeout=15)


def memory_kb(pid: int, field: str, path: str) -> float:
    for text in Path(f"/proc/{pid}/{path}").read_text().splitlines():
        if text.startswith(field + ":"):
            return int(text.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/{path}")


def bench_session_memory(binary: str, cwd: str, calls: int) -> tuple[tuple[float, float], tuple[float, float], int]:
    """One handshake-era streamable-HTTP session: server (RSS, PSS) in MB after 500 warm-up calls and after `calls` more
    calls whose answers are ~2 KB (sandbox_exec_stateful printing 2,000 characters), and one answer's size."""
    process, port = start_http_server(binary, cwd)
    try:
        client = HTTPClient(port, modern=False)
        client.open_session()
        code = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "sandbox_exec_stateful", "arguments": {"code": "print('x' * 2000)"}}}
        size = 0
        for request_id in range(1, 501):
            size = len(client.call({**code, "id": request_id}))
        before = (memory_kb(process.pid, "VmRSS", "status"), memory_kb(process.pid, "Pss", "smaps_rollup"))
        for request_id in range(501, 501 + calls):
            client.call({**code, "id": request_id})
        after = (memory_kb(process.pid, "VmRSS", "status"), memory_kb(process.pid, "Pss", "smaps_rollup"))
        return before, after, size
    finally:
        process.terminate()
        process.wait(timeout=15)


def bench_startup(binary: str, cwd: str, runs: int, modern: bool = False) -> list[float]:
    """Process start until the initialize (or server/discover) response line is read, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client = StdioClient([binary, "serve"], cwd)
        answer = client.call(DISCOVER if modern else INITIALIZE)
        samples.append((time.perf_counter() - started) * 1000)
        assert (b'"supportedVersions"' if modern else b'"protocolVersion"') in answer, answer
        client.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--startups", type=int, default=30)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--session-calls", type=int, default=10_000, help="calls in the session-memory run")
    parser.add_argument("--only-session-memory", action="store_true")
    parser.add_argument("--only-calls", choices=["stdio", "http", "both"],
                        help="only the per-request server times, over this transport (no memory or start-up runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:  # no .env files from the checkout
        if not args.only_calls:
            before, after, size = bench_session_memory(args.binary, cwd, args.session_calls)
            print(f"{'one HTTP session: growth over calls':<58} RSS {after[0] - before[0]:+7.1f} MB   PSS {after[1] - before[1]:+7.1f} MB   "
                  f"(RSS {before[0]:.1f} -> {after[0]:.1f} MB, {args.session_calls} calls, answers of {size} bytes)")
            if args.only_session_memory:
                return
            bench_startup(args.binary, cwd, 3)  # warm the page cache
            print(summary("start -> initialize response (stdio)", bench_startup(args.binary, cwd, args.startups), "ms"))
            print(summary("start -> server/discover response (stdio)", bench_startup(args.binary, cwd, args.startups, modern=True), "ms"))
        kinds = ("stdio", "http") if args.only_calls in (None, "both") else (args.only_calls,)
        for kind in kinds:
            floor = statistics.median(baseline(kind, args.calls))
            print(f"{'trivial ' + kind + ' server round trip (subtracted below)':<58} median {floor:8.3f} ms")
            for modern in (False, True):
                era = MODERN if modern else "handshake"
                for operation, samples in server_times(args.binary, cwd, kind, modern, args.calls).items():
                    print(summary(f"server time {operation} ({kind}, {era})", [s - floor for s in samples], "ms"))


if __name__ == "__main__":
    main()
