"""The centre's KPIs (issue 16, item 1), from the task and audit tables, never engine state.

Each KPI answers, for a period (``start`` inclusive, ``end`` exclusive, aware datetimes),
its ``value`` (numerator / denominator, ``None`` when the denominator is 0), its
``target`` (the sources' figure, shared/domain.md "What managers and auditors measure",
or the site's own), ``numerator``, ``denominator`` and ``missed``: the cases behind the
complement (which jobs were late, which were reworked), so every figure can be traced to
its cases.

They are counted on the roll-up (:class:`server.reports.models.KpiFact`: one *item* per
thing counted, a case or a return visit, with the moment that places it in the period and
whether it counts in the numerator; derived from the task and audit rows by
:mod:`server.reports.facts`, kept by :mod:`server.reports.rollup`), so a year of a busy
site is a scan of one index. Every reading below first brings the roll-up up to date.

Definitions:

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
  screened, visited...): the cases they had a hand in (``KpiHandler``). A breakdown by
  handler therefore lists a case under each of its handlers, and its rows do not add up to
  the total.

Targets: the site's ``kpi_targets`` (name -> float) override :data:`TARGETS`; with no site
given and exactly one site in the registry, that site's.

Series and breakdowns (:func:`report`) group the same items: by week (from Monday) and by
month of the moment each item falls in the period, in the site's time zone
(``TIME_ZONE``), and by category, trade and handler. Every reading is a fixed number of
queries whatever the number of cases: three per grouping (the counts, the cases missed,
the escalations' levels), one for the targets, and the roll-up's catch-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from server.estate.models import Site, Unit
from server.flows.models import HumanTask, ProcessInstance

from . import rollup
from .models import KpiFact, KpiHandler

DONE = HumanTask.Status.COMPLETED
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
FACTS = tuple(TARGETS)  # the KPIs' names, in the order pages show them
RATES = tuple(name for name in FACTS if name != "escalations")
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

    def items(self, start: datetime, end: datetime):
        """The roll-up's items of the period for these cases."""
        items = KpiFact.objects.filter(at__gte=start, at__lt=end)
        if self.process:
            items = items.filter(process_key=self.process)
        if self.site is not None:
            items = items.filter(unit__in=Unit.objects.filter(building__site_id=self.site)
                                 .values("code"))  # fmt: skip
        if self.category:
            items = items.filter(Q(category=self.category) | Q(trade=self.category))
        if self.handler is not None:
            hands = KpiHandler.objects.filter(user_id=self.handler).values("case_id")
            items = items.filter(case_id__in=hands)
        return items


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


# -- from items to figures -------------------------------------------------------------------


def _missed(end: datetime) -> Q:
    """An item behind a KPI's complement: a valid complaint not closed by the period's end;
    any other not ``ok``."""
    closed_late = Q(done_at__isnull=True) | Q(done_at__gte=end)
    return (Q(kind="complaints_closed") & closed_late) | (
        ~Q(kind="complaints_closed") & Q(ok=False)
    )


