"""Service-task operations: what a process may ask of the property registry.

A BPMN service task names an operation (``spiffworkflow:serviceTaskOperator``)
and its parameters. The engine does not touch any database: it checks the
call, answers at once, and hands the call back in :attr:`StepResult.effects`;
the server applies the effects in the same transaction as the step, so a step
and the unit status it sets are stored together or not at all.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import EngineError

UNIT_STATUSES = ("not_handed_over", "handed_over", "renovating", "occupied", "vacant")
UNCHECKED = object()  # a parameter read from process data: known only when the task runs


@dataclass(frozen=True)
class Operation:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    en: str

    def problems(self, params: dict[str, Any]) -> list[str]:
        """What is wrong with ``params`` (evaluated values), as sentences."""
        found = []
        missing = [p for p in self.required if params.get(p) in (None, "")]
        if missing:
            found.append(f"{self.name} needs {', '.join(missing)}")
        unknown = sorted(set(params) - set(self.required) - set(self.optional))
        if unknown:
            found.append(f"{self.name} takes no parameter {', '.join(unknown)}")
        status = params.get("status")
        if (
            self.name == "unit_set_status"
            and status is not UNCHECKED
            and status not in UNIT_STATUSES
        ):
            found.append(
                f"unit_set_status: status must be one of {', '.join(UNIT_STATUSES)}, "
                f"not {params.get('status')!r}"
            )
        return found


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("unit_set_status", ("unit", "status"), (), "Set the unit's status"),
        Operation(
            "owner_file_record",
            ("unit", "owner"),
            ("household", "vehicles", "moved_in"),
            "Create or update the owner file of the unit (一户一档)",
        ),
        Operation(
            "owner_file_move_out",
            ("unit",),
            ("moved_out",),
            "Record that the unit's residents moved out",
        ),
    )  # fmt: skip
}


@dataclass(frozen=True)
class Effect:
    """A service call made by a step, for the caller to apply with the step's state."""

    operation: str
    params: dict[str, Any]


_recorded: contextvars.ContextVar[list[Effect] | None] = contextvars.ContextVar(
    "propflow_effects", default=None
)


class OperationRefused(EngineError):
    pass


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
