"""Rehearsals: a process run on a virtual clock, in memory, touching no case.

A manager writes a *script*, plain JSON kept with the draft as ``rehearsals/<name>.json``:
where the case starts, which path it takes (the data given at each human task, how far
the clock moves) and what should have happened by then::

    {
      "description": "An urgent repair nobody reaches in time",
      "start_at": "2026-11-23T09:00:00+08:00",
      "data": {"reporter": "王先生", "urgency": "urgent", ...},
      "steps": [
        {"complete": "dispatch_urgent", "data": {"technician": "李师傅", "requirements": "-"}},
        {"advance": "PT31M"},
        {"expect": {"escalation": 2, "notified": ["cs_supervisor"], "tasks": ["arrive"]}}
      ]
    }

:func:`run` plays it with :class:`~engine.runtime.Engine`'s own verbs under
:func:`engine.clock.frozen`, firing each timer at its own due moment, and returns a
:class:`Rehearsal`: the timeline (tasks that appeared for which role and when they are
due, tasks completed or left, timers fired, escalations, who would be told, service
calls that would be made) and each expectation passed or failed in a sentence.
:func:`check` replays a saved script before a deploy and answers the sentences that
failed. A script that cannot be played (a step of an unknown kind, a task that is not
open, data the task's form refuses) raises :class:`RehearsalInvalid` naming the step;
steps are counted from 1, the start is step 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .clock import frozen
from .errors import EngineError
from .forms import validate_form, with_defaults
from .policy import ESCALATION_LEVELS
from .registry import ProcessSource
from .roles import ROLE_KEYS
from .runtime import Engine, _form_names
from .text import gettext_noop as T
from .text import render
from .types import ReadyTask, StepResult

# A Monday morning, a working day, in the site's zone: a script that gives no start
# replays the same way every time.
DEFAULT_START = "2026-11-23T09:00:00+08:00"
_TICK = timedelta(microseconds=1)
MAX_STEPS = 200
MAX_FIRINGS = 100  # timer firings in one advance: a cycle timer must not run for ever
# ... and in the whole rehearsal: each firing of a cycle timer grows the instance's task
# tree, so the cost of a firing grows with the firings before it (275 cost 21 s).
MAX_FIRINGS_IN_ALL = 200
MAX_ADVANCE_DAYS = 3660  # one advance moves the clock at most about ten years
MAX_WORKING_DAYS = 2500
FOLDER = "rehearsals"  # inside a process package

SCRIPT_KEYS = ("description", "start_at", "data", "steps")
STEP_KINDS = ("complete", "advance", "expect")
EXPECT_KEYS = ("tasks", "status", "escalation", "notified", "fired", "due", "data")
STATUSES = ("running", "completed")
LEVELS = (0, *sorted(level for level, _ in ESCALATION_LEVELS.values()))
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class RehearsalInvalid(EngineError):
    """The script cannot be played; each problem names its step (``step 3: ...``).

    ``rehearsal`` holds what was played before the step that stopped it (None when the
    script was refused before it ran).
    """

    def __init__(self, problems: list[str], rehearsal: Rehearsal | None = None):
        self.problems = list(problems)
        self.rehearsal = rehearsal
        super().__init__("The rehearsal cannot be played: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Entry:
    """One thing that happened, at a virtual moment, caused by step ``step`` (0: the start)."""

    at: datetime
    step: int
    kind: str  # started | task_appeared | task_completed | task_cancelled | timer_fired |
    #            escalated | notified | effect | advanced | ended
    detail: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One expectation: what was expected, what happened, as a sentence."""

    step: int
    expect: str  # one of EXPECT_KEYS
    passed: bool
    message: str
    phrase: tuple | None = None  # the message as (template, params), for its translation


