"""`rlm-mcp deploy` end to end against the fake Daytona: the fake really runs the uploaded binary on loopback and
proxies its preview link, and the official MCP client calls tools through that link with both tokens."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from daytona import CreateSandboxFromSnapshotParams
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import BINARY, CANARY_OPENAI_KEY, REPO, server_env
from test_fake_daytona import KEY, control, fake_daytona, sdk

RUN_SERVER = REPO / "run_server.sh"


def free_preview_port() -> int:
    """A free loopback port in the range Daytona previews (3000-9999): the fake's sandboxes share this machine."""
    for candidate in range(9990, 3000, -7):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port in 3000-9999")


def deploy(api_url: str, cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    variables = {"DAYTONA_API_KEY": KEY, "DAYTONA_API_URL": api_url, "OPENAI_API_KEY": CANARY_OPENAI_KEY, **(env or {})}
    return subprocess.run([BINARY, "deploy", *args], cwd=cwd, env=server_env(variables), capture_output=True, text=True, timeout=timeout)


def http_status(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_fakes_preview_link_matches_the_official_sdk():
    with fake_daytona() as api_url:
        daytona = sdk(api_url)
        sandbox = daytona.create(CreateSandboxFromSnapshotParams(labels={"probe": "preview"}))
        link = sandbox.get_preview_link(4000)
        assert link.url.endswith(f"/_preview/{sandbox.id}/4000") and len(link.token) >= 16
        daytona.delete(sandbox)


@pytest.mark.anyio
async def test_deploy_up_status_logs_stop_delete(tmp_path):
    port = free_preview_port()
    with fake_daytona() as api_url:
        up = deploy(api_url, tmp_path, "--sandbox-port", str(port), "--show-secrets")
        assert up.returncode == 0, up.stdout + up.stderr
        endpoint = re.search(r"^MCP endpoint: (\S+)$", up.stdout, re.MULTILINE).group(1)
        bearer = re.search(r"--header 'Authorization: Bearer ([^']+)'", up.stdout).group(1)
        preview = re.search(r"--header 'x-daytona-preview-token: ([^']+)'", up.stdout).group(1)
        assert f"claude mcp add --transport http rlm-mcp {endpoint} --header" in up.stdout
        assert len(bearer) >= 40 and "<" not in bearer + preview

        # The sandbox: labelled, private, configured through its environment only.
        (sandbox,) = [s for s in control(api_url, "/_control/sandboxes") if s["labels"].get("rlm-mcp.deployment") == "default"]
        assert sandbox["labels"]["app"] == "rlm-mcp-deploy" and sandbox["public"] is False
        server_env_seen = sandbox["commandEnvs"][-1]
        assert server_env_seen["MCP_AUTH_TOKEN"] == bearer and server_env_seen["OPENAI_API_KEY"] == CANARY_OPENAI_KEY
        assert server_env_seen["MCP_HOST"] == "0.0.0.0" and server_env_seen["MCP_TRANSPORT"] == "streamable-http"
        assert "DAYTONA_API_KEY" not in server_env_seen and server_env_seen["RLM_SANDBOX"] == "local"
        written = b"".join(path.read_bytes() for path in Path(sandbox["dir"]).rglob("*") if path.is_file())
        assert CANARY_OPENAI_KEY.encode() not in written and bearer.encode() not in written, "secrets must not be written to files"
        assert KEY not in up.stdout + up.stderr
        # The debug build the tests use links the Swift runtime dynamically: deploy warns that Daytona lacks it.
        assert "loads the Swift runtime from shared libraries" in up.stderr

        # Never reachable without both tokens.
        assert http_status(endpoint, {}) == 401  # the preview proxy
        assert http_status(endpoint, {"x-daytona-preview-token": preview}) == 401  # the server's bearer check
        health = endpoint.rsplit("/", 1)[0] + "/health"
        assert http_status(health, {"x-daytona-preview-token": preview}) == 200

        # A real MCP client through the preview link.
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {bearer}", "x-daytona-preview-token": preview})
        async with Client(streamable_http_client(endpoint, http_client=http), mode="legacy") as client:
            status = (await client.call_tool("rlm_status", {})).structured_content
            assert status["transport"] == "streamable-http" and status["sandbox"]["backend"] == "local"
            run = await client.call_tool("sandbox_exec", {"code": "print(sum(range(10)))"})
            assert not run.is_error and run.structured_content["stdout"].strip() == "45"

        again = deploy(api_url, tmp_path, "--sandbox-port", str(port))
        assert again.returncode == 1 and 'deployment "default" already exists' in again.stderr

        hidden = deploy(api_url, tmp_path, "status", "--sandbox-port", str(port))
        assert hidden.returncode == 0, hidden.stderr
        assert "server: running" in hidden.stdout and "health: HTTP 200" in hidden.stdout
        assert bearer not in hidden.stdout and preview not in hidden.stdout and "<MCP_AUTH_TOKEN>" in hidden.stdout
        shown = deploy(api_url, tmp_path, "status", "--sandbox-port", str(port), "--show-secrets")
        assert f"--header 'Authorization: Bearer {bearer}' --header 'x-daytona-preview-token: {preview}'" in shown.stdout

        logs = deploy(api_url, tmp_path, "logs")
        assert logs.returncode == 0 and "listening on http://0.0.0.0:" in logs.stdout
        assert CANARY_OPENAI_KEY not in logs.stdout and bearer not in logs.stdout

        stopped = deploy(api_url, tmp_path, "stop")
        assert stopped.returncode == 0 and "stopped sandbox" in stopped.stdout
        assert http_status(health, {"x-daytona-preview-token": preview}) == 502
        assert "stopped" in deploy(api_url, tmp_path, "status").stdout

        deleted = deploy(api_url, tmp_path, "delete")
        assert deleted.returncode == 0 and "deleted sandbox" in deleted.stdout
        gone = deploy(api_url, tmp_path, "status")
        assert gone.returncode == 1 and 'there is no deployment "default"' in gone.stderr


def test_a_server_that_cannot_start_is_reported_and_its_sandbox_deleted(tmp_path):
    with fake_daytona() as api_url:
        # The configuration is validated before anything is created, so a mistake costs no sandbox.
        failed = deploy(api_url, tmp_path, "--sandbox-port", str(free_preview_port()), env={"RLM_MAX_DEPTH": "99"}, timeout=120)
        assert failed.returncode == 2 and "RLM_MAX_DEPTH must be an integer from 0 to 10" in failed.stderr
        assert [s for s in control(api_url, "/_control/sandboxes") if not s["state"] == "destroyed"] == []

        not_elf = tmp_path / "rlm-mcp"
        not_elf.write_text("#!/bin/sh\nexit 3\n")
        refused = deploy(api_url, tmp_path, "--binary", str(not_elf))
        assert refused.returncode == 1 and "is not a Linux (ELF) binary" in refused.stderr

        # A binary that starts and dies: the deploy says so with its log, and leaves no sandbox behind.
        dying = tmp_path / "dying"
        dying.write_bytes(Path("/bin/false").read_bytes())
        dead = deploy(api_url, tmp_path, "--binary", str(dying), "--sandbox-port", str(free_preview_port()))
        assert dead.returncode == 1 and "the server exited with status 1 in the sandbox" in dead.stderr
        assert all(s["state"] == "destroyed" for s in control(api_url, "/_control/sandboxes"))


def test_deploy_needs_a_daytona_key(tmp_path):
    result = subprocess.run([BINARY, "deploy", "status"], cwd=tmp_path, env=server_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "DAYTONA_API_KEY is not set" in result.stderr


def test_run_server_deploy_runs_rlm_mcp_deploy(tmp_path):
    with fake_daytona() as api_url:
        result = subprocess.run(["/bin/bash", str(RUN_SERVER), "--deploy", "status"], cwd=tmp_path,
                                env=server_env({"RLM_MCP_BIN": BINARY, "DAYTONA_API_KEY": KEY, "DAYTONA_API_URL": api_url}),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'there is no deployment "default"' in result.stderr
