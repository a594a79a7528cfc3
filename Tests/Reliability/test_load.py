"""Many MCP sessions at once, half per protocol era, over streamable HTTP: rounds of set-variable / upload /
download / read-back / list, with an `rlm_execute` every few rounds. Nothing fails, nobody sees anyone else's
variables or files, the tail stays near the median, and the server ends where it started."""

from __future__ import annotations

import time
import uuid

import anyio
import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import interop, size
from measure import percentiles, tree

pytestmark = pytest.mark.anyio

SESSIONS = size(8, 50)
SECONDS = size(8, 60)
RLM_EVERY = 5


async def session_loop(index: int, endpoint: str, deadline: float, rounds: list[float], calls: list[float],
                       errors: list[str], leaks: list[str]) -> None:
    mode = interop.MODERN if index % 2 else "legacy"
    token = f"s{index}-{uuid.uuid4().hex[:8]}"
    async with interop.WorkspaceCarrier(Client(streamable_http_client(endpoint), mode=mode), carry=mode != "legacy") as client:

        async def call(tool: str, **arguments) -> dict:
            started = time.monotonic()
            result = await client.call_tool(tool, arguments)
            calls.append(time.monotonic() - started)
            if result.is_error:
                errors.append(f"{tool}: {result.content[0].text[:200]}")
                return {}
            return result.structured_content or {}

        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            await call("sandbox_exec_stateful", code=f"mine = {token!r}\nprint(mine)")
            await call("sandbox_upload", path=f"{token}.txt", content=token * 20)
            down = await call("sandbox_download", path=f"{token}.txt")
            if down and down.get("content") != token * 20:
                errors.append(f"{token}: download returned other content")
            back = await call("sandbox_exec_stateful", code="print(mine)")
            if back and back.get("stdout") != f"{token}\n":
                leaks.append(f"{token} read back {back.get('stdout')!r}")
            listing = await call("sandbox_files")
            foreign = [e["name"] for e in listing.get("entries", []) if e["name"].endswith(".txt") and not e["name"].startswith(token)]
            if foreign:
                leaks.append(f"{token} sees {foreign}")
            if n % RLM_EVERY == 0:
                run = await call("rlm_execute", task="count the needles", context=f"{token} NEEDLE x NEEDLE")
                if run and run.get("status") != "submitted":
                    errors.append(f"rlm_execute ended {run.get('status')}: {run.get('message')}")
            rounds.append(time.monotonic() - started)


async def test_concurrent_sessions_in_both_eras(tmp_path, figures):
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": interop.UNIVERSAL_REPLY}, "sub": {"default": "yes"}}
    with interop.fake_llm(script, tmp_path) as llm:
        # Short idle expiry: 2026-07-28 clients have no session to end, so their workspaces go when idle.
        env = {"OPENAI_API_KEY": interop.CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "TMPDIR": str(tmp_path),
               "RLM_WORKSPACE_IDLE_S": "5"}
        with interop.http_server(tmp_path, env=env) as server:
            pid = server.process.pid
            # Warm the server once, so "start" is a serving server, not a fresh process.
            async with Client(streamable_http_client(server.endpoint), mode="legacy") as warm:
                await warm.call_tool("sandbox_exec", {"code": "print(1)"})
            before = tree(pid)
            rounds: list[float] = []
            calls: list[float] = []
            errors: list[str] = []
            leaks: list[str] = []
            deadline = time.monotonic() + SECONDS
            async with anyio.create_task_group() as group:
                for index in range(SESSIONS):
                    group.start_soon(session_loop, index, server.endpoint, deadline, rounds, calls, errors, leaks)
            right_after = tree(pid)
            # Handshake-era sessions ended with their clients; modern workspaces expire after 5 s idle.
            for _ in range(60):
                after = tree(pid)
                if after["processes"] <= before["processes"]:
                    break
                await anyio.sleep(0.5)
    round_stats = percentiles(rounds)
    figures.add("load", "sessions x seconds", f"{SESSIONS} x {SECONDS} s (half 2026-07-28, half handshake era), streamable HTTP")
    figures.add("load", "rounds", round_stats)
    figures.add("load", "calls", percentiles(calls))
    figures.add("load", "errors", len(errors))
    figures.add("load", "cross-session leaks", len(leaks))
    figures.add("load", "server + workers before", before)
    figures.add("load", "server + workers right after", right_after)
    figures.add("load", "server + workers once idle workspaces expired", after)
    figures.add("load", "tail (p95 / p50)", round(round_stats["p95_ms"] / round_stats["p50_ms"], 2))
    assert errors == [], errors[:5]
    assert leaks == [], leaks[:5]
    assert round_stats["n"] >= SESSIONS
    # Every workspace ended: its sandbox and workers are gone. Descriptors may differ by a few (the spare sandbox made
    # after the last hand-over, idle HTTP connections), but a leak per call would show as hundreds after these rounds.
    assert after["processes"] <= before["processes"], (before, after)
    assert after["server_fds"] <= before["server_fds"] + 8, (before, after)
