"""MCP 2026-07-28 on the wire, byte by byte: every error code and header rule, per-request progress, log level and
cancellation, the Tasks extension and workspace handles, over raw JSON-RPC on stdio and streamable HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import subprocess
import threading
import time

import httpx2
import pytest

from conftest import BINARY, MODERN, TOOLS, http_server, server_env

TASKS = "io.modelcontextprotocol/tasks"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPS_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
ENV = {"RLM_DIAGNOSTIC_TOOLS": "1"}


def meta(capabilities: dict | None = None, **extra) -> dict:
    return {VERSION_KEY: MODERN, CAPS_KEY: capabilities or {}, "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}, **extra}


def request(method: str, id=1, _meta: dict | None = None, **params) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": {**params, "_meta": meta() if _meta is None else _meta}}


def standard_headers(body: dict) -> dict:
    """The headers a conforming client mirrors from the body."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "Mcp-Method": body["method"]}
    version = body.get("params", {}).get("_meta", {}).get(VERSION_KEY)
    if isinstance(version, str):
        headers["MCP-Protocol-Version"] = version
    if body["method"] == "tools/call":
        headers["Mcp-Name"] = body["params"]["name"]
    return headers


class HTTPWire:
    """One server over streamable HTTP; `send` returns (status, messages) with the JSON or SSE body parsed."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.http = httpx2.Client(timeout=30)

    def send(self, body: dict, headers: dict | None = None, replace_headers: bool = False) -> tuple[int, list[dict]]:
        sent = headers if replace_headers else {**standard_headers(body), **(headers or {})}
        response = self.http.post(self.endpoint, json=body, headers=sent)
        kind = response.headers.get("content-type", "")
        if kind.startswith("text/event-stream"):
            messages = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
        else:
            messages = [response.json()] if response.content else []
        return response.status_code, messages


class StdioWire:
    """One server over stdio; `send` writes a line and collects messages until the response with that id."""

    def __init__(self, cwd, env: dict | None = None):
        self.process = subprocess.Popen([BINARY, "serve"], cwd=cwd, env=server_env({**ENV, **(env or {})}), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def write(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def read(self, timeout: float = 30) -> dict:
        return self.lines.get(timeout=timeout)

    def send(self, body: dict, headers: dict | None = None, **_) -> tuple[None, list[dict]]:
        self.write(body)
        messages = []
        while True:
            message = self.read()
            messages.append(message)
            if message.get("id") == body["id"] and ("result" in message or "error" in message):
                return None, messages

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=15)


@contextlib.contextmanager
def wire_for(kind: str, tmp_path, env: dict | None = None):
    if kind == "stdio":
        wire = StdioWire(tmp_path, env)
        try:
            yield wire
        finally:
            wire.close()
    else:
        with http_server(tmp_path, env={**ENV, **(env or {})}) as server:
            yield HTTPWire(server.endpoint)


@pytest.fixture(params=["stdio", "streamable-http"])
def wire(request, tmp_path):
    with wire_for(request.param, tmp_path) as w:
        yield w


def response_of(messages: list[dict]) -> dict:
    return messages[-1]


def error_of(wire, status, messages, code: int, http_status: int) -> dict:
    error = response_of(messages)["error"]
    assert error["code"] == code, error
    if isinstance(wire, HTTPWire):
        assert status == http_status
    return error


# --- discovery, version and _meta rules -------------------------------------------------------------------------------


def test_discover_advertises_versions_capabilities_and_identity(wire):
    status, messages = wire.send(request("server/discover", id="d-1"))
    result = response_of(messages)["result"]
    assert response_of(messages)["id"] == "d-1"
    assert result["resultType"] == "complete"
    assert result["supportedVersions"][0] == MODERN and "2025-11-25" in result["supportedVersions"]
    assert result["capabilities"]["tools"] == {"listChanged": False}
    assert result["capabilities"]["extensions"] == {TASKS: {}}
    assert "logging" not in result["capabilities"]  # deprecated in 2026-07-28: the server logs to stderr instead
    assert result["_meta"][SERVER_INFO_KEY]["name"] == "rlm-mcp"
    assert result["ttlMs"] >= 0 and result["cacheScope"] == "public" and "workspace" in result["instructions"]
    if isinstance(wire, HTTPWire):
        assert status == 200


@pytest.mark.parametrize(
    ("_meta", "names"),
    [
        ({CAPS_KEY: {}}, VERSION_KEY),
        ({VERSION_KEY: MODERN}, CAPS_KEY),
        ({VERSION_KEY: 20260728, CAPS_KEY: {}}, "must be a string"),
        ({VERSION_KEY: MODERN, CAPS_KEY: {}, "io.modelcontextprotocol/logLevel": "loud"}, "logLevel"),
    ],
)
def test_missing_or_malformed_meta_is_invalid_params_naming_the_field(wire, _meta, names):
    status, messages = wire.send(request("tools/list", _meta=_meta))
    assert names in error_of(wire, status, messages, -32602, 400)["message"]


def test_discover_without_any_meta_is_invalid_params(wire):
    body = {"jsonrpc": "2.0", "id": 5, "method": "server/discover", "params": {}}
    status, messages = wire.send(body, {"MCP-Protocol-Version": MODERN})
    assert "_meta" in error_of(wire, status, messages, -32602, 400)["message"]


def test_unsupported_version_lists_the_supported_ones(wire):
    body = request("tools/list", _meta={**meta(), VERSION_KEY: "1900-01-01"})
    status, messages = wire.send(body)
    error = error_of(wire, status, messages, -32022, 400)
    assert error["data"]["requested"] == "1900-01-01"
    assert MODERN in error["data"]["supported"] and "2025-06-18" in error["data"]["supported"]


def test_unknown_methods_are_method_not_found(wire):
    for method in ("prompts/list", "prompts/get", "teleport"):
        status, messages = wire.send(request(method))
        assert method in error_of(wire, status, messages, -32601, 404)["message"]


def test_tools_list_is_cacheable_deterministic_and_stamped(wire):
    _, first = wire.send(request("tools/list", id=1))
    _, second = wire.send(request("tools/list", id=2))
    result = response_of(first)["result"]
    assert result["resultType"] == "complete" and result["cacheScope"] == "public" and result["ttlMs"] > 0
    assert result["_meta"][SERVER_INFO_KEY]["name"] == "rlm-mcp"
    assert [t["name"] for t in result["tools"]] == TOOLS
    assert response_of(second)["result"]["tools"] == result["tools"]
    _, paged = wire.send(request("tools/list", id=3, cursor="next"))
    assert "cursor" in response_of(paged)["error"]["message"]


def test_tool_call_results_carry_result_type_and_server_info(wire):
    _, messages = wire.send(request("tools/call", name="rlm_status", arguments={}))
    result = response_of(messages)["result"]
    assert result["resultType"] == "complete" and result["_meta"][SERVER_INFO_KEY]["name"] == "rlm-mcp"
    assert result["structuredContent"]["session"] == "stateless"
    status, unknown = wire.send(request("tools/call", id=2, name="rlm_teleport", arguments={}))
    refused = error_of(wire, status, unknown, -32602, 400)
    assert "rlm_teleport" in refused["message"] and "rlm_status" in refused["data"]["availableTools"]


# --- per-request progress and log level -------------------------------------------------------------------------------


def call_progress(wire, level: str | None, id="p"):
    extra = {"progressToken": f"tok-{id}"}
    if level:
        extra["io.modelcontextprotocol/logLevel"] = level
    _, messages = wire.send(request("tools/call", id=id, _meta=meta(**extra), name="diagnostic_progress",
                                    arguments={"steps": 3, "interval_ms": 1}))
    return messages


def test_progress_travels_with_its_request_and_requested_logs_stay_on_stderr(wire):
    messages = call_progress(wire, "debug", id="p1")
    assert response_of(messages)["result"]["structuredContent"] == {"steps_completed": 3, "progress_requested": True}
    progress = [m["params"] for m in messages if m.get("method") == "notifications/progress"]
    assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [("tok-p1", 1, 3), ("tok-p1", 2, 3), ("tok-p1", 3, 3)]
    # Logging is deprecated in 2026-07-28: a requested log level is accepted, and the lines go to the server's stderr.
    assert not [m for m in messages if m.get("method") == "notifications/message"]


# --- the Tasks extension ----------------------------------------------------------------------------------------------


def tasks_meta() -> dict:
    return meta({"extensions": {TASKS: {}}})


def poll(wire, task_id: str, until: set[str], seen: list[str] | None = None, limit: float = 30) -> dict:
    deadline = time.monotonic() + limit
    n = 0
    while time.monotonic() < deadline:
        n += 1
        _, messages = wire.send(request("tasks/get", id=f"get-{task_id}-{n}", _meta=tasks_meta(), taskId=task_id))
        task = response_of(messages)["result"]
        if seen is not None and task.get("statusMessage"):
            seen.append(task["statusMessage"])
        if task["status"] in until:
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {until}")


def test_long_running_tools_become_tasks_for_clients_that_declare_the_extension(wire):
    body = request("tools/call", id="t1", _meta=tasks_meta(), name="diagnostic_progress", arguments={"steps": 5, "interval_ms": 60})
    _, messages = wire.send(body)
    created = response_of(messages)["result"]
    assert created["resultType"] == "task" and created["status"] == "working"
    assert created["taskId"].startswith("task_") and created["ttlMs"] > 0 and created["pollIntervalMs"] > 0
    assert created["_meta"][SERVER_INFO_KEY]["name"] == "rlm-mcp"
    seen: list[str] = []
    done = poll(wire, created["taskId"], {"completed", "failed", "cancelled"}, seen)
    assert done["status"] == "completed" and done["resultType"] == "complete"
    assert done["result"]["structuredContent"] == {"steps_completed": 5, "progress_requested": True}
    assert done["result"]["resultType"] == "complete"
    assert any(message.startswith("step ") for message in seen), seen  # progress, via tasks/get
    # Quick tools still answer directly, and so does everything for clients that did not declare the extension.
    _, direct = wire.send(request("tools/call", id="t2", _meta=tasks_meta(), name="rlm_status", arguments={}))
    assert response_of(direct)["result"]["resultType"] == "complete"
    _, plain = wire.send(request("tools/call", id="t3", name="diagnostic_progress", arguments={"steps": 1, "interval_ms": 0}))
    assert response_of(plain)["result"]["resultType"] == "complete"


def test_cancelling_a_task_stops_its_work(wire):
    body = request("tools/call", id="c1", _meta=tasks_meta(), name="diagnostic_progress", arguments={"steps": 1000, "interval_ms": 20})
    _, messages = wire.send(body)
    task_id = response_of(messages)["result"]["taskId"]
    poll(wire, task_id, {"working"})
    _, ack = wire.send(request("tasks/cancel", id="c2", _meta=tasks_meta(), taskId=task_id))
    assert response_of(ack)["result"]["resultType"] == "complete"
    assert poll(wire, task_id, {"cancelled", "completed", "failed"})["status"] == "cancelled"
    deadline = time.monotonic() + 10
    while True:
        _, status = wire.send(request("tools/call", id=f"s{time.monotonic()}", name="rlm_status", arguments={}))
        activity = response_of(status)["result"]["structuredContent"]["activity"]
        if activity["calls_cancelled"] == 1:
            break
        assert time.monotonic() < deadline, activity
        time.sleep(0.05)
    assert activity["calls_in_flight"] == 1  # this rlm_status call only


def test_task_methods_need_the_extension_and_a_known_task(wire):
    status, messages = wire.send(request("tasks/get", taskId="task_x"))
    error = error_of(wire, status, messages, -32021, 400)
    assert error["data"]["requiredCapabilities"] == {"extensions": {TASKS: {}}}
    for method in ("tasks/get", "tasks/cancel", "tasks/update"):
        status, messages = wire.send(request(method, id=method, _meta=tasks_meta(), taskId="task_unknown", inputResponses={}))
        assert "not found" in error_of(wire, status, messages, -32602, 400)["message"]


# --- cancellation over stdio ------------------------------------------------------------------------------------------


def test_stdio_cancellation_stops_the_call_and_sends_nothing_more(tmp_path):
    wire = StdioWire(tmp_path)
    try:
        wire.write(request("tools/call", id="long", _meta=meta(progressToken="L"), name="diagnostic_progress",
                           arguments={"steps": 1000, "interval_ms": 20}))
        assert wire.read()["method"] == "notifications/progress"
        wire.write({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "long", "reason": "test"}})
        _, messages = wire.send(request("tools/call", id="status", name="rlm_status", arguments={}))
        deadline = time.monotonic() + 10
        while response_of(messages)["result"]["structuredContent"]["activity"]["calls_cancelled"] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
            _, more = wire.send(request("tools/call", id=f"status-{time.monotonic()}", name="rlm_status", arguments={}))
            messages += more
        # Progress already in flight may land before the cancellation; nothing after the call stopped, and no response.
        time.sleep(0.5)
        later = []
        while not wire.lines.empty():
            later.append(wire.lines.get())
        assert not [m for m in messages + later if m.get("id") == "long"]
        assert not [m for m in later if m.get("method") == "notifications/progress"]
    finally:
        wire.close()


def test_both_eras_share_one_stdio_process(tmp_path):
    wire = StdioWire(tmp_path)
    try:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}}
        _, messages = wire.send(init)
        assert response_of(messages)["result"]["protocolVersion"] == "2025-06-18"
        wire.write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        _, legacy = wire.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        assert "resultType" not in response_of(legacy)["result"]  # handshake-era results are as before
        _, modern = wire.send(request("tools/list", id=3))
        assert response_of(modern)["result"]["resultType"] == "complete"
    finally:
        wire.close()


# --- streamable HTTP header rules -------------------------------------------------------------------------------------


@pytest.fixture
def http_wire(tmp_path):
    with wire_for("streamable-http", tmp_path) as w:
        yield w


def call_body() -> dict:
    return request("tools/call", name="rlm_status", arguments={})


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"MCP-Protocol-Version": None}, "MCP-Protocol-Version header is required"),
        ({"MCP-Protocol-Version": "2025-11-25"}, "'2025-11-25' does not match body value '2026-07-28'"),
        ({"Mcp-Method": None}, "Mcp-Method header is required"),
        ({"Mcp-Method": "tools/list"}, "'tools/list' does not match body value 'tools/call'"),
        ({"Mcp-Name": None}, "Mcp-Name header is required"),
        ({"Mcp-Name": "sandbox_exec"}, "'sandbox_exec' does not match body value 'rlm_status'"),
        ({"Mcp-Name": "=?base64?not base64!?="}, "not valid"),
    ],
)
def test_header_rules_give_header_mismatch(http_wire, change, says):
    body = call_body()
    headers = standard_headers(body)
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    status, messages = http_wire.send(body, headers, replace_headers=True)
    assert status == 400
    error = response_of(messages)["error"]
    assert error["code"] == -32020 and says in error["message"], error


def test_base64_encoded_names_are_decoded_before_comparing(http_wire):
    body = call_body()
    encoded = "=?base64?" + base64.b64encode(b"rlm_status").decode() + "?="
    status, messages = http_wire.send(body, {"Mcp-Name": encoded})
    assert status == 200 and response_of(messages)["result"]["resultType"] == "complete"


def test_get_and_delete_are_not_allowed_for_modern_clients(http_wire):
    for method in ("GET", "DELETE"):
        response = http_wire.http.request(method, http_wire.endpoint, headers={"MCP-Protocol-Version": MODERN})
        assert response.status_code == 405 and response.headers["allow"] == "POST"
        assert "POST only" in response.json()["error"]["message"]


def test_modern_requests_ignore_session_ids_and_mint_none(http_wire):
    status, _ = http_wire.send(call_body(), {"Mcp-Session-Id": "not-a-session"})
    assert status == 200
    response = http_wire.http.post(http_wire.endpoint, json=request("server/discover"), headers=standard_headers(request("server/discover")))
    assert "mcp-session-id" not in response.headers and response.headers["content-type"].startswith("application/json")


# --- workspaces -------------------------------------------------------------------------------------------------------


def tool(wire, name: str, id, **arguments) -> dict:
    _, messages = wire.send(request("tools/call", id=id, name=name, arguments=arguments))
    return response_of(messages)["result"]


def test_expired_workspaces_are_refused_with_a_clear_error(tmp_path):
    with wire_for("streamable-http", tmp_path, env={"RLM_WORKSPACE_IDLE_S": "5"}) as wire:
        created = tool(wire, "sandbox_upload", 1, path="a.txt", content="x")["structuredContent"]["workspace"]
        assert tool(wire, "rlm_status", 2)["structuredContent"]["workspaces_open"] == 1
        time.sleep(6.5)
        refused = tool(wire, "sandbox_files", 3, workspace=created)
        assert refused["isError"] and "has expired" in refused["content"][0]["text"]
        assert "RLM_WORKSPACE_IDLE_S" in refused["content"][0]["text"]


def test_handles_are_signed_per_key(tmp_path):
    key = {"RLM_WORKSPACE_KEY": "k" * 40}
    for name in "abc":
        (tmp_path / name).mkdir()
    with wire_for("streamable-http", tmp_path / "a", env=key) as first:
        handle = tool(first, "sandbox_files", 1)["structuredContent"]["workspace"]
    with wire_for("streamable-http", tmp_path / "b", env=key) as same_key:
        # The signature verifies (same key), but a local sandbox does not outlive its process.
        text = tool(same_key, "sandbox_files", 2, workspace=handle)["content"][0]["text"]
        assert "no longer exists on this server" in text
    with wire_for("streamable-http", tmp_path / "c") as other_key:
        text = tool(other_key, "sandbox_files", 3, workspace=handle)["content"][0]["text"]
        assert "was not issued by this server" in text


def test_a_handle_is_bound_to_the_token_it_was_issued_for(tmp_path):
    """Two replicas sharing RLM_WORKSPACE_KEY: a handle minted for a caller without a token is foreign to a token holder."""
    key = {"RLM_WORKSPACE_KEY": "k" * 40}
    token = "tok-workspace-owner-0123456789"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with wire_for("streamable-http", tmp_path / "a", env=key) as anonymous:
        handle = tool(anonymous, "sandbox_files", 1)["structuredContent"]["workspace"]
    with wire_for("streamable-http", tmp_path / "b", env={**key, "MCP_AUTH_TOKEN": token}) as guarded:
        guarded.http.headers["Authorization"] = f"Bearer {token}"
        text = tool(guarded, "sandbox_files", 2, workspace=handle)["content"][0]["text"]
        assert "belongs to another client" in text and token not in text
        own = tool(guarded, "sandbox_upload", 3, path="x.txt", content="mine")["structuredContent"]["workspace"]
        assert token not in own
        assert tool(guarded, "sandbox_download", 4, path="x.txt", workspace=own)["structuredContent"]["content"] == "mine"
