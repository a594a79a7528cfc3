#!/usr/bin/env python3
"""Run-history benchmarks (stdlib only) against a release build:

    swift build -c release --product rlm-mcp && python3 scripts/bench/history.py

- recording overhead per step: the needle task (2 root steps + 1 sub-call, fake LLM at 0 ms, paced runs) over MCP stdio
  with RLM_HISTORY=off and on, interleaved; overhead = (median on - median off) / 2 steps;
- `rlm-mcp runs list` with 100,000 runs stored (filled straight into the schema the binary created, 3 steps each for
  1 in 100 runs): its wall time minus that of `rlm-mcp --version` (process start-up) measured in the same loop;
- the /runs viewer over the same 100,000 runs (`rlm-mcp runs serve`): the list page (200 newest), a status filter, a
  task search (a scan of every task), and a trajectory page, each a full HTTP GET on a kept-warm server;
- `--postgres`: the same list and page figures with the runs in PostgreSQL (RLM_DATABASE_URL), on a throwaway cluster
  (initdb + pg_ctl on a Unix socket, as the postgres user when root; psql loads the rows with COPY).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import CONTEXT, needle_script, post  # noqa: E402
from sandbox import ROOT, StdioClient  # noqa: E402

FAKE = ROOT / "scripts" / "fakes" / "fake_llm.py"


def recording_overhead(binary: str, runs: int) -> None:
    fake = subprocess.Popen([sys.executable, str(FAKE), "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = fake.stdout.readline().split()[-1]
    try:
        with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as cwd_on, tempfile.TemporaryDirectory() as cwd_off:
            base = {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-bench", "RLM_DATA_DIR": data}
            clients = {"on": StdioClient(binary, cwd_on, {**base, "RLM_HISTORY": "on"}),
                       "off": StdioClient(binary, cwd_off, {**base, "RLM_HISTORY": "off"})}
            for client in clients.values():
                client.tool("sandbox_exec", code="print(1)")
            times: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(runs):
                for mode, client in clients.items():
                    time.sleep(0.3)  # paced: the next run finds its warm worker ready, as after real model latency
                    post(url + "/_control/script", needle_script(0.0))
                    started = time.perf_counter()
                    out = client.tool("rlm_execute", task="How many NEEDLE lines?", context=CONTEXT)
                    times[mode].append((time.perf_counter() - started) * 1000)
                    assert out["status"] == "submitted", out
            for client in clients.values():
                client.close()
            recorded = sqlite3.connect(Path(data) / "history.sqlite").execute("SELECT COUNT(*) FROM steps").fetchone()[0]
            on, off = statistics.median(times["on"]), statistics.median(times["off"])
            print(f"needle run (2 steps), median of {runs}: history off {off:.2f} ms, on {on:.2f} ms; "
                  f"recording overhead {(on - off) / 2:+.2f} ms per step ({recorded} steps recorded)")
    finally:
        fake.kill()


def fill(database: Path, count: int) -> None:
    random.seed(7)
    db = sqlite3.connect(database)
    now = time.time()
    statuses = ["submitted"] * 8 + ["fallback", "error", "budget_exceeded"]
    step = json.dumps({"iteration": 1, "reply": "```python\nprint(len(context))\n```", "model": "openai/gpt-4o", "input_tokens": 900,
                       "output_tokens": 40, "latency_ms": 800, "blocks": [{"code": "print(len(context))", "stdout": "12345\n", "stderr": "",
                       "submitted": False, "truncated": False, "duration_ms": 3, "sub_calls": []}], "duration_ms": 4})
    with db:
        for i in range(count):
            run_id = f"run_{i:012x}"
            started = now - i * 20
            db.execute("""INSERT INTO runs (id, tool, task, root_model, sub_model, limits_json, context_kind, context_size, context_preview,
                          status, iterations, llm_calls, usage_json, total_tokens, cost_usd, started_at, ended_at, duration_ms, host, pid)
                          VALUES (?, 'rlm_execute', ?, 'openai/gpt-4o', 'openai/gpt-4o-mini', '{}', 'text', 25000, 'record 0000 …',
                          ?, 3, 5, '{}', 4000, 0.012, ?, ?, 5000, 'bench', 1)""",
                       (run_id, f"How many NEEDLE lines are there in batch {i}?", random.choice(statuses), started, started + 5))
            if i % 100 == 0:
                for seq in (1, 2, 3):
                    db.execute("INSERT INTO steps (run_id, seq, iteration, model, input_tokens, output_tokens, duration_ms, body_json) "
                               "VALUES (?, ?, ?, 'openai/gpt-4o', 900, 40, 4, ?)", (run_id, seq, seq, step))
    db.close()


def list_latency(binary: str, count: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": "/usr/bin:/bin", "HOME": data, "RLM_DATA_DIR": data}
        subprocess.run([binary, "runs", "list"], env=env, check=True, capture_output=True)  # creates the schema
        started = time.perf_counter()
        fill(Path(data) / "history.sqlite", count)
        print(f"filled {count} runs in {time.perf_counter() - started:.1f} s "
              f"({(Path(data) / 'history.sqlite').stat().st_size / 1e6:.1f} MB)")
        time_commands({
            "runs list": [binary, "runs", "list"],
            "runs list --status error": [binary, "runs", "list", "--status", "error"],
            "runs list --limit 1000 --json": [binary, "runs", "list", "--limit", "1000", "--json"],
            "runs show (3 steps)": [binary, "runs", "show", "run_000000000064"],
        }, binary, env, count, repeats, label="")
        page_latency(binary, env, count, repeats)


def time_commands(commands: dict[str, list[str]], binary: str, env: dict[str, str], count: int, repeats: int, label: str) -> None:
    """Runs each command `repeats` times, interleaved with `rlm-mcp --version` (process start-up), and prints medians."""
    commands = {"baseline (--version)": [binary, "--version"], **commands}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            times[name].append((time.perf_counter() - started) * 1000)
    base = statistics.median(times["baseline (--version)"])
    for name, values in times.items():
        median = statistics.median(values)
        extra = "" if name.startswith("baseline") else f", {median - base:.1f} ms over process start-up"
        print(f"{label}{name} with {count} runs stored: {median:.1f} ms median of {repeats}{extra}")


def page_latency(binary: str, env: dict[str, str], count: int, repeats: int) -> None:
    server = subprocess.Popen([binary, "runs", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().split()[-1].rsplit("/runs", 1)[0]
        pages = {
            "/runs (200 newest)": "/runs",
            "/runs?status=error": "/runs?status=error",
            "/runs?q=batch 99999 (task search)": "/runs?q=batch+99999",
            "/runs/<id> (3 steps)": "/runs/run_000000000064",
        }
        for path in pages.values():
            urllib.request.urlopen(base + path).read()  # warm: the store opens on the first request
        times: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(repeats):
            for name, path in pages.items():
                started = time.perf_counter()
                body = urllib.request.urlopen(base + path).read()
                times[name].append((time.perf_counter() - started) * 1000)
                assert body, name
        for name, values in times.items():
            print(f"page {name} with {count} runs stored: {statistics.median(values):.1f} ms median of {repeats}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def postgres_latency(binary: str, count: int, repeats: int) -> None:
    import glob
    import os
    import shutil
    import uuid
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    folder = tempfile.mkdtemp(prefix="rlm-pg-bench-", dir="/tmp")
    root = os.geteuid() == 0
    if root:
        shutil.chown(folder, "postgres", "postgres")
    as_pg = (lambda *c: ["runuser", "-u", "postgres", "--", *c]) if root else (lambda *c: list(c))
    port = 40000 + uuid.uuid4().int % 20000
    subprocess.run(as_pg(f"{bin_dir}/initdb", "-D", f"{folder}/data", "-U", "rlm", "--auth=trust", "--no-sync"), check=True, capture_output=True, cwd="/tmp")
    subprocess.run(as_pg(f"{bin_dir}/pg_ctl", "-D", f"{folder}/data", "-l", f"{folder}/log", "-w", "-o",
                         f"-k {folder} -p {port} -c listen_addresses=''", "start"), check=True, capture_output=True, cwd="/tmp")
    try:
        url = f"postgres://rlm@localhost:{port}/postgres?host={folder}&sslmode=disable"
        with tempfile.TemporaryDirectory() as home:
            env = {"PATH": "/usr/bin:/bin", "HOME": home, "RLM_DATABASE_URL": url}
            subprocess.run([binary, "runs", "list"], env=env, check=True, capture_output=True)  # migrates
            rows = Path(folder) / "runs.csv"
            now = time.time()
            with open(rows, "w") as out:
                for i in range(count):
                    started = now - i * 20
                    status = "error" if i % 11 == 0 else "submitted"
                    out.write(f"run_{i:012x}\trlm_execute\tHow many NEEDLE lines are there in batch {i}?\topenai/gpt-4o\topenai/gpt-4o-mini\t{{}}\t"
                              f"text\t25000\trecord 0000\t{status}\t3\t5\t{{}}\t4000\t0.012\t{started}\t{started + 5}\t5000\tbench\t1\n")
            os.chmod(rows, 0o644)
            started = time.perf_counter()
            subprocess.run(as_pg(f"{bin_dir}/psql", "-h", folder, "-p", str(port), "-U", "rlm", "-d", "postgres", "-q", "-c",
                                 f"\\copy runs (id, tool, task, root_model, sub_model, limits_json, context_kind, context_size, context_preview, status, "
                                 f"iterations, llm_calls, usage_json, total_tokens, cost_usd, started_at, ended_at, duration_ms, host, pid) FROM '{rows}'"),
                           check=True, capture_output=True, cwd="/tmp")
            subprocess.run(as_pg(f"{bin_dir}/psql", "-h", folder, "-p", str(port), "-U", "rlm", "-d", "postgres", "-q", "-c", "ANALYZE"),
                           check=True, capture_output=True, cwd="/tmp")
            print(f"PostgreSQL: loaded {count} runs in {time.perf_counter() - started:.1f} s")
            time_commands({"runs list": [binary, "runs", "list"], "runs list --status error": [binary, "runs", "list", "--status", "error"]},
                          binary, env, count, repeats, label="PostgreSQL ")
            page_latency(binary, env, count, repeats)
    finally:
        subprocess.run(as_pg(f"{bin_dir}/pg_ctl", "-D", f"{folder}/data", "-m", "immediate", "stop"), capture_output=True, cwd="/tmp")
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="measure the PostgreSQL store instead")
    args = parser.parse_args()
    if args.postgres:
        postgres_latency(args.binary, args.stored, 15)
        return
    recording_overhead(args.binary, args.runs)
    list_latency(args.binary, args.stored, 15)


if __name__ == "__main__":
    main()
