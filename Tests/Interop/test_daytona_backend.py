"""The six sandbox tools on the Daytona backend (the fake Daytona), through the official MCP client: results, leaks,
auth on every request, and the API key nowhere it should not be."""

from __future__ import annotations

import base64
import contextlib
import subprocess

import pytest

from conftest import BINARY, connection, server_env
from test_fake_daytona import KEY, control, fake_daytona

pytestmark = pytest.mark.anyio


async def ok(client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def daytona_env(url: str) -> dict[str, str]:
    # RLM_SANDBOX is left at its default (auto): the key alone selects Daytona.
    return {"DAYTONA_API_KEY": KEY, "DAYTONA_API_URL": url, "DAYTONA_TARGET": "eu", "RLM_LOG_LEVEL": "debug"}


def all_text(result) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content) + str(result.structured_content)


@pytest.fixture(params=["stdio", "streamable-http"])
def transport(request):
    return request.param


async def test_all_six_sandbox_tools_run_on_daytona(transport, tmp_path):
    with fake_daytona() as url, connection(transport, tmp_path, daytona_env(url)) as conn:
        outputs = []
        async with conn.client("legacy") as client:
            status = await ok(client, "rlm_status")
            assert status["sandbox"]["backend"] == "daytona"
            out = await ok(client, "sandbox_exec", code="print(sum(xs))", variables={"xs": [1, 2, 3]})
            assert out["stdout"] == "6\n" and out["error"] is None
            await ok(client, "sandbox_exec_stateful", code="import math\nr = 2")
            out = await ok(client, "sandbox_exec_stateful", code="round(math.pi * r ** 2, 2)")
            assert out["stdout"] == "12.57\n"
            payload = bytes(range(256)) * 100
            up = await ok(client, "sandbox_upload", path="data/blob.bin", content_base64=base64.b64encode(payload).decode())
            assert up["size"] == len(payload)
            await ok(client, "sandbox_upload", path="data/notes.txt", content="héllo\n")
            listing = await ok(client, "sandbox_files", recursive=True)
            assert [e["path"] for e in listing["entries"]] == ["data", "data/blob.bin", "data/notes.txt"]
            down = await ok(client, "sandbox_download", path="data/blob.bin", encoding="base64")
            assert base64.b64decode(down["content"]) == payload
            shell = await ok(client, "sandbox_shell", command="wc -c < data/blob.bin; env")
            assert shell["stdout"].startswith("25600\n") and shell["exit_code"] == 0
            status = await ok(client, "rlm_status")
            sandbox = status["sandbox"]
            assert sandbox["state"] == "started" and sandbox["region"] == "eu" and sandbox["sandbox_id"]
            assert control(url, "/_control/stats")["live"] == 1
            for tool, args in [("sandbox_exec", {"code": "import os; print(dict(os.environ))"}), ("sandbox_shell", {"command": "env; cat /proc/self/environ"})]:
                outputs.append(all_text(await client.call_tool(tool, args)))
        # The session ended: its sandbox is deleted.
        stats = control(url, "/_control/stats")
        assert stats["live"] == 0 and stats["created"] == 1
        log = control(url, "/_control/log")
        assert log and all(entry["auth"] for entry in log), [e for e in log if not e["auth"]]
        assert stats["unauthorized"] == 0
        for record in control(url, "/_control/sandboxes"):
            assert KEY not in str(record["commandEnvs"]) and KEY not in str(record["env"])
        assert all(KEY not in text for text in outputs)
        assert KEY not in conn.log()


async def test_faults_leave_no_live_sandbox(tmp_path):
    """Many sessions, each under an injected fault; afterwards Daytona holds no sandbox of ours."""
    faults = [
        [{"type": "500"}], [{"type": "429", "retry_after": 0}], [{"type": "slow_create", "delay_s": 0.5}],
        [{"type": "create_error", "reason": "injected"}], [{"type": "drop_logs"}], [{"type": "500", "match": "/process/session"}],
        [{"type": "drop", "match": "/input"}], [{"type": "503", "match": "/files"}], [], [{"type": "slow", "delay_s": 0.3}],
    ]
    runs = 0
    with fake_daytona() as url, connection("streamable-http", tmp_path, daytona_env(url)) as conn:
        for round_ in range(10):
            for fault in faults:
                control(url, "/_control/faults", fault)
                async with conn.client("legacy") as client:
                    await client.call_tool("sandbox_exec_stateful", {"code": "x = 1"})
                    if round_ % 3 == 0:
                        sandbox_id = (await client.call_tool("rlm_status", {})).structured_content["sandbox"].get("sandbox_id")
                        if sandbox_id:
                            control(url, "/_control/kill", {"sandbox": sandbox_id})
                    await client.call_tool("sandbox_exec", {"code": "print(1)"})
                    await client.call_tool("sandbox_upload", {"path": "f.txt", "content": "x"})
                runs += 1
                control(url, "/_control/faults", [])  # keep the queue for the next run only
                with_pending = control(url, "/_control/stats")
                if with_pending["faults_pending"]:
                    control(url, "/_control/reset", {})
        assert runs == 100
        stats = control(url, "/_control/stats")
        assert stats["live"] == 0, stats["live_ids"]
        assert stats["created"] >= 90
        assert KEY not in conn.log()


