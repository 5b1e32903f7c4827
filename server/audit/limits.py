"""Each human task of a case against its time limit, for the auditor's trail: the boundary
timer that set its due time (by name, and the named limit of engine/limits.py it counts,
when its expression names one), time spent, met or missed and by how much, said as the
limit is counted (working days for a limit in working days, else days, hours, minutes)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from engine import clock
from engine.errors import EngineError
from engine.text import pick
from server.flows.definitions.cache import get_engine
from server.flows.models import HumanTask
from server.flows.notifications import messages

from . import words

LIMIT_KEY = re.compile(r"""["']([a-z_]+\.[a-z0-9_]+)["']""")
LIMIT_NAME = re.compile(r"""(?:deadline|reminder)\(\s*([A-Za-z_]\w*)\s*[,)]""")
WORKING_DAYS = ("working_days", "working_day_end")


def steps(tasks: list[HumanTask], engine_trail, source, language: str) -> list[dict]:
    """Each of the case's human tasks (oldest first) against the limit its boundary timer
    set: when it started and finished, time spent, met or missed and by how much."""
    limits: dict[str, list] = {}
    for limit in engine_trail.limits:
        if not limit.reminder:
            limits.setdefault(limit.task_id, []).append(limit)
    now = clock.now()
    return [
        _step(t, limits.get(str(t.pk), []), source, engine_trail.data, now, language) for t in tasks
    ]


def _step(task: HumanTask, limits: list, source, data: dict, now, language: str) -> dict:
    limit = _the_limit(task, limits)
    ended = task.completed_at if task.status != HumanTask.Status.OPEN else None
    end = ended or now
    outcome, by = _outcome(task, end)
    named = _named(limit, data) if limit else None
    unit = named.unit if named else None
    by_text = _by_text(task, end, by, unit, language)
    return {
        "task": str(task.pk), "bpmn_id": task.bpmn_id, "name": task.name,
        "name_en": task.name_en or task.name, "label": words.task_name(task, language),
        "role": task.role, "role_label": words.role_label(task.role, language),
        "status": task.status, "who": words.person(task.completed_by or task.assignee),
        "started_at": task.created_at, "finished_at": ended, "due_at": task.due_at,
        "spent_minutes": _minutes(end - task.created_at),
        "spent_text": messages.duration(_minutes(end - task.created_at), language),
        "limit": None if task.due_at is None else {
            "timer": limit.bpmn_id if limit else "",
            "name": limit.name if limit else "",
            "name_en": (source.glossary.get(limit.bpmn_id) or limit.name) if limit else "",
            "label": pick([limit.name, source.glossary.get(limit.bpmn_id)], language)
            if limit else _("Due time"),
            "key": named.key if named else "", "unit": unit or "",
        },
        "outcome": outcome, "by_minutes": by,
        "by_text": by_text, "outcome_text": _outcome_text(outcome, by_text),
    }  # fmt: skip


def _the_limit(task: HumanTask, limits: list):
    """The boundary timer that set the task's due time (its earliest limit), if any."""
    if not limits:
        return None
    if task.due_at is not None:
        same = [x for x in limits if x.due is not None and abs(x.due - task.due_at) < ONE_SECOND]
        if same:
            return same[0]
    dated = sorted((x for x in limits if x.due is not None), key=lambda x: x.due)
    return dated[0] if dated else limits[0]


ONE_SECOND = timedelta(seconds=1)


def _named(limit, data: dict):
    """The named time limit (engine/limits.py) a timer's expression counts with, if it
    names one: a literal key, or a process field holding one."""
    known = get_engine().limits
    keys = LIMIT_KEY.findall(limit.expression)
    keys += [data[n] for n in LIMIT_NAME.findall(limit.expression) if isinstance(data.get(n), str)]
    for key in keys:
        try:
            return known[key]
        except EngineError:  # a string that names no limit
            continue
    return None


def _outcome(task: HumanTask, end: datetime) -> tuple[str, int]:
    """met | missed | open | overdue | none, and by how many minutes (0 without a limit)."""
    if task.due_at is None:
        return "none", 0
    late = _minutes(end - task.due_at)
    if task.status == HumanTask.Status.OPEN:
        return ("overdue", late) if late > 0 else ("open", -late)
    return ("missed", late) if late > 0 else ("met", -late)


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _by_text(task: HumanTask, end: datetime, by: int, unit: str | None, language: str) -> str:
    """How far from its limit, as the limit is counted: working days for a limit in
    working days (when a whole one or more), else days, hours and minutes."""
    if task.due_at is None:
        return ""
    if unit in WORKING_DAYS:
        first, last = sorted((task.due_at, end))
        days = _working_days_between(first, last)
        if days:
            return _("%(n)s working day(s)") % {"n": days}
    return messages.duration(by, language)


def _working_days_between(first: datetime, last: datetime) -> int:
    calendar = get_engine().calendar
    a, b = first.astimezone(calendar.tz).date(), last.astimezone(calendar.tz).date()
    return sum(calendar.is_working_day(a + timedelta(days=n)) for n in range(1, (b - a).days + 1))


def _outcome_text(outcome: str, by: str) -> str:
    return {
        "met": _("Met, %(by)s early") % {"by": by},
        "missed": _("Missed by %(by)s") % {"by": by},
        "open": _("Open, %(by)s left") % {"by": by},
        "overdue": _("Open and overdue by %(by)s") % {"by": by},
        "none": _("No time limit"),
    }[outcome]
