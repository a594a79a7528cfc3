"""Tasks-extension state shared through PostgreSQL: two server processes on one throwaway database, as two replicas
behind a load balancer. A task started on A is polled and read on B; `tasks/cancel` sent to B stops the work on A."""

from __future__ import annotations

import time

from conftest import http_server
from test_modern_wire import HTTPWire, poll, request, response_of, tasks_meta
from test_postgres import database_url  # noqa: F401  (the module's throwaway cluster; skips without PostgreSQL)

ENV = {"RLM_DIAGNOSTIC_TOOLS": "1"}


def replicas(tmp_path, url: str):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {**ENV, "RLM_DATABASE_URL": url}
    return http_server(tmp_path / "a", env=env), http_server(tmp_path / "b", env=env)


def start_task(wire: HTTPWire, steps: int, interval_ms: int) -> str:
    body = request("tools/call", id="start", _meta=tasks_meta(), name="diagnostic_progress",
                   arguments={"steps": steps, "interval_ms": interval_ms})
    created = response_of(wire.send(body)[1])["result"]
    assert created["resultType"] == "task" and created["status"] == "working", created
    return created["taskId"]


def test_a_task_started_on_one_replica_is_polled_and_read_on_another(tmp_path, database_url):  # noqa: F811
    first, second = replicas(tmp_path, database_url)
    with first as a, second as b:
        on_a, on_b = HTTPWire(a.endpoint), HTTPWire(b.endpoint)
        task_id = start_task(on_a, steps=5, interval_ms=60)
        seen: list[str] = []
        done = poll(on_b, task_id, {"completed", "failed", "cancelled"}, seen)
        assert done["status"] == "completed", done
        assert done["result"]["structuredContent"] == {"steps_completed": 5, "progress_requested": True}
        assert any(message.startswith("step ") for message in seen), seen  # A's progress, read on B
        # The same answer on A, and an unknown task stays unknown on both.
        assert poll(on_a, task_id, {"completed"})["result"] == done["result"]
        for wire in (on_a, on_b):
            _, messages = wire.send(request("tasks/get", id="missing", _meta=tasks_meta(), taskId="task_unknown"))
            assert "not found" in response_of(messages)["error"]["message"]


def test_cancelling_on_one_replica_stops_the_work_on_the_replica_that_runs_it(tmp_path, database_url):  # noqa: F811
    first, second = replicas(tmp_path, database_url)
    with first as a, second as b:
        on_a, on_b = HTTPWire(a.endpoint), HTTPWire(b.endpoint)
        task_id = start_task(on_a, steps=1000, interval_ms=100)
        poll(on_b, task_id, {"working"})
        _, ack = on_b.send(request("tasks/cancel", id="cancel", _meta=tasks_meta(), taskId=task_id))
        assert "error" not in response_of(ack), ack
        assert poll(on_a, task_id, {"cancelled", "completed", "failed"})["status"] == "cancelled"
        # A noticed the request in the store and stopped the call (counted by its rlm_status), B never ran it.
        deadline = time.monotonic() + 15
        while True:
            _, status = on_a.send(request("tools/call", id=f"s{time.monotonic()}", name="rlm_status", arguments={}))
            activity = response_of(status)["result"]["structuredContent"]["activity"]
            if activity["calls_cancelled"] == 1:
                break
            assert time.monotonic() < deadline, activity
            time.sleep(0.1)
        assert activity["calls_in_flight"] == 1  # this rlm_status call only
        _, on_b_status = on_b.send(request("tools/call", id="sb", name="rlm_status", arguments={}))
        assert response_of(on_b_status)["result"]["structuredContent"]["activity"]["calls_cancelled"] == 0
