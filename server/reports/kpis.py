"""The centre's KPIs (issue 16, item 1), from the task and audit tables, never engine state.

They are counted on the roll-up (:class:`server.reports.models.KpiFact`: one row per
measured item, derived by :mod:`server.reports.facts`, kept by :mod:`server.reports.rollup`),
so a year of a busy site is a scan of one index. Call ``rollup.refresh()`` first for
figures that include the last minutes (the API does).

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

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from server.estate.models import Site, Unit

from .models import KpiFact

# The sources' targets (shared/domain.md); a site sets its own in ``Site.kpi_targets``.
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


@dataclass(frozen=True)
class Scope:
    """Which items count: a site's units, one process, one category (a complaint's
    category or a repair's trade) and one handler (who did the measured step, or the
    case's work: facts.py). Empty means all."""

    site: Site | None = None
    process: str = ""
    category: str = ""
    handler: int | None = None  # a user's id

    def items(self, start: datetime, end: datetime):
        items = KpiFact.objects.filter(at__gte=start, at__lt=end)
        if self.site is not None:
            units = Unit.objects.filter(building__site=self.site).values("code")
            items = items.filter(unit__in=units)
        if self.process:
            items = items.filter(process_key=self.process)
        if self.category:
            items = items.filter(Q(category=self.category) | Q(trade=self.category))
        if self.handler is not None:
            items = items.filter(handler_id=self.handler)
        return items

    def targets(self) -> dict[str, float | None]:
        """The sources' targets, with the site's own where it set one (the only site when
        none was named)."""
        site = self.site
        if site is None:
            sites = list(Site.objects.all()[:2])
            site = sites[0] if len(sites) == 1 else None
        own = (site.kpi_targets or {}) if site is not None else {}
        return {name: own.get(name, target) if target is not None else None
                for name, target in TARGETS.items()}  # fmt: skip


EVERYWHERE = Scope()

RATES = ("repair_timeliness", "repair_first_time_pass", "complaints_closed",
         "return_visit_rate", "satisfaction", "renovation_review_on_time")  # fmt: skip


def _missed(end: datetime) -> Q:
    """A valid complaint is missed when not closed by the period's end; the rest when not ok."""
    return (Q(kind="complaints_closed") & (Q(done_at__isnull=True) | Q(done_at__gte=end))) | (
        ~Q(kind="complaints_closed") & Q(ok=False)
    )


def _measure(names, start: datetime, end: datetime, scope: Scope = EVERYWHERE) -> dict[str, Kpi]:
    """The KPIs ``names`` for the period, in three queries on the roll-up's (kind, at)
    index whatever their number: the counts, the cases missed, the escalations (and the
    site's targets)."""
    items = scope.items(start, end)
    rates = [name for name in names if name in RATES]
    missed = _missed(end)
    targets = scope.targets()
    found = {name: Kpi(0, 0, targets[name]) for name in rates}
    if rates:
        counts = (
            items.filter(kind__in=rates).values("kind")
            .annotate(every=Count("pk"), bad=Count("pk", filter=missed)).order_by()
        )  # fmt: skip
        for row in counts:
            found[row["kind"]] = Kpi(row["every"] - row["bad"], row["every"], targets[row["kind"]])
        cases: dict[str, set[int]] = {}
        for kind, case in items.filter(missed, kind__in=rates).values_list("kind", "case_id"):
            cases.setdefault(kind, set()).add(case)
        for kind, ids in cases.items():
            found[kind].missed = sorted(ids)
    if "escalations" in names:
        by_level: dict[int, set[int]] = {}
        for level, case in items.filter(kind="escalations").values_list("level", "case_id"):
            by_level.setdefault(int(level or 0), set()).add(case)
        escalated = sorted(set().union(*by_level.values())) if by_level else []
        detail = {"levels": {str(level): len(ids) for level, ids in sorted(by_level.items())}}
        found["escalations"] = Kpi(len(escalated), len(escalated), targets["escalations"],
                                   escalated, detail)  # fmt: skip
    return found


