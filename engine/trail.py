"""What a case went through, read from its engine state for an auditor: the diagram's
elements in the order they completed, and every time limit its human tasks had (waiting,
fired or left behind when the task ended), with the expression that set it."""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .types import PassedStep, TaskLimit


def path(wf: BpmnWorkflow) -> tuple[PassedStep, ...]:
    """The diagram's elements the case completed, in the order it completed them
    (SpiffWorkflow's own internal tasks, which no diagram draws, left out)."""
    done = [
        t for t in wf.get_tasks(state=TaskState.COMPLETED)
        if getattr(t.task_spec, "bpmn_id", None)
    ]  # fmt: skip
    done.sort(key=lambda t: t.last_state_change)
    return tuple(
        PassedStep(
            bpmn_id=t.task_spec.bpmn_id,
            name=t.task_spec.bpmn_name or t.task_spec.bpmn_id,
            kind=type(t.task_spec).__name__,
        )
        for t in done
    )


def limits(wf: BpmnWorkflow, due_of, reminder_of) -> tuple[TaskLimit, ...]:
    """The boundary timers of every human task the case had: the limit each task ran
    against. ``due_of(task)`` and ``reminder_of(spec)`` are the runtime's own readings."""
    found = []
    for task in wf.get_tasks(manual=True):
        parent = task.parent
        if parent is None or not parent.task_spec.name.endswith("BoundaryEventSplit"):
            continue
        for sibling in parent.children:
            event = getattr(sibling.task_spec, "event_definition", None)
            if sibling is task or not isinstance(event, TimerEventDefinition):
                continue
            found.append(TaskLimit(
                task_id=str(task.id), bpmn_id=sibling.task_spec.bpmn_id,
                name=sibling.task_spec.bpmn_name or sibling.task_spec.bpmn_id,
                reminder=reminder_of(sibling.task_spec), expression=str(event.expression),
                state=_state(sibling.state), due=due_of(sibling),
            ))  # fmt: skip
    return tuple(found)


def _state(state: int) -> str:
    if state == TaskState.COMPLETED:
        return "fired"
    if state == TaskState.WAITING:
        return "waiting"
    return "ended"
