"""rlm-mcp sandbox worker: one Python REPL namespace, driven by the host over newline-delimited JSON frames.

Runs inside the sandbox (local bubblewrap/unshare, or Daytona). Standard library only, Python >= 3.10.
Frames travel on dedicated file descriptors (--in-fd / --out-fd), never on stdout/stderr, so stray writes from user
code or C extensions cannot corrupt the protocol. See DESIGN.md section 2 for the frame shapes.

Stdio mode (`--in-fd 0 --out-fd 1`, used on Daytona, where the host writes to the command's stdin and reads its log):
the worker first moves the protocol onto private duplicates of fds 0 and 1, then points fd 0 at /dev/null and fds 1/2
at the output capture, so user code, subprocesses and C extensions still cannot write into the frame stream.
"""

from __future__ import annotations

import io
import os
import sys
import time

# Every start of a namespace pays for what the worker imports, in time and in memory. `json` costs ~8 ms (it imports
# `re` and compiles its patterns), `ast` ~3 ms and `linecache` ~5 ms (`tokenize`, `re`): the worker uses the C parts
# under `json` and `ast` directly, and imports the rest (traceback, linecache, resource, ctypes) only on the paths that
# need them.
from _ast import PyCF_ONLY_AST, Expr, Expression  # what the `ast` module wraps

try:
    from _json import encode_basestring as _encode_string, make_encoder as _make_encoder, make_scanner as _make_scanner
except ImportError:  # an interpreter without the C accelerator: the `json` module does the work
    _make_encoder = _make_scanner = None

PROTOCOL_VERSION = 1

# Frames and tracebacks name the file this code was compiled from (the .py, or the .pyc the host prepared from it).
THIS_FILE = (lambda: None).__code__.co_filename


