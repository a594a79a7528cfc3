"""Hostile tool arguments on every tool, in both protocol eras: path traversal, NUL bytes, huge strings, deep JSON
(as deep as the official client will encode; deeper raw nesting is the protocol parser's test),
absurd numbers. Each call gets an answer (a clear isError or a JSON-RPC error), nothing outside the sandbox changes,
and the server keeps serving."""

from __future__ import annotations

import os
import time

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from conftest import interop, size

pytestmark = pytest.mark.anyio

HUGE = size(8, 100) * 1024 * 1024


def deep(levels: int):
    value: object = "bottom"
    for _ in range(levels):
        value = [value]
    return value


def attempts(canary: str) -> list[tuple[str, dict]]:
    huge = "x" * HUGE
    return [
        ("sandbox_exec", {"code": "print(1)\0"}),
        ("sandbox_exec", {"code": f"open({canary!r}, 'w').write('pwned')"}),
        ("sandbox_exec", {"code": "print(len(v))", "variables": {"v": deep(200)}}),
        ("sandbox_exec", {"code": huge}),
        ("sandbox_exec", {"code": "print(1)", "timeout_s": 10**12}),
        ("sandbox_exec", {"code": "print(1)", "timeout_s": -5}),
        ("sandbox_exec_stateful", {"code": "x = 1", "session": "../../escape"}),
        ("sandbox_exec_stateful", {"code": "x = 1", "session": "rlm:run_0123"}),
        ("sandbox_exec_stateful", {"code": "x = 1", "session": "a\0b"}),
        ("sandbox_upload", {"path": "../../../" + canary.lstrip("/"), "content": "pwned"}),
        ("sandbox_upload", {"path": canary, "content": "pwned"}),
        ("sandbox_upload", {"path": "ok\0.txt", "content": "x"}),
        ("sandbox_upload", {"path": "big.txt", "content": huge}),
        ("sandbox_upload", {"path": "b64.bin", "content_base64": "!!!not base64!!!"}),
        ("sandbox_download", {"path": "../../../etc/shadow"}),
        ("sandbox_download", {"path": "/etc/shadow"}),
        ("sandbox_download", {"path": "x", "encoding": "rot13"}),
        ("sandbox_files", {"path": "../.."}),
        ("sandbox_files", {"path": "/", "recursive": True}),
        ("sandbox_shell", {"command": "pwd", "cwd": "../../.."}),
        ("sandbox_shell", {"command": f"echo pwned > {canary}"}),
        ("sandbox_shell", {"command": "echo \0"}),
        ("rlm_execute", {"task": "t", "context_path": "../../../etc/shadow"}),
        ("rlm_execute", {"task": "\0", "context": deep(200)}),
        ("rlm_execute", {"task": "t", "max_iterations": 10**9}),
        ("rlm_execute", {"task": "t", "max_depth": -1}),
        ("rlm_analyze", {"question": "q", "data_path": "/etc/shadow"}),
        ("rlm_code", {"task": "t", "tests": "\0", "language": "cobol"}),
        ("rlm_decompose", {"task": "t", "max_subtasks": 10**12}),
        ("rlm_status", {"workspace": "ws_\0"}),
        ("no_such_tool", {}),
    ]


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake"])
async def test_hostile_arguments_get_clear_answers_and_change_nothing_outside(tmp_path, figures, mode):
    canary_dir = tmp_path / "canary"
    canary_dir.mkdir()
    canary = canary_dir / "canary.txt"
    canary.write_text("untouched")
    os.chmod(canary_dir, 0o777)
    os.chmod(canary, 0o666)
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nSUBMIT(answer=1)\n```"}}
    outcomes = {"isError": 0, "protocol error": 0, "result": 0}
    slowest, slowest_attempt = 0.0, ""
    with interop.fake_llm(script, tmp_path) as llm:
        env = {"OPENAI_API_KEY": interop.CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1"}
        with interop.connection("stdio", tmp_path, env, mode=mode) as conn:
            async with conn.client(mode) as client:
                for tool, arguments in attempts(str(canary)):
                    started = time.monotonic()
                    try:
                        with anyio.fail_after(120):
                            result = await client.call_tool(tool, arguments)
                        outcomes["isError" if result.is_error else "result"] += 1
                        if result.is_error:
                            assert result.content[0].text.strip(), f"{tool}: an error with no message"
                    except MCPError as error:
                        outcomes["protocol error"] += 1
                        assert str(error).strip()
                    if time.monotonic() - started > slowest:
                        slowest = time.monotonic() - started
                        slowest_attempt = f"{tool} {sorted(arguments)}"
                    still = await client.call_tool("sandbox_exec", {"code": "print(6 * 7)"})
                    assert not still.is_error and still.structured_content["stdout"] == "42\n", f"after {tool} {list(arguments)}"
    assert canary.read_text() == "untouched"
    figures.add("hostile arguments", f"{mode}: {len(attempts(str(canary)))} attempts", outcomes)
    figures.add("hostile arguments", f"{mode}: slowest answer", f"{slowest:.2f} s ({slowest_attempt})")
