"""The ways users run the server: .env.example, setup.sh, run_server.sh (stdio, --http, --docker, --deploy), `connect`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import BINARY, CANARY_TOKEN, REPO, server_env

ENV_EXAMPLE = REPO / ".env.example"
SETUP = REPO / "setup.sh"
RUN_SERVER = REPO / "run_server.sh"
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def variables_the_binary_reads() -> list[str]:
    result = subprocess.run([BINARY, "status", "--list-variables"], capture_output=True, text=True, timeout=30, env=server_env())
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    assert len(names) >= 25 and "MCP_AUTH_TOKEN" in names and "RLM_SANDBOX_ISOLATION" in names
    return names


def test_env_example_documents_exactly_the_variables_the_binary_reads():
    documented = ASSIGNMENT.findall(ENV_EXAMPLE.read_text())
    assert len(documented) == len(set(documented)), "a variable appears twice in .env.example"
    read = variables_the_binary_reads()
    assert sorted(set(read) - set(documented)) == [], "add these to .env.example"
    assert sorted(set(documented) - set(read)) == [], ".env.example documents variables the server does not read"


def test_env_example_parses_as_the_servers_own_dotenv_and_changes_no_default(tmp_path):
    # A fresh copy must be a valid .env.local whose only effect is leaving the credentials empty.
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env.local")
    result = subprocess.run([BINARY, "status", "--env-file", ".env.local"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                            env=server_env())
    assert result.returncode == 0, result.stderr
    assert ".env.local)" not in result.stdout


def test_readme_configuration_table_lists_every_variable():
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in variables_the_binary_reads() if f"`{name}`" not in table]
    assert missing == [], "add these to the README's Configuration table"


# ---- setup.sh ---------------------------------------------------------------------------------------------------------

def fake_tools(directory: Path, tools: dict[str, str], real: tuple[str, ...] = ("dirname", "sed", "head", "cp", "chmod", "cat", "mkdir", "uname")) -> str:
    """A PATH holding stand-in scripts for `tools` plus links to the real commands a script needs besides them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in real:
        target = shutil.which(name)
        assert target, name
        (directory / name).symlink_to(target)
    for name, body in tools.items():
        script = directory / name
        script.write_text("#!/bin/bash\n" + body)
        script.chmod(0o755)
    return str(directory)


def project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "scripts").mkdir()
    for name in ("setup.sh", "run_server.sh", ".env.example", "scripts/build-release.sh"):
        shutil.copy2(REPO / name, project / name)
    return project


def run_setup(project: Path, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(project / "setup.sh")], cwd=project, env={"PATH": path, "HOME": str(project)},
                          capture_output=True, text=True, timeout=60)


SWIFT_631 = 'echo "Swift version 6.3.1 (swift-6.3.1-RELEASE)"; echo "Target: x86_64-unknown-linux-gnu"\n'
PYTHON_311 = 'exec ' + os.path.realpath(sys.executable) + ' "$@"\n'


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ({}, "swift was not found on PATH. Install the Swift 6.2+ toolchain"),
        ({"swift": 'echo "Swift version 5.10 (swift-5.10-RELEASE)"\n'}, "Swift 5.10 is too old; rlm-mcp needs Swift 6.2 or newer"),
        ({"swift": SWIFT_631}, "python3 was not found on PATH. Install Python 3.10 or newer"),
        ({"swift": SWIFT_631, "python3": 'case "$1" in -V) echo "Python 3.8.10";; *) exit 1;; esac\n'},
         "Python 3.10 or newer is required (found Python 3.8.10)"),
    ],
)
def test_setup_stops_with_a_clear_message_when_a_tool_is_missing_or_old(tmp_path, tools, message):
    project = project_copy(tmp_path)
    result = run_setup(project, fake_tools(tmp_path / "bin", tools))
    assert result.returncode == 1
    assert message in result.stderr
    assert not (project / ".env.local").exists(), "nothing is set up when a check fails"


