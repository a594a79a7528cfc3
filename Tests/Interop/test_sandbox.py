"""The sandbox tools through the official MCP client: normal use, and bad or hostile input aimed at canaries."""

from __future__ import annotations

import base64
import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import BINARY, MODES, connection

pytestmark = pytest.mark.anyio


async def call(client, tool: str, **arguments):
    result = await client.call_tool(tool, arguments)
    return result


async def ok(client, tool: str, **arguments) -> dict:
    result = await call(client, tool, **arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def still_healthy(client) -> None:
    """After anything hostile, the same session still runs code."""
    out = await ok(client, "sandbox_exec", code="print(6 * 7)")
    assert out["stdout"] == "42\n"


@pytest.fixture(params=[(t, m) for t in ("stdio", "streamable-http") for m in MODES], ids=lambda p: f"{p[0]}-{p[1]}")
def server(request, tmp_path):
    """Each transport in each client mode; modern clients pass back the workspace each result returns."""
    transport, mode = request.param
    with connection(transport, tmp_path, mode=mode) as c:
        yield c


async def test_exec_runs_python_with_variables_and_reports_errors(server):
    async with server.client() as client:
        out = await ok(client, "sandbox_exec", code="total = sum(xs)\nprint(total)\ntotal * 2", variables={"xs": [1, 2, 3]})
        assert out["stdout"] == "6\n12\n" and out["error"] is None and out["truncated"] is False
        # A fresh namespace every call.
        assert (await ok(client, "sandbox_exec", code="total"))["error"]["type"] == "NameError"
        boom = await ok(client, "sandbox_exec", code="def f():\n    raise ValueError('bad value')\nf()")
        assert boom["error"]["type"] == "ValueError" and "bad value" in boom["error"]["message"]
        assert "line 2, in f" in boom["error"]["traceback"]
        syntax = await ok(client, "sandbox_exec", code="def broken(:\n    pass")
        assert syntax["error"]["type"] == "SyntaxError"
        submitted = await ok(client, "sandbox_exec", code="SUBMIT(answer=41 + 1, note='done')")
        assert submitted["submitted"] == {"answer": 42, "note": "done"}


async def test_stateful_sessions_keep_variables_and_reset(server):
    async with server.client() as client:
        await ok(client, "sandbox_exec_stateful", code="import math\nradius = 2")
        out = await ok(client, "sandbox_exec_stateful", code="round(math.pi * radius ** 2, 2)")
        assert out["stdout"] == "12.57\n" and out["session"] == "default"
        other = await ok(client, "sandbox_exec_stateful", code="radius", session="other")
        assert other["error"]["type"] == "NameError"
        reset = await ok(client, "sandbox_exec_stateful", code="radius", reset=True)
        assert reset["error"]["type"] == "NameError"
        status = (await client.call_tool("rlm_status", {})).structured_content["sandbox"]
        assert set(status["namespaces"]) == {"default", "other"} and status["isolation"] in {"bubblewrap", "unshare"}


async def test_files_upload_download_list_and_shell(server):
    payload = os.urandom(10 * 1024 * 1024)
    async with server.client() as client:
        up = await ok(client, "sandbox_upload", path="data/blob.bin", content_base64=base64.b64encode(payload).decode())
        assert up["path"] == "data/blob.bin" and up["size"] == len(payload) and up["workspace"].startswith("ws_")
        await ok(client, "sandbox_upload", path="data/notes.txt", content="héllo\n")
        listing = await ok(client, "sandbox_files", recursive=True)
        assert [e["path"] for e in listing["entries"]] == ["data", "data/blob.bin", "data/notes.txt"]
        assert listing["entries"][0]["is_dir"] and listing["entries"][1]["size"] == len(payload)
        made = await ok(client, "sandbox_exec", code="open('out.bin', 'wb').write(bytes(range(256)))")
        assert made["error"] is None
        down = await ok(client, "sandbox_download", path="out.bin", encoding="base64")
        assert base64.b64decode(down["content"]) == bytes(range(256)) and down["size"] == 256
        assert (await ok(client, "sandbox_download", path="data/notes.txt"))["content"] == "héllo\n"
        binary_as_text = await call(client, "sandbox_download", path="out.bin")
        assert binary_as_text.is_error and "base64" in binary_as_text.content[0].text
        shell = await ok(client, "sandbox_shell", command="wc -c < blob.bin; echo oops >&2; exit 4", cwd="data")
        assert shell["stdout"].strip() == str(len(payload)) and shell["stderr"] == "oops\n" and shell["exit_code"] == 4
        assert (await ok(client, "sandbox_exec", code="len(open('data/blob.bin', 'rb').read())"))["stdout"] == f"{len(payload)}\n"


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("sandbox_upload", {"path": "../escape.txt", "content": "x"}, "leads outside the sandbox work dir"),
        ("sandbox_upload", {"path": "/etc/cron.d/evil", "content": "x"}, "absolute paths must be inside"),
        ("sandbox_download", {"path": "../../etc/passwd"}, "leads outside the sandbox work dir"),
        ("sandbox_files", {"path": "../.."}, "leads outside the sandbox work dir"),
        ("sandbox_shell", {"command": "ls", "cwd": "../"}, "leads outside the sandbox work dir"),
        ("sandbox_download", {"path": "missing.txt"}, "does not exist in the sandbox"),
        ("sandbox_upload", {"path": "a.txt"}, 'give the file\'s data as "content"'),
        ("sandbox_upload", {"path": "a.txt", "content": "x", "content_base64": "eA=="}, "not both"),
        ("sandbox_upload", {"path": "a.txt", "content_base64": "%%%"}, "not valid base64"),
        ("sandbox_exec_stateful", {"code": "1", "session": "../x"}, 'argument "session" may contain only'),
        ("sandbox_exec", {"code": "1", "timeout_s": 0}, '"timeout_s" must be at least 1'),
        ("sandbox_exec", {"code": ""}, '"code" must not be empty'),
    ],
)
async def test_bad_input_is_refused_with_a_clear_error(server, tool, arguments, message):
    async with server.client() as client:
        result = await call(client, tool, **arguments)
        assert result.is_error
        assert message in result.content[0].text
        await still_healthy(client)


