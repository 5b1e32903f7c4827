"""The daily complaint report (客户投诉信息日报表, issue 16 item 4).

What it lists, decided here: every complaint *registered* on the day (site time, the
installation's zone), whatever became of it, each with its handling status and result as
they stand when the report is read (the sources' daily report lists the day's complaints
with their handling status). Complaints registered on earlier days and still open are not
rows of it (they were rows of their own day's report, and the complaint register lists
them with ``status=running``); the report says how many there are, so nothing open is
out of sight. The columns are the complaint register's (server/reports/registers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from engine import clock
from server.flows.errors import Invalid
from server.flows.models import ProcessInstance

from . import registers


def parse_day(text: str | None) -> date:
    """The report's day: ``YYYY-MM-DD``, today (site time) when left out; else a 400
    naming ``date``."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        return timezone.localtime(clock.now()).date()
    errors: dict[str, list[str]] = {}
    day = registers.parse_date(text[:100], "date", errors)
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)
    return day


@dataclass
class Daily:
    day: date
    rows: list[dict]
    open_from_earlier: int  # complaints registered before the day, still open


def report(day: date, *, user) -> Daily:
    """The day's complaints as rows (four queries whatever their number)."""
    registers.check_can_read_reports(user)
    found = registers.cases("complaint", user=user,
                            filters=registers.Filters(start=day, end=day))  # fmt: skip
    earlier = ProcessInstance.objects.filter(
        process_key="complaint", started_at__lt=registers.local_midnight(day),
        status__in=(ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED),
    ).count()  # fmt: skip
    return Daily(day, registers.rows_of("complaint", found), earlier)