def test_setup_builds_the_release_binary_creates_env_local_once_and_prints_next_steps(tmp_path):
    # A stand-in swift records how it is called and produces the binary where `--show-bin-path` says; the real
    # release build is the same command (run by the Docker image's build stage and by run_server.sh). The static
    # Swift runtime is the default: nothing links FoundationNetworking, so it needs no libcurl development files.
    # (scripts/build-release.sh adds the layout flags after these; with no ld.lld on this PATH, only the portable ones)
    build = "build -c release --product rlm-mcp --static-swift-stdlib -Xlinker --no-export-dynamic -Xlinker --strip-all"
    project = project_copy(tmp_path)
    calls = tmp_path / "swift-calls"
    bin_dir = project / ".build" / "release"
    swift = f"""if [ "$1" = --version ]; then echo "Swift version 6.3.1 (swift-6.3.1-RELEASE)"; exit 0; fi
echo "$*" >> {calls}
case "$*" in
    *--show-bin-path*) echo {bin_dir} ;;
    "{build}"*) mkdir -p {bin_dir} && printf '#!/bin/sh\\n' > {bin_dir}/rlm-mcp && chmod +x {bin_dir}/rlm-mcp ;;
    *) echo "unexpected swift $*" >&2; exit 9 ;;
esac
"""
    path = fake_tools(tmp_path / "bin", {"swift": swift, "python3": PYTHON_311})
    first = run_setup(project, path)
    assert first.returncode == 0, first.stderr
    assert any(line.startswith(build) for line in calls.read_text().splitlines())
    env_local = project / ".env.local"
    assert env_local.read_text() == ENV_EXAMPLE.read_text()
    assert stat.S_IMODE(env_local.stat().st_mode) == 0o600
    assert "created .env.local" in first.stdout
    for step in ("Next steps:", "status", "run_server.sh --http", "run_server.sh --docker", "claude mcp add rlm-mcp -- "):
        assert step in first.stdout

    env_local.write_text("OPENAI_API_KEY=mine\n")
    second = run_setup(project, path)
    assert second.returncode == 0, second.stderr
    assert env_local.read_text() == "OPENAI_API_KEY=mine\n", "an existing .env.local is never overwritten"
    assert ".env.local exists; left as it is" in second.stdout


# ---- run_server.sh ----------------------------------------------------------------------------------------------------

def run_script(args: list[str], cwd: Path, env: dict[str, str] | None = None, script: Path = RUN_SERVER) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(script), *args], cwd=cwd, env=server_env({"RLM_MCP_BIN": BINARY, **(env or {})}),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def test_help_and_unknown_modes(tmp_path):
    help_text = run_script(["--help"], tmp_path)
    assert help_text.returncode == 0
    for mode in ("--stdio", "--http", "--docker", "--deploy"):
        assert mode in help_text.stdout
    for wrong in (["--htpp"], ["--port", "9000"], ["serve"]):
        result = run_script(wrong, tmp_path)
        assert result.returncode == 2
        assert f'unknown mode "{wrong[0]}"' in result.stderr and "usage: run_server.sh" in result.stderr
        assert result.stdout == ""


def test_a_missing_rlm_mcp_bin_is_named(tmp_path):
    result = run_script([], tmp_path, {"RLM_MCP_BIN": str(tmp_path / "nope")})
    assert result.returncode == 1 and f"RLM_MCP_BIN={tmp_path / 'nope'} is not an executable file" in result.stderr


