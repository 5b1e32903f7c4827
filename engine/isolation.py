"""Running code that is not bounded in an isolated interpreter with hard limits.

A loop, a comprehension or a call the compiler cannot bound runs in a child
interpreter (``python -m engine.sandbox_child``) instead of the server process:

- started with :class:`subprocess.Popen`, not :mod:`multiprocessing`, because
  Celery's prefork pool processes are daemonic and may not have
  multiprocessing children;
- one per OS process and configuration, started on first use, used by one
  thread at a time (runserver and gunicorn's gthread workers run threads);
- JSON both ways (:mod:`engine.wire`), so nothing the child says can become
  an object here;
- its address space is limited (``RLIMIT_AS``) and, as a backstop should this
  process die first, its CPU time per request (``RLIMIT_CPU``);
- this process waits ``seconds`` for the answer, then kills (SIGKILL) and
  reaps the child; the next call starts a new one.
"""

from __future__ import annotations

import atexit
import os
import selectors
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from . import clock, helpers, wire
from .errors import EngineError, ScriptRefused, ScriptStopped
from .limits import TimeLimits
from .workdays import WorkCalendar

_ROOT = Path(__file__).resolve().parent.parent  # so ``-m engine...`` finds this checkout
# What the interpreter itself may need to start; never the server's settings or secrets.
_PASSED_ENV = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
_STARTUP_SECONDS = 30.0
_REPLY_SLACK = 16 * 2**20  # a reply may exceed its request by this much
_ERRORS = {
    cls.__name__: cls
    for cls in (NameError, TypeError, ValueError, KeyError, IndexError, AttributeError,
                ZeroDivisionError, OverflowError, RecursionError, AssertionError,
                LookupError, ArithmeticError, NotImplementedError, RuntimeError)
}  # fmt: skip
_LIVE: weakref.WeakSet[Child] = weakref.WeakSet()


class _Invalid(Exception):
    """The child's answer is not one it would give: it is discarded."""


class Child:
    """One isolated interpreter, started on first use and killed at a limit."""

    def __init__(self, config: dict):
        self._config = wire.dumps(config)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._turn = 0  # echoed by the child, so an answer is never taken for another's
        _LIVE.add(self)

    def request(self, message: dict, seconds: float, memory_mb: int) -> dict:
        with self._lock:
            self._turn += 1
            payload = wire.dumps({**message, "turn": self._turn})
            proc = self._running()
            try:
                _write(proc, payload)
                reply = self._reply(proc, seconds, memory_mb, len(payload) + _REPLY_SLACK)
                if reply.get("turn") != self._turn:
                    raise _Invalid("an answer out of turn")
                return reply
            except (OSError, _Invalid) as err:
                self._discard()  # it ended, or says what it should not: never trust it again
                what = "ended" if isinstance(err, OSError) else f"answer is invalid ({err})"
                raise ScriptStopped(f"stopped: the isolated interpreter {what}") from None
            except BaseException:
                if self._proc is proc:
                    self._discard()  # half a conversation would answer the next request
                raise

    def _reply(self, proc, seconds: float, memory_mb: int, most: int) -> dict:
        try:
            line = _read_line(proc, seconds, most)
        except TimeoutError:
            self._discard()
            raise ScriptStopped(
                f"stopped after {seconds:g} s (the time limit for scripts)"
            ) from None
        except EOFError:
            code = self._discard()
            raise ScriptStopped(
                f"stopped: the isolated interpreter ended (exit {code}), "
                f"most likely past its {memory_mb} MB memory limit"
            ) from None
        except OverflowError:
            self._discard()
            raise ScriptStopped(f"stopped: its result is larger than {most:,} bytes") from None
        try:
            reply = wire.loads(line)
        except (ValueError, KeyError, TypeError, RecursionError) as err:
            raise _Invalid(err) from None
        if not isinstance(reply, dict):
            raise _Invalid(type(reply).__name__)
        if reply.get("kind") == "memory":
            self._discard()  # a MemoryError may have left it in a bad state
        return reply

    def _running(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._discard()
            self._proc = self._start()
        return self._proc

    def _start(self) -> subprocess.Popen:
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-E", "-s", "-m", "engine.sandbox_child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, cwd=_ROOT,
            env={k: os.environ[k] for k in _PASSED_ENV if k in os.environ},
            start_new_session=True,
        )  # fmt: skip
        try:
            _write(proc, self._config)
            _read_line(proc, _STARTUP_SECONDS, 1024)
        except (OSError, TimeoutError, EOFError, OverflowError) as err:
            _kill(proc)
            raise EngineError(f"The isolated script interpreter did not start ({err!r})") from err
        return proc

    def _discard(self) -> int | None:
        proc, self._proc = self._proc, None  # idempotent: None the second time
        return _kill(proc) if proc is not None else None

    def _forget(self) -> None:
        """In a forked copy of this process: the child belongs to the parent; drop it."""
        self._lock = threading.Lock()
        if self._proc is not None:
            for pipe in (self._proc.stdin, self._proc.stdout):
                pipe.close()
            self._proc.returncode = 0  # never wait for another process's child
            self._proc = None


