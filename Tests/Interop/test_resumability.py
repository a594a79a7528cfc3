"""Handshake-era streamable HTTP: SSE events carry ids, a client that lost a call's stream gets what it missed with
Last-Event-ID, and one session's memory does not grow with its number of calls."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx2

from conftest import http_server

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "resume-test", "version": "1"}},
}


def open_session(http: httpx2.Client, url: str) -> dict[str, str]:
    response = http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 200, response.text
    headers = {**MCP_HEADERS, "Mcp-Session-Id": response.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
    assert http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers).status_code == 202
    return headers


def events(body: str) -> list[tuple[str | None, dict]]:
    """(id, message) of each SSE event that carries a message."""
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("data", "").strip():
            out.append((fields.get("id"), json.loads(fields["data"])))
    return out


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise AssertionError("no Pss line in smaps_rollup")


def test_every_message_event_has_an_id(tmp_path):
    with http_server(tmp_path, env={"RLM_DIAGNOSTIC_TOOLS": "1"}) as server, httpx2.Client(timeout=30) as http:
        headers = open_session(http, server.endpoint)
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "diagnostic_progress", "arguments": {"steps": 2, "interval_ms": 1}, "_meta": {"progressToken": "t"}}}
        received = events(http.post(server.endpoint, json=call, headers=headers).text)
    assert [m.get("method", "response") for _, m in received] == ["notifications/progress"] * 2 + ["response"]
    ids = [event_id for event_id, _ in received]
    assert all(ids) and len(set(ids)) == len(ids)


def test_a_call_whose_stream_dropped_is_resumed_with_last_event_id(tmp_path):
    with http_server(tmp_path, env={"RLM_DIAGNOSTIC_TOOLS": "1"}) as server, httpx2.Client(timeout=30) as http:
        headers = open_session(http, server.endpoint)
        call = {"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
                "params": {"name": "diagnostic_progress", "arguments": {"steps": 6, "interval_ms": 300}, "_meta": {"progressToken": "r"}}}
        with http.stream("POST", server.endpoint, json=call, headers=headers) as stream:
            # The priming event: an id and no data, sent before anything else.
            first = next(line for line in stream.iter_lines() if line.startswith("id: "))
        last_event_id = first[len("id: "):]
        time.sleep(2.5)  # the call finishes (6 x 300 ms) while no one is reading its stream
        resumed = http.get(server.endpoint, headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": last_event_id})
        assert resumed.status_code == 200
        received = [m for _, m in events(resumed.text)]
        assert [m["params"]["progress"] for m in received if m.get("method") == "notifications/progress"] == [1, 2, 3, 4, 5, 6]
        assert received[-1]["id"] == "slow" and received[-1]["result"]["structuredContent"]["steps_completed"] == 6
        # Delivered: the stream is gone, and asking again says so.
        again = http.get(server.endpoint, headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": last_event_id})
        assert again.status_code == 400 and "Last-Event-ID" in again.json()["error"]["message"]


def test_a_sessions_memory_does_not_grow_with_its_calls(tmp_path):
    """The SDK transport this replaced kept every event: ~5 MB more per 1,000 calls of this size."""
    call = {"jsonrpc": "2.0", "id": 0, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {}}}
    with http_server(tmp_path) as server, httpx2.Client(timeout=30) as http:
        headers = open_session(http, server.endpoint)

        def calls(count: int, start: int) -> int:
            size = 0
            for n in range(start, start + count):
                response = http.post(server.endpoint, json={**call, "id": n}, headers=headers)
                assert response.status_code == 200
                size = len(response.content)
            return size

        size = calls(500, 10)  # warm-up: caches, allocator arenas
        before = pss_kb(server.process.pid)
        calls(2500, 1000)
        growth_kb = pss_kb(server.process.pid) - before
    assert size > 1500, size  # each answer is ~2 KB, the size the leak was measured with
    print(f"PSS growth over 2,500 calls of {size} bytes: {growth_kb} KB")
    assert growth_kb < 3 * 1024, f"PSS grew by {growth_kb} KB over 2,500 calls"
