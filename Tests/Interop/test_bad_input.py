"""Malformed JSON-RPC: every bad message gets the error JSON-RPC names (HTTP: a 4xx, never a 5xx), and the server keeps
serving afterwards, over stdio and every HTTP endpoint."""

from __future__ import annotations

import json
import subprocess
import threading

import httpx2
import pytest

from conftest import BINARY, http_server, server_env

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bad-input-test", "version": "1"}},
}
DEEP = 100_000

# (name, raw bytes, expected error code, or None when the message is a notification and must be dropped silently)
CASES: list[tuple[str, bytes, int | None]] = [
    ("not JSON", b"hello there", -32700),
    ("truncated JSON", b'{"jsonrpc":"2.0","id":3,"method":"ping"', -32700),
    ("invalid UTF-8", b'{"jsonrpc":"2.0","id":4,"method":"\xff\xfe"}', -32700),
    ("batch array", b'[{"jsonrpc":"2.0","id":5,"method":"ping"}]', -32600),
    ("empty batch", b"[]", -32600),
    ("a bare number", b"42", -32700),
    ("method is a number", b'{"jsonrpc":"2.0","id":2,"method":7}', -32600),
    ("no method, no result", b'{"jsonrpc":"2.0","id":6}', -32600),
    ("wrong jsonrpc version", b'{"jsonrpc":"1.0","id":7,"method":"ping"}', -32600),
    ("id is an object", b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600),
    ("id is a boolean", b'{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600),
    ("id out of integer range", b'{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}', -32600),
    ("number out of double range", b'{"jsonrpc":"2.0","id":8,"method":"ping","params":{"n":1e999}}', -32700),
    ("params is a string", b'{"jsonrpc":"2.0","id":9,"method":"tools/list","params":"all"}', -32602),
    ("params is an array", b'{"jsonrpc":"2.0","id":10,"method":"tools/list","params":[1]}', -32602),
    ("100,000 levels of nesting", b'{"jsonrpc":"2.0","id":11,"method":"ping","params":{"x":' + b"[" * DEEP + b"]" * DEEP + b"}}", -32600),
    ("100,000 unclosed brackets", b"[" * DEEP, -32600),
    ("malformed notification", b'{"jsonrpc":"2.0","method":["notifications/initialized"]}', None),
    ("notification with string params", b'{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}', None),
]
ANSWERED = [case for case in CASES if case[2] is not None]


class StdioServer:
    """`rlm-mcp serve` over stdio, driven by raw lines (no SDK: the point is to send what no SDK would)."""

    def __init__(self, tmp_path) -> None:
        self.process = subprocess.Popen([BINARY, "serve"], cwd=tmp_path, env=server_env(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(self, raw: bytes) -> None:
        self.process.stdin.write(raw + b"\n")
        self.process.stdin.flush()

    def receive(self, timeout: float = 20) -> dict:
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        assert line and line[0], f"no answer within {timeout} s (server exit code {self.process.poll()})"
        return json.loads(line[0])

    def ping(self, id: int) -> dict:
        self.send(json.dumps({"jsonrpc": "2.0", "id": id, "method": "ping"}).encode())
        return self.receive()

    def close(self) -> int:
        self.process.stdin.close()
        return self.process.wait(timeout=20)


@pytest.fixture
def stdio(tmp_path):
    server = StdioServer(tmp_path)
    server.send(json.dumps(INITIALIZE).encode())
    assert server.receive()["id"] == 1
    server.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    yield server
    assert server.close() == 0


@pytest.mark.parametrize(("name", "raw", "code"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_stdio_answers_a_malformed_message_with_its_error_and_keeps_serving(stdio, name, raw, code):
    stdio.send(raw)
    answer = stdio.receive()
    assert answer["jsonrpc"] == "2.0" and answer["error"]["code"] == code, answer
    assert len(answer["error"]["message"]) > 20
    assert stdio.ping(100) == {"jsonrpc": "2.0", "id": 100, "result": {}}


def test_stdio_keeps_the_id_of_a_request_whose_params_are_wrong(stdio):
    stdio.send(b'{"jsonrpc":"2.0","id":"str-9","method":"tools/list","params":"all"}')
    assert stdio.receive()["id"] == "str-9"


def test_stdio_drops_malformed_notifications_without_answering(stdio):
    for _, raw, code in CASES:
        if code is None:
            stdio.send(raw)
    # The next line out is the ping's answer: nothing was sent for the notifications.
    assert stdio.ping(101)["id"] == 101


def test_stdio_serves_a_20_mb_string_argument(stdio):
    text = "x" * (20 * 1024 * 1024)
    call = {"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {"padding": text}}}
    stdio.send(json.dumps(call).encode())
    answer = stdio.receive(timeout=120)
    assert answer["id"] == 12 and answer["result"]["isError"] is True  # rlm_status takes no `padding`: a tool error
    assert stdio.ping(102)["id"] == 102


def test_stdio_survives_every_bad_message_in_one_stream(tmp_path):
    """All cases back to back, then a request: the process neither crashed nor stalled."""
    server = StdioServer(tmp_path)
    for _, raw, _ in CASES:
        server.send(raw)
    for _ in ANSWERED:
        assert "error" in server.receive()
    assert server.ping(103)["id"] == 103
    assert server.close() == 0


@pytest.fixture(scope="module")
def streamable(tmp_path_factory):
    with http_server(tmp_path_factory.mktemp("bad-input-http")) as server:
        yield server


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    with http_server(tmp_path_factory.mktemp("bad-input-sse"), "sse") as server:
        yield server


def post(url: str, raw: bytes, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.post(url, content=raw, headers={**MCP_HEADERS, **(headers or {})}, timeout=60)


def assert_refused(response: httpx2.Response, code: int) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["error"]["code"] == code, body


@pytest.mark.parametrize(("name", "raw", "code"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_streamable_http_refuses_a_malformed_body_without_a_session(streamable, name, raw, code):
    assert_refused(post(streamable.endpoint, raw), code)


@pytest.mark.parametrize(("name", "raw", "code"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_streamable_http_refuses_a_malformed_body_in_a_session_and_the_session_goes_on(streamable, name, raw, code):
    opened = post(streamable.endpoint, json.dumps(INITIALIZE).encode())
    assert opened.status_code == 200
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
    assert_refused(post(streamable.endpoint, raw, session), code)
    ping = post(streamable.endpoint, b'{"jsonrpc":"2.0","id":2,"method":"ping"}', session)
    assert ping.status_code == 200 and '"id":2' in ping.text.replace(" ", "")


@pytest.mark.parametrize(("name", "raw", "code"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_modern_http_refuses_a_malformed_body(streamable, name, raw, code):
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "ping"}
    assert_refused(post(streamable.endpoint, raw, headers), code)


def test_http_accepts_and_drops_a_malformed_notification(streamable):
    response = post(streamable.endpoint, b'{"jsonrpc":"2.0","method":["notifications/initialized"]}')
    assert response.status_code == 202


def test_http_serves_after_a_100000_deep_body(streamable):
    raw = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":' + b"[" * DEEP + b"]" * DEEP + b"}"
    assert_refused(post(streamable.endpoint, raw), -32600)
    assert post(streamable.endpoint, json.dumps(INITIALIZE).encode()).status_code == 200


@pytest.mark.parametrize(("name", "raw", "code"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_legacy_sse_messages_endpoint_refuses_a_malformed_body(legacy, name, raw, code):
    with httpx2.Client(timeout=30) as http, http.stream("GET", legacy.base_url + "/sse") as events:
        endpoint = next(line for line in events.iter_lines() if line.startswith("data: "))[len("data: "):]
        assert_refused(http.post(legacy.base_url + endpoint, content=raw, headers={"Content-Type": "application/json"}), code)


def test_no_server_process_is_left_crashed(streamable, legacy):
    assert streamable.process.poll() is None and legacy.process.poll() is None


# Well-formed envelopes whose params are wrong for their method: -32602 from the method itself, in both eras.
WRONG_PARAMS: list[tuple[str, dict]] = [
    ("tools/call name is a number", {"method": "tools/call", "params": {"name": 5}}),
    ("tools/call arguments is a string", {"method": "tools/call", "params": {"name": "rlm_status", "arguments": "x"}}),
    ("tools/call without a name", {"method": "tools/call", "params": {}}),
    ("tools/list with a cursor", {"method": "tools/list", "params": {"cursor": "next"}}),
    ("logging/setLevel to an unknown level", {"method": "logging/setLevel", "params": {"level": "loud"}}),
]


@pytest.mark.parametrize(("name", "message"), WRONG_PARAMS, ids=[case[0] for case in WRONG_PARAMS])
def test_stdio_answers_wrong_params_with_invalid_params(stdio, name, message):
    stdio.send(json.dumps({"jsonrpc": "2.0", "id": 20, **message}).encode())
    answer = stdio.receive()
    assert answer["id"] == 20 and answer["error"]["code"] == -32602, answer
    assert stdio.ping(104)["id"] == 104


def test_stdio_refuses_initialize_without_a_protocol_version(tmp_path):
    server = StdioServer(tmp_path)
    server.send(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":7}}')
    assert server.receive()["error"]["code"] == -32602
    assert server.ping(2)["id"] == 2
    assert server.close() == 0


MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.mark.parametrize(("name", "message"), WRONG_PARAMS[:4], ids=[case[0] for case in WRONG_PARAMS[:4]])
def test_modern_http_answers_wrong_params_with_a_400(streamable, name, message):
    params = {**message["params"], "_meta": MODERN_META}
    body = {"jsonrpc": "2.0", "id": 21, "method": message["method"], "params": params}
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": message["method"]}
    if isinstance(params.get("name"), str):
        headers["Mcp-Name"] = params["name"]
    response = post(streamable.endpoint, json.dumps(body).encode(), headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    # Without a string name there is no Mcp-Name to mirror: the header check (-32020) may answer before the params check.
    expected = {-32602} if isinstance(params.get("name"), str) or message["method"] != "tools/call" else {-32602, -32020}
    assert response.json()["error"]["code"] in expected, response.text


def test_streamable_http_session_takes_a_20_mb_string_with_a_4xx_or_an_answer(streamable):
    opened = post(streamable.endpoint, json.dumps(INITIALIZE).encode())
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
    call = {"jsonrpc": "2.0", "id": 22, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {"padding": "x" * (20 << 20)}}}
    response = post(streamable.endpoint, json.dumps(call).encode(), session)
    # Larger than MCP_MAX_BODY_MB: 413; within it: the tool's own error (rlm_status takes no `padding`).
    assert response.status_code == 413 or (response.status_code == 200 and '"isError":true' in response.text.replace(" ", ""))
    ping = post(streamable.endpoint, b'{"jsonrpc":"2.0","id":23,"method":"ping"}', session)
    assert ping.status_code == 200 and '"id":23' in ping.text.replace(" ", "")


def test_legacy_sse_refuses_a_20_mb_body_or_serves_it_without_a_5xx(legacy):
    with httpx2.Client(timeout=60) as http, http.stream("GET", legacy.base_url + "/sse") as events:
        endpoint = next(line for line in events.iter_lines() if line.startswith("data: "))[len("data: "):]
        call = {"jsonrpc": "2.0", "id": 24, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {"padding": "x" * (20 << 20)}}}
        response = http.post(legacy.base_url + endpoint, content=json.dumps(call).encode(), headers={"Content-Type": "application/json"})
        assert response.status_code in (202, 413)
