"""Conformance as judged by tools no one here wrote: mcpcheck (2026-07-28 over streamable HTTP, every check, every tool
probed, warnings count as failures) and mcp-conform (over stdio)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import BINARY, http_server

BIN = Path(sys.executable).parent


def test_mcpcheck_passes_every_check_with_no_warnings(tmp_path):
    with http_server(tmp_path) as server:
        run = subprocess.run([str(BIN / "mcpcheck"), server.endpoint, "--probe", "all", "--strict", "--json", "--no-color"],
                             capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    problems = [{"check": c["name"], "status": c["status"], "failures": c["failures"], "warnings": c["warnings"]}
                for c in report["checks"] if c["status"] != "pass" or c["failures"] or c["warnings"]]
    assert run.returncode == 0 and not problems, json.dumps(problems, indent=1)[:6000]
    assert report["summary"]["passed"] == report["summary"]["total"] == 8, report["summary"]


def test_mcp_conform_passes_every_check_over_stdio(tmp_path):
    command = f"{shlex.quote(BINARY)} serve"
    run = subprocess.run([str(BIN / "mcp-conform"), "server", "--transport", "stdio", "--command", command, "--format", "json"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    report = json.loads(run.stdout)
    failed = [check for check in report["checks"] if not check["passed"]]
    assert run.returncode == 0 and report["ok"] and not report["fatal_error"], json.dumps(failed or report, indent=1)[:6000]
    assert report["passed"] == report["total"] >= 42, (report["passed"], report["total"])
