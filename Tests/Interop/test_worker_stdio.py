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


def test_a_fresh_worker_has_not_imported_json_re_or_ast(tmp_path):
    """What a worker imports is paid at every namespace start: the frames travel without `json` (and `re` under it)."""
    frames = run_frames([{"op": "exec", "id": "e1", "code": "import sys\nsorted(m for m in ('json', 're', 'ast', 'linecache', 'enum') if m in sys.modules)"}], tmp_path)
    assert frames[1]["stdout"] == "[]\n", frames[1]


def load_worker_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("rlm_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_workers_json_matches_the_json_module():
    worker = load_worker_module()
    values = [{"a": [1, 2.5, None, True, "é\u2028\ud800x", {"b": {}}], "c": 10**30}, "plain", 3, [], {1: 2, None: 3, 2.5: 1},
              float("inf"), -0.0, "\x00\x1f\"\\"]
    for value in values:
        assert worker.to_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")), value
        text = json.dumps(value)
        assert worker.from_json(" \n" + text + "\r\n") == json.loads(text)

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    try:
        worker.to_json({"x": Opaque()})
    except TypeError as error:
        assert "Opaque is not JSON serializable" in str(error)
    else:
        raise AssertionError("an object json cannot carry was accepted")
    assert worker.to_json({"x": Opaque()}, default=repr) == '{"x":"<opaque>"}'
    loop: list = []
    loop.append(loop)
    try:
        worker.to_json(loop)
    except ValueError:
        pass
    else:
        raise AssertionError("a circular list was accepted")
    assert worker.to_json([1]) == "[1]", "an encoder that failed is not reused"
    # Bad input gets the json module's own error.
    for bad in ["", "  ", "[1,", "{}x", "\ufeff{}", '"\x01"', "nul"]:
        try:
            worker.from_json(bad)
        except json.JSONDecodeError:
            pass
        else:
            raise AssertionError(f"accepted {bad!r}")
