"""Stepping process instances: plain data in, plain data out.

Every call takes the process's :class:`ProcessSource` and the instance's stored
state (a JSON string without the spec) and returns a :class:`StepResult` with
the new state. Specs are parsed once per process version and cached here.
Nothing is kept between calls, so a caller that fails to store a result has
changed nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from . import clock, dialects, helpers, migration, operations, trail
from .errors import (
    EngineError,
    HandBackUnavailable,
    MigrationRefused,
    ScriptFailed,
    ScriptRefused,
    ScriptStopped,
    StateVersionUnsupported,
    TaskNotReady,
)
from .isolation import Isolated
from .limits import TimeLimits
from .registry import ProcessSource
from .sandbox import script_engine
from .types import CaseTrail, ReadyTask, StepResult, Thrown, WaitingTimer
from .workdays import WorkCalendar


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec, which is stored once per version."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = _SpeclessWorkflowConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))
SERIALIZER_VERSION = _SERIALIZER.VERSION


def mapping(source: ProcessSource) -> dialects.Mapping:
    return dialects.Mapping(
        roles=source.lanes, default_role=source.default_role, form_keys=source.form_keys,
        operations=source.operations, forms=frozenset(source.forms),
        known_operations=frozenset(operations.OPERATIONS), process_id=source.process_id,
    )  # fmt: skip


def translated(source: ProcessSource) -> dialects.Translated:
    """The package's BPMN files in the engine's dialect (see :mod:`engine.dialects`)."""
    bpmn = {source.bpmn_name: source.bpmn}
    bpmn.update({n: t for n, t in source.files.items() if not n.lower().endswith(".dmn")})
    return dialects.translate(bpmn, mapping(source))


class CompiledProcess:
    """A parsed process version: its specs and what importing its files found."""

    def __init__(self, source: ProcessSource):
        self.source = source
        result = translated(source)
        self.findings = result.findings
        parser = SpiffBpmnParser(validator=VALIDATOR)  # fresh: a failed parse poisons a parser
        for name, text in source.files.items():
            if name.lower().endswith(".dmn"):
                parser.add_dmn_str(text.encode(), filename=name)
        for name, data in result.files.items():
            parser.add_bpmn_str(data, filename=name)
        self.spec = parser.get_spec(source.process_id)
        self.subprocess_specs = parser.get_subprocess_specs(source.process_id)

    def all_task_specs(self) -> Iterable:
        for spec in (self.spec, *self.subprocess_specs.values()):
            yield from spec.task_specs.values()


def parse(source: ProcessSource) -> CompiledProcess:
    return CompiledProcess(source)


def _properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _form_names(task_spec) -> tuple[str | None, str | None]:
    props = _properties(task_spec)
    return props.get("formJsonSchemaFilename"), props.get("formUiSchemaFilename")


READY_AT = "propflow_ready_at"
HAND_BACK = "hand_back"  # the message a task's boundary event catches to give it back


def _stamp_ready(wf: BpmnWorkflow) -> None:
    """When each human task first became ready, on the engine's clock (SpiffWorkflow's own
    stamp is the wall clock's), kept in the task: a due time counted from it holds."""
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        if dialects.DUE_IN in _properties(task.task_spec):  # only tasks whose due counts from it
            task.internal_data.setdefault(READY_AT, clock.now().isoformat())


def _own_due(task) -> datetime | None:
    """The due time a task's own properties give (camunda:dueDate, read by the dialects)."""
    props = _properties(task.task_spec)
    try:
        if props.get(dialects.DUE_AT):
            due = datetime.fromisoformat(props[dialects.DUE_AT])
            return due if due.tzinfo else due.replace(tzinfo=UTC)
        if props.get(dialects.DUE_IN) and task.internal_data.get(READY_AT):
            start = datetime.fromisoformat(task.internal_data[READY_AT])
            return start + _duration(props[dialects.DUE_IN])
    except (TypeError, ValueError):
        return None
    return None


