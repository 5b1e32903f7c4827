"""Plain data the engine hands to its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReadyTask:
    """A human (user or manual) task that is ready to be worked on."""

    id: str  # the engine's task UUID, stable for the task's life
    bpmn_id: str
    name: str
    lane: str | None
    role: str | None
    form: str | None  # JSON Schema file name, resolved against the version's forms
    ui_form: str | None
    documentation: str | None
    due: datetime | None = None  # the earliest timer on the task's boundary, reminders aside
    name_en: str | None = None  # the manifest's English gloss
    assignee: str | None = None  # the username the diagram gives it (camunda:assignee)
    hand_back: bool = False  # its diagram gives it a way back (a hand_back boundary message)


@dataclass(frozen=True)
class WaitingTimer:
    """A timer the instance is waiting on."""

    task_id: str
    bpmn_id: str
    name: str
    due: datetime | None  # None when the timer has not been evaluated yet
    attached_to: str | None = None  # the engine id of the task whose boundary it is on
    reminder: bool = False  # a warning before the limit, not the limit: no due time


@dataclass(frozen=True)
class Thrown:
    """An event a step threw that nothing in the process caught: the caller's to act on.

    Escalations (``escalationCode`` = the role key to notify) and messages.
    """

    kind: str  # escalation | message | signal | error
    code: str
    name: str
    payload: Any = None
    element: str | None = None  # the BPMN id of the event that threw it
    element_name: str | None = None
    # The engine id of the human task whose boundary timer led to the throw: the late task.
    late_task: str | None = None

    @classmethod
    def of(cls, event, source_task=None, late_task: str | None = None) -> Thrown:
        definition = event.event_definition
        kind = type(definition).__name__.removesuffix("EventDefinition").lower()
        code = getattr(definition, "code", None) or getattr(definition, "name", None) or ""
        spec = source_task.task_spec if source_task is not None else None
        return cls(kind=kind, code=str(code), name=str(definition.name or code),
                   payload=event.payload, element=spec.bpmn_id if spec else None,
                   element_name=(spec.bpmn_name or spec.bpmn_id) if spec else None,
                   late_task=late_task)  # fmt: skip


@dataclass(frozen=True)
class PassedStep:
    """An element of the diagram a case went through (engine/trail.py)."""

    bpmn_id: str
    name: str
    kind: str  # SpiffWorkflow's spec class: UserTask, ExclusiveGateway, BoundaryEvent...


@dataclass(frozen=True)
class TaskLimit:
    """A boundary timer of one human task, as the case's state holds it."""

    task_id: str  # the human task's engine id (a task row's id)
    bpmn_id: str
    name: str
    reminder: bool
    expression: str  # as drawn: names the limit (deadline("repair.urgent_arrival", ...))
    state: str  # waiting | fired | ended (its task ended first)
    due: datetime | None


@dataclass(frozen=True)
class CaseTrail:
    path: tuple[PassedStep, ...]
    limits: tuple[TaskLimit, ...]
    data: dict[str, Any]


@dataclass(frozen=True)
class StepResult:
    """What one change did: the state to store and what happened on the way."""

    state: str  # JSON: the instance's own tasks and data, no spec
    status: str  # running | completed
    ready: tuple[ReadyTask, ...]
    timers: tuple[WaitingTimer, ...]
    fired: tuple[WaitingTimer, ...] = ()
    # The timers waiting before the step: with ``timers``, what the caller's schedule must
    # drop, add or move (nothing, for most steps).
    timers_before: tuple[WaitingTimer, ...] = ()
    effects: tuple[Any, ...] = ()  # operations.Effect: service calls to apply with the state
    thrown: tuple[Thrown, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def next_due(self) -> datetime | None:
        dues = [t.due for t in self.timers if t.due is not None]
        return min(dues) if dues else None
