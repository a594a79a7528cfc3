#!/usr/bin/env python3
"""A fake Daytona for tests (stdlib only): the sandbox REST API and the per-sandbox toolbox on loopback.

    python3 scripts/fakes/fake_daytona.py --port 0 [--api-key KEY] [--latency-ms 50]

Prints `fake_daytona listening on http://127.0.0.1:PORT/api` once ready (the DAYTONA_API_URL to use). Sandboxes
report `toolboxProxyUrl` = http://127.0.0.1:PORT/toolbox, so toolbox calls go to `/toolbox/{sandboxId}/...`.

TEST-ONLY: commands really run on this machine, in a private temp directory per sandbox (their working directory and
HOME), with a minimal environment. File paths are confined to that directory. Never point it at untrusted code.

Main API (bearer auth on every request, 401 otherwise):
  POST /api/sandbox   GET /api/sandbox?labels={json}&states=..   GET|DELETE /api/sandbox/{id}
  POST /api/sandbox/{id}/start|stop   GET /api/sandbox/{id}/toolbox-proxy-url
  GET /api/sandbox/{id}/ports/{port}/preview-url -> {sandboxId, url, token}
Preview (no Daytona key; `x-daytona-preview-token` unless the sandbox is public, 401 otherwise):
  ANY /_preview/{id}/{port}/... is proxied to 127.0.0.1:{port}/... (what the sandbox's process listens on; the real
  proxy routes by host name, https://{port}-{id}.<domain>, the fake by path). Stopping a sandbox kills its commands.
Toolbox (`/toolbox/{id}` + path): /process/execute, /process/session[/{sid}[/exec|/command/{cmd}[/logs|/input]]]
  (logs: JSON, or with follow=true a websocket streaming stdout/stderr behind \\x01\\x01\\x01 / \\x02\\x02\\x02 markers),
  /files (list, delete), /files/info, /files/download, /files/upload-v2, /files/bulk-upload, /files/bulk-download,
  /files/folder, /work-dir, /user-home-dir, /version.
Control (no auth):
  GET  /_control/stats     {"requests", "unauthorized", "by_route", "by_sandbox", "live", "created", "deleted", ...}
  GET  /_control/log       every request: [{method, path, route, sandbox, auth, status, kind, started, finished}]
  GET  /_control/sandboxes every sandbox with its state and the environments its commands ran with
  POST /_control/faults    queue faults: [{"type": ..., "match": "substring of METHOD PATH" (optional)}, ...]
  POST /_control/latency   {"ms": 50}: added to every API/toolbox request
  POST /_control/kill      {"sandbox": id (optional)}: SIGKILL every running session command ("worker killed")
  POST /_control/error     {"sandbox": id, "reason": "..."}: the sandbox enters `error`; its toolbox answers 502
  POST /_control/reset     clear the log, counters and queued faults (sandboxes stay)
Fault types: "500", "429" (with "retry_after" seconds), "slow" ("delay_s" before the ordinary answer), "drop"
(close the connection without answering), "slow_create" (the created sandbox stays `creating` for "delay_s"),
"create_error" (the created sandbox goes to `error` with "reason"), "drop_logs" (the next log stream is cut without a
close frame after "after_bytes" bytes, default 0).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STDOUT_PREFIX = b"\x01\x01\x01"
STDERR_PREFIX = b"\x02\x02\x02"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")



class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a batch of sub-calls opens many at once; the client
    # then retries the connect a second later, which would distort concurrency and latency measurements.
    request_queue_size = 128
    daemon_threads = True

class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Command:
    """One session command: a real process with stdin, and its log as ordered (stream, bytes) chunks."""

    def __init__(self, command: str, cwd: str, env: dict) -> None:
        self.id = uuid.uuid4().hex
        self.command = command
        self.cond = threading.Condition()
        self.chunks: list[tuple[int, bytes]] = []
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.exit_code: int | None = None
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", command], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        self.open_streams = 2
        for stream, pipe in ((1, self.process.stdout), (2, self.process.stderr)):
            threading.Thread(target=self._pump, args=(stream, pipe), daemon=True).start()

    def _pump(self, stream: int, pipe) -> None:
        while True:
            data = pipe.read1(65536)
            if not data:
                break
            with self.cond:
                self.chunks.append((stream, data))
                (self.stdout if stream == 1 else self.stderr).extend(data)
                self.cond.notify_all()
        with self.cond:
            self.open_streams -= 1
            if self.open_streams == 0:
                self.exit_code = self.process.wait()
            self.cond.notify_all()

    def write_input(self, data: bytes) -> None:
        if self.exit_code is not None or self.process.poll() is not None:
            raise ApiError(410, f"command {self.id} already completed", "COMMAND_ALREADY_COMPLETED")
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ApiError(410, f"command {self.id} no longer reads input: {exc}", "COMMAND_ALREADY_COMPLETED") from exc

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float | None = None) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.exit_code is not None, timeout)

    def view(self) -> dict:
        return {"id": self.id, "command": self.command, "exitCode": self.exit_code}


class FakeSandbox:
    def __init__(self, body: dict, proxy_url: str, start_delay: float, error_reason: str | None) -> None:
        self.id = str(uuid.uuid4())
        self.body = body
        self.proxy_url = proxy_url
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix=f"fake-daytona-{self.id[:8]}-"))
        self.created = time.monotonic()
        self.start_delay = start_delay
        self.error_reason = error_reason
        self.destroyed = False
        self.stopped = False
        self.sessions: dict[str, dict[str, Command]] = {}
        self.command_envs: list[dict] = []
        self.created_at = now_iso()
        self.preview_token = uuid.uuid4().hex

    @property
    def state(self) -> str:
        if self.destroyed:
            return "destroyed"
        if self.error_reason is not None:
            return "error"
        if self.stopped:
            return "stopped"
        if time.monotonic() - self.created < self.start_delay:
            return "creating"
        return "started"

    def dto(self) -> dict:
        body = self.body
        return {
            "id": self.id, "organizationId": "org-fake", "name": body.get("name") or self.id, "user": body.get("user") or "daytona",
            "env": body.get("env") or {}, "labels": body.get("labels") or {}, "public": bool(body.get("public", False)),
            "networkBlockAll": bool(body.get("networkBlockAll", False)), "networkAllowList": body.get("networkAllowList"), "kvm": False, "target": body.get("target") or "us",
            "cpu": 1, "gpu": 0, "memory": 1, "disk": 3, "toolboxProxyUrl": self.proxy_url,
            "snapshot": body.get("snapshot") or "daytonaio/sandbox:fake", "state": self.state,
            "desiredState": "destroyed" if self.destroyed else ("stopped" if self.stopped else "started"),
            "errorReason": self.error_reason, "recoverable": False,
            "autoStopInterval": body.get("autoStopInterval", 15), "autoArchiveInterval": body.get("autoArchiveInterval", 10080),
            "autoDeleteInterval": body.get("autoDeleteInterval", -1), "createdAt": self.created_at, "updatedAt": now_iso(),
            "daemonVersion": "fake", "runnerId": "runner-fake", "fakeFutureField": {"nested": [1, 2]},
        }

    def command_env(self, extra: dict | None = None) -> dict:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.dir, "LANG": "C.UTF-8"}
        env.update(self.body.get("env") or {})
        env.update(extra or {})
        self.command_envs.append(dict(env))
        return env

    def all_commands(self):
        for commands in self.sessions.values():
            yield from commands.values()

    def destroy(self) -> None:
        self.destroyed = True
        for command in self.all_commands():
            command.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def resolve(self, path: str | None) -> str:
        """A path inside the sandbox directory; relative paths resolve against it, escapes are refused."""
        if not path:
            raise ApiError(400, "path is required", "INVALID_FILE_PATH")
        full = os.path.realpath(path if os.path.isabs(path) else os.path.join(self.dir, path))
        if full != self.dir and not full.startswith(self.dir + os.sep):
            raise ApiError(403, f"access to {path} is denied (outside the sandbox)", "FILE_ACCESS_DENIED")
        return full


class State:
    def __init__(self, api_key: str | None, latency_ms: float) -> None:
        self.lock = threading.Lock()
        self.api_key = api_key
        self.latency_ms = latency_ms
        self.sandboxes: dict[str, FakeSandbox] = {}
        self.faults: list[dict] = []
        self.log: list[dict] = []
        self.unauthorized = 0
        self.created = 0
        self.deleted = 0
        self.base_url = ""

    def take_fault(self, method: str, path: str, types: tuple[str, ...] | None = None) -> dict | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if types is not None and fault.get("type") not in types:
                    continue
                if types is None and fault.get("type") in ("slow_create", "create_error", "drop_logs"):
                    continue
                if fault.get("match") and fault["match"] not in f"{method} {path}":
                    continue
                return self.faults.pop(index)
        return None

    def stats(self) -> dict:
        with self.lock:
            by_route: dict[str, int] = {}
            by_sandbox: dict[str, int] = {}
            for entry in self.log:
                by_route[entry["route"]] = by_route.get(entry["route"], 0) + 1
                if entry.get("sandbox"):
                    by_sandbox[entry["sandbox"]] = by_sandbox.get(entry["sandbox"], 0) + 1
            live = [s.id for s in self.sandboxes.values() if not s.destroyed]
            return {"requests": len(self.log), "unauthorized": self.unauthorized, "by_route": by_route, "by_sandbox": by_sandbox,
                    "live": len(live), "live_ids": live, "created": self.created, "deleted": self.deleted,
                    "faults_pending": len(self.faults)}


STATE: State


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-daytona/1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet by default
        if os.environ.get("FAKE_DAYTONA_VERBOSE"):
            super().log_message(format, *args)

    # -- plumbing ----------------------------------------------------------------------------------

    def send_body(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.status = status

    def send_json(self, status: int, value, headers: dict | None = None) -> None:
        self.send_body(status, json.dumps(value).encode(), headers=headers)

    def send_empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.status = status

    def send_error_json(self, error: ApiError, kind: str) -> None:
        if kind == "toolbox":
            body = {"statusCode": error.status, "message": error.message, "path": self.path, "timestamp": now_iso(),
                    "method": self.command, "code": error.code or "BAD_REQUEST", "source": "DAYTONA_DAEMON"}
        else:
            body = {"statusCode": error.status, "message": error.message, "error": error.code or "Error", "source": "DAYTONA_API"}
        headers = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else None
        self.send_json(error.status, body, headers)

    def read_body(self) -> bytes:
        """The request body, read once (so a fault answered early never leaves it to be parsed as the next request)."""
        if getattr(self, "_body", None) is None:
            self._body = self._read_body()
        return self._body

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data.extend(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def json_body(self) -> dict:
        raw = self.read_body()
        try:
            value = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"invalid JSON body: {exc}", "INVALID_REQUEST_BODY") from exc
        if not isinstance(value, dict):
            raise ApiError(400, "the body must be a JSON object", "INVALID_REQUEST_BODY")
        return value

    def do_GET(self) -> None:  # noqa: N802
        self.handle_any()

    def do_POST(self) -> None:  # noqa: N802
        self.handle_any()

    def do_PUT(self) -> None:  # noqa: N802
        self.handle_any()

    def do_DELETE(self) -> None:  # noqa: N802
        self.handle_any()

    # -- dispatch ----------------------------------------------------------------------------------

    def handle_any(self) -> None:
        self._body = None
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if parts[:1] == ["_control"]:
            return self.control(parts[1:] if len(parts) > 1 else [""])
        if parts[:1] == ["_preview"]:
            return self.preview(parts[1:], url)
        kind = "api" if parts[:1] == ["api"] else "toolbox" if parts[:1] == ["toolbox"] else "other"
        sandbox_id = parts[2] if kind == "api" and len(parts) > 2 and parts[1] == "sandbox" else parts[1] if kind == "toolbox" and len(parts) > 1 else None
        entry = {"method": self.command, "path": url.path, "route": "", "sandbox": sandbox_id, "kind": kind,
                 "auth": False, "status": 0, "started": time.time(), "finished": None,
                 "websocket": self.headers.get("Upgrade", "").lower() == "websocket"}
        with STATE.lock:
            STATE.log.append(entry)
        self.entry = entry
        self.status = 0
        try:
            self.read_body()
            if parts[:2] == ["api", "socket.io"]:
                # The SDK's Socket.IO event stream (auth inside its own handshake): not offered, so it polls instead.
                entry["route"] = "socket.io (not offered)"
                raise ApiError(404, "no event stream here", "NOT_FOUND")
            expected = f"Bearer {STATE.api_key}" if STATE.api_key else None
            header = self.headers.get("Authorization", "")
            entry["auth"] = header == expected if expected else header.startswith("Bearer ") and len(header) > 7
            if STATE.latency_ms:
                time.sleep(STATE.latency_ms / 1000)
            if not entry["auth"]:
                with STATE.lock:
                    STATE.unauthorized += 1
                raise ApiError(401, "Invalid credentials", "UNAUTHORIZED")
            fault = STATE.take_fault(self.command, url.path)
            if fault and self.apply_fault(fault, kind):
                return
            if kind == "api":
                entry["route"] = self.api(parts[1:], query)
            elif kind == "toolbox" and len(parts) >= 2:
                entry["route"] = self.toolbox(parts[1], parts[2:], query)
            else:
                raise ApiError(404, f"Cannot {self.command} {url.path}", "NOT_FOUND")
        except ApiError as error:
            if not entry["route"]:
                entry["route"] = f"{self.command} {url.path}" if error.status != 401 else "unauthorized"
            try:
                self.send_error_json(error, "toolbox" if kind == "toolbox" else "api")
            except OSError:  # the client went away
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            entry["status"] = self.status
            entry["finished"] = time.time()

    def apply_fault(self, fault: dict, kind: str) -> bool:
        kind_of = fault.get("type")
        if kind_of == "slow":
            time.sleep(float(fault.get("delay_s", 1)))
            return False
        if kind_of == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if kind_of in ("500", "502", "503"):
            raise ApiError(int(kind_of), "injected fault", "INTERNAL_SERVER_ERROR")
        if kind_of == "429":
            error = ApiError(429, "Too many requests (injected)", "TOO_MANY_REQUESTS")
            error.retry_after = fault.get("retry_after", 0)  # type: ignore[attr-defined]
            raise error
        return False

    # -- control -----------------------------------------------------------------------------------

    def control(self, parts: list[str]) -> None:
        name = parts[0]
        if self.command == "GET" and name == "stats":
            return self.send_json(200, STATE.stats())
        if self.command == "GET" and name == "log":
            with STATE.lock:
                return self.send_json(200, list(STATE.log))
        if self.command == "GET" and name == "sandboxes":
            with STATE.lock:
                return self.send_json(200, [{**s.dto(), "dir": s.dir, "commandEnvs": s.command_envs} for s in STATE.sandboxes.values()])
        body = json.loads(self.read_body() or b"null")
        if name == "faults":
            with STATE.lock:
                STATE.faults.extend(body if isinstance(body, list) else [body])
        elif name == "latency":
            STATE.latency_ms = float(body.get("ms", 0))
        elif name == "kill":
            with STATE.lock:
                targets = [s for s in STATE.sandboxes.values() if not body or not body.get("sandbox") or s.id == body["sandbox"]]
            killed = 0
            for sandbox in targets:
                for command in sandbox.all_commands():
                    if command.exit_code is None:
                        command.kill()
                        killed += 1
            return self.send_json(200, {"killed": killed})
        elif name == "error":
            with STATE.lock:
                sandbox = STATE.sandboxes.get(body.get("sandbox", ""))
            if sandbox is None:
                return self.send_json(404, {"message": "no such sandbox"})
            sandbox.error_reason = body.get("reason", "injected error")
            for command in sandbox.all_commands():
                command.kill()
        elif name == "reset":
            with STATE.lock:
                STATE.log.clear()
                STATE.faults.clear()
                STATE.unauthorized = 0
        else:
            return self.send_json(404, {"message": f"unknown control {name}"})
        self.send_json(200, {"ok": True})

    # -- preview proxy -----------------------------------------------------------------------------

    HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                  "transfer-encoding", "upgrade", "host", "content-length", "x-daytona-preview-token"}

    def preview(self, parts: list[str], url) -> None:
        """Forwards one request to the sandbox's port, streaming the answer (event streams included) until it ends."""
        import http.client

        self.close_connection = True
        body = self.read_body()
        with STATE.lock:
            sandbox = STATE.sandboxes.get(parts[0]) if parts else None
        if sandbox is None or sandbox.destroyed or len(parts) < 2 or not parts[1].isdigit():
            return self.send_json(404, {"message": "no such sandbox preview"})
        if not sandbox.body.get("public") and self.headers.get("x-daytona-preview-token") != sandbox.preview_token:
            return self.send_json(401, {"message": "preview token missing or wrong"})
        if sandbox.state != "started":
            return self.send_json(502, {"message": f"sandbox is {sandbox.state}"})
        prefix = f"/_preview/{parts[0]}/{parts[1]}"
        target = url.path[len(prefix):] or "/"
        if url.query:
            target += "?" + url.query
        upstream = http.client.HTTPConnection("127.0.0.1", int(parts[1]), timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in self.HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            upstream.request(self.command, target, body=body, headers=headers)
            answer = upstream.getresponse()
        except OSError as error:
            upstream.close()
            return self.send_json(502, {"message": f"nothing answers on port {parts[1]}: {error}"})
        try:
            self.status = answer.status
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in self.HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            while chunk := answer.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            upstream.close()

    # -- main API ----------------------------------------------------------------------------------

    def sandbox(self, sandbox_id: str) -> FakeSandbox:
        with STATE.lock:
            sandbox = STATE.sandboxes.get(sandbox_id)
        if sandbox is None or sandbox.destroyed:
            raise ApiError(404, f"Sandbox with ID or name {sandbox_id} not found", "NOT_FOUND")
        return sandbox

    def api(self, parts: list[str], query: dict) -> str:
        if parts[:1] != ["sandbox"]:
            raise ApiError(404, f"Cannot {self.command} /api/{'/'.join(parts)}", "NOT_FOUND")
        rest = parts[1:]
        if not rest and self.command == "POST":
            body = self.json_body()
            for key in ("autoStopInterval", "autoDeleteInterval", "autoArchiveInterval"):
                if key in body and not isinstance(body[key], int):
                    raise ApiError(400, f"{key} must be an integer number", "BAD_REQUEST")
            labels = body.get("labels") or {}
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise ApiError(400, "labels must be an object of strings", "BAD_REQUEST")
            slow = STATE.take_fault("POST", "/api/sandbox", ("slow_create",))
            failing = STATE.take_fault("POST", "/api/sandbox", ("create_error",))
            sandbox = FakeSandbox(body, STATE.base_url + "/toolbox", float(slow.get("delay_s", 1)) if slow else 0,
                                  failing.get("reason", "injected: the runner could not start the sandbox") if failing else None)
            with STATE.lock:
                STATE.sandboxes[sandbox.id] = sandbox
                STATE.created += 1
            self.send_json(200, sandbox.dto())
            return "POST /sandbox"
        if not rest and self.command == "GET":
            wanted = json.loads(query["labels"][0]) if query.get("labels") else {}
            states = query.get("states") or []
            with STATE.lock:
                items = [s.dto() for s in STATE.sandboxes.values() if not s.destroyed
                         and all(s.dto()["labels"].get(k) == v for k, v in wanted.items())
                         and (not states or s.state in states)]
            limit = int((query.get("limit") or ["100"])[0])
            start = int((query.get("cursor") or ["0"])[0] or 0)
            page = items[start:start + limit]
            next_cursor = str(start + limit) if start + limit < len(items) else None
            self.send_json(200, {"items": page, "nextCursor": next_cursor})
            return "GET /sandbox"
        sandbox = self.sandbox(rest[0])
        if len(rest) == 1 and self.command == "GET":
            self.send_json(200, sandbox.dto())
            return "GET /sandbox/{id}"
        if len(rest) == 1 and self.command == "DELETE":
            sandbox.destroy()
            with STATE.lock:
                STATE.deleted += 1
            dto = sandbox.dto()
            dto["state"] = "destroying"
            self.send_json(200, dto)
            return "DELETE /sandbox/{id}"
        if rest[1:] == ["toolbox-proxy-url"] and self.command == "GET":
            self.send_json(200, {"url": sandbox.proxy_url})
            return "GET /sandbox/{id}/toolbox-proxy-url"
        if len(rest) == 4 and rest[1] == "ports" and rest[3] == "preview-url" and self.command == "GET":
            if not rest[2].isdigit() or not 3000 <= int(rest[2]) <= 9999:
                raise ApiError(400, "port must be between 3000 and 9999", "BAD_REQUEST")
            self.send_json(200, {"sandboxId": sandbox.id, "url": f"{STATE.base_url}/_preview/{sandbox.id}/{rest[2]}",
                                 "token": sandbox.preview_token})
            return "GET /sandbox/{id}/ports/{port}/preview-url"
        if rest[1:] in (["start"], ["stop"]) and self.command == "POST":
            if rest[1] == "stop":
                for command in list(sandbox.all_commands()):
                    command.kill()
            sandbox.stopped = rest[1] == "stop"
            self.send_json(200, sandbox.dto())
            return f"POST /sandbox/{{id}}/{rest[1]}"
        raise ApiError(404, f"Cannot {self.command} {self.path}", "NOT_FOUND")

    # -- toolbox -----------------------------------------------------------------------------------

    def toolbox(self, sandbox_id: str, parts: list[str], query: dict) -> str:
        sandbox = self.sandbox(sandbox_id)
        if sandbox.state == "error":
            raise ApiError(502, f"sandbox {sandbox_id} is in state error: {sandbox.error_reason}", "BAD_GATEWAY")
        if sandbox.state != "started":
            raise ApiError(409, f"sandbox {sandbox_id} is not started (state {sandbox.state})", "CONFLICT")
        q = {k: v[-1] for k, v in query.items()}
        path = "/".join(parts)
        method = self.command
        if path == "process/execute" and method == "POST":
            return self.execute(sandbox)
        if parts[:2] == ["process", "session"]:
            return self.session_route(sandbox, parts[2:], q)
        if path in ("work-dir", "user-home-dir") and method == "GET":
            self.send_json(200, {"dir": sandbox.dir})
            return f"GET /{path}"
        if path == "version" and method == "GET":
            self.send_json(200, {"version": "fake"})
            return "GET /version"
        if parts[:1] == ["files"]:
            return self.files_route(sandbox, parts[1:], q)
        raise ApiError(404, f"Cannot {method} /{path}", "NOT_FOUND")

    def execute(self, sandbox: FakeSandbox) -> str:
        body = self.json_body()
        command = body.get("command")
        if not isinstance(command, str):
            raise ApiError(400, "command is required", "INVALID_REQUEST_BODY")
        timeout = body.get("timeout") or 10
        cwd = sandbox.resolve(body.get("cwd")) if body.get("cwd") else sandbox.dir
        env = sandbox.command_env(body.get("envs"))
        process = subprocess.Popen(["/bin/bash", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ApiError(408, f"command execution timeout after {timeout} seconds", "PROCESS_EXECUTION_TIMEOUT") from None
        self.send_json(200, {"exitCode": process.returncode, "result": output.decode("utf-8", "replace")})
        return "POST /process/execute"

    def session_route(self, sandbox: FakeSandbox, parts: list[str], q: dict) -> str:
        method = self.command
        if not parts and method == "POST":
            session_id = self.json_body().get("sessionId")
            if not isinstance(session_id, str) or not session_id:
                raise ApiError(400, "sessionId is required", "INVALID_REQUEST_BODY")
            with STATE.lock:
                if session_id in sandbox.sessions:
                    raise ApiError(409, f"session {session_id} already exists", "CONFLICT")
                sandbox.sessions[session_id] = {}
            self.send_empty(201)
            return "POST /process/session"
        if not parts and method == "GET":
            self.send_json(200, [{"sessionId": sid, "commands": [c.view() for c in cmds.values()]} for sid, cmds in sandbox.sessions.items()])
            return "GET /process/session"
        session_id = parts[0]
        commands = sandbox.sessions.get(session_id)
        if commands is None:
            raise ApiError(404, f"session {session_id} not found", "NOT_FOUND")
        rest = parts[1:]
        if not rest and method == "GET":
            self.send_json(200, {"sessionId": session_id, "commands": [c.view() for c in commands.values()]})
            return "GET /process/session/{sid}"
        if not rest and method == "DELETE":
            for command in commands.values():
                command.kill()
            with STATE.lock:
                sandbox.sessions.pop(session_id, None)
            self.send_empty(204)
            return "DELETE /process/session/{sid}"
        if rest == ["exec"] and method == "POST":
            body = self.json_body()
            if not isinstance(body.get("command"), str):
                raise ApiError(400, "command is required", "INVALID_REQUEST_BODY")
            command = Command(body["command"], sandbox.dir, sandbox.command_env())
            commands[command.id] = command
            if body.get("runAsync") or body.get("async"):
                self.send_json(202, {"cmdId": command.id})
            else:
                command.wait()
                with command.cond:
                    self.send_json(200, {"cmdId": command.id, "exitCode": command.exit_code,
                                         "output": (bytes(command.stdout) + bytes(command.stderr)).decode("utf-8", "replace"),
                                         "stdout": command.stdout.decode("utf-8", "replace"), "stderr": command.stderr.decode("utf-8", "replace")})
            return "POST /process/session/{sid}/exec"
        if len(rest) >= 2 and rest[0] == "command":
            command = commands.get(rest[1])
            if command is None:
                raise ApiError(404, f"command {rest[1]} not found", "PROCESS_NOT_FOUND")
            if len(rest) == 2 and method == "GET":
                self.send_json(200, command.view())
                return "GET /process/session/{sid}/command/{cmd}"
            if rest[2:] == ["input"] and method == "POST":
                data = self.json_body().get("data")
                if not isinstance(data, str):
                    raise ApiError(400, "data is required", "INVALID_REQUEST_BODY")
                command.write_input(data.encode())
                self.send_empty(204)
                return "POST /process/session/{sid}/command/{cmd}/input"
            if rest[2:] == ["logs"] and method == "GET":
                if q.get("follow") == "true" and self.headers.get("Upgrade", "").lower() == "websocket":
                    self.entry["route"] = "WS /process/session/{sid}/command/{cmd}/logs"  # counted while it streams
                    self.stream_logs(command)
                    return "WS /process/session/{sid}/command/{cmd}/logs"
                with command.cond:
                    self.send_json(200, {"output": (bytes(command.stdout) + bytes(command.stderr)).decode("utf-8", "replace"),
                                         "stdout": command.stdout.decode("utf-8", "replace"), "stderr": command.stderr.decode("utf-8", "replace")})
                return "GET /process/session/{sid}/command/{cmd}/logs"
        raise ApiError(404, f"Cannot {method} {self.path}", "NOT_FOUND")

    # -- websocket log stream ----------------------------------------------------------------------

    def stream_logs(self, command: Command) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        if not key:
            raise ApiError(400, "missing Sec-WebSocket-Key", "BAD_REQUEST")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.status = 101
        self.close_connection = True
        drop = STATE.take_fault("GET", self.path, ("drop_logs",))
        drop_after = int(drop.get("after_bytes", 0)) if drop else None
        write_lock = threading.Lock()
        closed = threading.Event()
        sock = self.connection

        def send_frame(opcode: int, payload: bytes) -> None:
            header = bytes([0x80 | opcode])
            if len(payload) < 126:
                header += bytes([len(payload)])
            elif len(payload) < 65536:
                header += bytes([126]) + struct.pack(">H", len(payload))
            else:
                header += bytes([127]) + struct.pack(">Q", len(payload))
            with write_lock:
                sock.sendall(header + payload)

        def read_client() -> None:
            """Answers pings and notices the client's close; the payload of other frames is ignored."""
            try:
                while not closed.is_set():
                    head = self.rfile.read(2)
                    if len(head) < 2:
                        break
                    opcode, length = head[0] & 0x0F, head[1] & 0x7F
                    if length == 126:
                        length = struct.unpack(">H", self.rfile.read(2))[0]
                    elif length == 127:
                        length = struct.unpack(">Q", self.rfile.read(8))[0]
                    mask = self.rfile.read(4) if head[1] & 0x80 else b""
                    payload = bytearray(self.rfile.read(length))
                    if mask:
                        for i in range(len(payload)):
                            payload[i] ^= mask[i % 4]
                    if opcode == 0x9:
                        send_frame(0xA, bytes(payload))
                    elif opcode == 0x8:
                        break
            except (OSError, ValueError, struct.error):
                pass
            closed.set()
            with command.cond:
                command.cond.notify_all()

        threading.Thread(target=read_client, daemon=True).start()
        sent_bytes = 0
        index = 0
        try:
            while True:
                with command.cond:
                    command.cond.wait_for(lambda: index < len(command.chunks) or command.exit_code is not None or closed.is_set(), 5)
                    chunks = command.chunks[index:]
                    index += len(chunks)
                    finished = command.exit_code is not None and index >= len(command.chunks)
                if closed.is_set():
                    return
                for stream, data in chunks:
                    if drop_after is not None and sent_bytes + len(data) > drop_after:
                        send_frame(0x2, (STDOUT_PREFIX if stream == 1 else STDERR_PREFIX) + data[: max(0, drop_after - sent_bytes)])
                        sock.shutdown(socket.SHUT_RDWR)  # cut without a close frame
                        return
                    send_frame(0x2, (STDOUT_PREFIX if stream == 1 else STDERR_PREFIX) + data)
                    sent_bytes += len(data)
                if drop_after is not None and sent_bytes >= drop_after and drop_after == 0:
                    sock.shutdown(socket.SHUT_RDWR)
                    return
                if finished:
                    send_frame(0x8, struct.pack(">H", 1000))
                    closed.wait(2)
                    return
        except OSError:
            return

    # -- files -------------------------------------------------------------------------------------

    @staticmethod
    def file_info(path: str) -> dict:
        info = os.stat(path)
        modified = datetime.datetime.fromtimestamp(info.st_mtime, datetime.timezone.utc)
        return {"name": os.path.basename(path), "path": path, "isDir": os.path.isdir(path), "size": info.st_size,
                "mode": oct(info.st_mode & 0o777), "permissions": oct(info.st_mode & 0o777)[2:], "owner": "daytona",
                "group": "daytona", "modTime": modified.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC"),
                "modifiedAt": modified.isoformat().replace("+00:00", "Z")}

    def files_route(self, sandbox: FakeSandbox, parts: list[str], q: dict) -> str:
        method = self.command
        if not parts and method == "GET":
            path = sandbox.resolve(q.get("path") or ".")
            if not os.path.isdir(path):
                raise ApiError(404, f"{q.get('path')} is not a directory", "FILE_NOT_FOUND")
            self.send_json(200, [self.file_info(os.path.join(path, name)) for name in sorted(os.listdir(path))])
            return "GET /files"
        if not parts and method == "DELETE":
            path = sandbox.resolve(q.get("path"))
            if path == sandbox.dir:
                raise ApiError(403, "cannot delete the work dir", "FILE_ACCESS_DENIED")
            if os.path.isdir(path):
                if q.get("recursive") != "true" and os.listdir(path):
                    raise ApiError(400, "directory is not empty; pass recursive=true", "BAD_REQUEST")
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
            else:
                raise ApiError(404, f"{q.get('path')} not found", "FILE_NOT_FOUND")
            self.send_empty(204)
            return "DELETE /files"
        name = parts[0] if parts else ""
        if name == "info" and method == "GET":
            path = sandbox.resolve(q.get("path"))
            if not os.path.exists(path):
                raise ApiError(404, f"{q.get('path')} not found", "FILE_NOT_FOUND")
            self.send_json(200, self.file_info(path))
            return "GET /files/info"
        if name == "download" and method == "GET":
            path = sandbox.resolve(q.get("path"))
            if not os.path.isfile(path):
                raise ApiError(404, f"{q.get('path')} not found", "FILE_NOT_FOUND")
            with open(path, "rb") as handle:
                self.send_body(200, handle.read(), "application/octet-stream")
            return "GET /files/download"
        if name == "upload-v2" and method == "POST":
            path = sandbox.resolve(q.get("path"))
            fields = parse_multipart(self.headers.get("Content-Type", ""), self.read_body())
            part = next((f for f in fields if f["name"] == "file"), None)
            if part is None:
                raise ApiError(400, "multipart field `file` is required", "INVALID_REQUEST_BODY")
            write_file(path, part["data"])
            self.send_json(200, {"name": os.path.basename(path), "path": path, "type": "file"})
            return "POST /files/upload-v2"
        if name == "bulk-upload" and method == "POST":
            fields = parse_multipart(self.headers.get("Content-Type", ""), self.read_body())
            paths = {f["name"][: -len(".path")]: f["data"].decode() for f in fields if f["name"].endswith(".path")}
            written = []
            for f in fields:
                if f["name"].endswith(".file"):
                    destination = paths.get(f["name"][: -len(".file")]) or f.get("filename")
                    target = sandbox.resolve(destination)
                    write_file(target, f["data"])
                    written.append(target)
            self.send_json(200, {"files": written, "errors": []})
            return "POST /files/bulk-upload"
        if name == "bulk-download" and method == "POST":
            boundary = uuid.uuid4().hex
            out = bytearray()
            for source in self.json_body().get("paths") or []:
                try:
                    target = sandbox.resolve(source)
                    with open(target, "rb") as handle:
                        data, field = handle.read(), "file"
                    content_type = "application/octet-stream"
                except (ApiError, OSError) as exc:
                    data, field, content_type = json.dumps({"message": getattr(exc, "message", str(exc)), "statusCode": 404}).encode(), "error", "application/json"
                out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{source}\"\r\n"
                        f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n"
            out += f"--{boundary}--\r\n".encode()
            self.send_body(200, bytes(out), f"multipart/form-data; boundary={boundary}")
            return "POST /files/bulk-download"
        if name == "folder" and method == "POST":
            path = sandbox.resolve(q.get("path"))
            os.makedirs(path, mode=int(q.get("mode") or "755", 8), exist_ok=True)
            self.send_empty(201)
            return "POST /files/folder"
        raise ApiError(404, f"Cannot {method} {self.path}", "NOT_FOUND")


def write_file(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def parse_multipart(content_type: str, body: bytes) -> list[dict]:
    """The parts of a multipart/form-data body: [{name, filename, data}]."""
    marker = "boundary="
    if marker not in content_type:
        raise ApiError(400, "expected multipart/form-data with a boundary", "INVALID_REQUEST_BODY")
    boundary = content_type.split(marker, 1)[1].split(";")[0].strip().strip('"').encode()
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        fields = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for item in line.split(";")[1:]:
                    key, _, value = item.strip().partition("=")
                    fields[key] = value.strip('"')
        parts.append({"name": fields.get("name", ""), "filename": fields.get("filename"), "data": data})
    return parts


def main() -> None:
    global STATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=os.environ.get("FAKE_DAYTONA_API_KEY"),
                        help="the only bearer token accepted (default: any non-empty bearer token)")
    parser.add_argument("--latency-ms", type=float, default=0)
    args = parser.parse_args()
    STATE = State(args.api_key, args.latency_ms)
    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    STATE.base_url = f"http://127.0.0.1:{server.server_address[1]}"

    def cleanup(*_):
        for sandbox in list(STATE.sandboxes.values()):
            if not sandbox.destroyed:
                for command in sandbox.all_commands():
                    command.kill()
                shutil.rmtree(sandbox.dir, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)

    def exit_with_parent() -> None:
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(0.5)
        cleanup()

    threading.Thread(target=exit_with_parent, daemon=True).start()
    print(f"fake_daytona listening on {STATE.base_url}/api", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
