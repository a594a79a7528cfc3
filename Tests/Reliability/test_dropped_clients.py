"""A client that goes away mid-call, in each era and transport (2026-07-28 response stream closed, handshake-era
streamable-HTTP session abandoned, legacy SSE connection dropped): the call is cancelled and its code stops within
a second."""

from __future__ import annotations

import glob
import time

import anyio
import pytest

from conftest import interop

pytestmark = pytest.mark.anyio

HEARTBEAT = "import time\nwhile True:\n    open('heartbeat', 'w').write(repr(time.time()))\n    time.sleep(0.05)\n"


def last_heartbeat(temporary) -> float | None:
    beats = glob.glob(str(temporary / "rlm-mcp-*" / "*" / "heartbeat"))
    if not beats:
        return None
    try:
        return float(open(beats[0]).read() or "nan")
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize(("transport", "mode"), [
    ("streamable-http", interop.MODERN),
    # A dropped SSE stream is noticed at the next write: a comment every 250 ms closes the session and cancels its calls.
    ("sse", "legacy"),
], ids=["2026-stream-closed", "sse-dropped"])
async def test_code_stops_within_a_second_of_the_client_leaving(tmp_path, figures, transport, mode):
    with interop.connection(transport, tmp_path, {"TMPDIR": str(tmp_path)}) as conn:
        dropped_at = 0.0
        async with anyio.create_task_group() as group:

            async def caller() -> None:
                async with conn.client(mode) as client:
                    await client.call_tool("sandbox_exec_stateful", {"code": HEARTBEAT, "timeout_s": 600})

            group.start_soon(caller)
            with anyio.fail_after(20):
                while last_heartbeat(tmp_path) is None:
                    await anyio.sleep(0.05)
            dropped_at = time.time()
            group.cancel_scope.cancel()
        await anyio.sleep(2.5)
        last = last_heartbeat(tmp_path)
        # The server is still serving.
        async with conn.client("legacy") as other:
            assert not (await other.call_tool("sandbox_exec", {"code": "print(1)"})).is_error
    stopped_after = (last or dropped_at) - dropped_at
    figures.add("dropped clients", f"{transport} {mode}: code stopped after", f"{max(0.0, stopped_after):.2f} s")
    assert stopped_after <= 1.0, f"the code kept running {stopped_after:.2f} s after the client left"


async def test_deleting_a_handshake_era_session_stops_its_running_code_within_a_second(tmp_path, figures):
    import httpx2

    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with interop.http_server(tmp_path, env={"TMPDIR": str(tmp_path)}) as server:
        async with httpx2.AsyncClient(timeout=30) as http:
            response = await http.post(server.endpoint, json=initialize, headers=headers)
            session = {**headers, "Mcp-Session-Id": response.headers["mcp-session-id"]}
            await http.post(server.endpoint, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "sandbox_exec_stateful", "arguments": {"code": HEARTBEAT, "timeout_s": 600}}}
            async with anyio.create_task_group() as group:
                async def caller() -> None:
                    try:
                        await http.post(server.endpoint, json=call, headers=session, timeout=60)
                    except httpx2.HTTPError:
                        pass  # the stream ends with the session

                group.start_soon(caller)
                with anyio.fail_after(20):
                    while last_heartbeat(tmp_path) is None:
                        await anyio.sleep(0.05)
                deleted_at = time.time()
                assert (await http.delete(server.endpoint, headers=session)).status_code in (200, 202, 204)
                await anyio.sleep(2.5)
                group.cancel_scope.cancel()
            last = last_heartbeat(tmp_path)
    stopped_after = (last or deleted_at) - deleted_at
    figures.add("dropped clients", "handshake-era HTTP session deleted: code stopped after", f"{max(0.0, stopped_after):.2f} s")
    assert stopped_after <= 1.0, f"the code kept running {stopped_after:.2f} s after the session was deleted"