@dataclass(frozen=True)
class Rehearsal:
    process: str
    content_hash: str
    started_at: datetime
    now: datetime  # the virtual clock when the script ended (or stopped)
    status: str  # running | completed
    escalation: int  # the highest level reached, 0 when none
    open_tasks: tuple[dict, ...]  # bpmn id, names, role, due
    data: dict
    timeline: tuple[Entry, ...]
    outcomes: tuple[Outcome, ...]
    tz: Any = field(repr=False, default=None)

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    def failures(self) -> list[str]:
        return [f"step {o.step}: {o.message}" for o in self.outcomes if not o.passed]

    def as_dict(self, translate=None) -> dict:
        """JSON-ready: moments as ISO text in the site's zone, no engine ids; ``translate``
        (a gettext) puts the expectations' sentences in the reader's language."""

        def at(moment):
            return _iso(moment, self.tz)

        return {
            "process": self.process,
            "content_hash": self.content_hash,
            "started_at": at(self.started_at),
            "now": at(self.now),
            "status": self.status,
            "escalation": self.escalation,
            "passed": self.passed,
            "open_tasks": [_jsonable(t, self.tz) for t in self.open_tasks],
            "data": _jsonable(self.data, self.tz),
            "timeline": [
                {"at": at(e.at), "step": e.step, "kind": e.kind, **_jsonable(e.detail, self.tz)}
                for e in self.timeline
            ],
            "expectations": [
                {
                    "step": o.step,
                    "expect": o.expect,
                    "passed": o.passed,
                    "message": render(o.phrase, translate) if o.phrase else o.message,
                }
                for o in self.outcomes
            ],
        }


# -- reading a script ---------------------------------------------------------------------


def _moment(text: Any, tz) -> datetime | None:
    """An ISO moment; a moment without an offset is read in the site's zone."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _duration(text: str) -> timedelta | None:
    found = _DURATION.match(text)
    if found is None:
        return None
    parts = {k: int(v) for k, v in found.groupdict().items() if v}
    return timedelta(**parts)


def _human_tasks(engine: Engine, source: ProcessSource) -> dict[str, str | None]:
    """Every human task of the process: bpmn id -> its form's file name."""
    return {
        spec.bpmn_id: _form_names(spec)[0]
        for spec in engine.compiled(source).all_task_specs()
        if getattr(spec, "manual", False) and getattr(spec, "bpmn_id", None)
    }


def _timer_ids(engine: Engine, source: ProcessSource) -> set[str]:
    return {
        spec.bpmn_id
        for spec in engine.compiled(source).all_task_specs()
        if isinstance(getattr(spec, "event_definition", None), TimerEventDefinition)
    }


def _form_problems(where: str, schema: dict | None, data: Any) -> list[str]:
    if schema is None:
        return [f"{where}: this task has no form; give no data"] if data else []
    errors = validate_form(schema, data)
    return [f"{where}: field {name!r}: {' '.join(msgs)}" for name, msgs in errors.items()]


def _names(ids) -> str:
    return ", ".join(ids) if ids else "none"


def _advance_problems(where: str, value: Any, tz) -> list[str]:
    if isinstance(value, str):
        if value[:1] == "P" and re.search(r"\d[YM]", value.split("T")[0]):
            return [f"{where}: {value!r}: years and months have no fixed length; use days "
                    "(P30D) or working days ({\"working_days\": 20})"]  # fmt: skip
        delta = _duration(value)
        if delta is None:
            return [f"{where}: {value!r} is not an ISO 8601 duration such as PT30M, PT2H or "
                    "P3D"]  # fmt: skip
        if delta <= timedelta(0):
            return [f"{where}: an advance must move the clock on"]
        if delta > timedelta(days=MAX_ADVANCE_DAYS):
            return [f"{where}: one advance moves the clock at most {MAX_ADVANCE_DAYS} days"]
        return []
    if not isinstance(value, dict) or len(value) != 1:
        return [f'{where}: advance takes a duration ("PT30M"), {{"working_days": 3}} or '
                '{"until": "<ISO moment>"}']  # fmt: skip
    [(key, amount)] = value.items()
    if key == "working_days":
        if type(amount) is not int or not 1 <= amount <= MAX_WORKING_DAYS:
            return [f"{where}: working_days must be a whole number from 1 to {MAX_WORKING_DAYS}"]
        return []
    if key == "until":
        if _moment(amount, tz) is None:
            return [f"{where}: until {amount!r} is not an ISO moment such as "
                    "2026-11-23T10:00:00+08:00"]  # fmt: skip
        return []
    return [f"{where}: advance takes working_days or until, not {key!r}"]