async def test_symlinks_out_of_the_work_dir_are_not_followed(server):
    async with server.client() as client:
        await ok(client, "sandbox_exec", code="import os\nos.symlink('/etc', 'etc_link')\nos.symlink('/etc/hostname', 'host_link')")
        for path in ("etc_link/hostname", "host_link"):
            result = await call(client, "sandbox_download", path=path)
            assert result.is_error and ("outside" in result.content[0].text or "symbolic link" in result.content[0].text)
        result = await call(client, "sandbox_upload", path="etc_link/evil", content="x")
        assert result.is_error


async def test_runaway_code_hits_limits_and_the_server_keeps_answering(server):
    async with server.client() as client:
        spin = await ok(client, "sandbox_exec_stateful", code="while True: pass", timeout_s=2, session="spin")
        assert spin["error"]["type"] == "Timeout" and "lost" in spin["error"]["message"]
        flood = await ok(client, "sandbox_exec", code="while True: print('x')", max_output_chars=1000, timeout_s=30)
        assert flood["truncated"] and len(flood["stdout"]) < 1200 and flood["error"]["type"] == "OutputLimitExceeded"
        memory = await ok(client, "sandbox_exec", code="block = bytearray(8 * 1024 ** 3)")
        assert memory["error"]["type"] == "MemoryError"
        big_file = await ok(client, "sandbox_exec", code="f = open('huge.bin', 'wb')\nf.seek(5 * 1024 ** 3)\nf.write(b'x')\nf.flush()")
        assert big_file["error"]["type"] == "OSError" and "File too large" in big_file["error"]["message"]
        bomb = await ok(client, "sandbox_exec", timeout_s=10, code=(
            "import os, time\nspawned = 0\n"
            "try:\n    for _ in range(100000):\n        if os.fork() == 0:\n            time.sleep(60)\n            os._exit(0)\n        spawned += 1\n"
            "except OSError as exc:\n    print('stopped after', spawned, type(exc).__name__)"))
        assert "stopped after" in bomb["stdout"], bomb
        assert int(bomb["stdout"].split()[2]) <= 200
        await still_healthy(client)
        assert not (await client.call_tool("rlm_status", {})).is_error


async def test_the_host_is_out_of_reach(server, tmp_path):
    canary_dir = Path(tempfile.mkdtemp(prefix="rlm-canary-"))
    canary_dir.chmod(0o777)
    canary = canary_dir / "canary.txt"
    canary.write_text("untouched")
    canary.chmod(0o666)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    connections: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                pass

    watcher = threading.Thread(target=accept)
    watcher.start()
    try:
        async with server.client() as client:
            shadow = await ok(client, "sandbox_exec", code="print(open('/etc/shadow').read()[:20])")
            assert shadow["error"] is not None and shadow["stdout"] == ""
            write = await ok(client, "sandbox_exec", code=f"open({str(canary)!r}, 'w').write('pwned')")
            assert write["error"] is not None
            shell_write = await ok(client, "sandbox_shell", command=f"echo pwned > {canary}")
            assert shell_write["exit_code"] != 0
            net = await ok(client, "sandbox_exec", code=f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)")
            assert net["error"] is not None
            env = await ok(client, "sandbox_exec", code="import os\nprint(sorted(os.environ))")
            assert "OPENAI" not in env["stdout"] and "TOKEN" not in env["stdout"]
            await still_healthy(client)
    finally:
        stop.set()
        watcher.join()
        listener.close()
    assert canary.read_text() == "untouched"
    assert connections == []