@pytest.mark.anyio
async def test_stdio_from_another_directory_uses_the_projects_env_local_and_keeps_stdout_for_the_protocol(tmp_path):
    project = project_copy(tmp_path)
    # The project's own settings say HTTP; launched without a flag the script must still speak stdio.
    (project / ".env.local").write_text("RLM_MODEL=anthropic/model-from-project-env-local\nMCP_TRANSPORT=streamable-http\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env.local").write_text("RLM_MODEL=openai/model-from-the-wrong-directory\n")
    errors = tmp_path / "stderr.log"
    params = StdioServerParameters(command=str(project / "run_server.sh"), args=[], cwd=str(elsewhere),
                                   env=server_env({"RLM_MCP_BIN": BINARY}))
    with open(errors, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            assert client.server_info.name == "rlm-mcp"
            result = await client.call_tool("rlm_status", {})
    assert not result.is_error
    assert result.structured_content["transport"] == "stdio"
    assert result.structured_content["models"]["root"] == "anthropic/model-from-project-env-local"


def start_http(tmp_path: Path, env: dict[str, str], args: tuple[str, ...] = ()):
    project = project_copy(tmp_path)
    process = subprocess.Popen(["/bin/bash", str(project / "run_server.sh"), "--http", *args], cwd=tmp_path,
                               env=server_env({"RLM_MCP_BIN": BINARY, **env}), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "listening on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60) or process.poll() is not None:
        process.kill()
        raise AssertionError("run_server.sh --http did not start:\n" + "".join(lines))
    return process, lines


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.anyio
async def test_http_prints_the_url_and_claude_line_and_serves_health_and_mcp(tmp_path):
    port = free_port()
    process, lines = start_http(tmp_path, {"MCP_AUTH_TOKEN": CANARY_TOKEN}, ("--port", str(port)))
    try:
        output = "".join(lines)
        endpoint = f"http://127.0.0.1:{port}/mcp"
        assert f"MCP endpoint: {endpoint}" in output
        assert f"claude mcp add --transport http rlm-mcp {endpoint} --header 'Authorization: Bearer <MCP_AUTH_TOKEN>'" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert response.status == 200 and b'"status":"ok"' in response.read()
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {CANARY_TOKEN}"})
        async with Client(streamable_http_client(endpoint, http_client=http), mode="legacy") as client:
            status = (await client.call_tool("rlm_status", {})).structured_content
        assert status["transport"] == "streamable-http"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    # Not on a terminal, so the real token is never printed (this output could be a log).
    assert CANARY_TOKEN not in "".join(lines)


def test_http_shows_the_real_token_only_on_a_terminal(tmp_path):
    import pty
    import select
    import time

    project = project_copy(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child, on a terminal: exactly what a person typing ./run_server.sh --http gets
        os.chdir(tmp_path)
        os.execve("/bin/bash", ["bash", str(project / "run_server.sh"), "--http", "--port", str(free_port())],
                  server_env({"RLM_MCP_BIN": BINARY, "MCP_AUTH_TOKEN": CANARY_TOKEN}))
    output = b""
    deadline = time.monotonic() + 60
    try:
        while b"listening on" not in output and time.monotonic() < deadline:
            if select.select([fd], [], [], 1)[0]:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    break
    finally:
        os.killpg(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    assert f"--header 'Authorization: Bearer {CANARY_TOKEN}'" in output.decode(), output.decode()


def test_connect_command_for_each_configuration(tmp_path):
    def connect(*args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run([BINARY, "connect", *args], cwd=tmp_path, env=server_env(env), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout

    plain = connect("--transport", "streamable-http")
    assert "claude mcp add --transport http rlm-mcp http://127.0.0.1:8000/mcp\n" in plain and "--header" not in plain
    wildcard = connect("--transport", "sse", "--host", "0.0.0.0", "--port", "9001", env={"MCP_AUTH_TOKEN": CANARY_TOKEN})
    assert "MCP endpoint: http://127.0.0.1:9001/sse" in wildcard and "Health check: http://127.0.0.1:9001/health" in wildcard
    assert "--transport sse rlm-mcp http://127.0.0.1:9001/sse --header 'Authorization: Bearer <MCP_AUTH_TOKEN>'" in wildcard
    assert CANARY_TOKEN not in wildcard
    shown = connect("--transport", "streamable-http", "--host", "::1", "--show-token", env={"MCP_AUTH_TOKEN": CANARY_TOKEN})
    assert f"http://[::1]:8000/mcp --header 'Authorization: Bearer {CANARY_TOKEN}'" in shown
    assert "the port is chosen at start-up" in connect("--transport", "streamable-http", "--port", "0")
    assert f"claude mcp add rlm-mcp -- {BINARY} serve" in connect()


def test_docker_mode_without_an_engine_says_what_is_missing(tmp_path):
    # A PATH whose docker answers like a client with no engine behind it.
    docker = 'case "$1 $2" in "compose version") echo "Docker Compose version v2.29.7";; "info "*) echo "Cannot connect to the Docker daemon" >&2; exit 1;; *) exit 3;; esac\n'
    path = fake_tools(tmp_path / "bin", {"docker": docker}, real=("dirname", "sed", "cat"))
    project = project_copy(tmp_path)
    result = subprocess.run(["/bin/bash", str(project / "run_server.sh"), "--docker"], cwd=tmp_path,
                            env={"PATH": path}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no Docker engine answers (`docker info` failed)" in result.stderr
    assert not (project / ".env.local").exists()

    no_docker = subprocess.run(["/bin/bash", str(project / "run_server.sh"), "--docker"], cwd=tmp_path,
                               env={"PATH": fake_tools(tmp_path / "bin2", {}, real=("dirname",))}, capture_output=True, text=True, timeout=60)
    assert no_docker.returncode == 1 and "docker was not found on PATH" in no_docker.stderr


def test_docker_mode_generates_a_token_and_waits_for_healthy(tmp_path):
    # A stand-in docker that plays a healthy engine records what run_server.sh asks of it.
    log = tmp_path / "docker-calls"
    docker = f"""echo "$*" >> {log}
case "$*" in
    "compose version"|"info") exit 0 ;;
    *" up --build -d") exit 0 ;;
    *" ps -q rlm-mcp") echo c0ffee ;;
    "inspect "*) n=$(grep -c '^inspect' {log}); [ "$n" -ge 2 ] && echo healthy || echo starting ;;
    *) exit 3 ;;
esac
"""
    path = fake_tools(tmp_path / "bin", {"docker": docker, "python3": PYTHON_311}, real=("dirname", "sed", "cat", "cp", "chmod", "grep", "tail", "sleep"))
    project = project_copy(tmp_path)
    result = subprocess.run(["/bin/bash", str(project / "run_server.sh"), "--docker"], cwd=tmp_path,
                            env={"PATH": path}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    calls = log.read_text()
    assert f"compose -f {project}/deploy/compose.yaml up --build -d" in calls
    token = re.search(r"^MCP_AUTH_TOKEN=(\S{20,})$", (project / ".env.local").read_text(), re.MULTILINE)
    assert token, "a token was generated into .env.local"
    assert stat.S_IMODE((project / ".env.local").stat().st_mode) == 0o600
    assert "rlm-mcp is running in Docker and healthy." in result.stdout
    assert "claude mcp add --transport http rlm-mcp http://127.0.0.1:8000/mcp --header 'Authorization: Bearer <MCP_AUTH_TOKEN from .env.local>'" in result.stdout
    assert token.group(1) not in result.stdout + result.stderr

    # A token that is already there is kept.
    again = subprocess.run(["/bin/bash", str(project / "run_server.sh"), "--docker"], cwd=tmp_path,
                           env={"PATH": path}, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and token.group(0) in (project / ".env.local").read_text()


def test_deploy_mode_needs_the_deploy_command(tmp_path):
    listed = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout
    if re.search(r"^\s+deploy\b", listed, re.MULTILINE):
        result = run_script(["--deploy", "--help"], tmp_path)
        assert result.returncode == 0 and "rlm-mcp deploy" in result.stdout
    else:
        result = run_script(["--deploy"], tmp_path)
        assert result.returncode == 1
        assert "this rlm-mcp has no deploy command yet" in result.stderr