def test_cleanup_deletes_every_labelled_sandbox(tmp_path):
    with fake_daytona() as url:
        env = server_env(daytona_env(url))
        import urllib.request, json  # noqa: E401 - local helpers for this test only

        def create(labels):
            request = urllib.request.Request(url + "/sandbox", data=json.dumps({"labels": labels}).encode(), method="POST",
                                             headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())["id"]

        ours = [create({"app": "rlm-mcp", "rlm-mcp.workspace": str(i)}) for i in range(3)]
        theirs = create({"app": "something-else"})
        dry = subprocess.run([BINARY, "cleanup", "--dry-run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert dry.returncode == 0, dry.stderr
        assert all(f"would delete {sid}" in dry.stdout for sid in ours) and theirs not in dry.stdout
        assert control(url, "/_control/stats")["live"] == 4
        real = subprocess.run([BINARY, "cleanup"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert real.returncode == 0, real.stderr
        assert "3 deleted, 0 failed" in real.stdout
        assert control(url, "/_control/stats")["live_ids"] == [theirs]
        assert KEY not in real.stdout + real.stderr + dry.stdout + dry.stderr


async def test_server_shutdown_deletes_open_sessions_sandboxes(tmp_path):
    with fake_daytona() as url:
        with connection("streamable-http", tmp_path, daytona_env(url)) as conn:
            client = conn.client("legacy")
            await client.__aenter__()
            await ok(client, "sandbox_exec_stateful", code="x = 1")
            assert control(url, "/_control/stats")["live"] == 1
            # SIGTERM while the session is still open (the fixture checks the exit code).
            assert conn.server.stop() == 0
            with contextlib.suppress(BaseException):
                await client.__aexit__(None, None, None)
        assert control(url, "/_control/stats")["live"] == 0


async def test_rlm_execute_runs_on_daytona_and_overlaps_sandbox_creation_with_the_first_model_call(tmp_path):
    from conftest import CANARY_OPENAI_KEY, fake_llm
    from test_rlm import NEEDLE_SCRIPT, NEEDLES, needle_context

    script = {"models": {"gpt-4o-mini": "sub"}, **NEEDLE_SCRIPT}
    script["root"] = {"replies": [{"text": NEEDLE_SCRIPT["root"]["replies"][0], "delay_s": 0.5}, *NEEDLE_SCRIPT["root"]["replies"][1:]]}
    with fake_daytona() as url, fake_llm(script, tmp_path) as llm:
        env = {**daytona_env(url), "OPENAI_BASE_URL": llm + "/v1", "OPENAI_API_KEY": CANARY_OPENAI_KEY}
        with connection("stdio", tmp_path, env) as conn:
            async with conn.client() as client:
                result = await client.call_tool("rlm_execute", {"task": "How many NEEDLE lines?", "context": needle_context(),
                                                                "include_trajectory": True})
                assert not result.is_error, result.content[0].text
                out = result.structured_content
                assert control(url, "/_control/stats")["live"] == 1
            server_log = conn.log()
        stats = control(url, "/_control/stats")
        daytona_log = control(url, "/_control/log")
        llm_log = control(llm, "/_control/log")
        sandboxes = control(url, "/_control/sandboxes")
    assert out["status"] == "submitted" and out["answer"] == NEEDLES and out["llm_calls"] == 3, out
    assert stats["live"] == 0
    # The sandbox was being created while the first (slow) root call was still in flight.
    create = next(entry for entry in daytona_log if entry["method"] == "POST" and entry["path"].rstrip("/").endswith("/sandbox"))
    assert create["started"] < llm_log[0]["finished"]
    for record in sandboxes:
        assert CANARY_OPENAI_KEY not in str(record["commandEnvs"]) + str(record["env"]) and KEY not in str(record["commandEnvs"])
    assert CANARY_OPENAI_KEY not in server_log and KEY not in server_log


async def test_two_replicas_sharing_a_key_serve_one_daytona_workspace_alternately(tmp_path):
    from conftest import MODERN

    env_extra = {"RLM_WORKSPACE_KEY": "replica-shared-key-0123456789abcdef-0123"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with fake_daytona() as url:
        env = {**daytona_env(url), **env_extra}
        with connection("streamable-http", tmp_path / "a", env, mode=MODERN) as a, \
                connection("streamable-http", tmp_path / "b", env, mode=MODERN) as b:
            async with a.client() as first, b.client() as second:
                assert first.protocol_version == MODERN and second.protocol_version == MODERN
                workspace = (await ok(first, "sandbox_upload", path="shared.txt", content="from A"))["workspace"]
                # Replica B has never seen this handle; the signature proves it, and the label finds the sandbox.
                read = await ok(second, "sandbox_download", path="shared.txt", workspace=workspace)
                assert read["content"] == "from A" and read["workspace"] == workspace
                await ok(second, "sandbox_exec", code="open('b.txt', 'w').write('from B')", workspace=workspace)
                listing = await ok(first, "sandbox_files", workspace=workspace)
                assert {e["path"] for e in listing["entries"]} >= {"shared.txt", "b.txt"}
                shell = await ok(first, "sandbox_shell", command="cat b.txt", workspace=workspace)
                assert shell["stdout"] == "from B"
                # A handle minted under another key is refused by both.
                other = await second.call_tool("sandbox_files", {"workspace": workspace[:-4] + "AAAA"})
                assert other.is_error and "was not issued by this server" in other.content[0].text
        stats = control(url, "/_control/stats")
    # One sandbox served both replicas; stopping them detaches it (Daytona's auto-stop/auto-delete retire it).
    assert stats["created"] == 1 and stats["live"] == 1, stats


async def test_a_modern_clients_workspace_is_one_labelled_daytona_sandbox(tmp_path):
    """2026-07-28 clients carry `workspace` between calls: the calls share one Daytona sandbox, labelled with the
    workspace id from inside the signed handle, and a call without `workspace` gets a sandbox of its own."""
    with fake_daytona() as url, connection("streamable-http", tmp_path, daytona_env(url), mode="2026-07-28") as conn:
        async with conn.client() as client:
            first = await ok(client, "sandbox_upload", path="a.txt", content="one")
            again = await ok(client, "sandbox_download", path="a.txt")
            assert again["workspace"] == first["workspace"] and again["content"] == "one"
            other = await client._client.call_tool("sandbox_files", {})
            assert other.structured_content["workspace"] != first["workspace"]
            sandboxes = control(url, "/_control/sandboxes")
    payload = first["workspace"][len("ws_"):].split(".")[0]
    workspace_id = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split("\0")[0]
    labelled = [s for s in sandboxes if s["labels"].get("rlm-mcp.workspace") == workspace_id]
    assert len(labelled) == 1 and len(sandboxes) == 2, sandboxes


@pytest.mark.parametrize(("setting", "block_all", "allow_list"), [
    (None, True, None),
    ("allow", False, None),
    ("10.0.0.0/8, 192.0.2.7/32", False, "10.0.0.0/8,192.0.2.7/32"),
])
async def test_sandboxes_are_created_without_network_and_with_auto_delete_unless_told_otherwise(tmp_path, setting, block_all, allow_list):
    """Workers need no network (sub-calls go through the host), so LLM-written code cannot send the context anywhere;
    a sandbox a dead server left behind is deleted by Daytona once it stops."""
    with fake_daytona() as url:
        env = daytona_env(url) | ({"RLM_SANDBOX_NETWORK": setting} if setting else {})
        with connection("stdio", tmp_path, env) as conn:
            async with conn.client("legacy") as client:
                await ok(client, "sandbox_exec", code="print(1)")
        [record] = control(url, "/_control/sandboxes")
    assert record["networkBlockAll"] is block_all
    assert record.get("networkAllowList") == allow_list
    assert record["autoStopInterval"] == 15 and record["autoDeleteInterval"] == 0


def test_a_malformed_network_setting_stops_start_up_with_a_clear_error(tmp_path):
    result = subprocess.run([BINARY, "status"], cwd=tmp_path, env=server_env({"RLM_SANDBOX_NETWORK": "10.0.0.0/33"}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "RLM_SANDBOX_NETWORK must be block, allow, or a comma-separated list" in result.stderr
