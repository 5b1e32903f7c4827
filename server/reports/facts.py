"""A case's KPI items, derived from its task and audit rows (never the engine's state).

:func:`derive` reads a batch of cases in three queries (the cases, their human tasks, their
screening, return-visit and escalation events) and answers the items
(:class:`server.reports.models.KpiFact`) each KPI counts; the definitions are those of
:mod:`server.reports.kpis`, item by item:

- ``repair_timeliness``: one item per repair case completed, at its completion; ``ok`` when
  no human task finished after its limit.
- ``repair_first_time_pass``: one item per repair job, judged once: a job sent back (its
  return visit answered 不满意) is reworked, at its first such visit, finished again or not;
  a job completed and never sent back passed, at its completion, when ``repair_work`` was
  completed once.
- ``complaints_closed``: one item per complaint screened valid, at its first valid screening;
  ``done_at`` is when the case completed (closed within a period when before its end).
- ``return_visit_rate``: one item per repair or complaint completed, but for complaints
  screened invalid; ``ok`` when a ``return_visit`` was completed.
- ``satisfaction``: one item per return visit completed, at the visit; ``ok`` when the owner
  said 满意 or 非常满意.
- ``escalations``: one item per ``escalated`` event, with its level.
- ``renovation_review_on_time``: one item per renovation ``review`` completed; ``ok`` when by
  its limit.

Every item carries the case's process, unit, category (a complaint's) and trade (a
repair's); beside the items, :class:`~server.reports.models.KpiHandler` rows name who had a
hand in the case: everyone who completed one of its human tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import partial

from django.utils import timezone

from server.flows.models import AuditEvent, HumanTask, ProcessInstance

from .models import KpiFact, KpiHandler

SATISFIED = ("satisfied", "very_satisfied")
COMPLETED = ProcessInstance.Status.COMPLETED
DONE = HumanTask.Status.COMPLETED
UNSATISFIED = "unsatisfied"  # the repair's gateway sends the job back on this answer only


def _fact(out: list, case: dict, kind, at, ok=None, **more) -> None:
    day = timezone.localtime(at, timezone.get_default_timezone()).date()
    out.append(KpiFact(kind=kind, at=at, day=day, ok=ok, **case, **more))


def derive(case_ids: Iterable[int]) -> tuple[list[KpiFact], list[KpiHandler]]:
    """The KPI items of these cases and who had a hand in each, as unsaved rows (three
    queries whatever their number)."""
    cases = list(
        ProcessInstance.objects.filter(pk__in=list(case_ids)).values_list(
            "pk", "process_key", "status", "completed_at", "business_key", "summary"
        )
    )
    if not cases:
        return [], []
    ids = [case[0] for case in cases]
    tasks: dict[int, list[tuple]] = defaultdict(list)
    for pk, *row in HumanTask.objects.filter(instance_id__in=ids).values_list(
        "instance_id", "bpmn_id", "status", "due_at", "completed_at", "completed_by_id"
    ):
        tasks[pk].append(tuple(row))
    events: dict[int, list[tuple]] = defaultdict(list)
    measured = AuditEvent.objects.filter(instance_id__in=ids).filter(
        kind=AuditEvent.Kind.ESCALATED
    ) | AuditEvent.objects.filter(
        instance_id__in=ids, kind=AuditEvent.Kind.TASK_COMPLETED,
        task__bpmn_id__in=("screen", "return_visit"),
    )  # fmt: skip
    for pk, kind, at, bpmn_id, data, actor in measured.order_by("instance_id", "seq").values_list(
        "instance_id", "kind", "at", "task__bpmn_id", "data", "actor_id"
    ):
        events[pk].append((kind, at, bpmn_id, data or {}, actor))

    facts, handlers = [], []
    for pk, key, status, completed_at, unit, summary in cases:
        summary = summary or {}
        own = tasks[pk]
        handlers += [KpiHandler(case_id=pk, user_id=who)
                     for who in sorted({t[4] for t in own if t[1] == DONE and t[4]})]  # fmt: skip
        fact = partial(_fact, facts, {"case_id": pk, "process_key": key, "unit": unit,
                                      "category": str(summary.get("category") or ""),
                                      "trade": str(summary.get("trade") or "")})  # fmt: skip

        finished = status == COMPLETED and completed_at is not None
        screens = [e for e in events[pk] if e[0] == AuditEvent.Kind.TASK_COMPLETED
                   and e[2] == "screen"]  # fmt: skip
        invalid = any((e[3].get("data") or {}).get("valid") is False for e in screens)
        if key == "repair":
            visits = [
                (e[1], (e[3].get("data") or {}).get("satisfaction"))
                for e in events[pk]
                if e[0] == AuditEvent.Kind.TASK_COMPLETED and e[2] == "return_visit"
            ]
            sent_back = [at for at, said in visits if said == UNSATISFIED]
            works = sum(1 for t in own if t[0] == "repair_work" and t[1] == DONE)
            if sent_back:
                fact("repair_first_time_pass", min(sent_back), False)
            elif finished:
                fact("repair_first_time_pass", completed_at, works <= 1)
            if finished:
                late = any(t[1] == DONE and t[2] and t[3] and t[3] > t[2] for t in own)
                fact("repair_timeliness", completed_at, not late)
        if key == "complaint":
            valid = [e for e in screens if (e[3].get("data") or {}).get("valid") is True]
            if valid:
                fact("complaints_closed", valid[0][1],
                     done_at=completed_at if finished else None)  # fmt: skip
        if key in ("repair", "complaint"):
            if finished and not invalid:
                visited = any(t[0] == "return_visit" and t[1] == DONE for t in own)
                fact("return_visit_rate", completed_at, visited)
            for kind, at, bpmn_id, data, _ in events[pk]:
                if kind == AuditEvent.Kind.TASK_COMPLETED and bpmn_id == "return_visit":
                    said = (data.get("data") or {}).get("satisfaction")
                    fact("satisfaction", at, said in SATISFIED)
        for kind, at, _, data, _ in events[pk]:
            if kind == AuditEvent.Kind.ESCALATED:
                fact("escalations", at, level=int(data.get("level") or 0))
        if key == "renovation":
            for bpmn_id, state, due, done, _ in own:
                if bpmn_id == "review" and state == DONE and done:
                    fact("renovation_review_on_time", done, due is None or done <= due)
    return facts, handlers
