"""The centre's KPIs (issue 16, item 1), from the task and audit tables, never engine state.

Each KPI answers, for a period (``start`` inclusive, ``end`` exclusive, aware datetimes),
its ``value`` (numerator / denominator, ``None`` when the denominator is 0), its
``target`` (the sources' figure, shared/domain.md "What managers and auditors measure",
or the site's own), ``numerator``, ``denominator`` and ``missed``: the cases behind the
complement (which jobs were late, which were reworked), so every figure can be traced to
its cases.

Definitions, one fact reader each below (a *fact* is one thing counted: a case, or a
return visit, with the moment that places it in the period and whether it counts in the
numerator):

- **repair timeliness** (零修、急修及时率, 100%): repair cases *completed* in the period; on
  time when none of their human tasks finished after its limit ("超過規定時間,辦得再好也
  要視為沒有辦好": a job late on any step is late, by a minute too). Cancelled cases are not
  jobs done and count in neither figure.
- **first-time pass** (一次合格率, 95%): each repair job is judged once. A job sent back
  (返修: a return visit answered 不满意 ``unsatisfied`` reopens it) is *reworked*, counted in
  the period of its first such visit, finished again or not (a reopened case still in
  rework at the end of the period counts against it). A job *completed* in the period
  that was never sent back passed when its work step (``repair_work``) was completed once;
  done twice by another path it is reworked too. A job reopened in an earlier period is
  not counted again when it finally completes.
- **valid complaints closed** (有效投诉办结率, 96%): complaints *screened valid* in the
  period (the ``screen`` step recorded ``valid: true``); closed when the case completed
  (by the end of the period). A complaint withdrawn (cancelled) after screening is not
  closed and counts against.
- **return-visit rate** (回访率, 100%): repair and complaint cases *completed* in the
  period, but for complaints screened invalid (answered and closed with no visit by the
  process); visited when their ``return_visit`` step was completed. A case whose visit is
  still open (not yet due) is not completed: it counts when it is, in that period.
- **satisfaction** (满意率, 90%): return visits *completed* in the period; satisfied when
  the owner said 满意 or 非常满意 (``satisfied``, ``very_satisfied``); 一般 (``neutral``) is
  not satisfied. A case visited twice (a rework) counts twice.
- **escalations**: cases escalated in the period (an ``escalated`` event), with how many
  reached each level; ``value`` is the count (no rate, no target).
- **renovation review on time** (3 working days, 100%): renovation ``review`` steps
  completed in the period, on time when completed by their limit.

Filters (``Scope``), each optional, narrow the *cases* every KPI counts:

- ``site``: cases whose business key is a unit of that site (Unit -> Building -> Site);
- ``process``: the case's process key (a KPI of another process then counts nothing);
- ``category``: a complaint's category or a repair's trade (the case's ``summary``);
- ``handler``: the cases in which that user completed a human task (dispatched, worked,
  screened, visited...): the cases they had a hand in. A breakdown by handler therefore
  lists a case under each of its handlers, and its rows do not add up to the total.

Targets: the site's ``kpi_targets`` (name -> float) override :data:`TARGETS`; with no site
given and exactly one site in the registry, that site's.

Series and breakdowns (:func:`report`) group the same facts: by week (from Monday) and by
month of the moment each fact falls in the period, in the site's time zone
(``TIME_ZONE``), and by category, trade and handler. Every reading is a fixed number of
queries whatever the number of cases: one per KPI (two for the first-time pass), one for
the targets, one for the handlers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from server.estate.models import Site, Unit
from server.flows.models import AuditEvent, HumanTask, ProcessInstance

COMPLETED = ProcessInstance.Status.COMPLETED
DONE = HumanTask.Status.COMPLETED
TASK_DONE = AuditEvent.Kind.TASK_COMPLETED
SATISFIED = ("satisfied", "very_satisfied")
UNSATISFIED = "unsatisfied"  # the repair's gateway sends the job back on this answer only
# The sources' targets (shared/domain.md); a site may set its own (Site.kpi_targets).
TARGETS = {
    "repair_timeliness": 1.0,
    "repair_first_time_pass": 0.95,
    "complaints_closed": 0.96,
    "return_visit_rate": 1.0,
    "satisfaction": 0.90,
    "escalations": None,
    "renovation_review_on_time": 1.0,
}
# The summary fields that hold a case's category (as server/audit/search.py reads them).
CATEGORY, TRADE = "category", "trade"
BREAKDOWNS = ("category", "trade", "handler")
SERIES = ("week", "month")


@dataclass(frozen=True)
class Scope:
    """Which cases count: every field left empty asks nothing (ids, not names)."""

    site: int | None = None
    process: str = ""
    category: str = ""
    handler: int | None = None

    @classmethod
    def of(cls, site=None, process: str = "", category: str = "", handler=None) -> Scope:
        return cls(site=getattr(site, "pk", site), process=process or "",
                   category=category or "", handler=getattr(handler, "pk", handler))  # fmt: skip

    def q(self, prefix: str = "") -> Q:
        """The condition on a case row, reached through ``prefix`` (``"instance__"``)."""
        found = Q()
        if self.process:
            found &= Q(**{f"{prefix}process_key": self.process})
        if self.site is not None:
            codes = Unit.objects.filter(building__site_id=self.site).values("code")
            found &= Q(**{f"{prefix}business_key__in": codes})
        if self.category:
            found &= Q(**{f"{prefix}summary__{CATEGORY}": self.category}) | Q(
                **{f"{prefix}summary__{TRADE}": self.category}
            )
        if self.handler is not None:
            worked = HumanTask.objects.filter(completed_by_id=self.handler, status=DONE)
            found &= Q(**{f"{prefix}pk__in": worked.values("instance_id")})
        return found


@dataclass(frozen=True)
class Fact:
    """One thing counted: ``case``, when it falls in the period, whether it counts in the
    numerator, the case's category and trade, and (escalations) the level reached."""

    case: int
    at: datetime
    ok: bool
    category: str = ""
    trade: str = ""
    level: int = 0


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

    @property
    def below(self) -> bool:
        """Below its target (what the dashboard shows in red, and says)."""
        return self.target is not None and self.value is not None and self.value < self.target

    def answer(self) -> dict:
        return {
            "value": self.value, "target": self.target, "numerator": self.numerator,
            "denominator": self.denominator, "missed": self.missed, **self.detail,
        }  # fmt: skip


