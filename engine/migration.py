"""Moving a running instance to another version of its process (issue 13, item 8).

SpiffWorkflow's ``bpmn.util.diff`` aligns the old version's task specs with the new
one's (by BPMN id first, then by structure) and ``migrate_workflow`` re-points every
task at its new spec, resetting the READY and WAITING ones so their branches are
predicted from the new diagram. What it does not do is say no: a task left on a spec the
new version lacks is stored under a name the new version cannot load. So each case is
checked first, and refused with one sentence per reason, each naming the element:

- every *open* element (a ready or started human task, a waiting timer, message or
  signal) must still be in the new version under the same id, with the same kind (user
  task stays user task; a timer stays a timer);
- every task the case went through must have a counterpart in the new version, and so
  must every task it still holds after the move (what it predicts is predicted again from
  the new diagram), or the state could not be read back;
- a running subprocess must still be defined.

Here only the READY tasks are reset (see :func:`move`), so a waiting timer keeps its
due time when its element remains, whatever the new version's expression says: a
promise made to an owner does not move under them. The new version's limits apply to
the tasks and timers that start after the move.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _kind(spec) -> str:
    """A task spec's kind as a person reads it: ``UserTask``, ``BoundaryEvent(Timer)``."""
    event = getattr(spec, "event_definition", None)
    name = type(spec).__name__
    if event is None:
        return name
    if isinstance(event, TimerEventDefinition):  # a date, a duration or a cycle: a timer
        return f"{name}(Timer)"
    return f"{name}({type(event).__name__.removesuffix('EventDefinition')})"


def _label(spec) -> str:
    name = getattr(spec, "bpmn_name", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    return f"{bpmn_id} ({name})" if name and name != bpmn_id else bpmn_id


def _is_open(task) -> bool:
    """Open, in the issue's sense: a human task someone can work on, or an event waited on."""
    if not task.has_state(OPEN):
        return False
    spec = task.task_spec
    return bool(spec.manual) or getattr(spec, "event_definition", None) is not None


def _problems_of(diff, workflow, new_spec) -> list[str]:
    reasons = []
    for task in workflow.get_tasks(skip_subprocesses=True):
        old = task.task_spec
        new = diff.alignment.get(task)
        if _is_open(task):
            what = "Open task" if old.manual else "Waiting event"
            candidate = new_spec.task_specs.get(old.name)
            if candidate is None:
                reasons.append(f"{what} {_label(old)} is not in the new version.")
            elif _kind(candidate) != _kind(old):
                reasons.append(
                    f"{what} {_label(old)} is a {_kind(old)} here and a {_kind(candidate)} "
                    "in the new version."
                )
        elif new is None and old.bpmn_id is not None and task.has_state(TaskState.FINISHED_MASK):
            # Predicted tasks are not asked about: those after a ready task are predicted
            # again from the new diagram; any other left on a lost spec is refused after
            # the move (``stray_specs``).
            reasons.append(
                f"The case went through {_label(old)}, which the new version no longer has."
            )
    return list(dict.fromkeys(reasons))


def problems(registry, wf, new_spec, new_dependencies) -> tuple[list[str], tuple]:
    """Why ``wf`` cannot move to ``new_spec`` (empty: it can), and the diffs to move it by."""
    top, subs = diff_workflow(registry, wf, new_spec, new_dependencies)
    reasons = _problems_of(top, wf, new_spec)
    for sp_id, sp in wf.subprocesses.items():
        diff = subs.get(sp_id)
        if diff is None:
            if not sp.is_completed():
                reasons.append(f"Subprocess {sp.spec.name} is running and the new version "
                               "does not define it.")  # fmt: skip
            continue
        reasons += _problems_of(diff, sp, new_dependencies[sp.spec.name])
    return reasons, (top, subs)


def move(wf, diffs, new_spec, new_dependencies) -> None:
    """Re-point ``wf`` and its subprocesses at the new specs.

    Only READY tasks are reset (their branches predicted again from the new diagram, their
    ids kept); WAITING ones are re-pointed as they are. SpiffWorkflow's default resets
    those too, which evaluates a timer's expression again at the moment of the move: a
    limit counted from "now" would move, and one already past would fire on the spot.
    """
    top, subs = diffs
    migrate_workflow(top, wf, new_spec, reset_mask=TaskState.READY)
    for sp_id, sp in wf.subprocesses.items():
        if subs.get(sp_id) is not None:
            migrate_workflow(
                subs[sp_id], sp, new_dependencies[sp.spec.name], reset_mask=TaskState.READY
            )
    wf.subprocess_specs = new_dependencies


def stray_specs(wf, new_spec, new_dependencies) -> list[str]:
    """Tasks left on a spec the new version does not have (would not load): their ids."""
    known = {id(s) for spec in (new_spec, *new_dependencies.values())
             for s in spec.task_specs.values()}  # fmt: skip
    workflows = (wf, *wf.subprocesses.values())
    return sorted({
        _label(t.task_spec) for w in workflows for t in w.tasks.values()
        if id(t.task_spec) not in known
    })  # fmt: skip
