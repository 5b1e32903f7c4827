"""The isolated script interpreter: ``python -m engine.sandbox_child``, run by engine.isolation.

It reads its configuration (calendar, time limits, memory limit, the names of
the server's extra helpers) as the first line on stdin, limits itself, answers
``{"ready": true}``, then answers one JSON line per request line: a source to
evaluate or execute over the task data sent with it, compiled exactly as in the
server process, with the same helpers, whose "now" is the server's clock at
the moment of the call. It never writes anything else to its stdout.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from datetime import datetime

from . import helpers, wire
from .compiler import compile_source
from .errors import ScriptRefused, ScriptStopped
from .guards import restricted_globals, script_results

_OUT_OF_MEMORY = b'{"kind":"memory","turn":%d}\n'  # made while there is memory to make it


def _address_space() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _lower(kind: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above the hard limit the server itself runs under."""
    ceiling = resource.getrlimit(kind)[1]
    if ceiling != resource.RLIM_INFINITY:
        soft = min(soft, ceiling)
        hard = ceiling if hard is None else min(hard, ceiling)
    resource.setrlimit(kind, (soft, ceiling if hard is None else hard))


def _limit_memory(memory_mb: int) -> None:
    """``memory_mb`` more than what the interpreter and its imports already take."""
    most = _address_space() + memory_mb * 2**20
    _lower(resource.RLIMIT_AS, most, most)
    _lower(resource.RLIMIT_CORE, 0, 0)


def _limit_cpu(seconds: float) -> None:
    """The server kills us at ``seconds``; this only catches the case where it died first."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _lower(resource.RLIMIT_CPU, math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 2)


class Runner:
    def __init__(self, config: dict):
        calendar, limits = helpers.from_config(config)
        self.now = datetime.now().astimezone()
        functions = helpers.make(calendar, limits, lambda: self.now)
        functions.update({name: _not_here(name) for name in config["extra"]})
        self.base = {**restricted_globals(strict=False), **functions}

    def answer(self, line: bytes) -> bytes:
        turn = None
        try:
            request = wire.loads(line)
            turn = request["turn"]
            self.now = datetime.fromisoformat(request["now"])
            _limit_cpu(request["seconds"])
            return wire.dumps({"turn": turn, "value": self._run(request)})
        except MemoryError:
            return _OUT_OF_MEMORY % (turn or 0)
        except ScriptStopped as err:
            return wire.dumps({"turn": turn, "kind": "stopped", "message": str(err)})
        except ScriptRefused as err:
            return wire.dumps({"turn": turn, "kind": "refused", "message": str(err)})
        except BaseException as err:  # the script's own error, reported as the server would
            message = str(err.args[0]) if err.args else ""
            reply = {"turn": turn, "kind": "error", "type": type(err).__name__, "message": message}
            return wire.dumps(reply)

    def _run(self, request: dict):
        is_expression = request["mode"] == "eval"
        compiled = compile_source(request["source"], is_expression, frozenset())
        namespace = {**request["data"], **self.base}
        if is_expression:
            return wire.encode(eval(compiled.code, namespace), "the result")  # noqa: S307
        exec(compiled.code, namespace)  # noqa: S102 (restricted code)
        external = dict.fromkeys(request["external"])
        return wire.encode_mapping(script_results(namespace, self.base, external))


def _not_here(name: str):
    def refuse(*args, **kwargs):
        raise ScriptRefused(
            f"{name} cannot be called here: this code runs isolated, and functions given as "
            "Engine(extra_helpers=...) stay in the server"
        )

    return refuse


def _send(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    protocol = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to stderr, never into the protocol
    requests = sys.stdin.buffer
    config = json.loads(requests.readline())
    runner = Runner(config)
    _limit_memory(config["memory_mb"])
    _send(protocol, wire.dumps({"ready": True}))
    for line in requests:
        _send(protocol, runner.answer(line))


if __name__ == "__main__":
    main()