# -- the facts, one reader per KPI -----------------------------------------------------------


def _kinds(prefix: str = "") -> dict:
    text = TextField()
    return {name: Coalesce(KeyTextTransform(name, f"{prefix}summary"), Value(""),
                           output_field=text) for name in (CATEGORY, TRADE)}  # fmt: skip


def _completed(process, start: datetime, end: datetime, scope: Scope) -> QuerySet:
    keys = (process,) if isinstance(process, str) else process
    return ProcessInstance.objects.filter(
        scope.q(), process_key__in=keys, status=COMPLETED, completed_at__gte=start,
        completed_at__lt=end,
    )  # fmt: skip


def _timeliness(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    late = HumanTask.objects.filter(
        instance=OuterRef("pk"), status=DONE, due_at__isnull=False, completed_at__gt=F("due_at")
    )
    jobs = _completed("repair", start, end, scope).annotate(late=Exists(late), **_kinds())
    return [Fact(pk, at, not is_late, category, trade) for pk, at, is_late, category, trade
            in jobs.values_list("pk", "completed_at", "late", "category", "trade")]  # fmt: skip


def _sent_back(prefix: str = "") -> Q:
    """An event (or, through ``prefix``, a case's event) that sent a repair back: its return
    visit answered 不满意."""
    return Q(**{f"{prefix}kind": TASK_DONE, f"{prefix}task__bpmn_id": "return_visit",
                f"{prefix}data__data__satisfaction": UNSATISFIED})  # fmt: skip


def _first_time_pass(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    # Reworked: judged when first sent back, whether or not it has been finished since.
    reopened = (
        AuditEvent.objects.filter(_sent_back(), scope.q("instance__"),
                                  instance__process_key="repair", at__lt=end)
        .values("instance_id")
        .annotate(first=Min("at"), **_kinds("instance__"))
        .filter(first__gte=start, first__lt=end)
    )  # fmt: skip
    facts = [Fact(row["instance_id"], row["first"], False, row["category"], row["trade"])
             for row in reopened]  # fmt: skip
    # Never sent back: judged when completed, by how often its work was done.
    sent_back = AuditEvent.objects.filter(_sent_back(), instance=OuterRef("pk"))
    jobs = (
        _completed("repair", start, end, scope)
        .annotate(works=Count("tasks", filter=Q(tasks__bpmn_id="repair_work", tasks__status=DONE)),
                  back=Exists(sent_back), **_kinds())
        .filter(back=False)
    )  # fmt: skip
    facts += [Fact(pk, at, works == 1, category, trade) for pk, at, works, category, trade
              in jobs.values_list("pk", "completed_at", "works", "category", "trade")]  # fmt: skip
    return facts


def _screened(valid: bool) -> QuerySet:
    return AuditEvent.objects.filter(
        instance__process_key="complaint", kind=TASK_DONE, task__bpmn_id="screen",
        data__data__valid=valid,
    )  # fmt: skip


def _complaints_closed(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    screened = _screened(True).filter(scope.q("instance__"), at__gte=start, at__lt=end)
    rows = screened.annotate(**_kinds("instance__")).values_list(
        "instance_id", "at", "instance__status", "instance__completed_at", "category", "trade"
    )
    facts: dict[int, Fact] = {}
    for pk, at, status, done, category, trade in rows:
        closed = status == COMPLETED and done is not None and done < end
        facts.setdefault(pk, Fact(pk, at, closed, category, trade))
    return list(facts.values())


def _return_visits(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    visited = HumanTask.objects.filter(instance=OuterRef("pk"), bpmn_id="return_visit",
                                       status=DONE)  # fmt: skip
    invalid = _screened(False).filter(instance=OuterRef("pk"))
    closed = (
        _completed(("repair", "complaint"), start, end, scope)
        .annotate(visited=Exists(visited), invalid=Exists(invalid), **_kinds())
        .filter(invalid=False)
    )
    rows = closed.values_list("pk", "completed_at", "visited", "category", "trade")
    return [Fact(pk, at, seen, category, trade) for pk, at, seen, category, trade in rows]


def _satisfaction(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    visits = AuditEvent.objects.filter(
        scope.q("instance__"), kind=TASK_DONE, task__bpmn_id="return_visit",
        instance__process_key__in=("repair", "complaint"), at__gte=start, at__lt=end,
    ).annotate(**_kinds("instance__"))  # fmt: skip
    rows = visits.values_list("instance_id", "at", "data__data__satisfaction", "category", "trade")
    return [Fact(pk, at, said in SATISFIED, category, trade)
            for pk, at, said, category, trade in rows]  # fmt: skip


def _escalations(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    events = AuditEvent.objects.filter(
        scope.q("instance__"), kind=AuditEvent.Kind.ESCALATED, at__gte=start, at__lt=end
    ).annotate(**_kinds("instance__"))
    rows = events.values_list("instance_id", "at", "data__level", "category", "trade")
    return [Fact(pk, at, True, category, trade, int(level or 0))
            for pk, at, level, category, trade in rows]  # fmt: skip


def _renovation_reviews(start: datetime, end: datetime, scope: Scope) -> list[Fact]:
    reviews = HumanTask.objects.filter(
        scope.q("instance__"), process_key="renovation", bpmn_id="review", status=DONE,
        completed_at__gte=start, completed_at__lt=end,
    ).annotate(**_kinds("instance__"))  # fmt: skip
    rows = reviews.values_list("instance_id", "completed_at", "due_at", "category", "trade")
    return [Fact(pk, at, due is None or at <= due, category, trade)
            for pk, at, due, category, trade in rows]  # fmt: skip


FACTS: dict[str, Callable[[datetime, datetime, Scope], list[Fact]]] = {
    "repair_timeliness": _timeliness,
    "repair_first_time_pass": _first_time_pass,
    "complaints_closed": _complaints_closed,
    "return_visit_rate": _return_visits,
    "satisfaction": _satisfaction,
    "escalations": _escalations,
    "renovation_review_on_time": _renovation_reviews,
}


# -- from facts to figures -------------------------------------------------------------------


def summarise(name: str, facts: Iterable[Fact], target: float | None) -> Kpi:
    """The KPI ``name`` of ``facts``: a rate of them, or (escalations) a count of cases."""
    facts = list(facts)
    if name == "escalations":
        by_level: dict[int, set[int]] = defaultdict(set)
        for f in facts:
            by_level[f.level].add(f.case)
        cases = sorted({f.case for f in facts})
        levels = {str(level): len(ids) for level, ids in sorted(by_level.items())}
        return Kpi(len(cases), len(cases), target, cases, {"levels": levels})
    ok = sum(1 for f in facts if f.ok)
    missed = sorted({f.case for f in facts if not f.ok})
    return Kpi(ok, len(facts), target, missed)


def targets(site=None) -> dict[str, float | None]:
    """The sources' targets, overridden by ``site``'s own (or, with no site given, by the
    only site's when there is exactly one): one query."""
    site_id = getattr(site, "pk", site)
    if site_id is not None:
        own = Site.objects.filter(pk=site_id).values_list("kpi_targets", flat=True).first()
    else:
        only = list(Site.objects.values_list("kpi_targets", flat=True)[:2])
        own = only[0] if len(only) == 1 else None
    found = dict(TARGETS)
    for name, value in (own or {}).items():
        if name in found and name != "escalations" and isinstance(value, int | float):
            found[name] = float(value)
    return found


def compute(name: str, start: datetime, end: datetime, scope: Scope | None = None,
            target: float | None | str = "site") -> Kpi:  # fmt: skip
    scope = scope or Scope()
    if target == "site":
        target = targets(scope.site)[name]
    return summarise(name, FACTS[name](start, end, scope), target)


def _one(name: str):
    def kpi(start: datetime, end: datetime, *, site=None, process: str = "", category: str = "",
            handler=None) -> Kpi:  # fmt: skip
        return compute(name, start, end, Scope.of(site, process, category, handler))

    kpi.__name__ = kpi.__qualname__ = name
    kpi.__doc__ = f"The KPI {name} for the period, of the cases the filters leave (Scope)."
    return kpi


repair_timeliness = _one("repair_timeliness")
repair_first_time_pass = _one("repair_first_time_pass")
complaints_closed = _one("complaints_closed")
return_visit_rate = _one("return_visit_rate")
satisfaction = _one("satisfaction")
escalations = _one("escalations")
renovation_review_on_time = _one("renovation_review_on_time")

KPIS = {name: globals()[name] for name in FACTS}


def kpis(start: datetime, end: datetime, scope: Scope | None = None) -> dict[str, dict]:
    """Every KPI for the period, as the API answers them (nine queries)."""
    scope = scope or Scope()
    goal = targets(scope.site)
    return {name: compute(name, start, end, scope, goal[name]).answer() for name in FACTS}


# -- series and breakdowns -------------------------------------------------------------------


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """The days ``first`` to ``last`` (inclusive) as [start, end) in the site's time zone."""
    zone = timezone.get_default_timezone()
    return (datetime.combine(first, time.min, tzinfo=zone),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone))  # fmt: skip


def bucket(moment: datetime, by: str) -> date:
    """The first day of the week (Monday) or month of ``moment``, in the site's time."""
    day = timezone.localtime(moment, timezone.get_default_timezone()).date()
    return day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def buckets(start: datetime, end: datetime, by: str) -> list[date]:
    """Every week or month the period touches, in order (empty ones too)."""
    first, last = bucket(start, by), bucket(end - timedelta(microseconds=1), by)
    found, day = [], first
    while day <= last:
        found.append(day)
        day = day + timedelta(days=7) if by == "week" else _next_month(day)
    return found


def _next_month(day: date) -> date:
    return (
        day.replace(year=day.year + 1, month=1)
        if day.month == 12
        else day.replace(month=day.month + 1)
    )


def handlers(case_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each case's handlers: who completed a human task in it (usernames); one query."""
    ids = sorted(set(case_ids))
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    rows = (
        HumanTask.objects.filter(instance_id__in=ids, status=DONE, completed_by__isnull=False)
        .values_list("instance_id", "completed_by__username").distinct()
        .order_by("instance_id", "completed_by__username")
    )  # fmt: skip
    for pk, username in rows:
        found[pk].append(username)
    return found


@dataclass
class Report:
    """What the dashboard shows: each KPI, its series by week and month, its breakdowns by
    category, trade and handler (each a list of (key, Kpi), keys sorted)."""

    start: datetime
    end: datetime
    kpis: dict[str, Kpi]
    series: dict[str, dict[str, list[tuple[date, Kpi]]]]
    breakdowns: dict[str, dict[str, list[tuple[str, Kpi]]]]


def report(start: datetime, end: datetime, scope: Scope | None = None) -> Report:
    """Every KPI with its series and breakdowns: ten queries whatever the cases."""
    scope = scope or Scope()
    goal = targets(scope.site)
    facts = {name: read(start, end, scope) for name, read in FACTS.items()}
    who = handlers(f.case for found in facts.values() for f in found)
    answer = Report(start, end, {}, {}, {})
    for name, found in facts.items():
        target = goal[name]
        answer.kpis[name] = summarise(name, found, target)
        answer.series[name] = {}
        for by in SERIES:
            grouped = _group(found, lambda f, by=by: [bucket(f.at, by)])
            answer.series[name][by] = [
                (day, summarise(name, grouped.get(day, []), target))
                for day in buckets(start, end, by)
            ]
        answer.breakdowns[name] = {
            "category": _rows(name, _group(found, lambda f: [f.category] if f.category else []),
                              target),
            "trade": _rows(name, _group(found, lambda f: [f.trade] if f.trade else []), target),
            "handler": _rows(name, _group(found, lambda f: who.get(f.case, [])), target),
        }  # fmt: skip
    return answer


def _group(facts: list[Fact], keys: Callable[[Fact], list]) -> dict:
    grouped: dict = defaultdict(list)
    for f in facts:
        for key in keys(f):
            grouped[key].append(f)
    return grouped


def _rows(name: str, grouped: dict, target) -> list[tuple[str, Kpi]]:
    return [(key, summarise(name, grouped[key], target)) for key in sorted(grouped)]


def cases_behind(
    name: str, start: datetime, end: datetime, scope: Scope | None = None, *,
    missed: bool = True, level: int | None = None,
) -> list[int]:  # fmt: skip
    """The cases behind a figure: those that missed (or, ``missed=False``, every case
    counted; escalations: those escalated, to ``level`` when given), sorted."""
    found = FACTS[name](start, end, scope or Scope())
    if name == "escalations":
        return sorted({f.case for f in found if level is None or f.level == level})
    return sorted({f.case for f in found if not missed or not f.ok})


def case_rows(case_ids: list[int]) -> list[dict]:
    """The cases of ``case_ids`` as a list shows them (no personal data: the unit's code,
    the category or trade, when it started and ended), in the order given; one query."""
    rows = (
        ProcessInstance.objects.filter(pk__in=case_ids)
        .annotate(**_kinds())
        .values("pk", "process_key", "business_key", "status", "started_at", "completed_at",
                "escalation_level", "category", "trade")
    )  # fmt: skip
    found = {row["pk"]: row for row in rows}
    return [found[pk] for pk in case_ids if pk in found]