def _fold(counts, missed, escalated, goal) -> dict[tuple[str, object], Kpi]:
    """Kpis per (name, key) from rows (kind, key, every, bad), (kind, key, case) of missed
    items and (key, level, case) of escalations."""
    found: dict[tuple[str, object], Kpi] = {}
    for kind, key, every, bad in counts:
        found[kind, key] = Kpi(every - bad, every, goal[kind])
    cases = defaultdict(set)
    for kind, key, case in missed:
        cases[kind, key].add(case)
    for where, ids in cases.items():
        found[where].missed = sorted(ids)
    levels: dict[object, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for key, level, case in escalated:
        levels[key][int(level or 0)].add(case)
    for key, by_level in levels.items():
        ids = sorted(set().union(*by_level.values()))
        detail = {"levels": {str(level): len(v) for level, v in sorted(by_level.items())},
                  "by_level": by_level}  # fmt: skip
        found["escalations", key] = Kpi(len(ids), len(ids), None, ids, detail)
    return found


def _grouped(items, end: datetime, key: str | None, names, goal) -> dict[tuple[str, object], Kpi]:
    """Each KPI of ``names`` per value of the field ``key`` (None: one group): three
    queries, the counts, the cases missed and the escalations' levels."""
    group = ["kind", key] if key else ["kind"]
    rates = [name for name in names if name in RATES]
    counts, missed, escalated = [], [], []
    if rates:
        rows = (
            items.filter(kind__in=rates)
            .values_list(*group)
            .annotate(every=Count("pk"), bad=Count("pk", filter=_missed(end)))
        )
        counts = [(row[0], row[1] if key else None, *row[-2:]) for row in rows.order_by()]
        missed = [(row[0], row[1] if key else None, row[-1])
                  for row in items.filter(_missed(end), kind__in=rates)
                  .values_list(*group, "case_id")]  # fmt: skip
    if "escalations" in names:
        escalated = [(row[0] if key else None, *row[-2:])
                     for row in items.filter(kind="escalations")
                     .values_list(*([key] if key else []), "level", "case_id")]  # fmt: skip
    return _fold(counts, missed, escalated, goal)


def _by_handler(items, end: datetime, names, goal) -> dict[tuple[str, object], Kpi]:
    """Each KPI of ``names`` per handler (username), a case under each of its handlers:
    the items joined straight to KpiHandler, three queries."""
    from django.db import connection

    rows, params = items.filter(kind__in=names).values("pk").query.sql_with_params()
    base = (
        f"FROM {KpiFact._meta.db_table} f JOIN {KpiHandler._meta.db_table} h "
        "ON h.case_id = f.case_id JOIN auth_user u ON u.id = h.user_id "
        f"WHERE f.id IN ({rows})"
    )
    missed = ("((f.kind = 'complaints_closed' AND (f.done_at IS NULL OR f.done_at >= %s)) "
              "OR (f.kind <> 'complaints_closed' AND f.ok = %s))")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.kind, u.username, COUNT(*), SUM(CASE WHEN {missed} THEN 1 ELSE 0 END) "
            f"{base} AND f.kind <> 'escalations' GROUP BY f.kind, u.username",
            [end, False, *params],
        )
        counts = cursor.fetchall()
        cursor.execute(f"SELECT f.kind, u.username, f.case_id {base} AND f.kind <> "
                       f"'escalations' AND {missed}", [*params, end, False])  # fmt: skip
        missed_rows = cursor.fetchall()
        cursor.execute(f"SELECT u.username, f.level, f.case_id {base} AND f.kind = 'escalations'",
                       params)  # fmt: skip
        escalated = cursor.fetchall()
    return _fold(counts, missed_rows, escalated, goal)


def _empty(name: str, goal) -> Kpi:
    return Kpi(0, 0, goal[name], [], {"levels": {}} if name == "escalations" else {})


def compute(name: str, start: datetime, end: datetime, scope: Scope | None = None,
            target: float | None | str = "site") -> Kpi:  # fmt: skip
    scope = scope or Scope()
    rollup.refresh()
    goal = targets(scope.site) if target == "site" else {**TARGETS, name: target}
    found = _grouped(scope.items(start, end), end, None, [name], goal)
    kpi = found.get((name, None)) or _empty(name, goal)
    kpi.detail.pop("by_level", None)
    return kpi


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


def _all(start: datetime, end: datetime, scope: Scope, goal) -> dict[str, Kpi]:
    found = _grouped(scope.items(start, end), end, None, FACTS, goal)
    answer = {name: found.get((name, None)) or _empty(name, goal) for name in FACTS}
    answer["escalations"].detail.pop("by_level", None)
    return answer


def kpis(start: datetime, end: datetime, scope: Scope | None = None) -> dict[str, dict]:
    """Every KPI for the period, as the API answers them."""
    scope = scope or Scope()
    rollup.refresh()
    return {
        name: kpi.answer() for name, kpi in _all(start, end, scope, targets(scope.site)).items()
    }


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


