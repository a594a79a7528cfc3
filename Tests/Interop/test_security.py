"""The red-team findings, each aimed at the real server through the official client or raw HTTP: descriptors that must
not reach sandboxes, blocking calls that must not stall the server, configuration that must not come from the working
directory, and the smaller holes. Writes go only to the sandbox's own directory or a temp dir the test created."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from conftest import BINARY, CANARY_OPENAI_KEY, MODERN, connection, fake_llm, http_server, server_env

pytestmark = pytest.mark.anyio

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}

# Prints "fd target" for each descriptor of the process that runs it.
LIST_FDS = ("import os\nfor fd in sorted(int(n) for n in os.listdir('/proc/self/fd')):\n"
            "    try: print(fd, os.readlink(f'/proc/self/fd/{fd}'))\n    except OSError: pass\n")


async def ok(client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def refused(client, tool: str, **arguments) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} {arguments} was accepted: {result.structured_content}"
    return result.content[0].text


def server_descriptors_in(listing: str, own: set[int]) -> list[str]:
    """Lines of an fd listing that are sockets, epoll/eventfd instances or pipes beyond the process's own."""
    bad = []
    for line in listing.splitlines():
        fd, _, target = line.partition(" ")
        if target.startswith(("socket:", "anon_inode:")) or (target.startswith("pipe:") and int(fd) not in own):
            bad.append(line)
    return bad


@pytest.mark.parametrize("transport", ["streamable-http", "stdio"])
async def test_sandbox_code_sees_no_descriptor_of_the_server(tmp_path, transport):
    # Over HTTP the server holds a listening socket, client connections and epoll instances: none may show.
    script = {"root": {"replies": [f"```python\n{LIST_FDS}SUBMIT(answer='listed')\n```"]}}
    with fake_llm({"models": {"gpt-4o-mini": "sub"}, **script}, tmp_path) as url:
        env = {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": CANARY_OPENAI_KEY}
        with connection(transport, tmp_path, env) as conn:
            async with conn.client() as client:
                exec_fresh = await ok(client, "sandbox_exec", code=LIST_FDS)
                exec_named = await ok(client, "sandbox_exec_stateful", code=LIST_FDS, session="fds")
                shell = await ok(client, "sandbox_shell", command="find /proc/$$/fd -mindepth 1 -printf '%f %l\\n'")
                run = await ok(client, "rlm_execute", task="list descriptors", context="x", include_trajectory=True)
    # Workers own fds 3 and 4 (their protocol pipes); a shell owns its stdout and stderr pipes.
    assert exec_fresh["stdout"].count("\n") >= 3
    assert server_descriptors_in(exec_fresh["stdout"], {3, 4}) == []
    assert server_descriptors_in(exec_named["stdout"], {3, 4}) == []
    assert server_descriptors_in(shell["stdout"], {1, 2}) == [], shell["stdout"]
    blocks = [block for step in run["trajectory"] for block in step["blocks"]]
    assert blocks and server_descriptors_in(blocks[0]["stdout"], {3, 4}) == [], blocks[0]["stdout"]


async def test_a_fifo_in_the_workspace_is_refused_and_the_server_keeps_serving(tmp_path):
    with http_server(tmp_path) as server:  # the fixture checks that SIGTERM still stops it cleanly
        with connection_to(server) as make:
            async with make() as client:
                await ok(client, "sandbox_shell", command="mkfifo trap.fifo && mkdir -p sub && mkfifo sub/solution.py")
                for tool, arguments in [("sandbox_download", {"path": "trap.fifo"}), ("sandbox_download", {"path": "sub/solution.py"}),
                                        ("sandbox_upload", {"path": "trap.fifo", "content": "x"})]:
                    with anyio.fail_after(30):
                        assert "not a regular file" in await refused(client, tool, **arguments)
                names = [entry["name"] for entry in (await ok(client, "sandbox_files", recursive=True))["entries"]]
                assert "trap.fifo" in names
                assert (await ok(client, "rlm_status"))["version"]
        assert httpx2.get(server.base_url + "/health").status_code == 200


async def test_a_worker_flooding_requests_without_reading_replies_still_times_out(tmp_path):
    flood = ("import os, json, time\n"
             "frames = ''.join(json.dumps({'ev': 'request', 'id': f'q{i}', 'exec': 'x', 'kind': 'llm_query', 'prompt': 'p'}) + '\\n'"
             " for i in range(5000))\nos.write(4, frames.encode())\ntime.sleep(25)\n")
    with http_server(tmp_path) as server, connection_to(server) as make:
        async with make() as client:
            async with anyio.create_task_group() as group:
                outcome: dict = {}

                async def flooded() -> None:
                    outcome["result"] = await ok(client, "sandbox_exec", code=flood, timeout_s=3)

                group.start_soon(flooded)
                await anyio.sleep(1.5)
                async with httpx2.AsyncClient() as http:
                    assert (await http.get(server.base_url + "/health", timeout=10)).status_code == 200
            # The server's own timeout answered, not the end of the code's sleep.
            assert outcome["result"]["error"]["type"] == "Timeout"
            assert (await ok(client, "sandbox_exec", code="print(6 * 7)"))["stdout"] == "42\n"


async def test_an_oversized_frame_from_a_worker_is_refused_with_a_clear_error(tmp_path):
    code = "import os, time\nchunk = b'x' * (1 << 20)\nfor _ in range(80): os.write(4, chunk)\ntime.sleep(30)\n"
    with http_server(tmp_path) as server, connection_to(server) as make:
        async with make() as client:
            message = await refused(client, "sandbox_exec_stateful", code=code, timeout_s=60)
            assert "larger than 64 MB" in message
            assert (await ok(client, "sandbox_exec_stateful", code="print('fresh')"))["stdout"] == "fresh\n"


def status(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, "status", *args], cwd=cwd, env=server_env({"HOME": str(cwd), **(env or {})}),
                          capture_output=True, text=True, timeout=60)


