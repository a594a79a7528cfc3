#!/usr/bin/env python3
"""Daytona backend benchmark (stdlib only): rlm-mcp over MCP stdio against the fake Daytona with injected latency.

    swift build --product rlm-mcp && python3 scripts/bench/daytona.py [--latency-ms 50] [--binary .build/debug/rlm-mcp]

Counts Daytona requests (the fake's counters) and times:
- sandbox creation + first worker (the first sandbox_exec_stateful of a session);
- one sandbox_exec_stateful once the worker is up (target: <= 2 Daytona requests);
- one llm_query from sandbox code (target: <= 2 requests). Over MCP sandbox_exec the host answers every sub-call with
  "not available here" (no RLM run), which costs exactly the frames a real answer costs;
- a fresh-namespace sandbox_exec (hands over the warm spare worker, starts the next spare);
- a 6 MB context reaching the worker: sandbox_upload (target: one upload request) then loading it in the REPL;
- an rlm_execute over a 6 MB context (root model: the scripted fake LLM) with one llm_query: requests by route.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox import StdioClient  # noqa: E402 - the MCP stdio client of the sandbox benchmark

KEY = "dtn-bench-key"


class DaytonaStdioClient(StdioClient):
    """The sandbox benchmark's stdio client, with the Daytona variables in the server's environment."""

    def __init__(self, binary: str, cwd: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([binary, "serve"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env={"PATH": os.environ["PATH"], **env})
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def control(base: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method="POST" if data else "GET")) as response:
        return json.loads(response.read())


def routes(base: str) -> dict[str, int]:
    return control(base, "/_control/stats")["by_route"]


def measure(base: str, action, runs: int) -> tuple[list[float], float, dict[str, int]]:
    """Times `action` `runs` times; returns the samples, requests per run and the routes used."""
    control(base, "/_control/reset", {})
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    used = routes(base)
    return samples, sum(used.values()) / runs, used


def report(name: str, samples: list[float], per_run: float, used: dict[str, int], runs: int) -> None:
    ordered = sorted(samples)
    print(f"{name:<46} {per_run:5.2f} requests/op   median {statistics.median(ordered):8.1f} ms   min {ordered[0]:8.1f} ms   (n={runs})")
    for route, count in sorted(used.items()):
        print(f"{'':<48}{count / runs:5.2f} x {route}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "debug" / "rlm-mcp"))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    fake = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "fakes" / "fake_daytona.py"), "--port", "0", "--api-key", KEY,
                             "--latency-ms", str(args.latency_ms)], stdout=subprocess.PIPE, text=True)
    api = fake.stdout.readline().split()[-1]
    base = api.rsplit("/api", 1)[0]
    script = Path(os.environ.get("TMPDIR", "/tmp")) / f"daytona-bench-llm-{os.getpid()}.json"
    script.write_text(json.dumps({"models": {"gpt-4o-mini": "sub"}, "sub": {"default": "yes"}, "root": {"default":
        "```python\nverdict = llm_query('is it long? ' + context[:50])\nSUBMIT(answer=len(context), check=verdict)\n```"}}))
    llm = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "fakes" / "fake_llm.py"), "--port", "0", "--script", str(script)],
                           stdout=subprocess.PIPE, text=True)
    llm_url = llm.stdout.readline().split()[-1]
    env = {"DAYTONA_API_KEY": KEY, "DAYTONA_API_URL": api, "RLM_LOG_LEVEL": "error",
           "OPENAI_BASE_URL": llm_url + "/v1", "OPENAI_API_KEY": "sk-bench"}
    client = DaytonaStdioClient(args.binary, str(ROOT), env)
    try:
        print(f"fake Daytona with {args.latency_ms:.0f} ms injected per request; rlm-mcp {args.binary}\n")
        samples, per_run, used = measure(base, lambda: client.tool("sandbox_exec_stateful", code="x = 1"), 1)
        report("first call: create sandbox + first worker", samples, per_run, used, 1)

        counter = iter(range(10**9))
        samples, per_run, used = measure(base, lambda: client.tool("sandbox_exec_stateful", code=f"x += {next(counter)}"), args.runs)
        report("sandbox_exec_stateful (worker up)", samples, per_run, used, args.runs)

        queries = 10
        code = f"for _ in range({queries}):\n    try:\n        llm_query('hi')\n    except RuntimeError:\n        pass"
        samples, per_run, used = measure(base, lambda: client.tool("sandbox_exec_stateful", code=code), args.runs)
        print(f"{'llm_query from sandbox code':<46} {(per_run - 1) / queries:5.2f} requests/query   "
              f"median {statistics.median(samples) / queries:8.1f} ms/query incl. its exec's share (n={args.runs} x {queries})")
        for route, count in sorted(used.items()):
            print(f"{'':<48}{count / args.runs:5.2f} x {route} per exec of {queries} queries")

        samples, per_run, used = measure(base, lambda: client.tool("sandbox_exec", code="print(1)"), args.runs)
        report("sandbox_exec (fresh namespace, spare handed over)", samples, per_run, used, args.runs)

        context = ("The quick brown fox jumps over the lazy dog. " * 140_000)[: 6 * 1024 * 1024]
        encoded = base64.b64encode(context.encode()).decode()
        samples, per_run, used = measure(base, lambda: client.tool("sandbox_upload", path="ctx/context.txt", content_base64=encoded), 1)
        report("6 MB context upload", samples, per_run, used, 1)
        uploads = used.get("POST /files/upload-v2", 0)
        loaded = client.tool("sandbox_exec_stateful", code="context = open('ctx/context.txt').read()\nprint(len(context))")
        print(f"{'':<48}upload requests: {uploads}; loaded in the REPL: {loaded['stdout'].strip()} chars")

        outcome: dict = {}
        samples, per_run, used = measure(base, lambda: outcome.update(client.tool("rlm_execute", task="How long is the context?", context=context)), 1)
        report("rlm_execute, 6 MB context, 1 llm_query", samples, per_run, used, 1)
        print(f"{'':<48}status {outcome.get('status')}, answer {outcome.get('answer')}, llm_calls {outcome.get('llm_calls')}")
    finally:
        client.close()
        print(f"\nafter the session: {control(base, '/_control/stats')['live']} live sandboxes")
        fake.terminate()
        llm.terminate()
        script.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
