"""The command line: configuration precedence and errors, status, version, and a clean stdout in stdio mode."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BINARY, CANARY_OPENAI_KEY, server_env


def run(args: list[str], cwd, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, *args], cwd=cwd, env=server_env(env), input=stdin, capture_output=True, text=True, timeout=60)


def status_value(output: str, variable: str) -> str:
    line = next(line for line in output.splitlines() if line.strip().startswith(variable + " "))
    return line.split(None, 1)[1].strip()


def test_version_and_help(tmp_path):
    assert run(["--version"], tmp_path).stdout.strip() == "0.1.0"
    help_text = run(["--help"], tmp_path).stdout
    assert "serve" in help_text and "status" in help_text


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ({"env": {"MCP_TRANSPORT": "foo"}}, 'MCP_TRANSPORT must be one of stdio, streamable-http, sse (got "foo")'),
        ({"args": ["--transport", "carrier-pigeon"]}, 'MCP_TRANSPORT must be one of stdio, streamable-http, sse (got "carrier-pigeon")'),
        ({"env": {"MCP_PORT": "99999"}}, 'MCP_PORT must be an integer from 0 to 65535 (got "99999")'),
        ({"env": {"RLM_MAX_ITERATIONS": "many"}}, "RLM_MAX_ITERATIONS must be an integer from 1 to 1000"),
        ({"env": {"RLM_LOG_LEVEL": "loud"}}, "RLM_LOG_LEVEL must be one of trace, debug, info, warning, error"),
        ({"env": {"OPENAI_BASE_URL": "localhost:11434"}}, "OPENAI_BASE_URL must be an absolute http:// or https:// URL"),
        ({"env": {"RLM_SANDBOX": "docker"}}, "RLM_SANDBOX must be one of auto, daytona, local"),
        ({"dotenv": "RLM_SANDBOX_MEMORY_MB=lots\n"}, "RLM_SANDBOX_MEMORY_MB must be an integer"),
        ({"dotenv": "this line is broken\n"}, ".env.local:1: expected KEY=value"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "status"])
def test_invalid_configuration_stops_with_exit_code_2_and_names_the_variable(tmp_path, how, message, command):
    args = list(how.get("args", []))
    if "dotenv" in how:
        (tmp_path / ".env.local").write_text(how["dotenv"])
        args += ["--env-file", ".env.local"]
    result = run([command, *args], tmp_path, how.get("env"))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_precedence_is_flags_then_environment_then_env_files_in_order_then_the_user_file(tmp_path):
    (tmp_path / ".env").write_text("MCP_PORT=1111\nMCP_HOST=10.0.0.1\nRLM_MODEL=from-env-file\nRLM_MAX_DEPTH=3\n")
    (tmp_path / ".env.local").write_text("MCP_PORT=2222\nMCP_HOST=10.0.0.2\nRLM_MODEL=from-env-local\n")
    user = tmp_path / "xdg" / "rlm-mcp"
    user.mkdir(parents=True)
    (user / "env").write_text("RLM_MAX_DEPTH=9\nRLM_MAX_ITERATIONS=7\n")
    result = run(["status", "--port", "4444", "--env-file", ".env.local", "--env-file", ".env"], tmp_path,
                 {"MCP_PORT": "3333", "RLM_MODEL": "anthropic/from-environment", "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert status_value(out, "MCP_PORT") == "4444   (flag)"
    assert status_value(out, "RLM_MODEL") == "anthropic/from-environment   (environment)"
    assert status_value(out, "MCP_HOST") == f"10.0.0.2   ({tmp_path / '.env.local'})"
    assert status_value(out, "RLM_MAX_DEPTH") == f"3   ({tmp_path / '.env'})"
    assert status_value(out, "RLM_MAX_ITERATIONS") == f"7   ({user / 'env'})"


def test_status_masks_secrets_and_reports_backend_and_credentials(tmp_path):
    result = run(["status"], tmp_path, {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "DAYTONA_API_KEY": "dtn-canary-key"})
    assert result.returncode == 0
    assert CANARY_OPENAI_KEY not in result.stdout + result.stderr
    assert "dtn-canary-key" not in result.stdout + result.stderr
    assert status_value(result.stdout, "OPENAI_API_KEY") == "set (hidden)   (environment)"
    assert "sandbox backend: daytona" in result.stdout
    assert "OpenAI credentials: present; Anthropic credentials: missing" in result.stdout
    assert "root model openai/gpt-4o: ready" in result.stdout


def test_status_says_what_to_set_without_credentials(tmp_path):
    result = run(["status"], tmp_path, {"RLM_MODEL": "anthropic/claude-sonnet-4-5"})
    assert "sandbox backend: local" in result.stdout
    assert "not configured" in result.stdout and "ANTHROPIC_API_KEY" in result.stdout


def test_stdio_stdout_carries_only_protocol_and_answers_everything_before_exiting(tmp_path):
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pipe", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "rlm_status", "arguments": {}}},
    ]
    result = run(["serve"], tmp_path, {"RLM_LOG_LEVEL": "debug"}, stdin="".join(json.dumps(r) + "\n" for r in requests))
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(m["id"] for m in messages) == [1, 2, 3]
    assert "serving MCP over stdio" in result.stderr  # logs go to stderr, never stdout