async def test_sessions_cannot_see_each_others_files_or_variables(tmp_path):
    with connection("streamable-http", tmp_path) as server:
        async with server.client("legacy") as first, server.client("legacy") as second:
            await ok(first, "sandbox_upload", path="secret.txt", content="first's secret")
            await ok(first, "sandbox_exec_stateful", code="secret = 'first'")
            assert (await ok(second, "sandbox_files"))["entries"] == []
            assert (await call(second, "sandbox_download", path="secret.txt")).is_error
            assert (await ok(second, "sandbox_exec_stateful", code="secret"))["error"]["type"] == "NameError"
            peek = await ok(second, "sandbox_shell", command="ls / /work; ls .. 2>&1 | head")
            assert "secret.txt" not in peek["stdout"]
            assert (await ok(first, "sandbox_download", path="secret.txt"))["content"] == "first's secret"


async def test_unshare_fallback_isolates_too(tmp_path):
    env = {"RLM_SANDBOX_ISOLATION": "unshare", "RLM_PYTHON": "/usr/bin/python3"}
    with connection("stdio", tmp_path, env) as server:
        async with server.client("legacy") as client:
            out = await ok(client, "sandbox_exec_stateful", code="import os\nprint(os.getpid(), os.getuid() != 0)")
            pid, unprivileged = out["stdout"].split()
            assert unprivileged == "True" and int(pid) < 10  # own PID namespace
            status = (await client.call_tool("rlm_status", {})).structured_content["sandbox"]
            assert status["isolation"] == "unshare"
            assert (await ok(client, "sandbox_exec", code="open('/etc/shadow').read()"))["error"] is not None
            net = await ok(client, "sandbox_exec", code="import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)")
            assert net["error"] is not None
            shell = await ok(client, "sandbox_shell", command="echo $$; id -u")
            assert shell["exit_code"] == 0


async def test_sandbox_is_deleted_when_the_session_ends(tmp_path):
    with connection("streamable-http", tmp_path) as server:
        async with server.client("legacy") as client:
            where = await ok(client, "sandbox_shell", command="pwd")
            assert where["exit_code"] == 0
            open_before = (await client.call_tool("rlm_status", {})).structured_content["sandbox"]["live_sandboxes"]
            assert open_before == 1
        async with server.client("legacy") as client:
            status = (await client.call_tool("rlm_status", {})).structured_content["sandbox"]
            assert status["live_sandboxes"] == 0 and status["state"] == "not started"


async def test_cancelling_a_call_kills_the_running_code(server):
    import anyio

    async with server.client() as client:
        await ok(client, "sandbox_exec_stateful", code="marker = 'alive'")
        async with anyio.create_task_group() as group:
            async def spin() -> None:
                await client.call_tool("sandbox_exec_stateful", {"code": "while True: pass", "timeout_s": 600})

            group.start_soon(spin)
            await anyio.sleep(1.0)
            group.cancel_scope.cancel()
        # The server learns of the cancellation asynchronously (a notification, or on 2026-07-28 HTTP the closed
        # response stream), so wait until it has seen it before looking at the REPL.
        with anyio.fail_after(10):
            while (await client.call_tool("rlm_status", {})).structured_content["activity"]["calls_cancelled"] != 1:
                await anyio.sleep(0.05)
        # The worker was killed, not left spinning: its variables are gone and a new worker answers at once.
        with anyio.fail_after(10):
            after = await ok(client, "sandbox_exec_stateful", code="marker")
        assert after["error"]["type"] == "NameError"


async def test_unshare_fallback_works_from_a_checkout_no_sandbox_uid_can_traverse(tmp_path):
    """The worker script ships next to the binary; a copy of the build under a mode-700 folder (as a clone in a home
    or `mktemp -d` folder is) must still start workers that run as an unprivileged uid."""
    import shutil

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    build = Path(BINARY).parent
    shutil.copy2(BINARY, private / "rlm-mcp")
    for bundle in build.glob("*.resources"):
        shutil.copytree(bundle, private / bundle.name)
    os.chmod(private, 0o700)
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from conftest import server_env

    params = StdioServerParameters(command=str(private / "rlm-mcp"), args=["serve"], cwd=str(tmp_path),
                                   env=server_env({"RLM_SANDBOX_ISOLATION": "unshare", "RLM_PYTHON": "/usr/bin/python3"}))
    with open(tmp_path / "stderr.log", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            out = await ok(client, "sandbox_exec", code="import os\nprint(os.getuid() != 0)")
            assert out["stdout"] == "True\n"
