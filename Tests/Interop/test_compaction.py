"""Root-history compaction end to end: long scripted runs under a small root window, read back from the fake LLM's log."""

from __future__ import annotations

import json
import math

import pytest

from conftest import CANARY_OPENAI_KEY, connection, control, fake_llm

pytestmark = pytest.mark.anyio

WINDOW = 12_000
THRESHOLD = 0.85
SUMMARY = "Each step printed 15,000 filler characters; nothing failed; `secret` holds the answer."


def py(code: str) -> str:
    return f"Next step.\n```python\n{code}\n```"


def long_run_replies(iterations: int = 13, chars: int = 15_000) -> list[str]:
    """Sets `secret` in the first iteration, prints `chars` characters in each, submits `secret` in the last."""
    first = py(f"secret = 'ANSWER-' + str(6 * 7)\nprint(('iteration 1 ' + 'lorem ipsum dolor sit amet ' * 1000)[:{chars}])")
    middle = [py(f"print(('iteration {i} ' + 'abcdefghij ' * 2000)[:{chars}])") for i in range(2, iterations)]
    return [first, *middle, py("SUBMIT(answer=secret)")]


def request_text(entry: dict) -> tuple[str, list[dict]]:
    """(system prompt, messages) of a logged request, in either API's shape."""
    body = entry["body"]
    system = body.get("system", "")
    if isinstance(system, list):
        system = " ".join(part.get("text", "") for part in system)
    return str(system), body["messages"]


def content(message: dict) -> str:
    value = message.get("content", "")
    return " ".join(part.get("text", "") for part in value) if isinstance(value, list) else str(value)


def size(entry: dict) -> tuple[int, int]:
    """(characters, estimated tokens) of a request: four characters per token, as the engine estimates."""
    system, messages = request_text(entry)
    texts = ([system] if system else []) + [content(m) for m in messages]
    chars = sum(len(text.encode()) for text in texts)
    return chars, sum(math.ceil(len(text.encode()) / 4) for text in texts)


async def long_run(tmp_path, env: dict[str, str], models: dict[str, str], iterations: int = 13):
    """Runs the scripted long task; returns (structured result, root requests, sub requests, progress messages)."""
    script = {"models": models, "root": {"replies": long_run_replies(iterations)}, "sub": {"default": SUMMARY}}
    progress: list[str] = []

    async def on_progress(_progress: float, _total: float | None, message: str | None) -> None:
        progress.append(message or "")

    with fake_llm(script, tmp_path) as url:
        env = {key: value.replace("{url}", url) for key, value in env.items()}
        with connection("stdio", tmp_path, env) as conn:
            async with conn.client() as client:
                result = await client.call_tool("rlm_execute", {"task": "Report the secret once you have looked around.",
                                                                "include_trajectory": True}, progress_callback=on_progress)
        log = control(url, "/_control/log")
    assert not result.is_error, result.content[0].text
    return result.structured_content, [e for e in log if e["role"] == "root"], [e for e in log if e["role"] == "sub"], progress


