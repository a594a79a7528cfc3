"""rlm_worker.py in stdio mode (how it runs on Daytona): frames on stdin/stdout, yet user output cannot reach them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).resolve().parents[2] / "Sources" / "Sandboxes" / "Resources" / "rlm_worker.py"


def run_frames(frames: list[dict], tmp_path: Path) -> list[dict]:
    data = "".join(json.dumps(frame) + "\n" for frame in frames)
    done = subprocess.run([sys.executable, "-I", "-S", "-B", str(WORKER), "--in-fd", "0", "--out-fd", "1", "--workdir", str(tmp_path)],
                          input=data, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    lines = [line for line in done.stdout.splitlines() if line]
    return [json.loads(line) for line in lines]


def test_frames_travel_on_stdio_and_user_writes_to_fds_stay_in_the_result(tmp_path):
    code = "import os, sys\nprint('printed')\nos.write(1, b'raw fd1\\n')\nos.write(2, b'raw fd2\\n')\nos.system('echo from-shell')\nsys.stdin.read()"
    frames = run_frames([{"op": "exec", "id": "e1", "code": code}, {"op": "exec", "id": "e2", "code": "x = 2\nx * 21"}], tmp_path)
    # Every line on stdout is a protocol frame: nothing the code wrote slipped in between.
    assert [frame.get("ev") for frame in frames] == ["ready", "result", "result"]
    first = frames[1]
    assert first["error"] is None, first
    assert "printed\n" in first["stdout"] and "raw fd1" in first["stdout"] and "raw fd2" in first["stdout"] and "from-shell" in first["stdout"]
    assert frames[2]["stdout"] == "42\n"


def test_sub_calls_are_answered_over_stdin(tmp_path):
    frames = run_frames([
        {"op": "exec", "id": "e1", "code": "print(llm_query('q'))"},
        {"op": "reply", "id": "q1", "result": "the answer"},
    ], tmp_path)
    assert [frame.get("ev") for frame in frames] == ["ready", "request", "result"]
    assert frames[1]["kind"] == "llm_query" and frames[1]["prompt"] == "q"
    assert frames[2]["stdout"] == "the answer\n"
