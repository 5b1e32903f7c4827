"""The centre's KPIs (issue 16, item 1), from the task and audit tables, never engine state.

Each KPI answers, for a period (``start`` inclusive, ``end`` exclusive, aware datetimes),
its ``value`` (numerator / denominator, ``None`` when the denominator is 0), its
``target`` (the sources' figure, shared/domain.md "What managers and auditors measure"),
``numerator``, ``denominator`` and ``missed``: the cases behind the complement (which jobs
were late, which were reworked), so every figure can be traced to its cases.

Definitions, one function each below:

- **repair timeliness** (零修、急修及时率, 100%): repair cases *completed* in the period; on
  time when none of their human tasks finished after its limit ("超過規定時間,辦得再好也
  要視為沒有辦好": a job late on any step is late, by a minute too). Cancelled cases are not
  jobs done and count in neither figure.
- **first-time pass** (一次合格率, 95%): the same jobs; passed when the work step
  (``repair_work``) was completed once: an unsatisfied return visit sends the job back
  (返修) and a second completion is a rework.
- **valid complaints closed** (有效投诉办结率, 96%): complaints *screened valid* in the
  period (the ``screen`` step recorded ``valid: true``); closed when the case completed
  (by the end of the period). A complaint withdrawn (cancelled) after screening is not
  closed and counts against.
- **return-visit rate** (回访率, 100%): repair and complaint cases *completed* in the
  period, but for complaints screened invalid (answered and closed with no visit by the
  process); visited when their ``return_visit`` step was completed.
- **satisfaction** (满意率, 90%): return visits *completed* in the period; satisfied when
  the owner said 满意 or 非常满意 (``satisfied``, ``very_satisfied``); 一般 (``neutral``) is
  not satisfied.
- **escalations**: cases escalated in the period (an ``escalated`` event), with how many
  reached each level; ``value`` is the count (no rate, no target).
- **renovation review on time** (3 working days, 100%): renovation ``review`` steps
  completed in the period, on time when completed by their limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Q

from server.flows.models import AuditEvent, HumanTask, ProcessInstance

COMPLETED = ProcessInstance.Status.COMPLETED
DONE = HumanTask.Status.COMPLETED
SATISFIED = ("satisfied", "very_satisfied")
# The sources' targets (shared/domain.md); a site may set its own (issue 16, later).
TARGETS = {
    "repair_timeliness": 1.0,
    "repair_first_time_pass": 0.95,
    "complaints_closed": 0.96,
    "return_visit_rate": 1.0,
    "satisfaction": 0.90,
    "escalations": None,
    "renovation_review_on_time": 1.0,
}


@dataclass
class Kpi:
    numerator: int
    denominator: int
    target: float | None
    missed: list[int] = field(default_factory=list)  # case ids behind the complement
    detail: dict = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    def answer(self) -> dict:
        return {
            "value": self.value, "target": self.target, "numerator": self.numerator,
            "denominator": self.denominator, "missed": self.missed, **self.detail,
        }  # fmt: skip


def _completed(process: str, start: datetime, end: datetime):
    return ProcessInstance.objects.filter(
        process_key=process, status=COMPLETED, completed_at__gte=start, completed_at__lt=end
    )


def repair_timeliness(start: datetime, end: datetime) -> Kpi:
    jobs = _completed("repair", start, end)
    late_step = HumanTask.objects.filter(
        status=DONE, due_at__isnull=False, completed_at__gt=F("due_at")
    )
    late = set(jobs.filter(pk__in=late_step.values("instance_id")).values_list("pk", flat=True))
    total = jobs.count()
    return Kpi(total - len(late), total, TARGETS["repair_timeliness"], sorted(late))


def repair_first_time_pass(start: datetime, end: datetime) -> Kpi:
    jobs = _completed("repair", start, end).annotate(
        works=Count("tasks", filter=Q(tasks__bpmn_id="repair_work", tasks__status=DONE))
    )
    counts = dict(jobs.values_list("pk", "works"))
    reworked = sorted(pk for pk, n in counts.items() if n > 1)
    return Kpi(len(counts) - len(reworked), len(counts), TARGETS["repair_first_time_pass"],
               reworked)  # fmt: skip


def complaints_closed(start: datetime, end: datetime) -> Kpi:
    screened = AuditEvent.objects.filter(
        instance__process_key="complaint", kind=AuditEvent.Kind.TASK_COMPLETED,
        task__bpmn_id="screen", at__gte=start, at__lt=end, data__data__valid=True,
    )  # fmt: skip
    valid = ProcessInstance.objects.filter(pk__in=screened.values("instance_id"))
    closed = set(valid.filter(status=COMPLETED, completed_at__lt=end).values_list("pk", flat=True))
    every = set(valid.values_list("pk", flat=True))
    return Kpi(len(closed), len(every), TARGETS["complaints_closed"], sorted(every - closed))


def return_visit_rate(start: datetime, end: datetime) -> Kpi:
    invalid = AuditEvent.objects.filter(
        instance__process_key="complaint", kind=AuditEvent.Kind.TASK_COMPLETED,
        task__bpmn_id="screen", data__data__valid=False,
    )  # fmt: skip
    closed = ProcessInstance.objects.filter(
        process_key__in=("repair", "complaint"),
        status=COMPLETED,
        completed_at__gte=start,
        completed_at__lt=end,
    ).exclude(pk__in=invalid.values("instance_id"))
    visited = HumanTask.objects.filter(bpmn_id="return_visit", status=DONE)
    every = set(closed.values_list("pk", flat=True))
    done = set(closed.filter(pk__in=visited.values("instance_id")).values_list("pk", flat=True))
    return Kpi(len(done), len(every), TARGETS["return_visit_rate"], sorted(every - done))


def satisfaction(start: datetime, end: datetime) -> Kpi:
    visits = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.TASK_COMPLETED, task__bpmn_id="return_visit",
        instance__process_key__in=("repair", "complaint"), at__gte=start, at__lt=end,
    )  # fmt: skip
    rows = list(visits.values_list("instance_id", "data__data__satisfaction"))
    unhappy = sorted({pk for pk, said in rows if said not in SATISFIED})
    happy = sum(1 for _, said in rows if said in SATISFIED)
    return Kpi(happy, len(rows), TARGETS["satisfaction"], unhappy)


def escalations(start: datetime, end: datetime) -> Kpi:
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.ESCALATED, at__gte=start, at__lt=end)
    by_level: dict[int, set[int]] = {}
    for pk, level in events.values_list("instance_id", "data__level"):
        by_level.setdefault(int(level or 0), set()).add(pk)
    cases = sorted(set().union(*by_level.values())) if by_level else []
    detail = {"levels": {str(level): len(ids) for level, ids in sorted(by_level.items())}}
    return Kpi(len(cases), len(cases), TARGETS["escalations"], cases, detail)


def renovation_review_on_time(start: datetime, end: datetime) -> Kpi:
    reviews = HumanTask.objects.filter(
        process_key="renovation", bpmn_id="review", status=DONE,
        completed_at__gte=start, completed_at__lt=end,
    )  # fmt: skip
    rows = list(reviews.values_list("instance_id", "due_at", "completed_at"))
    late = sorted({pk for pk, due, done in rows if due is not None and done > due})
    on_time = sum(1 for _, due, done in rows if due is None or done <= due)
    return Kpi(on_time, len(rows), TARGETS["renovation_review_on_time"], late)


KPIS = {
    "repair_timeliness": repair_timeliness,
    "repair_first_time_pass": repair_first_time_pass,
    "complaints_closed": complaints_closed,
    "return_visit_rate": return_visit_rate,
    "satisfaction": satisfaction,
    "escalations": escalations,
    "renovation_review_on_time": renovation_review_on_time,
}


def kpis(start: datetime, end: datetime) -> dict[str, dict]:
    """Every KPI for the period, as the API will answer them."""
    return {name: compute(start, end).answer() for name, compute in KPIS.items()}
