"""The fake LLM's wire format, proven with the vendors' official Python SDKs."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from conftest import control, fake_llm

SCRIPT = {
    "models": {"gpt-4o-mini": "sub", "claude-haiku-4-5": "sub"},
    "root": {"replies": ["first root reply"], "rules": [{"contains": "capital", "reply": "Paris"}], "default": "root default"},
    "sub": {"rules": [{"contains": "JUDGE", "in": "system", "reply": "judged: {{prompt}}"}], "default": "sub default"},
}


def test_openai_sdk_round_trip_usage_and_scripting(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-fake", max_retries=0)
        first = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
        assert first.choices[0].message.content == "first root reply"
        assert first.usage.prompt_tokens >= 1 and first.usage.completion_tokens == 3
        rule = client.chat.completions.create(model="gpt-4o", messages=[
            {"role": "system", "content": "be brief"}, {"role": "user", "content": "the capital of France?"}])
        assert rule.choices[0].message.content == "Paris"
        sub = client.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "system", "content": "You are a JUDGE"}, {"role": "user", "content": "x > 1"}])
        assert sub.choices[0].message.content == "judged: x > 1"
        log = control(url, "/_control/log")
        assert [entry["role"] for entry in log] == ["root", "root", "sub"]
        assert log[0]["headers"]["authorization"] == "Bearer sk-fake"


def test_anthropic_sdk_round_trip_with_system_field(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as url:
        client = anthropic.Anthropic(base_url=url, api_key="sk-ant-fake", max_retries=0)
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=100, system="You are a JUDGE",
                                         messages=[{"role": "user", "content": "2 + 2 = 4"}])
        assert message.content[0].text == "judged: 2 + 2 = 4"
        assert message.usage.input_tokens >= 1 and message.usage.output_tokens >= 1
        entry = control(url, "/_control/log")[0]
        headers = entry["headers"]
        # Current SDKs send the key as a bearer token, older ones (and our client) as x-api-key; the fake takes both.
        assert headers.get("x-api-key") == "sk-ant-fake" or headers.get("authorization") == "Bearer sk-ant-fake"
        assert "anthropic-version" in headers
        assert entry["body"]["system"] == "You are a JUDGE"


@pytest.mark.parametrize(("fault", "openai_error", "anthropic_error"), [
    ({"type": "429", "retry_after": 0}, openai.RateLimitError, anthropic.RateLimitError),
    ({"type": "500"}, openai.InternalServerError, anthropic.InternalServerError),
    ({"type": "503"}, openai.InternalServerError, anthropic.InternalServerError),
    ({"type": "401"}, openai.AuthenticationError, anthropic.AuthenticationError),
    ({"type": "404"}, openai.NotFoundError, anthropic.NotFoundError),
    ({"type": "drop"}, openai.APIConnectionError, anthropic.APIConnectionError),
])
def test_faults_reach_the_sdks_as_their_own_errors(tmp_path, fault, openai_error, anthropic_error):
    with fake_llm({}, tmp_path) as url:
        control(url, "/_control/faults", [fault, fault])
        with pytest.raises(openai_error):
            openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}])
        with pytest.raises(anthropic_error):
            anthropic.Anthropic(base_url=url, api_key="k", max_retries=0).messages.create(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_sdk_retries_honour_retry_after_and_then_succeed(tmp_path):
    with fake_llm({}, tmp_path) as url:
        control(url, "/_control/faults", [{"type": "429", "retry_after": 0}, {"type": "503"}])
        reply = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=3).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}])
        assert reply.choices[0].message.content == "OK"
        assert [entry.get("fault") for entry in control(url, "/_control/log")] == ["429", "503", None]


def test_malformed_json_is_a_decode_failure_for_the_sdk(tmp_path):
    with fake_llm({}, tmp_path) as url:
        control(url, "/_control/faults", [{"type": "malformed"}])
        with pytest.raises(Exception) as raised:
            openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}])
        assert not isinstance(raised.value, openai.APIStatusError)