def _expect_problems(where, expect, tasks, timers, tz) -> list[str]:
    if not isinstance(expect, dict) or not expect:
        return [f'{where}: expect takes an object such as {{"tasks": ["arrive"]}}']
    found = [f"{where}: unknown expectation {key!r}; known: {', '.join(EXPECT_KEYS)}"
             for key in expect if key not in EXPECT_KEYS]  # fmt: skip

    def id_list(key, known, what):
        value = expect[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            found.append(f"{where}: {key} takes a list of {what}")
            return
        found.extend(f"{where}: {key}: the process has no {what[:-1]} {v!r}"
                     for v in value if v not in known)  # fmt: skip

    if "tasks" in expect:
        id_list("tasks", tasks, "human tasks")
    if "fired" in expect:
        id_list("fired", timers, "timers")
    if "notified" in expect:
        id_list("notified", ROLE_KEYS, "roles")
    if "status" in expect and expect["status"] not in STATUSES:
        found.append(f"{where}: status is one of {', '.join(STATUSES)}")
    if "escalation" in expect and (
        type(expect["escalation"]) is not int or expect["escalation"] not in LEVELS
    ):
        found.append(f"{where}: escalation is one of {', '.join(map(str, LEVELS))} "
                     "(0: not escalated)")  # fmt: skip
    if "due" in expect:
        due = expect["due"]
        if not isinstance(due, dict) or not due:
            found.append(f'{where}: due takes {{"<task>": "<ISO moment>" or null}}')
        else:
            for task, moment in due.items():
                if task not in tasks:
                    found.append(f"{where}: due: the process has no human task {task!r}")
                elif moment is not None and _moment(moment, tz) is None:
                    found.append(f"{where}: due: {moment!r} is not an ISO moment")
    if "data" in expect and (not isinstance(expect["data"], dict) or not expect["data"]):
        found.append(f'{where}: data takes {{"<field>": <value>}}')
    return found


def problems(engine: Engine, source: ProcessSource, script: Any) -> list[str]:
    """What is wrong with ``script`` before it runs, one sentence per finding, each naming
    its step (``start`` for the start data)."""
    if not isinstance(script, dict):
        return ["a rehearsal is a JSON object with steps"]
    tz = engine.calendar.tz
    found = [f"unknown key {key!r}; a rehearsal has {', '.join(SCRIPT_KEYS)}"
             for key in script if key not in SCRIPT_KEYS]  # fmt: skip
    if "description" in script and not isinstance(script["description"], str):
        found.append("description must be text")
    if "start_at" in script and _moment(script["start_at"], tz) is None:
        found.append(f"start_at {script['start_at']!r} is not an ISO moment such as "
                     f"{DEFAULT_START}")  # fmt: skip
    start_schema = source.forms.get(source.start_form) if source.start_form else None
    found += _form_problems("start", start_schema, script.get("data", {}))
    steps = script.get("steps")
    if not isinstance(steps, list):
        return [*found, "steps must be a list"]
    if len(steps) > MAX_STEPS:
        return [*found, f"a rehearsal has at most {MAX_STEPS} steps; this one has {len(steps)}"]
    tasks, timers = _human_tasks(engine, source), _timer_ids(engine, source)
    for number, step in enumerate(steps, 1):
        where = f"step {number}"
        if not isinstance(step, dict):
            found.append(f'{where}: a step is an object such as {{"advance": "PT30M"}}')
            continue
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            found.append(f"{where}: a step is one of {', '.join(STEP_KINDS)}"
                         + (f", not {' and '.join(kinds)} at once" if kinds else ""))  # fmt: skip
            continue
        [kind] = kinds
        allowed = {kind, "note"} | ({"data"} if kind == "complete" else set())
        found += [f"{where}: {kind} takes no {key!r}" for key in step if key not in allowed]
        value = step[kind]
        if kind == "complete":
            if value not in tasks:
                found.append(f"{where}: the process has no human task {value!r}; its human "
                             f"tasks: {_names(sorted(tasks))}")  # fmt: skip
            else:
                form = tasks[value]
                schema = source.forms.get(form) if form else None
                found += _form_problems(f"{where} ({value})", schema, step.get("data", {}))
        elif kind == "advance":
            found += _advance_problems(where, value, tz)
        else:
            found += _expect_problems(where, value, tasks, timers, tz)
    return found


# -- playing it ---------------------------------------------------------------------------


class _Play:
    def __init__(self, engine: Engine, source: ProcessSource, script: dict):
        self.engine, self.source, self.script = engine, source, script
        self.tz = engine.calendar.tz
        self.start = _moment(script.get("start_at", DEFAULT_START), self.tz)
        self.now = self.start
        self.result: StepResult | None = None
        self.open: dict[str, ReadyTask] = {}  # engine id -> task, in the order they appeared
        self.due: dict[str, datetime | None] = {}  # engine id -> due; it only moves earlier
        self.timeline: list[Entry] = []
        self.outcomes: list[Outcome] = []
        self.level = 0
        self.firings = 0
        self.step = 0
        self.caused = 0  # the last step that acted (expect looks at what it caused)
        self.notified: list[str] = []  # roles told by that step
        self.fired: list[str] = []  # timers it fired

    # -- recording ----------------------------------------------------------------------
    def entry(self, kind: str, **detail) -> None:
        self.timeline.append(Entry(self.now, self.step, kind, detail))

    def task_detail(self, task: ReadyTask) -> dict:
        return {"task": task.bpmn_id, "name": task.name, "name_en": task.name_en,
                "role": task.role, "due": self.due.get(task.id)}  # fmt: skip

    def absorb(self, result: StepResult, completed: str | None = None) -> None:
        """Record what one engine call did."""
        before = self.open
        for timer in result.fired:
            on = before.get(timer.attached_to or "")
            self.fired.append(timer.bpmn_id)
            self.entry("timer_fired", timer=timer.bpmn_id, name=timer.name,
                       name_en=self.source.glossary.get(timer.bpmn_id), due=timer.due,
                       reminder=timer.reminder, task=on.bpmn_id if on else None)  # fmt: skip
        for effect in result.effects:
            self.entry("effect", operation=effect.operation, params=dict(effect.params))
        after = {t.id: t for t in result.ready}
        for thrown in result.thrown:
            late = before.get(thrown.late_task or "") or after.get(thrown.late_task or "")
            why = {
                "event": thrown.element, "name": thrown.element_name or thrown.name,
                "name_en": self.source.glossary.get(thrown.element or ""),
                "late_task": late.bpmn_id if late else None,
            }  # fmt: skip
            if thrown.code in ESCALATION_LEVELS:
                level, role = ESCALATION_LEVELS[thrown.code]
                self.level = max(self.level, level)
                self.entry("escalated", level=level, role=role, **why)
                self.entry("notified", role=role, notice="escalation", level=level, **why)
            else:
                role = thrown.code
                self.entry("notified", role=role, notice="notice", level=None, **why)
            self.notified.append(role)
        for key, task in before.items():
            if key not in after and key != completed:
                self.entry("task_cancelled", **self.task_detail(task))
        for key, task in after.items():
            if task.due is not None and (self.due.get(key) is None or task.due < self.due[key]):
                self.due[key] = task.due
            if key not in before:
                self.due.setdefault(key, task.due)
                self.entry("task_appeared", **self.task_detail(task))
        self.open = after
        if result.status != "running" and (self.result is None or self.result.status == "running"):
            self.entry("ended", status=result.status)
        self.result = result

    def call(self, verb, *args, late: timedelta = timedelta(0)) -> StepResult:
        with frozen(self.now + late):
            try:
                return verb(self.source, *args)
            except EngineError as err:
                raise self.invalid(f"the process failed: {err}") from err

    def invalid(self, problem: str) -> RehearsalInvalid:
        where = f"step {self.step}" if self.step else "start"
        return RehearsalInvalid([f"{where}: {problem}"], self.rehearsal())

    # -- the steps ----------------------------------------------------------------------
    def begin(self) -> None:
        schema = self.source.forms.get(self.source.start_form) if self.source.start_form else None
        data = self.script.get("data", {})
        data = with_defaults(schema, data) if schema else data
        self.entry("started", data=data)
        self.absorb(self.call(self.engine.start, data))

    def complete(self, bpmn_id: str, data: dict) -> None:
        task = next((t for t in self.open.values() if t.bpmn_id == bpmn_id), None)
        if task is None:
            opened = [t.bpmn_id for t in self.open.values()]
            raise self.invalid(f"task {bpmn_id!r} is not open at {self.show(self.now)}; open: "
                               f"{_names(opened)}")  # fmt: skip
        schema = self.source.forms.get(task.form) if task.form else None
        data = with_defaults(schema, data) if schema else data
        self.entry("task_completed", **self.task_detail(task), data=data)
        self.absorb(self.call(self.engine.complete, self.result.state, task.id, data), task.id)

    def advance(self, value) -> None:
        if isinstance(value, str):
            target = self.now + _duration(value)
        elif "working_days" in value:
            target = self.engine.calendar.add_working_days(self.now, value["working_days"])
        else:
            target = _moment(value["until"], self.tz)
            if target < self.now:
                raise self.invalid(f"until {self.show(target)} is before the virtual clock, "
                                   f"{self.show(self.now)}")  # fmt: skip
        began, calls = self.now, 0
        while (due := self.result.next_due) is not None and due <= target:
            if calls == MAX_FIRINGS:
                raise self.invalid(
                    f"more than {MAX_FIRINGS} timer firings before {self.show(target)} (a "
                    "repeating timer?); advance in shorter steps"
                )
            if self.firings == MAX_FIRINGS_IN_ALL:
                raise self.invalid(
                    f"more than {MAX_FIRINGS_IN_ALL} timer firings in the whole rehearsal; "
                    "rehearse a shorter stretch of time"
                )
            calls += 1
            self.firings += 1
            # Each timer at its own moment, in order. SpiffWorkflow fires a timer once the
            # clock is past its due time, so the engine runs a microsecond on; the timeline
            # shows the due moment.
            self.now = max(due, self.now)
            self.absorb(self.call(self.engine.fire_due_timers, self.result.state, late=_TICK))
        self.now = target
        self.entry("advanced", **{"from": began})

    def expect(self, expect: dict) -> None:
        """Judge each expectation against the rehearsal as the steps before left it."""

        def out(key: str, passed: bool, said: tuple, expected: tuple) -> None:
            phrase = (
                said
                if passed
                else (T("expected %(expected)s; %(said)s"), {"expected": expected, "said": said})
            )
            self.outcomes.append(Outcome(self.step, key, passed, render(phrase), phrase))

        at = self.show(self.now)
        by = (T("step %(n)d"), {"n": self.caused}) if self.caused else (T("the start"), {})
        if "tasks" in expect:
            want = sorted(expect["tasks"])
            have = sorted(t.bpmn_id for t in self.open.values())
            shown = _names([f"{t.bpmn_id} ({t.role})" for t in self.open.values()])
            out(
                "tasks",
                want == have,
                (T("open at %(at)s: %(tasks)s"), {"at": at, "tasks": shown}),
                (T("open tasks %(tasks)s"), {"tasks": _names(want)}),
            )
        if "status" in expect:
            status = self.result.status
            out(
                "status",
                status == expect["status"],
                (T("the case is %(status)s"), {"status": status}),
                (T("the case %(status)s"), {"status": expect["status"]}),
            )
        if "escalation" in expect:
            out(
                "escalation",
                expect["escalation"] == self.level,
                (T("the case is %(level)s"), {"level": _level(self.level)}),
                (T("the case %(level)s"), {"level": _level(expect["escalation"])}),
            )
        notified = (T("%(by)s notified %(names)s"), T("%(by)s to notify %(names)s"), T("nobody"))
        fired = (T("%(by)s fired %(names)s"), T("%(by)s to fire %(names)s"), T("no timer"))
        for key, seen, (did, to, none) in (
            ("notified", self.notified, notified),
            ("fired", self.fired, fired),
        ):
            if key in expect:
                want, have = sorted(set(expect[key])), sorted(set(seen))
                out(
                    key,
                    want == have,
                    (did, {"by": by, "names": ", ".join(have) or (none, {})}),
                    (to, {"by": by, "names": ", ".join(want) or (none, {})}),
                )
        for bpmn_id, moment in (expect.get("due") or {}).items():
            want = _moment(moment, self.tz) if moment is not None else None
            found = next((t for t in self.open.values() if t.bpmn_id == bpmn_id), None)
            have = self.due.get(found.id) if found else None
            said = (
                (T("%(task)s is due at %(at)s"), {"task": bpmn_id, "at": self.show(have)})
                if found
                else (T("%(task)s is not open"), {"task": bpmn_id})
            )
            out(
                "due",
                found is not None and have == want,
                said,
                (T("%(task)s due at %(at)s"), {"task": bpmn_id, "at": self.show(want)}),
            )
        for name, want in (expect.get("data") or {}).items():
            have = self.result.data.get(name, _MISSING)
            shown = (T("not set"), {}) if have is _MISSING else _show_value(have, self.tz)
            out(
                "data",
                _same(have, want, self.tz),
                (T("%(field)s is %(value)s"), {"field": name, "value": shown}),
                (T("%(field)s = %(value)s"), {"field": name, "value": _show_value(want, self.tz)}),
            )

    def play(self) -> Rehearsal:
        self.begin()
        for number, step in enumerate(self.script.get("steps", []), 1):
            self.step = number
            if "expect" in step:
                self.expect(step["expect"])
                continue
            self.caused, self.notified, self.fired = number, [], []
            if "complete" in step:
                self.complete(step["complete"], step.get("data", {}))
            else:
                self.advance(step["advance"])
        return self.rehearsal()

    # -- the result -----------------------------------------------------------------------
    def show(self, moment) -> str:
        if moment is None:
            return "no due time"
        if isinstance(moment, str):
            moment = _moment(moment, self.tz) or moment
        if isinstance(moment, str):
            return moment
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def rehearsal(self) -> Rehearsal:
        result = self.result
        return Rehearsal(
            process=self.source.key,
            content_hash=self.source.content_hash,
            started_at=self.start,
            now=self.now,
            status=result.status if result else "running",
            escalation=self.level,
            open_tasks=tuple(self.task_detail(t) for t in self.open.values()),
            data=dict(result.data) if result else {},
            timeline=tuple(self.timeline),
            outcomes=tuple(self.outcomes),
            tz=self.tz,
        )


def _level(level: int) -> tuple:
    if level == 0:
        return (T("not escalated"), {})
    return (T("at escalation level %(level)d"), {"level": level})


_MISSING = object()


def _same(have, want, tz) -> bool:
    if have is _MISSING:
        return False
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    if isinstance(have, datetime | str) and isinstance(want, str):
        moments = _moment(have, tz) if isinstance(have, str) else have, _moment(want, tz)
        if None not in moments:
            return moments[0] == moments[1]
    return _jsonable(have, tz) == want


def _show_value(value, tz) -> str:
    return json.dumps(_jsonable(value, tz), ensure_ascii=False)


def _iso(moment, tz) -> str | None:
    return moment.astimezone(tz).isoformat() if moment is not None else None


def _jsonable(value, tz):
    if isinstance(value, datetime):
        return _iso(value if value.tzinfo else value.replace(tzinfo=tz), tz)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): _jsonable(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, tz) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def run(engine: Engine, source: ProcessSource, script: Any) -> Rehearsal:
    """Play ``script`` on ``source`` in memory, on a virtual clock.

    Raises :class:`RehearsalInvalid` when the script cannot be played; failed
    expectations are results, not errors.
    """
    try:
        found = problems(engine, source, script)
    except EngineError:
        raise
    except Exception as err:  # a draft that does not parse: say so, as validation would
        raise RehearsalInvalid([f"the process cannot be run: {err}"]) from err
    if found:
        raise RehearsalInvalid(found)
    return _Play(engine, source, script).play()


def check(engine: Engine, source: ProcessSource, script: Any) -> list[str]:
    """The sentences a deploy must hear: failed expectations and why the script cannot be
    played; empty when the rehearsal plays and every expectation holds."""
    try:
        return run(engine, source, script).failures()
    except RehearsalInvalid as err:
        before = err.rehearsal.failures() if err.rehearsal is not None else []
        return [*before, *err.problems]


def load_scripts(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The rehearsals saved in a package (``<folder>/rehearsals/*.json``), by name, and
    the files that could not be read."""
    scripts, unreadable = {}, []
    for path in sorted((Path(folder) / FOLDER).glob("*.json")):
        try:
            scripts[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            unreadable.append(f"{FOLDER}/{path.name}: cannot be read as JSON ({err})")
    return scripts, unreadable
