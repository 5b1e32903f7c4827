"""The monthly service statistics (issue 16 item 4): one month (site time) of repairs,
complaints, return visits, renovations, move-ins and move-outs and the hotline's calls.

The KPI figures come from the KPI functions (server/reports/kpis.py) over the same month,
so the statistics and the dashboard never disagree: repairs completed / on time / reworked,
valid complaints / closed, return visits done / rate / satisfied, escalations per level,
renovation reviews / on time. The counts around them, defined here:

- *received*: cases of the process started in the month; *by trade* / *by category* and
  *urgent*: of those, by the case's ``trade`` / ``category`` and its 急修 tag;
- *complaints escalated per level*: complaints with an ``escalated`` event in the month
  that reached level 2 / level 3 (the KPI's rule, for complaints alone);
- *satisfaction split*: the answers of the return visits completed in the month;
- *renovation applications*, *move-ins*, *move-outs*: cases started in the month, and of
  those completed (by now);
- *hotline calls by kind*: the desk's log (HotlineCall) in the month, by kind; *became
  cases*: those converted into a complaint or repair.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from server.desk.models import HotlineCall
from server.flows.errors import Invalid
from server.flows.models import AuditEvent, ProcessInstance

from . import kpis, registers, rollup

SATISFACTION = ("very_satisfied", "satisfied", "neutral", "unsatisfied")


def parse_month(text: str | None) -> date:
    """The month ``YYYY-MM`` as its first day; a 400 naming ``month`` otherwise."""
    text = (text or "").replace("\x00", "").strip()[:100]
    try:
        if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isascii():
            raise ValueError(text)
        month = date(int(text[:4]), int(text[5:]), 1)
        if not registers.in_range(month):
            raise ValueError(text)
        return month
    except ValueError:
        raise Invalid(_("The request has errors; see each field."),
                      {"month": [_("Must be a month as YYYY-MM.")]}) from None  # fmt: skip


def bounds(month: date) -> tuple[datetime, datetime]:
    """The month's start and the next month's, at site midnight."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return registers.local_midnight(month), registers.local_midnight(following)


def _started(process: str, start: datetime, end: datetime):
    return ProcessInstance.objects.filter(
        process_key=process, started_at__gte=start, started_at__lt=end
    )


def _by(found, field: str) -> dict[str, int]:
    counted = found.values_list(f"summary__{field}").annotate(n=Count("pk")).order_by()
    return {str(value): n for value, n in counted if value not in (None, "")}


def statistics(month: date, *, user) -> dict:
    """Every figure of the month, as the API answers it (counts; KPI values 0..1)."""
    registers.check_can_read_reports(user)
    rollup.refresh()  # the KPI figures below count the roll-up's items
    start, end = bounds(month)
    done = ProcessInstance.Status.COMPLETED

    repairs = _started("repair", start, end)
    timely = kpis.repair_timeliness(start, end)
    passed = kpis.repair_first_time_pass(start, end)
    complaints = _started("complaint", start, end)
    closed = kpis.complaints_closed(start, end)
    escalated = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.ESCALATED, instance__process_key="complaint",
        at__gte=start, at__lt=end,
    )  # fmt: skip
    levels: dict[str, set[int]] = {}
    for pk, level in escalated.values_list("instance_id", "data__level"):
        levels.setdefault(str(int(level or 0)), set()).add(pk)
    visits = kpis.satisfaction(start, end)
    rate = kpis.return_visit_rate(start, end)
    answers = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.TASK_COMPLETED, task__bpmn_id="return_visit",
        instance__process_key__in=("repair", "complaint"), at__gte=start, at__lt=end,
    ).values_list("data__data__satisfaction").annotate(n=Count("pk")).order_by()  # fmt: skip
    said = dict(answers)
    reviews = kpis.renovation_review_on_time(start, end)
    renovations = _started("renovation", start, end)
    every_escalation = kpis.escalations(start, end)
    calls = HotlineCall.objects.filter(at__gte=start, at__lt=end)
    by_kind = dict(calls.values_list("kind").annotate(n=Count("pk")).order_by())
    moves = {}
    for key in ("move_in", "move_out"):
        found = _started(key, start, end).aggregate(
            started=Count("pk"), completed=Count("pk", filter=Q(status=done))
        )
        moves[key] = {"started": found["started"], "completed": found["completed"]}
    return {
        "month": f"{month:%Y-%m}",
        "repairs": {
            "received": repairs.count(),
            "urgent": repairs.filter(summary__urgency="urgent").count(),
            "by_trade": _by(repairs, "trade"),
            "completed": timely.denominator,
            "on_time": timely.numerator,
            "late": len(timely.missed),
            "reworked": len(passed.missed),
            "timeliness": timely.value,
            "first_time_pass": passed.value,
        },
        "complaints": {
            "received": complaints.count(),
            "by_category": _by(complaints, "category"),
            "valid": closed.denominator,
            "closed": closed.numerator,
            "closed_rate": closed.value,
            "escalated": {str(n): len(levels.get(str(n), ())) for n in (2, 3)},
        },
        "return_visits": {
            "done": visits.denominator,
            "satisfied": visits.numerator,
            "satisfaction": visits.value,
            "due": rate.denominator,
            "visited": rate.numerator,
            "rate": rate.value,
            "split": {answer: said.get(answer, 0) for answer in SATISFACTION},
        },
        "renovations": {
            "applications": renovations.count(),
            "reviews": reviews.denominator,
            "reviews_on_time": reviews.numerator,
            "on_time_rate": reviews.value,
        },
        "move_ins": moves["move_in"],
        "move_outs": moves["move_out"],
        "escalations": {"cases": every_escalation.numerator,
                        "levels": every_escalation.detail["levels"]},  # fmt: skip
        "hotline": {
            "calls": sum(by_kind.values()),
            "by_kind": {kind: by_kind.get(kind, 0) for kind in HotlineCall.Kind.values},
            "became_cases": calls.filter(case__isnull=False).count(),
        },
    }  # fmt: skip


