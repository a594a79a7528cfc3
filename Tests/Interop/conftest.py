"""Fixtures that start the real rlm-mcp binary and connect the official MCP Python client to it over each transport."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mcp.client.client import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

REPO = Path(__file__).resolve().parents[2]
BINARY = str(Path(os.environ.get("RLM_MCP_BIN", REPO / ".build" / "debug" / "rlm-mcp")).resolve())
LISTENING = re.compile(r"listening on (http://\S+)")

# Values no test output or log may ever contain.
CANARY_OPENAI_KEY = "sk-canary-openai-0123456789abcdef"
CANARY_TOKEN = "tok-canary-bearer-0123456789"


FAKE_LLM = REPO / "scripts" / "fakes" / "fake_llm.py"


@contextlib.contextmanager
def fake_llm(script: dict, tmp_path: Path):
    """Starts the scripted fake LLM on a free loopback port; yields its base URL."""
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    with loopback_fake(FAKE_LLM, "--script", str(path)) as url:
        yield url


@contextlib.contextmanager
def loopback_fake(script: Path, *args: str):
    """Runs one of scripts/fakes on a free port until the block ends; yields the URL it announces once ready."""
    process = subprocess.Popen([sys.executable, str(script), "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "listening on" in line, line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def control(url: str, path: str, body=None):
    """GETs (or with a body, POSTs) one of the fake's /_control endpoints."""
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data, method="POST" if data else "GET")) as response:
        return json.loads(response.read())


@pytest.fixture
def anyio_backend():
    return "asyncio"


# The run history of every server under test goes here, never into the developer's ~/.local/share.
DATA_HOME = tempfile.mkdtemp(prefix="rlm-interop-data-")
atexit.register(shutil.rmtree, DATA_HOME, True)


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing from the developer's shell leaks into the server under test."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "XDG_DATA_HOME": DATA_HOME}
    env.update(extra or {})
    return env


@dataclass
class RunningServer:
    process: subprocess.Popen
    base_url: str
    endpoint: str
    log_lines: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "".join(self.log_lines)

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def http_server(tmp_path: Path, transport: str = "streamable-http", env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    """Starts `rlm-mcp serve` on a free loopback port and stops it with SIGTERM, checking that it exits cleanly."""
    process = subprocess.Popen(
        [BINARY, "serve", "--transport", transport, "--port", "0", *args],
        cwd=tmp_path,
        env=server_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if not url and (match := LISTENING.search(line)):
                url.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60) or not url:
        process.kill()
        raise RuntimeError("server did not start:\n" + "".join(lines))
    endpoint = url[0]
    server = RunningServer(process, endpoint.rsplit("/", 1)[0], endpoint, lines)
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"server exited with {code} on SIGTERM:\n{server.log}"


MODERN = "2026-07-28"
HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}

# The server's tools, in the order tools/list gives them (diagnostic_progress only with RLM_DIAGNOSTIC_TOOLS=1): the one
# list the tests compare against, so a new tool is added here once.
TOOLS = ["rlm_status", "sandbox_exec", "sandbox_exec_stateful", "sandbox_upload", "sandbox_download", "sandbox_files",
         "sandbox_shell", "rlm_execute", "rlm_analyze", "rlm_code", "rlm_decompose", "diagnostic_progress"]
# The tools that run in a workspace's sandbox: they take and return `workspace`.
WORKSPACE_TOOLS = frozenset(name for name in TOOLS if name.startswith(("sandbox_", "rlm_")) and name != "rlm_status")
# The tools annotated read-only.
READ_ONLY_TOOLS = frozenset({"rlm_status", "sandbox_files", "sandbox_download", "diagnostic_progress"})


