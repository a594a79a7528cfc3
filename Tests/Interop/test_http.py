"""HTTP-specific behaviour: health, Origin and bearer checks, sessions, limits, progress routing and shutdown."""

from __future__ import annotations

import json
import subprocess
import time

import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import BINARY, CANARY_TOKEN, http_server, server_env

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-test", "version": "1"}},
}


def sse_messages(body: str) -> list[dict]:
    """The JSON-RPC messages in an SSE response body (priming events carry no data)."""
    return [json.loads(line[len("data: "):]) for line in body.splitlines() if line.startswith("data: ") and line[6:].strip()]


def open_session(http: httpx2.Client, url: str, headers: dict[str, str] | None = None) -> str:
    response = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **(headers or {})})
    assert response.status_code == 200, response.text
    session = response.headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert http.post(url, json=initialized, headers={**MCP_HEADERS, "Mcp-Session-Id": session, **(headers or {})}).status_code == 202
    return session


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_health_reports_status_version_and_uptime(tmp_path, transport):
    with http_server(tmp_path, transport) as server:
        response = httpx2.get(server.base_url + "/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok" and body["version"] == "0.1.0" and body["uptime_s"] >= 0


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_foreign_origin_is_rejected_and_local_origins_are_allowed(tmp_path, transport):
    path = "/mcp" if transport == "streamable-http" else "/sse"
    with http_server(tmp_path, transport) as server, httpx2.Client() as http:
        url = server.base_url + path
        refused = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "https://evil.example"})
        assert refused.status_code == 403
        assert "MCP_ALLOWED_ORIGINS" in refused.json()["error"]["message"]
        if transport == "streamable-http":
            allowed = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://localhost:5173"})
            assert allowed.status_code == 200


def test_configured_origin_allow_list_replaces_the_default(tmp_path):
    with http_server(tmp_path, env={"MCP_ALLOWED_ORIGINS": "https://app.example.com"}) as server, httpx2.Client() as http:
        url = server.endpoint
        assert http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "https://app.example.com"}).status_code == 200
        assert http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://localhost:3000"}).status_code == 403


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_bearer_token_is_required_when_configured(tmp_path, transport):
    path = "/mcp" if transport == "streamable-http" else "/sse"
    with http_server(tmp_path, transport, env={"MCP_AUTH_TOKEN": CANARY_TOKEN}) as server, httpx2.Client() as http:
        url = server.base_url + path
        missing = http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "does not match" in wrong.json()["error"]["message"]
        assert httpx2.get(server.base_url + "/health").status_code == 200  # probes need no token
    assert CANARY_TOKEN not in server.log


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_official_client_works_with_the_bearer_token(tmp_path, transport):
    headers = {"Authorization": f"Bearer {CANARY_TOKEN}"}
    with http_server(tmp_path, transport, env={"MCP_AUTH_TOKEN": CANARY_TOKEN}) as server:
        if transport == "sse":
            client = Client(sse_client(server.endpoint, headers=headers), mode="auto")
        else:
            client = Client(streamable_http_client(server.endpoint, http_client=create_mcp_http_client(headers=headers)))
        async with client:
            result = await client.call_tool("rlm_status", {})
    assert not result.is_error
    assert CANARY_TOKEN not in json.dumps(result.structured_content) and CANARY_TOKEN not in server.log


@pytest.mark.anyio
async def test_concurrent_clients_get_separate_sessions(tmp_path):
    with http_server(tmp_path) as server:
        async with Client(server.endpoint, mode="legacy") as first, Client(server.endpoint, mode="legacy") as second:
            a = (await first.call_tool("rlm_status", {})).structured_content
            b = (await second.call_tool("rlm_status", {})).structured_content
            assert a["session"] != b["session"]
            assert b["activity"]["sessions_open"] == 2


def test_delete_ends_the_session(tmp_path):
    with http_server(tmp_path) as server, httpx2.Client() as http:
        session = open_session(http, server.endpoint)
        headers = {**MCP_HEADERS, "Mcp-Session-Id": session}
        assert http.delete(server.endpoint, headers=headers).status_code == 200
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {}}}
        gone = http.post(server.endpoint, json=call, headers=headers)
        assert gone.status_code == 404
        assert "initialize" in gone.json()["error"]["message"]


def test_requests_without_a_session_must_initialize_first(tmp_path):
    with http_server(tmp_path) as server, httpx2.Client() as http:
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        response = http.post(server.endpoint, json=call, headers=MCP_HEADERS)
        assert response.status_code == 400
        assert "initialize" in response.json()["error"]["message"]


def test_idle_sessions_expire(tmp_path):
    with http_server(tmp_path, env={"RLM_WORKSPACE_IDLE_S": "5"}) as server, httpx2.Client() as http:
        session = open_session(http, server.endpoint)
        headers = {**MCP_HEADERS, "Mcp-Session-Id": session}
        ping = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
        assert http.post(server.endpoint, json=ping, headers=headers).status_code == 200
        # Any request would count as use, so stay away past the idle limit (5 s) plus a sweep (1 s) before looking.
        time.sleep(8)
        assert http.post(server.endpoint, json=ping, headers=headers).status_code == 404


def test_oversized_request_bodies_are_refused(tmp_path):
    with http_server(tmp_path, env={"MCP_MAX_BODY_MB": "1"}) as server, httpx2.Client() as http:
        huge = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * (2 * 1024 * 1024)}}
        response = http.post(server.endpoint, json=huge, headers=MCP_HEADERS)
        assert response.status_code == 413
        assert "MCP_MAX_BODY_MB" in response.json()["error"]["message"]
        # Nothing was lost: the server still takes normal requests.
        assert http.post(server.endpoint, json=INITIALIZE, headers=MCP_HEADERS).status_code == 200


def test_progress_travels_on_the_calls_own_response_stream(tmp_path):
    """No GET stream is opened here, so progress can only arrive if it is routed onto the POST stream."""
    with http_server(tmp_path, env={"RLM_DIAGNOSTIC_TOOLS": "1"}) as server, httpx2.Client() as http:
        session = open_session(http, server.endpoint)
        call = {
            "jsonrpc": "2.0",
            "id": "call-1",
            "method": "tools/call",
            "params": {"name": "diagnostic_progress", "arguments": {"steps": 3, "interval_ms": 1}, "_meta": {"progressToken": "p-1"}},
        }
        response = http.post(server.endpoint, json=call, headers={**MCP_HEADERS, "Mcp-Session-Id": session})
        messages = sse_messages(response.text)
    progress = [m["params"] for m in messages if m.get("method") == "notifications/progress"]
    assert [p["progress"] for p in progress] == [1, 2, 3]
    assert all(p["progressToken"] == "p-1" for p in progress)
    assert messages[-1]["id"] == "call-1" and messages[-1]["result"]["structuredContent"]["steps_completed"] == 3


def test_sigterm_ends_open_sessions_and_exits_cleanly(tmp_path):
    with http_server(tmp_path) as server, httpx2.Client() as http:
        session = open_session(http, server.endpoint)
        with http.stream("GET", server.endpoint, headers={"Accept": "text/event-stream", "Mcp-Session-Id": session}) as stream:
            assert stream.status_code == 200
            started = time.monotonic()
            code = server.stop()
            assert code == 0
            assert time.monotonic() - started < 10


def test_non_loopback_bind_without_a_token_is_refused(tmp_path):
    result = subprocess.run(
        [BINARY, "serve", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "0"],
        cwd=tmp_path, env=server_env(), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "MCP_AUTH_TOKEN" in result.stderr and "--allow-unauthenticated" in result.stderr