def report(start: datetime, end: datetime, scope: Scope | None = None, *,
           breakdown: Iterable[str] = FACTS) -> Report:  # fmt: skip
    """Every KPI with its series by week and month, and the breakdowns of the KPIs named
    in ``breakdown`` (the dashboard shows one): a fixed number of queries whatever the
    cases. The series are read per local day (``KpiFact.day``) and folded into weeks and
    months here, so one reading serves both."""
    scope = scope or Scope()
    rollup.refresh()
    goal = targets(scope.site)
    items = scope.items(start, end)
    days = _grouped(items, end, "day", FACTS, goal)
    whole = _fold_days(days, lambda day: None, goal)  # the period's figures, from its days
    answer = Report(start, end, {name: whole.get((name, None)) or _empty(name, goal)
                                 for name in FACTS}, {}, {})  # fmt: skip
    for by in SERIES:
        folded = _fold_days(days, FIRST_OF[by], goal)
        for name in FACTS:
            answer.series.setdefault(name, {})[by] = [
                (day, folded.get((name, day)) or _empty(name, goal))
                for day in buckets(start, end, by)
            ]
    names = [name for name in FACTS if name in set(breakdown)]
    for name in FACTS:
        answer.breakdowns[name] = {by: [] for by in BREAKDOWNS}
    if names:
        for by in BREAKDOWNS:
            found = (_by_handler(items, end, names, goal) if by == "handler"
                     else _grouped(items, end, by, names, goal))  # fmt: skip
            for kpi in found.values():
                kpi.detail.pop("by_level", None)
            for name in names:
                answer.breakdowns[name][by] = sorted(
                    ((key, kpi) for (kind, key), kpi in found.items() if kind == name and key),
                    key=lambda row: row[0],
                )
    return answer


def _fold_days(days: dict, first_of, goal) -> dict[tuple[str, object], Kpi]:
    """Day figures summed into the buckets ``first_of(day)`` names (a week's Monday, a
    month's first day, or None for the whole period); escalations count each case once per
    level in a bucket."""
    sums: dict[tuple[str, object], list] = {}
    levels: dict[tuple[str, object], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for (name, day), kpi in days.items():
        where = (name, first_of(day))
        if name == "escalations":
            for level, ids in kpi.detail["by_level"].items():
                levels[where][level] |= ids
            continue
        into = sums.setdefault(where, [0, 0, set()])
        into[0] += kpi.numerator
        into[1] += kpi.denominator
        into[2].update(kpi.missed)
    found = {where: Kpi(n, d, goal[where[0]], sorted(ids)) for where, (n, d, ids) in sums.items()}
    for where, by_level in levels.items():
        ids = sorted(set().union(*by_level.values()))
        detail = {"levels": {str(level): len(v) for level, v in sorted(by_level.items())}}
        found[where] = Kpi(len(ids), len(ids), None, ids, detail)
    return found


FIRST_OF = {
    "week": lambda day: day - timedelta(days=day.weekday()),
    "month": lambda day: day.replace(day=1),
}


def cases_behind(
    name: str, start: datetime, end: datetime, scope: Scope | None = None, *,
    missed: bool = True, level: int | None = None,
) -> list[int]:  # fmt: skip
    """The cases behind a figure: those that missed (or, ``missed=False``, every case
    counted; escalations: those escalated, to ``level`` when given), sorted."""
    rollup.refresh()
    items = (scope or Scope()).items(start, end).filter(kind=name)
    if name == "escalations":
        if level is not None:
            items = items.filter(level=level)
    elif missed:
        items = items.filter(_missed(end))
    return sorted(set(items.values_list("case_id", flat=True)))


def _kinds(prefix: str = "") -> dict:
    text = TextField()
    return {name: Coalesce(KeyTextTransform(name, f"{prefix}summary"), Value(""),
                           output_field=text) for name in (CATEGORY, TRADE)}  # fmt: skip


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
