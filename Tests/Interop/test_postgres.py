"""Run history in PostgreSQL (RLM_DATABASE_URL) against a real server: a throwaway cluster (initdb in a temp folder,
a Unix socket only; as root the server runs as `postgres`, which PostgreSQL requires). Two rlm-mcp processes pointed
at one database see each other's runs; the viewer of one shows a run another recorded."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import BINARY, CANARY_OPENAI_KEY, CANARY_TOKEN, fake_llm, http_server, server_env

BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)
if not (BIN and os.path.exists(f"{BIN}/initdb")) and not os.environ.get("CI"):
    pytest.skip("PostgreSQL is not installed (apt-get install postgresql)", allow_module_level=True)

SCRIPT = {"models": {"gpt-4o-mini": "sub"}, "root": {"replies": ["```python\nSUBMIT(answer='done')\n```"] * 4}}


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def database_url():
    folder = tempfile.mkdtemp(prefix="rlm-pg-", dir="/tmp")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = 40000 + uuid.uuid4().int % 20000
    subprocess.run(as_postgres(f"{BIN}/initdb", "-D", f"{folder}/data", "-U", "rlm", "--auth=trust", "--no-sync"), check=True,
                   capture_output=True, cwd="/tmp")
    subprocess.run(as_postgres(f"{BIN}/pg_ctl", "-D", f"{folder}/data", "-l", f"{folder}/log", "-w", "-o",
                               f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off", "start"), check=True, capture_output=True, cwd="/tmp")
    try:
        subprocess.run(as_postgres(f"{BIN}/createdb", "-h", folder, "-p", str(port), "-U", "rlm", "history"), check=True,
                       capture_output=True, cwd="/tmp")
        yield f"postgres://rlm:unused-password@localhost:{port}/history?host={folder}&sslmode=disable"
    finally:
        subprocess.run(as_postgres(f"{BIN}/pg_ctl", "-D", f"{folder}/data", "-m", "immediate", "stop"), capture_output=True, cwd="/tmp")
        shutil.rmtree(folder, ignore_errors=True)


def run_task(tmp_path: Path, llm: str, url: str, task: str) -> None:
    env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATABASE_URL": url,
           "RLM_DATA_DIR": str(tmp_path / f"unused-{task}")}
    result = subprocess.run([BINARY, "run", "--task", task], cwd=tmp_path, env=server_env(env), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def list_runs(url: str) -> list[dict]:
    result = subprocess.run([BINARY, "runs", "list", "--json"], env=server_env({"RLM_DATABASE_URL": url}), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_two_processes_share_runs_through_one_database(tmp_path, database_url):
    with fake_llm(SCRIPT, tmp_path) as llm:
        run_task(tmp_path, llm, database_url, "task from process A")
        run_task(tmp_path, llm, database_url, "task from process B")
    runs = list_runs(database_url)
    assert sorted(r["task"] for r in runs) == ["task from process A", "task from process B"]
    assert all(r["status"] == "submitted" for r in runs)
    # No SQLite file was written: PostgreSQL replaced it.
    assert not list(tmp_path.glob("unused-*/history.sqlite"))
    shown = subprocess.run([BINARY, "runs", "show", runs[0]["run_id"], "--json"], env=server_env({"RLM_DATABASE_URL": database_url}),
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and json.loads(shown.stdout)["steps"], shown.stderr


def test_the_http_servers_viewer_shows_runs_another_process_recorded_behind_the_token(tmp_path, database_url):
    with fake_llm(SCRIPT, tmp_path) as llm:
        run_task(tmp_path, llm, database_url, "recorded elsewhere")
    env = {"RLM_DATABASE_URL": database_url, "MCP_AUTH_TOKEN": CANARY_TOKEN}
    with http_server(tmp_path, env=env) as server:
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(server.base_url + "/runs")
        assert refused.value.code == 303 and refused.value.headers["Location"] == "/runs/login"
        request = urllib.request.Request(server.base_url + "/runs?q=elsewhere", headers={"Authorization": f"Bearer {CANARY_TOKEN}"})
        page = opener.open(request).read().decode()
        assert "recorded elsewhere" in page
        foreign = urllib.request.Request(server.base_url + "/runs", headers={"Authorization": f"Bearer {CANARY_TOKEN}",
                                                                              "Origin": "http://evil.example"})
        with pytest.raises(urllib.error.HTTPError) as forbidden:
            opener.open(foreign)
        assert forbidden.value.code == 403
    assert "unused-password" not in server.log


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_process_killed_mid_run_leaves_its_run_interrupted_for_the_next_one(tmp_path, database_url):
    slow = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": "```python\nimport time\ntime.sleep(0.5)\nprint('step')\n```"}}
    with fake_llm(slow, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_DATABASE_URL": database_url}
        process = subprocess.Popen([BINARY, "run", "--task", "killed midway", "--max-iterations", "50"], cwd=tmp_path,
                                   env=server_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                mine = [r for r in list_runs(database_url) if r["task"] == "killed midway"]
                if mine and mine[0]["iterations"] == 0 and mine[0]["status"] == "running":
                    shown = subprocess.run([BINARY, "runs", "show", mine[0]["run_id"], "--json"], capture_output=True, text=True,
                                           env=server_env({"RLM_DATABASE_URL": database_url}), timeout=60)
                    if json.loads(shown.stdout)["steps"]:
                        break
                process.poll()
                assert process.returncode is None, "the run ended before it could be killed"
                time.sleep(0.1)
        finally:
            process.kill()
            process.wait()
    [run] = [r for r in list_runs(database_url) if r["task"] == "killed midway"]
    assert run["status"] == "interrupted"
