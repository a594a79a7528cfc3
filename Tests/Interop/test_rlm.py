"""RLM runs end to end: the real binary, the official MCP client (and `rlm-mcp run`), the scripted fake LLM."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import anyio
import pytest

from conftest import BINARY, CANARY_OPENAI_KEY, TRANSPORTS, connection, control, fake_llm, server_env

pytestmark = pytest.mark.anyio

SUB_MODELS = {"gpt-4o-mini": "sub"}


def py(code: str) -> str:
    """A root-model reply that runs `code`."""
    return f"Next step.\n```python\n{code}\n```"


def needle_context() -> str:
    """About 25 KB of text with the word NEEDLE on 13 of its 400 lines."""
    lines = [f"record {i:04d}: the quick brown fox jumps over the lazy dog {'NEEDLE' if i % 31 == 5 else 'hay'}" for i in range(400)]
    return "\n".join(lines)


NEEDLES = sum(1 for i in range(400) if i % 31 == 5)


def llm_env(url: str, **extra: str) -> dict[str, str]:
    return {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": CANARY_OPENAI_KEY, **extra}


@contextlib.contextmanager
def rlm_server(tmp_path: Path, script: dict, transport: str = "stdio", **env: str):
    """A fake LLM scripted with `script` and a server on `transport` that uses it; yields (connection, fake url)."""
    with fake_llm({"models": SUB_MODELS, **script}, tmp_path) as url:
        with connection(transport, tmp_path, llm_env(url, **env)) as conn:
            yield conn, url


async def run(client, tool: str = "rlm_execute", **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


NEEDLE_SCRIPT = {
    "root": {"replies": [
        py("print(type(context).__name__, len(context))\nhits = [l for l in context.splitlines() if 'NEEDLE' in l]\n"
           "verdict = llm_query('Is this a needle line? ' + hits[0])\nprint(len(hits), verdict)"),
        py("SUBMIT(answer=len(hits), check=verdict)"),
    ]},
    "sub": {"default": "yes"},
}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_needle_count_with_one_sub_call(tmp_path, transport):
    with rlm_server(tmp_path, NEEDLE_SCRIPT, transport) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="How many lines contain NEEDLE?", context=needle_context(), include_trajectory=True)
            left = await run(client, "sandbox_files", recursive=True)
        log = control(url, "/_control/log")
        server_log = conn.log()
    assert out["status"] == "submitted" and out["answer"] == NEEDLES, out
    assert out["submitted"] == {"answer": NEEDLES, "check": "yes"}
    assert out["iterations"] == 2 and out["llm_calls"] == 3
    assert out["usage"]["models"]["openai/gpt-4o"]["calls"] == 2 and out["usage"]["models"]["openai/gpt-4o-mini"]["calls"] == 1
    first = out["trajectory"][0]["blocks"][0]
    assert first["stdout"].startswith(f"str {len(needle_context())}\n{NEEDLES} yes")
    assert first["sub_calls"][0]["kind"] == "llm_query" and first["sub_calls"][0]["model"] == "openai/gpt-4o-mini"
    # The context reached the sandbox as a variable, never a prompt: no request carried more than its preview.
    assert [entry["role"] for entry in log] == ["root", "sub", "root"]
    root_prompt = json.dumps(log[0]["body"])
    assert "record 0000" in root_prompt and "record 0400" not in root_prompt
    assert "26" not in out["run_id"] or out["run_id"].startswith("run_")
    assert CANARY_OPENAI_KEY not in json.dumps(out) and CANARY_OPENAI_KEY not in server_log
    # The context's uploaded copy is gone once the run ended.
    assert not [e["path"] for e in left["entries"] if not e["is_dir"]], left


async def test_map_reduce_with_batched_sub_calls_runs_them_in_parallel(tmp_path):
    script = {
        "root": {"replies": [
            py("size = -(-len(context) // 20)\nchunks = [context[i:i + size] for i in range(0, len(context), size)]\nprint(len(chunks))\n"
               "counts = llm_query_batched(['How many NEEDLE lines? ' + c for c in chunks])\ntotal = sum(int(c) for c in counts)\nprint(total)"),
            py("SUBMIT(answer=total)"),
        ]},
        "sub": {"default": {"text": "1", "delay_s": 0.3}},
    }
    context = needle_context()
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="Count NEEDLE lines, chunk by chunk", context=context, include_trajectory=True)
        stats = control(url, "/_control/stats")
    assert 24_000 <= len(context) <= 26_000
    assert out["trajectory"][0]["blocks"][0]["stdout"].startswith("20\n")
    assert out["answer"] == 20 and out["llm_calls"] == 22
    assert len(out["trajectory"][0]["blocks"][0]["sub_calls"]) == 20
    assert stats["max_in_flight"] >= 8, stats  # the batch went out concurrently, not one by one


async def test_recursion_to_depth_two_then_degrades_to_llm_query(tmp_path):
    script = {
        "root": {"replies": [py("r = rlm_query('inner task', context='abc')\nSUBMIT(answer=r)")]},
        "sub": {"replies": [
            py("r2 = rlm_query('innermost task', context=context * 2)\nSUBMIT(answer='child:' + r2)"),
            py("x = rlm_query('leaf question', context=context)\nSUBMIT(answer='grand:' + context + ':' + x)"),
            "leaf-answer",
        ]},
    }
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="recurse", max_depth=2, include_trajectory=True)
        log = control(url, "/_control/log")
    assert out["answer"] == "child:grand:abcabc:leaf-answer", out
    call = out["trajectory"][0]["blocks"][0]["sub_calls"][0]
    assert call["kind"] == "rlm_query" and call["child_status"] == "submitted" and call["child_run_id"].startswith("run_")
    # Root, child and grandchild each asked once; the grandchild's rlm_query was a plain sub-call (no system prompt).
    assert [entry["role"] for entry in log] == ["root", "sub", "sub", "sub"]
    assert "leaf question" in json.dumps(log[3]["body"]) and "Recursive Language Model" not in json.dumps(log[3]["body"])


async def test_code_that_raises_is_shown_the_traceback_and_fixed(tmp_path):
    script = {"root": {"replies": [py("values = [3, 0]\nratio = values[0] / values[1]"), py("ratio = values[0] / 1\nSUBMIT(answer=ratio)")]}}
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="divide", include_trajectory=True)
        log = control(url, "/_control/log")
    assert out["status"] == "submitted" and out["answer"] == 3.0
    assert "ZeroDivisionError" in out["trajectory"][0]["blocks"][0]["error"]
    second_prompt = log[1]["body"]["messages"][-1]["content"]
    assert "ZeroDivisionError: division by zero" in second_prompt and "ratio = values[0] / values[1]" in second_prompt


async def test_out_of_iterations_gives_the_fallback_answer(tmp_path):
    script = {"root": {"replies": [py("print('looking')"), py("print('still looking')"), "My best guess is 7."]}}
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="guess", max_iterations=2)
        log = control(url, "/_control/log")
    assert out["status"] == "fallback" and out["answer"] == "My best guess is 7." and out["iterations"] == 2
    assert "used all 2 iterations" in log[-1]["body"]["messages"][-1]["content"]


@pytest.mark.parametrize("budget, expected", [
    ({"max_llm_calls": 2}, "max_llm_calls=2 reached"),
    ({"max_total_tokens": 50}, "max_total_tokens=50 reached"),
    ({"timeout_s": 2}, "timeout_s=2 reached"),
])
async def test_a_spent_budget_ends_the_run_with_a_clear_status(tmp_path, budget, expected):
    script = {"root": {"default": py("import time\ntime.sleep(0.8)\nprint('working')")}}
    with rlm_server(tmp_path, script) as (conn, _):
        async with conn.client() as client:
            out = await run(client, task="never finishes", max_iterations=50, **budget)
            # The run's worker is gone; the session keeps serving.
            status = (await client.call_tool("rlm_status", {})).structured_content
    assert out["status"] == "budget_exceeded" and expected in out["message"], out
    assert out["answer"] is None
    assert not [name for name in status["sandbox"].get("namespaces", []) if name.startswith("rlm:")]


async def test_oversized_sub_prompt_is_refused_with_advice(tmp_path):
    script = {"root": {"replies": [py("try:\n    llm_query(context)\nexcept RuntimeError as error:\n    SUBMIT(answer=str(error))")]}}
    with rlm_server(tmp_path, script, RLM_SUB_CONTEXT_TOKENS="5000") as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="read it all", context=needle_context())
        log = control(url, "/_control/log")
    assert "more than openai/gpt-4o-mini can take" in out["answer"] and "split it into chunks" in out["answer"]
    assert [entry["role"] for entry in log] == ["root"]  # the provider never saw the oversized prompt


async def test_rlm_code_iterates_until_its_tests_pass(tmp_path):
    wrong = py("src = 'def add(a, b):\\n    return a - b\\n'\nSUBMIT(code=src)")
    right = py("src = 'def add(a, b):\\n    return a + b\\n'\nSUBMIT(code=src)")
    tests = "assert add(2, 3) == 5\n\ndef test_negative():\n    assert add(-1, 1) == 0\n"
    with rlm_server(tmp_path, {"root": {"replies": [wrong, right]}}) as (conn, url):
        async with conn.client() as client:
            out = await run(client, "rlm_code", task="Write add(a, b) returning the sum", tests=tests)
            written = await run(client, "sandbox_download", path=out["path"])
        log = control(url, "/_control/log")
    assert out["status"] == "submitted" and out["passed"] is True and out["iterations"] == 2
    assert "return a + b" in out["code"] and written["content"] == out["code"]
    assert "1 passed, 0 failed" in out["test_output"]
    assert "The tests failed" in log[1]["body"]["messages"][-1]["content"]


async def test_rlm_code_reports_failure_honestly_when_it_never_passes(tmp_path):
    wrong = py("SUBMIT(code='def add(a, b):\\n    return 0\\n')")
    with rlm_server(tmp_path, {"root": {"replies": [wrong, wrong, "I could not make it pass."]}}) as (conn, _):
        async with conn.client() as client:
            out = await run(client, "rlm_code", task="add", tests="assert add(1, 1) == 2", max_iterations=2)
    assert out["status"] == "fallback" and out["passed"] is False and out["path"] is None
    assert "return 0" in out["code"] and "AssertionError" in out["test_output"]


async def test_rlm_decompose_solves_subtasks_concurrently_and_combines_them(tmp_path):
    script = {
        "root": {"replies": ['["Count alpha in the context", "Count beta in the context", "Count gamma in the context"]',
                             "Combined: {{prompt}}"]},
        "sub": {"rules": [
            {"contains": f"Count {word}", "reply": {"text": py(f"SUBMIT(answer=context.count('{word}'))"), "delay_s": 0.5}}
            for word in ("alpha", "beta", "gamma")
        ]},
    }
    context = "alpha " * 3 + "beta " * 5 + "gamma " * 7
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, "rlm_decompose", task="Count each Greek letter", context=context, max_subtasks=3)
        stats = control(url, "/_control/stats")
    assert [(s["task"].split()[1], s["answer"], s["status"]) for s in out["subtasks"]] == [
        ("alpha", 3, "submitted"), ("beta", 5, "submitted"), ("gamma", 7, "submitted")]
    assert out["status"] == "submitted" and "Answer: 3" in out["answer"] and "Answer: 7" in out["answer"]
    assert stats["max_in_flight"] >= 2, stats
    assert out["llm_calls"] == 5


async def test_progress_and_cancellation_mid_run(tmp_path):
    script = {"root": {"replies": [py("import time\ntime.sleep(120)")]}}
    messages: list[str] = []
    running = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        if "running code" in (message or ""):
            running.set()

    with rlm_server(tmp_path, script) as (conn, _):
        async with conn.client() as client:
            async with anyio.create_task_group() as group:
                async def long_run() -> None:
                    await client.call_tool("rlm_execute", {"task": "sleep"}, progress_callback=on_progress)

                group.start_soon(long_run)
                with anyio.fail_after(20):
                    await running.wait()
                # The code runs in a namespace of its own, and rlm_status counts the run.
                with anyio.fail_after(10):
                    while True:
                        status = (await client.call_tool("rlm_status", {})).structured_content
                        if [n for n in status["sandbox"]["namespaces"] if n.startswith("rlm:")]:
                            break
                        await anyio.sleep(0.05)
                assert status["activity"]["runs_in_flight"] == 1 and status["activity"]["runs_total"] == 1
                group.cancel_scope.cancel()
            with anyio.fail_after(10):
                while True:
                    status = (await client.call_tool("rlm_status", {})).structured_content
                    if status["activity"]["calls_cancelled"] == 1 and status["activity"]["runs_in_flight"] == 0 \
                            and not [n for n in status["sandbox"]["namespaces"] if n.startswith("rlm:")]:
                        break
                    await anyio.sleep(0.05)
            ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            # The server still serves tools after the cancelled run.
            again = await client.call_tool("sandbox_exec", {"code": "print(6 * 7)"})
    assert messages[:2] == ["iteration 1/15: asking the root model", "iteration 1/15: running code"]
    assert "time.sleep(120)" not in ps
    assert again.structured_content["stdout"] == "42\n"


async def test_api_keys_never_reach_the_sandbox_or_the_trajectory(tmp_path):
    script = {"root": {"replies": [py(
        "import os\nenv = dict(os.environ)\ntry:\n    env_file = open('/proc/1/environ').read()\nexcept OSError:\n    env_file = ''\n"
        "SUBMIT(answer=sorted(env), raw=repr(env) + env_file)")]}}
    with rlm_server(tmp_path, script, ANTHROPIC_API_KEY="sk-ant-canary-0123456789") as (conn, _):
        async with conn.client() as client:
            result = await client.call_tool("rlm_execute", {"task": "show env", "include_trajectory": True})
        log = conn.log()
    dumped = json.dumps(result.structured_content) + result.content[0].text + log
    assert not result.is_error
    for secret in (CANARY_OPENAI_KEY, "sk-ant-canary-0123456789"):
        assert secret not in dumped
    assert not [name for name in result.structured_content["answer"] if "KEY" in name or "TOKEN" in name]


async def test_without_credentials_the_rlm_tools_say_what_to_set(tmp_path):
    with connection("stdio", tmp_path, {}) as conn:
        async with conn.client() as client:
            for tool, arguments in [("rlm_execute", {"task": "x"}), ("rlm_analyze", {"question": "x", "data": "a,b"}),
                                    ("rlm_code", {"task": "x"}), ("rlm_decompose", {"task": "x"})]:
                result = await client.call_tool(tool, arguments)
                assert result.is_error, tool
                assert "OPENAI_API_KEY" in result.content[0].text and "OPENAI_BASE_URL" in result.content[0].text


@pytest.mark.parametrize("arguments, message", [
    ({"task": "x", "context": "a", "context_path": "f.txt"}, 'give either "context" or "context_path", not both'),
    ({"task": "x", "context_path": "missing.txt"}, "missing.txt does not exist in the sandbox"),
    ({"task": "x", "max_iterations": 0}, '"max_iterations" must be at least 1'),
    ({"task": ""}, '"task"'),
])
async def test_bad_run_arguments_get_clear_errors(tmp_path, arguments, message):
    script = {"root": {"default": py("SUBMIT(answer=1)")}}
    with rlm_server(tmp_path, script) as (conn, _):
        async with conn.client() as client:
            result = await client.call_tool("rlm_execute", arguments)
    text = result.content[0].text if result.is_error else json.dumps(result.structured_content)
    assert message in text, text


async def test_rlm_analyze_reads_csv_data_from_a_sandbox_file(tmp_path):
    script = {"root": {"replies": [py(
        "import csv, io\nrows = list(csv.DictReader(io.StringIO(context)))\nSUBMIT(answer=sum(int(r['qty']) for r in rows))")]}}
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            await run(client, "sandbox_upload", path="sales.csv", content="item,qty\napple,3\npear,4\n")
            out = await run(client, "rlm_analyze", question="How many items were sold?", data_path="sales.csv")
        log = control(url, "/_control/log")
    assert out["answer"] == 7
    assert "format: csv" in log[0]["body"]["messages"][0]["content"]


def cli(tmp_path: Path, url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, "run", *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=server_env(env if env is not None else llm_env(url)))


def test_rlm_mcp_run_answers_from_the_shell(tmp_path):
    with fake_llm({"models": SUB_MODELS, **NEEDLE_SCRIPT}, tmp_path) as url:
        plain = cli(tmp_path, url, "--task", "How many NEEDLE lines?", "--context-file", "-", stdin=needle_context())
        control(url, "/_control/script", {"models": SUB_MODELS, **NEEDLE_SCRIPT})
        (tmp_path / "ctx.txt").write_text(needle_context())
        full = cli(tmp_path, url, "--task", "How many NEEDLE lines?", "--context-file", str(tmp_path / "ctx.txt"), "--json")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == f"{NEEDLES}\n"
    assert "iteration" not in plain.stderr  # progress lines only when stderr is a terminal
    result = json.loads(full.stdout)
    assert result["status"] == "submitted" and result["answer"] == NEEDLES and len(result["trajectory"]) == 2
    assert result["usage"]["total_tokens"] > 0 and CANARY_OPENAI_KEY not in full.stdout + full.stderr


def test_rlm_mcp_run_exit_codes(tmp_path):
    no_llm = cli(tmp_path, "", "--task", "x", env={})
    assert no_llm.returncode == 2 and "OPENAI_API_KEY" in no_llm.stderr
    with fake_llm({"models": SUB_MODELS, "root": {"default": py("print(1)")}}, tmp_path) as url:
        missing = cli(tmp_path, url, "--task", "x", "--context-file", str(tmp_path / "nope.txt"))
        spent = cli(tmp_path, url, "--task", "x", "--max-iterations", "1", env=llm_env(url, RLM_MAX_LLM_CALLS="1"))
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    assert spent.returncode == 1 and "budget_exceeded" in spent.stderr and "max_llm_calls=1" in spent.stderr


async def test_code_that_kills_its_worker_continues_in_a_fresh_one_with_the_context(tmp_path):
    script = {"root": {"replies": [py("keep = 1\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
                                   py("SUBMIT(answer=[len(context), 'keep' in globals()])")]}}
    with rlm_server(tmp_path, script) as (conn, url):
        async with conn.client() as client:
            out = await run(client, task="crash, then measure", context="twelve chars", include_trajectory=True)
        log = control(url, "/_control/log")
    assert out["status"] == "submitted" and out["answer"] == [12, False], out
    assert out["trajectory"][0]["blocks"][0]["error"].startswith("WorkerDied: ")
    assert "your variables are gone" in log[1]["body"]["messages"][-1]["content"]


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
def test_rlm_execute_is_a_task_for_modern_clients_that_declare_the_extension(tmp_path, kind):
    from test_modern_wire import poll, request, response_of, tasks_meta, wire_for

    script = {"models": SUB_MODELS, **NEEDLE_SCRIPT}
    script["root"] = {"replies": [{"text": NEEDLE_SCRIPT["root"]["replies"][0], "delay_s": 0.3}, *NEEDLE_SCRIPT["root"]["replies"][1:]]}
    with fake_llm(script, tmp_path) as url, wire_for(kind, tmp_path, llm_env(url)) as wire:
        body = request("tools/call", id="t1", _meta=tasks_meta(), name="rlm_execute",
                       arguments={"task": "How many NEEDLE lines?", "context": needle_context()})
        created = response_of(wire.send(body)[1])["result"]
        assert created["resultType"] == "task" and created["status"] == "working"
        seen: list[str] = []
        done = poll(wire, created["taskId"], {"completed", "failed", "cancelled"}, seen)
    assert done["status"] == "completed", done
    out = done["result"]["structuredContent"]
    assert out["answer"] == NEEDLES and out["status"] == "submitted" and out["workspace"].startswith("ws_")
    assert any(message.startswith("iteration 1/15") for message in seen), seen
