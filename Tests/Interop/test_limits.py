"""Limits that hold under abuse without any hostile code: a client that opens namespace after namespace, or a
2026-07-28 client whose every call makes a new workspace, stays within the server's caps on live workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import MODERN, connection

pytestmark = pytest.mark.anyio

CALLS = int(os.environ.get("RLM_LIMITS_CALLS", "120"))


async def ok(client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def live_workers(temporary: Path) -> int:
    """Isolated workers of this test's server: outer bubblewrap processes (bubblewrap forks once more inside its PID
    namespace) that bind a sandbox dir under `temporary` and run the worker."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if cmdline[0].endswith(b"bwrap") and any(part.startswith(str(temporary).encode()) for part in cmdline) \
                    and any(part.endswith((b"rlm_worker.py", b"rlm_worker.pyc")) for part in cmdline):
                found[int(entry.name)] = parent
    return sum(1 for parent in found.values() if parent not in found)


async def test_many_named_namespaces_stay_within_the_workspace_and_server_caps(tmp_path):
    env = {"RLM_MAX_WORKERS": "4", "RLM_MAX_WORKSPACE_WORKERS": "2", "TMPDIR": str(tmp_path)}
    with connection("stdio", tmp_path, env) as conn:
        async with conn.client("legacy") as client:
            baseline = live_workers(tmp_path)
            peak = 0
            for i in range(40):
                out = await ok(client, "sandbox_exec_stateful", code=f"v = {i}\nprint(v)", session=f"repl{i}")
                assert out["stdout"] == f"{i}\n"
                peak = max(peak, live_workers(tmp_path) - baseline)
            status = (await client.call_tool("rlm_status", {})).structured_content["sandbox"]
    # rlm_status says whether a cgroup holds the sandbox (and its limits), or why none does.
    assert status["cgroup"] and ("MB" in status["cgroup"] or status["cgroup"].startswith("none"))
    assert len(status["namespaces"]) <= 2, status["namespaces"]
    assert status["workers"] <= 4
    assert peak <= 4, f"{peak} workers were alive at once"


async def test_modern_calls_without_a_workspace_do_not_pile_up_workers(tmp_path):
    env = {"RLM_MAX_WORKERS": "6", "RLM_MAX_WORKSPACES": "8", "TMPDIR": str(tmp_path)}
    with connection("stdio", tmp_path, env, mode=MODERN) as conn:
        async with conn.client(MODERN) as client:
            baseline = live_workers(tmp_path)
            peak = 0
            handles = set()
            for i in range(CALLS):
                # No workspace passed back: each call gets a new one.
                result = await client._client.call_tool("sandbox_exec_stateful", {"code": f"print({i})"})
                assert not result.is_error, result.content[0].text
                handles.add(result.structured_content["workspace"])
                if i % 10 == 0:
                    peak = max(peak, live_workers(tmp_path) - baseline)
            status = (await client._client.call_tool("rlm_status", {})).structured_content
    assert len(handles) == CALLS
    assert peak <= 6, f"{peak} workers were alive at once"
    # The cap closes idle workspaces only: the last call's may still be finishing its release.
    assert status["workspaces_open"] <= 8 + 1, status["workspaces_open"]


FILL = """
chunk = b'x' * (1 << 20)
with open('fill.bin', 'wb') as f:
    for _ in range(64):
        f.write(chunk)
"""


async def test_code_that_fills_the_work_dir_stops_at_the_disk_quota_and_the_host_keeps_its_space(tmp_path):
    env = {"RLM_SANDBOX_DISK_MB": "8", "TMPDIR": str(tmp_path)}
    with connection("stdio", tmp_path, env) as conn:
        async with conn.client("legacy") as client:
            out = await ok(client, "sandbox_exec", code=FILL)
            assert out["error"] and out["error"]["type"] == "OSError", out
            # A sized /work (the server may mount as root) says the disk is full; elsewhere the per-file cap says the file is too big.
            assert "No space left on device" in out["error"]["message"] or "File too large" in out["error"]["message"], out
            listed = await ok(client, "sandbox_files")
            sizes = {entry["name"]: entry["size"] for entry in listed["entries"]}
            assert 0 < sizes["fill.bin"] <= 8 * 1024 * 1024, sizes
            written = next(tmp_path.glob("rlm-mcp-*/*/fill.bin"))
            if os.geteuid() == 0:
                # The file lives on the sandbox's own mount, not on the host's disk, and the host-side tools see it.
                assert written.stat().st_dev != tmp_path.stat().st_dev
                upload = await client.call_tool("sandbox_upload", {"path": "more.bin", "content": "y" * (4 * 1024 * 1024)})
                assert upload.is_error and "disk quota is full (RLM_SANDBOX_DISK_MB)" in upload.content[0].text, upload
