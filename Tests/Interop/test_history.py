"""The run history end to end: runs made through MCP and `rlm-mcp run` appear in `rlm-mcp runs …`, a killed server
leaves its run `interrupted`, and no secret ever reaches the database file."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import anyio
import pytest

from conftest import BINARY, CANARY_OPENAI_KEY, CANARY_TOKEN, connection, fake_llm, http_server, server_env

pytestmark = pytest.mark.anyio

CANARY_WORKSPACE_KEY = "wk-canary-workspace-key-0123456789abcdef"
SCRIPT = {
    "models": {"gpt-4o-mini": "sub"},
    "root": {"replies": [
        "Looking first.\n```python\nprint('lines:', len(context.splitlines()))\nverdict = llm_query('Is <b>this</b> fine?')\nprint(verdict)\n```",
        "```python\nSUBMIT(answer=len(context.splitlines()))\n```",
    ]},
    "sub": {"default": "yes, fine"},
}


def runs(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([BINARY, "runs", *args], capture_output=True, text=True, timeout=60,
                            env=server_env({"RLM_DATA_DIR": str(data)}))
    if check:
        assert result.returncode == 0, result.stderr
    return result


def database_bytes(data: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(data.glob("history.sqlite*")))


async def test_a_run_through_mcp_is_listed_shown_and_exported_with_its_steps_and_no_secret_is_written(tmp_path):
    data = tmp_path / "data"
    with fake_llm(SCRIPT, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "MCP_AUTH_TOKEN": CANARY_TOKEN,
               "RLM_WORKSPACE_KEY": CANARY_WORKSPACE_KEY, "RLM_DATA_DIR": str(data)}
        with connection("streamable-http", tmp_path, env, headers={"Authorization": f"Bearer {CANARY_TOKEN}"}) as conn:
            async with conn.client() as client:
                result = await client.call_tool("rlm_execute", {"task": "count the lines", "context": "a\nb\nc"})
                assert not result.is_error, result.content[0].text
                out = result.structured_content
    run_id = out["run_id"]
    assert out["status"] == "submitted" and out["answer"] == 3
    assert out["usage"]["cost_usd"] > 0, out["usage"]

    listed = json.loads(runs(data, "list", "--json").stdout)
    assert [(r["run_id"], r["status"], r["tool"], r["iterations"]) for r in listed] == [(run_id, "submitted", "rlm_execute", 2)]
    assert listed[0]["cost_usd"] == pytest.approx(out["usage"]["cost_usd"])

    shown = json.loads(runs(data, "show", run_id, "--json").stdout)
    assert [s["iteration"] for s in shown["steps"]] == [1, 2]
    first = shown["steps"][0]["blocks"][0]
    assert "print('lines:'" in first["code"] and first["stdout"].startswith("lines: 3\nyes, fine")
    assert first["sub_calls"][0]["prompt_preview"] == "Is <b>this</b> fine?" and first["sub_calls"][0]["answer_preview"] == "yes, fine"
    assert shown["context"] == {"kind": "text", "size": 5, "preview": "a\nb\nc"}
    assert shown["answer"] == 3 and shown["workspace"].startswith("ws#")

    text = runs(data, "show", run_id).stdout
    assert "iteration 1" in text and "Looking first." in text and "out │ lines: 3" in text and "answer: 3" in text

    events = [json.loads(line) for line in runs(data, "export", run_id, "--format", "jsonl").stdout.splitlines()]
    assert [e["event"] for e in events] == ["run_started", "step", "step", "run_finished"]
    assert events[-1]["status"] == "submitted" and events[1]["run_id"] == run_id

    stored = database_bytes(data)
    assert b"count the lines" in stored  # the file is the history, so the grep below means something
    for secret in (CANARY_OPENAI_KEY, CANARY_TOKEN, CANARY_WORKSPACE_KEY, out["workspace"]):
        assert secret.encode() not in stored, f"{secret} was written to the history"


async def test_rlm_mcp_run_is_recorded_and_a_money_budget_ends_it(tmp_path):
    data = tmp_path / "data"
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nprint('working')\n```"}}
    with fake_llm(script, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(data)}
        result = subprocess.run([BINARY, "run", "--task", "spend money", "--max-cost-usd", "0.0001"], capture_output=True, text=True,
                                cwd=tmp_path, timeout=120, env=server_env(env))
    assert result.returncode == 1, result.stderr
    assert "budget_exceeded" in result.stderr and "max_cost_usd=0.0001 reached" in result.stderr
    listed = json.loads(runs(data, "list", "--json", "--status", "budget_exceeded").stdout)
    assert [(r["tool"], r["task"]) for r in listed] == [("run", "spend money")]
    assert listed[0]["cost_usd"] >= 0.0001 and listed[0]["iterations"] >= 1


async def test_a_server_killed_mid_run_leaves_a_database_that_opens_with_the_run_interrupted(tmp_path):
    data = tmp_path / "data"
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nimport time\nprint('step')\ntime.sleep(0.3)\n```"}}
    with fake_llm(script, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(data)}
        server_cm = http_server(tmp_path, env=env)
        server = server_cm.__enter__()
        try:
            async def call():
                from mcp.client.client import Client
                from mcp.client.streamable_http import streamable_http_client
                async with Client(streamable_http_client(server.endpoint), mode="legacy") as client:
                    await client.call_tool("rlm_execute", {"task": "run forever", "max_iterations": 200})

            async with anyio.create_task_group() as group:
                group.start_soon(call)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    listed = json.loads(runs(data, "list", "--json").stdout) if (data / "history.sqlite").exists() else []
                    if listed and listed[0]["status"] == "running":
                        shown = json.loads(runs(data, "show", listed[0]["run_id"], "--json").stdout)
                        if len(shown["steps"]) >= 2:
                            break
                    await anyio.sleep(0.2)
                else:
                    pytest.fail("the run never showed up as running with steps")
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(timeout=10)
                group.cancel_scope.cancel()
        finally:
            try:
                server_cm.__exit__(None, None, None)
            except AssertionError:
                pass  # it was killed on purpose: its exit status is not 0
    listed = json.loads(runs(data, "list", "--json").stdout)
    assert [r["status"] for r in listed] == ["interrupted"], listed
    shown = json.loads(runs(data, "show", listed[0]["run_id"], "--json").stdout)
    assert len(shown["steps"]) >= 2 and "stopped before this run finished" in shown["message"]


async def test_runs_delete_removes_one_run_or_old_runs_and_refuses_bad_input(tmp_path):
    data = tmp_path / "data"
    with fake_llm(SCRIPT, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(data)}
        subprocess.run([BINARY, "run", "--task", "one", "--context-file", "-"], input="x\ny\n", capture_output=True, text=True,
                       cwd=tmp_path, timeout=120, env=server_env(env), check=True)
    run_id = json.loads(runs(data, "list", "--json").stdout)[0]["run_id"]
    assert "deleted 0 runs" in runs(data, "delete", "--older-than", "7d").stdout
    assert runs(data, "delete", run_id).stdout.strip() == f"deleted {run_id}"
    missing = runs(data, "show", run_id, check=False)
    assert missing.returncode == 1 and f"no run {run_id}" in missing.stderr
    bad = runs(data, "delete", "--older-than", "soon", check=False)
    assert bad.returncode != 0 and "7d, 12h or 30m" in bad.stderr
    assert json.loads(runs(data, "list", "--json").stdout) == []