class WorkspaceCarrier:
    """The official client, passing back the `workspace` each result returns, as a model following the tool
    descriptions would: 2026-07-28 has no sessions, so this is how a modern client keeps working in one sandbox.

    Everything else is the wrapped `Client`. `carry=False` leaves arguments untouched (handshake-era clients rely on
    their session's default workspace).
    """

    def __init__(self, client: Client, carry: bool):
        self._client = client
        self.carry = carry
        self.workspace: str | None = None
        self._takes_workspace: set[str] | None = None

    async def __aenter__(self) -> "WorkspaceCarrier":
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self._client.__aexit__(*exc)

    def __getattr__(self, name):
        return getattr(self._client, name)

    async def call_tool(self, name: str, arguments: dict | None = None, **kwargs):
        arguments = dict(arguments or {})
        if self.carry and self.workspace and "workspace" not in arguments:
            if self._takes_workspace is None:
                tools = (await self._client.list_tools()).tools
                self._takes_workspace = {t.name for t in tools if "workspace" in (t.input_schema.get("properties") or {})}
            if name in self._takes_workspace:
                arguments["workspace"] = self.workspace
        result = await self._client.call_tool(name, arguments, **kwargs)
        returned = (result.structured_content or {}).get("workspace") if isinstance(result.structured_content, dict) else None
        if isinstance(returned, str):
            self.workspace = returned
        return result


@dataclass
class Connection:
    """How to reach one running server with the official client, in one client mode ("auto", "2026-07-28", "legacy")."""

    transport: str
    make_client: object  # (mode) -> Client
    server: RunningServer | None  # None for stdio
    stderr_path: Path | None = None
    mode: str = "legacy"

    def client(self, mode: str | None = None, **kwargs) -> WorkspaceCarrier:
        mode = mode or self.mode
        return WorkspaceCarrier(self.make_client(mode, **kwargs), carry=self.expects_modern(mode))  # type: ignore[operator]

    def expects_modern(self, mode: str | None = None) -> bool:
        """Whether the official client settles on 2026-07-28 here (the legacy SSE transport is handshake-era only)."""
        mode = mode or self.mode
        return mode == MODERN or (mode == "auto" and self.transport != "sse")

    def log(self) -> str:
        if self.server is not None:
            return self.server.log
        return self.stderr_path.read_text() if self.stderr_path and self.stderr_path.exists() else ""


@contextlib.contextmanager
def connection(transport: str, tmp_path: Path, env: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               mode: str = "legacy"):
    """A way to open official-client sessions to a server on `transport` (stdio, streamable-http or sse)."""
    if transport == "stdio":
        stderr_path = tmp_path / "stderr.log"

        with open(stderr_path, "w") as errlog:
            def make(mode: str, **kwargs) -> Client:
                params = StdioServerParameters(command=BINARY, args=["serve"], env=server_env(env), cwd=str(tmp_path))
                return Client(stdio_client(params, errlog=errlog), mode=mode, **kwargs)

            yield Connection(transport, make, None, stderr_path, mode)
        return

    with http_server(tmp_path, transport, env) as server:
        def make(mode: str, **kwargs) -> Client:
            http = create_mcp_http_client(headers=headers)
            if transport == "sse":
                return Client(sse_client(server.endpoint, headers=headers), mode=mode, **kwargs)
            return Client(streamable_http_client(server.endpoint, http_client=http), mode=mode, **kwargs)

        yield Connection(transport, make, server, None, mode)


TRANSPORTS = ["stdio", "streamable-http", "sse"]
MODES = ["auto", MODERN, "legacy"]
# Both eras on stdio and streamable HTTP; the deprecated HTTP+SSE transport is handshake-era only, and "auto" there
# must fall back to the handshake.
TRANSPORT_MODES = [(t, m) for t in ("stdio", "streamable-http") for m in MODES] + [("sse", "auto"), ("sse", "legacy")]


# One reply serves every rlm_* tool: code for rlm_code (whose runs define `tests`), the context's length otherwise.
UNIVERSAL_REPLY = ("```python\nif 'tests' in globals():\n    SUBMIT(code='def f():\\n    return 1\\n')\n"
                   "else:\n    SUBMIT(answer=0 if context is None else len(context))\n```")


@pytest.fixture(params=TRANSPORT_MODES, ids=lambda p: f"{p[0]}-{p[1]}")
def conn(request, tmp_path):
    """A server with the diagnostic tools on and a fake LLM behind it, reached over each transport in each client mode."""
    transport, mode = request.param
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": UNIVERSAL_REPLY}, "sub": {"default": UNIVERSAL_REPLY}}
    with fake_llm(script, tmp_path) as llm:
        env = {"RLM_DIAGNOSTIC_TOOLS": "1", "OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1"}
        with connection(transport, tmp_path, env, mode=mode) as c:
            yield c
