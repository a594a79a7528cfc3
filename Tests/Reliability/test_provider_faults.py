"""A flaky model provider: 429 with Retry-After, 500/503, dropped connections, malformed and truncated bodies and
requests that never answer, at 30 % of requests. Every run answers or ends with a clear status; none hangs."""

from __future__ import annotations

import time

import anyio
import pytest

from conftest import interop, size
from measure import percentiles

pytestmark = pytest.mark.anyio

RUNS = size(12, 60)
FAULTS = [{"type": "429", "retry_after": 0}, {"type": "500"}, {"type": "503"}, {"type": "drop"},
          {"type": "malformed"}, {"type": "truncated"}, {"type": "slow", "delay_s": 30}]
CLEAR_STATUSES = {"submitted", "fallback", "budget_exceeded", "error"}


async def test_runs_survive_a_provider_failing_thirty_percent_of_requests(tmp_path, figures):
    reply = "```python\nn = context.count('NEEDLE')\nverdict = llm_query('ok?')\nSUBMIT(answer=n)\n```"
    script = {"models": {"gpt-4o-mini": "sub"}, "root": {"default": reply}, "sub": {"default": "yes"},
              "fault_rate": {"rate": 0.3, "types": FAULTS, "seed": 7}}
    with interop.fake_llm(script, tmp_path) as llm:
        # A request that never answers is ended by the run's wall clock, not by a 300 s transport timeout.
        env = {"OPENAI_API_KEY": interop.CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_TIMEOUT_S": "20"}
        with interop.connection("streamable-http", tmp_path, env) as conn:
            outcomes: dict[str, int] = {}
            durations: list[float] = []
            unclear: list[str] = []

            async def one(index: int) -> None:
                async with conn.client("legacy") as client:
                    started = time.monotonic()
                    with anyio.fail_after(60):  # a hang fails the test
                        result = await client.call_tool("rlm_execute", {"task": "count", "context": "NEEDLE " * (index + 1)})
                    durations.append(time.monotonic() - started)
                    out = result.structured_content or {}
                    status = "isError" if result.is_error else out.get("status", "?")
                    outcomes[status] = outcomes.get(status, 0) + 1
                    if status not in CLEAR_STATUSES or (status != "submitted" and not out.get("message")):
                        unclear.append(f"{status}: {result.content[0].text[:200]}")
                    elif status == "submitted" and out.get("answer") != index + 1:
                        unclear.append(f"wrong answer {out.get('answer')} for {index + 1}")

            async with anyio.create_task_group() as group:
                for index in range(RUNS):
                    group.start_soon(one, index)
            stats = interop.control(llm, "/_control/stats")
    figures.add("provider faults", "runs", RUNS)
    figures.add("provider faults", "outcomes", outcomes)
    figures.add("provider faults", "run durations", percentiles(durations))
    figures.add("provider faults", "provider requests", stats.get("requests"))
    assert unclear == [], unclear
    assert sum(outcomes.values()) == RUNS
    assert outcomes.get("submitted", 0) >= RUNS // 2, outcomes
