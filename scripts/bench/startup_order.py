#!/usr/bin/env python3
"""Regenerates scripts/startup-order.txt: the functions an idle rlm-mcp server (and its first rlm_execute) runs, in
the order they first run, for lld's --symbol-ordering-file (scripts/build-release.sh). Needs perf and a release build
made by scripts/build-release.sh (it reuses that build's link command from .build/release.yaml):

    scripts/build-release.sh && python3 scripts/bench/startup_order.py [--rounds 25]

A page fault in .text names one function start-up ran, but the kernel maps a whole 64-128 KB folio per fault, so one
run shows only the first function of each folio. Each round therefore relinks (unstripped, into a temp dir) with the
functions found so far placed first, runs the server again and adds the newly faulting functions, until a round finds
(almost) nothing new. Each round: an idle `serve` (initialize, then 2 s: probes, spare worker), then one rlm_execute of
the needle task against the scripted fake model, so the first call's code follows the start-up code; with `--http`,
then an idle `serve --transport streamable-http` (initialize over HTTP, 2 s). Measured (docs/performance.md): the
HTTP start-up in the order takes an idle HTTP server from 28.2 to 25.0 MB PSS but stdio's from 20.9 to 21.6 MB, so the
committed order is stdio's (what MCP clients launch).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
import signal
import socket
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import CONTEXT, FAKE, needle_script, post  # noqa: E402
from sandbox import ROOT  # noqa: E402

ORDER = ROOT / "scripts" / "startup-order.txt"


def link_command() -> list[str]:
    """The release link of rlm-mcp as SwiftPM last wrote it (scripts/build-release.sh flags included)."""
    for line in (ROOT / ".build" / "release.yaml").read_text().splitlines():
        line = line.strip()
        if line.startswith("args:") and '/release/rlm-mcp"' in line and "-emit-executable" in line:
            return json.loads(line.split("args: ", 1)[1])
    raise SystemExit("no rlm-mcp release link in .build/release.yaml: run scripts/build-release.sh first")


def relink(base: list[str], output: Path, order: Path) -> None:
    args, index = [], 0
    while index < len(base):
        # The symbol table stays (faults are named through it); the order is this round's.
        if base[index] == "-Xlinker" and index + 1 < len(base) and (
                base[index + 1] == "--strip-all" or base[index + 1].startswith("--symbol-ordering-file=")):
            index += 2
            continue
        args.append(base[index])
        index += 1
    args[args.index("-o") + 1] = str(output)
    args += ["-Xlinker", f"--symbol-ordering-file={order}", "-Xlinker", "--no-warn-symbol-ordering"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def exercise(binary: Path, data: Path, model_url: str) -> None:
    """An idle start, then one rlm_execute, under perf's page-fault sampling (every fault, with its address)."""
    post(model_url + "/_control/script", needle_script(0.0))
    with tempfile.TemporaryDirectory() as cwd:
        env = {"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "error", "OPENAI_BASE_URL": model_url + "/v1",
               "OPENAI_API_KEY": "sk-bench"}
        server = subprocess.Popen(["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", str(data), "--",
                                   str(binary), "serve"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)

        def request(number: int, method: str, params: dict) -> None:
            server.stdin.write((json.dumps({"jsonrpc": "2.0", "id": number, "method": method, "params": params}) + "\n").encode())
            server.stdin.flush()
            server.stdout.readline()

        request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "order", "version": "1"}})
        server.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        server.stdin.flush()
        time.sleep(2.0)
        request(2, "tools/call", {"name": "rlm_execute", "arguments": {"task": "How many NEEDLE lines?", "context": CONTEXT}})
        server.stdin.close()
        server.wait(timeout=60)


