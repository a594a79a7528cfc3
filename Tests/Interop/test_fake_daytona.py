"""The fake Daytona's wire format, proven with the official `daytona` Python SDK."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import conftest
import pytest
from daytona import CreateSandboxFromSnapshotParams, Daytona, DaytonaConfig, ListSandboxesQuery, SessionExecuteRequest

FAKE = Path(__file__).resolve().parents[2] / "scripts" / "fakes" / "fake_daytona.py"
KEY = "dtn-canary-key-0123456789abcdef"


@contextlib.contextmanager
def fake_daytona(*args: str):
    with conftest.loopback_fake(FAKE, "--api-key", KEY, *args) as url:
        yield url


def control(api_url: str, path: str, body=None):
    """The fake's /_control endpoints live beside its /api root."""
    return conftest.control(api_url.rsplit("/api", 1)[0], path, body)


def sdk(api_url: str, key: str = KEY) -> Daytona:
    # The fake has no Socket.IO event stream: the SDK's connection attempt fails and it polls the sandbox instead.
    return Daytona(DaytonaConfig(api_key=key, api_url=api_url, target="eu"))


def test_sdk_creates_runs_and_deletes_a_sandbox():
    with fake_daytona() as url:
        daytona = sdk(url)
        sandbox = daytona.create(CreateSandboxFromSnapshotParams(labels={"app": "rlm-mcp-sdk-test"}, auto_stop_interval=5, auto_delete_interval=0))
        assert sandbox.state == "started"
        assert sandbox.labels["app"] == "rlm-mcp-sdk-test"
        assert sandbox.target == "eu"

        response = sandbox.process.exec("echo hello; echo oops >&2; exit 3", timeout=10)
        assert response.exit_code == 3
        assert "hello" in response.result and "oops" in response.result

        listed = list(daytona.list(ListSandboxesQuery(labels={"app": "rlm-mcp-sdk-test"})))
        assert [s.id for s in listed] == [sandbox.id]

        sandbox.delete()
        assert list(daytona.list(ListSandboxesQuery(labels={"app": "rlm-mcp-sdk-test"}))) == []
        stats = control(url, "/_control/stats")
        assert stats["live"] == 0 and stats["unauthorized"] == 0
        log = control(url, "/_control/log")
        assert log and all(entry["auth"] for entry in log if not entry["route"].startswith("socket.io"))


def test_sdk_exec_timeout_is_an_error():
    with fake_daytona() as url:
        sandbox = sdk(url).create()
        with pytest.raises(Exception, match="timeout"):
            sandbox.process.exec("sleep 5", timeout=1)
        sandbox.delete()


def test_sdk_session_async_command_logs_stream_and_input():
    with fake_daytona() as url:
        sandbox = sdk(url).create()
        sandbox.process.create_session("worker")
        command = sandbox.process.execute_session_command(
            "worker", SessionExecuteRequest(command="read line; echo got:$line; echo done >&2", run_async=True, suppress_input_echo=True))
        assert command.cmd_id
        assert sandbox.process.get_session_command("worker", command.cmd_id).exit_code is None
        sandbox.process.send_session_command_input("worker", command.cmd_id, "ping\n")

        stdout: list[str] = []
        stderr: list[str] = []
        # The follow stream is a websocket carrying both streams behind the SDK's 3-byte markers.
        asyncio.run(sandbox.process.get_session_command_logs_async("worker", command.cmd_id, stdout.append, stderr.append))
        assert "".join(stdout) == "got:ping\n"
        assert "".join(stderr) == "done\n"

        logs = sandbox.process.get_session_command_logs("worker", command.cmd_id)
        assert logs.stdout == "got:ping\n" and logs.stderr == "done\n"
        deadline = time.time() + 5
        while sandbox.process.get_session_command("worker", command.cmd_id).exit_code is None and time.time() < deadline:
            time.sleep(0.05)
        assert sandbox.process.get_session_command("worker", command.cmd_id).exit_code == 0
        sandbox.process.delete_session("worker")
        sandbox.delete()


def test_sdk_files_upload_download_list_folder_delete():
    with fake_daytona() as url:
        sandbox = sdk(url).create()
        sandbox.fs.create_folder("data", "755")
        sandbox.fs.upload_file(b"a,b\n1,2\n", "data/table.csv")
        assert sandbox.fs.download_file("data/table.csv") == b"a,b\n1,2\n"
        entries = sandbox.fs.list_files("data")
        assert [(e.name, e.is_dir, e.size) for e in entries] == [("table.csv", False, 8)]
        sandbox.fs.delete_file("data", recursive=True)
        assert [e.name for e in sandbox.fs.list_files(".")] == []
        with pytest.raises(Exception):
            sandbox.fs.download_file("../../etc/passwd")
        sandbox.delete()


def test_sdk_sees_error_state_with_reason():
    with fake_daytona() as url:
        control(url, "/_control/faults", [{"type": "create_error", "reason": "no runner available"}])
        with pytest.raises(Exception, match="no runner available"):
            sdk(url).create(timeout=10)


def test_sdk_waits_for_a_slow_start():
    with fake_daytona() as url:
        control(url, "/_control/faults", [{"type": "slow_create", "delay_s": 0.5}])
        started = time.time()
        sandbox = sdk(url).create(timeout=10)
        assert sandbox.state == "started" and time.time() - started >= 0.5
        sandbox.delete()


def test_wrong_key_is_refused_and_counted():
    with fake_daytona() as url:
        with pytest.raises(Exception):
            sdk(url, key="wrong-key").create(timeout=5)
        assert control(url, "/_control/stats")["unauthorized"] >= 1