def test_configuration_is_never_read_from_the_working_directory(tmp_path):
    hostile = "OPENAI_BASE_URL=http://127.0.0.1:9/v1\nRLM_SANDBOX_UNSAFE=1\nRLM_SANDBOX_ISOLATION=none\nRLM_MODEL=openai/from-cwd\n"
    (tmp_path / ".env").write_text(hostile)
    (tmp_path / ".env.local").write_text(hostile)
    result = status([], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "from-cwd" not in result.stdout and "127.0.0.1:9" not in result.stdout
    assert "is not read" in result.stderr
    for line in result.stdout.splitlines():
        if line.strip().startswith(("RLM_SANDBOX_UNSAFE ", "RLM_SANDBOX_ISOLATION ")):
            assert "(" not in line, f"a default was overridden: {line}"


def test_env_files_and_the_user_config_file_are_read_and_status_names_them(tmp_path):
    named = tmp_path / "project.env"
    named.write_text("RLM_MODEL=openai/from-named-file\n")
    config_home = tmp_path / "xdg"
    (config_home / "rlm-mcp").mkdir(parents=True)
    (config_home / "rlm-mcp" / "env").write_text("RLM_MODEL=openai/from-user-file\nRLM_MAX_DEPTH=3\n")
    result = status(["--env-file", str(named)], tmp_path, {"XDG_CONFIG_HOME": str(config_home)})
    assert result.returncode == 0, result.stderr
    assert f"openai/from-named-file   ({named})" in result.stdout
    assert f"3   ({config_home / 'rlm-mcp' / 'env'})" in result.stdout
    missing = status(["--env-file", str(tmp_path / "nope.env")], tmp_path)
    assert missing.returncode == 2 and "nope.env" in missing.stderr and "no such file" in missing.stderr


@pytest.mark.parametrize("token", ["   ", "two words"])
def test_a_blank_or_spaced_bearer_token_is_refused_at_start_up(tmp_path, token):
    result = subprocess.run([BINARY, "serve", "--transport", "streamable-http", "--port", "0"], cwd=tmp_path,
                            env=server_env({"MCP_AUTH_TOKEN": token}), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "MCP_AUTH_TOKEN" in result.stderr
    assert not token.strip() or token not in result.stderr, "the refused token is echoed"


@pytest.mark.parametrize("transport,path", [("streamable-http", "/mcp"), ("streamable-http", "/health"), ("sse", "/sse")])
def test_a_foreign_host_header_is_refused_on_every_route(tmp_path, transport, path):
    with http_server(tmp_path, transport) as server, httpx2.Client() as http:
        url = server.base_url + path
        for host in ["evil.example", "evil.example:8000", "localhost.evil.example"]:
            response = http.request("POST" if path == "/mcp" else "GET", url, headers={**MCP_HEADERS, "Host": host},
                                    json=INITIALIZE if path == "/mcp" else None)
            assert response.status_code == 403, (host, response.status_code)
            assert "MCP_ALLOWED_HOSTS" in response.json()["error"]["message"]
        assert http.get(server.base_url + "/health").status_code == 200


def test_an_origin_that_fools_lenient_parsers_is_refused(tmp_path):
    with http_server(tmp_path) as server, httpx2.Client() as http:
        for origin in ["http://evil.com\\@localhost", "http://evil.com@localhost", "http://localhost%2f.evil.example"]:
            response = http.post(server.base_url + "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": origin})
            assert response.status_code == 403, origin


async def test_a_workspace_handle_with_altered_spare_bits_is_refused(tmp_path):
    with connection("stdio", tmp_path, mode=MODERN) as conn:
        async with conn.client() as client:
            await ok(client, "sandbox_upload", path="mine.txt", content="secret")
            handle = client.workspace
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            variant = handle[:-1] + alphabet[alphabet.index(handle[-1]) ^ 1]
            message = await refused(client, "sandbox_files", workspace=variant)
            assert "not a workspace handle" in message


async def test_a_shell_cwd_that_links_out_reveals_nothing_about_the_host(tmp_path):
    existing = tmp_path / "host-dir"
    existing.mkdir()
    with connection("stdio", tmp_path) as conn:
        async with conn.client() as client:
            await ok(client, "sandbox_exec", code=f"import os\nos.symlink({str(existing)!r}, 'a')\nos.symlink('/no/such/dir', 'b')")
            first = await refused(client, "sandbox_shell", command="pwd", cwd="a")
            second = await refused(client, "sandbox_shell", command="pwd", cwd="b")
    assert first.replace('"a"', "X") == second.replace('"b"', "X")
    assert "outside the sandbox" in first


async def test_a_deep_listing_needs_no_descriptor_per_directory(tmp_path):
    # The server gets 128 descriptors: a listing that kept one per pending directory would run out and drop entries.
    params = StdioServerParameters(command="prlimit", args=["--nofile=128:4096", BINARY, "serve"], env=server_env(), cwd=str(tmp_path))
    with open(tmp_path / "stderr.log", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            await ok(client, "sandbox_exec", code="import os\nfor i in range(400): os.makedirs(f'tree/d{i}/leaf')")
            entries = (await ok(client, "sandbox_files", path="tree", recursive=True))["entries"]
            assert len(entries) == 800
            await ok(client, "sandbox_exec", code="import os\nos.makedirs('many')\nfor i in range(10_001): open(f'many/{i}', 'w').close()")
            assert "more than 10000 entries" in await refused(client, "sandbox_files", path="many")


class connection_to:
    """Official-client sessions (handshake era) to an already running HTTP server."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        from mcp.client.streamable_http import streamable_http_client

        return lambda: Client(streamable_http_client(self.server.endpoint), mode="legacy")

    def __exit__(self, *exc):
        return False