OPENAI = {"OPENAI_BASE_URL": "{url}/v1", "OPENAI_API_KEY": CANARY_OPENAI_KEY}
ANTHROPIC = {"ANTHROPIC_BASE_URL": "{url}", "ANTHROPIC_API_KEY": "sk-ant-canary-0123456789",
             "RLM_MODEL": "anthropic/claude-root-test", "RLM_SUBTASK_MODEL": "anthropic/claude-sub-test"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_thirteen_iterations_of_15000_characters_fit_a_12000_token_window(tmp_path, provider):
    env = {**(OPENAI if provider == "openai" else ANTHROPIC), "RLM_ROOT_CONTEXT_TOKENS": str(WINDOW)}
    models = {"gpt-4o-mini": "sub", "claude-sub-test": "sub"}
    out, roots, subs, progress = await long_run(tmp_path, env, models)

    assert out["status"] == "submitted" and out["answer"] == "ANSWER-42", out.get("message")
    assert out["iterations"] == 13 and len(roots) == 13
    sizes = [size(entry) for entry in roots]
    largest_chars, largest_tokens = max(sizes, key=lambda s: s[1])
    print(f"\n{provider}: largest root request {largest_chars} characters, about {largest_tokens} tokens (window {WINDOW})")
    # Every request stays within the threshold, and prompt plus the answer it asks for within the window.
    for entry, (_, tokens) in zip(roots, sizes):
        assert tokens <= WINDOW * THRESHOLD, (tokens, entry["body"]["max_tokens"])
        assert tokens + entry["body"]["max_tokens"] <= WINDOW
    # The trajectory records each compaction, each made by the sub model in one call counted in the run's usage.
    compactions = [step["compaction"] for step in out["trajectory"] if step.get("compaction")]
    assert compactions and len(subs) == len(compactions) and out["llm_calls"] == 13 + len(compactions)
    for record in compactions:
        assert record["method"] == "sub_model" and record["summarized_iterations"][0] == 1
        assert record["tokens_after"] < record["tokens_before"] and record["window_tokens"] == WINDOW
    assert f"iteration {compactions[0]['iteration']}/15: compacting history" in progress
    # The summary lists the REPL's variables as the REPL reports them, and the sub model's findings.
    _, last = request_text(roots[-1])
    summary = content(next(m for m in last if m["role"] == "user"))
    assert "`secret`: str, len 9 = 'ANSWER-42'" in summary and SUMMARY in summary
    assert summary.startswith("Task: Report the secret")
    # The sub model was asked about the folded iterations, with their output.
    assert "iteration 1 lorem ipsum" in content(subs[0]["body"]["messages"][-1])
    if provider == "anthropic":
        # The Messages API needs alternating turns that start with the user's.
        for entry in roots:
            roles = [m["role"] for m in entry["body"]["messages"]]
            assert roles[0] == "user" and all(a != b for a, b in zip(roles, roles[1:])), roles


async def test_a_large_window_never_compacts(tmp_path):
    out, roots, subs, progress = await long_run(tmp_path, OPENAI, {"gpt-4o-mini": "sub"})
    assert out["status"] == "submitted" and out["answer"] == "ANSWER-42"
    assert not [step for step in out["trajectory"] if step.get("compaction")] and not subs
    assert not [message for message in progress if "compacting" in message]
    largest_chars, largest_tokens = max(size(entry) for entry in roots)
    print(f"\nwithout compaction: largest root request {largest_chars} characters, about {largest_tokens} tokens")
    assert largest_tokens > WINDOW  # the same run would not have fitted the small window
    assert all(entry["body"]["max_tokens"] == 4096 for entry in roots)


async def test_plain_text_final_var_answers_with_the_repl_variable_or_says_it_is_missing(tmp_path):
    script = {"models": {"gpt-4o-mini": "sub"},
              "root": {"replies": [py("result = {'n': 42, 'words': ['a', 'b']}"), "Done.\nFINAL_VAR(missing)", "FINAL_VAR(result)"]}}
    with fake_llm(script, tmp_path) as url:
        with connection("stdio", tmp_path, {"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": CANARY_OPENAI_KEY}) as conn:
            async with conn.client() as client:
                result = await client.call_tool("rlm_execute", {"task": "answer", "include_trajectory": True})
        log = control(url, "/_control/log")
    out = result.structured_content
    assert out["status"] == "submitted" and out["answer"] == {"n": 42, "words": ["a", "b"]} and out["iterations"] == 3, out
    told = log[2]["body"]["messages"][-1]["content"]
    assert "the REPL has no variable named `missing`" in told
    assert out["trajectory"][1]["feedback"].startswith("FINAL_VAR(missing) did not end the run")
    assert json.dumps(out).count(CANARY_OPENAI_KEY) == 0