def _duration(text: str):
    from datetime import timedelta

    parts = TimerEventDefinition.parse_iso_duration(text)
    days = parts.get("days", 0) + 7 * parts.get("weeks", 0) + 30 * parts.get("months", 0)
    days += 365 * parts.get("years", 0)
    return timedelta(days=days, hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                     seconds=parts.get("seconds", 0))  # fmt: skip


def _timer_due(task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles", 0) != 0 else None
    if not value:
        return None
    try:
        due = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return due if due.tzinfo is not None else due.replace(tzinfo=UTC)


def _attached_to(timer_task) -> str | None:
    """The human task a boundary timer watches: its sibling under the boundary split."""
    parent = timer_task.parent
    if parent is None or not parent.task_spec.name.endswith("BoundaryEventSplit"):
        return None
    for sibling in parent.children:
        if sibling is not timer_task and sibling.task_spec.manual:
            return str(sibling.id)
    return None


def _hand_back_event(task):
    """The waiting message boundary event named ``hand_back`` on ``task``: the diagram's
    way back to whoever gave the task out (a technician's job back to dispatch)."""
    parent = task.parent
    if parent is None or not parent.task_spec.name.endswith("BoundaryEventSplit"):
        return None
    for sibling in parent.children:
        definition = getattr(sibling.task_spec, "event_definition", None)
        if (sibling.state == TaskState.WAITING and isinstance(definition, MessageEventDefinition)
                and definition.name == HAND_BACK):  # fmt: skip
            return sibling
    return None


def _initiator(compiled: CompiledProcess) -> str | None:
    """The variable the start event names for who started the case (camunda:initiator)."""
    for spec in compiled.spec.task_specs.values():
        if type(spec).__name__ == "StartEvent" and (name := _properties(spec).get(
            dialects.INITIATOR_PROPERTY
        )):  # fmt: skip
            return name
    return None


def _late_task(task) -> str | None:
    """The human task whose boundary timer led to ``task``, walking back along this step's
    path; None when a person's action (a completed human task) comes first."""
    ancestor = task.parent
    while ancestor is not None and not ancestor.task_spec.manual:
        if isinstance(getattr(ancestor.task_spec, "event_definition", None), TimerEventDefinition):
            return _attached_to(ancestor)
        ancestor = ancestor.parent
    return None


def _thrown(wf: BpmnWorkflow, since: float) -> list[Thrown]:
    """The events the step threw that the process did not catch, each with the element that
    threw it (matched by its event definition among the tasks completed since ``since``)."""
    events = wf.get_events()
    if not events:
        return []
    throwers = [
        t for t in wf.get_tasks(state=TaskState.COMPLETED)
        if t.last_state_change >= since and getattr(t.task_spec, "event_definition", None)
    ]  # fmt: skip
    throwers.sort(key=lambda t: t.last_state_change)
    out = []
    for event in events:
        source = next(
            (t for t in throwers if t.task_spec.event_definition is event.event_definition), None
        )
        if source is not None:
            throwers.remove(source)
        out.append(Thrown.of(event, source, _late_task(source) if source else None))
    return out


def _reason(err: SpiffWorkflowException) -> str:
    """What went wrong, in the sandbox's own words when it stopped or refused the code, else
    SpiffWorkflow's first line and the script's own error ("Error evaluating ..." alone
    does not say why)."""
    said, cause, seen = str(err).split("\n")[0], err.__cause__ or err.__context__, set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ScriptStopped | ScriptRefused):
            return str(cause)
        if not isinstance(cause, SpiffWorkflowException):
            if type(cause).__name__ in said:  # scripts: SpiffWorkflow named it already
                return said
            return f"{said.rstrip('. ')}: {type(cause).__name__}: {cause}"
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return said


