"""Fixtures that start the real rlm-mcp binary and connect the official MCP Python client to it over each transport."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
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
    process = subprocess.Popen([sys.executable, str(FAKE_LLM), "--port", "0", "--script", str(path)], stdout=subprocess.PIPE, text=True)
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


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing from the developer's shell leaks into the server under test."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
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


@dataclass
class Connection:
    """How to reach one running server with the official client."""

    transport: str
    make_client: object  # (mode) -> Client
    server: RunningServer | None  # None for stdio
    stderr_path: Path | None = None

    def client(self, mode: str = "auto", **kwargs) -> Client:
        return self.make_client(mode, **kwargs)  # type: ignore[operator]

    def log(self) -> str:
        if self.server is not None:
            return self.server.log
        return self.stderr_path.read_text() if self.stderr_path and self.stderr_path.exists() else ""


@contextlib.contextmanager
def connection(transport: str, tmp_path: Path, env: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    """A way to open official-client sessions to a server on `transport` (stdio, streamable-http or sse)."""
    if transport == "stdio":
        stderr_path = tmp_path / "stderr.log"

        with open(stderr_path, "w") as errlog:
            def make(mode: str, **kwargs) -> Client:
                params = StdioServerParameters(command=BINARY, args=["serve"], env=server_env(env), cwd=str(tmp_path))
                return Client(stdio_client(params, errlog=errlog), mode=mode, **kwargs)

            yield Connection(transport, make, None, stderr_path)
        return

    with http_server(tmp_path, transport, env) as server:
        def make(mode: str, **kwargs) -> Client:
            http = create_mcp_http_client(headers=headers)
            if transport == "sse":
                return Client(sse_client(server.endpoint, headers=headers), mode=mode, **kwargs)
            return Client(streamable_http_client(server.endpoint, http_client=http), mode=mode, **kwargs)

        yield Connection(transport, make, server)


TRANSPORTS = ["stdio", "streamable-http", "sse"]


@pytest.fixture(params=TRANSPORTS)
def conn(request, tmp_path):
    """A server with the diagnostic tools on, reached over each transport in turn."""
    env = {"RLM_DIAGNOSTIC_TOOLS": "1", "OPENAI_API_KEY": CANARY_OPENAI_KEY}
    with connection(request.param, tmp_path, env) as c:
        yield c
