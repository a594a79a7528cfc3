#!/usr/bin/env python3
"""RLM engine benchmarks (stdlib only) against a release build, over MCP stdio, with the scripted fake LLM:

    swift build -c release --product rlm-mcp && python3 scripts/bench/engine.py [--tracing]

- the 3-call needle task (2 root calls + 1 llm_query) at 0 ms (back to back, and paced) and 250 ms model latency:
  engine overhead is the client-observed run time minus calls x latency (the fake's own request handling is counted
  against us);
- 32 llm_query_batched sub-calls at 250 ms latency: the code block's duration, at RLM_SUB_CONCURRENCY=16 (default)
  and 32;
- peak PSS and RSS of the server and its workers during the runs (PSS splits shared pages between the processes
  that map them, so it adds up; RSS counts them once per process).
Runs are repeated in one session (warm sandbox, as an MCP client sees it after its first call); medians reported.

`--cold N`: N fresh servers instead, each sent the needle task (0 ms latency) right after its initialize answer, as a
client launching the server for one task sees it: time to the initialize answer, the first call's in-call time (minus
the round trip of a trivial line server over the same kind of pipes, measured in the same run), peak PSS/RSS during
that call, and the idle server's PSS once start-up work settled. The first server starts with an empty probe cache
(XDG_CACHE_HOME points at a fresh directory); the median is over the others.
"""

from __future__ import annotations

import argparse
import atexit
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox import ROOT, StdioClient, rollup_kb, tree_memory_mb  # noqa: E402

FAKE = ROOT / "scripts" / "fakes" / "fake_llm.py"
CONTEXT = "\n".join(f"record {i:04d}: the quick brown fox {'NEEDLE' if i % 31 == 5 else 'hay'}" for i in range(600))


def reply(text: str, latency: float) -> dict:
    return {"text": text, "delay_s": latency}


def needle_script(latency: float) -> dict:
    return {
        "models": {"gpt-4o-mini": "sub"},
        "root": {"replies": [
            reply("```python\nhits = [l for l in context.splitlines() if 'NEEDLE' in l]\nv = llm_query('needle? ' + hits[0])\nprint(len(hits), v)\n```", latency),
            reply("```python\nSUBMIT(answer=len(hits))\n```", latency),
        ]},
        "sub": {"default": reply("yes", latency)},
    }


def batch_script(latency: float) -> dict:
    return {
        "models": {"gpt-4o-mini": "sub"},
        "root": {"replies": [
            reply("```python\nanswers = llm_query_batched([f'part {i}' for i in range(32)])\nSUBMIT(answer=len(answers))\n```", 0),
        ]},
        "sub": {"default": reply("ok", latency)},
    }


def post(url: str, body: dict) -> None:
    urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")).read()


class PeakMemory:
    """Samples the PSS and RSS of a process tree every 10 ms in the background; both from the same pass, so at every
    sample PSS <= RSS."""

    def __init__(self, pid: int) -> None:
        self.pid, self.pss, self.rss, self.running = pid, 0.0, 0.0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while self.running:
            pss, rss = tree_memory_mb(self.pid)
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)
            time.sleep(0.01)

    def stop(self) -> str:
        self.running = False
        self.thread.join()
        return f"PSS {self.pss:.1f} MB, RSS {self.rss:.1f} MB"


