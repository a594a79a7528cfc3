"""Recorded runs as MCP resources, with the official client in every mode: each rlm_* result links to its run
(`resource_link`), `resources/list` lists it, `resources/read` returns its whole trajectory (the shape of
`rlm-mcp runs export --format json`), `resources/templates/list` offers `rlm://runs/{run_id}`; a caller sees only its
own runs (its session's workspace in the handshake era, its bearer token's with one)."""

from __future__ import annotations

import json
import subprocess

import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from conftest import BINARY, CANARY_OPENAI_KEY, fake_llm, http_server, server_env

pytestmark = pytest.mark.anyio

TOKEN_A = "tok-resources-owner-a-0123456789"
TOKEN_B = "tok-resources-owner-b-0123456789"
SUBMIT_LENGTH = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nSUBMIT(answer=len(context))\n```"}}


def run_link(result) -> str:
    links = [block for block in result.content if block.type == "resource_link"]
    assert len(links) == 1, result.content
    assert links[0].mime_type == "application/json"
    return links[0].uri


async def read_run(client, uri: str) -> dict:
    read = await client.read_resource(uri)
    [contents] = read.contents
    assert contents.uri == uri and contents.mime_type == "application/json"
    return json.loads(contents.text)


async def test_a_run_is_linked_listed_and_read_with_its_steps(conn):
    async with conn.client() as client:
        result = await client.call_tool("rlm_execute", {"task": "How long is the context?", "context": "twelve chars"})
        assert not result.is_error, result.content[0].text
        run_id = result.structured_content["run_id"]
        uri = run_link(result)
        assert uri == f"rlm://runs/{run_id}"

        listed = (await client.list_resources()).resources
        mine = [resource for resource in listed if str(resource.uri) == uri]
        assert mine and mine[0].mime_type == "application/json" and mine[0].name == run_id
        assert "How long is the context?" in mine[0].title

        run = await read_run(client, uri)
        assert run["run"]["run_id"] == run_id and run["run"]["status"] == "submitted" and run["answer"] == 12
        assert run["steps"] and "SUBMIT" in run["steps"][0]["blocks"][0]["code"]

        [template] = (await client.list_resource_templates()).resource_templates
        assert template.uri_template == "rlm://runs/{run_id}" and template.mime_type == "application/json"

        with pytest.raises(MCPError) as unknown:
            await client.read_resource("rlm://runs/run_000000000000")
        assert unknown.value.code == -32602 and unknown.value.message.startswith("Resource not found")
        assert "resources/list" in unknown.value.message
        with pytest.raises(MCPError) as foreign_scheme:
            await client.read_resource("file:///etc/passwd")
        assert foreign_scheme.value.code == -32602 and "rlm://runs/{run_id}" in foreign_scheme.value.message


async def test_every_rlm_tool_links_its_run(conn):
    calls = {
        "rlm_analyze": {"question": "How many rows?", "data": "a,b\n1,2\n"},
        "rlm_code": {"task": "write f returning 1", "tests": "assert f() == 1"},
        "rlm_decompose": {"task": "Measure it", "context": "hello", "max_subtasks": 1},
    }
    async with conn.client() as client:
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content[0].text)
            uri = run_link(result)
            assert uri == f"rlm://runs/{result.structured_content['run_id']}"
            assert (await read_run(client, uri))["run"]["tool"] == name


def client_with(endpoint: str, mode: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return Client(streamable_http_client(endpoint, http_client=create_mcp_http_client(headers=headers)), mode=mode)


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_another_token_or_session_cannot_see_a_run(tmp_path, mode):
    with fake_llm(SUBMIT_LENGTH, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(tmp_path / "data")}
        with http_server(tmp_path, env=env) as server:
            async with client_with(server.endpoint, mode, TOKEN_A) as owner:
                result = await owner.call_tool("rlm_execute", {"task": "owned run", "context": "abc"})
                uri = run_link(result)
                assert (await read_run(owner, uri))["answer"] == 3
            for other_token in (TOKEN_B, None):
                async with client_with(server.endpoint, mode, other_token) as other:
                    with pytest.raises(MCPError) as refused:
                        await other.read_resource(uri)
                    assert refused.value.code == -32602 and "Resource not found" in refused.value.message
                    assert uri not in [str(r.uri) for r in (await other.list_resources()).resources]
            async with client_with(server.endpoint, mode, TOKEN_A) as owner_again:
                # The token is the identity: a new connection with the same token reads the run.
                assert (await read_run(owner_again, uri))["run"]["task"] == "owned run"
    assert TOKEN_A not in server.log and TOKEN_B not in server.log


async def test_handshake_sessions_without_a_token_see_only_their_own_workspace_runs(tmp_path):
    with fake_llm(SUBMIT_LENGTH, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATA_DIR": str(tmp_path / "data")}
        with http_server(tmp_path, env=env) as server:
            async with client_with(server.endpoint, "legacy", None) as first, client_with(server.endpoint, "legacy", None) as second:
                uri = run_link(await first.call_tool("rlm_execute", {"task": "first session's run", "context": "ab"}))
                assert [str(r.uri) for r in (await first.list_resources()).resources] == [uri]
                assert (await second.list_resources()).resources == []
                with pytest.raises(MCPError):
                    await second.read_resource(uri)


async def test_the_capability_is_advertised_and_nothing_is_linked_when_the_history_is_off(tmp_path):
    with fake_llm(SUBMIT_LENGTH, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_HISTORY": "off"}
        with http_server(tmp_path, env=env) as server:
            for mode in ("2026-07-28", "legacy"):
                async with client_with(server.endpoint, mode, None) as client:
                    result = await client.call_tool("rlm_execute", {"task": "unrecorded", "context": "x"})
                    assert not result.is_error and not [b for b in result.content if b.type == "resource_link"]
                    assert (await client.list_resources()).resources == []
                    with pytest.raises(MCPError) as refused:
                        await client.read_resource(f"rlm://runs/{result.structured_content['run_id']}")
                    assert "RLM_HISTORY=off" in refused.value.message


def test_connect_names_the_run_viewer_that_run_server_http_prints(tmp_path):
    def connect(env: dict[str, str] | None = None) -> str:
        result = subprocess.run([BINARY, "connect", "--transport", "streamable-http", "--port", "9123"], cwd=tmp_path,
                                env=server_env(env), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "Run viewer:   http://127.0.0.1:9123/runs\n" in connect()
    assert "Run viewer" not in connect({"RLM_HISTORY": "off"})
