"""OpenTelemetry traces end to end: the real binary exports over OTLP/HTTP to a real receiver started here, which
decodes each ExportTraceServiceRequest with the official `opentelemetry-proto` types; runs go through the official MCP
client over both protocol eras."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from contextlib import contextmanager

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from conftest import CANARY_OPENAI_KEY, CANARY_TOKEN, MODERN, connection, control, fake_llm

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {CANARY_TOKEN}"}
OTLP_HEADER_SECRET = "otlp-canary-header-0123456789"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def py(code: str) -> str:
    return f"```python\n{code}\n```"


# The root asks the sub model once and starts one child run; the child (whose root is the sub model) submits at once.
SCRIPT = {
    "models": {"gpt-4o-mini": "sub"},
    "root": {"default": py("a = llm_query('say yes')\nb = rlm_query('child task', context='abc')\nSUBMIT(answer='done')")},
    "sub": {"default": py("SUBMIT(answer='yes')")},
}


class Receiver:
    """An OTLP/HTTP trace receiver on a free loopback port: keeps every span it was sent, with its resource."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict, object]] = []  # (resource attributes, Span)
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with receiver.lock:
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                    for resource_spans in request.resource_spans:
                        resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                        for scope in resource_spans.scope_spans:
                            receiver.spans.extend((resource, span) for span in scope.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, predicate, what: str, timeout: float = 20):
        """Polls until the spans received satisfy `predicate` (the exporter sends in batches)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                spans = [span for _, span in self.spans]
            if predicate(spans):
                return spans
            time.sleep(0.1)
        raise AssertionError(f"no {what} after {timeout} s; received: {[s.name for s in spans]}")


@contextmanager
def receiver():
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def attrs(span) -> dict:
    return {a.key: value(a.value) for a in span.attributes}


def tracing_env(llm: str, otlp: str, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": CANARY_OPENAI_KEY, "OPENAI_BASE_URL": llm + "/v1", "MCP_AUTH_TOKEN": CANARY_TOKEN,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "OTEL_SERVICE_NAME": "rlm-under-test", "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_EXPORTER_OTLP_HEADERS": f"x-tenant={OTLP_HEADER_SECRET}", **extra}


def children(spans, parent) -> list:
    return [s for s in spans if s.parent_span_id == parent.span_id and s.trace_id == parent.trace_id]


def one(spans, name: str):
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_a_tool_call_is_one_complete_trace_that_continues_the_callers(tmp_path, mode):
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    with fake_llm(SCRIPT, tmp_path) as llm, receiver() as otlp:
        with connection("streamable-http", tmp_path, tracing_env(llm, otlp.url), headers=AUTH) as conn:
            async with conn.client(mode) as client:
                result = await client.call_tool("rlm_execute", {"task": "Ask.", "context": "some text"},
                                                meta={"traceparent": traceparent})
                assert not result.is_error, result.content[0].text
                assert result.structured_content["status"] == "submitted"
                await client.call_tool("rlm_execute", {"task": "Again.", "context": "more"})
            spans = otlp.wait_for(lambda s: sum(x.name == "tools/call rlm_execute" for x in s) == 2, "two tools/call spans")
            spans = otlp.wait_for(lambda s: sum(x.name == "rlm.run rlm_execute" for x in s) == 2 and
                                  sum(x.name == "rlm.run rlm_query" for x in s) == 2, "the runs' spans")
            model_log = control(llm, "/_control/log")
            log = conn.log()

    # One trace per tool call; the first continues the caller's trace, under the caller's span.
    calls = [s for s in spans if s.name == "tools/call rlm_execute"]
    first = next(s for s in calls if s.trace_id.hex() == CALLER_TRACE)
    assert first.parent_span_id.hex() == CALLER_SPAN
    second = next(s for s in calls if s is not first)
    assert second.trace_id != first.trace_id and second.parent_span_id == b""
    trace = [s for s in spans if s.trace_id == first.trace_id]

    # MCP conventions on the request span.
    call = attrs(first)
    assert call["mcp.method.name"] == "tools/call" and call["gen_ai.tool.name"] == "rlm_execute"
    assert call["gen_ai.operation.name"] == "execute_tool"
    if mode == MODERN:
        assert call["mcp.protocol.version"] == MODERN and "jsonrpc.request.id" in call
    else:
        assert call["mcp.session.id"]

    # The run under the request, the iteration under the run, the root model's chat under the iteration.
    run = one([s for s in trace if s.parent_span_id == first.span_id], "rlm.run rlm_execute")
    assert attrs(run)["rlm.run.status"] == "submitted" and attrs(run)["rlm.run.iterations"] == 1
    iteration = one(children(trace, run), "rlm.iteration")
    root_chat = one(children(trace, iteration), "chat gpt-4o")
    chat = attrs(root_chat)
    assert chat["gen_ai.operation.name"] == "chat" and chat["gen_ai.provider.name"] == "openai"
    assert chat["gen_ai.request.model"] == "gpt-4o"
    assert chat["gen_ai.usage.input_tokens"] > 0 and chat["gen_ai.usage.output_tokens"] > 0
    assert chat["gen_ai.response.finish_reasons"] == ["stop"]

    # The code block under the iteration; the sub-call and the child run under the block, the child's model under it.
    block = one(children(trace, iteration), "rlm.code_block")
    assert sorted(s.name for s in children(trace, block)) == ["chat gpt-4o-mini", "rlm.run rlm_query"]
    child = one(children(trace, block), "rlm.run rlm_query")
    assert attrs(child)["rlm.run.depth"] == 1 and attrs(child)["rlm.run.parent_id"] == attrs(run)["rlm.run.id"]
    child_iteration = one(children(trace, child), "rlm.iteration")
    assert sorted(s.name for s in children(trace, child_iteration)) == ["chat gpt-4o-mini", "rlm.code_block"]

    # Every model request carried a traceparent: that of its HTTP client span (AsyncHTTPClient's), a child of its chat.
    chat_spans = {s.span_id.hex() for s in trace if s.name.startswith("chat ")}
    by_id = {s.span_id.hex(): s for s in trace}
    sent = [entry["headers"].get("traceparent") for entry in model_log if entry.get("path", "").endswith("/chat/completions")]
    ours = [h for h in sent if h and h.split("-")[1] == CALLER_TRACE]
    assert len(ours) == len(chat_spans) == 3, (sent, chat_spans)
    http_spans = [by_id[h.split("-")[2]] for h in ours]
    assert {s.parent_span_id.hex() for s in http_spans} == chat_spans
    assert all(s.kind == s.SPAN_KIND_CLIENT for s in http_spans)

    # The resource names the service; the exporter sent the configured header.
    resources = [resource for resource, _ in otlp.spans]
    assert all(r.get("service.name") == "rlm-under-test" for r in resources)
    assert all(h.get("x-tenant") == OTLP_HEADER_SECRET for h in otlp.headers)

    # No secret, no bearer token and no content in any attribute of any span (or its events).
    everything = json.dumps([[attrs(s), [attrs(e) for e in s.events], s.name, s.status.message] for _, s in otlp.spans])
    for secret in (CANARY_OPENAI_KEY, CANARY_TOKEN, OTLP_HEADER_SECRET, "some text", "say yes", "SUBMIT"):
        assert secret not in everything, secret
    assert CANARY_TOKEN not in log and CANARY_OPENAI_KEY not in log


async def test_prompts_and_outputs_are_recorded_only_when_asked(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as llm, receiver() as otlp:
        env = tracing_env(llm, otlp.url, RLM_TRACE_CONTENT="1")
        with connection("streamable-http", tmp_path, env, headers=AUTH) as conn:
            async with conn.client("legacy") as client:
                result = await client.call_tool("rlm_execute", {"task": "Ask.", "context": "some text"})
                assert not result.is_error, result.content[0].text
            spans = otlp.wait_for(lambda s: any(x.name == "rlm.run rlm_execute" for x in s), "the run span")
    root_chat = next(s for s in spans if s.name == "chat gpt-4o")
    messages = json.loads(attrs(root_chat)["gen_ai.input.messages"])
    assert messages[0]["role"] == "system" and messages[0]["parts"][0]["type"] == "text"
    assert "llm_query" in json.loads(attrs(root_chat)["gen_ai.output.messages"])[0]["parts"][0]["content"]
    codes = [attrs(s)["rlm.code_block.code"] for s in spans if s.name == "rlm.code_block"]
    assert any("llm_query('say yes')" in code for code in codes), codes
    everything = json.dumps([attrs(s) for s in spans])
    assert CANARY_OPENAI_KEY not in everything and CANARY_TOKEN not in everything


async def test_without_an_endpoint_nothing_is_exported(tmp_path):
    with fake_llm(SCRIPT, tmp_path) as llm, receiver() as otlp:
        env = tracing_env(llm, otlp.url)
        del env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        with connection("streamable-http", tmp_path, env, headers=AUTH) as conn:
            async with conn.client("legacy") as client:
                result = await client.call_tool("rlm_execute", {"task": "Ask.", "context": "x"})
                assert not result.is_error, result.content[0].text
            model_log = control(llm, "/_control/log")
            log = conn.log()
    assert otlp.spans == []
    assert all("traceparent" not in entry["headers"] for entry in model_log)
    assert "tracing: exporting" not in log


def test_a_grpc_protocol_is_refused_at_start_up(tmp_path):
    import subprocess

    from conftest import BINARY, server_env

    env = server_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    done = subprocess.run([BINARY, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" in done.stderr and "http/protobuf" in done.stderr, done.stderr


def test_otel_variables_in_an_env_file_count_like_the_environment(tmp_path):
    """`.env` files configure tracing as they configure the rest: here a refused protocol named only in the file."""
    import subprocess

    from conftest import BINARY, server_env

    env_file = tmp_path / "tracing.env"
    env_file.write_text("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317\nOTEL_EXPORTER_OTLP_PROTOCOL=grpc\n")
    env = server_env()
    done = subprocess.run([BINARY, "serve", "--env-file", str(env_file)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "OTEL_EXPORTER_OTLP_PROTOCOL is grpc" in done.stderr, done.stderr
