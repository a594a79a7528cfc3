#!/usr/bin/env python3
"""Sandbox benchmarks (stdlib only) against a release build, over MCP stdio:

    swift build -c release --product rlm-mcp && python3 scripts/bench/sandbox.py

- sandbox_exec_stateful `print(1)` round trip (warm REPL);
- a new isolated worker becoming ready (the `rlm-mcp` server reports it through sandbox_exec on a fresh namespace:
  measured as the round trip of sandbox_exec, which hands over the warm spare, and as a cold start with no spare);
- RSS of the server plus one idle worker (all processes of the server's tree);
- a 6 MB text uploaded and loaded into a REPL variable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class StdioClient:
    def __init__(self, binary: str, cwd: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([binary, "serve"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        env={"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "error", **(env or {})})
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        response = json.loads(self.process.stdout.readline())
        assert response.get("id") == self.next_id and "result" in response, response
        return response["result"]

    def tool(self, name: str, **arguments) -> dict:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        assert not result.get("isError"), result
        return result["structuredContent"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of `pid` and all its descendants, in MB, from one pass: one process list, and each process's Pss and
    Rss read from the same /proc/PID/smaps_rollup read. Reading them in separate passes let a worker that started or
    exited in between count in one sum only (and VmRSS in /proc/PID/status lags the page tables), so a tree's PSS
    could come out above its RSS. PSS splits shared pages between the processes that map them, so it adds up; RSS
    counts them once per process."""
    pss = rss = 0
    for p in tree_pids(pid):
        fields = rollup_kb(p)
        pss += fields.get("Pss:", 0)
        rss += fields.get("Rss:", 0)
    return pss / 1024, rss / 1024


def rollup_kb(pid: int) -> dict[str, int]:
    """The kB fields of one read of /proc/PID/smaps_rollup ("Rss:", "Pss:", ...); empty when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            fields[parts[0]] = int(parts[1])
    return fields


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(name: str, samples: list[float], unit: str = "ms") -> str:
    ordered = sorted(samples)
    return f"{name:<52} median {statistics.median(ordered):9.3f} {unit}   min {ordered[0]:9.3f}   max {ordered[-1]:9.3f}   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        client = StdioClient(args.binary, cwd)
        client.tool("sandbox_exec_stateful", code="pass")  # starts the sandbox, the REPL and a spare worker
        time.sleep(1.0)
        pss, rss = tree_memory_mb(client.process.pid)
        stateful = timed(lambda: client.tool("sandbox_exec_stateful", code="print(1)"), args.calls)
        fresh = timed(lambda: (client.tool("sandbox_exec", code="print(1)"), time.sleep(0.15)), 30)
        fresh = [sample - 150 for sample in fresh]
        cold = timed(lambda: client.tool("sandbox_exec", code="print(1)"), 30)
        text = ("lorem ipsum dolor sit amet " * 250_000)[:6 * 1024 * 1024]

        def upload_and_load() -> None:
            client.tool("sandbox_upload", path="big.txt", content=text)
            out = client.tool("sandbox_exec_stateful", code="data = open('big.txt').read()\nlen(data)")
            assert out["stdout"].strip() == str(len(text)), out

        upload = timed(upload_and_load, 10)
        client.close()
    print(line("sandbox_exec_stateful print(1) round trip (stdio)", stateful))
    print(line("sandbox_exec print(1), fresh worker from the spare", fresh))
    print(line("sandbox_exec print(1), back to back (spare not ready)", cold))
    print(line("6 MB text: sandbox_upload + load into a variable", upload))
    print(f"{'server + REPL worker + spare workers (whole tree)':<52} PSS {pss:6.1f} MB   RSS {rss:6.1f} MB")


if __name__ == "__main__":
    main()
