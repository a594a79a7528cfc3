"""The tool surface as the official MCP client sees it, over stdio, streamable HTTP and legacy SSE alike."""

from __future__ import annotations

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from conftest import CANARY_OPENAI_KEY, HANDSHAKE_VERSIONS, MODERN, READ_ONLY_TOOLS, TOOLS, WORKSPACE_TOOLS

pytestmark = pytest.mark.anyio



async def test_client_settles_on_the_expected_era_and_lists_tools(conn):
    async with conn.client() as client:
        # mode="auto" probes server/discover: on stdio and streamable HTTP it must settle on 2026-07-28, not fall back.
        if conn.expects_modern():
            assert client.protocol_version == MODERN
        else:
            assert client.protocol_version in HANDSHAKE_VERSIONS
        if conn.mode != MODERN:  # mode="2026-07-28" adopts the version without asking the server who it is
            assert client.server_info.name == "rlm-mcp"
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(TOOLS)
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
    assert {name for name, tool in tools.items() if tool.annotations and tool.annotations.read_only_hint} == READ_ONLY_TOOLS
    # Every tool that works in a sandbox takes and returns `workspace`; rlm_status takes one to report on.
    for name in WORKSPACE_TOOLS | {"rlm_status"}:
        assert tools[name].input_schema["properties"]["workspace"]["type"] == "string"
        assert "workspace" not in tools[name].input_schema.get("required", [])
        assert "workspace" in tools[name].output_schema["required"]
    assert "workspace" not in tools["diagnostic_progress"].input_schema["properties"]
    status = tools["rlm_status"]
    assert status.input_schema["type"] == "object"
    assert status.input_schema["additionalProperties"] is False
    assert status.output_schema["type"] == "object"
    assert "llm_configured" in status.output_schema["required"]
    assert status.annotations.read_only_hint is True


async def test_rlm_status_reports_configuration_without_secrets(conn):
    async with conn.client() as client:
        result = await client.call_tool("rlm_status", {})
    assert not result.is_error
    status = result.structured_content
    assert status["version"] == "0.1.0"
    assert status["transport"] == conn.transport
    assert set(status["protocol_versions"]["handshake"]) == HANDSHAKE_VERSIONS
    assert status["protocol_versions"]["modern"] == [MODERN]
    assert status["models"] == {"root": "openai/gpt-4o", "sub": "openai/gpt-4o-mini"}
    assert status["llm_configured"] is True  # the canary OpenAI key counts as a credential
    assert status["sandbox"]["backend"] == "local"
    if conn.expects_modern():
        assert status["session"] == "stateless"
        assert status["workspace"] is None  # none named, and rlm_status never creates one
    else:
        assert status["activity"]["sessions_open"] >= 1
        assert status["workspace"].startswith("ws_")  # the session's default workspace
    text = result.content[0].text
    assert "rlm-mcp 0.1.0" in text
    assert CANARY_OPENAI_KEY not in text and CANARY_OPENAI_KEY not in str(status)
    assert CANARY_OPENAI_KEY not in conn.log()


@pytest.mark.parametrize(
    ("tool", "arguments", "named"),
    [
        ("rlm_status", {"verbose": True}, '"verbose" is not accepted'),
        ("diagnostic_progress", {"steps": "three"}, '"steps" must be an integer (got string "three")'),
        ("diagnostic_progress", {"steps": 0}, '"steps" must be at least 1 (got 0)'),
        ("diagnostic_progress", {"steps": 2, "interval_ms": 1.5}, '"interval_ms" must be an integer'),
    ],
)
async def test_bad_arguments_give_an_error_result_naming_the_field(conn, tool, arguments, named):
    async with conn.client() as client:
        result = await client.call_tool(tool, arguments)
        assert result.is_error
        assert named in result.content[0].text
        # The session is still usable afterwards.
        assert not (await client.call_tool("rlm_status", {})).is_error


async def test_unknown_tool_is_a_protocol_error_listing_the_tools(conn):
    async with conn.client() as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("rlm_teleport", {})
    assert raised.value.error.code == -32602
    error = raised.value.error
    assert "rlm_teleport" in error.message and "\n" not in error.message
    # Both eras: one concise sentence, the tools in data (one protocol core, one error).
    assert len(error.message) <= 200 and "rlm_status" in error.data["availableTools"]


async def test_progress_notifications_reach_the_client(conn):
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with conn.client() as client:
        result = await client.call_tool("diagnostic_progress", {"steps": 4, "interval_ms": 10}, progress_callback=on_progress)
    assert not result.is_error
    assert result.structured_content == {"steps_completed": 4, "progress_requested": True}
    assert seen == [(1, 4, "step 1/4"), (2, 4, "step 2/4"), (3, 4, "step 3/4"), (4, 4, "step 4/4")]