# The statistics as lines of a sheet and of the printable page: (section, figure, value),
# each label as [zh, en]; rates as percentages with one decimal ("—" when nothing to count).
SECTIONS = {
    "repairs": ["报修", "Repairs"], "complaints": ["投诉", "Complaints"],
    "return_visits": ["回访", "Return visits"], "renovations": ["装修", "Renovations"],
    "move_ins": ["入伙", "Move-ins"], "move_outs": ["搬出", "Move-outs"],
    "escalations": ["升级", "Escalations"], "hotline": ["热线来电", "Hotline calls"],
}  # fmt: skip
FIGURES = {
    "received": ["受理", "Received"], "urgent": ["急修", "Urgent"],
    "completed": ["完成", "Completed"], "on_time": ["及时完成", "On time"],
    "late": ["超时", "Late"], "reworked": ["返修", "Reworked"],
    "timeliness": ["及时率", "Timeliness"], "first_time_pass": ["一次合格率", "First-time pass"],
    "valid": ["有效投诉", "Valid"], "closed": ["已办结", "Closed"],
    "closed_rate": ["办结率", "Closed rate"], "done": ["已回访", "Done"],
    "satisfied": ["满意", "Satisfied"], "satisfaction": ["满意率", "Satisfaction"],
    "due": ["应回访", "Due"], "visited": ["已回访的结案", "Visited"],
    "rate": ["回访率", "Visit rate"], "applications": ["申请", "Applications"],
    "reviews": ["审核", "Reviews"], "reviews_on_time": ["按时审核", "Reviewed on time"],
    "on_time_rate": ["审核及时率", "On-time rate"], "started": ["受理", "Started"],
    "cases": ["升级的案件", "Cases escalated"], "calls": ["来电", "Calls"],
    "became_cases": ["转为案件", "Became cases"],
}  # fmt: skip
SPLITS = {"by_trade": ["专业", "Trade"], "by_category": ["类别", "Category"],
          "escalated": ["升级", "Escalated"], "split": ["满意度", "Satisfaction"],
          "levels": ["级别", "Level"], "by_kind": ["类型", "Kind"]}  # fmt: skip
RATES = {"timeliness", "first_time_pass", "closed_rate", "satisfaction", "rate", "on_time_rate"}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def lines(stats: dict, value_titles) -> list[tuple[list[str], list[str], object]]:
    """The statistics as lines; ``value_titles(split, value)`` names a split's value
    ([zh, en]: a trade, a category, a level, an answer, a call's kind)."""
    found = []
    for section, label in SECTIONS.items():
        for name, value in stats[section].items():
            if isinstance(value, dict):
                split = SPLITS.get(name, [name, name])
                for key, n in value.items():
                    title = value_titles(name, key)
                    found.append((label, [f"{split[0]}: {title[0]}", f"{split[1]}: {title[1]}"],
                                  n))  # fmt: skip
                continue
            shown = percent(value) if name in RATES else value
            found.append((label, FIGURES.get(name, [name, name]), shown))
    return found
