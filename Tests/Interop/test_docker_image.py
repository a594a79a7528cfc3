"""The real image: built from deploy/Dockerfile and run by a Docker engine, then used with the official MCP client.

Opt-in (RLM_DOCKER_E2E=1): it needs a Docker engine and the base images, and its build stage is a full release build,
too slow for every CI run. On a machine that cannot pull images, scripts/docker/offline_base_images.sh makes them.
The container shares the host's network here (`--network host`), so it listens on a free port of this machine."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import REPO

pytestmark = pytest.mark.skipif(os.environ.get("RLM_DOCKER_E2E") != "1", reason="set RLM_DOCKER_E2E=1 with a Docker engine running")

IMAGE = "rlm-mcp:e2e"
# What deploy/compose.yaml sets so bubblewrap works inside the container.
SANDBOX_OPTS = ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                "--security-opt", "systempaths=unconfined", "--security-opt", "no-new-privileges:true", "--cap-drop", "ALL", "--init"]


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def image():
    started = time.monotonic()
    # DOCKER_BUILDKIT=0: the classic builder needs no buildx plugin; --network host lets apt and git reach the
    # package mirrors the way the host does; a low CPU weight lets other work on the machine go first.
    env = {**os.environ, "DOCKER_BUILDKIT": os.environ.get("DOCKER_BUILDKIT", "0")}
    build = subprocess.run(["docker", "build", "--cpu-shares", "256", "--network", "host", "-f", "deploy/Dockerfile", "-t", IMAGE, "."],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    print(f"image built in {time.monotonic() - started:.0f} s")
    return IMAGE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_container(env: dict[str, str], options: list[str]) -> str:
    flags = [part for name, value in env.items() for part in ("-e", f"{name}={value}")]
    return docker("run", "-d", "--network", "host", *options, *flags, IMAGE).stdout.strip()


def wait_for_health(container: str, limit: float = 90) -> str:
    deadline = time.monotonic() + limit
    state = ""
    while time.monotonic() < deadline:
        state = docker("inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", container).stdout.strip()
        if state.endswith("healthy") and not state.endswith("unhealthy") or state.startswith("exited"):
            return state
        time.sleep(1)
    return state


def test_image_is_slim_non_root_and_has_what_the_sandbox_needs(image):
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert "MCP_TRANSPORT=streamable-http" in config["Env"] and "MCP_HOST=0.0.0.0" in config["Env"]
    assert "/health" in " ".join(config["Healthcheck"]["Test"])
    probe = docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
                   "id -u; python3 -V; for tool in bwrap setpriv unshare; do command -v $tool; done; ls /opt/rlm-mcp/bin; "
                   "/opt/rlm-mcp/bin/rlm-mcp --version 2>&1; command -v swift || echo no-swift")
    out = probe.stdout
    assert out.splitlines()[0] == "10001"
    assert "Python 3." in out and "/usr/bin/bwrap" in out and "/usr/bin/setpriv" in out and "/usr/bin/unshare" in out
    assert "rlm-mcp_Sandboxes.resources" in out and "0.1.0" in out and "no-swift" in out


def test_without_a_token_the_container_refuses_to_listen_on_all_interfaces(image):
    container = run_container({"MCP_PORT": str(free_port())}, [])
    try:
        deadline = time.monotonic() + 30
        while docker("inspect", "--format", "{{.State.Status}}", container).stdout.strip() != "exited" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert docker("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip() == "2"
        assert "refusing to listen on 0.0.0.0 without authentication" in docker("logs", container).stderr
    finally:
        docker("rm", "-f", container, check=False)


@pytest.mark.anyio
@pytest.mark.parametrize("isolated", [True, False], ids=["compose-security-options", "docker-defaults"])
async def test_container_becomes_healthy_and_serves_tools_with_a_token(image, isolated):
    port = free_port()
    token = secrets.token_urlsafe(24)
    container = run_container({"MCP_PORT": str(port), "MCP_AUTH_TOKEN": token}, SANDBOX_OPTS if isolated else [])
    try:
        state = wait_for_health(container)
        assert state == "running healthy", state + "\n" + docker("logs", container).stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200
        endpoint = f"http://127.0.0.1:{port}/mcp"
        unauthenticated = urllib.request.Request(endpoint, data=b"{}", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unauthenticated, timeout=5)
        assert refused.value.code == 401
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(endpoint, http_client=http), mode="legacy") as client:
            status = (await client.call_tool("rlm_status", {})).structured_content
            assert status["transport"] == "streamable-http"
            run = await client.call_tool("sandbox_exec", {"code": "import os\nprint(os.getuid(), os.getpid())\n6 * 7"})
            if isolated:
                assert not run.is_error, run.content
                assert "42" in run.structured_content["stdout"]
                status = (await client.call_tool("rlm_status", {})).structured_content
                assert status["sandbox"]["isolation"] == "bubblewrap"
            else:
                # Docker's default profiles forbid the namespaces: the server says so instead of running code unisolated.
                text = run.content[0].text
                assert run.is_error and "no sandbox isolation works" in text, text
        assert token not in docker("logs", container).stderr
    finally:
        docker("rm", "-f", container, check=False)
