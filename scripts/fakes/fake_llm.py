#!/usr/bin/env python3
"""A scripted fake LLM for tests (stdlib only): OpenAI Chat Completions and Anthropic Messages on loopback.

    python3 scripts/fakes/fake_llm.py --port 0 [--script replies.json]

Prints `fake_llm listening on http://127.0.0.1:PORT` once ready. Endpoints:
  POST /v1/chat/completions    OpenAI (also /chat/completions, for base URLs without /v1)
  POST /v1/messages            Anthropic
  GET  /_control/log           every request so far: [{api, path, model, role, headers, body, started, finished, status}]
  GET  /_control/stats         {"requests": N, "max_in_flight": M}
  POST /_control/script        replace the script (JSON body, same shape as --script)
  POST /_control/faults        queue faults for the next requests: [{"type": "429", "retry_after": 1}, ...]
  POST /_control/reset         clear the log, the counters and the queued faults

Script (every key optional):
  {
    "models": {"gpt-4o-mini": "sub", "claude-haiku": "sub"},     model -> "root" | "sub" (default "root")
    "root": {"replies": [...], "rules": [...], "default": "..."},
    "sub":  {"replies": [...], "rules": [...], "default": "..."},
    "faults": [...],                                             queued at start, like /_control/faults
    "fault_rate": {"rate": 0.3, "types": [{"type": "500"}, ...], "seed": 1}   besides queued faults, each request
                                                                 gets one of `types` (at random) with probability `rate`
  }
Replies are consumed in order; when they run out, the first rule whose `contains` substring occurs in the last user
message (or, with "in": "system", in the system prompt) answers; else `default` (default: "OK"). A reply is a string or
{"text": "...", "input_tokens": N, "output_tokens": M, "delay_s": S}. `{{prompt}}` in a reply is replaced by the last
user message.

Fault types: "429" (with "retry_after" seconds), "500", "503", "408", "401", "404", "400", "slow" ("delay_s" before an
ordinary reply), "malformed" (200 with invalid JSON), "drop" (close the connection without answering), "truncated"
(a 200 whose body stops half-way, the connection closed under it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer



class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a batch of sub-calls opens many at once; the client
    # then retries the connect a second later, which would distort concurrency and latency measurements.
    request_queue_size = 128
    daemon_threads = True

class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.script: dict = {}
        self.cursors = {"root": 0, "sub": 0}
        self.faults: list[dict] = []
        self.fault_rate = 0.0
        self.fault_types: list[dict] = []
        self.random = random.Random(1)
        self.log: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def load(self, script: dict) -> None:
        with self.lock:
            self.script = script
            self.cursors = {"root": 0, "sub": 0}
            self.faults = list(script.get("faults", []))
            rate = script.get("fault_rate") or {}
            self.fault_rate = float(rate.get("rate", 0))
            self.fault_types = list(rate.get("types", []))
            self.random = random.Random(rate.get("seed", 1))

    def role_of(self, model: str) -> str:
        return self.script.get("models", {}).get(model, "root")

    def next_fault(self) -> dict | None:
        with self.lock:
            if self.faults:
                return self.faults.pop(0)
            if self.fault_types and self.random.random() < self.fault_rate:
                return dict(self.random.choice(self.fault_types))
            return None

    def reply_for(self, role: str, system: str, last_user: str) -> dict:
        with self.lock:
            plan = self.script.get(role, {})
            replies = plan.get("replies", [])
            if self.cursors[role] < len(replies):
                reply = replies[self.cursors[role]]
                self.cursors[role] += 1
            else:
                reply = None
                for rule in plan.get("rules", []):
                    haystack = system if rule.get("in") == "system" else last_user
                    if rule.get("contains", "") in haystack:
                        reply = rule.get("reply", "")
                        break
                if reply is None:
                    reply = plan.get("default", "OK")
        if isinstance(reply, str):
            reply = {"text": reply}
        reply = dict(reply)
        reply["text"] = reply.get("text", "").replace("{{prompt}}", last_user)
        return reply


STATE = State()


def count_tokens(text: str) -> int:
    return max(1, len(text.split()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, the body waits for the client's delayed ACK (~40 ms),
    # which would make a 0 ms fake look like a 40 ms model and hide the engine's own overhead.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet by default
        pass

    # -- plumbing ----------------------------------------------------------------------------------

    def send_json(self, status: int, body, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- control -------------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_control/log":
            with STATE.lock:
                self.send_json(200, STATE.log)
        elif self.path == "/_control/stats":
            with STATE.lock:
                self.send_json(200, {"requests": len(STATE.log), "max_in_flight": STATE.max_in_flight})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        if self.path == "/_control/script":
            STATE.load(json.loads(body or b"{}"))
            self.send_json(200, {"ok": True})
        elif self.path == "/_control/faults":
            with STATE.lock:
                STATE.faults.extend(json.loads(body or b"[]"))
            self.send_json(200, {"ok": True})
        elif self.path == "/_control/reset":
            with STATE.lock:
                STATE.log.clear()
                STATE.faults.clear()
                STATE.max_in_flight = 0
                STATE.cursors = {"root": 0, "sub": 0}
            self.send_json(200, {"ok": True})
        elif self.path in ("/v1/chat/completions", "/chat/completions"):
            self.complete("openai", body)
        elif self.path in ("/v1/messages", "/messages"):
            self.complete("anthropic", body)
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    # -- the model -----------------------------------------------------------------------------------

    def complete(self, api: str, raw: bytes) -> None:
        entry = {"api": api, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "started": time.time(), "finished": None, "status": None}
        with STATE.lock:
            STATE.log.append(entry)
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
        try:
            entry["status"] = self.answer(api, raw, entry)
        finally:
            entry["finished"] = time.time()
            with STATE.lock:
                STATE.in_flight -= 1

    def answer(self, api: str, raw: bytes, entry: dict) -> int:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self.send_json(400, error_body(api, "invalid_request_error", "body is not JSON"))
            return 400
        entry["body"] = body
        model = body.get("model", "")
        entry["model"] = model
        role = STATE.role_of(model)
        entry["role"] = role

        fault = STATE.next_fault()
        if fault:
            kind = str(fault.get("type"))
            entry["fault"] = kind
            if kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return 0
            if kind == "truncated":
                whole = json.dumps({"id": "cut", "choices": [{"message": {"role": "assistant", "content": "x" * 200}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(whole)))
                self.end_headers()
                self.wfile.write(whole[: len(whole) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return 200
            if kind == "malformed":
                self.send_json(200, b'{"id": "broken", "choices": [')
                return 200
            if kind == "slow":
                time.sleep(float(fault.get("delay_s", 2)))
            elif kind.isdigit():
                status = int(kind)
                headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                self.send_json(status, error_body(api, error_type(status), fault.get("message", f"injected {status}")), headers)
                return status

        missing = [name for name in (["model", "messages"] + (["max_tokens"] if api == "anthropic" else [])) if name not in body]
        if missing:
            self.send_json(400, error_body(api, "invalid_request_error", f"missing {', '.join(missing)}"))
            return 400
        system, last_user = prompts(api, body)
        reply = STATE.reply_for(role, system, last_user)
        if reply.get("delay_s"):
            time.sleep(float(reply["delay_s"]))
        text = reply["text"]
        prompt_text = system + " " + " ".join(message_text(m) for m in body["messages"])
        input_tokens = int(reply.get("input_tokens", count_tokens(prompt_text)))
        output_tokens = int(reply.get("output_tokens", count_tokens(text)))
        if api == "openai":
            self.send_json(200, {
                "id": f"chatcmpl-fake-{len(STATE.log)}", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens, "total_tokens": input_tokens + output_tokens},
            })
        else:
            self.send_json(200, {
                "id": f"msg_fake_{len(STATE.log)}", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            })
        return 200


def message_text(message: dict) -> str:
    content = message.get("content", "")
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def prompts(api: str, body: dict) -> tuple[str, str]:
    """(system prompt, last user message) in either API's shape."""
    messages = body.get("messages", [])
    if api == "anthropic":
        system = body.get("system", "")
        if isinstance(system, list):
            system = " ".join(part.get("text", "") for part in system)
    else:
        system = " ".join(message_text(m) for m in messages if m.get("role") in ("system", "developer"))
    users = [message_text(m) for m in messages if m.get("role") == "user"]
    return str(system), users[-1] if users else ""


def error_type(status: int) -> str:
    return {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 408: "timeout_error",
            429: "rate_limit_error", 500: "api_error", 503: "overloaded_error"}.get(status, "api_error")


def error_body(api: str, kind: str, message: str) -> dict:
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help="JSON file with the script")
    args = parser.parse_args()
    if args.script:
        with open(args.script, encoding="utf-8") as handle:
            STATE.load(json.load(handle))
    server = Server((args.host, args.port), Handler)
    parent = os.getppid()

    def exit_with_parent() -> None:
        # A test runner that dies must not leave the fake behind.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    server.daemon_threads = True
    print(f"fake_llm listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
