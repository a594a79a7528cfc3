#!/usr/bin/env python3
"""`rlm-mcp run` as a one-shot tool (stdlib only): the needle task (2 root calls + 1 llm_query, 0 ms model latency)
against the scripted fake LLM, from process start to exit, with the whole process tree's peak PSS and RSS:

    swift build -c release --product rlm-mcp && python3 scripts/bench/oneshot.py [--runs 10] [--history]

Each run is a fresh process with a fresh data folder; the first run also has an empty probe cache (XDG_CACHE_HOME),
the median is over the others. Run history is off unless `--history` is given, as a one-shot user would choose
either way; both are worth a figure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import CONTEXT, FAKE, PeakMemory, needle_script, post  # noqa: E402
from sandbox import ROOT  # noqa: E402


def one_run(binary: str, url: str, cache: str, history: bool) -> tuple[float, str]:
    post(url + "/_control/script", needle_script(0.0))
    with tempfile.TemporaryDirectory() as work:
        context = Path(work) / "context.txt"
        context.write_text(CONTEXT)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "XDG_CACHE_HOME": cache,
               "OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-bench",
               "RLM_DATA_DIR": work + "/data", "RLM_HISTORY": "on" if history else "off"}
        started = time.perf_counter()
        process = subprocess.Popen([binary, "run", "--task", "How many NEEDLE lines?", "--context-file", str(context)],
                                   cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = PeakMemory(process.pid)
        out, err = process.communicate()
        elapsed = (time.perf_counter() - started) * 1000
        memory = peak.stop()
        assert process.returncode == 0 and out.strip() == "20", (process.returncode, out, err[-2000:])
        return elapsed, memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "rlm-mcp"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--history", action="store_true", help="record the runs (RLM_HISTORY=on)")
    args = parser.parse_args()
    fake = subprocess.Popen([sys.executable, str(FAKE), "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = fake.stdout.readline().split()[-1]
    try:
        with tempfile.TemporaryDirectory() as cache:
            rows = [one_run(args.binary, url, cache, args.history) for _ in range(args.runs)]
    finally:
        fake.kill()
    first, rest = rows[0], rows[1:] or rows
    print(f"rlm-mcp run, needle task, history {'on' if args.history else 'off'}: first (no saved probes) "
          f"{first[0]:.0f} ms start to exit, peak {first[1]}")
    print(f"next runs (n={len(rest)}): {statistics.median(r[0] for r in rest):.0f} ms start to exit (median; "
          f"min {min(r[0] for r in rest):.0f}, max {max(r[0] for r in rest):.0f}); peak of the last: {rest[-1][1]}")


if __name__ == "__main__":
    main()
