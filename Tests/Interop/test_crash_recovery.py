"""A server killed with SIGKILL: none of its workers survive it, and the next server removes the sandbox directories
it left without touching those of another server that still runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, server_env

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}


class StdioServer:
    """A bare JSON-RPC client on the server's stdin/stdout, so the test can kill the server at any moment."""

    def __init__(self, temporary: Path):
        self.process = subprocess.Popen([BINARY, "serve"], cwd=temporary, env=server_env({"TMPDIR": str(temporary)}),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.next_id = 1
        self.request("initialize", INITIALIZE["params"])
        self.notify("notifications/initialized")

    def notify(self, method: str) -> None:
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        while True:
            message = json.loads(self.process.stdout.readline())
            if message.get("id") == self.next_id:
                return message

    def call(self, tool: str, **arguments) -> dict:
        return self.request("tools/call", {"name": tool, "arguments": arguments})["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=15)


def roots(temporary: Path) -> set[str]:
    return {p.name for p in temporary.iterdir() if p.name.startswith("rlm-mcp-")}


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_sigkill_leaves_no_worker_and_the_next_start_removes_only_abandoned_roots(tmp_path):
    survivor = StdioServer(tmp_path)
    victim = StdioServer(tmp_path)
    try:
        assert "42" in json.dumps(survivor.call("sandbox_exec_stateful", code="x = 42\nprint(x)"))
        assert "7" in json.dumps(victim.call("sandbox_exec_stateful", code="print(7)"))
        both = roots(tmp_path)
        assert len(both) == 2
        victim_root = next(name for name in both if name.startswith(f"rlm-mcp-{victim.process.pid}-"))
        assert processes_mentioning(victim_root), "the victim's workers run under its root"

        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while processes_mentioning(victim_root) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_mentioning(victim_root) == [], "a worker outlived its SIGKILLed server"
        assert victim_root in roots(tmp_path), "nothing has cleaned up yet"

        successor = StdioServer(tmp_path)
        try:
            assert "1" in json.dumps(successor.call("sandbox_exec", code="print(1)"))
            left = roots(tmp_path)
            assert victim_root not in left, "the killed server's root was not removed"
            assert both - {victim_root} <= left, "a running server's root was touched"
            # The survivor's sandbox is intact: its variable is still there.
            assert "42" in json.dumps(survivor.call("sandbox_exec_stateful", code="print(x)"))
        finally:
            successor.stop()
    finally:
        survivor.stop()
        if victim.process.poll() is None:
            victim.process.kill()
