"""The tool surface as the official MCP client sees it, over stdio, streamable HTTP and legacy SSE alike."""

from __future__ import annotations

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from conftest import CANARY_OPENAI_KEY

pytestmark = pytest.mark.anyio

HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}


async def test_auto_mode_falls_back_to_the_handshake_and_lists_tools(conn):
    async with conn.client("auto") as client:
        assert client.protocol_version in HANDSHAKE_VERSIONS
        assert client.server_info.name == "rlm-mcp"
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {
        "rlm_status", "diagnostic_progress", "sandbox_exec", "sandbox_exec_stateful", "sandbox_upload",
        "sandbox_download", "sandbox_files", "sandbox_shell", "rlm_execute", "rlm_analyze", "rlm_code", "rlm_decompose",
    }
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
    assert {name for name, tool in tools.items() if tool.annotations and tool.annotations.read_only_hint} == {
        "rlm_status", "sandbox_files", "sandbox_download", "diagnostic_progress",
    }
    status = tools["rlm_status"]
    assert status.input_schema["type"] == "object"
    assert status.input_schema["additionalProperties"] is False
    assert status.output_schema["type"] == "object"
    assert "llm_configured" in status.output_schema["required"]
    assert status.annotations.read_only_hint is True


async def test_rlm_status_reports_configuration_without_secrets(conn):
    async with conn.client("legacy") as client:
        result = await client.call_tool("rlm_status", {})
    assert not result.is_error
    status = result.structured_content
    assert status["version"] == "0.1.0"
    assert status["transport"] == conn.transport
    assert set(status["protocol_versions"]["handshake"]) == HANDSHAKE_VERSIONS
    assert status["models"] == {"root": "openai/gpt-4o", "sub": "openai/gpt-4o-mini"}
    assert status["llm_configured"] is True  # the canary OpenAI key counts as a credential
    assert status["sandbox"]["backend"] == "local"
    assert status["activity"]["sessions_open"] >= 1
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
    async with conn.client("legacy") as client:
        result = await client.call_tool(tool, arguments)
        assert result.is_error
        assert named in result.content[0].text
        # The session is still usable afterwards.
        assert not (await client.call_tool("rlm_status", {})).is_error


async def test_unknown_tool_is_a_protocol_error_listing_the_tools(conn):
    async with conn.client("legacy") as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("rlm_teleport", {})
    assert raised.value.error.code == -32602
    assert "rlm_status" in raised.value.error.message


async def test_progress_notifications_reach_the_client(conn):
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with conn.client("legacy") as client:
        result = await client.call_tool("diagnostic_progress", {"steps": 4, "interval_ms": 10}, progress_callback=on_progress)
    assert not result.is_error
    assert result.structured_content == {"steps_completed": 4, "progress_requested": True}
    assert seen == [(1, 4, "step 1/4"), (2, 4, "step 2/4"), (3, 4, "step 3/4"), (4, 4, "step 4/4")]


async def test_cancelling_a_call_stops_its_handler(conn):
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    async with conn.client("legacy") as client:
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