def exercise_http(binary: Path, data: Path) -> None:
    """An idle streamable-HTTP server under perf's page-fault sampling: up, one initialize, 2 s, stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as cwd:
        env = {"PATH": os.environ["PATH"], "RLM_LOG_LEVEL": "error"}
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", str(data), "--",
                                 str(binary), "serve", "--transport", "streamable-http", "--port", str(port)],
                                cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "order", "version": "1"}}}).encode()
        request = urllib.request.Request(base + "/mcp", data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
        urllib.request.urlopen(request, timeout=10).read()
        time.sleep(2.0)
        for child in Path(f"/proc/{perf.pid}/task/{perf.pid}/children").read_text().split():
            os.kill(int(child), signal.SIGTERM)
        perf.wait(timeout=60)


def faulting_functions(binary: Path, data: Path) -> list[str]:
    """The functions of `binary` whose .text pages faulted, in fault order."""
    loads, text = [], None
    for line in subprocess.run(["readelf", "-lW", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            loads.append((int(fields[1], 16), int(fields[2], 16)))
    for line in subprocess.run(["readelf", "-SW", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.split("]", 1)[-1].split()
        if fields and fields[0] == ".text":
            text = (int(fields[2], 16), int(fields[2], 16) + int(fields[4], 16))
    symbols = []
    for line in subprocess.run(["nm", "-n", "--defined-only", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            symbols.append((int(parts[0], 16), parts[2]))
    addresses = [address for address, _ in symbols]
    script = subprocess.run(["perf", "script", "-i", str(data), "--show-mmap-events", "-F", "comm,ip,addr"],
                            capture_output=True, text=True, check=True).stdout
    base, found = None, []
    for line in script.splitlines():
        if "PERF_RECORD_MMAP2" in line and str(binary) in line:
            match = re.search(r"\[(0x[0-9a-f]+)\((0x[0-9a-f]+)\) @ (0x[0-9a-f]+|0) ", line)
            start, page_offset = int(match.group(1), 16), int(match.group(3), 16)
            segment = next(((offset, vaddr) for offset, vaddr in loads if offset & ~0xFFF == page_offset), None)
            if base is None and segment:
                base = start - (segment[1] & ~0xFFF)
            continue
        fields = line.split()
        if base is None or "PERF_RECORD" in line or len(fields) < 2:
            continue
        try:
            address = int(fields[1], 16) - base
        except ValueError:
            continue
        if text[0] <= address < text[1]:
            index = bisect.bisect_right(addresses, address) - 1
            if index >= 0:
                found.append(symbols[index][1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--fresh", action="store_true", help="start from an empty order instead of the current file")
    parser.add_argument("--http", action="store_true", help="also an idle streamable-HTTP start-up each round")
    args = parser.parse_args()
    base = link_command()
    order = [] if args.fresh or not ORDER.exists() else [line for line in ORDER.read_text().splitlines() if line]
    fake = subprocess.Popen([sys.executable, str(FAKE), "--port", "0"], stdout=subprocess.PIPE, text=True)
    model_url = fake.stdout.readline().split()[-1]
    try:
        with tempfile.TemporaryDirectory() as work:
            work_dir = Path(work)
            for round_number in range(1, args.rounds + 1):
                current = work_dir / "order.txt"
                current.write_text("\n".join(order) + "\n")
                binary = work_dir / "rlm-mcp"
                relink(base, binary, current)
                exercise(binary, work_dir / "perf.data", model_url)
                faults = faulting_functions(binary, work_dir / "perf.data")
                if args.http:
                    exercise_http(binary, work_dir / "perf-http.data")
                    faults += faulting_functions(binary, work_dir / "perf-http.data")
                known = set(order)
                new = [name for name in dict.fromkeys(faults) if name not in known]
                order += new
                print(f"round {round_number}: {len(faults)} .text faults, {len(new)} new functions, {len(order)} in all", flush=True)
                if len(new) < 5:
                    break
    finally:
        fake.kill()
    ORDER.write_text("\n".join(order) + "\n")
    # SwiftPM does not track the order file as a link input: without its output the next build links again.
    (ROOT / ".build" / "release" / "rlm-mcp").unlink(missing_ok=True)
    print(f"wrote {ORDER} ({len(order)} functions); the next scripts/build-release.sh links with it")


if __name__ == "__main__":
    main()
