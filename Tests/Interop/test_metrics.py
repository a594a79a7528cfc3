"""Prometheus metrics end to end: the real binary serving RLM runs over both protocol eras, `/metrics` read with the
official `prometheus_client` parser, and the counters checked against what the runs themselves report."""

from __future__ import annotations

import re
import time

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import CANARY_OPENAI_KEY, CANARY_TOKEN, MODERN, REPO, connection, control, fake_llm

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {CANARY_TOKEN}"}
SCRIPT = {
    "models": {"gpt-4o-mini": "sub"},
    "root": {"default": "```python\nanswer = llm_query('say yes')\nprint(answer)\nSUBMIT(answer=answer)\n```"},
    "sub": {"default": "yes"},
}


def scrape(url: str, headers: dict[str, str] | None = AUTH) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, by (sample name, labels)."""
    response = httpx2.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def get(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before, after, name: str, **labels: str) -> float:
    return get(after, name, **labels) - get(before, name, **labels)


async def run_once(conn, mode: str) -> dict:
    async with conn.client(mode) as client:
        result = await client.call_tool("rlm_execute", {"task": "Ask the sub model.", "context": "some text"})
        assert not result.is_error, result.content[0].text
        return result.structured_content


async def test_a_run_over_each_era_moves_the_right_counters_by_the_right_amounts(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "MCP_AUTH_TOKEN": CANARY_TOKEN}
        with connection("streamable-http", tmp_path, env, headers=AUTH) as conn:
            metrics_url = conn.server.base_url + "/metrics"
            # The scrape asks for the same bearer token as /mcp.
            assert httpx2.get(metrics_url).status_code == 401
            before = scrape(metrics_url)
            control(llm, "/_control/faults", [{"type": "429", "retry_after": 0}])
            outputs = [await run_once(conn, "legacy"), await run_once(conn, MODERN)]
            async with conn.client("legacy") as client:
                await client.list_tools()
                during = scrape(metrics_url)
            time.sleep(0.2)  # the session's close is processed after the client's DELETE returns
            after = scrape(metrics_url)
            log = conn.log()

    assert [o["status"] for o in outputs] == ["submitted", "submitted"], outputs
    assert moved(before, after, "rlm_tool_calls_total", tool="rlm_execute", outcome="succeeded") == 2
    assert moved(before, after, "rlm_tool_call_duration_seconds_count", tool="rlm_execute") == 2
    assert moved(before, after, "rlm_runs_total", tool="rlm_execute", status="submitted") == 2
    assert moved(before, after, "rlm_run_iterations_sum", tool="rlm_execute") == sum(o["iterations"] for o in outputs) == 2
    assert moved(before, after, "rlm_run_duration_seconds_count", tool="rlm_execute") == 2

    # Model calls: one root and one sub per run, tokens as the runs report them, and the one 429 retried.
    for model in ("openai/gpt-4o", "openai/gpt-4o-mini"):
        assert moved(before, after, "rlm_llm_requests_total", provider="openai", model=model, outcome="ok") == 2
        assert moved(before, after, "rlm_llm_request_duration_seconds_count", provider="openai", model=model) == 2
        for direction, key in (("input", "input_tokens"), ("output", "output_tokens")):
            expected = sum(o["usage"]["models"][model][key] for o in outputs)
            assert expected > 0
            assert moved(before, after, "rlm_llm_tokens_total", model=model, direction=direction) == expected
    assert moved(before, after, "rlm_llm_retries_total", provider="openai", reason="http_429") == 1
    # Both models have built-in prices: the cost counters move by what the runs report they spent.
    spent = sum(o["usage"]["cost_usd"] for o in outputs)
    counted = sum(moved(before, after, "rlm_llm_cost_usd_total", model=model) for model in ("openai/gpt-4o", "openai/gpt-4o-mini"))
    assert spent > 0 and abs(counted - spent) < 1e-9, (counted, spent)

    # Sandbox: one code block per run; workers and workspaces are gauges.
    assert moved(before, after, "rlm_sandbox_exec_duration_seconds_count", backend="local") == 2
    assert get(during, "rlm_sandbox_workers", backend="local") >= 1
    assert get(during, "rlm_sessions_open", era="handshake") == 1
    assert get(during, "rlm_workspaces_open") >= 1
    assert get(after, "rlm_sessions_open", era="handshake") == 0

    # HTTP requests by route pattern and status, the refused scrape included.
    assert moved(before, after, "rlm_http_requests_total", route="/metrics", status="401") == 0  # it preceded `before`
    assert get(after, "rlm_http_requests_total", route="/metrics", status="401") == 1
    assert moved(before, after, "rlm_http_requests_total", route="/mcp", status="200") >= 4
    assert get(after, "process_resident_memory_bytes") > 10_000_000
    assert get(after, "process_open_fds") > 3
    assert get(after, "process_cpu_seconds_total") > 0
    assert CANARY_TOKEN not in log and CANARY_OPENAI_KEY not in log

    # Every series the example Grafana dashboard queries is one the server exports.
    dashboard = (REPO / "deploy" / "grafana-dashboard.json").read_text()
    queried = {re.sub(r"_(bucket|count|sum)$", "", name) for name in re.findall(r"\b((?:rlm|process)_[a-z_]+)", dashboard)}
    exported = {re.sub(r"_(bucket|count|sum)$", "", name) for name, _ in after}
    assert queried - exported == set(), queried - exported


async def test_a_stdio_server_serves_metrics_on_a_loopback_port(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as llm:
        env = {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "RLM_METRICS_PORT": "0"}
        with connection("stdio", tmp_path, env) as conn:
            async with conn.client("legacy") as client:
                result = await client.call_tool("rlm_execute", {"task": "Ask the sub model.", "context": "x"})
                assert not result.is_error, result.content[0].text
                match = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", conn.log())
                assert match, conn.log()
                samples = scrape(match.group(1), headers=None)
                # A rebound name is refused here as on the HTTP transports.
                assert httpx2.get(match.group(1), headers={"Host": "evil.example"}).status_code == 403
    assert get(samples, "rlm_tool_calls_total", tool="rlm_execute", outcome="succeeded") == 1
    assert get(samples, "rlm_runs_total", tool="rlm_execute", status="submitted") == 1
    assert get(samples, "rlm_llm_requests_total", provider="openai", model="openai/gpt-4o-mini", outcome="ok") == 1
    assert get(samples, "rlm_sessions_open", era="handshake") == 1


def test_a_bad_metrics_port_is_refused_at_start_up(tmp_path):
    import subprocess

    from conftest import BINARY, server_env

    done = subprocess.run([BINARY, "serve"], env=server_env({"RLM_METRICS_PORT": "http"}), cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "RLM_METRICS_PORT" in done.stderr and "0" in done.stderr and "65535" in done.stderr, done.stderr