def line_server_round_trip(runs: int = 50) -> float:
    """Median round trip (ms) of one JSON line through a trivial line server: the client's and the pipes' share."""
    echo = subprocess.Popen([sys.executable, "-c", "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n    sys.stdout.flush()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    message = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "arguments": {}}}) + "\n").encode()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        echo.stdin.write(message)
        echo.stdin.flush()
        json.loads(echo.stdout.readline())
        samples.append((time.perf_counter() - started) * 1000)
    echo.stdin.close()
    echo.wait()
    return statistics.median(samples)


def cold(binary: str, url: str, runs: int) -> None:
    """Fresh servers, one needle task each, sent as soon as the initialize answer arrives."""
    trivial = line_server_round_trip()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-bench", "XDG_CACHE_HOME": cache}
        for _ in range(runs):
            post(url + "/_control/script", needle_script(0.0))
            with tempfile.TemporaryDirectory() as cwd:
                spawned = time.perf_counter()
                client = StdioClient(binary, cwd, env)
                initialized = time.perf_counter()
                peak = PeakMemory(client.process.pid)
                started = time.perf_counter()
                out = client.tool("rlm_execute", task="How many NEEDLE lines?", context=CONTEXT)
                call = (time.perf_counter() - started) * 1000
                assert out["status"] == "submitted" and out["llm_calls"] == 3, out
                memory = peak.stop()
                rows.append(((initialized - spawned) * 1000, call - trivial, memory))
                client.close()
    first, rest = rows[0], rows[1:] or rows
    print(f"cold: trivial line server round trip {trivial:.2f} ms (subtracted from in-call times)")
    print(f"cold, first start (no saved probes): initialize answered {first[0]:.1f} ms after spawn, "
          f"first rlm_execute in-call {first[1]:.1f} ms, peak {first[2]}")
    print(f"cold, next starts (n={len(rest)}): initialize answered {statistics.median(r[0] for r in rest):.1f} ms after spawn (median), "
          f"first rlm_execute in-call {statistics.median(r[1] for r in rest):.1f} ms median "
          f"(min {min(r[1] for r in rest):.1f}, max {max(r[1] for r in rest):.1f}); peak during the call, last run: {rest[-1][2]}")
    with tempfile.TemporaryDirectory() as cwd:
        client = StdioClient(binary, cwd, {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-bench"})
        time.sleep(2.0)  # start-up work (probes, spare worker) settled
        server = rollup_kb(client.process.pid).get("Pss:", 0) / 1024
        pss, rss = tree_memory_mb(client.process.pid)
        print(f"idle server, 2 s after start: server PSS {server:.1f} MB; whole tree PSS {pss:.1f} MB, RSS {rss:.1f} MB")
        client.close()


def start_otlp_sink() -> dict[str, str]:
    """A loopback OTLP/HTTP endpoint that accepts every export (an empty protobuf answer is a valid response) and
    counts the spans' bytes; returns the server variables that point the exporter at it."""
    received = {"bytes": 0, "exports": 0}

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received["bytes"] += len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            received["exports"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    atexit.register(lambda: print(f"OTLP sink: {received['exports']} exports, {received['bytes']} bytes"))
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cold", type=int, default=0, metavar="N", help="N fresh servers, one task each (see above)")
    parser.add_argument("--tracing", action="store_true",
                        help="export traces over OTLP/HTTP to a local sink (OTEL_EXPORTER_OTLP_ENDPOINT), to measure their cost")
    args = parser.parse_args()
    tracing = start_otlp_sink() if args.tracing else {}

    fake = subprocess.Popen([sys.executable, str(FAKE), "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = fake.stdout.readline().split()[-1]
    try:
        if args.cold:
            cold(args.binary, url, args.cold)
            return
        for concurrency in ("16", "32"):
            env = {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-bench", "RLM_SUB_CONCURRENCY": concurrency, **tracing}
            with tempfile.TemporaryDirectory() as cwd:
                client = StdioClient(args.binary, cwd, env)
                peak = PeakMemory(client.process.pid)
                client.tool("sandbox_exec", code="print(1)")  # the session's sandbox exists, as after any first call
                if concurrency == "16":
                    # Back to back, each run waits for the isolated worker the previous run's hand-over started; paced
                    # runs find it ready, as runs separated by any real model latency do.
                    for latency, gap, label in ((0.0, 0.0, "back to back"), (0.0, 0.3, "paced 0.3 s apart"), (0.25, 0.0, "back to back")):
                        totals = []
                        for _ in range(args.runs if latency == 0 else max(5, args.runs // 3)):
                            time.sleep(gap)
                            post(url + "/_control/script", needle_script(latency))
                            started = time.perf_counter()
                            out = client.tool("rlm_execute", task="How many NEEDLE lines?", context=CONTEXT)
                            totals.append((time.perf_counter() - started) * 1000)
                            assert out["status"] == "submitted" and out["llm_calls"] == 3, out
                        median = statistics.median(totals)
                        print(f"needle task, 3 calls at {latency * 1000:.0f} ms, {label}: run {median:.1f} ms median, "
                              f"engine overhead {median - 3 * latency * 1000:.1f} ms (min {min(totals) - 3 * latency * 1000:.1f})")
                batch = []
                for _ in range(5):
                    post(url + "/_control/script", batch_script(0.25))
                    out = client.tool("rlm_execute", task="batch", include_trajectory=True)
                    assert out["answer"] == 32, out
                    batch.append(out["trajectory"][0]["blocks"][0]["duration_ms"])
                print(f"32 batched sub-calls at 250 ms, RLM_SUB_CONCURRENCY={concurrency}: {statistics.median(batch) / 1000:.3f} s median")
                print(f"peak memory, server + workers (RLM_SUB_CONCURRENCY={concurrency}): {peak.stop()}")
                client.close()
    finally:
        fake.kill()


if __name__ == "__main__":
    main()