class Engine:
    """Runs process instances. Thread-safe; keep one per process (see :func:`default_engine`)."""

    def __init__(
        self,
        calendar: WorkCalendar | None = None,
        limits: TimeLimits | None = None,
        extra_helpers: dict | None = None,
        script_seconds: float = 1.0,
        script_memory_mb: int = 256,
        max_timer_cycles: int = 60,
    ):
        self.max_timer_cycles = max_timer_cycles
        self.calendar = calendar or WorkCalendar()
        self.limits = limits or TimeLimits()
        isolated = Isolated(
            self.calendar, self.limits, script_seconds, script_memory_mb,
            frozenset(extra_helpers or ()),
        )  # fmt: skip
        self.script_engine = script_engine(self.helpers(), isolated, extra_helpers)
        self._compiled: dict[str, CompiledProcess] = {}
        self._lock = threading.Lock()

    # -- functions that scripts and timer expressions may call by name --------
    def helpers(self) -> dict[str, Callable]:
        return helpers.make(self.calendar, self.limits, clock.now)

    def compiled(self, source: ProcessSource) -> CompiledProcess:
        key = source.content_hash
        found = self._compiled.get(key)
        if found is None:
            found = parse(source)
            with self._lock:
                self._compiled.setdefault(key, found)
        return found

    # -- state ------------------------------------------------------------------
    def _load(self, source: ProcessSource, state: str) -> BpmnWorkflow:
        dct = json.loads(state)
        version = dct.pop("serializer_version", None)
        if version != SERIALIZER_VERSION:
            raise StateVersionUnsupported(
                f"State written by serializer {version!r}; this build reads {SERIALIZER_VERSION!r}"
            )
        compiled = self.compiled(source)
        wf = _SERIALIZER.from_dict(
            dct, spec=compiled.spec, subprocess_specs=compiled.subprocess_specs
        )
        wf.script_engine = self.script_engine
        return wf

    def _result(
        self, source: ProcessSource, wf: BpmnWorkflow, fired=(), effects=(), thrown=(), before=()
    ) -> StepResult:
        _stamp_ready(wf)
        dct = _SERIALIZER.to_dict(wf)
        dct["serializer_version"] = SERIALIZER_VERSION
        state = json.dumps(dct, ensure_ascii=False, separators=(",", ":"))
        status = "completed" if wf.is_completed() else "running"
        timers = tuple(self._timers(wf))
        return StepResult(
            state=state,
            status=status,
            ready=tuple(self._ready(source, wf, timers)),
            timers=timers,
            fired=tuple(fired),
            timers_before=tuple(before),
            effects=tuple(effects),
            thrown=tuple(thrown),
            data=dict(wf.data if wf.is_completed() else (wf.last_task or wf.task_tree).data),
        )

    def _ready(self, source: ProcessSource, wf: BpmnWorkflow, timers) -> Iterable[ReadyTask]:
        due: dict[str, datetime] = {}
        for timer in timers:
            if timer.attached_to and timer.due and not timer.reminder:
                due[timer.attached_to] = min(timer.due, due.get(timer.attached_to, timer.due))
        for task in wf.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            form, ui_form = _form_names(spec)
            own = _own_due(task)
            if own is not None:
                key = str(task.id)
                due[key] = min(own, due.get(key, own))
            yield ReadyTask(
                id=str(task.id),
                bpmn_id=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                name_en=source.glossary.get(spec.bpmn_id),
                lane=spec.lane,
                role=_properties(spec).get(dialects.ROLE_PROPERTY)
                or (source.lanes.get(spec.lane) if spec.lane else None),
                assignee=self._assignee(task),
                hand_back=_hand_back_event(task) is not None,
                form=form,
                ui_form=ui_form,
                documentation=(spec.extensions or {}).get("instructionsForEndUser")
                or spec.documentation,
                due=due.get(str(task.id)),
            )

    def _assignee(self, task) -> str | None:
        """The username the diagram gives the task: named, or held by the variable its
        expression reads (``${technician}``); None (its role's inbox) when that is unset."""
        props = _properties(task.task_spec)
        expression = props.get(dialects.ASSIGNEE_EXPRESSION)
        if not expression:
            return props.get(dialects.ASSIGNEE_PROPERTY)
        try:
            value = self.script_engine.evaluate(task, expression)
        except Exception:  # noqa: BLE001 - an unset variable leaves the task to its role
            return None
        return value.strip() if isinstance(value, str) and value.strip() else None

    def _timers(self, wf: BpmnWorkflow) -> Iterable[WaitingTimer]:
        for task in wf.event_manager.tasks.values():
            event = getattr(task.task_spec, "event_definition", None)
            if isinstance(event, TimerEventDefinition) and task.state == TaskState.WAITING:
                yield WaitingTimer(
                    task_id=str(task.id),
                    bpmn_id=task.task_spec.bpmn_id,
                    name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                    due=_timer_due(task),
                    attached_to=_attached_to(task),
                    reminder=_properties(task.task_spec).get("timerKind") == "reminder",
                )

    def _run(self, wf: BpmnWorkflow, action: Callable[[], None]) -> tuple[list, list]:
        """Run ``action``; return the service calls it made and the events it threw."""
        began = time.time()  # what Spiff stamps on each task's state change
        waiting = {t.id for t in wf.event_manager.tasks.values()}
        with operations.recording() as effects:
            try:
                action()
                self._check_cycles(wf, waiting)
            except (ScriptStopped, ScriptRefused) as err:  # from a process-level expression
                raise ScriptFailed("process", str(err)) from err
            except EngineError:
                raise
            except SpiffWorkflowException as err:
                spec = getattr(getattr(err, "task", None), "task_spec", None)
                element = getattr(spec, "bpmn_id", None) or getattr(err, "id", "") or "process"
                raise ScriptFailed(element, _reason(err)) from err
        return effects, _thrown(wf, began)

    def _check_cycles(self, wf: BpmnWorkflow, waiting: set) -> None:
        """A cycle timer that started in this step must repeat a bounded number of times
        (validation checks the ones it can compute; this, the ones computed from data).
        Timers already waiting are left alone, so running cases of older versions finish."""
        for task in wf.event_manager.tasks.values():
            value = task.internal_data.get("event_value")
            if task.id in waiting or not isinstance(value, dict) or "cycles" not in value:
                continue
            cycles = value["cycles"]
            if cycles < 0 or cycles > self.max_timer_cycles:
                raise ScriptFailed(
                    task.task_spec.bpmn_id,
                    f"the timer cycle repeats {'for ever' if cycles < 0 else f'{cycles} times'}: "
                    f"at most {self.max_timer_cycles} repetitions are allowed",
                )

    # -- the verbs ----------------------------------------------------------------
    def start(
        self, source: ProcessSource, data: dict | None = None, started_by: str | None = None
    ) -> StepResult:
        """A new instance with the start form's ``data``; ``started_by`` (a username) goes
        into the variable the start event's ``camunda:initiator`` names, if it names one."""
        compiled = self.compiled(source)
        wf = BpmnWorkflow(
            compiled.spec, compiled.subprocess_specs, script_engine=self.script_engine
        )
        initiator = _initiator(compiled)
        if initiator and started_by:
            data = {**(data or {}), initiator: started_by}
        wf.task_tree.data.update(data or {})
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data or {})

        def step():
            wf.do_engine_steps()
            wf.refresh_timers()  # computes due times of timers that just started waiting

        effects, thrown = self._run(wf, step)
        return self._result(source, wf, (), effects, thrown)

    def inspect(self, source: ProcessSource, state: str) -> StepResult:
        return self._result(source, self._load(source, state))

    def trail(self, source: ProcessSource, state: str) -> CaseTrail:
        """The elements the case went through in order, its human tasks' time limits and
        its data, for an auditor: read only, nothing is stepped."""
        wf = self._load(source, state)
        return CaseTrail(
            path=trail.path(wf),
            limits=trail.limits(
                wf, _timer_due, lambda spec: _properties(spec).get("timerKind") == "reminder"
            ),
            data=dict(wf.data if wf.is_completed() else (wf.last_task or wf.task_tree).data),
        )

    def complete(self, source: ProcessSource, state: str, task_id: str, data: dict) -> StepResult:
        wf = self._load(source, state)
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"Task {task_id} is not ready to be completed")
        task.set_data(**data)
        before = tuple(self._timers(wf))

        def step():
            task.run()
            wf.do_engine_steps()
            wf.refresh_timers()

        effects, thrown = self._run(wf, step)
        return self._result(source, wf, (), effects, thrown, before)

    def hand_back(self, source: ProcessSource, state: str, task_id: str, data: dict) -> StepResult:
        """Give the ready ``task_id`` back the way its diagram says (its ``hand_back``
        message boundary event), with ``data`` (the reason) carried along that path;
        :class:`HandBackUnavailable` when the diagram gives it no way back."""
        wf = self._load(source, state)
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"Task {task_id} is not ready to be handed back")
        boundary = _hand_back_event(task)
        if boundary is None:
            raise HandBackUnavailable(f"Task {task_id} has no way back in its diagram")
        before = tuple(self._timers(wf))

        def step():
            wf.send_event(BpmnEvent(boundary.task_spec.event_definition, {}))
            boundary.set_data(**data)
            wf.do_engine_steps()
            wf.refresh_timers()

        effects, thrown = self._run(wf, step)
        return self._result(source, wf, (), effects, thrown, before)

    def reassign(
        self, source: ProcessSource, state: str, task_id: str, username: str
    ) -> StepResult | None:
        """The ready ``task_id`` given to ``username`` by hand: when its diagram gives it by
        a variable (``${technician}``), the variable now names that person, so the steps
        it also gives (arrive → work → sign-off) go with the task. None when it names no
        variable: nothing in the case changes."""
        wf = self._load(source, state)
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"Task {task_id} is not ready to be given to someone")
        variable = _properties(task.task_spec).get(dialects.ASSIGNEE_EXPRESSION, "")
        if not variable.isidentifier():
            return None
        before = tuple(self._timers(wf))
        task.set_data(**{variable: username})
        return self._result(source, wf, before=before)

    def fire_due_timers(self, source: ProcessSource, state: str) -> StepResult:
        """Fire every timer due by :func:`engine.clock.now` and run the engine on."""
        wf = self._load(source, state)
        moment = clock.now()
        before = tuple(self._timers(wf))
        fired = [t for t in before if t.due is not None and t.due <= moment]

        def step():
            wf.refresh_timers()
            wf.do_engine_steps()
            wf.refresh_timers()

        effects, thrown = self._run(wf, step)
        return self._result(source, wf, fired, effects, thrown, before)

    def cancel(self, source: ProcessSource, state: str) -> StepResult:
        wf = self._load(source, state)
        before = tuple(self._timers(wf))
        self._run(wf, wf.cancel)
        result = self._result(source, wf)
        return StepResult(state=result.state, status="cancelled", ready=(), timers=(),
                          timers_before=before, data=result.data)  # fmt: skip

    # -- moving to another version (engine/migration.py) ---------------------------
    def migration_problems(self, old: ProcessSource, new: ProcessSource, state: str) -> list[str]:
        """Why the instance cannot move from ``old`` to ``new``: one sentence per cause,
        each naming the element; empty when it can."""
        try:
            self.migrate(old, new, state)
        except MigrationRefused as err:
            return err.reasons
        return []

    def migrate(self, old: ProcessSource, new: ProcessSource, state: str) -> StepResult:
        """The instance's state moved from version ``old`` to ``new`` of its process, or
        :class:`MigrationRefused` saying per element why not. Open tasks keep their ids;
        waiting timers whose element remains keep their due times."""
        if old.content_hash == new.content_hash:
            return self.inspect(old, state)
        wf = self._load(old, state)
        target = self.compiled(new)
        registry = _SERIALIZER.registry
        reasons, diffs = migration.problems(registry, wf, target.spec, target.subprocess_specs)
        if reasons:
            raise MigrationRefused(reasons)
        before = tuple(self._timers(wf))
        try:
            self._run(wf, lambda: migration.move(wf, diffs, target.spec, target.subprocess_specs))
        except ScriptFailed as err:  # the new version's expression fails on this case's data
            raise MigrationRefused([str(err)]) from err
        if stray := migration.stray_specs(wf, target.spec, target.subprocess_specs):
            raise MigrationRefused([
                f"The case holds {name}, which the new version cannot take over." for name in stray
            ])  # fmt: skip
        result = self._result(new, wf, before=before)
        try:  # what is stored must load under the new version
            self._load(new, result.state)
        except Exception as err:  # noqa: BLE001 - any failure is a refusal, not a traceback
            raise MigrationRefused(
                [f"The moved state does not load under the new version: {err}"]
            ) from err
        return result