def repair_timeliness(start: datetime, end: datetime) -> Kpi:
    return _measure(["repair_timeliness"], start, end)["repair_timeliness"]


def repair_first_time_pass(start: datetime, end: datetime) -> Kpi:
    return _measure(["repair_first_time_pass"], start, end)["repair_first_time_pass"]


def complaints_closed(start: datetime, end: datetime) -> Kpi:
    return _measure(["complaints_closed"], start, end)["complaints_closed"]


def return_visit_rate(start: datetime, end: datetime) -> Kpi:
    return _measure(["return_visit_rate"], start, end)["return_visit_rate"]


def satisfaction(start: datetime, end: datetime) -> Kpi:
    return _measure(["satisfaction"], start, end)["satisfaction"]


def escalations(start: datetime, end: datetime) -> Kpi:
    return _measure(["escalations"], start, end)["escalations"]


def renovation_review_on_time(start: datetime, end: datetime) -> Kpi:
    return _measure(["renovation_review_on_time"], start, end)["renovation_review_on_time"]


KPIS = {
    "repair_timeliness": repair_timeliness,
    "repair_first_time_pass": repair_first_time_pass,
    "complaints_closed": complaints_closed,
    "return_visit_rate": return_visit_rate,
    "satisfaction": satisfaction,
    "escalations": escalations,
    "renovation_review_on_time": renovation_review_on_time,
}


def kpis(start: datetime, end: datetime, scope: Scope = EVERYWHERE) -> dict[str, dict]:
    """Every KPI for the period, as the API answers them."""
    found = _measure(list(KPIS), start, end, scope)
    return {name: found[name].answer() for name in KPIS}


BUCKETS = {"week": TruncWeek, "month": TruncMonth}
DIMENSIONS = {"process": "process_key", "category": "category", "trade": "trade",
              "handler": "handler_id"}  # fmt: skip


def series(start: datetime, end: datetime, bucket: str, scope: Scope = EVERYWHERE) -> dict:
    """Each KPI per week or month of the period (in the site's time zone): one query.
    ``{name: [{"start": date, "numerator", "denominator", "value"}, ...]}``; escalations
    count items, not cases, per bucket."""
    trunc = BUCKETS[bucket]("at", tzinfo=timezone.get_current_timezone())
    rows = (
        scope.items(start, end).annotate(bucket=trunc).values("kind", "bucket")
        .annotate(every=Count("pk"), bad=Count("pk", filter=_missed(end))).order_by("bucket")
    )  # fmt: skip
    found: dict[str, list] = {name: [] for name in KPIS}
    for row in rows:
        every, bad = row["every"], row["bad"] if row["kind"] in RATES else 0
        day = row["bucket"].date() if hasattr(row["bucket"], "date") else row["bucket"]
        found[row["kind"]].append({"start": day, "numerator": every - bad, "denominator": every,
                                   "value": (every - bad) / every if every else None})  # fmt: skip
    return found


def breakdown(start: datetime, end: datetime, by: str, scope: Scope = EVERYWHERE) -> dict:
    """Each KPI per process, category (or trade) or handler: one query.
    ``{name: {key: {"numerator", "denominator", "value", "missed": [case ids]}}}``."""
    column = DIMENSIONS[by]
    items = scope.items(start, end)
    missed = _missed(end)
    rows = (
        items.values("kind", column)
        .annotate(every=Count("pk"), bad=Count("pk", filter=missed)).order_by(column)
    )  # fmt: skip
    found: dict[str, dict] = {name: {} for name in KPIS}
    for row in rows:
        every, bad = row["every"], row["bad"] if row["kind"] in RATES else 0
        found[row["kind"]][row[column]] = {
            "numerator": every - bad, "denominator": every,
            "value": (every - bad) / every if every else None, "missed": [],
        }  # fmt: skip
    for kind, key, case in items.filter(missed, kind__in=RATES).values_list(
        "kind", column, "case_id"
    ):
        cases = found[kind][key]["missed"]
        if case not in cases:
            cases.append(case)
    for figures in found.values():
        for figure in figures.values():
            figure["missed"].sort()
    return found