def _write(proc: subprocess.Popen, payload: bytes) -> None:
    view, fd = memoryview(payload), proc.stdin.fileno()
    while view:
        view = view[os.write(fd, view) :]


def _read_line(proc: subprocess.Popen, seconds: float, most: int) -> bytes:
    """One line from the child within ``seconds``, at most ``most`` bytes."""
    deadline, chunks, size = time.monotonic() + seconds, [], 0
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size += len(chunk)
            if size > most:
                raise OverflowError
            if chunk.endswith(b"\n"):  # one request, one line: nothing follows it
                return b"".join(chunks)


def _kill(proc: subprocess.Popen) -> int | None:
    if proc.poll() is None:
        proc.kill()
    code = proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        pipe.close()
    return code


def _forget_all() -> None:
    global _CHILDREN_LOCK
    _CHILDREN_LOCK = threading.Lock()  # another thread may have held it at the fork
    for child in list(_LIVE):
        child._forget()


def _close_all() -> None:
    """At exit: an idle child ends on end of input; one that does not is killed."""
    for child in list(_LIVE):
        proc, child._proc = child._proc, None
        if proc is not None:
            proc.stdin.close()
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                _kill(proc)


os.register_at_fork(after_in_child=_forget_all)
atexit.register(_close_all)
_CHILDREN: dict[bytes, Child] = {}
_CHILDREN_LOCK = threading.Lock()


def _child_for(config: dict) -> Child:
    key = wire.dumps(config)
    with _CHILDREN_LOCK:
        child = _CHILDREN.get(key)
        if child is None:
            child = _CHILDREN[key] = Child(config)
    return child


class Isolated:
    """Evaluates and executes sources in the isolated interpreter for one engine's config."""

    def __init__(
        self,
        calendar: WorkCalendar | None = None,
        limits: TimeLimits | None = None,
        seconds: float = 1.0,
        memory_mb: int = 256,
        extra_names: frozenset[str] = frozenset(),
    ):
        if not seconds > 0 or not memory_mb > 0:
            raise EngineError("The script time and memory limits must be positive")
        self.seconds, self.memory_mb = float(seconds), int(memory_mb)
        config = helpers.config(calendar or WorkCalendar(), limits or TimeLimits())
        config.update(memory_mb=self.memory_mb, extra=sorted(extra_names))
        self._child = _child_for(config)

    def evaluate(self, source: str, data: dict):
        return self._run("eval", source, data, {})

    def execute(self, source: str, data: dict, external: dict) -> dict:
        results = self._run("exec", source, data, external)
        if not isinstance(results, dict) or not all(type(k) is str for k in results):
            raise ScriptStopped("stopped: the isolated interpreter's answer is not task data")
        return results

    def _run(self, mode: str, source: str, data: dict, external: dict):
        message = {
            "mode": mode, "source": source, "data": wire.encode_mapping(data),
            "external": sorted(external), "now": clock.now().isoformat(),
            "seconds": self.seconds,
        }  # fmt: skip
        reply = self._child.request(message, self.seconds, self.memory_mb)
        if "value" in reply:
            return reply["value"]
        raise _error(reply, self.memory_mb)


def _error(reply: dict, memory_mb: int) -> Exception:
    kind, message = reply.get("kind"), str(reply.get("message", ""))
    if kind == "memory":
        return ScriptStopped(
            f"stopped: it used more than {memory_mb} MB (the memory limit for scripts)"
        )
    if kind == "stopped":
        return ScriptStopped(message)
    if kind == "refused":
        return ScriptRefused(message)
    cls = _ERRORS.get(str(reply.get("type")))
    if cls is None:
        return RuntimeError(f"{reply.get('type')}: {message}")
    return cls(message)