async def test_cancelling_a_call_stops_its_handler(conn):
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    async with conn.client() as client:
        async with anyio.create_task_group() as group:
            async def long_call() -> None:
                await client.call_tool("diagnostic_progress", {"steps": 1000, "interval_ms": 20}, progress_callback=on_progress)

            group.start_soon(long_call)
            with anyio.fail_after(10):
                await started.wait()
            group.cancel_scope.cancel()

        # The server saw the cancellation and the handler stopped: nothing is left in flight.
        with anyio.fail_after(10):
            while True:
                activity = (await client.call_tool("rlm_status", {})).structured_content["activity"]
                if activity["calls_cancelled"] == 1:
                    break
                await anyio.sleep(0.05)
        assert activity["calls_in_flight"] == 1  # only this rlm_status call itself


async def test_every_tool_answers_and_sandbox_state_follows_the_workspace(conn):
    """Calls every registered tool once, passing back the workspace each result returns."""
    async with conn.client() as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        calls = [
            ("sandbox_upload", {"path": "notes/a.txt", "content": "alpha"}),
            ("sandbox_download", {"path": "notes/a.txt"}),
            ("sandbox_files", {"recursive": True}),
            ("sandbox_shell", {"command": "cat notes/a.txt"}),
            ("sandbox_exec", {"code": "print(open('notes/a.txt').read())"}),
            ("sandbox_exec_stateful", {"code": "x = 41"}),
            ("sandbox_exec_stateful", {"code": "print(x + 1)"}),
            ("rlm_status", {}),
            ("diagnostic_progress", {"steps": 1, "interval_ms": 0}),
            ("rlm_execute", {"task": "measure the notes", "context_path": "notes/a.txt"}),
            ("rlm_analyze", {"question": "how long?", "data": "a,b\n1,2\n"}),
            ("rlm_code", {"task": "write f() returning 1", "tests": "assert f() == 1"}),
            ("rlm_decompose", {"task": "measure the notes", "context_path": "notes/a.txt"}),
        ]
        assert {name for name, _ in calls} == names, "a tool was added: call it here too"
        workspaces = set()
        results = {}
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content[0].text)
            results.setdefault(name, []).append(result.structured_content)
            if name in WORKSPACE_TOOLS:
                workspaces.add(result.structured_content["workspace"])
                texts = [block.text for block in result.content if block.type == "text"]  # rlm_* results end with a resource_link
                assert texts[-1] == "workspace: " + result.structured_content["workspace"]
    # One workspace throughout: carried explicitly by the modern client, the session's default for the legacy one.
    assert len(workspaces) == 1 and next(iter(workspaces)).startswith("ws_")
    assert results["sandbox_download"][0]["content"] == "alpha"
    assert results["sandbox_shell"][0]["stdout"] == "alpha"
    assert results["sandbox_exec"][0]["stdout"] == "alpha\n"
    assert results["sandbox_exec_stateful"][1]["stdout"] == "42\n"
    assert [e["path"] for e in results["sandbox_files"][0]["entries"]] == ["notes", "notes/a.txt"]
    # The RLM runs read the workspace's file and ended with answers.
    assert results["rlm_execute"][0]["answer"] == 5 and results["rlm_analyze"][0]["answer"] == 8
    assert results["rlm_code"][0]["passed"] is True and results["rlm_decompose"][0]["subtasks"][0]["answer"] == 5
    status = results["rlm_status"][0]
    assert status["workspace"] in workspaces
    assert status["sandbox"]["state"] == "running" and status["sandbox"]["namespaces"] == ["default"]


async def test_a_new_workspace_is_separate_and_bad_handles_are_refused(conn):
    async with conn.client() as client:
        first = (await client.call_tool("sandbox_upload", {"path": "f.txt", "content": "one"})).structured_content["workspace"]
        # Modern clients get a fresh workspace when they name none; legacy ones keep their session's.
        fresh = await client._client.call_tool("sandbox_files", {})
        if conn.expects_modern():
            assert fresh.structured_content["workspace"] != first and fresh.structured_content["entries"] == []
        else:
            assert fresh.structured_content["workspace"] == first
        # Both eras may name a workspace explicitly.
        named = await client._client.call_tool("sandbox_download", {"path": "f.txt", "workspace": first})
        assert not named.is_error and named.structured_content["content"] == "one"
        forged = first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB")
        for handle, says in [(forged, "was not issued by this server"), ("ws_madeup", "is not a workspace handle")]:
            refused = await client._client.call_tool("sandbox_files", {"workspace": handle})
            assert refused.is_error and says in refused.content[0].text and "omit `workspace`" in refused.content[0].text


async def test_no_log_messages_reach_the_client_even_when_asked(conn):
    """Logging is deprecated in 2026-07-28 (servers log to stderr) and the handshake era offers no logging/setLevel."""
    received: list[tuple[str, object]] = []

    async def on_log(params) -> None:
        received.append((params.level, params.data))

    level = {"log_level": "debug"} if conn.expects_modern() else {}
    async with conn.client(logging_callback=on_log, **level) as client:
        result = await client.call_tool("diagnostic_progress", {"steps": 2, "interval_ms": 0})
    assert not result.is_error
    assert received == []
