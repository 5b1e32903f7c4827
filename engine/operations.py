"""Service-task operations: what a process may ask of the world outside the engine.

A BPMN service task names an operation (``spiffworkflow:serviceTaskOperator``)
and its parameters. The engine does not touch any database: it checks the
call, answers at once, and hands the call back in :attr:`StepResult.effects`;
the server applies the effects in the same transaction as the step, so a step
and the unit status it sets are stored together or not at all.

The engine knows operations only by their declarations, which its host
registers at start-up (:func:`register`): the server declares each of its
operations in a module of its own, with the handler that applies it
(``server/estate/operations/``). Validation and the recording of calls read
the same registry, so what a diagram may name is what the host can do.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import EngineError

UNCHECKED = object()  # a parameter read from process data: known only when the task runs


@dataclass(frozen=True)
class Operation:
    """What a diagram may call: the name, the parameters, and a check of their values."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    en: str  # one line on what it does, for whoever writes diagrams
    # Sentences on what is wrong with the values known before the task runs (validation
    # leaves out those read from process data; a call at run time has them all).
    check: Callable[[dict[str, Any]], list[str]] | None = None

    def problems(self, params: dict[str, Any]) -> list[str]:
        """What is wrong with ``params`` (evaluated values), as sentences."""
        found = []
        missing = [p for p in self.required if params.get(p) in (None, "")]
        if missing:
            found.append(f"{self.name} needs {', '.join(missing)}")
        unknown = sorted(set(params) - set(self.required) - set(self.optional))
        if unknown:
            found.append(f"{self.name} takes no parameter {', '.join(unknown)}")
        if self.check is not None:
            known = {k: v for k, v in params.items() if v is not UNCHECKED}
            found += [f"{self.name}: {problem}" for problem in self.check(known)]
        return found


# Filled by the host at start-up, read by validation and by every call.
OPERATIONS: dict[str, Operation] = {}


class OperationRefused(EngineError):
    pass


def register(operation: Operation) -> None:
    """Offer ``operation`` to diagrams; a second, different declaration of a name is refused."""
    known = OPERATIONS.get(operation.name)
    if known is not None and known != operation:
        raise ValueError(f"Service operation {operation.name!r} is declared twice")
    OPERATIONS[operation.name] = operation


def unregister(name: str) -> None:
    OPERATIONS.pop(name, None)


@dataclass(frozen=True)
class Effect:
    """A service call made by a step, for the caller to apply with the step's state."""

    operation: str
    params: dict[str, Any]


_recorded: contextvars.ContextVar[list[Effect] | None] = contextvars.ContextVar(
    "propflow_effects", default=None
)


def call(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check and record one service call; the answer lands in the task's data."""
    operation = OPERATIONS.get(name)
    if operation is None:
        raise OperationRefused(
            f"Unknown service operation {name!r}; known: {', '.join(sorted(OPERATIONS))}"
        )
    problems = operation.problems(params)
    if problems:
        raise OperationRefused("; ".join(problems))
    recorded = _recorded.get()
    if recorded is not None:  # validation dry runs record nothing
        recorded.append(Effect(name, dict(params)))
    return {"operation": name, "accepted": True}


@contextlib.contextmanager
def recording() -> Iterator[list[Effect]]:
    """Collect the service calls made inside the block."""
    effects: list[Effect] = []
    token = _recorded.set(effects)
    try:
        yield effects
    finally:
        _recorded.reset(token)