def _not_serializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value, default=_not_serializable) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)`, without importing `json`."""
    if _make_encoder is not None:
        try:
            encode = _make_encoder({}, default, _encode_string, None, ":", ",", False, False, True)
        except TypeError:  # another interpreter's signature: use the module
            pass
        else:
            return "".join(encode(value, 0))
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


class _ScanOptions:
    """What `json.loads` passes its C scanner by default."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity


_JSON_SPACE = " \t\n\r"
_scan = _make_scanner(_ScanOptions()) if _make_scanner is not None else None


def from_json(text: str):
    """`json.loads(text)`, without importing `json` for well-formed input; bad input gets `json`'s own error."""
    if _scan is not None:
        start = len(text) - len(text.lstrip(_JSON_SPACE))
        try:
            value, end = _scan(text, start)
        except StopIteration:
            pass
        else:
            if not text[end:].strip(_JSON_SPACE):
                return value
    import json

    return json.loads(text)


class _Submitted(BaseException):
    """Raised by SUBMIT to end the current code block cleanly (BaseException: user `except Exception` cannot swallow it)."""


class OutputLimitExceeded(BaseException):
    """Raised when a code block keeps printing far past the output cap; the namespace survives."""


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap: int, hard_cap: int) -> None:
        self.cap = cap
        self.hard_cap = hard_cap
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.total += len(text)
        room = self.cap - self.kept
        if room > 0:
            piece = text[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        if self.total > self.hard_cap:
            raise OutputLimitExceeded(
                f"output exceeded {self.hard_cap} characters; the code block was stopped (variables are kept)"
            )
        return len(text)

    def flush(self) -> None:
        pass

    def absorb(self, text: str) -> None:
        """Adds output captured outside Python (subprocesses, C code), within the cap but without the hard stop."""
        self.total += len(text)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))

    @property
    def truncated(self) -> bool:
        return self.total > self.kept

    def getvalue(self) -> str:
        return "".join(self.parts)


class Channel:
    """Frames in and out over two file descriptors."""

    def __init__(self, in_fd: int, out_fd: int) -> None:
        self.in_fd = in_fd
        self.reader = os.fdopen(in_fd, "rb", buffering=1 << 16)
        self.out_fd = out_fd
        self.next_request = 0
        self.detached = False

    def detach(self) -> None:
        """In a process forked by user code: let go of the protocol pipes, which belong to the parent worker."""
        self.detached = True
        for fd in (self.in_fd, self.out_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def send(self, frame: dict) -> None:
        if self.detached:
            raise RuntimeError("a forked child process cannot talk to the host")
        data = (to_json(frame, default=repr) + "\n").encode()
        view = memoryview(data)
        while view:
            written = os.write(self.out_fd, view)
            view = view[written:]

    def receive(self) -> dict | None:
        line = self.reader.readline()
        if not line:
            return None
        return from_json(line.decode("utf-8", "surrogatepass"))

    def request(self, exec_id: str, kind: str, **fields) -> dict:
        """Sends a request to the host and blocks until its reply arrives."""
        self.next_request += 1
        request_id = f"q{self.next_request}"
        self.send({"ev": "request", "id": request_id, "exec": exec_id, "kind": kind, **fields})
        while True:
            frame = self.receive()
            if frame is None:
                raise SystemExit(0)  # host went away
            if frame.get("op") == "reply" and frame.get("id") == request_id:
                return frame
            if frame.get("op") == "shutdown":
                raise SystemExit(0)
            # Anything else is a host bug; say so rather than deadlock.
            self.send({"ev": "protocol_error", "message": f"unexpected frame while waiting for {request_id}: {frame.get('op')}"})


def to_json_value(value):
    """A submitted value as JSON can carry it: unchanged when it serialises, else its repr."""
    try:
        to_json(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


class Worker:
    def __init__(self, channel: Channel, workdir: str, os_output_fd: int | None) -> None:
        self.channel = channel
        self.os_output_fd = os_output_fd
        self.workdir = workdir
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.current_exec: str | None = None
        self.current_code = ""
        self.submitted: dict | None = None
        self._install_helpers()

    # -- helpers visible to user code ------------------------------------------------------------

    def _install_helpers(self) -> None:
        worker = self

        def llm_query(prompt, model=None):
            """Ask the sub model one question; returns its text."""
            reply = worker._ask("llm_query", prompt=str(prompt), model=model)
            return reply["result"]

        def llm_query_batched(prompts, model=None):
            """Ask the sub model many questions concurrently; returns the answers in order."""
            reply = worker._ask("llm_query_batched", prompts=[str(p) for p in prompts], model=model)
            return reply["results"]

        def rlm_query(task, context=None):
            """Run a recursive RLM on `task` over `context`; returns its answer."""
            reply = worker._ask("rlm_query", task=str(task), context=context if context is None or isinstance(context, str) else to_json(context, default=repr))
            return reply["result"]

        def SUBMIT(**fields):
            """Finish: record the named fields as the final result and stop this code block."""
            if not fields:
                raise TypeError("SUBMIT needs at least one field, e.g. SUBMIT(answer=...)")
            worker.submitted = fields
            raise _Submitted()

        def FINAL(answer):
            SUBMIT(answer=answer)

        def FINAL_VAR(name):
            if name not in worker.namespace:
                raise NameError(f"FINAL_VAR: no variable named {name!r}")
            SUBMIT(answer=worker.namespace[name])

        for helper in (llm_query, llm_query_batched, rlm_query, SUBMIT, FINAL, FINAL_VAR):
            self.namespace[helper.__name__] = helper

    def _ask(self, kind: str, **fields):
        if self.current_exec is None:
            raise RuntimeError(f"{kind} can only be called while code is running")
        reply = self.channel.request(self.current_exec, kind, **fields)
        if reply.get("error"):
            raise RuntimeError(reply["error"])
        return reply

    # -- operations ------------------------------------------------------------------------------

    def execute(self, frame: dict) -> dict:
        exec_id = frame["id"]
        cap = int(frame.get("max_output_chars") or 20000)
        stdout = CappedWriter(cap, hard_cap=max(cap * 50, 1_000_000))
        stderr = CappedWriter(cap, hard_cap=max(cap * 50, 1_000_000))
        for name, value in (frame.get("variables") or {}).items():
            self.namespace[name] = value
        self.current_exec = exec_id
        self.submitted = None
        error = None
        started = time.perf_counter()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            self.current_code = frame.get("code", "")
            self._run(self.current_code)
        except _Submitted:
            pass
        except OutputLimitExceeded as exc:
            error = {"type": "OutputLimitExceeded", "message": str(exc), "traceback": ""}
        except SystemExit as exc:
            error = {"type": "SystemExit", "message": f"exit({exc.code!r}) was called; the namespace is kept", "traceback": ""}
        except KeyboardInterrupt:
            error = {"type": "KeyboardInterrupt", "message": "interrupted", "traceback": ""}
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything
            error = {"type": type(exc).__name__, "message": str(exc), "traceback": self._user_traceback(exc)}
        finally:
            sys.stdout, sys.stderr = saved
            self.current_exec = None
            self._absorb_os_output(stdout, cap)
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        submitted = None
        if self.submitted is not None:
            submitted = {k: to_json_value(v) for k, v in self.submitted.items()}
        out_text, err_text = stdout.getvalue(), stderr.getvalue()
        truncated = stdout.truncated or stderr.truncated
        if stdout.truncated:
            out_text += f"\n... [output truncated: {stdout.total - stdout.kept} more characters not shown]"
        if stderr.truncated:
            err_text += f"\n... [output truncated: {stderr.total - stderr.kept} more characters not shown]"
        result = {
            "ev": "result", "id": exec_id, "stdout": out_text, "stderr": err_text, "error": error,
            "submitted": submitted, "truncated": truncated, "duration_ms": duration_ms,
        }
        return result

    def _absorb_os_output(self, stdout: CappedWriter, cap: int) -> None:
        """Appends what subprocesses and C code wrote to fds 1/2 during the block, then empties the capture file."""
        if self.os_output_fd is None:
            return
        size = os.fstat(self.os_output_fd).st_size
        if size:
            os.lseek(self.os_output_fd, 0, os.SEEK_SET)
            data = os.read(self.os_output_fd, min(size, cap * 4))
            stdout.absorb(data.decode("utf-8", "replace"))
            if size > len(data):
                stdout.total += size - len(data)
            os.ftruncate(self.os_output_fd, 0)

    def _run(self, code: str) -> None:
        """Runs a block like a REPL cell: statements in order, and the value of a final bare expression is printed."""
        # Tracebacks the code prints itself quote the cell's lines once something loaded linecache.
        if "linecache" in sys.modules:
            self._register_cell(code)
        tree = compile(code, "<cell>", "exec", PyCF_ONLY_AST)  # what ast.parse does
        last_expr = None
        if tree.body and isinstance(tree.body[-1], Expr):
            last_expr = Expression(tree.body.pop().value)
        if tree.body:
            exec(compile(tree, "<cell>", "exec"), self.namespace)
        if last_expr is not None:
            value = eval(compile(last_expr, "<cell>", "eval"), self.namespace)
            if value is not None:
                print(repr(value))

    @staticmethod
    def _register_cell(code: str) -> None:
        """Lets tracebacks quote the cell's lines, as they would a file's."""
        import linecache

        linecache.cache["<cell>"] = (len(code), None, code.splitlines(True), "<cell>")

    def _user_traceback(self, exc: BaseException) -> str:
        """The traceback from the user's cell onwards, without this worker's frames."""
        import traceback

        self._register_cell(self.current_code)
        frames = traceback.extract_tb(exc.__traceback__)
        user = [f for f in frames if f.filename != THIS_FILE]
        lines = traceback.format_list(user) if user else []
        if isinstance(exc, SyntaxError):
            return "".join(traceback.format_exception_only(type(exc), exc))
        return "Traceback (most recent call last):\n" + "".join(lines) + "".join(traceback.format_exception_only(type(exc), exc))

    def load_context(self, frame: dict) -> dict:
        path = os.path.join(self.workdir, frame["path"])
        kind = frame.get("kind", "text")
        name = frame.get("name", "context")
        started = time.perf_counter()
        with open(path, encoding="utf-8") as handle:
            value = from_json(handle.read()) if kind == "json" else handle.read()
        self.namespace[name] = value
        return {"ev": "loaded", "id": frame.get("id"), "name": name, "type": type(value).__name__,
                "length": len(value), "duration_ms": round((time.perf_counter() - started) * 1000, 3)}


def apply_limits(args) -> None:
    import resource

    def cap(kind, value):
        if value and value > 0:
            resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_CPU, args.cpu_s)
    cap(resource.RLIMIT_AS, args.memory_mb * 1024 * 1024 if args.memory_mb else 0)
    cap(resource.RLIMIT_FSIZE, args.fsize_mb * 1024 * 1024 if args.fsize_mb else 0)
    cap(resource.RLIMIT_NOFILE, args.nofile)
    cap(resource.RLIMIT_NPROC, args.nproc)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def die_with_parent() -> None:
    """Linux: get SIGKILL when the process that started us dies, so no worker outlives the server."""
    try:
        import _signal  # not `signal`, which imports enum (~5 ms)
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, _signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort off Linux
        pass


def capture_os_output() -> int | None:
    """Points fds 1 and 2 at an anonymous append-only file, so output of subprocesses (`os.system`, `subprocess`)
    and C code is captured with each block's stdout instead of being lost or reaching the host's terminal."""
    try:
        path = os.path.join(os.environ.get("TMPDIR") or "/tmp", f".rlm-output-{os.getpid()}-{time.monotonic_ns()}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
        appending = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_APPEND)
        os.dup2(appending, 1)
        os.dup2(appending, 2)
        os.close(appending)
        return fd
    except OSError:
        return None


class Options:
    """Command-line options: `--name value` pairs with integer values except the paths (argparse costs ~1 MB).

    --site-dirs: the interpreter's site-packages directories, colon-separated, as the host's probe found them (the
    worker then skips importing `site`); --die-with-parent 0: the launcher (bubblewrap) already kills the worker with
    the host, so the worker need not load ctypes to ask the kernel itself."""

    TEXT = ("workdir", "site_dirs")

    def __init__(self, argv: list[str]) -> None:
        self.in_fd, self.out_fd, self.workdir = 3, 4, os.getcwd()
        self.cpu_s = self.memory_mb = self.fsize_mb = self.nofile = self.nproc = 0
        self.site_dirs: str | None = None
        self.die_with_parent = 1
        pairs = dict(zip(argv[0::2], argv[1::2]))
        for flag, value in pairs.items():
            name = flag.lstrip("-").replace("-", "_")
            if not flag.startswith("--") or not hasattr(self, name):
                raise SystemExit(f"rlm_worker.py: unknown option {flag}")
            setattr(self, name, value if name in self.TEXT else int(value))


def take_stdio(args) -> None:
    """Stdio mode: the protocol gets private copies of fds 0/1 (inheritable=False), and fd 0 stops being a way in."""
    if args.in_fd == 0:
        args.in_fd = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    if args.out_fd == 1:
        args.out_fd = os.dup(1)
        # Until the capture takes over fds 1/2, nothing else may write there.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)


def main() -> int:
    args = Options(sys.argv[1:])
    take_stdio(args)
    # Started with -S for a lean interpreter: make installed packages importable without running .pth hooks.
    if args.site_dirs is None:
        import site

        site_dirs = site.getsitepackages()
    else:
        site_dirs = [directory for directory in args.site_dirs.split(":") if directory]
    for directory in site_dirs:
        if directory not in sys.path and os.path.isdir(directory):
            sys.path.append(directory)

    if args.die_with_parent:
        die_with_parent()
    channel = Channel(args.in_fd, args.out_fd)
    os.chdir(args.workdir)
    apply_limits(args)
    sys.setrecursionlimit(10_000)
    worker = Worker(channel, args.workdir, capture_os_output())
    # Code that forks without exec (os.fork, multiprocessing) must not leave children reading the host's frames.
    os.register_at_fork(after_in_child=channel.detach)
    channel.send({"ev": "ready", "pid": os.getpid(), "python": sys.version.split()[0], "protocol": PROTOCOL_VERSION})
    while True:
        frame = channel.receive()
        if frame is None or frame.get("op") == "shutdown":
            return 0
        op = frame.get("op")
        if op == "exec":
            result = worker.execute(frame)
            if channel.detached:
                os._exit(0)  # a forked child finished the block it inherited
            channel.send(result)
        elif op == "load_context":
            try:
                channel.send(worker.load_context(frame))
            except Exception as exc:  # noqa: BLE001
                channel.send({"ev": "loaded", "id": frame.get("id"), "error": {"type": type(exc).__name__, "message": str(exc)}})
        else:
            channel.send({"ev": "protocol_error", "message": f"unknown op {op!r}"})


if __name__ == "__main__":
    sys.exit(main())
